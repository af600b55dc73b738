//! The OceanBase MaaS emulator over HTTP: Digest challenge/response (SHA-256 and MD5),
//! stale nonces, required headers, paging and delete errors.

use crate::support::emulator::{client, start_demo};
use digest_auth::{AuthContext, HttpMethod, WwwAuthenticateHeader};
use keyward::emulator::{Emulator, Seed};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::borrow::Cow;

const PATH: &str = "/api/v2/maas/apikeys";

struct Ob {
    ak: String,
    sk: String,
    org: String,
    project: String,
}

fn demo_account() -> Ob {
    let seed = Seed::demo().unwrap();
    let a = &seed.oceanbase_accounts()[0];
    Ob {
        ak: a.access_key_id.clone(),
        sk: a.access_key_secret.clone(),
        org: a.org_id.clone(),
        project: a.project_ids[0].clone(),
    }
}

fn request(http: &reqwest::Client, emu: &Emulator, method: Method, target: &str, ob: &Ob) -> reqwest::RequestBuilder {
    http.request(method, format!("{}{target}", emu.base_url))
        .header("X-OB-Org-Id", &ob.org)
        .header("X-OB-Project-Id", &ob.project)
}

fn challenges(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

fn answer(challenge: &mut WwwAuthenticateHeader, ob: &Ob, password: &str, method: &str, target: &str) -> String {
    let ctx = AuthContext::new_with_method(
        ob.ak.as_str(),
        password,
        target,
        None::<&[u8]>,
        HttpMethod(Cow::Owned(method.to_string())),
    );
    challenge.respond(&ctx).unwrap().to_header_string()
}

/// Unauthenticated attempt, then the answer to the challenge at `which` (0 = SHA-256, 1 = MD5).
async fn call(
    http: &reqwest::Client,
    emu: &Emulator,
    method: Method,
    target: &str,
    ob: &Ob,
    which: usize,
) -> reqwest::Response {
    let first = request(http, emu, method.clone(), target, ob).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
    let mut challenge = digest_auth::parse(&challenges(&first)[which]).unwrap();
    let auth = answer(&mut challenge, ob, &ob.sk, method.as_str(), target);
    request(http, emu, method, target, ob)
        .header("Authorization", auth)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn digest_challenge_then_success_with_sha256_and_md5() {
    let emu = start_demo().await;
    let http = client();
    let ob = demo_account();
    let first = request(&http, &emu, Method::GET, PATH, &ob).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
    let offered = challenges(&first);
    assert_eq!(offered.len(), 2);
    assert!(offered[0].contains("algorithm=SHA-256"), "{}", offered[0]);
    assert!(offered[1].contains("algorithm=MD5"), "{}", offered[1]);
    assert!(offered.iter().all(|c| c.contains("qop=\"auth\"")));
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");

    for which in [0, 1] {
        let res = call(&http, &emu, Method::GET, PATH, &ob, which).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["success"], true);
        assert_eq!(body["action"], "ListAIServiceAPIKeys");
        assert_eq!(body["message"], "success");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn a_wrong_secret_gets_a_fresh_challenge() {
    let emu = start_demo().await;
    let http = client();
    let ob = demo_account();
    let first = request(&http, &emu, Method::GET, PATH, &ob).send().await.unwrap();
    let mut challenge = digest_auth::parse(&challenges(&first)[1]).unwrap();
    let auth = answer(&mut challenge, &ob, "wrong-secret", "GET", PATH);
    let res = request(&http, &emu, Method::GET, PATH, &ob)
        .header("Authorization", auth)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let again = challenges(&res);
    assert_eq!(again.len(), 2);
    assert!(!again[0].contains("stale=true"));
    assert!(!again[0].contains(&challenge.nonce), "a fresh nonce");
    emu.shutdown().await;
}

#[tokio::test]
async fn nonces_are_reusable_with_a_rising_count_until_they_expire() {
    let emu = start_demo().await;
    let http = client();
    let ob = demo_account();
    let first = request(&http, &emu, Method::GET, PATH, &ob).send().await.unwrap();
    let mut challenge = digest_auth::parse(&challenges(&first)[0]).unwrap();
    let auth1 = answer(&mut challenge, &ob, &ob.sk, "GET", PATH);
    let ok = request(&http, &emu, Method::GET, PATH, &ob)
        .header("Authorization", &auth1)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // Replaying the same nonce count is refused.
    let replay = request(&http, &emu, Method::GET, PATH, &ob)
        .header("Authorization", &auth1)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    // nc=2 on the same nonce is fine.
    let auth2 = answer(&mut challenge, &ob, &ob.sk, "GET", PATH);
    let ok = request(&http, &emu, Method::GET, PATH, &ob)
        .header("Authorization", auth2)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // Once expired, a correct answer gets stale=true.
    emu.state().expire_digest_nonces();
    let auth3 = answer(&mut challenge, &ob, &ob.sk, "GET", PATH);
    let stale = request(&http, &emu, Method::GET, PATH, &ob)
        .header("Authorization", auth3)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    assert!(challenges(&stale).iter().all(|c| c.contains("stale=true")));
    emu.shutdown().await;
}

#[tokio::test]
async fn org_and_project_headers_are_required() {
    let emu = start_demo().await;
    let http = client();
    let ob = demo_account();
    let first = http.get(format!("{}{PATH}", emu.base_url)).send().await.unwrap();
    let mut challenge = digest_auth::parse(&challenges(&first)[0]).unwrap();
    let auth = answer(&mut challenge, &ob, &ob.sk, "GET", PATH);
    let res = http
        .get(format!("{}{PATH}", emu.base_url))
        .header("Authorization", auth)
        .header("X-OB-Org-Id", &ob.org)
        .header("X-Request-Id", "req-abc123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "INVALID_PARAMETER");
    assert!(body["error"]["message"].as_str().unwrap().contains("X-OB-Project-Id"));
    assert_eq!(body["requestId"], "req-abc123");
    emu.shutdown().await;
}

#[tokio::test]
async fn list_pages_through_every_key() {
    let emu = start_demo().await;
    let http = client();
    let ob = demo_account();
    let expected = emu.state().ob_key_ids("acme-ai", &ob.project);
    assert!(expected.len() > 100);
    let mut seen = Vec::new();
    for page in 1.. {
        let target = format!("{PATH}?pageNumber={page}&pageSize=100");
        let res = call(&http, &emu, Method::GET, &target, &ob, 0).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["data"]["total"], expected.len());
        let list = body["data"]["list"].as_array().unwrap();
        if list.is_empty() {
            break;
        }
        for item in list {
            assert!(
                item["apiKey"].as_str().unwrap().contains("****"),
                "listed keys are masked"
            );
            seen.push(item["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(seen, expected);
    let res = call(&http, &emu, Method::GET, &format!("{PATH}?pageSize=abc"), &ob, 1).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    emu.shutdown().await;
}

#[tokio::test]
async fn delete_removes_a_key_and_reports_unknown_or_missing_ids() {
    let emu = start_demo().await;
    let http = client();
    let ob = demo_account();
    let id = emu.state().ob_key_ids("acme-ai", &ob.project)[0].clone();
    let res = call(&http, &emu, Method::DELETE, &format!("{PATH}?id={id}"), &ob, 0).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["success"], true);
    assert_eq!(body["action"], "DeleteAIServiceAPIKey");
    assert!(!emu.state().ob_key_ids("acme-ai", &ob.project).contains(&id));

    let res = call(&http, &emu, Method::DELETE, &format!("{PATH}?id={id}"), &ob, 0).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    assert!(body["requestId"].as_str().is_some_and(|r| !r.is_empty()));

    let res = call(&http, &emu, Method::DELETE, PATH, &ob, 1).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "INVALID_PARAMETER");
    emu.shutdown().await;
}

#[tokio::test]
async fn create_returns_the_secret_once() {
    let emu = start_demo().await;
    let http = client();
    let ob = demo_account();
    let before = emu.state().ob_key_ids("acme-ai", &ob.project).len();
    let first = request(&http, &emu, Method::POST, PATH, &ob).send().await.unwrap();
    let mut challenge = digest_auth::parse(&challenges(&first)[0]).unwrap();
    let auth = answer(&mut challenge, &ob, &ob.sk, "POST", PATH);
    let res = request(&http, &emu, Method::POST, PATH, &ob)
        .header("Authorization", auth)
        .json(&serde_json::json!({"name": "keyward-test", "action": "read"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let secret = body["data"]["apiKey"].as_str().unwrap();
    assert!(secret.starts_with("sk-"));
    let keys = emu.state().ob_keys("acme-ai", &ob.project);
    assert_eq!(keys.len(), before + 1);
    assert_eq!(keys.last().unwrap().secret.expose(), secret);
    emu.shutdown().await;
}
