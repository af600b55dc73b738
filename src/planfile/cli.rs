//! `keyward plan` and `keyward apply`: the headless commands over plan files.
//!
//! `plan` lists the live inventory of the chosen providers, keeps the rows `--where`
//! matches, builds the plan with `queue::build_plan` (the TUI's planner, with the config's
//! `[[protect]]` entries), writes the file and prints a summary ending with the one
//! `--confirm` value that applies it. `apply` reads and checks the file, re-reads its
//! scopes, asks for the confirmation, and sends what remains through `queue::execute`, the
//! TUI's executor, with the same audit log.
//!
//! Exit status: 0 all done (an item already gone counts as done), 1 some item failed or
//! was refused (or, for `plan`, nothing could be planned), 2 refused before anything was
//! sent (or, for `plan`, nothing was written: bad filter, unusable config).
//!
//! `plan_command` and `apply_command` are the thin wrappers `main` calls; `plan` and
//! `apply` take the config, providers, clock and streams, for tests.

use super::check::{self, ItemState};
use super::{FileIntent, Meta, PlanFile, PlanFileError};
use crate::app::modal::RotatedSecret;
use crate::audit::AuditLog;
use crate::config::{Config, process_env};
use crate::inventory::{ProviderKind, Row, Timestamp};
use crate::list::{self, Selection};
use crate::providers::Provider;
use crate::queue::{ExecEvent, ExecOptions, Outcome, Plan, Tally, build_plan};
use crate::text::sanitize;
use chrono::Timelike as _;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    /// What to do to every key the filter matches.
    #[arg(value_enum)]
    pub intent: FileIntent,
    /// The keys to plan for, in the filter language of the TUI's `/` (see `--help`).
    #[arg(long = "where", value_name = "EXPR", long_help = crate::filter::SYNTAX)]
    pub filter: String,
    /// Only this provider.
    #[arg(long, value_parser = list::parse_kind)]
    pub provider: Option<ProviderKind>,
    /// Only this configured account.
    #[arg(long)]
    pub account: Option<String>,
    /// Only this region (Tencent) or project id (OceanBase).
    #[arg(long)]
    pub region: Option<String>,
    /// Where to write the plan (JSON, mode 600).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ApplyArgs {
    /// The plan file `keyward plan` wrote.
    pub file: PathBuf,
    /// The `--confirm COUNT:HASH` line `keyward plan` printed: applies this plan and no
    /// other. Without it, a terminal asks for the item count.
    #[arg(long, value_name = "COUNT:HASH")]
    pub confirm: Option<String>,
    /// Check and re-read everything, log what would be sent, send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// How a command ended (see the module header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Done,
    Partial,
    Refused,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Done => 0,
            Exit::Partial => 1,
            Exit::Refused => 2,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// Where a command writes, and where an interactive confirmation is read from (`None`:
/// no terminal, so `--confirm` is required).
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub answer: Option<&'a mut dyn BufRead>,
}

/// `user@host` of this process, for the plan's `created_by`.
pub fn who() -> String {
    let user = ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".into());
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length; gethostname NUL-terminates
    // within it on success (and the terminator is searched for, not assumed).
    let host = if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown".into()
    };
    format!("{user}@{host}")
}

/// The config, or the message and exit of why it cannot be used.
fn load_config(path: Option<&Path>) -> Result<Config, String> {
    let cfg = Config::load(path, &process_env).map_err(|e| format!("keyward: {e}"))?;
    if cfg.is_empty() {
        return Err(format!(
            "keyward: {} configures no account\n  fix: add a [[tencent]] or [[oceanbase]] table (see config.example.toml)",
            cfg.path.display()
        ));
    }
    Ok(cfg)
}

/// `keyward plan`: config -> providers -> [`plan`].
pub fn plan_command(config: Option<&Path>, args: &PlanArgs) -> ExitCode {
    let cfg = match load_config(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let providers = crate::registry::build_each(&cfg, &process_env);
    let mut err = std::io::stderr().lock();
    let run = plan(&cfg, &providers, args, chrono::Utc::now(), who(), &mut err);
    match crate::runtime::block_on(run) {
        Ok(exit) => exit.into(),
        Err(code) => code,
    }
}

/// `keyward apply`: config -> providers -> [`apply`], cancelled (nothing more sent) on
/// Ctrl-C.
pub fn apply_command(config: Option<&Path>, args: &ApplyArgs) -> ExitCode {
    use std::io::IsTerminal;
    let cfg = match load_config(config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let providers = crate::registry::build_each(&cfg, &process_env);
    let work = async {
        let cancel = CancellationToken::new();
        let on_signal = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_signal.cancel();
            }
        });
        let stdin = std::io::stdin();
        let interactive = stdin.is_terminal() && std::io::stderr().is_terminal();
        let mut answer = stdin.lock();
        let io = Io {
            out: &mut std::io::stdout().lock(),
            err: &mut std::io::stderr().lock(),
            answer: if interactive { Some(&mut answer) } else { None },
        };
        apply(&cfg, &providers, args, chrono::Utc::now(), io, cancel, Path::new(".")).await
    };
    match crate::runtime::block_on(work) {
        Ok(exit) => exit.into(),
        Err(code) => code,
    }
}

