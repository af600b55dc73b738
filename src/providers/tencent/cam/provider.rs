//! CAM access keys as a `Provider`: one per account (CAM is global), listing the root's
//! and every sub-user's keys with their last-use dates, and sending UpdateAccessKey,
//! DeleteAccessKey and CreateAccessKey with the owner's `TargetUin`.
//!
//! Whose key is it: the executor addresses a key by its AccessKeyId alone, and the calls
//! need its owner's uin. The provider is what listed the key, so it keeps AccessKeyId ->
//! owner from its last listing (and its own creations) and refuses, before any request,
//! an id it has not listed, rather than send a call without `TargetUin`, which CAM would
//! apply to the caller's own keys.

use super::answers::{self, AccessKey, CreatedKey, LastUsedRow, SubAccount};
use super::{GLOBAL, LAST_USED_BATCH, MAX_KEYS_PER_USER, actions};
use crate::inventory::{Item, ProviderKind, Scope, Status, Timestamp};
use crate::providers::http::Retry;
use crate::providers::tencent::client::TencentClient;
use crate::providers::tencent::page::{Entries, expect_ids, field, protocol_error};
use crate::providers::{DeleteReport, Provider, ProviderError, Receipt, Rotated};
use crate::secret::Secret;
use async_trait::async_trait;
use compact_str::CompactString;
use futures::{StreamExt, TryStreamExt};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

/// Users whose keys are looked up at once: the client paces ListAccessKeys to its
/// documented rate anyway; a few in flight only hide the round trip.
const USER_LOOKUPS_IN_FLIGHT: usize = 4;

/// A key created by [`Cam::create_access_key`]: its SecretId and the SecretKey, which
/// CreateAccessKey returns once and never again. Never logged (`Secret` masks itself).
#[derive(Debug, Clone)]
pub struct NewAccessKey {
    pub receipt: Receipt,
    pub secret_id: String,
    pub secret_key: Secret,
}

/// One listed key, its answer checked, before it is placed with its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Listed {
    pub id: String,
    pub status: Status,
    pub created: Option<Timestamp>,
    pub description: String,
}

/// The owner of one user's keys: their name and uin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct User {
    pub name: String,
    pub uin: u64,
}

/// What the last listing said about owners, for the calls to name them.
#[derive(Debug, Default)]
struct Owners {
    /// AccessKeyId -> its owner's uin; `None` is the caller's own key (sent without TargetUin).
    of_key: HashMap<CompactString, Option<u64>>,
    /// Every sub-user listed, with or without keys.
    users: HashSet<u64>,
}

pub struct Cam {
    client: Arc<TencentClient>,
    scope: Scope,
    owners: RwLock<Owners>,
}

impl Cam {
    pub fn new(client: Arc<TencentClient>, account: impl Into<String>) -> Self {
        Cam {
            client,
            scope: Scope::new(ProviderKind::Cam, account.into(), GLOBAL),
            owners: RwLock::new(Owners::default()),
        }
    }

    /// The SecretId this provider signs with: the key the planner must never disable.
    pub fn secret_id(&self) -> &str {
        self.client.secret_id()
    }

    /// CAM is global: called with no region, so no X-TC-Region is sent.
    async fn call(&self, action: &str, params: Value, retry: Retry) -> Result<(Value, String), ProviderError> {
        self.client.call("", action, &params, retry).await
    }

    /// Every sub-user (ListUsers `Data`; the action has no paging).
    async fn users(&self) -> Result<Vec<User>, ProviderError> {
        let action = actions::LIST_USERS;
        let (response, request_id) = self.call(action, json!({}), Retry::Read).await?;
        let users: Option<Entries<SubAccount>> = field(&response, "Data", action, &request_id)?;
        Ok(users
            .unwrap_or_default()
            .0
            .into_iter()
            .map(|u| User {
                name: u.name.unwrap_or_default(),
                uin: u.uin,
            })
            .collect())
    }

    /// The keys of `target` (ListAccessKeys; `None`: the caller's own).
    async fn keys_of(&self, target: Option<u64>) -> Result<Vec<Listed>, ProviderError> {
        let action = actions::LIST_ACCESS_KEYS;
        let params = match target {
            Some(uin) => json!({ "TargetUin": uin }),
            None => json!({}),
        };
        let (response, request_id) = self.call(action, params, Retry::Read).await?;
        read_keys(&response, &request_id)
    }

