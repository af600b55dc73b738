//! Listing figures: one big account over several regions (`list.ratio`), and the same
//! account when the service's unpublished main-account limit is below the sum of its
//! regional limits (`list.uin_backoff`).
//!
//! Tencent counts the documented limit per API + access region (the endpoint host's
//! region) + sub-account. keyward reaches each region through its own region host, so each
//! (action, region) has its own budget and the regions list in parallel: the bound is the
//! slowest region's chain of calls at the documented rates (see [`RegionLoad::bound`]).
//! The emulator models each budget as a token bucket that starts full (capacity = rate);
//! the client paces at 0.95 x the rate without spending the burst (see `action_quota` in
//! the Tencent client), so the sustained-rate bound is the one judged.
//!
//! The requests go through the production path: real host names in the URL, Host header,
//! signature and TLS name, connected to the emulator by `connect_to`.

use super::{BenchError, Figure, Sizes, Target};
use crate::demo::DemoConfig;
use crate::emulator::{self, EmulatorOptions, Seed};
use crate::inventory::ProviderKind;
use crate::providers::Provider;
use crate::providers::tencent::client::{APIGATEWAY, CVM};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

/// Page size keyward asks for on every list action (the documented maximum).
const PAGE: usize = 100;
const RATIO_TARGET: f64 = 1.15;
/// Throughput under an account-wide cap, as a share of the cap.
const UIN_SHARE_TARGET: f64 = 0.85;

pub const REGIONS: [&str; 5] = [
    "ap-guangzhou",
    "ap-shanghai",
    "ap-beijing",
    "ap-chengdu",
    "ap-singapore",
];

/// Pages of one list action over `items`: one per started 100, and one when empty.
fn pages(items: usize) -> usize {
    items.div_ceil(PAGE).max(1)
}

/// What one (account, region) lists: its items and usage plans.
#[derive(Debug, Clone, Copy)]
pub(super) struct RegionLoad {
    pub key_pairs: usize,
    pub api_keys: usize,
    pub usage_plans: usize,
}

impl RegionLoad {
    /// Earliest finish at the documented sustained rates, each (action, region) in its own
    /// bucket: the key pairs (DescribeKeyPairs pages / 10 per s), the API keys
    /// (DescribeApiKeysStatus pages / 20 per s) and, in parallel, the bindings: the plan list
    /// (DescribeUsagePlansStatus pages / 20 per s) and then one DescribeUsagePlanSecretIds call
    /// per plan (/ 20 per s). Returns the time and the chain that sets it.
    pub fn bound(&self) -> (f64, String) {
        let cvm = f64::from(CVM.rate_per_second);
        let apigw = f64::from(APIGATEWAY.rate_per_second);
        let chains = [
            (
                pages(self.key_pairs) as f64 / cvm,
                format!("{} DescribeKeyPairs pages / {cvm}/s", pages(self.key_pairs)),
            ),
            (
                pages(self.api_keys) as f64 / apigw,
                format!("{} DescribeApiKeysStatus pages / {apigw}/s", pages(self.api_keys)),
            ),
            (
                pages(self.usage_plans) as f64 / apigw + self.usage_plans as f64 / apigw,
                format!(
                    "{} DescribeUsagePlansStatus page(s) then {} DescribeUsagePlanSecretIds / {apigw}/s",
                    pages(self.usage_plans),
                    self.usage_plans
                ),
            ),
        ];
        chains
            .into_iter()
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .unwrap_or((0.0, String::new()))
    }
}

/// The bound of a seed whose every (account, region) lists `key_pairs` and `api_keys`:
/// the slowest region's chain, its usage plans counted as the seed binds its keys.
pub(super) fn seed_bound(seed: &Seed, key_pairs: usize, api_keys: usize) -> (f64, String) {
    let mut worst = (0.0, String::new());
    for account in seed.tencent_accounts() {
        for region in &account.regions {
            let plans: HashSet<&str> = account
                .api_keys
                .iter()
                .filter(|k| &k.region == region)
                .filter_map(|k| k.usage_plan.as_deref())
                .collect();
            let load = RegionLoad {
                key_pairs,
                api_keys,
                usage_plans: plans.len(),
            };
            let bound = load.bound();
            if bound.0 > worst.0 {
                worst = bound;
            }
        }
    }
    worst
}

