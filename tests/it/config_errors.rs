//! Bad configs give one clear message: file, line, fix. Env lookups are injected maps,
//! so these tests never touch the process environment and run in parallel.

use keyward::config::{Config, ConfigError, TencentService, config_path};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name: &str| map.get(name).cloned()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/etc/keyward/config.toml"), &no_env)
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn the_example_config_is_valid_and_documents_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let cfg = Config::load(Some(&path), &no_env).unwrap();
    assert_eq!(cfg.tencent.len(), 1);
    let tc = &cfg.tencent[0];
    assert_eq!(tc.name, "prod");
    assert_eq!(tc.regions, vec!["ap-guangzhou", "ap-shanghai"]);
    assert_eq!(tc.services, vec![TencentService::ApiGateway, TencentService::Cvm]);
    assert_eq!(tc.secret_id_env.as_deref(), Some("PROD_TC_SECRET_ID"));
    assert_eq!(cfg.oceanbase[0].project_ids, vec!["your-project-id"]);
    assert_eq!(cfg.settings.timeout, Duration::from_secs(30));
    assert_eq!(cfg.settings.max_retries, 3);
}

#[test]
fn every_commented_option_in_the_example_is_accepted() {
    // Uncomment every `# key = value` line: the documented options must all parse.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let uncommented: String = text
        .lines()
        .map(|l| {
            let body = l.strip_prefix("# ").unwrap_or(l);
            let is_option = body
                .split_once(" = ")
                .is_some_and(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            if l.starts_with("# ") && is_option { body } else { l }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let cfg = parse(&uncommented).unwrap();
    let tc = &cfg.tencent[0];
    assert_eq!(tc.tccli_profile.as_deref(), Some("default"));
    assert_eq!(tc.session_token_env.as_deref(), Some("PROD_TC_SESSION_TOKEN"));
    assert_eq!(tc.cvm_endpoint.as_deref(), Some("https://cvm.tencentcloudapi.com"));
    assert_eq!(tc.cam_endpoint.as_deref(), Some("https://cam.tencentcloudapi.com"));
    assert_eq!(tc.ca_cert.as_deref(), Some(Path::new("/path/to/emulator-ca.pem")));
    let role = tc.role.as_ref().expect("role_arn is documented");
    assert_eq!(
        (role.duration_secs, role.session_name.as_str()),
        (7200, "keyward-alice")
    );
    let ob = &cfg.oceanbase[0];
    assert_eq!(ob.access_key_id_env.as_deref(), Some("OB_MAIN_ACCESS_KEY_ID"));
    assert_eq!(ob.endpoint.as_deref(), Some("https://api-cloud.oceanbase.com"));
    assert!(ob.credentials_file.is_some());
    assert!(cfg.settings.audit_log.is_some());
    assert_eq!(cfg.settings.plan_max_age_hours, 24);
    assert_eq!(cfg.protect.rules().len(), 1);
    assert_eq!(
        cfg.protect.rules()[0].kind,
        Some(keyward::inventory::ProviderKind::ApiGateway)
    );
    assert_eq!(
        cfg.settings.findings,
        keyward::findings::Thresholds::default(),
        "the example documents the defaults"
    );
}

#[test]
fn finding_thresholds_are_read_and_out_of_range_ones_name_the_line() {
    let cfg = parse("[settings]\nmax_key_age_days = 30\nexpiring_days = 3\n").unwrap();
    assert_eq!(cfg.settings.findings.max_key_age_days, 30);
    assert_eq!(cfg.settings.findings.expiring_days, 3);
    assert_eq!(cfg.settings.findings.unused_days, 90, "the others keep their defaults");
    for bad in ["unused_days = 0", "stale_disabled_days = 5000"] {
        let e = err(&format!("[settings]\ntimeout_secs = 30\n{bad}\n"));
        assert!(
            e.contains(":3") && e.contains("is out of range") && e.contains("use 1 to 3650 days"),
            "{e}"
        );
    }
}

#[test]
fn plan_max_age_is_read_and_checked() {
    assert_eq!(parse("").unwrap().settings.plan_max_age_hours, 24, "the default");
    let cfg = parse("[settings]\nplan_max_age_hours = 2\n").unwrap();
    assert_eq!(cfg.settings.plan_max_age_hours, 2);
    for bad in ["0", "721"] {
        let e = err(&format!("[settings]\nplan_max_age_hours = {bad}\n"));
        assert!(
            e.contains(":2") && e.contains("out of range") && e.contains("1 to 720"),
            "{e}"
        );
    }
}

const PROTECT_ACCOUNT: &str = "[[tencent]]\nname = \"prod\"\nregions = [\"ap-guangzhou\"]\n\n";

/// Each entry records where it is written (the plan names it) and the fields it sets.
#[test]
fn protect_entries_name_their_file_and_line() {
    let text = format!(
        "{PROTECT_ACCOUNT}[[protect]]\nid = \"skey-1\"\n\n[[protect]]\naccount = \"prod\"\nregion = \"ap-guangzhou\"\nname = \"deploy-*\"\nkind = \"cvm\"\n"
    );
    let cfg = parse(&text).unwrap();
    let rules = cfg.protect.rules();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].source, "/etc/keyward/config.toml:5");
    assert_eq!(rules[0].id.as_deref(), Some("skey-1"));
    assert_eq!(rules[1].source, "/etc/keyward/config.toml:8");
    assert_eq!(rules[1].name.as_ref().map(|n| n.text.as_str()), Some("deploy-*"));
    assert_eq!(rules[1].kind, Some(keyward::inventory::ProviderKind::Cvm));
}

/// An entry that would protect nothing (a typo'd account or region) or everything (no
/// field), or one that asks for what keyward cannot do (tags), is refused with its line.
#[test]
fn protect_entries_that_cannot_mean_what_they_say_are_refused() {
    let cases = [
        ("[[protect]]\naccount = \"prd\"\n", ":6", "not a configured account"),
        ("[[protect]]\nregion = \"ap-mars\"\n", ":6", "not a region"),
        (
            "[[protect]]\nkind = \"keys\"\n",
            ":6",
            "apigateway, cvm, oceanbase, cam",
        ),
        ("[[protect]]\ntag = \"env=prod\"\n", ":6", "tag is not supported"),
        ("[[protect]]\n", ":5", "sets nothing"),
        ("[[protect]]\nid = \"\"\n", ":6", "is empty"),
        ("[[protect]]\nowner = \"me\"\n", ":6", "unknown field"),
    ];
    for (entry, line, says) in cases {
        let e = err(&format!("{PROTECT_ACCOUNT}{entry}"));
        assert!(e.contains(line) && e.contains(says), "{entry:?}: {e}");
    }
}

#[test]
fn syntax_error_names_file_and_line() {
    let text = "[[oceanbase]]\nname = \"ob\"\norg_id = o-1\nproject_ids = [\"p\"]\n\n[settings]\n";
    let msg = err(text);
    assert!(msg.starts_with("/etc/keyward/config.toml:3:"), "{msg}");
    assert!(msg.contains("fix:"), "{msg}");
}

#[test]
fn unknown_key_is_an_error_with_its_line() {
    let text = "[[tencent]]\nname = \"prod\"\nregoins = [\"ap-guangzhou\"]\n";
    let msg = err(text);
    assert!(msg.starts_with("/etc/keyward/config.toml:3:"), "{msg}");
    assert!(msg.contains("unknown field `regoins`"), "{msg}");
    assert!(msg.contains("config.example.toml"), "{msg}");

    let msg = err("[settings]\ntimeout = 5\n");
    assert!(
        msg.starts_with("/etc/keyward/config.toml:2:") && msg.contains("`timeout`"),
        "{msg}"
    );

    let msg = err("[tencents]\n");
    assert!(msg.contains("unknown field `tencents`"), "{msg}");
}

#[test]
fn unknown_service_is_named() {
    let text = "[[tencent]]\nname = \"prod\"\nregions = [\"ap-guangzhou\"]\nservices = [\"cvm\", \"apigw\"]\n";
    let msg = err(text);
    assert!(msg.starts_with("/etc/keyward/config.toml:4:"), "{msg}");
    assert!(msg.contains("apigw") && msg.contains("apigateway"), "{msg}");
}

#[test]
fn plain_http_to_a_remote_host_is_refused_with_the_line() {
    let text =
        "[[oceanbase]]\nname = \"ob\"\norg_id = \"o\"\nproject_ids = [\"p\"]\nendpoint = \"http://10.1.2.3:8080\"\n";
    let msg = err(text);
    assert!(msg.starts_with("/etc/keyward/config.toml:5:"), "{msg}");
    assert!(msg.contains("non-loopback") && msg.contains("https://"), "{msg}");

    for ok in [
        "http://127.0.0.1:8080",
        "http://localhost:9",
        "http://[::1]:9",
        "https://example.com",
    ] {
        let text =
            format!("[[oceanbase]]\nname = \"ob\"\norg_id = \"o\"\nproject_ids = [\"p\"]\nendpoint = \"{ok}\"\n");
        assert!(parse(&text).is_ok(), "{ok} should be accepted");
    }
}

#[test]
fn semantic_errors_name_line_and_fix() {
    let msg = err("[[tencent]]\nname = \"prod\"\nregions = []\n");
    assert!(
        msg.starts_with("/etc/keyward/config.toml:3:") && msg.contains("regions is empty"),
        "{msg}"
    );

    let msg = err("[[tencent]]\nname = \"prod\"\nregions = [\"ap-guangzhou\"]\nsecret_id_env = \"A\"\n");
    assert!(msg.contains("secret_id_env is set but secret_key_env is not"), "{msg}");

    let msg = err("[[tencent]]\nname = \"a\"\nregions = [\"x\"]\n[[tencent]]\nname = \"a\"\nregions = [\"y\"]\n");
    assert!(msg.contains("second [[tencent]] account is named \"a\""), "{msg}");
    assert!(msg.starts_with("/etc/keyward/config.toml:"), "{msg}");

    let msg = err("[[oceanbase]]\nname = \"has space\"\norg_id = \"o\"\nproject_ids = [\"p\"]\n");
    assert!(msg.starts_with("/etc/keyward/config.toml:2:"), "{msg}");

    let msg = err("[settings]\ntimeout_secs = 0\n");
    assert!(
        msg.starts_with("/etc/keyward/config.toml:2:") && msg.contains("1 to 600"),
        "{msg}"
    );

    let msg = err(
        "[[oceanbase]]\nname = \"ob\"\norg_id = \"o\"\nproject_ids = [\"p\"]\naccess_key_id_env = \"sk-live-abc/def\"\naccess_key_secret_env = \"X\"\n",
    );
    assert!(msg.contains("not an environment variable name"), "{msg}");
    assert!(msg.starts_with("/etc/keyward/config.toml:5:"), "{msg}");
}

/// The audit log's rotation size: 64 MiB unless set; out of range names the line and the range.
#[test]
fn audit_max_mib_defaults_to_64_and_is_range_checked_with_its_line() {
    assert_eq!(parse("").unwrap().settings.audit_max_mib, 64);
    let cfg = parse("[settings]\naudit_max_mib = 8\n").unwrap();
    assert_eq!(cfg.settings.audit_max_bytes(), 8 * 1024 * 1024);
    for bad in ["0", "65537"] {
        let msg = err(&format!("[settings]\ntimeout_secs = 5\naudit_max_mib = {bad}\n"));
        assert!(msg.starts_with("/etc/keyward/config.toml:3:"), "{msg}");
        assert!(msg.contains(&format!("audit_max_mib = {bad} is out of range")), "{msg}");
        assert!(msg.contains("use 1 to 65536 (MiB)"), "{msg}");
    }
}

#[test]
fn missing_file_says_how_to_create_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope.toml");
    let msg = Config::load(Some(&path), &no_env).unwrap_err().to_string();
    assert!(
        msg.contains("nope.toml") && msg.contains("config.example.toml"),
        "{msg}"
    );
    assert!(msg.contains("keyward --demo"), "a newcomer learns how to try it: {msg}");
}

