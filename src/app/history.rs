//! The `H` overlay: past item results read back from the audit log, newest first.
//!
//! The runtime reads the file from its end (IO, only as far back as the overlay shows)
//! and hands the lines to [`from_newest_lines`], which is pure; the overlay then only
//! scrolls. A line that is not a record is skipped and counted, not fatal.

use super::keymap::{Binding, Key, KeyTable, NAV_KEYS};
use super::modal::{Ctx, Dialog, Step};
use super::scroll;
use crate::audit::{CallRef, OutcomeKind, Record};
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use std::borrow::Cow;

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

/// What was read for the overlay: the item results, and how many lines of the part of
/// the file read were not records (damaged, or cut short by a crash).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HistoryPage {
    /// Newest first.
    pub lines: Vec<HistoryLine>,
    pub skipped: usize,
}

impl From<Vec<HistoryLine>> for HistoryPage {
    fn from(lines: Vec<HistoryLine>) -> Self {
        HistoryPage { lines, skipped: 0 }
    }
}

/// The history overlay's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    /// Newest first.
    pub lines: Vec<HistoryLine>,
    /// Lines of the file that were not records, left out.
    pub skipped: usize,
    /// First line shown.
    pub scroll: usize,
}

impl History {
    pub fn new(lines: Vec<HistoryLine>) -> Self {
        History {
            lines,
            skipped: 0,
            scroll: 0,
        }
    }

    pub fn from_page(page: HistoryPage) -> Self {
        History {
            skipped: page.skipped,
            ..History::new(page.lines)
        }
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
    bindings: Cow::Borrowed(&[Binding {
        keys: Cow::Borrowed(&[Key::Code(KeyCode::Esc), Key::Char('H'), Key::Char('q')]),
        command: HistoryCommand::Close,
        help: "close the history (newest first; j k PgUp PgDn g G move)",
        hint: Some("close"),
    }]),
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
    newest(entries.into_iter().rev(), limit)
}

/// The same from the file's lines newest first (as `audit::chain::Backwards` reads them),
/// taking only as many as `limit` results need: a line that is not JSON is counted in
/// `skipped` and left out.
pub fn from_newest_lines(lines: impl Iterator<Item = Vec<u8>>, limit: usize) -> HistoryPage {
    let mut skipped = 0;
    let mut results = 0;
    let entries = lines
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .filter_map(|l| match serde_json::from_slice::<serde_json::Value>(&l) {
            Ok(v) if v.is_object() => Some(v),
            _ => {
                skipped += 1;
                None
            }
        })
        // Stop reading once the limit is reached: the rest of the file is never parsed.
        .take_while(|v| {
            let more = results < limit;
            if v.get("type").and_then(|t| t.as_str()) == Some("outcome") {
                results += v["items"].as_array().map_or(0, Vec::len);
            }
            more
        });
    let lines = newest(entries, limit);
    HistoryPage { lines, skipped }
}

fn newest(entries: impl Iterator<Item = serde_json::Value>, limit: usize) -> Vec<HistoryLine> {
    let mut lines = Vec::new();
    for entry in entries {
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
    fn lines_read_from_the_end_skip_and_count_what_is_not_a_record() {
        let line = |v: serde_json::Value| v.to_string().into_bytes();
        // Newest first, as read backwards; a damaged line and a crash's partial line among them.
        let lines = vec![
            line(outcome(2, &["d"])),
            b"{\"type\":\"outc".to_vec(),
            line(outcome(1, &["c"])),
            b"garbage \xff".to_vec(),
            line(outcome(0, &["a", "b"])),
        ];
        let page = from_newest_lines(lines.clone().into_iter(), HISTORY_LIMIT);
        let ids: Vec<&str> = page.lines.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, ["d", "c", "b", "a"]);
        assert_eq!(page.skipped, 2);
        // Only what the limit needs is read: the line after the first result is looked
        // at (and found partial), the damaged one further back never is.
        let page = from_newest_lines(lines.into_iter(), 1);
        assert_eq!((page.lines.len(), page.skipped), (1, 1));
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
