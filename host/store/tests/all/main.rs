//! Integration tests of the SQLite storage: a real database in a temporary
//! directory for each test, driven through the `Storage` trait.

mod support;

mod admin;
mod admin_api;
mod corecase;
mod files;
mod inbox;
mod journal;
mod poison;
mod privacy;
mod retention;
mod timers;
