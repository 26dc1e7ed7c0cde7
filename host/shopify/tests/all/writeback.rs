//! Every Shopify operation kind end to end through `apply`, against the
//! emulator's demo store, each applied at most once per key.

use serde_json::json;
use shopcase_contract::ShopifyOperation;
use shopcase_contract::action::{
    ApproveReturn, CancelOrder, CancelReason, DeclineReason, DeclineReturn, HoldFulfillment,
    HoldReason, Metafield, NoteAppend, Refund, ReleaseFulfillment, StoreCredit, TagsChange, Target,
};
use shopcase_shopify::{Applied, Error};
use shopcase_shopify_emulator::Seed;

use crate::support::{SHOP, env};

fn tags_add(target: Target, tags: &[&str]) -> ShopifyOperation {
    ShopifyOperation::TagsAdd(TagsChange {
        target,
        tags: tags.iter().map(|t| t.to_string()).collect(),
    })
}

fn tags_remove(target: Target, tags: &[&str]) -> ShopifyOperation {
    ShopifyOperation::TagsRemove(TagsChange {
        target,
        tags: tags.iter().map(|t| t.to_string()).collect(),
    })
}

pub(crate) fn hold(order_id: u64, handle: &str) -> ShopifyOperation {
    ShopifyOperation::HoldFulfillment(HoldFulfillment {
        order_id,
        reason: HoldReason::HighRiskOfFraud,
        notes: "Fraud review".into(),
        handle: handle.into(),
    })
}

fn release(order_id: u64, handle: &str) -> ShopifyOperation {
    ShopifyOperation::ReleaseFulfillment(ReleaseFulfillment {
        order_id,
        handle: handle.into(),
    })
}

pub(crate) fn cancel(order_id: u64) -> ShopifyOperation {
    ShopifyOperation::CancelOrder(CancelOrder {
        order_id,
        reason: CancelReason::Fraud,
        restock: true,
        notify_customer: false,
        staff_note: "Confirmed fraud".into(),
    })
}

pub(crate) fn refund(order_id: u64, amount: &str) -> ShopifyOperation {
    ShopifyOperation::Refund(Refund {
        order_id,
        amount: amount.into(),
        currency: "EUR".into(),
        note: "Goodwill".into(),
        notify_customer: true,
    })
}

pub(crate) fn store_credit(customer_id: u64, amount: &str) -> ShopifyOperation {
    ShopifyOperation::StoreCredit(StoreCredit {
        customer_id,
        amount: amount.into(),
        currency: "EUR".into(),
        expires_at: None,
        notify_customer: false,
    })
}

pub(crate) fn note(target: Target, text: &str) -> ShopifyOperation {
    ShopifyOperation::NoteAppend(NoteAppend {
        target,
        text: text.into(),
    })
}

#[tokio::test]
async fn tags_are_added_and_removed_on_orders_and_customers() {
    let env = env().await;
    let c = &env.client;
    assert!(
        c.apply(
            SHOP,
            &tags_add(Target::Order(5001), &["fraud-review", "vip-check"]),
            "t1"
        )
        .await
        .unwrap()
        .is_done()
    );
    assert!(
        c.apply(
            SHOP,
            &tags_add(Target::Customer(7002), &["watchlist"]),
            "t2"
        )
        .await
        .unwrap()
        .is_done()
    );
    let order = env.running.emulator.order(SHOP, 5001).unwrap();
    assert_eq!(order.tags, vec!["fraud-review", "vip-check"]);
    assert_eq!(
        env.running.emulator.customer(SHOP, 7002).unwrap().tags,
        vec!["watchlist"]
    );

    // The same key again: set semantics, no duplicate tag.
    c.apply(
        SHOP,
        &tags_add(Target::Order(5001), &["fraud-review", "vip-check"]),
        "t1",
    )
    .await
    .unwrap();
    assert_eq!(
        env.running.emulator.order(SHOP, 5001).unwrap().tags.len(),
        2
    );

    c.apply(
        SHOP,
        &tags_remove(Target::Order(5001), &["fraud-review"]),
        "t3",
    )
    .await
    .unwrap();
    c.apply(SHOP, &tags_remove(Target::Customer(7001), &["VIP"]), "t4")
        .await
        .unwrap();
    assert_eq!(
        env.running.emulator.order(SHOP, 5001).unwrap().tags,
        vec!["vip-check"]
    );
    assert!(
        env.running
            .emulator
            .customer(SHOP, 7001)
            .unwrap()
            .tags
            .is_empty()
    );
    assert_eq!(env.applied("tagsAdd").await.len(), 3);
    assert_eq!(
        env.applied("tagsRemove").await[0]["target"],
        "gid://shopify/Order/5001"
    );
}

