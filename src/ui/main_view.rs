//! Header, tabs, loading lines, the item table, the detail pane, the run gauge,
//! the status line and the key hints.

use crate::app::{App, FlashLevel, Focus, LoadState, keymap};
use crate::providers::capabilities;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Gauge, Paragraph, Row, Table, TableState, Tabs};

/// At most this many loading/failure lines above the table.
const MAX_SOURCE_LINES: usize = 4;

pub fn header(frame: &mut Frame, area: Rect, app: &App) {
    let mut spans = vec![
        Span::styled(" keyward ", Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(format!("· {} ", app.options.title)),
    ];
    if app.options.dry_run {
        spans.push(Span::styled(" DRY RUN ", Style::new().fg(Color::Black).bg(Color::Cyan)));
        spans.push(Span::raw(" "));
    }
    if app.options.read_only {
        spans.push(Span::styled(
            " READ-ONLY ",
            Style::new().fg(Color::Black).bg(Color::Yellow),
        ));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::raw("· ? help"));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn tabs(frame: &mut Frame, area: Rect, app: &App) {
    let titles = app.tabs.iter().enumerate().map(|(i, tab)| {
        let count = if app.loading_count(tab.kind) > 0 && tab.is_empty() {
            "…".to_string()
        } else {
            tab.len().to_string()
        };
        format!("{} {} ({count})", i + 1, tab.kind.title())
    });
    let tabs = Tabs::new(titles)
        .select(app.active)
        .highlight_style(
            Style::new()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        )
        .divider(" │ ");
    frame.render_widget(tabs, area);
}

/// Loading progress per account and every failed (account, region) of the active tab.
pub fn source_lines(app: &App) -> Vec<Line<'static>> {
    let kind = app.tab().kind;
    let sources: Vec<_> = app.sources.iter().filter(|s| s.scope.kind == kind).collect();
    if sources.is_empty() {
        return vec![Line::styled(
            format!("{kind}: no account configured for {}", kind.title()),
            Style::new().fg(Color::DarkGray),
        )];
    }
    let mut accounts: Vec<&str> = Vec::new();
    for s in &sources {
        if !accounts.contains(&s.scope.account.as_str()) {
            accounts.push(&s.scope.account);
        }
    }
    let mut lines = Vec::new();
    for account in accounts {
        let of_account: Vec<_> = sources.iter().filter(|s| s.scope.account == account).collect();
        let done = of_account.iter().filter(|s| s.state != LoadState::Loading).count();
        if let Some(pending) = of_account.iter().find(|s| s.state == LoadState::Loading) {
            lines.push(Line::styled(
                format!(
                    "{kind} {account}/{} loading… {done}/{} regions",
                    pending.scope.region,
                    of_account.len()
                ),
                Style::new().fg(Color::Cyan),
            ));
        }
    }
    let failures: Vec<_> = sources
        .iter()
        .filter_map(|s| match &s.state {
            LoadState::Failed(e) => Some((s, e)),
            _ => None,
        })
        .collect();
    for (s, e) in &failures {
        // Code and RequestId first: the message is the part that may be cut at the edge.
        let rid = e
            .request_id
            .as_deref()
            .map(|r| format!(" (RequestId {r})"))
            .unwrap_or_default();
        // The advice comes before the service's message, which is the longest part.
        let hint = crate::hints::for_error(e)
            .map(|h| format!(" · {h}"))
            .unwrap_or_default();
        lines.push(Line::styled(
            format!("{} failed: {}{rid}{hint}: {}", s.scope, e.code, e.message),
            Style::new().fg(Color::Red),
        ));
    }
    if lines.len() > MAX_SOURCE_LINES {
        let more = lines.len() - (MAX_SOURCE_LINES - 1);
        lines.truncate(MAX_SOURCE_LINES - 1);
        lines.push(Line::styled(format!("… and {more} more"), Style::new().fg(Color::Red)));
    }
    lines
}

pub fn sources(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    frame.render_widget(Paragraph::new(lines), area);
}

pub fn table(frame: &mut Frame, area: Rect, app: &App) {
    let tab = app.tab();
    let (column, descending) = tab.sort();
    let mut title = format!(" {}: {} items", tab.kind.title(), tab.len());
    if !tab.filter().is_empty() {
        title.push_str(&format!(" · {} match \"{}\"", tab.view_len(), tab.filter()));
    }
    title.push_str(&format!(
        " · sort {} {} ",
        column.title(),
        if descending { "▼" } else { "▲" }
    ));
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let rows_fit = (inner.height as usize).saturating_sub(1).max(1);
    app.page_rows.set(rows_fit);
    if tab.view_len() == 0 {
        let text = if app.loading_count(tab.kind) > 0 {
            "loading…"
        } else if tab.is_empty() {
            "no items"
        } else {
            "no item matches the filter (Esc clears it)"
        };
        frame.render_widget(Paragraph::new(text).style(Style::new().fg(Color::DarkGray)), inner);
        return;
    }

    // Keep the cursor visible, moving the window as little as possible.
    let cursor = tab.cursor();
    let mut offset = tab.offset.get();
    if cursor < offset {
        offset = cursor;
    } else if cursor >= offset + rows_fit {
        offset = cursor + 1 - rows_fit;
    }
    offset = offset.min(tab.view_len().saturating_sub(rows_fit));
    tab.offset.set(offset);

    // Only the visible rows are built.
    let end = (offset + rows_fit).min(tab.view_len());
    let rows: Vec<Row> = (offset..end)
        .filter_map(|pos| tab.view_item(pos))
        .map(|item| {
            let mark = if tab.is_selected(&item.key) { "●" } else { " " };
            Row::new(vec![
                Cell::from(mark),
                Cell::from(item.name.as_str()),
                Cell::from(item.key.id.as_str()),
                Cell::from(item.key.scope.account.as_str()),
                Cell::from(item.key.scope.region.as_str()),
                Cell::from(item.status.label()),
                Cell::from(item.key_type.as_str()),
                Cell::from(item.created.as_str()),
                Cell::from(item.bindings_text()),
            ])
        })
        .collect();
    let header = Row::new(
        std::iter::once(" ".to_string())
            .chain(crate::app::table::Column::ALL.iter().map(|c| {
                if *c == column {
                    format!("{}{}", c.title(), if descending { "▼" } else { "▲" })
                } else {
                    c.title().to_string()
                }
            }))
            .collect::<Vec<_>>(),
    )
    .style(Style::new().add_modifier(Modifier::BOLD));
    let widths = [
        Constraint::Length(1),
        Constraint::Fill(3),
        Constraint::Fill(3),
        Constraint::Max(10),
        Constraint::Max(14),
        Constraint::Length(8),
        Constraint::Max(11),
        Constraint::Length(20),
        Constraint::Fill(2),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .highlight_symbol("> ");
    let mut state = TableState::default().with_selected(Some(cursor - offset));
    frame.render_stateful_widget(table, inner, &mut state);
}

pub fn detail(frame: &mut Frame, area: Rect, app: &App) {
    let block = Block::default().borders(Borders::ALL).title(" detail ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(item) = app.tab().highlighted() else {
        return;
    };
    let or_dash = |s: &str| if s.is_empty() { "-".to_string() } else { s.to_string() };
    let lines = vec![
        Line::from(format!(
            "name {}   id {}   status {}   type {}",
            item.name,
            item.key.id,
            item.status.label(),
            or_dash(&item.key_type)
        )),
        Line::from(format!(
            "account {}   region {}   created {}   modified {}",
            item.key.scope.account,
            item.key.scope.region,
            or_dash(&item.created),
            or_dash(&item.modified)
        )),
        Line::from(format!("bindings {}", or_dash(&item.bindings_text()))),
        Line::from(format!("description {}", or_dash(&item.description))),
    ];
    frame.render_widget(Paragraph::new(lines), inner);
}

pub fn gauge(frame: &mut Frame, area: Rect, app: &App) {
    let Some(run) = &app.run else {
        return;
    };
    let label = if run.cancelling {
        format!(
            "{}: cancelling… {}/{} calls done",
            run.verb, run.done_calls, run.total_calls
        )
    } else {
        format!(
            "{}{}: {}/{} calls, {}/{} items (c cancels)",
            if run.dry_run { "DRY RUN " } else { "" },
            run.verb,
            run.done_calls,
            run.total_calls,
            run.items_done,
            run.total_items
        )
    };
    let gauge = Gauge::default()
        .gauge_style(Style::new().fg(Color::Green))
        .ratio(run.ratio())
        .label(label);
    frame.render_widget(gauge, area);
}

pub fn status(frame: &mut Frame, area: Rect, app: &App) {
    let tab = app.tab();
    let mut spans = vec![Span::styled(
        format!("{} selected", tab.selected_count()),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if tab.hidden_selected() > 0 {
        spans.push(Span::styled(
            format!(" ({} hidden by the filter)", tab.hidden_selected()),
            Style::new().fg(Color::Yellow),
        ));
    }
    if let Some(flash) = &app.flash {
        let style = match flash.level {
            FlashLevel::Info => Style::new().fg(Color::Green),
            FlashLevel::Error => Style::new().fg(Color::Red),
        };
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(flash.text.clone(), style));
    } else if let Some(summary) = &app.last_run {
        // The last run's result stays until the next action.
        let style = if summary.needs_attention() {
            Style::new().fg(Color::Red)
        } else {
            Style::new().fg(Color::Green)
        };
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(summary.text(), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The key hints for the current state, from the key tables: only keys that work here
/// (the active tab's capabilities, read-only mode, a run in progress, the focused pane).
pub fn footer(frame: &mut Frame, area: Rect, app: &App) {
    let dim = Style::new().fg(Color::DarkGray);
    let line = if let Some(text) = &app.filter_input {
        Line::from(vec![
            Span::styled("/", Style::new().fg(Color::Yellow)),
            Span::raw(super::dialogs::tail(
                &crate::text::for_display(text),
                usize::from(area.width / 2).max(10),
            )),
            Span::styled("█", Style::new().fg(Color::Yellow)),
            Span::styled(format!("   {}", keymap::FILTER_KEYS.hints(|_| true)), dim),
        ])
    } else {
        let running = app.run.is_some();
        let mut hints = if app.focus == Focus::Log {
            keymap::LOG_KEYS.hints(|_| true)
        } else {
            let caps = capabilities(app.tab().kind);
            keymap::TABLE_KEYS.hints(|c| match c.operation() {
                Some(op) => !app.options.read_only && !running && caps.supports(op),
                None => true,
            })
        };
        if running {
            hints = format!("c cancel run · {hints}");
        } else if app.options.read_only {
            hints = format!("read-only: {hints}");
        }
        Line::styled(hints, dim)
    };
    frame.render_widget(Paragraph::new(line), area);
}
