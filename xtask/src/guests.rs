//! Guest toolchains and guest builds: plugins written in JavaScript, Python
//! and C (and the Rust example beside them), built into components the
//! sandbox loads.
//!
//! Everything is installed **inside the repository** (under
//! `target/guest-tools/`), never globally, and only when its pinned inputs
//! changed, so `cargo xtask test` on a fresh clone installs once and later
//! runs reuse it:
//! - JavaScript: Node.js and npm from the machine; `npm ci` of
//!   `sdk/js/tools/package.json` (componentize-js, its missing
//!   preview2-shim, rolldown) into `target/guest-tools/node/`;
//! - Python: `python3 -m venv target/guest-tools/venv` and
//!   `pip install -r sdk/python/tools/requirements.txt` (componentize-py);
//! - C: clang, wasm-ld and wasi-libc from Debian (`apt-get install` when
//!   running as root and they are missing); the bindings come from the
//!   `wit-bindgen-c` crate and the component from the `wit-component` crate
//!   with the WASI preview1 adapter from
//!   `wasi-preview1-component-adapter-provider`, all used as libraries here
//!   (no `wit-bindgen`/`wasm-tools` binaries to install).
//!
//! When something cannot be installed, the error says exactly what is
//! missing and how to get it.
//!
//! Builds are cached too: each packaged plugin records a hash of its inputs
//! (sources, SDK, WIT, toolchain pins) and is rebuilt only when they change.
//!
//! # Layout
//! - [`Guests`]: the repository's paths and every operation below;
//! - installing: [`Guests::install`] (all, or per language);
//! - building: [`Guests::build_examples`] (the four `high-value-order`
//!   examples into `target/guest-plugins/<lang>/high-value-order/`) and
//!   [`Guests::build`] for one plugin directory;
//! - testing: [`Guests::test_env`] (the environment `cargo test` needs to
//!   find tools and built examples) and [`Guests::test_sdks`] (the JS and
//!   Python SDKs' own unit tests).

#![allow(
    dead_code,
    reason = "a toolkit for the xtask's commands: not every command uses every function"
)]

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use shopcase_contract::manifest::{package, sha256_hex};

/// Where guest toolchains are installed, relative to the repository.
pub(crate) const TOOLS_DIR: &str = "target/guest-tools";
/// Where the built examples are packaged, relative to the repository.
pub(crate) const PLUGINS_DIR: &str = "target/guest-plugins";
/// The environment variable naming the guest tools directory (read by
/// `shopcase plugin build` and the CLI's tests).
pub(crate) const ENV_TOOLS: &str = "SHOPCASE_GUEST_TOOLS";
/// The environment variable naming the built examples directory (read by the
/// CLI's conformance test).
pub(crate) const ENV_EXAMPLES: &str = "SHOPCASE_EXAMPLE_PLUGINS";
/// Set to `1` so the CLI's guest tests fail, instead of skipping, when the
/// tools or the built examples are absent.
pub(crate) const ENV_REQUIRE: &str = "SHOPCASE_REQUIRE_GUESTS";
/// The example every language implements.
pub(crate) const EXAMPLE: &str = "high-value-order";

/// A guest language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Lang {
    /// `cargo build --target wasm32-wasip2 --profile plugin`.
    Rust,
    /// componentize-js.
    Js,
    /// componentize-py.
    Python,
    /// clang + wasi-libc + wit-bindgen-c + wit-component.
    C,
}

impl Lang {
    /// Every language, in the order the examples are built.
    pub(crate) const ALL: [Lang; 4] = [Lang::Rust, Lang::Js, Lang::Python, Lang::C];

    /// The directory name under `examples/` and `target/guest-plugins/`.
    pub(crate) fn dir_name(self) -> &'static str {
        match self {
            Lang::Rust => "rust",
            Lang::Js => "js",
            Lang::Python => "python",
            Lang::C => "c",
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Lang::Rust => "Rust",
            Lang::Js => "JavaScript",
            Lang::Python => "Python",
            Lang::C => "C",
        })
    }
}

/// A packaged plugin.
#[derive(Debug, Clone)]
pub(crate) struct Built {
    /// The language it is written in.
    pub(crate) lang: Lang,
    /// The packaged `plugin.toml` (beside `<id>.wasm`).
    pub(crate) manifest: PathBuf,
    /// The component's sha256.
    pub(crate) sha256: String,
    /// The component's size in bytes.
    pub(crate) bytes: u64,
    /// False when the cached package was still up to date.
    pub(crate) rebuilt: bool,
}

