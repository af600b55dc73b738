//! App state and `update(app, msg) -> effects`: pure, no IO.
//!
//! Every input (a key, a provider listing, an executor event, a tick) arrives as a
//! `Msg`; `update` changes the state and returns the `Effect`s the runtime (tui.rs)
//! must carry out as tasks. Rendering (ui/) only reads the state.

pub mod command_line;
pub mod history;
pub mod keymap;
mod keys;
pub mod modal;
pub mod mouse;
pub mod run;
pub mod scope;
pub mod scroll;
pub mod sources;
pub mod staged;
pub mod table;

use crate::inventory::{Item, ItemKey, ProviderKind, Row, Scope};
use crate::providers::ProviderError;
use crate::queue::{ExecEvent, Intent, LogEntry, Plan};
use crate::secret::Secret;
use crossterm::event::KeyEvent;
use modal::{Modal, RotatedSecret, RotationResult};
use run::{RunState, RunSummary};
pub use sources::{LoadState, Source, SourceCounts, Sources};
use std::collections::{HashMap, HashSet};
use std::time::Instant;
use table::TabState;

/// Everything that can happen to the app.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// A mouse event (only when `[settings] mouse` is on: the terminal captures it).
    Mouse(crossterm::event::MouseEvent),
    /// Text pasted into the terminal (bracketed paste): text, never commands.
    Paste(String),
    /// SIGTERM, SIGINT or SIGHUP: stop sending, record the run's end and exit.
    Signal(&'static str),
    /// The new secrets were written to this file (`w` in the new-secret dialog), or why not.
    SecretsWritten(Result<std::path::PathBuf, String>),
    /// A plan file was written (`w`): its path and the `--confirm` token, or why not.
    PlanWritten(Result<(std::path::PathBuf, String), String>),
    /// Listing of the source serving `scope` finished.
    Loaded {
        scope: Scope,
        result: Result<Vec<Item>, ProviderError>,
    },
    Exec(ExecEvent),
    /// The executor task ended without `Finished` (it panicked): the run is over.
    ExecAborted(String),
    /// The audit log was read for the `H` overlay (newest first), or why it could not be.
    History(Result<history::HistoryPage, String>),
    /// The interrupted calls of an earlier run were re-read (`Effect::Reconcile`), or why not.
    Reconciled(Result<crate::audit::reconcile::Report, String>),
    Tick,
    Resize(u16, u16),
}

/// Work for the runtime. `update` never does IO itself.
#[derive(Debug, PartialEq)]
pub enum Effect {
    /// List the provider serving `scope` (one of `App::sources`).
    Load {
        scope: Scope,
    },
    /// Run a confirmed plan.
    Execute {
        plan: Plan,
        dry_run: bool,
    },
    /// Stop the running plan; what is not sent yet stays unsent.
    Cancel,
    /// Put a secret on the clipboard with OSC 52; `what` names it in the status line.
    CopyToClipboard {
        secret: Secret,
        what: String,
    },
    /// Put plain text (ids, never a secret) on the clipboard with OSC 52; `what` names it
    /// in the status line ("3 ids").
    CopyText {
        text: String,
        what: String,
    },
    /// Write the run's new secrets to a new private file; answered by `Msg::SecretsWritten`.
    WriteSecrets(Vec<RotatedSecret>),
    /// Write these plans (one per intent) over these items as one reviewed plan file
    /// (`keyward apply` runs it); answered by `Msg::PlanWritten`.
    WritePlan {
        parts: Vec<(Intent, Plan)>,
        items: Vec<Item>,
        /// The filter the rows were chosen with, recorded in the file.
        filter: String,
    },
    /// Ctrl-L: clear and redraw the whole screen.
    Redraw,
    /// Ctrl-Z: restore the terminal, stop the process, take the terminal again on resume.
    Suspend,
    /// Read the audit log for the history overlay; answered by `Msg::History`.
    LoadHistory,
    /// Re-read the items of calls an earlier keyward left without an outcome and record
    /// what was found; answered by `Msg::Reconciled`. Nothing is re-sent.
    Reconcile,
    /// Replace the staged rotations kept beside the audit log with these.
    SaveRotations(Vec<crate::rotation::Rotation>),
    Quit,
}

