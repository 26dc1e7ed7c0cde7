//! `shopcase plugin build`: build a plugin project into a component and
//! package it beside its manifest with the component's sha256.
//!
//! The language is found from the project's files:
//! - `Cargo.toml`: Rust, `cargo build --target wasm32-wasip2 --profile
//!   plugin` (the project defines the `plugin` profile; `plugin new` writes
//!   it);
//! - `src/plugin.js`: JavaScript. The JavaScript SDK, the WIT contract and
//!   the build script are built into this binary and written to
//!   `target/shopcase-build/` in the project; the script bundles the plugin
//!   with the SDK (rolldown) and runs componentize-js, from the toolchain in
//!   `--tools`/`$SHOPCASE_GUEST_TOOLS` (`node/node_modules`) or the project's
//!   own `node_modules`;
//! - `src/plugin.py`: Python, componentize-py `--stub-wasi` (so the
//!   component imports no WASI) with the Python SDK and the WIT contract
//!   written the same way, from `--tools` (`venv/bin/componentize-py`) or
//!   `PATH`.
//!
//! The SDKs and WIT this binary carries are the ones its sandbox runs, so a
//! plugin built by a given `shopcase` always matches it.

use std::path::{Path, PathBuf};
use std::process::Command;

use shopcase_contract::Manifest;

use super::{BuildArgs, Lang, bad};
use crate::runner::CliError;

/// The WIT package the plugins are built against (`wit/v0.1.0`).
const WIT: &[(&str, &str)] = &[
    ("host.wit", include_str!("../../../../wit/v0.1.0/host.wit")),
    (
        "types.wit",
        include_str!("../../../../wit/v0.1.0/types.wit"),
    ),
    (
        "world.wit",
        include_str!("../../../../wit/v0.1.0/world.wit"),
    ),
];
/// The JavaScript SDK (`@shopcase/sdk`).
const JS_SDK: &str = include_str!("../../../../sdk/js/src/index.js");
/// The JavaScript build script (rolldown + componentize-js).
const JS_BUILD: &str = include_str!("../../../../sdk/js/tools/componentize.mjs");
/// The JavaScript toolchain's pins, for the hint when it is missing.
const JS_TOOLS: &str = include_str!("../../../../sdk/js/tools/package.json");
/// The Python SDK (`shopcase_sdk`).
const PY_SDK: &str = include_str!("../../../../sdk/python/shopcase_sdk/__init__.py");
/// The pinned componentize-py.
const PY_TOOL: &str = "componentize-py==0.25.1";

/// Build and package; returns the packaged `plugin.toml`.
pub(super) fn run(args: &BuildArgs) -> Result<PathBuf, CliError> {
    let dir = &args.dir;
    let source = dir.join("plugin.toml");
    let manifest = Manifest::load(&source).map_err(|e| bad(e.to_string()))?;
    if manifest.component.is_some() {
        return Err(bad(format!(
            "{} is already a packaged manifest (it has a [component] table); build from the plugin's source directory",
            source.display()
        )));
    }
    let lang = detect(dir)?;
    let work = dir.join("target/shopcase-build");
    std::fs::create_dir_all(&work)
        .map_err(|e| bad(format!("cannot create {}: {e}", work.display())))?;
    eprintln!(
        "building {} plugin `{}` ({lang})",
        manifest.id, manifest.version
    );
    let component = match lang {
        Lang::Rust => build_rust(dir)?,
        Lang::Js => build_js(dir, &work, args.tools.as_deref())?,
        Lang::Python => build_python(dir, &work, args.tools.as_deref())?,
    };
    let out = args.out.clone().unwrap_or_else(|| dir.join("dist"));
    let packaged =
        shopcase_contract::manifest::package(&source, &component, &out.join(&manifest.id))
            .map_err(|e| bad(e.to_string()))?;
    let m = Manifest::load(&packaged).map_err(|e| bad(e.to_string()))?;
    let c = m.component().map_err(|e| bad(e.to_string()))?;
    let size = std::fs::metadata(&c.path).map(|m| m.len()).unwrap_or(0);
    println!("packaged {}", packaged.display());
    println!("component {} ({size} bytes)", c.path.display());
    println!("sha256 {}", c.sha256);
    Ok(packaged)
}

