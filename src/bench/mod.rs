//! `keyward bench`: measures keyward against its own emulator on loopback and prints each
//! figure next to its target, PASS or FAIL.
//!
//! - `list`: listing a large inventory concurrently, against the time the documented rate
//!   limits allow at best;
//! - `delete`: bulk deletes through the real queue (plan, audit, executor), as throughput
//!   against the documented limits and the RequestLimitExceeded the operator saw;
//! - `ui`: frame render time, filter keystroke time and memory with 100,000 items loaded;
//! - `audit`: tampering `audit verify` detects, and items a crash-interrupted bulk delete
//!   leaves unaccounted for after reconciling.
//!
//! A FAIL is a measurement, not an error: the command exits 0 unless the bench itself
//! could not run (emulator, config, an unexpected provider error).

mod audit;
pub mod crash;
mod delete;
mod fleet;
mod list;
pub mod tamper;
mod ui;

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::process::ExitCode;

/// Command line of `keyward bench`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct BenchArgs {
    /// Run one figure only.
    #[arg(long, value_enum)]
    pub only: Option<Only>,
    /// Smaller sizes for a smoke run (the figures are then not comparable to the targets).
    #[arg(long)]
    pub quick: bool,
    /// Print the results as JSON on stdout (progress goes to stderr).
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Only {
    List,
    Delete,
    Ui,
    Audit,
}

/// How big each scenario is.
#[derive(Debug, Clone, Serialize)]
pub struct Sizes {
    pub list_regions: usize,
    /// Key pairs over all regions (split evenly).
    pub list_key_pairs: usize,
    /// API keys over all regions (split evenly).
    pub list_api_keys: usize,
    pub delete_key_pairs: usize,
    pub delete_api_keys: usize,
    pub ui_items: usize,
    pub ui_frames: usize,
    pub ui_keystrokes: usize,
    /// Accounts of the fleet figure (5 regions each).
    pub fleet_accounts: usize,
    /// Key pairs per region of the account-wide-cap figure.
    pub uin_key_pairs_per_region: usize,
    /// Items of the crash drill and the SIGKILLs it delivers.
    pub crash_items: usize,
    pub crash_kills: usize,
    /// Records of the tampered log and the edits (and, as many, deletions) tried on it.
    pub tamper_records: usize,
    pub tamper_trials: usize,
}

impl Sizes {
    pub fn full() -> Self {
        Sizes {
            list_regions: 5,
            list_key_pairs: 10_000,
            list_api_keys: 2_000,
            delete_key_pairs: 1_000,
            delete_api_keys: 500,
            ui_items: 100_000,
            ui_frames: 200,
            ui_keystrokes: 64,
            fleet_accounts: 200,
            uin_key_pairs_per_region: 5_000,
            crash_items: 1_000,
            crash_kills: 50,
            tamper_records: 1_000,
            tamper_trials: 100,
        }
    }

    /// Small enough for a test, big enough that every code path runs (more CVM pages than
    /// the rate limiter's burst, more than one DeleteKeyPairs batch).
    pub fn quick() -> Self {
        Sizes {
            list_regions: 5,
            list_key_pairs: 1_500,
            list_api_keys: 200,
            delete_key_pairs: 150,
            delete_api_keys: 20,
            ui_items: 5_000,
            ui_frames: 10,
            ui_keystrokes: 16,
            fleet_accounts: 10,
            uin_key_pairs_per_region: 1_000,
            crash_items: 100,
            crash_kills: 5,
            tamper_records: 200,
            tamper_trials: 100,
        }
    }
}

/// What a figure must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "op", content = "value")]
pub enum Target {
    AtMost(f64),
    AtLeast(f64),
    Below(f64),
}

impl Target {
    pub fn met_by(self, value: f64) -> bool {
        match self {
            Target::AtMost(t) => value <= t,
            Target::AtLeast(t) => value >= t,
            Target::Below(t) => value < t,
        }
    }

    fn op(self) -> (&'static str, f64) {
        match self {
            Target::AtMost(t) => ("<=", t),
            Target::AtLeast(t) => (">=", t),
            Target::Below(t) => ("<", t),
        }
    }
}

