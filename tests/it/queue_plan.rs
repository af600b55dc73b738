//! The planning rules: what calls a selection turns into, and what is skipped and why.

use crate::support::items::*;
use keyward::inventory::{Binding, Item, ProviderKind, Scope, Status};
use keyward::providers::tencent::apigateway::validate_custom_secret;
use keyward::providers::tencent::cvm::{self, KEY_PAIR_NAME_RULE};
use keyward::providers::{Operation, action, capabilities};
use keyward::queue::{Intent, Op, Plan, build_plan};
use keyward::secret::Secret;
use proptest::prelude::*;

fn plan_of(items: &[Item], intent: &Intent) -> Plan {
    let refs: Vec<&Item> = items.iter().collect();
    build_plan(&refs, intent, &keyward::queue::Protect::default())
}

fn shape(plan: &Plan) -> Vec<(String, Vec<String>)> {
    plan.calls
        .iter()
        .map(|c| (c.action.to_string(), c.ids.clone()))
        .collect()
}

#[test]
fn cvm_delete_of_150_pairs_is_two_calls_of_100_and_50() {
    let items: Vec<Item> = (0..150).map(|i| keypair(&format!("skey-{i:04}"))).collect();
    let plan = plan_of(&items, &Intent::Delete);
    assert_eq!(plan.calls.len(), 2);
    assert_eq!(plan.calls[0].ids.len(), 100);
    assert_eq!(plan.calls[1].ids.len(), 50);
    assert!(
        plan.calls
            .iter()
            .all(|c| c.action == cvm::actions::DELETE_KEY_PAIRS && c.op == Op::Delete)
    );
    let mut all: Vec<String> = plan.calls.iter().flat_map(|c| c.ids.clone()).collect();
    all.dedup();
    assert_eq!(all.len(), 150);
    assert_eq!(plan.item_count(), 150);
    assert!(plan.skipped.is_empty());
}

#[test]
fn enabled_api_key_is_disabled_then_deleted_and_disabled_key_only_deleted() {
    let items = vec![apikey("AKID-b", Status::Disabled), apikey("AKID-a", Status::Enabled)];
    let plan = plan_of(&items, &Intent::Delete);
    assert_eq!(
        shape(&plan),
        vec![
            ("DisableApiKey".into(), vec!["AKID-a".into()]),
            ("DeleteApiKey".into(), vec!["AKID-a".into()]),
            ("DeleteApiKey".into(), vec!["AKID-b".into()]),
        ]
    );
    assert_eq!(plan.calls[0].op, Op::Disable);
    assert_eq!(plan.item_count(), 2);
}

#[test]
fn bound_api_key_is_skipped_not_disabled() {
    let items = vec![
        apikey("AKID-bound", Status::Enabled).bound_to(Binding::usage_plan("usagePlan-9")),
        apikey("AKID-free", Status::Disabled),
    ];
    let plan = plan_of(&items, &Intent::Delete);
    assert_eq!(shape(&plan), vec![("DeleteApiKey".into(), vec!["AKID-free".into()])]);
    assert_eq!(plan.skipped.len(), 1);
    let (key, reason) = &plan.skipped[0];
    assert_eq!(key.id, "AKID-bound");
    assert_eq!(reason, "bound to usage plan usagePlan-9: unbind first");
}

#[test]
fn bound_key_pair_is_planned_with_a_warning() {
    let items = vec![
        keypair("skey-1").bound_to(Binding::Instance("ins-x".into())),
        keypair("skey-2"),
    ];
    let plan = plan_of(&items, &Intent::Delete);
    assert_eq!(
        shape(&plan),
        vec![("DeleteKeyPairs".into(), vec!["skey-1".into(), "skey-2".into()])]
    );
    assert_eq!(
        plan.calls[0].warnings,
        vec!["skey-1: bound to instance ins-x: the service will keep it".to_string()]
    );
}

