//! The inbox and the per-(event, plugin) dispatch rows on PostgreSQL
//! (see `sqlite/inbox.rs` for the rules: the three duplicate rules, fair
//! claims, leases, abandoned claims and poison, finishing an attempt).
//!
//! # Several replicas on one database
//! Every operation is one transaction ([`write_tx!`]: `SERIALIZABLE`,
//! re-run from the start when PostgreSQL aborts it for a conflict), so
//! inserts, finishes, releases and host completions have the effect of
//! some serial order, as SQLite's one writer gives. Claims are the
//! exception: they run `READ COMMITTED` ([`claim_isolation`]), the
//! classic PostgreSQL queue, because everything they decide rests on row
//! locks.
//!
//! - **Exactly once.** A claim sets `claimed_by`/`lease_until` only on
//!   rows it holds locked (`FOR UPDATE SKIP LOCKED`) and has found, in
//!   their latest version, still claimable (pending, due, no live lease):
//!   two claimers never both take one row; the second skips a row the
//!   first holds, or finds it leased once the first has committed. A lease
//!   only saves work: journalling rests on the dispatch row's `pending →
//!   done` in [`finish`], and two finishes of one event (a holder whose
//!   lease expired, and the worker that took over) write the same dispatch
//!   rows, so one of them aborts, runs again, and finds the row settled
//!   ([`PluginFinish::AlreadySettled`]): the actions are journalled once.
//! - **Order.** Within a store, claimable events are claimed oldest first,
//!   and across stores round-robin, as on SQLite: at every commit, a
//!   store's claimed events are older than its events still waiting to be
//!   (leases and retry times aside). [`claim`] reads, without locks, which
//!   rows it would take (each store's next claimable events, turn by
//!   turn), locks exactly those (`SKIP LOCKED`), and takes a store's rows
//!   only up to the first one it could not lock or found taken: a holder
//!   may still abort, and taking younger events past its row could leave
//!   the older one waiting behind them. Such a store is left to the other
//!   claimer for this claim (never waited for); the claim goes on with
//!   the other stores, round after round, each round's read seeing what
//!   other claims committed meanwhile. A claim that found every event it
//!   chose held elsewhere is run again (as [`StoreError::Contended`], which
//!   also lets go of the rows it locked) rather than answer "nothing to
//!   do" while work is waiting. (Locking more rows than a claim takes —
//!   each store's first `limit`, say — would make a concurrent claimer
//!   pass over older events and take younger ones.)
//! - **Contention.** Claimers never wait for one another and never abort
//!   one another; every claim starts at the same rows, though, so with
//!   many workers claiming at once some claims find a store's head held
//!   and leave it (taking fewer events), and one whose every store was
//!   held goes again a few milliseconds later, up to
//!   [`TRIES`](super::TRIES) times before it fails as contended (the
//!   dispatcher polls again). Exactly-once and order never depend on that.

use std::collections::HashMap;

use async_trait::async_trait;
use shopcase_contract::manifest::HOST_ONLY_TOPICS;
use tokio_postgres::Row;

use super::journal::EntryResources;
use super::{PostgresStorage, Tx, pg, read_tx, write_tx};
use crate::convert::{corrupt, dur_ms, ms, process_of, to_json, ts};
use crate::error::{Result, StoreError};
use crate::sqlite::inbox::{DISPATCH_COLS, EVENT_COLS, RawEvent};
use crate::values::*;

/// An [`EVENT_COLS`] row, before its JSON and enums are checked
/// ([`RawEvent::into_event`]); `offset`: where the columns start.
fn raw_event(r: &Row, offset: usize) -> RawEvent {
    let g = |i: usize| offset + i;
    RawEvent {
        seq: r.get(g(0)),
        event_id: r.get(g(1)),
        shop: r.get(g(2)),
        topic: r.get(g(3)),
        source: r.get(g(4)),
        dedupe_key: r.get(g(5)),
        shopify_event_id: r.get(g(6)),
        api_version: r.get(g(7)),
        triggered_at: r.get(g(8)),
        received_at: r.get(g(9)),
        resources: r.get(g(10)),
        payload: r.get(g(11)),
        target_plugin: r.get(g(12)),
        status: r.get(g(13)),
        claims: r.get(g(14)),
        redacted_at: r.get(g(15)),
        body_sha256: r.get(g(16)),
        abandoned: r.get(g(17)),
    }
}

fn as_i64(id: Option<u64>) -> Option<i64> {
    id.and_then(|i| i64::try_from(i).ok())
}

