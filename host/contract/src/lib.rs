//! The host side of the shopcase plugin contract, with no Wasm runtime in it.
//!
//! What a plugin may see, do and use is decided here; the sandbox
//! (`shopcase-sandbox`) enforces it at run time and the pipeline journals
//! what passes.
//!
//! # Layout
//! - [`manifest`]: `plugin.toml` parsing, grants, limits, packaging.
//! - [`approval`]: what enabling a plugin approves (grants as canonical
//!   lines, their digest, the difference between two manifests).
//! - [`settings`]: typed per-store plugin settings.
//! - [`event`]: the event envelope, resource ids, the event file format.
//! - [`host_api`]: what host functions return (customer history, linked cases) and key-value limits.
//! - [`inbound`]: reports from a helpdesk or carrier-tracking service
//!   (`POST /inbound/{source}`): their schema and host topics.
//! - [`host_rules`]: the checks host functions apply (log lines, key-value
//!   keys and quotas, the host-call budget, own subjects), shared by the
//!   sandbox and the SDK's test harness.
//! - [`action`]: the actions plugins return, in the journal's JSON form.
//! - [`validate`]: checks on returned actions (grants, own ids, sizes).
//! - [`minimise`]: removal of ungranted personal data from payloads.
//! - [`origin`]: which refunds shopcase issued (note markers, the host-set
//!   `shopcase_issued` of `refunds/create`).
//! - [`outcome`]: the names of every way an invocation can fail.
//! - [`time`]: RFC 3339 timestamps.

#![forbid(unsafe_code)]

pub mod action;
pub mod approval;
pub mod event;
pub mod host_api;
pub mod host_rules;
pub mod inbound;
pub mod manifest;
pub mod minimise;
pub mod origin;
pub mod outcome;
pub mod settings;
pub mod time;
pub mod validate;

pub use action::{Action, ActionKind, CaseKey, ShopifyOperation, Subject};
pub use event::{Event, EventFile, Resources};
pub use manifest::{DataClass, Grants, HostGrant, Limits, Manifest, ManifestError};
pub use outcome::FailureKind;
pub use settings::{SettingSpec, SettingType, SettingValue};
