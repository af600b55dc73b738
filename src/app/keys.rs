//! Key handling: which key does what in each mode. Part of `update`, so pure.

use super::modal::{
    Button, Confirm, LineInput, Modal, RenameEntry, RotateChoice, SecretEntry, plan_view, validate_custom_secret,
    validate_key_pair_name,
};
use super::run::RunState;
use super::{App, Effect, Focus};
use crate::inventory::{ItemKey, ProviderKind};
use crate::queue::Intent;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

pub const READ_ONLY: &str = "read-only mode: action disabled";
const RUN_BUSY: &str = "a run is in progress: wait for it to finish or press c to cancel it";

pub fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return Vec::new();
    }
    let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
    if ctrl_c {
        return on_ctrl_c(app);
    }
    // No other Ctrl/Alt chord is bound: Ctrl-D must not act like `d`.
    if key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) {
        return Vec::new();
    }
    if app.modal.is_some() {
        return on_modal_key(app, key);
    }
    if app.filter_input.is_some() {
        on_filter_key(app, key);
        return Vec::new();
    }
    if app.focus == Focus::Log && on_log_key(app, key) {
        return Vec::new();
    }
    on_table_key(app, key)
}

/// Ctrl-C: cancel a run, else close a dialog, else quit.
fn on_ctrl_c(app: &mut App) -> Vec<Effect> {
    if let Some(run) = &mut app.run {
        if !run.cancelling {
            run.cancelling = true;
            app.info("cancelling: calls not yet sent will not be sent");
            return vec![Effect::Cancel];
        }
        return Vec::new();
    }
    if app.modal.take().is_some() {
        return Vec::new();
    }
    app.quit = true;
    vec![Effect::Quit]
}

fn on_filter_key(app: &mut App, key: KeyEvent) {
    let Some(text) = app.filter_input.as_mut() else {
        return;
    };
    match key.code {
        KeyCode::Enter => {
            app.filter_input = None;
        }
        KeyCode::Esc => {
            app.filter_input = None;
            app.tab_mut().set_filter("");
        }
        KeyCode::Backspace => {
            text.pop();
            let t = text.clone();
            app.tab_mut().set_filter(&t);
        }
        KeyCode::Char(c) => {
            text.push(c);
            let t = text.clone();
            app.tab_mut().set_filter(&t);
        }
        _ => {}
    }
}

/// Scroll keys while the log pane has focus. Returns false for keys it does not handle.
fn on_log_key(app: &mut App, key: KeyEvent) -> bool {
    let page = app.page_rows.get().max(1);
    let max = app.log.len().saturating_sub(1);
    match key.code {
        KeyCode::Char('k') | KeyCode::Up => app.log_scroll = (app.log_scroll + 1).min(max),
        KeyCode::Char('j') | KeyCode::Down => app.log_scroll = app.log_scroll.saturating_sub(1),
        KeyCode::PageUp => app.log_scroll = (app.log_scroll + page).min(max),
        KeyCode::PageDown => app.log_scroll = app.log_scroll.saturating_sub(page),
        KeyCode::Char('g') | KeyCode::Home => app.log_scroll = max,
        KeyCode::Char('G') | KeyCode::End => app.log_scroll = 0,
        KeyCode::Char('L') | KeyCode::Esc => app.focus = Focus::Table,
        _ => return false,
    }
    true
}

