//! The audit log file: append-only JSON lines, private, readable back, intent/outcome pairing.

use keyward::audit::{
    AuditError, AuditLog, CallRef, ItemResult, OutcomeKind, Record, read_entries, unmatched_intents, verify,
};
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

/// Two keywards writing one log at once (two handles, two threads, each its own lock and
/// tail): 500 items each, an intent and an outcome per item. Every line is whole, none
/// is lost, and the chain runs through all of them in one sequence.
#[test]
fn two_writers_of_500_items_each_tear_and_lose_no_line_and_keep_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let writers: Vec<_> = ["run-a", "run-b"]
        .into_iter()
        .map(|run| {
            let log = AuditLog::open(&path).unwrap();
            std::thread::spawn(move || {
                for call in 0..500 {
                    log.append_durable(&intent(run, call)).unwrap();
                    log.append(&outcome(run, call, OutcomeKind::Ok)).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let entries = read_entries(&path).unwrap();
    assert_eq!(entries.len(), 2_000);
    for run in ["run-a", "run-b"] {
        for kind in ["intent", "outcome"] {
            let calls: std::collections::BTreeSet<u64> = entries
                .iter()
                .filter(|e| e["run"] == run && e["type"] == kind)
                .map(|e| e["call"].as_u64().unwrap())
                .collect();
            assert_eq!(calls.len(), 500, "{run} {kind}");
        }
    }
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=2_000).collect::<Vec<_>>());
    let report = verify::verify_file(&path).unwrap();
    assert!(report.intact(), "{report}");
    assert_eq!(report.head, verify::HeadCheck::Matches);
    assert!(unmatched_intents(&path).unwrap().is_empty());
}

/// Reproduced first: a file ending without a newline (keyward killed mid-write) used to
/// get the next record glued onto its last line, losing both. Now the partial line stays
/// as it was, the record starts a line of its own chained to it, and verify says what
/// happened without calling the chain broken.
#[test]
fn a_partial_last_line_is_left_alone_and_the_next_record_starts_a_fresh_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    log.append(&intent("r1", 0)).unwrap();
    drop(log);
    let torn = "{\"prev\":\"0123\",\"seq\":2,\"type\":\"outc";
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    std::io::Write::write_all(&mut f, torn.as_bytes()).unwrap();
    drop(f);
    let report = verify::verify_file(&path).unwrap();
    assert!(report.intact(), "{report}");
    assert_eq!(report.partial, [2]);
    assert!(report.to_string().contains("line 2 is a partial line"), "{report}");

    let log = AuditLog::open(&path).unwrap();
    log.append(&outcome("r1", 0, OutcomeKind::Ok)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1], torn, "the partial line is kept as it was");
    let last: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(last["type"], "outcome");
    assert_eq!(last["seq"], 2, "the lost record took no number");
    assert_eq!(last["prev"], keyward::audit::chain::hash_line(torn.as_bytes()));
    let report = verify::verify_file(&path).unwrap();
    assert!(report.intact(), "{report}");
    assert_eq!(report.partial, [2]);
    // The strict reader skips a line the chain shows was torn by a crash.
    assert_eq!(read_entries(&path).unwrap().len(), 2);
    assert!(unmatched_intents(&path).unwrap().is_empty());
}

/// Reproduced first: log cleanup deleting or replacing the file while keyward ran sent
/// every later record to the unlinked file. Now each append checks the path still names
/// the open file, reopens it when not, and says so once.
#[cfg(unix)]
#[test]
fn a_log_deleted_or_replaced_while_open_is_reopened_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap();
    log.append(&intent("r1", 0)).unwrap();
    assert!(log.take_notices().is_empty());

    std::fs::remove_file(&path).unwrap();
    log.append(&outcome("r1", 0, OutcomeKind::Ok)).unwrap();
    let entries = read_entries(&path).unwrap();
    assert_eq!(entries.len(), 1, "the record went to a new file at the path");
    assert_eq!(entries[0]["type"], "outcome");
    let notices = log.take_notices();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("deleted or replaced") && notices[0].contains("reopened"),
        "{notices:?}"
    );
    assert!(log.take_notices().is_empty(), "said once");

    // Replaced by another file (a rename over it): followed, and its chain continued.
    let other = dir.path().join("restored.jsonl");
    std::fs::write(&other, "{\"type\":\"run\",\"run\":\"old\"}\n").unwrap();
    std::fs::rename(&other, &path).unwrap();
    log.append(&intent("r2", 0)).unwrap();
    let entries = read_entries(&path).unwrap();
    assert_eq!((entries.len(), entries[1]["run"].as_str()), (2, Some("r2")));
    assert_eq!(log.take_notices().len(), 1);
    let report = verify::verify_file(&path).unwrap();
    assert!(report.intact(), "{report}");
    assert_eq!(report.start, verify::Start::AfterUnchained { line: 2 });

    // Cut short in place: said too.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    log.append(&intent("r3", 0)).unwrap();
    let notices = log.take_notices();
    assert!(notices.iter().any(|n| n.contains("was cut")), "{notices:?}");
}