#[tokio::test]
async fn note_append_keeps_staff_text_and_appends_once_per_key() {
    let env = env().await;
    let c = &env.client;
    let staff = "Customer called about the delivery address.";
    assert_eq!(env.running.emulator.order(SHOP, 5004).unwrap().note, staff);

    let op = note(Target::Order(5004), "Fraud check passed (case CASE-000042)");
    let first = c.apply(SHOP, &op, "evt-1:fraud:0").await.unwrap();
    let second = c.apply(SHOP, &op, "evt-1:fraud:0").await.unwrap();
    assert!(first.is_done(), "{first:?}");
    assert!(matches!(second, Applied::AlreadyDone { .. }), "{second:?}");

    let note_now = env.running.emulator.order(SHOP, 5004).unwrap().note;
    assert!(note_now.starts_with(staff), "{note_now}");
    assert_eq!(
        note_now.matches("Fraud check passed").count(),
        1,
        "{note_now}"
    );
    assert_eq!(note_now.lines().count(), 2, "{note_now}");

    // Another key is another line; staff text still first.
    c.apply(
        SHOP,
        &note(Target::Order(5004), "Case closed"),
        "evt-2:fraud:0",
    )
    .await
    .unwrap();
    let note_now = env.running.emulator.order(SHOP, 5004).unwrap().note;
    assert_eq!(note_now.lines().collect::<Vec<_>>()[0], staff);
    assert_eq!(note_now.lines().count(), 3);
    assert_eq!(env.applied("orderUpdate").await.len(), 2);

    // Customers too, including one whose note starts empty.
    let op = note(Target::Customer(7002), "First order flagged");
    c.apply(SHOP, &op, "evt-3:x:0").await.unwrap();
    c.apply(SHOP, &op, "evt-3:x:0").await.unwrap();
    let cn = env.running.emulator.customer(SHOP, 7002).unwrap().note;
    assert!(cn.starts_with("First order flagged [shopcase:"), "{cn}");
    assert_eq!(env.applied("customerUpdate").await.len(), 1);
}

#[tokio::test]
async fn metafields_are_set() {
    let env = env().await;
    let op = ShopifyOperation::SetMetafield(Metafield {
        target: Target::Order(5002),
        namespace: "shopcase".into(),
        key: "risk-score".into(),
        ty: "number_integer".into(),
        value: "87".into(),
    });
    env.client.apply(SHOP, &op, "m1").await.unwrap();
    env.client.apply(SHOP, &op, "m1").await.unwrap();
    let order = env.running.emulator.order(SHOP, 5002).unwrap();
    assert_eq!(order.metafields.len(), 1, "set twice, one metafield");
    assert_eq!(order.metafields[0].value, "87");
}

