//! Provider-supplied text (key names, descriptions, error messages) on a terminal.
//!
//! Whoever can name a key in a shared account must not be able to drive the operator's
//! terminal: control characters (escape sequences, OSC 52 clipboard writes, CR, NUL) are
//! shown escaped, and bidi overrides and zero-width characters, which reorder or hide
//! what is shown, are shown as their code points.

use std::borrow::Cow;

/// Characters that change how the text around them is shown without being visible.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' | '\u{061C}')
}

/// The text with every control and invisible formatting character escaped (`\u{1b}`).
pub fn for_display(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() || is_invisible_format(c)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() || is_invisible_format(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_zero_width_are_escaped() {
        assert_eq!(for_display("plain-name_1"), "plain-name_1");
        assert!(matches!(for_display("plain"), Cow::Borrowed(_)));
        assert_eq!(for_display("a\u{1b}]52;c;eA==\u{7}b"), "a\\u{1b}]52;c;eA==\\u{7}b");
        assert_eq!(for_display("x\u{202E}gpj.exe"), "x\\u{202e}gpj.exe");
        assert_eq!(for_display("a\u{200B}b\r\0"), "a\\u{200b}b\\u{d}\\u{0}");
    }
}
