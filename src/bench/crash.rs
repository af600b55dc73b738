//! The crash drill: a bulk delete run by keyward processes that are killed (SIGKILL) at
//! random points while the emulator fails calls, each kill followed by what the next
//! start does (reconcile the interrupted calls), until the audit log and the emulator
//! are compared item by item. An item is unaccounted for when the log's last word about
//! it (an outcome or a reconciled record) contradicts the emulator, or when the log has
//! a call for it and no word.
//!
//! The runs are child processes of the keyward binary (`keyward audit drill-run`, hidden),
//! against an emulator in this process, so a kill is a real one: no destructor, no flush.
//! The kill points are drawn by audit line: random lines among those the whole run would
//! write, so any point of a run can be hit, from right after its `run` line to its last
//! outcome; each restart runs what is left until the next point.

use super::BenchError;
use crate::audit::{self, AuditLog};
use crate::config::{Config, TencentService, process_env};
use crate::emulator::{self, Emulator, EmulatorOptions, Faults, Seed};
use crate::inventory::ProviderKind;
use crate::providers::{Operation, Provider};
use crate::queue::{self, ExecOptions, Intent};
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const ACCOUNT: &str = "tencent-00";
const REGIONS: [&str; 2] = ["ap-guangzhou", "ap-shanghai"];
const ID_VAR: &str = "KEYWARD_DRILL_SECRET_ID";
const KEY_VAR: &str = "KEYWARD_DRILL_SECRET_KEY";

/// How big a drill is.
#[derive(Debug, Clone, Copy)]
pub struct DrillSize {
    /// Items to delete: 80 % key pairs, 20 % API keys (disable, then delete), over two regions.
    pub items: usize,
    /// SIGKILLs to deliver.
    pub kills: usize,
    /// Share of calls the emulator answers with a 5xx, and again of connections it drops.
    pub fault_rate: f64,
    /// Seeds the kill points.
    pub seed: u64,
}

/// What a drill found.
#[derive(Debug, Clone, Default)]
pub struct DrillReport {
    pub items: usize,
    /// Kills delivered (a run that finished before its kill point was not killed).
    pub kills: usize,
    /// Child runs started.
    pub runs: usize,
    /// Interrupted calls the reconciliations recorded.
    pub reconciled_calls: usize,
    pub reconciled_gone: usize,
    pub reconciled_present: usize,
    /// Items the log last says may or may not be done (`unknown`: no answer to the call).
    pub unknown: usize,
    /// Items gone, with a record saying so.
    pub gone: usize,
    /// Items the log contradicts or is silent about after calling for them.
    pub unaccounted: Vec<String>,
    /// The audit log's chain after all of it.
    pub chain_intact: bool,
}

