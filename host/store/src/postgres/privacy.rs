//! Privacy requests against the PostgreSQL tables. What is scrubbed, and
//! how, is described in [`crate::privacy`]; which rows are a customer's,
//! and how a stored text is scrubbed, is decided by the same functions as
//! on SQLite (`sqlite/privacy.rs`'s pure helpers); only the SQL is this
//! engine's.
//!
//! # Space after a redaction
//! SQLite's `secure_delete` and its WAL truncation after a redaction have
//! no PostgreSQL counterpart: an `UPDATE` writes a new row version and a
//! `DELETE` only marks the old one dead, so the overwritten payloads and
//! the deleted rows stay in the table's data files (and in the WAL and any
//! WAL archive or base backup) until `VACUUM` reclaims the space and later
//! writes reuse it. Autovacuum does this in time; an operator who must
//! show the bytes are gone runs `VACUUM` on the store's tables (`inbox`,
//! `journal`, `kv`, … — `SHOP_TABLES` in `sqlite/privacy.rs`) and sees to
//! the retention of WAL archives and backups.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{PostgresStorage, Tx, pg, read_tx, write_tx};
use crate::convert::{ms, ts};
use crate::error::Result;
use crate::privacy::Needles;
use crate::sqlite::REDACT_BATCH;
use crate::sqlite::privacy::{
    SHOP_TABLES, is_related_event, related_by_columns, scrub_json_text, scrub_plain,
};
use crate::values::*;

/// Rows fetched at a time when a whole store's inbox is read.
const FETCH: i32 = 512;

/// The needles for a customer: the request's identifiers, plus what the
/// customer's own events (by customer id or named order) reveal.
pub(super) async fn needles(tx: &Tx<'_>, who: &CustomerIdentity) -> Result<Needles> {
    let op = "privacy";
    let mut ids = vec![who.customer_id];
    ids.extend(&who.orders);
    let mut n = Needles::new(&who.emails, &who.phones, &ids);
    // Streamed through a portal, a batch at a time: a store's inbox can be
    // large.
    let stmt = tx
        .prepare_cached("SELECT payload FROM inbox WHERE shop = $1 ORDER BY seq")
        .await
        .map_err(pg(op))?;
    let portal = tx.bind(&stmt, &[&who.shop]).await.map_err(pg(op))?;
    loop {
        let rows = tx.query_portal(&portal, FETCH).await.map_err(pg(op))?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let payload: &str = row.get(0);
            if is_related_event(payload, who)
                && let Ok(v) = serde_json::from_str::<Value>(payload)
            {
                n.learn_from(&v, who.customer_id);
            }
        }
    }
    Ok(n)
}

/// One batch of a store's rows by `seq`: `sql` selects `seq` first, with
/// the store, `after` and the limit as `$1`, `$2`, `$3`. Returns the rows
/// and the last `seq` examined, `None` when the batch was the last.
async fn batch(
    tx: &Tx<'_>,
    sql: &str,
    shop: &str,
    after: i64,
    limit: usize,
) -> Result<(Vec<tokio_postgres::Row>, Option<i64>)> {
    let op = "redact-customer";
    let select = tx.prepare_cached(sql).await.map_err(pg(op))?;
    let rows = tx
        .query(
            &select,
            &[&shop, &after, &i64::try_from(limit).unwrap_or(i64::MAX)],
        )
        .await
        .map_err(pg(op))?;
    let last = (rows.len() >= limit)
        .then(|| rows.last().map(|r| r.get::<_, i64>(0)))
        .flatten();
    Ok((rows, last))
}

