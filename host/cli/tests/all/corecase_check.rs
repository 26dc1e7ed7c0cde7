//! `shopcase corecase check` against the Core Case emulator, as an operator
//! would run it before pointing a host at a real tenant.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// A configuration whose `[corecase]` points at `base` with `secret`.
fn config(dir: &Path, base: &str, secret: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("corecase-secret"), secret).unwrap();
    let path = dir.join("shopcase.toml");
    std::fs::write(
        &path,
        format!(
            r#"data-dir = "{d}/data"
plugins-dir = "{d}/plugins"

[corecase]
api-base = "{base}"
auth-base = "{base}"
tenant-id = "shopcase-dev"
client-id = "shopcase-dev"
client-secret-file = "{d}/corecase-secret"
allow-plain-http = true
discover-case-types = true
"#,
            d = dir.display()
        ),
    )
    .unwrap();
    path
}

fn check(config: &Path, extra: &[&str]) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_shopcase"))
        .args(["corecase", "check", "--json", "--config"])
        .arg(config)
        .args(extra)
        .output()
        .expect("run shopcase corecase check");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json)
}

fn points(report: &Value) -> Vec<(String, bool)> {
    report["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["holds"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_contract_point_holds_against_the_emulator_and_a_wrong_secret_is_named() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emulator = rt
        .block_on(shopcase_corecase_emulator::spawn(Default::default()))
        .unwrap();
    let base = emulator.base_url().to_string();
    let secret = emulator.client_settings().client_secret.expose().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let good = config(dir.path(), base.trim_end_matches('/'), &secret);

    // Read-only: the token and the definitions.
    let (code, report) = check(&good, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        points(&report)[0],
        ("token and case definitions".into(), true)
    );
    assert!(
        emulator.emulator().cases().is_empty(),
        "read-only opens nothing"
    );

    // --write: a probe case through its whole life, closed at the end.
    let (code, report) = check(&good, &["--write"]);
    assert_eq!(code, 0, "{report}");
    let names: Vec<String> = points(&report).into_iter().map(|(n, _)| n).collect();
    for step in [
        "create a case",
        "create again, same key",
        "find by externalReference",
        "update case data",
        "add a comment",
        "upload an attachment",
        "create a task",
        "list with updatedSince",
        "status CLOSED",
    ] {
        assert!(names.iter().any(|n| n == step), "{step} in {names:?}");
    }
    let cases = emulator.emulator().cases();
    assert_eq!(cases.len(), 1, "one probe case, not two");
    assert_eq!(cases[0]["status"], "CLOSED");

    // The wrong client secret: the first point differs, exit 1.
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = config(bad_dir.path(), base.trim_end_matches('/'), "not-the-secret");
    let (code, report) = check(&bad, &[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(
        points(&report),
        [("token and case definitions".into(), false)]
    );

    // No [corecase]: nothing to check, exit 2.
    let none = bad_dir.path().join("none.toml");
    std::fs::write(&none, "data-dir = \"data\"\n").unwrap();
    assert_eq!(check(&none, &[]).0, 2);
    rt.block_on(emulator.shutdown());
}
