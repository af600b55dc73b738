//! The CVM key pair provider against an in-process fake of cvm 2017-03-12: paging and
//! describe requests, servers that behave otherwise than the emulator. Outcomes and state
//! changes of each call against the emulator are in tests/it/providers_emulator.rs.

use crate::support::items::ts;
use crate::support::tencent::{Fake, Reply, Seen};
use keyward::inventory::{Binding, ProviderKind, Status};
use keyward::providers::tencent::client::CVM;
use keyward::providers::tencent::cvm::Cvm;
use keyward::providers::{ErrorKind, Provider};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
struct Pair {
    id: String,
    name: String,
    description: String,
    instances: Vec<String>,
}

fn pair_json(p: &Pair) -> Value {
    json!({
        "KeyId": p.id, "KeyName": p.name, "ProjectId": 0, "Description": p.description,
        "PublicKey": format!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIpublicmaterial{} {}", p.id, p.name),
        "PrivateKey": null,
        "AssociatedInstanceIds": p.instances, "CreatedTime": "2024-01-02T03:04:05Z", "Tags": []
    })
}

/// A small CVM: DescribeKeyPairs (Offset/Limit/KeyIds), DeleteKeyPairs (keeps bound
/// pairs, as the service does), ModifyKeyPairAttribute. `strict_ids` makes DescribeKeyPairs
/// fail with InvalidKeyPairId.NotFound when a requested KeyId does not exist.
struct Cloud {
    pairs: Mutex<Vec<Pair>>,
    strict_ids: bool,
}

impl Cloud {
    fn new(n: usize, strict_ids: bool) -> Arc<Cloud> {
        let pairs = (0..n)
            .map(|i| Pair {
                id: format!("skey-{i:08}"),
                name: format!("pair_{i}"),
                description: String::new(),
                instances: Vec::new(),
            })
            .collect();
        Arc::new(Cloud {
            pairs: Mutex::new(pairs),
            strict_ids,
        })
    }

    fn bind(&self, id: &str, instance: &str) {
        let mut pairs = self.pairs.lock().unwrap();
        pairs
            .iter_mut()
            .find(|p| p.id == id)
            .unwrap()
            .instances
            .push(instance.into());
    }

    fn ids(&self) -> Vec<String> {
        self.pairs.lock().unwrap().iter().map(|p| p.id.clone()).collect()
    }

    fn handle(&self, seen: &Seen) -> Reply {
        let mut pairs = self.pairs.lock().unwrap();
        let key_ids: Option<Vec<String>> = seen
            .params
            .get("KeyIds")
            .map(|v| serde_json::from_value(v.clone()).unwrap());
        match seen.action.as_str() {
            "DescribeKeyPairs" => {
                let selected: Vec<&Pair> = match &key_ids {
                    Some(ids) => {
                        if self.strict_ids && ids.iter().any(|id| !pairs.iter().any(|p| &p.id == id)) {
                            return Reply::Error("InvalidKeyPairId.NotFound", "The key pair does not exist.");
                        }
                        pairs.iter().filter(|p| ids.contains(&p.id)).collect()
                    }
                    None => pairs.iter().collect(),
                };
                let offset = seen.params["Offset"].as_u64().unwrap_or(0) as usize;
                let limit = seen.params["Limit"].as_u64().unwrap_or(20) as usize;
                let page: Vec<Value> = selected.iter().skip(offset).take(limit).map(|p| pair_json(p)).collect();
                Reply::Ok(json!({ "TotalCount": selected.len(), "KeyPairSet": page }))
            }
            "DeleteKeyPairs" => {
                let ids = key_ids.unwrap_or_default();
                if ids.iter().any(|id| !pairs.iter().any(|p| &p.id == id)) {
                    return Reply::Error("InvalidKeyPairId.NotFound", "The key pair does not exist.");
                }
                pairs.retain(|p| !ids.contains(&p.id) || !p.instances.is_empty());
                Reply::Ok(json!({}))
            }
            "ModifyKeyPairAttribute" => {
                let id = seen.params["KeyId"].as_str().unwrap_or_default();
                let Some(p) = pairs.iter_mut().find(|p| p.id == id) else {
                    return Reply::Error("InvalidKeyPairId.NotFound", "The key pair does not exist.");
                };
                if let Some(name) = seen.params["KeyName"].as_str() {
                    p.name = name.into();
                }
                if let Some(d) = seen.params["Description"].as_str() {
                    p.description = d.into();
                }
                Reply::Ok(json!({}))
            }
            _ => Reply::Error("InvalidAction", "unknown action"),
        }
    }
}

async fn provider(cloud: &Arc<Cloud>) -> (Fake, Cvm) {
    let cloud = Arc::clone(cloud);
    let fake = Fake::start(CVM, move |seen| cloud.handle(seen)).await;
    let cvm = Cvm::new(fake.client(CVM, 0), "prod", "ap-shanghai");
    (fake, cvm)
}

