//! `shopcase inbound sign`: a report signed as an `[[inbound]]` source
//! would sign it, checked against the schema and the source's stores and
//! kinds before anything is sent.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn scenario(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/events/scenarios")
        .join(path)
}

/// A configuration with one source, `helpdesk`, allowed complaints about
/// the demo store, signing with `secret`.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hd-secret"), "secret\n").unwrap();
    std::fs::write(
        dir.path().join("shopcase.toml"),
        "data-dir = \"d\"\n[[stores]]\ndomain = \"demo.myshopify.com\"\nwebhook-secret = \"x\"\n\n[[inbound]]\nname = \"helpdesk\"\nsecret-file = \"hd-secret\"\nshops = [\"demo.myshopify.com\"]\nkinds = [\"complaint\"]\n",
    )
    .unwrap();
    dir
}

fn sign(dir: &Path, args: &[&str]) -> (Output, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_shopcase"))
        .args(["inbound", "sign", "--json", "--config"])
        .arg(dir.join("shopcase.toml"))
        .args(args)
        .output()
        .expect("run shopcase inbound sign");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, v)
}

#[test]
fn a_body_is_signed_byte_for_byte_and_a_bad_one_is_explained() {
    let dir = setup();
    let body = dir.path().join("body.json");
    std::fs::write(&body, br#"{"id":1}"#).unwrap();
    let (out, v) = sign(
        dir.path(),
        &["--source", "helpdesk", body.to_str().unwrap()],
    );
    // printf '{"id":1}' | openssl dgst -sha256 -hmac secret -binary | base64
    assert_eq!(
        v["signature"], "A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc=",
        "{v}"
    );
    assert_eq!(v["header"], "X-Shopcase-Signature");
    assert!(
        v["problem"]
            .as_str()
            .unwrap()
            .starts_with("malformed-body:"),
        "{v}"
    );
    assert_eq!(out.status.code(), Some(1), "the host would refuse it");
}

#[test]
fn a_scenario_file_becomes_the_body_its_source_posts() {
    let dir = setup();
    let signed = dir.path().join("signed.json");
    let (out, v) = sign(
        dir.path(),
        &[
            "--source",
            "helpdesk",
            "--out",
            signed.to_str().unwrap(),
            scenario("returns/12-helpdesk-complaint.json")
                .to_str()
                .unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["problem"], Value::Null);
    let bytes = std::fs::read(&signed).unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["shop"], "demo.myshopify.com");
    assert_eq!(body["kind"], "complaint");
    assert!(body.get("source").is_none(), "the path names the source");
    assert_eq!(
        v["signature"].as_str().unwrap(),
        shopcase_pipeline::ingress::hmac::sign(b"secret", &bytes)
    );
}

#[test]
fn what_the_source_may_not_send_is_named_and_an_unknown_source_is_bad_input() {
    let dir = setup();
    let (out, v) = sign(
        dir.path(),
        &[
            "--source",
            "helpdesk",
            scenario("delivery-issues/14-carrier-exception-lost.json")
                .to_str()
                .unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        v["problem"]
            .as_str()
            .unwrap()
            .starts_with("kind-not-allowed: `helpdesk` may not send `carrier-exception`"),
        "{v}"
    );
    let (out, v) = sign(
        dir.path(),
        &[
            "--source",
            "zendesk",
            scenario("returns/12-helpdesk-complaint.json")
                .to_str()
                .unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no [[inbound]] source named `zendesk` (configured: helpdesk)"),
        "{v}"
    );
}