    /// SecretId -> LastUsedDate for `ids`, asked at most [`LAST_USED_BATCH`] per call; a
    /// key with no recorded use has no entry.
    async fn last_used(&self, ids: &[String]) -> Result<HashMap<String, Timestamp>, ProviderError> {
        let action = actions::GET_SECURITY_LAST_USED;
        let mut dates = HashMap::new();
        for batch in ids.chunks(LAST_USED_BATCH) {
            let (response, request_id) = self.call(action, json!({ "SecretIdList": batch }), Retry::Read).await?;
            dates.extend(read_last_used(&response, &request_id)?);
        }
        Ok(dates)
    }

    /// The uin a call about `id` must name, from the last listing; an id keyward has not
    /// listed is refused before any request.
    fn target_of(&self, action: &str, id: &str) -> Result<Option<u64>, ProviderError> {
        let owners = self.owners.read().unwrap_or_else(|p| p.into_inner());
        owners.of_key.get(id).copied().ok_or_else(|| {
            ProviderError::invalid(format!(
                "keyward has not listed access key {id} in account {}: reload (R) first, so the call names \
                 the key's owner",
                self.scope.account
            ))
            .in_action(action)
        })
    }

    async fn update_status(&self, id: &str, status: &str) -> Result<Receipt, ProviderError> {
        let action = actions::UPDATE_ACCESS_KEY;
        let mut params = json!({ "AccessKeyId": id, "Status": status });
        if let Some(uin) = self.target_of(action, id)? {
            params["TargetUin"] = json!(uin);
        }
        let (_, request_id) = self.call(action, params, Retry::Write).await?;
        Ok(Receipt { request_id })
    }

    /// Create a key for the user `target_uin` (`None`: the caller), with an optional
    /// description. Refused before any call when the last listing shows the owner already
    /// holding [`MAX_KEYS_PER_USER`] keys, or does not know the user. The staged rotation
    /// calls this; the SecretKey comes back once, as a `Secret`.
    pub async fn create_access_key(
        &self,
        target_uin: Option<u64>,
        description: Option<&str>,
    ) -> Result<NewAccessKey, ProviderError> {
        let action = actions::CREATE_ACCESS_KEY;
        {
            let owners = self.owners.read().unwrap_or_else(|p| p.into_inner());
            refuse_create(&owners, target_uin, &self.scope.account)
                .map_err(|why| ProviderError::invalid(why).in_action(action))?;
        }
        let mut params = json!({});
        if let Some(uin) = target_uin {
            params["TargetUin"] = json!(uin);
        }
        if let Some(text) = description {
            validate_description(text).map_err(|why| ProviderError::invalid(why).in_action(action))?;
            params["Description"] = json!(text);
        }
        let (response, request_id) = self.call(action, params, Retry::Write).await?;
        let created: CreatedKey = field(&response, "AccessKey", action, &request_id).map_err(|mut e| {
            e.message = format!(
                "{}; a key may have been created all the same: refresh to see it (its SecretKey was only in \
                 this answer, so disable and delete it if it is there)",
                e.message
            );
            e
        })?;
        self.owners
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .of_key
            .insert(created.access_key_id.as_str().into(), target_uin);
        Ok(NewAccessKey {
            receipt: Receipt { request_id },
            secret_id: created.access_key_id,
            secret_key: created.secret_access_key,
        })
    }
}

/// ListAccessKeys' `AccessKeys`, each checked: a status or time keyward cannot read is a
/// Protocol error naming the key, not a guess.
fn read_keys(response: &Value, request_id: &str) -> Result<Vec<Listed>, ProviderError> {
    let action = actions::LIST_ACCESS_KEYS;
    let keys: Option<Entries<AccessKey>> = field(response, "AccessKeys", action, request_id)?;
    keys.unwrap_or_default()
        .0
        .into_iter()
        .map(|k| {
            let bad = |why: String| protocol_error(action, request_id, &format!("key {}: {why}", k.access_key_id));
            Ok(Listed {
                status: answers::status(&k.status).map_err(bad)?,
                created: answers::beijing_to_utc(k.create_time.as_deref()).map_err(bad)?,
                description: k.description.clone().unwrap_or_default(),
                id: k.access_key_id,
            })
        })
        .collect()
}

