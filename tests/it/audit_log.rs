//! The audit log file: append-only JSON lines, private, readable back, intent/outcome pairing.

use keyward::audit::{AuditError, AuditLog, CallRef, ItemResult, OutcomeKind, Record, read_entries, unmatched_intents};
use std::sync::Arc;

fn at(run: &str, call: usize) -> CallRef {
    CallRef {
        time: chrono::Utc::now(),
        run: run.into(),
        call,
        kind: "cvm".into(),
        account: "prod".into(),
        region: "ap-guangzhou".into(),
        action: "DeleteKeyPairs".into(),
        dry_run: false,
        plan: None,
    }
}

fn intent(run: &str, call: usize) -> Record {
    Record::Intent {
        at: at(run, call),
        ids: vec!["skey-1".into()],
        name: None,
        description: None,
        custom_secret: None,
    }
}

fn outcome(run: &str, call: usize, result: OutcomeKind) -> Record {
    Record::Outcome {
        at: at(run, call),
        items: vec![ItemResult {
            id: "skey-1".into(),
            result,
            code: None,
            message: None,
            request_id: Some("req-1".into()),
            name: None,
        }],
    }
}

#[test]
fn open_creates_parent_directories_and_appends_across_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    assert_eq!(log.path(), path);
    log.append(&intent("r1", 0)).unwrap();
    drop(log);
    let log = AuditLog::open(&path).unwrap();
    let last = outcome("r1", 0, OutcomeKind::Ok);
    log.append_durable(&last).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.ends_with('\n'));
    let entries = read_entries(&path).unwrap();
    assert_eq!(entries[0]["type"], "intent");
    assert_eq!(entries[0]["ids"][0], "skey-1");
    assert_eq!(entries[1]["type"], "outcome");
    assert_eq!(entries[1]["items"][0]["request_id"], "req-1");
    // Records read back into the typed form too.
    let back: Record = serde_json::from_value(entries[1].clone()).unwrap();
    assert_eq!(back, last);
}

#[cfg(unix)]
#[test]
fn the_file_is_private_and_a_loose_one_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    AuditLog::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let loose = dir.path().join("loose.jsonl");
    std::fs::write(&loose, "").unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    AuditLog::open(&loose).unwrap();
    let mode = std::fs::metadata(&loose).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn concurrent_writers_produce_whole_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = Arc::new(AuditLog::open(&path).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for call in 0..50 {
                    log.append(&intent(&format!("run-{t}"), call)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let entries = read_entries(&path).unwrap();
    assert_eq!(entries.len(), 400);
    assert_eq!(unmatched_intents(&path).unwrap().len(), 400);
}

#[test]
fn unmatched_intents_are_those_without_an_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    log.append(&intent("r1", 0)).unwrap();
    log.append(&intent("r1", 1)).unwrap();
    log.append(&outcome("r1", 0, OutcomeKind::Ok)).unwrap();
    log.append(&intent("r2", 0)).unwrap(); // same call index, other run
    log.append(&intent("r2", 1)).unwrap();
    log.append(&outcome("r2", 1, OutcomeKind::Unknown)).unwrap();
    // An outcome without an intent (a call never sent) is fine.
    log.append(&outcome("r3", 0, OutcomeKind::NotSent)).unwrap();

    let open: Vec<(String, u64)> = unmatched_intents(&path)
        .unwrap()
        .iter()
        .map(|e| (e["run"].as_str().unwrap().to_string(), e["call"].as_u64().unwrap()))
        .collect();
    assert_eq!(open, vec![("r1".to_string(), 1), ("r2".to_string(), 0)]);
}

#[test]
fn a_torn_last_line_is_ignored_but_a_damaged_middle_line_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    log.append(&intent("r1", 0)).unwrap();
    drop(log);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"type\":\"outc");
    std::fs::write(&path, &text).unwrap();
    assert_eq!(read_entries(&path).unwrap().len(), 1);

    text.push_str("\n{\"type\":\"intent\"}\n");
    std::fs::write(&path, &text).unwrap();
    match read_entries(&path) {
        Err(AuditError::Parse { line, .. }) => assert_eq!(line, 2),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn errors_name_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.jsonl");
    let err = read_entries(&missing).unwrap_err();
    assert!(err.to_string().contains("nope.jsonl"), "{err}");

    // A directory where the file should be cannot be opened as the log.
    let err = AuditLog::open(dir.path()).unwrap_err();
    assert!(err.to_string().contains(&dir.path().display().to_string()), "{err}");
}

#[test]
fn default_path_is_in_the_keyward_data_dir() {
    if let Ok(path) = AuditLog::default_path() {
        assert!(path.ends_with("audit.jsonl"));
        assert!(path.to_string_lossy().contains("keyward"));
    }
}

/// A symbolic link planted at the audit path is refused, not followed: the file it points
/// at keeps its mode and content (it used to be chmod 600'd and appended to).
#[cfg(unix)]
#[test]
fn a_symlink_at_the_audit_path_is_refused_and_its_target_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("victim.txt");
    std::fs::write(&target, "precious\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.path().join("audit.jsonl");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let err = AuditLog::open(&link).unwrap_err();
    assert!(matches!(err, AuditError::Symlink { .. }), "{err}");
    assert!(err.to_string().contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);

    // A dangling link is refused too (it would otherwise create the file it names).
    let dangling = dir.path().join("dangling.jsonl");
    std::os::unix::fs::symlink(dir.path().join("created-elsewhere"), &dangling).unwrap();
    assert!(matches!(AuditLog::open(&dangling), Err(AuditError::Symlink { .. })));
    assert!(!dir.path().join("created-elsewhere").exists());

    // Not a regular file: refused with what it is.
    let err = AuditLog::open("/dev/null").unwrap_err();
    assert!(matches!(err, AuditError::NotAFile { .. }), "{err}");
}

/// The demo's audit log lives in a private directory with an unpredictable name, removed
/// when the demo ends (it was `$TMPDIR/keyward-demo-<pid>`, kept forever).
#[cfg(unix)]
#[test]
fn the_demo_dir_is_private_unpredictable_and_removed() {
    use std::os::unix::fs::PermissionsExt;
    let (a, b) = (
        keyward::launch::demo_dir().unwrap(),
        keyward::launch::demo_dir().unwrap(),
    );
    assert_ne!(a.path(), b.path());
    let pid = std::process::id().to_string();
    assert!(!a.path().to_string_lossy().ends_with(&pid), "{}", a.path().display());
    let mode = std::fs::metadata(a.path()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    let log = AuditLog::open(a.path().join("audit.jsonl")).unwrap();
    log.append(&Record::RunEnd {
        time: chrono::Utc::now(),
        run: "r".into(),
        cancelled: false,
        tally: Default::default(),
    })
    .unwrap();
    let path = a.path().to_path_buf();
    drop(log);
    a.close().unwrap();
    assert!(!path.exists());
    drop(b);
}
