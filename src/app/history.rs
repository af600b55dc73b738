//! The `H` overlay: past item results read back from the audit log, newest first.
//!
//! The runtime reads the file (IO) and hands the records to [`from_entries`], which is
//! pure; the overlay then only scrolls.

use super::keymap::{Binding, Key, KeyTable, NAV_KEYS};
use super::modal::{Ctx, Dialog, Step};
use super::scroll;
use crate::audit::{CallRef, OutcomeKind, Record};
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent};

/// Item results the overlay keeps: the newest ones, enough for a working day.
pub const HISTORY_LIMIT: usize = 500;

/// One item result of a past call. Only these fields are shown: an audit record holds
/// no secret, and free-text fields (error messages, rename targets) stay out of the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLine {
    pub time: DateTime<Utc>,
    /// Provider slug as logged, e.g. `cvm`.
    pub kind: String,
    pub account: String,
    pub region: String,
    pub action: String,
    pub id: String,
    /// The key's name when it was planned (older audit lines have none).
    pub name: Option<String>,
    pub result: OutcomeKind,
    pub request_id: Option<String>,
    /// Error code of a failed (or kept/unknown) result.
    pub code: Option<String>,
}

/// The history overlay's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// Newest first.
    pub lines: Vec<HistoryLine>,
    /// First line shown.
    pub scroll: usize,
}

impl History {
    pub fn new(lines: Vec<HistoryLine>) -> Self {
        History { lines, scroll: 0 }
    }

    /// Move the window by `delta` lines; the last page stays full.
    pub fn scroll_by(&mut self, delta: isize, page: usize) {
        self.scroll = scroll::by(self.scroll, delta, self.lines.len(), page);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryCommand {
    Close,
}

/// The history's own keys; moving through it takes the shared `NAV_KEYS`.
pub static HISTORY_KEYS: KeyTable<HistoryCommand> = KeyTable {
    title: "history (after H)",
    bindings: &[Binding {
        keys: &[Key::Code(KeyCode::Esc), Key::Char('H'), Key::Char('q')],
        command: HistoryCommand::Close,
        help: "close the history (newest first; j k PgUp PgDn g G move)",
        hint: Some("close"),
    }],
};

impl Dialog for History {
    fn on_key(&mut self, key: &KeyEvent, ctx: &Ctx) -> Step {
        if let Some(nav) = NAV_KEYS.lookup(key) {
            self.scroll = nav.scroll(self.scroll, self.lines.len(), ctx.page);
        } else if let Some(HistoryCommand::Close) = HISTORY_KEYS.lookup(key) {
            return Step::Close(None);
        }
        Step::Stay
    }

    fn guarded(&self) -> bool {
        false
    }
}

/// The newest `limit` item results of the outcome records in `entries` (the audit log's
/// records, oldest first, as `audit::read_entries` returns them), newest first. Other
/// record types are skipped, and so is an outcome line this version cannot read (a
/// history view must not fail over one odd line; the file itself stays untouched).
pub fn from_entries(entries: Vec<serde_json::Value>, limit: usize) -> Vec<HistoryLine> {
    let mut lines = Vec::new();
    for entry in entries.into_iter().rev() {
        if lines.len() >= limit {
            break;
        }
        if entry.get("type").and_then(|t| t.as_str()) != Some("outcome") {
            continue;
        }
        let Ok(Record::Outcome { at, items }) = serde_json::from_value::<Record>(entry) else {
            continue;
        };
        let CallRef {
            time,
            kind,
            account,
            region,
            action,
            ..
        } = at;
        // Within one call the ids are in request order; newest first means reversed.
        for item in items.into_iter().rev().take(limit - lines.len()) {
            lines.push(HistoryLine {
                time,
                kind: kind.clone(),
                account: account.clone(),
                region: region.clone(),
                action: action.clone(),
                id: item.id,
                name: item.name,
                result: item.result,
                request_id: item.request_id,
                code: item.code,
            });
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(call: usize, ids: &[&str]) -> serde_json::Value {
        json!({
            "type": "outcome", "time": "2026-01-02T03:04:05Z", "run": "r1", "call": call,
            "kind": "cvm", "account": "prod", "region": "ap-guangzhou", "action": "DeleteKeyPairs",
            "dry_run": false,
            "items": ids.iter().map(|id| json!({
                "id": id, "result": "failed", "code": "InvalidKeyPair.NotFound",
                "message": "free text that must not be shown", "request_id": format!("req-{call}"),
            })).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn newest_first_outcomes_only_capped_at_the_limit() {
        let entries = vec![
            json!({"type": "run", "time": "2026-01-02T03:04:00Z", "run": "r1", "dry_run": false, "calls": 2, "items": 3}),
            json!({"type": "intent", "time": "2026-01-02T03:04:01Z", "run": "r1", "call": 0, "kind": "cvm",
                   "account": "prod", "region": "ap-guangzhou", "action": "DeleteKeyPairs", "ids": ["a", "b"], "dry_run": false}),
            outcome(0, &["a", "b"]),
            json!({"type": "outcome", "note": "a record this version cannot read"}),
            outcome(1, &["c"]),
            json!({"type": "run_end", "time": "2026-01-02T03:04:09Z", "run": "r1", "cancelled": false, "ok": 0, "failed": 3, "not_sent": 0}),
        ];
        let all = from_entries(entries.clone(), HISTORY_LIMIT);
        let ids: Vec<&str> = all.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["c", "b", "a"]);
        assert_eq!(all[0].request_id.as_deref(), Some("req-1"));
        assert_eq!(all[0].code.as_deref(), Some("InvalidKeyPair.NotFound"));
        assert_eq!(all[0].result, OutcomeKind::Failed);
        let two: Vec<String> = from_entries(entries, 2).into_iter().map(|l| l.id).collect();
        assert_eq!(two, ["c", "b"]);
    }

    #[test]
    fn scrolling_stays_on_existing_lines() {
        let mut h = History::new(from_entries(vec![outcome(0, &["a", "b", "c"])], HISTORY_LIMIT));
        h.scroll_by(-1, 1);
        assert_eq!(h.scroll, 0);
        h.scroll_by(10, 1);
        assert_eq!(h.scroll, 2);
        h.scroll_by(-1, 1);
        assert_eq!(h.scroll, 1);
        h.scroll_by(10, 2);
        assert_eq!(h.scroll, 1, "the bottom keeps a full page of two lines");
    }
}
