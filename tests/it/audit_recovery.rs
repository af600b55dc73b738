//! Surviving a crash (issue #15): interrupted calls reconciled at the next start (TUI,
//! `keyward list`, `keyward audit reconcile`), intents durable before their request,
//! `audit verify`/`show` on the command line, and what happens to the log's file while
//! keyward runs (replaced, damaged lines, not writable).

use crate::support::harness::Harness;
use async_trait::async_trait;
use crossterm::event::KeyCode;
use keyward::app::modal::Modal;
use keyward::audit::{self, AuditLog, CallRef, ItemResult, OutcomeKind, Presence, Record};
use keyward::demo::DemoConfig;
use keyward::emulator::{self, Emulator, EmulatorOptions, Seed};
use keyward::inventory::{Item, ProviderKind, Scope};
use keyward::providers::memory::MemoryProvider;
use keyward::providers::{DeleteReport, ErrorKind, Provider, ProviderError, Receipt};
use keyward::queue::{self, ExecEvent, ExecOptions, Intent};
use keyward::tui::{RunOptions, Runtime};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

const ACCOUNT: &str = "tencent-00";
const REGION: &str = "ap-guangzhou";

fn at(run: &str, call: usize, kind: &str, account: &str, action: &str) -> CallRef {
    CallRef {
        time: chrono::Utc::now(),
        run: run.into(),
        call,
        kind: kind.into(),
        account: account.into(),
        region: REGION.into(),
        action: action.into(),
        dry_run: false,
        plan: None,
    }
}

/// The log of a run that was killed with its calls in flight: a `run` record and one
/// DeleteKeyPairs intent per id, no outcome. Returns the run's start time.
fn interrupted_run(log: &AuditLog, account: &str, ids: &[&str]) -> chrono::DateTime<chrono::Utc> {
    let time = chrono::Utc::now();
    log.append(&Record::Run {
        time,
        run: "killed-run".into(),
        dry_run: false,
        calls: ids.len(),
        items: ids.len(),
        plan: None,
    })
    .unwrap();
    for (call, id) in ids.iter().enumerate() {
        log.append_durable(&Record::Intent {
            at: at("killed-run", call, "cvm", account, "DeleteKeyPairs"),
            ids: vec![id.to_string()],
            name: None,
            description: None,
            custom_secret: None,
        })
        .unwrap();
    }
    time
}

fn reconciled(path: &Path) -> Vec<serde_json::Value> {
    audit::read_entries(path)
        .unwrap()
        .into_iter()
        .filter(|e| e["type"] == "reconciled")
        .collect()
}

/// An emulator with key pairs and the CVM provider of its account; the unbound pairs' ids.
async fn cvm_world() -> (Emulator, Seed, Vec<Arc<dyn Provider>>, Vec<String>) {
    let seed = Seed::generated(1, &[REGION], 12, 0, 0);
    let emu = emulator::start(EmulatorOptions::new(seed.clone())).await.unwrap();
    let providers: Vec<Arc<dyn Provider>> = DemoConfig::new(&emu, &seed, None)
        .providers()
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.scope().kind == ProviderKind::Cvm)
        .collect();
    // Unbound ones: a delete takes them (a bound pair is kept by the service).
    let ids: Vec<String> = emu
        .state()
        .key_pairs(ACCOUNT, REGION)
        .into_iter()
        .filter(|k| !k.is_bound())
        .map(|k| k.id)
        .collect();
    assert!(ids.len() >= 3, "{ids:?}");
    (emu, seed, providers, ids)
}

