//! Shared test fixtures for the app/ui tests: items, a stand-in planner and executor
//! (until queue::build_plan/execute land), key helpers and fixed log entries.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyward::app::{App, AppOptions, Effect, LoadState, Msg, Source, update};
use keyward::inventory::{Binding, Item, ItemKey, ProviderKind, Status};
use keyward::providers::Provider;
use keyward::queue::{ExecEvent, Intent, LogEntry, Op, Outcome, Plan, PlannedCall};
use std::sync::Arc;

pub fn item(kind: ProviderKind, account: &str, region: &str, id: &str, name: &str) -> Item {
    Item {
        key: ItemKey {
            kind,
            account: account.into(),
            region: region.into(),
            id: id.into(),
        },
        name: name.into(),
        status: if kind == ProviderKind::ApiGateway {
            Status::Enabled
        } else {
            Status::Active
        },
        key_type: if kind == ProviderKind::Cvm {
            "ssh-ed25519".into()
        } else {
            "auto".into()
        },
        description: "".into(),
        created: "2025-03-01T08:00:00Z".into(),
        modified: "2025-03-02T09:30:00Z".into(),
        last_used: "".into(),
        bindings: Vec::new(),
    }
}

pub fn source(kind: ProviderKind, account: &str, region: &str) -> Source {
    Source {
        kind,
        account: account.into(),
        region: region.into(),
        state: LoadState::Loading,
    }
}

/// Action name per (kind, op), as the real planner names them.
fn action(kind: ProviderKind, op: &Op) -> &'static str {
    match (kind, op) {
        (ProviderKind::ApiGateway, Op::Delete) => "DeleteApiKey",
        (ProviderKind::ApiGateway, Op::Disable) => "DisableApiKey",
        (ProviderKind::ApiGateway, Op::Enable) => "EnableApiKey",
        (ProviderKind::ApiGateway, Op::Rotate { .. }) => "UpdateApiKey",
        (ProviderKind::Cvm, Op::Delete) => "DeleteKeyPairs",
        (ProviderKind::Cvm, Op::Rename { .. }) => "ModifyKeyPairAttribute",
        (ProviderKind::OceanBase, Op::Delete) => "DELETE /api/v2/maas/apikeys",
        _ => "Unsupported",
    }
}

fn call(item: &Item, op: Op, ids: Vec<String>) -> PlannedCall {
    call_for(&[item], op, ids)
}

fn call_for(items: &[&Item], op: Op, ids: Vec<String>) -> PlannedCall {
    let item = items[0];
    let warnings = items
        .iter()
        .filter(|i| i.is_bound())
        .map(|i| format!("{} bound to {}: will not be deleted", i.key.id, i.bindings_text()))
        .collect();
    PlannedCall {
        kind: item.key.kind,
        account: item.key.account.to_string(),
        region: item.key.region.to_string(),
        action: action(item.key.kind, &op),
        op,
        ids,
        warnings,
    }
}

/// A small stand-in for `queue::build_plan`: one call per item, CVM deletes batched
/// by 100 per region, enabled API keys disabled before delete.
pub fn test_plan(items: &[&Item], intent: &Intent) -> Plan {
    let mut plan = Plan::default();
    let op = match intent {
        Intent::Delete => Op::Delete,
        Intent::Disable => Op::Disable,
        Intent::Enable => Op::Enable,
        Intent::Rotate { custom } => Op::Rotate { custom: custom.clone() },
        Intent::Rename { name, description } => Op::Rename {
            name: name.clone(),
            description: description.clone(),
        },
    };
    let mut cvm_batch: Vec<&Item> = Vec::new();
    for item in items {
        if item.key.kind == ProviderKind::Cvm && op == Op::Delete {
            if let Some(first) = cvm_batch.first() {
                if first.key.region != item.key.region
                    || first.key.account != item.key.account
                    || cvm_batch.len() == 100
                {
                    let ids = cvm_batch.iter().map(|i| i.key.id.to_string()).collect();
                    plan.calls.push(call_for(&cvm_batch, Op::Delete, ids));
                    cvm_batch.clear();
                }
            }
            cvm_batch.push(item);
            continue;
        }
        if action(item.key.kind, &op) == "Unsupported" {
            plan.skipped
                .push((item.key.clone(), format!("{} not supported here", intent.verb())));
            continue;
        }
        if op == Op::Delete && item.key.kind == ProviderKind::ApiGateway && item.status == Status::Enabled {
            plan.calls.push(call(item, Op::Disable, vec![item.key.id.to_string()]));
        }
        plan.calls.push(call(item, op.clone(), vec![item.key.id.to_string()]));
    }
    if !cvm_batch.is_empty() {
        let ids = cvm_batch.iter().map(|i| i.key.id.to_string()).collect();
        plan.calls.push(call_for(&cvm_batch, Op::Delete, ids));
    }
    plan
}

/// App with `test_plan`, loaded with `items` (one source per distinct kind/account/region).
pub fn app_with(items: Vec<Item>, options: AppOptions) -> App {
    let mut sources: Vec<Source> = Vec::new();
    for i in &items {
        if !sources
            .iter()
            .any(|s| s.kind == i.key.kind && s.account == i.key.account && s.region == i.key.region)
        {
            sources.push(source(i.key.kind, &i.key.account, &i.key.region));
        }
    }
    let mut app = App::new(sources.clone(), options).with_planner(test_plan);
    for (n, s) in sources.iter().enumerate() {
        let mine: Vec<Item> = items
            .iter()
            .filter(|i| i.key.kind == s.kind && i.key.account == s.account && i.key.region == s.region)
            .cloned()
            .collect();
        update(
            &mut app,
            Msg::Loaded {
                provider: n,
                result: Ok(mine),
            },
        );
    }
    app
}

