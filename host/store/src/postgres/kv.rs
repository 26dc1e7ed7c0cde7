//! Plugins' key-value data on PostgreSQL (see `sqlite/kv.rs` for the
//! rules: expiry in event time, versions never reused).

use async_trait::async_trait;

use super::{PostgresStorage, Tx, pg, read_tx, write_tx};
use crate::convert::{ms, ts_opt};
use crate::error::Result;
use crate::values::*;

pub(super) async fn get(
    tx: &Tx<'_>,
    shop: &str,
    plugin: &str,
    key: &str,
    at: Timestamp,
) -> Result<Option<KvValue>> {
    let op = "kv-get";
    let stmt = tx
        .prepare_cached(
            "SELECT value, version, expires_at FROM kv
             WHERE shop = $1 AND plugin_id = $2 AND key = $3 AND (expires_at IS NULL OR expires_at > $4)",
        )
        .await
        .map_err(pg(op))?;
    let row = tx
        .query_opt(&stmt, &[&shop, &plugin, &key, &ms(at)])
        .await
        .map_err(pg(op))?;
    Ok(row.map(|r| KvValue {
        value: r.get(0),
        version: u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
        expires_at: ts_opt(r.get(2)),
    }))
}

pub(super) async fn stats(tx: &Tx<'_>, shop: &str, plugin: &str, at: Timestamp) -> Result<KvStats> {
    let op = "kv-stats";
    let row = tx
        .query_one(
            "SELECT count(*), coalesce(sum(octet_length(key) + octet_length(value)), 0)::bigint FROM kv
             WHERE shop = $1 AND plugin_id = $2 AND (expires_at IS NULL OR expires_at > $3)",
            &[&shop, &plugin, &ms(at)],
        )
        .await
        .map_err(pg(op))?;
    Ok(KvStats {
        keys: u64::try_from(row.get::<_, i64>(0)).unwrap_or(0),
        bytes: u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
    })
}

/// Whether every key read still has the version the invocation saw
/// (keys expired at the event's time `at` count as absent, as they did for
/// the plugin).
pub(super) async fn reads_unchanged(
    tx: &Tx<'_>,
    shop: &str,
    plugin: &str,
    reads: &[KvRead],
    at: i64,
) -> Result<bool> {
    let op = "kv-check";
    if reads.is_empty() {
        return Ok(true);
    }
    let stmt = tx
        .prepare_cached(
            "SELECT version FROM kv
             WHERE shop = $1 AND plugin_id = $2 AND key = $3 AND (expires_at IS NULL OR expires_at > $4)",
        )
        .await
        .map_err(pg(op))?;
    for read in reads {
        let current: Option<i64> = tx
            .query_opt(&stmt, &[&shop, &plugin, &read.key, &at])
            .await
            .map_err(pg(op))?
            .map(|r| r.get(0));
        if current.and_then(|v| u64::try_from(v).ok()) != read.version {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Apply writes; each set gets a fresh version from the `kv_version`
/// sequence (never reused, even by a rolled-back transaction).
pub(super) async fn apply_writes(
    tx: &Tx<'_>,
    shop: &str,
    plugin: &str,
    writes: &[KvWrite],
    now: i64,
) -> Result<()> {
    if writes.is_empty() {
        return Ok(());
    }
    let op = "kv-write";
    let set = tx
        .prepare_cached(
            "INSERT INTO kv (shop, plugin_id, key, value, version, expires_at, updated_at)
             VALUES ($1, $2, $3, $4, nextval('kv_version'), $5, $6)
             ON CONFLICT (shop, plugin_id, key) DO UPDATE SET value = excluded.value, version = excluded.version,
                expires_at = excluded.expires_at, updated_at = excluded.updated_at",
        )
        .await
        .map_err(pg(op))?;
    let delete = tx
        .prepare_cached("DELETE FROM kv WHERE shop = $1 AND plugin_id = $2 AND key = $3")
        .await
        .map_err(pg(op))?;
    for w in writes {
        match &w.value {
            Some(value) => {
                tx.execute(
                    &set,
                    &[&shop, &plugin, &w.key, value, &w.expires_at.map(ms), &now],
                )
                .await
                .map_err(pg(op))?;
            }
            None => {
                tx.execute(&delete, &[&shop, &plugin, &w.key])
                    .await
                    .map_err(pg(op))?;
            }
        }
    }
    Ok(())
}

/// Delete the entries that expired at or before `before`.
pub(super) async fn purge_expired(tx: &Tx<'_>, before: Timestamp) -> Result<u64> {
    tx.execute(
        "DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= $1",
        &[&ms(before)],
    )
    .await
    .map_err(pg("kv-purge"))
}

#[async_trait]
impl KvStore for PostgresStorage {
    async fn kv_get(
        &self,
        shop: &str,
        plugin_id: &str,
        key: &str,
        at: Timestamp,
    ) -> Result<Option<KvValue>> {
        read_tx!(self, "kv-get", |tx| get(tx, shop, plugin_id, key, at).await)
    }

    async fn kv_stats(&self, shop: &str, plugin_id: &str, at: Timestamp) -> Result<KvStats> {
        read_tx!(self, "kv-stats", |tx| stats(tx, shop, plugin_id, at).await)
    }

    async fn kv_purge_expired(&self, before: Timestamp) -> Result<u64> {
        write_tx!(self, "kv-purge", |tx| purge_expired(tx, before).await)
    }
}
