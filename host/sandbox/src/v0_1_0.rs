//! `shopcase:plugin@0.1.0`: bindings, host functions, and conversions
//! between the generated types and the host's own.
//!
//! This version is frozen. A later version gets its own module beside this
//! one; the host's types (`shopcase_contract`) are the common ground both
//! convert into.

use shopcase_contract::action as host;
use shopcase_contract::manifest::HostGrant;
use shopcase_contract::{Event, SettingValue};
use wasmtime::Store;
use wasmtime::component::{HasSelf, Linker};

use crate::plugin::{GuestError, LogLevel};
use crate::services::HostError;
use crate::state::State;

wasmtime::component::bindgen!({
    path: "../../wit/v0.1.0",
    world: "plugin",
    imports: { default: trappable },
});

pub(crate) use self::Plugin as Bindings;

use self::shopcase::plugin::host as wit_host;
use self::shopcase::plugin::types as wit;

pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    Bindings::add_to_linker::<State, HasSelf<State>>(linker, |s| s)
}

/// Instantiate without calling anything: checks, at load time, that the
/// component's exports have exactly this version's types.
pub(crate) fn probe(pre: &PluginPre<State>, store: &mut Store<State>) -> wasmtime::Result<()> {
    pre.instantiate(store).map(drop)
}

/// Instantiate and call `handle`.
pub(crate) fn call(
    pre: &PluginPre<State>,
    store: &mut Store<State>,
    event: &Event,
) -> wasmtime::Result<Result<Vec<host::Action>, GuestError>> {
    let instance = pre.instantiate(&mut *store)?;
    let wit_event = to_wit_event(event);
    let result = instance
        .shopcase_plugin_handler()
        .call_handle(&mut *store, &wit_event)?;
    Ok(match result {
        Ok(actions) => Ok(actions.into_iter().map(from_wit_action).collect()),
        Err(e) => Err(GuestError {
            message: e.message,
            retryable: e.retryable,
        }),
    })
}

fn to_wit_event(e: &Event) -> wit::Event {
    wit::Event {
        id: e.id.clone(),
        shopify_event_id: e.shopify_event_id.clone(),
        shop: e.shop.clone(),
        topic: e.topic.clone(),
        api_version: e.api_version.clone(),
        triggered_at: e.triggered_at.clone(),
        resources: wit::Resources {
            order_id: e.resources.order_id,
            customer_id: e.resources.customer_id,
            return_id: e.resources.return_id,
            dispute_id: e.resources.dispute_id,
            fulfillment_id: e.resources.fulfillment_id,
            case_id: e.resources.case_id.clone(),
        },
        payload: e.payload.clone(),
    }
}

// ---- host functions ---------------------------------------------------------

impl wit::Host for State {}

impl wit_host::Host for State {
    fn log(&mut self, level: wit_host::Level, message: String) -> wasmtime::Result<()> {
        self.require(HostGrant::Log, "host.log")?;
        let level = match level {
            wit_host::Level::Trace => LogLevel::Trace,
            wit_host::Level::Debug => LogLevel::Debug,
            wit_host::Level::Info => LogLevel::Info,
            wit_host::Level::Warn => LogLevel::Warn,
            wit_host::Level::Error => LogLevel::Error,
        };
        State::log(self, level, &message);
        Ok(())
    }

    fn setting(&mut self, name: String) -> wasmtime::Result<Option<wit_host::SettingValue>> {
        self.require(HostGrant::Settings, "host.setting")?;
        Ok(self.settings.get(&name).map(|v| match v.clone() {
            SettingValue::Text(s) => wit_host::SettingValue::Text(s),
            SettingValue::Integer(i) => wit_host::SettingValue::Integer(i),
            SettingValue::Number(n) => wit_host::SettingValue::Number(n),
            SettingValue::Boolean(b) => wit_host::SettingValue::Boolean(b),
            SettingValue::TextList(l) => wit_host::SettingValue::TextList(l),
        }))
    }

    fn kv_get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, wit_host::HostError>> {
        self.require(HostGrant::Kv, "host.kv-get")?;
        Ok(State::kv_get(self, &key).map_err(to_wit_error))
    }

    fn kv_set(
        &mut self,
        key: String,
        value: String,
        ttl_seconds: Option<u32>,
    ) -> wasmtime::Result<Result<(), wit_host::HostError>> {
        self.require(HostGrant::Kv, "host.kv-set")?;
        Ok(State::kv_set(self, &key, Some(value), ttl_seconds).map_err(to_wit_error))
    }

