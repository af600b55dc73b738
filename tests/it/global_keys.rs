//! Keys several regions of one account list (account-global CVM key pairs, API Gateway
//! SecretIds that are unique across regions): one row with every region, one call to the
//! first region in config order, gone from every region after the run. And per-region
//! keys (distinct ids per region), unchanged: one row and one call each.

use crate::support::app::*;
use crate::support::exec::run;
use crate::support::harness::Harness;
use crate::support::items::*;
use crate::support::regions::{SharedRegion, shared_regions};
use crossterm::event::KeyCode;
use keyward::app::{App, Msg, update};
use keyward::inventory::{Item, ProviderKind, Row, Scope};
use keyward::list::{self, Format, Selection};
use keyward::providers::Provider;
use keyward::providers::memory::MemoryProvider;
use keyward::queue::{ExecEvent, ExecOptions, Intent, Op, build_plan};
use keyward::tui::{RunOptions, Runtime};
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const REGIONS: [&str; 3] = ["ap-guangzhou", "ap-shanghai", "ap-beijing"];

fn pair(region: &str, id: &str) -> Item {
    item(ProviderKind::Cvm, "prod", region, id, &format!("name-{id}"))
}

/// The same two pairs listed by every region, loaded in config order.
fn global_app() -> App {
    app_with(
        REGIONS
            .iter()
            .flat_map(|r| [pair(r, "skey-1"), pair(r, "skey-2")])
            .collect(),
        opts(),
    )
}

/// One pair per region, each with its own id, loaded in config order.
fn per_region_app() -> App {
    app_with(
        REGIONS
            .iter()
            .enumerate()
            .map(|(i, r)| pair(r, &format!("skey-{i}")))
            .collect(),
        opts(),
    )
}

fn cvm_tab(app: &mut App) -> &mut keyward::app::table::TabState {
    app.tab_for(ProviderKind::Cvm)
}

fn regions_of(row: &Row) -> Vec<&str> {
    row.regions().collect()
}

fn scope(region: &str) -> Scope {
    Scope::new(ProviderKind::Cvm, "prod", region)
}

#[test]
fn the_same_id_from_every_region_is_one_row_with_all_its_regions() {
    let mut app = global_app();
    let tab = cvm_tab(&mut app);
    assert_eq!(tab.len(), 2, "two keys, not six rows");
    for row in tab.items() {
        assert_eq!(regions_of(row), REGIONS, "config order, the first leads");
        assert_eq!(row.key.scope.region, "ap-guangzhou");
        assert_eq!(row.region_label(), "ap-guangzhou +2");
    }
}

/// Per-region pairs: distinct ids in each region stay a row each, with one region.
#[test]
fn distinct_ids_per_region_stay_one_row_each() {
    let mut app = per_region_app();
    let tab = cvm_tab(&mut app);
    assert_eq!(tab.len(), 3);
    assert!(tab.items().iter().all(|r| r.also_in.is_empty()));
}

/// A reload of a region that no longer returns the key takes that region off the row;
/// when it was the first region, the row is addressed through the next one and stays
/// selected.
#[test]
fn a_reload_that_no_longer_lists_it_takes_the_region_off_the_row() {
    let mut app = global_app();
    press(&mut app, "2 ");
    let selected_before = app.tab().targets().0;
    assert_eq!(selected_before.len(), 1);
    let loaded = |app: &mut App, region: &str, items: Vec<Item>| {
        update(
            app,
            Msg::Loaded {
                scope: scope(region),
                result: Ok(items),
            },
        );
    };
    // ap-guangzhou now lists skey-2 only.
    loaded(&mut app, "ap-guangzhou", vec![pair("ap-guangzhou", "skey-2")]);
    let tab = app.tab();
    let one = tab.items().iter().find(|r| r.key.id == "skey-1").unwrap();
    assert_eq!(regions_of(one), ["ap-shanghai", "ap-beijing"]);
    let two = tab.items().iter().find(|r| r.key.id == "skey-2").unwrap();
    assert_eq!(regions_of(two), REGIONS, "the one it still lists keeps every region");
    let (targets, _) = tab.targets();
    assert_eq!(
        targets,
        [scope("ap-shanghai").key("skey-1")],
        "the selection follows the row"
    );
    // Listed by ap-guangzhou again: it leads again.
    loaded(
        &mut app,
        "ap-guangzhou",
        vec![pair("ap-guangzhou", "skey-1"), pair("ap-guangzhou", "skey-2")],
    );
    assert_eq!(app.tab().targets().0, selected_before);
    // No region lists it any more: the row goes, and with it the selection.
    for region in REGIONS {
        loaded(&mut app, region, vec![pair(region, "skey-2")]);
    }
    assert_eq!(app.tab().len(), 1);
    assert_eq!(app.tab().selected_count(), 0);
}

