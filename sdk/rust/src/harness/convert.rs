//! Conversions between the SDK's (WIT-generated) types and the host's own
//! types in `shopcase-contract`, written once so the harness validates
//! exactly what the host would receive.

use shopcase_contract as c;
use shopcase_contract::action as ca;

use crate::shopify::{
    ApproveReturn, CancelOrder, DeclineReturn, HoldFulfillment, Metafield, NoteAppend, Refund,
    ReleaseFulfillment, StoreCredit, TagsChange,
};
use crate::{
    Action, Attribute, CancelReason, CaseKey, CaseStatus, DeclineReason, Document, Event,
    HoldReason, Priority, Resources, SettingValue, ShopifyOperation, Subject, Target, Visibility,
};

/// The host's journal form of an action (`{"kind": "open-case", ...}` in
/// JSON), as the host converts what a component returns.
impl From<&Action> for c::Action {
    fn from(a: &Action) -> c::Action {
        match a {
            Action::OpenCase(a) => c::Action::OpenCase(ca::OpenCase {
                key: key(&a.key),
                title: a.title.clone(),
                summary: a.summary.clone(),
                priority: priority(a.priority),
                owner: a.owner.clone(),
                owner_group: a.owner_group.clone(),
                due: a.due.clone(),
                attributes: attributes(&a.attributes),
                documents: a.documents.iter().map(document).collect(),
            }),
            Action::UpdateCase(a) => c::Action::UpdateCase(ca::UpdateCase {
                key: key(&a.key),
                status: a.status.map(status),
                reason: a.reason.clone(),
                resolution: a.resolution.as_ref().map(|r| ca::Resolution {
                    code: r.code.clone(),
                    notes: r.notes.clone(),
                }),
                priority: a.priority.map(priority),
                owner: a.owner.clone(),
                owner_group: a.owner_group.clone(),
                due: a.due.clone(),
                escalation_level: a.escalation_level,
                attributes: attributes(&a.attributes),
            }),
            Action::Comment(a) => c::Action::Comment(ca::Comment {
                key: key(&a.key),
                text: a.text.clone(),
                visibility: match a.visibility {
                    Visibility::Internal => ca::Visibility::Internal,
                    Visibility::Public => ca::Visibility::Public,
                },
            }),
            Action::AttachDocument(a) => c::Action::AttachDocument(ca::AttachDocument {
                key: key(&a.key),
                document: document(&a.document),
            }),
            Action::CreateTask(a) => c::Action::CreateTask(ca::CreateTask {
                key: key(&a.key),
                title: a.title.clone(),
                description: a.description.clone(),
                team: a.team.clone(),
                owner: a.owner.clone(),
                due: a.due.clone(),
            }),
            Action::RequestApproval(a) => c::Action::RequestApproval(ca::RequestApproval {
                key: key(&a.key),
                title: a.title.clone(),
                description: a.description.clone(),
                approver_group: a.approver_group.clone(),
                due: a.due.clone(),
                operation: (&a.operation).into(),
            }),
            Action::FollowUp(a) => c::Action::FollowUp(ca::FollowUp {
                name: a.name.clone(),
                due: a.due.clone(),
                data: a.data.clone(),
            }),
            Action::Shopify(op) => c::Action::Shopify(op.into()),
        }
    }
}