/// One measured figure. Figures without a target are reported for information.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    /// Stable identifier, e.g. `list.ratio`.
    pub id: &'static str,
    /// What was measured, e.g. `list 10000 key pairs + 2000 API keys / 5 regions`.
    pub label: String,
    /// The raw measurement in words, e.g. `10.42 s, bound 9.00 s ((pages - burst) / rate)`.
    pub measured: String,
    /// Name of the compared value, e.g. `ratio`.
    pub metric: &'static str,
    pub value: f64,
    /// Unit of `value` and of the target (`""`, `" ms"`, `" MiB"`).
    pub unit: &'static str,
    pub target: Option<Target>,
    /// None for information-only figures.
    pub pass: Option<bool>,
    /// Why the figure is what it is, how it was computed.
    pub notes: Vec<String>,
    /// The raw numbers behind `measured`, for `--json` readers (`wall_s`, `bound_s`...).
    pub data: BTreeMap<&'static str, f64>,
}

impl Figure {
    fn new(id: &'static str, label: impl Into<String>, measured: impl Into<String>) -> Self {
        Figure {
            id,
            label: label.into(),
            measured: measured.into(),
            metric: "",
            value: f64::NAN,
            unit: "",
            target: None,
            pass: None,
            notes: Vec::new(),
            data: BTreeMap::new(),
        }
    }

    fn with(mut self, name: &'static str, value: f64) -> Self {
        self.data.insert(name, value);
        self
    }

    /// Compare `value` (named `metric`) with `target`.
    fn judged(mut self, metric: &'static str, value: f64, unit: &'static str, target: Target) -> Self {
        self.metric = metric;
        self.value = value;
        self.unit = unit;
        self.target = Some(target);
        self.pass = Some(value.is_finite() && target.met_by(value));
        self
    }

    /// Report `value` without a target.
    fn info(mut self, metric: &'static str, value: f64, unit: &'static str) -> Self {
        self.metric = metric;
        self.value = value;
        self.unit = unit;
        self
    }

    fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.label, self.measured)?;
        if !self.metric.is_empty() {
            write!(f, ", {} {:.2}{}", self.metric, self.value, self.unit)?;
        }
        match (self.target, self.pass) {
            (Some(target), Some(pass)) => {
                let (op, t) = target.op();
                write!(
                    f,
                    " (target {op} {t:.2}{}) {}",
                    self.unit,
                    if pass { "PASS" } else { "FAIL" }
                )?;
            }
            _ => write!(f, " (info)")?,
        }
        for note in &self.notes {
            write!(f, "\n    {note}")?;
        }
        Ok(())
    }
}

/// Everything one `keyward bench` run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub quick: bool,
    pub sizes: Sizes,
    pub figures: Vec<Figure>,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.figures.iter().filter(|f| f.pass == Some(false)).count()
    }
}

