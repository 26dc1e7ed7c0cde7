//! Privacy requests against the SQLite tables. What is scrubbed, and how,
//! is described in [`crate::privacy`].

use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::{Connection, params};
use serde_json::{Value, json};

use async_trait::async_trait;

use super::SqliteStorage;
use super::{REDACT_BATCH, db, ms, ts};
use crate::error::Result;
use crate::privacy::Needles;
use crate::values::*;

/// The needles for a customer: the request's identifiers, plus what the
/// customer's own events (by customer id or named order) reveal.
pub(super) fn needles(c: &Connection, who: &CustomerIdentity) -> Result<Needles> {
    let mut ids = vec![who.customer_id];
    ids.extend(&who.orders);
    let mut n = Needles::new(&who.emails, &who.phones, &ids);
    // Streamed: a store's inbox can be large.
    let mut stmt = c
        .prepare_cached("SELECT payload FROM inbox WHERE shop = ?1 ORDER BY seq")
        .map_err(db("privacy"))?;
    let mut rows = stmt.query([&who.shop]).map_err(db("privacy"))?;
    while let Some(row) = rows.next().map_err(db("privacy"))? {
        let payload: String = row.get(0).map_err(db("privacy"))?;
        if is_related_event(&payload, who)
            && let Ok(v) = serde_json::from_str::<Value>(&payload)
        {
            n.learn_from(&v, who.customer_id);
        }
    }
    Ok(n)
}

/// `(seq, topic, payload, customer_id, order_id)` of an event.
type EventRow = (i64, String, String, Option<i64>, Option<i64>);

/// The payload fields that say whose an event is. Deserialising only these
/// skims the rest of the payload without building a tree: the scan reads
/// every event of the store, and most are about someone else.
#[derive(serde::Deserialize)]
struct Whose {
    id: Option<Value>,
    order_id: Option<Value>,
    customer_id: Option<Value>,
    customer: Option<Value>,
}

/// Whether an event payload is about the customer: its customer, or one of
/// the named orders. (Also checked by the indexed columns below.)
pub(crate) fn is_related_event(payload: &str, who: &CustomerIdentity) -> bool {
    // The object form only (a derived struct also reads an array).
    if !payload.trim_start().starts_with('{') {
        return false;
    }
    let Ok(v) = serde_json::from_str::<Whose>(payload) else {
        return false;
    };
    let id_of = shopcase_contract::event::id_of;
    id_of(v.customer.as_ref().and_then(|c| c.get("id"))) == Some(who.customer_id)
        || id_of(v.customer_id.as_ref()) == Some(who.customer_id)
        || id_of(v.id.as_ref()).is_some_and(|id| who.orders.contains(&id))
        || id_of(v.order_id.as_ref()).is_some_and(|id| who.orders.contains(&id))
}

pub(crate) fn related_by_columns(
    customer: Option<i64>,
    order: Option<i64>,
    who: &CustomerIdentity,
) -> bool {
    customer.and_then(|c| u64::try_from(c).ok()) == Some(who.customer_id)
        || order
            .and_then(|o| u64::try_from(o).ok())
            .is_some_and(|o| who.orders.contains(&o))
}

