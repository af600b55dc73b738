//! End-to-end: the real app (`tui::Runtime` + `Harness`) driven by scripted keys against
//! the in-process emulator, through the real providers (`demo::DemoConfig` ->
//! `registry::build`), the real queue and a real audit log in a temp dir. Assertions are
//! on the emulator's state, the app's log pane, the audit file and the rendered screen.

use crate::support::harness::Harness;
use crossterm::event::KeyCode;
use keyward::app::LoadState;
use keyward::app::modal::Modal;
use keyward::audit::{self, AuditLog};
use keyward::demo::DemoConfig;
use keyward::emulator::{
    self, ApiKeyRecord, Emulator, EmulatorOptions, EmulatorState, Faults, KeyPairRecord, ObKeyRecord, Seed, SeedApiKey,
    SeedKeyPair,
};
use keyward::inventory::ProviderKind;
use keyward::queue::{LogEntry, Outcome};
use keyward::tui::{RunOptions, Runtime};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

const GZ: &str = "ap-guangzhou";
const SH: &str = "ap-shanghai";
/// The account `Seed::generated` names first.
const ACCOUNT: &str = "tencent-00";

/// A generated inventory (bound and free pairs, enabled, disabled and usage-plan-bound keys
/// in two regions, MaaS keys) plus `extra_pairs` free key pairs named `e2e_batch_NNN` in
/// ap-guangzhou, which the filter `e2e_batch` isolates, and a handful of API keys named
/// `e2e-gw-*` in ap-guangzhou: three enabled, one enabled but bound to a usage plan, one
/// disabled, and `e2e-rot-target` for rotation.
fn seed(extra_pairs: usize) -> Seed {
    let mut seed = Seed::generated(1, &[GZ, SH], 40, 25, 8);
    let account = &mut seed.tencent[0];
    for i in 0..extra_pairs {
        account.key_pairs.push(SeedKeyPair {
            region: GZ.into(),
            id: format!("skey-e2e{i:05}"),
            name: format!("e2e_batch_{i:03}"),
            project_id: 0,
            description: String::new(),
            public_key: None,
            instances: Vec::new(),
            images: Vec::new(),
            created: "2025-01-01T00:00:00Z".into(),
        });
    }
    account.api_keys.extend([
        seed_api_key("gwA", "e2e-gw-alpha", false, None),
        seed_api_key("gwB", "e2e-gw-beta", false, None),
        seed_api_key("gwC", "e2e-gw-gamma", false, None),
        seed_api_key("gwP", "e2e-gw-planned", false, Some("usagePlan-e2e00001")),
        seed_api_key("gwD", "e2e-gw-dormant", true, None),
        seed_api_key("rot", "e2e-rot-target", false, None),
    ]);
    seed
}

/// An API key in ap-guangzhou with a made-up old secret.
fn seed_api_key(tag: &str, name: &str, disabled: bool, usage_plan: Option<&str>) -> SeedApiKey {
    SeedApiKey {
        region: GZ.into(),
        id: gw_id(tag),
        secret: format!("oldSecret{tag}0000000000000000"),
        name: name.into(),
        key_type: "auto".into(),
        disabled,
        usage_plan: usage_plan.map(str::to_string),
        created: "2025-01-01T00:00:00Z".into(),
        modified: None,
    }
}

/// Id of the seed's `e2e-*` API key with this tag.
fn gw_id(tag: &str) -> String {
    format!("AKIDe2e{tag}0000000000000000000000000")
}

/// Every record the emulator holds, per (account, region/project), to compare whole
/// worlds before and after a run.
#[derive(Debug, Clone, PartialEq)]
struct World {
    api_keys: BTreeMap<(String, String), Vec<ApiKeyRecord>>,
    key_pairs: BTreeMap<(String, String), Vec<KeyPairRecord>>,
    ob_keys: BTreeMap<(String, String), Vec<ObKeyRecord>>,
}

fn world(state: &EmulatorState, seed: &Seed) -> World {
    let mut w = World {
        api_keys: BTreeMap::new(),
        key_pairs: BTreeMap::new(),
        ob_keys: BTreeMap::new(),
    };
    for a in seed.tencent_accounts() {
        for r in &a.regions {
            let at = (a.name.clone(), r.clone());
            w.api_keys.insert(at.clone(), state.api_keys(&a.name, r));
            w.key_pairs.insert(at, state.key_pairs(&a.name, r));
        }
    }
    for a in seed.oceanbase_accounts() {
        for p in &a.project_ids {
            w.ob_keys.insert((a.name.clone(), p.clone()), state.ob_keys(&a.name, p));
        }
    }
    w
}

