//! Operator ergonomics (issue #16 parts 3, 4, 5, 8): copying ids, rebinding keys, the
//! theme and NO_COLOR, the mouse, scoping flags and the `:` command line.

use crate::support::app::*;
use crate::support::harness::Harness;
use crate::support::items::*;
use base64::Engine;
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
