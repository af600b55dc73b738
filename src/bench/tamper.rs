//! Tamper trials for `audit verify`: a log written by the real `AuditLog` (chain and head),
//! then many copies of it each changed once — one random byte set to another value, or
//! one random line deleted — and verified. A change verify calls intact is a miss.

use super::BenchError;
use crate::audit::{AuditLog, CallRef, ItemResult, OutcomeKind, Record, verify};
use rand::{Rng, SeedableRng};

/// What the trials found.
#[derive(Debug, Clone, Default)]
pub struct TamperReport {
    pub edits: usize,
    pub edits_detected: usize,
    pub deletions: usize,
    pub deletions_detected: usize,
    /// The changes verify did not see, in words.
    pub missed: Vec<String>,
}

/// Write `records` records, then run `trials` byte edits and `trials` line deletions.
pub fn trials(records: usize, trials: usize, seed: u64) -> Result<TamperReport, BenchError> {
    let dir = tempfile::tempdir().map_err(|source| BenchError::Io {
        context: "cannot create a temp dir for the tamper trials".into(),
        source,
    })?;
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path)?;
    for i in 0..records {
        log.append(&sample(i))?;
    }
    drop(log);
    let bytes = std::fs::read(&path).map_err(|source| BenchError::Io {
        context: format!("cannot read {}", path.display()),
        source,
    })?;
    let head = verify::Head::beside(&path);
    if !verify::verify_bytes(&bytes, head.as_ref()).intact() {
        return Err(BenchError::Inconsistent("the untouched log does not verify".into()));
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut report = TamperReport::default();
    for _ in 0..trials {
        let at = rng.random_range(0..bytes.len());
        let mut changed = bytes.clone();
        // Any other byte value: a letter, a digit, a quote, a newline, a NUL...
        changed[at] = (bytes[at] as usize + rng.random_range(1..256)) as u8;
        report.edits += 1;
        if verify::verify_bytes(&changed, head.as_ref()).intact() {
            report.missed.push(format!(
                "byte {at} changed from {:#04x} to {:#04x}",
                bytes[at], changed[at]
            ));
        } else {
            report.edits_detected += 1;
        }
    }
    let lines: Vec<&[u8]> = bytes
        .strip_suffix(b"\n")
        .unwrap_or(&bytes)
        .split(|b| *b == b'\n')
        .collect();
    for _ in 0..trials {
        let gone = rng.random_range(0..lines.len());
        let kept: Vec<u8> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != gone)
            .flat_map(|(_, l)| l.iter().copied().chain([b'\n']))
            .collect();
        report.deletions += 1;
        if verify::verify_bytes(&kept, head.as_ref()).intact() {
            report.missed.push(format!("line {} deleted", gone + 1));
        } else {
            report.deletions_detected += 1;
        }
    }
    Ok(report)
}

/// A run's records in turn: intents and outcomes of single-id calls.
fn sample(i: usize) -> Record {
    let at = CallRef {
        time: chrono::Utc::now(),
        run: "tamper-run".into(),
        call: i / 2,
        kind: "cvm".into(),
        account: "prod".into(),
        region: "ap-guangzhou".into(),
        action: "DeleteKeyPairs".into(),
        dry_run: false,
        plan: None,
    };
    let id = format!("skey-{:08}", i / 2);
    if i % 2 == 0 {
        Record::Intent {
            at,
            ids: vec![id],
            name: None,
            description: None,
            custom_secret: None,
        }
    } else {
        Record::Outcome {
            at,
            items: vec![ItemResult {
                id,
                result: OutcomeKind::Ok,
                code: None,
                message: None,
                request_id: Some(uuid::Uuid::new_v4().to_string()),
                name: Some(format!("build-{i}")),
            }],
        }
    }
}
