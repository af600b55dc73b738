//! Append-only JSONL audit log in the data directory: an intent line before each
//! call and an outcome line after it, never a secret.
//!
//! One JSON object per line, `"type"` says which record it is (see [`Record`]):
//! - `run` when a run starts, `run_end` when it finishes;
//! - `intent` right before a call is sent (or would be, in a dry run), on disk (synced)
//!   before the request leaves;
//! - `outcome` after it, one per call, with one result per id. A call that was never sent
//!   (cancelled, no provider) has an outcome line and no intent line;
//! - `reconciled` when a later start re-read the items of an intent that has no outcome
//!   (keyward stopped while the call was in flight), see [`reconcile`];
//! - `continues` first in a file started by rotation, naming the file before it.
//!
//! A run applied from a reviewed plan file (`keyward apply`) carries the file's hash as
//! `plan` on its `run` line and on every intent and outcome.
//!
//! Every line is chained to the one before by hash ([`chain`]); `keyward audit verify`
//! checks the chain ([`verify`]).
//!
//! Sharing: several keyward processes may write one log. Each append takes an exclusive
//! advisory lock on the file (`fs4`), so lines never interleave or tear and each chains
//! to the true last line; each process holds a shared lock on `<log>.lock` while it has
//! the log open, so the reconciliation of interrupted calls runs only when no other
//! keyward is using the log (another one's calls in flight are not interrupted ones).

pub mod chain;
pub mod cli;
pub mod read;
pub mod reconcile;
pub mod show;
pub mod verify;

pub use read::{read_entries, read_lenient, unmatched_intents};

use chain::Tail;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

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
    #[error("cannot lock the audit log {path}: {source}; check that its directory is writable")]
    Lock { path: PathBuf, source: io::Error },
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
    /// The hash of the reviewed plan file the run applied (`keyward apply`); absent for a
    /// run confirmed in the TUI, and in logs written before plan files existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
}

/// What a re-read found of an item whose call was interrupted (see [`reconcile`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// The provider no longer lists it.
    Gone,
    /// The provider still lists it (its status alongside).
    StillPresent,
    /// The provider could not be asked (unreachable, not configured): retried next start.
    Unknown,
    /// A dry-run intent: nothing was sent, so nothing was re-read.
    NotSent,
}

impl Presence {
    /// In words, as the log pane and `audit show` say it.
    pub fn words(self) -> &'static str {
        match self {
            Presence::Gone => "gone",
            Presence::StillPresent => "still present",
            Presence::Unknown => "unknown",
            Presence::NotSent => "not sent",
        }
    }
}

/// One id of a `reconciled` record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconciledItem {
    pub id: String,
    pub state: Presence,
    /// The item's status when still present (`enabled`, `disabled`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
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
        /// The reviewed plan file's hash, as on each of the run's intents and outcomes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan: Option<String>,
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
    /// What a later start found of the items of an intent without an outcome. `at` is
    /// the intent's (run, call, scope, action) stamped with the time of the re-read;
    /// nothing was re-sent. An intent is settled once a record has no `unknown` item.
    Reconciled {
        #[serde(flatten)]
        at: CallRef,
        /// When the interrupted call's intent was written.
        interrupted: chrono::DateTime<chrono::Utc>,
        items: Vec<ReconciledItem>,
    },
    /// The first record of a file begun by rotation: `previous` (a file name in the same
    /// directory) holds the records before it, and this record's `prev` is the hash of
    /// that file's last line.
    Continues {
        time: chrono::DateTime<chrono::Utc>,
        previous: String,
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
    /// `<log>.lock`: held shared while this log is open (see [`AuditLog::claim_sole`]),
    /// and holding the head: the `seq` and hash of the last line written, which lets
    /// `audit verify` see an edited last line or lines cut off the end.
    session: File,
    /// Rotate before a line would take the file past this size.
    max_bytes: Option<u64>,
    writer: Mutex<Writer>,
    /// End offset of the last line synced to disk in the current file (0 after a switch):
    /// what a test reads to see that an intent was durable before its request left.
    synced: AtomicU64,
    /// Runs whose intents this handle wrote: their calls may be in flight right now, so
    /// they are never an earlier run's interrupted ones.
    own_runs: Mutex<std::collections::HashSet<String>>,
}

