//! Test support shared by the integration tests of `shopcase-pipeline` and
//! `shopcase-admin` (a dev-dependency only; never part of the binary).
//!
//! - [`wasm`]: a test component built by `cargo xtask build-plugins`;
//! - [`runtime`]: one sandbox runtime per test binary, as the server has one;
//! - [`eventually`]: wait, with a bound, until a condition holds.

#![forbid(unsafe_code)]

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use shopcase_sandbox::{Runtime, RuntimeConfig};

/// The test component `name` (e.g. `hostile`), from `SHOPCASE_WASM_DIR` or
/// `target/wasm32-wasip2/plugin`. Panics, saying how to build it, if it is
/// missing.
pub fn wasm(name: &str) -> PathBuf {
    let dir = std::env::var_os("SHOPCASE_WASM_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/wasm32-wasip2/plugin")
        });
    let path = dir.join(format!("{}.wasm", name.replace('-', "_")));
    assert!(
        path.exists(),
        "{} is missing: build the test components first with `cargo xtask build-plugins` (or run `cargo xtask test`)",
        path.display()
    );
    path
}

/// One sandbox runtime for the whole test binary, as in the server.
pub fn runtime() -> Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        Runtime::new(RuntimeConfig {
            max_concurrent: 8,
            ..RuntimeConfig::default()
        })
        .expect("runtime")
    })
    .clone()
}

/// Wait until `f` holds, polling every 20 ms. The 30 s bound only guards
/// against a hang: it panics naming `what`.
pub async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while tokio::time::Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}
