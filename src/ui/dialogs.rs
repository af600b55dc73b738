//! Modal dialogs: queue view + confirmation, rotation choice, secret and name entry,
//! the new-secret dialog, quit-during-run, the history overlay, help.

use super::theme::{Role, Theme};
use crate::app::App;
use crate::app::history::{HISTORY_KEYS, History};
use crate::app::keymap::KeyTable;
use crate::app::modal::failures::{FAILURES_KEYS, Failures, failure_groups};
use crate::app::modal::{
    Button, Confirm, Help, LineEntry, Modal, PlanLine, PlanLineKind, QUIT_KEYS, ROTATE_KEYS, RotationResult,
    help::HelpLine,
};
use crate::app::scroll;
use crate::audit::OutcomeKind;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};

pub fn modal(frame: &mut Frame, app: &App) {
    let t = &app.options.theme;
    let Some(modal) = &app.modal else {
        return;
    };
    match modal {
        Modal::Help(h) => help(frame, app, h),
        Modal::Confirm(c) => confirm(frame, app, c),
        Modal::Stage(_) => {
            let (keys, _) = app.tab().targets();
            let mut lines = vec![
                Line::from(format!(
                    "Add {} key(s) of {} to the queue as:",
                    keys.len(),
                    app.tab().kind.title()
                )),
                Line::from("Nothing is sent now: Q reviews the queue and confirms it all at once."),
                Line::from(""),
            ];
            lines.extend(choice_lines(t, &crate::app::modal::queue::STAGE_KEYS));
            small(frame, " add to the queue ", lines, t.fg(Role::Warning));
        }
        Modal::Queue(q) => queue_view(frame, app, q),
        Modal::RotateChoice(choice) => {
            let mut lines = vec![
                Line::from(format!("Rotate the secret of {} API key(s).", choice.targets.len())),
                Line::from("Every client of a rotated key stops working until it gets the new secret."),
                hidden_line(t, choice.hidden),
                Line::from(""),
            ];
            lines.extend(choice_lines(t, &ROTATE_KEYS));
            if let Some(e) = &choice.error {
                lines.push(Line::from(""));
                lines.push(Line::styled(e.clone(), t.fg(Role::Error)));
            }
            small(frame, " rotate ", lines, t.fg(Role::Warning));
        }
        Modal::SecretEntry(entry) => line_entry(
            t,
            frame,
            " custom secret ",
            &format!("Custom secret for {}", entry.target.id),
            entry,
        ),
        Modal::Rename(entry) => line_entry(
            t,
            frame,
            " rename ",
            &format!("New name for {}", entry.target.id),
            entry,
        ),
        Modal::RotationResult(result) => rotation_result(frame, app, result),
        Modal::History(h) => history(frame, app, h),
        Modal::Failures(f) => failures(frame, app, f),
        Modal::QuitDuringRun(_) => {
            let mut lines = vec![
                Line::from("A run is in progress."),
                Line::from(format!("{} cancels it and stays.", cancel_key(app))),
                Line::from(""),
            ];
            lines.extend(choice_lines(t, &QUIT_KEYS));
            small(frame, " quit? ", lines, t.fg(Role::Error));
        }
    }
}

/// The cancel key that works in the current state (see `app::keys`).
pub fn cancel_key(app: &App) -> &'static str {
    if app.typing() { "Ctrl-C" } else { "c" }
}

/// A dialog's keys as "  a  what it does" lines, from its key table.
fn choice_lines<C: Copy>(t: &Theme, table: &KeyTable<C>) -> Vec<Line<'static>> {
    table
        .bindings
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(format!("  {:<5}", KeyTable::keys_label(b)), t.fg(Role::Highlight)),
                Span::raw(format!("  {}", b.help)),
            ])
        })
        .collect()
}

/// A dialog's footer from its key table: "Enter continue · Esc cancel".
fn hints_line<C: Copy>(t: &Theme, table: &KeyTable<C>) -> Line<'static> {
    Line::styled(table.hints(|_| true), t.fg(Role::Dim))
}

fn line_entry(t: &Theme, frame: &mut Frame, title: &str, heading: &str, entry: &LineEntry) {
    let mut lines = vec![
        Line::from(heading.to_string()),
        Line::styled(entry.rule(), t.fg(Role::Dim)),
        Line::from(""),
        Line::from(format!("> {}█", tail(&crate::text::sanitize(&entry.shown()), 60))),
        Line::from(""),
        hints_line(t, &crate::app::modal::entry::ENTRY_KEYS),
    ];
    if let Some(e) = &entry.error {
        lines.push(Line::styled(e.clone(), t.fg(Role::Error)));
    }
    small(frame, title, lines, t.fg(Role::Warning));
}

