//! Headless end-to-end tests: the real runtime (spawned tasks, message loop), the real
//! planner and executor, driven by scripted keys against MemoryProvider (wrapped in
//! `Faulty` where a call must fail or hold), checked on app state, provider state and
//! screen.

use crate::support::app::*;
use crate::support::exec::{Effect, Faulty};
use crate::support::harness::Harness;
use crate::support::items::*;
use async_trait::async_trait;
use base64::Engine;
use crossterm::event::KeyCode;
use keyward::app::modal::Modal;
use keyward::inventory::{Item, ProviderKind};
use keyward::providers::memory::MemoryProvider;
use keyward::providers::{DeleteReport, ErrorKind, Provider, ProviderError};
use keyward::queue::Outcome;
use keyward::tui::{RunOptions, Runtime};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// 300 CVM key pairs in ops/ap-guangzhou: even ones named prod-web-N, odd ones dev-db-N.
fn key_pairs() -> Vec<Item> {
    (0..300)
        .map(|i| {
            let name = if i % 2 == 0 {
                format!("prod-web-{i}")
            } else {
                format!("dev-db-{i}")
            };
            item(ProviderKind::Cvm, "ops", "ap-guangzhou", &format!("skey-{i:06}"), &name)
        })
        .collect()
}

/// Three enabled API keys in ops/ap-guangzhou, AKID-000000 first on screen.
fn api_keys() -> MemoryProvider {
    MemoryProvider::new(
        ProviderKind::ApiGateway,
        "ops",
        "ap-guangzhou",
        MemoryProvider::sample_items(ProviderKind::ApiGateway, "ops", "ap-guangzhou", "AKID", 3),
    )
}

struct Setup {
    cvm: Arc<MemoryProvider>,
    /// The API keys, behind `Faulty` so a test can script their calls.
    apigw: Arc<Faulty>,
    harness: Harness,
}

fn setup(opts: RunOptions) -> Setup {
    setup_with(opts, |apigw| apigw)
}

/// `faults` adds the rules the API keys' calls follow.
fn setup_with(opts: RunOptions, faults: impl FnOnce(Faulty) -> Faulty) -> Setup {
    let cvm = Arc::new(MemoryProvider::new(
        ProviderKind::Cvm,
        "ops",
        "ap-guangzhou",
        key_pairs(),
    ));
    let apigw = Arc::new(faults(Faulty::new(api_keys())));
    let providers: Vec<Arc<dyn Provider>> = vec![apigw.clone(), cvm.clone()];
    Setup {
        cvm,
        apigw,
        harness: Harness::new(Runtime::new(providers, &opts), 120, 36),
    }
}

fn run_opts() -> RunOptions {
    RunOptions {
        title: "e2e (memory)".into(),
        ..Default::default()
    }
}

/// A hold on the first API key's DisableApiKey: `entered` fires when the call arrives,
/// and it goes on once `release` is notified.
fn hold_disable() -> (Arc<Notify>, Arc<Notify>, impl FnOnce(Faulty) -> Faulty) {
    let (entered, release) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let effect = Effect::Hold {
        entered: entered.clone(),
        release: release.clone(),
    };
    (entered, release, move |f: Faulty| {
        f.rule("DisableApiKey", Some("AKID-000000"), effect)
    })
}

/// Delete the highlighted API key (disable, then delete) and wait until its disable is
/// held inside the provider.
async fn delete_first_api_key_and_wait_inside_the_disable(h: &mut Harness, entered: &Notify) {
    h.start();
    h.settle().await.unwrap();
    h.press("d");
    h.press("delete 1");
    h.key(KeyCode::Enter);
    h.wait_until("the run to start", |app| {
        app.run.as_ref().is_some_and(|r| r.total_items == 1)
    })
    .await
    .unwrap();
    tokio::time::timeout(Duration::from_secs(20), entered.notified())
        .await
        .expect("the DisableApiKey call reaches the provider");
}

