//! Held operations: a `request-approval` opened an APPROVAL task and holds
//! a Shopify operation ([`super::executor`]); here, when the poller sees
//! the task completed, the decision is recorded exactly once.
//!
//! - APPROVED: the operation becomes a Shopify-family journal entry keyed
//!   `approval:<task id>`, in the same transaction that marks it approved
//!   (`CaseLinkStore::decide_held_operation`), and the Shopify executor carries it
//!   out with its own idempotency.
//! - REJECTED: recorded; the operation is never executed.
//!
//! Seeing the same completion twice (the poll overlap, a restart before the
//! mark moved) finds the operation decided and changes nothing; an
//! operation is never executed without an approval, nor twice. Plugins
//! hear of both outcomes through the case-updated event (`approvals`).

use shopcase_contract::time::Timestamp;
use shopcase_corecase::CoreCaseClient;
use shopcase_corecase::client::dto::{Case, Task, TaskKind, TaskOutcome};
use shopcase_store::{DecisionOutcome, HeldDecision, HeldOperation, HeldStatus, Storage};

use super::poller::PollError;
use shopcase_host_api::EventProducer;

/// What [`settle`] found.
#[derive(Debug)]
pub(crate) struct Settled {
    /// The case's tasks (fetched if the listing lacked held ones).
    pub(crate) tasks: Vec<Task>,
    /// Operations decided now.
    pub(crate) decisions: u64,
    /// The case's held operations, with the decisions made now.
    pub(crate) held: Vec<HeldOperation>,
}

/// Decide the held operations of `case` whose approval task is completed.
pub(crate) async fn settle(
    client: &CoreCaseClient,
    storage: &dyn Storage,
    definition: &str,
    case: &Case,
    producer: Option<&EventProducer>,
) -> Result<Settled, PollError> {
    let mut tasks = case.tasks.clone();
    let held = storage.held_operations(&case.id).await?;
    let pending: Vec<_> = held
        .iter()
        .filter(|h| h.status == HeldStatus::Pending)
        .collect();
    if pending
        .iter()
        .any(|h| !tasks.iter().any(|t| t.id == h.task_id))
    {
        // A tenant may list cases without their tasks: ask for them.
        tasks = client.list_tasks(definition, &case.id).await?;
    }
    let mut decisions = 0;
    let mut released = false;
    // Whether a decision was attempted (made now, or found made by another).
    let mut tried = false;
    for h in pending {
        let Some(task) = tasks.iter().find(|t| t.id == h.task_id) else {
            tracing::warn!(case = %case.id, task = %h.task_id, "the approval task of a held operation is gone from Core Case; it stays held");
            continue;
        };
        let approved = match (task.kind(), task.is_open(), task.outcome()) {
            (_, true, _) => continue,
            (Some(TaskKind::Approval), false, Some(TaskOutcome::Approved)) => true,
            (Some(TaskKind::Approval), false, Some(TaskOutcome::Rejected)) => false,
            (_, false, outcome) => {
                tracing::warn!(case = %case.id, task = %h.task_id, ?outcome, "an approval task was completed without APPROVED or REJECTED; the operation stays held");
                continue;
            }
        };
        tried = true;
        let outcome = storage
            .decide_held_operation(HeldDecision {
                task_id: h.task_id.clone(),
                approved,
                decided_by: task.completed_by.clone(),
                comment: task.comment.clone(),
                now: Timestamp::now(),
            })
            .await?;
        match outcome {
            DecisionOutcome::Released { journal_key } => {
                decisions += 1;
                released = true;
                tracing::info!(shop = %h.shop, case = %case.id, task = %h.task_id, %journal_key, operation = %h.operation.kind(), "approved: held operation released");
            }
            DecisionOutcome::Declined => {
                decisions += 1;
                tracing::info!(shop = %h.shop, case = %case.id, task = %h.task_id, operation = %h.operation.kind(), "rejected: held operation declined");
            }
            DecisionOutcome::AlreadyDecided { .. } | DecisionOutcome::Unknown => {}
        }
    }
    if released && let Some(p) = producer {
        p.journal_added();
    }
    // Read again only if something may have changed.
    let held = if tried {
        storage.held_operations(&case.id).await?
    } else {
        held
    };
    Ok(Settled {
        tasks,
        decisions,
        held,
    })
}
