//! Reliability against the real emulator and the real providers: a bulk delete of 1,000
//! items through the queue while the emulator fails, drops and throttles calls; servers
//! answering garbage or endless bodies; a server clock ten minutes off.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use keyward::audit::{self, AuditLog};
use keyward::config::Config;
use keyward::demo::DemoConfig;
use keyward::emulator::{self, ApiKeyRecord, Emulator, EmulatorOptions, EmulatorState, Faults, KeyPairRecord, Seed};
use keyward::hints;
use keyward::inventory::{Item, ProviderKind, Status};
use keyward::providers::{ErrorKind, Provider};
use keyward::queue::{self, ExecEvent, ExecOptions, Intent, LogEntry, Outcome};
use keyward::registry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio_util::sync::CancellationToken;

const ACCOUNT: &str = "tencent-00";
const REGIONS: [&str; 2] = ["ap-guangzhou", "ap-shanghai"];

/// Every Tencent record of the account, by (region, id): what "untouched" is compared against.
#[derive(Debug, PartialEq)]
struct Snapshot {
    api_keys: BTreeMap<(String, String), ApiKeyRecord>,
    key_pairs: BTreeMap<(String, String), KeyPairRecord>,
}

fn snapshot(state: &EmulatorState) -> Snapshot {
    let mut api_keys = BTreeMap::new();
    let mut key_pairs = BTreeMap::new();
    for region in REGIONS {
        for k in state.api_keys(ACCOUNT, region) {
            api_keys.insert((region.to_string(), k.id.clone()), k);
        }
        for k in state.key_pairs(ACCOUNT, region) {
            key_pairs.insert((region.to_string(), k.id.clone()), k);
        }
    }
    Snapshot { api_keys, key_pairs }
}

/// Runs a plan to the end and returns every event.
async fn run(plan: queue::Plan, providers: Vec<Arc<dyn Provider>>, audit: Arc<AuditLog>) -> Vec<ExecEvent> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    queue::execute(
        plan,
        providers,
        ExecOptions::default(),
        Some(audit),
        CancellationToken::new(),
        tx,
    )
    .await;
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    events
}

fn entries(events: &[ExecEvent]) -> Vec<&LogEntry> {
    events
        .iter()
        .filter_map(|e| match e {
            ExecEvent::Item(entry) => Some(entry),
            _ => None,
        })
        .collect()
}

async fn list_all(providers: &[Arc<dyn Provider>]) -> Vec<Item> {
    let lists = futures::future::join_all(providers.iter().map(|p| p.list())).await;
    lists.into_iter().flat_map(|l| l.unwrap()).collect()
}

