//! The executor against in-memory providers: what is sent, what is reported, what is logged.

use crate::support::exec::*;
use crate::support::items::*;
use keyward::audit::{AuditLog, read_entries, unmatched_intents};
use keyward::inventory::{Binding, Item, ProviderKind, Status};
use keyward::providers::memory::MemoryProvider;
use keyward::providers::{ErrorKind, Provider, ProviderError};
use keyward::queue::{ExecEvent, ExecOptions, Intent, Outcome, Plan, build_plan};
use keyward::secret::Secret;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const DRY: ExecOptions = ExecOptions { dry_run: true };
const LIVE: ExecOptions = ExecOptions { dry_run: false };

fn plan_of(items: &[Item], intent: &Intent) -> Plan {
    let refs: Vec<&Item> = items.iter().collect();
    build_plan(&refs, intent, &keyward::queue::Protect::default())
}

fn mem(kind: ProviderKind, account: &str, region: &str, items: Vec<Item>) -> Arc<MemoryProvider> {
    Arc::new(MemoryProvider::new(kind, account, region, items))
}

fn outcomes_for<'a>(events: &'a [ExecEvent], target: &str) -> Vec<(&'a str, &'a Outcome)> {
    entries(events)
        .into_iter()
        .filter(|e| e.target == target)
        .map(|e| (e.action.as_str(), &e.outcome))
        .collect()
}

fn audit_in(dir: &tempfile::TempDir) -> (Arc<AuditLog>, std::path::PathBuf) {
    let path = dir.path().join("nested/dir/audit.jsonl");
    (Arc::new(AuditLog::open(&path).unwrap()), path)
}

#[tokio::test]
async fn deletes_exactly_the_planned_ids_and_nothing_else() {
    let all = MemoryProvider::sample_items(ProviderKind::Cvm, "prod", "ap-guangzhou", "skey", 300);
    let selected: Vec<Item> = all.iter().step_by(2).cloned().collect(); // 150 of 300
    let provider = mem(ProviderKind::Cvm, "prod", "ap-guangzhou", all.clone());
    let plan = plan_of(&selected, &Intent::Delete);

    let events = run(plan, vec![provider.clone()], LIVE, None, CancellationToken::new()).await;

    let calls = provider.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls.iter().all(|c| c.starts_with("DeleteKeyPairs ")));
    let mut sent: Vec<String> = calls
        .iter()
        .flat_map(|c| {
            c["DeleteKeyPairs ".len()..]
                .split(',')
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    sent.sort();
    let mut expected: Vec<String> = selected.iter().map(|i| i.key.id.to_string()).collect();
    expected.sort();
    assert_eq!(sent, expected);

    let remaining: Vec<String> = provider.items().into_iter().map(|i| i.key.id.into()).collect();
    let unselected: Vec<String> = all.iter().skip(1).step_by(2).map(|i| i.key.id.to_string()).collect();
    assert_eq!(remaining, unselected);

    assert_eq!(entries(&events).len(), 150);
    assert!(
        entries(&events)
            .iter()
            .all(|e| e.outcome == Outcome::Ok && e.request_id.is_some())
    );
    assert_eq!(finished(&events), (150, 0, 0, false));
    assert!(matches!(
        events[0],
        ExecEvent::Started {
            total_calls: 2,
            total_items: 150
        }
    ));
    let progress: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            ExecEvent::Progress { done_calls, .. } => Some(*done_calls),
            _ => None,
        })
        .collect();
    assert_eq!(progress, vec![1, 2]);
    let refreshed: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            ExecEvent::Refreshed { items, .. } => Some(items.len()),
            _ => None,
        })
        .collect();
    assert_eq!(refreshed, vec![150], "the group is re-read once after the run");
}

#[tokio::test]
async fn enabled_api_key_is_disabled_before_it_is_deleted() {
    let items = vec![apikey("AKID-1", Status::Enabled), apikey("AKID-2", Status::Disabled)];
    let provider = mem(ProviderKind::ApiGateway, "prod", "ap-guangzhou", items.clone());
    let events = run(
        plan_of(&items, &Intent::Delete),
        vec![provider.clone()],
        LIVE,
        None,
        CancellationToken::new(),
    )
    .await;
    let calls = provider.calls();
    let disable = calls.iter().position(|c| c == "DisableApiKey AKID-1").unwrap();
    let delete = calls.iter().position(|c| c == "DeleteApiKey AKID-1").unwrap();
    assert!(disable < delete, "{calls:?}");
    assert!(calls.contains(&"DeleteApiKey AKID-2".to_string()));
    assert_eq!(calls.len(), 3);
    assert!(provider.items().is_empty());
    assert_eq!(finished(&events), (2, 0, 0, false));
}

