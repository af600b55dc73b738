//! STS AssumeRole (sts 2018-08-13): temporary credentials of a role of some account, for a
//! caller the role's trust policy names. Codes are the SDK's for this action
//! (`ResourceNotFound.RoleNotFound`, `InvalidParameter.AccountNotAvaliable`,
//! `InvalidParameter.ParamError`, `InvalidParameter.OverTimeError`, `UnauthorizedOperation`);
//! which of them a trust-policy mismatch gets is not documented: `UnauthorizedOperation`
//! ("unauthorized operation") is the one that fits, with the reason in the message.

use super::params::Params;
use crate::emulator::auth::Caller;
use crate::emulator::fake;
use crate::emulator::model::ApiError;
use crate::emulator::state::{Data, TempKey};
use crate::providers::tencent::sts::{self, codes};
use crate::secret::Secret;
use serde_json::{Value, json};

pub(crate) fn dispatch(
    action: &str,
    data: &mut Data,
    caller: &Caller,
    p: &Params,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Value, ApiError> {
    match action {
        sts::ASSUME_ROLE => assume_role(data, caller, p, now),
        _ => Err(ApiError::new("InvalidAction", format!("{action} is not served."))),
    }
}

/// `qcs::cam::uin/<uin>:roleName/<name>` as (uin, name).
fn parse_arn(arn: &str) -> Option<(u64, &str)> {
    let rest = arn.strip_prefix("qcs::cam::uin/")?;
    let (uin, name) = rest.split_once(":roleName/")?;
    Some((uin.parse().ok()?, name))
}

fn assume_role(
    data: &mut Data,
    caller: &Caller,
    p: &Params,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Value, ApiError> {
    p.allow_only(&[
        "RoleArn",
        "RoleSessionName",
        "DurationSeconds",
        "Policy",
        "ExternalId",
        "Tags",
        "SourceIdentity",
    ])?;
    let arn = p.req_str("RoleArn")?;
    let session = p.req_str("RoleSessionName")?;
    sts::check_session_name(session)
        .map_err(|why| ApiError::new(codes::PARAM_ERROR, format!("RoleSessionName {session:?} {why}.")))?;
    let duration = p
        .opt_int("DurationSeconds")?
        .unwrap_or(i64::from(sts::DEFAULT_DURATION_SECS));
    if duration > i64::from(sts::MAX_DURATION_SECS) {
        return Err(ApiError::new(
            codes::OVER_TIME,
            format!(
                "DurationSeconds {duration} exceeds the maximum of {}.",
                sts::MAX_DURATION_SECS
            ),
        ));
    }
    if duration < 1 {
        return Err(ApiError::new(
            codes::PARAM_ERROR,
            format!("DurationSeconds {duration} must be positive."),
        ));
    }
    let (uin, role_name) = parse_arn(arn).ok_or_else(|| {
        ApiError::new(
            codes::PARAM_ERROR,
            format!("RoleArn {arn:?} is not qcs::cam::uin/<uin>:roleName/<role name>."),
        )
    })?;
    let account = data.tencent_by_uin(uin).ok_or_else(|| {
        ApiError::new(
            codes::ACCOUNT_NOT_AVAILABLE,
            format!("The account {uin} does not exist or is not available."),
        )
    })?;
    let role = account.roles.iter().find(|r| r.name == role_name).ok_or_else(|| {
        ApiError::new(
            codes::ROLE_NOT_FOUND,
            format!("The role {role_name} does not exist in account {uin}."),
        )
    })?;
    if !role.trusted.contains(&caller.account) {
        return Err(ApiError::new(
            codes::UNAUTHORIZED,
            format!(
                "The trust policy of role {role_name} in account {uin} does not allow the caller's account to assume it."
            ),
        ));
    }
    if let Some(want) = &role.external_id
        && p.opt_str("ExternalId")? != Some(want.as_str())
    {
        return Err(ApiError::new(
            codes::UNAUTHORIZED,
            format!("The trust policy of role {role_name} requires an ExternalId the request did not match."),
        ));
    }
    let target = account.name.clone();
    let ttl = data.token_ttl_secs.map_or(duration, |t| t as i64);
    let expires_at = now.timestamp() + ttl;
    let mut rng = rand::rng();
    let secret_id = format!(
        "AKIDTMP{}",
        fake::chars(&mut rng, b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789", 29)
    );
    let secret_key = fake::chars(
        &mut rng,
        b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789",
        32,
    );
    let token = fake::chars(
        &mut rng,
        b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ0123456789",
        64,
    );
    data.temp_keys.retain(|_, k| k.expires_at > now.timestamp() - 3600);
    data.temp_keys.insert(
        secret_id.clone(),
        TempKey {
            account: target,
            secret: Secret::new(secret_key.clone()),
            token: Secret::new(token.clone()),
            expires_at,
        },
    );
    let expiration = chrono::DateTime::from_timestamp(expires_at, 0)
        .unwrap_or(now)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    Ok(json!({
        "Credentials": {"Token": token, "TmpSecretId": secret_id, "TmpSecretKey": secret_key},
        "ExpiredTime": expires_at,
        "Expiration": expiration,
    }))
}
