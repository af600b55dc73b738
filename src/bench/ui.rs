//! Figure 3: the TUI with a large inventory loaded, no network: one full frame rendered
//! to a `TestBackend`, one filter keystroke through `app::update`, and resident memory.

use super::{BenchError, Figure, Sizes, Target, median, rss_bytes};
use crate::app::{self, App, AppOptions, LoadState, Msg, Source};
use crate::emulator::fake;
use crate::inventory::{Binding, Item, ProviderKind, Scope, Status};
use compact_str::CompactString;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::collections::HashSet;
use std::time::Instant;

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;
pub(super) const FRAME_TARGET_MS: f64 = 2.0;
const KEYSTROKE_TARGET_MS: f64 = 10.0;
const RSS_TARGET_MIB: f64 = 64.0;
const ACCOUNTS: [&str; 2] = ["tencent-prod", "tencent-staging"];
use super::list::REGIONS;
/// What the keystroke figure types, one char at a time, then erases: a service name that
/// the generated names contain, so each step narrows the view like a real search.
const QUERY: &str = "payments";
/// What the structured keystroke figure types and erases: three terms of the filter
/// language (a status, a time and a glob), so each keystroke parses a query and matches it
/// against every row; half-typed terms (`status:`) are errors that keep the view, as they
/// would for an operator.
const STRUCTURED_QUERY: &str = "status:enabled age>90d region:ap-*";

const MIB: f64 = 1024.0 * 1024.0;

