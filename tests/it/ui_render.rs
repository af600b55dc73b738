//! Rendering tests: each screen drawn on a TestBackend, checked for the facts that
//! matter and snapshotted with insta (tests/it/snapshots/*.snap, reviewed by reading them).

use crate::support::app::*;
use crate::support::items::*;
use crossterm::event::KeyCode;
use keyward::app::keymap::{self, KeyTable};
use keyward::app::modal::Modal;
use keyward::app::modal::help::HelpLine;
use keyward::app::{App, AppOptions, LoadState, Msg, update};
use keyward::inventory::{Binding, ProviderKind};
use keyward::providers::{ErrorKind, ProviderError};
use keyward::queue::{ExecEvent, Outcome};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| keyward::ui::draw(f, app)).unwrap();
    let screen = terminal.backend().to_string();
    if std::env::var_os("DUMP_SCREENS").is_some() {
        eprintln!("{screen}");
    }
    screen
}

/// A small inventory that fits on screen: 6 CVM pairs (one bound), 3 API keys.
fn small_app(options: AppOptions) -> App {
    let mut items = vec![
        item(ProviderKind::Cvm, "prod", "ap-guangzhou", "skey-0001", "web_a"),
        item(ProviderKind::Cvm, "prod", "ap-guangzhou", "skey-0002", "web_b"),
        item(ProviderKind::Cvm, "prod", "ap-guangzhou", "skey-0003", "db_a"),
        item(ProviderKind::Cvm, "prod", "ap-shanghai", "skey-0004", "web_c"),
        item(ProviderKind::Cvm, "prod", "ap-shanghai", "skey-0005", "batch"),
        item(ProviderKind::Cvm, "staging", "ap-guangzhou", "skey-0006", "web_old"),
        item(ProviderKind::ApiGateway, "prod", "ap-guangzhou", "AKIDaaaa", "billing"),
        item(ProviderKind::ApiGateway, "prod", "ap-guangzhou", "AKIDbbbb", "search"),
        item(ProviderKind::ApiGateway, "prod", "ap-guangzhou", "AKIDcccc", "ingest"),
    ];
    items[1] = items[1]
        .clone()
        .bound_to(Binding::Instance("ins-7".into()))
        .with_description("deploy key");
    app_with(items, options)
}

#[test]
fn main_table_with_loading_and_failed_regions() {
    let mut app = small_app(opts());
    // Two more CVM regions of prod: one still loading, one failed.
    app.sources.push(source(ProviderKind::Cvm, "prod", "ap-singapore"));
    app.sources.push(source(ProviderKind::Cvm, "prod", "eu-frankfurt"));
    let failed = app.sources[app.sources.len() - 1].scope.clone();
    update(
        &mut app,
        Msg::Loaded {
            scope: failed,
            result: Err(ProviderError::new(
                ErrorKind::Auth,
                "AuthFailure.SignatureExpire",
                "signature expired: the clock is off by more than 5 minutes",
            )
            .with_request_id(Some("6e0e4b6a-0000-4000-8000-000000000001".into()))),
        },
    );
    press(&mut app, "2j ");
    let screen = render(&app, 120, 32);
    // One counted line, however many sources; the failure itself is in the log pane.
    assert!(
        screen.contains("cvm loading 4/5 sources · 1 of 5 failed (f lists them by error, L the log pane): cvm prod/eu-frankfurt AuthFailure"),
        "{screen}"
    );
    assert!(
        screen.contains("prod/eu-frankfurt list (all keys) FAILED RequestId=6e0e4b6a-0000-4000-8000-000000000001"),
        "{screen}"
    );
    assert!(screen.contains("staging"), "the other account's rows stay visible");
    assert!(screen.contains("2 CVM key pairs (6, 1 failed)"));
    assert!(screen.contains("1 selected"));
    insta::assert_snapshot!("main_table", screen);
}

#[test]
fn filter_input_and_hidden_selection() {
    let mut app = small_app(opts());
    press(&mut app, "2a/WEB");
    let screen = render(&app, 120, 30);
    assert!(screen.contains("/WEB█"));
    assert!(screen.contains("4 match \"WEB\""));
    assert!(screen.contains("6 selected (2 hidden by the filter)"));
    assert!(!screen.contains("batch"), "filtered-out rows are not drawn");
    insta::assert_snapshot!("filter", screen);
}

