//! # order-problems: order exceptions as Core Case cases
//!
//! Opens one `order-exception` case per order when something is wrong with
//! it, holds its fulfilment while that matters, and carries out the
//! analyst's decision in Shopify. The rules, settings and grants are
//! documented for admins in `docs/scenarios.md`; in short:
//!
//! - `order_transactions/create`: an authorisation, sale or capture that
//!   failed or errored (after `payment-failures-before-case` of them);
//! - `orders/create` and `orders/updated`: billing vs shipping country or
//!   postal code, an incomplete shipping address, a voided authorisation on
//!   an order that is not cancelled;
//! - `orders/create`: a duplicate (same customer, same variants and
//!   quantities within `duplicate-window-hours`, remembered in the
//!   key-value store);
//! - `corecase/case-updated`: the decision attribute (`cancel`, `release`,
//!   `hold`), or the case closed without one (the hold is released).
//!
//! Every problem is reported once per order (the key-value store remembers
//! which), so the frequent `orders/updated` never repeats a comment, and a
//! decision is carried out once per case.
//!
//! ```text
//! cargo test -p order-problems
//! cargo build -p order-problems --target wasm32-wasip2 --profile plugin
//! ```
//!
//! # Layout
//! - this file: the [`OrderProblems`] plugin, its settings and the order
//!   and transaction handlers;
//! - `problems`: what counts as a problem (pure functions);
//! - `decisions`: `corecase/case-updated`.

mod decisions;
mod problems;

use plugin_kit::dossier::{Markdown, order_dossier};
use plugin_kit::facts::{order_attributes, order_ref_attributes, with_attributes};
use plugin_kit::{lifecycle, settings, state, text};
use serde::{Deserialize, Serialize};
use shopcase_sdk::views::{Order, Transaction};
use shopcase_sdk::{
    Action, Attribute, CaseKey, Comment, Document, Event, OpenCase, Plugin, PluginError, Priority,
    Target, Timestamp, shopify,
};

use problems::Problem;

/// The case type this plugin opens (granted in `plugin.toml`).
pub const CASE_TYPE: &str = "order-exception";

/// The handle of the fulfilment hold this plugin places and releases.
pub const HOLD_HANDLE: &str = "order-exception";

/// How long the plugin remembers an order's problems and its decision.
const MEMORY_DAYS: i64 = 90;

/// The plugin.
#[derive(Debug)]
pub struct OrderProblems;

impl Plugin for OrderProblems {
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
        let actions = match event.topic.as_str() {
            "orders/create" => on_order(event, true),
            "orders/updated" => on_order(event, false),
            "order_transactions/create" => on_transaction(event),
            "corecase/case-updated" => decisions::on_case_updated(event),
            _ => Ok(vec![]),
        }?;
        // Every case gets its owner by the store's assignment rules.
        plugin_kit::assign::owners(actions)
    }
}

shopcase_sdk::export_plugin!(OrderProblems);

/// The settings, read once per event.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) owner_group: String,
    pub(crate) sla_hours: i64,
    pub(crate) failures_before_case: i64,
    pub(crate) address_checks: Vec<String>,
    pub(crate) window_hours: i64,
    pub(crate) hold: bool,
    pub(crate) tag: Option<String>,
    pub(crate) decision_attribute: String,
    pub(crate) notify_on_cancel: bool,
}

impl Settings {
    pub(crate) fn read() -> Settings {
        Settings {
            owner_group: settings::text("owner-group", "order-desk"),
            sla_hours: settings::int("sla-hours", 24, 1, 720),
            failures_before_case: settings::int("payment-failures-before-case", 1, 1, 10),
            address_checks: settings::list(
                "address-checks",
                &[
                    "country-mismatch",
                    "postal-code-mismatch",
                    "incomplete-shipping-address",
                ],
            ),
            window_hours: settings::int("duplicate-window-hours", 24, 1, 720),
            hold: settings::flag("hold-fulfillment", true),
            tag: text::tag(&settings::text("tag", "order-exception")),
            decision_attribute: settings::text("decision-attribute", "decision"),
            notify_on_cancel: settings::flag("notify-customer-on-cancel", false),
        }
    }
}

