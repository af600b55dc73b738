//! The unified inventory item every provider maps its keys into, so the table,
//! the queue and `keyward list` handle all three kinds alike.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One tab per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Tencent Cloud API Gateway API keys (apigateway 2018-08-08).
    ApiGateway,
    /// Tencent Cloud CVM SSH key pairs (cvm 2017-03-12).
    Cvm,
    /// OceanBase Cloud MaaS API keys.
    OceanBase,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 3] = [ProviderKind::ApiGateway, ProviderKind::Cvm, ProviderKind::OceanBase];

    /// Human title, used for tabs.
    pub fn title(self) -> &'static str {
        match self {
            ProviderKind::ApiGateway => "API Gateway keys",
            ProviderKind::Cvm => "CVM key pairs",
            ProviderKind::OceanBase => "OceanBase MaaS keys",
        }
    }

    /// Short stable name, used on the command line, in config and in the audit log.
    pub fn slug(self) -> &'static str {
        match self {
            ProviderKind::ApiGateway => "apigateway",
            ProviderKind::Cvm => "cvm",
            ProviderKind::OceanBase => "oceanbase",
        }
    }

    pub fn from_slug(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == s)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Enabled,
    Disabled,
    /// The provider has no enable/disable notion (key pairs, MaaS keys).
    Active,
    /// Usable for now, but its expiry time is close (OceanBase `expiresAt`).
    Expiring,
    /// Past its expiry time: callers using it are refused.
    Expired,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Enabled => "enabled",
            Status::Disabled => "disabled",
            Status::Active => "active",
            Status::Expiring => "expiring",
            Status::Expired => "expired",
        }
    }
}

/// What keeps an item from being deleted, shown as a warning in the queue.
///
/// Serialized flat, the same for every kind: `{"kind": "usage_plan", "id": "usagePlan-1",
/// "name": "gold"}` (`name` only where the provider gives one).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "BindingFields", try_from = "BindingFields")]
pub enum Binding {
    Instance(String),
    Image(String),
    /// An API Gateway usage plan: its id and, when it has one, its name.
    UsagePlan {
        id: String,
        name: Option<String>,
    },
}

impl Binding {
    /// A usage plan known by its id alone.
    pub fn usage_plan(id: impl Into<String>) -> Self {
        Binding::UsagePlan {
            id: id.into(),
            name: None,
        }
    }

    /// The id of the instance, image or plan.
    pub fn id(&self) -> &str {
        match self {
            Binding::Instance(id) | Binding::Image(id) | Binding::UsagePlan { id, .. } => id,
        }
    }
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Binding::Instance(id) => write!(f, "instance {id}"),
            Binding::Image(id) => write!(f, "image {id}"),
            Binding::UsagePlan { id, name: Some(name) } => write!(f, "usage plan {id} ({name})"),
            Binding::UsagePlan { id, name: None } => write!(f, "usage plan {id}"),
        }
    }
}

/// The serialized form of a [`Binding`].
#[derive(Serialize, Deserialize)]
struct BindingFields {
    kind: String,
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

impl From<Binding> for BindingFields {
    fn from(b: Binding) -> Self {
        let (kind, id, name) = match b {
            Binding::Instance(id) => ("instance", id, None),
            Binding::Image(id) => ("image", id, None),
            Binding::UsagePlan { id, name } => ("usage_plan", id, name),
        };
        BindingFields {
            kind: kind.to_string(),
            id,
            name,
        }
    }
}

impl TryFrom<BindingFields> for Binding {
    type Error = String;
    fn try_from(f: BindingFields) -> Result<Self, String> {
        match f.kind.as_str() {
            "instance" => Ok(Binding::Instance(f.id)),
            "image" => Ok(Binding::Image(f.id)),
            "usage_plan" => Ok(Binding::UsagePlan { id: f.id, name: f.name }),
            other => Err(format!(
                "unknown binding kind `{other}` (instance, image or usage_plan)"
            )),
        }
    }
}

/// Where keys live: one provider kind in one configured account and one Tencent region
/// (or OceanBase project). One `Provider` value serves one scope; items, planned calls,
/// sources, listing failures and re-reads all carry one, so nothing is matched by a
/// parallel index or rebuilt from loose fields.
///
/// Text fields are `CompactString`: up to 24 bytes live inline, with no heap allocation,
/// which covers account names and regions, so a clone per item is cheap. Each field
/// serializes as a plain string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Scope {
    pub kind: ProviderKind,
    /// The configured account (profile) name.
    pub account: CompactString,
    /// Tencent region, or the OceanBase project id.
    pub region: CompactString,
}

impl Scope {
    pub fn new(kind: ProviderKind, account: impl Into<CompactString>, region: impl Into<CompactString>) -> Self {
        Scope {
            kind,
            account: account.into(),
            region: region.into(),
        }
    }

    /// The key of item `id` in this scope.
    pub fn key(&self, id: impl Into<CompactString>) -> ItemKey {
        ItemKey {
            scope: self.clone(),
            id: id.into(),
        }
    }
}

/// `kind account/region`, e.g. `cvm prod/ap-guangzhou`.
impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind, self.account, self.region)
    }
}

/// Where an item lives: enough to address any API call about it. Serializes flat
/// (`kind`, `account`, `region`, `id`), as it did before `Scope` was named.
///
/// The id is a `CompactString` for the same reason as the scope's fields: with 100,000
/// items loaded, one allocation per short field was most of the TUI's memory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemKey {
    #[serde(flatten)]
    pub scope: Scope,
    pub id: CompactString,
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Scope { kind, account, region } = &self.scope;
        write!(f, "{kind}/{account}/{region}/{}", self.id)
    }
}

/// One key, as the table shows it. Never holds a secret.
///
/// Short text fields are `CompactString` for the same reason as in `ItemKey`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub key: ItemKey,
    pub name: CompactString,
    pub status: Status,
    /// apigateway: "auto"/"manual"; cvm: public key algorithm if known; oceanbase: "api-key".
    pub key_type: CompactString,
    pub description: CompactString,
    /// RFC 3339 or the provider's own timestamp text; empty when unknown.
    pub created: CompactString,
    pub modified: CompactString,
    /// When the key was last used, where the provider says (OceanBase `lastUsedAt`); empty otherwise.
    #[serde(default)]
    pub last_used: CompactString,
    pub bindings: Vec<Binding>,
}

impl Item {
    pub fn is_bound(&self) -> bool {
        !self.bindings.is_empty()
    }

    pub fn bindings_text(&self) -> String {
        self.bindings
            .iter()
            .map(|b| b.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
