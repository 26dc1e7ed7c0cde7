//! The webhook endpoint: every outcome, and that nothing unauthenticated is
//! stored or dispatched.

use std::sync::Arc;

use axum::body::Body;
use futures::StreamExt;
use serde_json::json;
use shopcase_pipeline::ingress::headers;
use shopcase_store::{EventStatus, Storage};
use tower::ServiceExt as _;

use crate::support::*;

async fn pending(storage: &Arc<dyn Storage>) -> u64 {
    storage
        .stats(shopcase_contract::time::Timestamp::now())
        .await
        .unwrap()
        .pending
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_delivery_is_committed_then_acknowledged() {
    let host = Host::new(0);
    let p = host.pipeline().await;
    let router = p.router();
    let d = Delivery::order(SHOP_A, SECRET_A, "w-1", order(5001, "ok"));
    let (status, body) = oneshot(&router, &d).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("accepted")));
    let id = body["event_id"].as_str().unwrap();
    let stored = p
        .storage()
        .event(id)
        .await
        .unwrap()
        .expect("committed before the 200");
    assert_eq!(
        stored.event.payload.as_bytes(),
        d.body.as_slice(),
        "stored exactly as signed"
    );
    assert_eq!(stored.event.shopify_event_id.as_deref(), Some("ev-w-1"));
    assert_eq!(stored.event.resources.order_id, Some(5001));
    assert_eq!(stored.event.resources.customer_id, Some(7001));
    assert_eq!(stored.status, EventStatus::Pending);
    // A redelivery is acknowledged and dropped.
    let (status, body) = oneshot(&router, &d).await;
    assert_eq!(
        (status, body["status"].as_str(), body["event_id"].as_str()),
        (200, Some("duplicate"), Some(id))
    );
    let m = p.metrics().snapshot();
    assert_eq!((m.received, m.accepted, m.duplicates), (2, 1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_mutated_deliveries_are_refused_and_never_stored() {
    let host = Host::new(0);
    let p = host.pipeline().await;
    let router = p.router();
    let good = Delivery::order(SHOP_A, SECRET_A, "w-1", order(5001, "ok"));

    // Signature changed.
    let mut bad_sig = good.clone();
    let sig = good
        .headers
        .iter()
        .find(|(k, _)| k == headers::HMAC)
        .unwrap()
        .1
        .clone();
    let mut chars: Vec<char> = sig.chars().collect();
    chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
    bad_sig.set(headers::HMAC, &chars.into_iter().collect::<String>());
    // Body changed after signing (the amount).
    let mut bad_body = good.clone();
    bad_body.body = String::from_utf8(good.body.clone())
        .unwrap()
        .replace("120.00", "1.00")
        .into_bytes();
    // Same JSON, re-serialised (pretty-printed): not the signed bytes.
    let mut reserialised = good.clone();
    let v: serde_json::Value = serde_json::from_slice(&good.body).unwrap();
    reserialised.body = serde_json::to_vec_pretty(&v).unwrap();
    // Signed with another store's secret.
    let wrong_secret = Delivery::order(SHOP_A, SECRET_B, "w-1", order(5001, "ok"));
    // Not base64 / wrong length.
    let mut garbage = good.clone();
    garbage.set(headers::HMAC, "not-a-signature");
    let mut missing = good.clone();
    missing.remove(headers::HMAC);

    for (d, code) in [
        (&bad_sig, "invalid-signature"),
        (&bad_body, "invalid-signature"),
        (&reserialised, "invalid-signature"),
        (&wrong_secret, "invalid-signature"),
        (&garbage, "invalid-signature"),
        (&missing, "missing-signature"),
    ] {
        let (status, body) = oneshot(&router, d).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some(code)),
            "{body}"
        );
        assert!(!body.to_string().contains(SECRET_A));
    }
    assert_eq!(pending(&p.storage()).await, 0, "nothing stored");
    assert_eq!(p.metrics().rejected_count("invalid-signature"), 5);
    // The genuine one still goes through.
    assert_eq!(oneshot(&router, &good).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_deliveries_have_named_outcomes() {
    let host = Host::new(0);
    let p = host.pipeline().await;
    let router = p.router();
    let base = || Delivery::order(SHOP_A, SECRET_A, "w-1", order(1, "ok"));
    let without = |h: &str| {
        let mut d = base();
        d.remove(h);
        d
    };
    let with = |h: &str, v: &str| {
        let mut d = base();
        d.set(h, v);
        d
    };
    let body = |b: &[u8]| {
        let mut d = base();
        d.body = b.to_vec();
        d.sign(SECRET_A);
        d
    };
    let cases: Vec<(Delivery, u16, &str)> = vec![
        (without(headers::TOPIC), 400, "missing-header"),
        (without(headers::WEBHOOK_ID), 400, "missing-header"),
        (without(headers::API_VERSION), 400, "missing-header"),
        (without(headers::SHOP_DOMAIN), 400, "missing-header"),
        (with(headers::TOPIC, "orders"), 400, "invalid-header"),
        (with(headers::TOPIC, "timer/fired"), 400, "reserved-topic"),
        (
            with(headers::TOPIC, "corecase/case-updated"),
            400,
            "reserved-topic",
        ),
        (
            with(headers::TRIGGERED_AT, "yesterday"),
            400,
            "invalid-header",
        ),
        (
            with(headers::SHOP_DOMAIN, "evil.example.com"),
            400,
            "invalid-header",
        ),
        (with(headers::API_VERSION, "2026/07"), 400, "invalid-header"),
        (
            with(headers::WEBHOOK_ID, "has space"),
            400,
            "invalid-header",
        ),
        // The form of the host's own dedupe keys.
        (
            with(headers::WEBHOOK_ID, "timer:1:1"),
            400,
            "invalid-header",
        ),
        (
            with(headers::SHOP_DOMAIN, "unknown.myshopify.com"),
            404,
            "unknown-shop",
        ),
        (body(b"{not json"), 400, "invalid-json"),
        (body(b"[1,2,3]"), 400, "invalid-json"),
        // An array as long as the fields the ingress reads is still no object.
        (body(b"[1, 2, 3, 4, {}, {}]"), 400, "invalid-json"),
        (
            body(b" \n [null, null, null, null, null, null]"),
            400,
            "invalid-json",
        ),
        (body(b"\"text\""), 400, "invalid-json"),
        (body(b"{\"id\": \"\xff\"}"), 400, "invalid-json"),
        (body(b""), 400, "empty-body"),
    ];
    for (d, want_status, want_code) in cases {
        let (status, resp) = oneshot(&router, &d).await;
        assert_eq!(
            (status, resp["error"].as_str()),
            (want_status, Some(want_code)),
            "{:?} → {resp}",
            d.headers
        );
        assert!(resp["message"].is_string());
    }
    assert_eq!(pending(&p.storage()).await, 0);
    let metrics = p.metrics().render(None);
    assert!(
        metrics.contains("shopcase_webhooks_rejected_total{reason=\"missing-header\"} 4"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_cap_get_413_with_or_without_a_length() {
    let host = Host::new(0);
    let p = host.pipeline().await;
    let router = p.router();
    let big = order(1, &"x".repeat(70_000));
    let d = Delivery::order(SHOP_A, SECRET_A, "w-big", big);
    let (status, body) = oneshot(&router, &d).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (413, Some("body-too-large"))
    );
    // Refused unread, the rest of the body may still be coming: the
    // connection is closed, and the client is told so.
    let resp = router.clone().oneshot(d.request()).await.unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.headers()["connection"], "close");

    // Chunked, no Content-Length: cut off while reading.
    let mut req = d.request();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        d.body.chunks(8192).map(|c| Ok(c.to_vec())).collect();
    *req.body_mut() = Body::from_stream(futures::stream::iter(chunks));
    req.headers_mut().remove("content-length");
    let resp = router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.headers()["connection"], "close");

    // Just under the cap is fine, and the connection stays open.
    let ok = Delivery::order(SHOP_A, SECRET_A, "w-ok", order(1, &"x".repeat(60_000)));
    let resp = router.clone().oneshot(ok.request()).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("connection").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_that_cannot_commit_gets_503_and_the_retry_succeeds() {
    let host = Host::new(0);
    let p = host.pipeline().await;
    let router = p.router();
    // Another process holds the database's write lock.
    let other = LockGuard::new(&host.data_dir().join("shopcase.db"));
    let d = Delivery::order(SHOP_A, SECRET_A, "w-1", order(5001, "ok"));
    let resp = router.clone().oneshot(d.request()).await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers().get("retry-after").unwrap(), "5");
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "storage-unavailable");
    assert!(
        !body.to_string().to_lowercase().contains("sqlite"),
        "no internals: {body}"
    );
    drop(other);
    // Shopify retries the same delivery: now it is stored, once.
    let (status, body) = oneshot(&router, &d).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("accepted")));
    assert_eq!(pending(&p.storage()).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_concurrent_duplicates_yields_one_event() {
    let host = Host::new(0);
    let running = host.start().await;
    let client = reqwest::Client::new();
    let url = running.webhook_url();
    let d = Delivery::order(SHOP_A, SECRET_A, "storm", order(5001, "ok"));
    let results: Vec<(u16, serde_json::Value)> = futures::stream::iter(0..64)
        .map(|_| {
            let (client, url, d) = (client.clone(), url.clone(), d.clone());
            async move { post(&client, &url, &d).await }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(results.iter().all(|(s, _)| *s == 200), "all acknowledged");
    let accepted = results
        .iter()
        .filter(|(_, b)| b["status"] == "accepted")
        .count();
    let ids: std::collections::BTreeSet<_> = results
        .iter()
        .map(|(_, b)| b["event_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(accepted, 1);
    assert_eq!(ids.len(), 1, "every answer names the one event");
    assert_eq!(pending(running.storage()).await, 1);
    let m = running.metrics().snapshot();
    assert_eq!((m.accepted, m.duplicates), (1, 63));
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_merchant_action_on_a_second_subscription_is_a_duplicate() {
    let host = Host::new(0);
    let p = host.pipeline().await;
    let router = p.router();
    let first = Delivery::order(SHOP_A, SECRET_A, "w-1", order(1, "ok"));
    let mut second = Delivery::order(SHOP_A, SECRET_A, "w-2", order(1, "ok"));
    second.set(headers::EVENT_ID, "ev-w-1");
    let mut other_topic = Delivery::new(SHOP_A, SECRET_A, "orders/paid", "w-3", order(1, "ok"));
    other_topic.set(headers::EVENT_ID, "ev-w-1");
    let (_, a) = oneshot(&router, &first).await;
    let (_, b) = oneshot(&router, &second).await;
    let (_, c) = oneshot(&router, &other_topic).await;
    assert_eq!(
        (
            a["status"].as_str(),
            b["status"].as_str(),
            c["status"].as_str()
        ),
        (Some("accepted"), Some("duplicate"), Some("accepted"))
    );
    assert_eq!(a["event_id"], b["event_id"]);
    let same = p
        .storage()
        .search_events(shopcase_store::EventQuery {
            shops: Some(vec![SHOP_A.into()]),
            shopify_event_id: Some("ev-w-1".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        same.len(),
        2,
        "one merchant action, recognisable across topics"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_captured_body_replayed_under_fresh_headers_is_a_duplicate_never_dispatched() {
    let host = Host::new(2);
    host.add_plugin(&PluginSpec::new("tagger"));
    let running = host.start().await;
    host.enable(running.storage(), SHOP_A, "tagger", &[]).await;
    let client = reqwest::Client::new();
    let s = running.storage().clone();
    let original = Delivery::order(SHOP_A, SECRET_A, "w-1", order(1, "ok"));
    let (_, first) = post(&client, &running.webhook_url(), &original).await;
    assert_eq!(first["status"], "accepted");
    let id = first["event_id"].as_str().unwrap().to_owned();
    eventually("the original is dispatched", || is_done(&s, &id)).await;
    // The attacker's copy: the same signed bytes and signature, with a new
    // webhook id, event id and triggered-at (none of them signed).
    let mut replay = original.clone();
    replay.set(headers::WEBHOOK_ID, "w-attacker");
    replay.set(headers::EVENT_ID, "ev-attacker");
    replay.set(
        headers::TRIGGERED_AT,
        &shopcase_contract::time::format(shopcase_contract::time::Timestamp::now()),
    );
    let (status, again) = post(&client, &running.webhook_url(), &replay).await;
    assert_eq!(
        (status, again["status"].as_str(), again["event_id"].as_str()),
        (200, Some("duplicate"), Some(id.as_str()))
    );
    // The same body is judged per topic: on another topic it is new.
    let mut other_topic = replay.clone();
    other_topic.set(headers::TOPIC, "orders/paid");
    let (_, other) = post(&client, &running.webhook_url(), &other_topic).await;
    assert_eq!(other["status"], "accepted");
    let other_id = other["event_id"].as_str().unwrap().to_owned();
    eventually("the other topic is dispatched", || is_done(&s, &other_id)).await;
    let metrics = running.metrics().clone();
    running.shutdown().await.unwrap();
    // The tagger subscribes to orders/create only: it ran once, for the
    // original; the replay was never dispatched.
    assert_eq!(metrics.plugin_runs("tagger", "ok"), 1);
    assert_eq!(metrics.snapshot().duplicates, 1);
    assert_eq!(s.journal_for_event(&id).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_previous_secret_works_only_inside_its_rotation_window() {
    let until_future = shopcase_contract::time::format(
        shopcase_contract::time::Timestamp::now() + jiff::SignedDuration::from_secs(3600),
    );
    let until_past = "2020-01-01T00:00:00Z";
    for (until, want) in [(until_future.as_str(), 200), (until_past, 401)] {
        let text = config_text("workers = 0").replace(
            "webhook-secret = \"secret-a\"",
            &format!(
                "webhook-secret = \"new-secret\"\nprevious-webhook-secret = \"secret-a\"\nprevious-webhook-secret-until = \"{until}\""
            ),
        );
        let host = Host::with_config(&text);
        let p = host.pipeline().await;
        let router = p.router();
        let old = Delivery::order(SHOP_A, SECRET_A, "w-old", order(1, "ok"));
        assert_eq!(
            oneshot(&router, &old).await.0,
            want,
            "previous secret until {until}"
        );
        let new = Delivery::order(SHOP_A, "new-secret", "w-new", order(1, "ok"));
        assert_eq!(oneshot(&router, &new).await.0, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_dated_ahead_of_the_clock_skew_is_refused() {
    use shopcase_contract::time::{Timestamp, format};
    let host = Host::new(0);
    let p = host.pipeline().await;
    let router = p.router();
    let at =
        |ahead_secs: i64| format(Timestamp::now() + jiff::SignedDuration::from_secs(ahead_secs));
    // A day ahead (the default skew is 5 minutes): refused, nothing stored,
    // with a reason that names the header and the setting.
    let mut day_ahead = Delivery::order(SHOP_A, SECRET_A, "w-ahead", order(1, "ok"));
    day_ahead.set(headers::TRIGGERED_AT, &at(24 * 3600));
    let (status, body) = oneshot(&router, &day_ahead).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("triggered-in-future")),
        "{body}"
    );
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("X-Shopify-Triggered-At") && message.contains("server.max-clock-skew"),
        "{message}"
    );
    assert_eq!(pending(&p.storage()).await, 0, "nothing stored");
    assert_eq!(p.metrics().rejected_count("triggered-in-future"), 1);
    // So is a privacy request dated ahead.
    let mut redact_ahead = Delivery::new(
        SHOP_A,
        SECRET_A,
        "customers/redact",
        "w-redact-ahead",
        json!({"shop_domain": SHOP_A, "customer": {"id": 1}, "orders_to_redact": []}),
    );
    redact_ahead.set(headers::TRIGGERED_AT, &at(24 * 3600));
    assert_eq!(oneshot(&router, &redact_ahead).await.0, 400);
    // A minute ahead is within the skew: accepted, and kept as triggered.
    let mut minute_ahead = Delivery::order(SHOP_A, SECRET_A, "w-minute", order(2, "ok"));
    let triggered = at(60);
    minute_ahead.set(headers::TRIGGERED_AT, &triggered);
    let (status, body) = oneshot(&router, &minute_ahead).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("accepted")),
        "{body}"
    );
    let stored = p
        .storage()
        .event(body["event_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        shopcase_contract::time::parse(&stored.event.triggered_at).unwrap(),
        shopcase_contract::time::parse(&triggered).unwrap()
    );
    // The skew is a setting.
    let host = Host::with_config(
        &config_text("workers = 0").replace("[server]", "[server]\nmax-clock-skew = \"30s\""),
    );
    let p = host.pipeline().await;
    let mut minute_ahead = Delivery::order(SHOP_A, SECRET_A, "w-minute", order(2, "ok"));
    minute_ahead.set(headers::TRIGGERED_AT, &at(60));
    assert_eq!(oneshot(&p.router(), &minute_ahead).await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_deliveries_are_acknowledged_but_never_dispatched() {
    let host = Host::new(2);
    host.add_plugin(&PluginSpec::new("tagger"));
    let running = host.start().await;
    host.enable(running.storage(), SHOP_A, "tagger", &[]).await;
    let client = reqwest::Client::new();
    let mut old = Delivery::order(SHOP_A, SECRET_A, "w-old", order(1, "ok"));
    old.set(headers::TRIGGERED_AT, "2020-01-01T00:00:00Z");
    let (status, body) = post(&client, &running.webhook_url(), &old).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("stale")));
    // A privacy request is an obligation whatever its age.
    let mut old_redact = Delivery::new(
        SHOP_A,
        SECRET_A,
        "customers/redact",
        "w-old-redact",
        json!({"shop_domain": SHOP_A, "customer": {"id": 1}, "orders_to_redact": []}),
    );
    old_redact.set(headers::TRIGGERED_AT, "2020-01-01T00:00:00Z");
    let (_, redact) = post(&client, &running.webhook_url(), &old_redact).await;
    assert_eq!(redact["status"], "accepted");
    let fresh = Delivery::order(SHOP_A, SECRET_A, "w-new", order(2, "ok"));
    let (_, fresh_body) = post(&client, &running.webhook_url(), &fresh).await;
    let fresh_id = fresh_body["event_id"].as_str().unwrap().to_owned();
    let s = running.storage().clone();
    eventually("the fresh event is dispatched", || is_done(&s, &fresh_id)).await;
    let stale = s
        .event(body["event_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stale.status, EventStatus::Stale);
    assert!(
        s.journal_for_event(&stale.event.id)
            .await
            .unwrap()
            .is_empty()
    );
    // Metrics are counted just after the results commit; shutdown drains
    // the workers, so the counts are final afterwards.
    let metrics = running.metrics().clone();
    running.shutdown().await.unwrap();
    assert_eq!(metrics.plugin_runs("tagger", "ok"), 1);
    assert_eq!(metrics.snapshot().stale, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_work_over_a_real_socket_with_json_answers() {
    let host = Host::new(0);
    let running = host.start().await;
    let client = reqwest::Client::new();
    let d = Delivery::order(SHOP_A, SECRET_A, "w-1", json!({"id": 1}));
    assert_eq!(post(&client, &running.webhook_url(), &d).await.0, 200);
    let resp = client
        .get(format!("http://{}/nope", running.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap()["error"],
        "not-found"
    );
    running.shutdown().await.unwrap();
}
