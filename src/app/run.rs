//! State of a plan execution and of the log pane, fed by `ExecEvent`s.

use crate::inventory::{ItemKey, Scope};
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
    /// Distinct items that have an outcome (an item can take two calls: disable, delete).
    pub items_done: usize,
    /// The items behind `items_done`.
    seen: HashSet<ItemKey>,
    /// Items the service kept (key pairs bound to an instance or image).
    pub kept: usize,
    /// `c` was pressed: the executor stops sending; the run still ends with `Finished`.
    pub cancelling: bool,
    /// Ids the plan touches per scope, to apply `Refreshed` re-reads.
    pub touched: HashMap<Scope, HashSet<String>>,
}

impl RunState {
    pub fn new(verb: &'static str, plan: &Plan, dry_run: bool) -> Self {
        let mut touched: HashMap<Scope, HashSet<String>> = HashMap::new();
        for call in &plan.calls {
            touched
                .entry(call.scope.clone())
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
            seen: HashSet::new(),
            kept: 0,
            cancelling: false,
            touched,
        }
    }

    /// Count an item's outcome once, however many calls it takes.
    pub fn record_item(&mut self, entry: &LogEntry) {
        if self.seen.insert(entry.scope.key(entry.target.as_str())) {
            self.items_done += 1;
        }
        if matches!(entry.outcome, Outcome::Kept { .. }) {
            self.kept += 1;
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
        Outcome::Unknown { .. } => "UNKNOWN (no answer: it may have taken effect)".into(),
        Outcome::DryRun => "dry-run, not sent".into(),
        Outcome::NotSent => "not sent (cancelled)".into(),
    }
}

/// One log pane line: time, provider, account/region, action, target, outcome,
/// RequestId, and on error code, message and hint.
pub fn log_line(entry: &LogEntry) -> String {
    let mut line = format!(
        "{} {} {} {} {}",
        entry.time.format("%H:%M:%S"),
        entry.scope,
        entry.action,
        entry.target,
        outcome_label(&entry.outcome)
    );
    if let Some(id) = &entry.request_id {
        line.push_str(&format!(" RequestId={id}"));
    }
    if let Some((code, message)) = entry.outcome.error() {
        line.push_str(&format!(" {code}: {message}"));
    }
    if let Some(hint) = &entry.hint {
        line.push_str(&format!(" (hint: {hint})"));
    }
    line
}

#[cfg(test)]
mod item_count_tests {
    use super::*;
    use crate::inventory::ProviderKind;
    use crate::queue::{Op, PlannedCall};

    fn entry(action: &str, target: &str, outcome: Outcome) -> LogEntry {
        LogEntry {
            time: chrono::DateTime::UNIX_EPOCH,
            scope: Scope::new(ProviderKind::ApiGateway, "prod", "ap-guangzhou"),
            action: action.into(),
            target: target.into(),
            outcome,
            request_id: None,
            hint: None,
        }
    }

    #[test]
    fn an_item_taking_two_calls_counts_once() {
        let call = |action, op| PlannedCall {
            scope: Scope::new(ProviderKind::ApiGateway, "prod", "ap-guangzhou"),
            action,
            op,
            ids: vec!["AKID1".into()],
            warnings: Vec::new(),
        };
        let plan = Plan {
            calls: vec![call("DisableApiKey", Op::Disable), call("DeleteApiKey", Op::Delete)],
            skipped: Vec::new(),
        };
        let mut run = RunState::new("delete", &plan, false);
        assert_eq!(run.total_items, 1);
        run.record_item(&entry("DisableApiKey", "AKID1", Outcome::Ok));
        run.record_item(&entry("DeleteApiKey", "AKID1", Outcome::Ok));
        assert_eq!(run.items_done, 1, "the gauge never counts past the total");
        run.record_item(&entry(
            "DeleteApiKey",
            "AKID2",
            Outcome::Kept { reason: "bound".into() },
        ));
        assert_eq!((run.items_done, run.kept), (2, 1));
    }
}
