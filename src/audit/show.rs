//! `keyward audit show`: the runs in the log and what became of each item, filtered by
//! time, account and action, as text, JSON or CSV.

use crate::inventory::ProviderKind;
use crate::providers::Operation;
use crate::text::sanitize;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Which item results to show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<DateTime<Utc>>,
    pub account: Option<String>,
    /// An operation word (`delete`, `disable`, `enable`, `rotate`, `rename`), which
    /// matches each kind's own action name for it, or an action name itself.
    pub action: Option<String>,
}

impl Filter {
    fn matches(&self, row: &Row) -> bool {
        self.since.is_none_or(|t| row.time >= t)
            && self.account.as_deref().is_none_or(|a| a == row.account)
            && self
                .action
                .as_deref()
                .is_none_or(|a| action_matches(a, &row.kind, &row.action))
    }
}

const OPERATIONS: [(&str, Operation); 5] = [
    ("delete", Operation::Delete),
    ("disable", Operation::Disable),
    ("enable", Operation::Enable),
    ("rotate", Operation::Rotate),
    ("rename", Operation::Rename),
];

/// Whether `wanted` names `action` of a `kind` item: the action names live in each
/// provider's module (`providers::action`), not here.
fn action_matches(wanted: &str, kind: &str, action: &str) -> bool {
    if wanted.eq_ignore_ascii_case(action) {
        return true;
    }
    let Some((_, op)) = OPERATIONS.iter().find(|(w, _)| w.eq_ignore_ascii_case(wanted)) else {
        return false;
    };
    ProviderKind::from_slug(kind)
        .and_then(|k| crate::providers::action(k, *op))
        .is_some_and(|name| name == action)
}

/// `7d`, `12h`, `30m`, `2w`, a date (`2026-01-02`, from its midnight UTC) or an RFC 3339
/// time, as the earliest time to show.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    let unit = t.chars().last().unwrap_or(' ');
    if let Ok(n) = t[..t.len().saturating_sub(1)].parse::<i64>()
        && n >= 0
    {
        let span = match unit {
            'm' => Some(chrono::TimeDelta::try_minutes(n)),
            'h' => Some(chrono::TimeDelta::try_hours(n)),
            'd' => Some(chrono::TimeDelta::try_days(n)),
            'w' => Some(chrono::TimeDelta::try_weeks(n)),
            _ => None,
        };
        if let Some(span) = span {
            return span
                .and_then(|s| now.checked_sub_signed(s))
                .ok_or_else(|| format!("--since {t} reaches too far back"));
        }
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(t) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    Err(format!(
        "--since {t:?} is not a time: use a span like 7d, 12h, 30m or 2w, a date like 2026-01-02, or an RFC 3339 time"
    ))
}

/// One item's result in one call (an `outcome` line's item) or its re-read after an
/// interrupted run (a `reconciled` line's item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub time: DateTime<Utc>,
    pub run: String,
    /// `outcome` or `reconciled`.
    pub record: &'static str,
    pub kind: String,
    pub account: String,
    pub region: String,
    pub action: String,
    pub id: String,
    pub name: Option<String>,
    /// `ok`, `failed`, `unknown`... for an outcome; `gone`, `still present`... reconciled.
    pub result: String,
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
}

/// A run as its `run` and `run_end` records describe it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RunInfo {
    started: Option<DateTime<Utc>>,
    dry_run: bool,
    calls: u64,
    items: u64,
    /// The `run_end` record's counts, when the run ended.
    ended: Option<Value>,
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn opt(v: &Value, key: &str) -> Option<String> {
    v[key].as_str().map(str::to_string)
}

/// The item rows of `entries` (oldest first) that `filter` keeps, oldest first.
pub fn rows(entries: &[Value], filter: &Filter) -> Vec<Row> {
    let mut out = Vec::new();
    for e in entries {
        let record = match e["type"].as_str() {
            Some("outcome") => "outcome",
            Some("reconciled") => "reconciled",
            _ => continue,
        };
        let Ok(time) = serde_json::from_value::<DateTime<Utc>>(e["time"].clone()) else {
            continue;
        };
        for item in e["items"].as_array().into_iter().flatten() {
            let result = if record == "outcome" {
                text(item, "result")
            } else {
                let state = item["state"].as_str().unwrap_or_default();
                match (state, item["status"].as_str()) {
                    ("still_present", Some(status)) => format!("still present ({status})"),
                    _ => state.replace('_', " "),
                }
            };
            let row = Row {
                time,
                run: text(e, "run"),
                record,
                kind: text(e, "kind"),
                account: text(e, "account"),
                region: text(e, "region"),
                action: text(e, "action"),
                id: text(item, "id"),
                name: opt(item, "name"),
                result,
                code: opt(item, "code"),
                message: opt(item, "message"),
                request_id: opt(item, "request_id"),
            };
            if filter.matches(&row) {
                out.push(row);
            }
        }
    }
    out
}