struct Env {
    emu: Emulator,
    seed: Seed,
    harness: Harness,
    audit_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Env {
    fn state(&self) -> EmulatorState {
        self.emu.state()
    }

    fn world(&self) -> World {
        world(&self.emu.state(), &self.seed)
    }

    fn audit_text(&self) -> String {
        std::fs::read_to_string(&self.audit_path).unwrap_or_default()
    }

    fn audit_records(&self, kind: &str) -> Vec<serde_json::Value> {
        audit::read_entries(&self.audit_path)
            .unwrap()
            .into_iter()
            .filter(|e| e["type"] == kind)
            .collect()
    }
}

/// Emulator for `seed`, the demo config over it (changed by `tweak`), the runtime with a
/// real audit log, started and settled (every listing came back).
async fn start(seed: Seed, opts: RunOptions, tweak: impl FnOnce(&mut DemoConfig)) -> Env {
    start_sized(seed, opts, tweak, 140, 40).await
}

/// `start` on a screen of `width` x `height`; new-secret files go to the temp dir.
async fn start_sized(
    seed: Seed,
    opts: RunOptions,
    tweak: impl FnOnce(&mut DemoConfig),
    width: u16,
    height: u16,
) -> Env {
    let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let mut demo = DemoConfig::new(&emu, &seed, Some(audit_path.clone()));
    tweak(&mut demo);
    let providers = demo.providers().await.unwrap();
    let opts = RunOptions {
        title: "e2e (emulator)".into(),
        audit: Some(Arc::new(AuditLog::open(&audit_path).unwrap())),
        secrets_dir: Some(dir.path().to_path_buf()),
        ..opts
    };
    let mut harness = Harness::new(Runtime::new(providers, &opts), width, height);
    harness.start();
    harness.settle().await.unwrap();
    Env {
        emu,
        seed,
        harness,
        audit_path,
        _dir: dir,
    }
}

/// Tab `tab`, filter `filter`, select every row it shows; returns the selected ids.
fn select_filtered(h: &mut Harness, tab: char, filter: &str) -> BTreeSet<String> {
    h.press(&format!("{tab}/{filter}"));
    h.key(KeyCode::Enter);
    h.press("a");
    h.app()
        .tab()
        .selected_items()
        .iter()
        .map(|i| i.key.id.to_string())
        .collect()
}

fn ids_of(entries: &[LogEntry]) -> BTreeSet<String> {
    entries.iter().map(|e| e.target.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_150_filtered_key_pairs_removes_exactly_those_and_logs_each() {
    let mut env = start(seed(150), RunOptions::default(), |_| {}).await;
    let before = env.world();
    let h = &mut env.harness;

    let selected = select_filtered(h, '2', "e2e_batch");
    assert_eq!(selected.len(), 150, "the filter isolates the 150 e2e pairs");
    assert!(selected.iter().all(|id| id.starts_with("skey-e2e")));
    assert!(
        h.app().tab().len() > 150,
        "other key pairs are listed too (and must survive)"
    );

    // A wrong count is refused, and Esc then sends nothing.
    let requests = env.emu.state().request_count();
    h.press("d");
    h.press("delete 149");
    h.key(KeyCode::Enter);
    assert!(h.app().run.is_none(), "a wrong typed count starts nothing");
    assert!(
        h.render().contains("type `delete 150` exactly to confirm"),
        "{}",
        h.render()
    );
    h.key(KeyCode::Esc);
    assert!(h.app().modal.is_none());
    assert_eq!(
        env.emu.state().request_count(),
        requests,
        "nothing reached the emulator"
    );
    assert_eq!(env.world(), before);

    // The right count runs the plan.
    let h = &mut env.harness;
    assert_eq!(
        h.app().tab().selected_count(),
        150,
        "Esc on the dialog kept the selection"
    );
    h.press("d");
    h.press("delete 150");
    h.key(KeyCode::Enter);
    assert!(h.app().run.is_some());
    h.wait_until("the delete run to finish", |app| app.run_settled())
        .await
        .unwrap();

    // Exactly the 150 are gone; every other record of every kind is untouched.
    let mut expected = before.clone();
    expected
        .key_pairs
        .get_mut(&(ACCOUNT.to_string(), GZ.to_string()))
        .unwrap()
        .retain(|k| !selected.contains(&k.id));
    assert_eq!(env.world(), expected);

    // One log entry per item, each with the RequestId of its DeleteKeyPairs batch.
    let h = &mut env.harness;
    let log = &h.app().log;
    assert_eq!(log.len(), 150);
    assert_eq!(ids_of(log), selected);
    assert!(
        log.iter()
            .all(|e| e.action == "DeleteKeyPairs" && e.outcome == Outcome::Ok)
    );
    let request_ids: BTreeSet<String> = log.iter().filter_map(|e| e.request_id.clone()).collect();
    assert!(
        log.iter()
            .all(|e| e.request_id.as_deref().is_some_and(|r| !r.is_empty()))
    );
    assert_eq!(
        request_ids.len(),
        2,
        "two batches of at most 100 ids, one RequestId each"
    );
    let summary = h.app().last_run.clone().unwrap();
    assert_eq!(
        (summary.ok, summary.failed, summary.not_sent, summary.cancelled),
        (150, 0, 0, false)
    );
    assert_eq!(h.app().tab().view_len(), 0, "the re-read table no longer has them");
    assert_eq!(h.app().tab().selected_count(), 0);

    let screen = h.render();
    assert!(
        screen.contains("delete finished: 150 ok, 0 failed, 0 not sent"),
        "{screen}"
    );
    assert!(screen.contains("log: 150 lines"), "{screen}");
    assert!(
        screen.contains("RequestId="),
        "the log pane shows RequestIds:\n{screen}"
    );

    // The audit log: an intent and an outcome for both calls, covering exactly the 150.
    assert!(audit::unmatched_intents(&env.audit_path).unwrap().is_empty());
    let intents = env.audit_records("intent");
    let outcomes = env.audit_records("outcome");
    assert_eq!((intents.len(), outcomes.len()), (2, 2));
    let intent_ids: BTreeSet<String> = intents
        .iter()
        .flat_map(|i| i["ids"].as_array().unwrap().iter())
        .map(|id| id.as_str().unwrap().to_string())
        .collect();
    assert_eq!(intent_ids, selected);
    let audited_request_ids: BTreeSet<String> = outcomes
        .iter()
        .flat_map(|o| o["items"].as_array().unwrap().iter())
        .map(|item| {
            assert_eq!(item["result"], "ok", "{item}");
            item["request_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(audited_request_ids, request_ids);
    env.emu.shutdown().await;
}

/// A key bound to a usage plan is seen as bound (DescribeUsagePlansStatus +
/// DescribeUsagePlanSecretIds), so the plan skips it instead of disabling it before a
/// delete that cannot succeed; the other keys are disabled then deleted, the already
/// disabled one only deleted, each call with its own RequestId.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_delete_disables_then_deletes_and_skips_the_usage_plan_bound_key() {
    let mut env = start(seed(0), RunOptions::default(), |_| {}).await;
    let before = env.world();
    let h = &mut env.harness;
    let selected = select_filtered(h, '1', "e2e-gw");
    assert_eq!(selected.len(), 5);
    let (bound, dormant) = (gw_id("gwP"), gw_id("gwD"));
    let enabled: BTreeSet<String> = ["gwA", "gwB", "gwC"].into_iter().map(gw_id).collect();
    assert!(selected.contains(&bound));
    let screen = h.render();
    assert!(
        screen.contains("usage plan"),
        "the bindings column shows the plan:\n{screen}"
    );

    h.press("d");
    let screen = h.render();
    assert!(screen.contains("confirm: delete 4 item(s) in 7 call(s)"), "{screen}");
    assert!(screen.contains("disable then delete"), "{screen}");
    assert!(screen.contains("unbind first"), "the skipped key and why:\n{screen}");
    h.press("delete 4");
    h.key(KeyCode::Enter);
    h.wait_until("the delete run to finish", |app| app.run_settled())
        .await
        .unwrap();

    let state = env.state();
    let untouched = state
        .api_key(ACCOUNT, GZ, &bound)
        .expect("the bound key is still there");
    assert!(untouched.enabled, "the bound key was never disabled");
    for id in enabled.iter().chain([&dormant]) {
        assert!(state.api_key(ACCOUNT, GZ, id).is_none(), "{id} deleted");
    }
    let mut expected = before.clone();
    expected
        .api_keys
        .get_mut(&(ACCOUNT.to_string(), GZ.to_string()))
        .unwrap()
        .retain(|k| !enabled.contains(&k.id) && k.id != dormant);
    assert_eq!(env.world(), expected, "nothing else changed");

    let h = &mut env.harness;
    let log = &h.app().log;
    assert_eq!(log.len(), 7);
    let request_ids: BTreeSet<&str> = log.iter().filter_map(|e| e.request_id.as_deref()).collect();
    assert_eq!(request_ids.len(), 7, "one request per API key call");
    let actions = |id: &str| -> Vec<(&str, bool)> {
        log.iter()
            .filter(|e| e.target == id)
            .map(|e| (e.action.as_str(), e.outcome == Outcome::Ok))
            .collect()
    };
    for id in &enabled {
        assert_eq!(actions(id), [("DisableApiKey", true), ("DeleteApiKey", true)], "{id}");
    }
    assert_eq!(actions(&dormant), [("DeleteApiKey", true)]);
    assert!(actions(&bound).is_empty(), "nothing was sent for the bound key");

    let summary = h.app().last_run.clone().unwrap();
    assert_eq!((summary.ok, summary.failed, summary.not_sent), (4, 0, 0));
    assert!(audit::unmatched_intents(&env.audit_path).unwrap().is_empty());
    assert_eq!(env.audit_records("intent").len(), 7);
    assert_eq!(env.audit_records("outcome").len(), 7);
    env.emu.shutdown().await;
}

/// `c` in the middle of a real run: calls already sent finish and are logged and
/// audited, the rest are not sent, and the log matches what the emulator holds per key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_run_leaves_the_emulator_exactly_as_the_log_says() {
    let mut seed = seed(0);
    // 60 enabled keys: 120 calls, and DisableApiKey is limited to 20 requests a second,
    // so most of the run is still ahead when the first result arrives.
    let bulk: Vec<String> = (0..60).map(|i| format!("bk{i:02}")).collect();
    seed.tencent[0].api_keys.extend(
        bulk.iter()
            .map(|tag| seed_api_key(tag, &format!("e2e-bulk-{tag}"), false, None)),
    );
    let mut env = start(seed, RunOptions::default(), |_| {}).await;
    env.state().set_faults(Faults {
        latency: Duration::from_millis(50),
        ..Faults::default()
    });
    let h = &mut env.harness;
    assert_eq!(select_filtered(h, '1', "e2e-bulk").len(), 60);
    h.press("d");
    h.press("delete 60");
    h.key(KeyCode::Enter);
    h.wait_until("the first result", |app| !app.log.is_empty())
        .await
        .unwrap();
    h.press("c");
    h.wait_until("the cancelled run to end", |app| app.run_settled())
        .await
        .unwrap();

    let summary = h.app().last_run.clone().unwrap();
    assert!(summary.cancelled);
    assert!(summary.not_sent > 0, "{summary:?}");
    assert_eq!(summary.ok + summary.failed + summary.not_sent, 60);
    let state = env.state();
    let log = &env.harness.app().log;
    for tag in &bulk {
        let id = gw_id(tag);
        let outcome = |action: &str| {
            log.iter()
                .find(|e| e.target == id && e.action == action)
                .map(|e| e.outcome.clone())
        };
        let (disable, delete) = (outcome("DisableApiKey"), outcome("DeleteApiKey"));
        let held = state.api_key(ACCOUNT, GZ, &id);
        match (&disable, &delete) {
            (Some(Outcome::Ok), Some(Outcome::Ok)) => assert!(held.is_none(), "{id} deleted"),
            (Some(Outcome::Ok), Some(Outcome::NotSent)) => {
                assert!(held.is_some_and(|k| !k.enabled), "{id} disabled, not deleted")
            }
            (Some(Outcome::NotSent), Some(Outcome::NotSent)) => {
                assert!(held.is_some_and(|k| k.enabled), "{id} untouched")
            }
            other => panic!("{id}: unexpected outcomes {other:?}"),
        }
    }
    assert!(
        audit::unmatched_intents(&env.audit_path).unwrap().is_empty(),
        "every call that was sent has its outcome"
    );
    env.emu.shutdown().await;
}

/// A region's whole set of key pairs, bound ones included: the service keeps those bound
/// to an instance or image, and the log says "kept" for each, with the RequestId.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_key_pairs_keeps_the_bound_ones_and_says_so_per_item() {
    let mut env = start(seed(0), RunOptions::default(), |_| {}).await;
    let pairs = env.state().key_pairs(ACCOUNT, SH);
    let bound: BTreeSet<String> = pairs.iter().filter(|k| k.is_bound()).map(|k| k.id.clone()).collect();
    let free: BTreeSet<String> = pairs.iter().filter(|k| !k.is_bound()).map(|k| k.id.clone()).collect();
    assert!(!bound.is_empty() && !free.is_empty(), "the generated seed has both");
    let before = env.world();
    let h = &mut env.harness;
    let selected = select_filtered(h, '2', SH);
    assert_eq!(selected, &bound | &free, "the region filter selects all of its pairs");
    h.press("d");
    let screen = h.render();
    assert!(
        screen.contains("the service will"),
        "the plan warns (the line may wrap before \"keep it\"):\n{screen}"
    );
    h.press(&format!("delete {}", pairs.len()));
    h.key(KeyCode::Enter);
    h.wait_until("the delete run to finish", |app| app.run_settled())
        .await
        .unwrap();

    let left: BTreeSet<String> = env.state().key_pair_ids(ACCOUNT, SH).into_iter().collect();
    assert_eq!(left, bound, "exactly the bound pairs are left");
    let mut expected = before.clone();
    expected
        .key_pairs
        .get_mut(&(ACCOUNT.to_string(), SH.to_string()))
        .unwrap()
        .retain(|k| k.is_bound());
    assert_eq!(env.world(), expected);

    let log = &env.harness.app().log;
    assert_eq!(ids_of(log), selected);
    for e in log {
        assert!(e.request_id.is_some(), "{e:?}");
        if bound.contains(&e.target) {
            assert!(matches!(e.outcome, Outcome::Kept { .. }), "{e:?}");
        } else {
            assert_eq!(e.outcome, Outcome::Ok, "{e:?}");
        }
    }
    let screen = env.harness.render();
    assert!(screen.contains("kept ("), "{screen}");
    let status = env
        .harness
        .app()
        .last_run
        .as_ref()
        .map(|s| s.text())
        .unwrap_or_default();
    assert!(
        status.contains(&format!(
            "{} ok, {} kept by the service",
            selected.len() - bound.len(),
            bound.len()
        )),
        "{status}"
    );
    let audited: Vec<String> = env
        .audit_records("outcome")
        .iter()
        .flat_map(|o| o["items"].as_array().unwrap().clone())
        .filter(|i| i["result"] == "kept")
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(audited.into_iter().collect::<BTreeSet<_>>(), bound);
    env.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_a_key_pair_reaches_the_emulator_and_the_table() {
    let mut env = start(seed(3), RunOptions::default(), |_| {}).await;
    let h = &mut env.harness;
    h.press("2/e2e_batch_001");
    h.key(KeyCode::Enter);
    assert_eq!(h.app().tab().view_len(), 1);
    h.press("n");
    for _ in 0.."e2e_batch_001".len() {
        h.key(KeyCode::Backspace);
    }
    h.press("renamed_by_e2e");
    h.key(KeyCode::Enter);
    assert!(h.render().contains("rename to renamed_by_e2e"));
    h.press("y");
    h.wait_until("the rename to finish", |app| app.run_settled())
        .await
        .unwrap();

    let pair = env.state().key_pair(ACCOUNT, GZ, "skey-e2e00001").unwrap();
    assert_eq!(pair.name, "renamed_by_e2e");
    let h = &mut env.harness;
    let log = &h.app().log;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "ModifyKeyPairAttribute");
    assert!(
        log[0].outcome == Outcome::Ok && log[0].request_id.is_some(),
        "{:?}",
        log[0]
    );
    let shown = h
        .app()
        .tab()
        .items()
        .iter()
        .find(|i| i.key.id == "skey-e2e00001")
        .unwrap();
    assert_eq!(shown.name, "renamed_by_e2e", "the re-read table shows the new name");
    let intents = env.audit_records("intent");
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0]["name"], "renamed_by_e2e");
    env.emu.shutdown().await;
}

/// OceanBase through HTTP Digest: one DELETE per key, each with its own RequestId.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_oceanbase_keys_through_the_tui() {
    let mut env = start(seed(0), RunOptions::default(), |_| {}).await;
    let before = env.world();
    let h = &mut env.harness;
    h.press("3");
    assert_eq!(h.app().tab().len(), 8);
    // Space on the first three rows.
    h.press("   ");
    let selected: BTreeSet<String> = h
        .app()
        .tab()
        .selected_items()
        .iter()
        .map(|i| i.key.id.to_string())
        .collect();
    assert_eq!(selected.len(), 3);
    h.press("d");
    h.press("delete 3");
    h.key(KeyCode::Enter);
    h.wait_until("the delete run to finish", |app| app.run_settled())
        .await
        .unwrap();

