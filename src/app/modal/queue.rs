//! The queue across tabs: `+` opens [`StageChooser`] (which intent to stage the selection
//! for), `Q` opens [`QueueView`] (every staged key, grouped by intent; remove some, write
//! the plan file, or go on to the one typed confirmation of the whole queue).

use super::{Ctx, Dialog, Step};
use crate::app::keymap::{Binding, Key, KeyTable, NAV_KEYS, Nav};
use crate::queue::Intent;
use crossterm::event::{KeyCode, KeyEvent};
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageCommand {
    Delete,
    Disable,
    Enable,
    Rotate,
    Close,
}

/// The chooser's keys: the same letters as the table's actions.
pub static STAGE_KEYS: KeyTable<StageCommand> = KeyTable {
    title: "add to the queue (after +)",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Key::Char('d')]),
            command: StageCommand::Delete,
            help: "queue deleting the selection",
            hint: Some("delete"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Char('x')]),
            command: StageCommand::Disable,
            help: "queue disabling the selection",
            hint: Some("disable"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Char('e')]),
            command: StageCommand::Enable,
            help: "queue enabling the selection",
            hint: Some("enable"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Char('r')]),
            command: StageCommand::Rotate,
            help: "queue rotating the selection (secrets the service generates)",
            hint: Some("rotate"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Esc), Key::Char('q')]),
            command: StageCommand::Close,
            help: "add nothing",
            hint: Some("cancel"),
        },
    ]),
};

/// `+`: which intent the selection is staged for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageChooser;

impl Dialog for StageChooser {
    fn on_key(&mut self, key: &KeyEvent, _ctx: &Ctx) -> Step {
        match STAGE_KEYS.lookup(key) {
            Some(StageCommand::Delete) => Step::Stage(Intent::Delete),
            Some(StageCommand::Disable) => Step::Stage(Intent::Disable),
            Some(StageCommand::Enable) => Step::Stage(Intent::Enable),
            Some(StageCommand::Rotate) => Step::Stage(Intent::Rotate { custom: None }),
            Some(StageCommand::Close) => Step::Close(None),
            None => Step::Stay,
        }
    }

    /// Staging sends nothing: the queue is confirmed later, behind its own gate.
    fn guarded(&self) -> bool {
        false
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueCommand {
    Remove,
    WritePlan,
    Confirm,
    Close,
}

pub static QUEUE_KEYS: KeyTable<QueueCommand> = KeyTable {
    title: "the queue (after Q)",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[
                Key::Char('-'),
                Key::Code(KeyCode::Delete),
                Key::Code(KeyCode::Backspace),
            ]),
            command: QueueCommand::Remove,
            help: "take the highlighted key off the queue",
            hint: Some("remove"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Char('w')]),
            command: QueueCommand::WritePlan,
            help: "write the queue's plan to a file (keyward apply runs it)",
            hint: Some("write plan"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Enter)]),
            command: QueueCommand::Confirm,
            help: "review the whole queue's plan and confirm it (one typed count)",
            hint: Some("confirm"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Esc), Key::Char('Q'), Key::Char('q')]),
            command: QueueCommand::Close,
            help: "close (the queue stays)",
            hint: Some("close"),
        },
    ]),
};

/// `Q`: the staged keys; the app holds the queue itself (`App::staged`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueView {
    /// The highlighted staged key.
    pub cursor: usize,
    /// How many keys are staged (the app keeps it current as keys are removed).
    pub len: usize,
}

impl Dialog for QueueView {
    fn on_key(&mut self, key: &KeyEvent, ctx: &Ctx) -> Step {
        if let Some(nav) = NAV_KEYS.lookup(key) {
            let last = self.len.saturating_sub(1);
            let page = ctx.page.max(1);
            self.cursor = match nav {
                Nav::Down => (self.cursor + 1).min(last),
                Nav::Up => self.cursor.saturating_sub(1),
                Nav::PageDown => (self.cursor + page).min(last),
                Nav::PageUp => self.cursor.saturating_sub(page),
                Nav::Top => 0,
                Nav::Bottom => last,
            };
            return Step::Stay;
        }
        match QUEUE_KEYS.lookup(key) {
            Some(QueueCommand::Remove) if self.len > 0 => Step::Unstage(self.cursor),
            Some(QueueCommand::WritePlan) => Step::WritePlan(Vec::new()),
            Some(QueueCommand::Confirm) => Step::ConfirmQueue,
            Some(QueueCommand::Close) => Step::Close(None),
            _ => Step::Stay,
        }
    }

    /// Nothing here sends: Enter opens the guarded confirmation.
    fn guarded(&self) -> bool {
        false
    }
}