/// The host's form of a Shopify operation.
impl From<&ShopifyOperation> for c::ShopifyOperation {
    fn from(op: &ShopifyOperation) -> c::ShopifyOperation {
        use c::ShopifyOperation as O;
        match op {
            ShopifyOperation::TagsAdd(t) => O::TagsAdd(tags(t)),
            ShopifyOperation::TagsRemove(t) => O::TagsRemove(tags(t)),
            ShopifyOperation::NoteAppend(NoteAppend { target: t, text }) => {
                O::NoteAppend(ca::NoteAppend {
                    target: target(*t),
                    text: text.clone(),
                })
            }
            ShopifyOperation::SetMetafield(Metafield {
                target: t,
                namespace,
                key,
                type_,
                value,
            }) => O::SetMetafield(ca::Metafield {
                target: target(*t),
                namespace: namespace.clone(),
                key: key.clone(),
                ty: type_.clone(),
                value: value.clone(),
            }),
            ShopifyOperation::HoldFulfillment(HoldFulfillment {
                order_id,
                reason,
                notes,
                handle,
            }) => O::HoldFulfillment(ca::HoldFulfillment {
                order_id: *order_id,
                reason: hold_reason(*reason),
                notes: notes.clone(),
                handle: handle.clone(),
            }),
            ShopifyOperation::ReleaseFulfillment(ReleaseFulfillment { order_id, handle }) => {
                O::ReleaseFulfillment(ca::ReleaseFulfillment {
                    order_id: *order_id,
                    handle: handle.clone(),
                })
            }
            ShopifyOperation::CancelOrder(CancelOrder {
                order_id,
                reason,
                restock,
                notify_customer,
                staff_note,
            }) => O::CancelOrder(ca::CancelOrder {
                order_id: *order_id,
                reason: cancel_reason(*reason),
                restock: *restock,
                notify_customer: *notify_customer,
                staff_note: staff_note.clone(),
            }),
            ShopifyOperation::ApproveReturn(ApproveReturn {
                return_id,
                notify_customer,
            }) => O::ApproveReturn(ca::ApproveReturn {
                return_id: *return_id,
                notify_customer: *notify_customer,
            }),
            ShopifyOperation::DeclineReturn(DeclineReturn {
                return_id,
                reason,
                note,
                notify_customer,
            }) => O::DeclineReturn(ca::DeclineReturn {
                return_id: *return_id,
                reason: decline_reason(*reason),
                note: note.clone(),
                notify_customer: *notify_customer,
            }),
            ShopifyOperation::Refund(Refund {
                order_id,
                amount,
                currency,
                note,
                notify_customer,
            }) => O::Refund(ca::Refund {
                order_id: *order_id,
                amount: amount.clone(),
                currency: currency.clone(),
                note: note.clone(),
                notify_customer: *notify_customer,
            }),
            ShopifyOperation::StoreCredit(StoreCredit {
                customer_id,
                amount,
                currency,
                expires_at,
                notify_customer,
            }) => O::StoreCredit(ca::StoreCredit {
                customer_id: *customer_id,
                amount: amount.clone(),
                currency: currency.clone(),
                expires_at: expires_at.clone(),
                notify_customer: *notify_customer,
            }),
        }
    }
}

/// The host's form of a case key.
impl From<&CaseKey> for c::CaseKey {
    fn from(k: &CaseKey) -> c::CaseKey {
        key(k)
    }
}

fn key(k: &CaseKey) -> c::CaseKey {
    c::CaseKey {
        case_type: k.case_type.clone(),
        subject: match k.subject {
            Subject::Order(i) => c::Subject::Order(i),
            Subject::Return(i) => c::Subject::Return(i),
            Subject::Dispute(i) => c::Subject::Dispute(i),
            Subject::Customer(i) => c::Subject::Customer(i),
        },
    }
}

fn priority(p: Priority) -> ca::Priority {
    match p {
        Priority::Low => ca::Priority::Low,
        Priority::Medium => ca::Priority::Medium,
        Priority::High => ca::Priority::High,
        Priority::Critical => ca::Priority::Critical,
    }
}

fn status(s: CaseStatus) -> ca::CaseStatus {
    match s {
        CaseStatus::New => ca::CaseStatus::New,
        CaseStatus::InProgress => ca::CaseStatus::InProgress,
        CaseStatus::OnHold => ca::CaseStatus::OnHold,
        CaseStatus::PendingApproval => ca::CaseStatus::PendingApproval,
        CaseStatus::Approved => ca::CaseStatus::Approved,
        CaseStatus::Rejected => ca::CaseStatus::Rejected,
        CaseStatus::Resolved => ca::CaseStatus::Resolved,
        CaseStatus::Closed => ca::CaseStatus::Closed,
        CaseStatus::Cancelled => ca::CaseStatus::Cancelled,
        CaseStatus::Reopened => ca::CaseStatus::Reopened,
    }
}

fn attributes(a: &[Attribute]) -> Vec<ca::Attribute> {
    a.iter()
        .map(|a| ca::Attribute {
            name: a.name.clone(),
            value: a.value.clone(),
        })
        .collect()
}

fn document(d: &Document) -> ca::Document {
    ca::Document {
        name: d.name.clone(),
        content_type: d.content_type.clone(),
        description: d.description.clone(),
        content: d.content.clone(),
    }
}

fn target(t: Target) -> ca::Target {
    match t {
        Target::Order(i) => ca::Target::Order(i),
        Target::Customer(i) => ca::Target::Customer(i),
    }
}

fn tags(t: &TagsChange) -> ca::TagsChange {
    ca::TagsChange {
        target: target(t.target),
        tags: t.tags.clone(),
    }
}

