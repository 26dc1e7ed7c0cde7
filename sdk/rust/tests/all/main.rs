//! The harness behaves like the host: grants, settings, minimisation,
//! validation, key-value semantics and failure outcomes, exercised through
//! small test plugins written against the public API only.

use serde_json::json;
use shopcase_sdk::harness::contract::{FailureKind, HostGrant};
use shopcase_sdk::harness::{Harness, HarnessError, KvWrite};
use shopcase_sdk::{
    Action, CaseKey, CaseStatus, CaseSummary, CustomerSummary, Event, FollowUp, HoldReason,
    HostError, Level, OpenCase, Plugin, PluginError, Priority, Subject, Target, host, info, kv,
    shopify,
};

const ORDER: u64 = 5_834_211_000_321;
const CUSTOMER: u64 = 7_001_234_567_890;

fn path(rel: &str) -> String {
    format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn order_event() -> Event {
    Event::from_file(path("order-create.json")).unwrap()
}

fn harness(manifest: &str) -> Harness {
    Harness::from_manifest(path(&format!("manifests/{manifest}"))).unwrap()
}

fn history(tags: &[&str]) -> CustomerSummary {
    CustomerSummary {
        customer_id: CUSTOMER,
        number_of_orders: 3,
        amount_spent: "2300.00".into(),
        currency: "EUR".into(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        created_at: "2024-03-02T08:15:00Z".into(),
        recent_orders: vec![],
    }
}

/// Uses every host function, like a fraud-review plugin.
struct Review;

impl Plugin for Review {
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
        let order = event.order()?;
        let threshold = host::setting_number("threshold", 0.0);
        let team = host::setting_text("team", "none");
        let vip = host::setting_list("vip-tags", &[]);
        let key = event.order_key("fraud-investigation")?;
        let seen: u32 = kv::get("seen")?.and_then(|v| v.parse().ok()).unwrap_or(0) + 1;
        kv::set("seen", &seen.to_string(), Some(3600))?;
        let history = host::customer_history(event.customer_id()?)?;
        let linked = host::linked_case(&key)?;
        info!(
            "order {} seen {seen} times; linked case {}",
            order.name,
            linked.as_ref().map_or("none", |c| c.case_number.as_str())
        );
        let score = if history.tags.iter().any(|t| vip.contains(t)) {
            0.0
        } else {
            80.0
        };
        if score < threshold {
            return Ok(vec![]);
        }
        let now = event.triggered_at()?;
        let mut actions: Vec<Action> = vec![
            OpenCase::new(key, format!("Review {}", order.name))
                .priority(Priority::High)
                .owner_group(team)
                .due(now.plus_hours(4))
                .attribute("email", order.email.unwrap_or_default())
                .into(),
        ];
        if host::setting_bool("hold", false) {
            actions.push(
                shopify::hold(
                    event.order_id()?,
                    HoldReason::HighRiskOfFraud,
                    "fraud-review",
                    "score 80",
                )
                .into(),
            );
        }
        actions.push(
            FollowUp::at("sla", now.plus_days(1))
                .data(&json!({"level": 1}))
                .into(),
        );
        Ok(actions)
    }
}

#[test]
fn a_manifest_run_resolves_settings_minimises_and_records() {
    let mut h = harness("full.toml").customer_history(history(&[]));
    let run = h.run::<Review>(&order_event()).unwrap();

    assert_eq!(run.actions.len(), 3);
    let Action::OpenCase(open) = &run.actions[0] else {
        panic!("{:?}", run.actions[0])
    };
    assert_eq!(
        open.key,
        CaseKey::new("fraud-investigation", Subject::Order(ORDER))
    );
    assert_eq!(
        open.owner_group.as_deref(),
        Some("fraud-team"),
        "the manifest default"
    );
    assert_eq!(open.due.as_deref(), Some("2026-11-26T14:22:31.193Z"));
    assert_eq!(
        open.attributes[0].value, "",
        "email removed: no customer-contact grant"
    );

    let json = run.actions_json();
    let kinds: Vec<_> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["open-case", "hold-fulfillment", "follow-up"]);
    assert_eq!(json[1]["reason"], "high-risk-of-fraud");
    assert_eq!(json[2]["data"], r#"{"level":1}"#);

    assert_eq!(
        run.messages(),
        ["order #1042 seen 1 times; linked case none"]
    );
    assert_eq!(run.logs[0].level, Level::Info);
    assert_eq!(
        run.kv_writes,
        [KvWrite::Set {
            key: "seen".into(),
            value: "1".into(),
            ttl_seconds: Some(3600)
        }]
    );
    assert_eq!(h.kv_value("seen"), Some("1"));

    // The write is committed: the next event sees it.
    let run = h.run::<Review>(&order_event()).unwrap();
    assert_eq!(
        run.messages(),
        ["order #1042 seen 2 times; linked case none"]
    );
}

/// Reports the free text and secrets it can see.
struct Peek;

impl Plugin for Peek {
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
        let order = event.order()?;
        info!(
            "engraving {:?}, {} cart attributes, status url {}",
            order
                .line_items
                .first()
                .and_then(|l| l.properties.first())
                .map(|p| p.value.as_str()),
            order.note_attributes.len(),
            event.payload.contains("order_status_url")
        );
        Ok(vec![])
    }
}

