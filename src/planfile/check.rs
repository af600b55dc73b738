//! Checking a parsed plan file against the live state of its scopes: which items may
//! still be sent, which are refused (and why), which are already gone, and the plan that
//! remains. Pure: the caller lists the scopes ([`PlanFile::scopes`]) and passes the
//! listings in. What `keyward apply` runs and what a confirmation dialog shows.

use super::FileIntent;
use super::{FileCall, PlanFile, PlanFileError, fingerprint};
use crate::inventory::{Item, ItemKey, Scope};
use crate::providers::action;
use crate::queue::{Plan, PlannedCall, Protect, build_plan};
use std::collections::{BTreeMap, BTreeSet};

/// Each of the plan's scopes as re-read now: its items, or why it could not be listed. A
/// scope missing from the map has no configured provider.
pub type Live = BTreeMap<Scope, Result<Vec<Item>, String>>;

/// What became of one planned item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemState {
    /// Unchanged since planned: its calls stay in the plan.
    Ready,
    /// Its scope no longer lists it: nothing to do (as done as a delete gets).
    Gone,
    /// Not sent, and why (changed since planned, protected now, scope unreadable).
    Refused(String),
}

/// One planned item and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemCheck {
    pub key: ItemKey,
    pub name: String,
    pub intent: FileIntent,
    pub state: ItemState,
}

/// A plan file checked against the live state: what a confirmation shows and what runs.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The file's calls without the refused and gone ids (calls left with no id dropped),
    /// carrying the file's hash for the audit log. Its item count is what is sent.
    pub plan: Plan,
    /// Every item of the file, in the file's order.
    pub items: Vec<ItemCheck>,
}

impl Checked {
    pub fn refused(&self) -> impl Iterator<Item = (&ItemCheck, &str)> {
        self.items.iter().filter_map(|i| match &i.state {
            ItemState::Refused(why) => Some((i, why.as_str())),
            _ => None,
        })
    }

    pub fn gone(&self) -> impl Iterator<Item = &ItemCheck> {
        self.items.iter().filter(|i| i.state == ItemState::Gone)
    }
}

impl Checked {
    /// The plan split by the intent of each item (a file may hold a queue of several
    /// intents), for a confirmation that names each: every part keeps the file's hash.
    pub fn parts(&self) -> Vec<(crate::queue::Intent, Plan)> {
        let mut parts: Vec<(super::FileIntent, Plan)> = Vec::new();
        let intent_of = |key: &crate::inventory::ItemKey| self.items.iter().find(|i| &i.key == key).map(|i| i.intent);
        for call in &self.plan.calls {
            let Some(intent) = call.ids.first().and_then(|id| intent_of(&call.scope.key(id.as_str()))) else {
                continue;
            };
            let at = match parts.iter().position(|(i, _)| *i == intent) {
                Some(at) => at,
                None => {
                    let mut empty = self.plan.clone();
                    empty.calls.clear();
                    empty.skipped.clear();
                    parts.push((intent, empty));
                    parts.len() - 1
                }
            };
            parts[at].1.calls.push(call.clone());
        }
        if let Some((_, first)) = parts.first_mut() {
            first.skipped = self.plan.skipped.clone();
        }
        parts.into_iter().map(|(i, p)| (i.intent(), p)).collect()
    }

    /// What a confirmation says of the items that will not be sent: refused ones with why,
    /// and how many are already gone.
    pub fn notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = self
            .refused()
            .map(|(i, why)| format!("not sent: {} {} ({}): {why}", i.key.scope, i.key.id, i.name))
            .collect();
        let gone = self.gone().count();
        if gone > 0 {
            notes.push(format!(
                "{gone} item(s) of the plan are already gone: nothing to send for them"
            ));
        }
        notes
    }
}

impl PlanFile {
    /// The scopes whose live state `check` needs: every scope a call goes to.
    pub fn scopes(&self) -> BTreeSet<Scope> {
        self.body.calls.iter().map(FileCall::scope).collect()
    }
}

/// How an item that changed looks now, for the refusal.
fn changed(item: &Item) -> String {
    let mut now = vec![format!("status {}", item.status.label())];
    if item.is_bound() {
        now.push(format!("bound to {}", item.bindings_text()));
    }
    if let Some(m) = item.modified {
        now.push(format!("modified {}", crate::times::rfc3339(m)));
    }
    format!(
        "changed since the plan was written (now {}): not sent; write a new plan to include it",
        now.join(", ")
    )
}

/// The actions of the calls addressing each item, in call order. (`PlanFile::parse`
/// checked that each action is the one for its operation and kind, so the action names
/// the operation too.)
fn calls_per_item<'a>(calls: impl Iterator<Item = (Scope, &'a str, &'a [String])>) -> BTreeMap<ItemKey, Vec<&'a str>> {
    let mut per_item: BTreeMap<ItemKey, Vec<&str>> = BTreeMap::new();
    for (scope, action, ids) in calls {
        for id in ids {
            per_item.entry(scope.key(id.as_str())).or_default().push(action);
        }
    }
    per_item
}