fn on_table_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let page = app.page_rows.get().max(1) as isize;
    match key.code {
        KeyCode::Char('q') => return quit(app),
        KeyCode::Char('?') => app.modal = Some(Modal::Help),
        KeyCode::Tab => app.active = (app.active + 1) % app.tabs.len(),
        KeyCode::BackTab => app.active = (app.active + app.tabs.len() - 1) % app.tabs.len(),
        KeyCode::Char(c @ '1'..='9') => {
            let i = c as usize - '1' as usize;
            if i < app.tabs.len() {
                app.active = i;
            }
        }
        KeyCode::Char('j') | KeyCode::Down => app.tab_mut().move_cursor(1),
        KeyCode::Char('k') | KeyCode::Up => app.tab_mut().move_cursor(-1),
        KeyCode::PageDown => app.tab_mut().move_cursor(page),
        KeyCode::PageUp => app.tab_mut().move_cursor(-page),
        KeyCode::Char('g') | KeyCode::Home => app.tab_mut().cursor_to(0),
        KeyCode::Char('G') | KeyCode::End => app.tab_mut().cursor_to(usize::MAX),
        KeyCode::Char('/') => app.filter_input = Some(app.tab().filter().to_string()),
        KeyCode::Char('s') => app.tab_mut().cycle_sort(),
        KeyCode::Char('S') => app.tab_mut().reverse_sort(),
        KeyCode::Char(' ') => {
            app.tab_mut().toggle_highlighted();
            app.tab_mut().move_cursor(1);
        }
        KeyCode::Char('a') => app.tab_mut().select_all_visible(),
        KeyCode::Char('A') => app.tab_mut().clear_selection(),
        KeyCode::Esc => {
            if app.tab().selected_count() > 0 {
                app.tab_mut().clear_selection();
            } else {
                app.tab_mut().set_filter("");
            }
        }
        KeyCode::Char('L') => app.focus = Focus::Log,
        KeyCode::Char('H') => return vec![Effect::LoadHistory],
        KeyCode::Char('c') => {
            if let Some(run) = &mut app.run {
                if !run.cancelling {
                    run.cancelling = true;
                    app.info("cancelling: calls not yet sent will not be sent");
                    return vec![Effect::Cancel];
                }
            }
        }
        KeyCode::Char('R') => {
            if app.is_running() {
                app.error(RUN_BUSY);
            } else {
                return app.load_all();
            }
        }
        KeyCode::Char('d') => return begin_plain(app, Intent::Delete),
        KeyCode::Char('e') => return begin_plain(app, Intent::Enable),
        KeyCode::Char('x') => return begin_plain(app, Intent::Disable),
        KeyCode::Char('r') => begin_rotate(app),
        KeyCode::Char('n') => begin_rename(app),
        _ => {}
    }
    Vec::new()
}

fn quit(app: &mut App) -> Vec<Effect> {
    if app.is_running() {
        app.modal = Some(Modal::QuitDuringRun);
        Vec::new()
    } else {
        app.quit = true;
        vec![Effect::Quit]
    }
}

/// Checks shared by every mutating key; returns the targets or None after a flash.
fn mutating_targets(app: &mut App) -> Option<(Vec<ItemKey>, usize)> {
    if app.options.read_only {
        app.error(READ_ONLY);
        return None;
    }
    if app.is_running() {
        app.error(RUN_BUSY);
        return None;
    }
    let (targets, hidden) = app.tab().targets();
    if targets.is_empty() {
        app.error("nothing to act on: the table is empty (select rows with Space, or move to one)");
        return None;
    }
    Some((targets, hidden))
}

fn begin_plain(app: &mut App, intent: Intent) -> Vec<Effect> {
    if let Some((targets, hidden)) = mutating_targets(app) {
        open_confirm(app, intent, &targets, hidden);
    }
    Vec::new()
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
    let expected = intent
        .is_destructive()
        .then(|| format!("{} {}", intent.verb(), plan.item_count()));
    app.modal = Some(Modal::Confirm(Confirm {
        intent,
        lines: plan_view(&plan),
        plan,
        targets: targets.len(),
        hidden,
        expected,
        typed: String::new(),
        focus: Button::Cancel,
        error: None,
        scroll: 0,
    }));
}

fn begin_rotate(app: &mut App) {
    let Some((targets, hidden)) = mutating_targets(app) else {
        return;
    };
    if app.tab().kind != ProviderKind::ApiGateway {
        app.error(format!(
            "{} cannot be rotated: only API Gateway keys have a secret to rotate",
            app.tab().kind.title()
        ));
        return;
    }
    {
        app.modal = Some(Modal::RotateChoice(RotateChoice {
            targets,
            hidden,
            error: None,
        }));
    }
}

fn begin_rename(app: &mut App) {
    let Some((targets, _)) = mutating_targets(app) else {
        return;
    };
    if app.tab().kind != ProviderKind::Cvm {
        app.error(format!(
            "{} cannot be renamed: only CVM key pairs have a name to change",
            app.tab().kind.title()
        ));
        return;
    }
    let [target] = targets.as_slice() else {
        app.error(format!(
            "rename acts on one key pair; {} are selected (A clears the selection)",
            targets.len()
        ));
        return;
    };
    let current = app
        .tab()
        .items_for(std::slice::from_ref(target))
        .first()
        .map(|i| i.name.to_string());
    app.modal = Some(Modal::Rename(RenameEntry {
        target: target.clone(),
        input: current.unwrap_or_default(),
        error: None,
    }));
}

