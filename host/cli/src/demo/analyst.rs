//! The Core Case analyst of the demo: what a person would do in Core Case
//! after the webhooks opened the cases, done through the same REST client
//! the host uses (against the emulator): record decisions on cases,
//! approve one held refund and reject a held store credit, complete an
//! investigation's tasks, cancel a case, move another to in progress; then,
//! once the cancels they decided are carried out, approve the refunds of
//! the cancelled fraud order and the cancelled duplicate (held for approval
//! above the threshold).
//!
//! Each decision names the case by its `externalReference` (what the host
//! derives from the case key), so the demo fails loudly if a scenario did
//! not open the case it should have.

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};
use shopcase_contract::action::CaseStatus;
use shopcase_corecase::CoreCaseClient;
use shopcase_corecase::client::dto::{CaseDataUpdate, StatusChange, TaskCompletion, TaskOutcome};

/// What the analyst does to one case.
#[derive(Debug, Clone)]
enum Decision {
    /// Record custom attributes (e.g. `decision = cancel`).
    Attributes(&'static [(&'static str, &'static str)]),
    /// Complete every open APPROVAL task with this outcome.
    Approval(TaskOutcome, &'static str),
    /// Complete every open TASK.
    CompleteTasks,
    /// Move the case to a status.
    Status(CaseStatus, &'static str),
}

/// One step of the analyst's script.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// `<kind>:<id>:<case type>` (the shop is prefixed).
    reference: &'static str,
    what: &'static str,
    decision: Decision,
}

/// The first round: decisions on the cases the webhooks opened.
pub(crate) const DECISIONS: &[Step] = &[
    Step {
        reference: "order:5900000102004:order-exception",
        what: "cancel the duplicate order #2004",
        decision: Decision::Attributes(&[("decision", "cancel")]),
    },
    Step {
        reference: "order:5900000102005:order-exception",
        what: "release #2005 once the address is confirmed",
        decision: Decision::Attributes(&[("decision", "release")]),
    },
    Step {
        reference: "order:5900000102002:order-exception",
        what: "close the payment case of #2002 without a decision",
        decision: Decision::Status(CaseStatus::Cancelled, "customer paid by bank transfer"),
    },
    Step {
        reference: "order:5900000102010:fraud-investigation",
        what: "decide the fraud case of #2010: cancel",
        decision: Decision::Attributes(&[("decision", "cancel")]),
    },
    Step {
        reference: "order:5900000102011:fraud-investigation",
        what: "decide the fraud case of #2011: release",
        decision: Decision::Attributes(&[("decision", "release")]),
    },
    Step {
        reference: "return:9100020201:return-request",
        what: "approve return #2020-R1",
        decision: Decision::Attributes(&[("decision", "approve")]),
    },
    Step {
        reference: "return:9100020211:return-request",
        what: "decline return #2021-R1",
        decision: Decision::Attributes(&[
            ("decision", "decline"),
            ("decline-reason", "Return period ended"),
            (
                "decline-note",
                "Our return window is 30 days; your order was delivered on 3 October.",
            ),
        ]),
    },
    Step {
        reference: "order:5900000102031:refund-approval",
        what: "approve the 450.00 EUR refund on #2031",
        decision: Decision::Approval(TaskOutcome::Approved, "Damage confirmed by the carrier."),
    },
    Step {
        reference: "order:5900000102032:refund-approval",
        what: "reject the 80.00 EUR goodwill credit on #2032",
        decision: Decision::Approval(TaskOutcome::Rejected, "Already compensated with a voucher."),
    },
    Step {
        reference: "order:5900000102034:refund-approval",
        what: "approve the replacement grinder for #2034",
        decision: Decision::Approval(TaskOutcome::Approved, "Replacement approved."),
    },
    Step {
        reference: "order:5900000102050:delivery-investigation",
        what: "complete the four tasks of the #2050 delivery investigation",
        decision: Decision::CompleteTasks,
    },
    Step {
        reference: "order:5900000102040:vip-escalation",
        what: "start working on the VIP case of #2040",
        decision: Decision::Status(CaseStatus::InProgress, "picked up by the VIP desk"),
    },
];

/// The second round: the refunds the first round's cancels held for
/// approval (what the orders paid, above the plugins' threshold of 100.00).
pub(crate) const REFUND_APPROVALS: &[Step] = &[
    Step {
        reference: "order:5900000102010:fraud-investigation",
        what: "approve the refund of the cancelled fraud order #2010",
        decision: Decision::Approval(
            TaskOutcome::Approved,
            "Fraud confirmed: money back to the card.",
        ),
    },
    Step {
        reference: "order:5900000102004:order-exception",
        what: "approve the refund of the cancelled duplicate #2004",
        decision: Decision::Approval(
            TaskOutcome::Approved,
            "Duplicate: refund the second payment.",
        ),
    },
];

/// What the analyst did, for the summary.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Done {
    pub(crate) case_number: String,
    pub(crate) external_reference: String,
    pub(crate) action: String,
}

/// Apply the script to the cases in `cases` (the emulator's case list).
pub(crate) async fn act(
    client: &CoreCaseClient,
    shop: &str,
    cases: &[Value],
    script: &[Step],
) -> Result<Vec<Done>> {
    let mut done = Vec::new();
    for step in script {
        let reference = format!("{shop}:{}", step.reference);
        let case = cases
            .iter()
            .find(|c| {
                c["caseProperties"]["defaultAttributes"]["externalReference"] == reference.as_str()
            })
            .with_context(|| {
                format!(
                    "the scenarios should have opened the case {reference}, but Core Case has none"
                )
            })?;
        let def = case["caseType"]["id"]
            .as_str()
            .context("case without a type")?;
        let id = case["id"].as_str().context("case without an id")?;
        match &step.decision {
            Decision::Attributes(attrs) => {
                let custom: Map<String, Value> = attrs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), json!(v)))
                    .collect();
                let update = CaseDataUpdate {
                    custom_attributes: custom,
                    ..CaseDataUpdate::default()
                };
                client
                    .update_case_data(def, id, &update, None)
                    .await
                    .with_context(|| format!("{}: {}", step.what, reference))?;
            }
            Decision::Approval(outcome, comment) => {
                let open = open_tasks(case, "APPROVAL");
                if open.is_empty() {
                    bail!("{}: case {reference} has no open approval task", step.what);
                }
                for task in open {
                    let completion = TaskCompletion {
                        outcome: *outcome,
                        comment: Some((*comment).to_owned()),
                    };
                    client
                        .complete_task(def, id, &task, &completion, None)
                        .await
                        .with_context(|| format!("{}: {}", step.what, reference))?;
                }
            }
            Decision::CompleteTasks => {
                let open = open_tasks(case, "TASK");
                if open.is_empty() {
                    bail!("{}: case {reference} has no open task", step.what);
                }
                for task in open {
                    let completion = TaskCompletion {
                        outcome: TaskOutcome::Done,
                        comment: Some("Done.".into()),
                    };
                    client
                        .complete_task(def, id, &task, &completion, None)
                        .await
                        .with_context(|| format!("{}: {}", step.what, reference))?;
                }
            }
            Decision::Status(status, reason) => {
                let change = StatusChange {
                    reason: Some((*reason).to_owned()),
                    ..StatusChange::to(*status)
                };
                client
                    .change_status(def, id, &change, None)
                    .await
                    .with_context(|| format!("{}: {}", step.what, reference))?;
            }
        }
        done.push(Done {
            case_number: case["caseNumber"].as_str().unwrap_or_default().to_owned(),
            external_reference: reference,
            action: step.what.to_owned(),
        });
    }
    Ok(done)
}

fn open_tasks(case: &Value, kind: &str) -> Vec<String> {
    case["tasks"]
        .as_array()
        .map(|tasks| {
            tasks
                .iter()
                .filter(|t| t["kind"] == kind && t["status"] == "OPEN")
                .filter_map(|t| t["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
