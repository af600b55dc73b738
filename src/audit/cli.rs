//! `keyward audit verify | reconcile | show`, and the reconciliation `keyward list` runs
//! first. Exit status: 0 done (verify: intact), 1 not (verify: broken; reconcile: some
//! calls still unknown, or another keyward has the log open), 2 unusable config or file.

use super::reconcile::{self, Report};
use super::show::{self, Filter, Format};
use super::{AuditLog, verify};
use crate::config::{Config, ConfigError, process_env};
use crate::providers::Provider;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the log's hash chain: name the first broken line and why (edited, deleted,
    /// reordered, truncated). Exit 0 intact, 1 broken.
    Verify {
        /// The log file (default: the configured audit log and the files rotated from it).
        path: Option<PathBuf>,
    },
    /// Re-read the items of calls an interrupted keyward left without an outcome and
    /// record what was found (gone, still present, unknown). Nothing is re-sent.
    Reconcile,
    /// Print the runs in the log and what became of each item.
    Show(ShowArgs),
    /// Used by the crash drill of `keyward bench` and its tests: delete the listed items
    /// of an emulator config without asking. Refuses any config not aimed at a loopback
    /// emulator.
    #[command(hide = true)]
    DrillRun {
        /// Lines `region<TAB>id` of the items to delete.
        #[arg(long)]
        ids: PathBuf,
    },
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// Only results since then: a span (7d, 12h, 30m, 2w), a date or an RFC 3339 time.
    #[arg(long)]
    pub since: Option<String>,
    /// Only this account (its name in the config).
    #[arg(long)]
    pub account: Option<String>,
    /// Only this operation (delete, disable, enable, rotate, rename) or API action name.
    #[arg(long)]
    pub action: Option<String>,
    /// One JSON array of item results.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV, one row per item result.
    #[arg(long)]
    pub csv: bool,
    /// The log file (default: the configured audit log).
    #[arg(long)]
    pub file: Option<PathBuf>,
}

pub fn command(config: Option<&Path>, args: &AuditArgs) -> ExitCode {
    match &args.command {
        // The file given, or the configured log with every file rotation left before it.
        AuditCommand::Verify { path: Some(path) } => verify_command(std::slice::from_ref(path)),
        AuditCommand::Verify { path: None } => with_path(config, None, |p| {
            let mut files = super::archives(p);
            files.push(p.to_path_buf());
            verify_command(&files)
        }),
        AuditCommand::Show(show) => with_path(config, show.file.as_deref(), |p| show_command(p, show)),
        AuditCommand::Reconcile => reconcile_command(config),
        AuditCommand::DrillRun { ids } => crate::bench::crash::child(config, ids),
    }
}

/// The log to read: the one given, else the configured one. Without a config file the
/// default location is read, so a log can be checked on a machine keyward is not set up on.
fn audit_path(config: Option<&Path>, given: Option<&Path>) -> Result<PathBuf, ConfigError> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    match Config::load(config, &process_env) {
        Ok(cfg) => cfg.settings.audit_log_path(),
        Err(ConfigError::NotFound { .. }) if config.is_none() => {
            AuditLog::default_path().map_err(|_| ConfigError::NoConfigDir)
        }
        Err(e) => Err(e),
    }
}

fn with_path(config: Option<&Path>, given: Option<&Path>, run: impl FnOnce(&Path) -> ExitCode) -> ExitCode {
    match audit_path(config, given) {
        Ok(path) => run(&path),
        Err(e) => {
            eprintln!("keyward audit: {e}");
            ExitCode::from(2)
        }
    }
}

