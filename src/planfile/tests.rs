use super::check::{ItemState, Live, check};
use super::*;
use crate::inventory::{Binding, Status};
use crate::queue::{Protect, build_plan};

fn ts(text: &str) -> Timestamp {
    crate::times::parse_rfc3339(text).unwrap()
}

fn key(kind: ProviderKind, region: &str, id: &str, status: Status) -> Item {
    Item {
        key: Scope::new(kind, "prod", region).key(id),
        name: format!("name-{id}").into(),
        status,
        key_type: "auto".into(),
        description: "".into(),
        created: Some(ts("2025-01-01T00:00:00Z")),
        modified: Some(ts("2025-01-02T00:00:00Z")),
        last_used: None,
        expires: None,
        bindings: Vec::new(),
        signs_keyward: false,
        owner_active_keys: 0,
    }
}

fn apikey(id: &str, status: Status) -> Item {
    key(ProviderKind::ApiGateway, "ap-guangzhou", id, status)
}

fn keypair(id: &str) -> Item {
    key(ProviderKind::Cvm, "ap-guangzhou", id, Status::Active)
}

fn meta() -> Meta {
    Meta {
        created_at: ts("2026-01-01T00:00:00Z"),
        created_by: "ops@bastion".into(),
        config: "/etc/keyward/config.toml".into(),
        filter: "name:name-*".into(),
    }
}

fn file_for(items: &[Item], intent: &Intent) -> PlanFile {
    let refs: Vec<&Item> = items.iter().collect();
    let plan = build_plan(&refs, intent, &Protect::default());
    PlanFile::from_plan(&plan, intent, &refs, meta()).unwrap()
}

fn fleet() -> Vec<Item> {
    vec![
        apikey("AKID1", Status::Enabled),
        apikey("AKID2", Status::Disabled),
        keypair("skey-1"),
        keypair("skey-2"),
    ]
}

/// The listing of each scope of `items`, as `check` takes it.
fn live(items: &[Item]) -> Live {
    let mut live = Live::new();
    for i in items {
        live.entry(i.key.scope.clone())
            .or_insert_with(|| Ok(Vec::new()))
            .as_mut()
            .unwrap()
            .push(i.clone());
    }
    live
}

fn rehashed(mut file: PlanFile, edit: impl FnOnce(&mut PlanBody)) -> PlanFile {
    edit(&mut file.body);
    file.hash = hash_of(&file.body);
    file
}

#[test]
fn the_fingerprint_covers_the_state_a_reviewer_approved_and_not_last_use() {
    let base = apikey("AKID1", Status::Enabled);
    let fp = fingerprint(&base);
    assert_eq!(fp.len(), FINGERPRINT_DIGITS);
    let mut used = base.clone();
    used.last_used = Some(ts("2026-01-01T00:00:00Z"));
    assert_eq!(
        fingerprint(&used),
        fp,
        "last use changes with every call the clients make"
    );
    let changes: [fn(&mut Item); 5] = [
        |i| i.status = Status::Disabled,
        |i| i.bindings.push(Binding::usage_plan("usagePlan-1")),
        |i| i.modified = Some(ts("2025-06-01T00:00:00Z")),
        |i| i.created = None,
        |i| i.name = "renamed".into(),
    ];
    for change in changes {
        let mut other = base.clone();
        change(&mut other);
        assert_ne!(fingerprint(&other), fp, "{other:?}");
    }
    let mut ab = base.clone();
    ab.bindings = vec![Binding::usage_plan("a"), Binding::usage_plan("b")];
    let mut ba = base.clone();
    ba.bindings = vec![Binding::usage_plan("b"), Binding::usage_plan("a")];
    assert_eq!(fingerprint(&ab), fingerprint(&ba), "bindings are compared sorted");
}

#[test]
fn a_written_plan_reads_back_the_same_and_names_its_confirmation() {
    let file = file_for(&fleet(), &Intent::Delete);
    assert_eq!(file.hash.len(), 64);
    assert_eq!(file.item_count(), 4);
    assert_eq!(file.confirm_token(), format!("4:{}", &file.hash[..12]));
    // DisableApiKey + DeleteApiKey for the enabled key, DeleteApiKey, one DeleteKeyPairs.
    let actions: Vec<&str> = file.body.calls.iter().map(|c| c.action.as_str()).collect();
    assert_eq!(
        actions,
        ["DisableApiKey", "DeleteApiKey", "DeleteApiKey", "DeleteKeyPairs"]
    );
    let text = file.to_json();
    let back = PlanFile::parse(&text, "plan.json").unwrap();
    assert_eq!(back, file);
    // Whitespace is not content: the same JSON compacted still verifies.
    let compact = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&text).unwrap()).unwrap();
    assert_eq!(PlanFile::parse(&compact, "plan.json").unwrap(), file);
}