/// Scrub the inbox payloads of events `after < seq`, at most `limit` of
/// them: one transaction of a batched redaction, so that a large inbox is
/// not rewritten (and its rows locked against claims) in one long
/// transaction. Returns the events scrubbed and the last `seq` examined
/// (`None`: no more).
pub(super) async fn redact_events(
    tx: &Tx<'_>,
    who: &CustomerIdentity,
    n: &Needles,
    after: i64,
    limit: usize,
    now: Timestamp,
) -> Result<(u64, Option<i64>)> {
    let op = "redact-customer";
    let (rows, last) = batch(
        tx,
        "SELECT seq, topic, payload, customer_id, order_id FROM inbox
         WHERE shop = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        &who.shop,
        after,
        limit,
    )
    .await?;
    let update = tx
        .prepare_cached("UPDATE inbox SET payload = $2, redacted_at = $3 WHERE seq = $1")
        .await
        .map_err(pg(op))?;
    let mut scrubbed_events = 0;
    for row in rows {
        let (seq, topic, payload): (i64, &str, &str) = (row.get(0), row.get(1), row.get(2));
        if related_by_columns(row.get(3), row.get(4), who)
            || is_related_event(payload, who)
            || n.mentioned_in(payload)
        {
            let scrubbed = n.scrub_payload(topic, payload);
            if scrubbed != payload {
                tx.execute(&update, &[&seq, &scrubbed, &ms(now)])
                    .await
                    .map_err(pg(op))?;
                scrubbed_events += 1;
            }
        }
    }
    Ok((scrubbed_events, last))
}

/// Scrub the journal entries `after < seq` of the customer's store, at most
/// `limit` of them: a batch of its own transaction, like the inbox's (the
/// journal grows with every event until retention). Returns the entries
/// scrubbed and the last `seq` examined (`None`: no more).
pub(super) async fn redact_journal(
    tx: &Tx<'_>,
    who: &CustomerIdentity,
    n: &Needles,
    after: i64,
    limit: usize,
) -> Result<(u64, Option<i64>)> {
    let op = "redact-customer";
    let (rows, last) = batch(
        tx,
        "SELECT seq, action, result, error_message FROM journal
         WHERE shop = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        &who.shop,
        after,
        limit,
    )
    .await?;
    let update = tx
        .prepare_cached(
            "UPDATE journal SET action = $2, result = $3, error_message = $4 WHERE seq = $1",
        )
        .await
        .map_err(pg(op))?;
    let mut scrubbed = 0;
    for row in rows {
        let seq: i64 = row.get(0);
        let mut changed = false;
        let action = scrub_json_text(n, row.get(1), &mut changed);
        let result = row
            .get::<_, Option<&str>>(2)
            .map(|r| scrub_json_text(n, r, &mut changed));
        let error = row
            .get::<_, Option<&str>>(3)
            .map(|e| scrub_plain(n, e, &mut changed));
        if changed {
            tx.execute(&update, &[&seq, &action, &result, &error])
                .await
                .map_err(pg(op))?;
            scrubbed += 1;
        }
    }
    Ok((scrubbed, last))
}

/// The rest of a customer's redaction, after the inbox and the journal:
/// key-value data, timers, records, held operations (each bounded per
/// plugin by its quota or cap).
pub(super) async fn redact_records(
    tx: &Tx<'_>,
    who: &CustomerIdentity,
    n: &Needles,
) -> Result<RedactionReport> {
    let op = "redact-customer";
    let mut report = RedactionReport::default();

    // Key-value entries that mention the customer are deleted.
    let rows = tx
        .query(
            "SELECT plugin_id, key, value FROM kv WHERE shop = $1",
            &[&who.shop],
        )
        .await
        .map_err(pg(op))?;
    for row in rows {
        let (plugin, key, value): (&str, &str, &str) = (row.get(0), row.get(1), row.get(2));
        if n.mentioned_with_ids_in(key) || n.mentioned_with_ids_in(value) {
            tx.execute(
                "DELETE FROM kv WHERE shop = $1 AND plugin_id = $2 AND key = $3",
                &[&who.shop, &plugin, &key],
            )
            .await
            .map_err(pg(op))?;
            report.kv += 1;
        }
    }

    // Timers' data.
    let rows = tx
        .query("SELECT id, data FROM timers WHERE shop = $1", &[&who.shop])
        .await
        .map_err(pg(op))?;
    for row in rows {
        let id: i64 = row.get(0);
        let mut changed = false;
        let data = scrub_json_text(n, row.get(1), &mut changed);
        if changed {
            tx.execute("UPDATE timers SET data = $2 WHERE id = $1", &[&id, &data])
                .await
                .map_err(pg(op))?;
            report.timers += 1;
        }
    }

    // Free text in records: dead letters, dispatch failures, audit details.
    for (select, update) in [
        (
            "SELECT id, reason FROM dead_letters WHERE shop = $1",
            "UPDATE dead_letters SET reason = $2 WHERE id = $1",
        ),
        (
            "SELECT id, details FROM audit WHERE shop = $1",
            "UPDATE audit SET details = $2 WHERE id = $1",
        ),
    ] {
        report.records += scrub_column(tx, n, &who.shop, select, update).await?;
    }
    report.records += scrub_dispatch(tx, n, &who.shop).await?;
    report.records += scrub_held(tx, n, &who.shop).await?;
    Ok(report)
}

