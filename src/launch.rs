//! Starting the TUI: over the configured accounts, or (`--demo`) over the built-in
//! emulator seeded from `assets/`. Everything that can fail before the terminal is
//! taken over fails here, with a message on stderr and a non-zero exit.

use crate::audit::AuditLog;
use crate::config::{Config, process_env};
use crate::demo::DemoConfig;
use crate::emulator::{self, EmulatorOptions, Seed};
use crate::providers::Provider;
use crate::registry;
use crate::tui::{self, RunOptions};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

pub struct LaunchOptions<'a> {
    pub demo: bool,
    pub read_only: bool,
    pub dry_run: bool,
    pub config: Option<&'a Path>,
    /// `--plan FILE`: open on that plan file's confirmation.
    pub plan: Option<&'a Path>,
    /// `--account`, `--region` (globs) and `--provider`: only those sources are opened.
    pub account: Option<&'a str>,
    pub region: Option<&'a str>,
    pub provider: Option<&'a str>,
}

/// Why the TUI did not start or ended badly. A config that cannot be used, or a missing
/// terminal, exits 2 as `keyward list` does for an unusable config; anything else 1.
enum Failure {
    Usage(String),
    NoTerminal,
    Other(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Other(message)
    }
}

pub fn run(opts: LaunchOptions<'_>) -> ExitCode {
    match crate::runtime::block_on(start(opts)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(Failure::Usage(message))) => {
            eprintln!("keyward: {message}");
            ExitCode::from(2)
        }
        Ok(Err(Failure::NoTerminal)) => {
            eprintln!("{NEEDS_TERMINAL}");
            ExitCode::from(2)
        }
        Ok(Err(Failure::Other(message))) => {
            eprintln!("keyward: {message}");
            ExitCode::FAILURE
        }
        Err(code) => code,
    }
}

/// The TUI needs a terminal on stdout (it would draw escape sequences into a redirected
/// file) and a controlling terminal (crossterm reads keys from /dev/tty).
pub const NEEDS_TERMINAL: &str = "keyward needs an interactive terminal; use `keyward list` for scripts";

fn check_terminal() -> Result<(), Failure> {
    use std::io::IsTerminal;
    let controlling = if cfg!(unix) {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok()
    } else {
        std::io::stdin().is_terminal()
    };
    if std::io::stdout().is_terminal() && controlling {
        Ok(())
    } else {
        Err(Failure::NoTerminal)
    }
}

