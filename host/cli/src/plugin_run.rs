//! `shopcase plugin run`: one event through one plugin, in exactly the
//! sandbox the server uses (same engine configuration, limits, minimisation
//! and validation), printing the actions and the budget report.
//!
//! Exit codes (the runner's table): 0 success, 1 the plugin failed (a named
//! outcome), 2 bad input (unreadable event, bad manifest, unknown setting,
//! a plugin that cannot load). With `--json`, bad input is printed in the
//! output's shape: `{"actions": [], "budget": null, "error": {"kind",
//! "message"}}`, `kind` being `bad-input`, `bad-manifest` or the load
//! failure's outcome name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;
use shopcase_contract::{EventFile, FailureKind, Manifest, SettingValue};
use shopcase_sandbox::{Invocation, MemoryServices, Runtime, RuntimeConfig};

use crate::runner::{CliError, Exit};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The plugin: a packaged plugin directory or its plugin.toml.
    #[arg(long)]
    plugin: PathBuf,
    /// The event file: {"topic", "shop", "payload", "webhook_id"?, "triggered_at"?, "api_version"?}.
    #[arg(long)]
    event: PathBuf,
    /// Run as this store (overrides the event file's shop).
    #[arg(long)]
    shop: Option<String>,
    /// Set a plugin setting, e.g. --set threshold=750 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    settings: Vec<String>,
    /// Key-value contents before the run, as a JSON object of strings.
    #[arg(long, value_name = "FILE")]
    kv: Option<PathBuf>,
    /// Customer histories for host.customer-history, as a JSON list.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// Orders for host.order (plugin API 0.2.0), as a JSON list in the
    /// host's shape (`OrderDetails`: id, name, created_at, currency,
    /// totals as {amount, currency}, line_items, addresses with REST field
    /// names, fulfillments, transactions); minimised per the plugin's data
    /// grants as on the server.
    #[arg(long, value_name = "FILE")]
    orders: Option<PathBuf>,
    /// Risk assessments for host.order-risk (plugin API 0.2.0), as a JSON
    /// object from order id to {"recommendation": "INVESTIGATE",
    /// "assessments": [{"level": "HIGH", "provider": null, "facts":
    /// [{"description", "sentiment": "NEGATIVE"}]}]}.
    #[arg(long, value_name = "FILE")]
    order_risk: Option<PathBuf>,
    /// Print one JSON object: {"actions", "budget", "error"}.
    #[arg(long)]
    pub(crate) json: bool,
    /// Where precompiled components are cached.
    #[arg(long, env = "SHOPCASE_CACHE_DIR")]
    cache_dir: Option<PathBuf>,
}

/// The fields of the `--json` output around an error that stopped the run.
pub(crate) fn json_fields() -> serde_json::Map<String, serde_json::Value> {
    let mut fields = serde_json::Map::new();
    fields.insert("actions".into(), json!([]));
    fields.insert("budget".into(), serde_json::Value::Null);
    fields
}

fn bad(msg: String) -> CliError {
    CliError::bad_input(msg)
}

fn manifest_path(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join("plugin.toml")
    } else {
        p.to_owned()
    }
}

