//! API Gateway (apigateway 2018-08-08) API key actions, over one account's keys in one region,
//! and the two read-only usage-plan actions keyward needs to learn which keys are bound.
//!
//! Usage plans are not stored separately: a seed marks each bound key with its plan id, and
//! the region's plans are exactly the distinct ids its keys carry (name and dates derived
//! from the id). A bound key cannot be deleted, so a plan never loses its last key here.

use super::params::{Params, missing, page};
use crate::emulator::fake;
use crate::emulator::model::ApiError;
use crate::emulator::model::ApiKeyRecord;
use crate::providers::tencent::apigateway::{actions, validate_custom_secret};
use crate::secret::Secret;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Every action this emulator serves: the provider module's list, so the two cannot drift.
pub const ACTIONS: &[&str] = actions::ALL;

pub(crate) fn dispatch(action: &str, keys: &mut Vec<ApiKeyRecord>, p: &Params) -> Result<Value, ApiError> {
    match action {
        actions::DESCRIBE_API_KEYS_STATUS => describe_status(keys, p),
        actions::DESCRIBE_API_KEY => {
            p.allow_only(&["AccessKeyId"])?;
            let key = find(keys, p.req_str("AccessKeyId")?)?;
            Ok(json!({ "Result": key_json(key) }))
        }
        actions::CREATE_API_KEY => create(keys, p),
        actions::UPDATE_API_KEY => update(keys, p),
        actions::DISABLE_API_KEY => set_enabled(keys, p, false),
        actions::ENABLE_API_KEY => set_enabled(keys, p, true),
        actions::DELETE_API_KEY => delete(keys, p),
        actions::DESCRIBE_USAGE_PLANS_STATUS => describe_usage_plans(keys, p),
        actions::DESCRIBE_USAGE_PLAN_SECRET_IDS => describe_plan_secret_ids(keys, p),
        _ => Err(ApiError::new(
            "InvalidAction",
            format!("The action {action} does not exist."),
        )),
    }
}

/// The documented `ApiKey` structure; the real API does return the secret.
fn key_json(k: &ApiKeyRecord) -> Value {
    json!({
        "AccessKeyId": k.id,
        "AccessKeySecret": k.secret.expose(),
        "AccessKeyType": k.key_type,
        "SecretName": k.name,
        "Status": if k.enabled { 1 } else { 0 },
        "CreatedTime": k.created,
        "ModifiedTime": k.modified,
    })
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        "ResourceNotFound.InvalidAccessKeyId",
        format!("The key does not exist: {id}."),
    )
}

fn find<'a>(keys: &'a [ApiKeyRecord], id: &str) -> Result<&'a ApiKeyRecord, ApiError> {
    keys.iter().find(|k| k.id == id).ok_or_else(|| not_found(id))
}

fn find_mut<'a>(keys: &'a mut [ApiKeyRecord], id: &str) -> Result<&'a mut ApiKeyRecord, ApiError> {
    keys.iter_mut().find(|k| k.id == id).ok_or_else(|| not_found(id))
}

fn describe_status(keys: &[ApiKeyRecord], p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["Limit", "Offset", "Filters"])?;
    let (offset, limit) = p.paging("InvalidParameterValue")?;
    let filters = p.filters()?.unwrap_or_default();
    for f in &filters {
        if ![
            "AccessKeyId",
            "AccessKeySecret",
            "SecretName",
            "NotUsagePlanId",
            "Status",
            "KeyWord",
        ]
        .contains(&f.name.as_str())
        {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!(
                    "Unsupported filter {:?}; use AccessKeyId, AccessKeySecret, SecretName, NotUsagePlanId, Status or KeyWord.",
                    f.name
                ),
            ));
        }
    }
    let matching: Vec<&ApiKeyRecord> = keys
        .iter()
        .filter(|k| {
            filters.iter().all(|f| {
                f.values.iter().any(|v| match f.name.as_str() {
                    "AccessKeyId" => k.id == *v,
                    "AccessKeySecret" => k.secret.expose() == v,
                    "SecretName" => k.name == *v,
                    "NotUsagePlanId" => k.usage_plan.as_deref() != Some(v.as_str()),
                    "Status" => (if k.enabled { "1" } else { "0" }) == v,
                    _ => k.name.contains(v.as_str()) || k.id.contains(v.as_str()),
                })
            })
        })
        .collect();
    let (total, items) = page(matching, offset, limit);
    Ok(json!({
        "Result": {
            "TotalCount": total,
            "ApiKeySet": items.into_iter().map(key_json).collect::<Vec<_>>(),
        }
    }))
}