/// The project's language, from its files.
fn detect(dir: &Path) -> Result<Lang, CliError> {
    if dir.join("Cargo.toml").is_file() {
        Ok(Lang::Rust)
    } else if dir.join("src/plugin.js").is_file() {
        Ok(Lang::Js)
    } else if dir.join("src/plugin.py").is_file() {
        Ok(Lang::Python)
    } else if dir.join("src/plugin.c").is_file() {
        Err(bad(
            "C plugins are built with wit-bindgen, clang and wit-component (see docs/plugin-guide.md, \"C\"); \
             `plugin build` builds Rust, JavaScript and Python",
        ))
    } else {
        Err(bad(format!(
            "{} is not a plugin project this command can build: expected Cargo.toml (Rust), src/plugin.js (JavaScript) or src/plugin.py (Python)",
            dir.display()
        )))
    }
}

fn build_rust(dir: &Path) -> Result<PathBuf, CliError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--target",
        "wasm32-wasip2",
        "--profile",
        "plugin",
        "--message-format=json-render-diagnostics",
    ])
    .arg("--manifest-path")
    .arg(dir.join("Cargo.toml"))
    .stderr(std::process::Stdio::inherit());
    let out = cmd.output().map_err(|e| {
        bad(format!(
            "cannot run cargo: {e} (install Rust from https://rustup.rs)"
        ))
    })?;
    if !out.status.success() {
        return Err(CliError::failed(format!(
            "cargo build failed ({}); if the target is missing: `rustup target add wasm32-wasip2`",
            out.status
        )));
    }
    cdylib_wasm(&String::from_utf8_lossy(&out.stdout)).ok_or_else(|| {
        bad(format!(
            "cargo built no .wasm: {} must have `crate-type = [\"cdylib\"]` under [lib]",
            dir.join("Cargo.toml").display()
        ))
    })
}

/// The `.wasm` of the cdylib in cargo's JSON messages.
fn cdylib_wasm(messages: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .filter(|m| {
            m["target"]["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "cdylib"))
        })
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .rfind(|f| f.extension().is_some_and(|e| e == "wasm"))
}

/// Write the WIT package into `work/wit`.
fn stage_wit(work: &Path) -> Result<PathBuf, CliError> {
    let wit = work.join("wit");
    std::fs::create_dir_all(&wit)
        .map_err(|e| bad(format!("cannot create {}: {e}", wit.display())))?;
    for (name, text) in WIT {
        write(&wit.join(name), text)?;
    }
    Ok(wit)
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| bad(format!("cannot create {}: {e}", parent.display())))?;
    }
    std::fs::write(path, text).map_err(|e| bad(format!("cannot write {}: {e}", path.display())))
}

fn build_js(dir: &Path, work: &Path, tools: Option<&Path>) -> Result<PathBuf, CliError> {
    let has_toolchain = |d: &Path| {
        d.join("node_modules/@bytecodealliance/componentize-js/package.json")
            .is_file()
    };
    let toolchain = match tools {
        Some(t) if has_toolchain(&t.join("node")) => t.join("node"),
        Some(t) if has_toolchain(t) => t.to_owned(),
        _ if has_toolchain(dir) => dir.to_owned(),
        _ => {
            return Err(bad(format!(
                "the JavaScript toolchain (componentize-js) was not found{}. In the shopcase repository, `cargo xtask` installs it \
                 into target/guest-tools (pass --tools target/guest-tools); elsewhere, put this package.json in {} and run `npm install`:\n{JS_TOOLS}",
                tools
                    .map(|t| format!(" in {}", t.display()))
                    .unwrap_or_else(|| " (no --tools or SHOPCASE_GUEST_TOOLS)".into()),
                dir.display()
            )));
        }
    };
    let wit = stage_wit(work)?;
    let sdk = work.join("sdk/js/index.js");
    write(&sdk, JS_SDK)?;
    let script = work.join("componentize.mjs");
    write(&script, JS_BUILD)?;
    let out = work.join("plugin.wasm");
    let status = Command::new("node")
        .arg(&script)
        .arg("--tools")
        .arg(&toolchain)
        .arg("--entry")
        .arg(dir.join("src/plugin.js"))
        .arg("--sdk")
        .arg(&sdk)
        .arg("--wit")
        .arg(&wit)
        .arg("--work")
        .arg(work)
        .arg("--out")
        .arg(&out)
        .status()
        .map_err(|e| {
            bad(format!(
                "cannot run node: {e} (Node.js 18 or newer is needed)"
            ))
        })?;
    if !status.success() {
        return Err(CliError::failed(format!(
            "the JavaScript build failed ({status})"
        )));
    }
    Ok(out)
}

