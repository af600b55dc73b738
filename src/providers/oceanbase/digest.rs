//! HTTP Digest client state (RFC 7616) for the OceanBase Open API.
//!
//! The `digest_auth` crate computes the responses; this module keeps the last accepted
//! challenge so later requests reuse its nonce with an increasing nonce count (saving the
//! extra 401 round trip per call), and picks the strongest challenge a server offers.
//!
//! A fresh challenge is answered privately by the request that received it and shared
//! only once the server accepted that answer. Were it shared at once, a concurrent request
//! could spend a higher nonce count on it first; a strict server would then refuse the
//! lower count, and that refusal would be indistinguishable from a wrong secret.

use crate::providers::{ErrorKind, ProviderError};
use crate::secret::Secret;
use digest_auth::{AlgorithmType, AuthContext, HttpMethod, Qop, WwwAuthenticateHeader};
use std::sync::{Mutex, MutexGuard};

/// A parsed `WWW-Authenticate: Digest` challenge; its `nc` counts the answers sent with its nonce.
pub(crate) type Challenge = WwwAuthenticateHeader;

pub(crate) struct DigestAuth {
    username: String,
    password: Secret,
    /// The last challenge whose answer the server accepted.
    shared: Mutex<Option<Challenge>>,
}

impl DigestAuth {
    pub(crate) fn new(username: String, password: Secret) -> Self {
        DigestAuth {
            username,
            password,
            shared: Mutex::new(None),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Option<Challenge>> {
        // A poisoned lock only means another request panicked mid-update of a plain value;
        // the worst case is a stale nonce, which the server answers with a fresh challenge.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The `Authorization` value answering the shared challenge with its next nonce count;
    /// `None` before any challenge was accepted.
    pub(crate) fn authorization(&self, method: &str, uri: &str) -> Result<Option<String>, ProviderError> {
        let mut guard = self.lock();
        match guard.as_mut() {
            Some(challenge) => self.answer(challenge, method, uri).map(Some),
            None => Ok(None),
        }
    }

    /// Answer a given challenge (incrementing its nonce count).
    pub(crate) fn answer(&self, challenge: &mut Challenge, method: &str, uri: &str) -> Result<String, ProviderError> {
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
        Ok(header.to_header_string())
    }

    /// The server accepted an answer to `challenge`: later requests reuse its nonce.
    pub(crate) fn share(&self, challenge: Challenge) {
        *self.lock() = Some(challenge);
    }

    #[cfg(test)]
    fn has_shared(&self) -> bool {
        self.lock().is_some()
    }
}

/// The strongest Digest challenge among a 401's `WWW-Authenticate` values.
pub(crate) fn best_challenge<'a>(values: impl Iterator<Item = &'a str>) -> Result<Challenge, ProviderError> {
    let mut best: Option<Challenge> = None;
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
                // delete carry no body), and a server offering auth-int offers auth too.
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
    best.ok_or_else(|| {
        let detail = parse_error.map_or_else(
            || "the 401 answer carries no `WWW-Authenticate: Digest` challenge".to_string(),
            |e| format!("the Digest challenge is malformed: {e}"),
        );
        ProviderError::new(
            ErrorKind::Protocol,
            "Protocol",
            format!("OceanBase refused the request and {detail}; is the endpoint an OceanBase Open API host?"),
        )
    })
}

/// Prefer the SHA-256 family over MD5 when a server offers several challenges (RFC 7616 §3.7).
fn strength(c: &Challenge) -> u8 {
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
        let mut challenge = best_challenge(
            [
                r#"Basic realm="x""#,
                r#"Digest realm="ob", nonce="n1", qop="auth", algorithm=MD5"#,
                r#"digest realm="ob", nonce="n2", qop="auth,auth-int", algorithm=SHA-256"#,
            ]
            .into_iter(),
        )
        .unwrap();
        let first = auth.answer(&mut challenge, "GET", "/x").unwrap();
        assert!(first.contains(r#"nonce="n2""#), "{first}");
        assert!(first.contains("algorithm=SHA-256"), "{first}");
        assert!(first.contains("qop=auth,") || first.contains("qop=auth "), "{first}");
        assert!(first.contains("nc=00000001"), "{first}");
        assert_eq!(
            auth.authorization("GET", "/x").unwrap(),
            None,
            "not shared before it is accepted"
        );
        auth.share(challenge);
        assert!(auth.has_shared());
        let second = auth.authorization("DELETE", "/x?id=1").unwrap().unwrap();
        assert!(second.contains("nc=00000002"), "{second}");
    }

    #[test]
    fn no_digest_challenge_is_a_protocol_error() {
        let err = best_challenge([r#"Basic realm="x""#].into_iter()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol);
        let err = best_challenge([r#"Digest nonce="n""#].into_iter()).unwrap_err();
        assert!(err.message.contains("malformed"), "{err}");
    }
}
