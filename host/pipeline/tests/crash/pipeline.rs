//! Crash recovery of the plain host: it runs as a child process (this
//! binary re-executed as [`Kind::Pipeline`]), is killed with SIGKILL or
//! made to abort at a test-only fault point (`SHOPCASE_TEST_FAULT`), and is
//! restarted on the same data directory. Nothing acknowledged is lost,
//! nothing is journalled twice.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use shopcase_contract::Action;
use shopcase_contract::action::FollowUp;
use shopcase_store::*;

use crate::child::{self, Kind};
use crate::support::*;

/// The command that runs the plain child host on `host`'s config, with
/// `fault` armed.
fn child_command(host: &Host, fault: Option<&str>) -> Command {
    child::command(Kind::Pipeline, host, fault)
}

/// Start the plain child host and wait until it listens; its webhook URL.
fn spawn(host: &Host, fault: Option<&str>) -> (Child, String) {
    child::spawn(Kind::Pipeline, host, fault)
}

fn storage(host: &Host) -> Arc<dyn Storage> {
    Arc::new(SqliteStorage::open(&host.data_dir(), SqliteConfig::default()).unwrap())
}

async fn journal_count(s: &Arc<dyn Storage>, ids: &[String]) -> Vec<usize> {
    let mut out = Vec::new();
    for id in ids {
        out.push(s.journal_for_event(id).await.unwrap().len());
    }
    out
}

/// A host with the tagger plugin enabled for store A, `workers` dispatchers.
async fn prepared(workers: usize) -> Host {
    let host = Host::new(workers);
    host.add_plugin(&PluginSpec::new("tagger"));
    let s = storage(&host);
    host.enable(&s, SHOP_A, "tagger", &[]).await;
    host
}

fn set_workers(host: &Host, workers: usize) {
    std::fs::write(
        host.config_path(),
        config_text(&format!("workers = {workers}")),
    )
    .unwrap();
}

