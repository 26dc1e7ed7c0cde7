//! Privacy: planted personal data is exported on request, and nothing of it
//! remains anywhere in the database files after redaction.

use std::time::Duration;

use base64::Engine as _;
use shopcase_contract::action::{
    Document, NoteAppend, OpenCase, Priority, ShopifyOperation, TagsChange, Target,
};
use shopcase_contract::{Action, CaseKey, Resources, Subject};
use shopcase_store::*;

use super::support::*;

const EMAIL: &str = "ann.lindqvist@example.com";
const PHONE: &str = "+1 555-010-0199";
const SECRETS: &[&str] = &[
    EMAIL,
    "Lindqvist",
    "12 Birch Lane",
    "203.0.113.77",
    "555-010-0199",
    "4111111111",
];

fn ann_order() -> serde_json::Value {
    serde_json::json!({
        "id": 5001, "name": "#5001", "email": EMAIL, "phone": PHONE, "browser_ip": "203.0.113.77",
        "note": "Ann Lindqvist asked for gift wrap",
        "customer": {"id": 7001, "email": EMAIL, "first_name": "Ann", "last_name": "Lindqvist"},
        "shipping_address": {"name": "Ann Lindqvist", "address1": "12 Birch Lane", "city": "Springfield",
            "country_code": "US", "phone": PHONE},
        "transactions": [{"payment_details": {"credit_card_number": "4111111111"}}],
        "total_price": "950.00"
    })
}

fn bob_order() -> serde_json::Value {
    serde_json::json!({"id": 6001, "email": "bob@example.com", "customer": {"id": 8002, "first_name": "Bob"},
        "total_price": "10.00"})
}

fn event(webhook: &str, topic: &str, payload: serde_json::Value) -> NewEvent {
    NewEvent {
        topic: topic.into(),
        resources: Resources::from_shopify(topic, &payload),
        payload: payload.to_string(),
        shopify_event_id: None,
        ..order_event(webhook, 0)
    }
}

fn plugin_actions() -> Vec<Action> {
    vec![
        Action::OpenCase(OpenCase {
            key: CaseKey {
                case_type: "fraud".into(),
                subject: Subject::Order(5001),
            },
            title: "Review order of Ann Lindqvist".into(),
            summary: format!("Contact: {EMAIL}"),
            priority: Priority::High,
            owner: None,
            owner_group: None,
            due: None,
            attributes: vec![],
            documents: vec![Document {
                name: "evidence.txt".into(),
                content_type: "text/plain".into(),
                description: String::new(),
                content: format!("complaint from {EMAIL}").into_bytes(),
            }],
        }),
        Action::Shopify(ShopifyOperation::TagsAdd(TagsChange {
            target: Target::Order(5001),
            tags: vec!["fraud-review".into()],
        })),
    ]
}