/// The harness minimises with the server's allow-list: free text needs
/// `customer-notes`, and `order_status_url` is never delivered.
#[test]
fn a_manifest_run_sees_what_the_server_would_deliver() {
    let messages = |mut h: Harness| -> Vec<String> {
        let run = h.run::<Peek>(&order_event()).unwrap();
        run.messages().into_iter().map(str::to_owned).collect()
    };
    assert_eq!(
        messages(Harness::new()),
        ["engraving Some(\"L.H.\"), 2 cart attributes, status url true"],
        "without a manifest nothing is minimised"
    );
    assert_eq!(
        messages(harness("full.toml")),
        ["engraving None, 0 cart attributes, status url false"]
    );
    assert_eq!(
        messages(harness("notes.toml")),
        ["engraving Some(\"L.H.\"), 2 cart attributes, status url false"]
    );
}

#[test]
fn settings_are_overridden_and_checked_against_the_manifest() {
    let mut h = harness("full.toml")
        .customer_history(history(&[]))
        .setting("threshold", 90)
        .setting("hold", false);
    assert!(
        h.run::<Review>(&order_event()).unwrap().actions.is_empty(),
        "80 < 90"
    );

    let mut h = harness("full.toml")
        .customer_history(history(&["Gold"]))
        .setting("vip-tags", vec!["Gold"]);
    assert!(
        h.run::<Review>(&order_event()).unwrap().actions.is_empty(),
        "a VIP scores 0"
    );

    let mut h = harness("full.toml").setting("threshold", "high");
    let err = h.run::<Review>(&order_event()).unwrap_err();
    assert!(matches!(err, HarnessError::Setting(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "bad setting: setting `threshold`: expected a number, got \"high\""
    );

    let mut h = harness("full.toml").setting("thresold", 1);
    let err = h.run::<Review>(&order_event()).unwrap_err().to_string();
    assert!(
        err.contains("no such setting (it has: hold, team, threshold, vip-tags)"),
        "{err}"
    );
}

#[test]
fn linked_cases_and_histories_are_answered_for_the_events_own_subjects() {
    let key = CaseKey::new("fraud-investigation", Subject::Order(ORDER));
    let case = CaseSummary {
        case_id: "6f1c".into(),
        case_number: "CASE-000042".into(),
        status: CaseStatus::InProgress,
        priority: Priority::High,
        escalation_level: 0,
        opened_at: "2026-11-25T10:00:00Z".into(),
    };
    let mut h = harness("full.toml")
        .customer_history(history(&[]))
        .linked_case(key, case);
    let run = h.run::<Review>(&order_event()).unwrap();
    assert_eq!(
        run.messages(),
        ["order #1042 seen 1 times; linked case CASE-000042"]
    );

    struct Nosy;
    impl Plugin for Nosy {
        fn handle(_: &Event) -> Result<Vec<Action>, PluginError> {
            let other = CaseKey::new("fraud-investigation", Subject::Order(1));
            match host::linked_case(&other) {
                Err(HostError::InvalidArgument(m)) => assert_eq!(m, "order 1 is not this event's"),
                other => panic!("{other:?}"),
            }
            match host::customer_history(2) {
                Err(HostError::InvalidArgument(m)) => {
                    assert_eq!(m, "customer 2 is not this event's customer")
                }
                other => panic!("{other:?}"),
            }
            Ok(vec![])
        }
    }
    Harness::new().run::<Nosy>(&order_event()).unwrap();
}

#[test]
fn an_unavailable_history_is_a_retryable_failure_that_commits_nothing() {
    let mut h = harness("full.toml").kv("seen", "5");
    let err = h.run::<Review>(&order_event()).unwrap_err();
    assert_eq!(err.failure_kind(), Some(FailureKind::PluginError));
    let e = err.plugin_error().unwrap();
    assert!(e.retryable, "{e:?}");
    assert!(
        e.message.contains("unavailable: no history for customer"),
        "{e:?}"
    );
    assert_eq!(
        h.kv_value("seen"),
        Some("5"),
        "writes of a failed run are dropped"
    );
}

#[test]
fn a_host_call_without_its_grant_stops_the_run() {
    let mut h = harness("log-only.toml");
    let err = h.run::<Review>(&order_event()).unwrap_err();
    assert_eq!(err.failure_kind(), Some(FailureKind::GrantDenied));
    let HarnessError::GrantDenied { function, grant } = &err else {
        panic!("{err}")
    };
    assert_eq!((*function, *grant), ("host.setting", HostGrant::Settings));
    assert_eq!(
        err.to_string(),
        "grant-denied: `host.setting` needs the `settings` grant, which the manifest does not give"
    );

    struct LogsThenKv;
    impl Plugin for LogsThenKv {
        fn handle(_: &Event) -> Result<Vec<Action>, PluginError> {
            info!("before");
            // A plugin cannot catch the denial: the run stops here.
            let _ = kv::get("x");
            info!("after");
            Ok(vec![])
        }
    }
    let err = h.run::<LogsThenKv>(&order_event()).unwrap_err();
    assert!(
        matches!(
            err,
            HarnessError::GrantDenied {
                grant: HostGrant::Kv,
                function: "host.kv-get"
            }
        ),
        "{err}"
    );
    let logged: Vec<_> = h.last_logs().iter().map(|l| l.message.as_str()).collect();
    assert_eq!(logged, ["before"]);
}

#[test]
fn topics_outside_the_subscription_are_refused() {
    let mut e = order_event();
    e.topic = "refunds/create".into();
    let err = harness("full.toml").run::<Review>(&e).unwrap_err();
    assert_eq!(
        err.to_string(),
        "plugin `sdk-test` does not subscribe to topic `refunds/create`"
    );
    assert_eq!(err.failure_kind(), None);
}

struct ForeignOrder;

impl Plugin for ForeignOrder {
    fn handle(_: &Event) -> Result<Vec<Action>, PluginError> {
        Ok(vec![shopify::tags_add(Target::Order(1), ["x"]).into()])
    }
}

#[test]
fn actions_are_validated_like_the_host() {
    for mut h in [harness("log-only.toml"), Harness::new()] {
        let err = h.run::<ForeignOrder>(&order_event()).unwrap_err();
        assert_eq!(err.failure_kind(), Some(FailureKind::InvalidAction));
        assert_eq!(
            err.to_string(),
            format!(
                "invalid-action: action 0 (tags-add): target: order 1 is not this event's order ({ORDER})"
            )
        );
    }

    struct Ungranted;
    impl Plugin for Ungranted {
        fn handle(e: &Event) -> Result<Vec<Action>, PluginError> {
            Ok(vec![
                shopify::cancel_order(e.order_id()?, shopcase_sdk::CancelReason::Fraud).into(),
            ])
        }
    }
    let err = harness("full.toml")
        .run::<Ungranted>(&order_event())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the manifest does not grant action kind `cancel-order`"),
        "{err}"
    );
    // Without a manifest every kind is granted, so the same output passes.
    assert_eq!(
        Harness::new()
            .run::<Ungranted>(&order_event())
            .unwrap()
            .actions
            .len(),
        1
    );

    struct BadCaseType;
    impl Plugin for BadCaseType {
        fn handle(e: &Event) -> Result<Vec<Action>, PluginError> {
            Ok(vec![
                OpenCase::new(e.order_key("Fraud Review")?, "t").into(),
            ])
        }
    }
    let err = Harness::new()
        .run::<BadCaseType>(&order_event())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("case-type `Fraud Review` is not 1-64 of a-z, 0-9 and `-`"),
        "{err}"
    );
}

