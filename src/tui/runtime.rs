//! The effect runner: `Runtime` owns the providers and turns `Effect`s into spawned
//! tasks whose results come back as `Msg`s over one mpsc. The event loop (`tui::run`)
//! and the test harness drive the same runtime.

use crate::app::modal::RotatedSecret;
use crate::app::{App, AppOptions, Effect, LoadState, Msg, Source, update};
use crate::audit::AuditLog;
use crate::inventory::{Item, Scope};
use crate::providers::{ErrorKind, Provider, ProviderError};
use crate::queue::{ExecOptions, Intent, Plan};
use crate::rotation::RotationStore;
use base64::Engine;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio_util::sync::CancellationToken;

/// How the TUI is started (from the command line).
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Every mutating key is refused and no plan is ever executed.
    pub read_only: bool,
    /// Plans run with `ExecOptions::dry_run`: logged, never sent.
    pub dry_run: bool,
    pub audit: Option<Arc<AuditLog>>,
    /// Header text, e.g. "demo (emulator at http://127.0.0.1:PORT)".
    pub title: String,
    /// Where `w` in the new-secret dialog writes its file, and `w` in a confirmation or the
    /// queue its plan file (default: the current directory).
    pub secrets_dir: Option<PathBuf>,
    /// The config file, as plan files record it.
    pub config: String,
    /// `--plan FILE`: the confirmation the TUI opens on.
    pub initial: Option<InitialConfirm>,
    /// The config's `[[protect]]` entries, which every plan of the session honours.
    pub protect: crate::queue::Protect,
    /// What the findings judge keys by (`[settings]`).
    pub thresholds: crate::findings::Thresholds,
    /// The main screen's keys `[keys]` rebinds.
    pub keys: crate::app::keymap::Rebinds,
    /// Colours by role, `NO_COLOR` already applied.
    pub theme: crate::ui::theme::Theme,
    /// Capture the mouse (`[settings] mouse`); off leaves the terminal's own selection.
    pub mouse: bool,
    /// `--account/--region/--provider`: the providers given are already only these.
    pub scope: crate::app::scope::ScopeFilter,
    /// A `--read-only` session whose audit log cannot be opened for writing: it starts
    /// anyway (it writes nothing), says so, and `H` still reads the file.
    pub unwritable_log: Option<UnwritableLog>,
}

/// A plan file's confirmation to open on (`keyward --plan FILE`): its plan per intent, and
/// what will not be sent.
#[derive(Clone, Debug, Default)]
pub struct InitialConfirm {
    pub parts: Vec<(Intent, Plan)>,
    pub notes: Vec<String>,
}

/// The audit log a `--read-only` session could not open for writing, and why.
#[derive(Clone, Debug)]
pub struct UnwritableLog {
    pub path: PathBuf,
    pub why: String,
}

/// What a message asks of the terminal, which the runtime does not own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Terminal {
    pub quit: bool,
    pub redraw: bool,
    pub suspend: bool,
}

impl Terminal {
    pub fn merge(&mut self, other: Terminal) {
        self.quit |= other.quit;
        self.redraw |= other.redraw;
        self.suspend |= other.suspend;
    }
}

/// The clock `update` sees (`App::now`); tests script it.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// App state plus the machinery that carries out its effects.
pub struct Runtime {
    pub app: App,
    providers: Vec<Arc<dyn Provider>>,
    audit: Option<Arc<AuditLog>>,
    /// The file `H` reads: the open log's, or an unwritable one's in a read-only session.
    history_path: Option<PathBuf>,
    rotations: Option<RotationStore>,
    tx: UnboundedSender<Msg>,
    rx: UnboundedReceiver<Msg>,
    cancel: Option<CancellationToken>,
    clipboard: Box<dyn Write + Send>,
    clock: Clock,
    secrets_dir: PathBuf,
    /// The config file, as plan files record it.
    config: String,
    initial: Option<InitialConfirm>,
}

