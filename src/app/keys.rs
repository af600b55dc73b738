//! Key and paste handling: which key does what in each state. Part of `update`, so pure.
//!
//! Keys are looked up in the key tables of `keymap` (the main screen, the log pane, the
//! filter input) or handed to the open dialog, which owns its keys. The rules every
//! state shares live here, once: the cancel key of a run, the guard that ignores keys
//! arriving before a person could have read a dialog, and where a paste may go.

use super::keymap::{Command, FILTER_KEYS, InputCommand, LOG_KEYS, LogCommand, NAV_KEYS, Nav};
use super::modal::{
    BURST_GAP, Confirm, Ctx, Help, LineEntry, Modal, OPEN_GUARD, PASTE_IGNORED, QueueView, QuitDuringRun, RotateChoice,
    StageChooser, Step, passes_guard,
};
use super::run::RunState;
use super::{App, Effect, Flash, Focus, scroll};
use crate::inventory::ItemKey;
use crate::providers::capabilities;
use crate::queue::{Intent, Plan};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

pub const READ_ONLY: &str = "read-only mode: action disabled";
const RUN_BUSY: &str = "a run is in progress: wait for it to finish or press c to cancel it";
const TOO_SOON: &str = "key ignored: it came right after the dialog opened, or faster than anyone types (a paste?); read the dialog, then answer it";

pub fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    let burst = app
        .last_key
        .is_some_and(|t| app.now.saturating_duration_since(t) < BURST_GAP);
    app.last_key = Some(app.now);
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('l') {
        return vec![Effect::Redraw];
    }
    if ctrl && key.code == KeyCode::Char('z') {
        return vec![Effect::Suspend];
    }
    // One cancel key in every state: `c`, or Ctrl-C where `c` is a letter being typed.
    if app.is_running() {
        let typing = app.typing();
        let c = key.code == KeyCode::Char('c');
        if c && (ctrl || (!typing && !key.modifiers.contains(KeyModifiers::ALT))) {
            return cancel_run(app);
        }
    } else if ctrl && key.code == KeyCode::Char('c') {
        // Idle Ctrl-C: close what is open, else quit.
        if app.modal.is_some() {
            app.modal = None;
            return Vec::new();
        }
        if app.filter_input.is_some() {
            app.filter_input = None;
            return Vec::new();
        }
        if app.command_line.is_some() {
            app.command_line = None;
            return Vec::new();
        }
        return vec![Effect::Quit];
    }
    if app.modal.is_some() {
        return on_modal_key(app, key, burst);
    }
    if app.filter_input.is_some() {
        on_filter_key(app, &key);
        return Vec::new();
    }
    if app.command_line.is_some() {
        super::command_line::on_key(app, &key);
        return Vec::new();
    }
    if app.focus == Focus::Log {
        return on_log_key(app, &key);
    }
    on_table_key(app, &key)
}

/// A paste (bracketed paste): text for the focused text input, never commands.
pub fn on_paste(app: &mut App, text: &str) -> Vec<Effect> {
    if let Some(modal) = app.modal.as_mut() {
        let step = modal.dialog().on_paste(text);
        return apply(app, step);
    }
    if let Some(filter) = app.filter_input.as_mut() {
        filter.extend(super::modal::insertable(text));
        let t = filter.clone();
        app.tab_mut().set_filter(&t);
        return Vec::new();
    }
    if let Some(line) = app.command_line.as_mut() {
        line.text.extend(super::modal::insertable(text));
        return Vec::new();
    }
    app.info(PASTE_IGNORED);
    Vec::new()
}

fn cancel_run(app: &mut App) -> Vec<Effect> {
    let Some(run) = &mut app.run else {
        return Vec::new();
    };
    if run.cancelling {
        return Vec::new();
    }
    run.cancelling = true;
    app.info("cancelling: calls not yet sent will not be sent");
    vec![Effect::Cancel]
}

fn on_modal_key(app: &mut App, key: KeyEvent, burst: bool) -> Vec<Effect> {
    let page = app.page_rows.get();
    let early = app.now.saturating_duration_since(app.modal_opened) < OPEN_GUARD;
    let Some(modal) = app.modal.as_mut() else {
        return Vec::new();
    };
    let dialog = modal.dialog();
    if dialog.guarded() && !passes_guard(&key) && (early || burst) {
        if let Modal::Confirm(c) = modal {
            // A burst may have typed part of the confirmation: it must be typed again.
            c.typed.clear();
        }
        app.error(TOO_SOON);
        return Vec::new();
    }
    let step = dialog.on_key(&key, &Ctx { page });
    apply(app, step)
}

