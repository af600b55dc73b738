//! The queue view plus the confirmation gate for one plan.

use super::{Ctx, Dialog, Step};
use crate::app::Flash;
use crate::app::keymap::{Binding, Key, KeyTable};
use crate::app::scroll;
use crate::inventory::Scope;
use crate::queue::{Intent, Op, Plan};
use crossterm::event::{KeyCode, KeyEvent};
use std::borrow::Cow;
use std::collections::HashSet;

/// Which button Enter activates in a `y`-style confirmation. Starts on Cancel so a
/// stray Enter never runs anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Cancel,
    Confirm,
}

#[derive(Debug)]
pub struct Confirm {
    /// What the plan does; for a queue across tabs, its first intent (see `parts`).
    pub intent: Intent,
    pub plan: Plan,
    /// The plan of each intent it combines (one for a plain action, one per intent for the
    /// queue): what `w` writes to a plan file.
    pub parts: Vec<(Intent, Plan)>,
    /// Said above the plan: items a plan file named that will not be sent, and why.
    pub notes: Vec<String>,
    /// It confirms the queue across tabs: once it runs, the queue is emptied.
    pub from_queue: bool,
    /// Items the operator acted on (selection, or the highlighted row).
    pub targets: usize,
    /// How many of those the current filter hides.
    pub hidden: usize,
    /// The exact text to type back, e.g. `delete 37` (see `Intent::needs_typed_count`).
    pub expected: Option<String>,
    pub typed: String,
    pub focus: Button,
    pub error: Option<String>,
    /// The queue view of `plan`, computed once when the dialog opens (it can be long).
    pub lines: Vec<PlanLine>,
    /// First line of `lines` shown.
    pub scroll: usize,
    /// Whether the run would be a dry run (the dialog then says "would send").
    pub dry_run: bool,
    /// Lines `lines` took once wrapped in the last frame (a render cache, for scrolling).
    pub wrapped_len: std::cell::Cell<usize>,
}

impl Confirm {
    pub fn new(intent: Intent, plan: Plan, targets: usize, hidden: usize, dry_run: bool) -> Self {
        let parts = vec![(intent.clone(), plan.clone())];
        Confirm::of_parts(parts, targets, hidden, dry_run)
    }

    /// The confirmation of several intents' plans run as one (the queue, a plan file): a
    /// typed count when any of them needs one, typed as `run N` when they are several.
    pub fn of_parts(parts: Vec<(Intent, Plan)>, targets: usize, hidden: usize, dry_run: bool) -> Self {
        let intent = parts.first().map(|(i, _)| i.clone()).unwrap_or(Intent::Delete);
        let plan = Plan::combine(parts.iter().map(|(_, p)| p.clone()));
        let n = plan.item_count();
        let verb = verb_of(&parts);
        let expected = parts
            .iter()
            .any(|(i, p)| i.needs_typed_count(p.item_count()) || n > 1 && parts.len() > 1)
            .then(|| format!("{verb} {n}"));
        Confirm {
            lines: plan_view(&plan),
            intent,
            plan,
            parts,
            notes: Vec::new(),
            from_queue: false,
            targets,
            hidden,
            expected,
            typed: String::new(),
            focus: Button::Cancel,
            error: None,
            scroll: 0,
            dry_run,
            wrapped_len: std::cell::Cell::new(0),
        }
    }

    /// The plan's verb: its intent's, or `run` for several.
    pub fn verb(&self) -> &'static str {
        verb_of(&self.parts)
    }

    /// Every intent the plan combines, in order.
    pub fn intents(&self) -> impl Iterator<Item = &Intent> {
        self.parts.iter().map(|(i, _)| i)
    }

    fn cancelled(&self) -> Step {
        Step::Close(Some(Flash::info(format!(
            "{} cancelled: nothing was sent",
            self.verb()
        ))))
    }
}

