//! Retention: finished work older than a cutoff is deleted in bounded
//! batches, so the database does not grow with the store's whole history.
//!
//! # What goes
//! An inbox event goes when it is `done` or `stale`, was received and
//! finished before the cutoff, and nothing of it is still open: no dispatch
//! row `pending` or `held` (a quarantined plugin's run, released when the
//! quarantine is lifted), no journal entry `pending` or `in-flight`, no
//! open dead letter (an admin may still retry it, and a letter must not
//! point at nothing), no operation held for an approval that is undecided
//! or whose released Shopify entry is still open. With it go its dispatch
//! rows, its journal entries (the key range `<event id>:`) and its resolved
//! dead letters. Fired timers go when they fired before the cutoff, and
//! audit records of refused admin requests when they are older than it.
//!
//! Everything else stays: held operations and the `approval:<task id>`
//! entries that release them belong to their case (the case-updated event
//! lists them) and are few; case links, key-value data, stores,
//! installations, privacy records and the rest of the audit log (changes,
//! quarantines, resolutions) are never touched. A held
//! operation or privacy record may then name an event that is gone; nothing
//! reads an event through them.
//!
//! # Why deleting inbox rows cannot dispatch a delivery twice
//! The ingress deduplicates a delivery by store and webhook id (the unique
//! `event_id`, a hash of the two), by store, topic and Shopify event id
//! (the unique `inbox_shopify_event` index) and by store, topic and body
//! digest (`inbox_body`). All three live on inbox rows only (a privacy
//! request's digest also on its record, which stays): once an event is
//! deleted, a redelivery of it is no longer recognised.
//! That is safe because the cutoff is kept further back than
//! `server.max-age` plus a margin (the configuration refuses less): Shopify
//! redelivers with the original `X-Shopify-Triggered-At`, which is no later
//! than the first receipt, so a redelivery of a deleted event is older than
//! the maximum age and is stored as `stale`, never dispatched. Privacy
//! topics are never stale, but a customer request's body stays a duplicate
//! while its privacy record is kept (which retention never deletes), and
//! a `shop/redact` acts only for a store with a recorded uninstall (which
//! its own redaction deletes); handling one again would be harmless
//! anyway (a redaction finds nothing more to erase, a data request writes
//! a fresh export). (A replay of a deleted event's
//! body under forged fresh headers is not stale, and is accepted again:
//! the digest is kept for the retention window only, as documented.)
//! The host's own events do not
//! depend on inbox rows either: timer ids are never reused and a fired timer
//! does not fire again; the Core Case poller emits only when the
//! fingerprint kept on the case link changes.
//!
//! # Bounded work
//! The inbox has no index by time (every index costs the webhook path), so
//! a batch walks it in sequence order, which is receipt order, from a
//! resume point: at most `limit` events, stopping at the first one received
//! after the cutoff (one out of order is only kept longer, never deleted
//! early). Each event examined costs a few index lookups. Events kept for
//! their open work are walked again by the next run; they are normally few.

use rusqlite::{Connection, OptionalExtension, params};

use super::{db, ms};
use crate::error::Result;
use crate::values::*;

