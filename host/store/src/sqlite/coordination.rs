//! Coordination on SQLite: one process holds the database, so there is no
//! other process to wake and no one to share a role with (see
//! [`crate::area::coordination`]).

use async_trait::async_trait;

use super::SqliteStorage;
use crate::error::Result;
use crate::values::*;

#[async_trait]
impl CoordinationStore for SqliteStorage {
    fn announce(&self, _work: Work) {}

    fn wakeups(&self) -> Option<tokio::sync::broadcast::Receiver<Work>> {
        None
    }

    async fn lead(&self, _role: &str) -> Result<bool> {
        Ok(true)
    }

    async fn resign(&self, _role: &str) {}
}
