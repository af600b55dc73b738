//! Tencent Cloud CVM SSH key pairs (cvm 2017-03-12) as a `Provider`.
//!
//! DeleteKeyPairs succeeds even when it keeps pairs that an instance or image still uses
//! ("you need to verify whether all the key pairs have been deleted"), so every delete is
//! followed by a DescribeKeyPairs of the same ids to report what was really kept.

use super::client::{Retry, TencentClient};
use super::page::{Page, expect_ids, field};
use crate::inventory::{Binding, Item, ItemKey, ProviderKind, Status};
use crate::providers::{Capabilities, DeleteReport, Provider, ProviderError, Receipt};
use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;

/// Page size of DescribeKeyPairs and the most KeyIds one call takes (both documented as 100).
const PAGE_LIMIT: usize = 100;
/// DescribeKeyPairs answers this when one of the requested KeyIds does not exist.
const NOT_FOUND: &str = "InvalidKeyPairId.NotFound";

/// One entry of `KeyPairSet`. `PublicKey` is read only for its algorithm and then dropped.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyPair {
    key_id: String,
    #[serde(default)]
    key_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default)]
    associated_instance_ids: Option<Vec<String>>,
    #[serde(default)]
    created_time: Option<String>,
}

pub struct Cvm {
    client: Arc<TencentClient>,
    account: String,
    region: String,
}

impl Cvm {
    pub fn new(client: Arc<TencentClient>, account: impl Into<String>, region: impl Into<String>) -> Self {
        Cvm {
            client,
            account: account.into(),
            region: region.into(),
        }
    }

    fn item(&self, pair: KeyPair) -> Item {
        // "ssh-rsa AAAA... comment" -> "ssh-rsa": useful to spot old RSA keys, not secret.
        let key_type = pair
            .public_key
            .as_deref()
            .and_then(|k| k.split_whitespace().next())
            .unwrap_or_default()
            .to_string();
        Item {
            key: ItemKey {
                kind: ProviderKind::Cvm,
                account: self.account.clone(),
                region: self.region.clone(),
                id: pair.key_id,
            },
            name: pair.key_name.unwrap_or_default(),
            status: Status::Active,
            key_type,
            description: pair.description.unwrap_or_default(),
            created: pair.created_time.unwrap_or_default(),
            // KeyPair has no modification time.
            modified: String::new(),
            bindings: pair
                .associated_instance_ids
                .unwrap_or_default()
                .into_iter()
                .map(Binding::Instance)
                .collect(),
        }
    }

    /// DescribeKeyPairs with `extra` parameters, every page followed.
    async fn describe_pages(&self, extra: &Value) -> Result<Vec<Item>, ProviderError> {
        let action = "DescribeKeyPairs";
        let mut items = Vec::new();
        let mut offset = 0usize;
        loop {
            let mut params = json!({ "Offset": offset, "Limit": PAGE_LIMIT });
            if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
                params.extend(extra.clone());
            }
            let (response, request_id) = self.client.call(&self.region, action, &params, Retry::Read).await?;
            let page = Page {
                total: field(&response, "TotalCount", action, &request_id)?,
                items: field::<Option<Vec<KeyPair>>>(&response, "KeyPairSet", action, &request_id)?.unwrap_or_default(),
            };
            let done = page.is_last(offset, action, &request_id)?;
            offset += page.items.len();
            items.extend(page.items.into_iter().map(|p| self.item(p)));
            if done {
                return Ok(items);
            }
        }
    }
}

fn kept_reason(item: &Item) -> String {
    if item.is_bound() {
        format!("still bound to {}", item.bindings_text())
    } else {
        "still exists after DeleteKeyPairs (an image or another resource may use it)".to_string()
    }
}

#[async_trait]
impl Provider for Cvm {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Cvm
    }

    fn account(&self) -> &str {
        &self.account
    }

    fn region(&self) -> &str {
        &self.region
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            delete: true,
            rename: true,
            delete_batch: PAGE_LIMIT,
            ..Default::default()
        }
    }

    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        self.describe_pages(&json!({})).await
    }

    /// Those of `ids` that still exist, asked by KeyIds in chunks of 100.
    async fn describe(&self, ids: &[String]) -> Result<Vec<Item>, ProviderError> {
        let mut found = Vec::new();
        for chunk in ids.chunks(PAGE_LIMIT) {
            match self.describe_pages(&json!({ "KeyIds": chunk })).await {
                Ok(items) => found.extend(items),
                // Asking by id fails as a whole when one id is gone, which is exactly the case
                // after a delete: fall back to the full listing and intersect.
                Err(e) if e.code == NOT_FOUND => {
                    let wanted: HashSet<&String> = ids.iter().collect();
                    return Ok(self
                        .list()
                        .await?
                        .into_iter()
                        .filter(|i| wanted.contains(&i.key.id))
                        .collect());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }

    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError> {
        let ids = expect_ids(ids, PAGE_LIMIT, "DeleteKeyPairs")?;
        let (_, request_id) = self
            .client
            .call(&self.region, "DeleteKeyPairs", &json!({ "KeyIds": ids }), Retry::Write)
            .await?;
        let remaining = self.describe(ids).await.map_err(|e| {
            ProviderError::new(
                e.kind,
                e.code.clone(),
                format!(
                    "DeleteKeyPairs was accepted (RequestId {request_id}) but checking which key pairs remain \
                     failed: {}; refresh the list to see what was deleted",
                    e.message
                ),
            )
            .with_request_id(Some(request_id.clone()))
        })?;
        let kept: Vec<(String, String)> = remaining
            .iter()
            .map(|item| (item.key.id.clone(), kept_reason(item)))
            .collect();
        let kept_ids: HashSet<&String> = remaining.iter().map(|i| &i.key.id).collect();
        Ok(DeleteReport {
            request_id,
            deleted: ids.iter().filter(|id| !kept_ids.contains(id)).cloned().collect(),
            kept,
        })
    }

    async fn rename(&self, id: &str, name: &str, description: Option<&str>) -> Result<Receipt, ProviderError> {
        let mut params = json!({ "KeyId": id });
        if !name.is_empty() {
            params["KeyName"] = Value::String(name.to_string());
        }
        if let Some(d) = description {
            params["Description"] = Value::String(d.to_string());
        }
        // A repeat after a timeout could collide with the name it just set, so no blind retry.
        let (_, request_id) = self
            .client
            .call(&self.region, "ModifyKeyPairAttribute", &params, Retry::Write)
            .await?;
        Ok(Receipt { request_id })
    }
}