/// GetSecurityLastUsed's `SecretIdLastUsedRows` as SecretId -> last use, each checked: a
/// date keyward cannot read is a Protocol error naming the key, not a key shown unused.
fn read_last_used(response: &Value, request_id: &str) -> Result<Vec<(String, Timestamp)>, ProviderError> {
    let action = actions::GET_SECURITY_LAST_USED;
    let rows: Option<Entries<LastUsedRow>> = field(response, "SecretIdLastUsedRows", action, request_id)?;
    let mut dates = Vec::new();
    for row in rows.unwrap_or_default().0 {
        let date = answers::last_used_date(row.last_used_date.as_deref())
            .map_err(|why| protocol_error(action, request_id, &format!("key {}: {why}", row.secret_id)))?;
        if let Some(date) = date {
            dates.push((row.secret_id, date));
        }
    }
    Ok(dates)
}

/// Why a CreateAccessKey for `target` must not be sent, from the last listing.
fn refuse_create(owners: &Owners, target: Option<u64>, account: &str) -> Result<(), String> {
    if owners.of_key.is_empty() && owners.users.is_empty() {
        return Err(format!(
            "the CAM keys of account {account} have not been listed yet: refresh (r) first"
        ));
    }
    if let Some(uin) = target
        && !owners.users.contains(&uin)
    {
        return Err(format!(
            "uin {uin} is not a sub-user of account {account} in the last listing: check the uin, or refresh (r)"
        ));
    }
    let held = owners.of_key.values().filter(|owner| **owner == target).count();
    if held >= MAX_KEYS_PER_USER {
        let who = target.map_or_else(|| "the root account".to_string(), |uin| format!("user {uin}"));
        return Err(format!(
            "{who} already has {held} access keys, the most CAM allows: disable and delete one before creating another"
        ));
    }
    Ok(())
}

/// CreateAccessKey's Description rule: 1 to 1024 characters of `[\w+=,.@:/-]`.
fn validate_description(text: &str) -> Result<(), String> {
    const RULE: &str = "a CAM key description is 1-1024 characters: letters, digits and _ + = , . @ : / -";
    let len = text.chars().count();
    if !(1..=1024).contains(&len) {
        return Err(format!("{RULE}; this one has {len}"));
    }
    if let Some((pos, c)) = text
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(*c)))
    {
        return Err(format!(
            "{RULE}; character {} ({}) is not allowed",
            pos + 1,
            crate::providers::describe_char(c)
        ));
    }
    Ok(())
}

/// The items of one listing, and who owns each key. Pure: the caller's keys no user
/// lists are the root's; a key `signer` signs with is marked, so the planner keeps
/// keyward from locking itself out; each key carries how many active keys its owner has.
pub(super) fn assemble(
    scope: &Scope,
    signer: &str,
    caller: Vec<Listed>,
    users: Vec<(User, Vec<Listed>)>,
    last_used: &HashMap<String, Timestamp>,
) -> (Vec<Item>, HashMap<CompactString, Option<u64>>) {
    let by_user: HashSet<&str> = users
        .iter()
        .flat_map(|(_, keys)| keys.iter().map(|k| k.id.as_str()))
        .collect();
    // A caller that is a sub-user lists its own keys twice: the user's listing names the
    // owner, so it wins.
    let root: Vec<Listed> = caller
        .into_iter()
        .filter(|k| !by_user.contains(k.id.as_str()))
        .collect();
    let mut groups: Vec<(Option<&User>, Vec<Listed>)> = vec![(None, root)];
    groups.extend(users.iter().map(|(u, keys)| (Some(u), keys.clone())));
    let mut items = Vec::new();
    let mut owners = HashMap::new();
    for (user, keys) in groups {
        let active = keys.iter().filter(|k| k.status == Status::Enabled).count();
        let name = answers::owner_label(user.map(|u| (u.name.as_str(), u.uin)));
        for key in keys {
            owners.insert(key.id.as_str().into(), user.map(|u| u.uin));
            items.push(Item {
                key: scope.key(key.id.as_str()),
                name: name.as_str().into(),
                status: key.status,
                key_type: if user.is_some() { "sub-user" } else { "root" }.into(),
                description: key.description.into(),
                created: key.created,
                // An access key has no modification or expiry time.
                modified: None,
                last_used: last_used.get(&key.id).copied(),
                expires: None,
                bindings: Vec::new(),
                signs_keyward: key.id == signer,
                owner_active_keys: u8::try_from(active).unwrap_or(u8::MAX),
            });
        }
    }
    (items, owners)
}