async fn scrub_column(
    tx: &Tx<'_>,
    n: &Needles,
    shop: &str,
    select: &str,
    update: &str,
) -> Result<u64> {
    let op = "redact-customer";
    let rows = tx.query(select, &[&shop]).await.map_err(pg(op))?;
    let mut count = 0;
    for row in rows {
        let id: i64 = row.get(0);
        let mut changed = false;
        let scrubbed = scrub_json_text(n, row.get(1), &mut changed);
        if changed {
            tx.execute(update, &[&id, &scrubbed])
                .await
                .map_err(pg(op))?;
            count += 1;
        }
    }
    Ok(count)
}

async fn scrub_dispatch(tx: &Tx<'_>, n: &Needles, shop: &str) -> Result<u64> {
    let op = "redact-customer";
    let rows = tx
        .query(
            "SELECT event_id, plugin_id, failure_message FROM dispatch
             WHERE shop = $1 AND failure_message IS NOT NULL",
            &[&shop],
        )
        .await
        .map_err(pg(op))?;
    let mut count = 0;
    for row in rows {
        let (event, plugin): (&str, &str) = (row.get(0), row.get(1));
        let mut changed = false;
        let scrubbed = scrub_plain(n, row.get(2), &mut changed);
        if changed {
            tx.execute(
                "UPDATE dispatch SET failure_message = $3 WHERE event_id = $1 AND plugin_id = $2",
                &[&event, &plugin, &scrubbed],
            )
            .await
            .map_err(pg(op))?;
            count += 1;
        }
    }
    Ok(count)
}

/// Operations held for an approval: the operation (a note's text, a
/// metafield's value) and the approver's comment can name the customer.
async fn scrub_held(tx: &Tx<'_>, n: &Needles, shop: &str) -> Result<u64> {
    let op = "redact-customer";
    let rows = tx
        .query(
            "SELECT task_id, operation, decision_comment FROM held_operations WHERE shop = $1",
            &[&shop],
        )
        .await
        .map_err(pg(op))?;
    let mut count = 0;
    for row in rows {
        let task: &str = row.get(0);
        let mut changed = false;
        let operation = scrub_json_text(n, row.get(1), &mut changed);
        let comment = row
            .get::<_, Option<&str>>(2)
            .map(|t| scrub_plain(n, t, &mut changed));
        if changed {
            tx.execute(
                "UPDATE held_operations SET operation = $2, decision_comment = $3 WHERE task_id = $1",
                &[&task, &operation, &comment],
            )
            .await
            .map_err(pg(op))?;
            count += 1;
        }
    }
    Ok(count)
}

/// Delete every row of a store, table by table (`SHOP_TABLES`, SQLite's
/// order), and audit it, in one transaction. The deleted tuples stay in
/// the data files until `VACUUM` (see the module docs).
pub(super) async fn redact_shop(
    tx: &Tx<'_>,
    shop: &str,
    now: Timestamp,
) -> Result<ShopRedactionReport> {
    let op = "redact-shop";
    let mut deleted = BTreeMap::new();
    for (table, column) in SHOP_TABLES {
        let n = tx
            .execute(
                &format!("DELETE FROM {table} WHERE {column} = $1"),
                &[&shop],
            )
            .await
            .map_err(pg(op))?;
        deleted.insert((*table).to_owned(), n);
    }
    super::admin::insert_audit(
        tx,
        &NewAudit {
            actor: "host".into(),
            action: "shop.redact".into(),
            shop: Some(shop.to_owned()),
            plugin_id: None,
            details: json!({"deleted": deleted}),
            at: now,
        },
    )
    .await?;
    Ok(ShopRedactionReport { deleted })
}

