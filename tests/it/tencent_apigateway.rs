//! The API Gateway provider against an in-process fake of apigateway 2018-08-08: paging
//! requests, error codes and answers the emulator cannot produce. Outcomes and state changes
//! of each call against the emulator are in tests/it/providers_emulator.rs.

use crate::support::items::ts;
use crate::support::tencent::{Fake, Reply, Seen};
use keyward::emulator::{self, EmulatorOptions, Seed};
use keyward::inventory::{Binding, ProviderKind, Status};
use keyward::providers::tencent::apigateway::ApiGateway;
use keyward::providers::tencent::client::{APIGATEWAY, ClientOptions, Credentials, TencentClient};
use keyward::providers::{ErrorKind, Provider};
use keyward::secret::Secret;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

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

fn offset_limit(seen: &Seen) -> (usize, usize) {
    (
        seen.params["Offset"].as_u64().unwrap_or(0) as usize,
        seen.params["Limit"].as_u64().unwrap_or(20) as usize,
    )
}

/// DescribeApiKeysStatus over `n` keys, honouring Offset/Limit, in a region without usage plans.
fn paged_keys(n: usize) -> impl Fn(&Seen) -> Reply + Send + Sync {
    move |seen| {
        if seen.action == "DescribeUsagePlansStatus" {
            return Reply::Ok(json!({ "Result": { "TotalCount": 0, "UsagePlanStatusSet": [] } }));
        }
        let (offset, limit) = offset_limit(seen);
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
        .filter(|s| s.action == "DescribeApiKeysStatus")
        .map(|s| {
            (
                s.params["Offset"].as_u64().unwrap(),
                s.params["Limit"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(offsets, [(0, 100), (100, 100), (200, 100)]);
    assert_eq!(
        fake.actions(),
        [
            "DescribeApiKeysStatus",
            "DescribeApiKeysStatus",
            "DescribeApiKeysStatus",
            "DescribeUsagePlansStatus"
        ],
        "keys first, then the region's usage plans (none here)"
    );

    let first = &items[0];
    assert_eq!(first.key.scope.kind, ProviderKind::ApiGateway);
    assert_eq!(
        (first.key.scope.account.as_str(), first.key.scope.region.as_str()),
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
    assert_eq!(first.created, Some(ts("2020-02-26T06:09:44Z")));
    assert_eq!(first.modified, Some(ts("2020-02-26T06:45:57Z")));
    assert!(first.bindings.is_empty());
    assert_eq!(items[249].key.id, "AKID0249");

    let dump = serde_json::to_string(&items).unwrap() + &format!("{items:?}");
    assert!(!dump.contains("topsecret"), "an AccessKeySecret leaked into the items");
}

#[tokio::test]
async fn an_empty_account_lists_in_one_call() {
    let (fake, gw) = provider(paged_keys(0)).await;
    assert!(gw.list().await.unwrap().is_empty());
    assert_eq!(
        fake.actions(),
        ["DescribeApiKeysStatus"],
        "no keys: no usage-plan lookup"
    );
}

/// Four keys; plan `usagePlan-named` ("gold") binds AKID0001 and AKID0002, plan
/// `usagePlan-noname` (null name) binds AKID0002; `usage_plans` answers DescribeUsagePlansStatus.
fn bound_keys(usage_plans: impl Fn(&Seen) -> Reply + Send + Sync) -> impl Fn(&Seen) -> Reply + Send + Sync {
    move |seen| match seen.action.as_str() {
        "DescribeApiKeysStatus" => paged_keys(4)(seen),
        "DescribeUsagePlansStatus" => usage_plans(seen),
        "DescribeUsagePlanSecretIds" => {
            let ids: &[&str] = match seen.params["UsagePlanId"].as_str() {
                Some("usagePlan-named") => &["AKID0001", "AKID0002"],
                Some("usagePlan-noname") => &["AKID0002"],
                _ => return Reply::Error("ResourceNotFound.InvalidUsagePlan", "no such plan"),
            };
            let list: Vec<Value> = ids
                .iter()
                .map(|id| json!({ "AccessKeyId": id, "SecretName": "x", "Status": 1 }))
                .collect();
            Reply::Ok(json!({ "Result": { "TotalCount": ids.len(), "AccessKeyList": list } }))
        }
        other => panic!("unexpected action {other}"),
    }
}

fn two_plans(_: &Seen) -> Reply {
    Reply::Ok(json!({ "Result": { "TotalCount": 2, "UsagePlanStatusSet": [
        { "UsagePlanId": "usagePlan-noname", "UsagePlanName": null, "MaxRequestNum": -1 },
        { "UsagePlanId": "usagePlan-named", "UsagePlanName": "gold", "CreatedTime": "2020-03-21T13:17:42Z" },
    ]}}))
}

#[tokio::test]
async fn keys_carry_the_usage_plans_they_are_bound_to() {
    let (fake, gw) = provider(bound_keys(two_plans)).await;
    let items = gw.list().await.unwrap();
    let bindings: Vec<(&str, Vec<Binding>)> = items.iter().map(|i| (i.key.id.as_str(), i.bindings.clone())).collect();
    assert_eq!(
        bindings,
        [
            ("AKID0000", vec![]),
            (
                "AKID0001",
                vec![Binding::UsagePlan {
                    id: "usagePlan-named".into(),
                    name: Some("gold".into())
                }]
            ),
            (
                "AKID0002",
                vec![
                    Binding::UsagePlan {
                        id: "usagePlan-named".into(),
                        name: Some("gold".into())
                    },
                    Binding::usage_plan("usagePlan-noname")
                ]
            ),
            ("AKID0003", vec![]),
        ]
    );
    assert_eq!(
        items[2].bindings_text(),
        "usage plan usagePlan-named (gold), usage plan usagePlan-noname"
    );
    let lookups: Vec<Value> = fake
        .seen()
        .into_iter()
        .filter(|s| s.action == "DescribeUsagePlanSecretIds")
        .map(|s| s.params)
        .collect();
    assert_eq!(lookups.len(), 2);
    for plan in ["usagePlan-named", "usagePlan-noname"] {
        assert!(
            lookups.contains(&json!({ "UsagePlanId": plan, "Offset": 0, "Limit": 100 })),
            "{lookups:?}"
        );
    }
}

#[tokio::test]
async fn a_failed_usage_plan_lookup_fails_the_listing_instead_of_showing_keys_unbound() {
    let (_fake, gw) = provider(bound_keys(|_| {
        Reply::Error(
            "UnauthorizedOperation",
            "CAM denies apigateway:DescribeUsagePlansStatus",
        )
    }))
    .await;
    let err = gw.list().await.unwrap_err();
    assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Api, "UnauthorizedOperation"));
    assert!(err.request_id.is_some());
    assert!(
        err.message.contains("cannot tell which API keys are bound"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("DescribeUsagePlansStatus: CAM denies"),
        "{}",
        err.message
    );

    // A plan the list names but whose keys cannot be read (deleted in between).
    let (_fake, gw) = provider(bound_keys(|_| {
        Reply::Ok(json!({ "Result": { "TotalCount": 1, "UsagePlanStatusSet": [
            { "UsagePlanId": "usagePlan-gone", "UsagePlanName": "gone" }
        ]}}))
    }))
    .await;
    let err = gw.list().await.unwrap_err();
    assert_eq!(err.code, "ResourceNotFound.InvalidUsagePlan");
    assert!(
        err.message.contains("DescribeUsagePlanSecretIds: no such plan"),
        "{}",
        err.message
    );

    // A plan without an id cannot be looked up: a Protocol error, not an unbound key.
    let (_fake, gw) = provider(bound_keys(|_| {
        Reply::Ok(json!({ "Result": { "TotalCount": 1, "UsagePlanStatusSet": [{ "UsagePlanName": "anon" }] }}))
    }))
    .await;
    let err = gw.list().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Protocol);
    assert!(err.message.contains("DescribeUsagePlansStatus"), "{}", err.message);
}

/// The provider against the emulator: a generated region (some keys on plans of their own)
/// plus one plan holding 150 keys, which takes two DescribeUsagePlanSecretIds pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_the_emulator_bound_keys_carry_their_plan_and_big_plans_page() {
    let region = "ap-guangzhou";
    let seed = Seed::generated(1, &[region], 0, 220, 0);
    let account = seed.tencent_accounts()[0].clone();
    let emu = emulator::start(EmulatorOptions::new(seed)).await.unwrap();
    let state = emu.state();
    let ids = state.api_key_ids(&account.name, region);
    let big_plan = "usagePlan-big00001";
    for id in ids.iter().skip(30).take(150) {
        assert!(state.update_api_key(&account.name, region, id, |k| k.usage_plan = Some(big_plan.into())));
    }
    let expected: BTreeMap<String, Option<String>> = state
        .api_keys(&account.name, region)
        .into_iter()
        .map(|k| (k.id, k.usage_plan))
        .collect();
    assert!(
        expected.values().filter(|p| p.is_some()).count() > 150,
        "the seed binds some keys itself"
    );

    keyward::providers::http::install_crypto_provider();
    let creds = Credentials {
        secret_id: account.secret_id.clone(),
        secret_key: Secret::new(account.secret_key.clone()),
        token: None,
    };
    let opts = ClientOptions {
        endpoint: Some(emu.base_url.clone()),
        ..ClientOptions::default()
    };
    let client = Arc::new(TencentClient::new(APIGATEWAY, creds, opts).unwrap());
    let gw = ApiGateway::new(client, &account.name, region);
    let requests_before = state.request_count();
    let items = gw.list().await.unwrap();

    assert_eq!(items.len(), expected.len());
    for item in &items {
        match &expected[item.key.id.as_str()] {
            None => assert!(
                item.bindings.is_empty(),
                "{} is not bound: {:?}",
                item.key.id,
                item.bindings
            ),
            Some(plan) => {
                assert_eq!(item.bindings.len(), 1, "{}", item.key.id);
                let Binding::UsagePlan { id, name } = &item.bindings[0] else {
                    panic!("{:?}", item.bindings)
                };
                assert_eq!(id, plan);
                assert!(name.is_some(), "{:?}", item.bindings);
            }
        }
    }
    let plans = expected
        .values()
        .flatten()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    // 3 key pages + 1 plan page + one lookup per plan + the big plan's second page.
    assert_eq!(state.request_count() - requests_before, 3 + 1 + plans as u64 + 1);
    assert_eq!(state.rate_limited_count(), 0, "the client stays within 20/s per action");
    emu.shutdown().await;
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
    assert!(caps.enable_disable && caps.rotate && caps.delete_requires_disabled && !caps.rename);
    assert_eq!(caps.delete_batch, 1);
}
