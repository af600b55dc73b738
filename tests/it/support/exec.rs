//! Driving the real executor: a fault-injecting wrapper around MemoryProvider (`Faulty`),
//! a concurrency probe (`Probe`), and a runner that collects every ExecEvent.

use async_trait::async_trait;
use keyward::audit::AuditLog;
use keyward::inventory::{Item, ProviderKind, Scope};
use keyward::providers::memory::MemoryProvider;
use keyward::providers::{Capabilities, DeleteReport, Provider, ProviderError, Receipt, Rotated};
use keyward::queue::{ExecEvent, ExecOptions, LogEntry, Plan, execute};
use keyward::secret::Secret;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What a scripted rule does when its call arrives.
pub enum Effect {
    Fail(ProviderError),
    Panic,
    /// Cancel the run's token, then perform the call normally.
    Cancel(CancellationToken),
    /// Signal `entered`, wait for `release`, then perform the call normally.
    Hold {
        entered: Arc<Notify>,
        release: Arc<Notify>,
    },
}

pub struct Rule {
    pub action: &'static str,
    /// `None` matches every id.
    pub id: Option<String>,
    pub effect: Effect,
}

/// MemoryProvider plus scripted faults, matched by action and id.
pub struct Faulty {
    pub inner: MemoryProvider,
    pub rules: Mutex<Vec<Rule>>,
    /// Every rule firing as `Action id,...`.
    pub fired: Mutex<Vec<String>>,
}

impl Faulty {
    pub fn new(inner: MemoryProvider) -> Self {
        Faulty {
            inner,
            rules: Mutex::new(Vec::new()),
            fired: Mutex::new(Vec::new()),
        }
    }

    pub fn rule(self, action: &'static str, id: Option<&str>, effect: Effect) -> Self {
        self.rules.lock().unwrap().push(Rule {
            action,
            id: id.map(str::to_string),
            effect,
        });
        self
    }

    async fn before(&self, action: &str, ids: &[String]) -> Result<(), ProviderError> {
        enum Next {
            Fail(ProviderError),
            Panic,
            Hold(Arc<Notify>, Arc<Notify>),
            Go,
        }
        let next = {
            let rules = self.rules.lock().unwrap();
            let rule = rules
                .iter()
                .find(|r| r.action == action && r.id.as_ref().is_none_or(|id| ids.contains(id)));
            match rule.map(|r| &r.effect) {
                None => Next::Go,
                Some(Effect::Fail(e)) => Next::Fail(e.clone()),
                Some(Effect::Panic) => Next::Panic,
                Some(Effect::Cancel(token)) => {
                    token.cancel();
                    Next::Go
                }
                Some(Effect::Hold { entered, release }) => Next::Hold(entered.clone(), release.clone()),
            }
        };
        if !matches!(next, Next::Go) {
            self.fired.lock().unwrap().push(format!("{action} {}", ids.join(",")));
        }
        match next {
            Next::Go => Ok(()),
            Next::Fail(e) => Err(e),
            Next::Panic => panic!("injected provider panic"),
            Next::Hold(entered, release) => {
                entered.notify_one();
                release.notified().await;
                Ok(())
            }
        }
    }
}

#[async_trait]
impl Provider for Faulty {
    fn scope(&self) -> &Scope {
        self.inner.scope()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        self.inner.list().await
    }
    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError> {
        let action = match self.scope().kind {
            ProviderKind::ApiGateway => "DeleteApiKey",
            ProviderKind::Cvm => "DeleteKeyPairs",
            ProviderKind::OceanBase => "DELETE /api/v2/maas/apikeys",
            ProviderKind::Cam => "DeleteAccessKey",
        };
        self.before(action, ids).await?;
        self.inner.delete(ids).await
    }
    async fn disable(&self, id: &str) -> Result<Receipt, ProviderError> {
        self.before("DisableApiKey", &[id.to_string()]).await?;
        self.inner.disable(id).await
    }
    async fn enable(&self, id: &str) -> Result<Receipt, ProviderError> {
        self.before("EnableApiKey", &[id.to_string()]).await?;
        self.inner.enable(id).await
    }
    async fn rotate(&self, id: &str, custom: Option<&Secret>) -> Result<Rotated, ProviderError> {
        self.before("UpdateApiKey", &[id.to_string()]).await?;
        self.inner.rotate(id, custom).await
    }
    async fn rename(&self, id: &str, name: &str, description: Option<&str>) -> Result<Receipt, ProviderError> {
        self.before("ModifyKeyPairAttribute", &[id.to_string()]).await?;
        self.inner.rename(id, name, description).await
    }
}

