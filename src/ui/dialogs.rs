//! Modal dialogs: queue view + confirmation, rotation choice, secret and name entry,
//! the new-secret dialog, quit-during-run, the history overlay, help.

use super::help::KEYS;
use crate::app::App;
use crate::app::history::History;
use crate::app::modal::{Button, Confirm, Modal, NAME_RULE, PlanLine, PlanLineKind, RotationResult, SECRET_RULE};
use crate::audit::OutcomeKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

pub fn modal(frame: &mut Frame, app: &App) {
    let Some(modal) = &app.modal else {
        return;
    };
    match modal {
        Modal::Help => help(frame),
        Modal::Confirm(c) => confirm(frame, c),
        Modal::RotateChoice(choice) => {
            let mut lines = vec![
                Line::from(format!("Rotate the secret of {} API key(s).", choice.targets.len())),
                hidden_line(choice.hidden),
                Line::from(""),
                Line::from("  a  let the service generate a new secret"),
                Line::from("  c  type a custom secret (one key only)"),
                Line::from("  Esc  cancel"),
            ];
            if let Some(e) = &choice.error {
                lines.push(Line::from(""));
                lines.push(Line::styled(e.clone(), Style::new().fg(Color::Red)));
            }
            small(frame, " rotate ", lines, Color::Yellow);
        }
        Modal::SecretEntry(entry) => {
            let mut lines = vec![
                Line::from(format!("Custom secret for {}", entry.target.id)),
                Line::styled(SECRET_RULE, Style::new().fg(Color::DarkGray)),
                Line::from(""),
                Line::from(format!("> {}█", "*".repeat(entry.input.char_count()))),
                Line::from(""),
                Line::styled("Enter continue · Esc cancel", Style::new().fg(Color::DarkGray)),
            ];
            if let Some(e) = &entry.error {
                lines.push(Line::styled(e.clone(), Style::new().fg(Color::Red)));
            }
            small(frame, " custom secret ", lines, Color::Yellow);
        }
        Modal::Rename(entry) => {
            let mut lines = vec![
                Line::from(format!("New name for key pair {}", entry.target.id)),
                Line::styled(NAME_RULE, Style::new().fg(Color::DarkGray)),
                Line::from(""),
                Line::from(format!("> {}█", entry.input)),
                Line::from(""),
                Line::styled("Enter continue · Esc cancel", Style::new().fg(Color::DarkGray)),
            ];
            if let Some(e) = &entry.error {
                lines.push(Line::styled(e.clone(), Style::new().fg(Color::Red)));
            }
            small(frame, " rename ", lines, Color::Yellow);
        }
        Modal::RotationResult(result) => rotation_result(frame, result),
        Modal::History(h) => history(frame, h),
        Modal::QuitDuringRun => {
            let lines = vec![
                Line::from("A run is in progress."),
                Line::from(""),
                Line::from("  c    cancel the run (unsent calls stay unsent) and stay"),
                Line::from("  y    cancel the run and quit"),
                Line::from("  Esc  keep running"),
            ];
            small(frame, " quit? ", lines, Color::Red);
        }
    }
}

fn hidden_line(hidden: usize) -> Line<'static> {
    if hidden > 0 {
        Line::styled(
            format!("{hidden} of these are hidden by the filter."),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        )
    } else {
        Line::from("")
    }
}

fn small(frame: &mut Frame, title: &str, lines: Vec<Line>, color: Color) {
    sized(frame, title, lines, color, 70);
}

/// A centred box `percent` of the screen wide and as tall as its wrapped text.
fn sized(frame: &mut Frame, title: &str, lines: Vec<Line>, color: Color, percent: u16) {
    let width = (frame.area().width * percent / 100).max(40).min(frame.area().width);
    let height = (wrapped_height(&lines, width.saturating_sub(2)) + 2).min(frame.area().height);
    let area = frame
        .area()
        .centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title.to_string())
        .border_style(Style::new().fg(color));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), area);
}

