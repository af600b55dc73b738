//! The OceanBase provider against a small in-test Open API server that issues real
//! Digest challenges and verifies every answer (MD5 and SHA-256, qop=auth, nc order).

use crate::support::items::ts;
use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use digest_auth::{AuthContext, AuthorizationHeader, HttpMethod};
use keyward::inventory::{ProviderKind, Status};
use keyward::providers::oceanbase::{ObCredentials, ObOptions, OceanBase};
use keyward::providers::{ErrorKind, Provider};
use keyward::secret::Secret;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const AK: &str = "ak-test-id";
const SK: &str = "sk-test-secret";
const ORG: &str = "org-1";

#[derive(Default)]
struct Server {
    algorithm: &'static str,
    /// Each nonce is good for one use only: reuse gets `stale=true` (forces re-challenge).
    single_use_nonces: bool,
    /// Page size the server really uses (it ignores larger requests, as the docs warn).
    cap_page_size: Option<usize>,
    send_total: bool,
    /// Refuse every request with a 401 that carries no challenge (a disabled AccessKey).
    refuse_without_challenge: bool,
    /// Past the end, answer the last page again instead of an empty one.
    repeat_last_page: bool,
    /// Answer after a random few milliseconds, so concurrent requests overtake each other.
    jitter: bool,
    keys: Mutex<Vec<(String, String)>>,
    /// nonce -> highest nc accepted
    nonces: Mutex<HashMap<String, u32>>,
    challenges: Mutex<u32>,
    /// Every request: (method, uri, Authorization header, X-Request-Id, project header)
    log: Mutex<Vec<Seen>>,
    /// Answers to give to authorized requests before handling them normally.
    faults: Mutex<VecDeque<(u16, Value)>>,
}

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    uri: String,
    authorization: Option<String>,
    request_id: String,
    project: String,
}

impl Server {
    fn new(algorithm: &'static str, keys: usize) -> Self {
        Server {
            algorithm,
            send_total: true,
            keys: Mutex::new((0..keys).map(|i| (format!("ak-{i:04}"), format!("key-{i}"))).collect()),
            ..Default::default()
        }
    }

    fn challenge(&self, stale: bool) -> Response {
        let mut count = self.challenges.lock().unwrap();
        *count += 1;
        let nonce = format!("nonce-{}", *count);
        self.nonces.lock().unwrap().insert(nonce.clone(), 0);
        let header = format!(
            r#"Digest realm="OceanBase", qop="auth", algorithm={}, nonce="{nonce}", opaque="op-1"{}"#,
            self.algorithm,
            if stale { ", stale=true" } else { "" }
        );
        (
            StatusCode::UNAUTHORIZED,
            [("WWW-Authenticate", header)],
            axum::Json(json!({"success": false, "error": {"code": "UNAUTHORIZED", "message": "digest required"}})),
        )
            .into_response()
    }

    /// `Ok` when the Authorization answers one of our nonces correctly; `Err(stale)` otherwise.
    fn verify(&self, method: &Method, uri: &str, authorization: &str) -> Result<(), bool> {
        let header = AuthorizationHeader::parse(authorization).map_err(|_| false)?;
        if header.username != AK || header.uri != uri || header.realm != "OceanBase" {
            return Err(false);
        }
        if header.algorithm.to_string() != self.algorithm
            || header.qop.map(|q| q.to_string()).as_deref() != Some("auth")
        {
            return Err(false);
        }
        if header.opaque.as_deref() != Some("op-1") {
            return Err(false);
        }
        let mut nonces = self.nonces.lock().unwrap();
        let Some(last_nc) = nonces.get_mut(&header.nonce) else {
            return Err(true);
        };
        if header.nc <= *last_nc || (self.single_use_nonces && *last_nc > 0) {
            return Err(true);
        }
        let mut expected = header.clone();
        let context =
            AuthContext::new_with_method(AK, SK, uri, Option::<&[u8]>::None, HttpMethod::from(method.to_string()));
        expected.digest(&context);
        if expected.response != header.response {
            return Err(false);
        }
        *last_nc = header.nc;
        Ok(())
    }
}

fn envelope(data: Value, request_id: &str) -> Value {
    json!({"action": "ListAIServiceAPIKeys", "data": data, "error": {}, "message": "success",
           "requestId": request_id, "server": "10.0.0.1:80", "success": true})
}