fn hold_reason(r: HoldReason) -> ca::HoldReason {
    match r {
        HoldReason::AwaitingPayment => ca::HoldReason::AwaitingPayment,
        HoldReason::HighRiskOfFraud => ca::HoldReason::HighRiskOfFraud,
        HoldReason::IncorrectAddress => ca::HoldReason::IncorrectAddress,
        HoldReason::InventoryOutOfStock => ca::HoldReason::InventoryOutOfStock,
        HoldReason::UnknownDeliveryDate => ca::HoldReason::UnknownDeliveryDate,
        HoldReason::AwaitingReturnItems => ca::HoldReason::AwaitingReturnItems,
        HoldReason::Other => ca::HoldReason::Other,
    }
}

fn cancel_reason(r: CancelReason) -> ca::CancelReason {
    match r {
        CancelReason::Customer => ca::CancelReason::Customer,
        CancelReason::Declined => ca::CancelReason::Declined,
        CancelReason::Fraud => ca::CancelReason::Fraud,
        CancelReason::Inventory => ca::CancelReason::Inventory,
        CancelReason::Staff => ca::CancelReason::Staff,
        CancelReason::Other => ca::CancelReason::Other,
    }
}

fn decline_reason(r: DeclineReason) -> ca::DeclineReason {
    match r {
        DeclineReason::FinalSale => ca::DeclineReason::FinalSale,
        DeclineReason::ReturnPeriodEnded => ca::DeclineReason::ReturnPeriodEnded,
        DeclineReason::Other => ca::DeclineReason::Other,
    }
}

/// The host's resources of an event.
pub(crate) fn resources_to_contract(r: &Resources) -> c::Resources {
    c::Resources {
        order_id: r.order_id,
        customer_id: r.customer_id,
        return_id: r.return_id,
        dispute_id: r.dispute_id,
        fulfillment_id: r.fulfillment_id,
        case_id: r.case_id.clone(),
    }
}

/// The event the host hands a plugin, from the host's form.
pub(crate) fn event_from_contract(e: c::Event) -> Event {
    Event {
        id: e.id,
        shopify_event_id: e.shopify_event_id,
        shop: e.shop,
        topic: e.topic,
        api_version: e.api_version,
        triggered_at: e.triggered_at,
        resources: Resources {
            order_id: e.resources.order_id,
            customer_id: e.resources.customer_id,
            return_id: e.resources.return_id,
            dispute_id: e.resources.dispute_id,
            fulfillment_id: e.resources.fulfillment_id,
            case_id: e.resources.case_id,
        },
        payload: e.payload,
    }
}

pub(crate) fn setting_to_contract(v: &SettingValue) -> c::SettingValue {
    match v.clone() {
        SettingValue::Text(s) => c::SettingValue::Text(s),
        SettingValue::Integer(i) => c::SettingValue::Integer(i),
        SettingValue::Number(n) => c::SettingValue::Number(n),
        SettingValue::Boolean(b) => c::SettingValue::Boolean(b),
        SettingValue::TextList(l) => c::SettingValue::TextList(l),
    }
}

pub(crate) fn setting_from_contract(v: c::SettingValue) -> SettingValue {
    match v {
        c::SettingValue::Text(s) => SettingValue::Text(s),
        c::SettingValue::Integer(i) => SettingValue::Integer(i),
        c::SettingValue::Number(n) => SettingValue::Number(n),
        c::SettingValue::Boolean(b) => SettingValue::Boolean(b),
        c::SettingValue::TextList(l) => SettingValue::TextList(l),
    }
}

/// An order address in the host's form (for minimisation).
pub(crate) fn address_to_contract(a: crate::Address) -> c::host_api::Address {
    c::host_api::Address {
        first_name: a.first_name,
        last_name: a.last_name,
        name: a.name,
        phone: a.phone,
        company: a.company,
        address1: a.address1,
        address2: a.address2,
        city: a.city,
        province: a.province,
        province_code: a.province_code,
        country: a.country,
        country_code: a.country_code,
        zip: a.zip,
        latitude: a.latitude,
        longitude: a.longitude,
    }
}

/// An order address back in the SDK's form.
pub(crate) fn address_from_contract(a: c::host_api::Address) -> crate::Address {
    crate::Address {
        first_name: a.first_name,
        last_name: a.last_name,
        name: a.name,
        phone: a.phone,
        company: a.company,
        address1: a.address1,
        address2: a.address2,
        city: a.city,
        province: a.province,
        province_code: a.province_code,
        country: a.country,
        country_code: a.country_code,
        zip: a.zip,
        latitude: a.latitude,
        longitude: a.longitude,
    }
}
