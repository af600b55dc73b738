//! Planning: turn the selected items and the operator's intent into the exact calls
//! `execute` will send, plus the items that cannot take the intent and why.
//!
//! Pure (no IO, no clock): the confirmation dialog shows this plan, and what it shows
//! is what gets sent. The plan does not depend on the order items were selected in:
//! items are deduplicated and sorted by (kind, account, region, id).

use super::protect::Protect;
use super::{Intent, Op, Plan, PlannedCall};
use crate::inventory::{Binding, Item, ItemKey, Row, Scope, Status};
use crate::providers::{BoundDelete, Operation, action, capabilities, validate_new_name};
use compact_str::CompactString;
use std::collections::{BTreeMap, HashMap};

// The rule UpdateApiKey enforces on a custom AccessKeySecret, checked before planning so
// the operator hears it before confirming: one rule, kept with the provider that sends it.
use crate::providers::tencent::apigateway::validate_custom_secret;

/// Said once by the queue view of a plan that deletes key pairs: DescribeKeyPairs has no
/// image field, so a pair an image uses cannot be warned about by id before the delete.
pub const IMAGE_NOTE: &str = "key pairs used by an image cannot be seen before the delete: the service keeps them, and keyward \
     reports each kept pair after the call";

/// What the planner takes: an item, and the other scopes that list the same key. A table
/// [`Row`] several regions list is planned once, addressed through its first region; the
/// other regions are re-read after the run (`Plan::also_listed`).
pub trait Selected {
    fn item(&self) -> &Item;
    fn also_listed(&self) -> Vec<Scope>;
}

/// A bare item is listed by its own scope alone.
impl Selected for Item {
    fn item(&self) -> &Item {
        self
    }
    fn also_listed(&self) -> Vec<Scope> {
        Vec::new()
    }
}

impl Selected for Row {
    fn item(&self) -> &Item {
        &self.item
    }
    fn also_listed(&self) -> Vec<Scope> {
        self.also_listed_scopes()
    }
}

/// Build the calls for `intent` on the selected items. Pure.
///
/// What each kind supports, the action names and the input rules come from the kind's
/// provider module (`providers::capabilities`, `providers::action`, the validators): the
/// planner holds only the rules that are about plans. `protect` (the config's
/// `[[protect]]` entries) is applied first: a protected key is skipped, never planned.
pub fn build_plan<S: Selected>(selected: &[&S], intent: &Intent, protect: &Protect) -> Plan {
    // Deduplicate (the same item selected twice is one item) and fix the order.
    let mut unique: BTreeMap<&ItemKey, &Item> = BTreeMap::new();
    let mut also_listed: BTreeMap<ItemKey, Vec<Scope>> = BTreeMap::new();
    for s in selected {
        let item = s.item();
        unique.entry(&item.key).or_insert(item);
        let others = s.also_listed();
        if !others.is_empty() {
            also_listed.insert(item.key.clone(), others);
        }
    }
    // Names of every selected item, protected ones too: the skipped list names them.
    let names = unique
        .iter()
        .filter(|(_, item)| !item.name.is_empty())
        .map(|(key, item)| ((*key).clone(), item.name.to_string()))
        .collect();
    let mut protected = Vec::new();
    unique.retain(|key, item| {
        let also = also_listed.get(*key).map(Vec::as_slice).unwrap_or_default();
        match protect.refusing(intent, item, also) {
            Some(rule) => {
                protected.push(((*key).clone(), Protect::reason(rule)));
                false
            }
            None => true,
        }
    });
    let mut plan = Plan {
        skipped: protected,
        names,
        also_listed,
        ..Plan::default()
    };

    // Whole-selection rules first: they skip every item with one reason.
    let whole_selection_refusal = match intent {
        Intent::Rename { .. } if unique.len() > 1 => Some(format!(
            "rename applies to one key pair at a time, and {} items are selected",
            unique.len()
        )),
        Intent::Rotate { custom: Some(secret) } => validate_custom_secret(secret.expose()).err(),
        _ => None,
    };
    if let Some(reason) = whole_selection_refusal {
        plan.skipped
            .extend(unique.keys().map(|k| ((*k).clone(), reason.clone())));
        return plan;
    }

    // The scope is the unit a provider serves and the plan groups by.
    let mut groups: BTreeMap<&Scope, Vec<&Item>> = BTreeMap::new();
    for (key, item) in unique {
        groups.entry(&key.scope).or_default().push(item);
    }
    for (scope, group_items) in groups {
        match intent {
            Intent::Delete => plan_delete(&mut plan, scope, &group_items),
            Intent::Disable | Intent::Enable => plan_toggle(&mut plan, scope, &group_items, intent),
            Intent::Rotate { custom } => plan_rotate(&mut plan, scope, &group_items, custom),
            Intent::Rename { name } => plan_rename(&mut plan, scope, &group_items, name),
        }
    }
    plan
}

