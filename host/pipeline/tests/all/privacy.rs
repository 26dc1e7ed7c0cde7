//! Privacy webhooks end to end: signed, committed, handled by the host
//! (never by plugins), and leaving nothing behind.

use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use shopcase_contract::time::Timestamp;
use shopcase_store::Storage;

use crate::support::*;

const EMAIL: &str = "ann.lindqvist@example.com";

fn ann_order(id: u64) -> serde_json::Value {
    json!({"id": id, "tags": "do:kv-counter", "email": EMAIL, "phone": "+1 555-010-0199",
           "note": "Ann Lindqvist called about delivery",
           "customer": {"id": 7001, "email": EMAIL, "first_name": "Ann", "last_name": "Lindqvist"},
           "shipping_address": {"name": "Ann Lindqvist", "address1": "12 Birch Lane", "city": "Springfield"},
           "total_price": "950.00"})
}

fn files_contain(data_dir: &Path, needle: &str) -> bool {
    let mut hay = std::fs::read(data_dir.join("shopcase.db")).unwrap();
    if let Ok(w) = std::fs::read(data_dir.join("shopcase.db-wal")) {
        hay.extend(w);
    }
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_requests_export_then_redact_through_the_webhook() {
    let host = Host::new(2);
    host.add_plugin(&PluginSpec {
        data: &["customer-contact"],
        topics: &["orders/create", "customers/update"],
        ..PluginSpec::new("tagger")
    });
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[]).await;
    let client = reqwest::Client::new();
    let url = running.webhook_url();

    // Ann's orders are received and dispatched (the plugin writes kv data).
    let mut ids = Vec::new();
    for (i, id) in [5001u64, 5002].iter().enumerate() {
        let (_, b) = post(
            &client,
            &url,
            &Delivery::order(SHOP_A, SECRET_A, &format!("w-{i}"), ann_order(*id)),
        )
        .await;
        ids.push(b["event_id"].as_str().unwrap().to_owned());
    }
    let (_, bob) = post(
        &client,
        &url,
        &Delivery::order(
            SHOP_A,
            SECRET_A,
            "w-bob",
            json!({"id": 6001, "email": "bob@example.com", "customer": {"id": 8002}}),
        ),
    )
    .await;
    let bob = bob["event_id"].as_str().unwrap().to_owned();
    eventually("orders dispatched", || async {
        is_done(&s, &ids[0]).await && is_done(&s, &ids[1]).await && is_done(&s, &bob).await
    })
    .await;

    // Data request: an export file for the store owner.
    let request = Delivery::new(
        SHOP_A,
        SECRET_A,
        "customers/data_request",
        "w-dr",
        json!({"shop_id": 1, "shop_domain": SHOP_A, "orders_requested": [5001, 5002],
               "customer": {"id": 7001, "email": EMAIL, "phone": "+1 555-010-0199"}, "data_request": {"id": 9999}}),
    );
    let (status, dr) = post(&client, &url, &request).await;
    assert_eq!(status, 200);
    let dr = dr["event_id"].as_str().unwrap().to_owned();
    eventually("data request handled", || is_done(&s, &dr)).await;
    assert!(
        s.dispatch_rows(&dr).await.unwrap().is_empty(),
        "never given to plugins"
    );
    let export = host
        .data_dir()
        .join("exports")
        .join(SHOP_A)
        .join("customer-7001-request-9999.json");
    let text = std::fs::read_to_string(&export).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["customer_id"], 7001);
    assert_eq!(
        v["data"]["events"].as_array().unwrap().len(),
        3,
        "two orders and the request itself"
    );
    assert!(text.contains("12 Birch Lane"));
    assert!(!text.contains("bob@example.com"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&export).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let records = s
        .privacy_records(Some(vec![SHOP_A.into()]), 10)
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].file.as_deref(),
        Some(export.display().to_string().as_str())
    );

    // Redaction: nothing of Ann remains, anywhere.
    let redact = Delivery::new(
        SHOP_A,
        SECRET_A,
        "customers/redact",
        "w-redact",
        json!({"shop_id": 1, "shop_domain": SHOP_A, "customer": {"id": 7001, "email": EMAIL, "phone": "+1 555-010-0199"},
               "orders_to_redact": [5001, 5002]}),
    );
    let (_, r) = post(&client, &url, &redact).await;
    let r = r["event_id"].as_str().unwrap().to_owned();
    eventually("redaction handled", || is_done(&s, &r)).await;
    for secret in [EMAIL, "Lindqvist", "12 Birch Lane", "555-010-0199"] {
        assert!(
            !files_contain(&host.data_dir(), secret),
            "`{secret}` is still in the database"
        );
    }
    assert!(!export.exists(), "the earlier export is deleted too");
    assert!(
        files_contain(&host.data_dir(), "bob@example.com"),
        "other customers are untouched"
    );
    // Counted just after the commit; final once shutdown drained the workers.
    let counters = running.metrics().clone();
    running.shutdown().await.unwrap();
    let metrics = counters.render(None);
    assert!(
        metrics.contains(
            "shopcase_privacy_requests_total{topic=\"customers/redact\",outcome=\"done\"} 1"
        ),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_redact_deletes_the_store_and_a_malformed_request_is_dead_lettered() {
    let host = Host::new(2);
    host.add_plugin(&PluginSpec::new("tagger"));
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[]).await;
    host.enable(&s, SHOP_B, "tagger", &[]).await;
    let client = reqwest::Client::new();
    let url = running.webhook_url();
    let (_, a) = post(
        &client,
        &url,
        &Delivery::order(SHOP_A, SECRET_A, "w-a", ann_order(5001)),
    )
    .await;
    let (_, b) = post(
        &client,
        &url,
        &Delivery::order(
            SHOP_B,
            SECRET_B,
            "w-b",
            json!({"id": 1, "note": "store-b-note"}),
        ),
    )
    .await;
    let (a, b) = (
        a["event_id"].as_str().unwrap().to_owned(),
        b["event_id"].as_str().unwrap().to_owned(),
    );
    eventually("dispatched", || async {
        is_done(&s, &a).await && is_done(&s, &b).await
    })
    .await;

    // A redaction request without a customer cannot be acted on: it is
    // dead-lettered with its reason, not retried forever.
    let bad = Delivery::new(
        SHOP_A,
        SECRET_A,
        "customers/redact",
        "w-bad",
        json!({"shop_id": 1}),
    );
    let (_, bad) = post(&client, &url, &bad).await;
    let bad = bad["event_id"].as_str().unwrap().to_owned();
    eventually("bad request settled", || is_done(&s, &bad)).await;
    let letters = s.dead_letters(Some(SHOP_A), true, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].failure.kind, "bad-privacy-request");

    // Shopify signs the body, not the headers. A signed body replayed under
    // a privacy topic it is not, or a request naming another store, deletes
    // nothing.
    let order_body = ann_order(5001);
    let redact_b = json!({"shop_id": 2, "shop_domain": SHOP_B});
    let customer_redact = json!({"shop_id": 1, "shop_domain": SHOP_A,
        "customer": {"id": 7001, "email": EMAIL}, "orders_to_redact": [5001]});
    let data_request = json!({"shop_id": 1, "shop_domain": SHOP_A, "orders_requested": [5001],
        "customer": {"id": 7001, "email": EMAIL}, "data_request": {"id": 77}});
    let refused = [
        ("w-replayed", "shop/redact", order_body.clone()),
        ("w-replayed-2", "customers/redact", order_body),
        ("w-other-shop", "shop/redact", redact_b),
        ("w-customer-as-shop", "shop/redact", customer_redact),
        ("w-request-as-redact", "customers/redact", data_request),
    ];
    let n_refused = refused.len();
    for (webhook, topic, body) in refused {
        let (status, r) = post(
            &client,
            &url,
            &Delivery::new(SHOP_A, SECRET_A, topic, webhook, body),
        )
        .await;
        assert_eq!(status, 200);
        let id = r["event_id"].as_str().unwrap().to_owned();
        eventually("refused request settled", || is_done(&s, &id)).await;
    }
    let letters = s.dead_letters(Some(SHOP_A), true, 10).await.unwrap();
    assert_eq!(letters.len(), 1 + n_refused);
    assert!(
        letters
            .iter()
            .all(|l| l.failure.kind == "bad-privacy-request"),
        "{letters:?}"
    );
    assert!(
        letters
            .iter()
            .any(|l| l.failure.message.contains(&format!("is for `{SHOP_B}`"))),
        "{letters:?}"
    );
    assert!(s.event(&a).await.unwrap().is_some(), "nothing deleted");
    assert!(files_contain(&host.data_dir(), EMAIL));
    assert_eq!(s.installations(Some(SHOP_A)).await.unwrap().len(), 1);

    // The store uninstalls the app; Shopify asks for the redaction later.
    uninstall(&client, &url, &s, "w-uninstalled").await;
    let (status, _) = post(
        &client,
        &url,
        &Delivery::new(
            SHOP_A,
            SECRET_A,
            "shop/redact",
            "w-sr",
            json!({"shop_id": 1, "shop_domain": SHOP_A}),
        ),
    )
    .await;
    assert_eq!(status, 200);
    eventually("shop A deleted", || async {
        s.event(&a).await.unwrap().is_none()
    })
    .await;
    eventually("recorded", || async {
        s.privacy_records(Some(vec![SHOP_A.into()]), 10)
            .await
            .unwrap()
            .len()
            == 1
    })
    .await;
    assert!(s.installations(Some(SHOP_A)).await.unwrap().is_empty());
    assert!(!files_contain(&host.data_dir(), EMAIL));
    assert!(
        s.event(&b).await.unwrap().is_some(),
        "store B keeps its data"
    );
    assert_eq!(s.installations(Some(SHOP_B)).await.unwrap().len(), 1);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_keeps_failing_is_dead_lettered_and_retried_once_fixed() {
    let host = Host::new(1);
    let running = host.start().await;
    let s = running.storage().clone();
    // The exports directory cannot be created: a file stands in its way.
    let blocker = host.data_dir().join("exports");
    std::fs::write(&blocker, b"not a directory").unwrap();

    let request = Delivery::new(
        SHOP_A,
        SECRET_A,
        "customers/data_request",
        "w-dr-fail",
        json!({"shop_id": 1, "shop_domain": SHOP_A, "orders_requested": [5001],
               "customer": {"id": 7001, "email": EMAIL}, "data_request": {"id": 4242}}),
    );
    let (status, body) = post(&reqwest::Client::new(), &running.webhook_url(), &request).await;
    assert_eq!(status, 200);
    let id = body["event_id"].as_str().unwrap().to_owned();
    eventually("dead-lettered after max-attempts", || async {
        !s.dead_letters(Some(SHOP_A), true, 10)
            .await
            .unwrap()
            .is_empty()
    })
    .await;
    let letters = s.dead_letters(Some(SHOP_A), true, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].failure.kind, "privacy-failed");
    assert!(
        letters[0]
            .failure
            .message
            .contains("gave up after 3 attempts"),
        "{}",
        letters[0].failure.message
    );
    assert!(is_done(&s, &id).await, "no longer claimed");

    // Fixed, then retried: the export is written, once.
    std::fs::remove_file(&blocker).unwrap();
    s.retry_dead_letter(letters[0].id, "ops@example.com", Timestamp::now())
        .await
        .unwrap();
    let export = blocker.join(SHOP_A).join("customer-7001-request-4242.json");
    eventually("exported after the retry", || async { export.exists() }).await;
    eventually("recorded", || async {
        s.privacy_records(Some(vec![SHOP_A.into()]), 10)
            .await
            .unwrap()
            .len()
            == 1
    })
    .await;
    assert!(
        s.dead_letters(Some(SHOP_A), true, 10)
            .await
            .unwrap()
            .is_empty(),
        "the dead letter is resolved"
    );
    // Counted just after the commit; final once shutdown drained the workers.
    let counters = running.metrics().clone();
    running.shutdown().await.unwrap();
    let metrics = counters.render(None);
    assert!(
        metrics.contains(
            "shopcase_privacy_requests_total{topic=\"customers/data_request\",outcome=\"dead\"} 1"
        ),
        "{metrics}"
    );
}

