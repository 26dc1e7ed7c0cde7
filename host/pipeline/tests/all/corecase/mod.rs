//! Core Case in the pipeline, end to end: a real host (SQLite, the
//! `scripted` test component as plugins, axum on 127.0.0.1:0) talking to
//! the Core Case emulator over real HTTP with the real client. Plugins are
//! scripted through the order's note (`{"actions": [...]}` as JSON text), and through the
//! case's `on_case_updated` attribute for their reaction to case changes.
//!
//! - `executor`: case actions, links, documents, dead letters.
//! - `poller`: case changes back as `corecase/case-updated` events.
//! - `approvals`: held operations approved, rejected, approved twice.
//! - `faults`: 500s, 429 + Retry-After, resets, slow answers, token expiry.
//! - `timers`: a follow-up timer survives a restart.
//! - `privacy`: `customers/redact` and `shop/redact` erase in Core Case.
//! - `scenarios`: first-party plugins on recorded scenario events.
//!
//! The helpers are in `support` (shared with the `crash` binary, whose
//! `corecase` test kills the process between the create call and the
//! journal).

use std::sync::Arc;

use shopcase_corecase::CoreCaseClient;
use shopcase_corecase_emulator::{
    self as emulator, DefinitionSeed, EmulatorConfig, EmulatorHandle,
};
use shopcase_pipeline::RunningPipeline;

use crate::support::*;

mod support;

mod approvals;
mod executor;
mod faults;
mod poller;
mod privacy;
mod scenarios;
mod timers;

pub(crate) use support::*;
