//! Headless driver: the real runtime against a `TestBackend`, fed scripted keys and
//! pastes on a scripted clock, for end-to-end tests.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyward::app::{App, LoadState, Msg};
use keyward::tui::Runtime;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// A person's pace between two scripted keys: slower than the dialogs' open guard, so
/// a scripted operator answers dialogs the way a person does.
pub const HUMAN_KEY_GAP: Duration = Duration::from_millis(400);
/// The pace of keys a terminal delivers from a paste without bracketed paste.
pub const BURST_KEY_GAP: Duration = Duration::from_millis(1);

/// Headless driver: the real runtime against a `TestBackend`, fed scripted keys on a
/// scripted clock (each `key` advances it by `HUMAN_KEY_GAP`, each `burst` key by
/// `BURST_KEY_GAP`).
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
    clock: Arc<Mutex<Instant>>,
    /// Set once the app asked to quit.
    pub quit: bool,
    /// Ctrl-Z requests seen (the harness has no process to stop).
    pub suspends: usize,
}

impl Harness {
    pub fn new(runtime: Runtime, width: u16, height: u16) -> Self {
        let clipboard = SharedBuf::default();
        let clock = Arc::new(Mutex::new(Instant::now()));
        let now = clock.clone();
        let runtime = runtime
            .with_clipboard(Box::new(clipboard.clone()))
            .with_clock(Arc::new(move || *now.lock().unwrap_or_else(|e| e.into_inner())));
        // TestBackend never fails to create a terminal; keep the error path anyway.
        let terminal = match Terminal::new(TestBackend::new(width, height)) {
            Ok(t) => t,
            Err(never) => match never {},
        };
        Harness {
            runtime,
            terminal,
            clipboard,
            clock,
            quit: false,
            suspends: 0,
        }
    }

    /// Move the scripted clock on (an operator reading the screen).
    pub fn advance(&mut self, by: Duration) {
        let mut now = self.clock.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    pub fn app(&self) -> &App {
        &self.runtime.app
    }

    pub fn start(&mut self) {
        self.runtime.start();
    }

    pub fn send(&mut self, msg: Msg) {
        let asked = self.runtime.dispatch(msg);
        self.quit |= asked.quit;
        self.suspends += usize::from(asked.suspend);
    }

    /// One key at a person's pace.
    pub fn key_event(&mut self, key: KeyEvent) {
        self.advance(HUMAN_KEY_GAP);
        self.send(Msg::Key(key));
    }

    /// Keys as a terminal without bracketed paste delivers a paste: one character each,
    /// a millisecond apart, with a newline as Enter.
    pub fn burst(&mut self, text: &str) {
        for c in text.chars() {
            self.advance(BURST_KEY_GAP);
            let code = if c == '\n' { KeyCode::Enter } else { KeyCode::Char(c) };
            self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
        }
    }

    /// A bracketed paste.
    pub fn paste(&mut self, text: &str) {
        self.advance(HUMAN_KEY_GAP);
        self.send(Msg::Paste(text.to_string()));
    }

    pub fn key(&mut self, code: KeyCode) {
        self.key_event(KeyEvent::new(code, KeyModifiers::NONE));
    }

    pub fn ctrl(&mut self, c: char) {
        self.key_event(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
    }

    /// A mouse event at column `x`, row `y`, as a capturing terminal reports it.
    pub fn mouse(&mut self, kind: crossterm::event::MouseEventKind, x: u16, y: u16) {
        self.advance(HUMAN_KEY_GAP);
        self.send(Msg::Mouse(crossterm::event::MouseEvent {
            kind,
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }));
    }

    /// A left click at column `x`, row `y`.
    pub fn click(&mut self, x: u16, y: u16) {
        self.mouse(
            crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
            x,
            y,
        );
    }

    /// Where `text` first appears on the last frame drawn: (column, row).
    pub fn find(&self, text: &str) -> Option<(u16, u16)> {
        let buffer = self.terminal.backend().buffer();
        let width = buffer.area.width as usize;
        let screen: Vec<char> = buffer
            .content
            .iter()
            .map(|c| c.symbol().chars().next().unwrap_or(' '))
            .collect();
        let needle: Vec<char> = text.chars().collect();
        let at = screen.windows(needle.len()).position(|w| w == needle.as_slice())?;
        Some(((at % width) as u16, (at / width) as u16))
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
        if let Err(never) = self.terminal.draw(|frame| keyward::ui::draw(frame, app)) {
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
