//! The API Gateway provider against an in-process fake of apigateway 2018-08-08.

mod tencent_support;

use keyward::inventory::{ProviderKind, Status};
use keyward::providers::tencent::apigateway::{ApiGateway, validate_custom_secret};
use keyward::providers::tencent::client::APIGATEWAY;
use keyward::providers::{ErrorKind, Provider};
use keyward::secret::Secret;
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
async fn disable_enable_and_delete_send_the_key_id_and_return_receipts() {
    let (fake, gw) = provider(|_| Reply::Ok(json!({ "Result": true }))).await;
    assert_eq!(gw.disable("AKID7").await.unwrap().request_id, "req-1");
    assert_eq!(gw.enable("AKID7").await.unwrap().request_id, "req-2");
    let report = gw.delete(&["AKID7".to_string()]).await.unwrap();
    assert_eq!(report.request_id, "req-3");
    assert_eq!(report.deleted, ["AKID7"]);
    assert!(report.kept.is_empty());
    assert_eq!(fake.actions(), ["DisableApiKey", "EnableApiKey", "DeleteApiKey"]);
    assert!(
        fake.seen()
            .iter()
            .all(|s| s.params == json!({ "AccessKeyId": "AKID7" }))
    );
}

#[tokio::test]
async fn a_false_result_is_reported_as_a_failure() {
    let (_fake, gw) = provider(|_| Reply::Ok(json!({ "Result": false }))).await;
    let err = gw.delete(&["AKID7".to_string()]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Api);
    assert_eq!(err.request_id.as_deref(), Some("req-1"));
}

#[tokio::test]
async fn rotate_returns_the_generated_secret() {
    let (fake, gw) = provider(|seen| {
        Reply::Ok(json!({ "Result": {
            "AccessKeyId": seen.params["AccessKeyId"],
            "AccessKeySecret": "newly_generated_secret_123",
            "AccessKeyType": "auto", "SecretName": "dd", "Status": 1,
            "CreatedTime": "2020-02-26T06:09:44Z", "ModifiedTime": "2020-02-26T06:45:57Z"
        }}))
    })
    .await;
    let rotated = gw.rotate("AKID1", None).await.unwrap();
    assert_eq!(rotated.new_secret.expose(), "newly_generated_secret_123");
    assert_eq!(rotated.receipt.request_id, "req-1");
    assert!(!format!("{rotated:?}").contains("newly_generated"));
    assert_eq!(fake.seen()[0].action, "UpdateApiKey");
    assert_eq!(fake.seen()[0].params, json!({ "AccessKeyId": "AKID1" }));
}

#[tokio::test]
async fn rotate_with_a_custom_secret_sends_it() {
    let (fake, gw) = provider(|seen| {
        Reply::Ok(json!({ "Result": { "AccessKeyId": "AKID1", "AccessKeySecret": seen.params["AccessKeySecret"] }}))
    })
    .await;
    let custom = Secret::new("My_Custom_Secret_42");
    let rotated = gw.rotate("AKID1", Some(&custom)).await.unwrap();
    assert_eq!(rotated.new_secret, custom);
    assert_eq!(
        fake.seen()[0].params,
        json!({ "AccessKeyId": "AKID1", "AccessKeySecret": "My_Custom_Secret_42" })
    );
}

#[tokio::test]
async fn an_invalid_custom_secret_is_rejected_before_any_request() {
    let (fake, gw) = provider(|_| Reply::Ok(json!({ "Result": {} }))).await;
    for bad in ["short", "has-dash-and-more", &"x".repeat(51), "spaces are bad here"] {
        let err = gw.rotate("AKID1", Some(&Secret::new(bad))).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid, "{bad}");
        assert!(err.message.contains("10-50"), "{}", err.message);
        assert!(!err.message.contains(bad), "the message must not echo the secret");
    }
    assert!(fake.seen().is_empty());
    assert!(validate_custom_secret("Good_Secret_1").is_ok());
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