/// The configured providers `args` chooses, in config order.
fn chosen(providers: &[Arc<dyn Provider>], args: &PlanArgs) -> Vec<Arc<dyn Provider>> {
    providers
        .iter()
        .filter(|p| {
            let s = p.scope();
            args.provider.is_none_or(|k| k == s.kind)
                && args.account.as_deref().is_none_or(|a| s.account == a)
                && args.region.as_deref().is_none_or(|r| s.region == r)
        })
        .cloned()
        .collect()
}

/// At most this many ids of one call are printed in a summary (the file has them all).
const IDS_SHOWN: usize = 6;

fn ids_text(ids: &[String]) -> String {
    let shown: Vec<&str> = ids.iter().take(IDS_SHOWN).map(String::as_str).collect();
    let mut text = sanitize(&shown.join(" ")).into_owned();
    if ids.len() > IDS_SHOWN {
        text.push_str(&format!(" (+{} more)", ids.len() - IDS_SHOWN));
    }
    text
}

fn named(key: &impl std::fmt::Display, name: &str) -> String {
    if name.is_empty() {
        sanitize(&key.to_string()).into_owned()
    } else {
        format!("{} ({})", sanitize(&key.to_string()), sanitize(name))
    }
}

/// The readable summary of a plan file, ending with how to apply it.
fn summary(file: &PlanFile, path: &Path) -> String {
    let body = &file.body;
    let mut out = format!(
        "keyward plan: {} item(s) ({}) in {} call(s), selected by --where {}\n",
        file.item_count(),
        file.intents_text(),
        body.calls.len(),
        sanitize(&body.filter)
    );
    // Consecutive calls of one action to one scope on one line: 40 DeleteApiKey calls
    // read as one step, the file has each.
    for group in body
        .calls
        .chunk_by(|a, b| a.action == b.action && a.scope() == b.scope())
    {
        let ids: Vec<String> = group.iter().flat_map(|c| c.ids.iter().cloned()).collect();
        let calls = if group.len() > 1 {
            format!(" ({} calls)", group.len())
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {}{calls} {}: {}\n",
            group[0].action,
            sanitize(&group[0].scope().to_string()),
            ids_text(&ids)
        ));
        for w in group.iter().flat_map(|c| c.warnings.iter()) {
            out.push_str(&format!("    warning: {}\n", sanitize(w)));
        }
    }
    if file.intents().contains_key(&FileIntent::Rotate) {
        out.push_str(
            "  each rotation's new secret is generated by the service; apply writes them to a new mode-600 file\n",
        );
    }
    if !body.skipped.is_empty() {
        out.push_str(&format!(
            "skipped {} item(s), which the plan does not touch:\n",
            body.skipped.len()
        ));
        for s in &body.skipped {
            out.push_str(&format!("  {}: {}\n", named(&s.key(), &s.name), sanitize(&s.reason)));
        }
    }
    out.push_str(&format!(
        "wrote {} (hash {})\nconfirm with: --confirm {}\n",
        path.display(),
        file.hash,
        file.confirm_token()
    ));
    out
}

