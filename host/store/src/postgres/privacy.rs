//! PrivacyStore on PostgreSQL: not written yet (each method fails).

#![allow(unused_variables, reason = "a stub until this area is written")]

use async_trait::async_trait;

use super::PostgresStorage;
use crate::error::{Result, StoreError};
use crate::values::*;

#[async_trait]
impl PrivacyStore for PostgresStorage {
    async fn redact_customer(
        &self,
        who: CustomerIdentity,
        now: Timestamp,
    ) -> Result<RedactionReport> {
        Err(StoreError::Database {
            op: "redact_customer",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn customer_needles(&self, who: CustomerIdentity) -> Result<crate::privacy::Needles> {
        Err(StoreError::Database {
            op: "customer_needles",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn uninstalled(&self, shop: &str) -> Result<Option<Uninstall>> {
        Err(StoreError::Database {
            op: "uninstalled",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn redact_shop(&self, shop: &str, now: Timestamp) -> Result<ShopRedactionReport> {
        Err(StoreError::Database {
            op: "redact_shop",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn customer_data(&self, who: CustomerIdentity) -> Result<CustomerData> {
        Err(StoreError::Database {
            op: "customer_data",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn record_privacy(&self, record: PrivacyRecord) -> Result<()> {
        Err(StoreError::Database {
            op: "record_privacy",
            message: "not written for PostgreSQL yet".into(),
        })
    }
    async fn privacy_records(
        &self,
        shops: Option<Vec<String>>,
        limit: usize,
    ) -> Result<Vec<PrivacyRecord>> {
        Err(StoreError::Database {
            op: "privacy_records",
            message: "not written for PostgreSQL yet".into(),
        })
    }
}
