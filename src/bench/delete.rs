//! Figure 2: bulk deletes through the real action queue (`queue::build_plan` +
//! `queue::execute`, audit log on), measured as achieved calls per second against the
//! documented per-API limits, and the RequestLimitExceeded failures the operator saw.
//!
//! Two phases on one account and region, one after the other:
//! - key pairs: N pairs, ceil(N/100) DeleteKeyPairs calls, each followed by the provider's
//!   DescribeKeyPairs verification. Ten calls fit in the 10-token initial burst, so their
//!   rate says little about sustained throughput: reported for information;
//! - API keys: M enabled keys, M DisableApiKey then M DeleteApiKey. Each action has its
//!   own 20/s budget, so the two can run in parallel: at best the run takes M/20 s and
//!   each API achieves 20 calls/s. The >= 0.90 target applies here.

use super::{BenchError, Figure, Sizes, Target};
use crate::audit::AuditLog;
use crate::demo::DemoConfig;
use crate::emulator::{self, EmulatorOptions, Seed};
use crate::inventory::{Item, ProviderKind};
use crate::providers::Provider;
use crate::providers::tencent::client::{APIGATEWAY, CVM};
use crate::providers::tencent::{apigateway, cvm};
use crate::queue::{self, ExecEvent, ExecOptions, Intent, Outcome};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const REGION: &str = "ap-guangzhou";
const THROUGHPUT_TARGET: f64 = 0.90;
const RATE_LIMIT_CODE: &str = "RequestLimitExceeded";

/// A directory under the system temp dir for the audit log, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self, BenchError> {
        let path = std::env::temp_dir().join(format!("keyward-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).map_err(|source| BenchError::Io {
            context: format!("cannot create {} for the bench's audit log", path.display()),
            source,
        })?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: a leftover directory in the temp dir harms nothing.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What one action did during a run.
#[derive(Debug, Default)]
struct ActionStats {
    /// Calls the plan holds for this action.
    calls: usize,
    /// Seconds from the start of the run to the last item outcome of this action.
    last_done: f64,
}

/// What one executed plan did, as seen through its `ExecEvent`s.
#[derive(Debug, Default)]
struct RunStats {
    actions: BTreeMap<String, ActionStats>,
    /// Seconds from the start until the last item outcome.
    calls_done: f64,
    /// Seconds from the start until `Settled` (the post-run re-read included).
    finished: f64,
    /// Item outcomes that failed with RequestLimitExceeded.
    rate_limit_failures: usize,
    /// Any other item outcome than Ok: (action, id, what).
    unexpected: Vec<(String, String, String)>,
    requests: u64,
}

impl RunStats {
    fn action(&self, name: &str) -> (usize, f64) {
        self.actions
            .get(name)
            .map(|a| (a.calls, a.last_done))
            .unwrap_or((0, 0.0))
    }
}