/// The TUI's start re-reads the three calls a killed run left without an outcome: two of
/// the key pairs are gone (those calls took effect), one is still there. Each gets a
/// `reconciled` record, the log pane says so in one line, and nothing is sent again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_start_reconciles_an_interrupted_run_in_the_log_pane_and_resends_nothing() {
    let (emu, _seed, providers, ids) = cvm_world().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    // The killed session's handle, gone with it; the next start opens its own.
    let killed = AuditLog::open(&path).unwrap();
    let started = interrupted_run(&killed, ACCOUNT, &[&ids[0], &ids[1], &ids[2]]);
    drop(killed);
    let log = Arc::new(AuditLog::open(&path).unwrap());
    // What the killed run's first two calls did before it died.
    providers[0].delete(&[ids[0].clone(), ids[1].clone()]).await.unwrap();
    let deletes = emu.state().action_count("DeleteKeyPairs");

    let opts = RunOptions {
        audit: Some(log),
        ..RunOptions::default()
    };
    let mut h = Harness::new(Runtime::new(providers.clone(), &opts), 180, 40);
    h.start();
    h.wait_until("the reconciliation", |app| {
        app.log.iter().any(|e| e.target.contains("reconciled:"))
    })
    .await
    .unwrap();
    let summary = format!(
        "3 calls of the interrupted run at {} reconciled: 2 gone, 1 still present; nothing was re-sent",
        started.format("%H:%M")
    );
    let lines: Vec<String> = h.app().log.iter().map(keyward::app::run::log_line).collect();
    assert!(lines.last().unwrap().ends_with(&summary), "{lines:#?}");
    assert!(
        lines.last().unwrap().contains("cvm tencent-00/ap-guangzhou"),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.contains(&format!(
            "DeleteKeyPairs {}: reconciled, still present (active)",
            ids[2]
        ))),
        "{lines:#?}"
    );
    h.settle().await.unwrap();
    assert!(h.render().contains("reconciled: 2 gone, 1 still present"));

    let records = reconciled(&path);
    let states: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["items"][0]["id"].as_str().unwrap(),
                r["items"][0]["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            (ids[0].as_str(), "gone"),
            (ids[1].as_str(), "gone"),
            (ids[2].as_str(), "still_present")
        ]
    );
    assert!(audit::unmatched_intents(&path).unwrap().is_empty());
    assert_eq!(emu.state().action_count("DeleteKeyPairs"), deletes, "nothing re-sent");
    assert!(audit::verify::verify_file(&path).unwrap().intact());
    // The session ends: its log handle goes (an open one is another keyward to the next).
    drop((h, opts));

    // The start after that has nothing left to reconcile.
    let again = AuditLog::open(&path).unwrap();
    let report = audit::reconcile::run(&again, &providers).await.unwrap();
    assert_eq!(report, audit::reconcile::Report::default());
    assert_eq!(reconciled(&path).len(), 3);
    emu.shutdown().await;
}

/// A provider whose listing fails: what keyward sees when the cloud is unreachable.
struct Unreachable(Scope);

#[async_trait]
impl Provider for Unreachable {
    fn scope(&self) -> &Scope {
        &self.0
    }
    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        Err(ProviderError::new(
            ErrorKind::Transport,
            "ConnectFailed",
            "connection refused",
        ))
    }
    async fn delete(&self, _ids: &[String]) -> Result<DeleteReport, ProviderError> {
        panic!("a reconciliation must not delete anything")
    }
}