#[derive(Debug)]
struct Writer {
    file: File,
    ident: Ident,
    /// The end of the file after this process's last append: reused while the file's
    /// length is unchanged, re-read when another writer appended meanwhile.
    tail: Option<Tail>,
    /// Things the operator must hear about the file (replaced, truncated, not rotated).
    notices: Vec<String>,
}

/// What a path or handle is on disk (device, inode): compared before each append to
/// notice a log deleted or replaced under a running keyward.
type Ident = (u64, u64);

#[cfg(unix)]
fn ident(meta: &std::fs::Metadata) -> Ident {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn ident(_meta: &std::fs::Metadata) -> Ident {
    (0, 0)
}

/// Held while this process is the only keyward with the log open; dropping it lets
/// others in again. See [`AuditLog::claim_sole`].
pub struct SoleClaim<'a> {
    log: &'a AuditLog,
}

impl Drop for SoleClaim<'_> {
    fn drop(&mut self) {
        // Back to the shared lock every open log holds (flock converts in place).
        if let Err(err) = fs4::FileExt::lock_shared(&self.log.session) {
            tracing::warn!(%err, "cannot take the audit log's shared lock back");
        }
    }
}

impl AuditLog {
    /// `<data dir>/keyward/audit.jsonl`, e.g. `~/.local/share/keyward/audit.jsonl` on Linux.
    pub fn default_path() -> Result<PathBuf, AuditError> {
        directories::ProjectDirs::from("", "", "keyward")
            .map(|dirs| dirs.data_dir().join("audit.jsonl"))
            .ok_or(AuditError::NoDataDir)
    }

    /// Open (creating it and its parent directories) for appending. On unix the file is
    /// created 0600, and an existing file readable by others is tightened to 0600.
    ///
    /// A symbolic link at the path is refused, not followed (`O_NOFOLLOW`, checked by the
    /// kernel at open, so nothing can swap the link in between a check and the open):
    /// whoever planted it would otherwise get the log appended to, and the chmod applied
    /// to, a file of their choosing. Anything but a regular file is refused too.
    pub fn open(path: impl AsRef<Path>) -> Result<AuditLog, AuditError> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| AuditError::CreateDir {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let file = open_private(&path, false)?;
        let id = ident(&file.metadata().map_err(|source| AuditError::Open {
            path: path.clone(),
            source,
        })?);
        let session_path = lock_path(&path);
        let session = open_private(&session_path, true)?;
        fs4::FileExt::lock_shared(&session).map_err(|source| AuditError::Lock {
            path: session_path,
            source,
        })?;
        Ok(AuditLog {
            path,
            session,
            max_bytes: None,
            writer: Mutex::new(Writer {
                file,
                ident: id,
                tail: None,
                notices: Vec::new(),
            }),
            synced: AtomicU64::new(0),
            own_runs: Mutex::new(std::collections::HashSet::new()),
        })
    }

    /// Whether this handle wrote intents of `run` (a run of this session).
    pub fn wrote_run(&self, run: &str) -> bool {
        self.own_runs.lock().unwrap_or_else(|e| e.into_inner()).contains(run)
    }

