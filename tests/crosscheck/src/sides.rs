//! Running one case on each side, and what is compared.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
use shopcase_contract::action::{CaseKey, CaseStatus, Priority, Subject};
use shopcase_contract::host_api::{CustomerHistory, LinkedCase, OrderSummary};
use shopcase_contract::{Action, EventFile, FailureKind, Manifest};
use shopcase_sandbox::{Invocation, MemoryServices, Plugin};
use shopcase_sdk::harness::{Harness, HarnessError, KvWrite};

/// The event's ids: every case runs on order 1001 of customer 7.
pub(crate) const ORDER: u64 = 1001;
pub(crate) const CUSTOMER: u64 = 7;
const TRIGGERED_AT: &str = "2026-11-26T10:00:00Z";

/// What the store holds before a case's first event.
#[derive(Debug, Default, Clone)]
pub(crate) struct Seed {
    pub(crate) kv: Vec<(String, String)>,
    pub(crate) history: Option<CustomerHistory>,
    pub(crate) cases: Vec<(CaseKey, LinkedCase)>,
}

/// What one event of a case ended with, on either side, in a form both
/// can be compared in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outcome {
    /// The actions as journal JSON (the `host-calls.json` report decoded,
    /// under `"host-calls"`), or the failure.
    pub(crate) result: Result<Value, Failed>,
    /// `<level>: <message>`, in order.
    pub(crate) logs: Vec<String>,
    /// Lines dropped for the log cap (known on success only).
    pub(crate) dropped_log_lines: Option<u64>,
    /// The writes to commit: key → value and expiry, or `None` (delete).
    pub(crate) kv_writes: BTreeMap<String, Option<(String, Option<String>)>>,
}

/// A failed event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failed {
    pub(crate) kind: FailureKind,
    /// Compared for the kinds whose message both sides word the same.
    pub(crate) message: Option<String>,
    /// Compared for `plugin-error`.
    pub(crate) retryable: Option<bool>,
}

impl Failed {
    fn new(kind: FailureKind, message: String, retryable: bool) -> Failed {
        let compared = matches!(
            kind,
            FailureKind::PluginError | FailureKind::InvalidAction | FailureKind::GrantDenied
        );
        Failed {
            kind,
            message: compared.then_some(message),
            retryable: (kind == FailureKind::PluginError).then_some(retryable),
        }
    }
}

/// The text of the event file for `script` (the order's note).
pub(crate) fn event_file(case: &str, step: usize, script: &Value) -> String {
    json!({
        "topic": "orders/create",
        "shop": "demo.myshopify.com",
        "webhook_id": format!("crosscheck-{case}-{step}"),
        "triggered_at": TRIGGERED_AT,
        "payload": {
            "id": ORDER,
            "name": "#1001",
            "customer": {"id": CUSTOMER},
            "tags": "",
            "note": script.to_string(),
        },
    })
    .to_string()
}

/// The actions in comparable form.
fn actions_json(actions: &[Action]) -> Value {
    Value::from(
        actions
            .iter()
            .map(|a| match a {
                Action::AttachDocument(d) if d.document.name == "host-calls.json" => {
                    let report = serde_json::from_slice(&d.document.content)
                        .unwrap_or_else(|e| Value::from(format!("not JSON: {e}")));
                    json!({"host-calls": report})
                }
                a => serde_json::to_value(a).unwrap_or_else(|e| Value::from(e.to_string())),
            })
            .collect::<Vec<_>>(),
    )
}

// ---- the harness --------------------------------------------------------------

/// Run `events` (event file texts) in order through the SDK's harness.
pub(crate) fn harness(manifest: &str, seed: &Seed, events: &[String]) -> Vec<Outcome> {
    let manifest = Manifest::parse(manifest, Path::new("plugin.toml")).expect("case manifest");
    let mut h = Harness::with_manifest(manifest);
    for (k, v) in &seed.kv {
        h = h.kv(k, v);
    }
    if let Some(history) = &seed.history {
        h = h.customer_history(sdk_history(history));
    }
    for (key, case) in &seed.cases {
        h = h.linked_case(sdk_key(key), sdk_case(case));
    }
    events
        .iter()
        .map(|text| {
            let event = shopcase_sdk::Event::from_file_json(text).expect("event file");
            let run = h.run::<scripted::Scripted>(&event);
            let logs = h
                .last_logs()
                .iter()
                .map(|l| format!("{}: {}", l.level.as_str(), l.message))
                .collect();
            match run {
                Ok(run) => Outcome {
                    result: Ok(actions_json(&run.journal)),
                    logs,
                    dropped_log_lines: Some(run.dropped_log_lines),
                    kv_writes: harness_writes(&run.kv_writes),
                },
                Err(e) => Outcome {
                    result: Err(harness_failure(&e)),
                    logs,
                    dropped_log_lines: None,
                    kv_writes: BTreeMap::new(),
                },
            }
        })
        .collect()
}

