//! `shopcase config check`: what `serve` would refuse, with file, line and
//! key, and warnings for risky choices, without serving.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn check(path: &Path) -> (i32, Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shopcase"))
        .args(["config", "check", "--json", "--config"])
        .arg(path)
        .output()
        .expect("run shopcase config check");
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn errors_name_file_line_and_key_and_risky_choices_are_warned() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("plugins")).unwrap();
    std::fs::write(dir.path().join("secret"), "s3cret").unwrap();
    let d = dir.path().display();
    let good = format!(
        r#"data-dir = "{d}/data"
plugins-dir = "{d}/plugins"

[[stores]]
domain = "a.myshopify.com"
webhook-secret-file = "{d}/secret"
"#
    );
    let path = dir.path().join("shopcase.toml");
    std::fs::write(&path, &good).unwrap();
    let (code, out, _) = check(&path);
    assert_eq!((code, &out["valid"]), (0, &Value::Bool(true)), "{out}");
    assert_eq!(out["errors"], serde_json::json!([]));

    // Risky, but valid: each choice is named.
    let risky = good.clone()
        + "admin-base-url = \"http://shop.example.com\"\nadmin-token-file = \""
        + &d.to_string()
        + "/secret\"\n\n[storage]\nretention = \"off\"\n\n[executor]\noutage-window = \"10m\"\n";
    std::fs::write(&path, &risky).unwrap();
    let (code, out, _) = check(&path);
    assert_eq!(code, 0, "{out}");
    let warnings = out["warnings"].to_string();
    for w in [
        "stores[0].admin-base-url",
        "storage.retention",
        "executor.outage-window",
    ] {
        assert!(warnings.contains(w), "{w} in {warnings}");
    }

    // An error: the file, the line and the key; exit 1.
    let bad = good.replace("[[stores]]", "[server]\nmax-age = \"soon\"\n\n[[stores]]");
    std::fs::write(&path, &bad).unwrap();
    let (code, out, _) = check(&path);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["valid"], false);
    assert_eq!(out["errors"][0]["key"], "server.max-age");
    assert_eq!(out["errors"][0]["line"], 5);
    assert!(
        out["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not a duration"),
        "{out}"
    );
    // A secret file that is not there is the same kind of error.
    std::fs::write(&path, good.replace("/secret\"", "/missing\"")).unwrap();
    let (code, out, _) = check(&path);
    assert_eq!(code, 1, "{out}");
    assert_eq!(out["errors"][0]["key"], "stores[0].webhook-secret-file");
    assert_eq!(out["errors"][0]["line"], 6);

    // No file at all: exit 2.
    assert_eq!(check(&dir.path().join("nope.toml")).0, 2);
}
