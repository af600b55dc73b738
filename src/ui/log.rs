//! The log pane: one line per executed item, newest at the bottom.

use crate::app::run::log_line;
use crate::app::{App, Focus};
use crate::queue::Outcome;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};

pub fn log_pane(frame: &mut Frame, area: Rect, app: &App) {
    let focused = app.focus == Focus::Log;
    let title = if app.log_scroll > 0 {
        format!(
            " log: {} lines, {} newer below (G jumps to newest) ",
            app.log.len(),
            app.log_scroll
        )
    } else {
        format!(" log: {} lines ", app.log.len())
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(if focused {
            Style::new().fg(Color::Yellow)
        } else {
            Style::new()
        });
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = inner.height as usize;
    // Only the visible window is formatted, however long the log is.
    let end = app.log.len().saturating_sub(app.log_scroll);
    let start = end.saturating_sub(rows);
    let lines: Vec<Line> = app.log[start..end]
        .iter()
        .map(|e| {
            let style = match e.outcome {
                Outcome::Failed { .. } => Style::new().fg(Color::Red),
                Outcome::Kept { .. } | Outcome::NotSent => Style::new().fg(Color::Yellow),
                Outcome::DryRun => Style::new().fg(Color::Cyan),
                Outcome::Ok => Style::new(),
            };
            Line::styled(log_line(e), style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
