//! Shopify write-back across a crash: a host with the Shopify executor
//! (this binary re-executed as [`Kind::Shopify`]) aborts at a test-only
//! fault point while operations are in flight, and Shopify loses the
//! answers; the restarted host applies each operation once. The helpers are
//! the Shopify tests' (`all/shopify_support.rs`).

use std::time::Duration;

use shopcase_shopify_emulator::{BucketConfig, FaultKind};
use shopcase_store::JournalStatus;

use crate::child::{self, Kind};
// `config_text` by name: it shadows the general one of `support`.
use crate::shopify_support::{config_text, *};
use crate::support::*;

pub(crate) async fn a_host_killed_mid_action_applies_each_operation_once() {
    let emu = emulator_with(BucketConfig::default()).await;
    let host = Host::with_config(&config_text(&emu, TOKEN, ""));
    add_scripted(&host);

    // 1. Journal a hold, a cancel and a refund, with no Shopify executor
    //    running: they wait in the journal.
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP, "scripted", &[]).await;
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
            order_payload(5001, 7001, vec![op(refund(5001, "40.00"))]),
        )
        .await,
    ];
    for id in &ids {
        eventually("journalled", || is_done(&s, id)).await;
        let j = s.journal_for_event(id).await.unwrap();
        assert_eq!((j.len(), j[0].status), (1, JournalStatus::Pending), "{j:?}");
    }
    running.shutdown().await.unwrap();
    drop(s);

    // 2. A host with the executor, killed (abort: no destructors, no
    //    settling) as soon as its first execution returns; the others are
    //    cut off mid-request. Shopify also loses the answers.
    for operation in ["fulfillmentOrderHold", "orderCancel", "refundCreate"] {
        emu.emulator
            .inject(fault(FaultKind::ResetAfterApply, operation, 1));
    }
    let (mut child, _url) = child::spawn(Kind::Shopify, &host, Some("abort-after-execute"));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "the child never reached the fault point; its log:\n{}",
                child::log(&host)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(!exit.success(), "aborted at the fault point: {exit:?}");
    assert!(
        !emu.emulator.mutations(Some(SHOP), None).is_empty(),
        "the first execution reached Shopify"
    );

    // 3. A restart takes the unsettled entries over after their lease and
    //    finishes them without a second effect.
    let running = start(&host, None).await;
    let s = running.storage().clone();
    for id in &ids {
        let e = settled(&s, id, 1).await.remove(0);
        assert_eq!(
            e.status,
            JournalStatus::Done,
            "{}: {:?}",
            e.kind,
            e.last_error
        );
    }
    assert_eq!(applied(&emu, "fulfillmentOrderHold"), 1, "one hold");
    assert_eq!(applied(&emu, "orderCancel"), 1, "one cancel");
    assert_eq!(applied(&emu, "refundCreate"), 1, "one refund");
    let o = emu.emulator.order(SHOP, 5001).unwrap();
    assert_eq!(o.refunds.len(), 1);
    assert_eq!(o.refunds[0].amount, "40.00");
    assert!(
        emu.emulator
            .order(SHOP, 5004)
            .unwrap()
            .cancelled_at
            .is_some()
    );
    running.shutdown().await.unwrap();
}
