//! Moving to PostgreSQL (`shopcase_store::copy`, `shopcase storage
//! migrate`): a stopped host's SQLite database with something in every
//! table is copied into an empty schema, verified, and reads back through
//! the PostgreSQL storage as it read on SQLite; new ids and key-value
//! versions come after the copied ones; a non-empty target is refused, and
//! a value that cannot be carried over leaves the target empty. Every
//! table of the schema must be copied (and filled here): the completeness
//! check derives the tables from both engines' catalogs.
//!
//! PostgreSQL suite only (included by `postgres.rs`): the SQLite source
//! sits in the test's directory, the target is the test's schema.

use std::collections::BTreeSet;
use std::time::Duration;

use shopcase_contract::action::{CaseStatus, Priority, Refund, TagsChange, Target};
use shopcase_contract::{Action, CaseKey, Resources, ShopifyOperation, Subject};
use shopcase_store::copy::{CopyReport, sqlite_to_postgres};
use shopcase_store::*;

use super::support::*;

/// Process `111-aaa` dies holding the events; `222-bbb` takes them over.
const DEAD: &str = "111-aaa-dispatch";
const TAKER: &str = "222-bbb-dispatch";

fn claim(worker: &str, now: Timestamp) -> Claim {
    Claim {
        worker: worker.into(),
        limit: 10,
        lease: Duration::from_secs(30),
        now,
        poison_after: 0,
    }
}

fn case_key() -> CaseKey {
    CaseKey {
        case_type: "refund-approval".into(),
        subject: Subject::Order(1),
    }
}

fn resources() -> Resources {
    Resources {
        order_id: Some(1),
        customer_id: Some(7001),
        ..Resources::default()
    }
}

fn ran(kv_writes: Vec<KvWrite>) -> PluginResult {
    PluginResult::Succeeded(RunSuccess {
        actions: vec![
            Action::Shopify(ShopifyOperation::TagsAdd(TagsChange {
                target: Target::Order(1),
                tags: vec!["checked".into()],
            })),
            Action::Shopify(ShopifyOperation::TagsAdd(TagsChange {
                target: Target::Order(1),
                tags: vec!["second".into()],
            })),
        ],
        kv_reads: vec![],
        kv_writes,
        budget: None,
    })
}

fn kv(key: &str, value: &str, expires_at: Option<Timestamp>) -> KvWrite {
    KvWrite {
        key: key.into(),
        value: Some(value.into()),
        expires_at,
    }
}

fn finish(event_id: &str, now: Timestamp, plugin: &str, result: PluginResult) -> EventFinish {
    EventFinish {
        event_id: event_id.into(),
        worker: TAKER.into(),
        now,
        quarantine_after: 0,
        read_redacted_at: None,
        outcomes: vec![PluginOutcome {
            plugin_id: plugin.into(),
            plugin_version: "1.0.0".into(),
            result,
        }],
    }
}

fn timer(name: &str) -> NewTimer {
    NewTimer {
        shop: SHOP.into(),
        plugin_id: "p".into(),
        name: name.into(),
        resources: resources(),
        due: at(3600),
        data: "{\"n\": 1}".into(),
        scheduled_by: "evt_0".into(),
        source_key: format!("evt_0:p:{name}"),
    }
}

/// What [`fill`] made, to read back.
#[derive(Debug)]
struct Filled {
    events: Vec<String>,
    /// The id of a timer deleted behind the storage's back (as retention
    /// deletes fired ones): SQLite never hands it out again, nor may
    /// PostgreSQL.
    deleted_timer: i64,
}

