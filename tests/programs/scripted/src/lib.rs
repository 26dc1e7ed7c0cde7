//! A test plugin that returns the actions its payload lists.
//!
//! The script, `{"actions": [<action in the journal's JSON form>, ...]}`
//! and optionally `"error": {"message": "...", "retryable": bool}`, is JSON
//! text in the order's `note` or in a return line's `customer_note` (fields
//! the host delivers under the `customer-notes` grant; a field a test made
//! up would be removed by the host). For
//! `corecase/case-updated` and `timer/fired` events it looks for the list
//! under `"on_case_updated"` / `"on_timer"` in the case's attributes or the
//! timer's data (a JSON string), so a test can script the reaction too.
//! The host validates everything it returns, exactly as for any plugin.
//!
//! A script may also list host calls under `"calls"`, made in order before
//! the actions are returned (or the scripted error): see [`calls`]. What
//! each call answered is returned as one more action, an `attach-document`
//! named `host-calls.json` on the event's order (case type `scripted`), so
//! a test sees the host's answers in the actions it compares. The
//! cross-check (`tests/crosscheck`) runs the same scripts through the SDK's
//! native harness and through the sandbox and requires identical outcomes.

mod calls;

use shopcase_contract::action as c;
use shopcase_sdk::shopify;
use shopcase_sdk::{
    Action, Attribute, CaseKey, CaseStatus, Comment, CreateTask, Document, Event, FollowUp,
    OpenCase, Plugin, PluginError, Priority, RequestApproval, ShopifyOperation, Subject, Target,
    UpdateCase,
};

/// The plugin.
#[derive(Debug)]
pub struct Scripted;

impl Plugin for Scripted {
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
        let payload: serde_json::Value = serde_json::from_str(&event.payload)
            .map_err(|e| PluginError::new(format!("payload is not JSON: {e}")))?;
        let script = match event.topic.as_str() {
            "corecase/case-updated" => payload["case"]["attributes"]["on_case_updated"]
                .as_str()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default(),
            "timer/fired" => payload["data"]["on_timer"].clone(),
            _ => std::iter::once(&payload["note"])
                .chain(
                    payload["return_line_items"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|l| &l["customer_note"]),
                )
                .find_map(|n| serde_json::from_str::<serde_json::Value>(n.as_str()?).ok())
                .unwrap_or_default(),
        };
        let report = match script.get("calls") {
            Some(list) => Some(calls::run(list)?),
            None => None,
        };
        if let Some(e) = script.get("error") {
            return Err(PluginError {
                message: e["message"]
                    .as_str()
                    .unwrap_or("scripted failure")
                    .to_owned(),
                retryable: e["retryable"].as_bool().unwrap_or(false),
            });
        }
        let actions: Vec<c::Action> = match script.get("actions") {
            Some(list) => serde_json::from_value(list.clone()).map_err(|e| {
                PluginError::new(format!("`actions` is not a list of actions: {e}"))
            })?,
            None => vec![],
        };
        let mut actions: Vec<Action> = actions.into_iter().map(to_sdk).collect();
        if let Some(report) = report {
            actions.push(calls::report_action(event, report));
        }
        Ok(actions)
    }
}

shopcase_sdk::export_plugin!(Scripted);

fn key(k: c::CaseKey) -> CaseKey {
    CaseKey {
        case_type: k.case_type,
        subject: match k.subject {
            c::Subject::Order(i) => Subject::Order(i),
            c::Subject::Return(i) => Subject::Return(i),
            c::Subject::Dispute(i) => Subject::Dispute(i),
            c::Subject::Customer(i) => Subject::Customer(i),
        },
    }
}

fn priority(p: c::Priority) -> Priority {
    match p {
        c::Priority::Low => Priority::Low,
        c::Priority::Medium => Priority::Medium,
        c::Priority::High => Priority::High,
        c::Priority::Critical => Priority::Critical,
    }
}

fn status(s: c::CaseStatus) -> CaseStatus {
    match s {
        c::CaseStatus::New => CaseStatus::New,
        c::CaseStatus::InProgress => CaseStatus::InProgress,
        c::CaseStatus::OnHold => CaseStatus::OnHold,
        c::CaseStatus::PendingApproval => CaseStatus::PendingApproval,
        c::CaseStatus::Approved => CaseStatus::Approved,
        c::CaseStatus::Rejected => CaseStatus::Rejected,
        c::CaseStatus::Resolved => CaseStatus::Resolved,
        c::CaseStatus::Closed => CaseStatus::Closed,
        c::CaseStatus::Cancelled => CaseStatus::Cancelled,
        c::CaseStatus::Reopened => CaseStatus::Reopened,
    }
}

fn attributes(a: Vec<c::Attribute>) -> Vec<Attribute> {
    a.into_iter()
        .map(|a| Attribute {
            name: a.name,
            value: a.value,
        })
        .collect()
}

fn document(d: c::Document) -> Document {
    Document {
        name: d.name,
        content_type: d.content_type,
        description: d.description,
        content: d.content,
    }
}

fn target(t: c::Target) -> Target {
    match t {
        c::Target::Order(i) => Target::Order(i),
        c::Target::Customer(i) => Target::Customer(i),
    }
}

