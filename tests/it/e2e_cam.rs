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
    let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let providers = DemoConfig::new(&emu, &seed, Some(audit_path.clone()))
        .providers()
        .await
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

/// backup-bot's only key.
const BACKUP: &str = "AKIDkwCAMDHEgZCaDZMFjt8DL7QoTr3UUdxt";
const BACKUP_UIN: u64 = 100011110104;

/// The TUI over the demo emulator with the audit log (and so the rotations file) in `dir`.
async fn session(emu: &emulator::Emulator, seed: &Seed, dir: &std::path::Path) -> Harness {
    let audit_path = dir.join("audit.jsonl");
    let providers = DemoConfig::new(emu, seed, Some(audit_path.clone()))
        .providers()
        .await
        .unwrap();
    let opts = RunOptions {
        title: "e2e cam rotation".into(),
        audit: Some(Arc::new(AuditLog::open(&audit_path).unwrap())),
        secrets_dir: Some(dir.to_path_buf()),
        ..RunOptions::default()
    };
    let mut h = Harness::new(Runtime::new(providers, &opts), 160, 40);
    h.start();
    h.settle().await.unwrap();
    h.press("4");
    // Only `id` is shown, so it is the highlighted row.
    h.press(&format!("/{BACKUP}"));
    h.key(KeyCode::Enter);
    h
}

fn stages(dir: &std::path::Path) -> Vec<(String, String, keyward::rotation::Stage)> {
    let store = keyward::rotation::RotationStore::beside(&dir.join("audit.jsonl"));
    store
        .load()
        .unwrap()
        .into_iter()
        .map(|r| (r.old_key, r.new_key, r.stage))
        .collect()
}

/// A staged rotation of backup-bot's key across a restart: `r` creates the new key (its
/// SecretKey shown masked, once), the rotation is on disk; a new session finds it, the
/// next `r` disables the old key and the one after deletes it, each confirmed; the new key
/// stays, works, and the rotations file ends empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staged_rotation_survives_a_restart_and_ends_with_the_old_key_deleted() {
    use keyward::rotation::Stage;
    let seed = Seed::demo().unwrap();
    let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = emu.state();
    let keys_of_backup = || {
        state
            .cam_keys(PROD)
            .into_iter()
            .filter(|k| k.owner_uin == BACKUP_UIN)
            .map(|k| (k.id, k.status))
            .collect::<Vec<_>>()
    };
    assert_eq!(keys_of_backup(), vec![(BACKUP.to_string(), "Active")]);

    // Session 1: step 1 creates the new key.
    let mut h = session(&emu, &seed, dir.path()).await;
    h.press("r");
    let screen = h.render();
    assert!(screen.contains("step 1 of 3"), "{screen}");
    h.press("y");
    h.wait_until("the rotation run to finish", |app| app.run_settled())
        .await
        .unwrap();
    let created = keys_of_backup();
    assert_eq!(created.len(), 2, "{created:?}\n{}\n{:?}", h.render(), h.app().log);
    let new_key = created.iter().find(|(id, _)| id != BACKUP).unwrap().0.clone();
    assert!(created.iter().all(|(_, status)| *status == "Active"));
    assert_eq!(
        stages(dir.path()),
        vec![(BACKUP.to_string(), new_key.clone(), Stage::NewKeyCreated)]
    );
    let screen = h.render();
    assert!(screen.contains(&new_key), "the new SecretId is shown: {screen}");
    drop(h);

    // Session 2: the rotation is found again; step 2 disables the old key.
    let mut h = session(&emu, &seed, dir.path()).await;
    assert!(h.render().contains("rotation: new key created"), "{}", h.render());
    h.press("r");
    let screen = h.render();
    assert!(screen.contains("UpdateAccessKey"), "{screen}");
    h.press("y");
    h.wait_until("the disable run to finish", |app| app.run_settled())
        .await
        .unwrap();
    assert_eq!(state.cam_key_status(PROD, BACKUP), Some("Inactive"));
    assert_eq!(state.cam_key_status(PROD, &new_key), Some("Active"));
    assert_eq!(
        stages(dir.path()),
        vec![(BACKUP.to_string(), new_key.clone(), Stage::OldKeyDisabled)]
    );

    // Step 3 deletes it, with the typed count a delete always asks for.
    h.press("r");
    assert!(h.render().contains(&DELETE_WARNING[..40]), "{}", h.render());
    h.press("delete 1");
    h.key(KeyCode::Enter);
    h.wait_until("the delete run to finish", |app| app.run_settled())
        .await
        .unwrap();
    assert_eq!(keys_of_backup(), vec![(new_key.clone(), "Active")]);
    assert!(stages(dir.path()).is_empty(), "the rotation is done");
    // Every step went through the audit log, and no secret did.
    let audit_text = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    for action in ["CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey"] {
        assert!(audit_text.contains(action), "{action} missing from the audit log");
    }
    assert!(
        audit::unmatched_intents(dir.path().join("audit.jsonl"))
            .unwrap()
            .is_empty()
    );
    emu.shutdown().await;
}
