//! The real providers (built through `DemoConfig` and `registry::build`) against the real
//! in-process emulator: every list maps the emulator's records field by field over several
//! pages, and every mutating call has its documented outcome, its RequestId and the state
//! change (or none) in the emulator. The in-test fakes (tests/it/tencent_*.rs,
//! tests/it/oceanbase_api.rs) keep what the emulator cannot express: exact wire parameters,
//! odd server behaviours, retries after chosen failures.

use keyward::demo::DemoConfig;
use keyward::emulator::{self, Emulator, EmulatorOptions, Seed, SeedApiKey, SeedKeyPair};
use keyward::hints;
use keyward::inventory::{Binding, Item, ProviderKind, Status};
use keyward::providers::{ErrorKind, Provider, ProviderError};
use keyward::secret::Secret;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

const ACCOUNT: &str = "tencent-00";
const GZ: &str = "ap-guangzhou";
const SH: &str = "ap-shanghai";
const OB_ACCOUNT: &str = "oceanbase-00";
const PROJECT: &str = "proj-00";

// Hand-placed API keys in ap-guangzhou, next to the generated ones.
const KEY_FREE: &str = "AKIDkeywardtestfreeenabledkey000000001";
const KEY_AUTO: &str = "AKIDkeywardtestautorotatekey0000000002";
const KEY_MANUAL: &str = "AKIDkeywardtestmanualkey00000000000003";
const KEY_IN_PLAN: &str = "AKIDkeywardtestboundtoplan000000000004";
const UNKNOWN_KEY: &str = "AKIDkeywardtestdoesnotexist0000000009";

struct World {
    emu: Emulator,
    providers: Vec<Arc<dyn Provider>>,
}

impl World {
    async fn start(seed: Seed) -> World {
        let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
        // The regional services and OceanBase; CAM's listing has its own tests (tencent_cam).
        let providers = DemoConfig::new(&emu, &seed, None)
            .providers()
            .await
            .unwrap()
            .into_iter()
            .filter(|p| p.scope().kind != ProviderKind::Cam)
            .collect();
        World { emu, providers }
    }

    fn provider(&self, kind: ProviderKind, region: &str) -> Arc<dyn Provider> {
        self.providers
            .iter()
            .find(|p| p.scope().kind == kind && p.scope().region == region)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind} provider for {region}"))
    }

    /// Every call so far stayed within the documented limits.
    async fn finish(self) {
        assert_eq!(
            self.emu.state().rate_limited_count(),
            0,
            "the clients must pace themselves under the documented limits"
        );
        self.emu.shutdown().await;
    }
}

fn api_key(id: &str, key_type: &str, disabled: bool, usage_plan: Option<&str>) -> SeedApiKey {
    SeedApiKey {
        region: GZ.into(),
        id: id.into(),
        secret: format!("seedsecret{}", &id[id.len() - 10..]),
        name: format!("test-{}", &id[id.len() - 4..]),
        key_type: key_type.into(),
        disabled,
        usage_plan: usage_plan.map(str::to_string),
        created: "2024-01-02T03:04:05Z".into(),
        modified: None,
    }
}

/// One Tencent account with two regions holding more than a page of each kind, plus
/// hand-placed API keys and key pairs; one OceanBase project with two pages of keys.
fn seed() -> Seed {
    let mut seed = Seed::generated(1, &[GZ, SH], 130, 120, 150);
    let account = &mut seed.tencent[0];
    account.api_keys.extend([
        api_key(KEY_FREE, "auto", false, None),
        api_key(KEY_AUTO, "auto", false, None),
        api_key(KEY_MANUAL, "manual", false, None),
        api_key(KEY_IN_PLAN, "auto", true, Some("usagePlan-k3yw4rd1")),
    ]);
    account.key_pairs.push(SeedKeyPair {
        region: GZ.into(),
        id: "skey-kwtest01".into(),
        name: "kw_test_pair".into(),
        project_id: 0,
        description: "before".into(),
        public_key: None,
        instances: vec!["ins-kwtest01".into()],
        images: Vec::new(),
        created: "2024-05-06T07:08:09Z".into(),
    });
    seed
}

