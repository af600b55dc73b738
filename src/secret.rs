//! A string that must never reach a log, the audit file or the screen by accident.
//!
//! `Debug` and `Display` print a mask; the only way to the plaintext is `expose()`,
//! which makes every place that needs it easy to find with grep. The value lives in a
//! `secrecy::SecretString`, which zeroizes its buffer when dropped, so a secret does not
//! linger in freed memory after the dialog that showed it closes. (Copies made before the
//! value got here, e.g. a parser's input buffer, are outside its reach.)

use secrecy::{ExposeSecret, SecretString};
use std::fmt;

#[derive(Clone, Default)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(SecretString::from(value.into()))
    }

    /// The plaintext. Call sites: signers, the rotation dialog after an explicit reveal, the clipboard.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }

    /// A fixed-width mask that reveals nothing about the length or content.
    pub fn masked(&self) -> &'static str {
        "********"
    }
}

// By value, as the hand-written type compared: state types that hold a secret (the
// rotation dialog's) derive their equality from it. secrecy leaves equality to us.
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.masked())
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("hunter2_hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s}").contains("hunter2"));
        assert!(!format!("{:?}", Some(s.clone())).contains("hunter2"));
        assert_eq!(s.expose(), "hunter2_hunter2");
    }

    #[test]
    fn equality_and_emptiness_are_by_value() {
        assert_eq!(Secret::new("a"), Secret::from("a"));
        assert_ne!(Secret::new("a"), Secret::from(String::from("b")));
        assert!(Secret::default().is_empty());
        assert!(!Secret::new("x").is_empty());
    }

    /// The wrapped value is secrecy's, which zeroizes on drop: the bound is what keeps
    /// a later refactor from swapping it back for a plain `String`.
    #[test]
    fn the_value_is_zeroized_on_drop() {
        fn zeroizes_on_drop<T: secrecy::zeroize::ZeroizeOnDrop>(_: &T) {}
        let s = Secret::new("k");
        zeroizes_on_drop(&s.0);
    }
}
