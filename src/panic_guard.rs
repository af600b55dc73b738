//! Panics keyward recovers from must not tear down the terminal.
//!
//! A provider that panics mid-call is reported as a failed item (or a failed region) and
//! the session goes on. But Rust runs the panic hook before unwinding reaches any
//! `catch_unwind`, and ratatui's hook restores the terminal for every panic, caught or
//! not, which would leave the TUI drawing on the normal screen. Work whose panics are
//! caught runs under [`caught`], which marks the thread while it polls that work; the
//! hook installed by [`keep_terminal_for_caught_panics`] passes such panics by.

use futures::FutureExt;
use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

thread_local! {
    /// Depth of `caught` futures being polled on this thread.
    static CAUGHT: Cell<u32> = const { Cell::new(0) };
}

/// Whether the panic being raised on this thread will be caught by [`caught`].
pub fn is_caught() -> bool {
    CAUGHT.with(|c| c.get() > 0)
}

/// Run `work`, turning a panic into `Err` (like `catch_unwind`), with the thread marked
/// while it is polled so the panic hook knows the panic is handled.
pub async fn caught<F: Future>(work: F) -> Result<F::Output, Box<dyn Any + Send>> {
    Marked(Box::pin(AssertUnwindSafe(work).catch_unwind())).await
}

struct Marked<F>(Pin<Box<F>>);

impl<F: Future> Future for Marked<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        CAUGHT.with(|c| c.set(c.get() + 1));
        // The inner future is a `catch_unwind`: a panic inside comes back as a value, so
        // this poll returns and the mark is always removed.
        let out = self.0.as_mut().poll(cx);
        CAUGHT.with(|c| c.set(c.get() - 1));
        out
    }
}

/// Wrap the current panic hook (ratatui's, which restores the terminal and prints the
/// panic) so that it is skipped for panics raised inside [`caught`].
pub fn keep_terminal_for_caught_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_caught() {
            previous(info);
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_inside_is_returned_and_marked_as_caught() {
        // The hook is process-wide: record only this test's thread, whatever else panics.
        let me = std::thread::current().id();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let record = seen.clone();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |_| {
            if std::thread::current().id() == me {
                record.lock().unwrap().push(is_caught());
            }
        }));
        let result = caught(async { panic!("provider bug") }).await;
        let outside = std::panic::catch_unwind(|| panic!("not caught by `caught`"));
        std::panic::set_hook(previous);
        assert!(result.is_err());
        assert!(outside.is_err());
        assert_eq!(*seen.lock().unwrap(), vec![true, false]);
        assert!(!is_caught(), "the mark is removed after the poll");
        assert_eq!(caught(async { 7 }).await.ok(), Some(7));
    }
}