fn harness_failure(e: &HarnessError) -> Failed {
    let Some(kind) = e.failure_kind() else {
        panic!("the harness refused the case itself: {e}");
    };
    let message = match e {
        HarnessError::Plugin(p) => p.message.clone(),
        HarnessError::InvalidAction(i) => i.to_string(),
        HarnessError::GrantDenied { function, grant } => {
            format!("`{function}` needs the `{grant}` grant, which the manifest does not give")
        }
        other => other.to_string(),
    };
    let retryable = e.plugin_error().is_some_and(|p| p.retryable);
    Failed::new(kind, message, retryable)
}

/// The harness's writes in call order, folded into what is committed,
/// with expiry as the host computes it (`triggered-at` + ttl).
fn harness_writes(writes: &[KvWrite]) -> BTreeMap<String, Option<(String, Option<String>)>> {
    let mut out = BTreeMap::new();
    for w in writes {
        match w {
            KvWrite::Set {
                key,
                value,
                ttl_seconds,
            } => {
                let expires = ttl_seconds.map(|t| {
                    let base = shopcase_contract::time::parse(TRIGGERED_AT).expect("time");
                    let at = base
                        .checked_add(shopcase_contract::time::SignedDuration::from_secs(
                            i64::from(t),
                        ))
                        .expect("time");
                    shopcase_contract::time::format(at)
                });
                out.insert(key.clone(), Some((value.clone(), expires)));
            }
            KvWrite::Delete { key } => {
                out.insert(key.clone(), None);
            }
        }
    }
    out
}

fn sdk_history(h: &CustomerHistory) -> shopcase_sdk::CustomerSummary {
    shopcase_sdk::CustomerSummary {
        customer_id: h.customer_id,
        number_of_orders: h.number_of_orders,
        amount_spent: h.amount_spent.clone(),
        currency: h.currency.clone(),
        tags: h.tags.clone(),
        created_at: h.created_at.clone(),
        recent_orders: h
            .recent_orders
            .iter()
            .map(|o| shopcase_sdk::OrderSummary {
                id: o.id,
                name: o.name.clone(),
                created_at: o.created_at.clone(),
                total_price: o.total_price.clone(),
                currency: o.currency.clone(),
                financial_status: o.financial_status.clone(),
                fulfillment_status: o.fulfillment_status.clone(),
                cancelled: o.cancelled,
                shipping_country: o.shipping_country.clone(),
            })
            .collect(),
    }
}

fn sdk_key(k: &CaseKey) -> shopcase_sdk::CaseKey {
    use shopcase_sdk::Subject as S;
    shopcase_sdk::CaseKey {
        case_type: k.case_type.clone(),
        subject: match k.subject {
            Subject::Order(i) => S::Order(i),
            Subject::Return(i) => S::Return(i),
            Subject::Dispute(i) => S::Dispute(i),
            Subject::Customer(i) => S::Customer(i),
        },
    }
}

fn sdk_case(c: &LinkedCase) -> shopcase_sdk::CaseSummary {
    use shopcase_sdk::CaseStatus as S;
    use shopcase_sdk::Priority as P;
    shopcase_sdk::CaseSummary {
        case_id: c.case_id.clone(),
        case_number: c.case_number.clone(),
        status: match c.status {
            CaseStatus::New => S::New,
            CaseStatus::InProgress => S::InProgress,
            CaseStatus::OnHold => S::OnHold,
            CaseStatus::PendingApproval => S::PendingApproval,
            CaseStatus::Approved => S::Approved,
            CaseStatus::Rejected => S::Rejected,
            CaseStatus::Resolved => S::Resolved,
            CaseStatus::Closed => S::Closed,
            CaseStatus::Cancelled => S::Cancelled,
            CaseStatus::Reopened => S::Reopened,
        },
        priority: match c.priority {
            Priority::Low => P::Low,
            Priority::Medium => P::Medium,
            Priority::High => P::High,
            Priority::Critical => P::Critical,
        },
        escalation_level: c.escalation_level,
        opened_at: c.opened_at.clone(),
    }
}

