//! Retries: 5xx, 429 with Retry-After, connection resets, slow answers —
//! each retried and applied exactly once; permanent errors not retried.

use std::time::{Duration, Instant};

use shopcase_contract::action::{CaseStatus, Visibility};
use shopcase_corecase::client::dto::{NewComment, StatusChange};
use shopcase_corecase::{Error, ErrorClass};
use shopcase_corecase_emulator::{Fault, FaultSpec};

use crate::support::{COMMENTS, CREATE, new_case, start, start_with};

const CREATE_PATH: &str = "/api/v1/case-definitions/*/cases";
const COMMENT_PATH: &str = "/api/v1/case-definitions/*/cases/*/comments";

fn status(status: u16) -> Fault {
    Fault::Status {
        status,
        retry_after: None,
    }
}

fn comment(text: &str) -> NewComment {
    NewComment {
        text: text.into(),
        visibility: Visibility::Internal,
    }
}

#[tokio::test]
async fn server_errors_are_retried_and_the_case_created_once() {
    let env = start().await;
    env.emu
        .emulator()
        .inject_fault(FaultSpec::new("POST", CREATE_PATH, status(500)).times(2))
        .unwrap();
    env.emu
        .emulator()
        .inject_fault(FaultSpec::new("POST", CREATE_PATH, status(503)))
        .unwrap();
    let created = env
        .client
        .create_case(&env.def, &new_case(&env.def, "ref-500"), "k-500")
        .await
        .unwrap();
    assert!(!created.adopted);
    assert_eq!(env.case_count(), 1);
    assert_eq!(env.count("POST", CREATE), 4);
    assert_eq!(env.count_status("POST", CREATE, "500"), 2);
    assert_eq!(env.count_status("POST", CREATE, "201"), 1);
}

#[tokio::test]
async fn answers_lost_after_the_change_are_replayed_not_repeated() {
    let env = start().await;
    // The emulator creates the case, then answers 502: the retry carries
    // the same Idempotency-Key and gets the first answer.
    env.emu
        .emulator()
        .inject_fault(FaultSpec::new("POST", CREATE_PATH, status(502)).after_apply())
        .unwrap();
    let created = env
        .client
        .create_case(&env.def, &new_case(&env.def, "ref-lost"), "k-lost")
        .await
        .unwrap();
    assert!(
        !created.adopted,
        "replayed by Idempotency-Key, not adopted through a 409"
    );
    assert_eq!(env.case_count(), 1);
    assert_eq!(env.count("POST", CREATE), 2);
}

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let env = start().await;
    env.emu
        .emulator()
        .inject_fault(FaultSpec::new(
            "POST",
            CREATE_PATH,
            Fault::Status {
                status: 429,
                retry_after: Some(0.3),
            },
        ))
        .unwrap();
    let started = Instant::now();
    env.client
        .create_case(&env.def, &new_case(&env.def, "ref-429"), "k-429")
        .await
        .unwrap();
    // A lower bound only: the client waited at least what the server asked
    // (its own backoff is a few milliseconds).
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(env.case_count(), 1);
    assert_eq!(env.count_status("POST", CREATE, "429"), 1);
}