#[test]
fn config_path_prefers_flag_then_env_then_platform_dir() {
    let env = env_of(&[("KEYWARD_CONFIG", "/from/env.toml")]);
    assert_eq!(
        config_path(Some(Path::new("/flag.toml")), &env).unwrap(),
        PathBuf::from("/flag.toml")
    );
    assert_eq!(config_path(None, &env).unwrap(), PathBuf::from("/from/env.toml"));
    let default = config_path(None, &no_env).unwrap();
    assert!(default.ends_with("config.toml"), "{}", default.display());
    assert!(default.to_string_lossy().contains("keyward"), "{}", default.display());
}

#[test]
fn relative_and_home_paths_are_resolved() {
    let env = env_of(&[("HOME", "/home/op")]);
    let text = "[[oceanbase]]\nname = \"ob\"\norg_id = \"o\"\nproject_ids = [\"p\"]\ncredentials_file = \"~/ob.toml\"\nca_cert = \"certs/ca.pem\"\n[settings]\naudit_log = \"/var/log/kw.jsonl\"\n";
    let cfg = Config::parse(text, Path::new("/etc/keyward/config.toml"), &env).unwrap();
    let ob = &cfg.oceanbase[0];
    assert_eq!(ob.credentials_file.as_deref(), Some(Path::new("/home/op/ob.toml")));
    assert_eq!(ob.ca_cert.as_deref(), Some(Path::new("/etc/keyward/certs/ca.pem")));
    assert_eq!(
        cfg.settings.audit_log_path().unwrap(),
        PathBuf::from("/var/log/kw.jsonl")
    );
}