fn operation(op: c::ShopifyOperation) -> ShopifyOperation {
    use c::ShopifyOperation as O;
    match op {
        O::TagsAdd(t) => shopify::tags_add(target(t.target), t.tags),
        O::TagsRemove(t) => shopify::tags_remove(target(t.target), t.tags),
        O::NoteAppend(n) => shopify::note_append(target(n.target), n.text),
        O::SetMetafield(m) => ShopifyOperation::SetMetafield(shopify::Metafield {
            target: target(m.target),
            namespace: m.namespace,
            key: m.key,
            type_: m.ty,
            value: m.value,
        }),
        O::HoldFulfillment(h) => ShopifyOperation::HoldFulfillment(shopify::HoldFulfillment {
            order_id: h.order_id,
            reason: match h.reason {
                c::HoldReason::AwaitingPayment => shopcase_sdk::HoldReason::AwaitingPayment,
                c::HoldReason::HighRiskOfFraud => shopcase_sdk::HoldReason::HighRiskOfFraud,
                c::HoldReason::IncorrectAddress => shopcase_sdk::HoldReason::IncorrectAddress,
                c::HoldReason::InventoryOutOfStock => shopcase_sdk::HoldReason::InventoryOutOfStock,
                c::HoldReason::UnknownDeliveryDate => shopcase_sdk::HoldReason::UnknownDeliveryDate,
                c::HoldReason::AwaitingReturnItems => shopcase_sdk::HoldReason::AwaitingReturnItems,
                c::HoldReason::Other => shopcase_sdk::HoldReason::Other,
            },
            notes: h.notes,
            handle: h.handle,
        }),
        O::ReleaseFulfillment(r) => {
            ShopifyOperation::ReleaseFulfillment(shopify::ReleaseFulfillment {
                order_id: r.order_id,
                handle: r.handle,
            })
        }
        O::CancelOrder(x) => ShopifyOperation::CancelOrder(shopify::CancelOrder {
            order_id: x.order_id,
            reason: match x.reason {
                c::CancelReason::Customer => shopcase_sdk::CancelReason::Customer,
                c::CancelReason::Declined => shopcase_sdk::CancelReason::Declined,
                c::CancelReason::Fraud => shopcase_sdk::CancelReason::Fraud,
                c::CancelReason::Inventory => shopcase_sdk::CancelReason::Inventory,
                c::CancelReason::Staff => shopcase_sdk::CancelReason::Staff,
                c::CancelReason::Other => shopcase_sdk::CancelReason::Other,
            },
            restock: x.restock,
            notify_customer: x.notify_customer,
            staff_note: x.staff_note,
        }),
        O::ApproveReturn(a) => ShopifyOperation::ApproveReturn(shopify::ApproveReturn {
            return_id: a.return_id,
            notify_customer: a.notify_customer,
        }),
        O::DeclineReturn(d) => ShopifyOperation::DeclineReturn(shopify::DeclineReturn {
            return_id: d.return_id,
            reason: match d.reason {
                c::DeclineReason::FinalSale => shopcase_sdk::DeclineReason::FinalSale,
                c::DeclineReason::ReturnPeriodEnded => {
                    shopcase_sdk::DeclineReason::ReturnPeriodEnded
                }
                c::DeclineReason::Other => shopcase_sdk::DeclineReason::Other,
            },
            note: d.note,
            notify_customer: d.notify_customer,
        }),
        O::Refund(r) => ShopifyOperation::Refund(shopify::Refund {
            order_id: r.order_id,
            amount: r.amount,
            currency: r.currency,
            note: r.note,
            notify_customer: r.notify_customer,
        }),
        O::StoreCredit(s) => ShopifyOperation::StoreCredit(shopify::StoreCredit {
            customer_id: s.customer_id,
            amount: s.amount,
            currency: s.currency,
            expires_at: s.expires_at,
            notify_customer: s.notify_customer,
        }),
    }
}

/// From the journal's form to the SDK's (the reverse of what the host does).
fn to_sdk(a: c::Action) -> Action {
    match a {
        c::Action::OpenCase(o) => Action::OpenCase(OpenCase {
            key: key(o.key),
            title: o.title,
            summary: o.summary,
            priority: priority(o.priority),
            owner: o.owner,
            owner_group: o.owner_group,
            due: o.due,
            attributes: attributes(o.attributes),
            documents: o.documents.into_iter().map(document).collect(),
        }),
        c::Action::UpdateCase(u) => Action::UpdateCase(UpdateCase {
            key: key(u.key),
            status: u.status.map(status),
            reason: u.reason,
            resolution: u.resolution.map(|r| shopcase_sdk::Resolution {
                code: r.code,
                notes: r.notes,
            }),
            priority: u.priority.map(priority),
            owner: u.owner,
            owner_group: u.owner_group,
            due: u.due,
            escalation_level: u.escalation_level,
            attributes: attributes(u.attributes),
        }),
        c::Action::Comment(x) => Action::Comment(Comment {
            key: key(x.key),
            text: x.text,
            visibility: match x.visibility {
                c::Visibility::Internal => shopcase_sdk::Visibility::Internal,
                c::Visibility::Public => shopcase_sdk::Visibility::Public,
            },
        }),
        c::Action::AttachDocument(d) => Action::AttachDocument(shopcase_sdk::AttachDocument {
            key: key(d.key),
            document: document(d.document),
        }),
        c::Action::CreateTask(t) => Action::CreateTask(CreateTask {
            key: key(t.key),
            title: t.title,
            description: t.description,
            team: t.team,
            owner: t.owner,
            due: t.due,
        }),
        c::Action::RequestApproval(r) => Action::RequestApproval(RequestApproval {
            key: key(r.key),
            title: r.title,
            description: r.description,
            approver_group: r.approver_group,
            due: r.due,
            operation: operation(r.operation),
        }),
        c::Action::FollowUp(f) => Action::FollowUp(FollowUp {
            name: f.name,
            due: f.due,
            data: f.data,
        }),
        c::Action::Shopify(op) => Action::Shopify(operation(op)),
    }
}
