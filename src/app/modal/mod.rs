//! Dialogs. At most one is open; it takes every key until it closes.
//!
//! Each dialog is a component: it owns its key table (`keymap::KeyTable`), handles its
//! own keys through [`Dialog::on_key`] and says what should happen next as a [`Step`];
//! `ui::dialogs` draws each one. The app (`keys.rs`) applies the step in one place and
//! enforces the rules every dialog shares: the guard against keys that arrive before a
//! person could have read the dialog, paste handling, and the one cancel key of a run.

pub mod confirm;
pub mod entry;
pub mod failures;
pub mod help;
pub mod queue;
pub mod secrets;

pub use confirm::{Button, Confirm, PlanLine, PlanLineKind, plan_view};
pub use entry::{EntryKind, LineEntry, MaskedInput, edit_line, insertable};
pub use failures::Failures;
pub use help::Help;
pub use queue::{QueueView, StageChooser};
pub use secrets::{RotatedSecret, RotationResult};

use super::history::History;
use super::keymap::{Binding, Key, KeyTable};
use super::{Effect, Flash};
use crate::inventory::ItemKey;
use crate::queue::Intent;
use crossterm::event::{KeyCode, KeyEvent};
use std::borrow::Cow;
use std::time::Duration;

/// Keys that could act (confirm, choose, type into a gate) are ignored this long after a
/// dialog opens: a burst of keys typed or pasted before the dialog appeared must not
/// answer it. A person needs longer than this to read a dialog.
pub const OPEN_GUARD: Duration = Duration::from_millis(300);

/// Keys arriving closer together than this are not typed by a person (a paste into a
/// terminal without bracketed paste, or a key-repeat flood): they never answer a dialog.
pub const BURST_GAP: Duration = Duration::from_millis(10);

/// What the app should do after a dialog handled a key.
#[derive(Debug)]
pub enum Step {
    /// Keep the dialog open; nothing else.
    Stay,
    /// Keep the dialog open and say something in the status line.
    Say(Flash),
    /// Close the dialog, optionally saying why.
    Close(Option<Flash>),
    /// Replace the dialog by another.
    Open(Box<Modal>),
    /// Close the dialog and open the confirmation of this intent's plan.
    Plan {
        intent: Intent,
        targets: Vec<ItemKey>,
        hidden: usize,
    },
    /// The confirmation dialog was answered: run its plan.
    Execute,
    /// Write these plans (one per intent) to a plan file instead of running them; the
    /// dialog closes.
    WritePlan(Vec<(Intent, crate::queue::Plan)>),
    /// Stage the current selection for this intent in the queue across tabs.
    Stage(Intent),
    /// Take item `usize` off the queue (the queue view stays open).
    Unstage(usize),
    /// Open the confirmation of the whole queue.
    ConfirmQueue,
    /// Keep the dialog and carry out these effects.
    Effects(Vec<Effect>),
    /// Quitting during a run was confirmed.
    Quit,
}

/// What a dialog may know about the app while it handles a key.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// Rows the list area showed in the last frame (for PgUp/PgDn).
    pub page: usize,
}

/// A dialog component.
pub trait Dialog {
    fn on_key(&mut self, key: &KeyEvent, ctx: &Ctx) -> Step;

    /// A paste (bracketed paste). Only text inputs take one.
    fn on_paste(&mut self, _text: &str) -> Step {
        Step::Say(Flash::info(PASTE_IGNORED))
    }

    /// Whether typed characters are text here (so `c` is a letter, not cancel).
    fn takes_text(&self) -> bool {
        false
    }

    /// Whether this dialog can start or confirm something, so keys that arrive too early
    /// or in a burst are ignored ([`OPEN_GUARD`], [`BURST_GAP`]).
    fn guarded(&self) -> bool {
        true
    }
}

pub const PASTE_IGNORED: &str =
    "paste ignored: pasted text goes only into a text input (the / filter, a custom secret, a new name)";