fn call(scope: &Scope, action: &'static str, op: Op, ids: Vec<String>, warnings: Vec<String>) -> PlannedCall {
    PlannedCall {
        scope: scope.clone(),
        action,
        op,
        ids,
        warnings,
    }
}

fn skip(plan: &mut Plan, item: &Item, reason: impl Into<String>) {
    plan.skipped.push((item.key.clone(), reason.into()));
}

fn skip_all(plan: &mut Plan, items: &[&Item], reason: &str) {
    for item in items {
        skip(plan, item, reason);
    }
}

fn plan_delete(plan: &mut Plan, scope: &Scope, items: &[&Item]) {
    let caps = capabilities(scope.kind);
    let Some(delete) = action(scope.kind, Operation::Delete) else {
        skip_all(plan, items, &format!("{} cannot be deleted", scope.kind.title()));
        return;
    };
    let mut sendable = Vec::with_capacity(items.len());
    for item in items {
        if let Some(reason) = keywards_own_key(item, scope) {
            skip(plan, item, reason);
            continue;
        }
        if item.is_bound() && caps.bound_delete == BoundDelete::Refused {
            // Not even disabled: disabling would cut off its clients while the delete is
            // doomed to fail (API Gateway: ResourceIsInUse).
            skip(plan, item, format!("bound to {}: unbind first", item.bindings_text()));
            continue;
        }
        sendable.push(*item);
    }
    let mut last_active = last_active_warnings(&sendable, "deleting");
    for batch in sendable.chunks(caps.delete_batch.max(1)) {
        if caps.delete_requires_disabled {
            // The service refuses to delete an enabled key (API Gateway: InvalidStatus).
            for item in batch.iter().filter(|i| i.status != Status::Disabled) {
                let Some(disable) = action(scope.kind, Operation::Disable) else {
                    continue;
                };
                plan.calls.push(call(
                    scope,
                    disable,
                    Op::Disable,
                    vec![item.key.id.to_string()],
                    Vec::new(),
                ));
            }
        }
        // A bound item that the service keeps is still sent: the service says so, which
        // the operator may want to see; the warning tells them in advance.
        let consequence = match caps.bound_delete {
            BoundDelete::Kept => "the service will keep it",
            BoundDelete::Unknown | BoundDelete::Refused => "the delete may fail",
        };
        let warnings = batch
            .iter()
            .flat_map(|i| {
                let last = last_active.remove(&i.key.id);
                binding_warnings(i, consequence).into_iter().chain(last)
            })
            .collect();
        let ids = batch.iter().map(|i| i.key.id.to_string()).collect();
        plan.calls.push(call(scope, delete, Op::Delete, ids, warnings));
    }
}

/// The self-lockout rule, kept here alone: keyward never disables or deletes the key it
/// signs that account's calls with (the provider marks it when listing, `signs_keyward`).
/// Disabling it would fail every later call of the run, the re-read and the undo.
fn keywards_own_key(item: &Item, scope: &Scope) -> Option<String> {
    item.signs_keyward
        .then(|| format!("keyward is using this key for account {}", scope.account))
}

