//! The same suite on PostgreSQL.

pub(crate) const BACKEND: support::Backend = support::Backend::Postgres;

#[path = "support.rs"]
pub(crate) mod support;

#[path = "admin.rs"]
mod admin;
#[path = "admin_api.rs"]
mod admin_api;
#[path = "corecase.rs"]
mod corecase;
#[path = "inbox.rs"]
mod inbox;
#[path = "journal.rs"]
mod journal;
#[path = "migrate.rs"]
mod migrate;
#[path = "poison.rs"]
mod poison;
#[path = "postgres_only.rs"]
mod postgres_only;
#[path = "privacy.rs"]
mod privacy;
#[path = "retention.rs"]
mod retention;
#[path = "timers.rs"]
mod timers;
