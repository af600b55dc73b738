//! Planning: turn the selected items and the operator's intent into the exact calls
//! `execute` will send, plus the items that cannot take the intent and why.
//!
//! Pure (no IO, no clock): the confirmation dialog shows this plan, and what it shows
//! is what gets sent. The plan does not depend on the order items were selected in:
//! items are deduplicated and sorted by (kind, account, region, id).

use super::{Intent, Op, Plan, PlannedCall};
use crate::inventory::{Binding, Item, ItemKey, ProviderKind, Status};
use std::collections::BTreeMap;

/// Said once by the summary of a plan with DeleteKeyPairs calls: DescribeKeyPairs has no
/// image field, so a pair an image uses cannot be warned about by id before the delete.
pub const IMAGE_NOTE: &str = "key pairs used by an image cannot be seen before the delete: the service keeps them, and keyward \
     reports each kept pair after the call";

/// DeleteKeyPairs accepts at most 100 KeyIds.N per call.
pub const CVM_DELETE_BATCH: usize = 100;

/// The API action names the log pane and the audit log show.
pub mod actions {
    pub const DESCRIBE_API_KEYS_STATUS: &str = "DescribeApiKeysStatus";
    pub const UPDATE_API_KEY: &str = "UpdateApiKey";
    pub const DISABLE_API_KEY: &str = "DisableApiKey";
    pub const ENABLE_API_KEY: &str = "EnableApiKey";
    pub const DELETE_API_KEY: &str = "DeleteApiKey";
    pub const DELETE_KEY_PAIRS: &str = "DeleteKeyPairs";
    pub const MODIFY_KEY_PAIR_ATTRIBUTE: &str = "ModifyKeyPairAttribute";
    pub const MAAS_DELETE_API_KEY: &str = crate::providers::oceanbase::DELETE_ACTION;
}

/// The rule UpdateApiKey enforces on a custom AccessKeySecret, checked before planning so
/// the operator hears it before confirming. One rule, kept with the provider that sends it.
pub use crate::providers::tencent::apigateway::validate_custom_secret as validate_secret;

/// (kind, account, region): the unit a provider serves and the plan groups by.
type GroupKey<'a> = (ProviderKind, &'a str, &'a str);

/// Build the calls for `intent` on the selected items. Pure.
pub fn build_plan(items: &[&Item], intent: &Intent) -> Plan {
    // Deduplicate (the same item selected twice is one item) and fix the order.
    let mut unique: BTreeMap<&ItemKey, &Item> = BTreeMap::new();
    for item in items {
        unique.entry(&item.key).or_insert(item);
    }
    let mut plan = Plan::default();

    // Whole-selection rules first: they skip every item with one reason.
    let whole_selection_refusal = match intent {
        Intent::Rename { .. } if unique.len() > 1 => Some(format!(
            "rename applies to one key pair at a time, and {} items are selected",
            unique.len()
        )),
        Intent::Rename { name, .. } if name.trim().is_empty() => Some("the new name is empty".to_string()),
        Intent::Rotate { custom: Some(secret) } => validate_secret(secret.expose()).err(),
        _ => None,
    };
    if let Some(reason) = whole_selection_refusal {
        plan.skipped = unique.keys().map(|k| ((*k).clone(), reason.clone())).collect();
        return plan;
    }

    let mut groups: BTreeMap<GroupKey, Vec<&Item>> = BTreeMap::new();
    for (key, item) in unique {
        groups
            .entry((key.kind, key.account.as_str(), key.region.as_str()))
            .or_default()
            .push(item);
    }
    for (group, group_items) in groups {
        match intent {
            Intent::Delete => plan_delete(&mut plan, group, &group_items),
            Intent::Disable | Intent::Enable => plan_toggle(&mut plan, group, &group_items, intent),
            Intent::Rotate { custom } => plan_rotate(&mut plan, group, &group_items, custom),
            Intent::Rename { name, description } => plan_rename(&mut plan, group, &group_items, name, description),
        }
    }
    plan
}

fn call(group: GroupKey, action: &'static str, op: Op, ids: Vec<String>, warnings: Vec<String>) -> PlannedCall {
    let (kind, account, region) = group;
    PlannedCall {
        kind,
        account: account.to_string(),
        region: region.to_string(),
        action,
        op,
        ids,
        warnings,
    }
}

fn skip(plan: &mut Plan, item: &Item, reason: impl Into<String>) {
    plan.skipped.push((item.key.clone(), reason.into()));
}