pub(crate) async fn killed_between_accept_and_dispatch_loses_nothing() {
    let host = prepared(0).await;
    let (mut child, url) = spawn(&host, None);
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..20u64 {
        let (status, body) = post(
            &client,
            &url,
            &Delivery::order(SHOP_A, SECRET_A, &format!("w-{i}"), order(i + 1, "ok")),
        )
        .await;
        assert_eq!(status, 200);
        ids.push(body["event_id"].as_str().unwrap().to_owned());
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Restart with dispatchers on the same data directory.
    set_workers(&host, 2);
    let running = host.start().await;
    let s = running.storage().clone();
    eventually("every acknowledged event is dispatched", || async {
        for id in &ids {
            if !is_done(&s, id).await {
                return false;
            }
        }
        true
    })
    .await;
    assert_eq!(
        journal_count(&s, &ids).await,
        vec![1; 20],
        "each journalled exactly once"
    );
    running.shutdown().await.unwrap();
}

pub(crate) async fn killed_between_dispatch_and_journal_runs_again_once() {
    let host = prepared(1).await;
    let (mut child, url) = spawn(&host, Some("abort-before-journal"));
    let (status, body) = post(
        &reqwest::Client::new(),
        &url,
        &Delivery::order(SHOP_A, SECRET_A, "w-1", order(1, "ok")),
    )
    .await;
    assert_eq!(status, 200);
    let id = body["event_id"].as_str().unwrap().to_owned();
    let exit = child.wait().unwrap();
    assert!(
        !exit.success(),
        "the child aborted at the fault point: {exit:?}"
    );

    let s = storage(&host);
    let ev = s.event(&id).await.unwrap().unwrap();
    assert_eq!(
        (ev.status, ev.claims),
        (EventStatus::Pending, 1),
        "claimed, not finished"
    );
    assert!(s.journal_for_event(&id).await.unwrap().is_empty());
    drop(s);

    let running = host.start().await;
    let s = running.storage().clone();
    eventually("re-claimed after the lease and dispatched", || {
        is_done(&s, &id)
    })
    .await;
    assert_eq!(s.journal_for_event(&id).await.unwrap().len(), 1);
    let row = &s.dispatch_rows(&id).await.unwrap()[0];
    assert_eq!(
        (row.status, row.attempts),
        (DispatchStatus::Done, 0),
        "a crash is not a plugin failure"
    );
    running.shutdown().await.unwrap();
}

pub(crate) async fn killed_right_after_journalling_does_not_journal_twice() {
    let host = prepared(1).await;
    let (mut child, url) = spawn(&host, Some("abort-after-journal"));
    let client = reqwest::Client::new();
    let (_, body) = post(
        &client,
        &url,
        &Delivery::order(SHOP_A, SECRET_A, "w-1", order(1, "ok")),
    )
    .await;
    let id = body["event_id"].as_str().unwrap().to_owned();
    assert!(!child.wait().unwrap().success());

    let running = host.start().await;
    let s = running.storage().clone();
    assert!(
        is_done(&s, &id).await,
        "journalled and settled in one transaction"
    );
    // Let the restarted dispatcher work through a later event, then check
    // the first was not run again.
    let (_, later) = post(
        &client,
        &running.webhook_url(),
        &Delivery::order(SHOP_A, SECRET_A, "w-2", order(2, "ok")),
    )
    .await;
    let later = later["event_id"].as_str().unwrap().to_owned();
    eventually("the later event is dispatched", || is_done(&s, &later)).await;
    assert_eq!(s.journal_for_event(&id).await.unwrap().len(), 1);
    assert_eq!(s.event(&id).await.unwrap().unwrap().claims, 1);
    running.shutdown().await.unwrap();
}

pub(crate) async fn sigterm_drains_and_a_restart_finishes_the_rest() {
    let host = prepared(2).await;
    let (mut child, url) = spawn(&host, None);
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..10u64 {
        let (status, body) = post(
            &client,
            &url,
            &Delivery::order(SHOP_A, SECRET_A, &format!("w-{i}"), order(i + 1, "ok")),
        )
        .await;
        assert_eq!(status, 200);
        ids.push(body["event_id"].as_str().unwrap().to_owned());
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let exit = child.wait().unwrap();
    assert!(
        exit.success(),
        "a graceful shutdown exits cleanly: {exit:?}"
    );

    // Whatever was not dispatched was handed back, not left claimed.
    let s = storage(&host);
    for id in &ids {
        let e = s.event(id).await.unwrap().unwrap();
        let rows = s.journal_for_event(id).await.unwrap().len();
        assert!(
            (e.status == EventStatus::Done && rows == 1)
                || (e.status == EventStatus::Pending && rows == 0),
            "{id}: {:?} with {rows} journal entries",
            e.status
        );
    }
    drop(s);
    let running = host.start().await;
    let s = running.storage().clone();
    eventually("all dispatched after the restart", || async {
        for id in &ids {
            if !is_done(&s, id).await {
                return false;
            }
        }
        true
    })
    .await;
    assert_eq!(journal_count(&s, &ids).await, vec![1; 10]);
    running.shutdown().await.unwrap();
}

pub(crate) async fn an_executor_killed_after_executing_runs_again_idempotently() {
    let host = prepared(0).await;
    // A follow-up journalled for an event, as a plugin run would leave it.
    let s = storage(&host);
    let key = journalled_follow_up(&s, "w-1", 1).await;
    drop(s);

    // The executor starts with the host and may abort before the listener
    // is announced, so this child is only waited for.
    let status = child_command(&host, Some("abort-after-execute"))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(
        !status.success(),
        "aborted after scheduling, before marking done: {}",
        child::log(&host)
    );
    let s = storage(&host);
    assert_eq!(s.timers(SHOP_A).await.unwrap().len(), 1);
    assert_eq!(
        s.journal_entry(&key).await.unwrap().unwrap().status,
        JournalStatus::InFlight
    );
    drop(s);

    let running = host.start().await;
    let s = running.storage().clone();
    eventually("re-executed after the lease and marked done", || async {
        s.journal_entry(&key).await.unwrap().unwrap().status == JournalStatus::Done
    })
    .await;
    let timers = s.timers(SHOP_A).await.unwrap();
    assert_eq!(timers.len(), 1);
    assert_eq!(
        timers[0].generation, 1,
        "the second execution changed nothing"
    );
    let entry = s.journal_entry(&key).await.unwrap().unwrap();
    assert_eq!(entry.result.unwrap()["scheduled"], false);
    running.shutdown().await.unwrap();
}

/// An event whose run kills the host every time (`abort-running:<webhook
/// id>`, the fault point after its plugins ran): after
/// `dispatcher.poison-after` (here 2) restarts that abandoned it, the next
/// claim sets it aside as a `poison` dead letter instead of running it
/// again, and the other events go on.
pub(crate) async fn an_event_that_kills_the_host_every_time_ends_as_a_poison_dead_letter() {
    let host = prepared(1).await;
    std::fs::write(
        host.config_path(),
        config_text("workers = 1\npoison-after = 2"),
    )
    .unwrap();
    let fault = Some("abort-running:w-poison");
    let client = reqwest::Client::new();
    let (mut child, url) = spawn(&host, fault);
    let mut good = Vec::new();
    for i in 0..3u64 {
        let (status, body) = post(
            &client,
            &url,
            &Delivery::order(SHOP_A, SECRET_A, &format!("w-{i}"), order(i + 1, "ok")),
        )
        .await;
        assert_eq!(status, 200);
        good.push(body["event_id"].as_str().unwrap().to_owned());
    }
    let (status, body) = post(
        &client,
        &url,
        &Delivery::order(SHOP_A, SECRET_A, "w-poison", order(99, "ok")),
    )
    .await;
    assert_eq!(status, 200);
    let poison = body["event_id"].as_str().unwrap().to_owned();
    assert!(!child.wait().unwrap().success(), "the first run aborted");

    // Restarted, it takes the event over once its lease expired, and
    // aborts again: abandoned twice now.
    // (It may abort before it announces its listener, so it is only waited for.)
    let status = child_command(&host, fault)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the second run aborted");
    let s = storage(&host);
    let ev = s.event(&poison).await.unwrap().unwrap();
    assert_eq!((ev.status, ev.abandoned), (EventStatus::Pending, 1));
    drop(s);

    // The third host sets it aside at its next claim and serves the rest.
    let (mut child, url) = spawn(&host, fault);
    let (status, body) = post(
        &client,
        &url,
        &Delivery::order(SHOP_A, SECRET_A, "w-later", order(50, "ok")),
    )
    .await;
    assert_eq!(status, 200);
    good.push(body["event_id"].as_str().unwrap().to_owned());
    let s = storage(&host);
    eventually("the poison event is dead-lettered", || async {
        s.dead_letters(None, true, 10)
            .await
            .unwrap()
            .iter()
            .any(|d| d.event_id == poison)
    })
    .await;
    eventually("every other event is dispatched", || async {
        for id in &good {
            if !is_done(&s, id).await {
                return false;
            }
        }
        true
    })
    .await;
    let letters = s.dead_letters(None, true, 10).await.unwrap();
    assert_eq!(letters.len(), 1, "only the poison event: {letters:?}");
    let letter = &letters[0];
    assert_eq!(
        (letter.what, letter.failure.kind.as_str(), letter.attempts),
        (DeadLetterKind::Event, POISON, 2)
    );
    assert!(
        letter
            .failure
            .message
            .contains("no plugin run recorded yet"),
        "{}",
        letter.failure.message
    );
    assert_eq!(journal_count(&s, &good).await, vec![1; 4]);
    assert!(s.journal_for_event(&poison).await.unwrap().is_empty());
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert!(
        child.wait().unwrap().success(),
        "the third host did not abort"
    );

    // An operator's retry runs it again (here on a host without the fault).
    s.retry_dead_letter(letter.id, "ops", Timestamp::now())
        .await
        .unwrap();
    drop(s);
    let running = host.start().await;
    let s = running.storage().clone();
    eventually("the retried event is dispatched", || is_done(&s, &poison)).await;
    assert_eq!(s.journal_for_event(&poison).await.unwrap().len(), 1);
    running.shutdown().await.unwrap();
}

/// Events left behind by a crash (suspects) beside a poison event: the
/// poison event kills the host again, but the others were not held while
/// it ran, so they count no abandoned claim for it and run once it is set
/// aside. (Before, every suspect of the batch stayed claimed while the
/// first ran, and each of the poison event's crashes counted against them
/// too: innocent events were set aside as poison with it.)
pub(crate) async fn events_claimed_beside_a_poison_event_are_not_set_aside_with_it() {
    let host = prepared(0).await;
    let client = reqwest::Client::new();
    // The poison event and two others, accepted by a host that dispatches
    // nothing.
    let (mut child, url) = spawn(&host, None);
    let mut ids = Vec::new();
    for (webhook, n) in [("w-poison", 99u64), ("w-a", 1), ("w-b", 2)] {
        let (status, body) = post(
            &client,
            &url,
            &Delivery::order(SHOP_A, SECRET_A, webhook, order(n, "ok")),
        )
        .await;
        assert_eq!(status, 200);
        ids.push(body["event_id"].as_str().unwrap().to_owned());
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (poison, good) = (ids[0].clone(), ids[1..].to_vec());
    // As a crash leaves them: the poison event claimed by a worker that
    // died; the two others suspects from an earlier crash (taken over,
    // then given back).
    let db = rusqlite::Connection::open(host.data_dir().join("shopcase.db")).unwrap();
    db.execute(
        "UPDATE inbox SET claimed_by = 'dead-worker', lease_until = 0, claims = 1
         WHERE event_id = ?1",
        [&poison],
    )
    .unwrap();
    db.execute(
        "UPDATE inbox SET abandoned = 1, abandoned_by = 'older-worker', claims = 1
         WHERE event_id != ?1",
        [&poison],
    )
    .unwrap();
    drop(db);
    std::fs::write(
        host.config_path(),
        config_text("workers = 2\npoison-after = 3"),
    )
    .unwrap();

    // The host aborts on the poison event until it is set aside: each run
    // claims it (one more abandoned claim) and dies running it.
    let fault = Some("abort-running:w-poison");
    let s = storage(&host);
    let mut crashes = 0;
    while s.event(&poison).await.unwrap().unwrap().abandoned < 2 {
        let status = child_command(&host, fault)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(
            !status.success(),
            "the host ran the poison event and aborted"
        );
        crashes += 1;
        assert!(crashes <= 3, "the poison event keeps being claimed");
    }
    for id in &good {
        // Given back while the poison event ran, it may even have run in
        // between (between the crashes); it counted no abandoned claim.
        let ev = s.event(id).await.unwrap().unwrap();
        assert_eq!(
            ev.abandoned, 1,
            "an event merely claimed beside the poison one counted an abandoned claim: {ev:?}"
        );
    }
    drop(s);

    // The next host sets the poison event aside and runs the others.
    let (mut child, _url) = spawn(&host, fault);
    let s = storage(&host);
    eventually("the poison event is dead-lettered", || async {
        s.dead_letters(None, true, 10)
            .await
            .unwrap()
            .iter()
            .any(|d| d.event_id == poison)
    })
    .await;
    eventually("the other events are dispatched", || async {
        for id in &good {
            if !is_done(&s, id).await {
                return false;
            }
        }
        true
    })
    .await;
    let letters = s.dead_letters(None, true, 10).await.unwrap();
    assert_eq!(letters.len(), 1, "only the poison event: {letters:?}");
    assert_eq!(journal_count(&s, &good).await, vec![1; 2]);
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert!(
        child.wait().unwrap().success(),
        "the last host did not abort"
    );
}

/// A follow-up journalled for a new event of store A, as a plugin run
/// leaves it; returns the entry's key.
async fn journalled_follow_up(s: &Arc<dyn Storage>, webhook: &str, order: u64) -> String {
    let ev = NewEvent {
        shop: SHOP_A.into(),
        topic: "orders/create".into(),
        source: EventSource::Shopify,
        dedupe_key: webhook.into(),
        shopify_event_id: None,
        api_version: "2026-07".into(),
        triggered_at: Timestamp::now(),
        received_at: Timestamp::now(),
        resources: shopcase_contract::Resources {
            order_id: Some(order),
            ..Default::default()
        },
        payload: "{}".into(),
        target_plugin: None,
        status: EventStatus::Pending,
        body_sha256: None,
    };
    let event_id = ev.event_id();
    s.insert_event(ev).await.unwrap();
    let claimed = s
        .claim_events(Claim {
            worker: "setup".into(),
            limit: 1,
            lease: std::time::Duration::from_secs(60),
            now: Timestamp::now(),
            poison_after: 0,
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    s.finish_event(EventFinish {
        event_id: event_id.clone(),
        worker: "setup".into(),
        now: Timestamp::now(),
        quarantine_after: 0,
        read_redacted_at: None,
        outcomes: vec![PluginOutcome {
            plugin_id: "tagger".into(),
            plugin_version: "1.0.0".into(),
            result: PluginResult::Succeeded(RunSuccess {
                actions: vec![Action::FollowUp(FollowUp {
                    name: format!("sla-{order}"),
                    due: "2099-01-01T00:00:00Z".into(),
                    data: "{}".into(),
                })],
                kv_reads: vec![],
                kv_writes: vec![],
                budget: None,
            }),
        }],
    })
    .await
    .unwrap();
    format!("{event_id}:tagger:0")
}

/// The journal's counterpart of the test above: entries left behind by a
/// crash (suspects) beside an action whose execution kills the host every
/// time (`abort-executing:<key>`). They are given back while it runs, so
/// its crashes count against it alone: it ends as a `poison` dead letter
/// (`executor.poison-after`, 3), and the others are executed once. (Before,
/// every claimed entry ran beside it and counted each of its crashes: a
/// host killed repeatedly set innocent actions aside as poison.)
pub(crate) async fn actions_claimed_beside_a_poison_action_are_not_set_aside_with_it() {
    let host = prepared(0).await;
    let s = storage(&host);
    let poison = journalled_follow_up(&s, "w-poison", 99).await;
    let good = vec![
        journalled_follow_up(&s, "w-a", 1).await,
        journalled_follow_up(&s, "w-b", 2).await,
    ];
    drop(s);
    // As crashes leave them: the poison entry in flight with a worker that
    // died; the two others suspects from an earlier crash, given back.
    let db = rusqlite::Connection::open(host.data_dir().join("shopcase.db")).unwrap();
    db.execute(
        "UPDATE journal SET status = 'in-flight', claimed_by = 'dead-worker', lease_until = 0
         WHERE idempotency_key = ?1",
        [&poison],
    )
    .unwrap();
    db.execute(
        "UPDATE journal SET abandoned = 1, abandoned_by = 'older-worker'
         WHERE idempotency_key != ?1",
        [&poison],
    )
    .unwrap();
    drop(db);

    let fault = format!("abort-executing:{poison}");
    let s = storage(&host);
    let mut crashes = 0;
    while s.journal_entry(&poison).await.unwrap().unwrap().abandoned < 2 {
        let status = child_command(&host, Some(&fault))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(
            !status.success(),
            "the host executed the poison action and aborted"
        );
        crashes += 1;
        assert!(crashes <= 3, "the poison action keeps being claimed");
    }
    for key in &good {
        // Given back while the poison entry ran, or executed in between
        // (which ends its suspicion): never charged with its crashes.
        let e = s.journal_entry(key).await.unwrap().unwrap();
        assert!(
            e.abandoned <= 1 && e.status != JournalStatus::Dead,
            "an entry merely claimed beside the poison one counted its crash: {e:?}"
        );
    }
    drop(s);

    // The next host sets the poison entry aside (it would abort if it ran
    // it) and executes the others.
    let (mut child, _url) = spawn(&host, Some(&fault));
    let s = storage(&host);
    eventually("the poison action is dead-lettered", || async {
        s.journal_entry(&poison).await.unwrap().unwrap().status == JournalStatus::Dead
    })
    .await;
    eventually("the other actions are executed", || async {
        for key in &good {
            if s.journal_entry(key).await.unwrap().unwrap().status != JournalStatus::Done {
                return false;
            }
        }
        true
    })
    .await;
    let letters = s.dead_letters(None, true, 10).await.unwrap();
    assert_eq!(letters.len(), 1, "only the poison action: {letters:?}");
    assert_eq!(letters[0].failure.kind, POISON);
    assert_eq!(letters[0].idempotency_key.as_deref(), Some(poison.as_str()));
    for key in &good {
        let e = s.journal_entry(key).await.unwrap().unwrap();
        assert_eq!(e.abandoned, 0, "executed: no longer a suspect");
    }
    // The poison action's executions took effect before each abort
    // (idempotently: one timer for it too).
    assert_eq!(s.timers(SHOP_A).await.unwrap().len(), 3, "one timer each");
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert!(
        child.wait().unwrap().success(),
        "the last host did not abort"
    );
}