#[test]
fn oceanbase_delete_is_one_call_per_id() {
    let items = vec![maaskey("k2"), maaskey("k1")];
    let plan = plan_of(&items, &Intent::Delete);
    assert_eq!(
        shape(&plan),
        vec![
            ("DELETE /api/v2/maas/apikeys".into(), vec!["k1".into()]),
            ("DELETE /api/v2/maas/apikeys".into(), vec!["k2".into()]),
        ]
    );
}

#[test]
fn plan_does_not_depend_on_selection_order_and_dedupes() {
    // Items hidden by the filter arrive in whatever order the app keeps them; the plan must
    // be the same, grouped by (kind, account, region).
    let a = vec![
        maaskey("m1"),
        keypair("skey-2"),
        apikey("AKID-1", Status::Enabled),
        item(ProviderKind::Cvm, "dev", "ap-beijing", "skey-9", "name-skey-9"),
        keypair("skey-1"),
    ];
    let mut b = a.clone();
    b.reverse();
    b.push(a[1].clone());
    let (pa, pb) = (plan_of(&a, &Intent::Delete), plan_of(&b, &Intent::Delete));
    assert_eq!(pa, pb);
    let groups: Vec<Scope> = pa.calls.iter().map(|c| c.scope.clone()).collect();
    let mut sorted = groups.clone();
    sorted.sort();
    assert_eq!(
        groups, sorted,
        "calls are grouped in a stable (kind, account, region) order"
    );
    assert_eq!(pa.item_count(), 5);
}

#[test]
fn disable_and_enable_apply_only_to_api_keys_in_the_other_state() {
    let items = vec![
        apikey("AKID-on", Status::Enabled),
        apikey("AKID-off", Status::Disabled),
        keypair("skey-1"),
    ];
    let disable = plan_of(&items, &Intent::Disable);
    assert_eq!(shape(&disable), vec![("DisableApiKey".into(), vec!["AKID-on".into()])]);
    let reasons: Vec<(String, String)> = disable
        .skipped
        .iter()
        .map(|(k, r)| (k.id.to_string(), r.clone()))
        .collect();
    assert!(reasons.contains(&("AKID-off".into(), "already disabled".into())));
    assert!(
        reasons
            .iter()
            .any(|(id, r)| id == "skey-1" && r.contains("cannot be disabled"))
    );

    let enable = plan_of(&items, &Intent::Enable);
    assert_eq!(shape(&enable), vec![("EnableApiKey".into(), vec!["AKID-off".into()])]);
    assert!(
        enable
            .skipped
            .iter()
            .any(|(k, r)| k.id == "AKID-on" && r == "already enabled")
    );
}

#[test]
fn rotate_applies_to_api_keys_and_checks_the_custom_secret() {
    let items = vec![apikey("AKID-1", Status::Enabled), maaskey("m1")];
    let generated = plan_of(&items, &Intent::Rotate { custom: None });
    assert_eq!(shape(&generated), vec![("UpdateApiKey".into(), vec!["AKID-1".into()])]);
    assert_eq!(generated.calls[0].op, Op::Rotate { custom: None });
    assert!(generated.skipped.iter().any(|(k, _)| k.id == "m1"));

    let bad = plan_of(
        &items,
        &Intent::Rotate {
            custom: Some(Secret::new("short")),
        },
    );
    assert!(bad.calls.is_empty());
    assert_eq!(bad.skipped.len(), 2);
    let rule = validate_custom_secret("short").unwrap_err();
    assert!(bad.skipped.iter().all(|(_, r)| *r == rule));
    assert!(!rule.contains("short"));

    let good = plan_of(
        &items,
        &Intent::Rotate {
            custom: Some(Secret::new("Good_secret_123")),
        },
    );
    assert_eq!(good.calls.len(), 1);
}

#[test]
fn rename_is_one_cvm_key_pair_only() {
    let rename = Intent::Rename { name: "deploy".into() };
    let one = plan_of(&[keypair("skey-1")], &rename);
    assert_eq!(
        shape(&one),
        vec![("ModifyKeyPairAttribute".into(), vec!["skey-1".into()])]
    );
    assert_eq!(one.calls[0].op, Op::Rename { name: "deploy".into() });

    let two = plan_of(&[keypair("skey-1"), keypair("skey-2")], &rename);
    assert!(two.calls.is_empty());
    assert_eq!(two.skipped.len(), 2);
    assert!(two.skipped[0].1.contains("one key pair at a time"));

    let api = plan_of(&[apikey("AKID-1", Status::Enabled)], &rename);
    assert!(api.calls.is_empty());
    assert!(api.skipped[0].1.contains("cannot be renamed"));
}

