//! The emulator counts and serves like the service: rate buckets per access region of the
//! Host, the optional account and IP caps, the Host as access point only (financial
//! regions isolated), X-TC-Language, TLS for the real host names, and account-global key
//! pairs.

use crate::support::emulator::{TcCall, client, code};
use futures::future::join_all;
use keyward::emulator::{self, Emulator, EmulatorOptions, Faults, Seed};
use serde_json::{Value, json};

async fn start(opts: EmulatorOptions) -> Emulator {
    emulator::start(opts).await.expect("emulator starts")
}

fn demo() -> EmulatorOptions {
    EmulatorOptions::new(Seed::demo().unwrap())
}

fn refusals(results: &[Value], prefix: &str) -> Vec<String> {
    results
        .iter()
        .filter(|r| code(r).starts_with(prefix))
        .map(|r| r["Error"]["Message"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn each_region_host_has_its_own_bucket() {
    let emu = start(demo()).await;
    let http = client();
    let guangzhou = "cvm.ap-guangzhou.tencentcloudapi.com";
    // 40 at once against a 10/s bucket that starts full: some are refused, and the
    // refusal names the access point that was counted.
    let burst: Vec<_> = (0..40)
        .map(|_| TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1})).via(guangzhou))
        .collect();
    let results = join_all(burst.iter().map(|c| c.send(&http, &emu))).await;
    let refused = refusals(&results, "RequestLimitExceeded");
    assert!(!refused.is_empty(), "a burst of 40 exceeds 10/s");
    assert!(
        refused.iter().all(|m| m.contains("ap-guangzhou region host")),
        "{refused:?}"
    );
    // Another region host's bucket, and the nearest one, are untouched and full.
    for host in ["cvm.ap-shanghai.tencentcloudapi.com", "cvm.tencentcloudapi.com"] {
        let r = TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1}))
            .via(host)
            .send(&http, &emu)
            .await;
        assert_eq!(code(&r), "", "{host}: {r}");
    }
    assert_eq!(emu.state().rate_limited_count(), refused.len() as u64);
    emu.shutdown().await;
}

#[tokio::test]
async fn nearest_access_hosts_share_one_bucket() {
    let emu = start(demo()).await;
    let http = client();
    // Nine through the China-site nearest host, then 30 through a host naming no region
    // (127.0.0.1:PORT): were the buckets separate, the second host would admit its full 10;
    // sharing one, it gets the last token and whatever refills meanwhile (one per 100 ms).
    let first: Vec<_> = (0..9)
        .map(|_| TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1})).via("cvm.tencentcloudapi.com"))
        .collect();
    let results = join_all(first.iter().map(|c| c.send(&http, &emu))).await;
    assert!(results.iter().all(|r| code(r).is_empty()), "{results:?}");
    let second: Vec<_> = (0..30)
        .map(|_| TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1})))
        .collect();
    let results = join_all(second.iter().map(|c| c.send(&http, &emu))).await;
    let admitted = results.iter().filter(|r| code(r).is_empty()).count();
    assert!(
        admitted < 10,
        "the loopback host shares the nearest bucket: {admitted} admitted"
    );
    let refused = refusals(&results, "RequestLimitExceeded");
    assert!(refused.iter().all(|m| m.contains("nearest-access host")), "{refused:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn the_account_cap_answers_uin_limit_exceeded_and_is_counted_apart() {
    let mut opts = demo();
    opts.uin_limit = Some(3);
    let emu = start(opts).await;
    let http = client();
    // Ten per action over two services: within each per-API bucket (10/s and 20/s), so
    // every refusal is the account cap's.
    let calls: Vec<_> = (0..10)
        .flat_map(|_| {
            [
                TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1})),
                TcCall::apigw("DescribeApiKeysStatus", json!({"Limit": 1}))
                    .via("apigateway.ap-shanghai.tencentcloudapi.com"),
            ]
        })
        .collect();
    let results = join_all(calls.iter().map(|c| c.send(&http, &emu))).await;
    let uin = results
        .iter()
        .filter(|r| code(r) == "RequestLimitExceeded.UinLimitExceeded")
        .count();
    let ok = results.iter().filter(|r| code(r).is_empty()).count();
    assert_eq!(ok + uin, 20, "{results:?}");
    assert!(ok >= 3 && uin >= 1, "ok {ok}, account-capped {uin}");
    let state = emu.state();
    assert_eq!(state.uin_limited_count(), uin as u64);
    assert_eq!(state.rate_limited_count(), uin as u64);
    // Another account is not capped by this one's traffic.
    let staging = Seed::demo().unwrap().tencent_accounts()[1].clone();
    let r = TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1}))
        .signed_by(&staging)
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "", "{r}");
    emu.shutdown().await;
}

