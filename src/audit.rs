//! Append-only JSONL audit log in the data directory: an intent line before each
//! call and an outcome line after it, never a secret.
//!
//! One JSON object per line, `"type"` says which record it is (see [`Record`]):
//! - `run` when a run starts, `run_end` when it finishes;
//! - `intent` right before a call is sent (or would be, in a dry run);
//! - `outcome` after it, one per call, with one result per id. A call that was never sent
//!   (cancelled, no provider) has an outcome line and no intent line.
//!
//! An intent without an outcome means keyward stopped while the call was in flight: the
//! call may or may not have happened. [`unmatched_intents`] finds those.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("no data directory could be determined for keyward (is HOME set?): configure an explicit audit log path")]
    NoDataDir,
    #[error("cannot create the audit log directory {path}: {source}; check that it is writable")]
    CreateDir { path: PathBuf, source: io::Error },
    #[error("cannot open the audit log {path}: {source}; check the file's owner and permissions")]
    Open { path: PathBuf, source: io::Error },
    #[error(
        "refusing to open the audit log {path}: it is a symbolic link, and keyward does not follow one \
         there (someone else could point it at a file of theirs); remove it or configure the real path"
    )]
    Symlink { path: PathBuf },
    #[error("refusing to open the audit log {path}: it is not a regular file; configure a file path")]
    NotAFile { path: PathBuf },
    #[error("cannot write to the audit log {path}: {source}; check free disk space and permissions")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read the audit log {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("the audit log {path} has an invalid line {line}: {source}; the file was edited or is damaged")]
    Parse {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
    #[error("cannot encode an audit record: {0}")]
    Encode(#[from] serde_json::Error),
}

/// How one item's call ended, in one word: the vocabulary the executor reports, the audit
/// log records as `result`, and the history overlay shows. Serialized as the words the
/// audit log has always used (`ok`, `kept`, `failed`, `unknown`, `dry_run`, `not_sent`),
/// so existing logs still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// The service did it.
    Ok,
    /// The service answered success and kept the item (a CVM pair still bound).
    Kept,
    /// It certainly did not happen: refused, or never reached the service.
    Failed,
    /// No valid answer (timeout, dropped connection, 5xx): the call may have taken effect.
    Unknown,
    /// Dry run: logged, nothing sent.
    DryRun,
    /// Not sent: cancelled, or an earlier call for the item did not succeed.
    NotSent,
}

impl OutcomeKind {
    /// The audit log's word for it.
    pub fn word(self) -> &'static str {
        match self {
            OutcomeKind::Ok => "ok",
            OutcomeKind::Kept => "kept",
            OutcomeKind::Failed => "failed",
            OutcomeKind::Unknown => "unknown",
            OutcomeKind::DryRun => "dry_run",
            OutcomeKind::NotSent => "not_sent",
        }
    }
}

impl std::fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

/// One id's result inside an outcome record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemResult {
    pub id: String,
    pub result: OutcomeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The key's name when the run was planned (a name is not a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Which call of which run an intent or outcome line is about: both carry it, and the two
/// lines of one call pair up by `run` and `call`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRef {
    pub time: chrono::DateTime<chrono::Utc>,
    pub run: String,
    /// Index of the call in the run.
    pub call: usize,
    pub kind: String,
    pub account: String,
    pub region: String,
    pub action: String,
    pub dry_run: bool,
}

/// The records of the audit log. No field can hold a secret: a rotation records only
/// whether a custom secret was supplied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Record {
    Run {
        time: chrono::DateTime<chrono::Utc>,
        run: String,
        dry_run: bool,
        calls: usize,
        items: usize,
    },
    Intent {
        #[serde(flatten)]
        at: CallRef,
        ids: Vec<String>,
        /// Rename only.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        /// Rotate only: whether the operator supplied the secret (its value is never logged).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        custom_secret: Option<bool>,
    },
    Outcome {
        #[serde(flatten)]
        at: CallRef,
        items: Vec<ItemResult>,
    },
    /// Item counts by final outcome: `ok`, `kept`, `failed`, `unknown`, `not_sent`, `dry_run`.
    RunEnd {
        time: chrono::DateTime<chrono::Utc>,
        run: String,
        cancelled: bool,
        #[serde(flatten)]
        tally: crate::queue::Tally,
    },
}