/// Something in every table, through the storage's traits, as a host
/// would have written it.
async fn fill(s: &Store) -> Filled {
    // stores, installations (with an approval), audit.
    s.sync_stores(vec![(SHOP.into(), "2026-07".into())], at(0))
        .await
        .unwrap();
    super::admin::install(s, "p", true).await;
    // inbox: one event with a body digest, one without.
    let mut first = order_event("w-1", 1);
    first.body_sha256 = Some([0xa5; 32]);
    let e1 = first.event_id();
    s.insert_event(first).await.unwrap();
    let second = order_event("w-2", 2);
    let e2 = second.event_id();
    s.insert_event(second).await.unwrap();
    // deaths: a worker dies holding both; another takes them over.
    assert_eq!(s.claim_events(claim(DEAD, at(10))).await.unwrap().len(), 2);
    assert_eq!(s.claim_events(claim(TAKER, at(50))).await.unwrap().len(), 2);
    // dispatch, journal, kv: a finished run with actions and writes.
    s.finish_event(finish(
        &e1,
        at(51),
        "p",
        ran(vec![
            kv("counter", "1", None),
            kv("basket", "{\"items\": [\"é\"]}", Some(at(7200))),
        ]),
    ))
    .await
    .unwrap();
    // dead letters: a run that failed for good.
    s.finish_event(finish(
        &e2,
        at(52),
        "q",
        PluginResult::Dead {
            failure: FailureRecord::new("invalid-action", "bad tag"),
        },
    ))
    .await
    .unwrap();
    // The journal: one entry executed, one still pending.
    let claimed = s
        .claim_journal(JournalClaim {
            family: ActionFamily::Shopify,
            worker: TAKER.into(),
            limit: 1,
            lease: Duration::from_secs(30),
            now: at(53),
            poison_after: 0,
        })
        .await
        .unwrap();
    assert!(
        s.settle_journal(JournalSettle {
            key: claimed[0].key.clone(),
            worker: TAKER.into(),
            now: at(54),
            outcome: JournalOutcome::Done {
                result: serde_json::json!({"ok": true}),
            },
        })
        .await
        .unwrap()
    );
    // timers.
    for name in ["sla", "remind"] {
        s.schedule_timer(timer(name), at(55)).await.unwrap();
    }
    // case links (with the Core Case columns), poll marks, held operations.
    s.record_case_link(
        CaseLink {
            shop: SHOP.into(),
            key: case_key(),
            case_id: "c-1".into(),
            case_number: "CASE-000001".into(),
            status: CaseStatus::New,
            priority: Priority::High,
            escalation_level: 0,
            opened_at: "2026-11-26T10:00:00Z".into(),
            plugin_id: Some("p".into()),
            last_updated_on: None,
            updated_at: at(56),
        },
        CaseLinkDetails {
            definition_id: "def-refund".into(),
            resources: resources(),
            poll_from: Some(at(1)),
        },
    )
    .await
    .unwrap();
    s.hold_operation(NewHeldOperation {
        task_id: "t-1".into(),
        source_key: format!("{e1}:p:2"),
        shop: SHOP.into(),
        plugin_id: "p".into(),
        event_id: e1.clone(),
        index: 2,
        case_id: "c-1".into(),
        key: case_key(),
        operation: ShopifyOperation::Refund(Refund {
            order_id: 1,
            amount: "900.00".into(),
            currency: "EUR".into(),
            note: "goodwill".into(),
            notify_customer: true,
        }),
        resources: resources(),
        now: at(57),
    })
    .await
    .unwrap();
    // API tokens (and their audit line).
    s.create_api_token(
        NewApiToken {
            id: "tok_1".into(),
            name: "jane-ops".into(),
            role: ApiRole::StoreAdmin,
            stores: vec![SHOP.into()],
            hash: "ab".repeat(32),
            created_by: "ops@example.com".into(),
            created_at: at(58),
        },
        NewAudit {
            actor: "ops@example.com".into(),
            action: "token.create".into(),
            shop: None,
            plugin_id: None,
            details: serde_json::json!({"id": "tok_1"}),
            at: at(58),
        },
    )
    .await
    .unwrap();
    // privacy records, with a body digest.
    s.record_privacy(PrivacyRecord {
        shop: SHOP.into(),
        topic: "customers/redact".into(),
        customer_id: Some(7001),
        event_id: "evt_privacy".into(),
        file: None,
        summary: serde_json::json!({"events": 1}),
        at: at(59),
        body_sha256: Some([0x5a; 32]),
    })
    .await
    .unwrap();
    Filled {
        events: vec![e1, e2],
        deleted_timer: 0,
    }
}