/// Carry out what a dialog decided.
fn apply(app: &mut App, step: Step) -> Vec<Effect> {
    match step {
        Step::Stay => {}
        Step::Say(flash) => app.set_flash(flash),
        Step::Close(flash) => {
            app.modal = None;
            if let Some(flash) = flash {
                app.set_flash(flash);
            }
        }
        Step::Open(modal) => app.open(*modal),
        Step::Plan {
            intent,
            targets,
            hidden,
        } => {
            app.modal = None;
            open_confirm(app, intent, &targets, hidden);
        }
        Step::Execute => {
            if let Some(Modal::Confirm(confirm)) = app.modal.take() {
                return execute(app, confirm);
            }
        }
        Step::Effects(effects) => return effects,
        Step::Stage(intent) => {
            app.modal = None;
            stage(app, intent);
        }
        Step::Unstage(index) => {
            if let Some(item) = app.staged.remove(index) {
                app.info(format!("{} {} taken off the queue", item.intent.verb(), item.key.id));
            }
            let len = app.staged.len();
            match &mut app.modal {
                Some(Modal::Queue(view)) if len > 0 => {
                    view.len = len;
                    view.cursor = view.cursor.min(len - 1);
                }
                _ => app.modal = None,
            }
        }
        Step::WritePlan(parts) => {
            // The queue view asks for the queue's plan; a confirmation gives its own.
            let parts = if parts.is_empty() { app.queue_parts() } else { parts };
            app.modal = None;
            return write_plan(app, parts);
        }
        Step::ConfirmQueue => {
            app.modal = None;
            open_queue_confirm(app);
        }
        Step::Quit => {
            app.modal = None;
            return vec![Effect::Cancel, Effect::Quit];
        }
    }
    Vec::new()
}

fn on_filter_key(app: &mut App, key: &KeyEvent) {
    let Some(text) = app.filter_input.as_mut() else {
        return;
    };
    match FILTER_KEYS.lookup(key) {
        Some(InputCommand::Accept) => {
            app.filter_input = None;
            return;
        }
        Some(InputCommand::Abort) => {
            app.filter_input = None;
            app.tab_mut().set_filter("");
            return;
        }
        _ => {
            let mut no_error = None;
            if !super::modal::edit_line(key, text, &mut no_error) {
                return;
            }
        }
    }
    let t = text.clone();
    app.tab_mut().set_filter(&t);
}

/// Keys while the log pane has focus. Table actions do not act on the hidden highlight.
fn on_log_key(app: &mut App, key: &KeyEvent) -> Vec<Effect> {
    let rows = app.log_rows.get().max(1);
    let len = app.log.len();
    let by = |s: usize, d: isize| scroll::by(s, d, len, rows);
    match LOG_KEYS.lookup(key) {
        Some(LogCommand::Older) => app.log_scroll = by(app.log_scroll, 1),
        Some(LogCommand::Newer) => app.log_scroll = by(app.log_scroll, -1),
        Some(LogCommand::PageOlder) => app.log_scroll = by(app.log_scroll, rows as isize),
        Some(LogCommand::PageNewer) => app.log_scroll = by(app.log_scroll, -(rows as isize)),
        Some(LogCommand::Oldest) => app.log_scroll = scroll::max_offset(len, rows),
        Some(LogCommand::Newest) => app.log_scroll = 0,
        Some(LogCommand::Back) => app.focus = super::Focus::Table,
        Some(LogCommand::Cancel) => {}
        Some(LogCommand::Help) => app.open(Modal::Help(Help::new(&app.keys, app.options.read_only))),
        Some(LogCommand::Quit) => return quit(app),
        None => {
            if app.keys.lookup(key).is_some() {
                app.info("the log pane has focus: L or Esc goes back to the table");
            }
        }
    }
    Vec::new()
}