#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    pub read_only: bool,
    pub dry_run: bool,
    /// Shown in the header, e.g. "demo (emulator at http://127.0.0.1:PORT)".
    pub title: String,
    /// The config's `[[protect]]` entries: every plan the app builds skips those keys.
    pub protect: crate::queue::Protect,
    /// What the findings judge keys by (`[settings]`).
    pub thresholds: crate::findings::Thresholds,
    /// The main screen's keys `[keys]` rebinds.
    pub keys: keymap::Rebinds,
    /// Colours by role (`[theme]`, `NO_COLOR`); rendering reads them from here.
    pub theme: crate::ui::theme::Theme,
    /// `--account/--region/--provider`: only sources in it were given to the app.
    pub scope: scope::ScopeFilter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Table,
    Log,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashLevel {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub level: FlashLevel,
}

impl Flash {
    pub fn info(text: impl Into<String>) -> Self {
        Flash {
            text: text.into(),
            level: FlashLevel::Info,
        }
    }

    pub fn error(text: impl Into<String>) -> Self {
        Flash {
            text: text.into(),
            level: FlashLevel::Error,
        }
    }
}

/// Ticks an informational message stays (the runtime ticks every 250 ms). Errors and
/// the last run's summary stay until the next action.
const FLASH_TICKS: u32 = 24;

pub struct App {
    pub options: AppOptions,
    /// The main screen's key table, `[keys]` applied: the handler, the help and the footer
    /// all read this one.
    pub keys: keymap::KeyTable<keymap::Command>,
    /// Every configured source and how its listing went (read-only: states change through
    /// `Sources::set_state`, which keeps the per-kind counts the screen reads).
    pub sources: Sources,
    /// One per `ProviderKind::ALL`, in that order.
    pub tabs: Vec<TabState>,
    pub active: usize,
    pub focus: Focus,
    /// Some while the filter input has the keyboard.
    pub filter_input: Option<String>,
    /// Some while the `:` command line has the keyboard.
    pub command_line: Option<command_line::CommandLine>,
    /// The rows shown: `:account` / `:region` (starting as the command line's flags).
    pub scope: scope::ScopeFilter,
    pub modal: Option<Modal>,
    /// When the open dialog opened (keys that come too soon are ignored).
    pub modal_opened: Instant,
    /// When the previous key arrived (keys faster than a person types are a burst).
    pub last_key: Option<Instant>,
    /// The time of the message being handled; the runtime sets it before each `update`.
    pub now: Instant,
    /// The same moment as wall-clock time, for log lines `update` writes itself.
    pub wall_clock: chrono::DateTime<chrono::Utc>,
    pub run: Option<RunState>,
    /// The last run's summary, shown in the status line until the next action.
    pub last_run: Option<RunSummary>,
    /// Keys the last run disabled and did not delete (`E` plans enabling them again).
    pub left_disabled: Option<Vec<ItemKey>>,
    /// Ids the last run touched per (kind, account, region): its re-reads arrive after it ends.
    refreshing: HashMap<Scope, HashSet<String>>,
    /// Between a run's `Finished` and its `Settled`: its re-reads are still arriving.
    settling: bool,
    pub log: Vec<LogEntry>,
    /// Lines scrolled up from the newest entry; 0 follows the tail.
    pub log_scroll: usize,
    pub flash: Option<Flash>,
    flash_ticks: u32,
    /// Rows the table showed in the last frame (a render cache, for PgUp/PgDn).
    pub page_rows: std::cell::Cell<usize>,
    /// Lines the log pane showed in the last frame (a render cache, for its scrolling).
    pub log_rows: std::cell::Cell<usize>,
    /// Where the last frame drew the tabs, the table rows and the log (a render cache,
    /// for the mouse).
    pub hit_areas: std::cell::Cell<mouse::HitAreas>,
    /// How some sources are reached, said once per kind under the tabs (a region with no
    /// documented region host, served through the nearest-access host): distinct texts.
    pub notices: Vec<(ProviderKind, String)>,
    /// Staged rotations in progress (CAM), as kept beside the audit log.
    pub rotations: Vec<crate::rotation::Rotation>,
    /// The queue across tabs (`+` stages, `Q` reviews and runs it as one plan).
    pub staged: staged::Staged,
}