fn assert_request_id(id: &str, what: &str) {
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "{what}: RequestId {id:?} is not the server's"
    );
}

fn assert_api_error(err: &ProviderError, code: &str) {
    assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Api, code), "{err}");
    assert_request_id(err.request_id.as_deref().unwrap_or_default(), code);
}

/// The emulator's records hold times as the API sends them (RFC 3339 here): what the
/// item must hold, parsed.
fn rfc3339(text: &str) -> Option<keyward::inventory::Timestamp> {
    let parsed = keyward::times::parse_rfc3339(text);
    assert!(parsed.is_some(), "the emulator sent {text:?}");
    parsed
}

fn by_id(items: Vec<Item>) -> BTreeMap<String, Item> {
    let n = items.len();
    let map: BTreeMap<String, Item> = items.into_iter().map(|i| (i.key.id.to_string(), i)).collect();
    assert_eq!(map.len(), n, "an id was listed twice");
    map
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_maps_each_emulator_record_across_pages() {
    let world = World::start(seed()).await;
    let state = world.emu.state();
    let lists = futures::future::join_all(world.providers.iter().map(|p| p.list())).await;
    assert_eq!(lists.len(), 5, "2 API Gateway + 2 CVM regions + 1 OceanBase project");
    for (p, listed) in world.providers.iter().zip(lists) {
        let items = by_id(listed.unwrap());
        let what = p.scope().to_string();
        assert!(
            items.len() > 100,
            "{what}: {} items is not more than one page",
            items.len()
        );
        for item in items.values() {
            assert_eq!(
                (item.key.scope.kind, item.key.scope.account.as_str()),
                (p.scope().kind, p.scope().account.as_str())
            );
            assert_eq!(item.key.scope.region, p.scope().region);
        }
        match p.scope().kind {
            ProviderKind::ApiGateway => {
                let records = state.api_keys(&p.scope().account, &p.scope().region);
                assert_eq!(items.keys().cloned().collect::<BTreeSet<_>>(), ids(&records, |r| &r.id));
                for r in &records {
                    let item = &items[&r.id];
                    let status = if r.enabled { Status::Enabled } else { Status::Disabled };
                    assert_eq!(
                        (item.name.as_str(), item.status, item.key_type.as_str()),
                        (r.name.as_str(), status, r.key_type.as_str())
                    );
                    assert_eq!(
                        (item.created, item.modified),
                        (rfc3339(&r.created), rfc3339(&r.modified))
                    );
                }
                // The list answer carries every secret; none may survive into the items.
                let dump = format!("{:?}{}", items, serde_json::to_string(&items).unwrap());
                assert!(
                    records.iter().all(|r| !dump.contains(r.secret.expose())),
                    "{what} leaked a secret"
                );
            }
            ProviderKind::Cvm => {
                let records = state.key_pairs(&p.scope().account, &p.scope().region);
                assert_eq!(items.keys().cloned().collect::<BTreeSet<_>>(), ids(&records, |r| &r.id));
                for r in &records {
                    let item = &items[&r.id];
                    assert_eq!(
                        (item.name.as_str(), item.description.as_str(), item.created),
                        (r.name.as_str(), r.description.as_str(), rfc3339(&r.created))
                    );
                    let algorithm = r.public_key.split_whitespace().next().unwrap();
                    assert_eq!((item.status, item.key_type.as_str()), (Status::Active, algorithm));
                    let instances: Vec<Binding> = r.instance_ids.iter().cloned().map(Binding::Instance).collect();
                    assert_eq!(item.bindings, instances, "{}", r.id);
                }
            }
            ProviderKind::OceanBase => {
                let records = state.ob_keys(&p.scope().account, &p.scope().region);
                assert_eq!(items.keys().cloned().collect::<BTreeSet<_>>(), ids(&records, |r| &r.id));
                for r in &records {
                    let item = &items[&r.id];
                    assert_eq!(
                        (item.name.as_str(), item.created, item.modified),
                        (r.name.as_str(), rfc3339(&r.created), rfc3339(&r.updated))
                    );
                    assert_eq!(item.expires, r.expires.as_deref().and_then(rfc3339), "{}", r.id);
                    assert_eq!(item.last_used, r.last_used.as_deref().and_then(rfc3339), "{}", r.id);
                    assert_eq!(item.description, "", "the expiry is a time of its own");
                }
                let dump = format!("{items:?}");
                assert!(records.iter().all(|r| !dump.contains(r.secret.expose())));
            }
            ProviderKind::Cam => unreachable!("World leaves the CAM sources out"),
        }
    }
    world.finish().await;
}

fn ids<T>(records: &[T], id: impl Fn(&T) -> &String) -> BTreeSet<String> {
    records.iter().map(|r| id(r).clone()).collect()
}

#[tokio::test]
async fn api_gateway_calls_have_their_documented_outcomes() {
    let world = World::start(seed()).await;
    let state = world.emu.state();
    let gw = world.provider(ProviderKind::ApiGateway, GZ);
    let record = |id: &str| state.api_key(ACCOUNT, GZ, id);
    let count_before = state.api_key_ids(ACCOUNT, GZ).len();

    // An enabled key cannot be deleted.
    let err = gw.delete(&[KEY_FREE.to_string()]).await.unwrap_err();
    assert_api_error(&err, "UnsupportedOperation.InvalidStatus");
    assert_eq!(hints::for_error(&err).as_deref(), Some("disable the key first"));
    assert!(record(KEY_FREE).unwrap().enabled);

    // Disable and enable flip the stored status.
    let disabled = gw.disable(KEY_FREE).await.unwrap();
    assert_request_id(&disabled.request_id, "DisableApiKey");
    assert!(!record(KEY_FREE).unwrap().enabled);
    let enabled = gw.enable(KEY_FREE).await.unwrap();
    assert_request_id(&enabled.request_id, "EnableApiKey");
    assert_ne!(enabled.request_id, disabled.request_id);
    assert!(record(KEY_FREE).unwrap().enabled);

    // A key bound to a usage plan cannot be deleted even when disabled.
    let err = gw.delete(&[KEY_IN_PLAN.to_string()]).await.unwrap_err();
    assert_api_error(&err, "UnsupportedOperation.ResourceIsInUse");
    assert_eq!(
        hints::for_error(&err).as_deref(),
        Some("unbind the key from its usage plan first")
    );
    assert!(record(KEY_IN_PLAN).is_some());

    // Unknown ids, for every call.
    let unknown = UNKNOWN_KEY.to_string();
    for err in [
        gw.delete(std::slice::from_ref(&unknown)).await.unwrap_err(),
        gw.disable(UNKNOWN_KEY).await.unwrap_err(),
        gw.enable(UNKNOWN_KEY).await.unwrap_err(),
        gw.rotate(UNKNOWN_KEY, None).await.unwrap_err(),
    ] {
        assert_api_error(&err, "ResourceNotFound.InvalidAccessKeyId");
    }

    // Disabled, the free key deletes and is gone.
    gw.disable(KEY_FREE).await.unwrap();
    let report = gw.delete(&[KEY_FREE.to_string()]).await.unwrap();
    assert_request_id(&report.request_id, "DeleteApiKey");
    assert_eq!(report.deleted, [KEY_FREE]);
    assert!(report.kept.is_empty());
    assert!(record(KEY_FREE).is_none());
    assert_eq!(state.api_key_ids(ACCOUNT, GZ).len(), count_before - 1);
    world.finish().await;
}

#[tokio::test]
async fn api_key_rotation_replaces_the_stored_secret() {
    let world = World::start(seed()).await;
    let state = world.emu.state();
    let gw = world.provider(ProviderKind::ApiGateway, GZ);
    let secret_of = |id: &str| state.api_key(ACCOUNT, GZ, id).unwrap().secret;

    // Generated by the service: the returned secret is the stored one, the old one is gone.
    let old = secret_of(KEY_AUTO);
    let rotated = gw.rotate(KEY_AUTO, None).await.unwrap();
    assert_request_id(&rotated.receipt.request_id, "UpdateApiKey");
    assert_eq!(secret_of(KEY_AUTO), rotated.new_secret);
    assert_ne!(rotated.new_secret, old, "the old secret still matches");
    assert!(
        !format!("{rotated:?}").contains(rotated.new_secret.expose()),
        "Debug shows the secret"
    );

    // Chosen by the operator.
    let custom = Secret::new("Operator_Chosen_Secret_42");
    let before = secret_of(KEY_MANUAL);
    let rotated = gw.rotate(KEY_MANUAL, Some(&custom)).await.unwrap();
    assert_request_id(&rotated.receipt.request_id, "UpdateApiKey");
    assert_eq!(rotated.new_secret, custom);
    assert_eq!(secret_of(KEY_MANUAL), custom);
    assert_ne!(secret_of(KEY_MANUAL), before);

    // A manual key needs its secret given (UpdateApiKey doc); nothing changes without one.
    let err = gw.rotate(KEY_MANUAL, None).await.unwrap_err();
    assert_api_error(&err, "MissingParameter");
    assert_eq!(secret_of(KEY_MANUAL), custom);

    // A secret outside 10-50 [A-Za-z0-9_] never leaves keyward.
    let sent = state.request_count();
    for bad in ["too_short", "has-a-dash-inside", "spaces are not allowed"] {
        let err = gw.rotate(KEY_AUTO, Some(&Secret::new(bad))).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid, "{bad}");
        assert!(err.request_id.is_none());
        assert!(err.message.contains("10-50"), "{}", err.message);
        assert!(!err.message.contains(bad), "the message must not echo the secret");
    }
    assert_eq!(state.request_count(), sent, "a rejected secret reached the emulator");
    world.finish().await;
}

