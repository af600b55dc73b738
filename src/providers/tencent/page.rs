//! Small helpers the two Tencent providers share: reading typed fields out of a
//! `Response`, Offset/Limit paging, and id-count checks.

use super::client::codes;
use crate::providers::{ErrorKind, ProviderError};
use serde::de::DeserializeOwned;
use serde_json::Value;

pub fn protocol_error(action: &str, request_id: &str, what: &str) -> ProviderError {
    ProviderError::new(ErrorKind::Protocol, codes::PROTOCOL, format!("{action}: {what}"))
        .with_request_id(Some(request_id.to_string()))
}

/// `Response[name]` as `T`, or a Protocol error naming the field.
pub fn field<T: DeserializeOwned>(
    response: &Value,
    name: &str,
    action: &str,
    request_id: &str,
) -> Result<T, ProviderError> {
    let value = response.get(name).cloned().unwrap_or(Value::Null);
    serde_json::from_value(value).map_err(|e| {
        protocol_error(
            action,
            request_id,
            &format!("Response.{name} is not in the documented shape ({e})"),
        )
    })
}

/// One page of an Offset/Limit listing.
pub struct Page<T> {
    pub total: Option<u64>,
    pub items: Vec<T>,
}

impl<T> Page<T> {
    /// Whether this page (starting at `offset`) is the last one: TotalCount reached, or an
    /// empty page (the set shrank while we paged; asking further would loop forever).
    pub fn is_last(&self, offset: usize, action: &str, request_id: &str) -> Result<bool, ProviderError> {
        let Some(total) = self.total else {
            return Err(protocol_error(action, request_id, "the answer has no TotalCount"));
        };
        Ok(self.items.is_empty() || (offset + self.items.len()) as u64 >= total)
    }
}

/// Refuses an id list the action cannot take in one call, before any request.
pub fn expect_ids<'a>(ids: &'a [String], max: usize, action: &str) -> Result<&'a [String], ProviderError> {
    if ids.is_empty() {
        return Err(ProviderError::invalid(format!("{action}: no ids given")));
    }
    if ids.len() > max {
        return Err(ProviderError::invalid(format!(
            "{action} takes at most {max} id(s) per call, got {}; split the batch",
            ids.len()
        )));
    }
    Ok(ids)
}
