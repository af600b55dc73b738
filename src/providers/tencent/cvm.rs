//! Tencent Cloud CVM SSH key pairs (cvm 2017-03-12) as a `Provider`.
//!
//! DeleteKeyPairs succeeds even when it keeps pairs that an instance or image still uses
//! ("you need to verify whether all the key pairs have been deleted"), so every delete is
//! followed by a DescribeKeyPairs of the same ids to report what was really kept.

use super::client::TencentClient;
use super::page::{Entries, Page, collect_pages, expect_ids, field, protocol_error};
use crate::inventory::{Binding, Item, ProviderKind, Scope, Status};
use crate::providers::http::Retry;
use crate::providers::{
    BoundDelete, Capabilities, DeleteReport, Operation, Provider, ProviderError, Receipt, describe_char,
};
use crate::times;
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;

/// Page size of DescribeKeyPairs and the most KeyIds one call takes (both documented as 100).
const PAGE_LIMIT: usize = 100;
/// DescribeKeyPairs answers this when one of the requested KeyIds does not exist.
const NOT_FOUND: &str = "InvalidKeyPairId.NotFound";

/// The cvm 2017-03-12 key pair actions, by the names the API, the log pane and the audit
/// log use. keyward sends the first three; the emulator serves them all.
pub mod actions {
    pub const DESCRIBE_KEY_PAIRS: &str = "DescribeKeyPairs";
    pub const DELETE_KEY_PAIRS: &str = "DeleteKeyPairs";
    pub const MODIFY_KEY_PAIR_ATTRIBUTE: &str = "ModifyKeyPairAttribute";
    pub const CREATE_KEY_PAIR: &str = "CreateKeyPair";

    pub const ALL: &[&str] = &[
        DESCRIBE_KEY_PAIRS,
        CREATE_KEY_PAIR,
        DELETE_KEY_PAIRS,
        MODIFY_KEY_PAIR_ATTRIBUTE,
    ];
}

/// The action of each operation CVM key pairs support: delete and rename.
pub const fn action(op: Operation) -> Option<&'static str> {
    match op {
        Operation::Delete => Some(actions::DELETE_KEY_PAIRS),
        Operation::Rename => Some(actions::MODIFY_KEY_PAIR_ATTRIBUTE),
        Operation::Disable | Operation::Enable | Operation::Rotate => None,
    }
}

/// What CVM key pairs support: delete (up to a page of ids per call) and rename; a pair
/// bound to an instance or image survives its delete.
pub const CAPABILITIES: Capabilities = Capabilities {
    enable_disable: action(Operation::Disable).is_some() && action(Operation::Enable).is_some(),
    rotate: action(Operation::Rotate).is_some(),
    rename: action(Operation::Rename).is_some(),
    delete_requires_disabled: false,
    delete_batch: PAGE_LIMIT,
    bound_delete: BoundDelete::Kept,
    gone_code: Some("InvalidKeyPairId.NotFound"),
    delete_note: None,
    staged_rotation: false,
    ages_out: false,
    reports_last_use: false,
    binds_to: Some("instance"),
};

/// The longest KeyName CreateKeyPair and ModifyKeyPairAttribute accept.
pub const KEY_PAIR_NAME_MAX: usize = 25;

/// The KeyName rule ("no more than 25 characters: digits, letters and underscores"), as
/// the rename dialog can show it.
pub const KEY_PAIR_NAME_RULE: &str = "a key pair name is 1-25 characters: letters A-Z a-z, digits 0-9 and underscores";

/// What is wrong with a key pair name; its `Display` is the one message for it. The
/// emulator maps each case to the service's own error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPairNameError {
    Empty,
    TooLong {
        chars: usize,
    },
    /// `position` counts characters from 1.
    IllegalChar {
        position: usize,
        found: char,
    },
}

impl std::fmt::Display for KeyPairNameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyPairNameError::Empty => write!(f, "{KEY_PAIR_NAME_RULE}; this one is empty"),
            KeyPairNameError::TooLong { chars } => write!(f, "{KEY_PAIR_NAME_RULE}; this one has {chars}"),
            KeyPairNameError::IllegalChar { position, found } => write!(
                f,
                "{KEY_PAIR_NAME_RULE}; character {position} ({}) is not allowed",
                describe_char(*found)
            ),
        }
    }
}

