//! CAM (cam 2019-01-16) access key actions, over one account's users and keys. The caller
//! is the user whose key signed the request; `TargetUin` names another user of the same
//! account, and without it an action works on the caller's own keys.
//!
//! Error codes are the SDK's per-action lists (tencentcloud-sdk-go cam/v20190116
//! client.go, errors.go):
//! - unknown `TargetUin`: `InvalidParameter.UserNotExist` (listed for every key action);
//! - unknown `AccessKeyId`: `ResourceNotFound.SecretNotExist` ("密钥不存在", listed for
//!   UpdateAccessKey; DeleteAccessKey's list has no not-found code of its own, and the same
//!   missing key is the same fact there);
//! - a key of another user than the target: `OperationDenied.UinNotMatch` ("被操作密钥与账号不匹配");
//! - a sub-user acting on the root's keys: `OperationDenied.SubUin` ("子用户不允许操作主账号密钥");
//! - a third key: `OperationDenied.AccessKeyOverLimit` ("每个账号最多支持两个AccessKey");
//! - deleting an Active key, when the seed says the service refuses it (the docs are
//!   silent; the console asks to disable first): `FailedOperation.Accesskey`
//!   ("操作访问密钥错误"), the one code in DeleteAccessKey's list about the key operation
//!   itself rather than the user, the uin or the quota;
//! - more than 10 SecretIds to GetSecurityLastUsed: `InvalidParameter`, one of the two
//!   codes its list has.

use super::params::{Params, missing};
use crate::emulator::fake;
use crate::emulator::model::{ApiError, CamAccount, CamKeyRecord, beijing, beijing_date};
use crate::providers::tencent::cam::{LAST_USED_BATCH, MAX_KEYS_PER_USER, actions};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// One call by the user `caller_uin` over the account's CAM; `now` is the server's clock.
pub(crate) fn dispatch(
    action: &str,
    cam: &mut CamAccount,
    caller_uin: u64,
    p: &Params,
    now: DateTime<Utc>,
) -> Result<Value, ApiError> {
    match action {
        actions::LIST_USERS => list_users(cam, p),
        actions::LIST_ACCESS_KEYS => list_access_keys(cam, caller_uin, p),
        actions::GET_SECURITY_LAST_USED => last_used(cam, p),
        actions::UPDATE_ACCESS_KEY => update(cam, caller_uin, p),
        actions::DELETE_ACCESS_KEY => delete(cam, caller_uin, p),
        actions::CREATE_ACCESS_KEY => create(cam, caller_uin, p, now),
        _ => Err(ApiError::new(
            "InvalidAction",
            format!("The action {action} does not exist."),
        )),
    }
}

/// `TargetUin`, an Integer by the docs; the docs' own DeleteAccessKey example sends it as a
/// string of digits, so both are taken.
fn target_uin(p: &Params) -> Result<Option<u64>, ApiError> {
    let invalid = || {
        ApiError::new(
            "InvalidParameter.ParamError",
            "TargetUin must be a user's uin, a positive integer.",
        )
    };
    if let Ok(n) = p.opt_int("TargetUin") {
        return n.map(|n| u64::try_from(n).map_err(|_| invalid())).transpose();
    }
    match p.opt_str("TargetUin") {
        Ok(Some(s)) => s.parse::<u64>().map(Some).map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

/// The user an action works on: `TargetUin`, or the caller. Refuses an unknown user, and a
/// sub-user reaching for the root's keys.
fn target(cam: &CamAccount, caller_uin: u64, p: &Params) -> Result<u64, ApiError> {
    let uin = target_uin(p)?.unwrap_or(caller_uin);
    if cam.user(uin).is_none() {
        return Err(ApiError::new(
            "InvalidParameter.UserNotExist",
            format!("The user {uin} does not exist in this account: check TargetUin against ListUsers."),
        ));
    }
    if uin == cam.root_uin && caller_uin != cam.root_uin {
        return Err(ApiError::new(
            "OperationDenied.SubUin",
            "A sub-user may not operate the root account's access keys: sign with the root's key.",
        ));
    }
    Ok(uin)
}

/// The key `AccessKeyId` of user `uin`: unknown ids and keys of another user are refused.
fn owned_key<'a>(cam: &'a CamAccount, uin: u64, p: &Params) -> Result<&'a CamKeyRecord, ApiError> {
    let id = p.req_str("AccessKeyId")?;
    let key = cam.key(id).ok_or_else(|| {
        ApiError::new(
            "ResourceNotFound.SecretNotExist",
            format!("The access key {id} does not exist (it may have been deleted)."),
        )
    })?;
    if key.owner_uin != uin {
        return Err(ApiError::new(
            "OperationDenied.UinNotMatch",
            format!("The access key {id} does not belong to user {uin}: set TargetUin to its owner."),
        ));
    }
    Ok(key)
}

