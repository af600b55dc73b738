//! From TOML text to a checked `Config`. The file's shape is parsed with spans, so every
//! rule broken can name its line; unknown keys are refused.

use super::{
    AssumeRole, Config, ConfigError, EnvLookup, OceanBaseAccount, Settings, TencentAccount, TencentOrganization,
    TencentService, home_dir,
};
use crate::providers::http::{ConnectTo, validate_endpoint};
use crate::providers::tencent::client::Language;
use crate::providers::tencent::endpoint::{Access, Site};
use crate::providers::tencent::{organization, sts};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    tencent: Vec<Spanned<RawTencent>>,
    /// The same keys as `[[tencent]]` but the role's, plus `role_name` and `members`.
    #[serde(default)]
    tencent_organization: Vec<Spanned<RawTencent>>,
    #[serde(default)]
    oceanbase: Vec<Spanned<RawOceanBase>>,
    #[serde(default)]
    settings: Option<RawSettings>,
    #[serde(default)]
    protect: Vec<Spanned<RawProtect>>,
    /// `[keys]`: action name = one key or a list of keys.
    #[serde(default)]
    keys: Option<RawKeyTable>,
    /// `[theme]`: role = colour.
    #[serde(default)]
    theme: Option<std::collections::BTreeMap<Spanned<String>, Spanned<String>>>,
}

/// One `[[protect]]` entry (see `queue::protect`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProtect {
    id: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    account: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    /// Read only to refuse it with a reason (keyward does not list tags).
    tag: Option<Spanned<String>>,
}

type RawKeyTable = std::collections::BTreeMap<Spanned<String>, Spanned<RawKeys>>;