/// An operation that may have taken effect already (its executor died
/// after sending it, or an attempt's answer was lost) is re-applied with
/// `reapply`: tags and metafields already so are not sent again, so a
/// write-back reaches Shopify once, not merely takes effect once; what is
/// not yet so is written.
#[tokio::test]
async fn reapplied_tags_and_metafields_already_in_effect_are_not_sent_again() {
    let env = env().await;
    let c = &env.client;
    let add = tags_add(Target::Order(5001), &["fraud-review"]);
    assert!(c.apply(SHOP, &add, "r1").await.unwrap().is_done());
    // Taken over after the first executor died: nothing sent.
    let again = c.reapply(SHOP, &add, "r1").await.unwrap();
    assert!(matches!(again, Applied::AlreadyDone { .. }), "{again:?}");
    // Shopify compares tags without regard to case.
    let upper = tags_add(Target::Order(5001), &["Fraud-Review"]);
    assert!(matches!(
        c.reapply(SHOP, &upper, "r1").await.unwrap(),
        Applied::AlreadyDone { .. }
    ));
    assert_eq!(env.applied("tagsAdd").await.len(), 1);
    // Re-applied but not in effect yet (the first executor died before
    // sending): written.
    let more = tags_add(Target::Order(5001), &["fraud-review", "second-look"]);
    assert!(c.reapply(SHOP, &more, "r2").await.unwrap().is_done());
    assert_eq!(env.applied("tagsAdd").await.len(), 2);
    let remove = tags_remove(Target::Customer(7001), &["VIP"]);
    assert!(c.reapply(SHOP, &remove, "r3").await.unwrap().is_done());
    assert!(matches!(
        c.reapply(SHOP, &remove, "r3").await.unwrap(),
        Applied::AlreadyDone { .. }
    ));
    assert_eq!(env.applied("tagsRemove").await.len(), 1);

    let set = |value: &str| {
        ShopifyOperation::SetMetafield(Metafield {
            target: Target::Customer(7002),
            namespace: "shopcase".into(),
            key: "risk-score".into(),
            ty: "number_integer".into(),
            value: value.into(),
        })
    };
    assert!(c.reapply(SHOP, &set("40"), "r4").await.unwrap().is_done());
    assert!(matches!(
        c.reapply(SHOP, &set("40"), "r4").await.unwrap(),
        Applied::AlreadyDone { .. }
    ));
    // Another value is written.
    assert!(c.reapply(SHOP, &set("41"), "r5").await.unwrap().is_done());
    assert_eq!(env.applied("metafieldsSet").await.len(), 2);
    let customer = env.running.emulator.customer(SHOP, 7002).unwrap();
    assert_eq!(customer.metafields[0].value, "41");
    // A target that does not exist is named.
    let err = c
        .reapply(SHOP, &tags_add(Target::Order(999_999), &["x"]), "r6")
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err}");
}

#[tokio::test]
async fn hold_and_release_by_handle_leave_the_staff_hold_alone() {
    let env = env().await;
    let c = &env.client;
    // Order 5004's fulfilment order already carries a staff hold.
    let staff_hold = env
        .running
        .emulator
        .order(SHOP, 5004)
        .unwrap()
        .fulfillment_orders
        .unwrap()[0]
        .holds[0]
        .clone();
    assert!(!staff_hold.by_app);

    assert!(
        c.apply(SHOP, &hold(5004, "fraud-check"), "h1")
            .await
            .unwrap()
            .is_done()
    );
    let again = c
        .apply(SHOP, &hold(5004, "fraud-check"), "h1")
        .await
        .unwrap();
    assert!(matches!(again, Applied::AlreadyDone { .. }), "{again:?}");
    let fo = env
        .running
        .emulator
        .order(SHOP, 5004)
        .unwrap()
        .fulfillment_orders
        .unwrap()[0]
        .clone();
    assert_eq!(fo.holds.len(), 2);
    let ours = fo.holds.iter().find(|h| h.by_app).unwrap();
    assert_eq!(ours.handle.as_deref(), Some("fraud-check"));
    assert_eq!(ours.external_id.as_deref(), Some("shopcase:fraud-check"));
    assert_eq!(ours.reason, "HIGH_RISK_OF_FRAUD");

    assert!(
        c.apply(SHOP, &release(5004, "fraud-check"), "r1")
            .await
            .unwrap()
            .is_done()
    );
    let again = c
        .apply(SHOP, &release(5004, "fraud-check"), "r1")
        .await
        .unwrap();
    assert!(matches!(again, Applied::AlreadyDone { .. }), "{again:?}");
    let fo = env
        .running
        .emulator
        .order(SHOP, 5004)
        .unwrap()
        .fulfillment_orders
        .unwrap()[0]
        .clone();
    assert_eq!(fo.holds, vec![staff_hold], "only our hold was released");
    assert_eq!(fo.status, "ON_HOLD");

    let holds = env.applied("fulfillmentOrderHold").await;
    let releases = env.applied("fulfillmentOrderReleaseHold").await;
    assert_eq!(holds.len(), 1);
    assert_eq!(releases.len(), 1);
    assert_eq!(
        releases[0]["variables"]["holdIds"],
        json!([format!("gid://shopify/FulfillmentHold/{}", ours.id)])
    );

    // A fulfilled order has nothing to hold: a permanent, clear error.
    let err = c
        .apply(SHOP, &hold(5003, "fraud-check"), "h2")
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert!(
        err.to_string()
            .contains("no fulfillment order that can be held (statuses: CLOSED)"),
        "{err}"
    );
}

