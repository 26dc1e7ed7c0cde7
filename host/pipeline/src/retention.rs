//! Retention: finished work older than `storage.retention` is deleted every
//! `storage.prune-interval` (at start-up too), so the database does not
//! grow with the store's whole history.
//!
//! What goes and what stays is `shopcase_store::AdminStore::prune`'s to say:
//! finished events with their dispatch rows, journal entries and resolved
//! dead letters, and fired timers; never open work. It runs in small
//! batches, each its own write, so webhooks keep being committed in
//! between. Each pass is logged at info level when it deleted something
//! and counted in `shopcase_pruned_total{what}`.
//!
//! The configuration keeps the retention longer than `server.max-age`
//! plus [`crate::config::RETENTION_MARGIN`]: the inbox rows are what
//! deduplicates redeliveries, and a redelivery of a deleted event is then
//! always stale.

use std::sync::Arc;
use std::time::Duration;

use shopcase_contract::time::Timestamp;
use shopcase_store::{Prune, PruneReport};
use tokio::sync::watch;

use crate::server::Core;

/// Inbox events examined (and fired timers deleted) per batch: one batch
/// holds the storage writer for a few milliseconds.
const BATCH: usize = 256;

/// Delete finished work until `shutdown`; returns at once if retention is off.
pub(crate) async fn run(core: Arc<Core>, mut shutdown: watch::Receiver<bool>) {
    let Some(keep) = core.config.retention.keep else {
        return;
    };
    let every = core.config.retention.interval;
    loop {
        if *shutdown.borrow() {
            break;
        }
        pass(&core, keep, &shutdown).await;
        crate::server::idle(&mut shutdown, every, None).await;
    }
}

/// One pass: batches until nothing older than `now - keep` is left to
/// delete, the storage fails, or shutdown.
async fn pass(core: &Core, keep: Duration, shutdown: &watch::Receiver<bool>) {
    let Some(before) = jiff::SignedDuration::try_from(keep)
        .ok()
        .and_then(|k| Timestamp::now().checked_sub(k).ok())
    else {
        // A retention reaching before any representable time: nothing is that old.
        return;
    };
    let mut total = PruneReport::default();
    let mut after = 0;
    while !*shutdown.borrow() {
        let batch = core
            .storage
            .prune(Prune {
                before,
                after,
                limit: BATCH,
            })
            .await;
        match batch {
            Ok(r) => {
                for (what, n) in r.counts() {
                    core.metrics.pruned(what, n);
                }
                total.absorb(&r);
                if r.finished() {
                    break;
                }
                after = r.resume.unwrap_or(i64::MAX);
            }
            Err(e) => {
                tracing::warn!(error = %e, "retention: cannot delete finished work; trying again at the next pass");
                break;
            }
        }
        tokio::task::yield_now().await;
    }
    if total.deleted() > 0 {
        tracing::info!(
            events = total.events,
            dispatch_rows = total.dispatch_rows,
            journal_entries = total.journal_entries,
            dead_letters = total.dead_letters,
            timers = total.timers,
            refusals = total.refusals,
            before = %before,
            "retention: deleted finished work"
        );
    }
}
