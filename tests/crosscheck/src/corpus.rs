//! The corpus: named cases, each one or more scripted events (run in
//! order, on one store), and the test that runs them on both sides.

use serde_json::{Value, json};

use crate::sides::{self, CUSTOMER, ORDER, Outcome, Seed};

/// `scripted`'s own manifest (everything granted), with one setting.
const BASE_MANIFEST: &str = include_str!("../../programs/scripted/plugin.toml");

const SETTINGS: &str = r#"
[settings.greeting]
type = "text"
default = "hello"
description = "A setting for the cross-check."
"#;

/// One case of the corpus.
#[derive(Debug)]
struct Case {
    name: &'static str,
    /// The scripts of its events (see `tests/programs/scripted/src/calls.rs`).
    events: Vec<Value>,
    manifest: String,
    seed: Seed,
    /// Text the (agreed) outcome must contain somewhere, so the case is
    /// known to exercise what its name says (see [`facts`]).
    expect: Vec<String>,
}

impl Case {
    fn new(name: &'static str, events: Vec<Value>) -> Case {
        Case {
            name,
            events,
            manifest: format!("{BASE_MANIFEST}{SETTINGS}"),
            seed: Seed::default(),
            expect: Vec::new(),
        }
    }

    /// Replace the `host = [...]` grants.
    fn host_grants(mut self, grants: &str) -> Case {
        let line = self
            .manifest
            .lines()
            .find(|l| l.starts_with("host = ["))
            .expect("a host grants line")
            .to_owned();
        self.manifest = self.manifest.replace(&line, &format!("host = {grants}"));
        self
    }

    /// Replace the `data = [...]` grants.
    fn data_grants(mut self, grants: &str) -> Case {
        let line = self
            .manifest
            .lines()
            .find(|l| l.starts_with("data = ["))
            .expect("a data grants line")
            .to_owned();
        self.manifest = self.manifest.replace(&line, &format!("data = {grants}"));
        self
    }

    /// Replace the `[limits]` (`output-kib = 1024`).
    fn limits(mut self, limits: &str) -> Case {
        self.manifest = self.manifest.replace("output-kib = 1024", limits);
        self
    }

    fn seed(mut self, seed: Seed) -> Case {
        self.seed = seed;
        self
    }

    fn expect(mut self, texts: &[&str]) -> Case {
        self.expect.extend(texts.iter().map(|t| (*t).to_owned()));
        self
    }
}

fn calls(calls: Value) -> Value {
    json!({ "calls": calls })
}

fn long(unit: &str, n: usize) -> Value {
    json!({"repeat": unit, "n": n})
}

fn key_quota_seed() -> Seed {
    Seed {
        kv: (0..shopcase_contract::host_api::KV_DEFAULT_QUOTA_KEYS)
            .map(|i| (format!("k{i}"), "v".to_owned()))
            .collect(),
        ..Seed::default()
    }
}

/// 512 entries of exactly 16 KiB (key and value): the 8 MiB byte quota.
fn byte_quota_seed() -> Seed {
    let n = shopcase_contract::host_api::KV_DEFAULT_QUOTA_BYTES / (16 << 10);
    Seed {
        kv: (0..n)
            .map(|i| (format!("big{i:03}"), "v".repeat((16 << 10) - 6)))
            .collect(),
        ..Seed::default()
    }
}