#[tokio::test]
async fn cvm_calls_have_their_documented_outcomes() {
    let world = World::start(seed()).await;
    let state = world.emu.state();
    let cvm = world.provider(ProviderKind::Cvm, SH);

    // 100 pairs in one call: the bound ones stay, reported as kept, with the reason.
    let before = state.key_pairs(ACCOUNT, SH);
    let batch: Vec<String> = before.iter().take(100).map(|k| k.id.clone()).collect();
    let bound: BTreeSet<String> = before
        .iter()
        .take(100)
        .filter(|k| k.is_bound())
        .map(|k| k.id.clone())
        .collect();
    assert!(
        !bound.is_empty() && bound.len() < 100,
        "the seed must mix bound and free pairs"
    );
    let report = cvm.delete(&batch).await.unwrap();
    assert_request_id(&report.request_id, "DeleteKeyPairs");
    let kept: BTreeSet<String> = report.kept.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(kept, bound);
    for (id, reason) in &report.kept {
        let pair = before.iter().find(|k| &k.id == id).unwrap();
        match pair.instance_ids.first() {
            Some(instance) => assert!(reason.contains(instance.as_str()), "{id}: {reason}"),
            None => assert!(reason.contains("image"), "{id}: {reason}"),
        }
    }
    let deleted: BTreeSet<String> = report.deleted.iter().cloned().collect();
    assert_eq!(deleted.len() + kept.len(), 100);
    let after: BTreeSet<String> = state.key_pair_ids(ACCOUNT, SH).into_iter().collect();
    let expected: BTreeSet<String> = before
        .iter()
        .map(|k| k.id.clone())
        .filter(|id| !deleted.contains(id))
        .collect();
    assert_eq!(after, expected);

    // More than 100 ids: refused before anything is sent.
    let sent = state.request_count();
    let too_many: Vec<String> = before.iter().take(101).map(|k| k.id.clone()).collect();
    let err = cvm.delete(&too_many).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.message.contains("at most 100"), "{}", err.message);
    assert_eq!(cvm.capabilities().delete_batch, 100);
    assert_eq!(state.request_count(), sent);

    // An unknown id fails the whole call: nothing of it is deleted.
    let survivor = after.iter().next().unwrap().clone();
    let err = cvm
        .delete(&[survivor.clone(), "skey-zzzz9999".into()])
        .await
        .unwrap_err();
    assert_api_error(&err, "InvalidKeyPairId.NotFound");
    assert!(state.key_pair(ACCOUNT, SH, &survivor).is_some());
    let err = cvm.delete(&["key-12345678".into()]).await.unwrap_err();
    assert_api_error(&err, "InvalidKeyPairId.Malformed");
    assert_eq!(state.key_pair_ids(ACCOUNT, SH).len(), after.len());

    // Rename: name and description change, and the list shows them.
    let gz = world.provider(ProviderKind::Cvm, GZ);
    let receipt = gz.rename("skey-kwtest01", "kw_renamed", Some("after")).await.unwrap();
    assert_request_id(&receipt.request_id, "ModifyKeyPairAttribute");
    let pair = state.key_pair(ACCOUNT, GZ, "skey-kwtest01").unwrap();
    assert_eq!((pair.name.as_str(), pair.description.as_str()), ("kw_renamed", "after"));
    let listed: Vec<_> = gz
        .list()
        .await
        .unwrap()
        .into_iter()
        .filter(|i| i.key.id == "skey-kwtest01")
        .collect();
    assert_eq!(
        (listed[0].name.as_str(), listed[0].description.as_str()),
        ("kw_renamed", "after")
    );
    let other = state
        .key_pairs(ACCOUNT, GZ)
        .into_iter()
        .find(|k| k.id != "skey-kwtest01")
        .unwrap();
    let err = gz.rename("skey-kwtest01", &other.name, None).await.unwrap_err();
    assert_api_error(&err, "InvalidKeyPairName.Duplicate");
    let err = gz.rename("skey-zzzz9999", "kw_nobody", None).await.unwrap_err();
    assert_api_error(&err, "InvalidKeyPairId.NotFound");
    assert_eq!(state.key_pair(ACCOUNT, GZ, "skey-kwtest01").unwrap().name, "kw_renamed");
    world.finish().await;
}