impl Runtime {
    pub fn new(providers: Vec<Arc<dyn Provider>>, opts: &RunOptions) -> Self {
        let sources = providers
            .iter()
            .map(|p| Source {
                scope: p.scope().clone(),
                state: LoadState::Loading,
            })
            .collect();
        let app = App::new(
            sources,
            AppOptions {
                read_only: opts.read_only,
                dry_run: opts.dry_run,
                title: opts.title.clone(),
                protect: opts.protect.clone(),
                thresholds: opts.thresholds,
                keys: opts.keys.clone(),
                theme: opts.theme,
                scope: opts.scope.clone(),
            },
        );
        // A setup note (a region reached through the nearest-access host, say) is said
        // once under the tabs, however many sources share it.
        let mut app = app;
        // Staged rotations live beside the audit log; without one (tests) nothing is kept.
        let rotations = opts.audit.as_ref().map(|a| RotationStore::beside(a.path()));
        if let Some(store) = &rotations {
            match store.load() {
                Ok(loaded) => app.rotations = loaded,
                Err(e) => app.error(e.to_string()),
            }
        }
        for p in &providers {
            if let Some(notice) = p.notice() {
                app.add_notice(p.scope().kind, notice);
            }
        }
        if let Some(log) = &opts.unwritable_log {
            app.error(format!(
                "the audit log {} is not writable ({}): this --read-only session writes nothing, so it \
                 starts anyway; H shows the history if the file is readable",
                log.path.display(),
                log.why
            ));
        }
        let history_path = match (&opts.audit, &opts.unwritable_log) {
            (Some(audit), _) => Some(audit.path().to_path_buf()),
            (None, Some(log)) => Some(log.path.clone()),
            (None, None) => None,
        };
        let (tx, rx) = unbounded_channel();
        Runtime {
            app,
            providers,
            history_path,
            audit: opts.audit.clone(),
            rotations,
            tx,
            rx,
            cancel: None,
            clipboard: Box::new(io::stdout()),
            clock: Arc::new(Instant::now),
            secrets_dir: opts.secrets_dir.clone().unwrap_or_else(|| PathBuf::from(".")),
            config: opts.config.clone(),
            initial: opts.initial.clone(),
        }
    }

    /// Use another clock (tests script time to check the dialog guards).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Where OSC 52 clipboard sequences are written (the terminal by default).
    pub fn with_clipboard(mut self, sink: Box<dyn Write + Send>) -> Self {
        self.clipboard = sink;
        self
    }

    /// Start listing every provider, and reconciling what an interrupted run left.
    pub fn start(&mut self) {
        let effects = self.app.start();
        self.perform(effects);
        if let Some(initial) = self.initial.take() {
            self.app.open_plan_file(initial.parts, initial.notes);
        }
    }

    /// Feed one message at the clock's time; returns what it asks of the terminal.
    pub fn dispatch(&mut self, msg: Msg) -> Terminal {
        self.app.now = (self.clock)();
        self.app.wall_clock = chrono::Utc::now();
        let effects = update(&mut self.app, msg);
        self.perform(effects)
    }

    /// A result of a spawned task, if one is waiting.
    pub fn try_next(&mut self) -> Option<Msg> {
        self.rx.try_recv().ok()
    }

    /// Wait for the next result of a spawned task.
    pub async fn next(&mut self) -> Option<Msg> {
        self.rx.recv().await
    }

