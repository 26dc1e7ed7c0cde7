//! Several storages on one PostgreSQL schema, as replicas have them:
//! leadership of a role (one holder; taken over when the holder goes or
//! its session is killed) and wake-ups across processes (`NOTIFY` heard by
//! the others' listeners, not by the sender, not by other schemas; the
//! listener reconnecting after its session is killed).
//!
//! Nothing here sleeps to synchronise: each wait is for a condition, with
//! a deadline.

use std::future::Future;
use std::time::Duration;

use shopcase_store::prelude::*;
use shopcase_store::{PostgresStorage, Work};
use tokio::sync::broadcast;

use super::support::*;

/// How long a takeover or a reconnection may take.
const DEADLINE: Duration = Duration::from_secs(10);

/// Wait until `f` holds, trying every 50 ms, for at most [`DEADLINE`].
async fn within<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while tokio::time::Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out after {DEADLINE:?} waiting for: {what}");
}

/// The next wake-up, within [`DEADLINE`].
async fn next(rx: &mut broadcast::Receiver<Work>, what: &str) -> Work {
    match tokio::time::timeout(DEADLINE, rx.recv()).await {
        Ok(Ok(w)) => w,
        Ok(Err(e)) => panic!("{what}: the wake-ups failed: {e}"),
        Err(_) => panic!("timed out after {DEADLINE:?} waiting for: {what}"),
    }
}

/// Subscribe and wait until the listener listens; the wake-ups it sends
/// on connecting (one of each kind) are taken off.
async fn listening(s: &PostgresStorage) -> broadcast::Receiver<Work> {
    let mut rx = s.wakeups().expect("PostgreSQL has wake-ups");
    within("the listener listens", || async {
        s.listener_pid().is_some()
    })
    .await;
    drain(&mut rx);
    rx
}

/// Take off what is queued.
fn drain(rx: &mut broadcast::Receiver<Work>) -> Vec<Work> {
    let mut got = Vec::new();
    while let Ok(w) = rx.try_recv() {
        got.push(w);
    }
    got
}

async fn terminate(db: &Db, pid: i32) {
    db.behind_the_back()
        .await
        .exec(&format!("SELECT pg_terminate_backend({pid})"), &[])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_storage_leads_a_role_and_another_takes_it_when_the_leader_goes() {
    let db = Db::create().await;
    let a = db.open_postgres().await;
    let b = db.open_postgres().await;

    assert!(a.lead("timers").await.unwrap(), "the first to try takes it");
    assert!(!b.lead("timers").await.unwrap(), "one leader at a time");
    assert!(a.lead("timers").await.unwrap(), "the leader keeps it");
    assert!(!b.lead("timers").await.unwrap());
    // Roles are independent.
    assert!(b.lead("retention").await.unwrap());
    assert!(!a.lead("retention").await.unwrap());
    // And per schema: another deployment in the same database has its own.
    let other = Db::create().await;
    let c = other.open_postgres().await;
    assert!(c.lead("timers").await.unwrap());

    // The leader goes (its storage dropped: its session ends): the other
    // takes over at its next try.
    drop(a);
    within("b takes `timers` once a is gone", || async {
        b.lead("timers").await.unwrap()
    })
    .await;
    assert!(b.lead("retention").await.unwrap(), "still held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resigned_role_is_taken_at_once() {
    let db = Db::create().await;
    let a = db.open_postgres().await;
    let b = db.open_postgres().await;
    assert!(a.lead("timers").await.unwrap());
    assert!(!b.lead("timers").await.unwrap());
    a.resign("timers").await;
    assert!(b.lead("timers").await.unwrap());
    assert!(!a.lead("timers").await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_leadership_session_loses_the_role_to_another() {
    let db = Db::create().await;
    let a = db.open_postgres().await;
    let b = db.open_postgres().await;
    assert!(a.lead("timers").await.unwrap());
    let pid = a.leader_pid().await.expect("a leadership session");
    terminate(&db, pid).await;

    within("b takes `timers` once a's session is killed", || async {
        b.lead("timers").await.unwrap()
    })
    .await;
    // a learns it lost the role: an error (its session is gone) or a
    // refusal (a new session, and b holds the role) — never `true`.
    within("a answers again (a new session)", || async {
        match a.lead("timers").await {
            Ok(held) => {
                assert!(!held, "a must not lead what b leads");
                true
            }
            Err(e) => {
                assert!(e.is_unavailable(), "{e}");
                false
            }
        }
    })
    .await;
    let new_pid = a.leader_pid().await.expect("a new leadership session");
    assert_ne!(new_pid, pid);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_wakes_the_other_storages_not_the_sender_nor_other_schemas() {
    let db = Db::create().await;
    let a = db.open_postgres().await;
    let b = db.open_postgres().await;
    let other = Db::create().await;
    let c = other.open_postgres().await;
    let d = other.open_postgres().await;
    let mut at_a = listening(&a).await;
    let mut at_b = listening(&b).await;
    let mut at_d = listening(&d).await;

    // Another schema's announcement (another deployment in the same
    // database) is heard there…
    c.announce(Work::Journal);
    assert_eq!(
        next(&mut at_d, "d hears c (their schema)").await,
        Work::Journal
    );
    // …and, sent before a's, would reach b before a's (a listener gets
    // notifications in commit order) if b heard it.
    a.announce(Work::Inbox);
    assert_eq!(
        next(&mut at_b, "b hears a").await,
        Work::Inbox,
        "b does not hear another schema's announcement"
    );
    // a's own was sent before b's: a hears b's first, so not its own.
    b.announce(Work::Journal);
    assert_eq!(
        next(&mut at_a, "a hears b").await,
        Work::Journal,
        "a does not hear its own announcement"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_reconnects_after_its_session_is_killed() {
    let db = Db::create().await;
    let a = db.open_postgres().await;
    let b = db.open_postgres().await;
    let mut at_b = listening(&b).await;
    let pid = b.listener_pid().unwrap();
    terminate(&db, pid).await;

    within("b's listener listens again, on a new session", || async {
        b.listener_pid().is_some_and(|p| p != pid)
    })
    .await;
    // Back, it wakes its subscribers for what it may have missed.
    let mut caught_up = drain(&mut at_b);
    caught_up.sort_by_key(|w| *w == Work::Journal);
    assert_eq!(caught_up, vec![Work::Inbox, Work::Journal]);

    a.announce(Work::Inbox);
    assert_eq!(
        next(&mut at_b, "b hears a after reconnecting").await,
        Work::Inbox
    );
}
