#![cfg(unix)]
//! Role assumption and organization discovery against the emulator: temporary credentials
//! refreshed before they expire and after the service refuses them, one member whose
//! trust policy is broken failing alone, organizations paged through, the config rules
//! for roles, and tccli role profiles.

use keyward::config::{Config, ConfigError};
use keyward::demo::DemoConfig;
use keyward::emulator::{self, EmulatorOptions, Seed};
use keyward::inventory::ProviderKind;
use keyward::providers::Provider;
use keyward::providers::http::Retry;
use keyward::providers::tencent::client::{CVM, ClientOptions, Credentials, TencentClient};
use keyward::providers::tencent::organization::{self, DEFAULT_ROLE_NAME};
use keyward::providers::tencent::sts::{self, RoleSession, RoleSpec, STS};
use keyward::registry;
use keyward::secret::Secret;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

fn find<'a>(providers: &'a [Arc<dyn Provider>], account: &str, kind: ProviderKind) -> &'a Arc<dyn Provider> {
    providers
        .iter()
        .find(|p| p.scope().account == account && p.scope().kind == kind)
        .unwrap_or_else(|| panic!("no {kind} source for {account}"))
}

fn assumed(emu: &emulator::Emulator) -> u64 {
    emu.state().action_count(sts::ASSUME_ROLE)
}

fn prod_creds(seed: &Seed) -> Credentials {
    let prod = &seed.tencent_accounts()[0];
    Credentials {
        secret_id: prod.secret_id.clone(),
        secret_key: Secret::new(prod.secret_key.clone()),
        token: None,
    }
}

fn over_http(emu: &emulator::Emulator) -> ClientOptions {
    ClientOptions {
        endpoint: Some(emu.base_url.clone()),
        ..ClientOptions::default()
    }
}

/// A role session of the demo's acme-dev, assumed with acme-prod's keys, over plain HTTP.
fn dev_session(emu: &emulator::Emulator, seed: &Seed) -> Arc<RoleSession> {
    let sts_client = TencentClient::new(STS, prod_creds(seed), over_http(emu)).unwrap();
    let dev = seed.tencent_accounts().iter().find(|a| a.name == "acme-dev").unwrap();
    Arc::new(RoleSession::new(
        Arc::new(sts_client),
        RoleSpec {
            role_arn: sts::role_arn(dev.root_uin(), DEFAULT_ROLE_NAME),
            session_name: "keyward-test".into(),
            external_id: None,
            duration_secs: 7200,
            region: "ap-guangzhou".into(),
        },
    ))
}

