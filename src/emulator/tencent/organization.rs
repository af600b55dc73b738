//! Organization DescribeOrganizationMembers (organization 2021-03-31): the members of the
//! organization the caller's account manages, `Offset`/`Limit` (1-50) paged.

use super::params::Params;
use crate::emulator::model::ApiError;
use crate::emulator::state::Data;
use crate::providers::tencent::organization::{self, MAX_LIMIT};
use serde_json::{Value, json};

pub(crate) fn dispatch(action: &str, data: &Data, account: &str, p: &Params) -> Result<Value, ApiError> {
    match action {
        organization::DESCRIBE_ORGANIZATION_MEMBERS => describe_members(data, account, p),
        _ => Err(ApiError::new("InvalidAction", format!("{action} is not served."))),
    }
}

fn describe_members(data: &Data, account: &str, p: &Params) -> Result<Value, ApiError> {
    p.allow_only(&["Offset", "Limit", "Lang", "SearchKey", "AuthName", "Product", "Tags"])?;
    let offset = p.req_int("Offset")?;
    let limit = p.req_int("Limit")?;
    if !(1..=MAX_LIMIT as i64).contains(&limit) {
        return Err(ApiError::new(
            "InvalidParameter",
            format!("Limit {limit} must be between 1 and {MAX_LIMIT}."),
        ));
    }
    if offset < 0 || offset % limit != 0 {
        return Err(ApiError::new(
            "InvalidParameter",
            format!("Offset {offset} must be a non-negative multiple of Limit {limit}."),
        ));
    }
    let members = data
        .tencent_by_name(account)
        .and_then(|a| a.org_members.as_ref())
        .ok_or_else(|| {
            ApiError::new(
                "ResourceNotFound.OrganizationNotExist",
                "The caller's account manages no organization.",
            )
        })?;
    let search = p.opt_str("SearchKey")?;
    let items: Vec<Value> = members
        .iter()
        .filter_map(|(name, unit)| data.tencent_by_name(name).map(|m| (m, unit)))
        .filter(|(m, _)| search.is_none_or(|s| m.name.contains(s) || m.cam.root_uin.to_string() == s))
        .map(|(m, unit)| json!({"MemberUin": m.cam.root_uin, "Name": m.name, "MemberType": "Create", "NodeName": unit}))
        .collect();
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset as usize).take(limit as usize).collect();
    Ok(json!({ "Items": page, "Total": total }))
}
