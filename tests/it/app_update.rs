//! Unit tests of the pure reducer `app::update`: no terminal, no tasks.

use crate::support::app::*;
use crate::support::items::*;
use crossterm::event::KeyCode;
use keyward::app::modal::Modal;
use keyward::app::table::Column;
use keyward::app::{App, AppOptions, Effect, FlashLevel, LoadState, Msg, update};
use keyward::inventory::{Binding, ProviderKind, Scope, Status};
use keyward::providers::{ErrorKind, ProviderError};
use keyward::queue::{ExecEvent, Intent, Op, Outcome, build_plan};

fn cvm_app() -> App {
    let mut app = app_with(fleet(), opts());
    press(&mut app, "2");
    assert_eq!(app.tab().kind, ProviderKind::Cvm);
    app
}

/// What the status line says: the latest message, else the last run's summary.
fn flash(app: &App) -> String {
    app.flash
        .as_ref()
        .map(|f| f.text.clone())
        .or_else(|| app.last_run.as_ref().map(|s| s.text()))
        .unwrap_or_default()
}

fn confirm(app: &App) -> &keyward::app::modal::Confirm {
    match &app.modal {
        Some(Modal::Confirm(c)) => c,
        other => panic!("expected the confirm dialog, got {other:?}"),
    }
}

#[test]
fn tabs_switch_with_numbers_tab_and_backtab() {
    let mut app = app_with(fleet(), opts());
    assert_eq!(app.tab().kind, ProviderKind::ApiGateway);
    assert_eq!(app.tab().len(), 5);
    press(&mut app, "2");
    assert_eq!(app.tab().len(), 300);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.tab().kind, ProviderKind::OceanBase);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.tab().kind, ProviderKind::Cam);
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.tab().kind, ProviderKind::ApiGateway);
    key(&mut app, KeyCode::BackTab);
    assert_eq!(app.tab().kind, ProviderKind::Cam);
    press(&mut app, "3");
    assert_eq!(app.tab().kind, ProviderKind::OceanBase);
    press(&mut app, "4");
    assert_eq!(app.tab().kind, ProviderKind::Cam);
    press(&mut app, "1");
    assert_eq!(app.tab().kind, ProviderKind::ApiGateway);
}

#[test]
fn filter_is_case_insensitive_across_columns_and_enter_keeps_it() {
    let mut app = cvm_app();
    press(&mut app, "/WEB-1");
    // web-10, web-12, ..., web-198 and web-100..: every even i whose name starts "web-1".
    let expected = (0..300)
        .filter(|i| i % 2 == 0 && format!("web-{i}").starts_with("web-1"))
        .count();
    assert_eq!(app.tab().view_len(), expected);
    key(&mut app, KeyCode::Enter);
    assert!(app.filter_input.is_none());
    assert_eq!(app.tab().filter(), "WEB-1");
    // Matches other columns too: the region.
    press(&mut app, "/");
    for _ in 0..5 {
        key(&mut app, KeyCode::Backspace);
    }
    press(&mut app, "guangzhou");
    assert_eq!(app.tab().view_len(), 300);
    press(&mut app, "x");
    assert_eq!(app.tab().view_len(), 0);
    key(&mut app, KeyCode::Esc);
    assert!(app.filter_input.is_none());
    assert_eq!(app.tab().filter(), "", "Esc in the filter input clears it");
    assert_eq!(app.tab().view_len(), 300);
}

#[test]
fn keys_typed_into_the_filter_do_not_trigger_actions() {
    let mut app = cvm_app();
    let effects = press(&mut app, "/dq");
    assert!(effects.is_empty(), "{effects:?}");
    assert!(app.modal.is_none());
}

#[test]
fn sort_cycles_columns_and_reverses() {
    let mut app = cvm_app();
    assert_eq!(app.tab().sort(), (Column::Name, false));
    assert_eq!(app.tab().view_item(0).map(|i| i.name.as_str()), Some("db-1"));
    press(&mut app, "S");
    assert_eq!(app.tab().sort(), (Column::Name, true));
    assert_eq!(app.tab().view_item(0).map(|i| i.name.as_str()), Some("web-98"));
    press(&mut app, "s");
    assert_eq!(app.tab().sort(), (Column::Id, true));
    assert_eq!(app.tab().view_item(0).map(|i| i.key.id.as_str()), Some("kp-000299"));
    press(&mut app, "S");
    assert_eq!(app.tab().view_item(0).map(|i| i.key.id.as_str()), Some("kp-000000"));
}

