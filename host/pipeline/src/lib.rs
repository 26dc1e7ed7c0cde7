//! The event pipeline of the shopcase host: the path every event takes.
//!
//! ```text
//! Shopify ─► ingress ─► inbox ─► dispatcher ─► sandbox × enabled plugins ─► journal ─► executors
//!            (HMAC,     (SQLite,  (per store,    (fresh sandbox, store's     (idempotency  (Core Case,
//!             commit,    group     leases,         settings, minimised        keys)         Shopify,
//!             then 200)  commit)   retries)        payload)                                 follow-ups)
//!                          ▲                                                                   │
//!                          └──────── timer/fired, corecase/case-updated (internal producers) ◄─┘
//! ```
//!
//! It never acknowledges an event before it is durably committed, never
//! runs a plugin a store did not enable, and never lets an unsigned request
//! in. Storage is behind `shopcase_store::Storage`; plugins run in
//! `shopcase_sandbox`. It knows no remote service: Core Case and Shopify
//! come in through the host API (`shopcase-host-api`), registered by
//! their integration crates (`shopcase-corecase-integration`,
//! `shopcase-shopify-integration`) on a [`PipelineBuilder`].
//!
//! # Layout
//! - [`config`]: `shopcase.toml`, its keys, defaults and checks (the
//!   `shopcase-config` crate).
//! - [`breaker`]: the circuit breakers (`shopcase-host-api`) and their
//!   `/metrics` lines.
//! - [`server`]: [`PipelineBuilder`], [`Pipeline`] (router, background
//!   loops, graceful shutdown), [`RunningPipeline`].
//! - [`ingress`]: `POST /webhooks/shopify` (order of checks, status codes);
//!   [`ingress::hmac`] is where signatures are checked;
//!   [`ingress::inbound`]: `POST /inbound/{source}`, signed reports from a
//!   helpdesk or carrier-tracking service (`[[inbound]]`).
//! - [`dispatcher`]: workers that run plugins on events; its `registry`
//!   loads packaged plugins, its `services` back the host functions.
//! - [`executor`]: the framework that executes journalled actions, and the
//!   built-in follow-up executor.
//! - [`timers`]: due timers into the inbox; housekeeping.
//! - [`retention`]: deleting finished work older than `storage.retention`.
//! - [`replicas`]: several replicas on one database: wake-ups from the
//!   others, and the singleton roles (timers, retention, the Core Case
//!   poller) run only while this replica leads them.
//! - [`privacy`]: `customers/redact`, `shop/redact`, `customers/data_request`
//!   (their part in a case system through the host API's `Erasure`).
//! - [`replay`]: signing and posting event files (`shopcase replay`).
//! - [`metrics`]: Prometheus text exposition.
//! - [`fault`]: test-only fault points for crash tests (from
//!   `shopcase-host-api`, with the traits integrations implement).
//! - `shops`: configured stores and their webhook secrets.

#![forbid(unsafe_code)]

pub mod breaker;
/// `shopcase.toml` (the `shopcase-config` crate).
pub use shopcase_config as config;
pub mod dispatcher;
pub mod executor;
pub use shopcase_host_api::fault;
pub mod ingress;
pub mod metrics;
pub mod privacy;
pub mod replay;
pub mod replicas;
pub mod retention;
pub mod server;
pub mod timers;

mod shops;

pub use config::{Config, ConfigError};
pub use dispatcher::services::{
    CustomerHistorySource, NoCustomerHistory, NoOrderSource, OrderSource,
};
pub use executor::follow_up::FollowUpExecutor;
pub use executor::{ExecError, Executor};
pub use metrics::Metrics;
pub use server::{
    BackgroundTask, EventProducer, Pipeline, PipelineBuilder, PipelineError, RunningPipeline,
    open_storage,
};
/// The storage crate, for implementers of executors and producers.
pub use shopcase_store as store;
