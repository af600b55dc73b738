//! The log pane: one line per executed item, newest at the bottom.

use super::theme::Role;
use crate::app::run::log_line;
use crate::app::{App, Focus};
use crate::queue::Outcome;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

pub fn log_pane(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.options.theme;
    let focused = app.focus == Focus::Log;
    let mut hits = app.hit_areas.get();
    hits.log = area;
    app.hit_areas.set(hits);
    // The window never scrolls past a full pane (`scroll::clamp`).
    let scrolled = crate::app::scroll::clamp(
        app.log_scroll,
        app.log.len(),
        usize::from(area.height.saturating_sub(2)),
    );
    let title = if scrolled > 0 {
        format!(
            " log: {} lines, {} newer below (G jumps to newest) ",
            app.log.len(),
            scrolled
        )
    } else {
        format!(" log: {} lines ", app.log.len())
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(if focused { t.fg(Role::Highlight) } else { Style::new() });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = usize::from(inner.height);
    app.log_rows.set(rows.max(1));
    let width = usize::from(inner.width.max(1));
    // Only the visible window is formatted, however long the log is: walk back from the
    // newest shown entry until the wrapped lines fill the pane.
    // Scrolled to the oldest lines, the pane is still full (`scroll::clamp`).
    let end = app
        .log
        .len()
        .saturating_sub(crate::app::scroll::clamp(app.log_scroll, app.log.len(), rows));
    let mut lines: Vec<Line> = Vec::new();
    let mut used = 0;
    for e in app.log[..end].iter().rev() {
        if used >= rows {
            break;
        }
        let text = crate::text::sanitize(&log_line(e)).into_owned();
        used += text.chars().count().div_ceil(width).max(1);
        let style = match e.outcome {
            Outcome::Failed { .. } | Outcome::Unknown { .. } => t.fg(Role::Error),
            Outcome::Kept { .. } | Outcome::NotSent => t.fg(Role::Warning),
            Outcome::DryRun => t.fg(Role::Info),
            Outcome::Ok => Style::new(),
        };
        lines.push(Line::styled(text, style));
    }
    lines.reverse();
    // Long lines wrap (error messages and hints must stay readable); show the bottom.
    let skip = used.saturating_sub(rows).min(usize::from(u16::MAX)) as u16;
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((skip, 0)),
        inner,
    );
}
