//! Turns a validated `Config` into the provider set: one `Provider` per (account, region)
//! for Tencent services and per (account, project) for OceanBase. Clients are shared by
//! the providers of one account (and service), because credentials, Digest nonces and
//! rate limits belong to the account, not the region.

use crate::config::{Config, ConfigError, EnvLookup, OceanBaseAccount, TencentAccount, TencentService, read_ca_cert};
use crate::inventory::ProviderKind;
use crate::providers::Provider;
use crate::providers::oceanbase::{ObOptions, OceanBase};
use crate::providers::tencent::apigateway::ApiGateway;
use crate::providers::tencent::client::{APIGATEWAY, CVM, ClientOptions, Credentials, TencentClient};
use crate::providers::tencent::cvm::Cvm;
use crate::providers::unavailable::Unavailable;
use std::sync::Arc;

/// Build every configured provider, failing on the first account that cannot be set up
/// (missing credentials, unreadable CA file) with its name and the fix. For configs whose
/// every account must work: the demo, benches and tests.
pub fn build(cfg: &Config, env: EnvLookup<'_>) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
    let mut providers: Vec<Arc<dyn Provider>> = Vec::new();
    for account in &cfg.tencent {
        providers.extend(tencent(cfg, account, env)?);
    }
    for account in &cfg.oceanbase {
        providers.extend(oceanbase(cfg, account, env)?);
    }
    Ok(providers)
}

/// Build every configured provider; an account that cannot be set up does not stop the
/// others: each of its sources (service and region, or project) is an [`Unavailable`] that
/// fails its listing with the setup error and its fix. The TUI and `keyward list` use this.
pub fn build_each(cfg: &Config, env: EnvLookup<'_>) -> Vec<Arc<dyn Provider>> {
    let unavailable = |kind: ProviderKind, account: &str, region: &str, e: &ConfigError| -> Arc<dyn Provider> {
        Arc::new(Unavailable::new(kind, account, region, &e.to_string()))
    };
    let mut providers: Vec<Arc<dyn Provider>> = Vec::new();
    for account in &cfg.tencent {
        match tencent(cfg, account, env) {
            Ok(built) => providers.extend(built),
            Err(e) => {
                for service in &account.services {
                    for region in &account.regions {
                        providers.push(unavailable(service_kind(*service), &account.name, region, &e));
                    }
                }
            }
        }
    }
    for account in &cfg.oceanbase {
        match oceanbase(cfg, account, env) {
            Ok(built) => providers.extend(built),
            Err(e) => {
                for project in &account.project_ids {
                    providers.push(unavailable(ProviderKind::OceanBase, &account.name, project, &e));
                }
            }
        }
    }
    providers
}

fn service_kind(service: TencentService) -> ProviderKind {
    match service {
        TencentService::ApiGateway => ProviderKind::ApiGateway,
        TencentService::Cvm => ProviderKind::Cvm,
    }
}

fn oceanbase(
    cfg: &Config,
    account: &OceanBaseAccount,
    env: EnvLookup<'_>,
) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
    let creds = account.credentials(cfg, env)?;
    let extra_root_ca_pem = account.ca_cert.as_deref().map(read_ca_cert).transpose()?;
    let opts = ObOptions {
        endpoint: account.endpoint.clone(),
        timeout: cfg.settings.timeout,
        extra_root_ca_pem,
        max_retries: cfg.settings.max_retries,
        ..ObOptions::default()
    };
    let setup_error = |source| ConfigError::Provider {
        provider: "OceanBase",
        account: account.name.clone(),
        source: Box::new(source),
    };
    let Some((first_project, other_projects)) = account.project_ids.split_first() else {
        return Ok(Vec::new());
    };
    let first = OceanBase::new(&account.name, &account.org_id, first_project, creds, opts).map_err(setup_error)?;
    let mut out: Vec<Arc<dyn Provider>> = Vec::new();
    for project in other_projects {
        // Later projects share the first one's client: one nonce and request rate per account.
        out.push(Arc::new(first.for_project(project).map_err(setup_error)?));
    }
    out.insert(0, Arc::new(first));
    Ok(out)
}

/// Per account, one `TencentClient` per service shared by that account's regions (the
/// documented rate limits are per account and API, not per region).
fn tencent(cfg: &Config, account: &TencentAccount, env: EnvLookup<'_>) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
    let secrets = account.credentials(cfg, env)?;
    let creds = Credentials {
        secret_id: secrets.secret_id,
        secret_key: secrets.secret_key,
        token: secrets.token,
    };
    let extra_root_ca_pem = account.ca_cert.as_deref().map(read_ca_cert).transpose()?;
    let mut out: Vec<Arc<dyn Provider>> = Vec::new();
    for service in &account.services {
        let (spec, endpoint) = match service {
            TencentService::ApiGateway => (APIGATEWAY, account.apigateway_endpoint.clone()),
            TencentService::Cvm => (CVM, account.cvm_endpoint.clone()),
        };
        let opts = ClientOptions {
            endpoint,
            timeout: cfg.settings.timeout,
            max_retries: cfg.settings.max_retries,
            extra_root_ca_pem: extra_root_ca_pem.clone(),
        };
        let client = TencentClient::new(spec, creds.clone(), opts).map_err(|source| ConfigError::Provider {
            provider: "Tencent Cloud",
            account: account.name.clone(),
            source: Box::new(source),
        })?;
        let client = Arc::new(client);
        for region in &account.regions {
            let p: Arc<dyn Provider> = match service {
                TencentService::ApiGateway => Arc::new(ApiGateway::new(Arc::clone(&client), &account.name, region)),
                TencentService::Cvm => Arc::new(Cvm::new(Arc::clone(&client), &account.name, region)),
            };
            out.push(p);
        }
    }
    Ok(out)
}