#[async_trait]
impl Provider for Cam {
    fn scope(&self) -> &Scope {
        &self.scope
    }

    /// ListUsers, ListAccessKeys for the caller and for each user, GetSecurityLastUsed
    /// for every key found. Any failure fails the listing: a partial one could show a
    /// user's last active key as one of several.
    /// ListAccessKeys of the caller's own user: one call whatever the number of users.
    async fn probe(&self) -> Result<Receipt, ProviderError> {
        let (_, request_id) = self.call(actions::LIST_ACCESS_KEYS, json!({}), Retry::Read).await?;
        Ok(Receipt { request_id })
    }

    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        let users = self.users().await?;
        let caller = self.keys_of(None).await?;
        let per_user: Vec<(User, Vec<Listed>)> = futures::stream::iter(users)
            .map(|user| async move {
                let keys = self.keys_of(Some(user.uin)).await?;
                Ok::<_, ProviderError>((user, keys))
            })
            .buffered(USER_LOOKUPS_IN_FLIGHT)
            .try_collect()
            .await?;
        let mut ids: Vec<String> = caller
            .iter()
            .chain(per_user.iter().flat_map(|(_, keys)| keys))
            .map(|k| k.id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        let last_used = self.last_used(&ids).await?;
        let users: HashSet<u64> = per_user.iter().map(|(u, _)| u.uin).collect();
        let (items, of_key) = assemble(&self.scope, self.secret_id(), caller, per_user, &last_used);
        *self.owners.write().unwrap_or_else(|p| p.into_inner()) = Owners { of_key, users };
        Ok(items)
    }

    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError> {
        let action = actions::DELETE_ACCESS_KEY;
        let id = expect_ids(ids, 1, action)?
            .first()
            .ok_or_else(|| ProviderError::invalid("DeleteAccessKey needs an AccessKeyId"))?;
        let mut params = json!({ "AccessKeyId": id });
        if let Some(uin) = self.target_of(action, id)? {
            params["TargetUin"] = json!(uin);
        }
        let (_, request_id) = self.call(action, params, Retry::Write).await?;
        self.owners
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .of_key
            .remove(id.as_str());
        Ok(DeleteReport {
            request_id,
            deleted: vec![id.clone()],
            kept: Vec::new(),
        })
    }

    async fn disable(&self, id: &str) -> Result<Receipt, ProviderError> {
        self.update_status(id, "Inactive").await
    }

    /// The first step of a staged rotation: a new key for the owner of `id`, which stays
    /// active until the operator disables and deletes it in later steps. A CAM secret
    /// cannot be chosen, so `custom` is refused.
    async fn rotate(&self, id: &str, custom: Option<&Secret>) -> Result<Rotated, ProviderError> {
        let action = actions::CREATE_ACCESS_KEY;
        if custom.is_some() {
            return Err(
                ProviderError::invalid("CAM generates every SecretKey: a custom one cannot be set").in_action(action),
            );
        }
        let owner = self.target_of(action, id)?;
        // The documented description rule allows no spaces.
        let created = self
            .create_access_key(owner, Some(&format!("keyward-rotation-of:{id}")))
            .await?;
        Ok(Rotated {
            receipt: created.receipt,
            new_secret: created.secret_key,
            new_id: Some(created.secret_id),
        })
    }