/// The provider cannot be reached: the call is recorded `unknown`, stays open, and the
/// next start (now reachable) settles it. Another keyward with the log open means no
/// reconciliation at all (its calls may be in flight), said instead.
#[tokio::test]
async fn an_unreachable_provider_leaves_the_call_open_and_another_keyward_defers_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let killed = AuditLog::open(&path).unwrap();
    interrupted_run(&killed, "ops", &["skey-1", "skey-2"]);
    // The handle that wrote a run's intents never takes them for an interrupted run's.
    let report = audit::reconcile::run(&killed, &[]).await.unwrap();
    assert_eq!(report, audit::reconcile::Report::default());
    drop(killed);
    let log = AuditLog::open(&path).unwrap();
    let scope = Scope::new(ProviderKind::Cvm, "ops", REGION);

    let other = AuditLog::open(&path).unwrap();
    let down: Vec<Arc<dyn Provider>> = vec![Arc::new(Unreachable(scope.clone()))];
    let report = audit::reconcile::run(&log, &down).await.unwrap();
    assert!(report.other_keyward && report.runs.is_empty(), "{report:?}");
    assert!(report.lines()[0].contains("another keyward has this audit log open"));
    assert!(reconciled(&path).is_empty());
    drop(other);

    let report = audit::reconcile::run(&log, &down).await.unwrap();
    assert_eq!(report.unknown(), 2, "{report:?}");
    assert!(
        report.runs[0]
            .summary()
            .contains("2 unknown (ConnectFailed: connection refused; tried again")
    );
    assert_eq!(audit::unmatched_intents(&path).unwrap().len(), 2, "still open");

    let items = MemoryProvider::sample_items(ProviderKind::Cvm, "ops", REGION, "skey", 0);
    let up: Vec<Arc<dyn Provider>> = vec![Arc::new(MemoryProvider::new(ProviderKind::Cvm, "ops", REGION, items))];
    let report = audit::reconcile::run(&log, &up).await.unwrap();
    assert_eq!((report.runs[0].gone, report.unknown()), (2, 0), "{report:?}");
    assert!(audit::unmatched_intents(&path).unwrap().is_empty());
    let last = reconciled(&path).pop().unwrap();
    assert_eq!(
        serde_json::from_value::<Presence>(last["items"][0]["state"].clone()).unwrap(),
        Presence::Gone
    );
}

/// A provider that checks, as each write arrives, that the call's intent line is in the
/// file and synced to disk (`AuditLog::synced_len` reaches past it).
struct DurabilityProbe {
    inner: MemoryProvider,
    audit: Arc<AuditLog>,
    checked: Mutex<Vec<String>>,
}

impl DurabilityProbe {
    fn check(&self, ids: &[String]) {
        let text = std::fs::read_to_string(self.audit.path()).unwrap();
        let mut end = 0;
        let mut found = None;
        for line in text.split_inclusive('\n') {
            end += line.len();
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if v["type"] == "intent" && v["ids"] == serde_json::json!(ids) {
                found = Some(end as u64);
            }
        }
        let end = found.unwrap_or_else(|| panic!("no intent for {ids:?} before its request"));
        assert!(
            self.audit.synced_len() >= end,
            "the intent for {ids:?} ends at byte {end} but only {} are synced",
            self.audit.synced_len()
        );
        self.checked.lock().unwrap().push(ids.join(","));
    }
}

#[async_trait]
impl Provider for DurabilityProbe {
    fn scope(&self) -> &Scope {
        self.inner.scope()
    }
    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        self.inner.list().await
    }
    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError> {
        self.check(ids);
        self.inner.delete(ids).await
    }
    async fn disable(&self, id: &str) -> Result<Receipt, ProviderError> {
        self.check(&[id.to_string()]);
        self.inner.disable(id).await
    }
}

