//! Plugins' key-value data, per (store, plugin), with versions for
//! optimistic concurrency and expiry.
//!
//! Expiry is in event time: an entry written for an event triggered at `T`
//! with a time-to-live `S` expires at `T + S`, and reads, usage and the
//! commit's version check judge it at the reading event's `triggered_at`
//! (`at`). Purging is housekeeping in processing time, with a grace the
//! caller chooses, so that an event delivered late still sees what was
//! live at its time.

use rusqlite::{Connection, OptionalExtension, params};

use async_trait::async_trait;

use super::SqliteStorage;
use super::{db, ms, ts_opt};
use crate::error::Result;
use crate::values::*;

pub(super) fn get(
    c: &Connection,
    shop: &str,
    plugin: &str,
    key: &str,
    at: Timestamp,
) -> Result<Option<KvValue>> {
    c.prepare_cached(
        "SELECT value, version, expires_at FROM kv
         WHERE shop = ?1 AND plugin_id = ?2 AND key = ?3 AND (expires_at IS NULL OR expires_at > ?4)",
    )
    .and_then(|mut s| {
        s.query_row(params![shop, plugin, key, ms(at)], |r| {
            Ok(KvValue {
                value: r.get(0)?,
                version: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                expires_at: ts_opt(r.get(2)?),
            })
        })
        .optional()
    })
    .map_err(db("kv-get"))
}

pub(super) fn stats(c: &Connection, shop: &str, plugin: &str, at: Timestamp) -> Result<KvStats> {
    let (keys, bytes): (i64, i64) = c
        .prepare_cached(
            "SELECT count(*), coalesce(sum(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))), 0) FROM kv
             WHERE shop = ?1 AND plugin_id = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
        )
        .and_then(|mut s| s.query_row(params![shop, plugin, ms(at)], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(db("kv-stats"))?;
    Ok(KvStats {
        keys: u64::try_from(keys).unwrap_or(0),
        bytes: u64::try_from(bytes).unwrap_or(0),
    })
}

/// Whether every key read still has the version the invocation saw
/// (keys expired at the event's time `at` count as absent, as they did for
/// the plugin).
pub(super) fn reads_unchanged(
    c: &Connection,
    shop: &str,
    plugin: &str,
    reads: &[KvRead],
    at: i64,
) -> Result<bool> {
    if reads.is_empty() {
        return Ok(true);
    }
    let mut q = c
        .prepare_cached(
            "SELECT version FROM kv
             WHERE shop = ?1 AND plugin_id = ?2 AND key = ?3 AND (expires_at IS NULL OR expires_at > ?4)",
        )
        .map_err(db("kv-check"))?;
    for read in reads {
        let current: Option<i64> = q
            .query_row(params![shop, plugin, read.key, at], |r| r.get(0))
            .optional()
            .map_err(db("kv-check"))?;
        if current.and_then(|v| u64::try_from(v).ok()) != read.version {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Apply writes; each set gets a fresh store-wide version.
pub(super) fn apply_writes(
    c: &Connection,
    shop: &str,
    plugin: &str,
    writes: &[KvWrite],
    now: i64,
) -> Result<()> {
    if writes.is_empty() {
        return Ok(());
    }
    let op = "kv-write";
    let mut bump = c
        .prepare_cached(
            "UPDATE meta SET value = value + 1 WHERE name = 'kv_version' RETURNING value",
        )
        .map_err(db(op))?;
    let mut set = c
        .prepare_cached(
            "INSERT INTO kv (shop, plugin_id, key, value, version, expires_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (shop, plugin_id, key) DO UPDATE SET value = excluded.value, version = excluded.version,
                expires_at = excluded.expires_at, updated_at = excluded.updated_at",
        )
        .map_err(db(op))?;
    let mut delete = c
        .prepare_cached("DELETE FROM kv WHERE shop = ?1 AND plugin_id = ?2 AND key = ?3")
        .map_err(db(op))?;
    for w in writes {
        match &w.value {
            Some(value) => {
                let version: i64 = bump.query_row([], |r| r.get(0)).map_err(db(op))?;
                set.execute(params![
                    shop,
                    plugin,
                    w.key,
                    value,
                    version,
                    w.expires_at.map(ms),
                    now
                ])
                .map_err(db(op))?;
            }
            None => {
                delete
                    .execute(params![shop, plugin, w.key])
                    .map_err(db(op))?;
            }
        }
    }
    Ok(())
}

/// Delete the entries that expired at or before `before`.
pub(super) fn purge_expired(c: &Connection, before: Timestamp) -> Result<u64> {
    let n = c
        .execute(
            "DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?1",
            [ms(before)],
        )
        .map_err(db("kv-purge"))?;
    Ok(n as u64)
}

#[async_trait]
impl KvStore for SqliteStorage {
    async fn kv_get(
        &self,
        shop: &str,
        plugin_id: &str,
        key: &str,
        at: Timestamp,
    ) -> Result<Option<KvValue>> {
        let (s, p, k) = (shop.to_owned(), plugin_id.to_owned(), key.to_owned());
        self.read(move |c| super::kv::get(c, &s, &p, &k, at)).await
    }

    async fn kv_stats(&self, shop: &str, plugin_id: &str, at: Timestamp) -> Result<KvStats> {
        let (s, p) = (shop.to_owned(), plugin_id.to_owned());
        self.read(move |c| super::kv::stats(c, &s, &p, at)).await
    }

    async fn kv_purge_expired(&self, before: Timestamp) -> Result<u64> {
        self.write("kv-purge", move |c| super::kv::purge_expired(c, before))
            .await
    }
}