async fn start(opts: LaunchOptions<'_>) -> Result<(), Failure> {
    // The emulator lives as long as this function: the TUI talks to it until quit.
    // The demo's private temp dir lives as long as this function too, and goes with it.
    let mut private_dir = None;
    let mut audit_max = crate::config::Settings::default().audit_max_bytes();
    let mut initial = None;
    let scope = crate::app::scope::ScopeFilter::from_flags(opts.account, opts.region, opts.provider)
        .map_err(|why| Failure::Usage(format!("--provider: {why}")))?;
    let mut keys = Default::default();
    let mut theme = crate::ui::theme::Theme::default();
    let mut mouse = true;
    let (providers, audit_path, title, thresholds, protect, _emulator) = if opts.demo {
        let seed = Seed::demo().map_err(|e| format!("the demo seed in assets/ is broken: {e}"))?;
        let emu = emulator::start(EmulatorOptions::https(seed.clone()))
            .await
            .map_err(|e| format!("cannot start the demo emulator: {e}"))?;
        // The demo's audit log is its own: demo deletions must not land in the real history.
        let dir = demo_dir().map_err(|e| format!("cannot create the demo's temp dir: {e}"))?;
        let audit_path = dir.path().join("audit.jsonl");
        private_dir = Some(dir);
        let demo = DemoConfig::new(&emu, &seed, Some(audit_path.clone()));
        let providers = demo.providers().await.map_err(|e| e.to_string())?;
        let title = format!("demo · emulator at {}", emu.base_url);
        (
            providers,
            audit_path,
            title,
            Default::default(),
            crate::queue::Protect::default(),
            Some(emu),
        )
    } else {
        let cfg = Config::load(opts.config, &process_env).map_err(|e| Failure::Usage(e.to_string()))?;
        if cfg.is_empty() {
            return Err(Failure::Usage(format!(
                "{} configures no account\n  fix: add a [[tencent]] or [[oceanbase]] table (see config.example.toml), \
                 or try `keyward --demo`",
                cfg.path.display()
            )));
        }
        // An account that cannot be set up shows as failed tabs with the fix; the rest load.
        let providers: Vec<Arc<dyn Provider>> = registry::build_each(&cfg, &process_env);
        let audit_path = cfg
            .settings
            .audit_log_path()
            .map_err(|e| Failure::Usage(e.to_string()))?;
        audit_max = cfg.settings.audit_max_bytes();
        if let Some(path) = opts.plan {
            // Checked against the live keys before the first frame: a refused file (edited,
            // too old) is said here, like `keyward apply` says it.
            let (_, checked) = crate::planfile::open(path, &cfg, &providers, chrono::Utc::now())
                .await
                .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
            initial = Some(crate::tui::InitialConfirm {
                parts: checked.parts(),
                notes: checked.notes(),
            });
        }
        keys = cfg.keys.clone();
        theme = cfg.theme;
        mouse = cfg.settings.mouse;
        (
            providers,
            audit_path,
            cfg.path.display().to_string(),
            cfg.settings.findings,
            cfg.protect,
            None,
        )
    };
    let providers = in_scope(providers, &scope).map_err(Failure::Usage)?;
    // After the config (its errors are the same as `keyward list`'s), before any drawing.
    check_terminal()?;
    let (audit, unwritable_log) = open_audit_log(&audit_path, opts.read_only, audit_max)?;
    let run = RunOptions {
        read_only: opts.read_only,
        dry_run: opts.dry_run,
        audit,
        config: title.clone(),
        title,
        secrets_dir: None,
        initial,
        thresholds,
        keys,
        theme: theme.honouring_no_color(&process_env),
        mouse,
        scope,
        unwritable_log,
        protect,
    };
    tui::run(providers, run)
        .await
        .map_err(|e| format!("terminal error: {e}"))?;
    match private_dir {
        Some(dir) => {
            let removed = dir.close();
            if let Err(e) = removed {
                eprintln!("keyward: cannot remove the demo's temp dir: {e}");
            }
        }
        None => eprintln!("keyward: audit log at {}", audit_path.display()),
    }
    Ok(())
}

/// The providers `--account/--region/--provider` keep (the others are never listed); none
/// left is a usage error naming what is configured.
pub fn in_scope(
    providers: Vec<Arc<dyn Provider>>,
    scope: &crate::app::scope::ScopeFilter,
) -> Result<Vec<Arc<dyn Provider>>, String> {
    if scope.is_empty() {
        return Ok(providers);
    }
    // Said by distinct value, not by source: a fleet has thousands of sources.
    let mut known: [Vec<String>; 3] = Default::default();
    for p in &providers {
        let s = p.scope();
        for (list, value) in known
            .iter_mut()
            .zip([s.account.to_string(), s.region.to_string(), s.kind.to_string()])
        {
            if !list.contains(&value) {
                list.push(value);
            }
        }
    }
    let kept: Vec<_> = providers.into_iter().filter(|p| scope.admits(p.scope())).collect();
    if kept.is_empty() {
        return Err(format!(
            "no configured source is in {}\n  configured accounts: {}\n  regions and projects: {}\n  providers: {}\n  \
             fix: correct --account, --region or --provider (globs like 'ap-*' work)",
            scope.describe(),
            known[0].join(", "),
            known[1].join(", "),
            known[2].join(", ")
        ));
    }
    Ok(kept)
}

/// The session's audit log, rotating at `max_bytes`. A `--read-only` session writes
/// nothing, so a log it cannot open for writing is said at start (`UnwritableLog`), not
/// fatal; any other session refuses to start without its log.
pub fn open_audit_log(
    path: &Path,
    read_only: bool,
    max_bytes: u64,
) -> Result<(Option<Arc<AuditLog>>, Option<tui::UnwritableLog>), String> {
    match AuditLog::open(path) {
        Ok(log) => Ok((Some(Arc::new(log.rotating_at(Some(max_bytes)))), None)),
        Err(e) if read_only => Ok((
            None,
            Some(tui::UnwritableLog {
                path: path.to_path_buf(),
                why: e.to_string(),
            }),
        )),
        Err(e) => Err(format!("cannot open the audit log: {e}")),
    }
}

/// A fresh private directory (mode 0700, unpredictable name) under the temp dir for the
/// demo's audit log, removed when the value is dropped: nobody else can plant a file or a
/// link in it, and no demo leaves anything behind.
pub fn demo_dir() -> std::io::Result<tempfile::TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("keyward-demo-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    builder.tempdir()
}
