//! The emulator's CAM access keys over HTTP: who the caller is, each action's success and
//! documented errors, the seed's delete switch, global requests (no region), the same
//! signature checks and rate limits as the other services, and TLS for the cam hosts.

use crate::support::emulator::{TcCall, client, code, now, start_demo};
use futures::future::join_all;
use keyward::emulator::{self, EmulatorOptions, Seed, SeedCamKey};
use serde_json::{Value, json};

const PROD: &str = "acme-prod";
/// acme-prod's sub-user with two Active keys, and one of them (demo seed).
const CI_DEPLOY: u64 = 100_011_110_101;
const BACKUP_BOT: u64 = 100_011_110_104;

fn ids(r: &Value) -> Vec<String> {
    r["AccessKeys"]
        .as_array()
        .unwrap_or_else(|| panic!("AccessKeys in {r}"))
        .iter()
        .map(|k| k["AccessKeyId"].as_str().unwrap().to_string())
        .collect()
}

/// A seed key of acme-prod by owner, with its secret (the demo seed writes them out).
fn seed_key(owner: u64) -> SeedCamKey {
    let seed = Seed::demo().unwrap();
    let cam = seed.tencent_accounts()[0].cam.clone().unwrap();
    cam.keys.into_iter().find(|k| k.user == owner).unwrap()
}

#[tokio::test]
async fn without_target_uin_each_caller_lists_its_own_keys() {
    let emu = start_demo().await;
    let http = client();
    let state = emu.state();
    let root = state.cam_root_uin(PROD).unwrap();
    let own: Vec<String> = state
        .cam_keys(PROD)
        .into_iter()
        .filter(|k| k.owner_uin == root)
        .map(|k| k.id)
        .collect();
    assert_eq!(own.len(), 2);
    let r = TcCall::cam("ListAccessKeys", json!({})).send(&http, &emu).await;
    assert_eq!(code(&r), "", "{r}");
    assert_eq!(ids(&r), own);
    let first = &r["AccessKeys"][0];
    assert_eq!(first["Status"], "Active");
    let created = first["CreateTime"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(created, "%Y-%m-%d %H:%M:%S").is_ok(),
        "zone-less CreateTime: {created}"
    );
    assert!(!r.to_string().contains("kwDemoProdSecretKey"), "no secret in a listing");

    // Signed with a sub-user's key, the same call lists that user's keys.
    let backup = seed_key(BACKUP_BOT);
    let r = TcCall::cam("ListAccessKeys", json!({}))
        .signed_with(&backup.id, backup.secret.as_deref().unwrap())
        .send(&http, &emu)
        .await;
    assert_eq!(ids(&r), std::slice::from_ref(&backup.id));
    // ... and may not reach the root's.
    let r = TcCall::cam("ListAccessKeys", json!({"TargetUin": root}))
        .signed_with(&backup.id, backup.secret.as_deref().unwrap())
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "OperationDenied.SubUin");
    emu.shutdown().await;
}