fn on_table_key(app: &mut App, key: &KeyEvent) -> Vec<Effect> {
    let page = app.page_rows.get().max(1) as isize;
    if let Some(nav) = NAV_KEYS.lookup(key) {
        let tab = app.tab_mut();
        match nav {
            Nav::Down => tab.move_cursor(1),
            Nav::Up => tab.move_cursor(-1),
            Nav::PageDown => tab.move_cursor(page),
            Nav::PageUp => tab.move_cursor(-page),
            Nav::Top => tab.cursor_to(0),
            Nav::Bottom => tab.cursor_to(usize::MAX),
        }
        return Vec::new();
    }
    let Some(command) = app.keys.lookup(key) else {
        return Vec::new();
    };
    let tabs = app.tabs.len();
    match command {
        Command::Quit => return quit(app),
        Command::Help => app.open(Modal::Help(Help::new(&app.keys, app.options.read_only))),
        Command::NextTab => app.active = (app.active + 1) % tabs,
        Command::PrevTab => app.active = (app.active + tabs - 1) % tabs,
        Command::GoToTab => {
            if let KeyCode::Char(c) = key.code {
                let i = (c as usize).saturating_sub('1' as usize);
                if i < tabs {
                    app.active = i;
                }
            }
        }
        Command::Filter => app.filter_input = Some(app.tab().filter().to_string()),
        Command::CommandLine => app.command_line = Some(Default::default()),
        Command::SortNext => app.tab_mut().cycle_sort(),
        Command::SortReverse => app.tab_mut().reverse_sort(),
        Command::Toggle => {
            app.tab_mut().toggle_highlighted();
            app.tab_mut().move_cursor(1);
        }
        Command::SelectAll => app.tab_mut().select_all_visible(),
        Command::ClearSelection => app.tab_mut().clear_selection(),
        Command::Back => {
            if app.tab().selected_count() > 0 {
                app.tab_mut().clear_selection();
            } else {
                app.tab_mut().set_filter("");
            }
        }
        Command::FocusLog => app.focus = Focus::Log,
        Command::History => return vec![Effect::LoadHistory],
        Command::Failures => open_failures(app),
        // A run is cancelled above, before any table key; with none there is nothing to do.
        Command::Cancel => {}
        Command::Reload => {
            if app.is_running() {
                app.error(RUN_BUSY);
            } else {
                return app.load_all();
            }
        }
        Command::ReenableLeftDisabled => begin_reenable(app),
        Command::Redraw => return vec![Effect::Redraw],
        Command::Suspend => return vec![Effect::Suspend],
        Command::Delete => begin_plain(app, Intent::Delete),
        Command::Enable => begin_plain(app, Intent::Enable),
        Command::Disable => begin_plain(app, Intent::Disable),
        Command::Rotate => return begin_rotate(app),
        Command::Rename => begin_rename(app),
        Command::Stage => {
            if app.options.read_only {
                app.error(READ_ONLY);
            } else {
                app.open(Modal::Stage(StageChooser));
            }
        }
        Command::Queue => open_queue(app),
        Command::WritePlan => {
            if app.staged.is_empty() {
                app.info("the queue is empty: + adds the selection's intent, w then writes the queue's plan (in a confirmation, w writes the plan shown)");
            } else {
                return write_plan(app, app.queue_parts());
            }
        }
        Command::CopyId => return copy_highlighted_id(app),
        Command::CopyIds => return copy_selected_ids(app),
    }
    Vec::new()
}

/// The one confirmation of the whole queue: every part's calls, grouped by provider and
/// region with their warnings, behind one typed count.
fn open_queue_confirm(app: &mut App) {
    if app.options.read_only {
        app.error(READ_ONLY);
        return;
    }
    let parts = app.queue_parts();
    if parts.iter().all(|(_, p)| p.calls.is_empty()) {
        app.error("nothing to run: the queue's keys are gone or none can take its intents");
        return;
    }
    let staged = app.staged.len();
    let mut confirm = Confirm::of_parts(parts, staged, 0, app.options.dry_run);
    confirm.from_queue = true;
    app.open(Modal::Confirm(confirm));
}

/// `Q`: the queue view, or why there is nothing to show.
fn open_queue(app: &mut App) {
    if app.staged.is_empty() {
        app.info("the queue is empty: select keys in any tab, then + adds them with an intent");
        return;
    }
    let len = app.staged.len();
    app.open(Modal::Queue(QueueView { cursor: 0, len }));
}

/// `+` then an action key: stage the selection (or highlighted row) of the active tab.
fn stage(app: &mut App, intent: Intent) {
    let Some((targets, _)) = mutating_targets(app, &intent) else {
        return;
    };
    let named: Vec<(ItemKey, String)> = app
        .tab()
        .items_for(&targets)
        .into_iter()
        .map(|r| (r.key.clone(), r.name.to_string()))
        .collect();
    let added = app.staged.add(&intent, named);
    let total = app.staged.len();
    app.tab_mut().clear_selection();
    app.info(format!(
        "queued {} {} ({added} new); the queue holds {total} key(s): Q reviews it, w writes its plan",
        targets.len(),
        intent.verb()
    ));
}