pub(super) async fn customer_data(tx: &Tx<'_>, who: &CustomerIdentity) -> Result<CustomerData> {
    let op = "customer-data";
    let n = needles(tx, who).await?;
    let mut out = CustomerData::default();
    let events = tx
        .query(
            "SELECT event_id, topic, payload, received_at, status, customer_id, order_id FROM inbox
             WHERE shop = $1 ORDER BY seq",
            &[&who.shop],
        )
        .await
        .map_err(pg(op))?;
    for row in events {
        let payload: String = row.get(2);
        if related_by_columns(row.get(5), row.get(6), who) || n.mentioned_in(&payload) {
            let (id, topic, status): (&str, &str, &str) = (row.get(0), row.get(1), row.get(4));
            out.events.push(json!({
                "event_id": id, "topic": topic, "status": status,
                "received_at": shopcase_contract::time::format(ts(row.get(3))),
                "payload": serde_json::from_str::<Value>(&payload).unwrap_or(Value::String(payload)),
            }));
        }
    }
    let journal = tx
        .query(
            "SELECT idempotency_key, plugin_id, action, status, customer_id, order_id FROM journal
             WHERE shop = $1 ORDER BY seq",
            &[&who.shop],
        )
        .await
        .map_err(pg(op))?;
    for row in journal {
        let action: String = row.get(2);
        if related_by_columns(row.get(4), row.get(5), who) || n.mentioned_in(&action) {
            let (key, plugin, status): (&str, &str, &str) = (row.get(0), row.get(1), row.get(3));
            out.journal.push(json!({
                "idempotency_key": key, "plugin": plugin, "status": status,
                "action": serde_json::from_str::<Value>(&action).unwrap_or(Value::String(action)),
            }));
        }
    }
    let kv = tx
        .query(
            "SELECT plugin_id, key, value FROM kv WHERE shop = $1 ORDER BY plugin_id, key",
            &[&who.shop],
        )
        .await
        .map_err(pg(op))?;
    for row in kv {
        let (plugin, key, value): (&str, &str, &str) = (row.get(0), row.get(1), row.get(2));
        if n.mentioned_with_ids_in(key) || n.mentioned_with_ids_in(value) {
            out.kv
                .push(json!({"plugin": plugin, "key": key, "value": value}));
        }
    }
    for link in super::links::for_customer(tx, &who.shop, who.customer_id, &who.orders).await? {
        out.case_links
            .push(serde_json::to_value(&link).unwrap_or(Value::Null));
    }
    for t in super::timers::list(tx, &who.shop).await? {
        let mine = t.resources.customer_id == Some(who.customer_id)
            || t.resources
                .order_id
                .is_some_and(|o| who.orders.contains(&o))
            || n.mentioned_in(&t.data);
        if mine {
            out.timers
                .push(serde_json::to_value(&t).unwrap_or(Value::Null));
        }
    }
    Ok(out)
}

pub(super) async fn record(tx: &Tx<'_>, r: &PrivacyRecord) -> Result<()> {
    tx.execute(
        "INSERT INTO privacy_requests (shop, topic, customer_id, event_id, file, summary, at, body_sha256)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &r.shop,
            &r.topic,
            &r.customer_id.and_then(|i| i64::try_from(i).ok()),
            &r.event_id,
            &r.file,
            &r.summary.to_string(),
            &ms(r.at),
            &r.body_sha256.as_ref().map(|d| d.as_slice()),
        ],
    )
    .await
    .map_err(pg("record-privacy"))?;
    Ok(())
}