    async fn enable(&self, id: &str) -> Result<Receipt, ProviderError> {
        self.update_status(id, "Active").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, status: Status) -> Listed {
        Listed {
            id: id.into(),
            status,
            created: crate::times::parse_rfc3339("2019-12-25T06:53:03Z"),
            description: format!("desc {id}"),
        }
    }

    fn alice() -> User {
        User {
            name: "alice".into(),
            uin: 100012345678,
        }
    }

    fn scope() -> Scope {
        Scope::new(ProviderKind::Cam, "prod", GLOBAL)
    }

    #[test]
    fn keys_map_to_items_with_owner_type_status_and_last_use() {
        let may_day = crate::times::parse_rfc3339("2024-05-01T00:00:00Z").unwrap();
        let last_used = HashMap::from([("AKIDa1".to_string(), may_day)]);
        let (items, owners) = assemble(
            &scope(),
            "AKIDsigner",
            vec![key("AKIDroot", Status::Enabled)],
            vec![(
                alice(),
                vec![key("AKIDa1", Status::Enabled), key("AKIDa2", Status::Disabled)],
            )],
            &last_used,
        );
        let ids: Vec<&str> = items.iter().map(|i| i.key.id.as_str()).collect();
        assert_eq!(ids, ["AKIDroot", "AKIDa1", "AKIDa2"]);
        let root = &items[0];
        assert_eq!((root.name.as_str(), root.key_type.as_str()), ("root", "root"));
        assert_eq!(root.key.scope, scope());
        let a1 = &items[1];
        assert_eq!(
            (a1.name.as_str(), a1.key_type.as_str()),
            ("alice (100012345678)", "sub-user")
        );
        assert_eq!(a1.status, Status::Enabled);
        assert_eq!(a1.last_used, Some(may_day));
        assert_eq!(a1.created, crate::times::parse_rfc3339("2019-12-25T06:53:03Z"));
        assert_eq!(a1.description, "desc AKIDa1");
        assert_eq!(items[2].status, Status::Disabled);
        assert_eq!(items[2].last_used, None, "no row: no recorded use");
        assert_eq!(owners.get("AKIDroot"), Some(&None));
        assert_eq!(owners.get("AKIDa2"), Some(&Some(100012345678)));
    }

    #[test]
    fn the_signing_key_is_marked_and_a_sub_user_caller_is_listed_once_as_the_user() {
        let (items, owners) = assemble(
            &scope(),
            "AKIDa1",
            vec![key("AKIDa1", Status::Enabled)],
            vec![(alice(), vec![key("AKIDa1", Status::Enabled)])],
            &HashMap::new(),
        );
        assert_eq!(items.len(), 1);
        assert!(items[0].signs_keyward);
        assert_eq!(items[0].key_type, "sub-user");
        assert_eq!(owners.get("AKIDa1"), Some(&Some(100012345678)));
    }

    #[test]
    fn each_key_carries_its_owners_active_key_count() {
        let (items, _) = assemble(
            &scope(),
            "AKIDx",
            vec![key("AKIDr1", Status::Enabled), key("AKIDr2", Status::Enabled)],
            vec![(
                alice(),
                vec![key("AKIDa1", Status::Enabled), key("AKIDa2", Status::Disabled)],
            )],
            &HashMap::new(),
        );
        let counts: Vec<u8> = items.iter().map(|i| i.owner_active_keys).collect();
        assert_eq!(counts, [2, 2, 1, 1]);
        assert!(items.iter().all(|i| !i.signs_keyward));
    }

    #[test]
    fn list_answers_in_another_shape_are_protocol_errors_naming_the_key() {
        let answer = json!({ "AccessKeys": [
            { "AccessKeyId": "AKID1", "Status": "Active", "CreateTime": "2019-12-25 14:53:03" },
            { "AccessKeyId": "AKID2", "Status": "Deleted", "CreateTime": "2019-12-25 14:53:03" },
        ], "RequestId": "r-1" });
        let err = read_keys(&answer, "r-1").unwrap_err();
        assert_eq!(err.kind, crate::providers::ErrorKind::Protocol);
        assert!(
            err.message.contains("AKID2") && err.message.contains("Deleted"),
            "{}",
            err.message
        );
        assert_eq!(err.request_id.as_deref(), Some("r-1"));
        let good = json!({ "AccessKeys": [
            { "AccessKeyId": "AKID1", "Status": "Inactive", "CreateTime": "2019-12-25 14:53:03", "Description": "ci" },
        ]});
        assert_eq!(
            read_keys(&good, "r-2").unwrap(),
            [Listed {
                id: "AKID1".into(),
                status: Status::Disabled,
                created: crate::times::parse_rfc3339("2019-12-25T06:53:03Z"),
                description: "ci".into()
            }]
        );
        assert!(read_keys(&json!({ "AccessKeys": "none" }), "r-3").is_err());
    }

