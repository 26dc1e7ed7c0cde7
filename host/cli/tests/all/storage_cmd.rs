//! `shopcase storage migrate`: a host's SQLite data copied into an empty
//! PostgreSQL schema (the JSON report, the data read back through the
//! PostgreSQL configuration), a second run refused naming the tables, and
//! configurations of the wrong engine refused before anything is opened.
//!
//! The copy needs PostgreSQL: `SHOPCASE_TEST_DATABASE_URL` (`cargo xtask
//! test` sets it; `cargo xtask postgres start` prints it). Without it that
//! test fails, saying so, like every PostgreSQL test.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn shopcase(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shopcase"))
        .args(args)
        .env_remove("SHOPCASE_ACTOR")
        .env_remove("SHOPCASE_CONFIG")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A configuration in `dir` named `name`: SQLite in `data-<name>`, or
/// PostgreSQL at the URL written to `<name>.url` (`url-file`).
fn config(dir: &Path, name: &str, postgres_url: Option<&str>) -> std::path::PathBuf {
    let mut text = format!(
        "data-dir = \"data-{name}\"\nplugins-dir = \"plugins\"\n\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret-env = \"UNSET_IN_THIS_TEST\"\n"
    );
    if let Some(url) = postgres_url {
        std::fs::write(dir.join(format!("{name}.url")), format!("{url}\n")).unwrap();
        text.push_str(&format!(
            "\n[storage]\nbackend = \"postgres\"\nurl-file = \"{name}.url\"\n"
        ));
    }
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(&file, text).unwrap();
    file
}

/// A schema of its own in the test database, dropped at the end.
struct Schema {
    base: String,
    name: String,
}

impl Schema {
    fn create() -> Schema {
        let base = std::env::var("SHOPCASE_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .expect(
                "the PostgreSQL copy needs a database: set SHOPCASE_TEST_DATABASE_URL, or run `cargo xtask postgres start` (or `cargo xtask test`)",
            );
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        // `t_<pid>_…`: the store suite's sweep drops it if this process
        // dies before it does.
        let name = format!("t_{}_cli_migrate_{nanos}", std::process::id());
        let schema = Schema { base, name };
        schema.sql(&format!("CREATE SCHEMA {}", schema.name));
        schema
    }

    /// The URL whose search path is this schema.
    fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.base, self.name)
    }

    fn sql(&self, sql: &str) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, conn) = tokio_postgres::connect(&self.base, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to SHOPCASE_TEST_DATABASE_URL: {e}"));
            tokio::spawn(conn);
            client.batch_execute(sql).await.unwrap();
        });
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        self.sql(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
    }
}

#[test]
fn a_hosts_sqlite_data_is_copied_into_postgres_once() {
    let schema = Schema::create();
    let dir = tempfile::tempdir().unwrap();
    let from = config(dir.path(), "lite", None);
    let to = config(dir.path(), "pg", Some(&schema.url()));
    // Something to copy: a token (with its audit line) and the store.
    let out = shopcase(&[
        "admin",
        "token",
        "create",
        "--config",
        path(&from),
        "--name",
        "jane-ops",
        "--role",
        "operator",
        "--by",
        "lead@example.com",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let migrate = [
        "storage",
        "migrate",
        "--from",
        path(&from),
        "--to",
        path(&to),
    ];
    let out = shopcase(&[&migrate[..], &["--json"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "quiet with --json");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["schema_version"], 10, "{report}");
    assert!(
        report["source"].as_str().unwrap().ends_with("shopcase.db"),
        "{report}"
    );
    assert!(
        !report["target"].as_str().unwrap().contains('@'),
        "no user or password in the report: {report}"
    );
    let tables = report["tables"].as_array().unwrap();
    let rows = |name: &str| {
        tables
            .iter()
            .find(|t| t["table"] == name)
            .unwrap_or_else(|| panic!("{name} in {report}"))["rows"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(rows("api_tokens"), 1);
    assert!(rows("audit") >= 1, "{report}");
    assert_eq!(rows("inbox"), 0);
    for t in tables {
        assert_eq!(t["digest"].as_str().unwrap().len(), 64, "{t}");
    }

    // The copy reads back through the PostgreSQL configuration.
    let out = shopcase(&["admin", "token", "list", "--config", path(&to), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("jane-ops"),
        "{}",
        text(&out.stdout)
    );

    // Again: the target is not empty now. Refused, naming the tables.
    let out = shopcase(&migrate);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let said = text(&out.stderr);
    assert!(
        said.starts_with("error: nothing was copied: ")
            && said.contains("is not empty")
            && said.contains("`api_tokens`"),
        "{said}"
    );
    let out = shopcase(&[&migrate[..], &["--json"]].concat());
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "failed", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("`audit`"),
        "{v}"
    );
}

#[test]
fn configurations_of_the_wrong_engine_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lite = config(dir.path(), "lite", None);
    // Never connected to: the engines are checked first.
    let pg = config(
        dir.path(),
        "pg",
        Some("postgres://nobody@127.0.0.1:1/nothing"),
    );
    for (from, to, said) in [
        (&pg, &pg, "--from"),
        (&lite, &lite, "--to"),
        (&pg, &lite, "--from"),
    ] {
        let out = shopcase(&["storage", "migrate", "--from", path(from), "--to", path(to)]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(err.starts_with(&format!("error: {said} ")), "{err}");
    }
    let out = shopcase(&[
        "storage",
        "migrate",
        "--from",
        path(&pg),
        "--to",
        path(&pg),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "bad-config", "{v}");
    assert!(
        !dir.path().join("data-lite").exists(),
        "nothing was opened or created"
    );
}