/// Events for Ann (an order and a customer update) and Bob, Ann's actions
/// journalled, key-value data, a timer and a dead letter mentioning her.
async fn plant(s: &Store) -> (String, String) {
    let a = event("w-ann", "orders/create", ann_order());
    let c = event(
        "w-ann-update",
        "customers/update",
        serde_json::json!({"id": 7001, "email": EMAIL, "first_name": "Ann", "last_name": "Lindqvist"}),
    );
    let b = event("w-bob", "orders/create", bob_order());
    let (a_id, c_id, b_id) = (a.event_id(), c.event_id(), b.event_id());
    for e in [a, c, b] {
        s.insert_event(e).await.unwrap();
    }
    s.claim_events(Claim {
        worker: "w".into(),
        limit: 10,
        lease: Duration::from_secs(30),
        now: at(2),
        poison_after: 0,
    })
    .await
    .unwrap();
    let outcome = |plugin: &str, result| PluginOutcome {
        plugin_id: plugin.into(),
        plugin_version: "1.0.0".into(),
        result,
    };
    s.finish_event(EventFinish {
        event_id: a_id.clone(),
        worker: "w".into(),
        now: at(3),
        quarantine_after: 0,
        read_redacted_at: None,
        outcomes: vec![outcome(
            "fraud",
            PluginResult::Succeeded(RunSuccess {
                actions: plugin_actions(),
                kv_reads: vec![],
                kv_writes: vec![
                    KvWrite {
                        key: "customer:7001:orders".into(),
                        value: Some("3".into()),
                        expires_at: None,
                    },
                    KvWrite {
                        key: "last-contact".into(),
                        value: Some(EMAIL.into()),
                        expires_at: None,
                    },
                    KvWrite {
                        key: "customer:8002:orders".into(),
                        value: Some("1".into()),
                        expires_at: None,
                    },
                ],
                budget: None,
            }),
        )],
    })
    .await
    .unwrap();
    s.finish_event(EventFinish {
        event_id: c_id,
        worker: "w".into(),
        now: at(3),
        quarantine_after: 0,
        read_redacted_at: None,
        outcomes: vec![outcome(
            "fraud",
            PluginResult::Dead {
                failure: FailureRecord::new("plugin-error", format!("cannot score {EMAIL}")),
            },
        )],
    })
    .await
    .unwrap();
    s.schedule_timer(
        NewTimer {
            shop: SHOP.into(),
            plugin_id: "fraud".into(),
            name: "recheck".into(),
            resources: Resources {
                order_id: Some(5001),
                customer_id: Some(7001),
                ..Resources::default()
            },
            due: at(1000),
            data: serde_json::json!({"email": EMAIL}).to_string(),
            scheduled_by: a_id.clone(),
            source_key: format!("{a_id}:fraud:9"),
        },
        at(3),
    )
    .await
    .unwrap();
    // An operation held for an approval, whose note names her, decided
    // with a comment quoting her phone number.
    s.hold_operation(NewHeldOperation {
        task_id: "task-ann".into(),
        source_key: format!("{a_id}:fraud:5"),
        shop: SHOP.into(),
        plugin_id: "fraud".into(),
        event_id: a_id.clone(),
        index: 5,
        case_id: "case-ann".into(),
        key: CaseKey {
            case_type: "fraud".into(),
            subject: Subject::Order(5001),
        },
        operation: ShopifyOperation::NoteAppend(NoteAppend {
            target: Target::Order(5001),
            text: "Refund approved for Ann Lindqvist".into(),
        }),
        resources: Resources {
            order_id: Some(5001),
            customer_id: Some(7001),
            ..Resources::default()
        },
        now: at(3),
    })
    .await
    .unwrap();
    s.decide_held_operation(HeldDecision {
        task_id: "task-ann".into(),
        approved: false,
        decided_by: Some("analyst".into()),
        comment: Some(format!("called her on {PHONE}, no refund")),
        now: at(4),
    })
    .await
    .unwrap();
    (a_id, b_id)
}