/// What the plugin remembers about an order (key `order:<id>`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct OrderState {
    /// The problems reported so far, in order.
    #[serde(default)]
    pub(crate) problems: Vec<Reported>,
    /// When the case is due (set when it opened, kept after).
    #[serde(default)]
    pub(crate) due: Option<String>,
    /// Whether this plugin holds the order's fulfilment.
    #[serde(default)]
    pub(crate) held: bool,
    /// The case was opened from a transaction: the order dossier is still
    /// to be attached when an order payload arrives.
    #[serde(default)]
    pub(crate) dossier_pending: bool,
}

/// A problem as remembered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Reported {
    pub(crate) code: String,
    pub(crate) finding: String,
}

impl OrderState {
    fn key(order_id: u64) -> String {
        format!("order:{order_id}")
    }

    pub(crate) fn load(order_id: u64) -> Result<OrderState, PluginError> {
        Ok(state::get_json(&OrderState::key(order_id))?.unwrap_or_default())
    }

    pub(crate) fn save(&self, order_id: u64) -> Result<(), PluginError> {
        state::set_json(
            &OrderState::key(order_id),
            self,
            Some(state::days(MEMORY_DAYS)),
        )
    }

    fn has(&self, code: &str) -> bool {
        self.problems.iter().any(|p| p.code == code)
    }

    fn codes(&self) -> Vec<&str> {
        self.problems.iter().map(|p| p.code.as_str()).collect()
    }

    fn priority(&self) -> Priority {
        self.problems
            .iter()
            .map(|p| problems::priority(&p.code))
            .fold(Priority::Low, lifecycle::max)
    }
}

/// The last order seen per customer and basket (key `basket:<customer>:<hash>`).
#[derive(Debug, Serialize, Deserialize)]
struct SeenBasket {
    order_id: u64,
    name: String,
    at: String,
}

/// `orders/create` and `orders/updated`.
fn on_order(event: &Event, created: bool) -> Result<Vec<Action>, PluginError> {
    let order = event.order()?;
    if order.test || order.is_cancelled() {
        return Ok(vec![]);
    }
    let order_id = event.order_id()?;
    let s = Settings::read();
    let now = event.triggered_at()?;

    let mut found = problems::address_problems(&order, &s.address_checks);
    found.extend(problems::voided_problem(&order));
    if created && let Some(p) = duplicate(&order, &s, now)? {
        found.push(p);
    }

    let mut st = OrderState::load(order_id)?;
    let new: Vec<Problem> = found.into_iter().filter(|p| !st.has(p.code)).collect();
    if new.is_empty() && !st.dossier_pending {
        return Ok(vec![]);
    }
    let first = st.problems.is_empty();
    let attach_dossier = first || st.dossier_pending;
    st.problems.extend(new.iter().map(|p| Reported {
        code: p.code.to_owned(),
        finding: p.finding.clone(),
    }));

    let key = event.order_key(CASE_TYPE)?;
    let mut case = case_for(&key, &order.name, &mut st, &s, now);
    case = with_attributes(case, order_attributes(&event.shop, &order));
    if attach_dossier {
        let findings: Vec<String> = st.problems.iter().map(|p| p.finding.clone()).collect();
        case = case.document(order_dossier(&order, &findings, None));
        st.dossier_pending = false;
    }
    let mut actions: Vec<Action> = vec![case.into()];
    if !first && !new.is_empty() {
        actions.push(new_problems_comment(&key, &new).into());
    }
    actions.extend(hold_and_tag(order_id, &new, first, &mut st, &s));
    st.save(order_id)?;
    shopcase_sdk::info!(
        "order {}: {} ({})",
        order.name,
        if first { "case opened" } else { "case updated" },
        new.iter().map(|p| p.code).collect::<Vec<_>>().join(", ")
    );
    Ok(actions)
}

