//! Lost answers, crashes and failures: nothing is applied twice, nothing is
//! applied with a wrong token, and errors say what to do.

use std::time::Duration;

use serde_json::json;
use shopcase_contract::ShopifyOperation;
use shopcase_contract::action::Target;
use shopcase_net::Secret;
use shopcase_shopify::{Applied, Error, ShopConfig, ShopifyClient};

use crate::support::{SHOP, VERSION, env, env_with, fast_client_config};
use crate::writeback::{cancel, hold, note, refund, store_credit};

/// The mutation is applied, then the connection drops before the answer; the
/// executor may also crash and call again. Exactly one effect either way.
async fn reset_after_apply_is_applied_once(op: ShopifyOperation, operation: &str) {
    let env = env().await;
    env.fault(json!({"kind": "reset-after-apply", "operation": operation}))
        .await;
    let first = env.client.apply(SHOP, &op, "evt-9:plugin:0").await.unwrap();
    assert!(
        matches!(&first, Applied::Done { detail, .. } if detail.contains("confirmed after the answer was lost")),
        "{operation}: {first:?}"
    );
    // The executor crashed before recording success: it calls again.
    let again = env.client.apply(SHOP, &op, "evt-9:plugin:0").await.unwrap();
    assert!(
        matches!(again, Applied::AlreadyDone { .. }),
        "{operation}: {again:?}"
    );
    assert_eq!(
        env.applied(operation).await.len(),
        1,
        "{operation} applied more than once"
    );
    assert_eq!(env.running.emulator.stats().faults, 1);
}

#[tokio::test]
async fn a_lost_hold_answer_does_not_hold_twice() {
    reset_after_apply_is_applied_once(hold(5001, "fraud-check"), "fulfillmentOrderHold").await;
}

#[tokio::test]
async fn a_lost_cancel_answer_does_not_cancel_twice() {
    reset_after_apply_is_applied_once(cancel(5002), "orderCancel").await;
}

#[tokio::test]
async fn a_lost_refund_answer_does_not_refund_twice() {
    reset_after_apply_is_applied_once(refund(5001, "20.00"), "refundCreate").await;
}

#[tokio::test]
async fn a_lost_store_credit_answer_does_not_credit_twice() {
    reset_after_apply_is_applied_once(store_credit(7001, "12.50"), "storeCreditAccountCredit")
        .await;
}

#[tokio::test]
async fn a_lost_note_answer_does_not_append_twice() {
    reset_after_apply_is_applied_once(note(Target::Order(5001), "Checked"), "orderUpdate").await;
    let env = env().await;
    env.fault(json!({"kind": "reset-after-apply", "operation": "orderUpdate"}))
        .await;
    env.client
        .apply(SHOP, &note(Target::Order(5001), "Checked"), "k")
        .await
        .unwrap();
    assert_eq!(
        env.running
            .emulator
            .order(SHOP, 5001)
            .unwrap()
            .note
            .matches("Checked")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_crash_after_the_store_credit_record_but_before_the_credit_credits_once() {
    let env = env().await;
    // The write-ahead record is written, then the credit is lost in a reset
    // that happens *before* Shopify applies it: the retry must credit.
    env.fault(json!({"kind": "reset", "operation": "storeCreditAccountCredit"}))
        .await;
    let done = env
        .client
        .apply(SHOP, &store_credit(7002, "30.00"), "sc")
        .await
        .unwrap();
    assert!(done.is_done(), "{done:?}");
    assert_eq!(env.applied("storeCreditAccountCredit").await.len(), 1);
    let account = &env
        .running
        .emulator
        .customer(SHOP, 7002)
        .unwrap()
        .store_credit_accounts[0];
    assert_eq!(account.transactions.len(), 1);
}

#[tokio::test]
async fn server_errors_and_429s_are_retried_without_double_effects() {
    let env = env().await;
    env.fault(json!({"kind": "error-500", "operation": "order", "count": 2}))
        .await;
    env.fault(json!({"kind": "error-500", "operation": "orderCancel"}))
        .await;
    env.fault(json!({"kind": "status-429", "operation": "orderCancel", "retry_after_ms": 20}))
        .await;
    let done = env.client.apply(SHOP, &cancel(5001), "c").await.unwrap();
    assert!(done.is_done(), "{done:?}");
    assert_eq!(env.applied("orderCancel").await.len(), 1);
    assert_eq!(env.running.emulator.stats().faults, 4);
}

#[tokio::test]
async fn a_dropped_connection_before_apply_is_retried() {
    let env = env().await;
    env.fault(json!({"kind": "reset", "operation": "fulfillmentOrderHold", "count": 2}))
        .await;
    assert!(
        env.client
            .apply(SHOP, &hold(5002, "h"), "k")
            .await
            .unwrap()
            .is_done()
    );
    assert_eq!(env.applied("fulfillmentOrderHold").await.len(), 1);
}

#[tokio::test]
async fn a_slow_answer_that_times_out_is_not_applied_twice() {
    let mut config = fast_client_config();
    config.request_timeout = Duration::from_millis(300);
    let env = env_with(Default::default(), config).await;
    // Shopify takes longer than our timeout, but does cancel the order.
    env.fault(json!({"kind": "slow", "operation": "orderCancel", "delay_ms": 600}))
        .await;
    let result = env.client.apply(SHOP, &cancel(5001), "slow").await.unwrap();
    assert!(result.is_done(), "{result:?}");
    // Wait until the slow request has ended on the server (answered late,
    // or cut off when the client went away): then nothing more can apply.
    let emu = &env.running.emulator;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while emu.stats().ended < emu.stats().requests {
        assert!(
            std::time::Instant::now() < deadline,
            "a request never ended: {:?}",
            emu.stats()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(emu.stats().requests >= 2, "retried after the timeout");
    assert_eq!(env.applied("orderCancel").await.len(), 1);
}

#[tokio::test]
async fn persistent_server_errors_end_as_a_transient_error() {
    let env = env().await;
    env.fault(json!({"kind": "error-500", "count": 100})).await;
    let err = env
        .client
        .apply(SHOP, &cancel(5001), "c")
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(err.code(), "unavailable");
    assert!(env.applied("orderCancel").await.is_empty());
}

#[tokio::test]
async fn a_wrong_token_is_a_clear_permanent_error_and_applies_nothing() {
    let env = env().await;
    let client = env.client_with(fast_client_config(), "shpat_wrong_token_123");
    let err = client.apply(SHOP, &cancel(5001), "c").await.unwrap_err();
    assert!(
        matches!(err, Error::AccessDenied { status: 401, .. }),
        "{err}"
    );
    assert!(err.is_permanent());
    let message = err.to_string();
    assert!(
        message.contains("rejected the access token for `demo.myshopify.com`"),
        "{message}"
    );
    assert!(
        !message.contains("shpat_wrong_token_123"),
        "the token leaked: {message}"
    );
    assert!(!format!("{err:?}").contains("shpat_wrong_token_123"));
    assert!(env.running.emulator.mutations(None, None).is_empty());
    assert_eq!(
        env.running.emulator.stats().unauthorized,
        1,
        "a 401 is not retried"
    );
}

#[tokio::test]
async fn an_unregistered_shop_and_a_bad_config_are_permanent() {
    let env = env().await;
    let err = env
        .client
        .apply("other.myshopify.com", &cancel(5001), "c")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UnknownShop { .. }) && err.is_permanent(),
        "{err}"
    );

    let client = ShopifyClient::new(fast_client_config()).unwrap();
    let err = client
        .add_shop(ShopConfig::new(
            "demo.myshopify.com",
            "july",
            Secret::new("t"),
        ))
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err}");
    let err = env.client.apply(SHOP, &cancel(5001), "").await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    // Nothing listens on the port of a stopped emulator.
    let env = env().await;
    let base = env.running.base_url();
    env.running.shutdown().await.unwrap();
    let client = ShopifyClient::new(fast_client_config()).unwrap();
    client
        .add_shop(ShopConfig::new(SHOP, VERSION, Secret::new("t")).with_base_url(base))
        .unwrap();
    let err = client.apply(SHOP, &cancel(5001), "c").await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(err.code(), "transport");
}

/// `router` served on a loopback port; its base URL.
async fn serve(router: axum::Router) -> url::Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    url::Url::parse(&format!("http://{addr}/")).unwrap()
}