#[test]
fn panics_are_traps_and_plugin_errors_are_kept() {
    struct Panics;
    impl Plugin for Panics {
        fn handle(_: &Event) -> Result<Vec<Action>, PluginError> {
            let v: Vec<u8> = vec![];
            if v.is_empty() {
                panic!("index out of bounds in test plugin");
            }
            Ok(vec![])
        }
    }
    let err = Harness::new().run::<Panics>(&order_event()).unwrap_err();
    assert_eq!(err.failure_kind(), Some(FailureKind::Trap));
    assert_eq!(
        err.to_string(),
        "trap: the plugin panicked: index out of bounds in test plugin"
    );

    struct Fails;
    impl Plugin for Fails {
        fn handle(_: &Event) -> Result<Vec<Action>, PluginError> {
            Err(PluginError::new("x".repeat(2000)))
        }
    }
    let err = Harness::new().run::<Fails>(&order_event()).unwrap_err();
    let e = err.plugin_error().unwrap();
    assert_eq!(e.message.len(), 1000, "clamped to the contract's limit");
    assert!(!e.retryable);
}

#[test]
fn output_and_log_caps_apply() {
    struct Chatty;
    impl Plugin for Chatty {
        fn handle(e: &Event) -> Result<Vec<Action>, PluginError> {
            for i in 0..3 {
                info!("{i}{}", "x".repeat(599));
            }
            host::log(Level::Warn, &"y".repeat(5000));
            let email = e.order()?.email.unwrap_or_default();
            Ok(vec![
                shopify::note_append(Target::Order(e.order_id()?), email).into(),
            ])
        }
    }
    let run = harness("tiny.toml").run::<Chatty>(&order_event()).unwrap();
    assert_eq!(run.logs.len(), 1, "1 KiB of logs");
    assert_eq!(run.dropped_log_lines, 3);
    let Action::Shopify(shopcase_sdk::ShopifyOperation::NoteAppend(n)) = &run.actions[0] else {
        panic!()
    };
    assert_eq!(
        n.text, "lena.hoffmann@example.com",
        "customer-contact is granted"
    );

    let run = Harness::new().run::<Chatty>(&order_event()).unwrap();
    assert_eq!(run.logs.len(), 4);
    assert_eq!(
        run.logs[3].message.len(),
        1024 + '…'.len_utf8(),
        "long lines are truncated"
    );

    struct Big;
    impl Plugin for Big {
        fn handle(e: &Event) -> Result<Vec<Action>, PluginError> {
            let note = shopify::note_append(Target::Order(e.order_id()?), "z".repeat(800));
            Ok(vec![note.clone().into(), note.into()])
        }
    }
    let err = harness("tiny.toml").run::<Big>(&order_event()).unwrap_err();
    assert_eq!(err.failure_kind(), Some(FailureKind::OutputTooLarge));
    assert!(err.to_string().ends_with("over the limit of 1024"), "{err}");
}