/// The region's usage plans, by id, each with its bound keys in key order.
fn usage_plans(keys: &[ApiKeyRecord]) -> BTreeMap<&str, Vec<&ApiKeyRecord>> {
    let mut plans: BTreeMap<&str, Vec<&ApiKeyRecord>> = BTreeMap::new();
    for k in keys {
        if let Some(plan) = &k.usage_plan {
            plans.entry(plan.as_str()).or_default().push(k);
        }
    }
    plans
}

/// The documented `UsagePlanStatusInfo`; no limits set (-1), as a fresh plan has.
fn usage_plan_json(id: &str) -> Value {
    let created = fake::iso(fake::past_time(&mut fake::rng_for(&format!("usage plan created {id}"))));
    json!({
        "UsagePlanId": id,
        "UsagePlanName": fake::usage_plan_name(id),
        "UsagePlanDesc": "",
        "MaxRequestNumPreSec": -1,
        "MaxRequestNum": -1,
        "CreatedTime": created,
        "ModifiedTime": created,
    })
}

fn describe_usage_plans(keys: &[ApiKeyRecord], p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["Limit", "Offset", "Filters"])?;
    let (offset, limit) = p.paging("InvalidParameterValue")?;
    let filters = p.filters()?.unwrap_or_default();
    const NAMES: [&str; 5] = [
        "UsagePlanId",
        "UsagePlanName",
        "NotServiceId",
        "NotApiId",
        "Environment",
    ];
    if let Some(f) = filters.iter().find(|f| !NAMES.contains(&f.name.as_str())) {
        return Err(ApiError::new(
            "InvalidParameterValue.InvalidFilterNotSupportedName",
            format!("Unsupported filter {:?}; use {}.", f.name, NAMES.join(", ")),
        ));
    }
    let matching: Vec<&str> = usage_plans(keys)
        .into_keys()
        .filter(|id| {
            filters.iter().all(|f| {
                f.values.iter().any(|v| match f.name.as_str() {
                    "UsagePlanId" => id == v,
                    "UsagePlanName" => fake::usage_plan_name(id).contains(v.as_str()),
                    // The emulator has no services or environments: no plan is bound to
                    // any, so every plan is "not bound to" a service or API, and none is
                    // bound to an environment.
                    "NotServiceId" | "NotApiId" => true,
                    _ => false,
                })
            })
        })
        .collect();
    let (total, page_ids) = page(matching, offset, limit);
    Ok(json!({
        "Result": {
            "TotalCount": total,
            "UsagePlanStatusSet": page_ids.into_iter().map(usage_plan_json).collect::<Vec<_>>(),
        }
    }))
}

fn describe_plan_secret_ids(keys: &[ApiKeyRecord], p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["UsagePlanId", "Limit", "Offset"])?;
    let plan_id = p.req_str("UsagePlanId")?;
    let (offset, limit) = p.paging("InvalidParameterValue")?;
    let bound = usage_plans(keys).remove(plan_id).ok_or_else(|| {
        ApiError::new(
            "ResourceNotFound.InvalidUsagePlan",
            format!("The usage plan does not exist: {plan_id}."),
        )
    })?;
    let (total, items) = page(bound, offset, limit);
    Ok(json!({
        "Result": {
            "TotalCount": total,
            "AccessKeyList": items
                .into_iter()
                .map(|k| json!({
                    "AccessKeyId": k.id,
                    "SecretName": k.name,
                    "Status": if k.enabled { 1 } else { 0 },
                }))
                .collect::<Vec<_>>(),
        }
    }))
}

/// Custom secrets: the provider module's rule and message.
fn check_secret(secret: &str) -> Result<(), ApiError> {
    validate_custom_secret(secret).map_err(|why| {
        ApiError::new(
            "InvalidParameter.FormatError",
            format!("Incorrect parameter format: AccessKeySecret: {why}."),
        )
    })
}

