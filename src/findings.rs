//! Which keys need action: findings, each with a stable id, a severity and a one-line
//! reason, computed purely from an item, its kind's capabilities, the thresholds of
//! `[settings]` and the time now. The table, the filter (`finding:old`), `keyward list
//! --findings` and the detail pane all ask here; no other module knows a rule.

use crate::inventory::{Item, Status, Timestamp};
use crate::providers::{Capabilities, capabilities};
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A finding's stable id: what `finding:<id>` filters on and what reports carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingId {
    /// Enabled and older than `max_key_age_days`.
    Old,
    /// Enabled and not used for `unused_days`, where last use is known.
    Unused,
    /// Enabled, never used, and older than the grace period (kinds that report last use).
    NeverUsed,
    /// A CAM user (or root) with two active keys.
    TwoActive,
    /// Expires within `expiring_days`.
    Expiring,
    /// Past its expiry time.
    Expired,
    /// Disabled for more than `stale_disabled_days`: a delete candidate.
    StaleDisabled,
    /// A key pair bound to no instance, an API key bound to no usage plan.
    Unattached,
}

impl FindingId {
    pub const ALL: [FindingId; 8] = [
        FindingId::Old,
        FindingId::Unused,
        FindingId::NeverUsed,
        FindingId::TwoActive,
        FindingId::Expiring,
        FindingId::Expired,
        FindingId::StaleDisabled,
        FindingId::Unattached,
    ];

    /// The id as written in filters, reports and the audit log.
    pub fn slug(self) -> &'static str {
        match self {
            FindingId::Old => "old",
            FindingId::Unused => "unused",
            FindingId::NeverUsed => "never_used",
            FindingId::TwoActive => "two_active",
            FindingId::Expiring => "expiring",
            FindingId::Expired => "expired",
            FindingId::StaleDisabled => "stale_disabled",
            FindingId::Unattached => "unattached",
        }
    }

    pub fn from_slug(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.slug() == s)
    }

    pub fn severity(self) -> Severity {
        match self {
            FindingId::Expired | FindingId::TwoActive => Severity::High,
            FindingId::Old | FindingId::Unused | FindingId::Expiring => Severity::Medium,
            FindingId::NeverUsed | FindingId::StaleDisabled => Severity::Low,
            FindingId::Unattached => Severity::Info,
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

/// How urgent a finding is; sorts from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// The findings of one item as bits: two bytes a row, so 100,000 rows keep theirs beside
/// the table without growing an item; reasons are worded on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FindingSet(u16);

impl FindingSet {
    pub const EMPTY: FindingSet = FindingSet(0);

    pub fn insert(&mut self, id: FindingId) {
        self.0 |= id.bit();
    }

    pub fn contains(self, id: FindingId) -> bool {
        self.0 & id.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The ids in `FindingId::ALL` order.
    pub fn iter(self) -> impl Iterator<Item = FindingId> {
        FindingId::ALL.into_iter().filter(move |f| self.contains(*f))
    }

    /// The ids, most urgent first (ties in `FindingId::ALL` order): how reports and the
    /// detail pane list them.
    pub fn by_urgency(self) -> Vec<FindingId> {
        let mut ids: Vec<FindingId> = self.iter().collect();
        ids.sort_by_key(|f| std::cmp::Reverse(f.severity()));
        ids
    }

    /// The most urgent severity, None without findings.
    pub fn worst(self) -> Option<Severity> {
        self.iter().map(FindingId::severity).max()
    }

    /// The risk order `sort by findings` uses: worst severity, then how many.
    pub fn risk(self) -> (Option<Severity>, usize) {
        (self.worst(), self.len())
    }
}

impl FromIterator<FindingId> for FindingSet {
    fn from_iter<I: IntoIterator<Item = FindingId>>(iter: I) -> Self {
        let mut set = FindingSet::EMPTY;
        for id in iter {
            set.insert(id);
        }
        set
    }
}

/// The limits of `[settings]`, in days. Each rule is "more than": a key exactly
/// `max_key_age_days` old is not yet `old`; one second more and it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub max_key_age_days: u32,
    pub unused_days: u32,
    /// A key created this recently is not `never_used` yet (scanners that flag fresh keys
    /// as unused are a known complaint).
    pub never_used_grace_days: u32,
    pub stale_disabled_days: u32,
    pub expiring_days: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_key_age_days: 90,
            unused_days: 90,
            never_used_grace_days: 7,
            stale_disabled_days: 30,
            expiring_days: 14,
        }
    }
}

