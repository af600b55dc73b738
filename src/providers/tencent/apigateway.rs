//! Tencent Cloud API Gateway API keys (apigateway 2018-08-08) as a `Provider`.
//!
//! The documented `ApiKey` structure has no usage-plan field, and a key bound to a usage
//! plan cannot be deleted (`UnsupportedOperation.ResourceIsInUse`). So `list` learns the
//! bindings the other way round: every usage plan of the region (DescribeUsagePlansStatus),
//! then every plan's keys (DescribeUsagePlanSecretIds), all pages of both. The re-read
//! after a run (`refresh`) looks up again only the plans the run can have changed.

use super::client::TencentClient;
use super::page::{Entries, Page, collect_pages, expect_ids, field, protocol_error};
use crate::inventory::{Binding, Item, ProviderKind, Scope, Status};
use crate::providers::http::Retry;
use crate::providers::{
    BoundDelete, Capabilities, DeleteReport, ErrorKind, Operation, Provider, ProviderError, Receipt, Rotated,
    describe_char,
};
use crate::secret::Secret;
use crate::times;
use async_trait::async_trait;
use compact_str::CompactString;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Page size of DescribeApiKeysStatus, DescribeUsagePlansStatus and
/// DescribeUsagePlanSecretIds (the documented maximum of each).
const PAGE_LIMIT: usize = 100;

/// Usage plans whose keys are looked up at once. The client paces every action to its
/// documented 20 requests/s anyway; a few in flight only hide the network round trip.
const PLAN_LOOKUPS_IN_FLIGHT: usize = 4;

/// The apigateway 2018-08-08 actions, by the names the API, the log pane and the audit log
/// use. keyward sends the first seven; the emulator serves them all.
pub mod actions {
    pub const DESCRIBE_API_KEYS_STATUS: &str = "DescribeApiKeysStatus";
    pub const DESCRIBE_USAGE_PLANS_STATUS: &str = "DescribeUsagePlansStatus";
    pub const DESCRIBE_USAGE_PLAN_SECRET_IDS: &str = "DescribeUsagePlanSecretIds";
    pub const UPDATE_API_KEY: &str = "UpdateApiKey";
    pub const DISABLE_API_KEY: &str = "DisableApiKey";
    pub const ENABLE_API_KEY: &str = "EnableApiKey";
    pub const DELETE_API_KEY: &str = "DeleteApiKey";
    pub const DESCRIBE_API_KEY: &str = "DescribeApiKey";
    pub const CREATE_API_KEY: &str = "CreateApiKey";

    pub const ALL: &[&str] = &[
        DESCRIBE_API_KEYS_STATUS,
        DESCRIBE_API_KEY,
        CREATE_API_KEY,
        UPDATE_API_KEY,
        DISABLE_API_KEY,
        ENABLE_API_KEY,
        DELETE_API_KEY,
        DESCRIBE_USAGE_PLANS_STATUS,
        DESCRIBE_USAGE_PLAN_SECRET_IDS,
    ];
}

/// DeleteApiKey's answer for a key bound to a usage plan: certain the key was not deleted.
pub const RESOURCE_IS_IN_USE: &str = "UnsupportedOperation.ResourceIsInUse";

/// The action of each operation API Gateway keys support: all but rename.
pub const fn action(op: Operation) -> Option<&'static str> {
    match op {
        Operation::Delete => Some(actions::DELETE_API_KEY),
        Operation::Disable => Some(actions::DISABLE_API_KEY),
        Operation::Enable => Some(actions::ENABLE_API_KEY),
        Operation::Rotate => Some(actions::UPDATE_API_KEY),
        Operation::Rename => None,
    }
}

/// What API Gateway keys support: one key per delete, and only once it is disabled; a key
/// bound to a usage plan cannot be deleted.
pub const CAPABILITIES: Capabilities = Capabilities {
    enable_disable: action(Operation::Disable).is_some() && action(Operation::Enable).is_some(),
    rotate: action(Operation::Rotate).is_some(),
    rename: action(Operation::Rename).is_some(),
    delete_requires_disabled: true,
    delete_batch: 1,
    bound_delete: BoundDelete::Refused,
    gone_code: Some("ResourceNotFound.InvalidAccessKeyId"),
    delete_note: None,
    staged_rotation: false,
    ages_out: true,
    reports_last_use: false,
    binds_to: Some("usage plan"),
};

