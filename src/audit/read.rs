//! Reading the log back: strictly (every line must be a record), leniently (a line that
//! is not one is skipped and counted, for the views), and the intents still open.

use super::AuditError;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

fn read_bytes(path: &Path) -> Result<Vec<u8>, AuditError> {
    std::fs::read(path).map_err(|source| AuditError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The file's lines with their 1-based numbers, and whether the last one is complete.
fn lines(bytes: &[u8]) -> (Vec<(usize, &[u8])>, bool) {
    let complete = bytes.is_empty() || bytes.ends_with(b"\n");
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let lines = if body.is_empty() && complete {
        Vec::new()
    } else {
        body.split(|b| *b == b'\n')
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .collect()
    };
    (lines, complete)
}

fn blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Every record in the file, oldest first. A line torn by a crash mid-write is ignored
/// (the last line, or one the next record is chained to: keyward started that record on
/// a fresh line); any other invalid line is an error.
pub fn read_entries(path: impl AsRef<Path>) -> Result<Vec<Value>, AuditError> {
    let path = path.as_ref();
    let bytes = read_bytes(path)?;
    let (lines, complete) = lines(&bytes);
    let last = lines.len();
    let chained_over = |number: usize| {
        lines
            .get(number)
            .and_then(|(_, next)| super::chain::links(next))
            .and_then(|l| l.prev)
            .is_some_and(|prev| prev == super::chain::hash_line(lines[number - 1].1))
    };
    let mut entries = Vec::with_capacity(lines.len());
    for &(number, line) in &lines {
        if blank(line) {
            continue;
        }
        match serde_json::from_slice(line) {
            Ok(value) => entries.push(value),
            Err(_) if (!complete && number == last) || chained_over(number) => {}
            Err(source) => {
                return Err(AuditError::Parse {
                    path: path.to_path_buf(),
                    line: number,
                    source,
                });
            }
        }
    }
    Ok(entries)
}

/// The records of a file read leniently: lines that are not a JSON object are left out
/// and their numbers kept, so one damaged line does not hide the rest.
#[derive(Debug, Default)]
pub struct Lenient {
    /// Oldest first.
    pub entries: Vec<Value>,
    /// 1-based numbers of the lines left out (a last line cut short by a crash included).
    pub skipped: Vec<usize>,
}

pub fn read_lenient(path: impl AsRef<Path>) -> Result<Lenient, AuditError> {
    let bytes = read_bytes(path.as_ref())?;
    let (lines, _) = lines(&bytes);
    let mut out = Lenient::default();
    for (number, line) in lines {
        if blank(line) {
            continue;
        }
        match serde_json::from_slice::<Value>(line) {
            Ok(value) if value.is_object() => out.entries.push(value),
            _ => out.skipped.push(number),
        }
    }
    Ok(out)
}

fn record_type(e: &Value) -> Option<&str> {
    e.get("type").and_then(|t| t.as_str())
}

fn pair_key(e: &Value) -> (Option<&str>, Option<u64>) {
    (
        e.get("run").and_then(|r| r.as_str()),
        e.get("call").and_then(|c| c.as_u64()),
    )
}

/// Whether a `reconciled` record settles its intent: every id was found or found gone
/// (an `unknown` one is re-read at the next start).
fn settles(reconciled: &Value) -> bool {
    reconciled["items"]
        .as_array()
        .is_some_and(|items| items.iter().all(|i| i["state"] != "unknown"))
}

/// Intent records (of `entries`, oldest first) with neither an outcome nor a settling
/// `reconciled` record of the same (run, call): calls whose result keyward never learned.
pub fn open_intents(entries: &[Value]) -> Vec<Value> {
    let closed: HashSet<_> = entries
        .iter()
        .filter(|e| match record_type(e) {
            Some("outcome") => true,
            Some("reconciled") => settles(e),
            _ => false,
        })
        .map(pair_key)
        .collect();
    entries
        .iter()
        .filter(|e| record_type(e) == Some("intent") && !closed.contains(&pair_key(e)))
        .cloned()
        .collect()
}

/// [`open_intents`] of the file, read leniently (a damaged line must not stop the
/// reconciliation of the others).
pub fn unmatched_intents(path: impl AsRef<Path>) -> Result<Vec<Value>, AuditError> {
    Ok(open_intents(&read_lenient(path)?.entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_and_the_last_one_may_be_open() {
        assert_eq!(lines(b""), (vec![], true));
        assert_eq!(lines(b"a\n"), (vec![(1, &b"a"[..])], true));
        assert_eq!(lines(b"a\nb"), (vec![(1, &b"a"[..]), (2, &b"b"[..])], false));
    }

    #[test]
    fn a_reconciled_record_closes_its_intent_unless_something_stayed_unknown() {
        let intent = |call: u64| serde_json::json!({"type": "intent", "run": "r", "call": call});
        let reconciled = |call: u64, state: &str| {
            serde_json::json!({"type": "reconciled", "run": "r", "call": call,
                "items": [{"id": "a", "state": "gone"}, {"id": "b", "state": state}]})
        };
        let entries = vec![
            intent(0),
            intent(1),
            intent(2),
            reconciled(0, "still_present"),
            reconciled(1, "unknown"),
        ];
        let open: Vec<u64> = open_intents(&entries)
            .iter()
            .map(|e| e["call"].as_u64().unwrap())
            .collect();
        assert_eq!(open, [1, 2]);
    }
}