/// The scripted session from the issue: tab 2, filter "prod", select all shown, delete,
/// type the count back, wait for the run to finish.
async fn delete_half(h: &mut Harness) {
    h.start();
    h.settle().await.unwrap();
    h.press("2/prod");
    h.key(KeyCode::Enter);
    h.press("a");
    assert_eq!(h.app().tab().selected_count(), 150);
    h.press("d");
    h.press("delete 150");
    h.key(KeyCode::Enter);
    assert!(h.app().run.is_some(), "the typed confirmation started the run");
    h.wait_until("the run to finish", |app| app.run_settled())
        .await
        .unwrap();
}

#[tokio::test]
async fn select_150_of_300_key_pairs_and_delete_with_typed_confirmation() {
    let Setup { cvm, mut harness, .. } = setup(run_opts());
    delete_half(&mut harness).await;
    let h = &mut harness;

    let left = cvm.items();
    assert_eq!(left.len(), 150);
    assert!(
        left.iter().all(|i| i.name.starts_with("dev-db-")),
        "only the filtered rows were deleted"
    );
    assert_eq!(cvm.calls().len(), 2, "two DeleteKeyPairs batches of up to 100 ids");

    let app = h.app();
    let summary = app.last_run.clone().unwrap();
    assert_eq!(
        (summary.ok, summary.failed, summary.not_sent, summary.cancelled),
        (150, 0, 0, false)
    );
    assert_eq!(app.log.len(), 150);
    assert_eq!(app.tab().len(), 150, "Refreshed replaced the table rows");
    assert_eq!(app.tab().view_len(), 0, "the filter 'prod' matches nothing now");
    assert_eq!(app.tab().selected_count(), 0, "deleted items left the selection");

    let screen = h.render();
    assert!(
        screen.contains("delete finished: 150 ok, 0 failed, 0 not sent"),
        "{screen}"
    );
    assert!(screen.contains("log: 150 lines"));
}

#[tokio::test]
async fn dry_run_sends_nothing() {
    let Setup { cvm, mut harness, .. } = setup(RunOptions {
        dry_run: true,
        ..run_opts()
    });
    delete_half(&mut harness).await;
    assert_eq!(cvm.items().len(), 300);
    assert!(cvm.calls().is_empty());
    assert!(harness.render().contains("DRY RUN"));
    assert!(harness.app().last_run.as_ref().is_some_and(|r| r.dry_run));
}

#[tokio::test]
async fn read_only_never_reaches_the_executor() {
    let Setup { cvm, mut harness, .. } = setup(RunOptions {
        read_only: true,
        ..run_opts()
    });
    let h = &mut harness;
    h.start();
    h.settle().await.unwrap();
    h.press("2ad");
    h.press("delete 300");
    h.key(KeyCode::Enter);
    assert!(h.app().run.is_none());
    assert!(h.app().modal.is_none());
    assert!(cvm.calls().is_empty());
    assert!(h.render().contains("read-only mode: action disabled"));
}

#[tokio::test]
async fn rotation_shows_the_secret_once_and_copies_it_with_osc52() {
    let Setup { apigw, mut harness, .. } = setup(run_opts());
    let h = &mut harness;
    h.start();
    h.settle().await.unwrap();
    h.press("ray");
    h.wait_until("the run to finish", |app| app.run_settled())
        .await
        .unwrap();
    assert_eq!(apigw.inner.calls(), vec!["UpdateApiKey AKID-000000".to_string()]);
    assert!(matches!(h.app().modal, Some(Modal::RotationResult(_))));
    let secret = "generated_mem-1";
    assert!(!h.render().contains(secret), "masked until v");
    h.press("v");
    assert!(h.render().contains(secret));
    h.press("y");
    let expected = format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(secret)
    );
    assert_eq!(String::from_utf8(h.clipboard_bytes()).unwrap(), expected);
    h.key(KeyCode::Esc);
    assert!(h.app().modal.is_none());
    assert!(!h.render().contains(secret));
    assert!(
        h.app().log.iter().all(|e| !format!("{e:?}").contains(secret)),
        "never logged"
    );
}

