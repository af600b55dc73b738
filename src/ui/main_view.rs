//! Header, tabs, loading lines, the item table, the detail pane, the run gauge,
//! the status line and the key hints.

use super::theme::Role;
use crate::app::table::Column;
use crate::app::{App, FlashLevel, Focus, keymap};
use crate::inventory::Item;
use crate::providers::capabilities;
use crate::times::{self, Timestamp};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Gauge, Paragraph, Row, Table, TableState, Tabs};

pub fn header(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.options.theme;
    let mut spans = vec![
        Span::styled(" keyward ", Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(format!("· {} ", app.options.title)),
    ];
    if app.options.dry_run {
        spans.push(Span::styled(" DRY RUN ", t.badge(Role::Info)));
        spans.push(Span::raw(" "));
    }
    if app.options.read_only {
        spans.push(Span::styled(" READ-ONLY ", t.badge(Role::Warning)));
        spans.push(Span::raw(" "));
    }
    let scope = app.scope.describe();
    if !scope.is_empty() {
        // What `:account`/`:region` or the flags narrowed the view to (`:all` widens it).
        spans.push(Span::styled(format!(" {scope} "), t.badge(Role::Info)));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::raw("· ? help"));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

pub fn tabs(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.options.theme;
    let titles: Vec<String> = app
        .tabs
        .iter()
        .enumerate()
        .map(|(i, tab)| {
            let c = app.sources.counts(tab.kind);
            let (total, loading, failed) = (c.total, c.loading, c.failed);
            let count = if loading > 0 && tab.is_empty() {
                "…".to_string()
            } else if failed > 0 && failed == total && tab.is_empty() {
                // Not "(0)": nothing could be listed, which is not the same as no keys.
                "failed".to_string()
            } else if failed > 0 {
                format!("{}, {failed} failed", tab.len())
            } else {
                tab.len().to_string()
            };
            // How many keys need action (a finding above info level): `finding:any` lists them.
            match tab.needing_action() {
                0 => format!("{} {} ({count})", i + 1, tab.kind.title()),
                n => format!("{} {} ({count}, {n} need action)", i + 1, tab.kind.title()),
            }
        })
        .collect();
    record_tab_areas(app, area, &titles);
    let tabs = Tabs::new(titles)
        .select(app.active)
        .highlight_style(t.fg(Role::Highlight).add_modifier(Modifier::BOLD | Modifier::REVERSED))
        .divider(" │ ");
    frame.render_widget(tabs, area);
}

/// Where each tab title lands, as `Tabs` lays them out (one space each side, then the
/// 3-cell divider), for the mouse.
fn record_tab_areas(app: &App, area: Rect, titles: &[String]) {
    let mut hits = app.hit_areas.get();
    let mut x = area.x;
    for (i, title) in titles.iter().enumerate() {
        let width = (2 + Line::from(title.as_str()).width() as u16).min(area.right().saturating_sub(x));
        if let Some(slot) = hits.tabs.get_mut(i) {
            *slot = Rect::new(x, area.y, width, area.height.min(1));
        }
        x = x.saturating_add(width + 3);
    }
    app.hit_areas.set(hits);
}

/// One line about the active tab's sources: loading progress and failures, counted (the
/// failures by error code behind `f`, each in full in the log pane), however many accounts
/// and regions there are. Reads the kept counts and the first failure: no scan of the
/// sources per frame.
pub fn source_lines(app: &App) -> Vec<Line<'static>> {
    let t = &app.options.theme;
    let kind = app.tab().kind;
    let c = app.sources.counts(kind);
    let (total, loading, failed) = (c.total, c.loading, c.failed);
    if total == 0 {
        return vec![Line::styled(
            format!("{kind}: no account configured for {}", kind.title()),
            t.fg(Role::Dim),
        )];
    }
    let mut notes = app.notices.iter().filter(|(k, _)| *k == kind).map(|(_, t)| t);
    let note = notes.next().map(|first| {
        let more = notes.count();
        let more = if more > 0 {
            format!(" (and {more} more like it)")
        } else {
            String::new()
        };
        Line::styled(
            crate::text::sanitize(&format!("note: {first}{more}")).into_owned(),
            t.fg(Role::Dim),
        )
    });
    if loading == 0 && failed == 0 {
        return note.into_iter().collect();
    }
    let mut spans = Vec::new();
    if loading > 0 {
        spans.push(Span::styled(
            format!("{kind} loading {}/{total} sources", total - loading),
            t.fg(Role::Info),
        ));
    }
    if failed > 0 {
        if !spans.is_empty() {
            spans.push(Span::raw(" · "));
        }
        let example = app
            .sources
            .first_failure(kind)
            .map(|(scope, e)| {
                let hint = crate::hints::for_error(e)
                    .map(|h| format!(" · {h}"))
                    .unwrap_or_default();
                format!(": {scope} {}{hint}", e.code)
            })
            .unwrap_or_default();
        spans.push(Span::styled(
            format!(
                "{failed} of {total} failed ({} lists them by error, {} the log pane){}",
                app.keys.key_for(keymap::Command::Failures),
                app.keys.key_for(keymap::Command::FocusLog),
                crate::text::sanitize(&example)
            ),
            t.fg(Role::Error),
        ));
    }
    std::iter::once(Line::from(spans)).chain(note).collect()
}

pub fn sources(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    frame.render_widget(Paragraph::new(lines), area);
}

pub fn table(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.options.theme;
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
    let mut hits = app.hit_areas.get();
    // Below the header row; the highlight symbol's column counts as the row too.
    hits.table_rows = Rect::new(inner.x, inner.y + 1, inner.width, inner.height.saturating_sub(1));
    app.hit_areas.set(hits);
    if tab.view_len() == 0 {
        let c = app.sources.counts(tab.kind);
        let text = if c.loading > 0 {
            "loading…".to_string()
        } else if tab.is_empty() && c.total > 0 && c.failed == c.total {
            // Not "no items": nothing could be listed, which is not an empty account.
            format!(
                "every listing failed: {} lists them by error code, the log pane ({}) has each in full",
                app.keys.key_for(keymap::Command::Failures),
                app.keys.key_for(keymap::Command::FocusLog),
            )
        } else if tab.is_empty() {
            "no items".to_string()
        } else {
            "no item matches the filter (Esc clears it)".to_string()
        };
        frame.render_widget(Paragraph::new(text).style(t.fg(Role::Dim)), inner);
        return;
    }

    // Keep the cursor visible, moving the window as little as possible.
    let cursor = tab.cursor();
    let offset = crate::app::scroll::follow(tab.offset.get(), cursor, tab.view_len(), rows_fit);
    tab.offset.set(offset);

    // Which columns fit: name and id always; the others join in priority order while
    // the width allows, so at 80 columns name and id stay readable.
    // A kind that reports every last use (CAM) shows the column even when none was used.
    let reports_last_use = capabilities(tab.kind).reports_last_use;
    let columns = visible_columns(
        inner.width.saturating_sub(3),
        tab.any_stale(),
        tab.any_merged(),
        tab.any_last_used() || reports_last_use,
        capabilities(tab.kind).binds_to.is_some(),
    );
    let now = app.wall_clock;
    // Only the visible rows are built.
    let end = (offset + rows_fit).min(tab.view_len());
    let rows: Vec<Row> = (offset..end)
        .filter_map(|pos| tab.view_item(pos).map(|item| (item, tab.view_findings(pos))))
        .map(|(item, found)| {
            // ↻: one of the two keys of a staged rotation in progress (the detail pane says more).
            let mark = if tab.is_selected(&item.key) {
                "●"
            } else if app.rotation_of(&item.key).is_some() {
                "↻"
            } else {
                " "
            };
            let stale = tab.is_stale(&item.key.scope);
            let cells = std::iter::once(Cell::from(mark)).chain(columns.iter().map(|(c, _)| {
                Cell::from(match c {
                    Column::Name => crate::text::sanitize(&item.name).into_owned(),
                    Column::Id => item.key.id.to_string(),
                    Column::Account => item.key.scope.account.to_string(),
                    // `ap-guangzhou +2`: the same key listed by two more regions.
                    Column::Region => item.region_label(),
                    Column::Status if stale => format!("{} (stale)", item.status.label()),
                    Column::Status => item.status.label().to_string(),
                    Column::Type => item.key_type.to_string(),
                    Column::Age => item.created.map(|t| times::age(t, now)).unwrap_or_default(),
                    Column::Bindings => item.bindings_text(),
                    Column::LastUsed => times::last_used_cell(item.last_used, reports_last_use, now),
                    Column::Findings => found.iter().map(|f| f.slug()).collect::<Vec<_>>().join(" "),
                })
                .style(match c {
                    Column::Findings => t.severity(found.worst()),
                    _ => Style::new(),
                })
            }));
            let row = Row::new(cells.collect::<Vec<_>>());
            // Rows kept from an earlier load whose reload failed.
            if stale {
                row.style(t.fg(Role::Dim))
            } else if tab.is_selected(&item.key) {
                row.style(t.fg(Role::Selected))
            } else {
                row
            }
        })
        .collect();
    let header = Row::new(
        std::iter::once(" ".to_string())
            .chain(columns.iter().map(|(c, _)| {
                if *c == column {
                    format!("{}{}", c.title(), if descending { "▼" } else { "▲" })
                } else {
                    c.title().to_string()
                }
            }))
            .collect::<Vec<_>>(),
    )
    .style(Style::new().add_modifier(Modifier::BOLD));
    let widths: Vec<Constraint> = std::iter::once(Constraint::Length(1))
        .chain(columns.iter().map(|(_, w)| *w))
        .collect();
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .highlight_symbol("> ");
    let mut state = TableState::default().with_selected(Some(cursor - offset));
    frame.render_stateful_widget(table, inner, &mut state);
}

/// The columns that fit in `width`, each with its constraint. Name and id come first and
/// share what the others leave; status, findings, bindings, region, account, age, last
/// used and type are added in that order while they fit.
fn visible_columns(
    width: u16,
    any_stale: bool,
    any_merged: bool,
    any_last_used: bool,
    binds: bool,
) -> Vec<(Column, Constraint)> {
    const NAME_MIN: u16 = 14;
    const ID_MIN: u16 = 20;
    // Status and bindings first: they are what a delete or disable is judged by. Each
    // gets a fixed width; name and id share everything else.
    let mut optional = vec![
        // "disabled", or "enabled (stale)" when a reload failed.
        (Column::Status, if any_stale { 15 } else { 8 }),
        // "old unused": what needs action comes right after the status.
        (Column::Findings, 14),
        // Kinds that bind to nothing (CAM, OceanBase) leave the room to the others.
        (Column::Bindings, if binds { 16 } else { 0 }),
        // "ap-guangzhou", or "ap-guangzhou +2" when a key is listed by several regions.
        (Column::Region, if any_merged { 17 } else { 14 }),
        (Column::Account, 10),
        // "412d", "23h": one number and a unit.
        (Column::Age, 5),
    ];
    if any_last_used {
        // "yesterday", "12d ago", or the date ("2024-05-01") beyond a year.
        optional.push((Column::LastUsed, 10));
    }
    optional.push((Column::Type, 9));
    // Table column spacing is one cell per column.
    let mut used = NAME_MIN + ID_MIN + 3;
    let mut chosen = Vec::new();
    for &(c, w) in &optional {
        if w > 0 && used + w < width {
            used += w + 1;
            chosen.push(c);
        }
    }
    Column::ALL
        .into_iter()
        .filter_map(|c| match c {
            Column::Name | Column::Id => Some((c, Constraint::Fill(1))),
            c => optional
                .iter()
                .find(|(o, _)| *o == c && chosen.contains(o))
                .map(|(_, w)| (c, Constraint::Length(*w))),
        })
        .collect()
}

/// Lines the detail pane wants for the highlighted row: its four, the notes above them,
/// and one per finding (the layout gives what fits).
pub fn detail_lines(app: &App) -> u16 {
    let tab = app.tab();
    let Some(item) = tab.highlighted() else {
        return 4;
    };
    let notes = usize::from(app.rotation_of(&item.key).is_some()) + usize::from(!item.also_in.is_empty());
    (4 + notes + tab.view_findings(tab.cursor()).len()) as u16
}

pub fn detail(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.options.theme;
    let block = Block::default().borders(Borders::ALL).title(" detail ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(item) = app.tab().highlighted() else {
        return;
    };
    let or_dash = |s: &str| if s.is_empty() { "-".to_string() } else { s.to_string() };
    let mut lines = vec![
        Line::from(format!(
            "name {}   id {}   status {}   type {}",
            item.name,
            item.key.id,
            item.status.label(),
            or_dash(&item.key_type)
        )),
        Line::from(format!(
            "account {}   region {}   bindings {}",
            item.key.scope.account,
            item.region_label(),
            or_dash(&item.bindings_text())
        )),
        Line::from(detail_times(
            item,
            capabilities(item.key.scope.kind).reports_last_use,
            app.wall_clock,
        )),
        Line::from(format!("description {}", or_dash(&item.description))),
    ];
    // Each finding with its reason, the most urgent first.
    for f in app.tab().highlighted_findings() {
        lines.push(Line::styled(
            format!("{} ({}): {}", f.id, f.severity.label(), f.reason),
            t.severity(Some(f.severity)),
        ));
    }
    if let Some(rotation) = app.rotation_of(&item.key) {
        lines.insert(
            0,
            Line::styled(
                format!(
                    "{} (old key {}, new key {})",
                    rotation.describe(app.wall_clock),
                    rotation.old_key,
                    rotation.new_key
                ),
                t.fg(Role::Warning),
            ),
        );
    }
    // A key several regions list: name them all, right under its region.
    if !item.also_in.is_empty() {
        lines.insert(
            2,
            Line::from(format!(
                "also listed by {}: one key, its calls go to {}",
                item.also_in.join(", "),
                item.key.scope.region
            )),
        );
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The detail pane's times in full with their relative form: `created
/// 2025-03-01T08:00:00Z (412d ago)   modified ...   last used 2025-03-05 (yesterday)
/// expires ... (in 30d)`. Created always (`-` when unknown); modified and expires when
/// known; last used when known, or `never` where the kind reports every use. Last use is
/// shown as the date: CAM records it by the day.
fn detail_times(item: &Item, reports_last_use: bool, now: Timestamp) -> String {
    let full = |t: Timestamp| format!("{} ({})", times::rfc3339(t), times::relative(t, now));
    let mut parts = vec![format!(
        "created {}",
        item.created.map_or_else(|| "-".to_string(), full)
    )];
    if let Some(t) = item.modified {
        parts.push(format!("modified {}", full(t)));
    }
    match item.last_used {
        // Beyond a year `ago` is the date itself: not said twice.
        Some(t) => parts.push(match (times::date(t), times::ago(t, now)) {
            (date, ago) if date == ago => format!("last used {date}"),
            (date, ago) => format!("last used {date} ({ago})"),
        }),
        None if reports_last_use => parts.push("last used never".to_string()),
        None => {}
    }
    if let Some(t) = item.expires {
        parts.push(format!("expires {}", full(t)));
    }
    parts.join("   ")
}

pub fn gauge(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.options.theme;
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
        .gauge_style(t.fg(Role::Ok))
        .ratio(run.ratio())
        .label(label);
    frame.render_widget(gauge, area);
}

pub fn status(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.options.theme;
    let tab = app.tab();
    let mut spans = vec![Span::styled(
        format!("{} selected", tab.selected_count()),
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if tab.hidden_selected() > 0 {
        spans.push(Span::styled(
            format!(" ({} hidden by the filter)", tab.hidden_selected()),
            t.fg(Role::Warning),
        ));
    }
    // A filter that does not parse: said right above the input, the view keeps the last
    // one that did.
    if let Some(e) = tab.filter_error() {
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(format!("filter not applied: {e}"), t.fg(Role::Error)));
        return frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }
    if let Some(flash) = &app.flash {
        let style = match flash.level {
            FlashLevel::Info => t.fg(Role::Ok),
            FlashLevel::Error => t.fg(Role::Error),
        };
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(flash.text.clone(), style));
    } else if let Some(summary) = &app.last_run {
        // The last run's result stays until the next action.
        let style = if summary.needs_attention() {
            t.fg(Role::Error)
        } else {
            t.fg(Role::Ok)
        };
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(summary.text(), style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The key hints for the current state, from the key tables: only keys that work here
/// (the active tab's capabilities, read-only mode, a run in progress, the focused pane).
pub fn footer(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.options.theme;
    let dim = t.fg(Role::Dim);
    let line = if let Some(cmd) = &app.command_line {
        let mut spans = vec![
            Span::styled(":", t.fg(Role::Highlight)),
            Span::raw(super::dialogs::tail(
                &crate::text::sanitize(&cmd.text),
                usize::from(area.width / 3).max(10),
            )),
            Span::styled("█", t.fg(Role::Highlight)),
        ];
        let keys = format!(
            "{} · {}",
            crate::app::command_line::COMMAND_KEYS.hints(|_| true),
            keymap::FILTER_KEYS.hints(|c| c == keymap::InputCommand::Clear)
        );
        spans.push(match (&cmd.error, &cmd.hint) {
            (Some(e), _) => Span::styled(format!("   {}", crate::text::sanitize(e)), t.fg(Role::Error)),
            (None, Some(h)) => Span::styled(format!("   {}", crate::text::sanitize(h)), t.fg(Role::Info)),
            (None, None) => Span::styled(format!("   {keys}"), dim),
        });
        Line::from(spans)
    } else if let Some(text) = &app.filter_input {
        Line::from(vec![
            Span::styled("/", t.fg(Role::Highlight)),
            Span::raw(super::dialogs::tail(
                &crate::text::sanitize(text),
                usize::from(area.width / 2).max(10),
            )),
            Span::styled("█", t.fg(Role::Highlight)),
            Span::styled(format!("   {}", keymap::FILTER_KEYS.hints(|_| true)), dim),
        ])
    } else {
        let running = app.run.is_some();
        let mut hints = if app.focus == Focus::Log {
            keymap::LOG_KEYS.hints(|_| true)
        } else {
            let caps = capabilities(app.tab().kind);
            app.keys.hints(|c| match c.operation() {
                Some(op) => !app.options.read_only && !running && caps.supports(op),
                None if c.refused_read_only() => !app.options.read_only && !running,
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