/// UpdateApiKey's rule for a custom AccessKeySecret ("10-50 letters, digits, and
/// underscores"), as the secret dialog can show it.
pub const CUSTOM_SECRET_RULE: &str =
    "a custom API key secret is 10-50 characters: letters A-Z a-z, digits 0-9 and underscores";

/// Check a custom secret against [`CUSTOM_SECRET_RULE`] before anything is sent. The
/// message names the rule and what breaks it: the first character that is not allowed
/// (its position, and the character itself, quoted or as a code point: a character that is
/// not allowed cannot be part of a usable secret), else the length. It never quotes the
/// secret.
pub fn validate_custom_secret(s: &str) -> Result<(), String> {
    if let Some((pos, c)) = s
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!(
            "{CUSTOM_SECRET_RULE}; character {} ({}) is not allowed",
            pos + 1,
            describe_char(c)
        ));
    }
    let len = s.chars().count();
    if !(10..=50).contains(&len) {
        return Err(format!("{CUSTOM_SECRET_RULE}; this one has {len}"));
    }
    Ok(())
}

/// One entry of `Result.ApiKeySet` (and `Result` of UpdateApiKey). `AccessKeySecret` is
/// deliberately not a field here: list results never hold a secret.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiKey {
    access_key_id: String,
    #[serde(default)]
    secret_name: Option<String>,
    #[serde(default)]
    access_key_type: Option<String>,
    #[serde(default)]
    status: Option<i64>,
    #[serde(default)]
    created_time: Option<String>,
    #[serde(default)]
    modified_time: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiKeysStatus {
    #[serde(default)]
    total_count: Option<u64>,
    #[serde(default)]
    api_key_set: Option<Entries<ApiKey>>,
}

/// One entry of `Result.UsagePlanStatusSet` (`UsagePlanStatusInfo`). The id is required:
/// a plan keyward cannot name is a plan whose keys it cannot look up.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UsagePlan {
    usage_plan_id: String,
    #[serde(default)]
    usage_plan_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UsagePlansStatus {
    #[serde(default)]
    total_count: Option<u64>,
    #[serde(default)]
    usage_plan_status_set: Option<Entries<UsagePlan>>,
}

/// One entry of `Result.AccessKeyList` (`UsagePlanBindSecret`); only the id is used.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BoundKey {
    access_key_id: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UsagePlanBindSecretStatus {
    #[serde(default)]
    total_count: Option<u64>,
    #[serde(default)]
    access_key_list: Option<Entries<BoundKey>>,
}

impl UsagePlan {
    /// The plan's id, and its name when it has one.
    fn binding(&self) -> Binding {
        Binding::UsagePlan {
            id: self.usage_plan_id.clone(),
            name: self
                .usage_plan_name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_string),
        }
    }
}

/// AccessKeyId -> the usage plans the key is bound to.
type Bindings = HashMap<String, Vec<Binding>>;

pub struct ApiGateway {
    client: Arc<TencentClient>,
    scope: Scope,
    /// Said once to the operator: why this region is not reached through its own host.
    notice: Option<String>,
}

impl ApiGateway {
    pub fn new(client: Arc<TencentClient>, account: impl Into<String>, region: impl Into<String>) -> Self {
        ApiGateway {
            client,
            scope: Scope::new(ProviderKind::ApiGateway, account.into(), region.into()),
            notice: None,
        }
    }

