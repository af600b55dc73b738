//! CVM (cvm 2017-03-12) key pair actions, over one account's key pairs in one region.

use super::params::{Params, missing, page};
use crate::emulator::fake;
use crate::emulator::model::ApiError;
use crate::emulator::model::KeyPairRecord;
use crate::providers::tencent::cvm::{CAPABILITIES, KeyPairNameError, actions, check_key_pair_name};
use serde_json::{Value, json};
use std::collections::HashSet;

/// Every action this emulator serves: the provider module's list, so the two cannot drift.
pub const ACTIONS: &[&str] = actions::ALL;

/// Max ids in one DeleteKeyPairs call: the provider module's capability.
pub const DELETE_BATCH: usize = CAPABILITIES.delete_batch;

/// "Each Tencent Cloud account can have up to 100 SSH key pairs" (CVM SSH-key doc): counted
/// over the pairs one call sees, a region's or, for an account with global pairs, the account's.
pub const KEY_PAIR_QUOTA: usize = 100;

/// `skey-` followed by 8 lowercase letters or digits.
pub fn is_key_pair_id(id: &str) -> bool {
    id.strip_prefix("skey-")
        .is_some_and(|rest| rest.len() == 8 && rest.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

/// One call over the pairs it sees (`pairs`); `region` is the call's X-TC-Region, which a
/// new pair records as its creation region.
pub(crate) fn dispatch(
    action: &str,
    pairs: &mut Vec<KeyPairRecord>,
    region: &str,
    p: &Params,
) -> Result<Value, ApiError> {
    match action {
        actions::DESCRIBE_KEY_PAIRS => describe(pairs, p),
        actions::CREATE_KEY_PAIR => create(pairs, region, p),
        actions::DELETE_KEY_PAIRS => delete(pairs, p),
        actions::MODIFY_KEY_PAIR_ATTRIBUTE => modify(pairs, p),
        _ => Err(ApiError::new(
            "InvalidAction",
            format!("The action {action} does not exist."),
        )),
    }
}

fn pair_json(k: &KeyPairRecord, private_key: Option<String>) -> Value {
    json!({
        "KeyId": k.id,
        "KeyName": k.name,
        "ProjectId": k.project_id,
        "Description": k.description,
        "PublicKey": k.public_key,
        "PrivateKey": private_key,
        "AssociatedInstanceIds": k.instance_ids,
        "CreatedTime": k.created,
        "Tags": [],
    })
}

fn check_ids(ids: &[String]) -> Result<(), ApiError> {
    match ids.iter().find(|id| !is_key_pair_id(id)) {
        Some(bad) => Err(ApiError::new(
            "InvalidKeyPairId.Malformed",
            format!("Invalid key pair ID {bad:?}: the format is skey- followed by 8 lowercase letters or digits."),
        )),
        None => Ok(()),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        "InvalidKeyPairId.NotFound",
        format!("Invalid key pair ID: {id} does not exist."),
    )
}

fn describe(pairs: &[KeyPairRecord], p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["KeyIds", "Filters", "Offset", "Limit"])?;
    let (offset, limit) = p.paging("InvalidParameterValue.LimitExceeded")?;
    let ids = p.opt_str_list("KeyIds")?;
    let filters = p.filters()?;
    if ids.is_some() && filters.is_some() {
        return Err(ApiError::new(
            "InvalidParameter",
            "KeyIds and Filters cannot be specified at the same time.",
        ));
    }
    if let Some(ids) = &ids {
        if ids.len() > DELETE_BATCH {
            return Err(ApiError::new(
                "InvalidParameterValue.LimitExceeded",
                format!("At most {DELETE_BATCH} KeyIds per request; got {}.", ids.len()),
            ));
        }
        check_ids(ids)?;
    }
    let filters = filters.unwrap_or_default();
    for f in &filters {
        if !["project-id", "key-name", "key-id"].contains(&f.name.as_str()) {
            return Err(ApiError::new(
                "InvalidFilter",
                format!("Unsupported filter {:?}; use project-id, key-name or key-id.", f.name),
            ));
        }
        let bad_project = f.values.iter().find(|v| v.parse::<i64>().is_err());
        if let (true, Some(bad)) = (f.name == "project-id", bad_project) {
            return Err(ApiError::new(
                "InvalidFilterValue",
                format!("project-id {bad:?} is not an integer."),
            ));
        }
    }
    let matching: Vec<&KeyPairRecord> = pairs
        .iter()
        .filter(|k| ids.as_ref().is_none_or(|ids| ids.contains(&k.id)))
        .filter(|k| {
            filters.iter().all(|f| {
                f.values.iter().any(|v| match f.name.as_str() {
                    "project-id" => v.parse::<i64>().ok() == Some(k.project_id),
                    "key-name" => k.name == *v,
                    _ => k.id == *v,
                })
            })
        })
        .collect();
    let (total, items) = page(matching, offset, limit);
    Ok(json!({
        "TotalCount": total,
        "KeyPairSet": items.into_iter().map(|k| pair_json(k, None)).collect::<Vec<_>>(),
    }))
}

fn check_name(pairs: &[KeyPairRecord], name: &str, except_id: Option<&str>) -> Result<(), ApiError> {
    // The provider module's rule and message; the codes are the service's own.
    if let Err(why) = check_key_pair_name(name) {
        let code = match why {
            KeyPairNameError::Empty => "InvalidKeyPairNameEmpty",
            KeyPairNameError::TooLong { .. } => "InvalidKeyPairNameTooLong",
            KeyPairNameError::IllegalChar { .. } => "InvalidKeyPairNameIncludeIllegalChar",
        };
        return Err(ApiError::new(code, format!("Invalid KeyName: {why}.")));
    }
    if pairs.iter().any(|k| k.name == name && Some(k.id.as_str()) != except_id) {
        return Err(ApiError::new(
            "InvalidKeyPairName.Duplicate",
            format!("A key pair named {name:?} already exists."),
        ));
    }
    Ok(())
}

fn create(pairs: &mut Vec<KeyPairRecord>, region: &str, p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["KeyName", "ProjectId", "TagSpecification"])?;
    let name = p.req_str("KeyName")?;
    let project_id = p.req_int("ProjectId")?;
    if project_id < 0 {
        return Err(ApiError::new(
            "InvalidProjectId.NotFound",
            format!("Project {project_id} does not exist."),
        ));
    }
    check_name(pairs, name, None)?;
    if pairs.len() >= KEY_PAIR_QUOTA {
        return Err(ApiError::new(
            "InvalidKeyPair.LimitExceeded",
            format!("The key pair quota of {KEY_PAIR_QUOTA} is used up: delete a key pair before creating another."),
        ));
    }
    let mut rng = rand::rng();
    let mut id = fake::key_pair_id(&mut rng);
    while pairs.iter().any(|k| k.id == id) {
        id = fake::key_pair_id(&mut rng);
    }
    let pair = KeyPairRecord {
        public_key: fake::ssh_public_key(&mut rng, &id),
        id,
        region: region.to_string(),
        name: name.to_string(),
        project_id,
        description: String::new(),
        instance_ids: Vec::new(),
        image_ids: Vec::new(),
        created: fake::now_iso(),
    };
    // The private key is returned once and never stored, as on the real service.
    let result = pair_json(&pair, Some(fake::fake_private_key(&mut rng)));
    pairs.push(pair);
    Ok(json!({ "KeyPair": result }))
}

