//! The `:` command line, k9s-style: `:account prod`, `:region ap-*`, `:tab cam` (also
//! `:provider`), `:all`. Tab completes the command's name, then its value from what the
//! app knows (configured accounts and regions, the tabs). Part of `update`, so pure.

use super::keymap::{Binding, Key, KeyTable};
use super::scope::{ScopeFilter, parse_kind};
use super::{App, Focus};
use crate::filter::Glob;
use crate::inventory::ProviderKind;
use crossterm::event::{KeyCode, KeyEvent};
use std::borrow::Cow;

/// The line being typed, and what the last Enter or Tab said about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandLine {
    pub text: String,
    /// Why the last command was not run; shown on the line until the next edit.
    pub error: Option<String>,
    /// What Tab could not decide between ("account: dev, prod").
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineCommand {
    Run,
    Close,
    Complete,
}

pub static COMMAND_KEYS: KeyTable<LineCommand> = KeyTable {
    title: "command line (after :) — account NAME, region NAME, tab NAME (or provider), all",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Enter)]),
            command: LineCommand::Run,
            help: "run the command",
            hint: Some("run"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Tab)]),
            command: LineCommand::Complete,
            help: "complete the command or its value (accounts, regions, tabs)",
            hint: Some("complete"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Esc)]),
            command: LineCommand::Close,
            help: "close the command line",
            hint: Some("close"),
        },
    ]),
};

/// The commands: name, and whether it takes a value.
const COMMANDS: &[(&str, bool)] = &[
    ("account", true),
    ("region", true),
    ("tab", true),
    ("provider", true),
    ("all", false),
];

pub fn on_key(app: &mut App, key: &KeyEvent) {
    let Some(line) = app.command_line.as_mut() else {
        return;
    };
    match COMMAND_KEYS.lookup(key) {
        Some(LineCommand::Close) => app.command_line = None,
        Some(LineCommand::Complete) => {
            let typed = line.text.clone();
            let (text, hint) = complete(app, &typed);
            if let Some(line) = app.command_line.as_mut() {
                line.text = text;
                line.hint = hint;
                line.error = None;
            }
        }
        Some(LineCommand::Run) => {
            let text = line.text.clone();
            match run(app, &text) {
                Ok(said) => {
                    app.command_line = None;
                    app.info(said);
                }
                Err(why) => {
                    if let Some(line) = app.command_line.as_mut() {
                        line.error = Some(why);
                        line.hint = None;
                    }
                }
            }
        }
        None => {
            let mut error = line.error.take();
            if super::modal::edit_line(key, &mut line.text, &mut error) {
                line.hint = None;
            }
            line.error = error;
        }
    }
}

/// Run one command line; Ok says what it did, Err why not (shown inline).
pub fn run(app: &mut App, text: &str) -> Result<String, String> {
    let mut words = text.split_whitespace();
    let Some(name) = words.next() else {
        return Err("type a command: account, region, tab, provider or all".into());
    };
    let value = words.next();
    if words.next().is_some() {
        return Err(format!(
            "{name} takes one value; quote nothing, globs like ap-* work as they are"
        ));
    }
    let needs = |what: &str, known: Vec<String>| format!("{name} needs {what}: {}", known.join(", "));
    match (name, value) {
        ("account", None) => Err(needs("an account (a glob)", accounts(app))),
        ("region", None) => Err(needs("a region (a glob)", regions(app))),
        ("tab" | "provider", None) => Err(needs("a provider", tabs())),
        ("account", Some(v)) => {
            let glob = Glob::new(v);
            if !accounts(app).iter().any(|a| glob.matches(a)) {
                return Err(format!(
                    "no configured account matches \"{v}\"; accounts: {}",
                    accounts(app).join(", ")
                ));
            }
            app.scope.account = Some(glob);
            Ok(apply(app))
        }
        ("region", Some(v)) => {
            let glob = Glob::new(v);
            if !regions(app).iter().any(|r| glob.matches(r)) {
                return Err(format!(
                    "no configured region matches \"{v}\"; regions: {}",
                    regions(app).join(", ")
                ));
            }
            app.scope.region = Some(glob);
            Ok(apply(app))
        }
        ("tab" | "provider", Some(v)) => {
            let kind = parse_kind(v)?;
            app.active = ProviderKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
            app.focus = Focus::Table;
            Ok(format!("{} tab", kind.title()))
        }
        ("all", None) => {
            app.scope.account = None;
            app.scope.region = None;
            let said = apply(app);
            // Sources the command line's flags left out were never loaded.
            if app.options.scope.is_empty() {
                Ok(said)
            } else {
                Ok(format!(
                    "{said}; sources outside the command line's {} were not loaded (start keyward without it to see them)",
                    app.options.scope.describe()
                ))
            }
        }
        ("all", Some(_)) => Err("all takes no value".into()),
        (other, _) => Err(format!(
            "unknown command \"{other}\": use account NAME, region NAME, tab NAME, provider NAME or all"
        )),
    }
}

