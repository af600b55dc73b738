//! Recovering from a run keyward did not finish: every intent without an outcome (the
//! call was in flight when the process died) has its items re-read from the provider,
//! and a `reconciled` record says what was found: `gone`, `still present` (with the
//! status) or `unknown` (the provider could not be asked; tried again at the next
//! start). Nothing is re-sent: deciding that is the operator's.
//!
//! Runs at every start (the TUI, `keyward list`) and on `keyward audit reconcile`, only
//! when this is the only keyward with the log open (another one's calls in flight are
//! not interrupted ones, see [`super::AuditLog::claim_sole`]).

use super::{AuditError, AuditLog, CallRef, Presence, ReconciledItem, Record};
use crate::inventory::{Item, ProviderKind, Scope};
use crate::providers::Provider;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// One call whose intent has no outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub at: CallRef,
    pub ids: Vec<String>,
    /// When the run it belongs to started (its `run` record, else its first intent here).
    pub run_started: DateTime<Utc>,
}

impl Pending {
    /// The scope the call went to, if its provider kind is one this version knows.
    pub fn scope(&self) -> Option<Scope> {
        let kind = ProviderKind::from_slug(&self.at.kind)?;
        Some(Scope::new(kind, self.at.account.as_str(), self.at.region.as_str()))
    }
}

/// Lines of the previous (rotated) file read for intents still open: a call in flight
/// when the file was rotated is among its last lines.
const ARCHIVE_TAIL_LINES: usize = 10_000;

/// The calls of `log` (and of the end of the file it continues) with no outcome yet.
pub fn pending(log: &Path) -> Result<Vec<Pending>, AuditError> {
    let current = super::read_lenient(log)?.entries;
    let continued = current
        .first()
        .filter(|e| e["type"] == "continues")
        .and_then(|e| e["previous"].as_str())
        .map(|name| log.with_file_name(name));
    let mut entries = continued.map(|p| archive_tail(&p)).unwrap_or_default();
    entries.extend(current);
    Ok(pending_in(&entries))
}

fn archive_tail(path: &Path) -> Vec<Value> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let Ok(lines) = super::chain::Backwards::new(&file) else {
        return Vec::new();
    };
    let mut entries: Vec<Value> = lines
        .take(ARCHIVE_TAIL_LINES)
        .filter_map(|l| l.ok().and_then(|l| serde_json::from_slice(&l).ok()))
        .collect();
    entries.reverse();
    entries
}

/// The open intents of `entries` (oldest first) as calls to reconcile.
pub fn pending_in(entries: &[Value]) -> Vec<Pending> {
    let run_starts: HashMap<&str, DateTime<Utc>> = entries
        .iter()
        .filter(|e| e["type"] == "run")
        .filter_map(|e| Some((e["run"].as_str()?, serde_json::from_value(e["time"].clone()).ok()?)))
        .collect();
    let mut out: Vec<Pending> = Vec::new();
    for intent in super::read::open_intents(entries) {
        let Ok(Record::Intent { at, ids, .. }) = serde_json::from_value::<Record>(intent) else {
            continue;
        };
        let run_started = run_starts.get(at.run.as_str()).copied().unwrap_or(at.time);
        out.push(Pending { at, ids, run_started });
    }
    // A run without its `run` record here starts at its first intent.
    let mut firsts: HashMap<String, DateTime<Utc>> = HashMap::new();
    for p in &out {
        let first = firsts.entry(p.at.run.clone()).or_insert(p.run_started);
        *first = (*first).min(p.run_started);
    }
    for p in &mut out {
        if !run_starts.contains_key(p.at.run.as_str()) {
            p.run_started = firsts[&p.at.run];
        }
    }
    out
}

/// What the providers said about each scope the pending calls went to: the ids it lists
/// with their status words, or why it could not be listed.
pub type Listings = HashMap<Scope, Result<HashMap<String, String>, String>>;

/// The ids and statuses of a listing, as [`decide`] needs them.
fn found(items: Vec<Item>) -> HashMap<String, String> {
    items
        .into_iter()
        .map(|i| (i.key.id.to_string(), i.status.label().to_string()))
        .collect()
}

/// The `reconciled` record for each pending call, given the listings. Pure.
pub fn decide(pending: &[Pending], listings: &Listings, now: DateTime<Utc>) -> Vec<Record> {
    pending
        .iter()
        .map(|p| {
            let listed = p.scope().and_then(|s| listings.get(&s));
            let items = p
                .ids
                .iter()
                .map(|id| {
                    let (state, status) = match listed {
                        _ if p.at.dry_run => (Presence::NotSent, None),
                        Some(Ok(found)) => match found.get(id) {
                            Some(status) => (Presence::StillPresent, Some(status.clone())),
                            None => (Presence::Gone, None),
                        },
                        Some(Err(_)) | None => (Presence::Unknown, None),
                    };
                    ReconciledItem {
                        id: id.clone(),
                        state,
                        status,
                    }
                })
                .collect();
            Record::Reconciled {
                at: CallRef {
                    time: now,
                    ..p.at.clone()
                },
                interrupted: p.at.time,
                items,
            }
        })
        .collect()
}

