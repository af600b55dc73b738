//! OceanBase Cloud MaaS (AI service) API keys, through the Open API with HTTP Digest auth.
//!
//! One `OceanBase` value is one (account, project) pair; its scope's region is the project id.
//! List: `GET /api/v2/maas/apikeys?pageNumber=N&pageSize=100`, every page followed.
//! Delete: `DELETE /api/v2/maas/apikeys?id=<id>`, one key per call. No rename, rotate or
//! enable/disable API is documented for these keys, so the provider offers none.

mod client;
mod digest;
mod envelope;

use crate::inventory::{Item, ProviderKind, Scope, Status, Timestamp};
use crate::providers::http::{ConnectTo, excerpt};
use crate::providers::{
    BoundDelete, Capabilities, DeleteReport, ErrorKind, Operation, Provider, ProviderError, Receipt,
};
use crate::secret::Secret;
use crate::times;
use async_trait::async_trait;
use chrono::Utc;
use client::{ClientConfig, ObClient, header_value};
use compact_str::CompactString;
use reqwest::Method;
use reqwest::header::HeaderValue;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// The international site's Open API host.
pub const DEFAULT_ENDPOINT: &str = "https://api-cloud.oceanbase.com";
/// The MaaS API key resource: listed with GET, deleted with DELETE.
pub const KEYS_PATH: &str = "/api/v2/maas/apikeys";
/// The two calls as the log pane, the audit log and every error name them (the answers'
/// own `action` is ListAIServiceAPIKeys / DeleteAIServiceAPIKey; the method and path are
/// what an operator can repeat with curl).
pub const LIST_ACTION: &str = "GET /api/v2/maas/apikeys";
pub const DELETE_ACTION: &str = "DELETE /api/v2/maas/apikeys";
/// The documented maximum page size.
const PAGE_SIZE: usize = 100;
/// A server that keeps returning full pages forever is broken; stop instead of looping.
const MAX_PAGES: usize = 10_000;

/// The Open API calls by the names the log pane and the audit log use (method and path).
pub mod actions {
    pub const DELETE_API_KEY: &str = super::DELETE_ACTION;
}

/// The action of each operation OceanBase MaaS keys support: delete only (no rename,
/// rotate or enable/disable API is documented).
pub const fn action(op: Operation) -> Option<&'static str> {
    match op {
        Operation::Delete => Some(actions::DELETE_API_KEY),
        Operation::Disable | Operation::Enable | Operation::Rotate | Operation::Rename => None,
    }
}

/// What OceanBase MaaS keys support: delete, one key per call.
pub const CAPABILITIES: Capabilities = Capabilities {
    enable_disable: action(Operation::Disable).is_some() && action(Operation::Enable).is_some(),
    rotate: action(Operation::Rotate).is_some(),
    rename: action(Operation::Rename).is_some(),
    delete_requires_disabled: false,
    delete_batch: 1,
    bound_delete: BoundDelete::Unknown,
    // The MaaS error codes are not documented: a failed delete stays a failure.
    gone_code: None,
    delete_note: None,
    staged_rotation: false,
    ages_out: true,
    reports_last_use: false,
    binds_to: None,
};