/// Deliver `app/uninstalled` for store A and wait until it is recorded.
async fn uninstall(client: &reqwest::Client, url: &str, s: &Arc<dyn Storage>, webhook: &str) {
    let (status, r) = post(
        client,
        url,
        &Delivery::new(
            SHOP_A,
            SECRET_A,
            "app/uninstalled",
            webhook,
            json!({"id": 1, "domain": SHOP_A, "myshopify_domain": SHOP_A, "webhook": webhook}),
        ),
    )
    .await;
    assert_eq!(
        (status, r["status"].as_str()),
        (200, Some("accepted")),
        "{r}"
    );
    let id = r["event_id"].as_str().unwrap().to_owned();
    let by = s
        .uninstalled(SHOP_A)
        .await
        .unwrap()
        .expect("recorded with the event")
        .by;
    assert_eq!(by, format!("app/uninstalled {id}"));
}

/// A `shop/redact` delivery for store A (the same body every time, as
/// Shopify's is for every install of a store).
fn shop_redact(webhook: &str) -> Delivery {
    Delivery::new(
        SHOP_A,
        SECRET_A,
        "shop/redact",
        webhook,
        json!({"shop_id": 1, "shop_domain": SHOP_A}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_redact_acts_only_for_a_store_that_uninstalled_the_app() {
    let host = Host::new(2);
    let running = host.start().await;
    let s = running.storage().clone();
    let client = reqwest::Client::new();
    let url = running.webhook_url();
    let order = |webhook: &str, id: u64| Delivery::order(SHOP_A, SECRET_A, webhook, ann_order(id));
    let (_, a) = post(&client, &url, &order("w-a", 5001)).await;
    let a = a["event_id"].as_str().unwrap().to_owned();
    eventually("dispatched", || is_done(&s, &a)).await;
    let open_letters = async || {
        s.dead_letters(Some(SHOP_A), true, 10)
            .await
            .unwrap()
            .into_iter()
            .filter(|l| l.failure.kind == "shop-redact-unconfirmed")
            .collect::<Vec<_>>()
    };

    // Early, or a captured body replayed: no uninstall is recorded, so
    // nothing is deleted; the request waits as a dead letter.
    assert_eq!(s.uninstalled(SHOP_A).await.unwrap(), None);
    let (status, early) = post(&client, &url, &shop_redact("w-early")).await;
    assert_eq!((status, early["status"].as_str()), (200, Some("accepted")));
    let early = early["event_id"].as_str().unwrap().to_owned();
    eventually("set aside", || is_done(&s, &early)).await;
    let letters = open_letters().await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert!(
        letters[0]
            .failure
            .message
            .contains("no app/uninstalled was received"),
        "{letters:?}"
    );
    assert!(s.event(&a).await.unwrap().is_some(), "nothing deleted");
    assert!(
        s.privacy_records(Some(vec![SHOP_A.into()]), 10)
            .await
            .unwrap()
            .is_empty()
    );

    // After app/uninstalled, Shopify's shop/redact acts.
    uninstall(&client, &url, &s, "w-uninstalled").await;
    let (_, r) = post(&client, &url, &shop_redact("w-redact")).await;
    assert_eq!(
        r["status"], "accepted",
        "the same body is not a duplicate: {r}"
    );
    eventually("store A deleted", || async {
        s.event(&a).await.unwrap().is_none()
    })
    .await;
    eventually("recorded", || async {
        s.privacy_records(Some(vec![SHOP_A.into()]), 10)
            .await
            .unwrap()
            .len()
            == 1
    })
    .await;
    assert_eq!(
        s.uninstalled(SHOP_A).await.unwrap(),
        None,
        "the uninstall went with the store's rows"
    );

    // The store installs the app again and has new data; the same body
    // replayed deletes nothing.
    let (_, b) = post(&client, &url, &order("w-b", 5002)).await;
    let b = b["event_id"].as_str().unwrap().to_owned();
    eventually("dispatched", || is_done(&s, &b)).await;
    let (_, replay) = post(&client, &url, &shop_redact("w-replay")).await;
    let replay = replay["event_id"].as_str().unwrap().to_owned();
    eventually("set aside", || is_done(&s, &replay)).await;
    let letters = open_letters().await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert!(s.event(&b).await.unwrap().is_some(), "nothing deleted");

    // An operator who confirms the uninstall retries the dead letter: the
    // request acts.
    s.retry_dead_letter(letters[0].id, "ops@example.com", Timestamp::now())
        .await
        .unwrap();
    eventually("store A deleted again", || async {
        s.event(&b).await.unwrap().is_none()
    })
    .await;
    running.shutdown().await.unwrap();
}
