//! Retention on PostgreSQL: finished work older than a cutoff is deleted
//! in bounded batches. What goes, what stays, and why deleting inbox rows
//! cannot dispatch a delivery twice: see `sqlite/retention.rs`; the rules
//! here are the same, statement for statement.
//!
//! # Bounded work
//! A batch walks the inbox in sequence order (the primary key) from the
//! resume point: at most `limit` events, stopping at the first one
//! received after the cutoff; at most `limit` fired timers and `limit`
//! refusals go per batch. Each batch is one `SERIALIZABLE` transaction, so
//! it never deletes an event whose work a concurrent transaction (another
//! replica) has just reopened: one of the two is retried.
//!
//! Deleted rows stay in the table's files until (auto)vacuum reclaims
//! their space; there is no counterpart to SQLite's `secure_delete`.

use super::{Tx, pg};
use crate::convert::ms;
use crate::error::Result;
use crate::values::*;

pub(super) async fn prune(tx: &Tx<'_>, p: &Prune) -> Result<PruneReport> {
    let op = "prune";
    let before = ms(p.before);
    let limit = i64::try_from(p.limit.max(1)).unwrap_or(i64::MAX);
    let mut report = PruneReport::default();

    let walk = tx
        .prepare_cached(
            "SELECT seq, event_id, status, received_at, done_at FROM inbox
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .await
        .map_err(pg(op))?;
    let rows: Vec<(i64, String, String, i64, Option<i64>)> = tx
        .query(&walk, &[&p.after, &limit])
        .await
        .map_err(pg(op))?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    // More to walk only if this batch examined a full window of old events.
    let mut resume = (i64::try_from(rows.len()).unwrap_or(i64::MAX) >= limit)
        .then(|| rows.last().map(|r| r.0))
        .flatten();
    let journal = tx
        .prepare_cached(
            "DELETE FROM journal
             WHERE idempotency_key >= $1::text || ':' AND idempotency_key < $1::text || ';'",
        )
        .await
        .map_err(pg(op))?;
    let dispatch = tx
        .prepare_cached("DELETE FROM dispatch WHERE event_id = $1")
        .await
        .map_err(pg(op))?;
    let letters = tx
        .prepare_cached("DELETE FROM dead_letters WHERE event_id = $1 AND state <> 'open'")
        .await
        .map_err(pg(op))?;
    let event = tx
        .prepare_cached("DELETE FROM inbox WHERE seq = $1")
        .await
        .map_err(pg(op))?;
    for (seq, event_id, status, received_at, done_at) in rows {
        if received_at >= before {
            resume = None;
            break;
        }
        let finished_at = done_at.unwrap_or(received_at);
        if !matches!(status.as_str(), "done" | "stale") || finished_at >= before {
            continue;
        }
        if !all_over(tx, &event_id).await? {
            continue;
        }
        report.journal_entries += tx.execute(&journal, &[&event_id]).await.map_err(pg(op))?;
        report.dispatch_rows += tx.execute(&dispatch, &[&event_id]).await.map_err(pg(op))?;
        report.dead_letters += tx.execute(&letters, &[&event_id]).await.map_err(pg(op))?;
        report.events += tx.execute(&event, &[&seq]).await.map_err(pg(op))?;
    }
    report.resume = resume;

    // A fired timer is kept while the entry that scheduled it is still
    // open: a re-run of that entry (after a crash) must find it, or it
    // would schedule the timer anew. A timer set aside as unreadable goes
    // once its dead letter is no longer open (discarded).
    report.timers = tx
        .execute(
            "DELETE FROM timers WHERE id IN (
                 SELECT t.id FROM timers t
                 WHERE ((t.state = 'fired'
                         AND NOT EXISTS (
                             SELECT 1 FROM journal j
                             WHERE j.idempotency_key = t.source_key AND j.status IN ('pending', 'in-flight')))
                     OR (t.state = 'unreadable'
                         AND NOT EXISTS (
                             SELECT 1 FROM dead_letters d
                             WHERE d.state = 'open' AND d.idempotency_key = 'timer:' || t.id)))
                   AND t.updated_at < $1
                 ORDER BY t.updated_at LIMIT $2)",
            &[&before, &limit],
        )
        .await
        .map_err(pg(op))?;
    // Refused admin requests are audited to show probing while it
    // happens; kept forever they would grow without bound (a flood is
    // budgeted, not stopped). Everything else in the audit log stays.
    report.refusals = tx
        .execute(
            "DELETE FROM audit WHERE id IN (
                 SELECT id FROM audit WHERE action = 'access.denied' AND at < $1
                 ORDER BY id LIMIT $2)",
            &[&before, &limit],
        )
        .await
        .map_err(pg(op))?;
    report.more_timers = i64::try_from(report.timers).unwrap_or(i64::MAX) >= limit
        || i64::try_from(report.refusals).unwrap_or(i64::MAX) >= limit;
    Ok(report)
}

/// Whether nothing of the event is still open (see `sqlite/retention.rs`).
async fn all_over(tx: &Tx<'_>, event_id: &str) -> Result<bool> {
    let op = "prune";
    let stmt = tx
        .prepare_cached(
            "SELECT 1 FROM dispatch WHERE event_id = $1 AND status IN ('pending', 'held')
             UNION ALL
             SELECT 1 FROM journal
             WHERE idempotency_key >= $1::text || ':' AND idempotency_key < $1::text || ';'
               AND status IN ('pending', 'in-flight')
             UNION ALL
             SELECT 1 FROM dead_letters WHERE event_id = $1 AND state = 'open'
             UNION ALL
             SELECT 1 FROM held_operations h LEFT JOIN journal j ON j.idempotency_key = h.release_key
             WHERE h.event_id = $1 AND (h.status = 'pending' OR j.status IN ('pending', 'in-flight'))
             LIMIT 1",
        )
        .await
        .map_err(pg(op))?;
    let open = tx.query_opt(&stmt, &[&event_id]).await.map_err(pg(op))?;
    Ok(open.is_none())
}
