//! The action journal on PostgreSQL: claims by family, settlement, reads
//! (see `sqlite/journal.rs` for the rules).
//!
//! # Several replicas on one database
//! As in the inbox (see `inbox.rs`): settlements and releases run
//! `SERIALIZABLE`, re-run when PostgreSQL aborts them for a conflict;
//! claims run `READ COMMITTED` (`inbox::claim_isolation`), deciding on the
//! rows they lock.
//! - **Exactly once.** A claim takes an entry by changing its row
//!   (`pending → in-flight`, or a new holder for an expired lease) on a row
//!   it holds locked (`FOR UPDATE SKIP LOCKED`) and has found, in its
//!   latest version, still claimable: two claimers never both take one
//!   entry. A settlement changes the row only while this worker still
//!   holds it (`in-flight`, `claimed_by`), so an executor whose lease
//!   expired and was taken over settles nothing.
//! - **Order.** An entry waits while an earlier entry of the same event,
//!   plugin and family is open (pending or in flight). The claim reads
//!   those earlier rows as of its statement, without locking them (a lock
//!   skipped would not make them less open): an earlier entry being
//!   claimed, executed or released is open either way, and one settled
//!   after the statement began is still seen open (the later entry waits
//!   for the next claim). Only the rows the claim takes are locked (the
//!   `LIMIT` counts rows locked), so a concurrent claimer skips exactly the
//!   entries this one takes.

use async_trait::async_trait;
use shopcase_contract::Action;
use tokio_postgres::Row;

use super::{PostgresStorage, Tx, pg, read_tx, write_tx};
use crate::convert::{dur_ms, ms, to_json};
use crate::error::Result;
use crate::sqlite::journal::{COLS, Raw};
use crate::values::*;

/// A [`COLS`] row whose columns start at `offset`, before its JSON and
/// enums are checked ([`Raw::into_entry`]).
fn raw_at(r: &Row, offset: usize) -> Raw {
    let g = |i: usize| offset + i;
    Raw {
        key: r.get(g(0)),
        event_id: r.get(g(1)),
        shop: r.get(g(2)),
        plugin_id: r.get(g(3)),
        idx: r.get(g(4)),
        kind: r.get(g(5)),
        family: r.get(g(6)),
        action: r.get(g(7)),
        resources: r.get(g(8)),
        status: r.get(g(9)),
        attempts: r.get(g(10)),
        next_attempt_at: r.get(g(11)),
        error_kind: r.get(g(12)),
        error_message: r.get(g(13)),
        result: r.get(g(14)),
        created_at: r.get(g(15)),
        updated_at: r.get(g(16)),
        abandoned: r.get(g(17)),
    }
}

/// The resource ids of the event an entry comes from, as its inbox row
/// holds them (copied as stored into the entry).
#[derive(Debug, Clone, Copy)]
pub(super) struct EntryResources<'a> {
    /// The `resources` JSON.
    pub json: &'a str,
    /// Its order id column.
    pub order_id: Option<i64>,
    /// Its customer id column.
    pub customer_id: Option<i64>,
}

/// Journal one action: a pending entry under its idempotency key
/// (`<event>:<plugin>:<index>`), due at `now`. Returns `false`, writing
/// nothing, when an entry with that key exists already.
#[allow(
    clippy::too_many_arguments,
    reason = "one row's columns, named at the call sites"
)]
pub(super) async fn insert(
    tx: &Tx<'_>,
    event_id: &str,
    shop: &str,
    plugin_id: &str,
    index: u32,
    action: &Action,
    resources: EntryResources<'_>,
    now: i64,
) -> Result<bool> {
    let op = "journal-insert";
    let stmt = tx
        .prepare_cached(
            "INSERT INTO journal (idempotency_key, event_id, shop, plugin_id, idx, kind, family, action,
                resources, order_id, customer_id, status, attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', 0, $12, $12, $12)
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .await
        .map_err(pg(op))?;
    let kind = action.kind();
    let n = tx
        .execute(
            &stmt,
            &[
                &idempotency_key(event_id, plugin_id, index),
                &event_id,
                &shop,
                &plugin_id,
                &i64::from(index),
                &kind.name(),
                &ActionFamily::of(kind).as_str(),
                &to_json("journal.action", action)?,
                &resources.json,
                &resources.order_id,
                &resources.customer_id,
                &now,
            ],
        )
        .await
        .map_err(pg(op))?;
    Ok(n == 1)
}

/// One journal entry.
pub(super) async fn get(tx: &Tx<'_>, key: &str) -> Result<Option<JournalEntry>> {
    let op = "journal-entry";
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {COLS} FROM journal WHERE idempotency_key = $1"
        ))
        .await
        .map_err(pg(op))?;
    let row = tx.query_opt(&stmt, &[&key]).await.map_err(pg(op))?;
    row.map(|r| raw_at(&r, 0).into_entry()).transpose()
}