impl Thresholds {
    /// The field of `[settings]` key `name`.
    pub fn field_mut(&mut self, name: &str) -> Option<&mut u32> {
        Some(match name {
            "max_key_age_days" => &mut self.max_key_age_days,
            "unused_days" => &mut self.unused_days,
            "never_used_grace_days" => &mut self.never_used_grace_days,
            "stale_disabled_days" => &mut self.stale_disabled_days,
            "expiring_days" => &mut self.expiring_days,
            _ => return None,
        })
    }
}

/// One finding as reports and the detail pane show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub id: FindingId,
    pub severity: Severity,
    pub reason: String,
}

fn days(n: u32) -> TimeDelta {
    TimeDelta::days(i64::from(n))
}

/// Whole days in `d`, as the reasons say it (`412d`).
fn in_days(d: TimeDelta) -> String {
    format!("{}d", d.num_days())
}

fn usable(item: &Item) -> bool {
    matches!(item.status, Status::Enabled | Status::Active)
}

/// The findings of one item at `now`.
pub fn evaluate(item: &Item, t: &Thresholds, now: Timestamp) -> FindingSet {
    // Once per row, not per rule: every listed row is judged as it arrives.
    let caps = capabilities(item.key.scope.kind);
    FindingId::ALL
        .into_iter()
        .filter(|id| applies(*id, item, &caps, t, now))
        .collect()
}

fn applies(id: FindingId, item: &Item, caps: &Capabilities, t: &Thresholds, now: Timestamp) -> bool {
    let older_than = |at: Option<Timestamp>, limit: u32| at.is_some_and(|at| now - at > days(limit));
    match id {
        FindingId::Old => caps.ages_out && usable(item) && older_than(item.created, t.max_key_age_days),
        FindingId::Unused => usable(item) && older_than(item.last_used, t.unused_days),
        FindingId::NeverUsed => {
            caps.reports_last_use
                && usable(item)
                && item.last_used.is_none()
                && older_than(item.created, t.never_used_grace_days)
        }
        FindingId::TwoActive => usable(item) && usize::from(item.owner_active_keys) >= 2,
        FindingId::Expired => item.expires.is_some_and(|at| at <= now),
        FindingId::Expiring => item
            .expires
            .is_some_and(|at| at > now && at - now <= days(t.expiring_days)),
        FindingId::StaleDisabled => item.status == Status::Disabled && older_than(item.modified, t.stale_disabled_days),
        FindingId::Unattached => caps.binds_to.is_some() && item.bindings.is_empty(),
    }
}

/// The one-line reason of finding `id` on `item` (worded whether or not it applies; ask
/// [`evaluate`] first).
pub fn reason(id: FindingId, item: &Item, t: &Thresholds, now: Timestamp) -> String {
    let since = |at: Option<Timestamp>| at.map(|at| in_days(now - at)).unwrap_or_else(|| "?".into());
    match id {
        FindingId::Old => format!(
            "created {} ago, more than max_key_age_days = {}: rotate it",
            since(item.created),
            t.max_key_age_days
        ),
        FindingId::Unused => format!(
            "last used {} ago, more than unused_days = {}: disable it if nothing needs it",
            since(item.last_used),
            t.unused_days
        ),
        FindingId::NeverUsed => format!(
            "never used in the {} since it was created (grace never_used_grace_days = {})",
            since(item.created),
            t.never_used_grace_days
        ),
        FindingId::TwoActive => format!(
            "its owner has {} active keys: one of them is probably left over from a rotation",
            item.owner_active_keys
        ),
        FindingId::Expiring => format!(
            "expires in {} (expiring_days = {}): replace it before then",
            item.expires.map(|at| in_days(at - now)).unwrap_or_default(),
            t.expiring_days
        ),
        FindingId::Expired => format!("expired {} ago: callers using it are refused", since(item.expires)),
        FindingId::StaleDisabled => format!(
            "disabled, last changed {} ago, more than stale_disabled_days = {}: a delete candidate",
            since(item.modified),
            t.stale_disabled_days
        ),
        FindingId::Unattached => format!(
            "bound to no {}",
            capabilities(item.key.scope.kind).binds_to.unwrap_or("resource")
        ),
    }
}

