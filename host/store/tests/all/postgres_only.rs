//! What only the PostgreSQL backend has: a schema shared by replicas
//! (migrations taken in turn, foreign and newer schemas refused), locks
//! held by other sessions, and a server that is not there.

use std::time::Duration;

use shopcase_store::*;

use super::support::*;

#[tokio::test]
async fn foreign_and_newer_schemas_are_refused() {
    let db = Db::create().await;
    db.behind_the_back()
        .await
        .exec("CREATE TABLE something_else (x bigint)", &[])
        .await;
    let err = db.try_open().await.unwrap_err().to_string();
    assert!(err.contains("no shopcase migration record"), "{err}");

    let db = Db::create().await;
    drop(db.open().await);
    let raw = db.behind_the_back().await;
    // Every migration applied, in order, none missing.
    assert_eq!(
        raw.ints("SELECT version FROM schema_migrations ORDER BY version")
            .await,
        (1..=10).collect::<Vec<i64>>()
    );
    raw.exec(
        "INSERT INTO schema_migrations VALUES (99, 'future', 0)",
        &[],
    )
    .await;
    let err = db.try_open().await.unwrap_err().to_string();
    assert!(err.contains("schema version 99"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_migrate_once() {
    let db = std::sync::Arc::new(Db::create().await);
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.try_open().await.map(drop) })
        })
        .collect();
    for s in starts {
        s.await.unwrap().unwrap();
    }
    assert_eq!(
        db.behind_the_back()
            .await
            .ints("SELECT version FROM schema_migrations ORDER BY version")
            .await,
        (1..=10).collect::<Vec<i64>>()
    );
}

#[tokio::test]
async fn a_table_locked_by_another_session_is_unavailable_not_an_answer() {
    let (db, s) = open().await;
    s.insert_event(order_event("before", 1)).await.unwrap();
    // Another session holds the inbox (e.g. an operator's long maintenance
    // statement): the storage's statements time out (2 s in the suite).
    let other = db.behind_the_back().await;
    other
        .exec("BEGIN; LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE", &[])
        .await;
    let err = s.insert_event(order_event("during", 2)).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert_eq!(err.code(), "storage-unavailable");
    other.exec("ROLLBACK", &[]).await;
    // Nothing half-written; the next insert works.
    assert!(matches!(
        s.insert_event(order_event("during", 2)).await.unwrap(),
        Inserted::New { .. }
    ));
}

