//! Running a confirmed plan: the only place keyward sends a mutating call.
//!
//! Calls that touch the same item form a chain and run in plan order (DisableApiKey
//! before its DeleteApiKey); if a call does not succeed for an id, later calls in the
//! chain are not sent for that id. Chains run concurrently, at most `MAX_IN_FLIGHT`
//! calls at once per account and API: the per-account, per-API rate limits live in each
//! provider's client, and a bound per API (not one for the whole run) lets DeleteApiKey
//! calls flow while DisableApiKey calls are still queued, instead of waiting behind them.
//!
//! One call is not in the plan: when this run disabled an API key and its DeleteApiKey
//! then fails with `UnsupportedOperation.ResourceIsInUse` (bound to a usage plan after
//! the listing, or the listing was stale), an EnableApiKey restores the key, so a delete
//! that cannot happen does not leave the key's callers refused.

use super::{ExecEvent, ExecOptions, LogEntry, Op, Outcome, OutcomeKind, Plan, PlannedCall, Tally};
use crate::audit::{AuditLog, CallRef, ItemResult, Record};
use crate::inventory::{Item, ProviderKind, Scope};
use crate::providers::tencent::apigateway::{RESOURCE_IS_IN_USE, actions as apigateway_actions};
use crate::providers::{ErrorKind, Provider, ProviderError};
use crate::secret::Secret;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

/// Calls in flight at once per (provider kind, account, API action).
pub const MAX_IN_FLIGHT: usize = 16;