#[tokio::test]
async fn oceanbase_delete_removes_exactly_that_key() {
    let world = World::start(seed()).await;
    let state = world.emu.state();
    let ob = world.provider(ProviderKind::OceanBase, PROJECT);
    let before = state.ob_key_ids(OB_ACCOUNT, PROJECT);
    let victim = before[before.len() / 2].clone();

    let report = ob.delete(std::slice::from_ref(&victim)).await.unwrap();
    assert_request_id(&report.request_id, "DELETE apikeys");
    assert_eq!(report.deleted, std::slice::from_ref(&victim));
    let after = state.ob_key_ids(OB_ACCOUNT, PROJECT);
    let expected: Vec<String> = before.iter().filter(|id| **id != victim).cloned().collect();
    assert_eq!(after, expected);

    // Deleting it again, or an id that never existed: NOT_FOUND with the RequestId.
    for id in [victim.clone(), "ak-doesnotexist000".to_string()] {
        let err = ob.delete(&[id]).await.unwrap_err();
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Api, "NOT_FOUND"), "{err}");
        assert_request_id(err.request_id.as_deref().unwrap_or_default(), "NOT_FOUND");
        assert_eq!(
            hints::for_error(&err).as_deref(),
            Some("the key no longer exists: refresh the list")
        );
    }
    assert_eq!(state.ob_key_ids(OB_ACCOUNT, PROJECT), expected);
    let listed: HashSet<String> = ob.list().await.unwrap().into_iter().map(|i| i.key.id.into()).collect();
    assert_eq!(listed, expected.into_iter().collect());
    world.finish().await;
}