#[test]
fn any_edit_is_refused_whole() {
    let file = file_for(&fleet(), &Intent::Delete);
    let text = file.to_json();
    // An extra id, the hash left as it was.
    let extra = text.replacen("\"skey-2\"\n", "\"skey-2\",\n        \"skey-9\"\n", 1);
    assert_ne!(extra, text);
    assert!(matches!(PlanFile::parse(&extra, "p"), Err(PlanFileError::HashMismatch)));
    // A changed hash.
    let other_hash = text.replace(&file.hash, &"0".repeat(64));
    assert!(matches!(
        PlanFile::parse(&other_hash, "p"),
        Err(PlanFileError::HashMismatch)
    ));
    // A field keyward does not write.
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["note"] = "hi".into();
    let err = PlanFile::parse(&value.to_string(), "p").unwrap_err();
    assert!(matches!(err, PlanFileError::NotAPlan { .. }), "{err}");
    // Another format.
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["format"] = 2.into();
    assert!(matches!(
        PlanFile::parse(&value.to_string(), "p"),
        Err(PlanFileError::Format { found: 2 })
    ));
    assert!(matches!(
        PlanFile::parse("[]", "p"),
        Err(PlanFileError::NotAPlan { .. })
    ));
}

/// A forger who recomputes the hash still cannot add an id that is not a planned item,
/// nor change an action or an operation.
#[test]
fn a_rehashed_file_must_still_be_consistent() {
    let file = file_for(&fleet(), &Intent::Delete);
    let reparse = |f: &PlanFile| PlanFile::parse(&f.to_json(), "p");
    let extra_id = rehashed(file.clone(), |b| b.calls[3].ids.push("skey-9".into()));
    let err = reparse(&extra_id).unwrap_err().to_string();
    assert!(
        err.contains("skey-9") && err.contains("not one of the plan's items"),
        "{err}"
    );
    let other_action = rehashed(file.clone(), |b| b.calls[3].action = "TerminateInstances".into());
    assert!(
        reparse(&other_action)
            .unwrap_err()
            .to_string()
            .contains("TerminateInstances")
    );
    let other_op = rehashed(file.clone(), |b| b.calls[1].op = FileOp::Rotate);
    assert!(matches!(reparse(&other_op), Err(PlanFileError::Inconsistent(_))));
    let idle = rehashed(file.clone(), |b| {
        b.calls.pop();
    });
    assert!(reparse(&idle).unwrap_err().to_string().contains("no call addresses"));
    // A consistent addition (item and id) parses, but its confirmation is another one.
    let grown = rehashed(file.clone(), |b| {
        b.calls[3].ids.push("skey-9".into());
        let mut item = b.items[2].clone();
        item.id = "skey-9".into();
        b.items.push(item);
    });
    let grown = reparse(&grown).unwrap();
    assert!(matches!(
        grown.check_confirm(&file.confirm_token()),
        Err(PlanFileError::ConfirmMismatch { .. })
    ));
}

#[test]
fn the_confirmation_is_the_count_and_a_hash_prefix_of_this_plan() {
    let file = file_for(&fleet(), &Intent::Delete);
    let prefix = &file.hash[..12];
    file.check_confirm(&format!("4:{prefix}")).unwrap();
    file.check_confirm(&format!("4:{}", file.hash.to_uppercase())).unwrap();
    for wrong in [format!("3:{prefix}"), format!("5:{prefix}"), "4:000000000000".into()] {
        assert!(
            matches!(file.check_confirm(&wrong), Err(PlanFileError::ConfirmMismatch { .. })),
            "{wrong}"
        );
    }
    for malformed in ["4", "four:abc", &format!("4:{}", &prefix[..8]), "4:zzzzzzzzzzzz"] {
        assert!(
            matches!(file.check_confirm(malformed), Err(PlanFileError::ConfirmSyntax { .. })),
            "{malformed}"
        );
    }
}

