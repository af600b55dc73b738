//! The Tencent API 3.0 emulator over HTTP: signature checks, common errors, rate limits,
//! paging and every documented business rule keyward relies on.

use crate::support::emulator::{TcCall, client, code, now, start_demo};
use futures::future::join_all;
use serde_json::json;

#[tokio::test]
async fn describe_key_pairs_pages_through_the_whole_region() {
    let emu = start_demo().await;
    let http = client();
    let expected = emu.state().key_pair_ids("acme-prod", "ap-guangzhou");
    assert!(expected.len() > 20);
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let r = TcCall::cvm("DescribeKeyPairs", json!({"Offset": offset, "Limit": 20}))
            .send(&http, &emu)
            .await;
        assert_eq!(code(&r), "");
        assert_eq!(r["TotalCount"], expected.len());
        let page = r["KeyPairSet"].as_array().unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 20);
        seen.extend(page.iter().map(|k| k["KeyId"].as_str().unwrap().to_string()));
        offset += page.len();
    }
    assert_eq!(seen, expected);
    emu.shutdown().await;
}

#[tokio::test]
async fn describe_api_keys_pages_and_filters() {
    let emu = start_demo().await;
    let http = client();
    let keys = emu.state().api_keys("acme-prod", "ap-guangzhou");
    let r = TcCall::apigw("DescribeApiKeysStatus", json!({"Limit": 100}))
        .send(&http, &emu)
        .await;
    assert_eq!(r["Result"]["TotalCount"], keys.len());
    assert_eq!(r["Result"]["ApiKeySet"].as_array().unwrap().len(), keys.len().min(100));
    let first = &r["Result"]["ApiKeySet"][0];
    assert_eq!(first["AccessKeyId"], keys[0].id.as_str());
    assert_eq!(first["AccessKeySecret"], keys[0].secret.expose());
    let r = TcCall::apigw(
        "DescribeApiKeysStatus",
        json!({"Filters": [{"Name": "SecretName", "Values": ["ci-deploy-2024"]}]}),
    )
    .send(&http, &emu)
    .await;
    assert_eq!(r["Result"]["TotalCount"], 1);
    assert_eq!(r["Result"]["ApiKeySet"][0]["Status"], 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_wrong_secret_key_is_a_signature_failure() {
    let emu = start_demo().await;
    let mut call = TcCall::cvm("DescribeKeyPairs", json!({}));
    call.secret_key = "not-the-key".into();
    let r = call.send(&client(), &emu).await;
    assert_eq!(code(&r), "AuthFailure.SignatureFailure");
    emu.shutdown().await;
}

#[tokio::test]
async fn the_host_header_is_signed_exactly_as_received() {
    let emu = start_demo().await;
    let http = client();
    // tccli-style Host naming the service: accepted when signed with that host.
    let mut call = TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1}));
    call.host = Some("cvm.tencentcloudapi.com".into());
    assert_eq!(code(&call.send(&http, &emu).await), "");
    // Signed for one host, sent with another.
    let mut call = TcCall::cvm("DescribeKeyPairs", json!({}));
    call.sign_host = Some("cvm.tencentcloudapi.com".into());
    assert_eq!(code(&call.send(&http, &emu).await), "AuthFailure.SignatureFailure");
    emu.shutdown().await;
}

#[tokio::test]
async fn an_old_timestamp_is_expired() {
    let emu = start_demo().await;
    let mut call = TcCall::cvm("DescribeKeyPairs", json!({}));
    call.timestamp = now() - 600;
    let r = call.send(&client(), &emu).await;
    assert_eq!(code(&r), "AuthFailure.SignatureExpire");
    emu.shutdown().await;
}

#[tokio::test]
async fn an_unknown_secret_id_is_not_found() {
    let emu = start_demo().await;
    let mut call = TcCall::apigw("DescribeApiKeysStatus", json!({}));
    call.secret_id = "AKIDnobodyHasThisSecretId000000000000".into();
    let r = call.send(&client(), &emu).await;
    assert_eq!(code(&r), "AuthFailure.SecretIdNotFound");
    emu.shutdown().await;
}

