//! Tencent Cloud API 3.0 front door: `POST /` with a JSON body, routed by `X-TC-Action`.
//! Checks run in the order a client meets them: the IP cap and `X-TC-Language`, headers,
//! service and version, action, timestamp window, signature, rate limits, region, then the
//! action's own parameters.
//!
//! The Host is only the access point: "域名是 API 的接入点,并不代表产品或者接口实际提供服务的
//! 地域", so a region host serves whatever `X-TC-Region` names, and counts the request in
//! its own rate buckets (`ratelimit.rs`). Financial regions are the exception (below).
//! Every answer is HTTP 200 with `{"Response": {..., "RequestId"}}`, errors included.
//!
//! CAM is global: its requests need no `X-TC-Region` (one that is sent is accepted and
//! ignored) and have no region or financial-isolation check.

pub mod apigateway;
pub mod cam;
pub mod cvm;
mod language;
mod organization;
pub(crate) mod params;
mod sts;

use super::auth::{self, SignedRequest};
use super::model::{ApiError, TcService};
use super::ratelimit::Refusal;
use super::state::EmulatorState;
use crate::providers::tencent::endpoint::{self, AccessRegion};
use crate::providers::tencent::sign;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::{IntoResponse, Response};
use language::Language;
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

/// The service a request is for: the one its Host names (as `cvm.tencentcloudapi.com`),
/// otherwise the credential scope of the signature.
fn service_for(host: &str, scope_service: &str) -> Option<TcService> {
    match endpoint::service_of_host(host) {
        Some(service) => TcService::from_name(&service),
        None => TcService::from_name(scope_service),
    }
}

/// The answer to a request the rate limits refused.
fn refusal_error(state: &EmulatorState, refusal: Refusal, service: TcService, action: &str, host: &str) -> ApiError {
    let caps = state.caps();
    match refusal {
        Refusal::PerApi => {
            let at = match endpoint::access_region(host) {
                AccessRegion::Nearest => "the nearest-access host".to_string(),
                AccessRegion::Region(r) => format!("the {r} region host"),
            };
            ApiError::new(
                "RequestLimitExceeded",
                format!(
                    "Your request frequency for {action} through {at} exceeds the limit of {} per second.",
                    service.rate_limit(action)
                ),
            )
        }
        Refusal::Uin => ApiError::new(
            "RequestLimitExceeded.UinLimitExceeded",
            format!(
                "The account's requests over all actions, services and hosts exceed its limit of {} per second.",
                caps.uin.unwrap_or_default()
            ),
        ),
        Refusal::Ip => ApiError::new(
            "RequestLimitExceeded.IPLimitExceeded",
            format!(
                "Requests from this IP address exceed the limit of {} per second.",
                caps.ip.unwrap_or_default()
            ),
        ),
    }
}

/// Financial regions are isolated from the rest (and nearest access "only supports
/// non-financial regions"): an fsi region through a non-fsi host, or another region through
/// an fsi host, is refused. The code is `UnsupportedRegion`, the common code "接口不支持所传
/// 地域": the region is not served at that access point, which is what the caller must fix
/// (the host), whereas the per-service invalid-region codes say the region is not the
/// account's, which would send the operator to the wrong setting. Tencent documents the
/// isolation but not the code a crossed request gets.
fn check_financial_isolation(service: TcService, host: &str, region: &str) -> Result<(), ApiError> {
    let host_region = match endpoint::access_region(host) {
        AccessRegion::Nearest => None,
        AccessRegion::Region(r) => Some(r),
    };
    let host_is_financial = host_region.as_deref().is_some_and(endpoint::is_financial);
    if endpoint::is_financial(region) == host_is_financial {
        return Ok(());
    }
    let own_host = endpoint::region_host(service.name(), endpoint::Site::Cn, region)
        .unwrap_or_else(|| endpoint::nearest_host(service.name(), endpoint::Site::Cn));
    let why = if host_is_financial {
        format!(
            "the host {host} serves only the financial region {}",
            host_region.unwrap_or_default()
        )
    } else {
        format!("{region} is a financial region, isolated from the others and served only through its own region host")
    };
    Err(ApiError::new(
        "UnsupportedRegion",
        format!("The region {region} is not supported through {host}: {why}; send it to {own_host}."),
    ))
}