#[tokio::test]
async fn the_ip_cap_counts_every_account() {
    let mut opts = demo();
    opts.ip_limit = Some(2);
    let emu = start(opts).await;
    let http = client();
    let staging = Seed::demo().unwrap().tencent_accounts()[1].clone();
    let calls: Vec<_> = (0..6)
        .flat_map(|_| {
            [
                TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1})),
                TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1})).signed_by(&staging),
            ]
        })
        .collect();
    let results = join_all(calls.iter().map(|c| c.send(&http, &emu))).await;
    let ip = refusals(&results, "RequestLimitExceeded.IPLimitExceeded").len();
    assert!(ip >= 1, "{results:?}");
    assert_eq!(emu.state().rate_limited_count(), ip as u64);
    assert_eq!(emu.state().uin_limited_count(), 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_cap_of_zero_is_refused_at_start() {
    let mut opts = demo();
    opts.uin_limit = Some(0);
    let err = emulator::start(opts).await.err().expect("refused");
    assert!(err.to_string().contains("uin_limit 0"), "{err}");
}

#[tokio::test]
async fn a_region_host_serves_the_region_the_request_names() {
    let emu = start(demo()).await;
    let http = client();
    let r = TcCall::cvm("DescribeKeyPairs", json!({"Limit": 100}))
        .via("cvm.ap-guangzhou.tencentcloudapi.com")
        .region("ap-shanghai")
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "", "{r}");
    let ids: Vec<&str> = r["KeyPairSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["KeyId"].as_str().unwrap())
        .collect();
    let shanghai = emu.state().key_pair_ids("acme-prod", "ap-shanghai");
    assert_eq!(ids, shanghai);
    assert_ne!(shanghai, emu.state().key_pair_ids("acme-prod", "ap-guangzhou"));
    emu.shutdown().await;
}

#[tokio::test]
async fn financial_regions_are_isolated_from_other_hosts() {
    let seed = Seed::generated(1, &["ap-shanghai", "ap-shanghai-fsi"], 2, 0, 0);
    let account = seed.tencent_accounts()[0].clone();
    let emu = start(EmulatorOptions::new(seed)).await;
    let http = client();
    let call = |host: &str, region: &str| {
        TcCall::cvm("DescribeKeyPairs", json!({}))
            .signed_by(&account)
            .via(host)
            .region(region)
    };
    let fsi_host = "cvm.ap-shanghai-fsi.tencentcloudapi.com";
    let r = call(fsi_host, "ap-shanghai-fsi").send(&http, &emu).await;
    assert_eq!(code(&r), "", "{r}");
    assert_eq!(r["TotalCount"], 2);
    // An fsi region through the nearest host or another region's host, and an ordinary
    // region through the fsi host: each refused, saying which host serves it.
    for (host, region, right_host) in [
        ("cvm.tencentcloudapi.com", "ap-shanghai-fsi", fsi_host),
        ("cvm.ap-shanghai.tencentcloudapi.com", "ap-shanghai-fsi", fsi_host),
        (fsi_host, "ap-shanghai", "cvm.ap-shanghai.tencentcloudapi.com"),
    ] {
        let r = call(host, region).send(&http, &emu).await;
        assert_eq!(code(&r), "UnsupportedRegion", "{host} {region}: {r}");
        let message = r["Error"]["Message"].as_str().unwrap();
        assert!(message.contains(right_host), "{message}");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn x_tc_language_chooses_the_message_language() {
    let emu = start(demo()).await;
    let http = client();
    let mut missing_region = TcCall::cvm("DescribeKeyPairs", json!({}));
    missing_region.region = None;
    let english = missing_region.send(&http, &emu).await;
    assert_eq!(code(&english), "MissingParameter");
    assert!(english["Error"]["Message"].as_str().unwrap().contains("X-TC-Region"));
    let mut chinese = missing_region.clone();
    chinese.language = Some("zh-CN".into());
    let r = chinese.send(&http, &emu).await;
    assert_eq!(code(&r), "MissingParameter");
    let message = r["Error"]["Message"].as_str().unwrap();
    assert!(
        message.starts_with("缺少参数错误") && message.contains("X-TC-Region"),
        "{message}"
    );
    let mut us = missing_region.clone();
    us.language = Some("en-US".into());
    assert_eq!(us.send(&http, &emu).await["Error"], english["Error"]);

    // Rate limiting in Chinese.
    emu.state().set_faults(Faults {
        force_rate_limit: 1.0,
        ..Faults::none()
    });
    let mut limited = TcCall::cvm("DescribeKeyPairs", json!({}));
    limited.language = Some("zh-CN".into());
    let r = limited.send(&http, &emu).await;
    assert_eq!(code(&r), "RequestLimitExceeded");
    assert!(
        r["Error"]["Message"]
            .as_str()
            .unwrap()
            .starts_with("请求的次数超过了频率限制"),
        "{r}"
    );
    emu.state().set_faults(Faults::none());

    // A value the service does not know: the error names the allowed ones.
    let mut french = TcCall::cvm("DescribeKeyPairs", json!({}));
    french.language = Some("fr-FR".into());
    let r = french.send(&http, &emu).await;
    assert_eq!(code(&r), "InvalidParameterValue");
    let message = r["Error"]["Message"].as_str().unwrap();
    assert!(message.contains("zh-CN") && message.contains("en-US"), "{message}");
    emu.shutdown().await;
}

#[tokio::test]
async fn tls_covers_the_real_region_host_names() {
    let mut opts = demo();
    opts.tls = true;
    let emu = start(opts).await;
    let pem = emu.ca_cert_pem.clone().expect("the CA is kept in memory");
    let port = emu.addr.port();
    keyward::providers::http::install_crypto_provider();
    let mut builder = reqwest::Client::builder().tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()]);
    let hosts = [
        "cvm.ap-guangzhou.tencentcloudapi.com",
        "apigateway.ap-singapore.tencentcloudapi.com",
        "cvm.intl.tencentcloudapi.com",
        "api-cloud.oceanbase.com",
    ];
    for host in hosts {
        builder = builder.resolve(host, emu.addr);
    }
    let http = builder.build().unwrap();
    let r = TcCall::cvm("DescribeKeyPairs", json!({"Limit": 1}))
        .send_to(&http, &format!("https://cvm.ap-guangzhou.tencentcloudapi.com:{port}"))
        .await;
    assert_eq!(code(&r), "", "{r}");
    assert_eq!(r["KeyPairSet"].as_array().unwrap().len(), 1);
    let r = TcCall::apigw("DescribeApiKeysStatus", json!({"Limit": 1}))
        .region("ap-singapore")
        .send_to(
            &http,
            &format!("https://apigateway.ap-singapore.tencentcloudapi.com:{port}"),
        )
        .await;
    assert!(r.get("RequestId").is_some(), "an envelope: {r}");
    // The OceanBase host verifies too (the answer itself asks for Digest auth).
    let res = http
        .get(format!("https://api-cloud.oceanbase.com:{port}/api/v2/maas/apikeys"))
        .send()
        .await
        .expect("TLS handshake with the MaaS host name");
    assert_eq!(res.status(), 401);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_cert_path_without_tls_is_refused() {
    let mut opts = demo();
    opts.tls_cert_out = Some(std::env::temp_dir().join("never-written.pem"));
    let err = emulator::start(opts).await.err().expect("refused");
    assert!(err.to_string().contains("tls = true"), "{err}");
}

const TWO_REGIONS: [&str; 2] = ["ap-guangzhou", "ap-shanghai"];

fn ids(r: &Value) -> Vec<String> {
    let mut ids: Vec<String> = r["KeyPairSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["KeyId"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn global_key_pairs_are_one_set_for_every_region() {
    let seed = Seed::generated(1, &TWO_REGIONS, 3, 0, 0).with_key_pairs_global();
    let account = seed.tencent_accounts()[0].clone();
    assert!(account.key_pairs_global);
    let emu = start(EmulatorOptions::new(seed)).await;
    emu.state().set_enforce_rate_limits(false);
    let http = client();
    let call = |action: &str, region: &str, body: Value| TcCall::cvm(action, body).signed_by(&account).region(region);
    let gz = call("DescribeKeyPairs", "ap-guangzhou", json!({"Limit": 100}))
        .send(&http, &emu)
        .await;
    let sh = call("DescribeKeyPairs", "ap-shanghai", json!({"Limit": 100}))
        .send(&http, &emu)
        .await;
    assert_eq!(gz["TotalCount"], 6);
    assert_eq!(ids(&gz), ids(&sh));
    // Each pair keeps the region it was made in, for information.
    let pairs = emu.state().key_pairs(&account.name, "ap-shanghai");
    assert_eq!(pairs.iter().filter(|k| k.region == "ap-guangzhou").count(), 3);

    // Rename from one region and delete from the other act on the one pair.
    let made_in_gz = pairs
        .iter()
        .find(|k| k.region == "ap-guangzhou" && !k.is_bound())
        .expect("an unbound pair");
    let r = call(
        "ModifyKeyPairAttribute",
        "ap-shanghai",
        json!({"KeyId": made_in_gz.id, "KeyName": "renamed_elsewhere"}),
    )
    .send(&http, &emu)
    .await;
    assert_eq!(code(&r), "", "{r}");
    let seen = emu
        .state()
        .key_pair(&account.name, "ap-guangzhou", &made_in_gz.id)
        .unwrap();
    assert_eq!(seen.name, "renamed_elsewhere");
    let r = call("DeleteKeyPairs", "ap-shanghai", json!({"KeyIds": [made_in_gz.id]}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "", "{r}");
    assert!(
        emu.state()
            .key_pair(&account.name, "ap-guangzhou", &made_in_gz.id)
            .is_none()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_key_pair_quota_counts_per_account_when_global_and_per_region_otherwise() {
    let create = |account: &keyward::emulator::SeedTencentAccount, region: &str| {
        TcCall::cvm("CreateKeyPair", json!({"KeyName": "one_more", "ProjectId": 0}))
            .signed_by(account)
            .region(region)
    };
    let http = client();
    // 50 pairs in each of two regions: 100 for the account.
    let global = Seed::generated(1, &TWO_REGIONS, 50, 0, 0).with_key_pairs_global();
    let account = global.tencent_accounts()[0].clone();
    let emu = start(EmulatorOptions::new(global)).await;
    for region in TWO_REGIONS {
        let r = create(&account, region).send(&http, &emu).await;
        assert_eq!(code(&r), "InvalidKeyPair.LimitExceeded", "{region}: {r}");
    }
    emu.shutdown().await;

    let regional = Seed::generated(1, &TWO_REGIONS, 50, 0, 0);
    let account = regional.tencent_accounts()[0].clone();
    assert!(!account.key_pairs_global);
    let emu = start(EmulatorOptions::new(regional)).await;
    let r = create(&account, "ap-guangzhou").send(&http, &emu).await;
    assert_eq!(code(&r), "", "{r}");
    let id = r["KeyPair"]["KeyId"].as_str().unwrap();
    // Per region: the new pair is Guangzhou's only, and Shanghai neither sees nor deletes it.
    assert_eq!(emu.state().key_pairs(&account.name, "ap-guangzhou").len(), 51);
    assert_eq!(emu.state().key_pairs(&account.name, "ap-shanghai").len(), 50);
    let r = TcCall::cvm("DeleteKeyPairs", json!({"KeyIds": [id]}))
        .signed_by(&account)
        .region("ap-shanghai")
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "InvalidKeyPairId.NotFound", "{r}");
    emu.shutdown().await;
}

#[test]
fn a_global_seed_refuses_a_key_pair_name_twice() {
    let text = r#"
[[tencent]]
name = "global"
secret_id = "AKIDGLOBAL0000000000000000000000000"
secret_key = "k"
regions = ["ap-guangzhou", "ap-shanghai"]
key_pairs_global = true
[[tencent.key_pairs]]
region = "ap-guangzhou"
id = "skey-aaaaaaaa"
name = "same"
created = "2024-01-01T00:00:00Z"
[[tencent.key_pairs]]
region = "ap-shanghai"
id = "skey-bbbbbbbb"
name = "same"
created = "2024-01-01T00:00:00Z"
"#;
    let err = Seed::parse(text, "test").expect_err("refused");
    assert!(
        err.to_string().contains("\"same\"") && err.to_string().contains("global"),
        "{err}"
    );
    // The same pairs are fine per region.
    assert!(Seed::parse(&text.replace("key_pairs_global = true\n", ""), "test").is_ok());
}
