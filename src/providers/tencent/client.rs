//! The Tencent Cloud API 3.0 JSON client: one POST per action, signed with TC3
//! (`sign.rs`), paced per action by a client-side rate limiter and by the learned account
//! and IP limits (`throttle.rs`), retried only when retrying is safe, and every answer
//! mapped into the `{"Response": ...}` envelope or a typed `ProviderError` that carries the
//! RequestId whenever the server sent one.

use super::sign::{self, CONTENT_TYPE, SignInput};
use super::sts::{self, RoleSession};
use super::throttle::{self, Guards};
use crate::providers::http::{
    BodyError, ConnectTo, HttpSettings, MAX_BODY_BYTES, Retry, SharedHttp, client_builder, error_chain, excerpt,
    parse_with_transport_rule, read_body_capped,
};
use crate::providers::{ErrorKind, ProviderError};
use crate::secret::Secret;
use governor::clock::Clock as _;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE as CONTENT_TYPE_HEADER, HOST, HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Keyward's own error codes for failures that never got a Tencent error code.
pub mod codes {
    /// The TCP/TLS connection could not be opened: the request was certainly not sent.
    pub const CONNECT_FAILED: &str = crate::providers::CONNECT_FAILED;
    pub const TRANSPORT: &str = "Transport";
    pub const TIMEOUT: &str = "Timeout";
    pub const PROTOCOL: &str = "Protocol";
}

/// Fraction of the documented per-second limit the client sends at. See `action_quota`.
const RATE_HEADROOM: f64 = 0.95;

/// One Tencent Cloud credential. `token` is the session token of temporary credentials.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub secret_id: String,
    pub secret_key: Secret,
    pub token: Option<Secret>,
}

/// Where a client's credentials come from: a fixed pair (an access key, or temporary
/// credentials handed in with their token), or an assumed role whose temporary
/// credentials one [`RoleSession`] per account fetches and refreshes. Read at every
/// attempt, so a queued or retried call is signed with the credentials current when sent.
#[derive(Debug, Clone)]
pub enum CredentialSource {
    Static(Credentials),
    Role(Arc<RoleSession>),
}

impl From<Credentials> for CredentialSource {
    fn from(c: Credentials) -> Self {
        CredentialSource::Static(c)
    }
}

impl From<Arc<RoleSession>> for CredentialSource {
    fn from(r: Arc<RoleSession>) -> Self {
        CredentialSource::Role(r)
    }
}

impl CredentialSource {
    async fn current(&self) -> Result<Credentials, ProviderError> {
        match self {
            CredentialSource::Static(c) => Ok(c.clone()),
            CredentialSource::Role(r) => r.current().await,
        }
    }
}

/// The fixed facts of one Tencent Cloud service.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSpec {
    pub service: &'static str,
    pub version: &'static str,
    pub default_endpoint: &'static str,
    /// Documented limit, requests per second per action (every action of the service,
    /// unless `action_rate` names another figure for it).
    pub rate_per_second: u32,
    /// A service whose pages document a different limit per action (CAM: 20/s for the
    /// lists, 5/s for the writes) gives its module's rule here; `None` is one figure for all.
    pub action_rate: Option<fn(&str) -> u32>,
}

impl ServiceSpec {
    /// The documented requests per second of `action`.
    pub fn rate_of(&self, action: &str) -> u32 {
        self.action_rate.map_or(self.rate_per_second, |rate| rate(action))
    }
}

/// API Gateway: "A maximum of 20 requests can be initiated per second for this API."
pub const APIGATEWAY: ServiceSpec = ServiceSpec {
    service: "apigateway",
    version: "2018-08-08",
    default_endpoint: "https://apigateway.tencentcloudapi.com",
    rate_per_second: 20,
    action_rate: None,
};

/// CVM key pairs: "A maximum of 10 requests can be initiated per second for this API."
pub const CVM: ServiceSpec = ServiceSpec {
    service: "cvm",
    version: "2017-03-12",
    default_endpoint: "https://cvm.tencentcloudapi.com",
    rate_per_second: 10,
    action_rate: None,
};

/// CAM access keys: global (no region hosts, no X-TC-Region), a limit per action
/// (`cam::rate_per_second`); `rate_per_second` is that of the list calls, which a
/// listing sends most of.
pub const CAM: ServiceSpec = ServiceSpec {
    service: super::cam::SERVICE,
    version: super::cam::VERSION,
    default_endpoint: "https://cam.tencentcloudapi.com",
    rate_per_second: 20,
    action_rate: Some(super::cam::rate_per_second),
};

/// Retries after a `RequestLimitExceeded*` refusal, apart from `max_retries`: a refused
/// request certainly did not apply, and the learned limits need a few refusals to settle.
pub const DEFAULT_THROTTLE_RETRIES: u32 = 8;