/// Insert an event unless one of the duplicate rules ([`DuplicateRule`])
/// finds it already there.
///
/// Across replicas: the insert and the look-ups run in the caller's
/// SERIALIZABLE transaction, and `ON CONFLICT DO NOTHING` on a key a
/// concurrent transaction committed after this one's snapshot fails as a
/// serialization failure (re-run by [`write_tx!`], which then sees the
/// event and names the rule), so two replicas receiving the same delivery
/// store it once and both answer with the one event id.
pub(super) async fn insert(tx: &Tx<'_>, ev: &NewEvent) -> Result<Inserted> {
    let op = "insert-event";
    let event_id = ev.event_id();
    let digest = ev.body_sha256.as_ref().map(|d| d.as_slice());
    // A privacy request's record outlives its event (retention, a store's
    // redaction): its body stays a duplicate for as long as the record.
    if digest.is_some() && HOST_ONLY_TOPICS.contains(&ev.topic.as_str()) {
        let stmt = tx
            .prepare_cached(
                "SELECT event_id FROM privacy_requests
                 WHERE shop = $1 AND topic = $2 AND body_sha256 = $3 LIMIT 1",
            )
            .await
            .map_err(pg(op))?;
        let recorded = tx
            .query_opt(&stmt, &[&ev.shop, &ev.topic, &digest])
            .await
            .map_err(pg(op))?;
        if let Some(r) = recorded {
            return Ok(Inserted::Duplicate {
                event_id: r.get(0),
                rule: DuplicateRule::Body,
            });
        }
    }
    let resources = to_json("inbox.resources", &ev.resources)?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO inbox (event_id, shop, topic, source, dedupe_key, shopify_event_id, api_version,
                triggered_at, received_at, order_id, customer_id, resources, payload, target_plugin, status,
                next_attempt_at, done_at, body_sha256)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $9, $16, $17)
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(pg(op))?;
    let changed = tx
        .execute(
            &stmt,
            &[
                &event_id,
                &ev.shop,
                &ev.topic,
                &ev.source.as_str(),
                &ev.dedupe_key,
                &ev.shopify_event_id,
                &ev.api_version,
                &ms(ev.triggered_at),
                &ms(ev.received_at),
                &as_i64(ev.resources.order_id),
                &as_i64(ev.resources.customer_id),
                &resources,
                &ev.payload,
                &ev.target_plugin,
                &ev.status.as_str(),
                &(ev.status != EventStatus::Pending).then(|| ms(ev.received_at)),
                &digest,
            ],
        )
        .await
        .map_err(pg(op))?;
    if changed == 1 {
        if ev.topic == APP_UNINSTALLED && ev.source == EventSource::Shopify {
            // In the same transaction: the uninstall is recorded exactly
            // when its event is.
            super::admin::record_uninstall(
                tx,
                &ev.shop,
                &ev.api_version,
                &format!("{APP_UNINSTALLED} {event_id}"),
                ev.received_at,
            )
            .await?;
        }
        return Ok(Inserted::New { event_id });
    }
    // One of the unique keys holds it: which, in the rules' order.
    let stmt = tx
        .prepare_cached(
            "SELECT event_id, 0 FROM inbox WHERE event_id = $1
             UNION ALL
             SELECT event_id, 1 FROM inbox WHERE shop = $2 AND topic = $3 AND shopify_event_id = $4
             UNION ALL
             SELECT event_id, 2 FROM inbox WHERE shop = $2 AND topic = $3 AND body_sha256 = $5
             ORDER BY 2 LIMIT 1",
        )
        .await
        .map_err(pg(op))?;
    let existing = tx
        .query_opt(
            &stmt,
            &[
                &event_id,
                &ev.shop,
                &ev.topic,
                &ev.shopify_event_id,
                &digest,
            ],
        )
        .await
        .map_err(pg(op))?
        .map(|r| (r.get::<_, String>(0), r.get::<_, i32>(1)));
    let (event_id, rule) = match existing {
        Some((id, 1)) => (id, DuplicateRule::MerchantAction),
        Some((id, 2)) => (id, DuplicateRule::Body),
        Some((id, _)) => (id, DuplicateRule::Delivery),
        None => (event_id, DuplicateRule::Delivery),
    };
    Ok(Inserted::Duplicate { event_id, rule })
}

/// An event by id.
pub(super) async fn get(tx: &Tx<'_>, event_id: &str) -> Result<Option<StoredEvent>> {
    let op = "get-event";
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {EVENT_COLS} FROM inbox WHERE event_id = $1"
        ))
        .await
        .map_err(pg(op))?;
    let row = tx.query_opt(&stmt, &[&event_id]).await.map_err(pg(op))?;
    row.map(|r| raw_event(&r, 0).into_event()).transpose()
}

// ---- Deaths: abandoned claims counted only over deaths in a row. ----

/// The number of `worker`'s process among the processes found dead
/// holding work (schema migration 9), numbering it if it is new.
///
/// Claims run `READ COMMITTED` (see [`claim_isolation`]): two replicas
/// numbering two deaths at once may both read the same `max(seq)`; the
/// second insert then waits for the first, finds `seq` taken and does
/// nothing, and numbers its death again on a fresh statement snapshot,
/// after the first. (Under `SERIALIZABLE` the second would fail as a
/// serialization failure and its transaction run again: the same number.)
async fn death_seq(tx: &Tx<'_>, worker: &str) -> Result<i64> {
    let op = "record-death";
    let process = process_of(worker);
    let insert = tx
        .prepare_cached(
            "INSERT INTO deaths (instance, seq)
             SELECT $1, coalesce(max(seq), 0) + 1 FROM deaths
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(pg(op))?;
    let select = tx
        .prepare_cached("SELECT seq FROM deaths WHERE instance = $1")
        .await
        .map_err(pg(op))?;
    let mut seq = None;
    for _ in 0..8 {
        tx.execute(&insert, &[&process]).await.map_err(pg(op))?;
        seq = tx
            .query_opt(&select, &[&process])
            .await
            .map_err(pg(op))?
            .map(|r| r.get::<_, i64>(0));
        if seq.is_some() {
            break;
        }
    }
    let Some(seq) = seq else {
        return Err(StoreError::Contended {
            op,
            message: "deaths are being numbered by other transactions".into(),
        });
    };
    // Only the latest deaths matter.
    let stmt = tx
        .prepare_cached("DELETE FROM deaths WHERE seq < $1::bigint - 10000")
        .await
        .map_err(pg(op))?;
    tx.execute(&stmt, &[&seq]).await.map_err(pg(op))?;
    Ok(seq)
}

/// The abandoned claims of work a claim just took over from `taken_from`
/// (`counted`: the count the claim's update made, one more than before;
/// `last_death`: the death the work was last charged with; `started_by`:
/// the worker that last started it as a suspect).
/// Returns the count and the death charged, by the rule both engines
/// share (`sqlite::death_count`). (Inbox and journal claims.)
pub(super) async fn charge_death(
    tx: &Tx<'_>,
    taken_from: &str,
    counted: i64,
    last_death: Option<i64>,
    started_by: Option<&str>,
) -> Result<(i64, i64)> {
    let seq = death_seq(tx, taken_from).await?;
    let abandoned = crate::sqlite::death_count(taken_from, counted, last_death, started_by, seq);
    Ok((abandoned, seq))
}

// ---- Claims. ----

/// Run this claim's transaction (this is its first statement, inside
/// [`write_tx!`]'s `SERIALIZABLE` one) at `READ COMMITTED`: the usual
/// PostgreSQL queue, where `FOR UPDATE SKIP LOCKED` lets claimers pass
/// each other. What a claim takes it decides on the rows it locks: a row
/// another transaction holds is skipped, and one another transaction
/// changed since the statement began is checked again, in its latest
/// version, once locked (PostgreSQL's re-check of the statement's
/// conditions on an updated row), so a row is taken only while it is
/// claimable and only by one claimer. Nothing a claim decides rests on
/// the predicate locks of `SERIALIZABLE`, which it would pay for dearly:
/// every claim reads the same rows (each store's oldest events), so
/// overlapping claims would abort each other (or, under load, be aborted
/// on suspicion alone once PostgreSQL summarizes old transactions), where
/// here they simply take different rows, each statement seeing what the
/// others committed.
pub(super) async fn claim_isolation(tx: &Tx<'_>, op: &'static str) -> Result<()> {
    tx.batch_execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .await
        .map_err(pg(op))
}

/// The stores with pending events, one index seek each
/// (`inbox_pending_shop`: a skip scan).
const SHOPS_SQL: &str = "
    WITH RECURSIVE shops(shop) AS (
        SELECT (SELECT shop FROM inbox WHERE status = 'pending' ORDER BY shop LIMIT 1)
        UNION ALL
        SELECT (SELECT i.shop FROM inbox i WHERE i.status = 'pending' AND i.shop > s.shop
                ORDER BY i.shop LIMIT 1)
        FROM shops s WHERE s.shop IS NOT NULL
    )
    SELECT shop FROM shops WHERE shop IS NOT NULL";

/// Each given store's next `$4` claimable events after the given `seq`
/// (pending, due at `$3`, no live lease), oldest first: one range of
/// `inbox_pending_shop` per store. Read unlocked, as of the statement.
const NEXT_SQL: &str = "
    SELECT s.n, c.seq
    FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS s(shop, after, n)
    CROSS JOIN LATERAL (
        SELECT j.seq FROM inbox j
        WHERE j.status = 'pending' AND j.shop = s.shop AND j.seq > s.after
          AND j.next_attempt_at <= $3 AND (j.lease_until IS NULL OR j.lease_until <= $3)
        ORDER BY j.seq LIMIT $4) c
    ORDER BY s.n, c.seq";

/// Take the chosen rows (`$4`, each with its store's index `$5`): each
/// one locked unless another transaction holds it (`SKIP LOCKED`), and
/// checked claimable again in its latest version. Within a store the rows
/// are taken only up to the first one held elsewhere (or found taken):
/// whether its holder commits is not known yet, so taking a younger event
/// past it could leave the older one unclaimed behind it (the holder
/// aborts) — a store's events are taken oldest first or not at all. (The
/// rows locked past it are not changed, only left locked until this
/// transaction ends.)
///
/// A claim that takes an event over from a holder whose lease expired
/// (`claimed_by` still set: a finish, a release or a host completion
/// clears it) counts an abandoned claim and remembers that holder.
const TAKE_SQL: &str = "
    WITH chosen AS (
        SELECT * FROM unnest($4::bigint[], $5::bigint[]) AS c(seq, n)
    ), locked AS (
        SELECT seq FROM inbox
        WHERE seq = ANY($4) AND status = 'pending' AND next_attempt_at <= $3
          AND (lease_until IS NULL OR lease_until <= $3)
        FOR UPDATE SKIP LOCKED
    ), held AS (
        SELECT c.n, min(c.seq) AS seq FROM chosen c
        WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.seq = c.seq)
        GROUP BY c.n
    )
    UPDATE inbox SET claimed_by = $1, lease_until = $2, claims = claims + 1,
        abandoned = abandoned + (claimed_by IS NOT NULL)::int,
        abandoned_by = coalesce(claimed_by, abandoned_by),
        taken_from = claimed_by
    WHERE seq IN (
        SELECT c.seq FROM chosen c JOIN locked l ON l.seq = c.seq
        WHERE NOT EXISTS (SELECT 1 FROM held h WHERE h.n = c.n AND h.seq < c.seq))
    RETURNING ";