/// Every finding of `item` with its severity and reason, most urgent first.
pub fn explain(item: &Item, t: &Thresholds, now: Timestamp) -> Vec<Finding> {
    evaluate(item, t, now)
        .by_urgency()
        .into_iter()
        .map(|id| Finding {
            id,
            severity: id.severity(),
            reason: reason(id, item, t, now),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::inventory::{Binding, ProviderKind, Scope};
    use chrono::{DateTime, Utc};

    fn now() -> Timestamp {
        "2026-06-01T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
    }

    fn key(kind: ProviderKind, status: Status) -> Item {
        Item {
            key: Scope::new(kind, "prod", "ap-guangzhou").key("k-1"),
            name: "k".into(),
            status,
            key_type: Default::default(),
            description: Default::default(),
            created: Some(now() - TimeDelta::days(1)),
            modified: None,
            last_used: None,
            expires: None,
            bindings: vec![Binding::Instance("ins-1".into()), Binding::usage_plan("usagePlan-1")],
            signs_keyward: false,
            owner_active_keys: 0,
        }
    }

    fn has(item: &Item, id: FindingId) -> bool {
        evaluate(item, &Thresholds::default(), now()).contains(id)
    }

    /// `at(limit_days, ±1)`: one second inside or outside a limit of that many days.
    fn ago(days: i64, seconds: i64) -> Option<Timestamp> {
        Some(now() - TimeDelta::days(days) - TimeDelta::seconds(seconds))
    }

    #[test]
    fn old_starts_one_second_past_max_key_age_and_only_for_usable_secrets() {
        let mut item = key(ProviderKind::Cam, Status::Enabled);
        item.created = ago(90, 0);
        assert!(!has(&item, FindingId::Old), "exactly 90 days is not more than 90");
        item.created = ago(90, 1);
        assert!(has(&item, FindingId::Old));
        for kind in [ProviderKind::ApiGateway, ProviderKind::OceanBase] {
            item.key.scope.kind = kind;
            assert!(has(&item, FindingId::Old), "{kind}");
        }
        item.key.scope.kind = ProviderKind::Cvm;
        assert!(!has(&item, FindingId::Old), "a key pair does not age out");
        item.key.scope.kind = ProviderKind::Cam;
        item.status = Status::Disabled;
        assert!(!has(&item, FindingId::Old), "a disabled key is not in use");
        item.created = None;
        item.status = Status::Enabled;
        assert!(!has(&item, FindingId::Old), "unknown age is not old");
    }

    #[test]
    fn unused_needs_a_known_last_use_past_the_limit() {
        let mut item = key(ProviderKind::OceanBase, Status::Active);
        item.last_used = ago(90, -1);
        assert!(!has(&item, FindingId::Unused));
        item.last_used = ago(90, 1);
        assert!(has(&item, FindingId::Unused));
        item.status = Status::Expired;
        assert!(!has(&item, FindingId::Unused));
        item.status = Status::Active;
        item.last_used = None;
        assert!(!has(&item, FindingId::Unused), "OceanBase: absent last use is unknown");
        assert!(
            !has(&item, FindingId::NeverUsed),
            "OceanBase does not always report last use"
        );
    }

    #[test]
    fn never_used_waits_for_the_grace_period_on_kinds_that_report_last_use() {
        let mut item = key(ProviderKind::Cam, Status::Enabled);
        item.created = ago(7, -1);
        assert!(!has(&item, FindingId::NeverUsed), "fresh keys are not flagged");
        item.created = ago(7, 1);
        assert!(has(&item, FindingId::NeverUsed));
        item.last_used = ago(1, 0);
        assert!(!has(&item, FindingId::NeverUsed));
    }

    #[test]
    fn two_active_flags_usable_keys_of_an_owner_with_two() {
        let mut item = key(ProviderKind::Cam, Status::Enabled);
        item.owner_active_keys = 1;
        assert!(!has(&item, FindingId::TwoActive));
        item.owner_active_keys = 2;
        assert!(has(&item, FindingId::TwoActive));
        item.status = Status::Disabled;
        assert!(!has(&item, FindingId::TwoActive));
    }

    #[test]
    fn expiring_and_expired_meet_at_the_expiry_time() {
        let mut item = key(ProviderKind::OceanBase, Status::Active);
        item.expires = Some(now() + TimeDelta::days(14) + TimeDelta::seconds(1));
        assert!(!has(&item, FindingId::Expiring));
        item.expires = Some(now() + TimeDelta::days(14));
        assert!(has(&item, FindingId::Expiring), "exactly 14 days is within 14");
        item.expires = Some(now() + TimeDelta::seconds(1));
        assert!(has(&item, FindingId::Expiring) && !has(&item, FindingId::Expired));
        item.expires = Some(now());
        assert!(has(&item, FindingId::Expired) && !has(&item, FindingId::Expiring));
        item.expires = None;
        assert!(!has(&item, FindingId::Expired) && !has(&item, FindingId::Expiring));
    }

    #[test]
    fn stale_disabled_counts_from_the_last_change() {
        let mut item = key(ProviderKind::ApiGateway, Status::Disabled);
        item.modified = ago(30, 0);
        assert!(!has(&item, FindingId::StaleDisabled));
        item.modified = ago(30, 1);
        assert!(has(&item, FindingId::StaleDisabled));
        item.status = Status::Enabled;
        assert!(!has(&item, FindingId::StaleDisabled));
    }

    #[test]
    fn unattached_only_where_the_kind_binds() {
        for (kind, noun) in [
            (ProviderKind::Cvm, "instance"),
            (ProviderKind::ApiGateway, "usage plan"),
        ] {
            let mut item = key(kind, Status::Active);
            assert!(!has(&item, FindingId::Unattached), "{kind}");
            item.bindings.clear();
            assert!(has(&item, FindingId::Unattached), "{kind}");
            let t = Thresholds::default();
            assert_eq!(
                reason(FindingId::Unattached, &item, &t, now()),
                format!("bound to no {noun}")
            );
        }
        let mut item = key(ProviderKind::Cam, Status::Enabled);
        item.bindings.clear();
        assert!(!has(&item, FindingId::Unattached));
    }

    /// Thresholds come from settings: a tighter limit flags what the default does not, and
    /// the reason names the setting and its value.
    #[test]
    fn thresholds_move_the_edges_and_reasons_name_them() {
        let mut item = key(ProviderKind::Cam, Status::Enabled);
        item.created = ago(40, 0);
        item.owner_active_keys = 2;
        let mut t = Thresholds::default();
        *t.field_mut("max_key_age_days").unwrap() = 30;
        let found = explain(&item, &t, now());
        assert_eq!(
            found.iter().map(|f| f.id).collect::<Vec<_>>(),
            [FindingId::TwoActive, FindingId::Old, FindingId::NeverUsed],
            "most urgent first"
        );
        assert_eq!(
            found[1].reason,
            "created 40d ago, more than max_key_age_days = 30: rotate it"
        );
        assert!(t.field_mut("max_age").is_none());
    }

    #[test]
    fn slugs_round_trip_and_sets_hold_each_id_apart() {
        for id in FindingId::ALL {
            assert_eq!(FindingId::from_slug(id.slug()), Some(id));
            let set: FindingSet = [id].into_iter().collect();
            assert_eq!(set.iter().collect::<Vec<_>>(), [id]);
        }
        assert_eq!(FindingId::from_slug("ancient"), None);
        let set: FindingSet = [FindingId::Unattached, FindingId::Expired].into_iter().collect();
        assert_eq!(set.len(), 2);
        assert_eq!(set.worst(), Some(Severity::High));
        assert!(FindingSet::EMPTY.risk() < set.risk());
    }
}