/// The intent of every call is on disk (synced) when its request is sent: a DeleteKeyPairs
/// batch and API keys' DisableApiKey then DeleteApiKey, checked at the provider as each
/// call arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_intent_is_synced_to_disk_before_its_request_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(AuditLog::open(dir.path().join("audit.jsonl")).unwrap());
    let probe = |kind, prefix, n| {
        let items = MemoryProvider::sample_items(kind, "ops", REGION, prefix, n);
        Arc::new(DurabilityProbe {
            inner: MemoryProvider::new(kind, "ops", REGION, items),
            audit: audit.clone(),
            checked: Mutex::new(Vec::new()),
        })
    };
    let (cvm, gw) = (
        probe(ProviderKind::Cvm, "skey", 150),
        probe(ProviderKind::ApiGateway, "AKID", 4),
    );
    let mut items = cvm.inner.items();
    items.extend(gw.inner.items());
    let refs: Vec<&Item> = items.iter().collect();
    let plan = queue::build_plan(&refs, &Intent::Delete, &queue::Protect::default());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let providers: Vec<Arc<dyn Provider>> = vec![cvm.clone(), gw.clone()];
    queue::execute(
        plan,
        providers,
        ExecOptions::default(),
        Some(audit),
        CancellationToken::new(),
        tx,
    )
    .await;
    let mut ok = 0;
    while let Ok(e) = rx.try_recv() {
        if let ExecEvent::Item(entry) = e {
            ok += usize::from(entry.outcome == keyward::queue::Outcome::Ok);
        }
    }
    // 2 DeleteKeyPairs batches, 4 DisableApiKey, 4 DeleteApiKey: each checked on arrival.
    assert_eq!(cvm.checked.lock().unwrap().len(), 2);
    assert_eq!(gw.checked.lock().unwrap().len(), 8);
    assert_eq!(ok, 150 + 8);
}

/// A MemoryProvider whose delete first removes the audit log's file, the way a log
/// cleanup job would in the middle of a run.
struct LogCleaner {
    inner: MemoryProvider,
    path: PathBuf,
}

#[async_trait]
impl Provider for LogCleaner {
    fn scope(&self) -> &Scope {
        self.inner.scope()
    }
    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        self.inner.list().await
    }
    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError> {
        let _ = std::fs::remove_file(&self.path);
        self.inner.delete(ids).await
    }
}

/// Reproduced first: the audit file deleted while keyward runs used to swallow every
/// later record. Now the outcome goes to a new file at the path and the log pane says
/// that the file was replaced and reopened.
#[tokio::test]
async fn the_log_pane_says_when_the_audit_file_was_deleted_during_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let items = MemoryProvider::sample_items(ProviderKind::Cvm, "ops", REGION, "skey", 2);
    let cleaner = Arc::new(LogCleaner {
        inner: MemoryProvider::new(ProviderKind::Cvm, "ops", REGION, items),
        path: path.clone(),
    });
    let opts = RunOptions {
        audit: Some(Arc::new(AuditLog::open(&path).unwrap())),
        ..RunOptions::default()
    };
    let mut h = Harness::new(Runtime::new(vec![cleaner.clone()], &opts), 160, 36);
    h.start();
    h.settle().await.unwrap();
    h.press("2  d");
    h.press("delete 2");
    h.key(KeyCode::Enter);
    h.wait_until("the run to finish", |app| app.run_settled())
        .await
        .unwrap();
    let notes: Vec<String> = h
        .app()
        .log
        .iter()
        .filter(|e| e.is_note())
        .map(keyward::app::run::log_line)
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].contains("was deleted or replaced while keyward was running"),
        "{notes:?}"
    );
    assert!(notes[0].contains("cvm ops/ap-guangzhou"), "{notes:?}");
    let entries = audit::read_entries(&path).unwrap();
    let types: Vec<&str> = entries.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["outcome", "run_end"],
        "the records after the deletion are in the new file"
    );
}

fn outcome_record(call: usize, id: &str) -> Record {
    Record::Outcome {
        at: at("r1", call, "cvm", "ops", "DeleteKeyPairs"),
        items: vec![ItemResult {
            id: id.into(),
            result: OutcomeKind::Ok,
            code: None,
            message: None,
            request_id: Some(format!("req-{call}")),
            name: None,
        }],
    }
}

