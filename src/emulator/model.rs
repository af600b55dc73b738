//! The emulator's shared model types, a leaf of `emulator/`: the services it serves, the
//! records it stores, its API error, its fault settings and the Digest nonce table. The
//! state (`state.rs`) holds them, the handlers (`tencent/`, `oceanbase.rs`, `auth.rs`,
//! `digest.rs`, `faults.rs`) read and change them through the state; nothing here depends
//! on either, so `emulator/` has no dependency circle.

use crate::providers::tencent::apigateway::actions as apigateway_actions;
use crate::providers::tencent::cam;
use crate::providers::tencent::cvm::actions as cvm_actions;
use crate::providers::tencent::{organization, sts};
use crate::secret::Secret;
use rand::Rng;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The Tencent services keyward manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcService {
    ApiGateway,
    Cvm,
    /// CAM access keys: global, one set of users and keys per account, no region.
    Cam,
    /// STS AssumeRole: temporary credentials of a role of some account.
    Sts,
    /// Organization: the member accounts of the caller's organization; global.
    Organization,
}

impl TcService {
    pub const ALL: [TcService; 5] = [
        TcService::ApiGateway,
        TcService::Cvm,
        TcService::Cam,
        TcService::Sts,
        TcService::Organization,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TcService::ApiGateway => "apigateway",
            TcService::Cvm => "cvm",
            TcService::Cam => cam::SERVICE,
            TcService::Sts => sts::SERVICE,
            TcService::Organization => organization::SERVICE,
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            TcService::ApiGateway => "2018-08-08",
            TcService::Cvm => "2017-03-12",
            TcService::Cam => cam::VERSION,
            TcService::Sts => sts::VERSION,
            TcService::Organization => organization::VERSION,
        }
    }

    /// Documented requests per second of `action`: one figure for every API of apigateway
    /// and cvm, a figure per action for CAM (the provider module's).
    pub fn rate_limit(self, action: &str) -> u32 {
        match self {
            TcService::ApiGateway => 20,
            TcService::Cvm => 10,
            TcService::Cam => cam::rate_per_second(action),
            TcService::Sts => sts::RATE_PER_SECOND,
            TcService::Organization => organization::RATE_PER_SECOND,
        }
    }

    pub fn from_name(name: &str) -> Option<TcService> {
        TcService::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether the service is global ("Region: this parameter is not required for this
    /// API"): `X-TC-Region` is then optional and ignored, and no region check applies.
    /// STS documents Region as required but serves every region alike: it is treated as
    /// global here (a region, if sent, is not checked against the caller's).
    pub fn is_global(self) -> bool {
        matches!(self, TcService::Cam | TcService::Sts | TcService::Organization)
    }

    /// Every action the emulator serves for this service: the provider module's list.
    pub(crate) fn actions(self) -> &'static [&'static str] {
        match self {
            TcService::ApiGateway => apigateway_actions::ALL,
            TcService::Cvm => cvm_actions::ALL,
            TcService::Cam => cam::actions::ALL,
            TcService::Sts => sts::ACTIONS,
            TcService::Organization => organization::ACTIONS,
        }
    }

    /// The error an account gets for a region it does not have (never asked of a global
    /// service, which has no regions; the common code stands in).
    pub(crate) fn invalid_region(self, region: &str) -> ApiError {
        match self {
            TcService::Cam | TcService::Sts | TcService::Organization => ApiError::new(
                "UnsupportedRegion",
                format!("The region {region} is not supported: {} is global.", self.name()),
            ),
            TcService::ApiGateway => ApiError::new(
                "InvalidParameterValue.InvalidRegion",
                format!("Incorrect region: {region} is not a region of this account."),
            ),
            TcService::Cvm => ApiError::new(
                "UnsupportedRegion",
                format!("The region {region} is not supported for this account."),
            ),
        }
    }
}