/// Claim up to `limit` executable entries of a family, oldest first (see
/// [`JournalStore::claim_journal`] and the module doc).
///
/// Taking over an entry still in flight (its lease expired: the worker
/// that held it died) counts an abandoned claim and remembers who held it;
/// deaths in a row add up, any other death in between starts the count
/// again (schema migration 9, [`super::inbox::charge_death`]).
pub(super) async fn claim(tx: &Tx<'_>, claim: &JournalClaim) -> Result<Vec<JournalEntry>> {
    let op = "claim-journal";
    super::inbox::claim_isolation(tx, op).await?;
    let now = ms(claim.now);
    let lease_until = now.saturating_add(dur_ms(claim.lease));
    let limit = i64::try_from(claim.limit).unwrap_or(i64::MAX);
    // An entry waits while an earlier entry of the same event, plugin and
    // family is open, so e.g. a comment never overtakes the open-case it
    // belongs to (the earlier entries: a range of the idempotency key).
    // `LIMIT` counts the rows locked, so only the entries taken are.
    let sql = format!(
        "UPDATE journal SET status = 'in-flight', claimed_by = $1, lease_until = $2, updated_at = $3,
            abandoned = abandoned + (status = 'in-flight')::int,
            abandoned_by = CASE WHEN status = 'in-flight' THEN claimed_by ELSE abandoned_by END,
            taken_from = CASE WHEN status = 'in-flight' THEN claimed_by END
         WHERE seq IN (
             SELECT j.seq FROM journal j
             WHERE j.family = $4 AND j.status IN ('pending', 'in-flight')
               AND ((j.status = 'pending' AND j.next_attempt_at <= $3)
                    OR (j.status = 'in-flight' AND j.lease_until <= $3))
               AND NOT EXISTS (
                   SELECT 1 FROM journal p
                   WHERE p.idempotency_key >= j.event_id || ':' || j.plugin_id || ':'
                     AND p.idempotency_key < j.event_id || ':' || j.plugin_id || ';'
                     AND p.family = j.family AND p.idx < j.idx AND p.status IN ('pending', 'in-flight'))
             ORDER BY j.seq LIMIT $5
             FOR UPDATE SKIP LOCKED)
         RETURNING seq, abandoned, abandoned_by, taken_from, abandoned_death, started_by, {COLS}"
    );
    let stmt = tx.prepare_cached(&sql).await.map_err(pg(op))?;
    let rows = tx
        .query(
            &stmt,
            &[
                &claim.worker,
                &lease_until,
                &now,
                &claim.family.as_str(),
                &limit,
            ],
        )
        .await
        .map_err(pg(op))?;
    let mut rows = rows;
    rows.sort_by_key(|r| r.get::<_, i64>(0));
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let seq: i64 = r.get(0);
        let mut abandoned: i64 = r.get(1);
        let abandoned_by: Option<&str> = r.get(2);
        let taken_from: Option<&str> = r.get(3);
        let last_death: Option<i64> = r.get(4);
        let started_by: Option<&str> = r.get(5);
        let mut raw = raw_at(r, 6);
        if let Some(from) = taken_from {
            let (counted, death) =
                super::inbox::charge_death(tx, from, abandoned, last_death, started_by).await?;
            let stmt = tx
                .prepare_cached(
                    "UPDATE journal SET abandoned = $2, abandoned_death = $3 WHERE seq = $1",
                )
                .await
                .map_err(pg(op))?;
            tx.execute(&stmt, &[&seq, &counted, &death])
                .await
                .map_err(pg(op))?;
            abandoned = counted;
            raw.abandoned = counted;
        }
        if claim.poison_after > 0 && abandoned >= i64::from(claim.poison_after) {
            set_aside_poison(tx, seq, &raw, abandoned, abandoned_by.unwrap_or("?"), now).await?;
            continue;
        }
        let (key, shop, event_id, plugin, attempts) = (
            raw.key.clone(),
            raw.shop.clone(),
            raw.event_id.clone(),
            raw.plugin_id.clone(),
            raw.attempts,
        );
        match raw.into_entry() {
            Ok(entry) => out.push(entry),
            Err(e) => {
                // An entry this build cannot read must not stop its whole
                // family (every write-back to Shopify, say), claim after
                // claim: it is dead-lettered for an operator, never run.
                tracing::error!(entry = %key, %shop, error = %e, "a journal entry cannot be read; dead-lettered");
                let failure = FailureRecord::new("unreadable-entry", e.to_string());
                tx.execute(
                    "UPDATE journal SET status = 'dead', claimed_by = NULL, lease_until = NULL,
                        error_kind = $2, error_message = $3, updated_at = $4
                     WHERE seq = $1",
                    &[&seq, &failure.kind, &failure.message, &now],
                )
                .await
                .map_err(pg(op))?;
                super::admin::insert_dead_letter(
                    tx,
                    DeadLetterKind::Action,
                    &shop,
                    &event_id,
                    Some(&plugin),
                    Some(&key),
                    &failure,
                    attempts,
                    now,
                )
                .await?;
            }
        }
    }
    Ok(out)
}

