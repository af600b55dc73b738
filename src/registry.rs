//! Turns a validated `Config` into the provider set: one `Provider` per (account, region)
//! for Tencent services and per (account, project) for OceanBase. A Tencent client serves
//! the regions of one account reached through one host (Tencent counts the per-API limit
//! per host's access region); an OceanBase client serves one account's projects (the Digest
//! nonce and rate belong to the account). Tencent clients of accounts with the same HTTP
//! settings share one connection pool.
//!
//! A Tencent account's credentials are a fixed pair or an assumed role (`role_arn`, a
//! tccli role profile, or an organization member): one `RoleSession` per account, shared
//! by all its clients. Each `[[tencent_organization]]` expands here into one account per
//! member (DescribeOrganizationMembers), all assuming their roles through one STS client
//! signed with the management account's credentials.

use crate::config::{
    AssumeRole, Config, ConfigError, EnvLookup, OceanBaseAccount, TencentAccount, TencentOrganization, TencentService,
};
use crate::inventory::ProviderKind;
use crate::providers::http::HttpPool;
use crate::providers::http::SharedHttp;
use crate::providers::oceanbase::{ObOptions, OceanBase};
use crate::providers::tencent::apigateway::ApiGateway;
use crate::providers::tencent::cam::{self, Cam};
use crate::providers::tencent::client::{
    APIGATEWAY, CAM, CVM, ClientOptions, CredentialSource, Credentials, DEFAULT_THROTTLE_RETRIES, ServiceSpec,
    TencentClient, http_client,
};
use crate::providers::tencent::cvm::Cvm;
use crate::providers::tencent::endpoint;
use crate::providers::tencent::organization::{self, Member};
use crate::providers::tencent::sts::{self, RoleSession, RoleSpec};
use crate::providers::tencent::throttle::Guards;
use crate::providers::unavailable::Unavailable;
use crate::providers::{Provider, ProviderError};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

/// Build every configured provider, failing on the first account that cannot be set up
/// (missing credentials, unreadable CA file) with its name and the fix. For configs whose
/// every account must work: the demo, benches and tests.
///
/// Organizations are expanded on a thread of their own (blocking the caller until their
/// member lists are read); in async code whose runtime also serves the organization API
/// (tests and benches against the in-process emulator), use [`build_async`].
pub fn build(cfg: &Config, env: EnvLookup<'_>) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
    let pool = HttpPool::new(http_client);
    let orgs = organizations(cfg, env, &pool)?;
    let listed = list_members_blocking(&orgs);
    build_with(cfg, env, &pool, orgs, listed)
}

/// [`build`] for async code: the organizations' member lists are awaited in place.
pub async fn build_async(cfg: &Config, env: EnvLookup<'_>) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
    let pool = HttpPool::new(http_client);
    let orgs = organizations(cfg, env, &pool)?;
    let listed = list_members(&orgs).await;
    build_with(cfg, env, &pool, orgs, listed)
}

fn build_with(
    cfg: &Config,
    env: EnvLookup<'_>,
    pool: &HttpPool,
    orgs: Vec<OrgSetup<'_>>,
    listed: Vec<Result<Vec<Member>, ProviderError>>,
) -> Result<Vec<Arc<dyn Provider>>, ConfigError> {
    let mut providers: Vec<Arc<dyn Provider>> = Vec::new();
    for account in &cfg.tencent {
        providers.extend(tencent(cfg, account, env, pool)?.providers);
    }
    for (org, members) in orgs.iter().zip(listed) {
        let members = members.map_err(|e| org_error(org.org, e))?;
        for (account, creds) in member_accounts(cfg, org, members) {
            providers.extend(tencent_with(cfg, &account, creds, pool)?.providers);
        }
    }
    for account in &cfg.oceanbase {
        providers.extend(oceanbase(cfg, account, env)?);
    }
    Ok(providers)
}

/// Build every configured provider; an account that cannot be set up does not stop the
/// others: each of its sources (service and region, or project) is an [`Unavailable`] that
/// fails its listing with the setup error and its fix. The TUI and `keyward list` use this.
///
/// An organization whose members cannot be listed is failed sources under its own name; a
/// member whose role cannot be assumed fails its own sources when they load (the AssumeRole
/// error names the role, the code and the fix), and the other members load. The member
/// lists are read before this returns (on a thread of its own, see [`build`]).
pub fn build_each(cfg: &Config, env: EnvLookup<'_>) -> Vec<Arc<dyn Provider>> {
    let pool = HttpPool::new(http_client);
    let (orgs, failed) = organizations_each(cfg, env, &pool);
    let listed = list_members_blocking(&orgs);
    build_each_with(cfg, env, &pool, orgs, listed, failed)
}