fn runs(entries: &[Value]) -> HashMap<String, RunInfo> {
    let mut runs: HashMap<String, RunInfo> = HashMap::new();
    for e in entries {
        let info = || RunInfo::default();
        match e["type"].as_str() {
            Some("run") => {
                let r = runs.entry(text(e, "run")).or_insert_with(info);
                r.started = serde_json::from_value(e["time"].clone()).ok();
                r.dry_run = e["dry_run"].as_bool().unwrap_or(false);
                r.calls = e["calls"].as_u64().unwrap_or(0);
                r.items = e["items"].as_u64().unwrap_or(0);
            }
            Some("run_end") => {
                runs.entry(text(e, "run")).or_insert_with(info).ended = Some(e.clone());
            }
            _ => {}
        }
    }
    runs
}

/// How the rows are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Runs with their item results under them.
    #[default]
    Text,
    /// A JSON array of rows.
    Json,
    /// CSV, one row per item result.
    Csv,
}

const COLUMNS: [&str; 13] = [
    "time",
    "run",
    "record",
    "kind",
    "account",
    "region",
    "action",
    "id",
    "name",
    "result",
    "code",
    "message",
    "request_id",
];

fn cells(r: &Row) -> [String; 13] {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    [
        r.time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        r.run.clone(),
        r.record.to_string(),
        r.kind.clone(),
        r.account.clone(),
        r.region.clone(),
        r.action.clone(),
        r.id.clone(),
        o(&r.name),
        r.result.clone(),
        o(&r.code),
        o(&r.message),
        o(&r.request_id),
    ]
}

/// The rows of `entries` that `filter` keeps, printed in `format`.
pub fn render(entries: &[Value], filter: &Filter, format: Format) -> Result<String, String> {
    let rows = rows(entries, filter);
    match format {
        Format::Json => serde_json::to_string_pretty(&rows)
            .map(|s| s + "\n")
            .map_err(|e| format!("cannot write JSON: {e}")),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let mut write = || -> Result<(), csv::Error> {
                w.write_record(COLUMNS)?;
                for r in &rows {
                    // Names and messages come from the cloud: escaped as the table does.
                    w.write_record(cells(r).iter().map(|c| sanitize(c).into_owned()))?;
                }
                w.flush()?;
                Ok(())
            };
            write().map_err(|e| format!("cannot write CSV: {e}"))?;
            let bytes = w.into_inner().map_err(|e| format!("cannot write CSV: {e}"))?;
            String::from_utf8(bytes).map_err(|e| format!("cannot write CSV: {e}"))
        }
        Format::Text => Ok(text_report(&rows, &runs(entries))),
    }
}

fn text_report(rows: &[Row], runs: &HashMap<String, RunInfo>) -> String {
    if rows.is_empty() {
        return "no item results match\n".to_string();
    }
    // Each run once, in the order it first appears, with all its rows (a reconciled
    // row comes long after the run it completes).
    let mut order: Vec<&str> = Vec::new();
    let mut by_run: HashMap<&str, Vec<&Row>> = HashMap::new();
    for r in rows {
        let list = by_run.entry(r.run.as_str()).or_default();
        if list.is_empty() {
            order.push(r.run.as_str());
        }
        list.push(r);
    }
    let mut out = String::new();
    for run in order {
        out.push_str(&sanitize(&run_header(run, runs.get(run))));
        out.push('\n');
        for r in &by_run[run] {
            out.push_str(&item_line(r));
            out.push('\n');
        }
    }
    out
}

fn item_line(r: &Row) -> String {
    let name = r.name.as_deref().map(|n| format!(" {n}")).unwrap_or_default();
    let mut line = format!(
        "  {} {} {}/{} {} {}{name}: {}",
        r.time.format("%Y-%m-%d %H:%M:%S"),
        r.kind,
        r.account,
        r.region,
        r.action,
        r.id,
        if r.record == "reconciled" {
            format!("reconciled, {}", r.result)
        } else {
            r.result.clone()
        }
    );
    if let Some(code) = &r.code {
        line.push_str(&format!(" {code}"));
    }
    if let Some(message) = &r.message {
        line.push_str(&format!(": {message}"));
    }
    if let Some(id) = &r.request_id {
        line.push_str(&format!(" RequestId={id}"));
    }
    sanitize(&line).into_owned()
}

