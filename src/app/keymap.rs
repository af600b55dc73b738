//! Keys as data. Every screen and dialog has one table of bindings: the key handler
//! looks keys up in it, the help overlay lists it and the footer takes its hints from it,
//! so a key cannot work without being documented, or be documented without working
//! (the way yazi's keymap and gitui's key config drive both handling and hints).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::borrow::Cow;

/// One key a binding answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Code(KeyCode),
    /// `1`..`9`.
    Digit,
}

impl Key {
    pub fn matches(self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match (self, key.code) {
            (Key::Ctrl(c), KeyCode::Char(k)) => ctrl && k.eq_ignore_ascii_case(&c),
            (_, _) if ctrl || key.modifiers.contains(KeyModifiers::ALT) => false,
            (Key::Char(c), KeyCode::Char(k)) => c == k,
            (Key::Digit, KeyCode::Char(k)) => ('1'..='9').contains(&k),
            (Key::Code(code), k) => code == k,
            _ => false,
        }
    }

    /// How the help overlay and the footer spell the key.
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Digit => "1-9".into(),
            Key::Code(code) => match code {
                KeyCode::Tab => "Tab".into(),
                KeyCode::BackTab => "Shift-Tab".into(),
                KeyCode::Up => "Up".into(),
                KeyCode::Down => "Down".into(),
                KeyCode::Left => "Left".into(),
                KeyCode::Right => "Right".into(),
                KeyCode::PageUp => "PgUp".into(),
                KeyCode::PageDown => "PgDn".into(),
                KeyCode::Home => "Home".into(),
                KeyCode::End => "End".into(),
                KeyCode::Esc => "Esc".into(),
                KeyCode::Enter => "Enter".into(),
                KeyCode::Backspace => "Backspace".into(),
                other => format!("{other:?}"),
            },
        }
    }
}

/// Named keys a `[keys]` entry may give besides one character or `ctrl-<letter>`.
const NAMED_KEYS: &[(&str, Key)] = &[
    ("space", Key::Char(' ')),
    ("tab", Key::Code(KeyCode::Tab)),
    ("shift-tab", Key::Code(KeyCode::BackTab)),
    ("esc", Key::Code(KeyCode::Esc)),
    ("enter", Key::Code(KeyCode::Enter)),
    ("backspace", Key::Code(KeyCode::Backspace)),
    ("up", Key::Code(KeyCode::Up)),
    ("down", Key::Code(KeyCode::Down)),
    ("left", Key::Code(KeyCode::Left)),
    ("right", Key::Code(KeyCode::Right)),
    ("pgup", Key::Code(KeyCode::PageUp)),
    ("pgdn", Key::Code(KeyCode::PageDown)),
    ("home", Key::Code(KeyCode::Home)),
    ("end", Key::Code(KeyCode::End)),
];

impl Key {
    /// A key as `[keys]` spells it: one character (`"D"`, `"/"`), `ctrl-<letter>`, or a
    /// name (`space`, `tab`, `shift-tab`, `esc`, `enter`, `up`, `pgdn`, ...).
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut chars = text.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            if c.is_control() {
                return Err(format!("{text:?} is a control character, not a key name"));
            }
            return Ok(Key::Char(c));
        }
        let lower = text.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("ctrl-") {
            let mut c = rest.chars();
            if let (Some(c), None) = (c.next(), c.next())
                && c.is_ascii_lowercase()
            {
                return Ok(Key::Ctrl(c));
            }
        }
        NAMED_KEYS
            .iter()
            .find(|(name, _)| *name == lower)
            .map(|(_, k)| *k)
            .ok_or_else(|| format!("\"{text}\" is not a key keyward knows"))
    }
}

/// A key table entry: the keys, what they do, the help text and the footer word.
#[derive(Debug, Clone)]
pub struct Binding<C: Clone + 'static> {
    /// Borrowed in the built-in tables; owned where `[keys]` rebinds them.
    pub keys: Cow<'static, [Key]>,
    pub command: C,
    /// The help overlay's line.
    pub help: &'static str,
    /// The footer's short word, for the keys worth advertising there.
    pub hint: Option<&'static str>,
}