// ---- the sandbox --------------------------------------------------------------

/// The `scripted` component packaged with `manifest`, loaded in the test
/// binary's runtime (once per manifest: most cases share one).
fn load(manifest: &str) -> Plugin {
    static LOADED: Mutex<BTreeMap<String, Plugin>> = Mutex::new(BTreeMap::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|p| p.into_inner());
    loaded
        .entry(manifest.to_owned())
        .or_insert_with(|| load_new(manifest))
        .clone()
}

fn load_new(manifest: &str) -> Plugin {
    static WASM: OnceLock<std::path::PathBuf> = OnceLock::new();
    let wasm = WASM.get_or_init(|| shopcase_testkit::wasm("scripted"));
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("plugin.toml");
    std::fs::write(&src, manifest).expect("write manifest");
    let packaged = shopcase_contract::manifest::package(&src, wasm, &dir.path().join("pkg"))
        .expect("package the scripted component");
    shopcase_testkit::runtime()
        .load(&packaged)
        .unwrap_or_else(|e| panic!("load the scripted component: {e}"))
}

/// Run `events` in order through the sandbox, committing each successful
/// event's writes to the store as the server does.
pub(crate) fn sandbox(manifest: &str, seed: &Seed, events: &[String]) -> Vec<Outcome> {
    let plugin = load(manifest);
    let mut services = MemoryServices::new();
    for (k, v) in &seed.kv {
        services = services.with_kv(k, v);
    }
    if let Some(history) = &seed.history {
        services = services.with_history(history.clone());
    }
    for (key, case) in &seed.cases {
        services = services.with_case(key.clone(), case.clone());
    }
    let services = Arc::new(services);
    let settings = Arc::new(
        plugin
            .manifest()
            .resolve_settings(&BTreeMap::new())
            .expect("settings"),
    );
    events
        .iter()
        .map(|text| {
            let event = EventFile::parse(text).expect("event file").to_event();
            let inv = plugin.invoke(&event, settings.clone(), services.clone());
            if inv.outcome.is_ok() {
                services.apply(&inv.kv.writes);
            }
            sandbox_outcome(inv)
        })
        .collect()
}

fn sandbox_outcome(inv: Invocation) -> Outcome {
    let ok = inv.outcome.is_ok();
    Outcome {
        result: match &inv.outcome {
            Ok(actions) => Ok(actions_json(actions)),
            Err(f) => Err(Failed::new(f.kind, f.message.clone(), f.retryable)),
        },
        logs: inv
            .logs
            .iter()
            .map(|l| {
                let level = format!("{:?}", l.level).to_lowercase();
                format!("{level}: {}", l.message)
            })
            .collect(),
        dropped_log_lines: ok.then_some(inv.budget.log_lines_dropped),
        kv_writes: inv
            .kv
            .writes
            .iter()
            .map(|w| {
                (
                    w.key.clone(),
                    w.value.clone().map(|v| (v, w.expires_at.clone())),
                )
            })
            .collect(),
    }
}

// ---- comparing ----------------------------------------------------------------

/// How `harness` and `sandbox` differ for one event, in words; empty when
/// they agree.
pub(crate) fn differences(harness: &Outcome, sandbox: &Outcome) -> Vec<String> {
    let mut out = Vec::new();
    match (&harness.result, &sandbox.result) {
        (Ok(h), Ok(s)) if h != s => out.push(actions_difference(h, s)),
        (Err(h), Err(s)) if h != s => {
            out.push(format!("failure:\n    harness: {h:?}\n    sandbox: {s:?}"));
        }
        (Ok(_), Err(s)) => out.push(format!("harness succeeded, sandbox failed: {s:?}")),
        (Err(h), Ok(_)) => out.push(format!("sandbox succeeded, harness failed: {h:?}")),
        _ => {}
    }
    // On a trap the sandbox also logs what the component printed to
    // stderr (the panic message): the harness's lines must come first.
    let trapped = matches!(&sandbox.result, Err(f) if f.kind == FailureKind::Trap)
        && matches!(&harness.result, Err(f) if f.kind == FailureKind::Trap);
    let sandbox_logs = if trapped && sandbox.logs.len() >= harness.logs.len() {
        &sandbox.logs[..harness.logs.len()]
    } else {
        &sandbox.logs[..]
    };
    if harness.logs != sandbox_logs {
        out.push(lines_difference("logs", &harness.logs, sandbox_logs));
    }
    if let (Some(h), Some(s)) = (harness.dropped_log_lines, sandbox.dropped_log_lines)
        && h != s
    {
        out.push(format!("log lines dropped: harness {h}, sandbox {s}"));
    }
    if harness.kv_writes != sandbox.kv_writes {
        out.push(format!(
            "key-value writes:\n    harness: {:?}\n    sandbox: {:?}",
            clip(&format!("{:?}", harness.kv_writes)),
            clip(&format!("{:?}", sandbox.kv_writes))
        ));
    }
    out
}