#[test]
fn old_plans_and_plans_from_the_future_are_refused() {
    let file = file_for(&fleet(), &Intent::Delete);
    let written = file.body.created_at;
    file.check_age(written + chrono::TimeDelta::hours(23), 24).unwrap();
    let old = file.check_age(written + chrono::TimeDelta::hours(25), 24).unwrap_err();
    assert!(old.to_string().contains("older than 24h"), "{old}");
    file.check_age(written - chrono::TimeDelta::minutes(1), 24).unwrap();
    assert!(matches!(
        file.check_age(written - chrono::TimeDelta::hours(1), 24),
        Err(PlanFileError::FromTheFuture { .. })
    ));
}

#[test]
fn a_custom_secret_or_a_rename_cannot_be_planned_to_a_file() {
    let items = [apikey("AKID1", Status::Enabled)];
    let refs: Vec<&Item> = items.iter().collect();
    let custom = Intent::Rotate {
        custom: Some(crate::secret::Secret::new("a-custom-secret-of-enough-length")),
    };
    let plan = build_plan(&refs, &custom, &Protect::default());
    let err = PlanFile::from_plan(&plan, &custom, &refs, meta()).unwrap_err();
    assert!(err.contains("secret you supply"), "{err}");
    let rename = Intent::Rename { name: "x".into() };
    assert!(PlanFile::from_plan(&Plan::default(), &rename, &refs, meta()).is_err());
}

#[test]
fn a_staged_cam_rotation_is_skipped_not_planned() {
    let cam = key(
        ProviderKind::Cam,
        crate::providers::tencent::cam::GLOBAL,
        "AKIDcam",
        Status::Enabled,
    );
    let file = file_for(
        &[cam, apikey("AKID1", Status::Enabled)],
        &Intent::Rotate { custom: None },
    );
    let called: Vec<&str> = file
        .body
        .calls
        .iter()
        .flat_map(|c| c.ids.iter().map(String::as_str))
        .collect();
    assert_eq!(called, ["AKID1"]);
    assert_eq!(file.body.skipped.len(), 1);
    assert_eq!(file.body.skipped[0].id, "AKIDcam");
    assert!(file.body.skipped[0].reason.contains("TUI"));
}

#[test]
fn unchanged_items_keep_their_calls_and_the_others_are_refused_or_gone() {
    let items = fleet();
    let file = file_for(&items, &Intent::Delete);
    let mut now = items.clone();
    // AKID1 was bound to a usage plan since; skey-1 is gone; the rest unchanged.
    now[0].bindings.push(Binding::usage_plan("usagePlan-1"));
    now.remove(2);
    let checked = check(&file, &live(&now), &Protect::default()).unwrap();
    let states: Vec<(&str, &ItemState)> = checked.items.iter().map(|i| (i.key.id.as_str(), &i.state)).collect();
    assert!(
        matches!(states[0], ("AKID1", ItemState::Refused(why)) if why.contains("changed") && why.contains("usagePlan-1"))
    );
    assert_eq!(states[1], ("AKID2", &ItemState::Ready));
    assert_eq!(states[2], ("skey-1", &ItemState::Gone));
    assert_eq!(states[3], ("skey-2", &ItemState::Ready));
    let sent: Vec<(&str, Vec<String>)> = checked.plan.calls.iter().map(|c| (c.action, c.ids.clone())).collect();
    assert_eq!(
        sent,
        [
            ("DeleteApiKey", vec!["AKID2".to_string()]),
            ("DeleteKeyPairs", vec!["skey-2".to_string()])
        ]
    );
    assert_eq!(checked.plan.plan_hash.as_deref(), Some(file.hash.as_str()));
    assert_eq!(checked.plan.item_count(), 2);
}

#[test]
fn a_scope_that_cannot_be_read_refuses_its_items_only() {
    let items = fleet();
    let file = file_for(&items, &Intent::Delete);
    let mut listing = live(&items);
    let cvm = Scope::new(ProviderKind::Cvm, "prod", "ap-guangzhou");
    listing.insert(cvm.clone(), Err("AuthFailure: the key was revoked".into()));
    let checked = check(&file, &listing, &Protect::default()).unwrap();
    assert_eq!(checked.refused().count(), 2);
    assert!(checked.plan.calls.iter().all(|c| c.scope != cvm));
    listing.remove(&cvm);
    let unconfigured = check(&file, &listing, &Protect::default()).unwrap();
    assert!(
        unconfigured
            .refused()
            .all(|(_, why)| why.contains("no configured account"))
    );
}