/// The effect that writes `parts` as one plan file, with the items they name.
fn write_plan(app: &mut App, parts: Vec<(Intent, Plan)>) -> Vec<Effect> {
    if parts.iter().all(|(_, p)| p.calls.is_empty()) {
        app.error("nothing to write: the plan sends no call");
        return Vec::new();
    }
    let keys: Vec<ItemKey> = parts.iter().flat_map(|(_, p)| p.item_keys()).collect();
    let items = app.rows_for(&keys).into_iter().map(|r| r.item.clone()).collect();
    let filter = app.tab().filter().to_string();
    vec![Effect::WritePlan { parts, items, filter }]
}

/// `y`: the highlighted row's id on the clipboard. Ids only: a row holds no secret.
fn copy_highlighted_id(app: &mut App) -> Vec<Effect> {
    let Some(row) = app.tab().highlighted() else {
        app.error("nothing to copy: no row is highlighted");
        return Vec::new();
    };
    let id = row.item.key.id.to_string();
    vec![Effect::CopyText {
        what: format!("id {id}"),
        text: id,
    }]
}

/// `Y`: the selection's ids, one a line, in table order.
fn copy_selected_ids(app: &mut App) -> Vec<Effect> {
    let ids: Vec<String> = app
        .tab()
        .selected_items()
        .iter()
        .map(|r| r.item.key.id.to_string())
        .collect();
    if ids.is_empty() {
        let y = app.keys.key_for(Command::CopyId);
        app.error(format!(
            "nothing to copy: no row is selected (Space selects; {y} copies the highlighted id)"
        ));
        return Vec::new();
    }
    let what = format!("{} id{}", ids.len(), if ids.len() == 1 { "" } else { "s" });
    vec![Effect::CopyText {
        text: ids.join("\n"),
        what,
    }]
}

/// `f`: the active tab's failed sources by error code, or why there is nothing to show.
fn open_failures(app: &mut App) {
    let kind = app.tab().kind;
    if app.sources.counts(kind).failed == 0 {
        app.info(format!("no {kind} source failed to list"));
        return;
    }
    app.open(Modal::Failures(super::modal::Failures::new(kind)));
}

fn quit(app: &mut App) -> Vec<Effect> {
    if app.is_running() {
        app.open(Modal::QuitDuringRun(QuitDuringRun));
        Vec::new()
    } else {
        vec![Effect::Quit]
    }
}

/// Checks shared by every mutating key; returns the targets or None after a message.
fn mutating_targets(app: &mut App, intent: &Intent) -> Option<(Vec<ItemKey>, usize)> {
    if app.options.read_only {
        app.error(READ_ONLY);
        return None;
    }
    if app.is_running() {
        app.error(RUN_BUSY);
        return None;
    }
    let kind = app.tab().kind;
    if !capabilities(kind).supports(intent.operation()) {
        // Every verb ends in "e": "delete" -> "deleted", "rename" -> "renamed".
        app.error(format!("{} cannot be {}d", kind.title(), intent.verb()));
        return None;
    }
    let (targets, hidden) = app.tab().targets();
    if targets.is_empty() {
        let why = if app.tab().is_empty() {
            "the table is empty"
        } else {
            "no row matches the filter (Esc clears it)"
        };
        app.error(format!("nothing to act on: {why}"));
        return None;
    }
    Some((targets, hidden))
}

fn begin_plain(app: &mut App, intent: Intent) {
    if let Some((targets, hidden)) = mutating_targets(app, &intent) {
        open_confirm(app, intent, &targets, hidden);
    }
}

/// `E` after a run that left keys disabled: plan enabling exactly those again.
fn begin_reenable(app: &mut App) {
    let Some(keys) = app.left_disabled.clone().filter(|k| !k.is_empty()) else {
        app.info("no key was left disabled by the last run");
        return;
    };
    if app.options.read_only || app.is_running() {
        app.error(if app.options.read_only { READ_ONLY } else { RUN_BUSY });
        return;
    }
    // The keys live in their own tab, whichever tab is open now.
    if let Some(i) = app.tabs.iter().position(|t| t.kind == keys[0].scope.kind) {
        app.active = i;
    }
    open_confirm(app, Intent::Enable, &keys, 0);
}