/// A malformed filter term is said in red right above the input, and the table keeps the
/// view of the last filter that parsed until the term is fixed.
#[test]
fn a_malformed_filter_keeps_the_last_view_and_says_why() {
    let mut app = small_app(opts());
    // On the way, `web status` was two words, which no row has both of: that view stays.
    press(&mut app, "2/web status:");
    let screen = render(&app, 120, 30);
    assert!(
        screen.contains("0 match \"web status:\""),
        "the view of `web status`: {screen}"
    );
    assert!(
        screen.contains("filter not applied: `status:`: no value; status expects enabled, disabled, active or expired"),
        "{screen}"
    );
    press(&mut app, "active");
    let screen = render(&app, 120, 30);
    assert!(!screen.contains("filter not applied"), "{screen}");
    assert!(screen.contains("4 match \"web status:active\""), "{screen}");
    press(&mut app, " bound:no");
    assert_eq!(app.tab().view_len(), 3, "one of the four web pairs is bound");
}

#[test]
fn queue_view_with_typed_confirmation() {
    let mut app = small_app(opts());
    press(&mut app, "2a/web");
    key(&mut app, KeyCode::Enter);
    press(&mut app, "d");
    press(&mut app, "delete 5");
    let screen = render(&app, 120, 34);
    assert!(screen.contains("confirm: delete 6 item(s) in 3 call(s)"));
    assert!(screen.contains("2 of these are hidden by the filter."));
    assert!(screen.contains("cvm prod/ap-guangzhou"));
    assert!(screen.contains("cvm prod/ap-shanghai"));
    assert!(screen.contains("! skey-0002: bound to instance ins-7: the service will keep it"));
    assert!(screen.contains("Type delete 6 and press Enter"));
    assert!(screen.contains("> delete 5█"));
    insta::assert_snapshot!("confirm_delete", screen);

    key(&mut app, KeyCode::Enter);
    let screen = render(&app, 120, 34);
    assert!(screen.contains("type `delete 6` exactly to confirm"));
}

#[test]
fn queue_view_disable_then_delete_for_enabled_api_keys() {
    let mut app = small_app(opts());
    press(&mut app, "a");
    press(&mut app, "d");
    let screen = render(&app, 120, 30);
    assert!(screen.contains("DisableApiKey disable 1 id: billing (AKIDaaaa)  (enabled: disable then delete)"));
    assert!(screen.contains("DeleteApiKey delete 1 id: billing (AKIDaaaa)"));
    insta::assert_snapshot!("confirm_api_delete", screen);
}

#[test]
fn one_key_confirmation_with_cancel_focused() {
    let mut app = small_app(opts());
    press(&mut app, "ra");
    let screen = render(&app, 120, 30);
    assert!(screen.contains("[> Cancel <]  [  Confirm  ]"), "focus starts on Cancel");
    assert!(screen.contains("UpdateApiKey rotate (service-generated secret) 1 id: billing (AKIDaaaa)"));
    insta::assert_snapshot!("confirm_rotate", screen);
}

#[test]
fn custom_secret_entry_is_masked() {
    let mut app = small_app(opts());
    press(&mut app, "rcSecret_abc");
    let screen = render(&app, 100, 24);
    assert!(screen.contains("> **********█"));
    assert!(!screen.contains("Secret_abc"));
    key(&mut app, KeyCode::Backspace);
    key(&mut app, KeyCode::Enter);
    let screen = render(&app, 100, 24);
    assert!(screen.contains("this one has 9"), "{screen}");
    insta::assert_snapshot!("secret_entry_error", screen);
}

