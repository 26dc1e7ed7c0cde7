//! Per-store installations through the API: settings checked against the
//! manifest (errors name the setting), version pinning, and the effect on
//! the event flow: enabled → the plugin gets the store's events, disabled
//! → it stops.

use std::sync::Arc;

use serde_json::json;
use shopcase_store::{ApiRole, DispatchStatus};

use crate::support::*;

const INST: &str = "/stores/a.myshopify.com/installations/fraud";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_versions_are_checked_against_the_manifest() {
    let host = Host::new();
    host.add_plugin("fraud", "1.0.0");
    host.add_plugin("fraud", "1.2.0");
    let r = host.start(Arc::new(SwitchExecutor::default())).await;
    let op = r.token("ops", ApiRole::Operator, &[]).await;
    let enable = |body: serde_json::Value| {
        let (r, op) = (&r, op.clone());
        async move {
            r.call(Some(&op), "POST", &format!("{INST}/enable"), Some(body))
                .await
        }
    };

    let refused = [
        (
            json!({"settings": {"threshold": 101}}),
            422,
            "invalid-setting",
            "setting `threshold`: 101 is more than the maximum 100",
        ),
        (
            json!({"settings": {"threshold": "high"}}),
            422,
            "invalid-setting",
            "setting `threshold`:",
        ),
        (
            json!({"settings": {"thresold": 5}}),
            422,
            "invalid-setting",
            "setting `thresold`: plugin `fraud` has no such setting (it has: mode, tags, threshold)",
        ),
        (
            json!({"settings": {"mode": "shout"}}),
            422,
            "invalid-setting",
            "setting `mode`:",
        ),
        (
            json!({"settings": {"tags": "VIP"}}),
            422,
            "invalid-setting",
            "setting `tags`:",
        ),
        (
            json!({"version": "9.9.9"}),
            404,
            "unknown-version",
            "has no packaged version 9.9.9 (available: 1.0.0, 1.2.0)",
        ),
        (
            json!({"settings": [1]}),
            400,
            "invalid-json",
            "expected a map",
        ),
    ];
    for (body, status, code, message) in refused {
        let a = enable(body.clone()).await;
        assert_eq!(
            (a.status, a.json["error"].as_str()),
            (status, Some(code)),
            "{body}: {}",
            a.text
        );
        assert!(
            a.json["message"].as_str().unwrap().contains(message),
            "{body}: {}",
            a.text
        );
    }
    let a = r
        .call(
            Some(&op),
            "POST",
            "/stores/a.myshopify.com/installations/nope/enable",
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (a.status, a.json["error"].as_str()),
        (404, Some("unknown-plugin"))
    );
    let a = r
        .call(
            Some(&op),
            "POST",
            "/stores/c.myshopify.com/installations/fraud/enable",
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (a.status, a.json["error"].as_str()),
        (404, Some("unknown-store"))
    );
    assert!(
        !a.text.contains(SHOP_B),
        "other stores are not listed: {}",
        a.text
    );
    assert!(
        r.storage.installations(None).await.unwrap().is_empty(),
        "nothing written on refusal"
    );

    // The newest version by default, settings in their types.
    let a = enable(json!({"settings": {"threshold": 75, "tags": ["VIP", "Gold"]}})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["version"], "1.2.0");
    assert_eq!(
        a.json["settings"],
        json!({"threshold": 75, "tags": ["VIP", "Gold"]})
    );
    assert_eq!(
        a.json["effective_settings"],
        json!({"threshold": 75, "tags": ["VIP", "Gold"], "mode": "tag"})
    );
    assert!(
        a.json["enabled_by"]
            .as_str()
            .unwrap()
            .starts_with("ops (token tok_")
    );

    // Pin the older version; change and reset settings.
    let a = r
        .call(
            Some(&op),
            "PATCH",
            INST,
            Some(json!({"version": "1.0.0", "settings": {"mode": "case"}, "unset": ["tags"]})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["version"], "1.0.0");
    assert_eq!(a.json["settings"], json!({"threshold": 75, "mode": "case"}));
    let a = r
        .call(
            Some(&op),
            "PATCH",
            INST,
            Some(json!({"settings": {"threshold": -1}})),
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(
        a.json["message"]
            .as_str()
            .unwrap()
            .contains("setting `threshold`: -1 is less than the minimum 0"),
        "{}",
        a.text
    );
    let a = r.call(Some(&op), "PATCH", INST, Some(json!({}))).await;
    assert_eq!(
        (a.status, a.json["error"].as_str()),
        (400, Some("invalid-request"))
    );

    // Each change audited: who, before and after.
    let log = r.storage.audit_log(Some(SHOP_A), 10).await.unwrap();
    let changes: Vec<_> = log
        .iter()
        .filter(|e| e.entry.action.starts_with("installation."))
        .collect();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[0].entry.action, "installation.set");
    assert!(changes[0].entry.actor.starts_with("ops (token tok_"));
    assert_eq!(changes[0].entry.details["before"]["version"], "1.2.0");
    assert_eq!(changes[0].entry.details["version"], "1.0.0");
    assert_eq!(changes[1].entry.action, "installation.enable");
    assert_eq!(changes[1].entry.details["before"], serde_json::Value::Null);

    // What the CLI lists is what the API wrote (one code path).
    let listed = shopcase_admin::Admin::new(r.storage.clone(), &host.config())
        .list()
        .await
        .unwrap();
    assert_eq!(listed[0].installations[0].installation.version, "1.0.0");
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enabled_plugins_get_the_stores_events_and_disabled_ones_stop() {
    let host = Host::new();
    host.add_plugin("tagger", "1.0.0");
    let r = host.start(Arc::new(SwitchExecutor::default())).await;
    let admin_a = r.token("a-admin", ApiRole::StoreAdmin, &[SHOP_A]).await;
    let inst = "/stores/a.myshopify.com/installations/tagger";

    // Not enabled: the event is stored, no plugin runs.
    let e0 = r.order(SHOP_A, "w0", 1000, "ok").await;
    r.done(&e0).await;
    assert!(r.storage.dispatch_rows(&e0).await.unwrap().is_empty());

    let a = r
        .call(
            Some(&admin_a),
            "POST",
            &format!("{inst}/enable"),
            Some(json!({})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let e1 = r.order(SHOP_A, "w1", 1001, "ok").await;
    r.done(&e1).await;
    let d = r.get(&admin_a, &format!("/events/{e1}")).await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.json["event"]["resources"]["order_id"], 1001);
    assert_eq!(d.json["payload"]["tags"], "do:ok");
    let runs = d.json["plugins"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["plugin_id"], "tagger");
    assert_eq!(runs[0]["status"], "done");
    assert_eq!(runs[0]["actions"], 1);
    assert_eq!(runs[0]["journal"][0]["kind"], "tags-add");
    assert_eq!(runs[0]["journal"][0]["key"], format!("{e1}:tagger:0"));
    // An event of store B does not go to A's plugin.
    let eb = r.order(SHOP_B, "wb", 2001, "ok").await;
    r.done(&eb).await;
    assert!(r.storage.dispatch_rows(&eb).await.unwrap().is_empty());

    let a = r
        .call(Some(&admin_a), "POST", &format!("{inst}/disable"), None)
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["enabled"], false);
    let e2 = r.order(SHOP_A, "w2", 1002, "ok").await;
    r.done(&e2).await;
    assert!(
        r.storage.dispatch_rows(&e2).await.unwrap().is_empty(),
        "a disabled plugin gets no events"
    );
    assert_eq!(
        r.get(&admin_a, &format!("/events/{e2}")).await.json["plugins"],
        json!([])
    );

    let a = r
        .call(
            Some(&admin_a),
            "POST",
            &format!("{inst}/enable"),
            Some(json!({})),
        )
        .await;
    assert_eq!(a.status, 200);
    let e3 = r.order(SHOP_A, "w3", 1003, "ok").await;
    r.done(&e3).await;
    let rows = r.storage.dispatch_rows(&e3).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, DispatchStatus::Done);

    // Search: by order, topic, status, time; newest first; paging.
    let a = r.get(&admin_a, "/events?order=1001").await;
    let ids: Vec<_> = a.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [e1.as_str()]);
    let a = r
        .get(&admin_a, "/events?topic=orders/create&status=done")
        .await;
    assert_eq!(a.json["events"].as_array().unwrap().len(), 4, "{}", a.text);
    assert_eq!(a.json["events"][0]["id"], e3.as_str());
    assert!(
        a.json["events"][0].get("payload").is_none(),
        "no payloads in listings"
    );
    let page = r.get(&admin_a, "/events?limit=3").await;
    assert_eq!(page.json["events"].as_array().unwrap().len(), 3);
    let next = page.json["next_before"].as_i64().unwrap();
    let rest = r.get(&admin_a, &format!("/events?before={next}")).await;
    let ids: Vec<_> = rest.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [e0.as_str()]);
    assert_eq!(rest.json["next_before"], serde_json::Value::Null);
    let a = r.get(&admin_a, "/events?from=2999-01-01T00:00:00Z").await;
    assert_eq!(a.json["events"], json!([]));
    let a = r
        .get(&admin_a, "/events?until=2999-01-01T00:00:00Z&order=1003")
        .await;
    assert_eq!(a.json["events"][0]["id"], e3.as_str());

    // The journal.
    let a = r
        .get(&admin_a, "/journal?plugin=tagger&family=shopify")
        .await;
    assert_eq!(a.json["entries"].as_array().unwrap().len(), 2, "{}", a.text);
    let a = r.get(&admin_a, &format!("/journal/{e1}:tagger:0")).await;
    assert_eq!(a.json["action"]["kind"], "tags-add", "{}", a.text);
    assert_eq!(a.json["action"]["tags"], json!(["ok"]), "{}", a.text);
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_content_is_shown_then_approved_by_the_stores_own_admins() {
    let host = Host::new();
    host.add_plugin("fraud", "1.0.0");
    let r = host.start(Arc::new(SwitchExecutor::default())).await;
    let op = r.token("ops", ApiRole::Operator, &[]).await;
    let admin_a = r.token("a-admin", ApiRole::StoreAdmin, &[SHOP_A]).await;
    let auditor = r.token("sec", ApiRole::Auditor, &[]).await;
    let inst_b = "/stores/b.myshopify.com/installations/fraud";
    for path in [INST, inst_b] {
        let a = r
            .call(
                Some(&op),
                "POST",
                &format!("{path}/enable"),
                Some(json!({})),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
        assert_eq!(a.json["approval"]["state"], "approved");
        assert!(
            a.json["approved"]["by"]
                .as_str()
                .unwrap()
                .starts_with("ops (token"),
            "{}",
            a.text
        );
    }

    // The same version rebuilt on disk to see card details.
    let manifest = host.dir.path().join("plugins/fraud/1.0.0/plugin.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace(
            "host = [\"log\", \"kv\"]",
            "host = [\"log\", \"kv\"]\ndata = [\"payment-details\"]",
        ),
    )
    .unwrap();

    // The difference is shown before anyone approves.
    let listed = r.get(&admin_a, "/stores").await;
    let a = &listed.json["stores"][0]["installations"][0];
    assert_eq!(a["approval"]["state"], "pending", "{}", listed.text);
    assert_eq!(
        a["approval"]["summary"],
        "pending — grants added: data payment-details"
    );
    assert_eq!(
        a["approval"]["grants_added"],
        json!(["data payment-details"])
    );

    // Who may approve: not an auditor, not another store's admin.
    let a = r
        .call(Some(&auditor), "POST", &format!("{INST}/approve"), None)
        .await;
    assert_eq!(
        (a.status, a.json["error"].as_str()),
        (403, Some("forbidden"))
    );
    let a = r
        .call(Some(&admin_a), "POST", &format!("{inst_b}/approve"), None)
        .await;
    assert_eq!(
        (a.status, a.json["error"].as_str()),
        (404, Some("not-found"))
    );

    let a = r
        .call(Some(&admin_a), "POST", &format!("{INST}/approve"), None)
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["grants_added"], json!(["data payment-details"]));
    assert_eq!(a.json["grants_removed"], json!([]));
    assert_eq!(a.json["installation"]["approval"]["state"], "approved");
    assert_ne!(
        a.json["before"]["sha256"],
        serde_json::Value::Null,
        "the approval replaced"
    );
    assert!(
        a.json["installation"]["approved"]["grants"]
            .as_array()
            .unwrap()
            .contains(&json!("data payment-details"))
    );
    let again = r
        .call(Some(&admin_a), "POST", &format!("{INST}/approve"), None)
        .await;
    assert_eq!(
        (again.status, again.json["error"].as_str()),
        (409, Some("already-approved"))
    );
    // Store B did not approve: still pending.
    let b = r.get(&op, inst_b).await;
    assert_eq!(b.json["approval"]["state"], "pending");

    let audit = r.get(&op, "/audit?shop=a.myshopify.com").await;
    let approve = audit.json["audit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "installation.approve")
        .cloned()
        .expect("audited");
    assert!(
        approve["actor"]
            .as_str()
            .unwrap()
            .starts_with("a-admin (token"),
        "{approve}"
    );
    assert_eq!(
        approve["details"]["grants_added"],
        json!(["data payment-details"])
    );
    r.shutdown().await;
}

