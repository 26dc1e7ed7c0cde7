//! Authentication and authorisation of every endpoint: no or bad token
//! (401), the wrong role (403), the wrong store (404 as if absent), each
//! refusal audited and changing nothing; the right token gets through;
//! size caps and media types; no secret in any answer.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Value, json};
use shopcase_contract::action::{CaseStatus, Priority};
use shopcase_contract::{CaseKey, Subject};
use shopcase_store::{ApiRole, CaseLink, DeadLetterState, PrivacyRecord, Timestamp};

use crate::support::*;

/// One endpoint call about store A's data.
#[derive(Debug, Clone)]
struct Call {
    method: &'static str,
    path: String,
    body: Option<Value>,
    /// Changes something (auditors are refused).
    write: bool,
}

fn call(method: &'static str, path: impl Into<String>, body: Option<Value>, write: bool) -> Call {
    Call {
        method,
        path: path.into(),
        body,
        write,
    }
}

/// What exists in store A for the calls to be about.
struct Fixture {
    /// Keeps the host's directory (database, plugins) alive.
    _host: Host,
    running: Running,
    event: String,
    key: String,
    dead_letter: i64,
}

async fn fixture() -> Fixture {
    let host = Host::new();
    host.add_plugin("tagger", "1.0.0");
    let executor = Arc::new(SwitchExecutor::default());
    executor.broken.store(true, Ordering::SeqCst);
    let running = host.start(executor).await;
    let op = running.token("setup", ApiRole::Operator, &[]).await;
    let r = running
        .call(
            Some(&op),
            "POST",
            &format!("/stores/{SHOP_A}/installations/tagger/enable"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let event = running.order(SHOP_A, "w-a-1", 1001, "ok").await;
    running.done(&event).await;
    let key = format!("{event}:tagger:0");
    let s = running.storage.clone();
    eventually("the action is dead-lettered", || {
        let s = s.clone();
        async move {
            !s.dead_letters(Some(SHOP_A), true, 10)
                .await
                .unwrap()
                .is_empty()
        }
    })
    .await;
    let dead_letter = running
        .storage
        .dead_letters(Some(SHOP_A), true, 10)
        .await
        .unwrap()[0]
        .id;
    running
        .storage
        .put_case_link(CaseLink {
            shop: SHOP_A.into(),
            key: CaseKey {
                case_type: "hostile".into(),
                subject: Subject::Order(1001),
            },
            case_id: "case-a-1".into(),
            case_number: "CASE-000001".into(),
            status: CaseStatus::New,
            priority: Priority::High,
            escalation_level: 0,
            opened_at: "2026-11-26T10:00:00Z".into(),
            plugin_id: Some("tagger".into()),
            last_updated_on: None,
            updated_at: Timestamp::now(),
        })
        .await
        .unwrap();
    running
        .storage
        .record_privacy(PrivacyRecord {
            shop: SHOP_A.into(),
            topic: "customers/data_request".into(),
            customer_id: Some(7001),
            event_id: event.clone(),
            file: Some("exports/a.json".into()),
            summary: json!({"events": 1}),
            at: Timestamp::now(),
            body_sha256: None,
        })
        .await
        .unwrap();
    Fixture {
        _host: host,
        running,
        event,
        key,
        dead_letter,
    }
}

/// Every endpoint that concerns store A, with a valid request.
fn store_a_calls(f: &Fixture) -> Vec<Call> {
    let inst = format!("/stores/{SHOP_A}/installations/tagger");
    let dl = f.dead_letter;
    vec![
        call("GET", format!("/stores/{SHOP_A}"), None, false),
        call("GET", inst.clone(), None, false),
        call(
            "PATCH",
            inst.clone(),
            Some(json!({"settings": {"threshold": 70}})),
            true,
        ),
        call(
            "POST",
            format!("{inst}/enable"),
            Some(json!({"settings": {"threshold": 75}})),
            true,
        ),
        call("POST", format!("{inst}/disable"), None, true),
        call("POST", format!("{inst}/unquarantine"), None, true),
        call("GET", format!("/quarantine?shop={SHOP_A}"), None, false),
        call("GET", format!("/events?shop={SHOP_A}"), None, false),
        call("GET", format!("/events/{}", f.event), None, false),
        call("GET", format!("/journal?shop={SHOP_A}"), None, false),
        call("GET", format!("/journal/{}", f.key), None, false),
        call("GET", format!("/dead-letters?shop={SHOP_A}"), None, false),
        call("GET", format!("/dead-letters/{dl}"), None, false),
        call("POST", format!("/dead-letters/{dl}/retry"), None, true),
        call("POST", format!("/dead-letters/{dl}/discard"), None, true),
        call("GET", format!("/case-links?shop={SHOP_A}"), None, false),
        call(
            "GET",
            format!("/privacy-requests?shop={SHOP_A}"),
            None,
            false,
        ),
        call("GET", format!("/audit?shop={SHOP_A}"), None, false),
    ]
}

/// The endpoints not about one store (their answers are filtered instead).
fn global_calls() -> Vec<Call> {
    [
        "/me",
        "/stores",
        "/plugins",
        "/plugins/tagger",
        "/quarantine",
        "/events",
        "/journal",
        "/dead-letters",
        "/case-links",
        "/privacy-requests",
        "/audit",
    ]
    .into_iter()
    .map(|p| call("GET", p, None, false))
    .collect()
}

/// The state a refused call must not change.
async fn snapshot(r: &Running, dl: i64) -> (bool, Value, DeadLetterState) {
    let i = r
        .storage
        .installation(SHOP_A, "tagger")
        .await
        .unwrap()
        .unwrap();
    let d = r.storage.dead_letter(dl).await.unwrap().unwrap();
    (
        i.enabled,
        serde_json::to_value(&i.settings).unwrap(),
        d.state,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_refuses_missing_bad_and_revoked_tokens_and_audits_it() {
    let f = fixture().await;
    let r = &f.running;
    let revoked = r.token("leaver", ApiRole::Operator, &[]).await;
    let leaver_id = token_id(r, "leaver").await;
    r.state.tokens().revoke(&leaver_id, "test").await.unwrap();
    let before = snapshot(r, f.dead_letter).await;
    let unknown = format!("shopcase_{}", "A".repeat(43));
    let presented: [(Option<&str>, &str); 4] = [
        (None, "missing-token"),
        (Some("not-a-token"), "malformed-token"),
        (Some(&unknown), "unknown-token"),
        (Some(&revoked), "revoked-token"),
    ];
    let mut calls = store_a_calls(&f);
    calls.extend(global_calls());
    for (token, reason) in presented {
        for c in &calls {
            let n = r.denials().await.len();
            let a = r.call(token, c.method, &c.path, c.body.clone()).await;
            assert_eq!(
                a.status, 401,
                "{} {} with {reason}: {}",
                c.method, c.path, a.text
            );
            assert_eq!(a.json["error"], "unauthenticated");
            assert!(
                a.headers
                    .get("www-authenticate")
                    .is_some_and(|v| v.to_str().unwrap().starts_with("Bearer")),
            );
            let d = r.denials().await;
            assert_eq!(
                d.len(),
                n + 1,
                "one audit record for {} {}",
                c.method,
                c.path
            );
            assert_eq!(d[0].entry.actor, "anonymous");
            assert_eq!(d[0].entry.details["reason"], reason);
            assert_eq!(d[0].entry.details["method"], c.method);
            assert_eq!(d[0].entry.details["path"], format!("/admin/api{}", c.path));
            if reason == "revoked-token" {
                assert_eq!(d[0].entry.details["token"], leaver_id.as_str());
            }
            assert!(
                !d[0].entry.details.to_string().contains("shopcase_"),
                "the presented token is never recorded"
            );
        }
    }
    assert_eq!(snapshot(r, f.dead_letter).await, before, "nothing changed");
    f.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auditors_may_not_change_anything_and_each_refusal_is_audited() {
    let f = fixture().await;
    let r = &f.running;
    let auditor = r.token("security", ApiRole::Auditor, &[]).await;
    let before = snapshot(r, f.dead_letter).await;
    let mut reads = 0;
    for c in store_a_calls(&f) {
        let n = r.denials().await.len();
        let a = r
            .call(Some(&auditor), c.method, &c.path, c.body.clone())
            .await;
        if c.write {
            assert_eq!(a.status, 403, "{} {}: {}", c.method, c.path, a.text);
            assert_eq!(a.json["error"], "forbidden");
            let d = r.denials().await;
            assert_eq!(d.len(), n + 1, "{} {} audited", c.method, c.path);
            assert_eq!(
                d[0].entry.actor,
                format!("security (token {})", token_id(r, "security").await)
            );
            assert_eq!(d[0].entry.details["reason"], "role");
            assert_eq!(d[0].entry.details["role"], "auditor");
            assert_eq!(d[0].entry.details["method"], c.method);
        } else {
            assert_eq!(a.status, 200, "auditors read {}: {}", c.path, a.text);
            reads += 1;
        }
    }
    assert!(reads > 5);
    assert_eq!(snapshot(r, f.dead_letter).await, before, "nothing changed");
    f.running.shutdown().await;
}

async fn token_id(r: &Running, name: &str) -> String {
    r.state
        .tokens()
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.name == name)
        .unwrap()
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_stores_data_is_not_found_for_scoped_tokens_and_audited() {
    let f = fixture().await;
    let r = &f.running;
    let admin_b = r.token("b-admin", ApiRole::StoreAdmin, &[SHOP_B]).await;
    let auditor_b = r.token("b-auditor", ApiRole::Auditor, &[SHOP_B]).await;
    let before = snapshot(r, f.dead_letter).await;
    for (token, name) in [(&admin_b, "b-admin"), (&auditor_b, "b-auditor")] {
        for c in store_a_calls(&f) {
            if c.write && name == "b-auditor" {
                continue; // a role refusal, tested above
            }
            let n = r.denials().await.len();
            let a = r.call(Some(token), c.method, &c.path, c.body.clone()).await;
            assert_eq!(a.status, 404, "{name}: {} {}: {}", c.method, c.path, a.text);
            assert_eq!(a.json["error"], "not-found", "{}", c.path);
            let d = r.denials().await;
            assert_eq!(d.len(), n + 1, "{name}: {} {} audited", c.method, c.path);
            assert_eq!(d[0].entry.details["reason"], "store");
            assert_eq!(
                d[0].entry.shop.as_deref(),
                Some(SHOP_A),
                "filed under the store asked for"
            );
            assert!(d[0].entry.actor.starts_with(name));
        }
    }
    assert_eq!(snapshot(r, f.dead_letter).await, before, "nothing changed");

    // Refused exactly like something that does not exist.
    let hidden = r.get(&admin_b, &format!("/events/{}", f.event)).await;
    let absent = r.get(&admin_b, "/events/no-such-event").await;
    assert_eq!(
        (hidden.status, &hidden.json["error"]),
        (absent.status, &absent.json["error"])
    );

    // Listings without a store filter show only the token's stores.
    let b_event = r.order(SHOP_B, "w-b-1", 2002, "ok").await;
    r.done(&b_event).await;
    for c in global_calls() {
        let a = r.get(&admin_b, &c.path).await;
        assert_eq!(a.status, 200, "{}: {}", c.path, a.text);
        assert!(
            !a.text.contains(SHOP_A),
            "{} leaks store A: {}",
            c.path,
            a.text
        );
    }
    let events = r.get(&admin_b, "/events").await;
    assert_eq!(events.json["events"][0]["id"], b_event.as_str());
    // Asked by the Shopify event id of A's order: as if there were none.
    let by_action = r.get(&admin_b, "/events?shopify_event=ev-w-a-1").await;
    assert_eq!(by_action.json["events"], json!([]), "{}", by_action.text);
    f.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_token_gets_through_and_no_answer_holds_a_secret() {
    let f = fixture().await;
    let r = &f.running;
    let admin_a = r.token("a-admin", ApiRole::StoreAdmin, &[SHOP_A]).await;
    let operator = r.token("ops", ApiRole::Operator, &[]).await;
    let mut texts = Vec::new();
    for c in store_a_calls(&f).into_iter().chain(global_calls()) {
        let a = r
            .call(Some(&admin_a), c.method, &c.path, c.body.clone())
            .await;
        // Past authentication and authorisation: a success, or the
        // request's own outcome (unquarantine of a healthy plugin, discard
        // of a letter just retried).
        assert!(
            a.status == 200 || (a.status == 409 && c.write),
            "{} {}: {} {}",
            c.method,
            c.path,
            a.status,
            a.text
        );
        texts.push(a.text);
        let a = r
            .call(Some(&operator), c.method, &c.path, c.body.clone())
            .await;
        assert!(
            a.status == 200 || (a.status == 409 && c.write),
            "{} {}",
            c.method,
            c.path
        );
        texts.push(a.text);
    }
    // The listings find store A's records for its admin.
    let privacy = r.get(&admin_a, "/privacy-requests").await;
    assert_eq!(
        (
            privacy.json["privacy_requests"][0]["shop"].as_str(),
            privacy.json["privacy_requests"][0]["topic"].as_str(),
            privacy.json["privacy_requests"][0]["event_id"].as_str(),
        ),
        (
            Some(SHOP_A),
            Some("customers/data_request"),
            Some(f.event.as_str())
        ),
        "{}",
        privacy.text
    );
    let by_action = r.get(&admin_a, "/events?shopify_event=ev-w-a-1").await;
    assert_eq!(
        by_action.json["events"][0]["id"],
        f.event.as_str(),
        "{}",
        by_action.text
    );
    assert_eq!(by_action.json["events"].as_array().map(Vec::len), Some(1));

    let mut secrets: Vec<String> = vec![
        SECRET_A.into(),
        SECRET_B.into(),
        ADMIN_TOKEN_A.into(),
        ADMIN_TOKEN_B.into(),
        admin_a.clone(),
        operator.clone(),
    ];
    // The stored hashes of the tokens.
    for t in [&admin_a, &operator] {
        use sha2::Digest as _;
        secrets.push(hex::encode(sha2::Sha256::digest(t.as_bytes())));
    }
    for text in &texts {
        for s in &secrets {
            assert!(
                !text.contains(s.as_str()),
                "an answer holds a secret: {text}"
            );
        }
        assert!(!text.contains("/plugins/tagger/"), "no file paths: {text}");
    }
    f.running.shutdown().await;
}

/// A flood of requests without a valid token is refused whole, but audited
/// one by one only up to the budget (the audit shares the writer that
/// commits webhooks); the rest are counted, in one record the next minute
/// (that part is the budget's unit test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_anonymous_requests_is_audited_up_to_the_budget() {
    let f = fixture().await;
    let r = &f.running;
    let before = r.denials().await.len();
    for _ in 0..610 {
        let a = r.call(None, "GET", "/me", None).await;
        assert_eq!(a.status, 401);
    }
    assert_eq!(r.denials().await.len() - before, 600);
    f.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tokens_refused_requests_are_audited_up_to_its_own_budget() {
    let f = fixture().await;
    let r = &f.running;
    let prober = r.token("prober", ApiRole::StoreAdmin, &[SHOP_A]).await;
    let other = r.token("other", ApiRole::StoreAdmin, &[SHOP_A]).await;
    let before = r.denials().await.len();
    // A store admin of A reaching for B, 70 times in a minute.
    for _ in 0..70 {
        let a = r
            .call(Some(&prober), "GET", &format!("/stores/{SHOP_B}"), None)
            .await;
        assert_eq!(a.status, 404);
    }
    assert_eq!(r.denials().await.len() - before, 60, "the token's budget");
    // Another token's refusals are audited from its own budget.
    let a = r
        .call(Some(&other), "GET", &format!("/stores/{SHOP_B}"), None)
        .await;
    assert_eq!(a.status, 404);
    assert_eq!(r.denials().await.len() - before, 61);
    f.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_capped_typed_and_checked() {
    let f = fixture().await;
    let r = &f.running;
    let op = r.token("ops", ApiRole::Operator, &[]).await;
    let path = format!("{}/admin/api/stores/{SHOP_A}/installations/tagger", r.base);
    let send = |body: Vec<u8>, content_type: &'static str| {
        let (client, path, op) = (r.client.clone(), path.clone(), op.clone());
        async move {
            let resp = client
                .patch(&path)
                .bearer_auth(op)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    // Over the cap: sent to the router directly, because over a socket the
    // server may answer 413 and close before the client has written the
    // whole body, which the client then reports as a broken request.
    let huge = serde_json::to_vec(&json!({"settings": {"mode": "x".repeat(200_000)}})).unwrap();
    let request =
        axum::http::Request::patch(format!("/admin/api/stores/{SHOP_A}/installations/tagger"))
            .header("authorization", format!("Bearer {op}"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(huge))
            .unwrap();
    let resp = tower::ServiceExt::oneshot(shopcase_admin::router(r.state.clone()), request)
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_eq!(
        (status, body["error"].as_str()),
        (413, Some("body-too-large"))
    );
    let (status, body) = send(b"{\"settings\":{}}".to_vec(), "text/plain").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (415, Some("unsupported-media-type"))
    );
    let (status, body) = send(b"{not json".to_vec(), "application/json").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid-json"))
    );
    let (status, body) = send(b"{\"setings\":{}}".to_vec(), "application/json").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid-json"))
    );
    assert!(
        body["message"].as_str().unwrap().contains("setings"),
        "{body}"
    );
    let a = r.get(&op, "/events?limit=many").await;
    assert_eq!(
        (a.status, a.json["error"].as_str()),
        (400, Some("invalid-request"))
    );
    let a = r.get(&op, "/events?status=sleeping").await;
    assert_eq!(a.status, 400);
    assert!(
        a.json["message"].as_str().unwrap().contains("`status`"),
        "{}",
        a.text
    );
    let a = r.get(&op, "/dead-letters/abc").await;
    assert_eq!(
        (a.status, a.json["error"].as_str()),
        (400, Some("invalid-request"))
    );
    let a = r.call(Some(&op), "DELETE", "/stores", None).await;
    assert_eq!(
        (a.status, a.json["error"].as_str()),
        (405, Some("method-not-allowed"))
    );
    f.running.shutdown().await;
}
