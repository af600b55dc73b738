//! App and render fixtures: sources, an app loaded with items (planning through the real
//! `queue::build_plan`), key helpers and log entries at a fixed time.

use super::items::item;
use chrono::{TimeZone, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyward::app::{App, AppOptions, Effect, LoadState, Msg, Source, update};
use keyward::inventory::{Item, ProviderKind, Scope};
use keyward::providers::Provider;
use keyward::queue::{LogEntry, Outcome};
use std::sync::Arc;

pub fn source(kind: ProviderKind, account: &str, region: &str) -> Source {
    Source {
        scope: Scope::new(kind, account, region),
        state: LoadState::Loading,
    }
}

/// App loaded with `items` (one source per distinct kind/account/region); its plans are
/// `queue::build_plan`'s, as always.
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
    let mut app = App::new(sources.clone(), options);
    app.wall_clock = super::items::now();
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
        ..AppOptions::default()
    }
}

/// One key at a person's pace: the app's clock moves on as much as the harness's does,
/// so dialogs are answered after their open guard, as a person answers them.
pub fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.now += crate::support::harness::HUMAN_KEY_GAP;
    update(app, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

pub fn ctrl(app: &mut App, c: char) -> Vec<Effect> {
    app.now += crate::support::harness::HUMAN_KEY_GAP;
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

pub fn providers_of(list: Vec<Arc<keyward::providers::memory::MemoryProvider>>) -> Vec<Arc<dyn Provider>> {
    list.into_iter().map(|p| p as Arc<dyn Provider>).collect()
}

/// The regions of each account in [`many_sources`].
pub const MANY_REGIONS: [&str; 5] = ["ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-singapore", "ap-tokyo"];

/// An app with `accounts` x 5 CVM sources (accounts `acme-000`...). Source `n` (in
/// configuration order: account by account, region by region) gets `outcome(n)`: `Some(Ok)`
/// loads one in-memory key pair (`MemoryProvider::sample_items`), `Some(Err)` fails,
/// `None` is still loading. The CVM tab is active.
pub fn many_sources(
    accounts: usize,
    outcome: impl Fn(usize) -> Option<Result<(), keyward::providers::ProviderError>>,
) -> App {
    use keyward::providers::memory::MemoryProvider;
    let scopes: Vec<Scope> = (0..accounts)
        .flat_map(|a| MANY_REGIONS.map(|r| Scope::new(ProviderKind::Cvm, format!("acme-{a:03}"), r)))
        .collect();
    let sources = scopes
        .iter()
        .map(|s| Source {
            scope: s.clone(),
            state: LoadState::Loading,
        })
        .collect();
    let mut app = App::new(sources, opts());
    app.wall_clock = super::items::now();
    for (n, scope) in scopes.into_iter().enumerate() {
        let result = match outcome(n) {
            None => continue,
            Some(Ok(())) => Ok(MemoryProvider::sample_items(
                scope.kind,
                &scope.account,
                &scope.region,
                &format!("kp{n:04}"),
                1,
            )),
            Some(Err(e)) => Err(e),
        };
        update(&mut app, Msg::Loaded { scope, result });
    }
    app.active = 1;
    app
}

/// One frame of `app` on a `TestBackend`, as text.
pub fn render_text(app: &App, width: u16, height: u16) -> String {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height))
        .unwrap_or_else(|never| match never {});
    if let Err(never) = terminal.draw(|f| keyward::ui::draw(f, app)) {
        match never {}
    }
    terminal.backend().to_string()
}
