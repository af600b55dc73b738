//! A listed row as the filter language sees it outside the TUI's table (`keyward plan
//! --where`, and `keyward list --where`): the row, its haystack and its findings, so
//! `filter::Query::matches` can test it. The haystack rule lives here, once; the table
//! caches the same text per row.

use crate::filter::{Query, Subject};
use crate::findings::{self, FindingSet, Thresholds};
use crate::inventory::{ProviderKind, Row, Status, Timestamp};
use crate::providers::capabilities;
use crate::times;

/// Lower-cased text of every column: what free text in a filter is searched in. Every
/// region that lists the row is in it, so a region filter finds a merged row whichever of
/// its regions is typed.
pub fn haystack(row: &Row) -> String {
    let item = &row.item;
    let regions = row.regions().collect::<Vec<_>>().join(" ");
    // The creation time as the detail pane shows it, so `2025-03` finds that month's keys.
    let created = item.created.map(times::rfc3339).unwrap_or_default();
    format!(
        "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
        item.name,
        item.key.id,
        item.key.scope.account,
        regions,
        item.status.label(),
        item.key_type,
        created,
        item.bindings_text(),
        item.description
    )
    .to_lowercase()
}

/// One row with what the matcher asks of it, computed once.
pub struct Listed<'a> {
    row: &'a Row,
    haystack: String,
    findings: FindingSet,
}

impl<'a> Listed<'a> {
    /// `row` with its findings under `thresholds` at `now`.
    pub fn new(row: &'a Row, thresholds: &Thresholds, now: Timestamp) -> Self {
        Listed {
            row,
            haystack: haystack(row),
            findings: findings::evaluate(&row.item, thresholds, now),
        }
    }
}

impl Subject for Listed<'_> {
    fn haystack(&self) -> &str {
        &self.haystack
    }
    fn kind(&self) -> ProviderKind {
        self.row.key.scope.kind
    }
    fn status(&self) -> Status {
        self.row.status
    }
    fn account(&self) -> &str {
        &self.row.key.scope.account
    }
    fn regions(&self) -> impl Iterator<Item = &str> {
        self.row.regions()
    }
    fn name(&self) -> &str {
        &self.row.name
    }
    fn is_bound(&self) -> bool {
        self.row.is_bound()
    }
    fn created(&self) -> Option<Timestamp> {
        self.row.created
    }
    fn last_used(&self) -> Option<Timestamp> {
        self.row.last_used
    }
    fn reports_last_use(&self) -> bool {
        capabilities(self.row.key.scope.kind).reports_last_use
    }
    fn findings(&self) -> FindingSet {
        self.findings
    }
}

/// The rows `query` matches at `now`, in their order.
pub fn matching<'a>(rows: &'a [Row], query: &Query, thresholds: &Thresholds, now: Timestamp) -> Vec<&'a Row> {
    let matcher = query.at(now);
    rows.iter()
        .filter(|row| matcher.matches(&Listed::new(row, thresholds, now)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{Binding, Item, Scope};

    fn row(kind: ProviderKind, id: &str, name: &str, status: Status) -> Row {
        Row::from(Item {
            key: Scope::new(kind, "prod", "ap-guangzhou").key(id),
            name: name.into(),
            status,
            key_type: "auto".into(),
            description: "".into(),
            created: times::parse_rfc3339("2025-01-01T00:00:00Z"),
            modified: None,
            last_used: None,
            expires: None,
            bindings: Vec::new(),
            signs_keyward: false,
            owner_active_keys: 0,
        })
    }

    #[test]
    fn fields_text_times_and_findings_all_reach_the_matcher() {
        let mut bound = row(ProviderKind::Cvm, "skey-1", "deploy", Status::Active);
        bound.item.bindings.push(Binding::Instance("ins-1".into()));
        let rows = vec![
            row(ProviderKind::ApiGateway, "AKID1", "billing-old", Status::Disabled),
            row(ProviderKind::ApiGateway, "AKID2", "billing-new", Status::Enabled),
            bound,
            row(ProviderKind::Cvm, "skey-2", "spare", Status::Active),
        ];
        let now = times::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let ids = |text: &str| -> Vec<String> {
            let query = crate::filter::parse(text).unwrap();
            matching(&rows, &query, &Thresholds::default(), now)
                .iter()
                .map(|r| r.key.id.to_string())
                .collect()
        };
        assert_eq!(ids("status:disabled"), ["AKID1"]);
        assert_eq!(ids("billing -status:disabled"), ["AKID2"]);
        assert_eq!(ids("kind:keypair bound:no"), ["skey-2"]);
        assert_eq!(ids("ins-1"), ["skey-1"], "bindings are in the haystack");
        assert_eq!(ids("age>300d name:billing-*"), ["AKID1", "AKID2"]);
        assert_eq!(ids("finding:unattached kind:keypair"), ["skey-2"]);
        assert!(ids("age<1d").is_empty());
    }
}