fn verb_of(parts: &[(Intent, Plan)]) -> &'static str {
    match parts {
        [(intent, _)] => intent.verb(),
        _ => "run",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmCommand {
    Cancel,
    Yes,
    No,
    Toggle,
    Press,
    ScrollUp,
    ScrollDown,
    PageUp,
    PageDown,
    /// Write the plan to a file instead of running it (`keyward apply` runs it later).
    WritePlan,
}

/// Keys of a `y` confirmation (no typed count).
pub static CONFIRM_KEYS: KeyTable<ConfirmCommand> = KeyTable {
    title: "confirmation (y)",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Key::Char('y')]),
            command: ConfirmCommand::Yes,
            help: "confirm and send",
            hint: Some("confirm"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Char('n'), Key::Code(KeyCode::Esc)]),
            command: ConfirmCommand::No,
            help: "cancel: nothing is sent",
            hint: Some("cancel"),
        },
        Binding {
            keys: Cow::Borrowed(&[
                Key::Code(KeyCode::Tab),
                Key::Code(KeyCode::BackTab),
                Key::Code(KeyCode::Left),
                Key::Code(KeyCode::Right),
                Key::Char('h'),
                Key::Char('l'),
            ]),
            command: ConfirmCommand::Toggle,
            help: "move between Cancel and Confirm",
            hint: Some("move"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Enter)]),
            command: ConfirmCommand::Press,
            help: "press the focused button (Cancel at first)",
            hint: Some("press"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Char('w')]),
            command: ConfirmCommand::WritePlan,
            help: "write this plan to a file instead of running it (keyward apply runs it)",
            hint: Some("write plan"),
        },
    ]),
};

/// Scrolling the queue view, in both kinds of confirmation (arrows only: letters are
/// typed into a typed-count gate).
pub static PLAN_SCROLL_KEYS: KeyTable<ConfirmCommand> = KeyTable {
    title: "confirmation: the plan",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Up)]),
            command: ConfirmCommand::ScrollUp,
            help: "scroll the plan up",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Down)]),
            command: ConfirmCommand::ScrollDown,
            help: "scroll the plan down",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::PageUp)]),
            command: ConfirmCommand::PageUp,
            help: "a page up",
            hint: None,
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::PageDown)]),
            command: ConfirmCommand::PageDown,
            help: "a page down",
            hint: None,
        },
        // Not a letter: a typed-count gate takes letters as text.
        Binding {
            keys: Cow::Borrowed(&[Key::Ctrl('s')]),
            command: ConfirmCommand::WritePlan,
            help: "write this plan to a file instead of running it (keyward apply runs it)",
            hint: None,
        },
    ]),
};

/// Keys of a typed-count confirmation; other characters are typed into the gate.
pub static TYPED_CONFIRM_KEYS: KeyTable<ConfirmCommand> = KeyTable {
    title: "confirmation (typed count)",
    bindings: Cow::Borrowed(&[
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Enter)]),
            command: ConfirmCommand::Press,
            help: "confirm once the text is typed exactly",
            hint: Some("confirm"),
        },
        Binding {
            keys: Cow::Borrowed(&[Key::Code(KeyCode::Esc)]),
            command: ConfirmCommand::Cancel,
            help: "cancel: nothing is sent",
            hint: Some("cancel"),
        },
    ]),
};

impl Confirm {
    pub fn keys(&self) -> &'static KeyTable<ConfirmCommand> {
        if self.expected.is_some() {
            &TYPED_CONFIRM_KEYS
        } else {
            &CONFIRM_KEYS
        }
    }

    fn scroll_by(&mut self, delta: isize, page: usize) {
        let len = self.lines.len().max(self.wrapped_len.get());
        self.scroll = scroll::by(self.scroll, delta, len, page);
    }
}

impl Dialog for Confirm {
    fn on_key(&mut self, key: &KeyEvent, ctx: &Ctx) -> Step {
        let page = ctx.page.max(1);
        let command = PLAN_SCROLL_KEYS.lookup(key).or_else(|| self.keys().lookup(key));
        match command {
            Some(ConfirmCommand::Cancel | ConfirmCommand::No) => return self.cancelled(),
            Some(ConfirmCommand::ScrollUp) => self.scroll_by(-1, page),
            Some(ConfirmCommand::ScrollDown) => self.scroll_by(1, page),
            Some(ConfirmCommand::PageUp) => self.scroll_by(-(page as isize), page),
            Some(ConfirmCommand::PageDown) => self.scroll_by(page as isize, page),
            Some(ConfirmCommand::Yes) => return Step::Execute,
            Some(ConfirmCommand::WritePlan) => return Step::WritePlan(self.parts.clone()),
            Some(ConfirmCommand::Toggle) => {
                self.focus = match self.focus {
                    Button::Cancel => Button::Confirm,
                    Button::Confirm => Button::Cancel,
                }
            }
            Some(ConfirmCommand::Press) => match &self.expected {
                Some(expected) if self.typed == *expected => return Step::Execute,
                Some(expected) => {
                    self.error = Some(format!("type `{expected}` exactly to confirm, or Esc to cancel"));
                }
                None if self.focus == Button::Confirm => return Step::Execute,
                None => return self.cancelled(),
            },
            None => {
                if self.expected.is_some() {
                    super::entry::edit_line(key, &mut self.typed, &mut self.error);
                }
            }
        }
        Step::Stay
    }

