//! Integration tests of the admin API and page: a real host per test
//! (SQLite in a temporary directory, the hostile test component packaged as
//! plugins, the pipeline and the admin router on 127.0.0.1:0) driven over
//! HTTP with reqwest, and by headless Chromium for the page.
//!
//! Needs the test components: `cargo xtask build-plugins` (or
//! `cargo build --target wasm32-wasip2 --profile plugin -p hostile`).

mod support;

mod auth;
mod browser;
mod cdp;
mod connect;
mod installations;
mod openapi;
mod page;
mod recovery;
