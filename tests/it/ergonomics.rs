//! Operator ergonomics (issue #16 parts 3, 4, 5, 8): copying ids, rebinding keys, the
//! theme and NO_COLOR, the mouse, scoping flags and the `:` command line.

use crate::support::app::*;
use crate::support::harness::Harness;
use crate::support::items::*;
use base64::Engine;
use crossterm::event::KeyCode;
use keyward::app::Effect;
use keyward::inventory::{Item, ProviderKind};
use keyward::providers::Provider;
use keyward::providers::memory::MemoryProvider;
use keyward::tui::{RunOptions, Runtime};
use std::sync::Arc;

/// Three CVM key pairs in prod/ap-guangzhou, kp-1 highlighted first.
fn pairs() -> Vec<Item> {
    (1..=3)
        .map(|i| {
            item(
                ProviderKind::Cvm,
                "prod",
                "ap-guangzhou",
                &format!("kp-{i}"),
                &format!("web-{i}"),
            )
        })
        .collect()
}

fn osc52(text: &str) -> String {
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

#[test]
fn y_copies_the_highlighted_id_and_capital_y_the_selection() {
    let mut app = app_with(pairs(), opts());
    press(&mut app, "2");
    let effects = press(&mut app, "y");
    assert_eq!(
        effects,
        vec![Effect::CopyText {
            text: "kp-1".into(),
            what: "id kp-1".into()
        }]
    );
    // Select kp-1 and kp-3 (Space moves down; j skips kp-2).
    press(&mut app, " j ");
    let effects = press(&mut app, "Y");
    assert_eq!(
        effects,
        vec![Effect::CopyText {
            text: "kp-1\nkp-3".into(),
            what: "2 ids".into()
        }]
    );
}

#[test]
fn capital_y_without_a_selection_says_what_to_do() {
    let mut app = app_with(pairs(), opts());
    press(&mut app, "2");
    assert!(press(&mut app, "Y").is_empty());
    let flash = app.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(flash.contains("no row is selected"), "{flash}");
}

#[tokio::test]
async fn the_runtime_writes_the_ids_as_osc52_and_says_how_many() {
    let cvm = Arc::new(MemoryProvider::new(ProviderKind::Cvm, "prod", "ap-guangzhou", pairs()));
    let providers: Vec<Arc<dyn Provider>> = vec![cvm];
    let mut h = Harness::new(Runtime::new(providers, &RunOptions::default()), 120, 30);
    h.start();
    h.settle().await.unwrap();
    h.press("2");
    h.press("y");
    assert_eq!(String::from_utf8(h.clipboard_bytes()).unwrap(), osc52("kp-1"));
    h.press(" j ");
    h.press("Y");
    assert_eq!(
        String::from_utf8(h.clipboard_bytes()).unwrap(),
        format!("{}{}", osc52("kp-1"), osc52("kp-1\nkp-3"))
    );
    assert!(h.render().contains("2 ids sent to the terminal's clipboard"));
}

fn config(text: &str) -> Result<keyward::config::Config, String> {
    keyward::config::Config::parse(text, std::path::Path::new("/etc/keyward/config.toml"), &|_| None)
        .map_err(|e| e.to_string())
}

#[test]
fn keys_rebinds_actions_by_name_in_handling_help_and_footer() {
    let cfg = config("[keys]\ndelete = \"D\"\nfilter = [\"/\", \"ctrl-f\"]\n").unwrap();
    let mut app = app_with(
        pairs(),
        keyward::app::AppOptions {
            keys: cfg.keys,
            ..opts()
        },
    );
    press(&mut app, "2");
    press(&mut app, "d");
    assert!(app.modal.is_none(), "d no longer deletes");
    press(&mut app, "D");
    assert!(
        matches!(app.modal, Some(keyward::app::modal::Modal::Confirm(_))),
        "D opens the delete confirmation"
    );
    app.modal = None;
    ctrl(&mut app, 'f');
    assert!(app.filter_input.is_some(), "ctrl-f opens the filter");
    let help = keyward::app::modal::Help::new(&app.keys, false);
    assert!(help.lines.iter().any(|l| matches!(
        l,
        keyward::app::modal::help::HelpLine::Key { keys, help } if keys == "/ / Ctrl-F" && help.starts_with("filter rows")
    )));
    app.filter_input = None;
    let screen = crate::support::app::render_text(&app, 140, 24);
    assert!(screen.contains("D delete"), "{screen}");
    assert!(!screen.contains("d delete"), "{screen}");
}

#[test]
fn keys_errors_name_the_line_and_the_fix() {
    let unknown = config("[settings]\nmax_retries = 3\n\n[keys]\nerase = \"D\"\n").unwrap_err();
    assert!(unknown.contains("config.toml:5"), "{unknown}");
    assert!(unknown.contains("no action named \"erase\""), "{unknown}");
    assert!(unknown.contains("delete"), "lists the names: {unknown}");

    let bad_key = config("[keys]\ndelete = \"D\"\nquit = \"ctrl-\"\n").unwrap_err();
    assert!(bad_key.contains("config.toml:3"), "{bad_key}");
    assert!(bad_key.contains("\"ctrl-\" is not a key keyward knows"), "{bad_key}");

    let twice = config("[keys]\ndelete = \"D\"\nrotate = \"D\"\n").unwrap_err();
    assert!(twice.contains("config.toml:3"), "{twice}");
    assert!(twice.contains("D is bound to both delete and rotate"), "{twice}");

    // A built-in key still in use counts too: `s` stays sort unless sort moves.
    let taken = config("[keys]\ndelete = \"s\"\n").unwrap_err();
    assert!(taken.contains("s is bound to both"), "{taken}");
    assert!(config("[keys]\nsort = \"o\"\ndelete = \"s\"\n").is_ok());

    // The moving keys are asked first on the main screen.
    let nav = config("[keys]\ndelete = \"j\"\n").unwrap_err();
    assert!(nav.contains("j is bound to both move and delete"), "{nav}");

    let typed = config("[keys]\ndelete = 5\n").unwrap_err();
    assert!(typed.contains("config.toml:2"), "{typed}");
    assert!(typed.contains("takes one key in quotes"), "{typed}");

    let fixed = config("[keys]\ncancel = \"C\"\n").unwrap_err();
    assert!(fixed.contains("cancel cannot be rebound"), "{fixed}");
}

/// The buffer of one frame, for checking colours.
fn frame_of(app: &keyward::app::App) -> ratatui::buffer::Buffer {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).unwrap();
    terminal.draw(|f| keyward::ui::draw(f, app)).unwrap();
    terminal.backend().buffer().clone()
}

