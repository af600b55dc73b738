//! One validated line-entry component, for the custom secret and the new key-pair name:
//! the same editing keys, paste, and a rule checked by the provider module that owns it.

use super::{Ctx, Dialog, Step};
use crate::app::Flash;
use crate::app::keymap::{Binding, InputCommand, Key, KeyTable};
use crate::inventory::ItemKey;
use crate::providers::tencent::{apigateway, cvm};
use crate::queue::Intent;
use crate::secret::Secret;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::borrow::Cow;
use std::fmt;

/// A text the operator types that must not appear on screen: Debug masks it too.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct MaskedInput(String);

impl MaskedInput {
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

/// A one-line text the editing keys work on.
pub trait LineText {
    fn text_mut(&mut self) -> &mut String;
}

impl LineText for String {
    fn text_mut(&mut self) -> &mut String {
        self
    }
}

impl LineText for MaskedInput {
    fn text_mut(&mut self) -> &mut String {
        &mut self.0
    }
}

/// Characters that may enter a one-line input: a paste's newlines, tabs and other
/// control characters are dropped (a newline must never act as Enter).
pub fn insertable(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().filter(|c| !c.is_control())
}

/// Typing, Backspace and Ctrl-U in a one-line input; any edit clears the last error.
/// Returns whether the key was an edit.
pub fn edit_line(key: &KeyEvent, input: &mut impl LineText, error: &mut Option<String>) -> bool {
    let text = input.text_mut();
    // The editing keys are the filter input's: one table for every line input.
    match crate::app::keymap::FILTER_KEYS.lookup(key) {
        Some(InputCommand::DeleteChar) => {
            text.pop();
        }
        Some(InputCommand::Clear) => text.clear(),
        _ => match key.code {
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => text.push(c),
            _ => return false,
        },
    }
    *error = None;
    true
}

/// What is being typed, and so which provider rule checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// UpdateApiKey's AccessKeySecret; masked on screen.
    CustomSecret,
    /// ModifyKeyPairAttribute's KeyName; `current` is the name it has now.
    KeyPairName { current: String },
}

#[derive(Debug)]
pub struct LineEntry {
    pub target: ItemKey,
    pub kind: EntryKind,
    /// Masked in Debug whatever it holds; the screen masks only a secret.
    pub input: MaskedInput,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryCommand {
    Accept,
    Abort,
}

pub static ENTRY_KEYS: KeyTable<EntryCommand> = KeyTable {
    title: "custom secret / new name input",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Enter)]),
            command: EntryCommand::Accept,
            help: "continue to the confirmation",
            hint: Some("continue"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Esc)]),
            command: EntryCommand::Abort,
            help: "cancel: nothing is sent",
            hint: Some("cancel"),
        },
    ]),
};

impl LineEntry {
    pub fn custom_secret(target: ItemKey) -> Self {
        LineEntry {
            target,
            kind: EntryKind::CustomSecret,
            input: MaskedInput::default(),
            error: None,
        }
    }

    pub fn rename(target: ItemKey, current: String) -> Self {
        LineEntry {
            target,
            input: MaskedInput(current.clone()),
            kind: EntryKind::KeyPairName { current },
            error: None,
        }
    }

    pub fn is_secret(&self) -> bool {
        self.kind == EntryKind::CustomSecret
    }

    /// The typed text as the screen may show it: a secret only as a mask.
    pub fn shown(&self) -> String {
        match self.kind {
            EntryKind::CustomSecret => "*".repeat(self.input.char_count()),
            EntryKind::KeyPairName { .. } => self.input.0.clone(),
        }
    }

    /// The rule the owning provider module states for this input.
    pub fn rule(&self) -> &'static str {
        match self.kind {
            EntryKind::CustomSecret => apigateway::CUSTOM_SECRET_RULE,
            EntryKind::KeyPairName { .. } => cvm::KEY_PAIR_NAME_RULE,
        }
    }

    fn accept(&mut self) -> Step {
        let checked = match &self.kind {
            EntryKind::CustomSecret => apigateway::validate_custom_secret(&self.input.0),
            EntryKind::KeyPairName { current } if *current == self.input.0 => {
                return Step::Close(Some(Flash::info("the name is unchanged: nothing to send")));
            }
            EntryKind::KeyPairName { .. } => cvm::validate_key_pair_name(&self.input.0),
        };
        if let Err(e) = checked {
            self.error = Some(e);
            return Step::Stay;
        }
        let intent = match self.kind {
            EntryKind::CustomSecret => Intent::Rotate {
                custom: Some(self.input.to_secret()),
            },
            EntryKind::KeyPairName { .. } => Intent::Rename {
                name: self.input.0.clone(),
            },
        };
        Step::Plan {
            intent,
            targets: vec![self.target.clone()],
            hidden: 0,
        }
    }
}

impl Dialog for LineEntry {
    fn on_key(&mut self, key: &KeyEvent, _ctx: &Ctx) -> Step {
        match ENTRY_KEYS.lookup(key) {
            Some(EntryCommand::Accept) => self.accept(),
            Some(EntryCommand::Abort) => Step::Close(Some(Flash::info(match self.kind {
                EntryKind::CustomSecret => "rotation cancelled: nothing was sent",
                EntryKind::KeyPairName { .. } => "rename cancelled: nothing was sent",
            }))),
            None => {
                edit_line(key, &mut self.input, &mut self.error);
                Step::Stay
            }
        }
    }

    fn on_paste(&mut self, text: &str) -> Step {
        self.input.0.extend(insertable(text));
        self.error = None;
        Step::Stay
    }

    fn takes_text(&self) -> bool {
        true
    }
}
