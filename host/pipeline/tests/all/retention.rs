//! Retention in a running host: finished work older than
//! `storage.retention` is deleted in the background and counted in
//! `shopcase_pruned_total`; newer and unfinished work stays, and
//! `retention = "off"` keeps everything.

use std::sync::Arc;

use shopcase_contract::Resources;
use shopcase_contract::time::{SignedDuration, Timestamp};
use shopcase_store::{EventSource, EventStatus, Inserted, NewEvent, Storage};

use crate::support::*;

/// A delivery put straight into the inbox, received `age` ago.
async fn planted(
    s: &Arc<dyn Storage>,
    webhook: &str,
    age: SignedDuration,
    status: EventStatus,
) -> String {
    let when = Timestamp::now() - age;
    let payload = order(1, "ok");
    let ev = NewEvent {
        shop: SHOP_A.into(),
        topic: "orders/create".into(),
        source: EventSource::Shopify,
        dedupe_key: webhook.into(),
        shopify_event_id: None,
        api_version: "2026-07".into(),
        triggered_at: when,
        received_at: when,
        resources: Resources::from_shopify("orders/create", &payload),
        payload: payload.to_string(),
        target_plugin: None,
        status,
        body_sha256: None,
    };
    let Inserted::New { event_id } = s.insert_event(ev).await.unwrap() else {
        panic!("a new event")
    };
    event_id
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

/// No dispatcher workers (pending events stay pending), the given
/// `[storage]` retention keys.
fn host(storage: &str) -> Host {
    Host::with_config(
        &config_text("workers = 0").replace("[storage]\n", &format!("[storage]\n{storage}\n")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_work_older_than_the_retention_is_deleted_in_the_background() {
    // max-age is 24h in the test configuration: 2d is the least accepted.
    let host = host("retention = \"2d\"\nprune-interval = \"50ms\"");
    let running = host.start().await;
    let s = running.storage().clone();
    let old = planted(&s, "w-old", days(3), EventStatus::Stale).await;
    let unfinished = planted(&s, "w-unfinished", days(3), EventStatus::Pending).await;
    let recent = planted(&s, "w-recent", days(1), EventStatus::Stale).await;

    eventually("the old event deleted", || async {
        s.event(&old).await.unwrap().is_none()
    })
    .await;
    assert!(s.event(&unfinished).await.unwrap().is_some());
    assert!(s.event(&recent).await.unwrap().is_some());
    // Counted once the prune pass that deleted it returns (just after its
    // commit): waited for, not assumed.
    eventually("the deletion counted", || async {
        running.metrics().pruned_count("events") == 1
    })
    .await;
    let text = reqwest::get(format!("http://{}/metrics", running.addr()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.lines()
            .any(|l| l == "shopcase_pruned_total{what=\"events\"} 1"),
        "{text}"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_off_keeps_everything() {
    // Two hosts side by side, the same prune interval: by the time the one
    // with a retention has deleted its old event, the one with retention
    // off has had as long to do the same, and has not.
    let off = host("retention = \"off\"\nprune-interval = \"20ms\"");
    let on = host("retention = \"2d\"\nprune-interval = \"20ms\"");
    let (off_running, on_running) = (off.start().await, on.start().await);
    let (s_off, s_on) = (off_running.storage().clone(), on_running.storage().clone());
    let kept = planted(&s_off, "w-old", days(400), EventStatus::Stale).await;
    let gone = planted(&s_on, "w-old", days(400), EventStatus::Stale).await;
    eventually(
        "the host with a retention deletes its old event",
        || async { s_on.event(&gone).await.unwrap().is_none() },
    )
    .await;
    assert!(s_off.event(&kept).await.unwrap().is_some());
    assert_eq!(off_running.metrics().pruned_count("events"), 0);
    on_running.shutdown().await.unwrap();
    off_running.shutdown().await.unwrap();
}