/// Run the drill with `exe` as the keyward binary.
pub async fn drill(exe: &Path, size: DrillSize) -> Result<DrillReport, BenchError> {
    let kp_per_region = size.items * 4 / 10;
    let api_per_region = size.items / 10;
    // Generous with API keys: some of the generated ones are disabled or bound.
    let seed = Seed::generated(1, &REGIONS, kp_per_region, api_per_region * 2 + 5, 0);
    let emu = emulator::start(EmulatorOptions::new(seed.clone())).await?;
    let dir = tempfile::tempdir().map_err(|source| BenchError::Io {
        context: "cannot create a temp dir for the drill".into(),
        source,
    })?;
    let audit_path = dir.path().join("audit.jsonl");
    let config_path = dir.path().join("config.toml");
    let ids_path = dir.path().join("ids.tsv");
    let io = |context: String| move |source| BenchError::Io { context, source };
    std::fs::write(&config_path, config_text(&emu, &audit_path))
        .map_err(io(format!("cannot write {}", config_path.display())))?;
    let secrets = (seed.tencent[0].secret_id.clone(), seed.tencent[0].secret_key.clone());
    let env = |name: &str| match name {
        ID_VAR => Some(secrets.0.clone()),
        KEY_VAR => Some(secrets.1.clone()),
        _ => None,
    };
    let cfg = Config::parse(&config_text(&emu, &audit_path), &config_path, &env)?;
    let providers = crate::registry::build(&cfg, &env)?;

    let state = emu.state();
    let mut selected: Vec<(String, String)> = Vec::new();
    for region in REGIONS {
        let pairs = state.key_pairs(ACCOUNT, region);
        selected.extend(
            pairs
                .iter()
                .take(kp_per_region)
                .map(|k| (region.to_string(), k.id.clone())),
        );
        let keys = state.api_keys(ACCOUNT, region);
        let free = keys.iter().filter(|k| k.enabled && k.usage_plan.is_none());
        selected.extend(free.take(api_per_region).map(|k| (region.to_string(), k.id.clone())));
    }
    if selected.len() < size.items * 9 / 10 {
        return Err(BenchError::Inconsistent(format!(
            "the drill's seed has {} items to delete, {} asked",
            selected.len(),
            size.items
        )));
    }
    let lines: String = selected.iter().map(|(r, id)| format!("{r}\t{id}\n")).collect();
    std::fs::write(&ids_path, lines).map_err(io(format!("cannot write {}", ids_path.display())))?;

    let log = AuditLog::open(&audit_path)?;
    let mut report = DrillReport {
        items: selected.len(),
        ..DrillReport::default()
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(size.seed);
    state.set_faults(Faults {
        error_rate: size.fault_rate,
        drop_rate: size.fault_rate,
        ..Faults::none()
    });
    // The kill points: `kills` random lines among those the whole run would write (a
    // `run` line, an intent and an outcome per call, a `run_end` line), sorted. Each
    // start reconciles what the last run left, then runs what remains until the next
    // point; lines of the parent's reconciliations do not count.
    let span = 2 * remaining_calls(&emu, &selected) as u64 + 2;
    let mut points: Vec<u64> = (0..size.kills).map(|_| rng.random_range(1..=span)).collect();
    points.sort_unstable();
    let mut written = 0;
    for point in points {
        reconcile(&log, &providers, &mut report).await?;
        if remaining_calls(&emu, &selected) == 0 {
            break;
        }
        // At least one line per run: two points on one line are two kills in a row.
        let kill_after = point.saturating_sub(written).max(1);
        report.runs += 1;
        let run = run_child(exe, &config_path, &ids_path, &audit_path, &secrets, Some(kill_after)).await?;
        written += run.lines;
        report.kills += usize::from(run.killed);
        settle(&emu).await;
    }
    // The next starts: the last kill's calls are reconciled; an `unknown` (a listing
    // failed under the faults) is tried again, as at every start.
    for _ in 0..3 {
        reconcile(&log, &providers, &mut report).await?;
    }
    state.set_faults(Faults::none());
    reconcile(&log, &providers, &mut report).await?;
    account(&emu, &audit_path, &selected, &mut report)?;
    report.chain_intact = audit::verify::verify_file(&audit_path)?.intact();
    emu.shutdown().await;
    Ok(report)
}

fn config_text(emu: &Emulator, audit_path: &Path) -> String {
    format!(
        "[[tencent]]\nname = \"{ACCOUNT}\"\nregions = [\"{}\", \"{}\"]\nservices = [\"apigateway\", \"cvm\"]\n\
         secret_id_env = \"{ID_VAR}\"\nsecret_key_env = \"{KEY_VAR}\"\n\
         apigateway_endpoint = \"{url}\"\ncvm_endpoint = \"{url}\"\n\
         [settings]\naudit_log = \"{}\"\ntimeout_secs = 5\n",
        REGIONS[0],
        REGIONS[1],
        audit_path.display(),
        url = emu.base_url,
    )
}

async fn reconcile(
    log: &AuditLog,
    providers: &[Arc<dyn Provider>],
    report: &mut DrillReport,
) -> Result<(), BenchError> {
    let done = audit::reconcile::run(log, providers).await?;
    for run in &done.runs {
        report.reconciled_calls += run.calls;
        report.reconciled_gone += run.gone;
        report.reconciled_present += run.still_present;
    }
    Ok(())
}

/// Calls a run over the selected items still there would send: one DeleteKeyPairs per
/// 100 pairs of a region, a DisableApiKey (when enabled) and a DeleteApiKey per key.
fn remaining_calls(emu: &Emulator, selected: &[(String, String)]) -> usize {
    let state = emu.state();
    let wanted: HashSet<(&str, &str)> = selected.iter().map(|(r, i)| (r.as_str(), i.as_str())).collect();
    let mut calls = 0;
    for region in REGIONS {
        let pairs = state
            .key_pairs(ACCOUNT, region)
            .into_iter()
            .filter(|k| wanted.contains(&(region, k.id.as_str())) && !k.is_bound())
            .count();
        calls += pairs.div_ceil(100);
        for key in state.api_keys(ACCOUNT, region) {
            if wanted.contains(&(region, key.id.as_str())) {
                calls += 1 + usize::from(key.enabled);
            }
        }
    }
    calls
}

/// How a child run ended.
struct ChildRun {
    killed: bool,
    /// Lines it wrote to the log.
    lines: u64,
}

/// Run one child to its end, or kill it once the log has `kill_after` more lines.
async fn run_child(
    exe: &Path,
    config: &Path,
    ids: &Path,
    audit_path: &Path,
    secrets: &(String, String),
    kill_after: Option<u64>,
) -> Result<ChildRun, BenchError> {
    let mut lines = LineCounter::at_end(audit_path);
    let mut child = tokio::process::Command::new(exe)
        .arg("--config")
        .arg(config)
        .args(["audit", "drill-run", "--ids"])
        .arg(ids)
        .env(ID_VAR, &secrets.0)
        .env(KEY_VAR, &secrets.1)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| BenchError::Io {
            context: format!("cannot start {}", exe.display()),
            source,
        })?;
    // Bounded: a child that hangs is killed after two minutes.
    for _ in 0..60_000 {
        tokio::select! {
            status = child.wait() => {
                status.map_err(|source| BenchError::Io { context: "waiting for a drill run".into(), source })?;
                return Ok(ChildRun { killed: false, lines: lines.new_lines() });
            }
            _ = tokio::time::sleep(Duration::from_millis(2)) => {
                if kill_after.is_some_and(|n| lines.new_lines() >= n) {
                    // tokio's kill is SIGKILL on unix: the child gets no chance to write more.
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    return Ok(ChildRun { killed: true, lines: lines.new_lines() });
                }
            }
        }
    }
    let _ = child.start_kill();
    let _ = child.wait().await;
    Err(BenchError::Inconsistent(
        "a drill run did not end within two minutes".into(),
    ))
}