fn corpus() -> Vec<Case> {
    let own_order = json!({ "order": ORDER });
    vec![
        // ---- key-value: normal use ----
        Case::new(
            "kv-set-get-delete-across-events",
            vec![
                calls(json!([
                    {"op": "kv-get", "key": "a"},
                    {"op": "kv-set", "key": "a", "value": "1"},
                    {"op": "kv-get", "key": "a"},
                    {"op": "kv-set", "key": "b", "value": "2", "ttl": 3600},
                    {"op": "kv-delete", "key": "never-written"},
                    {"op": "kv-set", "key": "a", "value": "one"},
                ])),
                calls(json!([
                    {"op": "kv-get", "key": "a"},
                    {"op": "kv-get", "key": "b"},
                    {"op": "kv-delete", "key": "a"},
                    {"op": "kv-get", "key": "a"},
                ])),
                calls(json!([{"op": "kv-get", "key": "a"}, {"op": "kv-get", "key": "b"}])),
            ],
        )
        .expect(&["1× Ok(Some(\"one\"))", "1× Ok(None)", "2026-11-26T11:00:00Z"]),
        Case::new(
            "kv-reads-what-the-store-holds",
            vec![calls(json!([
                {"op": "kv-get", "key": "seen:1"},
                {"op": "kv-get", "key": "seen:2"},
            ]))],
        )
        .seed(Seed {
            kv: vec![("seen:1".into(), "yes".into())],
            ..Seed::default()
        })
        .expect(&["1× Ok(Some(\"yes\"))"]),
        Case::new(
            "kv-writes-of-a-failed-event-are-not-committed",
            vec![
                json!({"calls": [{"op": "kv-set", "key": "a", "value": "1"}],
                       "error": {"message": "gives up", "retryable": true}}),
                calls(json!([{"op": "kv-get", "key": "a"}])),
            ],
        )
        .expect(&["plugin-error: gives up", "1× Ok(None)"]),
        // ---- key-value: keys and values ----
        Case::new(
            "kv-key-empty",
            vec![calls(json!([
                {"op": "kv-get", "key": ""},
                {"op": "kv-set", "key": "", "value": "x"},
                {"op": "kv-delete", "key": ""},
            ]))],
        )
        .expect(&["InvalidArgument(\"keys are 1 to 128 bytes, this one is 0\")"]),
        Case::new(
            "kv-key-too-long",
            vec![calls(json!([
                {"op": "kv-set", "key": long("k", 128), "value": "fits"},
                {"op": "kv-set", "key": long("k", 129), "value": "x"},
                {"op": "kv-get", "key": long("k", 129)},
                // 65 two-byte characters: 130 bytes, though 65 characters.
                {"op": "kv-set", "key": long("é", 65), "value": "x"},
                {"op": "kv-set", "key": long("é", 64), "value": "fits"},
            ]))],
        )
        .expect(&["this one is 129", "this one is 130", "1× Ok(())"]),
        Case::new(
            "kv-key-with-control-characters",
            // No rule forbids them: both sides must accept and read back
            // the same key.
            vec![
                calls(json!([
                    {"op": "kv-set", "key": "a\nb\u{0}c\u{1b}[2J", "value": "odd"},
                    {"op": "kv-set", "key": "\u{fffd}", "value": "replacement"},
                ])),
                calls(json!([
                    {"op": "kv-get", "key": "a\nb\u{0}c\u{1b}[2J"},
                    {"op": "kv-get", "key": "a\u{fffd}b\u{fffd}c\u{fffd}[2J"},
                ])),
            ],
        )
        .expect(&["1× Ok(Some(\"odd\"))"]),
        Case::new(
            "kv-value-over-limit",
            vec![calls(json!([
                {"op": "kv-set", "key": "fits", "value": long("v", 16 << 10)},
                {"op": "kv-set", "key": "over", "value": long("v", (16 << 10) + 1)},
                {"op": "kv-get", "key": "over"},
            ]))],
        )
        .expect(&["InvalidArgument(\"value is 16385 bytes, more than 16384\")"]),
        // ---- key-value: writes per event and quota ----
        Case::new(
            "kv-writes-per-event",
            vec![calls(json!([
                {"op": "kv-set", "key": "w{i}", "value": "x", "times": 64},
                {"op": "kv-set", "key": "one-more", "value": "x"},
                {"op": "kv-delete", "key": "one-more"},
                {"op": "kv-set", "key": "w7", "value": "again"},
                {"op": "kv-delete", "key": "w8"},
            ]))],
        )
        .expect(&[
            "64× Ok(())",
            "QuotaExceeded(\"more than 64 keys written in one event\")",
        ]),
        Case::new(
            "kv-deletes-count-as-writes",
            vec![calls(json!([
                {"op": "kv-delete", "key": "d{i}", "times": 64},
                {"op": "kv-set", "key": "new", "value": "x"},
            ]))],
        )
        .expect(&["more than 64 keys written"]),
        Case::new(
            "kv-key-quota",
            vec![calls(json!([
                {"op": "kv-set", "key": "new", "value": "x"},
                {"op": "kv-set", "key": "k5", "value": "overwritten"},
                {"op": "kv-get", "key": "k5"},
            ]))],
        )
        .seed(key_quota_seed())
        .expect(&["QuotaExceeded(\"key quota of 10000 keys", "1× Ok(Some(\"overwritten\"))"]),
        Case::new(
            "kv-key-quota-a-delete-frees-nothing-until-commit",
            vec![
                calls(json!([
                    {"op": "kv-delete", "key": "k0"},
                    {"op": "kv-set", "key": "new", "value": "x"},
                ])),
                calls(json!([{"op": "kv-set", "key": "new", "value": "x"}])),
            ],
        )
        .seed(key_quota_seed())
        .expect(&["key quota of 10000 keys"]),
        Case::new(
            "kv-byte-quota",
            vec![calls(json!([
                {"op": "kv-set", "key": "x", "value": "1"},
                {"op": "kv-get", "key": "big000"},
                {"op": "kv-set", "key": "big000", "value": "smaller"},
                {"op": "kv-delete", "key": "big001"},
            ]))],
        )
        .seed(byte_quota_seed())
        .expect(&["QuotaExceeded(\"byte quota of 8388608 bytes"]),
        // ---- the host-call budget ----
        Case::new(
            "host-call-budget",
            vec![calls(json!([
                {"op": "kv-set", "key": "mine", "value": "1"},
                {"op": "kv-get", "key": "k{i}", "times": 1000},
                {"op": "kv-get", "key": "mine"},
                {"op": "kv-set", "key": "other", "value": "1"},
                {"op": "history", "customer": CUSTOMER},
                {"op": "linked-case", "case_type": "scripted", "subject": own_order},
                {"op": "setting", "name": "greeting"},
            ]))],
        )
        .seed(Seed {
            history: Some(sides::history()),
            ..Seed::default()
        })
        .expect(&[
            "998× Ok(None)",
            "2× Err(HostError::QuotaExceeded(\"more than 1000 host calls in one event\"))",
            "1× Ok(Some(\"1\"))",
            "1× Some(SettingValue::Text(\"hello\"))",
        ]),
        Case::new(
            "host-call-budget-history-is-asked-once",
            vec![calls(json!([
                {"op": "history", "customer": CUSTOMER, "times": 5},
                {"op": "kv-get", "key": "k{i}", "times": 1000},
            ]))],
        )
        .seed(Seed {
            history: Some(sides::history()),
            ..Seed::default()
        })
        .expect(&["999× Ok(None)", "1× Err(HostError::QuotaExceeded("]),
        // ---- customer history ----
        Case::new(
            "history-of-the-events-customer",
            vec![calls(json!([{"op": "history", "customer": CUSTOMER, "times": 2}]))],
        )
        .seed(Seed {
            history: Some(sides::history()),
            ..Seed::default()
        })
        .expect(&["2× Ok(CustomerSummary { customer-id: 7"]),
        Case::new(
            "history-without-the-region-grant",
            vec![calls(json!([{"op": "history", "customer": CUSTOMER}]))],
        )
        .seed(Seed {
            history: Some(sides::history()),
            ..Seed::default()
        })
        // The script is in the order's note: `customer-notes` stays.
        .data_grants(r#"["customer-notes"]"#)
        .expect(&["shipping-country: None"]),
        Case::new(
            "history-of-another-customer",
            vec![calls(json!([
                {"op": "history", "customer": CUSTOMER + 1},
                {"op": "history", "customer": 0},
            ]))],
        )
        .seed(Seed {
            history: Some(sides::history()),
            ..Seed::default()
        })
        .expect(&["InvalidArgument(\"customer 8 is not this event's customer\")"]),
        Case::new(
            "history-unavailable",
            vec![calls(json!([{"op": "history", "customer": CUSTOMER}]))],
        )
        .expect(&["Unavailable(\"no history for customer 7 in this run\")"]),
        // ---- linked cases ----
        Case::new(
            "linked-case-of-the-events-order",
            vec![calls(json!([
                {"op": "linked-case", "case_type": "scripted", "subject": own_order},
                {"op": "linked-case", "case_type": "complaint", "subject": own_order},
            ]))],
        )
        .seed(Seed {
            cases: vec![sides::linked_case("scripted")],
            ..Seed::default()
        })
        .expect(&["CASE-000042", "1× Ok(None)"]),
        Case::new(
            "linked-case-of-a-subject-not-the-events",
            vec![calls(json!([
                {"op": "linked-case", "case_type": "scripted", "subject": {"order": ORDER + 1}},
                {"op": "linked-case", "case_type": "scripted", "subject": {"customer": CUSTOMER + 1}},
                {"op": "linked-case", "case_type": "scripted", "subject": {"return": 5}},
                {"op": "linked-case", "case_type": "scripted", "subject": {"dispute": 6}},
            ]))],
        )
        .expect(&["InvalidArgument(\"order 1002 is not this event's\")"]),
        Case::new(
            "linked-case-of-a-case-type-not-granted",
            vec![calls(json!([
                {"op": "linked-case", "case_type": "fraud-review", "subject": own_order},
                {"op": "linked-case", "case_type": "", "subject": own_order},
            ]))],
        )
        .seed(Seed {
            cases: vec![sides::linked_case("fraud-review")],
            ..Seed::default()
        })
        .expect(&["case type `fraud-review` is not granted to this plugin"]),
        // ---- settings and grants ----
        Case::new(
            "setting-declared-and-not",
            vec![calls(json!([
                {"op": "setting", "name": "greeting"},
                {"op": "setting", "name": "undeclared"},
            ]))],
        )
        .expect(&["1× Some(SettingValue::Text(\"hello\"))", "1× None"]),
        Case::new(
            "setting-not-granted",
            vec![calls(json!([
                {"op": "log", "message": "before"},
                {"op": "setting", "name": "greeting"},
                {"op": "log", "message": "after"},
            ]))],
        )
        .host_grants(r#"["log", "kv"]"#)
        .expect(&["grant-denied: `host.setting` needs the `settings` grant", "info: before"]),
        Case::new(
            "kv-not-granted",
            vec![calls(json!([{"op": "kv-get", "key": "a"}]))],
        )
        .host_grants(r#"["log"]"#)
        .expect(&["grant-denied: `host.kv-get` needs the `kv` grant"]),
        Case::new(
            "history-not-granted",
            vec![calls(json!([{"op": "history", "customer": CUSTOMER}]))],
        )
        .host_grants(r#"["log", "kv", "case-lookup"]"#)
        .expect(&["grant-denied: `host.customer-history`"]),
        Case::new(
            "linked-case-not-granted",
            vec![calls(json!([
                {"op": "linked-case", "case_type": "scripted", "subject": own_order},
            ]))],
        )
        .host_grants(r#"[]"#)
        .expect(&["grant-denied: `host.linked-case`"]),
        Case::new(
            "log-not-granted",
            vec![calls(json!([{"op": "log", "message": "hi"}]))],
        )
        .host_grants(r#"["kv"]"#)
        .expect(&["grant-denied: `host.log`"]),
        // ---- logs ----
        Case::new(
            "log-lines-flattened",
            vec![calls(json!([
                {"op": "log", "level": "warn", "message": "ok\n2026-11-27 ERROR forged line"},
                {"op": "log", "level": "error", "message": "bell\u{7} esc\u{1b}[2J tab\tnul\u{0} cr\rdel\u{7f}"},
                {"op": "log", "level": "debug", "message": "trailing breaks\r\n\n"},
                {"op": "log", "level": "trace", "message": ""},
                {"op": "log", "message": "\u{85}next line\u{2028}separator"},
            ]))],
        )
        .expect(&["warn: ok\u{fffd}2026-11-27 ERROR forged line", "debug: trailing breaks"]),
        Case::new(
            "log-line-over-the-byte-cap",
            vec![calls(json!([
                {"op": "log", "message": long("a", 1024)},
                {"op": "log", "message": long("a", 1025)},
                // Two-byte characters: cut at a character, not mid-way.
                {"op": "log", "message": long("é", 600)},
                {"op": "log", "message": long("€", 400)},
            ]))],
        )
        .expect(&["aaa…", "é…", "€…"]),
        Case::new(
            "log-budget",
            vec![calls(json!([
                {"op": "log", "message": long("x", 300), "times": 5},
                {"op": "log", "message": long("y", 100)},
                {"op": "log", "message": long("z", 25)},
            ]))],
        )
        .limits("output-kib = 1024\nlog-kib = 1")
        .expect(&["dropped 3", "info: yyy"]),
        Case::new(
            "log-flood",
            vec![calls(json!([
                {"op": "log", "message": "line {i} of a flood", "times": 5000},
            ]))],
        )
        .expect(&["info: line 0 of a flood"]),
        // ---- the plugin's own outcome ----
        Case::new(
            "plugin-error-flattened",
            vec![json!({"error": {"message": "bad\nline\u{1b}[2J\ttab", "retryable": true}})],
        )
        .expect(&["plugin-error: bad"]),
        Case::new(
            "plugin-error-over-the-length-limit",
            vec![json!({"error": {"message": "é".repeat(1500), "retryable": false}})],
        )
        .expect(&["plugin-error: éé"]),
        Case::new(
            "panic-is-a-trap",
            vec![calls(json!([
                {"op": "log", "message": "about to panic"},
                {"op": "kv-set", "key": "a", "value": "1"},
                {"op": "panic", "message": "on purpose"},
            ]))],
        )
        .expect(&["trap", "info: about to panic"]),
        // ---- actions ----
        Case::new(
            "valid-actions",
            vec![json!({"actions": [
                {"kind": "tags-add", "target": {"order": ORDER}, "tags": ["checked"]},
                {"kind": "open-case", "key": {"case_type": "scripted", "subject": {"order": ORDER}},
                 "title": "T", "summary": "S", "priority": "high", "owner": null, "owner_group": null,
                 "due": null, "attributes": [], "documents": []},
            ]})],
        )
        .expect(&["ok: 2 actions"]),
        Case::new(
            "invalid-action-another-order",
            vec![json!({"actions": [
                {"kind": "tags-add", "target": {"order": ORDER + 1}, "tags": ["not-mine"]},
            ]})],
        )
        .expect(&["invalid-action: ", "order 1002 is not this event's order (1001)"]),
        Case::new(
            "invalid-action-case-type-not-granted",
            vec![json!({"actions": [
                {"kind": "open-case", "key": {"case_type": "fraud-review", "subject": {"order": ORDER}},
                 "title": "T", "summary": "", "priority": "low", "owner": null, "owner_group": null,
                 "due": null, "attributes": [], "documents": []},
            ]})],
        )
        .expect(&["does not grant case type `fraud-review`"]),
        Case::new(
            "invalid-action-fields",
            vec![
                json!({"actions": [
                    {"kind": "open-case", "key": {"case_type": "scripted", "subject": {"order": ORDER}},
                     "title": "x".repeat(201), "summary": "", "priority": "low", "owner": null,
                     "owner_group": null, "due": null, "attributes": [], "documents": []},
                ]}),
                json!({"actions": [
                    {"kind": "follow-up", "name": "bad name!", "due": "2026-11-27T00:00:00Z", "data": "{}"},
                ]}),
                json!({"actions": [
                    {"kind": "set-metafield", "target": {"order": ORDER}, "namespace": "corecase",
                     "key": "case", "type": "bogus_type", "value": "{}"},
                ]}),
            ],
        )
        .expect(&["invalid-action: "]),
        Case::new(
            "output-over-the-limit",
            vec![json!({"actions": [
                {"kind": "note-append", "target": {"order": ORDER}, "text": "n".repeat(1100)},
            ]})],
        )
        .limits("output-kib = 1")
        .expect(&["output-too-large"]),
    ]
}

/// The plain facts of an outcome, for a case's `expect`: each host call
/// answer, `ok: N actions`, `<failure kind>: <message>`, each log line,
/// `dropped N`, and each key-value write.
fn facts(o: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    match &o.result {
        Ok(actions) => {
            let actions = actions.as_array().map(Vec::as_slice).unwrap_or_default();
            out.push(format!("ok: {} actions", actions.len()));
            for a in actions {
                for call in a["host-calls"].as_array().into_iter().flatten() {
                    for answer in call.as_array().into_iter().flatten() {
                        out.push(answer.as_str().unwrap_or_default().to_owned());
                    }
                }
            }
        }
        Err(f) => out.push(format!(
            "{}: {}",
            f.kind,
            f.message.as_deref().unwrap_or_default()
        )),
    }
    out.extend(o.logs.iter().cloned());
    if let Some(n) = o.dropped_log_lines {
        out.push(format!("dropped {n}"));
    }
    for (k, w) in &o.kv_writes {
        out.push(format!("kv {k}: {w:?}"));
    }
    out
}

/// How a case's two sides differ, and whether its outcome shows what it
/// expects; empty when all is well.
fn check(case: &Case) -> Vec<String> {
    let events: Vec<String> = case
        .events
        .iter()
        .enumerate()
        .map(|(i, script)| sides::event_file(case.name, i, script))
        .collect();
    let harness = sides::harness(&case.manifest, &case.seed, &events);
    let sandbox = sides::sandbox(&case.manifest, &case.seed, &events);
    let mut problems = Vec::new();
    for (i, (h, s)) in harness.iter().zip(&sandbox).enumerate() {
        for d in sides::differences(h, s) {
            problems.push(format!("event {i}: {d}"));
        }
    }
    let all: Vec<String> = sandbox.iter().flat_map(facts).collect();
    for e in &case.expect {
        if !all.iter().any(|f| f.contains(e.as_str())) {
            problems.push(format!(
                "the outcome does not show `{e}`; it is:\n    {}",
                all.iter()
                    .map(|f| f.chars().take(200).collect::<String>())
                    .collect::<Vec<_>>()
                    .join("\n    ")
            ));
        }
    }
    problems
}

#[test]
fn the_harness_and_the_sandbox_agree_on_every_case() {
    let corpus = corpus();
    let mut names = std::collections::BTreeSet::new();
    for c in &corpus {
        assert!(names.insert(c.name), "two cases are named {}", c.name);
        assert!(!c.expect.is_empty(), "case {} expects nothing", c.name);
    }
    let mut report = Vec::new();
    for case in &corpus {
        let problems = check(case);
        if !problems.is_empty() {
            report.push(format!(
                "case `{}`:\n  {}",
                case.name,
                problems.join("\n  ")
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} of {} cases diverge:\n\n{}",
        report.len(),
        corpus.len(),
        report.join("\n\n")
    );
}

/// The comparison itself can fail: outcomes that differ in each compared
/// part are reported, and equal ones are not.
#[test]
fn a_divergence_is_reported() {
    let base = Outcome {
        result: Ok(json!([{"host-calls": [["1× Ok(None)"]]}])),
        logs: vec!["info: a".into()],
        dropped_log_lines: Some(0),
        kv_writes: [("a".to_owned(), Some(("1".to_owned(), None)))].into(),
    };
    assert!(sides::differences(&base, &base.clone()).is_empty());
    let mut answer = base.clone();
    answer.result = Ok(json!([{"host-calls": [["1× Ok(Some(\"x\"))"]]}]));
    let d = sides::differences(&base, &answer);
    assert!(d[0].contains("host call 0"), "{d:?}");
    let mut logs = base.clone();
    logs.logs = vec!["info: b".into()];
    assert!(sides::differences(&base, &logs)[0].contains("logs"));
    let mut dropped = base.clone();
    dropped.dropped_log_lines = Some(1);
    assert!(sides::differences(&base, &dropped)[0].contains("dropped"));
    let mut kv = base.clone();
    kv.kv_writes.clear();
    assert!(sides::differences(&base, &kv)[0].contains("key-value"));
}