#[test]
fn a_region_filter_matches_a_row_by_any_of_its_regions() {
    let mut app = global_app();
    press(&mut app, "2/beijing");
    assert_eq!(
        app.tab().view_len(),
        2,
        "ap-beijing is the last region, not the shown one"
    );
    key(&mut app, KeyCode::Esc);
    let mut per_region = app_with(
        vec![pair("ap-guangzhou", "skey-1"), pair("ap-beijing", "skey-2")],
        opts(),
    );
    press(&mut per_region, "2/beijing");
    assert_eq!(per_region.tab().view_len(), 1);
}

/// Selecting a merged row plans one delete to its first region, and names the other
/// regions for the re-read; per-region rows plan one delete per region.
#[test]
fn the_plan_sends_one_call_per_row_to_its_first_region() {
    let mut app = global_app();
    let rows: Vec<&Row> = cvm_tab(&mut app).items().iter().collect();
    let plan = build_plan(&rows, &Intent::Delete, &keyward::queue::Protect::default());
    assert_eq!(plan.calls.len(), 1);
    assert_eq!(plan.calls[0].scope, scope("ap-guangzhou"));
    assert_eq!(plan.calls[0].op, Op::Delete);
    assert_eq!(plan.calls[0].ids, ["skey-1", "skey-2"]);
    assert_eq!(plan.item_count(), 2);
    assert_eq!(
        plan.also_listed.get(&scope("ap-guangzhou").key("skey-1")),
        Some(&vec![scope("ap-shanghai"), scope("ap-beijing")])
    );

    let mut per_region = per_region_app();
    let rows: Vec<&Row> = cvm_tab(&mut per_region).items().iter().collect();
    let plan = build_plan(&rows, &Intent::Delete, &keyward::queue::Protect::default());
    let scopes: BTreeSet<Scope> = plan.calls.iter().map(|c| c.scope.clone()).collect();
    assert_eq!(scopes, REGIONS.iter().map(|r| scope(r)).collect());
    assert!(plan.calls.iter().all(|c| c.ids.len() == 1));
    assert!(plan.also_listed.is_empty());
}

/// The executor sends the one call and re-reads every region the keys were seen in.
#[tokio::test]
async fn the_run_re_reads_every_region_that_listed_the_key() {
    let (regions, store) = shared_regions(
        ProviderKind::Cvm,
        "prod",
        &REGIONS,
        vec![pair("ap-guangzhou", "skey-1"), pair("ap-guangzhou", "skey-2")],
    );
    let mut app = global_app();
    let rows: Vec<&Row> = cvm_tab(&mut app).items().iter().collect();
    let plan = build_plan(&rows, &Intent::Delete, &keyward::queue::Protect::default());
    let providers: Vec<Arc<dyn Provider>> = regions.iter().map(|p| p.clone() as Arc<dyn Provider>).collect();
    let events = run(plan, providers, ExecOptions::default(), None, CancellationToken::new()).await;
    assert!(store.items().is_empty());
    let calls: Vec<Vec<String>> = regions.iter().map(|r| r.calls()).collect();
    assert_eq!(calls, [vec!["delete skey-1,skey-2".to_string()], vec![], vec![]]);
    let reread: BTreeSet<Scope> = events
        .iter()
        .filter_map(|e| match e {
            ExecEvent::Refreshed { scope, .. } => Some(scope.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reread, REGIONS.iter().map(|r| scope(r)).collect());
}

fn harness(providers: Vec<Arc<dyn Provider>>, opts: &RunOptions) -> Harness {
    Harness::new(Runtime::new(providers, opts), 140, 36)
}

fn run_opts(audit: Option<Arc<keyward::audit::AuditLog>>) -> RunOptions {
    RunOptions {
        title: "global keys (memory)".into(),
        audit,
        ..Default::default()
    }
}

/// Account-global pairs end to end: two rows, "delete 2" confirms them, one
/// DeleteKeyPairs goes to ap-guangzhou, none to the other regions, the audit log has one
/// intent and one outcome, and the rows leave the table (every region re-read).
#[tokio::test]
async fn account_global_pairs_are_deleted_with_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let audit_path = dir.path().join("audit.jsonl");
    let audit = Arc::new(keyward::audit::AuditLog::open(&audit_path).unwrap());
    let (regions, store) = shared_regions(
        ProviderKind::Cvm,
        "prod",
        &REGIONS,
        vec![pair("ap-guangzhou", "skey-1"), pair("ap-guangzhou", "skey-2")],
    );
    let providers: Vec<Arc<dyn Provider>> = regions.iter().map(|p| p.clone() as Arc<dyn Provider>).collect();
    let mut h = harness(providers, &run_opts(Some(audit)));
    h.start();
    h.settle().await.unwrap();
    h.press("2");
    assert_eq!(h.app().tab().len(), 2);
    let screen = h.render();
    assert!(screen.contains("ap-guangzhou +2"), "{screen}");
    h.press("ad");
    // The typed count is the rows', not the listings': "delete 6" would not start it.
    h.press("delete 2");
    h.key(KeyCode::Enter);
    assert!(
        h.app()
            .run
            .as_ref()
            .is_some_and(|r| r.total_items == 2 && r.total_calls == 1),
        "the typed confirmation started a run of one call for two items"
    );
    h.wait_until("the run to settle", |app| app.run_settled())
        .await
        .unwrap();
    assert!(store.items().is_empty());
    let calls: Vec<Vec<String>> = regions.iter().map(|r: &Arc<SharedRegion>| r.calls()).collect();
    assert_eq!(calls, [vec!["delete skey-1,skey-2".to_string()], vec![], vec![]]);
    assert_eq!(h.app().tab().len(), 0, "gone from every region it was seen in");
    let summary = h.app().last_run.as_ref().unwrap();
    assert_eq!((summary.ok, summary.failed), (2, 0));
    let records = keyward::audit::read_entries(&audit_path).unwrap();
    let of_type = |t: &str| records.iter().filter(|r| r["type"] == t).collect::<Vec<_>>();
    let (intents, outcomes) = (of_type("intent"), of_type("outcome"));
    assert_eq!((intents.len(), outcomes.len()), (1, 1), "{records:?}");
    assert_eq!(intents[0]["region"], "ap-guangzhou", "{:?}", intents[0]);
}

/// Per-region pairs end to end: unchanged, one row and one delete per region.
#[tokio::test]
async fn per_region_pairs_are_deleted_in_their_own_regions() {
    let providers: Vec<Arc<MemoryProvider>> = REGIONS
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Arc::new(MemoryProvider::new(
                ProviderKind::Cvm,
                "prod",
                r,
                vec![pair(r, &format!("skey-{i}"))],
            ))
        })
        .collect();
    let mut h = harness(providers_of(providers.clone()), &run_opts(None));
    h.start();
    h.settle().await.unwrap();
    h.press("2");
    assert_eq!(h.app().tab().len(), 3);
    h.press("ad");
    h.press("delete 3");
    h.key(KeyCode::Enter);
    h.wait_until("the run to settle", |app| app.run_settled())
        .await
        .unwrap();
    for (i, p) in providers.iter().enumerate() {
        assert_eq!(p.calls(), [format!("DeleteKeyPairs skey-{i}")], "{}", REGIONS[i]);
    }
    assert_eq!(h.app().tab().len(), 0);
}