#[tokio::test]
async fn a_hold_on_an_open_order_opens_again_when_released() {
    let env = env().await;
    env.client
        .apply(SHOP, &hold(5001, "sla"), "h")
        .await
        .unwrap();
    assert_eq!(
        env.running
            .emulator
            .order(SHOP, 5001)
            .unwrap()
            .fulfillment_orders
            .unwrap()[0]
            .status,
        "ON_HOLD"
    );
    env.client
        .apply(SHOP, &release(5001, "sla"), "r")
        .await
        .unwrap();
    assert_eq!(
        env.running
            .emulator
            .order(SHOP, 5001)
            .unwrap()
            .fulfillment_orders
            .unwrap()[0]
            .status,
        "OPEN"
    );
}

#[tokio::test]
async fn cancel_happens_once() {
    let env = env().await;
    let first = env.client.apply(SHOP, &cancel(5002), "c1").await.unwrap();
    let second = env.client.apply(SHOP, &cancel(5002), "c1").await.unwrap();
    assert!(first.is_done());
    assert!(matches!(second, Applied::AlreadyDone { .. }), "{second:?}");
    let order = env.order(5002).await;
    assert!(order["cancelled_at"].is_string(), "{order}");
    assert_eq!(order["cancel_reason"], "FRAUD");
    assert_eq!(order["staff_note"], "Confirmed fraud");
    assert_eq!(env.applied("orderCancel").await.len(), 1);
}

#[tokio::test]
async fn returns_are_approved_or_declined_once_and_conflicts_are_permanent() {
    let env = env().await;
    let c = &env.client;
    let approve = ShopifyOperation::ApproveReturn(ApproveReturn {
        return_id: 8001,
        notify_customer: true,
    });
    assert!(c.apply(SHOP, &approve, "a1").await.unwrap().is_done());
    assert!(matches!(
        c.apply(SHOP, &approve, "a1").await.unwrap(),
        Applied::AlreadyDone { .. }
    ));
    assert_eq!(
        env.running.emulator.return_(SHOP, 8001).unwrap().status,
        "OPEN"
    );

    // Declining an approved return is a conflict: permanent, nothing sent.
    let decline = |id| {
        ShopifyOperation::DeclineReturn(DeclineReturn {
            return_id: id,
            reason: DeclineReason::FinalSale,
            note: "Final sale item".into(),
            notify_customer: true,
        })
    };
    let err = c.apply(SHOP, &decline(8001), "d1").await.unwrap_err();
    assert!(
        err.is_permanent() && err.to_string().contains("return 8001 is OPEN"),
        "{err}"
    );

    // A second requested return on another order, declined once.
    let seed: Seed = serde_json::from_value(json!({"shops": [{
        "domain": SHOP, "tokens": ["shpat_emulator_demo"],
        "orders": [{"id": 1, "total_price": "10.00"}],
        "returns": [{"id": 8002, "order_id": 1}]
    }]}))
    .unwrap();
    env.running.emulator.seed(seed).unwrap();
    assert!(c.apply(SHOP, &decline(8002), "d2").await.unwrap().is_done());
    assert!(matches!(
        c.apply(SHOP, &decline(8002), "d2").await.unwrap(),
        Applied::AlreadyDone { .. }
    ));
    let r = env.running.emulator.return_(SHOP, 8002).unwrap();
    assert_eq!(
        (r.status.as_str(), r.decline_reason.as_deref()),
        ("DECLINED", Some("FINAL_SALE"))
    );
    let approve_declined = ShopifyOperation::ApproveReturn(ApproveReturn {
        return_id: 8002,
        notify_customer: false,
    });
    let err = c.apply(SHOP, &approve_declined, "a2").await.unwrap_err();
    assert!(matches!(err, Error::Rejected { .. }), "{err}");
    assert_eq!(env.applied("returnApproveRequest").await.len(), 1);
    assert_eq!(env.applied("returnDeclineRequest").await.len(), 1);
}