/// At most this many rounds of choosing and locking per claim (each round
/// after the first goes on with the stores that still have claimable
/// events).
const CLAIM_ROUNDS: usize = 16;

/// A store in a claim: how far its events were looked at, how many it got.
struct Turns {
    shop: String,
    after: i64,
    taken: usize,
}

/// Claim up to `limit` events: round-robin across stores (each store's
/// oldest claimable event first, oldest first among them, then every
/// store's second, and so on), oldest first within a store; see the module
/// doc for how this holds with concurrent claimers.
///
/// Each round asks every store still in play for its next
/// `ceil(wanted / stores)` claimable events (one index range per store),
/// orders them by (turn, seq), keeps what the claim still wants and locks
/// those. A store that returned fewer than it was asked for, all of them
/// kept, has nothing more; a round that fills the claim ends it. So a
/// claim reads about `limit` rows plus one per store with pending events,
/// whatever the backlog.
pub(super) async fn claim(tx: &Tx<'_>, claim: &Claim) -> Result<Vec<ClaimedEvent>> {
    let op = "claim-events";
    claim_isolation(tx, op).await?;
    let now = ms(claim.now);
    let lease_until = now.saturating_add(dur_ms(claim.lease));
    let stmt = tx.prepare_cached(SHOPS_SQL).await.map_err(pg(op))?;
    let mut stores: Vec<Turns> = tx
        .query(&stmt, &[])
        .await
        .map_err(pg(op))?
        .iter()
        .map(|r| Turns {
            shop: r.get(0),
            after: 0,
            taken: 0,
        })
        .collect();
    let next = tx.prepare_cached(NEXT_SQL).await.map_err(pg(op))?;
    let take = tx
        .prepare_cached(&format!(
            "{TAKE_SQL}{EVENT_COLS}, abandoned_by, taken_from, abandoned_death, started_by"
        ))
        .await
        .map_err(pg(op))?;
    let mut taken: Vec<Row> = Vec::new();
    let mut held_elsewhere = false;
    let mut rounds = 0;
    while taken.len() < claim.limit && !stores.is_empty() && rounds < CLAIM_ROUNDS {
        rounds += 1;
        let wanted = claim.limit - taken.len();
        let each = wanted.div_ceil(stores.len());
        let shops: Vec<&str> = stores.iter().map(|s| s.shop.as_str()).collect();
        let afters: Vec<i64> = stores.iter().map(|s| s.after).collect();
        let rows = tx
            .query(
                &next,
                &[
                    &shops,
                    &afters,
                    &now,
                    &i64::try_from(each).unwrap_or(i64::MAX),
                ],
            )
            .await
            .map_err(pg(op))?;
        // (turn, seq, store): a store's i-th event this round takes the
        // turn after its events already taken.
        let mut found = vec![0usize; stores.len()];
        let mut candidates: Vec<(usize, i64, usize)> = Vec::with_capacity(rows.len());
        for r in &rows {
            let n = usize::try_from(r.get::<_, i64>(0) - 1).unwrap_or(0);
            let seq: i64 = r.get(1);
            candidates.push((stores[n].taken + found[n], seq, n));
            found[n] += 1;
        }
        candidates.sort_unstable();
        candidates.truncate(wanted);
        if candidates.is_empty() {
            break;
        }
        let mut kept = vec![0usize; stores.len()];
        for &(_, seq, n) in &candidates {
            stores[n].after = stores[n].after.max(seq);
            kept[n] += 1;
        }
        let chosen: Vec<i64> = candidates.iter().map(|&(_, seq, _)| seq).collect();
        let stores_of: Vec<i64> = candidates
            .iter()
            .map(|&(_, _, n)| i64::try_from(n).unwrap_or(i64::MAX))
            .collect();
        let got = tx
            .query(
                &take,
                &[&claim.worker, &lease_until, &now, &chosen, &stores_of],
            )
            .await
            .map_err(pg(op))?;
        let index: HashMap<&str, usize> = stores
            .iter()
            .enumerate()
            .map(|(i, s)| (s.shop.as_str(), i))
            .collect();
        let mut got_per_store = vec![0usize; stores.len()];
        for r in &got {
            if let Some(&n) = index.get(r.get::<_, &str>(2)) {
                got_per_store[n] += 1;
            }
        }
        for (n, store) in stores.iter_mut().enumerate() {
            store.taken += got_per_store[n];
        }
        taken.extend(got);
        // A store one of whose events another transaction holds is left
        // to it for this claim; one that had fewer than asked, all of them
        // kept, has nothing more.
        let mut n = 0;
        stores.retain(|_| {
            let busy = got_per_store[n] < kept[n];
            held_elsewhere |= busy;
            let more = !busy && (found[n] == each || kept[n] < found[n]);
            n += 1;
            more
        });
    }
    if taken.is_empty() && held_elsewhere {
        // Every claimable event this claim chose is being taken by another
        // transaction: let go of the rows locked past them and try again
        // once that has ended, as a claim queued behind it on SQLite would
        // (rather than answer "nothing to do" to a worker that would then
        // idle).
        return Err(StoreError::Contended {
            op,
            message: "the claimable events are being claimed by another transaction".into(),
        });
    }
    // In seq order, so deaths found in one claim are numbered the same
    // way each time.
    taken.sort_by_key(|r| r.get::<_, i64>(0));
    let mut ready = Vec::with_capacity(taken.len());
    for r in &taken {
        let mut raw = raw_event(r, 0);
        let abandoned_by: Option<&str> = r.get(18);
        let taken_from: Option<&str> = r.get(19);
        let last_death: Option<i64> = r.get(20);
        let started_by: Option<&str> = r.get(21);
        if let Some(from) = taken_from {
            let (abandoned, death) =
                charge_death(tx, from, raw.abandoned, last_death, started_by).await?;
            let stmt = tx
                .prepare_cached(
                    "UPDATE inbox SET abandoned = $2, abandoned_death = $3 WHERE seq = $1",
                )
                .await
                .map_err(pg(op))?;
            tx.execute(&stmt, &[&raw.seq, &abandoned, &death])
                .await
                .map_err(pg(op))?;
            raw.abandoned = abandoned;
        }
        if claim.poison_after > 0 && raw.abandoned >= i64::from(claim.poison_after) {
            let abandoned = raw.abandoned;
            set_aside_poison(tx, &raw, abandoned, abandoned_by.unwrap_or("?"), now).await?;
            continue;
        }
        ready.push(raw);
    }
    // The dispatch rows of every event taken, in one read.
    let ids: Vec<&str> = ready.iter().map(|r| r.event_id.as_str()).collect();
    let mut dispatch = dispatch_rows_of(tx, &ids).await?;
    let mut out = Vec::with_capacity(ready.len());
    for raw in ready {
        let (seq, event_id, shop, claims) =
            (raw.seq, raw.event_id.clone(), raw.shop.clone(), raw.claims);
        // Its dispatch rows are read with it: a damaged one would fail
        // every claim of the batch just the same.
        let rows = dispatch.remove(&event_id).unwrap_or_default();
        let read = raw.into_event().and_then(|event| {
            let rows = rows
                .into_iter()
                .map(parse_dispatch)
                .collect::<Result<Vec<_>>>()?;
            Ok((event, rows))
        });
        let (event, dispatch) = match read {
            Ok(read) => read,
            Err(e @ StoreError::Corrupt { .. }) => {
                // A row this build cannot read (damaged, or written by
                // hand) must not hold up the batch it came in, claim after
                // claim: it is set aside as a dead letter an operator sees.
                tracing::error!(event = %event_id, %shop, error = %e, "an inbox row cannot be read; dead-lettered");
                tx.execute(
                    "UPDATE inbox SET status = 'done', done_at = $2, claimed_by = NULL, lease_until = NULL
                     WHERE seq = $1",
                    &[&seq, &now],
                )
                .await
                .map_err(pg(op))?;
                super::admin::insert_dead_letter(
                    tx,
                    DeadLetterKind::Event,
                    &shop,
                    &event_id,
                    None,
                    None,
                    &FailureRecord::new("unreadable-event", e.to_string()),
                    claims,
                    now,
                )
                .await?;
                continue;
            }
            Err(e) => return Err(e),
        };
        out.push(ClaimedEvent { event, dispatch });
    }
    // In seq order already (sorted above).
    Ok(out)
}