/// `keyward list`: one row for the key every region lists, its regions joined with `,`
/// in CSV and an array in JSON; `region` stays the one its calls go to.
#[tokio::test]
async fn list_prints_a_merged_key_once_with_its_regions() {
    let (regions, _) = shared_regions(
        ProviderKind::Cvm,
        "prod",
        &REGIONS,
        vec![pair("ap-guangzhou", "skey-1")],
    );
    let providers: Vec<Arc<dyn Provider>> = regions.iter().map(|p| p.clone() as Arc<dyn Provider>).collect();
    let inventory = list::fetch(&providers, &Selection::default()).await;
    let csv = list::render(
        &inventory.items,
        Format::Csv,
        &list::Judge {
            thresholds: &Default::default(),
            now: now(),
        },
    )
    .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert_eq!(&rows[0][2], "ap-guangzhou");
    assert_eq!(&rows[0][13], "ap-guangzhou,ap-shanghai,ap-beijing");
    let json = list::render(
        &inventory.items,
        Format::Json,
        &list::Judge {
            thresholds: &Default::default(),
            now: now(),
        },
    )
    .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed.as_array().map(Vec::len), Some(1));
    assert_eq!(parsed[0]["region"], "ap-guangzhou");
    assert_eq!(
        parsed[0]["regions"],
        serde_json::json!(["ap-guangzhou", "ap-shanghai", "ap-beijing"])
    );
}

fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| keyward::ui::draw(f, app)).unwrap();
    terminal.backend().to_string()
}

/// The table row of a key three regions list: its first region and how many more, next
/// to a per-region pair; the detail pane names every region and where calls go.
#[test]
fn a_row_listed_by_several_regions_shows_its_first_region_and_the_count() {
    let mut items: Vec<Item> = REGIONS.iter().map(|r| pair(r, "skey-global")).collect();
    items.push(pair("ap-shanghai", "skey-local"));
    let mut app = app_with(items, opts());
    press(&mut app, "2");
    let screen = render(&app, 120, 30);
    assert!(screen.contains("ap-guangzhou +2   active"), "{screen}");
    assert!(screen.contains("region ap-guangzhou +2   bindings"), "{screen}");
    assert!(
        screen.contains("also listed by ap-shanghai, ap-beijing: one key, its calls go to ap-guangzhou"),
        "{screen}"
    );
    insta::assert_snapshot!("merged_row", screen);
    // The per-region pair, highlighted: one region, no count.
    press(&mut app, "j");
    let screen = render(&app, 120, 30);
    assert!(screen.contains("region ap-shanghai   bindings"), "{screen}");
    assert!(!screen.contains("also listed by"), "{screen}");
    insta::assert_snapshot!("per_region_row", screen);
}
