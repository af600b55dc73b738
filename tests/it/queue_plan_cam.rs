//! The planning rules of CAM access keys: disable before delete, never keyward's own
//! signing key, and a warning before a plan takes an owner's last active key.

use crate::support::items::*;
use keyward::app::modal::confirm::plan_view;
use keyward::inventory::{Item, Status};
use keyward::providers::tencent::cam::{self, actions};
use keyward::queue::{Intent, Op, Plan, build_plan};

const ALICE: &str = "alice (100012345678)";

fn plan_of(items: &[Item], intent: &Intent) -> Plan {
    let refs: Vec<&Item> = items.iter().collect();
    build_plan(&refs, intent, &keyward::queue::Protect::default())
}

fn calls(plan: &Plan) -> Vec<(&str, Op, Vec<String>)> {
    plan.calls
        .iter()
        .map(|c| (c.action, c.op.clone(), c.ids.clone()))
        .collect()
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn an_active_key_is_disabled_then_deleted_and_an_inactive_one_only_deleted() {
    let items = [
        camkey("AKIDa1", ALICE, Status::Enabled, 2),
        camkey("AKIDa2", ALICE, Status::Disabled, 2),
    ];
    let plan = plan_of(&items, &Intent::Delete);
    assert_eq!(
        calls(&plan),
        [
            (actions::UPDATE_ACCESS_KEY, Op::Disable, ids(&["AKIDa1"])),
            (actions::DELETE_ACCESS_KEY, Op::Delete, ids(&["AKIDa1"])),
            (actions::DELETE_ACCESS_KEY, Op::Delete, ids(&["AKIDa2"])),
        ]
    );
    assert!(plan.skipped.is_empty());
}

#[test]
fn keywards_own_key_is_skipped_for_disable_and_delete_and_named_with_its_account() {
    let mut own = camkey("AKIDsigner", "root", Status::Enabled, 2);
    own.signs_keyward = true;
    let other = camkey("AKIDroot2", "root", Status::Enabled, 2);
    for intent in [Intent::Delete, Intent::Disable] {
        let plan = plan_of(&[own.clone(), other.clone()], &intent);
        assert!(
            plan.calls.iter().all(|c| c.ids != ids(&["AKIDsigner"])),
            "{intent:?}: {:?}",
            calls(&plan)
        );
        assert_eq!(plan.skipped.len(), 1);
        assert_eq!(plan.skipped[0].0, own.key);
        assert_eq!(plan.skipped[0].1, "keyward is using this key for account prod");
        assert!(plan.calls.iter().any(|c| c.ids == ids(&["AKIDroot2"])));
    }
    // Enabling it again is harmless and allowed.
    let mut disabled = own.clone();
    disabled.status = Status::Disabled;
    assert_eq!(plan_of(&[disabled], &Intent::Enable).calls.len(), 1);
}

#[test]
fn disabling_or_deleting_an_owners_last_active_key_is_warned() {
    // alice has two active keys: one of them is not the last ...
    let a1 = camkey("AKIDa1", ALICE, Status::Enabled, 2);
    let a2 = camkey("AKIDa2", ALICE, Status::Enabled, 2);
    let plan = plan_of(std::slice::from_ref(&a1), &Intent::Disable);
    assert!(plan.calls[0].warnings.is_empty(), "{:?}", plan.calls[0].warnings);
    // ... both together are.
    let plan = plan_of(&[a1.clone(), a2.clone()], &Intent::Disable);
    assert_eq!(plan.calls.len(), 2);
    for call in &plan.calls {
        assert_eq!(call.warnings.len(), 1, "{:?}", call.warnings);
        assert!(
            call.warnings[0].contains("disabling the last active key of alice (100012345678)"),
            "{}",
            call.warnings[0]
        );
    }
    // The root's only active key, deleted: the warning is on the delete.
    let root = camkey("AKIDr", "root", Status::Enabled, 1);
    let plan = plan_of(&[root], &Intent::Delete);
    let delete = plan.calls.iter().find(|c| c.op == Op::Delete).unwrap();
    assert!(
        delete.warnings[0].contains("deleting the last active key of root"),
        "{:?}",
        delete.warnings
    );
    // An inactive key is nobody's last active one.
    let off = camkey("AKIDoff", "root", Status::Disabled, 1);
    assert!(plan_of(&[off], &Intent::Delete).calls[0].warnings.is_empty());
    // Other kinds have no owners: no such warning.
    let plan = plan_of(&[apikey("AKIDgw", Status::Enabled)], &Intent::Disable);
    assert!(plan.calls[0].warnings.is_empty());
}

#[test]
fn the_confirmation_of_a_cam_delete_says_it_cannot_be_undone() {
    let plan = plan_of(&[camkey("AKIDa1", ALICE, Status::Disabled, 0)], &Intent::Delete);
    let text: Vec<String> = plan_view(&plan).into_iter().map(|l| l.text).collect();
    let notes = text.iter().filter(|t| t.contains(cam::DELETE_WARNING)).count();
    assert_eq!(notes, 1, "{text:#?}");
    assert!(cam::DELETE_WARNING.contains("cannot be undone"));
    // A disable is not a delete: no such note.
    let plan = plan_of(&[camkey("AKIDa1", ALICE, Status::Enabled, 2)], &Intent::Disable);
    assert!(plan_view(&plan).iter().all(|l| !l.text.contains(cam::DELETE_WARNING)));
    // Nor does another kind's delete carry it.
    let plan = plan_of(&[keypair("skey-1")], &Intent::Delete);
    assert!(plan_view(&plan).iter().all(|l| !l.text.contains("cannot be undone")));
}