/// An event whose claims kept being abandoned (the worker running it died,
/// run after run): it is not handed out again but set aside, in the claim's
/// transaction, as a [`POISON`] event dead letter naming its last known
/// stage. The event is done and its still-pending runs dead (failure
/// `poison`), so the store's other events and retention go on; retrying the
/// letter puts those runs back to pending and the count to zero.
async fn set_aside_poison(
    tx: &Tx<'_>,
    raw: &RawEvent,
    abandoned: i64,
    last_worker: &str,
    now: i64,
) -> Result<()> {
    let op = "claim-events";
    let stmt = tx
        .prepare_cached(
            "SELECT plugin_id, status = 'pending' FROM dispatch WHERE event_id = $1 ORDER BY plugin_id",
        )
        .await
        .map_err(pg(op))?;
    let rows = tx.query(&stmt, &[&raw.event_id]).await.map_err(pg(op))?;
    let pending: Vec<String> = rows
        .iter()
        .filter(|r| r.get::<_, bool>(1))
        .map(|r| r.get(0))
        .collect();
    let failure = crate::sqlite::inbox::poison_failure(
        raw,
        !rows.is_empty(),
        &pending,
        abandoned,
        last_worker,
    );
    tracing::error!(event = %raw.event_id, shop = %raw.shop, abandoned, last_worker, "an event keeps killing its worker; set aside as a poison dead letter");
    let stmt = tx
        .prepare_cached(
            "UPDATE dispatch SET status = 'dead', failure_kind = $2, failure_message = $3, updated_at = $4
             WHERE event_id = $1 AND status = 'pending'",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(
        &stmt,
        &[&raw.event_id, &failure.kind, &failure.message, &now],
    )
    .await
    .map_err(pg(op))?;
    let stmt = tx
        .prepare_cached(
            "UPDATE inbox SET status = 'done', done_at = $2, claimed_by = NULL, lease_until = NULL
             WHERE seq = $1",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(&stmt, &[&raw.seq, &now]).await.map_err(pg(op))?;
    super::admin::insert_dead_letter(
        tx,
        DeadLetterKind::Event,
        &raw.shop,
        &raw.event_id,
        raw.target_plugin.as_deref(),
        None,
        &failure,
        abandoned,
        now,
    )
    .await?;
    Ok(())
}

// ---- Dispatch rows. ----

/// A [`DISPATCH_COLS`] row, its status checked.
fn parse_dispatch(r: Row) -> Result<DispatchRow> {
    let status: String = r.get(4);
    let kind: Option<String> = r.get(7);
    let message: Option<String> = r.get(8);
    let budget: Option<String> = r.get(10);
    Ok(DispatchRow {
        event_id: r.get(0),
        plugin_id: r.get(1),
        plugin_version: r.get(2),
        shop: r.get(3),
        status: DispatchStatus::parse(&status)
            .ok_or_else(|| corrupt("dispatch.status")(format!("unknown status `{status}`")))?,
        attempts: u32::try_from(r.get::<_, i64>(5)).unwrap_or(u32::MAX),
        next_attempt_at: r.get::<_, Option<i64>>(6).map(ts),
        last_failure: kind.map(|k| FailureRecord::new(k, message.unwrap_or_default())),
        actions: u32::try_from(r.get::<_, i64>(9)).unwrap_or(u32::MAX),
        budget: budget.and_then(|b| serde_json::from_str(&b).ok()),
        updated_at: ts(r.get(11)),
    })
}

/// The dispatch rows of several events, unparsed, by event, each event's
/// in plugin order.
async fn dispatch_rows_of(tx: &Tx<'_>, event_ids: &[&str]) -> Result<HashMap<String, Vec<Row>>> {
    let op = "dispatch-rows";
    let mut by_event: HashMap<String, Vec<Row>> = HashMap::new();
    if event_ids.is_empty() {
        return Ok(by_event);
    }
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {DISPATCH_COLS} FROM dispatch WHERE event_id = ANY($1) ORDER BY event_id, plugin_id"
        ))
        .await
        .map_err(pg(op))?;
    for r in tx.query(&stmt, &[&event_ids]).await.map_err(pg(op))? {
        by_event.entry(r.get(0)).or_default().push(r);
    }
    Ok(by_event)
}

