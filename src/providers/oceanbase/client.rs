//! One OceanBase Open API account: the HTTP client, the Digest state, a polite request
//! rate and the retry policy. Shared (`Arc`) by the providers of that account's projects,
//! because the credentials, the nonce and any server-side limit belong to the account.

use super::digest::{Challenge, DigestAuth, best_challenge};
use super::envelope::{self, Success};
use crate::providers::http::{
    BodyError, ConnectTo, MAX_BODY_BYTES, Retry, build_client, read_body_capped, transport_failure, validate_endpoint,
};
use crate::providers::{ErrorKind, ProviderError};
use crate::secret::Secret;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use reqwest::{Method, Url};
use std::num::NonZeroU32;
use std::time::Duration;

/// Longest wait between retries, and the most of a server's Retry-After we honour.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

pub(crate) struct ObClient {
    http: reqwest::Client,
    base: Url,
    org_id: HeaderValue,
    digest: DigestAuth,
    limiter: DefaultDirectRateLimiter,
    max_retries: u32,
    retry_base_delay: Duration,
    /// Where the AccessKey came from, named when OceanBase refuses it.
    credential_source: String,
}

/// A failed attempt, with the server's Retry-After if it sent one.
struct Failure {
    error: ProviderError,
    retry_after: Option<Duration>,
}

impl From<ProviderError> for Failure {
    fn from(error: ProviderError) -> Self {
        Failure {
            error,
            retry_after: None,
        }
    }
}

pub(crate) struct ClientConfig<'a> {
    pub endpoint: &'a str,
    pub org_id: &'a str,
    pub access_key_id: &'a str,
    pub access_key_secret: &'a Secret,
    pub credential_source: &'a str,
    pub timeout: Duration,
    pub extra_root_ca_pem: Option<&'a [u8]>,
    pub connect_to: Option<&'a ConnectTo>,
    pub max_retries: u32,
    pub retry_base_delay: Duration,
    pub requests_per_second: u32,
}

impl ObClient {
    pub(crate) fn new(cfg: ClientConfig<'_>) -> Result<Self, ProviderError> {
        let base = validate_endpoint(cfg.endpoint).map_err(ProviderError::invalid)?;
        if cfg.access_key_id.trim().is_empty() || cfg.access_key_secret.is_empty() {
            return Err(ProviderError::invalid(
                "the OceanBase AccessKey ID and secret must both be set (console: User Preferences > AccessKey)",
            ));
        }
        Ok(ObClient {
            http: build_client(cfg.timeout, cfg.extra_root_ca_pem, cfg.connect_to)?,
            base,
            org_id: header_value("organization id", cfg.org_id)?,
            digest: DigestAuth::new(cfg.access_key_id.to_string(), cfg.access_key_secret.clone()),
            limiter: RateLimiter::direct(Quota::per_second(
                NonZeroU32::new(cfg.requests_per_second).unwrap_or(NonZeroU32::MIN),
            )),
            max_retries: cfg.max_retries,
            retry_base_delay: cfg.retry_base_delay,
            credential_source: cfg.credential_source.to_string(),
        })
    }

