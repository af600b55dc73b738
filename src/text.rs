//! Text that came from a provider (key names, descriptions, error messages) made safe to
//! print on a terminal or into a file a terminal will show.
//!
//! Whoever can name a key in a shared account chooses these strings, so they must not be
//! able to drive the operator's terminal (a screen clear, an OSC 52 clipboard write, a
//! carriage return that overwrites a line) nor disguise what is shown (a bidi override
//! that reverses a name, a zero-width character that makes two ids look the same).
//! [`sanitize`] is the one rule; the table, CSV and the TUI all use it.

use std::borrow::Cow;

/// Whether a character must not reach a terminal as itself: C0 and C1 controls (and DEL),
/// bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069), and zero-width
/// characters (U+200B-200D, U+2060, U+FEFF).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

/// `s` with every unsafe character (see [`is_unsafe`]) written as a visible escape:
/// `\u{1b}`, `\r`, `\n`, `\t`, `\u{202e}`... Borrowed (no allocation) when nothing needs it.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            // `escape_default` gives `\n`, `\r`, `\t` and `\u{..}` for everything else here.
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_bidi_and_zero_width_are_escaped() {
        assert_eq!(sanitize("\u{1b}[2Jx"), "\\u{1b}[2Jx");
        assert_eq!(sanitize("a\r\nb\t\0"), "a\\r\\nb\\t\\u{0}");
        assert_eq!(sanitize("\u{9b}31m"), "\\u{9b}31m", "C1 CSI");
        assert_eq!(sanitize("\u{7f}"), "\\u{7f}");
        assert_eq!(sanitize("abc\u{202e}gpj.exe"), "abc\\u{202e}gpj.exe");
        assert_eq!(sanitize("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(sanitize("AKID\u{200b}1"), "AKID\\u{200b}1");
        assert_eq!(sanitize("\u{feff}\u{2060}\u{200d}"), "\\u{feff}\\u{2060}\\u{200d}");
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for s in ["deploy, \"main\"", "测试密钥", "emoji 🔑", "", "back\\slash"] {
            assert!(matches!(sanitize(s), Cow::Borrowed(b) if b == s), "{s}");
        }
    }
}