/// [`build_each`] for async code.
pub async fn build_each_async(cfg: &Config, env: EnvLookup<'_>) -> Vec<Arc<dyn Provider>> {
    let pool = HttpPool::new(http_client);
    let (orgs, failed) = organizations_each(cfg, env, &pool);
    let listed = list_members(&orgs).await;
    build_each_with(cfg, env, &pool, orgs, listed, failed)
}

fn unavailable(kind: ProviderKind, account: &str, region: &str, e: &ConfigError) -> Arc<dyn Provider> {
    Arc::new(Unavailable::new(kind, account, region, &e.to_string()))
}

/// Every source of `account` failing with `e`.
fn all_unavailable(account: &TencentAccount, e: &ConfigError) -> Vec<Arc<dyn Provider>> {
    let mut out = Vec::new();
    for service in &account.services {
        for region in source_regions(account, *service) {
            out.push(unavailable(service_kind(*service), &account.name, region, e));
        }
    }
    out
}

fn build_each_with(
    cfg: &Config,
    env: EnvLookup<'_>,
    pool: &HttpPool,
    orgs: Vec<OrgSetup<'_>>,
    listed: Vec<Result<Vec<Member>, ProviderError>>,
    failed_orgs: Vec<Arc<dyn Provider>>,
) -> Vec<Arc<dyn Provider>> {
    let mut providers: Vec<Arc<dyn Provider>> = Vec::new();
    for account in &cfg.tencent {
        match tencent(cfg, account, env, pool) {
            Ok(built) => providers.extend(built.providers),
            Err(e) => providers.extend(all_unavailable(account, &e)),
        }
    }
    providers.extend(failed_orgs);
    for (org, members) in orgs.iter().zip(listed) {
        let members = match members {
            Ok(members) => members,
            Err(e) => {
                providers.extend(all_unavailable(&org.org.management, &org_error(org.org, e)));
                continue;
            }
        };
        for (account, creds) in member_accounts(cfg, org, members) {
            match tencent_with(cfg, &account, creds, pool) {
                Ok(built) => providers.extend(built.providers),
                Err(e) => providers.extend(all_unavailable(&account, &e)),
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
    let creds = credential_source(cfg, account, env, pool)?;
    tencent_with(cfg, account, creds, pool)
}

/// The client options every Tencent client of `account` shares (the endpoint is per client).
fn client_options(cfg: &Config, account: &TencentAccount) -> Result<ClientOptions, ConfigError> {
    Ok(ClientOptions {
        endpoint: None,
        timeout: cfg.settings.timeout,
        max_retries: cfg.settings.max_retries,
        throttle_retries: DEFAULT_THROTTLE_RETRIES,
        extra_root_ca_pem: cfg.settings.extra_roots(account.ca_cert.as_deref())?,
        connect_to: cfg.settings.connect_to.clone(),
        language: cfg.settings.language,
    })
}

fn setup_error(account: &TencentAccount, source: ProviderError) -> ConfigError {
    ConfigError::Provider {
        provider: "Tencent Cloud",
        account: account.name.clone(),
        source: Box::new(source),
    }
}

/// The base URL of a global helper service (STS, Organization) for `account`: its
/// override, else the site's nearest-access host.
fn helper_endpoint(account: &TencentAccount, service: &str) -> String {
    let endpoint_override = match service {
        sts::SERVICE => &account.sts_endpoint,
        _ => &account.organization_endpoint,
    };
    endpoint_override
        .clone()
        .unwrap_or_else(|| format!("https://{}", endpoint::nearest_host(service, account.site)))
}

/// A client of a global helper service for `account`, signed with `creds`.
fn helper_client(
    cfg: &Config,
    account: &TencentAccount,
    spec: ServiceSpec,
    creds: CredentialSource,
    http: SharedHttp,
) -> Result<TencentClient, ConfigError> {
    let opts = ClientOptions {
        endpoint: Some(helper_endpoint(account, spec.service)),
        ..client_options(cfg, account)?
    };
    TencentClient::shared(spec, creds, opts, http, Guards::for_account()).map_err(|e| setup_error(account, e))
}

/// Where `account`'s requests get their credentials: its own pair; the role it names
/// (`role_arn`), assumed with its `source` account's credentials or its own; or the role
/// of the tccli role profile it reads. One `RoleSession` per account, shared by all its
/// clients, so one refresher keeps the account's temporary credentials fresh.
fn credential_source(
    cfg: &Config,
    account: &TencentAccount,
    env: EnvLookup<'_>,
    pool: &HttpPool,
) -> Result<CredentialSource, ConfigError> {
    let own = |account: &TencentAccount| -> Result<(CredentialSource, Option<crate::config::FileRole>), ConfigError> {
        let secrets = account.credentials(cfg, env)?;
        let creds = Credentials {
            secret_id: secrets.secret_id,
            secret_key: secrets.secret_key,
            token: secrets.token,
        };
        Ok((CredentialSource::Static(creds), secrets.file_role))
    };
    let (source, role) = match &account.role {
        Some(role) => {
            let source = match &role.source {
                // Validated: the source exists and the chain of sources ends.
                Some(name) => match cfg.tencent.iter().find(|a| &a.name == name) {
                    Some(source_account) => credential_source(cfg, source_account, env, pool)?,
                    None => {
                        return Err(setup_error(
                            account,
                            ProviderError::invalid(format!("source {name} is not configured")),
                        ));
                    }
                },
                None => own(account)?.0,
            };
            (source, role.clone())
        }
        None => match own(account)? {
            (source, None) => return Ok(source),
            (source, Some(file_role)) => (
                source,
                AssumeRole {
                    role_arn: file_role.role_arn,
                    session_name: file_role
                        .session_name
                        .unwrap_or_else(|| sts::default_session_name(env("USER").as_deref())),
                    external_id: None,
                    duration_secs: sts::DEFAULT_DURATION_SECS,
                    source: None,
                },
            ),
        },
    };
    let http = pool
        .client(&client_options(cfg, account)?.http_settings())
        .map_err(|e| setup_error(account, e))?;
    let sts_client = Arc::new(helper_client(cfg, account, sts::STS, source, http)?);
    Ok(CredentialSource::Role(Arc::new(RoleSession::new(
        sts_client,
        role_spec(account, &role),
    ))))
}

fn role_spec(account: &TencentAccount, role: &AssumeRole) -> RoleSpec {
    RoleSpec {
        role_arn: role.role_arn.clone(),
        session_name: role.session_name.clone(),
        external_id: role.external_id.clone(),
        duration_secs: role.duration_secs,
        // AssumeRole requires a region; any serves, the account's first is as good as any.
        region: account
            .regions
            .first()
            .cloned()
            .unwrap_or_else(|| "ap-guangzhou".to_string()),
    }
}

/// One organization ready to list its members: its table, the client that lists them and
/// the STS client its members' roles are assumed through (one for the whole organization,
/// signed with the management account's credentials).
struct OrgSetup<'a> {
    org: &'a TencentOrganization,
    lister: Arc<TencentClient>,
    sts: Arc<TencentClient>,
}

fn org_setup<'a>(
    cfg: &Config,
    org: &'a TencentOrganization,
    env: EnvLookup<'_>,
    pool: &HttpPool,
) -> Result<OrgSetup<'a>, ConfigError> {
    let account = &org.management;
    let creds = credential_source(cfg, account, env, pool)?;
    let settings = client_options(cfg, account)?.http_settings();
    let http = pool.client(&settings).map_err(|e| setup_error(account, e))?;
    // The lister gets an HTTP client of its own: `build` reads the members on a runtime
    // that ends right after, and a pooled connection made there would die with it.
    let own_http = SharedHttp::new(http_client(&settings).map_err(|e| setup_error(account, e))?);
    Ok(OrgSetup {
        org,
        lister: Arc::new(helper_client(
            cfg,
            account,
            organization::ORGANIZATION,
            creds.clone(),
            own_http,
        )?),
        sts: Arc::new(helper_client(cfg, account, sts::STS, creds, http)?),
    })
}

