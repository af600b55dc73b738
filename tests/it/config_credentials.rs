#![cfg(unix)]
//! Credential resolution: order, the messages when nothing is found, and the ssh-like
//! refusal of credential files others can read. Env is an injected map, HOME a temp dir.

use keyward::config::{Config, ConfigError};
use keyward::inventory::ProviderKind;
use keyward::registry;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name: &str| map.get(name).cloned()
}

fn write(path: &Path, text: &str, mode: u32) -> PathBuf {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    path.to_path_buf()
}

fn cfg(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Config {
    Config::parse(text, Path::new("/etc/keyward/config.toml"), env).unwrap()
}

const OB: &str = "[[oceanbase]]\nname = \"ob-main\"\norg_id = \"org\"\nproject_ids = [\"p1\", \"p2\"]\n";
const TC: &str = "[[tencent]]\nname = \"prod\"\nregions = [\"ap-guangzhou\"]\n";

#[test]
fn oceanbase_default_env_vars_are_used() {
    let env = env_of(&[("OCEANBASE_ACCESS_KEY_ID", "ak"), ("OCEANBASE_ACCESS_KEY_SECRET", "sk")]);
    let c = cfg(OB, &env);
    let creds = c.oceanbase[0].credentials(&c, &env).unwrap();
    assert_eq!(creds.access_key_id, "ak");
    assert_eq!(creds.access_key_secret.expose(), "sk");
    assert_eq!(
        creds.source,
        "env vars OCEANBASE_ACCESS_KEY_ID and OCEANBASE_ACCESS_KEY_SECRET"
    );
    assert!(!format!("{creds:?}").contains("sk\""), "the secret is masked in Debug");
}

#[test]
fn named_env_vars_win_and_globals_are_not_used_for_accounts_with_their_own_source() {
    let text = format!("{OB}access_key_id_env = \"MAIN_ID\"\naccess_key_secret_env = \"MAIN_SECRET\"\n");
    let env = env_of(&[
        ("MAIN_ID", "main-ak"),
        ("MAIN_SECRET", "main-sk"),
        ("OCEANBASE_ACCESS_KEY_ID", "other"),
        ("OCEANBASE_ACCESS_KEY_SECRET", "other"),
    ]);
    let c = cfg(&text, &env);
    let creds = c.oceanbase[0].credentials(&c, &env).unwrap();
    assert_eq!(creds.access_key_id, "main-ak");
    assert_eq!(
        creds.source, "env vars MAIN_ID and MAIN_SECRET",
        "the source named when refused"
    );

    // Named vars unset: the global ones belong to someone else and are not taken.
    let env = env_of(&[
        ("OCEANBASE_ACCESS_KEY_ID", "other"),
        ("OCEANBASE_ACCESS_KEY_SECRET", "other"),
    ]);
    let msg = c.oceanbase[0].credentials(&c, &env).unwrap_err().to_string();
    assert!(msg.contains("MAIN_ID, MAIN_SECRET"), "{msg}");
    assert!(!msg.contains("OCEANBASE_ACCESS_KEY_ID"), "{msg}");
    assert!(msg.contains("export MAIN_ID"), "{msg}");
}

#[test]
fn missing_oceanbase_credentials_message_names_account_vars_and_fix() {
    let env = env_of(&[]);
    let c = cfg(OB, &env);
    let e = c.oceanbase[0].credentials(&c, &env).unwrap_err();
    assert!(matches!(e, ConfigError::MissingCredentials(_)));
    let msg = e.to_string();
    assert!(msg.contains("account \"ob-main\""), "{msg}");
    assert!(msg.contains("/etc/keyward/config.toml"), "{msg}");
    assert!(
        msg.contains("OCEANBASE_ACCESS_KEY_ID, OCEANBASE_ACCESS_KEY_SECRET"),
        "{msg}"
    );
    assert!(
        msg.contains("fix:") && msg.contains("User Preferences > AccessKey"),
        "{msg}"
    );
}

#[test]
fn missing_tencent_credentials_lists_env_vars_and_tccli_file() {
    let home = tempfile::tempdir().unwrap();
    let env = env_of(&[("HOME", home.path().to_str().unwrap())]);
    let c = cfg(TC, &env);
    let msg = c.tencent[0].credentials(&c, &env).unwrap_err().to_string();
    assert!(msg.contains("account \"prod\""), "{msg}");
    assert!(msg.contains("TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY"), "{msg}");
    let tccli = home.path().join(".tccli/default.credential");
    assert!(msg.contains(&format!("{} (not found)", tccli.display())), "{msg}");
    assert!(msg.contains("tccli configure"), "{msg}");
}

#[test]
fn tencent_env_then_tccli_profile_file() {
    let env = env_of(&[
        ("TENCENTCLOUD_SECRET_ID", "AKIDenv"),
        ("TENCENTCLOUD_SECRET_KEY", "envkey"),
        ("TENCENTCLOUD_SESSION_TOKEN", "tok"),
    ]);
    let c = cfg(TC, &env);
    let s = c.tencent[0].credentials(&c, &env).unwrap();
    assert_eq!(s.secret_id, "AKIDenv");
    assert_eq!(s.token.as_ref().map(|t| t.expose()), Some("tok"));

    let home = tempfile::tempdir().unwrap();
    write(
        &home.path().join(".tccli/work.credential"),
        r#"{"secretId": "AKIDfile", "secretKey": "filekey", "type": "secret"}"#,
        0o600,
    );
    let env = env_of(&[("HOME", home.path().to_str().unwrap())]);
    let c = cfg(&format!("{TC}tccli_profile = \"work\"\n"), &env);
    let s = c.tencent[0].credentials(&c, &env).unwrap();
    assert_eq!((s.secret_id.as_str(), s.secret_key.expose()), ("AKIDfile", "filekey"));
    assert!(s.token.is_none());
}

#[test]
fn toml_credentials_file_is_read_when_private() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir.path().join("ob.toml"),
        "access_key_id = \"ak-f\"\naccess_key_secret = \"sk-f\"\n",
        0o600,
    );
    let env = env_of(&[]);
    let c = cfg(&format!("{OB}credentials_file = \"{}\"\n", file.display()), &env);
    let creds = c.oceanbase[0].credentials(&c, &env).unwrap();
    assert_eq!(
        (creds.access_key_id.as_str(), creds.access_key_secret.expose()),
        ("ak-f", "sk-f")
    );
}

