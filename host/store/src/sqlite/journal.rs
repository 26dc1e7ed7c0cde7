//! The action journal: claims by family, settlement, reads.

use rusqlite::{Connection, OptionalExtension, Row, params};
use shopcase_contract::{Action, ActionKind, Resources};

use async_trait::async_trait;

use super::SqliteStorage;
use super::{corrupt, db, dur_ms, ms, ts, ts_opt};
use crate::error::Result;
use crate::values::*;

pub(crate) const COLS: &str = "idempotency_key, event_id, shop, plugin_id, idx, kind, family, action, resources, status, \
     attempts, next_attempt_at, error_kind, error_message, result, created_at, updated_at, abandoned";

pub(crate) struct Raw {
    pub(crate) key: String,
    pub(crate) event_id: String,
    pub(crate) shop: String,
    pub(crate) plugin_id: String,
    pub(crate) idx: i64,
    pub(crate) kind: String,
    pub(crate) family: String,
    pub(crate) action: String,
    pub(crate) resources: String,
    pub(crate) status: String,
    pub(crate) attempts: i64,
    pub(crate) next_attempt_at: Option<i64>,
    pub(crate) error_kind: Option<String>,
    pub(crate) error_message: Option<String>,
    pub(crate) result: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) abandoned: i64,
}

fn raw(r: &Row<'_>) -> rusqlite::Result<Raw> {
    raw_at(r, 0)
}

impl Raw {
    pub(crate) fn into_entry(self) -> Result<JournalEntry> {
        let action: Action = serde_json::from_str(&self.action)
            .map_err(|e| corrupt("journal.action")(e.to_string()))?;
        let resources: Resources = serde_json::from_str(&self.resources)
            .map_err(|e| corrupt("journal.resources")(e.to_string()))?;
        let kind = ActionKind::parse(&self.kind).ok_or_else(|| {
            corrupt("journal.kind")(format!("unknown action kind `{}`", self.kind))
        })?;
        let family = ActionFamily::parse(&self.family).ok_or_else(|| {
            corrupt("journal.family")(format!("unknown family `{}`", self.family))
        })?;
        let status = JournalStatus::parse(&self.status).ok_or_else(|| {
            corrupt("journal.status")(format!("unknown status `{}`", self.status))
        })?;
        let result = match self.result {
            Some(r) => Some(
                serde_json::from_str(&r).map_err(|e| corrupt("journal.result")(e.to_string()))?,
            ),
            None => None,
        };
        Ok(JournalEntry {
            key: self.key,
            event_id: self.event_id,
            shop: self.shop,
            plugin_id: self.plugin_id,
            index: u32::try_from(self.idx).unwrap_or(u32::MAX),
            kind,
            family,
            action,
            resources,
            status,
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
            next_attempt_at: ts_opt(self.next_attempt_at),
            last_error: self
                .error_kind
                .map(|k| FailureRecord::new(k, self.error_message.unwrap_or_default())),
            result,
            created_at: ts(self.created_at),
            updated_at: ts(self.updated_at),
            abandoned: u32::try_from(self.abandoned).unwrap_or(u32::MAX),
        })
    }
}