    /// The same provider with the host choice's fallback note (see `endpoint::choose`).
    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }

    /// One listed key as an item; a time keyward cannot read is a Protocol error naming
    /// the key, the field and the value (an unread time must not pass for "unknown").
    fn item(&self, key: ApiKey, action: &str, request_id: &str) -> Result<Item, ProviderError> {
        let time = |field: &str, text: &Option<String>| {
            times::RFC3339
                .read(field, text.as_deref())
                .map_err(|why| protocol_error(action, request_id, &format!("key {}: {why}", key.access_key_id)))
        };
        let created = time("CreatedTime", &key.created_time)?;
        let modified = time("ModifiedTime", &key.modified_time)?;
        Ok(Item {
            key: self.scope.key(key.access_key_id),
            name: key.secret_name.unwrap_or_default().into(),
            // Documented: 1 enabled, 0 disabled. Anything else cannot be used to call APIs either.
            status: if key.status == Some(1) {
                Status::Enabled
            } else {
                Status::Disabled
            },
            key_type: key.access_key_type.unwrap_or_default().into(),
            description: CompactString::default(),
            created,
            modified,
            // DescribeApiKeysStatus has no last-use time, and API keys do not expire.
            last_used: None,
            expires: None,
            bindings: Vec::new(),
            signs_keyward: false,
            owner_active_keys: 0,
        })
    }

    /// Every entry of an Offset/Limit listing, all pages: `params` plus Offset/Limit per call,
    /// `parts` takes one page's `Result` apart into (TotalCount, entries), given the page's
    /// RequestId for the errors it finds.
    async fn all_pages<R: DeserializeOwned, T>(
        &self,
        action: &'static str,
        params: Value,
        parts: impl Fn(R, &str) -> Result<(Option<u64>, Vec<T>), ProviderError>,
    ) -> Result<Vec<T>, ProviderError> {
        let (params, parts) = (&params, &parts);
        collect_pages(action, |offset| async move {
            let mut page_params = params.clone();
            page_params["Offset"] = json!(offset);
            page_params["Limit"] = json!(PAGE_LIMIT);
            let (response, request_id) = self.call(action, page_params, Retry::Read).await?;
            let (total, items) = parts(field(&response, "Result", action, &request_id)?, &request_id)?;
            Ok((Page { total, items }, request_id))
        })
        .await
    }

    /// Every key of the region (DescribeApiKeysStatus), without bindings.
    async fn list_keys(&self) -> Result<Vec<Item>, ProviderError> {
        let action = actions::DESCRIBE_API_KEYS_STATUS;
        self.all_pages(action, json!({}), |r: ApiKeysStatus, request_id| {
            let items = r.api_key_set.unwrap_or_default().0.into_iter();
            let items = items
                .map(|k| self.item(k, action, request_id))
                .collect::<Result<_, _>>()?;
            Ok((r.total_count, items))
        })
        .await
    }

    /// Every usage plan of the region (DescribeUsagePlansStatus).
    async fn usage_plans(&self) -> Result<Vec<UsagePlan>, ProviderError> {
        self.all_pages(
            actions::DESCRIBE_USAGE_PLANS_STATUS,
            json!({}),
            |r: UsagePlansStatus, _| Ok((r.total_count, r.usage_plan_status_set.unwrap_or_default().0)),
        )
        .await
    }

    /// The AccessKeyIds bound to one plan (DescribeUsagePlanSecretIds).
    async fn plan_key_ids(&self, plan_id: &str) -> Result<Vec<String>, ProviderError> {
        let params = json!({ "UsagePlanId": plan_id });
        let keys = self
            .all_pages(
                actions::DESCRIBE_USAGE_PLAN_SECRET_IDS,
                params,
                |r: UsagePlanBindSecretStatus, _| Ok((r.total_count, r.access_key_list.unwrap_or_default().0)),
            )
            .await?;
        Ok(keys.into_iter().map(|k| k.access_key_id).collect())
    }

    /// AccessKeyId -> the usage plans it is bound to, for each of `plans`
    /// (DescribeUsagePlanSecretIds, all pages, per plan).
    async fn bindings_of(&self, plans: Vec<UsagePlan>) -> Result<Bindings, ProviderError> {
        let per_plan: Vec<(Binding, Vec<String>)> = futures::stream::iter(plans)
            .map(|plan| async move {
                let ids = self.plan_key_ids(&plan.usage_plan_id).await?;
                Ok::<_, ProviderError>((plan.binding(), ids))
            })
            .buffer_unordered(PLAN_LOOKUPS_IN_FLIGHT)
            .try_collect()
            .await?;
        let mut bindings: HashMap<String, Vec<Binding>> = HashMap::new();
        for (binding, ids) in per_plan {
            for id in ids {
                bindings.entry(id).or_default().push(binding.clone());
            }
        }
        Ok(bindings)
    }

    /// The plans whose keys a refresh must look up again, and the bindings every other key
    /// keeps from `previous` (by AccessKeyId, named as the plan is named now); `None` when
    /// every plan must be looked up again.
    ///
    /// Why keeping the rest is right: keyward's own calls (disable, enable, delete, rotate)
    /// never bind or unbind a key, and the planner never deletes a bound key, so a run
    /// changes no binding. What `previous` cannot vouch for is re-read: a plan no previous
    /// binding names (new since the listing, or bound to no key then: the items cannot tell
    /// the two apart), every plan a touched key was bound to, and, when a key keyward has
    /// not seen appears, every plan (it may be bound to any). A plan that is gone takes its
    /// bindings with it. Bindings someone else changed on untouched keys since the listing
    /// show at the next full listing (R); a key wrongly shown unbound is still safe to plan,
    /// as DeleteApiKey refuses it and the executor enables it again.
    fn refresh_plan(
        keys: &[Item],
        touched: &[String],
        previous: &[Item],
        plans: &[UsagePlan],
    ) -> Option<(Vec<UsagePlan>, Bindings)> {
        let before: HashMap<&str, &Item> = previous.iter().map(|i| (i.key.id.as_str(), i)).collect();
        if previous.is_empty() || keys.iter().any(|k| !before.contains_key(k.key.id.as_str())) {
            return None;
        }
        let plan_ids = |item: &Item| {
            item.bindings
                .iter()
                .filter_map(|b| match b {
                    Binding::UsagePlan { id, .. } => Some(id.clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let known: HashSet<String> = previous.iter().flat_map(plan_ids).collect();
        let of_touched: HashSet<String> = touched
            .iter()
            .filter_map(|id| before.get(id.as_str()))
            .flat_map(|i| plan_ids(i))
            .collect();
        let (reread, kept): (Vec<&UsagePlan>, Vec<&UsagePlan>) = plans
            .iter()
            .partition(|p| !known.contains(&p.usage_plan_id) || of_touched.contains(&p.usage_plan_id));
        let kept: HashMap<&str, Binding> = kept
            .into_iter()
            .map(|p| (p.usage_plan_id.as_str(), p.binding()))
            .collect();
        let mut bindings: HashMap<String, Vec<Binding>> = HashMap::new();
        for item in previous {
            let still: Vec<Binding> = plan_ids(item)
                .iter()
                .filter_map(|id| kept.get(id.as_str()).cloned())
                .collect();
            if !still.is_empty() {
                bindings.insert(item.key.id.to_string(), still);
            }
        }
        Some((reread.into_iter().cloned().collect(), bindings))
    }

    async fn call(&self, action: &str, params: Value, retry: Retry) -> Result<(Value, String), ProviderError> {
        self.client.call(&self.scope.region, action, &params, retry).await
    }

    /// Disable/Enable/Delete answer `Result: bool`; `false` means the service did not do it.
    async fn call_bool(&self, action: &str, id: &str) -> Result<Receipt, ProviderError> {
        let (response, request_id) = self.call(action, json!({ "AccessKeyId": id }), Retry::Write).await?;
        if response.get("Result") == Some(&Value::Bool(false)) {
            return Err(ProviderError::new(
                ErrorKind::Api,
                "ResultFalse",
                format!("{action} for {id} answered Result=false: the service did not apply it"),
            )
            .with_request_id(Some(request_id)));
        }
        Ok(Receipt { request_id })
    }
}

#[async_trait]
impl Provider for ApiGateway {
    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn notice(&self) -> Option<String> {
        self.notice.clone()
    }

    async fn probe(&self) -> Result<Receipt, ProviderError> {
        let params = json!({ "Offset": 0, "Limit": 1 });
        let (_, request_id) = self
            .call(actions::DESCRIBE_API_KEYS_STATUS, params, Retry::Read)
            .await?;
        Ok(Receipt { request_id })
    }

    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        self.refresh(&[], &[]).await
    }

    /// The keys and the plan list in full (DescribeApiKeysStatus, DescribeUsagePlansStatus),
    /// but DescribeUsagePlanSecretIds only for the plans [`ApiGateway::refresh_plan`] names:
    /// one call per plan is most of a listing's cost, and a run changes no binding.
    async fn refresh(&self, touched: &[String], previous: &[Item]) -> Result<Vec<Item>, ProviderError> {
        let mut items = self.list_keys().await?;
        if items.is_empty() {
            // Nothing to mark: spare the usage-plan calls.
            return Ok(items);
        }
        // A failed usage-plan lookup fails the whole listing rather than showing the keys as
        // unbound: an "unbound" key is planned as DisableApiKey + DeleteApiKey, and for a bound
        // key that disables it (cutting off its callers) before a delete that cannot succeed.
        // A missing tab is visible and retryable; a wrong "unbound" is neither.
        let unknown_bindings = |mut e: ProviderError| {
            e.message = format!(
                "cannot tell which API keys are bound to usage plans, so the keys are not listed: {}",
                e.message
            );
            e
        };
        let plans = self.usage_plans().await.map_err(unknown_bindings)?;
        let mut bindings = match Self::refresh_plan(&items, touched, previous, &plans) {
            None => self.bindings_of(plans).await.map_err(unknown_bindings)?,
            Some((reread, mut kept)) => {
                for (id, fresh) in self.bindings_of(reread).await.map_err(unknown_bindings)? {
                    kept.entry(id).or_default().extend(fresh);
                }
                kept
            }
        };
        for item in &mut items {
            if let Some(mut plans) = bindings.remove(item.key.id.as_str()) {
                plans.sort();
                plans.dedup();
                item.bindings = plans;
            }
        }
        Ok(items)
    }

    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError> {
        let id = expect_ids(ids, 1, actions::DELETE_API_KEY)?
            .first()
            .ok_or_else(|| ProviderError::invalid("DeleteApiKey needs an AccessKeyId"))?;
        let receipt = self.call_bool(actions::DELETE_API_KEY, id).await?;
        Ok(DeleteReport {
            request_id: receipt.request_id,
            deleted: vec![id.clone()],
            kept: Vec::new(),
        })
    }

    async fn disable(&self, id: &str) -> Result<Receipt, ProviderError> {
        self.call_bool(actions::DISABLE_API_KEY, id).await
    }

    async fn enable(&self, id: &str) -> Result<Receipt, ProviderError> {
        self.call_bool(actions::ENABLE_API_KEY, id).await
    }

    async fn rotate(&self, id: &str, custom: Option<&Secret>) -> Result<Rotated, ProviderError> {
        let action = actions::UPDATE_API_KEY;
        let mut params = json!({ "AccessKeyId": id });
        if let Some(secret) = custom {
            validate_custom_secret(secret.expose()).map_err(|e| ProviderError::invalid(e).in_action(action))?;
            params["AccessKeySecret"] = Value::String(secret.expose().to_string());
        }
        let (response, request_id) = self.call(action, params, Retry::Write).await?;
        let returned = response
            .get("Result")
            .and_then(|r| r.get("AccessKeySecret"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let new_secret = match (returned, custom) {
            (Some(s), _) => Secret::new(s),
            // The documented Result "may return null"; with a custom secret we know the value.
            (None, Some(custom)) => custom.clone(),
            (None, None) => {
                return Err(protocol_error(
                    action,
                    &request_id,
                    "the key was rotated but the answer holds no Result.AccessKeySecret; \
                     look the new secret up in the console",
                ));
            }
        };
        Ok(Rotated {
            receipt: Receipt { request_id },
            new_secret,
            new_id: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_secrets_follow_the_documented_rule() {
        assert!(validate_custom_secret("abcdefghij").is_ok());
        assert!(validate_custom_secret(&"A_1".repeat(16)).is_ok());
        let short = validate_custom_secret("short_1").unwrap_err();
        assert_eq!(short, format!("{CUSTOM_SECRET_RULE}; this one has 7"));
        assert!(validate_custom_secret(&"a".repeat(51)).is_err());
        let bad = validate_custom_secret("has-a-dash-inside").unwrap_err();
        assert_eq!(bad, format!("{CUSTOM_SECRET_RULE}; character 4 ('-') is not allowed"));
        // A bad character is named before the length, which the operator may still fix.
        let space = validate_custom_secret("a b").unwrap_err();
        assert!(space.ends_with("character 2 (a space) is not allowed"), "{space}");
        let quoted = validate_custom_secret("zzqq-xxyyww").unwrap_err();
        assert!(!quoted.contains("zzqq"), "the secret is never quoted: {quoted}");
        let accented = validate_custom_secret("ünïcödé_lëttërs").unwrap_err();
        assert!(accented.ends_with("character 1 ('ü') is not allowed"), "{accented}");
    }

    #[test]
    fn a_secret_character_that_does_not_print_as_itself_is_named_by_code_point() {
        for (secret, shown) in [
            ("abc\u{1b}[2Jdefgh", "U+001B"),
            ("abc\u{202e}defghij", "U+202E"),
            ("abc\u{200b}defghij", "U+200B"),
            ("abcdefghi\t", "U+0009"),
        ] {
            let err = validate_custom_secret(secret).unwrap_err();
            assert!(err.ends_with(&format!("({shown}) is not allowed")), "{err}");
            assert!(
                !err.chars()
                    .any(|c| c.is_control() || c == '\u{202e}' || c == '\u{200b}'),
                "{err:?}"
            );
        }
    }

    fn key(id: &str, plans: &[&str]) -> Item {
        let mut item = Item {
            key: Scope::new(ProviderKind::ApiGateway, "prod", "ap-guangzhou").key(id),
            name: CompactString::default(),
            status: Status::Enabled,
            key_type: CompactString::default(),
            description: CompactString::default(),
            created: None,
            modified: None,
            last_used: None,
            expires: None,
            bindings: Vec::new(),
            signs_keyward: false,
            owner_active_keys: 0,
        };
        item.bindings = plans
            .iter()
            .map(|p| Binding::UsagePlan {
                id: p.to_string(),
                name: Some("old name".into()),
            })
            .collect();
        item
    }

    fn plans(ids: &[&str]) -> Vec<UsagePlan> {
        ids.iter()
            .map(|id| UsagePlan {
                usage_plan_id: id.to_string(),
                usage_plan_name: Some(format!("{id} now")),
            })
            .collect()
    }

    fn reread_ids(reread: &[UsagePlan]) -> Vec<&str> {
        reread.iter().map(|p| p.usage_plan_id.as_str()).collect()
    }

    #[test]
    fn a_refresh_looks_up_only_new_plans_and_the_plans_of_touched_keys() {
        let previous = vec![key("k1", &["p1"]), key("k2", &["p2", "p3"]), key("k3", &[])];
        let keys = vec![key("k1", &[]), key("k2", &[]), key("k3", &[])];
        let now = plans(&["p1", "p2", "p3", "p4"]);
        let touched = ["k1".to_string(), "k3".to_string()];
        let (reread, kept) = ApiGateway::refresh_plan(&keys, &touched, &previous, &now).unwrap();
        // p1: k1 was touched; p4: no previous binding names it. p2, p3 are kept.
        assert_eq!(reread_ids(&reread), ["p1", "p4"]);
        assert_eq!(
            kept.get("k2").cloned().unwrap_or_default(),
            vec![plans(&["p2"])[0].binding(), plans(&["p3"])[0].binding()],
            "kept bindings carry the plan's current name"
        );
        assert!(!kept.contains_key("k1"), "a re-read plan's keys come from its lookup");
        assert!(!kept.contains_key("k3"));
    }

    #[test]
    fn a_refresh_drops_bindings_to_plans_that_are_gone() {
        let previous = vec![key("k1", &["p1"]), key("k2", &["p2"])];
        let (reread, kept) = ApiGateway::refresh_plan(&previous, &[], &previous, &plans(&["p2"])).unwrap();
        assert!(reread.is_empty());
        assert!(!kept.contains_key("k1"));
        assert!(kept.contains_key("k2"));
    }

    #[test]
    fn a_refresh_looks_up_every_plan_when_it_cannot_vouch_for_the_bindings() {
        let previous = vec![key("k1", &["p1"])];
        let now = plans(&["p1", "p2"]);
        // A key keyward has not seen may be bound to any plan.
        let keys = vec![key("k1", &[]), key("k9", &[])];
        assert!(ApiGateway::refresh_plan(&keys, &[], &previous, &now).is_none());
        // Nothing known before: a full listing.
        assert!(ApiGateway::refresh_plan(&keys, &[], &[], &now).is_none());
    }

    #[test]
    fn a_usage_plan_binding_names_the_plan_and_its_name_when_it_has_one() {
        let plan = |name: Option<&str>| UsagePlan {
            usage_plan_id: "usagePlan-quqxvett".into(),
            usage_plan_name: name.map(str::to_string),
        };
        let text = |name| plan(name).binding().to_string();
        assert_eq!(text(Some("gold")), "usage plan usagePlan-quqxvett (gold)");
        assert_eq!(text(Some("  ")), "usage plan usagePlan-quqxvett");
        assert_eq!(text(None), "usage plan usagePlan-quqxvett");
        // The id and the name stay apart: nothing has to parse "id (name)" back.
        assert_eq!(
            plan(Some("gold")).binding(),
            Binding::UsagePlan {
                id: "usagePlan-quqxvett".into(),
                name: Some("gold".into())
            }
        );
    }
}

#[cfg(test)]
mod props {
    use super::super::client::APIGATEWAY;
    use super::super::page::arb;
    use super::*;
    use proptest::prelude::*;
    use std::sync::LazyLock;

    const ACTION: &str = "DescribeApiKeysStatus";

    static GATEWAY: LazyLock<ApiGateway> =
        LazyLock::new(|| ApiGateway::new(arb::offline_client(APIGATEWAY), "prod", "ap-guangzhou"));

    /// What `list` does with one answer: read `Result`, map every key.
    fn items_of(response: &Value) -> Result<(Option<u64>, Vec<Item>), ProviderError> {
        let result: ApiKeysStatus = field(response, "Result", ACTION, "req")?;
        let keys = result.api_key_set.unwrap_or_default().0;
        let items = keys.into_iter().map(|k| GATEWAY.item(k, ACTION, "req"));
        Ok((result.total_count, items.collect::<Result<_, _>>()?))
    }

    fn one_key(key: Value) -> Result<Item, ProviderError> {
        let response = json!({ "Result": { "TotalCount": 1, "ApiKeySet": [key] }, "RequestId": "req" });
        items_of(&response).map(|(_, mut items)| items.remove(0))
    }

    #[test]
    fn times_are_read_as_rfc3339_and_absent_or_null_is_unknown() {
        let key = one_key(json!({ "AccessKeyId": "AKID1", "CreatedTime": "2020-02-26T06:09:44Z",
                                  "ModifiedTime": "2020-02-26T14:45:57+08:00" }))
        .unwrap();
        assert_eq!(key.created, times::parse_rfc3339("2020-02-26T06:09:44Z"));
        assert_eq!(key.modified, times::parse_rfc3339("2020-02-26T06:45:57Z"));
        let key = one_key(json!({ "AccessKeyId": "AKID1", "ModifiedTime": null })).unwrap();
        assert_eq!((key.created, key.modified), (None, None));
    }

    #[test]
    fn a_time_keyward_cannot_read_is_an_error_naming_the_key_field_and_value() {
        let err = one_key(json!({ "AccessKeyId": "AKID1", "CreatedTime": "2020-02-26T06:09:44Z",
                                  "ModifiedTime": "2020/02/26 06:45" }))
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol);
        assert_eq!(err.request_id.as_deref(), Some("req"));
        assert_eq!(
            err.message,
            "DescribeApiKeysStatus: key AKID1: ModifiedTime \"2020/02/26 06:45\" is not an RFC 3339 time \
             like \"2020-02-26T06:09:44Z\""
        );
    }

    /// One documented `ApiKey`; each optional field is present, null or left out.
    #[derive(Debug, Clone)]
    struct GenKey {
        id: String,
        name: Option<Option<String>>,
        key_type: Option<Option<String>>,
        status: Option<Option<i64>>,
        /// Seconds since the epoch, sent as RFC 3339.
        created: Option<Option<i64>>,
        modified: Option<Option<i64>>,
        secret: Option<String>,
    }

    impl GenKey {
        fn json(&self) -> Value {
            let mut v = json!({ "AccessKeyId": self.id });
            let mut put = |name: &str, value: Option<Value>| {
                if let Some(value) = value {
                    v[name] = value;
                }
            };
            put("SecretName", self.name.clone().map(|x| json!(x)));
            put("AccessKeyType", self.key_type.clone().map(|x| json!(x)));
            put("Status", self.status.map(|x| json!(x)));
            put("CreatedTime", self.created.map(|x| json!(x.map(arb::rfc3339))));
            put("ModifiedTime", self.modified.map(|x| json!(x.map(arb::rfc3339))));
            put("AccessKeySecret", self.secret.clone().map(|x| json!(x)));
            v
        }
    }

    fn gen_key() -> impl Strategy<Value = GenKey> {
        (
            "\\PC{1,30}",
            arb::optional("\\PC{0,30}"),
            arb::optional(prop_oneof![
                Just("auto".to_string()),
                Just("manual".to_string()),
                "\\PC{0,8}"
            ]),
            arb::optional(prop_oneof![Just(0i64), Just(1), any::<i64>()]),
            arb::optional(arb::epoch_seconds()),
            arb::optional(arb::epoch_seconds()),
            prop::option::of("topsecret_[A-Za-z0-9]{16}"),
        )
            .prop_map(|(id, name, key_type, status, created, modified, secret)| GenKey {
                id,
                name,
                key_type,
                status,
                created,
                modified,
                secret,
            })
    }

    /// A `Result` whose parts are random: the fields the parser reads hold any JSON.
    fn random_result() -> impl Strategy<Value = Value> {
        (arb::object(arb::json()), arb::leaf(), arb::set_of(corrupted())).prop_map(|(mut result, total, set)| {
            if let Some(map) = result.as_object_mut() {
                map.insert("TotalCount".into(), total);
                map.insert("ApiKeySet".into(), set);
            }
            json!({ "Result": result, "RequestId": "req" })
        })
    }

    /// A documented entry with one field replaced by any JSON value (or removed).
    fn corrupted() -> impl Strategy<Value = Value> {
        const FIELDS: &[&str] = &[
            "AccessKeyId",
            "SecretName",
            "AccessKeyType",
            "Status",
            "CreatedTime",
            "ModifiedTime",
        ];
        arb::one_field_corrupted(gen_key().prop_map(|k| k.json()), FIELDS)
    }

    /// A usage-plan answer (either action) whose entries are documented, corrupted or any JSON.
    fn random_plan_result(set_name: &'static str) -> impl Strategy<Value = Value> {
        let entry = prop_oneof![
            ("\\PC{0,20}", arb::optional("\\PC{0,12}"))
                .prop_map(|(id, name)| json!({ "UsagePlanId": id, "UsagePlanName": name, "AccessKeyId": id })),
            arb::object(arb::json()),
        ];
        (arb::leaf(), prop::collection::vec(entry, 0..5)).prop_map(
            move |(total, set)| json!({ "Result": { "TotalCount": total, set_name: set }, "RequestId": "req" }),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Random usage-plan answers parse or are Protocol errors, never a panic; a parsed
        /// plan's binding always names the plan id.
        #[test]
        fn random_usage_plan_answers_never_panic(
            plans in prop_oneof![arb::json(), random_plan_result("UsagePlanStatusSet")],
            keys in prop_oneof![arb::json(), random_plan_result("AccessKeyList")],
        ) {
            match field::<UsagePlansStatus>(&plans, "Result", "DescribeUsagePlansStatus", "req") {
                Ok(result) => {
                    for plan in result.usage_plan_status_set.unwrap_or_default().0 {
                        let Binding::UsagePlan { id, .. } = plan.binding() else {
                            return Err(TestCaseError::fail("a usage plan binding of another kind"));
                        };
                        prop_assert_eq!(&id, &plan.usage_plan_id);
                    }
                }
                Err(e) => prop_assert_eq!(e.kind, ErrorKind::Protocol),
            }
            if let Err(e) = field::<UsagePlanBindSecretStatus>(&keys, "Result", "DescribeUsagePlanSecretIds", "req") {
                prop_assert_eq!(e.kind, ErrorKind::Protocol);
                prop_assert_eq!(e.request_id.as_deref(), Some("req"));
            }
        }

        /// Random answers map to items or a Protocol error, never a panic; every item is one
        /// of the answer's AccessKeyIds.
        #[test]
        fn random_answers_never_panic(response in prop_oneof![arb::json(), random_result()]) {
            match items_of(&response) {
                Ok((_, items)) => {
                    let sent: Vec<&str> = response["Result"]["ApiKeySet"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|k| k["AccessKeyId"].as_str()).collect())
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

        /// Documented keys map field by field, in order, and no secret reaches an item.
        #[test]
        fn documented_keys_map_to_items(keys in prop::collection::vec(gen_key(), 0..8), total in any::<u64>()) {
            let set: Vec<Value> = keys.iter().map(GenKey::json).collect();
            let response = json!({ "Result": { "TotalCount": total, "ApiKeySet": set }, "RequestId": "req" });
            let (got_total, items) = items_of(&response).unwrap();
            prop_assert_eq!(got_total, Some(total));
            prop_assert_eq!(items.len(), keys.len());
            for (key, item) in keys.iter().zip(&items) {
                prop_assert_eq!(&item.key, &Scope::new(ProviderKind::ApiGateway, "prod", "ap-guangzhou").key(key.id.clone()));
                prop_assert_eq!(&item.name, &key.name.clone().flatten().unwrap_or_default());
                let status = if key.status.flatten() == Some(1) { Status::Enabled } else { Status::Disabled };
                prop_assert_eq!(item.status, status);
                prop_assert_eq!(&item.key_type, &key.key_type.clone().flatten().unwrap_or_default());
                prop_assert_eq!(item.created, key.created.flatten().and_then(|s| chrono::DateTime::from_timestamp(s, 0)));
                prop_assert_eq!(item.modified, key.modified.flatten().and_then(|s| chrono::DateTime::from_timestamp(s, 0)));
                prop_assert!(item.description.is_empty());
                prop_assert!(item.bindings.is_empty());
                if let Some(secret) = &key.secret {
                    let shown = serde_json::to_string(item).unwrap();
                    prop_assert!(!shown.contains(secret.as_str()), "secret in {}", shown);
                    let debug = format!("{item:?}");
                    prop_assert!(!debug.contains(secret.as_str()), "secret in {}", debug);
                }
            }
        }
    }
}
