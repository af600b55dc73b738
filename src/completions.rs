//! `keyward completions SHELL` and `keyward man`: shell completion scripts and the man
//! page, generated from the clap definitions (handed in by `main`, which owns them) so
//! they never drift from the real flags.

use clap_complete::Shell;
use std::io::Write;
use std::process::ExitCode;

#[derive(clap::Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell to complete for; source the output, e.g. `keyward completions bash >
    /// ~/.local/share/bash-completion/completions/keyward`.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Write the completion script for `shell` to `out`.
pub fn write_completions(shell: Shell, mut cmd: clap::Command, out: &mut dyn Write) {
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, out);
}

#[derive(clap::Args, Debug, Clone)]
pub struct ManArgs {
    /// Write keyward.1 and a page per subcommand (keyward-list.1, ...) into DIR instead of
    /// printing keyward.1: the pages keyward.1 refers to.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<std::path::PathBuf>,
}

/// `help` is clap's, not a command with a page of its own.
fn for_man(cmd: clap::Command) -> clap::Command {
    cmd.disable_help_subcommand(true)
}

/// Write the man page (roff) to `out`.
pub fn write_man(cmd: clap::Command, out: &mut dyn Write) -> std::io::Result<()> {
    clap_mangen::Man::new(for_man(cmd)).render(out)
}

/// Write every page into `dir` (created if missing).
pub fn write_man_pages(cmd: clap::Command, dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(for_man(cmd), dir)
}

/// `keyward completions SHELL`, to stdout.
pub fn completions_command(args: &CompletionsArgs, cmd: clap::Command) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    write_completions(args.shell, cmd, &mut stdout);
    finish(stdout.flush())
}

/// `keyward man`, to stdout (`keyward man | man -l -`), or `--dir DIR`, every page.
pub fn man_command(args: &ManArgs, cmd: clap::Command) -> ExitCode {
    if let Some(dir) = &args.dir {
        return match write_man_pages(cmd, dir) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!(
                    "keyward: cannot write the man pages into {}: {e}\n  fix: pass --dir with a directory you can write",
                    dir.display()
                );
                ExitCode::FAILURE
            }
        };
    }
    let mut stdout = std::io::stdout().lock();
    let written = write_man(cmd, &mut stdout).and_then(|()| stdout.flush());
    finish(written)
}

fn finish(written: std::io::Result<()>) -> ExitCode {
    match written {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`keyward man | head`) is the reader's choice, not a failure.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyward: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd() -> clap::Command {
        clap::Command::new("keyward")
            .about("test")
            .arg(
                clap::Arg::new("read-only")
                    .long("read-only")
                    .action(clap::ArgAction::SetTrue),
            )
            .subcommand(clap::Command::new("list").about("Print the inventory"))
    }

    #[test]
    fn each_shell_gets_a_script_naming_the_flags_and_subcommands() {
        for (shell, marker) in [
            (Shell::Bash, "complete -F _keyward"),
            (Shell::Zsh, "#compdef keyward"),
            (Shell::Fish, "complete -c keyward"),
        ] {
            let mut out = Vec::new();
            write_completions(shell, cmd(), &mut out);
            let text = String::from_utf8(out).unwrap();
            assert!(text.contains(marker), "{shell}: {text}");
            assert!(text.contains("read-only") && text.contains("list"), "{shell}: {text}");
        }
    }

    #[test]
    fn the_man_page_is_roff_with_the_options() {
        let mut out = Vec::new();
        write_man(cmd(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(".ie") || text.contains(".TH keyward"), "{text}");
        assert!(text.contains("read\\-only"), "{text}");
        assert!(
            text.contains("keyward\\-list(1)") && !text.contains("keyward\\-help"),
            "{text}"
        );
    }

    #[test]
    fn the_pages_it_refers_to_are_written_with_it() {
        let dir = tempfile::tempdir().unwrap();
        write_man_pages(cmd(), &dir.path().join("man1")).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path().join("man1"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["keyward-list.1", "keyward.1"]);
    }
}