/// One `[keys]` value: `"D"` or `["/", "ctrl-f"]`.
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "[keys] takes one key in quotes (delete = \"D\") or a list of them (filter = [\"/\", \"ctrl-f\"])"
)]
enum RawKeys {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTencent {
    name: Spanned<String>,
    regions: Spanned<Vec<Spanned<String>>>,
    services: Option<Spanned<Vec<TencentService>>>,
    secret_id_env: Option<Spanned<String>>,
    secret_key_env: Option<Spanned<String>>,
    session_token_env: Option<Spanned<String>>,
    tccli_profile: Option<Spanned<String>>,
    credentials_file: Option<Spanned<String>>,
    site: Option<Spanned<String>>,
    access: Option<Spanned<String>>,
    apigateway_endpoint: Option<Spanned<String>>,
    cvm_endpoint: Option<Spanned<String>>,
    cam_endpoint: Option<Spanned<String>>,
    sts_endpoint: Option<Spanned<String>>,
    organization_endpoint: Option<Spanned<String>>,
    ca_cert: Option<Spanned<String>>,
    // Role assumption ([[tencent]] only, but for the session settings).
    role_arn: Option<Spanned<String>>,
    role_session_name: Option<Spanned<String>>,
    external_id: Option<Spanned<String>>,
    duration_secs: Option<Spanned<u64>>,
    source: Option<Spanned<String>>,
    // [[tencent_organization]] only.
    role_name: Option<Spanned<String>>,
    members: Option<Spanned<Vec<Spanned<String>>>>,
    units: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOceanBase {
    name: Spanned<String>,
    org_id: Spanned<String>,
    project_ids: Spanned<Vec<Spanned<String>>>,
    access_key_id_env: Option<Spanned<String>>,
    access_key_secret_env: Option<Spanned<String>>,
    credentials_file: Option<Spanned<String>>,
    endpoint: Option<Spanned<String>>,
    ca_cert: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    timeout_secs: Option<Spanned<u64>>,
    max_retries: Option<Spanned<u32>>,
    audit_log: Option<Spanned<String>>,
    audit_max_mib: Option<Spanned<u64>>,
    connect_to: Option<Spanned<String>>,
    language: Option<Spanned<String>>,
    // The findings' thresholds (`findings::Thresholds::KEYS`), in days.
    max_key_age_days: Option<Spanned<u32>>,
    unused_days: Option<Spanned<u32>>,
    never_used_grace_days: Option<Spanned<u32>>,
    stale_disabled_days: Option<Spanned<u32>>,
    expiring_days: Option<Spanned<u32>>,
    plan_max_age_hours: Option<Spanned<u32>>,
    mouse: Option<bool>,
}

/// Ten years: a longer threshold would never flag anything.
const MAX_THRESHOLD_DAYS: u32 = 3650;
/// Thirty days: a reviewed plan older than that describes a world long gone.
const MAX_PLAN_AGE_HOURS: u32 = 720;
/// The largest `audit_max_mib`: 64 GiB, past which reading a log back takes minutes.
const MAX_AUDIT_MIB: u64 = 64 * 1024;

pub(super) fn parse(text: &str, path: &Path, env: EnvLookup<'_>) -> Result<Config, ConfigError> {
    let checker = Checker { text, path, env };
    let raw: RawConfig = toml::from_str(text).map_err(|e| checker.syntax(&e))?;
    let mut cfg = Config {
        path: path.to_path_buf(),
        ..Config::default()
    };
    let mut tencent_names = HashSet::new();
    let mut sources = Vec::new();
    for t in raw.tencent {
        let span = t.span();
        let source_at = t.get_ref().source.as_ref().map(|s| s.span().start);
        let account = checker.tencent(t, Table::Account)?.0;
        if !tencent_names.insert(account.name.clone()) {
            return Err(checker.invalid(
                span.start,
                format!("a second [[tencent]] account is named \"{}\"", account.name),
                "give every [[tencent]] account its own name",
            ));
        }
        if let Some(at) = source_at {
            sources.push((cfg.tencent.len(), at));
        }
        cfg.tencent.push(account);
    }
    checker.role_sources(&cfg.tencent, &sources)?;
    for t in raw.tencent_organization {
        let span = t.span();
        let (management, org) = checker.tencent(t, Table::Organization)?;
        if !tencent_names.insert(management.name.clone()) {
            return Err(checker.invalid(
                span.start,
                format!(
                    "[[tencent_organization]] \"{}\" has the name of another [[tencent]] account or organization",
                    management.name
                ),
                "give every [[tencent]] and [[tencent_organization]] table its own name",
            ));
        }
        let org = org.unwrap_or_default();
        cfg.tencent_organizations.push(TencentOrganization {
            management,
            role_name: org.role_name,
            members: org.members,
            units: org.units,
            session_name: org.session_name,
            external_id: org.external_id,
            duration_secs: org.duration_secs,
        });
    }
    let mut ob_names = HashSet::new();
    for o in raw.oceanbase {
        let span = o.span();
        let account = checker.oceanbase(o.into_inner())?;
        if !ob_names.insert(account.name.clone()) {
            return Err(checker.invalid(
                span.start,
                format!("a second [[oceanbase]] account is named \"{}\"", account.name),
                "give every [[oceanbase]] account its own name",
            ));
        }
        cfg.oceanbase.push(account);
    }
    if let Some(s) = raw.settings {
        cfg.settings = checker.settings(s)?;
    }
    let mut rules = Vec::new();
    for p in raw.protect {
        rules.push(checker.protect(p, &cfg)?);
    }
    cfg.protect = crate::queue::Protect::new(rules);
    if let Some(keys) = raw.keys {
        cfg.keys = checker.keys(keys)?;
    }
    if let Some(theme) = raw.theme {
        for (role, value) in theme {
            cfg.theme
                .set(role.get_ref(), value.get_ref())
                .map_err(|e| checker.invalid(role.span().start, e.message, e.fix))?;
        }
    }
    Ok(cfg)
}

/// Which table a `RawTencent` came from: the keys each may hold differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Table {
    Account,
    Organization,
}

/// The organization-only settings of a `[[tencent_organization]]` table.
#[derive(Default)]
struct OrgSettings {
    role_name: String,
    members: Vec<String>,
    units: Vec<String>,
    session_name: String,
    external_id: Option<String>,
    duration_secs: u32,
}

struct Checker<'a> {
    text: &'a str,
    path: &'a Path,
    env: EnvLookup<'a>,
}