/// A service a store's calls wait for is on its store view, for its own
/// admins only, and gone once the service answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_view_says_which_services_its_calls_wait_for() {
    use shopcase_pipeline::breaker::{Outcome, Service};
    let host = Host::new();
    let r = host.start(Arc::new(SwitchExecutor::default())).await;
    let admin_a = r.token("a-admin", ApiRole::StoreAdmin, &[SHOP_A]).await;
    let admin_b = r.token("b-admin", ApiRole::StoreAdmin, &[SHOP_B]).await;
    let upstreams = |a: &Answer| a.json["upstreams"].as_array().cloned().unwrap();
    let a = r.get(&admin_a, &format!("/stores/{SHOP_A}")).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert!(
        upstreams(&a).is_empty(),
        "every service answers: {}",
        a.text
    );

    // Shopify stops answering for store A; Core Case refuses B's credentials.
    for _ in 0..r.breakers.threshold() {
        r.breakers.record(
            SHOP_A,
            Service::Shopify,
            &Outcome::Unavailable("Shopify answered 503 to tagsAdd".into()),
        );
    }
    r.breakers.record(
        SHOP_B,
        Service::CoreCase,
        &Outcome::CredentialsRefused("Core Case refused the client credentials (401)".into()),
    );
    let a = r.get(&admin_a, &format!("/stores/{SHOP_A}")).await;
    let mut held = upstreams(&a);
    assert_eq!(held.len(), 1, "{}", a.text);
    // Open, or half-open once its (test-short) cool-down has passed.
    let state = held[0]["state"].take();
    assert!(state == "open" || state == "half-open", "{state}");
    assert_eq!(
        held[0],
        json!({
            "shop": SHOP_A, "service": "shopify", "state": null,
            "failures": r.breakers.threshold(),
            "last_error": "Shopify answered 503 to tagsAdd"
        })
    );
    let b = r.get(&admin_b, &format!("/stores/{SHOP_B}")).await;
    assert_eq!(upstreams(&b).len(), 1);
    assert_eq!(b.json["upstreams"][0]["service"], "core-case");
    assert_eq!(b.json["upstreams"][0]["state"], "credentials-refused");
    // Each store admin sees their own store's only.
    let listed = r.get(&admin_b, "/stores").await;
    assert!(!listed.text.contains("tagsAdd"), "{}", listed.text);
    assert_eq!(listed.json["stores"].as_array().unwrap().len(), 1);

    // Shopify answers again: nothing waits.
    r.breakers
        .record(SHOP_A, Service::Shopify, &Outcome::Answered);
    let a = r.get(&admin_a, &format!("/stores/{SHOP_A}")).await;
    assert!(upstreams(&a).is_empty(), "{}", a.text);
    r.shutdown().await;
}
