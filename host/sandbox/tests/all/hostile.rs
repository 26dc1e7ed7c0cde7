//! The hostile-plugin suite: each misbehaviour ends with its named outcome,
//! within its limit, and the next event on the same runtime runs normally.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use shopcase_contract::FailureKind;
use shopcase_contract::host_api::CustomerHistory;
use shopcase_sandbox::{HostError, HostServices, Invocation, MemoryServices, Plugin};

use crate::support::*;

fn with_limits(limits: &str) -> Plugin {
    load("hostile", &format!("{BASE_MANIFEST}\n[limits]\n{limits}\n"))
}

fn failure(inv: &Invocation) -> (FailureKind, String) {
    match &inv.outcome {
        Ok(a) => panic!("expected a failure, got {a:?}"),
        Err(f) => (f.kind, f.message.clone()),
    }
}

/// After any failure, the same plugin on the same runtime works again.
fn next_event_is_fine(plugin: &Plugin) {
    let inv = run(plugin, json!({"tags": "do:ok"}));
    let actions = inv.outcome.expect("the next event runs normally");
    assert_eq!(actions.len(), 1);
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let p = with_limits("fuel = 20_000_000");
    let inv = run(&p, json!({"tags": "do:infinite-loop"}));
    let (kind, msg) = failure(&inv);
    assert_eq!(kind, FailureKind::FuelExhausted, "{msg}");
    assert_eq!(inv.budget.fuel.used, 20_000_000);
    next_event_is_fine(&p);
}

#[test]
fn infinite_loop_with_ample_fuel_hits_the_deadline() {
    let p = with_limits("fuel = 2_000_000_000_000\ndeadline-ms = 50");
    let start = Instant::now();
    let inv = run(&p, json!({"tags": "do:infinite-loop"}));
    let (kind, msg) = failure(&inv);
    assert_eq!(kind, FailureKind::DeadlineExceeded, "{msg}");
    assert!(inv.budget.wall_time_us.used >= 50_000, "{:?}", inv.budget);
    // A deadline failure may succeed on a less loaded host.
    assert!(inv.outcome.as_ref().unwrap_err().retryable);
    // Loose upper bound: the call ended, it did not run to the fuel limit.
    assert!(start.elapsed().as_secs() < 30);
    next_event_is_fine(&p);
}

#[test]
fn deep_recursion_overflows_the_stack() {
    let p = with_limits("fuel = 1_000_000_000");
    let inv = run(&p, json!({"tags": "do:recurse"}));
    let (kind, msg) = failure(&inv);
    assert_eq!(kind, FailureKind::StackOverflow, "{msg}");
    next_event_is_fine(&p);
}

#[test]
fn memory_bombs_hit_the_memory_limit() {
    let p = with_limits("memory-mib = 16\nfuel = 1_000_000_000");
    for what in ["grow-loop", "huge-alloc"] {
        let inv = run(&p, json!({"tags": format!("do:{what}")}));
        let (kind, msg) = failure(&inv);
        assert_eq!(kind, FailureKind::MemoryLimit, "{what}: {msg}");
        assert!(
            inv.budget.memory_bytes.used <= 16 << 20,
            "{what}: {:?}",
            inv.budget
        );
        next_event_is_fine(&p);
    }
}

#[test]
fn huge_output_is_refused() {
    let p = with_limits("memory-mib = 64\noutput-kib = 256");
    let inv = run(&p, json!({"tags": "do:huge-output"}));
    let (kind, msg) = failure(&inv);
    assert_eq!(kind, FailureKind::OutputTooLarge, "{msg}");
    assert!(inv.budget.output_bytes.used > 256 << 10);
    next_event_is_fine(&p);
}

#[test]
fn log_flood_is_capped_and_counted() {
    let p = with_limits("log-kib = 4\nfuel = 2_000_000_000\ndeadline-ms = 5000");
    let inv = run(&p, json!({"tags": "do:log-flood"}));
    assert!(inv.outcome.is_ok(), "{:?}", inv.outcome);
    assert!(inv.budget.log_bytes.used <= 4 << 10);
    assert!(inv.logs.iter().map(|l| l.message.len()).sum::<usize>() <= 4 << 10);
    assert!(inv.budget.log_lines_dropped > 200_000, "{:?}", inv.budget);
    assert!(inv.logs[0].message.starts_with("line 0"));
    next_event_is_fine(&p);
}