    fn on_paste(&mut self, _text: &str) -> Step {
        if let Some(expected) = &self.expected {
            self.error = Some(format!("the confirmation is typed, not pasted: type `{expected}`"));
            return Step::Stay;
        }
        Step::Say(Flash::info(super::PASTE_IGNORED))
    }

    fn takes_text(&self) -> bool {
        self.expected.is_some()
    }
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

/// Warnings listed one by one per call; beyond this they are counted.
const WARNINGS_SHOWN: usize = 3;

/// `1200` as `1,200`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An id with the name it had when planned: `billing-webhook (AKID…)`.
fn named(plan: &Plan, scope: &Scope, id: &str) -> String {
    match plan.names.of(scope, id) {
        Some(name) => format!("{} ({id})", crate::text::sanitize(name)),
        None => id.to_string(),
    }
}

/// Ids as a short list: the first few, with names, then how many more.
fn ids_text(plan: &Plan, scope: &Scope, ids: &[String]) -> String {
    const SHOWN: usize = 3;
    let shown: Vec<String> = ids.iter().take(SHOWN).map(|id| named(plan, scope, id)).collect();
    if ids.len() <= SHOWN {
        shown.join(", ")
    } else {
        format!("{} … (+{} more)", shown.join(", "), ids.len() - SHOWN)
    }
}

/// Every planned call grouped by provider and region, with warnings, and the items the
/// plan skips. An API key disabled only so it can be deleted is marked "disable then delete".
pub fn plan_view(plan: &Plan) -> Vec<PlanLine> {
    let line = |kind, text| PlanLine { kind, text };
    // Ids deleted by the plan, per scope: one pass, so huge plans stay linear.
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
                ids_text(plan, &call.scope, &call.ids),
                if then_delete {
                    "  (enabled: disable then delete)"
                } else {
                    ""
                }
            ),
        ));
        // A long list of warnings is counted, not listed: the first few, then how many.
        for w in call.warnings.iter().take(WARNINGS_SHOWN) {
            lines.push(line(PlanLineKind::Warning, format!("    ! {w}")));
        }
        if call.warnings.len() > WARNINGS_SHOWN {
            lines.push(line(
                PlanLineKind::Warning,
                format!(
                    "    ! {} of these {} ids have a warning like the ones above ({} more not listed)",
                    thousands(call.warnings.len()),
                    thousands(call.ids.len()),
                    thousands(call.warnings.len() - WARNINGS_SHOWN)
                ),
            ));
        }
    }
    // Items the service keeps though no warning could name them (key pairs used by an
    // image): said once, where the provider keeps bound items instead of refusing.
    let keeps_bound = |c: &crate::queue::PlannedCall| {
        c.op == Op::Delete
            && crate::providers::capabilities(c.scope.kind).bound_delete == crate::providers::BoundDelete::Kept
    };
    if plan.calls.iter().any(keeps_bound) {
        lines.push(line(PlanLineKind::Warning, format!("  ! {}", crate::queue::IMAGE_NOTE)));
    }
    // Said once per kind whose delete the provider module says more of (CAM: it cannot
    // be undone), in words and not only by the typed confirmation.
    let mut noted = Vec::new();
    for call in plan.calls.iter().filter(|c| c.op == Op::Delete) {
        if let Some(note) = crate::providers::capabilities(call.scope.kind).delete_note
            && !noted.contains(&note)
        {
            noted.push(note);
            lines.push(line(PlanLineKind::Warning, format!("  ! {note}")));
        }
    }
    if !plan.skipped.is_empty() {
        lines.push(line(
            PlanLineKind::SkippedHeader,
            format!("skipped ({}):", plan.skipped.len()),
        ));
        for (key, why) in &plan.skipped {
            lines.push(line(
                PlanLineKind::Skipped,
                format!("  {}: {why}", named(plan, &key.scope, &key.id)),
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_read_with_thousands_separators() {
        assert_eq!(super::thousands(7), "7");
        assert_eq!(super::thousands(100), "100");
        assert_eq!(super::thousands(1200), "1,200");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