/// The repository's guest toolchains and builds.
#[derive(Debug, Clone)]
pub(crate) struct Guests {
    repo: PathBuf,
}

impl Guests {
    /// Guests of the repository at `repo` (the workspace root).
    pub(crate) fn new(repo: impl Into<PathBuf>) -> Guests {
        Guests { repo: repo.into() }
    }

    /// `target/guest-tools`, absolute.
    pub(crate) fn tools_dir(&self) -> PathBuf {
        self.repo.join(TOOLS_DIR)
    }

    /// `target/guest-plugins`, absolute.
    pub(crate) fn plugins_dir(&self) -> PathBuf {
        self.repo.join(PLUGINS_DIR)
    }

    /// The packaged example for a language:
    /// `target/guest-plugins/<lang>/high-value-order/plugin.toml`.
    pub(crate) fn example_manifest(&self, lang: Lang) -> PathBuf {
        self.plugins_dir()
            .join(lang.dir_name())
            .join(EXAMPLE)
            .join("plugin.toml")
    }

    /// The environment `cargo test -p shopcase` needs for its guest tests:
    /// where the tools are, where the built examples are, and that their
    /// absence is a failure.
    pub(crate) fn test_env(&self) -> Vec<(&'static str, OsString)> {
        vec![
            (ENV_TOOLS, self.tools_dir().into_os_string()),
            (ENV_EXAMPLES, self.plugins_dir().into_os_string()),
            (ENV_REQUIRE, "1".into()),
        ]
    }

    // ---- installing ---------------------------------------------------------

