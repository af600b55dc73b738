//! Terminal setup/restore and the event loop.
//!
//! `Runtime` owns the providers and turns `Effect`s into spawned tasks whose results
//! come back as `Msg`s over one mpsc; nothing here awaits the network in a key
//! handler. `run` drives it with a real terminal; `Harness` drives the same runtime
//! headlessly (TestBackend + scripted keys) for end-to-end tests.

use crate::app::{App, AppOptions, Effect, LoadState, Msg, Source, update};
use crate::audit::AuditLog;
use crate::providers::{ErrorKind, Provider, ProviderError};
use crate::queue::{ExecOptions, Plan};
use base64::Engine;
use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyModifiers};
use futures::StreamExt;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;
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
}

/// Ticks drive the flash timeout; a quarter second keeps the UI lively without waste.
const TICK: Duration = Duration::from_millis(250);
/// How long quitting waits for in-flight calls of a cancelled run to report.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Messages handled between two frames at most, so a burst of log lines costs one redraw.
const DRAIN_LIMIT: usize = 4096;

/// App state plus the machinery that carries out its effects.
pub struct Runtime {
    pub app: App,
    providers: Vec<Arc<dyn Provider>>,
    audit: Option<Arc<AuditLog>>,
    tx: UnboundedSender<Msg>,
    rx: UnboundedReceiver<Msg>,
    cancel: Option<CancellationToken>,
    clipboard: Box<dyn Write + Send>,
}

impl Runtime {
    pub fn new(providers: Vec<Arc<dyn Provider>>, opts: &RunOptions) -> Self {
        let sources = providers
            .iter()
            .map(|p| Source {
                kind: p.kind(),
                account: p.account().to_string(),
                region: p.region().to_string(),
                state: LoadState::Loading,
            })
            .collect();
        let app = App::new(
            sources,
            AppOptions {
                read_only: opts.read_only,
                dry_run: opts.dry_run,
                title: opts.title.clone(),
            },
        );
        let (tx, rx) = unbounded_channel();
        Runtime {
            app,
            providers,
            audit: opts.audit.clone(),
            tx,
            rx,
            cancel: None,
            clipboard: Box::new(io::stdout()),
        }
    }

    /// Where OSC 52 clipboard sequences are written (the terminal by default).
    pub fn with_clipboard(mut self, sink: Box<dyn Write + Send>) -> Self {
        self.clipboard = sink;
        self
    }

    /// Start listing every provider.
    pub fn start(&mut self) {
        let effects = self.app.load_all();
        self.perform(effects);
    }

    /// Feed one message; returns false once the app asked to quit.
    pub fn dispatch(&mut self, msg: Msg) -> bool {
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

    fn perform(&mut self, effects: Vec<Effect>) -> bool {
        let mut keep_running = true;
        for effect in effects {
            match effect {
                Effect::Load { provider } => self.spawn_load(provider),
                Effect::Execute { plan, dry_run } => self.spawn_execute(plan, dry_run),
                Effect::Cancel => {
                    if let Some(token) = &self.cancel {
                        token.cancel();
                    }
                }
                Effect::CopyToClipboard(secret) => {
                    let encoded = base64::engine::general_purpose::STANDARD.encode(secret.expose());
                    // OSC 52: the terminal puts the payload on the system clipboard, also over SSH.
                    let written =
                        write!(self.clipboard, "\x1b]52;c;{encoded}\x07").and_then(|_| self.clipboard.flush());
                    if let Err(e) = written {
                        self.app
                            .error(format!("could not write to the terminal clipboard: {e}"));
                    }
                }
                Effect::LoadHistory => self.spawn_load_history(),
                Effect::Quit => keep_running = false,
            }
        }
        keep_running
    }

    fn spawn_load(&self, provider: usize) {
        let Some(p) = self.providers.get(provider).cloned() else {
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
            let _ = tx.send(Msg::Loaded { provider, result });
        });
    }

