//! End-to-end through the TUI on the CAM tab: the real app driven by scripted keys against
//! the emulator's CAM (demo seed), through the real provider, planner and executor.

use crate::support::harness::Harness;
use crossterm::event::KeyCode;
use keyward::audit::{self, AuditLog};
use keyward::demo::DemoConfig;
use keyward::emulator::{self, EmulatorOptions, Seed};
use keyward::inventory::ProviderKind;
use keyward::providers::tencent::cam::DELETE_WARNING;
use keyward::queue::Outcome;
use keyward::tui::{RunOptions, Runtime};
use std::sync::Arc;

const PROD: &str = "acme-prod";
/// acme-prod's root key, the one keyward signs with.
const SIGNER: &str = "AKIDkwDEMOprod7Hq2XbN4mR8vLc1ZtY5sPe";
/// ci-deploy's older key, still Active.
const CI_OLD: &str = "AKIDkwCAMkNRBoN8sohmhJpjBPqnsYMSN2mu";

/// Filter the tab down to `id` alone, select it, and clear the filter again.
fn select_by_id(h: &mut Harness, id: &str) {
    h.press(&format!("/{id}"));
    h.key(KeyCode::Enter);
    assert_eq!(h.app().tab().view_len(), 1, "{id} alone is shown");
    h.press(" ");
    h.press("/");
    for _ in 0..id.len() {
        h.key(KeyCode::Backspace);
    }
    h.key(KeyCode::Enter);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_cam_key_on_tab_4_deletes_only_it_and_skips_keywards_own_key() {
    let seed = Seed::demo().unwrap();
    let emu = emulator::start(EmulatorOptions {
        tls: true,
        ..EmulatorOptions::new(seed.clone())
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let providers = DemoConfig::new(&emu, &seed, Some(audit_path.clone()))
        .providers()
        .unwrap();
    let opts = RunOptions {
        title: "e2e cam".into(),
        audit: Some(Arc::new(AuditLog::open(&audit_path).unwrap())),
        ..RunOptions::default()
    };
    let mut h = Harness::new(Runtime::new(providers, &opts), 160, 40);
    h.start();
    h.settle().await.unwrap();
    let before: Vec<String> = emu.state().cam_keys(PROD).into_iter().map(|k| k.id).collect();

    h.press("4");
    assert_eq!(h.app().tab().kind, ProviderKind::Cam);
    select_by_id(&mut h, SIGNER);
    select_by_id(&mut h, CI_OLD);
    assert_eq!(h.app().tab().selected_items().len(), 2);
    h.press("d");
    let screen = h.render();
    assert!(
        screen.contains("keyward is using this key for account acme-prod"),
        "{screen}"
    );
    assert!(screen.contains(&DELETE_WARNING[..40]), "{screen}");
    // One key is planned (the signer is skipped), so the count typed back is 1.
    h.press("delete 1");
    h.key(KeyCode::Enter);
    h.wait_until("the delete run to finish", |app| app.run_settled())
        .await
        .unwrap();

    let after: Vec<String> = emu.state().cam_keys(PROD).into_iter().map(|k| k.id).collect();
    let expected: Vec<String> = before.into_iter().filter(|id| id != CI_OLD).collect();
    assert_eq!(after, expected, "only the selected key is gone");
    assert_eq!(emu.state().cam_key_status(PROD, SIGNER), Some("Active"));
    let log = &h.app().log;
    assert!(
        log.iter().all(|e| e.target == CI_OLD && e.outcome == Outcome::Ok),
        "{log:?}"
    );
    // Disabled, then deleted: two calls for the one key.
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(audit::unmatched_intents(&audit_path).unwrap().is_empty());
    emu.shutdown().await;
}