impl Checker<'_> {
    fn line(&self, offset: usize) -> usize {
        line_of(self.text, offset)
    }

    fn invalid(&self, offset: usize, message: impl Into<String>, fix: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: Some(self.line(offset)),
            message: message.into(),
            fix: fix.into(),
        }
    }

    fn syntax(&self, e: &toml::de::Error) -> ConfigError {
        let message = e.message().trim().to_string();
        let fix = if message.contains("unknown field") {
            "remove the key or correct its spelling; every option is listed in config.example.toml"
        } else if message.contains("missing field") {
            "add the missing key to that table; see config.example.toml"
        } else if message.contains("unknown variant") {
            "use one of the listed values"
        } else if message.contains("invalid type") {
            "give the value the type shown (strings in quotes, lists in [ ])"
        } else {
            "correct the TOML syntax on that line (https://toml.io)"
        };
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: e.span().map(|s| self.line(s.start)),
            message,
            fix: fix.into(),
        }
    }

    fn name(&self, name: Spanned<String>, table: &str) -> Result<String, ConfigError> {
        let span = name.span();
        let name = name.into_inner();
        let ok = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !ok {
            return Err(self.invalid(
                span.start,
                format!("[[{table}]] name \"{name}\" is not a usable account name"),
                "use 1-64 letters, digits, '-', '_' or '.'; the name appears in the table and the audit log",
            ));
        }
        Ok(name)
    }

    fn non_empty(&self, value: Spanned<String>, what: &str, fix: &str) -> Result<String, ConfigError> {
        let span = value.span();
        let v = value.into_inner();
        if v.trim().is_empty() {
            return Err(self.invalid(span.start, format!("{what} is empty"), fix));
        }
        Ok(v)
    }

    fn endpoint(&self, value: Option<Spanned<String>>) -> Result<Option<String>, ConfigError> {
        let Some(value) = value else { return Ok(None) };
        let span = value.span();
        let v = value.into_inner();
        validate_endpoint(&v).map_err(|reason| {
            self.invalid(
                span.start,
                reason,
                "use an https:// URL, or http:// only for an emulator on 127.0.0.1, ::1 or localhost",
            )
        })?;
        Ok(Some(v))
    }

    /// A value from a fixed list: `None` keeps the default; anything else not in `choices`
    /// is an error naming the key, the value and every allowed value.
    fn choice<T: Copy + Default>(
        &self,
        value: Option<Spanned<String>>,
        key: &str,
        choices: &[(&str, T)],
        meaning: &str,
    ) -> Result<T, ConfigError> {
        let Some(value) = value else {
            return Ok(T::default());
        };
        let span = value.span();
        let v = value.into_inner();
        if let Some((_, choice)) = choices.iter().find(|(name, _)| *name == v) {
            return Ok(*choice);
        }
        let allowed: Vec<String> = choices.iter().map(|(name, _)| format!("\"{name}\"")).collect();
        Err(self.invalid(
            span.start,
            format!("{key} = \"{v}\" is not one of {}", allowed.join(", ")),
            format!(
                "use {} ({meaning}), or remove the key for the default",
                allowed.join(" or ")
            ),
        ))
    }

    fn env_name(&self, value: Option<Spanned<String>>) -> Result<Option<String>, ConfigError> {
        let Some(value) = value else { return Ok(None) };
        let span = value.span();
        let v = value.into_inner();
        let ok = !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(self.invalid(
                span.start,
                format!("\"{v}\" is not an environment variable name"),
                "give the variable's NAME (like PROD_SECRET_ID), never the secret itself",
            ));
        }
        Ok(Some(v))
    }

    fn pair(
        &self,
        first: (&str, &Option<String>),
        second: (&str, &Option<String>),
        span: usize,
    ) -> Result<(), ConfigError> {
        if first.1.is_some() != second.1.is_some() {
            let (set, missing) = if first.1.is_some() {
                (first.0, second.0)
            } else {
                (second.0, first.0)
            };
            return Err(self.invalid(
                span,
                format!("{set} is set but {missing} is not"),
                format!("set both {} and {}, or neither", first.0, second.0),
            ));
        }
        Ok(())
    }

    /// `~/` expands to the home dir; a relative path is taken relative to the config file.
    fn path(&self, value: Option<Spanned<String>>) -> Result<Option<PathBuf>, ConfigError> {
        let Some(value) = value else { return Ok(None) };
        let v = self.non_empty(value, "a path", "give a file path or remove the key")?;
        Ok(Some(resolve_path(&v, self.path, self.env)))
    }

    fn list(
        &self,
        values: Spanned<Vec<Spanned<String>>>,
        what: &str,
        fix: &str,
        valid: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, ConfigError> {
        let span = values.span();
        let values = values.into_inner();
        if values.is_empty() {
            return Err(self.invalid(span.start, format!("{what} is empty"), fix));
        }
        let mut out: Vec<String> = Vec::new();
        for v in values {
            let span = v.span();
            let v = v.into_inner();
            if !valid(&v) {
                return Err(self.invalid(span.start, format!("\"{v}\" is not a valid entry of {what}"), fix));
            }
            if out.contains(&v) {
                return Err(self.invalid(span.start, format!("\"{v}\" is listed twice in {what}"), "list it once"));
            }
            out.push(v);
        }
        Ok(out)
    }

    /// A `[[tencent]]` account, or a `[[tencent_organization]]`'s management account and
    /// its organization settings.
    fn tencent(
        &self,
        raw: Spanned<RawTencent>,
        table: Table,
    ) -> Result<(TencentAccount, Option<OrgSettings>), ConfigError> {
        let start = raw.span().start;
        let mut raw = raw.into_inner();
        let table_name = match table {
            Table::Account => "tencent",
            Table::Organization => "tencent_organization",
        };
        self.table_keys(&raw, table)?;
        let name = self.name(raw.name, table_name)?;
        let session_name = self.session_name(raw.role_session_name.take())?;
        let external_id = match raw.external_id.take() {
            None => None,
            Some(v) => Some(self.non_empty(
                v,
                "external_id",
                "give the ExternalId the role's trust policy asks for, or remove the key",
            )?),
        };
        let duration_secs = self.duration(raw.duration_secs.take())?;
        let role = match raw.role_arn.take() {
            None => None,
            Some(arn) => {
                let span = arn.span();
                let arn = arn.into_inner();
                if !arn.starts_with("qcs::cam::uin/") || !(arn.contains(":roleName/") || arn.contains(":role/")) {
                    return Err(self.invalid(
                        span.start,
                        format!("role_arn \"{arn}\" is not a CAM role ARN"),
                        "copy the role's RoleArn from the CAM console, like qcs::cam::uin/100012345678:roleName/OrganizationAccessControlRole",
                    ));
                }
                Some(AssumeRole {
                    role_arn: arn,
                    session_name: session_name.clone(),
                    external_id: external_id.clone(),
                    duration_secs,
                    source: raw.source.take().map(Spanned::into_inner),
                })
            }
        };
        let org = match table {
            Table::Account => None,
            Table::Organization => Some(OrgSettings {
                role_name: self.role_name(raw.role_name.take())?,
                members: match raw.members.take() {
                    None => Vec::new(),
                    Some(m) => self.list(
                        m,
                        "members",
                        "list member name globs like members = [\"prod-*\", \"shared-services\"], or remove the key for every member",
                        |g| !g.trim().is_empty(),
                    )?,
                },
                units: match raw.units.take() {
                    None => Vec::new(),
                    Some(u) => self.list(
                        u,
                        "units",
                        "list organization unit (department) name globs like units = [\"Production\"], or remove the key",
                        |g| !g.trim().is_empty(),
                    )?,
                },
                session_name,
                external_id,
                duration_secs,
            }),
        };
        let regions = self.list(
            raw.regions,
            "regions",
            "list region ids like regions = [\"ap-guangzhou\", \"ap-shanghai\"]",
            |r| {
                !r.is_empty()
                    && r.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            },
        )?;
        let services = match raw.services {
            None => vec![TencentService::ApiGateway, TencentService::Cvm],
            Some(s) => {
                let span = s.span();
                let mut list = s.into_inner();
                let mut seen = HashSet::new();
                list.retain(|s| seen.insert(*s));
                if list.is_empty() {
                    return Err(self.invalid(
                        span.start,
                        "services is empty",
                        "list at least one of \"apigateway\", \"cvm\", \"cam\", or remove the key for apigateway and cvm",
                    ));
                }
                list
            }
        };
        let secret_id_env = self.env_name(raw.secret_id_env)?;
        let secret_key_env = self.env_name(raw.secret_key_env)?;
        self.pair(
            ("secret_id_env", &secret_id_env),
            ("secret_key_env", &secret_key_env),
            start,
        )?;
        let tccli_profile = match raw.tccli_profile {
            None => None,
            Some(p) => {
                let span = p.span();
                let p = p.into_inner();
                let ok = !p.is_empty()
                    && !p.starts_with('.')
                    && p.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
                if !ok {
                    return Err(self.invalid(
                        span.start,
                        format!("tccli_profile \"{p}\" is not a profile name"),
                        "give the profile name only (like \"default\"); keyward reads ~/.tccli/<profile>.credential",
                    ));
                }
                Some(p)
            }
        };
        let account = TencentAccount {
            name,
            regions,
            services,
            secret_id_env,
            secret_key_env,
            session_token_env: self.env_name(raw.session_token_env)?,
            tccli_profile,
            credentials_file: self.path(raw.credentials_file)?,
            site: self.choice(
                raw.site,
                "site",
                &[("cn", Site::Cn), ("intl", Site::Intl)],
                "the China site, the default as in tccli, or the international site",
            )?,
            access: self.choice(
                raw.access,
                "access",
                &[("regional", Access::Regional), ("nearest", Access::Nearest)],
                "each region through its own host, the default, or all through the nearest-access host",
            )?,
            apigateway_endpoint: self.endpoint(raw.apigateway_endpoint)?,
            cvm_endpoint: self.endpoint(raw.cvm_endpoint)?,
            cam_endpoint: self.endpoint(raw.cam_endpoint)?,
            sts_endpoint: self.endpoint(raw.sts_endpoint)?,
            organization_endpoint: self.endpoint(raw.organization_endpoint)?,
            ca_cert: self.path(raw.ca_cert)?,
            role,
        };
        Ok((account, org))
    }

    /// Refuses the keys the other table kind holds, and a role setting without role_arn.
    fn table_keys(&self, raw: &RawTencent, table: Table) -> Result<(), ConfigError> {
        match table {
            Table::Account => {
                if let Some(v) = &raw.role_name {
                    return Err(self.invalid(
                        v.span().start,
                        "role_name belongs in a [[tencent_organization]] table",
                        "for one account, set role_arn = \"qcs::cam::uin/<uin>:roleName/<role>\" instead",
                    ));
                }
                if let Some(v) = raw.members.as_ref().or(raw.units.as_ref()) {
                    return Err(self.invalid(
                        v.span().start,
                        "members and units belong in a [[tencent_organization]] table",
                        "remove the key, or move the account into a [[tencent_organization]] table",
                    ));
                }
                if raw.role_arn.is_none() {
                    let stray = [
                        (
                            "role_session_name",
                            raw.role_session_name.as_ref().map(|v| v.span().start),
                        ),
                        ("external_id", raw.external_id.as_ref().map(|v| v.span().start)),
                        ("duration_secs", raw.duration_secs.as_ref().map(|v| v.span().start)),
                        ("source", raw.source.as_ref().map(|v| v.span().start)),
                    ];
                    if let Some((key, Some(at))) = stray.into_iter().find(|(_, at)| at.is_some()) {
                        return Err(self.invalid(
                            at,
                            format!("{key} is set but role_arn is not"),
                            "set role_arn for the role to assume, or remove the key",
                        ));
                    }
                }
            }
            Table::Organization => {
                for (key, at) in [
                    ("role_arn", raw.role_arn.as_ref().map(|v| v.span().start)),
                    ("source", raw.source.as_ref().map(|v| v.span().start)),
                ] {
                    if let Some(at) = at {
                        return Err(self.invalid(
                            at,
                            format!("{key} does not belong in a [[tencent_organization]] table"),
                            "the members' roles are named by role_name; give the management account's \
                             own credentials (secret_id_env/secret_key_env, credentials_file or tccli_profile)",
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn session_name(&self, value: Option<Spanned<String>>) -> Result<String, ConfigError> {
        let Some(value) = value else {
            let user = (self.env)("USER").or_else(|| (self.env)("USERNAME"));
            return Ok(sts::default_session_name(user.as_deref()));
        };
        let span = value.span();
        let v = value.into_inner();
        sts::check_session_name(&v).map_err(|why| {
            self.invalid(
                span.start,
                format!("role_session_name \"{v}\" {why}"),
                "use 2-128 letters, digits or _ + = , . @ -, or remove the key for keyward-<user>",
            )
        })?;
        Ok(v)
    }

    fn duration(&self, value: Option<Spanned<u64>>) -> Result<u32, ConfigError> {
        let Some(value) = value else {
            return Ok(sts::DEFAULT_DURATION_SECS);
        };
        let span = value.span();
        let secs = value.into_inner();
        sts::check_duration(secs).map_err(|why| {
            self.invalid(
                span.start,
                format!("duration_secs = {why}"),
                format!(
                    "use 1 to {} seconds, or remove the key for {} (STS's default)",
                    sts::MAX_DURATION_SECS,
                    sts::DEFAULT_DURATION_SECS
                ),
            )
        })?;
        Ok(secs as u32)
    }

    fn role_name(&self, value: Option<Spanned<String>>) -> Result<String, ConfigError> {
        let Some(value) = value else {
            return Ok(organization::DEFAULT_ROLE_NAME.to_string());
        };
        let span = value.span();
        let v = value.into_inner();
        let ok =
            !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
        if !ok {
            return Err(self.invalid(
                span.start,
                format!("role_name \"{v}\" is not a CAM role name"),
                format!(
                    "give the role's name as CAM shows it, or remove the key for {}",
                    organization::DEFAULT_ROLE_NAME
                ),
            ));
        }
        Ok(v)
    }

    /// Every `source` names another `[[tencent]]` account, and no chain of sources loops.
    fn role_sources(&self, accounts: &[TencentAccount], sources: &[(usize, usize)]) -> Result<(), ConfigError> {
        let index = |name: &str| accounts.iter().position(|a| a.name == name);
        for &(i, at) in sources {
            let account = &accounts[i];
            let Some(source) = account.role.as_ref().and_then(|r| r.source.as_deref()) else {
                continue;
            };
            if index(source).is_none() {
                return Err(self.invalid(
                    at,
                    format!("source = \"{source}\" names no [[tencent]] account"),
                    "name the [[tencent]] account whose credentials assume this role",
                ));
            }
            // Follow the chain; coming back to `i` is a loop.
            let mut seen = vec![i];
            let mut next = Some(source);
            while let Some(name) = next {
                let Some(j) = index(name) else { break };
                if seen.contains(&j) {
                    let chain: Vec<&str> = seen.iter().map(|k| accounts[*k].name.as_str()).collect();
                    return Err(self.invalid(
                        at,
                        format!(
                            "source = \"{source}\" makes a loop: {} -> {}",
                            chain.join(" -> "),
                            accounts[j].name
                        ),
                        "end the chain at an account with its own credentials (no role_arn, or role_arn without source)",
                    ));
                }
                seen.push(j);
                next = accounts[j].role.as_ref().and_then(|r| r.source.as_deref());
            }
        }
        Ok(())
    }

    fn oceanbase(&self, raw: RawOceanBase) -> Result<OceanBaseAccount, ConfigError> {
        let start = raw.name.span().start;
        let name = self.name(raw.name, "oceanbase")?;
        let org_id = self.non_empty(
            raw.org_id,
            "org_id",
            "copy the Organization ID from the console's Organization Settings",
        )?;
        let project_ids = self.list(
            raw.project_ids,
            "project_ids",
            "list the project ids from the console's Projects page, like project_ids = [\"abc123\"]",
            |p| !p.trim().is_empty() && !p.chars().any(char::is_control),
        )?;
        let access_key_id_env = self.env_name(raw.access_key_id_env)?;
        let access_key_secret_env = self.env_name(raw.access_key_secret_env)?;
        self.pair(
            ("access_key_id_env", &access_key_id_env),
            ("access_key_secret_env", &access_key_secret_env),
            start,
        )?;
        Ok(OceanBaseAccount {
            name,
            org_id,
            project_ids,
            access_key_id_env,
            access_key_secret_env,
            credentials_file: self.path(raw.credentials_file)?,
            endpoint: self.endpoint(raw.endpoint)?,
            ca_cert: self.path(raw.ca_cert)?,
        })
    }

    /// One `[[protect]]` entry, checked against the accounts `cfg` configures: an entry
    /// naming an account or region that is not there would silently protect nothing.
    fn protect(&self, raw: Spanned<RawProtect>, cfg: &Config) -> Result<crate::queue::protect::Rule, ConfigError> {
        use crate::queue::protect::{NamePattern, Rule};
        let start = raw.span().start;
        let raw = raw.into_inner();
        let mut rule = Rule::at(format!("{}:{}", self.path.display(), self.line(start)));
        if let Some(tag) = raw.tag {
            return Err(self.invalid(
                tag.span().start,
                "[[protect]] tag is not supported: keyward does not read the keys' tags",
                "protect the keys by id, name, account, region or kind instead",
            ));
        }
        let fix = "give a value, or remove the key";
        rule.id = raw.id.map(|v| self.non_empty(v, "[[protect]] id", fix)).transpose()?;
        rule.name = raw
            .name
            .map(|v| self.non_empty(v, "[[protect]] name", fix))
            .transpose()?
            .map(|n| NamePattern::new(&n));
        if let Some(account) = raw.account {
            let span = account.span();
            let account = self.non_empty(account, "[[protect]] account", fix)?;
            let known = cfg
                .tencent
                .iter()
                .map(|a| &a.name)
                .chain(cfg.oceanbase.iter().map(|a| &a.name));
            if !known.clone().any(|name| *name == account) {
                let names: Vec<String> = known.map(|n| format!("\"{n}\"")).collect();
                return Err(self.invalid(
                    span.start,
                    format!(
                        "[[protect]] account \"{account}\" is not a configured account, so it would protect nothing"
                    ),
                    format!("use one of the account names above ({})", names.join(", ")),
                ));
            }
            rule.account = Some(account);
        }
        if let Some(region) = raw.region {
            let span = region.span();
            let region = self.non_empty(region, "[[protect]] region", fix)?;
            let known = region == crate::providers::tencent::cam::GLOBAL
                || cfg.tencent.iter().any(|a| a.regions.contains(&region))
                || cfg.oceanbase.iter().any(|a| a.project_ids.contains(&region));
            if !known {
                return Err(self.invalid(
                    span.start,
                    format!(
                        "[[protect]] region \"{region}\" is not a region or project id of any configured account, \
                         so it would protect nothing"
                    ),
                    "use a region listed in an account's regions (or an OceanBase project id)",
                ));
            }
            rule.region = Some(region);
        }
        if let Some(kind) = raw.kind {
            let span = kind.span();
            let kind = kind.into_inner();
            let Some(parsed) = crate::inventory::ProviderKind::from_slug(&kind) else {
                let all: Vec<&str> = crate::inventory::ProviderKind::ALL.iter().map(|k| k.slug()).collect();
                return Err(self.invalid(
                    span.start,
                    format!("[[protect]] kind = \"{kind}\" is not a kind of key"),
                    format!("use one of {}", all.join(", ")),
                ));
            };
            rule.kind = Some(parsed);
        }
        if rule.is_empty() {
            return Err(self.invalid(
                start,
                "this [[protect]] entry sets nothing, so it would protect every key",
                "set at least one of id, name, account, region or kind",
            ));
        }
        Ok(rule)
    }

    /// `[keys]`, in file order: the keymap owns which names and keys are valid
    /// (`Rebinds`); each error names the line of the entry at fault.
    fn keys(&self, raw: RawKeyTable) -> Result<crate::app::keymap::Rebinds, ConfigError> {
        let mut entries: Vec<_> = raw.into_iter().collect();
        entries.sort_by_key(|(name, _)| name.span().start);
        let mut rebinds = crate::app::keymap::Rebinds::default();
        let mut lines = Vec::new();
        for (name, value) in entries {
            let offset = name.span().start;
            let keys = match value.into_inner() {
                RawKeys::One(k) => vec![k],
                RawKeys::Many(ks) => ks,
            };
            lines.push(offset);
            rebinds
                .add(name.get_ref(), &keys)
                .map_err(|e| self.invalid(offset, e.message, e.fix))?;
        }
        rebinds
            .check()
            .map_err(|e| self.invalid(lines.get(e.entry).copied().unwrap_or(0), e.message, e.fix))?;
        Ok(rebinds)
    }

    fn settings(&self, raw: RawSettings) -> Result<Settings, ConfigError> {
        let mut s = Settings::default();
        if let Some(t) = raw.timeout_secs {
            let span = t.span();
            let t = t.into_inner();
            if !(1..=600).contains(&t) {
                return Err(self.invalid(
                    span.start,
                    format!("timeout_secs = {t} is out of range"),
                    "use 1 to 600 seconds",
                ));
            }
            s.timeout = Duration::from_secs(t);
        }
        if let Some(r) = raw.max_retries {
            let span = r.span();
            let r = r.into_inner();
            if r > 10 {
                return Err(self.invalid(span.start, format!("max_retries = {r} is too many"), "use 0 to 10"));
            }
            s.max_retries = r;
        }
        s.audit_log = self.path(raw.audit_log)?;
        if let Some(m) = raw.audit_max_mib {
            let span = m.span();
            let m = m.into_inner();
            if !(1..=MAX_AUDIT_MIB).contains(&m) {
                return Err(self.invalid(
                    span.start,
                    format!("audit_max_mib = {m} is out of range"),
                    format!("use 1 to {MAX_AUDIT_MIB} (MiB): the audit log is rotated before it grows past this size"),
                ));
            }
            s.audit_max_mib = m;
        }
        if let Some(c) = raw.connect_to {
            let span = c.span();
            let c = ConnectTo::parse(c.get_ref()).map_err(|reason| {
                self.invalid(
                    span.start,
                    reason,
                    "give the address to connect to instead of the real hosts, or remove the key",
                )
            })?;
            s.connect_to = Some(c);
        }
        s.language = self.choice(
            raw.language,
            "language",
            &[("en-US", Language::EnUs), ("zh-CN", Language::ZhCn)],
            "the language of Tencent Cloud's error messages, English by default",
        )?;
        if let Some(mouse) = raw.mouse {
            s.mouse = mouse;
        }
        let thresholds = [
            ("max_key_age_days", raw.max_key_age_days),
            ("unused_days", raw.unused_days),
            ("never_used_grace_days", raw.never_used_grace_days),
            ("stale_disabled_days", raw.stale_disabled_days),
            ("expiring_days", raw.expiring_days),
        ];
        for (key, value) in thresholds {
            let Some(value) = value else { continue };
            let span = value.span();
            let days = value.into_inner();
            if !(1..=MAX_THRESHOLD_DAYS).contains(&days) {
                return Err(self.invalid(
                    span.start,
                    format!("{key} = {days} is out of range"),
                    format!("use 1 to {MAX_THRESHOLD_DAYS} days, or remove the key for the default"),
                ));
            }
            if let Some(field) = s.findings.field_mut(key) {
                *field = days;
            }
        }
        if let Some(hours) = raw.plan_max_age_hours {
            let span = hours.span();
            let hours = hours.into_inner();
            if !(1..=MAX_PLAN_AGE_HOURS).contains(&hours) {
                return Err(self.invalid(
                    span.start,
                    format!("plan_max_age_hours = {hours} is out of range"),
                    format!("use 1 to {MAX_PLAN_AGE_HOURS} hours, or remove the key for the default (24)"),
                ));
            }
            s.plan_max_age_hours = hours;
        }
        Ok(s)
    }
}

/// 1-based line of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
}

fn resolve_path(value: &str, config_path: &Path, env: EnvLookup<'_>) -> PathBuf {
    if let Some(rest) = value.strip_prefix("~/") {
        if let Some(home) = home_dir(env) {
            return home.join(rest);
        }
    }
    let p = PathBuf::from(value);
    if p.is_absolute() {
        return p;
    }
    match config_path.parent() {
        Some(dir) => dir.join(p),
        None => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_are_one_based() {
        let t = "a\nb\nc";
        assert_eq!(line_of(t, 0), 1);
        assert_eq!(line_of(t, 2), 2);
        assert_eq!(line_of(t, 4), 3);
        assert_eq!(line_of(t, 99), 3);
    }
}
