//! Opening a storage and building events.

use std::time::Duration;

use shopcase_contract::Resources;
use shopcase_store::{EventSource, EventStatus, NewEvent, SqliteConfig, SqliteStorage, Timestamp};

pub(crate) const SHOP: &str = "demo.myshopify.com";

pub(crate) fn config() -> SqliteConfig {
    SqliteConfig {
        busy_timeout: Duration::from_millis(100),
        ..SqliteConfig::default()
    }
}

/// A fresh storage in a temporary directory (kept alive by the guard).
pub(crate) fn open() -> (tempfile::TempDir, SqliteStorage) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(dir.path(), config()).unwrap();
    (dir, s)
}

/// A second connection to the storage's database, as another process (or
/// an operator with `sqlite3`) would have: for damaging rows or writing
/// many at once behind the storage's back.
pub(crate) fn behind_the_back(dir: &tempfile::TempDir) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(dir.path().join("shopcase.db")).unwrap();
    c.busy_timeout(Duration::from_secs(5)).unwrap();
    c
}

/// What each migration since 5 added, undone: newest first.
const UNDO: &[(i64, &str)] = &[
    (
        9,
        "DROP TABLE deaths;
         ALTER TABLE inbox DROP COLUMN taken_from;
         ALTER TABLE inbox DROP COLUMN abandoned_death;
         ALTER TABLE journal DROP COLUMN taken_from;
         ALTER TABLE journal DROP COLUMN abandoned_death;",
    ),
    (
        8,
        "DROP INDEX inbox_pending_shop;
         ALTER TABLE inbox DROP COLUMN abandoned;
         ALTER TABLE inbox DROP COLUMN abandoned_by;
         ALTER TABLE journal DROP COLUMN abandoned;
         ALTER TABLE journal DROP COLUMN abandoned_by;",
    ),
    (
        7,
        "ALTER TABLE installations DROP COLUMN approved_sha256;
         ALTER TABLE installations DROP COLUMN approved_grants_digest;
         ALTER TABLE installations DROP COLUMN approved_grants;
         ALTER TABLE installations DROP COLUMN approved_by;
         ALTER TABLE installations DROP COLUMN approved_at;",
    ),
    (
        6,
        "ALTER TABLE stores DROP COLUMN uninstalled_at;
         ALTER TABLE stores DROP COLUMN uninstalled_by;",
    ),
    (
        5,
        "DROP INDEX inbox_body;
         DROP INDEX privacy_requests_body;
         ALTER TABLE inbox DROP COLUMN body_sha256;
         ALTER TABLE privacy_requests DROP COLUMN body_sha256;",
    ),
];

/// Turn a (closed) database back into one written by a build whose
/// schema stopped at `version`, rows kept: for the upgrade tests. A new
/// migration adds its undo to `UNDO`.
pub(crate) fn roll_back_schema(dir: &tempfile::TempDir, version: i64) {
    let c = behind_the_back(dir);
    for (v, undo) in UNDO.iter().filter(|(v, _)| *v > version) {
        c.execute_batch(undo)
            .unwrap_or_else(|e| panic!("undoing migration {v}: {e}"));
    }
    c.execute(
        "DELETE FROM schema_migrations WHERE version > ?1",
        [version],
    )
    .unwrap();
}

pub(crate) fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000 + secs).unwrap()
}

/// An `orders/create` delivery for `order` with webhook id `webhook`.
pub(crate) fn order_event(webhook: &str, order: u64) -> NewEvent {
    let payload = serde_json::json!({"id": order, "name": format!("#{order}"), "customer": {"id": 7001}, "total_price": "10.00"});
    NewEvent {
        shop: SHOP.into(),
        topic: "orders/create".into(),
        source: EventSource::Shopify,
        dedupe_key: webhook.into(),
        shopify_event_id: Some(format!("se-{webhook}")),
        api_version: "2026-07".into(),
        triggered_at: at(0),
        received_at: at(1),
        resources: Resources::from_shopify("orders/create", &payload),
        payload: payload.to_string(),
        target_plugin: None,
        status: EventStatus::Pending,
        body_sha256: None,
    }
}