    let mut expected = before.clone();
    expected
        .ob_keys
        .get_mut(&("oceanbase-00".to_string(), "proj-00".to_string()))
        .unwrap()
        .retain(|k| !selected.contains(&k.id));
    assert_eq!(env.world(), expected);
    let log = &env.harness.app().log;
    assert_eq!(ids_of(log), selected);
    assert!(log.iter().all(|e| e.outcome == Outcome::Ok));
    let request_ids: BTreeSet<&str> = log.iter().filter_map(|e| e.request_id.as_deref()).collect();
    assert_eq!(request_ids.len(), 3, "{log:?}");
    assert_eq!(env.harness.app().tab().len(), 5);
    assert!(audit::unmatched_intents(&env.audit_path).unwrap().is_empty());
    env.emu.shutdown().await;
}

/// The service answers 503 to every call of a run: nothing is retried blindly (a delete
/// may have applied), each item shows the code, RequestId and advice, the audit log says
/// the result is unknown, and the table keeps showing the items.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_service_during_a_run_is_reported_per_item_as_unknown() {
    let mut env = start(seed(5), RunOptions::default(), |_| {}).await;
    let before = env.world();
    env.state().set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let requests = env.state().request_count();
    let h = &mut env.harness;
    let selected = select_filtered(h, '2', "e2e_batch");
    assert_eq!(selected.len(), 5);
    h.press("d");
    h.press("delete 5");
    h.key(KeyCode::Enter);
    h.wait_until("the delete run to finish", |app| app.run_settled())
        .await
        .unwrap();

    assert_eq!(env.world(), before, "an injected 503 changes nothing");
    assert!(env.state().request_count() > requests, "the delete was sent");
    let h = &mut env.harness;
    let summary = h.app().last_run.clone().unwrap();
    assert_eq!(
        (summary.ok, summary.failed, summary.unknown),
        (0, 0, 5),
        "may have been done: unknown, not failed"
    );
    let log = &h.app().log;
    assert_eq!(ids_of(log), selected);
    for e in log {
        assert!(
            matches!(&e.outcome, Outcome::Unknown { code, .. } if code == "InternalError"),
            "{e:?}"
        );
        let line = keyward::app::run::log_line(e);
        assert!(line.contains("UNKNOWN (no answer: it may have taken effect)"), "{line}");
        assert!(e.request_id.is_some(), "{e:?}");
        assert!(
            e.hint
                .as_deref()
                .is_some_and(|h| h.contains("may or may not have taken effect")),
            "{e:?}"
        );
    }
    assert_eq!(h.app().tab().view_len(), 5, "the table still shows the pairs");
    let screen = h.render();
    assert!(
        screen
            .contains("delete finished: 0 ok, 0 failed, 5 unknown (may have been done), 0 not sent (see the log pane)"),
        "{screen}"
    );
    let results: Vec<String> = env
        .audit_records("outcome")
        .iter()
        .flat_map(|o| o["items"].as_array().unwrap().clone())
        .map(|i| i["result"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(results, ["unknown"; 5]);
    assert!(audit::unmatched_intents(&env.audit_path).unwrap().is_empty());
    env.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_with_a_typed_custom_secret_stores_it_and_never_shows_or_logs_it() {
    let mut env = start(seed(0), RunOptions::default(), |_| {}).await;
    let target = gw_id("rot");
    let old = env.state().api_key(ACCOUNT, GZ, &target).unwrap().secret;
    let secret = "TypedCustomSecret_e2e_42";
    let h = &mut env.harness;

    h.press("1/e2e-rot-target");
    h.key(KeyCode::Enter);
    assert_eq!(
        h.app().tab().highlighted().map(|i| i.key.id.as_str()),
        Some(target.as_str())
    );
    h.press("rc");
    h.press(secret);
    let screen = h.render();
    assert!(!screen.contains(secret), "{screen}");
    assert!(
        screen.contains(&format!("> {}█", "*".repeat(secret.len()))),
        "one star per typed character:\n{screen}"
    );
    h.key(KeyCode::Enter);
    assert!(matches!(h.app().modal, Some(Modal::Confirm(_))));
    let screen = h.render();
    assert!(screen.contains("rotate (custom secret)"), "{screen}");
    assert!(!screen.contains(secret), "{screen}");
    h.press("y");
    h.wait_until("the rotation to finish", |app| app.run_settled())
        .await
        .unwrap();

    let stored = env.state().api_key(ACCOUNT, GZ, &target).unwrap().secret;
    assert_eq!(stored.expose(), secret, "the emulator holds the typed secret");
    assert_ne!(stored.expose(), old.expose(), "the old secret no longer matches");

    let h = &mut env.harness;
    let Some(Modal::RotationResult(result)) = &h.app().modal else {
        panic!("the rotation dialog is open: {:?}", h.app().modal);
    };
    assert_eq!(result.secrets.len(), 1);
    assert_eq!(result.showing, None);
    let screen = h.render();
    assert!(screen.contains("new secrets: 1"), "{screen}");
    assert!(screen.contains("********"), "shown masked:\n{screen}");
    assert!(!screen.contains(secret), "{screen}");

    let log = &h.app().log;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "UpdateApiKey");
    assert!(log[0].request_id.is_some());
    assert!(!format!("{log:?}").contains(secret), "not in the log pane entries");
    assert!(
        !format!("{:?}", h.app().modal).contains(secret),
        "Debug of the dialog masks it"
    );
    let audited = env.audit_text();
    assert!(audited.contains("\"custom_secret\":true"), "{audited}");
    assert!(!audited.contains(secret), "not in the audit log");

    // Again with a service-generated secret: it reaches the dialog only.
    let h = &mut env.harness;
    h.key(KeyCode::Esc);
    assert!(h.render().contains("forget it? y/N"), "{}", h.render());
    h.press("y");
    assert!(h.app().modal.is_none());
    h.press("ray");
    h.wait_until("the second rotation to finish", |app| {
        app.run.is_none() && app.log.len() == 2
    })
    .await
    .unwrap();
    let generated = env.state().api_key(ACCOUNT, GZ, &target).unwrap().secret;
    assert_ne!(generated.expose(), secret);
    let h = &mut env.harness;
    let Some(Modal::RotationResult(result)) = &h.app().modal else {
        panic!("the rotation dialog is open: {:?}", h.app().modal);
    };
    assert_eq!(result.secrets[0].secret.expose(), generated.expose());
    assert!(!h.render().contains(generated.expose()));
    h.press("v");
    assert!(h.render().contains(generated.expose()), "v reveals it");
    assert!(!format!("{:?}", h.app().log).contains(generated.expose()));
    assert!(!env.audit_text().contains(generated.expose()));
    assert!(audit::unmatched_intents(&env.audit_path).unwrap().is_empty());
    env.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_logs_every_item_and_sends_nothing_to_the_emulator() {
    let dry = RunOptions {
        dry_run: true,
        ..RunOptions::default()
    };
    let mut env = start(seed(150), dry, |_| {}).await;
    let before = env.world();
    let requests = env.state().request_count();
    let h = &mut env.harness;
    let selected = select_filtered(h, '2', "e2e_batch");
    h.press("d");
    h.press("delete 150");
    h.key(KeyCode::Enter);
    h.wait_until("the dry run to finish", |app| app.run_settled())
        .await
        .unwrap();
    // API keys too: disable-then-delete planned (the usage-plan bound key skipped), nothing sent.
    select_filtered(h, '1', "e2e-gw");
    h.press("d");
    h.press("delete 4");
    h.key(KeyCode::Enter);
    h.wait_until("the second dry run to finish", |app| {
        app.run.is_none() && app.log.len() == 150 + 7
    })
    .await
    .unwrap();

    assert_eq!(
        env.state().request_count(),
        requests,
        "no request at all, not even a re-read"
    );
    assert_eq!(env.world(), before);
    let h = &mut env.harness;
    let log = &h.app().log;
    assert!(
        log.iter()
            .all(|e| e.outcome == Outcome::DryRun && e.request_id.is_none())
    );
    assert_eq!(ids_of(&log[..150]), selected);
    assert!(h.app().last_run.as_ref().is_some_and(|r| r.dry_run));
    assert!(h.render().contains("DRY RUN"));
    let intents = env.audit_records("intent");
    assert!(!intents.is_empty() && intents.iter().all(|i| i["dry_run"] == true));
    assert!(audit::unmatched_intents(&env.audit_path).unwrap().is_empty());
    env.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_every_mutating_key_and_sends_nothing() {
    let read_only = RunOptions {
        read_only: true,
        ..RunOptions::default()
    };
    let mut env = start(seed(150), read_only, |_| {}).await;
    let before = env.world();
    let requests = env.state().request_count();
    let h = &mut env.harness;
    select_filtered(h, '2', "e2e_batch");
    for script in ["d", "n"] {
        h.press(script);
        h.key(KeyCode::Enter);
        assert!(h.app().modal.is_none() && h.app().run.is_none(), "{script}");
    }
    select_filtered(h, '1', "e2e-gw");
    for script in ["d", "x", "e", "ra", "rc"] {
        h.press(script);
        assert!(h.app().modal.is_none() && h.app().run.is_none(), "{script}");
    }
    let screen = h.render();
    assert!(screen.contains("READ-ONLY"), "{screen}");
    assert!(screen.contains("read-only mode: action disabled"), "{screen}");
    assert_eq!(env.state().request_count(), requests);
    assert_eq!(env.world(), before);
    assert!(env.harness.app().log.is_empty());
    assert!(env.audit_records("intent").is_empty());
    env.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_region_shows_its_error_with_request_id_while_others_load() {
    // tencent-00 lists a region its emulator account lacks; tencent-01 has a wrong key.
    let seed = Seed::generated(2, &[GZ], 12, 9, 4);
    let env = start(seed, RunOptions::default(), |demo| {
        demo.config.tencent[0].regions.push("ap-tokyo".into());
        demo.env.insert(
            "KEYWARD_DEMO_TC1_KEY".into(),
            "notTheRightSecretKey0000000000000".into(),
        );
    })
    .await;
    let mut h = env.harness;
    let app = h.app();
    let failed = |kind, account: &str, region: &str| {
        app.sources
            .iter()
            .find(|s| s.scope.kind == kind && s.scope.account == account && s.scope.region == region)
            .and_then(|s| match &s.state {
                LoadState::Failed(e) => Some(e.clone()),
                _ => None,
            })
    };
    let gw_region = failed(ProviderKind::ApiGateway, ACCOUNT, "ap-tokyo").expect("ap-tokyo failed");
    assert_eq!(gw_region.code, "InvalidParameterValue.InvalidRegion");
    let cvm_region = failed(ProviderKind::Cvm, ACCOUNT, "ap-tokyo").expect("ap-tokyo failed");
    assert_eq!(cvm_region.code, "UnsupportedRegion");
    let gw_auth = failed(ProviderKind::ApiGateway, "tencent-01", GZ).expect("wrong key failed");
    assert_eq!(gw_auth.code, "AuthFailure.SignatureFailure");
    for e in [&gw_region, &cvm_region, &gw_auth] {
        assert!(e.request_id.as_deref().is_some_and(|r| !r.is_empty()), "{e:?}");
    }
    let loaded: Vec<_> = app
        .sources
        .iter()
        .filter(|s| matches!(s.state, LoadState::Loaded(_)))
        .map(|s| (s.scope.kind, s.scope.account.as_str(), s.scope.region.as_str()))
        .collect();
    assert_eq!(
        loaded,
        [
            (ProviderKind::ApiGateway, ACCOUNT, GZ),
            (ProviderKind::Cvm, ACCOUNT, GZ),
            (ProviderKind::Cam, ACCOUNT, keyward::providers::tencent::cam::GLOBAL),
            (ProviderKind::OceanBase, "oceanbase-00", "proj-00"),
        ]
    );
    let state = env.emu.state();
    assert_eq!(app.tabs[0].len(), state.api_key_ids(ACCOUNT, GZ).len());
    assert_eq!(app.tabs[1].len(), state.key_pair_ids(ACCOUNT, GZ).len());

    // Each failure is in the log pane in full (code, RequestId, message, hint); the tabs
    // and the loading line count them.
    let lines: Vec<String> = h.app().log.iter().map(keyward::app::run::log_line).collect();
    let has = |scope: &str, code: &str, rid: &str| {
        lines
            .iter()
            .any(|l| l.contains(&format!("{scope} list (all keys) FAILED RequestId={rid} {code}: ")))
    };
    assert!(
        has(
            &format!("apigateway {ACCOUNT}/ap-tokyo"),
            "InvalidParameterValue.InvalidRegion",
            gw_region.request_id.as_deref().unwrap()
        ),
        "{lines:#?}"
    );
    assert!(
        has(
            &format!("apigateway tencent-01/{GZ}"),
            "AuthFailure.SignatureFailure",
            gw_auth.request_id.as_deref().unwrap()
        ),
        "{lines:#?}"
    );
    assert!(
        has(
            &format!("cvm {ACCOUNT}/ap-tokyo"),
            "UnsupportedRegion",
            cvm_region.request_id.as_deref().unwrap()
        ),
        "{lines:#?}"
    );
    let screen = h.render();
    assert!(screen.contains("e2e (emulator)"));
    assert!(screen.contains("API Gateway keys (9, 2 failed"), "{screen}");
    assert!(
        screen.contains("2 of 3 failed (f lists them by error, L the log pane)"),
        "{screen}"
    );
    env.emu.shutdown().await;
}

/// The main screen of `keyward --demo` after loading, as text. With
/// `KEYWARD_WRITE_SCREENSHOT=1` it is written to assets/demo-screenshot.txt (the README's
/// screenshot); otherwise only checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_screenshot() {
    let seed = Seed::demo().unwrap();
    let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
    let providers = DemoConfig::new(&emu, &seed, None).providers().await.unwrap();
    let opts = RunOptions {
        // Not the emulator's URL: its port changes every run.
        title: "demo (emulator on 127.0.0.1)".into(),
        ..RunOptions::default()
    };
    let mut h = Harness::new(Runtime::new(providers, &opts), 140, 40);
    h.start();
    h.settle().await.unwrap();
    // The cursor stays on the row it was on when the first listing arrived (which
    // listing is first varies): Home puts it on the first row, as an operator would.
    h.press("g");
    h.render();
    let buffer = h.backend().buffer();
    let width = usize::from(buffer.area.width);
    let text: String = buffer
        .content
        .chunks(width)
        .map(|row| {
            let line: String = row.iter().map(|c| c.symbol()).collect();
            format!("{}\n", line.trim_end())
        })
        .collect();

    let api_keys: usize = seed.tencent_accounts().iter().map(|a| a.api_keys.len()).sum();
    let key_pairs: usize = seed.tencent_accounts().iter().map(|a| a.key_pairs.len()).sum();
    let ob_keys: usize = seed.oceanbase_accounts().iter().map(|a| a.keys.len()).sum();
    for tab in [
        format!("1 API Gateway keys ({api_keys}"),
        format!("2 CVM key pairs ({key_pairs}"),
        format!("3 OceanBase MaaS keys ({ob_keys}"),
        format!("API Gateway keys: {api_keys} items"),
    ] {
        assert!(text.contains(&tab), "{tab}:\n{text}");
    }
    assert!(!text.contains("failed"), "{text}");
    assert!(!text.contains("loading"), "{text}");

    if std::env::var("KEYWARD_WRITE_SCREENSHOT").as_deref() == Ok("1") {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/demo-screenshot.txt");
        std::fs::write(&path, &text).unwrap();
    }
    emu.shutdown().await;
}

// ---------------------------------------------------------------------------------------
// The safety model (issue 8): nothing irreversible one keystroke away.

/// Put the app back on the table with nothing selected, filtered or open (a person
/// pressing Esc a few times).
fn back_to_table(h: &mut Harness) {
    for _ in 0..5 {
        if let Some(Modal::RotationResult(_)) = h.app().modal {
            panic!("a rotation happened: {:?}", h.app().log);
        }
        h.key(KeyCode::Esc);
    }
    assert!(h.app().modal.is_none() && h.app().filter_input.is_none());
    assert_eq!(h.app().tab().selected_count(), 0);
}

/// Each state a paste or a key burst can land in, reached by a person's keys.
fn enter_state(h: &mut Harness, state: &str) {
    match state {
        "table" => h.press("1"),
        "cvm table" => h.press("2"),
        "log pane" => h.press("1L"),
        "filter input" => h.press("1/"),
        "help" => h.press("1?"),
        "rotate choice" => {
            h.press("1/e2e-gw");
            h.key(KeyCode::Enter);
            h.press("ar");
        }
        "typed confirmation" => {
            h.press("1/e2e-gw");
            h.key(KeyCode::Enter);
            h.press("ax");
        }
        "y confirmation" => {
            h.press("1/e2e-gw-alpha");
            h.key(KeyCode::Enter);
            h.press("e");
        }
        "custom secret input" => {
            h.press("1/e2e-rot-target");
            h.key(KeyCode::Enter);
            h.press("rc");
        }
        "rename input" => {
            h.press("2/e2e_batch_000");
            h.key(KeyCode::Enter);
            h.press("n");
        }
        other => panic!("unknown state {other}"),
    }
}

const STATES: &[&str] = &[
    "table",
    "cvm table",
    "log pane",
    "filter input",
    "help",
    "rotate choice",
    "typed confirmation",
    "y confirmation",
    "custom secret input",
    "rename input",
];
const WORDS: &[&str] = &["array", "galaxy", "easy", "hey", "xy", "array\n", "delete 5\n"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pasted_words_in_every_state_send_nothing_bracketed_or_as_a_key_burst() {
    let mut env = start(seed(3), RunOptions::default(), |_| {}).await;
    let before = env.world();
    let requests = env.emu.state().request_count();
    let h = &mut env.harness;
    for state in STATES {
        for word in WORDS {
            for bracketed in [true, false] {
                enter_state(h, state);
                if bracketed {
                    h.paste(word);
                } else {
                    h.burst(word);
                }
                assert!(
                    h.app().run.is_none(),
                    "{word:?} {} in {state} started a run",
                    if bracketed { "pasted" } else { "as a burst" }
                );
                back_to_table(h);
            }
        }
    }
    assert!(h.app().log.is_empty(), "{:?}", h.app().log);
    assert_eq!(
        env.emu.state().request_count(),
        requests,
        "no request reached the emulator"
    );
    assert_eq!(env.world(), before);
    assert!(env.audit_records("intent").is_empty());
    env.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paste_is_text_in_a_text_input_and_ignored_with_a_notice_elsewhere() {
    let mut env = start(seed(0), RunOptions::default(), |_| {}).await;
    let h = &mut env.harness;
    h.press("1");
    h.paste("array");
    assert_eq!(h.app().tab().selected_count(), 0);
    assert!(h.render().contains("paste ignored"), "{}", h.render());

    h.press("/");
    h.paste("e2e-gw-al\npha");
    assert_eq!(
        h.app().filter_input.as_deref(),
        Some("e2e-gw-alpha"),
        "newlines dropped, text kept"
    );
    h.key(KeyCode::Enter);
    assert_eq!(h.app().tab().view_len(), 1);

    // The typed count cannot be pasted.
    h.press("/");
    h.ctrl('u');
    h.press("e2e-gw");
    h.key(KeyCode::Enter);
    h.press("ad");
    h.paste("delete 4");
    let Some(Modal::Confirm(confirm)) = &h.app().modal else {
        panic!("the delete confirmation is open");
    };
    assert_eq!(confirm.typed, "");
    assert!(h.render().contains("typed, not pasted"), "{}", h.render());
    h.key(KeyCode::Esc);
    env.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_burst_never_confirms_but_the_same_text_typed_does() {
    let mut env = start(seed(3), RunOptions::default(), |_| {}).await;
    let h = &mut env.harness;
    let selected = select_filtered(h, '2', "e2e_batch");
    assert_eq!(selected.len(), 3);
    h.press("d");
    // Right after the dialog opened, even typed keys are ignored.
    h.advance(Duration::ZERO);
    h.burst("delete 3\n");
    assert!(h.app().run.is_none());
    // After the operator read the dialog, a burst still does not confirm.
    h.advance(Duration::from_secs(2));
    h.burst("delete 3\n");
    assert!(h.app().run.is_none());
    assert!(matches!(h.app().modal, Some(Modal::Confirm(_))));
    // Typed at a person's pace, it does.
    h.press("delete 3");
    h.key(KeyCode::Enter);
    assert!(h.app().run.is_some());
    h.wait_until("the delete", |app| app.run_settled()).await.unwrap();
    let left: Vec<_> = env
        .state()
        .key_pairs(ACCOUNT, GZ)
        .into_iter()
        .filter(|k| selected.contains(&k.id))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    env.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_rotate_and_disable_need_the_count_typed_a_single_rotation_takes_y() {
    let mut env = start(seed(0), RunOptions::default(), |_| {}).await;
    let h = &mut env.harness;
    assert_eq!(select_filtered(h, '1', "e2e-gw").len(), 5);
    for (keys, expected) in [("x", "disable 4"), ("ra", "rotate 5")] {
        h.press(keys);
        let Some(Modal::Confirm(confirm)) = &h.app().modal else {
            panic!("{keys}: a confirmation opens");
        };
        assert_eq!(confirm.expected.as_deref(), Some(expected), "{keys}");
        h.press("y");
        h.key(KeyCode::Enter);
        assert!(h.app().run.is_none(), "{keys}: y does not confirm a bulk {expected}");
        h.key(KeyCode::Esc);
    }
    // Enable stays `y`.
    h.press("e");
    let Some(Modal::Confirm(confirm)) = &h.app().modal else {
        panic!("enable confirmation");
    };
    assert_eq!(confirm.expected, None);
    h.key(KeyCode::Esc);
    back_to_table(h);

    // One key: `y`, with focus on Cancel (Enter cancels).
    h.press("1/e2e-rot-target");
    h.key(KeyCode::Enter);
    h.press("ra");
    let Some(Modal::Confirm(confirm)) = &h.app().modal else {
        panic!("single rotation confirmation");
    };
    assert_eq!(confirm.expected, None);
    assert_eq!(confirm.focus, keyward::app::modal::Button::Cancel);
    h.key(KeyCode::Enter);
    assert!(
        h.app().modal.is_none() && h.app().run.is_none(),
        "Enter on Cancel cancels"
    );
    env.emu.shutdown().await;
}

/// Rotate `n` keys named `e2e-many-NN` and wait for the run; returns the env.
async fn rotated(n: usize, width: u16, height: u16) -> Env {
    let mut seed = seed(0);
    seed.tencent[0]
        .api_keys
        .extend((0..n).map(|i| seed_api_key(&format!("m{i:02}"), &format!("e2e-many-{i:02}"), false, None)));
    let mut env = start_sized(seed, RunOptions::default(), |_| {}, width, height).await;
    let h = &mut env.harness;
    assert_eq!(select_filtered(h, '1', "e2e-many").len(), n);
    h.press("ra");
    h.press(&format!("rotate {n}"));
    h.key(KeyCode::Enter);
    h.wait_until("the rotation", |app| app.run_settled()).await.unwrap();
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_secret_dialog_survives_enter_and_q_scrolls_and_asks_before_forgetting() {
    for (w, hgt) in [(80, 24), (160, 45)] {
        let mut env = rotated(30, w, hgt).await;
        let h = &mut env.harness;
        let Some(Modal::RotationResult(result)) = &h.app().modal else {
            panic!("the new-secret dialog is open");
        };
        assert_eq!(result.secrets.len(), 30);
        for key in [KeyCode::Enter, KeyCode::Char('q'), KeyCode::Char('c')] {
            h.key(key);
            assert!(
                matches!(h.app().modal, Some(Modal::RotationResult(_))),
                "{key:?} closed it"
            );
        }
        // Scroll to the last entry (secrets arrive in completion order): its name and
        // id are on screen, the first entry's are not.
        h.press("G");
        let (last, first) = match &h.app().modal {
            Some(Modal::RotationResult(r)) => (r.secrets[29].clone(), r.secrets[0].clone()),
            _ => unreachable!(),
        };
        let screen = h.render();
        assert!(screen.contains(&last.name), "{w}x{hgt}:\n{screen}");
        assert!(screen.contains(last.key.id.as_str()), "{w}x{hgt}:\n{screen}");
        let Some(Modal::RotationResult(r)) = &h.app().modal else {
            unreachable!()
        };
        assert!(r.offset.get() > 0, "{w}x{hgt}: the window scrolled to the cursor");
        // v reveals the highlighted secret only.
        h.press("v");
        let stored = last.secret;
        let other = env.state().api_key(ACCOUNT, GZ, &first.key.id).unwrap().secret;
        let h = &mut env.harness;
        let screen = h.render();
        assert!(screen.contains(stored.expose()), "{screen}");
        assert!(!screen.contains(other.expose()), "{screen}");
        // Esc asks, n goes back, y forgets.
        h.key(KeyCode::Esc);
        assert!(
            h.render()
                .contains("29 new secrets were not copied, revealed or written: forget them? y/N"),
            "{}",
            h.render()
        );
        h.press("n");
        assert!(matches!(h.app().modal, Some(Modal::RotationResult(_))));
        h.key(KeyCode::Esc);
        h.press("y");
        assert!(h.app().modal.is_none());
        env.emu.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w_writes_every_new_secret_to_a_new_mode_600_file_and_then_esc_closes() {
    use std::os::unix::fs::PermissionsExt;
    let mut env = rotated(3, 140, 40).await;
    let h = &mut env.harness;
    h.press("w");
    h.wait_until("the secrets file", |app| {
        app.flash.as_ref().is_some_and(|f| f.text.contains("written to"))
    })
    .await
    .unwrap();
    let files: Vec<_> = std::fs::read_dir(env._dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("keyward-new-secrets-")
        })
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    for i in 0..3 {
        let stored = env
            .state()
            .api_key(ACCOUNT, GZ, &gw_id(&format!("m{i:02}")))
            .unwrap()
            .secret;
        assert!(text.contains(stored.expose()), "secret {i} is in the file");
        assert!(text.contains(&format!("e2e-many-{i:02}")));
    }
    assert!(
        !env.audit_text()
            .contains(&text.lines().nth(2).unwrap().rsplit('\t').next().unwrap().to_string()),
        "the audit log holds no secret"
    );
    // Everything was kept: Esc closes without asking.
    let h = &mut env.harness;
    h.key(KeyCode::Esc);
    assert!(h.app().modal.is_none());
    env.emu.shutdown().await;
}

#[test]
fn the_secrets_file_is_never_an_existing_file_or_a_symlink() {
    use keyward::app::modal::RotatedSecret;
    let dir = tempfile::tempdir().unwrap();
    let key = keyward::inventory::Scope::new(ProviderKind::ApiGateway, "a", GZ).key("AKIDx");
    let secrets = vec![RotatedSecret::new(
        key,
        "n".into(),
        "req".into(),
        "s3cretValue_1".into(),
    )];
    let first = keyward::tui::write_secrets_file(dir.path(), &secrets).unwrap();
    // A name that exists (here: a symlink planted at the next name) is refused, not followed.
    let target = dir.path().join("target");
    std::fs::write(&target, "keep").unwrap();
    let planted = first.with_file_name("planted");
    std::os::unix::fs::symlink(&target, &planted).unwrap();
    let err = std::fs::OpenOptions::new().write(true).create_new(true).open(&planted);
    assert!(err.is_err(), "create_new refuses a symlink");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c_cancels_a_bulk_rotation_while_the_secret_dialog_is_open() {
    let mut seed = seed(0);
    seed.tencent[0]
        .api_keys
        .extend((0..40).map(|i| seed_api_key(&format!("c{i:02}"), &format!("e2e-slow-{i:02}"), false, None)));
    let mut env = start(seed, RunOptions::default(), |_| {}).await;
    env.state().set_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let h = &mut env.harness;
    assert_eq!(select_filtered(h, '1', "e2e-slow").len(), 40);
    h.press("ra");
    h.press("rotate 40");
    h.key(KeyCode::Enter);
    h.wait_until("the first new secret", |app| {
        matches!(app.modal, Some(Modal::RotationResult(_)))
    })
    .await
    .unwrap();
    assert!(
        h.render().contains("c cancel run"),
        "the footer names the cancel key:\n{}",
        h.render()
    );
    h.advance(Duration::from_secs(1));
    h.press("c");
    assert!(
        h.app().run.as_ref().is_some_and(|r| r.cancelling),
        "c cancels, it does not copy"
    );
    assert!(h.clipboard_bytes().is_empty());
    h.wait_until("the cancelled run", |app| app.run_settled())
        .await
        .unwrap();
    let summary = h.app().last_run.clone().unwrap();
    assert!(summary.cancelled && summary.not_sent > 0, "{summary:?}");
    assert!(
        matches!(h.app().modal, Some(Modal::RotationResult(_))),
        "the secrets are still shown"
    );
    env.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_summary_stays_and_a_cancelled_delete_offers_to_enable_the_keys_it_left_disabled() {
    let mut seed = seed(0);
    seed.tencent[0]
        .api_keys
        .extend((0..40).map(|i| seed_api_key(&format!("d{i:02}"), &format!("e2e-left-{i:02}"), false, None)));
    let mut env = start(seed, RunOptions::default(), |_| {}).await;
    // DeleteApiKey fails for every key: each key the run disabled stays disabled.
    env.state().set_faults(Faults {
        latency: Duration::from_millis(20),
        ..Faults::default()
    });
    let h = &mut env.harness;
    assert_eq!(select_filtered(h, '1', "e2e-left").len(), 40);
    h.press("d");
    h.press("delete 40");
    h.key(KeyCode::Enter);
    h.wait_until("the first disable", |app| {
        app.log.iter().any(|e| e.action == "DisableApiKey")
    })
    .await
    .unwrap();
    h.press("c");
    h.wait_until("the cancelled run", |app| app.run_settled())
        .await
        .unwrap();
    let state = env.state();
    let left: BTreeSet<String> = (0..40)
        .map(|i| gw_id(&format!("d{i:02}")))
        .filter(|id| state.api_key(ACCOUNT, GZ, id).is_some_and(|k| !k.enabled))
        .collect();
    let h = &mut env.harness;
    let summary = h.app().last_run.clone().unwrap();
    assert_eq!(summary.left_disabled, left.len(), "{summary:?}");
    if left.is_empty() {
        // Every disabled key was also deleted before the cancel took effect.
        env.emu.shutdown().await;
        return;
    }
    // The summary outlives the flash timeout.
    for _ in 0..100 {
        h.send(keyward::app::Msg::Tick);
    }
    let screen = h.render();
    assert!(screen.contains("left disabled (E plans enabling"), "{screen}");
    h.press("E");
    let Some(Modal::Confirm(confirm)) = &h.app().modal else {
        panic!("E opens the enable plan");
    };
    let planned: BTreeSet<String> = confirm.plan.calls.iter().flat_map(|c| c.ids.clone()).collect();
    assert_eq!(planned, left, "exactly the keys left disabled");
    h.press("y");
    h.wait_until("the re-enable", |app| app.run_settled()).await.unwrap();
    let state = env.state();
    assert!(
        left.iter()
            .all(|id| state.api_key(ACCOUNT, GZ, id).is_some_and(|k| k.enabled))
    );
    env.emu.shutdown().await;
}

/// Account-global key pairs (the emulator's `key_pairs_global`: every region answers with
/// the same KeyIds): one row each showing its regions, `delete 6` for six rows (not 18),
/// one DeleteKeyPairs sent through the first region, and after the re-read of every region
/// none of them is listed anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_global_key_pairs_are_one_row_each_and_deleted_with_one_call() {
    const BJ: &str = "ap-beijing";
    let mut seed = Seed::generated(1, &[GZ, SH, BJ], 0, 0, 0).with_key_pairs_global();
    for i in 0..6 {
        seed.tencent[0].key_pairs.push(SeedKeyPair {
            region: GZ.into(),
            id: format!("skey-glob{i:04}"),
            name: format!("global_{i}"),
            project_id: 0,
            description: String::new(),
            public_key: None,
            instances: Vec::new(),
            images: Vec::new(),
            created: "2025-01-01T00:00:00Z".into(),
        });
    }
    let mut env = start(seed, RunOptions::default(), |_| {}).await;
    let state = env.emu.state();
    for region in [GZ, SH, BJ] {
        assert_eq!(state.key_pairs(ACCOUNT, region).len(), 6, "{region} lists the one set");
    }
    let h = &mut env.harness;
    h.press("2");
    assert_eq!(h.app().tab().len(), 6, "one row per pair, not one per region");
    assert!(h.render().contains("ap-guangzhou +2"), "{}", h.render());

    let deletes_before = state.action_count("DeleteKeyPairs");
    h.press("a");
    h.press("d");
    h.press("delete 6");
    h.key(KeyCode::Enter);
    assert!(h.app().run.is_some(), "six rows confirm with `delete 6`");
    h.wait_until("the delete run to finish", |app| app.run_settled())
        .await
        .unwrap();

    assert_eq!(state.action_count("DeleteKeyPairs") - deletes_before, 1);
    for region in [GZ, SH, BJ] {
        assert!(state.key_pairs(ACCOUNT, region).is_empty(), "{region}");
    }
    let h = &mut env.harness;
    assert_eq!(h.app().tab().len(), 0, "every region's re-read dropped the rows");
    let log = &h.app().log;
    assert_eq!(log.len(), 6);
    assert!(log.iter().all(|e| e.outcome == Outcome::Ok && e.scope.region == GZ));
    let intents = env.audit_records("intent");
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0]["region"], GZ, "{}", intents[0]);
    env.emu.shutdown().await;
}

/// Which keys need action, end to end: `finding:old status:enabled` keeps exactly the
/// enabled API keys created more than 90 days ago (counted here from the emulator's own
/// records), `a` selects them, and `x` shows the plan that would disable each; Esc sends
/// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtering_old_enabled_keys_selects_exactly_those_and_plans_their_disable() {
    let mut env = start(seed(0), RunOptions::default(), |_| {}).await;
    let now = chrono::Utc::now();
    let mut old = BTreeSet::new();
    let mut fresh_enabled = 0;
    for region in [GZ, SH] {
        for key in env.state().api_keys(ACCOUNT, region) {
            let created = chrono::DateTime::parse_from_rfc3339(&key.created).unwrap();
            let age = now.signed_duration_since(created);
            if key.enabled && age > chrono::TimeDelta::days(90) {
                old.insert(key.id);
            } else if key.enabled {
                fresh_enabled += 1;
            }
        }
    }
    assert!(
        !old.is_empty() && fresh_enabled > 0,
        "the seed has old and fresh enabled keys"
    );
    let before = env.world();
    let h = &mut env.harness;
    let selected = select_filtered(h, '1', "finding:old status:enabled");
    assert_eq!(selected, old);
    h.press("x");
    let screen = h.render();
    assert!(
        screen.contains(&format!("confirm: disable {} item(s)", old.len())),
        "{screen}"
    );
    h.key(KeyCode::Esc);
    assert!(h.app().modal.is_none(), "Esc cancels the plan");
    assert_eq!(env.world(), before, "nothing was sent");
    env.emu.shutdown().await;
}

/// The queue across tabs (issue 14): `+d` stages three key pairs for deletion, `+x` two API
/// keys for disabling, `Q` shows all five by intent and `-` takes one pair off; Enter shows
/// the one plan, typed as `run 4`, and the run sends exactly those calls, as one run in the
/// audit log. The queue is empty after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_across_tabs_runs_as_one_plan_with_one_typed_confirmation() {
    let mut env = start(seed(3), RunOptions::default(), |_| {}).await;
    let before = env.world();
    let h = &mut env.harness;
    let pairs = select_filtered(h, '2', "e2e_batch");
    assert_eq!(pairs.len(), 3);
    h.press("+d");
    assert_eq!(h.app().staged.len(), 3);
    assert_eq!(h.app().tab().selected_count(), 0, "staging clears the selection");
    h.key(KeyCode::Esc);
    let keys = select_filtered(h, '1', "e2e-gw-alpha");
    assert_eq!(keys.len(), 1);
    h.press("+x");
    h.key(KeyCode::Esc);
    let more = select_filtered(h, '1', "e2e-gw-beta");
    h.press("+x");
    assert_eq!(h.app().staged.len(), 5);
    h.press("Q");
    let screen = h.render();
    assert!(screen.contains("queue: 5 key(s), 2 intent(s)"), "{screen}");
    assert!(screen.contains("delete   cvm"), "{screen}");
    assert!(screen.contains("disable  apigateway"), "{screen}");
    // The first staged key pair leaves the queue.
    let dropped = h.app().staged.items()[0].key.id.to_string();
    h.press("-");
    assert_eq!(h.app().staged.len(), 4);
    h.key(KeyCode::Enter);
    let screen = h.render();
    assert!(screen.contains("confirm: run 4 item(s)"), "{screen}");
    assert!(screen.contains("Deleting cannot be undone: 2 item(s)"), "{screen}");
    assert!(screen.contains("Clients of the 2 key(s) are refused"), "{screen}");
    h.press("run 4");
    h.key(KeyCode::Enter);
    h.wait_until("the queue's run to finish", |app| app.run_settled())
        .await
        .unwrap();
    assert!(h.app().staged.is_empty(), "a queue that ran is empty");
    let after = env.world();
    let left: BTreeSet<String> = env.state().key_pairs(ACCOUNT, GZ).into_iter().map(|k| k.id).collect();
    for id in &pairs {
        assert_eq!(left.contains(id), *id == dropped, "{id}");
    }
    for id in keys.iter().chain(&more) {
        assert!(!env.state().api_key(ACCOUNT, GZ, id).unwrap().enabled, "{id} disabled");
    }
    assert_ne!(after, before);
    assert_eq!(env.audit_records("run").len(), 1, "one run in the audit log");
    assert_eq!(
        env.audit_records("intent").len(),
        3,
        "one DeleteKeyPairs, two DisableApiKey"
    );
    env.emu.shutdown().await;
}

/// `w` in the queue writes a reviewed plan file instead of running it (nothing is sent), and
/// `--plan FILE` opens the TUI on that file's confirmation: after one of its keys changed,
/// that key is said not to be sent, the rest run with the file's hash on every record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn w_writes_the_queues_plan_and_plan_opens_it_with_changed_keys_left_out() {
    let mut env = start(seed(2), RunOptions::default(), |_| {}).await;
    let before = env.world();
    let h = &mut env.harness;
    select_filtered(h, '2', "e2e_batch");
    h.press("+d");
    h.key(KeyCode::Esc);
    select_filtered(h, '1', "e2e-gw-alpha");
    h.press("+x");
    h.press("Q");
    h.press("w");
    let written = h
        .wait_until("the plan file", |app| {
            app.flash.as_ref().is_some_and(|f| f.text.contains("plan written to"))
        })
        .await;
    written.unwrap();
    let flash = h.app().flash.clone().unwrap().text;
    assert_eq!(env.world(), before, "writing a plan sends nothing: {flash}");
    let path: std::path::PathBuf = flash
        .split("plan written to ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .into();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"hash\""), "{text}");
    assert!(flash.contains("--confirm 3:"), "{flash}");

    // The API key is disabled by someone else before the file is opened: it changed.
    let file = keyward::planfile::PlanFile::load(&path, chrono::Utc::now(), 24).unwrap();
    let changed = gw_id("gwA");
    assert!(
        env.emu
            .state()
            .update_api_key(ACCOUNT, GZ, &changed, |k| k.enabled = false)
    );
    let config = keyward::config::Config::default();
    let providers = DemoConfig::new(&env.emu, &env.seed, None).providers().await.unwrap();
    let (_, checked) = keyward::planfile::open(&path, &config, &providers, chrono::Utc::now())
        .await
        .unwrap();
    let opts = RunOptions {
        initial: Some(keyward::tui::InitialConfirm {
            parts: checked.parts(),
            notes: checked.notes(),
        }),
        audit: Some(Arc::new(AuditLog::open(&env.audit_path).unwrap())),
        ..RunOptions::default()
    };
    let mut h2 = Harness::new(Runtime::new(providers, &opts), 140, 40);
    h2.start();
    h2.settle().await.unwrap();
    let screen = h2.render();
    assert!(screen.contains("confirm: delete 2 item(s)"), "{screen}");
    assert!(
        screen.contains(&format!("not sent: apigateway {ACCOUNT}/{GZ} {changed}")),
        "{screen}"
    );
    h2.press("delete 2");
    h2.key(KeyCode::Enter);
    h2.wait_until("the plan file's run", |app| app.run_settled())
        .await
        .unwrap();
    let left: BTreeSet<String> = env.state().key_pairs(ACCOUNT, GZ).into_iter().map(|k| k.id).collect();
    assert!(
        file.body
            .items
            .iter()
            .filter(|i| i.key().scope.kind == keyward::inventory::ProviderKind::Cvm)
            .all(|i| !left.contains(i.key().id.as_str()))
    );
    assert_eq!(
        env.state().action_count("DisableApiKey"),
        0,
        "the changed key got no call"
    );
    let intents = env.audit_records("intent");
    assert_eq!(intents.len(), 1, "one DeleteKeyPairs: {intents:?}");
    assert!(intents.iter().all(|i| i["plan"] == file.hash.as_str()), "{intents:?}");
    env.emu.shutdown().await;
}