impl App {
    pub fn new(sources: Vec<Source>, options: AppOptions) -> Self {
        let now = Instant::now();
        // A key several regions list is one row, addressed through the first in config order.
        let order = crate::inventory::RegionOrder::new(sources.iter().map(|s| s.scope.clone()));
        let tabs = ProviderKind::ALL
            .iter()
            .map(|k| {
                let mut tab = TabState::new(*k);
                tab.set_region_order(order.clone());
                tab.set_thresholds(options.thresholds);
                tab
            })
            .collect();
        // The flags' provider opens on its tab; their account and region scope the rows too,
        // so the header says what is shown.
        let active = options
            .scope
            .kind
            .and_then(|k| ProviderKind::ALL.iter().position(|p| *p == k))
            .unwrap_or(0);
        let mut tabs: Vec<TabState> = tabs;
        if !options.scope.is_empty() {
            let rows = scope::ScopeFilter {
                kind: None,
                ..options.scope.clone()
            };
            for tab in &mut tabs {
                tab.set_scope(rows.clone());
            }
        }
        App {
            scope: options.scope.clone(),
            keys: options.keys.table(),
            options,
            sources: Sources::new(sources),
            tabs,
            active,
            focus: Focus::Table,
            filter_input: None,
            command_line: None,
            modal: None,
            modal_opened: now,
            last_key: None,
            now,
            wall_clock: chrono::DateTime::UNIX_EPOCH,
            run: None,
            last_run: None,
            left_disabled: None,
            refreshing: HashMap::new(),
            settling: false,
            log: Vec::new(),
            log_scroll: 0,
            flash: None,
            flash_ticks: 0,
            page_rows: std::cell::Cell::new(10),
            log_rows: std::cell::Cell::new(6),
            hit_areas: std::cell::Cell::default(),
            notices: Vec::new(),
            rotations: Vec::new(),
            staged: staged::Staged::default(),
        }
    }