/// A warning for each of `leaving` (items a plan disables or deletes) that takes its
/// owner's last active key: the owner's active keys in the listing
/// (`owner_active_keys`, 0 for kinds without owners) all among them. By id.
fn last_active_warnings(leaving: &[&Item], doing: &str) -> HashMap<CompactString, String> {
    let mut per_owner: HashMap<&str, Vec<&Item>> = HashMap::new();
    for item in leaving
        .iter()
        .filter(|i| i.owner_active_keys > 0 && i.status == Status::Enabled)
    {
        per_owner.entry(item.name.as_str()).or_default().push(item);
    }
    let mut warnings = HashMap::new();
    for (owner, items) in per_owner {
        if items.len() < usize::from(items[0].owner_active_keys) {
            continue;
        }
        for item in items {
            warnings.insert(
                item.key.id.clone(),
                format!(
                    "{}: {doing} the last active key of {owner}: nothing can call Tencent Cloud as {owner} afterwards",
                    item.key.id
                ),
            );
        }
    }
    warnings
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

fn plan_toggle(plan: &mut Plan, scope: &Scope, items: &[&Item], intent: &Intent) {
    let enable = matches!(intent, Intent::Enable);
    let op = if enable { Operation::Enable } else { Operation::Disable };
    let Some(name) = action(scope.kind, op) else {
        skip_all(
            plan,
            items,
            &format!("{} cannot be {}d", scope.kind.title(), intent.verb()),
        );
        return;
    };
    let own = |item: &Item| if enable { None } else { keywards_own_key(item, scope) };
    let leaving: Vec<&Item> = if enable {
        Vec::new()
    } else {
        items.iter().copied().filter(|i| own(i).is_none()).collect()
    };
    let mut last_active = last_active_warnings(&leaving, "disabling");
    for item in items {
        if let Some(reason) = own(item) {
            skip(plan, item, reason);
            continue;
        }
        match (enable, item.status) {
            (true, Status::Enabled) => skip(plan, item, "already enabled"),
            (false, Status::Disabled) => skip(plan, item, "already disabled"),
            (true, _) => plan
                .calls
                .push(call(scope, name, Op::Enable, vec![item.key.id.to_string()], Vec::new())),
            (false, _) => {
                let mut warnings = usage_plan_warnings(item, "its clients will be refused");
                warnings.extend(last_active.remove(&item.key.id));
                plan.calls
                    .push(call(scope, name, Op::Disable, vec![item.key.id.to_string()], warnings));
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

fn plan_rotate(plan: &mut Plan, scope: &Scope, items: &[&Item], custom: &Option<crate::secret::Secret>) {
    let Some(name) = action(scope.kind, Operation::Rotate) else {
        skip_all(
            plan,
            items,
            &format!("{} have no secret keyward can rotate", scope.kind.title()),
        );
        return;
    };
    let staged = crate::providers::capabilities(scope.kind).staged_rotation;
    for item in items {
        let mut warnings = usage_plan_warnings(item, "its clients need the new secret");
        if staged {
            warnings.push(format!(
                "step 1 of 3: {name} makes a second key for {}; {} stays active until you rotate it again \
                 (step 2 disables it, step 3 deletes it)",
                item.name, item.key.id
            ));
        }
        plan.calls.push(call(
            scope,
            name,
            Op::Rotate { custom: custom.clone() },
            vec![item.key.id.to_string()],
            warnings,
        ));
    }
}

fn plan_rename(plan: &mut Plan, scope: &Scope, items: &[&Item], name: &str) {
    let Some(action_name) = action(scope.kind, Operation::Rename) else {
        skip_all(plan, items, &format!("{} cannot be renamed", scope.kind.title()));
        return;
    };
    if let Err(reason) = validate_new_name(scope.kind, name) {
        skip_all(plan, items, &reason);
        return;
    }
    for item in items {
        plan.calls.push(call(
            scope,
            action_name,
            Op::Rename { name: name.to_string() },
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
            .flat_map(|c| c.ids.iter().map(|id| c.scope.key(id.as_str())))
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}