/// The language of the service's messages (`X-TC-Language`), `[settings] language`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
pub enum Language {
    #[default]
    #[serde(rename = "en-US")]
    EnUs,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Language {
    /// The header value, as the API spells it.
    pub fn tag(self) -> &'static str {
        match self {
            Language::EnUs => "en-US",
            Language::ZhCn => "zh-CN",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Base URL: an override (the emulator), or `https://<host>` from `endpoint::choose`;
    /// `None` is the service's nearest-access host. Plain `http` is refused unless the host
    /// is loopback, so credentials and secrets never cross a network unencrypted.
    pub endpoint: Option<String>,
    /// Per attempt, from connecting until the whole body is read.
    pub timeout: Duration,
    /// Extra attempts after the first, for errors other than throttling that are safe to retry.
    pub max_retries: u32,
    /// Extra attempts after a `RequestLimitExceeded*` refusal, reads and writes alike.
    pub throttle_retries: u32,
    /// A PEM certificate to trust in addition to the system roots (the emulator's self-signed one).
    pub extra_root_ca_pem: Option<Vec<u8>>,
    /// `[settings] connect_to`: connect here, keep the real host everywhere else.
    pub connect_to: Option<ConnectTo>,
    pub language: Language,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            endpoint: None,
            timeout: Duration::from_secs(15),
            max_retries: 3,
            throttle_retries: DEFAULT_THROTTLE_RETRIES,
            extra_root_ca_pem: None,
            connect_to: None,
            language: Language::default(),
        }
    }
}

impl ClientOptions {
    /// What the HTTP connection pool depends on (see `http::HttpPool`).
    pub fn http_settings(&self) -> HttpSettings {
        HttpSettings {
            timeout: self.timeout,
            extra_root_ca_pem: self.extra_root_ca_pem.clone(),
            connect_to: self.connect_to.clone(),
        }
    }
}

/// The `reqwest::Client` Tencent clients use; `http::HttpPool` shares one per settings.
pub fn http_client(settings: &HttpSettings) -> Result<reqwest::Client, ProviderError> {
    client_builder(settings.extra_root_ca_pem.as_deref(), settings.connect_to.as_ref())?
        .connect_timeout(settings.timeout)
        // Redirects would re-post a signed body to another host.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            ProviderError::new(
                ErrorKind::Transport,
                codes::TRANSPORT,
                format!("cannot build the HTTP client: {}", error_chain(&e)),
            )
        })
}

/// One client per (account, service, host), shared by the regions reached through that
/// host via an `Arc`: Tencent counts the per-action limit per (action, access region of
/// the host, SecretId), so each client paces its own actions. The HTTP pool and the
/// account/IP guards are shared more widely and only referenced here.
pub struct TencentClient {
    spec: ServiceSpec,
    creds: CredentialSource,
    http: SharedHttp,
    url: Url,
    /// The Host header exactly as sent and signed (`host[:port]`, port only when not default).
    host: String,
    /// One pacer per action, made at its first call with that action's documented rate
    /// (`ServiceSpec::rate_of`): Tencent counts each action's limit on its own.
    limiters: Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
    guards: Guards,
    language: Language,
    timeout: Duration,
    max_retries: u32,
    throttle_retries: u32,
    backoff_base: Duration,
    backoff_cap: Duration,
}

impl std::fmt::Debug for TencentClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TencentClient")
            .field("service", &self.spec.service)
            .field("endpoint", &self.url.as_str())
            .field("secret_id", &self.secret_id())
            .finish_non_exhaustive()
    }
}

/// The pace for one action. Tencent counts requests per (SecretId, action) per second (the
/// emulator models it as a token bucket of capacity = rate refilled at rate/s). The client
/// sends one request every 1/(0.95·rate) s with no burst:
/// - no burst keeps the server's bucket almost full, so up to ~1 s of network jitter
///   (requests bunching up on arrival) is absorbed and RequestLimitExceeded never shows in
///   normal use; a client burst equal to the capacity would leave zero slack;
/// - 95 % of the rate keeps even a fixed one-second-window counter below the limit when
///   arrivals jitter, while bulk throughput stays at 0.95 of the limit (>= 0.9 required).
fn action_quota(rate_per_second: u32) -> Option<Quota> {
    if rate_per_second == 0 {
        return None;
    }
    Quota::with_period(Duration::from_secs_f64(
        1.0 / (f64::from(rate_per_second) * RATE_HEADROOM),
    ))
}

/// The clock every pacer reads. governor's default clock (quanta) calibrates itself when
/// made, which a fleet of thousands of clients, each making one per action, paid thousands
/// of times; clones share one calibration.
static PACING_CLOCK: std::sync::LazyLock<governor::clock::DefaultClock> =
    std::sync::LazyLock::new(governor::clock::DefaultClock::default);

/// Wait until `limiter` lets one request go, sleeping on the runtime's timer. governor's
/// own `until_ready` sleeps on a separate futures-timer thread, so every paced call paid a
/// cross-thread wake-up (thousands per second when many accounts list at once).
async fn pace(limiter: &DefaultDirectRateLimiter) {
    while let Err(not_until) = limiter.check() {
        tokio::time::sleep(not_until.wait_time_from(limiter.clock().now())).await;
    }
}

