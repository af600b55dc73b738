//! Credential resolution per account, and the rule for files that hold secrets.
//!
//! Order for a Tencent account:
//!   1. the env vars named by `secret_id_env` / `secret_key_env` (+ `session_token_env`);
//!   2. `credentials_file` (TOML `secret_id`/`secret_key`/`token`, or tccli JSON);
//!   3. only when the account names none of its own sources: `TENCENTCLOUD_SECRET_ID` /
//!      `TENCENTCLOUD_SECRET_KEY` / `TENCENTCLOUD_SESSION_TOKEN`;
//!   4. tccli's `~/.tccli/<tccli_profile or "default">.credential` (when `tccli_profile` is
//!      set, or the account names no source of its own).
//!
//! The process-wide variables are skipped for accounts that name their own source, so an
//! account whose own source is missing never silently runs with another account's keys.
//! OceanBase is the same with `access_key_id_env` / `access_key_secret_env`,
//! `credentials_file` and `OCEANBASE_ACCESS_KEY_ID` / `OCEANBASE_ACCESS_KEY_SECRET`.

use super::{Config, ConfigError, EnvLookup, MissingCredentials, OceanBaseAccount, TencentAccount, home_dir};
use crate::providers::oceanbase::ObCredentials;
use crate::secret::Secret;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Tencent Cloud API credentials, as the Tencent client wants them.
#[derive(Debug, Clone)]
pub struct TencentSecrets {
    pub secret_id: String,
    pub secret_key: Secret,
    pub token: Option<Secret>,
    /// Where they came from, in words ("env vars A and B", "tccli profile default (path)"):
    /// named by `keyward info` and by `keyward doctor` when the service refuses them.
    pub source: String,
    /// A tccli role profile (`role_arn` and `role_session_name` in its `.credential`, as
    /// `tccli configure set role-arn ... role-session-name ...` writes them): these keys
    /// are the source that assumes that role, as tccli does with STSAssumeRoleCredential.
    pub file_role: Option<FileRole>,
}

/// The role a credentials file names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRole {
    pub role_arn: String,
    pub session_name: Option<String>,
}

/// A credentials file. Field names of both keyward's TOML form and tccli's JSON are taken;
/// other keys (tccli writes a few) are ignored.
#[derive(Deserialize, Default)]
struct CredentialFile {
    #[serde(default, alias = "secretId")]
    secret_id: Option<String>,
    #[serde(default, alias = "secretKey")]
    secret_key: Option<String>,
    #[serde(default, alias = "token", alias = "sessionToken")]
    session_token: Option<String>,
    #[serde(default, alias = "accessKeyId")]
    access_key_id: Option<String>,
    #[serde(default, alias = "accessKeySecret")]
    access_key_secret: Option<String>,
    #[serde(default, alias = "roleArn", alias = "role-arn")]
    role_arn: Option<String>,
    #[serde(default, alias = "roleSessionName", alias = "role-session-name")]
    role_session_name: Option<String>,
}

/// Tracks what was looked at, for the "missing credentials" message.
#[derive(Default)]
struct Tried {
    env_vars: Vec<String>,
    files: Vec<String>,
    notes: Vec<String>,
}

/// What a pair of values is called, for messages: ("SecretId", "SecretKey").
type PairNames = (&'static str, &'static str);
const TENCENT_PAIR: PairNames = ("SecretId", "SecretKey");
const OCEANBASE_PAIR: PairNames = ("AccessKey ID", "AccessKey secret");

impl Tried {
    /// A non-empty env var, noting that it was consulted.
    fn env(&mut self, env: EnvLookup<'_>, name: &str) -> Option<String> {
        self.env_vars.push(name.to_string());
        env(name).filter(|v| !v.trim().is_empty())
    }

    /// Both variables of a pair, when both are set. When only one is, that is noted for the
    /// message (the operator exported one and forgot, or misspelt, the other).
    fn env_pair(
        &mut self,
        env: EnvLookup<'_>,
        account: &str,
        (id_var, key_var): (&str, &str),
        names: PairNames,
    ) -> Result<Option<(String, String)>, ConfigError> {
        let id = self.env(env, id_var);
        let key = self.env(env, key_var);
        match (id, key) {
            (Some(id), Some(key)) => {
                unpadded(account, names.0, id_var, &id)?;
                unpadded(account, names.1, key_var, &key)?;
                Ok(Some((id, key)))
            }
            (Some(_), None) => {
                self.notes
                    .push(format!("{id_var} is set but {key_var} is not (or is empty)"));
                Ok(None)
            }
            (None, Some(_)) => {
                self.notes
                    .push(format!("{key_var} is set but {id_var} is not (or is empty)"));
                Ok(None)
            }
            (None, None) => Ok(None),
        }
    }

