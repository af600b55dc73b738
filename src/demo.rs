//! Providers for the accounts of an emulator seed: what `--demo`, the end-to-end tests
//! and `keyward bench` point keyward at. Built with the same clients as real accounts,
//! only the endpoint differs, so the emulator checks the real request path.

use crate::emulator::{Emulator, Seed};
use crate::providers::Provider;
use crate::providers::ProviderError;
use crate::providers::tencent::apigateway::ApiGateway;
use crate::providers::tencent::client::{APIGATEWAY, CVM, ClientOptions, Credentials, TencentClient};
use crate::providers::tencent::cvm::Cvm;
use crate::secret::Secret;
use std::sync::Arc;

/// One provider per (account, region) of every Tencent account in the seed, for both
/// services, sharing one client per (account, service) as real configurations do.
pub fn tencent_providers(emu: &Emulator, seed: &Seed) -> Result<Vec<Arc<dyn Provider>>, ProviderError> {
    let mut providers: Vec<Arc<dyn Provider>> = Vec::new();
    for account in seed.tencent_accounts() {
        let creds = Credentials {
            secret_id: account.secret_id.clone(),
            secret_key: Secret::new(account.secret_key.clone()),
            token: None,
        };
        let options = || ClientOptions {
            endpoint: Some(emu.base_url.clone()),
            extra_root_ca_pem: emu.ca_cert_pem.clone(),
            ..ClientOptions::default()
        };
        let apigateway = Arc::new(TencentClient::new(APIGATEWAY, creds.clone(), options())?);
        let cvm = Arc::new(TencentClient::new(CVM, creds, options())?);
        for region in &account.regions {
            providers.push(Arc::new(ApiGateway::new(
                apigateway.clone(),
                account.name.clone(),
                region.clone(),
            )));
            providers.push(Arc::new(Cvm::new(cvm.clone(), account.name.clone(), region.clone())));
        }
    }
    Ok(providers)
}