/// The base URL to post to and the Host header to sign. Unlike a configured endpoint, a
/// query or fragment is tolerated here and dropped.
fn parse_endpoint(endpoint: &str) -> Result<(Url, String), ProviderError> {
    let url = parse_with_transport_rule(endpoint).map_err(ProviderError::invalid)?;
    let Some(host) = url.host_str() else {
        return Err(ProviderError::invalid(format!("endpoint {endpoint} has no host")));
    };
    // `Url::port()` is None for the scheme's default port, which is exactly when HTTP
    // clients leave the port out of the Host header.
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    // API 3.0 always posts to "/" (the signer's canonical URI is fixed to it).
    let mut base = url;
    base.set_path("/");
    base.set_query(None);
    base.set_fragment(None);
    Ok((base, host))
}

fn header(value: &str, what: &str) -> Result<HeaderValue, ProviderError> {
    HeaderValue::from_str(value)
        .map_err(|_| ProviderError::invalid(format!("{what} contains characters not allowed in an HTTP header")))
}

/// Maps a Tencent error code onto the retry-relevant kind.
pub fn kind_for_code(code: &str) -> ErrorKind {
    if code.starts_with("AuthFailure") {
        ErrorKind::Auth
    } else if code.starts_with("RequestLimitExceeded") {
        ErrorKind::RateLimited
    } else if code.starts_with("InternalError") || code == "InternalServerError" {
        ErrorKind::Server
    } else {
        ErrorKind::Api
    }
}

/// Turns one HTTP answer into the `Response` object and its RequestId, or an error.
fn parse_envelope(status: u16, body: &[u8], action: &str) -> Result<(Value, String), ProviderError> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let response = parsed
        .as_ref()
        .and_then(|v| v.get("Response"))
        .filter(|r| r.is_object());
    let Some(response) = response else {
        let what = match &parsed {
            Some(Value::Object(map)) => format!(
                "JSON without a \"Response\" object (top-level keys: {})",
                // Keys come from the server: cap them like any other quoted body text.
                excerpt(map.keys().take(10).cloned().collect::<Vec<_>>().join(", ").as_bytes())
            ),
            Some(_) => "JSON that is not an object".to_string(),
            None => format!("a non-JSON body: {:?}", excerpt(body)),
        };
        let (kind, code) = match status {
            500..=599 => (ErrorKind::Server, format!("HttpStatus{status}")),
            429 => (ErrorKind::RateLimited, format!("HttpStatus{status}")),
            _ => (ErrorKind::Protocol, codes::PROTOCOL.to_string()),
        };
        return Err(ProviderError::new(
            kind,
            code,
            format!(
                "{action} got HTTP {status} with {what}; expected the Tencent Cloud API 3.0 envelope \
                 {{\"Response\": ...}}: check the endpoint"
            ),
        ));
    };
    let request_id = response.get("RequestId").and_then(Value::as_str).map(str::to_string);
    if let Some(error) = response.get("Error") {
        let code = error.get("Code").and_then(Value::as_str);
        let message = error.get("Message").and_then(Value::as_str).unwrap_or("");
        return Err(match code {
            Some(code) => ProviderError::new(kind_for_code(code), code, message),
            None => ProviderError::new(
                ErrorKind::Protocol,
                codes::PROTOCOL,
                format!("{action} answered Response.Error without a Code (HTTP {status})"),
            ),
        }
        .with_request_id(request_id));
    }
    let Some(request_id) = request_id else {
        return Err(ProviderError::new(
            ErrorKind::Protocol,
            codes::PROTOCOL,
            format!("{action} answered HTTP {status} with a Response that has no RequestId"),
        ));
    };
    if !(200..300).contains(&status) {
        let kind = if status >= 500 {
            ErrorKind::Server
        } else {
            ErrorKind::Protocol
        };
        return Err(ProviderError::new(
            kind,
            format!("HttpStatus{status}"),
            format!("{action} answered HTTP {status} with a Response that has no Error"),
        )
        .with_request_id(Some(request_id)));
    }
    Ok((response.clone(), request_id))
}

impl TencentClient {
    /// A client with its own HTTP pool and its own guards, sharing nothing.
    pub fn new(
        spec: ServiceSpec,
        creds: impl Into<CredentialSource>,
        opts: ClientOptions,
    ) -> Result<Self, ProviderError> {
        let http = SharedHttp::new(http_client(&opts.http_settings())?);
        Self::shared(spec, creds, opts, http, Guards::standalone())
    }