#[tokio::test]
async fn a_failed_disable_keeps_its_delete_from_being_sent() {
    let items = vec![apikey("AKID-1", Status::Enabled), apikey("AKID-2", Status::Enabled)];
    let inner = MemoryProvider::new(ProviderKind::ApiGateway, "prod", "ap-guangzhou", items.clone());
    let err = ProviderError::new(ErrorKind::Api, "AuthFailure.SignatureExpire", "signature expired")
        .with_request_id(Some("req-9".into()));
    let provider = Arc::new(Faulty::new(inner).rule("DisableApiKey", Some("AKID-1"), Effect::Fail(err)));
    let dir = tempfile::tempdir().unwrap();
    let (audit, path) = audit_in(&dir);

    let events = run(
        plan_of(&items, &Intent::Delete),
        vec![provider.clone()],
        LIVE,
        Some(audit),
        CancellationToken::new(),
    )
    .await;

    let calls = provider.inner.calls();
    assert!(!calls.iter().any(|c| c.contains("AKID-1")), "{calls:?}");
    assert!(calls.contains(&"DeleteApiKey AKID-2".to_string()));
    let k1 = outcomes_for(&events, "AKID-1");
    assert_eq!(k1.len(), 2);
    assert!(matches!(k1[0], ("DisableApiKey", Outcome::Failed { code, .. }) if code == "AuthFailure.SignatureExpire"));
    assert_eq!(k1[1], ("DeleteApiKey", &Outcome::NotSent));
    let entry = entries(&events)
        .into_iter()
        .find(|e| e.target == "AKID-1" && e.action == "DisableApiKey")
        .unwrap();
    assert_eq!(entry.request_id.as_deref(), Some("req-9"));
    assert!(entry.hint.as_deref().unwrap().contains("clock"));
    let held = entries(&events)
        .into_iter()
        .find(|e| e.target == "AKID-1" && e.action == "DeleteApiKey")
        .unwrap();
    assert!(held.hint.as_deref().unwrap().contains("DisableApiKey did not succeed"));
    assert_eq!(finished(&events), (1, 1, 0, false));
    assert!(unmatched_intents(&path).unwrap().is_empty());
    assert_eq!(provider.inner.items().len(), 1);
}

#[tokio::test]
async fn dry_run_calls_nothing_and_logs_what_would_be_sent() {
    let items = vec![
        apikey("AKID-1", Status::Enabled),
        keypair("skey-1"),
        keypair("skey-2"),
        maaskey("m1"),
    ];
    let api = mem(ProviderKind::ApiGateway, "prod", "ap-guangzhou", items[..1].to_vec());
    let cvm = mem(ProviderKind::Cvm, "prod", "ap-guangzhou", items[1..3].to_vec());
    let ob = mem(ProviderKind::OceanBase, "ob", "proj-1", items[3..].to_vec());
    let dir = tempfile::tempdir().unwrap();
    let (audit, path) = audit_in(&dir);

    let events = run(
        plan_of(&items, &Intent::Delete),
        vec![api.clone(), cvm.clone(), ob.clone()],
        DRY,
        Some(audit),
        CancellationToken::new(),
    )
    .await;

    assert!(api.calls().is_empty() && cvm.calls().is_empty() && ob.calls().is_empty());
    assert_eq!(api.items().len() + cvm.items().len() + ob.items().len(), 4);
    let logged = entries(&events);
    let mut actions: Vec<(&str, &str)> = logged.iter().map(|e| (e.action.as_str(), e.target.as_str())).collect();
    actions.sort();
    assert_eq!(
        actions,
        vec![
            ("DELETE /api/v2/maas/apikeys", "m1"),
            ("DeleteApiKey", "AKID-1"),
            ("DeleteKeyPairs", "skey-1"),
            ("DeleteKeyPairs", "skey-2"),
            ("DisableApiKey", "AKID-1"),
        ]
    );
    assert!(
        logged
            .iter()
            .all(|e| e.outcome == Outcome::DryRun && e.request_id.is_none())
    );
    assert!(!events.iter().any(|e| matches!(e, ExecEvent::Refreshed { .. })));
    assert_eq!(finished(&events), (4, 0, 0, false));

    let audit_lines = read_entries(&path).unwrap();
    let intents: Vec<_> = audit_lines.iter().filter(|e| e["type"] == "intent").collect();
    assert_eq!(intents.len(), 4);
    assert!(intents.iter().all(|e| e["dry_run"] == true));
    let outcomes: Vec<_> = audit_lines.iter().filter(|e| e["type"] == "outcome").collect();
    assert!(
        outcomes
            .iter()
            .flat_map(|o| o["items"].as_array().unwrap())
            .all(|i| i["result"] == "dry_run")
    );
    assert!(unmatched_intents(&path).unwrap().is_empty());
}

#[tokio::test]
async fn cancel_before_start_sends_nothing() {
    let items = vec![keypair("skey-1"), apikey("AKID-1", Status::Enabled)];
    let cvm = mem(ProviderKind::Cvm, "prod", "ap-guangzhou", items[..1].to_vec());
    let api = mem(ProviderKind::ApiGateway, "prod", "ap-guangzhou", items[1..].to_vec());
    let cancel = CancellationToken::new();
    cancel.cancel();
    let events = run(
        plan_of(&items, &Intent::Delete),
        vec![cvm.clone(), api.clone()],
        LIVE,
        None,
        cancel,
    )
    .await;
    assert!(cvm.calls().is_empty() && api.calls().is_empty());
    assert_eq!(entries(&events).len(), 3, "one NotSent per item per call");
    assert!(entries(&events).iter().all(|e| e.outcome == Outcome::NotSent));
    assert_eq!(finished(&events), (0, 0, 2, true));
}

