//! `list.fleet`: 200 accounts x 5 regions, each account at most 100 key pairs (the documented
//! quota), and 50 API keys and 10 usage plans per region: wall time against the bound, peak
//! resident memory, and the TUI frame time with all the sources loaded.
//!
//! The 200 accounts are configured the way enterprises hold them: one
//! `[[tencent_organization]]` table whose management account lists the members
//! (DescribeOrganizationMembers, before the clock starts) and assumes
//! OrganizationAccessControlRole in each (STS AssumeRole, one per account, inside the
//! measured time: each account's first call waits for its temporary credentials).
//!
//! Every (action, region host, credential) has its own budget, so the bound is one region's
//! chain of calls (`list::RegionLoad::bound`): the sources run in parallel. What the bound does
//! not count is this machine: every request is served by the in-process emulator on the
//! same cores, so the measured figure carries the machine's request rate too (noted).

use super::list::{REGIONS, list_all, seed_bound};
use super::ui::{FRAME_TARGET_MS, frame_median};
use super::{BenchError, Figure, Sizes, Target, peak_rss_bytes};
use crate::app::{self, App, AppOptions, LoadState, Msg, Source};
use crate::demo::DemoConfig;
use crate::emulator::{self, EmulatorOptions, Seed};

const RATIO_TARGET: f64 = 1.25;
const RSS_TARGET_MIB: f64 = 256.0;
const KEY_PAIRS_PER_ACCOUNT: usize = 100;
const API_KEYS_PER_REGION: usize = 50;
const USAGE_PLANS_PER_REGION: usize = 10;
const MIB: f64 = 1024.0 * 1024.0;

pub async fn measure(sizes: &Sizes) -> Result<Vec<Figure>, BenchError> {
    let accounts = sizes.fleet_accounts.max(1);
    let regions = REGIONS.len();
    let kp_per_region = KEY_PAIRS_PER_ACCOUNT / regions;
    let seed = Seed::generated(accounts, &REGIONS, kp_per_region, API_KEYS_PER_REGION, 0)
        .with_usage_plans(USAGE_PLANS_PER_REGION)
        .with_organization(crate::providers::tencent::organization::DEFAULT_ROLE_NAME);
    let emu = emulator::start(EmulatorOptions::https(seed.clone())).await?;
    let demo = DemoConfig::new(&emu, &seed, None);
    let providers: Vec<_> = demo
        .providers()
        .await?
        .into_iter()
        // The regional listing the bound is computed for: API Gateway and CVM (the demo
        // config also lists OceanBase and the accounts' global CAM keys).
        .filter(|p| {
            matches!(
                p.scope().kind,
                crate::inventory::ProviderKind::ApiGateway | crate::inventory::ProviderKind::Cvm
            )
        })
        .collect();
    let before = emu.state().request_count();
    let assumed_before = emu.state().action_count(crate::providers::tencent::sts::ASSUME_ROLE);
    let (wall, listings) = list_all(&providers).await?;
    let requests = emu.state().request_count() - before;
    let assume_role_calls = emu.state().action_count(crate::providers::tencent::sts::ASSUME_ROLE) - assumed_before;
    // At least one each (a throttled one, retried, counts twice).
    if (assume_role_calls as usize) < accounts {
        return Err(BenchError::Inconsistent(format!(
            "the fleet listing assumed a role {assume_role_calls} times for {accounts} member accounts; one each expected"
        )));
    }
    let rate_limited = emu.state().rate_limited_count();
    emu.shutdown().await;

    let items: usize = listings.iter().map(Vec::len).sum();
    let want = accounts * regions * (kp_per_region + API_KEYS_PER_REGION);
    if items != want {
        return Err(BenchError::Inconsistent(format!(
            "the fleet listing returned {items} items, the emulator holds {want}"
        )));
    }
    let (bound, limiting) = seed_bound(&seed, kp_per_region, API_KEYS_PER_REGION);
    let ratio = if bound > 0.0 { wall / bound } else { f64::INFINITY };

    // The TUI with every source loaded, as the runtime delivers the listings.
    let mut app = App::new(
        providers
            .iter()
            .map(|p| Source {
                scope: p.scope().clone(),
                state: LoadState::Loading,
            })
            .collect(),
        AppOptions {
            title: "bench fleet".to_string(),
            ..AppOptions::default()
        },
    );
    let load_start = std::time::Instant::now();
    for (p, listing) in providers.iter().zip(listings) {
        app::update(
            &mut app,
            Msg::Loaded {
                scope: p.scope().clone(),
                result: Ok(listing),
            },
        );
    }
    let load_s = load_start.elapsed().as_secs_f64();
    let frame_ms = frame_median(&mut app, sizes.ui_frames)?;
    let peak = peak_rss_bytes();

    let label = format!(
        "fleet: {accounts} accounts x {regions} regions ({} sources, {items} items)",
        providers.len()
    );
    let mut figures = vec![
        Figure::new(
            "list.fleet",
            label.clone(),
            format!(
                "{wall:.2} s, bound {bound:.2} s = {limiting} per region host; {requests} requests = {:.0}/s \
                 ({assume_role_calls} AssumeRole), {rate_limited} refused with RequestLimitExceeded",
                requests as f64 / wall
            ),
        )
        .judged("ratio", ratio, "", Target::AtMost(RATIO_TARGET))
        .with("wall_s", wall)
        .with("bound_s", bound)
        .with("requests", requests as f64)
        .with("sources", providers.len() as f64)
        .with("assume_role_calls", assume_role_calls as f64)
        .with("items", items as f64)
        .note(
            "the bound counts the service's rate limits only; the emulator serves every request on this \
             machine's cores, so requests/s above is the machine's share of the wall time; the accounts \
             come from one organization and each is reached by one AssumeRole, inside the wall time",
        ),
        Figure::new(
            "list.fleet.frame",
            format!("{label}: frame"),
            format!("median of {} full frames with every source loaded", sizes.ui_frames),
        )
        .judged("median", frame_ms, " ms", Target::Below(FRAME_TARGET_MS)),
        Figure::new(
            "list.fleet.load",
            format!("{label}: loading into the TUI"),
            format!(
                "{} listings delivered one by one to app::update, as the runtime does",
                providers.len()
            ),
        )
        .info("total", load_s * 1000.0, " ms"),
    ];
    figures.push(match peak {
        Some(bytes) => Figure::new(
            "list.fleet.rss",
            format!("{label}: peak memory"),
            "peak resident set (VmHWM) of the bench process, emulator included",
        )
        .judged("peak_rss", bytes as f64 / MIB, " MiB", Target::Below(RSS_TARGET_MIB)),
        None => Figure::new(
            "list.fleet.rss",
            format!("{label}: peak memory"),
            "VmHWM is not available on this system",
        )
        .info("peak_rss", 0.0, " MiB"),
    });
    Ok(figures)
}
