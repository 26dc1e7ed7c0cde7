//! `shopcase store connect` end to end: the binary against a Shopify
//! emulator on a loopback port. Subscriptions are created on the first run,
//! nothing changes on the second, they move when the public URL does, go
//! when a plugin is disabled; another backend's subscription is left
//! alone; missing scopes (the disputes scope among them) are reported; a
//! Shopify that cannot be reached is a clear error. Exit codes as the
//! runner's table says.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use shopcase_shopify_emulator::{self as emulator, EmulatorConfig, RunningEmulator, Seed};

const SHOP: &str = "a.myshopify.com";
const TOKEN: &str = "shpat_connect_test";

fn shopcase(config: &Path, args: &[&str]) -> Output {
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

/// `store connect --shop a --json`, its exit code and report.
fn connect(config: &Path, extra: &[&str]) -> (i32, Value, String) {
    let out = shopcase(
        config,
        &[&["connect", "--shop", SHOP, "--json"][..], extra].concat(),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), v, text(&out.stderr))
}

fn changes(report: &Value) -> Vec<(String, String, String)> {
    let mut c: Vec<_> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap().to_owned(),
                c["topic"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    c.sort();
    c
}

fn change(action: &str, topic: &str, status: &str) -> (String, String, String) {
    (action.into(), topic.into(), status.into())
}

/// Package plugin `id` with `topics` and a stand-in component (nothing here
/// loads it).
fn package(dir: &Path, id: &str, topics: &[&str], actions: &[&str]) {
    let src = tempfile::tempdir().unwrap();
    let manifest = src.path().join("plugin.toml");
    std::fs::write(
        &manifest,
        format!(
            "[plugin]\nid = \"{id}\"\nversion = \"1.0.0\"\napi = \"0.1.0\"\ntopics = {}\n\n[grants]\nactions = {}\ncase-types = [\"test\"]\n",
            json!(topics),
            json!(actions)
        ),
    )
    .unwrap();
    let wasm = src.path().join("p.wasm");
    std::fs::write(&wasm, id.as_bytes()).unwrap();
    shopcase_contract::manifest::package(&manifest, &wasm, &dir.join("plugins").join(id)).unwrap();
}

fn write_config(dir: &Path, public_url: Option<&str>, base: &str) -> std::path::PathBuf {
    let config = dir.join("shopcase.toml");
    let server = public_url
        .map(|u| format!("[server]\npublic-url = \"{u}\"\n\n"))
        .unwrap_or_default();
    std::fs::write(
        &config,
        format!(
            "data-dir = \"data\"\nplugins-dir = \"plugins\"\n\n{server}[shopify]\nmax-attempts = 2\nbackoff-base = \"10ms\"\nbackoff-max = \"20ms\"\n\n[[stores]]\ndomain = \"{SHOP}\"\nwebhook-secret = \"whsec-test\"\nadmin-token = \"{TOKEN}\"\nadmin-base-url = \"{base}\"\n"
        ),
    )
    .unwrap();
    config
}

struct Shopify {
    rt: tokio::runtime::Runtime,
    running: Option<RunningEmulator>,
}

impl Shopify {
    fn start() -> Shopify {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let seed: Seed =
            serde_json::from_value(json!({"shops": [{"domain": SHOP, "tokens": [TOKEN]}]}))
                .unwrap();
        let running = rt
            .block_on(emulator::spawn(EmulatorConfig {
                seed,
                ..EmulatorConfig::default()
            }))
            .unwrap();
        Shopify {
            rt,
            running: Some(running),
        }
    }

    fn emu(&self) -> &emulator::Emulator {
        &self.running.as_ref().unwrap().emulator
    }

    fn base(&self) -> String {
        self.running.as_ref().unwrap().base_url().to_string()
    }

    fn topics(&self) -> Vec<(String, String)> {
        let mut t: Vec<_> = self
            .emu()
            .webhook_subscriptions(SHOP)
            .into_iter()
            .map(|s| (s.topic, s.uri))
            .collect();
        t.sort();
        t
    }

    fn writes(&self) -> usize {
        self.emu().mutations(Some(SHOP), None).len()
    }

    fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            self.rt.block_on(r.shutdown()).unwrap();
        }
    }
}