/// Wait until the emulator has handled everything the killed child sent: nothing in
/// flight and no new request for a few checks (its last bytes may still be in a socket
/// buffer when it dies). Bounded: five seconds at most.
async fn settle(emu: &Emulator) {
    let state = emu.state();
    let mut quiet = 0;
    let mut last = state.request_count();
    for _ in 0..250 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = state.request_count();
        quiet = if state.in_flight() == 0 && now == last {
            quiet + 1
        } else {
            0
        };
        last = now;
        if quiet >= 3 {
            return;
        }
    }
}

/// Counts the lines appended to a file since it was opened, reading only what is new.
struct LineCounter {
    path: PathBuf,
    offset: u64,
    lines: u64,
}

impl LineCounter {
    fn at_end(path: &Path) -> Self {
        LineCounter {
            path: path.to_path_buf(),
            offset: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            lines: 0,
        }
    }

    fn new_lines(&mut self) -> u64 {
        use std::io::{Read, Seek, SeekFrom};
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return self.lines;
        };
        let mut new = Vec::new();
        if file.seek(SeekFrom::Start(self.offset)).is_ok() && file.read_to_end(&mut new).is_ok() {
            self.offset += new.len() as u64;
            self.lines += new.iter().filter(|b| **b == b'\n').count() as u64;
        }
        self.lines
    }
}

/// What the log last claims about an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    Gone,
    Present,
    /// The call got no answer: either may be true, and the log says so.
    Either,
}

/// Compare the log's last word about each selected item with the emulator.
fn account(
    emu: &Emulator,
    audit_path: &Path,
    selected: &[(String, String)],
    report: &mut DrillReport,
) -> Result<(), BenchError> {
    let entries = audit::read_lenient(audit_path)?.entries;
    let is_delete = |kind: &str, action: &str| {
        ProviderKind::from_slug(kind)
            .and_then(|k| crate::providers::action(k, Operation::Delete))
            .is_some_and(|a| a == action)
    };
    let mut claims: HashMap<(String, String), Claim> = HashMap::new();
    for e in &entries {
        let region = e["region"].as_str().unwrap_or_default().to_string();
        let items = e["items"].as_array().into_iter().flatten();
        match e["type"].as_str() {
            Some("outcome")
                if is_delete(
                    e["kind"].as_str().unwrap_or_default(),
                    e["action"].as_str().unwrap_or_default(),
                ) =>
            {
                for item in items {
                    let claim = match item["result"].as_str() {
                        Some("ok") => Claim::Gone,
                        Some("unknown") => Claim::Either,
                        _ => Claim::Present,
                    };
                    claims.insert(
                        (region.clone(), item["id"].as_str().unwrap_or_default().to_string()),
                        claim,
                    );
                }
            }
            Some("reconciled") => {
                for item in items {
                    let claim = match item["state"].as_str() {
                        Some("gone") => Claim::Gone,
                        Some("still_present") => Claim::Present,
                        _ => Claim::Either,
                    };
                    claims.insert(
                        (region.clone(), item["id"].as_str().unwrap_or_default().to_string()),
                        claim,
                    );
                }
            }
            _ => {}
        }
    }
    let open = audit::read::open_intents(&entries);
    for intent in &open {
        report.unaccounted.push(format!(
            "call {} of run {} has no outcome after reconciling",
            intent["call"], intent["run"]
        ));
    }
    let state = emu.state();
    let present: HashSet<(String, String)> = REGIONS
        .iter()
        .flat_map(|region| {
            let pairs = state.key_pairs(ACCOUNT, region).into_iter().map(|k| k.id);
            let keys = state.api_keys(ACCOUNT, region).into_iter().map(|k| k.id);
            pairs.chain(keys).map(move |id| (region.to_string(), id))
        })
        .collect();
    for key in selected {
        let here = present.contains(key);
        report.gone += usize::from(!here);
        match (claims.get(key), here) {
            (Some(Claim::Gone), false) | (Some(Claim::Present), true) => {}
            (Some(Claim::Either), _) => report.unknown += 1,
            // Not reached by any run (or only by calls whose word is missing, counted above).
            (None, true) => {}
            (Some(Claim::Gone), true) => report.unaccounted.push(format!(
                "{} {}: the log says gone, the emulator still has it",
                key.0, key.1
            )),
            (Some(Claim::Present), false) => report.unaccounted.push(format!(
                "{} {}: the log says present, the emulator has deleted it",
                key.0, key.1
            )),
            (None, false) => report
                .unaccounted
                .push(format!("{} {}: deleted with no record saying so", key.0, key.1)),
        }
    }
    Ok(())
}

