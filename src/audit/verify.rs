//! Checking the hash chain of a log file (`keyward audit verify`): the first line that
//! breaks it and why, or that it is intact and from which line it starts.
//!
//! What the chain shows (see [`super::chain`] for the fields):
//! - an edited line: the next line's `prev` no longer matches it (the last line: the head);
//! - deleted lines: a gap in `seq`; reordered ones: a `seq` out of order;
//! - lines cut off the end: the head (`<log>.lock`, written after every append) names a
//!   later record than the file ends with;
//! - a partial line left by a crash mid-write: not a record, but the line after it is
//!   chained to it (keyward starts the next record on a fresh line), or it is the last
//!   line and the head does not claim it was written. Reported, not counted as broken.
//!
//! A chain without a secret key cannot stop someone who rewrites every line after an
//! edit and the head; it makes every other change visible.

use super::chain::{self, GENESIS};
use super::{AuditError, lock_path};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The last record keyward wrote to a log: its `seq` and line hash, kept in `<log>.lock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

impl Head {
    /// Fixed width, so rewriting it in place never leaves bytes of a longer one behind.
    pub fn line(&self) -> String {
        format!("{:020} {}\n", self.seq, self.hash)
    }

    pub fn parse(text: &str) -> Option<Head> {
        let (seq, hash) = text.trim_end().split_once(' ')?;
        let ok = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
        Some(Head {
            seq: seq.parse().ok()?,
            hash: ok.then(|| hash.to_string())?,
        })
    }

    /// The head kept beside `log`, if there is a readable one.
    pub fn beside(log: &Path) -> Option<Head> {
        std::fs::read_to_string(lock_path(log))
            .ok()
            .and_then(|t| Head::parse(&t))
    }
}

/// How a chain was broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    Edited,
    Deleted,
    Reordered,
    Truncated,
}

impl Why {
    pub fn word(self) -> &'static str {
        match self {
            Why::Edited => "edited",
            Why::Deleted => "deleted",
            Why::Reordered => "reordered",
            Why::Truncated => "truncated",
        }
    }
}

/// The first line where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// 1-based line number in the file.
    pub line: usize,
    pub why: Why,
    pub detail: String,
}

/// How the chain of a file begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// No line carries the chain fields (an empty file, or one written before the chain).
    None,
    /// Line 1 starts a new log.
    NewLog,
    /// Line 1 continues the rotated file named.
    Continues { previous: String, prev: String },
    /// The chain starts at this line; the lines before it predate the chain.
    AfterUnchained { line: usize },
}

/// What the head says about the end of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadCheck {
    /// No head to compare with (not kept beside this file, or unreadable).
    Missing,
    /// It names the last record.
    Matches,
    /// It names a record `by` records before the last (those were written by a keyward
    /// that stopped before noting them, or by another program).
    Behind { by: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub lines: usize,
    pub start: Start,
    /// The first and last `seq` of the chain.
    pub seqs: Option<(u64, u64)>,
    /// Partial lines a crash left (chained over, or last).
    pub partial: Vec<usize>,
    pub head: HeadCheck,
    pub broken: Option<Broken>,
    /// The hash the next record's `prev` would carry.
    pub last_hash: String,
}

impl Report {
    pub fn intact(&self) -> bool {
        self.broken.is_none()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(b) = &self.broken {
            writeln!(f, "BROKEN at line {}: {}: {}", b.line, b.why.word(), b.detail)?;
        }
        let start = match &self.start {
            Start::None => "no line carries a chain (written before keyward chained its log, or empty)".to_string(),
            Start::NewLog => "the chain starts at line 1 (a new log)".to_string(),
            Start::Continues { previous, .. } => format!("the chain starts at line 1, continuing {previous}"),
            Start::AfterUnchained { line } => format!(
                "the chain starts at line {line}; lines 1-{} were written before keyward chained its log and are not covered",
                line - 1
            ),
        };
        writeln!(f, "{} line(s); {start}", self.lines)?;
        if self.broken.is_none() {
            if let Some((first, last)) = self.seqs {
                writeln!(f, "records #{first}-#{last} intact")?;
            }
            match &self.head {
                HeadCheck::Matches => writeln!(f, "the head (the .lock file beside it) names the last record")?,
                HeadCheck::Behind { by } => writeln!(
                    f,
                    "note: the head names a record {by} before the last: the last {by} line(s) are chained but not anchored"
                )?,
                HeadCheck::Missing => writeln!(
                    f,
                    "note: no head beside this file: lines cut off its end could not be seen"
                )?,
            }
        }
        for line in &self.partial {
            writeln!(
                f,
                "note: line {line} is a partial line (keyward stopped mid-write); the records after it start on a fresh line"
            )?;
        }
        write!(f, "last hash: {}", self.last_hash)
    }
}

/// Check the chain of the log at `path`, with the head beside it, and the last line of
/// the file it continues when that is still there.
pub fn verify_file(path: &Path) -> Result<Report, AuditError> {
    let bytes = std::fs::read(path).map_err(|source| AuditError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut report = verify_bytes(&bytes, Head::beside(path).as_ref());
    if report.broken.is_none()
        && let Start::Continues { previous, prev } = &report.start
    {
        let before = path.with_file_name(previous);
        if let Some(hash) = last_line_hash(&before)
            && hash != *prev
        {
            report.broken = Some(Broken {
                line: 1,
                why: Why::Truncated,
                detail: format!(
                    "the file it continues, {}, no longer ends with the line this one chains to: \
                     its end was edited or cut off",
                    before.display()
                ),
            });
        }
    }
    Ok(report)
}

fn last_line_hash(path: &PathBuf) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    chain::read_tail(&file).ok().map(|t| t.hash)
}

/// Check the chain of a file's bytes against its head.
pub fn verify_bytes(bytes: &[u8], head: Option<&Head>) -> Report {
    let complete = bytes.is_empty() || bytes.ends_with(b"\n");
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let lines: Vec<&[u8]> = if body.is_empty() && complete {
        Vec::new()
    } else {
        body.split(|b| *b == b'\n').collect()
    };
    let links: Vec<Option<chain::Links>> = lines.iter().map(|l| chain::links(l)).collect();
    let hashes: Vec<String> = lines.iter().map(|l| chain::hash_line(l)).collect();
    // Where each record number is, to tell a moved line from a deleted one.
    let mut at_seq: HashMap<u64, usize> = HashMap::new();
    for (i, l) in links.iter().enumerate() {
        if let Some(seq) = l.as_ref().and_then(|l| l.seq) {
            at_seq.entry(seq).or_insert(i + 1);
        }
    }
    let mut report = Report {
        lines: lines.len(),
        start: Start::None,
        seqs: None,
        partial: Vec::new(),
        head: HeadCheck::Missing,
        broken: None,
        last_hash: hashes.last().cloned().unwrap_or_else(|| GENESIS.to_string()),
    };
    let broken = |line: usize, why: Why, detail: String| Some(Broken { line, why, detail });
    // The `seq` due next; None until the chain starts.
    let mut due: Option<u64> = None;
    let mut first_seq = None;
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        let prev_hash = i.checked_sub(1).map(|p| hashes[p].as_str());
        let Some(l) = &links[i] else {
            let is_last = n == lines.len();
            let chained_over = links
                .get(i + 1)
                .and_then(|next| next.as_ref())
                .and_then(|next| next.prev.as_deref())
                == Some(hashes[i].as_str());
            if is_last && !complete {
                if let (Some(h), Some(d)) = (head, due)
                    && h.seq >= d
                {
                    report.broken = broken(
                        n,
                        Why::Truncated,
                        format!(
                            "line {n} is cut short, though keyward noted record #{} as written",
                            h.seq
                        ),
                    );
                    break;
                }
                report.partial.push(n);
            } else if chained_over {
                report.partial.push(n);
            } else {
                report.broken = broken(
                    n,
                    Why::Edited,
                    format!("line {n} is not a record any more: it was edited or cut short"),
                );
                break;
            }
            continue;
        };
        let _ = line;
        match (l.prev.as_deref(), l.seq, due) {
            (None, None, None) => {}
            (None, _, Some(_)) | (_, None, Some(_)) | (Some(_), None, None) | (None, Some(_), None) => {
                report.broken = broken(
                    n,
                    Why::Edited,
                    format!(
                        "line {n} lacks the chain fields (prev, seq) the lines around it carry: it was edited or inserted"
                    ),
                );
                break;
            }
            (Some(prev), Some(seq), None) => {
                first_seq = Some(seq);
                due = Some(seq + 1);
                if n == 1 {
                    let continues = serde_json::from_slice::<serde_json::Value>(lines[0])
                        .ok()
                        .filter(|v| v["type"] == "continues");
                    if prev == GENESIS && seq == 1 {
                        report.start = Start::NewLog;
                    } else if let Some(v) = continues {
                        report.start = Start::Continues {
                            previous: v["previous"].as_str().unwrap_or_default().to_string(),
                            prev: prev.to_string(),
                        };
                    } else if prev == GENESIS {
                        report.broken = broken(
                            n,
                            Why::Edited,
                            format!("line 1 starts a new log but is numbered #{seq}, not #1"),
                        );
                        break;
                    } else {
                        report.broken = broken(
                            n,
                            Why::Deleted,
                            format!(
                                "the file starts at record #{seq}, whose predecessor is not here: the lines before it were deleted"
                            ),
                        );
                        break;
                    }
                } else {
                    report.start = Start::AfterUnchained { line: n };
                    if Some(prev) != prev_hash {
                        report.broken = broken(
                            n - 1,
                            Why::Edited,
                            format!("line {} no longer matches the hash line {n} recorded for it", n - 1),
                        );
                        break;
                    }
                }
            }
            (Some(prev), Some(seq), Some(expected)) => {
                due = Some(seq.max(expected) + 1);
                let linked = Some(prev) == prev_hash;
                if linked && seq == expected {
                    continue;
                }
                report.broken = if linked {
                    broken(
                        n,
                        Why::Edited,
                        format!(
                            "line {n} is numbered #{seq} where #{expected} was due, though it chains to line {}: its number was edited",
                            n - 1
                        ),
                    )
                } else if seq > expected {
                    match at_seq.get(&expected) {
                        Some(&later) if later > n => broken(
                            n,
                            Why::Reordered,
                            format!(
                                "record #{expected} is at line {later}, after record #{seq} at line {n}: lines were moved"
                            ),
                        ),
                        _ => broken(
                            n,
                            Why::Deleted,
                            format!(
                                "record(s) #{expected}-#{} are missing before line {n}: {} line(s) deleted",
                                seq - 1,
                                seq - expected
                            ),
                        ),
                    }
                } else if seq < expected {
                    broken(
                        n,
                        Why::Reordered,
                        format!(
                            "record #{seq} at line {n} comes after record #{}: lines were moved",
                            expected - 1
                        ),
                    )
                } else {
                    broken(
                        n - 1,
                        Why::Edited,
                        format!("line {} no longer matches the hash line {n} recorded for it", n - 1),
                    )
                };
                break;
            }
        }
    }
    if let (Some(first), Some(d)) = (first_seq, due) {
        report.seqs = Some((first, d - 1));
    }
    if report.broken.is_some() {
        return report;
    }
    report.head = match (head, report.seqs) {
        (None, _) | (_, None) => HeadCheck::Missing,
        (Some(h), Some((_, last))) if h.seq > last => {
            report.broken = broken(
                lines.len(),
                Why::Truncated,
                format!(
                    "keyward last wrote record #{} but the file ends at record #{last}: {} line(s) were cut off its end",
                    h.seq,
                    h.seq - last
                ),
            );
            HeadCheck::Missing
        }
        (Some(h), Some((_, last))) => match at_seq.get(&h.seq) {
            Some(&line) if hashes[line - 1] != h.hash => {
                report.broken = broken(
                    line,
                    Why::Edited,
                    format!(
                        "line {line} (record #{}) does not match the hash keyward noted when it wrote it (the line, or the head in the .lock file, was edited)",
                        h.seq
                    ),
                );
                HeadCheck::Missing
            }
            Some(_) if h.seq == last => HeadCheck::Matches,
            Some(_) => HeadCheck::Behind { by: last - h.seq },
            // Before the chain's first record: not this file's head.
            None => HeadCheck::Missing,
        },
    };
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chained file of `n` records, and its head.
    fn log(n: u64) -> (Vec<String>, Head) {
        let mut lines = Vec::new();
        let mut prev = GENESIS.to_string();
        for seq in 1..=n {
            let line = chain::chained(&prev, seq, &format!("{{\"type\":\"run_end\",\"run\":\"r{seq}\"}}"));
            prev = chain::hash_line(line.as_bytes());
            lines.push(line);
        }
        let head = Head { seq: n, hash: prev };
        (lines, head)
    }

    fn check(lines: &[String], head: &Head) -> Report {
        let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        verify_bytes(text.as_bytes(), Some(head))
    }

    fn why(r: &Report) -> Option<(usize, Why)> {
        r.broken.as_ref().map(|b| (b.line, b.why))
    }

    #[test]
    fn an_intact_log_names_its_start_and_matches_its_head() {
        let (lines, head) = log(5);
        let r = check(&lines, &head);
        assert!(r.intact(), "{r}");
        assert_eq!(
            (r.start.clone(), r.seqs, r.head.clone()),
            (Start::NewLog, Some((1, 5)), HeadCheck::Matches)
        );
        assert_eq!(r.last_hash, head.hash);
        assert_eq!(Head::parse(&head.line()), Some(head));
    }

    #[test]
    fn each_kind_of_change_is_named_at_its_line() {
        let (lines, head) = log(6);
        let mut edited = lines.clone();
        edited[2] = edited[2].replace("r3", "r9");
        assert_eq!(why(&check(&edited, &head)), Some((3, Why::Edited)));

        let mut deleted = lines.clone();
        deleted.remove(3);
        assert_eq!(why(&check(&deleted, &head)), Some((4, Why::Deleted)));

        let mut swapped = lines.clone();
        swapped.swap(1, 2);
        assert_eq!(why(&check(&swapped, &head)), Some((2, Why::Reordered)));

        let cut = &lines[..4];
        assert_eq!(why(&check(cut, &head)), Some((4, Why::Truncated)));

        let mut last = lines.clone();
        last[5] = last[5].replace("r6", "r7");
        assert_eq!(why(&check(&last, &head)), Some((6, Why::Edited)));

        let mut first_gone = lines.clone();
        first_gone.remove(0);
        assert_eq!(why(&check(&first_gone, &head)), Some((1, Why::Deleted)));
    }

    #[test]
    fn a_crash_partial_line_is_reported_but_not_broken() {
        let (mut lines, _) = log(3);
        // Keyward stopped mid-write, then a later append started a fresh line chained to it.
        let partial = "{\"prev\":\"abc".to_string();
        let after = chain::chained(&chain::hash_line(partial.as_bytes()), 4, "{\"type\":\"run\"}");
        let head = Head {
            seq: 4,
            hash: chain::hash_line(after.as_bytes()),
        };
        lines.push(partial.clone());
        lines.push(after);
        let r = check(&lines, &head);
        assert!(r.intact(), "{r}");
        assert_eq!(r.partial, [4]);

        // A partial last line, the head still at the record before it.
        let (lines, head) = log(3);
        let text = format!(
            "{}\n{partial}",
            lines.iter().map(|l| format!("{l}\n")).collect::<String>().trim_end()
        );
        let r = verify_bytes(text.as_bytes(), Some(&head));
        assert!(r.intact(), "{r}");
        assert_eq!(r.partial, [4]);
        assert!(r.to_string().contains("partial line"), "{r}");
    }

    #[test]
    fn lines_from_before_the_chain_read_and_the_chain_starts_after_them() {
        let old = "{\"type\":\"run\",\"run\":\"old\"}".to_string();
        let first = chain::chained(&chain::hash_line(old.as_bytes()), 1, "{\"type\":\"run\"}");
        let head = Head {
            seq: 1,
            hash: chain::hash_line(first.as_bytes()),
        };
        let r = check(&[old.clone(), first.clone()], &head);
        assert!(r.intact(), "{r}");
        assert_eq!(r.start, Start::AfterUnchained { line: 2 });
        assert!(r.to_string().contains("starts at line 2"), "{r}");
        // An unchained line after the chain started is not an old one.
        assert_eq!(why(&check(&[old.clone(), first, old], &head)), Some((3, Why::Edited)));
    }
}
