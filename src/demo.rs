//! The configuration `--demo`, the end-to-end tests and `keyward bench` point keyward at:
//! every account of an emulator seed, with the endpoints overridden to the emulator.
//! It goes through the same `registry::build` as a real config file, so the emulator
//! checks the real request path; only the endpoints and the credential source differ.

use crate::config::{Config, ConfigError, OceanBaseAccount, Settings, TencentAccount, TencentService};
use crate::emulator::{Emulator, Seed};
use crate::providers::Provider;
use crate::registry;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// A config for the seed's accounts plus the environment holding their (fake) secrets.
/// Secrets travel through an in-memory environment, never through the user's files.
pub struct DemoConfig {
    pub config: Config,
    pub env: HashMap<String, String>,
}

impl DemoConfig {
    pub fn new(emu: &Emulator, seed: &Seed, audit_log: Option<PathBuf>) -> Self {
        let mut env = HashMap::new();
        let mut config = Config {
            path: PathBuf::from("<demo>"),
            settings: Settings {
                audit_log,
                ..Settings::default()
            },
            ..Config::default()
        };
        for (i, account) in seed.tencent_accounts().iter().enumerate() {
            let (id_var, key_var) = (format!("KEYWARD_DEMO_TC{i}_ID"), format!("KEYWARD_DEMO_TC{i}_KEY"));
            env.insert(id_var.clone(), account.secret_id.clone());
            env.insert(key_var.clone(), account.secret_key.clone());
            config.tencent.push(TencentAccount {
                name: account.name.clone(),
                regions: account.regions.clone(),
                services: vec![TencentService::ApiGateway, TencentService::Cvm],
                secret_id_env: Some(id_var),
                secret_key_env: Some(key_var),
                session_token_env: None,
                tccli_profile: None,
                credentials_file: None,
                site: Default::default(),
                access: Default::default(),
                apigateway_endpoint: Some(emu.base_url.clone()),
                cvm_endpoint: Some(emu.base_url.clone()),
                ca_cert: None,
            });
        }
        for (i, account) in seed.oceanbase_accounts().iter().enumerate() {
            let (id_var, key_var) = (format!("KEYWARD_DEMO_OB{i}_ID"), format!("KEYWARD_DEMO_OB{i}_SECRET"));
            env.insert(id_var.clone(), account.access_key_id.clone());
            env.insert(key_var.clone(), account.access_key_secret.clone());
            config.oceanbase.push(OceanBaseAccount {
                name: account.name.clone(),
                org_id: account.org_id.clone(),
                project_ids: account.project_ids.clone(),
                access_key_id_env: Some(id_var),
                access_key_secret_env: Some(key_var),
                credentials_file: None,
                endpoint: Some(emu.base_url.clone()),
                ca_cert: None,
            });
        }
        DemoConfig { config, env }
    }

    pub fn providers(&self) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
        registry::build(&self.config, &|name| self.env.get(name).cloned())
    }
}