/// Deletes the unbound pairs among `KeyIds`; pairs used by an instance or image are
/// silently kept, as documented, so callers must re-describe to know what went.
fn delete(pairs: &mut Vec<KeyPairRecord>, p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["KeyIds"])?;
    let ids = p.opt_str_list("KeyIds")?.unwrap_or_default();
    if ids.is_empty() {
        return Err(missing("KeyIds"));
    }
    if ids.len() > DELETE_BATCH {
        return Err(ApiError::new(
            "InvalidParameterValue.LimitExceeded",
            format!(
                "The number of parameter values exceeds the limit: at most {DELETE_BATCH} KeyIds, got {}.",
                ids.len()
            ),
        ));
    }
    check_ids(&ids)?;
    if let Some(unknown) = ids.iter().find(|id| !pairs.iter().any(|k| &k.id == *id)) {
        return Err(not_found(unknown));
    }
    let doomed: HashSet<&String> = ids.iter().collect();
    pairs.retain(|k| !doomed.contains(&k.id) || k.is_bound());
    Ok(json!({}))
}

fn modify(pairs: &mut [KeyPairRecord], p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["KeyId", "KeyName", "Description"])?;
    let id = p.req_str("KeyId")?;
    check_ids(&[id.to_string()])?;
    let name = p.opt_str("KeyName")?;
    let description = p.opt_str("Description")?;
    if !pairs.iter().any(|k| k.id == id) {
        return Err(not_found(id));
    }
    if let Some(name) = name {
        check_name(pairs, name, Some(id))?;
    }
    if description.is_some_and(|d| d.chars().count() > 60) {
        return Err(ApiError::new(
            "InvalidParameterValue.TooLong",
            "The description is longer than 60 characters.",
        ));
    }
    if let Some(k) = pairs.iter_mut().find(|k| k.id == id) {
        if let Some(name) = name {
            k.name = name.to_string();
        }
        if let Some(d) = description {
            k.description = d.to_string();
        }
    }
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(id: &str, name: &str, instances: &[&str], images: &[&str]) -> KeyPairRecord {
        KeyPairRecord {
            id: id.into(),
            region: "ap-guangzhou".into(),
            name: name.into(),
            project_id: 0,
            description: String::new(),
            public_key: "ssh-rsa AAAA".into(),
            instance_ids: instances.iter().map(|s| s.to_string()).collect(),
            image_ids: images.iter().map(|s| s.to_string()).collect(),
            created: "2024-01-01T00:00:00Z".into(),
        }
    }

    fn call(action: &str, pairs: &mut Vec<KeyPairRecord>, v: Value) -> Result<Value, ApiError> {
        dispatch(action, pairs, "ap-guangzhou", &Params::from_value(v))
    }

    #[test]
    fn id_format() {
        assert!(is_key_pair_id("skey-mv9yzyjj"));
        assert!(!is_key_pair_id("skey-1122"));
        assert!(!is_key_pair_id("skey-MV9YZYJJ"));
        assert!(!is_key_pair_id("key-mv9yzyjj"));
    }

    #[test]
    fn delete_keeps_bound_pairs_and_validates_first() {
        let mut pairs = vec![
            pair("skey-aaaaaaaa", "a", &[], &[]),
            pair("skey-bbbbbbbb", "b", &["ins-1"], &[]),
            pair("skey-cccccccc", "c", &[], &["img-1"]),
        ];
        let code = |r: Result<Value, ApiError>| r.unwrap_err().code;
        assert_eq!(
            code(call("DeleteKeyPairs", &mut pairs, json!({"KeyIds": ["skey-1122"]}))),
            "InvalidKeyPairId.Malformed"
        );
        assert_eq!(
            code(call(
                "DeleteKeyPairs",
                &mut pairs,
                json!({"KeyIds": ["skey-aaaaaaaa", "skey-zzzzzzzz"]})
            )),
            "InvalidKeyPairId.NotFound"
        );
        assert_eq!(pairs.len(), 3, "a failed call deletes nothing");
        assert_eq!(code(call("DeleteKeyPairs", &mut pairs, json!({}))), "MissingParameter");
        let many: Vec<String> = (0..101).map(|i| format!("skey-{i:08}")).collect();
        assert_eq!(
            code(call("DeleteKeyPairs", &mut pairs, json!({"KeyIds": many}))),
            "InvalidParameterValue.LimitExceeded"
        );
        call(
            "DeleteKeyPairs",
            &mut pairs,
            json!({"KeyIds": ["skey-aaaaaaaa", "skey-bbbbbbbb", "skey-cccccccc"]}),
        )
        .unwrap();
        let left: Vec<&str> = pairs.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(left, ["skey-bbbbbbbb", "skey-cccccccc"]);
    }

    #[test]
    fn describe_by_ids_filters_and_pages() {
        let mut pairs: Vec<KeyPairRecord> = (0..30)
            .map(|i| pair(&format!("skey-{i:08}"), &format!("n{i}"), &[], &[]))
            .collect();
        let r = call(
            "DescribeKeyPairs",
            &mut pairs,
            json!({"KeyIds": ["skey-00000003", "skey-00000004"]}),
        )
        .unwrap();
        assert_eq!(r["TotalCount"], 2);
        let r = call(
            "DescribeKeyPairs",
            &mut pairs,
            json!({"Filters": [{"Name": "key-name", "Values": ["n7"]}]}),
        )
        .unwrap();
        assert_eq!(r["KeyPairSet"][0]["KeyId"], "skey-00000007");
        let r = call(
            "DescribeKeyPairs",
            &mut pairs,
            json!({"Filters": [{"Name": "key-id", "Values": ["skey-00000009"]}]}),
        )
        .unwrap();
        assert_eq!(r["TotalCount"], 1);
        let r = call("DescribeKeyPairs", &mut pairs, json!({"Offset": 25, "Limit": 10})).unwrap();
        assert_eq!(r["TotalCount"], 30);
        assert_eq!(r["KeyPairSet"].as_array().unwrap().len(), 5);
        let both = call(
            "DescribeKeyPairs",
            &mut pairs,
            json!({"KeyIds": ["skey-00000003"], "Filters": []}),
        );
        assert_eq!(both.unwrap_err().code, "InvalidParameter");
        let over = call("DescribeKeyPairs", &mut pairs, json!({"Limit": 101}));
        assert_eq!(over.unwrap_err().code, "InvalidParameterValue.LimitExceeded");
    }

    #[test]
    fn create_stops_at_the_quota_and_records_the_region() {
        let mut pairs: Vec<KeyPairRecord> = (0..KEY_PAIR_QUOTA - 1)
            .map(|i| pair(&format!("skey-{i:08}"), &format!("n{i}"), &[], &[]))
            .collect();
        let r = dispatch(
            "CreateKeyPair",
            &mut pairs,
            "ap-shanghai",
            &Params::from_value(json!({"KeyName": "last", "ProjectId": 0})),
        )
        .unwrap();
        let id = r["KeyPair"]["KeyId"].as_str().unwrap();
        let made = pairs.iter().find(|k| k.id == id).unwrap();
        assert_eq!(made.region, "ap-shanghai");
        let over = call(
            "CreateKeyPair",
            &mut pairs,
            json!({"KeyName": "one_more", "ProjectId": 0}),
        );
        assert_eq!(over.unwrap_err().code, "InvalidKeyPair.LimitExceeded");
        assert_eq!(pairs.len(), KEY_PAIR_QUOTA);
    }

    #[test]
    fn create_and_modify_check_names() {
        let mut pairs = vec![pair("skey-aaaaaaaa", "taken", &[], &[])];
        let r = call(
            "CreateKeyPair",
            &mut pairs,
            json!({"KeyName": "bastion_prod_02", "ProjectId": 0}),
        )
        .unwrap();
        assert!(r["KeyPair"]["PrivateKey"].as_str().unwrap().contains("PRIVATE KEY"));
        let code = |r: Result<Value, ApiError>| r.unwrap_err().code;
        assert_eq!(
            code(call(
                "CreateKeyPair",
                &mut pairs,
                json!({"KeyName": "taken", "ProjectId": 0})
            )),
            "InvalidKeyPairName.Duplicate"
        );
        assert_eq!(
            code(call(
                "CreateKeyPair",
                &mut pairs,
                json!({"KeyName": "bad-name", "ProjectId": 0})
            )),
            "InvalidKeyPairNameIncludeIllegalChar"
        );
        assert_eq!(
            code(call("CreateKeyPair", &mut pairs, json!({"KeyName": "x"}))),
            "MissingParameter"
        );
        assert_eq!(
            code(call(
                "CreateKeyPair",
                &mut pairs,
                json!({"KeyName": "x", "ProjectId": "0"})
            )),
            "InvalidParameter"
        );
        call(
            "ModifyKeyPairAttribute",
            &mut pairs,
            json!({"KeyId": "skey-aaaaaaaa", "KeyName": "renamed", "Description": "d"}),
        )
        .unwrap();
        assert_eq!(pairs[0].name, "renamed");
        assert_eq!(pairs[0].description, "d");
        assert_eq!(
            code(call(
                "ModifyKeyPairAttribute",
                &mut pairs,
                json!({"KeyId": "skey-zzzzzzzz"})
            )),
            "InvalidKeyPairId.NotFound"
        );
        assert_eq!(
            code(call("ModifyKeyPairAttribute", &mut pairs, json!({"KeyId": "skey-1"}))),
            "InvalidKeyPairId.Malformed"
        );
    }
}