#[test]
fn cursor_moves_and_stays_on_its_item_across_a_sort() {
    let mut app = cvm_app();
    press(&mut app, "s"); // by id; the cursor follows its item (db-1 = kp-000001)
    assert_eq!(app.tab().highlighted().map(|i| i.key.id.as_str()), Some("kp-000001"));
    press(&mut app, "gjjj");
    assert_eq!(app.tab().highlighted().map(|i| i.key.id.as_str()), Some("kp-000003"));
    key(&mut app, KeyCode::End);
    assert_eq!(app.tab().cursor(), 299);
    press(&mut app, "j");
    assert_eq!(app.tab().cursor(), 299, "clamped at the end");
    press(&mut app, "g");
    assert_eq!(app.tab().cursor(), 0);
    key(&mut app, KeyCode::PageDown);
    assert_eq!(app.tab().cursor(), app.page_rows.get());
    press(&mut app, "G");
    press(&mut app, "S");
    assert_eq!(app.tab().highlighted().map(|i| i.key.id.as_str()), Some("kp-000299"));
    assert_eq!(
        app.tab().cursor(),
        0,
        "the highlighted item moved to the top when reversed"
    );
}

#[test]
fn selection_toggles_selects_all_filtered_and_clears() {
    let mut app = cvm_app();
    press(&mut app, "  ");
    assert_eq!(app.tab().selected_count(), 2);
    press(&mut app, "k ");
    assert_eq!(app.tab().selected_count(), 1, "Space on a selected row unselects it");
    press(&mut app, "A");
    assert_eq!(app.tab().selected_count(), 0);
    press(&mut app, "/web");
    key(&mut app, KeyCode::Enter);
    press(&mut app, "a");
    assert_eq!(app.tab().selected_count(), 150);
    press(&mut app, " ");
    assert_eq!(app.tab().selected_count(), 149);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.tab().selected_count(), 0, "Esc clears the selection");
    assert_eq!(
        app.tab().filter(),
        "web",
        "... but not the filter while something was selected"
    );
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.tab().filter(), "");
}

#[test]
fn selection_survives_filtering_and_counts_hidden_rows() {
    let mut app = cvm_app();
    press(&mut app, "/web");
    key(&mut app, KeyCode::Enter);
    press(&mut app, "a");
    assert_eq!(app.tab().hidden_selected(), 0);
    press(&mut app, "/");
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Backspace);
    press(&mut app, "web-1");
    key(&mut app, KeyCode::Enter);
    let visible = app.tab().view_len();
    assert_eq!(app.tab().selected_count(), 150, "a filter change keeps the selection");
    assert_eq!(app.tab().hidden_selected(), 150 - visible);
    press(&mut app, "d");
    let c = confirm(&app);
    assert_eq!(c.targets, 150);
    assert_eq!(c.hidden, 150 - visible);
}

#[test]
fn delete_needs_the_item_count_typed_back_exactly() {
    let mut app = cvm_app();
    press(&mut app, "/web");
    key(&mut app, KeyCode::Enter);
    press(&mut app, "a");
    assert!(press(&mut app, "d").is_empty());
    assert_eq!(confirm(&app).expected.as_deref(), Some("delete 150"));

    // Wrong text: rejected, dialog stays, nothing executes.
    let effects = press(&mut app, "delete 15");
    assert!(effects.is_empty());
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(confirm(&app).error.as_deref().unwrap_or("").contains("delete 150"));
    assert!(app.run.is_none());
    // `y` is just a typed character here, not a yes.
    assert!(press(&mut app, "y").is_empty());
    assert_eq!(confirm(&app).typed, "delete 15y");

    key(&mut app, KeyCode::Backspace);
    press(&mut app, "0");
    let effects = key(&mut app, KeyCode::Enter);
    assert_eq!(effects.len(), 1);
    match &effects[0] {
        Effect::Execute { plan, dry_run } => {
            assert!(!dry_run);
            assert_eq!(plan.item_count(), 150);
            assert_eq!(
                plan.calls.len(),
                2,
                "150 CVM pairs in one region: two DeleteKeyPairs batches"
            );
            assert!(plan.calls.iter().all(|c| c.action == "DeleteKeyPairs"));
        }
        other => panic!("expected Execute, got {other:?}"),
    }
    assert!(app.modal.is_none());
    assert!(app.run.is_some());
}

#[test]
fn esc_cancels_a_confirmation_without_effects() {
    let mut app = cvm_app();
    press(&mut app, "d");
    assert_eq!(confirm(&app).expected.as_deref(), Some("delete 1"));
    press(&mut app, "delete 1");
    assert!(key(&mut app, KeyCode::Esc).is_empty());
    assert!(app.modal.is_none());
    assert!(app.run.is_none());
    assert!(flash(&app).contains("cancelled"));
}

