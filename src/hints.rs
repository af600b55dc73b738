//! Plain-words advice for a failed call, shown next to the error code in the log pane.
//!
//! Codes come from the Tencent Cloud API docs (DeleteApiKey, UpdateApiKey, DeleteKeyPairs
//! and the common error codes), OceanBase's envelope, and keyward's own local codes.

use crate::providers::{ErrorKind, ProviderError};

/// Advice for a provider or keyward error code, if keyward knows the code.
pub fn for_code(code: &str) -> Option<&'static str> {
    let hint = match code {
        // API Gateway keys.
        "UnsupportedOperation.ResourceIsInUse" => "unbind the key from its usage plan first",
        "UnsupportedOperation.InvalidStatus" => "disable the key first",
        "ResourceNotFound.InvalidAccessKeyId" => "the API key no longer exists: refresh the list",
        "InvalidParameterValue.InvalidRegion" => {
            "this account's region is wrong for this service: fix the account's regions in the config"
        }
        "InvalidParameter.FormatError" => {
            "a parameter has the wrong format; a custom secret must be 10-50 letters, digits or underscores"
        }
        "UnsupportedOperation.UinNotInWhiteList" => {
            "this account may not set custom secrets: rotate again and let the service generate one"
        }
        // CVM key pairs.
        "InvalidKeyPairId.NotFound" => "the key pair no longer exists: refresh the list",
        "InvalidKeyPairId.Malformed" => "that is not a valid key pair id (skey- followed by 8 characters)",
        "InvalidKeyPair.LimitExceeded" => "the account has too many key pairs: delete unused ones first",
        "InvalidParameterValue.LimitExceeded" => "too many ids in one call: at most 100 key pairs per delete",
        "InvalidParameterValue.KeyPairNotSupported" => "this key pair does not support the operation",
        // Common Tencent Cloud codes.
        "AuthFailure.SignatureExpire" => "the local clock is off by more than 5 minutes: sync it (timedatectl / ntp)",
        "AuthFailure.SignatureFailure" => "the SecretKey does not match the SecretId: check this account's credentials",
        "AuthFailure.SecretIdNotFound" => {
            "the SecretId does not exist or was disabled: check this account's credentials in the CAM console"
        }
        "AuthFailure.TokenFailure" => "the session token is invalid or expired: get fresh temporary credentials",
        "AuthFailure.UnauthorizedOperation" | "UnauthorizedOperation" => {
            "these credentials are not allowed to do this: ask for a CAM policy that grants the action"
        }
        "AuthFailure.InvalidSecretId" => "the SecretId is malformed: check this account's credentials",
        "RequestLimitExceeded" => "the service is rate limiting this account: wait a few seconds and retry",
        "RequestLimitExceeded.UinLimitExceeded" | "RequestLimitExceeded.GlobalRegionUinLimitExceeded" => {
            "the main account's request limit is exceeded (all its sub-accounts and tools count): wait a minute, \
             or pause other tools using this account"
        }
        "RequestLimitExceeded.IPLimitExceeded" => {
            "this machine's IP address is over its request limit: wait a minute, or run fewer API tools from it"
        }
        "InternalError" | "InternalError.OssException" | "InternalServerError" => {
            "the service failed: the call may or may not have taken effect; refresh, then retry"
        }
        "MissingParameter" | "InvalidParameter" | "InvalidParameterValue" => {
            "the service rejected the request's parameters: refresh the list; if it persists, report a keyward bug"
        }
        // OceanBase Cloud.
        "unauthorized" | "Unauthorized" => {
            "OceanBase refused the AccessKey: check the one this account uses (the message names where it \
             came from) and that it is enabled in the console"
        }
        "NOT_FOUND" => "the key no longer exists: refresh the list",
        // keyward's local codes.
        "Timeout" => "no answer in time: the call may have taken effect; refresh before retrying",
        // A connection that could not be opened: nothing was sent.
        "ConnectFailed" => "could not reach the service, nothing was sent: check the network, proxy and endpoint",
        // The connection broke after the request went out.
        "Transport" => {
            "the connection dropped after the request was sent: the call may have been applied; \
             refresh before retrying"
        }
        "Protocol" => "the service answered in an unexpected format: check the endpoint in the config",
        "NoProvider" => "add this account and region to the config",
        "Unsupported" => "this kind of key does not support that action",
        "Panic" => "keyward hit a bug in this call: refresh to see whether it took effect, and report it",
        "AuditWriteFailed" => "nothing was sent because the audit log could not be written: fix the log file",
        _ => return None,
    };
    Some(hint)
}