    /// On exit: cancel a running plan and give calls already in flight up to `grace` to
    /// report, so their outcomes reach the audit log before the process ends.
    pub async fn shutdown(&mut self, grace: Duration) {
        if let Some(token) = self.cancel.take() {
            token.cancel();
        }
        let deadline = tokio::time::Instant::now() + grace;
        while self.app.run.is_some() {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(msg)) => {
                    let _ = update(&mut self.app, msg);
                }
                _ => break,
            }
        }
    }

    fn perform(&mut self, effects: Vec<Effect>) -> Terminal {
        let mut terminal = Terminal::default();
        for effect in effects {
            match effect {
                Effect::Load { scope } => self.spawn_load(scope),
                Effect::Execute { plan, dry_run } => self.spawn_execute(plan, dry_run),
                Effect::Cancel => {
                    if let Some(token) = &self.cancel {
                        token.cancel();
                    }
                }
                Effect::CopyToClipboard { secret, what } => self.copy(secret.expose(), &what),
                Effect::CopyText { text, what } => self.copy(&text, &what),
                Effect::WriteSecrets(secrets) => self.spawn_write_secrets(secrets),
                Effect::WritePlan { parts, items, filter } => self.spawn_write_plan(parts, items, filter),
                Effect::LoadHistory => self.spawn_load_history(),
                Effect::Reconcile => self.spawn_reconcile(),
                // Written before anything else happens: a rotation whose new key exists must
                // not be forgotten by a crash right after (a small file, replaced atomically).
                Effect::SaveRotations(rotations) => {
                    if let Some(store) = &self.rotations
                        && let Err(e) = store.save(&rotations)
                    {
                        self.app.error(e.to_string());
                    }
                }
                Effect::Redraw => terminal.redraw = true,
                Effect::Suspend => terminal.suspend = true,
                Effect::Quit => terminal.quit = true,
            }
        }
        terminal
    }

    /// `w` in a confirmation or the queue: the plan as a reviewed plan file (the same format
    /// `keyward plan` writes), a new file beside the new-secret files, off the event loop.
    fn spawn_write_plan(&self, parts: Vec<(Intent, Plan)>, items: Vec<Item>, filter: String) {
        let dir = self.secrets_dir.clone();
        let config = self.config.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let written = tokio::task::spawn_blocking(move || {
                let meta = crate::planfile::Meta {
                    created_at: chrono::Utc::now(),
                    created_by: crate::planfile::cli::who(),
                    config,
                    filter,
                };
                let refs: Vec<(&Intent, &Plan)> = parts.iter().map(|(i, p)| (i, p)).collect();
                let items: Vec<&Item> = items.iter().collect();
                let file = crate::planfile::PlanFile::from_plans(&refs, &items, meta)?;
                let name = format!("keyward-plan-{}.json", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"));
                let path = std::path::absolute(dir.join(name)).map_err(|e| e.to_string())?;
                file.write_new(&path, false).map_err(|e| e.to_string())?;
                Ok((path, file.confirm_token()))
            })
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
            let _ = tx.send(Msg::PlanWritten(written));
        });
    }

    /// Put `text` on the clipboard through the terminal and say so in the status line.
    fn copy(&mut self, text: &str, what: &str) {
        match write_osc52(&mut self.clipboard, text) {
            // The terminal never answers an OSC 52 write: say what was done, not more.
            Ok(()) => self.app.info(format!(
                "{what} sent to the terminal's clipboard (OSC 52); it arrives only if your terminal allows clipboard writes"
            )),
            Err(e) => self
                .app
                .error(format!("could not write to the terminal clipboard: {e}")),
        }
    }

    /// `w` in the new-secret dialog: a new file, never an existing one, off the event loop.
    fn spawn_write_secrets(&self, secrets: Vec<RotatedSecret>) {
        let dir = self.secrets_dir.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let written = tokio::task::spawn_blocking(move || write_secrets_file(&dir, &secrets))
                .await
                .unwrap_or_else(|e| Err(io::Error::other(e.to_string())));
            let _ = tx.send(Msg::SecretsWritten(written.map_err(|e| e.to_string())));
        });
    }

    fn spawn_load(&self, scope: Scope) {
        let Some(p) = self.providers.iter().find(|p| *p.scope() == scope).cloned() else {
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let listing = tokio::spawn(async move { crate::panic_guard::caught(p.list()).await });
            let result = match listing.await {
                Ok(Ok(result)) => result,
                Ok(Err(_)) => Err(ProviderError::new(
                    ErrorKind::Protocol,
                    "Internal",
                    "the provider panicked while listing; please report this",
                )),
                // A panicking provider must not leave its tab "loading…" forever.
                Err(e) => Err(ProviderError::new(
                    ErrorKind::Protocol,
                    "Internal",
                    format!("the listing task stopped: {e}; please report this"),
                )),
            };
            let _ = tx.send(Msg::Loaded { scope, result });
        });
    }

    /// Re-read what the calls of an interrupted earlier run did, off the event loop; the
    /// answer comes back as `Msg::Reconciled` (nothing when there was nothing to do).
    fn spawn_reconcile(&self) {
        let Some(audit) = self.audit.clone() else {
            return;
        };
        let providers = self.providers.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let report = crate::audit::reconcile::run(&audit, &providers)
                .await
                .map_err(|e| e.to_string());
            if report.as_ref().is_ok_and(|r| r.runs.is_empty() && !r.other_keyward) {
                return;
            }
            let _ = tx.send(Msg::Reconciled(report));
        });
    }

    /// Read the end of the audit log off the event loop for the `H` overlay: backwards,
    /// only as far as the overlay's results reach, however large the file is.
    fn spawn_load_history(&mut self) {
        let Some(path) = self.history_path.clone() else {
            self.app
                .error("no audit log is open in this session, so there is no history to show");
            return;
        };
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let read = tokio::task::spawn_blocking(move || {
                let cannot = |e: io::Error| format!("cannot read the audit log {}: {e}", path.display());
                let file = std::fs::File::open(&path).map_err(cannot)?;
                let lines = crate::audit::chain::Backwards::new(&file).map_err(cannot)?;
                Ok(crate::app::history::from_newest_lines(
                    lines.map_while(Result::ok),
                    crate::app::history::HISTORY_LIMIT,
                ))
            });
            let result = read
                .await
                .unwrap_or_else(|e| Err(format!("the task reading the audit log stopped: {e}")));
            let _ = tx.send(Msg::History(result));
        });
    }

    fn spawn_execute(&mut self, plan: Plan, dry_run: bool) {
        let token = CancellationToken::new();
        self.cancel = Some(token.clone());
        let (events_tx, mut events_rx) = unbounded_channel();
        let run = crate::queue::execute(
            plan,
            self.providers.clone(),
            ExecOptions { dry_run },
            self.audit.clone(),
            token,
            events_tx,
        );
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let handle = tokio::spawn(run);
            // The sender lives in the executor future: the channel closes when it ends or panics.
            while let Some(event) = events_rx.recv().await {
                if tx.send(Msg::Exec(event)).is_err() {
                    return;
                }
            }
            if let Err(e) = handle.await {
                let _ = tx.send(Msg::ExecAborted(format!("the executor stopped: {e}")));
            }
        });
    }
}

/// OSC 52 (`ESC ] 52 ; c ; <base64> BEL`): the terminal puts the payload on the system
/// clipboard, also over SSH.
pub fn write_osc52(out: &mut dyn Write, text: &str) -> io::Result<()> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    write!(out, "\x1b]52;c;{encoded}\x07")?;
    out.flush()
}

/// Write the new secrets of a run to `dir/keyward-new-secrets-<UTC time>.txt`, created
/// with mode 600 and `create_new`: an existing file or a symlink planted at that name is
/// refused (O_EXCL never follows a symlink), so the secrets go nowhere but a new file.
pub fn write_secrets_file(dir: &Path, secrets: &[RotatedSecret]) -> io::Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt;
    let name = format!(
        "keyward-new-secrets-{}.txt",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
    );
    let path = std::path::absolute(dir.join(name))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display())))?;
    let mut text = String::from(
        "# keyward: new API key secrets, one per line (tab-separated). Delete this file once the clients have them.\n# provider\taccount\tregion\tkey id\tname\tsecret\n",
    );
    for s in secrets {
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            s.key.scope.kind,
            s.key.scope.account,
            s.key.scope.region,
            s.key.id,
            s.name,
            s.secret.expose()
        ));
    }
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(path)
}