#[test]
fn one_key_rotation_needs_y_and_enter_defaults_to_cancel() {
    let mut app = app_with(fleet(), opts());
    press(&mut app, "r");
    assert!(matches!(app.modal, Some(Modal::RotateChoice(_))));
    press(&mut app, "a");
    let c = confirm(&app);
    assert_eq!(c.expected, None, "rotation is not destructive: y, not typed");
    assert_eq!(c.intent, Intent::Rotate { custom: None });
    // Enter on the default focus (Cancel) cancels.
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    assert!(app.modal.is_none());

    press(&mut app, "ra");
    let effects = press(&mut app, "y");
    assert!(matches!(&effects[..], [Effect::Execute { plan, .. }] if plan.calls[0].action == "UpdateApiKey"));

    // Tab to Confirm, then Enter, also confirms.
    let mut app = app_with(fleet(), opts());
    press(&mut app, "ra");
    key(&mut app, KeyCode::Tab);
    let effects = key(&mut app, KeyCode::Enter);
    assert!(matches!(&effects[..], [Effect::Execute { .. }]));
}

#[test]
fn custom_secret_is_validated_and_shows_the_rule() {
    let mut app = app_with(fleet(), opts());
    press(&mut app, "rc");
    assert!(matches!(app.modal, Some(Modal::SecretEntry(_))));
    press(&mut app, "short");
    key(&mut app, KeyCode::Enter);
    let Some(Modal::SecretEntry(entry)) = &app.modal else {
        panic!("the secret entry stays open after an invalid secret")
    };
    let err = entry.error.clone().unwrap_or_default();
    assert!(
        err.contains("10-50 characters: letters A-Z a-z, digits 0-9 and underscores"),
        "{err}"
    );
    assert!(!err.contains("short"), "the error never echoes the secret");

    for _ in 0..5 {
        key(&mut app, KeyCode::Backspace);
    }
    press(&mut app, "has-dash-but-long");
    key(&mut app, KeyCode::Enter);
    assert!(matches!(&app.modal, Some(Modal::SecretEntry(e)) if e.error.is_some()));
    assert!(
        !format!("{:?}", app.modal).contains("has-dash"),
        "Debug masks the typed secret"
    );

    for _ in 0.."has-dash-but-long".len() {
        key(&mut app, KeyCode::Backspace);
    }
    press(&mut app, "Good_Secret_123");
    key(&mut app, KeyCode::Enter);
    let c = confirm(&app);
    match &c.intent {
        Intent::Rotate { custom: Some(s) } => assert_eq!(s.expose(), "Good_Secret_123"),
        other => panic!("expected a custom rotation, got {other:?}"),
    }
    assert!(matches!(&c.plan.calls[0].op, Op::Rotate { custom: Some(_) }));
}

#[test]
fn custom_secret_is_refused_for_several_keys() {
    let mut app = app_with(fleet(), opts());
    press(&mut app, "a");
    press(&mut app, "rc");
    let Some(Modal::RotateChoice(choice)) = &app.modal else {
        panic!("the choice stays open")
    };
    assert!(choice.error.as_deref().unwrap_or("").contains("one key at a time"));
}

#[test]
fn read_only_refuses_every_mutating_key_and_never_executes() {
    let mut app = app_with(
        fleet(),
        AppOptions {
            read_only: true,
            ..opts()
        },
    );
    for tab in ["1", "2"] {
        press(&mut app, tab);
        press(&mut app, "a");
        for k in ["d", "r", "e", "x", "n"] {
            app.flash = None;
            let effects = press(&mut app, k);
            assert!(effects.is_empty(), "{k} produced {effects:?}");
            assert!(app.modal.is_none(), "{k} opened {:?}", app.modal);
            assert_eq!(flash(&app), "read-only mode: action disabled", "key {k}");
            assert_eq!(app.flash.as_ref().map(|f| f.level), Some(FlashLevel::Error));
        }
    }
    // Browsing still works.
    press(&mut app, "j/web");
    assert!(app.tab().view_len() > 0);
}

#[test]
fn dry_run_marks_the_execute_effect() {
    let mut app = app_with(
        fleet(),
        AppOptions {
            dry_run: true,
            ..opts()
        },
    );
    press(&mut app, "x");
    let effects = press(&mut app, "y");
    assert!(matches!(&effects[..], [Effect::Execute { dry_run: true, .. }]));
    assert!(app.run.as_ref().is_some_and(|r| r.dry_run));
}

