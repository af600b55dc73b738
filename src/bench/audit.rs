//! Figure 4: the audit log's reliability. `audit.verify`: the share of random single-byte
//! edits and line deletions `audit verify` detects; `audit.reconcile`: items left
//! unaccounted for after a bulk delete whose keyward processes were killed (SIGKILL) at
//! random points under faults, each restart reconciling (see `crash`).

use super::crash::{self, DrillSize};
use super::{BenchError, Figure, Sizes, Target, tamper};

/// Seeds the random edits, deletions and kill points: the same run each time.
const SEED: u64 = 15;
/// Half the faults are 5xx answers, half dropped connections: 10 % of calls in all.
const FAULT_RATE: f64 = 0.05;

pub async fn measure(sizes: &Sizes) -> Result<Vec<Figure>, BenchError> {
    let t = tamper::trials(sizes.tamper_records, sizes.tamper_trials, SEED)?;
    let detected = t.edits_detected + t.deletions_detected;
    let tried = t.edits + t.deletions;
    let mut verify = Figure::new(
        "audit.verify",
        format!(
            "audit verify, {} random single-byte edits and {} random line deletions of a {}-record log",
            t.edits, t.deletions, sizes.tamper_records
        ),
        format!(
            "{}/{} edits and {}/{} deletions detected",
            t.edits_detected, t.edits, t.deletions_detected, t.deletions
        ),
    )
    .judged(
        "detected",
        detected as f64 / tried.max(1) as f64,
        "",
        Target::AtLeast(1.0),
    )
    .with("edits", t.edits as f64)
    .with("deletions", t.deletions as f64)
    .with("missed", t.missed.len() as f64);
    for missed in t.missed.iter().take(5) {
        verify = verify.note(format!("missed: {missed}"));
    }
    let mut figures = vec![verify];
    // Under `cargo test --lib` this executable is the test harness, not keyward, so the
    // drill (which runs keyward processes) is left to the integration test.
    if cfg!(test) {
        return Ok(figures);
    }
    let exe = std::env::current_exe().map_err(|source| BenchError::Io {
        context: "cannot find the keyward executable for the crash drill".into(),
        source,
    })?;
    let size = DrillSize {
        items: sizes.crash_items,
        kills: sizes.crash_kills,
        fault_rate: FAULT_RATE,
        seed: SEED,
    };
    let r = crash::drill(&exe, size).await?;
    let mut reconcile = Figure::new(
        "audit.reconcile",
        format!(
            "delete {} items, keyward killed (SIGKILL) at {} random points under 10% faults, reconciled at each restart",
            r.items, size.kills
        ),
        format!(
            "{} kills over {} runs; {} interrupted calls reconciled ({} items found gone, {} still present); \
             {} items gone in all, {} recorded unknown (no answer); chain {}",
            r.kills,
            r.runs,
            r.reconciled_calls,
            r.reconciled_gone,
            r.reconciled_present,
            r.gone,
            r.unknown,
            if r.chain_intact { "intact" } else { "BROKEN" }
        ),
    )
    .judged("unaccounted", r.unaccounted.len() as f64, "", Target::AtMost(0.0))
    .with("kills", r.kills as f64)
    .with("runs", r.runs as f64)
    .with("reconciled_calls", r.reconciled_calls as f64)
    .with("unknown", r.unknown as f64)
    .with("chain_intact", f64::from(u8::from(r.chain_intact)));
    for item in r.unaccounted.iter().take(5) {
        reconcile = reconcile.note(format!("unaccounted: {item}"));
    }
    figures.push(reconcile);
    Ok(figures)
}
