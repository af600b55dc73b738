//! Account-global keys on memory providers: one store that every region of an account
//! lists (as CVM key pairs may be), each region a provider with its own scope that
//! records the calls it receives.

use async_trait::async_trait;
use keyward::inventory::{Item, ProviderKind, Scope};
use keyward::providers::memory::MemoryProvider;
use keyward::providers::{DeleteReport, Provider, ProviderError};
use std::sync::{Arc, Mutex};

/// One region's view of a store every region shares: listing returns the store's items
/// under this region's scope; a delete through any region removes them for all.
pub struct SharedRegion {
    scope: Scope,
    store: Arc<MemoryProvider>,
    /// Calls this region received, as `Action id,id`.
    pub calls: Mutex<Vec<String>>,
}

impl SharedRegion {
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

/// The providers of `regions` (config order) of `account`, all listing `items` (built in
/// any region: listing puts them in the caller's), plus the shared store.
pub fn shared_regions(
    kind: ProviderKind,
    account: &str,
    regions: &[&str],
    items: Vec<Item>,
) -> (Vec<Arc<SharedRegion>>, Arc<MemoryProvider>) {
    let store = Arc::new(MemoryProvider::new(kind, account, regions[0], items));
    let providers = regions
        .iter()
        .map(|r| {
            Arc::new(SharedRegion {
                scope: Scope::new(kind, account, *r),
                store: store.clone(),
                calls: Mutex::new(Vec::new()),
            })
        })
        .collect();
    (providers, store)
}

#[async_trait]
impl Provider for SharedRegion {
    fn scope(&self) -> &Scope {
        &self.scope
    }

    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        let mut items = self.store.list().await?;
        for i in &mut items {
            i.key.scope = self.scope.clone();
        }
        Ok(items)
    }

    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError> {
        self.calls.lock().unwrap().push(format!("delete {}", ids.join(",")));
        self.store.delete(ids).await
    }
}