/// Reproduced first: one unparsable line made `H` refuse the whole history. Now the
/// overlay lists every readable result and its title counts the skipped line.
#[tokio::test]
async fn history_skips_and_counts_a_damaged_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = Arc::new(AuditLog::open(&path).unwrap());
    log.append(&outcome_record(0, "skey-a")).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"type\":\"outcome\", damaged by hand\n"))
        .unwrap();
    log.append(&outcome_record(1, "skey-b")).unwrap();
    let opts = RunOptions {
        audit: Some(log),
        ..RunOptions::default()
    };
    let mut h = Harness::new(Runtime::new(Vec::new(), &opts), 160, 36);
    h.start();
    h.press("H");
    h.wait_until("the history overlay", |app| {
        matches!(app.modal, Some(Modal::History(_)))
    })
    .await
    .unwrap();
    let Some(Modal::History(history)) = &h.app().modal else {
        unreachable!("waited for it above")
    };
    let ids: Vec<&str> = history.lines.iter().map(|l| l.id.as_str()).collect();
    assert_eq!((ids, history.skipped), (vec!["skey-b", "skey-a"], 1));
    assert!(h.render().contains("1 unreadable line skipped"));
}

/// Reproduced first: `--read-only` refused to start when the audit log was not writable,
/// although it writes nothing. Now it starts and says so; other sessions still refuse.
#[test]
fn a_read_only_session_starts_without_a_writable_log_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // Not writable even for root: its directory is a regular file.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let path = blocker.join("audit.jsonl");
    let err = keyward::launch::open_audit_log(&path, false, 1 << 20).unwrap_err();
    assert!(err.contains("cannot create the audit log directory"), "{err}");
    let (audit, unwritable) = keyward::launch::open_audit_log(&path, true, 1 << 20).unwrap();
    assert!(audit.is_none());
    let opts = RunOptions {
        read_only: true,
        unwritable_log: unwritable,
        ..RunOptions::default()
    };
    let runtime = Runtime::new(Vec::new(), &opts);
    let flash = runtime.app.flash.as_ref().unwrap();
    assert!(flash.text.contains("is not writable"), "{}", flash.text);
    assert!(
        flash.text.contains("--read-only session writes nothing"),
        "{}",
        flash.text
    );
    assert!(flash.text.contains(&path.display().to_string()), "{}", flash.text);
}

/// The config and environment of a `keyward` child process aimed at the emulator.
fn config_for(emu: &Emulator, dir: &Path, audit_path: &Path) -> PathBuf {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[[tencent]]\nname = \"{ACCOUNT}\"\nregions = [\"{REGION}\"]\nservices = [\"cvm\"]\n\
             secret_id_env = \"RC_ID\"\nsecret_key_env = \"RC_KEY\"\ncvm_endpoint = \"{}\"\n\
             [settings]\naudit_log = \"{}\"\n",
            emu.base_url,
            audit_path.display()
        ),
    )
    .unwrap();
    config
}

/// Run keyward with `config` and, when the seed has an account, its credentials.
async fn keyward(args: &[&str], config: &Path, seed: &Seed) -> (i32, String, String) {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyward"));
    command.arg("--config").arg(config).args(args);
    if let Some(account) = seed.tencent.first() {
        command
            .env("RC_ID", &account.secret_id)
            .env("RC_KEY", &account.secret_key);
    }
    let out = command.output().await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `keyward list` reconciles before listing and says so on stderr (stdout stays the
/// inventory); `keyward audit reconcile` then has nothing left to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyward_list_and_audit_reconcile_reconcile_from_the_command_line() {
    let (emu, seed, _providers, ids) = cvm_world().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    interrupted_run(&log, ACCOUNT, &[&ids[0], "skey-long-gone"]);
    drop(log);
    let config = config_for(&emu, dir.path(), &path);

    let (code, stdout, stderr) = keyward(&["list", "--csv"], &config, &seed).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("provider,account"), "{stdout}");
    assert!(
        stderr.contains("keyward: audit log: cvm tencent-00/ap-guangzhou: 2 calls of the interrupted run at"),
        "{stderr}"
    );
    assert!(stderr.contains("reconciled: 1 gone, 1 still present"), "{stderr}");
    assert_eq!(reconciled(&path).len(), 2);

    let (code, stdout, _) = keyward(&["audit", "reconcile"], &config, &seed).await;
    assert_eq!(code, 0);
    assert!(stdout.contains("nothing to reconcile"), "{stdout}");

    // Another interrupted call, reconciled by the command itself.
    let log = AuditLog::open(&path).unwrap();
    log.append_durable(&Record::Intent {
        at: at("second", 0, "cvm", ACCOUNT, "DeleteKeyPairs"),
        ids: vec![ids[1].clone()],
        name: None,
        description: None,
        custom_secret: None,
    })
    .unwrap();
    drop(log);
    let (code, stdout, stderr) = keyward(&["audit", "reconcile"], &config, &seed).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("1 call of the interrupted run at"), "{stdout}");
    assert!(stdout.contains("1 still present"), "{stdout}");
    assert_eq!(emu.state().action_count("DeleteKeyPairs"), 0, "nothing was sent");
    emu.shutdown().await;
}

