//! `keyward doctor`: whether each configured account can work, one line per check,
//! `PASS|FAIL|WARN <check>: <detail>`, and under a failure (or a warning) the fix.
//!
//! Checks, in order: the config parses; each credential file passes the rule every secret
//! file must (`config::check_secret_file`); each account's credentials resolve; each
//! endpoint answers over HTTPS; the local clock agrees with the endpoints' `Date` headers
//! (a TC3 signature more than 5 minutes off is refused); and one cheap read per account and
//! service (`Provider::probe`) proves the credentials are accepted. Exit status 0 when
//! nothing failed, 1 otherwise.

use crate::config::{Config, ConfigError, EnvLookup, check_secret_file};
use crate::inventory::ProviderKind;
use crate::providers::http::{HttpSettings, transport_failure};
use crate::providers::tencent::client::http_client;
use crate::providers::{ErrorKind, Provider, ProviderError};
use crate::{hints, registry};
use chrono::{DateTime, TimeDelta, Utc};
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Beyond this the service refuses every signature: TC3 signs the request time and Tencent
/// Cloud rejects one more than 5 minutes off (`AuthFailure.SignatureExpire`).
pub const MAX_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(5);
/// Beyond this the clock is drifting towards that limit: a warning.
const WARN_CLOCK_SKEW: TimeDelta = TimeDelta::minutes(1);
/// The most one endpoint check waits (the config's timeout when shorter).
const ENDPOINT_TIMEOUT: Duration = Duration::from_secs(10);
/// Endpoint checks and reads in flight at once.
const IN_FLIGHT: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        })
    }
}

/// One check's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub status: Status,
    pub name: String,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Check {
            status: Status::Pass,
            name: name.into(),
            detail: detail.into(),
            fix: None,
        }
    }

    fn problem(status: Status, name: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Check {
            status,
            name: name.into(),
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// A failure from an error whose text ends in `\n  fix: ...`, as every `ConfigError`'s
    /// does: its other lines joined onto the one detail line.
    fn from_error(name: impl Into<String>, error: &dyn fmt::Display, default_fix: &str) -> Self {
        let (detail, fix) = split_fix(&error.to_string());
        Check::problem(
            Status::Fail,
            name,
            detail,
            fix.unwrap_or_else(|| default_fix.to_string()),
        )
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.name, self.detail)?;
        match &self.fix {
            Some(fix) if self.status != Status::Pass => write!(f, "\n     fix: {fix}"),
            _ => Ok(()),
        }
    }
}

/// An error text's detail (its lines joined with "; ") and its fix, if it names one.
fn split_fix(text: &str) -> (String, Option<String>) {
    let (detail, fix) = match text.split_once("\n  fix: ") {
        Some((detail, fix)) => (detail, Some(fix.trim().to_string())),
        None => (text, None),
    };
    let detail = detail
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    (detail, fix)
}

/// Writes each check as soon as it is known and remembers whether any failed.
struct Report<'a> {
    out: &'a mut dyn Write,
    failed: bool,
}

impl Report<'_> {
    fn add(&mut self, check: Check) {
        self.failed |= check.status == Status::Fail;
        // Output is best effort: a closed pipe must not hide the exit status.
        let _ = writeln!(self.out, "{check}");
        let _ = self.out.flush();
    }
}

/// `keyward doctor`.
pub fn command(config: Option<&Path>) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let ran = crate::runtime::block_on(run(config, &crate::config::process_env, &mut stdout));
    match ran {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(code) => code,
    }
}

/// Run every check, writing each to `out`; true when none failed.
pub async fn run(config: Option<&Path>, env: EnvLookup<'_>, out: &mut dyn Write) -> bool {
    let mut report = Report { out, failed: false };
    let cfg = match Config::load(config, env) {
        Ok(cfg) => cfg,
        Err(e) => {
            report.add(Check::from_error("config", &e, "see config.example.toml"));
            return false;
        }
    };
    if cfg.is_empty() {
        report.add(Check::problem(
            Status::Fail,
            "config",
            format!("{} configures no account", cfg.path.display()),
            "add a [[tencent]] or [[oceanbase]] table (see config.example.toml)",
        ));
        return false;
    }
    report.add(Check::pass(
        "config",
        format!(
            "{} parses ({} Tencent Cloud and {} OceanBase accounts)",
            cfg.path.display(),
            cfg.tencent.len(),
            cfg.oceanbase.len()
        ),
    ));
    let sources = credentials(&cfg, env, &mut report);
    let dates = endpoints(&cfg, &mut report).await;
    report.add(clock(&dates));
    reads(&cfg, env, &sources, &mut report).await;
    !report.failed
}

