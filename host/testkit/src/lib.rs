//! Test support shared by the integration tests of `shopcase-sandbox`,
//! `shopcase-pipeline`, `shopcase-admin` and the harness/sandbox
//! cross-check (a dev-dependency only; never part of the binary).
//!
//! - [`wasm`]: a test component, built on demand (or taken from
//!   `SHOPCASE_WASM_DIR`, where `cargo xtask build-plugins` put them);
//! - [`runtime`]: one sandbox runtime per test binary, as the server has one;
//! - [`eventually`]: wait, with a bound, until a condition holds;
//! - [`config::TestConfig`]: the host configuration tests serve with.

#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use shopcase_sandbox::{Runtime, RuntimeConfig};

pub mod config;

/// The Wasm target guests are built for (as `cargo xtask build-plugins`).
const WASM_TARGET: &str = "wasm32-wasip2";

/// The test component of the workspace crate `name` (a test program such
/// as `hostile` or `scripted`, a plugin, a Rust example).
///
/// With `SHOPCASE_WASM_DIR` set (as `cargo xtask test` sets it, after
/// building every component), the component is taken from there, as is.
/// Otherwise it is built here, once per test process, the way the xtask
/// builds it (`cargo build -p <name> --target wasm32-wasip2 --profile
/// plugin`, into `$CARGO_TARGET_DIR` or the workspace's `target/`): cargo
/// rebuilds it only if its sources changed, so a test never runs a stale
/// component. Builds are serialised within the process (and cargo's own
/// lock serialises them across processes).
///
/// Panics saying what is missing: the component in `SHOPCASE_WASM_DIR`,
/// the `wasm32-wasip2` target, or a build that failed.
pub fn wasm(name: &str) -> PathBuf {
    component(
        std::env::var_os("SHOPCASE_WASM_DIR").map(PathBuf::from),
        name,
    )
}

/// [`wasm`], with `SHOPCASE_WASM_DIR`'s value as `dir`.
fn component(dir: Option<PathBuf>, name: &str) -> PathBuf {
    let file = format!("{}.wasm", name.replace('-', "_"));
    if let Some(dir) = dir {
        let path = dir.join(&file);
        assert!(
            path.exists(),
            "{} is missing: SHOPCASE_WASM_DIR names the built test components; build them with `cargo xtask build-plugins`, or unset SHOPCASE_WASM_DIR to build them on demand",
            path.display()
        );
        return path;
    }
    let path = target_dir().join(WASM_TARGET).join("plugin").join(&file);
    static BUILT: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    // Held while building: a second test asking for the same (or another)
    // component waits instead of starting a second cargo.
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if !built.contains(name) {
        if let Err(e) = build(name) {
            panic!("cannot build the test component `{name}`: {e}");
        }
        built.insert(name.to_owned());
    }
    assert!(
        path.exists(),
        "{} is missing after building `{name}`: is `{name}` a workspace crate with `crate-type = [\"cdylib\", ...]`?",
        path.display()
    );
    path
}

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where cargo puts its output: `CARGO_TARGET_DIR` if the tests run with
/// it, else the workspace's `target/`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        Some(d) => workspace().join(d),
        None => workspace().join("target"),
    }
}

/// The builds started, by crate name (what the tests check).
#[cfg(test)]
static BUILDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// `cargo build -p <name> --target wasm32-wasip2 --profile plugin`.
fn build(name: &str) -> Result<(), String> {
    #[cfg(test)]
    BUILDS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(name.to_owned());
    let sysroot = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let lib = Path::new(String::from_utf8_lossy(&sysroot.stdout).trim())
        .join("lib/rustlib")
        .join(WASM_TARGET);
    if !lib.exists() {
        return Err(format!(
            "the Rust target `{WASM_TARGET}` is not installed (no {}): install it with `rustup target add {WASM_TARGET}`, or build the components with `cargo xtask build-plugins` and set SHOPCASE_WASM_DIR",
            lib.display()
        ));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .current_dir(workspace())
        .args(["build", "--quiet", "-p", name, "--target", WASM_TARGET])
        .args(["--profile", "plugin"])
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", Path::new(&cargo).display()))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo build -p {name} --target {WASM_TARGET} --profile plugin` failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_component_is_built_once_on_demand() {
        // Two tests asking at once: one builds, the other waits for it.
        let paths: Vec<PathBuf> = std::thread::scope(|s| {
            let a = s.spawn(|| component(None, "forbidden-import"));
            let b = s.spawn(|| component(None, "forbidden-import"));
            vec![a.join().unwrap(), b.join().unwrap()]
        });
        assert_eq!(paths[0], paths[1]);
        let builds = BUILDS.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(
            builds.iter().filter(|b| *b == "forbidden-import").count(),
            1,
            "{builds:?}"
        );
        assert!(paths[0].ends_with("wasm32-wasip2/plugin/forbidden_import.wasm"));
        let bytes = std::fs::read(&paths[0]).unwrap();
        assert_eq!(&bytes[..4], b"\0asm", "a Wasm binary");
    }

    #[test]
    #[should_panic(expected = "SHOPCASE_WASM_DIR names the built test components")]
    fn a_component_missing_from_shopcase_wasm_dir_is_reported() {
        let empty = std::env::temp_dir().join("shopcase-testkit-no-components");
        component(Some(empty), "hostile");
    }

    #[test]
    #[should_panic(expected = "cannot build the test component `no-such-crate`")]
    fn a_failed_build_is_reported() {
        component(None, "no-such-crate");
    }
}