    /// A client over a shared HTTP client (`opts`' timeout, CA and connect_to must be the
    /// ones `http` was built with) and its account's guards.
    pub fn shared(
        spec: ServiceSpec,
        creds: impl Into<CredentialSource>,
        opts: ClientOptions,
        http: SharedHttp,
        guards: Guards,
    ) -> Result<Self, ProviderError> {
        let creds = creds.into();
        if let CredentialSource::Static(creds) = &creds
            && (creds.secret_id.is_empty() || creds.secret_key.is_empty())
        {
            return Err(ProviderError::invalid(format!(
                "{} credentials are incomplete: both a SecretId and a SecretKey are needed",
                spec.service
            )));
        }
        if action_quota(spec.rate_per_second).is_none() {
            return Err(ProviderError::invalid(format!(
                "{} rate_per_second must be at least 1",
                spec.service
            )));
        }
        let endpoint = opts.endpoint.as_deref().unwrap_or(spec.default_endpoint);
        let (url, host) = parse_endpoint(endpoint)?;
        guards.add_capacity(f64::from(spec.rate_per_second));
        Ok(TencentClient {
            spec,
            creds,
            http,
            url,
            host,
            limiters: Mutex::new(HashMap::new()),
            guards,
            language: opts.language,
            timeout: opts.timeout,
            max_retries: opts.max_retries,
            throttle_retries: opts.throttle_retries,
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(8),
        })
    }

