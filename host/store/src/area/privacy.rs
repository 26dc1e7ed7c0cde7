//! Privacy: the GDPR requests' redactions, exports and records, and the
//! stores' recorded uninstalls. What exactly is found and scrubbed is
//! described in [`crate::privacy`].
//!
//! SQL: `sqlite/privacy.rs`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::Result;
use crate::model::*;

/// Privacy requests: redaction, export, their records. Every method is one transaction.
#[async_trait]
pub trait PrivacyStore: Send + Sync {
    /// Erase a customer's personal data from a store's events, journal,
    /// key-value data, timers and records (see [`privacy`](crate::privacy) for exactly what).
    async fn redact_customer(
        &self,
        who: CustomerIdentity,
        now: Timestamp,
    ) -> Result<RedactionReport>;

    /// What identifies a customer in stored text: the request's emails and
    /// phones plus the names, emails, phones and street lines found in the
    /// customer's own events (read only; [`PrivacyStore::redact_customer`] learns
    /// the same before it scrubs). Read it before the redaction: afterwards
    /// the events no longer hold the names.
    async fn customer_needles(&self, who: CustomerIdentity) -> Result<crate::privacy::Needles>;

    /// The store's recorded uninstall, if any: an `app/uninstalled`
    /// delivery ([`InboxStore::insert_event`](crate::InboxStore::insert_event) records it with the event, in the
    /// same transaction) or an operator's confirmation. A shop redaction
    /// deletes it with the store's other rows.
    async fn uninstalled(&self, shop: &str) -> Result<Option<Uninstall>>;

    /// Delete everything held for a store.
    async fn redact_shop(&self, shop: &str, now: Timestamp) -> Result<ShopRedactionReport>;

    /// Everything held on a customer.
    async fn customer_data(&self, who: CustomerIdentity) -> Result<CustomerData>;

    /// Record a privacy request and what was done.
    async fn record_privacy(&self, record: PrivacyRecord) -> Result<()>;

    /// Recorded privacy requests of these stores (`None`: every store),
    /// newest first.
    async fn privacy_records(
        &self,
        shops: Option<Vec<String>>,
        limit: usize,
    ) -> Result<Vec<PrivacyRecord>>;
}

/// That a store uninstalled the app: `shop/redact` acts only for a store
/// with one. Kept on the store's record until a shop redaction deletes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uninstall {
    /// When it was received (or confirmed).
    pub at: Timestamp,
    /// `app/uninstalled <event id>`, or `operator <who>` for a confirmation.
    pub by: String,
}

/// Who a privacy request is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CustomerIdentity {
    /// The store.
    pub shop: String,
    /// Shopify's customer id.
    pub customer_id: u64,
    /// Email addresses to look for (from the request).
    pub emails: Vec<String>,
    /// Phone numbers to look for.
    pub phones: Vec<String>,
    /// The customer's orders named by the request.
    pub orders: Vec<u64>,
}

/// What a customer redaction changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RedactionReport {
    /// Inbox payloads scrubbed.
    pub events: u64,
    /// Journal entries scrubbed.
    pub journal: u64,
    /// Key-value entries deleted.
    pub kv: u64,
    /// Timers scrubbed.
    pub timers: u64,
    /// Dead letters, dispatch rows, audit records and operations held for
    /// an approval scrubbed.
    pub records: u64,
}

/// What a shop redaction deleted, by table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ShopRedactionReport {
    /// `table → rows deleted`.
    pub deleted: BTreeMap<String, u64>,
}

/// Everything held on one customer, for a data request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CustomerData {
    /// Inbox events about the customer or their orders (payloads parsed).
    pub events: Vec<serde_json::Value>,
    /// Journal entries for them.
    pub journal: Vec<serde_json::Value>,
    /// Key-value entries that mention them.
    pub kv: Vec<serde_json::Value>,
    /// Cases linked to them or their orders.
    pub case_links: Vec<serde_json::Value>,
    /// Timers about them.
    pub timers: Vec<serde_json::Value>,
}

/// A recorded privacy request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivacyRecord {
    /// The store.
    pub shop: String,
    /// `customers/redact`, `shop/redact` or `customers/data_request`.
    pub topic: String,
    /// The customer, if any.
    pub customer_id: Option<u64>,
    /// The inbox event that carried it.
    pub event_id: String,
    /// The export file written (data requests).
    pub file: Option<String>,
    /// What was done (counts), as JSON.
    pub summary: serde_json::Value,
    /// When.
    pub at: Timestamp,
    /// The request's body digest ([`StoredEvent::body_sha256`]): a later
    /// delivery of the same body for the same store and topic is a
    /// duplicate for as long as this record is kept, even once the inbox
    /// event is gone (retention, or the store's own redaction).
    #[serde(skip)]
    pub body_sha256: Option<[u8; 32]>,
}
