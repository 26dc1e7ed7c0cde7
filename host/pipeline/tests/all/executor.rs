//! The executor framework with a test executor, and follow-up timers end to
//! end (journal → follow-up executor → timer → `timer/fired` → plugin).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use shopcase_contract::Action;
use shopcase_contract::action::{FollowUp, ShopifyOperation, Target};
use shopcase_pipeline::{ExecError, Executor};
use shopcase_store::*;

use crate::support::*;

/// Records every call; behaves by the order the tag is for.
#[derive(Debug, Default)]
struct Recorder {
    calls: Mutex<HashMap<String, u32>>,
}

#[async_trait]
impl Executor for Recorder {
    fn family(&self) -> ActionFamily {
        ActionFamily::Shopify
    }

    async fn execute(&self, entry: &JournalEntry) -> Result<serde_json::Value, ExecError> {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            let n = calls.entry(entry.key.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let Action::Shopify(ShopifyOperation::TagsAdd(t)) = &entry.action else {
            return Err(ExecError::permanent("unexpected", "not a tags-add"));
        };
        let Target::Order(order) = t.target else {
            return Err(ExecError::permanent("unexpected", "not an order"));
        };
        match order {
            1 => Ok(json!({"applied": true})),
            2 if n < 3 => Err(ExecError::transient(
                "throttled",
                "slow down",
                Some(Duration::from_millis(5)),
            )),
            2 => Ok(json!({"applied": true, "after": n})),
            3 => Err(ExecError::permanent("user-error", "Order cannot be tagged")),
            // Down for nine calls: three times the attempts.
            5 if n < 10 => Err(ExecError::transient("unavailable", "503", None)),
            5 => Ok(json!({"applied": true, "after": n})),
            _ => Err(ExecError::transient("unavailable", "503", None)),
        }
    }
}

/// Never finishes an execution; counts the executions cut off (dropped).
#[derive(Debug, Default)]
struct Stalls {
    declared: Option<Duration>,
    started: std::sync::atomic::AtomicU32,
    cut_off: Arc<std::sync::atomic::AtomicU32>,
}

/// Counts a drop of the future that owns it.
struct OnDrop(Arc<std::sync::atomic::AtomicU32>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[async_trait]
impl Executor for Stalls {
    fn family(&self) -> ActionFamily {
        ActionFamily::Shopify
    }

    async fn execute(&self, _entry: &JournalEntry) -> Result<serde_json::Value, ExecError> {
        self.started
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let _guard = OnDrop(self.cut_off.clone());
        std::future::pending().await
    }

    fn execute_timeout(&self) -> Option<Duration> {
        self.declared
    }

    fn timeout_setting(&self) -> &'static str {
        "test.execute-timeout"
    }
}

/// The framework bounds every execution: by the executor's own timeout, or
/// else by three quarters of `executor.lease` (2 s in the tests), so an
/// execution that never answers is cut off, retried, and dead-lettered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_that_never_finishes_is_cut_off_by_its_bound() {
    for (declared, expect) in [
        (
            Some(Duration::from_millis(100)),
            "within 100 ms (test.execute-timeout)",
        ),
        (None, "within 1500 ms (executor.lease)"),
    ] {
        let host = Host::new(2);
        host.add_plugin(&PluginSpec::new("tagger"));
        let stalls = Arc::new(Stalls {
            declared,
            ..Stalls::default()
        });
        let x = stalls.clone();
        let running = host.start_with(move |b| b.executor(x)).await;
        let s = running.storage().clone();
        host.enable(&s, SHOP_A, "tagger", &[]).await;
        let (_, b) = post(
            &reqwest::Client::new(),
            &running.webhook_url(),
            &Delivery::order(SHOP_A, SECRET_A, "w-1", order(1, "ok")),
        )
        .await;
        let key = format!("{}:tagger:0", b["event_id"].as_str().unwrap());
        eventually("dead-lettered after its attempts", || async {
            s.journal_entry(&key)
                .await
                .unwrap()
                .is_some_and(|e| e.status == JournalStatus::Dead)
        })
        .await;
        let entry = s.journal_entry(&key).await.unwrap().unwrap();
        let error = entry.last_error.unwrap();
        assert_eq!(error.kind, "timeout", "{error:?}");
        assert!(error.message.contains(expect), "{}", error.message);
        let ordering = std::sync::atomic::Ordering::SeqCst;
        assert_eq!(stalls.started.load(ordering), 3, "max-attempts");
        assert_eq!(
            stalls.cut_off.load(ordering),
            3,
            "each execution was dropped, its request cancelled"
        );
        running.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_outlasting_the_attempts_is_waited_out_within_the_window() {
    let text = config_text("workers = 2");
    let window = "outage-window = \"0s\"";
    assert!(text.contains(window));
    let host = Host::with_config(&text.replace(window, "outage-window = \"24h\""));
    assert_eq!(host.config().executor.retry.max_attempts, 3);
    host.add_plugin(&PluginSpec::new("tagger"));
    let recorder = Arc::new(Recorder::default());
    let r = recorder.clone();
    let running = host.start_with(move |b| b.executor(r)).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[]).await;
    let (_, b) = post(
        &reqwest::Client::new(),
        &running.webhook_url(),
        &Delivery::order(SHOP_A, SECRET_A, "w-outage", order(5, "ok")),
    )
    .await;
    let key = format!("{}:tagger:0", b["event_id"].as_str().unwrap());
    eventually("the entry is executed once the service is back", || {
        let (s, key) = (s.clone(), key.clone());
        async move {
            s.journal_entry(&key).await.unwrap().map(|e| e.status) == Some(JournalStatus::Done)
        }
    })
    .await;
    let e = s.journal_entry(&key).await.unwrap().unwrap();
    assert_eq!(
        (e.attempts, e.result.unwrap()["after"].clone()),
        (9, json!(10))
    );
    assert!(
        s.dead_letters(Some(SHOP_A), true, 10)
            .await
            .unwrap()
            .is_empty()
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executors_retry_transient_failures_and_dead_letter_the_rest() {
    let host = Host::new(2);
    host.add_plugin(&PluginSpec::new("tagger"));
    let recorder = Arc::new(Recorder::default());
    let r = recorder.clone();
    let running = host.start_with(move |b| b.executor(r)).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[]).await;
    let client = reqwest::Client::new();
    let mut keys = Vec::new();
    for order_id in 1..=4u64 {
        let (_, b) = post(
            &client,
            &running.webhook_url(),
            &Delivery::order(
                SHOP_A,
                SECRET_A,
                &format!("w-{order_id}"),
                order(order_id, "ok"),
            ),
        )
        .await;
        keys.push(format!("{}:tagger:0", b["event_id"].as_str().unwrap()));
    }
    let settled = |k: &str| {
        let (s, k) = (s.clone(), k.to_owned());
        async move {
            matches!(
                s.journal_entry(&k).await.unwrap().map(|e| e.status),
                Some(JournalStatus::Done | JournalStatus::Dead)
            )
        }
    };
    for k in &keys {
        eventually("journal entry settled", || settled(k)).await;
    }
    let e = |i: usize| {
        let (s, k) = (s.clone(), keys[i].clone());
        async move { s.journal_entry(&k).await.unwrap().unwrap() }
    };
    let (e1, e2, e3, e4) = (e(0).await, e(1).await, e(2).await, e(3).await);
    assert_eq!(
        (e1.status, e1.attempts, e1.result),
        (JournalStatus::Done, 0, Some(json!({"applied": true})))
    );
    assert_eq!((e2.status, e2.attempts), (JournalStatus::Done, 2));
    assert_eq!(e2.result.unwrap()["after"], 3);
    assert_eq!(
        (e3.status, e3.last_error.unwrap().kind.as_str()),
        (JournalStatus::Dead, "user-error")
    );
    assert_eq!((e4.status, e4.attempts), (JournalStatus::Dead, 3));
    assert!(
        e4.last_error
            .unwrap()
            .message
            .contains("gave up after 3 attempts")
    );
    let calls = recorder.calls.lock().unwrap().clone();
    assert_eq!(
        [
            calls[&keys[0]],
            calls[&keys[1]],
            calls[&keys[2]],
            calls[&keys[3]]
        ],
        [1, 3, 1, 3]
    );
    let letters = s.dead_letters(Some(SHOP_A), true, 10).await.unwrap();
    assert_eq!(
        letters
            .iter()
            .filter(|d| d.what == DeadLetterKind::Action)
            .count(),
        2
    );
    // Counted just after the commit; final once shutdown drained the workers.
    let counters = running.metrics().clone();
    running.shutdown().await.unwrap();
    let text = counters.render(None);
    assert!(
        text.contains("shopcase_actions_executed_total{family=\"shopify\",outcome=\"done\"} 2"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_ups_come_back_as_timer_events_to_their_plugin_only() {
    let host = Host::new(2);
    host.add_plugin(&PluginSpec::new("tagger"));
    host.add_plugin(&PluginSpec::new("bystander"));
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[]).await;
    host.enable(&s, SHOP_A, "bystander", &[]).await;

    // The tagger's run on an order event asked for a follow-up.
    let origin = NewEvent {
        shop: SHOP_A.into(),
        topic: "orders/paid".into(),
        source: EventSource::Shopify,
        dedupe_key: "w-origin".into(),
        shopify_event_id: None,
        api_version: "2026-07".into(),
        triggered_at: Timestamp::now(),
        received_at: Timestamp::now(),
        resources: shopcase_contract::Resources {
            order_id: Some(77),
            ..Default::default()
        },
        payload: "{}".into(),
        target_plugin: None,
        status: EventStatus::Pending,
        body_sha256: None,
    };
    let origin_id = origin.event_id();
    s.insert_event(origin).await.unwrap();
    // Claim it as a worker of our own so the host's workers leave it alone.
    let mut claimed = Vec::new();
    while claimed.is_empty() {
        claimed = s
            .claim_events(Claim {
                worker: "test".into(),
                limit: 1,
                lease: Duration::from_secs(60),
                now: Timestamp::now(),
                poison_after: 0,
            })
            .await
            .unwrap();
    }
    // Already past (an estimate that has gone by): fired a second after the
    // host schedules it, never at once.
    let before = Timestamp::now();
    let due = shopcase_contract::time::format(before - jiff::SignedDuration::from_hours(1));
    s.finish_event(EventFinish {
        event_id: origin_id.clone(),
        worker: "test".into(),
        now: Timestamp::now(),
        quarantine_after: 0,
        read_redacted_at: None,
        outcomes: vec![PluginOutcome {
            plugin_id: "tagger".into(),
            plugin_version: "1.0.0".into(),
            result: PluginResult::Succeeded(RunSuccess {
                actions: vec![Action::FollowUp(FollowUp {
                    name: "sla-check".into(),
                    due: due.clone(),
                    data: r#"{"level":1}"#.into(),
                })],
                kv_reads: vec![],
                kv_writes: vec![],
                budget: None,
            }),
        }],
    })
    .await
    .unwrap();

    eventually("the timer fires", || async {
        s.timers(SHOP_A)
            .await
            .unwrap()
            .first()
            .is_some_and(|t| t.state == TimerState::Fired)
    })
    .await;
    let timer = s.timers(SHOP_A).await.unwrap().remove(0);
    assert!(
        timer.due >= before + jiff::SignedDuration::from_secs(1),
        "scheduled a second on, not in the past: {}",
        timer.due
    );
    let fired = timer.fired_event_id.unwrap();
    eventually("the timer event is dispatched", || is_done(&s, &fired)).await;
    let ev = s.event(&fired).await.unwrap().unwrap();
    assert_eq!(ev.event.topic, "timer/fired");
    let payload: serde_json::Value = serde_json::from_str(&ev.event.payload).unwrap();
    assert_eq!(payload["name"], "sla-check");
    assert_eq!(payload["due"], shopcase_contract::time::format(timer.due));
    assert_eq!(
        ev.event.triggered_at,
        shopcase_contract::time::format(timer.due)
    );
    assert_eq!(payload["data"], json!({"level": 1}));
    assert_eq!(payload["scheduled_by"], origin_id.as_str());
    assert_eq!(payload["resources"]["order_id"], 77);
    let rows = s.dispatch_rows(&fired).await.unwrap();
    assert_eq!(
        rows.iter()
            .map(|r| r.plugin_id.as_str())
            .collect::<Vec<_>>(),
        ["tagger"],
        "only the plugin that set it"
    );
    assert_eq!(s.journal_for_event(&fired).await.unwrap().len(), 1);
    let follow = s
        .journal_entry(&format!("{origin_id}:tagger:0"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(follow.status, JournalStatus::Done);
    assert_eq!(follow.result.unwrap()["scheduled"], true);
    running.shutdown().await.unwrap();
}

/// A Shopify-like service per store: down, or refusing the token, for the
/// stores in `failing` until the test mends it.
#[derive(Debug)]
struct Upstream {
    failing: Mutex<Vec<String>>,
    refuse_credentials: bool,
    calls: Mutex<HashMap<String, u32>>,
}

#[async_trait]
impl Executor for Upstream {
    fn family(&self) -> ActionFamily {
        ActionFamily::Shopify
    }

    fn service(&self) -> Option<shopcase_pipeline::breaker::Service> {
        Some(shopcase_pipeline::breaker::Service::Shopify)
    }

    async fn execute(&self, entry: &JournalEntry) -> Result<serde_json::Value, ExecError> {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(entry.shop.clone())
            .or_insert(0) += 1;
        if self.failing.lock().unwrap().contains(&entry.shop) {
            return Err(if self.refuse_credentials {
                ExecError::credentials_refused(
                    "access-denied",
                    "401 Invalid API key or access token",
                )
            } else {
                ExecError::transient("unavailable", "503 Service Unavailable", None)
            });
        }
        Ok(json!({"applied": true}))
    }
}

async fn upstream_breaker(refuse_credentials: bool) {
    let text = config_text("workers = 2");
    let window = "outage-window = \"0s\"";
    let host =
        Host::with_config(&text.replace(window, "outage-window = \"24h\"\nbreaker-threshold = 2"));
    host.add_plugin(&PluginSpec::new("tagger"));
    let upstream = Arc::new(Upstream {
        failing: Mutex::new(vec![SHOP_A.to_owned()]),
        refuse_credentials,
        calls: Mutex::default(),
    });
    let u = upstream.clone();
    let running = host.start_with(move |b| b.executor(u)).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[]).await;
    host.enable(&s, SHOP_B, "tagger", &[]).await;
    let client = reqwest::Client::new();
    let mut keys = Vec::new();
    for (shop, secret) in [(SHOP_A, SECRET_A), (SHOP_B, SECRET_B)] {
        for order_id in 1..=6u64 {
            let (_, b) = post(
                &client,
                &running.webhook_url(),
                &Delivery::order(
                    shop,
                    secret,
                    &format!("w-{shop}-{order_id}"),
                    order(order_id, "ok"),
                ),
            )
            .await;
            keys.push((
                shop,
                format!("{}:tagger:0", b["event_id"].as_str().unwrap()),
            ));
        }
    }
    let status = |k: &str| {
        let (s, k) = (s.clone(), k.to_owned());
        async move { s.journal_entry(&k).await.unwrap().map(|e| e.status) }
    };
    // Store B's Shopify answers: its actions go through meanwhile.
    for (_, k) in keys.iter().filter(|(shop, _)| *shop == SHOP_B) {
        eventually("store B is not held back", || async {
            status(k).await == Some(JournalStatus::Done)
        })
        .await;
    }
    // Store A's breaker is shown on /readyz (the host stays ready) and /metrics.
    let base = format!("http://{}", running.addr());
    let expected = if refuse_credentials {
        "credentials-refused"
    } else {
        "open"
    };
    eventually("the breaker is reported", || async {
        let ready: serde_json::Value = client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ready["status"] == "ready"
            && ready["upstreams"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["shop"] == SHOP_A && u["service"] == "shopify" && u["state"] == expected)
    })
    .await;
    // Open and half-open alternate while it probes: look until it shows.
    let line = format!(
        "shopcase_upstream_open{{shop=\"{SHOP_A}\",service=\"shopify\",state=\"{expected}\"}} 1"
    );
    eventually("the breaker is in the metrics", || async {
        client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains(&line)
    })
    .await;
    // Held back, not failed: nothing of store A is dead-lettered.
    assert!(
        s.dead_letters(Some(SHOP_A), true, 10)
            .await
            .unwrap()
            .is_empty()
    );
    for (_, k) in keys.iter().filter(|(shop, _)| *shop == SHOP_A) {
        assert_ne!(status(k).await, Some(JournalStatus::Done));
    }
    // Mended: a probe gets through, the breaker closes, everything is done once.
    upstream.failing.lock().unwrap().clear();
    for (_, k) in &keys {
        eventually("done once the service answers", || async {
            status(k).await == Some(JournalStatus::Done)
        })
        .await;
    }
    assert!(s.dead_letters(None, true, 10).await.unwrap().is_empty());
    // Waiting behind the breaker is not an attempt: the attempts recorded
    // are the failed calls made (each entry's last call succeeded).
    let mut attempts = 0;
    let mut waited_behind_it = 0;
    for (_, k) in keys.iter().filter(|(shop, _)| *shop == SHOP_A) {
        let e = s.journal_entry(k).await.unwrap().unwrap();
        attempts += e.attempts;
        if e.attempts == 0 {
            waited_behind_it += 1;
        }
    }
    let calls = upstream.calls.lock().unwrap()[SHOP_A];
    assert_eq!(attempts, calls - 6, "attempts are calls that failed");
    assert!(waited_behind_it > 0, "some entries only ever waited");
    let ready: serde_json::Value = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["upstreams"], json!([]), "closed again");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_whose_service_is_down_is_held_back_alone_and_resumes_by_itself() {
    upstream_breaker(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_pause_the_stores_actions_instead_of_dead_lettering_them() {
    upstream_breaker(true).await;
}