/// Scrub the inbox payloads of events `after < seq`, at most `limit` of
/// them: one write of a batched redaction, so that a large inbox does not
/// hold the writer (and the webhooks waiting on it) for long. Returns the
/// events scrubbed and the last `seq` examined (`None`: no more).
pub(super) fn redact_events(
    c: &Connection,
    who: &CustomerIdentity,
    n: &Needles,
    after: i64,
    limit: usize,
    now: Timestamp,
) -> Result<(u64, Option<i64>)> {
    let op = "redact-customer";
    let now_ms = ms(now);
    let rows: Vec<EventRow> = c
        .prepare_cached(
            "SELECT seq, topic, payload, customer_id, order_id FROM inbox
             WHERE shop = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .and_then(|mut s| {
            s.query_map(
                params![who.shop, after, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?
            .collect()
        })
        .map_err(db(op))?;
    let last = (rows.len() >= limit)
        .then(|| rows.last().map(|r| r.0))
        .flatten();
    let mut update = c
        .prepare_cached("UPDATE inbox SET payload = ?2, redacted_at = ?3 WHERE seq = ?1")
        .map_err(db(op))?;
    let mut scrubbed_events = 0;
    for (seq, topic, payload, customer, order) in rows {
        if related_by_columns(customer, order, who)
            || is_related_event(&payload, who)
            || n.mentioned_in(&payload)
        {
            let scrubbed = n.scrub_payload(&topic, &payload);
            if scrubbed != payload {
                update
                    .execute(params![seq, scrubbed, now_ms])
                    .map_err(db(op))?;
                scrubbed_events += 1;
            }
        }
    }
    Ok((scrubbed_events, last))
}

/// Scrub the journal entries `after < seq` of the customer's store, at most
/// `limit` of them: a batch of its own write, like the inbox's (the journal
/// grows with every event until retention). Returns the entries scrubbed
/// and the last `seq` examined (`None`: no more).
pub(super) fn redact_journal(
    c: &Connection,
    who: &CustomerIdentity,
    n: &Needles,
    after: i64,
    limit: usize,
) -> Result<(u64, Option<i64>)> {
    let op = "redact-customer";
    let rows: Vec<(i64, String, Option<String>, Option<String>)> = c
        .prepare_cached(
            "SELECT seq, action, result, error_message FROM journal
             WHERE shop = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .and_then(|mut s| {
            s.query_map(
                params![who.shop, after, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?
            .collect()
        })
        .map_err(db(op))?;
    let last = (rows.len() >= limit)
        .then(|| rows.last().map(|r| r.0))
        .flatten();
    let mut update = c
        .prepare_cached(
            "UPDATE journal SET action = ?2, result = ?3, error_message = ?4 WHERE seq = ?1",
        )
        .map_err(db(op))?;
    let mut scrubbed = 0;
    for (seq, action, result, error) in rows {
        let mut changed = false;
        let action = scrub_json_text(n, &action, &mut changed);
        let result = result.map(|r| scrub_json_text(n, &r, &mut changed));
        let error = error.map(|e| scrub_plain(n, &e, &mut changed));
        if changed {
            update
                .execute(params![seq, action, result, error])
                .map_err(db(op))?;
            scrubbed += 1;
        }
    }
    Ok((scrubbed, last))
}

/// The rest of a customer's redaction, after the inbox and the journal:
/// key-value data, timers, records, held operations (each bounded per
/// plugin by its quota or cap).
pub(super) fn redact_records(
    c: &Connection,
    who: &CustomerIdentity,
    n: &Needles,
) -> Result<RedactionReport> {
    let op = "redact-customer";
    let mut report = RedactionReport::default();

    // Key-value entries that mention the customer are deleted.
    let rows: Vec<(String, String, String)> = c
        .prepare_cached("SELECT plugin_id, key, value FROM kv WHERE shop = ?1")
        .and_then(|mut s| {
            s.query_map([&who.shop], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .map_err(db(op))?;
    for (plugin, key, value) in rows {
        if n.mentioned_with_ids_in(&key) || n.mentioned_with_ids_in(&value) {
            c.execute(
                "DELETE FROM kv WHERE shop = ?1 AND plugin_id = ?2 AND key = ?3",
                params![who.shop, plugin, key],
            )
            .map_err(db(op))?;
            report.kv += 1;
        }
    }

    // Timers' data.
    let rows: Vec<(i64, String)> = c
        .prepare_cached("SELECT id, data FROM timers WHERE shop = ?1")
        .and_then(|mut s| {
            s.query_map([&who.shop], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(db(op))?;
    for (id, data) in rows {
        let mut changed = false;
        let data = scrub_json_text(n, &data, &mut changed);
        if changed {
            c.execute(
                "UPDATE timers SET data = ?2 WHERE id = ?1",
                params![id, data],
            )
            .map_err(db(op))?;
            report.timers += 1;
        }
    }

    // Free text in records: dead letters, dispatch failures, audit details.
    for (select, update) in [
        (
            "SELECT id, reason FROM dead_letters WHERE shop = ?1",
            "UPDATE dead_letters SET reason = ?2 WHERE id = ?1",
        ),
        (
            "SELECT id, details FROM audit WHERE shop = ?1",
            "UPDATE audit SET details = ?2 WHERE id = ?1",
        ),
    ] {
        report.records += scrub_column(c, n, &who.shop, select, update)?;
    }
    report.records += scrub_dispatch(c, n, &who.shop)?;
    report.records += scrub_held(c, n, &who.shop)?;
    Ok(report)
}

pub(crate) fn scrub_json_text(n: &Needles, text: &str, changed: &mut bool) -> String {
    match serde_json::from_str::<Value>(text) {
        Ok(mut v) => {
            if n.scrub_json(&mut v) {
                *changed = true;
                v.to_string()
            } else {
                text.to_owned()
            }
        }
        Err(_) => scrub_plain(n, text, changed),
    }
}

pub(crate) fn scrub_plain(n: &Needles, text: &str, changed: &mut bool) -> String {
    let s = n.scrub_text(text);
    if s != text {
        *changed = true;
    }
    s
}

fn scrub_column(
    c: &Connection,
    n: &Needles,
    shop: &str,
    select: &str,
    update: &str,
) -> Result<u64> {
    let op = "redact-customer";
    let rows: Vec<(i64, String)> = c
        .prepare_cached(select)
        .and_then(|mut s| {
            s.query_map([shop], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(db(op))?;
    let mut count = 0;
    for (id, text) in rows {
        let mut changed = false;
        let scrubbed = scrub_json_text(n, &text, &mut changed);
        if changed {
            c.execute(update, params![id, scrubbed]).map_err(db(op))?;
            count += 1;
        }
    }
    Ok(count)
}

fn scrub_dispatch(c: &Connection, n: &Needles, shop: &str) -> Result<u64> {
    let op = "redact-customer";
    let rows: Vec<(String, String, String)> = c
        .prepare_cached(
            "SELECT event_id, plugin_id, failure_message FROM dispatch WHERE shop = ?1 AND failure_message IS NOT NULL",
        )
        .and_then(|mut s| s.query_map([shop], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
        .map_err(db(op))?;
    let mut count = 0;
    for (event, plugin, text) in rows {
        let mut changed = false;
        let scrubbed = scrub_plain(n, &text, &mut changed);
        if changed {
            c.execute(
                "UPDATE dispatch SET failure_message = ?3 WHERE event_id = ?1 AND plugin_id = ?2",
                params![event, plugin, scrubbed],
            )
            .map_err(db(op))?;
            count += 1;
        }
    }
    Ok(count)
}

/// Operations held for an approval: the operation (a note's text, a
/// metafield's value) and the approver's comment can name the customer.
fn scrub_held(c: &Connection, n: &Needles, shop: &str) -> Result<u64> {
    let op = "redact-customer";
    let rows: Vec<(String, String, Option<String>)> = c
        .prepare_cached(
            "SELECT task_id, operation, decision_comment FROM held_operations WHERE shop = ?1",
        )
        .and_then(|mut s| {
            s.query_map([shop], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .map_err(db(op))?;
    let mut count = 0;
    for (task, operation, comment) in rows {
        let mut changed = false;
        let operation = scrub_json_text(n, &operation, &mut changed);
        let comment = comment.map(|t| scrub_plain(n, &t, &mut changed));
        if changed {
            c.execute(
                "UPDATE held_operations SET operation = ?2, decision_comment = ?3 WHERE task_id = ?1",
                params![task, operation, comment],
            )
            .map_err(db(op))?;
            count += 1;
        }
    }
    Ok(count)
}

/// The tables holding a store's rows, in deletion order.
pub(crate) const SHOP_TABLES: &[(&str, &str)] = &[
    ("journal", "shop"),
    ("dispatch", "shop"),
    ("inbox", "shop"),
    ("dead_letters", "shop"),
    ("kv", "shop"),
    ("case_links", "shop"),
    ("held_operations", "shop"),
    ("timers", "shop"),
    ("installations", "shop"),
    ("privacy_requests", "shop"),
    ("audit", "shop"),
    ("stores", "domain"),
];

pub(super) fn redact_shop(
    c: &Connection,
    shop: &str,
    now: Timestamp,
) -> Result<ShopRedactionReport> {
    let op = "redact-shop";
    let mut deleted = BTreeMap::new();
    for (table, column) in SHOP_TABLES {
        let n = c
            .execute(&format!("DELETE FROM {table} WHERE {column} = ?1"), [shop])
            .map_err(db(op))?;
        deleted.insert((*table).to_owned(), n as u64);
    }
    super::admin::insert_audit(
        c,
        &NewAudit {
            actor: "host".into(),
            action: "shop.redact".into(),
            shop: Some(shop.to_owned()),
            plugin_id: None,
            details: json!({"deleted": deleted}),
            at: now,
        },
    )?;
    Ok(ShopRedactionReport { deleted })
}

pub(super) fn customer_data(c: &Connection, who: &CustomerIdentity) -> Result<CustomerData> {
    let op = "customer-data";
    let n = needles(c, who)?;
    let mut out = CustomerData::default();
    type Row = (
        String,
        String,
        String,
        i64,
        String,
        Option<i64>,
        Option<i64>,
    );
    let events: Vec<Row> = c
        .prepare_cached(
            "SELECT event_id, topic, payload, received_at, status, customer_id, order_id FROM inbox
             WHERE shop = ?1 ORDER BY seq",
        )
        .and_then(|mut s| {
            s.query_map([&who.shop], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })?
            .collect()
        })
        .map_err(db(op))?;
    for (id, topic, payload, received, status, customer, order) in events {
        if related_by_columns(customer, order, who) || n.mentioned_in(&payload) {
            out.events.push(json!({
                "event_id": id, "topic": topic, "status": status,
                "received_at": shopcase_contract::time::format(ts(received)),
                "payload": serde_json::from_str::<Value>(&payload).unwrap_or(Value::String(payload)),
            }));
        }
    }
    type JournalRow = (String, String, String, String, Option<i64>, Option<i64>);
    let journal: Vec<JournalRow> = c
        .prepare_cached(
            "SELECT idempotency_key, plugin_id, action, status, customer_id, order_id FROM journal
             WHERE shop = ?1 ORDER BY seq",
        )
        .and_then(|mut s| {
            s.query_map([&who.shop], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect()
        })
        .map_err(db(op))?;
    for (key, plugin, action, status, customer, order) in journal {
        if related_by_columns(customer, order, who) || n.mentioned_in(&action) {
            out.journal.push(json!({
                "idempotency_key": key, "plugin": plugin, "status": status,
                "action": serde_json::from_str::<Value>(&action).unwrap_or(Value::String(action)),
            }));
        }
    }
    let kv: Vec<(String, String, String)> = c
        .prepare_cached(
            "SELECT plugin_id, key, value FROM kv WHERE shop = ?1 ORDER BY plugin_id, key",
        )
        .and_then(|mut s| {
            s.query_map([&who.shop], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })
        .map_err(db(op))?;
    for (plugin, key, value) in kv {
        if n.mentioned_with_ids_in(&key) || n.mentioned_with_ids_in(&value) {
            out.kv
                .push(json!({"plugin": plugin, "key": key, "value": value}));
        }
    }
    for link in super::links::for_customer(c, &who.shop, who.customer_id, &who.orders)? {
        out.case_links
            .push(serde_json::to_value(&link).unwrap_or(Value::Null));
    }
    for t in super::timers::list(c, &who.shop)? {
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

pub(super) fn record(c: &Connection, r: &PrivacyRecord) -> Result<()> {
    c.execute(
        "INSERT INTO privacy_requests (shop, topic, customer_id, event_id, file, summary, at, body_sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            r.shop,
            r.topic,
            r.customer_id.and_then(|i| i64::try_from(i).ok()),
            r.event_id,
            r.file,
            r.summary.to_string(),
            ms(r.at),
            r.body_sha256.as_ref().map(|d| d.as_slice()),
        ],
    )
    .map_err(db("record-privacy"))?;
    Ok(())
}

pub(super) fn records(
    c: &Connection,
    shops: Option<&[String]>,
    limit: usize,
) -> Result<Vec<PrivacyRecord>> {
    let shops = shops
        .map(|s| super::to_json("query.shops", &s))
        .transpose()?;
    c.prepare_cached(
        "SELECT shop, topic, customer_id, event_id, file, summary, at FROM privacy_requests
         WHERE ?1 IS NULL OR shop IN (SELECT value FROM json_each(?1))
         ORDER BY id DESC LIMIT ?2",
    )
    .and_then(|mut s| {
        s.query_map(
            params![shops, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| {
                let summary: String = r.get(5)?;
                Ok(PrivacyRecord {
                    shop: r.get(0)?,
                    topic: r.get(1)?,
                    customer_id: r
                        .get::<_, Option<i64>>(2)?
                        .and_then(|i| u64::try_from(i).ok()),
                    event_id: r.get(3)?,
                    file: r.get(4)?,
                    summary: serde_json::from_str(&summary).unwrap_or(Value::String(summary)),
                    at: ts(r.get(6)?),
                    body_sha256: None,
                })
            },
        )?
        .collect()
    })
    .map_err(db("privacy-records"))
}

#[async_trait]
impl PrivacyStore for SqliteStorage {
    async fn customer_needles(&self, who: CustomerIdentity) -> Result<crate::privacy::Needles> {
        self.read(move |c| super::privacy::needles(c, &who)).await
    }

    async fn redact_customer(
        &self,
        who: CustomerIdentity,
        now: Timestamp,
    ) -> Result<RedactionReport> {
        // What identifies the customer, read on a reader connection; then
        // the inbox and the journal in batches, each its own short write,
        // so webhooks keep being committed during a large redaction; then
        // everything else (bounded by quotas and caps) in one write, after
        // which the WAL is truncated. A crash part-way leaves the request
        // to run again (it is idempotent).
        let w = who.clone();
        let needles = Arc::new(self.read(move |c| super::privacy::needles(c, &w)).await?);
        let (mut events, mut after) = (0, 0);
        loop {
            let (w, n) = (who.clone(), needles.clone());
            let (count, last) = self
                .write("redact-customer", move |c| {
                    super::privacy::redact_events(c, &w, &n, after, REDACT_BATCH, now)
                })
                .await?;
            events += count;
            match last {
                Some(seq) => after = seq,
                None => break,
            }
        }
        let (mut journal, mut after) = (0, 0);
        loop {
            let (w, n) = (who.clone(), needles.clone());
            let (count, last) = self
                .write("redact-customer", move |c| {
                    super::privacy::redact_journal(c, &w, &n, after, REDACT_BATCH)
                })
                .await?;
            journal += count;
            match last {
                Some(seq) => after = seq,
                None => break,
            }
        }
        let mut report = self
            .write_and_checkpoint("redact-customer", move |c| {
                super::privacy::redact_records(c, &who, &needles)
            })
            .await?;
        report.events = events;
        report.journal = journal;
        Ok(report)
    }

    async fn uninstalled(&self, shop: &str) -> Result<Option<Uninstall>> {
        let shop = shop.to_owned();
        self.read(move |c| super::admin::uninstalled(c, &shop))
            .await
    }

    async fn redact_shop(&self, shop: &str, now: Timestamp) -> Result<ShopRedactionReport> {
        let s = shop.to_owned();
        self.write_and_checkpoint("redact-shop", move |c| {
            super::privacy::redact_shop(c, &s, now)
        })
        .await
    }

    async fn customer_data(&self, who: CustomerIdentity) -> Result<CustomerData> {
        self.read(move |c| super::privacy::customer_data(c, &who))
            .await
    }

    async fn record_privacy(&self, record: PrivacyRecord) -> Result<()> {
        self.write("record-privacy", move |c| {
            super::privacy::record(c, &record)
        })
        .await
    }

    async fn privacy_records(
        &self,
        shops: Option<Vec<String>>,
        limit: usize,
    ) -> Result<Vec<PrivacyRecord>> {
        self.read(move |c| super::privacy::records(c, shops.as_deref(), limit))
            .await
    }
}