    /// Changes the retry backoff (first delay and ceiling); tests use milliseconds.
    pub fn with_backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_cap = cap.max(base);
        self
    }

    pub fn spec(&self) -> ServiceSpec {
        self.spec
    }

    /// The SecretId of a fixed pair; empty for an assumed role, whose temporary SecretIds
    /// are no CAM access key of anyone.
    pub fn secret_id(&self) -> &str {
        match &self.creds {
            CredentialSource::Static(c) => &c.secret_id,
            CredentialSource::Role(_) => "",
        }
    }

    /// The assumed role this client signs for, if any.
    pub fn role(&self) -> Option<&Arc<RoleSession>> {
        match &self.creds {
            CredentialSource::Role(r) => Some(r),
            CredentialSource::Static(_) => None,
        }
    }

    /// The Host header this client sends and signs.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// POST JSON; returns the parsed `Response` object (RequestId included) and its RequestId.
    pub async fn call(
        &self,
        region: &str,
        action: &str,
        params: &Value,
        retry: Retry,
    ) -> Result<(Value, String), ProviderError> {
        let payload = serde_json::to_vec(params)
            .map_err(|e| ProviderError::invalid(format!("{action} parameters cannot be encoded as JSON: {e}")))?;
        let limiter = self.limiter(action)?;
        let (mut retries, mut throttled) = (0u32, 0u32);
        let mut creds = self.creds.current().await.map_err(|e| e.in_action(action))?;
        let mut token_refreshed = false;
        loop {
            // Every attempt, retries included, counts against the service's limits.
            pace(&limiter).await;
            self.guards.acquire().await;
            // Read again after the waits: a refresh by another call meanwhile is picked up,
            // and a token that came close to its end while queued is replaced before sending.
            if let CredentialSource::Role(_) = &self.creds {
                creds = self.creds.current().await.map_err(|e| e.in_action(action))?;
            }
            let sent_at = Instant::now();
            // Traced: the action, where it went and how it ended; never `params` nor the
            // answer (a rotation's carry the new secret).
            let err = match self.attempt(region, action, &payload, &creds).await {
                Ok(answer) => {
                    tracing::debug!(action, region, host = %self.host, request_id = %answer.1, "Tencent call answered");
                    return Ok(answer);
                }
                Err(err) => err,
            };
            // A throttling refusal certainly did not apply: reads and writes alike are
            // retried, on a budget of their own, after telling the guard of that limit.
            if let Some(limit) = throttle::limit_of(&err.code) {
                self.guards.throttled(limit, sent_at, Instant::now());
                if throttled >= self.throttle_retries {
                    let attempts = throttled + 1;
                    return Err(throttle::exhausted(err, limit, attempts, &self.host).in_action(action));
                }
                let delay = self.backoff(throttled);
                tracing::debug!(action, region, host = %self.host, throttled, code = %err.code, ?delay, "Tencent throttled the call; backing off");
                tokio::time::sleep(delay).await;
                throttled += 1;
                continue;
            }
            // A token refused as expired or unknown: one refresh and one resend, for writes
            // too. The service authenticates a request before it runs the action, so an
            // AuthFailure answer means the action certainly did not apply.
            if err.code == sts::TOKEN_FAILURE
                && !token_refreshed
                && let CredentialSource::Role(role) = &self.creds
            {
                tracing::debug!(action, region, host = %self.host, "session token refused; assuming the role again");
                creds = role
                    .refresh_after_refusal(&creds)
                    .await
                    .map_err(|e| e.in_action(action))?;
                token_refreshed = true;
                continue;
            }
            if retries < self.max_retries && retry.allows(&err) {
                let delay = self.backoff(retries);
                tracing::debug!(action, region, retries, code = %err.code, ?delay, "retrying Tencent call");
                tokio::time::sleep(delay).await;
                retries += 1;
                continue;
            }
            tracing::debug!(action, region, host = %self.host, code = %err.code, request_id = ?err.request_id, "Tencent call failed");
            // Every error names its action, the service's own messages included.
            return Err(err.in_action(action));
        }
    }

    /// The pacer of `action`, made on its first call.
    fn limiter(&self, action: &str) -> Result<Arc<DefaultDirectRateLimiter>, ProviderError> {
        let mut limiters = self.limiters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(limiter) = limiters.get(action) {
            return Ok(Arc::clone(limiter));
        }
        let Some(quota) = action_quota(self.spec.rate_of(action)) else {
            return Err(ProviderError::invalid(format!(
                "{action}: the {} rate for this action must be at least 1 request per second",
                self.spec.service
            )));
        };
        let limiter = Arc::new(RateLimiter::direct_with_clock(quota, PACING_CLOCK.clone()));
        limiters.insert(action.to_string(), Arc::clone(&limiter));
        Ok(limiter)
    }

    /// Exponential backoff with "equal jitter": half fixed, half random, so concurrent
    /// retries spread out but never come back immediately.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.backoff_base.saturating_mul(2u32.saturating_pow(attempt.min(16)));
        let delay = exp.min(self.backoff_cap);
        let half = delay / 2;
        let jitter_ms = rand::rng().random_range(0..=half.as_millis().min(u128::from(u64::MAX)) as u64);
        half + Duration::from_millis(jitter_ms)
    }

    fn headers(
        &self,
        region: &str,
        action: &str,
        payload: &[u8],
        creds: &Credentials,
    ) -> Result<HeaderMap, ProviderError> {
        // A fresh timestamp per attempt: a retry after a long backoff must not be signed
        // with a time the service already considers expired.
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign::sign(&SignInput {
            secret_id: &creds.secret_id,
            secret_key: creds.secret_key.expose(),
            service: self.spec.service,
            host: &self.host,
            content_type: CONTENT_TYPE,
            payload,
            timestamp,
        });
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE_HEADER, HeaderValue::from_static(CONTENT_TYPE));
        headers.insert(HOST, header(&self.host, "endpoint host")?);
        headers.insert("X-TC-Action", header(action, "action")?);
        headers.insert("X-TC-Version", HeaderValue::from_static(self.spec.version));
        // A global service (CAM: "Region: this parameter is not required for this API")
        // is called with an empty region, and then sends none.
        if !region.is_empty() {
            headers.insert("X-TC-Region", header(region, "region")?);
        }
        headers.insert("X-TC-Timestamp", HeaderValue::from(timestamp));
        // Not signed: TC3 signs only content-type and host.
        headers.insert("X-TC-Language", HeaderValue::from_static(self.language.tag()));
        if let Some(token) = &creds.token {
            let mut value = header(token.expose(), "session token")?;
            value.set_sensitive(true);
            headers.insert("X-TC-Token", value);
        }
        let mut auth = header(&signature.authorization, "SecretId")?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        Ok(headers)
    }

    async fn attempt(
        &self,
        region: &str,
        action: &str,
        payload: &[u8],
        creds: &Credentials,
    ) -> Result<(Value, String), ProviderError> {
        let headers = self.headers(region, action, payload, creds)?;
        // Kept until the answer is read: see `SharedHttp`.
        let _first = self.http.first_contact(&self.host).await;
        let request = self
            .http
            .client
            .post(self.url.clone())
            .headers(headers)
            .timeout(self.timeout)
            .body(payload.to_vec());
        let mut response = request.send().await.map_err(|e| self.transport_error(action, &e))?;
        let status = response.status().as_u16();
        let body = read_body_capped(&mut response, MAX_BODY_BYTES)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge { limit } => BodyError::too_large(action, limit),
                BodyError::Transport(e) => self.transport_error(action, &e),
            })?;
        parse_envelope(status, &body, action)
    }

    fn transport_error(&self, action: &str, err: &reqwest::Error) -> ProviderError {
        let detail = error_chain(err);
        if err.is_connect() {
            ProviderError::new(
                ErrorKind::Transport,
                codes::CONNECT_FAILED,
                format!(
                    "{action}: cannot connect to {} ({detail}); the request was not sent. Check the endpoint and network",
                    self.url
                ),
            )
        } else if err.is_timeout() {
            ProviderError::new(
                ErrorKind::Timeout,
                codes::TIMEOUT,
                format!(
                    "{action}: no complete answer from {} within {:?}; the call may or may not have taken effect, \
                     refresh before repeating it",
                    self.host, self.timeout
                ),
            )
        } else {
            ProviderError::new(
                ErrorKind::Transport,
                codes::TRANSPORT,
                format!(
                    "{action}: connection to {} failed ({detail}); the call may or may not have taken effect",
                    self.host
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline_creds() -> Credentials {
        Credentials {
            secret_id: "AKIDtest".into(),
            secret_key: Secret::new("test-key"),
            token: None,
        }
    }

    fn offline(spec: ServiceSpec) -> TencentClient {
        TencentClient::new(spec, offline_creds(), ClientOptions::default()).unwrap()
    }

    /// A global service is called with an empty region and sends no X-TC-Region
    /// ("Region: this parameter is not required for this API"); a regional one sends it.
    #[test]
    fn an_empty_region_sends_no_region_header() {
        let creds = offline_creds();
        let cam = offline(CAM).headers("", "ListUsers", b"{}", &creds).unwrap();
        assert!(cam.get("X-TC-Region").is_none());
        assert_eq!(cam.get("X-TC-Version").unwrap(), super::super::cam::VERSION);
        let cvm = offline(CVM)
            .headers("ap-guangzhou", "DescribeKeyPairs", b"{}", &creds)
            .unwrap();
        assert_eq!(cvm.get("X-TC-Region").unwrap(), "ap-guangzhou");
    }

    /// Each action gets its own pacer at its own documented rate, made once.
    #[test]
    fn each_action_is_paced_at_its_own_rate() {
        let client = offline(CAM);
        let a = client.limiter("CreateAccessKey").unwrap();
        let b = client.limiter("CreateAccessKey").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let list = client.limiter("ListAccessKeys").unwrap();
        assert!(!Arc::ptr_eq(&a, &list));
        // A 5/s pacer has no burst: a second request at once is refused, as is the 2nd of 20/s.
        assert!(a.check().is_ok() && a.check().is_err());
        assert!(list.check().is_ok() && list.check().is_err());
        assert_eq!(client.limiters.lock().unwrap().len(), 2);
    }

    #[test]
    fn error_codes_map_to_kinds() {
        assert_eq!(kind_for_code("AuthFailure.SignatureFailure"), ErrorKind::Auth);
        assert_eq!(kind_for_code("RequestLimitExceeded"), ErrorKind::RateLimited);
        assert_eq!(
            kind_for_code("RequestLimitExceeded.UinLimitExceeded"),
            ErrorKind::RateLimited
        );
        assert_eq!(kind_for_code("InternalError.OssException"), ErrorKind::Server);
        assert_eq!(kind_for_code("InternalServerError"), ErrorKind::Server);
        assert_eq!(kind_for_code("UnsupportedOperation.ResourceIsInUse"), ErrorKind::Api);
    }

    #[test]
    fn endpoints_keep_non_default_ports_in_host() {
        let (url, host) = parse_endpoint("http://127.0.0.1:8080/ignored?x=1").unwrap();
        assert_eq!(host, "127.0.0.1:8080");
        assert_eq!(url.as_str(), "http://127.0.0.1:8080/");
        let (_, host) = parse_endpoint("https://cvm.tencentcloudapi.com:443").unwrap();
        assert_eq!(host, "cvm.tencentcloudapi.com");
        let (_, host) = parse_endpoint("http://[::1]:9/").unwrap();
        assert_eq!(host, "[::1]:9");
        assert!(parse_endpoint("http://localhost:1").is_ok());
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        let err = parse_endpoint("http://10.0.0.1:8080").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Invalid);
        assert!(err.message.contains("https"), "{}", err.message);
        assert!(parse_endpoint("ftp://127.0.0.1").is_err());
        assert!(parse_endpoint("not a url").is_err());
    }

    #[test]
    fn envelope_errors_keep_the_request_id() {
        let body = br#"{"Response":{"Error":{"Code":"ResourceIsInUse","Message":"bound"},"RequestId":"r-1"}}"#;
        let err = parse_envelope(200, body, "DeleteApiKey").unwrap_err();
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Api, "ResourceIsInUse"));
        assert_eq!(err.request_id.as_deref(), Some("r-1"));
        let (resp, id) = parse_envelope(200, br#"{"Response":{"Result":true,"RequestId":"r-2"}}"#, "X").unwrap();
        assert_eq!(id, "r-2");
        assert_eq!(resp["Result"], true);
    }

    #[test]
    fn unexpected_bodies_are_protocol_errors_with_a_capped_quote() {
        let huge = "x".repeat(10_000);
        let err = parse_envelope(200, huge.as_bytes(), "DescribeKeyPairs").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol);
        assert!(err.message.len() < 600, "{}", err.message.len());
        let err = parse_envelope(502, b"<html>bad gateway</html>", "X").unwrap_err();
        assert_eq!((err.kind, err.code.as_str()), (ErrorKind::Server, "HttpStatus502"));
        let err = parse_envelope(200, br#"{"Response":{"Result":1}}"#, "X").unwrap_err();
        assert!(err.message.contains("RequestId"), "{}", err.message);
        let err = parse_envelope(200, br#"{"data":1}"#, "X").unwrap_err();
        assert!(err.message.contains("data"), "{}", err.message);
    }

    #[test]
    fn write_retries_only_what_certainly_did_not_happen() {
        let e = |kind, code: &str| ProviderError::new(kind, code, "");
        assert!(Retry::Write.allows(&e(ErrorKind::RateLimited, "RequestLimitExceeded")));
        assert!(Retry::Write.allows(&e(ErrorKind::Transport, codes::CONNECT_FAILED)));
        assert!(!Retry::Write.allows(&e(ErrorKind::Transport, codes::TRANSPORT)));
        assert!(!Retry::Write.allows(&e(ErrorKind::Timeout, codes::TIMEOUT)));
        assert!(!Retry::Write.allows(&e(ErrorKind::Server, "InternalError")));
        assert!(!Retry::Write.allows(&e(ErrorKind::Auth, "AuthFailure.SignatureFailure")));
        assert!(Retry::Read.allows(&e(ErrorKind::Server, "InternalError")));
        assert!(Retry::Read.allows(&e(ErrorKind::Timeout, codes::TIMEOUT)));
        assert!(!Retry::Read.allows(&e(ErrorKind::Api, "InvalidKeyPairId.NotFound")));
    }
}

#[cfg(test)]
mod props {
    use super::super::page::arb;
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Map, json};

    const ACTION: &str = "DescribeApiKeysStatus";

    /// Bodies of every shape an endpoint might send: random bytes (mostly not UTF-8),
    /// random JSON, envelopes with random contents, and JSON nested past serde's limit.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        let edges: &[&[u8]] = &[
            b"",
            b" ",
            b"null",
            b"{}",
            b"[]",
            b"\"Response\"",
            b"{\"Response\":null}",
            b"\xff\xfe",
        ];
        prop_oneof![
            prop::sample::select(edges).prop_map(<[u8]>::to_vec),
            prop::collection::vec(any::<u8>(), 0..2048),
            arb::json().prop_map(|v| v.to_string().into_bytes()),
            arb::json().prop_map(|v| json!({ "Response": v }).to_string().into_bytes()),
            arb::object(arb::json()).prop_map(|r| json!({ "Response": r }).to_string().into_bytes()),
            (1usize..5000, prop::bool::ANY).prop_map(|(depth, closed)| nested(depth, closed).into_bytes()),
            // A valid envelope cut short or with garbage appended.
            (
                envelope_fields(),
                any::<prop::sample::Index>(),
                prop::collection::vec(any::<u8>(), 0..8)
            )
                .prop_map(|(r, cut, tail)| {
                    let mut bytes = json!({ "Response": r }).to_string().into_bytes();
                    bytes.truncate(cut.index(bytes.len() + 1));
                    bytes.extend(tail);
                    bytes
                }),
        ]
    }

    /// `{"Response":{"RequestId":"r","Deep":[[[...]]]}}` nested `depth` levels.
    fn nested(depth: usize, closed: bool) -> String {
        let close = if closed { "]".repeat(depth) } else { String::new() };
        format!(
            r#"{{"Response":{{"RequestId":"r","Deep":{}1{close}}}}}"#,
            "[".repeat(depth)
        )
    }

    /// A Response object that is not an error: random fields, no `Error`.
    fn envelope_fields() -> impl Strategy<Value = Map<String, Value>> {
        arb::object(arb::json()).prop_map(|mut r| {
            let map = r.as_object_mut().map(std::mem::take).unwrap_or_default();
            let mut map: Map<String, Value> = map.into_iter().filter(|(k, _)| k != "Error").collect();
            map.remove("RequestId");
            map
        })
    }

    /// The RequestId of a body, read independently of `parse_envelope`.
    fn body_request_id(body: &[u8]) -> Option<String> {
        let v: Value = serde_json::from_slice(body).ok()?;
        v.get("Response")?.get("RequestId")?.as_str().map(str::to_string)
    }

    /// Server text: anything printable, often with the spaces and line ends a careless
    /// trim would lose.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof!["\\PC{0,80}", "[ \\ta-zA-Z.\\n]{0,40}"]
    }

    /// Values of `Code` that are not a string (or no Code at all).
    fn not_a_string() -> impl Strategy<Value = Option<Value>> {
        prop::option::of(arb::json().prop_filter("not a string", |v| !v.is_string()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any status and body: no panic, success only for 2xx envelopes with a RequestId and
        /// no Error, and an error's RequestId, if any, is the body's.
        #[test]
        fn any_answer_maps_without_panicking(status in any::<u16>(), body in body()) {
            let rid = body_request_id(&body);
            match parse_envelope(status, &body, ACTION) {
                Ok((response, request_id)) => {
                    prop_assert!((200..300).contains(&status), "HTTP {} accepted", status);
                    prop_assert_eq!(Some(&request_id), rid.as_ref());
                    prop_assert!(response.is_object());
                    prop_assert!(response.get("Error").is_none());
                }
                Err(e) => {
                    prop_assert!(!e.code.is_empty());
                    prop_assert!(e.request_id.is_none() || e.request_id == rid, "{:?} vs {:?}", e.request_id, rid);
                }
            }
        }

        /// Whatever garbage comes back, the error message quotes a bounded amount of it.
        #[test]
        fn non_json_answers_quote_a_bounded_excerpt(
            status in any::<u16>(),
            chunk in prop::collection::vec(any::<u8>(), 1..64),
            repeat in 1usize..4096,
        ) {
            let mut body = b"<".to_vec();
            body.extend(chunk.repeat(repeat));
            let e = parse_envelope(status, &body, ACTION).unwrap_err();
            prop_assert!(e.request_id.is_none());
            // 200 quoted characters, each at most `\u{10ffff}` once escaped, plus the fixed text.
            prop_assert!(e.message.chars().count() <= 200 * 10 + 400, "{} chars", e.message.chars().count());
        }

        /// `Response.Error` with a string Code is the ProviderError, at any HTTP status,
        /// carrying exactly the server's code, message and RequestId.
        #[test]
        fn error_envelopes_become_that_provider_error(
            status in 100u16..600,
            code in text(),
            message in arb::optional(text()),
            request_id in arb::optional("\\PC{0,40}"),
            mut extra in envelope_fields(),
        ) {
            let mut error = json!({ "Code": code });
            if let Some(m) = &message {
                error["Message"] = json!(m);
            }
            extra.insert("Error".into(), error);
            if let Some(r) = &request_id {
                extra.insert("RequestId".into(), json!(r));
            }
            let body = json!({ "Response": extra }).to_string();
            let e = parse_envelope(status, body.as_bytes(), ACTION).unwrap_err();
            prop_assert_eq!(e.kind, kind_for_code(&code));
            prop_assert_eq!(&e.code, &code);
            let message = message.flatten().unwrap_or_default();
            prop_assert_eq!(e.message, message);
            prop_assert_eq!(e.request_id, request_id.flatten());
        }

        /// An Error whose Code is missing or not a string is a Protocol error that still
        /// carries the RequestId.
        #[test]
        fn error_without_a_string_code_is_a_protocol_error(
            status in 100u16..600,
            code in not_a_string(),
            request_id in "\\PC{0,40}",
            mut extra in envelope_fields(),
        ) {
            let mut error = json!({ "Message": "m" });
            if let Some(c) = code {
                error["Code"] = c;
            }
            extra.insert("Error".into(), error);
            extra.insert("RequestId".into(), json!(request_id));
            let body = json!({ "Response": extra }).to_string();
            let e = parse_envelope(status, body.as_bytes(), ACTION).unwrap_err();
            prop_assert_eq!(e.kind, ErrorKind::Protocol);
            prop_assert_eq!(e.code.as_str(), codes::PROTOCOL);
            prop_assert_eq!(e.request_id, Some(request_id));
        }

        /// A 2xx envelope without Error yields its Response unchanged and its RequestId.
        #[test]
        fn ok_envelopes_yield_their_request_id(
            status in prop_oneof![Just(200u16), Just(299), 200u16..300],
            request_id in "\\PC{0,40}",
            mut fields in envelope_fields(),
        ) {
            fields.insert("RequestId".into(), json!(request_id));
            let body = json!({ "Response": fields }).to_string();
            let (got, id) = parse_envelope(status, body.as_bytes(), ACTION).unwrap();
            prop_assert_eq!(id, request_id);
            // Compared with the body read back, not `fields`: serde_json's default float
            // parsing may differ from the f64 printed in the last digit.
            let sent: Value = serde_json::from_str(&body).unwrap();
            prop_assert_eq!(&got, &sent["Response"]);
        }

        /// The same envelope with a non-2xx status is an error that keeps the RequestId.
        #[test]
        fn ok_envelopes_with_another_status_are_errors(
            status in prop_oneof![Just(199u16), Just(300), 100u16..600].prop_filter("not 2xx", |s| !(200..300).contains(s)),
            request_id in "\\PC{0,40}",
            mut fields in envelope_fields(),
        ) {
            fields.insert("RequestId".into(), json!(request_id));
            let body = json!({ "Response": fields }).to_string();
            let e = parse_envelope(status, body.as_bytes(), ACTION).unwrap_err();
            prop_assert_eq!(e.kind, if status >= 500 { ErrorKind::Server } else { ErrorKind::Protocol });
            prop_assert_eq!(e.request_id, Some(request_id));
        }

        /// No RequestId (or one that is not a string) and no Error: a Protocol error.
        #[test]
        fn a_response_without_request_id_is_a_protocol_error(
            status in 200u16..300,
            request_id in not_a_string(),
            mut fields in envelope_fields(),
        ) {
            if let Some(r) = request_id {
                fields.insert("RequestId".into(), r);
            }
            let body = json!({ "Response": fields }).to_string();
            let e = parse_envelope(status, body.as_bytes(), ACTION).unwrap_err();
            prop_assert_eq!(e.kind, ErrorKind::Protocol);
            prop_assert!(e.request_id.is_none());
            prop_assert!(e.message.contains("RequestId"), "{}", e.message);
        }
    }

    proptest! {
        // Each case parses megabytes; a few are enough to show size is not a problem.
        #![proptest_config(ProptestConfig::with_cases(6))]

        /// Bodies up to the client's cap parse (or fail) without panicking; a big field survives intact.
        #[test]
        fn huge_bodies_parse_without_panicking(size in 1usize..MAX_BODY_BYTES, fill in any::<u8>(), json_body in any::<bool>()) {
            if json_body {
                let blob = char::from(b'a' + fill % 26).to_string().repeat(size);
                let body = json!({ "Response": { "RequestId": "r", "Blob": blob } }).to_string();
                let (response, id) = parse_envelope(200, body.as_bytes(), ACTION).unwrap();
                prop_assert_eq!(id, "r");
                prop_assert_eq!(response["Blob"].as_str().map(str::len), Some(size));
            } else {
                let body = vec![fill; size];
                let e = parse_envelope(200, &body, ACTION).unwrap_err();
                prop_assert!(e.message.len() < 4 * 2400, "{} bytes", e.message.len());
            }
        }
    }
}