#[test]
fn log_pane_running_gauge_and_dry_run_header() {
    let mut app = small_app(AppOptions {
        dry_run: true,
        ..opts()
    });
    press(&mut app, "2  ");
    press(&mut app, "d");
    press(&mut app, "delete 2");
    key(&mut app, KeyCode::Enter);
    update(
        &mut app,
        Msg::Exec(ExecEvent::Started {
            total_calls: 4,
            total_items: 8,
        }),
    );
    update(
        &mut app,
        Msg::Exec(ExecEvent::Progress {
            done_calls: 1,
            total_calls: 4,
        }),
    );
    let entries = [
        entry("skey-0001", Outcome::Ok, Some("req-1"), None),
        entry(
            "skey-0002",
            Outcome::Kept {
                reason: "bound to instance ins-7".into(),
            },
            Some("req-1"),
            None,
        ),
        entry(
            "skey-0003",
            Outcome::Failed {
                code: "InvalidKeyPairId.NotFound".into(),
                message: "skey-0003 does not exist".into(),
            },
            Some("req-2"),
            Some("reload (R): it was deleted elsewhere"),
        ),
        entry("skey-0004", Outcome::DryRun, None, None),
        entry("skey-0005", Outcome::NotSent, None, None),
    ];
    for e in entries {
        update(&mut app, Msg::Exec(ExecEvent::Item(e)));
    }
    let screen = render(&app, 130, 34);
    assert!(screen.contains("DRY RUN"));
    assert!(screen.contains("03:04:05 cvm prod/ap-guangzhou DeleteKeyPairs skey-0001 ok RequestId=req-1"));
    assert!(screen.contains("skey-0003 FAILED RequestId=req-2 InvalidKeyPairId.NotFound: skey-0003 does not"));
    assert!(
        screen.contains("│exist (hint: reload (R): it was deleted elsewhere)"),
        "the long line wraps"
    );
    assert!(screen.contains("DRY RUN delete: 1/4 calls, 5/8 items (c cancels)"));
    insta::assert_snapshot!("log_pane_running", screen);

    // Focus and scroll the log (longer than the pane: scrolling never leaves it part empty).
    for i in 0..20 {
        let e = entry(&format!("skey-1{i:03}"), Outcome::Ok, Some("req-9"), None);
        update(&mut app, Msg::Exec(ExecEvent::Item(e)));
    }
    press(&mut app, "Lkk");
    assert_eq!(app.log_scroll, 2);
    let screen = render(&app, 130, 34);
    assert!(screen.contains("2 newer below"));
}

#[test]
fn rotation_dialog_masked_then_revealed() {
    let mut app = small_app(opts());
    press(&mut app, "ray");
    let key0 = app.tab().highlighted().map(|i| i.key.clone()).unwrap();
    update(
        &mut app,
        Msg::Exec(ExecEvent::Rotated {
            key: key0,
            request_id: "req-77".into(),
            secret: "Fresh_Secret_42".into(),
            new_id: None,
        }),
    );
    let screen = render(&app, 110, 30);
    assert!(
        screen.contains("billing  AKIDaaaa  ********  (RequestId req-77)"),
        "{screen}"
    );
    assert!(!screen.contains("Fresh_Secret_42"));
    insta::assert_snapshot!("rotation_masked", screen);
    press(&mut app, "v");
    let screen = render(&app, 110, 30);
    assert!(screen.contains("billing: Fresh_Secret_42"), "{screen}");
    assert!(
        screen.contains("billing  AKIDaaaa  (shown above)  (RequestId req-77)"),
        "{screen}"
    );
    key(&mut app, KeyCode::Esc);
    let screen = render(&app, 110, 30);
    assert!(!screen.contains("Fresh_Secret_42"), "closed: gone from the screen");
}

/// Every binding of every key table, as the help overlay must list it.
fn all_bindings(read_only: bool) -> Vec<HelpLine> {
    fn of<C: Copy>(table: &KeyTable<C>, keep: impl Fn(C) -> bool) -> Vec<HelpLine> {
        table
            .bindings
            .iter()
            .filter(|b| keep(b.command))
            .map(|b| HelpLine::Key {
                keys: KeyTable::keys_label(b),
                help: b.help,
            })
            .collect()
    }
    use keyward::app::modal::{confirm, entry, secrets};
    let mut all = of(&keymap::TABLE_KEYS, |c: keymap::Command| {
        !(read_only && c.refused_read_only())
    });
    all.extend(of(&keymap::NAV_KEYS, |_| true));
    all.extend(of(&keymap::FILTER_KEYS, |_| true));
    all.extend(of(&keyward::app::command_line::COMMAND_KEYS, |_| true));
    all.extend(of(&keymap::LOG_KEYS, |_| true));
    all.extend(of(&keyward::app::history::HISTORY_KEYS, |_| true));
    all.extend(of(&keyward::app::modal::failures::FAILURES_KEYS, |_| true));
    if !read_only {
        all.extend(of(&confirm::TYPED_CONFIRM_KEYS, |_| true));
        all.extend(of(&confirm::CONFIRM_KEYS, |_| true));
        all.extend(of(&confirm::PLAN_SCROLL_KEYS, |_| true));
        all.extend(of(&keyward::app::modal::ROTATE_KEYS, |_| true));
        all.extend(of(&entry::ENTRY_KEYS, |_| true));
        all.extend(of(&secrets::SECRETS_KEYS, |_| true));
        all.extend(of(&secrets::FORGET_KEYS, |_| true));
    }
    all.extend(of(&keyward::app::modal::QUIT_KEYS, |_| true));
    all.extend(of(&keyward::app::modal::help::HELP_KEYS, |_| true));
    all
}

