//! Runs scripts/tccli-smoke.sh (the official Tencent Cloud CLI against the emulator over
//! HTTPS) when `tccli` is installed; otherwise says so and passes.

use std::path::Path;
use std::process::Command;

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

#[test]
fn tccli_lists_and_deletes_key_pairs_through_the_emulator() {
    if !on_path("tccli") {
        eprintln!("skipping tccli smoke test: tccli is not on PATH (pip install tccli to run it)");
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/tccli-smoke.sh");
    let output = Command::new("bash")
        .arg(&script)
        .env("KEYWARD", env!("CARGO_BIN_EXE_keyward"))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "tccli smoke failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stdout.contains("tccli-smoke: OK"), "{stdout}");
}

/// Kills the emulator process (by its own handle) even when an assertion fails.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The banner's tccli advice, run exactly as printed (with the demo credentials it
/// exports), lists key pairs: what the banner says is what works.
#[test]
fn the_banners_tccli_command_works_as_printed() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    if !on_path("tccli") {
        eprintln!("skipping: tccli is not on PATH (pip install tccli to run it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["emulator", "--tls", "--listen", "127.0.0.1:0", "--cert-out"])
        .arg(dir.path().join("ca.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("keyward runs");
    let stdout = child.stdout.take().unwrap();
    let _running = Running(child);
    let mut banner = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Press Ctrl-C");
        banner.push(line);
        if done {
            break;
        }
    }
    let banner = banner.join("\n");
    assert!(!banner.contains("REQUESTS_CA_BUNDLE"), "{banner}");
    let command = banner
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("PYTHONPATH=")
                .map(|rest| format!("PYTHONPATH={rest}"))
        })
        .unwrap_or_else(|| panic!("no tccli command in:\n{banner}"));
    let exports: String = banner
        .lines()
        .filter(|l| l.starts_with("export TENCENTCLOUD_SECRET_"))
        .map(|l| format!("{l}\n"))
        .collect();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!("{exports}{command} --Limit 1"))
        // The operator's own tccli profiles stay out of it.
        .env("HOME", &home)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{command} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert!(answer["TotalCount"].as_u64().unwrap_or(0) > 0, "{stdout}");
}