/// An entry whose claims kept being abandoned (the executor running it
/// died, run after run) is not handed out again: it is dead, with a
/// [`POISON`] action dead letter naming its kind, its attempts and the
/// last worker, in the claim's transaction. Retrying the letter (the usual
/// action retry) resets its attempts and its abandoned claims.
async fn set_aside_poison(
    tx: &Tx<'_>,
    seq: i64,
    raw: &Raw,
    abandoned: i64,
    last_worker: &str,
    now: i64,
) -> Result<()> {
    let op = "claim-journal";
    let failure = crate::sqlite::journal::poison_failure(raw, abandoned, last_worker);
    let stmt = tx
        .prepare_cached(
            "UPDATE journal SET status = 'dead', claimed_by = NULL, lease_until = NULL, next_attempt_at = NULL,
                error_kind = $2, error_message = $3, updated_at = $4
             WHERE seq = $1",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(&stmt, &[&seq, &failure.kind, &failure.message, &now])
        .await
        .map_err(pg(op))?;
    super::admin::insert_dead_letter(
        tx,
        DeadLetterKind::Action,
        &raw.shop,
        &raw.event_id,
        Some(&raw.plugin_id),
        Some(&raw.key),
        &failure,
        raw.attempts,
        now,
    )
    .await?;
    Ok(())
}

/// An entry's end. After an execution (done, retry, dead) its abandoned
/// claims are reset: it ran to an end, so the process did not die of it;
/// a wait (not executed) changes neither them nor its attempts.
pub(super) async fn settle(tx: &Tx<'_>, s: &JournalSettle) -> Result<bool> {
    let op = "settle-journal";
    let now = ms(s.now);
    let owned = "idempotency_key = $1 AND status = 'in-flight' AND claimed_by = $2";
    match &s.outcome {
        JournalOutcome::Done { result } => {
            let stmt = tx
                .prepare_cached(&format!(
                    "UPDATE journal SET status = 'done', result = $3, claimed_by = NULL, lease_until = NULL,
                        next_attempt_at = NULL, abandoned = 0, updated_at = $4 WHERE {owned}"
                ))
                .await
                .map_err(pg(op))?;
            let n = tx
                .execute(&stmt, &[&s.key, &s.worker, &result.to_string(), &now])
                .await
                .map_err(pg(op))?;
            Ok(n == 1)
        }
        JournalOutcome::Retry { error, at } | JournalOutcome::Wait { error, at } => {
            // A retry was executed: one attempt more, and its abandoned
            // claims cleared; a wait was not: neither changes.
            let executed = matches!(s.outcome, JournalOutcome::Retry { .. });
            let stmt = tx
                .prepare_cached(&format!(
                    "UPDATE journal SET status = 'pending', attempts = attempts + $7, next_attempt_at = $3,
                        error_kind = $4, error_message = $5, claimed_by = NULL, lease_until = NULL,
                        abandoned = CASE WHEN $8 THEN 0 ELSE abandoned END, updated_at = $6
                     WHERE {owned}"
                ))
                .await
                .map_err(pg(op))?;
            let n = tx
                .execute(
                    &stmt,
                    &[
                        &s.key,
                        &s.worker,
                        &ms(*at),
                        &error.kind,
                        &error.message,
                        &now,
                        &i64::from(executed),
                        &executed,
                    ],
                )
                .await
                .map_err(pg(op))?;
            Ok(n == 1)
        }
        JournalOutcome::Dead { error } => {
            let stmt = tx
                .prepare_cached(&format!(
                    "UPDATE journal SET status = 'dead', attempts = attempts + 1, next_attempt_at = NULL,
                        error_kind = $3, error_message = $4, claimed_by = NULL, lease_until = NULL, updated_at = $5
                     WHERE {owned} RETURNING shop, event_id, plugin_id, attempts"
                ))
                .await
                .map_err(pg(op))?;
            let row = tx
                .query_opt(
                    &stmt,
                    &[&s.key, &s.worker, &error.kind, &error.message, &now],
                )
                .await
                .map_err(pg(op))?;
            let Some(row) = row else {
                return Ok(false);
            };
            let (shop, event_id, plugin_id, attempts): (String, String, String, i64) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            super::admin::insert_dead_letter(
                tx,
                DeadLetterKind::Action,
                &shop,
                &event_id,
                Some(&plugin_id),
                Some(&s.key),
                error,
                attempts,
                now,
            )
            .await?;
            Ok(true)
        }
    }
}

/// Give a claimed entry back unexecuted, due at `at`; its attempts and
/// abandoned claims stay as they are.
pub(super) async fn release(tx: &Tx<'_>, key: &str, worker: &str, at: Timestamp) -> Result<bool> {
    let op = "release-journal";
    let stmt = tx
        .prepare_cached(
            "UPDATE journal SET status = 'pending', claimed_by = NULL, lease_until = NULL, next_attempt_at = $3
             WHERE idempotency_key = $1 AND claimed_by = $2 AND status = 'in-flight'",
        )
        .await
        .map_err(pg(op))?;
    let n = tx
        .execute(&stmt, &[&key, &worker, &ms(at)])
        .await
        .map_err(pg(op))?;
    Ok(n == 1)
}

/// The journal entries of an event, in order (a range of the idempotency
/// key: `<event>:` up to `<event>;`).
pub(super) async fn for_event(tx: &Tx<'_>, event_id: &str) -> Result<Vec<JournalEntry>> {
    let op = "journal-for-event";
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {COLS} FROM journal
             WHERE idempotency_key >= $1 AND idempotency_key < $2 ORDER BY plugin_id, idx"
        ))
        .await
        .map_err(pg(op))?;
    let (from, to) = (format!("{event_id}:"), format!("{event_id};"));
    tx.query(&stmt, &[&from, &to])
        .await
        .map_err(pg(op))?
        .iter()
        .map(|r| raw_at(r, 0).into_entry())
        .collect()
}