    /// Install (or check) the toolchains of `langs`. All are tried; the
    /// error lists every one that is missing, with how to get it.
    pub(crate) fn install(&self, langs: &[Lang]) -> Result<()> {
        let mut missing = String::new();
        for &lang in langs {
            let started = Instant::now();
            let result = match lang {
                Lang::Rust => self.install_rust(),
                Lang::Js => self.install_js(),
                Lang::Python => self.install_python(),
                Lang::C => self.install_c(),
            };
            match result {
                Ok(()) => note(&format!(
                    "{lang} toolchain ready ({:.1} s)",
                    started.elapsed().as_secs_f64()
                )),
                Err(e) => {
                    let _ = writeln!(missing, "- {lang}: {e:#}");
                }
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            bail!("guest toolchains are missing:\n{missing}")
        }
    }

    /// The `wasm32-wasip2` Rust target (`rustup target add` if missing).
    pub(crate) fn install_rust(&self) -> Result<()> {
        let installed = output(Command::new("rustup").args(["target", "list", "--installed"]))
            .context("`rustup` is needed to add the wasm32-wasip2 target (https://rustup.rs)")?;
        if installed.lines().any(|l| l.trim() == "wasm32-wasip2") {
            return Ok(());
        }
        note("adding the Rust target wasm32-wasip2");
        run(Command::new("rustup").args(["target", "add", "wasm32-wasip2"]))
            .context("`rustup target add wasm32-wasip2` failed")
    }

    /// Node.js (18 or newer) and npm from the machine, and `npm ci` of the
    /// pinned toolchain into `target/guest-tools/node`.
    pub(crate) fn install_js(&self) -> Result<()> {
        let node = output(Command::new("node").arg("--version"))
            .or_else(|_| {
                apt_install(&["nodejs", "npm"])?;
                output(Command::new("node").arg("--version"))
            })
            .context("Node.js 18 or newer is needed (Debian: `apt-get install nodejs npm`)")?;
        let major: u32 = node
            .trim()
            .trim_start_matches('v')
            .split('.')
            .next()
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        if major < 18 {
            bail!(
                "Node.js {} is too old: componentize-js needs 18 or newer",
                node.trim()
            );
        }
        output(Command::new("npm").arg("--version"))
            .context("npm is needed (Debian: `apt-get install npm`)")?;

        let src = self.repo.join("sdk/js/tools");
        let dir = self.tools_dir().join("node");
        let lock = std::fs::read(src.join("package-lock.json"))
            .context("reading sdk/js/tools/package-lock.json")?;
        let manifest =
            std::fs::read(src.join("package.json")).context("reading sdk/js/tools/package.json")?;
        let stamp = sha256_hex(&[manifest.as_slice(), lock.as_slice()].concat());
        if is_stamped(&dir, &stamp)
            && dir
                .join("node_modules/@bytecodealliance/componentize-js")
                .is_dir()
        {
            return Ok(());
        }
        note("installing the JavaScript toolchain (npm ci) into target/guest-tools/node");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("package.json"), &manifest)?;
        std::fs::write(dir.join("package-lock.json"), &lock)?;
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir))
        .context("`npm ci` of sdk/js/tools failed (is the npm registry reachable?)")?;
        stamp_dir(&dir, &stamp)
    }

    /// Python 3 from the machine and a venv with componentize-py in
    /// `target/guest-tools/venv`.
    pub(crate) fn install_python(&self) -> Result<()> {
        let python = std::env::var_os("PYTHON").unwrap_or_else(|| "python3".into());
        output(Command::new(&python).arg("--version"))
            .or_else(|_| {
                apt_install(&["python3", "python3-venv"])?;
                output(Command::new(&python).arg("--version"))
            })
            .context("Python 3 is needed (Debian: `apt-get install python3 python3-venv`)")?;
        let requirements = std::fs::read(self.repo.join("sdk/python/tools/requirements.txt"))
            .context("reading sdk/python/tools/requirements.txt")?;
        let dir = self.tools_dir().join("venv");
        let stamp = sha256_hex(&requirements);
        if is_stamped(&dir, &stamp) && dir.join("bin/componentize-py").is_file() {
            return Ok(());
        }
        note("installing the Python toolchain (venv + pip) into target/guest-tools/venv");
        if !dir.join("bin/python").is_file() {
            let venv = |p: &OsString| run(Command::new(p).args(["-m", "venv"]).arg(&dir));
            venv(&python)
                .or_else(|_| {
                    apt_install(&["python3-venv"])?;
                    venv(&python)
                })
                .context("`python3 -m venv` failed (Debian: `apt-get install python3-venv`)")?;
        }
        run(Command::new(dir.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
                "-r",
            ])
            .arg(self.repo.join("sdk/python/tools/requirements.txt")))
        .context(
            "`pip install -r sdk/python/tools/requirements.txt` failed (is PyPI reachable?)",
        )?;
        stamp_dir(&dir, &stamp)
    }

    /// clang, wasm-ld and wasi-libc (Debian: `clang lld wasi-libc
    /// libclang-rt-dev-wasm32`), checked by compiling and linking a tiny
    /// reactor module.
    pub(crate) fn install_c(&self) -> Result<()> {
        if check_c_toolchain(&self.tools_dir()).is_ok() {
            return Ok(());
        }
        apt_install(&["clang", "lld", "wasi-libc", "libclang-rt-dev-wasm32"])?;
        check_c_toolchain(&self.tools_dir()).context(
            "clang cannot build wasm32-wasi modules (Debian: `apt-get install clang lld wasi-libc libclang-rt-dev-wasm32`)",
        )
    }

    // ---- building -------------------------------------------------------------

    /// Build and package the `high-value-order` example of each language
    /// into `target/guest-plugins/<lang>/high-value-order/`.
    pub(crate) fn build_examples(&self, langs: &[Lang]) -> Result<Vec<Built>> {
        let mut built = Vec::new();
        for &lang in langs {
            let src = self
                .repo
                .join("examples")
                .join(lang.dir_name())
                .join(EXAMPLE);
            let out = self.plugins_dir().join(lang.dir_name());
            let started = Instant::now();
            let b = self
                .build(lang, &src, &out)
                .with_context(|| format!("building the {lang} example {}", src.display()))?;
            note(&format!(
                "{lang} {EXAMPLE}: {} ({} bytes, sha256 {}){}",
                b.manifest.display(),
                b.bytes,
                b.sha256,
                if b.rebuilt {
                    format!(", built in {:.1} s", started.elapsed().as_secs_f64())
                } else {
                    ", up to date".to_owned()
                }
            ));
            built.push(b);
        }
        Ok(built)
    }

    /// Build the plugin in `src` (a directory with `plugin.toml`) and package
    /// it into `out/<id>/`. Skipped when the inputs did not change since the
    /// last build.
    pub(crate) fn build(&self, lang: Lang, src: &Path, out: &Path) -> Result<Built> {
        let source_manifest = src.join("plugin.toml");
        let m = shopcase_contract::Manifest::load(&source_manifest)?;
        let pkg_dir = out.join(&m.id);
        let stamp = self.input_hash(lang, src)?;
        let packaged = pkg_dir.join("plugin.toml");
        let wasm = pkg_dir.join(format!("{}.wasm", m.id));
        if is_stamped(&pkg_dir, &stamp) && packaged.is_file() && wasm.is_file() {
            return built(lang, packaged, false);
        }
        let work = self
            .tools_dir()
            .join("work")
            .join(lang.dir_name())
            .join(&m.id);
        std::fs::create_dir_all(&work)?;
        let component = match lang {
            Lang::Rust => self.build_rust(src, &work)?,
            Lang::Js => self.build_js(src, &work)?,
            Lang::Python => self.build_python(src, &work)?,
            Lang::C => self.build_c(src, &work)?,
        };
        let packaged = package(&source_manifest, &component, &pkg_dir)?;
        stamp_dir(&pkg_dir, &stamp)?;
        built(lang, packaged, true)
    }

    fn build_rust(&self, src: &Path, _work: &Path) -> Result<PathBuf> {
        self.install_rust()?;
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = output(
            Command::new(cargo)
                .args([
                    "build",
                    "--target",
                    "wasm32-wasip2",
                    "--profile",
                    "plugin",
                    "--message-format=json-render-diagnostics",
                ])
                .arg("--manifest-path")
                .arg(src.join("Cargo.toml")),
        )?;
        cdylib_artifact(&out).with_context(|| format!("cargo built no .wasm for {}", src.display()))
    }

    fn build_js(&self, src: &Path, work: &Path) -> Result<PathBuf> {
        let tools = self.tools_dir().join("node");
        if !tools
            .join("node_modules/@bytecodealliance/componentize-js")
            .is_dir()
        {
            bail!(
                "the JavaScript toolchain is not installed in {} (run the install step first)",
                tools.display()
            );
        }
        let out = work.join("plugin.wasm");
        run(Command::new("node")
            .arg(self.repo.join("sdk/js/tools/componentize.mjs"))
            .arg("--tools")
            .arg(&tools)
            .arg("--entry")
            .arg(src.join("src/plugin.js"))
            .arg("--sdk")
            .arg(self.repo.join("sdk/js/src/index.js"))
            .arg("--wit")
            .arg(self.repo.join("wit/v0.1.0"))
            .arg("--work")
            .arg(work)
            .arg("--out")
            .arg(&out))?;
        Ok(out)
    }

    fn build_python(&self, src: &Path, work: &Path) -> Result<PathBuf> {
        let componentize_py = self.tools_dir().join("venv/bin/componentize-py");
        if !componentize_py.is_file() {
            bail!(
                "componentize-py is not installed in {} (run the install step first)",
                componentize_py.display()
            );
        }
        let out = work.join("plugin.wasm");
        // --stub-wasi: the component imports no WASI at all (componentize-py
        // would otherwise import filesystem and sockets, which the sandbox
        // refuses).
        run(Command::new(componentize_py)
            .arg("-d")
            .arg(self.repo.join("wit/v0.1.0"))
            .args(["-w", "plugin", "componentize", "--stub-wasi", "-p"])
            .arg(src.join("src"))
            .arg("-p")
            .arg(self.repo.join("sdk/python"))
            .arg("plugin")
            .arg("-o")
            .arg(&out))?;
        Ok(out)
    }

    fn build_c(&self, src: &Path, work: &Path) -> Result<PathBuf> {
        // 1. Bindings: plugin.h, plugin.c and the component type object.
        let bindings = work.join("bindings");
        std::fs::create_dir_all(&bindings)?;
        let mut resolve = wit_parser::Resolve::default();
        let (pkg, _) = resolve.push_dir(self.repo.join("wit/v0.1.0"))?;
        let world = resolve.select_world(&[pkg], Some("plugin"))?;
        let mut files = wit_bindgen_core::Files::default();
        wit_bindgen_c::Opts::default()
            .build()
            .generate(&mut resolve, world, &mut files)?;
        for (name, contents) in files.iter() {
            std::fs::write(bindings.join(name), contents)?;
        }

        // 2. A core module: every .c file of the plugin plus the bindings,
        // as a reactor (no `main`; `_initialize` runs constructors).
        let mut sources: Vec<PathBuf> = std::fs::read_dir(src.join("src"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "c"))
            .collect();
        sources.sort();
        if sources.is_empty() {
            bail!("no .c files in {}", src.join("src").display());
        }
        let core = work.join("core.wasm");
        run(Command::new(clang())
            .args(C_FLAGS)
            .arg("-I")
            .arg(&bindings)
            .arg("-o")
            .arg(&core)
            .args(&sources)
            .arg(bindings.join("plugin.c"))
            .arg(bindings.join("plugin_component_type.o")))?;

        // 3. The component: the module's imports and exports typed by the
        // embedded component type; WASI preview1 calls (if any) adapted to
        // WASI 0.2 by the reactor adapter.
        let module = std::fs::read(&core)?;
        let mut encoder = wit_component::ComponentEncoder::default();
        encoder.module(&module)?.validate(true).adapter(
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )?;
        let component = encoder
            .encode()
            .context("wit-component could not make a component of the C module")?;
        let out = work.join("plugin.wasm");
        std::fs::write(&out, component)?;
        Ok(out)
    }

    /// A hash of everything a build reads: the plugin's files, the SDK and
    /// WIT it is built against, and the toolchain pins.
    fn input_hash(&self, lang: Lang, src: &Path) -> Result<String> {
        let mut inputs: Vec<PathBuf> = vec![self.repo.join("wit/v0.1.0")];
        match lang {
            Lang::Rust => inputs.extend([self.repo.join("sdk/rust"), self.repo.join("Cargo.lock")]),
            Lang::Js => {
                inputs.extend([self.repo.join("sdk/js/src"), self.repo.join("sdk/js/tools")])
            }
            Lang::Python => inputs.extend([
                self.repo.join("sdk/python/shopcase_sdk"),
                self.repo.join("sdk/python/tools"),
            ]),
            Lang::C => {}
        }
        inputs.push(src.to_owned());
        let mut files = Vec::new();
        for i in &inputs {
            collect_files(i, &mut files)?;
        }
        files.sort();
        let mut all = Vec::new();
        for f in &files {
            all.extend_from_slice(f.to_string_lossy().as_bytes());
            all.push(0);
            all.extend_from_slice(&std::fs::read(f)?);
            all.push(0);
        }
        all.extend_from_slice(format!("{lang:?} {C_FLAGS:?}").as_bytes());
        Ok(sha256_hex(&all))
    }

    // ---- SDK tests -------------------------------------------------------------

    /// The JavaScript and Python SDKs' own unit tests (`node --test` with a
    /// fake host, and `unittest` against bindings componentize-py generates).
    pub(crate) fn test_sdks(&self) -> Result<()> {
        run(Command::new("node")
            .arg("--import")
            .arg(self.repo.join("sdk/js/test/register.mjs"))
            .arg("--test")
            .arg(self.repo.join("sdk/js/test/sdk.test.mjs")))
        .context("the JavaScript SDK tests failed")?;
        let bindings = self.tools_dir().join("work/python-bindings");
        // componentize-py refuses to write into an existing directory.
        if bindings.exists() {
            std::fs::remove_dir_all(&bindings)?;
        }
        run(
            Command::new(self.tools_dir().join("venv/bin/componentize-py"))
                .arg("-d")
                .arg(self.repo.join("wit/v0.1.0"))
                .args(["-w", "plugin", "bindings"])
                .arg(&bindings),
        )?;
        run(Command::new(self.tools_dir().join("venv/bin/python"))
            .args(["-m", "unittest", "discover", "-s"])
            .arg(self.repo.join("sdk/python/tests"))
            .args(["-t"])
            .arg(self.repo.join("sdk/python/tests"))
            .env("SHOPCASE_PY_BINDINGS", &bindings)
            .env("PYTHONPATH", self.repo.join("sdk/python")))
        .context("the Python SDK tests failed")?;
        // The SDK's type hints (`py.typed`) and a plugin written against
        // them, checked strictly against the WIT bindings.
        let mypy_path = std::env::join_paths([bindings.clone(), self.repo.join("sdk/python")])?;
        for dir in [
            self.repo.join("sdk/python/shopcase_sdk"),
            self.repo.join("examples/python/high-value-order/src"),
        ] {
            run(Command::new(self.tools_dir().join("venv/bin/mypy"))
                .arg("--strict")
                .arg("--cache-dir")
                .arg(self.tools_dir().join("work/mypy-cache"))
                .arg(&dir)
                .env("MYPYPATH", &mypy_path))
            .with_context(|| format!("mypy --strict found type errors in {}", dir.display()))?;
        }
        Ok(())
    }
}

