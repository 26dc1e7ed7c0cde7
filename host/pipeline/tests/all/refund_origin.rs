//! Who issued a refund, end to end: the scripted plugin makes shopcase
//! refund order 5001 in the Shopify emulator (through the journal and the
//! real executor, which marks the note); then `refunds/create` deliveries
//! reach the real `refund-approval` plugin, and the dispatcher's
//! `shopcase_issued` verdict decides whether it flags them. Only the
//! refund shopcase created is shopcase's: a forged field, a typed marker
//! and a marker copied onto another refund are all flagged.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use shopcase_pipeline::RunningPipeline;
use shopcase_pipeline::store::Storage;
use shopcase_shopify_emulator::RunningEmulator;

use crate::shopify_support::{config_text, *};
use crate::support::*;

const ORDER: u64 = 5001;

/// The host with the scripted plugin and the first-party refund-approval.
async fn host() -> (RunningEmulator, Host, RunningPipeline) {
    let emu = emulator_with(shopcase_shopify_emulator::BucketConfig::default()).await;
    let host = Host::with_config(&config_text(&emu, TOKEN, ""));
    add_scripted(&host);
    shopcase_contract::manifest::package(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/refund-approval/plugin.toml"),
        &wasm("refund-approval"),
        &host.plugins_dir().join("refund-approval"),
    )
    .unwrap();
    let running = start(&host, None).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP, "scripted", &[]).await;
    host.enable(&s, SHOP, "refund-approval", &[]).await;
    (emu, host, running)
}

/// A `refunds/create` payload as Shopify sends it (the parts that matter).
fn refund_payload(id: u64, note: &str, amount: &str, extra: Option<(&str, Value)>) -> Value {
    let mut v = json!({
        "id": id,
        "admin_graphql_api_id": format!("gid://shopify/Refund/{id}"),
        "order_id": ORDER,
        "created_at": "2026-11-26T10:00:00Z",
        "note": note,
        "restock": false,
        "refund_line_items": [],
        "transactions": [{"id": id + 1, "order_id": ORDER, "kind": "refund", "status": "success",
                          "amount": amount, "currency": "EUR", "gateway": "shopify_payments"}]
    });
    if let Some((k, val)) = extra {
        v[k] = val;
    }
    v
}

/// The kinds refund-approval journalled for the event, once it ran.
async fn flagged(s: &Arc<dyn Storage>, event_id: &str) -> Vec<String> {
    eventually("the refund event is dispatched", || is_done(s, event_id)).await;
    for row in s.dispatch_rows(event_id).await.unwrap() {
        assert_eq!(
            row.status,
            shopcase_pipeline::store::DispatchStatus::Done,
            "{}: {:?}",
            row.plugin_id,
            row.last_failure
        );
    }
    s.journal_for_event(event_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.plugin_id == "refund-approval")
        .map(|e| e.kind.name().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_refund_shopcase_created_is_shopcases() {
    let (emu, _host, running) = host().await;
    let s = running.storage().clone();

    // shopcase refunds 120.00 on 5001 (at or above refund-approval's
    // threshold of 100.00, so anything not shopcase's would be flagged).
    let issued = send(
        &running,
        SHOP,
        "orders/create",
        "w-refund-5001",
        order_payload(ORDER, 7001, vec![op(refund(ORDER, "120.00"))]),
    )
    .await;
    assert_done(&settled(&s, &issued, 1).await);
    let ours = emu.emulator.order(SHOP, ORDER).unwrap().refunds[0].clone();
    assert!(ours.note.contains("[shopcase:"), "{}", ours.note);

    // Shopify's webhook for it: shopcase's, nothing to flag.
    let echo = send(
        &running,
        SHOP,
        "refunds/create",
        "w-refund-echo",
        refund_payload(ours.id, &ours.note, "120.00", None),
    )
    .await;
    assert!(flagged(&s, &echo).await.is_empty());

    // Staff copy the marker onto a refund of their own: its entry created
    // another refund, so this one is not shopcase's.
    let copied = send(
        &running,
        SHOP,
        "refunds/create",
        "w-refund-copied",
        refund_payload(ours.id + 100, &ours.note, "150.00", None),
    )
    .await;
    assert_eq!(flagged(&s, &copied).await, ["open-case", "note-append"]);

    // A marker typed by hand, and a delivery claiming the host's field.
    let typed = send(
        &running,
        SHOP,
        "refunds/create",
        "w-refund-typed",
        refund_payload(
            ours.id + 200,
            "Goodwill [shopcase:0123456789ab]",
            "150.00",
            Some(("shopcase_issued", json!(true))),
        ),
    )
    .await;
    assert_eq!(flagged(&s, &typed).await, ["open-case", "note-append"]);
    running.shutdown().await.unwrap();
}
