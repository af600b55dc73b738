//! Reviewed plan files end to end: `keyward plan` and `keyward apply` (the library
//! functions the commands call) against the emulator through the real providers, the real
//! executor and a real audit log; and `[[protect]]` in the TUI, driven by scripted keys.
//! Assertions are on the emulator's state and action counters, the files, the audit log
//! and the commands' output and exit.

use crate::support::harness::Harness;
use crossterm::event::KeyCode;
use keyward::audit::{self, AuditLog};
use keyward::config::Config;
use keyward::demo::DemoConfig;
use keyward::emulator::{self, Emulator, EmulatorOptions, Seed, SeedApiKey, SeedKeyPair};
use keyward::planfile::FileIntent;
use keyward::planfile::cli::{self, ApplyArgs, Exit, Io, PlanArgs};
use keyward::providers::Provider;
use keyward::queue::protect::{NamePattern, Protect, Rule};
use keyward::tui::{RunOptions, Runtime};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const GZ: &str = "ap-guangzhou";
/// The account `Seed::generated` names first.
const ACCOUNT: &str = "tencent-00";

/// A small generated inventory plus, in ap-guangzhou, three free key pairs `e2e_drop_N`,
/// two `e2e_keep_N`, and four enabled API keys `e2e-gw-N` with known old secrets.
fn seed() -> Seed {
    let mut seed = Seed::generated(1, &[GZ], 4, 4, 1);
    let account = &mut seed.tencent[0];
    for (i, name) in ["e2e_drop_0", "e2e_drop_1", "e2e_drop_2", "e2e_keep_0", "e2e_keep_1"]
        .iter()
        .enumerate()
    {
        account.key_pairs.push(SeedKeyPair {
            region: GZ.into(),
            id: pair_id(i),
            name: (*name).into(),
            project_id: 0,
            description: String::new(),
            public_key: None,
            instances: Vec::new(),
            images: Vec::new(),
            created: "2025-01-01T00:00:00Z".into(),
        });
    }
    for i in 0..4 {
        account.api_keys.push(SeedApiKey {
            region: GZ.into(),
            id: gw_id(i),
            secret: old_secret(i),
            name: format!("e2e-gw-{i}"),
            key_type: "auto".into(),
            disabled: false,
            usage_plan: None,
            created: "2025-01-01T00:00:00Z".into(),
            modified: None,
        });
    }
    seed
}

fn pair_id(i: usize) -> String {
    format!("skey-plan{i:04}")
}

fn gw_id(i: usize) -> String {
    format!("AKIDplan{i}00000000000000000000000000")
}

fn old_secret(i: usize) -> String {
    format!("oldPlanSecret{i}000000000000000000")
}

struct Env {
    emu: Emulator,
    config: Config,
    providers: Vec<Arc<dyn Provider>>,
    dir: tempfile::TempDir,
    audit_path: PathBuf,
}

/// What a command printed and how it ended.
struct Ran {
    exit: Exit,
    out: String,
    err: String,
}

impl Env {
    async fn start() -> Env {
        Env::with_protect(Protect::default()).await
    }

