//! `keyward doctor` and `keyward info` as the binary runs them, over a config file that
//! reaches the in-process HTTPS emulator by the real host names (`connect_to` + its CA),
//! in a private environment (HOME, XDG dirs and credentials of the test's own).

use keyward::emulator::{self, Emulator, EmulatorOptions, Seed};
use std::path::{Path, PathBuf};
use std::process::Output;

const TC_ID_VAR: &str = "DOCTOR_TC_ID";
const TC_KEY_VAR: &str = "DOCTOR_TC_KEY";
const GZ: &str = "ap-guangzhou";

/// The emulator, a config for its first Tencent and OceanBase accounts, and the
/// environment keyward runs in.
struct World {
    emu: Emulator,
    seed: Seed,
    dir: tempfile::TempDir,
    config: PathBuf,
    env: Vec<(String, String)>,
}

impl World {
    /// `extra_tencent`: more `[[tencent]]` text; `settings`: more `[settings]` lines.
    async fn new(extra_tencent: &str, settings: &str) -> World {
        let seed = Seed::demo().unwrap();
        let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, emu.ca_cert_pem.as_ref().unwrap()).unwrap();
        let ob = &seed.oceanbase_accounts()[0];
        let ob_file = dir.path().join("ob.toml");
        std::fs::write(
            &ob_file,
            format!(
                "access_key_id = \"{}\"\naccess_key_secret = \"{}\"\n",
                ob.access_key_id, ob.access_key_secret
            ),
        )
        .unwrap();
        chmod(&ob_file, 0o600);
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[[tencent]]
name = "prod"
regions = ["{GZ}"]
services = ["apigateway", "cvm", "cam"]
secret_id_env = "{TC_ID_VAR}"
secret_key_env = "{TC_KEY_VAR}"
ca_cert = "{ca}"
{extra_tencent}
[[oceanbase]]
name = "ai"
org_id = "{org}"
project_ids = ["{project}"]
credentials_file = "{ob_file}"
ca_cert = "{ca}"

[settings]
connect_to = "{addr}"
audit_log = "{audit}"
{settings}
"#,
                ca = ca.display(),
                org = ob.org_id,
                project = ob.project_ids[0],
                ob_file = ob_file.display(),
                addr = emu.addr,
                audit = dir.path().join("data/audit.jsonl").display(),
            ),
        )
        .unwrap();
        let tc = &seed.tencent_accounts()[0];
        let home = dir.path().join("home");
        std::fs::create_dir(&home).unwrap();
        let env = vec![
            (TC_ID_VAR.into(), tc.secret_id.clone()),
            (TC_KEY_VAR.into(), tc.secret_key.clone()),
            ("HOME".into(), home.display().to_string()),
            ("XDG_STATE_HOME".into(), dir.path().join("state").display().to_string()),
            ("XDG_DATA_HOME".into(), dir.path().join("data").display().to_string()),
            (
                "XDG_CONFIG_HOME".into(),
                dir.path().join("config").display().to_string(),
            ),
        ];
        World {
            emu,
            seed,
            dir,
            config,
            env,
        }
    }

    fn set_env(&mut self, name: &str, value: &str) {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.into(), value.into()));
    }

    /// `keyward <args> --config <config>` in the world's environment only.
    async fn keyward(&self, args: &[&str]) -> Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_keyward"))
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .await
            .expect("keyward runs")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn chmod(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The check lines (not the fix lines under them).
fn checks(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.starts_with(' ')).collect()
}