#[tokio::test]
async fn tls_is_the_url_s_sslmode_and_a_bad_ca_file_is_named() {
    let url = std::env::var("SHOPCASE_TEST_DATABASE_URL").expect("SHOPCASE_TEST_DATABASE_URL");
    let sep = if url.contains('?') { '&' } else { '?' };
    // The suite's server offers no TLS: `require` cannot be met there.
    let config = PostgresConfig::new(format!("{url}{sep}sslmode=require"));
    let err = PostgresStorage::connect(&config).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    assert!(err.to_string().contains("TLS"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("ca.pem");
    std::fs::write(&pem, "not a certificate").unwrap();
    let config = PostgresConfig {
        ca_file: Some(pem),
        ..PostgresConfig::new(url.clone())
    };
    let err = PostgresStorage::connect(&config)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("storage.ca-file"), "{err}");
}

#[tokio::test]
async fn a_server_that_is_not_there_is_unavailable_and_the_password_is_not_named() {
    // Port 1 on loopback: nothing listens there.
    let config = PostgresConfig {
        connect_timeout: Duration::from_secs(2),
        ..PostgresConfig::new("postgres://shopcase:s3cret-pw@127.0.0.1:1/shopcase")
    };
    let err = PostgresStorage::connect(&config).await.unwrap_err();
    assert!(err.is_unavailable(), "{err}");
    let text = err.to_string();
    assert!(!text.contains("s3cret-pw"), "{text}");
    let debug = format!("{config:?}");
    assert!(!debug.contains("s3cret-pw"), "{debug}");
    assert!(debug.contains("127.0.0.1:1/shopcase"), "{debug}");
}

// ---- Replicas racing on one schema: claims, journal claims, finishes. ----

/// Claim, treating contention as "try again" (the dispatcher polls again).
async fn claim_or_nothing(s: &Store, worker: &str, limit: usize) -> Vec<ClaimedEvent> {
    match s
        .claim_events(Claim {
            worker: worker.into(),
            limit,
            lease: Duration::from_secs(3600),
            now: at(100),
            poison_after: 0,
        })
        .await
    {
        Ok(c) => c,
        Err(StoreError::Contended { .. }) => Vec::new(),
        Err(e) => panic!("{e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_claim_each_event_once_and_each_store_oldest_first() {
    const SHOPS: [&str; 3] = ["a.myshopify.com", "b.myshopify.com", "c.myshopify.com"];
    let db = Db::create().await;
    let first = db.open().await;
    for i in 0..60u64 {
        for (k, shop) in SHOPS.iter().enumerate() {
            let mut e = order_event(&format!("{shop}-{i}"), k as u64 * 1_000 + i);
            e.shop = (*shop).into();
            first.insert_event(e).await.unwrap();
        }
    }
    let mut replicas = vec![first];
    for _ in 0..2 {
        replicas.push(db.open().await);
    }
    let raw = db.behind_the_back().await;
    let mut seen = std::collections::BTreeSet::new();
    // Waves of concurrent claims (three replicas, three workers each);
    // after each, every store's claimed events are its oldest.
    for _ in 0..40 {
        let tasks: Vec<_> = replicas
            .iter()
            .enumerate()
            .flat_map(|(r, s)| (0..3).map(move |w| (format!("{r}-p-w{w}"), s.clone())))
            .map(|(worker, s)| tokio::spawn(async move { claim_or_nothing(&s, &worker, 4).await }))
            .collect();
        for t in tasks {
            for c in t.await.unwrap() {
                assert!(seen.insert(c.event.seq), "claimed twice: {}", c.event.seq);
            }
        }
        assert_eq!(
            raw.ints(
                "SELECT count(*) FROM (SELECT shop FROM inbox GROUP BY shop
                 HAVING max(seq) FILTER (WHERE claimed_by IS NOT NULL)
                      > min(seq) FILTER (WHERE claimed_by IS NULL)) passed_over"
            )
            .await,
            [0],
            "a claim took a younger event of a store past an older one"
        );
        if seen.len() == 180 {
            break;
        }
    }
    assert_eq!(seen.len(), 180);
}

fn comments(n: u32) -> PluginResult {
    use shopcase_contract::action::{Comment, Visibility};
    use shopcase_contract::{Action, CaseKey, Subject};
    PluginResult::Succeeded(RunSuccess {
        actions: (0..n)
            .map(|i| {
                Action::Comment(Comment {
                    key: CaseKey {
                        case_type: "fraud".into(),
                        subject: Subject::Order(1),
                    },
                    text: format!("c{i}"),
                    visibility: Visibility::Internal,
                })
            })
            .collect(),
        kv_reads: vec![],
        kv_writes: vec![],
        budget: None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_execute_each_entry_once_and_in_order() {
    let db = Db::create().await;
    let s = db.open().await;
    for i in 0..10u64 {
        let e = order_event(&format!("w-{i}"), i);
        let id = e.event_id();
        s.insert_event(e).await.unwrap();
        claim_or_nothing(&s, "d", 1).await;
        s.finish_event(EventFinish {
            event_id: id,
            worker: "d".into(),
            now: at(100),
            quarantine_after: 0,
            read_redacted_at: None,
            outcomes: ["p", "q"]
                .iter()
                .map(|p| PluginOutcome {
                    plugin_id: (*p).into(),
                    plugin_version: "1.0.0".into(),
                    result: comments(4),
                })
                .collect(),
        })
        .await
        .unwrap();
    }
    // The last index settled per (event, plugin), noted before settling.
    let last = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<
        (String, String),
        i64,
    >::new()));
    let mut tasks = Vec::new();
    for r in 0..3 {
        let s = db.open().await;
        for w in 0..2 {
            let (s, last) = (s.clone(), last.clone());
            tasks.push(tokio::spawn(async move {
                let worker = format!("{r}-j-w{w}");
                let (mut settled, mut idle) = (0, 0);
                while idle < 5 {
                    let got = match s
                        .claim_journal(JournalClaim {
                            family: ActionFamily::Case,
                            worker: worker.clone(),
                            limit: 3,
                            lease: Duration::from_secs(3600),
                            now: at(101),
                            poison_after: 0,
                        })
                        .await
                    {
                        Ok(g) => g,
                        Err(StoreError::Contended { .. }) => continue,
                        Err(e) => panic!("{e}"),
                    };
                    if got.is_empty() {
                        idle += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    idle = 0;
                    for e in got {
                        {
                            let mut last = last.lock().unwrap();
                            let prev = last
                                .entry((e.event_id.clone(), e.plugin_id.clone()))
                                .or_insert(-1);
                            assert_eq!(*prev, i64::from(e.index) - 1, "{} out of order", e.key);
                            *prev = i64::from(e.index);
                        }
                        loop {
                            match s
                                .settle_journal(JournalSettle {
                                    key: e.key.clone(),
                                    worker: worker.clone(),
                                    now: at(102),
                                    outcome: JournalOutcome::Done {
                                        result: serde_json::json!({}),
                                    },
                                })
                                .await
                            {
                                Ok(true) => break,
                                Ok(false) => panic!("{} taken from its executor", e.key),
                                Err(StoreError::Contended { .. }) => continue,
                                Err(e) => panic!("{e}"),
                            }
                        }
                        settled += 1;
                    }
                }
                settled
            }));
        }
    }
    let mut settled = 0;
    for t in tasks {
        settled += t.await.unwrap();
    }
    assert_eq!(settled, 10 * 2 * 4, "every entry executed once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_finishing_one_event_journal_it_once() {
    for round in 0..5 {
        let db = Db::create().await;
        let (a, b) = (db.open().await, db.open().await);
        let e = order_event(&format!("w-{round}"), 1);
        let id = e.event_id();
        a.insert_event(e).await.unwrap();
        let claim = |worker: &str, now| Claim {
            worker: worker.into(),
            limit: 1,
            lease: Duration::from_secs(10),
            now,
            poison_after: 0,
        };
        assert_eq!(
            a.claim_events(claim("1-a-w", at(1))).await.unwrap().len(),
            1
        );
        // Its lease expired: another replica takes it over.
        assert_eq!(
            b.claim_events(claim("2-b-w", at(20))).await.unwrap().len(),
            1
        );
        let finish = |worker: &str| EventFinish {
            event_id: id.clone(),
            worker: worker.into(),
            now: at(21),
            quarantine_after: 0,
            read_redacted_at: None,
            outcomes: vec![PluginOutcome {
                plugin_id: "p".into(),
                plugin_version: "1.0.0".into(),
                result: comments(3),
            }],
        };
        let (late, owner) = tokio::join!(
            a.finish_event(finish("1-a-w")),
            b.finish_event(finish("2-b-w"))
        );
        let (late, owner) = (late.unwrap(), owner.unwrap());
        let journalled = [&late, &owner]
            .iter()
            .filter(|r| matches!(r.plugins[0].1, PluginFinish::Journalled { .. }))
            .count();
        assert_eq!(journalled, 1, "{late:?} {owner:?}");
        assert_eq!(a.journal_for_event(&id).await.unwrap().len(), 3);
        assert_eq!(late.event, EventProgress::NotOwned);
        assert_eq!(owner.event, EventProgress::Done);
    }
}