#[test]
fn panic_is_a_trap() {
    let p = with_limits("");
    let inv = run(&p, json!({"tags": "do:panic"}));
    let (kind, msg) = failure(&inv);
    assert_eq!(kind, FailureKind::Trap, "{msg}");
    // The panic message went to stderr, which is the plugin's log.
    assert!(
        inv.logs
            .iter()
            .any(|l| l.message.contains("panics on purpose")),
        "{:?}",
        inv.logs
    );
    next_event_is_fine(&p);
}

#[test]
fn invalid_actions_are_refused_with_the_reason() {
    let p = with_limits("");
    for (what, want) in [
        ("long-title", "title: 10000 characters, more than 200"),
        ("other-order", "order 1002 is not this event's order (1001)"),
        ("bad-metafield-type", "type: `bogus_type` is not one of"),
    ] {
        let inv = run(&p, json!({"tags": format!("do:{what}")}));
        let (kind, msg) = failure(&inv);
        assert_eq!(kind, FailureKind::InvalidAction, "{what}: {msg}");
        assert!(msg.contains(want), "{what}: {msg}");
    }
    next_event_is_fine(&p);
}

#[test]
fn ungranted_action_kind_is_refused() {
    let p = load("hostile", &BASE_MANIFEST.replace("\"tags-add\", ", ""));
    let inv = run(&p, json!({"tags": "do:ok"}));
    let (kind, msg) = failure(&inv);
    assert_eq!(kind, FailureKind::InvalidAction);
    assert!(
        msg.contains("does not grant action kind `tags-add`"),
        "{msg}"
    );
}

#[test]
fn host_call_without_its_grant_is_denied() {
    let p = with_limits("");
    let inv = run(&p, json!({"tags": "do:kv-counter"}));
    let (kind, msg) = failure(&inv);
    assert_eq!(kind, FailureKind::GrantDenied, "{msg}");
    assert!(msg.contains("`host.kv-get` needs the `kv` grant"), "{msg}");
    assert!(inv.kv.writes.is_empty());
    next_event_is_fine(&p);
}

#[test]
fn plugin_errors_carry_retryable() {
    let p = with_limits("");
    let inv = run(&p, json!({"tags": "do:plugin-error"}));
    let f = inv.outcome.unwrap_err();
    assert_eq!(f.kind, FailureKind::PluginError);
    assert!(f.retryable);
    assert_eq!(f.message, "the hostile plugin gives up");
    // A message is stored and logged: it is cut at the contract's 1000
    // characters.
    let f = run(&p, json!({"tags": "do:long-error"}))
        .outcome
        .unwrap_err();
    assert_eq!(f.message.chars().count(), 1000, "999 and the mark");
    assert!(f.message.ends_with("é…"));
}

#[test]
fn kv_writes_are_buffered_and_read_back() {
    let p = load(
        "hostile",
        &BASE_MANIFEST.replace("host = [\"log\"", "host = [\"log\", \"kv\""),
    );
    let services = Arc::new(MemoryServices::new());
    for n in 1..=3 {
        let inv = run_with(&p, json!({"tags": "do:kv-counter"}), services.clone());
        let actions = inv.outcome.expect("kv counter");
        let json = serde_json::to_string(&actions).unwrap();
        assert!(json.contains(&format!("count-{n}")), "{json}");
        // Reads record the version seen, for conflict detection.
        assert_eq!(inv.kv.reads.len(), 1);
        assert_eq!(inv.kv.writes.len(), 1);
        assert_eq!(
            inv.kv.writes[0].value.as_deref(),
            Some(n.to_string().as_str())
        );
        assert_eq!(
            inv.kv.writes[0].expires_at.as_deref(),
            Some("2026-11-26T11:00:00Z")
        );
        // Nothing is written until the embedder applies the writes.
        assert_eq!(
            services.kv_snapshot().get("counter").map(String::as_str),
            (n > 1).then(|| (n - 1).to_string()).as_deref()
        );
        services.apply(&inv.kv.writes);
    }
}

