//! Everything that can be wrong with a config, each with the file, line and fix.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no config file at {path}\n  fix: copy config.example.toml there and edit it, or pass --config <file> \
         (or set KEYWARD_CONFIG); to try keyward without an account, run `keyward --demo`"
    )]
    NotFound { path: PathBuf },
    #[error("cannot find the platform config directory (no home directory?)\n  fix: pass --config <file>")]
    NoConfigDir,
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// Bad TOML, an unknown key, a wrong type or a value the config rules reject.
    #[error("{}: {message}\n  fix: {fix}", at(path, *line))]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        message: String,
        fix: String,
    },
    #[error("{0}")]
    MissingCredentials(Box<MissingCredentials>),
    #[error(
        "refusing to read {path}: it holds secrets and is readable by group or others (mode {mode:o}), \
         as ssh refuses such key files\n  fix: chmod 600 {path}",
        path = path.display()
    )]
    InsecureFile { path: PathBuf, mode: u32 },
    #[error("{}: {reason}\n  fix: {fix}", at(path, *line))]
    BadCredentialsFile {
        path: PathBuf,
        line: Option<usize>,
        reason: String,
        fix: String,
    },
    /// A credential value with spaces or a newline around it: sent like that it would only
    /// earn a signature or digest failure, and trimming it silently would hide a bad copy.
    #[error(
        "the {what} for account \"{account}\" from {source_name} has leading or trailing whitespace; \
         keyward does not send it\n  fix: set it again without the spaces or newline around it"
    )]
    PaddedCredential {
        account: String,
        what: &'static str,
        source_name: String,
    },
    #[error("cannot use CA certificate {path}: {reason}\n  fix: point ca_cert at a readable PEM file")]
    CaCert { path: PathBuf, reason: String },
    #[error("cannot set up {provider} account \"{account}\": {source}")]
    Provider {
        provider: &'static str,
        account: String,
        source: Box<crate::providers::ProviderError>,
    },
}

/// No credentials were found for an account: what was looked at and how to fix it.
#[derive(Debug)]
pub struct MissingCredentials {
    pub provider: &'static str,
    pub account: String,
    pub config: PathBuf,
    pub env_vars: Vec<String>,
    pub files: Vec<String>,
    /// What was half there: "ACME_ID is set but ACME_KEY is not (or is empty)".
    pub notes: Vec<String>,
    pub fix: String,
}

impl std::fmt::Display for MissingCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no {} credentials for account \"{}\" (config {})",
            self.provider,
            self.account,
            self.config.display()
        )?;
        for note in &self.notes {
            write!(f, "\n  {note}")?;
        }
        write!(
            f,
            "\n  looked at env vars: {}\n  files tried: {}\n  fix: {}",
            list_or_none(&self.env_vars),
            list_or_none(&self.files),
            self.fix
        )
    }
}

impl std::error::Error for MissingCredentials {}

pub(super) fn at(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(l) => format!("{}:{l}", path.display()),
        None => path.display().to_string(),
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items.join(", ")
    }
}
