//! The diagnostics log at debug level over a real session: secret rotations (a typed
//! custom secret and a service-generated one) through the real runtime, providers and
//! in-process emulator leave the calls traced and no secret in the file.

use crate::support::harness::Harness;
use crossterm::event::KeyCode;
use keyward::app::modal::Modal;
use keyward::demo::DemoConfig;
use keyward::diagnostics;
use keyward::emulator::{self, EmulatorOptions, Seed, SeedApiKey};
use keyward::tui::{RunOptions, Runtime};

const GZ: &str = "ap-guangzhou";
const ROT_ID: &str = "AKIDlogRotTarget000000000000000000000";
const OLD_SECRET: &str = "OldSecretLogTest_000000000000";
const CUSTOM_SECRET: &str = "TypedCustomSecret_log_test_7";

/// The subscriber is the process's global default, not this thread's: with a thread's
/// default, a call site another test reaches first (on another thread, with no subscriber)
/// can keep the interest it got then, and its events never reach this file. This is the
/// one test of the binary that sets a global subscriber; later tests' events land in the
/// file too, which is harmless (they never hold a secret either).
#[tokio::test]
async fn rotations_at_debug_level_trace_the_calls_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("keyward.log");
    let file = std::fs::File::create(&log_path).unwrap();
    let subscriber = diagnostics::subscriber(diagnostics::filter(Some("debug")).unwrap(), file);
    tracing::subscriber::set_global_default(subscriber).expect("no other test sets a global subscriber");

    let mut seed = Seed::generated(1, &[GZ], 2, 2, 1);
    let account_key = seed.tencent[0].secret_key.clone();
    let ob_secret = seed.oceanbase[0].access_key_secret.clone();
    seed.tencent[0].api_keys.push(SeedApiKey {
        region: GZ.into(),
        id: ROT_ID.into(),
        secret: OLD_SECRET.into(),
        name: "log-rot-target".into(),
        key_type: "auto".into(),
        disabled: false,
        usage_plan: None,
        created: "2025-01-01T00:00:00Z".into(),
        modified: None,
    });
    let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
    let demo = DemoConfig::new(&emu, &seed, None);
    let opts = RunOptions {
        title: "diagnostics log".into(),
        secrets_dir: Some(dir.path().to_path_buf()),
        ..RunOptions::default()
    };
    let mut h = Harness::new(Runtime::new(demo.providers().await.unwrap(), &opts), 140, 40);
    h.start();
    h.settle().await.unwrap();

    // A typed custom secret: it goes out in UpdateApiKey's request body.
    h.press("1/log-rot-target");
    h.key(KeyCode::Enter);
    h.press("rc");
    h.press(CUSTOM_SECRET);
    h.key(KeyCode::Enter);
    h.press("y");
    h.wait_until("the custom rotation", |app| app.run_settled())
        .await
        .unwrap();
    assert_eq!(
        emu.state().api_key("tencent-00", GZ, ROT_ID).unwrap().secret.expose(),
        CUSTOM_SECRET
    );
    // Close the dialog (forgetting the secret), then a generated one: it comes back in the answer.
    h.key(KeyCode::Esc);
    h.press("y");
    assert!(h.app().modal.is_none());
    h.press("ray");
    h.wait_until("the generated rotation", |app| app.run.is_none() && app.log.len() == 2)
        .await
        .unwrap();
    assert!(matches!(h.app().modal, Some(Modal::RotationResult(_))));
    let generated = emu.state().api_key("tencent-00", GZ, ROT_ID).unwrap().secret;
    assert_ne!(generated.expose(), CUSTOM_SECRET);
    emu.shutdown().await;

    let log = std::fs::read_to_string(&log_path).unwrap();
    // The calls are there, at debug level, with their request ids ...
    assert!(log.contains("DEBUG"), "{log}");
    assert!(
        log.contains("action=\"UpdateApiKey\"") || log.contains("action=UpdateApiKey"),
        "{log}"
    );
    assert!(log.contains("DescribeApiKeysStatus"), "{log}");
    let request_id = h.app().log[0].request_id.clone().expect("a request id");
    assert!(log.contains(&request_id), "the rotation's request id is traced:\n{log}");
    // ... and not one secret: neither new secret, nor the old, nor the account's keys.
    for secret in [
        CUSTOM_SECRET,
        generated.expose(),
        OLD_SECRET,
        account_key.as_str(),
        ob_secret.as_str(),
    ] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
}
