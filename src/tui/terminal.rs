//! The terminal's lifecycle: raw mode, alternate screen, bracketed paste and (unless
//! `[settings] mouse = false`) mouse capture on entry, all of it undone on every exit path
//! (drop, error, panic, signal) and around Ctrl-Z.

use crossterm::cursor::Show;
use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture};
use crossterm::execute;
use std::io;

/// Take the terminal: ratatui's raw mode and alternate screen, plus bracketed paste so a
/// paste arrives as one `Event::Paste` (text), never as keys (commands). With `mouse`,
/// the terminal reports the mouse (and its own selection needs Shift in most terminals).
pub fn enter(mouse: bool) -> io::Result<ratatui::DefaultTerminal> {
    let terminal = ratatui::try_init()?;
    execute!(io::stdout(), EnableBracketedPaste)?;
    if mouse {
        execute!(io::stdout(), EnableMouseCapture)?;
    }
    install_panic_hook();
    Ok(terminal)
}

/// Give the terminal back as it was. Best effort: on SIGHUP the terminal is gone.
/// Turning mouse capture off when it was never on is harmless, so it is always sent.
pub fn restore() {
    let _ = execute!(io::stdout(), DisableMouseCapture, DisableBracketedPaste, Show);
    ratatui::restore();
}

/// Restores the terminal when dropped: normal exit, `?` errors and unwinding alike.
pub struct RestoreGuard;

impl Drop for RestoreGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// ratatui's hook restores raw mode and the screen before printing a panic; bracketed
/// paste is ours to turn off. Panics the runtime catches (a provider bug reported as a
/// failed item) leave the terminal alone (`panic_guard`).
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !crate::panic_guard::is_caught() {
            let _ = execute!(io::stdout(), DisableMouseCapture, DisableBracketedPaste, Show);
        }
        previous(info);
    }));
    crate::panic_guard::keep_terminal_for_caught_panics();
}

/// Ctrl-Z: give the terminal back, stop until `fg`, then take it again and redraw.
pub fn suspend(terminal: &mut ratatui::DefaultTerminal, mouse: bool) -> io::Result<()> {
    restore();
    // SAFETY: raise only sends a signal to this process; SIGTSTP's default action stops
    // it until SIGCONT, then raise returns.
    unsafe {
        libc::raise(libc::SIGTSTP);
    }
    crossterm::terminal::enable_raw_mode()?;
    execute!(
        io::stdout(),
        crossterm::terminal::EnterAlternateScreen,
        EnableBracketedPaste
    )?;
    if mouse {
        execute!(io::stdout(), EnableMouseCapture)?;
    }
    terminal.clear()
}
