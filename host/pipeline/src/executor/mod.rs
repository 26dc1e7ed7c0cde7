//! The executor framework: loops that claim journalled actions of one
//! family and hand each to a registered [`Executor`], with leases, retries
//! (exponential backoff with jitter, honouring `Retry-After`; transient
//! failures past the attempts are waited out until the entry is
//! `executor.outage-window` old), dead letters
//! and exactly-once bookkeeping: an entry is marked done, with what the
//! executor returned, only if this worker still holds its claim.
//!
//! Executors must be idempotent by the entry's key: after a crash between
//! "executed" and "marked done" the entry runs again (Core Case creates
//! carry the key as `Idempotency-Key`; Shopify operations are made
//! idempotent by the Shopify client).
//!
//! Families: [`ActionFamily::Case`] (Core Case,
//! `shopcase-corecase-integration`), [`ActionFamily::Shopify`] (Shopify
//! Admin API, `shopcase-shopify-integration`) and
//! [`ActionFamily::FollowUp`] ([`follow_up::FollowUpExecutor`], built in).
//! An entry whose family has no executor stays pending (visible in
//! `shopcase_journal_open`) until one is registered.
//!
//! [`ActionFamily::Case`]: shopcase_store::ActionFamily::Case
//! [`ActionFamily::Shopify`]: shopcase_store::ActionFamily::Shopify
//! [`ActionFamily::FollowUp`]: shopcase_store::ActionFamily::FollowUp

use std::sync::Arc;
use std::time::Duration;

use shopcase_contract::time::Timestamp;
use shopcase_store::{FailureRecord, JournalClaim, JournalEntry, JournalOutcome, JournalSettle};
use tokio::sync::watch;

use crate::breaker::{Admit, Outcome};
use crate::fault::Fault;
use crate::server::Core;

pub mod follow_up;

pub use shopcase_host_api::{ExecError, Executor};

/// The bound of one execution and the setting it comes from: the
/// executor's own, or else three quarters of the lease.
fn execution_bound(executor: &dyn Executor, lease: Duration) -> (Duration, &'static str) {
    match executor.execute_timeout() {
        Some(t) => (t, executor.timeout_setting()),
        None => (lease.mul_f64(0.75), "executor.lease"),
    }
}

