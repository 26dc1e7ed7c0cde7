//! `shopcase plugin test`: run conformance fixtures through a packaged
//! plugin in the server's sandbox and compare what it did with what was
//! expected.
//!
//! # The fixture format
//!
//! A fixtures directory holds pairs of files with the same name:
//!
//! - `events/<name>.json`: an event file, exactly as `plugin run --event`
//!   takes it: `{"topic", "shop", "payload", "webhook_id"?, "triggered_at"?,
//!   "api_version"?, "event_id"?}`;
//! - `expected/<name>.json`: the run's inputs besides the event, and what
//!   the plugin must do:
//!
//! ```json
//! {
//!   "description": "Above the threshold: a medium case and a tag.",
//!   "settings": {"threshold": 750.5},
//!   "kv": {"seen:1001": "1"},
//!   "history": [],
//!   "actions": [{"kind": "tags-add", "target": {"order": 1001}, "tags": ["big"]}],
//!   "logs": [{"level": "info", "message": "order #1001 is big"}],
//!   "kv_writes": []
//! }
//! ```
//!
//! Inputs (all optional): `settings` (overrides of the manifest defaults,
//! as JSON values), `kv` (the key-value contents before the run), `history`
//! (customer histories for `customer-history`, as `plugin run --history`).
//! Expectations: exactly one of `actions` (the actions in the journal's
//! JSON form, in order, compared exactly) and `error` (`{"kind"?, "message"?,
//! "retryable"?}`; `kind` defaults to `plugin-error`, absent fields are not
//! compared); optionally `logs` (every line, in order) and `kv_writes` (as
//! `plugin run --json` prints them).
//!
//! Each fixture gets a fresh sandbox and fresh host data, as each event does
//! on the server. A mismatch prints a unified diff of the expected and the
//! actual outcome, as pretty JSON.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use shopcase_contract::{EventFile, Manifest, SettingValue};
use shopcase_sandbox::{Budget, Invocation, MemoryServices, Plugin, Runtime, RuntimeConfig};

use super::{TestArgs, bad, diff};
use crate::runner::{CliError, Exit};

/// `expected/<name>.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    settings: Map<String, Value>,
    #[serde(default)]
    kv: BTreeMap<String, String>,
    #[serde(default)]
    history: Vec<shopcase_contract::host_api::CustomerHistory>,
    #[serde(default)]
    actions: Option<Value>,
    #[serde(default)]
    error: Option<ExpectedError>,
    #[serde(default)]
    logs: Option<Value>,
    #[serde(default)]
    kv_writes: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedError {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    retryable: Option<bool>,
}

/// How one fixture ended.
#[derive(Debug)]
enum Verdict {
    Pass,
    /// The outcome differs: the diff of expected and actual.
    Fail(String),
    /// The fixture itself is malformed (bad input).
    Error(String),
}

/// One fixture's result.
#[derive(Debug)]
struct Outcome {
    name: String,
    description: Option<String>,
    verdict: Verdict,
    expected: Value,
    actual: Value,
    budget: Option<Budget>,
    micros: u128,
}

pub(super) fn run(args: &TestArgs) -> Result<Exit, CliError> {
    let manifest_path = if args.plugin.is_dir() {
        args.plugin.join("plugin.toml")
    } else {
        args.plugin.clone()
    };
    let manifest = Manifest::load(&manifest_path).map_err(|e| bad(e.to_string()))?;
    if manifest.component.is_none() {
        return Err(bad(format!(
            "{} is a source manifest: build the plugin first (`shopcase plugin build`) and test the packaged one",
            manifest_path.display()
        )));
    }
    let fixtures = list_fixtures(&args.fixtures, args.filter.as_deref())?;

    // The same sandbox configuration as `plugin run` (and the server).
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: args.cache_dir.clone(),
        max_concurrent: 1,
        ..RuntimeConfig::default()
    })
    .map_err(|e| bad(e.to_string()))?;
    let plugin = runtime
        .load_manifest(manifest)
        .map_err(|e| bad(format!("plugin cannot be loaded: {e}")))?;

    let outcomes: Vec<Outcome> = fixtures
        .iter()
        .map(|(name, event, expected)| run_fixture(&plugin, name, event, expected))
        .collect();

    let passed = outcomes
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Pass))
        .count();
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o.verdict, Verdict::Fail(_)))
        .count();
    let errors = outcomes.len() - passed - failed;
    if args.json {
        print_json(&plugin, &outcomes, passed, failed, errors);
    } else {
        print_human(&plugin, &args.fixtures, &outcomes, passed, failed, errors);
    }
    Ok(if errors > 0 {
        Exit::BadInput
    } else {
        Exit::done_if(failed == 0)
    })
}