fn list_users(cam: &CamAccount, p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&[])?;
    let users: Vec<Value> = cam
        .users
        .iter()
        .filter(|u| !u.root)
        .map(|u| {
            json!({
                "Uin": u.uin,
                "Name": u.name,
                "Uid": u.uid,
                "Remark": u.remark,
                "ConsoleLogin": u64::from(u.console_login),
                "PhoneNum": "",
                "CountryCode": "86",
                "Email": "",
                "CreateTime": u.created,
                "NickName": u.name,
            })
        })
        .collect();
    Ok(json!({ "Data": users }))
}

fn list_access_keys(cam: &CamAccount, caller_uin: u64, p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["TargetUin"])?;
    let uin = target(cam, caller_uin, p)?;
    let keys: Vec<Value> = cam
        .keys
        .iter()
        .filter(|k| k.owner_uin == uin)
        .map(|k| {
            json!({
                "AccessKeyId": k.id,
                "Status": k.status(),
                "CreateTime": k.created,
                "Description": k.description,
            })
        })
        .collect();
    Ok(json!({ "AccessKeys": keys }))
}

/// One row per requested SecretId of this account, in the order asked; ids of no key of
/// the account have no row. A never-used key's row has an empty `LastUsedDate` and a
/// `LastSecretUsedDate` of 0: the docs do not say what the service writes there.
fn last_used(cam: &CamAccount, p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["SecretIdList"])?;
    let ids = p.opt_str_list("SecretIdList")?.ok_or_else(|| missing("SecretIdList"))?;
    if ids.is_empty() {
        return Err(ApiError::new(
            "InvalidParameter",
            "SecretIdList is empty: give between 1 and 10 SecretIds.",
        ));
    }
    if ids.len() > LAST_USED_BATCH {
        return Err(ApiError::new(
            "InvalidParameter",
            format!(
                "SecretIdList holds {} SecretIds; at most {LAST_USED_BATCH} may be queried per call.",
                ids.len()
            ),
        ));
    }
    let rows: Vec<Value> = ids
        .iter()
        .filter_map(|id| cam.key(id))
        .map(|k| {
            json!({
                "SecretId": k.id,
                "LastUsedDate": k.last_used.map(beijing_date).unwrap_or_default(),
                "LastSecretUsedDate": k.last_used.map(|t| t.timestamp_millis()).unwrap_or(0),
            })
        })
        .collect();
    Ok(json!({ "SecretIdLastUsedRows": rows }))
}

fn update(cam: &mut CamAccount, caller_uin: u64, p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["AccessKeyId", "Status", "TargetUin"])?;
    let uin = target(cam, caller_uin, p)?;
    let active = match p.req_str("Status")? {
        "Active" => true,
        "Inactive" => false,
        other => {
            return Err(ApiError::new(
                "InvalidParameter.ParamError",
                format!("Status {other:?} is not valid: use Active or Inactive."),
            ));
        }
    };
    let id = owned_key(cam, uin, p)?.id.clone();
    if let Some(k) = cam.keys.iter_mut().find(|k| k.id == id) {
        k.active = active;
    }
    Ok(json!({}))
}