/// `keyward audit drill-run`: delete the items listed in `ids` (lines `region<TAB>id`)
/// through the real plan, audit log and executor, without asking: the drill's child.
/// Refuses a config aimed anywhere but a loopback emulator, so it can never delete a
/// real key.
pub fn child(config: Option<&Path>, ids: &Path) -> ExitCode {
    let cfg = match Config::load(config, &process_env) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("keyward audit drill-run: {e}");
            return ExitCode::from(2);
        }
    };
    let loopback = |e: &Option<String>| e.as_deref().is_some_and(|u| u.starts_with("http://127.0.0.1:"));
    let aimed_at_emulator = cfg.oceanbase.is_empty()
        && cfg.settings.connect_to.is_none()
        && cfg.tencent.iter().all(|t| {
            t.services.iter().all(|s| match s {
                TencentService::ApiGateway => loopback(&t.apigateway_endpoint),
                TencentService::Cvm => loopback(&t.cvm_endpoint),
                TencentService::Cam => loopback(&t.cam_endpoint),
            })
        });
    if !aimed_at_emulator {
        eprintln!(
            "keyward audit drill-run: refused: it deletes without asking, so it only runs against an emulator \
             on http://127.0.0.1 (every endpoint of the config must point there)"
        );
        return ExitCode::from(2);
    }
    let wanted: HashSet<(String, String)> = match std::fs::read_to_string(ids) {
        Ok(text) => text
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(r, i)| (r.to_string(), i.to_string()))
            .collect(),
        Err(e) => {
            eprintln!("keyward audit drill-run: cannot read {}: {e}", ids.display());
            return ExitCode::from(2);
        }
    };
    let built = crate::registry::build(&cfg, &process_env)
        .map_err(|e| e.to_string())
        .and_then(|providers| Ok((providers, cfg.settings.audit_log_path().map_err(|e| e.to_string())?)));
    let (providers, audit_path) = match built {
        Ok(b) => b,
        Err(e) => {
            eprintln!("keyward audit drill-run: {e}");
            return ExitCode::from(2);
        }
    };
    let ran = crate::runtime::block_on(async move {
        let lists = futures::future::join_all(providers.iter().map(|p| p.list())).await;
        let items: Vec<crate::inventory::Item> = lists
            .into_iter()
            .flatten()
            .flatten()
            .filter(|i| wanted.contains(&(i.key.scope.region.to_string(), i.key.id.to_string())))
            .collect();
        let refs: Vec<&crate::inventory::Item> = items.iter().collect();
        let plan = queue::build_plan(&refs, &Intent::Delete, &queue::Protect::default());
        let log = AuditLog::open(&audit_path)?.rotating_at(Some(cfg.settings.audit_max_bytes()));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let drain = async { while rx.recv().await.is_some() {} };
        let run = queue::execute(
            plan,
            providers,
            ExecOptions::default(),
            Some(Arc::new(log)),
            CancellationToken::new(),
            tx,
        );
        tokio::join!(run, drain);
        Ok::<(), audit::AuditError>(())
    });
    match ran {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("keyward audit drill-run: {e}");
            ExitCode::FAILURE
        }
        Err(code) => code,
    }
}