async fn handle(State(s): State<Arc<Server>>, method: Method, uri: OriginalUri, headers: HeaderMap) -> Response {
    if s.jitter {
        tokio::time::sleep(Duration::from_millis(rand::random::<u64>() % 4)).await;
    }
    // Over HTTP/2 the request URI is absolute; Digest signs the request-target (path?query).
    let uri = uri.0.path_and_query().map(|pq| pq.to_string()).unwrap_or_default();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let authorization = header("authorization");
    s.log.lock().unwrap().push(Seen {
        method: method.to_string(),
        uri: uri.clone(),
        authorization: authorization.clone(),
        request_id: header("x-request-id").unwrap_or_default(),
        project: header("x-ob-project-id").unwrap_or_default(),
    });
    if header("x-ob-org-id").as_deref() != Some(ORG) || header("x-ob-project-id").is_none() {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"success": false, "errorCode": "MISSING_HEADER"})),
        )
            .into_response();
    }
    if s.refuse_without_challenge {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"success": false, "error": {"code": "ACCESS_KEY_DISABLED", "message": "The AccessKey is disabled."},
                              "requestId": "srv-401"})),
        )
            .into_response();
    }
    let Some(authorization) = authorization else {
        return s.challenge(false);
    };
    if let Err(stale) = s.verify(&method, &uri, &authorization) {
        return s.challenge(stale);
    }
    let fault = s.faults.lock().unwrap().pop_front();
    match fault {
        // Status 0: hang past the client's timeout.
        Some((0, _)) => tokio::time::sleep(Duration::from_secs(3)).await,
        Some((status, body)) => return (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response(),
        None => {}
    }
    let query: HashMap<String, String> = url_query(&uri);
    if method == Method::GET {
        let number: usize = query["pageNumber"].parse().unwrap();
        let asked: usize = query["pageSize"].parse().unwrap();
        let size = s.cap_page_size.map_or(asked, |cap| asked.min(cap));
        let keys = s.keys.lock().unwrap();
        let last_page = keys.len().div_ceil(size).max(1);
        let number = if s.repeat_last_page {
            number.min(last_page)
        } else {
            number
        };
        let list: Vec<Value> = keys
            .iter()
            .skip((number - 1) * size)
            .take(size)
            .map(|(id, name)| {
                json!({"id": id, "name": name, "createdAt": "2025-03-01 10:00:00", "updatedAt": "2025-03-02 11:00:00",
                       "expiresAt": ""})
            })
            .collect();
        let mut data = json!({ "list": list });
        if s.send_total {
            data["total"] = json!(keys.len());
        }
        return axum::Json(envelope(data, &format!("srv-list-{number}"))).into_response();
    }
    if method == Method::DELETE {
        let id = query.get("id").cloned().unwrap_or_default();
        let mut keys = s.keys.lock().unwrap();
        let before = keys.len();
        keys.retain(|(k, _)| *k != id);
        if keys.len() == before {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"success": false, "error": {"code": "NOT_FOUND", "message": format!("api key {id} not found")},
                                  "message": "failed", "requestId": "srv-del-404"})),
            )
                .into_response();
        }
        return axum::Json(envelope(json!({}), "srv-del-ok")).into_response();
    }
    StatusCode::METHOD_NOT_ALLOWED.into_response()
}

