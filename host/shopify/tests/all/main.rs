//! Integration tests of `shopcase-shopify`: the real client against the real
//! emulator on 127.0.0.1:0.
//!
//! Run with `cargo test -p shopcase-shopify`.

mod emulator;
mod faults;
mod history;
mod orders;
mod subscriptions;
mod support;
mod throttling;
mod writeback;
