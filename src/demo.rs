//! The configuration `--demo`, the end-to-end tests and `keyward bench` point keyward at:
//! every account of an emulator seed. It goes through the same `registry::build` as a real
//! config file. With an emulator serving HTTPS (the demo, the bench, most tests) it is the
//! production path: no endpoint override, the real host names in URL, Host header,
//! signature and TLS name (each region through its region host), and `connect_to` sending
//! every connection to the emulator, whose CA is trusted. A plain-HTTP emulator gets the
//! endpoints overridden to its URL instead. Only the credential source differs from an
//! operator's config.

use crate::config::{
    Config, ConfigError, OceanBaseAccount, Settings, TencentAccount, TencentOrganization, TencentService,
};
use crate::emulator::{Emulator, Seed};
use crate::providers::Provider;
use crate::providers::http::ConnectTo;
use crate::providers::tencent::{organization, sts};
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
        // HTTPS: real hosts reached through connect_to; plain HTTP: endpoint overrides.
        let (connect_to, endpoint) = match &emu.ca_cert_pem {
            Some(_) => (
                Some(ConnectTo {
                    host: emu.addr.ip().to_string(),
                    port: emu.addr.port(),
                }),
                None,
            ),
            None => (None, Some(emu.base_url.clone())),
        };
        let mut config = Config {
            path: PathBuf::from("<demo>"),
            settings: Settings {
                audit_log,
                connect_to,
                trusted_ca_pem: emu.ca_cert_pem.clone(),
                ..Settings::default()
            },
            ..Config::default()
        };
        for (i, account) in seed.tencent_accounts().iter().enumerate() {
            let (id_var, key_var) = (format!("KEYWARD_DEMO_TC{i}_ID"), format!("KEYWARD_DEMO_TC{i}_KEY"));
            env.insert(id_var.clone(), account.secret_id.clone());
            env.insert(key_var.clone(), account.secret_key.clone());
            let table = TencentAccount {
                name: account.name.clone(),
                regions: account.regions.clone(),
                services: vec![TencentService::ApiGateway, TencentService::Cvm, TencentService::Cam],
                secret_id_env: Some(id_var),
                secret_key_env: Some(key_var),
                session_token_env: None,
                tccli_profile: None,
                credentials_file: None,
                site: Default::default(),
                access: Default::default(),
                apigateway_endpoint: endpoint.clone(),
                cvm_endpoint: endpoint.clone(),
                cam_endpoint: endpoint.clone(),
                sts_endpoint: endpoint.clone(),
                organization_endpoint: endpoint.clone(),
                ca_cert: None,
                role: None,
            };
            // An organization's members are reached the enterprise way: only through their
            // organization's table, with the management account's credentials.
            if let Some(org) = &account.organization {
                config.tencent_organizations.push(TencentOrganization {
                    management: TencentAccount {
                        name: format!("{}-org", account.name),
                        ..table.clone()
                    },
                    role_name: organization::DEFAULT_ROLE_NAME.to_string(),
                    members: Vec::new(),
                    units: Vec::new(),
                    session_name: sts::default_session_name(Some("demo")),
                    external_id: None,
                    duration_secs: sts::DEFAULT_DURATION_SECS,
                });
                if org.manage_only {
                    continue;
                }
            }
            if account.managed_by(seed).is_none() {
                config.tencent.push(table);
            }
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
                endpoint: endpoint.clone(),
                ca_cert: None,
            });
        }
        DemoConfig { config, env }
    }

    /// Every source, organizations' members included (their member lists are read from
    /// the emulator here, so this runs on the emulator's runtime).
    pub async fn providers(&self) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
        registry::build_async(&self.config, &|name| self.env.get(name).cloned()).await
    }
}