fn url_query(uri: &str) -> HashMap<String, String> {
    let query = uri.split_once('?').map(|(_, q)| q).unwrap_or("");
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn start(server: Server) -> (Arc<Server>, String) {
    let state = Arc::new(server);
    let app = Router::new()
        .route("/api/v2/maas/apikeys", axum::routing::any(handle))
        .with_state(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (state, format!("http://{addr}"))
}

/// The same server over TLS with a fresh self-signed certificate; returns its PEM.
async fn start_tls(server: Server) -> (Arc<Server>, String, Vec<u8>) {
    let (listener, config, cert_pem) = crate::support::tls::self_signed_listener().await;
    let state = Arc::new(server);
    let app = Router::new()
        .route("/api/v2/maas/apikeys", axum::routing::any(handle))
        .with_state(Arc::clone(&state));
    let addr = listener.local_addr().unwrap();
    let server = axum_server::from_tcp_rustls(listener, config);
    tokio::spawn(async move { server.serve(app.into_make_service()).await });
    (state, format!("https://localhost:{}", addr.port()), cert_pem)
}

fn provider(endpoint: &str, secret: &str) -> OceanBase {
    provider_with_timeout(endpoint, secret, Duration::from_secs(5))
}

fn provider_with_timeout(endpoint: &str, secret: &str, timeout: Duration) -> OceanBase {
    OceanBase::new(
        "ob-main",
        ORG,
        "proj-1",
        ObCredentials {
            access_key_id: AK.into(),
            access_key_secret: Secret::new(secret),
            source: "env vars TEST_AK and TEST_SK".into(),
        },
        ObOptions {
            endpoint: Some(endpoint.into()),
            timeout,
            retry_base_delay: Duration::from_millis(1),
            requests_per_second: 10_000,
            ..ObOptions::default()
        },
    )
    .unwrap()
}

fn authorized(log: &[Seen]) -> Vec<Seen> {
    log.iter().filter(|s| s.authorization.is_some()).cloned().collect()
}

#[tokio::test]
async fn md5_challenge_is_answered_and_items_are_mapped() {
    let (server, url) = start(Server::new("MD5", 3)).await;
    let ob = provider(&url, SK);
    let items = ob.list().await.unwrap();
    assert_eq!(items.len(), 3);
    let first = &items[0];
    assert_eq!(first.key.scope.kind, ProviderKind::OceanBase);
    assert_eq!(
        (first.key.scope.account.as_str(), first.key.scope.region.as_str()),
        ("ob-main", "proj-1")
    );
    assert_eq!((first.key.id.as_str(), first.name.as_str()), ("ak-0000", "key-0"));
    assert_eq!(first.status, Status::Active);
    assert_eq!(first.key_type, "api-key");
    // "YYYY-MM-DD HH:MM:SS" with no zone is read as UTC; an empty expiresAt is none.
    assert_eq!(first.created, Some(ts("2025-03-01T10:00:00Z")));
    assert_eq!(first.modified, Some(ts("2025-03-02T11:00:00Z")));
    assert_eq!(first.expires, None);
    assert_eq!(ob.scope().region, "proj-1");

    let log = server.log.lock().unwrap().clone();
    assert_eq!(log.len(), 2, "one unauthenticated try, one answer: {log:?}");
    assert!(log[0].authorization.is_none());
    let answer = log[1].authorization.as_deref().unwrap();
    assert!(
        answer.contains("algorithm=MD5") && answer.contains("qop=auth"),
        "{answer}"
    );
    assert!(!answer.contains(SK), "the secret itself must never be sent");
    assert_eq!(log[1].uri, "/api/v2/maas/apikeys?pageNumber=1&pageSize=100");
    assert_eq!(log[1].project, "proj-1");
    assert!(
        uuid::Uuid::parse_str(&log[1].request_id).is_ok(),
        "X-Request-Id is a uuid"
    );
    assert_ne!(log[0].request_id, log[1].request_id, "a fresh X-Request-Id per request");
}

#[tokio::test]
async fn sha256_challenge_is_answered() {
    let (server, url) = start(Server::new("SHA-256", 2)).await;
    let items = provider(&url, SK).list().await.unwrap();
    assert_eq!(items.len(), 2);
    let log = authorized(&server.log.lock().unwrap());
    assert_eq!(log.len(), 1);
    assert!(log[0].authorization.as_deref().unwrap().contains("algorithm=SHA-256"));
}

#[tokio::test]
async fn nonce_is_reused_with_increasing_nc() {
    let (server, url) = start(Server::new("MD5", 250)).await;
    let ob = provider(&url, SK);
    assert_eq!(ob.list().await.unwrap().len(), 250);
    assert_eq!(ob.list().await.unwrap().len(), 250);
    assert_eq!(
        *server.challenges.lock().unwrap(),
        1,
        "one challenge serves every later request"
    );
    let ncs: Vec<String> = authorized(&server.log.lock().unwrap())
        .iter()
        .map(|s| {
            let h = AuthorizationHeader::parse(s.authorization.as_deref().unwrap()).unwrap();
            format!("{}:{}", h.nonce, h.nc)
        })
        .collect();
    let expected: Vec<String> = (1..=6).map(|nc| format!("nonce-1:{nc}")).collect();
    assert_eq!(ncs, expected);
}

#[tokio::test]
async fn stale_nonce_gets_one_rechallenge() {
    let mut s = Server::new("SHA-256", 1);
    s.single_use_nonces = true;
    let (server, url) = start(s).await;
    let ob = provider(&url, SK);
    ob.list().await.unwrap();
    ob.list().await.unwrap();
    assert_eq!(*server.challenges.lock().unwrap(), 2);
    let log = server.log.lock().unwrap().clone();
    // no auth -> 401, answer -> 200, reused nonce -> 401 stale, fresh answer -> 200
    assert_eq!(log.len(), 4, "{log:?}");
}

#[tokio::test]
async fn wrong_secret_is_an_auth_error_without_looping() {
    let (server, url) = start(Server::new("MD5", 1)).await;
    let ob = provider(&url, "not-the-secret");
    let err = ob.list().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    assert!(err.message.contains("AccessKey"), "{err}");
    // The source this account really used, not always OCEANBASE_ACCESS_KEY_*.
    assert!(err.message.contains("from env vars TEST_AK and TEST_SK"), "{err}");
    assert!(!err.message.contains("not-the-secret"));
    assert_eq!(
        server.log.lock().unwrap().len(),
        2,
        "challenge once, answer once, then stop"
    );
    // With a cached (now rejected) nonce the next call re-challenges exactly once.
    let err = ob.list().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(server.log.lock().unwrap().len(), 4);
}

#[tokio::test]
async fn every_page_is_followed_with_and_without_total() {
    let (server, url) = start(Server::new("MD5", 250)).await;
    let items = provider(&url, SK).list().await.unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i.key.id.as_str()).collect();
    assert_eq!(ids.len(), 250);
    assert_eq!(ids[0], "ak-0000");
    assert_eq!(ids[249], "ak-0249");
    let pages: Vec<String> = authorized(&server.log.lock().unwrap())
        .into_iter()
        .map(|s| s.uri)
        .collect();
    assert_eq!(
        pages,
        (1..=3)
            .map(|n| format!("/api/v2/maas/apikeys?pageNumber={n}&pageSize=100"))
            .collect::<Vec<_>>()
    );

    // No total: a full page means "ask for more"; exactly 200 keys needs a third, empty page.
    let mut s = Server::new("MD5", 200);
    s.send_total = false;
    let (server, url) = start(s).await;
    assert_eq!(provider(&url, SK).list().await.unwrap().len(), 200);
    assert_eq!(authorized(&server.log.lock().unwrap()).len(), 3);
}

#[tokio::test]
async fn a_server_capping_page_size_is_still_read_to_the_end() {
    for send_total in [true, false] {
        let mut s = Server::new("MD5", 45);
        s.cap_page_size = Some(20);
        s.send_total = send_total;
        let (server, url) = start(s).await;
        let items = provider(&url, SK).list().await.unwrap();
        assert_eq!(items.len(), 45, "pages of 20 are followed (total sent: {send_total})");
        assert_eq!(authorized(&server.log.lock().unwrap()).len(), 3);
    }
}

#[tokio::test]
async fn a_server_repeating_its_last_page_does_not_loop() {
    let mut s = Server::new("MD5", 40);
    s.cap_page_size = Some(20);
    s.send_total = false;
    s.repeat_last_page = true;
    let (server, url) = start(s).await;
    let items = provider(&url, SK).list().await.unwrap();
    assert_eq!(items.len(), 40);
    assert_eq!(
        authorized(&server.log.lock().unwrap()).len(),
        3,
        "page 3 repeats page 2 and ends the listing"
    );
}

#[tokio::test]
async fn delete_sends_the_id_and_returns_the_request_id() {
    let (server, url) = start(Server::new("MD5", 2)).await;
    let ob = provider(&url, SK);
    let report = ob.delete(&["ak-0001".to_string()]).await.unwrap();
    assert_eq!(report.request_id, "srv-del-ok");
    assert_eq!(report.deleted, vec!["ak-0001".to_string()]);
    assert_eq!(server.keys.lock().unwrap().len(), 1);
    let last = authorized(&server.log.lock().unwrap()).pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.uri.as_str()),
        ("DELETE", "/api/v2/maas/apikeys?id=ak-0001")
    );

    let err = ob.delete(&["a".to_string(), "b".to_string()]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert_eq!(ob.capabilities().delete_batch, 1);
}