#[test]
fn delete_of_enabled_api_key_plans_disable_then_delete() {
    let mut app = app_with(fleet(), opts());
    press(&mut app, "d");
    let c = confirm(&app);
    let actions: Vec<_> = c.plan.calls.iter().map(|c| c.action).collect();
    assert_eq!(actions, ["DisableApiKey", "DeleteApiKey"]);
    assert_eq!(c.expected.as_deref(), Some("delete 1"));
}

#[test]
fn rename_takes_one_key_pair_and_validates_the_name() {
    let mut app = cvm_app();
    press(&mut app, "n");
    let Some(Modal::Rename(entry)) = &app.modal else {
        panic!("rename dialog")
    };
    assert_eq!(entry.shown(), "db-1", "prefilled with the current name");
    // Unchanged: nothing to send.
    key(&mut app, KeyCode::Enter);
    assert!(app.modal.is_none());
    assert_eq!(flash(&app), "the name is unchanged: nothing to send");
    press(&mut app, "n");
    // "db-1x" has a dash: invalid for a CVM key name, and the message says which character.
    press(&mut app, "x");
    key(&mut app, KeyCode::Enter);
    assert!(
        matches!(&app.modal, Some(Modal::Rename(e)) if e.error.as_deref().unwrap_or("").contains("1-25") && e.error.as_deref().unwrap_or("").contains("'-'")),
        "{:?}",
        app.modal
    );
    for _ in 0..5 {
        key(&mut app, KeyCode::Backspace);
    }
    press(&mut app, "db_one");
    key(&mut app, KeyCode::Enter);
    let c = confirm(&app);
    assert_eq!(c.intent, Intent::Rename { name: "db_one".into() });
    let effects = press(&mut app, "y");
    assert!(matches!(&effects[..], [Effect::Execute { plan, .. }] if plan.calls[0].action == "ModifyKeyPairAttribute"));

    // Several selected: refused with the reason.
    let mut app = cvm_app();
    press(&mut app, "  ");
    press(&mut app, "n");
    assert!(app.modal.is_none());
    assert!(flash(&app).contains("rename acts on one item"));
}

#[test]
fn mutating_keys_are_refused_during_a_run() {
    let mut app = cvm_app();
    press(&mut app, "d");
    press(&mut app, "delete 1");
    assert_eq!(key(&mut app, KeyCode::Enter).len(), 1);
    assert!(press(&mut app, "d").is_empty());
    assert!(app.modal.is_none());
    assert!(flash(&app).contains("run is in progress"));
}

#[test]
fn quit_is_immediate_when_idle_and_asks_during_a_run() {
    let mut app = cvm_app();
    assert_eq!(press(&mut app, "q"), vec![Effect::Quit]);

    let mut app = cvm_app();
    press(&mut app, "d");
    press(&mut app, "delete 1");
    key(&mut app, KeyCode::Enter);
    assert!(press(&mut app, "q").is_empty());
    assert!(matches!(app.modal, Some(Modal::QuitDuringRun(_))));
    assert!(key(&mut app, KeyCode::Esc).is_empty(), "Esc keeps running");
    assert!(app.modal.is_none());
    press(&mut app, "q");
    assert_eq!(press(&mut app, "y"), vec![Effect::Cancel, Effect::Quit]);
}

#[test]
fn c_and_ctrl_c_cancel_a_run_once() {
    let mut app = cvm_app();
    press(&mut app, "d");
    press(&mut app, "delete 1");
    key(&mut app, KeyCode::Enter);
    assert_eq!(press(&mut app, "c"), vec![Effect::Cancel]);
    assert!(app.run.as_ref().is_some_and(|r| r.cancelling));
    assert!(ctrl(&mut app, 'c').is_empty(), "already cancelling");
    // Idle: Ctrl-C quits.
    let mut app = cvm_app();
    assert_eq!(ctrl(&mut app, 'c'), vec![Effect::Quit]);
}