pub(crate) async fn handle(
    State(state): State<EmulatorState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The IP cap counts every request, whoever sends it and however malformed.
    let ip = state
        .admit_ip()
        .map_err(|r| refusal_error(&state, r, TcService::Cvm, "", ""));
    let language = Language::of(&headers);
    let result = ip
        .and(language.clone())
        .and_then(|_| process(&state, &method, &uri, &headers, &body))
        .map_err(|e| language.clone().unwrap_or_default().localize(e));
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
                "Unknown service {:?}: this endpoint serves apigateway, cvm, cam, sts and organization.",
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
    let caller = {
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
                token: headers.get("X-TC-Token").and_then(|v| v.to_str().ok()),
                now: state.now().timestamp(),
            },
        )?
    };
    state
        .admit(service, &caller.account, &parsed.secret_id, action, host)
        .map_err(|r| refusal_error(state, r, service, action, host))?;
    // A global service ignores the region ("not required for this API"), sent or not.
    let region = if service.is_global() {
        ""
    } else {
        let region = header_str(headers, "X-TC-Region")?;
        check_financial_isolation(service, host, region)?;
        region
    };
    if !content_type.to_ascii_lowercase().starts_with("application/json") {
        return Err(ApiError::new(
            "InvalidParameter",
            format!("Content-Type {content_type:?} is not supported: send application/json."),
        ));
    }
    let params = Params::parse(body)?;

    let now = state.now();
    let mut data = state.data();
    // STS and Organization reach beyond the caller's own account (the role's account, the
    // members): they get the whole world.
    match service {
        TcService::Sts => return sts::dispatch(action, &mut data, &caller, &params, now),
        TcService::Organization => return organization::dispatch(action, &data, &caller.account, &params),
        _ => {}
    }
    // The account was found under the lock above; it can only be missing now if a test
    // removed it in between, which reads as an unknown SecretId.
    let account = data.tencent_by_name_mut(&caller.account).ok_or_else(|| {
        ApiError::new(
            "AuthFailure.SecretIdNotFound",
            format!("Account {} no longer exists.", caller.account),
        )
    })?;
    if !service.is_global() && !account.regions.iter().any(|r| r == region) {
        return Err(service.invalid_region(region));
    }
    match service {
        TcService::Cam => cam::dispatch(action, &mut account.cam, caller.uin, &params, now),
        TcService::ApiGateway => {
            let keys = account.api_keys.entry(region.to_string()).or_default();
            apigateway::dispatch(action, keys, &params)
        }
        TcService::Cvm => cvm::dispatch(action, account.key_pairs_in(region), region, &params),
        // Answered above.
        TcService::Sts | TcService::Organization => Err(ApiError::new("InternalError", "unreachable service")),
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
        assert_eq!(
            service_for("cvm.ap-guangzhou.tencentcloudapi.com:443", "apigateway"),
            Some(TcService::Cvm)
        );
    }

    #[test]
    fn financial_regions_are_served_only_through_their_own_hosts() {
        let ok = |host: &str, region: &str| check_financial_isolation(TcService::Cvm, host, region);
        // The host is only the access point: another ordinary region is served.
        assert_eq!(ok("cvm.ap-guangzhou.tencentcloudapi.com", "ap-shanghai"), Ok(()));
        assert_eq!(ok("cvm.tencentcloudapi.com", "ap-shanghai"), Ok(()));
        assert_eq!(ok("cvm.ap-shanghai-fsi.tencentcloudapi.com", "ap-shanghai-fsi"), Ok(()));
        // Another financial region through an fsi host is still financial-to-financial.
        assert_eq!(ok("cvm.ap-shenzhen-fsi.tencentcloudapi.com", "ap-shanghai-fsi"), Ok(()));
        for (host, region) in [
            ("cvm.ap-shanghai.tencentcloudapi.com", "ap-shanghai-fsi"),
            ("cvm.tencentcloudapi.com", "ap-shenzhen-fsi"),
            ("127.0.0.1:9400", "ap-shenzhen-fsi"),
            ("cvm.ap-shanghai-fsi.tencentcloudapi.com", "ap-shanghai"),
        ] {
            let err = ok(host, region).unwrap_err();
            assert_eq!(err.code, "UnsupportedRegion", "{host} {region}");
            assert!(
                err.message.contains(region) && err.message.contains(host),
                "{}",
                err.message
            );
        }
        let err = ok("cvm.tencentcloudapi.com", "ap-shanghai-fsi").unwrap_err();
        assert!(
            err.message.contains("cvm.ap-shanghai-fsi.tencentcloudapi.com"),
            "{}",
            err.message
        );
    }
}