#[tokio::test]
async fn envelope_errors_carry_code_message_and_request_id() {
    let (server, url) = start(Server::new("MD5", 1)).await;
    let ob = provider(&url, SK);
    let err = ob.delete(&["ak-missing".to_string()]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Api);
    assert_eq!(err.code, "NOT_FOUND");
    // Every error names the call it came from, the server's own message after it.
    assert_eq!(err.message, "DELETE /api/v2/maas/apikeys: api key ak-missing not found");
    assert_eq!(err.request_id.as_deref(), Some("srv-del-404"));

    // success:false under HTTP 200 with the classic fields and no requestId in the body:
    // the request id is the X-Request-Id keyward sent.
    server.faults.lock().unwrap().push_back((
        200,
        json!({"success": false, "errorCode": "E001R000", "errorMessage": "Unknown Error"}),
    ));
    let err = ob.list().await.unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        ("E001R000", "GET /api/v2/maas/apikeys: Unknown Error")
    );
    let sent = authorized(&server.log.lock().unwrap()).pop().unwrap().request_id;
    assert_eq!(err.request_id.as_deref(), Some(sent.as_str()));
}

#[tokio::test]
async fn reads_retry_server_errors_but_deletes_do_not() {
    let (server, url) = start(Server::new("MD5", 1)).await;
    let ob = provider(&url, SK);
    let busy =
        json!({"success": false, "error": {"code": "INTERNAL_ERROR", "message": "busy"}, "requestId": "srv-5xx"});
    server.faults.lock().unwrap().push_back((503, busy.clone()));
    assert_eq!(ob.list().await.unwrap().len(), 1, "a read is retried after a 503");

    server.faults.lock().unwrap().push_back((503, busy));
    let before = authorized(&server.log.lock().unwrap()).len();
    let err = ob.delete(&["ak-0000".to_string()]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(err.request_id.as_deref(), Some("srv-5xx"));
    assert_eq!(
        authorized(&server.log.lock().unwrap()).len(),
        before + 1,
        "a 5xx delete may have applied: no retry"
    );

    server.faults.lock().unwrap().push_back((
        429,
        json!({"success": false, "error": {"code": "TOO_MANY_REQUESTS", "message": "slow down"}}),
    ));
    let report = ob.delete(&["ak-0000".to_string()]).await.unwrap();
    assert_eq!(
        report.deleted,
        vec!["ak-0000".to_string()],
        "a 429 was refused, so the delete is retried"
    );
}

#[tokio::test]
async fn reads_give_up_after_max_retries() {
    let (server, url) = start(Server::new("MD5", 1)).await;
    let ob = provider(&url, SK);
    for _ in 0..10 {
        server
            .faults
            .lock()
            .unwrap()
            .push_back((500, json!({"success": false})));
    }
    let err = ob.list().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Server);
    assert_eq!(
        authorized(&server.log.lock().unwrap()).len(),
        4,
        "first try + 3 retries"
    );
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = provider(&format!("http://{addr}"), SK).list().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Transport, "{err}");
    assert_eq!(err.code, "ConnectFailed", "{err}");
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let err = OceanBase::new(
        "ob",
        ORG,
        "p",
        ObCredentials {
            access_key_id: AK.into(),
            access_key_secret: Secret::new(SK),
            source: "env vars TEST_AK and TEST_SK".into(),
        },
        ObOptions {
            endpoint: Some("http://api-cloud.oceanbase.com".into()),
            ..ObOptions::default()
        },
    )
    .err()
    .unwrap();
    assert_eq!(err.kind, ErrorKind::Invalid);
    assert!(err.message.contains("https"), "{err}");
}

