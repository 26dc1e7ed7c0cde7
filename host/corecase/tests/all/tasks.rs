//! Tasks and approvals, and their effect on the case status.

use shopcase_contract::action::CaseStatus;
use shopcase_corecase::client::dto::{NewTask, TaskCompletion, TaskKind, TaskOutcome};
use shopcase_corecase::{Error, ErrorClass};

use crate::support::start;

fn approval(title: &str) -> NewTask {
    NewTask {
        title: title.into(),
        description: Some("Refund of 1243.87 USD".into()),
        kind: TaskKind::Approval,
        assignee_group: Some("finance".into()),
        assignee: None,
        due_date: Some("2026-11-27T10:00:00.000+0000".into()),
    }
}

fn done(outcome: TaskOutcome) -> TaskCompletion {
    TaskCompletion {
        outcome,
        comment: Some("checked".into()),
    }
}

#[tokio::test]
async fn an_approved_approval_approves_the_case() {
    let env = start().await;
    let case = env.case("appr-1").await;
    let task = env
        .client
        .create_task(
            &env.def,
            &case,
            &approval("Approve the refund"),
            Some("k-task"),
        )
        .await
        .unwrap();
    assert!(task.is_open());
    assert_eq!(task.kind(), Some(TaskKind::Approval));
    let pending = env.client.get_case(&env.def, &case).await.unwrap();
    assert_eq!(pending.status(), Some(CaseStatus::PendingApproval));
    assert_eq!(pending.tasks.len(), 1);

    let completed = env
        .client
        .complete_task(
            &env.def,
            &case,
            &task.id,
            &done(TaskOutcome::Approved),
            None,
        )
        .await
        .unwrap();
    assert_eq!(completed.outcome(), Some(TaskOutcome::Approved));
    assert!(!completed.is_open());
    let approved = env.client.get_case(&env.def, &case).await.unwrap();
    assert_eq!(approved.status(), Some(CaseStatus::Approved));
    let history = env.client.history(&env.def, &case).await.unwrap();
    let statuses: Vec<_> = history
        .iter()
        .filter(|h| h.field == "status")
        .map(|h| h.to.as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(statuses, ["NEW", "PENDING_APPROVAL", "APPROVED"]);

    // A second completion is a conflict.
    let err = env
        .client
        .complete_task(
            &env.def,
            &case,
            &task.id,
            &done(TaskOutcome::Approved),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Conflict);
    assert_eq!(err.exception(), Some("TaskAlreadyCompleted"));
}

#[tokio::test]
async fn a_rejected_approval_rejects_the_case() {
    let env = start().await;
    let case = env.case("appr-2").await;
    let task = env
        .client
        .create_task(&env.def, &case, &approval("Approve the credit"), None)
        .await
        .unwrap();
    env.client
        .complete_task(
            &env.def,
            &case,
            &task.id,
            &done(TaskOutcome::Rejected),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        env.client.get_case(&env.def, &case).await.unwrap().status(),
        Some(CaseStatus::Rejected)
    );
}

#[tokio::test]
async fn plain_tasks_do_not_move_the_case_and_outcomes_must_fit() {
    let env = start().await;
    let case = env.case("task-1").await;
    let mut t = approval("Call the carrier");
    t.kind = TaskKind::Task;
    let task = env
        .client
        .create_task(&env.def, &case, &t, None)
        .await
        .unwrap();
    let err = env
        .client
        .complete_task(
            &env.def,
            &case,
            &task.id,
            &done(TaskOutcome::Approved),
            None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Permanent { status: 400, .. }),
        "{err:?}"
    );
    env.client
        .complete_task(&env.def, &case, &task.id, &done(TaskOutcome::Done), None)
        .await
        .unwrap();
    let listed = env.client.list_tasks(&env.def, &case).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].outcome(), Some(TaskOutcome::Done));
    assert_eq!(
        env.client.get_case(&env.def, &case).await.unwrap().status(),
        Some(CaseStatus::New)
    );
}

#[tokio::test]
async fn no_tasks_on_a_cancelled_case() {
    let env = start().await;
    let case = env.case("task-cancelled").await;
    env.client
        .change_status(
            &env.def,
            &case,
            &shopcase_corecase::client::dto::StatusChange::to(CaseStatus::Cancelled),
            None,
        )
        .await
        .unwrap();
    let err = env
        .client
        .create_task(&env.def, &case, &approval("too late"), None)
        .await
        .unwrap_err();
    assert_eq!(err.exception(), Some("CaseNotOpen"));
}
