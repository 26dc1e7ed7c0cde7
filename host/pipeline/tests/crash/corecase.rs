//! The host killed between Core Case's answer to a case creation and the
//! journal's acknowledgement (`abort-after-case-create`: after the create,
//! before the link and the journal entry are recorded). After a restart the
//! entry runs again under the same `Idempotency-Key`: the same case is
//! linked, and no second case is created. The child host is this binary
//! re-executed as [`Kind::CoreCase`]; the helpers are the Core Case tests'
//! (`all/corecase/support.rs`).

use serde_json::json;
use shopcase_contract::{CaseKey, Subject};
use shopcase_store::*;

use crate::child::{self, Kind};
use crate::corecase_support::*;
use crate::support::*;

pub(crate) async fn killed_between_the_create_call_and_its_acknowledgement_no_duplicate_case() {
    let emu = emulator().await;
    let host = host(&emu, 1, "");
    {
        let s = storage(&host).await;
        host.enable(&s, SHOP_A, "scripted", &[]).await;
    }
    let (mut child, url) = child::spawn(Kind::CoreCase, &host, Some("abort-after-case-create"));
    let (status, body) = post(
        &reqwest::Client::new(),
        &url,
        &scripted_order(
            "w-1",
            1234,
            json!([open_case(
                "scripted",
                1234,
                "high",
                json!([document("d.md", "dossier")])
            )]),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let event = body["event_id"].as_str().unwrap().to_owned();
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(
        !exit.success(),
        "the child aborted at the fault point: {exit:?}"
    );

    // Core Case has the case; the host has neither the link nor the ack.
    let cases = cases_of(&emu, 1234);
    assert_eq!(cases.len(), 1);
    let case_id = cases[0]["id"].as_str().unwrap().to_owned();
    let k = CaseKey {
        case_type: "scripted".into(),
        subject: Subject::Order(1234),
    };
    {
        let s = storage(&host).await;
        assert!(s.case_link(SHOP_A, &k).await.unwrap().is_none());
        let entry = s
            .journal_entry(&format!("{event}:scripted:0"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.status, JournalStatus::InFlight);
    }

    // Restart: the claim expires, the entry runs again.
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    let entries = settled(&s, &event).await;
    assert_eq!(
        entries[0].status,
        JournalStatus::Done,
        "{:?}",
        entries[0].last_error
    );
    let result = entries[0].result.clone().unwrap();
    assert_eq!(result["case_id"], case_id.as_str());
    assert_eq!(cases_of(&emu, 1234).len(), 1, "no duplicate case");
    assert_eq!(
        s.case_link(SHOP_A, &k).await.unwrap().unwrap().case_id,
        case_id
    );
    let case = emu.emulator().case(&case_id).unwrap();
    assert_eq!(case["attachments"].as_array().unwrap().len(), 1);
    // The creation request was sent twice and applied once.
    let creates = emu
        .emulator()
        .request_count("POST", "/api/v1/case-definitions/{defId}/cases");
    assert_eq!(creates, 2);
    // The poller reports the case although its link came late.
    eventually("the case is reported", || async {
        !case_events(&host, &s, &case_id).await.is_empty()
    })
    .await;
    running.shutdown().await.unwrap();
}
