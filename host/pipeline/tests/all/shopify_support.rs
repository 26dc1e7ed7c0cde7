//! The Shopify tests' helpers: the emulator with the demo seed, a host
//! configured for it, the `scripted` plugin, operations and payloads,
//! journal waits. Shared by the `all` tests (`shopify`) and the `crash`
//! binary, which includes this file by `#[path]`.

use shopcase_testkit::config::TestConfig;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use shopcase_contract::Action;
use shopcase_contract::action::{
    CancelOrder, CancelReason, HoldFulfillment, HoldReason, Refund, ShopifyOperation, StoreCredit,
    TagsChange, Target,
};
use shopcase_pipeline::RunningPipeline;
use shopcase_shopify::ManualClock;
use shopcase_shopify_emulator::{
    self as emulator, BucketConfig, EmulatorConfig, Fault, FaultKind, RunningEmulator, Seed,
};
use shopcase_shopify_integration::Shopify;
use shopcase_store::{JournalEntry, JournalStatus, Storage};

use crate::support::*;

pub(crate) const SHOP: &str = "demo.myshopify.com";
pub(crate) const SECRET: &str = "demo-webhook-secret";
/// The demo seed's token.
pub(crate) const TOKEN: &str = "shpat_emulator_demo";
/// A second store, configured without an Admin API token.
pub(crate) const TOKENLESS: &str = "tokenless.myshopify.com";

/// A host for `emulator`'s demo store: fast retries, a short executor
/// lease (so a crashed execution is taken over quickly), `[shopify]` with
/// short waits plus `extra`.
pub(crate) fn config_text(emulator: &RunningEmulator, token: &str, extra: &str) -> String {
    let base = emulator.base_url();
    TestConfig {
        busy_timeout: "\"500ms\"",
        dispatcher_head: vec!["workers = 2".into()],
        executor_lease: "\"3s\"",
        executor_attempts: 5,
        stores: vec![
            TestConfig::store(
                SHOP,
                SECRET,
                &[
                    format!("admin-token = \"{token}\""),
                    format!("admin-base-url = \"{base}\""),
                ],
            ),
            TestConfig::store(TOKENLESS, SECRET, &[]),
        ],
        extra: format!(
            r#"
[shopify]
request-timeout = "2s"
connect-timeout = "1s"
backoff-base = "5ms"
backoff-max = "40ms"
max-retry-after = "100ms"
max-throttle-waits = 100
{extra}
"#
        ),
        ..TestConfig::default()
    }
    .render()
}

