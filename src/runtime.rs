//! The one place a command enters async code: every subcommand is a plain `fn` returning
//! an `ExitCode`, and each needs the same multi-threaded runtime and the same message when
//! the runtime cannot start (out of threads or file descriptors).

use std::future::Future;
use std::process::ExitCode;

/// Run `work` to completion on a fresh multi-threaded runtime; `Err` is the exit code to
/// return after the failure has been reported on stderr.
pub fn block_on<T>(work: impl Future<Output = T>) -> Result<T, ExitCode> {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => Ok(runtime.block_on(work)),
        Err(e) => {
            eprintln!("keyward: cannot start the async runtime: {e}");
            Err(ExitCode::FAILURE)
        }
    }
}
