//! Plugin API versions side by side: a 0.2.0 component (`order-probe`)
//! beside the 0.1.0 ones the other suites run, its two new host functions
//! (`order`, `order-risk`) with their grants, ownership checks, data
//! minimisation and failures, and components refused when their manifest
//! names the other version.

use std::sync::Arc;

use serde_json::{Value, json};
use shopcase_contract::host_api::{
    Address, Money, OrderDetails, OrderFulfillment, OrderLineItem, OrderRisk, OrderTransaction,
    RiskAssessment, RiskFact, RiskLevel, RiskRecommendation, RiskSentiment,
};
use shopcase_contract::{Action, FailureKind};
use shopcase_sandbox::{HostError, HostServices, MemoryServices, Plugin};

use crate::support::{BASE_MANIFEST, load, package, run, run_with, runtime};

/// A 0.2.0 manifest for the probe with these host grants and data classes.
fn manifest(host: &[&str], data: &[&str]) -> String {
    let list = |v: &[&str]| {
        v.iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        r#"
[plugin]
id = "order-probe"
version = "0.1.0"
api = "0.2.0"
topics = ["orders/create"]

[grants]
actions = ["open-case"]
host = [{}]
data = [{}]
case-types = ["probe"]
"#,
        list(host),
        list(data)
    )
}

fn money(amount: &str) -> Money {
    Money {
        amount: amount.into(),
        currency: "EUR".into(),
    }
}

fn address() -> Address {
    Address {
        first_name: Some("Ann".into()),
        last_name: Some("Lee".into()),
        name: Some("Ann Lee".into()),
        phone: Some("+49 30 000".into()),
        company: Some("Lee GmbH".into()),
        address1: Some("Hauptstrasse 5".into()),
        address2: None,
        city: Some("Berlin".into()),
        province: Some("Berlin".into()),
        province_code: Some("BE".into()),
        country: Some("Germany".into()),
        country_code: Some("DE".into()),
        zip: Some("10115".into()),
        latitude: Some(52.5),
        longitude: Some(13.4),
    }
}

/// Order 1001 (the event's own, see `support::event`).
fn order() -> OrderDetails {
    OrderDetails {
        id: 1001,
        name: "#1001".into(),
        created_at: "2026-11-26T09:59:00Z".into(),
        currency: "EUR".into(),
        subtotal: Some(money("120.00")),
        total: money("129.90"),
        current_total: money("129.90"),
        outstanding: money("0.00"),
        total_refunded: money("0.00"),
        financial_status: "PAID".into(),
        fulfillment_status: "FULFILLED".into(),
        cancelled: false,
        customer_id: Some(7),
        line_items: vec![OrderLineItem {
            id: 11,
            title: "Trail shoes".into(),
            sku: Some("TS-42".into()),
            quantity: 2,
            unit_price: money("60.00"),
            variant_id: Some(21),
            product_id: Some(31),
        }],
        shipping_address: Some(address()),
        billing_address: Some(address()),
        fulfillments: vec![OrderFulfillment {
            id: 41,
            status: "SUCCESS".into(),
            created_at: "2026-11-26T12:00:00Z".into(),
            tracking_company: Some("DHL".into()),
            tracking_number: Some("JD0146".into()),
        }],
        transactions: vec![OrderTransaction {
            kind: "SALE".into(),
            status: "SUCCESS".into(),
            gateway: Some("shopify_payments".into()),
            amount: money("129.90"),
            created_at: "2026-11-26T09:59:01Z".into(),
        }],
    }
}

fn risk() -> OrderRisk {
    OrderRisk {
        recommendation: RiskRecommendation::Investigate,
        assessments: vec![
            RiskAssessment {
                level: RiskLevel::Medium,
                provider: None,
                facts: vec![RiskFact {
                    description: "Billing and shipping countries differ".into(),
                    sentiment: RiskSentiment::Negative,
                }],
            },
            RiskAssessment {
                level: RiskLevel::Low,
                provider: Some("Fraud Filter".into()),
                facts: vec![],
            },
        ],
    }
}

fn services() -> Arc<MemoryServices> {
    Arc::new(
        MemoryServices::new()
            .with_order(order())
            .with_order_risk(1001, risk()),
    )
}

/// The probe's report (`probe.json` of its one `open-case`).
fn report(plugin: &Plugin, tags: &str, services: Arc<dyn HostServices>) -> Value {
    let inv = run_with(plugin, json!({"tags": tags}), services);
    let actions = inv.outcome.unwrap_or_else(|f| panic!("{f}"));
    let Some(Action::OpenCase(open)) = actions.first() else {
        panic!("{actions:?}")
    };
    serde_json::from_slice(&open.documents[0].content).unwrap()
}

