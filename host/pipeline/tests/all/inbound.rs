//! `POST /inbound/{source}`: signed helpdesk and carrier reports into the
//! inbox — every named outcome, and that nothing unauthenticated or not
//! allowed is stored.

use axum::body::Body;
use http::Request;
use serde_json::{Value, json};
use shopcase_contract::inbound::SIGNATURE_HEADER;
use shopcase_contract::time::{SignedDuration, Timestamp, format};
use shopcase_pipeline::ingress::hmac;
use shopcase_store::{EventSource, EventStatus};
use tower::ServiceExt as _;

use crate::support::*;

const HD_SECRET: &str = "helpdesk-secret";

/// A host with one source, `helpdesk`, allowed to send complaints and
/// not-received claims about store A only.
fn host() -> Host {
    let text = format!(
        "{}\n[[inbound]]\nname = \"helpdesk\"\nsecret-file = \"hd-secret\"\nshops = [\"{SHOP_A}\"]\nkinds = [\"complaint\", \"not-received\"]\n",
        config_text("workers = 0")
    );
    let host = Host::with_config(&text);
    std::fs::write(host.dir.path().join("hd-secret"), HD_SECRET).unwrap();
    host
}

fn complaint(id: &str) -> Value {
    json!({
        "id": id, "kind": "complaint", "shop": SHOP_A,
        "occurred_at": format(Timestamp::now()),
        "order_id": 5001, "customer_id": 7001, "channel": "email",
        "text": "The parcel arrived crushed.", "ticket_id": "48213"
    })
}

