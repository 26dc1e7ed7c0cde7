//! The suite on SQLite.

pub(crate) const BACKEND: support::Backend = support::Backend::Sqlite;

#[path = "support.rs"]
pub(crate) mod support;

#[path = "admin.rs"]
mod admin;
#[path = "admin_api.rs"]
mod admin_api;
#[path = "corecase.rs"]
mod corecase;
#[path = "files.rs"]
mod files;
#[path = "inbox.rs"]
mod inbox;
#[path = "journal.rs"]
mod journal;
#[path = "poison.rs"]
mod poison;
#[path = "privacy.rs"]
mod privacy;
#[path = "retention.rs"]
mod retention;
#[path = "sqlite_only.rs"]
mod sqlite_only;
#[path = "timers.rs"]
mod timers;