    /// Rotate the file before a line would take it past `max` bytes (None: never).
    pub fn rotating_at(mut self, max: Option<u64>) -> Self {
        self.max_bytes = max;
        self
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

    /// How far the current file is known to be on disk: the end of the last line an
    /// `append_durable` synced (0 when none has since the file was opened or switched).
    pub fn synced_len(&self) -> u64 {
        self.synced.load(Ordering::SeqCst)
    }

    /// What happened to the file that the operator must hear (it was deleted or replaced
    /// and reopened, truncated, could not be rotated), once each.
    pub fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut self.lock_writer().notices)
    }

    /// Whether this is the only keyward with the log open: then, until the claim is
    /// dropped, no other can open it, and every intent without an outcome is from a
    /// keyward that stopped (none is another one's call in flight). `None` when another
    /// keyward has it open.
    pub fn claim_sole(&self) -> Result<Option<SoleClaim<'_>>, AuditError> {
        let lock_err = |source| AuditError::Lock {
            path: lock_path(&self.path),
            source,
        };
        match fs4::FileExt::try_lock(&self.session) {
            Ok(()) => Ok(Some(SoleClaim { log: self })),
            Err(fs4::TryLockError::WouldBlock) => {
                // A refused conversion may have dropped the shared lock: take it again.
                fs4::FileExt::lock_shared(&self.session).map_err(lock_err)?;
                Ok(None)
            }
            Err(fs4::TryLockError::Error(source)) => {
                let _ = fs4::FileExt::lock_shared(&self.session);
                Err(lock_err(source))
            }
        }
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        // A poisoned lock only means another thread panicked mid-call; the file handle is
        // still valid and appends are whole lines, so keep logging.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write_line(&self, record: &Record, durable: bool) -> Result<(), AuditError> {
        let body = serde_json::to_string(record)?;
        if let Record::Intent { at, .. } = record {
            let mut own = self.own_runs.lock().unwrap_or_else(|e| e.into_inner());
            if !own.contains(&at.run) {
                own.insert(at.run.clone());
            }
        }
        let mut writer = self.lock_writer();
        let w = &mut *writer;
        self.lock_current(w)?;
        let result = self.append_locked(w, &body, durable);
        // Closing would release it too; an error here leaves nothing to undo.
        let _ = fs4::FileExt::unlock(&w.file);
        result
    }

    /// Take the exclusive lock of the file now at the path, reopening first if the path
    /// no longer names the file this process has open (rotated by another keyward,
    /// deleted or replaced by someone else).
    fn lock_current(&self, w: &mut Writer) -> Result<(), AuditError> {
        let lock_err = |source| AuditError::Lock {
            path: self.path.clone(),
            source,
        };
        // Each round follows one change of the file; more than a few in a row while
        // waiting for one lock means something keeps replacing it.
        for _ in 0..8 {
            self.follow_path(w)?;
            fs4::FileExt::lock(&w.file).map_err(lock_err)?;
            if self.path_ident() == Some(w.ident) {
                return Ok(());
            }
            let _ = fs4::FileExt::unlock(&w.file);
        }
        Err(lock_err(io::Error::other(
            "the file kept being replaced while keyward waited for its lock",
        )))
    }

    fn path_ident(&self) -> Option<Ident> {
        std::fs::symlink_metadata(&self.path).ok().map(|m| ident(&m))
    }

    fn follow_path(&self, w: &mut Writer) -> Result<(), AuditError> {
        if self.path_ident() == Some(w.ident) {
            return Ok(());
        }
        let file = open_private(&self.path, false)?;
        let new_ident = ident(&file.metadata().map_err(|source| AuditError::Open {
            path: self.path.clone(),
            source,
        })?);
        // Another keyward's rotation starts the new file with a `continues` record
        // chained to the old file's last line: nothing to tell. Anything else is someone
        // deleting or replacing the log under us.
        let rotated = match (chain::read_tail(&w.file), first_line(&file)) {
            (Ok(old), Some(first)) => {
                first.contains("\"type\":\"continues\"")
                    && chain::links(first.as_bytes()).and_then(|l| l.prev) == Some(old.hash)
            }
            _ => false,
        };
        if !rotated {
            w.notices.push(format!(
                "the audit log {} was deleted or replaced while keyward was running; keyward \
                 reopened it and writes there from now on (earlier records are in the old file, \
                 if anyone kept it)",
                self.path.display()
            ));
        }
        w.file = file;
        w.ident = new_ident;
        w.tail = None;
        self.synced.store(0, Ordering::SeqCst);
        Ok(())
    }

    /// Append `body` as the next chained line, with the file's lock held.
    fn append_locked(&self, w: &mut Writer, body: &str, durable: bool) -> Result<(), AuditError> {
        let write_err = |source| AuditError::Write {
            path: self.path.clone(),
            source,
        };
        let mut tail = self.current_tail(w)?;
        if let Some(max) = self.max_bytes
            && tail.len > 0
            && tail.len + body.len() as u64 + LINK_FIELDS_LEN > max
        {
            match self.rotate(w, &tail) {
                Ok(new_tail) => tail = new_tail,
                Err(err) => w.notices.push(format!(
                    "the audit log {} is over its size limit but could not be rotated ({err}); \
                     it keeps growing",
                    self.path.display()
                )),
            }
        }
        let seq = tail.seq + 1;
        let line = chain::chained(&tail.hash, seq, body);
        let mut bytes = Vec::with_capacity(line.len() + 2);
        // A last line cut short by a crash stays as it is (the chain covers it); this
        // record starts on a line of its own instead of being glued onto it.
        if !tail.newline {
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        (&w.file).write_all(&bytes).map_err(write_err)?;
        let len = tail.len + bytes.len() as u64;
        if durable {
            w.file.sync_data().map_err(write_err)?;
            self.synced.fetch_max(len, Ordering::SeqCst);
        }
        let hash = chain::hash_line(line.as_bytes());
        self.write_head(seq, &hash);
        w.tail = Some(Tail {
            len,
            newline: true,
            hash,
            seq,
        });
        Ok(())
    }

    /// The file's end now: this process's own record of it while nobody else appended,
    /// else read from the file.
    fn current_tail(&self, w: &mut Writer) -> Result<Tail, AuditError> {
        let read_err = |source| AuditError::Read {
            path: self.path.clone(),
            source,
        };
        let len = w.file.metadata().map_err(read_err)?.len();
        if let Some(tail) = &w.tail {
            if tail.len == len {
                return Ok(tail.clone());
            }
            if len < tail.len {
                w.notices.push(format!(
                    "the audit log {} was cut from {} to {len} bytes while keyward was running; \
                     `keyward audit verify` shows what is missing",
                    self.path.display(),
                    tail.len
                ));
            }
        }
        chain::read_tail(&w.file).map_err(read_err)
    }

    /// The head: the last record's `seq` and hash, in a fixed-width line at the start of
    /// the lock file. Best effort: a head behind the file only means the last lines are
    /// not anchored, which `audit verify` says.
    fn write_head(&self, seq: u64, hash: &str) {
        let head = verify::Head {
            seq,
            hash: hash.to_string(),
        };
        if let Err(err) = write_all_at(&self.session, head.line().as_bytes(), 0) {
            tracing::warn!(%err, "cannot update the audit log's head");
        }
    }

    /// Start a new file at the path: the records so far stay in `<stem>-<UTC time>.<ext>`
    /// beside it, and the new file begins with a `continues` record chained to the old
    /// file's last line. The path names a file at every moment (the old one is linked
    /// under its new name first, then the new one renamed over the path), so another
    /// keyward never finds it missing; it notices the new file at its next append.
    fn rotate(&self, w: &mut Writer, tail: &Tail) -> Result<Tail, io::Error> {
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty());
        let dir = dir.unwrap_or(Path::new("."));
        let archive = archive_path(&self.path, chrono::Utc::now());
        let previous = archive
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = dir.join(format!(".keyward-audit-{}.new", uuid::Uuid::new_v4()));
        let new = open_new_private(&temp)?;
        let undo = |e: io::Error| {
            let _ = std::fs::remove_file(&temp);
            e
        };
        fs4::FileExt::lock(&new).map_err(undo)?;
        let body = serde_json::to_string(&Record::Continues {
            time: chrono::Utc::now(),
            previous,
        })
        .map_err(|e| undo(io::Error::other(e)))?;
        let seq = tail.seq + 1;
        let line = chain::chained(&tail.hash, seq, &body);
        (&new)
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| new.sync_data())
            .map_err(undo)?;
        std::fs::hard_link(&self.path, &archive).map_err(undo)?;
        if let Err(e) = std::fs::rename(&temp, &self.path) {
            let _ = std::fs::remove_file(&archive);
            return Err(undo(e));
        }
        w.ident = ident(&new.metadata()?);
        // Dropping the old handle releases its lock: writers waiting on it find the new file.
        w.file = new;
        self.synced.store(0, Ordering::SeqCst);
        Ok(Tail {
            len: line.len() as u64 + 1,
            newline: true,
            hash: chain::hash_line(line.as_bytes()),
            seq,
        })
    }
}