/// Verify each file (oldest first); exit 1 when any is broken.
fn verify_command(files: &[PathBuf]) -> ExitCode {
    let mut intact = true;
    for path in files {
        match verify::verify_file(path) {
            Ok(report) => {
                println!("{}: {report}", path.display());
                intact &= report.intact();
            }
            Err(e) => {
                eprintln!("keyward audit verify: {e}");
                return ExitCode::from(2);
            }
        }
    }
    if intact { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn show_command(path: &Path, args: &ShowArgs) -> ExitCode {
    let filter = match args.since.as_deref().map(|s| show::parse_since(s, chrono::Utc::now())) {
        Some(Err(e)) => {
            eprintln!("keyward audit show: {e}");
            return ExitCode::from(2);
        }
        since => Filter {
            since: since.and_then(Result::ok),
            account: args.account.clone(),
            action: args.action.clone(),
        },
    };
    let read = match super::read_lenient(path) {
        Ok(read) => read,
        Err(e) => {
            eprintln!("keyward audit show: {e}");
            return ExitCode::from(2);
        }
    };
    let format = if args.json {
        Format::Json
    } else if args.csv {
        Format::Csv
    } else {
        Format::Text
    };
    let text = match show::render(&read.entries, &filter, format) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("keyward audit show: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("keyward audit show: cannot write to standard output: {e}");
            return ExitCode::FAILURE;
        }
        _ => {}
    }
    if !read.skipped.is_empty() {
        eprintln!("keyward audit show: {}", skipped_note(&read.skipped, path));
    }
    ExitCode::SUCCESS
}

/// "2 lines of P are not records and were skipped (lines 4, 9); `keyward audit verify` says why".
pub fn skipped_note(lines: &[usize], path: &Path) -> String {
    let shown: Vec<String> = lines.iter().take(5).map(usize::to_string).collect();
    format!(
        "{} line{} of {} {} and {} skipped (line {}{}); `keyward audit verify` says why",
        lines.len(),
        if lines.len() == 1 { "" } else { "s" },
        path.display(),
        if lines.len() == 1 {
            "is not a record"
        } else {
            "are not records"
        },
        if lines.len() == 1 { "was" } else { "were" },
        shown.join(", "),
        if lines.len() > 5 { ", ..." } else { "" }
    )
}

fn reconcile_command(config: Option<&Path>) -> ExitCode {
    let cfg = match Config::load(config, &process_env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("keyward audit reconcile: {e}");
            return ExitCode::from(2);
        }
    };
    let path = match cfg.settings.audit_log_path() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("keyward audit reconcile: {e}");
            return ExitCode::from(2);
        }
    };
    if !path.exists() {
        println!("nothing to reconcile: there is no audit log at {}", path.display());
        return ExitCode::SUCCESS;
    }
    let log = match AuditLog::open(&path) {
        Ok(log) => log.rotating_at(Some(cfg.settings.audit_max_bytes())),
        Err(e) => {
            eprintln!("keyward audit reconcile: {e}");
            return ExitCode::from(2);
        }
    };
    let providers = crate::registry::build_each(&cfg, &process_env);
    let report = match crate::runtime::block_on(reconcile::run(&log, &providers)) {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => {
            eprintln!("keyward audit reconcile: {e}");
            return ExitCode::from(2);
        }
        Err(code) => return code,
    };
    if report.runs.is_empty() && !report.other_keyward {
        println!("nothing to reconcile: every call in {} has its outcome", path.display());
        return ExitCode::SUCCESS;
    }
    for line in report.lines() {
        println!("{line}");
    }
    if report.other_keyward || report.unknown() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// What `keyward list` does before listing: reconcile the configured audit log (when
/// there is one) and say on stderr what was found. A log that cannot be opened is
/// reported and the listing goes on: listing writes nothing.
pub async fn reconcile_before_listing(cfg: &Config, providers: &[Arc<dyn Provider>], err: &mut dyn Write) {
    let Ok(path) = cfg.settings.audit_log_path() else {
        return;
    };
    if !path.exists() {
        return;
    }
    let report: Result<Report, String> = match AuditLog::open(&path) {
        Ok(log) => {
            let log = log.rotating_at(Some(cfg.settings.audit_max_bytes()));
            reconcile::run(&log, providers).await.map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    match report {
        Ok(report) if report.other_keyward => {
            let _ = writeln!(err, "keyward: note: {}", reconcile::OTHER_KEYWARD);
        }
        Ok(report) => {
            for line in report.lines() {
                let _ = writeln!(err, "keyward: audit log: {line}");
            }
        }
        Err(e) => {
            let _ = writeln!(err, "keyward: note: interrupted calls were not reconciled: {e}");
        }
    }
}