/// An account as checks name it: `tencent "prod"`.
fn account_name(provider: &str, name: &str) -> String {
    format!("{provider} \"{name}\"")
}

/// Where each account's credentials came from, keyed by `account_name`; accounts whose
/// credentials did not resolve are absent.
type Sources = HashMap<String, String>;

fn credentials(cfg: &Config, env: EnvLookup<'_>, report: &mut Report<'_>) -> Sources {
    let mut sources = Sources::new();
    let mut check = |who: String, files: Vec<PathBuf>, resolved: Result<String, ConfigError>| {
        for file in files {
            match check_secret_file(&file) {
                Ok(true) => report.add(Check::pass(
                    format!("credential file {who}"),
                    format!("{} is readable by you alone", file.display()),
                )),
                // Absent is no problem of the file's: the credentials check says whether
                // the account found its keys elsewhere.
                Ok(false) => {}
                Err(e) => report.add(Check::from_error(format!("credential file {who}"), &e, "chmod 600 it")),
            }
        }
        match resolved {
            Ok(source) => {
                report.add(Check::pass(format!("credentials {who}"), format!("from {source}")));
                sources.insert(who, source);
            }
            Err(e) => report.add(Check::from_error(
                format!("credentials {who}"),
                &e,
                "see the account's credential settings in config.example.toml",
            )),
        }
    };
    for account in &cfg.tencent {
        let resolved = account.credentials(cfg, env).map(|c| c.source);
        check(
            account_name("tencent", &account.name),
            account.credential_files(env),
            resolved,
        );
    }
    for account in &cfg.oceanbase {
        let resolved = account.credentials(cfg, env).map(|c| c.source);
        check(
            account_name("oceanbase", &account.name),
            account.credential_files(),
            resolved,
        );
    }
    sources
}

/// One endpoint to reach, with the connection settings of the account that uses it.
struct Endpoint {
    url: String,
    http: HttpSettings,
}

/// An endpoint's `Date` header and the local time its answer arrived.
struct Dated {
    host: String,
    server: DateTime<Utc>,
    local: DateTime<Utc>,
}

/// Every distinct endpoint (with its account's trust and `connect_to`), each checked once.
async fn endpoints(cfg: &Config, report: &mut Report<'_>) -> Vec<Dated> {
    let mut seen = HashSet::new();
    let mut todo = Vec::new();
    let timeout = cfg.settings.timeout.min(ENDPOINT_TIMEOUT);
    let mut add = |who: String, urls: Vec<String>, ca_cert: Option<&Path>, report: &mut Report<'_>| {
        let extra_root_ca_pem = match cfg.settings.extra_roots(ca_cert) {
            Ok(pem) => pem,
            Err(e) => {
                report.add(Check::from_error(
                    format!("ca_cert {who}"),
                    &e,
                    "point ca_cert at a PEM file",
                ));
                return;
            }
        };
        for url in urls {
            if seen.insert((url.clone(), ca_cert.map(Path::to_path_buf))) {
                todo.push(Endpoint {
                    url,
                    http: HttpSettings {
                        timeout,
                        extra_root_ca_pem: extra_root_ca_pem.clone(),
                        connect_to: cfg.settings.connect_to.clone(),
                    },
                });
            }
        }
    };
    for a in &cfg.tencent {
        add(
            account_name("tencent", &a.name),
            registry::tencent_endpoints(a),
            a.ca_cert.as_deref(),
            report,
        );
    }
    for a in &cfg.oceanbase {
        add(
            account_name("oceanbase", &a.name),
            vec![registry::oceanbase_endpoint(a)],
            a.ca_cert.as_deref(),
            report,
        );
    }
    let connect_to = cfg
        .settings
        .connect_to
        .as_ref()
        .map(|c| format!(" (through connect_to {c})"));
    let mut results = futures::stream::iter(todo).map(reach).buffered(IN_FLIGHT);
    let mut dates = Vec::new();
    while let Some((endpoint, result)) = results.next().await {
        let name = format!("endpoint {}", endpoint.url);
        match result {
            Ok((status, dated)) => {
                report.add(Check::pass(
                    name,
                    format!("answered HTTP {status}{}", connect_to.as_deref().unwrap_or("")),
                ));
                dates.extend(dated);
            }
            Err(e) => {
                let fix = hints::for_error(&e)
                    .unwrap_or_else(|| "check the network, the proxy and the account's endpoint settings".to_string());
                report.add(Check::problem(Status::Fail, name, e.message, fix));
            }
        }
    }
    dates
}

