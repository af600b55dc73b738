//! The TUI process: the terminal's lifecycle (`terminal`), the runtime that carries out
//! the app's effects (`runtime`) and the event loop here. The tests drive the same runtime
//! headlessly (`tests/it/support/harness.rs`), which is not part of the binary.
//!
//! Nothing here awaits the network in a key handler: effects run as tasks whose results
//! come back as `Msg`s.

mod runtime;
mod terminal;

pub use runtime::{
    InitialConfirm, RunOptions, Runtime, Terminal as TerminalRequest, UnwritableLog, write_secrets_file,
};

use crate::app::Msg;
use crate::providers::Provider;
use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};

/// Ticks drive the flash timeout; a quarter second keeps the UI lively without waste.
const TICK: Duration = Duration::from_millis(250);
/// How long quitting waits for in-flight calls of a cancelled run to report (a call
/// already sent is never abandoned silently: its outcome must reach the audit log).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(35);
/// Messages handled between two frames at most, so a burst of log lines costs one redraw.
const DRAIN_LIMIT: usize = 4096;

/// Run the TUI until the operator quits or a signal ends it. The terminal is restored on
/// every exit path (normal, error, panic, SIGTERM/SIGINT/SIGHUP).
pub async fn run(providers: Vec<Arc<dyn Provider>>, opts: RunOptions) -> io::Result<()> {
    let mut terminal = terminal::enter(opts.mouse)?;
    let _guard = terminal::RestoreGuard;
    let mut runtime = Runtime::new(providers, &opts);
    let result = event_loop(&mut terminal, &mut runtime, opts.mouse).await;
    if runtime.app.run.is_some() {
        runtime
            .app
            .info("cancelling: waiting for calls already sent to report…");
        // The terminal may be gone (SIGHUP): drawing is best effort.
        let _ = terminal.draw(|frame| crate::ui::draw(frame, &runtime.app));
    }
    runtime.shutdown(SHUTDOWN_GRACE).await;
    result
}

async fn event_loop(terminal: &mut ratatui::DefaultTerminal, runtime: &mut Runtime, mouse: bool) -> io::Result<()> {
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    let mut term = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    runtime.start();
    loop {
        terminal.draw(|frame| crate::ui::draw(frame, &runtime.app))?;
        let msg = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => Msg::Key(key),
                Some(Ok(Event::Paste(text))) => Msg::Paste(text),
                Some(Ok(Event::Mouse(event))) => Msg::Mouse(event),
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
            _ = tick.tick() => Msg::Tick,
            _ = term.recv() => Msg::Signal("SIGTERM"),
            _ = hangup.recv() => Msg::Signal("SIGHUP"),
            _ = interrupt.recv() => Msg::Signal("SIGINT"),
            Some(msg) = runtime.next() => msg,
        };
        let mut request = runtime.dispatch(msg);
        for _ in 0..DRAIN_LIMIT {
            if request.quit {
                break;
            }
            let Some(msg) = runtime.try_next() else { break };
            request.merge(runtime.dispatch(msg));
        }
        if request.quit {
            return Ok(());
        }
        if request.suspend {
            terminal::suspend(terminal, mouse)?;
        }
        if request.redraw {
            terminal.clear()?;
        }
    }
}