fn create(keys: &mut Vec<ApiKeyRecord>, p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["SecretName", "AccessKeyType", "AccessKeyId", "AccessKeySecret"])?;
    let name = p.req_str("SecretName")?;
    if name.is_empty() || name.chars().count() > 60 {
        return Err(ApiError::new(
            "InvalidParameterValue",
            "SecretName must be 1-60 characters.",
        ));
    }
    let key_type = p.opt_str("AccessKeyType")?.unwrap_or("auto");
    let mut rng = rand::rng();
    let (id, secret) = match key_type {
        "auto" => (fake::api_key_id(&mut rng), fake::api_key_secret(&mut rng)),
        "manual" => {
            let id = p.opt_str("AccessKeyId")?.ok_or_else(|| missing("AccessKeyId"))?;
            let secret = p
                .opt_str("AccessKeySecret")?
                .ok_or_else(|| missing("AccessKeySecret"))?;
            let id_ok = (5..=50).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !id_ok {
                return Err(ApiError::new(
                    "InvalidParameter.FormatError",
                    "Incorrect parameter format: AccessKeyId must be 5-50 letters, digits or underscores.",
                ));
            }
            check_secret(secret)?;
            if keys.iter().any(|k| k.id == id) {
                return Err(ApiError::new(
                    "InvalidParameterValue",
                    format!("A key with AccessKeyId {id} already exists."),
                ));
            }
            (id.to_string(), secret.to_string())
        }
        other => {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!("AccessKeyType {other:?} is invalid; use auto or manual."),
            ));
        }
    };
    let now = fake::now_iso();
    let key = ApiKeyRecord {
        id,
        secret: Secret::new(secret),
        key_type: key_type.to_string(),
        name: name.to_string(),
        enabled: true,
        usage_plan: None,
        created: now.clone(),
        modified: now,
    };
    let result = key_json(&key);
    keys.push(key);
    Ok(json!({ "Result": result }))
}

fn update(keys: &mut [ApiKeyRecord], p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["AccessKeyId", "AccessKeySecret"])?;
    let id = p.req_str("AccessKeyId")?;
    let custom = p.opt_str("AccessKeySecret")?;
    if let Some(secret) = custom {
        check_secret(secret)?;
    }
    let key = find_mut(keys, id)?;
    let secret = match custom {
        Some(s) => s.to_string(),
        // The doc: the secret is required when a custom (manual) key is updated.
        None if key.key_type == "manual" => return Err(missing("AccessKeySecret")),
        None => fake::api_key_secret(&mut rand::rng()),
    };
    key.secret = Secret::new(secret);
    key.modified = fake::now_iso();
    Ok(json!({ "Result": key_json(key) }))
}

fn set_enabled(keys: &mut [ApiKeyRecord], p: &Params, enabled: bool) -> Result<Value, ApiError> {
    p.allow_only(&["AccessKeyId"])?;
    let key = find_mut(keys, p.req_str("AccessKeyId")?)?;
    if key.enabled != enabled {
        key.enabled = enabled;
        key.modified = fake::now_iso();
    }
    Ok(json!({ "Result": true }))
}