pub(super) fn claim(c: &Connection, claim: &JournalClaim) -> Result<Vec<JournalEntry>> {
    let now = ms(claim.now);
    let lease_until = now.saturating_add(dur_ms(claim.lease));
    let limit = i64::try_from(claim.limit).unwrap_or(i64::MAX);
    // An entry waits while an earlier entry of the same event, plugin and
    // family is open, so e.g. a comment never overtakes the open-case it
    // belongs to. The unary `+`s keep the planner on the key range (the
    // entries of one event and plugin) instead of every open entry of the
    // family. PostgreSQL: `FOR UPDATE SKIP LOCKED` on the inner SELECT.
    // Taking over an entry still in flight (its lease expired: the worker
    // that held it died) counts an abandoned claim and remembers who held it.
    let sql = format!(
        "UPDATE journal SET status = 'in-flight', claimed_by = ?1, lease_until = ?2, updated_at = ?3,
            abandoned = abandoned + (status = 'in-flight'),
            abandoned_by = CASE WHEN status = 'in-flight' THEN claimed_by ELSE abandoned_by END,
            taken_from = CASE WHEN status = 'in-flight' THEN claimed_by END
         WHERE seq IN (
             SELECT j.seq FROM journal j
             WHERE j.family = ?4 AND j.status IN ('pending', 'in-flight')
               AND ((j.status = 'pending' AND j.next_attempt_at <= ?3)
                    OR (j.status = 'in-flight' AND j.lease_until <= ?3))
               AND NOT EXISTS (
                   SELECT 1 FROM journal p
                   WHERE p.idempotency_key >= j.event_id || ':' || j.plugin_id || ':'
                     AND p.idempotency_key < j.event_id || ':' || j.plugin_id || ';'
                     AND +p.family = j.family AND p.idx < j.idx AND +p.status IN ('pending', 'in-flight'))
             ORDER BY j.seq LIMIT ?5)
         RETURNING seq, abandoned, abandoned_by, taken_from, abandoned_death, started_by, {COLS}"
    );
    let mut rows = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map(
                params![claim.worker, lease_until, now, claim.family.as_str(), limit],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<i64>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        raw_at(r, 6)?,
                    ))
                },
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("claim-journal"))?;
    rows.sort_by_key(|(seq, ..)| *seq);
    let mut out = Vec::with_capacity(rows.len());
    for (seq, mut abandoned, abandoned_by, taken_from, last_death, started_by, mut raw) in rows {
        // Deaths in a row of holders that had started it add up; any
        // other death starts the count again (schema migrations 9, 10).
        if let Some(from) = &taken_from {
            let (counted, death) =
                super::charge_death(c, from, abandoned, last_death, started_by.as_deref())?;
            c.prepare_cached(
                "UPDATE journal SET abandoned = ?2, abandoned_death = ?3 WHERE seq = ?1",
            )
            .and_then(|mut st| st.execute(params![seq, counted, death]))
            .map_err(db("claim-journal"))?;
            abandoned = counted;
            raw.abandoned = counted;
        }
        if claim.poison_after > 0 && abandoned >= i64::from(claim.poison_after) {
            set_aside_poison(
                c,
                seq,
                &raw,
                abandoned,
                abandoned_by.as_deref().unwrap_or("?"),
                now,
            )?;
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
                c.execute(
                    "UPDATE journal SET status = 'dead', claimed_by = NULL, lease_until = NULL,
                        error_kind = ?2, error_message = ?3, updated_at = ?4
                     WHERE seq = ?1",
                    params![seq, failure.kind, failure.message, now],
                )
                .map_err(db("claim-journal"))?;
                super::admin::insert_dead_letter(
                    c,
                    DeadLetterKind::Action,
                    &shop,
                    &event_id,
                    Some(&plugin),
                    Some(&key),
                    &failure,
                    attempts,
                    now,
                )?;
            }
        }
    }
    Ok(out)
}

/// The dead letter of a journal entry set aside as poison, logged as
/// such. Both engines.
pub(crate) fn poison_failure(raw: &Raw, abandoned: i64, last_worker: &str) -> FailureRecord {
    let failure = FailureRecord::new(
        POISON,
        format!(
            "`{}` ({} failed executions recorded) was claimed {abandoned} times in a row by an executor that never \
             settled it (the process aborted or ran out of memory, or its task panicked, and the lease \
             expired); last held by `{last_worker}`",
            raw.kind, raw.attempts
        ),
    );
    tracing::error!(entry = %raw.key, shop = %raw.shop, abandoned, last_worker, "a journal entry keeps killing its executor; set aside as a poison dead letter");
    failure
}