fn build_python(dir: &Path, work: &Path, tools: Option<&Path>) -> Result<PathBuf, CliError> {
    let tool = match tools {
        Some(t) if t.join("venv/bin/componentize-py").is_file() => {
            t.join("venv/bin/componentize-py")
        }
        Some(t) if t.join("bin/componentize-py").is_file() => t.join("bin/componentize-py"),
        _ => PathBuf::from("componentize-py"),
    };
    let wit = stage_wit(work)?;
    let sdk = work.join("sdk/python");
    write(&sdk.join("shopcase_sdk/__init__.py"), PY_SDK)?;
    let out = work.join("plugin.wasm");
    // --stub-wasi: no WASI imports at all (componentize-py otherwise
    // imports the filesystem and sockets, which the sandbox refuses).
    let status = Command::new(&tool)
        .arg("-d")
        .arg(&wit)
        .args(["-w", "plugin", "componentize", "--stub-wasi", "-p"])
        .arg(dir.join("src"))
        .arg("-p")
        .arg(&sdk)
        .arg("plugin")
        .arg("-o")
        .arg(&out)
        .status()
        .map_err(|e| {
            bad(format!(
                "cannot run {}: {e}. In the shopcase repository, `cargo xtask` installs it into target/guest-tools \
                 (pass --tools target/guest-tools); elsewhere `pip install {PY_TOOL}` in a virtualenv",
                tool.display()
            ))
        })?;
    if !status.success() {
        return Err(CliError::failed(format!(
            "componentize-py failed ({status})"
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_detected_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let err = detect(dir.path()).unwrap_err().to_string();
        assert!(err.contains("expected Cargo.toml (Rust)"), "{err}");
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/plugin.py"), "").unwrap();
        assert_eq!(detect(dir.path()).unwrap(), Lang::Python);
        std::fs::write(dir.path().join("src/plugin.js"), "").unwrap();
        assert_eq!(detect(dir.path()).unwrap(), Lang::Js);
        std::fs::write(dir.path().join("Cargo.toml"), "").unwrap();
        assert_eq!(detect(dir.path()).unwrap(), Lang::Rust);
    }

    #[test]
    fn the_cdylib_is_found_among_cargo_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"kind":["lib"]},"filenames":["/t/libserde.rlib"]}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"kind":["cdylib"]},"filenames":["/t/wasm32-wasip2/plugin/big_orders.wasm"]}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            cdylib_wasm(messages),
            Some(PathBuf::from("/t/wasm32-wasip2/plugin/big_orders.wasm"))
        );
        assert_eq!(cdylib_wasm("garbage"), None);
    }

    #[test]
    fn the_embedded_wit_is_the_contract() {
        assert!(
            WIT.iter()
                .any(|(_, t)| t.contains("package shopcase:plugin@0.1.0;"))
        );
        assert!(JS_SDK.contains("export function definePlugin"));
        assert!(PY_SDK.contains("def plugin(handle: HandleFn) -> type:"));
    }
}
