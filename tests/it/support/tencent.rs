//! A tiny in-process Tencent Cloud API 3.0 server for the client and provider tests:
//! verifies every request's TC3 signature with the crate's signer, records what it saw,
//! and answers whatever the test's handler says.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use keyward::providers::tencent::client::{ClientOptions, Credentials, ServiceSpec, TencentClient};
use keyward::providers::tencent::sign::{self, SignInput};
use keyward::secret::Secret;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const SECRET_ID: &str = "AKIDkeywardtest0000000000000000000000";
pub const SECRET_KEY: &str = "keyward-test-secret-key-000000000000";

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub action: String,
    pub region: String,
    pub version: String,
    pub host: String,
    /// `X-TC-Language`, empty when absent.
    pub language: String,
    pub token: Option<String>,
    pub params: Value,
    pub at: Instant,
}

/// What the handler wants sent back.
pub enum Reply {
    /// `Response` fields; the fake adds the RequestId.
    Ok(Value),
    /// `Response.Error` with this code and message, HTTP 200 as Tencent does.
    Error(&'static str, &'static str),
    /// A raw HTTP answer, no envelope.
    Raw(u16, String),
    /// Wait this long, then answer `Ok({})`.
    Hang(Duration),
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

pub struct FakeState {
    service: &'static str,
    version: &'static str,
    handler: Box<Handler>,
    pub seen: Mutex<Vec<Seen>>,
}

impl FakeState {
    fn new(spec: ServiceSpec, handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Arc<FakeState> {
        Arc::new(FakeState {
            service: spec.service,
            version: spec.version,
            handler: Box::new(handler),
            seen: Mutex::new(Vec::new()),
        })
    }
}

pub struct Fake {
    pub addr: SocketAddr,
    pub state: Arc<FakeState>,
}

impl Fake {
    pub async fn start(spec: ServiceSpec, handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::serve(listener, spec, handler)
    }

    pub fn serve(
        listener: tokio::net::TcpListener,
        spec: ServiceSpec,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> Fake {
        let addr = listener.local_addr().unwrap();
        let state = FakeState::new(spec, handler);
        let app = Router::new().route("/", post(answer)).with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Fake { addr, state }
    }

    /// The same fake behind TLS with a fresh self-signed certificate for 127.0.0.1 and
    /// localhost; returns the certificate's PEM for `ClientOptions::extra_root_ca_pem`.
    pub async fn start_tls(
        spec: ServiceSpec,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> (Fake, Vec<u8>) {
        Self::start_tls_for(spec, &["127.0.0.1", "localhost"], handler).await
    }

    /// The TLS fake with a certificate for `names` only.
    pub async fn start_tls_for(
        spec: ServiceSpec,
        names: &[&str],
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> (Fake, Vec<u8>) {
        let (listener, config, cert_pem) = super::tls::self_signed_listener_for(names).await;
        let addr = listener.local_addr().unwrap();
        let state = FakeState::new(spec, handler);
        let app = Router::new().route("/", post(answer)).with_state(state.clone());
        let server = axum_server::from_tcp_rustls(listener, config);
        tokio::spawn(async move { server.serve(app.into_make_service()).await });
        (Fake { addr, state }, cert_pem)
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    pub fn actions(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.action).collect()
    }

    /// Test options: short timeout, given retries.
    pub fn options(&self, max_retries: u32) -> ClientOptions {
        ClientOptions {
            endpoint: Some(self.endpoint()),
            timeout: Duration::from_secs(2),
            max_retries,
            ..ClientOptions::default()
        }
    }

    pub fn client(&self, spec: ServiceSpec, max_retries: u32) -> Arc<TencentClient> {
        Arc::new(client_for(spec, self.options(max_retries), creds(None)))
    }
}

pub fn creds(token: Option<&str>) -> Credentials {
    Credentials {
        secret_id: SECRET_ID.into(),
        secret_key: Secret::new(SECRET_KEY),
        token: token.map(Secret::new),
    }
}

/// A client with millisecond backoff so retry tests stay fast.
pub fn client_for(spec: ServiceSpec, opts: ClientOptions, creds: Credentials) -> TencentClient {
    TencentClient::new(spec, creds, opts)
        .unwrap()
        .with_backoff(Duration::from_millis(5), Duration::from_millis(20))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn envelope(request_id: &str, mut fields: Value) -> Response {
    fields["RequestId"] = Value::String(request_id.to_string());
    (StatusCode::OK, axum::Json(json!({ "Response": fields }))).into_response()
}

fn error(request_id: &str, code: &str, message: &str) -> Response {
    envelope(request_id, json!({ "Error": { "Code": code, "Message": message } }))
}

/// Why the request's signature is wrong, or None when it verifies.
fn signature_problem(state: &FakeState, headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let auth = sign::parse_authorization(header(headers, "authorization"))?;
    let Ok(timestamp) = header(headers, "x-tc-timestamp").parse::<i64>() else {
        return Some("bad X-TC-Timestamp".into());
    };
    if auth.secret_id != SECRET_ID {
        return Some(format!("unknown SecretId {}", auth.secret_id));
    }
    if auth.service != state.service || auth.signed_headers != sign::SIGNED_HEADERS {
        return Some("wrong credential scope".into());
    }
    let expected = sign::sign(&SignInput {
        secret_id: SECRET_ID,
        secret_key: SECRET_KEY,
        service: state.service,
        host: header(headers, "host"),
        content_type: header(headers, "content-type"),
        payload: body,
        timestamp,
    });
    (expected.authorization != header(headers, "authorization")).then(|| "signature mismatch".to_string())
}

async fn answer(State(state): State<Arc<FakeState>>, headers: HeaderMap, body: Bytes) -> Response {
    let seen = Seen {
        action: header(&headers, "x-tc-action").to_string(),
        region: header(&headers, "x-tc-region").to_string(),
        version: header(&headers, "x-tc-version").to_string(),
        host: header(&headers, "host").to_string(),
        language: header(&headers, "x-tc-language").to_string(),
        token: headers
            .get("x-tc-token")
            .map(|v| v.to_str().unwrap_or_default().to_string()),
        params: serde_json::from_slice(&body).unwrap_or(Value::Null),
        at: Instant::now(),
    };
    let request_id = {
        let mut all = state.seen.lock().unwrap();
        all.push(seen.clone());
        format!("req-{}", all.len())
    };
    if header(&headers, "authorization").is_empty()
        || sign::parse_authorization(header(&headers, "authorization")).is_none()
    {
        return error(
            &request_id,
            "AuthFailure.SignatureFailure",
            "missing or malformed Authorization",
        );
    }
    if let Some(problem) = signature_problem(&state, &headers, &body) {
        let code = if problem.starts_with("unknown SecretId") {
            "AuthFailure.SecretIdNotFound"
        } else {
            "AuthFailure.SignatureFailure"
        };
        return error(&request_id, code, "The provided credentials could not be validated.");
    }
    if seen.version != state.version || header(&headers, "content-type") != sign::CONTENT_TYPE {
        return error(&request_id, "InvalidParameter", "wrong version or content type");
    }
    match (state.handler)(&seen) {
        Reply::Ok(fields) => envelope(&request_id, fields),
        Reply::Error(code, message) => error(&request_id, code, message),
        Reply::Raw(status, body) => (StatusCode::from_u16(status).unwrap(), body).into_response(),
        Reply::Hang(d) => {
            tokio::time::sleep(d).await;
            envelope(&request_id, json!({}))
        }
    }
}
