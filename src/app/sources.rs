//! The configured sources (one per kind, account and region or project) and how their
//! listings went, with each kind's counts kept up to date as results arrive.
//!
//! With 200 accounts x 5 regions there are 1,000+ sources. The tab titles and the loading
//! line are drawn every frame for every tab, so they read counters kept here instead of
//! scanning every source each time; a change of state goes through [`Sources::set_state`],
//! the one place that keeps the counters true (the list itself is read-only outside).

use crate::inventory::{ProviderKind, Scope};
use crate::providers::ProviderError;
use std::collections::{BTreeSet, HashMap};
use std::ops::Deref;

/// One configured provider (its scope), as the loading lines show it.
#[derive(Debug, Clone)]
pub struct Source {
    pub scope: Scope,
    pub state: LoadState,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    Loading,
    Loaded(usize),
    Failed(ProviderError),
}

/// How the sources of one kind stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceCounts {
    pub total: usize,
    pub loading: usize,
    pub failed: usize,
}

impl SourceCounts {
    fn add(&mut self, state: &LoadState, sign: isize) {
        let step = |n: &mut usize| *n = n.saturating_add_signed(sign);
        match state {
            LoadState::Loading => step(&mut self.loading),
            LoadState::Failed(_) => step(&mut self.failed),
            LoadState::Loaded(_) => {}
        }
    }
}

/// The sources, in configuration order, with per-kind counts.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    list: Vec<Source>,
    /// Scope -> position in `list` (the first source of a scope, as before: a scope is
    /// configured once).
    index: HashMap<Scope, usize>,
    counts: [SourceCounts; ProviderKind::ALL.len()],
    /// Positions of the failed sources of each kind, so the first one is found without a scan.
    failed: [BTreeSet<usize>; ProviderKind::ALL.len()],
}

/// A kind's slot in the per-kind arrays.
fn slot(kind: ProviderKind) -> usize {
    ProviderKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

impl Sources {
    pub fn new(list: Vec<Source>) -> Self {
        let mut sources = Sources::default();
        for s in list {
            sources.push(s);
        }
        sources
    }

    pub fn push(&mut self, source: Source) {
        let at = self.list.len();
        let k = slot(source.scope.kind);
        self.counts[k].total += 1;
        self.counts[k].add(&source.state, 1);
        if matches!(source.state, LoadState::Failed(_)) {
            self.failed[k].insert(at);
        }
        self.index.entry(source.scope.clone()).or_insert(at);
        self.list.push(source);
    }

    /// Set the state of the source serving `scope`; false when no source serves it.
    pub fn set_state(&mut self, scope: &Scope, state: LoadState) -> bool {
        let Some(&at) = self.index.get(scope) else {
            return false;
        };
        let k = slot(scope.kind);
        let counts = &mut self.counts[k];
        counts.add(&self.list[at].state, -1);
        counts.add(&state, 1);
        if matches!(state, LoadState::Failed(_)) {
            self.failed[k].insert(at);
        } else {
            self.failed[k].remove(&at);
        }
        self.list[at].state = state;
        true
    }

    /// Every source back to loading (a reload of everything).
    pub fn set_all_loading(&mut self) {
        for s in &mut self.list {
            s.state = LoadState::Loading;
        }
        for (counts, failed) in self.counts.iter_mut().zip(&mut self.failed) {
            counts.loading = counts.total;
            counts.failed = 0;
            failed.clear();
        }
    }

    /// How the sources of `kind` stand, without a scan.
    pub fn counts(&self, kind: ProviderKind) -> SourceCounts {
        self.counts[slot(kind)]
    }

    /// The first failed source of `kind` in configuration order, and its error.
    pub fn first_failure(&self, kind: ProviderKind) -> Option<(&Scope, &ProviderError)> {
        self.failures(kind).next()
    }

    /// The failed sources of `kind` in configuration order, each with its error.
    pub fn failures(&self, kind: ProviderKind) -> impl Iterator<Item = (&Scope, &ProviderError)> {
        self.failed[slot(kind)]
            .iter()
            .filter_map(|&at| match &self.list[at].state {
                LoadState::Failed(e) => Some((&self.list[at].scope, e)),
                _ => None,
            })
    }
}

/// Reading is free; changing a state goes through `set_state`, which keeps the counts.
impl Deref for Sources {
    type Target = [Source];

    fn deref(&self) -> &[Source] {
        &self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ErrorKind;

    fn source(kind: ProviderKind, region: &str) -> Source {
        Source {
            scope: Scope::new(kind, "acme", region),
            state: LoadState::Loading,
        }
    }

    fn failed(code: &str) -> LoadState {
        LoadState::Failed(ProviderError::new(ErrorKind::Auth, code, "no"))
    }

    /// The counters against a count by scanning, the way the screen used to compute them.
    fn scanned(sources: &Sources, kind: ProviderKind) -> SourceCounts {
        let of_kind = sources.iter().filter(|s| s.scope.kind == kind);
        SourceCounts {
            total: of_kind.clone().count(),
            loading: of_kind.clone().filter(|s| s.state == LoadState::Loading).count(),
            failed: of_kind.filter(|s| matches!(s.state, LoadState::Failed(_))).count(),
        }
    }

    #[test]
    fn counts_follow_every_change_of_state() {
        let mut sources = Sources::new(vec![
            source(ProviderKind::Cvm, "r1"),
            source(ProviderKind::Cvm, "r2"),
            source(ProviderKind::ApiGateway, "r1"),
        ]);
        sources.push(source(ProviderKind::Cvm, "r3"));
        let cvm = |r: &str| Scope::new(ProviderKind::Cvm, "acme", r);
        assert!(sources.set_state(&cvm("r2"), failed("B")));
        assert!(sources.set_state(&cvm("r1"), failed("A")));
        assert!(sources.set_state(&cvm("r3"), LoadState::Loaded(4)));
        assert!(!sources.set_state(&cvm("elsewhere"), LoadState::Loaded(1)));
        let expected = SourceCounts {
            total: 3,
            loading: 0,
            failed: 2,
        };
        assert_eq!(sources.counts(ProviderKind::Cvm), expected);
        assert_eq!(sources.counts(ProviderKind::Cvm), scanned(&sources, ProviderKind::Cvm));
        let first = sources
            .first_failure(ProviderKind::Cvm)
            .map(|(s, e)| (s.clone(), e.code.clone()));
        assert_eq!(
            first,
            Some((cvm("r1"), "A".to_string())),
            "configuration order, not arrival"
        );

        // A failed source that loads on retry is no longer counted as failed.
        sources.set_state(&cvm("r1"), LoadState::Loaded(0));
        assert_eq!(sources.counts(ProviderKind::Cvm).failed, 1);
        assert_eq!(sources.first_failure(ProviderKind::Cvm).unwrap().1.code, "B");
        assert_eq!(
            sources.counts(ProviderKind::ApiGateway),
            scanned(&sources, ProviderKind::ApiGateway)
        );

        sources.set_all_loading();
        for kind in ProviderKind::ALL {
            assert_eq!(sources.counts(kind), scanned(&sources, kind));
        }
        assert!(sources.first_failure(ProviderKind::Cvm).is_none());
    }
}
