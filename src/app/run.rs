//! State of a plan execution and of the log pane, fed by `ExecEvent`s.

use crate::inventory::ProviderKind;
use crate::queue::{LogEntry, Outcome, Plan};
use std::collections::{HashMap, HashSet};

/// A confirmed plan being executed.
#[derive(Debug)]
pub struct RunState {
    pub verb: &'static str,
    pub dry_run: bool,
    pub total_calls: usize,
    pub done_calls: usize,
    pub total_items: usize,
    pub items_done: usize,
    /// Items the service kept (key pairs bound to an instance or image).
    pub kept: usize,
    /// `c` was pressed: the executor stops sending; the run still ends with `Finished`.
    pub cancelling: bool,
    /// Ids the plan touches per (kind, account, region), to apply `Refreshed` re-reads.
    pub touched: HashMap<(ProviderKind, String, String), HashSet<String>>,
}

impl RunState {
    pub fn new(verb: &'static str, plan: &Plan, dry_run: bool) -> Self {
        let mut touched: HashMap<(ProviderKind, String, String), HashSet<String>> = HashMap::new();
        for call in &plan.calls {
            touched
                .entry((call.kind, call.account.clone(), call.region.clone()))
                .or_default()
                .extend(call.ids.iter().cloned());
        }
        RunState {
            verb,
            dry_run,
            total_calls: plan.calls.len(),
            done_calls: 0,
            total_items: plan.item_count(),
            items_done: 0,
            kept: 0,
            cancelling: false,
            touched,
        }
    }

    /// 0.0..=1.0 for the gauge.
    pub fn ratio(&self) -> f64 {
        if self.total_calls == 0 {
            0.0
        } else {
            (self.done_calls as f64 / self.total_calls as f64).clamp(0.0, 1.0)
        }
    }
}

/// Summary of the last finished run, kept for the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub verb: &'static str,
    pub dry_run: bool,
    pub cancelled: bool,
    pub ok: usize,
    pub failed: usize,
    pub not_sent: usize,
}

/// Short word for an outcome in the log pane.
pub fn outcome_label(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Ok => "ok".into(),
        Outcome::Kept { reason } => format!("kept ({reason})"),
        Outcome::Failed { .. } => "FAILED".into(),
        Outcome::DryRun => "dry-run, not sent".into(),
        Outcome::NotSent => "not sent (cancelled)".into(),
    }
}

/// One log pane line: time, provider, account/region, action, target, outcome,
/// RequestId, and on error code, message and hint.
pub fn log_line(entry: &LogEntry) -> String {
    let mut line = format!(
        "{} {} {}/{} {} {} {}",
        entry.time.format("%H:%M:%S"),
        entry.kind,
        entry.account,
        entry.region,
        entry.action,
        entry.target,
        outcome_label(&entry.outcome)
    );
    if let Some(id) = &entry.request_id {
        line.push_str(&format!(" RequestId={id}"));
    }
    if let Outcome::Failed { code, message } = &entry.outcome {
        line.push_str(&format!(" {code}: {message}"));
    }
    if let Some(hint) = &entry.hint {
        line.push_str(&format!(" (hint: {hint})"));
    }
    line
}