fn plan_delete(plan: &mut Plan, group: GroupKey, items: &[&Item]) {
    match group.0 {
        ProviderKind::Cvm => {
            for batch in items.chunks(CVM_DELETE_BATCH) {
                // A bound pair is still sent: the service keeps it and says so, which the
                // operator may want to see; the warning tells them in advance.
                let warnings = batch
                    .iter()
                    .filter(|i| i.is_bound())
                    .map(|i| format!("{}: bound to {}: the service will keep it", i.key.id, i.bindings_text()))
                    .collect();
                let ids = batch.iter().map(|i| i.key.id.to_string()).collect();
                plan.calls
                    .push(call(group, actions::DELETE_KEY_PAIRS, Op::Delete, ids, warnings));
            }
        }
        ProviderKind::ApiGateway => {
            for item in items {
                if item.is_bound() {
                    // Not even disabled: disabling would cut off its clients while the
                    // delete is doomed to fail with ResourceIsInUse.
                    skip(plan, item, format!("bound to {}: unbind first", item.bindings_text()));
                    continue;
                }
                let id = vec![item.key.id.to_string()];
                if item.status != Status::Disabled {
                    // DeleteApiKey refuses an enabled key (InvalidStatus).
                    plan.calls.push(call(
                        group,
                        actions::DISABLE_API_KEY,
                        Op::Disable,
                        id.clone(),
                        Vec::new(),
                    ));
                }
                plan.calls
                    .push(call(group, actions::DELETE_API_KEY, Op::Delete, id, Vec::new()));
            }
        }
        ProviderKind::OceanBase => {
            for item in items {
                let warnings = binding_warnings(item, "the delete may fail");
                plan.calls.push(call(
                    group,
                    actions::MAAS_DELETE_API_KEY,
                    Op::Delete,
                    vec![item.key.id.to_string()],
                    warnings,
                ));
            }
        }
    }
}

fn binding_warnings(item: &Item, consequence: &str) -> Vec<String> {
    if item.is_bound() {
        vec![format!(
            "{}: bound to {}: {consequence}",
            item.key.id,
            item.bindings_text()
        )]
    } else {
        Vec::new()
    }
}

fn plan_toggle(plan: &mut Plan, group: GroupKey, items: &[&Item], intent: &Intent) {
    let enable = matches!(intent, Intent::Enable);
    for item in items {
        if group.0 != ProviderKind::ApiGateway {
            skip(plan, item, format!("{} cannot be {}d", group.0.title(), intent.verb()));
            continue;
        }
        match (enable, item.status) {
            (true, Status::Enabled) => skip(plan, item, "already enabled"),
            (false, Status::Disabled) => skip(plan, item, "already disabled"),
            (true, _) => plan.calls.push(call(
                group,
                actions::ENABLE_API_KEY,
                Op::Enable,
                vec![item.key.id.to_string()],
                Vec::new(),
            )),
            (false, _) => {
                let warnings = usage_plan_warnings(item, "its clients will be refused");
                plan.calls.push(call(
                    group,
                    actions::DISABLE_API_KEY,
                    Op::Disable,
                    vec![item.key.id.to_string()],
                    warnings,
                ));
            }
        }
    }
}

fn usage_plan_warnings(item: &Item, consequence: &str) -> Vec<String> {
    let plans: Vec<String> = item
        .bindings
        .iter()
        .filter(|b| matches!(b, Binding::UsagePlan { .. }))
        .map(|b| b.to_string())
        .collect();
    if plans.is_empty() {
        Vec::new()
    } else {
        vec![format!("{}: bound to {}: {consequence}", item.key.id, plans.join(", "))]
    }
}

fn plan_rotate(plan: &mut Plan, group: GroupKey, items: &[&Item], custom: &Option<crate::secret::Secret>) {
    for item in items {
        if group.0 != ProviderKind::ApiGateway {
            skip(
                plan,
                item,
                format!("{} have no secret keyward can rotate", group.0.title()),
            );
            continue;
        }
        let warnings = usage_plan_warnings(item, "its clients need the new secret");
        plan.calls.push(call(
            group,
            actions::UPDATE_API_KEY,
            Op::Rotate { custom: custom.clone() },
            vec![item.key.id.to_string()],
            warnings,
        ));
    }
}

fn plan_rename(plan: &mut Plan, group: GroupKey, items: &[&Item], name: &str, description: &Option<String>) {
    for item in items {
        if group.0 != ProviderKind::Cvm {
            skip(plan, item, format!("{} cannot be renamed", group.0.title()));
            continue;
        }
        plan.calls.push(call(
            group,
            actions::MODIFY_KEY_PAIR_ATTRIBUTE,
            Op::Rename {
                name: name.to_string(),
                description: description.clone(),
            },
            vec![item.key.id.to_string()],
            Vec::new(),
        ));
    }
}