#[test]
fn exec_events_drive_progress_log_refresh_and_finish() {
    let mut app = cvm_app();
    press(&mut app, "  ");
    press(&mut app, "d");
    press(&mut app, "delete 2");
    key(&mut app, KeyCode::Enter);
    update(
        &mut app,
        Msg::Exec(ExecEvent::Started {
            total_calls: 1,
            total_items: 2,
        }),
    );
    let first_two: Vec<String> = (0..2)
        .filter_map(|p| app.tab().view_item(p).map(|i| i.key.id.to_string()))
        .collect();
    for id in &first_two {
        update(
            &mut app,
            Msg::Exec(ExecEvent::Item(entry(id, Outcome::Ok, Some("rid-1"), None))),
        );
    }
    update(
        &mut app,
        Msg::Exec(ExecEvent::Progress {
            done_calls: 1,
            total_calls: 1,
        }),
    );
    assert!(app.run.as_ref().is_some_and(|r| r.ratio() == 1.0 && r.items_done == 2));
    assert_eq!(app.log.len(), 2);
    // The re-read returns the region without the deleted pairs.
    let rest: Vec<_> = app
        .tab()
        .items()
        .iter()
        .filter(|i| !first_two.iter().any(|id| *id == i.key.id))
        .map(|r| r.item.clone())
        .collect();
    update(
        &mut app,
        Msg::Exec(ExecEvent::Refreshed {
            scope: Scope::new(ProviderKind::Cvm, "prod", "ap-guangzhou"),
            items: rest,
        }),
    );
    assert_eq!(app.tab().len(), 298);
    assert_eq!(app.tab().selected_count(), 0, "deleted items leave the selection");
    update(
        &mut app,
        Msg::Exec(ExecEvent::Finished {
            cancelled: false,
            tally: keyward::queue::Tally {
                ok: 2,
                ..Default::default()
            },
        }),
    );
    assert!(app.run.is_none());
    assert_eq!(flash(&app), "delete finished: 2 ok, 0 failed, 0 not sent");
}

#[test]
fn refresh_with_only_touched_ids_keeps_the_rest() {
    let mut app = cvm_app();
    press(&mut app, "sg"); // sort by id, first row: kp-000000
    press(&mut app, "d");
    press(&mut app, "delete 1");
    key(&mut app, KeyCode::Enter);
    // An executor that re-reads only the touched ids returns none: kp-000000 is gone.
    update(
        &mut app,
        Msg::Exec(ExecEvent::Refreshed {
            scope: Scope::new(ProviderKind::Cvm, "prod", "ap-guangzhou"),
            items: Vec::new(),
        }),
    );
    assert_eq!(app.tab().len(), 299);
    assert!(app.tab().items().iter().all(|i| i.key.id != "kp-000000"));
}

#[test]
fn rotation_secret_is_shown_once_masked_copied_and_dropped() {
    let mut app = app_with(fleet(), opts());
    press(&mut app, "ra");
    press(&mut app, "y");
    let key0 = app
        .tab()
        .highlighted()
        .map(|i| i.key.clone())
        .unwrap_or_else(|| panic!("a row"));
    update(
        &mut app,
        Msg::Exec(ExecEvent::Rotated {
            key: key0,
            request_id: "rid-9".into(),
            secret: "NewSecret_0123456789".into(),
            new_id: None,
        }),
    );
    let Some(Modal::RotationResult(r)) = &app.modal else {
        panic!("the rotation dialog opens")
    };
    assert_eq!(r.showing, None);
    press(&mut app, "v");
    assert!(matches!(&app.modal, Some(Modal::RotationResult(r)) if r.showing == Some(0)));
    let effects = press(&mut app, "y");
    assert!(
        matches!(&effects[..], [Effect::CopyToClipboard { secret, .. }] if secret.expose() == "NewSecret_0123456789"),
        "{effects:?}"
    );
    // The advertised cancel key cancels here too, during the run.
    assert_eq!(press(&mut app, "c"), vec![Effect::Cancel]);
    assert!(
        app.run.as_ref().is_some_and(|r| r.cancelling),
        "c cancels, it does not copy"
    );
    key(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none(), "revealed and copied: Esc closes without asking");
    assert!(!flash(&app).contains("NewSecret"));
}

#[test]
fn a_failing_region_shows_its_error_without_hiding_the_others() {
    let mut app = App::new(
        vec![
            source(ProviderKind::Cvm, "prod", "ap-guangzhou"),
            source(ProviderKind::Cvm, "prod", "ap-singapore"),
        ],
        opts(),
    );
    let effects = app.load_all();
    assert_eq!(
        effects,
        vec![
            Effect::Load {
                scope: Scope::new(ProviderKind::Cvm, "prod", "ap-guangzhou")
            },
            Effect::Load {
                scope: Scope::new(ProviderKind::Cvm, "prod", "ap-singapore")
            },
        ]
    );
    update(
        &mut app,
        Msg::Loaded {
            scope: Scope::new(ProviderKind::Cvm, "prod", "ap-guangzhou"),
            result: Ok(vec![item(ProviderKind::Cvm, "prod", "ap-guangzhou", "kp-1", "a")]),
        },
    );
    let err = ProviderError::new(ErrorKind::Auth, "AuthFailure.SignatureFailure", "bad signature")
        .with_request_id(Some("req-42".into()));
    update(
        &mut app,
        Msg::Loaded {
            scope: Scope::new(ProviderKind::Cvm, "prod", "ap-singapore"),
            result: Err(err.clone()),
        },
    );
    assert_eq!(app.tabs[1].len(), 1);
    assert_eq!(app.sources[1].state, LoadState::Failed(err));
    assert_eq!(app.sources[0].state, LoadState::Loaded(1));
}

