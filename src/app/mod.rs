//! App state and `update(app, msg) -> effects`: pure, no IO.
//!
//! Every input (a key, a provider listing, an executor event, a tick) arrives as a
//! `Msg`; `update` changes the state and returns the `Effect`s the runtime (tui.rs)
//! must carry out as tasks. Rendering (ui/) only reads the state.

pub mod history;
mod keys;
pub mod modal;
pub mod run;
pub mod table;

use crate::inventory::{Item, ItemKey, ProviderKind};
use crate::providers::ProviderError;
use crate::queue::{ExecEvent, Intent, LogEntry, Plan};
use crate::secret::Secret;
use crossterm::event::KeyEvent;
use modal::{Modal, RotatedSecret, RotationResult};
use run::{RunState, RunSummary};
use table::TabState;

/// Everything that can happen to the app.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// Listing of `sources[provider]` finished.
    Loaded {
        provider: usize,
        result: Result<Vec<Item>, ProviderError>,
    },
    Exec(ExecEvent),
    /// The executor task ended without `Finished` (it panicked): the run is over.
    ExecAborted(String),
    /// The audit log was read for the `H` overlay (newest first), or why it could not be.
    History(Result<Vec<history::HistoryLine>, String>),
    Tick,
    Resize(u16, u16),
}

/// Work for the runtime. `update` never does IO itself.
#[derive(Debug, PartialEq)]
pub enum Effect {
    /// List one provider (index into the runtime's providers / `App::sources`).
    Load {
        provider: usize,
    },
    /// Run a confirmed plan.
    Execute {
        plan: Plan,
        dry_run: bool,
    },
    /// Stop the running plan; what is not sent yet stays unsent.
    Cancel,
    /// Put a secret on the clipboard with OSC 52.
    CopyToClipboard(Secret),
    /// Read the audit log for the history overlay; answered by `Msg::History`.
    LoadHistory,
    Quit,
}

/// One configured provider (account, region), as the loading lines show it.
#[derive(Debug, Clone)]
pub struct Source {
    pub kind: ProviderKind,
    pub account: String,
    pub region: String,
    pub state: LoadState,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoadState {
    Loading,
    Loaded(usize),
    Failed(ProviderError),
}

#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    pub read_only: bool,
    pub dry_run: bool,
    /// Shown in the header, e.g. "demo (emulator at http://127.0.0.1:PORT)".
    pub title: String,
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

/// Ticks a flash message stays (the runtime ticks every 250 ms).
const FLASH_TICKS: u32 = 24;

pub struct App {
    pub options: AppOptions,
    pub sources: Vec<Source>,
    /// One per `ProviderKind::ALL`, in that order.
    pub tabs: Vec<TabState>,
    pub active: usize,
    pub focus: Focus,
    /// Some while the filter input has the keyboard.
    pub filter_input: Option<String>,
    pub modal: Option<Modal>,
    pub run: Option<RunState>,
    pub last_run: Option<RunSummary>,
    pub log: Vec<LogEntry>,
    /// Lines scrolled up from the newest entry; 0 follows the tail.
    pub log_scroll: usize,
    pub flash: Option<Flash>,
    flash_ticks: u32,
    pub ticks: u64,
    pub quit: bool,
    /// Rows the table showed in the last frame (a render cache, for PgUp/PgDn).
    pub page_rows: std::cell::Cell<usize>,
}

impl App {
    pub fn new(sources: Vec<Source>, options: AppOptions) -> Self {
        App {
            options,
            sources,
            tabs: ProviderKind::ALL.iter().map(|k| TabState::new(*k)).collect(),
            active: 0,
            focus: Focus::Table,
            filter_input: None,
            modal: None,
            run: None,
            last_run: None,
            log: Vec::new(),
            log_scroll: 0,
            flash: None,
            flash_ticks: 0,
            ticks: 0,
            quit: false,
            page_rows: std::cell::Cell::new(10),
        }
    }