/// `c` reaches the executor's token while a call is in flight: that call completes, the
/// delete after it is not sent, and the log says the key stays disabled.
#[tokio::test]
async fn c_cancels_a_running_plan_through_the_runtime() {
    let (entered, release, faults) = hold_disable();
    let Setup { apigw, mut harness, .. } = setup_with(run_opts(), faults);
    let h = &mut harness;
    delete_first_api_key_and_wait_inside_the_disable(h, &entered).await;
    assert!(h.render().contains("c cancels"));
    h.press("q");
    assert!(!h.quit, "q during a run asks first");
    h.key(KeyCode::Esc);
    h.press("c");
    release.notify_one();
    h.wait_until("the run to end", |app| app.run_settled()).await.unwrap();
    let summary = h.app().last_run.clone().unwrap();
    assert!(summary.cancelled);
    assert_eq!((summary.ok, summary.failed, summary.not_sent), (0, 0, 1));
    assert_eq!(
        apigw.inner.calls(),
        ["DisableApiKey AKID-000000"],
        "the held call went through, the delete was never sent"
    );
    let delete = h
        .app()
        .log
        .iter()
        .find(|e| e.action == "DeleteApiKey")
        .expect("the delete has its log line");
    assert_eq!(delete.outcome, Outcome::NotSent);
    assert!(
        delete.hint.as_deref().is_some_and(|h| h.contains("stays disabled")),
        "{delete:?}"
    );
    h.press("q");
    assert!(h.quit, "idle again: q quits at once");
}

#[tokio::test]
async fn quitting_during_a_run_cancels_it_and_waits_for_its_end() {
    let (entered, release, faults) = hold_disable();
    let Setup { apigw, mut harness, .. } = setup_with(run_opts(), faults);
    let h = &mut harness;
    delete_first_api_key_and_wait_inside_the_disable(h, &entered).await;
    h.press("qy");
    assert!(h.quit);
    release.notify_one();
    h.runtime.shutdown(Duration::from_secs(20)).await;
    assert!(h.app().run.is_none(), "the executor reported Finished after the cancel");
    assert!(h.app().last_run.as_ref().is_some_and(|r| r.cancelled));
    assert_eq!(apigw.inner.calls(), ["DisableApiKey AKID-000000"]);
}

/// A provider whose identity accessors panic once armed. The executor reads them to route
/// the plan's calls before any call is guarded, so its task dies: what the runtime does
/// with an executor that ends without `Finished`.
struct PanicsWhenRouted {
    inner: MemoryProvider,
    armed: AtomicBool,
}

impl PanicsWhenRouted {
    fn check(&self) {
        if self.armed.load(Ordering::SeqCst) {
            panic!("injected panic in a provider accessor");
        }
    }
}

#[async_trait]
impl Provider for PanicsWhenRouted {
    fn scope(&self) -> &keyward::inventory::Scope {
        self.check();
        self.inner.scope()
    }
    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        self.inner.list().await
    }
    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError> {
        self.inner.delete(ids).await
    }
}

#[tokio::test]
async fn a_crashing_executor_ends_the_run_with_an_error() {
    let cvm = Arc::new(PanicsWhenRouted {
        inner: MemoryProvider::new(ProviderKind::Cvm, "ops", "ap-guangzhou", key_pairs()),
        armed: AtomicBool::new(false),
    });
    let runtime = Runtime::new(vec![cvm.clone() as Arc<dyn Provider>], &run_opts());
    let mut h = Harness::new(runtime, 120, 36);
    h.start();
    h.settle().await.unwrap();
    cvm.armed.store(true, Ordering::SeqCst);
    h.press("2d");
    h.press("delete 1");
    h.key(KeyCode::Enter);
    h.wait_until("the run to be aborted", |app| app.run.is_none())
        .await
        .unwrap();
    let flash = h.app().flash.clone().unwrap();
    assert!(flash.text.contains("the executor stopped"), "{}", flash.text);
    assert!(h.app().last_run.is_none(), "no summary: the run never finished");
    assert_eq!(cvm.inner.items().len(), 300, "nothing was deleted");
}