/// 10,000 key pairs and 2,000 API keys across 5 regions of one account, listed through all
/// ten providers at once. The CVM client paces DescribeKeyPairs at 0.95 × 10/s for the whole
/// account, so the 100 pages take about ten seconds: that pacing is what is under test, so
/// the emulator's limits stay on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_key_pairs_list_exactly_within_the_limits() {
    let regions = [
        "ap-guangzhou",
        "ap-shanghai",
        "ap-beijing",
        "ap-chengdu",
        "ap-singapore",
    ];
    let seed = Seed::generated(1, &regions, 2_000, 400, 0);
    let world = World::start(seed).await;
    let state = world.emu.state();
    let tencent: Vec<&Arc<dyn Provider>> = world
        .providers
        .iter()
        .filter(|p| p.scope().kind != ProviderKind::OceanBase)
        .collect();
    assert_eq!(tencent.len(), 10);

    let lists = futures::future::join_all(tencent.iter().map(|p| p.list())).await;
    let (mut pairs, mut keys) = (0, 0);
    for (p, listed) in tencent.iter().zip(lists) {
        let listed: Vec<String> = listed.unwrap().into_iter().map(|i| i.key.id.into()).collect();
        let expected = match p.scope().kind {
            ProviderKind::Cvm => state.key_pair_ids(&p.scope().account, &p.scope().region),
            _ => state.api_key_ids(&p.scope().account, &p.scope().region),
        };
        // Same ids in the same (emulator) order: no page skipped, repeated or reordered.
        assert_eq!(listed, expected, "{} {}", p.scope().kind, p.scope().region);
        match p.scope().kind {
            ProviderKind::Cvm => pairs += listed.len(),
            _ => keys += listed.len(),
        }
    }
    assert_eq!((pairs, keys), (10_000, 2_000));
    world.finish().await;
}