/// Everything the traits read back, one labelled line per read.
async fn snapshot(s: &Store, filled: &Filled) -> Vec<String> {
    let now = at(60);
    let mut out = Vec::new();
    for id in &filled.events {
        out.push(format!("event {id}: {:?}", s.event(id).await.unwrap()));
        out.push(format!(
            "dispatch {id}: {:?}",
            s.dispatch_rows(id).await.unwrap()
        ));
        out.push(format!(
            "journal {id}: {:?}",
            s.journal_for_event(id).await.unwrap()
        ));
    }
    for key in ["counter", "basket"] {
        out.push(format!(
            "kv {key}: {:?}",
            s.kv_get(SHOP, "p", key, now).await.unwrap()
        ));
    }
    out.push(format!(
        "kv stats: {:?}",
        s.kv_stats(SHOP, "p", now).await.unwrap()
    ));
    out.push(format!("timers: {:?}", s.timers(SHOP).await.unwrap()));
    out.push(format!(
        "case link: {:?}",
        s.case_link(SHOP, &case_key()).await.unwrap()
    ));
    out.push(format!(
        "case record: {:?}",
        s.case_record("c-1").await.unwrap()
    ));
    out.push(format!("poll marks: {:?}", s.poll_marks().await.unwrap()));
    out.push(format!(
        "held: {:?}",
        s.held_operation("t-1").await.unwrap()
    ));
    out.push(format!("stores: {:?}", s.stores().await.unwrap()));
    out.push(format!(
        "installations: {:?}",
        s.installations(None).await.unwrap()
    ));
    out.push(format!("tokens: {:?}", s.api_tokens().await.unwrap()));
    out.push(format!(
        "audit: {:?}",
        s.audit_log(None, 100).await.unwrap()
    ));
    out.push(format!(
        "dead letters: {:?}",
        s.dead_letters(None, false, 100).await.unwrap()
    ));
    out.push(format!(
        "privacy: {:?}",
        s.privacy_records(None, 100).await.unwrap()
    ));
    out.push(format!("inbox stats: {:?}", s.stats(now).await.unwrap()));
    out.push(format!(
        "journal stats: {:?}",
        s.journal_stats().await.unwrap()
    ));
    out
}