fn on_modal_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(modal) = app.modal.take() else {
        return Vec::new();
    };
    match modal {
        Modal::Help => {
            // Any key closes help.
            Vec::new()
        }
        Modal::QuitDuringRun => match key.code {
            KeyCode::Char('y') => {
                app.quit = true;
                vec![Effect::Cancel, Effect::Quit]
            }
            KeyCode::Char('c') => {
                if let Some(run) = &mut app.run {
                    run.cancelling = true;
                }
                app.info("cancelling: calls not yet sent will not be sent");
                vec![Effect::Cancel]
            }
            _ => Vec::new(),
        },
        Modal::Confirm(confirm) => on_confirm_key(app, confirm, key),
        Modal::History(mut history) => {
            let page = app.page_rows.get().max(1) as isize;
            match key.code {
                KeyCode::Esc | KeyCode::Char('H' | 'q') => return Vec::new(),
                KeyCode::Char('j') | KeyCode::Down => history.scroll_by(1),
                KeyCode::Char('k') | KeyCode::Up => history.scroll_by(-1),
                KeyCode::PageDown => history.scroll_by(page),
                KeyCode::PageUp => history.scroll_by(-page),
                KeyCode::Char('g') | KeyCode::Home => history.scroll = 0,
                KeyCode::Char('G') | KeyCode::End => history.scroll_by(isize::MAX),
                _ => {}
            }
            app.modal = Some(Modal::History(history));
            Vec::new()
        }
        Modal::RotateChoice(mut choice) => {
            match key.code {
                KeyCode::Char('a') => {
                    open_confirm(app, Intent::Rotate { custom: None }, &choice.targets, choice.hidden);
                }
                KeyCode::Char('c') => {
                    if let [target] = choice.targets.as_slice() {
                        app.modal = Some(Modal::SecretEntry(SecretEntry {
                            target: target.clone(),
                            input: Default::default(),
                            error: None,
                        }));
                    } else {
                        choice.error = Some(format!(
                            "a custom secret is set on one key at a time; {} are selected",
                            choice.targets.len()
                        ));
                        app.modal = Some(Modal::RotateChoice(choice));
                    }
                }
                KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') => app.info("rotation cancelled"),
                _ => app.modal = Some(Modal::RotateChoice(choice)),
            }
            Vec::new()
        }
        Modal::SecretEntry(mut entry) => {
            match key.code {
                KeyCode::Esc => app.info("rotation cancelled"),
                KeyCode::Enter => match validate_custom_secret(&entry.input) {
                    Ok(()) => {
                        let intent = Intent::Rotate {
                            custom: Some(entry.input.to_secret()),
                        };
                        open_confirm(app, intent, std::slice::from_ref(&entry.target), 0);
                    }
                    Err(e) => {
                        entry.error = Some(e);
                        app.modal = Some(Modal::SecretEntry(entry));
                    }
                },
                code => {
                    edit_line(code, &mut entry.input, &mut entry.error);
                    app.modal = Some(Modal::SecretEntry(entry));
                }
            }
            Vec::new()
        }
        Modal::Rename(mut entry) => {
            match key.code {
                KeyCode::Esc => app.info("rename cancelled"),
                KeyCode::Enter => match validate_key_pair_name(&entry.input) {
                    Ok(()) => {
                        let intent = Intent::Rename {
                            name: entry.input.clone(),
                            description: None,
                        };
                        open_confirm(app, intent, std::slice::from_ref(&entry.target), 0);
                    }
                    Err(e) => {
                        entry.error = Some(e);
                        app.modal = Some(Modal::Rename(entry));
                    }
                },
                code => {
                    edit_line(code, &mut entry.input, &mut entry.error);
                    app.modal = Some(Modal::Rename(entry));
                }
            }
            Vec::new()
        }
        Modal::RotationResult(mut result) => {
            match key.code {
                KeyCode::Char('v') => result.revealed = !result.revealed,
                KeyCode::Char('c') => {
                    if let Some(r) = result.secrets.get(result.cursor) {
                        let effect = Effect::CopyToClipboard(r.secret.clone());
                        app.info(format!("new secret of {} copied to the clipboard (OSC 52)", r.key.id));
                        app.modal = Some(Modal::RotationResult(result));
                        return vec![effect];
                    }
                }
                KeyCode::Char('j') | KeyCode::Down => {
                    result.cursor = (result.cursor + 1).min(result.secrets.len().saturating_sub(1))
                }
                KeyCode::Char('k') | KeyCode::Up => result.cursor = result.cursor.saturating_sub(1),
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => {
                    // Dropping the dialog drops the secrets: they are never shown again.
                    app.info("rotation dialog closed; the new secret is no longer held by keyward");
                    return Vec::new();
                }
                _ => {}
            }
            app.modal = Some(Modal::RotationResult(result));
            Vec::new()
        }
    }
}

