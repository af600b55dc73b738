//! The `?` overlay: every key table, generated from the tables the handlers use.

use super::{Ctx, Dialog, Step};
use crate::app::keymap::{self, Binding, Command, Key, KeyTable};
use crossterm::event::{KeyCode, KeyEvent};
use std::borrow::Cow;

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
    Close,
}

/// The help's own keys; scrolling takes the shared `NAV_KEYS`.
pub static HELP_KEYS: KeyTable<HelpCommand> = KeyTable {
    title: "this help",
    bindings: Cow::Borrowed(&[Binding {
        keys: Cow::Borrowed(&[Key::Code(KeyCode::Esc), Key::Char('?'), Key::Char('q')]),
        command: HelpCommand::Close,
        help: "close the help",
        hint: Some("close"),
    }]),
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
    /// `table` is the main screen's table as the app holds it (with `[keys]` applied).
    pub fn new(table: &KeyTable<Command>, read_only: bool) -> Self {
        let mut lines = Vec::new();
        section(&mut lines, table, |c: Command| !(read_only && c.refused_read_only()));
        section(&mut lines, &keymap::NAV_KEYS, |_| true);
        section(&mut lines, &keymap::FILTER_KEYS, |_| true);
        // The filter language, as `keyward list --where` takes it too.
        lines.push(HelpLine::Heading("filter language (after /, and keyward list --where)"));
        lines.extend(crate::filter::SYNTAX.lines().map(HelpLine::Text));
        section(&mut lines, &crate::app::command_line::COMMAND_KEYS, |_| true);
        section(&mut lines, &keymap::LOG_KEYS, |_| true);
        section(&mut lines, &super::super::history::HISTORY_KEYS, |_| true);
        section(&mut lines, &super::failures::FAILURES_KEYS, |_| true);
        if !read_only {
            section(&mut lines, &super::confirm::TYPED_CONFIRM_KEYS, |_| true);
            section(&mut lines, &super::confirm::CONFIRM_KEYS, |_| true);
            section(&mut lines, &super::confirm::PLAN_SCROLL_KEYS, |_| true);
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
        if let Some(nav) = keymap::NAV_KEYS.lookup(key) {
            self.scroll = nav.scroll(self.scroll, self.lines.len(), ctx.page);
        } else if let Some(HelpCommand::Close) = HELP_KEYS.lookup(key) {
            return Step::Close(None);
        }
        Step::Stay
    }

    fn guarded(&self) -> bool {
        false
    }
}