/// The bindings of one screen or dialog, with a title for the help overlay.
#[derive(Debug, Clone)]
pub struct KeyTable<C: Clone + 'static> {
    pub title: &'static str,
    pub bindings: Cow<'static, [Binding<C>]>,
}

impl<C: Copy> KeyTable<C> {
    /// The command bound to `key`, if any.
    pub fn lookup(&self, key: &KeyEvent) -> Option<C> {
        self.bindings
            .iter()
            .find(|b| b.keys.iter().any(|k| k.matches(key)))
            .map(|b| b.command)
    }

    /// The keys of a binding as the help shows them: "j / Down".
    pub fn keys_label(binding: &Binding<C>) -> String {
        binding.keys.iter().map(|k| k.label()).collect::<Vec<_>>().join(" / ")
    }

    /// Footer hints of the bindings `show` keeps, e.g. "/ filter · Space select".
    pub fn hints(&self, show: impl Fn(C) -> bool) -> String {
        self.bindings
            .iter()
            .filter(|b| show(b.command))
            .filter_map(|b| {
                let hint = b.hint?;
                let key = b.keys.first()?.label();
                Some(format!("{key} {hint}"))
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The first key bound to `command`, spelled for a message ("press c to cancel").
    pub fn key_for(&self, command: C) -> String
    where
        C: PartialEq,
    {
        self.bindings
            .iter()
            .find(|b| b.command == command)
            .and_then(|b| b.keys.first())
            .map(|k| k.label())
            .unwrap_or_default()
    }
}

use Key::{Char, Code, Ctrl, Digit};

/// What a key does on the main screen (the table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    NextTab,
    PrevTab,
    GoToTab,
    Filter,
    CommandLine,
    SortNext,
    SortReverse,
    Toggle,
    SelectAll,
    ClearSelection,
    Back,
    Delete,
    Rotate,
    Enable,
    Disable,
    Rename,
    CopyId,
    CopyIds,
    Cancel,
    FocusLog,
    History,
    Failures,
    Reload,
    ReenableLeftDisabled,
    /// `+`: stage the selection in the queue across tabs.
    Stage,
    /// `Q`: review the queue.
    Queue,
    /// `w`: write the queue's plan to a file.
    WritePlan,
    Redraw,
    Suspend,
    Help,
    Quit,
}

impl Command {
    /// Every command, in the table's order.
    pub const ALL: [Command; 31] = [
        Command::NextTab,
        Command::PrevTab,
        Command::GoToTab,
        Command::Filter,
        Command::CommandLine,
        Command::SortNext,
        Command::SortReverse,
        Command::Toggle,
        Command::SelectAll,
        Command::ClearSelection,
        Command::Back,
        Command::Delete,
        Command::Rotate,
        Command::Enable,
        Command::Disable,
        Command::Rename,
        Command::CopyId,
        Command::CopyIds,
        Command::Cancel,
        Command::FocusLog,
        Command::History,
        Command::Failures,
        Command::Reload,
        Command::ReenableLeftDisabled,
        Command::Stage,
        Command::Queue,
        Command::WritePlan,
        Command::Redraw,
        Command::Suspend,
        Command::Help,
        Command::Quit,
    ];

    /// The name `[keys]` rebinds the command by (`delete = "D"`).
    pub fn name(self) -> &'static str {
        match self {
            Command::NextTab => "next_tab",
            Command::PrevTab => "prev_tab",
            Command::GoToTab => "go_to_tab",
            Command::Filter => "filter",
            Command::CommandLine => "command",
            Command::SortNext => "sort",
            Command::SortReverse => "sort_reverse",
            Command::Toggle => "toggle",
            Command::SelectAll => "select_all",
            Command::ClearSelection => "clear_selection",
            Command::Back => "back",
            Command::Delete => "delete",
            Command::Rotate => "rotate",
            Command::Enable => "enable",
            Command::Disable => "disable",
            Command::Rename => "rename",
            Command::CopyId => "copy_id",
            Command::CopyIds => "copy_ids",
            Command::Cancel => "cancel",
            Command::FocusLog => "log",
            Command::History => "history",
            Command::Failures => "failures",
            Command::Reload => "reload",
            Command::ReenableLeftDisabled => "reenable",
            Command::Stage => "queue_add",
            Command::Queue => "queue",
            Command::WritePlan => "write_plan",
            Command::Redraw => "redraw",
            Command::Suspend => "suspend",
            Command::Help => "help",
            Command::Quit => "quit",
        }
    }

    /// Commands whose keys stay as they are: the tab digits carry the tab number, and the
    /// one cancel key (`c`, Ctrl-C) must be the same in every state.
    fn fixed(self) -> bool {
        matches!(self, Command::GoToTab | Command::Cancel)
    }

    /// Whether read-only mode removes the command: it starts a mutating operation, or
    /// stages one in the queue (`+`).
    pub fn refused_read_only(self) -> bool {
        self.operation().is_some() || self == Command::Stage
    }

    /// The mutating operation a command starts, which read-only mode removes and each
    /// provider's capabilities allow or not.
    pub fn operation(self) -> Option<crate::providers::Operation> {
        use crate::providers::Operation;
        match self {
            Command::Delete => Some(Operation::Delete),
            Command::Rotate => Some(Operation::Rotate),
            Command::Enable => Some(Operation::Enable),
            Command::Disable => Some(Operation::Disable),
            Command::Rename => Some(Operation::Rename),
            Command::ReenableLeftDisabled => Some(Operation::Enable),
            _ => None,
        }
    }
}

pub static TABLE_KEYS: KeyTable<Command> = KeyTable {
    title: "main screen",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Code(KeyCode::Tab)]),
            command: Command::NextTab,
            help: "next provider tab",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Code(KeyCode::BackTab)]),
            command: Command::PrevTab,
            help: "previous provider tab",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Digit]),
            command: Command::GoToTab,
            help: "go to provider tab N",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('/')]),
            command: Command::Filter,
            help: "filter rows by text (Enter keeps it, Esc clears it, Ctrl-U empties it)",
            hint: Some("filter"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char(':')]),
            command: Command::CommandLine,
            help: "command line: account NAME, region NAME (globs), tab NAME, all; Tab completes",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('s')]),
            command: Command::SortNext,
            help: "sort by the next column",
            hint: Some("sort"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('S')]),
            command: Command::SortReverse,
            help: "reverse the sort order",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char(' ')]),
            command: Command::Toggle,
            help: "select or unselect the highlighted row, then move down",
            hint: Some("select"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('a')]),
            command: Command::SelectAll,
            help: "select every row the filter shows",
            hint: Some("all"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('A')]),
            command: Command::ClearSelection,
            help: "clear the selection",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Code(KeyCode::Esc)]),
            command: Command::Back,
            help: "clear the selection, or with none the filter",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('d')]),
            command: Command::Delete,
            help: "delete the selection (or the highlighted row)",
            hint: Some("delete"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('r')]),
            command: Command::Rotate,
            help: "rotate secrets (generated or custom)",
            hint: Some("rotate"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('e')]),
            command: Command::Enable,
            help: "enable the selection",
            hint: Some("enable"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('x')]),
            command: Command::Disable,
            help: "disable the selection",
            hint: Some("disable"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('n')]),
            command: Command::Rename,
            help: "rename the highlighted item",
            hint: Some("rename"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('y')]),
            command: Command::CopyId,
            help: "copy the highlighted row's id to the clipboard (OSC 52; ids only, never a secret)",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('Y')]),
            command: Command::CopyIds,
            help: "copy the selection's ids, one a line, to the clipboard (OSC 52)",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('c'), Ctrl('c')]),
            command: Command::Cancel,
            help: "cancel the running plan (unsent calls stay unsent); with no run, Ctrl-C quits",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('L')]),
            command: Command::FocusLog,
            help: "focus the log pane",
            hint: Some("log"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('H')]),
            command: Command::History,
            help: "past results from the audit log, newest first",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('f')]),
            command: Command::Failures,
            help: "the active tab's failed sources, grouped by error code",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('R')]),
            command: Command::Reload,
            help: "reload every provider",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('E')]),
            command: Command::ReenableLeftDisabled,
            help: "after a delete that left keys disabled: plan enabling exactly those again",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('+')]),
            command: Command::Stage,
            help: "add the selection's intent (delete, disable, enable, rotate) to the queue across tabs",
            hint: Some("queue"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('Q')]),
            command: Command::Queue,
            help: "the queue: every staged key by intent; remove some, write its plan, or confirm it all at once",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('w')]),
            command: Command::WritePlan,
            help: "write the queue's plan to a file instead of running it (keyward apply runs it)",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Ctrl('l')]),
            command: Command::Redraw,
            help: "redraw the screen",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Ctrl('z')]),
            command: Command::Suspend,
            help: "suspend keyward (fg resumes it)",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('?')]),
            command: Command::Help,
            help: "this help",
            hint: Some("help"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('q')]),
            command: Command::Quit,
            help: "quit (asks first while a run is in progress)",
            hint: Some("quit"),
        },
    ]),
};