/// The end of a long input, so the cursor stays in view.
pub fn tail(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        text.to_string()
    } else {
        format!("…{}", text.chars().skip(n - width + 1).collect::<String>())
    }
}

fn hidden_line(t: &Theme, hidden: usize) -> Line<'static> {
    if hidden > 0 {
        Line::styled(
            format!(
                "{hidden} of these {} hidden by the filter.",
                if hidden == 1 { "is" } else { "are" }
            ),
            t.fg(Role::Warning).add_modifier(Modifier::BOLD),
        )
    } else {
        Line::from("")
    }
}

fn small(frame: &mut Frame, title: &str, lines: Vec<Line>, border: Style) {
    sized(frame, title, lines, border, 70);
}

/// A centred box `percent` of the screen wide and as tall as its wrapped text.
fn sized(frame: &mut Frame, title: &str, lines: Vec<Line>, border: Style, percent: u16) {
    let width = (frame.area().width * percent / 100).max(40).min(frame.area().width);
    let height = (wrapped_height(&lines, width.saturating_sub(2)) + 2).min(frame.area().height);
    let area = frame
        .area()
        .centered(Constraint::Length(width), Constraint::Length(height));
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title.to_string())
        .border_style(border);
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

fn plan_line(t: &Theme, line: &PlanLine) -> Line<'static> {
    let style = match line.kind {
        PlanLineKind::Group | PlanLineKind::SkippedHeader => Style::new().add_modifier(Modifier::BOLD),
        PlanLineKind::Call => Style::new(),
        PlanLineKind::Warning | PlanLineKind::Skipped => t.fg(Role::Warning),
    };
    Line::styled(line.text.clone(), style)
}

fn confirm(frame: &mut Frame, app: &App, c: &Confirm) {
    let t = &app.options.theme;
    let area = frame
        .area()
        .centered(Constraint::Percentage(85), Constraint::Percentage(80));
    frame.render_widget(Clear, area);
    let typed = c.expected.is_some();
    let title = format!(
        " confirm: {} {} item(s) in {} call(s) ",
        c.verb(),
        c.plan.item_count(),
        c.plan.calls.len()
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(if typed { t.fg(Role::Error) } else { t.fg(Role::Warning) });
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut head = vec![Line::from(format!(
        "{} item(s) chosen; the plan below {} these calls:",
        c.targets,
        if c.dry_run {
            "would send (dry run: nothing is sent)"
        } else {
            "sends"
        }
    ))];
    if let Some(warning) = consequence(c) {
        head.push(Line::styled(warning, t.fg(Role::Error).add_modifier(Modifier::BOLD)));
    }
    if c.hidden > 0 {
        head.push(hidden_line(t, c.hidden));
    }
    for note in &c.notes {
        head.push(Line::styled(note.clone(), t.fg(Role::Warning)));
    }
    let mut gate = vec![Line::from("")];
    if let Some(expected) = &c.expected {
        gate.push(Line::from(vec![
            Span::raw("Type "),
            Span::styled(expected.clone(), Style::new().add_modifier(Modifier::BOLD)),
            Span::raw(" and press Enter to confirm · Esc cancels"),
        ]));
        gate.push(Line::from(format!("> {}█", tail(&c.typed, 60))));
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
            Span::styled(format!("{}   ", c.keys().hints(|_| true)), t.fg(Role::Dim)),
            button("Cancel", Button::Cancel),
            Span::raw("  "),
            button("Confirm", Button::Confirm),
        ]));
    }
    if let Some(e) = &c.error {
        gate.push(Line::styled(e.clone(), t.fg(Role::Error)));
    }

    let width = inner.width.max(1);
    let head_h = super::dialogs::wrapped_height(&head, width);
    let gate_h = super::dialogs::wrapped_height(&gate, width);
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
    frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: false }), head_area);
    app.page_rows.set(usize::from(list_h.max(1)));
    // The plan view was computed once when the dialog opened; long lines (warnings, skip
    // reasons) wrap instead of being cut, and only the window is drawn.
    let rows = usize::from(list_h);
    let width = usize::from(inner.width.max(8));
    let wrapped: Vec<Line> = c
        .lines
        .iter()
        .flat_map(|l| {
            let style = plan_line(t, l).style;
            wrap(&l.text, width).into_iter().map(move |t| Line::styled(t, style))
        })
        .collect();
    c.wrapped_len.set(wrapped.len());
    let scroll = scroll::clamp(c.scroll, wrapped.len(), rows);
    let more_below = scroll::max_offset(wrapped.len(), rows) > scroll;
    let mut shown: Vec<Line> = wrapped.into_iter().skip(scroll).take(rows).collect();
    if more_below {
        if let Some(last) = shown.last_mut() {
            *last = Line::styled("  … more below (Down/PgDn scrolls)", t.fg(Role::Dim));
        }
    }
    frame.render_widget(Paragraph::new(shown), list_area);
    frame.render_widget(Paragraph::new(gate).wrap(Wrap { trim: false }), gate_area);
}