fn delete(cam: &mut CamAccount, caller_uin: u64, p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["AccessKeyId", "TargetUin"])?;
    let uin = target(cam, caller_uin, p)?;
    let key = owned_key(cam, uin, p)?;
    if key.active && cam.delete_requires_inactive {
        return Err(ApiError::new(
            "FailedOperation.Accesskey",
            format!(
                "The access key {} is Active: disable it (UpdateAccessKey Status=Inactive) before deleting it.",
                key.id
            ),
        ));
    }
    let id = key.id.clone();
    cam.keys.retain(|k| k.id != id);
    Ok(json!({}))
}

fn create(cam: &mut CamAccount, caller_uin: u64, p: &Params, now: DateTime<Utc>) -> Result<Value, ApiError> {
    p.allow_only(&["TargetUin", "Description"])?;
    let uin = target(cam, caller_uin, p)?;
    let description = p.opt_str("Description")?.unwrap_or_default().to_string();
    if cam.keys.iter().filter(|k| k.owner_uin == uin).count() >= MAX_KEYS_PER_USER {
        return Err(ApiError::new(
            "OperationDenied.AccessKeyOverLimit",
            format!(
                "User {uin} already has {MAX_KEYS_PER_USER} access keys, the most a user may have: delete one first."
            ),
        ));
    }
    let mut rng = rand::rng();
    let mut id = fake::cam_secret_id(&mut rng);
    while cam.key(&id).is_some() {
        id = fake::cam_secret_id(&mut rng);
    }
    let key = CamKeyRecord {
        id,
        secret: fake::cam_secret_key(&mut rng).into(),
        owner_uin: uin,
        active: true,
        created: beijing(now),
        description,
        last_used: None,
    };
    // The SecretKey is answered once, here; the API never shows it again.
    let answer = json!({
        "AccessKey": {
            "AccessKeyId": key.id,
            "SecretAccessKey": key.secret.expose(),
            "Status": key.status(),
            "CreateTime": key.created,
        }
    });
    cam.keys.push(key);
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::model::CamUserRecord;
    use crate::secret::Secret;

    const ROOT: u64 = 100_000_000_001;
    const DEV: u64 = 100_000_000_101;
    const CI: u64 = 100_000_000_102;

    fn user(uin: u64, name: &str, root: bool) -> CamUserRecord {
        CamUserRecord {
            uin,
            name: name.into(),
            uid: uin % 1000,
            remark: String::new(),
            console_login: false,
            created: "2024-01-01 08:00:00".into(),
            root,
        }
    }

    fn key(id: &str, owner_uin: u64, active: bool, last_used: Option<DateTime<Utc>>) -> CamKeyRecord {
        CamKeyRecord {
            id: id.into(),
            secret: Secret::new(format!("secret-of-{id}")),
            owner_uin,
            active,
            created: "2024-01-01 08:00:00".into(),
            description: String::new(),
            last_used,
        }
    }

    fn account() -> CamAccount {
        let used = "2025-03-01T20:30:00Z".parse::<DateTime<Utc>>().unwrap();
        CamAccount {
            root_uin: ROOT,
            users: vec![user(ROOT, "acme", true), user(DEV, "dev", false), user(CI, "ci", false)],
            keys: vec![
                key("AKIDroot1", ROOT, true, Some(used)),
                key("AKIDdev1", DEV, true, None),
                key("AKIDdev2", DEV, false, None),
            ],
            delete_requires_inactive: true,
        }
    }

    fn call(action: &str, cam: &mut CamAccount, caller: u64, v: Value) -> Result<Value, ApiError> {
        dispatch(action, cam, caller, &Params::from_value(v), Utc::now())
    }

    fn code(r: Result<Value, ApiError>) -> String {
        r.unwrap_err().code
    }

    fn ids(r: &Value) -> Vec<&str> {
        r["AccessKeys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["AccessKeyId"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn list_users_lists_the_sub_users_only() {
        let mut cam = account();
        let r = call("ListUsers", &mut cam, ROOT, json!({})).unwrap();
        let names: Vec<&str> = r["Data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["dev", "ci"]);
        assert_eq!(r["Data"][0]["Uin"], DEV);
        assert_eq!(r["Data"][0]["ConsoleLogin"], 0);
        assert_eq!(
            code(call("ListUsers", &mut cam, ROOT, json!({"Limit": 1}))),
            "UnknownParameter"
        );
    }

    #[test]
    fn list_access_keys_defaults_to_the_callers_own() {
        let mut cam = account();
        assert_eq!(
            ids(&call("ListAccessKeys", &mut cam, ROOT, json!({})).unwrap()),
            ["AKIDroot1"]
        );
        assert_eq!(
            ids(&call("ListAccessKeys", &mut cam, DEV, json!({})).unwrap()),
            ["AKIDdev1", "AKIDdev2"]
        );
        let r = call("ListAccessKeys", &mut cam, ROOT, json!({"TargetUin": DEV})).unwrap();
        assert_eq!(r["AccessKeys"][1]["Status"], "Inactive");
        assert_eq!(r["AccessKeys"][0]["CreateTime"], "2024-01-01 08:00:00");
        // The docs' examples send TargetUin as a string of digits.
        let r = call("ListAccessKeys", &mut cam, ROOT, json!({"TargetUin": CI.to_string()})).unwrap();
        assert!(ids(&r).is_empty());
        assert_eq!(
            code(call("ListAccessKeys", &mut cam, ROOT, json!({"TargetUin": 42}))),
            "InvalidParameter.UserNotExist"
        );
        assert_eq!(
            code(call("ListAccessKeys", &mut cam, ROOT, json!({"TargetUin": "x"}))),
            "InvalidParameter.ParamError"
        );
        assert_eq!(
            code(call("ListAccessKeys", &mut cam, DEV, json!({"TargetUin": ROOT}))),
            "OperationDenied.SubUin"
        );
    }

    #[test]
    fn last_used_answers_dates_in_beijing_time_and_caps_the_batch() {
        let mut cam = account();
        let r = call(
            "GetSecurityLastUsed",
            &mut cam,
            ROOT,
            json!({"SecretIdList": ["AKIDdev1", "AKIDunknown", "AKIDroot1"]}),
        )
        .unwrap();
        let rows = r["SecretIdLastUsedRows"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "no row for an id of no key: {r}");
        assert_eq!(rows[0]["SecretId"], "AKIDdev1");
        assert_eq!(rows[0]["LastUsedDate"], "");
        assert_eq!(rows[0]["LastSecretUsedDate"], 0);
        // 20:30 UTC on 1 March is 04:30 on 2 March in Beijing.
        assert_eq!(rows[1]["LastUsedDate"], "2025-03-02");
        assert_eq!(rows[1]["LastSecretUsedDate"], 1_740_861_000_000_i64);
        let ten: Vec<String> = (0..LAST_USED_BATCH).map(|i| format!("AKID{i}")).collect();
        assert!(call("GetSecurityLastUsed", &mut cam, ROOT, json!({"SecretIdList": ten})).is_ok());
        let eleven: Vec<String> = (0..=LAST_USED_BATCH).map(|i| format!("AKID{i}")).collect();
        let err = call("GetSecurityLastUsed", &mut cam, ROOT, json!({"SecretIdList": eleven})).unwrap_err();
        assert_eq!(err.code, "InvalidParameter");
        assert!(err.message.contains("at most 10"), "{}", err.message);
        assert_eq!(
            code(call("GetSecurityLastUsed", &mut cam, ROOT, json!({}))),
            "MissingParameter"
        );
        assert_eq!(
            code(call("GetSecurityLastUsed", &mut cam, ROOT, json!({"SecretIdList": []}))),
            "InvalidParameter"
        );
    }

    #[test]
    fn update_changes_the_status_of_the_targets_key_only() {
        let mut cam = account();
        call(
            "UpdateAccessKey",
            &mut cam,
            ROOT,
            json!({"AccessKeyId": "AKIDdev2", "Status": "Active", "TargetUin": DEV}),
        )
        .unwrap();
        assert!(cam.key("AKIDdev2").unwrap().active);
        call(
            "UpdateAccessKey",
            &mut cam,
            DEV,
            json!({"AccessKeyId": "AKIDdev1", "Status": "Inactive"}),
        )
        .unwrap();
        assert!(!cam.key("AKIDdev1").unwrap().active);
        let bad = |cam: &mut CamAccount, caller, v| code(call("UpdateAccessKey", cam, caller, v));
        assert_eq!(
            bad(
                &mut cam,
                ROOT,
                json!({"AccessKeyId": "AKIDdev1", "Status": "Disabled", "TargetUin": DEV})
            ),
            "InvalidParameter.ParamError"
        );
        assert_eq!(
            bad(&mut cam, ROOT, json!({"AccessKeyId": "AKIDgone", "Status": "Active"})),
            "ResourceNotFound.SecretNotExist"
        );
        // Without TargetUin the root acts on its own keys, which AKIDdev1 is not.
        assert_eq!(
            bad(&mut cam, ROOT, json!({"AccessKeyId": "AKIDdev1", "Status": "Active"})),
            "OperationDenied.UinNotMatch"
        );
        assert_eq!(
            bad(&mut cam, ROOT, json!({"AccessKeyId": "AKIDdev1"})),
            "MissingParameter"
        );
        assert_eq!(
            bad(
                &mut cam,
                DEV,
                json!({"AccessKeyId": "AKIDroot1", "Status": "Inactive", "TargetUin": ROOT})
            ),
            "OperationDenied.SubUin"
        );
        assert!(cam.key("AKIDroot1").unwrap().active, "a refused call changes nothing");
    }

    #[test]
    fn delete_of_an_active_key_follows_the_seed_switch() {
        let mut cam = account();
        let del = |cam: &mut CamAccount, id: &str| {
            call(
                "DeleteAccessKey",
                cam,
                ROOT,
                json!({"AccessKeyId": id, "TargetUin": DEV}),
            )
        };
        let err = del(&mut cam, "AKIDdev1").unwrap_err();
        assert_eq!(err.code, "FailedOperation.Accesskey");
        assert!(err.message.contains("Inactive"), "{}", err.message);
        assert!(cam.key("AKIDdev1").is_some());
        del(&mut cam, "AKIDdev2").unwrap();
        assert!(cam.key("AKIDdev2").is_none());
        assert_eq!(code(del(&mut cam, "AKIDdev2")), "ResourceNotFound.SecretNotExist");

        cam.delete_requires_inactive = false;
        del(&mut cam, "AKIDdev1").unwrap();
        assert!(cam.key("AKIDdev1").is_none());
        assert_eq!(
            code(call(
                "DeleteAccessKey",
                &mut cam,
                ROOT,
                json!({"AccessKeyId": "AKIDroot1", "TargetUin": CI})
            )),
            "OperationDenied.UinNotMatch"
        );
    }

    #[test]
    fn create_answers_the_secret_once_and_stops_at_two_keys() {
        let mut cam = account();
        let r = call(
            "CreateAccessKey",
            &mut cam,
            ROOT,
            json!({"TargetUin": CI, "Description": "deploy"}),
        )
        .unwrap();
        let made = &r["AccessKey"];
        let id = made["AccessKeyId"].as_str().unwrap();
        assert!(id.starts_with("AKID") && id.len() == 36, "{id}");
        assert_eq!(made["Status"], "Active");
        let stored = cam.key(id).unwrap().clone();
        assert_eq!(made["SecretAccessKey"], stored.secret.expose());
        assert_eq!((stored.owner_uin, stored.description.as_str()), (CI, "deploy"));
        let listed = call("ListAccessKeys", &mut cam, ROOT, json!({"TargetUin": CI})).unwrap();
        assert!(listed.to_string().contains(id) && !listed.to_string().contains(stored.secret.expose()));
        call("CreateAccessKey", &mut cam, CI, json!({})).unwrap();
        let err = call("CreateAccessKey", &mut cam, ROOT, json!({"TargetUin": CI})).unwrap_err();
        assert_eq!(err.code, "OperationDenied.AccessKeyOverLimit");
        assert_eq!(cam.keys.iter().filter(|k| k.owner_uin == CI).count(), MAX_KEYS_PER_USER);
        // DEV already has two, one of them Inactive: Inactive keys count too.
        assert_eq!(
            code(call("CreateAccessKey", &mut cam, DEV, json!({}))),
            "OperationDenied.AccessKeyOverLimit"
        );
    }
}