#[test]
fn enable_on_a_disabled_key_is_planned_and_skips_are_reported() {
    let mut items = fleet();
    items[300].status = Status::Disabled;
    let mut app = app_with(items, opts());
    press(&mut app, "e");
    assert!(matches!(&app.modal, Some(Modal::Confirm(c)) if c.plan.calls[0].op == Op::Enable));
    // Enable on CVM pairs: no dialog, a reason instead.
    let mut app = cvm_app();
    press(&mut app, "e");
    assert!(app.modal.is_none());
    assert_eq!(
        flash(&app),
        "CVM key pairs cannot be enabled",
        "refused before planning, by the kind's capabilities"
    );
    // An enabled API key reaches the planner, which skips it with its reason.
    let mut app = app_with(fleet(), opts());
    press(&mut app, "e");
    assert!(app.modal.is_none());
    assert!(flash(&app).starts_with("nothing to enable"), "{}", flash(&app));
}

#[test]
fn bound_items_carry_warnings_into_the_plan() {
    let mut items = fleet();
    items[0] = items[0].clone().bound_to(Binding::Instance("ins-1".into()));
    let mut app = app_with(items, opts());
    press(&mut app, "2");
    press(&mut app, "/web-0");
    key(&mut app, KeyCode::Enter);
    press(&mut app, "d");
    assert_eq!(
        confirm(&app).plan.calls[0].warnings,
        ["kp-000000: bound to instance ins-1: the service will keep it"]
    );
}

#[test]
fn plan_view_groups_calls_and_marks_only_disables_followed_by_a_delete() {
    use keyward::app::modal::{PlanLineKind, plan_view};
    let items = fleet();
    let api: Vec<&keyward::inventory::Item> = items[300..].iter().collect();
    let delete = build_plan(&api, &Intent::Delete, &keyward::queue::Protect::default());
    let lines = plan_view(&delete);
    assert_eq!(lines.iter().filter(|l| l.kind == PlanLineKind::Group).count(), 1);
    let marked = lines.iter().filter(|l| l.text.contains("disable then delete")).count();
    assert_eq!(marked, 5, "{lines:#?}");
    // A plain disable is not "disable then delete".
    let disable = build_plan(&api, &Intent::Disable, &keyward::queue::Protect::default());
    assert!(plan_view(&disable).iter().all(|l| !l.text.contains("then delete")));
    // CVM: 300 pairs in one region are three batches, listed with the first ids.
    let cvm: Vec<&keyward::inventory::Item> = items[..300].iter().collect();
    let lines = plan_view(&build_plan(&cvm, &Intent::Delete, &keyward::queue::Protect::default()));
    let calls: Vec<_> = lines.iter().filter(|l| l.kind == PlanLineKind::Call).collect();
    assert_eq!(calls.len(), 3);
    assert_eq!(
        calls[0].text,
        "  DeleteKeyPairs delete 100 ids: web-0 (kp-000000), db-1 (kp-000001), web-2 (kp-000002) … (+97 more)",
        "each id with the name it had when planned"
    );
}

#[test]
fn ctrl_chords_other_than_ctrl_c_do_nothing() {
    let mut app = cvm_app();
    assert!(ctrl(&mut app, 'd').is_empty());
    assert!(ctrl(&mut app, 'q').is_empty());
    assert!(app.modal.is_none());
}

/// Regions load one by one; an operator who has not moved stays at the top of the list,
/// while one who has moved keeps their item under the cursor.
#[test]
fn loading_more_regions_keeps_an_unmoved_cursor_at_the_top() {
    // ap-shanghai's listing arrives first, then ap-guangzhou's, whose item sorts first.
    let items = vec![
        item(ProviderKind::Cvm, "prod", "ap-shanghai", "skey-zeta0001", "zeta-1"),
        item(ProviderKind::Cvm, "prod", "ap-shanghai", "skey-zeta0002", "zeta-2"),
        item(ProviderKind::Cvm, "prod", "ap-guangzhou", "skey-alph0001", "alpha-1"),
    ];
    let mut app = app_with(items, opts());
    press(&mut app, "2");
    assert_eq!(app.tab().cursor(), 0);
    assert_eq!(app.tab().highlighted().map(|i| i.name.as_str()), Some("alpha-1"));

    // Moved away: the highlighted item survives a sort even when it moves.
    press(&mut app, "j");
    assert_eq!(app.tab().highlighted().map(|i| i.name.as_str()), Some("zeta-1"));
    press(&mut app, "S");
    assert_eq!(app.tab().highlighted().map(|i| i.name.as_str()), Some("zeta-1"));
    assert_eq!(app.tab().cursor(), 1, "descending: zeta-2, zeta-1, alpha-1");
}

