//! The plugin under the SDK harness, built from its own `plugin.toml`, on
//! realistic `orders/create` events (`fixtures/events`), compared with the
//! language-neutral expectations (`fixtures/expected`).

use std::path::{Path, PathBuf};

use serde_json::Value;
use shopcase_sdk::harness::{Harness, HarnessError};
use shopcase_sdk::{Action, Level, Priority, SettingValue, ShopifyOperation, Subject, Target};

use super::{CASE_TYPE, HighValueOrder};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn harness() -> Harness {
    Harness::from_manifest(dir().join("plugin.toml")).unwrap()
}

fn event(name: &str) -> shopcase_sdk::Event {
    shopcase_sdk::Event::from_file(dir().join(format!("fixtures/events/{name}.json"))).unwrap()
}

fn run(name: &str) -> Result<shopcase_sdk::harness::Run, HarnessError> {
    harness().run::<HighValueOrder>(&event(name))
}

fn open_case(actions: &[Action]) -> &shopcase_sdk::OpenCase {
    match &actions[0] {
        Action::OpenCase(o) => o,
        other => panic!("{other:?}"),
    }
}

#[test]
fn above_the_threshold_opens_a_medium_case_and_tags_the_order() {
    let run = run("above").unwrap();
    assert_eq!(run.actions.len(), 2);
    let case = open_case(&run.actions);
    assert_eq!(case.key.case_type, CASE_TYPE);
    assert_eq!(case.key.subject, Subject::Order(6_123_400_000_101));
    assert_eq!(case.title, "High-value order #2101");
    assert_eq!(
        case.summary,
        "Order #2101 totals 612.40 USD, above the 500 threshold."
    );
    assert_eq!(case.priority, Priority::Medium);
    assert_eq!(
        (
            case.owner.as_deref(),
            case.owner_group.as_deref(),
            case.due.as_deref()
        ),
        (None, Some("sales-ops"), None)
    );
    let attrs: Vec<_> = case
        .attributes
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect();
    assert_eq!(
        attrs,
        [
            ("orderName", "#2101"),
            ("totalPrice", "612.40"),
            ("currency", "USD"),
            ("lineItems", "2")
        ]
    );
    assert!(case.documents.is_empty());
    let Action::Shopify(ShopifyOperation::TagsAdd(tags)) = &run.actions[1] else {
        panic!("{:?}", run.actions[1])
    };
    assert_eq!(
        (tags.target, tags.tags.as_slice()),
        (
            Target::Order(6_123_400_000_101),
            &["high-value".to_owned()][..]
        )
    );
    assert_eq!(run.logs.len(), 1);
    assert_eq!(run.logs[0].level, Level::Info);
    assert_eq!(
        run.logs[0].message,
        "order #2101 above threshold: 612.40 USD"
    );
}

#[test]
fn priority_grows_with_multiples_of_the_threshold() {
    for (name, want) in [
        ("at-threshold", Priority::Medium),
        ("above", Priority::Medium),
        ("double", Priority::High),
        ("quadruple", Priority::Critical),
    ] {
        let run = run(name).unwrap();
        assert_eq!(open_case(&run.actions).priority, want, "{name}");
    }
}

#[test]
fn below_the_threshold_and_test_orders_need_nothing() {
    for name in ["below", "just-below", "test-order"] {
        let run = run(name).unwrap();
        assert!(run.actions.is_empty(), "{name}: {:?}", run.actions);
        assert!(run.logs.is_empty(), "{name}");
    }
}

#[test]
fn a_missing_total_is_a_permanent_plugin_error() {
    let err = run("missing-total").unwrap_err();
    let e = err.plugin_error().unwrap_or_else(|| panic!("{err}"));
    assert_eq!(e.message, "order payload has no total_price");
    assert!(!e.retryable);
}