/// clang flags for a plugin's core module: wasm32-wasi reactor, small and
/// strict.
const C_FLAGS: &[&str] = &[
    "--target=wasm32-wasi",
    "-mexec-model=reactor",
    "-Os",
    "-std=c11",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wl,--strip-debug",
];

fn clang() -> OsString {
    std::env::var_os("CLANG").unwrap_or_else(|| "clang".into())
}

/// Compile and link an empty reactor: proves clang, wasm-ld and wasi-libc.
fn check_c_toolchain(tools: &Path) -> Result<()> {
    let dir = tools.join("work/c-check");
    std::fs::create_dir_all(&dir)?;
    let c = dir.join("check.c");
    std::fs::write(
        &c,
        "#include <stdlib.h>\n#include <stdio.h>\nint f(double x) { char b[32]; snprintf(b, 32, \"%f\", x); return (int)strtod(b, 0); }\n",
    )?;
    run(Command::new(clang())
        .args(C_FLAGS)
        .arg("-Wl,--export=f")
        .arg("-o")
        .arg(dir.join("check.wasm"))
        .arg(&c))
}

/// `apt-get install` when running as root with apt; otherwise say what to
/// install.
pub(crate) fn apt_install(packages: &[&str]) -> Result<()> {
    let root = output(Command::new("id").arg("-u"))
        .map(|u| u.trim() == "0")
        .unwrap_or(false);
    let has_apt = output(Command::new("apt-get").arg("--version")).is_ok();
    if !root || !has_apt {
        bail!(
            "not installed, and this {} cannot install it: run `apt-get install {}` as root",
            if has_apt {
                "user"
            } else {
                "machine (no apt-get)"
            },
            packages.join(" ")
        );
    }
    eprintln!("    apt-get install {}", packages.join(" "));
    let install = || {
        run(Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    install().or_else(|_| {
        // A fresh machine may have no package lists yet.
        run(Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
        install()
    })
}

fn built(lang: Lang, manifest: PathBuf, rebuilt: bool) -> Result<Built> {
    let m = shopcase_contract::Manifest::load(&manifest)?;
    let c = m.component()?;
    let bytes = std::fs::metadata(&c.path)?.len();
    Ok(Built {
        lang,
        sha256: c.sha256.clone(),
        manifest,
        bytes,
        rebuilt,
    })
}

/// The `.wasm` of the cdylib in cargo's JSON messages.
fn cdylib_artifact(messages: &str) -> Option<PathBuf> {
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

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if path.is_file() {
        out.push(path.to_owned());
        return Ok(());
    }
    if !path.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(path)? {
        let p = entry?.path();
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Build outputs and caches are not inputs.
        if matches!(
            name.as_str(),
            "target" | "dist" | "node_modules" | "__pycache__"
        ) || name.starts_with('.')
        {
            continue;
        }
        collect_files(&p, out)?;
    }
    Ok(())
}

const STAMP: &str = ".shopcase-inputs";

pub(crate) fn is_stamped(dir: &Path, stamp: &str) -> bool {
    std::fs::read_to_string(dir.join(STAMP)).is_ok_and(|s| s.trim() == stamp)
}

pub(crate) fn stamp_dir(dir: &Path, stamp: &str) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(STAMP), stamp)?;
    Ok(())
}

fn note(msg: &str) {
    eprintln!("guests: {msg}");
}

/// Run a command with inherited output; an error names it and its status.
fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {}", describe(cmd)))?;
    if !status.success() {
        bail!("{} failed ({status})", describe(cmd));
    }
    Ok(())
}

/// Run a command and return its stdout (stderr inherited).
fn output(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", describe(cmd)))?;
    if !out.status.success() {
        bail!("{} failed ({})", describe(cmd), out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    format!("`{s}`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdylib_wasm_is_found_in_cargo_messages() {
        let messages = r#"{"reason":"compiler-artifact","target":{"kind":["lib"]},"filenames":["/t/libserde.rlib"]}
{"reason":"compiler-artifact","target":{"kind":["cdylib","rlib"]},"filenames":["/t/wasm32-wasip2/plugin/hvo.wasm","/t/libhvo.rlib"]}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            cdylib_artifact(messages),
            Some(PathBuf::from("/t/wasm32-wasip2/plugin/hvo.wasm"))
        );
        assert_eq!(cdylib_artifact("not json\n"), None);
    }

    #[test]
    fn stamps_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_stamped(dir.path(), "abc"));
        stamp_dir(dir.path(), "abc").unwrap();
        assert!(is_stamped(dir.path(), "abc"));
        assert!(!is_stamped(dir.path(), "abd"));
    }
}