/// [`validate_key_pair_name`], keeping which case failed.
pub fn check_key_pair_name(name: &str) -> Result<(), KeyPairNameError> {
    if let Some((i, found)) = name
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(KeyPairNameError::IllegalChar { position: i + 1, found });
    }
    match name.chars().count() {
        0 => Err(KeyPairNameError::Empty),
        chars if chars > KEY_PAIR_NAME_MAX => Err(KeyPairNameError::TooLong { chars }),
        _ => Ok(()),
    }
}

/// Check a new key pair name against [`KEY_PAIR_NAME_RULE`] before anything is sent; the
/// message names the rule and the first character that is not allowed, else the length.
pub fn validate_key_pair_name(name: &str) -> Result<(), String> {
    check_key_pair_name(name).map_err(|e| e.to_string())
}

/// One entry of `KeyPairSet`. `PublicKey` is read only for its algorithm and then dropped.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyPair {
    key_id: String,
    #[serde(default)]
    key_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default)]
    associated_instance_ids: Option<Vec<String>>,
    #[serde(default)]
    created_time: Option<String>,
}

pub struct Cvm {
    client: Arc<TencentClient>,
    scope: Scope,
    /// Said once to the operator: why this region is not reached through its own host.
    notice: Option<String>,
}

impl Cvm {
    pub fn new(client: Arc<TencentClient>, account: impl Into<String>, region: impl Into<String>) -> Self {
        Cvm {
            client,
            scope: Scope::new(ProviderKind::Cvm, account.into(), region.into()),
            notice: None,
        }
    }