/// API Gateway keys of one scope, shaped like the emulator's generated ones.
fn items(scope: &Scope, count: usize) -> Vec<Item> {
    let mut rng = fake::rng_for(&format!("bench-ui/{}/{}", scope.account, scope.region));
    let mut names = HashSet::new();
    (0..count)
        .map(|i| {
            let created = fake::past_time(&mut rng);
            let name = fake::unique_name(fake::api_key_name(&mut rng), '-', 60, &mut names);
            Item {
                key: scope.key(fake::api_key_id(&mut rng)),
                name: name.into(),
                status: if i % 5 == 0 { Status::Disabled } else { Status::Enabled },
                key_type: "auto".into(),
                description: CompactString::default(),
                created: Some(created),
                modified: Some(fake::later_time(&mut rng, created)),
                last_used: None,
                expires: None,
                bindings: if i % 10 == 0 {
                    vec![Binding::usage_plan(fake::usage_plan_id(&mut rng))]
                } else {
                    Vec::new()
                },
                signs_keyward: false,
                owner_active_keys: 0,
            }
        })
        .collect()
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// Median time of `frames` full frames to a `TestBackend`, scrolling one row per frame
/// so every frame has something new to show.
pub(super) fn frame_median(app: &mut App, frames: usize) -> Result<f64, BenchError> {
    let mut terminal = Terminal::new(TestBackend::new(WIDTH, HEIGHT))
        .map_err(|e| BenchError::Inconsistent(format!("cannot create the test terminal: {e}")))?;
    let mut samples = Vec::with_capacity(frames + 1);
    for _ in 0..=frames {
        app::update(app, key(KeyCode::Down));
        let start = Instant::now();
        terminal
            .draw(|f| crate::ui::draw(f, app))
            .map_err(|e| BenchError::Inconsistent(format!("drawing to the test terminal failed: {e}")))?;
        samples.push(ms_since(start));
    }
    // The first frame fills an empty buffer: not what a running TUI draws.
    samples.remove(0);
    Ok(median(&mut samples))
}

/// Type `query` into the open filter input one character at a time and erase it again,
/// until `at_least` keystrokes are timed; each keystroke's time, and the narrowest view the
/// full query gave. The view must narrow, and come back whole once erased.
fn type_and_erase(app: &mut App, query: &str, at_least: usize, total: usize) -> Result<(Vec<f64>, usize), BenchError> {
    let mut strokes = Vec::with_capacity(at_least);
    let mut narrowest = usize::MAX;
    let chars: Vec<char> = query.chars().collect();
    while strokes.len() < at_least {
        for &c in &chars {
            let start = Instant::now();
            app::update(app, key(KeyCode::Char(c)));
            strokes.push(ms_since(start));
        }
        narrowest = narrowest.min(app.tab().view_len());
        for _ in &chars {
            let start = Instant::now();
            app::update(app, key(KeyCode::Backspace));
            strokes.push(ms_since(start));
        }
    }
    if app.filter_input.is_none() || narrowest >= total {
        return Err(BenchError::Inconsistent(format!(
            "typing {query:?} did not narrow the view ({narrowest} of {total})"
        )));
    }
    if app.tab().view_len() != total {
        return Err(BenchError::Inconsistent(format!(
            "erasing the filter {query:?} shows {} of {total} items",
            app.tab().view_len()
        )));
    }
    Ok((strokes, narrowest))
}

pub fn measure(sizes: &Sizes) -> Result<Vec<Figure>, BenchError> {
    let sources: Vec<(&str, &str)> = ACCOUNTS
        .iter()
        .flat_map(|a| REGIONS.iter().map(move |r| (*a, *r)))
        .collect();
    let per_source = sizes.ui_items / sources.len();
    let total = per_source * sources.len();

    let rss_before = rss_bytes();
    let mut app = App::new(
        sources
            .iter()
            .map(|(account, region)| Source {
                scope: Scope::new(ProviderKind::ApiGateway, *account, *region),
                state: LoadState::Loading,
            })
            .collect(),
        AppOptions {
            title: "bench".to_string(),
            ..AppOptions::default()
        },
    );
    // The runtime sets the clock before each message; the ages drawn count to it.
    app.wall_clock = chrono::Utc::now();
    let listings: Vec<(Scope, Vec<Item>)> = sources
        .iter()
        .map(|(account, region)| {
            let scope = Scope::new(ProviderKind::ApiGateway, *account, *region);
            let listing = items(&scope, per_source);
            (scope, listing)
        })
        .collect();
    let rss_listed = rss_bytes();
    // One listing per source, as the runtime delivers them.
    let load_start = Instant::now();
    for (scope, listing) in listings {
        app::update(
            &mut app,
            Msg::Loaded {
                scope,
                result: Ok(listing),
            },
        );
    }
    let load_ms = ms_since(load_start);
    let rss_after = rss_bytes();
    if app.tab().len() != total {
        return Err(BenchError::Inconsistent(format!(
            "the app holds {} items after loading {total}",
            app.tab().len()
        )));
    }

    let frame_ms = frame_median(&mut app, sizes.ui_frames)?;

    app::update(&mut app, key(KeyCode::Char('/')));
    // Every keystroke below must reach the filter input, not the table's commands.
    if app.filter_input.is_none() || app.modal.is_some() {
        return Err(BenchError::Inconsistent(format!(
            "/ did not open the filter input (dialog open: {})",
            app.modal.is_some()
        )));
    }
    let (mut strokes, narrowest) = type_and_erase(&mut app, QUERY, sizes.ui_keystrokes, total)?;
    let worst = strokes.iter().copied().fold(0.0, f64::max);
    let keystroke_ms = median(&mut strokes);
    let (mut structured, structured_narrowest) =
        type_and_erase(&mut app, STRUCTURED_QUERY, sizes.ui_keystrokes, total)?;
    let structured_worst = structured.iter().copied().fold(0.0, f64::max);
    let structured_ms = median(&mut structured);

    let label = format!("ui with {total} items");
    let mut figures = vec![
        Figure::new(
            "ui.frame",
            format!("{label}: frame"),
            format!("median of {} full frames at {WIDTH}x{HEIGHT}", sizes.ui_frames),
        )
        .judged("median", frame_ms, " ms", Target::Below(FRAME_TARGET_MS))
        .with("items", total as f64),
        Figure::new(
            "ui.keystroke",
            format!("{label}: filter keystroke"),
            format!(
                "median of {} keystrokes typing and erasing {QUERY:?} (down to {narrowest} matches), worst {worst:.2} ms",
                strokes.len()
            ),
        )
        .judged("median", keystroke_ms, " ms", Target::Below(KEYSTROKE_TARGET_MS))
        .with("worst_ms", worst)
        .with("narrowest_view", narrowest as f64),
        Figure::new(
            "ui.keystroke_structured",
            format!("{label}: structured filter keystroke"),
            format!(
                "median of {} keystrokes typing and erasing {STRUCTURED_QUERY:?} (down to {structured_narrowest} matches), worst {structured_worst:.2} ms",
                structured.len()
            ),
        )
        .judged("median", structured_ms, " ms", Target::Below(KEYSTROKE_TARGET_MS))
        .with("worst_ms", structured_worst)
        .with("narrowest_view", structured_narrowest as f64),
    ];
    let rss = match (rss_before, rss_listed, rss_after) {
        (Some(before), Some(listed), Some(after)) => {
            let total_mib = after as f64 / MIB;
            let mib = |a: u64, b: u64| a.saturating_sub(b) as f64 / MIB;
            Figure::new(
                "ui.rss",
                format!("{label}: memory"),
                format!(
                    "resident {total_mib:.1} MiB after loading, {:.1} MiB more than before the items existed \
                     ({:.1} MiB as listed, {:.1} MiB more once loaded into the app)",
                    mib(after, before),
                    mib(listed, before),
                    mib(after, listed),
                ),
            )
            .judged("rss", total_mib, " MiB", Target::Below(RSS_TARGET_MIB))
            .with("before_mib", before as f64 / MIB)
            .with("listed_mib", listed as f64 / MIB)
            .with("loaded_mib", total_mib)
        }
        // Not Linux: no /proc/self/status; say so instead of inventing a number.
        _ => Figure::new(
            "ui.rss",
            format!("{label}: memory"),
            "VmRSS is not available on this system",
        )
        .info("rss", 0.0, " MiB"),
    };
    figures.push(rss.with("load_ms", load_ms).note(format!(
        "loading ({} listings of {per_source}, as the runtime delivers them) took {load_ms:.0} ms",
        sources.len()
    )));
    Ok(figures)
}
