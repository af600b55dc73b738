//! Tencent Cloud CAM access keys (cam 2019-01-16): the SecretId/SecretKey pairs of an
//! account's root and sub-users. CAM is global: one source per account, no region.
//!
//! Facts (CAM API pages: ListAccessKeys 598/45156, GetSecurityLastUsed 598/58230,
//! DeleteAccessKey 598/82369, CreateAccessKey 598/52594, UpdateAccessKey 598/52592 on the
//! international site):
//! - hosts: `cam.tencentcloudapi.com` (China site), `cam.intl.tencentcloudapi.com`
//!   (international site); "Region: this parameter is not required for this API";
//! - DeleteAccessKey is high risk: "the key cannot be recovered once deleted"; 5 req/s;
//! - CreateAccessKey and UpdateAccessKey: 5 req/s; ListUsers, ListAccessKeys and
//!   GetSecurityLastUsed: 20 req/s;
//! - GetSecurityLastUsed takes at most 10 SecretIds per call; LastUsedDate lags a day;
//! - a user has at most two access keys.

/// The cam 2019-01-16 actions keyward uses, by the names the API, the log pane and the
/// audit log use. The emulator serves exactly these.
pub mod actions {
    pub const LIST_USERS: &str = "ListUsers";
    pub const LIST_ACCESS_KEYS: &str = "ListAccessKeys";
    pub const GET_SECURITY_LAST_USED: &str = "GetSecurityLastUsed";
    pub const UPDATE_ACCESS_KEY: &str = "UpdateAccessKey";
    pub const DELETE_ACCESS_KEY: &str = "DeleteAccessKey";
    pub const CREATE_ACCESS_KEY: &str = "CreateAccessKey";

    pub const ALL: &[&str] = &[
        LIST_USERS,
        LIST_ACCESS_KEYS,
        GET_SECURITY_LAST_USED,
        UPDATE_ACCESS_KEY,
        DELETE_ACCESS_KEY,
        CREATE_ACCESS_KEY,
    ];
}

/// The service name and version of CAM.
pub const SERVICE: &str = "cam";
pub const VERSION: &str = "2019-01-16";
/// The region a CAM source's scope carries: CAM is one global service per account.
pub const GLOBAL: &str = "global";
/// GetSecurityLastUsed: "SecretIdList: at most 10".
pub const LAST_USED_BATCH: usize = 10;
/// Access keys one user (root or sub-user) may have.
pub const MAX_KEYS_PER_USER: usize = 2;

/// Documented requests per second of each action (check each action's page).
pub fn rate_per_second(action: &str) -> u32 {
    match action {
        // UpdateAccessKey (598/52592): "A maximum of 5 requests can be initiated per second".
        actions::CREATE_ACCESS_KEY | actions::DELETE_ACCESS_KEY | actions::UPDATE_ACCESS_KEY => 5,
        _ => 20,
    }
}

// The provider (listing, the calls, the owner bookkeeping) and the pure reading of each
// answer, kept apart so the mapping rules are tested without a client.
mod answers;
mod provider;

pub use answers::{beijing_to_utc, last_used_date};
pub use provider::{Cam, NewAccessKey};

use crate::providers::{BoundDelete, Capabilities, Operation};

/// The action of each operation CAM access keys support: disable, enable and delete
/// (rotation is staged, through [`Cam::create_access_key`], not an in-place secret change).
pub const fn action(op: Operation) -> Option<&'static str> {
    match op {
        Operation::Delete => Some(actions::DELETE_ACCESS_KEY),
        Operation::Disable | Operation::Enable => Some(actions::UPDATE_ACCESS_KEY),
        // Staged: a new key beside the old one (see `CAPABILITIES.staged_rotation`).
        Operation::Rotate => Some(actions::CREATE_ACCESS_KEY),
        Operation::Rename => None,
    }
}

/// What CAM access keys support. Disable before delete: the console deletes only a
/// disabled key ("删除主账号 API 密钥: 单击操作列的【禁用】..." first, tencentcloud.com/zh/
/// document/product/598/34228), and a key still in use is far better caught by a disable
/// the operator can undo than by a delete nobody can. One key per DeleteAccessKey. An
/// AccessKeyId that does not exist: `ResourceNotFound.SecretNotExist` ("密钥不存在", the
/// SDK's UpdateAccessKey error list, tencentcloud-sdk-go cam/v20190116 errors.go).
pub const CAPABILITIES: Capabilities = Capabilities {
    enable_disable: action(Operation::Disable).is_some() && action(Operation::Enable).is_some(),
    rotate: action(Operation::Rotate).is_some(),
    rename: action(Operation::Rename).is_some(),
    delete_requires_disabled: true,
    delete_batch: 1,
    bound_delete: BoundDelete::Unknown,
    gone_code: Some("ResourceNotFound.SecretNotExist"),
    delete_note: Some(DELETE_WARNING),
    staged_rotation: true,
    // GetSecurityLastUsed is asked for every listed key: no date means no recorded use.
    reports_last_use: true,
};

/// What the confirmation says of a plan that deletes CAM keys, in words: DeleteAccessKey
/// "is a high-risk operation because the key cannot be recovered once deleted".
pub const DELETE_WARNING: &str = "deleting a CAM access key cannot be undone: Tencent Cloud refuses every request signed \
     with it from then on, and the SecretKey is gone for good";