pub(super) async fn records(
    tx: &Tx<'_>,
    shops: Option<&[String]>,
    limit: usize,
) -> Result<Vec<PrivacyRecord>> {
    let op = "privacy-records";
    let stmt = tx
        .prepare_cached(
            "SELECT shop, topic, customer_id, event_id, file, summary, at FROM privacy_requests
             WHERE $1::text[] IS NULL OR shop = ANY($1)
             ORDER BY id DESC LIMIT $2",
        )
        .await
        .map_err(pg(op))?;
    let rows = tx
        .query(&stmt, &[&shops, &i64::try_from(limit).unwrap_or(i64::MAX)])
        .await
        .map_err(pg(op))?;
    Ok(rows
        .iter()
        .map(|r| {
            let summary: String = r.get(5);
            PrivacyRecord {
                shop: r.get(0),
                topic: r.get(1),
                customer_id: r
                    .get::<_, Option<i64>>(2)
                    .and_then(|i| u64::try_from(i).ok()),
                event_id: r.get(3),
                file: r.get(4),
                summary: serde_json::from_str(&summary).unwrap_or(Value::String(summary)),
                at: ts(r.get(6)),
                body_sha256: None,
            }
        })
        .collect())
}

#[async_trait]
impl PrivacyStore for PostgresStorage {
    async fn customer_needles(&self, who: CustomerIdentity) -> Result<Needles> {
        read_tx!(self, "privacy", |tx| needles(tx, &who).await)
    }

    /// What identifies the customer, read in one snapshot; then the inbox
    /// and the journal in batches of `REDACT_BATCH` rows, each its own
    /// short transaction, so that no transaction rewrites (and holds
    /// against claims and conflicting writers) a large part of a store;
    /// then everything else (bounded by quotas and caps) in one
    /// transaction. A crash part-way leaves the request to run again (it is
    /// idempotent). SQLite truncates its WAL afterwards; here the
    /// overwritten row versions stay in the data files until `VACUUM` (see
    /// the module docs).
    async fn redact_customer(
        &self,
        who: CustomerIdentity,
        now: Timestamp,
    ) -> Result<RedactionReport> {
        let needles = read_tx!(self, "redact-customer", |tx| needles(tx, &who).await)?;
        let (mut events, mut after) = (0, 0);
        loop {
            let (count, last) = write_tx!(self, "redact-customer", |tx| {
                redact_events(tx, &who, &needles, after, REDACT_BATCH, now).await
            })?;
            events += count;
            match last {
                Some(seq) => after = seq,
                None => break,
            }
        }
        let (mut journal, mut after) = (0, 0);
        loop {
            let (count, last) = write_tx!(self, "redact-customer", |tx| {
                redact_journal(tx, &who, &needles, after, REDACT_BATCH).await
            })?;
            journal += count;
            match last {
                Some(seq) => after = seq,
                None => break,
            }
        }
        let mut report = write_tx!(self, "redact-customer", |tx| {
            redact_records(tx, &who, &needles).await
        })?;
        report.events = events;
        report.journal = journal;
        Ok(report)
    }

    async fn uninstalled(&self, shop: &str) -> Result<Option<Uninstall>> {
        read_tx!(self, "uninstalled", |tx| super::admin::uninstalled(
            tx, shop
        )
        .await)
    }

    /// In one transaction, as on SQLite; the deleted tuples stay in the
    /// data files until `VACUUM` (see the module docs).
    async fn redact_shop(&self, shop: &str, now: Timestamp) -> Result<ShopRedactionReport> {
        write_tx!(self, "redact-shop", |tx| redact_shop(tx, shop, now).await)
    }

    async fn customer_data(&self, who: CustomerIdentity) -> Result<CustomerData> {
        read_tx!(self, "customer-data", |tx| customer_data(tx, &who).await)
    }

    async fn record_privacy(&self, record: PrivacyRecord) -> Result<()> {
        write_tx!(self, "record-privacy", |tx| super::privacy::record(
            tx, &record
        )
        .await)
    }

    async fn privacy_records(
        &self,
        shops: Option<Vec<String>>,
        limit: usize,
    ) -> Result<Vec<PrivacyRecord>> {
        read_tx!(self, "privacy-records", |tx| records(
            tx,
            shops.as_deref(),
            limit
        )
        .await)
    }
}