/// An entry whose claims kept being abandoned (the executor running it
/// died, run after run) is not handed out again: it is dead, with a
/// [`POISON`] action dead letter naming its kind, its attempts and the
/// last worker, in the claim's transaction. Retrying the letter (the usual
/// action retry) resets its attempts and its abandoned claims.
fn set_aside_poison(
    c: &Connection,
    seq: i64,
    raw: &Raw,
    abandoned: i64,
    last_worker: &str,
    now: i64,
) -> Result<()> {
    let failure = poison_failure(raw, abandoned, last_worker);
    c.prepare_cached(
        "UPDATE journal SET status = 'dead', claimed_by = NULL, lease_until = NULL, next_attempt_at = NULL,
            error_kind = ?2, error_message = ?3, updated_at = ?4
         WHERE seq = ?1",
    )
    .and_then(|mut s| s.execute(params![seq, failure.kind, failure.message, now]))
    .map_err(db("claim-journal"))?;
    super::admin::insert_dead_letter(
        c,
        DeadLetterKind::Action,
        &raw.shop,
        &raw.event_id,
        Some(&raw.plugin_id),
        Some(&raw.key),
        &failure,
        raw.attempts,
        now,
    )?;
    Ok(())
}

/// [`raw`] for a row whose journal columns start at `offset`.
fn raw_at(r: &Row<'_>, offset: usize) -> rusqlite::Result<Raw> {
    let g = |i: usize| offset + i;
    Ok(Raw {
        key: r.get(g(0))?,
        event_id: r.get(g(1))?,
        shop: r.get(g(2))?,
        plugin_id: r.get(g(3))?,
        idx: r.get(g(4))?,
        kind: r.get(g(5))?,
        family: r.get(g(6))?,
        action: r.get(g(7))?,
        resources: r.get(g(8))?,
        status: r.get(g(9))?,
        attempts: r.get(g(10))?,
        next_attempt_at: r.get(g(11))?,
        error_kind: r.get(g(12))?,
        error_message: r.get(g(13))?,
        result: r.get(g(14))?,
        created_at: r.get(g(15))?,
        updated_at: r.get(g(16))?,
        abandoned: r.get(g(17))?,
    })
}

/// An entry's end. After an execution (done, retry, dead) its abandoned
/// claims are reset: it ran to an end, so the process did not die of it;
/// a wait (not executed) changes neither them nor its attempts.
pub(super) fn settle(c: &Connection, s: &JournalSettle) -> Result<bool> {
    let op = "settle-journal";
    let now = ms(s.now);
    let owned = "idempotency_key = ?1 AND status = 'in-flight' AND claimed_by = ?2";
    match &s.outcome {
        JournalOutcome::Done { result } => {
            let n = c
                .prepare_cached(&format!(
                    "UPDATE journal SET status = 'done', result = ?3, claimed_by = NULL, lease_until = NULL,
                        next_attempt_at = NULL, abandoned = 0, updated_at = ?4 WHERE {owned}"
                ))
                .and_then(|mut st| st.execute(params![s.key, s.worker, result.to_string(), now]))
                .map_err(db(op))?;
            Ok(n == 1)
        }
        JournalOutcome::Retry { error, at } => {
            let n = c
                .prepare_cached(&format!(
                    "UPDATE journal SET status = 'pending', attempts = attempts + 1, next_attempt_at = ?3,
                        error_kind = ?4, error_message = ?5, claimed_by = NULL, lease_until = NULL, abandoned = 0,
                        updated_at = ?6
                     WHERE {owned}"
                ))
                .and_then(|mut st| st.execute(params![s.key, s.worker, ms(*at), error.kind, error.message, now]))
                .map_err(db(op))?;
            Ok(n == 1)
        }
        JournalOutcome::Wait { error, at } => {
            let n = c
                .prepare_cached(&format!(
                    "UPDATE journal SET status = 'pending', next_attempt_at = ?3,
                        error_kind = ?4, error_message = ?5, claimed_by = NULL, lease_until = NULL, updated_at = ?6
                     WHERE {owned}"
                ))
                .and_then(|mut st| st.execute(params![s.key, s.worker, ms(*at), error.kind, error.message, now]))
                .map_err(db(op))?;
            Ok(n == 1)
        }
        JournalOutcome::Dead { error } => {
            let row: Option<(String, String, String, i64)> = c
                .prepare_cached(&format!(
                    "UPDATE journal SET status = 'dead', attempts = attempts + 1, next_attempt_at = NULL,
                        error_kind = ?3, error_message = ?4, claimed_by = NULL, lease_until = NULL, updated_at = ?5
                     WHERE {owned} RETURNING shop, event_id, plugin_id, attempts"
                ))
                .and_then(|mut st| {
                    st.query_row(params![s.key, s.worker, error.kind, error.message, now], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                    .optional()
                })
                .map_err(db(op))?;
            let Some((shop, event_id, plugin_id, attempts)) = row else {
                return Ok(false);
            };
            super::admin::insert_dead_letter(
                c,
                DeadLetterKind::Action,
                &shop,
                &event_id,
                Some(&plugin_id),
                Some(&s.key),
                error,
                attempts,
                now,
            )?;
            Ok(true)
        }
    }
}

/// Give a claimed entry back unexecuted, due at `at`; its attempts and
/// abandoned claims stay as they are.
pub(super) fn release(c: &Connection, key: &str, worker: &str, at: Timestamp) -> Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE journal SET status = 'pending', claimed_by = NULL, lease_until = NULL, next_attempt_at = ?3
             WHERE idempotency_key = ?1 AND claimed_by = ?2 AND status = 'in-flight'",
        )
        .and_then(|mut s| s.execute(params![key, worker, ms(at)]))
        .map_err(db("release-journal"))?;
    Ok(n == 1)
}

