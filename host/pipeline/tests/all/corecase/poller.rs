//! Case changes polled back: `corecase/case-updated` events with the
//! documented payload, for every subscribed plugin of the case's store and
//! no other; nothing for changes plugins cannot see or cases shopcase did
//! not open; nothing twice however often a change is read.

use std::sync::Arc;

use serde_json::{Value, json};
use shopcase_contract::action::{CaseStatus, Priority};
use shopcase_contract::{CaseKey, Subject};
use shopcase_corecase::client::dto::{CaseDataUpdate, NewCase, NewComment, StatusChange};
use shopcase_corecase_integration::CoreCase;
use shopcase_store::*;

use super::*;

fn payload(e: &StoredEvent) -> Value {
    serde_json::from_str(&e.event.payload).unwrap()
}

async fn wait_events(
    host: &Host,
    s: &Arc<dyn Storage>,
    case_id: &str,
    n: usize,
) -> Vec<StoredEvent> {
    eventually(&format!("{n} case-updated events, dispatched"), || async {
        let events = case_events(host, s, case_id).await;
        let mut done = events.len() >= n;
        for e in &events {
            done &= is_done(s, &e.event.id).await;
        }
        done
    })
    .await;
    case_events(host, s, case_id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_changes_come_back_as_events_to_the_stores_plugins() {
    let emu = emulator().await;
    let host = host(&emu, 2, "case-url = \"https://tenant.example/case/{id}\"");
    let recorder = Arc::new(ShopifyRecorder::default());
    let r = recorder.clone();
    let running = start(&host, move |b| b.executor(r)).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    host.enable(&s, SHOP_A, "echo", &[]).await;
    host.enable(&s, SHOP_B, "scripted", &[]).await;

    let event = send(
        &running,
        &scripted_order(
            "w-1",
            6006,
            json!([open_case("scripted", 6006, "medium", json!([]))]),
        ),
    )
    .await;
    let case_id = settled(&s, &event).await[0].result.clone().unwrap()["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let def = shopcase_corecase_emulator::definition_id("scripted").to_string();

    // The poller reports the new case once.
    let first = &wait_events(&host, &s, &case_id, 1).await[0];
    let p = payload(first);
    assert_eq!(p["case"]["status"], "new");
    assert_eq!(
        p["case"]["previous_status"],
        Value::Null,
        "null the first time"
    );
    assert_eq!(p["case"]["subject"], json!({"order": 6006}));
    assert_eq!(
        p["case"]["link"],
        format!("https://tenant.example/case/{case_id}")
    );
    assert_eq!(first.event.api_version, "shopcase-1");
    assert_eq!(first.event.shop, SHOP_A);
    let res = &first.event.resources;
    assert_eq!(
        (res.order_id, res.customer_id, res.case_id.as_deref()),
        (Some(6006), Some(7001), Some(case_id.as_str()))
    );
    let plugins: Vec<String> = s
        .dispatch_rows(&first.event.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.plugin_id)
        .collect();
    assert_eq!(
        plugins,
        ["echo", "scripted"],
        "every plugin of store A, none of store B"
    );

    // An analyst works the case, and asks the plugin to tag the order.
    let a = analyst(&emu);
    let tag = json!({"actions": [{"kind": "tags-add", "target": {"order": 6006}, "tags": ["case-in-progress"]}]});
    let mut custom = serde_json::Map::new();
    custom.insert("on_case_updated".into(), tag.to_string().into());
    a.update_case_data(
        &def,
        &case_id,
        &CaseDataUpdate {
            priority: Some(Priority::Critical),
            assignee: Some("bob".into()),
            custom_attributes: custom,
            ..CaseDataUpdate::default()
        },
        None,
    )
    .await
    .unwrap();
    a.change_status(
        &def,
        &case_id,
        &StatusChange::to(CaseStatus::InProgress),
        Some("analyst-1"),
    )
    .await
    .unwrap();
    let events = wait_events(&host, &s, &case_id, 2).await;
    let last = payload(events.last().unwrap());
    assert_eq!(last["case"]["status"], "in-progress");
    assert_eq!(last["case"]["priority"], "critical");
    assert_eq!(last["case"]["owner"], "bob");
    assert_eq!(last["case"]["previous_status"], "new");
    // The plugins reacted: a Shopify write-back journalled and executed.
    let reaction = format!("{}:scripted:0", events.last().unwrap().event.id);
    eventually("the plugin's reaction is executed", || async {
        recorder.count(&reaction) == 1
    })
    .await;
    let k = CaseKey {
        case_type: "scripted".into(),
        subject: Subject::Order(6006),
    };
    let link = s.case_link(SHOP_A, &k).await.unwrap().unwrap();
    assert_eq!(
        (link.status, link.priority),
        (CaseStatus::InProgress, Priority::Critical)
    );

    // A comment moves lastUpdatedOn but nothing plugins see: no event. An
    // escalation after it is one event.
    a.add_comment(
        &def,
        &case_id,
        &NewComment {
            text: "internal note".into(),
            visibility: shopcase_contract::action::Visibility::Internal,
        },
        Some("analyst-2"),
    )
    .await
    .unwrap();
    a.update_case_data(
        &def,
        &case_id,
        &CaseDataUpdate {
            escalation_level: Some(3),
            ..CaseDataUpdate::default()
        },
        None,
    )
    .await
    .unwrap();
    let events = wait_events(&host, &s, &case_id, 3).await;
    assert_eq!(payload(&events[2])["case"]["escalation_level"], 3);
    let now = emu.emulator().case(&case_id).unwrap();
    let luo = now["caseProperties"]["defaultAttributes"]["lastUpdatedOn"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("the link saw the newest change", || async {
        s.case_link(SHOP_A, &k)
            .await
            .unwrap()
            .unwrap()
            .last_updated_on
            .as_deref()
            == Some(luo.as_str())
    })
    .await;
    assert_eq!(
        case_events(&host, &s, &case_id).await.len(),
        3,
        "the comment made none"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rereading_changes_and_strangers_cases_deliver_nothing() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let def = shopcase_corecase_emulator::definition_id("scripted").to_string();
    let a = analyst(&emu);

    // Seven linked cases (more than a page of five) and a stranger's case.
    let mut ids = Vec::new();
    for order in 7001..7008u64 {
        let event = send(
            &running,
            &scripted_order(
                &format!("w-{order}"),
                order,
                json!([open_case("scripted", order, "low", json!([]))]),
            ),
        )
        .await;
        ids.push(
            settled(&s, &event).await[0].result.clone().unwrap()["case_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let stranger = a
        .create_case(
            &def,
            &NewCase::new(&def, "not ours", Priority::Low, "elsewhere:1"),
            "stranger-1",
        )
        .await
        .unwrap()
        .case;
    a.change_status(
        &def,
        &stranger.id,
        &StatusChange::to(CaseStatus::InProgress),
        Some("stranger-2"),
    )
    .await
    .unwrap();
    for id in &ids {
        // Reported as new first (the poller delivers states, not every
        // change: it would otherwise report only the newest).
        wait_events(&host, &s, id, 1).await;
        a.change_status(
            &def,
            id,
            &StatusChange::to(CaseStatus::InProgress),
            Some(&format!("move-{id}")),
        )
        .await
        .unwrap();
    }
    for id in &ids {
        let events = wait_events(&host, &s, id, 2).await;
        assert_eq!(payload(&events[1])["case"]["status"], "in-progress");
    }
    running.shutdown().await.unwrap();

    // Read everything again from the beginning: the links know what they
    // saw, and the inbox knows the dedupe keys.
    let db = rusqlite::Connection::open(host.data_dir().join("shopcase.db")).unwrap();
    db.execute("UPDATE corecase_poll_marks SET mark = 0", [])
        .unwrap();
    let storage = storage(&host).await;
    let corecase = CoreCase::from_config(&host.config()).unwrap().unwrap();
    let poller = corecase.poller(storage.clone());
    let report = poller.poll_once(None).await;
    assert_eq!((report.events, report.failed), (0, 0));
    assert!(report.cases >= 8, "{report:?}");
    // Even with the links' memory erased, the inbox drops the repeats.
    db.execute(
        "UPDATE case_links SET last_updated_on = NULL, fingerprint = NULL",
        [],
    )
    .unwrap();
    db.execute("UPDATE corecase_poll_marks SET mark = 0", [])
        .unwrap();
    let report = poller.poll_once(None).await;
    assert_eq!(report.events, 0, "{report:?}");
    for id in &ids {
        assert_eq!(case_events(&host, &storage, id).await.len(), 2);
    }
    assert!(case_events(&host, &storage, &stranger.id).await.is_empty());
    assert!(storage.case_record(&stranger.id).await.unwrap().is_none());
}
