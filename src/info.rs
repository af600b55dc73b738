//! `keyward info`: every path keyward uses and each configured account with where its
//! credentials come from, as `k9s info` does. Never a secret: credentials are resolved
//! only to name their source.

use crate::audit::AuditLog;
use crate::config::{Config, EnvLookup, config_path, tccli_dir};
use crate::diagnostics;
use crate::rotation::RotationStore;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

/// `keyward info`.
pub fn command(config: Option<&Path>, log_file: Option<&Path>) -> ExitCode {
    print!("{}", render(config, log_file, &crate::config::process_env));
    ExitCode::SUCCESS
}

/// `path (exists)` or `path (not there yet)`.
fn with_presence(path: &Path) -> String {
    let presence = if path.exists() { "exists" } else { "not there yet" };
    format!("{} ({presence})", path.display())
}

/// The first line of an error, for a one-line summary.
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// The whole report.
pub fn render(config: Option<&Path>, log_file: Option<&Path>, env: EnvLookup<'_>) -> String {
    let mut out = String::new();
    let line = |out: &mut String, label: &str, value: &str| {
        let _ = writeln!(out, "{:<13}{value}", format!("{label}:"));
    };
    let loaded = match config_path(config, env) {
        Ok(path) => {
            let loaded = Config::load(Some(&path), env);
            let state = match &loaded {
                Ok(_) => with_presence(&path),
                Err(e) if path.exists() => {
                    format!("{} (exists, invalid: {})", path.display(), first_line(&e.to_string()))
                }
                Err(_) => format!("{} (not there: `keyward --demo` runs without one)", path.display()),
            };
            line(&mut out, "config file", &state);
            loaded.ok()
        }
        Err(e) => {
            line(&mut out, "config file", first_line(&e.to_string()));
            None
        }
    };
    let audit = match &loaded {
        Some(cfg) => cfg.settings.audit_log_path().map_err(|e| e.to_string()),
        None => AuditLog::default_path().map_err(|e| e.to_string()),
    };
    match audit {
        Ok(path) => {
            line(&mut out, "audit log", &with_presence(&path));
            let rotations = RotationStore::beside(&path);
            line(&mut out, "rotations", &with_presence(rotations.path()));
        }
        Err(e) => line(&mut out, "audit log", first_line(&e)),
    }
    match diagnostics::state_dir() {
        Some(dir) => line(&mut out, "state dir", &with_presence(&dir)),
        None => line(&mut out, "state dir", "none (no home directory)"),
    }
    let log = match diagnostics::plan(log_file, true, env) {
        Ok(Some(plan)) => format!("{} (on, {})", plan.path.display(), plan.filter),
        Ok(None) => match diagnostics::default_log_path() {
            Some(path) => format!(
                "{} (off: set {}=debug or pass --log-file PATH)",
                path.display(),
                diagnostics::LOG_ENV
            ),
            None => format!("off (set {}=debug and pass --log-file PATH)", diagnostics::LOG_ENV),
        },
        Err(e) => format!("off: {}", first_line(&e)),
    };
    line(&mut out, "log file", &log);
    match tccli_dir(env) {
        Some(dir) => line(&mut out, "tccli dir", &with_presence(&dir)),
        None => line(&mut out, "tccli dir", "none (no home directory)"),
    }
    accounts(&mut out, loaded.as_ref(), env);
    out
}

fn accounts(out: &mut String, cfg: Option<&Config>, env: EnvLookup<'_>) {
    let Some(cfg) = cfg else {
        let _ = writeln!(out, "accounts:    (the config did not load: `keyward doctor` says why)");
        return;
    };
    if cfg.is_empty() {
        let _ = writeln!(out, "accounts:    none configured");
        return;
    }
    let _ = writeln!(out, "accounts:");
    let source = |resolved: Result<String, crate::config::ConfigError>| match resolved {
        Ok(source) => format!("credentials from {source}"),
        Err(e) => format!("credentials: none usable ({})", first_line(&e.to_string())),
    };
    for a in &cfg.tencent {
        let services: Vec<String> = a.services.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "  tencent \"{}\": regions {}; services {}; {}",
            a.name,
            a.regions.join(", "),
            services.join(", "),
            source(a.credentials(cfg, env).map(|c| c.source))
        );
    }
    for a in &cfg.oceanbase {
        let _ = writeln!(
            out,
            "  oceanbase \"{}\": org {}; projects {}; {}",
            a.name,
            a.org_id,
            a.project_ids.join(", "),
            source(a.credentials(cfg, env).map(|c| c.source))
        );
    }
}