    fn kv_delete(&mut self, key: String) -> wasmtime::Result<Result<(), wit_host::HostError>> {
        self.require(HostGrant::Kv, "host.kv-delete")?;
        Ok(State::kv_set(self, &key, None, None).map_err(to_wit_error))
    }

    fn customer_history(
        &mut self,
        customer_id: u64,
    ) -> wasmtime::Result<Result<wit_host::CustomerSummary, wit_host::HostError>> {
        self.require(HostGrant::CustomerHistory, "host.customer-history")?;
        if let Err(r) =
            shopcase_contract::host_rules::check_own_customer(&self.scope.resources, customer_id)
        {
            return Ok(Err(to_wit_error(r.into())));
        }
        let answer = match &self.history {
            Some((id, answer)) if *id == customer_id => answer.clone(),
            _ => {
                let answer = self.timed(|s| s.customer_history(customer_id));
                self.history = Some((customer_id, answer.clone()));
                answer
            }
        };
        let h = match answer {
            Ok(h) => h,
            Err(e) => return Ok(Err(to_wit_error(e))),
        };
        // Where past orders went is address data, as in a payload.
        let region = self
            .scope
            .grants
            .sees(shopcase_contract::DataClass::AddressRegion);
        Ok(Ok(wit_host::CustomerSummary {
            customer_id: h.customer_id,
            number_of_orders: h.number_of_orders,
            amount_spent: h.amount_spent,
            currency: h.currency,
            tags: h.tags,
            created_at: h.created_at,
            recent_orders: h
                .recent_orders
                .into_iter()
                .take(shopcase_contract::host_api::HISTORY_MAX_ORDERS)
                .map(|o| wit_host::OrderSummary {
                    id: o.id,
                    name: o.name,
                    created_at: o.created_at,
                    total_price: o.total_price,
                    currency: o.currency,
                    financial_status: o.financial_status,
                    fulfillment_status: o.fulfillment_status,
                    cancelled: o.cancelled,
                    shipping_country: o.shipping_country.filter(|_| region),
                })
                .collect(),
        }))
    }

    fn linked_case(
        &mut self,
        key: wit::CaseKey,
    ) -> wasmtime::Result<Result<Option<wit_host::CaseSummary>, wit_host::HostError>> {
        self.require(HostGrant::CaseLookup, "host.linked-case")?;
        let key = from_wit_key(key);
        use shopcase_contract::host_rules as rules;
        let checked = rules::check_own_subject(&self.scope.resources, key.subject).and_then(|()| {
            rules::check_case_type_granted(
                self.scope.grants.case_types.contains(&key.case_type),
                &key.case_type,
            )
        });
        if let Err(r) = checked {
            return Ok(Err(to_wit_error(r.into())));
        }
        let case = match self.timed(|s| s.linked_case(&key)) {
            Ok(c) => c,
            Err(e) => return Ok(Err(to_wit_error(e))),
        };
        Ok(Ok(case.map(|c| wit_host::CaseSummary {
            case_id: c.case_id,
            case_number: c.case_number,
            status: to_wit_status(c.status),
            priority: to_wit_priority(c.priority),
            escalation_level: c.escalation_level,
            opened_at: c.opened_at,
        })))
    }
}

fn to_wit_error(e: HostError) -> wit_host::HostError {
    match e {
        HostError::QuotaExceeded(m) => wit_host::HostError::QuotaExceeded(m),
        HostError::InvalidArgument(m) => wit_host::HostError::InvalidArgument(m),
        HostError::Unavailable(m)
        | HostError::CredentialsRefused(m)
        | HostError::NotConfigured(m) => wit_host::HostError::Unavailable(m),
    }
}

// ---- conversions: guest → host ---------------------------------------------

fn from_wit_key(k: wit::CaseKey) -> host::CaseKey {
    host::CaseKey {
        case_type: k.case_type,
        subject: match k.subject {
            wit::Subject::Order(i) => host::Subject::Order(i),
            wit::Subject::Return(i) => host::Subject::Return(i),
            wit::Subject::Dispute(i) => host::Subject::Dispute(i),
            wit::Subject::Customer(i) => host::Subject::Customer(i),
        },
    }
}

fn from_wit_priority(p: wit::Priority) -> host::Priority {
    match p {
        wit::Priority::Low => host::Priority::Low,
        wit::Priority::Medium => host::Priority::Medium,
        wit::Priority::High => host::Priority::High,
        wit::Priority::Critical => host::Priority::Critical,
    }
}