#[test]
fn a_truncated_config_is_either_complete_or_names_the_line() {
    // Every prefix of the example, as a crash or a full disk mid-save would leave it.
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml")).unwrap();
    let mut refused = 0;
    for (cut, _) in text.char_indices() {
        match parse(&text[..cut]) {
            Ok(_) => {}
            Err(ConfigError::Invalid { line: Some(line), .. }) => {
                assert!(line <= text[..cut].lines().count() + 1, "cut at {cut}: line {line}");
                refused += 1;
            }
            Err(e) => panic!("cut at {cut}: {e}"),
        }
    }
    assert!(refused > 0, "no truncation was refused");
    let msg = err("[[tencent]]\nname = \"prod\"\nregions = [\"ap-guang");
    assert!(msg.starts_with("/etc/keyward/config.toml:3"), "{msg}");
}

#[test]
fn a_directory_or_binary_file_as_config_says_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let msg = Config::load(Some(dir.path()), &no_env).unwrap_err().to_string();
    assert!(msg.contains("is a directory") && msg.contains("config.toml"), "{msg}");

    let binary = dir.path().join("config.toml");
    std::fs::write(&binary, b"\xff\xfe[[tencent]]\x00\x01").unwrap();
    let msg = Config::load(Some(&binary), &no_env).unwrap_err().to_string();
    assert!(msg.contains("config.toml") && msg.contains("not UTF-8"), "{msg}");
    assert!(msg.contains("fix:"), "{msg}");
}