/// The planner refuses a name the service would refuse, with the CVM module's message,
/// before the operator confirms anything.
#[test]
fn a_rename_to_a_name_the_key_pair_rule_refuses_is_skipped_with_the_rule() {
    let rename = |name: &str| Intent::Rename { name: name.into() };
    for (name, why) in [
        (
            "web-01",
            format!("{KEY_PAIR_NAME_RULE}; character 4 ('-') is not allowed"),
        ),
        ("", format!("{KEY_PAIR_NAME_RULE}; this one is empty")),
        (
            "   ",
            format!("{KEY_PAIR_NAME_RULE}; character 1 (a space) is not allowed"),
        ),
        (&"n".repeat(26), format!("{KEY_PAIR_NAME_RULE}; this one has 26")),
    ] {
        let plan = plan_of(&[keypair("skey-1")], &rename(name));
        assert!(plan.calls.is_empty(), "{name:?} is refused");
        assert_eq!(plan.skipped, vec![(keypair("skey-1").key, why)]);
    }
    let ok = plan_of(&[keypair("skey-1")], &rename(&"n".repeat(25)));
    assert_eq!(ok.calls.len(), 1);
}

/// Every planned call's action is the one its kind's provider module names for the
/// operation, and the planner plans only what the kind's capabilities allow.
#[test]
fn planned_actions_and_refusals_follow_the_provider_modules() {
    let items = vec![
        apikey("AKID-1", Status::Enabled),
        apikey("AKID-2", Status::Disabled),
        keypair("skey-1"),
        item(ProviderKind::OceanBase, "prod", "proj-1", "ob-1", "maas-1"),
        camkey("AKIDcam-1", "root", Status::Enabled, 2),
    ];
    let intents = [
        (Intent::Delete, Operation::Delete),
        (Intent::Disable, Operation::Disable),
        (Intent::Enable, Operation::Enable),
        (Intent::Rotate { custom: None }, Operation::Rotate),
    ];
    for (intent, op) in intents {
        let plan = plan_of(&items, &intent);
        for call in &plan.calls {
            let expected = match call.op {
                Op::Disable => action(call.scope.kind, Operation::Disable),
                _ => action(call.scope.kind, op),
            };
            assert_eq!(Some(call.action), expected, "{intent:?} on {}", call.scope);
        }
        for kind in ProviderKind::ALL {
            let planned = plan.calls.iter().any(|c| c.scope.kind == kind);
            let supported = capabilities(kind).supports(op);
            assert!(supported || !planned, "{kind} does not support {op:?} but got a call");
            let refused = plan
                .skipped
                .iter()
                .any(|(k, why)| k.scope.kind == kind && why.contains(kind.title()));
            assert_eq!(refused, !supported, "{kind} {op:?}: {:?}", plan.skipped);
        }
    }
}

fn arb_item() -> impl Strategy<Value = Item> {
    (0..3usize, 0..2usize, 0..40usize, 0..3usize, any::<bool>()).prop_map(|(kind, acct, id, status, is_bound)| {
        let kind = ProviderKind::ALL[kind];
        let status = [Status::Enabled, Status::Disabled, Status::Active][status];
        let id = format!("id-{id}");
        let mut it = item(kind, ["a", "b"][acct], "r", &id, &format!("name-{id}")).with_status(status);
        if is_bound {
            it.bindings.push(match kind {
                ProviderKind::ApiGateway => Binding::usage_plan("up"),
                _ => Binding::Instance("ins".into()),
            });
        }
        it
    })
}