#[tokio::test]
async fn connection_resets_are_retried() {
    let env = start().await;
    let case = env.case("ref-reset").await;
    // Before the change, then after it (the answer lost on the wire).
    env.emu
        .emulator()
        .inject_fault(FaultSpec::new("POST", COMMENT_PATH, Fault::Reset))
        .unwrap();
    env.emu
        .emulator()
        .inject_fault(FaultSpec::new("POST", COMMENT_PATH, Fault::Reset).after_apply())
        .unwrap();
    let c = env
        .client
        .add_comment(
            &env.def,
            &case,
            &comment("checked the address"),
            Some("k-comment"),
        )
        .await
        .unwrap();
    assert_eq!(c.text, "checked the address");
    let comments = env.client.list_comments(&env.def, &case).await.unwrap();
    assert_eq!(comments.len(), 1, "no duplicate comment: {comments:?}");
    assert_eq!(comments[0].id, c.id);
    assert_eq!(env.count("POST", COMMENTS), 3);
    assert_eq!(env.count_status("POST", COMMENTS, "reset"), 2);
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried_once_applied() {
    let env = start_with(Default::default(), |mut s| {
        s.request_timeout = Duration::from_millis(300);
        s
    })
    .await;
    // Token first, so the slow fault hits the create only.
    env.client.list_case_definitions().await.unwrap();
    env.emu
        .emulator()
        .inject_fault(FaultSpec::new(
            "POST",
            CREATE_PATH,
            Fault::Slow { delay_ms: 1500 },
        ))
        .unwrap();
    let created = env
        .client
        .create_case(&env.def, &new_case(&env.def, "ref-slow"), "k-slow")
        .await
        .unwrap();
    assert_eq!(
        env.case_count(),
        1,
        "the timed-out attempt was applied; the retry was replayed"
    );
    assert_eq!(
        env.emu.emulator().cases()[0]["id"],
        created.case.id.as_str()
    );
    assert_eq!(env.count("POST", CREATE), 2);
}

#[tokio::test]
async fn transient_failures_that_persist_are_transient_errors() {
    let env = start().await;
    env.emu
        .emulator()
        .inject_fault(FaultSpec::new("POST", CREATE_PATH, status(503)).times(10))
        .unwrap();
    let err = env
        .client
        .create_case(&env.def, &new_case(&env.def, "ref-down"), "k-down")
        .await
        .unwrap_err();
    match &err {
        Error::Transient {
            attempts, status, ..
        } => {
            assert_eq!(*attempts, 5);
            assert_eq!(*status, Some(503));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_retryable());
    assert_eq!(env.count("POST", CREATE), 5);
    assert_eq!(env.case_count(), 0);
}

#[tokio::test]
async fn a_post_without_idempotency_key_is_not_blindly_retried() {
    let env = start().await;
    let case = env.case("ref-unkeyed").await;
    env.emu
        .emulator()
        .inject_fault(FaultSpec::new("POST", COMMENT_PATH, status(500)).after_apply())
        .unwrap();
    let err = env
        .client
        .add_comment(&env.def, &case, &comment("once"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unconfirmed { .. }), "{err:?}");
    assert_eq!(env.count("POST", COMMENTS), 1);
    assert_eq!(
        env.client
            .list_comments(&env.def, &case)
            .await
            .unwrap()
            .len(),
        1
    );
    // A 429 proves nothing was applied: that one is retried even unkeyed.
    env.emu
        .emulator()
        .inject_fault(FaultSpec::new(
            "POST",
            COMMENT_PATH,
            Fault::Status {
                status: 429,
                retry_after: Some(0.0),
            },
        ))
        .unwrap();
    env.client
        .add_comment(&env.def, &case, &comment("twice"), None)
        .await
        .unwrap();
    assert_eq!(
        env.client
            .list_comments(&env.def, &case)
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_permanent_400_is_not_retried() {
    let env = start().await;
    let mut bad = new_case(&env.def, "ref-400");
    bad.case_properties.default_attributes.case_title = "   ".into();
    let err = env
        .client
        .create_case(&env.def, &bad, "k-400")
        .await
        .unwrap_err();
    match &err {
        Error::Permanent {
            status,
            exception,
            message,
            ..
        } => {
            assert_eq!(*status, 400);
            assert_eq!(exception, "ValidationError");
            assert!(message.contains("caseTitle"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Permanent);
    assert_eq!(env.count("POST", CREATE), 1);
}

#[tokio::test]
async fn an_illegal_transition_is_a_conflict_not_retried() {
    let env = start().await;
    let case = env.case("ref-409").await;
    let err = env
        .client
        .change_status(
            &env.def,
            &case,
            &StatusChange::to(CaseStatus::Closed),
            Some("k-close"),
        )
        .await
        .unwrap_err();
    match &err {
        Error::Conflict {
            exception, message, ..
        } => {
            assert_eq!(exception, "IllegalStatusTransition");
            assert!(
                message.contains("NEW") && message.contains("CLOSED"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Conflict);
    assert!(!err.is_retryable());
    assert_eq!(
        env.count(
            "POST",
            "/api/v1/case-definitions/{defId}/cases/{caseId}/status"
        ),
        1
    );
}

#[tokio::test]
async fn a_status_change_whose_answer_was_lost_is_replayed() {
    let env = start().await;
    let case = env.case("ref-status").await;
    env.emu
        .emulator()
        .inject_fault(
            FaultSpec::new(
                "POST",
                "/api/v1/case-definitions/*/cases/*/status",
                Fault::Reset,
            )
            .after_apply(),
        )
        .unwrap();
    let change = StatusChange::to(CaseStatus::InProgress);
    let c = env
        .client
        .change_status(&env.def, &case, &change, Some("k-start"))
        .await
        .unwrap();
    assert_eq!(
        c.status(),
        Some(CaseStatus::InProgress),
        "not a 409 IN_PROGRESS -> IN_PROGRESS"
    );
}

#[tokio::test]
async fn connection_refused_is_transient() {
    let env = start().await;
    let dead = env.client_with(|mut s| {
        // Port 1 on loopback: nothing listens there.
        let mut url = s.api_base.clone();
        url.set_port(Some(1)).unwrap();
        s.api_base = url.clone();
        s.auth_base = url;
        s
    });
    let err = dead.list_case_definitions().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transient {
                operation: "token",
                attempts: 5,
                status: None,
                ..
            }
        ),
        "{err:?}"
    );
}