#[test]
fn help_lists_exactly_the_bindings_and_scrolls_to_its_end_at_80x24() {
    for read_only in [false, true] {
        let mut app = small_app(AppOptions { read_only, ..opts() });
        press(&mut app, "?");
        let Some(Modal::Help(help)) = &app.modal else {
            panic!("? opens the help");
        };
        let listed: Vec<HelpLine> = help
            .lines
            .iter()
            .filter(|l| matches!(l, HelpLine::Key { .. }))
            .cloned()
            .collect();
        assert_eq!(listed, all_bindings(read_only), "read_only {read_only}");
        let mutating = listed
            .iter()
            .any(|l| matches!(l, HelpLine::Key { help, .. } if help.starts_with("delete the selection")));
        assert_eq!(mutating, !read_only, "read-only help hides the mutating keys");
        // The filter language is documented where the keys are.
        for line in keyward::filter::SYNTAX.lines() {
            assert!(help.lines.contains(&HelpLine::Text(line)), "{line}");
        }
        // The help is longer than 24 rows: it scrolls to its last line.
        let top = render(&app, 80, 24);
        assert!(!top.contains("Pasted text goes only"), "{top}");
        press(&mut app, "G");
        let bottom = render(&app, 80, 24);
        assert!(bottom.contains("Pasted text goes only"), "{bottom}");
    }
    let mut app = small_app(opts());
    press(&mut app, "?");
    insta::assert_snapshot!("help", render(&app, 110, 32));
}

#[test]
fn read_only_header_and_refusal_flash() {
    let mut app = small_app(AppOptions {
        read_only: true,
        ..opts()
    });
    press(&mut app, "d");
    let screen = render(&app, 120, 24);
    assert!(screen.contains("READ-ONLY"));
    assert!(screen.contains("read-only mode: action disabled"));
    insta::assert_snapshot!("read_only", screen);
}

#[test]
fn quit_during_run_asks() {
    let mut app = small_app(opts());
    press(&mut app, "x");
    press(&mut app, "y");
    press(&mut app, "q");
    let screen = render(&app, 100, 24);
    assert!(screen.contains("A run is in progress."));
    insta::assert_snapshot!("quit_during_run", screen);
}

#[test]
fn hundred_thousand_rows_draw_only_the_window() {
    let items = keyward::providers::memory::MemoryProvider::sample_items(
        ProviderKind::Cvm,
        "prod",
        "ap-guangzhou",
        "skey",
        100_000,
    );
    let mut app = app_with(items, opts());
    press(&mut app, "2sG");
    let screen = render(&app, 120, 30);
    assert!(screen.contains("> ") && screen.contains("skey-099999"), "{screen}");
    assert!(!screen.contains("skey-000000"));
    assert_eq!(app.tab().offset.get(), 100_000 - app.page_rows.get());
    press(&mut app, "/name-4242");
    let screen = render(&app, 120, 30);
    // name-4242 and name-42420..42429.
    assert!(screen.contains("11 match \"name-4242\""));
    assert!(matches!(app.sources[0].state, LoadState::Loaded(100_000)));
}