/// Run `execute` to the end and return every event it sent.
pub async fn run(
    plan: Plan,
    providers: Vec<Arc<dyn Provider>>,
    opts: ExecOptions,
    audit: Option<Arc<AuditLog>>,
    cancel: CancellationToken,
) -> Vec<ExecEvent> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    execute(plan, providers, opts, audit, cancel, tx).await;
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    events
}

pub fn entries(events: &[ExecEvent]) -> Vec<&LogEntry> {
    events
        .iter()
        .filter_map(|e| match e {
            ExecEvent::Item(entry) => Some(entry),
            _ => None,
        })
        .collect()
}

/// (ok, failed, not_sent, cancelled) from the Finished event, which must be last; `ok`
/// counts every item the service answered for (ok, kept, dry run), `failed` includes
/// the unknown ones. `tally` gives each kind apart.
pub fn finished(events: &[ExecEvent]) -> (usize, usize, usize, bool) {
    let (t, cancelled) = tally(events);
    (t.ok + t.kept + t.dry_run, t.failed + t.unknown, t.not_sent, cancelled)
}

/// The Finished event's tally and whether the run was cancelled. The run ends with
/// Finished, then only the re-reads (Refreshed) and Settled, last.
pub fn tally(events: &[ExecEvent]) -> (keyward::queue::Tally, bool) {
    assert!(
        matches!(events.last(), Some(ExecEvent::Settled)),
        "last event is not Settled: {:?}",
        events.last()
    );
    let at = events
        .iter()
        .position(|e| matches!(e, ExecEvent::Finished { .. }))
        .expect("a Finished event");
    assert!(
        events[at + 1..events.len() - 1]
            .iter()
            .all(|e| matches!(e, ExecEvent::Refreshed { .. })),
        "only re-reads follow Finished: {:?}",
        &events[at + 1..]
    );
    match &events[at] {
        ExecEvent::Finished { cancelled, tally } => (*tally, *cancelled),
        _ => unreachable!(),
    }
}

/// MemoryProvider whose mutating calls take `delay` (keep it a few ms), counting how
/// many are in flight at once.
pub struct Probe {
    pub inner: MemoryProvider,
    pub delay: std::time::Duration,
    /// Calls in flight now and at most, per action.
    in_flight: Mutex<std::collections::HashMap<&'static str, usize>>,
    pub max_in_flight: Mutex<std::collections::HashMap<&'static str, usize>>,
}

impl Probe {
    pub fn new(inner: MemoryProvider, delay: std::time::Duration) -> Self {
        Probe {
            inner,
            delay,
            in_flight: Default::default(),
            max_in_flight: Default::default(),
        }
    }

    /// The most calls of `action` that were in flight at once.
    pub fn max_in_flight(&self, action: &str) -> usize {
        self.max_in_flight.lock().unwrap().get(action).copied().unwrap_or(0)
    }

    async fn slow<T>(&self, action: &'static str, call: impl std::future::Future<Output = T>) -> T {
        {
            let mut now = self.in_flight.lock().unwrap();
            let n = now.entry(action).or_default();
            *n += 1;
            let mut max = self.max_in_flight.lock().unwrap();
            let m = max.entry(action).or_default();
            *m = (*m).max(*n);
        }
        tokio::time::sleep(self.delay).await;
        let out = call.await;
        *self.in_flight.lock().unwrap().entry(action).or_default() -= 1;
        out
    }
}

#[async_trait]
impl Provider for Probe {
    fn scope(&self) -> &Scope {
        self.inner.scope()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn list(&self) -> Result<Vec<Item>, ProviderError> {
        self.inner.list().await
    }
    async fn delete(&self, ids: &[String]) -> Result<DeleteReport, ProviderError> {
        self.slow("DeleteApiKey", self.inner.delete(ids)).await
    }
    async fn disable(&self, id: &str) -> Result<Receipt, ProviderError> {
        self.slow("DisableApiKey", self.inner.disable(id)).await
    }
}