fn keyward(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .env_remove("KEYWARD_CONFIG")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

/// The same config error exits with the same status (2) and message from `keyward list`
/// and from the TUI, which used to exit 1.
#[test]
fn a_config_error_exits_2_from_list_and_from_the_tui() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "[[tencent]]\nname = \"prod\"\nregoins = [\"x\"]\n").unwrap();
    let missing = dir.path().join("missing.toml");
    for config in [&broken, &missing] {
        let config = config.to_str().unwrap();
        let list = keyward(&["list", "--config", config]);
        let tui = keyward(&["--config", config]);
        assert_eq!(list.status.code(), Some(2), "{}", String::from_utf8_lossy(&list.stderr));
        assert_eq!(tui.status.code(), Some(2), "{}", String::from_utf8_lossy(&tui.stderr));
        assert_eq!(list.stderr, tui.stderr);
    }
}

/// Without a terminal the TUI refuses to start instead of drawing escape sequences into a
/// redirected stdout (or failing with "No such device or address").
#[test]
fn the_tui_refuses_to_start_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[[oceanbase]]\nname = \"ob\"\norg_id = \"o\"\nproject_ids = [\"p\"]\nendpoint = \"http://127.0.0.1:9\"\n\
         [settings]\naudit_log = \"audit.jsonl\"\n",
    )
    .unwrap();
    for args in [vec!["--config", config.to_str().unwrap()], vec!["--demo"]] {
        let out = keyward(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("keyward needs an interactive terminal; use `keyward list` for scripts"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty(), "nothing drawn into the redirected stdout");
    }
}