#[tokio::test]
async fn tls_endpoint_is_trusted_through_the_extra_root_ca() {
    let (_server, url, pem) = start_tls(Server::new("SHA-256", 2)).await;
    let opts = |pem: Option<Vec<u8>>| ObOptions {
        endpoint: Some(url.clone()),
        timeout: Duration::from_secs(5),
        extra_root_ca_pem: pem,
        max_retries: 0,
        ..ObOptions::default()
    };
    let creds = ObCredentials {
        access_key_id: AK.into(),
        access_key_secret: Secret::new(SK),
        source: "env vars TEST_AK and TEST_SK".into(),
    };
    let trusted = OceanBase::new("ob", ORG, "p", creds.clone(), opts(Some(pem))).unwrap();
    assert_eq!(trusted.list().await.unwrap().len(), 2);

    // Without the CA the self-signed certificate is rejected.
    let untrusted = OceanBase::new("ob", ORG, "p", creds.clone(), opts(None)).unwrap();
    assert_eq!(untrusted.list().await.unwrap_err().kind, ErrorKind::Transport);

    let bad = OceanBase::new("ob", ORG, "p", creds, opts(Some(b"not a pem".to_vec())));
    assert_eq!(bad.err().unwrap().kind, ErrorKind::Invalid);
}

#[tokio::test]
async fn a_401_without_challenge_reports_the_servers_reason() {
    let mut s = Server::new("MD5", 1);
    s.refuse_without_challenge = true;
    let (server, url) = start(s).await;
    let err = provider(&url, SK).list().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth);
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        (
            "ACCESS_KEY_DISABLED",
            "GET /api/v2/maas/apikeys: The AccessKey is disabled. (AccessKey from env vars TEST_AK and TEST_SK)"
        )
    );
    assert_eq!(err.request_id.as_deref(), Some("srv-401"));
    assert_eq!(
        server.log.lock().unwrap().len(),
        1,
        "nothing to answer, so no second try"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_projects_share_the_nonce_without_spurious_auth_failures() {
    // The server refuses any nonce count not above the last one it saw (a replay), so
    // concurrent requests overtaking each other are refused and must recover.
    let mut s = Server::new("SHA-256", 150);
    s.jitter = true;
    let (server, url) = start(s).await;
    let first = provider(&url, SK);
    let projects: Vec<OceanBase> = (0..8)
        .map(|i| first.for_project(&format!("proj-{i}")).unwrap())
        .collect();
    for _round in 0..3 {
        let results = futures::future::join_all(projects.iter().map(|p| p.list())).await;
        for r in results {
            assert_eq!(r.expect("no spurious failure").len(), 150);
        }
    }
    let log = server.log.lock().unwrap().clone();
    assert!(log.iter().all(|s| s.project.starts_with("proj-")));
    // Every authorized request carried a distinct (nonce, nc): no replay was ever sent.
    let mut pairs: Vec<(String, u32)> = authorized(&log)
        .iter()
        .map(|s| {
            let h = AuthorizationHeader::parse(s.authorization.as_deref().unwrap()).unwrap();
            (h.nonce, h.nc)
        })
        .collect();
    let total = pairs.len();
    pairs.sort();
    pairs.dedup();
    assert_eq!(pairs.len(), total);
}

#[tokio::test]
async fn timeouts_retry_reads_but_not_deletes() {
    let (server, url) = start(Server::new("MD5", 1)).await;
    let ob = provider_with_timeout(&url, SK, Duration::from_millis(300));
    ob.list().await.unwrap(); // take the challenge round trip out of the picture
    server.faults.lock().unwrap().push_back((0, Value::Null));
    assert_eq!(ob.list().await.unwrap().len(), 1, "a read that timed out is retried");

    server.faults.lock().unwrap().push_back((0, Value::Null));
    let before = authorized(&server.log.lock().unwrap()).len();
    let err = ob.delete(&["ak-0000".to_string()]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert_eq!(
        authorized(&server.log.lock().unwrap()).len(),
        before + 1,
        "the delete may have been applied: not repeated"
    );
}

/// An answer of another shape (other field names, the list under another key) is not an
/// empty inventory that looks successful: the listing fails as a Protocol error naming the
/// missing field, with an excerpt of what came instead.
#[tokio::test]
async fn an_answer_of_unknown_shape_fails_the_listing_naming_the_missing_field() {
    let (server, url) = start(Server::new("MD5", 0)).await;
    let ob = provider(&url, SK);
    let other_names = json!({"list": [{"apiKeyId": "ak-1", "keyName": "ci", "gmtCreate": "2025-01-01"}], "total": 1});
    let other_list = json!({"records": [{"id": "ak-1", "name": "ci"}], "total": 1});
    for (data, missing, quoted) in [
        (other_names, "without an `id`", "apiKeyId"),
        (other_list, "no `data.list`", "records"),
        (Value::Null, "no `data` object", "null"),
    ] {
        server
            .faults
            .lock()
            .unwrap()
            .push_back((200, envelope(data, "srv-odd")));
        let err = ob.list().await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol, "{err}");
        assert!(err.message.starts_with("GET /api/v2/maas/apikeys: "), "{err}");
        assert!(err.message.contains(missing) && err.message.contains(quoted), "{err}");
        assert_eq!(err.request_id.as_deref(), Some("srv-odd"));
    }
}

/// The variants the Open API families use keep working: `data.dataList`, a string
/// `total`, numeric ids, an explicit `null` list.
#[tokio::test]
async fn known_answer_variants_still_list() {
    let (server, url) = start(Server::new("MD5", 0)).await;
    let ob = provider(&url, SK);
    let data = json!({"dataList": [{"id": 42, "name": "numeric"}, {"id": "ak-2", "name": "text"}], "total": "2"});
    server.faults.lock().unwrap().push_back((200, envelope(data, "srv-1")));
    let items = ob.list().await.unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i.key.id.as_str()).collect();
    assert_eq!(ids, vec!["42", "ak-2"]);
    server
        .faults
        .lock()
        .unwrap()
        .push_back((200, envelope(json!({"list": null}), "srv-2")));
    assert!(ob.list().await.unwrap().is_empty());
}