pub(super) fn for_event(c: &Connection, event_id: &str) -> Result<Vec<JournalEntry>> {
    let sql = format!(
        "SELECT {COLS} FROM journal
         WHERE idempotency_key >= ?1 || ':' AND idempotency_key < ?1 || ';' ORDER BY plugin_id, idx"
    );
    let raws = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map([event_id], raw)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("journal-for-event"))?;
    raws.into_iter().map(Raw::into_entry).collect()
}

pub(super) fn get(c: &Connection, key: &str) -> Result<Option<JournalEntry>> {
    let sql = format!("SELECT {COLS} FROM journal WHERE idempotency_key = ?1");
    let r = c
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([key], raw).optional())
        .map_err(db("journal-entry"))?;
    r.map(Raw::into_entry).transpose()
}

pub(super) fn stats(c: &Connection) -> Result<JournalStats> {
    let rows = c
        .prepare_cached("SELECT family, status, count(*) FROM journal GROUP BY family, status")
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("journal-stats"))?;
    let mut out = JournalStats::default();
    for (family, status, n) in rows {
        if let (Some(f), Some(s)) = (ActionFamily::parse(&family), JournalStatus::parse(&status)) {
            out.counts.push((f, s, u64::try_from(n).unwrap_or(0)));
        }
    }
    Ok(out)
}

#[async_trait]
impl JournalStore for SqliteStorage {
    async fn claim_journal(&self, claim: JournalClaim) -> Result<Vec<JournalEntry>> {
        self.write("claim-journal", move |c| super::journal::claim(c, &claim))
            .await
    }

    async fn settle_journal(&self, settle: JournalSettle) -> Result<bool> {
        self.write("settle-journal", move |c| {
            super::journal::settle(c, &settle)
        })
        .await
    }

    async fn release_journal(&self, key: &str, worker: &str, at: Timestamp) -> Result<bool> {
        let (k, w) = (key.to_owned(), worker.to_owned());
        self.write("release-journal", move |c| {
            super::journal::release(c, &k, &w, at)
        })
        .await
    }

    async fn start_suspect_entry(&self, key: &str, worker: &str) -> Result<bool> {
        let (k, w) = (key.to_owned(), worker.to_owned());
        self.write("start-suspect-entry", move |c| {
            c.prepare_cached(
                "UPDATE journal SET started_by = ?2
                 WHERE idempotency_key = ?1 AND claimed_by = ?2 AND status = 'in-flight'",
            )
            .and_then(|mut s| s.execute(params![k, w]))
            .map(|n| n == 1)
            .map_err(db("start-suspect-entry"))
        })
        .await
    }

    async fn journal_for_event(&self, event_id: &str) -> Result<Vec<JournalEntry>> {
        let e = event_id.to_owned();
        self.read(move |c| super::journal::for_event(c, &e)).await
    }

    async fn journal_entry(&self, key: &str) -> Result<Option<JournalEntry>> {
        let k = key.to_owned();
        self.read(move |c| super::journal::get(c, &k)).await
    }

    async fn journal_stats(&self) -> Result<JournalStats> {
        self.read(super::journal::stats).await
    }
}