impl Plan {
    /// The distinct items the calls touch, sorted. With the table's filter the app can
    /// count how many of them are hidden, which the confirmation must say.
    pub fn item_keys(&self) -> Vec<ItemKey> {
        let mut keys: Vec<ItemKey> = self
            .calls
            .iter()
            .flat_map(|c| {
                c.ids.iter().map(move |id| ItemKey {
                    kind: c.kind,
                    account: c.account.as_str().into(),
                    region: c.region.as_str().into(),
                    id: id.as_str().into(),
                })
            })
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// Number of warnings across all calls.
    pub fn warning_count(&self) -> usize {
        self.calls.iter().map(|c| c.warnings.len()).sum()
    }

    /// Lines for the confirmation dialog, one per (kind, account, region) in plan order,
    /// e.g. `cvm prod/ap-guangzhou: DeleteKeyPairs x2 (150 key pairs), 3 warnings`, then
    /// [`IMAGE_NOTE`] when key pairs are deleted, then one line for skipped items if any.
    pub fn summary(&self) -> Vec<String> {
        struct ActionTally<'a> {
            action: &'a str,
            calls: usize,
            ids: usize,
        }
        struct GroupTally<'a> {
            key: GroupKey<'a>,
            actions: Vec<ActionTally<'a>>,
            warnings: usize,
        }
        let mut groups: Vec<GroupTally> = Vec::new();
        for c in &self.calls {
            let key = (c.kind, c.account.as_str(), c.region.as_str());
            let pos = match groups.iter().position(|g| g.key == key) {
                Some(pos) => pos,
                None => {
                    groups.push(GroupTally {
                        key,
                        actions: Vec::new(),
                        warnings: 0,
                    });
                    groups.len() - 1
                }
            };
            let group = &mut groups[pos];
            group.warnings += c.warnings.len();
            match group.actions.iter_mut().find(|a| a.action == c.action) {
                Some(tally) => {
                    tally.calls += 1;
                    tally.ids += c.ids.len();
                }
                None => group.actions.push(ActionTally {
                    action: c.action,
                    calls: 1,
                    ids: c.ids.len(),
                }),
            }
        }
        let mut lines: Vec<String> = groups
            .iter()
            .map(|g| {
                let (kind, account, region) = g.key;
                let parts: Vec<String> = g
                    .actions
                    .iter()
                    .map(|a| format!("{} x{} ({})", a.action, a.calls, count_noun(kind, a.ids)))
                    .collect();
                let mut line = format!("{kind} {account}/{region}: {}", parts.join(", "));
                match g.warnings {
                    0 => {}
                    1 => line.push_str(", 1 warning"),
                    n => line.push_str(&format!(", {n} warnings")),
                }
                line
            })
            .collect();
        if self.calls.iter().any(|c| c.action == actions::DELETE_KEY_PAIRS) {
            lines.push(IMAGE_NOTE.to_string());
        }
        if !self.skipped.is_empty() {
            let n = self.skipped.len();
            lines.push(format!(
                "{n} {} skipped (see the reasons)",
                if n == 1 { "item" } else { "items" }
            ));
        }
        lines
    }
}

fn count_noun(kind: ProviderKind, n: usize) -> String {
    let (one, many) = match kind {
        ProviderKind::ApiGateway => ("API key", "API keys"),
        ProviderKind::Cvm => ("key pair", "key pairs"),
        ProviderKind::OceanBase => ("MaaS key", "MaaS keys"),
    };
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_rule_bounds() {
        assert!(validate_secret("abcdefghij").is_ok());
        assert!(validate_secret(&"a".repeat(50)).is_ok());
        assert!(validate_secret("Ab_9Ab_9Ab").is_ok());
        assert!(validate_secret("abcdefghi").is_err());
        assert!(validate_secret(&"a".repeat(51)).is_err());
        assert!(validate_secret("abcdefghi-").is_err());
        assert!(validate_secret("abcdefghié").is_err());
        assert!(validate_secret("").is_err());
    }

    #[test]
    fn secret_error_does_not_quote_the_secret() {
        let err = validate_secret("zzqq-xxyyww").unwrap_err();
        assert!(!err.contains("zzqq"), "{err}");
        assert!(err.contains("character 5"), "{err}");
    }
}
