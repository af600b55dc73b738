//! Staged rotations of CAM access keys in progress, kept on disk beside the audit log
//! (`rotations.json` in the same directory), so that a rotation begun in one session —
//! a new key created and shown once — is finished in another, after the operator has
//! updated their applications: disable the old key, then delete it.
//!
//! The file holds ids and times only, never a secret. It is replaced atomically (a
//! private temp file in the same directory, synced, then renamed over the old one), so a
//! crash leaves either the old state or the new one, never half of either.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "rotations.json";

/// Where one rotation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The new key exists; the old one is still active.
    NewKeyCreated,
    /// The old key is disabled; deleting it finishes the rotation.
    OldKeyDisabled,
}

/// One user's rotation: the key being replaced and the key replacing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub account: String,
    /// The owner as the tab shows it (`root` or the user's name).
    pub owner: String,
    /// The owner's uin, where the API gave one (the `TargetUin` of later calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_uin: Option<u64>,
    pub old_key: String,
    pub new_key: String,
    pub stage: Stage,
    /// When the new key was created.
    pub started: DateTime<Utc>,
    /// When the stage last changed.
    pub updated: DateTime<Utc>,
}

impl Rotation {
    /// What the owner's rows say, e.g. "rotation: new key created 2 days ago, old key still
    /// active".
    pub fn describe(&self, now: DateTime<Utc>) -> String {
        let ago = ago(now, self.started);
        match self.stage {
            Stage::NewKeyCreated => format!("rotation: new key created {ago}, old key still active"),
            Stage::OldKeyDisabled => {
                format!("rotation: new key created {ago}, old key disabled, to be deleted")
            }
        }
    }
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago".
fn ago(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds().max(0);
    let (n, unit) = match secs {
        0..60 => return "just now".to_string(),
        60..3_600 => (secs / 60, "minute"),
        3_600..86_400 => (secs / 3_600, "hour"),
        _ => (secs / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("cannot read the rotations in progress from {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "{path} is not a list of rotations ({source}); fix: restore it from a backup, or move it away to forget \
         the rotations in progress (their new keys stay; finish them by hand in the CAM console)"
    )]
    Parse { path: PathBuf, source: serde_json::Error },
    #[error("cannot save the rotations in progress to {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// The rotations file of one audit log.
#[derive(Debug, Clone)]
pub struct RotationStore {
    path: PathBuf,
}

impl RotationStore {
    /// The store in the audit log's directory.
    pub fn beside(audit_log: &Path) -> Self {
        let dir = audit_log.parent().unwrap_or_else(|| Path::new("."));
        RotationStore {
            path: dir.join(FILE_NAME),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every rotation in progress; none when the file does not exist yet.
    pub fn load(&self) -> Result<Vec<Rotation>, RotationError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(RotationError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        serde_json::from_str(&text).map_err(|source| RotationError::Parse {
            path: self.path.clone(),
            source,
        })
    }

    /// Replace the file with `rotations`, atomically.
    pub fn save(&self, rotations: &[Rotation]) -> Result<(), RotationError> {
        let write_err = |source| RotationError::Write {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or_else(|| Path::new("."));
        std::fs::create_dir_all(dir).map_err(write_err)?;
        let json = serde_json::to_vec_pretty(rotations).map_err(|e| write_err(std::io::Error::other(e)))?;
        // tempfile creates it 0600 in the same directory, so the rename is atomic.
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(write_err)?;
        tmp.write_all(&json).map_err(write_err)?;
        tmp.as_file().sync_all().map_err(write_err)?;
        tmp.persist(&self.path).map_err(|e| write_err(e.error))?;
        Ok(())
    }

    /// Record `rotation`, replacing the one of the same account and old key.
    pub fn upsert(&self, rotation: Rotation) -> Result<(), RotationError> {
        let mut all = self.load()?;
        all.retain(|r| !(r.account == rotation.account && r.old_key == rotation.old_key));
        all.push(rotation);
        self.save(&all)
    }

    /// Forget the rotation of `old_key` in `account` (it finished, or its keys are gone).
    pub fn remove(&self, account: &str, old_key: &str) -> Result<(), RotationError> {
        let mut all = self.load()?;
        let before = all.len();
        all.retain(|r| !(r.account == account && r.old_key == old_key));
        if all.len() == before {
            return Ok(());
        }
        self.save(&all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    fn rotation(old: &str) -> Rotation {
        Rotation {
            account: "acme-prod".into(),
            owner: "alice".into(),
            owner_uin: Some(100_000_000_002),
            old_key: old.into(),
            new_key: format!("{old}-new"),
            stage: Stage::NewKeyCreated,
            started: at(1, 9),
            updated: at(1, 9),
        }
    }

    #[test]
    fn rotations_survive_a_new_store_over_the_same_directory() {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("audit.jsonl");
        let store = RotationStore::beside(&audit);
        assert_eq!(store.load().unwrap(), Vec::new(), "no file yet: nothing in progress");
        store.upsert(rotation("AKIDold1")).unwrap();
        store.upsert(rotation("AKIDold2")).unwrap();
        let mut advanced = rotation("AKIDold1");
        advanced.stage = Stage::OldKeyDisabled;
        store.upsert(advanced.clone()).unwrap();

        // A later session (a new store value) sees the same two, the first advanced.
        let again = RotationStore::beside(&audit).load().unwrap();
        assert_eq!(again.len(), 2);
        assert!(again.contains(&advanced));
        assert!(again.contains(&rotation("AKIDold2")));
        RotationStore::beside(&audit).remove("acme-prod", "AKIDold1").unwrap();
        assert_eq!(store.load().unwrap(), vec![rotation("AKIDold2")]);
        assert_eq!(store.path(), dir.path().join(FILE_NAME));
    }

    #[test]
    fn a_damaged_file_is_an_error_with_the_fix_not_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let store = RotationStore::beside(&dir.path().join("audit.jsonl"));
        std::fs::write(store.path(), "[{\"account\": ").unwrap();
        let err = store.load().unwrap_err().to_string();
        assert!(err.contains("rotations.json") && err.contains("fix:"), "{err}");
    }

    #[test]
    fn the_file_holds_ids_and_times_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let store = RotationStore::beside(&dir.path().join("audit.jsonl"));
        store.save(&[rotation("AKIDold1")]).unwrap();
        let text = std::fs::read_to_string(store.path()).unwrap();
        assert!(text.contains("\"stage\": \"new_key_created\""), "{text}");
        assert!(!text.to_lowercase().contains("secret"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
    }

    #[test]
    fn rows_say_how_far_the_rotation_got_and_how_long_ago() {
        let mut r = rotation("AKIDold1");
        assert_eq!(
            r.describe(at(3, 10)),
            "rotation: new key created 2 days ago, old key still active"
        );
        r.stage = Stage::OldKeyDisabled;
        assert_eq!(
            r.describe(at(1, 12)),
            "rotation: new key created 3 hours ago, old key disabled, to be deleted"
        );
        assert_eq!(ago(at(1, 9), at(1, 9)), "just now");
        assert_eq!(ago(at(1, 9) + chrono::TimeDelta::minutes(1), at(1, 9)), "1 minute ago");
        // A clock that went backwards says "just now", not a negative age.
        assert_eq!(ago(at(1, 8), at(1, 9)), "just now");
    }
}