    /// What a session starts with: every source listed, and the calls an interrupted
    /// earlier run left without an outcome reconciled.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut effects = self.load_all();
        effects.push(Effect::Reconcile);
        effects
    }

    /// Start listing every source.
    pub fn load_all(&mut self) -> Vec<Effect> {
        self.sources.set_all_loading();
        self.sources
            .iter()
            .map(|s| Effect::Load { scope: s.scope.clone() })
            .collect()
    }

    pub fn tab(&self) -> &TabState {
        &self.tabs[self.active]
    }

    pub fn tab_mut(&mut self) -> &mut TabState {
        &mut self.tabs[self.active]
    }

    pub fn tab_for(&mut self, kind: ProviderKind) -> &mut TabState {
        let i = ProviderKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
        &mut self.tabs[i]
    }

    pub fn is_running(&self) -> bool {
        self.run.is_some()
    }

    /// Whether typed characters are text right now (the filter, or a dialog's input), so
    /// a run is cancelled with Ctrl-C instead of `c`.
    pub fn typing(&self) -> bool {
        self.filter_input.is_some()
            || self.command_line.is_some()
            || self.modal.as_ref().is_some_and(|m| m.as_dialog().takes_text())
    }

    /// A run finished and its re-reads came back: what the table shows is the result.
    pub fn run_settled(&self) -> bool {
        self.run.is_none() && !self.settling && self.last_run.is_some()
    }

    /// The staged rotation `key` is the old or the new key of, if any.
    pub fn rotation_of(&self, key: &ItemKey) -> Option<&crate::rotation::Rotation> {
        self.rotations
            .iter()
            .find(|r| r.account == key.scope.account.as_str() && (r.old_key == key.id || r.new_key == key.id))
    }

    /// Adds a setup note for the sources of `kind`, once however many sources share it.
    pub fn add_notice(&mut self, kind: ProviderKind, text: String) {
        if !self.notices.iter().any(|(k, t)| *k == kind && *t == text) {
            self.notices.push((kind, text));
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.set_flash(Flash::info(text));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.set_flash(Flash::error(text));
    }

    fn set_flash(&mut self, flash: Flash) {
        self.flash_ticks = if flash.level == FlashLevel::Info {
            FLASH_TICKS
        } else {
            0
        };
        self.flash = Some(flash);
    }

    /// Open a dialog now: the previous message goes (it was about something else), and
    /// keys are ignored for a moment (`modal::OPEN_GUARD`).
    pub fn open(&mut self, modal: Modal) {
        self.flash = None;
        self.last_run = None;
        self.modal = Some(modal);
        self.modal_opened = self.now;
    }

    /// Sources of one kind still loading, for the tab title.
    pub fn loading_count(&self, kind: ProviderKind) -> usize {
        self.sources.counts(kind).loading
    }

    /// Every item the tables hold in the scopes `plan` calls into, for `Plan::listed`: the
    /// executor's re-read after the run starts from them.
    /// A row several regions list counts as an item of each of them (with that region's
    /// scope), since each region's re-read starts from its own listing.
    fn listed_for(&self, plan: &Plan) -> Vec<Item> {
        let scopes: HashSet<&Scope> = plan.calls.iter().map(|c| &c.scope).collect();
        let mut out = Vec::new();
        for tab in self.tabs.iter().filter(|t| scopes.iter().any(|s| s.kind == t.kind)) {
            for row in tab.items() {
                let first = &row.item.key.scope;
                let regions = std::iter::once(first.region.clone()).chain(row.also_in.iter().cloned());
                for region in regions {
                    let scope = Scope::new(first.kind, first.account.clone(), region);
                    if scopes.contains(&scope) {
                        let mut item = row.item.clone();
                        item.key.scope = scope;
                        out.push(item);
                    }
                }
            }
        }
        out
    }

    fn plan_for(&self, keys: &[ItemKey], intent: &Intent) -> Plan {
        let items = self.tab().items_for(keys);
        crate::queue::build_plan(&items, intent, &self.options.protect)
    }

    /// Open the confirmation of a plan file's plan (`keyward --plan FILE`): the same gate
    /// as any plan, the items it will not send said above it.
    pub fn open_plan_file(&mut self, parts: Vec<(Intent, Plan)>, notes: Vec<String>) {
        if parts.iter().all(|(_, p)| p.calls.is_empty()) {
            let why = notes.first().cloned().unwrap_or_else(|| "it holds no call".into());
            self.error(format!("the plan file sends nothing: {why}"));
            return;
        }
        let items: usize = parts.iter().map(|(_, p)| p.item_count()).sum();
        let mut confirm = modal::Confirm::of_parts(parts, items, 0, self.options.dry_run);
        confirm.notes = notes;
        self.open(Modal::Confirm(confirm));
    }

    /// The rows of `keys`, from whichever tabs hold them.
    pub fn rows_for(&self, keys: &[ItemKey]) -> Vec<&Row> {
        self.tabs.iter().flat_map(|t| t.items_for(keys)).collect()
    }

    /// The queue's plan: one part per staged intent, each built by the one planner over
    /// the rows as they are now (a key no longer listed is left out).
    pub fn queue_parts(&self) -> Vec<(Intent, Plan)> {
        self.staged
            .by_intent()
            .into_iter()
            .map(|(intent, keys)| {
                let rows = self.rows_for(&keys);
                let plan = crate::queue::build_plan(&rows, &intent, &self.options.protect);
                (intent, plan)
            })
            .filter(|(_, plan)| !plan.calls.is_empty() || !plan.skipped.is_empty())
            .collect()
    }
}

/// The reducer. Pure: state in, state and effects out.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    // The filter's time terms and the findings count from the message's time.
    for tab in &mut app.tabs {
        tab.set_clock(app.wall_clock);
    }
    match msg {
        Msg::Key(key) => keys::on_key(app, key),
        Msg::Paste(text) => keys::on_paste(app, &text),
        Msg::Mouse(event) => {
            mouse::on_mouse(app, event);
            Vec::new()
        }
        Msg::Signal(name) => {
            if app.is_running() {
                app.info(format!("{name}: cancelling the run and quitting"));
                vec![Effect::Cancel, Effect::Quit]
            } else {
                vec![Effect::Quit]
            }
        }
        Msg::PlanWritten(result) => {
            match result {
                Ok((path, token)) => app.info(format!(
                    "plan written to {}; nothing was sent. Review it, then: keyward apply {} --confirm {token}",
                    path.display(),
                    path.display()
                )),
                Err(e) => app.error(format!("the plan file was not written: {e}")),
            }
            Vec::new()
        }
        Msg::SecretsWritten(result) => {
            match result {
                Ok(path) => {
                    if let Some(Modal::RotationResult(r)) = &mut app.modal {
                        r.mark_all_kept();
                    }
                    app.info(format!("new secrets written to {} (mode 600)", path.display()));
                }
                Err(why) => app.error(format!("the new secrets were not written: {why}")),
            }
            Vec::new()
        }
        Msg::Loaded { scope, result } => {
            on_loaded(app, scope, result);
            Vec::new()
        }
        Msg::Exec(event) => on_exec(app, event),
        Msg::ExecAborted(why) => {
            if app.run.take().is_some() {
                app.error(format!(
                    "{why}; the log pane shows what was done, R reloads the inventory"
                ));
            }
            Vec::new()
        }
        Msg::History(result) => {
            on_history(app, result);
            Vec::new()
        }
        Msg::Reconciled(result) => {
            on_reconciled(app, result);
            Vec::new()
        }
        Msg::Tick => {
            if app.flash_ticks > 0 {
                app.flash_ticks -= 1;
                if app.flash_ticks == 0 {
                    app.flash = None;
                }
            }
            Vec::new()
        }
        Msg::Resize(..) => Vec::new(),
    }
}