#[tokio::test]
async fn cancel_mid_run_leaves_the_rest_not_sent() {
    let all = MemoryProvider::sample_items(ProviderKind::OceanBase, "ob", "proj-1", "mk", 40);
    let cancel = CancellationToken::new();
    // The 5th delete cancels the run as it is sent: it completes, later ones are not sent.
    let inner = MemoryProvider::new(ProviderKind::OceanBase, "ob", "proj-1", all.clone());
    let provider = Arc::new(Faulty::new(inner).rule(
        "DELETE /api/v2/maas/apikeys",
        Some("mk-000004"),
        Effect::Cancel(cancel.clone()),
    ));
    let events = run(
        plan_of(&all, &Intent::Delete),
        vec![provider.clone()],
        LIVE,
        None,
        cancel,
    )
    .await;

    let sent = provider.inner.calls().len();
    let logged = entries(&events);
    assert_eq!(logged.len(), 40);
    let ok = logged.iter().filter(|e| e.outcome == Outcome::Ok).count();
    let not_sent = logged.iter().filter(|e| e.outcome == Outcome::NotSent).count();
    assert_eq!(ok, sent, "every Ok was really sent");
    assert_eq!(ok + not_sent, 40);
    assert!(not_sent > 0 && sent >= 5);
    assert_eq!(provider.inner.items().len(), 40 - sent);
    assert!(outcomes_for(&events, "mk-000004")[0].1 == &Outcome::Ok);
    assert_eq!(finished(&events), (sent, 0, 40 - sent, true));
}

#[tokio::test]
async fn a_call_in_flight_at_cancel_finishes_and_reports_but_its_successor_is_not_sent() {
    let items = vec![apikey("AKID-1", Status::Enabled)];
    let entered = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let inner = MemoryProvider::new(ProviderKind::ApiGateway, "prod", "ap-guangzhou", items.clone());
    let provider = Arc::new(Faulty::new(inner).rule(
        "DisableApiKey",
        None,
        Effect::Hold {
            entered: entered.clone(),
            release: release.clone(),
        },
    ));
    let cancel = CancellationToken::new();
    let dir = tempfile::tempdir().unwrap();
    let (audit, path) = audit_in(&dir);
    let task = tokio::spawn(run(
        plan_of(&items, &Intent::Delete),
        vec![provider.clone() as Arc<dyn Provider>],
        LIVE,
        Some(audit),
        cancel.clone(),
    ));
    entered.notified().await;
    // The intent of the in-flight call is already on disk, without an outcome yet.
    assert_eq!(unmatched_intents(&path).unwrap().len(), 1);
    cancel.cancel();
    release.notify_one();
    let events = task.await.unwrap();

    assert_eq!(provider.inner.calls(), vec!["DisableApiKey AKID-1".to_string()]);
    assert_eq!(
        outcomes_for(&events, "AKID-1"),
        vec![("DisableApiKey", &Outcome::Ok), ("DeleteApiKey", &Outcome::NotSent)]
    );
    let not_sent = entries(&events)
        .into_iter()
        .find(|e| e.action == "DeleteApiKey")
        .unwrap();
    assert!(not_sent.hint.as_deref().unwrap().contains("stays disabled"));
    assert_eq!(finished(&events), (0, 0, 1, true));
    assert!(unmatched_intents(&path).unwrap().is_empty());
    // Refreshed after a cancelled run too: the key is now disabled.
    let refreshed = events.iter().find_map(|e| match e {
        ExecEvent::Refreshed { items, .. } => Some(items.clone()),
        _ => None,
    });
    assert_eq!(refreshed.unwrap()[0].status, Status::Disabled);
}

#[tokio::test]
async fn kept_pairs_are_reported_as_kept() {
    let items = vec![
        keypair("skey-1").bound_to(Binding::Instance("ins-x".into())),
        keypair("skey-2"),
    ];
    let provider = mem(ProviderKind::Cvm, "prod", "ap-guangzhou", items.clone());
    let plan = plan_of(&items, &Intent::Delete);
    assert_eq!(plan.calls.iter().map(|c| c.warnings.len()).sum::<usize>(), 1);
    let events = run(plan, vec![provider.clone()], LIVE, None, CancellationToken::new()).await;
    let k1 = outcomes_for(&events, "skey-1");
    assert!(matches!(k1[0].1, Outcome::Kept { reason } if reason.contains("ins-x")));
    assert_eq!(outcomes_for(&events, "skey-2")[0].1, &Outcome::Ok);
    assert_eq!(provider.items().len(), 1);
    assert_eq!(finished(&events), (2, 0, 0, false));
}

#[tokio::test]
async fn a_missing_provider_fails_its_items_and_the_rest_still_run() {
    let items = vec![
        keypair("skey-1"),
        item(ProviderKind::Cvm, "prod", "eu-frankfurt", "skey-9", "name-skey-9"),
    ];
    let provider = mem(ProviderKind::Cvm, "prod", "ap-guangzhou", items[..1].to_vec());
    let events = run(
        plan_of(&items, &Intent::Delete),
        vec![provider.clone()],
        LIVE,
        None,
        CancellationToken::new(),
    )
    .await;
    let missing = entries(&events).into_iter().find(|e| e.target == "skey-9").unwrap();
    match &missing.outcome {
        Outcome::Failed { code, message } => {
            assert_eq!(code, "NoProvider");
            assert!(message.contains("no provider configured for cvm account prod region eu-frankfurt"));
        }
        other => panic!("{other:?}"),
    }
    assert!(missing.hint.is_some());
    assert_eq!(provider.calls(), vec!["DeleteKeyPairs skey-1".to_string()]);
    assert_eq!(finished(&events), (1, 1, 0, false));
}

