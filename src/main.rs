//! Command line entry point. Subcommands are thin: each hands off to a module.

use clap::{Parser, Subcommand};
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
    /// Config file (default: $KEYWARD_CONFIG, else the platform config dir's
    /// keyward/config.toml). Not with --demo, which runs on its own built-in accounts.
    #[arg(long, global = true)]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the inventory of every configured account (table, CSV or JSON).
    List(keyward::list::ListArgs),
    /// Serve the emulator of every provider API keyward manages.
    Emulator(keyward::emulator::cli::EmulatorArgs),
    /// Measure listing, bulk deletes and the TUI against the built-in emulator.
    Bench(keyward::bench::BenchArgs),
    /// Check, reconcile and read the audit log.
    Audit(keyward::audit::cli::AuditArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
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
        Some(Command::Bench(args)) => keyward::bench::command(&args),
        Some(Command::Audit(args)) => keyward::audit::cli::command(cli.config.as_deref(), &args),
    }
}
