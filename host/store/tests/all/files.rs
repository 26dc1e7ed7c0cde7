//! The data directory and the database files are private to the host's
//! user: 0700 and 0600, whatever the umask, and tightened when found looser.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use shopcase_store::*;

use super::support::*;

/// The permission bits, in octal as `ls` and `chmod` write them.
fn mode(path: &Path) -> String {
    format!(
        "{:04o}",
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    )
}

fn db_files(dir: &Path) -> [std::path::PathBuf; 3] {
    ["shopcase.db", "shopcase.db-wal", "shopcase.db-shm"].map(|f| dir.join(f))
}

#[tokio::test]
async fn a_new_data_directory_is_0700_and_its_database_files_0600() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    let s = SqliteStorage::open(&dir, config()).unwrap();
    s.insert_event(order_event("w-1", 1)).await.unwrap();
    assert_eq!(mode(&dir), "0700", "data directory");
    for f in db_files(&dir) {
        assert!(
            f.exists(),
            "{} exists while the storage is open",
            f.display()
        );
        assert_eq!(mode(&f), "0600", "{}", f.display());
    }
}

#[tokio::test]
async fn an_existing_loose_data_directory_and_database_are_tightened() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data");
    drop(SqliteStorage::open(&dir, config()).unwrap());
    // As a host from before this rule (or a careless copy) left them.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    // The WAL and shared-memory files are there while a connection holds
    // the database in WAL mode (another process, say).
    let other = rusqlite::Connection::open(dir.join("shopcase.db")).unwrap();
    other
        .execute_batch(
            "PRAGMA journal_mode = WAL; UPDATE meta SET value = value WHERE name = 'kv_version';",
        )
        .unwrap();
    for f in db_files(&dir) {
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let s = SqliteStorage::open(&dir, config()).unwrap();
    s.insert_event(order_event("w-1", 1)).await.unwrap();
    assert_eq!(mode(&dir), "0700", "data directory");
    for f in db_files(&dir) {
        assert_eq!(mode(&f), "0600", "{}", f.display());
    }
    drop(other);
}

#[test]
fn a_shared_directory_is_refused_not_tightened() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("shared");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let err = SqliteStorage::open(&dir, config()).unwrap_err().to_string();
    assert!(
        err.contains("is a shared directory (sticky bit, mode 1777)"),
        "{err}"
    );
    assert_eq!(mode(&dir), "1777", "left as it was");
    assert!(!dir.join("shopcase.db").exists(), "nothing written there");
}
