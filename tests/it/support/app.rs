//! Shared test fixtures for the app/ui tests: items, a stand-in planner and executor
//! (until queue::build_plan/execute land), key helpers and fixed log entries.

use super::items::item;
use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyward::app::{App, AppOptions, Effect, LoadState, Msg, Source, update};
use keyward::inventory::{Item, ItemKey, ProviderKind, Scope, Status};
use keyward::providers::Provider;
use keyward::queue::{ExecEvent, Intent, LogEntry, Op, Outcome, Plan, PlannedCall};
use std::sync::Arc;

pub fn source(kind: ProviderKind, account: &str, region: &str) -> Source {
    Source {
        scope: Scope::new(kind, account, region),
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
        scope: item.key.scope.clone(),
        action: action(item.key.scope.kind, &op),
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
        if item.key.scope.kind == ProviderKind::Cvm && op == Op::Delete {
            if let Some(first) = cvm_batch.first() {
                if first.key.scope != item.key.scope || cvm_batch.len() == 100 {
                    let ids = cvm_batch.iter().map(|i| i.key.id.to_string()).collect();
                    plan.calls.push(call_for(&cvm_batch, Op::Delete, ids));
                    cvm_batch.clear();
                }
            }
            cvm_batch.push(item);
            continue;
        }
        if action(item.key.scope.kind, &op) == "Unsupported" {
            plan.skipped
                .push((item.key.clone(), format!("{} not supported here", intent.verb())));
            continue;
        }
        if op == Op::Delete && item.key.scope.kind == ProviderKind::ApiGateway && item.status == Status::Enabled {
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
        if !sources.iter().any(|s| s.scope == i.key.scope) {
            sources.push(Source {
                scope: i.key.scope.clone(),
                state: LoadState::Loading,
            });
        }
    }
    let mut app = App::new(sources.clone(), options).with_planner(test_plan);
    for s in &sources {
        let mine: Vec<Item> = items.iter().filter(|i| i.key.scope == s.scope).cloned().collect();
        update(
            &mut app,
            Msg::Loaded {
                scope: s.scope.clone(),
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

/// One key at a person's pace: the app's clock moves on as much as the harness's does,
/// so dialogs are answered after their open guard, as a person answers them.
pub fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.now += keyward::tui::HUMAN_KEY_GAP;
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    app.now += keyward::tui::HUMAN_KEY_GAP;
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

/// A log entry at a fixed time (snapshots must not depend on the clock).
pub fn entry(target: &str, outcome: Outcome, request_id: Option<&str>, hint: Option<&str>) -> LogEntry {
    LogEntry {
        time: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().unwrap_or_default(),
        scope: Scope::new(ProviderKind::Cvm, "prod", "ap-guangzhou"),
        action: "DeleteKeyPairs".into(),
        operation: Some(keyward::providers::Operation::Delete),
        target: target.into(),
        name: None,
        outcome,
        request_id: request_id.map(str::to_string),
        hint: hint.map(str::to_string),
    }
}
