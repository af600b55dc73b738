//! Protected keys: the `[[protect]]` entries of the config, the keys no plan may delete,
//! disable or rotate.
//!
//! The rule is kept here alone and applied inside `build_plan`, which every planner
//! path goes through (the TUI's confirmation, `keyward plan`, and `keyward apply` when it
//! re-plans the items it re-read): a protected key is moved to the plan's skipped list
//! with "protected by <config file>:<line>", so it can never reach a call, whatever was
//! selected. Listing and viewing are not affected, nor are enable and rename (neither
//! takes a key away from its clients).
//!
//! An entry's fields are AND-ed; a key matching any entry is protected. `name` is a
//! whole-value glob (`*` any run, `?` one character), case-insensitive like the filter's
//! `name:`; `id`, `account`, `region` and `kind` are exact. A key several regions list is
//! protected when any of them matches `region`.

use super::Intent;
use crate::filter::Glob;
use crate::inventory::{Item, ProviderKind, Scope};

/// Every `[[protect]]` entry of one config, in file order. The default protects nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protect {
    rules: Vec<Rule>,
}

/// One `[[protect]]` entry: the fields it sets (at least one, checked when the config is
/// read) and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `<config file>:<line>`, named in the plan's skipped list.
    pub source: String,
    pub id: Option<String>,
    pub name: Option<NamePattern>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub kind: Option<ProviderKind>,
}

/// A `name` glob as written, and compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePattern {
    pub text: String,
    glob: Glob,
}

impl NamePattern {
    pub fn new(text: &str) -> NamePattern {
        NamePattern {
            text: text.to_string(),
            glob: Glob::new(text),
        }
    }

    pub fn matches(&self, name: &str) -> bool {
        self.glob.matches(name)
    }
}

impl Rule {
    /// An entry written at `source` that sets nothing yet.
    pub fn at(source: impl Into<String>) -> Rule {
        Rule {
            source: source.into(),
            id: None,
            name: None,
            account: None,
            region: None,
            kind: None,
        }
    }

    /// Whether the entry sets no field (it would protect every key: refused by the config).
    pub fn is_empty(&self) -> bool {
        self.id.is_none()
            && self.name.is_none()
            && self.account.is_none()
            && self.region.is_none()
            && self.kind.is_none()
    }

    /// Whether `item`, also listed by `also_listed`, matches every field the entry sets.
    pub fn matches(&self, item: &Item, also_listed: &[Scope]) -> bool {
        let scope = &item.key.scope;
        self.id.as_deref().is_none_or(|id| item.key.id == id)
            && self.kind.is_none_or(|k| k == scope.kind)
            && self.account.as_deref().is_none_or(|a| scope.account == a)
            && self
                .region
                .as_deref()
                .is_none_or(|r| scope.region == r || also_listed.iter().any(|s| s.region == r))
            && self.name.as_ref().is_none_or(|n| n.matches(&item.name))
    }
}

impl Protect {
    pub fn new(rules: Vec<Rule>) -> Protect {
        Protect { rules }
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The intents protection refuses: the ones that take a key away from its clients.
    pub fn guards(intent: &Intent) -> bool {
        match intent {
            Intent::Delete | Intent::Disable | Intent::Rotate { .. } => true,
            Intent::Enable | Intent::Rename { .. } => false,
        }
    }

    /// The first entry that protects `item` (also listed by `also_listed`) from `intent`.
    pub fn refusing(&self, intent: &Intent, item: &Item, also_listed: &[Scope]) -> Option<&Rule> {
        if !Self::guards(intent) {
            return None;
        }
        self.rules.iter().find(|r| r.matches(item, also_listed))
    }

    /// The skipped-list reason for a key `rule` protects.
    pub fn reason(rule: &Rule) -> String {
        format!("protected by {}", rule.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Status;

    fn item(kind: ProviderKind, account: &str, region: &str, id: &str, name: &str) -> Item {
        Item {
            key: Scope::new(kind, account, region).key(id),
            name: name.into(),
            status: Status::Enabled,
            key_type: Default::default(),
            description: Default::default(),
            created: None,
            modified: None,
            last_used: None,
            expires: None,
            bindings: Vec::new(),
            signs_keyward: false,
            owner_active_keys: 0,
        }
    }

    fn rule(f: impl FnOnce(&mut Rule)) -> Rule {
        let mut r = Rule::at("config.toml:3");
        f(&mut r);
        r
    }

    #[test]
    fn fields_are_anded_and_names_are_case_insensitive_globs() {
        let key = item(ProviderKind::Cvm, "prod", "ap-guangzhou", "skey-1", "Deploy-Main");
        let by_name = rule(|r| r.name = Some(NamePattern::new("deploy-*")));
        assert!(by_name.matches(&key, &[]));
        let name_and_account = rule(|r| {
            r.name = Some(NamePattern::new("deploy-*"));
            r.account = Some("staging".into());
        });
        assert!(!name_and_account.matches(&key, &[]), "every field must match");
        let one_char = rule(|r| r.name = Some(NamePattern::new("deploy-mai?")));
        assert!(one_char.matches(&key, &[]));
        let whole_value = rule(|r| r.name = Some(NamePattern::new("deploy")));
        assert!(!whole_value.matches(&key, &[]), "a glob matches the whole name");
        let kind = rule(|r| r.kind = Some(ProviderKind::ApiGateway));
        assert!(!kind.matches(&key, &[]));
        let id = rule(|r| r.id = Some("skey-1".into()));
        assert!(id.matches(&key, &[]));
    }

    #[test]
    fn a_region_matches_any_region_that_lists_the_key() {
        let key = item(ProviderKind::Cvm, "prod", "ap-guangzhou", "skey-1", "k");
        let shanghai = rule(|r| r.region = Some("ap-shanghai".into()));
        assert!(!shanghai.matches(&key, &[]));
        let also = [Scope::new(ProviderKind::Cvm, "prod", "ap-shanghai")];
        assert!(shanghai.matches(&key, &also));
    }

    #[test]
    fn only_delete_disable_and_rotate_are_refused() {
        let key = item(ProviderKind::ApiGateway, "prod", "ap-guangzhou", "AKID1", "billing");
        let protect = Protect::new(vec![rule(|r| r.id = Some("AKID1".into()))]);
        for intent in [Intent::Delete, Intent::Disable, Intent::Rotate { custom: None }] {
            let refused = protect.refusing(&intent, &key, &[]).map(Protect::reason);
            assert_eq!(refused.as_deref(), Some("protected by config.toml:3"), "{intent:?}");
        }
        for intent in [Intent::Enable, Intent::Rename { name: "x".into() }] {
            assert!(protect.refusing(&intent, &key, &[]).is_none(), "{intent:?}");
        }
        assert!(Protect::default().refusing(&Intent::Delete, &key, &[]).is_none());
    }
}