    /// The same provider with the host choice's fallback note (see `endpoint::choose`).
    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }

    /// One listed pair as an item; a `CreatedTime` keyward cannot read is a Protocol error
    /// naming the pair and the value (an unread time must not pass for "unknown").
    fn item(&self, pair: KeyPair, request_id: &str) -> Result<Item, ProviderError> {
        let created = times::RFC3339
            .read("CreatedTime", pair.created_time.as_deref())
            .map_err(|why| {
                protocol_error(
                    actions::DESCRIBE_KEY_PAIRS,
                    request_id,
                    &format!("key pair {}: {why}", pair.key_id),
                )
            })?;
        // "ssh-rsa AAAA... comment" -> "ssh-rsa": useful to spot old RSA keys, not secret.
        let key_type = pair
            .public_key
            .as_deref()
            .and_then(|k| k.split_whitespace().next())
            .unwrap_or_default()
            .into();
        Ok(Item {
            key: self.scope.key(pair.key_id),
            name: pair.key_name.unwrap_or_default().into(),
            status: Status::Active,
            key_type,
            description: pair.description.unwrap_or_default().into(),
            created,
            // KeyPair has no modification, last-use or expiry time.
            modified: None,
            last_used: None,
            expires: None,
            bindings: pair
                .associated_instance_ids
                .unwrap_or_default()
                .into_iter()
                .map(Binding::Instance)
                .collect(),
            signs_keyward: false,
            owner_active_keys: 0,
        })
    }

    /// Those of `ids` that still exist, asked by KeyIds in chunks of 100: how a delete
    /// learns which pairs the service kept.
    pub async fn describe(&self, ids: &[String]) -> Result<Vec<Item>, ProviderError> {
        let mut found = Vec::new();
        for chunk in ids.chunks(PAGE_LIMIT) {
            match self.describe_pages(&json!({ "KeyIds": chunk })).await {
                Ok(items) => found.extend(items),
                // Asking by id fails as a whole when one id is gone, which is exactly the case
                // after a delete: fall back to the full listing and intersect.
                Err(e) if e.code == NOT_FOUND => {
                    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
                    return Ok(self
                        .list()
                        .await?
                        .into_iter()
                        .filter(|i| wanted.contains(i.key.id.as_str()))
                        .collect());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }

    /// DescribeKeyPairs with `extra` parameters, every page followed.
    async fn describe_pages(&self, extra: &Value) -> Result<Vec<Item>, ProviderError> {
        let action = actions::DESCRIBE_KEY_PAIRS;
        collect_pages(action, |offset| async move {
            let mut params = json!({ "Offset": offset, "Limit": PAGE_LIMIT });
            if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
                params.extend(extra.clone());
            }
            let (response, request_id) = self
                .client
                .call(&self.scope.region, action, &params, Retry::Read)
                .await?;
            let pairs = field::<Option<Entries<KeyPair>>>(&response, "KeyPairSet", action, &request_id)?;
            let page = Page {
                total: field(&response, "TotalCount", action, &request_id)?,
                items: pairs
                    .unwrap_or_default()
                    .0
                    .into_iter()
                    .map(|p| self.item(p, &request_id))
                    .collect::<Result<_, _>>()?,
            };
            Ok((page, request_id))
        })
        .await
    }
}

fn kept_reason(item: &Item) -> String {
    if item.is_bound() {
        format!("still bound to {}", item.bindings_text())
    } else {
        "still exists after DeleteKeyPairs (an image or another resource may use it)".to_string()
    }
}

#[async_trait]
impl Provider for Cvm {
    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn notice(&self) -> Option<String> {
        self.notice.clone()
    }

    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        self.describe_pages(&json!({})).await
    }

    async fn probe(&self) -> Result<Receipt, ProviderError> {
        let params = json!({ "Offset": 0, "Limit": 1 });
        let (_, request_id) = self
            .client
            .call(&self.scope.region, actions::DESCRIBE_KEY_PAIRS, &params, Retry::Read)
            .await?;
        Ok(Receipt { request_id })
    }

    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError> {
        let ids = expect_ids(ids, PAGE_LIMIT, actions::DELETE_KEY_PAIRS)?;
        let (_, request_id) = self
            .client
            .call(
                &self.scope.region,
                actions::DELETE_KEY_PAIRS,
                &json!({ "KeyIds": ids }),
                Retry::Write,
            )
            .await?;
        let remaining = self.describe(ids).await.map_err(|e| {
            ProviderError::new(
                e.kind,
                e.code.clone(),
                format!(
                    "DeleteKeyPairs was accepted (RequestId {request_id}) but checking which key pairs remain \
                     failed: {}; refresh the list to see what was deleted",
                    e.message
                ),
            )
            .with_request_id(Some(request_id.clone()))
        })?;
        let kept: Vec<(String, String)> = remaining
            .iter()
            .map(|item| (item.key.id.to_string(), kept_reason(item)))
            .collect();
        let kept_ids: HashSet<&str> = remaining.iter().map(|i| i.key.id.as_str()).collect();
        Ok(DeleteReport {
            request_id,
            deleted: ids
                .iter()
                .filter(|id| !kept_ids.contains(id.as_str()))
                .cloned()
                .collect(),
            kept,
        })
    }

    async fn rename(&self, id: &str, name: &str, description: Option<&str>) -> Result<Receipt, ProviderError> {
        let mut params = json!({ "KeyId": id });
        // An empty name changes only the description.
        if !name.is_empty() {
            validate_key_pair_name(name).map_err(ProviderError::invalid)?;
            params["KeyName"] = Value::String(name.to_string());
        }
        if let Some(d) = description {
            params["Description"] = Value::String(d.to_string());
        }
        // A repeat after a timeout could collide with the name it just set, so no blind retry.
        let (_, request_id) = self
            .client
            .call(
                &self.scope.region,
                actions::MODIFY_KEY_PAIR_ATTRIBUTE,
                &params,
                Retry::Write,
            )
            .await?;
        Ok(Receipt { request_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_pair_names_follow_the_documented_rule() {
        assert_eq!(validate_key_pair_name("bastion_prod_01"), Ok(()));
        assert_eq!(validate_key_pair_name(&"a".repeat(25)), Ok(()));
        assert_eq!(
            validate_key_pair_name(&"a".repeat(26)),
            Err(format!("{KEY_PAIR_NAME_RULE}; this one has 26"))
        );
        assert_eq!(
            validate_key_pair_name(""),
            Err(format!("{KEY_PAIR_NAME_RULE}; this one is empty"))
        );
        assert_eq!(
            validate_key_pair_name("web-01"),
            Err(format!("{KEY_PAIR_NAME_RULE}; character 4 ('-') is not allowed"))
        );
        // The bad character is named even when the name is also too long.
        assert_eq!(
            check_key_pair_name(&format!("{}\u{7}", "a".repeat(30))),
            Err(KeyPairNameError::IllegalChar {
                position: 31,
                found: '\u{7}'
            })
        );
        let bell = validate_key_pair_name("a\u{7}b").unwrap_err();
        assert!(bell.ends_with("character 2 (U+0007) is not allowed"), "{bell:?}");
    }
}

#[cfg(test)]
mod props {
    use super::super::client::CVM;
    use super::super::page::arb;
    use super::*;
    use crate::providers::ErrorKind;
    use proptest::prelude::*;
    use std::sync::LazyLock;

    const ACTION: &str = "DescribeKeyPairs";

    static CVM_PROVIDER: LazyLock<Cvm> = LazyLock::new(|| Cvm::new(arb::offline_client(CVM), "prod", "ap-beijing"));

    /// What `describe_pages` does with one answer: read TotalCount and KeyPairSet, map every pair.
    fn items_of(response: &Value) -> Result<(Option<u64>, Vec<Item>), ProviderError> {
        let total = field(response, "TotalCount", ACTION, "req")?;
        let pairs = field::<Option<Entries<KeyPair>>>(response, "KeyPairSet", ACTION, "req")?
            .unwrap_or_default()
            .0;
        let items = pairs.into_iter().map(|p| CVM_PROVIDER.item(p, "req"));
        Ok((total, items.collect::<Result<_, _>>()?))
    }

    fn one_pair(pair: Value) -> Result<Item, ProviderError> {
        items_of(&json!({ "TotalCount": 1, "KeyPairSet": [pair] })).map(|(_, mut items)| items.remove(0))
    }

    #[test]
    fn created_time_is_read_and_absent_or_null_is_unknown() {
        let pair = one_pair(json!({ "KeyId": "skey-1", "CreatedTime": "2024-01-02T03:04:05Z" })).unwrap();
        assert_eq!(pair.created, times::parse_rfc3339("2024-01-02T03:04:05Z"));
        assert_eq!(
            one_pair(json!({ "KeyId": "skey-1", "CreatedTime": null }))
                .unwrap()
                .created,
            None
        );
        assert_eq!(one_pair(json!({ "KeyId": "skey-1" })).unwrap().created, None);
    }

    #[test]
    fn a_created_time_keyward_cannot_read_is_an_error_naming_the_pair_and_value() {
        let err = one_pair(json!({ "KeyId": "skey-1", "CreatedTime": "2024-01-02 03:04:05" })).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol);
        assert_eq!(err.request_id.as_deref(), Some("req"));
        assert_eq!(
            err.message,
            "DescribeKeyPairs: key pair skey-1: CreatedTime \"2024-01-02 03:04:05\" is not an RFC 3339 time \
             like \"2020-02-26T06:09:44Z\""
        );
    }

    /// One documented `KeyPair`; each optional field is present, null or left out.
    #[derive(Debug, Clone)]
    struct GenPair {
        id: String,
        name: Option<Option<String>>,
        description: Option<Option<String>>,
        /// (algorithm, the rest of the OpenSSH line)
        public_key: Option<Option<(String, String)>>,
        instances: Option<Option<Vec<String>>>,
        /// Seconds since the epoch, sent as RFC 3339.
        created: Option<Option<i64>>,
    }

    impl GenPair {
        fn json(&self) -> Value {
            let mut v = json!({ "KeyId": self.id });
            let mut put = |name: &str, value: Option<Value>| {
                if let Some(value) = value {
                    v[name] = value;
                }
            };
            put("KeyName", self.name.clone().map(|x| json!(x)));
            put("Description", self.description.clone().map(|x| json!(x)));
            let public_key = self
                .public_key
                .clone()
                .map(|k| k.map(|(alg, rest)| format!("{alg} {rest}")));
            put("PublicKey", public_key.map(|x| json!(x)));
            put("AssociatedInstanceIds", self.instances.clone().map(|x| json!(x)));
            put("CreatedTime", self.created.map(|x| json!(x.map(arb::rfc3339))));
            v
        }
    }

    fn gen_pair() -> impl Strategy<Value = GenPair> {
        let algorithm = prop_oneof![
            Just("ssh-rsa".to_string()),
            Just("ssh-ed25519".to_string()),
            Just("ecdsa-sha2-nistp256".to_string()),
            "[a-z0-9@.-]{1,20}",
        ];
        let rest = "[A-Za-z0-9+/]{20,80}={0,2}( [ -~]{0,20})?";
        (
            "skey-[a-z0-9]{8}|\\PC{1,20}",
            arb::optional("\\PC{0,25}"),
            arb::optional("\\PC{0,60}"),
            arb::optional((algorithm, rest)),
            arb::optional(prop::collection::vec("ins-[a-z0-9]{8}|\\PC{1,12}", 0..6)),
            arb::optional(arb::epoch_seconds()),
        )
            .prop_map(|(id, name, description, public_key, instances, created)| GenPair {
                id,
                name,
                description,
                public_key,
                instances,
                created,
            })
    }

    /// An answer whose parts are random: the fields the parser reads hold any JSON.
    fn random_response() -> impl Strategy<Value = Value> {
        (arb::object(arb::json()), arb::leaf(), arb::set_of(corrupted())).prop_map(|(mut response, total, set)| {
            if let Some(map) = response.as_object_mut() {
                map.insert("TotalCount".into(), total);
                map.insert("KeyPairSet".into(), set);
            }
            response
        })
    }

    /// A documented entry with one field replaced by any JSON value (or removed).
    fn corrupted() -> impl Strategy<Value = Value> {
        const FIELDS: &[&str] = &[
            "KeyId",
            "KeyName",
            "Description",
            "PublicKey",
            "AssociatedInstanceIds",
            "CreatedTime",
        ];
        arb::one_field_corrupted(gen_pair().prop_map(|p| p.json()), FIELDS)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Random answers map to items or a Protocol error, never a panic; every item is one
        /// of the answer's KeyIds.
        #[test]
        fn random_answers_never_panic(response in prop_oneof![arb::json(), random_response()]) {
            match items_of(&response) {
                Ok((_, items)) => {
                    let sent: Vec<&str> = response["KeyPairSet"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|p| p["KeyId"].as_str()).collect())
                        .unwrap_or_default();
                    let got: Vec<&str> = items.iter().map(|i| i.key.id.as_str()).collect();
                    prop_assert_eq!(got, sent);
                }
                Err(e) => {
                    prop_assert_eq!(e.kind, ErrorKind::Protocol);
                    prop_assert_eq!(e.request_id.as_deref(), Some("req"));
                }
            }
        }

        /// Documented key pairs map field by field, in order, with every associated instance
        /// as a binding in the order given.
        #[test]
        fn documented_pairs_map_to_items(pairs in prop::collection::vec(gen_pair(), 0..8), total in any::<u64>()) {
            let set: Vec<Value> = pairs.iter().map(GenPair::json).collect();
            let response = json!({ "TotalCount": total, "KeyPairSet": set, "RequestId": "req" });
            let (got_total, items) = items_of(&response).unwrap();
            prop_assert_eq!(got_total, Some(total));
            prop_assert_eq!(items.len(), pairs.len());
            for (pair, item) in pairs.iter().zip(&items) {
                prop_assert_eq!(&item.key, &Scope::new(ProviderKind::Cvm, "prod", "ap-beijing").key(pair.id.clone()));
                prop_assert_eq!(&item.name, &pair.name.clone().flatten().unwrap_or_default());
                prop_assert_eq!(&item.description, &pair.description.clone().flatten().unwrap_or_default());
                prop_assert_eq!(item.status, Status::Active);
                let algorithm = pair.public_key.clone().flatten().map(|(alg, _)| alg).unwrap_or_default();
                prop_assert_eq!(&item.key_type, &algorithm);
                prop_assert_eq!(item.created, pair.created.flatten().and_then(|s| chrono::DateTime::from_timestamp(s, 0)));
                prop_assert_eq!(item.modified, None);
                let bindings: Vec<Binding> = pair
                    .instances
                    .clone()
                    .flatten()
                    .unwrap_or_default()
                    .into_iter()
                    .map(Binding::Instance)
                    .collect();
                prop_assert_eq!(&item.bindings, &bindings);
                prop_assert_eq!(item.is_bound(), !bindings.is_empty());
            }
        }
    }
}