/// `order_transactions/create`.
fn on_transaction(event: &Event) -> Result<Vec<Action>, PluginError> {
    let t = event.transaction()?;
    if !problems::is_payment_failure(&t) {
        return Ok(vec![]);
    }
    let order_id = event.order_id()?;
    let s = Settings::read();
    let now = event.triggered_at()?;

    let count_key = format!("payment-failures:{order_id}");
    let failures = kv_count(&count_key)? + 1;
    kv_set_count(&count_key, failures)?;
    let mut st = OrderState::load(order_id)?;
    if failures < s.failures_before_case || st.has("payment-failed") {
        return Ok(vec![]);
    }
    let problem = problems::payment_problem(&t, failures);
    let first = st.problems.is_empty();
    st.problems.push(Reported {
        code: problem.code.to_owned(),
        finding: problem.finding.clone(),
    });

    let key = event.order_key(CASE_TYPE)?;
    let label = format!("order {order_id}");
    let mut case = case_for(&key, &label, &mut st, &s, now);
    case = with_attributes(
        case,
        order_ref_attributes(&event.shop, Some(order_id), event.resources.customer_id),
    );
    case = with_attributes(case, transaction_attributes(&t));
    if first {
        // A transaction carries no order details: the order dossier follows
        // with the next order payload (`orders/updated`).
        case = case.document(payment_document(order_id, &t, &problem));
        st.dossier_pending = true;
    }
    let mut actions: Vec<Action> = vec![case.into()];
    if !first {
        actions.push(new_problems_comment(&key, std::slice::from_ref(&problem)).into());
    }
    actions.extend(hold_and_tag(
        order_id,
        std::slice::from_ref(&problem),
        first,
        &mut st,
        &s,
    ));
    st.save(order_id)?;
    shopcase_sdk::info!(
        "order {order_id}: payment {} {} ({} failure(s))",
        t.kind,
        t.status,
        failures
    );
    Ok(actions)
}

/// The case as it stands after the problems in `st`: title, summary,
/// priority (the highest of all problems), owner group, due date (set
/// once), and the `problems` attribute.
fn case_for(
    key: &CaseKey,
    label: &str,
    st: &mut OrderState,
    s: &Settings,
    now: Timestamp,
) -> OpenCase {
    let due = st
        .due
        .get_or_insert_with(|| now.plus_hours(s.sla_hours).to_string())
        .clone();
    let codes = st.codes();
    let title = match codes.as_slice() {
        [one] => format!("Order exception on {label}: {}", problems::label(one)),
        many => format!("Order exception on {label}: {} problems", many.len()),
    };
    let mut summary = format!("Problems found with {label}:\n");
    for p in &st.problems {
        summary.push_str(&format!("- {}\n", p.finding));
    }
    summary.push_str(&format!(
        "\nCheck the order dossier and contact the customer if needed, then record the decision in the case attribute `{attr}`: `cancel` cancels the order in Shopify, `release` releases the fulfilment hold so the order ships, `hold` keeps it on hold.",
        attr = s.decision_attribute
    ));
    OpenCase::new(key.clone(), text::clip(&title, 200))
        .summary(text::clip(&summary, 4000))
        .priority(st.priority())
        .owner_group(text::clip(&s.owner_group, 128))
        .due(due)
        .attribute("problems", codes.join(","))
}

fn new_problems_comment(key: &CaseKey, new: &[Problem]) -> Comment {
    let mut text = String::from("New problem(s) found:\n");
    for p in new {
        text.push_str(&format!("- {}\n", p.finding));
    }
    Comment::internal(key.clone(), text::clip(text.trim_end(), 4000))
}

/// Hold fulfilment for the first new problem that asks for it (once per
/// order), and tag the order when its case opens.
fn hold_and_tag(
    order_id: u64,
    new: &[Problem],
    first: bool,
    st: &mut OrderState,
    s: &Settings,
) -> Vec<Action> {
    let mut actions = Vec::new();
    if s.hold && !st.held {
        let reason = new.iter().find_map(|p| problems::hold_reason(p.code));
        if let Some(reason) = reason {
            let why: Vec<&str> = new
                .iter()
                .filter(|p| problems::hold_reason(p.code).is_some())
                .map(|p| problems::label(p.code))
                .collect();
            let notes = text::clip(
                &format!("Held by the order-exception case: {}.", why.join(", ")),
                255,
            );
            actions.push(shopify::hold(order_id, reason, HOLD_HANDLE, notes).into());
            st.held = true;
        }
    }
    if first && let Some(tag) = &s.tag {
        actions.push(shopify::tags_add(Target::Order(order_id), [tag.clone()]).into());
    }
    actions
}

