//! Rendering only: every function here reads `App` and draws; none changes what the
//! app means (the only writes are render caches: scroll offset and page height).

mod dialogs;
mod log;
mod main_view;
pub mod theme;

use crate::app::{App, Focus};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};

/// Draw the whole screen for the current state.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let source_lines = main_view::source_lines(app);
    // On small screens the detail and log panes shrink first, so the table keeps rows.
    // A row with findings grows the pane by one line each, up to 4 more on tall screens.
    let wanted = main_view::detail_lines(app) + 2;
    let (detail_height, log_height) = match area.height {
        h if h >= 40 => (wanted.clamp(6, 10), 8),
        h if h >= 30 => (wanted.clamp(6, 8), 8),
        h if h >= 24 => (4, 5),
        _ => (3, 3),
    };
    let log_height = if app.focus == Focus::Log {
        (area.height / 2).max(6)
    } else {
        log_height
    };
    let gauge_height = u16::from(app.run.is_some());
    let [header, tabs, sources, table, detail, gauge, log, status, footer] = area.layout(&Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(source_lines.len() as u16),
        Constraint::Min(5),
        Constraint::Length(detail_height),
        Constraint::Length(gauge_height),
        Constraint::Length(log_height),
        Constraint::Length(1),
        Constraint::Length(1),
    ]));
    main_view::header(frame, header, app);
    main_view::tabs(frame, tabs, app);
    main_view::sources(frame, sources, source_lines);
    main_view::table(frame, table, app);
    main_view::detail(frame, detail, app);
    main_view::gauge(frame, gauge, app);
    log::log_pane(frame, log, app);
    main_view::status(frame, status, app);
    main_view::footer(frame, footer, app);
    dialogs::modal(frame, app);
}
