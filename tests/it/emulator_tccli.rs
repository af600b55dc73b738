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