#[tokio::test]
async fn a_redirect_is_a_permanent_error_and_the_token_never_follows_it() {
    use std::sync::{Arc, Mutex};

    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::IntoResponse;

    // Elsewhere: records the token of every request that reaches it.
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let record = seen.clone();
    let elsewhere = serve(axum::Router::new().fallback(move |h: HeaderMap| {
        let record = record.clone();
        async move {
            let token = h
                .get("x-shopify-access-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            record.lock().unwrap().push(token);
            axum::Json(json!({"data": {}}))
        }
    }))
    .await;
    for status in [301, 302, 303, 307, 308] {
        let target = elsewhere.to_string();
        let redirecting = serve(axum::Router::new().fallback(move || {
            let target = target.clone();
            async move {
                (
                    StatusCode::from_u16(status).unwrap(),
                    [(header::LOCATION, target)],
                )
                    .into_response()
            }
        }))
        .await;
        let client = ShopifyClient::new(fast_client_config()).unwrap();
        client
            .add_shop(
                ShopConfig::new(SHOP, VERSION, Secret::new("shpat_secret_token"))
                    .with_base_url(redirecting),
            )
            .unwrap();
        let result = client.apply(SHOP, &cancel(5001), "c").await;
        assert_eq!(
            *seen.lock().unwrap(),
            Vec::<Option<String>>::new(),
            "{status}: a request followed the redirect (with the token?)"
        );
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::Redirected { status: s, .. } if s == status),
            "{status}: {err}"
        );
        assert!(err.is_permanent(), "{err}");
        assert_eq!(err.code(), "redirected");
        let message = err.to_string();
        assert!(
            message.contains(&format!("redirect (HTTP {status})"))
                && message.contains("not followed"),
            "{message}"
        );
        assert!(!message.contains("shpat_secret_token"), "{message}");
    }
}

/// An answer with `X-Shopify-API-Deprecated-Reason` is used as usual, and
/// the deprecation is remembered once per shop and operation (and logged
/// once), with Shopify's reason.
#[tokio::test]
async fn a_deprecated_answer_is_noted_once_per_operation() {
    let env = env().await;
    assert!(env.client.deprecations().is_empty());
    env.fault(json!({"kind": "deprecated", "operation": "tagsAdd", "count": 2}))
        .await;
    for key in ["d1", "d2"] {
        let op = ShopifyOperation::TagsAdd(shopcase_contract::action::TagsChange {
            target: Target::Order(5001),
            tags: vec![format!("t-{key}")],
        });
        assert!(env.client.apply(SHOP, &op, key).await.unwrap().is_done());
    }
    assert_eq!(
        env.client.deprecations(),
        [(
            SHOP.to_owned(),
            "tagsAdd",
            shopcase_shopify_emulator::DEPRECATED_REASON.to_owned()
        )]
    );
    assert_eq!(env.applied("tagsAdd").await.len(), 2);
}