/// `text` wrapped at word boundaries into lines of at most `width` columns (a word longer
/// than a line is cut); continuation lines are indented.
fn wrap(text: &str, width: usize) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    const INDENT: &str = "      ";
    if text.width() <= width {
        return vec![text.to_string()];
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_inclusive(' ') {
        if line.width() + word.trim_end().width() > width && !line.trim().is_empty() {
            lines.push(std::mem::take(&mut line).trim_end().to_string());
            line.push_str(INDENT);
        }
        line.push_str(word);
        // A single word wider than the line: cut it.
        while line.width() > width {
            let cut: String = line.chars().take(width).collect();
            let rest: String = line.chars().skip(width).collect();
            lines.push(cut);
            line = format!("{INDENT}{rest}");
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// What the operator must know before confirming, in words: one sentence per intent the
/// plan combines.
fn consequence(c: &Confirm) -> Option<String> {
    use crate::queue::Intent;
    let said: Vec<String> = c
        .parts
        .iter()
        .filter_map(|(intent, plan)| {
            let n = plan.item_count();
            match intent {
                Intent::Delete => Some(format!("Deleting cannot be undone: {n} item(s) will be gone for good.")),
                Intent::Rotate { .. } => Some(format!(
                    "Every client of the {n} key(s) stops working until it is given the new secret."
                )),
                Intent::Disable => Some(format!(
                    "Clients of the {n} key(s) are refused until they are enabled again."
                )),
                _ => None,
            }
        })
        .collect();
    (!said.is_empty()).then(|| said.join(" "))
}

/// `Q`: every staged key, grouped by intent, the highlighted one marked.
fn queue_view(frame: &mut Frame, app: &App, q: &crate::app::modal::QueueView) {
    let area = frame
        .area()
        .centered(Constraint::Percentage(85), Constraint::Percentage(80));
    let staged = app.staged.items();
    let title = format!(
        " queue: {} key(s), {} intent(s) · one confirmation runs it all ",
        staged.len(),
        app.staged.by_intent().len()
    );
    let keys = crate::app::modal::queue::QUEUE_KEYS.hints(|_| true);
    let t = &app.options.theme;
    let list = scrolling_overlay(t, frame, area, title, t.fg(Role::Warning), keys);
    let rows = usize::from(list.height).max(1);
    let offset = crate::app::scroll::follow(0, q.cursor, staged.len(), rows);
    let lines: Vec<Line> = staged
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows)
        .map(|(i, s)| {
            let text = format!(
                "{} {:<8} {} {}/{}  {} ({})",
                if i == q.cursor { ">" } else { " " },
                s.intent.verb(),
                s.key.scope.kind,
                s.key.scope.account,
                s.key.scope.region,
                s.key.id,
                crate::text::sanitize(&s.name)
            );
            if i == q.cursor {
                Line::styled(text, Style::new().add_modifier(Modifier::REVERSED))
            } else {
                Line::from(text)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
}

fn rotation_result(frame: &mut Frame, app: &App, result: &RotationResult) {
    let t = &app.options.theme;
    let area = frame
        .area()
        .centered(Constraint::Percentage(90), Constraint::Percentage(80));
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" new secrets: {} ", result.secrets.len()))
        .border_style(t.fg(Role::Ok));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [head_area, list_area, keys_area] = inner.layout(&ratatui::layout::Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(1),
        Constraint::Length(2),
    ]));
    // The revealed secret gets a line of its own, so a narrow screen never cuts it.
    let revealed = match result.showing.and_then(|i| result.secrets.get(i)) {
        Some(r) => Line::from(vec![
            Span::raw(format!("{}: ", crate::text::sanitize(&r.name))),
            Span::styled(r.secret.expose().to_string(), Style::new().add_modifier(Modifier::BOLD)),
        ]),
        None => Line::styled("v reveals the highlighted secret here", t.fg(Role::Dim)),
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from("Shown only now: once this dialog closes keyward forgets them."),
            revealed,
        ])
        .wrap(Wrap { trim: false }),
        head_area,
    );
    let rows = usize::from(list_area.height.max(1));
    app.page_rows.set(rows);
    let offset = scroll::follow(result.offset.get(), result.cursor, result.secrets.len(), rows);
    result.offset.set(offset);
    let lines: Vec<Line> = result
        .secrets
        .iter()
        .enumerate()
        .skip(offset)
        .take(rows)
        .map(|(i, r)| {
            let shown = if result.showing == Some(i) {
                "(shown above)"
            } else {
                r.secret.masked()
            };
            let marker = if i == result.cursor { "> " } else { "  " };
            let state = if r.kept {
                " kept"
            } else if r.revealed {
                " seen"
            } else {
                ""
            };
            let line = Line::from(format!(
                "{marker}{}  {}  {}  (RequestId {}){state}",
                crate::text::sanitize(&r.name),
                r.key.id,
                shown,
                r.request_id
            ));
            if i == result.cursor {
                line.style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list_area);
    let footer = if result.asking_to_forget {
        let n = result.unkept();
        vec![
            Line::styled(
                format!(
                    "{n} new secret{} not copied, revealed or written: forget {}? y/N",
                    if n == 1 { " was" } else { "s were" },
                    if n == 1 { "it" } else { "them" }
                ),
                t.fg(Role::Error).add_modifier(Modifier::BOLD),
            ),
            Line::from(""),
        ]
    } else {
        let mut hints = crate::app::modal::secrets::SECRETS_KEYS.hints(|_| true);
        if app.run.is_some() {
            hints = format!("{hints} · {} cancel run", cancel_key(app));
        }
        vec![Line::styled(hints, t.fg(Role::Dim))]
    };
    frame.render_widget(Paragraph::new(footer).wrap(Wrap { trim: false }), keys_area);
}

/// A cleared, bordered overlay at `area` with `keys` on its last line; returns the area
/// above it for the overlay's list (the history and the failed sources).
fn scrolling_overlay(t: &Theme, frame: &mut Frame, area: Rect, title: String, border: Style, keys: String) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::default().borders(Borders::ALL).title(title).border_style(border);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [list_area, keys_area] = inner.layout(&ratatui::layout::Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(1),
    ]));
    frame.render_widget(Paragraph::new(Line::styled(keys, t.fg(Role::Dim))), keys_area);
    list_area
}