/// One unsigned GET: any HTTP answer proves the endpoint is reachable (Tencent Cloud
/// answers it with an error envelope), and carries the server's `Date`.
async fn reach(endpoint: Endpoint) -> (Endpoint, Result<(u16, Option<Dated>), ProviderError>) {
    let result = async {
        let client = http_client(&endpoint.http)?;
        let response = client
            .get(&endpoint.url)
            .timeout(endpoint.http.timeout)
            .send()
            .await
            .map_err(|e| transport_failure(&e, &format!("GET {}", endpoint.url)))?;
        let local = Utc::now();
        let server = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
            .map(|d| d.with_timezone(&Utc));
        let host = response.url().host_str().unwrap_or_default().to_string();
        let dated = server.map(|server| Dated { host, server, local });
        Ok((response.status().as_u16(), dated))
    }
    .await;
    (endpoint, result)
}

/// The clock check over every `Date` the endpoints sent: the largest skew decides.
fn clock(dates: &[Dated]) -> Check {
    let Some(worst) = dates.iter().max_by_key(|d| (d.server - d.local).abs()) else {
        return Check::problem(
            Status::Warn,
            "clock",
            "no endpoint sent a Date header, so the local clock could not be compared",
            "make sure the clock is synced (timedatectl set-ntp true, or the platform's time settings)",
        );
    };
    // The Date header has whole seconds, cut down: the server's time is half a second
    // later on average. The skew is then told rounded to whole seconds.
    let estimate_ms = (worst.server - worst.local).num_milliseconds() + 500;
    let skew = TimeDelta::seconds((estimate_ms + 500).div_euclid(1000));
    let off = skew.abs();
    let words = match skew.num_seconds() {
        -1..=1 => format!(
            "the local clock agrees with the Date header of every endpoint that answered ({})",
            dates.len()
        ),
        s if s > 0 => format!("the local clock is {} behind {}'s Date header", span(off), worst.host),
        _ => format!("the local clock is {} ahead of {}'s Date header", span(off), worst.host),
    };
    let sync = "sync the clock (timedatectl set-ntp true, or the platform's time settings)";
    if off > MAX_CLOCK_SKEW {
        Check::problem(
            Status::Fail,
            "clock",
            format!("{words}; Tencent Cloud refuses signatures more than 5 minutes off (AuthFailure.SignatureExpire)"),
            sync,
        )
    } else if off > WARN_CLOCK_SKEW {
        Check::problem(
            Status::Warn,
            "clock",
            format!("{words}; past 5 minutes every signed request is refused"),
            sync,
        )
    } else {
        Check::pass("clock", words)
    }
}

