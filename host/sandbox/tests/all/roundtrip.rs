//! Every action kind survives the trip through the component boundary
//! unchanged: journal JSON → the `scripted` test plugin (SDK types → WIT) →
//! the host's bindings → the host's actions. This checks the conversions of
//! `v0_1_0.rs` (and the SDK's) field by field.

use serde_json::json;

use crate::support::*;

fn every_action() -> serde_json::Value {
    let key = json!({"case_type": "scripted", "subject": {"order": 1001}});
    json!([
        {"kind": "open-case", "key": key, "title": "T", "summary": "S", "priority": "high",
         "owner": "alice", "owner_group": "ops", "due": "2026-11-27T10:00:00Z",
         "attributes": [{"name": "a", "value": "1"}],
         "documents": [{"name": "d.md", "content_type": "text/markdown", "description": "D", "content": "aGk="}]},
        {"kind": "update-case", "key": key, "status": "in-progress", "reason": "r",
         "resolution": {"code": "done", "notes": "n"}, "priority": "critical", "owner": null,
         "owner_group": "g", "due": null, "escalation_level": 2, "attributes": []},
        {"kind": "comment", "key": key, "text": "hello", "visibility": "public"},
        {"kind": "attach-document", "key": key,
         "document": {"name": "e.json", "content_type": "application/json", "description": "", "content": "e30="}},
        {"kind": "create-task", "key": key, "title": "Check", "description": "", "team": "warehouse",
         "owner": null, "due": "2026-11-28T00:00:00Z"},
        {"kind": "request-approval", "key": key, "title": "Refund", "description": "big",
         "approver_group": "finance", "due": null,
         "operation": {"kind": "refund", "order_id": 1001, "amount": "12.50", "currency": "EUR", "note": "n", "notify_customer": true}},
        {"kind": "follow-up", "name": "sla", "due": "2026-11-27T00:00:00Z", "data": "{\"x\":1}"},
        {"kind": "tags-add", "target": {"order": 1001}, "tags": ["a", "b"]},
        {"kind": "tags-remove", "target": {"customer": 7}, "tags": ["c"]},
        {"kind": "note-append", "target": {"order": 1001}, "text": "line"},
        {"kind": "set-metafield", "target": {"order": 1001}, "namespace": "corecase", "key": "case",
         "type": "json", "value": "{}"},
        {"kind": "hold-fulfillment", "order_id": 1001, "reason": "high-risk-of-fraud", "notes": "n", "handle": "fraud-review"},
        {"kind": "release-fulfillment", "order_id": 1001, "handle": "fraud-review"},
        {"kind": "cancel-order", "order_id": 1001, "reason": "fraud", "restock": true, "notify_customer": false, "staff_note": "s"},
        {"kind": "refund", "order_id": 1001, "amount": "5", "currency": "USD", "note": "", "notify_customer": false},
        {"kind": "store-credit", "customer_id": 7, "amount": "20.00", "currency": "USD",
         "expires_at": "2027-01-01T00:00:00Z", "notify_customer": true}
    ])
}

#[test]
fn every_action_kind_round_trips_through_the_component_boundary() {
    let manifest = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/programs/scripted/plugin.toml"
    ))
    .unwrap();
    let plugin = load("scripted", &manifest);
    let script = every_action();
    let inv = run(
        &plugin,
        json!({"note": json!({"actions": script}).to_string()}),
    );
    let actions = inv.outcome.expect("scripted actions");
    assert_eq!(serde_json::to_value(&actions).unwrap(), script);
}

#[test]
fn a_scripted_failure_is_reported_as_the_plugins() {
    let manifest = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/programs/scripted/plugin.toml"
    ))
    .unwrap();
    let plugin = load("scripted", &manifest);
    let f = run(
        &plugin,
        json!({"note": json!({"error": {"message": "nope", "retryable": true}}).to_string()}),
    )
    .outcome
    .unwrap_err();
    assert_eq!((f.message.as_str(), f.retryable), ("nope", true));
}
