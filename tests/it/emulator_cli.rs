//! `keyward emulator` as a process: a seed file with its own fault settings, the banner
//! with the listen URL and credentials, and a signed call against it.

use crate::support::emulator::{TcCall, client, code};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const SEED: &str = r#"
[faults]
force_rate_limit = 1.0

[[tencent]]
name = "cli-test"
secret_id = "AKIDcliTestSecretId0000000000000000"
secret_key = "cliTestSecretKey000000000000000"
regions = ["ap-guangzhou"]

[[tencent.generate]]
region = "ap-guangzhou"
key_pairs = 3
"#;

/// Kills the emulator process (by its own handle) even when an assertion fails.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_command_serves_a_seed_file_with_its_faults_and_flags_override_them() {
    let dir = tempfile::tempdir().unwrap();
    let seed_path = dir.path().join("seed.toml");
    std::fs::write(&seed_path, SEED).unwrap();

    for (flags, expected) in [(vec![], "RequestLimitExceeded"), (vec!["--force-rate-limit", "0"], "")] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
            .args(["emulator", "--listen", "127.0.0.1:0", "--seed"])
            .arg(&seed_path)
            .args(&flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("keyward runs");
        let stdout = child.stdout.take().unwrap();
        let _running = Running(child);
        let mut banner = Vec::new();
        let mut url = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(u) = line.strip_prefix("keyward emulator listening on ") {
                url = Some(u.to_string());
            }
            let done = line.starts_with("Press Ctrl-C");
            banner.push(line);
            if done {
                break;
            }
        }
        let banner = banner.join("\n");
        let url = url.unwrap_or_else(|| panic!("no listen line in:\n{banner}"));
        assert!(banner.contains("export CLI_TEST_SECRET_ID=AKIDcliTestSecretId0000000000000000"));

        let mut call = TcCall::cvm("DescribeKeyPairs", json!({}));
        call.secret_id = "AKIDcliTestSecretId0000000000000000".into();
        call.secret_key = "cliTestSecretKey000000000000000".into();
        let r = call.send_to(&client(), &url).await;
        assert_eq!(code(&r), expected, "flags {flags:?}: {r}");
        if expected.is_empty() {
            assert_eq!(r["TotalCount"], 3);
        }
    }
}

/// `--listen 0.0.0.0:…` warns, and the URL it prints is one a keyward config accepts
/// (plain http only to loopback; `http://0.0.0.0:…` was refused).
#[test]
fn listening_on_every_interface_warns_and_prints_a_loopback_url() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["emulator", "--listen", "0.0.0.0:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keyward runs");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let _running = Running(child);
    let url = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("keyward emulator listening on ").map(str::to_string))
        .expect("a listen line");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let warning = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("warning"))
        .expect("a warning on stderr");
    assert!(
        warning.contains("every interface") && warning.contains(&url),
        "{warning}"
    );
    let config = format!("[[oceanbase]]\nname = \"ob\"\norg_id = \"o\"\nproject_ids = [\"p\"]\nendpoint = \"{url}\"\n");
    keyward::config::Config::parse(&config, std::path::Path::new("c.toml"), &|_| None)
        .expect("the printed URL is accepted by a config");
}

/// A cap of 0 would refuse every request: the command says so instead of serving.
#[test]
fn a_zero_account_cap_is_refused_on_the_command_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["emulator", "--listen", "127.0.0.1:0", "--uin-limit", "0"])
        .stdin(Stdio::null())
        .output()
        .expect("keyward runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--uin-limit"), "{stderr}");
}