#[tokio::test]
async fn a_token_is_refreshed_before_it_expires_during_a_long_run() {
    let seed = Seed::demo().unwrap().with_token_ttl(2);
    let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
    let providers = DemoConfig::new(&emu, &seed, None).providers().await.unwrap();
    let cvm = find(&providers, "acme-dev", ProviderKind::Cvm);
    let want = emu.state().key_pair_ids("acme-dev", &cvm.scope().region);
    let describes = || emu.state().action_count("DescribeKeyPairs");
    let first: BTreeSet<String> = cvm.list().await.unwrap().into_iter().map(|i| i.key.id.into()).collect();
    assert_eq!(first, want.iter().cloned().collect());
    assert_eq!(assumed(&emu), 1);
    let first_calls = describes();
    // Past the token's two seconds: the next call assumes the role again before sending,
    // so the service never sees the expired token.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let second: BTreeSet<String> = cvm.list().await.unwrap().into_iter().map(|i| i.key.id.into()).collect();
    assert_eq!(second, first);
    assert_eq!(assumed(&emu), 2, "one refresh");
    // Proactive: no DescribeKeyPairs was refused and resent.
    assert_eq!(
        describes() - first_calls,
        first_calls,
        "the second listing sent no extra call"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn an_expired_token_is_refused_and_recovered_by_one_refresh_for_reads_and_writes() {
    let seed = Seed::demo().unwrap();
    let emu = emulator::start(EmulatorOptions::new(seed.clone())).await.unwrap();
    let session = dev_session(&emu, &seed);
    let cvm = TencentClient::new(CVM, Arc::clone(&session), over_http(&emu)).unwrap();
    let list = json!({"Limit": 100});
    let (first, _) = cvm
        .call("ap-guangzhou", "DescribeKeyPairs", &list, Retry::Read)
        .await
        .unwrap();
    assert_eq!(session.assumed_count(), 1);

    // The server ends the token while the client still holds it as fresh.
    emu.state().expire_tokens();
    let (again, _) = cvm
        .call("ap-guangzhou", "DescribeKeyPairs", &list, Retry::Read)
        .await
        .unwrap();
    assert_eq!(again["TotalCount"], first["TotalCount"]);
    assert_eq!(session.assumed_count(), 2, "refused once, refreshed once, resent");

    // A write is resent too: the refusal came before the action ran.
    emu.state().expire_tokens();
    let id = emu.state().key_pair_ids("acme-dev", "ap-guangzhou")[0].clone();
    let bound = emu
        .state()
        .key_pair("acme-dev", "ap-guangzhou", &id)
        .unwrap()
        .is_bound();
    let delete = json!({"KeyIds": [id]});
    let result = cvm.call("ap-guangzhou", "DeleteKeyPairs", &delete, Retry::Write).await;
    assert_eq!(session.assumed_count(), 3);
    if bound {
        assert!(result.unwrap_err().code.starts_with("UnsupportedOperation"));
    } else {
        result.unwrap();
        assert!(emu.state().key_pair("acme-dev", "ap-guangzhou", &id).is_none());
    }

    // Temporary credentials without their token are refused with the documented code.
    let (creds, _) = {
        let sts_client = TencentClient::new(STS, prod_creds(&seed), over_http(&emu)).unwrap();
        let dev = seed.tencent_accounts().iter().find(|a| a.name == "acme-dev").unwrap();
        let params = json!({"RoleArn": sts::role_arn(dev.root_uin(), DEFAULT_ROLE_NAME), "RoleSessionName": "t-1"});
        sts_client
            .call("ap-guangzhou", sts::ASSUME_ROLE, &params, Retry::Read)
            .await
            .unwrap()
    };
    let tokenless = Credentials {
        secret_id: creds["Credentials"]["TmpSecretId"].as_str().unwrap().into(),
        secret_key: Secret::new(creds["Credentials"]["TmpSecretKey"].as_str().unwrap()),
        token: None,
    };
    let bare = TencentClient::new(CVM, tokenless, over_http(&emu)).unwrap();
    let err = bare
        .call("ap-guangzhou", "DescribeKeyPairs", &list, Retry::Read)
        .await
        .unwrap_err();
    assert_eq!(err.code, sts::TOKEN_FAILURE);
    emu.shutdown().await;
}

#[tokio::test]
async fn assume_role_refuses_with_the_documented_codes() {
    let seed = Seed::demo().unwrap();
    let emu = emulator::start(EmulatorOptions::new(seed.clone())).await.unwrap();
    assert!(
        emu.state()
            .set_role_trust("acme-sandbox", DEFAULT_ROLE_NAME, vec!["acme-staging".into()])
    );
    let sts_client = TencentClient::new(STS, prod_creds(&seed), over_http(&emu)).unwrap();
    let uin = |name: &str| {
        seed.tencent_accounts()
            .iter()
            .find(|a| a.name == name)
            .unwrap()
            .root_uin()
    };
    let call = |params: serde_json::Value| {
        let sts_client = &sts_client;
        async move {
            sts_client
                .call("ap-guangzhou", sts::ASSUME_ROLE, &params, Retry::Read)
                .await
                .unwrap_err()
                .code
        }
    };
    let dev = sts::role_arn(uin("acme-dev"), DEFAULT_ROLE_NAME);
    assert_eq!(
        call(json!({"RoleArn": sts::role_arn(uin("acme-dev"), "NoSuchRole"), "RoleSessionName": "ok"})).await,
        sts::codes::ROLE_NOT_FOUND
    );
    assert_eq!(
        call(json!({"RoleArn": sts::role_arn(1, DEFAULT_ROLE_NAME), "RoleSessionName": "ok"})).await,
        sts::codes::ACCOUNT_NOT_AVAILABLE
    );
    assert_eq!(
        call(json!({"RoleArn": sts::role_arn(uin("acme-sandbox"), DEFAULT_ROLE_NAME), "RoleSessionName": "ok"})).await,
        sts::codes::UNAUTHORIZED
    );
    assert_eq!(
        call(json!({"RoleArn": dev, "RoleSessionName": "x"})).await,
        sts::codes::PARAM_ERROR
    );
    assert_eq!(
        call(json!({"RoleArn": dev, "RoleSessionName": "ok", "DurationSeconds": 43201})).await,
        sts::codes::OVER_TIME
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn one_member_with_a_broken_trust_policy_fails_alone() {
    let seed = Seed::demo().unwrap();
    let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
    // The sandbox's trust policy names nobody any more.
    assert!(
        emu.state()
            .set_role_trust("acme-sandbox", DEFAULT_ROLE_NAME, Vec::new())
    );
    let providers = DemoConfig::new(&emu, &seed, None).providers().await.unwrap();
    let members = ["acme-dev", "acme-data", "acme-sandbox"];
    let mut failed: BTreeSet<String> = BTreeSet::new();
    for p in providers
        .iter()
        .filter(|p| members.contains(&p.scope().account.as_str()))
    {
        match p.list().await {
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.code, sts::codes::UNAUTHORIZED, "{e:?}");
                assert!(
                    e.message.contains("OrganizationAccessControlRole") && e.message.contains("trust policy"),
                    "{}",
                    e.message
                );
                failed.insert(p.scope().account.to_string());
            }
        }
    }
    assert_eq!(failed, BTreeSet::from(["acme-sandbox".to_string()]));
    // One AssumeRole per member: the sandbox's seven sources share one refusal.
    assert_eq!(assumed(&emu), 3);
    emu.shutdown().await;
}

#[tokio::test]
async fn two_hundred_members_are_discovered_across_four_pages() {
    let seed = Seed::generated(200, &["ap-guangzhou"], 1, 1, 0).with_organization(DEFAULT_ROLE_NAME);
    let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
    let demo = DemoConfig::new(&emu, &seed, None);
    assert!(demo.config.tencent.is_empty() && demo.config.tencent_organizations.len() == 1);
    let providers = demo.providers().await.unwrap();
    assert_eq!(emu.state().action_count(organization::DESCRIBE_ORGANIZATION_MEMBERS), 4);
    let accounts: BTreeSet<&str> = providers
        .iter()
        .filter(|p| p.scope().kind != ProviderKind::OceanBase)
        .map(|p| p.scope().account.as_str())
        .collect();
    let want: BTreeSet<String> = (0..200).map(|i| format!("tencent-{i:02}")).collect();
    assert_eq!(accounts, want.iter().map(String::as_str).collect());
    // Each member's sources load through its role.
    let p = find(&providers, "tencent-199", ProviderKind::Cvm);
    assert_eq!(p.list().await.unwrap().len(), 1);
    emu.shutdown().await;
}

/// Credentials that manage no organization: the organization's sources fail under its
/// name with the service's code and what permission is needed; other accounts still load.
#[tokio::test]
async fn an_organization_whose_members_cannot_be_listed_fails_under_its_own_name() {
    let seed = Seed::demo().unwrap();
    let emu = emulator::start(EmulatorOptions::new(seed.clone())).await.unwrap();
    let staging = seed
        .tencent_accounts()
        .iter()
        .find(|a| a.name == "acme-staging")
        .unwrap();
    let url = &emu.base_url;
    let text = format!(
        "[[tencent]]\nname = \"staging\"\nregions = [\"ap-guangzhou\"]\nservices = [\"cvm\"]\n\
         secret_id_env = \"ID\"\nsecret_key_env = \"KEY\"\ncvm_endpoint = \"{url}\"\n\
         [[tencent_organization]]\nname = \"not-a-manager\"\nregions = [\"ap-guangzhou\"]\nservices = [\"cvm\"]\n\
         secret_id_env = \"ID\"\nsecret_key_env = \"KEY\"\norganization_endpoint = \"{url}\"\n"
    );
    let vars: HashMap<String, String> = HashMap::from([
        ("ID".into(), staging.secret_id.clone()),
        ("KEY".into(), staging.secret_key.clone()),
    ]);
    let env = |name: &str| vars.get(name).cloned();
    let cfg = Config::parse(&text, Path::new("/etc/keyward/config.toml"), &env).unwrap();
    let providers = registry::build_each_async(&cfg, &env).await;
    assert_eq!(providers.len(), 2);
    let org = find(&providers, "not-a-manager", ProviderKind::Cvm);
    let err = org.list().await.unwrap_err();
    assert!(
        err.message.contains("ResourceNotFound.OrganizationNotExist")
            && err.message.contains("organization:DescribeOrganizationMembers"),
        "{}",
        err.message
    );
    assert!(find(&providers, "staging", ProviderKind::Cvm).list().await.is_ok());
    emu.shutdown().await;
}

/// The sync `build_each` (`keyward list`, the TUI) reads the member lists on a runtime of
/// its own; the members' sources then load on the caller's runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_build_reads_organizations_on_its_own_runtime() {
    let seed = Seed::demo().unwrap();
    let emu = emulator::start(EmulatorOptions::new(seed.clone())).await.unwrap();
    let prod = &seed.tencent_accounts()[0];
    let url = emu.base_url.clone();
    let text = format!(
        "[[tencent_organization]]\nname = \"acme\"\nregions = [\"ap-guangzhou\"]\nservices = [\"cvm\"]\n\
         members = [\"acme-d*\", \"acme-sandbox\"]\nunits = [\"eng*\"]\nsecret_id_env = \"ID\"\nsecret_key_env = \"KEY\"\n\
         organization_endpoint = \"{url}\"\nsts_endpoint = \"{url}\"\ncvm_endpoint = \"{url}\"\n"
    );
    let vars: HashMap<String, String> = HashMap::from([
        ("ID".into(), prod.secret_id.clone()),
        ("KEY".into(), prod.secret_key.clone()),
    ]);
    let providers = tokio::task::spawn_blocking(move || {
        let env = |name: &str| vars.get(name).cloned();
        let cfg = Config::parse(&text, Path::new("/etc/keyward/config.toml"), &env).unwrap();
        registry::build_each(&cfg, &env)
    })
    .await
    .unwrap();
    // Name and unit filters both apply: acme-data's name matches, but its unit is Data.
    let names: BTreeSet<&str> = providers.iter().map(|p| p.scope().account.as_str()).collect();
    assert_eq!(names, BTreeSet::from(["acme-dev", "acme-sandbox"]));
    for p in &providers {
        let listed: BTreeSet<String> = p.list().await.unwrap().into_iter().map(|i| i.key.id.into()).collect();
        let want: BTreeSet<String> = emu
            .state()
            .key_pair_ids(&p.scope().account, "ap-guangzhou")
            .into_iter()
            .collect();
        assert_eq!(listed, want, "{}", p.scope().account);
    }
    assert_eq!(assumed(&emu), 2);
    emu.shutdown().await;
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    let env = |name: &str| (name == "USER").then(|| "alice".to_string());
    Config::parse(text, Path::new("/etc/keyward/config.toml"), &env)
}

fn error_of(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

const BASE: &str = "[[tencent]]\nname = \"mgmt\"\nregions = [\"ap-guangzhou\"]\n";
const ARN: &str = "qcs::cam::uin/100000000001:roleName/Ops";

#[test]
fn role_settings_are_validated_with_their_line() {
    let ok = parse(&format!(
        "{BASE}\n[[tencent]]\nname = \"dev\"\nregions = [\"ap-guangzhou\"]\nrole_arn = \"{ARN}\"\nsource = \"mgmt\"\n"
    ))
    .unwrap();
    let role = ok.tencent[1].role.as_ref().unwrap();
    assert_eq!(
        (role.session_name.as_str(), role.duration_secs, role.source.as_deref()),
        ("keyward-alice", 7200, Some("mgmt"))
    );
    let role_table = |extra: &str| {
        format!("{BASE}\n[[tencent]]\nname = \"dev\"\nregions = [\"ap-guangzhou\"]\nrole_arn = \"{ARN}\"\n{extra}\n")
    };
    let e = error_of(&role_table("role_session_name = \"a b\""));
    assert!(e.contains("config.toml:9") && e.contains("role_session_name"), "{e}");
    let e = error_of(&role_table("role_session_name = \"k\""));
    assert!(e.contains("2 to 128"), "{e}");
    let e = error_of(&role_table("duration_secs = 43201"));
    assert!(e.contains("config.toml:9") && e.contains("43200"), "{e}");
    let e = error_of(&role_table("source = \"nobody\""));
    assert!(
        e.contains("config.toml:9") && e.contains("names no [[tencent]] account"),
        "{e}"
    );
    let e = error_of(&role_table("source = \"dev\""));
    assert!(e.contains("loop"), "{e}");
    let e = error_of(
        "[[tencent]]\nname = \"a\"\nregions = [\"ap-guangzhou\"]\nrole_arn = \"qcs::cam::uin/1:roleName/R\"\nsource = \"b\"\n\
         [[tencent]]\nname = \"b\"\nregions = [\"ap-guangzhou\"]\nrole_arn = \"qcs::cam::uin/2:roleName/R\"\nsource = \"a\"\n",
    );
    assert!(e.contains("a -> b -> a"), "{e}");
    let e = error_of(&format!("{BASE}role_arn = \"arn:aws:iam::1:role/x\"\n"));
    assert!(e.contains("not a CAM role ARN"), "{e}");
    let e = error_of(&format!("{BASE}external_id = \"x\"\n"));
    assert!(e.contains("external_id is set but role_arn is not"), "{e}");
    let e = error_of(&format!("{BASE}role_name = \"x\"\n"));
    assert!(e.contains("[[tencent_organization]]"), "{e}");
}

#[test]
fn organization_tables_are_validated() {
    let org = "[[tencent_organization]]\nname = \"acme\"\nregions = [\"ap-guangzhou\"]\n";
    let c = parse(&format!("{org}members = [\"prod-*\"]\n")).unwrap();
    let o = &c.tencent_organizations[0];
    assert_eq!(
        (o.role_name.as_str(), o.members.as_slice(), o.management.name.as_str()),
        (DEFAULT_ROLE_NAME, &["prod-*".to_string()][..], "acme")
    );
    let e = error_of(&format!("{org}role_arn = \"{ARN}\"\n"));
    assert!(e.contains("config.toml:4") && e.contains("does not belong"), "{e}");
    let e = error_of(&format!("{org}role_name = \"has space\"\n"));
    assert!(e.contains("not a CAM role name"), "{e}");
    let e = error_of(&format!("{org}members = []\n"));
    assert!(e.contains("members is empty"), "{e}");
    let e = error_of(&format!(
        "{BASE}[[tencent_organization]]\nname = \"mgmt\"\nregions = [\"ap-guangzhou\"]\n"
    ));
    assert!(e.contains("its own name"), "{e}");
}

/// A tccli profile whose `.credential` names a role (`role-arn`, `role-session-name`, as
/// `tccli configure set` writes them): its keys assume that role, as tccli does.
#[tokio::test]
async fn a_tccli_role_profile_assumes_its_role() {
    let seed = Seed::demo().unwrap();
    let emu = emulator::start(EmulatorOptions::new(seed.clone())).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let prod = &seed.tencent_accounts()[0];
    let dev = seed.tencent_accounts().iter().find(|a| a.name == "acme-dev").unwrap();
    let file = home.path().join(".tccli/dev.credential");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let cred = json!({
        "secretId": prod.secret_id,
        "secretKey": prod.secret_key,
        "role-arn": sts::role_arn(dev.root_uin(), DEFAULT_ROLE_NAME),
        "role-session-name": "tccli-session",
    });
    std::fs::write(&file, cred.to_string()).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let text = format!(
        "[[tencent]]\nname = \"dev\"\nregions = [\"ap-guangzhou\"]\nservices = [\"cvm\"]\ntccli_profile = \"dev\"\n\
         cvm_endpoint = \"{url}\"\nsts_endpoint = \"{url}\"\n",
        url = emu.base_url
    );
    let vars: HashMap<String, String> = HashMap::from([("HOME".into(), home.path().display().to_string())]);
    let env = |name: &str| vars.get(name).cloned();
    let cfg = Config::parse(&text, Path::new("/etc/keyward/config.toml"), &env).unwrap();
    let secrets = cfg.tencent[0].credentials(&cfg, &env).unwrap();
    let role = secrets.file_role.expect("the profile's role");
    assert_eq!(role.session_name.as_deref(), Some("tccli-session"));
    let providers = registry::build_async(&cfg, &env).await.unwrap();
    let listed: BTreeSet<String> = providers[0]
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.key.id.into())
        .collect();
    assert_eq!(
        listed,
        emu.state()
            .key_pair_ids("acme-dev", "ap-guangzhou")
            .into_iter()
            .collect()
    );
    assert_eq!(assumed(&emu), 1);
    emu.shutdown().await;
}