/// The calls of one interrupted run in one scope, as the log pane reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReconciled {
    pub run: String,
    pub started: DateTime<Utc>,
    pub scope: Scope,
    pub calls: usize,
    pub gone: usize,
    pub still_present: usize,
    pub unknown: usize,
    pub not_sent: usize,
    /// Per item: the call's action, the id, what was found, the status.
    pub items: Vec<(String, String, Presence, Option<String>)>,
    /// Why the scope could not be listed, when it could not.
    pub unreachable: Option<String>,
}

impl RunReconciled {
    /// "3 calls of the interrupted run at 14:02 reconciled: 2 gone, 1 still present".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for (n, words) in [
            (self.gone, "gone"),
            (self.still_present, "still present"),
            (self.not_sent, "not sent (dry run)"),
        ] {
            if n > 0 {
                parts.push(format!("{n} {words}"));
            }
        }
        if self.unknown > 0 {
            parts.push(format!(
                "{} unknown ({}; tried again at the next start)",
                self.unknown,
                self.unreachable.as_deref().unwrap_or("the provider could not be asked")
            ));
        }
        format!(
            "{} call{} of the interrupted run at {} reconciled: {}; nothing was re-sent",
            self.calls,
            if self.calls == 1 { "" } else { "s" },
            self.started.format("%H:%M"),
            parts.join(", ")
        )
    }
}

/// What one reconciliation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Another keyward has the log open: nothing was reconciled.
    pub other_keyward: bool,
    /// Grouped by run and scope, in log order.
    pub runs: Vec<RunReconciled>,
}

impl Report {
    pub fn unknown(&self) -> usize {
        self.runs.iter().map(|r| r.unknown).sum()
    }

    /// What `keyward list` and `keyward audit reconcile` print: one line per run and scope.
    pub fn lines(&self) -> Vec<String> {
        if self.other_keyward {
            return vec![OTHER_KEYWARD.to_string()];
        }
        self.runs
            .iter()
            .map(|r| format!("{}: {}", r.scope, r.summary()))
            .collect()
    }
}

/// Said instead of reconciling when another keyward has the log open.
pub const OTHER_KEYWARD: &str = "another keyward has this audit log open, so calls without an outcome may still be \
     in flight there: they are reconciled at a start when it is the only one (or run `keyward audit reconcile` then)";

fn group(records: &[Record], pending: &[Pending], listings: &Listings) -> Vec<RunReconciled> {
    let mut groups: BTreeMap<(usize, String, Scope), RunReconciled> = BTreeMap::new();
    let mut order: HashMap<String, usize> = HashMap::new();
    for (record, p) in records.iter().zip(pending) {
        let Record::Reconciled { items, .. } = record else {
            continue;
        };
        let scope = p
            .scope()
            .unwrap_or_else(|| Scope::new(ProviderKind::Cvm, p.at.account.as_str(), p.at.region.as_str()));
        let next = order.len();
        let rank = *order.entry(p.at.run.clone()).or_insert(next);
        let unreachable = match listings.get(&scope) {
            Some(Err(e)) => Some(e.clone()),
            None if !p.at.dry_run => Some(format!("no {} source is configured for {scope}", p.at.kind)),
            _ => None,
        };
        let g = groups
            .entry((rank, p.at.run.clone(), scope.clone()))
            .or_insert_with(|| RunReconciled {
                run: p.at.run.clone(),
                started: p.run_started,
                scope,
                calls: 0,
                gone: 0,
                still_present: 0,
                unknown: 0,
                not_sent: 0,
                items: Vec::new(),
                unreachable: None,
            });
        g.calls += 1;
        if g.unreachable.is_none() {
            g.unreachable = unreachable;
        }
        for item in items {
            match item.state {
                Presence::Gone => g.gone += 1,
                Presence::StillPresent => g.still_present += 1,
                Presence::Unknown => g.unknown += 1,
                Presence::NotSent => g.not_sent += 1,
            }
            g.items
                .push((p.at.action.clone(), item.id.clone(), item.state, item.status.clone()));
        }
    }
    groups.into_values().collect()
}

