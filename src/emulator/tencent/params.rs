//! Typed access to an API 3.0 JSON body, failing the way the service does: absent
//! required fields are MissingParameter, wrong JSON types InvalidParameter, fields the
//! action does not take UnknownParameter.

use crate::emulator::model::ApiError;
use serde_json::{Map, Value};

pub(crate) struct Params {
    map: Map<String, Value>,
}

/// One element of a `Filters.N` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

fn invalid(name: &str, expected: &str) -> ApiError {
    ApiError::new(
        "InvalidParameter",
        format!("The value of parameter `{name}` must be {expected}."),
    )
}

impl Params {
    pub fn parse(body: &[u8]) -> Result<Params, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Params { map: Map::new() });
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Params { map }),
            Ok(_) => Err(ApiError::new(
                "InvalidParameter",
                "The request body must be a JSON object of parameters.",
            )),
            Err(e) => Err(ApiError::new(
                "InvalidParameter",
                format!("The request body is not valid JSON: {e}."),
            )),
        }
    }

    #[cfg(test)]
    pub fn from_value(v: Value) -> Params {
        match v {
            Value::Object(map) => Params { map },
            _ => Params { map: Map::new() },
        }
    }

    /// JSON `null` counts as absent, as the SDKs treat unset fields.
    fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    pub fn allow_only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ApiError::new(
                "UnknownParameter",
                format!(
                    "The parameter `{k}` is not recognized. Parameters of this action: {}.",
                    allowed.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    pub fn opt_str(&self, name: &str) -> Result<Option<&str>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(invalid(name, "a string")),
        }
    }

    pub fn req_str(&self, name: &str) -> Result<&str, ApiError> {
        self.opt_str(name)?.ok_or_else(|| missing(name))
    }

    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| invalid(name, "an integer")),
            Some(_) => Err(invalid(name, "an integer")),
        }
    }

    pub fn req_int(&self, name: &str) -> Result<i64, ApiError> {
        self.opt_int(name)?.ok_or_else(|| missing(name))
    }

    pub fn opt_str_list(&self, name: &str) -> Result<Option<Vec<String>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(invalid(name, "an array of strings")),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(invalid(name, "an array of strings")),
        }
    }

    /// `Filters`: an array of `{"Name": string, "Values": [string]}`.
    pub fn filters(&self) -> Result<Option<Vec<Filter>>, ApiError> {
        let items = match self.get("Filters") {
            None => return Ok(None),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(invalid("Filters", "an array of Filter objects")),
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let obj = item
                    .as_object()
                    .ok_or_else(|| invalid(&format!("Filters.{i}"), "a Filter object"))?;
                if let Some(k) = obj.keys().find(|k| *k != "Name" && *k != "Values") {
                    return Err(ApiError::new(
                        "UnknownParameter",
                        format!("The parameter `Filters.{i}.{k}` is not recognized."),
                    ));
                }
                let name = match obj.get("Name") {
                    Some(Value::String(s)) => s.clone(),
                    None | Some(Value::Null) => return Err(missing(&format!("Filters.{i}.Name"))),
                    Some(_) => return Err(invalid(&format!("Filters.{i}.Name"), "a string")),
                };
                let values = match obj.get("Values") {
                    Some(Value::Array(vs)) => vs
                        .iter()
                        .map(|v| v.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| invalid(&format!("Filters.{i}.Values"), "an array of strings"))?,
                    None | Some(Value::Null) => return Err(missing(&format!("Filters.{i}.Values"))),
                    Some(_) => return Err(invalid(&format!("Filters.{i}.Values"), "an array of strings")),
                };
                Ok(Filter { name, values })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// `Offset` (default 0, >= 0) and `Limit` (default 20, 1..=100). A Limit above 100 is
    /// answered with `limit_code`, which differs between services.
    pub fn paging(&self, limit_code: &str) -> Result<(usize, usize), ApiError> {
        let offset = self.opt_int("Offset")?.unwrap_or(0);
        let limit = self.opt_int("Limit")?.unwrap_or(20);
        if offset < 0 {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!("Offset {offset} must not be negative."),
            ));
        }
        if limit > 100 {
            return Err(ApiError::new(
                limit_code,
                format!("Limit {limit} exceeds the maximum of 100."),
            ));
        }
        if limit < 1 {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!("Limit {limit} must be between 1 and 100."),
            ));
        }
        Ok((offset as usize, limit as usize))
    }
}

pub(crate) fn missing(name: &str) -> ApiError {
    ApiError::new(
        "MissingParameter",
        format!("The request is missing the required parameter `{name}`."),
    )
}

/// The requested page of `items` and the total count.
pub(crate) fn page<T>(items: Vec<T>, offset: usize, limit: usize) -> (usize, Vec<T>) {
    let total = items.len();
    (total, items.into_iter().skip(offset).take(limit).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_are_checked() {
        let p = Params::from_value(json!({"Limit": "10", "KeyIds": ["a", 1], "Name": null}));
        assert_eq!(p.opt_int("Limit").unwrap_err().code, "InvalidParameter");
        assert_eq!(p.opt_str_list("KeyIds").unwrap_err().code, "InvalidParameter");
        assert_eq!(p.req_str("Name").unwrap_err().code, "MissingParameter");
        assert_eq!(p.allow_only(&["Limit"]).unwrap_err().code, "UnknownParameter");
    }

    #[test]
    fn paging_bounds() {
        let ok = Params::from_value(json!({"Offset": 5, "Limit": 100}));
        assert_eq!(ok.paging("X").unwrap(), (5, 100));
        let over = Params::from_value(json!({"Limit": 101}));
        assert_eq!(
            over.paging("InvalidParameterValue.LimitExceeded").unwrap_err().code,
            "InvalidParameterValue.LimitExceeded"
        );
        let zero = Params::from_value(json!({"Limit": 0}));
        assert_eq!(zero.paging("X").unwrap_err().code, "InvalidParameterValue");
        assert_eq!(Params::parse(b"").unwrap().paging("X").unwrap(), (0, 20));
    }

    #[test]
    fn filters_parse_and_reject_bad_shapes() {
        let p = Params::from_value(json!({"Filters": [{"Name": "key-name", "Values": ["a", "b"]}]}));
        assert_eq!(
            p.filters().unwrap().unwrap(),
            vec![Filter {
                name: "key-name".into(),
                values: vec!["a".into(), "b".into()]
            }]
        );
        let p = Params::from_value(json!({"Filters": [{"Name": "key-name"}]}));
        assert_eq!(p.filters().unwrap_err().code, "MissingParameter");
        let p = Params::from_value(json!({"Filters": [{"Name": "key-name", "Values": "a"}]}));
        assert_eq!(p.filters().unwrap_err().code, "InvalidParameter");
    }
}
