//! Turns a validated `Config` into the provider set: one `Provider` per (account, region)
//! for Tencent services and per (account, project) for OceanBase. A Tencent client serves
//! the regions of one account reached through one host (Tencent counts the per-API limit
//! per host's access region); an OceanBase client serves one account's projects (the Digest
//! nonce and rate belong to the account). Tencent clients of accounts with the same HTTP
//! settings share one connection pool.

use crate::config::{Config, ConfigError, EnvLookup, OceanBaseAccount, TencentAccount, TencentService};
use crate::inventory::ProviderKind;
use crate::providers::http::HttpPool;
use crate::providers::oceanbase::{ObOptions, OceanBase};
use crate::providers::tencent::apigateway::ApiGateway;
use crate::providers::tencent::cam::{self, Cam};
use crate::providers::tencent::client::{
    APIGATEWAY, CAM, CVM, ClientOptions, Credentials, DEFAULT_THROTTLE_RETRIES, ServiceSpec, TencentClient, http_client,
};
use crate::providers::tencent::cvm::Cvm;
use crate::providers::tencent::endpoint;
use crate::providers::tencent::throttle::Guards;
use crate::providers::unavailable::Unavailable;
use crate::providers::{Provider, ProviderError};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

/// Build every configured provider, failing on the first account that cannot be set up
/// (missing credentials, unreadable CA file) with its name and the fix. For configs whose
/// every account must work: the demo, benches and tests.
pub fn build(cfg: &Config, env: EnvLookup<'_>) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
    let pool = HttpPool::new(http_client);
    let mut providers: Vec<Arc<dyn Provider>> = Vec::new();
    for account in &cfg.tencent {
        providers.extend(tencent(cfg, account, env, &pool)?.providers);
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
    let pool = HttpPool::new(http_client);
    let mut providers: Vec<Arc<dyn Provider>> = Vec::new();
    for account in &cfg.tencent {
        match tencent(cfg, account, env, &pool) {
            Ok(built) => providers.extend(built.providers),
            Err(e) => {
                for service in &account.services {
                    for region in source_regions(account, *service) {
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
        TencentService::Cam => ProviderKind::Cam,
    }
}

fn service_spec(service: TencentService) -> ServiceSpec {
    match service {
        TencentService::ApiGateway => APIGATEWAY,
        TencentService::Cvm => CVM,
        TencentService::Cam => CAM,
    }
}

/// The regions one service of an account is a source for: each configured region, or
/// for CAM, which is global, the one `cam::GLOBAL` whatever `regions` lists.
fn source_regions(account: &TencentAccount, service: TencentService) -> Vec<&str> {
    match service {
        TencentService::Cam => vec![cam::GLOBAL],
        TencentService::ApiGateway | TencentService::Cvm => account.regions.iter().map(String::as_str).collect(),
    }
}

fn oceanbase(
    cfg: &Config,
    account: &OceanBaseAccount,
    env: EnvLookup<'_>,
) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
    let creds = account.credentials(cfg, env)?;
    let extra_root_ca_pem = cfg.settings.extra_roots(account.ca_cert.as_deref())?;
    let opts = ObOptions {
        endpoint: account.endpoint.clone(),
        timeout: cfg.settings.timeout,
        extra_root_ca_pem,
        connect_to: cfg.settings.connect_to.clone(),
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

/// Where one Tencent source (service and region of an account) sends its requests: the
/// endpoint override if set (one URL for every region), else the host `endpoint::choose`
/// picks for the account's site and access, with its fallback note if any. `Err` is the
/// reason this one source cannot be reached (a financial region the site does not serve).
fn route(account: &TencentAccount, service: TencentService, region: &str) -> Result<(String, Option<String>), String> {
    let endpoint_override = match service {
        TencentService::ApiGateway => &account.apigateway_endpoint,
        TencentService::Cvm => &account.cvm_endpoint,
        TencentService::Cam => &account.cam_endpoint,
    };
    if let Some(url) = endpoint_override {
        return Ok((url.clone(), None));
    }
    let spec = service_spec(service);
    if service == TencentService::Cam {
        // CAM has no region hosts: its one host per site, and nothing to say about it
        // (no region falls back to anything).
        return Ok((
            format!("https://{}", endpoint::nearest_host(spec.service, account.site)),
            None,
        ));
    }
    let choice = endpoint::choose(spec.service, account.site, account.access, region)?;
    Ok((format!("https://{}", choice.host), choice.fallback_note))
}

/// The distinct base URLs one Tencent account's sources send requests to, in config
/// order (`keyward doctor` checks each once). A source that cannot be routed is left out:
/// its listing says why.
pub fn tencent_endpoints(account: &TencentAccount) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for service in &account.services {
        for region in source_regions(account, *service) {
            if let Ok((url, _)) = route(account, *service, region) {
                if !urls.contains(&url) {
                    urls.push(url);
                }
            }
        }
    }
    urls
}

/// The base URL an OceanBase account's requests go to.
pub fn oceanbase_endpoint(account: &OceanBaseAccount) -> String {
    account
        .endpoint
        .clone()
        .unwrap_or_else(|| crate::providers::oceanbase::DEFAULT_ENDPOINT.to_string())
}

/// One account's Tencent sources and the clients behind them.
struct TencentSources {
    providers: Vec<Arc<dyn Provider>>,
    /// One per (service, endpoint): the regions reached through one host share it.
    clients: Vec<Arc<TencentClient>>,
}

/// Per account, one `TencentClient` per (service, host), shared by the regions reached
/// through that host: Tencent counts the per-API limit per access region (the host's), so
/// each host gets its own pacer. Every client of the account shares one account guard and
/// one HTTP pool (`pool`, across accounts with the same settings).
fn tencent(
    cfg: &Config,
    account: &TencentAccount,
    env: EnvLookup<'_>,
    pool: &HttpPool,
) -> Result<TencentSources, ConfigError> {
    let setup_error = |source| ConfigError::Provider {
        provider: "Tencent Cloud",
        account: account.name.clone(),
        source: Box::new(source),
    };
    let secrets = account.credentials(cfg, env)?;
    let creds = Credentials {
        secret_id: secrets.secret_id,
        secret_key: secrets.secret_key,
        token: secrets.token,
    };
    let base = ClientOptions {
        endpoint: None,
        timeout: cfg.settings.timeout,
        max_retries: cfg.settings.max_retries,
        throttle_retries: DEFAULT_THROTTLE_RETRIES,
        extra_root_ca_pem: cfg.settings.extra_roots(account.ca_cert.as_deref())?,
        connect_to: cfg.settings.connect_to.clone(),
        language: cfg.settings.language,
    };
    let http = pool.client(&base.http_settings()).map_err(setup_error)?;
    let guards = Guards::for_account();
    let mut clients: HashMap<(&'static str, String), Arc<TencentClient>> = HashMap::new();
    let mut out = TencentSources {
        providers: Vec::new(),
        clients: Vec::new(),
    };
    for service in &account.services {
        let spec = service_spec(*service);
        for region in source_regions(account, *service) {
            let (endpoint, notice) = match route(account, *service, region) {
                Ok(route) => route,
                Err(problem) => {
                    // Only this source is unreachable: the account's other regions still work.
                    let e = setup_error(ProviderError::invalid(problem));
                    out.providers.push(Arc::new(Unavailable::new(
                        service_kind(*service),
                        &account.name,
                        region,
                        &e.to_string(),
                    )));
                    continue;
                }
            };
            let client = match clients.entry((spec.service, endpoint)) {
                Entry::Occupied(e) => Arc::clone(e.get()),
                Entry::Vacant(e) => {
                    let opts = ClientOptions {
                        endpoint: Some(e.key().1.clone()),
                        ..base.clone()
                    };
                    let client = TencentClient::shared(spec, creds.clone(), opts, http.clone(), guards.clone())
                        .map_err(setup_error)?;
                    let client = Arc::new(client);
                    out.clients.push(Arc::clone(&client));
                    Arc::clone(e.insert(client))
                }
            };
            let p: Arc<dyn Provider> = match service {
                TencentService::ApiGateway => {
                    Arc::new(ApiGateway::new(client, &account.name, region).with_notice(notice))
                }
                TencentService::Cvm => Arc::new(Cvm::new(client, &account.name, region).with_notice(notice)),
                TencentService::Cam => Arc::new(Cam::new(client, &account.name)),
            };
            out.providers.push(p);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::tencent::endpoint::{Access, Site};
    use std::path::PathBuf;

    const REGIONS: [&str; 5] = ["ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-chengdu", "ap-hongkong"];

    fn env(name: &str) -> Option<String> {
        match name {
            "TC_ID" => Some("AKIDtest".into()),
            "TC_KEY" => Some("test-key".into()),
            _ => None,
        }
    }

    fn account(name: &str, regions: &[&str], services: Vec<TencentService>) -> TencentAccount {
        TencentAccount {
            name: name.into(),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            services,
            secret_id_env: Some("TC_ID".into()),
            secret_key_env: Some("TC_KEY".into()),
            session_token_env: None,
            tccli_profile: None,
            credentials_file: None,
            site: Site::Cn,
            access: Access::Regional,
            apigateway_endpoint: None,
            cvm_endpoint: None,
            cam_endpoint: None,
            ca_cert: None,
        }
    }

    fn config(accounts: Vec<TencentAccount>) -> Config {
        Config {
            path: PathBuf::from("/etc/keyward/config.toml"),
            tencent: accounts,
            ..Config::default()
        }
    }

    fn sources(account: TencentAccount) -> TencentSources {
        let cfg = config(vec![account.clone()]);
        tencent(&cfg, &account, &env, &HttpPool::new(http_client)).unwrap()
    }

    fn hosts(sources: &TencentSources) -> Vec<&str> {
        sources.clients.iter().map(|c| c.host()).collect()
    }

    #[test]
    fn regional_access_gives_each_region_its_own_host_and_client() {
        let built = sources(account("prod", &REGIONS, vec![TencentService::Cvm]));
        assert_eq!(built.providers.len(), 5);
        assert_eq!(hosts(&built), REGIONS.map(|r| format!("cvm.{r}.tencentcloudapi.com")));
        assert!(built.providers.iter().all(|p| p.notice().is_none()));
    }

    #[test]
    fn nearest_access_shares_one_host_per_service() {
        let mut a = account("prod", &REGIONS, vec![TencentService::ApiGateway, TencentService::Cvm]);
        a.access = Access::Nearest;
        let built = sources(a);
        assert_eq!(built.providers.len(), 10);
        assert_eq!(
            hosts(&built),
            ["apigateway.tencentcloudapi.com", "cvm.tencentcloudapi.com"]
        );
        let mut a = account("prod", &REGIONS, vec![TencentService::Cvm]);
        (a.access, a.site) = (Access::Nearest, Site::Intl);
        assert_eq!(hosts(&sources(a)), ["cvm.intl.tencentcloudapi.com"]);
    }

    #[test]
    fn an_endpoint_override_is_one_url_for_every_region_of_its_service() {
        let mut a = account("prod", &REGIONS, vec![TencentService::ApiGateway, TencentService::Cvm]);
        a.cvm_endpoint = Some("http://127.0.0.1:9400".into());
        let built = sources(a);
        assert_eq!(built.providers.len(), 10);
        let mut got = hosts(&built);
        got.sort_unstable();
        let mut want: Vec<String> = REGIONS.map(|r| format!("apigateway.{r}.tencentcloudapi.com")).to_vec();
        want.push("127.0.0.1:9400".into());
        want.sort_unstable();
        assert_eq!(got, want);
    }

    #[test]
    fn an_undocumented_region_uses_the_nearest_host_and_says_so() {
        let built = sources(account(
            "prod",
            &["ap-guangzhou", "ap-jakarta"],
            vec![TencentService::Cvm],
        ));
        assert_eq!(
            hosts(&built),
            ["cvm.ap-guangzhou.tencentcloudapi.com", "cvm.tencentcloudapi.com"]
        );
        assert_eq!(built.providers[0].notice(), None);
        let note = built.providers[1].notice().expect("a fallback notice");
        assert!(note.contains("ap-jakarta") && note.contains("nearest"), "{note}");
    }

    #[test]
    fn a_financial_region_the_site_cannot_reach_is_unavailable_alone() {
        let mut a = account(
            "global",
            &["ap-singapore", "ap-shanghai-fsi"],
            vec![TencentService::Cvm],
        );
        a.site = Site::Intl;
        let built = sources(a);
        assert_eq!(hosts(&built), ["cvm.ap-singapore.tencentcloudapi.com"]);
        assert_eq!(built.providers.len(), 2);
        let unreachable = &built.providers[1];
        assert_eq!(unreachable.scope().region, "ap-shanghai-fsi");
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let err = rt.block_on(unreachable.list()).unwrap_err();
        assert_eq!(err.code, crate::providers::unavailable::CONFIG_ERROR);
        assert!(
            err.message.contains("\"global\"")
                && err.message.contains("intl site")
                && err.message.contains("financial")
                && err.message.contains("site = \"cn\""),
            "{}",
            err.message
        );
    }

    #[test]
    fn endpoints_are_each_host_once_and_leave_out_what_cannot_be_routed() {
        let mut a = account(
            "prod",
            &["ap-guangzhou", "ap-shanghai-fsi"],
            vec![TencentService::Cvm, TencentService::Cam],
        );
        assert_eq!(
            tencent_endpoints(&a),
            [
                "https://cvm.ap-guangzhou.tencentcloudapi.com",
                "https://cvm.ap-shanghai-fsi.tencentcloudapi.com",
                "https://cam.tencentcloudapi.com"
            ]
        );
        a.site = Site::Intl;
        a.access = Access::Nearest;
        a.cvm_endpoint = Some("http://127.0.0.1:9400".into());
        assert_eq!(
            tencent_endpoints(&a),
            ["http://127.0.0.1:9400", "https://cam.intl.tencentcloudapi.com"]
        );
        a.cvm_endpoint = None;
        a.access = Access::Regional;
        assert_eq!(
            tencent_endpoints(&a),
            [
                "https://cvm.ap-guangzhou.tencentcloudapi.com",
                "https://cam.intl.tencentcloudapi.com"
            ],
            "the intl site cannot reach a financial region: left out"
        );
    }

    #[test]
    fn accounts_with_the_same_settings_share_one_http_pool() {
        let accounts: Vec<TencentAccount> = (0..20)
            .map(|i| {
                account(
                    &format!("a{i}"),
                    &REGIONS,
                    vec![TencentService::ApiGateway, TencentService::Cvm],
                )
            })
            .collect();
        let cfg = config(accounts.clone());
        let pool = HttpPool::new(http_client);
        let mut clients = 0;
        for a in &accounts {
            clients += tencent(&cfg, a, &env, &pool).unwrap().clients.len();
        }
        assert_eq!(clients, 20 * 10);
        assert_eq!(pool.len(), 1);
    }

    /// CAM is global: one source per account whatever `regions` lists, through the site's
    /// one CAM host, and never a fallback notice (no region is "missing" a host).
    #[test]
    fn cam_is_one_global_source_per_account_with_no_notice() {
        let mut a = account("prod", &["ap-guangzhou", "ap-jakarta"], vec![TencentService::Cam]);
        let built = sources(a.clone());
        assert_eq!(built.providers.len(), 1);
        let scope = built.providers[0].scope();
        assert_eq!((scope.kind, scope.region.as_str()), (ProviderKind::Cam, cam::GLOBAL));
        assert_eq!(built.providers[0].notice(), None);
        assert_eq!(hosts(&built), ["cam.tencentcloudapi.com"]);
        a.site = Site::Intl;
        a.access = Access::Nearest;
        assert_eq!(hosts(&sources(a.clone())), ["cam.intl.tencentcloudapi.com"]);
        a.cam_endpoint = Some("http://127.0.0.1:9400".into());
        assert_eq!(hosts(&sources(a)), ["127.0.0.1:9400"]);
    }

    /// The per-action rates reach the client: CAM's writes at 5/s, its lists at 20/s; the
    /// other services keep one figure for every action.
    #[test]
    fn cam_rates_are_per_action_and_the_others_are_not() {
        use crate::providers::tencent::cam::actions;
        assert_eq!(CAM.rate_of(actions::LIST_ACCESS_KEYS), 20);
        assert_eq!(CAM.rate_of(actions::GET_SECURITY_LAST_USED), 20);
        assert_eq!(CAM.rate_of(actions::CREATE_ACCESS_KEY), 5);
        assert_eq!(CAM.rate_of(actions::DELETE_ACCESS_KEY), 5);
        for action in actions::ALL {
            assert_eq!(CAM.rate_of(action), cam::rate_per_second(action), "{action}");
        }
        assert_eq!(CVM.rate_of("DeleteKeyPairs"), 10);
        assert_eq!(APIGATEWAY.rate_of("DeleteApiKey"), 20);
    }

    #[test]
    fn an_account_that_cannot_be_set_up_makes_its_cam_source_unavailable_once() {
        let mut a = account("prod", &REGIONS, vec![TencentService::Cvm, TencentService::Cam]);
        a.secret_id_env = Some("MISSING_ID".into());
        a.secret_key_env = Some("MISSING_KEY".into());
        let cfg = config(vec![a]);
        let built = build_each(&cfg, &env);
        let cam: Vec<_> = built.iter().filter(|p| p.scope().kind == ProviderKind::Cam).collect();
        assert_eq!(cam.len(), 1);
        assert_eq!(cam[0].scope().region, cam::GLOBAL);
        assert_eq!(built.len(), REGIONS.len() + 1);
    }
}
