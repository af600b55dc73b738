//! A source keyward could not set up (an account whose credentials cannot be resolved,
//! an unreadable CA file): it stands in for the real provider so that this one account's
//! tabs show as failed with the fix, `keyward list` reports it and exits non-zero, and
//! every other account still loads. It never pretends success: every call fails with the
//! setup error, before anything is sent.

use super::{DeleteReport, ErrorKind, Provider, ProviderError, Receipt, Rotated};
use crate::inventory::{Item, ProviderKind, Scope};
use crate::secret::Secret;
use async_trait::async_trait;

/// `ProviderError::code` of every call to an [`Unavailable`] source.
pub const CONFIG_ERROR: &str = "ConfigError";

pub struct Unavailable {
    scope: Scope,
    error: ProviderError,
}

impl Unavailable {
    /// `problem` is the whole explanation, fix included (e.g. a `ConfigError`'s text).
    pub fn new(kind: ProviderKind, account: &str, region: &str, problem: &str) -> Self {
        // The config errors are several indented lines; a log line or a table cell wants one.
        let message = problem
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        Unavailable {
            scope: Scope::new(kind, account, region),
            error: ProviderError::new(ErrorKind::Invalid, CONFIG_ERROR, message),
        }
    }

    fn refuse<T>(&self) -> Result<T, ProviderError> {
        Err(self.error.clone())
    }
}

#[async_trait]
impl Provider for Unavailable {
    fn scope(&self) -> &Scope {
        &self.scope
    }
    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        self.refuse()
    }
    async fn delete(&self, _ids: &[String]) -> Result<DeleteReport, ProviderError> {
        self.refuse()
    }
    async fn disable(&self, _id: &str) -> Result<Receipt, ProviderError> {
        self.refuse()
    }
    async fn enable(&self, _id: &str) -> Result<Receipt, ProviderError> {
        self.refuse()
    }
    async fn rotate(&self, _id: &str, _custom: Option<&Secret>) -> Result<Rotated, ProviderError> {
        self.refuse()
    }
    async fn rename(&self, _id: &str, _name: &str, _description: Option<&str>) -> Result<Receipt, ProviderError> {
        self.refuse()
    }
}