pub fn opts() -> AppOptions {
    AppOptions {
        read_only: false,
        dry_run: false,
        title: "test (memory)".into(),
    }
}

pub fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    update(app, Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)))
}

/// Each char as a key press; returns all effects.
pub fn press(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| key(app, KeyCode::Char(c))).collect()
}

/// 300 CVM key pairs in prod/ap-guangzhou (ids kp-000000..), names alternating
/// "web-N" / "db-N", and 5 API keys in prod/ap-guangzhou.
pub fn fleet() -> Vec<Item> {
    let mut items: Vec<Item> = (0..300)
        .map(|i| {
            let name = if i % 2 == 0 {
                format!("web-{i}")
            } else {
                format!("db-{i}")
            };
            item(ProviderKind::Cvm, "prod", "ap-guangzhou", &format!("kp-{i:06}"), &name)
        })
        .collect();
    for i in 0..5 {
        items.push(item(
            ProviderKind::ApiGateway,
            "prod",
            "ap-guangzhou",
            &format!("AKID{i:04}"),
            &format!("api-{i}"),
        ));
    }
    items
}

pub fn bound(mut item: Item, binding: Binding) -> Item {
    item.bindings.push(binding);
    item
}

/// A log entry at a fixed time (snapshots must not depend on the clock).
pub fn entry(target: &str, outcome: Outcome, request_id: Option<&str>, hint: Option<&str>) -> LogEntry {
    LogEntry {
        time: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().unwrap_or_default(),
        kind: ProviderKind::Cvm,
        account: "prod".into(),
        region: "ap-guangzhou".into(),
        action: "DeleteKeyPairs".into(),
        target: target.into(),
        outcome,
        request_id: request_id.map(str::to_string),
        hint: hint.map(str::to_string),
    }
}

/// A minimal executor with the `queue::execute` contract, for driving the runtime in
/// tests before the real one lands: calls providers, reports items, progress, refresh.
pub fn test_executor() -> keyward::tui::Executor {
    Arc::new(|plan, providers, opts, _audit, cancel, events| {
        Box::pin(async move {
            let total_calls = plan.calls.len();
            let _ = events.send(ExecEvent::Started {
                total_calls,
                total_items: plan.item_count(),
            });
            let (mut ok, mut failed, mut not_sent) = (0, 0, 0);
            for (n, call) in plan.calls.iter().enumerate() {
                let Some(p) = providers
                    .iter()
                    .find(|p| p.kind() == call.kind && p.account() == call.account && p.region() == call.region)
                else {
                    continue;
                };
                for id in &call.ids {
                    let outcome = if cancel.is_cancelled() {
                        not_sent += 1;
                        Outcome::NotSent
                    } else if opts.dry_run {
                        Outcome::DryRun
                    } else {
                        let result = match &call.op {
                            Op::Delete => p.delete(std::slice::from_ref(id)).await.map(|r| r.request_id),
                            Op::Disable => p.disable(id).await.map(|r| r.request_id),
                            Op::Enable => p.enable(id).await.map(|r| r.request_id),
                            Op::Rename { name, description } => {
                                p.rename(id, name, description.as_deref()).await.map(|r| r.request_id)
                            }
                            Op::Rotate { custom } => match p.rotate(id, custom.as_ref()).await {
                                Ok(r) => {
                                    let _ = events.send(ExecEvent::Rotated {
                                        key: ItemKey {
                                            kind: call.kind,
                                            account: call.account.as_str().into(),
                                            region: call.region.as_str().into(),
                                            id: id.as_str().into(),
                                        },
                                        request_id: r.receipt.request_id.clone(),
                                        secret: r.new_secret,
                                    });
                                    Ok(r.receipt.request_id)
                                }
                                Err(e) => Err(e),
                            },
                        };
                        match result {
                            Ok(_) => {
                                ok += 1;
                                Outcome::Ok
                            }
                            Err(e) => {
                                failed += 1;
                                Outcome::Failed {
                                    code: e.code,
                                    message: e.message,
                                }
                            }
                        }
                    };
                    let mut e = entry(id, outcome, Some("mem"), None);
                    e.kind = call.kind;
                    e.action = call.action.to_string();
                    let _ = events.send(ExecEvent::Item(e));
                }
                let _ = events.send(ExecEvent::Progress {
                    done_calls: n + 1,
                    total_calls,
                });
            }
            for p in &providers {
                if plan
                    .calls
                    .iter()
                    .any(|c| c.kind == p.kind() && c.account == p.account())
                {
                    if let Ok(items) = p.list().await {
                        let _ = events.send(ExecEvent::Refreshed {
                            kind: p.kind(),
                            account: p.account().to_string(),
                            region: p.region().to_string(),
                            items,
                        });
                    }
                }
            }
            let _ = events.send(ExecEvent::Finished {
                cancelled: cancel.is_cancelled(),
                tally: keyward::queue::Tally {
                    ok,
                    failed,
                    not_sent,
                    ..Default::default()
                },
            });
        })
    })
}

pub fn providers_of(list: Vec<Arc<keyward::providers::memory::MemoryProvider>>) -> Vec<Arc<dyn Provider>> {
    list.into_iter().map(|p| p as Arc<dyn Provider>).collect()
}
