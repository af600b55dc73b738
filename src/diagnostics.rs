//! The diagnostics log: keyward's `tracing` output, written to a file (never to the
//! terminal, which the TUI owns) when `--log-file PATH` or `KEYWARD_LOG` asks for it, as
//! k9s and yazi do. Off by default.
//!
//! What goes in is what the call sites trace: actions, regions, hosts, error codes, request
//! ids, pacing. Never a secret, and never a request or response body: a rotation's request
//! carries the new secret (API Gateway's custom `SecretKey`) and its answer the generated
//! one. Every call site in the crate keeps to that; a bare level in `KEYWARD_LOG` applies
//! to keyward's own targets only, so no dependency's tracing comes in unless named, and
//! records of the `log` crate (reqwest, rustls) are not bridged in at all.

use crate::config::EnvLookup;
use std::path::{Path, PathBuf};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

/// The variable that turns the log on and sets its filter.
pub const LOG_ENV: &str = "KEYWARD_LOG";
/// The log's file name in the state dir.
pub const LOG_FILE_NAME: &str = "keyward.log";
/// The filter of a log asked for with `--log-file` alone.
const DEFAULT_FILTER: &str = "keyward=info";

/// Where keyward keeps state that is neither config nor data: the platform state dir
/// (`$XDG_STATE_HOME/keyward`, `~/.local/state/keyward` on Linux), else the local data
/// dir where the platform has no state dir (macOS, Windows).
pub fn state_dir() -> Option<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "keyward")?;
    Some(dirs.state_dir().unwrap_or_else(|| dirs.data_local_dir()).to_path_buf())
}

/// The log file used when `KEYWARD_LOG` is set without `--log-file`.
pub fn default_log_path() -> Option<PathBuf> {
    state_dir().map(|dir| dir.join(LOG_FILE_NAME))
}

/// What to log, and where.
#[derive(Debug)]
pub struct LogPlan {
    pub path: PathBuf,
    pub filter: EnvFilter,
}

/// The plan for this run from `--log-file` and `KEYWARD_LOG` (when `use_env`), or None
/// for no log at all.
pub fn plan(log_file: Option<&Path>, use_env: bool, env: EnvLookup<'_>) -> Result<Option<LogPlan>, String> {
    let level = use_env.then(|| env(LOG_ENV)).flatten().filter(|v| !v.trim().is_empty());
    let path = match (log_file, &level) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(_)) => default_log_path().ok_or_else(|| {
            format!(
                "{LOG_ENV} is set but no state directory could be determined for the log (is HOME set?)\n  \
                 fix: also pass --log-file PATH"
            )
        })?,
        (None, None) => return Ok(None),
    };
    let filter = filter(level.as_deref())?;
    Ok(Some(LogPlan { path, filter }))
}

/// The filter for a `KEYWARD_LOG` value: a bare level (`debug`) is keyward's own targets at
/// that level; anything else is a tracing filter (`keyward=debug,hyper=info`) taken as given.
pub fn filter(value: Option<&str>) -> Result<EnvFilter, String> {
    let value = value.map(str::trim).unwrap_or(DEFAULT_FILTER);
    let directives = match value.parse::<LevelFilter>() {
        Ok(level) => format!("keyward={level}"),
        Err(_) => value.to_string(),
    };
    EnvFilter::try_new(&directives).map_err(|e| {
        format!(
            "{LOG_ENV}={value} is not a log level or filter ({e})\n  \
             fix: {LOG_ENV}=debug (or info, trace), or a filter such as keyward=debug"
        )
    })
}

/// Open the plan's file (private: see [`crate::private_file`]) and send every trace there
/// for the rest of the process. Returns the file's path.
pub fn install(plan: LogPlan) -> Result<PathBuf, String> {
    use crate::private_file::{OpenError, open_append};
    let file = open_append(&plan.path).map_err(|e| {
        let (path, why) = match e {
            OpenError::CreateDir { path, source } => (path, format!("cannot create its directory: {source}")),
            OpenError::Open { path, source } => (path, source.to_string()),
            OpenError::Symlink { path } => (path, "it is a symbolic link, which keyward does not follow".into()),
            OpenError::NotAFile { path } => (path, "it is not a regular file".into()),
        };
        format!(
            "cannot open the diagnostics log {}: {why}\n  fix: pass --log-file with a file path you can write",
            path.display()
        )
    })?;
    tracing::subscriber::set_global_default(subscriber(plan.filter, file))
        .map_err(|e| format!("cannot start the diagnostics log: {e}"))?;
    Ok(plan.path)
}

/// The subscriber the log is written by, over any writer (tests give a file of theirs).
pub fn subscriber<W>(filter: EnvFilter, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: std::io::Write + Send + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(writer))
        .with_ansi(false)
        .finish()
}

/// `--log-file` and `KEYWARD_LOG` for a command: the log when asked for, else nothing.
/// `use_env`: whether `KEYWARD_LOG` applies (the emulator traces to stderr instead).
pub fn start(log_file: Option<&Path>, use_env: bool, env: EnvLookup<'_>) -> Result<Option<PathBuf>, String> {
    plan(log_file, use_env, env)?.map(install).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with(value: &'static str) -> impl Fn(&str) -> Option<String> {
        move |name| (name == LOG_ENV).then(|| value.to_string())
    }

    #[test]
    fn no_flag_and_no_variable_is_no_log() {
        assert!(plan(None, true, &|_| None).unwrap().is_none());
        // The emulator ignores the variable.
        assert!(plan(None, false, &env_with("debug")).unwrap().is_none());
    }

    #[test]
    fn the_flag_picks_the_file_and_the_variable_the_level() {
        let p = plan(Some(Path::new("/tmp/x.log")), true, &env_with("debug"))
            .unwrap()
            .unwrap();
        assert_eq!(p.path, Path::new("/tmp/x.log"));
        assert_eq!(p.filter.to_string(), "keyward=debug");
        let p = plan(Some(Path::new("/tmp/x.log")), true, &|_| None).unwrap().unwrap();
        assert_eq!(p.filter.to_string(), "keyward=info");
    }

    #[test]
    fn the_variable_alone_logs_to_the_state_dir() {
        let p = plan(None, true, &env_with("trace")).unwrap().unwrap();
        assert_eq!(p.path.file_name().unwrap(), LOG_FILE_NAME);
        assert_eq!(Some(p.path), default_log_path());
    }

    #[test]
    fn a_bare_level_is_keywards_own_and_a_filter_is_taken_as_given() {
        assert_eq!(filter(Some("DEBUG")).unwrap().to_string(), "keyward=debug");
        assert_eq!(
            filter(Some("keyward=trace,hyper=info")).unwrap().to_string(),
            "keyward=trace,hyper=info"
        );
        let err = filter(Some("keyward=loud")).unwrap_err();
        assert!(
            err.contains("KEYWARD_LOG=keyward=loud") && err.contains("fix:"),
            "{err}"
        );
    }

    #[test]
    fn a_level_the_filter_excludes_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let file = std::fs::File::create(&path).unwrap();
        tracing::subscriber::with_default(subscriber(filter(Some("info")).unwrap(), file), || {
            tracing::info!(target: "keyward::x", "kept line");
            tracing::debug!(target: "keyward::x", "dropped line");
            tracing::info!(target: "hyper::x", "other crate");
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("kept line"), "{text}");
        assert!(
            !text.contains("dropped line") && !text.contains("other crate"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "no colour codes in a file: {text:?}");
    }
}