/// A `Response.Error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// An API Gateway key as the emulator stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub secret: Secret,
    /// `auto` or `manual`.
    pub key_type: String,
    pub name: String,
    pub enabled: bool,
    pub usage_plan: Option<String>,
    pub created: String,
    pub modified: String,
}

/// A CVM key pair as the emulator stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPairRecord {
    pub id: String,
    /// The region it was created in. For information only where an account's key pairs
    /// are global (every region sees and acts on them); DescribeKeyPairs has no such field.
    pub region: String,
    pub name: String,
    pub project_id: i64,
    pub description: String,
    pub public_key: String,
    pub instance_ids: Vec<String>,
    /// Not visible through DescribeKeyPairs (the API has no field for it), but it keeps
    /// the pair from being deleted, as the DeleteKeyPairs doc says.
    pub image_ids: Vec<String>,
    pub created: String,
}

impl KeyPairRecord {
    pub fn is_bound(&self) -> bool {
        !self.instance_ids.is_empty() || !self.image_ids.is_empty()
    }
}

/// A CAM user of an account: its root (the account's owner) or a sub-user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CamUserRecord {
    pub uin: u64,
    pub name: String,
    pub uid: u64,
    pub remark: String,
    pub console_login: bool,
    /// Beijing time, `YYYY-MM-DD hh:mm:ss`, as ListUsers writes it.
    pub created: String,
    /// The account's root user: ListUsers (sub-users only) does not list it.
    pub root: bool,
}

/// A CAM access key (a SecretId and its SecretKey) as the emulator stores it. `Debug`
/// masks the secret (`Secret`'s own Debug).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CamKeyRecord {
    pub id: String,
    pub secret: Secret,
    /// The uin of the user the key belongs to.
    pub owner_uin: u64,
    pub active: bool,
    /// Beijing time (UTC+8) without a zone, `YYYY-MM-DD hh:mm:ss`, as ListAccessKeys writes it.
    pub created: String,
    pub description: String,
    /// When the key was last used; None: never.
    pub last_used: Option<chrono::DateTime<chrono::Utc>>,
}

impl CamKeyRecord {
    /// `Active` or `Inactive`, the API's words.
    pub fn status(&self) -> &'static str {
        if self.active { "Active" } else { "Inactive" }
    }
}

/// A CAM key as tests see it through `EmulatorState::cam_keys`: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CamKeyView {
    pub id: String,
    pub owner_uin: u64,
    pub status: &'static str,
    pub created: String,
    pub description: String,
    pub last_used: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<&CamKeyRecord> for CamKeyView {
    fn from(k: &CamKeyRecord) -> Self {
        CamKeyView {
            id: k.id.clone(),
            owner_uin: k.owner_uin,
            status: k.status(),
            created: k.created.clone(),
            description: k.description.clone(),
            last_used: k.last_used,
        }
    }
}

/// One account's CAM: its users (the root first) and their access keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CamAccount {
    pub root_uin: u64,
    pub users: Vec<CamUserRecord>,
    pub keys: Vec<CamKeyRecord>,
    /// The seed's switch: DeleteAccessKey refuses an Active key.
    pub delete_requires_inactive: bool,
}

impl CamAccount {
    pub fn user(&self, uin: u64) -> Option<&CamUserRecord> {
        self.users.iter().find(|u| u.uin == uin)
    }

    pub fn key(&self, id: &str) -> Option<&CamKeyRecord> {
        self.keys.iter().find(|k| k.id == id)
    }
}

/// Beijing time (UTC+8), the zone ListAccessKeys' and ListUsers' zone-less `CreateTime`
/// is read in (the assumption keyward documents), as `YYYY-MM-DD hh:mm:ss`.
pub(crate) fn beijing(t: chrono::DateTime<chrono::Utc>) -> String {
    // Shifting the UTC wall clock by eight hours is the fixed offset without a fallible
    // zone constructor; Beijing has no daylight saving time.
    (t.naive_utc() + chrono::TimeDelta::hours(8))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// The Beijing calendar date of `t`, `YYYY-MM-DD` (GetSecurityLastUsed's `LastUsedDate`).
pub(crate) fn beijing_date(t: chrono::DateTime<chrono::Utc>) -> String {
    beijing(t)[..10].to_string()
}

/// A MaaS API key as the emulator stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObKeyRecord {
    pub id: String,
    pub name: String,
    pub secret: Secret,
    pub created: String,
    pub updated: String,
    pub expires: Option<String>,
    pub last_used: Option<String>,
}

