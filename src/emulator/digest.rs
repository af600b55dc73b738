//! Server side of HTTP Digest (RFC 7616) for the OceanBase MaaS API: AccessKey ID as the
//! username, AccessKey secret as the password. The challenge offers SHA-256 first, then
//! MD5 (older clients only do MD5), both with qop=auth and the same nonce. Responses are
//! recomputed with `digest_auth` and compared.

use super::model::{NONCE_TTL, REALM};
use super::state::EmulatorState;
use crate::secret::Secret;
use axum::http::HeaderValue;
use digest_auth::{AlgorithmType, AuthContext, AuthorizationHeader, HttpMethod, Qop};
use std::borrow::Cow;

/// Two `WWW-Authenticate` values (SHA-256, then MD5) sharing one fresh nonce.
pub(crate) fn challenges(state: &EmulatorState, stale: bool) -> Vec<HeaderValue> {
    let mut table = state.nonces();
    let nonce = table.issue();
    let opaque = table.opaque();
    let stale = if stale { ", stale=true" } else { "" };
    ["SHA-256", "MD5"]
        .iter()
        .filter_map(|algorithm| {
            HeaderValue::from_str(&format!(
                "Digest realm=\"{REALM}\", qop=\"auth\", algorithm={algorithm}, nonce=\"{nonce}\", opaque=\"{opaque}\"{stale}"
            ))
            .ok()
        })
        .collect()
}

/// Why a request was not let in; `stale` asks the client to retry with a fresh nonce.
#[derive(Debug)]
pub(crate) struct Rejection {
    pub stale: bool,
    pub reason: String,
}

fn reject(reason: impl Into<String>) -> Rejection {
    Rejection {
        stale: false,
        reason: reason.into(),
    }
}

/// Checks an `Authorization: Digest ...` header against the request and returns the
/// AccessKey ID it authenticates.
pub(crate) fn verify(
    state: &EmulatorState,
    method: &str,
    request_uri: &str,
    header: Option<&str>,
) -> Result<String, Rejection> {
    let header = header.ok_or_else(|| reject("no Authorization header; use HTTP Digest with your AccessKey"))?;
    if !header.trim_start().starts_with("Digest ") {
        return Err(reject("only HTTP Digest authentication is accepted"));
    }
    let auth = AuthorizationHeader::parse(header)
        .map_err(|e| reject(format!("malformed Digest Authorization header: {e}")))?;
    if auth.realm != REALM {
        return Err(reject(format!("realm {:?} is not {REALM:?}", auth.realm)));
    }
    if auth.algorithm.sess || !matches!(auth.algorithm.algo, AlgorithmType::MD5 | AlgorithmType::SHA2_256) {
        return Err(reject("algorithm must be SHA-256 or MD5 as offered"));
    }
    if auth.qop != Some(Qop::AUTH) {
        return Err(reject("qop must be auth as offered"));
    }
    if auth.uri != request_uri {
        return Err(reject(format!(
            "digest uri {:?} does not match the request target {request_uri:?}",
            auth.uri
        )));
    }
    let password = {
        let data = state.data();
        let account = data
            .ob_by_access_key(&auth.username)
            .ok_or_else(|| reject("unknown AccessKey ID"))?;
        account.access_key_secret.clone()
    };
    let valid = response_matches(&auth, &password, method);
    let mut table = state.nonces();
    let opaque = table.opaque();
    if auth.opaque.as_ref().is_some_and(|o| *o != opaque) {
        return Err(reject("opaque does not match the challenge"));
    }
    let entry = table.nonces.get_mut(&auth.nonce);
    let fresh = entry
        .as_ref()
        .is_some_and(|e| !e.expired && e.issued.elapsed() < NONCE_TTL);
    if !valid {
        return Err(reject("digest response does not match; check the AccessKey secret"));
    }
    match entry {
        Some(e) if fresh => {
            if auth.nc <= e.last_nc {
                return Err(reject(format!("nonce count {:08x} was already used", auth.nc)));
            }
            e.last_nc = auth.nc;
            Ok(auth.username)
        }
        _ => Err(Rejection {
            stale: true,
            reason: "nonce expired or unknown; retry with the new challenge".to_string(),
        }),
    }
}

fn response_matches(auth: &AuthorizationHeader, password: &Secret, method: &str) -> bool {
    let mut expected = auth.clone();
    let ctx = AuthContext::new_with_method(
        auth.username.as_str(),
        password.expose(),
        auth.uri.as_str(),
        None::<&[u8]>,
        HttpMethod(Cow::Borrowed(method)),
    );
    expected.digest(&ctx);
    expected.response.eq_ignore_ascii_case(&auth.response)
}
