//! TC3-HMAC-SHA256, the request signature of Tencent Cloud API 3.0.
//!
//! Only `content-type` and `host` are signed, as the official SDKs do; the action,
//! version, region and timestamp headers travel unsigned but the timestamp is bound
//! into the credential scope and the string to sign.

use chrono::DateTime;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";
pub const SIGNED_HEADERS: &str = "content-type;host";
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Everything that goes into one signature.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    pub service: &'a str,
    /// The Host header exactly as sent (with `:port` when not default).
    pub host: &'a str,
    pub content_type: &'a str,
    pub payload: &'a [u8],
    pub timestamp: i64,
}

/// The intermediate strings are kept so tests (and the emulator's error messages) can show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signature: String,
    pub authorization: String,
    /// `YYYY-MM-DD` in UTC, part of the credential scope.
    pub date: String,
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac accepts any key length");
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// UTC date of a Unix timestamp; timestamps outside chrono's range fall back to the epoch
/// date, which the server then rejects as expired rather than us panicking.
pub fn utc_date(timestamp: i64) -> String {
    DateTime::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

pub fn sign(input: &SignInput<'_>) -> Signature {
    let canonical_request = format!(
        "POST\n/\n\ncontent-type:{}\nhost:{}\n\n{}\n{}",
        input.content_type,
        input.host,
        SIGNED_HEADERS,
        sha256_hex(input.payload)
    );
    let date = utc_date(input.timestamp);
    let scope = format!("{date}/{}/tc3_request", input.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        input.timestamp,
        sha256_hex(canonical_request.as_bytes())
    );
    let secret_date = hmac_sha256(format!("TC3{}", input.secret_key).as_bytes(), date.as_bytes());
    let secret_service = hmac_sha256(&secret_date, input.service.as_bytes());
    let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
    let signature = hex::encode(hmac_sha256(&secret_signing, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}",
        input.secret_id
    );
    Signature {
        canonical_request,
        string_to_sign,
        signature,
        authorization,
        date,
    }
}

/// The parts of an `Authorization: TC3-HMAC-SHA256 ...` header, for the emulator's verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    pub signed_headers: String,
    pub signature: String,
}

pub fn parse_authorization(header: &str) -> Option<ParsedAuthorization> {
    let rest = header.strip_prefix(ALGORITHM)?.trim_start();
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed_headers = Some(v),
            "Signature" => signature = Some(v),
            _ => return None,
        }
    }
    let mut scope = credential?.splitn(4, '/');
    let secret_id = scope.next()?.to_string();
    let date = scope.next()?.to_string();
    let service = scope.next()?.to_string();
    if scope.next()? != "tc3_request" {
        return None;
    }
    Some(ParsedAuthorization {
        secret_id,
        date,
        service,
        signed_headers: signed_headers?.to_string(),
        signature: signature?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Vector {
        secret_id: String,
        secret_key: String,
        service: String,
        host: String,
        timestamp: i64,
        content_type: String,
        payload: String,
        canonical_request: String,
        string_to_sign: String,
        signature: String,
        authorization: String,
    }

    /// The vectors computed by the official Python SDK's signer (copied from
    /// shared/reference/tc3-vectors.json; the second test checks the copy is current).
    const VECTORS: &str = include_str!("../../../tests/fixtures/tc3-vectors.json");

    #[test]
    fn reproduces_every_reference_vector() {
        let vectors: Vec<Vector> = serde_json::from_str(VECTORS).unwrap();
        assert_eq!(vectors.len(), 4);
        for v in &vectors {
            let got = sign(&SignInput {
                secret_id: &v.secret_id,
                secret_key: &v.secret_key,
                service: &v.service,
                host: &v.host,
                content_type: &v.content_type,
                payload: v.payload.as_bytes(),
                timestamp: v.timestamp,
            });
            assert_eq!(got.canonical_request, v.canonical_request, "{}", v.host);
            assert_eq!(got.string_to_sign, v.string_to_sign, "{}", v.host);
            assert_eq!(got.signature, v.signature, "{}", v.host);
            assert_eq!(got.authorization, v.authorization, "{}", v.host);
            let parsed = parse_authorization(&got.authorization).unwrap();
            assert_eq!(parsed.secret_id, v.secret_id);
            assert_eq!(parsed.service, v.service);
            assert_eq!(parsed.signature, v.signature);
        }
    }

    #[test]
    fn fixture_matches_shared_reference_when_present() {
        let shared = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference/tc3-vectors.json");
        if let Ok(text) = std::fs::read_to_string(shared) {
            assert_eq!(
                text, VECTORS,
                "tests/fixtures/tc3-vectors.json is stale: copy it again from {shared}"
            );
        }
    }

    /// The worked example of Tencent Cloud's "Signature v3" documentation, with its
    /// literally masked credentials and the payload's `\u` escapes kept as text.
    #[test]
    fn reproduces_the_documentation_worked_example() {
        let payload = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        let got = sign(&SignInput {
            secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
            secret_key: "Gu5t9xGARNpq86cd98joQYCN3*******",
            service: "cvm",
            host: "cvm.tencentcloudapi.com",
            content_type: CONTENT_TYPE,
            payload: payload.as_bytes(),
            timestamp: 1551113065,
        });
        assert_eq!(
            got.canonical_request,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            got.string_to_sign,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            got.signature,
            "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
        assert_eq!(
            got.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
    }

    #[test]
    fn a_changed_byte_changes_the_signature() {
        let base = SignInput {
            secret_id: "id",
            secret_key: "key",
            service: "cvm",
            host: "h",
            content_type: CONTENT_TYPE,
            payload: b"{}",
            timestamp: 1700000000,
        };
        let a = sign(&base).signature;
        assert_ne!(
            a,
            sign(&SignInput {
                payload: b"{ }",
                ..base
            })
            .signature
        );
        assert_ne!(
            a,
            sign(&SignInput {
                secret_key: "kez",
                ..base
            })
            .signature
        );
        assert_ne!(a, sign(&SignInput { host: "h:1", ..base }).signature);
        assert_ne!(
            a,
            sign(&SignInput {
                timestamp: 1700086400,
                ..base
            })
            .signature
        );
    }

    #[test]
    fn malformed_authorization_headers_are_rejected() {
        assert!(parse_authorization("Basic abc").is_none());
        assert!(parse_authorization("TC3-HMAC-SHA256 Credential=a/b/c/x, SignedHeaders=h, Signature=s").is_none());
        assert!(parse_authorization("TC3-HMAC-SHA256 Credential=a/b/c/tc3_request, Signature=s").is_none());
    }
}
