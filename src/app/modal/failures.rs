//! The `f` overlay: the active tab's failed sources, grouped by error code, so a thousand
//! failed regions read as a few lines ("AuthFailure.SecretIdNotFound × 120: acme-1/ap-…").
//!
//! The groups are computed from the sources when drawn, so the overlay stays current while
//! listings still arrive; the dialog itself holds only where it is scrolled to.

use super::{Ctx, Dialog, Step};
use crate::app::keymap::{Binding, Key, KeyTable, NAV_KEYS};
use crate::app::sources::Sources;
use crate::inventory::ProviderKind;
use crossterm::event::{KeyCode, KeyEvent};
use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;

/// The sources of one kind that failed with one error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureGroup {
    pub code: String,
    /// What to do about it (`hints::for_error` of the first), if keyward knows the code.
    pub hint: Option<String>,
    /// The first source's message, shown when there is no hint (the log pane has each in full).
    pub message: String,
    /// `account/region` of each source, in configuration order.
    pub scopes: Vec<String>,
}

/// The failed sources of `kind`, one group per error code, the largest group first (then
/// by code, so the order is stable).
pub fn failure_groups(sources: &Sources, kind: ProviderKind) -> Vec<FailureGroup> {
    let mut groups: Vec<FailureGroup> = Vec::new();
    let mut by_code: HashMap<&str, usize> = HashMap::new();
    for (scope, err) in sources.failures(kind) {
        let at = *by_code.entry(err.code.as_str()).or_insert_with(|| {
            groups.push(FailureGroup {
                code: err.code.clone(),
                hint: crate::hints::for_error(err),
                message: err.message.clone(),
                scopes: Vec::new(),
            });
            groups.len() - 1
        });
        groups[at].scopes.push(format!("{}/{}", scope.account, scope.region));
    }
    groups.sort_by(|a, b| b.scopes.len().cmp(&a.scopes.len()).then_with(|| a.code.cmp(&b.code)));
    groups
}

/// The overlay's state: which tab it is about and how far it is scrolled.
#[derive(Debug)]
pub struct Failures {
    pub kind: ProviderKind,
    /// First row shown.
    pub scroll: usize,
    /// Rows the groups took in the last frame (a render cache: how far scrolling may go
    /// depends on the width they were wrapped at).
    pub rows: Cell<usize>,
}

impl Failures {
    pub fn new(kind: ProviderKind) -> Self {
        Failures {
            kind,
            scroll: 0,
            rows: Cell::new(0),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailuresCommand {
    Close,
}

/// The overlay's own keys; moving through it takes the shared `NAV_KEYS`.
pub static FAILURES_KEYS: KeyTable<FailuresCommand> = KeyTable {
    title: "failed sources (after f)",
    bindings: Cow::Borrowed(&[Binding {
        keys: Cow::Borrowed(&[Key::Code(KeyCode::Esc), Key::Char('f'), Key::Char('q')]),
        command: FailuresCommand::Close,
        help: "close the list of failed sources",
        hint: Some("close"),
    }]),
};

impl Dialog for Failures {
    fn on_key(&mut self, key: &KeyEvent, ctx: &Ctx) -> Step {
        if let Some(nav) = NAV_KEYS.lookup(key) {
            self.scroll = nav.scroll(self.scroll, self.rows.get(), ctx.page);
        } else if let Some(FailuresCommand::Close) = FAILURES_KEYS.lookup(key) {
            return Step::Close(None);
        }
        Step::Stay
    }

    /// It only shows: nothing to guard.
    fn guarded(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::sources::{LoadState, Source};
    use crate::inventory::Scope;
    use crate::providers::{ErrorKind, ProviderError};

    #[test]
    fn failures_group_by_code_largest_first_in_configuration_order() {
        let mut sources = Sources::default();
        let outcomes = [
            ("ap-guangzhou", Some("AuthFailure.SecretIdNotFound")),
            ("ap-shanghai", Some("InvalidParameterValue.InvalidRegion")),
            ("ap-beijing", None),
            ("ap-tokyo", Some("AuthFailure.SecretIdNotFound")),
            ("eu-frankfurt", Some("Mystery")),
        ];
        for (region, code) in outcomes {
            let scope = Scope::new(ProviderKind::Cvm, "acme-1", region);
            sources.push(Source {
                scope: scope.clone(),
                state: LoadState::Loading,
            });
            let state = match code {
                Some(code) => LoadState::Failed(ProviderError::new(ErrorKind::Api, code, format!("{region} said no"))),
                None => LoadState::Loaded(3),
            };
            sources.set_state(&scope, state);
        }
        let groups = failure_groups(&sources, ProviderKind::Cvm);
        let shape: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|g| (g.code.as_str(), g.scopes.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            shape,
            [
                (
                    "AuthFailure.SecretIdNotFound",
                    vec!["acme-1/ap-guangzhou", "acme-1/ap-tokyo"]
                ),
                ("InvalidParameterValue.InvalidRegion", vec!["acme-1/ap-shanghai"]),
                ("Mystery", vec!["acme-1/eu-frankfurt"]),
            ]
        );
        assert!(groups[0].hint.is_some(), "a known code carries its hint");
        assert_eq!(groups[2].message, "eu-frankfurt said no");
        assert!(failure_groups(&sources, ProviderKind::ApiGateway).is_empty());
    }
}