#[tokio::test]
async fn common_parameter_errors() {
    let emu = start_demo().await;
    let http = client();
    let mut call = TcCall::cvm("DescribeKeyPairs", json!({}));
    call.omit_header = Some("X-TC-Action");
    assert_eq!(code(&call.send(&http, &emu).await), "MissingParameter");
    let mut call = TcCall::cvm("DescribeKeyPairs", json!({}));
    call.omit_header = Some("X-TC-Region");
    assert_eq!(code(&call.send(&http, &emu).await), "MissingParameter");
    let mut call = TcCall::cvm("DescribeKeyPairs", json!({}));
    call.version = "2018-08-08";
    assert_eq!(code(&call.send(&http, &emu).await), "NoSuchVersion");
    let call = TcCall::cvm("RunInstances", json!({}));
    assert_eq!(code(&call.send(&http, &emu).await), "InvalidAction");
    let call = TcCall::cvm("DescribeKeyPairs", json!({"Limit": "10"}));
    assert_eq!(code(&call.send(&http, &emu).await), "InvalidParameter");
    let call = TcCall::cvm("DescribeKeyPairs", json!({"Colour": "red"}));
    assert_eq!(code(&call.send(&http, &emu).await), "UnknownParameter");
    let call = TcCall::cvm("DescribeKeyPairs", json!({})).region("ap-hongkong");
    assert_eq!(code(&call.send(&http, &emu).await), "UnsupportedRegion");
    let call = TcCall::apigw("DescribeApiKeysStatus", json!({})).region("eu-frankfurt");
    assert_eq!(
        code(&call.send(&http, &emu).await),
        "InvalidParameterValue.InvalidRegion"
    );
    let call = TcCall::cvm("DescribeKeyPairs", json!({"Limit": 101}));
    assert_eq!(
        code(&call.send(&http, &emu).await),
        "InvalidParameterValue.LimitExceeded"
    );
    let mut call = TcCall::cvm("DescribeKeyPairs", json!({}));
    call.omit_header = Some("Authorization");
    assert_eq!(code(&call.send(&http, &emu).await), "MissingParameter");
    emu.shutdown().await;
}

