//! The host's extension API: what an integration implements to plug into
//! the shopcase pipeline, and nothing of the pipeline itself.
//!
//! An integration (Core Case, Shopify, a service of a partner's own) gives
//! the pipeline some of:
//! - an [`Executor`] per action family it performs (journalled actions,
//!   exactly once by key; failures classified by [`ExecError`]), calling a
//!   remote [`Service`] through that service's circuit breaker;
//! - [`BackgroundTask`]s that feed events back through an
//!   [`EventProducer`] (the Core Case poller);
//! - a [`CustomerHistorySource`] for the `customer-history` host function,
//!   and an [`OrderSource`] for `order` and `order-risk`;
//! - an [`Erasure`] for the privacy requests' part in a case system.
//!
//! [`breaker`] holds the per-(store, service) circuit breakers every call
//! to a service goes through; [`fault`] the test-only fault points crash
//! tests arm.
//!
//! An integration hands them to a [`HostBuilder`] (the pipeline's
//! `PipelineBuilder`). The pipeline (`shopcase-pipeline`) runs them; it re-exports this crate's
//! items where they used to live, so either path works.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod breaker;
mod builder;
mod erasure;
mod executor;
pub mod fault;
mod history;
mod orders;
mod producer;
mod service;

pub use builder::HostBuilder;
pub use erasure::{Erased, Erasure, ErasureScope};
pub use executor::{ExecError, Executor};
pub use history::{CustomerHistorySource, NoCustomerHistory};
pub use orders::{NoOrderSource, OrderSource};
pub use producer::{BackgroundTask, EventProducer, idle};
pub use service::Service;

/// The storage crate, for implementers of executors and producers.
pub use shopcase_store as store;
