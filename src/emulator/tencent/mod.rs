//! Tencent Cloud API 3.0 front door: `POST /` with a JSON body, routed by `X-TC-Action`.
//! Checks run in the order a client meets them: headers, service and version, action,
//! timestamp window, signature, rate limit, region, then the action's own parameters.
//! Every answer is HTTP 200 with `{"Response": {..., "RequestId"}}`, errors included.

pub mod apigateway;
pub mod cvm;
pub(crate) mod params;

use super::auth::{self, SignedRequest};
use super::model::{ApiError, TcService};
use super::state::EmulatorState;
use crate::providers::tencent::sign;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use params::Params;
use serde_json::{Map, Value, json};

fn missing_header(name: &str) -> ApiError {
    ApiError::new(
        "MissingParameter",
        format!("The request is missing the required header `{name}`."),
    )
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    match headers.get(name) {
        None => Err(missing_header(name)),
        Some(v) => v
            .to_str()
            .map_err(|_| ApiError::new("InvalidParameter", format!("The header `{name}` is not valid ASCII."))),
    }
}

/// The service a request is for: the Host's first label when it names one (as with
/// `cvm.tencentcloudapi.com`), otherwise the credential scope of the signature.
fn service_for(host: &str, scope_service: &str) -> Option<TcService> {
    let first_label = host.split(['.', ':']).next().unwrap_or_default();
    TcService::from_name(first_label).or_else(|| TcService::from_name(scope_service))
}

pub(crate) async fn handle(
    State(state): State<EmulatorState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = process(&state, &method, &uri, &headers, &body);
    let request_id = uuid::Uuid::new_v4().to_string();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("-");
    let outcome = result.as_ref().err().map_or("OK", |e| e.code.as_str());
    // Operator-facing trace of the traffic: action, region and outcome only, never a secret.
    tracing::info!(
        target: "keyward::emulator",
        "tencent {} {} -> {outcome} ({request_id})",
        text("X-TC-Action"),
        text("X-TC-Region")
    );
    envelope(result, request_id).into_response()
}

fn envelope(result: Result<Value, ApiError>, request_id: String) -> axum::Json<Value> {
    let mut response = match result {
        Ok(Value::Object(map)) => map,
        Ok(_) => Map::new(),
        Err(e) => {
            let mut m = Map::new();
            m.insert("Error".into(), json!({"Code": e.code, "Message": e.message}));
            m
        }
    };
    response.insert("RequestId".into(), Value::String(request_id));
    axum::Json(json!({ "Response": response }))
}

fn process(
    state: &EmulatorState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, ApiError> {
    let unsupported = |what: String| {
        ApiError::new(
            "UnsupportedProtocol",
            format!("{what} is not supported: only POST / with a JSON body signed with TC3-HMAC-SHA256 is served."),
        )
    };
    if method != Method::POST || uri.path() != "/" {
        return Err(unsupported(format!("{method} {}", uri.path())));
    }
    // An old-style form POST (Action=...&Signature=..., HmacSHA1/HmacSHA256) carries no
    // X-TC-* headers: say what is served instead of asking for X-TC-Action.
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    match content_type {
        Some(ct) if !ct.to_ascii_lowercase().starts_with("application/json") => {
            return Err(unsupported(format!("A POST with Content-Type {ct}")));
        }
        None if !headers.contains_key("X-TC-Action") => {
            return Err(unsupported("A POST without Content-Type or X-TC-Action".to_string()));
        }
        _ => {}
    }
    let action = header_str(headers, "X-TC-Action")?;
    let authorization = header_str(headers, "Authorization")?;
    // HTTP/2 carries the host in the :authority pseudo-header, which hyper puts in the URI.
    let host = match headers.get(header::HOST) {
        Some(_) => header_str(headers, "Host")?,
        None => uri
            .authority()
            .map(|a| a.as_str())
            .ok_or_else(|| missing_header("Host"))?,
    };
    let parsed = sign::parse_authorization(authorization).ok_or_else(|| {
        ApiError::new(
            "AuthFailure.InvalidAuthorization",
            "The Authorization header is not a valid TC3-HMAC-SHA256 authorization.",
        )
    })?;
    let service = service_for(host, &parsed.service).ok_or_else(|| {
        ApiError::new(
            "InvalidAction",
            format!(
                "Unknown service {:?}: this endpoint serves apigateway and cvm.",
                parsed.service
            ),
        )
    })?;
    let version = header_str(headers, "X-TC-Version")?;
    if version != service.version() {
        return Err(ApiError::new(
            "NoSuchVersion",
            format!(
                "The API version {version} does not exist for {}; use {}.",
                service.name(),
                service.version()
            ),
        ));
    }
    if !service.actions().contains(&action) {
        return Err(ApiError::new(
            "InvalidAction",
            format!("The action {action} does not exist for {} {version}.", service.name()),
        ));
    }
    let timestamp = header_str(headers, "X-TC-Timestamp")?.parse::<i64>().map_err(|_| {
        ApiError::new(
            "InvalidParameter",
            "X-TC-Timestamp must be a Unix timestamp in seconds.",
        )
    })?;
    auth::check_timestamp(timestamp, state.now().timestamp())?;
    let content_type = header_str(headers, "Content-Type")?;
    let account_name = {
        let data = state.data();
        auth::verify(
            &data,
            service,
            &parsed,
            &SignedRequest {
                host,
                content_type,
                payload: body,
                timestamp,
            },
        )?
    };
    if !state.admit(service, &parsed.secret_id, action) {
        return Err(ApiError::new(
            "RequestLimitExceeded",
            format!(
                "Your request frequency for {action} exceeds the limit of {} per second.",
                service.rate_limit()
            ),
        ));
    }
    let region = header_str(headers, "X-TC-Region")?;
    if !content_type.to_ascii_lowercase().starts_with("application/json") {
        return Err(ApiError::new(
            "InvalidParameter",
            format!("Content-Type {content_type:?} is not supported: send application/json."),
        ));
    }
    let params = Params::parse(body)?;

    let mut data = state.data();
    // The account was found under the lock above; it can only be missing now if a test
    // removed it in between, which reads as an unknown SecretId.
    let account = data.tencent_by_secret_id(&parsed.secret_id).ok_or_else(|| {
        ApiError::new(
            "AuthFailure.SecretIdNotFound",
            format!("Account {account_name} no longer exists."),
        )
    })?;
    if !account.regions.iter().any(|r| r == region) {
        return Err(service.invalid_region(region));
    }
    match service {
        TcService::ApiGateway => {
            let keys = account.api_keys.entry(region.to_string()).or_default();
            apigateway::dispatch(action, keys, &params)
        }
        TcService::Cvm => {
            let pairs = account.key_pairs.entry(region.to_string()).or_default();
            cvm::dispatch(action, pairs, &params)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_comes_from_host_then_scope() {
        assert_eq!(
            service_for("cvm.tencentcloudapi.com", "apigateway"),
            Some(TcService::Cvm)
        );
        assert_eq!(service_for("127.0.0.1:9400", "apigateway"), Some(TcService::ApiGateway));
        assert_eq!(service_for("localhost", "cvm"), Some(TcService::Cvm));
        assert_eq!(service_for("localhost", "cbs"), None);
    }
}