/// The tables of the schema that `copied` leaves out: every table of
/// SQLite's catalog and of PostgreSQL's, but for each engine's migration
/// record (`schema_migrations`) and SQLite's `meta` (whose one row is
/// PostgreSQL's sequence `kv_version`).
async fn left_out(db: &Db, copied: &[String]) -> Vec<String> {
    let mut tables: BTreeSet<String> = db
        .sqlite_behind_the_back()
        .texts("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .await
        .into_iter()
        .collect();
    tables.extend(
        db.behind_the_back()
            .await
            .texts("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema()")
            .await,
    );
    for own in ["schema_migrations", "meta"] {
        tables.remove(own);
    }
    for t in copied {
        tables.remove(t);
    }
    tables.into_iter().collect()
}

fn names(report: &CopyReport) -> Vec<String> {
    report.tables.iter().map(|t| t.table.clone()).collect()
}

/// Rows in every table of the test's PostgreSQL schema.
async fn pg_rows(db: &Db) -> i64 {
    let raw = db.behind_the_back().await;
    let mut total = 0;
    for t in raw
        .texts("SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations'")
        .await
    {
        total += raw.ints(&format!("SELECT count(*) FROM \"{t}\"")).await[0];
    }
    total
}

#[tokio::test]
async fn a_stopped_hosts_database_is_copied_whole_verified_and_reads_back_the_same() {
    let db = Db::create().await;
    let lite = db.open_sqlite();
    let mut filled = fill(&lite).await;
    // Retention deleted the newest timer: its id is used up all the same.
    let ids = db
        .sqlite_behind_the_back()
        .ints("SELECT max(id) FROM timers")
        .await;
    filled.deleted_timer = ids[0];
    db.sqlite_behind_the_back()
        .exec(
            "DELETE FROM timers WHERE id = ?1",
            &[filled.deleted_timer.into()],
        )
        .await;
    let before = snapshot(&lite, &filled).await;
    let versions: Vec<u64> = [
        lite.kv_get(SHOP, "p", "counter", at(60)).await.unwrap(),
        lite.kv_get(SHOP, "p", "basket", at(60)).await.unwrap(),
    ]
    .into_iter()
    .map(|v| v.unwrap().version)
    .collect();
    drop(lite);

    let mut progress = Vec::new();
    let report = sqlite_to_postgres(db.path(), &config(), &db.postgres_config(), |t| {
        progress.push(t.clone())
    })
    .await
    .unwrap();

    // Every table of the schema, each with rows, each reported as copied.
    assert_eq!(left_out(&db, &names(&report)).await, Vec::<String>::new());
    for t in &report.tables {
        assert!(t.rows > 0, "the fill leaves `{}` empty: fill it", t.table);
        assert_eq!(t.digest.len(), 64, "{t:?}");
    }
    assert_eq!(
        progress, report.tables,
        "progress reports every table, in order"
    );
    assert_eq!(report.schema_version, 10);
    assert!(report.source.ends_with("shopcase.db"), "{report:?}");
    assert!(
        report.kv_version >= *versions.iter().max().unwrap() as i64,
        "{report:?}"
    );
    let rows = |name: &str| report.tables.iter().find(|t| t.table == name).unwrap().rows;
    assert_eq!((rows("inbox"), rows("timers"), rows("kv")), (2, 1, 2));

    // Read back through the PostgreSQL storage: the same.
    let pg = db.open().await;
    let after = snapshot(&pg, &filled).await;
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b, a);
    }
    assert_eq!(before.len(), after.len());

    // New work gets ids and versions after the copied ones.
    let new = order_event("w-9", 9);
    let e9 = new.event_id();
    pg.insert_event(new).await.unwrap();
    let claimed = pg.claim_events(claim(TAKER, at(100))).await.unwrap();
    assert_eq!(claimed.len(), 1, "only the new event is pending");
    pg.finish_event(finish(
        &e9,
        at(101),
        "p",
        ran(vec![kv("counter", "2", None)]),
    ))
    .await
    .unwrap();
    let counter = pg
        .kv_get(SHOP, "p", "counter", at(102))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counter.value, "2");
    assert!(
        counter.version > *versions.iter().max().unwrap(),
        "a write after the copy: version {} above every copied one ({versions:?})",
        counter.version
    );
    let TimerScheduled::Scheduled { id, .. } =
        pg.schedule_timer(timer("later"), at(103)).await.unwrap()
    else {
        panic!("scheduled")
    };
    assert!(
        id > filled.deleted_timer,
        "timer ids are never reused: {id} after {}",
        filled.deleted_timer
    );
    pg.record_audit(NewAudit {
        actor: "ops@example.com".into(),
        action: "after.copy".into(),
        shop: None,
        plugin_id: None,
        details: serde_json::json!({}),
        at: at(104),
    })
    .await
    .unwrap();
    let log = pg.audit_log(None, 100).await.unwrap();
    assert_eq!(log[0].entry.action, "after.copy");
    assert!(log[1..].iter().all(|a| a.id < log[0].id), "{log:?}");
    // Every identity sequence is past its column's largest value.
    let raw = db.behind_the_back().await;
    for column in raw
        .texts(
            "SELECT table_name || '.' || column_name FROM information_schema.columns
             WHERE table_schema = current_schema() AND is_identity = 'YES'",
        )
        .await
    {
        let (t, c) = column.split_once('.').unwrap();
        let gap = raw
            .ints(&format!(
                "SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('{t}', '{c}')::regclass), 0)
                        - (SELECT coalesce(max({c}), 0) FROM {t})"
            ))
            .await[0];
        assert!(gap >= 0, "{column}: the sequence is {gap} behind");
    }

    // A second copy into the now non-empty target is refused, naming the
    // tables, and changes nothing.
    let held = pg_rows(&db).await;
    let err = sqlite_to_postgres(db.path(), &config(), &db.postgres_config(), |_| {})
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(
        message.contains("is not empty") && message.contains("`inbox`"),
        "{message}"
    );
    assert_eq!(pg_rows(&db).await, held);
}