/// Rows `lines` take when wrapped at `width` columns (word wrap can take a little more;
/// one spare row per long line covers it).
pub fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    let width = usize::from(width.max(1));
    lines
        .iter()
        .map(|l| {
            let w = l.width();
            if w <= width { 1 } else { w.div_ceil(width) + 1 }
        })
        .sum::<usize>()
        .min(usize::from(u16::MAX)) as u16
}

fn plan_line(line: &PlanLine) -> Line<'static> {
    let style = match line.kind {
        PlanLineKind::Group | PlanLineKind::SkippedHeader => Style::new().add_modifier(Modifier::BOLD),
        PlanLineKind::Call => Style::new(),
        PlanLineKind::Warning | PlanLineKind::Skipped => Style::new().fg(Color::Yellow),
    };
    Line::styled(line.text.clone(), style)
}

fn confirm(frame: &mut Frame, c: &Confirm) {
    let area = frame
        .area()
        .centered(Constraint::Percentage(85), Constraint::Percentage(80));
    frame.render_widget(Clear, area);
    let destructive = c.expected.is_some();
    let title = format!(
        " confirm: {} {} item(s) in {} call(s) ",
        c.intent.verb(),
        c.plan.item_count(),
        c.plan.calls.len()
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(Style::new().fg(if destructive { Color::Red } else { Color::Yellow }));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut head = vec![Line::from(format!(
        "{} item(s) chosen; the plan below sends these calls:",
        c.targets
    ))];
    if c.hidden > 0 {
        head.push(hidden_line(c.hidden));
    }
    let mut gate = vec![Line::from("")];
    if let Some(expected) = &c.expected {
        gate.push(Line::from(vec![
            Span::raw("Type "),
            Span::styled(expected.clone(), Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(" and press Enter to confirm · Esc cancels"),
        ]));
        gate.push(Line::from(format!("> {}█", c.typed)));
    } else {
        let button = |label: &str, b: Button| {
            let style = if c.focus == b {
                Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
            } else {
                Style::new()
            };
            // The marker makes the focus visible without colour too.
            let text = if c.focus == b {
                format!("[> {label} <]")
            } else {
                format!("[  {label}  ]")
            };
            Span::styled(text, style)
        };
        gate.push(Line::from(vec![
            Span::raw("y confirms · n/Esc cancels · Tab moves · Enter presses   "),
            button("Cancel", Button::Cancel),
            Span::raw("  "),
            button("Confirm", Button::Confirm),
        ]));
    }
    if let Some(e) = &c.error {
        gate.push(Line::styled(e.clone(), Style::new().fg(Color::Red)));
    }

    let head_h = head.len() as u16;
    let gate_h = gate.len() as u16;
    let list_h = inner.height.saturating_sub(head_h + gate_h);
    let head_area = Rect {
        height: head_h.min(inner.height),
        ..inner
    };
    let list_area = Rect {
        y: inner.y + head_h.min(inner.height),
        height: list_h,
        ..inner
    };
    let gate_area = Rect {
        y: list_area.y + list_h,
        height: gate_h.min(inner.height.saturating_sub(head_h + list_h)),
        ..inner
    };
    frame.render_widget(Paragraph::new(head), head_area);
    // The plan view was computed once when the dialog opened; only the window is drawn.
    let max_scroll = c.lines.len().saturating_sub(list_h as usize);
    let scroll = c.scroll.min(max_scroll);
    let mut shown: Vec<Line> = c
        .lines
        .iter()
        .skip(scroll)
        .take(list_h as usize)
        .map(plan_line)
        .collect();
    if max_scroll > scroll {
        if let Some(last) = shown.last_mut() {
            *last = Line::styled("  … more below (Down/PgDn scrolls)", Style::new().fg(Color::DarkGray));
        }
    }
    frame.render_widget(Paragraph::new(shown), list_area);
    frame.render_widget(Paragraph::new(gate), gate_area);
}

fn rotation_result(frame: &mut Frame, result: &RotationResult) {
    let mut lines = vec![
        Line::from("New secret(s). Shown only now: once this dialog closes keyward forgets them."),
        Line::from(""),
    ];
    for (i, r) in result.secrets.iter().enumerate() {
        let shown = if result.revealed {
            r.secret.expose().to_string()
        } else {
            r.secret.masked().to_string()
        };
        let marker = if i == result.cursor { "> " } else { "  " };
        lines.push(Line::from(format!(
            "{marker}{}  {}  (RequestId {})",
            r.key.id, shown, r.request_id
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::styled(
        format!(
            "v {} · c copy (OSC 52) · Esc close and forget",
            if result.revealed { "hide" } else { "reveal" }
        ),
        Style::new().fg(Color::DarkGray),
    ));
    small(frame, " rotation done ", lines, Color::Green);
}

/// Past item results, newest first; only the window is built, however long the list.
fn history(frame: &mut Frame, h: &History) {
    let area = frame
        .area()
        .centered(Constraint::Percentage(98), Constraint::Percentage(85));
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" history: last {} item results, newest first ", h.lines.len()))
        .border_style(Style::new().fg(Color::Cyan));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [list_area, keys_area] = inner.layout(&ratatui::layout::Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
    ]));
    frame.render_widget(
        Paragraph::new(Line::styled(
            "j k PgUp PgDn g G scroll · Esc/H close",
            Style::new().fg(Color::DarkGray),
        )),
        keys_area,
    );
    if h.lines.is_empty() {
        frame.render_widget(
            Paragraph::new("No action has been recorded in the audit log yet."),
            list_area,
        );
        return;
    }
    // One row is the header.
    let fit = usize::from(list_area.height.saturating_sub(1));
    let scroll = h.scroll.min(h.lines.len().saturating_sub(1));
    let or_dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".to_string());
    let rows: Vec<Row> = h.lines[scroll..]
        .iter()
        .take(fit)
        .map(|l| {
            let style = match l.result {
                OutcomeKind::Ok => Style::new(),
                OutcomeKind::DryRun => Style::new().fg(Color::Cyan),
                OutcomeKind::Failed => Style::new().fg(Color::Red),
                OutcomeKind::Kept | OutcomeKind::Unknown | OutcomeKind::NotSent => Style::new().fg(Color::Yellow),
            };
            Row::new(vec![
                Cell::from(l.time.format("%m-%d %H:%M:%S").to_string()),
                Cell::from(l.kind.clone()),
                Cell::from(format!("{}/{}", l.account, l.region)),
                Cell::from(l.action.clone()),
                Cell::from(l.id.clone()),
                Cell::from(l.result.word()),
                Cell::from(or_dash(&l.request_id)),
                Cell::from(or_dash(&l.code)),
            ])
            .style(style)
        })
        .collect();
    let header = Row::new(vec![
        "time (UTC)",
        "provider",
        "account/region",
        "action",
        "id",
        "result",
        "RequestId",
        "error code",
    ])
    .style(Style::new().add_modifier(Modifier::BOLD));
    // A RequestId (a 36-character UUID at Tencent) is what a support ticket needs: it
    // keeps its full width, the free columns share the rest.
    let widths = [
        Constraint::Length(14),
        Constraint::Length(10),
        Constraint::Fill(2),
        Constraint::Fill(2),
        Constraint::Fill(2),
        Constraint::Length(8),
        Constraint::Length(36),
        Constraint::Fill(3),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), list_area);
}

fn help(frame: &mut Frame) {
    let width = KEYS.iter().map(|(k, _)| k.len()).max().unwrap_or(10);
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{k:>width$}"), Style::new().fg(Color::Yellow)),
                Span::raw(format!("  {what}")),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::styled(
        "any key closes this help",
        Style::new().fg(Color::DarkGray),
    ));
    sized(frame, " keys ", lines, Color::Cyan, 90);
}
