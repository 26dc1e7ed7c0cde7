//! Fault injection: Core Case answers 500s, 429 with Retry-After, resets
//! (before and after applying the request), slow answers past the client's
//! timeout, and every token expires mid-run. Every action ends applied
//! exactly once: no case lost, none duplicated, no comment, attachment or
//! task twice.

use serde_json::json;
use shopcase_corecase_emulator::{Fault, FaultSpec};
use shopcase_store::*;

use super::*;

const ORDERS: u64 = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_is_applied_once_through_faults() {
    let emu = emulator().await;
    let e = emu.emulator();
    const CASES: &str = "/api/v1/case-definitions/*/cases";
    const CASE: &str = "/api/v1/case-definitions/*/cases/*";
    let faults = [
        FaultSpec::new(
            "POST",
            CASES,
            Fault::Status {
                status: 500,
                retry_after: None,
            },
        )
        .times(3),
        FaultSpec::new(
            "POST",
            CASES,
            Fault::Status {
                status: 429,
                retry_after: Some(0.05),
            },
        )
        .times(3),
        // Created, but the answer is lost: the retry must not create again.
        FaultSpec::new("POST", CASES, Fault::Reset)
            .after_apply()
            .times(3),
        FaultSpec::new("POST", CASES, Fault::Reset).times(2),
        // Applied, answered after the client gave up (request-timeout = "1s").
        FaultSpec::new(
            "POST",
            &format!("{CASE}/comments"),
            Fault::Slow { delay_ms: 1300 },
        )
        .times(2),
        FaultSpec::new(
            "POST",
            &format!("{CASE}/comments"),
            Fault::Status {
                status: 503,
                retry_after: Some(0.02),
            },
        )
        .times(3),
        FaultSpec::new("POST", &format!("{CASE}/attachments"), Fault::Reset)
            .after_apply()
            .times(3),
        FaultSpec::new(
            "POST",
            &format!("{CASE}/attachments"),
            Fault::Status {
                status: 502,
                retry_after: None,
            },
        )
        .times(3),
        FaultSpec::new(
            "POST",
            &format!("{CASE}/tasks"),
            Fault::Status {
                status: 500,
                retry_after: None,
            },
        )
        .after_apply()
        .times(3),
        FaultSpec::new(
            "GET",
            "/api/v1/**",
            Fault::Status {
                status: 504,
                retry_after: None,
            },
        )
        .times(4),
    ];
    for f in faults {
        e.inject_fault(f).unwrap();
    }

    // The journal retries as production does (more than the other tests'
    // three attempts): a run of faults can outlast one execution's retries.
    let host = host_with(&emu, 2, "", |t| {
        let executor = "[executor]\nconcurrency = 4\nlease = \"2s\"\npoll-interval = \"50ms\"\nmax-attempts = 3";
        assert!(t.contains(executor));
        t.replace(executor, "[executor]\nconcurrency = 4\nlease = \"2s\"\npoll-interval = \"50ms\"\nmax-attempts = 10")
    });
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "scripted", &[]).await;
    let mut tokens_before = 0;
    let mut events = Vec::new();
    for order in 1..=ORDERS {
        let k = key("scripted", order);
        let d = scripted_order(
            &format!("w-{order}"),
            order,
            json!([
                open_case("scripted", order, "high", json!([document("dossier.md", &format!("order {order}"))])),
                {"kind": "comment", "key": k, "text": format!("note {order}"), "visibility": "internal"},
                {"kind": "create-task", "key": k, "title": "Check", "description": "", "team": "ops",
                 "owner": null, "due": null},
            ]),
        );
        events.push(send(&running, &d).await);
        if order == ORDERS / 2 {
            // Token expiry mid-run, once the host holds a token: every
            // issued token answers 401 from now on.
            settled(&s, &events[0]).await;
            tokens_before = e.tokens_issued();
            assert!(tokens_before >= 1);
            e.expire_tokens();
        }
    }
    for event in &events {
        let entries = settled(&s, event).await;
        for entry in &entries {
            assert_eq!(
                entry.status,
                JournalStatus::Done,
                "{}: {:?}",
                entry.key,
                entry.last_error
            );
        }
    }

    // 0 lost, 0 duplicated.
    for order in 1..=ORDERS {
        let cases = cases_of(&emu, order);
        assert_eq!(cases.len(), 1, "order {order}: exactly one case");
        let case = e.case(cases[0]["id"].as_str().unwrap()).unwrap();
        assert_eq!(
            case["attachments"].as_array().unwrap().len(),
            1,
            "order {order}: {case}"
        );
        assert_eq!(
            case["comments"].as_array().unwrap().len(),
            1,
            "order {order}"
        );
        assert_eq!(case["tasks"].as_array().unwrap().len(), 1, "order {order}");
    }
    assert!(
        s.dead_letters(Some(SHOP_A), true, 100)
            .await
            .unwrap()
            .is_empty()
    );

    // The faults did happen (the test can fail).
    let counts = e.request_counts();
    let creates = &counts["POST /api/v1/case-definitions/{defId}/cases"];
    for outcome in ["500", "429", "reset"] {
        assert!(
            creates.by_status.contains_key(outcome),
            "{outcome}: {creates:?}"
        );
    }
    assert!(
        e.tokens_issued() > tokens_before,
        "the expired token was replaced"
    );
    assert!(
        counts.values().any(|c| c.by_status.contains_key("401")),
        "an expired token was refused: {counts:?}"
    );
    let entries: Vec<JournalEntry> = {
        let mut all = Vec::new();
        for ev in &events {
            all.extend(s.journal_for_event(ev).await.unwrap());
        }
        all
    };
    assert!(
        entries.iter().any(|e| e.attempts > 0),
        "some executions had to be retried by the journal"
    );
    running.shutdown().await.unwrap();
}