#[test]
fn a_key_protected_since_the_plan_was_written_is_refused() {
    use crate::queue::protect::Rule;
    let items = fleet();
    let file = file_for(&items, &Intent::Delete);
    let mut rule = Rule::at("/etc/keyward/config.toml:40");
    rule.id = Some("skey-2".into());
    let checked = check(&file, &live(&items), &Protect::new(vec![rule])).unwrap();
    let refused: Vec<(&str, &str)> = checked.refused().map(|(i, why)| (i.key.id.as_str(), why)).collect();
    assert_eq!(
        refused,
        [("skey-2", "protected by /etc/keyward/config.toml:40; not sent")]
    );
    assert!(
        checked
            .plan
            .calls
            .iter()
            .all(|c| !c.ids.contains(&"skey-2".to_string()))
    );
}

/// A file with consistent, rehashed calls that keyward's planner would not make for the
/// unchanged items (a delete of an enabled API key without disabling it first) is refused
/// whole.
#[test]
fn calls_the_planner_would_not_make_refuse_the_whole_plan() {
    let items = fleet();
    let file = file_for(&items, &Intent::Delete);
    let forged = rehashed(file, |b| {
        b.calls.remove(0);
    });
    let forged = PlanFile::parse(&forged.to_json(), "p").unwrap();
    let err = check(&forged, &live(&items), &Protect::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("AKID1") && err.contains("DisableApiKey then DeleteApiKey"),
        "{err}"
    );
}

/// A queue across tabs is one file: key pairs deleted and API keys disabled, each item
/// with its intent, checked against what the planner makes for that intent.
#[test]
fn one_file_can_mix_intents_and_each_item_is_checked_for_its_own() {
    let pairs = [keypair("skey-1"), keypair("skey-2")];
    let keys = [apikey("AKID1", Status::Enabled)];
    let pair_refs: Vec<&Item> = pairs.iter().collect();
    let key_refs: Vec<&Item> = keys.iter().collect();
    let delete = build_plan(&pair_refs, &Intent::Delete, &Protect::default());
    let disable = build_plan(&key_refs, &Intent::Disable, &Protect::default());
    let all: Vec<&Item> = pair_refs.iter().chain(key_refs.iter()).copied().collect();
    let file = PlanFile::from_plans(
        &[(&Intent::Delete, &delete), (&Intent::Disable, &disable)],
        &all,
        meta(),
    )
    .unwrap();
    assert_eq!(file.intents_text(), "delete 2, disable 1");
    let file = PlanFile::parse(&file.to_json(), "p").unwrap();
    let everything: Vec<Item> = pairs.iter().chain(keys.iter()).cloned().collect();
    let checked = check(&file, &live(&everything), &Protect::default()).unwrap();
    let sent: Vec<&str> = checked.plan.calls.iter().map(|c| c.action).collect();
    assert_eq!(sent, ["DeleteKeyPairs", "DisableApiKey"]);

    // The API key's intent rewritten to delete (rehashed): the file's lone DisableApiKey
    // is not how keyward deletes an enabled key, so nothing is sent.
    let forged = rehashed(file.clone(), |b| {
        for item in b.items.iter_mut().filter(|i| i.id == "AKID1") {
            item.intent = FileIntent::Delete;
        }
    });
    let forged = PlanFile::parse(&forged.to_json(), "p").unwrap();
    assert!(matches!(
        check(&forged, &live(&everything), &Protect::default()),
        Err(PlanFileError::NotPlanned { .. })
    ));
    // An item's calls must be ones its intent takes.
    let enable = rehashed(file, |b| {
        for item in b.items.iter_mut().filter(|i| i.id == "AKID1") {
            item.intent = FileIntent::Enable;
        }
    });
    assert!(matches!(
        PlanFile::parse(&enable.to_json(), "p"),
        Err(PlanFileError::Inconsistent(_))
    ));

    // One key cannot be planned for two intents at once.
    let both = PlanFile::from_plans(
        &[
            (&Intent::Disable, &disable),
            (
                &Intent::Delete,
                &build_plan(&key_refs, &Intent::Delete, &Protect::default()),
            ),
        ],
        &all,
        meta(),
    );
    assert!(both.unwrap_err().contains("two intents"));
}