/// Ten usage plans in ap-guangzhou with two keys bound to each, and ten unbound keys.
fn ten_plans_seed() -> Seed {
    let mut seed = Seed::generated(1, &[GZ], 0, 0, 0);
    let account = &mut seed.tencent[0];
    for p in 0..10 {
        for k in 0..2 {
            let plan = format!("usagePlan-kwtest{p:02}");
            account.api_keys.push(api_key(
                &format!("AKIDkeywardtestplan{p:02}key{k}000000000000000"),
                "auto",
                false,
                Some(&plan),
            ));
        }
    }
    for i in 0..10 {
        account.api_keys.push(api_key(
            &format!("AKIDkeywardtestunboundkey{i:02}0000000000000"),
            "auto",
            false,
            None,
        ));
    }
    seed
}

/// Run `plan` (its `listed` set to `before`) to the end; the items of its one re-read.
async fn run_and_refresh(plan: keyward::queue::Plan, before: Vec<Item>, provider: Arc<dyn Provider>) -> Vec<Item> {
    use keyward::queue::{ExecEvent, ExecOptions};
    let plan = keyward::queue::Plan { listed: before, ..plan };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = tokio_util::sync::CancellationToken::new();
    keyward::queue::execute(plan, vec![provider], ExecOptions::default(), None, cancel, tx).await;
    let mut refreshed = Vec::new();
    while let Ok(event) = rx.try_recv() {
        if let ExecEvent::Refreshed { items, .. } = event {
            refreshed.push(items);
        }
    }
    assert_eq!(refreshed.len(), 1, "one scope was touched, so one re-read");
    refreshed.remove(0)
}

