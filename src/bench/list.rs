//! Figure 1: list a large inventory of one Tencent account over several regions, every
//! provider at once, and compare the wall time with the best the rate limits allow.
//!
//! Tencent counts requests per (SecretId, action), whatever the region, so all regions of
//! one account share one DescribeKeyPairs budget (10/s) and one DescribeApiKeysStatus
//! budget (20/s). The emulator models each as a token bucket that starts full (capacity =
//! rate): the k-th request of an action can go out at the earliest at (k - capacity)/rate.
//!
//! The target is judged against the bound issue #5 defines, pages needed / allowed
//! requests per second (P/rate). The client never spends the initial burst on purpose (it
//! paces at 0.95 x the rate, see `action_quota` in the Tencent client, so network jitter
//! cannot push two requests into one server second), so the stricter burst-aware bound
//! (P - capacity)/rate is printed beside it for information.

use super::{BenchError, Figure, Sizes, Target};
use crate::demo::DemoConfig;
use crate::emulator::{self, EmulatorOptions, Seed};
use crate::inventory::ProviderKind;
use crate::providers::tencent::client::{APIGATEWAY, CVM};
use std::time::Instant;

/// Page size keyward asks for on both list actions (the documented maximum).
const PAGE: usize = 100;
const RATIO_TARGET: f64 = 1.10;

pub const REGIONS: [&str; 5] = [
    "ap-guangzhou",
    "ap-shanghai",
    "ap-beijing",
    "ap-chengdu",
    "ap-singapore",
];

/// Pages of one list action: one per started 100 items, and one for an empty region.
fn pages(items_per_region: usize, regions: usize) -> usize {
    items_per_region.div_ceil(PAGE).max(1) * regions
}

/// One list action's share of the bound.
struct ActionBound {
    action: &'static str,
    pages: usize,
    rate: u32,
}

impl ActionBound {
    /// Earliest finish with the bucket full at the start: (pages - capacity) / rate.
    fn with_burst(&self) -> f64 {
        let rate = f64::from(self.rate);
        (self.pages as f64 - rate).max(0.0) / rate
    }

    /// Time at the sustained rate alone: pages / rate.
    fn sustained(&self) -> f64 {
        self.pages as f64 / f64::from(self.rate)
    }
}

pub async fn measure(sizes: &Sizes) -> Result<Vec<Figure>, BenchError> {
    let regions = sizes.list_regions.min(REGIONS.len()).max(1);
    let kp_per_region = sizes.list_key_pairs / regions;
    let ak_per_region = sizes.list_api_keys / regions;
    let seed = Seed::generated(1, &REGIONS[..regions], kp_per_region, ak_per_region, 0);
    let emu = emulator::start(EmulatorOptions::new(seed.clone())).await?;
    let providers = DemoConfig::new(&emu, &seed, None).providers()?;

    let start = Instant::now();
    let results = futures::future::join_all(providers.iter().map(|p| p.list())).await;
    let wall = start.elapsed().as_secs_f64();

    let (mut key_pairs, mut api_keys) = (0usize, 0usize);
    for (p, result) in providers.iter().zip(results) {
        let items = result.map_err(|source| BenchError::Provider {
            context: format!("listing {} from the emulator", p.scope()),
            source,
        })?;
        match p.scope().kind {
            ProviderKind::Cvm => key_pairs += items.len(),
            ProviderKind::ApiGateway => api_keys += items.len(),
            ProviderKind::OceanBase => {}
        }
    }
    let rate_limited = emu.state().rate_limited_count();
    emu.shutdown().await;
    let (want_kp, want_ak) = (kp_per_region * regions, ak_per_region * regions);
    if (key_pairs, api_keys) != (want_kp, want_ak) {
        return Err(BenchError::Inconsistent(format!(
            "listing returned {key_pairs} key pairs and {api_keys} API keys, the emulator holds {want_kp} and {want_ak}"
        )));
    }

    let actions = [
        ActionBound {
            action: "DescribeKeyPairs",
            pages: pages(kp_per_region, regions),
            rate: CVM.rate_per_second,
        },
        ActionBound {
            action: "DescribeApiKeysStatus",
            pages: pages(ak_per_region, regions),
            rate: APIGATEWAY.rate_per_second,
        },
    ];
    let limiting = actions
        .iter()
        .max_by(|a, b| a.sustained().total_cmp(&b.sustained()))
        .unwrap_or(&actions[0]);
    let bound = limiting.sustained();
    let with_burst = actions.iter().map(ActionBound::with_burst).fold(0.0, f64::max);
    let ratio = if bound > 0.0 { wall / bound } else { f64::INFINITY };

    let label = format!("list {want_kp} key pairs + {want_ak} API keys / {regions} regions");
    let measured = format!(
        "{wall:.2} s, bound {bound:.2} s = {} {} pages / {}/s",
        limiting.pages, limiting.action, limiting.rate
    );
    let mut figure = Figure::new("list.ratio", label, measured)
        .judged("ratio", ratio, "", Target::AtMost(RATIO_TARGET))
        .with("wall_s", wall)
        .with("bound_s", bound)
        .with("burst_bound_s", with_burst)
        .with("key_pairs", want_kp as f64)
        .with("api_keys", want_ak as f64);
    for a in &actions {
        figure = figure.note(format!(
            "{}: {} pages at {}/s per account: {:.2} s with the full initial bucket, {:.2} s at the sustained rate",
            a.action,
            a.pages,
            a.rate,
            a.with_burst(),
            a.sustained()
        ));
    }
    if with_burst > 0.0 {
        figure = figure.note(format!(
            "against the burst-aware bound ((pages - capacity) / rate = {with_burst:.2} s) the ratio is {:.2}; \
             the client leaves the burst unspent on purpose",
            wall / with_burst
        ));
    }
    let retries = Figure::new(
        "list.rate_limited",
        "list: requests the emulator refused with RequestLimitExceeded",
        format!("{rate_limited} refused (the client retries them)"),
    )
    .info("count", rate_limited as f64, "");
    Ok(vec![figure, retries])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_accounts_for_the_initial_burst() {
        assert_eq!(pages(2000, 5), 100);
        assert_eq!(pages(0, 5), 5);
        assert_eq!(pages(101, 1), 2);
        let a = ActionBound {
            action: "DescribeKeyPairs",
            pages: 100,
            rate: 10,
        };
        assert_eq!(a.with_burst(), 9.0);
        assert_eq!(a.sustained(), 10.0);
        let small = ActionBound {
            action: "DescribeApiKeysStatus",
            pages: 20,
            rate: 20,
        };
        assert_eq!(small.with_burst(), 0.0);
    }
}
