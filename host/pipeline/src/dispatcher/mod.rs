//! The dispatcher: workers claim inbox events and run every plugin the
//! store enabled for the event's topic, each in a fresh sandbox with the
//! store's settings.
//!
//! Per event:
//! 1. Privacy topics go to the host's own handler ([`crate::privacy`]),
//!    never to plugins.
//! 2. On the first attempt the targets are planned: installations of the
//!    event's store that are enabled and whose plugin subscribes to the
//!    topic (`timer/fired` goes only to the plugin that set the timer).
//!    On later attempts, the rows still pending and due.
//! 3. Each target is checked again just before it runs: disabled →
//!    skipped, quarantined → held; otherwise it runs in `spawn_blocking`
//!    (the sandbox minimises the payload to the plugin's data grants and
//!    validates its actions). A `refunds/*` payload first gets the host's
//!    own `shopcase_issued` verdict (`shopcase_contract::origin`), checked
//!    against the journal; whatever the delivery said under that name is
//!    replaced.
//! 4. One `finish_event` transaction journals every successful run's
//!    actions with their idempotency keys, applies its key-value writes
//!    (after checking the versions it read), and records failures:
//!    retryable ones back off with jitter until `max-attempts`, the rest
//!    are dead-lettered at once; enough dead letters in a row quarantine
//!    the plugin for that store. A key-value conflict re-runs that plugin
//!    at once (the claim is kept), a few times, then backs off. A run that
//!    failed after a host service answered `unavailable` waits the outage
//!    out instead (not an attempt, never toward quarantine) until
//!    `dispatcher.outage-window`.
//!
//! A worker that dies mid-event leaves its claim to expire; the event is
//! claimed again and only the plugins not yet settled run: nothing is lost
//! and, because journalling is tied to the dispatch row's `pending → done`
//! change, nothing is journalled twice.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use shopcase_contract::action::{Action, ShopifyOperation};
use shopcase_contract::manifest::HOST_ONLY_TOPICS;
use shopcase_contract::origin;
use shopcase_contract::time::Timestamp;
use shopcase_sandbox::Invocation;
use shopcase_store::{
    ActionFamily, Claim, ClaimedEvent, DispatchStatus, EventFinish, EventProgress, FailureRecord,
    Installation, JournalQuery, JournalStatus, KvRead, KvWrite, PluginFinish, PluginOutcome,
    PluginResult, RunSuccess, StoredEvent,
};
use tokio::sync::watch;

use crate::fault::Fault;
use crate::server::Core;

pub mod registry;
pub mod services;

use registry::PluginRegistry;
use services::{CustomerHistorySource, OrderSource, StorageServices};

/// The most one host function call may block a plugin.
const HOST_CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// One plugin to run on one event.
#[derive(Debug, Clone)]
struct Target {
    plugin_id: String,
    /// Failed attempts so far.
    attempts: u32,
}

/// Runs plugins on claimed events.
#[derive(Debug)]
pub(crate) struct Dispatcher {
    pub(crate) core: Arc<Core>,
    pub(crate) registry: Arc<PluginRegistry>,
    pub(crate) history: Arc<dyn CustomerHistorySource>,
    pub(crate) orders: Arc<dyn OrderSource>,
}