/// The dispatch rows of an event, in plugin order.
pub(super) async fn dispatch_rows(tx: &Tx<'_>, event_id: &str) -> Result<Vec<DispatchRow>> {
    let op = "dispatch-rows";
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {DISPATCH_COLS} FROM dispatch WHERE event_id = $1 ORDER BY plugin_id"
        ))
        .await
        .map_err(pg(op))?;
    tx.query(&stmt, &[&event_id])
        .await
        .map_err(pg(op))?
        .into_iter()
        .map(parse_dispatch)
        .collect()
}

/// What an attempt writes into one dispatch row.
struct RowChange<'a> {
    status: DispatchStatus,
    /// Whether this attempt counts (a failed run).
    count_attempt: bool,
    next_attempt_at: Option<i64>,
    failure: Option<&'a FailureRecord>,
    actions: u32,
    budget: Option<&'a str>,
}

impl RowChange<'_> {
    /// To `status`, counting no attempt, with nothing else.
    fn to(status: DispatchStatus) -> Self {
        RowChange {
            status,
            count_attempt: false,
            next_attempt_at: None,
            failure: None,
            actions: 0,
            budget: None,
        }
    }
}

/// Upsert a dispatch row, changing an existing row only while it is
/// pending. Returns whether a row was written.
async fn upsert_row(
    tx: &Tx<'_>,
    f: &EventFinish,
    shop: &str,
    o: &PluginOutcome,
    change: RowChange<'_>,
) -> Result<bool> {
    let op = "finish-event";
    let stmt = tx
        .prepare_cached(
            "INSERT INTO dispatch (event_id, plugin_id, plugin_version, shop, status, attempts, next_attempt_at,
                failure_kind, failure_message, actions, budget, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (event_id, plugin_id) DO UPDATE SET
                status = excluded.status,
                attempts = dispatch.attempts + $6,
                next_attempt_at = excluded.next_attempt_at,
                failure_kind = coalesce(excluded.failure_kind, dispatch.failure_kind),
                failure_message = coalesce(excluded.failure_message, dispatch.failure_message),
                actions = excluded.actions,
                budget = coalesce(excluded.budget, dispatch.budget),
                updated_at = excluded.updated_at
             WHERE dispatch.status = 'pending'",
        )
        .await
        .map_err(pg(op))?;
    let changed = tx
        .execute(
            &stmt,
            &[
                &f.event_id,
                &o.plugin_id,
                &o.plugin_version,
                &shop,
                &change.status.as_str(),
                &i64::from(change.count_attempt),
                &change.next_attempt_at,
                &change.failure.map(|x| x.kind.as_str()),
                &change.failure.map(|x| x.message.as_str()),
                &i64::from(change.actions),
                &change.budget,
                &ms(f.now),
            ],
        )
        .await
        .map_err(pg(op))?;
    Ok(changed == 1)
}

/// End this attempt of a plugin without journalling (a retry, a wait, a
/// deferral, a hold, a skip): `then` if the row was written,
/// [`PluginFinish::AlreadySettled`] if it had settled already.
async fn end_row(
    tx: &Tx<'_>,
    f: &EventFinish,
    shop: &str,
    o: &PluginOutcome,
    change: RowChange<'_>,
    then: PluginFinish,
) -> Result<PluginFinish> {
    Ok(if upsert_row(tx, f, shop, o, change).await? {
        then
    } else {
        PluginFinish::AlreadySettled
    })
}