/// List, select, plan and write: see the module header.
pub async fn plan(
    config: &Config,
    providers: &[Arc<dyn Provider>],
    args: &PlanArgs,
    now: Timestamp,
    created_by: String,
    err: &mut dyn Write,
) -> Exit {
    let query = match crate::filter::parse(&args.filter) {
        Ok(q) if !q.is_empty() => q,
        Ok(_) => {
            let _ = writeln!(
                err,
                "keyward plan: --where is empty, which would select every key; nothing was written\n  \
                 fix: say which keys, e.g. --where 'status:disabled kind:apikey'"
            );
            return Exit::Refused;
        }
        Err(e) => {
            let _ = writeln!(
                err,
                "keyward plan: --where {}: {e}; nothing was written",
                sanitize(&args.filter)
            );
            return Exit::Refused;
        }
    };
    let intent = args.intent.intent();
    let chosen = chosen(providers, args);
    if chosen.is_empty() {
        let _ = writeln!(
            err,
            "keyward plan: no configured provider matches the --provider/--account/--region given; nothing was written"
        );
        return Exit::Refused;
    }
    let inventory = list::fetch(&chosen, &Selection::default()).await;
    if !inventory.failures.is_empty() {
        for f in &inventory.failures {
            let _ = writeln!(err, "keyward plan: cannot list {f}");
        }
        let _ = writeln!(
            err,
            "keyward plan: the plan would miss the keys of {} source(s) that could not be listed; nothing was written\n  \
             fix: retry, or leave them out with --provider, --account or --region",
            inventory.failures.len()
        );
        return Exit::Partial;
    }
    // The same rules and matcher as `keyward list --where` and the TUI's table.
    let mut rows = inventory.items;
    let listed = rows.len();
    list::RowFilter {
        query: query.clone(),
        findings_only: false,
    }
    .apply(&mut rows, &config.settings.findings, now);
    let rows: Vec<&Row> = rows.iter().collect();
    if rows.is_empty() {
        let _ = writeln!(
            err,
            "keyward plan: no key of the {} listed matches --where {}; nothing was written",
            listed,
            sanitize(&args.filter)
        );
        return Exit::Partial;
    }
    let plan = build_plan(&rows, &intent, &config.protect);
    let items: Vec<&crate::inventory::Item> = rows.iter().map(|r| &r.item).collect();
    let meta = Meta {
        // Whole seconds: the time reads back exactly as written, whatever parses it.
        created_at: now.with_nanosecond(0).unwrap_or(now),
        created_by,
        config: config.path.display().to_string(),
        filter: query.to_string(),
    };
    let file = match PlanFile::from_plan(&plan, &intent, &items, meta) {
        Ok(f) => f,
        Err(why) => {
            let _ = writeln!(err, "keyward plan: {why}; nothing was written");
            return Exit::Refused;
        }
    };
    if file.body.calls.is_empty() {
        let mut text = format!(
            "keyward plan: nothing to {}: all {} matching item(s) are skipped; nothing was written\n",
            intent.verb(),
            rows.len()
        );
        for s in &file.body.skipped {
            text.push_str(&format!("  {}: {}\n", named(&s.key(), &s.name), sanitize(&s.reason)));
        }
        let _ = err.write_all(text.as_bytes());
        return Exit::Partial;
    }
    if let Err(e) = file.write_new(&args.output, args.force) {
        let _ = writeln!(err, "keyward plan: {e}");
        return match e {
            PlanFileError::Exists { .. } => Exit::Refused,
            _ => Exit::Partial,
        };
    }
    let _ = err.write_all(summary(&file, &args.output).as_bytes());
    Exit::Done
}

/// One line of the apply report.
fn line(out: &mut dyn Write, word: &str, rest: &str) {
    let _ = writeln!(out, "{word:<9}{rest}");
}