/// What one in-flight bound covers: the unit a documented rate limit applies to.
type Api = (ProviderKind, compact_str::CompactString, &'static str);

/// Run a confirmed plan. Never panics; every item ends with exactly one `ExecEvent::Item`
/// per call that addresses it (Ok, Kept, Failed, DryRun or NotSent), the run ends with
/// `Finished`, and then the affected scopes are re-read (`Refreshed`, not in a dry run)
/// and `Settled` follows.
///
/// `Finished` counts items, not calls, each by the worst outcome of its calls (see `Tally`).
pub async fn execute(
    plan: Plan,
    providers: Vec<Arc<dyn Provider>>,
    opts: ExecOptions,
    audit: Option<Arc<AuditLog>>,
    cancel: CancellationToken,
    events: UnboundedSender<ExecEvent>,
) {
    let total_items = plan.item_count();
    let plan_hash = plan.plan_hash;
    let calls = one_request_per_call(plan.calls);
    let names = plan.names;
    let also_listed = plan.also_listed;
    let mut listed: HashMap<Scope, Vec<Item>> = HashMap::new();
    for item in plan.listed {
        listed.entry(item.key.scope.clone()).or_default().push(item);
    }
    let mut by_scope: HashMap<Scope, Arc<dyn Provider>> = HashMap::new();
    for p in providers {
        by_scope.entry(p.scope().clone()).or_insert(p);
    }
    let run = Run {
        id: uuid::Uuid::new_v4().to_string(),
        dry_run: opts.dry_run,
        plan_hash,
        providers: by_scope,
        audit,
        cancel,
        events,
        slots: std::sync::Mutex::new(HashMap::new()),
        done_calls: AtomicUsize::new(0),
        restores: AtomicUsize::new(0),
        calls,
        names,
        also_listed,
        listed,
    };
    run.emit(ExecEvent::Started {
        total_calls: run.calls.len(),
        total_items,
    });
    run.audit_best_effort(&Record::Run {
        time: chrono::Utc::now(),
        run: run.id.clone(),
        dry_run: run.dry_run,
        calls: run.calls.len(),
        items: total_items,
        plan: run.plan_hash.clone(),
    });

    let results = futures::future::join_all(chains(&run.calls).into_iter().map(|chain| run.run_chain(chain))).await;
    let cancelled = run.cancel.is_cancelled();
    let mut tally = Tally::default();
    let mut sent_scopes = BTreeSet::new();
    for r in results {
        let t = r.tally;
        tally.ok += t.ok;
        tally.kept += t.kept;
        tally.failed += t.failed;
        tally.unknown += t.unknown;
        tally.not_sent += t.not_sent;
        tally.dry_run += t.dry_run;
        sent_scopes.extend(r.sent_scopes);
    }

    // The run's end is recorded as soon as its last call answered, before the re-read:
    // a process quitting (q, a signal) right after the calls still leaves a complete run.
    run.audit_best_effort(&Record::RunEnd {
        time: chrono::Utc::now(),
        run: run.id.clone(),
        cancelled,
        tally,
    });
    run.emit(ExecEvent::Finished { cancelled, tally });
    if !run.dry_run && !run.events.is_closed() {
        run.refresh(sent_scopes).await;
    }
    run.emit(ExecEvent::Settled);
}

/// Deletes address up to a batch of ids in one request; every other operation is one
/// request per id. A hand-built plan may list several ids on a rotate: split it so that
/// each audit intent is exactly one request.
fn one_request_per_call(calls: Vec<PlannedCall>) -> Vec<PlannedCall> {
    let mut out = Vec::with_capacity(calls.len());
    for call in calls {
        if call.ids.is_empty() {
            continue;
        }
        if call.op == Op::Delete || call.ids.len() == 1 {
            out.push(call);
            continue;
        }
        for id in &call.ids {
            out.push(PlannedCall {
                ids: vec![id.clone()],
                warnings: call
                    .warnings
                    .iter()
                    .filter(|w| w.starts_with(id.as_str()))
                    .cloned()
                    .collect(),
                ..call.clone()
            });
        }
    }
    out
}

/// Groups call indices into chains: calls that share an id of the same scope are in one
/// chain, in plan order. Chains are ordered by their first call.
fn chains(calls: &[PlannedCall]) -> Vec<Vec<usize>> {
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut parent: Vec<usize> = (0..calls.len()).collect();
    let mut first_call_of: HashMap<(&Scope, &str), usize> = HashMap::new();
    for (i, call) in calls.iter().enumerate() {
        for id in &call.ids {
            let key = (&call.scope, id.as_str());
            let other = *first_call_of.entry(key).or_insert(i);
            let (a, b) = (root(&mut parent, i), root(&mut parent, other));
            // Point the later root at the earlier one so the root is the chain's first call.
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..calls.len() {
        let r = root(&mut parent, i);
        by_root.entry(r).or_default().push(i);
    }
    by_root.into_values().collect()
}

/// The note on a key this run disabled whose delete did not happen and that is not enabled again.
const LEFT_DISABLED: &str =
    "the key was disabled by this run and stays disabled: enable it again if it must keep working";

/// What one item got from one call.
struct ItemOutcome {
    id: String,
    outcome: Outcome,
    request_id: Option<String>,
    hint: Option<String>,
    /// Set only by a successful rotation; goes to `ExecEvent::Rotated` and nowhere else.
    new_secret: Option<Secret>,
    /// The new key's id, when the rotation created one (staged rotation).
    new_id: Option<String>,
}

impl ItemOutcome {
    fn new(id: &str, outcome: Outcome) -> Self {
        ItemOutcome {
            id: id.to_string(),
            outcome,
            request_id: None,
            hint: None,
            new_secret: None,
            new_id: None,
        }
    }

    fn ok(id: &str, request_id: String) -> Self {
        ItemOutcome {
            request_id: Some(request_id),
            ..Self::new(id, Outcome::Ok)
        }
    }

    fn not_sent(id: &str, why: impl Into<String>) -> Self {
        ItemOutcome {
            hint: Some(why.into()),
            ..Self::new(id, Outcome::NotSent)
        }
    }

    fn failed(id: &str, err: &ProviderError) -> Self {
        let (code, message) = (err.code.clone(), err.message.clone());
        let outcome = if may_have_applied(err) {
            Outcome::Unknown { code, message }
        } else {
            Outcome::Failed { code, message }
        };
        ItemOutcome {
            request_id: err.request_id.clone(),
            hint: crate::hints::for_error(err),
            ..Self::new(id, outcome)
        }
    }

    /// Append to the hint, keeping what is already there.
    fn add_note(&mut self, note: &str) {
        self.hint = Some(match self.hint.take() {
            Some(h) => format!("{h}; {note}"),
            None => note.to_string(),
        });
    }

    fn succeeded(&self) -> bool {
        matches!(self.outcome, Outcome::Ok | Outcome::DryRun)
    }
}

/// Whether a failed write may still have happened on the server: the request may have
/// arrived even though keyward saw no valid answer. These are `Outcome::Unknown`.
fn may_have_applied(err: &ProviderError) -> bool {
    matches!(
        err.kind,
        ErrorKind::Server | ErrorKind::Timeout | ErrorKind::Transport | ErrorKind::Protocol
    )
}

/// Item tallies of one chain. Chains never share an item, so these add up.
#[derive(Default)]
struct ChainResult {
    tally: Tally,
    /// Scopes a request went to, re-read after the run.
    sent_scopes: BTreeSet<Scope>,
}

/// Final state of an item across its calls; the worst wins (declaration order).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Final {
    Ok,
    DryRun,
    Kept,
    NotSent,
    Unknown,
    Failed,
}

impl Final {
    fn of(o: &ItemOutcome) -> Final {
        match &o.outcome {
            Outcome::Ok => Final::Ok,
            Outcome::DryRun => Final::DryRun,
            Outcome::Kept { .. } => Final::Kept,
            Outcome::NotSent => Final::NotSent,
            Outcome::Unknown { .. } => Final::Unknown,
            Outcome::Failed { .. } => Final::Failed,
        }
    }
}

struct Run {
    id: String,
    dry_run: bool,
    /// The reviewed plan file's hash, stamped on every audit line of the run.
    plan_hash: Option<String>,
    providers: HashMap<Scope, Arc<dyn Provider>>,
    audit: Option<Arc<AuditLog>>,
    cancel: CancellationToken,
    events: UnboundedSender<ExecEvent>,
    slots: std::sync::Mutex<HashMap<Api, Arc<Semaphore>>>,
    done_calls: AtomicUsize,
    /// Restoring EnableApiKey calls sent so far; they are numbered after the plan's calls.
    restores: AtomicUsize,
    calls: Vec<PlannedCall>,
    /// The items' names at planning time, for the log pane and the audit log.
    names: super::Names,
    /// Other scopes that list a planned item: re-read with the scope its call went to.
    also_listed: BTreeMap<crate::inventory::ItemKey, Vec<Scope>>,
    /// Each scope's items before the run (`Plan::listed`), where its re-read starts from.
    listed: HashMap<Scope, Vec<Item>>,
}

impl Run {
    /// The in-flight bound of the call's account and API.
    fn slots_for(&self, call: &PlannedCall) -> Arc<Semaphore> {
        // A poisoned lock only means another task panicked while inserting; the map is
        // still whole, so keep using it.
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            slots
                .entry((call.scope.kind, call.scope.account.clone(), call.action))
                .or_insert_with(|| Arc::new(Semaphore::new(MAX_IN_FLIGHT))),
        )
    }

    fn emit(&self, event: ExecEvent) {
        // The receiver is gone only if the app is shutting down; the run still finishes
        // its calls and its audit lines.
        let _ = self.events.send(event);
    }

    fn audit_best_effort(&self, record: &Record) {
        if let Some(audit) = &self.audit
            && let Err(err) = audit.append(record)
        {
            tracing::error!(%err, "audit log write failed");
        }
        // A run's own records have no scope: the first call's stands for the run.
        if let Some(call) = self.calls.first() {
            self.forward_audit_notices(&call.scope);
        }
    }

    /// What the audit log noticed about its file (replaced and reopened, truncated) goes
    /// to the log pane, said once, at the call it was noticed at.
    fn forward_audit_notices(&self, scope: &Scope) {
        if let Some(audit) = &self.audit {
            for text in audit.take_notices() {
                self.emit(ExecEvent::Note {
                    scope: scope.clone(),
                    text,
                });
            }
        }
    }

    async fn run_chain(&self, chain: Vec<usize>) -> ChainResult {
        let mut result = ChainResult::default();
        let mut finals: BTreeMap<String, Final> = BTreeMap::new();
        // Ids whose earlier call in this chain did not succeed, with why.
        let mut blocked: HashMap<String, String> = HashMap::new();
        // Ids this run disabled: if their delete then does not happen, the operator must
        // know the key now stays disabled (its clients are refused).
        let mut disabled_here: BTreeSet<String> = BTreeSet::new();
        for index in chain {
            let call = &self.calls[index];
            let (held, to_send): (Vec<&String>, Vec<&String>) =
                call.ids.iter().partition(|id| blocked.contains_key(*id));
            let mut outcomes: Vec<ItemOutcome> = held
                .iter()
                .map(|id| {
                    let why = blocked.get(*id).cloned().unwrap_or_default();
                    ItemOutcome::not_sent(id, why)
                })
                .collect();
            if !to_send.is_empty() {
                let ids: Vec<String> = to_send.into_iter().cloned().collect();
                let (sent, sent_outcomes) = self.send(index, call, &ids).await;
                if sent {
                    result.sent_scopes.insert(call.scope.clone());
                    // A key other regions list too: re-read them as well, so its row
                    // leaves every region it was seen in (or stays where it still is).
                    for id in &ids {
                        if let Some(others) = self.also_listed.get(&call.scope.key(id.as_str())) {
                            result.sent_scopes.extend(others.iter().cloned());
                        }
                    }
                }
                outcomes.extend(sent_outcomes);
            }
            // Report in the call's own id order.
            outcomes.sort_by_key(|o| call.ids.iter().position(|id| *id == o.id));
            let mut to_restore = Vec::new();
            for o in outcomes.iter_mut() {
                if call.op == Op::Delete
                    && disabled_here.contains(&o.id)
                    && matches!(
                        o.outcome.kind(),
                        OutcomeKind::Failed | OutcomeKind::Unknown | OutcomeKind::NotSent
                    )
                {
                    if matches!(&o.outcome, Outcome::Failed { code, .. } if code == RESOURCE_IS_IN_USE) {
                        o.add_note("the key was disabled by this run: keyward enables it again (EnableApiKey)");
                        to_restore.push(o.id.clone());
                    } else {
                        o.add_note(LEFT_DISABLED);
                    }
                }
                if call.op == Op::Disable && o.outcome == Outcome::Ok {
                    disabled_here.insert(o.id.clone());
                }
            }
            self.finish_call(index, call, &mut outcomes);
            for id in to_restore {
                self.restore_enabled(call, &id).await;
            }

            for o in outcomes {
                let state = Final::of(&o);
                let entry = finals.entry(o.id.clone()).or_insert(state);
                *entry = (*entry).max(state);
                if !o.succeeded() && !blocked.contains_key(&o.id) {
                    let why = match o.outcome {
                        Outcome::NotSent => "not sent: the run was cancelled first".to_string(),
                        _ => format!("not sent: {} did not succeed for it first", call.action),
                    };
                    blocked.insert(o.id.clone(), why);
                }
            }
            let done = self.done_calls.fetch_add(1, Ordering::SeqCst) + 1;
            self.emit(ExecEvent::Progress {
                done_calls: done,
                total_calls: self.calls.len(),
            });
        }
        let t = &mut result.tally;
        for state in finals.values() {
            match state {
                Final::Ok => t.ok += 1,
                Final::DryRun => t.dry_run += 1,
                Final::Kept => t.kept += 1,
                Final::NotSent => t.not_sent += 1,
                Final::Unknown => t.unknown += 1,
                Final::Failed => t.failed += 1,
            }
        }
        result
    }

    /// Re-enable a key this run disabled and whose delete was refused as in use. Its own
    /// call: audited (intent, then outcome) and reported as an `EnableApiKey` item, not
    /// counted in the plan's progress. The delete stays reported as failed.
    ///
    /// Sent even when the run was cancelled meanwhile: cancelling stops the plan's changes,
    /// and this call undoes one the run already made, which would otherwise cut off the
    /// key's callers for a delete that did not happen.
    async fn restore_enabled(&self, delete: &PlannedCall, id: &str) {
        let call = PlannedCall {
            action: apigateway_actions::ENABLE_API_KEY,
            op: Op::Enable,
            ids: vec![id.to_string()],
            warnings: Vec::new(),
            ..delete.clone()
        };
        let index = self.calls.len() + self.restores.fetch_add(1, Ordering::SeqCst);
        let ids = &call.ids[..];
        let mut outcomes = match self.providers.get(&call.scope) {
            // Not reached: the delete just went out through this provider.
            None => vec![ItemOutcome::not_sent(id, "no provider to send EnableApiKey through")],
            Some(provider) => {
                // The semaphore is never closed, so this waits for a slot and gets one.
                let slots = self.slots_for(&call);
                let _permit = slots.acquire().await;
                match self.write_intent(index, &call, ids) {
                    Err(err) => vec![ItemOutcome::failed(id, &intent_not_logged(&err))],
                    Ok(()) => perform_caught(provider.as_ref(), &call, ids).await,
                }
            }
        };
        for o in outcomes.iter_mut() {
            if o.succeeded() {
                o.hint = Some("re-enabled: the key is bound to a usage plan, so it was not deleted".into());
            } else {
                o.add_note(LEFT_DISABLED);
            }
        }
        self.finish_call(index, &call, &mut outcomes);
    }

    /// Send one call for `ids` (or, in a dry run, record that it would be sent). Returns
    /// whether a request went out, and one outcome per id.
    async fn send(&self, index: usize, call: &PlannedCall, ids: &[String]) -> (bool, Vec<ItemOutcome>) {
        let all = |f: &dyn Fn(&str) -> ItemOutcome| ids.iter().map(|id| f(id)).collect::<Vec<_>>();
        if self.cancel.is_cancelled() {
            return (
                false,
                all(&|id| ItemOutcome::not_sent(id, "cancelled before it was sent")),
            );
        }
        let Some(provider) = self.providers.get(&call.scope) else {
            let err = ProviderError::new(
                ErrorKind::Invalid,
                "NoProvider",
                format!(
                    "no provider configured for {} account {} region {}",
                    call.scope.kind, call.scope.account, call.scope.region
                ),
            );
            return (false, all(&|id| ItemOutcome::failed(id, &err)));
        };
        // Wait for a slot, unless the run is cancelled meanwhile.
        let slots = self.slots_for(call);
        let permit = tokio::select! {
            biased;
            _ = self.cancel.cancelled() => None,
            permit = slots.acquire() => permit.ok(),
        };
        if permit.is_none() || self.cancel.is_cancelled() {
            return (
                false,
                all(&|id| ItemOutcome::not_sent(id, "cancelled before it was sent")),
            );
        }
        if let Err(err) = self.write_intent(index, call, ids) {
            let err = intent_not_logged(&err);
            return (false, all(&|id| ItemOutcome::failed(id, &err)));
        }
        if self.dry_run {
            return (false, all(&|id| ItemOutcome::new(id, Outcome::DryRun)));
        }
        (true, perform_caught(provider.as_ref(), call, ids).await)
    }

    /// What an audit line says about the call it records, stamped now.
    fn call_ref(&self, index: usize, call: &PlannedCall) -> CallRef {
        CallRef {
            time: chrono::Utc::now(),
            run: self.id.clone(),
            call: index,
            kind: call.scope.kind.slug().to_string(),
            account: call.scope.account.to_string(),
            region: call.scope.region.to_string(),
            action: call.action.to_string(),
            dry_run: self.dry_run,
            plan: self.plan_hash.clone(),
        }
    }

    fn write_intent(&self, index: usize, call: &PlannedCall, ids: &[String]) -> Result<(), crate::audit::AuditError> {
        let Some(audit) = &self.audit else {
            return Ok(());
        };
        let (name, description, custom_secret) = match &call.op {
            Op::Rename { name } => (Some(name.clone()), None, None),
            Op::Rotate { custom } => (None, None, Some(custom.is_some())),
            _ => (None, None, None),
        };
        let written = audit.append_durable(&Record::Intent {
            at: self.call_ref(index, call),
            ids: ids.to_vec(),
            name,
            description,
            custom_secret,
        });
        self.forward_audit_notices(&call.scope);
        written
    }

    /// Audit the call's outcome, then report each item (and any new secret) to the app.
    fn finish_call(&self, index: usize, call: &PlannedCall, outcomes: &mut [ItemOutcome]) {
        if let Some(audit) = &self.audit {
            let record = Record::Outcome {
                at: self.call_ref(index, call),
                items: outcomes
                    .iter()
                    .map(|o| ItemResult {
                        name: self.names.of(&call.scope, &o.id).map(str::to_string),
                        ..audit_item(o)
                    })
                    .collect(),
            };
            if let Err(err) = audit.append(&record) {
                tracing::error!(%err, "audit log could not record an outcome");
                for o in outcomes.iter_mut() {
                    o.add_note(&format!("the audit log could not record this result: {err}"));
                }
            }
            self.forward_audit_notices(&call.scope);
        }
        let time = chrono::Utc::now();
        for o in outcomes.iter_mut() {
            let secret = o.new_secret.take();
            self.emit(ExecEvent::Item(LogEntry {
                time,
                scope: call.scope.clone(),
                action: call.action.to_string(),
                operation: Some(call.op.operation()),
                target: o.id.clone(),
                name: self.names.of(&call.scope, &o.id).map(str::to_string),
                outcome: o.outcome.clone(),
                request_id: o.request_id.clone(),
                hint: o.hint.clone(),
            }));
            if let (Some(secret), Some(request_id)) = (secret, &o.request_id) {
                self.emit(ExecEvent::Rotated {
                    key: call.scope.key(o.id.as_str()),
                    request_id: request_id.clone(),
                    secret,
                    new_id: o.new_id.clone(),
                });
            }
        }
    }

    /// Re-read every scope a request went to, so the table shows what is really there.
    /// Each provider is told which ids the run addressed there and what the scope held
    /// before (`Provider::refresh`), so it can re-read only what the run can have changed.
    async fn refresh(&self, scopes: BTreeSet<Scope>) {
        let reads = scopes.into_iter().filter_map(|scope| {
            let provider = self.providers.get(&scope)?.clone();
            // Every id a call of this scope addressed, sent or not: a superset is safe.
            let touched: Vec<String> = self
                .calls
                .iter()
                .filter(|c| c.scope == scope)
                .flat_map(|c| c.ids.iter().cloned())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let previous = self.listed.get(&scope).map(Vec::as_slice).unwrap_or_default();
            Some(async move {
                // Caught like every other provider call: a panic here must not run the
                // terminal-restoring hook mid-session.
                let listed = crate::panic_guard::caught(provider.refresh(&touched, previous)).await;
                (scope, listed)
            })
        });
        for (scope, listed) in futures::future::join_all(reads).await {
            match listed {
                Ok(Ok(items)) => self.emit(ExecEvent::Refreshed { scope, items }),
                Ok(Err(err)) => tracing::warn!(%scope, %err, "re-reading after the run failed"),
                Err(_) => tracing::warn!(%scope, "the provider panicked while re-reading"),
            }
        }
    }
}

fn audit_item(o: &ItemOutcome) -> ItemResult {
    let (code, message) = match &o.outcome {
        Outcome::Failed { code, message } | Outcome::Unknown { code, message } => {
            (Some(code.clone()), Some(message.clone()))
        }
        Outcome::Kept { reason } => (None, Some(reason.clone())),
        Outcome::NotSent => (None, o.hint.clone()),
        Outcome::Ok | Outcome::DryRun => (None, None),
    };
    ItemResult {
        id: o.id.clone(),
        result: o.outcome.kind(),
        code,
        message,
        request_id: o.request_id.clone(),
        name: None,
    }
}

/// Why a call was not sent: its intent could not be written to the audit log first.
fn intent_not_logged(err: &crate::audit::AuditError) -> ProviderError {
    ProviderError::new(
        ErrorKind::Invalid,
        "AuditWriteFailed",
        format!("not sent because the intent could not be logged: {err}"),
    )
}

/// `perform`, with a provider panic turned into a failure of the call's ids.
async fn perform_caught(provider: &dyn Provider, call: &PlannedCall, ids: &[String]) -> Vec<ItemOutcome> {
    match crate::panic_guard::caught(perform(provider, call, ids)).await {
        Ok(outcomes) => outcomes,
        Err(_) => {
            let err = ProviderError::new(
                ErrorKind::Server,
                "Panic",
                format!("the {} provider panicked during {}", call.scope.kind, call.action),
            );
            ids.iter().map(|id| ItemOutcome::failed(id, &err)).collect()
        }
    }
}

/// The provider calls for one planned call. Deletes are one request for all `ids`;
/// other operations are one request per id (`ids` has one after `one_request_per_call`).
async fn perform(provider: &dyn Provider, call: &PlannedCall, ids: &[String]) -> Vec<ItemOutcome> {
    if call.op == Op::Delete {
        let batch = provider.capabilities().delete_batch;
        if batch > 0 && ids.len() > batch {
            let err = ProviderError::invalid(format!(
                "this call addresses {} ids but {} deletes at most {batch} per call; build the plan with build_plan",
                ids.len(),
                call.scope.kind
            ));
            return ids.iter().map(|id| ItemOutcome::failed(id, &err)).collect();
        }
        return match provider.delete(ids).await {
            Ok(report) => ids
                .iter()
                .map(|id| match report.kept.iter().find(|(kept, _)| kept == id) {
                    Some((_, reason)) => ItemOutcome {
                        request_id: Some(report.request_id.clone()),
                        ..ItemOutcome::new(id, Outcome::Kept { reason: reason.clone() })
                    },
                    None => ItemOutcome::ok(id, report.request_id.clone()),
                })
                .collect(),
            // One id, and the service says it does not exist: it is gone, as asked. (For a
            // batch the answer does not say which id, so it stays a failure.)
            Err(err) if ids.len() == 1 && provider.capabilities().gone_code == Some(err.code.as_str()) => ids
                .iter()
                .map(|id| ItemOutcome {
                    request_id: err.request_id.clone(),
                    hint: Some(format!(
                        "already deleted: the service says it does not exist ({})",
                        err.code
                    )),
                    ..ItemOutcome::new(id, Outcome::Ok)
                })
                .collect(),
            Err(err) => ids.iter().map(|id| ItemOutcome::failed(id, &err)).collect(),
        };
    }
    let mut outcomes = Vec::with_capacity(ids.len());
    for id in ids {
        let outcome = match &call.op {
            Op::Disable => provider.disable(id).await.map(|r| ItemOutcome::ok(id, r.request_id)),
            Op::Enable => provider.enable(id).await.map(|r| ItemOutcome::ok(id, r.request_id)),
            Op::Rename { name } => provider
                .rename(id, name, None)
                .await
                .map(|r| ItemOutcome::ok(id, r.request_id)),
            Op::Rotate { custom } => provider.rotate(id, custom.as_ref()).await.map(|r| ItemOutcome {
                new_secret: Some(r.new_secret),
                new_id: r.new_id,
                ..ItemOutcome::ok(id, r.receipt.request_id)
            }),
            // Handled above; kept here so a new Op cannot be silently dropped.
            Op::Delete => Err(ProviderError::invalid("delete reached the single-id path")),
        };
        outcomes.push(outcome.unwrap_or_else(|err| ItemOutcome::failed(id, &err)));
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(kind: ProviderKind, op: Op, ids: &[&str]) -> PlannedCall {
        PlannedCall {
            scope: Scope::new(kind, "a", "r"),
            action: "X",
            op,
            ids: ids.iter().map(|s| s.to_string()).collect(),
            warnings: Vec::new(),
        }
    }

    #[test]
    fn calls_sharing_an_id_form_one_chain_in_plan_order() {
        let calls = vec![
            call(ProviderKind::ApiGateway, Op::Disable, &["k1"]),
            call(ProviderKind::ApiGateway, Op::Disable, &["k2"]),
            call(ProviderKind::ApiGateway, Op::Delete, &["k1"]),
            call(ProviderKind::ApiGateway, Op::Delete, &["k2"]),
            call(ProviderKind::Cvm, Op::Delete, &["k1"]),
        ];
        assert_eq!(chains(&calls), vec![vec![0, 2], vec![1, 3], vec![4]]);
    }

    #[test]
    fn chains_merge_transitively() {
        let calls = vec![
            call(ProviderKind::Cvm, Op::Delete, &["a"]),
            call(ProviderKind::Cvm, Op::Delete, &["b"]),
            call(ProviderKind::Cvm, Op::Delete, &["a", "b"]),
        ];
        assert_eq!(chains(&calls), vec![vec![0, 1, 2]]);
    }

    #[test]
    fn multi_id_non_delete_calls_are_split() {
        let calls = vec![
            call(ProviderKind::ApiGateway, Op::Enable, &["k1", "k2"]),
            call(ProviderKind::Cvm, Op::Delete, &["a", "b"]),
            call(ProviderKind::Cvm, Op::Delete, &[]),
        ];
        let split = one_request_per_call(calls);
        let ids: Vec<Vec<String>> = split.iter().map(|c| c.ids.clone()).collect();
        assert_eq!(ids, vec![vec!["k1"], vec!["k2"], vec!["a", "b"]]);
    }
}
