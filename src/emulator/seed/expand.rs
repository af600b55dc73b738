//! Expansion of a seed's `generate` specs into literal items: deterministic per
//! (account, region/project), names unique within each, shares of disabled and bound keys.

use super::{ObGenerate, SeedApiKey, SeedKeyPair, SeedObAccount, SeedObKey, SeedTencentAccount, TencentGenerate};
use crate::emulator::fake;
use crate::providers::tencent::cvm::KEY_PAIR_NAME_MAX;
use rand::Rng;
use std::collections::HashSet;

/// Usage plans per generated region. Real regions have a handful of plans with many keys
/// each; a plan per bound key would also make listing cost one DescribeUsagePlanSecretIds
/// call per bound key, which no real account looks like.
const USAGE_PLANS_PER_REGION: usize = 6;

pub(super) fn tencent(account: &mut SeedTencentAccount, spec: &TencentGenerate) {
    let mut rng = fake::rng_for(&format!("{}/{}", account.name, spec.region));
    // A separate generator for the plan pool keeps every other generated value as it was.
    let mut plan_rng = fake::rng_for(&format!("{}/{}/usage-plans", account.name, spec.region));
    let plans: Vec<String> = (0..USAGE_PLANS_PER_REGION)
        .map(|_| fake::usage_plan_id(&mut plan_rng))
        .collect();
    let mut names: HashSet<String> = account
        .api_keys
        .iter()
        .filter(|k| k.region == spec.region)
        .map(|k| k.name.clone())
        .collect();
    for _ in 0..spec.api_keys {
        let created = fake::past_time(&mut rng);
        let modified = fake::later_time(&mut rng, created);
        let disabled = rng.random_bool(spec.disabled_share.clamp(0.0, 1.0));
        let usage_plan = rng.random_bool(spec.usage_plan_share.clamp(0.0, 1.0)).then(|| {
            // Draw as before (same sequence for the rest), then map into the region's pool.
            let drawn = fake::usage_plan_id(&mut rng);
            plans[drawn.bytes().map(usize::from).sum::<usize>() % plans.len()].clone()
        });
        let name = fake::unique_name(fake::api_key_name(&mut rng), '-', 60, &mut names);
        account.api_keys.push(SeedApiKey {
            region: spec.region.clone(),
            id: fake::api_key_id(&mut rng),
            secret: fake::api_key_secret(&mut rng),
            name,
            key_type: "auto".to_string(),
            disabled,
            usage_plan,
            created: fake::iso(created),
            modified: Some(fake::iso(modified)),
        });
    }
    // Names are unique where the pairs live: per region, or per account when global.
    let mut names: HashSet<String> = account
        .key_pairs
        .iter()
        .filter(|k| account.key_pairs_global || k.region == spec.region)
        .map(|k| k.name.clone())
        .collect();
    // 36^8 ids: collisions are rare but possible in big generated seeds, and two pairs
    // sharing an id would be deleted together.
    let mut ids: HashSet<String> = account.key_pairs.iter().map(|k| k.id.clone()).collect();
    for _ in 0..spec.key_pairs {
        let mut id = fake::key_pair_id(&mut rng);
        while !ids.insert(id.clone()) {
            id = fake::key_pair_id(&mut rng);
        }
        let name = fake::unique_name(fake::key_pair_name(&mut rng), '_', KEY_PAIR_NAME_MAX, &mut names);
        let instances = if rng.random_bool(spec.instance_share.clamp(0.0, 1.0)) {
            let n = rng.random_range(1..=3);
            (0..n).map(|_| fake::instance_id(&mut rng)).collect()
        } else {
            Vec::new()
        };
        let images = if rng.random_bool(spec.image_share.clamp(0.0, 1.0)) {
            vec![fake::image_id(&mut rng)]
        } else {
            Vec::new()
        };
        account.key_pairs.push(SeedKeyPair {
            region: spec.region.clone(),
            public_key: Some(fake::ssh_public_key(&mut rng, &id)),
            id,
            name,
            project_id: if rng.random_bool(0.7) {
                0
            } else {
                rng.random_range(1_000_000..1_400_000)
            },
            description: String::new(),
            instances,
            images,
            created: fake::iso(fake::past_time(&mut rng)),
        });
    }
}

pub(super) fn oceanbase(account: &mut SeedObAccount, spec: &ObGenerate) {
    let mut rng = fake::rng_for(&format!("{}/{}", account.name, spec.project_id));
    let mut names: HashSet<String> = account
        .keys
        .iter()
        .filter(|k| k.project_id == spec.project_id)
        .map(|k| k.name.clone())
        .collect();
    for _ in 0..spec.keys {
        let created = fake::past_time(&mut rng);
        let expires = rng
            .random_bool(spec.expiring_share.clamp(0.0, 1.0))
            .then(|| fake::iso(created + chrono::Duration::days(rng.random_range(90..730))));
        let last_used = rng
            .random_bool(0.6)
            .then(|| fake::iso(fake::later_time(&mut rng, created)));
        account.keys.push(SeedObKey {
            project_id: spec.project_id.clone(),
            id: fake::ob_key_id(&mut rng),
            name: fake::unique_name(fake::ob_key_name(&mut rng), '-', 64, &mut names),
            secret: fake::ob_key_secret(&mut rng),
            created: fake::iso(created),
            expires,
            last_used,
        });
    }
}
