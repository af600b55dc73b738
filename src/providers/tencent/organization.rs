//! Tencent Cloud Organization (organization 2021-03-31): the member accounts of the
//! organization a management account runs, read with `DescribeOrganizationMembers`.
//!
//! Facts (DescribeOrganizationMembers, tencentcloud.com/document/api/1031/52062; see
//! /work/shared/reference/service-facts.md "Organization"):
//! - hosts `organization.tencentcloudapi.com` / `organization.intl.tencentcloudapi.com`;
//!   "Region: this parameter is not required for this API";
//! - `Offset` (required, a multiple of `Limit`), `Limit` (required, 1-50);
//! - the answer: `Items[]` of OrgMember (`MemberUin`, `Name`, `NodeName`, ...) and `Total`;
//! - the access role the service creates in member accounts it creates is
//!   `OrganizationAccessControlRole` (ListOrganizationIdentity's `IdentityRoleName`).

use super::client::{ServiceSpec, TencentClient};
use crate::providers::http::Retry;
use crate::providers::{ErrorKind, ProviderError};
use serde_json::{Value, json};

pub const SERVICE: &str = "organization";
pub const VERSION: &str = "2021-03-31";
pub const DESCRIBE_ORGANIZATION_MEMBERS: &str = "DescribeOrganizationMembers";
/// The actions keyward calls; the emulator serves exactly these.
pub const ACTIONS: &[&str] = &[DESCRIBE_ORGANIZATION_MEMBERS];
/// `Limit`: "Value range: 1-50".
pub const MAX_LIMIT: u64 = 50;
/// The role Organization creates in its members for the management account to assume.
pub const DEFAULT_ROLE_NAME: &str = "OrganizationAccessControlRole";
/// Not documented for this API; the other Organization APIs document 20 per second.
pub const RATE_PER_SECOND: u32 = 20;
/// A guard against an answer whose Total never ends: 100 000 members (2000 pages).
const MAX_PAGES: u64 = 2000;

pub const ORGANIZATION: ServiceSpec = ServiceSpec {
    service: SERVICE,
    version: VERSION,
    default_endpoint: "https://organization.tencentcloudapi.com",
    rate_per_second: RATE_PER_SECOND,
    action_rate: None,
};

/// One member account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub uin: u64,
    pub name: String,
    /// `NodeName`: the organization unit (department) the member is in, if answered.
    pub unit: Option<String>,
}

/// Every member, all pages of `MAX_LIMIT`.
pub async fn members(client: &TencentClient) -> Result<Vec<Member>, ProviderError> {
    let mut out = Vec::new();
    for page in 0..MAX_PAGES {
        let params = json!({ "Offset": page * MAX_LIMIT, "Limit": MAX_LIMIT });
        let (response, _) = client
            .call("", DESCRIBE_ORGANIZATION_MEMBERS, &params, Retry::Read)
            .await?;
        let (items, total) = parse_page(&response)?;
        let got = items.len();
        out.extend(items);
        if got == 0 || out.len() as u64 >= total {
            return Ok(out);
        }
    }
    Ok(out)
}

fn protocol(what: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Protocol,
        "Protocol",
        format!("{DESCRIBE_ORGANIZATION_MEMBERS} answered {what}; expected Items[] with MemberUin and Name, and Total"),
    )
}

fn parse_page(response: &Value) -> Result<(Vec<Member>, u64), ProviderError> {
    let total = response["Total"].as_u64().ok_or_else(|| protocol("no Total"))?;
    let items = match &response["Items"] {
        Value::Null => return Ok((Vec::new(), total)),
        Value::Array(items) => items,
        _ => return Err(protocol("Items that is not a list")),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let uin = item["MemberUin"]
            .as_u64()
            .ok_or_else(|| protocol("a member without MemberUin"))?;
        // A member without a name is shown by its uin.
        let name = item["Name"]
            .as_str()
            .filter(|n| !n.trim().is_empty())
            .map_or_else(|| uin.to_string(), str::to_string);
        let unit = item["NodeName"].as_str().filter(|n| !n.is_empty()).map(str::to_string);
        out.push(Member { uin, name, unit });
    }
    Ok((out, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_read_members_and_total() {
        let page = json!({"Items": [{"MemberUin": 1001, "Name": "dev", "NodeName": "Eng"}, {"MemberUin": 1002, "Name": ""}], "Total": 7});
        let (items, total) = parse_page(&page).unwrap();
        assert_eq!(total, 7);
        assert_eq!(
            items[0],
            Member {
                uin: 1001,
                name: "dev".into(),
                unit: Some("Eng".into())
            }
        );
        assert_eq!((items[1].name.as_str(), items[1].unit.as_deref()), ("1002", None));
        assert!(parse_page(&json!({"Items": []})).is_err());
        assert!(parse_page(&json!({"Items": [{"Name": "x"}], "Total": 1})).is_err());
        assert_eq!(parse_page(&json!({"Total": 0})).unwrap().0, vec![]);
    }
}
