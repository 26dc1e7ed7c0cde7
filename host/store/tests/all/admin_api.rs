//! The admin API's storage: hashed API tokens, and the searches behind its
//! listings (events, journal, dead letters, case links).

use std::time::Duration;

use shopcase_contract::action::{CaseStatus, Priority, ShopifyOperation, TagsChange, Target};
use shopcase_contract::{Action, CaseKey, Subject};
use shopcase_store::*;

use super::support::*;

fn audit(action: &str, t: i64) -> NewAudit {
    NewAudit {
        actor: "ops@example.com".into(),
        action: action.into(),
        shop: None,
        plugin_id: None,
        details: serde_json::json!({}),
        at: at(t),
    }
}

fn token(id: &str, hash: &str) -> NewApiToken {
    NewApiToken {
        id: id.into(),
        name: format!("{id} name"),
        role: ApiRole::StoreAdmin,
        stores: vec![SHOP.into()],
        hash: hash.into(),
        created_by: "ops@example.com".into(),
        created_at: at(0),
    }
}

#[tokio::test]
async fn tokens_are_found_by_hash_touched_and_revoked_once() {
    let (_d, s) = open().await;
    s.create_api_token(token("t1", "aa"), audit("token.create", 0))
        .await
        .unwrap();
    let dup_id = s
        .create_api_token(token("t1", "bb"), audit("token.create", 0))
        .await;
    assert!(matches!(dup_id, Err(StoreError::Conflict(_))), "{dup_id:?}");
    let dup_hash = s
        .create_api_token(token("t2", "aa"), audit("token.create", 0))
        .await;
    assert!(
        matches!(dup_hash, Err(StoreError::Conflict(_))),
        "{dup_hash:?}"
    );

    let t = s.api_token_by_hash("aa").await.unwrap().unwrap();
    assert_eq!(
        (t.id.as_str(), t.role, t.stores.as_slice()),
        ("t1", ApiRole::StoreAdmin, [SHOP.to_owned()].as_slice())
    );
    assert!(t.last_used_at.is_none() && t.revoked_at.is_none());
    assert!(s.api_token_by_hash("bb").await.unwrap().is_none());

    // Touches are written at most once a minute.
    s.touch_api_token("t1", at(10)).await.unwrap();
    s.touch_api_token("t1", at(20)).await.unwrap();
    assert_eq!(
        s.api_token_by_hash("aa")
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(at(10))
    );
    s.touch_api_token("t1", at(80)).await.unwrap();
    assert_eq!(
        s.api_token_by_hash("aa")
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(at(80))
    );

    assert!(
        s.revoke_api_token("t1", audit("token.revoke", 90))
            .await
            .unwrap()
    );
    assert!(
        !s.revoke_api_token("t1", audit("token.revoke", 91))
            .await
            .unwrap(),
        "second revoke changes nothing"
    );
    let missing = s.revoke_api_token("nope", audit("token.revoke", 92)).await;
    assert!(matches!(missing, Err(StoreError::NotFound { .. })));
    let all = s.api_tokens().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].revoked_at, Some(at(90)));
    assert_eq!(all[0].revoked_by.as_deref(), Some("ops@example.com"));

    // One audit record per change (create, revoke), none for refusals.
    let log = s.audit_log(None, 10).await.unwrap();
    let actions: Vec<_> = log.iter().map(|e| e.entry.action.as_str()).collect();
    assert_eq!(actions, ["token.revoke", "token.create"]);
}

fn event(shop: &str, webhook: &str, order: u64, topic: &str, secs: i64) -> NewEvent {
    let mut e = order_event(webhook, order);
    e.shop = shop.into();
    e.topic = topic.into();
    e.shopify_event_id = None;
    e.received_at = at(secs);
    e
}

