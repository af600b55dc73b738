//! The action queue: what the operator asked for (`Intent`), the calls that will be
//! sent (`Plan`, pure and shown before confirmation), and their execution.
//!
//! CONTRACT (shared by app.rs and the executor):
//! - `build_plan` is pure: same items + intent, same plan. It groups calls by
//!   scope (kind, account, region), batches CVM deletes by 100, expands an API Gateway delete of
//!   an enabled key into DisableApiKey then DeleteApiKey, and attaches warnings for bound items.
//!   It takes the config's `Protect`: a protected key is never planned for delete, disable
//!   or rotate, whichever caller asks.
//! - Nothing outside `execute` sends a mutating call.
//! - `execute` honours `ExecOptions::dry_run` (log what would be sent, send nothing),
//!   writes an audit intent before and an outcome after every call, reports every
//!   item's outcome as an `ExecEvent`, and stops sending when cancelled.
//!
//! `plan.rs` holds the pure planning rules, `protect.rs` the `[[protect]]` rule the planner
//! applies first, `exec.rs` the executor.

pub use crate::audit::OutcomeKind;
use crate::inventory::{ItemKey, Scope};
use crate::secret::Secret;
use serde::Serialize;

/// What the operator chose for the selected items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Delete,
    Disable,
    Enable,
    /// Rotate the secret; `None` lets the service generate one.
    Rotate {
        custom: Option<Secret>,
    },
    /// A new name (the key pair's description is left as it is).
    Rename {
        name: String,
    },
}

impl Intent {
    pub fn verb(&self) -> &'static str {
        match self {
            Intent::Delete => "delete",
            Intent::Disable => "disable",
            Intent::Enable => "enable",
            Intent::Rotate { .. } => "rotate",
            Intent::Rename { .. } => "rename",
        }
    }

    pub fn operation(&self) -> crate::providers::Operation {
        use crate::providers::Operation;
        match self {
            Intent::Delete => Operation::Delete,
            Intent::Disable => Operation::Disable,
            Intent::Enable => Operation::Enable,
            Intent::Rotate { .. } => Operation::Rotate,
            Intent::Rename { .. } => Operation::Rename,
        }
    }

    /// The safety rule of the confirmation gate, kept here alone: an irreversible plan
    /// (delete), or a service-breaking one on more than one item (a rotation breaks every
    /// client of the key, a disable stops them), needs the item count typed back. A single
    /// rotation or disable, an enable and a rename take `y` (with focus on Cancel).
    pub fn needs_typed_count(&self, items: usize) -> bool {
        match self {
            Intent::Delete => true,
            Intent::Rotate { .. } | Intent::Disable => items > 1,
            Intent::Enable | Intent::Rename { .. } => false,
        }
    }
}

/// One API operation on one or more ids of a single scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Delete,
    Disable,
    Enable,
    Rotate { custom: Option<Secret> },
    Rename { name: String },
}

impl Op {
    pub fn operation(&self) -> crate::providers::Operation {
        use crate::providers::Operation;
        match self {
            Op::Delete => Operation::Delete,
            Op::Disable => Operation::Disable,
            Op::Enable => Operation::Enable,
            Op::Rotate { .. } => Operation::Rotate,
            Op::Rename { .. } => Operation::Rename,
        }
    }
}

