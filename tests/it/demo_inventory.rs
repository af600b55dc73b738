//! The providers `--demo` builds list exactly what the emulator holds: the real clients
//! and the strict emulator check each other (signatures, paging, rate limits).

use keyward::demo;
use keyward::emulator::{self, EmulatorOptions, Seed};
use keyward::inventory::ProviderKind;
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_providers_list_every_item_of_the_seed() {
    let seed = Seed::demo().unwrap();
    let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
    let providers = demo::DemoConfig::new(&emu, &seed, None).providers().await.unwrap();
    let regions: usize = seed.tencent_accounts().iter().map(|a| a.regions.len()).sum();
    let projects: usize = seed.oceanbase_accounts().iter().map(|a| a.project_ids.len()).sum();
    // API Gateway and CVM per region, CAM once per account.
    let accounts = seed.tencent_accounts().len();
    assert_eq!(providers.len(), 2 * regions + accounts + projects);

    for p in &providers {
        let items = p.list().await.unwrap();
        let state = emu.state();
        if p.scope().kind == ProviderKind::ApiGateway {
            // Bindings come from the usage-plan actions, not the key listing.
            let bound: BTreeSet<String> = items
                .iter()
                .filter(|i| i.is_bound())
                .map(|i| i.key.id.to_string())
                .collect();
            let expected: BTreeSet<String> = state
                .api_keys(&p.scope().account, &p.scope().region)
                .into_iter()
                .filter(|k| k.usage_plan.is_some())
                .map(|k| k.id)
                .collect();
            assert_eq!(
                bound,
                expected,
                "bound keys of {}/{}",
                p.scope().account,
                p.scope().region
            );
        }
        let listed: BTreeSet<String> = items.into_iter().map(|i| i.key.id.into()).collect();
        let expected: BTreeSet<String> = match p.scope().kind {
            ProviderKind::ApiGateway => state.api_key_ids(&p.scope().account, &p.scope().region),
            ProviderKind::Cvm => state.key_pair_ids(&p.scope().account, &p.scope().region),
            ProviderKind::OceanBase => state.ob_key_ids(&p.scope().account, &p.scope().region),
            ProviderKind::Cam => state.cam_keys(&p.scope().account).into_iter().map(|k| k.id).collect(),
        }
        .into_iter()
        .collect();
        assert!(
            !expected.is_empty(),
            "{} {}/{} has no demo data",
            p.scope().kind,
            p.scope().account,
            p.scope().region
        );
        assert_eq!(
            listed,
            expected,
            "{} {}/{}",
            p.scope().kind,
            p.scope().account,
            p.scope().region
        );
    }
    assert_eq!(
        emu.state().rate_limited_count(),
        0,
        "the client must stay within the documented limits"
    );
    emu.shutdown().await;
}
