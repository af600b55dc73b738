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
