//! `shopcase store approve`: a plugin replaced on disk shows what it adds
//! in `store list`, and is approved by name, audited; approving again is
//! refused.

use std::path::Path;
use std::process::{Command, Output};

fn store(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shopcase"))
        .arg("store")
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("SHOPCASE_ACTOR")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Package plugin `fraud` 1.0.0 with `extra` grants and a stand-in
/// component (approving hashes the file; nothing here loads it).
fn package(dir: &Path, extra: &str, component: &[u8]) {
    let src = tempfile::tempdir().unwrap();
    let manifest = src.path().join("plugin.toml");
    std::fs::write(
        &manifest,
        format!("[plugin]\nid = \"fraud\"\nversion = \"1.0.0\"\napi = \"0.1.0\"\ntopics = [\"orders/create\"]\n\n[grants]\nactions = [\"tags-add\"]\n{extra}\n"),
    )
    .unwrap();
    let wasm = src.path().join("fraud.wasm");
    std::fs::write(&wasm, component).unwrap();
    shopcase_contract::manifest::package(&manifest, &wasm, &dir.join("plugins/fraud")).unwrap();
}

#[test]
fn a_replaced_plugin_is_listed_as_pending_and_approved_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("shopcase.toml");
    std::fs::write(
        &config,
        "data-dir = \"data\"\nplugins-dir = \"plugins\"\n\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret-env = \"UNSET_IN_THIS_TEST\"\n",
    )
    .unwrap();
    package(dir.path(), "", b"build 1");
    let shop = ["--shop", "a.myshopify.com", "--plugin", "fraud"];
    let out = store(
        &config,
        &[&["enable"][..], &shop, &["--by", "ops"]].concat(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    package(dir.path(), "data = [\"payment-details\"]", b"build 2");
    let out = store(&config, &["list"]);
    assert!(
        text(&out.stdout).contains("    approval: pending — grants added: data payment-details"),
        "{}",
        text(&out.stdout)
    );

    let out = store(&config, &[&["approve"][..], &shop].concat());
    assert!(!out.status.success(), "--by is required");
    let out = store(
        &config,
        &[&["approve"][..], &shop, &["--by", "sec"]].concat(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.starts_with("approved fraud 1.0.0 for a.myshopify.com: sha256 ")
            && said.contains("; grants added: data payment-details"),
        "{said}"
    );
    let out = store(&config, &["list"]);
    assert!(
        text(&out.stdout).contains("    approval: approved by sec at "),
        "{}",
        text(&out.stdout)
    );
    let out = store(
        &config,
        &[&["approve"][..], &shop, &["--by", "sec"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the content on disk is already approved"),
        "{}",
        text(&out.stderr)
    );
}