#[test]
fn customer_history_only_for_the_events_customer() {
    let services = Arc::new(MemoryServices::new().with_history(CustomerHistory {
        customer_id: 7,
        number_of_orders: 12,
        amount_spent: "1500.00".into(),
        currency: "EUR".into(),
        tags: vec!["VIP".into()],
        created_at: "2024-01-01T00:00:00Z".into(),
        recent_orders: vec![shopcase_contract::host_api::OrderSummary {
            id: 1,
            name: "#1".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            total_price: "10.00".into(),
            currency: "EUR".into(),
            financial_status: "paid".into(),
            fulfillment_status: "fulfilled".into(),
            cancelled: false,
            shipping_country: Some("DE".into()),
        }],
    }));
    let history = |manifest: &str| {
        let actions = run_with(
            &load("hostile", manifest),
            json!({"tags": "do:history"}),
            services.clone(),
        )
        .outcome
        .unwrap();
        serde_json::to_string(&actions).unwrap()
    };
    let json = history(BASE_MANIFEST);
    assert!(json.contains("orders-12"), "{json}");
    assert!(json.contains("other-refused"), "{json}");
    // Where past orders went is address data: only with `address-region`.
    assert!(json.contains("country-none"), "{json}");
    let json = history(&format!("{BASE_MANIFEST}data = [\"address-region\"]\n"));
    assert!(json.contains("country-DE"), "{json}");
}

/// A case lookup answers for the plugin's own case types only: another
/// plugin's case on the same order is not its business.
#[test]
fn case_lookups_are_limited_to_granted_case_types() {
    let p = load(
        "hostile",
        &BASE_MANIFEST.replace("host = [\"log\"", "host = [\"log\", \"case-lookup\""),
    );
    let case = |number: &str| shopcase_contract::host_api::LinkedCase {
        case_id: format!("id-{number}"),
        case_number: number.into(),
        status: shopcase_contract::action::CaseStatus::New,
        priority: shopcase_contract::action::Priority::High,
        escalation_level: 0,
        opened_at: "2026-11-26T10:00:00Z".into(),
    };
    let key = |t: &str| shopcase_contract::CaseKey {
        case_type: t.into(),
        subject: shopcase_contract::Subject::Order(1001),
    };
    let services = Arc::new(
        MemoryServices::new()
            .with_case(key("hostile"), case("C-1"))
            .with_case(key("fraud-investigation"), case("C-2")),
    );
    let actions = run_with(
        &p,
        json!({"tags": "do:lookup, case-type:hostile, case-type:fraud-investigation"}),
        services,
    )
    .outcome
    .expect("ran");
    let json = serde_json::to_string(&actions).unwrap();
    assert!(json.contains("found-C-1"), "{json}");
    assert!(json.contains("refused"), "{json}");
    assert!(!json.contains("C-2"), "{json}");
}

/// Counts what reaches the services behind the sandbox.
#[derive(Default)]
struct Counting {
    inner: MemoryServices,
    history: std::sync::atomic::AtomicU32,
    kv: std::sync::atomic::AtomicU32,
}

impl HostServices for Counting {
    fn kv_get(&self, key: &str) -> Result<Option<shopcase_sandbox::KvEntry>, HostError> {
        self.kv.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.kv_get(key)
    }
    fn kv_usage(&self) -> Result<shopcase_sandbox::KvUsage, HostError> {
        self.inner.kv_usage()
    }
    fn customer_history(&self, customer_id: u64) -> Result<CustomerHistory, HostError> {
        self.history
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.customer_history(customer_id)
    }
    fn linked_case(
        &self,
        key: &shopcase_contract::CaseKey,
    ) -> Result<Option<shopcase_contract::host_api::LinkedCase>, HostError> {
        self.inner.linked_case(key)
    }
    fn order(&self, order_id: u64) -> Result<shopcase_contract::host_api::OrderDetails, HostError> {
        self.inner.order(order_id)
    }
    fn order_risk(
        &self,
        order_id: u64,
    ) -> Result<shopcase_contract::host_api::OrderRisk, HostError> {
        self.inner.order_risk(order_id)
    }
}