#[test]
fn first_frame_while_everything_loads() {
    let mut app = App::new(
        vec![
            source(ProviderKind::ApiGateway, "prod", "ap-guangzhou"),
            source(ProviderKind::ApiGateway, "prod", "ap-shanghai"),
            source(ProviderKind::Cvm, "prod", "ap-guangzhou"),
        ],
        opts(),
    );
    let effects = app.load_all();
    assert_eq!(effects.len(), 3);
    let screen = render(&app, 100, 24);
    assert!(screen.contains("1 API Gateway keys (…)"));
    assert!(screen.contains("apigateway loading 0/2 sources"), "{screen}");
    assert!(screen.contains("loading…"));
    assert!(screen.contains("3 OceanBase MaaS keys (0)"));
    press(&mut app, "3");
    let screen = render(&app, 100, 24);
    assert!(screen.contains("oceanbase: no account configured for OceanBase MaaS keys"));
    insta::assert_snapshot!("no_account", screen);
}

#[test]
fn history_overlay_shows_the_audit_fields_newest_first() {
    use keyward::app::history::HistoryLine;
    let mut app = small_app(opts());
    let at = |s: u32| {
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 1, 2, 3, 4, s)
            .single()
            .unwrap()
    };
    let line =
        |s, kind: &str, action: &str, id: &str, result: &str, req: Option<&str>, code: Option<&str>| HistoryLine {
            time: at(s),
            kind: kind.into(),
            account: "prod".into(),
            region: "ap-guangzhou".into(),
            action: action.into(),
            id: id.into(),
            name: None,
            result: serde_json::from_value(serde_json::json!(result)).unwrap(),
            request_id: req.map(str::to_string),
            code: code.map(str::to_string),
        };
    let lines = vec![
        line(
            9,
            "cvm",
            "DeleteKeyPairs",
            "skey-0003",
            "failed",
            Some("6e0e4b6a-0000-4000-8000-000000000003"),
            Some("InvalidKeyPair.NotFound"),
        ),
        line(
            8,
            "cvm",
            "DeleteKeyPairs",
            "skey-0002",
            "kept",
            Some("req-0002"),
            Some("InvalidKeyPair.HasBound"),
        ),
        line(7, "cvm", "DeleteKeyPairs", "skey-0001", "ok", Some("req-0001"), None),
        line(6, "apigateway", "DisableApiKey", "AKIDaaaa", "not_sent", None, None),
        line(5, "apigateway", "DisableApiKey", "AKIDbbbb", "dry_run", None, None),
    ];
    update(&mut app, Msg::History(Ok(lines.into())));
    let screen = render(&app, 160, 24);
    assert!(
        screen.contains("history: last 5 item results, newest first"),
        "{screen}"
    );
    let row = |id: &str| screen.lines().position(|l| l.contains(id)).unwrap();
    assert!(row("skey-0003") < row("skey-0001") && row("skey-0001") < row("AKIDbbbb"));
    let failed = screen.lines().find(|l| l.contains("skey-0003")).unwrap();
    for field in [
        "01-02 03:04:09",
        "cvm",
        "prod/ap-guangzhou",
        "DeleteKeyPairs",
        "failed",
        "6e0e4b6a-0000-4000-8000-000000000003",
        "InvalidKeyPair.NotFound",
    ] {
        assert!(failed.contains(field), "{field} missing in {failed}");
    }
    insta::assert_snapshot!("history", screen);
}

/// At 80x24 the table keeps its most useful columns readable and enough rows to work
/// with: the detail and log panes shrink first.
#[test]
fn at_80x24_name_and_id_stay_readable_and_the_table_keeps_rows() {
    let mut app = app_with(fleet(), opts());
    press(&mut app, "2");
    let screen = render(&app, 80, 24);
    let rows: Vec<&str> = screen.lines().filter(|l| l.contains("kp-000")).collect();
    assert!(rows.len() >= 8, "{} rows:\n{screen}", rows.len());
    for row in &rows {
        assert!(row.contains("kp-000"), "the id is readable: {row}");
        assert!(
            row.contains("web-") || row.contains("db-"),
            "the name is readable: {row}"
        );
    }
    assert!(
        screen.contains("status"),
        "status comes before the less useful columns:\n{screen}"
    );
    let narrow = render(&app, 60, 20);
    assert!(narrow.lines().any(|l| l.contains("kp-000")), "{narrow}");
}

#[test]
fn a_dry_run_confirmation_says_what_would_be_sent() {
    let mut app = small_app(AppOptions {
        dry_run: true,
        ..opts()
    });
    press(&mut app, "2d");
    let screen = render(&app, 120, 30);
    assert!(
        screen.contains("the plan below would send (dry run: nothing is sent) these calls"),
        "{screen}"
    );
    assert!(screen.contains("Deleting cannot be undone"), "{screen}");
}

