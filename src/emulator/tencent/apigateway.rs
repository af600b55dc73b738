//! API Gateway (apigateway 2018-08-08) API key actions, over one account's keys in one region.

use super::ApiError;
use super::params::{Params, missing, page};
use crate::emulator::fake;
use crate::emulator::state::ApiKeyRecord;
use crate::secret::Secret;
use serde_json::{Value, json};

pub const ACTIONS: &[&str] = &[
    "DescribeApiKeysStatus",
    "DescribeApiKey",
    "CreateApiKey",
    "UpdateApiKey",
    "DisableApiKey",
    "EnableApiKey",
    "DeleteApiKey",
];

pub(crate) fn dispatch(action: &str, keys: &mut Vec<ApiKeyRecord>, p: &Params) -> Result<Value, ApiError> {
    match action {
        "DescribeApiKeysStatus" => describe_status(keys, p),
        "DescribeApiKey" => {
            p.allow_only(&["AccessKeyId"])?;
            let key = find(keys, p.req_str("AccessKeyId")?)?;
            Ok(json!({ "Result": key_json(key) }))
        }
        "CreateApiKey" => create(keys, p),
        "UpdateApiKey" => update(keys, p),
        "DisableApiKey" => set_enabled(keys, p, false),
        "EnableApiKey" => set_enabled(keys, p, true),
        "DeleteApiKey" => delete(keys, p),
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

/// Custom secrets: 10-50 letters, digits and underscores.
fn check_secret(secret: &str) -> Result<(), ApiError> {
    let ok = (10..=50).contains(&secret.len()) && secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            "InvalidParameter.FormatError",
            "Incorrect parameter format: AccessKeySecret must be 10-50 letters, digits or underscores.",
        ))
    }
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
