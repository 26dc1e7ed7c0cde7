//! `shopcase plugin run` with the plugin API 0.2.0 look-ups: `--orders`
//! and `--order-risk` supply what `order` and `order-risk` answer, and the
//! order's addresses are minimised to the manifest's data grants as on the
//! server.

use std::path::Path;
use std::process::Command;

use serde_json::json;
use shopcase_contract::Action;

fn shopcase() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shopcase"))
}

fn write(dir: &Path, name: &str, value: &serde_json::Value) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
    path
}

#[test]
fn orders_and_risks_are_supplied_and_minimised() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("plugin.toml");
    std::fs::write(
        &src,
        r#"
[plugin]
id = "order-probe"
version = "0.1.0"
api = "0.2.0"
topics = ["orders/create"]

[grants]
actions = ["open-case"]
host = ["order-lookup", "order-risk"]
data = ["address-region"]
case-types = ["probe"]
"#,
    )
    .unwrap();
    let pkg = shopcase_contract::manifest::package(
        &src,
        &shopcase_testkit::wasm("order-probe"),
        &dir.path().join("pkg"),
    )
    .unwrap();
    let event = write(
        dir.path(),
        "event.json",
        &json!({"topic": "orders/create", "shop": "demo.myshopify.com",
            "triggered_at": "2026-11-26T10:00:00Z",
            "payload": {"id": 1001, "customer": {"id": 7}}}),
    );
    let money = |a: &str| json!({"amount": a, "currency": "EUR"});
    let orders = write(
        dir.path(),
        "orders.json",
        &json!([{
            "id": 1001, "name": "#1001", "created_at": "2026-11-26T09:59:00Z", "currency": "EUR",
            "subtotal": money("60.00"), "total": money("60.00"), "current_total": money("60.00"),
            "outstanding": money("0.00"), "total_refunded": money("0.00"),
            "financial_status": "PAID", "fulfillment_status": "UNFULFILLED", "cancelled": false,
            "customer_id": 7,
            "line_items": [{"id": 11, "title": "Trail shoes", "sku": "TS-42", "quantity": 1,
                "unit_price": money("60.00"), "variant_id": null, "product_id": null}],
            "shipping_address": {"name": "Ann Lee", "address1": "Hauptstrasse 5", "city": "Berlin",
                "country_code": "DE", "zip": "10115"},
            "billing_address": null, "fulfillments": [], "transactions": []
        }]),
    );
    let risks = write(
        dir.path(),
        "risks.json",
        &json!({"1001": {"recommendation": "ACCEPT", "assessments": [
            {"level": "LOW", "provider": null, "facts": [{"description": "Known customer", "sentiment": "POSITIVE"}]}]}}),
    );
    let out = shopcase()
        .args(["plugin", "run", "--json", "--plugin"])
        .arg(&pkg)
        .arg("--event")
        .arg(&event)
        .arg("--orders")
        .arg(&orders)
        .arg("--order-risk")
        .arg(&risks)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let actions: Vec<Action> = serde_json::from_value(v["actions"].clone()).unwrap();
    let Some(Action::OpenCase(open)) = actions.first() else {
        panic!("{stdout}")
    };
    let report: serde_json::Value = serde_json::from_slice(&open.documents[0].content).unwrap();
    let o = &report["order"]["ok"];
    assert_eq!(o["name"], "#1001", "{report}");
    assert_eq!(o["line-items"][0]["sku"], "TS-42");
    assert_eq!(
        o["shipping-address"],
        json!({"city": "Berlin", "country-code": "DE", "zip": "10115"}),
        "region only"
    );
    assert_eq!(report["risk"]["ok"]["recommendation"], "accept");
    assert_eq!(
        report["risk"]["ok"]["assessments"][0]["facts"][0]["sentiment"],
        "positive"
    );
}