fn on_loaded(app: &mut App, scope: Scope, result: Result<Vec<Item>, ProviderError>) {
    let state = match &result {
        Ok(items) => LoadState::Loaded(items.len()),
        Err(err) => LoadState::Failed(err.clone()),
    };
    if !app.sources.set_state(&scope, state) {
        return;
    }
    match result {
        Ok(items) => {
            app.tab_for(scope.kind).replace_source(&scope, items);
        }
        Err(err) => {
            // Keep whatever this source showed before: a failed reload must not hide
            // data, but those rows are marked stale.
            app.tab_for(scope.kind).mark_stale(&scope);
            // The failure in full, with its fix, where it can be read and scrolled.
            app.log.push(LogEntry {
                time: app.wall_clock,
                hint: crate::hints::for_error(&err),
                scope,
                action: "list".into(),
                operation: None,
                target: "(all keys)".into(),
                name: None,
                outcome: crate::queue::Outcome::Failed {
                    code: err.code,
                    message: err.message,
                },
                request_id: err.request_id,
            });
        }
    }
}

fn on_history(app: &mut App, result: Result<history::HistoryPage, String>) {
    match result {
        // A dialog opened while the file was read keeps the keyboard; it may hold a
        // confirmation or a new secret that must not be pushed away.
        Ok(_) if app.modal.is_some() => app.info("history loaded while a dialog was open: press H again"),
        Ok(page) => app.modal = Some(Modal::History(history::History::from_page(page))),
        Err(why) => app.error(format!("cannot show the history: {why}")),
    }
}

/// What the reconciliation found goes to the log pane: each item, then one summary per
/// interrupted run and scope ("3 calls of the interrupted run at 14:02 reconciled: ...").
fn on_reconciled(app: &mut App, result: Result<crate::audit::reconcile::Report, String>) {
    let report = match result {
        Ok(report) => report,
        Err(why) => {
            app.error(format!("the calls of an interrupted run were not reconciled: {why}"));
            return;
        }
    };
    if report.other_keyward {
        app.info(crate::audit::reconcile::OTHER_KEYWARD);
    }
    for run in &report.runs {
        for (action, id, state, status) in &run.items {
            let found = match status {
                Some(status) => format!("{} ({status})", state.words()),
                None => state.words().to_string(),
            };
            let text = format!("{action} {id}: reconciled, {found}");
            app.log.push(LogEntry::note(app.wall_clock, run.scope.clone(), text));
        }
        app.log
            .push(LogEntry::note(app.wall_clock, run.scope.clone(), run.summary()));
    }
}