    async fn with_protect(protect: Protect) -> Env {
        let seed = seed();
        let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let audit_path = dir.path().join("audit.jsonl");
        let demo = DemoConfig::new(&emu, &seed, Some(audit_path.clone()));
        let providers = demo.providers().await.unwrap();
        let mut config = demo.config;
        config.protect = protect;
        Env {
            emu,
            config,
            providers,
            dir,
            audit_path,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn plan(&self, intent: FileIntent, filter: &str, output: &Path) -> Ran {
        let args = PlanArgs {
            intent,
            filter: filter.into(),
            provider: None,
            account: None,
            region: None,
            output: output.to_path_buf(),
            force: false,
        };
        let mut err = Vec::new();
        let exit = cli::plan(
            &self.config,
            &self.providers,
            &args,
            chrono::Utc::now(),
            "ops@bastion".into(),
            &mut err,
        )
        .await;
        Ran {
            exit,
            out: String::new(),
            err: String::from_utf8(err).unwrap(),
        }
    }

    /// `keyward apply` with `--confirm` (if given), `--dry-run`, and `typed` as what the
    /// operator types at the prompt (None: no terminal).
    async fn apply(&self, file: &Path, confirm: Option<&str>, dry_run: bool, typed: Option<&str>) -> Ran {
        let args = ApplyArgs {
            file: file.to_path_buf(),
            confirm: confirm.map(str::to_string),
            dry_run,
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut answer = typed.map(|t| std::io::Cursor::new(t.as_bytes().to_vec()));
        let io = Io {
            out: &mut out,
            err: &mut err,
            answer: answer.as_mut().map(|a| a as &mut dyn std::io::BufRead),
        };
        let exit = cli::apply(
            &self.config,
            &self.providers,
            &args,
            chrono::Utc::now(),
            io,
            CancellationToken::new(),
            self.dir.path(),
        )
        .await;
        Ran {
            exit,
            out: String::from_utf8(out).unwrap(),
            err: String::from_utf8(err).unwrap(),
        }
    }

    fn pairs(&self) -> Vec<String> {
        self.emu.state().key_pair_ids(ACCOUNT, GZ)
    }

    fn mutations(&self) -> u64 {
        let state = self.emu.state();
        [
            "DeleteKeyPairs",
            "DisableApiKey",
            "EnableApiKey",
            "DeleteApiKey",
            "UpdateApiKey",
        ]
        .iter()
        .map(|a| state.action_count(a))
        .sum()
    }

    fn audit_records(&self, kind: &str) -> Vec<serde_json::Value> {
        if !self.audit_path.exists() {
            return Vec::new();
        }
        audit::read_entries(&self.audit_path)
            .unwrap()
            .into_iter()
            .filter(|e| e["type"] == kind)
            .collect()
    }
}

/// The `--confirm` value the plan's summary ends with.
fn confirm_line(plan_err: &str) -> String {
    let last = plan_err.lines().last().unwrap_or_default();
    last.strip_prefix("confirm with: --confirm ")
        .unwrap_or_else(|| panic!("the summary ends with the confirm line:\n{plan_err}"))
        .to_string()
}

fn ids_in(records: &[serde_json::Value]) -> Vec<String> {
    records
        .iter()
        .flat_map(|r| r["ids"].as_array().cloned().unwrap_or_default())
        .map(|id| id.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_applied_after_an_item_changed_sends_nothing_for_it() {
    let env = Env::start().await;
    let file = env.path("disable.json");
    let planned = env.plan(FileIntent::Disable, "name:e2e-gw-*", &file).await;
    assert_eq!(planned.exit, Exit::Done, "{}", planned.err);
    let confirm = confirm_line(&planned.err);
    assert!(confirm.starts_with("4:"), "{confirm}");
    assert!(planned.err.contains("DisableApiKey"), "{}", planned.err);

    // Someone touches one key between the review and the apply.
    let changed = gw_id(2);
    assert!(env.emu.state().update_api_key(ACCOUNT, GZ, &changed, |k| {
        k.modified = "2026-01-01T00:00:00Z".into();
    }));
    let disables = env.emu.state().action_count("DisableApiKey");
    let ran = env.apply(&file, Some(&confirm), false, None).await;
    assert_eq!(
        ran.exit,
        Exit::Partial,
        "a refused item is not all done:\n{}{}",
        ran.out,
        ran.err
    );
    assert_eq!(
        env.emu.state().action_count("DisableApiKey"),
        disables + 3,
        "one DisableApiKey per unchanged key, none for the changed one"
    );
    let state = env.emu.state();
    assert!(
        state.api_key(ACCOUNT, GZ, &changed).unwrap().enabled,
        "the changed key was not touched"
    );
    for i in [0, 1, 3] {
        assert!(!state.api_key(ACCOUNT, GZ, &gw_id(i)).unwrap().enabled);
    }
    assert!(
        ran.out.lines().any(|l| l.starts_with("refused")
            && l.contains(&changed)
            && l.contains("changed since the plan was written")),
        "{}",
        ran.out
    );
    assert_eq!(ids_in(&env.audit_records("intent")).len(), 3);
    assert!(!ids_in(&env.audit_records("intent")).contains(&changed));
}

/// The audit log names the plan on the run, on every intent and on every outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_records_the_plan_hash_on_every_line_of_the_run() {
    let env = Env::start().await;
    let file = env.path("delete.json");
    let planned = env.plan(FileIntent::Delete, "e2e_drop", &file).await;
    assert_eq!(planned.exit, Exit::Done, "{}", planned.err);
    let hash = keyward::planfile::PlanFile::read(&file).unwrap().hash;
    let ran = env.apply(&file, Some(&confirm_line(&planned.err)), false, None).await;
    assert_eq!(ran.exit, Exit::Done, "{}{}", ran.out, ran.err);
    let lines: Vec<serde_json::Value> = ["run", "intent", "outcome"]
        .iter()
        .flat_map(|kind| env.audit_records(kind))
        .collect();
    assert_eq!(
        lines.len(),
        3,
        "one run, one DeleteKeyPairs intent and outcome: {lines:?}"
    );
    assert!(lines.iter().all(|l| l["plan"] == hash.as_str()), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hand_edited_plan_is_refused_whole() {
    let env = Env::start().await;
    let file = env.path("delete.json");
    let planned = env.plan(FileIntent::Delete, "e2e_drop", &file).await;
    assert_eq!(planned.exit, Exit::Done, "{}", planned.err);
    let confirm = confirm_line(&planned.err);
    let text = std::fs::read_to_string(&file).unwrap();
    let before = env.pairs();

    // An extra id slipped into the call (a protected pair, say).
    let extra = text.replacen(
        &format!("\"{}\"", pair_id(0)),
        &format!("\"{}\",\"{}\"", pair_id(0), pair_id(3)),
        1,
    );
    assert_ne!(extra, text);
    let edited = env.path("extra.json");
    std::fs::write(&edited, extra).unwrap();
    let ran = env.apply(&edited, Some(&confirm), false, None).await;
    assert_eq!(ran.exit, Exit::Refused);
    assert!(ran.err.contains("hash does not match"), "{}", ran.err);

    // The hash changed to match nothing.
    let hash = keyward::planfile::PlanFile::read(&file).unwrap().hash;
    let rehashed = env.path("rehashed.json");
    std::fs::write(&rehashed, text.replace(&hash, &"ab".repeat(32))).unwrap();
    let ran = env.apply(&rehashed, Some(&confirm), false, None).await;
    assert_eq!(ran.exit, Exit::Refused);

    assert_eq!(env.pairs(), before, "nothing was deleted");
    assert_eq!(env.mutations(), 0, "no mutating call reached the emulator");
    assert!(env.audit_records("intent").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_with_the_wrong_count_or_hash_sends_nothing() {
    let env = Env::start().await;
    let file = env.path("delete.json");
    let planned = env.plan(FileIntent::Delete, "e2e_drop", &file).await;
    let confirm = confirm_line(&planned.err);
    let (count, prefix) = confirm.split_once(':').unwrap();
    assert_eq!(count, "3");
    let listings = env.emu.state().action_count("DescribeKeyPairs");
    for wrong in [
        format!("2:{prefix}"),
        format!("4:{prefix}"),
        format!("3:{}", "0".repeat(12)),
        "3".into(),
    ] {
        let ran = env.apply(&file, Some(&wrong), false, None).await;
        assert_eq!(ran.exit, Exit::Refused, "{wrong}");
        assert!(
            ran.err.contains("nothing was sent") || ran.err.contains("is not COUNT:HASH"),
            "{}",
            ran.err
        );
    }
    // Without --confirm and without a terminal, nothing is sent either.
    let ran = env.apply(&file, None, false, None).await;
    assert_eq!(ran.exit, Exit::Refused);
    assert!(ran.err.contains("--confirm"), "{}", ran.err);
    // A wrong typed count at the prompt.
    let ran = env.apply(&file, None, false, Some("2\n")).await;
    assert_eq!(ran.exit, Exit::Refused, "{}{}", ran.out, ran.err);
    assert!(ran.err.contains("type 3"), "{}", ran.err);

    assert_eq!(env.mutations(), 0);
    assert_eq!(env.pairs().len(), 9, "4 generated and 5 e2e pairs are all still there");
    assert!(env.audit_records("intent").is_empty());
    assert_eq!(
        env.emu.state().action_count("DescribeKeyPairs"),
        listings + 1,
        "a wrong --confirm is refused before anything is even listed (the prompt lists once)"
    );

    // The right typed count goes on.
    let ran = env.apply(&file, None, false, Some("3\n")).await;
    assert_eq!(ran.exit, Exit::Done, "{}{}", ran.out, ran.err);
    assert_eq!(env.pairs().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_plan_applied_twice_reports_already_gone() {
    let env = Env::start().await;
    let file = env.path("delete.json");
    let planned = env.plan(FileIntent::Delete, "e2e_drop", &file).await;
    let confirm = confirm_line(&planned.err);
    let first = env.apply(&file, Some(&confirm), false, None).await;
    assert_eq!(first.exit, Exit::Done, "{}{}", first.out, first.err);
    assert_eq!(
        first.out.lines().filter(|l| l.starts_with("ok")).count(),
        3,
        "{}",
        first.out
    );
    let deletes = env.emu.state().action_count("DeleteKeyPairs");

    let second = env.apply(&file, Some(&confirm), false, None).await;
    assert_eq!(
        second.exit,
        Exit::Done,
        "already gone is done:\n{}{}",
        second.out,
        second.err
    );
    let gone: Vec<&str> = second.out.lines().filter(|l| l.starts_with("gone")).collect();
    assert_eq!(gone.len(), 3, "{}", second.out);
    assert!(gone.iter().all(|l| l.ends_with("already gone")));
    assert!(!second.out.contains("failed"), "{}", second.out);
    assert_eq!(
        env.emu.state().action_count("DeleteKeyPairs"),
        deletes,
        "nothing sent again"
    );
}

/// Protected key pairs selected by the filter never reach a call: `plan` lists them as
/// skipped with the rule's place, and a rule added after the plan was written stops
/// `apply` from sending the key it protects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_keys_never_reach_a_call_headless() {
    let mut rule = Rule::at("/etc/keyward/config.toml:30");
    rule.name = Some(NamePattern::new("e2e_keep_*"));
    let mut env = Env::with_protect(Protect::new(vec![rule])).await;
    let file = env.path("delete.json");
    let planned = env.plan(FileIntent::Delete, "e2e_", &file).await;
    assert_eq!(planned.exit, Exit::Done, "{}", planned.err);
    assert_eq!(confirm_line(&planned.err).split_once(':').unwrap().0, "3");
    assert_eq!(
        planned.err.matches("protected by /etc/keyward/config.toml:30").count(),
        2,
        "{}",
        planned.err
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let plan: serde_json::Value = serde_json::from_str(&text).unwrap();
    let call_ids = ids_in(plan["calls"].as_array().unwrap());
    assert!(
        !call_ids.contains(&pair_id(3)) && !call_ids.contains(&pair_id(4)),
        "{call_ids:?}"
    );

    // Protect one more pair after the review.
    let mut later = Rule::at("/etc/keyward/config.toml:34");
    later.id = Some(pair_id(1));
    let mut rules = env.config.protect.rules().to_vec();
    rules.push(later);
    env.config.protect = Protect::new(rules);
    let ran = env.apply(&file, Some(&confirm_line(&planned.err)), false, None).await;
    assert_eq!(ran.exit, Exit::Partial, "{}{}", ran.out, ran.err);
    assert!(
        ran.out
            .lines()
            .any(|l| l.starts_with("refused") && l.contains(&pair_id(1)) && l.contains("config.toml:34")),
        "{}",
        ran.out
    );
    let pairs = env.pairs();
    for kept in [1, 3, 4] {
        assert!(pairs.contains(&pair_id(kept)), "{} must survive", pair_id(kept));
    }
    for deleted in [0, 2] {
        assert!(!pairs.contains(&pair_id(deleted)));
    }
    let sent = ids_in(&env.audit_records("intent"));
    assert_eq!(sent, [pair_id(0), pair_id(2)]);
}

/// In the TUI: every e2e pair selected with `a`, delete confirmed with the count the
/// dialog asks for; the protected pairs are not in any call and survive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_keys_never_reach_a_call_in_the_tui() {
    let mut rule = Rule::at("/etc/keyward/config.toml:30");
    rule.name = Some(NamePattern::new("e2e_keep_*"));
    let env = Env::with_protect(Protect::new(vec![rule])).await;
    let opts = RunOptions {
        title: "plan e2e".into(),
        audit: Some(Arc::new(AuditLog::open(&env.audit_path).unwrap())),
        secrets_dir: Some(env.dir.path().to_path_buf()),
        protect: env.config.protect.clone(),
        ..RunOptions::default()
    };
    let mut h = Harness::new(Runtime::new(env.providers.clone(), &opts), 140, 40);
    h.start();
    h.settle().await.unwrap();
    h.press("2/e2e_");
    h.key(KeyCode::Enter);
    h.press("a");
    assert_eq!(
        h.app().tab().selected_count(),
        5,
        "the protected pairs are selected too"
    );
    h.press("d");
    let screen = h.render();
    assert!(screen.contains("protected by /etc/keyward/config.toml:30"), "{screen}");
    h.press("delete 3");
    h.key(KeyCode::Enter);
    assert!(h.app().run.is_some(), "{}", h.render());
    h.wait_until("the delete run to finish", |app| app.run_settled())
        .await
        .unwrap();
    let pairs = env.pairs();
    assert!(pairs.contains(&pair_id(3)) && pairs.contains(&pair_id(4)));
    for deleted in 0..3 {
        assert!(!pairs.contains(&pair_id(deleted)));
    }
    let sent = ids_in(&env.audit_records("intent"));
    assert_eq!(sent.len(), 3);
    assert!(!sent.contains(&pair_id(3)) && !sent.contains(&pair_id(4)), "{sent:?}");
}

/// DescribeApiKeysStatus returns every key's secret in clear; neither the plan nor the
/// apply's output nor the audit log holds one, old or new. The new secrets go only to
/// the private file apply writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plan_file_never_contains_a_secret() {
    let env = Env::start().await;
    let file = env.path("rotate.json");
    let planned = env.plan(FileIntent::Rotate, "name:e2e-gw-*", &file).await;
    assert_eq!(planned.exit, Exit::Done, "{}", planned.err);
    let plan_text = std::fs::read_to_string(&file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let ran = env.apply(&file, Some(&confirm_line(&planned.err)), false, None).await;
    assert_eq!(ran.exit, Exit::Done, "{}{}", ran.out, ran.err);
    let state = env.emu.state();
    let new_secrets: Vec<String> = (0..4)
        .map(|i| {
            state
                .api_key(ACCOUNT, GZ, &gw_id(i))
                .unwrap()
                .secret
                .expose()
                .to_string()
        })
        .collect();
    let audit_text = std::fs::read_to_string(&env.audit_path).unwrap();
    for (i, new) in new_secrets.iter().enumerate() {
        let old = old_secret(i);
        assert_ne!(&old, new, "the key was rotated");
        for (what, text) in [
            ("plan file", &plan_text),
            ("plan summary", &planned.err),
            ("apply output", &ran.out),
            ("apply errors", &ran.err),
            ("audit log", &audit_text),
        ] {
            assert!(
                !text.contains(&old) && !text.contains(new.as_str()),
                "{what} holds a secret"
            );
        }
    }
    let written = ran
        .out
        .lines()
        .find_map(|l| l.strip_prefix("new secrets written to "))
        .and_then(|l| l.strip_suffix(" (mode 600)"))
        .unwrap_or_else(|| panic!("{}", ran.out));
    let secrets_file = std::fs::read_to_string(written).unwrap();
    assert!(new_secrets.iter().all(|s| secrets_file.contains(s.as_str())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_checks_everything_and_sends_nothing() {
    let env = Env::start().await;
    let file = env.path("delete.json");
    let planned = env.plan(FileIntent::Delete, "e2e_drop", &file).await;
    let ran = env.apply(&file, None, true, None).await;
    assert_eq!(ran.exit, Exit::Done, "{}{}", ran.out, ran.err);
    assert_eq!(
        ran.out.lines().filter(|l| l.starts_with("dry_run")).count(),
        3,
        "{}",
        ran.out
    );
    assert_eq!(env.mutations(), 0);
    assert_eq!(env.pairs().len(), 9);
    let intents = env.audit_records("intent");
    assert!(!intents.is_empty() && intents.iter().all(|i| i["dry_run"] == true));
    // And the plan still applies afterwards.
    let ran = env.apply(&file, Some(&confirm_line(&planned.err)), false, None).await;
    assert_eq!(ran.exit, Exit::Done, "{}{}", ran.out, ran.err);
    assert_eq!(env.pairs().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_refuses_a_bad_filter_an_existing_file_and_an_empty_selection() {
    let env = Env::start().await;
    let file = env.path("plan.json");
    let bad = env.plan(FileIntent::Delete, "age>soon", &file).await;
    assert_eq!(bad.exit, Exit::Refused);
    assert!(bad.err.contains("--where age>soon"), "{}", bad.err);
    let empty = env.plan(FileIntent::Delete, " ", &file).await;
    assert_eq!(empty.exit, Exit::Refused);
    let none = env.plan(FileIntent::Delete, "name:no-such-key", &file).await;
    assert_eq!(none.exit, Exit::Partial);
    assert!(!file.exists(), "nothing was written");
    assert_eq!(env.plan(FileIntent::Delete, "e2e_drop", &file).await.exit, Exit::Done);
    let again = env.plan(FileIntent::Delete, "e2e_drop", &file).await;
    assert_eq!(again.exit, Exit::Refused);
    assert!(again.err.contains("--force"), "{}", again.err);
}

/// A plan older than `plan_max_age_hours` is refused before anything is listed or sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_plan_is_refused() {
    let mut env = Env::start().await;
    let file = env.path("delete.json");
    let planned = env.plan(FileIntent::Delete, "e2e_drop", &file).await;
    // Rewrite it as written two days ago, hash and all, as `keyward plan` would have.
    let mut plan = keyward::planfile::PlanFile::read(&file).unwrap();
    plan.body.created_at -= chrono::TimeDelta::hours(48);
    let old = keyward::planfile::PlanFile::from_parts(plan.body);
    old.write_new(&file, true).unwrap();
    let ran = env.apply(&file, Some(&old.confirm_token()), false, None).await;
    assert_eq!(ran.exit, Exit::Refused);
    assert!(ran.err.contains("plan_max_age_hours"), "{}", ran.err);
    env.config.settings.plan_max_age_hours = 72;
    let ran = env.apply(&file, Some(&old.confirm_token()), false, None).await;
    assert_eq!(ran.exit, Exit::Done, "{}{}", ran.out, ran.err);
    assert_ne!(
        old.confirm_token(),
        confirm_line(&planned.err),
        "the time is in the hash"
    );
}

/// What a confirmation dialog gets from `planfile::open`: the refused items marked, and
/// the plan that would run without them. Nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_marks_the_refused_items_for_a_confirmation() {
    let env = Env::start().await;
    let file = env.path("disable.json");
    assert_eq!(
        env.plan(FileIntent::Disable, "name:e2e-gw-*", &file).await.exit,
        Exit::Done
    );
    let changed = gw_id(1);
    env.emu
        .state()
        .update_api_key(ACCOUNT, GZ, &changed, |k| k.enabled = false);
    let (plan, checked) = keyward::planfile::open(&file, &env.config, &env.providers, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(plan.item_count(), 4);
    let refused: Vec<String> = checked.refused().map(|(i, _)| i.key.id.to_string()).collect();
    assert_eq!(refused, [changed]);
    assert_eq!(checked.plan.item_count(), 3);
    assert_eq!(checked.plan.plan_hash.as_deref(), Some(plan.hash.as_str()));
    assert_eq!(env.mutations(), 0);
}