/// Check, re-read, confirm, execute, report: see the module header.
pub async fn apply(
    config: &Config,
    providers: &[Arc<dyn Provider>],
    args: &ApplyArgs,
    now: Timestamp,
    io: Io<'_>,
    cancel: CancellationToken,
    secrets_dir: &Path,
) -> Exit {
    let Io { out, err, answer } = io;
    let refuse = |err: &mut dyn Write, e: &dyn std::fmt::Display| {
        let _ = writeln!(err, "keyward apply: {e}");
        Exit::Refused
    };
    let file = match PlanFile::load(&args.file, now, config.settings.plan_max_age_hours) {
        Ok(f) => f,
        Err(e) => return refuse(err, &e),
    };
    match (&args.confirm, &answer, args.dry_run) {
        (Some(given), _, _) => {
            if let Err(e) = file.check_confirm(given) {
                return refuse(err, &e);
            }
        }
        (None, Some(_), _) | (None, None, true) => {}
        (None, None, false) => {
            return refuse(
                err,
                &format!(
                    "no confirmation: nothing was sent\n  fix: pass the `--confirm COUNT:HASH` line `keyward plan` printed for {}",
                    args.file.display()
                ),
            );
        }
    }
    let body = &file.body;
    let _ = writeln!(
        out,
        "keyward apply: {}: {} item(s) ({}), planned {} ({}) by {} with {} (hash {})",
        args.file.display(),
        file.item_count(),
        file.intents_text(),
        crate::times::rfc3339(body.created_at),
        crate::times::relative(body.created_at, now),
        sanitize(&body.created_by),
        sanitize(&body.config),
        &file.hash[..super::CONFIRM_HASH_DIGITS]
    );
    let config_now = config.path.display().to_string();
    if body.config != config_now {
        let _ = writeln!(
            err,
            "keyward apply: note: the plan was written with {}, and is applied with {config_now} (its [[protect]] entries apply)",
            sanitize(&body.config)
        );
    }

    let live = super::live_state(providers, &file.scopes()).await;
    let checked = match check::check(&file, &live, &config.protect) {
        Ok(c) => c,
        Err(e) => return refuse(err, &e),
    };
    for item in &checked.items {
        match &item.state {
            ItemState::Ready => {}
            ItemState::Gone => line(out, "gone", &format!("{}: already gone", named(&item.key, &item.name))),
            ItemState::Refused(why) => line(
                out,
                "refused",
                &format!("{}: {}", named(&item.key, &item.name), sanitize(why)),
            ),
        }
    }
    let refused = checked.refused().count();
    let gone = checked.gone().count();
    let plan = checked.plan;
    let sending = plan.item_count();
    if sending == 0 {
        let _ = writeln!(out, "nothing to send: {gone} already gone, {refused} refused");
        return if refused == 0 { Exit::Done } else { Exit::Partial };
    }

    if args.confirm.is_none() && !args.dry_run {
        let Some(answer) = answer else {
            // Ruled out above: without a terminal `--confirm` is required.
            return Exit::Refused;
        };
        let _ = write!(
            err,
            "send {} call(s) for {sending} item(s) now? type {sending} to go on, anything else stops: ",
            plan.calls.len()
        );
        let _ = err.flush();
        let mut typed = String::new();
        let _ = answer.read_line(&mut typed);
        if typed.trim() != sending.to_string() {
            return refuse(err, &"not confirmed: nothing was sent");
        }
    }

    let audit = match open_audit(config) {
        Ok(a) => a,
        Err(e) => return refuse(err, &format!("{e}; nothing was sent")),
    };
    let (tally, secrets) = run(plan, providers, args.dry_run, audit, cancel, out).await;
    if !secrets.is_empty() {
        match crate::tui::write_secrets_file(secrets_dir, &secrets) {
            Ok(path) => {
                let _ = writeln!(out, "new secrets written to {} (mode 600)", path.display());
            }
            Err(e) => {
                let _ = writeln!(
                    err,
                    "keyward apply: the {} new secret(s) could not be written: {e}; the keys are rotated, \
                     their new secrets are lost: rotate them again",
                    secrets.len()
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "done: {} ok, {} dry run, {} kept, {} failed, {} unknown, {} not sent; {gone} already gone, {refused} refused",
        tally.ok, tally.dry_run, tally.kept, tally.failed, tally.unknown, tally.not_sent
    );
    let all_done = tally.ok + tally.dry_run == tally.items();
    if all_done && refused == 0 {
        Exit::Done
    } else {
        Exit::Partial
    }
}

/// The config's audit log, rotating as the TUI's does.
fn open_audit(config: &Config) -> Result<Arc<AuditLog>, String> {
    let path = config.settings.audit_log_path().map_err(|e| e.to_string())?;
    match crate::launch::open_audit_log(&path, false, config.settings.audit_max_bytes())? {
        (Some(log), _) => Ok(log),
        // Not reached: only a read-only session starts without its log.
        (None, _) => Err(format!("cannot open the audit log {}", path.display())),
    }
}

/// Execute `plan`, printing each item's outcome; the tally and any new secrets.
async fn run(
    plan: Plan,
    providers: &[Arc<dyn Provider>],
    dry_run: bool,
    audit: Arc<AuditLog>,
    cancel: CancellationToken,
    out: &mut dyn Write,
) -> (Tally, Vec<RotatedSecret>) {
    let names = plan.names.clone();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let exec = crate::queue::execute(
        plan,
        providers.to_vec(),
        ExecOptions { dry_run },
        Some(audit),
        cancel,
        tx,
    );
    let handle = tokio::spawn(exec);
    let mut tally = Tally::default();
    let mut secrets = Vec::new();
    while let Some(event) = rx.recv().await {
        match event {
            ExecEvent::Item(e) => {
                let word = e.outcome.kind().word();
                let mut rest = format!(
                    "{} {}",
                    e.action,
                    named(&e.scope.key(e.target.as_str()), e.name.as_deref().unwrap_or(""))
                );
                match &e.outcome {
                    Outcome::Failed { code, message } | Outcome::Unknown { code, message } => {
                        rest.push_str(&format!(": {}: {}", sanitize(code), sanitize(message)));
                    }
                    Outcome::Kept { reason } => rest.push_str(&format!(": {}", sanitize(reason))),
                    _ => {}
                }
                if let Some(hint) = &e.hint {
                    rest.push_str(&format!(" ({})", sanitize(hint)));
                }
                if let Some(id) = &e.request_id {
                    rest.push_str(&format!(" RequestId {}", sanitize(id)));
                }
                line(out, word, &rest);
            }
            ExecEvent::Rotated {
                key,
                request_id,
                secret,
                ..
            } => {
                let name = names.of(&key.scope, &key.id).unwrap_or_default().to_string();
                secrets.push(RotatedSecret::new(key, name, request_id, secret));
            }
            ExecEvent::Note { text, .. } => line(out, "note", &sanitize(&text)),
            ExecEvent::Finished { tally: t, .. } => tally = t,
            _ => {}
        }
    }
    if let Err(e) = handle.await {
        line(out, "failed", &format!("the executor stopped: {e}"));
    }
    (tally, secrets)
}
