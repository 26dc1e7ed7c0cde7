//! Integration tests of the `shopcase` binary, run as a partner would run
//! it (one test binary for the crate, a module per command family).
//!
//! Guest tests need toolchains and built examples: `cargo xtask test`
//! installs them in `target/guest-tools`, builds the examples into
//! `target/guest-plugins` and sets `SHOPCASE_GUEST_TOOLS`,
//! `SHOPCASE_EXAMPLE_PLUGINS` and `SHOPCASE_REQUIRE_GUESTS=1`. Run alone,
//! `cargo test -p shopcase` skips them with a message saying so. The
//! PostgreSQL copy (`storage_cmd`) needs `SHOPCASE_TEST_DATABASE_URL`, which
//! `cargo xtask test` also sets; without it that test is skipped the same
//! way.

mod admin_cmd;
mod config_check;
mod corecase_check;
mod demo;
mod inbound_cmd;
mod plugin_dev;
mod plugin_run;
mod storage_cmd;
mod store_cmd;
mod store_connect;
