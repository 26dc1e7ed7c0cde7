//! The sandbox's integration tests: real components, built from source by
//! `cargo xtask` (`tests/programs/*`), run in the real runtime.
//!
//! Run them with `cargo xtask test`, or with `cargo test -p
//! shopcase-sandbox` (the components are built on demand, or taken from
//! `SHOPCASE_WASM_DIR`).

mod hostile;
mod loading;
mod roundtrip;
mod support;
mod versions;
