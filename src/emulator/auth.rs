//! TC3-HMAC-SHA256 verification: recompute the signature with the crate's own signer from
//! the request exactly as received (Host header, Content-Type, body) and compare.

use super::model::{ApiError, TcService};
use super::state::Data;
use crate::providers::tencent::sign::{self, ParsedAuthorization, SignInput};

/// The documented clock skew allowance: five minutes either way.
pub const TIMESTAMP_WINDOW_SECS: i64 = 300;

pub(crate) fn check_timestamp(timestamp: i64, now: i64) -> Result<(), ApiError> {
    if (now - timestamp).abs() > TIMESTAMP_WINDOW_SECS {
        return Err(ApiError::new(
            "AuthFailure.SignatureExpire",
            format!(
                "Signature expired: the request timestamp {timestamp} and the server time {now} differ by more than \
                 five minutes. Check the local clock."
            ),
        ));
    }
    Ok(())
}

/// What a TC3 signature covers, as received.
pub(crate) struct SignedRequest<'a> {
    pub host: &'a str,
    pub content_type: &'a str,
    pub payload: &'a [u8],
    pub timestamp: i64,
}

fn signature_failure(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        "AuthFailure.SignatureFailure",
        format!("The provided credentials could not be validated: {detail}"),
    )
}

/// Returns the account name the signature authenticates.
pub(crate) fn verify(
    data: &Data,
    service: TcService,
    auth: &ParsedAuthorization,
    req: &SignedRequest<'_>,
) -> Result<String, ApiError> {
    if auth.signed_headers != sign::SIGNED_HEADERS {
        return Err(signature_failure(format_args!(
            "SignedHeaders must be {:?}, got {:?}.",
            sign::SIGNED_HEADERS,
            auth.signed_headers
        )));
    }
    if auth.service != service.name() {
        return Err(signature_failure(format_args!(
            "the credential scope names service {:?} but the request is for {:?}.",
            auth.service,
            service.name()
        )));
    }
    let date = sign::utc_date(req.timestamp);
    if auth.date != date {
        return Err(signature_failure(format_args!(
            "the credential scope date {} is not the UTC date {date} of X-TC-Timestamp.",
            auth.date
        )));
    }
    let account = data
        .tencent
        .iter()
        .find(|a| a.secret_id == auth.secret_id)
        .ok_or_else(|| {
            ApiError::new(
                "AuthFailure.SecretIdNotFound",
                "The SecretId is not found, please ensure that your SecretId is correct.",
            )
        })?;
    let expected = sign::sign(&SignInput {
        secret_id: &auth.secret_id,
        secret_key: account.secret_key.expose(),
        service: service.name(),
        host: req.host,
        content_type: req.content_type,
        payload: req.payload,
        timestamp: req.timestamp,
    });
    if expected.signature != auth.signature {
        // The string to sign holds no secret and is what a client author needs to compare.
        return Err(signature_failure(format_args!(
            "Please check your signature is correct. The server's string to sign was {:?}.",
            expected.string_to_sign
        )));
    }
    Ok(account.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_within_five_minutes_pass() {
        assert!(check_timestamp(1000, 1300).is_ok());
        assert!(check_timestamp(1300, 1000).is_ok());
        assert_eq!(
            check_timestamp(1000, 1301).unwrap_err().code,
            "AuthFailure.SignatureExpire"
        );
        assert_eq!(
            check_timestamp(1301, 1000).unwrap_err().code,
            "AuthFailure.SignatureExpire"
        );
    }
}