#[tokio::test]
async fn rotation_secret_goes_only_to_the_rotated_event() {
    let custom = "Zq7_custom_rotation_secret_81";
    let items = vec![apikey("AKID-1", Status::Enabled), apikey("AKID-2", Status::Disabled)];
    let provider = mem(ProviderKind::ApiGateway, "prod", "ap-guangzhou", items.clone());
    let dir = tempfile::tempdir().unwrap();
    let (audit, path) = audit_in(&dir);
    let plan = plan_of(
        &items,
        &Intent::Rotate {
            custom: Some(Secret::new(custom)),
        },
    );
    assert!(!format!("{plan:?}").contains(custom));
    let events = run(
        plan,
        vec![provider.clone()],
        LIVE,
        Some(audit),
        CancellationToken::new(),
    )
    .await;

    let rotated: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            ExecEvent::Rotated {
                key,
                request_id,
                secret,
                ..
            } => Some((key.id.clone(), request_id.clone(), secret.expose().to_string())),
            _ => None,
        })
        .collect();
    assert_eq!(rotated.len(), 2);
    assert!(rotated.iter().all(|(_, rid, s)| s == custom && rid.starts_with("mem-")));
    for e in &events {
        assert!(!format!("{e:?}").contains(custom), "secret leaked into {e:?}");
    }
    for e in entries(&events) {
        assert!(!serde_json::to_string(e).unwrap().contains(custom));
    }
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(!file.contains(custom), "secret leaked into the audit log");
    let intents: Vec<_> = read_entries(&path)
        .unwrap()
        .into_iter()
        .filter(|e| e["type"] == "intent")
        .collect();
    assert_eq!(intents.len(), 2);
    assert!(
        intents
            .iter()
            .all(|e| e["custom_secret"] == true && e["action"] == "UpdateApiKey")
    );
}

#[tokio::test]
async fn generated_rotation_secret_stays_out_of_the_audit_log() {
    let items = vec![apikey("AKID-1", Status::Enabled)];
    let provider = mem(ProviderKind::ApiGateway, "prod", "ap-guangzhou", items.clone());
    let dir = tempfile::tempdir().unwrap();
    let (audit, path) = audit_in(&dir);
    let events = run(
        plan_of(&items, &Intent::Rotate { custom: None }),
        vec![provider],
        LIVE,
        Some(audit),
        CancellationToken::new(),
    )
    .await;
    let secret = events
        .iter()
        .find_map(|e| match e {
            ExecEvent::Rotated { secret, .. } => Some(secret.expose().to_string()),
            _ => None,
        })
        .unwrap();
    assert!(!std::fs::read_to_string(&path).unwrap().contains(&secret));
    assert!(!events.iter().any(|e| format!("{e:?}").contains(&secret)));
}

#[tokio::test]
async fn audit_has_an_outcome_for_every_intent_with_request_ids() {
    let items = vec![apikey("AKID-1", Status::Enabled), keypair("skey-1")];
    let api = mem(ProviderKind::ApiGateway, "prod", "ap-guangzhou", items[..1].to_vec());
    let cvm = mem(ProviderKind::Cvm, "prod", "ap-guangzhou", items[1..].to_vec());
    let dir = tempfile::tempdir().unwrap();
    let (audit, path) = audit_in(&dir);
    run(
        plan_of(&items, &Intent::Delete),
        vec![api, cvm],
        LIVE,
        Some(audit),
        CancellationToken::new(),
    )
    .await;
    let lines = read_entries(&path).unwrap();
    let types: Vec<&str> = lines.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"run"));
    assert_eq!(types.last(), Some(&"run_end"));
    assert_eq!(types.iter().filter(|t| **t == "intent").count(), 3);
    assert_eq!(types.iter().filter(|t| **t == "outcome").count(), 3);
    // Each intent comes before its outcome.
    for (i, e) in lines.iter().enumerate().filter(|(_, e)| e["type"] == "intent") {
        let out = lines
            .iter()
            .position(|o| o["type"] == "outcome" && o["call"] == e["call"] && o["run"] == e["run"])
            .unwrap();
        assert!(out > i);
        assert_eq!(lines[out]["items"][0]["result"], "ok");
        assert!(
            lines[out]["items"][0]["request_id"]
                .as_str()
                .unwrap()
                .starts_with("mem-")
        );
        assert!(e["time"].is_string() && e["account"] == "prod" && e["region"] == "ap-guangzhou");
        assert_eq!(e["dry_run"], false);
    }
    assert!(unmatched_intents(&path).unwrap().is_empty());
}