    #[test]
    fn a_create_time_keyward_cannot_read_names_the_key_and_the_value() {
        let answer = json!({ "AccessKeys": [
            { "AccessKeyId": "AKID1", "Status": "Active", "CreateTime": "25/12/2019 14:53" },
        ]});
        let err = read_keys(&answer, "r-1").unwrap_err();
        assert_eq!(err.kind, crate::providers::ErrorKind::Protocol);
        assert_eq!(
            err.message,
            "ListAccessKeys: key AKID1: CreateTime \"25/12/2019 14:53\" is not a time like \"2019-12-25 14:53:03\""
        );
        let absent = json!({ "AccessKeys": [{ "AccessKeyId": "AKID1", "Status": "Active", "CreateTime": null }] });
        assert_eq!(read_keys(&absent, "r-2").unwrap()[0].created, None);
    }

    #[test]
    fn last_use_dates_are_midnight_utc_and_an_empty_one_is_no_use() {
        let answer = json!({ "SecretIdLastUsedRows": [
            { "SecretId": "AKID1", "LastUsedDate": "2024-05-01" },
            { "SecretId": "AKID2", "LastUsedDate": "" },
            { "SecretId": "AKID3" },
        ]});
        assert_eq!(
            read_last_used(&answer, "r-1").unwrap(),
            [(
                "AKID1".to_string(),
                crate::times::parse_rfc3339("2024-05-01T00:00:00Z").unwrap()
            )]
        );
        let bad = json!({ "SecretIdLastUsedRows": [{ "SecretId": "AKID9", "LastUsedDate": "2024-05-01 10:00" }] });
        let err = read_last_used(&bad, "r-2").unwrap_err();
        assert_eq!(err.request_id.as_deref(), Some("r-2"));
        assert_eq!(
            err.message,
            "GetSecurityLastUsed: key AKID9: LastUsedDate \"2024-05-01 10:00\" is not a date like \"2024-05-01\""
        );
    }

    fn owners(keys: &[(&str, Option<u64>)], users: &[u64]) -> Owners {
        Owners {
            of_key: keys.iter().map(|(id, o)| (CompactString::from(*id), *o)).collect(),
            users: users.iter().copied().collect(),
        }
    }

    #[test]
    fn a_create_is_refused_for_a_user_at_the_key_limit_or_unknown() {
        let uin = 100012345678;
        let full = owners(&[("AKIDa1", Some(uin)), ("AKIDa2", Some(uin))], &[uin]);
        let err = refuse_create(&full, Some(uin), "prod").unwrap_err();
        assert!(err.contains("already has 2 access keys"), "{err}");
        let one = owners(&[("AKIDa1", Some(uin)), ("AKIDr", None), ("AKIDr2", None)], &[uin]);
        assert!(refuse_create(&one, Some(uin), "prod").is_ok());
        assert!(
            refuse_create(&one, None, "prod")
                .unwrap_err()
                .contains("the root account")
        );
        assert!(refuse_create(&one, Some(42), "prod").unwrap_err().contains("uin 42"));
        let nothing = owners(&[], &[]);
        assert!(
            refuse_create(&nothing, Some(uin), "prod")
                .unwrap_err()
                .contains("not been listed")
        );
    }

    #[test]
    fn descriptions_follow_the_documented_rule() {
        assert!(validate_description("rotated-2024.05/ci@team").is_ok());
        assert!(validate_description("").unwrap_err().contains("has 0"));
        assert!(validate_description(&"a".repeat(1025)).is_err());
        assert!(validate_description("a b").unwrap_err().contains("a space"));
    }
}