/// The open audit log. Share it as `Arc<AuditLog>`; every method takes `&self`.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl AuditLog {
    /// `<data dir>/keyward/audit.jsonl`, e.g. `~/.local/share/keyward/audit.jsonl` on Linux.
    pub fn default_path() -> Result<PathBuf, AuditError> {
        directories::ProjectDirs::from("", "", "keyward")
            .map(|dirs| dirs.data_dir().join("audit.jsonl"))
            .ok_or(AuditError::NoDataDir)
    }

    /// Open (creating it and its parent directories) for appending, under the rule for
    /// private files ([`crate::private_file`]): 0600, no symbolic link followed, a regular
    /// file only.
    pub fn open(path: impl AsRef<Path>) -> Result<AuditLog, AuditError> {
        use crate::private_file::{OpenError, open_append};
        let path = path.as_ref().to_path_buf();
        let file = open_append(&path).map_err(|e| match e {
            OpenError::CreateDir { path, source } => AuditError::CreateDir { path, source },
            OpenError::Open { path, source } => AuditError::Open { path, source },
            OpenError::Symlink { path } => AuditError::Symlink { path },
            OpenError::NotAFile { path } => AuditError::NotAFile { path },
        })?;
        Ok(AuditLog {
            path,
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one record as one line. The line goes to the kernel in one write before this
    /// returns, so a crash of keyward cannot lose it.
    pub fn append(&self, record: &Record) -> Result<(), AuditError> {
        self.write_line(record, false)
    }

    /// Like `append`, and also waits until the line is on disk: used for intents, so that
    /// even after a power loss the log shows a call that may have been sent.
    pub fn append_durable(&self, record: &Record) -> Result<(), AuditError> {
        self.write_line(record, true)
    }

    fn write_line(&self, record: &Record, durable: bool) -> Result<(), AuditError> {
        let mut line = serde_json::to_string(record)?;
        line.push('\n');
        // A poisoned lock only means another thread panicked mid-call; the file handle is
        // still valid and appends are whole lines, so keep logging.
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let write_err = |source| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        file.write_all(line.as_bytes()).map_err(write_err)?;
        file.flush().map_err(write_err)?;
        if durable {
            file.sync_data().map_err(write_err)?;
        }
        Ok(())
    }
}

/// Every record in the file, oldest first. A torn last line (keyward died mid-write) is
/// ignored; any other invalid line is an error.
pub fn read_entries(path: impl AsRef<Path>) -> Result<Vec<serde_json::Value>, AuditError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| AuditError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().collect();
    let mut entries = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(value) => entries.push(value),
            Err(_) if !complete && index + 1 == lines.len() => {}
            Err(source) => {
                return Err(AuditError::Parse {
                    path: path.to_path_buf(),
                    line: index + 1,
                    source,
                });
            }
        }
    }
    Ok(entries)
}

/// Intent records with no outcome record of the same (run, call): calls whose result
/// keyward never learned.
pub fn unmatched_intents(path: impl AsRef<Path>) -> Result<Vec<serde_json::Value>, AuditError> {
    fn record_type(e: &serde_json::Value) -> Option<&str> {
        e.get("type").and_then(|t| t.as_str())
    }
    fn pair_key(e: &serde_json::Value) -> (Option<&str>, Option<u64>) {
        (
            e.get("run").and_then(|r| r.as_str()),
            e.get("call").and_then(|c| c.as_u64()),
        )
    }
    let entries = read_entries(path)?;
    let outcomes: std::collections::HashSet<_> = entries
        .iter()
        .filter(|e| record_type(e) == Some("outcome"))
        .map(pair_key)
        .collect();
    let unmatched = entries
        .iter()
        .filter(|e| record_type(e) == Some("intent") && !outcomes.contains(&pair_key(e)))
        .cloned()
        .collect();
    Ok(unmatched)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words are the audit log's format: serde and `word` agree, and a line written
    /// before `OutcomeKind` existed still reads.
    #[test]
    fn outcome_kinds_serialize_as_the_audit_words() {
        let all = [
            OutcomeKind::Ok,
            OutcomeKind::Kept,
            OutcomeKind::Failed,
            OutcomeKind::Unknown,
            OutcomeKind::DryRun,
            OutcomeKind::NotSent,
        ];
        let words: Vec<String> = all.iter().map(|k| serde_json::to_string(k).unwrap()).collect();
        assert_eq!(
            words,
            [
                "\"ok\"",
                "\"kept\"",
                "\"failed\"",
                "\"unknown\"",
                "\"dry_run\"",
                "\"not_sent\""
            ]
        );
        for k in all {
            assert_eq!(serde_json::to_string(&k).unwrap(), format!("\"{}\"", k.word()));
        }
        let old: ItemResult = serde_json::from_str(
            r#"{"id":"skey-1","result":"unknown","code":"Timeout","message":"no answer","request_id":"r-1"}"#,
        )
        .unwrap();
        assert_eq!(old.result, OutcomeKind::Unknown);
    }
}
