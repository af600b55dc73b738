//! The `?` overlay: every key table, generated from the tables the handlers use.

use super::{Ctx, Dialog, Step};
use crate::app::keymap::{self, Binding, Command, Key, KeyTable};
use crate::app::scroll;
use crossterm::event::{KeyCode, KeyEvent};

/// One line of the help overlay: a heading, or the keys and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpLine {
    Heading(&'static str),
    Key { keys: String, help: &'static str },
    Text(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Help {
    pub lines: Vec<HelpLine>,
    /// First line shown.
    pub scroll: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpCommand {
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Close,
}

pub static HELP_KEYS: KeyTable<HelpCommand> = KeyTable {
    title: "this help",
    bindings: &[
        Binding {
            keys: &[Key::Char('j'), Key::Code(KeyCode::Down)],
            command: HelpCommand::Down,
            help: "scroll down",
            hint: Some("scroll"),
        },
        Binding {
            keys: &[Key::Char('k'), Key::Code(KeyCode::Up)],
            command: HelpCommand::Up,
            help: "scroll up",
            hint: None,
        },
        Binding {
            keys: &[Key::Code(KeyCode::PageDown), Key::Char(' ')],
            command: HelpCommand::PageDown,
            help: "a page down",
            hint: None,
        },
        Binding {
            keys: &[Key::Code(KeyCode::PageUp)],
            command: HelpCommand::PageUp,
            help: "a page up",
            hint: None,
        },
        Binding {
            keys: &[Key::Char('g'), Key::Code(KeyCode::Home)],
            command: HelpCommand::Top,
            help: "top",
            hint: None,
        },
        Binding {
            keys: &[Key::Char('G'), Key::Code(KeyCode::End)],
            command: HelpCommand::Bottom,
            help: "bottom",
            hint: None,
        },
        Binding {
            keys: &[Key::Code(KeyCode::Esc), Key::Char('?'), Key::Char('q')],
            command: HelpCommand::Close,
            help: "close the help",
            hint: Some("close"),
        },
    ],
};

fn section<C: Copy>(lines: &mut Vec<HelpLine>, table: &KeyTable<C>, keep: impl Fn(C) -> bool) {
    lines.push(HelpLine::Heading(table.title));
    for b in table.bindings.iter().filter(|b| keep(b.command)) {
        lines.push(HelpLine::Key {
            keys: KeyTable::keys_label(b),
            help: b.help,
        });
    }
}

impl Help {
    /// Every table, in the order an operator meets them. In read-only mode the mutating
    /// keys and the dialogs only they open are left out.
    pub fn new(read_only: bool) -> Self {
        let mut lines = Vec::new();
        section(&mut lines, &keymap::TABLE_KEYS, |c: Command| {
            !(read_only && c.operation().is_some())
        });
        section(&mut lines, &keymap::FILTER_KEYS, |_| true);
        section(&mut lines, &keymap::LOG_KEYS, |_| true);
        section(&mut lines, &super::super::history::HISTORY_KEYS, |_| true);
        if !read_only {
            section(&mut lines, &super::confirm::TYPED_CONFIRM_KEYS, |_| true);
            section(&mut lines, &super::confirm::CONFIRM_KEYS, |_| true);
            section(&mut lines, &super::ROTATE_KEYS, |_| true);
            section(&mut lines, &super::entry::ENTRY_KEYS, |_| true);
            section(&mut lines, &super::secrets::SECRETS_KEYS, |_| true);
            section(&mut lines, &super::secrets::FORGET_KEYS, |_| true);
        }
        section(&mut lines, &super::QUIT_KEYS, |_| true);
        section(&mut lines, &HELP_KEYS, |_| true);
        lines.push(HelpLine::Heading("everywhere"));
        lines.push(HelpLine::Text(
            "c cancels a running plan in every view; in a text input (filter, custom secret, name, typed confirmation) Ctrl-C does. With no run, Ctrl-C closes a dialog, else quits.",
        ));
        lines.push(HelpLine::Text(
            "Pasted text goes only into a text input. A typed confirmation must be typed, not pasted; keys that arrive right after a dialog opens, or faster than anyone types, are ignored.",
        ));
        Help { lines, scroll: 0 }
    }
}

impl Dialog for Help {
    fn on_key(&mut self, key: &KeyEvent, ctx: &Ctx) -> Step {
        let (len, page) = (self.lines.len(), ctx.page.max(1));
        let by = |s: usize, d: isize| scroll::by(s, d, len, page);
        self.scroll = match HELP_KEYS.lookup(key) {
            Some(HelpCommand::Down) => by(self.scroll, 1),
            Some(HelpCommand::Up) => by(self.scroll, -1),
            Some(HelpCommand::PageDown) => by(self.scroll, page as isize),
            Some(HelpCommand::PageUp) => by(self.scroll, -(page as isize)),
            Some(HelpCommand::Top) => 0,
            Some(HelpCommand::Bottom) => by(self.scroll, isize::MAX),
            Some(HelpCommand::Close) => return Step::Close(None),
            None => self.scroll,
        };
        Step::Stay
    }

    fn guarded(&self) -> bool {
        false
    }
}