async fn send(
    router: &axum::Router,
    source: &str,
    body: &[u8],
    signature: Option<String>,
) -> (u16, Value) {
    let mut b =
        Request::post(format!("/inbound/{source}")).header("content-type", "application/json");
    if let Some(s) = signature {
        b = b.header(SIGNATURE_HEADER, s);
    }
    let resp = router
        .clone()
        .oneshot(b.body(Body::from(body.to_vec())).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn signed(router: &axum::Router, body: &Value) -> (u16, Value) {
    let bytes = serde_json::to_vec(body).unwrap();
    let sig = hmac::sign(HD_SECRET.as_bytes(), &bytes);
    send(router, "helpdesk", &bytes, Some(sig)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_report_is_committed_then_acknowledged_once() {
    let host = host();
    let p = host.pipeline().await;
    let router = p.router();
    let report = complaint("zd-1");
    let (status, body) = signed(&router, &report).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("accepted")));
    let id = body["event_id"].as_str().unwrap().to_owned();
    let stored = p
        .storage()
        .event(&id)
        .await
        .unwrap()
        .expect("committed before the 200");
    assert_eq!(stored.event.topic, "helpdesk/complaint");
    assert_eq!(stored.source, EventSource::Inbound);
    assert_eq!(stored.status, EventStatus::Pending);
    assert_eq!(stored.event.resources.order_id, Some(5001));
    assert_eq!(stored.event.resources.customer_id, Some(7001));
    assert_eq!(stored.event.shop, SHOP_A);
    let payload: Value = serde_json::from_str(&stored.event.payload).unwrap();
    assert_eq!(payload["source"], "helpdesk");
    assert_eq!(payload["kind"], "complaint");
    assert_eq!(payload["text"], "The parcel arrived crushed.");
    assert!(
        payload.get("shop").is_none(),
        "the envelope carries the store"
    );

    // The same body again (a retry, or a replay of a captured request).
    let (status, body) = signed(&router, &report).await;
    assert_eq!(
        (status, body["status"].as_str(), body["event_id"].as_str()),
        (200, Some("duplicate"), Some(id.as_str()))
    );
    // The same report id with another body: the same report.
    let mut edited = report.clone();
    edited["text"] = json!("The parcel arrived crushed!!");
    let (status, body) = signed(&router, &edited).await;
    assert_eq!(
        (status, body["status"].as_str(), body["event_id"].as_str()),
        (200, Some("duplicate"), Some(id.as_str()))
    );
    // Another report about the same order is another event.
    let mut claim = complaint("zd-2");
    claim["kind"] = json!("not-received");
    let (status, body) = signed(&router, &claim).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("accepted")));
    let other = p
        .storage()
        .event(body["event_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.event.topic, "helpdesk/not-received");
    let m = p.metrics();
    assert_eq!(m.inbound_count("helpdesk", "accepted"), 2);
    assert_eq!(m.inbound_count("helpdesk", "duplicate"), 2);
    assert!(
        m.render(None).contains(
            "shopcase_inbound_requests_total{source=\"helpdesk\",outcome=\"accepted\"} 2"
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_is_named_and_nothing_is_stored() {
    let host = host();
    let p = host.pipeline().await;
    let router = p.router();
    let good = serde_json::to_vec(&complaint("zd-9")).unwrap();
    let sig = |b: &[u8]| Some(hmac::sign(HD_SECRET.as_bytes(), b));

    let cases: Vec<(&str, (u16, Value))> = vec![
        (
            "unknown-source",
            send(&router, "zendesk", &good, sig(&good)).await,
        ),
        (
            "missing-signature",
            send(&router, "helpdesk", &good, None).await,
        ),
        (
            "invalid-signature",
            send(
                &router,
                "helpdesk",
                &good,
                Some(hmac::sign(SECRET_A.as_bytes(), &good)),
            )
            .await,
        ),
        (
            "invalid-signature",
            send(&router, "helpdesk", &good, Some("not base64!".into())).await,
        ),
        ("empty-body", send(&router, "helpdesk", b"", sig(b"")).await),
        (
            "body-too-large",
            send(&router, "helpdesk", &vec![b' '; 70_000], sig(b" ")).await,
        ),
        (
            "malformed-body",
            send(&router, "helpdesk", b"[1,2]", sig(b"[1,2]")).await,
        ),
    ];
    let with = |k: &str, v: Value| {
        let mut b = complaint("zd-9");
        if v.is_null() {
            b.as_object_mut().unwrap().remove(k);
        } else {
            b[k] = v;
        }
        b
    };
    let bodies = [
        ("shop-not-allowed", with("shop", json!(SHOP_B))),
        ("kind-not-allowed", with("kind", json!("carrier-exception"))),
        ("unknown-kind", with("kind", json!("praise"))),
        ("malformed-body", with("order_id", Value::Null)),
        ("malformed-body", with("text", json!(""))),
        ("malformed-body", with("surprise", json!(1))),
        (
            "triggered-in-future",
            with(
                "occurred_at",
                json!(format(Timestamp::now() + SignedDuration::from_hours(1))),
            ),
        ),
    ];
    let mut results = cases;
    for (code, body) in bodies {
        results.push((code, signed(&router, &body).await));
    }
    for (code, (status, body)) in &results {
        assert_eq!(body["error"].as_str(), Some(*code), "{body}");
        let want = match *code {
            "unknown-source" => 404,
            "missing-signature" | "invalid-signature" => 401,
            "body-too-large" => 413,
            "shop-not-allowed" | "kind-not-allowed" => 403,
            _ => 400,
        };
        assert_eq!(*status, want, "{code}: {body}");
    }
    // The schema's complaint names the field.
    let (_, body) = signed(&router, &with("order_id", Value::Null)).await;
    assert!(
        body["message"].as_str().unwrap().contains("order_id"),
        "{body}"
    );
    let stats = p.storage().stats(Timestamp::now()).await.unwrap();
    assert_eq!(stats.pending, 0, "nothing refused was stored");
    assert_eq!(p.metrics().inbound_count("unknown", "unknown-source"), 1);
    assert_eq!(
        p.metrics().inbound_count("helpdesk", "invalid-signature"),
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_report_is_kept_as_stale_and_never_dispatched() {
    let host = host();
    let p = host.pipeline().await;
    let router = p.router();
    let mut old = complaint("zd-old");
    old["occurred_at"] = json!(format(Timestamp::now() - SignedDuration::from_hours(48)));
    let (status, body) = signed(&router, &old).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("stale")));
    let stored = p
        .storage()
        .event(body["event_id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, EventStatus::Stale);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopify_cannot_post_an_inbound_topic() {
    let host = host();
    let p = host.pipeline().await;
    let router = p.router();
    for topic in ["helpdesk/complaint", "carrier/exception"] {
        let d = Delivery::new(SHOP_A, SECRET_A, topic, "w-hd", complaint("zd-x"));
        let (status, body) = oneshot(&router, &d).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("reserved-topic")),
            "{topic}"
        );
    }
}