/// `1 min 5 s`, `40 s`.
fn span(d: TimeDelta) -> String {
    let secs = d.num_seconds().abs();
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

/// One probe per account and service (the first of its regions or projects), for the
/// accounts whose credentials resolved.
async fn reads(cfg: &Config, env: EnvLookup<'_>, sources: &Sources, report: &mut Report<'_>) {
    let mut seen = HashSet::new();
    let probes: Vec<(String, Arc<dyn Provider>)> = registry::build_each(cfg, env)
        .into_iter()
        .filter_map(|p| {
            let scope = p.scope();
            let provider = if scope.kind == ProviderKind::OceanBase {
                "oceanbase"
            } else {
                "tencent"
            };
            let who = account_name(provider, &scope.account);
            let first = seen.insert((scope.kind, scope.account.clone()));
            (first && sources.contains_key(&who)).then_some((who, p))
        })
        .collect();
    let mut results = futures::stream::iter(probes)
        .map(|(who, p)| async move {
            let result = p.probe().await;
            (who, p, result)
        })
        .buffered(IN_FLIGHT);
    while let Some((who, p, result)) = results.next().await {
        let scope = p.scope();
        let name = format!("read {who} {} {}", scope.kind, scope.region);
        match result {
            Ok(receipt) if receipt.request_id.is_empty() => report.add(Check::pass(name, "listed")),
            Ok(receipt) => report.add(Check::pass(
                name,
                format!("answered (RequestId {})", receipt.request_id),
            )),
            Err(e) => {
                let source = sources.get(&who).map(String::as_str).unwrap_or("?");
                report.add(Check::problem(Status::Fail, name, e.to_string(), read_fix(&e, source)));
            }
        }
    }
}

/// The fix for a failed read: the hint for its code, and for a refused credential where
/// that credential came from, which is what the operator has to correct.
fn read_fix(e: &ProviderError, source: &str) -> String {
    let hint = hints::for_error(e).unwrap_or_else(|| "see the error above".to_string());
    // An expired signature is the clock's fault, not the credentials'.
    if e.kind == ErrorKind::Auth && e.code != "AuthFailure.SignatureExpire" {
        format!("{hint} (this account's credentials come from {source})")
    } else {
        hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server `skew_secs` ahead, its Date cut to whole seconds as the header is.
    fn dated(skew_secs: i64) -> Dated {
        use chrono::Timelike;
        let local = Utc::now();
        let server = local + TimeDelta::seconds(skew_secs);
        Dated {
            host: "cvm.tencentcloudapi.com".into(),
            server: server.with_nanosecond(0).unwrap(),
            local,
        }
    }

    #[test]
    fn a_clock_more_than_five_minutes_off_fails_and_names_the_fix() {
        let c = clock(&[dated(1), dated(-301)]);
        assert_eq!(c.status, Status::Fail);
        assert!(
            c.detail.contains("5 min 1 s ahead of cvm.tencentcloudapi.com"),
            "{}",
            c.detail
        );
        assert!(c.detail.contains("SignatureExpire"), "{}", c.detail);
        assert!(c.fix.as_deref().unwrap().contains("sync the clock"));
        let c = clock(&[dated(600)]);
        assert!(c.detail.contains("10 min behind"), "{}", c.detail);
    }

    #[test]
    fn a_small_skew_passes_and_a_drifting_one_warns() {
        assert_eq!(clock(&[dated(0)]).status, Status::Pass);
        assert!(clock(&[dated(1)]).detail.contains("agrees"));
        assert_eq!(clock(&[dated(-90)]).status, Status::Warn);
        assert_eq!(clock(&[]).status, Status::Warn);
    }

    #[test]
    fn lines_are_status_check_detail_and_the_fix_below() {
        let c = Check::from_error(
            "config",
            &"/etc/k.toml:3: unknown key `regoins`\n  fix: did you mean `regions`?",
            "unused",
        );
        assert_eq!(
            c.to_string(),
            "FAIL config: /etc/k.toml:3: unknown key `regoins`\n     fix: did you mean `regions`?"
        );
        assert_eq!(Check::pass("clock", "ok").to_string(), "PASS clock: ok");
        let (detail, fix) = split_fix("no credentials\n  looked at env vars: A\n  fix: export A");
        assert_eq!(
            (detail.as_str(), fix.as_deref()),
            ("no credentials; looked at env vars: A", Some("export A"))
        );
    }

    #[test]
    fn a_refused_credential_names_its_source_in_the_fix() {
        let e = ProviderError::new(ErrorKind::Auth, "AuthFailure.SignatureFailure", "bad");
        let fix = read_fix(&e, "env vars A and B");
        assert!(
            fix.contains("SecretKey") && fix.ends_with("come from env vars A and B)"),
            "{fix}"
        );
        let e = ProviderError::new(ErrorKind::RateLimited, "RequestLimitExceeded", "slow");
        assert!(!read_fix(&e, "env vars A and B").contains("env vars"));
    }
}
