//! The dispatcher with real plugins: per-store isolation, subscriptions,
//! minimisation, retries, dead letters, quarantine, key-value concurrency.

use std::sync::Arc;

use serde_json::{Value, json};
use shopcase_admin::SetRequest;
use shopcase_contract::Action;
use shopcase_contract::action::ShopifyOperation;
use shopcase_store::{DispatchStatus, Storage};

use crate::support::*;

async fn send(running: &shopcase_pipeline::RunningPipeline, d: &Delivery) -> String {
    let (status, body) = post(&reqwest::Client::new(), &running.webhook_url(), d).await;
    assert_eq!(status, 200, "{body}");
    body["event_id"].as_str().unwrap().to_owned()
}

fn tags(storage_entries: &[shopcase_store::JournalEntry]) -> Vec<String> {
    storage_entries
        .iter()
        .filter_map(|e| match &e.action {
            Action::Shopify(ShopifyOperation::TagsAdd(t)) => Some(t.tags.join(",")),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_enabled_for_one_store_sees_nothing_of_another() {
    let host = Host::new(2);
    host.add_plugin(&PluginSpec::new("tagger"));
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[]).await;

    let a = send(
        &running,
        &Delivery::order(SHOP_A, SECRET_A, "w-a", order(1001, "ok")),
    )
    .await;
    let b = send(
        &running,
        &Delivery::order(SHOP_B, SECRET_B, "w-b", order(2002, "ok")),
    )
    .await;
    eventually("both events dispatched", || async {
        is_done(&s, &a).await && is_done(&s, &b).await
    })
    .await;

    let ja = s.journal_for_event(&a).await.unwrap();
    assert_eq!(ja.len(), 1);
    assert_eq!(ja[0].key, format!("{a}:tagger:0"));
    assert_eq!(ja[0].shop, SHOP_A);
    assert_eq!(tags(&ja), ["ok"]);
    assert!(s.journal_for_event(&b).await.unwrap().is_empty());
    assert!(
        s.dispatch_rows(&b).await.unwrap().is_empty(),
        "no row: the plugin was never planned for B"
    );
    // Metrics are counted just after the results commit; shutdown drains
    // the workers, so the count is final afterwards.
    let metrics = running.metrics().clone();
    running.shutdown().await.unwrap();
    assert_eq!(metrics.plugin_runs("tagger", "ok"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_get_only_their_topics_and_disabled_plugins_nothing() {
    let host = Host::new(2);
    host.add_plugin(&PluginSpec::new("tagger"));
    host.add_plugin(&PluginSpec {
        topics: &["orders/paid"],
        ..PluginSpec::new("payments")
    });
    host.add_plugin(&PluginSpec::new("off"));
    let running = host.start().await;
    let s = running.storage().clone();
    for p in ["tagger", "payments", "off"] {
        host.enable(&s, SHOP_A, p, &[]).await;
    }
    shopcase_admin::Admin::new(s.clone(), &host.config())
        .disable(SHOP_A, "off", "test@example.com")
        .await
        .unwrap();
    let e = send(
        &running,
        &Delivery::order(SHOP_A, SECRET_A, "w-1", order(1, "ok")),
    )
    .await;
    eventually("dispatched", || is_done(&s, &e)).await;
    let rows = s.dispatch_rows(&e).await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r.plugin_id.as_str())
            .collect::<Vec<_>>(),
        ["tagger"]
    );
    assert_eq!(
        running.metrics().plugin_runs("payments", "ok")
            + running.metrics().plugin_runs("off", "ok"),
        0
    );
    running.shutdown().await.unwrap();
}

/// The fuel a plugin used on an event (from its dispatch row's budget).
async fn fuel(s: &Arc<dyn Storage>, event: &str, plugin: &str) -> u64 {
    let rows = s.dispatch_rows(event).await.unwrap();
    let row = rows.iter().find(|r| r.plugin_id == plugin).unwrap();
    assert_eq!(row.status, DispatchStatus::Done);
    row.budget.as_ref().unwrap()["fuel"]["used"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plugins_see_only_the_data_classes_they_are_granted() {
    let host = Host::new(2);
    host.add_plugin(&PluginSpec::new("sees-nothing"));
    host.add_plugin(&PluginSpec {
        data: &[
            "customer-contact",
            "address",
            "client-details",
            "payment-details",
        ],
        ..PluginSpec::new("sees-all")
    });
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "sees-nothing", &[]).await;
    host.enable(&s, SHOP_A, "sees-all", &[]).await;

    // The same order twice: with a lot of personal data, and without it.
    let plain = order(1, "ok");
    let mut personal = plain.clone();
    let big = "x".repeat(20_000);
    personal["email"] = json!(format!("{big}@example.com"));
    personal["shipping_address"] = json!({"address1": big, "name": big});
    personal["browser_ip"] = json!("203.0.113.7");
    let with = send(
        &running,
        &Delivery::order(SHOP_A, SECRET_A, "w-personal", personal),
    )
    .await;
    let without = send(
        &running,
        &Delivery::order(SHOP_A, SECRET_A, "w-plain", plain),
    )
    .await;
    eventually("both dispatched", || async {
        is_done(&s, &with).await && is_done(&s, &without).await
    })
    .await;

    // Plugins are deterministic and fuel counts every instruction: a plugin
    // granted nothing did exactly the same work as if the data had never
    // been there, while one granted everything parsed 60 KB more.
    assert_eq!(
        fuel(&s, &with, "sees-nothing").await,
        fuel(&s, &without, "sees-nothing").await
    );
    assert!(fuel(&s, &with, "sees-all").await > fuel(&s, &without, "sees-all").await + 60_000);
    // What is stored is what Shopify sent; minimisation is per plugin.
    assert!(
        s.event(&with)
            .await
            .unwrap()
            .unwrap()
            .event
            .payload
            .contains("203.0.113.7")
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_retry_dead_letter_and_quarantine_per_plugin_while_others_go_on() {
    let host = Host::new(2);
    host.add_plugin(&PluginSpec::new("tagger"));
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[]).await;

    // Retryable plugin error: 3 attempts (max-attempts), then a dead letter.
    let e1 = send(
        &running,
        &Delivery::order(SHOP_A, SECRET_A, "w-1", order(1, "plugin-error")),
    )
    .await;
    eventually("the retries end", || is_done(&s, &e1)).await;
    let row = &s.dispatch_rows(&e1).await.unwrap()[0];
    assert_eq!((row.status, row.attempts), (DispatchStatus::Dead, 3));
    assert_eq!(row.last_failure.as_ref().unwrap().kind, "plugin-error");
    let metrics = running.metrics().clone();
    eventually("the failed runs are counted", || async {
        metrics.plugin_runs("tagger", "plugin-error") == 3
    })
    .await;

    // A trap is not retried; it is the second dead letter in a row: quarantine.
    let e2 = send(
        &running,
        &Delivery::order(SHOP_A, SECRET_A, "w-2", order(2, "panic")),
    )
    .await;
    eventually("dead-lettered", || is_done(&s, &e2)).await;
    let row = &s.dispatch_rows(&e2).await.unwrap()[0];
    assert_eq!((row.status, row.attempts), (DispatchStatus::Dead, 1));
    assert_eq!(row.last_failure.as_ref().unwrap().kind, "trap");
    let letters = s.dead_letters(Some(SHOP_A), true, 10).await.unwrap();
    assert_eq!(letters.len(), 2);
    let inst = s.installation(SHOP_A, "tagger").await.unwrap().unwrap();
    let reason = inst.quarantine.expect("quarantined").reason;
    assert!(
        reason.contains("2 dead-lettered runs in a row") && reason.contains("trap"),
        "{reason}"
    );

    // Quarantined for A: A's new event is held for it, not run. B has its
    // own installation and is unaffected.
    host.enable(&s, SHOP_B, "tagger", &[]).await;
    let e3 = send(
        &running,
        &Delivery::order(SHOP_A, SECRET_A, "w-3", order(3, "ok")),
    )
    .await;
    let e4 = send(
        &running,
        &Delivery::order(SHOP_B, SECRET_B, "w-4", order(4, "ok")),
    )
    .await;
    eventually("settled", || async {
        is_done(&s, &e3).await && is_done(&s, &e4).await
    })
    .await;
    assert_eq!(
        s.dispatch_rows(&e3).await.unwrap()[0].status,
        DispatchStatus::Held
    );
    assert_eq!(s.journal_for_event(&e4).await.unwrap().len(), 1);

    // Lifting the quarantine runs the held event.
    shopcase_admin::Admin::new(s.clone(), &host.config())
        .set(SetRequest {
            shop: SHOP_A.into(),
            plugin: "tagger".into(),
            unquarantine: true,
            actor: "ops@example.com".into(),
            ..SetRequest::default()
        })
        .await
        .unwrap();
    eventually("the held run is journalled", || async {
        s.journal_for_event(&e3).await.unwrap().len() == 1
    })
    .await;
    assert!(
        s.installation(SHOP_A, "tagger")
            .await
            .unwrap()
            .unwrap()
            .quarantine
            .is_none()
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_runs_keep_the_key_value_store_consistent() {
    let host = Host::with_config(&config_text("workers = 4"));
    host.add_plugin(&PluginSpec::new("counter"));
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "counter", &[]).await;
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..12u64 {
        let (_, b) = post(
            &client,
            &running.webhook_url(),
            &Delivery::order(
                SHOP_A,
                SECRET_A,
                &format!("w-{i}"),
                order(100 + i, "kv-counter"),
            ),
        )
        .await;
        ids.push(b["event_id"].as_str().unwrap().to_owned());
    }
    eventually("all counted", || async {
        for id in &ids {
            if !is_done(&s, id).await {
                return false;
            }
        }
        true
    })
    .await;
    let now = shopcase_contract::time::Timestamp::now();
    let v = s
        .kv_get(SHOP_A, "counter", "counter", now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v.value, "12", "every increment applied exactly once");
    let mut seen: Vec<String> = Vec::new();
    for id in &ids {
        seen.extend(tags(&s.journal_for_event(id).await.unwrap()));
    }
    seen.sort_by_key(|t| t.trim_start_matches("count-").parse::<u32>().unwrap_or(0));
    let want: Vec<String> = (1..=12).map(|n| format!("count-{n}")).collect();
    assert_eq!(seen, want, "each event saw its own count");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_and_versions_come_from_the_installation() {
    let host = Host::new(2);
    host.add_plugin(&PluginSpec {
        settings: "[settings.threshold]\ntype = \"integer\"\ndefault = 60\nmin = 0\nmax = 100\n",
        ..PluginSpec::new("tagger")
    });
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[("threshold", "75")])
        .await;
    let e = send(
        &running,
        &Delivery::order(SHOP_A, SECRET_A, "w-1", order(1, "ok")),
    )
    .await;
    eventually("dispatched", || is_done(&s, &e)).await;
    let row = &s.dispatch_rows(&e).await.unwrap()[0];
    assert_eq!(row.plugin_version, "1.0.0");
    let listed = shopcase_admin::Admin::new(s.clone(), &host.config())
        .list()
        .await
        .unwrap();
    let a = listed.iter().find(|v| v.domain == SHOP_A).unwrap();
    let eff = a.installations[0].effective_settings.as_ref().unwrap();
    assert_eq!(serde_json::to_value(eff).unwrap(), json!({"threshold": 75}));
    let _: Value = serde_json::to_value(&listed).unwrap();
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_events_go_to_the_subscribed_plugins_of_their_store_only() {
    let host = Host::new(2);
    host.add_plugin(&PluginSpec {
        topics: &["orders/create", "corecase/case-updated"],
        ..PluginSpec::new("cases")
    });
    host.add_plugin(&PluginSpec::new("bystander"));
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "cases", &[]).await;
    host.enable(&s, SHOP_A, "bystander", &[]).await;
    host.enable(&s, SHOP_B, "cases", &[]).await;

    // What the Core Case poller submits when it sees a case change.
    let event = shopcase_store::NewEvent {
        shop: SHOP_A.into(),
        topic: shopcase_contract::event::TOPIC_CASE_UPDATED.into(),
        source: shopcase_store::EventSource::CoreCase,
        dedupe_key: "corecase:c-1:2026-11-26T12:00:00.000+0000".into(),
        shopify_event_id: None,
        api_version: shopcase_contract::event::HOST_PAYLOAD_VERSION.into(),
        triggered_at: shopcase_contract::time::Timestamp::now(),
        received_at: shopcase_contract::time::Timestamp::now(),
        resources: shopcase_contract::Resources {
            order_id: Some(5001),
            case_id: Some("c-1".into()),
            ..Default::default()
        },
        payload: json!({"case": {"id": "c-1", "case_type": "hostile", "status": "approved"},
                   "resources": {"order_id": 5001}})
        .to_string(),
        target_plugin: None,
        status: shopcase_store::EventStatus::Pending,
        body_sha256: None,
    };
    let producer = running.producer();
    let shopcase_store::Inserted::New { event_id } = producer.submit(event.clone()).await.unwrap()
    else {
        panic!("new")
    };
    assert!(matches!(
        producer.submit(event).await.unwrap(),
        shopcase_store::Inserted::Duplicate { .. }
    ));
    eventually("dispatched", || is_done(&s, &event_id)).await;
    let rows = s.dispatch_rows(&event_id).await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| (r.plugin_id.as_str(), r.shop.as_str()))
            .collect::<Vec<_>>(),
        [("cases", SHOP_A)]
    );
    assert_eq!(tags(&s.journal_for_event(&event_id).await.unwrap()), ["ok"]);
    running.shutdown().await.unwrap();
}

/// Customer history that answers slowly and counts its calls.
#[derive(Debug, Default)]
struct SlowHistory {
    calls: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl shopcase_pipeline::CustomerHistorySource for SlowHistory {
    async fn customer_history(
        &self,
        _shop: &str,
        customer_id: u64,
    ) -> Result<shopcase_contract::host_api::CustomerHistory, shopcase_sandbox::HostError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(900)).await;
        Ok(shopcase_contract::host_api::CustomerHistory {
            customer_id,
            number_of_orders: 3,
            amount_spent: "10.00".into(),
            currency: "EUR".into(),
            tags: vec![],
            created_at: "2026-01-01T00:00:00Z".into(),
            recent_orders: vec![],
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_longer_than_its_lease_is_not_claimed_twice() {
    // Each run waits 900 ms on a host call; the lease is 600 ms. Without
    // renewal the second worker would re-claim and run the events again.
    let host = Host::with_config(
        &config_text("workers = 2\n")
            .replace("deadline = \"500ms\"", "deadline = \"200ms\"")
            // The first `lease` is the dispatcher's (the executor's follows).
            .replacen("lease = \"2s\"", "lease = \"600ms\"", 1),
    );
    assert_eq!(
        host.config().dispatcher.lease,
        std::time::Duration::from_millis(600)
    );
    let history = Arc::new(SlowHistory::default());
    let (running, ids) = historian_runs(&host, history.clone(), 6, 5000, "history").await;
    let s = running.storage().clone();
    for id in &ids {
        let e = s.event(id).await.unwrap().unwrap();
        assert_eq!(e.claims, 1, "claimed once: {id}");
        assert!(
            tags(&s.journal_for_event(id).await.unwrap())[0].starts_with("orders-3,"),
            "{id}"
        );
    }
    assert_eq!(
        history.calls.load(std::sync::atomic::Ordering::SeqCst),
        ids.len(),
        "each event ran once"
    );
    running.shutdown().await.unwrap();
}

/// Shopify's customer endpoint down for the first `down_for` calls.
#[derive(Debug)]
struct Outage {
    calls: std::sync::atomic::AtomicU32,
    down_for: u32,
}

#[async_trait::async_trait]
impl shopcase_pipeline::CustomerHistorySource for Outage {
    async fn customer_history(
        &self,
        _shop: &str,
        customer_id: u64,
    ) -> Result<shopcase_contract::host_api::CustomerHistory, shopcase_sandbox::HostError> {
        let n = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n < self.down_for {
            return Err(shopcase_sandbox::HostError::Unavailable(
                "Shopify did not answer".into(),
            ));
        }
        Ok(shopcase_contract::host_api::CustomerHistory {
            customer_id,
            number_of_orders: 3,
            amount_spent: "10.00".into(),
            currency: "EUR".into(),
            tags: vec![],
            created_at: "2026-01-01T00:00:00Z".into(),
            recent_orders: vec![],
        })
    }
}

async fn history_outage(
    outage_window: &str,
    down_for: u32,
) -> (Host, shopcase_pipeline::RunningPipeline, Vec<String>) {
    // Three attempts, quarantine after two dead letters: an outage longer
    // than that used to dead-letter every run and quarantine the plugin.
    let host = Host::with_config(&config_text(&format!(
        "workers = 2\noutage-window = \"{outage_window}\"\n"
    )));
    let source = Arc::new(Outage {
        calls: Default::default(),
        down_for,
    });
    let (running, ids) = historian_runs(&host, source, 4, 6000, "needs-history").await;
    (host, running, ids)
}

/// Serve `host` with `source` as the customer history and the `historian`
/// plugin enabled for store A, post `n` orders (ids from `first`, each its
/// own customer) whose run does `what`, and wait until every one settled.
async fn historian_runs(
    host: &Host,
    source: Arc<dyn shopcase_pipeline::CustomerHistorySource>,
    n: u64,
    first: u64,
    what: &str,
) -> (shopcase_pipeline::RunningPipeline, Vec<String>) {
    host.add_plugin(&PluginSpec::new("historian"));
    let running = host.start_with(move |b| b.customer_history(source)).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "historian", &[]).await;
    let mut ids = Vec::new();
    for i in 0..n {
        let order = first + i;
        ids.push(
            send(
                &running,
                &Delivery::order(
                    SHOP_A,
                    SECRET_A,
                    &format!("w-{what}-{order}"),
                    json!({"id": order, "customer": {"id": order + 2000}, "tags": format!("do:{what}")}),
                ),
            )
            .await,
        );
    }
    eventually("every event settled", || async {
        for id in &ids {
            if !is_done(&s, id).await {
                return false;
            }
        }
        true
    })
    .await;
    (running, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_outage_is_waited_out_not_blamed_on_the_plugin() {
    // Shopify answers nothing for 20 calls: five times the attempts of
    // each of the four events.
    let (_host, running, ids) = history_outage("24h", 20).await;
    let s = running.storage().clone();
    for id in &ids {
        let rows = s.dispatch_rows(id).await.unwrap();
        assert_eq!(rows[0].status, DispatchStatus::Done, "{id}: {:?}", rows[0]);
        assert_eq!(rows[0].attempts, 0, "waiting is not an attempt");
        assert_eq!(tags(&s.journal_for_event(id).await.unwrap()), ["orders-3"]);
    }
    assert!(
        s.dead_letters(Some(SHOP_A), true, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let inst = s.installation(SHOP_A, "historian").await.unwrap().unwrap();
    assert!(inst.quarantine.is_none());
    assert_eq!(inst.consecutive_failures, 0);
    let metrics = running.metrics().clone();
    // Twenty answers from the service itself, and more from its breaker
    // while it held the calls back.
    eventually("the waits are counted apart from failures", || async {
        metrics.plugin_runs("historian", "service-unavailable") >= 20
    })
    .await;
    assert_eq!(metrics.plugin_runs("historian", "plugin-error"), 0);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_longer_than_its_window_is_dead_lettered_as_the_hosts_condition() {
    // A window of nothing: the first unavailable answer is final.
    let (_host, running, ids) = history_outage("0s", u32::MAX).await;
    let s = running.storage().clone();
    for id in &ids {
        let rows = s.dispatch_rows(id).await.unwrap();
        assert_eq!(rows[0].status, DispatchStatus::Dead);
        let failure = rows[0].last_failure.as_ref().unwrap();
        assert_eq!(failure.kind, "service-unavailable");
        assert!(
            failure.message.contains("Shopify did not answer")
                && failure.message.contains("dispatcher.outage-window"),
            "{failure:?}"
        );
    }
    assert_eq!(
        s.dead_letters(Some(SHOP_A), true, 10).await.unwrap().len(),
        4
    );
    // Four dead letters, quarantine-after = 2, and still not quarantined:
    // nothing here was the plugin's fault.
    let inst = s.installation(SHOP_A, "historian").await.unwrap().unwrap();
    assert!(inst.quarantine.is_none(), "{:?}", inst.quarantine);
    assert_eq!(inst.consecutive_failures, 0);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_update_reaches_only_the_plugins_of_its_case_type() {
    let host = Host::new(2);
    let updates: &[&str] = &["corecase/case-updated"];
    for (id, types) in [
        ("owner", &["hostile"][..]),
        ("stranger", &["other-type"][..]),
        ("status", &["*"][..]),
    ] {
        host.add_plugin(&PluginSpec {
            topics: updates,
            case_types: types,
            ..PluginSpec::new(id)
        });
    }
    let running = host.start().await;
    let s = running.storage().clone();
    for p in ["owner", "stranger", "status"] {
        host.enable(&s, SHOP_A, p, &[]).await;
    }
    // As the Core Case poller puts it in the inbox: a case of type
    // `hostile`, with its analyst's decision and a held refund.
    let payload = json!({
        "case": {"id": "c-1", "number": "CASE-000001", "case_type": "hostile",
                 "subject": {"order": 1001}, "status": "in-progress",
                 "attributes": {"decision": "refund"}},
        "tasks": [],
        "approvals": [{"task_id": "t-1", "outcome": "pending",
                       "operation": {"kind": "refund", "amount": "450.00"}}],
        "resources": {"order-id": 1001, "case-id": "c-1"}
    });
    let now = shopcase_contract::time::Timestamp::now();
    let shopcase_store::Inserted::New { event_id } = s
        .insert_event(shopcase_store::NewEvent {
            shop: SHOP_A.into(),
            topic: "corecase/case-updated".into(),
            source: shopcase_store::EventSource::CoreCase,
            dedupe_key: "corecase:c-1:1".into(),
            shopify_event_id: None,
            api_version: "2026-07".into(),
            triggered_at: now,
            received_at: now,
            resources: Default::default(),
            payload: payload.to_string(),
            target_plugin: None,
            status: shopcase_store::EventStatus::Pending,
            body_sha256: None,
        })
        .await
        .unwrap()
    else {
        panic!("new")
    };
    eventually("the update is dispatched", || is_done(&s, &event_id)).await;
    let mut got: Vec<String> = s
        .dispatch_rows(&event_id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.plugin_id)
        .collect();
    got.sort();
    assert_eq!(got, ["owner", "status"], "not the other case type's plugin");
    running.shutdown().await.unwrap();
}
