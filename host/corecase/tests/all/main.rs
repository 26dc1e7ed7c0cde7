//! Integration tests: the real client against the real emulator over
//! loopback HTTP (127.0.0.1, port 0).
//!
//! Run: `cargo test -p shopcase-corecase --test all`.

mod attachments;
mod auth;
mod cases;
mod emulator_http;
mod paging;
mod retries;
mod support;
mod tasks;