// ---- Finishing an attempt. ----

/// Run `body` in a savepoint; roll it back if it fails or asks to (its
/// `bool`: keep). (A `SAVEPOINT` statement: the transaction is shared.)
async fn savepoint<T>(
    tx: &Tx<'_>,
    body: impl std::future::Future<Output = Result<(T, bool)>>,
) -> Result<T> {
    let op = "finish-event";
    tx.batch_execute("SAVEPOINT plugin").await.map_err(pg(op))?;
    match body.await {
        Ok((v, keep)) => {
            let end = if keep {
                "RELEASE SAVEPOINT plugin"
            } else {
                "ROLLBACK TO SAVEPOINT plugin; RELEASE SAVEPOINT plugin"
            };
            tx.batch_execute(end).await.map_err(pg(op))?;
            Ok(v)
        }
        Err(e) => {
            let _ = tx
                .batch_execute("ROLLBACK TO SAVEPOINT plugin; RELEASE SAVEPOINT plugin")
                .await;
            Err(e)
        }
    }
}

/// Apply one attempt's results (see [`InboxStore::finish_event`]): per
/// plugin, in a savepoint, its journal entries and key-value writes with
/// its row done, or a retry, a dead letter, a hold or a skip; then settle
/// the event. Owned or not, each row changes only while it is pending, so
/// a late finish of a worker whose lease expired settles nothing twice.
pub(super) async fn finish(tx: &Tx<'_>, f: &EventFinish) -> Result<FinishReport> {
    let op = "finish-event";
    let stmt = tx
        .prepare_cached(
            "SELECT shop, claimed_by, resources, order_id, customer_id, redacted_at, triggered_at
             FROM inbox WHERE event_id = $1",
        )
        .await
        .map_err(pg(op))?;
    let Some(head) = tx.query_opt(&stmt, &[&f.event_id]).await.map_err(pg(op))? else {
        return Err(StoreError::NotFound {
            what: "event",
            key: f.event_id.clone(),
        });
    };
    let shop: String = head.get(0);
    let claimed_by: Option<String> = head.get(1);
    let resources = EventResources {
        json: head.get(2),
        order_id: head.get(3),
        customer_id: head.get(4),
        triggered_at: head.get(6),
    };
    let redacted_at: Option<i64> = head.get(5);
    let owned = claimed_by.as_deref() == Some(f.worker.as_str());
    let now = ms(f.now);

    // Redacted since the plugins read it: what they returned (actions,
    // key-value data, error messages) may carry the erased data. Nothing of
    // it is kept; they run again, at once, on the redacted payload.
    let redacted_since = redacted_at != f.read_redacted_at.map(ms);
    let rerun = PluginResult::Deferred { at: f.now };

    let mut plugins = Vec::with_capacity(f.outcomes.len());
    for o in &f.outcomes {
        let outcome = match &o.result {
            PluginResult::Succeeded(_) | PluginResult::Retry { .. } | PluginResult::Dead { .. }
                if redacted_since =>
            {
                &rerun
            }
            other => other,
        };
        let result = match outcome {
            PluginResult::Succeeded(run) => succeed(tx, f, &shop, &resources, o, run).await?,
            PluginResult::Retry { failure, at } => {
                let change = RowChange {
                    count_attempt: true,
                    next_attempt_at: Some(ms(*at)),
                    failure: Some(failure),
                    ..RowChange::to(DispatchStatus::Pending)
                };
                end_row(tx, f, &shop, o, change, PluginFinish::Retrying).await?
            }
            PluginResult::Waiting { failure, at } => {
                let change = RowChange {
                    next_attempt_at: Some(ms(*at)),
                    failure: Some(failure),
                    ..RowChange::to(DispatchStatus::Pending)
                };
                end_row(tx, f, &shop, o, change, PluginFinish::Waiting).await?
            }
            PluginResult::Deferred { at } => {
                let change = RowChange {
                    next_attempt_at: Some(ms(*at)),
                    ..RowChange::to(DispatchStatus::Pending)
                };
                end_row(tx, f, &shop, o, change, PluginFinish::Deferred).await?
            }
            PluginResult::Dead { failure } => {
                savepoint(tx, async {
                    let change = RowChange {
                        count_attempt: true,
                        failure: Some(failure),
                        ..RowChange::to(DispatchStatus::Dead)
                    };
                    if !upsert_row(tx, f, &shop, o, change).await? {
                        return Ok((PluginFinish::AlreadySettled, false));
                    }
                    let attempts: i64 = tx
                        .query_one(
                            "SELECT attempts FROM dispatch WHERE event_id = $1 AND plugin_id = $2",
                            &[&f.event_id, &o.plugin_id],
                        )
                        .await
                        .map_err(pg(op))?
                        .get(0);
                    let id = super::admin::insert_dead_letter(
                        tx,
                        DeadLetterKind::Dispatch,
                        &shop,
                        &f.event_id,
                        Some(&o.plugin_id),
                        None,
                        failure,
                        attempts,
                        now,
                    )
                    .await?;
                    let quarantined = super::admin::count_failure(
                        tx,
                        &shop,
                        &o.plugin_id,
                        failure,
                        f.quarantine_after,
                        now,
                    )
                    .await?;
                    Ok((
                        PluginFinish::DeadLettered {
                            dead_letter: id,
                            quarantined,
                        },
                        true,
                    ))
                })
                .await?
            }
            PluginResult::Held { reason } => {
                let why = FailureRecord::new("quarantined", reason.clone());
                let change = RowChange {
                    failure: Some(&why),
                    ..RowChange::to(DispatchStatus::Held)
                };
                end_row(tx, f, &shop, o, change, PluginFinish::Held).await?
            }
            PluginResult::Skipped { reason } => {
                let why = FailureRecord::new("skipped", reason.clone());
                let change = RowChange {
                    failure: Some(&why),
                    ..RowChange::to(DispatchStatus::Skipped)
                };
                end_row(tx, f, &shop, o, change, PluginFinish::Skipped).await?
            }
        };
        plugins.push((o.plugin_id.clone(), result));
    }

    let conflicted = plugins.iter().any(|(_, r)| *r == PluginFinish::KvConflict);
    let event = if !owned {
        EventProgress::NotOwned
    } else if conflicted {
        EventProgress::Retained
    } else {
        settle_event(tx, &f.event_id, now).await?
    };
    Ok(FinishReport { event, plugins })
}