/// Room the `prev` and `seq` fields take in a line, for the rotation check.
const LINK_FIELDS_LEN: u64 = 100;

/// `<log>.lock` beside the log.
pub fn lock_path(log: &Path) -> PathBuf {
    let mut name = log.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    log.with_file_name(name)
}

/// Where rotation puts the records so far: `audit-20260102T030405.123Z.jsonl` for
/// `audit.jsonl`, a new name each time (names sort in time order).
fn archive_path(log: &Path, now: chrono::DateTime<chrono::Utc>) -> PathBuf {
    let stem = log.file_stem().unwrap_or_default().to_string_lossy();
    let ext = log
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let stamp = now.format("%Y%m%dT%H%M%S%.3fZ");
    let mut n = 0;
    loop {
        let suffix = if n == 0 { String::new() } else { format!("-{n}") };
        let candidate = log.with_file_name(format!("{stem}-{stamp}{suffix}{ext}"));
        if !candidate.exists() {
            return candidate;
        }
        n += 1;
    }
}

/// The files rotation left beside `log`, oldest first.
pub fn archives(log: &Path) -> Vec<PathBuf> {
    let stem = log.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    let ext = log
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let dir = log
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let prefix = format!("{stem}-");
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().map(|n| n.to_string_lossy()).is_some_and(|n| {
                n.starts_with(&prefix)
                    && n.ends_with(&ext)
                    && n[prefix.len()..].starts_with(|c: char| c.is_ascii_digit())
            })
        })
        .collect();
    // By stamp, then by the `-N` a second rotation in the same millisecond adds: plain
    // name order would put `…Z-1.jsonl` before `…Z.jsonl` ('-' sorts before '.').
    let key = |p: &PathBuf| {
        let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let middle = name[prefix.len()..name.len() - ext.len()].to_string();
        match middle.split_once('-') {
            Some((stamp, n)) => (stamp.to_string(), n.parse::<u64>().unwrap_or(u64::MAX)),
            None => (middle, 0),
        }
    };
    found.sort_by_cached_key(key);
    found
}

/// The first line of a file (at most 64 KiB of it), if it has a complete one.
fn first_line(file: &File) -> Option<String> {
    let mut buf = vec![0u8; 64 * 1024];
    let n = read_at(file, &mut buf, 0).ok()?;
    let end = buf[..n].iter().position(|b| *b == b'\n')?;
    String::from_utf8(buf[..end].to_vec()).ok()
}

/// Open (creating) a private regular file under [`crate::private_file`]'s rule.
/// `read_write`: for the lock file; the log is opened to append.
fn open_private(path: &Path, read_write: bool) -> Result<File, AuditError> {
    use crate::private_file::{Access, OpenError, open};
    let access = if read_write { Access::ReadWrite } else { Access::Append };
    open(path, access).map_err(|e| match e {
        OpenError::CreateDir { path, source } => AuditError::CreateDir { path, source },
        OpenError::Open { path, source } => AuditError::Open { path, source },
        OpenError::Symlink { path } => AuditError::Symlink { path },
        OpenError::NotAFile { path } => AuditError::NotAFile { path },
    })
}

/// A new private file for appending, never an existing one.
fn open_new_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(unix)]
fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.read(buf)
}

#[cfg(not(unix))]
fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(buf)
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