/// The foreground colour of the first cell of `text` on screen.
fn fg_of(buffer: &ratatui::buffer::Buffer, text: &str) -> Option<ratatui::style::Color> {
    let cells = &buffer.content;
    let screen: String = cells.iter().map(|c| c.symbol().chars().next().unwrap_or(' ')).collect();
    let at = screen.find(text)?;
    // Every cell here holds one char, so the char index is the cell index.
    let index = screen[..at].chars().count();
    Some(cells[index].fg)
}

#[test]
fn theme_colours_roles_and_no_color_drops_every_colour() {
    use ratatui::style::{Color, Modifier};
    let cfg = config("[theme]\nerror = \"#ff0000\"\nhighlight = \"light-blue\"\n").unwrap();
    let mut app = app_with(
        pairs(),
        keyward::app::AppOptions {
            theme: cfg.theme,
            ..opts()
        },
    );
    app.error("something broke");
    let buffer = frame_of(&app);
    assert_eq!(fg_of(&buffer, "something broke"), Some(Color::Rgb(255, 0, 0)));
    assert_eq!(
        fg_of(&buffer, "1 API Gateway"),
        Some(Color::LightBlue),
        "the active tab"
    );

    let no_color = cfg
        .theme
        .honouring_no_color(&|k| (k == "NO_COLOR").then(|| "1".to_string()));
    let mut app = app_with(
        pairs(),
        keyward::app::AppOptions {
            theme: no_color,
            ..opts()
        },
    );
    app.error("something broke");
    let buffer = frame_of(&app);
    assert!(
        buffer
            .content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
        "NO_COLOR: no cell is coloured"
    );
    let tab = buffer.content.iter().find(|c| c.modifier.contains(Modifier::REVERSED));
    assert!(tab.is_some(), "the active tab stays reversed");
}

#[test]
fn theme_errors_name_the_line_and_the_fix() {
    let role = config("[theme]\nerror = \"red\"\nwarn = \"yellow\"\n").unwrap_err();
    assert!(role.contains("config.toml:3"), "{role}");
    assert!(role.contains("no role named \"warn\""), "{role}");
    assert!(role.contains("warning"), "{role}");
    let colour = config("[theme]\ndim = \"#12345\"\n").unwrap_err();
    assert!(colour.contains("config.toml:2"), "{colour}");
    assert!(colour.contains("#rrggbb"), "{colour}");
}

/// Twenty CVM key pairs, kp-01.. in name order, and the runtime over them drawn once.
async fn mouse_harness() -> Harness {
    let items: Vec<Item> = (1..=20)
        .map(|i| {
            item(
                ProviderKind::Cvm,
                "prod",
                "ap-guangzhou",
                &format!("kp-{i:02}"),
                &format!("web-{i:02}"),
            )
        })
        .collect();
    let cvm = Arc::new(MemoryProvider::new(ProviderKind::Cvm, "prod", "ap-guangzhou", items));
    let providers: Vec<Arc<dyn Provider>> = vec![cvm];
    let mut h = Harness::new(Runtime::new(providers, &RunOptions::default()), 120, 40);
    h.start();
    h.settle().await.unwrap();
    h.render();
    h
}

