//! Integration tests of the event pipeline: a real host per test (SQLite in
//! a temporary directory, the hostile test component packaged as plugins,
//! axum on 127.0.0.1:0, reqwest as Shopify). The crash tests, which run the
//! host as a child process, are a separate binary: `tests/crash/`.
//!
//! Needs the test components: `cargo xtask build-plugins` (or
//! `cargo build --target wasm32-wasip2 --profile plugin -p hostile`).

mod shopify_support;
mod support;

mod admin;
mod approval;
mod corecase;
mod dispatch;
mod executor;
mod fraud;
mod inbound;
mod ingress;
mod ops;
mod privacy;
mod refund_origin;
mod replay;
mod replicas;
mod retention;
mod shopify;