fn to_wit_priority(p: host::Priority) -> wit::Priority {
    match p {
        host::Priority::Low => wit::Priority::Low,
        host::Priority::Medium => wit::Priority::Medium,
        host::Priority::High => wit::Priority::High,
        host::Priority::Critical => wit::Priority::Critical,
    }
}

fn from_wit_status(s: wit::CaseStatus) -> host::CaseStatus {
    match s {
        wit::CaseStatus::New => host::CaseStatus::New,
        wit::CaseStatus::InProgress => host::CaseStatus::InProgress,
        wit::CaseStatus::OnHold => host::CaseStatus::OnHold,
        wit::CaseStatus::PendingApproval => host::CaseStatus::PendingApproval,
        wit::CaseStatus::Approved => host::CaseStatus::Approved,
        wit::CaseStatus::Rejected => host::CaseStatus::Rejected,
        wit::CaseStatus::Resolved => host::CaseStatus::Resolved,
        wit::CaseStatus::Closed => host::CaseStatus::Closed,
        wit::CaseStatus::Cancelled => host::CaseStatus::Cancelled,
        wit::CaseStatus::Reopened => host::CaseStatus::Reopened,
    }
}

fn to_wit_status(s: host::CaseStatus) -> wit::CaseStatus {
    match s {
        host::CaseStatus::New => wit::CaseStatus::New,
        host::CaseStatus::InProgress => wit::CaseStatus::InProgress,
        host::CaseStatus::OnHold => wit::CaseStatus::OnHold,
        host::CaseStatus::PendingApproval => wit::CaseStatus::PendingApproval,
        host::CaseStatus::Approved => wit::CaseStatus::Approved,
        host::CaseStatus::Rejected => wit::CaseStatus::Rejected,
        host::CaseStatus::Resolved => wit::CaseStatus::Resolved,
        host::CaseStatus::Closed => wit::CaseStatus::Closed,
        host::CaseStatus::Cancelled => wit::CaseStatus::Cancelled,
        host::CaseStatus::Reopened => wit::CaseStatus::Reopened,
    }
}

fn from_wit_attributes(a: Vec<wit::Attribute>) -> Vec<host::Attribute> {
    a.into_iter()
        .map(|a| host::Attribute {
            name: a.name,
            value: a.value,
        })
        .collect()
}

fn from_wit_document(d: wit::Document) -> host::Document {
    host::Document {
        name: d.name,
        content_type: d.content_type,
        description: d.description,
        content: d.content,
    }
}

fn from_wit_target(t: wit::Target) -> host::Target {
    match t {
        wit::Target::Order(i) => host::Target::Order(i),
        wit::Target::Customer(i) => host::Target::Customer(i),
    }
}

fn from_wit_tags(t: wit::TagsChange) -> host::TagsChange {
    host::TagsChange {
        target: from_wit_target(t.target),
        tags: t.tags,
    }
}