#[test]
fn settings_change_threshold_team_and_tag() {
    let mut h = harness()
        .setting("threshold", 750.5)
        .setting("team", "vip-desk")
        .setting("tag", "vip-order");
    let run = h.run::<HighValueOrder>(&event("custom-settings")).unwrap();
    let case = open_case(&run.actions);
    assert_eq!(
        case.summary,
        "Order #2109 totals 1501.50 CAD, above the 750.5 threshold."
    );
    assert_eq!(case.priority, Priority::High, "1501.50 ≥ 2 × 750.5");
    assert_eq!(case.owner_group.as_deref(), Some("vip-desk"));
    let Action::Shopify(ShopifyOperation::TagsAdd(tags)) = &run.actions[1] else {
        panic!()
    };
    assert_eq!(tags.tags, ["vip-order"]);

    // An integer threshold reads as a number; a high one silences the order.
    let mut h = harness().setting("threshold", 1000);
    assert!(
        h.run::<HighValueOrder>(&event("above"))
            .unwrap()
            .actions
            .is_empty()
    );
}

#[test]
fn personal_data_is_not_needed() {
    // The manifest grants no data class: the harness removes contact data
    // and addresses before the plugin runs, and the plugin still works.
    let e = event("above");
    assert!(e.payload.contains("sam.okafor@example.com"));
    let run = harness().run::<HighValueOrder>(&e).unwrap();
    assert!(!format!("{:?}", run.actions).contains("sam.okafor"));
    assert_eq!(run.actions.len(), 2);
}

/// A setting value from the expectations' JSON.
fn setting(v: &Value) -> SettingValue {
    match v {
        Value::Number(n) => SettingValue::Number(n.as_f64().unwrap()),
        Value::String(s) => SettingValue::Text(s.clone()),
        Value::Bool(b) => SettingValue::Boolean(*b),
        other => panic!("unsupported setting {other}"),
    }
}

/// Run every `events/<case>.json` of a fixture directory and compare with
/// `expected/<case>.json`; returns how many cases ran.
fn check_fixtures(root: &Path) -> usize {
    let mut names: Vec<String> = std::fs::read_dir(root.join("expected"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".json")
                .to_owned()
        })
        .collect();
    names.sort();
    for name in &names {
        let text = std::fs::read_to_string(root.join(format!("expected/{name}.json"))).unwrap();
        let expected: Value = serde_json::from_str(&text).unwrap();
        let mut h = harness();
        if let Some(settings) = expected.get("settings").and_then(Value::as_object) {
            for (k, v) in settings {
                h = h.setting(k.clone(), setting(v));
            }
        }
        let event =
            shopcase_sdk::Event::from_file(root.join(format!("events/{name}.json"))).unwrap();
        let outcome = h.run::<HighValueOrder>(&event);
        let logs: Vec<Value> = h
            .last_logs()
            .iter()
            .map(|l| serde_json::json!({"level": l.level.as_str(), "message": l.message}))
            .collect();
        assert_eq!(Value::Array(logs), expected["logs"], "{name}: logs");
        match outcome {
            Ok(run) => assert_eq!(run.actions_json(), expected["actions"], "{name}: actions"),
            Err(err) => {
                let e = err
                    .plugin_error()
                    .unwrap_or_else(|| panic!("{name}: {err}"));
                let want = &expected["error"];
                assert_eq!(want["message"], e.message.as_str(), "{name}: error message");
                assert_eq!(want["retryable"], e.retryable, "{name}: retryable");
                if let Some(kind) = want.get("kind") {
                    assert_eq!(kind, "plugin-error", "{name}: outcome");
                }
            }
        }
    }
    names.len()
}

#[test]
fn every_fixture_matches_its_expectation() {
    assert!(check_fixtures(&dir().join("fixtures")) >= 8);
}

/// The cross-language conformance set (`examples/fixtures/high-value-order`),
/// which every SDK's implementation of this plugin must pass.
#[test]
fn the_shared_conformance_fixtures_pass() {
    let shared = dir().join("../../fixtures/high-value-order");
    if shared.join("expected").is_dir() {
        assert!(check_fixtures(&shared) >= 8);
    } else {
        eprintln!("skipped: no shared fixtures at {}", shared.display());
    }
}