impl Dispatcher {
    /// One worker's loop, until `shutdown` turns true. Claimed events that
    /// have not started when it does are given back at once.
    pub(crate) async fn run_worker(
        self: Arc<Self>,
        worker: String,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let cfg = &self.core.config.dispatcher;
        tracing::debug!(%worker, "dispatcher worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            // Listening for wake-ups before claiming: one sent while the
            // claim runs (an event committed after its snapshot) ends the
            // wait that follows an empty claim instead of being lost.
            let woken = self.core.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let claim = Claim {
                worker: worker.clone(),
                limit: cfg.batch,
                lease: cfg.lease,
                now: Timestamp::now(),
                poison_after: cfg.poison_after,
            };
            let claimed = match self.core.storage.claim_events(claim).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(%worker, error = %e, "cannot claim events");
                    crate::server::idle(&mut shutdown, cfg.poll_interval, None).await;
                    continue;
                }
            };
            if claimed.is_empty() {
                crate::server::idle_until(&mut shutdown, cfg.poll_interval, woken).await;
                continue;
            }
            let installations = self.installations_of(&claimed).await;
            let stop = shutdown.clone();
            let this = &*self;
            let one = |c: ClaimedEvent| {
                let installations = &installations;
                let worker = &worker;
                let stop = &stop;
                async move {
                    if *stop.borrow() {
                        // Shutting down: give it back rather than start it.
                        let _ = this
                            .core
                            .storage
                            .release_event(&c.event.event.id, worker, Timestamp::now())
                            .await;
                        return;
                    }
                    if let Some(Ok(i)) = installations.get(&c.event.event.shop) {
                        if c.event.abandoned > 0 {
                            // A suspect: if this process dies now, the
                            // death is charged to it (not while it waits).
                            if let Err(e) = this
                                .core
                                .storage
                                .start_suspect(&c.event.event.id, worker)
                                .await
                            {
                                tracing::warn!(event = %c.event.event.id, error = %e, "cannot mark a suspect event started; a death while it runs will not count toward poison-after");
                            }
                        }
                        this.process(worker, c, i).await;
                    } else {
                        // The installations could not be read: given back
                        // for a lease's time. (Left to expire, the claim
                        // would count as abandoned, toward `poison-after`.)
                        let _ = this
                            .core
                            .storage
                            .release_event(
                                &c.event.event.id,
                                worker,
                                later(this.core.config.dispatcher.lease),
                            )
                            .await;
                    }
                }
            };
            // Events whose earlier workers died holding them (suspects)
            // run one at a time in the whole process (with the journal's
            // suspects: `Core::suspect_gate`), after the rest of
            // the batch; the other suspects are given back, not held: if
            // the one running kills the process again, a suspect merely
            // claimed beside it must not count another abandoned claim
            // toward `poison-after` (an innocent event claimed beside a
            // poison one would otherwise be set aside with it).
            let (mut suspects, fresh): (Vec<_>, Vec<_>) =
                claimed.into_iter().partition(|c| c.event.abandoned > 0);
            let gate = if suspects.is_empty() {
                None
            } else {
                self.core.suspect_gate.clone().try_acquire_owned().ok()
            };
            let keep = usize::from(gate.is_some());
            let back_at = later(cfg.lease / 2);
            for c in suspects.drain(keep.min(suspects.len())..) {
                let _ = self
                    .core
                    .storage
                    .release_event(&c.event.event.id, &worker, back_at)
                    .await;
            }
            let batch = async {
                futures::stream::iter(fresh)
                    .for_each_concurrent(cfg.batch, &one)
                    .await;
                futures::stream::iter(suspects)
                    .for_each_concurrent(1, &one)
                    .await;
                drop(gate);
            };
            self.run_renewing(&worker, batch).await;
        }
        tracing::debug!(%worker, "dispatcher worker stopped");
    }

    /// Run a claimed batch, renewing the worker's leases every third of a
    /// lease while it runs: a batch that waits for sandbox slots or slow
    /// host calls can outlast one lease, and another worker must not
    /// re-claim (and run again) events this one is still running. A crashed
    /// worker renews nothing, so its claims still expire.
    async fn run_renewing(&self, worker: &str, batch: impl std::future::Future<Output = ()>) {
        let lease = self.core.config.dispatcher.lease;
        let mut tick = tokio::time::interval(lease / 3);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await; // the first tick is immediate; the claim is fresh
        tokio::pin!(batch);
        loop {
            tokio::select! {
                () = &mut batch => return,
                _ = tick.tick() => {
                    match self.core.storage.renew_claims(worker, later(lease), Timestamp::now()).await {
                        Ok(n) => tracing::debug!(%worker, renewed = n, "leases renewed"),
                        Err(e) => tracing::warn!(%worker, error = %e, "cannot renew leases; they may expire and be claimed again"),
                    }
                }
            }
        }
    }

    /// The installations of each store in the batch, read once per batch.
    async fn installations_of(
        &self,
        claimed: &[ClaimedEvent],
    ) -> HashMap<String, Result<BTreeMap<String, Installation>, ()>> {
        let mut out = HashMap::new();
        for c in claimed {
            let shop = &c.event.event.shop;
            if out.contains_key(shop) {
                continue;
            }
            let r = match self.core.storage.installations(Some(shop)).await {
                Ok(list) => Ok(list.into_iter().map(|i| (i.plugin_id.clone(), i)).collect()),
                Err(e) => {
                    tracing::warn!(shop = %shop, error = %e, "cannot read installations");
                    Err(())
                }
            };
            out.insert(shop.clone(), r);
        }
        out
    }

    async fn process(
        &self,
        worker: &str,
        claimed: ClaimedEvent,
        installations: &BTreeMap<String, Installation>,
    ) {
        let ev = &claimed.event;
        if HOST_ONLY_TOPICS.contains(&ev.event.topic.as_str()) {
            crate::privacy::handle(
                &self.core,
                self.history.as_ref(),
                self.orders.as_ref(),
                ev,
                worker,
            )
            .await;
            return;
        }
        let now = Timestamp::now();
        let targets: Vec<Target> = if claimed.dispatch.is_empty() {
            self.plan(ev, installations).await
        } else {
            claimed
                .dispatch
                .iter()
                .filter(|r| {
                    r.status == DispatchStatus::Pending
                        && r.next_attempt_at.is_none_or(|t| t <= now)
                })
                .map(|r| Target {
                    plugin_id: r.plugin_id.clone(),
                    attempts: r.attempts,
                })
                .collect()
        };

        // One copy of the event for all its plugin runs (each runs on a
        // blocking thread and needs an owned handle).
        let mut event = ev.event.clone();
        if event.topic.starts_with("refunds/") && !targets.is_empty() {
            // The host's word on whether shopcase issued the refund
            // (`shopcase_contract::origin`), never the payload's.
            match self.issued_by_shopcase(&event).await {
                Ok(issued) => {
                    if let Some(p) = origin::stamp(&event.topic, &event.payload, issued) {
                        event.payload = p;
                    }
                }
                Err(e) => {
                    // Unverified, the refund must not reach a plugin:
                    // given back for a lease, like a journal failure.
                    tracing::warn!(event = %ev.event.id, error = %e, "cannot check the journal for a refund's origin");
                    let _ = self
                        .core
                        .storage
                        .release_event(
                            &ev.event.id,
                            worker,
                            later(self.core.config.dispatcher.lease),
                        )
                        .await;
                    return;
                }
            }
        }
        let event = Arc::new(event);
        let mut outcomes: Vec<PluginOutcome> = futures::future::join_all(
            targets
                .iter()
                .map(|t| self.run(&event, ev.received_at, t, installations)),
        )
        .await;
        self.core.faults.hit(Fault::AbortBeforeJournal);
        self.core.faults.hit_running(&ev.dedupe_key);

        let cfg = &self.core.config.dispatcher;
        let mut round = 0;
        loop {
            let finish = EventFinish {
                event_id: ev.event.id.clone(),
                worker: worker.to_owned(),
                now: Timestamp::now(),
                quarantine_after: cfg.quarantine_after,
                outcomes: std::mem::take(&mut outcomes),
                read_redacted_at: ev.redacted_at,
            };
            // What each run was, for the metrics (not the actions: a copy
            // of those would cost a deep clone per event).
            let ran: Vec<Ran> = finish.outcomes.iter().map(Ran::of).collect();
            let report = match self.core.storage.finish_event(finish).await {
                Ok(r) => r,
                Err(e) => {
                    // Nothing was applied; the event is run again after a
                    // lease (plugins are deterministic). Given back if the
                    // storage lets us, so that this does not count as an
                    // abandoned claim; otherwise the claim expires.
                    tracing::warn!(event = %ev.event.id, error = %e, "cannot journal the event's results");
                    let _ = self
                        .core
                        .storage
                        .release_event(&ev.event.id, worker, later(cfg.lease))
                        .await;
                    return;
                }
            };
            self.core.faults.hit(Fault::AbortAfterJournal);
            self.observe(ev, &ran, &report.plugins);
            if report
                .plugins
                .iter()
                .any(|(_, f)| matches!(f, PluginFinish::Journalled { actions } if *actions > 0))
            {
                self.core.journal_added();
            }
            let conflicts: Vec<String> = report.conflicts().map(str::to_owned).collect();
            if conflicts.is_empty() || report.event != EventProgress::Retained {
                break;
            }
            round += 1;
            let again: Vec<Target> = targets
                .iter()
                .filter(|t| conflicts.contains(&t.plugin_id))
                .cloned()
                .collect();
            if round > cfg.kv_conflict_retries {
                tracing::info!(event = %ev.event.id, plugins = ?conflicts, "key-value conflicts persist; backing off");
                outcomes = again
                    .iter()
                    .map(|t| PluginOutcome {
                        plugin_id: t.plugin_id.clone(),
                        plugin_version: version_of(installations, &t.plugin_id),
                        result: PluginResult::Deferred {
                            at: later(cfg.retry.delay(round, None)),
                        },
                    })
                    .collect();
            } else {
                outcomes = futures::future::join_all(
                    again
                        .iter()
                        .map(|t| self.run(&event, ev.received_at, t, installations)),
                )
                .await;
            }
        }
    }

    /// Whether the `refunds/create` event's refund was issued by this host
    /// (see `shopcase_contract::origin`): a marker in its note is the
    /// marker of a refund entry journalled for the same store and order,
    /// and that entry, once executed, created this very refund. An entry
    /// not executed yet (pending or in flight: Shopify's webhook can
    /// arrive before the executor records its result) counts as issued;
    /// a dead one does not.
    async fn issued_by_shopcase(
        &self,
        event: &shopcase_contract::Event,
    ) -> shopcase_store::Result<bool> {
        if event.topic != "refunds/create" {
            return Ok(false);
        }
        let Ok(payload) = serde_json::from_str::<serde_json::Value>(&event.payload) else {
            return Ok(false);
        };
        let facts = origin::refund_facts(&payload);
        let markers = origin::markers_in(&facts.note);
        let (Some(order_id), Some(refund_id)) = (event.resources.order_id, facts.id) else {
            return Ok(false);
        };
        if markers.is_empty() {
            return Ok(false);
        }
        let entries = self
            .core
            .storage
            .search_journal(JournalQuery {
                shops: Some(vec![event.shop.clone()]),
                family: Some(ActionFamily::Shopify),
                order_id: Some(order_id),
                limit: 1000,
                ..JournalQuery::default()
            })
            .await?;
        Ok(entries.iter().any(|j| {
            let refunds_this_order = matches!(
                &j.action,
                Action::Shopify(ShopifyOperation::Refund(r)) if r.order_id == order_id
            );
            refunds_this_order
                && markers.contains(&origin::note_marker(&j.key).as_str())
                && match j.status {
                    JournalStatus::Done => j
                        .result
                        .as_ref()
                        .is_some_and(|r| origin::result_names_refund(r, refund_id)),
                    JournalStatus::Pending | JournalStatus::InFlight => true,
                    JournalStatus::Dead => false,
                }
        }))
    }

    /// First attempt: the store's enabled installations whose plugin takes
    /// this topic (and, for `timer/fired`, only the plugin that set it).
    async fn plan(
        &self,
        ev: &StoredEvent,
        installations: &BTreeMap<String, Installation>,
    ) -> Vec<Target> {
        let mut targets = Vec::new();
        // A case update goes only to the plugins of its case type (or that
        // read every case type's, `"*"`): another plugin's case carries
        // its analyst's decisions and held operations.
        let case_type = (ev.event.topic == shopcase_contract::event::TOPIC_CASE_UPDATED)
            .then(|| case_type_of(&ev.event.payload));
        for inst in installations.values().filter(|i| i.enabled) {
            if ev
                .target_plugin
                .as_ref()
                .is_some_and(|t| *t != inst.plugin_id)
            {
                continue;
            }
            match self.registry.get(&inst.plugin_id, &inst.version).await {
                Ok(p) if !p.manifest().subscribes(&ev.event.topic) => continue,
                Ok(p)
                    if case_type.as_ref().is_some_and(|t| {
                        !p.manifest()
                            .grants
                            .receives_updates_of(t.as_deref().unwrap_or(""))
                    }) =>
                {
                    continue;
                }
                // Subscribed, or not loadable (then its run records why).
                _ => targets.push(Target {
                    plugin_id: inst.plugin_id.clone(),
                    attempts: 0,
                }),
            }
        }
        targets
    }

    /// Run one plugin on the event, checking its installation first.
    async fn run(
        &self,
        event: &Arc<shopcase_contract::Event>,
        received_at: Timestamp,
        target: &Target,
        installations: &BTreeMap<String, Installation>,
    ) -> PluginOutcome {
        let outcome = |version: &str, result| PluginOutcome {
            plugin_id: target.plugin_id.clone(),
            plugin_version: version.to_owned(),
            result,
        };
        let Some(inst) = installations.get(&target.plugin_id).filter(|i| i.enabled) else {
            return outcome(
                &version_of(installations, &target.plugin_id),
                PluginResult::Skipped {
                    reason: "the plugin is no longer enabled for this store".into(),
                },
            );
        };
        if let Some(q) = &inst.quarantine {
            return outcome(
                &inst.version,
                PluginResult::Held {
                    reason: q.reason.clone(),
                },
            );
        }
        let plugin = match self.registry.approved(inst).await {
            Ok(p) => p,
            Err(e) => {
                return outcome(
                    &inst.version,
                    self.failed(
                        target,
                        FailureRecord::PLUGIN_UNAVAILABLE,
                        e.to_string(),
                        true,
                    ),
                );
            }
        };
        let settings = match plugin.manifest().resolve_settings(&inst.settings) {
            Ok(s) => s,
            Err(e) => {
                return outcome(
                    &inst.version,
                    self.failed(target, "bad-settings", e.to_string(), false),
                );
            }
        };
        let cfg = &self.core.config.dispatcher;
        let services = Arc::new(StorageServices {
            storage: self.core.storage.clone(),
            history: self.history.clone(),
            orders: self.orders.clone(),
            handle: tokio::runtime::Handle::current(),
            shop: event.shop.clone(),
            plugin: inst.plugin_id.clone(),
            quota_keys: cfg.kv_quota_keys,
            quota_bytes: cfg.kv_quota_bytes,
            // The inbox stores it parsed; its text form always parses back.
            event_time: shopcase_contract::time::parse(&event.triggered_at)
                .unwrap_or_else(|_| Timestamp::now()),
            timeout: HOST_CALL_TIMEOUT,
        });
        let shared = event.clone();
        let invocation = tokio::task::spawn_blocking(move || {
            plugin.invoke(&shared, Arc::new(settings), services)
        })
        .await;
        let inv: Invocation = match invocation {
            Ok(inv) => inv,
            Err(_) => {
                return outcome(
                    &inst.version,
                    self.failed(target, "host-error", "the run was cancelled".into(), true),
                );
            }
        };
        for line in &inv.logs {
            tracing::debug!(target: "shopcase::plugin", plugin = %inst.plugin_id, event = %event.id, level = ?line.level, "{}", line.message);
        }
        let result = match inv.outcome {
            Ok(actions) => PluginResult::Succeeded(RunSuccess {
                actions,
                kv_reads: inv
                    .kv
                    .reads
                    .into_iter()
                    .map(|r| KvRead {
                        key: r.key,
                        version: r.version,
                    })
                    .collect(),
                kv_writes: inv
                    .kv
                    .writes
                    .into_iter()
                    .map(|w| KvWrite {
                        key: w.key,
                        value: w.value,
                        expires_at: w
                            .expires_at
                            .and_then(|t| shopcase_contract::time::parse(&t).ok()),
                    })
                    .collect(),
                budget: serde_json::to_value(inv.budget).ok(),
            }),
            // A service it needed was down: the host's condition, not the
            // plugin's failure, whatever the plugin made of the answer.
            Err(f) if inv.host_unavailable.is_some() => {
                let why = inv.host_unavailable.unwrap_or_default();
                tracing::info!(plugin = %inst.plugin_id, event = %event.id, service = %why, kind = %f.kind, "plugin run waits for a service");
                self.wait_out(received_at, &why)
            }
            Err(f) => {
                tracing::info!(plugin = %inst.plugin_id, event = %event.id, kind = %f.kind, message = %f.message, "plugin run failed");
                self.failed(target, f.kind.name(), f.message, f.retryable)
            }
        };
        outcome(&inst.version, result)
    }

    /// A failure: retried with backoff while attempts remain, else dead.
    fn failed(
        &self,
        target: &Target,
        kind: &str,
        message: String,
        retryable: bool,
    ) -> PluginResult {
        let retry = &self.core.config.dispatcher.retry;
        let failure = FailureRecord::new(kind, message);
        if retryable && retry.allows(target.attempts + 1) {
            PluginResult::Retry {
                failure,
                at: later(retry.delay(target.attempts, None)),
            }
        } else {
            PluginResult::Dead { failure }
        }
    }

    /// A run that failed because a host service was unavailable: tried
    /// again with a backoff that grows with the time the event has waited
    /// (not counted as an attempt, never toward quarantine) until
    /// `dispatcher.outage-window` after the event was received; then
    /// dead-lettered as the host's condition.
    fn wait_out(&self, received_at: Timestamp, why: &str) -> PluginResult {
        let cfg = &self.core.config.dispatcher;
        let waited =
            Duration::try_from(Timestamp::now().duration_since(received_at)).unwrap_or_default();
        if waited >= cfg.outage_window {
            return PluginResult::Dead {
                failure: FailureRecord::new(
                    FailureRecord::SERVICE_UNAVAILABLE,
                    format!(
                        "{why}; still unavailable {} s after the event arrived (dispatcher.outage-window): retry the dead letter once the service is back",
                        waited.as_secs()
                    ),
                ),
            };
        }
        PluginResult::Waiting {
            failure: FailureRecord::new(FailureRecord::SERVICE_UNAVAILABLE, why),
            at: later(cfg.retry.outage_delay(waited)),
        }
    }

    /// Metrics for what was applied.
    fn observe(&self, ev: &StoredEvent, ran: &[Ran], applied: &[(String, PluginFinish)]) {
        let m = &self.core.metrics;
        for (run, (plugin_id, finish)) in ran.iter().zip(applied) {
            let label = match (run, finish) {
                (Ran::Succeeded, PluginFinish::Journalled { .. }) => {
                    let waited = Timestamp::now().duration_since(ev.received_at);
                    m.dispatch
                        .observe(Duration::try_from(waited).unwrap_or_default());
                    "ok"
                }
                (_, PluginFinish::KvConflict) => "kv-conflict",
                (_, PluginFinish::AlreadySettled) => continue,
                (Ran::Failed(kind), _) => kind.as_str(),
                (Ran::Held, _) => "held",
                (Ran::Skipped, _) => "skipped",
                (Ran::Deferred, _) => "deferred",
                (Ran::Waiting, _) => "service-unavailable",
                (Ran::Succeeded, _) => "ok",
            };
            m.plugin_run(plugin_id, label);
            if let PluginFinish::DeadLettered {
                quarantined: Some(reason),
                ..
            } = finish
            {
                tracing::warn!(shop = %ev.event.shop, plugin = %plugin_id, %reason, "plugin quarantined for the store");
            }
        }
    }
}

