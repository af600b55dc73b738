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
    /// Tencent Cloud CAM access keys (cam 2019-01-16): the SecretIds of an account's root
    /// and sub-users. Global: one source per account, region `cam::GLOBAL`.
    Cam,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] = [
        ProviderKind::ApiGateway,
        ProviderKind::Cvm,
        ProviderKind::OceanBase,
        ProviderKind::Cam,
    ];

    /// Human title, used for tabs.
    pub fn title(self) -> &'static str {
        match self {
            ProviderKind::ApiGateway => "API Gateway keys",
            ProviderKind::Cvm => "CVM key pairs",
            ProviderKind::OceanBase => "OceanBase MaaS keys",
            ProviderKind::Cam => "CAM access keys",
        }
    }

    /// Short stable name, used on the command line, in config and in the audit log.
    pub fn slug(self) -> &'static str {
        match self {
            ProviderKind::ApiGateway => "apigateway",
            ProviderKind::Cvm => "cvm",
            ProviderKind::OceanBase => "oceanbase",
            ProviderKind::Cam => "cam",
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
    /// Past its expiry time: callers using it are refused. (How close an expiry is, is a
    /// finding with its threshold in settings, not a status.)
    Expired,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Enabled, Status::Disabled, Status::Active, Status::Expired];

    pub fn label(self) -> &'static str {
        match self {
            Status::Enabled => "enabled",
            Status::Disabled => "disabled",
            Status::Active => "active",
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

/// A point in time in UTC, as precise as the provider gives it.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// One key, as the table shows it. Never holds a secret.
///
/// Short text fields are `CompactString` for the same reason as in `ItemKey`. Times are
/// parsed when listed (see `crate::times`), so age and last use compare, sort and filter
/// as times; they serialize as RFC 3339 UTC (`"2025-03-01T08:00:00Z"`), `null` when unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub key: ItemKey,
    pub name: CompactString,
    pub status: Status,
    /// apigateway: "auto"/"manual"; cvm: public key algorithm if known; oceanbase: "api-key".
    pub key_type: CompactString,
    pub description: CompactString,
    /// When the key was created (every kind gives it).
    #[serde(default)]
    pub created: Option<Timestamp>,
    /// Last modified (API Gateway ModifiedTime, OceanBase updatedAt); disables count.
    #[serde(default)]
    pub modified: Option<Timestamp>,
    /// Last use where the provider reports it (CAM LastUsedDate as midnight UTC of that day,
    /// OceanBase lastUsedAt when present).
    #[serde(default)]
    pub last_used: Option<Timestamp>,
    /// OceanBase expiresAt.
    #[serde(default)]
    pub expires: Option<Timestamp>,
    pub bindings: Vec<Binding>,
    /// The key is the one keyward signs this account's calls with (CAM): the planner never
    /// disables or deletes it (that would lock keyward out mid-run). Set by the provider
    /// that lists it, the one that knows its own SecretId.
    #[serde(default, skip_serializing_if = "is_false")]
    pub signs_keyward: bool,
    /// How many active keys this key's owner (a CAM root or user) had when listed; 0 for
    /// kinds without owners. The planner warns when a plan disables or deletes them all.
    /// One byte, in what was padding: every item of every kind stays the same size.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub owner_active_keys: u8,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u8) -> bool {
    *n == 0
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

/// The configured order of the sources: which of an account's regions comes first. A key
/// listed by several regions is addressed through the first (see [`Row`]).
#[derive(Debug, Clone, Default)]
pub struct RegionOrder(Vec<Scope>);

impl RegionOrder {
    /// `scopes` in config order (duplicates are harmless: the first counts).
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Self {
        RegionOrder(scopes.into_iter().collect())
    }

    /// Whether region `a` comes before region `b` among `kind`'s regions of `account`: by
    /// config position, then by name, so a region missing from the config still sorts
    /// the same way every time.
    fn before(&self, kind: ProviderKind, account: &str, a: &str, b: &str) -> bool {
        let position = |region: &str| {
            self.0
                .iter()
                .position(|s| s.kind == kind && s.account == account && s.region == region)
                .unwrap_or(usize::MAX)
        };
        (position(a), a) < (position(b), b)
    }
}

/// One key as the table and `keyward list` show it: the item, and the other regions of
/// its account whose listing returned the same id.
///
/// Why merged: CVM key pairs may be account-global (the quota is per account, and some doc
/// versions say DescribeKeyPairs needs no region), and API Gateway SecretIds are unique
/// across regions, so the same id from several regions is one key. Shown once, selected
/// once, deleted with one call. Per-region keys have distinct ids and stay one row each.
///
/// `item.key` names the first of the regions in config order: that is where its calls go.
/// Derefs to the item so code that reads fields reads them the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub item: Item,
    /// The other regions that list it, in config order; empty for a per-region key.
    pub also_in: Vec<CompactString>,
}

