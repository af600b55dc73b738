//! Dialog states. At most one modal is open; it takes every key until it closes.

use crate::inventory::ItemKey;
use crate::queue::{Intent, Plan};
use crate::secret::Secret;
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
    /// First line of the plan list shown (the list can be long).
    pub scroll: usize,
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
