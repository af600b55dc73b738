//! Colours by role, the one place a role becomes a style. `[theme]` in the config sets a
//! role's colour by name or `#rrggbb`; `NO_COLOR` (set, non-empty) drops every colour and
//! keeps the modifiers (bold, reverse), so nothing that is marked stops being marked.

use crate::findings::Severity;
use ratatui::style::{Color, Modifier, Style};
use std::str::FromStr;

/// What a colour means on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Rows in the selection.
    Selected,
    /// The active tab, key names in the help and dialogs, the filter prompt.
    Highlight,
    Error,
    Warning,
    /// Loading lines, dry-run marks, informational borders.
    Info,
    /// Success: an info flash, a clean run, the progress gauge.
    Ok,
    /// Hints, notes, stale rows.
    Dim,
    FindingHigh,
    FindingMedium,
    FindingLow,
    FindingInfo,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::Selected,
        Role::Highlight,
        Role::Error,
        Role::Warning,
        Role::Info,
        Role::Ok,
        Role::Dim,
        Role::FindingHigh,
        Role::FindingMedium,
        Role::FindingLow,
        Role::FindingInfo,
    ];

    /// The `[theme]` key of the role.
    pub fn name(self) -> &'static str {
        match self {
            Role::Selected => "selected",
            Role::Highlight => "highlight",
            Role::Error => "error",
            Role::Warning => "warning",
            Role::Info => "info",
            Role::Ok => "ok",
            Role::Dim => "dim",
            Role::FindingHigh => "finding_high",
            Role::FindingMedium => "finding_medium",
            Role::FindingLow => "finding_low",
            Role::FindingInfo => "finding_info",
        }
    }

    fn default_color(self) -> Color {
        match self {
            Role::Selected => Color::Green,
            Role::Highlight | Role::Warning | Role::FindingMedium => Color::Yellow,
            Role::Error | Role::FindingHigh => Color::Red,
            Role::Info | Role::FindingLow => Color::Cyan,
            Role::Ok => Color::Green,
            Role::Dim | Role::FindingInfo => Color::DarkGray,
        }
    }

    fn index(self) -> usize {
        Role::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// The colour of each role; `None` is no colour (NO_COLOR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    colors: [Option<Color>; 11],
}

impl Default for Theme {
    fn default() -> Self {
        Theme {
            colors: Role::ALL.map(|r| Some(r.default_color())),
        }
    }
}

/// Why a `[theme]` entry cannot be used, and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeError {
    pub message: String,
    pub fix: String,
}

impl Theme {
    /// One `[theme]` entry: `error = "red"` or `dim = "#808080"`.
    pub fn set(&mut self, role: &str, value: &str) -> Result<(), ThemeError> {
        let Some(r) = Role::ALL.into_iter().find(|r| r.name() == role) else {
            let names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
            return Err(ThemeError {
                message: format!("[theme] has no role named \"{role}\""),
                fix: format!("use one of: {}", names.join(", ")),
            });
        };
        let color = Color::from_str(value).map_err(|_| ThemeError {
            message: format!("[theme] {role} = \"{value}\" is not a colour"),
            fix: "give a colour name (red, light-red, yellow, cyan, dark-gray, white, ...) or #rrggbb".into(),
        })?;
        self.colors[r.index()] = Some(color);
        Ok(())
    }

    /// Every colour dropped: what `NO_COLOR` asks for (https://no-color.org).
    pub fn without_colors(self) -> Theme {
        Theme { colors: [None; 11] }
    }

    /// This theme, or none of its colours when `NO_COLOR` is set and not empty.
    pub fn honouring_no_color(self, env: crate::config::EnvLookup<'_>) -> Theme {
        match env("NO_COLOR") {
            Some(v) if !v.is_empty() => self.without_colors(),
            _ => self,
        }
    }

    pub fn color(&self, role: Role) -> Option<Color> {
        self.colors[role.index()]
    }

    /// Text in the role's colour.
    pub fn fg(&self, role: Role) -> Style {
        match self.color(role) {
            Some(c) => Style::new().fg(c),
            None => Style::new(),
        }
    }

    /// A badge ("DRY RUN"): dark text on the role's colour, reversed text without colours.
    pub fn badge(&self, role: Role) -> Style {
        match self.color(role) {
            Some(c) => Style::new().fg(Color::Black).bg(c),
            None => Style::new().add_modifier(Modifier::REVERSED),
        }
    }

    /// How a finding (or a row's worst one) is shown; high is bold in every theme.
    pub fn severity(&self, worst: Option<Severity>) -> Style {
        match worst {
            Some(Severity::High) => self.fg(Role::FindingHigh).add_modifier(Modifier::BOLD),
            Some(Severity::Medium) => self.fg(Role::FindingMedium),
            Some(Severity::Low) => self.fg(Role::FindingLow),
            Some(Severity::Info) | None => self.fg(Role::FindingInfo),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_by_name_or_hex_and_errors_name_the_fix() {
        let mut t = Theme::default();
        t.set("error", "light-red").unwrap();
        t.set("dim", "#808080").unwrap();
        assert_eq!(t.color(Role::Error), Some(Color::LightRed));
        assert_eq!(t.color(Role::Dim), Some(Color::Rgb(0x80, 0x80, 0x80)));
        assert!(t.set("errors", "red").unwrap_err().fix.contains("finding_high"));
        assert!(t.set("error", "reddish").unwrap_err().message.contains("not a colour"));
    }

    #[test]
    fn no_color_keeps_modifiers_and_drops_colours() {
        let t = Theme::default().honouring_no_color(&|k| (k == "NO_COLOR").then(|| "1".to_string()));
        assert_eq!(t.fg(Role::Error), Style::new());
        assert_eq!(
            t.severity(Some(Severity::High)),
            Style::new().add_modifier(Modifier::BOLD)
        );
        assert_eq!(t.badge(Role::Info), Style::new().add_modifier(Modifier::REVERSED));
        let empty = Theme::default().honouring_no_color(&|k| (k == "NO_COLOR").then(String::new));
        assert_eq!(empty, Theme::default(), "an empty NO_COLOR is not set");
    }
}
