//! HTTP Digest client state (RFC 7616) for the OceanBase Open API.
//!
//! The `digest_auth` crate computes the responses; this module only keeps the last
//! challenge so later requests can reuse its nonce with an increasing nonce count
//! (saving the extra 401 round trip per call), and picks the strongest challenge offered.

use crate::providers::{ErrorKind, ProviderError};
use crate::secret::Secret;
use digest_auth::{AlgorithmType, AuthContext, HttpMethod, Qop, WwwAuthenticateHeader};
use std::sync::{Mutex, MutexGuard};

pub(crate) struct DigestAuth {
    username: String,
    password: Secret,
    /// The challenge being answered. Its `nc` counts the responses sent with its nonce.
    challenge: Mutex<Option<WwwAuthenticateHeader>>,
}

impl DigestAuth {
    pub(crate) fn new(username: String, password: Secret) -> Self {
        DigestAuth {
            username,
            password,
            challenge: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<WwwAuthenticateHeader>> {
        // A poisoned lock only means another request panicked mid-update of a plain value;
        // the worst case is a stale nonce, which the server answers with a fresh challenge.
        self.challenge.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The `Authorization` value for a request, answering the cached challenge with the
    /// next nonce count; `None` before any challenge was seen.
    pub(crate) fn authorization(&self, method: &str, uri: &str) -> Result<Option<String>, ProviderError> {
        let mut guard = self.lock();
        let Some(challenge) = guard.as_mut() else {
            return Ok(None);
        };
        let context = AuthContext::new_with_method(
            self.username.as_str(),
            self.password.expose(),
            uri,
            Option::<&[u8]>::None,
            HttpMethod::from(method.to_string()),
        );
        let header = challenge.respond(&context).map_err(|e| {
            ProviderError::new(
                ErrorKind::Protocol,
                "Protocol",
                format!("cannot answer the server's Digest challenge: {e}"),
            )
        })?;
        Ok(Some(header.to_header_string()))
    }

    /// Adopt the best Digest challenge among a 401's `WWW-Authenticate` values.
    /// Returns whether the server flagged the previous nonce as merely stale.
    pub(crate) fn accept_challenge<'a>(&self, values: impl Iterator<Item = &'a str>) -> Result<bool, ProviderError> {
        let mut best: Option<WwwAuthenticateHeader> = None;
        let mut parse_error = None;
        for value in values {
            let trimmed = value.trim_start();
            let Some(scheme) = trimmed.get(..6) else { continue };
            if !scheme.eq_ignore_ascii_case("digest") {
                continue;
            }
            match digest_auth::parse(&format!("Digest{}", &trimmed[6..])) {
                Ok(mut c) => {
                    // keyward answers with qop=auth: it never needs body integrity (list and
                    // delete carry no body) and every server offering auth-int offers auth too.
                    if c.qop.as_ref().is_some_and(|qops| qops.contains(&Qop::AUTH)) {
                        c.qop = Some(vec![Qop::AUTH]);
                    }
                    if best.as_ref().is_none_or(|b| strength(&c) > strength(b)) {
                        best = Some(c);
                    }
                }
                Err(e) => parse_error = Some(e.to_string()),
            }
        }
        let Some(challenge) = best else {
            let detail = parse_error.map_or_else(
                || "the 401 answer carries no `WWW-Authenticate: Digest` challenge".to_string(),
                |e| format!("the Digest challenge is malformed: {e}"),
            );
            return Err(ProviderError::new(
                ErrorKind::Protocol,
                "Protocol",
                format!("OceanBase refused the request and {detail}; is the endpoint an OceanBase Open API host?"),
            ));
        };
        let stale = challenge.stale;
        *self.lock() = Some(challenge);
        Ok(stale)
    }

    /// Whether a challenge is cached (its nonce will be reused by the next request).
    #[cfg(test)]
    pub(crate) fn has_challenge(&self) -> bool {
        self.lock().is_some()
    }
}

/// Prefer SHA-256 family over MD5 when a server offers several challenges (RFC 7616 §3.7).
fn strength(c: &WwwAuthenticateHeader) -> u8 {
    match c.algorithm.algo {
        AlgorithmType::MD5 => 1,
        AlgorithmType::SHA2_256 => 2,
        AlgorithmType::SHA2_512_256 => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_sha256_over_md5_and_counts_nonce_uses() {
        let auth = DigestAuth::new("ak".into(), Secret::new("sk"));
        assert_eq!(auth.authorization("GET", "/x").unwrap(), None);
        let stale = auth
            .accept_challenge(
                [
                    r#"Basic realm="x""#,
                    r#"Digest realm="ob", nonce="n1", qop="auth", algorithm=MD5"#,
                    r#"digest realm="ob", nonce="n2", qop="auth,auth-int", algorithm=SHA-256"#,
                ]
                .into_iter(),
            )
            .unwrap();
        assert!(!stale);
        let first = auth.authorization("GET", "/x").unwrap().unwrap();
        assert!(first.contains(r#"nonce="n2""#), "{first}");
        assert!(first.contains("algorithm=SHA-256"), "{first}");
        assert!(first.contains("qop=auth,") || first.contains("qop=auth "), "{first}");
        assert!(first.contains("nc=00000001"), "{first}");
        let second = auth.authorization("DELETE", "/x?id=1").unwrap().unwrap();
        assert!(second.contains("nc=00000002"), "{second}");
    }

    #[test]
    fn no_digest_challenge_is_a_protocol_error() {
        let auth = DigestAuth::new("ak".into(), Secret::new("sk"));
        let err = auth.accept_challenge([r#"Basic realm="x""#].into_iter()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol);
        assert!(!auth.has_challenge());
    }
}