async fn execute(
    items: &[Item],
    providers: &[Arc<dyn Provider>],
    audit: &Arc<AuditLog>,
    emu: &emulator::Emulator,
) -> RunStats {
    let refs: Vec<&Item> = items.iter().collect();
    let plan = queue::build_plan(&refs, &Intent::Delete, &queue::Protect::default());
    let mut stats = RunStats::default();
    for call in &plan.calls {
        stats.actions.entry(call.action.to_string()).or_default().calls += 1;
    }
    for (key, why) in &plan.skipped {
        stats
            .unexpected
            .push(("plan".to_string(), key.id.to_string(), format!("skipped: {why}")));
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let requests_before = emu.state().request_count();
    let start = Instant::now();
    let run = queue::execute(
        plan,
        providers.to_vec(),
        ExecOptions { dry_run: false },
        Some(audit.clone()),
        CancellationToken::new(),
        tx,
    );
    let collect = async {
        while let Some(event) = rx.recv().await {
            let at = start.elapsed().as_secs_f64();
            match event {
                ExecEvent::Item(entry) => {
                    stats.calls_done = at;
                    stats.actions.entry(entry.action.clone()).or_default().last_done = at;
                    match entry.outcome {
                        Outcome::Ok => {}
                        Outcome::Failed { code, .. } if code.starts_with(RATE_LIMIT_CODE) => {
                            stats.rate_limit_failures += 1;
                        }
                        other => stats
                            .unexpected
                            .push((entry.action, entry.target, format!("{other:?}"))),
                    }
                }
                // Settled, not Finished: the figure keeps including the post-run re-read.
                ExecEvent::Settled => stats.finished = at,
                _ => {}
            }
        }
    };
    tokio::join!(run, collect);
    stats.requests = emu.state().request_count() - requests_before;
    stats
}

/// A seed of one account whose `region` holds only deletable things: unbound key pairs
/// and enabled API keys outside any usage plan.
fn seed(key_pairs: usize, api_keys: usize) -> Seed {
    let mut seed = Seed::generated(1, &[REGION], key_pairs, api_keys, 0);
    for account in &mut seed.tencent {
        for pair in &mut account.key_pairs {
            pair.instances.clear();
            pair.images.clear();
        }
        for key in &mut account.api_keys {
            key.disabled = false;
            key.usage_plan = None;
        }
    }
    seed
}

async fn list(providers: &[Arc<dyn Provider>], kind: ProviderKind) -> Result<Vec<Item>, BenchError> {
    let mut items = Vec::new();
    for p in providers.iter().filter(|p| p.scope().kind == kind) {
        items.extend(p.list().await.map_err(|source| BenchError::Provider {
            context: format!("listing {} before the delete bench", p.scope()),
            source,
        })?);
    }
    Ok(items)
}

fn check(stats: &RunStats, what: &str) -> Result<(), BenchError> {
    match stats.unexpected.first() {
        None => Ok(()),
        Some((action, id, outcome)) => Err(BenchError::Inconsistent(format!(
            "deleting {what}: {} item outcome(s) were not Ok, first {action} {id}: {outcome}",
            stats.unexpected.len()
        ))),
    }
}

/// calls/s and the share of `limit` they reach.
fn throughput(calls: usize, seconds: f64, limit: u32) -> (f64, f64) {
    let rate = if seconds > 0.0 {
        calls as f64 / seconds
    } else {
        f64::INFINITY
    };
    (rate, rate / f64::from(limit))
}

pub async fn measure(sizes: &Sizes) -> Result<Vec<Figure>, BenchError> {
    let seed = seed(sizes.delete_key_pairs, sizes.delete_api_keys);
    let emu = emulator::start(EmulatorOptions::new(seed.clone())).await?;
    let providers: Vec<Arc<dyn Provider>> = DemoConfig::new(&emu, &seed, None)
        .providers()
        .await?
        .into_iter()
        .filter(|p| p.scope().kind != ProviderKind::OceanBase)
        .collect();
    let dir = TempDir::new()?;
    let audit = Arc::new(AuditLog::open(dir.0.join("audit.jsonl"))?);

    let key_pairs = list(&providers, ProviderKind::Cvm).await?;
    let api_keys = list(&providers, ProviderKind::ApiGateway).await?;
    if key_pairs.len() != sizes.delete_key_pairs || api_keys.len() != sizes.delete_api_keys {
        return Err(BenchError::Inconsistent(format!(
            "the emulator lists {} key pairs and {} API keys, the bench seeded {} and {}",
            key_pairs.len(),
            api_keys.len(),
            sizes.delete_key_pairs,
            sizes.delete_api_keys
        )));
    }
    // Let the listing's request budget refill so it does not count against the deletes.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let rate_limited_before = emu.state().rate_limited_count();

    let kp = execute(&key_pairs, &providers, &audit, &emu).await;
    check(&kp, "key pairs")?;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let ak = execute(&api_keys, &providers, &audit, &emu).await;
    check(&ak, "API keys")?;

    let rate_limited = emu.state().rate_limited_count() - rate_limited_before;
    let left = emu.state().key_pair_ids(&seed.tencent[0].name, REGION).len()
        + emu.state().api_key_ids(&seed.tencent[0].name, REGION).len();
    emu.shutdown().await;
    if left > 0 {
        return Err(BenchError::Inconsistent(format!(
            "every delete reported Ok but the emulator still holds {left} of the items"
        )));
    }

    let mut figures = Vec::new();

    let (kp_calls, kp_done) = kp.action(cvm::actions::DELETE_KEY_PAIRS);
    let (kp_rate, kp_share) = throughput(kp_calls, kp_done, CVM.rate_per_second);
    figures.push(
        Figure::new(
            "delete.key_pairs",
            format!("delete {} key pairs", sizes.delete_key_pairs),
            format!(
                "{kp_calls} DeleteKeyPairs calls done in {kp_done:.2} s ({kp_rate:.2} calls/s, {:.2} of {}/s), \
                 {} requests in all",
                kp_share, CVM.rate_per_second, kp.requests
            ),
        )
        .info("seconds", kp_done, " s")
        .with("calls", kp_calls as f64)
        .with("calls_done_s", kp_done)
        .with("finished_s", kp.finished)
        .with("requests", kp.requests as f64)
        .note(format!(
            "{kp_calls} calls fit in DeleteKeyPairs' {}-token initial burst, so this is latency, not throughput; \
             the time includes each call's DescribeKeyPairs verification (shared 10/s budget)",
            CVM.rate_per_second
        ))
        .note(format!(
            "run finished (post-run re-read included) after {:.2} s",
            kp.finished
        )),
    );

    let (dis_calls, dis_done) = ak.action(apigateway::actions::DISABLE_API_KEY);
    let (del_calls, del_done) = ak.action(apigateway::actions::DELETE_API_KEY);
    let ideal = dis_calls.max(del_calls) as f64 / f64::from(APIGATEWAY.rate_per_second);
    let overall = note_overall(dis_calls + del_calls, ak.calls_done, ideal);
    for (id, action, calls, done) in [
        (
            "delete.api_keys.disable",
            apigateway::actions::DISABLE_API_KEY,
            dis_calls,
            dis_done,
        ),
        (
            "delete.api_keys.delete",
            apigateway::actions::DELETE_API_KEY,
            del_calls,
            del_done,
        ),
    ] {
        let (rate, share) = throughput(calls, done, APIGATEWAY.rate_per_second);
        figures.push(
            Figure::new(
                id,
                format!("delete {} enabled API keys: {action}", sizes.delete_api_keys),
                format!(
                    "{calls} calls done {done:.2} s after the start, {rate:.2} calls/s of {}/s",
                    APIGATEWAY.rate_per_second
                ),
            )
            .judged("throughput", share, "", Target::AtLeast(THROUGHPUT_TARGET))
            .with("calls", calls as f64)
            .with("calls_done_s", done)
            .with("calls_per_s", rate)
            .with("run_calls_done_s", ak.calls_done)
            .with("run_ideal_s", ideal)
            .note(format!(
                "throughput = calls / time from the start of the run to this action's last answer, \
                 divided by the documented {}/s; {action} has its own budget, so it can run alongside the other",
                APIGATEWAY.rate_per_second
            ))
            .note(overall.clone()),
        );
    }

    let rle = kp.rate_limit_failures + ak.rate_limit_failures;
    figures.push(
        Figure::new(
            "delete.request_limit_exceeded",
            "delete: RequestLimitExceeded the operator saw",
            format!("{rle} item outcome(s) failed with {RATE_LIMIT_CODE}"),
        )
        .judged("count", rle as f64, "", Target::AtMost(0.0)),
    );
    figures.push(
        Figure::new(
            "delete.rate_limited",
            "delete: requests the emulator refused with RequestLimitExceeded",
            format!("{rate_limited} refused (the client retried them)"),
        )
        .info("count", rate_limited as f64, ""),
    );
    Ok(figures)
}

fn note_overall(calls: usize, seconds: f64, ideal: f64) -> String {
    format!(
        "API-key run: {calls} calls in {seconds:.2} s; with both APIs at their full rate in parallel it takes \
         {ideal:.2} s (ratio {:.2})",
        if ideal > 0.0 { seconds / ideal } else { f64::NAN }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bench_seed_holds_only_deletable_items() {
        let seed = seed(30, 20);
        let account = &seed.tencent_accounts()[0];
        assert_eq!(account.key_pairs.len(), 30);
        assert_eq!(account.api_keys.len(), 20);
        assert!(
            account
                .key_pairs
                .iter()
                .all(|k| k.instances.is_empty() && k.images.is_empty())
        );
        assert!(account.api_keys.iter().all(|k| !k.disabled && k.usage_plan.is_none()));
    }

    #[test]
    fn throughput_is_a_share_of_the_limit() {
        let (rate, share) = throughput(500, 26.0, 20);
        assert!((rate - 19.23).abs() < 0.01, "{rate}");
        assert!((share - 0.96).abs() < 0.01, "{share}");
        assert!(throughput(1, 0.0, 10).0.is_infinite());
    }
}