/// One call that `execute` will send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCall {
    /// Where the call goes: the provider serving this scope sends it.
    pub scope: Scope,
    /// The provider's API action name, as the log pane shows it (`DeleteKeyPairs`, `DisableApiKey`, `DELETE /api/v2/maas/apikeys`).
    pub action: &'static str,
    pub op: Op,
    /// The ids this call addresses (up to 100 for DeleteKeyPairs, otherwise one).
    pub ids: Vec<String>,
    /// Human warnings shown in the queue view ("bound to instance ins-1: will not be deleted").
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub calls: Vec<PlannedCall>,
    /// Items that were selected but cannot take this intent (e.g. rename on an API key), with why.
    pub skipped: Vec<(ItemKey, String)>,
    /// The names of the planned and skipped items when planned, so the plan, the log pane,
    /// the audit log and the history say which key an id is.
    pub names: Names,
    /// The other scopes that list a planned item (a key several regions return is one
    /// row, addressed through its first region): the executor re-reads them too after
    /// sending, so the row leaves every region it was seen in.
    pub also_listed: std::collections::BTreeMap<ItemKey, Vec<Scope>>,
    /// Every item of the plan's scopes as the app held them when the run started (the
    /// whole scope, not only the planned items). The re-read after the run starts from
    /// them (`Provider::refresh`), so it re-reads only what the run can have changed;
    /// empty for a scope means that scope is listed in full.
    pub listed: Vec<crate::inventory::Item>,
    /// The hash of the reviewed plan file this plan was applied from (`keyward apply`):
    /// the audit log records it on the run and on every intent and outcome.
    pub plan_hash: Option<String>,
}

/// Item names as they were when planned; the queue view and the executor read them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Names(std::collections::BTreeMap<ItemKey, String>);

impl Names {
    /// The name item `id` of `scope` had when planned.
    pub fn of(&self, scope: &crate::inventory::Scope, id: &str) -> Option<&str> {
        self.0.get(&scope.key(id)).map(String::as_str)
    }
}

impl FromIterator<(ItemKey, String)> for Names {
    fn from_iter<I: IntoIterator<Item = (ItemKey, String)>>(iter: I) -> Self {
        Names(iter.into_iter().collect())
    }
}

impl Plan {
    /// Number of distinct items the plan touches (what a typed confirmation asks for).
    pub fn item_count(&self) -> usize {
        self.item_keys().len()
    }

    /// One plan of several (a queue across tabs, each part built by `build_plan` for its
    /// intent over distinct keys): their calls in order, run and audited as one run.
    /// A plan file's hash stays when every part carries the same one (the parts of one file).
    pub fn combine(parts: impl IntoIterator<Item = Plan>) -> Plan {
        let mut all = Plan::default();
        let mut hashes = std::collections::BTreeSet::new();
        for part in parts {
            hashes.insert(part.plan_hash.clone());
            all.calls.extend(part.calls);
            all.skipped.extend(part.skipped);
            all.names.0.extend(part.names.0);
            all.also_listed.extend(part.also_listed);
            all.listed.extend(part.listed);
        }
        if hashes.len() == 1 {
            all.plan_hash = hashes.into_iter().next().flatten();
        }
        all
    }
}

/// Outcome of one item in an executed plan, one log line each: an [`OutcomeKind`] with
/// its details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// The service kept the item (CVM pair bound to an instance or image).
    Kept {
        reason: String,
    },
    /// Certainly not done: the service refused it, or it never reached the service.
    Failed {
        code: String,
        message: String,
    },
    /// No valid answer (timeout, dropped connection, server error): it may have been done.
    Unknown {
        code: String,
        message: String,
    },
    /// Dry run: nothing was sent.
    DryRun,
    /// Not sent: cancelled, or an earlier call for the item did not succeed.
    NotSent,
}

impl Outcome {
    /// The one word for it, as the audit log and the history name it.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Ok => OutcomeKind::Ok,
            Outcome::Kept { .. } => OutcomeKind::Kept,
            Outcome::Failed { .. } => OutcomeKind::Failed,
            Outcome::Unknown { .. } => OutcomeKind::Unknown,
            Outcome::DryRun => OutcomeKind::DryRun,
            Outcome::NotSent => OutcomeKind::NotSent,
        }
    }

    /// The error code and message of a failed or unknown call.
    pub fn error(&self) -> Option<(&str, &str)> {
        match self {
            Outcome::Failed { code, message } | Outcome::Unknown { code, message } => Some((code, message)),
            _ => None,
        }
    }
}