/// Counts events in the key-value store, with a time to live.
struct Counter;

impl Plugin for Counter {
    fn handle(_: &Event) -> Result<Vec<Action>, PluginError> {
        let n: u32 = kv::get("count")?.and_then(|v| v.parse().ok()).unwrap_or(0) + 1;
        kv::set("count", &n.to_string(), Some(60))?;
        // Reads see the invocation's own writes.
        assert_eq!(kv::get("count")?, Some(n.to_string()));
        kv::set("tmp", "1", None)?;
        kv::delete("tmp")?;
        info!("count {n}");
        Ok(vec![])
    }
}

#[test]
fn kv_values_expire_from_the_events_time() {
    let mut h = Harness::new();
    let at = |t: &str| {
        let mut e = order_event();
        e.triggered_at = t.into();
        e
    };
    let run = h.run::<Counter>(&at("2026-11-26T10:00:00Z")).unwrap();
    assert_eq!(run.kv_writes.len(), 3);
    assert_eq!(run.kv_writes[2], KvWrite::Delete { key: "tmp".into() });
    assert_eq!(h.kv_value("tmp"), None);
    let run = h.run::<Counter>(&at("2026-11-26T10:00:59Z")).unwrap();
    assert_eq!(run.messages(), ["count 2"]);
    // 60 s after the second write, the count has expired.
    let run = h.run::<Counter>(&at("2026-11-26T10:01:59Z")).unwrap();
    assert_eq!(run.messages(), ["count 1"]);
}