/// `[keys]` of the config: commands of the main screen given other keys, in file order.
/// Checked when the config is read (`Rebinds::add`, `Rebinds::check`); the app builds its
/// table from them once (`Rebinds::table`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rebinds(Vec<(Command, Vec<Key>)>);

/// Why a `[keys]` entry cannot be used, with the fix; `entry` is its index in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebindError {
    pub entry: usize,
    pub message: String,
    pub fix: String,
}

impl Rebinds {
    /// One `[keys]` entry: `name = "D"` or `name = ["/", "ctrl-f"]`.
    pub fn add(&mut self, name: &str, keys: &[String]) -> Result<(), RebindError> {
        let entry = self.0.len();
        let fail = |message: String, fix: String| RebindError { entry, message, fix };
        let Some(command) = Command::ALL.into_iter().find(|c| c.name() == name) else {
            let names: Vec<&str> = Command::ALL.iter().filter(|c| !c.fixed()).map(|c| c.name()).collect();
            return Err(fail(
                format!("[keys] has no action named \"{name}\""),
                format!("use one of: {}", names.join(", ")),
            ));
        };
        if command.fixed() {
            return Err(fail(
                format!("[keys] {name} cannot be rebound"),
                "remove it: the tab keys are 1-9 and the cancel key is c (Ctrl-C while typing) in every view".into(),
            ));
        }
        if keys.is_empty() {
            return Err(fail(
                format!("[keys] {name} lists no key"),
                "give at least one key, like \"D\"".into(),
            ));
        }
        let parsed = keys
            .iter()
            .map(|k| Key::parse(k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|why| {
                fail(
                    format!("[keys] {name}: {why}"),
                    "give one character (\"D\", \"/\"), ctrl-<letter>, or one of: space, tab, shift-tab, esc, enter, backspace, up, down, left, right, pgup, pgdn, home, end".into(),
                )
            })?;
        self.0.push((command, parsed));
        Ok(())
    }

    /// After every entry: no key may do two things on the main screen (where the moving
    /// keys are asked first, so they count too). The error names the later entry.
    pub fn check(&self) -> Result<(), RebindError> {
        let table = self.table();
        let mut seen: Vec<(Key, &'static str)> = Vec::new();
        let nav = NAV_KEYS.bindings.iter().map(|b| (&b.keys, "move"));
        let own = table.bindings.iter().map(|b| (&b.keys, b.command.name()));
        for (keys, name) in nav.chain(own) {
            for k in keys.iter() {
                if let Some((_, other)) = seen.iter().find(|(s, _)| s == k) {
                    let entry = self
                        .0
                        .iter()
                        .rposition(|(c, ks)| ks.contains(k) && (c.name() == name || c.name() == *other))
                        .unwrap_or(0);
                    return Err(RebindError {
                        entry,
                        message: format!("[keys]: {} is bound to both {other} and {name}", k.label()),
                        fix: format!("give {name} or {other} another key (in [keys]; ? lists every key)"),
                    });
                }
                seen.push((*k, name));
            }
        }
        Ok(())
    }

    /// The main screen's table with these keys in place of the built-in ones.
    pub fn table(&self) -> KeyTable<Command> {
        let mut table = TABLE_KEYS.clone();
        for b in table.bindings.to_mut() {
            if let Some((_, keys)) = self.0.iter().rev().find(|(c, _)| *c == b.command) {
                b.keys = Cow::Owned(keys.clone());
            }
        }
        table
    }
}

/// What a key does while the log pane has focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogCommand {
    Older,
    Newer,
    PageOlder,
    PageNewer,
    Oldest,
    Newest,
    Back,
    Cancel,
    Help,
    Quit,
}

pub static LOG_KEYS: KeyTable<LogCommand> = KeyTable {
    title: "log pane (after L)",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Char('k'), Code(KeyCode::Up)]),
            command: LogCommand::Older,
            help: "scroll to older lines",
            hint: Some("older"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('j'), Code(KeyCode::Down)]),
            command: LogCommand::Newer,
            help: "scroll to newer lines",
            hint: Some("newer"),
        },
        Binding {
            keys: Cow::Borrowed(&[Code(KeyCode::PageUp)]),
            command: LogCommand::PageOlder,
            help: "a page older",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Code(KeyCode::PageDown)]),
            command: LogCommand::PageNewer,
            help: "a page newer",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('g'), Code(KeyCode::Home)]),
            command: LogCommand::Oldest,
            help: "oldest lines",
            hint: Some("oldest"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('G'), Code(KeyCode::End)]),
            command: LogCommand::Newest,
            help: "newest lines (follow new ones)",
            hint: Some("newest"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('L'), Code(KeyCode::Esc)]),
            command: LogCommand::Back,
            help: "back to the table",
            hint: Some("back"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('c'), Ctrl('c')]),
            command: LogCommand::Cancel,
            help: "cancel the running plan",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('?')]),
            command: LogCommand::Help,
            help: "help",
            hint: Some("help"),
        },
        Binding {
            keys: Cow::Borrowed(&[Char('q')]),
            command: LogCommand::Quit,
            help: "quit",
            hint: Some("quit"),
        },
    ]),
};