fn delete(keys: &mut Vec<ApiKeyRecord>, p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["AccessKeyId"])?;
    let id = p.req_str("AccessKeyId")?;
    let key = find(keys, id)?;
    if key.enabled {
        return Err(ApiError::new(
            "UnsupportedOperation.InvalidStatus",
            format!("The current key status does not support this operation: disable {id} before deleting it."),
        ));
    }
    if let Some(plan) = &key.usage_plan {
        return Err(ApiError::new(
            "UnsupportedOperation.ResourceIsInUse",
            format!("The key has already been bound to usage plan {plan}. Please unbind it and try again."),
        ));
    }
    keys.retain(|k| k.id != id);
    Ok(json!({ "Result": true }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, enabled: bool, plan: Option<&str>) -> ApiKeyRecord {
        ApiKeyRecord {
            id: id.into(),
            secret: Secret::new("s3cr3t_value"),
            key_type: "auto".into(),
            name: format!("name-{id}"),
            enabled,
            usage_plan: plan.map(str::to_string),
            created: "2024-01-01T00:00:00Z".into(),
            modified: "2024-01-01T00:00:00Z".into(),
        }
    }

    fn call(action: &str, keys: &mut Vec<ApiKeyRecord>, v: Value) -> Result<Value, ApiError> {
        dispatch(action, keys, &Params::from_value(v))
    }

    #[test]
    fn delete_rules() {
        let mut keys = vec![
            key("a", true, None),
            key("b", false, Some("usagePlan-1")),
            key("c", false, None),
        ];
        let code = |r: Result<Value, ApiError>| r.unwrap_err().code;
        assert_eq!(
            code(call("DeleteApiKey", &mut keys, json!({"AccessKeyId": "a"}))),
            "UnsupportedOperation.InvalidStatus"
        );
        assert_eq!(
            code(call("DeleteApiKey", &mut keys, json!({"AccessKeyId": "b"}))),
            "UnsupportedOperation.ResourceIsInUse"
        );
        assert_eq!(
            code(call("DeleteApiKey", &mut keys, json!({"AccessKeyId": "z"}))),
            "ResourceNotFound.InvalidAccessKeyId"
        );
        assert_eq!(code(call("DeleteApiKey", &mut keys, json!({}))), "MissingParameter");
        assert_eq!(
            call("DeleteApiKey", &mut keys, json!({"AccessKeyId": "c"})).unwrap()["Result"],
            true
        );
        assert_eq!(keys.len(), 2);
    }

    #[test]
    fn update_generates_or_checks_the_secret() {
        let mut keys = vec![key("a", true, None)];
        let r = call("UpdateApiKey", &mut keys, json!({"AccessKeyId": "a"})).unwrap();
        let new = r["Result"]["AccessKeySecret"].as_str().unwrap().to_string();
        assert_ne!(new, "s3cr3t_value");
        assert_eq!(keys[0].secret.expose(), new);
        let bad = call(
            "UpdateApiKey",
            &mut keys,
            json!({"AccessKeyId": "a", "AccessKeySecret": "short"}),
        );
        assert_eq!(bad.unwrap_err().code, "InvalidParameter.FormatError");
        let bad = call(
            "UpdateApiKey",
            &mut keys,
            json!({"AccessKeyId": "a", "AccessKeySecret": "has-dash-chars"}),
        );
        assert_eq!(bad.unwrap_err().code, "InvalidParameter.FormatError");
        call(
            "UpdateApiKey",
            &mut keys,
            json!({"AccessKeyId": "a", "AccessKeySecret": "my_custom_secret_01"}),
        )
        .unwrap();
        assert_eq!(keys[0].secret.expose(), "my_custom_secret_01");
    }

    #[test]
    fn filters_and_paging() {
        let mut keys: Vec<ApiKeyRecord> = (0..30).map(|i| key(&format!("k{i:02}"), i % 3 != 0, None)).collect();
        let r = call("DescribeApiKeysStatus", &mut keys, json!({"Limit": 25, "Offset": 20})).unwrap();
        assert_eq!(r["Result"]["TotalCount"], 30);
        assert_eq!(r["Result"]["ApiKeySet"].as_array().unwrap().len(), 10);
        let r = call(
            "DescribeApiKeysStatus",
            &mut keys,
            json!({"Filters": [{"Name": "Status", "Values": ["0"]}]}),
        )
        .unwrap();
        assert_eq!(r["Result"]["TotalCount"], 10);
        let r = call(
            "DescribeApiKeysStatus",
            &mut keys,
            json!({"Filters": [{"Name": "SecretName", "Values": ["name-k07"]}]}),
        )
        .unwrap();
        assert_eq!(r["Result"]["ApiKeySet"][0]["AccessKeyId"], "k07");
        let bad = call(
            "DescribeApiKeysStatus",
            &mut keys,
            json!({"Filters": [{"Name": "Color", "Values": ["x"]}]}),
        );
        assert_eq!(bad.unwrap_err().code, "InvalidParameterValue");
        let bad = call("DescribeApiKeysStatus", &mut keys, json!({"Limit": 101}));
        assert_eq!(bad.unwrap_err().code, "InvalidParameterValue");
    }

    #[test]
    fn usage_plans_are_the_distinct_plans_of_the_keys_and_page() {
        let mut keys: Vec<ApiKeyRecord> = (0..150)
            .map(|i| key(&format!("k{i:03}"), i % 2 == 0, Some("usagePlan-big00001")))
            .collect();
        keys.push(key("solo", false, Some("usagePlan-solo0001")));
        keys.push(key("free", true, None));
        let r = call("DescribeUsagePlansStatus", &mut keys, json!({"Limit": 1})).unwrap();
        assert_eq!(r["Result"]["TotalCount"], 2);
        let first = &r["Result"]["UsagePlanStatusSet"][0];
        assert_eq!(first["UsagePlanId"], "usagePlan-big00001");
        assert_eq!(first["UsagePlanName"], fake::usage_plan_name("usagePlan-big00001"));
        assert_eq!(r["Result"]["UsagePlanStatusSet"].as_array().unwrap().len(), 1);
        let r = call("DescribeUsagePlansStatus", &mut keys, json!({"Offset": 1})).unwrap();
        assert_eq!(
            r["Result"]["UsagePlanStatusSet"][0]["UsagePlanId"],
            "usagePlan-solo0001"
        );
        let r = call(
            "DescribeUsagePlansStatus",
            &mut keys,
            json!({"Filters": [{"Name": "UsagePlanId", "Values": ["usagePlan-solo0001"]}]}),
        )
        .unwrap();
        assert_eq!(r["Result"]["TotalCount"], 1);
        let bad = call(
            "DescribeUsagePlansStatus",
            &mut keys,
            json!({"Filters": [{"Name": "Color", "Values": ["x"]}]}),
        );
        assert_eq!(
            bad.unwrap_err().code,
            "InvalidParameterValue.InvalidFilterNotSupportedName"
        );
        let bad = call("DescribeUsagePlansStatus", &mut keys, json!({"Limit": 101}));
        assert_eq!(bad.unwrap_err().code, "InvalidParameterValue");

        let page = |offset: usize| {
            call(
                "DescribeUsagePlanSecretIds",
                &mut keys.clone(),
                json!({"UsagePlanId": "usagePlan-big00001", "Offset": offset, "Limit": 100}),
            )
            .unwrap()
        };
        let (first, second) = (page(0), page(100));
        assert_eq!(first["Result"]["TotalCount"], 150);
        let list = first["Result"]["AccessKeyList"].as_array().unwrap();
        assert_eq!(list.len(), 100);
        assert_eq!(
            list[0],
            json!({"AccessKeyId": "k000", "SecretName": "name-k000", "Status": 1})
        );
        assert_eq!(list[1]["Status"], 0);
        assert_eq!(second["Result"]["AccessKeyList"].as_array().unwrap().len(), 50);
        assert_eq!(second["Result"]["AccessKeyList"][49]["AccessKeyId"], "k149");
    }

    #[test]
    fn plan_secret_ids_check_their_parameters() {
        let mut keys = vec![key("a", true, Some("usagePlan-1"))];
        let code = |r: Result<Value, ApiError>| r.unwrap_err().code;
        assert_eq!(
            code(call(
                "DescribeUsagePlanSecretIds",
                &mut keys,
                json!({"UsagePlanId": "usagePlan-none"})
            )),
            "ResourceNotFound.InvalidUsagePlan"
        );
        assert_eq!(
            code(call("DescribeUsagePlanSecretIds", &mut keys, json!({}))),
            "MissingParameter"
        );
        assert_eq!(
            code(call(
                "DescribeUsagePlanSecretIds",
                &mut keys,
                json!({"UsagePlanId": "usagePlan-1", "Limit": 101})
            )),
            "InvalidParameterValue"
        );
        assert_eq!(
            code(call(
                "DescribeUsagePlanSecretIds",
                &mut keys,
                json!({"UsagePlanId": "usagePlan-1", "AccessKeyId": "a"})
            )),
            "UnknownParameter"
        );
        let r = call(
            "DescribeUsagePlanSecretIds",
            &mut keys,
            json!({"UsagePlanId": "usagePlan-1"}),
        )
        .unwrap();
        assert_eq!(r["Result"]["TotalCount"], 1);
    }

    #[test]
    fn create_auto_and_manual() {
        let mut keys = Vec::new();
        let r = call("CreateApiKey", &mut keys, json!({"SecretName": "ci-deploy-2026"})).unwrap();
        assert!(r["Result"]["AccessKeyId"].as_str().unwrap().starts_with("AKID"));
        assert_eq!(r["Result"]["Status"], 1);
        let r = call(
            "CreateApiKey",
            &mut keys,
            json!({"SecretName": "m", "AccessKeyType": "manual", "AccessKeyId": "my_id_1", "AccessKeySecret": "my_secret_123"}),
        )
        .unwrap();
        assert_eq!(r["Result"]["AccessKeyId"], "my_id_1");
        assert_eq!(keys.len(), 2);
        let bad = call(
            "CreateApiKey",
            &mut keys,
            json!({"SecretName": "m", "AccessKeyType": "manual"}),
        );
        assert_eq!(bad.unwrap_err().code, "MissingParameter");
    }
}
