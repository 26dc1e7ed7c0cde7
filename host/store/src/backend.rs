//! Choosing the engine: [`Backend`], what `[storage] backend` names.

use std::path::Path;
use std::sync::Arc;

use crate::error::{Result, StoreError};
use crate::{PostgresConfig, PostgresStorage, SqliteConfig, SqliteStorage, Storage};

/// Which engine holds the host's data, and how to reach it.
#[derive(Debug, Clone)]
pub enum Backend {
    /// One file in the data directory: one host process (the default).
    Sqlite(SqliteConfig),
    /// A PostgreSQL database: several host replicas may share it.
    Postgres(PostgresConfig),
}

impl Default for Backend {
    fn default() -> Self {
        Backend::Sqlite(SqliteConfig::default())
    }
}

impl Backend {
    /// Open the storage, applying migrations: `<data_dir>/shopcase.db`
    /// for SQLite (opened on a blocking thread), the configured database
    /// for PostgreSQL.
    pub async fn open(&self, data_dir: &Path) -> Result<Arc<dyn Storage>> {
        match self {
            Backend::Sqlite(config) => {
                let (dir, config) = (data_dir.to_owned(), config.clone());
                let opened = tokio::task::spawn_blocking(move || SqliteStorage::open(&dir, config))
                    .await
                    .map_err(|_| StoreError::Closed)??;
                Ok(Arc::new(opened))
            }
            Backend::Postgres(config) => Ok(Arc::new(PostgresStorage::connect(config).await?)),
        }
    }

    /// The engine's name as the configuration writes it.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Where the data is, for logs: the file, or `host:port/database`
    /// (never the password).
    pub fn describe(&self, data_dir: &Path) -> String {
        match self {
            Backend::Sqlite(_) => data_dir.join(crate::sqlite::DB_FILE).display().to_string(),
            Backend::Postgres(c) => c.describe(),
        }
    }
}