pub(crate) fn run(args: Args) -> Result<Exit, CliError> {
    let text = std::fs::read_to_string(&args.event)
        .map_err(|e| bad(format!("cannot read event {}: {e}", args.event.display())))?;
    let mut file =
        EventFile::parse(&text).map_err(|e| bad(format!("{}: {e}", args.event.display())))?;
    if let Some(shop) = &args.shop {
        if !shopcase_contract::event::is_shop_domain(shop) {
            return Err(bad(format!(
                "--shop: `{shop}` is not a store domain like example.myshopify.com"
            )));
        }
        file.shop = shop.clone();
    }
    let event = file.to_event();

    let manifest = Manifest::load(&manifest_path(&args.plugin))
        .map_err(|e| CliError::bad_input(e).with_kind("bad-manifest"))?;
    let mut overrides = BTreeMap::new();
    for kv in &args.settings {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| bad(format!("--set {kv}: expected KEY=VALUE")))?;
        let spec = manifest.settings.get(k).ok_or_else(|| {
            bad(format!(
                "--set {k}: plugin `{}` has no such setting (it has: {})",
                manifest.id,
                manifest
                    .settings
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        let value =
            SettingValue::from_cli(v, spec.ty).map_err(|e| bad(format!("--set {k}: {e}")))?;
        overrides.insert(k.to_owned(), value);
    }
    let settings = manifest
        .resolve_settings(&overrides)
        .map_err(|e| bad(e.to_string()))?;

    let mut services = MemoryServices::new();
    if let Some(path) = &args.kv {
        let kv: BTreeMap<String, String> = read_json(path)?;
        for (k, v) in kv {
            services = services.with_kv(k, v);
        }
    }
    if let Some(path) = &args.history {
        let histories: Vec<shopcase_contract::host_api::CustomerHistory> = read_json(path)?;
        for h in histories {
            services = services.with_history(h);
        }
    }
    if let Some(path) = &args.orders {
        let orders: Vec<shopcase_contract::host_api::OrderDetails> = read_json(path)?;
        for o in orders {
            services = services.with_order(o);
        }
    }
    if let Some(path) = &args.order_risk {
        let risks: BTreeMap<u64, shopcase_contract::host_api::OrderRisk> = read_json(path)?;
        for (id, r) in risks {
            services = services.with_order_risk(id, r);
        }
    }

    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: args.cache_dir.clone(),
        max_concurrent: 1,
        ..RuntimeConfig::default()
    })
    .map_err(|e| bad(e.to_string()))?;
    // A plugin that cannot load is bad input to this command, but its
    // outcome still has its name (hash-mismatch, forbidden-import...).
    let plugin = runtime.load_manifest(manifest).map_err(|e| {
        CliError::bad_input(&e.message)
            .with_kind(e.kind.to_string())
            .shown_as(format!("plugin cannot be loaded: {e}"))
    })?;
    let invocation = plugin.invoke(&event, Arc::new(settings), Arc::new(services));
    if args.json {
        print_json(&invocation);
    } else {
        print_human(plugin.manifest(), &event.topic, &invocation);
    }
    Ok(Exit::done_if(invocation.outcome.is_ok()))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| bad(format!("{}: {e}", path.display())))
}

fn print_json(inv: &Invocation) {
    let (actions, error) = match &inv.outcome {
        Ok(a) => (
            serde_json::to_value(a).unwrap_or_default(),
            serde_json::Value::Null,
        ),
        Err(f) => (
            json!([]),
            json!({"kind": f.kind, "message": f.message, "retryable": f.retryable}),
        ),
    };
    let out = json!({
        "actions": actions,
        "budget": inv.budget,
        "error": error,
        "logs": inv.logs,
        "kv_writes": inv.kv.writes,
    });
    println!("{out}");
}

fn print_human(manifest: &Manifest, topic: &str, inv: &Invocation) {
    println!("plugin {} {} · {topic}", manifest.id, manifest.version);
    for l in &inv.logs {
        println!("  log {:?}: {}", l.level, l.message);
    }
    match &inv.outcome {
        Ok(actions) if actions.is_empty() => println!("no actions"),
        Ok(actions) => {
            println!("{} action(s):", actions.len());
            for (i, a) in actions.iter().enumerate() {
                let mut v = serde_json::to_value(a).unwrap_or_default();
                let kind = v
                    .get("kind")
                    .and_then(|k| k.as_str())
                    .unwrap_or("?")
                    .to_owned();
                if let Some(o) = v.as_object_mut() {
                    o.remove("kind");
                }
                println!("  {i}. {kind} {v}");
            }
        }
        Err(f) => {
            println!("FAILED {}: {}", f.kind, f.message);
            if f.kind == FailureKind::PluginError {
                println!("  retryable: {}", f.retryable);
            }
        }
    }
    let b = &inv.budget;
    let pct = |u: u64, l: u64| {
        if l == 0 {
            0.0
        } else {
            u as f64 * 100.0 / l as f64
        }
    };
    println!("budget:");
    println!(
        "  fuel      {:>12} / {:<12} ({:.2}%)",
        b.fuel.used,
        b.fuel.limit,
        pct(b.fuel.used, b.fuel.limit)
    );
    println!(
        "  memory    {:>12} / {:<12} bytes ({:.1}%)",
        b.memory_bytes.used,
        b.memory_bytes.limit,
        pct(b.memory_bytes.used, b.memory_bytes.limit)
    );
    println!(
        "  wall time {:>12} / {:<12} µs ({:.2}%), host calls {} µs",
        b.wall_time_us.used,
        b.wall_time_us.limit,
        pct(b.wall_time_us.used, b.wall_time_us.limit),
        b.host_time_us
    );
    println!(
        "  output    {:>12} / {:<12} bytes ({:.2}%)",
        b.output_bytes.used,
        b.output_bytes.limit,
        pct(b.output_bytes.used, b.output_bytes.limit)
    );
    println!(
        "  logs      {:>12} / {:<12} bytes{}",
        b.log_bytes.used,
        b.log_bytes.limit,
        if b.log_lines_dropped > 0 {
            format!(", {} line(s) dropped over the cap", b.log_lines_dropped)
        } else {
            String::new()
        }
    );
}