/// Options that would be silently ignored are refused: the emulator reads no config, and
/// --demo runs on its own accounts.
#[test]
fn config_is_refused_where_it_would_be_ignored() {
    for args in [
        vec!["emulator", "--config", "/etc/keyward/config.toml"],
        vec!["--demo", "--config", "/etc/keyward/config.toml"],
    ] {
        let out = keyward(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("--config") && stderr.contains("fix:"), "{stderr}");
    }
}

mod hosts_and_settings {
    use super::*;
    use keyward::providers::http::ConnectTo;
    use keyward::providers::tencent::client::Language;
    use keyward::providers::tencent::endpoint::{Access, Site};

    const ACCOUNT: &str = "[[tencent]]\nname = \"prod\"\nregions = [\"ap-guangzhou\"]\n";

    #[test]
    fn site_and_access_default_to_cn_and_regional() {
        let cfg = parse(ACCOUNT).unwrap();
        assert_eq!(
            (cfg.tencent[0].site, cfg.tencent[0].access),
            (Site::Cn, Access::Regional)
        );
        assert_eq!(cfg.settings.connect_to, None);
        assert_eq!(cfg.settings.language, Language::EnUs);
    }

    #[test]
    fn site_access_connect_to_and_language_are_read() {
        let text = format!(
            "{ACCOUNT}site = \"intl\"\naccess = \"nearest\"\n[settings]\nconnect_to = \"emulator.test:9400\"\nlanguage = \"zh-CN\"\n"
        );
        let cfg = parse(&text).unwrap();
        assert_eq!(
            (cfg.tencent[0].site, cfg.tencent[0].access),
            (Site::Intl, Access::Nearest)
        );
        assert_eq!(
            cfg.settings.connect_to,
            Some(ConnectTo {
                host: "emulator.test".into(),
                port: 9400
            })
        );
        assert_eq!(cfg.settings.language, Language::ZhCn);
        let cfg = parse("[settings]\nconnect_to = \"[::1]:443\"\n").unwrap();
        assert_eq!(cfg.settings.connect_to.unwrap().to_string(), "[::1]:443");
    }

    #[test]
    fn bad_values_name_the_line_the_choices_and_the_fix() {
        let e = err(&format!("{ACCOUNT}site = \"china\"\n"));
        assert!(e.contains("config.toml:4") && e.contains("\"china\""), "{e}");
        assert!(e.contains("\"cn\" or \"intl\""), "{e}");
        let e = err(&format!("{ACCOUNT}access = \"Regional\"\n"));
        assert!(
            e.contains("config.toml:4") && e.contains("\"regional\" or \"nearest\""),
            "{e}"
        );
        let e = err("[settings]\nlanguage = \"zh\"\n");
        assert!(
            e.contains("config.toml:2") && e.contains("\"en-US\" or \"zh-CN\""),
            "{e}"
        );
        for bad in [
            "localhost",
            "127.0.0.1:0",
            "127.0.0.1:99999",
            "::1:443",
            ":443",
            "a b:1",
            "[nope]:1",
        ] {
            let e = err(&format!("[settings]\n\nconnect_to = \"{bad}\"\n"));
            assert!(e.contains("config.toml:3") && e.contains("HOST:PORT"), "{bad}: {e}");
            assert!(e.contains("fix:"), "{e}");
        }
    }
}