impl From<Item> for Row {
    fn from(item: Item) -> Self {
        Row {
            item,
            also_in: Vec::new(),
        }
    }
}

impl std::ops::Deref for Row {
    type Target = Item;
    fn deref(&self) -> &Item {
        &self.item
    }
}

impl Row {
    /// Every region that lists it, the one its calls go to first.
    pub fn regions(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.item.key.scope.region.as_str()).chain(self.also_in.iter().map(|r| r.as_str()))
    }

    pub fn lists_in(&self, region: &str) -> bool {
        self.regions().any(|r| r == region)
    }

    /// The region column: `ap-guangzhou`, or `ap-guangzhou +2` when two more regions list it.
    pub fn region_label(&self) -> String {
        match self.also_in.len() {
            0 => self.item.key.scope.region.to_string(),
            n => format!("{} +{n}", self.item.key.scope.region),
        }
    }

    /// The other scopes that list it: the run re-reads them too, so a key deleted through
    /// its first region leaves every region's row.
    pub fn also_listed_scopes(&self) -> Vec<Scope> {
        let scope = &self.item.key.scope;
        self.also_in
            .iter()
            .map(|r| Scope::new(scope.kind, scope.account.clone(), r.clone()))
            .collect()
    }

    /// `item` (same kind, account and id) was listed by its own region too. A region
    /// before the current first one in `order` takes over (its listing becomes the row's
    /// data); the same region as the first replaces the data; any other is added.
    pub fn add_listing(&mut self, item: Item, order: &RegionOrder) {
        let new = item.key.scope.region.clone();
        let first = self.item.key.scope.region.clone();
        if new == first {
            self.item = item;
        } else if self.before(order, &new, &first) {
            self.item = item;
            self.also_in.retain(|r| *r != new);
            self.insert_also(first, order);
        } else if !self.also_in.contains(&new) {
            self.insert_also(new, order);
        }
    }

    fn before(&self, order: &RegionOrder, a: &str, b: &str) -> bool {
        let scope = &self.item.key.scope;
        order.before(scope.kind, &scope.account, a, b)
    }

    fn insert_also(&mut self, region: CompactString, order: &RegionOrder) {
        let at = self.also_in.partition_point(|r| self.before(order, r, &region));
        self.also_in.insert(at, region);
    }

    /// `region` no longer lists it. When that was the first region the next one takes
    /// over (the data stays: it is the same key). `false` when no region lists it now.
    pub fn remove_region(&mut self, region: &str) -> bool {
        if self.item.key.scope.region == region {
            if self.also_in.is_empty() {
                return false;
            }
            self.item.key.scope.region = self.also_in.remove(0);
        } else {
            self.also_in.retain(|r| r != region);
        }
        true
    }
}