#[test]
fn readable_credentials_file_is_refused_with_the_chmod_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir.path().join("tc.toml"),
        "secret_id = \"AKID\"\nsecret_key = \"very-secret\"\n",
        0o644,
    );
    let env = env_of(&[]);
    let c = cfg(&format!("{TC}credentials_file = \"{}\"\n", file.display()), &env);
    let e = c.tencent[0].credentials(&c, &env).unwrap_err();
    assert!(matches!(e, ConfigError::InsecureFile { mode: 0o644, .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&format!("chmod 600 {}", file.display())), "{msg}");
    assert!(!msg.contains("very-secret"));

    // group-writable only is refused too (mode & 0o077)
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o620)).unwrap();
    assert!(matches!(
        c.tencent[0].credentials(&c, &env),
        Err(ConfigError::InsecureFile { .. })
    ));
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).unwrap();
    assert_eq!(c.tencent[0].credentials(&c, &env).unwrap().secret_id, "AKID");
}

#[test]
fn broken_credentials_file_names_line_but_never_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir.path().join("tc.toml"),
        "secret_id = \"AKID\"\nsecret_key = \"leaky-secret\n",
        0o600,
    );
    let env = env_of(&[]);
    let c = cfg(&format!("{TC}credentials_file = \"{}\"\n", file.display()), &env);
    let msg = c.tencent[0].credentials(&c, &env).unwrap_err().to_string();
    assert!(msg.contains(&format!("{}:2", file.display())), "{msg}");
    assert!(!msg.contains("leaky-secret"), "{msg}");
}