/// Moving through a list: the same keys in the table, the history, the help and the
/// new-secret dialog, so each of them asks this table first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
}

impl Nav {
    /// A free window (no cursor) moved; the last page stays full.
    pub fn scroll(self, offset: usize, len: usize, page: usize) -> usize {
        let page = page.max(1);
        let by = |d: isize| super::scroll::by(offset, d, len, page);
        match self {
            Nav::Down => by(1),
            Nav::Up => by(-1),
            Nav::PageDown => by(page as isize),
            Nav::PageUp => by(-(page as isize)),
            Nav::Top => 0,
            Nav::Bottom => by(isize::MAX),
        }
    }

    /// A cursor moved, kept on an existing line.
    pub fn cursor(self, cursor: usize, len: usize, page: usize) -> usize {
        let page = page.max(1) as isize;
        let by = |d: isize| super::scroll::move_cursor(cursor, d, len);
        match self {
            Nav::Down => by(1),
            Nav::Up => by(-1),
            Nav::PageDown => by(page),
            Nav::PageUp => by(-page),
            Nav::Top => 0,
            Nav::Bottom => by(isize::MAX),
        }
    }
}

/// The scrolling keys as a footer says them: "j k PgDn PgUp g G scroll", from the table.
pub fn nav_hint() -> String {
    let keys: Vec<String> = NAV_KEYS
        .bindings
        .iter()
        .filter_map(|b| b.keys.first().map(|k| k.label()))
        .collect();
    format!("{} scroll", keys.join(" "))
}