proptest! {
    /// Every selected item is either in a call or skipped, never both for a delete, never
    /// lost; CVM batches never exceed 100; an API key's delete always follows its disable.
    #[test]
    fn delete_plan_covers_each_item_once(items in proptest::collection::vec(arb_item(), 0..120)) {
        let plan = plan_of(&items, &Intent::Delete);
        let mut selected: Vec<_> = items.iter().map(|i| i.key.clone()).collect();
        selected.sort();
        selected.dedup();
        let mut covered: Vec<_> = plan.calls.iter().flat_map(|c| c.ids.iter().map(move |id| {
            c.scope.key(id.as_str())
        })).chain(plan.skipped.iter().map(|(k, _)| k.clone())).collect();
        covered.sort();
        covered.dedup();
        prop_assert_eq!(covered, selected);
        for c in &plan.calls {
            prop_assert!(c.ids.len() <= 100);
            if c.action == "DeleteApiKey" {
                // Its disable, if any, comes right before; nothing deletes a bound API key.
                let it = items.iter().find(|i| i.key.scope.kind == c.scope.kind && i.key.scope.account == c.scope.account && i.key.id == c.ids[0]);
                prop_assert!(it.is_some_and(|i| !i.is_bound()));
            }
        }
        for w in plan.calls.windows(2) {
            if w[1].action == "DeleteApiKey" && w[0].action == "DisableApiKey" {
                prop_assert_eq!(&w[0].ids, &w[1].ids);
            }
        }
    }
}

#[test]
fn item_keys_lists_each_planned_item_once_for_the_hidden_count() {
    let items = vec![
        apikey("AKID-1", Status::Enabled), // two calls, one item
        keypair("skey-1"),
        apikey("AKID-2", Status::Enabled).bound_to(Binding::usage_plan("up")), // skipped
    ];
    let plan = plan_of(&items, &Intent::Delete);
    let keys = plan.item_keys();
    let ids: Vec<&str> = keys.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, vec!["AKID-1", "skey-1"]);
    assert_eq!(keys.len(), plan.item_count());
    // E.g. the filter shows only key pairs: one planned item is hidden.
    let hidden = keys.iter().filter(|k| k.scope.kind != ProviderKind::Cvm).count();
    assert_eq!(hidden, 1);
}

/// A `[[protect]]` rule: the key it matches is skipped with the rule's file and line for
/// delete, disable and rotate, whatever else was selected with it; enable still plans it.
#[test]
fn protected_keys_are_skipped_with_the_rule_that_protects_them() {
    use keyward::queue::protect::{NamePattern, Protect, Rule};
    let mut rule = Rule::at("/etc/keyward/config.toml:12");
    rule.name = Some(NamePattern::new("name-akid-p*"));
    let protect = Protect::new(vec![rule]);
    let items = [
        apikey("AKID-p1", Status::Enabled),
        apikey("AKID-x", Status::Enabled),
        apikey("AKID-p2", Status::Disabled),
    ];
    let refs: Vec<&Item> = items.iter().collect();
    for intent in [Intent::Delete, Intent::Disable, Intent::Rotate { custom: None }] {
        let plan = build_plan(&refs, &intent, &protect);
        let called: Vec<&str> = plan
            .calls
            .iter()
            .flat_map(|c| c.ids.iter().map(String::as_str))
            .collect();
        assert!(called.iter().all(|id| *id == "AKID-x"), "{intent:?}: {called:?}");
        assert!(!called.is_empty(), "{intent:?}: the unprotected key is still planned");
        let protected: Vec<(&str, &str)> = plan
            .skipped
            .iter()
            .map(|(k, why)| (k.id.as_str(), why.as_str()))
            .filter(|(_, why)| why.starts_with("protected"))
            .collect();
        assert_eq!(
            protected,
            [
                ("AKID-p1", "protected by /etc/keyward/config.toml:12"),
                ("AKID-p2", "protected by /etc/keyward/config.toml:12")
            ],
            "{intent:?}"
        );
    }
    let enable = build_plan(&refs, &Intent::Enable, &protect);
    assert_eq!(
        shape(&enable),
        [("EnableApiKey".to_string(), vec!["AKID-p2".to_string()])]
    );
}