#[test]
fn a_tab_whose_every_source_failed_says_failed_not_empty() {
    let mut app = App::new(vec![source(ProviderKind::Cvm, "prod", "ap-guangzhou")], opts());
    let _ = app.load_all();
    update(
        &mut app,
        Msg::Loaded {
            scope: keyward::inventory::Scope::new(ProviderKind::Cvm, "prod", "ap-guangzhou"),
            result: Err(ProviderError::new(
                ErrorKind::Auth,
                "AuthFailure.SecretIdNotFound",
                "unknown SecretId",
            )),
        },
    );
    press(&mut app, "2");
    let screen = render(&app, 100, 24);
    assert!(screen.contains("2 CVM key pairs (failed)"), "{screen}");
    assert!(screen.contains("every listing failed"), "{screen}");
    assert!(!screen.contains("no items"), "{screen}");
}

/// A region served through the nearest-access host is said once under its tab's title,
/// however many sources share the note, and not under the other tabs.
#[test]
fn setup_notes_are_said_once_under_their_tab() {
    let mut app = small_app(opts());
    app.add_notice(ProviderKind::Cvm, "ap-jakarta has no documented cvm region host".into());
    app.add_notice(ProviderKind::Cvm, "ap-jakarta has no documented cvm region host".into());
    app.add_notice(
        ProviderKind::Cvm,
        "sa-saopaulo has no documented cvm region host".into(),
    );
    press(&mut app, "2");
    let screen = render(&app, 120, 30);
    assert_eq!(screen.matches("note: ").count(), 1, "{screen}");
    assert!(
        screen.contains("note: ap-jakarta has no documented cvm region host (and 1 more like it)"),
        "{screen}"
    );
    press(&mut app, "1");
    let screen = render(&app, 120, 30);
    assert!(!screen.contains("note: "), "{screen}");
}

/// 200 accounts x 5 regions: 120 sources refused (accounts 0-23), 30 in a region the
/// service does not serve (ap-tokyo of accounts 24-53), 3 rate-limited, 50 still loading
/// (accounts 190-199), the rest loaded.
fn thousand_sources() -> App {
    many_sources(200, |n| {
        let (account, region) = (n / 5, n % 5);
        let fail = |code: &str| {
            Some(Err(ProviderError::new(
                ErrorKind::Api,
                code,
                format!("source {n} failed"),
            )))
        };
        match account {
            0..24 => fail("AuthFailure.SecretIdNotFound"),
            24..54 if region == 4 => fail("InvalidParameterValue.InvalidRegion"),
            100..103 if region == 0 => fail("RequestLimitExceeded"),
            190.. => None,
            _ => Some(Ok(())),
        }
    })
}

#[test]
fn a_thousand_sources_keep_the_loading_line_to_one_counted_line() {
    let app = thousand_sources();
    let counts = app.sources.counts(ProviderKind::Cvm);
    assert_eq!((counts.total, counts.loading, counts.failed), (1000, 50, 153));
    let screen = render(&app, 120, 32);
    let lines: Vec<&str> = screen.lines().collect();
    assert!(
        lines[2].contains("cvm loading 950/1000 sources · 153 of 1000 failed (f lists them by error, L the log pane): cvm acme-000/ap-guangzhou Aut"),
        "{screen}"
    );
    // The table starts on the next row: the sources took one line, not one per source.
    assert!(lines[3].contains("┌ CVM key pairs: 797 items"), "{screen}");
    assert!(lines[1].contains("2 CVM key pairs (797, 153 failed)"), "{screen}");
    assert!(
        !screen.contains("acme-000/ap-shanghai"),
        "no source is listed on the main screen"
    );
    insta::assert_snapshot!("thousand_sources", screen);
}