/// One executor's claim loop, until `shutdown`. In-flight entries finish.
pub(crate) async fn run(
    core: Arc<Core>,
    executor: Arc<dyn Executor>,
    worker: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let cfg = core.config.executor.clone();
    let family = executor.family();
    // Up to `concurrency` entries in flight; a slow one (a remote API
    // timing out) holds one slot, not the whole loop.
    let slots = Arc::new(tokio::sync::Semaphore::new(cfg.concurrency));
    tracing::debug!(%worker, %family, "executor started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Wait for a free slot (or shutdown).
        let first = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = shutdown.changed() => continue,
        };
        // Listening for wake-ups before claiming (see the dispatcher's
        // loop): one sent during the claim is not lost.
        let woken = core.journal_wake.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let free = 1 + slots.available_permits();
        let claim = JournalClaim {
            family,
            worker: worker.clone(),
            limit: free,
            lease: cfg.lease,
            now: Timestamp::now(),
            poison_after: cfg.poison_after,
        };
        let entries = match core.storage.claim_journal(claim).await {
            Ok(e) => e,
            Err(e) => {
                drop(first);
                tracing::warn!(%family, error = %e, "cannot claim journal entries");
                crate::server::idle(&mut shutdown, cfg.poll_interval, None).await;
                continue;
            }
        };
        if entries.is_empty() {
            drop(first);
            crate::server::idle_until(&mut shutdown, cfg.poll_interval, woken).await;
            continue;
        }
        // Entries whose earlier executor died holding them (suspects) run
        // one at a time in the whole process (`Core::suspect_gate`, shared
        // with the dispatcher's suspects); the others are given back for
        // half a lease, not held: if the one running kills the process
        // again, an entry merely claimed beside it must not count another
        // abandoned claim toward `poison-after`.
        let mut gate = if entries.iter().any(|e| e.abandoned > 0) {
            core.suspect_gate.clone().try_acquire_owned().ok()
        } else {
            None
        };
        let mut run = Vec::with_capacity(entries.len());
        for entry in entries {
            if entry.abandoned == 0 {
                run.push((entry, None));
            } else if let Some(g) = gate.take() {
                run.push((entry, Some(g)));
            } else {
                let back_at = crate::dispatcher::later(cfg.lease / 2);
                if let Err(e) = core
                    .storage
                    .release_journal(&entry.key, &worker, back_at)
                    .await
                {
                    // Left to expire, it counts one more abandoned claim.
                    tracing::warn!(key = %entry.key, error = %e, "cannot give back a suspect journal entry");
                }
            }
        }
        let mut first = Some(first);
        for (entry, suspect) in run {
            let permit = match first.take() {
                Some(p) => p,
                // Claimed no more than the free slots, so this does not wait.
                None => match slots.clone().acquire_owned().await {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let (core, executor, worker) = (core.clone(), executor.clone(), worker.clone());
            tokio::spawn(async move {
                if suspect.is_some()
                    && let Err(e) = core.storage.start_suspect_entry(&entry.key, &worker).await
                {
                    // A death while it runs then does not count toward
                    // `poison-after` (a missed poison, never a false one).
                    tracing::warn!(key = %entry.key, error = %e, "cannot mark a suspect journal entry started");
                }
                execute_one(&core, executor.as_ref(), &worker, entry).await;
                drop(permit);
                drop(suspect);
            });
        }
    }
    // Let the entries in flight finish.
    let _ = slots
        .acquire_many(u32::try_from(cfg.concurrency).unwrap_or(u32::MAX))
        .await;
    tracing::debug!(%worker, %family, "executor stopped");
}

/// How long ago the entry was journalled.
fn waited(entry: &JournalEntry) -> Duration {
    Duration::try_from(Timestamp::now().duration_since(entry.created_at)).unwrap_or_default()
}

async fn execute_one(core: &Core, executor: &dyn Executor, worker: &str, entry: JournalEntry) {
    let retry = &core.config.executor.retry;
    let window = core.config.executor.outage_window;
    let service = executor.service();
    if let Some(service) = service
        && let Admit::Wait {
            after,
            reason,
            credentials,
        } = core.breakers.admit(&entry.shop, service)
    {
        // The service is down (or refuses the credentials) for this store:
        // not called, tried again when the breaker may let it through.
        let code = if credentials {
            "credentials-refused"
        } else {
            "circuit-open"
        };
        // Not an attempt: nothing was tried.
        let outcome = if waited(&entry) < window {
            JournalOutcome::Wait {
                error: FailureRecord::new(code, reason),
                at: crate::dispatcher::later(after),
            }
        } else {
            JournalOutcome::Dead {
                error: FailureRecord::new(
                    code,
                    format!(
                        "{reason} (for longer than executor.outage-window: retry once it is fixed)"
                    ),
                ),
            }
        };
        settle(core, worker, &entry, outcome, code).await;
        return;
    }
    let (bound, setting) = execution_bound(executor, core.config.executor.lease);
    // Dropping the future cancels the request in flight: like a lost
    // answer, the next attempt finds out what was done before acting.
    let result = match tokio::time::timeout(bound, executor.execute(&entry)).await {
        Ok(r) => r,
        Err(_) => Err(ExecError::transient(
            "timeout",
            format!(
                "{} on `{}` did not finish within {} ms ({}); it will be checked and retried",
                entry.kind,
                entry.shop,
                bound.as_millis(),
                setting
            ),
            None,
        )),
    };
    core.faults.hit(Fault::AbortAfterExecute);
    core.faults.hit_executing(&entry.key);
    if let Some(service) = service {
        let seen = match &result {
            Ok(_) | Err(ExecError::Permanent { .. }) => Outcome::Answered,
            Err(ExecError::Transient { message, .. }) => Outcome::Unavailable(message.clone()),
            Err(ExecError::CredentialsRefused { message, .. }) => {
                Outcome::CredentialsRefused(message.clone())
            }
        };
        core.breakers.record(&entry.shop, service, &seen);
    }
    let (outcome, label) = match result {
        Ok(result) => (JournalOutcome::Done { result }, "done"),
        Err(ExecError::Transient {
            code,
            message,
            retry_after,
        }) if retry.allows(entry.attempts + 1) => (
            JournalOutcome::Retry {
                error: FailureRecord::new(code, message),
                at: crate::dispatcher::later(retry.delay(entry.attempts, retry_after)),
            },
            "retry",
        ),
        // Past the attempts, a transient failure (the service down,
        // throttling, timeouts) is still the service's condition: waited
        // out until the entry is `executor.outage-window` old.
        Err(ExecError::Transient {
            code,
            message,
            retry_after,
        }) if waited(&entry) < window => (
            JournalOutcome::Retry {
                error: FailureRecord::new(code, message),
                at: crate::dispatcher::later(
                    retry_after
                        .unwrap_or_else(|| retry.outage_delay(waited(&entry)))
                        .min(retry.max_retry_after),
                ),
            },
            "retry",
        ),
        Err(ExecError::Transient { code, message, .. }) => (
            JournalOutcome::Dead {
                error: FailureRecord::new(
                    code,
                    format!(
                        "{message} (gave up after {} attempts over {} s; executor.outage-window)",
                        entry.attempts + 1,
                        waited(&entry).as_secs()
                    ),
                ),
            },
            "dead",
        ),
        Err(ExecError::Permanent { code, message }) => (
            JournalOutcome::Dead {
                error: FailureRecord::new(code, message),
            },
            "dead",
        ),
        // Paused with the store's other work for the service (the breaker
        // is open now), within the outage window.
        Err(ExecError::CredentialsRefused { code, message }) if waited(&entry) < window => (
            JournalOutcome::Retry {
                error: FailureRecord::new(code, message),
                at: crate::dispatcher::later(core.config.executor.breaker.max_cool_down),
            },
            "retry",
        ),
        Err(ExecError::CredentialsRefused { code, message }) => (
            JournalOutcome::Dead {
                error: FailureRecord::new(
                    code,
                    format!(
                        "{message} (refused for longer than executor.outage-window: fix the credentials, then retry)"
                    ),
                ),
            },
            "dead",
        ),
    };
    settle(core, worker, &entry, outcome, label).await;
}

/// Record how an execution of `entry` ended, if this worker still holds
/// its claim.
async fn settle(
    core: &Core,
    worker: &str,
    entry: &JournalEntry,
    outcome: JournalOutcome,
    label: &str,
) {
    let family = entry.family.as_str();
    if let JournalOutcome::Dead { error } = &outcome {
        tracing::warn!(key = %entry.key, shop = %entry.shop, plugin = %entry.plugin_id, %error, "action dead-lettered");
    }
    let settle = JournalSettle {
        key: entry.key.clone(),
        worker: worker.to_owned(),
        now: Timestamp::now(),
        outcome,
    };
    match core.storage.settle_journal(settle).await {
        Ok(true) => core.metrics.action(family, label),
        Ok(false) => {
            tracing::info!(key = %entry.key, "journal entry was claimed by another executor meanwhile")
        }
        Err(e) => {
            tracing::warn!(key = %entry.key, error = %e, "cannot settle a journal entry; it will run again")
        }
    }
}
