//! The one item builder: `item(kind, account, region, id, name)` with each kind's usual
//! status and type and fixed timestamps (snapshots must not depend on the clock), the
//! `Knobs` setters for what a test varies, and short names for the common cases.

use keyward::inventory::{Binding, Item, ProviderKind, Scope, Status, Timestamp};

/// An RFC 3339 time written in a test, e.g. `ts("2025-03-01T08:00:00Z")`.
pub fn ts(text: &str) -> Timestamp {
    keyward::times::parse_rfc3339(text).unwrap_or_else(|| panic!("{text:?} is not an RFC 3339 time"))
}

/// The wall clock of every test app ([`crate::support::app::app_with`]): ages in snapshots
/// count to it, not to the real clock. The builder's items are 306 days old then.
pub fn now() -> Timestamp {
    ts("2026-01-02T03:04:05Z")
}

pub fn item(kind: ProviderKind, account: &str, region: &str, id: &str, name: &str) -> Item {
    Item {
        key: Scope::new(kind, account, region).key(id),
        name: name.into(),
        status: match kind {
            ProviderKind::ApiGateway => Status::Enabled,
            _ => Status::Active,
        },
        key_type: match kind {
            ProviderKind::Cvm => "ssh-ed25519".into(),
            _ => "auto".into(),
        },
        description: "".into(),
        created: Some(ts("2025-03-01T08:00:00Z")),
        modified: Some(ts("2025-03-02T09:30:00Z")),
        last_used: None,
        expires: None,
        bindings: Vec::new(),
        signs_keyward: false,
        owner_active_keys: 0,
    }
}

/// Chained setters on a built item.
pub trait Knobs {
    fn with_status(self, status: Status) -> Item;
    /// Adds a binding (an instance, an image, a usage plan).
    fn bound_to(self, binding: Binding) -> Item;
    fn with_description(self, description: &str) -> Item;
    fn created_at(self, created: &str) -> Item;
    fn last_used_at(self, last_used: &str) -> Item;
}

impl Knobs for Item {
    fn with_status(mut self, status: Status) -> Item {
        self.status = status;
        self
    }
    fn bound_to(mut self, binding: Binding) -> Item {
        self.bindings.push(binding);
        self
    }
    fn with_description(mut self, description: &str) -> Item {
        self.description = description.into();
        self
    }
    fn created_at(mut self, created: &str) -> Item {
        self.created = Some(ts(created));
        self
    }
    fn last_used_at(mut self, last_used: &str) -> Item {
        self.last_used = Some(ts(last_used));
        self
    }
}

/// An API Gateway key in prod/ap-guangzhou named `name-{id}`.
pub fn apikey(id: &str, status: Status) -> Item {
    item(
        ProviderKind::ApiGateway,
        "prod",
        "ap-guangzhou",
        id,
        &format!("name-{id}"),
    )
    .with_status(status)
}

/// A CVM key pair in prod/ap-guangzhou named `name-{id}`.
pub fn keypair(id: &str) -> Item {
    item(ProviderKind::Cvm, "prod", "ap-guangzhou", id, &format!("name-{id}"))
}

/// An OceanBase MaaS key in ob/proj-1 named `name-{id}`.
pub fn maaskey(id: &str) -> Item {
    item(ProviderKind::OceanBase, "ob", "proj-1", id, &format!("name-{id}"))
}

/// A CAM access key of account prod owned by `owner` ("root" or "alice (100012345678)"),
/// whose owner had `owner_active` active keys when listed.
pub fn camkey(id: &str, owner: &str, status: Status, owner_active: u8) -> Item {
    let mut key = item(
        ProviderKind::Cam,
        "prod",
        keyward::providers::tencent::cam::GLOBAL,
        id,
        owner,
    )
    .with_status(status);
    key.key_type = if owner == "root" { "root" } else { "sub-user" }.into();
    // An access key has no modification time.
    key.modified = None;
    key.owner_active_keys = owner_active;
    key
}