#[tokio::test]
async fn the_completeness_check_finds_a_table_left_out_of_the_copy() {
    let db = Db::create().await;
    drop(db.open_sqlite());
    // An empty database copies too: every table, no rows.
    let report = sqlite_to_postgres(db.path(), &config(), &db.postgres_config(), |_| {})
        .await
        .unwrap();
    assert!(report.tables.iter().all(|t| t.rows == 0), "{report:?}");
    assert_eq!(report.kv_version, 0);
    let all = names(&report);
    assert!(all.len() >= 15, "{all:?}");
    assert_eq!(left_out(&db, &all).await, Vec::<String>::new());
    // Any table missing from the copy list is named.
    for t in &all {
        let without: Vec<String> = all.iter().filter(|n| *n != t).cloned().collect();
        assert_eq!(left_out(&db, &without).await, vec![t.clone()]);
    }
    // Versions start at 1 after an empty copy.
    let pg = db.open().await;
    pg.insert_event(order_event("w-1", 1)).await.unwrap();
    let claimed = pg.claim_events(claim(TAKER, at(10))).await.unwrap();
    pg.finish_event(finish(
        &claimed[0].event.event.id,
        at(11),
        "p",
        ran(vec![kv("k", "v", None)]),
    ))
    .await
    .unwrap();
    assert_eq!(
        pg.kv_get(SHOP, "p", "k", at(12))
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
}

#[tokio::test]
async fn a_value_that_cannot_be_carried_over_leaves_the_target_empty() {
    let db = Db::create().await;
    // No SQLite database: nothing to copy.
    let err = sqlite_to_postgres(db.path(), &config(), &db.postgres_config(), |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");

    let lite = db.open_sqlite();
    fill(&lite).await;
    drop(lite);
    // A flag that is neither 0 nor 1 has no boolean: refused, after other
    // tables were copied in the same transaction, and none of them kept.
    let raw = db.sqlite_behind_the_back();
    raw.exec("UPDATE stores SET configured = 2", &[]).await;
    let err = sqlite_to_postgres(db.path(), &config(), &db.postgres_config(), |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Corrupt { message, .. } if message.contains("stores.configured") && message.contains("0/1")),
        "{err:?}"
    );
    assert_eq!(pg_rows(&db).await, 0, "nothing committed");
    // Repaired, the copy goes through into the still-empty target.
    raw.exec("UPDATE stores SET configured = 1", &[]).await;
    let report = sqlite_to_postgres(db.path(), &config(), &db.postgres_config(), |_| {})
        .await
        .unwrap();
    assert!(report.tables.iter().all(|t| t.rows > 0), "{report:?}");
}

#[tokio::test]
async fn a_database_another_process_writes_to_is_refused() {
    let db = Db::create().await;
    drop(db.open_sqlite());
    let Raw::Sqlite(writer) = db.sqlite_behind_the_back() else {
        unreachable!()
    };
    writer.execute_batch("BEGIN IMMEDIATE").unwrap();
    let err = sqlite_to_postgres(db.path(), &config(), &db.postgres_config(), |_| {})
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("locked by another process") && err.is_unavailable(),
        "{err}"
    );
    writer.execute_batch("ROLLBACK").unwrap();
    assert_eq!(pg_rows(&db).await, 0);
}
