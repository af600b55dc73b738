//! Which keys need action: findings, each with a stable id, a severity and a one-line
//! reason, computed purely from an item, its kind's capabilities, the thresholds of
//! `[settings]` and the time now. The table, the filter (`finding:old`), `keyward list
//! --findings` and the detail pane all ask here; no other module knows a rule.

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

#[cfg(test)]
mod tests {
    use super::*;

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