#[tokio::test]
async fn refund_happens_once_and_never_above_what_is_refundable() {
    let env = env().await;
    let c = &env.client;
    let first = c.apply(SHOP, &refund(5001, "50.00"), "f1").await.unwrap();
    let second = c.apply(SHOP, &refund(5001, "50.00"), "f1").await.unwrap();
    assert!(first.is_done(), "{first:?}");
    assert!(matches!(second, Applied::AlreadyDone { .. }), "{second:?}");
    let order = env.running.emulator.order(SHOP, 5001).unwrap();
    assert_eq!(order.refunds.len(), 1);
    assert!(
        order.refunds[0].note.starts_with("Goodwill [shopcase:"),
        "{}",
        order.refunds[0].note
    );
    assert_eq!(order.financial_status, "PARTIALLY_REFUNDED");

    // 79.90 is left: 100.00 is refused before anything is sent.
    let err = c
        .apply(SHOP, &refund(5001, "100.00"), "f2")
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert!(
        err.to_string()
            .contains("refund of 100.00 EUR exceeds the 79.90 EUR still refundable on order 5001"),
        "{err}"
    );
    c.apply(SHOP, &refund(5001, "79.90"), "f3").await.unwrap();
    assert_eq!(
        env.running
            .emulator
            .order(SHOP, 5001)
            .unwrap()
            .financial_status,
        "REFUNDED"
    );
    assert_eq!(env.applied("refundCreate").await.len(), 2);

    // A refund in another currency than the order was paid in.
    let mut usd = refund(5002, "5.00");
    if let ShopifyOperation::Refund(r) = &mut usd {
        r.currency = "USD".into();
    }
    let err = c.apply(SHOP, &usd, "f4").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("paid in EUR, the refund is in USD"),
        "{err}"
    );
}

#[tokio::test]
async fn store_credit_is_issued_once() {
    let env = env().await;
    let c = &env.client;
    let before = env
        .running
        .emulator
        .customer(SHOP, 7001)
        .unwrap()
        .store_credit_accounts[0]
        .transactions
        .len();
    assert!(
        c.apply(SHOP, &store_credit(7001, "25.00"), "s1")
            .await
            .unwrap()
            .is_done()
    );
    assert!(matches!(
        c.apply(SHOP, &store_credit(7001, "25.00"), "s1")
            .await
            .unwrap(),
        Applied::AlreadyDone { .. }
    ));
    let customer = env.running.emulator.customer(SHOP, 7001).unwrap();
    let txs = &customer.store_credit_accounts[0].transactions;
    assert_eq!(txs.len(), before + 1);
    assert_eq!(txs.last().unwrap().amount, "25.00");
    // The write-ahead record is marked done.
    let record = customer
        .metafields
        .iter()
        .find(|m| m.namespace == "$app:shopcase")
        .unwrap();
    assert!(
        record.value.contains("\"state\":\"done\""),
        "{}",
        record.value
    );

    // Another key is another credit; a customer without an account gets one.
    c.apply(SHOP, &store_credit(7001, "25.00"), "s2")
        .await
        .unwrap();
    c.apply(SHOP, &store_credit(7002, "10.00"), "s3")
        .await
        .unwrap();
    assert_eq!(
        env.running
            .emulator
            .customer(SHOP, 7001)
            .unwrap()
            .store_credit_accounts[0]
            .transactions
            .len(),
        before + 2
    );
    assert_eq!(
        env.running
            .emulator
            .customer(SHOP, 7002)
            .unwrap()
            .store_credit_accounts[0]
            .transactions
            .len(),
        1
    );
    assert_eq!(env.applied("storeCreditAccountCredit").await.len(), 3);
}

#[tokio::test]
async fn shopify_user_errors_are_permanent_and_carry_shopifys_message() {
    let env = env().await;
    // Shopify refuses a credit that expires in the past.
    let mut op = store_credit(7001, "5.00");
    if let ShopifyOperation::StoreCredit(s) = &mut op {
        s.expires_at = Some("2020-01-01T00:00:00Z".into());
    }
    let err = env.client.apply(SHOP, &op, "u1").await.unwrap_err();
    assert!(err.is_permanent());
    assert_eq!(err.code(), "user-errors");
    assert!(
        err.to_string()
            .contains("The expiry date must be in the future."),
        "{err}"
    );

    // A note Shopify finds too long.
    let long = "x".repeat(4990);
    let err = env
        .client
        .apply(SHOP, &note(Target::Order(5001), &long), "u2")
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::UserErrors {
                operation: "orderUpdate",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("Note is too long (maximum is 5000 characters)"),
        "{err}"
    );

    // Unknown objects are permanent too.
    let err = env
        .client
        .apply(SHOP, &cancel(999), "u3")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(env.applied("orderCancel").await.is_empty());
}
