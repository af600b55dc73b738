//! The action queue across tabs (`+` stages, `Q` reviews): intents the operator has staged
//! before confirming — delete these key pairs, disable those API keys — run together as
//! one plan with one typed confirmation, written as one plan file, audited as one run.
//!
//! A key is staged for one intent at most: staging it again replaces the earlier intent,
//! so the combined plan can never act twice on one key. Pure data; the app plans it.

use crate::inventory::ItemKey;
use crate::queue::Intent;

/// One staged key and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedItem {
    pub intent: Intent,
    pub key: ItemKey,
    /// Its name when staged, for the queue view.
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Staged {
    items: Vec<StagedItem>,
    /// Intents in the order they were first staged: the queue's groups keep that order.
    order: Vec<&'static str>,
}

impl Staged {
    pub fn items(&self) -> &[StagedItem] {
        &self.items
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Stage `keys` for `intent`; a key staged before for another intent takes this one.
    /// How many keys were new to the queue.
    pub fn add(&mut self, intent: &Intent, keys: impl IntoIterator<Item = (ItemKey, String)>) -> usize {
        let mut added = 0;
        if !self.order.contains(&intent.verb()) {
            self.order.push(intent.verb());
        }
        for (key, name) in keys {
            match self.items.iter_mut().find(|s| s.key == key) {
                Some(s) => s.intent = intent.clone(),
                None => {
                    self.items.push(StagedItem {
                        intent: intent.clone(),
                        key,
                        name,
                    });
                    added += 1;
                }
            }
        }
        // Grouped by intent (in the order intents were first staged), then by key: the
        // queue view and the plan read in that order.
        let order = &self.order;
        self.items.sort_by(|a, b| {
            let rank = |s: &StagedItem| order.iter().position(|v| *v == s.intent.verb());
            rank(a).cmp(&rank(b)).then_with(|| a.key.cmp(&b.key))
        });
        added
    }

    /// Take item `index` off the queue.
    pub fn remove(&mut self, index: usize) -> Option<StagedItem> {
        (index < self.items.len()).then(|| self.items.remove(index))
    }

    /// Keys that are no longer listed leave the queue (a reload, a run).
    pub fn retain(&mut self, present: impl Fn(&ItemKey) -> bool) {
        self.items.retain(|s| present(&s.key));
    }

    pub fn clear(&mut self) {
        self.items.clear();
        self.order.clear();
    }

    /// The staged keys per intent, intents in queue order.
    pub fn by_intent(&self) -> Vec<(Intent, Vec<ItemKey>)> {
        let mut out: Vec<(Intent, Vec<ItemKey>)> = Vec::new();
        for s in &self.items {
            match out.iter_mut().find(|(i, _)| i == &s.intent) {
                Some((_, keys)) => keys.push(s.key.clone()),
                None => out.push((s.intent.clone(), vec![s.key.clone()])),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{ProviderKind, Scope};

    fn key(kind: ProviderKind, id: &str) -> (ItemKey, String) {
        (Scope::new(kind, "prod", "ap-guangzhou").key(id), format!("name-{id}"))
    }

    #[test]
    fn a_key_is_staged_for_one_intent_and_the_queue_groups_by_intent() {
        let mut q = Staged::default();
        assert_eq!(
            q.add(
                &Intent::Delete,
                [key(ProviderKind::Cvm, "skey-2"), key(ProviderKind::Cvm, "skey-1")]
            ),
            2
        );
        assert_eq!(q.add(&Intent::Disable, [key(ProviderKind::ApiGateway, "AKID1")]), 1);
        // skey-1 now disabled instead? Key pairs have no disable, but the queue does not judge:
        // the planner skips what a kind cannot take.
        assert_eq!(q.add(&Intent::Disable, [key(ProviderKind::Cvm, "skey-1")]), 0);
        let groups = q.by_intent();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0, Intent::Delete);
        assert_eq!(groups[0].1, vec![key(ProviderKind::Cvm, "skey-2").0]);
        assert_eq!(groups[1].0, Intent::Disable);
        assert_eq!(groups[1].1.len(), 2);
        assert_eq!(q.len(), 3);
        let removed = q.remove(0).unwrap();
        assert_eq!(removed.key.id, "skey-2");
        assert!(q.remove(9).is_none());
        q.retain(|k| k.id != "AKID1");
        assert_eq!(
            q.items().iter().map(|s| s.key.id.as_str()).collect::<Vec<_>>(),
            ["skey-1"]
        );
    }
}