/// `r`: choose between a service-generated and a custom secret.
#[derive(Debug)]
pub struct RotateChoice {
    pub targets: Vec<ItemKey>,
    pub hidden: usize,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotateCommand {
    Generated,
    Custom,
    Cancel,
}

pub static ROTATE_KEYS: KeyTable<RotateCommand> = KeyTable {
    title: "rotate: choose the new secret",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Key::Char('a')]),
            command: RotateCommand::Generated,
            help: "let the service generate a new secret",
            hint: Some("generated"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Char('c')]),
            command: RotateCommand::Custom,
            help: "type a custom secret (one key only)",
            hint: Some("custom"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Esc), Key::Char('n'), Key::Char('q')]),
            command: RotateCommand::Cancel,
            help: "cancel",
            hint: Some("cancel"),
        },
    ]),
};

impl Dialog for RotateChoice {
    fn on_key(&mut self, key: &KeyEvent, _ctx: &Ctx) -> Step {
        match ROTATE_KEYS.lookup(key) {
            Some(RotateCommand::Generated) => Step::Plan {
                intent: Intent::Rotate { custom: None },
                targets: self.targets.clone(),
                hidden: self.hidden,
            },
            Some(RotateCommand::Custom) => match self.targets.as_slice() {
                [target] => Step::Open(Box::new(Modal::SecretEntry(LineEntry::custom_secret(target.clone())))),
                _ => {
                    self.error = Some(format!(
                        "a custom secret is set on one key at a time; {} are selected",
                        self.targets.len()
                    ));
                    Step::Stay
                }
            },
            Some(RotateCommand::Cancel) => Step::Close(Some(Flash::info("rotation cancelled: nothing was sent"))),
            None => Step::Stay,
        }
    }
}

/// `q` while a run is in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuitDuringRun;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuitCommand {
    Quit,
    Stay,
}

pub static QUIT_KEYS: KeyTable<QuitCommand> = KeyTable {
    title: "quit while a run is in progress",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Key::Char('y')]),
            command: QuitCommand::Quit,
            help: "stop sending, record the run's end in the audit log and quit",
            hint: Some("quit"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Esc), Key::Char('n')]),
            command: QuitCommand::Stay,
            help: "keep running",
            hint: Some("keep running"),
        },
    ]),
};

impl Dialog for QuitDuringRun {
    fn on_key(&mut self, key: &KeyEvent, _ctx: &Ctx) -> Step {
        match QUIT_KEYS.lookup(key) {
            Some(QuitCommand::Quit) => Step::Quit,
            Some(QuitCommand::Stay) => Step::Close(None),
            None => Step::Stay,
        }
    }
}

#[derive(Debug)]
pub enum Modal {
    Help(Help),
    Confirm(Confirm),
    RotateChoice(RotateChoice),
    /// Custom secret for one API key.
    SecretEntry(LineEntry),
    /// New name for one key pair.
    Rename(LineEntry),
    RotationResult(RotationResult),
    QuitDuringRun(QuitDuringRun),
    /// `H`: past item results from the audit log.
    History(History),
    /// `f`: the active tab's failed sources, by error code.
    Failures(Failures),
    /// `+`: which intent the selection is staged for.
    Stage(StageChooser),
    /// `Q`: the queue across tabs.
    Queue(QueueView),
}

impl Modal {
    pub fn dialog(&mut self) -> &mut dyn Dialog {
        match self {
            Modal::Help(d) => d,
            Modal::Confirm(d) => d,
            Modal::RotateChoice(d) => d,
            Modal::SecretEntry(d) | Modal::Rename(d) => d,
            Modal::RotationResult(d) => d,
            Modal::QuitDuringRun(d) => d,
            Modal::History(d) => d,
            Modal::Failures(d) => d,
            Modal::Stage(d) => d,
            Modal::Queue(d) => d,
        }
    }

    pub fn as_dialog(&self) -> &dyn Dialog {
        match self {
            Modal::Help(d) => d,
            Modal::Confirm(d) => d,
            Modal::RotateChoice(d) => d,
            Modal::SecretEntry(d) | Modal::Rename(d) => d,
            Modal::RotationResult(d) => d,
            Modal::QuitDuringRun(d) => d,
            Modal::History(d) => d,
            Modal::Failures(d) => d,
            Modal::Stage(d) => d,
            Modal::Queue(d) => d,
        }
    }
}

/// Keys that never act, only look: they pass the open guard (Esc always closes safely).
pub fn passes_guard(key: &KeyEvent) -> bool {
    matches!(
        key.code,
        KeyCode::Esc | KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown | KeyCode::Home | KeyCode::End
    )
}
