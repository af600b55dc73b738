//! The TOML config: which accounts, regions and projects keyward manages, endpoints,
//! timeouts and where the audit log goes. It holds no secrets: credentials are resolved
//! per account from env vars or private credential files (see `credentials`).
//!
//! Every problem is reported as one `ConfigError` naming the file, the line and the fix.
//! Unknown keys are errors so a typo never silently falls back to a default.

mod credentials;
mod error;
mod validate;

pub use credentials::{FileRole, TencentSecrets, check_secret_file, read_ca_cert, tccli_dir};
pub use error::{ConfigError, MissingCredentials};

use crate::providers::http::ConnectTo;
use crate::providers::tencent::client::Language;
use crate::providers::tencent::endpoint::{Access, Site};
use directories::ProjectDirs;
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Looks an environment variable up. Injected so tests never touch the process env.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, for `main`.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

const CONFIG_ENV: &str = "KEYWARD_CONFIG";
const DEFAULT_TIMEOUT_SECS: u64 = 30;
const DEFAULT_MAX_RETRIES: u32 = 3;
/// How old a plan file `keyward apply` still accepts, unless `plan_max_age_hours` says.
pub const DEFAULT_PLAN_MAX_AGE_HOURS: u32 = 24;
/// Rotating at 64 MiB keeps reading the log back (reconcile, `audit show`) well under a
/// second while a file still holds months of runs.
pub const DEFAULT_AUDIT_MAX_MIB: u64 = 64;

/// A Tencent Cloud API a `[[tencent]]` account is managed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TencentService {
    ApiGateway,
    Cvm,
    /// CAM access keys: global, one source per account whatever `regions` lists.
    Cam,
}

impl fmt::Display for TencentService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TencentService::ApiGateway => "apigateway",
            TencentService::Cvm => "cvm",
            TencentService::Cam => "cam",
        })
    }
}

/// One `[[tencent]]` table: a Tencent Cloud account and the regions/services to manage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TencentAccount {
    pub name: String,
    pub regions: Vec<String>,
    pub services: Vec<TencentService>,
    pub secret_id_env: Option<String>,
    pub secret_key_env: Option<String>,
    pub session_token_env: Option<String>,
    pub tccli_profile: Option<String>,
    pub credentials_file: Option<PathBuf>,
    /// The Tencent Cloud site (China or international) the account belongs to.
    pub site: Site,
    /// Each region through its own host (own rate bucket) or all through the nearest one.
    pub access: Access,
    /// One URL for every region of that service, replacing `site`/`access` host choice.
    pub apigateway_endpoint: Option<String>,
    pub cvm_endpoint: Option<String>,
    /// One URL for CAM (global: there is only one), replacing the site's CAM host.
    pub cam_endpoint: Option<String>,
    pub ca_cert: Option<PathBuf>,
    /// STS and Organization URLs replacing the site's hosts (an emulator over plain HTTP).
    pub sts_endpoint: Option<String>,
    pub organization_endpoint: Option<String>,
    /// Set: the account is reached by assuming this role (`role_arn` and friends).
    pub role: Option<AssumeRole>,
}

/// How an account assumes its role: `role_arn`, `role_session_name`, `external_id`,
/// `duration_secs` and `source` of a `[[tencent]]` table (or an organization member's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
    pub duration_secs: u32,
    /// The `[[tencent]]` account whose credentials call AssumeRole; `None`: this account's
    /// own credential settings (env vars, file, tccli profile).
    pub source: Option<String>,
}

/// One `[[tencent_organization]]` table: a management account whose organization's members
/// become accounts at start (see `registry`), each reached through `role_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TencentOrganization {
    /// The management account: its name is the table's, its credential settings, site,
    /// endpoints, regions and services are the table's, and the members inherit all but
    /// the credentials.
    pub management: TencentAccount,
    /// The role assumed in each member, `OrganizationAccessControlRole` by default.
    pub role_name: String,
    /// Name globs (`*`, `?`, case-insensitive) a member must match one of; empty: all.
    pub members: Vec<String>,
    /// Unit (department, `NodeName`) globs a member must match one of; empty: all.
    pub units: Vec<String>,
    pub session_name: String,
    pub external_id: Option<String>,
    pub duration_secs: u32,
}