fn ann() -> CustomerIdentity {
    CustomerIdentity {
        shop: SHOP.into(),
        customer_id: 7001,
        emails: vec![EMAIL.into()],
        phones: vec![PHONE.into()],
        orders: vec![5001],
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[tokio::test]
async fn a_data_request_exports_what_is_held_on_the_customer() {
    let (_d, s) = open().await;
    plant(&s).await;
    let data = s.customer_data(ann()).await.unwrap();
    let topics: Vec<_> = data
        .events
        .iter()
        .map(|e| e["topic"].as_str().unwrap())
        .collect();
    assert_eq!(
        topics,
        ["orders/create", "customers/update"],
        "Bob's order is not Ann's"
    );
    assert_eq!(
        data.events[0]["payload"]["shipping_address"]["address1"],
        "12 Birch Lane"
    );
    assert_eq!(data.journal.len(), 2);
    let keys: Vec<_> = data.kv.iter().map(|k| k["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["customer:7001:orders", "last-contact"]);
    assert_eq!(data.timers.len(), 1);
}

#[tokio::test]
async fn customer_redaction_leaves_nothing_behind() {
    let (dir, s) = open().await;
    let (a_id, b_id) = plant(&s).await;
    let before = dir.residue().await;
    assert!(
        SECRETS.iter().all(|x| contains(&before, x)),
        "the planted data is in the files"
    );

    let report = s.redact_customer(ann(), at(10)).await.unwrap();
    assert_eq!(report.events, 2);
    assert_eq!(
        report.journal, 1,
        "the open-case mentioned her; the tags-add did not"
    );
    assert_eq!(report.kv, 2);
    assert_eq!(report.timers, 1);
    assert!(
        report.records >= 3,
        "dead letter, dispatch failure and held operation: {report:?}"
    );

    let after = dir.residue().await;
    for secret in SECRETS {
        assert!(
            !contains(&after, secret),
            "`{secret}` is still in the database files"
        );
    }
    // The document's content was replaced, not just its base64 text.
    let j = s.journal_for_event(&a_id).await.unwrap();
    let Action::OpenCase(open) = &j[0].action else {
        panic!()
    };
    assert_eq!(open.documents[0].content, b"[redacted]");
    assert_eq!(open.title, "Review order of [redacted]");
    assert_eq!(open.summary, "Contact: [redacted]");
    let held = s.held_operation("task-ann").await.unwrap().unwrap();
    assert_eq!(
        held.operation,
        ShopifyOperation::NoteAppend(NoteAppend {
            target: Target::Order(5001),
            text: "Refund approved for [redacted]".into(),
        })
    );
    assert_eq!(
        held.comment.as_deref(),
        Some("called her on [redacted], no refund")
    );
    assert_eq!(held.status, HeldStatus::Rejected);
    // Business data and ids stay.
    let a = s.event(&a_id).await.unwrap().unwrap();
    assert!(a.redacted_at.is_some());
    let p: serde_json::Value = serde_json::from_str(&a.event.payload).unwrap();
    assert_eq!(
        (
            p["id"].as_u64(),
            p["total_price"].as_str(),
            p["customer"]["id"].as_u64()
        ),
        (Some(5001), Some("950.00"), Some(7001))
    );
    // The order's note is the customer's free text (`customer-notes`):
    // removed with the other personal-data classes.
    assert!(p.get("note").is_none(), "{p}");
    // Bob is untouched.
    let b = s.event(&b_id).await.unwrap().unwrap();
    assert_eq!(b.event.payload, bob_order().to_string());
    assert!(b.redacted_at.is_none());
    assert_eq!(
        s.kv_get(SHOP, "fraud", "customer:8002:orders", at(10))
            .await
            .unwrap()
            .unwrap()
            .value,
        "1"
    );
    assert!(
        s.kv_get(SHOP, "fraud", "customer:7001:orders", at(10))
            .await
            .unwrap()
            .is_none()
    );
    // The export finds nothing personal any more.
    let data = s.customer_data(ann()).await.unwrap();
    let text = serde_json::to_string(&data).unwrap();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // Base64 of the document's old content is gone too.
    let old = base64::engine::general_purpose::STANDARD.encode(format!("complaint from {EMAIL}"));
    assert!(!contains(&after, &old));
}

#[tokio::test]
async fn shop_redaction_deletes_everything_of_the_store() {
    let (dir, s) = open().await;
    plant(&s).await;
    s.sync_stores(vec![(SHOP.into(), "2026-07".into())], at(0))
        .await
        .unwrap();
    super::admin::install(&s, "fraud", true).await;
    // Another store's data must survive.
    let mut other = event(
        "w-other",
        "orders/create",
        serde_json::json!({"id": 1, "note": "keep-me-please"}),
    );
    other.shop = "other.myshopify.com".into();
    let other_id = other.event_id();
    s.insert_event(other).await.unwrap();

    let report = s.redact_shop(SHOP, at(20)).await.unwrap();
    assert_eq!(report.deleted["inbox"], 3);
    assert_eq!(report.deleted["journal"], 2);
    assert_eq!(report.deleted["kv"], 3);
    assert_eq!(report.deleted["installations"], 1);
    let after = dir.residue().await;
    for secret in SECRETS.iter().chain(&["bob@example.com", "fraud-review"]) {
        assert!(
            !contains(&after, secret),
            "`{secret}` survived the shop redaction"
        );
    }
    assert!(s.installations(Some(SHOP)).await.unwrap().is_empty());
    assert!(s.timers(SHOP).await.unwrap().is_empty());
    assert!(
        s.dead_letters(Some(SHOP), false, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(s.stores().await.unwrap().is_empty());
    assert!(s.event(&other_id).await.unwrap().is_some());
    // What remains is the record that it was done.
    let log = s.audit_log(Some(SHOP), 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].entry.action, "shop.redact");
}

#[tokio::test]
async fn results_read_before_a_redaction_are_not_kept_and_the_run_repeats() {
    let (dir, s) = open().await;
    let e = event("w-ann", "orders/create", ann_order());
    let id = e.event_id();
    s.insert_event(e).await.unwrap();
    let claimed = s
        .claim_events(Claim {
            worker: "w".into(),
            limit: 10,
            lease: Duration::from_secs(30),
            now: at(2),
            poison_after: 0,
        })
        .await
        .unwrap();
    assert_eq!(claimed[0].event.redacted_at, None);

    // While the plugin runs, a `customers/redact` erases Ann.
    let report = s.redact_customer(ann(), at(3)).await.unwrap();
    assert_eq!(report.events, 1);

    // The run finishes with what it read before: actions naming her.
    let finish = |read_redacted_at, now| EventFinish {
        event_id: id.clone(),
        worker: "w".into(),
        now,
        quarantine_after: 0,
        outcomes: vec![PluginOutcome {
            plugin_id: "fraud".into(),
            plugin_version: "1.0.0".into(),
            result: PluginResult::Succeeded(RunSuccess {
                actions: plugin_actions(),
                kv_reads: vec![],
                kv_writes: vec![KvWrite {
                    key: "last-contact".into(),
                    value: Some(EMAIL.into()),
                    expires_at: None,
                }],
                budget: None,
            }),
        }],
        read_redacted_at,
    };
    let r = s.finish_event(finish(None, at(4))).await.unwrap();
    assert_eq!(r.plugins, [("fraud".to_owned(), PluginFinish::Deferred)]);
    assert!(s.journal_for_event(&id).await.unwrap().is_empty());
    assert!(
        s.kv_get(SHOP, "fraud", "last-contact", at(4))
            .await
            .unwrap()
            .is_none()
    );
    let files = dir.residue().await;
    for secret in SECRETS {
        assert!(!contains(&files, secret), "`{secret}` was written");
    }

    // It runs again at once, on the redacted payload, and that is kept.
    let again = s
        .claim_events(Claim {
            worker: "w".into(),
            limit: 10,
            lease: Duration::from_secs(30),
            now: at(5),
            poison_after: 0,
        })
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    let seen = again[0].event.redacted_at;
    assert!(seen.is_some());
    assert!(!again[0].event.event.payload.contains(EMAIL));
    let r = s.finish_event(finish(seen, at(6))).await.unwrap();
    assert!(
        matches!(r.plugins[0].1, PluginFinish::Journalled { .. }),
        "{r:?}"
    );
    assert_eq!(r.event, EventProgress::Done);
}

#[tokio::test]
async fn a_large_inbox_is_redacted_in_batches_and_completely() {
    let (dir, s) = open().await;
    // More events than one batch of the redaction (512), interleaved.
    let n = 1_100u64;
    for i in 0..n {
        let payload = if i % 2 == 0 {
            serde_json::json!({"id": 9000 + i, "email": EMAIL, "customer": {"id": 7001, "last_name": "Lindqvist"}})
        } else {
            serde_json::json!({"id": 9000 + i, "email": "bob@example.com", "customer": {"id": 8002}})
        };
        s.insert_event(event(&format!("w-{i}"), "orders/create", payload))
            .await
            .unwrap();
    }
    let report = s.redact_customer(ann(), at(10)).await.unwrap();
    assert_eq!(report.events, n / 2);
    let after = dir.residue().await;
    assert!(!contains(&after, EMAIL));
    assert!(!contains(&after, "Lindqvist"));
    assert!(contains(&after, "bob@example.com"), "Bob is untouched");
    // Again: nothing left to do.
    assert_eq!(s.redact_customer(ann(), at(11)).await.unwrap().events, 0);
}

#[tokio::test]
async fn a_large_journal_is_redacted_in_batches_and_completely() {
    let (dir, s) = open().await;
    // Each event journals two actions, one of which names Ann: more
    // journal rows than one batch of the redaction (512).
    let n = 400u64;
    let mut ids = Vec::new();
    for i in 0..n {
        let e = event(
            &format!("w-{i}"),
            "orders/create",
            serde_json::json!({"id": 9000 + i, "customer": {"id": 7001}}),
        );
        ids.push(e.event_id());
        s.insert_event(e).await.unwrap();
    }
    s.claim_events(Claim {
        worker: "w".into(),
        limit: n as usize,
        lease: Duration::from_secs(30),
        now: at(2),
        poison_after: 0,
    })
    .await
    .unwrap();
    for id in &ids {
        s.finish_event(EventFinish {
            event_id: id.clone(),
            worker: "w".into(),
            now: at(3),
            quarantine_after: 0,
            read_redacted_at: None,
            outcomes: vec![PluginOutcome {
                plugin_id: "fraud".into(),
                plugin_version: "1.0.0".into(),
                result: PluginResult::Succeeded(RunSuccess {
                    actions: plugin_actions(),
                    kv_reads: vec![],
                    kv_writes: vec![],
                    budget: None,
                }),
            }],
        })
        .await
        .unwrap();
    }
    assert!(contains(&dir.residue().await, EMAIL));
    let report = s.redact_customer(ann(), at(10)).await.unwrap();
    assert_eq!(
        report.journal, n,
        "every open-case naming her, across batches"
    );
    assert!(!contains(&dir.residue().await, EMAIL));
    assert_eq!(s.redact_customer(ann(), at(11)).await.unwrap().journal, 0);
}

#[tokio::test]
async fn an_app_uninstalled_delivery_records_the_uninstall_until_the_shop_is_redacted() {
    let (_d, s) = open().await;
    assert_eq!(s.uninstalled(SHOP).await.unwrap(), None);
    // Other topics record nothing, nor does a host event of that topic.
    s.insert_event(order_event("w-1", 1)).await.unwrap();
    let mut from_host = event("w-host", "app/uninstalled", serde_json::json!({"id": 1}));
    from_host.source = EventSource::Timer;
    s.insert_event(from_host).await.unwrap();
    assert_eq!(s.uninstalled(SHOP).await.unwrap(), None);

    let Inserted::New { event_id } = s
        .insert_event(event(
            "w-2",
            "app/uninstalled",
            serde_json::json!({"id": 1}),
        ))
        .await
        .unwrap()
    else {
        panic!("new")
    };
    let u = s.uninstalled(SHOP).await.unwrap().expect("recorded");
    assert_eq!(u.by, format!("app/uninstalled {event_id}"));
    assert_eq!(u.at, at(1), "when it was received");
    // A redelivery changes nothing.
    s.insert_event(event(
        "w-2",
        "app/uninstalled",
        serde_json::json!({"id": 1}),
    ))
    .await
    .unwrap();
    assert_eq!(s.uninstalled(SHOP).await.unwrap(), Some(u));
    // A shop redaction deletes it with the store's rows.
    s.redact_shop(SHOP, at(5)).await.unwrap();
    assert_eq!(s.uninstalled(SHOP).await.unwrap(), None);
}