#[test]
fn a_0_2_0_plugin_reads_its_own_order_and_risk() {
    let p = load(
        "order-probe",
        &manifest(&["order-lookup", "order-risk"], &["address-region"]),
    );
    let r = report(&p, "", services());
    let o = &r["order"]["ok"];
    assert_eq!(o["name"], "#1001");
    assert_eq!(o["total"], json!({"amount": "129.90", "currency": "EUR"}));
    assert_eq!(o["customer-id"], 7);
    assert_eq!(
        o["line-items"][0],
        json!({"id": 11, "title": "Trail shoes", "sku": "TS-42", "quantity": 2,
            "unit-price": {"amount": "60.00", "currency": "EUR"}, "variant-id": 21, "product-id": 31})
    );
    assert_eq!(o["fulfillments"][0]["tracking-number"], "JD0146");
    assert_eq!(o["transactions"][0]["kind"], "SALE");
    let rk = &r["risk"]["ok"];
    assert_eq!(rk["recommendation"], "investigate");
    assert_eq!(rk["assessments"][0]["level"], "medium");
    assert_eq!(rk["assessments"][0]["provider"], Value::Null);
    assert_eq!(rk["assessments"][0]["facts"][0]["sentiment"], "negative");
    assert_eq!(rk["assessments"][1]["provider"], "Fraud Filter");
}

#[test]
fn the_customer_the_order_names_is_the_events_own_after_the_look_up() {
    // A return or dispute payload names its order only; from 0.2.0 the
    // customer the host's order look-up names may be asked about, and no
    // other. The event here names customer 7; its order, customer 8.
    let history = |id: u64| shopcase_contract::host_api::CustomerHistory {
        customer_id: id,
        number_of_orders: id,
        amount_spent: "10.00".into(),
        currency: "EUR".into(),
        tags: vec![],
        created_at: "2024-01-01T00:00:00Z".into(),
        recent_orders: vec![],
    };
    let mut o = order();
    o.customer_id = Some(8);
    let services = Arc::new(
        MemoryServices::new()
            .with_order(o)
            .with_history(history(7))
            .with_history(history(8))
            .with_history(history(9)),
    );
    let p = load(
        "order-probe",
        &manifest(&["order-lookup", "customer-history"], &[]),
    );
    let r = report(&p, "skip:risk, history:8", services.clone());
    assert_eq!(
        r["history-before"]["err"],
        json!({"case": "invalid-argument", "message": "customer 8 is not this event's customer"}),
        "{r}"
    );
    assert_eq!(r["history-after"]["ok"]["customer-id"], 8, "{r}");
    // The event's own customer still answers, and a third never does.
    let r = report(&p, "skip:risk, history:7", services.clone());
    assert_eq!(r["history-before"]["ok"]["orders"], 7, "{r}");
    assert_eq!(r["history-after"]["ok"]["orders"], 7, "{r}");
    let r = report(&p, "skip:risk, history:9", services);
    assert_eq!(r["history-after"]["err"]["case"], "invalid-argument", "{r}");
}

#[test]
fn another_order_is_an_invalid_argument() {
    let p = load(
        "order-probe",
        &manifest(&["order-lookup", "order-risk"], &[]),
    );
    let r = report(&p, "ask:5002", services());
    for f in ["order", "risk"] {
        assert_eq!(
            r[f]["err"],
            json!({"case": "invalid-argument", "message": "order 5002 is not this event's order"}),
            "{f}: {r}"
        );
    }
}

#[test]
fn each_function_needs_its_own_grant() {
    let cases = [
        (
            &["order-risk"][..],
            "skip:order",
            "`host.order` needs the `order-lookup` grant",
        ),
        (
            &["order-lookup"][..],
            "skip:risk",
            "`host.order-risk` needs the `order-risk` grant",
        ),
    ];
    for (grants, tags, want) in cases {
        let p = load("order-probe", &manifest(grants, &[]));
        // The granted one alone runs.
        report(&p, tags, services());
        let inv = run_with(&p, json!({"tags": ""}), services());
        let f = inv.outcome.unwrap_err();
        assert_eq!(f.kind, FailureKind::GrantDenied, "{f}");
        assert!(f.message.contains(want), "{f}");
    }
}