/// Advice for an error: by its code when known, otherwise by its kind. The action is read
/// from the start of the message, where every provider error names it.
pub fn for_error(err: &ProviderError) -> Option<String> {
    // A TLS certificate keyward does not trust (the emulator's own CA, a proxy's).
    if err.message.contains("UnknownIssuer") {
        return Some(
            "the server's TLS certificate is not signed by a CA keyward trusts: for the emulator (--tls), \
             set ca_cert in the account's config table to the CA file it wrote (--cert-out)"
                .into(),
        );
    }
    if err.code == "Transport"
        && err
            .message
            .starts_with(crate::providers::tencent::apigateway::actions::UPDATE_API_KEY)
    {
        return Some(
            "the connection dropped after UpdateApiKey was sent: the key may already be rotated and its old \
             secret invalid; refresh, and rotate again to get a secret you can see"
                .into(),
        );
    }
    if let Some(hint) = for_code(&err.code) {
        return Some(hint.to_string());
    }
    // Unknown codes still have a family: AuthFailure.* and the coarse kinds.
    if err.code.starts_with("AuthFailure") {
        return Some("authentication failed: check this account's credentials and the local clock".into());
    }
    let hint = match err.kind {
        ErrorKind::RateLimited => for_code("RequestLimitExceeded"),
        ErrorKind::Auth => Some("authentication failed: check this account's credentials and the local clock"),
        ErrorKind::Server => for_code("InternalError"),
        ErrorKind::Timeout => for_code("Timeout"),
        ErrorKind::Transport => for_code("Transport"),
        ErrorKind::Protocol => for_code("Protocol"),
        ErrorKind::Api | ErrorKind::Invalid => None,
    };
    hint.map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_codes_have_their_advice() {
        assert_eq!(
            for_code("UnsupportedOperation.ResourceIsInUse"),
            Some("unbind the key from its usage plan first")
        );
        assert_eq!(
            for_code("UnsupportedOperation.InvalidStatus"),
            Some("disable the key first")
        );
        assert!(for_code("AuthFailure.SignatureExpire").unwrap().contains("clock"));
        assert!(for_code("RequestLimitExceeded").is_some());
        assert!(for_code("RequestLimitExceeded.UinLimitExceeded").is_some_and(|h| h.contains("main account")));
        assert!(for_code("RequestLimitExceeded.IPLimitExceeded").is_some_and(|h| h.contains("IP address")));
        assert!(for_code("InvalidKeyPairId.NotFound").unwrap().contains("refresh"));
        assert!(for_code("AuthFailure.SecretIdNotFound").unwrap().contains("SecretId"));
        assert!(for_code("AuthFailure.SignatureFailure").unwrap().contains("SecretKey"));
        assert_eq!(for_code("SomethingNew"), None);
    }

    #[test]
    fn transport_failures_say_whether_the_call_may_have_happened() {
        let dropped = ProviderError::new(ErrorKind::Transport, "Transport", "DeleteKeyPairs: connection reset");
        let hint = for_error(&dropped).unwrap();
        assert!(
            hint.contains("may have been applied") && !hint.contains("could not reach"),
            "{hint}"
        );
        let rotate = ProviderError::new(ErrorKind::Transport, "Transport", "UpdateApiKey: connection reset");
        assert!(for_error(&rotate).unwrap().contains("old secret"), "rotation");
        let refused = ProviderError::new(ErrorKind::Transport, crate::providers::CONNECT_FAILED, "x: refused");
        assert!(for_error(&refused).unwrap().contains("nothing was sent"));
        let tls = ProviderError::new(
            ErrorKind::Transport,
            crate::providers::CONNECT_FAILED,
            "DescribeKeyPairs: cannot connect (invalid peer certificate: UnknownIssuer)",
        );
        assert!(for_error(&tls).unwrap().contains("ca_cert"));
    }

    #[test]
    fn hints_speak_of_accounts_and_the_real_oceanbase_source() {
        assert!(
            for_code("InvalidParameterValue.InvalidRegion")
                .unwrap()
                .contains("account")
        );
        let ob = for_code("unauthorized").unwrap();
        assert!(!ob.contains("OCEANBASE_ACCESS_KEY"), "{ob}");
        let all = [
            "InvalidParameterValue.InvalidRegion",
            "AuthFailure.SignatureFailure",
            "AuthFailure.SecretIdNotFound",
            "AuthFailure.InvalidSecretId",
            "NoProvider",
        ];
        assert!(all.iter().all(|c| !for_code(c).unwrap().contains("profile")));
    }

    #[test]
    fn unknown_codes_fall_back_to_their_kind() {
        let err = ProviderError::new(ErrorKind::Timeout, "ReadTimeout", "no answer");
        assert!(for_error(&err).unwrap().contains("may have taken effect"));
        let err = ProviderError::new(ErrorKind::Api, "AuthFailure.Whatever", "x");
        assert!(for_error(&err).unwrap().contains("credentials"));
        let err = ProviderError::new(ErrorKind::Api, "ResourceNotFound.Other", "x");
        assert_eq!(for_error(&err), None);
    }
}