/// The real executor's rule for a delete refused as in use: the key it disabled for the
/// delete is enabled again, and the operator sees the failure and the restore.
#[tokio::test]
async fn a_delete_refused_as_in_use_enables_the_key_again() {
    let in_use = ProviderError::new(
        ErrorKind::Api,
        "UnsupportedOperation.ResourceIsInUse",
        "The key has already been bound to a usage plan.",
    );
    let Setup { apigw, mut harness, .. } = setup_with(run_opts(), |f| {
        f.rule("DeleteApiKey", Some("AKID-000000"), Effect::Fail(in_use))
    });
    let h = &mut harness;
    h.start();
    h.settle().await.unwrap();
    h.press("d");
    h.press("delete 1");
    h.key(KeyCode::Enter);
    h.wait_until("the run to finish", |app| app.last_run.is_some())
        .await
        .unwrap();
    assert_eq!(
        apigw.inner.calls(),
        ["DisableApiKey AKID-000000", "EnableApiKey AKID-000000"]
    );
    assert_eq!(*apigw.fired.lock().unwrap(), ["DeleteApiKey AKID-000000"]);
    let key = apigw
        .inner
        .items()
        .into_iter()
        .find(|i| i.key.id == "AKID-000000")
        .unwrap();
    assert_eq!(key.status, keyward::inventory::Status::Enabled, "enabled again");
    let summary = h.app().last_run.clone().unwrap();
    assert_eq!((summary.ok, summary.failed, summary.not_sent), (0, 1, 0));
    let actions: Vec<&str> = h.app().log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["DisableApiKey", "DeleteApiKey", "EnableApiKey"]);
    let screen = h.render();
    assert!(
        screen.contains("delete finished: 0 ok, 1 failed, 0 not sent"),
        "{screen}"
    );
    assert!(screen.contains("UnsupportedOperation.ResourceIsInUse"), "{screen}");
}

/// `tui::run` can be spawned on a multi-threaded runtime (its future is Send).
#[test]
fn run_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let future = keyward::tui::run(Vec::new(), RunOptions::default());
    assert_send(&future);
}

/// A real delete writes the audit log; `H` reads it back in a blocking task and lists
/// the item results, newest first, with their RequestIds.
#[tokio::test]
async fn history_overlay_lists_the_audit_log_of_a_real_delete() {
    let dir = tempfile::tempdir().unwrap();
    let audit = Arc::new(keyward::audit::AuditLog::open(dir.path().join("audit.jsonl")).unwrap());
    let cvm = Arc::new(MemoryProvider::new(
        ProviderKind::Cvm,
        "ops",
        "ap-guangzhou",
        key_pairs().into_iter().take(3).collect(),
    ));
    let opts = RunOptions {
        audit: Some(audit),
        ..run_opts()
    };
    let mut h = Harness::new(Runtime::new(providers_of(vec![cvm.clone()]), &opts), 160, 36);
    h.start();
    h.settle().await.unwrap();
    h.press("2  d");
    h.press("delete 2");
    h.key(KeyCode::Enter);
    h.wait_until("the run to finish", |app| app.run_settled())
        .await
        .unwrap();
    assert_eq!(cvm.items().len(), 1);

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
    assert_eq!(ids, ["skey-000001", "skey-000000"], "newest first, one line per item");
    for line in &history.lines {
        assert_eq!(
            (line.kind.as_str(), line.account.as_str(), line.region.as_str()),
            ("cvm", "ops", "ap-guangzhou")
        );
        assert_eq!((line.action.as_str(), line.result.word()), ("DeleteKeyPairs", "ok"));
        assert!(
            line.request_id.as_deref().is_some_and(|r| r.starts_with("mem-")),
            "{line:?}"
        );
    }
    let request_id = history.lines[0].request_id.clone().unwrap_or_default();
    let screen = h.render();
    assert!(screen.contains("history: last 2 item results"), "{screen}");
    assert!(
        screen.contains("skey-000000") && screen.contains(&request_id),
        "{screen}"
    );
    h.key(KeyCode::Esc);
    assert!(h.app().modal.is_none());
}

/// Without an audit log there is nothing to read: `H` says so at once.
#[tokio::test]
async fn history_without_an_audit_log_explains_itself() {
    let Setup { mut harness, .. } = setup(run_opts());
    harness.start();
    harness.settle().await.unwrap();
    harness.press("H");
    let flash = harness.app().flash.clone().unwrap();
    assert!(flash.text.contains("no audit log is open"), "{}", flash.text);
    assert!(harness.app().modal.is_none());
}
