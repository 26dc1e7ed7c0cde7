//! Background loops that are not request-driven: delivering due timers as
//! `timer/fired` events, and housekeeping (expired key-value entries).
//!
//! Timers are durable rows; firing one inserts its event and marks it fired
//! in one transaction, so a timer due while the host was down fires on the
//! first pass after a restart, exactly once.

use std::sync::Arc;
use std::time::Duration;

use shopcase_contract::time::Timestamp;
use tokio::sync::watch;

use crate::server::Core;

/// Timers fired per pass.
const FIRE_BATCH: usize = 256;
/// How often expired key-value entries are purged.
const PURGE_EVERY: Duration = Duration::from_secs(60);

/// Deliver due timers until `shutdown`.
pub(crate) async fn run(core: Arc<Core>, mut shutdown: watch::Receiver<bool>) {
    let every = core.config.timers.poll_interval;
    let mut last_purge = tokio::time::Instant::now();
    loop {
        if *shutdown.borrow() {
            break;
        }
        match core
            .storage
            .fire_due_timers(Timestamp::now(), FIRE_BATCH)
            .await
        {
            Ok(fired) if !fired.is_empty() => {
                tracing::debug!(count = fired.len(), "timers fired");
                core.wake.notify_waiters();
                if fired.len() == FIRE_BATCH {
                    continue; // more are due
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot fire due timers"),
        }
        if last_purge.elapsed() >= PURGE_EVERY {
            last_purge = tokio::time::Instant::now();
            match core.storage.kv_purge_expired(Timestamp::now()).await {
                Ok(n) if n > 0 => tracing::debug!(count = n, "expired key-value entries purged"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot purge expired key-value entries"),
            }
        }
        crate::server::idle(&mut shutdown, every, None).await;
    }
}