/// 800 key pairs in two regions and 200 enabled API keys (disable, then delete) while the
/// emulator answers 10 % of calls with a 5xx, drops 10 % of connections and throttles 5 %.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_delete_under_faults_touches_only_the_selection_and_accounts_for_every_item() {
    let seed = Seed::generated(1, &REGIONS, 500, 150, 0);
    let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
    let state = emu.state();
    let providers: Vec<Arc<dyn Provider>> = DemoConfig::new(&emu, &seed, None)
        .providers()
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.scope().kind != ProviderKind::OceanBase)
        .collect();

    // The operator's table, read before anything breaks.
    let items = list_all(&providers).await;
    let mut selected: Vec<&Item> = Vec::new();
    for region in REGIONS {
        let in_region = |kind| {
            items
                .iter()
                .filter(move |i| i.key.scope.kind == kind && i.key.scope.region == region)
        };
        selected.extend(in_region(ProviderKind::Cvm).take(400));
        let enabled: Vec<&Item> = in_region(ProviderKind::ApiGateway)
            // Keys bound to a usage plan are skipped by the plan (never disabled), so the
            // thousand are taken from the free ones.
            .filter(|i| i.status == Status::Enabled && !i.is_bound())
            .take(100)
            .collect();
        assert_eq!(enabled.len(), 100, "the seed has too few enabled keys in {region}");
        selected.extend(enabled);
    }
    let plan = queue::build_plan(&selected, &Intent::Delete, &keyward::queue::Protect::default());
    assert_eq!(plan.item_count(), 1_000);
    let chosen: BTreeSet<(String, String)> = selected
        .iter()
        .map(|i| (i.key.scope.region.to_string(), i.key.id.to_string()))
        .collect();
    let before = snapshot(&state);

    state.set_faults(Faults {
        error_rate: 0.1,
        drop_rate: 0.1,
        force_rate_limit: 0.05,
        ..Faults::none()
    });
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let audit = Arc::new(AuditLog::open(&audit_path).unwrap());
    let events = run(plan, providers, audit).await;
    state.set_faults(Faults::none());
    let after = snapshot(&state);
    assert!(state.rate_limited_count() > 0, "no throttling was injected");

    // Nothing outside the selection changed, and nothing appeared.
    for (key, record) in &after.api_keys {
        if !chosen.contains(key) {
            assert_eq!(
                Some(record),
                before.api_keys.get(key),
                "unselected API key {key:?} changed"
            );
        }
    }
    for (key, record) in &after.key_pairs {
        if !chosen.contains(key) {
            assert_eq!(
                Some(record),
                before.key_pairs.get(key),
                "unselected key pair {key:?} changed"
            );
        }
    }
    let unselected = |keys: Vec<&(String, String)>| keys.into_iter().filter(|k| !chosen.contains(*k)).count();
    assert_eq!(
        unselected(after.api_keys.keys().collect()),
        unselected(before.api_keys.keys().collect())
    );
    assert_eq!(
        unselected(after.key_pairs.keys().collect()),
        unselected(before.key_pairs.keys().collect())
    );

    // Every selected item has the outcome of its delete; Ok means gone, present means it
    // was reported kept, failed (with its error) or not sent.
    let log = entries(&events);
    let mut delete_outcome: HashMap<(String, String), &Outcome> = HashMap::new();
    for e in &log {
        if let Outcome::Ok | Outcome::Kept { .. } = e.outcome {
            let id = e.request_id.as_deref().unwrap_or_default();
            assert!(
                uuid::Uuid::parse_str(id).is_ok(),
                "{} {}: RequestId {id:?}",
                e.action,
                e.target
            );
        }
        if let Some((code, message)) = e.outcome.error() {
            assert!(!code.is_empty() && !message.is_empty(), "{e:?}");
        }
        assert_ne!(e.outcome, Outcome::DryRun);
        if e.action.starts_with("Delete") {
            let previous = delete_outcome.insert((e.scope.region.to_string(), e.target.clone()), &e.outcome);
            assert!(previous.is_none(), "two delete outcomes for {}", e.target);
        }
    }
    assert_eq!(delete_outcome.keys().cloned().collect::<BTreeSet<_>>(), chosen);

    // API keys: no delete without a successful disable; a key this run disabled but could
    // not delete is still there, disabled, and its log line says so.
    for e in log.iter().filter(|e| e.action == "DisableApiKey") {
        let key = (e.scope.region.to_string(), e.target.clone());
        let delete = log
            .iter()
            .find(|d| d.action == "DeleteApiKey" && d.target == e.target)
            .unwrap();
        match (&e.outcome, &delete.outcome) {
            (Outcome::Ok, Outcome::Ok) => {}
            (Outcome::Ok, _) => {
                // A failed write may still have happened; if the key is there, it is disabled.
                assert!(after.api_keys.get(&key).is_none_or(|k| !k.enabled), "{key:?}");
                let hint = delete.hint.as_deref().unwrap_or_default();
                assert!(hint.contains("stays disabled"), "{key:?}: {hint}");
            }
            (_, outcome) => assert_eq!(outcome, &Outcome::NotSent, "{key:?} deleted after a failed disable"),
        }
    }
    let (mut gone, mut failed) = (0, 0);
    for key in &chosen {
        let present = after.api_keys.contains_key(key) || after.key_pairs.contains_key(key);
        match delete_outcome[key] {
            Outcome::Ok => assert!(!present, "{key:?} reported deleted but still there"),
            Outcome::Kept { .. } => {
                assert!(present, "{key:?} reported kept but gone");
                assert!(after.key_pairs[key].is_bound(), "{key:?} kept though unbound");
            }
            Outcome::Failed { .. } | Outcome::Unknown { .. } | Outcome::NotSent => failed += 1,
            Outcome::DryRun => unreachable!(),
        }
        gone += usize::from(!present);
    }
    // Both happen with overwhelming odds: ~400 writes each fail with probability 0.2.
    assert!(
        gone > 0 && failed > 0,
        "{gone} deleted, {failed} failed: were the faults injected?"
    );
    assert!(matches!(events.last(), Some(ExecEvent::Settled)), "{:?}", events.last());
    let Some(ExecEvent::Finished { cancelled, tally }) =
        events.iter().find(|e| matches!(e, ExecEvent::Finished { .. }))
    else {
        panic!("the run did not finish");
    };
    assert!(!cancelled);
    assert_eq!(tally.items(), 1_000);

    // The audit log accounts for every call: each intent has its outcome, and the
    // outcome lines hold exactly the per-item results the log pane showed.
    assert_eq!(
        audit::unmatched_intents(&audit_path).unwrap(),
        Vec::<serde_json::Value>::new()
    );
    let records = audit::read_entries(&audit_path).unwrap();
    let audited: Vec<&serde_json::Value> = records
        .iter()
        .filter(|r| r["type"] == "outcome")
        .flat_map(|r| r["items"].as_array().unwrap())
        .collect();
    assert_eq!(audited.len(), log.len());
    let words: BTreeSet<&str> = audited.iter().map(|i| i["result"].as_str().unwrap()).collect();
    assert!(
        words.contains("unknown"),
        "a dropped or failed write must be recorded as unknown: {words:?}"
    );
    assert!(
        words.is_subset(&BTreeSet::from(["ok", "kept", "failed", "unknown", "not_sent"])),
        "{words:?}"
    );
    emu.shutdown().await;
}

