//! `shopcase admin token create|list|revoke`: tokens are printed once,
//! stored only as hashes, listed without secrets, refused when malformed.

use std::path::Path;
use std::process::{Command, Output};

fn shopcase(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shopcase"))
        .args(["admin", "token"])
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

#[test]
fn tokens_are_shown_once_stored_hashed_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("shopcase.toml");
    std::fs::write(
        &config,
        "data-dir = \"data\"\nplugins-dir = \"plugins\"\n\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret-env = \"UNSET_IN_THIS_TEST\"\n",
    )
    .unwrap();

    let out = shopcase(
        &config,
        &[
            "create",
            "--name",
            "jane-ops",
            "--role",
            "operator",
            "--by",
            "lead@example.com",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).trim().to_owned();
    assert!(
        token.starts_with("shopcase_") && token.len() == 52,
        "{token}"
    );
    assert!(text(&out.stderr).contains("shown once"));

    let out = shopcase(
        &config,
        &[
            "create",
            "--name",
            "a-admin",
            "--role",
            "store-admin",
            "--store",
            "a.myshopify.com",
            "--by",
            "lead@example.com",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let second = text(&out.stdout).trim().to_owned();
    assert_ne!(token, second);

    // Only hashes reach the database.
    let mut db = Vec::new();
    for f in ["shopcase.db", "shopcase.db-wal"] {
        if let Ok(b) = std::fs::read(dir.path().join("data").join(f)) {
            db.extend(b);
        }
    }
    assert!(!db.is_empty());
    for t in [&token, &second] {
        assert!(
            !db.windows(t.len()).any(|w| w == t.as_bytes()),
            "a token is stored in clear"
        );
    }

    let out = shopcase(&config, &["list", "--json"]);
    assert!(out.status.success());
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = listed.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(
        !text(&out.stdout).contains("shopcase_"),
        "no secrets listed"
    );
    let jane = list.iter().find(|t| t["name"] == "jane-ops").unwrap();
    assert_eq!(jane["role"], "operator");
    assert_eq!(jane["created_by"], "lead@example.com");
    let id = jane["id"].as_str().unwrap().to_owned();

    let out = shopcase(&config, &["revoke", &id, "--by", "lead@example.com"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = shopcase(&config, &["revoke", &id, "--by", "lead@example.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already revoked"));
    let out = shopcase(&config, &["list"]);
    assert!(
        text(&out.stdout).contains("REVOKED"),
        "{}",
        text(&out.stdout)
    );

    // Refusals name what is wrong.
    for (args, want) in [
        (
            vec![
                "create",
                "--name",
                "x",
                "--role",
                "store-admin",
                "--by",
                "me",
            ],
            "needs the stores",
        ),
        (
            vec![
                "create",
                "--name",
                "x",
                "--role",
                "store-admin",
                "--store",
                "zz.myshopify.com",
                "--by",
                "me",
            ],
            "store `zz.myshopify.com` is not configured",
        ),
        (
            vec![
                "create",
                "--name",
                "x",
                "--role",
                "operator",
                "--store",
                "a.myshopify.com",
                "--by",
                "me",
            ],
            "covers every store",
        ),
        (
            vec!["revoke", "tok_nope", "--by", "me"],
            "no API token with id `tok_nope`",
        ),
    ] {
        let out = shopcase(&config, &args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            text(&out.stderr).contains(want),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = shopcase(
        &config,
        &["create", "--name", "x", "--role", "admin", "--by", "me"],
    );
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown role");
    assert!(text(&out.stderr).contains("store-admin"));
}