/// Why the bench could not run (as opposed to a figure missing its target).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot start the emulator: {0}")]
    Emulator(#[from] crate::emulator::EmulatorError),
    #[error("the demo configuration for the emulator is invalid: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{context}: {source}")]
    Provider {
        context: String,
        source: crate::providers::ProviderError,
    },
    #[error("cannot set up the audit log for the delete bench: {0}")]
    Audit(#[from] crate::audit::AuditError),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// The bench ran but what it saw contradicts its own setup (e.g. an item missing).
    #[error("{0}")]
    Inconsistent(String),
}

/// Run the figures `args` asks for, calling `on_figure` as each one is measured.
///
/// The UI figure runs first: its memory figure is the process's resident set, which the
/// emulator phases (whose heap the allocator keeps) would otherwise inflate.
pub async fn run(args: &BenchArgs, mut on_figure: impl FnMut(&Figure)) -> Result<Report, BenchError> {
    let sizes = if args.quick { Sizes::quick() } else { Sizes::full() };
    let wanted = |o: Only| args.only.is_none_or(|only| only == o);
    let mut figures = Vec::new();
    let mut emit = |new: Vec<Figure>, figures: &mut Vec<Figure>| {
        for f in new {
            on_figure(&f);
            figures.push(f);
        }
    };
    if wanted(Only::Ui) {
        emit(ui::measure(&sizes)?, &mut figures);
    }
    if wanted(Only::List) {
        emit(list::measure(&sizes).await?, &mut figures);
        emit(fleet::measure(&sizes).await?, &mut figures);
    }
    if wanted(Only::Delete) {
        emit(delete::measure(&sizes).await?, &mut figures);
    }
    if wanted(Only::Audit) {
        emit(audit::measure(&sizes).await?, &mut figures);
    }
    Ok(Report {
        quick: args.quick,
        sizes,
        figures,
    })
}

/// `keyward bench`: exit 0 whatever the figures say, 1 when the bench could not run.
pub fn command(args: &BenchArgs) -> ExitCode {
    if args.quick && !args.json {
        println!("quick run: sizes are smaller than the targets assume; figures are for a smoke test only");
    }
    let json = args.json;
    let result = crate::runtime::block_on(run(args, |figure| {
        if json {
            eprintln!("measured {}", figure.id);
        } else {
            println!("{figure}");
        }
    }));
    let result = match result {
        Ok(result) => result,
        Err(code) => return code,
    };
    match result {
        Ok(report) => {
            if json {
                match serde_json::to_string_pretty(&report) {
                    Ok(text) => println!("{text}"),
                    Err(err) => {
                        eprintln!("keyward bench: cannot encode the results as JSON: {err}");
                        return ExitCode::FAILURE;
                    }
                }
            } else {
                println!("{} figure(s) measured, {} FAIL", report.figures.len(), report.failed());
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("keyward bench: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Resident set size of this process in bytes (Linux), None elsewhere.
fn rss_bytes() -> Option<u64> {
    proc_status_bytes("VmRSS:")
}

/// Peak resident set size of this process in bytes (Linux's VmHWM), None elsewhere.
fn peak_rss_bytes() -> Option<u64> {
    proc_status_bytes("VmHWM:")
}

/// A `kB` field of /proc/self/status, in bytes.
fn proc_status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn median(samples: &mut [f64]) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let mid = samples.len() / 2;
    if samples.len() % 2 == 1 {
        samples[mid]
    } else {
        (samples[mid - 1] + samples[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_compare_the_right_way() {
        assert!(Target::AtMost(1.1).met_by(1.1));
        assert!(!Target::AtMost(1.1).met_by(1.11));
        assert!(Target::AtLeast(0.9).met_by(0.9));
        assert!(!Target::AtLeast(0.9).met_by(0.89));
        assert!(!Target::Below(2.0).met_by(2.0));
        let f = Figure::new("x", "x", "y").judged("ratio", f64::NAN, "", Target::AtMost(1.0));
        assert_eq!(f.pass, Some(false), "an unmeasurable value is not a pass");
    }

    #[test]
    fn figure_lines_show_value_target_and_verdict() {
        let f = Figure::new("list.ratio", "list 10 items", "1.00 s, bound 0.50 s")
            .judged("ratio", 2.0, "", Target::AtMost(1.1))
            .note("why");
        assert_eq!(
            f.to_string(),
            "list 10 items: 1.00 s, bound 0.50 s, ratio 2.00 (target <= 1.10) FAIL\n    why"
        );
        let f = Figure::new("i", "retries", "3 refused").info("count", 3.0, "");
        assert_eq!(f.to_string(), "retries: 3 refused, count 3.00 (info)");
    }

    #[test]
    fn median_of_even_and_odd_samples() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    /// Every figure of a full run appears in a quick run; timings are not asserted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn quick_run_produces_every_figure() {
        let args = BenchArgs {
            quick: true,
            ..BenchArgs::default()
        };
        let mut seen = Vec::new();
        let report = run(&args, |f| seen.push(f.id)).await.unwrap();
        let ids: Vec<&str> = report.figures.iter().map(|f| f.id).collect();
        assert_eq!(ids, seen);
        for id in [
            "ui.frame",
            "ui.keystroke",
            "ui.keystroke_structured",
            "ui.rss",
            "list.ratio",
            "list.rate_limited",
            "list.uin_backoff",
            "list.fleet",
            "list.fleet.frame",
            "list.fleet.load",
            "list.fleet.rss",
            "delete.key_pairs",
            "delete.api_keys.disable",
            "delete.api_keys.delete",
            "delete.request_limit_exceeded",
            "delete.rate_limited",
            "audit.verify",
        ] {
            assert!(ids.contains(&id), "{id} missing from {ids:?}");
        }
        for f in &report.figures {
            assert!(f.value.is_finite(), "{}: {}", f.id, f);
            assert_eq!(f.pass.is_some(), f.target.is_some(), "{f}");
        }
        // The operator never sees a rate-limit failure and every deletion happened.
        let seen_by_operator = report
            .figures
            .iter()
            .find(|f| f.id == "delete.request_limit_exceeded")
            .unwrap();
        assert_eq!(seen_by_operator.value, 0.0);
        let list = report.figures.iter().find(|f| f.id == "list.ratio").unwrap();
        assert!(
            list.data["wall_s"] > 0.0 && list.data["bound_s"] > 0.0,
            "{:?}",
            list.data
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["figures"].as_array().unwrap().len(), report.figures.len());
    }
}