/// A local server answering every request with HTTP 200 and either an HTML page or an
/// endless body, counting requests and the body bytes it managed to produce.
struct Garbage {
    base_url: String,
    requests: Arc<AtomicUsize>,
    produced: Arc<AtomicUsize>,
}

/// Far more than any client may read; produced lazily, so it costs only what is pulled.
const HUGE: usize = 200 * 1000 * 1000;
const CHUNK: usize = 64 * 1024;

async fn garbage_server(huge: bool) -> Garbage {
    let requests = Arc::new(AtomicUsize::new(0));
    let produced = Arc::new(AtomicUsize::new(0));
    let (r, p) = (Arc::clone(&requests), Arc::clone(&produced));
    let app = Router::new().fallback(move || {
        let (r, p) = (Arc::clone(&r), Arc::clone(&p));
        async move {
            r.fetch_add(1, Ordering::SeqCst);
            if !huge {
                return (
                    StatusCode::OK,
                    Body::from("<html><body>Welcome to nginx!</body></html>"),
                );
            }
            // Streamed lazily, so `produced` shows how much the client pulled.
            let chunk = Bytes::from(vec![b'{'; CHUNK]);
            let stream = futures::stream::iter((0..HUGE / CHUNK).map(move |_| {
                p.fetch_add(CHUNK, Ordering::SeqCst);
                Ok::<_, std::convert::Infallible>(chunk.clone())
            }));
            (StatusCode::OK, Body::from_stream(stream))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Garbage {
        base_url,
        requests,
        produced,
    }
}

/// All three providers pointed at `endpoint`, through the real config and registry.
fn providers_at(endpoint: &str) -> Vec<Arc<dyn Provider>> {
    let text = format!(
        "[[tencent]]\nname = \"tc\"\nregions = [\"ap-guangzhou\"]\nsecret_id_env = \"TC_ID\"\n\
         secret_key_env = \"TC_KEY\"\napigateway_endpoint = \"{endpoint}\"\ncvm_endpoint = \"{endpoint}\"\n\
         [[oceanbase]]\nname = \"ob\"\norg_id = \"org-1\"\nproject_ids = [\"proj-1\"]\n\
         access_key_id_env = \"OB_ID\"\naccess_key_secret_env = \"OB_SECRET\"\nendpoint = \"{endpoint}\"\n"
    );
    let env: HashMap<&str, &str> = HashMap::from([
        ("TC_ID", "AKIDgarbagetest"),
        ("TC_KEY", "garbage-test-key"),
        ("OB_ID", "ob-garbage"),
        ("OB_SECRET", "ob-garbage-secret"),
    ]);
    let lookup = |name: &str| env.get(name).map(|v| v.to_string());
    let cfg = Config::parse(&text, Path::new("/tmp/reliability.toml"), &lookup).unwrap();
    let providers = registry::build(&cfg, &lookup).unwrap();
    assert_eq!(providers.len(), 3);
    providers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_json_answer_is_a_protocol_error_from_every_provider() {
    let server = garbage_server(false).await;
    for p in providers_at(&server.base_url) {
        let err = p.list().await.unwrap_err();
        assert_eq!(
            (err.kind, err.code.as_str()),
            (ErrorKind::Protocol, "Protocol"),
            "{}: {err}",
            p.scope().kind
        );
        assert!(
            err.message.contains("nginx"),
            "{}: quote the answer: {}",
            p.scope().kind,
            err.message
        );
        assert!(hints::for_error(&err).unwrap().contains("endpoint"));
    }
    // A malformed answer is not the kind of failure a retry fixes.
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_answer_is_cut_off_at_the_cap() {
    let server = garbage_server(true).await;
    for p in providers_at(&server.base_url) {
        server.produced.store(0, Ordering::SeqCst);
        let err = p.list().await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol, "{}: {err}", p.scope().kind);
        assert!(
            err.message.contains("exceeds 8 MiB"),
            "{}: {}",
            p.scope().kind,
            err.message
        );
        assert!(err.message.len() < 300, "{}", err.message);
        // Reading stopped at the cap: the server could push only the 8 MiB plus what the
        // loopback socket buffers hold (at most 32 MiB + 4 MiB with this kernel's defaults).
        let produced = server.produced.load(Ordering::SeqCst);
        assert!(
            produced < 64 << 20,
            "{}: {produced} bytes produced: the client read on",
            p.scope().kind
        );
    }
    assert_eq!(server.requests.load(Ordering::SeqCst), 3);
}

async fn small_world() -> (Emulator, Vec<Arc<dyn Provider>>) {
    let seed = Seed::generated(1, &["ap-guangzhou"], 3, 3, 0);
    let emu = emulator::start(EmulatorOptions::new(seed.clone())).await.unwrap();
    let providers = DemoConfig::new(&emu, &seed, None).providers().await.unwrap();
    (emu, providers)
}

#[tokio::test]
async fn a_server_clock_ten_minutes_off_surfaces_signature_expire_with_advice() {
    let (emu, providers) = small_world().await;
    let state = emu.state();
    let gw = providers
        .iter()
        .find(|p| p.scope().kind == ProviderKind::ApiGateway)
        .unwrap()
        .clone();
    let key = gw
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.status == Status::Enabled)
        .unwrap();

    for minutes in [10, -10] {
        state.set_clock_offset(chrono::TimeDelta::minutes(minutes));
        let sent = state.request_count();
        let err = gw.list().await.unwrap_err();
        assert_eq!(
            (err.kind, err.code.as_str()),
            (ErrorKind::Auth, "AuthFailure.SignatureExpire")
        );
        let request_id = err.request_id.clone().unwrap_or_default();
        assert!(uuid::Uuid::parse_str(&request_id).is_ok(), "RequestId {request_id:?}");
        assert!(
            hints::for_error(&err).unwrap().contains("sync"),
            "{:?}",
            hints::for_error(&err)
        );
        assert_eq!(state.request_count(), sent + 1, "an expired signature is not retried");
    }

    // Through the queue, the log line carries the code, the RequestId and the advice, and
    // the audit log records a plain failure (the service refused it before acting).
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let audit = Arc::new(AuditLog::open(&audit_path).unwrap());
    let plan = queue::build_plan(&[&key], &Intent::Disable, &keyward::queue::Protect::default());
    let events = run(plan, providers.clone(), audit).await;
    let log = entries(&events);
    assert_eq!(log.len(), 1);
    assert!(matches!(&log[0].outcome, Outcome::Failed { code, .. } if code == "AuthFailure.SignatureExpire"));
    assert!(log[0].request_id.is_some());
    assert!(log[0].hint.as_deref().unwrap_or_default().contains("clock"));
    assert!(
        state
            .api_key("tencent-00", "ap-guangzhou", &key.key.id)
            .unwrap()
            .enabled
    );
    let records = audit::read_entries(&audit_path).unwrap();
    let outcome = records.iter().find(|r| r["type"] == "outcome").unwrap();
    assert_eq!(outcome["items"][0]["result"], "failed");

    // Within the five-minute window, and back in sync, calls pass again.
    state.set_clock_offset(chrono::TimeDelta::minutes(4));
    assert!(gw.list().await.is_ok());
    state.set_clock_offset(chrono::TimeDelta::zero());
    assert!(gw.list().await.is_ok());
    emu.shutdown().await;
}

/// The crash figure, small: 100 items deleted by keyward processes killed (SIGKILL) at 5
/// random points while 10 % of calls fail (5xx, dropped connections), each restart
/// reconciling first. After the last reconciliation no item is unaccounted for: every
/// item the log calls gone is gone, every one it calls present is there, no call is
/// left without a word, and the chain is intact. (`keyward bench --only audit` runs
/// 1,000 items and 50 kills.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_runs_leave_no_item_unaccounted_for_after_reconciling() {
    let size = keyward::bench::crash::DrillSize {
        items: 100,
        kills: 5,
        fault_rate: 0.05,
        seed: 42,
    };
    let report = keyward::bench::crash::drill(Path::new(env!("CARGO_BIN_EXE_keyward")), size)
        .await
        .unwrap();
    assert_eq!(report.items, 100);
    assert_eq!(report.kills, 5, "{report:?}");
    assert!(report.unaccounted.is_empty(), "{:#?}", report.unaccounted);
    assert!(report.chain_intact, "{report:?}");
    assert!(
        report.reconciled_calls > 0,
        "no kill interrupted a call in flight: {report:?}"
    );
    assert!(report.gone > 0, "{report:?}");
}