    /// A credentials file's content if the file exists, noting that it was consulted.
    fn file(&mut self, path: &Path) -> Result<Option<CredentialFile>, ConfigError> {
        match read_secret_file(path)? {
            None => {
                self.files.push(format!("{} (not found)", path.display()));
                Ok(None)
            }
            Some(text) => {
                self.files.push(path.display().to_string());
                parse_credential_file(path, &text).map(Some)
            }
        }
    }
}

/// Refuses a credential value with whitespace around it (never quoting the value).
fn unpadded(account: &str, what: &'static str, source_name: &str, value: &str) -> Result<(), ConfigError> {
    if value.trim() != value {
        return Err(ConfigError::PaddedCredential {
            account: account.to_string(),
            what,
            source_name: source_name.to_string(),
        });
    }
    Ok(())
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// The file's value moves straight into a `Secret` so it can no longer be printed.
fn non_empty_secret(s: Option<String>) -> Option<Secret> {
    non_empty(s).map(Secret::new)
}

impl TencentAccount {
    /// Resolve this account's credentials (see the module docs for the order).
    pub fn credentials(&self, cfg: &Config, env: EnvLookup<'_>) -> Result<TencentSecrets, ConfigError> {
        let mut tried = Tried::default();
        let own_source =
            self.secret_id_env.is_some() || self.credentials_file.is_some() || self.tccli_profile.is_some();
        let token_from_env = |tried: &mut Tried| match &self.session_token_env {
            Some(name) => tried.env(env, name).map(Secret::new),
            None => None,
        };
        if let (Some(id_var), Some(key_var)) = (&self.secret_id_env, &self.secret_key_env) {
            if let Some((secret_id, key)) = tried.env_pair(env, &self.name, (id_var, key_var), TENCENT_PAIR)? {
                return Ok(TencentSecrets {
                    secret_id,
                    secret_key: Secret::new(key),
                    token: token_from_env(&mut tried),
                    source: format!("env vars {id_var} and {key_var}"),
                    file_role: None,
                });
            }
        }
        if let Some(path) = &self.credentials_file {
            let source = format!("credentials file {}", path.display());
            if let Some(found) = tencent_from_file(&mut tried, &self.name, path, source)? {
                return Ok(found);
            }
        }
        if !own_source {
            let vars = ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY");
            if let Some((secret_id, key)) = tried.env_pair(env, &self.name, vars, TENCENT_PAIR)? {
                let token = tried.env(env, "TENCENTCLOUD_SESSION_TOKEN").map(Secret::new);
                return Ok(TencentSecrets {
                    secret_id,
                    secret_key: Secret::new(key),
                    token,
                    source: format!("env vars {} and {}", vars.0, vars.1),
                    file_role: None,
                });
            }
        }
        let tccli_file = self.tccli_file(env);
        if let Some(path) = &tccli_file {
            let profile = self.tccli_profile.as_deref().unwrap_or(DEFAULT_TCCLI_PROFILE);
            let source = format!("tccli profile {profile} ({})", path.display());
            if let Some(found) = tencent_from_file(&mut tried, &self.name, path, source)? {
                return Ok(found);
            }
        }
        let fix = match (
            &self.secret_id_env,
            &self.secret_key_env,
            &self.credentials_file,
            tccli_file,
        ) {
            (Some(id), Some(key), _, _) => {
                format!("export {id}=<SecretId> and {key}=<SecretKey> before starting keyward")
            }
            (_, _, Some(file), _) => format!(
                "write secret_id = \"...\" and secret_key = \"...\" into {} and chmod 600 it",
                file.display()
            ),
            (_, _, _, Some(tccli)) => format!(
                "export TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, run `tccli configure` to write {}, \
                 or set secret_id_env/secret_key_env for this account",
                tccli.display()
            ),
            _ => "set secret_id_env/secret_key_env for this account and export those variables".to_string(),
        };
        Err(missing("Tencent Cloud", &self.name, cfg, tried, fix))
    }
}

impl TencentAccount {
    /// The tccli credential file this account reads, when it reads one: its `tccli_profile`,
    /// or tccli's default profile for an account that names no source of its own.
    pub fn tccli_file(&self, env: EnvLookup<'_>) -> Option<PathBuf> {
        let own_source =
            self.secret_id_env.is_some() || self.credentials_file.is_some() || self.tccli_profile.is_some();
        if self.tccli_profile.is_none() && own_source {
            return None;
        }
        let profile = self.tccli_profile.as_deref().unwrap_or(DEFAULT_TCCLI_PROFILE);
        Some(tccli_dir(env)?.join(format!("{profile}.credential")))
    }

    /// Every file this account may read secrets from, in the order they are tried.
    pub fn credential_files(&self, env: EnvLookup<'_>) -> Vec<PathBuf> {
        self.credentials_file
            .iter()
            .cloned()
            .chain(self.tccli_file(env))
            .collect()
    }
}

impl OceanBaseAccount {
    /// Every file this account may read secrets from.
    pub fn credential_files(&self) -> Vec<PathBuf> {
        self.credentials_file.iter().cloned().collect()
    }
}

/// The profile an account without `tccli_profile` reads, as tccli's own default.
const DEFAULT_TCCLI_PROFILE: &str = "default";

/// tccli's credential directory, `~/.tccli`.
pub fn tccli_dir(env: EnvLookup<'_>) -> Option<PathBuf> {
    home_dir(env).map(|home| home.join(".tccli"))
}

fn tencent_from_file(
    tried: &mut Tried,
    account: &str,
    path: &Path,
    source: String,
) -> Result<Option<TencentSecrets>, ConfigError> {
    let Some(file) = tried.file(path)? else {
        return Ok(None);
    };
    let in_file = |key: &str| format!("{key} in {}", path.display());
    if let Some(id) = &file.secret_id {
        unpadded(account, TENCENT_PAIR.0, &in_file("secret_id"), id)?;
    }
    if let Some(key) = &file.secret_key {
        unpadded(account, TENCENT_PAIR.1, &in_file("secret_key"), key)?;
    }
    match (non_empty(file.secret_id), non_empty_secret(file.secret_key)) {
        (Some(secret_id), Some(secret_key)) => Ok(Some(TencentSecrets {
            secret_id,
            secret_key,
            token: non_empty_secret(file.session_token),
            source,
            file_role: non_empty(file.role_arn).map(|role_arn| FileRole {
                role_arn,
                session_name: non_empty(file.role_session_name),
            }),
        })),
        _ => Err(ConfigError::BadCredentialsFile {
            path: path.to_path_buf(),
            line: None,
            reason: "it has no secret_id and secret_key (tccli JSON: secretId and secretKey)".into(),
            fix: "add both keys, or remove the file from the config".into(),
        }),
    }
}

impl OceanBaseAccount {
    /// Resolve this account's Open API AccessKey (see the module docs for the order).
    pub fn credentials(&self, cfg: &Config, env: EnvLookup<'_>) -> Result<ObCredentials, ConfigError> {
        let mut tried = Tried::default();
        let own_source = self.access_key_id_env.is_some() || self.credentials_file.is_some();
        if let (Some(id_var), Some(secret_var)) = (&self.access_key_id_env, &self.access_key_secret_env) {
            let vars = (id_var.as_str(), secret_var.as_str());
            if let Some((access_key_id, secret)) = tried.env_pair(env, &self.name, vars, OCEANBASE_PAIR)? {
                return Ok(ObCredentials {
                    access_key_id,
                    access_key_secret: Secret::new(secret),
                    source: format!("env vars {id_var} and {secret_var}"),
                });
            }
        }
        if let Some(path) = &self.credentials_file {
            if let Some(file) = tried.file(path)? {
                let in_file = |key: &str| format!("{key} in {}", path.display());
                if let Some(id) = &file.access_key_id {
                    unpadded(&self.name, OCEANBASE_PAIR.0, &in_file("access_key_id"), id)?;
                }
                if let Some(secret) = &file.access_key_secret {
                    unpadded(&self.name, OCEANBASE_PAIR.1, &in_file("access_key_secret"), secret)?;
                }
                return match (non_empty(file.access_key_id), non_empty_secret(file.access_key_secret)) {
                    (Some(access_key_id), Some(access_key_secret)) => Ok(ObCredentials {
                        access_key_id,
                        access_key_secret,
                        source: format!("credentials file {}", path.display()),
                    }),
                    _ => Err(ConfigError::BadCredentialsFile {
                        path: path.clone(),
                        line: None,
                        reason: "it has no access_key_id and access_key_secret".into(),
                        fix: "add both keys, or remove the file from the config".into(),
                    }),
                };
            }
        }
        if !own_source {
            let vars = ("OCEANBASE_ACCESS_KEY_ID", "OCEANBASE_ACCESS_KEY_SECRET");
            if let Some((access_key_id, secret)) = tried.env_pair(env, &self.name, vars, OCEANBASE_PAIR)? {
                return Ok(ObCredentials {
                    access_key_id,
                    access_key_secret: Secret::new(secret),
                    source: format!("env vars {} and {}", vars.0, vars.1),
                });
            }
        }
        let fix = match (
            &self.access_key_id_env,
            &self.access_key_secret_env,
            &self.credentials_file,
        ) {
            (Some(id), Some(secret), _) => {
                format!("export {id}=<AccessKey ID> and {secret}=<AccessKey secret> before starting keyward")
            }
            (_, _, Some(file)) => format!(
                "write access_key_id = \"...\" and access_key_secret = \"...\" into {} and chmod 600 it",
                file.display()
            ),
            _ => "export OCEANBASE_ACCESS_KEY_ID and OCEANBASE_ACCESS_KEY_SECRET, or set \
                  access_key_id_env/access_key_secret_env for this account \
                  (create the AccessKey in the console: User Preferences > AccessKey)"
                .to_string(),
        };
        Err(missing("OceanBase", &self.name, cfg, tried, fix))
    }
}

fn missing(provider: &'static str, account: &str, cfg: &Config, tried: Tried, fix: String) -> ConfigError {
    ConfigError::MissingCredentials(Box::new(MissingCredentials {
        provider,
        account: account.to_string(),
        config: cfg.path.clone(),
        env_vars: tried.env_vars,
        files: tried.files,
        notes: tried.notes,
        fix,
    }))
}

/// Read a file that holds secrets; `None` when it does not exist. Refused, like ssh
/// refuses key files, when group or others can read (or write) it.
fn read_secret_file(path: &Path) -> Result<Option<String>, ConfigError> {
    if !check_secret_file(path)? {
        return Ok(None);
    }
    std::fs::read_to_string(path)
        .map(Some)
        .map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })
}

