//! The emulator's shared model types, a leaf of `emulator/`: the services it serves, the
//! records it stores, its API error, its fault settings and the Digest nonce table. The
//! state (`state.rs`) holds them, the handlers (`tencent/`, `oceanbase.rs`, `auth.rs`,
//! `digest.rs`, `faults.rs`) read and change them through the state; nothing here depends
//! on either, so `emulator/` has no dependency circle.

use crate::providers::tencent::apigateway::actions as apigateway_actions;
use crate::providers::tencent::cvm::actions as cvm_actions;
use crate::secret::Secret;
use rand::Rng;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The two Tencent services keyward manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TcService {
    ApiGateway,
    Cvm,
}

impl TcService {
    pub fn name(self) -> &'static str {
        match self {
            TcService::ApiGateway => "apigateway",
            TcService::Cvm => "cvm",
        }
    }

    pub fn version(self) -> &'static str {
        match self {
            TcService::ApiGateway => "2018-08-08",
            TcService::Cvm => "2017-03-12",
        }
    }

    /// Documented requests per second per API.
    pub fn rate_limit(self) -> u32 {
        match self {
            TcService::ApiGateway => 20,
            TcService::Cvm => 10,
        }
    }

    pub fn from_name(name: &str) -> Option<TcService> {
        match name {
            "apigateway" => Some(TcService::ApiGateway),
            "cvm" => Some(TcService::Cvm),
            _ => None,
        }
    }

    /// Every action the emulator serves for this service: the provider module's list.
    pub(crate) fn actions(self) -> &'static [&'static str] {
        match self {
            TcService::ApiGateway => apigateway_actions::ALL,
            TcService::Cvm => cvm_actions::ALL,
        }
    }

    /// The error an account gets for a region it does not have.
    pub(crate) fn invalid_region(self, region: &str) -> ApiError {
        match self {
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