/// What a plugin run came to, as the metrics label it.
enum Ran {
    Succeeded,
    /// Retried or dead-lettered, with the failure's kind.
    Failed(String),
    Held,
    Skipped,
    Deferred,
    /// A service it needed was down.
    Waiting,
}

impl Ran {
    fn of(o: &PluginOutcome) -> Ran {
        match &o.result {
            PluginResult::Succeeded(_) => Ran::Succeeded,
            PluginResult::Retry { failure, .. } | PluginResult::Dead { failure } => {
                Ran::Failed(failure.kind.clone())
            }
            PluginResult::Held { .. } => Ran::Held,
            PluginResult::Skipped { .. } => Ran::Skipped,
            PluginResult::Deferred { .. } => Ran::Deferred,
            PluginResult::Waiting { .. } => Ran::Waiting,
        }
    }
}

/// The case type of a `corecase/case-updated` payload (`case.case_type`).
fn case_type_of(payload: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Payload {
        case: CaseOnly,
    }
    #[derive(serde::Deserialize)]
    struct CaseOnly {
        case_type: String,
    }
    serde_json::from_str::<Payload>(payload)
        .ok()
        .map(|p| p.case.case_type)
}

fn version_of(installations: &BTreeMap<String, Installation>, plugin: &str) -> String {
    installations
        .get(plugin)
        .map(|i| i.version.clone())
        .unwrap_or_default()
}

/// Now plus `d`.
pub(crate) fn later(d: Duration) -> Timestamp {
    let now = Timestamp::now();
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| now.checked_add(d).ok())
        .unwrap_or(now)
}