/// The rule for a file that holds secrets, without reading it: `Ok(false)` when it does
/// not exist, `Ok(true)` when it may be read, else why not (group or others can read or
/// write it, it is a directory, it cannot be looked at). `keyward doctor` checks by it too.
pub fn check_secret_file(path: &Path) -> Result<bool, ConfigError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    // Checked before the mode: a directory's usual 755 would otherwise earn a misleading
    // "chmod 600", and a private one a bare "Is a directory".
    if meta.is_dir() {
        return Err(ConfigError::BadCredentialsFile {
            path: path.to_path_buf(),
            line: None,
            reason: "it is a directory, not a credentials file".to_string(),
            fix: "point the setting at the file that holds the keys, not at its directory".to_string(),
        });
    }
    check_private(path, &meta)?;
    Ok(true)
}

#[cfg(unix)]
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), ConfigError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ConfigError::InsecureFile {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), ConfigError> {
    // Windows ACLs are not mode bits; the user profile directory is private by default.
    Ok(())
}

/// JSON (tccli) when it starts with `{`, TOML otherwise. Parse errors name the line but
/// never quote the file, which holds secrets.
fn parse_credential_file(path: &Path, text: &str) -> Result<CredentialFile, ConfigError> {
    let bad = |line: Option<usize>, format: &str| ConfigError::BadCredentialsFile {
        path: path.to_path_buf(),
        line,
        reason: format!("it is not valid {format}"),
        fix: format!("fix the {format} syntax (the file's content is not shown because it holds secrets)"),
    };
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| bad(Some(e.line()), "JSON"))
    } else {
        toml::from_str(text).map_err(|e| bad(e.span().map(|s| super::validate::line_of(text, s.start)), "TOML"))
    }
}

/// Read an extra trusted root certificate (PEM) named by `ca_cert`.
pub fn read_ca_cert(path: &Path) -> Result<Vec<u8>, ConfigError> {
    let pem = std::fs::read(path).map_err(|e| ConfigError::CaCert {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
        return Err(ConfigError::CaCert {
            path: path.to_path_buf(),
            reason: "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        });
    }
    Ok(pem)
}