/// An emulator with the demo seed plus a second requested return (8002,
/// on order 5001) to decline.
pub(crate) async fn emulator_with(bucket: BucketConfig) -> RunningEmulator {
    let mut seed = Seed::demo();
    seed.shops[0]
        .returns
        .push(serde_json::from_value(json!({"id": 8002, "order_id": 5001})).unwrap());
    emulator::spawn(EmulatorConfig {
        seed,
        bucket,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

/// The scripted test plugin, packaged into the host's plugins directory.
pub(crate) fn add_scripted(host: &Host) {
    let src =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/programs/scripted/plugin.toml");
    shopcase_contract::manifest::package(
        &src,
        &wasm("scripted"),
        &host.plugins_dir().join("scripted"),
    )
    .unwrap();
}

/// A host with the scripted plugin enabled for both stores, serving with
/// the Shopify executor and history source (`clock` for the cache).
pub(crate) async fn start(host: &Host, clock: Option<Arc<ManualClock>>) -> RunningPipeline {
    let mut shopify = Shopify::from_config(&host.config()).unwrap();
    if let Some(c) = clock {
        shopify = shopify.with_clock(c);
    }
    host.start_with(|b| shopify.register(b)).await
}

pub(crate) async fn scripted_host(config: &str) -> (Host, RunningPipeline) {
    let host = Host::with_config(config);
    add_scripted(&host);
    let running = start(&host, None).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP, "scripted", &[]).await;
    host.enable(&s, TOKENLESS, "scripted", &[]).await;
    (host, running)
}

pub(crate) fn op(o: ShopifyOperation) -> Value {
    serde_json::to_value(Action::Shopify(o)).unwrap()
}

pub(crate) fn tags_add(target: Target, tags: &[&str]) -> ShopifyOperation {
    ShopifyOperation::TagsAdd(TagsChange {
        target,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    })
}

pub(crate) fn hold(order_id: u64) -> ShopifyOperation {
    ShopifyOperation::HoldFulfillment(HoldFulfillment {
        order_id,
        reason: HoldReason::HighRiskOfFraud,
        notes: "Risk score 70".into(),
        handle: "fraud-review".into(),
    })
}

pub(crate) fn cancel(order_id: u64) -> ShopifyOperation {
    ShopifyOperation::CancelOrder(CancelOrder {
        order_id,
        reason: CancelReason::Fraud,
        restock: true,
        notify_customer: false,
        staff_note: "Cancelled after fraud review".into(),
    })
}

pub(crate) fn refund(order_id: u64, amount: &str) -> ShopifyOperation {
    ShopifyOperation::Refund(Refund {
        order_id,
        amount: amount.into(),
        currency: "EUR".into(),
        note: "Goodwill refund".into(),
        notify_customer: false,
    })
}

pub(crate) fn store_credit(
    customer_id: u64,
    amount: &str,
    expires_at: Option<&str>,
) -> ShopifyOperation {
    ShopifyOperation::StoreCredit(StoreCredit {
        customer_id,
        amount: amount.into(),
        currency: "EUR".into(),
        expires_at: expires_at.map(str::to_owned),
        notify_customer: false,
    })
}

/// Post a signed delivery over HTTP; returns the event id.
pub(crate) async fn send(
    running: &RunningPipeline,
    shop: &str,
    topic: &str,
    webhook_id: &str,
    payload: Value,
) -> String {
    let (status, body) = post(
        &reqwest::Client::new(),
        &running.webhook_url(),
        &Delivery::new(shop, SECRET, topic, webhook_id, payload),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["event_id"].as_str().unwrap().to_owned()
}

/// An `orders/*` payload for the scripted plugin.
pub(crate) fn order_payload(order_id: u64, customer_id: u64, actions: Vec<Value>) -> Value {
    json!({"id": order_id, "name": format!("#{order_id}"), "customer": {"id": customer_id},
           "note": json!({"actions": actions}).to_string()})
}

/// A `returns/*` payload for the scripted plugin: its script is the
/// customer's note on the return's line.
pub(crate) fn return_payload(return_id: u64, order_id: u64, action: Value) -> Value {
    json!({"id": return_id, "order": {"id": order_id},
           "return_line_items": [{"id": 1, "customer_note": json!({"actions": [action]}).to_string()}]})
}

/// Wait until the event's plugin run journalled `n` actions (failing with
/// the run's error if it did not) and each is done or dead.
pub(crate) async fn settled(s: &Arc<dyn Storage>, event_id: &str, n: usize) -> Vec<JournalEntry> {
    eventually("the event is dispatched", || is_done(s, event_id)).await;
    for row in s.dispatch_rows(event_id).await.unwrap() {
        assert_eq!(
            row.status,
            shopcase_store::DispatchStatus::Done,
            "{}: {:?}",
            row.plugin_id,
            row.last_failure
        );
    }
    eventually("every journal entry is settled", || async {
        let j = s.journal_for_event(event_id).await.unwrap();
        j.len() == n
            && j.iter()
                .all(|e| matches!(e.status, JournalStatus::Done | JournalStatus::Dead))
    })
    .await;
    let mut j = s.journal_for_event(event_id).await.unwrap();
    j.sort_by_key(|e| e.index);
    j
}

pub(crate) fn assert_done(entries: &[JournalEntry]) {
    for e in entries {
        assert_eq!(
            e.status,
            JournalStatus::Done,
            "{} ({}): {:?}",
            e.key,
            e.kind,
            e.last_error
        );
    }
}

/// Mutations of `operation` the emulator applied to the demo store.
pub(crate) fn applied(emu: &RunningEmulator, operation: &str) -> usize {
    emu.emulator.mutations(Some(SHOP), Some(operation)).len()
}

pub(crate) fn fault(kind: FaultKind, operation: &str, count: u32) -> Fault {
    Fault {
        kind,
        count,
        operation: Some(operation.to_owned()),
        shop: None,
        delay_ms: None,
        retry_after_ms: Some(20),
    }
}
