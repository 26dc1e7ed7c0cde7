//! `shopcase plugin new | build | test` and the conformance kit.
//!
//! - every example (Rust, JavaScript, Python, C) passes the same fixtures,
//!   `examples/fixtures/high-value-order`, in the server's sandbox;
//! - a mismatch prints a diff and exits 1; bad input exits 2;
//! - `plugin new` → `plugin build` → `plugin test` is green for Rust,
//!   JavaScript and Python.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shopcase() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shopcase"))
}

fn text(out: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A directory from an environment variable the xtask sets, or `None` (the
/// test is skipped) when it is absent and guests are not required.
fn guest_dir(var: &str) -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(var).map(PathBuf::from)
        && d.is_dir()
    {
        return Some(d);
    }
    let why = format!(
        "{var} does not name a directory: run the guest tests through `cargo xtask test`, which installs the guest \
         toolchains into target/guest-tools, builds the examples into target/guest-plugins and sets it"
    );
    assert!(
        std::env::var("SHOPCASE_REQUIRE_GUESTS").as_deref() != Ok("1"),
        "{why}"
    );
    eprintln!("skipped: {why}");
    None
}

/// Precompiled components, shared by every test run: the JavaScript and
/// Python components take seconds to compile.
fn cache_dir(tools: &Path) -> PathBuf {
    tools.join("cwasm-cache")
}

fn fixtures() -> PathBuf {
    repo().join("examples/fixtures/high-value-order")
}

fn fixture_count() -> usize {
    std::fs::read_dir(fixtures().join("events"))
        .unwrap()
        .count()
}

fn run_test(plugin: &Path, fixtures: &Path, cache: &Path) -> (Output, serde_json::Value) {
    let out = shopcase()
        .args(["plugin", "test", "--json", "--plugin"])
        .arg(plugin)
        .arg("--fixtures")
        .arg(fixtures)
        .arg("--cache-dir")
        .arg(cache)
        .output()
        .unwrap();
    let report =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    (out, report)
}

#[test]
fn every_example_language_passes_the_same_fixtures() {
    let (Some(examples), Some(tools)) = (
        guest_dir("SHOPCASE_EXAMPLE_PLUGINS"),
        guest_dir("SHOPCASE_GUEST_TOOLS"),
    ) else {
        return;
    };
    let total = fixture_count();
    assert!(total >= 10, "the kit has {total} fixtures");
    for lang in ["rust", "js", "python", "c"] {
        let plugin = examples.join(lang).join("high-value-order");
        let (out, report) = run_test(&plugin, &fixtures(), &cache_dir(&tools));
        let failures: Vec<String> = report["fixtures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["verdict"] != "pass")
            .map(|f| {
                format!(
                    "{}: {}",
                    f["name"],
                    f["detail"].as_str().unwrap_or_default()
                )
            })
            .collect();
        assert!(
            out.status.success(),
            "{lang}: {}\n{}",
            failures.join("\n"),
            text(&out)
        );
        assert_eq!(report["passed"], total, "{lang}: {}", text(&out));
        // Every fixture really ran in the sandbox: it used fuel.
        for f in report["fixtures"].as_array().unwrap() {
            assert!(
                f["budget"]["fuel"]["used"].as_u64().unwrap() > 0,
                "{lang}: {f}"
            );
        }
    }
}

#[test]
fn a_mismatch_prints_a_diff_and_exits_1() {
    let (Some(examples), Some(tools)) = (
        guest_dir("SHOPCASE_EXAMPLE_PLUGINS"),
        guest_dir("SHOPCASE_GUEST_TOOLS"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for sub in ["events", "expected"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
        for name in ["above", "below"] {
            std::fs::copy(
                fixtures().join(sub).join(format!("{name}.json")),
                dir.path().join(sub).join(format!("{name}.json")),
            )
            .unwrap();
        }
    }
    let expected = dir.path().join("expected/above.json");
    let wrong = std::fs::read_to_string(&expected)
        .unwrap()
        .replace("\"medium\"", "\"critical\"");
    std::fs::write(&expected, wrong).unwrap();

    let out = shopcase()
        .args(["plugin", "test", "--plugin"])
        .arg(examples.join("c/high-value-order"))
        .arg("--fixtures")
        .arg(dir.path())
        .arg("--cache-dir")
        .arg(cache_dir(&tools))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stdout.contains("FAIL  above"), "{stdout}");
    assert!(stdout.contains("PASS  below"), "{stdout}");
    assert!(
        stdout
            .contains("-      \"priority\": \"critical\",\n      +      \"priority\": \"medium\","),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("1 passed, 1 failed"),
        "{stdout}"
    );
}

#[test]
fn bad_input_exits_2_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    // A source manifest is not a packaged plugin.
    let out = shopcase()
        .args(["plugin", "test", "--plugin"])
        .arg(repo().join("examples/js/high-value-order"))
        .arg("--fixtures")
        .arg(fixtures())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("is a source manifest: build the plugin first"),
        "{}",
        text(&out)
    );

    // `plugin build` of a directory that is no plugin project.
    std::fs::write(
        dir.path().join("plugin.toml"),
        std::fs::read_to_string(repo().join("examples/js/high-value-order/plugin.toml")).unwrap(),
    )
    .unwrap();
    let out = shopcase()
        .args(["plugin", "build", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(
        "expected Cargo.toml (Rust), src/plugin.js (JavaScript) or src/plugin.py (Python)"
    ));

    // `plugin new` refuses an id that is not one.
    let out = shopcase()
        .args(["plugin", "new", "--lang", "js", "Not_An_Id", "--dir"])
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// `plugin new` → `plugin build` → `plugin test` for one language.
fn round_trip(lang: &str) {
    let Some(tools) = guest_dir("SHOPCASE_GUEST_TOOLS") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let id = format!("demo-{lang}");
    let project = dir.path().join(&id);

    let out = shopcase()
        .args(["plugin", "new", "--lang", lang, &id, "--dir"])
        .arg(&project)
        .arg("--rust-sdk")
        .arg(repo().join("sdk/rust"))
        .output()
        .unwrap();
    assert!(out.status.success(), "new: {}", text(&out));
    assert!(project.join("plugin.toml").is_file());

    let out = shopcase()
        .args(["plugin", "build", "--dir"])
        .arg(&project)
        .arg("--tools")
        .arg(&tools)
        // Rust: share compiled dependencies between runs.
        .env("CARGO_TARGET_DIR", tools.join("cargo-target"))
        .output()
        .unwrap();
    assert!(out.status.success(), "build: {}", text(&out));
    let packaged = project.join("dist").join(&id);
    let manifest = std::fs::read_to_string(packaged.join("plugin.toml")).unwrap();
    let wasm = std::fs::read(packaged.join(format!("{id}.wasm"))).unwrap();
    let sha = shopcase_contract::manifest::sha256_hex(&wasm);
    assert!(
        manifest.contains(&format!("sha256 = \"{sha}\"")),
        "{manifest}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&sha),
        "build prints the sha256: {}",
        text(&out)
    );

    let (out, report) = run_test(&packaged, &project.join("fixtures"), &cache_dir(&tools));
    assert!(out.status.success(), "test: {}", text(&out));
    assert_eq!(report["passed"], 2, "{}", text(&out));
    assert_eq!(report["failed"], 0, "{}", text(&out));
}

#[test]
fn new_build_test_is_green_for_rust() {
    round_trip("rust");
}

#[test]
fn new_build_test_is_green_for_javascript() {
    round_trip("js");
}

#[test]
fn new_build_test_is_green_for_python() {
    round_trip("python");
}