fn on_confirm_key(app: &mut App, mut confirm: Confirm, key: KeyEvent) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            app.info(format!("{} cancelled: nothing was sent", confirm.intent.verb()));
            return Vec::new();
        }
        KeyCode::Up => confirm.scroll = confirm.scroll.saturating_sub(1),
        KeyCode::Down => confirm.scroll = (confirm.scroll + 1).min(confirm.lines.len()),
        KeyCode::PageUp => confirm.scroll = confirm.scroll.saturating_sub(10),
        KeyCode::PageDown => confirm.scroll = (confirm.scroll + 10).min(confirm.lines.len()),
        _ => {
            if confirm.expected.is_some() {
                return on_typed_confirm_key(app, confirm, key);
            }
            match key.code {
                KeyCode::Char('y') => return execute(app, confirm),
                KeyCode::Char('n') => {
                    app.info(format!("{} cancelled: nothing was sent", confirm.intent.verb()));
                    return Vec::new();
                }
                KeyCode::Tab | KeyCode::BackTab | KeyCode::Left | KeyCode::Right | KeyCode::Char('h' | 'l') => {
                    confirm.focus = match confirm.focus {
                        Button::Cancel => Button::Confirm,
                        Button::Confirm => Button::Cancel,
                    }
                }
                KeyCode::Enter => {
                    if confirm.focus == Button::Confirm {
                        return execute(app, confirm);
                    }
                    app.info(format!("{} cancelled: nothing was sent", confirm.intent.verb()));
                    return Vec::new();
                }
                _ => {}
            }
        }
    }
    app.modal = Some(Modal::Confirm(confirm));
    Vec::new()
}

/// Destructive plans: the operator types e.g. `delete 37`, then Enter.
fn on_typed_confirm_key(app: &mut App, mut confirm: Confirm, key: KeyEvent) -> Vec<Effect> {
    let expected = confirm.expected.clone().unwrap_or_default();
    match key.code {
        KeyCode::Char(c) => {
            confirm.typed.push(c);
            confirm.error = None;
        }
        KeyCode::Backspace => {
            confirm.typed.pop();
            confirm.error = None;
        }
        KeyCode::Enter => {
            if confirm.typed == expected {
                return execute(app, confirm);
            }
            confirm.error = Some(format!("type `{expected}` exactly to confirm, or Esc to cancel"));
        }
        _ => {}
    }
    app.modal = Some(Modal::Confirm(confirm));
    Vec::new()
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
    let verb = confirm.intent.verb();
    app.run = Some(RunState::new(verb, &confirm.plan, dry_run));
    app.info(format!(
        "{}{verb}: {} call(s) for {} item(s) queued",
        if dry_run { "DRY RUN " } else { "" },
        confirm.plan.calls.len(),
        confirm.plan.item_count()
    ));
    vec![Effect::Execute {
        plan: confirm.plan,
        dry_run,
    }]
}

/// Typing and Backspace in a one-line input; any edit clears the last validation error.
fn edit_line(code: KeyCode, input: &mut impl LineInput, error: &mut Option<String>) {
    match code {
        KeyCode::Backspace => input.pop_char(),
        KeyCode::Char(c) => input.push_char(c),
        _ => return,
    }
    *error = None;
}
