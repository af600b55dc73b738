//! Mouse handling: part of `update`, so pure. The wheel scrolls the table or the log pane
//! (whichever is under the pointer), a click on a row moves the cursor, a click on a tab
//! switches to it. Where things are comes from the last frame (`HitAreas`, a render cache
//! like `page_rows`); an open dialog, the filter input or the command line owns the input,
//! so the mouse does nothing then.

use super::{App, Focus, scroll};
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

/// Lines one wheel notch moves, as most terminals and TUIs scroll.
const WHEEL_LINES: isize = 3;

/// Where the last frame drew what the mouse can act on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HitAreas {
    /// Each tab's title as drawn (with its padding), in tab order; empty when off screen.
    pub tabs: [Rect; crate::inventory::ProviderKind::ALL.len()],
    /// The table's rows (below its header); row 0 is the view's first row shown.
    pub table_rows: Rect,
    /// The log pane, border included.
    pub log: Rect,
}

pub fn on_mouse(app: &mut App, event: MouseEvent) {
    if app.modal.is_some() || app.filter_input.is_some() || app.command_line.is_some() {
        return;
    }
    let areas = app.hit_areas.get();
    let at = Position::new(event.column, event.row);
    match event.kind {
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let down = event.kind == MouseEventKind::ScrollDown;
            if areas.log.contains(at) {
                let rows = app.log_rows.get().max(1);
                // The log scrolls up towards older lines.
                let by = if down { -WHEEL_LINES } else { WHEEL_LINES };
                app.log_scroll = scroll::by(app.log_scroll, by, app.log.len(), rows);
            } else if areas.table_rows.contains(at) {
                app.tab_mut().move_cursor(if down { WHEEL_LINES } else { -WHEEL_LINES });
            }
        }
        MouseEventKind::Down(MouseButton::Left) => {
            if let Some(i) = areas.tabs.iter().position(|r| r.contains(at)) {
                app.active = i;
                app.focus = Focus::Table;
            } else if areas.table_rows.contains(at) {
                let tab = app.tab_mut();
                let pos = tab.offset.get() + usize::from(at.y - areas.table_rows.y);
                // A click below the last row leaves the cursor where it is.
                if pos < tab.view_len() {
                    tab.cursor_to(pos);
                }
                app.focus = Focus::Table;
            }
        }
        _ => {}
    }
}
