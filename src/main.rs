//! Command line entry point. Subcommands are thin: each hands off to a module.

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "keyward",
    version,
    about = "Manage cloud access keys from one terminal screen"
)]
struct Cli {
    /// Start the built-in emulator with demo data and open the TUI against it
    /// (nothing is written to your config; the demo's audit log goes to a private temp dir,
    /// removed on exit).
    #[arg(long)]
    demo: bool,
    /// Disable every key that changes anything.
    #[arg(long)]
    read_only: bool,
    /// Run the whole flow but send no mutating call; log what would have been sent.
    #[arg(long)]
    dry_run: bool,
    /// Open only the sources of this account (a glob: 'prod-*'); the others are not loaded.
    #[arg(long, value_name = "NAME")]
    account: Option<String>,
    /// Open only the sources of this region or OceanBase project (a glob: 'ap-*').
    #[arg(long, value_name = "NAME")]
    region: Option<String>,
    /// Open only this provider's sources: apigateway, cvm, oceanbase or cam.
    #[arg(long, value_name = "NAME")]
    provider: Option<String>,
    /// Config file (default: $KEYWARD_CONFIG, else the platform config dir's
    /// keyward/config.toml). Not with --demo, which runs on its own built-in accounts.
    #[arg(long, global = true)]
    config: Option<std::path::PathBuf>,
    /// Write the diagnostics log (keyward's tracing, never a secret) to PATH; the level is
    /// $KEYWARD_LOG (default info), which alone logs to the state dir's keyward.log.
    #[arg(long, global = true, value_name = "PATH")]
    log_file: Option<std::path::PathBuf>,
    /// Open the TUI on this plan file's confirmation (written by `keyward plan` or `w`):
    /// its keys re-read, the changed ones marked and left out, the rest sent once confirmed.
    #[arg(long, value_name = "FILE", conflicts_with = "demo")]
    plan: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the inventory of every configured account (table, CSV or JSON).
    List(keyward::list::ListArgs),
    /// Write a reviewed plan file: the calls an intent on the keys `--where` matches would send.
    Plan(keyward::planfile::cli::PlanArgs),
    /// Apply a plan file `keyward plan` wrote: re-read its keys, send what did not change.
    Apply(keyward::planfile::cli::ApplyArgs),
    /// Serve the emulator of every provider API keyward manages.
    Emulator(keyward::emulator::cli::EmulatorArgs),
    /// Measure listing, bulk deletes and the TUI against the built-in emulator.
    Bench(keyward::bench::BenchArgs),
    /// Print every path keyward uses and where each account's credentials come from.
    Info,
    /// Check the config, credentials, clock, endpoints and one read per account and service.
    Doctor,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(keyward::completions::CompletionsArgs),
    /// Print the man page (roff): `keyward man | man -l -`; --dir writes every page.
    Man(keyward::completions::ManArgs),
    /// Check, reconcile and read the audit log.
    Audit(keyward::audit::cli::AuditArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The emulator traces its traffic to stderr: there only --log-file moves it to a file.
    let use_env = !matches!(cli.command, Some(Command::Emulator(_)));
    let log = match keyward::diagnostics::start(cli.log_file.as_deref(), use_env, &keyward::config::process_env) {
        Ok(log) => log,
        Err(e) => {
            eprintln!("keyward: {e}");
            return ExitCode::from(2);
        }
    };
    let code = match cli.command {
        None if cli.demo && cli.config.is_some() => {
            eprintln!(
                "keyward: --demo runs on the emulator's built-in accounts and does not read --config\n  \
                 fix: drop one of them (`keyward --demo`, or `keyward --config FILE`)"
            );
            ExitCode::from(2)
        }
        None => keyward::launch::run(keyward::launch::LaunchOptions {
            demo: cli.demo,
            read_only: cli.read_only,
            dry_run: cli.dry_run,
            config: cli.config.as_deref(),
            plan: cli.plan.as_deref(),
            account: cli.account.as_deref(),
            region: cli.region.as_deref(),
            provider: cli.provider.as_deref(),
        }),
        Some(Command::Emulator(_)) if cli.config.is_some() => {
            eprintln!(
                "keyward emulator: --config is not read here (the emulator serves a seed, not your accounts)\n  \
                 fix: drop --config; use --seed FILE for other data"
            );
            ExitCode::from(2)
        }
        Some(Command::Emulator(args)) => keyward::emulator::cli::run(args),
        Some(Command::List(args)) => keyward::list::command(cli.config.as_deref(), &args),
        Some(Command::Plan(_) | Command::Apply(_)) if cli.demo || cli.read_only => {
            eprintln!(
                "keyward: --demo and --read-only are TUI options; plan and apply run on your config and nothing else\n  \
                 fix: drop them (`keyward apply --dry-run FILE` sends nothing)"
            );
            ExitCode::from(2)
        }
        Some(Command::Plan(args)) => keyward::planfile::cli::plan_command(cli.config.as_deref(), &args),
        Some(Command::Apply(mut args)) => {
            // `keyward --dry-run apply FILE` must not send either.
            args.dry_run |= cli.dry_run;
            keyward::planfile::cli::apply_command(cli.config.as_deref(), &args)
        }
        Some(Command::Bench(args)) => keyward::bench::command(&args),
        Some(Command::Info) => keyward::info::command(cli.config.as_deref(), cli.log_file.as_deref()),
        Some(Command::Doctor) => keyward::doctor::command(cli.config.as_deref()),
        Some(Command::Completions(args)) => keyward::completions::completions_command(&args, Cli::command()),
        Some(Command::Man(args)) => keyward::completions::man_command(&args, Cli::command()),
        Some(Command::Audit(args)) => keyward::audit::cli::command(cli.config.as_deref(), &args),
    };
    if let Some(path) = log {
        eprintln!("keyward: diagnostics log at {}", path.display());
    }
    code
}
