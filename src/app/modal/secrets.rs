//! The new secrets of a rotation, shown once. Closing the dialog drops them, so it cannot
//! close by accident: only Esc closes it, and it asks first while a secret was neither
//! revealed, copied nor written to a file.

use super::{Ctx, Dialog, Step};
use crate::app::keymap::{Binding, Key, KeyTable, NAV_KEYS};
use crate::app::{Effect, Flash};
use crate::inventory::ItemKey;
use crate::secret::Secret;
use crossterm::event::{KeyCode, KeyEvent};
use std::borrow::Cow;
use std::cell::Cell;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotatedSecret {
    pub key: ItemKey,
    /// The key's name when it was rotated (ids alone are hard to tell apart).
    pub name: String,
    pub request_id: String,
    pub secret: Secret,
    /// Shown in clear at least once (`v`).
    pub revealed: bool,
    /// Sent to the clipboard (`y`) or written to a file (`w`).
    pub kept: bool,
}

impl RotatedSecret {
    pub fn new(key: ItemKey, name: String, request_id: String, secret: Secret) -> Self {
        RotatedSecret {
            key,
            name,
            request_id,
            secret,
            revealed: false,
            kept: false,
        }
    }
}

#[derive(Debug, Default)]
pub struct RotationResult {
    pub secrets: Vec<RotatedSecret>,
    pub cursor: usize,
    /// Which secret is shown in clear now (only the highlighted one can be).
    pub showing: Option<usize>,
    /// Esc was pressed with secrets not yet kept: "forget them? y/N".
    pub asking_to_forget: bool,
    /// First row shown (a render cache, moved by `scroll::follow`).
    pub offset: Cell<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretsCommand {
    Reveal,
    Copy,
    Write,
    Close,
}

pub static SECRETS_KEYS: KeyTable<SecretsCommand> = KeyTable {
    title: "new secrets (after a rotation)",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Key::Char('v')]),
            command: SecretsCommand::Reveal,
            help: "reveal or hide the highlighted secret",
            hint: Some("reveal"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Char('y')]),
            command: SecretsCommand::Copy,
            help: "copy the highlighted secret (OSC 52)",
            hint: Some("copy"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Char('w')]),
            command: SecretsCommand::Write,
            help: "write every new secret of the run to a new file (mode 600)",
            hint: Some("write to file"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Esc)]),
            command: SecretsCommand::Close,
            help: "close and forget the secrets (asks first if one was not kept)",
            hint: Some("close"),
        },
    ]),
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForgetCommand {
    Forget,
    Back,
}

pub static FORGET_KEYS: KeyTable<ForgetCommand> = KeyTable {
    title: "forget secrets not kept?",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Key::Char('y')]),
            command: ForgetCommand::Forget,
            help: "forget them",
            hint: Some("forget"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Char('n'), Key::Code(KeyCode::Esc)]),
            command: ForgetCommand::Back,
            help: "back to the secrets",
            hint: Some("back"),
        },
    ]),
};

impl RotationResult {
    pub fn push(&mut self, secret: RotatedSecret) {
        self.secrets.push(secret);
    }

    /// Secrets neither revealed nor kept: closing would lose them.
    pub fn unkept(&self) -> usize {
        self.secrets.iter().filter(|s| !s.revealed && !s.kept).count()
    }

    /// Every secret was written to a file.
    pub fn mark_all_kept(&mut self) {
        for s in &mut self.secrets {
            s.kept = true;
        }
    }

    fn closed() -> Step {
        Step::Close(Some(Flash::info(
            "new-secret dialog closed; keyward no longer holds the new secrets",
        )))
    }
}

impl Dialog for RotationResult {
    fn on_key(&mut self, key: &KeyEvent, ctx: &Ctx) -> Step {
        if self.asking_to_forget {
            match FORGET_KEYS.lookup(key) {
                Some(ForgetCommand::Forget) => return Self::closed(),
                Some(ForgetCommand::Back) => self.asking_to_forget = false,
                None => {}
            }
            return Step::Stay;
        }
        if let Some(nav) = NAV_KEYS.lookup(key) {
            self.cursor = nav.cursor(self.cursor, self.secrets.len(), ctx.page);
        }
        match SECRETS_KEYS.lookup(key) {
            Some(SecretsCommand::Reveal) => {
                if self.showing == Some(self.cursor) {
                    self.showing = None;
                } else if let Some(s) = self.secrets.get_mut(self.cursor) {
                    s.revealed = true;
                    self.showing = Some(self.cursor);
                }
            }
            Some(SecretsCommand::Copy) => {
                if let Some(s) = self.secrets.get_mut(self.cursor) {
                    s.kept = true;
                    return Step::Effects(vec![Effect::CopyToClipboard {
                        secret: s.secret.clone(),
                        what: format!("the new secret of {} ({})", s.name, s.key.id),
                    }]);
                }
            }
            Some(SecretsCommand::Write) => {
                return Step::Effects(vec![Effect::WriteSecrets(self.secrets.clone())]);
            }
            Some(SecretsCommand::Close) => {
                if self.unkept() == 0 {
                    return Self::closed();
                }
                self.asking_to_forget = true;
            }
            None => {}
        }
        // Only the highlighted secret can be shown in clear.
        if self.showing.is_some() && self.showing != Some(self.cursor) {
            self.showing = None;
        }
        Step::Stay
    }
}