pub(super) fn prune(c: &Connection, p: &Prune) -> Result<PruneReport> {
    let op = "prune";
    let before = ms(p.before);
    let limit = i64::try_from(p.limit.max(1)).unwrap_or(i64::MAX);
    let mut report = PruneReport::default();

    let rows = c
        .prepare_cached(
            "SELECT seq, event_id, status, received_at, done_at FROM inbox
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .and_then(|mut s| {
            s.query_map(params![p.after, limit], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db(op))?;
    // More to walk only if this batch examined a full window of old events.
    let mut resume = (i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit)
        .then(|| rows.last().map(|r| r.0))
        .flatten();
    for (seq, event_id, status, received_at, done_at) in rows {
        if received_at >= before {
            resume = None;
            break;
        }
        let finished_at = done_at.unwrap_or(received_at);
        if !matches!(status.as_str(), "done" | "stale") || finished_at >= before {
            continue;
        }
        if !all_over(c, &event_id)? {
            continue;
        }
        report.journal_entries += count(
            c.prepare_cached(
                "DELETE FROM journal
                 WHERE idempotency_key >= ?1 || ':' AND idempotency_key < ?1 || ';'",
            )
            .and_then(|mut s| s.execute([&event_id]))
            .map_err(db(op))?,
        );
        report.dispatch_rows += count(
            c.prepare_cached("DELETE FROM dispatch WHERE event_id = ?1")
                .and_then(|mut s| s.execute([&event_id]))
                .map_err(db(op))?,
        );
        report.dead_letters += count(
            c.prepare_cached("DELETE FROM dead_letters WHERE event_id = ?1 AND state <> 'open'")
                .and_then(|mut s| s.execute([&event_id]))
                .map_err(db(op))?,
        );
        report.events += count(
            c.prepare_cached("DELETE FROM inbox WHERE seq = ?1")
                .and_then(|mut s| s.execute([seq]))
                .map_err(db(op))?,
        );
    }
    report.resume = resume;

    // A fired timer is kept while the entry that scheduled it is still
    // open: a re-run of that entry (after a crash) must find it, or it
    // would schedule the timer anew. A timer set aside as unreadable goes
    // once its dead letter is no longer open (discarded).
    report.timers = count(
        c.prepare_cached(
            "DELETE FROM timers WHERE id IN (
                 SELECT t.id FROM timers t
                 WHERE ((t.state = 'fired'
                         AND NOT EXISTS (
                             SELECT 1 FROM journal j
                             WHERE j.idempotency_key = t.source_key AND +j.status IN ('pending', 'in-flight')))
                     OR (t.state = 'unreadable'
                         AND NOT EXISTS (
                             SELECT 1 FROM dead_letters d
                             WHERE d.state = 'open' AND d.idempotency_key = 'timer:' || t.id)))
                   AND t.updated_at < ?1
                 ORDER BY t.updated_at LIMIT ?2)",
        )
        .and_then(|mut s| s.execute(params![before, limit]))
        .map_err(db(op))?,
    );
    // Refused admin requests are audited to show probing while it
    // happens; kept forever they would grow without bound (a flood is
    // budgeted, not stopped). Everything else in the audit log stays.
    report.refusals = count(
        c.prepare_cached(
            "DELETE FROM audit WHERE id IN (
                 SELECT id FROM audit WHERE action = 'access.denied' AND at < ?1
                 ORDER BY id LIMIT ?2)",
        )
        .and_then(|mut s| s.execute(params![before, limit]))
        .map_err(db(op))?,
    );
    report.more_timers = i64::try_from(report.timers).unwrap_or(i64::MAX) >= limit
        || i64::try_from(report.refusals).unwrap_or(i64::MAX) >= limit;
    Ok(report)
}

/// Whether nothing of the event is still open (see the module comment).
/// The unary `+`s keep the planner on the event's keys instead of the
/// partial indexes of open rows.
fn all_over(c: &Connection, event_id: &str) -> Result<bool> {
    let open: Option<i64> = c
        .prepare_cached(
            "SELECT 1 FROM dispatch WHERE event_id = ?1 AND +status IN ('pending', 'held')
             UNION ALL
             SELECT 1 FROM journal
             WHERE idempotency_key >= ?1 || ':' AND idempotency_key < ?1 || ';'
               AND +status IN ('pending', 'in-flight')
             UNION ALL
             SELECT 1 FROM dead_letters WHERE event_id = ?1 AND +state = 'open'
             UNION ALL
             SELECT 1 FROM held_operations h LEFT JOIN journal j ON j.idempotency_key = h.release_key
             WHERE h.event_id = ?1 AND (h.status = 'pending' OR j.status IN ('pending', 'in-flight'))
             LIMIT 1",
        )
        .and_then(|mut s| s.query_row([event_id], |r| r.get(0)).optional())
        .map_err(db("prune"))?;
    Ok(open.is_none())
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