/// `(name, event file, expected file)` for every `events/*.json`, sorted.
fn list_fixtures(
    dir: &Path,
    filter: Option<&str>,
) -> Result<Vec<(String, PathBuf, PathBuf)>, CliError> {
    let events = dir.join("events");
    let entries = std::fs::read_dir(&events).map_err(|e| {
        bad(format!(
            "cannot read {}: {e} (a fixtures directory has events/<name>.json and expected/<name>.json)",
            events.display()
        ))
    })?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| bad(format!("cannot read {}: {e}", events.display())))?
            .path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        if filter.is_some_and(|f| !name.contains(f)) {
            continue;
        }
        out.push((
            name.to_owned(),
            path.clone(),
            dir.join("expected").join(format!("{name}.json")),
        ));
    }
    out.sort();
    if out.is_empty() {
        return Err(bad(format!(
            "no fixtures in {}{}",
            events.display(),
            filter
                .map(|f| format!(" matching `{f}`"))
                .unwrap_or_default()
        )));
    }
    Ok(out)
}

fn run_fixture(plugin: &Plugin, name: &str, event_path: &Path, expected_path: &Path) -> Outcome {
    let mut outcome = Outcome {
        name: name.to_owned(),
        description: None,
        verdict: Verdict::Pass,
        expected: Value::Null,
        actual: Value::Null,
        budget: None,
        micros: 0,
    };
    let prepared = prepare(plugin.manifest(), event_path, expected_path);
    let (event, expected, settings, services) = match prepared {
        Ok(p) => p,
        Err(msg) => {
            outcome.verdict = Verdict::Error(msg);
            return outcome;
        }
    };
    outcome.description = expected.description.clone();
    let started = Instant::now();
    let invocation = plugin.invoke(&event, Arc::new(settings), Arc::new(services));
    outcome.micros = started.elapsed().as_micros();
    outcome.budget = Some(invocation.budget);
    let expected_doc = expected_document(&expected);
    let actual_doc = actual_document(&invocation, &expected);
    if expected_doc != actual_doc {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
        outcome.verdict =
            Verdict::Fail(diff::unified(&pretty(&expected_doc), &pretty(&actual_doc)));
    }
    outcome.expected = expected_doc;
    outcome.actual = actual_doc;
    outcome
}

type Prepared = (
    shopcase_contract::Event,
    Expected,
    BTreeMap<String, SettingValue>,
    MemoryServices,
);