#[test]
fn kv_limits_are_the_hosts() {
    struct Abuser;
    impl Plugin for Abuser {
        fn handle(_: &Event) -> Result<Vec<Action>, PluginError> {
            let long_key = "k".repeat(129);
            assert!(matches!(
                kv::get(&long_key),
                Err(HostError::InvalidArgument(_))
            ));
            assert!(matches!(
                kv::set("", "v", None),
                Err(HostError::InvalidArgument(_))
            ));
            let big = "v".repeat(16 * 1024 + 1);
            match kv::set("big", &big, None) {
                Err(HostError::InvalidArgument(m)) => {
                    assert_eq!(m, "value is 16385 bytes, more than 16384")
                }
                other => panic!("{other:?}"),
            }
            for i in 0..64 {
                kv::set(&format!("k{i}"), "v", None)?;
            }
            kv::set("k0", "rewritten", None)?;
            match kv::set("k64", "v", None) {
                Err(e @ HostError::QuotaExceeded(_)) => Err(e.into()),
                other => panic!("{other:?}"),
            }
        }
    }
    let mut h = Harness::new();
    let err = h.run::<Abuser>(&order_event()).unwrap_err();
    let e = err.plugin_error().unwrap();
    assert_eq!(
        e.message,
        "host function failed: quota exceeded: more than 64 keys written in one event"
    );
    assert!(!e.retryable);
    assert_eq!(h.kv_value("k0"), None, "nothing committed");
}

/// The harness applies the host's own rules (`host_rules` in the
/// contract crate): a log line is one line of text, as the server keeps
/// it, and the budget of host calls per event holds.
#[test]
fn log_lines_and_the_host_call_budget_are_the_hosts() {
    struct Forger;
    impl Plugin for Forger {
        fn handle(_: &Event) -> Result<Vec<Action>, PluginError> {
            info!("paid\n2026-11-27 ERROR forged line\u{1b}[2J\tend\n");
            Ok(vec![])
        }
    }
    let run = Harness::new().run::<Forger>(&order_event()).unwrap();
    assert_eq!(
        run.messages(),
        ["paid\u{fffd}2026-11-27 ERROR forged line\u{fffd}[2J\tend"]
    );

    struct Looper;
    impl Plugin for Looper {
        fn handle(_: &Event) -> Result<Vec<Action>, PluginError> {
            // Reads the event's own writes answer are not host calls.
            kv::set("mine", "v", None)?;
            for _ in 0..5_000 {
                kv::get("mine")?;
            }
            // Reads of the store are: the budget runs out.
            for i in 0..5_000 {
                kv::get(&format!("other-{i}"))?;
            }
            Ok(vec![])
        }
    }
    let err = Harness::new().run::<Looper>(&order_event()).unwrap_err();
    assert_eq!(
        err.plugin_error().unwrap().message,
        "host function failed: quota exceeded: more than 1000 host calls in one event"
    );
}

