//! Tencent Cloud STS (sts 2018-08-13): `AssumeRole` turns one account's credentials into
//! temporary credentials of a CAM role in another (or the same) account, and
//! [`RoleSession`] keeps one account's temporary credentials fresh for every client of it.
//!
//! Facts (AssumeRole, tencentcloud.com/document/product/1150/49456 and the SDK's
//! sts/v20180813 models and errors, see /work/shared/reference/service-facts.md "STS"):
//! - hosts `sts.tencentcloudapi.com` / `sts.intl.tencentcloudapi.com`; `Region` is required;
//!   600 requests per second;
//! - `RoleArn` (`qcs::cam::uin/<uin>:roleName/<name>`), `RoleSessionName`
//!   (2-128 of `[\w+=,.@-]`), `DurationSeconds` (default 7200, at most 43200), `ExternalId`;
//! - the answer: `Credentials.{TmpSecretId, TmpSecretKey, Token}`, `ExpiredTime` (Unix
//!   seconds) and `Expiration` (ISO 8601); the token goes in `X-TC-Token`;
//! - errors: `ResourceNotFound.RoleNotFound`, `InvalidParameter.AccountNotAvaliable` (sic),
//!   `InvalidParameter.ParamError`, `InvalidParameter.OverTimeError`, `UnauthorizedOperation`.

use super::client::{Credentials, ServiceSpec, TencentClient};
use crate::providers::http::Retry;
use crate::providers::{ErrorKind, ProviderError};
use crate::secret::Secret;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const SERVICE: &str = "sts";
pub const VERSION: &str = "2018-08-13";
pub const ASSUME_ROLE: &str = "AssumeRole";
/// The actions keyward calls; the emulator serves exactly these.
pub const ACTIONS: &[&str] = &[ASSUME_ROLE];
/// "A maximum of 600 requests can be initiated per second for this API."
pub const RATE_PER_SECOND: u32 = 600;

pub const STS: ServiceSpec = ServiceSpec {
    service: SERVICE,
    version: VERSION,
    default_endpoint: "https://sts.tencentcloudapi.com",
    rate_per_second: RATE_PER_SECOND,
    action_rate: None,
};

/// `DurationSeconds`: "Default value: 7200. Maximum value: 43200".
pub const DEFAULT_DURATION_SECS: u32 = 7200;
pub const MAX_DURATION_SECS: u32 = 43200;

/// The code a service answers a request whose session token is expired or missing with
/// (common error code "AuthFailure.TokenFailure: Invalid token").
pub const TOKEN_FAILURE: &str = "AuthFailure.TokenFailure";

/// The documented error codes of AssumeRole keyward explains.
pub mod codes {
    pub const ROLE_NOT_FOUND: &str = "ResourceNotFound.RoleNotFound";
    pub const ACCOUNT_NOT_AVAILABLE: &str = "InvalidParameter.AccountNotAvaliable";
    pub const PARAM_ERROR: &str = "InvalidParameter.ParamError";
    pub const OVER_TIME: &str = "InvalidParameter.OverTimeError";
    pub const UNAUTHORIZED: &str = "UnauthorizedOperation";
}

/// Why a `RoleSessionName` is refused, or Ok: 2-128 characters of `[\w+=,.@-]`.
pub fn check_session_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(2..=128).contains(&len) {
        return Err(format!("is {len} characters long; it must be 2 to 128"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c)))
    {
        return Err(format!(
            "contains {c:?}; only letters, digits and _ + = , . @ - are allowed"
        ));
    }
    Ok(())
}

/// Why a `DurationSeconds` is refused, or Ok.
pub fn check_duration(secs: u64) -> Result<(), String> {
    if secs == 0 || secs > u64::from(MAX_DURATION_SECS) {
        return Err(format!(
            "{secs} s is out of range: use 1 to {MAX_DURATION_SECS} seconds"
        ));
    }
    Ok(())
}

/// The ARN of role `role_name` in account `uin`, as the Organization docs write it.
pub fn role_arn(uin: u64, role_name: &str) -> String {
    format!("qcs::cam::uin/{uin}:roleName/{role_name}")
}

/// The default session name: `keyward-<user>`, with characters STS refuses dropped.
pub fn default_session_name(user: Option<&str>) -> String {
    let user: String = user
        .unwrap_or("user")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))
        .take(119)
        .collect();
    let user = if user.is_empty() { "user".to_string() } else { user };
    format!("keyward-{user}")
}

/// What to assume: the role, the session's name, the optional ExternalId and how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSpec {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub duration_secs: u32,
    /// The `X-TC-Region` AssumeRole is sent with (required by the API, any region).
    pub region: String,
}

/// Temporary credentials and when they stop working. (`Debug` shows no secret: the
/// key and token are `Secret`s.)
#[derive(Debug, Clone)]
struct Temporary {
    creds: Credentials,
    /// Unix seconds, from `ExpiredTime`.
    expires_at: u64,
    /// When it was obtained (Unix seconds): the lifetime decides the refresh margin.
    obtained_at: u64,
}