fn highlighted(h: &Harness) -> String {
    h.app()
        .tab()
        .highlighted()
        .map(|r| r.item.key.id.to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn clicking_a_tab_switches_to_it_and_a_row_moves_the_cursor() {
    use crossterm::event::MouseEventKind;
    let mut h = mouse_harness().await;
    let (x, y) = h.find("2 CVM key pairs").unwrap();
    h.click(x + 3, y);
    assert_eq!(h.app().active, 1, "the CVM tab");
    h.render();
    let (x, y) = h.find("kp-05").unwrap();
    h.click(x, y);
    assert_eq!(highlighted(&h), "kp-05");
    // The wheel over the table moves the cursor three rows a notch.
    h.mouse(MouseEventKind::ScrollDown, x, y);
    assert_eq!(highlighted(&h), "kp-08");
    h.mouse(MouseEventKind::ScrollUp, x, y);
    h.mouse(MouseEventKind::ScrollUp, x, y);
    assert_eq!(highlighted(&h), "kp-02");
    // A click on the header or a dialog's area does nothing while a dialog is open.
    h.press("?");
    h.render();
    h.click(x, y + 3);
    assert_eq!(highlighted(&h), "kp-02");
}

#[test]
fn the_wheel_over_the_log_scrolls_the_log_not_the_table() {
    use crossterm::event::{KeyModifiers, MouseEvent, MouseEventKind};
    let mut app = app_with(pairs(), opts());
    press(&mut app, "2");
    for i in 0..30 {
        app.log
            .push(entry(&format!("kp-{i}"), keyward::queue::Outcome::Ok, None, None));
    }
    render_text(&app, 120, 40);
    let log = app.hit_areas.get().log;
    assert!(log.height > 2, "the log pane is on screen");
    let wheel = |kind| {
        keyward::app::Msg::Mouse(MouseEvent {
            kind,
            column: log.x + 2,
            row: log.y + 1,
            modifiers: KeyModifiers::NONE,
        })
    };
    keyward::app::update(&mut app, wheel(MouseEventKind::ScrollUp));
    assert_eq!(app.log_scroll, 3, "three lines older");
    assert_eq!(app.tab().cursor(), 0, "the table stays");
    keyward::app::update(&mut app, wheel(MouseEventKind::ScrollDown));
    assert_eq!(app.log_scroll, 0);
}

#[test]
fn mouse_false_in_settings_turns_capture_off() {
    assert!(config("").unwrap().settings.mouse, "on by default");
    assert!(!config("[settings]\nmouse = false\n").unwrap().settings.mouse);
}

/// CVM pairs in prod and dev, in ap-guangzhou and na-ashburn, plus CAM keys in prod.
fn fleet_of_scopes() -> Vec<Item> {
    let mut items = Vec::new();
    for (account, region) in [("prod", "ap-guangzhou"), ("prod", "na-ashburn"), ("dev", "ap-shanghai")] {
        for i in 1..=2 {
            items.push(item(
                ProviderKind::Cvm,
                account,
                region,
                &format!("kp-{account}-{region}-{i}"),
                &format!("web-{i}"),
            ));
        }
    }
    items.push(item(ProviderKind::Cam, "prod", "global", "AKIDcam1", "ops"));
    items
}

fn shown_ids(app: &keyward::app::App) -> Vec<String> {
    (0..app.tab().view_len())
        .filter_map(|i| app.tab().view_item(i).map(|r| r.item.key.id.to_string()))
        .collect()
}

fn command(app: &mut keyward::app::App, line: &str) {
    press(app, ":");
    press(app, line);
    key(app, KeyCode::Enter);
}

#[test]
fn command_line_scopes_rows_by_account_and_region_and_switches_tabs() {
    let mut app = app_with(fleet_of_scopes(), opts());
    press(&mut app, "2");
    assert_eq!(shown_ids(&app).len(), 6);
    command(&mut app, "account prod");
    assert!(app.command_line.is_none(), "a command that ran closes the line");
    assert!(shown_ids(&app).iter().all(|id| id.starts_with("kp-prod-")));
    assert_eq!(shown_ids(&app).len(), 4);
    command(&mut app, "region ap-*");
    assert_eq!(shown_ids(&app).len(), 2);
    assert!(shown_ids(&app).iter().all(|id| id.starts_with("kp-prod-ap-guangzhou")));
    assert!(
        render_text(&app, 140, 30).contains("account prod · region ap-*"),
        "the header says the scope"
    );
    command(&mut app, "tab cam");
    assert_eq!(app.tab().kind, ProviderKind::Cam);
    command(&mut app, "provider cvm");
    assert_eq!(app.tab().kind, ProviderKind::Cvm);
    command(&mut app, "all");
    assert_eq!(shown_ids(&app).len(), 6);
}

#[test]
fn scoping_away_a_selected_row_unselects_it() {
    let mut app = app_with(fleet_of_scopes(), opts());
    press(&mut app, "2a");
    assert_eq!(app.tab().selected_count(), 6);
    command(&mut app, "account dev");
    assert_eq!(app.tab().selected_count(), 2, "only what is shown stays selected");
}

#[test]
fn unknown_commands_and_values_are_inline_errors() {
    let mut app = app_with(fleet_of_scopes(), opts());
    command(&mut app, "acount prod");
    let line = app.command_line.clone().expect("the line stays open");
    assert!(
        line.error
            .as_deref()
            .unwrap_or("")
            .contains("unknown command \"acount\"")
    );
    assert!(render_text(&app, 140, 30).contains("unknown command \"acount\""));
    key(&mut app, KeyCode::Esc);
    command(&mut app, "account staging");
    let e = app
        .command_line
        .as_ref()
        .and_then(|l| l.error.clone())
        .unwrap_or_default();
    assert!(
        e.contains("no configured account matches \"staging\"; accounts: prod, dev"),
        "{e}"
    );
    key(&mut app, KeyCode::Esc);
    command(&mut app, "tab ecs");
    let e = app
        .command_line
        .as_ref()
        .and_then(|l| l.error.clone())
        .unwrap_or_default();
    assert!(e.contains("not a provider"), "{e}");
}

#[test]
fn tab_completes_command_names_and_known_values() {
    let mut app = app_with(fleet_of_scopes(), opts());
    press(&mut app, ":acc");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.command_line.as_ref().unwrap().text, "account ");
    press(&mut app, "p");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.command_line.as_ref().unwrap().text, "account prod");
    key(&mut app, KeyCode::Esc);
    press(&mut app, ":region ");
    key(&mut app, KeyCode::Tab);
    let line = app.command_line.clone().unwrap();
    assert_eq!(line.text, "region ");
    assert_eq!(
        line.hint.as_deref(),
        Some("ap-guangzhou, na-ashburn, ap-shanghai, global")
    );
    press(&mut app, "ap-g");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.command_line.as_ref().unwrap().text, "region ap-guangzhou");
    key(&mut app, KeyCode::Esc);
    press(&mut app, ":ta");
    key(&mut app, KeyCode::Tab);
    press(&mut app, "c");
    key(&mut app, KeyCode::Tab);
    assert_eq!(app.command_line.as_ref().unwrap().text, "tab c");
    assert_eq!(app.command_line.as_ref().unwrap().hint.as_deref(), Some("cvm, cam"));
}