/// Lists every provider at once; returns the wall time and each provider's items.
pub(super) async fn list_all(
    providers: &[Arc<dyn Provider>],
) -> Result<(f64, Vec<Vec<crate::inventory::Item>>), BenchError> {
    let start = Instant::now();
    let results = futures::future::join_all(providers.iter().map(|p| p.list())).await;
    let wall = start.elapsed().as_secs_f64();
    let mut listings = Vec::with_capacity(results.len());
    for (p, result) in providers.iter().zip(results) {
        listings.push(result.map_err(|source| BenchError::Provider {
            context: format!("listing {} from the emulator", p.scope()),
            source,
        })?);
    }
    Ok((wall, listings))
}

fn count(providers: &[Arc<dyn Provider>], listings: &[Vec<crate::inventory::Item>], kind: ProviderKind) -> usize {
    providers
        .iter()
        .zip(listings)
        .filter(|(p, _)| p.scope().kind == kind)
        .map(|(_, items)| items.len())
        .sum()
}

pub async fn measure(sizes: &Sizes) -> Result<Vec<Figure>, BenchError> {
    let mut figures = ratio(sizes).await?;
    figures.push(uin_backoff(sizes).await?);
    Ok(figures)
}

async fn ratio(sizes: &Sizes) -> Result<Vec<Figure>, BenchError> {
    let regions = sizes.list_regions.min(REGIONS.len()).max(1);
    let kp_per_region = sizes.list_key_pairs / regions;
    let ak_per_region = sizes.list_api_keys / regions;
    let seed = Seed::generated(1, &REGIONS[..regions], kp_per_region, ak_per_region, 0);
    let emu = emulator::start(EmulatorOptions::https(seed.clone())).await?;
    let demo = DemoConfig::new(&emu, &seed, None);
    let providers = demo.providers().await?;
    let (wall, listings) = list_all(&providers).await?;
    let rate_limited = emu.state().rate_limited_count();
    emu.shutdown().await;

    let (key_pairs, api_keys) = (
        count(&providers, &listings, ProviderKind::Cvm),
        count(&providers, &listings, ProviderKind::ApiGateway),
    );
    let (want_kp, want_ak) = (kp_per_region * regions, ak_per_region * regions);
    if (key_pairs, api_keys) != (want_kp, want_ak) {
        return Err(BenchError::Inconsistent(format!(
            "listing returned {key_pairs} key pairs and {api_keys} API keys, the emulator holds {want_kp} and {want_ak}"
        )));
    }
    let (bound, limiting) = seed_bound(&seed, kp_per_region, ak_per_region);
    // What one shared bucket per account (nearest access) would allow, for comparison.
    let nearest = (pages(kp_per_region) * regions) as f64 / f64::from(CVM.rate_per_second);
    let ratio = if bound > 0.0 { wall / bound } else { f64::INFINITY };

    let label = format!("list {want_kp} key pairs + {want_ak} API keys / {regions} regions");
    let measured = format!("{wall:.2} s, bound {bound:.2} s = {limiting} per region host");
    let figure = Figure::new("list.ratio", label, measured)
        .judged("ratio", ratio, "", Target::AtMost(RATIO_TARGET))
        .with("wall_s", wall)
        .with("bound_s", bound)
        .with("nearest_bound_s", nearest)
        .with("key_pairs", want_kp as f64)
        .with("api_keys", want_ak as f64)
        .note(format!(
            "each region through its own host (access = \"regional\"): {regions} separate buckets per action; \
             through the nearest-access host all regions would share one: {nearest:.2} s at best"
        ));
    let retries = Figure::new(
        "list.rate_limited",
        "list: requests the emulator refused with RequestLimitExceeded",
        format!("{rate_limited} refused (the client retries them)"),
    )
    .info("count", rate_limited as f64, "");
    Ok(vec![figure, retries])
}

