//! Shopify write-back and customer history end to end: signed webhooks
//! through the real pipeline (ingress, dispatcher, sandbox, journal) into
//! the real Shopify client and the Shopify emulator on loopback.
//!
//! The `scripted` test plugin returns the actions written in each payload,
//! so every Shopify action kind is journalled exactly as a plugin would
//! leave it; the `hostile` component's `history` mode calls the
//! `customer-history` host function. The helpers are in
//! `shopify_support.rs`; the crash test (a child host aborted while
//! operations are in flight) is in the `crash` binary (`tests/crash/`).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use shopcase_contract::Action;
use shopcase_contract::action::{
    ApproveReturn, DeclineReason, DeclineReturn, Metafield, NoteAppend, ReleaseFulfillment,
    ShopifyOperation, TagsChange, Target,
};
use shopcase_shopify::ManualClock;
use shopcase_shopify_emulator::{BucketConfig, FaultKind, Seed};
use shopcase_store::JournalStatus;

// `config_text` by name: it shadows the general one of `support`.
use crate::shopify_support::{config_text, *};
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_shopify_action_kind_runs_end_to_end_from_the_journal() {
    let emu = emulator_with(BucketConfig::default()).await;
    let (_host, running) = scripted_host(&config_text(&emu, TOKEN, "")).await;
    let s = running.storage().clone();

    // Order 5001 of customer 7001: tags, notes, metafield, refund, credit.
    let first = send(
        &running,
        SHOP,
        "orders/create",
        "w-5001",
        order_payload(
            5001,
            7001,
            vec![
                op(tags_add(Target::Order(5001), &["reviewed"])),
                op(ShopifyOperation::TagsRemove(TagsChange {
                    target: Target::Customer(7001),
                    tags: vec!["VIP".into()],
                })),
                op(ShopifyOperation::NoteAppend(NoteAppend {
                    target: Target::Order(5001),
                    text: "Checked by the review team.".into(),
                })),
                op(ShopifyOperation::NoteAppend(NoteAppend {
                    target: Target::Customer(7001),
                    text: "Goodwill gesture offered.".into(),
                })),
                op(ShopifyOperation::SetMetafield(Metafield {
                    target: Target::Order(5001),
                    namespace: "shopcase".into(),
                    key: "review".into(),
                    ty: "single_line_text_field".into(),
                    value: "cleared".into(),
                })),
                op(refund(5001, "20.00")),
                op(store_credit(7001, "10.00", None)),
            ],
        ),
    )
    .await;
    // Order 5002: a fraud hold (released below); 5004: cancelled.
    let held = send(
        &running,
        SHOP,
        "orders/create",
        "w-5002",
        order_payload(5002, 7002, vec![op(hold(5002))]),
    )
    .await;
    let cancelled = send(
        &running,
        SHOP,
        "orders/updated",
        "w-5004",
        order_payload(5004, 7001, vec![op(cancel(5004))]),
    )
    .await;
    // Return 8001 approved, return 8002 declined.
    let approved = send(
        &running,
        SHOP,
        "returns/request",
        "w-8001",
        return_payload(
            8001,
            5003,
            op(ShopifyOperation::ApproveReturn(ApproveReturn {
                return_id: 8001,
                notify_customer: true,
            })),
        ),
    )
    .await;
    let declined = send(
        &running,
        SHOP,
        "returns/request",
        "w-8002",
        return_payload(
            8002,
            5001,
            op(ShopifyOperation::DeclineReturn(DeclineReturn {
                return_id: 8002,
                reason: DeclineReason::FinalSale,
                note: "Final sale item.".into(),
                notify_customer: true,
            })),
        ),
    )
    .await;

    let first = settled(&s, &first, 7).await;
    assert_done(&first);
    for (id, n) in [(&held, 1), (&cancelled, 1), (&approved, 1), (&declined, 1)] {
        assert_done(&settled(&s, id, n).await);
    }
    for e in &first {
        let r = e.result.as_ref().unwrap();
        assert_eq!(r["outcome"], "done", "{}: {r}", e.kind);
        assert_eq!(r["attempt"], 1);
    }

    // The hold is there; now the analyst releases it.
    let o = emu.emulator.order(SHOP, 5002).unwrap();
    let fo = &o.fulfillment_orders.as_ref().unwrap()[0];
    assert_eq!(fo.status, "ON_HOLD");
    assert_eq!(fo.holds.len(), 1);
    assert_eq!(fo.holds[0].handle.as_deref(), Some("fraud-review"));
    let released = send(
        &running,
        SHOP,
        "orders/updated",
        "w-5002-release",
        order_payload(
            5002,
            7002,
            vec![op(ShopifyOperation::ReleaseFulfillment(
                ReleaseFulfillment {
                    order_id: 5002,
                    handle: "fraud-review".into(),
                },
            ))],
        ),
    )
    .await;
    assert_done(&settled(&s, &released, 1).await);

    // What Shopify now holds.
    let o = emu.emulator.order(SHOP, 5001).unwrap();
    assert!(o.tags.contains(&"reviewed".to_owned()), "{:?}", o.tags);
    assert!(o.note.contains("Checked by the review team."), "{}", o.note);
    assert!(
        o.metafields
            .iter()
            .any(|m| m.namespace == "shopcase" && m.key == "review" && m.value == "cleared")
    );
    assert_eq!(o.refunds.len(), 1);
    assert_eq!(o.refunds[0].amount, "20.00");
    let c = emu.emulator.customer(SHOP, 7001).unwrap();
    assert!(!c.tags.contains(&"VIP".to_owned()), "{:?}", c.tags);
    assert!(c.note.contains("Goodwill gesture offered."), "{}", c.note);
    let credits = &c.store_credit_accounts[0].transactions;
    assert_eq!(credits.len(), 2, "the seeded credit and ours");
    assert!(credits.iter().any(|t| t.amount == "10.00"));
    let fo = &emu
        .emulator
        .order(SHOP, 5002)
        .unwrap()
        .fulfillment_orders
        .unwrap()[0];
    assert!(fo.holds.is_empty(), "{fo:?}");
    assert_eq!(fo.status, "OPEN");
    assert!(
        emu.emulator
            .order(SHOP, 5004)
            .unwrap()
            .cancelled_at
            .is_some()
    );
    assert_eq!(emu.emulator.return_(SHOP, 8001).unwrap().status, "OPEN");
    let r = emu.emulator.return_(SHOP, 8002).unwrap();
    assert_eq!(
        (r.status.as_str(), r.decline_reason.as_deref()),
        ("DECLINED", Some("FINAL_SALE"))
    );

    // Each operation took effect exactly once.
    for operation in [
        "tagsAdd",
        "tagsRemove",
        "orderUpdate",
        "customerUpdate",
        "refundCreate",
        "storeCreditAccountCredit",
        "fulfillmentOrderHold",
        "fulfillmentOrderReleaseHold",
        "orderCancel",
        "returnApproveRequest",
        "returnDeclineRequest",
    ] {
        assert_eq!(applied(&emu, operation), 1, "{operation}");
    }
    // Counted just after the commit; final once shutdown drained the workers.
    let counters = running.metrics().clone();
    running.shutdown().await.unwrap();
    let text = counters.render(None);
    assert!(
        text.contains("shopcase_actions_executed_total{family=\"shopify\",outcome=\"done\"} 12"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_paced_without_loss() {
    // A small, slowly refilled bucket: 40 mutations of cost 10 need about
    // ten refills, and the emulator adds THROTTLED answers of both kinds.
    let emu = emulator_with(BucketConfig {
        maximum_available: 40.0,
        restore_rate: 200.0,
    })
    .await;
    emu.emulator
        .inject(fault(FaultKind::Throttled, "tagsAdd", 3));
    emu.emulator
        .inject(fault(FaultKind::Status429, "tagsAdd", 2));
    // A long executor lease (and so execution bound): a slow test machine
    // must not turn waiting for the bucket into failed executions.
    let config = config_text(&emu, TOKEN, "").replace("lease = \"3s\"", "lease = \"30s\"");
    assert!(config.contains("lease = \"30s\""));
    let (_host, running) = scripted_host(&config).await;
    let s = running.storage().clone();
    let tags: Vec<String> = (0..40).map(|i| format!("batch-{i:02}")).collect();
    let actions = tags
        .iter()
        .map(|t| op(tags_add(Target::Order(5001), &[t])))
        .collect();
    let id = send(
        &running,
        SHOP,
        "orders/create",
        "w-burst",
        order_payload(5001, 7001, actions),
    )
    .await;
    let entries = settled(&s, &id, 40).await;
    assert_done(&entries);
    assert!(
        entries.iter().all(|e| e.attempts == 0),
        "throttling was absorbed by pacing and waiting, not by failing executions: {:?}",
        entries.iter().map(|e| e.attempts).collect::<Vec<_>>()
    );
    assert_eq!(applied(&emu, "tagsAdd"), 40, "each tag once, none lost");
    let order_tags = emu.emulator.order(SHOP, 5001).unwrap().tags;
    for t in &tags {
        assert!(order_tags.contains(t), "{t} missing from {order_tags:?}");
    }
    assert_eq!(
        emu.emulator.stats().faults,
        5,
        "every injected answer was met"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_dead_lettered_with_shopifys_message_and_not_retried() {
    let emu = emulator_with(BucketConfig::default()).await;
    let (_host, running) = scripted_host(&config_text(&emu, TOKEN, "")).await;
    let s = running.storage().clone();
    let id = send(
        &running,
        SHOP,
        "orders/create",
        "w-refused",
        order_payload(
            5001,
            7001,
            vec![
                // Shopify's userErrors: a credit that expires in the past.
                op(store_credit(7001, "5.00", Some("2020-01-01T00:00:00Z"))),
                // The host's own check: more than was paid.
                op(refund(5001, "500.00")),
            ],
        ),
    )
    .await;
    let entries = settled(&s, &id, 2).await;
    let dead: Vec<_> = entries
        .iter()
        .map(|e| {
            assert_eq!(e.status, JournalStatus::Dead, "{}", e.key);
            assert_eq!(
                e.attempts, 1,
                "one failed execution: a refusal is not retried"
            );
            e.last_error.clone().unwrap()
        })
        .collect();
    assert_eq!(dead[0].kind, "user-errors");
    assert!(
        dead[0]
            .message
            .contains("storeCreditAccountCredit on `demo.myshopify.com` was refused by Shopify: The expiry date must be in the future."),
        "{}",
        dead[0].message
    );
    assert_eq!(dead[1].kind, "rejected");
    assert!(
        dead[1].message.contains("refundCreate"),
        "{}",
        dead[1].message
    );
    let letters = s.dead_letters(Some(SHOP), true, 10).await.unwrap();
    assert_eq!(letters.len(), 2);
    assert!(
        letters.iter().any(|d| d
            .failure
            .message
            .contains("The expiry date must be in the future.")),
        "{letters:?}"
    );
    assert_eq!(applied(&emu, "storeCreditAccountCredit"), 0);
    assert_eq!(applied(&emu, "refundCreate"), 0);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_or_missing_token_is_a_clear_error_and_applies_nothing() {
    const WRONG: &str = "shpat_wrong_token_0123456789";
    let emu = emulator_with(BucketConfig::default()).await;
    let (_host, running) = scripted_host(&config_text(&emu, WRONG, "")).await;
    let s = running.storage().clone();
    let id = send(
        &running,
        SHOP,
        "orders/create",
        "w-wrong",
        order_payload(
            5002,
            7002,
            vec![op(hold(5002)), op(tags_add(Target::Order(5002), &["x"]))],
        ),
    )
    .await;
    // The first refusal opens the store's Shopify breaker: the other
    // entry is held back without a call (and, with this test's outage
    // window of 0 s, dead-lettered at once, naming the refusal).
    let entries = settled(&s, &id, 2).await;
    for e in &entries {
        assert_eq!(e.status, JournalStatus::Dead);
        let err = e.last_error.as_ref().unwrap();
        assert!(
            ["access-denied", "credentials-refused"].contains(&err.kind.as_str()),
            "{err:?}"
        );
        assert!(
            err.message
                .contains("Shopify rejected the access token for `demo.myshopify.com` (HTTP 401)")
                && err
                    .message
                    .contains("check the store's token and the app's access scopes"),
            "{}",
            err.message
        );
    }
    // A store without a token says so.
    let other = send(
        &running,
        TOKENLESS,
        "orders/create",
        "w-tokenless",
        order_payload(1, 2, vec![op(tags_add(Target::Order(1), &["x"]))]),
    )
    .await;
    let entry = &settled(&s, &other, 1).await[0];
    let err = entry.last_error.as_ref().unwrap();
    assert_eq!(
        (entry.status, err.kind.as_str()),
        (JournalStatus::Dead, "no-admin-token")
    );
    assert!(err.message.contains("admin-token-env"), "{}", err.message);

    // Nothing applied anywhere; the token appears nowhere.
    assert!(emu.emulator.mutations(None, None).is_empty());
    assert!(emu.emulator.stats().unauthorized >= 1);
    let stored = serde_json::to_string(&s.journal_for_event(&id).await.unwrap()).unwrap()
        + &serde_json::to_string(&s.dead_letters(None, false, 10).await.unwrap()).unwrap()
        + &running.metrics().render(None);
    assert!(!stored.contains(WRONG), "the token leaked: {stored}");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_executions_never_apply_twice() {
    let emu = emulator_with(BucketConfig::default()).await;
    // No retries inside an execution: each lost answer fails the execution,
    // and the executor's retry must find the effect instead of repeating it.
    let (_host, running) = scripted_host(&config_text(&emu, TOKEN, "max-attempts = 1")).await;
    for operation in ["fulfillmentOrderHold", "orderCancel", "refundCreate"] {
        emu.emulator
            .inject(fault(FaultKind::ResetAfterApply, operation, 1));
    }
    emu.emulator.inject(fault(FaultKind::Error500, "order", 1));
    let s = running.storage().clone();
    let ids = [
        send(
            &running,
            SHOP,
            "orders/create",
            "w-hold",
            order_payload(5002, 7002, vec![op(hold(5002))]),
        )
        .await,
        send(
            &running,
            SHOP,
            "orders/updated",
            "w-cancel",
            order_payload(5004, 7001, vec![op(cancel(5004))]),
        )
        .await,
        send(
            &running,
            SHOP,
            "orders/updated",
            "w-refund",
            order_payload(5001, 7001, vec![op(refund(5001, "30.00"))]),
        )
        .await,
    ];
    for id in &ids {
        let e = settled(&s, id, 1).await.remove(0);
        assert_eq!(
            e.status,
            JournalStatus::Done,
            "{}: {:?}",
            e.kind,
            e.last_error
        );
        assert!(
            e.attempts >= 1,
            "{}: the lost answer failed an execution",
            e.kind
        );
        let r = e.result.unwrap();
        assert_eq!(r["outcome"], "already-done", "{}: {r}", e.kind);
    }
    assert_eq!(applied(&emu, "fulfillmentOrderHold"), 1);
    assert_eq!(applied(&emu, "orderCancel"), 1);
    assert_eq!(applied(&emu, "refundCreate"), 1);
    let fo = &emu
        .emulator
        .order(SHOP, 5002)
        .unwrap()
        .fulfillment_orders
        .unwrap()[0];
    assert_eq!(fo.holds.len(), 1);
    assert_eq!(emu.emulator.order(SHOP, 5001).unwrap().refunds.len(), 1);
    assert_eq!(emu.emulator.stats().faults, 4);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_history_is_read_through_a_cache_that_expires() {
    let emu = emulator_with(BucketConfig::default()).await;
    let host = Host::with_config(&config_text(
        &emu,
        TOKEN,
        "history-ttl = \"1m\"\nmax-attempts = 3",
    ));
    // The hostile component's `history` mode tags the order with what
    // `customer-history` answered for the event's customer (and for
    // another customer, which the sandbox refuses).
    host.add_plugin(&PluginSpec::new("historian"));
    let clock = Arc::new(ManualClock::default());
    let running = start(&host, Some(clock.clone())).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP, "historian", &[]).await;
    let customer_queries = || {
        emu.emulator
            .stats()
            .by_operation
            .get("customer")
            .copied()
            .unwrap_or(0)
    };
    let mut n = 0;
    let mut tags_for = async |order: u64, customer: u64| -> Vec<String> {
        n += 1;
        let id = send(
            &running,
            SHOP,
            "orders/create",
            &format!("w-history-{n}"),
            // Each delivery's body differs, as Shopify's do (`updated_at`):
            // the same body again would be a duplicate.
            json!({"id": order, "customer": {"id": customer}, "tags": "do:history", "delivery": n}),
        )
        .await;
        let e = settled(&s, &id, 1).await.remove(0);
        assert_eq!(e.status, JournalStatus::Done, "{:?}", e.last_error);
        match e.action {
            Action::Shopify(ShopifyOperation::TagsAdd(t)) => t.tags,
            other => panic!("{other:?}"),
        }
    };

    // Read from Shopify once, then from the cache.
    assert_eq!(
        tags_for(5001, 7001).await,
        ["orders-14", "other-refused", "country-none"]
    );
    assert_eq!(customer_queries(), 1);
    let tags = emu.emulator.order(SHOP, 5001).unwrap().tags;
    assert!(
        tags.contains(&"orders-14".to_owned()),
        "written back: {tags:?}"
    );
    let mut seed = Seed::demo();
    seed.shops[0].customers[0].number_of_orders = Some(15);
    emu.emulator.seed(seed).unwrap();
    assert_eq!(tags_for(5001, 7001).await[0], "orders-14", "cached");
    assert_eq!(customer_queries(), 1);
    // Past the TTL the next call reads Shopify again.
    clock.advance(Duration::from_secs(61));
    assert_eq!(tags_for(5001, 7001).await[0], "orders-15");
    assert_eq!(customer_queries(), 2);
    // A `customers/redact` empties the cache of that customer at once: the
    // next call (well inside the TTL) reads Shopify again.
    let redact = send(
        &running,
        SHOP,
        "customers/redact",
        "w-history-redact",
        json!({"shop_domain": SHOP, "customer": {"id": 7001}, "orders_to_redact": [5001]}),
    )
    .await;
    eventually("the redaction is handled", || is_done(&s, &redact)).await;
    assert_eq!(tags_for(5001, 7001).await[0], "orders-15");
    assert_eq!(customer_queries(), 3, "read again after the redaction");

    // A customer Shopify does not know (deleted, redacted): an answer, an
    // empty history, not a failure of the plugin.
    let before = customer_queries();
    assert_eq!(
        tags_for(5001, 7999).await,
        ["orders-0", "other-refused", "country-none"]
    );
    assert_eq!(customer_queries(), before + 1, "asked Shopify");
    // Shopify failing: `unavailable`, and the failure is not cached.
    emu.emulator
        .inject(fault(FaultKind::Error500, "customer", 3));
    let tags = tags_for(5002, 7002).await;
    assert!(
        tags[0].starts_with("mine-") && tags[0].contains("Unavailable(\"Shopify"),
        "{tags:?}"
    );
    assert_eq!(tags_for(5002, 7002).await[0], "orders-1");
    running.shutdown().await.unwrap();
}

/// A plugin of API 0.2.0 (`order-probe`) beside the 0.1.0 ones: its
/// `order` and `order-risk` calls go through the pipeline's host services
/// and the store's Shopify breaker to the Admin API (the emulator), and
/// the addresses reach it minimised to its data grants.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_0_2_0_plugin_reads_its_order_and_risk_from_shopify() {
    let emu = emulator_with(BucketConfig::default()).await;
    let host = Host::with_config(&config_text(&emu, TOKEN, "max-attempts = 3"));
    let src_dir = tempfile::tempdir().unwrap();
    let src = src_dir.path().join("plugin.toml");
    std::fs::write(
        &src,
        r#"
[plugin]
id = "order-probe"
version = "1.0.0"
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
    shopcase_contract::manifest::package(
        &src,
        &wasm("order-probe"),
        &host.plugins_dir().join("order-probe"),
    )
    .unwrap();
    let running = start(&host, None).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP, "order-probe", &[]).await;

    let id = send(
        &running,
        SHOP,
        "orders/create",
        "w-probe-1",
        json!({"id": 5002, "customer": {"id": 7002}}),
    )
    .await;
    eventually("the event is dispatched", || is_done(&s, &id)).await;
    let journal = s.journal_for_event(&id).await.unwrap();
    let Some(Action::OpenCase(open)) = journal.first().map(|e| &e.action) else {
        panic!("{journal:?}")
    };
    let report: serde_json::Value = serde_json::from_slice(&open.documents[0].content).unwrap();
    let o = &report["order"]["ok"];
    assert_eq!(o["name"], "#1002", "{report}");
    assert_eq!(o["line-items"][0]["title"], "Espresso machine");
    assert_eq!(o["line-items"][0]["variant-id"], 5211);
    assert_eq!(o["customer-id"], 7002);
    // Region only: no street, no name.
    assert_eq!(
        o["shipping-address"],
        json!({"city": "Amsterdam", "province": "Noord-Holland", "province-code": "NH",
            "country": "Netherlands", "country-code": "NL", "zip": "1015 CJ"})
    );
    assert_eq!(o["billing-address"]["country-code"], "DE");
    let r = &report["risk"]["ok"];
    assert_eq!(r["recommendation"], "investigate", "{report}");
    assert_eq!(r["assessments"][0]["level"], "medium");
    assert_eq!(r["assessments"][0]["provider"], serde_json::Value::Null);
    running.shutdown().await.unwrap();
}
