//! The CAM provider against the emulator's CAM: the listing with owners and last use,
//! the self-lockout refusal through the real planner and executor, disable-then-delete,
//! and CreateAccessKey's refusal at the key limit.

use crate::support::exec::{entries, run};
use keyward::demo::DemoConfig;
use keyward::emulator::{self, Emulator, EmulatorOptions, Seed};
use keyward::inventory::{Item, ProviderKind, Status};
use keyward::providers::Provider;
use keyward::providers::tencent::cam::{self, beijing_to_utc};
use keyward::queue::{ExecOptions, Intent, Outcome, build_plan};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

const PROD: &str = "acme-prod";
/// The root key acme-prod's keyward signs with (demo seed).
const SIGNER: &str = "AKIDkwDEMOprod7Hq2XbN4mR8vLc1ZtY5sPe";
/// ci-deploy: two Active keys.
const CI_DEPLOY: u64 = 100_011_110_101;
const CI_NEW: &str = "AKIDkwCAMjWhRLYcSrTHX4w8oYWo4FW5bvzC";
const CI_OLD: &str = "AKIDkwCAMkNRBoN8sohmhJpjBPqnsYMSN2mu";
/// backup-bot: one Active key.
const BACKUP_BOT: u64 = 100_011_110_104;

struct World {
    emu: Emulator,
    providers: Vec<Arc<dyn Provider>>,
}

impl World {
    async fn start() -> World {
        let seed = Seed::demo().unwrap();
        let emu = emulator::start(EmulatorOptions::https(seed.clone())).await.unwrap();
        let providers = DemoConfig::new(&emu, &seed, None).providers().await.unwrap();
        World { emu, providers }
    }

    fn cam(&self) -> Arc<dyn Provider> {
        self.providers
            .iter()
            .find(|p| p.scope().kind == ProviderKind::Cam && p.scope().account == PROD)
            .cloned()
            .expect("acme-prod's CAM source")
    }

    fn status(&self, id: &str) -> Option<&'static str> {
        self.emu.state().cam_key_status(PROD, id)
    }
}

