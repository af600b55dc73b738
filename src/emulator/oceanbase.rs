//! OceanBase Cloud MaaS API keys: `GET/POST/DELETE /api/v2/maas/apikeys` behind HTTP
//! Digest, answering with the MaaS envelope `{action,data,error,message,requestId,server,success}`.
//!
//! The docs leave the failure envelope, HTTP statuses and error codes open (see
//! shared/reference/oceanbase-maas.md, "Gaps"); the emulator answers failures with a
//! non-2xx status, `success:false` and `error:{code,message}`, using the one documented
//! code (INVALID_PARAMETER) where it fits.

use super::digest;
use super::fake;
use super::model::ObKeyRecord;
use super::state::EmulatorState;
use crate::secret::Secret;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The MaaS API key resource, as the provider module names it.
pub const PATH: &str = crate::providers::oceanbase::KEYS_PATH;
const DEFAULT_PAGE_SIZE: usize = 10;
const MAX_PAGE_SIZE: usize = 100;
/// The doc says a pageSize above the maximum is "forcibly set to 20".
const OVERSIZE_PAGE_SIZE: usize = 20;

/// A failed call: HTTP status, error code, message.
struct Failure(StatusCode, &'static str, String);

fn bad_request(message: impl Into<String>) -> Failure {
    Failure(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", message.into())
}

/// Per-request context for the envelope.
struct Envelope {
    action: String,
    request_id: String,
    server: String,
}

impl Envelope {
    fn new(state: &EmulatorState, headers: &HeaderMap, query: &HashMap<String, String>, default_action: &str) -> Self {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        Envelope {
            action: query
                .get("Action")
                .cloned()
                .or_else(|| header("Action"))
                .unwrap_or_else(|| default_action.to_string()),
            request_id: header("X-Request-Id")
                .or_else(|| header("requestId"))
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            server: state.server(),
        }
    }

    fn ok(&self, data: Value) -> Response {
        tracing::info!(target: "keyward::emulator", "oceanbase {} -> OK ({})", self.action, self.request_id);
        let body = json!({
            "action": self.action,
            "data": data,
            "error": {},
            "message": "success",
            "requestId": self.request_id,
            "server": self.server,
            "success": true,
        });
        (StatusCode::OK, axum::Json(body)).into_response()
    }

    fn fail(&self, Failure(status, code, message): Failure) -> Response {
        tracing::info!(
            target: "keyward::emulator",
            "oceanbase {} -> {} {code} ({})",
            self.action,
            status.as_u16(),
            self.request_id
        );
        let body = json!({
            "action": self.action,
            "data": null,
            "error": {"code": code, "message": message},
            "message": message,
            "requestId": self.request_id,
            "server": self.server,
            "success": false,
        });
        (status, axum::Json(body)).into_response()
    }
}

/// Where an authenticated call points: the account (by AccessKey ID) and project.
struct Target {
    access_key_id: String,
    project_id: String,
}

/// Digest first (401 + fresh challenge), then the forced rate limit, then the
/// organization and project headers.
fn authenticate(
    state: &EmulatorState,
    env: &Envelope,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Target, Box<Response>> {
    let request_target = uri.path_and_query().map(|p| p.as_str()).unwrap_or(uri.path());
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let access_key_id = match digest::verify(state, method.as_str(), request_target, authorization) {
        Ok(id) => id,
        Err(rejection) => {
            let mut res = env.fail(Failure(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                format!("Authentication failed: {}.", rejection.reason),
            ));
            for challenge in digest::challenges(state, rejection.stale) {
                res.headers_mut().append(header::WWW_AUTHENTICATE, challenge);
            }
            return Err(Box::new(res));
        }
    };
    if state.forced_rate_limit_now() {
        let mut res = env.fail(Failure(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Request rate limit exceeded; retry later.".to_string(),
        ));
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Err(Box::new(res));
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| bad_request(format!("The required header {name} is missing.")))
    };
    let scope = header("X-OB-Org-Id").and_then(|org| Ok((org, header("X-OB-Project-Id")?)));
    let (org_id, project_id) = scope.map_err(|f| Box::new(env.fail(f)))?;
    let data = state.data();
    let failure = match data.ob_by_access_key(&access_key_id) {
        None => Failure(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Unknown AccessKey.".into()),
        Some(account) if account.org_id != org_id => Failure(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            format!("The AccessKey has no access to organization {org_id}."),
        ),
        Some(account) if !account.project_ids.contains(&project_id) => Failure(
            StatusCode::NOT_FOUND,
            "PROJECT_NOT_FOUND",
            format!("Project {project_id} does not exist in organization {org_id}."),
        ),
        Some(_) => {
            return Ok(Target {
                access_key_id,
                project_id,
            });
        }
    };
    Err(Box::new(env.fail(failure)))
}

/// Runs `f` on the keys of the target project.
fn with_keys<T>(state: &EmulatorState, target: &Target, f: impl FnOnce(&mut Vec<ObKeyRecord>) -> T) -> T {
    let mut data = state.data();
    let keys = data
        .oceanbase
        .iter_mut()
        .find(|a| a.access_key_id == target.access_key_id)
        .map(|a| a.keys.entry(target.project_id.clone()).or_default());
    match keys {
        Some(keys) => f(keys),
        // Authenticated a moment ago; only a concurrent test mutation could remove it.
        None => f(&mut Vec::new()),
    }
}

/// Shows enough of a key to recognise it, as the console does.
fn masked(secret: &Secret) -> String {
    let s = secret.expose();
    let head: String = s.chars().take(5).collect();
    let tail: String = s.chars().skip(s.chars().count().saturating_sub(4)).collect();
    format!("{head}****{tail}")
}

fn key_json(k: &ObKeyRecord) -> Value {
    json!({
        "id": k.id,
        "name": k.name,
        "apiKey": masked(&k.secret),
        "createdAt": k.created,
        "updatedAt": k.updated,
        "expiresAt": k.expires,
        "lastUsedAt": k.last_used,
    })
}

fn parse_query(uri: &Uri) -> HashMap<String, String> {
    Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

fn positive(query: &HashMap<String, String>, name: &str) -> Result<Option<usize>, Failure> {
    match query.get(name) {
        None => Ok(None),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(bad_request(format!("{name} must be a positive integer, got {v:?}."))),
        },
    }
}

pub(crate) async fn list(State(state): State<EmulatorState>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let query = parse_query(&uri);
    let env = Envelope::new(&state, &headers, &query, "ListAIServiceAPIKeys");
    let target = match authenticate(&state, &env, &method, &uri, &headers) {
        Ok(t) => t,
        Err(res) => return *res,
    };
    let paging = positive(&query, "pageNumber").and_then(|n| Ok((n, positive(&query, "pageSize")?)));
    let (page_number, page_size) = match paging {
        Ok((n, s)) => (
            n.unwrap_or(1),
            match s {
                None => DEFAULT_PAGE_SIZE,
                Some(s) if s > MAX_PAGE_SIZE => OVERSIZE_PAGE_SIZE,
                Some(s) => s,
            },
        ),
        Err(f) => return env.fail(f),
    };
    let (total, list) = with_keys(&state, &target, |keys| {
        let list: Vec<Value> = keys
            .iter()
            .skip((page_number - 1).saturating_mul(page_size))
            .take(page_size)
            .map(key_json)
            .collect();
        (keys.len(), list)
    });
    env.ok(json!({ "list": list, "total": total, "pageNumber": page_number, "pageSize": page_size }))
}

/// Console rule for names: 2-64 characters of letters (Chinese included), digits, `_`, `-`.
fn valid_name(name: &str) -> bool {
    (2..=64).contains(&name.chars().count()) && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

pub(crate) async fn create(
    State(state): State<EmulatorState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = parse_query(&uri);
    let env = Envelope::new(&state, &headers, &query, "CreateAIServiceAPIKey");
    let target = match authenticate(&state, &env, &method, &uri, &headers) {
        Ok(t) => t,
        Err(res) => return *res,
    };
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return env.fail(bad_request(format!("The body must be JSON: {e}."))),
    };
    let name = match body.get("name").and_then(Value::as_str) {
        Some(n) if valid_name(n) => n.to_string(),
        Some(n) => {
            return env.fail(bad_request(format!(
                "name {n:?} must be 2-64 characters of letters, digits, _ or -."
            )));
        }
        None => return env.fail(bad_request("name is required.")),
    };
    if body.get("action").and_then(Value::as_str).is_none_or(str::is_empty) {
        return env.fail(bad_request("action (the key's permission, e.g. \"read\") is required."));
    }
    let mut rng = rand::rng();
    let secret = fake::ob_key_secret(&mut rng);
    let now = fake::now_iso();
    with_keys(&state, &target, |keys| {
        let mut id = fake::ob_key_id(&mut rng);
        while keys.iter().any(|k| k.id == id) {
            id = fake::ob_key_id(&mut rng);
        }
        keys.push(ObKeyRecord {
            id,
            name: name.clone(),
            secret: Secret::new(secret.clone()),
            created: now.clone(),
            updated: now.clone(),
            expires: None,
            last_used: None,
        });
    });
    // The documented create response has no id: clients list afterwards to learn it.
    env.ok(json!({ "apiKey": secret, "name": name, "createdAt": now }))
}

pub(crate) async fn delete(
    State(state): State<EmulatorState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let query = parse_query(&uri);
    let env = Envelope::new(&state, &headers, &query, "DeleteAIServiceAPIKey");
    let target = match authenticate(&state, &env, &method, &uri, &headers) {
        Ok(t) => t,
        Err(res) => return *res,
    };
    let id = match query.get("id").filter(|id| !id.is_empty()) {
        Some(id) => id.clone(),
        None => return env.fail(bad_request("The query parameter id (the API key's UUID) is required.")),
    };
    let removed = with_keys(&state, &target, |keys| {
        let before = keys.len();
        keys.retain(|k| k.id != id);
        keys.len() != before
    });
    if removed {
        env.ok(json!({}))
    } else {
        env.fail(Failure(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("API key {id} does not exist in project {}.", target.project_id),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_console_rule() {
        assert!(valid_name("rag-pipeline_prod"));
        assert!(valid_name("检索服务"));
        assert!(!valid_name("x"));
        assert!(!valid_name("has space"));
        assert!(!valid_name(&"a".repeat(65)));
    }

    #[test]
    fn masking_keeps_only_the_ends() {
        let m = masked(&Secret::new("sk-abcdefghijklmnop1234"));
        assert_eq!(m, "sk-ab****1234");
    }
}