pub static NAV_KEYS: KeyTable<Nav> = KeyTable {
    title: "moving (the table, history, help, new secrets)",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Char('j'), Code(KeyCode::Down)]),
            command: Nav::Down,
            help: "down",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('k'), Code(KeyCode::Up)]),
            command: Nav::Up,
            help: "up",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Code(KeyCode::PageDown)]),
            command: Nav::PageDown,
            help: "a page down",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Code(KeyCode::PageUp)]),
            command: Nav::PageUp,
            help: "a page up",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('g'), Code(KeyCode::Home)]),
            command: Nav::Top,
            help: "top",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Char('G'), Code(KeyCode::End)]),
            command: Nav::Bottom,
            help: "bottom",
            hint: None,
        },
    ]),
};

/// What a key does while the filter input has the keyboard (other characters are typed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputCommand {
    Accept,
    Abort,
    DeleteChar,
    Clear,
}

pub static FILTER_KEYS: KeyTable<InputCommand> = KeyTable {
    title: "filter input (after /)",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Code(KeyCode::Enter)]),
            command: InputCommand::Accept,
            help: "keep the filter",
            hint: Some("keep"),
        },
        Binding {
            keys: Cow::Borrowed(&[Code(KeyCode::Esc)]),
            command: InputCommand::Abort,
            help: "clear the filter",
            hint: Some("clear"),
        },
        Binding {
            keys: Cow::Borrowed(&[Code(KeyCode::Backspace)]),
            command: InputCommand::DeleteChar,
            help: "delete a character",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Ctrl('u')]),
            command: InputCommand::Clear,
            help: "empty the input",
            hint: Some("empty"),
        },
    ]),
};

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn no_key_is_bound_twice_in_one_table() {
        fn check<C: Copy + std::fmt::Debug>(table: &KeyTable<C>) {
            let mut seen: Vec<Key> = Vec::new();
            for b in table.bindings.iter() {
                for k in b.keys.iter() {
                    assert!(!seen.contains(k), "{}: {k:?} is bound twice", table.title);
                    seen.push(*k);
                }
                assert!(!b.help.is_empty(), "{}: {:?} has no help line", table.title, b.command);
                assert!(!b.keys.is_empty(), "{}: {:?} has no key", table.title, b.command);
            }
        }
        check(&TABLE_KEYS);
        check(&LOG_KEYS);
        check(&FILTER_KEYS);
        check(&NAV_KEYS);
    }

    #[test]
    fn every_command_has_one_name_and_one_binding() {
        let mut names: Vec<&str> = Command::ALL.iter().map(|c| c.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Command::ALL.len(), "names are unique");
        let bound: Vec<Command> = TABLE_KEYS.bindings.iter().map(|b| b.command).collect();
        assert_eq!(bound, Command::ALL.to_vec(), "ALL lists the table's commands in order");
    }

    #[test]
    fn keys_parse_as_config_spells_them() {
        assert_eq!(Key::parse("D"), Ok(Key::Char('D')));
        assert_eq!(Key::parse("ctrl-F"), Ok(Key::Ctrl('f')));
        assert_eq!(Key::parse("Space"), Ok(Key::Char(' ')));
        assert_eq!(Key::parse("shift-tab"), Ok(Key::Code(KeyCode::BackTab)));
        assert!(Key::parse("ctrl-1").is_err());
        assert!(Key::parse("hyper-x").is_err());
        assert!(Key::parse("").is_err());
        // A rebound table keeps every other binding as it was.
        let mut r = Rebinds::default();
        r.add("delete", &["D".into()]).unwrap();
        let table = r.table();
        assert_eq!(table.key_for(Command::Delete), "D");
        assert_eq!(table.key_for(Command::Rotate), "r");
        assert!(r.check().is_ok());
    }

    #[test]
    fn ctrl_chords_do_not_act_as_their_letter() {
        let ctrl_d = KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL);
        assert_eq!(TABLE_KEYS.lookup(&ctrl_d), None);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(TABLE_KEYS.lookup(&ctrl_c), Some(Command::Cancel));
        assert_eq!(TABLE_KEYS.lookup(&press(KeyCode::Char('d'))), Some(Command::Delete));
        assert_eq!(TABLE_KEYS.lookup(&press(KeyCode::Char('7'))), Some(Command::GoToTab));
        assert_eq!(TABLE_KEYS.lookup(&press(KeyCode::Char('0'))), None);
    }
}
