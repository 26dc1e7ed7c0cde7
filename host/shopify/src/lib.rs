//! Shopify Admin GraphQL for shopcase: the client the executor writes back
//! with, idempotent write-back of journalled operations, the cached
//! customer history plugins read. The emulator that speaks the same
//! contract on loopback is its own crate, `shopcase-shopify-emulator`, so
//! that a build without it compiles none of its server code.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use shopcase_contract::ShopifyOperation;
//! use shopcase_contract::action::{TagsChange, Target};
//! use shopcase_shopify::{ClientConfig, ShopConfig, ShopifyClient, Applied};
//! use shopcase_net::Secret;
//!
//! let client = Arc::new(ShopifyClient::new(ClientConfig::default())?);
//! client.add_shop(ShopConfig::new("example.myshopify.com", "2026-07", Secret::new("shpat_...")))?;
//! let op = ShopifyOperation::TagsAdd(TagsChange { target: Target::Order(5001), tags: vec!["fraud-review".into()] });
//! match client.apply("example.myshopify.com", &op, "evt-1:fraud-check:0").await {
//!     Ok(Applied::Done { .. } | Applied::AlreadyDone { .. }) => { /* mark the journal entry done */ }
//!     Err(e) if e.is_permanent() => { /* dead-letter with e.code() and e.to_string() */ }
//!     Err(_) => { /* retry later with the same key */ }
//! }
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`client`]: [`ShopifyClient`], per-store [`ShopConfig`], requests,
//!   retries, error classification.
//! - [`pacing`]: the per-shop leaky-bucket estimate that paces requests
//!   ahead of Shopify's throttling.
//! - [`writeback`]: [`ShopifyClient::apply`], one journalled
//!   [`shopcase_contract::ShopifyOperation`] at most once; the idempotency
//!   technique of each operation.
//! - [`history`]: [`HistoryCache`], customer history with a TTL.
//! - [`documents`]: every GraphQL document the client sends, for the
//!   check against Shopify's published schema.
//! - [`orders`]: [`OrderCache`], an order and its risk assessment with a
//!   TTL (the `order` and `order-risk` host functions).
//! - [`error`]: [`Error`], permanent vs transient.
//! - [`gid`]: `gid://shopify/Kind/N` helpers.
//! - [`graphql`]: the small GraphQL reader the emulator dispatches with
//!   and the client estimates cost with (one reader, so both charge the
//!   same cost).
//! - [`money`]: exact decimal amounts.
//! - [`subscriptions`]: a store's webhook subscriptions and granted access
//!   scopes (`shopcase store connect`).
//! - [`scopes`]: the access scopes a token needs, and why (the one table).
//!
//! # Against the emulator
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use shopcase_shopify_emulator::{self as emulator, EmulatorConfig};
//! use shopcase_shopify::{ClientConfig, ShopConfig, ShopifyClient};
//! use shopcase_net::Secret;
//!
//! // The demo store (see `emulator::Seed::demo`) on 127.0.0.1:<free port>.
//! let running = emulator::spawn(EmulatorConfig::default()).await?;
//! let client = ShopifyClient::new(ClientConfig::default())?;
//! client.add_shop(
//!     ShopConfig::new("demo.myshopify.com", "2026-07", Secret::new("shpat_emulator_demo"))
//!         .with_base_url(running.base_url()),
//! )?;
//! // ... apply operations, then count them:
//! let holds = running.emulator.mutations(Some("demo.myshopify.com"), Some("fulfillmentOrderHold"));
//! # let _ = holds;
//! # Ok(()) }
//! ```
//!
//! Tests: `cargo test -p shopcase-shopify` (unit tests inline; one
//! integration binary, `tests/all`, runs the real client against the
//! emulator on loopback).
//!
//! # GraphQL operations used
//! Queries: `order` (note; fulfilment orders and holds; `cancelledAt`;
//! refunds and transactions; the whole order and its `risk` for the
//! `order` and `order-risk` host functions), `customer` (note; history; store credit
//! accounts and a host metafield), `return` (status),
//! `webhookSubscriptions`, `currentAppInstallation` (access scopes). Mutations: `tagsAdd`,
//! `tagsRemove`, `orderUpdate`, `customerUpdate`, `metafieldsSet`,
//! `fulfillmentOrderHold`, `fulfillmentOrderReleaseHold`, `orderCancel`,
//! `returnApproveRequest`, `returnDeclineRequest`, `refundCreate` (with
//! `@idempotent`), `storeCreditAccountCredit`, `webhookSubscriptionCreate`,
//! `webhookSubscriptionUpdate`, `webhookSubscriptionDelete`. Documents are in
//! `writeback.rs`, `history.rs`, `orders.rs` and `subscriptions.rs` (every one
//! listed in [`documents`]); all inputs travel as variables.
//!
//! # Throttling policy
//! Every response's `extensions.cost.throttleStatus` updates a per-shop
//! estimate of Shopify's leaky bucket; a request whose expected cost is not
//! available waits before it is sent, so a burst is paced rather than
//! throttled. Before the first answer only one request per shop is in
//! flight. A THROTTLED answer (HTTP 200 or 429) was not executed: the client
//! waits for the bucket (or `Retry-After`) and sends it again, up to
//! [`ClientConfig::max_throttle_waits`] times, then returns a transient
//! [`Error::Throttled`]. Nothing is dropped.
//!
//! # Access scopes a store's token needs
//! One table, [`scopes::SCOPES`] (the admin guide prints it and a test keeps
//! the two equal). Checked against shopify.dev: `fulfillmentOrderHold`
//! requires `write_merchant_managed_fulfillment_orders` or
//! `write_third_party_fulfillment_orders`; `orderCancel` requires
//! `write_orders`; `FulfillmentHold` requires a `read_*_fulfillment_orders`
//! scope; store credit transactions require
//! `read_store_credit_account_transactions`; the webhook topics' scopes are
//! those the Admin schema's `WebhookSubscriptionTopic` descriptions name.
//! Customer history reads protected customer data (order history): the
//! app needs Shopify's protected-customer-data approval (level 1) for
//! production stores. Staff permissions also apply (e.g.
//! `fulfill_and_ship_orders` for holds, `refund_orders` for refunds).

#![forbid(unsafe_code)]
#![warn(missing_docs)]
pub mod client;
pub mod documents;
pub mod error;
pub mod gid;
pub mod graphql;
pub mod history;
pub mod money;
pub mod orders;
pub mod pacing;
pub mod scopes;
pub mod subscriptions;
pub mod writeback;

pub use client::{ClientConfig, Request, ShopConfig, ShopifyClient};
pub use error::{Error, Result, UserError};
pub use history::{Clock, HistoryCache, HistoryConfig, ManualClock, SystemClock};
pub use orders::OrderCache;
pub use writeback::Applied;