#[test]
fn registry_builds_one_oceanbase_provider_per_project() {
    let env = env_of(&[("OCEANBASE_ACCESS_KEY_ID", "ak"), ("OCEANBASE_ACCESS_KEY_SECRET", "sk")]);
    let c = cfg(&format!("{OB}endpoint = \"http://127.0.0.1:9\"\n"), &env);
    let providers = registry::build(&c, &env).unwrap();
    let got: Vec<(ProviderKind, String, String)> = providers
        .iter()
        .map(|p| {
            (
                p.scope().kind,
                p.scope().account.to_string(),
                p.scope().region.to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (ProviderKind::OceanBase, "ob-main".into(), "p1".into()),
            (ProviderKind::OceanBase, "ob-main".into(), "p2".into()),
        ]
    );
}

#[test]
fn registry_reports_missing_credentials_and_bad_ca_file() {
    let env = env_of(&[]);
    let c = cfg(OB, &env);
    let e = registry::build(&c, &env).err().unwrap();
    assert!(matches!(e, ConfigError::MissingCredentials(_)), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let ca = write(&dir.path().join("ca.pem"), "not a certificate", 0o644);
    let env = env_of(&[("OCEANBASE_ACCESS_KEY_ID", "ak"), ("OCEANBASE_ACCESS_KEY_SECRET", "sk")]);
    let c = cfg(&format!("{OB}ca_cert = \"{}\"\n", ca.display()), &env);
    let msg = registry::build(&c, &env).err().unwrap().to_string();
    assert!(msg.contains("ca.pem") && msg.contains("PEM"), "{msg}");
}

#[test]
fn registry_builds_tencent_providers_per_service_and_region() {
    let env = env_of(&[("TENCENTCLOUD_SECRET_ID", "AKID"), ("TENCENTCLOUD_SECRET_KEY", "key")]);
    let text = "[[tencent]]\nname = \"prod\"\nregions = [\"ap-guangzhou\", \"ap-shanghai\"]\n\
                apigateway_endpoint = \"http://127.0.0.1:9\"\ncvm_endpoint = \"http://127.0.0.1:9\"\n\
                [[tencent]]\nname = \"cvm-only\"\nregions = [\"ap-beijing\"]\nservices = [\"cvm\"]\n";
    let c = cfg(text, &env);
    let providers = registry::build(&c, &env).unwrap();
    let got: Vec<(ProviderKind, String, String)> = providers
        .iter()
        .map(|p| {
            (
                p.scope().kind,
                p.scope().account.to_string(),
                p.scope().region.to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (ProviderKind::ApiGateway, "prod".into(), "ap-guangzhou".into()),
            (ProviderKind::ApiGateway, "prod".into(), "ap-shanghai".into()),
            (ProviderKind::Cvm, "prod".into(), "ap-guangzhou".into()),
            (ProviderKind::Cvm, "prod".into(), "ap-shanghai".into()),
            (ProviderKind::Cvm, "cvm-only".into(), "ap-beijing".into()),
        ]
    );
}

#[test]
fn a_credentials_path_that_is_a_directory_is_named_as_such() {
    // Tests run as root, so a mode-000 file would still be readable: a directory is the
    // unreadable credentials file that works everywhere.
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("creds");
    std::fs::create_dir(&creds).unwrap();
    let env = env_of(&[]);
    for mode in [0o700, 0o755] {
        std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(mode)).unwrap();
        let c = cfg(&format!("{TC}credentials_file = \"{}\"\n", creds.display()), &env);
        let e = c.tencent[0].credentials(&c, &env).unwrap_err();
        assert!(
            matches!(e, ConfigError::BadCredentialsFile { .. }),
            "mode {mode:o}: {e:?}"
        );
        let msg = e.to_string();
        assert!(msg.contains("directory") && !msg.contains("chmod"), "{msg}");
        let c = cfg(&format!("{OB}credentials_file = \"{}\"\n", creds.display()), &env);
        let msg = c.oceanbase[0].credentials(&c, &env).unwrap_err().to_string();
        assert!(msg.contains("directory"), "{msg}");
    }
}

#[test]
fn a_dangling_credentials_path_is_reported_as_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("tc.toml");
    std::os::unix::fs::symlink(dir.path().join("moved-away.toml"), &link).unwrap();
    let env = env_of(&[]);
    let c = cfg(&format!("{TC}credentials_file = \"{}\"\n", link.display()), &env);
    let e = c.tencent[0].credentials(&c, &env).unwrap_err();
    assert!(matches!(e, ConfigError::MissingCredentials(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&format!("{} (not found)", link.display())), "{msg}");
    // And through the registry, which is what `keyward` runs.
    let msg = registry::build(&c, &env).err().unwrap().to_string();
    assert!(msg.contains("not found"), "{msg}");
}

/// One variable of a pair exported and the other forgotten (or misspelt): the message
/// says which one is missing, not only that nothing was found.
#[test]
fn half_a_pair_names_the_missing_variable() {
    let home = tempfile::tempdir().unwrap();
    let env = env_of(&[
        ("HOME", home.path().to_str().unwrap()),
        ("TENCENTCLOUD_SECRET_ID", "AKIDonlyTheId"),
    ]);
    let c = cfg(TC, &env);
    let msg = c.tencent[0].credentials(&c, &env).unwrap_err().to_string();
    assert!(
        msg.contains("TENCENTCLOUD_SECRET_ID is set but TENCENTCLOUD_SECRET_KEY is not"),
        "{msg}"
    );
    assert!(!msg.contains("AKIDonlyTheId"), "values are never quoted: {msg}");

    let text = format!("{OB}access_key_id_env = \"MAIN_ID\"\naccess_key_secret_env = \"MAIN_SECRET\"\n");
    let env = env_of(&[("MAIN_SECRET", "sk")]);
    let c = cfg(&text, &env);
    let msg = c.oceanbase[0].credentials(&c, &env).unwrap_err().to_string();
    assert!(msg.contains("MAIN_SECRET is set but MAIN_ID is not"), "{msg}");
}

/// A pasted secret with a trailing newline or leading space is not sent (it would only
/// earn a signature failure): the account is refused naming where the value came from,
/// never the value.
#[test]
fn whitespace_around_a_secret_is_refused_not_sent() {
    let env = env_of(&[
        ("TENCENTCLOUD_SECRET_ID", "AKIDpadded"),
        ("TENCENTCLOUD_SECRET_KEY", "secretKeyValue\n"),
    ]);
    let c = cfg(TC, &env);
    let e = c.tencent[0].credentials(&c, &env).unwrap_err();
    assert!(matches!(e, ConfigError::PaddedCredential { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("SecretKey") && msg.contains("TENCENTCLOUD_SECRET_KEY"),
        "{msg}"
    );
    assert!(msg.contains("whitespace") && msg.contains("fix:"), "{msg}");
    assert!(!msg.contains("secretKeyValue"), "{msg}");

    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir.path().join("ob.toml"),
        "access_key_id = \" ak-lead\"\naccess_key_secret = \"sk\"\n",
        0o600,
    );
    let text = format!("{OB}credentials_file = \"{}\"\n", file.display());
    let env = env_of(&[]);
    let c = cfg(&text, &env);
    let msg = c.oceanbase[0].credentials(&c, &env).unwrap_err().to_string();
    assert!(msg.contains("access_key_id in") && msg.contains("ob.toml"), "{msg}");
}

/// One account without credentials does not block the others: its sources fail their
/// listing with the config error and its fix (never an empty success), the other account's
/// sources are real providers.
#[tokio::test]
async fn an_account_without_credentials_fails_its_own_sources_only() {
    let home = tempfile::tempdir().unwrap();
    let text = format!(
        "{TC}services = [\"apigateway\", \"cvm\"]\nsecret_id_env = \"PROD_ID\"\nsecret_key_env = \"PROD_KEY\"\n\
         {OB}endpoint = \"http://127.0.0.1:9\"\n"
    );
    let env = env_of(&[
        ("HOME", home.path().to_str().unwrap()),
        ("PROD_ID", "AKIDprod"),
        ("OCEANBASE_ACCESS_KEY_ID", "ak"),
        ("OCEANBASE_ACCESS_KEY_SECRET", "sk"),
    ]);
    let c = cfg(&text, &env);
    assert!(registry::build(&c, &env).is_err(), "the strict build still refuses");
    let providers = registry::build_each(&c, &env);
    let got: Vec<(ProviderKind, &str, &str)> = providers
        .iter()
        .map(|p| (p.scope().kind, p.scope().account.as_str(), p.scope().region.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (ProviderKind::ApiGateway, "prod", "ap-guangzhou"),
            (ProviderKind::Cvm, "prod", "ap-guangzhou"),
            (ProviderKind::OceanBase, "ob-main", "p1"),
            (ProviderKind::OceanBase, "ob-main", "p2"),
        ]
    );
    for p in &providers[..2] {
        let err = p.list().await.unwrap_err();
        assert_eq!(err.code, keyward::providers::unavailable::CONFIG_ERROR);
        assert_eq!(err.kind, keyward::providers::ErrorKind::Invalid);
        assert!(
            err.message.contains("PROD_ID is set but PROD_KEY is not"),
            "{}",
            err.message
        );
        assert!(err.message.contains("fix: export PROD_ID"), "{}", err.message);
        assert!(!err.message.contains('\n'), "one line: {}", err.message);
        let err = p.delete(&["x".to_string()]).await.unwrap_err();
        assert_eq!(err.code, keyward::providers::unavailable::CONFIG_ERROR);
    }
    // The OceanBase account is a real provider: it tries the network (nothing listens).
    let err = providers[2].list().await.unwrap_err();
    assert_eq!(err.code, keyward::providers::CONNECT_FAILED, "{err}");
}

/// Each way a Tencent account finds its keys is named as its source (for `keyward info`
/// and `keyward doctor`), and so are the files it may read.
#[test]
fn tencent_credentials_name_their_source_and_the_files_are_listed() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_str().unwrap().to_string();
    let env = env_of(&[
        ("HOME", &h),
        ("TENCENTCLOUD_SECRET_ID", "AKIDglobal"),
        ("TENCENTCLOUD_SECRET_KEY", "global-key"),
    ]);
    let c = cfg(TC, &env);
    let account = &c.tencent[0];
    let creds = account.credentials(&c, &env).unwrap();
    assert_eq!(
        creds.source,
        "env vars TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY"
    );
    let tccli = home.path().join(".tccli/default.credential");
    assert_eq!(account.credential_files(&env), std::slice::from_ref(&tccli));

    let file = write(
        &home.path().join("prod.toml"),
        "secret_id = \"AKIDfile\"\nsecret_key = \"file-key\"\n",
        0o600,
    );
    let text = format!("{TC}credentials_file = \"{}\"\n", file.display());
    let c = cfg(&text, &env);
    let creds = c.tencent[0].credentials(&c, &env).unwrap();
    assert_eq!(creds.source, format!("credentials file {}", file.display()));
    assert_eq!(
        c.tencent[0].credential_files(&env),
        [file],
        "no tccli file for an account with its own source"
    );

    write(
        &tccli,
        "{\"secretId\": \"AKIDtccli\", \"secretKey\": \"tccli-key\"}",
        0o600,
    );
    let env = env_of(&[("HOME", &h)]);
    let c = cfg(TC, &env);
    let creds = c.tencent[0].credentials(&c, &env).unwrap();
    assert_eq!(creds.source, format!("tccli profile default ({})", tccli.display()));
    assert_eq!(keyward::config::tccli_dir(&env), Some(home.path().join(".tccli")));
}