#[tokio::test]
async fn a_timed_out_delete_is_recorded_as_unknown() {
    let items = vec![keypair("skey-1")];
    let inner = MemoryProvider::new(ProviderKind::Cvm, "prod", "ap-guangzhou", items.clone());
    let provider = Arc::new(Faulty::new(inner).rule(
        "DeleteKeyPairs",
        None,
        Effect::Fail(ProviderError::new(
            ErrorKind::Timeout,
            "Timeout",
            "no answer within 10 s",
        )),
    ));
    let dir = tempfile::tempdir().unwrap();
    let (audit, path) = audit_in(&dir);
    let events = run(
        plan_of(&items, &Intent::Delete),
        vec![provider],
        LIVE,
        Some(audit),
        CancellationToken::new(),
    )
    .await;
    let outcome = read_entries(&path)
        .unwrap()
        .into_iter()
        .find(|e| e["type"] == "outcome")
        .unwrap();
    assert_eq!(outcome["items"][0]["result"], "unknown");
    assert_eq!(outcome["items"][0]["code"], "Timeout");
    let entry = entries(&events)[0].clone();
    assert!(matches!(&entry.outcome, Outcome::Unknown { code, .. } if code == "Timeout"));
    assert!(entry.hint.unwrap().contains("may have taken effect"));
    assert_eq!(finished(&events), (0, 1, 0, false));
}

#[tokio::test]
async fn a_panicking_provider_fails_its_items_and_the_run_finishes() {
    let items = vec![apikey("AKID-1", Status::Disabled), apikey("AKID-2", Status::Disabled)];
    let inner = MemoryProvider::new(ProviderKind::ApiGateway, "prod", "ap-guangzhou", items.clone());
    let provider = Arc::new(Faulty::new(inner).rule("DeleteApiKey", Some("AKID-1"), Effect::Panic));
    let dir = tempfile::tempdir().unwrap();
    let (audit, path) = audit_in(&dir);
    let events = run(
        plan_of(&items, &Intent::Delete),
        vec![provider.clone()],
        LIVE,
        Some(audit),
        CancellationToken::new(),
    )
    .await;
    assert!(matches!(outcomes_for(&events, "AKID-1")[0].1, Outcome::Unknown { code, .. } if code == "Panic"));
    assert_eq!(outcomes_for(&events, "AKID-2")[0].1, &Outcome::Ok);
    assert_eq!(finished(&events), (1, 1, 0, false));
    assert!(unmatched_intents(&path).unwrap().is_empty());
}