/// Check `file` against `live` with the config's `protect`; `Err` refuses the whole plan
/// (its calls are not what keyward plans for its unchanged items: a forged file).
pub fn check(file: &PlanFile, live: &Live, protect: &Protect) -> Result<Checked, PlanFileError> {
    let mut items: Vec<ItemCheck> = Vec::with_capacity(file.body.items.len());
    let mut ready: BTreeMap<FileIntent, Vec<&Item>> = BTreeMap::new();
    for planned in &file.body.items {
        let key = planned.key();
        let state = match live.get(&key.scope) {
            None => ItemState::Refused(format!(
                "not re-read: no configured account serves {}; not sent",
                key.scope
            )),
            Some(Err(why)) => ItemState::Refused(format!("{} could not be re-read ({why}); not sent", key.scope)),
            Some(Ok(listed)) => match listed.iter().find(|i| i.key == key) {
                None => ItemState::Gone,
                Some(now) if fingerprint(now) != planned.fingerprint => ItemState::Refused(changed(now)),
                Some(now) => {
                    ready.entry(planned.intent).or_default().push(now);
                    ItemState::Ready
                }
            },
        };
        items.push(ItemCheck {
            key,
            name: planned.name.clone(),
            intent: planned.intent,
            state,
        });
    }

    // The planner, on the unchanged items as they are now, for each item's intent: what it
    // skips (protected since the plan was written, say) is refused; what it plans must be
    // what the file says.
    let replanned: Vec<Plan> = ready
        .iter()
        .map(|(intent, group)| build_plan(group, &intent.intent(), protect))
        .collect();
    let skipped_now: BTreeMap<&ItemKey, &str> = replanned
        .iter()
        .flat_map(|p| p.skipped.iter())
        .map(|(k, why)| (k, why.as_str()))
        .collect();
    for item in items.iter_mut() {
        if let Some(why) = skipped_now.get(&item.key) {
            item.state = ItemState::Refused(format!("{why}; not sent"));
        }
    }
    let from_file = calls_per_item(
        file.body
            .calls
            .iter()
            .map(|c| (c.scope(), c.action.as_str(), c.ids.as_slice())),
    );
    let from_planner = calls_per_item(
        replanned
            .iter()
            .flat_map(|p| p.calls.iter())
            .map(|c| (c.scope.clone(), c.action, c.ids.as_slice())),
    );
    for item in items.iter().filter(|i| i.state == ItemState::Ready) {
        let file_calls = from_file.get(&item.key).cloned().unwrap_or_default();
        let planned_calls = from_planner.get(&item.key).cloned().unwrap_or_default();
        if file_calls != planned_calls {
            return Err(PlanFileError::NotPlanned {
                key: item.key.to_string(),
                file: file_calls.join(" then "),
                now: planned_calls.join(" then "),
            });
        }
    }

    let sendable: BTreeSet<&ItemKey> = items
        .iter()
        .filter(|i| i.state == ItemState::Ready)
        .map(|i| &i.key)
        .collect();
    let mut plan = Plan {
        names: file
            .body
            .items
            .iter()
            .map(|i| (i.key(), i.name.clone()))
            .chain(file.body.skipped.iter().map(|s| (s.key(), s.name.clone())))
            .filter(|(_, name)| !name.is_empty())
            .collect(),
        skipped: file.body.skipped.iter().map(|s| (s.key(), s.reason.clone())).collect(),
        plan_hash: Some(file.hash.clone()),
        ..Plan::default()
    };
    for call in &file.body.calls {
        let scope = call.scope();
        let (kept, removed): (Vec<&String>, Vec<&String>) = call
            .ids
            .iter()
            .partition(|id| sendable.contains(&scope.key(id.as_str())));
        if kept.is_empty() {
            continue;
        }
        // `parse` checked the action is this one; take the provider's own name for it.
        let Some(action) = action(call.kind, call.op.op().operation()) else {
            continue;
        };
        plan.calls.push(PlannedCall {
            scope,
            action,
            op: call.op.op(),
            ids: kept.into_iter().cloned().collect(),
            // A warning about an id no longer sent would only mislead.
            warnings: call
                .warnings
                .iter()
                .filter(|w| !removed.iter().any(|id| w.starts_with(&format!("{id}:"))))
                .cloned()
                .collect(),
        });
    }
    // The run's re-read starts from what was just listed.
    plan.listed = live
        .iter()
        .filter(|(scope, _)| plan.calls.iter().any(|c| &c.scope == *scope))
        .filter_map(|(_, listed)| listed.as_ref().ok())
        .flatten()
        .cloned()
        .collect();
    Ok(Checked { plan, items })
}
