//! Background loops that are not request-driven: delivering due timers as
//! `timer/fired` events, and housekeeping (expired key-value entries).
//!
//! Key-value entries expire in event time (see `docs/ARCHITECTURE.md`,
//! "Time"): an event may be delivered up to `server.max-age` after it was
//! triggered and then wait in the inbox, and it must still see what was
//! live at its time. So an entry is purged only once it has been expired
//! for `server.max-age` plus a day ([`crate::config::RETENTION_MARGIN`]).
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

/// The expiry before which key-value entries can no longer be seen by an
/// event the host would still accept.
pub(crate) fn purge_before(max_age: Duration, now: Timestamp) -> Timestamp {
    let grace = max_age.saturating_add(crate::config::RETENTION_MARGIN);
    jiff::SignedDuration::try_from(grace)
        .ok()
        .and_then(|g| now.checked_sub(g).ok())
        .unwrap_or(Timestamp::MIN)
}

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
                core.events_added();
                if fired.len() == FIRE_BATCH {
                    continue; // more are due
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot fire due timers"),
        }
        if last_purge.elapsed() >= PURGE_EVERY {
            last_purge = tokio::time::Instant::now();
            match core
                .storage
                .kv_purge_expired(purge_before(core.config.server.max_age, Timestamp::now()))
                .await
            {
                Ok(n) if n > 0 => tracing::debug!(count = n, "expired key-value entries purged"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot purge expired key-value entries"),
            }
        }
        crate::server::idle(&mut shutdown, every, None).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_purged_only_once_no_acceptable_event_can_see_them() {
        let now = shopcase_contract::time::parse("2026-03-01T12:00:00Z").unwrap();
        let two_days = Duration::from_secs(48 * 3600);
        assert_eq!(
            purge_before(two_days, now),
            shopcase_contract::time::parse("2026-02-26T12:00:00Z").unwrap(),
            "max-age 48 h plus a day"
        );
        // Absurd settings saturate instead of failing the loop.
        assert_eq!(purge_before(Duration::MAX, now), Timestamp::MIN);
    }
}
