//! The MaaS response envelope `{action, data, error, message, requestId, server, success}`
//! and its mapping to `ProviderError`.
//!
//! The failure shape is not documented for the maas endpoints, and the older Open API
//! family uses `errorCode`/`errorMessage` instead, so both are read: code from
//! `error.code` or `errorCode`, message from `error.message`, `errorMessage` or `message`.

use crate::providers::http::excerpt;
use crate::providers::{ErrorKind, ProviderError};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    success: Option<bool>,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    error: Value,
    #[serde(default)]
    error_code: Value,
    #[serde(default)]
    error_message: Value,
    #[serde(default)]
    message: Value,
    #[serde(default)]
    request_id: Value,
}

/// A successful answer: the `data` object and the request id to put in the receipt.
#[derive(Debug)]
pub(crate) struct Success {
    pub data: Value,
    pub request_id: String,
}

/// Read one answer. `sent_request_id` is the `X-Request-Id` keyward sent, used when the
/// body names none, so every outcome can be traced on the server side.
pub(crate) fn interpret(status: u16, body: &[u8], sent_request_id: &str) -> Result<Success, ProviderError> {
    let ok_status = (200..300).contains(&status);
    if ok_status && body.trim_ascii().is_empty() {
        // A bare 2xx (e.g. 204 to a DELETE) carries no envelope but is still a success.
        return Ok(Success {
            data: Value::Null,
            request_id: sent_request_id.to_string(),
        });
    }
    let envelope: Envelope = match serde_json::from_slice(body) {
        Ok(e) => e,
        Err(_) if !ok_status => {
            return Err(ProviderError::new(
                kind_for_status(status),
                format!("HTTP{status}"),
                format!("HTTP {status}: {}", snippet(body)),
            )
            .with_request_id(Some(sent_request_id.to_string())));
        }
        Err(e) => {
            return Err(ProviderError::new(
                ErrorKind::Protocol,
                "Protocol",
                format!(
                    "the answer is not the documented JSON envelope ({e}): {}",
                    snippet(body)
                ),
            )
            .with_request_id(Some(sent_request_id.to_string())));
        }
    };
    let request_id = text(&envelope.request_id).unwrap_or_else(|| sent_request_id.to_string());
    if ok_status && envelope.success != Some(false) {
        return Ok(Success {
            data: envelope.data,
            request_id,
        });
    }
    let code = text(&envelope.error["code"])
        .or_else(|| text(&envelope.error_code))
        .unwrap_or_else(|| {
            if ok_status {
                "Unknown".into()
            } else {
                format!("HTTP{status}")
            }
        });
    let message = text(&envelope.error["message"])
        .or_else(|| text(&envelope.error_message))
        .or_else(|| text(&envelope.message).filter(|m| !m.eq_ignore_ascii_case("success")))
        .unwrap_or_else(|| format!("the request failed (HTTP {status}) without an error message"));
    let kind = if ok_status {
        kind_for_code(&code)
    } else {
        kind_for_status(status)
    };
    Err(ProviderError::new(kind, code, message).with_request_id(Some(request_id)))
}

pub(crate) fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Auth,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::Api,
    }
}

/// A `success:false` answer under HTTP 200 still says what happened only through its code.
fn kind_for_code(code: &str) -> ErrorKind {
    let upper = code.to_ascii_uppercase();
    if upper.contains("THROTTL") || upper.contains("TOO_MANY_REQUESTS") || upper.contains("LIMITEXCEEDED") {
        ErrorKind::RateLimited
    } else if upper.contains("UNAUTHORIZED") || upper.contains("FORBIDDEN") || upper.contains("AUTH") {
        ErrorKind::Auth
    } else {
        ErrorKind::Api
    }
}

/// A string or number field as text; `None` when absent, null, empty or another type.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The start of a body for an error message (see `excerpt`), saying so when there is nothing to show.
fn snippet(body: &[u8]) -> String {
    let mut out = excerpt(body);
    if out.trim().is_empty() {
        out = "(empty body)".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_takes_data_and_request_id() {
        let ok = interpret(200, br#"{"success":true,"data":{"list":[]},"requestId":"r-1"}"#, "sent").unwrap();
        assert_eq!(ok.request_id, "r-1");
        assert!(ok.data["list"].is_array());
        let ok = interpret(200, br#"{"success":true,"data":{}}"#, "sent").unwrap();
        assert_eq!(ok.request_id, "sent");
    }

    #[test]
    fn error_object_then_classic_fields() {
        let e = interpret(
            400,
            br#"{"success":false,"error":{"code":"INVALID_PARAMETER","message":"id is required"},"message":"failed","requestId":"r-2"}"#,
            "sent",
        )
        .unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str(), e.message.as_str()),
            (ErrorKind::Api, "INVALID_PARAMETER", "id is required")
        );
        assert_eq!(e.request_id.as_deref(), Some("r-2"));

        let e = interpret(
            200,
            br#"{"success":false,"errorCode":"E001R000","errorMessage":"Unknown Error"}"#,
            "s-3",
        )
        .unwrap_err();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("E001R000", "Unknown Error"));
        assert_eq!(e.request_id.as_deref(), Some("s-3"));

        let e = interpret(404, br#"{"success":false,"error":{},"message":"key not found"}"#, "s").unwrap_err();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("HTTP404", "key not found"));
    }

    #[test]
    fn status_decides_kind_and_non_json_is_handled() {
        assert_eq!(
            interpret(503, b"<html>busy</html>", "s").unwrap_err().kind,
            ErrorKind::Server
        );
        assert_eq!(interpret(429, b"", "s").unwrap_err().kind, ErrorKind::RateLimited);
        let e = interpret(200, b"<html>", "s").unwrap_err();
        assert_eq!(e.kind, ErrorKind::Protocol);
        assert_eq!(e.request_id.as_deref(), Some("s"));
    }
}