fn by_id(items: Vec<Item>) -> BTreeMap<String, Item> {
    items.into_iter().map(|i| (i.key.id.to_string(), i)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listing_has_every_users_keys_with_owner_status_times_and_last_use() {
    let world = World::start().await;
    let p = world.cam();
    assert_eq!(p.scope().region, cam::GLOBAL);
    assert_eq!(p.notice(), None);
    let items = by_id(p.list().await.unwrap());
    let state = world.emu.state();
    let keys = state.cam_keys(PROD);
    assert_eq!(items.len(), keys.len());
    let root = state.cam_root_uin(PROD).unwrap();
    let users: BTreeMap<u64, String> = state.cam_users(PROD).into_iter().map(|u| (u.uin, u.name)).collect();
    for k in &keys {
        let item = &items[&k.id];
        let status = if k.status == "Active" {
            Status::Enabled
        } else {
            Status::Disabled
        };
        assert_eq!(item.status, status, "{}", k.id);
        if k.owner_uin == root {
            assert_eq!((item.name.as_str(), item.key_type.as_str()), ("root", "root"));
        } else {
            let name = format!("{} ({})", users[&k.owner_uin], k.owner_uin);
            assert_eq!(
                (item.name.as_str(), item.key_type.as_str()),
                (name.as_str(), "sub-user")
            );
        }
        // CreateTime is Beijing time without a zone; the item holds it as UTC.
        assert_eq!(item.created, beijing_to_utc(Some(&k.created)).unwrap(), "{}", k.id);
        assert!(item.created.is_some(), "{}", k.id);
        // The last-use date is the Beijing calendar date the service records, as midnight
        // UTC of that date.
        let expected = k.last_used.map(|t| {
            (t + chrono::Duration::hours(8))
                .format("%Y-%m-%dT00:00:00Z")
                .to_string()
        });
        assert_eq!(item.last_used.map(keyward::times::rfc3339), expected, "{}", k.id);
        assert_eq!(item.description, k.description);
        assert_eq!(item.signs_keyward, k.id == SIGNER, "{}", k.id);
    }
    assert!(items[SIGNER].signs_keyward);
    assert_eq!(items[CI_NEW].owner_active_keys, 2);
    assert!(items.values().any(|i| i.last_used.is_some()));
    // No listing call may come near a secret.
    let dump = format!("{items:?}{}", serde_json::to_string(&items).unwrap());
    assert!(!dump.contains("kwDemoCam"), "a secret reached an item");
    assert_eq!(state.rate_limited_count(), 0);
    world.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_of_every_key_skips_keywards_own_and_disables_each_active_key_first() {
    let world = World::start().await;
    let p = world.cam();
    let items = p.list().await.unwrap();
    let refs: Vec<&Item> = items.iter().collect();
    let plan = build_plan(&refs, &Intent::Delete, &keyward::queue::Protect::default());
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(plan.skipped[0].0.id, SIGNER);
    assert_eq!(
        plan.skipped[0].1,
        format!("keyward is using this key for account {PROD}")
    );
    // The emulator refuses to delete an Active key: every Active one is disabled first.
    let order: Vec<(&str, &str)> = plan.calls.iter().map(|c| (c.action, c.ids[0].as_str())).collect();
    let at = |action, id| order.iter().position(|c| *c == (action, id)).unwrap();
    assert!(at(cam::actions::UPDATE_ACCESS_KEY, CI_OLD) < at(cam::actions::DELETE_ACCESS_KEY, CI_OLD));
    let events = run(
        plan,
        world.providers.clone(),
        ExecOptions { dry_run: false },
        None,
        CancellationToken::new(),
    )
    .await;
    let failed: Vec<_> = entries(&events)
        .into_iter()
        .filter(|e| !matches!(e.outcome, Outcome::Ok))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    let left: Vec<String> = world.emu.state().cam_keys(PROD).into_iter().map(|k| k.id).collect();
    assert_eq!(left, [SIGNER]);
    assert_eq!(world.status(SIGNER), Some("Active"));
    world.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_enable_and_delete_reach_the_owner_through_target_uin() {
    let world = World::start().await;
    let p = world.cam();
    // Before a listing keyward does not know whose key it is: refused, nothing sent.
    let err = p.disable(CI_OLD).await.unwrap_err();
    assert!(err.message.contains("reload (R)"), "{err}");
    assert_eq!(world.status(CI_OLD), Some("Active"));
    p.list().await.unwrap();
    p.disable(CI_OLD).await.unwrap();
    assert_eq!(world.status(CI_OLD), Some("Inactive"));
    p.enable(CI_OLD).await.unwrap();
    assert_eq!(world.status(CI_OLD), Some("Active"));
    // The service refuses to delete an Active key ...
    let err = p.delete(&[CI_OLD.to_string()]).await.unwrap_err();
    assert_eq!(err.code, "FailedOperation.Accesskey");
    // ... and deletes it once disabled.
    p.disable(CI_OLD).await.unwrap();
    p.delete(&[CI_OLD.to_string()]).await.unwrap();
    assert_eq!(world.status(CI_OLD), None);
    assert_eq!(world.status(CI_NEW), Some("Active"));
    world.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_access_key_refuses_a_full_user_before_any_call_and_returns_the_secret_once() {
    let world = World::start().await;
    let provider = world.cam();
    let seed = Seed::demo().unwrap();
    let (id, key) = {
        let a = &seed.tencent_accounts()[0];
        (a.secret_id.clone(), a.secret_key.clone())
    };
    // The typed provider (its create method is not on the trait), over the demo's endpoint.
    let cam = demo_cam(&world, &id, &key);
    cam.list().await.unwrap();
    let before = world.emu.state().cam_keys(PROD).len();
    let err = cam.create_access_key(Some(CI_DEPLOY), None).await.unwrap_err();
    assert_eq!(err.kind, keyward::providers::ErrorKind::Invalid);
    assert!(err.message.contains("already has 2 access keys"), "{err}");
    assert_eq!(world.emu.state().cam_keys(PROD).len(), before, "nothing was created");
    let created = cam
        .create_access_key(Some(BACKUP_BOT), Some("rotation-2025"))
        .await
        .unwrap();
    assert!(!created.secret_key.expose().is_empty());
    assert!(!format!("{created:?}").contains(created.secret_key.expose()));
    let listed = by_id(provider.list().await.unwrap());
    let new = &listed[&created.secret_id];
    assert_eq!(new.name, format!("backup-bot ({BACKUP_BOT})"));
    assert_eq!(new.description, "rotation-2025");
    // The new key is now one of two: a third is refused locally.
    let err = cam.create_access_key(Some(BACKUP_BOT), None).await.unwrap_err();
    assert!(err.message.contains("already has 2"), "{err}");
    world.emu.shutdown().await;
}

/// acme-prod's CAM provider as its own type, on the demo's CAM endpoint and CA.
fn demo_cam(world: &World, secret_id: &str, secret_key: &str) -> cam::Cam {
    use keyward::providers::tencent::client::{CAM, ClientOptions, Credentials, TencentClient};
    let creds = Credentials {
        secret_id: secret_id.into(),
        secret_key: keyward::secret::Secret::new(secret_key),
        token: None,
    };
    // The real CAM host, reached at the emulator (as the demo reaches it).
    let opts = ClientOptions {
        endpoint: None,
        extra_root_ca_pem: world.emu.ca_cert_pem.clone(),
        connect_to: Some(keyward::providers::http::ConnectTo {
            host: world.emu.addr.ip().to_string(),
            port: world.emu.addr.port(),
        }),
        ..ClientOptions::default()
    };
    cam::Cam::new(Arc::new(TencentClient::new(CAM, creds, opts).unwrap()), PROD)
}