/// Past item results, newest first; only the window is built, however long the list.
fn history(frame: &mut Frame, app: &App, h: &History) {
    let t = &app.options.theme;
    let n = h.lines.len();
    let area = frame
        .area()
        .centered(Constraint::Percentage(98), Constraint::Percentage(85));
    let skipped = match h.skipped {
        0 => String::new(),
        1 => "; 1 unreadable line skipped (keyward audit verify)".to_string(),
        k => format!("; {k} unreadable lines skipped (keyward audit verify)"),
    };
    let title = format!(
        " history: last {n} item result{}, newest first{skipped} ",
        if n == 1 { "" } else { "s" }
    );
    let keys = format!("{} · {}", crate::app::keymap::nav_hint(), HISTORY_KEYS.hints(|_| true));
    let list_area = scrolling_overlay(t, frame, area, title, t.fg(Role::Info), keys);
    if h.lines.is_empty() {
        frame.render_widget(
            Paragraph::new("No action has been recorded in the audit log yet."),
            list_area,
        );
        return;
    }
    // One row is the header.
    let fit = usize::from(list_area.height.saturating_sub(1));
    app.page_rows.set(fit.max(1));
    let scroll = scroll::clamp(h.scroll, h.lines.len(), fit);
    let or_dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".to_string());
    let rows: Vec<Row> = h.lines[scroll..]
        .iter()
        .take(fit)
        .map(|l| {
            let style = match l.result {
                OutcomeKind::Ok => Style::new(),
                OutcomeKind::DryRun => t.fg(Role::Info),
                OutcomeKind::Failed => t.fg(Role::Error),
                OutcomeKind::Kept | OutcomeKind::Unknown | OutcomeKind::NotSent => t.fg(Role::Warning),
            };
            Row::new(vec![
                Cell::from(l.time.format("%m-%d %H:%M:%S").to_string()),
                Cell::from(l.kind.clone()),
                Cell::from(format!("{}/{}", l.account, l.region)),
                Cell::from(l.action.clone()),
                // The id first: when the column is narrow, the name is what gets cut.
                Cell::from(match &l.name {
                    Some(name) => format!("{} ({})", l.id, crate::text::sanitize(name)),
                    None => l.id.clone(),
                }),
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
    // What was done to which key comes first; the RequestId (a 36-character UUID at
    // Tencent, what a support ticket needs) takes its full width only when there is room,
    // so action and target never collapse before it.
    let widths = [
        Constraint::Length(14),
        Constraint::Max(10),
        Constraint::Max(24),
        Constraint::Max(16),
        Constraint::Fill(1),
        Constraint::Length(8),
        Constraint::Max(36),
        Constraint::Length(24),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), list_area);
}

/// The failed sources of the overlay's tab, one paragraph per error code ("code × n (hint):
/// account/region, …"), wrapped to the box; only the rows in view are drawn.
fn failures(frame: &mut Frame, app: &App, f: &Failures) {
    let t = &app.options.theme;
    let counts = app.sources.counts(f.kind);
    let area = frame
        .area()
        .centered(Constraint::Percentage(90), Constraint::Percentage(85));
    let title = format!(
        " {}: {} of {} sources failed, by error code ",
        f.kind, counts.failed, counts.total
    );
    let keys = format!(
        "{} · {} · each error is in full in the log pane",
        crate::app::keymap::nav_hint(),
        FAILURES_KEYS.hints(|_| true)
    );
    let list_area = scrolling_overlay(t, frame, area, title, t.fg(Role::Error), keys);
    let width = usize::from(list_area.width.max(1));
    let mut rows: Vec<Line> = Vec::new();
    for group in failure_groups(&app.sources, f.kind) {
        let why = group.hint.clone().unwrap_or(group.message.clone());
        let text = crate::text::sanitize(&format!(
            "{} × {} ({why}): {}",
            group.code,
            group.scopes.len(),
            group.scopes.join(", ")
        ))
        .into_owned();
        for (i, row) in wrap(&text, width).into_iter().enumerate() {
            rows.push(if i == 0 {
                Line::styled(row, t.fg(Role::Error))
            } else {
                Line::from(row)
            });
        }
    }
    if rows.is_empty() {
        rows.push(Line::from("No source of this tab has failed (any more)."));
    }
    let fit = usize::from(list_area.height.max(1));
    app.page_rows.set(fit);
    f.rows.set(rows.len());
    let scroll = scroll::clamp(f.scroll, rows.len(), fit);
    let shown: Vec<Line> = rows.into_iter().skip(scroll).take(fit).collect();
    frame.render_widget(Paragraph::new(shown), list_area);
}

fn help(frame: &mut Frame, app: &App, h: &Help) {
    let t = &app.options.theme;
    let area = frame
        .area()
        .centered(Constraint::Percentage(90), Constraint::Percentage(90));
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" keys (j k PgUp PgDn scroll · Esc/?/q close) ")
        .border_style(t.fg(Role::Info));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = h
        .lines
        .iter()
        .map(|l| match l {
            HelpLine::Key { keys, .. } => keys.chars().count(),
            _ => 0,
        })
        .max()
        .unwrap_or(10)
        .min(24);
    let rows = usize::from(inner.height.max(1));
    app.page_rows.set(rows);
    let scroll = scroll::clamp(h.scroll, h.lines.len(), rows);
    let lines: Vec<Line> = h
        .lines
        .iter()
        .skip(scroll)
        .take(rows)
        .map(|l| match l {
            HelpLine::Heading(h) => Line::styled(h.to_string(), Style::new().add_modifier(Modifier::BOLD)),
            HelpLine::Key { keys, help } => Line::from(vec![
                Span::styled(format!("{keys:>width$}"), t.fg(Role::Highlight)),
                Span::raw(format!("  {help}")),
            ]),
            HelpLine::Text(text) => Line::styled(text.to_string(), t.fg(Role::Dim)),
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
