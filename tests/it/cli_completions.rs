//! `keyward completions` and `keyward man` as the binary prints them: generated from the
//! real clap definitions, so they name the real subcommands and flags.

use std::process::Command;

fn keyward(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(args)
        .output()
        .expect("keyward runs");
    assert!(
        out.status.success(),
        "keyward {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The bash script, sourced into a real bash, completes subcommands and flags.
#[test]
fn bash_completion_completes_subcommands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("keyward.bash");
    std::fs::write(&script, keyward(&["completions", "bash"])).unwrap();
    let complete = |words: &str| {
        let probe = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _keyward keyward \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = Command::new("bash").arg("-c").arg(probe).output().expect("bash runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let subcommands = complete("keyward ''");
    for sub in ["list", "emulator", "completions", "man"] {
        assert!(subcommands.lines().any(|l| l == sub), "{sub} missing:\n{subcommands}");
    }
    assert_eq!(complete("keyward --read"), "--read-only\n");
    let shells = complete("keyward completions ''");
    assert!(
        shells.lines().any(|l| l == "zsh") && shells.lines().any(|l| l == "fish"),
        "{shells}"
    );
}

#[test]
fn zsh_and_fish_scripts_name_the_command() {
    assert!(keyward(&["completions", "zsh"]).starts_with("#compdef keyward"));
    let fish = keyward(&["completions", "fish"]);
    assert!(
        fish.contains("complete -c keyward") && fish.contains("read-only"),
        "{fish}"
    );
}

#[test]
fn the_man_page_lists_the_options_and_the_pages_of_the_subcommands() {
    let page = keyward(&["man"]);
    assert!(page.contains(".TH keyward 1"), "{page}");
    assert!(
        page.contains("\\-\\-log\\-file") && page.contains("\\-\\-read\\-only"),
        "{page}"
    );
    assert!(page.contains("keyward\\-list(1)"), "{page}");
    let dir = tempfile::tempdir().unwrap();
    let man1 = dir.path().join("man1");
    keyward(&["man", "--dir", man1.to_str().unwrap()]);
    for page in [
        "keyward.1",
        "keyward-list.1",
        "keyward-emulator.1",
        "keyward-completions.1",
    ] {
        let text = std::fs::read_to_string(man1.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}: {text}");
    }
}