impl Temporary {
    /// Refreshed once less than a fifth of the lifetime, or 5 minutes, is left, whichever
    /// comes first: a 2 h token is renewed 5 min before it ends, a 10 s one 2 s before, so
    /// a request is never signed with a token about to lapse in flight.
    fn fresh_at(&self, now: u64) -> bool {
        let lifetime = self.expires_at.saturating_sub(self.obtained_at);
        let margin = (lifetime / 5).min(300);
        now + margin < self.expires_at
    }
}

/// A failure remembered so that the sources of one account whose role cannot be assumed
/// ask STS once, not once each; forgotten after `FAILURE_MEMORY` so a fixed trust policy
/// is picked up by the next refresh.
struct Failure {
    error: ProviderError,
    at: u64,
}

const FAILURE_MEMORY_SECS: u64 = 30;

/// What [`RoleSession::current`] returns.
pub type CredentialsFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Credentials, ProviderError>> + Send + 'a>>;

/// One account's assumed role: the temporary credentials every client of the account
/// signs with, fetched on first use and refreshed before they expire. Shared (`Arc`) by
/// every client of the account; the async lock makes concurrent callers wait for one
/// AssumeRole rather than each sending their own.
pub struct RoleSession {
    sts: std::sync::Arc<TencentClient>,
    spec: RoleSpec,
    state: tokio::sync::Mutex<(Option<Temporary>, Option<Failure>)>,
    assumed: AtomicU64,
}

impl std::fmt::Debug for RoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleSession")
            .field("role_arn", &self.spec.role_arn)
            .field("session_name", &self.spec.session_name)
            .finish_non_exhaustive()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

impl RoleSession {
    /// `sts` is an STS client signed with the source credentials.
    pub fn new(sts: std::sync::Arc<TencentClient>, spec: RoleSpec) -> Self {
        RoleSession {
            sts,
            spec,
            state: tokio::sync::Mutex::new((None, None)),
            assumed: AtomicU64::new(0),
        }
    }

    pub fn role_arn(&self) -> &str {
        &self.spec.role_arn
    }

    /// How many AssumeRole calls succeeded so far (the bench and tests count them).
    pub fn assumed_count(&self) -> u64 {
        self.assumed.load(Ordering::Relaxed)
    }

    /// Credentials good for at least the refresh margin: the current ones, or new ones.
    /// (A boxed future of a named type: the STS client's `call` reads credentials through
    /// here, so an opaque `async fn` type would be a cycle the compiler cannot see through.)
    pub fn current(&self) -> CredentialsFuture<'_> {
        Box::pin(async move {
            let mut state = self.state.lock().await;
            let now = unix_now();
            if let Some(t) = &state.0
                && t.fresh_at(now)
            {
                return Ok(t.creds.clone());
            }
            if let Some(f) = &state.1
                && now < f.at + FAILURE_MEMORY_SECS
            {
                return Err(f.error.clone());
            }
            self.assume(&mut state, now).await
        })
    }

    /// After a service refused `used` as an expired or unknown token: new credentials,
    /// unless another caller already replaced `used` (then those are returned).
    pub fn refresh_after_refusal<'a>(&'a self, used: &'a Credentials) -> CredentialsFuture<'a> {
        Box::pin(async move {
            let mut state = self.state.lock().await;
            if let Some(t) = &state.0
                && t.creds.secret_id != used.secret_id
                && t.fresh_at(unix_now())
            {
                return Ok(t.creds.clone());
            }
            self.assume(&mut state, unix_now()).await
        })
    }

    async fn assume(
        &self,
        state: &mut (Option<Temporary>, Option<Failure>),
        now: u64,
    ) -> Result<Credentials, ProviderError> {
        let mut params = json!({
            "RoleArn": self.spec.role_arn,
            "RoleSessionName": self.spec.session_name,
            "DurationSeconds": self.spec.duration_secs,
        });
        if let Some(external_id) = &self.spec.external_id {
            params["ExternalId"] = json!(external_id);
        }
        // AssumeRole changes nothing a repeat could double: it is retried like a read.
        match self
            .sts
            .call(&self.spec.region, ASSUME_ROLE, &params, Retry::Read)
            .await
        {
            Ok((response, _)) => {
                let temporary = parse_answer(&response, now).map_err(|e| e.in_action(ASSUME_ROLE))?;
                let creds = temporary.creds.clone();
                self.assumed.fetch_add(1, Ordering::Relaxed);
                *state = (Some(temporary), None);
                Ok(creds)
            }
            Err(e) => {
                let error = explain(e, &self.spec);
                if matches!(error.kind, ErrorKind::Api | ErrorKind::Auth | ErrorKind::Invalid) {
                    state.1 = Some(Failure {
                        error: error.clone(),
                        at: now,
                    });
                }
                Err(error)
            }
        }
    }
}