#[tokio::test]
async fn the_refresh_after_a_run_looks_up_no_usage_plan_the_run_did_not_touch() {
    use keyward::queue::{Intent, build_plan};
    let world = World::start(ten_plans_seed()).await;
    let gw = world.provider(ProviderKind::ApiGateway, GZ);
    let state = world.emu.state();
    let lookups = || state.action_count("DescribeUsagePlanSecretIds");
    let before = gw.list().await.unwrap();
    assert_eq!(lookups(), 10, "a full listing looks up each of the 10 plans");
    assert_eq!(before.iter().filter(|i| i.is_bound()).count(), 20);

    let free: Vec<&Item> = before.iter().filter(|i| !i.is_bound()).take(3).collect();
    let disabled: BTreeSet<String> = free.iter().map(|i| i.key.id.to_string()).collect();
    let plan = build_plan(&free, &Intent::Disable, &keyward::queue::Protect::default());
    let plan_lists = state.action_count("DescribeUsagePlansStatus");
    let refreshed = run_and_refresh(plan, before.clone(), gw.clone()).await;

    assert_eq!(lookups(), 10, "no DescribeUsagePlanSecretIds for the untouched plans");
    assert_eq!(
        state.action_count("DescribeUsagePlansStatus"),
        plan_lists + 1,
        "the plan list itself is read again (a new plan would show there)"
    );
    for item in &refreshed {
        let expected = if disabled.contains(item.key.id.as_str()) {
            Status::Disabled
        } else {
            Status::Enabled
        };
        assert_eq!(item.status, expected, "{}", item.key.id);
    }
    // The bindings shown are what a full listing finds.
    assert_eq!(by_id(refreshed), by_id(gw.list().await.unwrap()));
    world.finish().await;
}

#[tokio::test]
async fn the_refresh_after_a_run_looks_up_the_plans_of_the_keys_it_touched() {
    use keyward::queue::{Intent, build_plan};
    let world = World::start(ten_plans_seed()).await;
    let gw = world.provider(ProviderKind::ApiGateway, GZ);
    let state = world.emu.state();
    let before = gw.list().await.unwrap();
    let bound = before.iter().find(|i| i.is_bound()).unwrap();
    let plan = build_plan(&[bound], &Intent::Disable, &keyward::queue::Protect::default());
    let lookups = state.action_count("DescribeUsagePlanSecretIds");
    let refreshed = run_and_refresh(plan, before.clone(), gw.clone()).await;
    assert_eq!(
        state.action_count("DescribeUsagePlanSecretIds"),
        lookups + 1,
        "only the one plan the disabled key is bound to is looked up again"
    );
    let shown = by_id(refreshed);
    assert_eq!(shown[bound.key.id.as_str()].bindings, bound.bindings);
    assert_eq!(shown[bound.key.id.as_str()].status, Status::Disabled);
    assert_eq!(shown, by_id(gw.list().await.unwrap()));

    // Without the items it planned from, the re-read is a full listing.
    let again = build_plan(
        &[&shown[bound.key.id.as_str()]],
        &Intent::Enable,
        &keyward::queue::Protect::default(),
    );
    let lookups = state.action_count("DescribeUsagePlanSecretIds");
    let refreshed = run_and_refresh(again, Vec::new(), gw.clone()).await;
    assert_eq!(state.action_count("DescribeUsagePlanSecretIds"), lookups + 10);
    assert_eq!(by_id(refreshed), by_id(gw.list().await.unwrap()));
    world.finish().await;
}

/// Twenty accounts listing two regions of two services at once: every account's requests
/// to one region host share one HTTP/2 connection, instead of each of the 80 first calls
/// racing its own TLS handshake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_accounts_listing_at_once_share_one_connection_per_host() {
    let seed = Seed::generated(20, &["ap-guangzhou", "ap-shanghai"], 3, 3, 0);
    let world = World::start(seed).await;
    let tencent: Vec<_> = world
        .providers
        .iter()
        .filter(|p| p.scope().kind != ProviderKind::OceanBase)
        .cloned()
        .collect();
    assert_eq!(tencent.len(), 80);
    let results = futures::future::join_all(tencent.iter().map(|p| p.list())).await;
    for (p, r) in tencent.iter().zip(results) {
        assert_eq!(
            r.unwrap_or_else(|e| panic!("{}: {e}", p.scope())).len(),
            3,
            "{}",
            p.scope()
        );
    }
    // apigateway and cvm, each through the ap-guangzhou and ap-shanghai region hosts.
    assert_eq!(world.emu.state().connection_count(), 4);
    world.finish().await;
}