/// Read a fixture's files and resolve its inputs; the error is for the
/// fixture's author.
fn prepare(
    manifest: &Manifest,
    event_path: &Path,
    expected_path: &Path,
) -> Result<Prepared, String> {
    let text = std::fs::read_to_string(event_path)
        .map_err(|e| format!("cannot read {}: {e}", event_path.display()))?;
    let event = EventFile::parse(&text)
        .map_err(|e| format!("{}: {e}", event_path.display()))?
        .to_event();
    let text = std::fs::read_to_string(expected_path).map_err(|e| {
        format!(
            "cannot read {} (every event needs its expected file): {e}",
            expected_path.display()
        )
    })?;
    let expected: Expected =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", expected_path.display()))?;
    match (&expected.actions, &expected.error) {
        (Some(_), None) | (None, Some(_)) => {}
        _ => {
            return Err(format!(
                "{}: give exactly one of `actions` and `error`",
                expected_path.display()
            ));
        }
    }
    if let Some(kind) = expected.error.as_ref().and_then(|e| e.kind.as_deref())
        && shopcase_contract::FailureKind::parse(kind).is_none()
    {
        return Err(format!(
            "{}: `error.kind`: `{kind}` is not an outcome name (e.g. plugin-error, invalid-action, fuel-exhausted)",
            expected_path.display()
        ));
    }

    let mut overrides = BTreeMap::new();
    for (k, v) in &expected.settings {
        let spec = manifest.settings.get(k).ok_or_else(|| {
            format!(
                "{}: `settings.{k}`: plugin `{}` has no such setting (it has: {})",
                expected_path.display(),
                manifest.id,
                manifest
                    .settings
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let value = SettingValue::from_json(v, spec.ty)
            .map_err(|e| format!("{}: `settings.{k}`: {e}", expected_path.display()))?;
        overrides.insert(k.clone(), value);
    }
    let settings = manifest
        .resolve_settings(&overrides)
        .map_err(|e| format!("{}: {e}", expected_path.display()))?;

    let mut services = MemoryServices::new();
    for (k, v) in &expected.kv {
        services = services.with_kv(k.clone(), v.clone());
    }
    for h in &expected.history {
        services = services.with_history(h.clone());
    }
    Ok((event, expected, settings, services))
}

/// What the fixture expects, as one JSON document.
fn expected_document(e: &Expected) -> Value {
    let mut doc = Map::new();
    if let Some(actions) = &e.actions {
        doc.insert("actions".into(), actions.clone());
    }
    if let Some(err) = &e.error {
        let mut m = Map::new();
        m.insert(
            "kind".into(),
            json!(err.kind.as_deref().unwrap_or("plugin-error")),
        );
        if let Some(msg) = &err.message {
            m.insert("message".into(), json!(msg));
        }
        if let Some(r) = err.retryable {
            m.insert("retryable".into(), json!(r));
        }
        doc.insert("error".into(), Value::Object(m));
    }
    if let Some(logs) = &e.logs {
        doc.insert("logs".into(), logs.clone());
    }
    if let Some(w) = &e.kv_writes {
        doc.insert("kv_writes".into(), w.clone());
    }
    Value::Object(doc)
}

/// What the plugin did, shaped like the expectation (the fields it does not
/// compare are left out, so the diff shows only what matters).
fn actual_document(inv: &Invocation, e: &Expected) -> Value {
    let mut doc = Map::new();
    match &inv.outcome {
        Ok(actions) => {
            doc.insert(
                "actions".into(),
                serde_json::to_value(actions).unwrap_or_default(),
            );
        }
        Err(f) => {
            let mut m = Map::new();
            m.insert("kind".into(), json!(f.kind));
            let wanted = e.error.as_ref();
            // Compare only what the fixture names; show everything when the
            // fixture expected actions instead.
            if wanted.is_none_or(|w| w.message.is_some()) {
                m.insert("message".into(), json!(f.message));
            }
            if wanted.is_none_or(|w| w.retryable.is_some()) {
                m.insert("retryable".into(), json!(f.retryable));
            }
            doc.insert("error".into(), Value::Object(m));
        }
    }
    if e.logs.is_some() {
        doc.insert(
            "logs".into(),
            serde_json::to_value(&inv.logs).unwrap_or_default(),
        );
    }
    if e.kv_writes.is_some() {
        doc.insert(
            "kv_writes".into(),
            serde_json::to_value(&inv.kv.writes).unwrap_or_default(),
        );
    }
    Value::Object(doc)
}

fn print_human(
    plugin: &Plugin,
    dir: &Path,
    outcomes: &[Outcome],
    passed: usize,
    failed: usize,
    errors: usize,
) {
    let m = plugin.manifest();
    println!(
        "plugin {} {} · {} fixture(s) from {}",
        m.id,
        m.version,
        outcomes.len(),
        dir.display()
    );
    let width = outcomes.iter().map(|o| o.name.len()).max().unwrap_or(0);
    for o in outcomes {
        let stats = o
            .budget
            .map(|b| {
                format!(
                    "fuel {}, memory {:.1} MiB, {} µs",
                    b.fuel.used,
                    b.memory_bytes.used as f64 / (1 << 20) as f64,
                    o.micros
                )
            })
            .unwrap_or_default();
        match &o.verdict {
            Verdict::Pass => println!("PASS  {:width$}  {stats}", o.name),
            Verdict::Fail(d) => {
                println!("FAIL  {:width$}  {stats}", o.name);
                if let Some(desc) = &o.description {
                    println!("      {desc}");
                }
                for line in d.lines() {
                    println!("      {line}");
                }
            }
            Verdict::Error(msg) => println!("ERROR {:width$}  {msg}", o.name),
        }
    }
    // The plain closing line CI tools recognise.
    if errors > 0 {
        println!("{passed} passed, {failed} failed, {errors} malformed");
    } else {
        println!("{passed} passed, {failed} failed");
    }
}

fn print_json(plugin: &Plugin, outcomes: &[Outcome], passed: usize, failed: usize, errors: usize) {
    let fixtures: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            let (verdict, detail) = match &o.verdict {
                Verdict::Pass => ("pass", Value::Null),
                Verdict::Fail(d) => ("fail", json!(d)),
                Verdict::Error(m) => ("error", json!(m)),
            };
            json!({
                "name": o.name,
                "description": o.description,
                "verdict": verdict,
                "detail": detail,
                "expected": o.expected,
                "actual": o.actual,
                "budget": o.budget,
                "micros": o.micros as u64,
            })
        })
        .collect();
    let m = plugin.manifest();
    println!(
        "{}",
        json!({
            "plugin": {"id": m.id, "version": m.version},
            "fixtures": fixtures,
            "passed": passed,
            "failed": failed,
            "malformed": errors,
        })
    );
}