fn actions_difference(h: &Value, s: &Value) -> String {
    let (ha, sa) = (h.as_array(), s.as_array());
    let (Some(ha), Some(sa)) = (ha, sa) else {
        return format!(
            "actions:\n    harness: {}\n    sandbox: {}",
            clip(&h.to_string()),
            clip(&s.to_string())
        );
    };
    let mut lines = vec![format!(
        "actions ({} from the harness, {} from the sandbox):",
        ha.len(),
        sa.len()
    )];
    for i in 0..ha.len().max(sa.len()) {
        let (x, y) = (ha.get(i), sa.get(i));
        if x == y {
            continue;
        }
        match (
            x.and_then(|x| x.get("host-calls")),
            y.and_then(|y| y.get("host-calls")),
        ) {
            (Some(Value::Array(xc)), Some(Value::Array(yc))) => {
                for c in 0..xc.len().max(yc.len()) {
                    if xc.get(c) != yc.get(c) {
                        lines.push(format!(
                            "    host call {c}:\n      harness: {}\n      sandbox: {}",
                            clip(&xc.get(c).map(Value::to_string).unwrap_or_default()),
                            clip(&yc.get(c).map(Value::to_string).unwrap_or_default())
                        ));
                    }
                }
            }
            _ => lines.push(format!(
                "    action {i}:\n      harness: {}\n      sandbox: {}",
                clip(&x.map(Value::to_string).unwrap_or_default()),
                clip(&y.map(Value::to_string).unwrap_or_default())
            )),
        }
    }
    lines.join("\n")
}

fn lines_difference(what: &str, h: &[String], s: &[String]) -> String {
    let mut lines = vec![format!(
        "{what} ({} lines from the harness, {} from the sandbox):",
        h.len(),
        s.len()
    )];
    for i in 0..h.len().max(s.len()) {
        if h.get(i) != s.get(i) {
            lines.push(format!(
                "    line {i}:\n      harness: {:?}\n      sandbox: {:?}",
                h.get(i).map(|l| clip(l)),
                s.get(i).map(|l| clip(l))
            ));
        }
    }
    lines.join("\n")
}

/// At most 400 characters of `s`, for reports.
fn clip(s: &str) -> String {
    if s.chars().count() <= 400 {
        s.to_owned()
    } else {
        format!(
            "{}… ({} chars)",
            s.chars().take(400).collect::<String>(),
            s.chars().count()
        )
    }
}

/// A history for the event's customer.
pub(crate) fn history() -> CustomerHistory {
    CustomerHistory {
        customer_id: CUSTOMER,
        number_of_orders: 3,
        amount_spent: "412.50".into(),
        currency: "EUR".into(),
        tags: vec!["VIP".into()],
        created_at: "2024-03-01T09:00:00Z".into(),
        recent_orders: (0..25)
            .map(|i| OrderSummary {
                id: 900 + i,
                name: format!("#{}", 900 + i),
                created_at: "2026-10-01T09:00:00Z".into(),
                total_price: "10.00".into(),
                currency: "EUR".into(),
                financial_status: "paid".into(),
                fulfillment_status: "fulfilled".into(),
                cancelled: i == 3,
                shipping_country: Some("DE".into()),
            })
            .collect(),
    }
}

/// A case linked to the event's order.
pub(crate) fn linked_case(case_type: &str) -> (CaseKey, LinkedCase) {
    (
        CaseKey {
            case_type: case_type.into(),
            subject: Subject::Order(ORDER),
        },
        LinkedCase {
            case_id: "c-1".into(),
            case_number: "CASE-000042".into(),
            status: CaseStatus::InProgress,
            priority: Priority::High,
            escalation_level: 1,
            opened_at: "2026-11-20T08:00:00Z".into(),
        },
    )
}