/// An event's resource ids as the inbox row holds them; its journal
/// entries are written with the same values, copied as stored. With its
/// time: key-value expiry is judged in event time.
struct EventResources {
    json: String,
    order_id: Option<i64>,
    customer_id: Option<i64>,
    triggered_at: i64,
}

/// Journal a successful run: row done, key-value reads checked and writes
/// applied, actions inserted, failure streak reset; all or nothing.
async fn succeed(
    tx: &Tx<'_>,
    f: &EventFinish,
    shop: &str,
    resources: &EventResources,
    o: &PluginOutcome,
    run: &RunSuccess,
) -> Result<PluginFinish> {
    let op = "finish-event";
    let now = ms(f.now);
    let budget = run.budget.as_ref().map(|b| b.to_string());
    let actions = u32::try_from(run.actions.len()).unwrap_or(u32::MAX);
    let outcome = savepoint(tx, async {
        let change = RowChange {
            actions,
            budget: budget.as_deref(),
            ..RowChange::to(DispatchStatus::Done)
        };
        if !upsert_row(tx, f, shop, o, change).await? {
            return Ok((PluginFinish::AlreadySettled, false));
        }
        // Expired as the plugin saw it: at the event's time.
        if !super::kv::reads_unchanged(
            tx,
            shop,
            &o.plugin_id,
            &run.kv_reads,
            resources.triggered_at,
        )
        .await?
        {
            return Ok((PluginFinish::KvConflict, false));
        }
        let entry = EntryResources {
            json: &resources.json,
            order_id: resources.order_id,
            customer_id: resources.customer_id,
        };
        for (i, action) in run.actions.iter().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            if !super::journal::insert(
                tx,
                &f.event_id,
                shop,
                &o.plugin_id,
                index,
                action,
                entry,
                now,
            )
            .await?
            {
                // The dispatch row was pending, so no entry of this run can
                // exist (SQLite fails here on the unique key, too).
                return Err(StoreError::Database {
                    op,
                    message: format!(
                        "journal entry `{}` exists already",
                        idempotency_key(&f.event_id, &o.plugin_id, index)
                    ),
                });
            }
        }
        super::kv::apply_writes(tx, shop, &o.plugin_id, &run.kv_writes, now).await?;
        let stmt = tx
            .prepare_cached(
                "UPDATE installations SET consecutive_failures = 0
                 WHERE shop = $1 AND plugin_id = $2 AND consecutive_failures <> 0",
            )
            .await
            .map_err(pg(op))?;
        tx.execute(&stmt, &[&shop, &o.plugin_id])
            .await
            .map_err(pg(op))?;
        Ok((PluginFinish::Journalled { actions }, true))
    })
    .await?;
    if outcome == PluginFinish::KvConflict {
        // Keep (or create) the row pending so the event is not settled
        // without this plugin; the dispatcher runs it again.
        let why = FailureRecord::new(
            "kv-conflict",
            "a key the run read was changed by another run before commit",
        );
        let change = RowChange {
            next_attempt_at: Some(now),
            failure: Some(&why),
            ..RowChange::to(DispatchStatus::Pending)
        };
        upsert_row(tx, f, shop, o, change).await?;
    }
    Ok(outcome)
}

/// Done if every row settled, else pending until the earliest retry; the
/// claim is released either way.
async fn settle_event(tx: &Tx<'_>, event_id: &str, now: i64) -> Result<EventProgress> {
    let op = "finish-event";
    let stmt = tx
        .prepare_cached(
            "SELECT min(coalesce(next_attempt_at, 0)) FROM dispatch WHERE event_id = $1 AND status = 'pending'",
        )
        .await
        .map_err(pg(op))?;
    let next: Option<i64> = tx
        .query_one(&stmt, &[&event_id])
        .await
        .map_err(pg(op))?
        .get(0);
    match next {
        Some(at) => {
            let stmt = tx
                .prepare_cached(
                    // The run ended (with retries to come): the process did
                    // not die of it, so it is no longer a suspect.
                    "UPDATE inbox SET next_attempt_at = $2, claimed_by = NULL, lease_until = NULL, abandoned = 0
                     WHERE event_id = $1",
                )
                .await
                .map_err(pg(op))?;
            tx.execute(&stmt, &[&event_id, &at]).await.map_err(pg(op))?;
            Ok(EventProgress::Pending {
                next_attempt_at: ts(at),
            })
        }
        None => {
            let stmt = tx
                .prepare_cached(
                    "UPDATE inbox SET status = 'done', done_at = $2, claimed_by = NULL, lease_until = NULL
                     WHERE event_id = $1",
                )
                .await
                .map_err(pg(op))?;
            tx.execute(&stmt, &[&event_id, &now])
                .await
                .map_err(pg(op))?;
            Ok(EventProgress::Done)
        }
    }
}

// ---- Releasing, renewing, host-handled events. ----

pub(super) async fn release(
    tx: &Tx<'_>,
    event_id: &str,
    worker: &str,
    at: Timestamp,
) -> Result<bool> {
    change_held(
        tx,
        "release-event",
        "claimed_by = NULL, lease_until = NULL, next_attempt_at = $3",
        event_id,
        worker,
        at,
    )
    .await
}

/// Change an event `worker` holds (pending, claimed by it): `set`, with
/// `$3` the time `at`. Returns whether it held it.
async fn change_held(
    tx: &Tx<'_>,
    op: &'static str,
    set: &str,
    event_id: &str,
    worker: &str,
    at: Timestamp,
) -> Result<bool> {
    let stmt = tx
        .prepare_cached(&format!(
            "UPDATE inbox SET {set} WHERE event_id = $1 AND claimed_by = $2 AND status = 'pending'"
        ))
        .await
        .map_err(pg(op))?;
    let n = tx
        .execute(&stmt, &[&event_id, &worker, &ms(at)])
        .await
        .map_err(pg(op))?;
    Ok(n == 1)
}

/// [`release`], and this claim uncounted (the event waited, it did not fail).
pub(super) async fn defer(
    tx: &Tx<'_>,
    event_id: &str,
    worker: &str,
    at: Timestamp,
) -> Result<bool> {
    change_held(
        tx,
        "defer-event",
        "claimed_by = NULL, lease_until = NULL, next_attempt_at = $3, claims = greatest(claims - 1, 0)",
        event_id,
        worker,
        at,
    )
    .await
}