#[test]
fn scoping_flags_open_only_the_matching_sources_on_their_tab() {
    use keyward::app::scope::ScopeFilter;
    let by_scope = |account: &str, region: &str, kind: ProviderKind| -> Arc<dyn Provider> {
        Arc::new(MemoryProvider::new(kind, account, region, Vec::new()))
    };
    let providers = vec![
        by_scope("prod", "ap-guangzhou", ProviderKind::Cvm),
        by_scope("prod", "na-ashburn", ProviderKind::Cvm),
        by_scope("dev", "ap-guangzhou", ProviderKind::Cvm),
        by_scope("prod", "ap-guangzhou", ProviderKind::ApiGateway),
    ];
    let scope = ScopeFilter::from_flags(Some("prod"), Some("ap-*"), Some("cvm")).unwrap();
    let kept = keyward::launch::in_scope(providers.clone(), &scope).unwrap();
    let kept: Vec<String> = kept.iter().map(|p| p.scope().to_string()).collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].contains("prod") && kept[0].contains("ap-guangzhou"), "{kept:?}");

    let none = ScopeFilter::from_flags(Some("staging"), None, None).unwrap();
    let e = keyward::launch::in_scope(providers.clone(), &none)
        .err()
        .unwrap_or_default();
    assert!(e.contains("no configured source is in account staging"), "{e}");
    assert!(e.contains("configured accounts: prod, dev"), "{e}");

    let runtime = Runtime::new(
        keyward::launch::in_scope(providers, &scope).unwrap(),
        &RunOptions {
            scope,
            ..RunOptions::default()
        },
    );
    assert_eq!(runtime.app.tab().kind, ProviderKind::Cvm, "opens on the provider's tab");
    assert_eq!(runtime.app.sources.iter().count(), 1, "only that source is loaded");
}
