//! What only the PostgreSQL backend has: a schema shared by replicas
//! (migrations taken in turn, foreign and newer schemas refused), locks
//! held by other sessions, and a server that is not there.

use std::time::Duration;

use shopcase_store::*;

use super::support::*;

#[tokio::test]
async fn foreign_and_newer_schemas_are_refused() {
    let db = Db::create().await;
    db.behind_the_back()
        .await
        .exec("CREATE TABLE something_else (x bigint)", &[])
        .await;
    let err = db.try_open().await.unwrap_err().to_string();
    assert!(err.contains("no shopcase migration record"), "{err}");

    let db = Db::create().await;
    drop(db.open().await);
    let raw = db.behind_the_back().await;
    // Every migration applied, in order, none missing.
    assert_eq!(
        raw.ints("SELECT version FROM schema_migrations ORDER BY version")
            .await,
        (1..=9).collect::<Vec<i64>>()
    );
    raw.exec(
        "INSERT INTO schema_migrations VALUES (99, 'future', 0)",
        &[],
    )
    .await;
    let err = db.try_open().await.unwrap_err().to_string();
    assert!(err.contains("schema version 99"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_migrate_once() {
    let db = std::sync::Arc::new(Db::create().await);
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.try_open().await.map(drop) })
        })
        .collect();
    for s in starts {
        s.await.unwrap().unwrap();
    }
    assert_eq!(
        db.behind_the_back()
            .await
            .ints("SELECT version FROM schema_migrations ORDER BY version")
            .await,
        (1..=9).collect::<Vec<i64>>()
    );
}

#[tokio::test]
async fn a_table_locked_by_another_session_is_unavailable_not_an_answer() {
    let (db, s) = open().await;
    s.insert_event(order_event("before", 1)).await.unwrap();
    // Another session holds the inbox (e.g. an operator's long maintenance
    // statement): the storage's statements time out (2 s in the suite).
    let other = db.behind_the_back().await;
    other
        .exec("BEGIN; LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE", &[])
        .await;
    let err = s.insert_event(order_event("during", 2)).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert_eq!(err.code(), "storage-unavailable");
    other.exec("ROLLBACK", &[]).await;
    // Nothing half-written; the next insert works.
    assert!(matches!(
        s.insert_event(order_event("during", 2)).await.unwrap(),
        Inserted::New { .. }
    ));
}

#[tokio::test]
async fn a_server_that_is_not_there_is_unavailable_and_the_password_is_not_named() {
    // Port 1 on loopback: nothing listens there.
    let config = PostgresConfig {
        connect_timeout: Duration::from_secs(2),
        ..PostgresConfig::new("postgres://shopcase:s3cret-pw@127.0.0.1:1/shopcase")
    };
    let err = PostgresStorage::connect(&config).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    let text = err.to_string();
    assert!(!text.contains("s3cret-pw"), "{text}");
    let debug = format!("{config:?}");
    assert!(!debug.contains("s3cret-pw"), "{debug}");
    assert!(debug.contains("127.0.0.1:1/shopcase"), "{debug}");
}