/// The temporary credentials of an AssumeRole answer.
fn parse_answer(response: &Value, now: u64) -> Result<Temporary, ProviderError> {
    let creds = &response["Credentials"];
    let text = |v: &Value, field: &str| {
        v.get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::Protocol,
                    "Protocol",
                    format!("the answer has no {field}: expected Credentials.TmpSecretId, TmpSecretKey and Token"),
                )
            })
    };
    let secret_id = text(creds, "TmpSecretId")?;
    let secret_key = Secret::new(text(creds, "TmpSecretKey")?);
    let token = Secret::new(text(creds, "Token")?);
    let expires_at = response["ExpiredTime"].as_u64().ok_or_else(|| {
        ProviderError::new(
            ErrorKind::Protocol,
            "Protocol",
            "the answer has no ExpiredTime (Unix seconds) for its credentials",
        )
    })?;
    Ok(Temporary {
        creds: Credentials {
            secret_id,
            secret_key,
            token: Some(token),
        },
        expires_at,
        obtained_at: now.min(expires_at),
    })
}

/// The service's refusal, with the role named and the fix in words.
fn explain(e: ProviderError, spec: &RoleSpec) -> ProviderError {
    let role = &spec.role_arn;
    let fix = match e.code.as_str() {
        codes::ROLE_NOT_FOUND => format!(
            "the role {role} does not exist: check the account uin and role name (Organization creates \
             OrganizationAccessControlRole in the members it creates; invited members need it created)"
        ),
        codes::ACCOUNT_NOT_AVAILABLE => {
            format!("the account of {role} does not exist or is not available: check the uin in role_arn")
        }
        codes::UNAUTHORIZED => format!(
            "the caller may not assume {role}: the role's trust policy (role carrier) must name the source \
             account, the source needs permission for sts:AssumeRole{}",
            if spec.external_id.is_some() {
                ", and external_id must match the trust policy's qcs:ExternalId condition"
            } else {
                "; if the trust policy requires an ExternalId, set external_id"
            }
        ),
        codes::PARAM_ERROR => "fix role_arn / role_session_name (2-128 of letters, digits and _+=,.@-)".to_string(),
        codes::OVER_TIME => format!("duration_secs is longer than the role allows (at most {MAX_DURATION_SECS})"),
        _ => return e.in_action(ASSUME_ROLE),
    };
    let message = format!("{} (fix: {fix})", e.message);
    ProviderError { message, ..e }.in_action(ASSUME_ROLE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_are_2_to_128_of_the_documented_characters() {
        assert!(check_session_name("keyward-alice").is_ok());
        assert!(check_session_name("a=b,c.d@e+f_g-h").is_ok());
        assert!(check_session_name("k").unwrap_err().contains("2 to 128"));
        assert!(check_session_name(&"k".repeat(129)).is_err());
        assert!(check_session_name(&"k".repeat(128)).is_ok());
        assert!(check_session_name("has space").unwrap_err().contains("' '"));
        assert!(check_session_name("slash/no").is_err());
    }

    #[test]
    fn durations_are_capped_at_twelve_hours() {
        assert!(check_duration(7200).is_ok());
        assert!(check_duration(43200).is_ok());
        assert!(check_duration(43201).is_err());
        assert!(check_duration(0).is_err());
    }

    #[test]
    fn default_session_names_are_valid() {
        assert_eq!(default_session_name(Some("alice")), "keyward-alice");
        assert_eq!(default_session_name(Some("é x")), "keyward-x");
        assert_eq!(default_session_name(None), "keyward-user");
        assert!(check_session_name(&default_session_name(Some(&"a".repeat(300)))).is_ok());
    }

    #[test]
    fn refresh_margin_is_a_fifth_of_the_lifetime_capped_at_five_minutes() {
        let t = |obtained_at, expires_at| Temporary {
            creds: Credentials {
                secret_id: "x".into(),
                secret_key: Secret::new("k"),
                token: None,
            },
            expires_at,
            obtained_at,
        };
        let long = t(0, 7200);
        assert!(long.fresh_at(6899) && !long.fresh_at(6900));
        let short = t(100, 110);
        assert!(short.fresh_at(107) && !short.fresh_at(108));
    }

    #[test]
    fn answers_without_credentials_are_protocol_errors() {
        let ok = json!({"Credentials": {"TmpSecretId": "id", "TmpSecretKey": "k", "Token": "t"}, "ExpiredTime": 99});
        let t = parse_answer(&ok, 10).unwrap();
        assert_eq!((t.creds.secret_id.as_str(), t.expires_at), ("id", 99));
        assert!(t.creds.token.is_some());
        let e = parse_answer(&json!({"Credentials": {"TmpSecretId": "id"}, "ExpiredTime": 9}), 1).unwrap_err();
        assert!(e.message.contains("TmpSecretKey"), "{}", e.message);
        let e = parse_answer(
            &json!({"Credentials": {"TmpSecretId": "i", "TmpSecretKey": "k", "Token": "t"}}),
            1,
        )
        .unwrap_err();
        assert!(e.message.contains("ExpiredTime"), "{}", e.message);
    }
}