/// The row scope onto every tab; what is shown now.
fn apply(app: &mut App) -> String {
    let scope = ScopeFilter {
        kind: None,
        ..app.scope.clone()
    };
    for tab in &mut app.tabs {
        tab.set_scope(scope.clone());
    }
    match scope.describe() {
        d if d.is_empty() => "showing every account and region".into(),
        d => format!("showing {d}"),
    }
}

/// Tab: the command's name, or its value, extended as far as the candidates agree.
/// Several left: the line says which.
pub fn complete(app: &App, text: &str) -> (String, Option<String>) {
    match text.split_once(' ') {
        None => {
            let names: Vec<String> = COMMANDS
                .iter()
                .filter(|(n, _)| n.starts_with(text))
                .map(|(n, _)| n.to_string())
                .collect();
            match names.as_slice() {
                [] => (text.to_string(), Some(format!("no command starts with \"{text}\""))),
                [one] => {
                    let takes_value = COMMANDS.iter().any(|(n, v)| n == one && *v);
                    (if takes_value { format!("{one} ") } else { one.clone() }, None)
                }
                many => (common_prefix(many), Some(many.join(", "))),
            }
        }
        Some((name, partial)) => {
            let partial = partial.trim_start();
            let known = match name {
                "account" => accounts(app),
                "region" => regions(app),
                "tab" | "provider" => tabs(),
                _ => return (text.to_string(), Some(format!("\"{name}\" takes no value to complete"))),
            };
            let fits: Vec<String> = known.into_iter().filter(|k| k.starts_with(partial)).collect();
            match fits.as_slice() {
                [] => (text.to_string(), Some(format!("no {name} starts with \"{partial}\""))),
                [one] => (format!("{name} {one}"), None),
                many => (format!("{name} {}", common_prefix(many)), Some(many.join(", "))),
            }
        }
    }
}

fn common_prefix(words: &[String]) -> String {
    let mut prefix: Vec<char> = words.first().map(|w| w.chars().collect()).unwrap_or_default();
    for w in words.iter().skip(1) {
        let same = prefix.iter().zip(w.chars()).take_while(|(a, b)| **a == *b).count();
        prefix.truncate(same);
    }
    prefix.into_iter().collect()
}

/// Configured accounts, in config order, once each.
fn accounts(app: &App) -> Vec<String> {
    distinct(app.sources.iter().map(|s| s.scope.account.to_string()))
}

/// Configured regions (and OceanBase projects), in config order, once each.
fn regions(app: &App) -> Vec<String> {
    distinct(app.sources.iter().map(|s| s.scope.region.to_string()))
}

fn tabs() -> Vec<String> {
    ProviderKind::ALL.iter().map(|k| k.slug().to_string()).collect()
}

fn distinct(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}
