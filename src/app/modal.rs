//! Dialog states. At most one modal is open; it takes every key until it closes.

use crate::inventory::{ItemKey, Scope};
use crate::queue::{Intent, Op, Plan};
use crate::secret::Secret;
use std::collections::HashSet;
use std::fmt;

/// Which button Enter activates in a `y`-style confirmation. Starts on Cancel so a
/// stray Enter never runs anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Cancel,
    Confirm,
}

/// The queue view plus the confirmation gate for one plan.
#[derive(Debug)]
pub struct Confirm {
    pub intent: Intent,
    pub plan: Plan,
    /// Items the operator acted on (selection, or the highlighted row).
    pub targets: usize,
    /// How many of those the current filter hides.
    pub hidden: usize,
    /// For destructive plans the exact text to type back, e.g. `delete 37`.
    pub expected: Option<String>,
    pub typed: String,
    pub focus: Button,
    pub error: Option<String>,
    /// The queue view of `plan`, computed once when the dialog opens (it can be long).
    pub lines: Vec<PlanLine>,
    /// First line of `lines` shown.
    pub scroll: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanLineKind {
    /// "cvm prod/ap-guangzhou"
    Group,
    Call,
    Warning,
    SkippedHeader,
    Skipped,
}

/// One line of the queue view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    pub kind: PlanLineKind,
    pub text: String,
}

fn op_label(op: &Op) -> String {
    match op {
        Op::Delete => "delete".into(),
        Op::Disable => "disable".into(),
        Op::Enable => "enable".into(),
        Op::Rotate { custom: None } => "rotate (service-generated secret)".into(),
        Op::Rotate { custom: Some(_) } => "rotate (custom secret)".into(),
        Op::Rename { name, .. } => format!("rename to {name}"),
    }
}

/// Ids as a short list: the first few, then how many more.
fn ids_text(ids: &[String]) -> String {
    const SHOWN: usize = 3;
    if ids.len() <= SHOWN {
        ids.join(", ")
    } else {
        format!("{} … (+{} more)", ids[..SHOWN].join(", "), ids.len() - SHOWN)
    }
}

/// Every planned call grouped by provider and region, with warnings, and the items the
/// plan skips. An API key disabled only so it can be deleted is marked "disable then delete".
pub fn plan_view(plan: &Plan) -> Vec<PlanLine> {
    let line = |kind, text| PlanLine { kind, text };
    // Ids deleted by the plan, per group: one pass, so huge plans stay linear.
    let deleted: HashSet<(&Scope, &str)> = plan
        .calls
        .iter()
        .filter(|c| c.op == Op::Delete)
        .flat_map(|c| c.ids.iter().map(move |id| (&c.scope, id.as_str())))
        .collect();
    let mut lines = Vec::new();
    let mut group: Option<&Scope> = None;
    for call in &plan.calls {
        if group != Some(&call.scope) {
            lines.push(line(PlanLineKind::Group, call.scope.to_string()));
            group = Some(&call.scope);
        }
        let then_delete =
            call.op == Op::Disable && call.ids.iter().all(|id| deleted.contains(&(&call.scope, id.as_str())));
        let count = if call.ids.len() == 1 {
            "1 id".to_string()
        } else {
            format!("{} ids", call.ids.len())
        };
        lines.push(line(
            PlanLineKind::Call,
            format!(
                "  {} {} {count}: {}{}",
                call.action,
                op_label(&call.op),
                ids_text(&call.ids),
                if then_delete {
                    "  (enabled: disable then delete)"
                } else {
                    ""
                }
            ),
        ));
        for w in &call.warnings {
            lines.push(line(PlanLineKind::Warning, format!("    ! {w}")));
        }
    }
    if !plan.skipped.is_empty() {
        lines.push(line(
            PlanLineKind::SkippedHeader,
            format!("skipped ({}):", plan.skipped.len()),
        ));
        for (key, why) in &plan.skipped {
            lines.push(line(PlanLineKind::Skipped, format!("  {}: {why}", key.id)));
        }
    }
    lines
}

/// `r`: choose between a service-generated and a custom secret.
#[derive(Debug)]
pub struct RotateChoice {
    pub targets: Vec<ItemKey>,
    pub hidden: usize,
    pub error: Option<String>,
}

/// A text the operator types that must not appear on screen: Debug masks it too.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct MaskedInput(String);

impl MaskedInput {
    pub fn push(&mut self, c: char) {
        self.0.push(c);
    }
    pub fn pop(&mut self) {
        self.0.pop();
    }
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
    pub fn to_secret(&self) -> Secret {
        Secret::new(self.0.clone())
    }
}

/// A one-line text input the secret and rename dialogs edit the same way.
pub trait LineInput {
    fn push_char(&mut self, c: char);
    fn pop_char(&mut self);
}

impl LineInput for MaskedInput {
    fn push_char(&mut self, c: char) {
        self.push(c);
    }
    fn pop_char(&mut self) {
        self.pop();
    }
}

impl LineInput for String {
    fn push_char(&mut self, c: char) {
        self.push(c);
    }
    fn pop_char(&mut self) {
        self.pop();
    }
}

impl fmt::Debug for MaskedInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MaskedInput(********)")
    }
}

/// Custom secret entry for one API key.
#[derive(Debug)]
pub struct SecretEntry {
    pub target: ItemKey,
    pub input: MaskedInput,
    pub error: Option<String>,
}

/// `n`: new name for one key pair.
#[derive(Debug)]
pub struct RenameEntry {
    pub target: ItemKey,
    pub input: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RotatedSecret {
    pub key: ItemKey,
    pub request_id: String,
    pub secret: Secret,
}

/// New secrets of a rotation, shown once. Closing the dialog drops them.
#[derive(Debug)]
pub struct RotationResult {
    pub secrets: Vec<RotatedSecret>,
    pub cursor: usize,
    pub revealed: bool,
}

#[derive(Debug)]
pub enum Modal {
    Help,
    Confirm(Confirm),
    RotateChoice(RotateChoice),
    SecretEntry(SecretEntry),
    Rename(RenameEntry),
    RotationResult(RotationResult),
    /// `q` while a run is in progress.
    QuitDuringRun,
    /// `H`: past item results from the audit log.
    History(super::history::History),
}

/// API Gateway custom secret rule (UpdateApiKey AccessKeySecret).
pub const SECRET_RULE: &str = "a custom secret must be 10-50 characters of letters, digits and underscores";

/// Validate a custom secret without ever echoing it.
pub fn validate_custom_secret(input: &MaskedInput) -> Result<(), String> {
    let n = input.char_count();
    if !(10..=50).contains(&n) {
        return Err(format!("{SECRET_RULE} (you typed {n})"));
    }
    if !input.0.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("{SECRET_RULE} (it contains another character)"));
    }
    Ok(())
}

/// CVM KeyName rule (ModifyKeyPairAttribute).
pub const NAME_RULE: &str = "a key pair name must be 1-25 characters of letters, digits and underscores";

pub fn validate_key_pair_name(name: &str) -> Result<(), String> {
    let n = name.chars().count();
    if n == 0 || n > 25 {
        return Err(format!("{NAME_RULE} (got {n})"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("{NAME_RULE} (it contains another character)"));
    }
    Ok(())
}
