//! TC3-HMAC-SHA256 verification: recompute the signature with the crate's own signer from
//! the request exactly as received (Host header, Content-Type, body) and compare. The
//! SecretId names a CAM access key of some user (the root or a sub-user) of some account;
//! a disabled or deleted key signs nothing, as the service's SecretIdNotFound text says
//! ("check whether the key has been deleted or disabled").

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
    /// `X-TC-Token`, the session token of temporary credentials.
    pub token: Option<&'a str>,
    /// The server's clock (Unix seconds): temporary credentials expire by it.
    pub now: i64,
}

/// The common code for a missing, wrong or expired session token ("AuthFailure.TokenFailure:
/// Invalid token"); the message says which.
fn token_failure(detail: &str) -> ApiError {
    ApiError::new(
        crate::providers::tencent::sts::TOKEN_FAILURE,
        format!("Token verification failed: {detail}. Please check if your Token is correct."),
    )
}

fn signature_failure(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        "AuthFailure.SignatureFailure",
        format!("The provided credentials could not be validated: {detail}"),
    )
}

/// Who signed a request: the account and the CAM user whose key it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    pub account: String,
    pub uin: u64,
}

/// Returns the account and user the signature authenticates.
pub(crate) fn verify(
    data: &Data,
    service: TcService,
    auth: &ParsedAuthorization,
    req: &SignedRequest<'_>,
) -> Result<Caller, ApiError> {
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
    // A CAM access key, or temporary credentials STS handed out (which need their token).
    let (account, secret, uin) = match data.tencent_key(&auth.secret_id) {
        Some((account, key)) => {
            if !key.active {
                return Err(ApiError::new(
                    "AuthFailure.SecretIdNotFound",
                    "The SecretId is disabled (Inactive in CAM): enable it with UpdateAccessKey or sign with another key.",
                ));
            }
            (account.name.clone(), &key.secret, key.owner_uin)
        }
        None => {
            let temp = data.temp_keys.get(&auth.secret_id).ok_or_else(|| {
                ApiError::new(
                    "AuthFailure.SecretIdNotFound",
                    "The SecretId is not found, please ensure that your SecretId is correct.",
                )
            })?;
            match req.token {
                None => return Err(token_failure("temporary credentials need their token in X-TC-Token")),
                Some(t) if t != temp.token.expose() => {
                    return Err(token_failure("the X-TC-Token is not the one issued with this SecretId"));
                }
                Some(_) if req.now >= temp.expires_at => {
                    return Err(token_failure(&format!(
                        "the temporary credentials expired at {} (Unix time)",
                        temp.expires_at
                    )));
                }
                Some(_) => {}
            }
            // A role session acts with the role's (administrator) rights: as the root.
            let uin = data.tencent_by_name(&temp.account).map_or(0, |a| a.cam.root_uin);
            (temp.account.clone(), &temp.secret, uin)
        }
    };
    let expected = sign::sign(&SignInput {
        secret_id: &auth.secret_id,
        secret_key: secret.expose(),
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
    Ok(Caller { account, uin })
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