/// Time in host calls is kept off the plugin's deadline, so the calls have
/// their own budget: one history read serves the event (only its own
/// customer may be asked for), and past `MAX_HOST_CALLS` every call answers
/// `quota-exceeded` without reaching the services.
#[test]
fn host_calls_are_budgeted_per_event() {
    let p = load(
        "hostile",
        &BASE_MANIFEST.replace("host = [\"log\"", "host = [\"log\", \"kv\""),
    );
    let services = Arc::new(Counting {
        inner: MemoryServices::new().with_history(CustomerHistory {
            customer_id: 7,
            number_of_orders: 1,
            amount_spent: "10.00".into(),
            currency: "EUR".into(),
            tags: vec![],
            created_at: "2024-01-01T00:00:00Z".into(),
            recent_orders: vec![],
        }),
        ..Counting::default()
    });
    let actions = run_with(&p, json!({"tags": "do:host-call-flood"}), services.clone())
        .outcome
        .expect("the flood ends");
    let json = serde_json::to_string(&actions).unwrap();
    let ordering = std::sync::atomic::Ordering::SeqCst;
    let calls = shopcase_sandbox::MAX_HOST_CALLS;
    assert_eq!(services.history.load(ordering), 1, "one history read");
    assert_eq!(
        services.kv.load(ordering),
        calls - 1,
        "the rest of the budget"
    );
    // Every history call was answered from the first; the key reads up to
    // the budget; the rest were refused.
    assert!(json.contains("history-5000"), "{json}");
    assert!(json.contains(&format!("kv-{}", calls - 1)), "{json}");
    assert!(
        json.contains(&format!("quota-{}", 5000 - (calls - 1))),
        "{json}"
    );
}

/// A sleep is a wait on the monotonic clock inside host code, where fuel
/// and the epoch deadline cannot reach: it must not wait at all (the clock
/// never moves), or a plugin could hold a sandbox slot for as long as it
/// liked. The plugin asks for an hour; the bound here only keeps a broken
/// host from hanging the test run.
#[test]
fn a_sleep_does_not_wait() {
    let p = with_limits("");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run(&p, json!({"tags": "do:sleep"})).outcome);
    });
    let outcome = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the plugin's sleep held the sandbox");
    let json = serde_json::to_string(&outcome.expect("ran")).unwrap();
    assert!(json.contains("awake"), "{json}");
}

#[test]
fn time_and_randomness_are_deterministic_per_event() {
    let p = with_limits("");
    let a = run(&p, json!({"tags": "do:entropy"})).outcome.unwrap();
    let b = run(&p, json!({"tags": "do:entropy"})).outcome.unwrap();
    assert_eq!(a, b, "same event, same actions");
    let json = serde_json::to_string(&a).unwrap();
    // 2026-11-26T10:00:00Z, the event's triggered-at.
    assert!(json.contains("t1795687200"), "{json}");
}

#[test]
fn budget_is_reported_for_a_normal_run() {
    let p = with_limits("");
    let inv = run(&p, json!({"tags": "do:ok"}));
    assert!(inv.outcome.is_ok());
    let b = inv.budget;
    assert!(b.fuel.used > 0 && b.fuel.used < b.fuel.limit, "{b:?}");
    assert!(
        b.memory_bytes.used > 0 && b.memory_bytes.used <= b.memory_bytes.limit,
        "{b:?}"
    );
    assert!(b.output_bytes.used > 0, "{b:?}");
}

#[test]
fn the_plugin_sees_only_granted_data_classes() {
    let payload = json!({
        "tags": "do:echo",
        "email": "ann@example.com",
        "browser_ip": "203.0.113.9",
        "shipping_address": {"address1": "1 Main St", "city": "Springfield", "country_code": "US", "name": "Ann Lee"},
        "total_price": "10.00",
        "note": "Ring Ann on +1 555 0100",
        "future_field": "whatever Shopify adds next"
    });
    let seen = |manifest: &str| -> serde_json::Value {
        let p = load("hostile", manifest);
        let actions = run(&p, payload.clone()).outcome.expect("echo");
        let shopcase_contract::Action::OpenCase(open) = &actions[0] else {
            panic!("{actions:?}")
        };
        serde_json::from_slice(&open.documents[0].content).unwrap()
    };
    let none = seen(BASE_MANIFEST);
    assert_eq!(none["total_price"], "10.00");
    assert!(
        none.get("email").is_none() && none.get("browser_ip").is_none(),
        "{none}"
    );
    assert!(none.get("shipping_address").is_none(), "{none}");
    // Free text the customer typed, and fields the host does not know.
    assert!(
        none.get("note").is_none() && none.get("future_field").is_none(),
        "{none}"
    );

    let region = seen(&BASE_MANIFEST.replace(
        "case-types",
        "data = [\"address-region\", \"client-details\", \"customer-notes\"]\ncase-types",
    ));
    assert_eq!(
        region["shipping_address"],
        json!({"city": "Springfield", "country_code": "US"})
    );
    assert_eq!(region["browser_ip"], "203.0.113.9");
    assert!(region.get("email").is_none(), "{region}");
    assert_eq!(region["note"], "Ring Ann on +1 555 0100");
    assert!(region.get("future_field").is_none(), "{region}");
}