#[tokio::test]
async fn list_users_and_target_uin_reach_every_sub_user() {
    let emu = start_demo().await;
    let http = client();
    let r = TcCall::cam("ListUsers", json!({})).send(&http, &emu).await;
    let users = r["Data"].as_array().unwrap();
    let sub_users: Vec<u64> = emu
        .state()
        .cam_users(PROD)
        .into_iter()
        .filter(|u| !u.root)
        .map(|u| u.uin)
        .collect();
    let listed: Vec<u64> = users.iter().map(|u| u["Uin"].as_u64().unwrap()).collect();
    assert_eq!(listed, sub_users);
    for field in ["Name", "Uid", "Remark", "ConsoleLogin", "CreateTime"] {
        assert!(users[0].get(field).is_some(), "{field} in {}", users[0]);
    }
    let mut key_counts: Vec<usize> = Vec::new();
    for uin in &listed {
        let r = TcCall::cam("ListAccessKeys", json!({"TargetUin": uin}))
            .send(&http, &emu)
            .await;
        key_counts.push(ids(&r).len());
    }
    key_counts.sort();
    key_counts.dedup();
    assert_eq!(key_counts, [0, 1, 2]);
    let r = TcCall::cam("ListAccessKeys", json!({"TargetUin": 123}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "InvalidParameter.UserNotExist");
    emu.shutdown().await;
}

#[tokio::test]
async fn last_used_rows_and_the_ten_id_cap() {
    let emu = start_demo().await;
    let http = client();
    let keys = emu.state().cam_keys(PROD);
    let all: Vec<String> = keys.iter().map(|k| k.id.clone()).collect();
    let r = TcCall::cam("GetSecurityLastUsed", json!({"SecretIdList": all}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "", "{r}");
    let rows = r["SecretIdLastUsedRows"].as_array().unwrap();
    assert_eq!(rows.len(), keys.len());
    for (row, key) in rows.iter().zip(&keys) {
        assert_eq!(row["SecretId"], key.id.as_str());
        match key.last_used {
            None => {
                assert_eq!(row["LastUsedDate"], "");
                assert_eq!(row["LastSecretUsedDate"], 0);
            }
            Some(t) => {
                assert_eq!(row["LastSecretUsedDate"], t.timestamp_millis());
                let date = row["LastUsedDate"].as_str().unwrap();
                let beijing = (t + chrono::TimeDelta::hours(8)).format("%Y-%m-%d").to_string();
                assert_eq!(date, beijing);
            }
        }
    }
    let eleven: Vec<String> = (0..11).map(|i| format!("AKID{i:032}")).collect();
    let r = TcCall::cam("GetSecurityLastUsed", json!({"SecretIdList": eleven}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "InvalidParameter");
    emu.shutdown().await;
}

#[tokio::test]
async fn update_then_delete_under_the_default_switch() {
    let emu = start_demo().await;
    let http = client();
    let state = emu.state();
    let key = seed_key(CI_DEPLOY).id;
    let delete = TcCall::cam("DeleteAccessKey", json!({"AccessKeyId": key, "TargetUin": CI_DEPLOY}));
    let r = delete.send(&http, &emu).await;
    assert_eq!(code(&r), "FailedOperation.Accesskey", "an Active key is refused: {r}");
    assert_eq!(state.cam_key_status(PROD, &key), Some("Active"));

    let disable = TcCall::cam(
        "UpdateAccessKey",
        json!({"AccessKeyId": key, "Status": "Inactive", "TargetUin": CI_DEPLOY}),
    );
    assert_eq!(code(&disable.send(&http, &emu).await), "");
    assert_eq!(state.cam_key_status(PROD, &key), Some("Inactive"));
    assert_eq!(code(&delete.send(&http, &emu).await), "");
    assert_eq!(state.cam_key_status(PROD, &key), None);
    // Gone: both actions now say so.
    assert_eq!(code(&delete.send(&http, &emu).await), "ResourceNotFound.SecretNotExist");
    assert_eq!(
        code(&disable.send(&http, &emu).await),
        "ResourceNotFound.SecretNotExist"
    );
    // A key of one user named under another.
    let other = seed_key(BACKUP_BOT).id;
    let r = TcCall::cam(
        "UpdateAccessKey",
        json!({"AccessKeyId": other, "Status": "Inactive", "TargetUin": CI_DEPLOY}),
    )
    .send(&http, &emu)
    .await;
    assert_eq!(code(&r), "OperationDenied.UinNotMatch");
    emu.shutdown().await;
}

#[tokio::test]
async fn an_active_key_is_deleted_outright_when_the_switch_is_off() {
    let mut seed = Seed::demo().unwrap();
    seed.tencent[0].cam.as_mut().unwrap().delete_requires_inactive = false;
    let emu = emulator::start(EmulatorOptions::new(seed)).await.unwrap();
    let key = seed_key(CI_DEPLOY).id;
    assert_eq!(emu.state().cam_key_status(PROD, &key), Some("Active"));
    let r = TcCall::cam(
        "DeleteAccessKey",
        json!({"AccessKeyId": key, "TargetUin": CI_DEPLOY.to_string()}),
    )
    .send(&client(), &emu)
    .await;
    assert_eq!(code(&r), "", "{r}");
    assert_eq!(emu.state().cam_key_status(PROD, &key), None);
    emu.shutdown().await;
}

#[tokio::test]
async fn create_answers_a_working_secret_once_and_refuses_a_third_key() {
    let emu = start_demo().await;
    let http = client();
    let r = TcCall::cam(
        "CreateAccessKey",
        json!({"TargetUin": BACKUP_BOT, "Description": "rotation"}),
    )
    .send(&http, &emu)
    .await;
    assert_eq!(code(&r), "", "{r}");
    let id = r["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string();
    let secret = r["AccessKey"]["SecretAccessKey"].as_str().unwrap().to_string();
    assert_eq!(r["AccessKey"]["Status"], "Active");
    let made = emu.state().cam_keys(PROD).into_iter().find(|k| k.id == id).unwrap();
    assert_eq!((made.owner_uin, made.description.as_str()), (BACKUP_BOT, "rotation"));
    // The new key signs requests as its user.
    let r = TcCall::cam("ListAccessKeys", json!({}))
        .signed_with(&id, &secret)
        .send(&http, &emu)
        .await;
    assert_eq!(ids(&r).len(), 2, "{r}");
    assert!(!r.to_string().contains(&secret));
    let r = TcCall::cam("CreateAccessKey", json!({"TargetUin": BACKUP_BOT}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "OperationDenied.AccessKeyOverLimit");
    assert_eq!(
        emu.state()
            .cam_keys(PROD)
            .iter()
            .filter(|k| k.owner_uin == BACKUP_BOT)
            .count(),
        2
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn the_region_header_is_optional_and_ignored() {
    let emu = start_demo().await;
    let http = client();
    let without = TcCall::cam("ListAccessKeys", json!({})).send(&http, &emu).await;
    assert_eq!(code(&without), "");
    // Any region, the account's or not, financial or not, reaches the same global keys.
    for region in ["ap-guangzhou", "eu-frankfurt", "ap-shanghai-fsi"] {
        let with = TcCall::cam("ListAccessKeys", json!({}))
            .region(region)
            .via("cam.tencentcloudapi.com")
            .send(&http, &emu)
            .await;
        assert_eq!(code(&with), "", "{region}: {with}");
        assert_eq!(ids(&with), ids(&without));
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn signatures_are_checked_as_for_every_service() {
    let emu = start_demo().await;
    let http = client();
    let mut wrong = TcCall::cam("ListUsers", json!({}));
    wrong.secret_key = "not-the-key".into();
    assert_eq!(code(&wrong.send(&http, &emu).await), "AuthFailure.SignatureFailure");
    let mut old = TcCall::cam("ListUsers", json!({}));
    old.timestamp = now() - 600;
    assert_eq!(code(&old.send(&http, &emu).await), "AuthFailure.SignatureExpire");
    let unknown = TcCall::cam("ListUsers", json!({})).signed_with("AKIDnobody", "x");
    assert_eq!(code(&unknown.send(&http, &emu).await), "AuthFailure.SecretIdNotFound");
    let mut version = TcCall::cam("ListUsers", json!({}));
    version.version = "2018-01-01";
    assert_eq!(code(&version.send(&http, &emu).await), "NoSuchVersion");
    let r = TcCall::cam("DescribeKeyPairs", json!({})).send(&http, &emu).await;
    assert_eq!(code(&r), "InvalidAction");
    emu.shutdown().await;
}

#[tokio::test]
async fn a_disabled_key_signs_nothing_the_accounts_own_included() {
    let emu = start_demo().await;
    let http = client();
    let backup = seed_key(BACKUP_BOT);
    let as_backup = TcCall::cam("ListAccessKeys", json!({})).signed_with(&backup.id, backup.secret.as_deref().unwrap());
    assert_eq!(code(&as_backup.send(&http, &emu).await), "");
    let r = TcCall::cam(
        "UpdateAccessKey",
        json!({"AccessKeyId": backup.id, "Status": "Inactive", "TargetUin": BACKUP_BOT}),
    )
    .send(&http, &emu)
    .await;
    assert_eq!(code(&r), "");
    assert_eq!(code(&as_backup.send(&http, &emu).await), "AuthFailure.SecretIdNotFound");

    // The root disabling the key it signs with locks the account out of every service.
    let (own, _) = crate::support::emulator::prod_credentials();
    let r = TcCall::cam("UpdateAccessKey", json!({"AccessKeyId": own, "Status": "Inactive"}))
        .send(&http, &emu)
        .await;
    assert_eq!(code(&r), "");
    let cvm = TcCall::cvm("DescribeKeyPairs", json!({})).send(&http, &emu).await;
    assert_eq!(code(&cvm), "AuthFailure.SecretIdNotFound");
    emu.shutdown().await;
}

#[tokio::test]
async fn rate_limits_count_per_action_at_the_documented_figures() {
    let emu = start_demo().await;
    let http = client();
    // DeleteAccessKey is 5/s: a burst of 12 against a bucket that starts full is refused
    // in part, the refusal naming the limit; nothing is deleted (unknown ids).
    let burst: Vec<_> = (0..12)
        .map(|i| TcCall::cam("DeleteAccessKey", json!({"AccessKeyId": format!("AKIDnone{i}")})))
        .collect();
    let results = join_all(burst.iter().map(|c| c.send(&http, &emu))).await;
    let limited: Vec<&Value> = results.iter().filter(|r| code(r) == "RequestLimitExceeded").collect();
    assert!(
        !limited.is_empty() && limited.len() <= 7,
        "{} of 12 refused",
        limited.len()
    );
    let message = limited[0]["Error"]["Message"].as_str().unwrap();
    assert!(
        message.contains("DeleteAccessKey") && message.contains("5 per second"),
        "{message}"
    );
    // ListAccessKeys has its own 20/s bucket, untouched by the burst.
    assert_eq!(
        code(&TcCall::cam("ListAccessKeys", json!({})).send(&http, &emu).await),
        ""
    );

    // The account cap counts CAM calls with the account's others.
    let mut opts = EmulatorOptions::new(Seed::demo().unwrap());
    opts.uin_limit = Some(2);
    let capped = emulator::start(opts).await.unwrap();
    assert_eq!(
        code(&TcCall::cam("ListUsers", json!({})).send(&http, &capped).await),
        ""
    );
    assert_eq!(
        code(&TcCall::cvm("DescribeKeyPairs", json!({})).send(&http, &capped).await),
        ""
    );
    let r = TcCall::cam("ListAccessKeys", json!({})).send(&http, &capped).await;
    assert_eq!(code(&r), "RequestLimitExceeded.UinLimitExceeded");
    capped.shutdown().await;
    emu.shutdown().await;
}

#[tokio::test]
async fn tls_covers_both_cam_hosts() {
    let mut opts = EmulatorOptions::new(Seed::demo().unwrap());
    opts.tls = true;
    let emu = emulator::start(opts).await.unwrap();
    let pem = emu.ca_cert_pem.clone().unwrap();
    let port = emu.addr.port();
    keyward::providers::http::install_crypto_provider();
    let hosts = ["cam.tencentcloudapi.com", "cam.intl.tencentcloudapi.com"];
    let mut builder = reqwest::Client::builder().tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()]);
    for host in hosts {
        builder = builder.resolve(host, emu.addr);
    }
    let http = builder.build().unwrap();
    for host in hosts {
        let r = TcCall::cam("ListUsers", json!({}))
            .send_to(&http, &format!("https://{host}:{port}"))
            .await;
        assert_eq!(code(&r), "", "{host}: {r}");
    }
    emu.shutdown().await;
}