#[tokio::test]
async fn events_are_searched_newest_first_by_store_order_topic_status_and_time() {
    let (_d, s) = open().await;
    let other = "other.myshopify.com";
    let mut ids = Vec::new();
    for (i, (shop, order, topic)) in [
        (SHOP, 1, "orders/create"),
        (SHOP, 2, "orders/create"),
        (other, 1, "orders/create"),
        (SHOP, 1, "orders/paid"),
    ]
    .into_iter()
    .enumerate()
    {
        let e = event(shop, &format!("w{i}"), order, topic, i as i64 * 10);
        ids.push(e.event_id());
        s.insert_event(e).await.unwrap();
    }
    let search = |q: EventQuery| {
        let s = s.clone();
        async move {
            s.search_events(EventQuery { limit: 10, ..q })
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.event.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search(EventQuery::default()).await,
        [
            ids[3].clone(),
            ids[2].clone(),
            ids[1].clone(),
            ids[0].clone()
        ]
    );
    assert_eq!(
        search(EventQuery {
            shops: Some(vec![SHOP.into()]),
            order_id: Some(1),
            ..EventQuery::default()
        })
        .await,
        [ids[3].clone(), ids[0].clone()]
    );
    assert_eq!(
        search(EventQuery {
            topic: Some("orders/create".into()),
            received_from: Some(at(10)),
            received_until: Some(at(30)),
            ..EventQuery::default()
        })
        .await,
        [ids[2].clone(), ids[1].clone()]
    );
    assert!(
        search(EventQuery {
            status: Some(EventStatus::Done),
            ..EventQuery::default()
        })
        .await
        .is_empty()
    );
    assert!(
        search(EventQuery {
            shops: Some(vec![]),
            ..EventQuery::default()
        })
        .await
        .is_empty(),
        "an empty store list matches nothing"
    );
    // Paging: the next page starts below the last sequence number seen.
    let first = s
        .search_events(EventQuery {
            limit: 2,
            ..EventQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(
        search(EventQuery {
            before_seq: Some(first[1].seq),
            ..EventQuery::default()
        })
        .await,
        [ids[1].clone(), ids[0].clone()]
    );
}

#[tokio::test]
async fn journal_dead_letters_and_case_links_are_searchable() {
    let (_d, s) = open().await;
    let ev = order_event("w-1", 42);
    let id = ev.event_id();
    s.insert_event(ev).await.unwrap();
    s.claim_events(Claim {
        worker: "d".into(),
        limit: 1,
        lease: Duration::from_secs(30),
        now: at(1),
        poison_after: 0,
    })
    .await
    .unwrap();
    let tag = |t: &str| {
        Action::Shopify(ShopifyOperation::TagsAdd(TagsChange {
            target: Target::Order(42),
            tags: vec![t.into()],
        }))
    };
    s.finish_event(EventFinish {
        event_id: id.clone(),
        worker: "d".into(),
        now: at(1),
        quarantine_after: 0,
        read_redacted_at: None,
        outcomes: vec![
            PluginOutcome {
                plugin_id: "tagger".into(),
                plugin_version: "1.0.0".into(),
                result: PluginResult::Succeeded(RunSuccess {
                    actions: vec![tag("a"), tag("b")],
                    kv_reads: vec![],
                    kv_writes: vec![],
                    budget: None,
                }),
            },
            PluginOutcome {
                plugin_id: "broken".into(),
                plugin_version: "1.0.0".into(),
                result: PluginResult::Dead {
                    failure: FailureRecord::new("trap", "unreachable"),
                },
            },
        ],
    })
    .await
    .unwrap();

    let entries = s
        .search_journal(JournalQuery {
            shops: Some(vec![SHOP.into()]),
            plugin_id: Some("tagger".into()),
            family: Some(ActionFamily::Shopify),
            status: Some(JournalStatus::Pending),
            order_id: Some(42),
            limit: 10,
        })
        .await
        .unwrap();
    let keys: Vec<_> = entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, [format!("{id}:tagger:1"), format!("{id}:tagger:0")]);
    for miss in [
        JournalQuery {
            shops: Some(vec!["other.myshopify.com".into()]),
            limit: 10,
            ..JournalQuery::default()
        },
        JournalQuery {
            family: Some(ActionFamily::Case),
            limit: 10,
            ..JournalQuery::default()
        },
        JournalQuery {
            order_id: Some(43),
            limit: 10,
            ..JournalQuery::default()
        },
    ] {
        assert!(
            s.search_journal(miss.clone()).await.unwrap().is_empty(),
            "{miss:?}"
        );
    }

    let open_letters = s.dead_letters(Some(SHOP), true, 10).await.unwrap();
    assert_eq!(open_letters.len(), 1);
    let one = s.dead_letter(open_letters[0].id).await.unwrap().unwrap();
    assert_eq!(one, open_letters[0]);
    assert_eq!(one.plugin_id.as_deref(), Some("broken"));
    assert_eq!(one.what, DeadLetterKind::Dispatch);
    assert!(s.dead_letter(one.id + 100).await.unwrap().is_none());

    for (subject, case_id, secs) in [
        (Subject::Order(42), "c-1", 5),
        (Subject::Customer(7001), "c-2", 6),
    ] {
        s.put_case_link(CaseLink {
            shop: SHOP.into(),
            key: CaseKey {
                case_type: "fraud".into(),
                subject,
            },
            case_id: case_id.into(),
            case_number: format!("CASE-{case_id}"),
            status: CaseStatus::New,
            priority: Priority::High,
            escalation_level: 0,
            opened_at: "2026-11-26T10:00:00Z".into(),
            plugin_id: Some("tagger".into()),
            last_updated_on: None,
            updated_at: at(secs),
        })
        .await
        .unwrap();
    }
    let ids = |links: Vec<CaseLink>| links.into_iter().map(|l| l.case_id).collect::<Vec<_>>();
    let all = s
        .search_case_links(CaseLinkQuery {
            limit: 10,
            ..CaseLinkQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(all), ["c-2", "c-1"]);
    let by_order = s
        .search_case_links(CaseLinkQuery {
            shops: Some(vec![SHOP.into()]),
            order_id: Some(42),
            limit: 10,
            ..CaseLinkQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(by_order), ["c-1"]);
    let by_case = s
        .search_case_links(CaseLinkQuery {
            case_id: Some("c-2".into()),
            limit: 10,
            ..CaseLinkQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(by_case), ["c-2"]);
}
