//! Property test of the table state: whatever sequence of data, filter, sort and
//! selection changes, the cached counts agree with a brute-force recount, and the view is
//! complete and in sort order (the order is patched incrementally when few rows change,
//! so small loads into a big table are generated, and keys several regions share).

use crate::support::items::item;
use keyward::app::table::{Column, TabState};
use keyward::inventory::{ItemKey, ProviderKind, Scope};
use proptest::prelude::*;
use std::collections::HashSet;

#[derive(Debug, Clone)]
enum Step {
    Load {
        region: u8,
        n: u8,
    },
    /// Items whose ids every region shares (one row listed by several regions).
    LoadShared {
        region: u8,
        n: u8,
    },
    Filter(String),
    Toggle,
    Move(i8),
    SelectAll,
    Clear,
    Sort,
    Reverse,
    Refresh {
        region: u8,
        drop_first: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..6, 0u8..30).prop_map(|(region, n)| Step::Load { region, n }),
        (0u8..6, 0u8..6).prop_map(|(region, n)| Step::LoadShared { region, n }),
        "[a-c1-3]{0,2}".prop_map(Step::Filter),
        Just(Step::Toggle),
        (-5i8..5).prop_map(Step::Move),
        Just(Step::SelectAll),
        Just(Step::Clear),
        Just(Step::Sort),
        Just(Step::Reverse),
        (0u8..6, 0u8..10).prop_map(|(region, drop_first)| Step::Refresh { region, drop_first }),
    ]
}

/// A time as text that sorts latest first and unknown last (times here are after 1970).
fn latest_first(t: Option<keyward::inventory::Timestamp>) -> String {
    t.map_or_else(|| "~".to_string(), |t| format!("{:020}", i64::MAX - t.timestamp()))
}

fn shared_items(region: u8, n: u8) -> Vec<keyward::inventory::Item> {
    (0..n)
        .map(|i| {
            item(
                ProviderKind::Cvm,
                "acct",
                &format!("r{region}"),
                &format!("g-{i}"),
                &format!("shared{i}"),
            )
        })
        .collect()
}

fn region_items(region: u8, n: u8) -> Vec<keyward::inventory::Item> {
    (0..n)
        .map(|i| {
            let name = ["alpha", "beta", "gamma"][usize::from(i % 3)];
            item(
                ProviderKind::Cvm,
                "acct",
                &format!("r{region}"),
                &format!("k{region}-{i}"),
                &format!("{name}{i}"),
            )
        })
        .collect()
}

proptest! {
    #[test]
    fn cached_counts_match_a_recount(steps in proptest::collection::vec(step(), 1..40)) {
        let mut tab = TabState::new(ProviderKind::Cvm);
        for s in steps {
            match s {
                Step::Load { region, n } => tab.replace_source(&Scope::new(ProviderKind::Cvm, "acct", format!("r{region}")), region_items(region, n)),
                Step::LoadShared { region, n } => tab.replace_source(&Scope::new(ProviderKind::Cvm, "acct", format!("r{region}")), shared_items(region, n)),
                Step::Filter(f) => tab.set_filter(&f),
                Step::Toggle => tab.toggle_highlighted(),
                Step::Move(d) => tab.move_cursor(isize::from(d)),
                Step::SelectAll => tab.select_all_visible(),
                Step::Clear => tab.clear_selection(),
                Step::Sort => tab.cycle_sort(),
                Step::Reverse => tab.reverse_sort(),
                Step::Refresh { region, drop_first } => {
                    let scope = Scope::new(ProviderKind::Cvm, "acct", format!("r{region}"));
                    let ids: HashSet<String> = (0..drop_first).map(|i| format!("k{region}-{i}")).collect();
                    tab.apply_refresh(&scope, &ids, Vec::new());
                }
            }
            let view: HashSet<ItemKey> = (0..tab.view_len()).filter_map(|p| tab.view_item(p)).map(|i| i.key.clone()).collect();
            let selected: Vec<ItemKey> = tab.selected_items().into_iter().map(|i| i.key.clone()).collect();
            prop_assert_eq!(selected.len(), tab.selected_count(), "selection holds only existing items");
            let hidden = selected.iter().filter(|k| !view.contains(k)).count();
            prop_assert_eq!(hidden, tab.hidden_selected());
            let needle = tab.filter().to_lowercase();
            let expected_view = tab
                .items()
                .iter()
                .filter(|i| {
                    [
                        i.name.as_str(),
                        &i.key.id,
                        &i.key.scope.account,
                        &i.key.scope.region,
                        i.status.label(),
                        &i.key_type,
                        &i.created.map(keyward::times::rfc3339).unwrap_or_default(),
                        &i.bindings_text(),
                        &i.description,
                    ]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&needle))
                })
                .count();
            prop_assert_eq!(tab.view_len(), expected_view);
            // The view is in sort order (column, then key; reversed when descending).
            let (column, descending) = tab.sort();
            let shown: Vec<&keyward::inventory::Row> = (0..tab.view_len()).filter_map(|p| tab.view_item(p)).collect();
            for pair in shown.windows(2) {
                let by = |i: &keyward::inventory::Row| match column {
                    Column::Name => i.name.to_string(),
                    Column::Id => i.key.id.to_string(),
                    Column::Account => i.key.scope.account.to_string(),
                    Column::Region => format!("{}/{:04}", i.key.scope.region, i.also_in.len()),
                    Column::Status => i.status.label().to_string(),
                    Column::Type => i.key_type.to_string(),
                    // Latest first, unknown ("~" sorts after the digits) last.
                    Column::Age => latest_first(i.created),
                    Column::Bindings => format!("{:08}", i.bindings.len()),
                    Column::LastUsed => latest_first(i.last_used),
                    // The most urgent first, then the most findings.
                    Column::Findings => {
                        let judge = tab.judge();
                        let (worst, n) = keyward::findings::evaluate(i, &judge.thresholds, judge.now).risk();
                        format!("{}{:02}", 9 - worst.map_or(0, |s| s as usize + 1), 99 - n)
                    }
                };
                let ord = (by(pair[0]), &pair[0].key).cmp(&(by(pair[1]), &pair[1].key));
                let ord = if descending { ord.reverse() } else { ord };
                prop_assert!(ord.is_lt(), "{:?} before {:?}", pair[0].key, pair[1].key);
            }
            prop_assert!(tab.view_len() == 0 || tab.cursor() < tab.view_len());
        }
    }
}
