//! What only the SQLite backend has: its files (a lock another process
//! holds on the file, a file that is not a shopcase database).

use shopcase_store::*;

use super::support::*;

#[tokio::test]
async fn a_locked_database_is_unavailable_not_an_answer() {
    let (dir, s) = open().await;
    s.insert_event(order_event("before", 1)).await.unwrap();
    // Another process holds the write lock (e.g. a long maintenance job).
    let other = rusqlite::Connection::open(dir.path().join("shopcase.db")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = s.insert_event(order_event("during", 2)).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert_eq!(err.code(), "storage-unavailable");
    assert!(s.check_writable().await.unwrap_err().is_unavailable());
    other.execute_batch("ROLLBACK").unwrap();
    // Nothing half-written; the next insert works.
    assert!(matches!(
        s.insert_event(order_event("during", 2)).await.unwrap(),
        Inserted::New { .. }
    ));
    s.check_writable().await.unwrap();
}

#[tokio::test]
async fn foreign_and_newer_databases_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shopcase.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE something_else (x)").unwrap();
    }
    let err = SqliteStorage::open(dir.path(), config())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a shopcase database"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStorage::open(dir.path(), config()).unwrap());
    {
        let c = rusqlite::Connection::open(dir.path().join("shopcase.db")).unwrap();
        let versions: Vec<i64> = c
            .prepare("SELECT version FROM schema_migrations")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // Every migration applied, in order, none missing (a gap would be
        // skipped for good by a database already past it).
        assert_eq!(versions, (1..=10).collect::<Vec<i64>>());
        c.execute("INSERT INTO schema_migrations VALUES (99, 'future', 0)", [])
            .unwrap();
    }
    let err = SqliteStorage::open(dir.path(), config())
        .unwrap_err()
        .to_string();
    assert!(err.contains("schema version 99"), "{err}");
}