    /// One API call with retries. `GET` is retried on rate limits, server errors, timeouts
    /// and dropped connections. Anything else (a `DELETE`) is retried only when the first
    /// try certainly did not take effect: a 429 is refused before the business logic runs
    /// and a refused connection never reached the server. A 5xx or a timeout after sending
    /// may have deleted the key already, so repeating it could report a false NOT_FOUND or
    /// act twice; that case goes back to the operator with its request id. (`Retry` holds the rule.)
    /// `action` is the documented action name (`ListAIServiceAPIKeys`): every error's
    /// message starts with it.
    pub(crate) async fn call(
        &self,
        action: &str,
        method: Method,
        project: &HeaderValue,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Success, ProviderError> {
        let url = self.url(path, query);
        let policy = if method == Method::GET {
            Retry::Read
        } else {
            Retry::Write
        };
        let mut retries = 0;
        loop {
            // Traced: the action, the path and how it ended; never the body either way.
            let failure = match self.send(&method, &url, project).await {
                Ok(success) => {
                    tracing::debug!(action, path, request_id = %success.request_id, "OceanBase call answered");
                    return Ok(success);
                }
                Err(f) => f,
            };
            let error = &failure.error;
            if !policy.allows(error) || retries >= self.max_retries {
                tracing::debug!(action, path, code = %error.code, request_id = ?error.request_id, "OceanBase call failed");
                return Err(failure.error.in_action(action));
            }
            tracing::debug!(action, path, retries, code = %error.code, "retrying OceanBase call");
            retries += 1;
            tokio::time::sleep(self.backoff(retries, failure.retry_after)).await;
        }
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        // Keep any path prefix of the endpoint (an emulator mounted under /oceanbase).
        let joined = format!("{}{}", self.base.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Exponential backoff with jitter so concurrent refreshes do not retry in lockstep.
    fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .retry_base_delay
            .saturating_mul(1 << retry.saturating_sub(1).min(10));
        let jitter = exp.mul_f64(rand::random::<f64>() * 0.5);
        let wait = (exp + jitter).max(retry_after.unwrap_or_default());
        wait.min(MAX_BACKOFF)
    }

    /// Send once, answering a Digest challenge: with a shared challenge the request goes out
    /// authorized straight away (nonce reused, nc + 1); a 401 then means the nonce went stale
    /// or was refused (also by a concurrent request's higher nc), and the fresh challenge it
    /// carries is answered once. A 401 to the answer of a fresh, private challenge means the
    /// credentials are wrong.
    async fn send(&self, method: &Method, url: &Url, project: &HeaderValue) -> Result<Success, Failure> {
        let digest_uri = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        // The challenge this request received itself, answered privately (see digest.rs).
        let mut fresh: Option<Challenge> = None;
        loop {
            let request_id = uuid::Uuid::new_v4().to_string();
            let authorization = match fresh.as_mut() {
                Some(challenge) => Some(self.digest.answer(challenge, method.as_str(), &digest_uri)?),
                None => self.digest.authorization(method.as_str(), &digest_uri)?,
            };
            self.limiter.until_ready().await;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header("X-OB-Org-Id", self.org_id.clone())
                .header("X-OB-Project-Id", project.clone())
                .header("X-Request-Id", &request_id);
            if let Some(value) = authorization {
                request = request.header(AUTHORIZATION, value);
            }
            let what = format!("{method} {}", url.path());
            let mut response = request
                .send()
                .await
                .map_err(|e| Failure::from(transport_failure(&e, &what)))?;
            let status = response.status().as_u16();
            if status == 401 && fresh.is_none() {
                let challenges: Vec<String> = response
                    .headers()
                    .get_all(WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok().map(str::to_string))
                    .collect();
                match best_challenge(challenges.iter().map(String::as_str)) {
                    Ok(challenge) => {
                        fresh = Some(challenge);
                        continue;
                    }
                    Err(no_challenge) => {
                        // A 401 without a usable Digest challenge may still explain itself
                        // in the envelope (a disabled AccessKey, say): prefer that text.
                        let body = read_body_capped(&mut response, MAX_BODY_BYTES)
                            .await
                            .unwrap_or_default();
                        let mut error = match envelope::interpret(status, &body, &request_id) {
                            Err(e) if e.code != "HTTP401" => ProviderError {
                                kind: ErrorKind::Auth,
                                ..e
                            },
                            _ => no_challenge.with_request_id(Some(request_id)),
                        };
                        error.message = format!("{} (AccessKey from {})", error.message, self.credential_source);
                        return Err(Failure::from(error));
                    }
                }
            }
            if status != 401 {
                if let Some(accepted) = fresh.take() {
                    self.digest.share(accepted);
                }
            }
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            // Capped: a broken endpoint or proxy streaming an endless answer must not
            // make keyward buffer it all.
            let body = read_body_capped(&mut response, MAX_BODY_BYTES)
                .await
                .map_err(|e| match e {
                    BodyError::TooLarge { limit } => {
                        Failure::from(BodyError::too_large(&what, limit).with_request_id(Some(request_id.clone())))
                    }
                    BodyError::Transport(e) => Failure::from(transport_failure(&e, &what)),
                })?;
            return envelope::interpret(status, &body, &request_id).map_err(|mut error| {
                if status == 401 {
                    error.kind = ErrorKind::Auth;
                    error.message = format!(
                        "{} — OceanBase rejected the Digest answer: check the AccessKey ID and secret \
                         from {} (this account's source), and that the key is enabled",
                        error.message, self.credential_source
                    );
                }
                Failure {
                    retry_after,
                    ..Failure::from(error)
                }
            });
        }
    }
}

pub(crate) fn header_value(what: &str, value: &str) -> Result<HeaderValue, ProviderError> {
    if value.trim().is_empty() {
        return Err(ProviderError::invalid(format!("the OceanBase {what} is empty")));
    }
    HeaderValue::from_str(value).map_err(|_| {
        ProviderError::invalid(format!(
            "the OceanBase {what} `{value}` contains characters not allowed in an HTTP header"
        ))
    })
}