/// An Open API AccessKey pair (console: User Preferences > AccessKey).
#[derive(Debug, Clone)]
pub struct ObCredentials {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// Where the pair came from ("env vars MAIN_ID and MAIN_SECRET", "credentials file
    /// ..."), named when OceanBase refuses it.
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct ObOptions {
    /// Open API base URL; `None` means [`DEFAULT_ENDPOINT`]. Plain http only to loopback.
    pub endpoint: Option<String>,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// One more trusted root certificate (PEM), e.g. the emulator's CA.
    pub extra_root_ca_pem: Option<Vec<u8>>,
    /// `[settings] connect_to`: connect here while keeping the endpoint's host name.
    pub connect_to: Option<ConnectTo>,
    /// Retries after the first try (see the retry policy on reads vs deletes).
    pub max_retries: u32,
    /// First backoff step; doubles per retry, with jitter.
    pub retry_base_delay: Duration,
    /// Client-side request rate for the account (shared by its projects). The Open API
    /// limits are not documented; the default of 10/s keeps a multi-project refresh quick
    /// without looking like a flood.
    pub requests_per_second: u32,
}

impl Default for ObOptions {
    fn default() -> Self {
        ObOptions {
            endpoint: None,
            timeout: Duration::from_secs(30),
            extra_root_ca_pem: None,
            connect_to: None,
            max_retries: 3,
            retry_base_delay: Duration::from_millis(250),
            requests_per_second: 10,
        }
    }
}

pub struct OceanBase {
    client: Arc<ObClient>,
    /// The region of this scope is the project id.
    scope: Scope,
    project_header: HeaderValue,
}

impl OceanBase {
    pub fn new(
        account: &str,
        org_id: &str,
        project_id: &str,
        creds: ObCredentials,
        opts: ObOptions,
    ) -> Result<Self, ProviderError> {
        let client = ObClient::new(ClientConfig {
            endpoint: opts.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT),
            org_id,
            access_key_id: &creds.access_key_id,
            access_key_secret: &creds.access_key_secret,
            credential_source: &creds.source,
            timeout: opts.timeout,
            extra_root_ca_pem: opts.extra_root_ca_pem.as_deref(),
            connect_to: opts.connect_to.as_ref(),
            max_retries: opts.max_retries,
            retry_base_delay: opts.retry_base_delay,
            requests_per_second: opts.requests_per_second,
        })?;
        Ok(OceanBase {
            client: Arc::new(client),
            scope: Scope::new(ProviderKind::OceanBase, account, project_id),
            project_header: header_value("project id", project_id)?,
        })
    }

    /// The same account (client, credentials, Digest nonce, request rate) for another
    /// project of its organization.
    pub fn for_project(&self, project_id: &str) -> Result<Self, ProviderError> {
        Ok(OceanBase {
            client: Arc::clone(&self.client),
            scope: Scope::new(ProviderKind::OceanBase, self.scope.account.clone(), project_id),
            project_header: header_value("project id", project_id)?,
        })
    }

    /// One list entry as an item; `now` decides whether it has expired. A time keyward
    /// cannot read is a Protocol error naming the key, the field and the value: an unread
    /// `expiresAt` shown as "no expiry" would hide an expired key.
    fn item(&self, id: String, key: ApiKey, now: Timestamp, request_id: &str) -> Result<Item, ProviderError> {
        let time = |field: &str, value: &Value| {
            instant(field, value).map_err(|why| {
                ProviderError::new(
                    ErrorKind::Protocol,
                    "Protocol",
                    format!("{LIST_ACTION}: key {id}: {why}"),
                )
                .with_request_id(Some(request_id.to_string()))
            })
        };
        let created = time("createdAt", &key.created_at)?;
        let modified = time("updatedAt", &key.updated_at)?;
        let expires = time("expiresAt", &key.expires_at)?;
        let last_used = time("lastUsedAt", &key.last_used_at)?;
        Ok(Item {
            key: self.scope.key(id),
            name: text(&key.name).unwrap_or_default().into(),
            status: status_at(expires, now),
            key_type: "api-key".into(),
            description: CompactString::default(),
            created,
            modified,
            last_used,
            expires,
            bindings: Vec::new(),
            signs_keyward: false,
            owner_active_keys: 0,
        })
    }
}

/// `expired` once `expiresAt` is reached, else `active` (also without an expiry). How
/// close an expiry is, is a finding with its threshold in settings, not a status.
fn status_at(expires: Option<Timestamp>, now: Timestamp) -> Status {
    match expires {
        Some(at) if at <= now => Status::Expired,
        _ => Status::Active,
    }
}

/// What the Open API may write for a time: the format is not documented, so each of
/// these is read; null, absent or an empty string is `None`.
const TIME_FORMATS: &str = "an RFC 3339 time, \"YYYY-MM-DD HH:MM:SS\" (UTC) or epoch seconds or milliseconds";

