//! Small helpers the two Tencent providers share: reading typed fields out of a
//! `Response`, Offset/Limit paging, and id-count checks.

use super::client::codes;
use crate::providers::{ErrorKind, ProviderError};
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The entries of a documented `...Set` / `...List`, each required to be a JSON object.
/// serde's derived `Deserialize` also accepts a struct written as an array of its field
/// values, which no Tencent answer does: an entry like `[""]` would otherwise become an
/// item with an empty id instead of a Protocol error.
#[derive(Debug)]
pub struct Entries<T>(pub Vec<T>);

impl<T> Default for Entries<T> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Entries<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let values = Vec::<Value>::deserialize(deserializer)?;
        values
            .into_iter()
            .enumerate()
            .map(|(i, value)| {
                if !value.is_object() {
                    return Err(D::Error::custom(format!("entry {i} is not a JSON object")));
                }
                serde_json::from_value(value).map_err(|e| D::Error::custom(format!("entry {i}: {e}")))
            })
            .collect::<Result<Vec<T>, D::Error>>()
            .map(Entries)
    }
}

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

/// Every item of an Offset/Limit listing: `fetch(offset)` gets one page and its RequestId,
/// starting at 0 and moving on by the items received until `Page::is_last`.
pub async fn collect_pages<T, F, Fut>(action: &str, mut fetch: F) -> Result<Vec<T>, ProviderError>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<(Page<T>, String), ProviderError>>,
{
    let mut items = Vec::new();
    let mut offset = 0usize;
    loop {
        let (page, request_id) = fetch(offset).await?;
        let done = page.is_last(offset, action, &request_id)?;
        offset += page.items.len();
        items.extend(page.items);
        if done {
            return Ok(items);
        }
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

/// Generators (and an offline client) the Tencent parsers' property tests share.
#[cfg(test)]
pub(super) mod arb {
    use crate::providers::tencent::client::{ClientOptions, Credentials, ServiceSpec, TencentClient};
    use crate::secret::Secret;
    use proptest::prelude::*;
    use serde_json::{Number, Value};
    use std::sync::Arc;

    /// A client that is never called: the providers need one to exist, the item mapping does not use it.
    pub fn offline_client(spec: ServiceSpec) -> Arc<TencentClient> {
        let creds = Credentials {
            secret_id: "AKIDprop".into(),
            secret_key: Secret::new("prop-key"),
            token: None,
        };
        Arc::new(TencentClient::new(spec, creds, ClientOptions::default()).expect("an offline client builds"))
    }

    /// Every field name the Tencent parsers look up, mixed into generated objects so random
    /// JSON reaches the interesting branches instead of only missing fields.
    pub const NAMES: &[&str] = &[
        "Response",
        "RequestId",
        "Error",
        "Code",
        "Message",
        "Result",
        "TotalCount",
        "ApiKeySet",
        "AccessKeyId",
        "AccessKeySecret",
        "AccessKeyType",
        "SecretName",
        "Status",
        "CreatedTime",
        "ModifiedTime",
        "KeyPairSet",
        "KeyId",
        "KeyName",
        "Description",
        "PublicKey",
        "AssociatedInstanceIds",
        "UsagePlanStatusSet",
        "UsagePlanId",
        "UsagePlanName",
        "AccessKeyList",
    ];

    pub fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => prop::sample::select(NAMES).prop_map(str::to_string),
            1 => "\\PC{0,8}",
        ]
    }

    pub fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            // NaN and infinities have no JSON form.
            any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
            "\\PC{0,16}".prop_map(Value::String),
        ]
    }

    /// A documented entry with one of `fields` replaced by any JSON value (or removed).
    pub fn one_field_corrupted(
        entry: impl Strategy<Value = Value>,
        fields: &'static [&'static str],
    ) -> impl Strategy<Value = Value> {
        (entry, prop::sample::select(fields), prop::option::of(json())).prop_map(|(mut v, name, value)| {
            if let Some(map) = v.as_object_mut() {
                match value {
                    Some(value) => map.insert(name.to_string(), value),
                    None => map.remove(name),
                };
            }
            v
        })
    }

    /// What a `...Set` field may hold: any JSON, or an array of random objects and `entry`s.
    pub fn set_of(entry: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
        prop_oneof![
            json(),
            prop::collection::vec(prop_oneof![object(json()), entry], 0..5).prop_map(Value::Array),
        ]
    }

    /// Any JSON value up to a few levels deep.
    pub fn json() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                object(inner),
            ]
        })
    }

    /// An object whose values come from `values`, keys mostly from `NAMES`.
    pub fn object(values: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
        prop::collection::vec((key(), values), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect()))
    }

    /// Seconds since the epoch from 1970 to 2100: a time any listing may carry.
    pub fn epoch_seconds() -> impl Strategy<Value = i64> {
        0i64..4_102_444_800
    }

    /// `secs` as Tencent writes an ISO 8601 UTC time: `2024-01-02T03:04:05Z`.
    pub fn rfc3339(secs: i64) -> String {
        chrono::DateTime::from_timestamp(secs, 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    }

    /// `Some(x)` as `x`, `None` as JSON null, or the field left out (`None` from the outer option).
    pub fn optional<T: std::fmt::Debug + Clone>(
        values: impl Strategy<Value = T>,
    ) -> impl Strategy<Value = Option<Option<T>>> {
        prop::option::of(prop::option::of(values))
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const ACTION: &str = "DescribeKeyPairs";
    const REQUEST_ID: &str = "req-prop";

    fn check_protocol_error(err: &ProviderError, name: &str) -> Result<(), TestCaseError> {
        prop_assert_eq!(err.kind, ErrorKind::Protocol);
        prop_assert_eq!(err.code.as_str(), codes::PROTOCOL);
        prop_assert_eq!(err.request_id.as_deref(), Some(REQUEST_ID));
        let names_field = format!("Response.{name} ");
        prop_assert!(err.message.starts_with(ACTION), "{}", err.message);
        prop_assert!(err.message.contains(&names_field), "{}", err.message);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the Response holds, `field` answers a value or a Protocol error that
        /// names the field and keeps the RequestId; it never panics.
        #[test]
        fn field_never_panics_and_names_the_field(response in arb::json(), name in arb::key()) {
            if let Err(e) = field::<u64>(&response, &name, ACTION, REQUEST_ID) {
                check_protocol_error(&e, &name)?;
            }
            if let Err(e) = field::<Option<Vec<String>>>(&response, &name, ACTION, REQUEST_ID) {
                check_protocol_error(&e, &name)?;
            }
            if let Err(e) = field::<Vec<Value>>(&response, &name, ACTION, REQUEST_ID) {
                check_protocol_error(&e, &name)?;
            }
        }

        /// A present field reads back as itself, an absent or null one as `None`.
        #[test]
        fn field_reads_back_what_is_there(
            mut response in arb::object(arb::json()),
            name in arb::key(),
            value in arb::optional(prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()]),
        ) {
            let map = response.as_object_mut().unwrap();
            map.remove(&name);
            if let Some(v) = value {
                map.insert(name.clone(), json!(v));
            }
            let got = field::<Option<u64>>(&response, &name, ACTION, REQUEST_ID);
            prop_assert_eq!(got, Ok(value.flatten()));
            if let Some(Some(v)) = value {
                prop_assert_eq!(field::<u64>(&response, &name, ACTION, REQUEST_ID), Ok(v));
            }
        }

        #[test]
        fn is_last_when_total_reached_or_page_empty(
            offset in 0usize..500,
            len in 0usize..120,
            // None: no TotalCount; Some(Some(d)): offset + len + d, right at the boundary where
            // an off-by-one would show; Some(None): the unrelated count `far`.
            total in prop::option::of(prop_oneof![(-2i64..=2).prop_map(Some), Just(None)]),
            far in 0u64..1000,
        ) {
            let total = total.map(|delta| match delta {
                Some(delta) => (offset as u64 + len as u64).saturating_add_signed(delta),
                None => far,
            });
            let page = Page { total, items: vec![(); len] };
            match (page.is_last(offset, ACTION, REQUEST_ID), total) {
                (Ok(last), Some(total)) => prop_assert_eq!(last, len == 0 || (offset + len) as u64 >= total),
                (Err(e), None) => {
                    prop_assert_eq!(e.kind, ErrorKind::Protocol);
                    prop_assert_eq!(e.request_id.as_deref(), Some(REQUEST_ID));
                    prop_assert!(e.message.contains("TotalCount"), "{}", e.message);
                }
                (got, total) => prop_assert!(false, "is_last = {:?} with TotalCount {:?}", got, total),
            }
        }

        /// Paging by Offset/Limit with `collect_pages`, as the providers do, collects every
        /// item exactly once and stops, also when the reported TotalCount overstates the set
        /// (it shrank).
        #[test]
        fn following_pages_collects_everything_and_stops(
            real in 0usize..700,
            extra in prop_oneof![Just(0u64), 0u64..1_000_000],
            limit in 1usize..=100,
        ) {
            let total = real as u64 + extra;
            let max_calls = real / limit + 2;
            let mut calls = 0;
            let seen = futures::executor::block_on(collect_pages(ACTION, |offset| {
                calls += 1;
                // Past the bound the listing would not stop: end it so the assertion below reports it.
                let result = if calls > max_calls {
                    Err(ProviderError::invalid("still paging"))
                } else {
                    let page = Page { total: Some(total), items: (offset..real.min(offset + limit)).collect() };
                    Ok((page, REQUEST_ID.to_string()))
                };
                std::future::ready(result)
            }));
            prop_assert!(calls <= max_calls, "still paging after {} calls", calls);
            prop_assert_eq!(seen.unwrap(), (0..real).collect::<Vec<_>>());
            if extra == 0 {
                // An honest TotalCount ends the listing without an extra, empty call.
                prop_assert_eq!(calls, real.div_ceil(limit).max(1));
            }
        }

        #[test]
        fn expect_ids_takes_one_to_max(len in 0usize..150, max in 1usize..=100) {
            let ids: Vec<String> = (0..len).map(|i| format!("id-{i}")).collect();
            match expect_ids(&ids, max, "DeleteKeyPairs") {
                Ok(taken) => {
                    prop_assert!((1..=max).contains(&len));
                    prop_assert_eq!(taken, &ids[..]);
                }
                Err(e) => {
                    prop_assert!(len == 0 || len > max, "refused {} of at most {}", len, max);
                    prop_assert_eq!(e.kind, ErrorKind::Invalid);
                    prop_assert!(e.message.starts_with("DeleteKeyPairs"), "{}", e.message);
                }
            }
        }
    }
}

#[cfg(test)]
mod entries_tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, serde::Deserialize)]
    struct Named {
        #[serde(rename = "Id")]
        id: String,
    }

    /// The case proptest found: a struct written as an array of its fields is not an entry.
    #[test]
    fn an_entry_that_is_not_an_object_is_refused() {
        let response = json!({ "Set": [[""]] });
        let err = field::<Entries<Named>>(&response, "Set", "DescribeThings", "req").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Protocol);
        assert!(err.message.contains("entry 0 is not a JSON object"), "{}", err.message);
        let ok: Entries<Named> = field(&json!({ "Set": [{ "Id": "a" }] }), "Set", "DescribeThings", "req").unwrap();
        assert_eq!(ok.0.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), ["a"]);
    }
}