/// The line of the check whose name starts with `name`, and the fix line under it.
fn check<'a>(text: &'a str, name: &str) -> (&'a str, Option<&'a str>) {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.get(5..).is_some_and(|rest| rest.starts_with(name)))
        .unwrap_or_else(|| panic!("no check {name} in:\n{text}"));
    let fix = lines.get(at + 1).and_then(|l| l.trim().strip_prefix("fix: "));
    (lines[at], fix)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_working_setup_passes_every_check_with_one_read_per_account_and_service() {
    let world = World::new("", "").await;
    let out = world.keyward(&["doctor"]).await;
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(checks(&text).iter().all(|l| l.starts_with("PASS ")), "{text}");
    let project = &world.seed.oceanbase_accounts()[0].project_ids[0];
    for name in [
        "config".to_string(),
        "credential file oceanbase \"ai\"".into(),
        format!("credentials tencent \"prod\": from env vars {TC_ID_VAR} and {TC_KEY_VAR}"),
        "credentials oceanbase \"ai\": from credentials file".into(),
        "endpoint https://apigateway.ap-guangzhou.tencentcloudapi.com: answered HTTP".into(),
        "endpoint https://cvm.ap-guangzhou.tencentcloudapi.com".into(),
        "endpoint https://cam.tencentcloudapi.com".into(),
        "endpoint https://api-cloud.oceanbase.com".into(),
        "clock: the local clock agrees".into(),
        format!("read tencent \"prod\" apigateway {GZ}: answered (RequestId "),
        format!("read tencent \"prod\" cvm {GZ}: answered"),
        "read tencent \"prod\" cam".into(),
        format!("read oceanbase \"ai\" oceanbase {project}: answered"),
    ] {
        check(&text, &name);
    }
    assert_eq!(
        text.lines().filter(|l| l.contains(" read ")).count(),
        4,
        "one read per account and service:\n{text}"
    );
    world.emu.shutdown().await;
}

/// A wrong SecretKey, a credential file others can read and an endpoint nobody listens
/// on: each fails with its fix, the refused credential's fix naming where it came from,
/// and the exit status is 1. No secret is printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_say_what_is_wrong_and_the_fix_names_the_credential_source() {
    // A port nothing listens on: bound, then released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let staging = format!(
        r#"
[[tencent]]
name = "staging"
regions = ["{GZ}"]
services = ["cvm"]
secret_id_env = "{TC_ID_VAR}"
secret_key_env = "{TC_KEY_VAR}"
cvm_endpoint = "http://{closed}"
"#
    );
    let mut world = World::new(&staging, "max_retries = 0").await;
    world.set_env(TC_KEY_VAR, "WrongSecretKeyForDoctor0000000000");
    chmod(&world.path("ob.toml"), 0o644);
    let out = world.keyward(&["doctor"]).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");

    let (line, fix) = check(&text, &format!("read tencent \"prod\" cvm {GZ}"));
    assert!(
        line.starts_with("FAIL ") && line.contains("AuthFailure.SignatureFailure"),
        "{text}"
    );
    let fix = fix.expect("a fix under the failure");
    assert!(
        fix.contains(&format!("env vars {TC_ID_VAR} and {TC_KEY_VAR}")),
        "the fix names the credential source: {fix}"
    );

    let (line, fix) = check(&text, "credential file oceanbase \"ai\"");
    assert!(
        line.starts_with("FAIL ") && line.contains("readable by group or others"),
        "{text}"
    );
    assert_eq!(
        fix,
        Some(format!("chmod 600 {}", world.path("ob.toml").display()).as_str())
    );
    let (line, _) = check(&text, "credentials oceanbase \"ai\"");
    assert!(line.starts_with("FAIL "), "{text}");
    assert!(!text.contains("read oceanbase"), "no read without credentials:\n{text}");

    let (line, fix) = check(&text, &format!("endpoint http://{closed}"));
    assert!(line.starts_with("FAIL ") && line.contains("cannot connect"), "{text}");
    assert!(fix.is_some_and(|f| f.contains("could not reach")), "{text}");
    check(&text, "endpoint https://cvm.ap-guangzhou.tencentcloudapi.com")
        .0
        .starts_with("PASS ");

    for (_, secret) in [
        (0, world.seed.tencent_accounts()[0].secret_key.as_str()),
        (1, "WrongSecretKeyForDoctor0000000000"),
        (2, world.seed.oceanbase_accounts()[0].access_key_secret.as_str()),
    ] {
        assert!(!text.contains(secret), "a secret was printed:\n{text}");
    }
    world.emu.shutdown().await;
}

