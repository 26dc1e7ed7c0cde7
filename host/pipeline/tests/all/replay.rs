//! `shopcase replay`'s engine against a running host.

use serde_json::json;
use shopcase_net::Secret;
use shopcase_pipeline::replay::{ReplayOutcome, ReplaySummary, Replayer, collect_files};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_event_files_signed_like_shopify() {
    let host = Host::new(0);
    let running = host.start().await;
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events");
    std::fs::create_dir_all(events.join("nested")).unwrap();
    let file = |topic: &str, webhook: Option<&str>, payload: serde_json::Value| {
        let mut f = json!({"topic": topic, "shop": SHOP_A, "payload": payload});
        if let Some(w) = webhook {
            f["webhook_id"] = json!(w);
        }
        f.to_string()
    };
    std::fs::write(
        events.join("a.json"),
        file("orders/create", Some("fixed-1"), json!({"id": 1})),
    )
    .unwrap();
    std::fs::write(
        events.join("nested/b.json"),
        file("orders/paid", None, json!({"id": 2})),
    )
    .unwrap();
    std::fs::write(events.join("c.json"), "{\"topic\": \"nope\"}").unwrap();
    std::fs::write(events.join("ignored.txt"), "not json").unwrap();

    let files = collect_files(std::slice::from_ref(&events)).unwrap();
    let names: Vec<_> = files
        .iter()
        .map(|p| p.strip_prefix(&events).unwrap().display().to_string())
        .collect();
    assert_eq!(names, ["a.json", "c.json", "nested/b.json"]);

    let replayer = Replayer::new(&running.webhook_url(), Secret::new(SECRET_A)).unwrap();
    let mut summary = ReplaySummary::default();
    for f in &files {
        let outcome = replayer.replay_file(f).await;
        summary.add(f, &outcome);
    }
    assert_eq!(
        (summary.accepted, summary.duplicate, summary.rejected.len()),
        (2, 0, 1)
    );
    assert!(
        summary.rejected[0].1.contains("not an event file"),
        "{:?}",
        summary.rejected
    );

    // The file with a webhook id is a duplicate the second time; the one
    // without gets a fresh webhook id and event id, but its body is the
    // same signed bytes: a duplicate too (a replay).
    assert!(matches!(
        replayer.replay_file(&files[0]).await,
        ReplayOutcome::Duplicate { .. }
    ));
    assert!(matches!(
        replayer.replay_file(&files[2]).await,
        ReplayOutcome::Duplicate { .. }
    ));

    // The wrong secret is refused with the endpoint's reason.
    let wrong = Replayer::new(&running.webhook_url(), Secret::new("wrong")).unwrap();
    assert_eq!(
        wrong.replay_file(&files[0]).await,
        ReplayOutcome::Rejected {
            status: 401,
            reason: "invalid-signature".into()
        }
    );
    // Nothing listening.
    let nowhere =
        Replayer::new("http://127.0.0.1:9/webhooks/shopify", Secret::new(SECRET_A)).unwrap();
    assert!(matches!(
        nowhere.replay_file(&files[0]).await,
        ReplayOutcome::Rejected { status: 0, .. }
    ));
    assert!(Replayer::new("ftp://x", Secret::new("s")).is_err());
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_from_any_date_replays_as_if_it_had_just_happened() {
    let host = Host::new(0);
    let running = host.start().await;
    let dir = tempfile::tempdir().unwrap();
    // Recorded long ago (the test host keeps deliveries for a day): an
    // order and, an hour later, its update.
    let file = |name: &str, webhook: &str, at: &str, payload: serde_json::Value| {
        let path = dir.path().join(name);
        let f = json!({"topic": "orders/updated", "shop": SHOP_A, "webhook_id": webhook,
            "triggered_at": at, "payload": payload});
        std::fs::write(&path, f.to_string()).unwrap();
        path
    };
    let files = vec![
        file(
            "1.json",
            "rec-1",
            "2025-01-05T09:00:00Z",
            json!({"id": 1, "created_at": "2025-01-05T09:59:58+01:00"}),
        ),
        file(
            "2.json",
            "rec-2",
            "2025-01-05T10:00:00Z",
            json!({"id": 1, "updated_at": "2025-01-05T11:00:00+01:00", "note": "2025-01-05"}),
        ),
    ];
    let plain = Replayer::new(&running.webhook_url(), Secret::new(SECRET_A)).unwrap();
    assert!(matches!(
        plain.replay_file(&files[0]).await,
        ReplayOutcome::Stale { .. }
    ));

    let now = shopcase_contract::time::Timestamp::now();
    let by = shopcase_pipeline::replay::shift_to_now(&files, now).unwrap();
    let recorded_newest = shopcase_contract::time::parse("2025-01-05T10:00:00Z").unwrap();
    assert!((recorded_newest + by).duration_since(now).abs() < jiff::SignedDuration::from_secs(1));
    let rebased = plain.shifted(by);
    let ReplayOutcome::Accepted { event_id } = rebased.replay_file(&files[1]).await else {
        panic!("the newest event is fresh once moved");
    };
    let stored = running.storage().event(&event_id).await.unwrap().unwrap();
    assert_eq!(
        shopcase_contract::time::parse(&stored.event.triggered_at).unwrap(),
        recorded_newest + by
    );
    let payload: serde_json::Value = serde_json::from_str(&stored.event.payload).unwrap();
    let moved = shopcase_contract::time::shift("2025-01-05T11:00:00+01:00", by).unwrap();
    assert_eq!(
        payload["updated_at"],
        json!(moved),
        "payload times move alike"
    );
    assert_eq!(payload["note"], "2025-01-05", "other text stays");
    // The older one was stored (stale) the first time: moving it does not
    // make the same delivery new.
    assert!(matches!(
        rebased.replay_file(&files[0]).await,
        ReplayOutcome::Duplicate { .. }
    ));
    running.shutdown().await.unwrap();
}