#[test]
fn the_failures_overlay_groups_a_thousand_sources_by_error_code() {
    let mut app = thousand_sources();
    press(&mut app, "f");
    assert!(
        matches!(app.modal, Some(Modal::Failures(_))),
        "f opens the failed sources"
    );
    let screen = render(&app, 120, 32);
    assert!(
        screen.contains("cvm: 153 of 1000 sources failed, by error code"),
        "{screen}"
    );
    // Largest group first, its sources in configuration order after its count and hint.
    assert!(
        screen.contains("AuthFailure.SecretIdNotFound × 120 (the SecretId does not exist"),
        "{screen}"
    );
    assert!(
        screen.contains("acme-000/ap-guangzhou, acme-000/ap-shanghai, acme-000/ap-beijing"),
        "{screen}"
    );
    assert!(
        !screen.contains("RequestLimitExceeded × 3"),
        "the last group is below the fold"
    );
    insta::assert_snapshot!("failures_overlay", screen);

    // The shared scrolling keys reach the last group; Esc closes.
    press(&mut app, "G");
    let bottom = render(&app, 120, 32);
    assert!(bottom.contains("RequestLimitExceeded × 3 ("), "{bottom}");
    assert!(
        bottom.contains("acme-100/ap-guangzhou, acme-101/ap-guangzhou, acme-102/ap-guangzhou"),
        "{bottom}"
    );
    assert!(bottom.contains("InvalidParameterValue.InvalidRegion × 30"), "{bottom}");
    key(&mut app, KeyCode::Esc);
    assert!(app.modal.is_none());

    // A tab without failures says so instead of opening an empty overlay.
    press(&mut app, "1f");
    assert!(app.modal.is_none());
    assert!(render(&app, 120, 32).contains("no apigateway source failed to list"));
}

/// The age and last-used columns count to the app's wall clock: CAM reports every use,
/// so a key without one says `never`; the detail pane has the full times with the
/// relative form. Sorting by age puts the youngest first.
#[test]
fn cam_tab_shows_age_and_last_use() {
    let items = vec![
        camkey("AKIDfresh", "root", keyward::inventory::Status::Enabled, 2).created_at("2026-01-02T01:00:00Z"),
        camkey("AKIDyesterday", "root", keyward::inventory::Status::Enabled, 2)
            .created_at("2024-11-20T08:00:00Z")
            .last_used_at("2026-01-01T00:00:00Z"),
        camkey(
            "AKIDlongago",
            "alice (100012345678)",
            keyward::inventory::Status::Disabled,
            0,
        )
        .created_at("2023-05-01T00:00:00Z")
        .last_used_at("2024-05-01T00:00:00Z"),
    ];
    let mut app = app_with(items, opts());
    // The CAM tab, then `s` until the sort is by age.
    press(&mut app, "4");
    while app.tab().sort().0 != keyward::app::table::Column::Age {
        press(&mut app, "s");
    }
    let screen = render(&app, 120, 30);
    let row = |id: &str| {
        screen
            .lines()
            .find(|l| l.contains(id) && !l.contains("id "))
            .unwrap()
            .to_string()
    };
    assert!(screen.contains(" age▲ "), "{screen}");
    assert!(screen.contains(" last used "), "{screen}");
    assert!(
        row("AKIDfresh").contains(" 2h ") && row("AKIDfresh").contains(" never "),
        "{screen}"
    );
    assert!(
        row("AKIDyesterday").contains(" 407d ") && row("AKIDyesterday").contains(" yesterday "),
        "{screen}"
    );
    assert!(
        row("AKIDlongago").contains(" 2024-05-01"),
        "beyond a year, the date: {screen}"
    );
    let order: Vec<usize> = ["AKIDfresh", "AKIDyesterday", "AKIDlongago"]
        .iter()
        .map(|id| screen.find(&row(id)).unwrap())
        .collect();
    assert!(order.is_sorted(), "youngest first: {screen}");
    // The cursor stayed on the key it was on (alice's, first by name); a date beyond a
    // year is not repeated as its relative form.
    assert!(
        screen.contains("created 2023-05-01T00:00:00Z (977d ago)   last used 2024-05-01 "),
        "{screen}"
    );
    insta::assert_snapshot!("cam_age_and_last_use", screen);
    press(&mut app, "k");
    let screen = render(&app, 120, 30);
    assert!(
        screen.contains("created 2024-11-20T08:00:00Z (407d ago)   last used 2026-01-01 (yesterday) "),
        "{screen}"
    );
    press(&mut app, "k");
    let screen = render(&app, 120, 30);
    assert!(
        screen.contains("created 2026-01-02T01:00:00Z (2h ago)   last used never "),
        "{screen}"
    );
}