/// Found by the harness/sandbox cross-check (`tests/crosscheck`): the
/// quota is estimated as the host estimates it — a delete frees nothing
/// and a key set again counts again until the event commits — and a
/// plugin's error message is kept as the host keeps it, on one line.
#[test]
fn the_kv_quota_and_error_messages_are_the_hosts() {
    use shopcase_sdk::harness::contract::host_api::KV_DEFAULT_QUOTA_KEYS;
    struct DeleteThenSet;
    impl Plugin for DeleteThenSet {
        fn handle(_: &Event) -> Result<Vec<Action>, PluginError> {
            kv::delete("k0")?;
            let refused = kv::set("new", "x", None).unwrap_err();
            assert!(
                matches!(&refused, HostError::QuotaExceeded(m) if m.contains("key quota of")),
                "{refused:?}"
            );
            kv::set("k1", "overwrite", None)?;
            Ok(vec![])
        }
    }
    let mut h = Harness::new();
    for i in 0..KV_DEFAULT_QUOTA_KEYS {
        h = h.kv(format!("k{i}"), "v");
    }
    h.run::<DeleteThenSet>(&order_event()).unwrap();
    assert_eq!(h.kv_value("k0"), None);
    assert_eq!(h.kv_value("k1"), Some("overwrite"));
    assert_eq!(h.kv_value("new"), None);

    struct Multiline;
    impl Plugin for Multiline {
        fn handle(_: &Event) -> Result<Vec<Action>, PluginError> {
            Err(PluginError::retry_later("bad\nforged\u{1b}[2J\ttab"))
        }
    }
    let err = Harness::new().run::<Multiline>(&order_event()).unwrap_err();
    let e = err.plugin_error().unwrap();
    assert_eq!(e.message, "bad\u{fffd}forged\u{fffd}[2J\ttab");
    assert!(e.retryable);
}

#[test]
fn host_functions_work_outside_a_run() {
    // Plugin helpers can be unit-tested directly: a permissive empty host.
    assert_eq!(host::setting("threshold"), None);
    assert_eq!(host::setting_number("threshold", 500.0), 500.0);
    assert_eq!(host::setting_text("team", "sales-ops"), "sales-ops");
    kv::set("direct", "1", None).unwrap();
    assert_eq!(kv::get("direct").unwrap().as_deref(), Some("1"));
    info!("not in a run");
}