/// The account-wide cap of the `list.uin_backoff` figure, requests/s: below the sum of the
/// regional DescribeKeyPairs rates (5 x 10/s), so only the adaptive guard keeps errors away.
const UIN_CAP: u32 = 30;

async fn uin_backoff(sizes: &Sizes) -> Result<Figure, BenchError> {
    let regions = REGIONS.len();
    // Enough pages per region that the guard settles: the first seconds probe the cap.
    let kp_per_region = sizes.uin_key_pairs_per_region;
    let seed = Seed::generated(1, &REGIONS, kp_per_region, 0, 0);
    let emu = emulator::start(EmulatorOptions {
        uin_limit: Some(UIN_CAP),
        ..EmulatorOptions::https(seed.clone())
    })
    .await?;
    let demo = DemoConfig::new(&emu, &seed, None);
    let providers: Vec<Arc<dyn Provider>> = demo
        .providers()
        .await?
        .into_iter()
        .filter(|p| p.scope().kind == ProviderKind::Cvm)
        .collect();
    let before = emu.state().request_count();
    let result = list_all(&providers).await;
    let state = emu.state();
    let (sent, refused, uin_refused) = (
        state.request_count() - before,
        state.rate_limited_count(),
        state.uin_limited_count(),
    );
    emu.shutdown().await;
    // A listing that failed is an error the operator saw: the figure, not the bench, fails.
    let (wall, errors, listed) = match result {
        Ok((wall, listings)) => (wall, 0usize, listings.iter().map(Vec::len).sum::<usize>()),
        Err(BenchError::Provider { .. }) => (f64::NAN, 1, 0),
        Err(e) => return Err(e),
    };
    let accepted = sent.saturating_sub(refused);
    let throughput = accepted as f64 / wall;
    // The most the cap admits in `wall`: a full bucket (capacity = rate) plus its refill.
    let cap = f64::from(UIN_CAP);
    let allowed = cap + cap * wall;
    let share = if errors > 0 { 0.0 } else { accepted as f64 / allowed };
    Ok(Figure::new(
        "list.uin_backoff",
        format!(
            "list {} key pairs / {regions} regions under an account-wide cap of {UIN_CAP}/s (regional sum {}/s)",
            kp_per_region * regions,
            regions as u32 * CVM.rate_per_second
        ),
        format!(
            "{wall:.2} s, {accepted} requests accepted = {throughput:.1}/s of the {allowed:.0} the cap admits \
             in that time (a full bucket of {UIN_CAP} plus {UIN_CAP}/s), {uin_refused} refused with \
             UinLimitExceeded and retried, {errors} errors shown, {listed} listed"
        ),
    )
    .judged("share_of_cap", share, "", Target::AtLeast(UIN_SHARE_TARGET))
    .with("wall_s", wall)
    .with("throughput_per_s", throughput)
    .with("cap_per_s", cap)
    .with("allowed", allowed)
    .with("uin_refused", uin_refused as f64)
    .with("errors_shown", errors as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_is_the_slowest_chain_of_one_region() {
        assert_eq!(pages(2000), 20);
        assert_eq!(pages(0), 1);
        assert_eq!(pages(101), 2);
        let (t, why) = RegionLoad {
            key_pairs: 2000,
            api_keys: 400,
            usage_plans: 6,
        }
        .bound();
        assert_eq!(t, 2.0);
        assert!(why.contains("DescribeKeyPairs"), "{why}");
        // 10 plans: one plan page and ten SecretIds calls at 20/s outlast one key-pair page.
        let (t, why) = RegionLoad {
            key_pairs: 20,
            api_keys: 50,
            usage_plans: 10,
        }
        .bound();
        assert!((t - 0.55).abs() < 1e-9, "{t}");
        assert!(why.contains("DescribeUsagePlanSecretIds"), "{why}");
    }
}