/// Merge listings (any order) into one row per (kind, account, id), rows in key order.
pub fn merge_listings(items: impl IntoIterator<Item = Item>, order: &RegionOrder) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    let mut index: std::collections::HashMap<(ProviderKind, CompactString, CompactString), usize> =
        std::collections::HashMap::new();
    for item in items {
        let id = (item.key.scope.kind, item.key.scope.account.clone(), item.key.id.clone());
        match index.get(&id) {
            Some(&i) => rows[i].add_listing(item, order),
            None => {
                index.insert(id, rows.len());
                rows.push(Row::from(item));
            }
        }
    }
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(region: &str, id: &str) -> Item {
        Item {
            key: Scope::new(ProviderKind::Cvm, "acct", region).key(id),
            name: format!("name-{id}").into(),
            status: Status::Active,
            key_type: CompactString::default(),
            description: CompactString::default(),
            created: None,
            modified: None,
            last_used: None,
            expires: None,
            bindings: Vec::new(),
            signs_keyward: false,
            owner_active_keys: 0,
        }
    }

    fn order(regions: &[&str]) -> RegionOrder {
        RegionOrder::new(regions.iter().map(|r| Scope::new(ProviderKind::Cvm, "acct", *r)))
    }

    /// The row is addressed through the first region in config order, whatever order the
    /// listings arrived in.
    #[test]
    fn the_first_region_in_config_order_leads_whatever_the_arrival_order() {
        let order = order(&["ap-guangzhou", "ap-shanghai", "ap-beijing"]);
        let rows = merge_listings(
            ["ap-beijing", "ap-guangzhou", "ap-shanghai"].map(|r| pair(r, "skey-1")),
            &order,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].key.scope.region, "ap-guangzhou");
        assert_eq!(
            rows[0].regions().collect::<Vec<_>>(),
            ["ap-guangzhou", "ap-shanghai", "ap-beijing"]
        );
        assert_eq!(rows[0].region_label(), "ap-guangzhou +2");
    }

    #[test]
    fn distinct_ids_stay_one_row_each_and_other_accounts_never_merge() {
        let mut other = pair("ap-guangzhou", "skey-1");
        other.key.scope.account = "other".into();
        let rows = merge_listings(
            [pair("ap-guangzhou", "skey-1"), pair("ap-shanghai", "skey-2"), other],
            &order(&["ap-guangzhou", "ap-shanghai"]),
        );
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.also_in.is_empty()));
        assert_eq!(rows[0].region_label(), "ap-guangzhou");
    }

    #[test]
    fn removing_the_first_region_hands_the_row_to_the_next() {
        let mut row = merge_listings(
            ["ap-guangzhou", "ap-shanghai"].map(|r| pair(r, "skey-1")),
            &order(&["ap-guangzhou", "ap-shanghai"]),
        )
        .remove(0);
        assert!(row.remove_region("ap-guangzhou"));
        assert_eq!(row.key.scope.region, "ap-shanghai");
        assert!(row.also_in.is_empty());
        assert!(!row.remove_region("ap-shanghai"), "no region lists it any more");
    }

    /// A region missing from the config sorts after the configured ones, by name.
    #[test]
    fn unconfigured_regions_sort_last_by_name() {
        let rows = merge_listings(
            ["ap-zzz", "ap-aaa", "ap-shanghai"].map(|r| pair(r, "skey-1")),
            &order(&["ap-shanghai"]),
        );
        assert_eq!(
            rows[0].regions().collect::<Vec<_>>(),
            ["ap-shanghai", "ap-aaa", "ap-zzz"]
        );
    }
}

#[cfg(test)]
mod size {
    /// The UI bench holds 100,000 items under 64 MiB, so an item must not grow unnoticed.
    /// The CAM fields (a flag and a count) sit in what was padding. The times made it
    /// smaller: four `Option<Timestamp>` of 12 bytes each replaced three 24-byte
    /// `CompactString`s of provider text, 256 bytes down to 232.
    #[test]
    fn an_item_stays_232_bytes() {
        assert_eq!(std::mem::size_of::<super::Item>(), 232);
        assert_eq!(std::mem::size_of::<Option<super::Timestamp>>(), 12);
    }
}
