//! The sandbox's integration tests: real components, built from source by
//! `cargo xtask` (`tests/programs/*`), run in the real runtime.
//!
//! Run them with `cargo xtask test`, or after `cargo xtask build-plugins`
//! with `cargo test -p shopcase-sandbox`.

mod hostile;
mod loading;
mod roundtrip;
mod support;
