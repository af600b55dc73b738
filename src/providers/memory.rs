//! An in-memory provider for unit tests and UI benchmarks: no network, behaves like
//! the real services on the rules keyward relies on (disable before delete for API
//! Gateway keys, bound key pairs kept, unknown ids rejected), and records every call.

use super::tencent::{apigateway::actions as apigateway, cvm::actions as cvm};
use super::{DeleteReport, ErrorKind, Operation, Provider, ProviderError, Receipt, Rotated};
use crate::inventory::{Item, ProviderKind, Scope, Status};
use crate::secret::Secret;
use async_trait::async_trait;
use compact_str::{CompactString, format_compact};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct MemoryProvider {
    scope: Scope,
    items: Mutex<Vec<Item>>,
    /// Every call as `Action id,id,...`, in order.
    pub calls: Mutex<Vec<String>>,
    next_request: AtomicU64,
}

impl MemoryProvider {
    pub fn new(kind: ProviderKind, account: &str, region: &str, items: Vec<Item>) -> Self {
        MemoryProvider {
            scope: Scope::new(kind, account, region),
            items: Mutex::new(items),
            calls: Mutex::new(Vec::new()),
            next_request: AtomicU64::new(1),
        }
    }

    /// `n` plain items named `{prefix}-{i}` with ids `{prefix}-{i:06}`.
    pub fn sample_items(kind: ProviderKind, account: &str, region: &str, prefix: &str, n: usize) -> Vec<Item> {
        let scope = Scope::new(kind, account, region);
        (0..n)
            .map(|i| Item {
                key: scope.key(format_compact!("{prefix}-{i:06}")),
                name: format_compact!("{prefix}-name-{i}"),
                status: match kind {
                    ProviderKind::ApiGateway => Status::Enabled,
                    _ => Status::Active,
                },
                key_type: "auto".into(),
                description: CompactString::default(),
                created: crate::times::parse_rfc3339("2025-01-01T00:00:00Z"),
                modified: crate::times::parse_rfc3339("2025-01-01T00:00:00Z"),
                last_used: None,
                expires: None,
                bindings: Vec::new(),
                signs_keyward: false,
                owner_active_keys: 0,
            })
            .collect()
    }

    pub fn items(&self) -> Vec<Item> {
        self.items.lock().unwrap().clone()
    }

    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn receipt(&self, action: &str, ids: &[String]) -> Receipt {
        self.calls.lock().unwrap().push(format!("{action} {}", ids.join(",")));
        Receipt {
            request_id: format!("mem-{}", self.next_request.fetch_add(1, Ordering::Relaxed)),
        }
    }

    fn not_found(&self, id: &str) -> ProviderError {
        let code = match self.scope.kind {
            ProviderKind::ApiGateway | ProviderKind::Cvm | ProviderKind::Cam => {
                super::capabilities(self.scope.kind).gone_code.unwrap_or("NotFound")
            }
            // Undocumented for the real service.
            ProviderKind::OceanBase => "NOT_FOUND",
        };
        ProviderError::new(ErrorKind::Api, code, format!("{id} does not exist"))
    }

    fn set_status(&self, action: &str, id: &str, status: Status) -> Result<Receipt, ProviderError> {
        let mut items = self.items.lock().unwrap();
        let item = items
            .iter_mut()
            .find(|i| i.key.id == id)
            .ok_or_else(|| self.not_found(id))?;
        item.status = status;
        drop(items);
        Ok(self.receipt(action, &[id.to_string()]))
    }
}

#[async_trait]
impl Provider for MemoryProvider {
    /// Capabilities come from the trait's default, the real providers' own, so the fake
    /// cannot drift from them.
    fn scope(&self) -> &Scope {
        &self.scope
    }

    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        Ok(self.items())
    }

    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError> {
        let mut items = self.items.lock().unwrap();
        for id in ids {
            let item = items
                .iter()
                .find(|i| i.key.id == *id)
                .ok_or_else(|| self.not_found(id))?;
            if self.scope.kind == ProviderKind::ApiGateway {
                if item.is_bound() {
                    return Err(ProviderError::new(
                        ErrorKind::Api,
                        "UnsupportedOperation.ResourceIsInUse",
                        "The key has already been bound to a usage plan.",
                    ));
                }
                if item.status != Status::Disabled {
                    return Err(ProviderError::new(
                        ErrorKind::Api,
                        "UnsupportedOperation.InvalidStatus",
                        "The current key status does not support this operation.",
                    ));
                }
            }
        }
        let mut report = DeleteReport {
            request_id: String::new(),
            deleted: Vec::new(),
            kept: Vec::new(),
        };
        items.retain(|i| {
            if !ids.iter().any(|id| *id == i.key.id) {
                return true;
            }
            if self.scope.kind == ProviderKind::Cvm && i.is_bound() {
                report
                    .kept
                    .push((i.key.id.to_string(), format!("bound to {}", i.bindings_text())));
                true
            } else {
                report.deleted.push(i.key.id.to_string());
                false
            }
        });
        drop(items);
        let action = super::action(self.scope.kind, Operation::Delete).unwrap_or("delete");
        report.request_id = self.receipt(action, ids).request_id;
        Ok(report)
    }

    async fn disable(&self, id: &str) -> Result<Receipt, ProviderError> {
        self.set_status(apigateway::DISABLE_API_KEY, id, Status::Disabled)
    }

    async fn enable(&self, id: &str) -> Result<Receipt, ProviderError> {
        self.set_status(apigateway::ENABLE_API_KEY, id, Status::Enabled)
    }

    async fn rotate(&self, id: &str, custom: Option<&Secret>) -> Result<Rotated, ProviderError> {
        if !self.items().iter().any(|i| i.key.id == id) {
            return Err(self.not_found(id));
        }
        let receipt = self.receipt(apigateway::UPDATE_API_KEY, &[id.to_string()]);
        let new_secret = custom
            .cloned()
            .unwrap_or_else(|| Secret::new(format!("generated_{}", receipt.request_id)));
        Ok(Rotated {
            receipt,
            new_secret,
            new_id: None,
        })
    }

    async fn rename(&self, id: &str, name: &str, description: Option<&str>) -> Result<Receipt, ProviderError> {
        let mut items = self.items.lock().unwrap();
        let item = items
            .iter_mut()
            .find(|i| i.key.id == id)
            .ok_or_else(|| self.not_found(id))?;
        item.name = name.into();
        if let Some(d) = description {
            item.description = d.into();
        }
        drop(items);
        Ok(self.receipt(cvm::MODIFY_KEY_PAIR_ATTRIBUTE, &[id.to_string()]))
    }
}
