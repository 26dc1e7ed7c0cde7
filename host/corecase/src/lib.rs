//! OpenText Core Case for shopcase: the REST client the host uses. The
//! emulator that speaks the same contract on loopback is its own crate,
//! `shopcase-corecase-emulator`.
//!
//! Both implement `spec/corecase-api.md` (the project's model of the Core
//! Case API). A real tenant is reached by changing URLs and credentials only;
//! where the real API turns out to differ from the model, the fix belongs in
//! one place: the client's mapping ([`client`]).
//!
//! # Layout
//! - [`client`]: [`CoreCaseClient`], its configuration ([`CoreCaseConfig`]),
//!   the API's request/response types ([`client::dto`]) and the error policy
//!   ([`Error`], [`ErrorClass`]).
//! - [`lifecycle`]: the case status state machine both sides agree on.
//! - [`api_time`]: Core Case's timestamp format (`2026-11-26T10:22:31.193+0000`).

pub mod api_time;
pub mod client;
pub mod lifecycle;

pub use client::error::{Error, ErrorClass};
pub use client::{ClientSettings, CoreCaseClient, CoreCaseConfig, CreatedCase, RetryConfig};

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