fn run_header(run: &str, info: Option<&RunInfo>) -> String {
    let Some(info) = info else {
        return format!("run {run}");
    };
    let started = info
        .started
        .map(|t| t.format(" started %Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let dry = if info.dry_run { " (dry run)" } else { "" };
    let end = match &info.ended {
        None => "no end recorded (interrupted, or still running)".to_string(),
        Some(end) => {
            let counts: Vec<String> = ["ok", "kept", "failed", "unknown", "not_sent", "dry_run"]
                .iter()
                .filter_map(|k| end[*k].as_u64().filter(|n| *n > 0).map(|n| format!("{n} {k}")))
                .collect();
            let cancelled = if end["cancelled"] == true { "cancelled" } else { "ended" };
            format!("{cancelled}: {}", counts.join(", "))
        }
    };
    format!(
        "run {run}{started}{dry}: {} calls, {} items; {end}",
        info.calls, info.items
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entries() -> Vec<Value> {
        vec![
            json!({"type": "run", "time": "2026-01-02T14:02:00Z", "run": "r1", "dry_run": false, "calls": 2, "items": 2}),
            json!({"type": "outcome", "time": "2026-01-02T14:02:01Z", "run": "r1", "call": 0, "kind": "cvm",
                   "account": "prod", "region": "ap-guangzhou", "action": "DeleteKeyPairs", "dry_run": false,
                   "items": [{"id": "skey-1", "result": "ok", "request_id": "req-1", "name": "build"}]}),
            json!({"type": "outcome", "time": "2026-01-09T10:00:00Z", "run": "r2", "call": 0, "kind": "apigateway",
                   "account": "dev", "region": "ap-shanghai", "action": "DisableApiKey", "dry_run": false,
                   "items": [{"id": "AKID1", "result": "failed", "code": "InternalError", "message": "boom\u{1b}[2J"}]}),
            json!({"type": "reconciled", "time": "2026-01-09T11:00:00Z", "interrupted": "2026-01-02T14:02:02Z",
                   "run": "r1", "call": 1, "kind": "cvm", "account": "prod", "region": "ap-guangzhou",
                   "action": "DeleteKeyPairs", "dry_run": false,
                   "items": [{"id": "skey-2", "state": "still_present", "status": "active"}]}),
            json!({"type": "run_end", "time": "2026-01-02T14:02:03Z", "run": "r1", "cancelled": false, "ok": 1}),
        ]
    }

    #[test]
    fn filters_keep_what_they_name() {
        let all = rows(&entries(), &Filter::default());
        assert_eq!(all.len(), 3);
        let delete = Filter {
            action: Some("delete".into()),
            ..Filter::default()
        };
        let ids: Vec<String> = rows(&entries(), &delete).into_iter().map(|r| r.id).collect();
        assert_eq!(ids, ["skey-1", "skey-2"]);
        let dev = Filter {
            account: Some("dev".into()),
            ..Filter::default()
        };
        assert_eq!(rows(&entries(), &dev)[0].id, "AKID1");
        let named = Filter {
            action: Some("disableapikey".into()),
            ..Filter::default()
        };
        assert_eq!(rows(&entries(), &named).len(), 1);
        let now: DateTime<Utc> = "2026-01-09T12:00:00Z".parse().unwrap();
        let recent = Filter {
            since: Some(parse_since("1d", now).unwrap()),
            ..Filter::default()
        };
        assert_eq!(rows(&entries(), &recent).len(), 2);
    }

    #[test]
    fn since_takes_spans_dates_and_times() {
        let now: DateTime<Utc> = "2026-01-09T12:00:00Z".parse().unwrap();
        assert_eq!(
            parse_since("7d", now).unwrap(),
            "2026-01-02T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_since("30m", now).unwrap(),
            "2026-01-09T11:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_since("2026-01-05", now).unwrap(),
            "2026-01-05T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert!(parse_since("last tuesday", now).unwrap_err().contains("7d"));
    }

    #[test]
    fn text_groups_by_run_and_escapes_cloud_text() {
        let out = render(&entries(), &Filter::default(), Format::Text).unwrap();
        assert!(
            out.contains("run r1 started 2026-01-02 14:02:00 UTC: 2 calls, 2 items; ended: 1 ok"),
            "{out}"
        );
        assert!(out.contains("DeleteKeyPairs skey-1 build: ok RequestId=req-1"), "{out}");
        assert!(out.contains("skey-2: reconciled, still present (active)"), "{out}");
        assert!(!out.contains('\u{1b}'), "{out}");
        let csv = render(&entries(), &Filter::default(), Format::Csv).unwrap();
        assert!(csv.starts_with("time,run,record,kind,account"), "{csv}");
        assert_eq!(csv.lines().count(), 4);
        let json: Value = serde_json::from_str(&render(&entries(), &Filter::default(), Format::Json).unwrap()).unwrap();
        assert_eq!(json[2]["result"], "still present (active)");
        assert_eq!(json[2]["record"], "reconciled");
    }
}
