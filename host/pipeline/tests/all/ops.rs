//! Operations endpoints: health, readiness, metrics.

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let host = Host::new(1);
    host.add_plugin(&PluginSpec::new("tagger"));
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[]).await;
    let client = reqwest::Client::new();
    let base = format!("http://{}", running.addr());

    assert_eq!(
        client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    let (_, b) = post(
        &client,
        &running.webhook_url(),
        &Delivery::order(SHOP_A, SECRET_A, "w-1", order(1, "ok")),
    )
    .await;
    let id = b["event_id"].as_str().unwrap().to_owned();
    let mut forged = Delivery::order(SHOP_A, SECRET_A, "w-2", order(2, "ok"));
    forged.sign("wrong");
    post(&client, &running.webhook_url(), &forged).await;
    eventually("dispatched", || is_done(&s, &id)).await;

    let resp = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = resp.text().await.unwrap();
    for line in [
        "shopcase_webhooks_received_total 2",
        "shopcase_webhooks_accepted_total 1",
        "shopcase_webhooks_rejected_total{reason=\"invalid-signature\"} 1",
        "shopcase_plugin_runs_total{plugin=\"tagger\",outcome=\"ok\"} 1",
        "shopcase_inbox_depth 0",
        "shopcase_journal_open 1",
        "shopcase_dispatch_latency_seconds_count 1",
        "shopcase_webhook_ack_seconds_count 2",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in:\n{text}"
        );
    }
    let build = format!(
        "shopcase_build_info{{version=\"{}\",wit=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION"),
        shopcase_contract::manifest::SUPPORTED_API_VERSIONS.join("+")
    );
    for line in [build.as_str(), "# TYPE shopcase_build_info gauge"] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in:\n{text}"
        );
    }

    // Not ready while the database cannot be written.
    let lock = LockGuard::new(&host.data_dir().join("shopcase.db"));
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["status"],
        "storage-unavailable"
    );
    drop(lock);
    assert_eq!(
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    running.shutdown().await.unwrap();
}