/// A duplicate of an order the same customer placed with the same basket
/// within the window; remembers this order as the latest either way.
fn duplicate(order: &Order, s: &Settings, now: Timestamp) -> Result<Option<Problem>, PluginError> {
    let Some(customer) = order.customer_id() else {
        return Ok(None);
    };
    let basket = problems::basket(order);
    if basket.is_empty() {
        return Ok(None);
    }
    let key = format!("basket:{customer}:{}", text::fingerprint(&basket));
    let previous: Option<SeenBasket> = state::get_json(&key)?;
    state::set_json(
        &key,
        &SeenBasket {
            order_id: order.id,
            name: order.name.clone(),
            at: now.to_string(),
        },
        Some(state::hours(s.window_hours)),
    )?;
    let Some(p) = previous.filter(|p| p.order_id != order.id) else {
        return Ok(None);
    };
    let gap = Timestamp::parse(&p.at)
        .map(|then| ago(then.seconds_until(now)))
        .unwrap_or_else(|_| "shortly".to_owned());
    Ok(Some(Problem {
        code: "duplicate-order",
        finding: format!(
            "Possible duplicate: the same customer ordered the same items ({} line(s)) as {} (order {}) {gap}.",
            basket.len(),
            p.name,
            p.order_id
        ),
    }))
}

/// `2520` seconds → `42 minutes earlier`.
fn ago(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    if minutes < 120 {
        format!("{minutes} minutes earlier")
    } else {
        format!("{} hours earlier", minutes / 60)
    }
}

fn kv_count(key: &str) -> Result<i64, PluginError> {
    Ok(shopcase_sdk::kv::get(key)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

fn kv_set_count(key: &str, n: i64) -> Result<(), PluginError> {
    shopcase_sdk::kv::set(key, &n.to_string(), Some(state::days(30)))?;
    Ok(())
}

fn transaction_attributes(t: &Transaction) -> Vec<Attribute> {
    let mut attrs = vec![
        Attribute::new("transactionId", t.id.to_string()),
        Attribute::new("transactionKind", &t.kind),
        Attribute::new("transactionStatus", &t.status),
        Attribute::new("paymentGateway", &t.gateway),
        Attribute::new("failedAmount", &t.amount),
        Attribute::new("currency", &t.currency),
    ];
    if let Some(code) = &t.error_code {
        attrs.push(Attribute::new("paymentErrorCode", code));
    }
    attrs
}

/// The payment document of a case opened from a transaction.
fn payment_document(order_id: u64, t: &Transaction, problem: &Problem) -> Document {
    let mut md = Markdown::new(&format!("Payment problem on order {order_id}"));
    md.heading("Finding");
    md.para(&problem.finding);
    md.heading("Transaction");
    md.field("Transaction id", &t.id.to_string());
    md.field("Kind", &t.kind);
    md.field("Status", &t.status);
    md.field("Amount", &format!("{} {}", t.amount, t.currency));
    md.field("Gateway", &t.gateway);
    md.field("Error code", t.error_code.as_deref().unwrap_or(""));
    md.field("Gateway message", t.message.as_deref().unwrap_or(""));
    md.field(
        "Processed at",
        t.processed_at.as_deref().unwrap_or(&t.created_at),
    );
    if let Some(parent) = t.parent_id {
        md.field("Authorisation", &parent.to_string());
    }
    md.para("The order dossier is attached when Shopify next sends the order.");
    Document::markdown(
        format!("order-{order_id}-payment.md"),
        format!("Failed payment transaction {} on order {order_id}", t.id),
        md.finish(),
    )
}