#[test]
fn connect_creates_keeps_moves_and_deletes_and_reports_scopes() {
    let shopify = Shopify::start();
    let dir = tempfile::tempdir().unwrap();
    let here = "https://shopcase.example.com/webhooks/shopify";
    let config = write_config(
        dir.path(),
        Some("https://shopcase.example.com"),
        &shopify.base(),
    );
    package(
        dir.path(),
        "fraud",
        &["orders/create", "timer/fired", "corecase/case-updated"],
        &["tags-add", "open-case"],
    );
    package(
        dir.path(),
        "returns",
        &["returns/request", "disputes/create", "disputes/update"],
        &["open-case", "approve-return"],
    );
    for plugin in ["fraud", "returns"] {
        let out = shopcase(
            &config,
            &["enable", "--shop", SHOP, "--plugin", plugin, "--by", "ops"],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    // A dry run plans and writes nothing.
    let (code, plan, err) = connect(&config, &["--dry-run"]);
    assert_eq!(code, 0, "{err} {plan}");
    assert_eq!(plan["dry_run"], true);
    assert_eq!(
        changes(&plan),
        [
            change("create", "APP_UNINSTALLED", "planned"),
            change("create", "DISPUTES_CREATE", "planned"),
            change("create", "DISPUTES_UPDATE", "planned"),
            change("create", "ORDERS_CREATE", "planned"),
            change("create", "RETURNS_REQUEST", "planned"),
        ],
        "host-made topics are not subscribed: {plan}"
    );
    assert_eq!(shopify.writes(), 0);

    // First run: created.
    let (code, first, err) = connect(&config, &[]);
    assert_eq!(code, 0, "{err} {first}");
    assert!(changes(&first).iter().all(|c| c.2 == "done"), "{first}");
    assert_eq!(shopify.topics().len(), 5);
    assert!(shopify.topics().iter().all(|(_, uri)| uri == here));
    let compliance = first["compliance"]["note"].as_str().unwrap();
    assert!(
        compliance.contains("not subscribed through the Admin API"),
        "{compliance}"
    );

    // Second run: nothing; text output says so.
    let writes = shopify.writes();
    let out = shopcase(&config, &["connect", "--shop", SHOP]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("0 changed, 0 failed, 0 blocked; 0 scope(s) missing"),
        "{said}"
    );
    assert_eq!(shopify.writes(), writes, "no write the second time");

    // Another backend's subscription is left alone and reported.
    shopify.emu().add_webhook_subscription(
        SHOP,
        "ORDERS_CREATE",
        "https://other-backend.example/hooks/orders",
    );
    let (code, report, err) = connect(&config, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(changes(&report).is_empty(), "{report}");
    assert_eq!(
        report["foreign"][0]["uri"],
        "https://other-backend.example/hooks/orders"
    );

    // The host moved: its subscriptions follow, the other one stays.
    let config = write_config(
        dir.path(),
        Some("https://moved.example.com"),
        &shopify.base(),
    );
    let (code, moved, err) = connect(&config, &[]);
    assert_eq!(code, 0, "{err} {moved}");
    assert_eq!(changes(&moved).len(), 5);
    assert!(
        changes(&moved)
            .iter()
            .all(|c| c.0 == "update" && c.2 == "done"),
        "{moved}"
    );
    assert_eq!(
        shopify
            .topics()
            .iter()
            .filter(|(_, u)| u == "https://moved.example.com/webhooks/shopify")
            .count(),
        5
    );
    assert!(shopify.topics().contains(&(
        "ORDERS_CREATE".into(),
        "https://other-backend.example/hooks/orders".into()
    )));

    // Disabled: its topics go.
    let out = shopcase(
        &config,
        &[
            "disable", "--shop", SHOP, "--plugin", "returns", "--by", "ops",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, gone, err) = connect(&config, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        changes(&gone),
        [
            change("delete", "DISPUTES_CREATE", "done"),
            change("delete", "DISPUTES_UPDATE", "done"),
            change("delete", "RETURNS_REQUEST", "done"),
        ]
    );

    // Re-enabled on a token without the disputes scope: reported, the
    // topics it blocks are not created, exit 1.
    shopify.emu().set_access_scopes(
        SHOP,
        Some(vec![
            "write_orders".into(),
            "read_returns".into(),
            "write_returns".into(),
        ]),
    );
    let out = shopcase(
        &config,
        &[
            "enable", "--shop", SHOP, "--plugin", "returns", "--by", "ops",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, lacking, err) = connect(&config, &[]);
    assert_eq!(code, 1, "{err} {lacking}");
    assert_eq!(
        lacking["scopes"]["missing"][0]["scope"],
        "read_shopify_payments_disputes"
    );
    assert_eq!(
        lacking["scopes"]["missing"][0]["needed_for"],
        json!(["topic disputes/create", "topic disputes/update"])
    );
    assert_eq!(
        changes(&lacking),
        [
            change("create", "DISPUTES_CREATE", "blocked"),
            change("create", "DISPUTES_UPDATE", "blocked"),
            change("create", "RETURNS_REQUEST", "done"),
        ]
    );
    let out = shopcase(&config, &["connect", "--shop", SHOP]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("MISSING SCOPE read_shopify_payments_disputes (needed for topic disputes/create, topic disputes/update)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn connect_says_clearly_what_stops_it() {
    let mut shopify = Shopify::start();
    let dir = tempfile::tempdir().unwrap();
    package(dir.path(), "fraud", &["orders/create"], &["tags-add"]);

    // No public URL: the configuration cannot be used (2).
    let config = write_config(dir.path(), None, &shopify.base());
    let (code, v, _) = connect(&config, &[]);
    assert_eq!(code, 2);
    assert_eq!(v["error"]["kind"], "bad-config");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("server.public-url"),
        "{v}"
    );

    // An unknown store is refused (1).
    let config = write_config(
        dir.path(),
        Some("https://shopcase.example.com"),
        &shopify.base(),
    );
    let out = shopcase(&config, &["connect", "--shop", "nope.myshopify.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("store `nope.myshopify.com` is not configured"),
        "{}",
        text(&out.stderr)
    );

    // Shopify cannot be reached: nothing changed, a clear error (1).
    shopify.stop();
    let (code, v, _) = connect(&config, &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["error"]["kind"], "shopify-unavailable");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Shopify could not be read for `a.myshopify.com`, nothing was changed"),
        "{message}"
    );
    assert!(!message.contains(TOKEN), "{message}");
}