#[test]
fn event_files_are_checked() {
    let err = Event::from_file(path("missing.json"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("bad event file: ") && err.contains("missing.json: cannot read"),
        "{err}"
    );
    let err =
        Event::from_file_json(r#"{"topic": "orders/create", "shop": "evil.com", "payload": {}}"#)
            .unwrap_err()
            .to_string();
    assert!(
        err.contains("`shop`: `evil.com` is not a store domain"),
        "{err}"
    );
    let e = Event::from_payload("orders/create", json!({"id": 9, "customer": {"id": 10}})).unwrap();
    assert_eq!(
        (e.resources.order_id, e.resources.customer_id),
        (Some(9), Some(10))
    );
    assert_eq!(
        (e.shop.as_str(), e.triggered_at.as_str()),
        ("example.myshopify.com", "2026-01-01T00:00:00Z")
    );
    assert!(e.id.starts_with("evt_"));
    assert_eq!(
        e.id,
        Event::from_payload("orders/create", json!({"id": 9, "customer": {"id": 10}}))
            .unwrap()
            .id
    );
}

#[test]
fn bad_manifests_are_reported_with_their_file() {
    let err = Harness::from_manifest(path("manifests/none.toml")).unwrap_err();
    assert_eq!(err.failure_kind(), Some(FailureKind::BadManifest));
    assert!(err.to_string().contains("none.toml: cannot read"), "{err}");
}

/// Plugin API 0.2.0's look-ups in the harness: the fixture's order and
/// risk, the event's own order only, addresses minimised to the manifest's
/// data classes as the host minimises them, each function behind its grant.
#[test]
fn order_and_risk_fixtures_answer_for_the_events_own_order() {
    use shopcase_sdk::{
        Address, LineItem, Money, OrderDetails, RiskAssessment, RiskLevel, RiskRecommendation,
        RiskSummary,
    };
    let money = |a: &str| Money {
        amount: a.into(),
        currency: "EUR".into(),
    };
    let address = Address {
        first_name: Some("Ann".into()),
        last_name: Some("Lee".into()),
        name: Some("Ann Lee".into()),
        phone: None,
        company: None,
        address1: Some("Hauptstrasse 5".into()),
        address2: None,
        city: Some("Berlin".into()),
        province: None,
        province_code: None,
        country: Some("Germany".into()),
        country_code: Some("DE".into()),
        zip: Some("10115".into()),
        latitude: Some(52.5),
        longitude: None,
    };
    let order = OrderDetails {
        id: ORDER,
        name: "#1042".into(),
        created_at: "2026-11-25T10:00:00Z".into(),
        currency: "EUR".into(),
        subtotal: None,
        total: money("129.90"),
        current_total: money("129.90"),
        outstanding: money("0.00"),
        total_refunded: money("0.00"),
        financial_status: "PAID".into(),
        fulfillment_status: "UNFULFILLED".into(),
        cancelled: false,
        customer_id: Some(CUSTOMER),
        line_items: vec![LineItem {
            id: 1,
            title: "Trail shoes".into(),
            sku: Some("TS-42".into()),
            quantity: 1,
            unit_price: money("129.90"),
            variant_id: None,
            product_id: None,
        }],
        shipping_address: Some(address.clone()),
        billing_address: None,
        fulfillments: vec![],
        transactions: vec![],
    };
    let risk = RiskSummary {
        recommendation: RiskRecommendation::Accept,
        assessments: vec![RiskAssessment {
            level: RiskLevel::Low,
            provider: None,
            facts: vec![],
        }],
    };

    struct Looks;
    impl Plugin for Looks {
        fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
            let id = event.order_id()?;
            let o = host::order(id)?;
            let ship = o.shipping_address.clone().unwrap();
            info!(
                "{} {} {:?} {:?} {:?}",
                o.name, o.line_items[0].title, ship.city, ship.address1, ship.name
            );
            let r = host::order_risk(id)?;
            info!("{:?} {:?}", r.recommendation, r.assessments[0].level);
            match host::order(id + 1) {
                Err(HostError::InvalidArgument(m)) => info!("{m}"),
                other => panic!("{other:?}"),
            }
            Ok(vec![])
        }
    }
    let mut h = harness("orders.toml")
        .order(order.clone())
        .order_risk(ORDER, risk);
    let run = h.run::<Looks>(&order_event()).unwrap();
    assert_eq!(
        run.messages(),
        [
            "#1042 Trail shoes Some(\"Berlin\") None None".to_owned(),
            "RiskRecommendation::Accept RiskLevel::Low".to_owned(),
            format!("order {} is not this event's order", ORDER + 1),
        ]
    );

    // Without a manifest nothing is minimised; without the grant, the
    // run stops.
    let run = Harness::new()
        .order(order)
        .order_risk(
            ORDER,
            RiskSummary {
                recommendation: RiskRecommendation::None,
                assessments: vec![RiskAssessment {
                    level: RiskLevel::None,
                    provider: None,
                    facts: vec![],
                }],
            },
        )
        .run::<Looks>(&order_event())
        .unwrap();
    assert_eq!(
        run.messages()[0],
        "#1042 Trail shoes Some(\"Berlin\") Some(\"Hauptstrasse 5\") Some(\"Ann Lee\")"
    );
    let err = harness("full.toml")
        .run::<Looks>(&order_event())
        .unwrap_err();
    let HarnessError::GrantDenied { function, grant } = &err else {
        panic!("{err}")
    };
    assert_eq!((*function, *grant), ("host.order", HostGrant::OrderLookup));
}