#[test]
fn h_asks_for_the_history_and_the_answer_opens_a_scrollable_overlay() {
    use keyward::app::history::HistoryLine;
    let mut app = cvm_app();
    assert_eq!(press(&mut app, "H"), vec![Effect::LoadHistory]);
    assert!(app.modal.is_none(), "nothing opens before the file was read");

    let line = |id: &str| HistoryLine {
        time: chrono::DateTime::UNIX_EPOCH,
        kind: "cvm".into(),
        account: "prod".into(),
        region: "ap-guangzhou".into(),
        action: "DeleteKeyPairs".into(),
        id: id.into(),
        name: None,
        result: keyward::audit::OutcomeKind::Ok,
        request_id: Some("req-1".into()),
        code: None,
    };
    update(
        &mut app,
        Msg::History(Ok(vec![line("kp-2"), line("kp-1"), line("kp-0")].into())),
    );
    let scroll = |app: &App| match &app.modal {
        Some(Modal::History(h)) => h.scroll,
        other => panic!("expected the history overlay, got {other:?}"),
    };
    assert_eq!(scroll(&app), 0);
    // One row fits (the render cache says so): the window moves, the last page stays full.
    app.page_rows.set(1);
    assert!(
        press(&mut app, "jjj").is_empty(),
        "scrolling has no effect outside the app"
    );
    assert_eq!(scroll(&app), 2, "the last line stays on screen");
    press(&mut app, "k");
    assert_eq!(scroll(&app), 1);
    assert!(key(&mut app, KeyCode::Esc).is_empty());
    assert!(app.modal.is_none(), "Esc closes the history");
    assert_eq!(app.tab().kind, ProviderKind::Cvm, "and the keys went to no other view");

    update(&mut app, Msg::History(Ok(vec![line("kp-0")].into())));
    assert!(
        press(&mut app, "H").is_empty(),
        "H inside the overlay closes it, it does not reload"
    );
    assert!(app.modal.is_none());

    update(
        &mut app,
        Msg::History(Err("cannot read the audit log /x: denied".into())),
    );
    assert!(app.modal.is_none());
    assert_eq!(app.flash.as_ref().map(|f| f.level), Some(FlashLevel::Error));
    assert!(flash(&app).contains("cannot show the history: cannot read the audit log /x"));
}

#[test]
fn a_long_warning_list_is_counted_not_listed() {
    use keyward::app::modal::{PlanLineKind, plan_view};
    let items: Vec<keyward::inventory::Item> = fleet()[..300]
        .iter()
        .map(|i| i.clone().bound_to(Binding::Instance("ins-1".into())))
        .collect();
    let refs: Vec<&keyward::inventory::Item> = items.iter().collect();
    let lines = plan_view(&build_plan(&refs, &Intent::Delete, &keyward::queue::Protect::default()));
    let warnings: Vec<&str> = lines
        .iter()
        .filter(|l| l.kind == PlanLineKind::Warning)
        .map(|l| l.text.as_str())
        .collect();
    // Three batches of 100: three warnings listed and one count per batch, plus the image note.
    assert_eq!(warnings.len(), 3 * 4 + 1, "{warnings:#?}");
    assert!(warnings.contains(&"    ! 100 of these 100 ids have a warning like the ones above (97 more not listed)"));
}

#[test]
fn ctrl_l_redraws_and_ctrl_z_suspends_in_every_state() {
    let mut app = cvm_app();
    assert_eq!(ctrl(&mut app, 'l'), vec![Effect::Redraw]);
    assert_eq!(ctrl(&mut app, 'z'), vec![Effect::Suspend]);
    press(&mut app, "/");
    assert_eq!(ctrl(&mut app, 'z'), vec![Effect::Suspend], "also while typing a filter");
    assert_eq!(app.filter_input.as_deref(), Some(""), "and the input is kept");
}