fn on_exec(app: &mut App, event: ExecEvent) -> Vec<Effect> {
    match event {
        ExecEvent::Note { scope, text } => {
            app.log.push(LogEntry::note(app.wall_clock, scope, text));
            if app.log_scroll > 0 {
                app.log_scroll += 1;
            }
        }
        ExecEvent::Started {
            total_calls,
            total_items,
        } => {
            if let Some(run) = &mut app.run {
                run.total_calls = total_calls;
                run.total_items = total_items;
            }
        }
        ExecEvent::Item(entry) => {
            if let Some(run) = &mut app.run {
                run.record_item(&entry);
            }
            if let Some(effect) = rotation_step_done(app, &entry) {
                app.log.push(entry);
                return vec![effect];
            }
            app.log.push(entry);
            if app.log_scroll > 0 {
                // Keep the lines the operator is reading in place while new ones arrive.
                app.log_scroll += 1;
            }
        }
        ExecEvent::Rotated {
            key,
            request_id,
            secret,
            new_id,
        } => {
            let mut effects = Vec::new();
            let name = app
                .tabs
                .iter()
                .find(|t| t.kind == key.scope.kind)
                .and_then(|t| {
                    t.items_for(std::slice::from_ref(&key))
                        .first()
                        .map(|i| i.name.to_string())
                })
                .unwrap_or_default();
            // A staged rotation created a new key: the secret is the new key's, and the
            // rotation is kept on disk until the old key is deleted.
            let shown_key = match &new_id {
                Some(new_id) => {
                    app.rotations
                        .retain(|r| !(r.account == key.scope.account.as_str() && r.old_key == key.id.as_str()));
                    app.rotations.push(crate::rotation::Rotation {
                        account: key.scope.account.to_string(),
                        owner: name.clone(),
                        owner_uin: None,
                        old_key: key.id.to_string(),
                        new_key: new_id.clone(),
                        stage: crate::rotation::Stage::NewKeyCreated,
                        started: app.wall_clock,
                        updated: app.wall_clock,
                    });
                    effects.push(Effect::SaveRotations(app.rotations.clone()));
                    key.scope.key(new_id.as_str())
                }
                None => key.clone(),
            };
            let rotated = RotatedSecret::new(shown_key, name, request_id, secret);
            match &mut app.modal {
                Some(Modal::RotationResult(result)) => result.push(rotated),
                _ => {
                    let mut result = RotationResult::default();
                    result.push(rotated);
                    app.open(Modal::RotationResult(result));
                }
            }
            return effects;
        }
        ExecEvent::Progress {
            done_calls,
            total_calls,
        } => {
            if let Some(run) = &mut app.run {
                run.done_calls = done_calls;
                run.total_calls = total_calls;
            }
        }
        ExecEvent::Refreshed { scope, items } => {
            let touched = app
                .run
                .as_ref()
                .and_then(|r| r.touched.get(&scope).cloned())
                .or_else(|| app.refreshing.remove(&scope))
                .unwrap_or_default();
            app.tab_for(scope.kind).apply_refresh(&scope, &touched, items);
        }
        ExecEvent::Settled => {
            app.settling = false;
            app.refreshing.clear();
        }
        ExecEvent::Finished { cancelled, tally } => {
            let Some(run) = app.run.take() else {
                return Vec::new();
            };
            // Re-reads of what the run touched arrive after it ends.
            app.refreshing = run.touched;
            app.settling = true;
            let left: Vec<ItemKey> = run.left_disabled.into_iter().collect();
            let summary = RunSummary {
                verb: run.verb,
                dry_run: run.dry_run,
                cancelled,
                // In a dry run nothing was sent: `ok` is what would have been.
                ok: tally.ok + tally.dry_run,
                kept: tally.kept,
                failed: tally.failed,
                unknown: tally.unknown,
                not_sent: tally.not_sent,
                left_disabled: left.len(),
            };
            app.left_disabled = (!left.is_empty()).then_some(left);
            app.flash = None;
            app.last_run = Some(summary);
        }
    }
    Vec::new()
}

/// A later step of a staged rotation went through: the old key disabled moves the
/// rotation on, the old key deleted (or found already gone) ends it. Returns the save.
fn rotation_step_done(app: &mut App, entry: &crate::queue::LogEntry) -> Option<Effect> {
    use crate::providers::Operation;
    use crate::rotation::Stage;
    let ok = entry.outcome == crate::queue::Outcome::Ok;
    let at = app
        .rotations
        .iter()
        .position(|r| r.account == entry.scope.account.as_str() && r.old_key == entry.target)?;
    match (entry.operation?, ok) {
        (Operation::Disable, true) => {
            let rotation = &mut app.rotations[at];
            rotation.stage = Stage::OldKeyDisabled;
            rotation.updated = app.wall_clock;
        }
        (Operation::Delete, true) => {
            app.rotations.remove(at);
        }
        _ => return None,
    }
    Some(Effect::SaveRotations(app.rotations.clone()))
}