    /// Start listing every source.
    pub fn load_all(&mut self) -> Vec<Effect> {
        for s in &mut self.sources {
            s.state = LoadState::Loading;
        }
        (0..self.sources.len())
            .map(|provider| Effect::Load { provider })
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

    pub fn info(&mut self, text: impl Into<String>) {
        self.set_flash(text.into(), FlashLevel::Info);
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.set_flash(text.into(), FlashLevel::Error);
    }

    fn set_flash(&mut self, text: String, level: FlashLevel) {
        self.flash = Some(Flash { text, level });
        self.flash_ticks = FLASH_TICKS;
    }

    /// Sources of one kind still loading, for the tab title.
    pub fn loading_count(&self, kind: ProviderKind) -> usize {
        self.sources
            .iter()
            .filter(|s| s.kind == kind && s.state == LoadState::Loading)
            .count()
    }

    fn plan_for(&self, keys: &[ItemKey], intent: &Intent) -> Plan {
        let items = self.tab().items_for(keys);
        crate::queue::build_plan(&items, intent)
    }
}

/// The reducer. Pure: state in, state and effects out.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => keys::on_key(app, key),
        Msg::Loaded { provider, result } => {
            on_loaded(app, provider, result);
            Vec::new()
        }
        Msg::Exec(event) => {
            on_exec(app, event);
            Vec::new()
        }
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
        Msg::Tick => {
            app.ticks += 1;
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

fn on_loaded(app: &mut App, provider: usize, result: Result<Vec<Item>, ProviderError>) {
    let Some(source) = app.sources.get(provider).cloned() else {
        return;
    };
    match result {
        Ok(items) => {
            app.sources[provider].state = LoadState::Loaded(items.len());
            app.tab_for(source.kind)
                .replace_source(&source.account, &source.region, items);
        }
        Err(err) => {
            // Keep whatever this source showed before: a failed reload must not hide data.
            app.sources[provider].state = LoadState::Failed(err);
        }
    }
}

fn on_history(app: &mut App, result: Result<Vec<history::HistoryLine>, String>) {
    match result {
        // A dialog opened while the file was read keeps the keyboard; it may hold a
        // confirmation or a new secret that must not be pushed away.
        Ok(_) if app.modal.is_some() => app.info("history loaded while a dialog was open: press H again"),
        Ok(lines) => app.modal = Some(Modal::History(history::History::new(lines))),
        Err(why) => app.error(format!("cannot show the history: {why}")),
    }
}

fn on_exec(app: &mut App, event: ExecEvent) {
    match event {
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
        } => {
            let rotated = RotatedSecret {
                key,
                request_id,
                secret,
            };
            match &mut app.modal {
                Some(Modal::RotationResult(result)) => result.secrets.push(rotated),
                _ => {
                    app.modal = Some(Modal::RotationResult(RotationResult {
                        secrets: vec![rotated],
                        cursor: 0,
                        revealed: false,
                    }))
                }
            }
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
        ExecEvent::Refreshed {
            kind,
            account,
            region,
            items,
        } => {
            let touched = app
                .run
                .as_ref()
                .and_then(|r| r.touched.get(&(kind, account.clone(), region.clone())).cloned())
                .unwrap_or_default();
            app.tab_for(kind).apply_refresh(&account, &region, &touched, items);
        }
        ExecEvent::Finished {
            cancelled,
            ok,
            failed,
            not_sent,
        } => {
            let (verb, dry_run, kept) = app
                .run
                .as_ref()
                .map(|r| (r.verb, r.dry_run, r.kept))
                .unwrap_or(("run", false, 0));
            app.run = None;
            let summary = RunSummary {
                verb,
                dry_run,
                cancelled,
                ok,
                failed,
                not_sent,
            };
            // The executor counts a pair the service kept as answered ok; the operator
            // asked for it gone, so it is named apart.
            let kept_text = if kept > 0 {
                format!(", {kept} kept by the service")
            } else {
                String::new()
            };
            let text = format!(
                "{}{verb} {}: {} ok{kept_text}, {failed} failed, {not_sent} not sent",
                if dry_run { "dry run: " } else { "" },
                if cancelled { "cancelled" } else { "finished" },
                ok.saturating_sub(kept),
            );
            if failed > 0 || kept > 0 || cancelled {
                app.error(format!("{text} (see the log pane)"));
            } else {
                app.info(text);
            }
            app.last_run = Some(summary);
        }
    }
}