    /// Read the audit log off the event loop (it can be large) for the `H` overlay.
    fn spawn_load_history(&mut self) {
        let Some(audit) = &self.audit else {
            self.app
                .error("no audit log is open in this session, so there is no history to show");
            return;
        };
        let path = audit.path().to_path_buf();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let read = tokio::task::spawn_blocking(move || {
                crate::audit::read_entries(&path)
                    .map(|entries| crate::app::history::from_entries(entries, crate::app::history::HISTORY_LIMIT))
                    .map_err(|e| e.to_string())
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

/// Restores the terminal when dropped: normal exit, `?` errors and unwinding alike.
struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// Run the TUI until the operator quits. The terminal is restored on every exit path;
/// `ratatui::try_init` installs a panic hook that restores it before the panic message.
pub async fn run(providers: Vec<Arc<dyn Provider>>, opts: RunOptions) -> io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    // A provider panic the runtime recovers from must not restore the terminal mid-session.
    crate::panic_guard::keep_terminal_for_caught_panics();
    let _guard = RestoreGuard;
    let mut runtime = Runtime::new(providers, &opts);
    let result = event_loop(&mut terminal, &mut runtime).await;
    if runtime.app.run.is_some() {
        runtime
            .app
            .info("cancelling: waiting for calls already sent to report…");
        let _ = terminal.draw(|frame| crate::ui::draw(frame, &runtime.app));
    }
    runtime.shutdown(SHUTDOWN_GRACE).await;
    result
}

async fn event_loop(terminal: &mut ratatui::DefaultTerminal, runtime: &mut Runtime) -> io::Result<()> {
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    runtime.start();
    loop {
        terminal.draw(|frame| crate::ui::draw(frame, &runtime.app))?;
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => Msg::Key(key),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
            _ = tick.tick() => Msg::Tick,
            Some(msg) = runtime.next() => msg,
        };
        if !runtime.dispatch(msg) {
            return Ok(());
        }
        for _ in 0..DRAIN_LIMIT {
            let Some(msg) = runtime.try_next() else { break };
            if !runtime.dispatch(msg) {
                return Ok(());
            }
        }
    }
}

/// A clipboard sink tests can read back.
#[derive(Clone, Default)]
pub struct SharedBuf(pub Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.lock() {
            Ok(mut v) => {
                v.extend_from_slice(buf);
                Ok(buf.len())
            }
            Err(_) => Err(io::Error::other("clipboard buffer poisoned")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Headless driver: the real runtime against a `TestBackend`, fed scripted keys.
///
/// ```ignore
/// let mut h = Harness::new(Runtime::new(providers, &opts), 120, 40);
/// h.start(); h.settle().await?;
/// h.press("2/prod"); h.key(KeyCode::Enter); h.press("ad"); h.press("delete 37"); h.key(KeyCode::Enter);
/// h.wait_until("the run finished", |app| app.last_run.is_some()).await?;
/// ```
pub struct Harness {
    pub runtime: Runtime,
    terminal: Terminal<TestBackend>,
    clipboard: SharedBuf,
    /// Set once the app asked to quit.
    pub quit: bool,
}

impl Harness {
    pub fn new(runtime: Runtime, width: u16, height: u16) -> Self {
        let clipboard = SharedBuf::default();
        let runtime = runtime.with_clipboard(Box::new(clipboard.clone()));
        // TestBackend never fails to create a terminal; keep the error path anyway.
        let terminal = match Terminal::new(TestBackend::new(width, height)) {
            Ok(t) => t,
            Err(never) => match never {},
        };
        Harness {
            runtime,
            terminal,
            clipboard,
            quit: false,
        }
    }

    pub fn app(&self) -> &App {
        &self.runtime.app
    }

    pub fn start(&mut self) {
        self.runtime.start();
    }

    pub fn send(&mut self, msg: Msg) {
        if !self.runtime.dispatch(msg) {
            self.quit = true;
        }
    }

    pub fn key_event(&mut self, key: KeyEvent) {
        self.send(Msg::Key(key));
    }

    pub fn key(&mut self, code: KeyCode) {
        self.key_event(KeyEvent::new(code, KeyModifiers::NONE));
    }

    pub fn ctrl(&mut self, c: char) {
        self.key_event(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
    }

    /// Each character as one key press.
    pub fn press(&mut self, text: &str) {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Handle task results until `done(app)` holds; Err after 20 s without it (a hang guard,
    /// not a timing assertion).
    pub async fn wait_until(&mut self, what: &str, done: impl Fn(&App) -> bool) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !done(&self.runtime.app) {
            match tokio::time::timeout_at(deadline, self.runtime.next()).await {
                Ok(Some(msg)) => self.send(msg),
                Ok(None) => return Err(format!("message channel closed while waiting for {what}")),
                Err(_) => return Err(format!("gave up waiting for {what}")),
            }
        }
        Ok(())
    }

    /// Wait until every provider listing came back.
    pub async fn settle(&mut self) -> Result<(), String> {
        self.wait_until("all providers to load", |app| {
            app.sources.iter().all(|s| s.state != LoadState::Loading)
        })
        .await
    }

    /// Draw a frame and return the screen as text (one line per row).
    pub fn render(&mut self) -> String {
        let app = &self.runtime.app;
        // TestBackend cannot fail (its error type is Infallible).
        if let Err(never) = self.terminal.draw(|frame| crate::ui::draw(frame, app)) {
            match never {}
        }
        self.terminal.backend().to_string()
    }

    pub fn backend(&self) -> &TestBackend {
        self.terminal.backend()
    }

    /// Raw bytes written for OSC 52 clipboard requests.
    pub fn clipboard_bytes(&self) -> Vec<u8> {
        self.clipboard.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}