/// An old-style form POST (signature v1: Action, Nonce, Signature as form fields) is told
/// what is served, as a GET is, instead of a misleading MissingParameter for X-TC-Action.
#[tokio::test]
async fn an_old_style_form_post_is_told_only_json_tc3_is_served() {
    let emu = start_demo().await;
    let http = client();
    let form = "Action=DescribeKeyPairs&Version=2017-03-12&Region=ap-guangzhou&Nonce=1&Timestamp=1\
                &SecretId=AKIDx&SignatureMethod=HmacSHA256&Signature=abc";
    let answer: serde_json::Value = http
        .post(format!("{}/", emu.base_url))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(code(&answer["Response"]), "UnsupportedProtocol", "{answer}");
    let message = answer["Response"]["Error"]["Message"].as_str().unwrap();
    assert!(
        message.contains("JSON") && message.contains("TC3-HMAC-SHA256"),
        "{message}"
    );
    let get: serde_json::Value = http
        .get(format!("{}/?{form}", emu.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(code(&get["Response"]), "UnsupportedProtocol", "{get}");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_burst_beyond_the_limit_is_refused_and_other_callers_are_not() {
    let emu = start_demo().await;
    let http = client();
    // 40 concurrent calls against a 10/s bucket that starts full.
    let calls: Vec<_> = (0..40)
        .map(|_| TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1})))
        .collect();
    let results = join_all(calls.iter().map(|c| c.send(&http, &emu))).await;
    let limited = results.iter().filter(|r| code(r) == "RequestLimitExceeded").count();
    let ok = results.iter().filter(|r| code(r).is_empty()).count();
    assert_eq!(ok + limited, 40);
    assert!(ok >= 10, "the full bucket admits 10: {ok}");
    assert!(limited >= 1, "a burst of 40 exceeds 10/s");
    assert_eq!(emu.state().rate_limited_count(), limited as u64);
    // Another action of the same caller has its own bucket.
    let r = TcCall::cvm("DeleteKeyPairs", json!({"KeyIds": ["skey-old0ci01"]}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "");
    // With limits off, the same burst passes.
    emu.state().set_enforce_rate_limits(false);
    let results = join_all(calls.iter().map(|c| c.send(&http, &emu))).await;
    assert!(results.iter().all(|r| code(r).is_empty()));
    emu.shutdown().await;
}

#[tokio::test]
async fn requests_at_the_documented_rate_pass() {
    let emu = start_demo().await;
    let http = client();
    // Exhaust the full bucket (10 tokens), then pace at 1 per 150 ms (< 10/s): a token
    // refills every 100 ms, so a slower machine only makes each call more certain to pass.
    for _ in 0..10 {
        let r = TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1}))
            .send(&http, &emu)
            .await;
        assert_eq!(code(&r), "");
    }
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let r = TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1}))
            .send(&http, &emu)
            .await;
        assert_eq!(code(&r), "");
    }
    assert_eq!(emu.state().rate_limited_count(), 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn api_key_business_errors() {
    let emu = start_demo().await;
    let http = client();
    let keys = emu.state().api_keys("acme-prod", "ap-guangzhou");
    let enabled = keys.iter().find(|k| k.enabled).unwrap();
    let bound = keys.iter().find(|k| !k.enabled && k.usage_plan.is_some()).unwrap();
    let del = |id: &str| TcCall::apigw("DeleteApiKey", json!({"AccessKeyId": id}));
    let r = del(&enabled.id).send(&http, &emu).await;
    assert_eq!(code(&r), "UnsupportedOperation.InvalidStatus");
    let r = del(&bound.id).send(&http, &emu).await;
    assert_eq!(code(&r), "UnsupportedOperation.ResourceIsInUse");
    let r = del("AKIDdoesNotExist").send(&http, &emu).await;
    assert_eq!(code(&r), "ResourceNotFound.InvalidAccessKeyId");
    let r = TcCall::apigw(
        "UpdateApiKey",
        json!({"AccessKeyId": enabled.id, "AccessKeySecret": "bad-secret!"}),
    )
    .send(&http, &emu)
    .await;
    assert_eq!(code(&r), "InvalidParameter.FormatError");
    let r = TcCall::apigw("DescribeApiKeysStatus", json!({"Limit": 101}))
        .send(&http, &emu)
        .await;
    assert!(code(&r).starts_with("InvalidParameterValue"), "{r}");
    // Nothing changed.
    assert_eq!(emu.state().api_keys("acme-prod", "ap-guangzhou"), keys);
    emu.shutdown().await;
}

#[tokio::test]
async fn usage_plans_and_their_keys_over_http() {
    let emu = start_demo().await;
    let http = client();
    let keys = emu.state().api_keys("acme-prod", "ap-guangzhou");
    let mut plan_ids: Vec<&str> = keys.iter().filter_map(|k| k.usage_plan.as_deref()).collect();
    plan_ids.sort();
    plan_ids.dedup();
    assert!(
        plan_ids.contains(&"usagePlan-b1ll1ng0"),
        "the showcase plan of the demo"
    );
    // Rate limited like every other action: a burst on a full bucket of 20.
    let burst: Vec<_> = (0..30)
        .map(|_| {
            TcCall::apigw(
                "DescribeUsagePlanSecretIds",
                json!({"UsagePlanId": "usagePlan-b1ll1ng0"}),
            )
        })
        .collect();
    let results = join_all(burst.iter().map(|c| c.send(&http, &emu))).await;
    let limited = results.iter().filter(|r| code(r) == "RequestLimitExceeded").count();
    assert!(limited >= 1, "30 at once exceed 20/s");
    assert!(results.len() - limited >= 20, "the full bucket admits 20");
    emu.state().set_enforce_rate_limits(false);

    let r = TcCall::apigw("DescribeUsagePlansStatus", json!({"Limit": 100}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "");
    assert_eq!(r["Result"]["TotalCount"], plan_ids.len());
    let set = r["Result"]["UsagePlanStatusSet"].as_array().unwrap();
    let listed: Vec<&str> = set.iter().map(|p| p["UsagePlanId"].as_str().unwrap()).collect();
    assert_eq!(listed, plan_ids);
    for plan in set {
        assert!(!plan["UsagePlanName"].as_str().unwrap().is_empty(), "{plan}");
        assert!(plan["CreatedTime"].as_str().unwrap().ends_with('Z'), "{plan}");
    }

    let r = TcCall::apigw(
        "DescribeUsagePlanSecretIds",
        json!({"UsagePlanId": "usagePlan-b1ll1ng0"}),
    )
    .send(&http, &emu)
    .await;
    assert_eq!(code(&r), "");
    assert_eq!(r["Result"]["TotalCount"], 1);
    assert_eq!(
        r["Result"]["AccessKeyList"][0],
        json!({"AccessKeyId": "AKIDpartnerAcmeBound7Gh2Jk4Lm6Np8Qr0St2", "SecretName": "partner-acme-billing", "Status": 0})
    );
    // Plans are per region: the same id is unknown in another one.
    let r = TcCall::apigw(
        "DescribeUsagePlanSecretIds",
        json!({"UsagePlanId": "usagePlan-b1ll1ng0"}),
    )
    .region("ap-singapore")
    .send(&http, &emu)
    .await;
    assert_eq!(code(&r), "ResourceNotFound.InvalidUsagePlan");
    let r = TcCall::apigw(
        "DescribeUsagePlanSecretIds",
        json!({"UsagePlanId": "usagePlan-b1ll1ng0", "Limit": 101}),
    )
    .send(&http, &emu)
    .await;
    assert!(code(&r).starts_with("InvalidParameterValue"), "{r}");
    let r = TcCall::apigw("DescribeUsagePlansStatus", json!({"Limit": 101}))
        .send(&http, &emu)
        .await;
    assert!(code(&r).starts_with("InvalidParameterValue"), "{r}");
    let r = TcCall::apigw("DescribeUsagePlanSecretIds", json!({}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "MissingParameter");
    // Signed like every other action.
    let mut forged = TcCall::apigw("DescribeUsagePlansStatus", json!({}));
    forged.secret_key = "not-the-key".into();
    assert_eq!(code(&forged.send(&http, &emu).await), "AuthFailure.SignatureFailure");
    emu.shutdown().await;
}

#[tokio::test]
async fn api_key_lifecycle_disable_rotate_delete() {
    let emu = start_demo().await;
    let http = client();
    let r = TcCall::apigw("CreateApiKey", json!({"SecretName": "keyward-test-key"}))
        .send(&http, &emu)
        .await;
    let id = r["Result"]["AccessKeyId"].as_str().unwrap().to_string();
    let first_secret = r["Result"]["AccessKeySecret"].as_str().unwrap().to_string();
    let r = TcCall::apigw("UpdateApiKey", json!({"AccessKeyId": id}))
        .send(&http, &emu)
        .await;
    let rotated = r["Result"]["AccessKeySecret"].as_str().unwrap();
    assert_ne!(rotated, first_secret);
    let stored = emu.state().api_key("acme-prod", "ap-guangzhou", &id).unwrap();
    assert_eq!(stored.secret.expose(), rotated);
    let r = TcCall::apigw("DisableApiKey", json!({"AccessKeyId": id}))
        .send(&http, &emu)
        .await;
    assert_eq!(r["Result"], true);
    let r = TcCall::apigw("DescribeApiKey", json!({"AccessKeyId": id}))
        .send(&http, &emu)
        .await;
    assert_eq!(r["Result"]["Status"], 0);
    let r = TcCall::apigw("DeleteApiKey", json!({"AccessKeyId": id}))
        .send(&http, &emu)
        .await;
    assert_eq!(r["Result"], true);
    assert!(emu.state().api_key("acme-prod", "ap-guangzhou", &id).is_none());
    emu.shutdown().await;
}

#[tokio::test]
async fn delete_key_pairs_keeps_bound_pairs_and_validates_ids() {
    let emu = start_demo().await;
    let http = client();
    let state = emu.state();
    let pairs = state.key_pairs("acme-prod", "ap-guangzhou");
    let on_instance = pairs.iter().find(|k| !k.instance_ids.is_empty()).unwrap();
    let free: Vec<&str> = pairs
        .iter()
        .filter(|k| !k.is_bound())
        .take(2)
        .map(|k| k.id.as_str())
        .collect();
    let ids = vec![on_instance.id.as_str(), free[0], free[1]];
    let r = TcCall::cvm("DeleteKeyPairs", json!({"KeyIds": ids}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "", "the documented success response even when some are kept");
    let left = state.key_pair_ids("acme-prod", "ap-guangzhou");
    assert!(left.contains(&on_instance.id));
    assert!(!left.contains(&free[0].to_string()));
    assert!(!left.contains(&free[1].to_string()));
    // An image-bound pair is kept too, though DescribeKeyPairs cannot show why.
    let on_image = state
        .key_pairs("acme-prod", "ap-shanghai")
        .into_iter()
        .find(|k| !k.image_ids.is_empty())
        .unwrap();
    let r = TcCall::cvm("DeleteKeyPairs", json!({"KeyIds": [on_image.id]}))
        .region("ap-shanghai")
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "");
    let r = TcCall::cvm("DescribeKeyPairs", json!({"KeyIds": [on_image.id]}))
        .region("ap-shanghai")
        .send(&http, &emu)
        .await;
    assert_eq!(r["TotalCount"], 1);

    let r = TcCall::cvm("DeleteKeyPairs", json!({"KeyIds": ["skey-1122"]}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "InvalidKeyPairId.Malformed");
    let r = TcCall::cvm("DeleteKeyPairs", json!({"KeyIds": ["skey-zzzzzzzz"]}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "InvalidKeyPairId.NotFound");
    let many: Vec<String> = (0..101).map(|i| format!("skey-{i:08}")).collect();
    let r = TcCall::cvm("DeleteKeyPairs", json!({"KeyIds": many}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "InvalidParameterValue.LimitExceeded");
    let r = TcCall::cvm("DeleteKeyPairs", json!({})).send(&http, &emu).await;
    assert_eq!(code(&r), "MissingParameter");
    emu.shutdown().await;
}

#[tokio::test]
async fn rename_a_key_pair() {
    let emu = start_demo().await;
    let http = client();
    let r = TcCall::cvm(
        "ModifyKeyPairAttribute",
        json!({"KeyId": "skey-old0ci01", "KeyName": "jenkins_agent_retired", "Description": "to delete"}),
    )
    .send(&http, &emu)
    .await;
    assert_eq!(code(&r), "");
    let pair = emu
        .state()
        .key_pair("acme-prod", "ap-guangzhou", "skey-old0ci01")
        .unwrap();
    assert_eq!(pair.name, "jenkins_agent_retired");
    let r = TcCall::cvm(
        "ModifyKeyPairAttribute",
        json!({"KeyId": "skey-old0ci01", "KeyName": "bastion_prod_01"}),
    )
    .send(&http, &emu)
    .await;
    assert_eq!(code(&r), "InvalidKeyPairName.Duplicate");
    emu.shutdown().await;
}