/// Addresses reach the plugin as they would in a payload: nothing without
/// `address-region`, the region with it, streets with `address`, names and
/// phone with `customer-contact`.
#[test]
fn addresses_are_minimised_per_data_grants() {
    let seen = |data: &[&str]| {
        let p = load("order-probe", &manifest(&["order-lookup"], data));
        let r = report(&p, "skip:risk", services());
        let o = &r["order"]["ok"];
        assert_eq!(o["shipping-address"], o["billing-address"]);
        o["shipping-address"].clone()
    };
    assert_eq!(seen(&[]), Value::Null);
    assert_eq!(seen(&["customer-contact"]), Value::Null);
    assert_eq!(
        seen(&["address-region"]),
        json!({"city": "Berlin", "province": "Berlin", "province-code": "BE",
            "country": "Germany", "country-code": "DE", "zip": "10115"})
    );
    let street = seen(&["address"]);
    assert_eq!(street["address1"], "Hauptstrasse 5");
    assert_eq!(street["latitude"], 52.5);
    assert!(
        street.get("name").is_none() && street.get("company").is_none(),
        "{street}"
    );
    let contact = seen(&["address-region", "customer-contact"]);
    assert_eq!(contact["name"], "Ann Lee");
    assert_eq!(contact["phone"], "+49 30 000");
    assert!(
        contact.get("address1").is_none() && contact.get("company").is_none(),
        "{contact}"
    );
    assert_eq!(
        seen(&["address", "customer-contact"])["company"],
        "Lee GmbH"
    );
}

/// Shopify down.
#[derive(Debug)]
struct Down;

impl HostServices for Down {
    fn kv_get(&self, _: &str) -> Result<Option<shopcase_sandbox::KvEntry>, HostError> {
        Ok(None)
    }
    fn kv_usage(&self) -> Result<shopcase_sandbox::KvUsage, HostError> {
        Ok(shopcase_sandbox::KvUsage::default())
    }
    fn customer_history(
        &self,
        _: u64,
    ) -> Result<shopcase_contract::host_api::CustomerHistory, HostError> {
        Err(HostError::Unavailable("Shopify did not answer".into()))
    }
    fn linked_case(
        &self,
        _: &shopcase_contract::CaseKey,
    ) -> Result<Option<shopcase_contract::host_api::LinkedCase>, HostError> {
        Ok(None)
    }
    fn order(&self, _: u64) -> Result<OrderDetails, HostError> {
        Err(HostError::Unavailable("Shopify did not answer".into()))
    }
    fn order_risk(&self, _: u64) -> Result<OrderRisk, HostError> {
        Err(HostError::Unavailable("Shopify did not answer".into()))
    }
}

/// A look-up Shopify cannot answer is `unavailable` to the plugin, and the
/// invocation records it as the host's condition (so a retryable failure
/// that follows is waited out, not blamed on the plugin).
#[test]
fn shopify_down_is_unavailable_and_the_hosts_condition() {
    let p = load(
        "order-probe",
        &manifest(&["order-lookup", "order-risk"], &[]),
    );
    let inv = run_with(&p, json!({"tags": ""}), Arc::new(Down));
    assert_eq!(
        inv.host_unavailable.as_deref(),
        Some("unavailable: Shopify did not answer")
    );
    let r = report(&p, "", Arc::new(Down));
    for f in ["order", "risk"] {
        assert_eq!(
            r[f]["err"],
            json!({"case": "unavailable", "message": "Shopify did not answer"}),
            "{f}"
        );
    }
}

/// 0.1.0 and 0.2.0 components run in one runtime, each linked with its own
/// version; a manifest naming the other version is refused at load, naming
/// both.
#[test]
fn versions_run_side_by_side_and_a_mismatch_is_refused() {
    let v2 = load("order-probe", &manifest(&["order-lookup"], &[]));
    let v1 = load("hostile", BASE_MANIFEST);
    assert!(run(&v1, json!({"tags": "do:ok"})).outcome.is_ok());
    report(&v2, "skip:risk", services());
    assert!(run(&v1, json!({"tags": "do:ok"})).outcome.is_ok());

    // A 0.1.0 component declared as 0.2.0, and the other way round.
    let (_d1, m1) = package(
        "hostile",
        &BASE_MANIFEST.replace("api = \"0.1.0\"", "api = \"0.2.0\""),
    );
    let (_d2, m2) = package(
        "order-probe",
        &manifest(&[], &[]).replace("api = \"0.2.0\"", "api = \"0.1.0\""),
    );
    for (m, built, declared) in [(m1, "0.1.0", "0.2.0"), (m2, "0.2.0", "0.1.0")] {
        let e = runtime().load(&m).unwrap_err();
        assert_eq!(e.kind, FailureKind::BadManifest, "{e}");
        assert!(
            e.message
                .contains(&format!("built against plugin API {built}"))
                && e.message
                    .contains(&format!("declares `api = \"{declared}\"`")),
            "{e}"
        );
    }
}