/// `keyward audit verify` names the first broken line and exits 1, 0 when intact (a
/// partial last line is reported, not broken); `keyward audit show` filters and prints
/// JSON, skipping and counting a line that is not a record.
#[tokio::test]
async fn audit_verify_and_show_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("[settings]\naudit_log = \"{}\"\n", path.display())).unwrap();
    let log = AuditLog::open(&path).unwrap();
    for call in 0..4 {
        log.append(&outcome_record(call, &format!("skey-{call}"))).unwrap();
    }
    log.append(&Record::Outcome {
        at: at("r1", 4, "apigateway", "dev", "DisableApiKey"),
        items: vec![ItemResult {
            id: "AKID1".into(),
            result: OutcomeKind::Failed,
            code: Some("InternalError".into()),
            message: Some("boom".into()),
            request_id: None,
            name: None,
        }],
    })
    .unwrap();
    drop(log);
    let seed = Seed::default();
    let (code, stdout, _) = keyward(&["audit", "verify"], &config, &seed).await;
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("the chain starts at line 1 (a new log)"), "{stdout}");
    assert!(stdout.contains("records #1-#5 intact"), "{stdout}");

    let (code, stdout, stderr) = keyward(&["audit", "show", "--json", "--action", "delete"], &config, &seed).await;
    assert_eq!(code, 0, "{stderr}");
    let rows: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 4);
    assert_eq!(rows[0]["id"], "skey-0");
    let (_, stdout, _) = keyward(&["audit", "show", "--account", "dev"], &config, &seed).await;
    assert!(
        stdout.contains("DisableApiKey AKID1: failed InternalError: boom"),
        "{stdout}"
    );

    // One byte of line 3 changed: broken there, named as an edit.
    let original = std::fs::read(&path).unwrap();
    let mut edited = original.clone();
    let line3 = original
        .split(|b| *b == b'\n')
        .take(2)
        .map(|l| l.len() + 1)
        .sum::<usize>();
    let at_id = line3 + String::from_utf8_lossy(&original[line3..]).find("skey-2").unwrap() + 5;
    edited[at_id] = b'9';
    std::fs::write(&path, &edited).unwrap();
    let (code, stdout, _) = keyward(&["audit", "verify", path.to_str().unwrap()], &config, &seed).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("BROKEN at line 3: edited"), "{stdout}");

    // A crash's partial line at the end: reported, exit 0; show skips and counts it.
    let mut torn = original.clone();
    torn.extend_from_slice(b"{\"prev\":\"ab");
    std::fs::write(&path, &torn).unwrap();
    let (code, stdout, _) = keyward(&["audit", "verify"], &config, &seed).await;
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("line 6 is a partial line"), "{stdout}");
    let (code, stdout, stderr) = keyward(&["audit", "show", "--csv"], &config, &seed).await;
    assert_eq!(code, 0);
    assert_eq!(stdout.lines().count(), 6, "{stdout}");
    assert!(stderr.contains("1 line of") && stderr.contains("line 6"), "{stderr}");
}
