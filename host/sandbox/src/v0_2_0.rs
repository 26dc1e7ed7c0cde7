//! `shopcase:plugin@0.2.0`: bindings, host functions, and conversions
//! between the generated types and the host's own.
//!
//! 0.2.0 is 0.1.0 plus two host functions, `order` (grant `order-lookup`)
//! and `order-risk` (grant `order-risk`). The functions 0.1.0 also has
//! behave exactly as in `v0_1_0`; the code is repeated because each
//! version's generated types are its own. Both versions convert into the
//! host's types (`shopcase_contract`), and the runtime links both, so
//! plugins of either version run side by side.

use shopcase_contract::action as host;
use shopcase_contract::host_api as api;
use shopcase_contract::manifest::HostGrant;
use shopcase_contract::{Event, SettingValue};
use wasmtime::Store;
use wasmtime::component::{HasSelf, Linker};

use crate::plugin::{GuestError, LogLevel};
use crate::services::HostError;
use crate::state::State;

wasmtime::component::bindgen!({
    path: "../../wit/v0.2.0",
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
        // The customer of the event's order, once `order` has named it.
        let order_customer = match &self.order {
            Some(Ok(o)) => o.customer_id,
            _ => None,
        };
        if let Err(r) = shopcase_contract::host_rules::check_history_customer(
            &self.scope.resources,
            order_customer,
            customer_id,
        ) {
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

    fn order(
        &mut self,
        order_id: u64,
    ) -> wasmtime::Result<Result<wit_host::OrderDetails, wit_host::HostError>> {
        self.require(HostGrant::OrderLookup, "host.order")?;
        Ok(match self.order_answer(order_id) {
            // Minimised here, on every path to the plugin, so no
            // services implementation can forget it.
            Ok(o) => Ok(to_wit_order(o.minimised(&self.scope.grants))),
            Err(e) => Err(to_wit_error(e)),
        })
    }

    fn order_risk(
        &mut self,
        order_id: u64,
    ) -> wasmtime::Result<Result<wit_host::RiskSummary, wit_host::HostError>> {
        self.require(HostGrant::OrderRisk, "host.order-risk")?;
        Ok(match self.order_risk_answer(order_id) {
            Ok(r) => Ok(to_wit_risk(r.bounded())),
            Err(e) => Err(to_wit_error(e)),
        })
    }
}

impl State {
    /// The event's own order, asked of the services once per invocation.
    fn order_answer(
        &mut self,
        order_id: u64,
    ) -> Result<shopcase_contract::host_api::OrderDetails, HostError> {
        shopcase_contract::host_rules::check_own_order(&self.scope.resources, order_id)?;
        if let Some(answer) = &self.order {
            return answer.clone();
        }
        let answer = self.timed(|s| s.order(order_id));
        self.order = Some(answer.clone());
        answer
    }

    /// The event's own order's risk, asked of the services once per invocation.
    fn order_risk_answer(
        &mut self,
        order_id: u64,
    ) -> Result<shopcase_contract::host_api::OrderRisk, HostError> {
        shopcase_contract::host_rules::check_own_order(&self.scope.resources, order_id)?;
        if let Some(answer) = &self.order_risk {
            return answer.clone();
        }
        let answer = self.timed(|s| s.order_risk(order_id));
        self.order_risk = Some(answer.clone());
        answer
    }
}

fn to_wit_money(m: api::Money) -> wit_host::Money {
    wit_host::Money {
        amount: m.amount,
        currency: m.currency,
    }
}

fn to_wit_address(a: api::Address) -> wit_host::Address {
    wit_host::Address {
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

fn to_wit_order(o: api::OrderDetails) -> wit_host::OrderDetails {
    wit_host::OrderDetails {
        id: o.id,
        name: o.name,
        created_at: o.created_at,
        currency: o.currency,
        subtotal: o.subtotal.map(to_wit_money),
        total: to_wit_money(o.total),
        current_total: to_wit_money(o.current_total),
        outstanding: to_wit_money(o.outstanding),
        total_refunded: to_wit_money(o.total_refunded),
        financial_status: o.financial_status,
        fulfillment_status: o.fulfillment_status,
        cancelled: o.cancelled,
        customer_id: o.customer_id,
        line_items: o
            .line_items
            .into_iter()
            .map(|l| wit_host::LineItem {
                id: l.id,
                title: l.title,
                sku: l.sku,
                quantity: l.quantity,
                unit_price: to_wit_money(l.unit_price),
                variant_id: l.variant_id,
                product_id: l.product_id,
            })
            .collect(),
        shipping_address: o.shipping_address.map(to_wit_address),
        billing_address: o.billing_address.map(to_wit_address),
        fulfillments: o
            .fulfillments
            .into_iter()
            .map(|f| wit_host::Fulfillment {
                id: f.id,
                status: f.status,
                created_at: f.created_at,
                tracking_company: f.tracking_company,
                tracking_number: f.tracking_number,
            })
            .collect(),
        transactions: o
            .transactions
            .into_iter()
            .map(|t| wit_host::Transaction {
                kind: t.kind,
                status: t.status,
                gateway: t.gateway,
                amount: to_wit_money(t.amount),
                created_at: t.created_at,
            })
            .collect(),
    }
}

fn to_wit_risk(r: api::OrderRisk) -> wit_host::RiskSummary {
    wit_host::RiskSummary {
        recommendation: match r.recommendation {
            api::RiskRecommendation::Accept => wit_host::RiskRecommendation::Accept,
            api::RiskRecommendation::Cancel => wit_host::RiskRecommendation::Cancel,
            api::RiskRecommendation::Investigate => wit_host::RiskRecommendation::Investigate,
            api::RiskRecommendation::None => wit_host::RiskRecommendation::None,
        },
        assessments: r
            .assessments
            .into_iter()
            .map(|a| wit_host::RiskAssessment {
                level: match a.level {
                    api::RiskLevel::High => wit_host::RiskLevel::High,
                    api::RiskLevel::Medium => wit_host::RiskLevel::Medium,
                    api::RiskLevel::Low => wit_host::RiskLevel::Low,
                    api::RiskLevel::None => wit_host::RiskLevel::None,
                    api::RiskLevel::Pending => wit_host::RiskLevel::Pending,
                },
                provider: a.provider,
                facts: a
                    .facts
                    .into_iter()
                    .map(|f| wit_host::RiskFact {
                        description: f.description,
                        sentiment: match f.sentiment {
                            api::RiskSentiment::Positive => wit_host::RiskSentiment::Positive,
                            api::RiskSentiment::Neutral => wit_host::RiskSentiment::Neutral,
                            api::RiskSentiment::Negative => wit_host::RiskSentiment::Negative,
                        },
                    })
                    .collect(),
            })
            .collect(),
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