/// One line of the log pane and of the audit log: one item's outcome of one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    pub time: chrono::DateTime<chrono::Utc>,
    #[serde(flatten)]
    pub scope: Scope,
    /// API action name, e.g. `DeleteKeyPairs`.
    pub action: String,
    /// What the call does, whatever the provider calls it (None: a listing that failed).
    #[serde(skip)]
    pub operation: Option<crate::providers::Operation>,
    /// The item id.
    pub target: String,
    /// The item's name when it was planned, if it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub outcome: Outcome,
    pub request_id: Option<String>,
    /// Plain-words advice for a failure ("unbind the key from its usage plan first").
    pub hint: Option<String>,
}

/// What a note line of the log pane says its action is: a line about the session, not
/// an item's outcome (see [`LogEntry::note`]).
pub const NOTE_ACTION: &str = "note";

impl LogEntry {
    /// A line of the log pane that is not an item's outcome: `text` about `scope` (a
    /// reconciled run, the audit log reopened).
    pub fn note(time: chrono::DateTime<chrono::Utc>, scope: Scope, text: impl Into<String>) -> Self {
        LogEntry {
            time,
            scope,
            action: NOTE_ACTION.to_string(),
            operation: None,
            target: text.into(),
            name: None,
            outcome: Outcome::Ok,
            request_id: None,
            hint: None,
        }
    }

    pub fn is_note(&self) -> bool {
        self.operation.is_none() && self.action == NOTE_ACTION && self.outcome == Outcome::Ok
    }
}

/// Progress reports from `execute`, delivered to the app as messages.
#[derive(Debug, Clone)]
pub enum ExecEvent {
    Started {
        total_calls: usize,
        total_items: usize,
    },
    /// One per item per call, in the order calls complete.
    Item(LogEntry),
    /// A rotation succeeded: the only place a new secret travels, straight to the dialog.
    Rotated {
        key: ItemKey,
        request_id: String,
        secret: Secret,
        /// The new key's id when the rotation created one beside the old (staged).
        new_id: Option<String>,
    },
    /// Calls completed so far (for the gauge).
    Progress {
        done_calls: usize,
        total_calls: usize,
    },
    /// The affected scope was re-read after the run.
    Refreshed {
        scope: Scope,
        items: Vec<crate::inventory::Item>,
    },
    /// The re-reads after `Finished` are done (or failed): the table shows the run's result.
    Settled,
    /// Something the operator must hear that is not an item's outcome (the audit log was
    /// replaced under the run and reopened), noticed while logging a call of `scope`.
    Note {
        scope: Scope,
        text: String,
    },
    Finished {
        cancelled: bool,
        tally: Tally,
    },
}

/// Items of a finished run by their final outcome, each kind counted apart (the audit
/// log's `run_end` line carries the same fields). An item counts once, by the worst of
/// its calls: failed > unknown > not_sent > kept > dry_run > ok.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct Tally {
    /// Done as asked.
    pub ok: usize,
    /// The service answered but kept the item (a CVM pair bound to an instance or image).
    pub kept: usize,
    /// The call certainly did not take effect.
    pub failed: usize,
    /// The call may or may not have taken effect (timeout, dropped connection, 5xx).
    pub unknown: usize,
    /// Not sent: cancelled first, or an earlier call for the item did not succeed.
    pub not_sent: usize,
    /// Dry run: would have been sent.
    pub dry_run: usize,
}

impl Tally {
    pub fn items(&self) -> usize {
        self.ok + self.kept + self.failed + self.unknown + self.not_sent + self.dry_run
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ExecOptions {
    /// Log what would be sent; send nothing.
    pub dry_run: bool,
}

mod exec;
mod plan;
pub mod protect;

pub use exec::{MAX_IN_FLIGHT, execute};
pub use plan::{IMAGE_NOTE, Selected, build_plan};
pub use protect::Protect;