/// Rotation at the size limit: the records so far move to a file of their own, the new
/// file starts with a `continues` record chained to the old file's last line, numbers
/// go on, both files verify, and an intent left open in the old file is still found.
#[test]
fn rotation_keeps_the_chain_across_files_and_finds_intents_left_in_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path).unwrap().rotating_at(Some(4096));
    for call in 0..40 {
        log.append(&intent("r1", call)).unwrap();
        if call != 39 {
            log.append(&outcome("r1", call, OutcomeKind::Ok)).unwrap();
        }
    }
    let archives = keyward::audit::archives(&path);
    assert!(archives.len() >= 2, "{archives:?}");
    for file in archives.iter().chain([&path]) {
        assert!(std::fs::metadata(file).unwrap().len() <= 4096, "{}", file.display());
        let report = verify::verify_file(file).unwrap();
        assert!(report.intact(), "{}: {report}", file.display());
    }
    let current = verify::verify_file(&path).unwrap();
    let newest = archives
        .last()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(matches!(&current.start, verify::Start::Continues { previous, .. } if *previous == newest));
    assert_eq!(current.head, verify::HeadCheck::Matches);
    // One sequence over all the files, oldest first.
    let mut seqs = Vec::new();
    for file in archives.iter().chain([&path]) {
        seqs.extend(read_entries(file).unwrap().iter().map(|e| e["seq"].as_u64().unwrap()));
    }
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    // Call 39 has no outcome; wherever its intent landed, it is pending.
    let pending = keyward::audit::reconcile::pending(&path).unwrap();
    assert_eq!(pending.iter().map(|p| p.at.call).collect::<Vec<_>>(), [39]);
}

/// A log written before the chain existed still reads, keyward chains on after it, and
/// verify says from which line the chain covers the file.
#[test]
fn an_old_log_without_chain_fields_reads_and_the_chain_starts_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let old = [intent("old", 0), outcome("old", 0, OutcomeKind::Ok), intent("old", 1)];
    let text: String = old.iter().map(|r| serde_json::to_string(r).unwrap() + "\n").collect();
    std::fs::write(&path, text).unwrap();
    let log = AuditLog::open(&path).unwrap();
    log.append(&outcome("old", 1, OutcomeKind::Failed)).unwrap();
    assert_eq!(read_entries(&path).unwrap().len(), 4);
    assert!(unmatched_intents(&path).unwrap().is_empty());
    let report = verify::verify_file(&path).unwrap();
    assert!(report.intact(), "{report}");
    assert_eq!(report.start, verify::Start::AfterUnchained { line: 4 });
    assert!(
        report
            .to_string()
            .contains("lines 1-3 were written before keyward chained its log"),
        "{report}"
    );
}

/// The tamper-evidence figure, small: 100 random single-byte edits and 100 random line
/// deletions of a log the real writer made, each detected by verify.
#[test]
fn verify_detects_100_of_100_random_byte_edits_and_line_deletions() {
    let t = keyward::bench::tamper::trials(120, 100, 7).unwrap();
    assert_eq!((t.edits, t.deletions), (100, 100));
    assert!(t.missed.is_empty(), "{:?}", t.missed);
    assert_eq!((t.edits_detected, t.deletions_detected), (100, 100));
}

/// The plan hash of a reviewed run is written only when there is one, and a line written
/// before plan files existed (no `plan`) still reads.
#[test]
fn the_plan_field_is_optional_both_ways() {
    let Record::Intent { at: plain, .. } = intent("r", 0) else {
        unreachable!()
    };
    let line = serde_json::to_string(&intent("r", 0)).unwrap();
    assert!(!line.contains("\"plan\""), "{line}");
    let back: Record = serde_json::from_str(&line).unwrap();
    assert!(matches!(&back, Record::Intent { at, .. } if at.plan.is_none() && at.run == plain.run));
    let reviewed = Record::Outcome {
        at: CallRef {
            plan: Some("ab".repeat(32)),
            ..plain
        },
        items: Vec::new(),
    };
    let line = serde_json::to_string(&reviewed).unwrap();
    assert!(line.contains(&format!("\"plan\":\"{}\"", "ab".repeat(32))), "{line}");
    assert_eq!(serde_json::from_str::<Record>(&line).unwrap(), reviewed);
}