#[test]
fn rows_of_a_failed_reload_stay_but_are_marked_stale_and_the_failure_is_logged_in_full() {
    use keyward::providers::{ErrorKind, ProviderError};
    let mut app = cvm_app();
    let scope = keyward::inventory::Scope::new(ProviderKind::Cvm, "prod", "ap-guangzhou");
    assert!(!app.tab().is_stale(&scope));
    update(
        &mut app,
        Msg::Loaded {
            scope: scope.clone(),
            result: Err(ProviderError::new(ErrorKind::Timeout, "Timeout", "no answer in 30 s").with_request_id(None)),
        },
    );
    assert_eq!(app.tab().len(), 300, "a failed reload hides nothing");
    assert!(app.tab().is_stale(&scope));
    let line = keyward::app::run::log_line(app.log.last().unwrap());
    assert!(
        line.contains("cvm prod/ap-guangzhou list (all keys) FAILED Timeout: no answer in 30 s"),
        "{line}"
    );
    // A later successful load clears the mark.
    update(
        &mut app,
        Msg::Loaded {
            scope: scope.clone(),
            result: Ok(fleet()[..300].to_vec()),
        },
    );
    assert!(!app.tab().is_stale(&scope));
}

#[test]
fn a_dry_run_confirmation_says_would_send_and_its_summary_would_have_been_sent() {
    let mut app = app_with(
        fleet(),
        AppOptions {
            dry_run: true,
            ..opts()
        },
    );
    press(&mut app, "2d");
    let Some(Modal::Confirm(c)) = &app.modal else {
        panic!("the delete confirmation");
    };
    assert!(c.dry_run);
    let summary = keyward::app::run::RunSummary {
        verb: "delete",
        dry_run: true,
        cancelled: false,
        ok: 3,
        kept: 0,
        failed: 0,
        unknown: 0,
        not_sent: 0,
        left_disabled: 0,
    };
    assert_eq!(summary.text(), "dry run: 3 would have been sent");
}

#[test]
fn a_run_carries_every_item_of_the_scopes_it_calls_into_for_its_re_read() {
    // fleet(): 300 CVM pairs and 5 API keys, all in prod/ap-guangzhou.
    let mut app = app_with(fleet(), opts());
    press(&mut app, "ra");
    let effects = press(&mut app, "y");
    let [Effect::Execute { plan, .. }] = &effects[..] else {
        panic!("expected Execute, got {effects:?}");
    };
    assert_eq!(plan.item_count(), 1, "one key is rotated");
    let mut listed: Vec<&str> = plan.listed.iter().map(|i| i.key.id.as_str()).collect();
    listed.sort();
    assert_eq!(
        listed,
        ["AKID0000", "AKID0001", "AKID0002", "AKID0003", "AKID0004"],
        "the whole scope of the API key tab, and nothing of the CVM tab"
    );
}

/// A staged rotation whose new key is gone (deleted by hand, say) must not go on to disable
/// the old key, which would leave the owner with none: `r` drops the rotation and says so,
/// and the file is rewritten without it. With both keys listed, `r` plans the next step.
#[test]
fn a_staged_rotation_whose_new_key_is_gone_is_dropped_instead_of_disabling_the_old_key() {
    use keyward::rotation::{Rotation, Stage};
    let old = item(ProviderKind::Cam, "prod", "global", "AKIDold", "alice (1001)");
    let new = item(ProviderKind::Cam, "prod", "global", "AKIDnew", "alice (1001)");
    let rotation = Rotation {
        account: "prod".into(),
        owner: "alice (1001)".into(),
        owner_uin: None,
        old_key: "AKIDold".into(),
        new_key: "AKIDnew".into(),
        stage: Stage::NewKeyCreated,
        started: chrono::DateTime::UNIX_EPOCH,
        updated: chrono::DateTime::UNIX_EPOCH,
    };

    let mut app = app_with(vec![old.clone(), new], opts());
    app.rotations = vec![rotation.clone()];
    press(&mut app, "4");
    assert!(press(&mut app, "r").is_empty());
    match &app.modal {
        Some(Modal::Confirm(c)) => assert_eq!(c.intent, Intent::Disable, "step 2 disables the old key"),
        other => panic!("expected the step-2 confirmation, got {other:?}"),
    }

    let mut app = app_with(vec![old], opts());
    app.rotations = vec![rotation];
    press(&mut app, "4");
    let effects = press(&mut app, "r");
    assert!(app.modal.is_none(), "nothing is planned");
    assert!(app.rotations.is_empty());
    assert!(
        matches!(effects.as_slice(), [Effect::SaveRotations(saved)] if saved.is_empty()),
        "{effects:?}"
    );
    let flash = app.flash.as_ref().unwrap();
    assert_eq!(flash.level, FlashLevel::Error);
    assert!(flash.text.contains("AKIDnew is gone"), "{}", flash.text);
}
