//! State of a plan execution and of the log pane, fed by `ExecEvent`s.

use crate::inventory::{ItemKey, Scope};
use crate::providers::Operation;
use crate::queue::{LogEntry, Outcome, Plan};
use std::collections::{BTreeSet, HashMap, HashSet};

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
    /// `c` was pressed: the executor stops sending; the run still ends with `Finished`.
    pub cancelling: bool,
    /// Ids the plan touches per scope, to apply `Refreshed` re-reads.
    pub touched: HashMap<Scope, HashSet<String>>,
    /// Keys this run disabled and did not delete or enable again (so far).
    pub left_disabled: BTreeSet<ItemKey>,
}

impl RunState {
    pub fn new(verb: &'static str, plan: &Plan, dry_run: bool) -> Self {
        let mut touched: HashMap<Scope, HashSet<String>> = HashMap::new();
        for call in &plan.calls {
            touched
                .entry(call.scope.clone())
                .or_default()
                .extend(call.ids.iter().cloned());
            // The other regions that list the key are re-read too: there it is touched as well.
            for id in &call.ids {
                for other in plan.also_listed.get(&call.scope.key(id.as_str())).into_iter().flatten() {
                    touched.entry(other.clone()).or_default().insert(id.clone());
                }
            }
        }
        RunState {
            verb,
            dry_run,
            total_calls: plan.calls.len(),
            done_calls: 0,
            total_items: plan.item_count(),
            items_done: 0,
            seen: HashSet::new(),
            cancelling: false,
            touched,
            left_disabled: BTreeSet::new(),
        }
    }

    /// Count an item's outcome once, however many calls it takes.
    pub fn record_item(&mut self, entry: &LogEntry) {
        let item = entry.scope.key(entry.target.as_str());
        if self.seen.insert(item.clone()) {
            self.items_done += 1;
        }
        // A key this run disabled stays disabled unless a later call deleted or enabled it.
        match (entry.operation, &entry.outcome) {
            (Some(Operation::Disable), Outcome::Ok) => {
                self.left_disabled.insert(item);
            }
            (Some(Operation::Delete | Operation::Enable), Outcome::Ok) => {
                self.left_disabled.remove(&item);
            }
            _ => {}
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

/// Summary of the last finished run: it stays in the status line until the next action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSummary {
    pub verb: &'static str,
    pub dry_run: bool,
    pub cancelled: bool,
    pub ok: usize,
    /// Items the service kept (counted apart from ok: the operator asked for them gone).
    pub kept: usize,
    pub failed: usize,
    /// No valid answer: the call may or may not have been done (the log pane says which).
    pub unknown: usize,
    pub not_sent: usize,
    /// Keys the run disabled and did not delete: their clients are refused.
    pub left_disabled: usize,
}

impl RunSummary {
    pub fn text(&self) -> String {
        let mut parts = Vec::new();
        if self.kept > 0 {
            parts.push(format!("{} kept by the service", self.kept));
        }
        if self.failed > 0 || !self.dry_run {
            parts.push(format!("{} failed", self.failed));
        }
        if self.unknown > 0 {
            parts.push(format!("{} unknown (may have been done)", self.unknown));
        }
        if self.not_sent > 0 || !self.dry_run {
            parts.push(format!("{} not sent", self.not_sent));
        }
        let rest = parts.iter().map(|p| format!(", {p}")).collect::<String>();
        let mut text = if self.dry_run {
            // Nothing was sent: the count is what would have been.
            format!(
                "dry run: {} would have been sent{rest}{}",
                self.ok,
                if self.cancelled { " (cancelled)" } else { "" }
            )
        } else {
            format!(
                "{} {}: {} ok{rest}",
                self.verb,
                if self.cancelled { "cancelled" } else { "finished" },
                self.ok
            )
        };
        if self.left_disabled > 0 {
            text.push_str(&format!(
                "; {} key{} left disabled (E plans enabling {} again)",
                self.left_disabled,
                if self.left_disabled == 1 { " was" } else { "s were" },
                if self.left_disabled == 1 { "it" } else { "them" },
            ));
        }
        if self.needs_attention() {
            text.push_str(" (see the log pane)");
        }
        text
    }

    pub fn needs_attention(&self) -> bool {
        self.failed > 0 || self.unknown > 0 || self.kept > 0 || self.cancelled || self.left_disabled > 0
    }
}

/// Short word for an outcome in the log pane.
pub fn outcome_label(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Ok => "ok".into(),
        Outcome::Kept { reason } => format!("kept ({reason})"),
        Outcome::Failed { .. } => "FAILED".into(),
        Outcome::Unknown { .. } => "UNKNOWN (no answer: it may have taken effect)".into(),
        Outcome::DryRun => "dry-run, not sent".into(),
        // The hint says why: cancelled, or an earlier step of the item did not succeed.
        Outcome::NotSent => "not sent".into(),
    }
}

/// One log pane line: time, provider, account/region, action, target, outcome,
/// RequestId, and on error code, message and hint.
pub fn log_line(entry: &LogEntry) -> String {
    if entry.is_note() {
        return format!("{} {} {}", entry.time.format("%H:%M:%S"), entry.scope, entry.target);
    }
    let target = match &entry.name {
        Some(name) => format!("{name} ({})", entry.target),
        None => entry.target.clone(),
    };
    let mut line = format!(
        "{} {} {} {target} {}",
        entry.time.format("%H:%M:%S"),
        entry.scope,
        entry.action,
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
            operation: Some(crate::providers::Operation::Delete),
            target: target.into(),
            name: None,
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
            ..Plan::default()
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
        assert_eq!(run.items_done, 2);
    }
}