/// A time as the Open API may write it (see [`TIME_FORMATS`]): RFC 3339, `YYYY-MM-DD
/// HH:MM:SS` (read as UTC: no zone is documented), or epoch seconds / milliseconds as a
/// JSON number. Anything else is an error naming `field` and the value.
fn instant(field: &str, v: &Value) -> Result<Option<Timestamp>, String> {
    let read = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => {
            let s = s.trim();
            times::parse_rfc3339(s).or_else(|| times::parse_zoneless(s, 0))
        }
        Value::Number(n) => n.as_i64().and_then(times::from_epoch),
        _ => None,
    };
    read.map(Some)
        .ok_or_else(|| format!("{field} {v} is not {TIME_FORMATS}"))
}

/// Timestamps and ids are read as any JSON scalar: the field types are not documented.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiKey {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    name: Value,
    #[serde(default)]
    created_at: Value,
    #[serde(default)]
    updated_at: Value,
    #[serde(default)]
    expires_at: Value,
    #[serde(default, alias = "lastUsedTime")]
    last_used_at: Value,
}

/// One page of the list answer's `data`: the keys (from `data.list`, or `data.dataList`,
/// the older Open API family's name) and `total` when given. An answer without either
/// list, or with a key that has no id, is not read as an empty or partial inventory: it
/// fails with what is missing and an excerpt of what came instead.
fn read_page(
    data: &Value,
    page_number: usize,
    request_id: &str,
) -> Result<(Vec<(String, ApiKey)>, Value), ProviderError> {
    let unexpected = |what: String, shown: &Value| {
        ProviderError::new(
            ErrorKind::Protocol,
            "Protocol",
            format!(
                "{LIST_ACTION}: the key list (page {page_number}) {what}: {}",
                excerpt(shown.to_string().as_bytes())
            ),
        )
        .with_request_id(Some(request_id.to_string()))
    };
    let Some(fields) = data.as_object() else {
        return Err(unexpected("has no `data` object".into(), data));
    };
    let list = match fields.get("list").or_else(|| fields.get("dataList")) {
        Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.clone(),
        Some(_) => return Err(unexpected("has a `data.list` that is not an array".into(), data)),
        None => return Err(unexpected("has no `data.list` (nor `data.dataList`)".into(), data)),
    };
    let mut keys = Vec::with_capacity(list.len());
    for (index, entry) in list.into_iter().enumerate() {
        let key: ApiKey = match serde_json::from_value(entry.clone()) {
            Ok(key) => key,
            Err(_) => {
                return Err(unexpected(
                    format!("has entry {index} that is not a key object"),
                    &entry,
                ));
            }
        };
        let Some(id) = text(&key.id) else {
            return Err(unexpected(format!("has entry {index} without an `id`"), &entry));
        };
        keys.push((id, key));
    }
    Ok((keys, fields.get("total").cloned().unwrap_or_default()))
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn count(v: &Value) -> Option<usize> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[async_trait]
impl Provider for OceanBase {
    fn scope(&self) -> &Scope {
        &self.scope
    }

    async fn probe(&self) -> Result<Receipt, ProviderError> {
        let answer = self
            .client
            .call(
                LIST_ACTION,
                Method::GET,
                &self.project_header,
                KEYS_PATH,
                &[("pageNumber", "1"), ("pageSize", "1")],
            )
            .await?;
        Ok(Receipt {
            request_id: answer.request_id,
        })
    }

    /// Pages until the server says it is done: with `data.total`, until that many keys were
    /// seen; without it, until a page is shorter than the longest one so far (the docs say
    /// an oversized pageSize is "forcibly set to 20", so a short first page proves nothing).
    /// An empty page, or one holding only ids already seen, always ends the listing.
    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        let page_size = PAGE_SIZE.to_string();
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        let mut listed = 0usize;
        let mut largest_page = 0usize;
        let now = Utc::now();
        for page_number in 1..=MAX_PAGES {
            let page_text = page_number.to_string();
            let answer = self
                .client
                .call(
                    LIST_ACTION,
                    Method::GET,
                    &self.project_header,
                    KEYS_PATH,
                    &[("pageNumber", &page_text), ("pageSize", &page_size)],
                )
                .await?;
            let (keys, total) = read_page(&answer.data, page_number, &answer.request_id)?;
            let n = keys.len();
            listed += n;
            largest_page = largest_page.max(n);
            let before = items.len();
            for (id, key) in keys {
                // Keys can shift between pages while a refresh runs; keep each id once.
                if seen.insert(id.clone()) {
                    items.push(self.item(id, key, now, &answer.request_id)?);
                }
            }
            // A page that brings nothing new means the server repeats itself past the end.
            let done = n == 0
                || items.len() == before
                || match count(&total) {
                    Some(total) => listed >= total,
                    // Not "shorter than pageSize": a server capping the page size would
                    // then look finished after its first page.
                    None => n < largest_page,
                };
            if done {
                return Ok(items);
            }
        }
        Err(ProviderError::new(
            ErrorKind::Protocol,
            "Protocol",
            format!("{LIST_ACTION}: the key list did not end after {MAX_PAGES} pages of {PAGE_SIZE}"),
        ))
    }

    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError> {
        let [id] = ids else {
            return Err(ProviderError::invalid(format!(
                "{DELETE_ACTION}: OceanBase deletes one API key per call, {} ids were given",
                ids.len()
            )));
        };
        let answer = self
            .client
            .call(
                DELETE_ACTION,
                Method::DELETE,
                &self.project_header,
                KEYS_PATH,
                &[("id", id)],
            )
            .await?;
        Ok(DeleteReport {
            request_id: answer.request_id,
            deleted: vec![id.clone()],
            kept: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(text: &str) -> Option<Timestamp> {
        times::parse_rfc3339(text)
    }

    #[test]
    fn every_accepted_time_format_reads_as_its_instant() {
        let eight = at("2025-03-01T08:00:00Z");
        assert_eq!(instant("createdAt", &json!("2025-03-01T08:00:00Z")), Ok(eight));
        assert_eq!(instant("createdAt", &json!("2025-03-01T16:00:00+08:00")), Ok(eight));
        assert_eq!(
            instant("createdAt", &json!("2025-03-01 08:00:00")),
            Ok(eight),
            "zoneless is UTC"
        );
        assert_eq!(instant("createdAt", &json!(" 2025-03-01 08:00:00 ")), Ok(eight));
        assert_eq!(instant("createdAt", &json!(1_740_816_000)), Ok(eight), "epoch seconds");
        assert_eq!(
            instant("createdAt", &json!(1_740_816_000_000i64)),
            Ok(eight),
            "epoch ms"
        );
    }

    #[test]
    fn null_absent_or_empty_is_unknown() {
        assert_eq!(instant("expiresAt", &Value::Null), Ok(None));
        assert_eq!(instant("expiresAt", &json!("")), Ok(None));
        let key: ApiKey = serde_json::from_value(json!({ "id": "ak-1" })).unwrap();
        assert_eq!(instant("expiresAt", &key.expires_at), Ok(None), "a field left out");
    }

    #[test]
    fn anything_else_is_an_error_naming_the_field_and_the_value() {
        for (value, shown) in [
            (json!("next spring"), "\"next spring\""),
            (json!("2025-03-01"), "\"2025-03-01\""),
            (json!(1.5), "1.5"),
            (json!(true), "true"),
            (json!(u64::MAX), "18446744073709551615"),
        ] {
            let err = instant("expiresAt", &value).unwrap_err();
            assert_eq!(err, format!("expiresAt {shown} is not {TIME_FORMATS}"));
        }
    }

    #[test]
    fn a_key_is_expired_from_its_expiry_on() {
        let now = at("2025-03-01T08:00:00Z").unwrap();
        let second = chrono::TimeDelta::seconds(1);
        assert_eq!(status_at(Some(now - second), now), Status::Expired);
        assert_eq!(status_at(Some(now), now), Status::Expired);
        assert_eq!(status_at(Some(now + second), now), Status::Active);
        assert_eq!(status_at(None, now), Status::Active);
    }
}