/// Build the plan and show it with the confirmation gate (or say why there is nothing to do).
fn open_confirm(app: &mut App, intent: Intent, targets: &[ItemKey], hidden: usize) {
    let plan = app.plan_for(targets, &intent);
    if plan.calls.is_empty() {
        let why = plan
            .skipped
            .first()
            .map(|(_, reason)| format!(": {reason}"))
            .unwrap_or_default();
        app.error(format!(
            "nothing to {}: {} item(s) skipped{why}",
            intent.verb(),
            plan.skipped.len().max(targets.len())
        ));
        app.modal = None;
        return;
    }
    let dry_run = app.options.dry_run;
    app.open(Modal::Confirm(Confirm::new(
        intent,
        plan,
        targets.len(),
        hidden,
        dry_run,
    )));
}

fn begin_rotate(app: &mut App) -> Vec<Effect> {
    let Some((targets, hidden)) = mutating_targets(app, &Intent::Rotate { custom: None }) else {
        return Vec::new();
    };
    if capabilities(app.tab().kind).staged_rotation {
        return begin_staged_rotation(app, &targets, hidden);
    }
    app.open(Modal::RotateChoice(RotateChoice {
        targets,
        hidden,
        error: None,
    }));
    Vec::new()
}

/// `r` on a key whose rotation is staged (CAM): each press takes the highlighted key's
/// rotation one step further, each step through its own confirmation. No rotation yet:
/// create the new key. New key created: disable the old one. Old one disabled: delete it.
/// Pressed on either key of a rotation, it acts on that rotation's old key.
fn begin_staged_rotation(app: &mut App, targets: &[ItemKey], hidden: usize) -> Vec<Effect> {
    use crate::rotation::Stage;
    let [target] = targets else {
        app.error(format!(
            "a staged rotation acts on one key; {} are selected (A clears the selection)",
            targets.len()
        ));
        return Vec::new();
    };
    let Some(rotation) = app.rotation_of(target).cloned() else {
        open_confirm(app, Intent::Rotate { custom: None }, targets, hidden);
        return Vec::new();
    };
    let listed = |app: &App, id: &str| !app.tab().items_for(&[target.scope.key(id)]).is_empty();
    if !listed(app, &rotation.old_key) {
        app.error(format!(
            "the rotation's old key {} is no longer listed: reload (R); if it is gone, the rotation is done",
            rotation.old_key
        ));
        return Vec::new();
    }
    // Disabling the old key with its replacement gone would leave the owner without a key.
    if !listed(app, &rotation.new_key) {
        app.rotations.retain(|r| r != &rotation);
        app.error(format!(
            "the rotation's new key {} is gone, so {} stays as it is and the rotation is dropped; \
             start again with a new key",
            rotation.new_key, rotation.old_key
        ));
        return vec![Effect::SaveRotations(app.rotations.clone())];
    }
    let intent = match rotation.stage {
        Stage::NewKeyCreated => Intent::Disable,
        Stage::OldKeyDisabled => Intent::Delete,
    };
    open_confirm(app, intent, &[target.scope.key(rotation.old_key.as_str())], 0);
    Vec::new()
}

fn begin_rename(app: &mut App) {
    let intent = Intent::Rename { name: String::new() };
    let Some((targets, _)) = mutating_targets(app, &intent) else {
        return;
    };
    let [target] = targets.as_slice() else {
        app.error(format!(
            "rename acts on one item; {} are selected (A clears the selection)",
            targets.len()
        ));
        return;
    };
    let current = app
        .tab()
        .items_for(std::slice::from_ref(target))
        .first()
        .map(|i| i.name.to_string())
        .unwrap_or_default();
    app.open(Modal::Rename(LineEntry::rename(target.clone(), current)));
}

/// The only place an `Execute` effect is made.
fn execute(app: &mut App, confirm: Confirm) -> Vec<Effect> {
    // Checked again here, not only when the key was pressed: read-only must hold on every path.
    if app.options.read_only {
        app.error(READ_ONLY);
        return Vec::new();
    }
    if app.is_running() {
        app.error(RUN_BUSY);
        return Vec::new();
    }
    let dry_run = app.options.dry_run;
    let verb = confirm.verb();
    if confirm.from_queue {
        app.staged.clear();
    }
    app.run = Some(RunState::new(verb, &confirm.plan, dry_run));
    app.last_run = None;
    app.left_disabled = None;
    app.set_flash(Flash::info(format!(
        "{}{verb}: {} call(s) for {} item(s) queued",
        if dry_run { "DRY RUN " } else { "" },
        confirm.plan.calls.len(),
        confirm.plan.item_count()
    )));
    let mut plan = confirm.plan;
    // Taken now, not when the plan was shown: a listing may have arrived meanwhile.
    plan.listed = app.listed_for(&plan);
    vec![Effect::Execute { plan, dry_run }]
}
