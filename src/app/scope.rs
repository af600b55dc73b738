//! Which sources the TUI shows: `--account`, `--region`, `--provider` on the command line
//! (sources outside are not even loaded) and `:account`, `:region` in the TUI (rows
//! outside are hidden). Accounts and regions match as globs, the filter language's own
//! (`crate::filter::Glob`), so `ap-*` means the same everywhere.

use crate::filter::Glob;
use crate::inventory::{ProviderKind, Row, Scope};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeFilter {
    pub account: Option<Glob>,
    pub region: Option<Glob>,
    pub kind: Option<ProviderKind>,
}

impl ScopeFilter {
    /// From the command line's flags; an unknown provider is an error naming the known ones.
    pub fn from_flags(account: Option<&str>, region: Option<&str>, provider: Option<&str>) -> Result<Self, String> {
        let kind = provider.map(parse_kind).transpose()?;
        Ok(ScopeFilter {
            account: account.map(Glob::new),
            region: region.map(Glob::new),
            kind,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.account.is_none() && self.region.is_none() && self.kind.is_none()
    }

    /// Whether a source is in scope.
    pub fn admits(&self, scope: &Scope) -> bool {
        self.kind.is_none_or(|k| k == scope.kind)
            && self.account.as_ref().is_none_or(|g| g.matches(&scope.account))
            && self.region.as_ref().is_none_or(|g| g.matches(&scope.region))
    }

    /// Whether a row is in scope: its account, and any region that lists it.
    pub fn admits_row(&self, row: &Row) -> bool {
        let scope = &row.item.key.scope;
        self.account.as_ref().is_none_or(|g| g.matches(&scope.account))
            && self
                .region
                .as_ref()
                .is_none_or(|g| g.matches(&scope.region) || row.also_in.iter().any(|r| g.matches(r)))
    }

    /// "account prod · region ap-*", for the header; empty without a scope.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(k) = self.kind {
            parts.push(format!("provider {k}"));
        }
        if let Some(g) = &self.account {
            parts.push(format!("account {}", g.pattern()));
        }
        if let Some(g) = &self.region {
            parts.push(format!("region {}", g.pattern()));
        }
        parts.join(" · ")
    }
}

/// A provider by its slug (`cvm`), as the command line, the config and `:tab` name it.
pub fn parse_kind(name: &str) -> Result<ProviderKind, String> {
    ProviderKind::from_slug(&name.to_ascii_lowercase()).ok_or_else(|| {
        let names: Vec<&str> = ProviderKind::ALL.iter().map(|k| k.slug()).collect();
        format!("\"{name}\" is not a provider; use one of {}", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_on_account_and_region_and_the_kind() {
        let f = ScopeFilter::from_flags(Some("prod"), Some("ap-*"), Some("cvm")).unwrap();
        assert!(f.admits(&Scope::new(ProviderKind::Cvm, "prod", "ap-guangzhou")));
        assert!(f.admits(&Scope::new(ProviderKind::Cvm, "PROD", "ap-shanghai")));
        assert!(!f.admits(&Scope::new(ProviderKind::Cvm, "prod-2", "ap-guangzhou")));
        assert!(!f.admits(&Scope::new(ProviderKind::Cvm, "prod", "na-ashburn")));
        assert!(!f.admits(&Scope::new(ProviderKind::ApiGateway, "prod", "ap-guangzhou")));
        assert!(
            ScopeFilter::from_flags(None, None, Some("ecs"))
                .unwrap_err()
                .contains("cvm")
        );
        assert_eq!(f.describe(), "provider cvm · account prod · region ap-*");
    }
}