/// Counts by family and state.
pub(super) async fn stats(tx: &Tx<'_>) -> Result<JournalStats> {
    let op = "journal-stats";
    let stmt = tx
        .prepare_cached("SELECT family, status, count(*) FROM journal GROUP BY family, status")
        .await
        .map_err(pg(op))?;
    let rows = tx.query(&stmt, &[]).await.map_err(pg(op))?;
    let mut out = JournalStats::default();
    for r in rows {
        let (family, status, n): (&str, &str, i64) = (r.get(0), r.get(1), r.get(2));
        if let (Some(f), Some(s)) = (ActionFamily::parse(family), JournalStatus::parse(status)) {
            out.counts.push((f, s, u64::try_from(n).unwrap_or(0)));
        }
    }
    Ok(out)
}

#[async_trait]
impl JournalStore for PostgresStorage {
    async fn claim_journal(&self, claim: JournalClaim) -> Result<Vec<JournalEntry>> {
        write_tx!(self, "claim-journal", |tx| super::journal::claim(
            tx, &claim
        )
        .await)
    }

    async fn settle_journal(&self, settle: JournalSettle) -> Result<bool> {
        write_tx!(self, "settle-journal", |tx| super::journal::settle(
            tx, &settle
        )
        .await)
    }

    async fn release_journal(&self, key: &str, worker: &str, at: Timestamp) -> Result<bool> {
        write_tx!(self, "release-journal", |tx| release(tx, key, worker, at)
            .await)
    }

    async fn start_suspect_entry(&self, key: &str, worker: &str) -> Result<bool> {
        write_tx!(self, "start-suspect-entry", |tx| start_suspect(
            tx, key, worker
        )
        .await)
    }

    async fn journal_for_event(&self, event_id: &str) -> Result<Vec<JournalEntry>> {
        read_tx!(self, "journal-for-event", |tx| for_event(tx, event_id)
            .await)
    }

    async fn journal_entry(&self, key: &str) -> Result<Option<JournalEntry>> {
        read_tx!(self, "journal-entry", |tx| get(tx, key).await)
    }

    async fn journal_stats(&self) -> Result<JournalStats> {
        read_tx!(self, "journal-stats", |tx| super::journal::stats(tx).await)
    }
}

async fn start_suspect(tx: &Tx<'_>, key: &str, worker: &str) -> Result<bool> {
    let op = "start-suspect-entry";
    let stmt = tx
        .prepare_cached(
            "UPDATE journal SET started_by = $2
             WHERE idempotency_key = $1 AND claimed_by = $2 AND status = 'in-flight'",
        )
        .await
        .map_err(pg(op))?;
    let n = tx.execute(&stmt, &[&key, &worker]).await.map_err(pg(op))?;
    Ok(n == 1)
}