fn organizations<'a>(cfg: &'a Config, env: EnvLookup<'_>, pool: &HttpPool) -> Result<Vec<OrgSetup<'a>>, ConfigError> {
    cfg.tencent_organizations
        .iter()
        .map(|org| org_setup(cfg, org, env, pool))
        .collect()
}

/// The organizations that could be set up, and the failed sources of those that could not.
fn organizations_each<'a>(
    cfg: &'a Config,
    env: EnvLookup<'_>,
    pool: &HttpPool,
) -> (Vec<OrgSetup<'a>>, Vec<Arc<dyn Provider>>) {
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for org in &cfg.tencent_organizations {
        match org_setup(cfg, org, env, pool) {
            Ok(setup) => ok.push(setup),
            Err(e) => failed.extend(all_unavailable(&org.management, &e)),
        }
    }
    (ok, failed)
}

/// Every organization's members, read concurrently.
async fn list_members(orgs: &[OrgSetup<'_>]) -> Vec<Result<Vec<Member>, ProviderError>> {
    futures::future::join_all(orgs.iter().map(|o| organization::members(&o.lister))).await
}

/// [`list_members`] from sync code, on a runtime of its own on a thread of its own (so it
/// works whether or not the caller is inside a runtime).
fn list_members_blocking(orgs: &[OrgSetup<'_>]) -> Vec<Result<Vec<Member>, ProviderError>> {
    if orgs.is_empty() {
        return Vec::new();
    }
    let listers: Vec<Arc<TencentClient>> = orgs.iter().map(|o| Arc::clone(&o.lister)).collect();
    let run = move || -> Vec<Result<Vec<Member>, ProviderError>> {
        let failed = |e: std::io::Error| {
            ProviderError::invalid(format!("cannot start a runtime to list organization members: {e}"))
        };
        match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt.block_on(futures::future::join_all(
                listers.iter().map(|lister| organization::members(lister)),
            )),
            Err(e) => {
                let e = failed(e);
                listers.iter().map(|_| Err(e.clone())).collect()
            }
        }
    };
    let count = orgs.len();
    std::thread::scope(|scope| scope.spawn(run).join()).unwrap_or_else(|_| {
        (0..count)
            .map(|_| {
                Err(ProviderError::invalid(
                    "listing organization members failed unexpectedly",
                ))
            })
            .collect()
    })
}

fn org_error(org: &TencentOrganization, e: ProviderError) -> ConfigError {
    ConfigError::Provider {
        provider: "Tencent Cloud",
        account: org.management.name.clone(),
        source: Box::new(ProviderError {
            message: format!(
                "cannot list the members of the organization (the management account's credentials need \
                 organization:DescribeOrganizationMembers): {}",
                e.message
            ),
            ..e
        }),
    }
}

/// One account per member the filter keeps, named by its member name (with its uin when
/// another account already has that name), reached through the organization's role.
fn member_accounts(cfg: &Config, org: &OrgSetup<'_>, members: Vec<Member>) -> Vec<(TencentAccount, CredentialSource)> {
    let table = org.org;
    let mut taken: std::collections::HashSet<String> = cfg
        .tencent
        .iter()
        .map(|a| a.name.clone())
        .chain(cfg.tencent_organizations.iter().map(|o| o.management.name.clone()))
        .collect();
    let mut out = Vec::new();
    for member in members {
        let named = table.members.is_empty()
            || table
                .members
                .iter()
                .any(|g| crate::filter::glob_matches(g, &member.name));
        // A member the API gives no unit for matches no unit filter.
        let in_unit = table.units.is_empty()
            || member
                .unit
                .as_deref()
                .is_some_and(|u| table.units.iter().any(|g| crate::filter::glob_matches(g, u)));
        if !(named && in_unit) {
            continue;
        }
        let name = if taken.contains(&member.name) {
            format!("{}-{}", member.name, member.uin)
        } else {
            member.name.clone()
        };
        taken.insert(name.clone());
        let role = AssumeRole {
            role_arn: sts::role_arn(member.uin, &table.role_name),
            session_name: table.session_name.clone(),
            external_id: table.external_id.clone(),
            duration_secs: table.duration_secs,
            source: None,
        };
        let account = TencentAccount {
            name,
            role: Some(role.clone()),
            ..table.management.clone()
        };
        let session = RoleSession::new(Arc::clone(&org.sts), role_spec(&account, &role));
        out.push((account, CredentialSource::Role(Arc::new(session))));
    }
    out
}

/// One account's sources over `creds`.
fn tencent_with(
    cfg: &Config,
    account: &TencentAccount,
    creds: CredentialSource,
    pool: &HttpPool,
) -> Result<TencentSources, ConfigError> {
    let setup_error = |source| setup_error(account, source);
    let base = client_options(cfg, account)?;
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
            sts_endpoint: None,
            organization_endpoint: None,
            ca_cert: None,
            role: None,
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

    /// One refresher per account: every client of a role account (each service and
    /// region host) signs through the same `RoleSession`.
    #[test]
    fn every_client_of_a_role_account_shares_one_role_session() {
        let mut a = account("dev", &REGIONS, vec![TencentService::ApiGateway, TencentService::Cvm]);
        a.role = Some(AssumeRole {
            role_arn: sts::role_arn(100_000_000_001, "Ops"),
            session_name: "keyward-test".into(),
            external_id: None,
            duration_secs: 7200,
            source: None,
        });
        let built = sources(a);
        assert_eq!(built.clients.len(), 10);
        let first = built.clients[0].role().expect("a role session");
        assert_eq!(first.role_arn(), "qcs::cam::uin/100000000001:roleName/Ops");
        assert!(built.clients.iter().all(|c| Arc::ptr_eq(c.role().unwrap(), first)));
        assert!(built.clients.iter().all(|c| c.secret_id().is_empty()));
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