/// A server clock ten minutes ahead: the clock check fails (signatures expire past 5
/// minutes) and the reads' fix says to sync the clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_ten_minutes_off_fails_the_clock_check() {
    let world = World::new("", "max_retries = 0").await;
    world.emu.state().set_clock_offset(chrono::TimeDelta::minutes(10));
    let out = world.keyward(&["doctor"]).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let (line, fix) = check(&text, "clock");
    // The Date header's whole seconds leave half a second either way.
    let ten_minutes = ["9 min 59 s behind", "10 min behind", "10 min 1 s behind"];
    assert!(
        line.starts_with("FAIL ") && ten_minutes.iter().any(|t| line.contains(t)),
        "{text}"
    );
    assert!(fix.is_some_and(|f| f.contains("sync the clock")), "{text}");
    let (line, fix) = check(&text, &format!("read tencent \"prod\" cvm {GZ}"));
    assert!(line.contains("AuthFailure.SignatureExpire"), "{text}");
    let fix = fix.expect("a fix");
    assert!(
        fix.contains("clock") && !fix.contains("credentials come from"),
        "{text}"
    );
    world.emu.shutdown().await;
}

/// The doctor's run at KEYWARD_LOG=debug writes its calls to --log-file, and no secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_diagnostics_log_of_a_run_has_its_calls_and_no_secret() {
    let mut world = World::new("", "").await;
    world.set_env("KEYWARD_LOG", "debug");
    let log = world.path("diag/keyward.log");
    let out = world.keyward(&["--log-file", log.to_str().unwrap(), "doctor"]).await;
    assert!(out.status.success(), "{}", stdout(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("diagnostics log at {}", log.display())),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("DescribeKeyPairs") && text.contains("Tencent call answered"),
        "{text}"
    );
    assert!(text.contains("OceanBase call answered"), "{text}");
    let tc = &world.seed.tencent_accounts()[0];
    let ob = &world.seed.oceanbase_accounts()[0];
    for secret in [tc.secret_key.as_str(), ob.access_key_secret.as_str()] {
        assert!(!text.contains(secret), "a secret is in the log:\n{text}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&log).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the log is private");
    }
    world.emu.shutdown().await;
}

/// Every path, each account with its credential source, and never a secret: not the env
/// var's, not the credential file's, not tccli's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_prints_every_path_and_each_accounts_source_and_no_secret() {
    let from_tccli = "\n[[tencent]]\nname = \"legacy\"\nregions = [\"ap-guangzhou\"]\ntccli_profile = \"ops\"\n";
    let world = World::new(from_tccli, "").await;
    let tccli = world.path("home/.tccli");
    std::fs::create_dir(&tccli).unwrap();
    let tccli_secret = "TccliProfileSecretKey000000000";
    let tccli_file = tccli.join("ops.credential");
    std::fs::write(
        &tccli_file,
        format!("{{\"secretId\": \"AKIDtccliOps0000000000000000000000\", \"secretKey\": \"{tccli_secret}\"}}"),
    )
    .unwrap();
    chmod(&tccli_file, 0o600);
    let out = world.keyward(&["info"]).await;
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    let expect = [
        format!("config file: {} (exists)", world.config.display()),
        format!(
            "audit log:   {} (not there yet)",
            world.path("data/audit.jsonl").display()
        ),
        format!("rotations:   {}", world.path("data/rotations.json").display()),
        format!("state dir:   {}", world.path("state/keyward").display()),
        format!(
            "log file:    {} (off: set KEYWARD_LOG=debug",
            world.path("state/keyward/keyward.log").display()
        ),
        format!("tccli dir:   {} (exists)", tccli.display()),
        format!(
            "tencent \"prod\": regions {GZ}; services apigateway, cvm, cam; credentials from env vars {TC_ID_VAR} and {TC_KEY_VAR}"
        ),
        format!(
            "tencent \"legacy\": regions {GZ}; services apigateway, cvm; credentials from tccli profile ops ({})",
            tccli_file.display()
        ),
        format!("credentials from credentials file {}", world.path("ob.toml").display()),
    ];
    for line in expect {
        assert!(text.contains(&line), "missing {line:?} in:\n{text}");
    }
    let tc = &world.seed.tencent_accounts()[0];
    let ob = &world.seed.oceanbase_accounts()[0];
    for secret in [tc.secret_key.as_str(), ob.access_key_secret.as_str(), tccli_secret] {
        assert!(!text.contains(secret), "a secret was printed:\n{text}");
    }
    world.emu.shutdown().await;
}