#[tokio::test]
async fn disable_enable_and_rename_reach_the_provider() {
    let api_items = vec![apikey("AKID-1", Status::Enabled), apikey("AKID-2", Status::Disabled)];
    let api = mem(ProviderKind::ApiGateway, "prod", "ap-guangzhou", api_items.clone());
    let events = run(
        plan_of(&api_items, &Intent::Disable),
        vec![api.clone()],
        LIVE,
        None,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(api.calls(), vec!["DisableApiKey AKID-1".to_string()]);
    assert_eq!(finished(&events), (1, 0, 0, false));
    let now: Vec<Item> = api.items();
    run(
        plan_of(&now, &Intent::Enable),
        vec![api.clone()],
        LIVE,
        None,
        CancellationToken::new(),
    )
    .await;
    assert!(api.items().iter().all(|i| i.status == Status::Enabled));

    let pairs = vec![keypair("skey-1")];
    let cvm = mem(ProviderKind::Cvm, "prod", "ap-guangzhou", pairs.clone());
    let rename = Intent::Rename { name: "deploy".into() };
    run(
        plan_of(&pairs, &rename),
        vec![cvm.clone()],
        LIVE,
        None,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(cvm.items()[0].name, "deploy");
}

#[test]
fn execute_is_send_so_the_app_can_spawn_it() {
    fn assert_send<T: Send>(_: &T) {}
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let fut = keyward::queue::execute(Plan::default(), Vec::new(), LIVE, None, CancellationToken::new(), tx);
    assert_send(&fut);
}

#[tokio::test]
async fn an_empty_plan_just_finishes() {
    let events = run(Plan::default(), Vec::new(), LIVE, None, CancellationToken::new()).await;
    assert!(matches!(
        events[0],
        ExecEvent::Started {
            total_calls: 0,
            total_items: 0
        }
    ));
    assert_eq!(finished(&events), (0, 0, 0, false));
}

#[tokio::test]
async fn a_key_disabled_by_the_run_whose_delete_fails_is_flagged_as_left_disabled() {
    let items = vec![apikey("AKID-1", Status::Enabled)];
    let inner = MemoryProvider::new(ProviderKind::ApiGateway, "prod", "ap-guangzhou", items.clone());
    // Not "in use": the delete may be retried once the permission is granted, so the key
    // is left disabled (and the operator told so) rather than enabled again.
    let err = ProviderError::new(ErrorKind::Api, "UnauthorizedOperation", "CAM denies DeleteApiKey");
    let provider = Arc::new(Faulty::new(inner).rule("DeleteApiKey", None, Effect::Fail(err)));
    let events = run(
        plan_of(&items, &Intent::Delete),
        vec![provider.clone()],
        LIVE,
        None,
        CancellationToken::new(),
    )
    .await;
    let delete = entries(&events)
        .into_iter()
        .find(|e| e.action == "DeleteApiKey")
        .unwrap();
    let hint = delete.hint.as_deref().unwrap();
    assert!(
        hint.starts_with("these credentials are not allowed to do this"),
        "{hint}"
    );
    assert!(hint.contains("stays disabled"), "{hint}");
    assert_eq!(provider.inner.calls(), ["DisableApiKey AKID-1"], "no EnableApiKey");
    assert_eq!(provider.inner.items()[0].status, Status::Disabled);
    assert_eq!(finished(&events), (0, 1, 0, false));
}

/// The listing showed AKID-1 unbound (stale), the service has it on a usage plan: the
/// delete is refused as in use, so the run enables the key it disabled. AKID-2 was already
/// disabled before the run and bound too: it is not touched beyond its failed delete.
#[tokio::test]
async fn a_key_disabled_by_the_run_whose_delete_is_refused_as_in_use_is_enabled_again() {
    let listed = vec![apikey("AKID-1", Status::Enabled), apikey("AKID-2", Status::Disabled)];
    let actual: Vec<Item> = listed
        .iter()
        .map(|i| i.clone().bound_to(Binding::usage_plan("usagePlan-1")))
        .collect();
    let provider = mem(ProviderKind::ApiGateway, "prod", "ap-guangzhou", actual);
    let dir = tempfile::tempdir().unwrap();
    let (audit, path) = audit_in(&dir);
    let plan = plan_of(&listed, &Intent::Delete);
    assert_eq!(plan.calls.len(), 3, "Disable + Delete AKID-1, Delete AKID-2");
    let events = run(
        plan,
        vec![provider.clone()],
        LIVE,
        Some(audit),
        CancellationToken::new(),
    )
    .await;

    let in_use = Outcome::Failed {
        code: "UnsupportedOperation.ResourceIsInUse".into(),
        message: "The key has already been bound to a usage plan.".into(),
    };
    assert_eq!(
        outcomes_for(&events, "AKID-1"),
        vec![
            ("DisableApiKey", &Outcome::Ok),
            ("DeleteApiKey", &in_use),
            ("EnableApiKey", &Outcome::Ok)
        ]
    );
    assert_eq!(outcomes_for(&events, "AKID-2"), vec![("DeleteApiKey", &in_use)]);
    assert_eq!(
        provider.calls(),
        ["DisableApiKey AKID-1", "EnableApiKey AKID-1"],
        "the failed deletes are not recorded by the memory provider"
    );
    let status: Vec<Status> = provider.items().iter().map(|i| i.status).collect();
    assert_eq!(
        status,
        [Status::Enabled, Status::Disabled],
        "each key is back as it was"
    );

    let log = entries(&events);
    let delete = log
        .iter()
        .find(|e| e.target == "AKID-1" && e.action == "DeleteApiKey")
        .unwrap();
    let hint = delete.hint.as_deref().unwrap();
    assert!(hint.starts_with("unbind the key from its usage plan first"), "{hint}");
    assert!(
        hint.contains("enables it again") && !hint.contains("stays disabled"),
        "{hint}"
    );
    let enable = log.iter().find(|e| e.action == "EnableApiKey").unwrap();
    assert_eq!(
        enable.hint.as_deref(),
        Some("re-enabled: the key is bound to a usage plan, so it was not deleted")
    );
    assert!(enable.request_id.as_deref().unwrap().starts_with("mem-"));
    let delete_at = events
        .iter()
        .position(|e| matches!(e, ExecEvent::Item(l) if l.target == "AKID-1" && l.action == "DeleteApiKey"));
    let enable_at = events
        .iter()
        .position(|e| matches!(e, ExecEvent::Item(l) if l.action == "EnableApiKey"));
    assert!(delete_at < enable_at, "the delete is reported before its restore");
    assert_eq!(finished(&events), (0, 2, 0, false), "the deletes still count as failed");

    // The restore is its own audited call: intent before outcome, numbered after the plan's 3.
    let lines = read_entries(&path).unwrap();
    let restore: Vec<&serde_json::Value> = lines.iter().filter(|e| e["action"] == "EnableApiKey").collect();
    assert_eq!(restore.len(), 2, "{restore:?}");
    assert_eq!(
        (restore[0]["type"].as_str(), restore[1]["type"].as_str()),
        (Some("intent"), Some("outcome"))
    );
    assert_eq!(restore[0]["call"], 3);
    assert_eq!(restore[0]["ids"], serde_json::json!(["AKID-1"]));
    assert_eq!(restore[1]["items"][0]["result"], "ok");
    assert!(unmatched_intents(&path).unwrap().is_empty());
}

#[tokio::test]
async fn a_failed_restore_is_reported_and_the_key_flagged_as_left_disabled() {
    let items = vec![apikey("AKID-1", Status::Enabled)];
    let inner = MemoryProvider::new(ProviderKind::ApiGateway, "prod", "ap-guangzhou", items.clone());
    let in_use = ProviderError::new(ErrorKind::Api, "UnsupportedOperation.ResourceIsInUse", "bound");
    let denied = ProviderError::new(ErrorKind::Api, "UnauthorizedOperation", "CAM denies EnableApiKey")
        .with_request_id(Some("req-en".into()));
    let provider = Arc::new(
        Faulty::new(inner)
            .rule("DeleteApiKey", None, Effect::Fail(in_use))
            .rule("EnableApiKey", None, Effect::Fail(denied)),
    );
    let events = run(
        plan_of(&items, &Intent::Delete),
        vec![provider.clone()],
        LIVE,
        None,
        CancellationToken::new(),
    )
    .await;
    assert_eq!(
        *provider.fired.lock().unwrap(),
        ["DeleteApiKey AKID-1", "EnableApiKey AKID-1"]
    );
    let enable = entries(&events)
        .into_iter()
        .find(|e| e.action == "EnableApiKey")
        .unwrap();
    assert!(matches!(&enable.outcome, Outcome::Failed { code, .. } if code == "UnauthorizedOperation"));
    assert_eq!(enable.request_id.as_deref(), Some("req-en"));
    assert!(
        enable.hint.as_deref().unwrap().contains("stays disabled"),
        "{:?}",
        enable.hint
    );
    assert_eq!(provider.inner.items()[0].status, Status::Disabled);
    assert_eq!(finished(&events), (0, 1, 0, false));
}

#[tokio::test]
async fn the_restore_is_sent_even_when_the_run_was_cancelled_during_the_delete() {
    let listed = vec![apikey("AKID-1", Status::Enabled)];
    let actual = vec![listed[0].clone().bound_to(Binding::usage_plan("usagePlan-1"))];
    let inner = MemoryProvider::new(ProviderKind::ApiGateway, "prod", "ap-guangzhou", actual);
    let cancel = CancellationToken::new();
    let provider = Arc::new(Faulty::new(inner).rule("DeleteApiKey", None, Effect::Cancel(cancel.clone())));
    let events = run(
        plan_of(&listed, &Intent::Delete),
        vec![provider.clone()],
        LIVE,
        None,
        cancel,
    )
    .await;
    assert_eq!(provider.inner.calls(), ["DisableApiKey AKID-1", "EnableApiKey AKID-1"]);
    assert_eq!(provider.inner.items()[0].status, Status::Enabled);
    assert_eq!(finished(&events), (0, 1, 0, true));
}

#[tokio::test]
async fn a_dry_run_never_restores() {
    let listed = vec![apikey("AKID-1", Status::Enabled)];
    let actual = vec![listed[0].clone().bound_to(Binding::usage_plan("usagePlan-1"))];
    let provider = mem(ProviderKind::ApiGateway, "prod", "ap-guangzhou", actual);
    let events = run(
        plan_of(&listed, &Intent::Delete),
        vec![provider.clone()],
        DRY,
        None,
        CancellationToken::new(),
    )
    .await;
    assert!(provider.calls().is_empty());
    assert!(entries(&events).iter().all(|e| e.action != "EnableApiKey"));
}

#[tokio::test]
async fn calls_run_concurrently_but_never_more_than_the_bound_and_keep_per_item_order() {
    let items = MemoryProvider::sample_items(ProviderKind::ApiGateway, "prod", "ap-guangzhou", "AKID", 60);
    let inner = MemoryProvider::new(ProviderKind::ApiGateway, "prod", "ap-guangzhou", items.clone());
    let provider = Arc::new(Probe::new(inner, std::time::Duration::from_millis(2)));
    let events = run(
        plan_of(&items, &Intent::Delete),
        vec![provider.clone()],
        LIVE,
        None,
        CancellationToken::new(),
    )
    .await;
    for action in ["DisableApiKey", "DeleteApiKey"] {
        let max = provider.max_in_flight(action);
        assert!(max > 1, "{action} calls for different keys overlap");
        assert!(max <= keyward::queue::MAX_IN_FLIGHT, "{max} {action} in flight");
    }
    let calls = provider.inner.calls();
    assert_eq!(calls.len(), 120);
    for i in &items {
        let disable = calls.iter().position(|c| *c == format!("DisableApiKey {}", i.key.id));
        let delete = calls.iter().position(|c| *c == format!("DeleteApiKey {}", i.key.id));
        assert!(disable.unwrap() < delete.unwrap());
    }
    // The two APIs have separate rate limits: deletes start while disables are still
    // queued, rather than waiting behind every one of them (which halves throughput).
    let first_delete = calls.iter().position(|c| c.starts_with("DeleteApiKey")).unwrap();
    let last_disable = calls.iter().rposition(|c| c.starts_with("DisableApiKey")).unwrap();
    assert!(first_delete < last_disable, "deletes waited behind all disables");
    assert!(provider.inner.items().is_empty());
    assert_eq!(finished(&events), (60, 0, 0, false));
}

/// The audit `run_end` line and `Finished` count each outcome kind apart: a pair the
/// service kept is not `ok`, and a dry run sent nothing, so it is not `ok` either.
#[tokio::test]
async fn run_end_counts_kept_and_dry_run_apart_from_ok() {
    let items = vec![
        keypair("skey-1"),
        keypair("skey-2"),
        keypair("skey-3").bound_to(Binding::Instance("ins-1".into())),
    ];
    let run_end = |path: &std::path::Path| {
        let lines = read_entries(path).unwrap();
        let end = lines.last().unwrap().clone();
        assert_eq!(end["type"], "run_end");
        end
    };
    for (opts, expected) in [
        (LIVE, (2, 1, 0)), // (ok, kept, dry_run)
        (DRY, (0, 0, 3)),
    ] {
        let cvm = mem(ProviderKind::Cvm, "prod", "ap-guangzhou", items.clone());
        let dir = tempfile::tempdir().unwrap();
        let (audit, path) = audit_in(&dir);
        let events = run(
            plan_of(&items, &Intent::Delete),
            vec![cvm],
            opts,
            Some(audit),
            CancellationToken::new(),
        )
        .await;
        let end = run_end(&path);
        let counts = |e: &serde_json::Value| (e["ok"].clone(), e["kept"].clone(), e["dry_run"].clone());
        assert_eq!(
            counts(&end),
            (expected.0.into(), expected.1.into(), expected.2.into()),
            "{end}"
        );
        assert_eq!((end["failed"].clone(), end["not_sent"].clone()), (0.into(), 0.into()));
        let (tally, _) = tally(&events);
        assert_eq!((tally.ok, tally.kept, tally.dry_run), expected);
    }
}

/// A call that may have been applied (a timeout) is counted `unknown`, not `failed`.
#[tokio::test]
async fn run_end_counts_unknown_apart_from_failed() {
    struct TimesOut(MemoryProvider);
    #[async_trait::async_trait]
    impl Provider for TimesOut {
        fn scope(&self) -> &keyward::inventory::Scope {
            self.0.scope()
        }
        async fn list(&self) -> Result<Vec<Item>, ProviderError> {
            self.0.list().await
        }
        async fn delete(&self, _ids: &[String]) -> Result<keyward::providers::DeleteReport, ProviderError> {
            Err(ProviderError::new(ErrorKind::Timeout, "Timeout", "no answer in time"))
        }
    }
    let items = vec![keypair("skey-1")];
    let cvm = Arc::new(TimesOut(MemoryProvider::new(
        ProviderKind::Cvm,
        "prod",
        "ap-guangzhou",
        items.clone(),
    )));
    let dir = tempfile::tempdir().unwrap();
    let (audit, path) = audit_in(&dir);
    let events = run(
        plan_of(&items, &Intent::Delete),
        vec![cvm],
        LIVE,
        Some(audit),
        CancellationToken::new(),
    )
    .await;
    let end = read_entries(&path).unwrap().last().unwrap().clone();
    assert_eq!(
        (end["unknown"].clone(), end["failed"].clone()),
        (1.into(), 0.into()),
        "{end}"
    );
    assert_eq!(tally(&events).0.unknown, 1);
}

/// A key deleted elsewhere between listing and the run counts as gone, not as failed; for a
/// batch the service's answer does not say which id is missing, so the batch fails.
#[tokio::test]
async fn a_key_already_gone_counts_as_deleted_but_a_batch_with_a_missing_id_fails() {
    let listed = vec![apikey("AKID-gone", Status::Disabled)];
    let provider = mem(ProviderKind::ApiGateway, "prod", "ap-guangzhou", Vec::new());
    let events = run(
        plan_of(&listed, &Intent::Delete),
        vec![provider],
        LIVE,
        None,
        CancellationToken::new(),
    )
    .await;
    let log = entries(&events);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, Outcome::Ok, "{:?}", log[0]);
    assert!(
        log[0].hint.as_deref().is_some_and(|h| h.starts_with("already deleted")),
        "{:?}",
        log[0]
    );
    assert_eq!(finished(&events), (1, 0, 0, false));

    let pairs = vec![keypair("skey-here"), keypair("skey-gone")];
    let cvm = mem(ProviderKind::Cvm, "prod", "ap-guangzhou", vec![keypair("skey-here")]);
    let events = run(
        plan_of(&pairs, &Intent::Delete),
        vec![cvm],
        LIVE,
        None,
        CancellationToken::new(),
    )
    .await;
    assert!(
        entries(&events)
            .iter()
            .all(|e| matches!(e.outcome, Outcome::Failed { .. }))
    );
}

/// The re-read after a run goes through the same panic guard as every provider call: a
/// provider that panics there is caught, marked as caught for the panic hook (so the TUI's
/// terminal-restoring hook leaves the screen alone), and the run still settles.
#[tokio::test(flavor = "current_thread")]
async fn a_provider_panicking_in_the_post_run_reread_is_caught_by_the_panic_guard() {
    struct PanicsOnList(MemoryProvider);
    #[async_trait::async_trait]
    impl Provider for PanicsOnList {
        fn scope(&self) -> &keyward::inventory::Scope {
            self.0.scope()
        }
        async fn list(&self) -> Result<Vec<Item>, ProviderError> {
            panic!("injected panic while re-reading")
        }
        async fn delete(&self, ids: &[String]) -> Result<keyward::providers::DeleteReport, ProviderError> {
            self.0.delete(ids).await
        }
    }
    let items = vec![keypair("skey-1")];
    let provider = Arc::new(PanicsOnList(MemoryProvider::new(
        ProviderKind::Cvm,
        "prod",
        "ap-guangzhou",
        items.clone(),
    )));
    let me = std::thread::current().id();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |_| {
        if std::thread::current().id() == me {
            record.lock().unwrap().push(keyward::panic_guard::is_caught());
        }
    }));
    let events = run(
        plan_of(&items, &Intent::Delete),
        vec![provider],
        LIVE,
        None,
        CancellationToken::new(),
    )
    .await;
    std::panic::set_hook(previous);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![true],
        "the re-read's panic was raised inside the guard"
    );
    assert_eq!(finished(&events), (1, 0, 0, false));
}