pub(super) async fn renew(
    tx: &Tx<'_>,
    worker: &str,
    until: Timestamp,
    now: Timestamp,
) -> Result<u64> {
    let op = "renew-claims";
    // Pending rows only; a lease that expired may have been claimed by
    // another worker already, and `claimed_by` says so.
    let stmt = tx
        .prepare_cached(
            "UPDATE inbox SET lease_until = $2
             WHERE status = 'pending' AND claimed_by = $1 AND lease_until > $3",
        )
        .await
        .map_err(pg(op))?;
    tx.execute(&stmt, &[&worker, &ms(until), &ms(now)])
        .await
        .map_err(pg(op))
}

async fn start_suspect(tx: &Tx<'_>, event_id: &str, worker: &str) -> Result<bool> {
    let op = "start-suspect";
    let stmt = tx
        .prepare_cached(
            "UPDATE inbox SET started_by = $2
             WHERE event_id = $1 AND claimed_by = $2 AND status = 'pending'",
        )
        .await
        .map_err(pg(op))?;
    let n = tx
        .execute(&stmt, &[&event_id, &worker])
        .await
        .map_err(pg(op))?;
    Ok(n == 1)
}

pub(super) async fn complete_host(
    tx: &Tx<'_>,
    event_id: &str,
    worker: &str,
    now: Timestamp,
) -> Result<bool> {
    change_held(
        tx,
        "complete-host-event",
        "status = 'done', done_at = $3, claimed_by = NULL, lease_until = NULL",
        event_id,
        worker,
        now,
    )
    .await
}

pub(super) async fn fail_host(
    tx: &Tx<'_>,
    event_id: &str,
    worker: &str,
    failure: &FailureRecord,
    now: Timestamp,
) -> Result<Option<i64>> {
    let op = "fail-host-event";
    let row = tx
        .query_opt(
            "SELECT shop, claims FROM inbox WHERE event_id = $1 AND claimed_by = $2 AND status = 'pending'",
            &[&event_id, &worker],
        )
        .await
        .map_err(pg(op))?;
    let Some(row) = row else {
        return Ok(None);
    };
    let (shop, claims): (String, i64) = (row.get(0), row.get(1));
    let id = super::admin::insert_dead_letter(
        tx,
        DeadLetterKind::Event,
        &shop,
        event_id,
        None,
        None,
        failure,
        claims,
        ms(now),
    )
    .await?;
    complete_host(tx, event_id, worker, now).await?;
    Ok(Some(id))
}

pub(super) async fn stats(tx: &Tx<'_>, now: Timestamp) -> Result<InboxStats> {
    let op = "stats";
    // The first two from the partial index `inbox_pending` (an index-only
    // scan once the table is vacuumed).
    let stmt = tx
        .prepare_cached(
            "SELECT
                (SELECT count(*) FROM inbox WHERE status = 'pending'),
                (SELECT count(*) FROM inbox WHERE status = 'pending' AND next_attempt_at <= $1),
                (SELECT count(*) FROM journal WHERE status IN ('pending', 'in-flight')),
                (SELECT count(*) FROM dead_letters WHERE state = 'open'),
                (SELECT count(*) FROM installations WHERE quarantined_at IS NOT NULL)",
        )
        .await
        .map_err(pg(op))?;
    let r = tx.query_one(&stmt, &[&ms(now)]).await.map_err(pg(op))?;
    let n = |i: usize| u64::try_from(r.get::<_, i64>(i)).unwrap_or(0);
    Ok(InboxStats {
        pending: n(0),
        ready: n(1),
        journal_pending: n(2),
        dead_letters_open: n(3),
        quarantined: n(4),
    })
}

#[async_trait]
impl InboxStore for PostgresStorage {
    async fn insert_event(&self, event: NewEvent) -> Result<Inserted> {
        write_tx!(self, "insert-event", |tx| insert(tx, &event).await)
    }

    async fn claim_events(&self, claim: Claim) -> Result<Vec<ClaimedEvent>> {
        write_tx!(self, "claim-events", |tx| super::inbox::claim(tx, &claim)
            .await)
    }

    async fn finish_event(&self, finish: EventFinish) -> Result<FinishReport> {
        write_tx!(self, "finish-event", |tx| super::inbox::finish(tx, &finish)
            .await)
    }

    async fn release_event(&self, event_id: &str, worker: &str, at: Timestamp) -> Result<bool> {
        write_tx!(self, "release-event", |tx| release(
            tx, event_id, worker, at
        )
        .await)
    }

    async fn start_suspect(&self, event_id: &str, worker: &str) -> Result<bool> {
        write_tx!(self, "start-suspect", |tx| start_suspect(
            tx, event_id, worker
        )
        .await)
    }

    async fn defer_event(&self, event_id: &str, worker: &str, at: Timestamp) -> Result<bool> {
        write_tx!(self, "defer-event", |tx| defer(tx, event_id, worker, at)
            .await)
    }

    async fn renew_claims(&self, worker: &str, until: Timestamp, now: Timestamp) -> Result<u64> {
        write_tx!(self, "renew-claims", |tx| renew(tx, worker, until, now)
            .await)
    }

    async fn complete_host_event(
        &self,
        event_id: &str,
        worker: &str,
        now: Timestamp,
    ) -> Result<bool> {
        write_tx!(self, "complete-host-event", |tx| complete_host(
            tx, event_id, worker, now
        )
        .await)
    }

    async fn fail_host_event(
        &self,
        event_id: &str,
        worker: &str,
        failure: FailureRecord,
        now: Timestamp,
    ) -> Result<Option<i64>> {
        write_tx!(self, "fail-host-event", |tx| fail_host(
            tx, event_id, worker, &failure, now
        )
        .await)
    }

    async fn event(&self, event_id: &str) -> Result<Option<StoredEvent>> {
        read_tx!(self, "get-event", |tx| get(tx, event_id).await)
    }

    async fn dispatch_rows(&self, event_id: &str) -> Result<Vec<DispatchRow>> {
        read_tx!(self, "dispatch-rows", |tx| super::inbox::dispatch_rows(
            tx, event_id
        )
        .await)
    }

    async fn stats(&self, now: Timestamp) -> Result<InboxStats> {
        read_tx!(self, "stats", |tx| super::inbox::stats(tx, now).await)
    }
}