/// What to break, as shares in `0.0..=1.0`. `Default` breaks nothing.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// Added before every answer.
    pub latency: Duration,
    /// Share of requests answered with HTTP 503.
    pub error_rate: f64,
    /// Share of connections closed without any response.
    pub drop_rate: f64,
    /// Share of (authenticated) requests refused with RequestLimitExceeded / HTTP 429.
    pub force_rate_limit: f64,
}

impl Faults {
    pub fn none() -> Self {
        Faults::default()
    }

    /// Checks every share is a probability, naming the bad one.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            ("error rate", self.error_rate),
            ("drop rate", self.drop_rate),
            ("forced rate limit", self.force_rate_limit),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} {v} is not a share between 0 and 1"));
            }
        }
        Ok(())
    }
}

/// In plain words, for the emulator's banner: "300 ms latency, 10% HTTP 503, ...".
impl std::fmt::Display for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let percent = |share: f64| format!("{}%", (share * 1000.0).round() / 10.0);
        let mut parts = Vec::new();
        if !self.latency.is_zero() {
            parts.push(format!("{} ms added to every answer", self.latency.as_millis()));
        }
        if self.error_rate > 0.0 {
            parts.push(format!("{} of requests answered HTTP 503", percent(self.error_rate)));
        }
        if self.drop_rate > 0.0 {
            parts.push(format!(
                "{} of connections dropped without an answer",
                percent(self.drop_rate)
            ));
        }
        if self.force_rate_limit > 0.0 {
            parts.push(format!(
                "{} of requests refused as rate limited",
                percent(self.force_rate_limit)
            ));
        }
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// Whether an event with probability `share` happens now.
pub(crate) fn roll(share: f64) -> bool {
    share > 0.0 && rand::rng().random::<f64>() < share
}

pub const REALM: &str = "OceanBase";
/// How long a nonce stays valid; afterwards the client gets `stale=true` and retries.
pub const NONCE_TTL: Duration = Duration::from_secs(300);

pub(crate) struct NonceEntry {
    pub issued: Instant,
    pub expired: bool,
    /// Highest nonce count seen; a repeat or lower count is a replay.
    pub last_nc: u32,
}

#[derive(Default)]
pub(crate) struct NonceTable {
    pub nonces: HashMap<String, NonceEntry>,
    opaque: String,
}

impl NonceTable {
    pub(crate) fn opaque(&mut self) -> String {
        if self.opaque.is_empty() {
            self.opaque = hex::encode(uuid::Uuid::new_v4().as_bytes());
        }
        self.opaque.clone()
    }

    pub(crate) fn issue(&mut self) -> String {
        let now = Instant::now();
        // Forget nonces long past their life so the table stays small.
        self.nonces.retain(|_, e| now.duration_since(e.issued) < NONCE_TTL * 2);
        let nonce = hex::encode(uuid::Uuid::new_v4().as_bytes());
        self.nonces.insert(
            nonce.clone(),
            NonceEntry {
                issued: now,
                expired: false,
                last_nc: 0,
            },
        );
        nonce
    }

    pub fn expire_all(&mut self) {
        for e in self.nonces.values_mut() {
            e.expired = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_outside_zero_to_one_are_rejected() {
        assert!(Faults::none().validate().is_ok());
        let bad = Faults {
            drop_rate: 1.5,
            ..Faults::none()
        };
        assert!(bad.validate().unwrap_err().contains("drop rate"));
    }

    #[test]
    fn roll_respects_the_extremes() {
        assert!(!roll(0.0));
        assert!(roll(1.0));
    }
}