/// A key past `expiresAt` is `expired`, any other `active` (how close an expiry is, is a
/// finding, not a status); `expiresAt` and `lastUsedAt` are carried as times.
#[tokio::test]
async fn expiry_decides_the_status_and_last_use_is_carried() {
    let (server, url) = start(Server::new("MD5", 0)).await;
    let ob = provider(&url, SK);
    let now = chrono::Utc::now();
    let rfc = |d: chrono::TimeDelta| (now + d).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let plain = |d: chrono::TimeDelta| (now + d).format("%Y-%m-%d %H:%M:%S").to_string();
    let days = chrono::TimeDelta::days;
    let list = json!([
        {"id": "ak-past", "name": "a", "expiresAt": rfc(-days(1)), "lastUsedAt": "2025-10-29T23:59:00Z"},
        {"id": "ak-soon", "name": "b", "expiresAt": plain(days(2))},
        {"id": "ak-later", "name": "c", "expiresAt": rfc(days(90))},
        {"id": "ak-millis", "name": "d", "expiresAt": (now - days(3)).timestamp_millis()},
        {"id": "ak-never", "name": "e", "expiresAt": ""},
    ]);
    server
        .faults
        .lock()
        .unwrap()
        .push_back((200, envelope(json!({"list": list, "total": 5}), "srv-1")));
    let items = ob.list().await.unwrap();
    let status: Vec<(&str, Status)> = items.iter().map(|i| (i.key.id.as_str(), i.status)).collect();
    assert_eq!(
        status,
        vec![
            ("ak-past", Status::Expired),
            ("ak-soon", Status::Active),
            ("ak-later", Status::Active),
            ("ak-millis", Status::Expired),
            ("ak-never", Status::Active),
        ]
    );
    let second = |t: chrono::DateTime<chrono::Utc>| t.timestamp();
    assert_eq!(
        items[1].expires.map(second),
        Some(second(now + days(2))),
        "zoneless is UTC"
    );
    assert_eq!(
        items[3].expires,
        chrono::DateTime::from_timestamp_millis((now - days(3)).timestamp_millis())
    );
    assert_eq!(items[4].expires, None);
    assert!(
        items.iter().all(|i| i.description.is_empty()),
        "the expiry is not text any more"
    );
    assert_eq!(items[0].last_used, Some(ts("2025-10-29T23:59:00Z")));
    assert_eq!(items[1].last_used, None);
    assert_eq!(Status::Expired.label(), "expired");
}

/// An `expiresAt` keyward cannot read fails the listing with the key, the field and the
/// value: shown as "no expiry", an expired key would pass for a usable one.
#[tokio::test]
async fn an_unreadable_time_fails_the_listing_naming_key_field_and_value() {
    let (server, url) = start(Server::new("MD5", 0)).await;
    let ob = provider(&url, SK);
    let list = json!([
        {"id": "ak-fine", "name": "a", "expiresAt": "2030-01-01T00:00:00Z"},
        {"id": "ak-odd", "name": "f", "expiresAt": "next spring"},
    ]);
    server
        .faults
        .lock()
        .unwrap()
        .push_back((200, envelope(json!({"list": list, "total": 2}), "srv-odd")));
    let err = ob.list().await.unwrap_err();
    assert_eq!(err.kind, keyward::providers::ErrorKind::Protocol);
    assert_eq!(err.request_id.as_deref(), Some("srv-odd"));
    assert!(
        err.message
            .starts_with("GET /api/v2/maas/apikeys: key ak-odd: expiresAt \"next spring\" is not "),
        "{}",
        err.message
    );
}