/// Reconcile the interrupted calls of `log` through `providers` (each scope a pending
/// call went to is listed once), writing a `reconciled` record for each.
pub async fn run(log: &AuditLog, providers: &[Arc<dyn Provider>]) -> Result<Report, AuditError> {
    let pending = {
        let Some(_sole) = log.claim_sole()? else {
            return Ok(Report {
                other_keyward: true,
                runs: Vec::new(),
            });
        };
        let mut pending = pending(log.path())?;
        // This session's own calls may be in flight already (a run started while the
        // reconciliation task was queued): they are not an interrupted run's.
        pending.retain(|p| !log.wrote_run(&p.at.run));
        pending
    };
    if pending.is_empty() {
        return Ok(Report::default());
    }
    let mut scopes: Vec<Scope> = pending
        .iter()
        .filter(|p| !p.at.dry_run)
        .filter_map(Pending::scope)
        .collect();
    scopes.sort();
    scopes.dedup();
    let reads = scopes.into_iter().filter_map(|scope| {
        let provider = providers.iter().find(|p| *p.scope() == scope)?.clone();
        Some(async move {
            let listed = match crate::panic_guard::caught(provider.list()).await {
                Ok(Ok(items)) => Ok(found(items)),
                Ok(Err(err)) => Err(err.to_string()),
                Err(_) => Err("the provider panicked while listing".to_string()),
            };
            (scope, listed)
        })
    });
    let listings: Listings = futures::future::join_all(reads).await.into_iter().collect();
    let records = decide(&pending, &listings, Utc::now());
    for record in &records {
        log.append(record)?;
    }
    Ok(Report {
        other_keyward: false,
        runs: group(&records, &pending, &listings),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(run: &str, call: usize, ids: &[&str], dry_run: bool) -> Value {
        serde_json::json!({
            "type": "intent", "time": "2026-01-02T14:02:30Z", "run": run, "call": call,
            "kind": "cvm", "account": "prod", "region": "ap-guangzhou", "action": "DeleteKeyPairs",
            "dry_run": dry_run, "ids": ids,
        })
    }

    #[test]
    fn only_open_intents_are_pending_and_runs_start_at_their_run_record() {
        let entries = vec![
            serde_json::json!({"type": "run", "time": "2026-01-02T14:02:00Z", "run": "r1", "dry_run": false, "calls": 2, "items": 3}),
            intent("r1", 0, &["a", "b"], false),
            intent("r1", 1, &["c"], false),
            serde_json::json!({"type": "outcome", "run": "r1", "call": 1, "items": []}),
        ];
        let pending = pending_in(&entries);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].ids, ["a", "b"]);
        assert_eq!(pending[0].run_started.format("%H:%M:%S").to_string(), "14:02:00");
    }

    #[test]
    fn found_items_are_still_present_missing_ones_gone_and_an_unlisted_scope_unknown() {
        let entries = vec![intent("r1", 0, &["a", "b", "c"], false), intent("r2", 0, &["d"], true)];
        let pending = pending_in(&entries);
        let scope = pending[0].scope().unwrap();
        let mut listings: Listings = HashMap::from([(
            scope.clone(),
            Ok(HashMap::from([("b".to_string(), "active".to_string())])),
        )]);
        let records = decide(&pending, &listings, Utc::now());
        let Record::Reconciled { items, interrupted, .. } = &records[0] else {
            panic!("{:?}", records[0]);
        };
        let states: Vec<(&str, Presence)> = items.iter().map(|i| (i.id.as_str(), i.state)).collect();
        assert_eq!(
            states,
            [
                ("a", Presence::Gone),
                ("b", Presence::StillPresent),
                ("c", Presence::Gone)
            ]
        );
        assert_eq!(items[1].status.as_deref(), Some("active"));
        assert_eq!(interrupted.format("%H:%M:%S").to_string(), "14:02:30");
        // The dry run sent nothing: nothing to look for.
        let Record::Reconciled { items, .. } = &records[1] else {
            panic!()
        };
        assert_eq!(items[0].state, Presence::NotSent);

        let groups = group(&records, &pending, &listings);
        assert_eq!(
            groups[0].summary(),
            "1 call of the interrupted run at 14:02 reconciled: 2 gone, 1 still present; nothing was re-sent"
        );

        listings.insert(scope, Err("Timeout: no answer".to_string()));
        let records = decide(&pending, &listings, Utc::now());
        let Record::Reconciled { items, .. } = &records[0] else {
            panic!()
        };
        assert!(items.iter().all(|i| i.state == Presence::Unknown));
        let summary = group(&records, &pending, &listings)[0].summary();
        assert!(
            summary.contains("3 unknown (Timeout: no answer; tried again"),
            "{summary}"
        );
    }
}