fn from_wit_operation(op: wit::ShopifyOperation) -> host::ShopifyOperation {
    use host::ShopifyOperation as H;
    use wit::ShopifyOperation as W;
    match op {
        W::TagsAdd(t) => H::TagsAdd(from_wit_tags(t)),
        W::TagsRemove(t) => H::TagsRemove(from_wit_tags(t)),
        W::NoteAppend(n) => H::NoteAppend(host::NoteAppend {
            target: from_wit_target(n.target),
            text: n.text,
        }),
        W::SetMetafield(m) => H::SetMetafield(host::Metafield {
            target: from_wit_target(m.target),
            namespace: m.namespace,
            key: m.key,
            ty: m.type_,
            value: m.value,
        }),
        W::HoldFulfillment(h) => H::HoldFulfillment(host::HoldFulfillment {
            order_id: h.order_id,
            reason: match h.reason {
                wit::HoldReason::AwaitingPayment => host::HoldReason::AwaitingPayment,
                wit::HoldReason::HighRiskOfFraud => host::HoldReason::HighRiskOfFraud,
                wit::HoldReason::IncorrectAddress => host::HoldReason::IncorrectAddress,
                wit::HoldReason::InventoryOutOfStock => host::HoldReason::InventoryOutOfStock,
                wit::HoldReason::UnknownDeliveryDate => host::HoldReason::UnknownDeliveryDate,
                wit::HoldReason::AwaitingReturnItems => host::HoldReason::AwaitingReturnItems,
                wit::HoldReason::Other => host::HoldReason::Other,
            },
            notes: h.notes,
            handle: h.handle,
        }),
        W::ReleaseFulfillment(r) => H::ReleaseFulfillment(host::ReleaseFulfillment {
            order_id: r.order_id,
            handle: r.handle,
        }),
        W::CancelOrder(c) => H::CancelOrder(host::CancelOrder {
            order_id: c.order_id,
            reason: match c.reason {
                wit::CancelReason::Customer => host::CancelReason::Customer,
                wit::CancelReason::Declined => host::CancelReason::Declined,
                wit::CancelReason::Fraud => host::CancelReason::Fraud,
                wit::CancelReason::Inventory => host::CancelReason::Inventory,
                wit::CancelReason::Staff => host::CancelReason::Staff,
                wit::CancelReason::Other => host::CancelReason::Other,
            },
            restock: c.restock,
            notify_customer: c.notify_customer,
            staff_note: c.staff_note,
        }),
        W::ApproveReturn(a) => H::ApproveReturn(host::ApproveReturn {
            return_id: a.return_id,
            notify_customer: a.notify_customer,
        }),
        W::DeclineReturn(d) => H::DeclineReturn(host::DeclineReturn {
            return_id: d.return_id,
            reason: match d.reason {
                wit::DeclineReason::FinalSale => host::DeclineReason::FinalSale,
                wit::DeclineReason::ReturnPeriodEnded => host::DeclineReason::ReturnPeriodEnded,
                wit::DeclineReason::Other => host::DeclineReason::Other,
            },
            note: d.note,
            notify_customer: d.notify_customer,
        }),
        W::Refund(r) => H::Refund(host::Refund {
            order_id: r.order_id,
            amount: r.amount,
            currency: r.currency,
            note: r.note,
            notify_customer: r.notify_customer,
        }),
        W::StoreCredit(s) => H::StoreCredit(host::StoreCredit {
            customer_id: s.customer_id,
            amount: s.amount,
            currency: s.currency,
            expires_at: s.expires_at,
            notify_customer: s.notify_customer,
        }),
    }
}

fn from_wit_action(a: wit::Action) -> host::Action {
    use host::Action as H;
    use wit::Action as W;
    match a {
        W::OpenCase(o) => H::OpenCase(host::OpenCase {
            key: from_wit_key(o.key),
            title: o.title,
            summary: o.summary,
            priority: from_wit_priority(o.priority),
            owner: o.owner,
            owner_group: o.owner_group,
            due: o.due,
            attributes: from_wit_attributes(o.attributes),
            documents: o.documents.into_iter().map(from_wit_document).collect(),
        }),
        W::UpdateCase(u) => H::UpdateCase(host::UpdateCase {
            key: from_wit_key(u.key),
            status: u.status.map(from_wit_status),
            reason: u.reason,
            resolution: u.resolution.map(|r| host::Resolution {
                code: r.code,
                notes: r.notes,
            }),
            priority: u.priority.map(from_wit_priority),
            owner: u.owner,
            owner_group: u.owner_group,
            due: u.due,
            escalation_level: u.escalation_level,
            attributes: from_wit_attributes(u.attributes),
        }),
        W::Comment(c) => H::Comment(host::Comment {
            key: from_wit_key(c.key),
            text: c.text,
            visibility: match c.visibility {
                wit::Visibility::Internal => host::Visibility::Internal,
                wit::Visibility::Public => host::Visibility::Public,
            },
        }),
        W::AttachDocument(d) => H::AttachDocument(host::AttachDocument {
            key: from_wit_key(d.key),
            document: from_wit_document(d.document),
        }),
        W::CreateTask(t) => H::CreateTask(host::CreateTask {
            key: from_wit_key(t.key),
            title: t.title,
            description: t.description,
            team: t.team,
            owner: t.owner,
            due: t.due,
        }),
        W::RequestApproval(r) => H::RequestApproval(host::RequestApproval {
            key: from_wit_key(r.key),
            title: r.title,
            description: r.description,
            approver_group: r.approver_group,
            due: r.due,
            operation: from_wit_operation(r.operation),
        }),
        W::FollowUp(f) => H::FollowUp(host::FollowUp {
            name: f.name,
            due: f.due,
            data: f.data,
        }),
        W::Shopify(op) => H::Shopify(from_wit_operation(op)),
    }
}
