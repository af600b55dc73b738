//! The API Gateway provider against an in-process fake of apigateway 2018-08-08: paging
//! requests, error codes and answers the emulator cannot produce. Outcomes and state changes
//! of each call against the emulator are in tests/providers_emulator.rs.

mod tencent_support;

use keyward::inventory::{ProviderKind, Status};
use keyward::providers::tencent::apigateway::ApiGateway;
use keyward::providers::tencent::client::APIGATEWAY;
use keyward::providers::{ErrorKind, Provider};
use serde_json::{Value, json};
use tencent_support::{Fake, Reply, Seen};

fn api_key(i: usize) -> Value {
    json!({
        "AccessKeyId": format!("AKID{i:04}"),
        "AccessKeySecret": format!("topsecret_{i:04}"),
        "AccessKeyType": if i % 2 == 0 { "auto" } else { "manual" },
        "SecretName": format!("key-{i}"),
        "Status": if i % 3 == 0 { 0 } else { 1 },
        "CreatedTime": "2020-02-26T06:09:44Z",
        "ModifiedTime": "2020-02-26T06:45:57Z"
    })
}

/// DescribeApiKeysStatus over `n` keys, honouring Offset/Limit.
fn paged_keys(n: usize) -> impl Fn(&Seen) -> Reply + Send + Sync {
    move |seen| {
        let offset = seen.params["Offset"].as_u64().unwrap_or(0) as usize;
        let limit = seen.params["Limit"].as_u64().unwrap_or(20) as usize;
        let set: Vec<Value> = (offset..n.min(offset + limit)).map(api_key).collect();
        Reply::Ok(json!({ "Result": { "TotalCount": n, "ApiKeySet": set } }))
    }
}

async fn provider(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> (Fake, ApiGateway) {
    let fake = Fake::start(APIGATEWAY, handler).await;
    let provider = ApiGateway::new(fake.client(APIGATEWAY, 0), "prod", "ap-guangzhou");
    (fake, provider)
}

#[tokio::test]
async fn list_follows_every_page_and_never_keeps_a_secret() {
    let (fake, gw) = provider(paged_keys(250)).await;
    let items = gw.list().await.unwrap();
    assert_eq!(items.len(), 250);
    let offsets: Vec<(u64, u64)> = fake
        .seen()
        .iter()
        .map(|s| {
            (
                s.params["Offset"].as_u64().unwrap(),
                s.params["Limit"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(offsets, [(0, 100), (100, 100), (200, 100)]);
    assert!(fake.seen().iter().all(|s| s.action == "DescribeApiKeysStatus"));

    let first = &items[0];
    assert_eq!(first.key.kind, ProviderKind::ApiGateway);
    assert_eq!(
        (first.key.account.as_str(), first.key.region.as_str()),
        ("prod", "ap-guangzhou")
    );
    assert_eq!(first.key.id, "AKID0000");
    assert_eq!(first.name, "key-0");
    assert_eq!(first.status, Status::Disabled);
    assert_eq!(items[1].status, Status::Enabled);
    assert_eq!(
        (first.key_type.as_str(), items[1].key_type.as_str()),
        ("auto", "manual")
    );
    assert_eq!(first.created, "2020-02-26T06:09:44Z");
    assert_eq!(first.modified, "2020-02-26T06:45:57Z");
    assert!(first.bindings.is_empty());
    assert_eq!(items[249].key.id, "AKID0249");

    let dump = serde_json::to_string(&items).unwrap() + &format!("{items:?}");
    assert!(!dump.contains("topsecret"), "an AccessKeySecret leaked into the items");
}

#[tokio::test]
async fn an_empty_account_lists_in_one_call() {
    let (fake, gw) = provider(paged_keys(0)).await;
    assert!(gw.list().await.unwrap().is_empty());
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn each_named_error_code_surfaces_with_its_request_id() {
    let cases: [(&str, &'static str); 4] = [
        ("DeleteApiKey", "UnsupportedOperation.ResourceIsInUse"),
        ("DeleteApiKey", "UnsupportedOperation.InvalidStatus"),
        ("DisableApiKey", "ResourceNotFound.InvalidAccessKeyId"),
        ("UpdateApiKey", "UnsupportedOperation.UinNotInWhiteList"),
    ];
    for (action, code) in cases {
        let (fake, gw) = provider(move |_| Reply::Error(code, "refused")).await;
        let err = match action {
            "DeleteApiKey" => gw.delete(&["AKID1".to_string()]).await.unwrap_err(),
            "DisableApiKey" => gw.disable("AKID1").await.unwrap_err(),
            _ => gw.rotate("AKID1", None).await.unwrap_err(),
        };
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Api, code));
        assert_eq!(err.request_id.as_deref(), Some("req-1"), "{code}");
        assert_eq!(fake.actions(), [action]);
        assert_eq!(fake.seen()[0].params, json!({ "AccessKeyId": "AKID1" }));
    }
}

#[tokio::test]
async fn a_false_result_is_reported_as_a_failure() {
    let (_fake, gw) = provider(|_| Reply::Ok(json!({ "Result": false }))).await;
    let err = gw.delete(&["AKID7".to_string()]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Api);
    assert_eq!(err.request_id.as_deref(), Some("req-1"));
}

#[tokio::test]
async fn delete_takes_exactly_one_key_per_call() {
    let (fake, gw) = provider(|_| Reply::Ok(json!({ "Result": true }))).await;
    let err = gw.delete(&["A".to_string(), "B".to_string()]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(gw.delete(&[]).await.is_err());
    assert!(fake.seen().is_empty());
    let caps = gw.capabilities();
    assert!(caps.delete && caps.enable_disable && caps.rotate && caps.delete_requires_disabled && !caps.rename);
    assert_eq!(caps.delete_batch, 1);
}