#[tokio::test]
async fn list_follows_every_page_and_maps_bindings() {
    let cloud = Cloud::new(250, true);
    cloud.bind("skey-00000007", "ins-aaaa1111");
    cloud.bind("skey-00000007", "ins-bbbb2222");
    let (fake, cvm) = provider(&cloud).await;
    let items = cvm.list().await.unwrap();
    assert_eq!(items.len(), 250);
    let offsets: Vec<u64> = fake
        .seen()
        .iter()
        .map(|s| s.params["Offset"].as_u64().unwrap())
        .collect();
    assert_eq!(offsets, [0, 100, 200]);
    assert!(fake.seen().iter().all(|s| s.params["Limit"] == 100));

    let bound = items.iter().find(|i| i.key.id == "skey-00000007").unwrap();
    assert_eq!(
        bound.bindings,
        [
            Binding::Instance("ins-aaaa1111".into()),
            Binding::Instance("ins-bbbb2222".into())
        ]
    );
    let first = &items[0];
    assert_eq!(first.key.scope.kind, ProviderKind::Cvm);
    assert_eq!(
        (first.key.scope.account.as_str(), first.key.scope.region.as_str()),
        ("prod", "ap-shanghai")
    );
    assert_eq!(first.name, "pair_0");
    assert_eq!(first.status, Status::Active);
    assert_eq!(first.key_type, "ssh-ed25519");
    assert_eq!(first.created, Some(ts("2024-01-02T03:04:05Z")));
    let dump = serde_json::to_string(&items).unwrap();
    assert!(!dump.contains("publicmaterial"), "public key material is not kept");
}

#[tokio::test]
async fn delete_reports_pairs_the_service_kept() {
    for strict_ids in [true, false] {
        let cloud = Cloud::new(5, strict_ids);
        cloud.bind("skey-00000001", "ins-keepme01");
        let (fake, cvm) = provider(&cloud).await;
        let ids: Vec<String> = ["skey-00000000", "skey-00000001", "skey-00000002"]
            .map(String::from)
            .into();
        let report = cvm.delete(&ids).await.unwrap();
        assert_eq!(report.request_id, "req-1");
        assert_eq!(report.deleted, ["skey-00000000", "skey-00000002"]);
        assert_eq!(report.kept.len(), 1);
        assert_eq!(report.kept[0].0, "skey-00000001");
        assert!(report.kept[0].1.contains("ins-keepme01"), "{}", report.kept[0].1);
        assert_eq!(cloud.ids(), ["skey-00000001", "skey-00000003", "skey-00000004"]);
        assert_eq!(fake.actions()[0], "DeleteKeyPairs");
        assert_eq!(fake.seen()[0].params, json!({ "KeyIds": ids }));
        assert!(fake.actions()[1..].iter().all(|a| a == "DescribeKeyPairs"));
    }
}

#[tokio::test]
async fn describe_asks_for_at_most_100_ids_per_call() {
    let cloud = Cloud::new(150, true);
    let (fake, cvm) = provider(&cloud).await;
    let ids = cloud.ids();
    let items = cvm.describe(&ids).await.unwrap();
    assert_eq!(items.len(), 150);
    let sizes: Vec<usize> = fake
        .seen()
        .iter()
        .map(|s| s.params["KeyIds"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [100, 50]);
}

#[tokio::test]
async fn errors_surface_with_their_request_id() {
    let cloud = Cloud::new(1, true);
    let (_fake, cvm) = provider(&cloud).await;
    let err = cvm.delete(&["skey-missing0".to_string()]).await.unwrap_err();
    assert_eq!(
        (err.kind, err.code.as_str()),
        (ErrorKind::Api, "InvalidKeyPairId.NotFound")
    );
    assert_eq!(err.request_id.as_deref(), Some("req-1"));
    let err = cvm.rename("skey-missing0", "x", None).await.unwrap_err();
    assert_eq!(err.code, "InvalidKeyPairId.NotFound");
    assert_eq!(err.request_id.as_deref(), Some("req-2"));

    let fake = Fake::start(CVM, |_| {
        Reply::Error(
            "InvalidParameterValue.KeyPairNotSupported",
            "The specified key does not support the operation.",
        )
    })
    .await;
    let cvm = Cvm::new(fake.client(CVM, 3), "prod", "ap-shanghai");
    let err = cvm.delete(&["skey-00000000".to_string()]).await.unwrap_err();
    assert_eq!(err.code, "InvalidParameterValue.KeyPairNotSupported");
    assert_eq!(err.request_id.as_deref(), Some("req-1"));
    assert_eq!(fake.seen().len(), 1);
    // The service's message does not say which call failed: keyward's does, as for API Gateway.
    assert_eq!(
        err.message,
        "DeleteKeyPairs: The specified key does not support the operation."
    );
    let err = cvm.list().await.unwrap_err();
    assert!(err.message.starts_with("DescribeKeyPairs: "), "{}", err.message);
    let err = cvm.rename("skey-00000000", "x", None).await.unwrap_err();
    assert!(err.message.starts_with("ModifyKeyPairAttribute: "), "{}", err.message);
}

#[tokio::test]
async fn a_failed_check_after_delete_keeps_the_delete_request_id() {
    let calls = Mutex::new(0);
    let fake = Fake::start(CVM, move |_| {
        let mut n = calls.lock().unwrap();
        *n += 1;
        if *n == 1 {
            Reply::Ok(json!({}))
        } else {
            Reply::Error("InternalServerError", "Internal error.")
        }
    })
    .await;
    let cvm = Cvm::new(fake.client(CVM, 0), "prod", "ap-shanghai");
    let err = cvm.delete(&["skey-00000000".to_string()]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(err.request_id.as_deref(), Some("req-1"));
    assert!(err.message.contains("DeleteKeyPairs was accepted"), "{}", err.message);
}