/// One `[[oceanbase]]` table: an OceanBase Cloud organization and its projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OceanBaseAccount {
    pub name: String,
    pub org_id: String,
    pub project_ids: Vec<String>,
    pub access_key_id_env: Option<String>,
    pub access_key_secret_env: Option<String>,
    pub credentials_file: Option<PathBuf>,
    pub endpoint: Option<String>,
    pub ca_cert: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub timeout: Duration,
    pub max_retries: u32,
    /// `None`: the platform data dir's keyward/audit.jsonl (see `audit_log_path`).
    pub audit_log: Option<PathBuf>,
    /// The audit log is rotated before it would grow past this many MiB (`audit_max_mib`).
    pub audit_max_mib: u64,
    /// Every provider connection goes here; URLs, Host headers and TLS names stay real.
    pub connect_to: Option<ConnectTo>,
    /// The language of Tencent Cloud's messages.
    pub language: Language,
    /// A CA certificate (PEM) every account trusts on top of its own `ca_cert`. Never read
    /// from a config file: the demo, tests and bench set it to their emulator's CA, so the
    /// real host names can be verified against it without writing a file.
    pub trusted_ca_pem: Option<Vec<u8>>,
    /// The limits the findings judge keys by (`[settings] max_key_age_days` and others).
    pub findings: crate::findings::Thresholds,
    /// `keyward apply` refuses a plan file written longer ago than this.
    pub plan_max_age_hours: u32,
    /// The TUI captures the mouse (wheel, clicks); `mouse = false` leaves it to the terminal.
    pub mouse: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            max_retries: DEFAULT_MAX_RETRIES,
            audit_log: None,
            audit_max_mib: DEFAULT_AUDIT_MAX_MIB,
            connect_to: None,
            language: Language::default(),
            trusted_ca_pem: None,
            findings: crate::findings::Thresholds::default(),
            plan_max_age_hours: DEFAULT_PLAN_MAX_AGE_HOURS,
            mouse: true,
        }
    }
}

impl Settings {
    /// The extra roots one account trusts: its `ca_cert` file and `trusted_ca_pem`, as one
    /// PEM bundle, or None for the platform roots alone.
    pub fn extra_roots(&self, ca_cert: Option<&Path>) -> Result<Option<Vec<u8>>, ConfigError> {
        let mut pem = ca_cert.map(read_ca_cert).transpose()?;
        if let Some(extra) = &self.trusted_ca_pem {
            let bundle = pem.get_or_insert_with(Vec::new);
            if !bundle.is_empty() && !bundle.ends_with(b"\n") {
                bundle.push(b'\n');
            }
            bundle.extend_from_slice(extra);
        }
        Ok(pem)
    }

    /// The size the audit log is rotated at, in bytes.
    pub fn audit_max_bytes(&self) -> u64 {
        self.audit_max_mib.saturating_mul(1024 * 1024)
    }

    /// Where the JSONL audit log goes.
    pub fn audit_log_path(&self) -> Result<PathBuf, ConfigError> {
        if let Some(p) = &self.audit_log {
            return Ok(p.clone());
        }
        // The audit module owns where its log lives by default; both fail only without a home.
        crate::audit::AuditLog::default_path().map_err(|_| ConfigError::NoConfigDir)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// The file this came from; named in every later error (e.g. missing credentials).
    pub path: PathBuf,
    pub tencent: Vec<TencentAccount>,
    pub tencent_organizations: Vec<TencentOrganization>,
    pub oceanbase: Vec<OceanBaseAccount>,
    pub settings: Settings,
    /// The `[[protect]]` entries: keys no plan deletes, disables or rotates.
    pub protect: crate::queue::Protect,
    /// `[keys]`: main-screen commands given other keys, checked.
    pub keys: crate::app::keymap::Rebinds,
    /// `[theme]`: colours by role (NO_COLOR is applied where the TUI starts).
    pub theme: crate::ui::theme::Theme,
}

/// Where the config is read from: `--config`, else `$KEYWARD_CONFIG`, else the platform
/// config dir's keyward/config.toml.
pub fn config_path(explicit: Option<&Path>, env: EnvLookup<'_>) -> Result<PathBuf, ConfigError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = env(CONFIG_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let dirs = ProjectDirs::from("", "", "keyward").ok_or(ConfigError::NoConfigDir)?;
    Ok(dirs.config_dir().join("config.toml"))
}

impl Config {
    /// Find, read and validate the config.
    pub fn load(explicit: Option<&Path>, env: EnvLookup<'_>) -> Result<Config, ConfigError> {
        let path = config_path(explicit, env)?;
        let unreadable = |message: &str, fix: &str| ConfigError::Invalid {
            path: path.clone(),
            line: None,
            message: message.to_string(),
            fix: fix.to_string(),
        };
        if path.is_dir() {
            return Err(unreadable(
                "this is a directory, not a config file",
                "pass the config file itself, e.g. --config <dir>/config.toml",
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => ConfigError::NotFound { path: path.clone() },
            std::io::ErrorKind::InvalidData => unreadable(
                "the file is not UTF-8 text (damaged, or not a config file)",
                "restore it from a backup or start again from config.example.toml",
            ),
            _ => ConfigError::Read {
                path: path.clone(),
                source,
            },
        })?;
        Config::parse(&text, &path, env)
    }

    /// Validate config text; `path` names the file in errors and anchors relative paths.
    pub fn parse(text: &str, path: &Path, env: EnvLookup<'_>) -> Result<Config, ConfigError> {
        validate::parse(text, path, env)
    }

    /// No account configured at all.
    pub fn is_empty(&self) -> bool {
        self.tencent.is_empty() && self.tencent_organizations.is_empty() && self.oceanbase.is_empty()
    }
}

/// The home dir: `$HOME` through the injected lookup (so tests can point it at a temp
/// dir), else the platform's idea of it.
pub(crate) fn home_dir(env: EnvLookup<'_>) -> Option<PathBuf> {
    env("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()))
}
