//! Repeated service failures of one customer, counted in the key-value
//! store over `failure-window-days`; at `failure-threshold` the customer
//! gets a case, and later failures within the window are added to it.

use plugin_kit::dossier::{Markdown, history_section};
use plugin_kit::facts::order_ref_attributes;
use plugin_kit::{state, text};
use serde::{Deserialize, Serialize};
use shopcase_sdk::views::Order;
use shopcase_sdk::{
    Action, Attribute, Comment, Document, Event, OpenCase, PluginError, Priority, Target,
    Timestamp, host, shopify,
};

use crate::{CASE_TYPE, Settings, first_timer};

/// One failure, as remembered.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Failure {
    order_id: u64,
    /// e.g. `cancelled-by-store`, `delivery-failure`, `tag-complaint`.
    kind: String,
    detail: String,
    at: String,
}

/// A customer's failures (key `failures:<customer id>`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct CustomerFailures {
    #[serde(default)]
    failures: Vec<Failure>,
    /// When the customer's case opened.
    #[serde(default)]
    escalated_at: Option<String>,
}

/// The failures an order event shows: (kind, what happened).
fn detect(order: &Order, topic: &str, s: &Settings) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if topic == "orders/cancelled" {
        let reason = order.cancel_reason.as_deref().unwrap_or("");
        if s.cancel_reasons
            .iter()
            .any(|r| r.eq_ignore_ascii_case(reason))
        {
            out.push((
                "cancelled-by-store".to_owned(),
                format!(
                    "Order {} was cancelled by the store (reason: {reason}).",
                    order.name
                ),
            ));
        }
        return out;
    }
    for f in &order.fulfillments {
        let status = f.shipment_status.as_deref().unwrap_or("");
        if !status.is_empty()
            && s.shipment_statuses
                .iter()
                .any(|x| x.eq_ignore_ascii_case(status))
        {
            out.push((
                format!("delivery-{status}"),
                format!(
                    "Fulfilment {} of {} ({} {}): carrier reports {}.",
                    f.name,
                    order.name,
                    f.tracking_company.as_deref().unwrap_or("carrier"),
                    f.tracking_number.as_deref().unwrap_or(""),
                    status.replace('_', " ")
                ),
            ));
        }
    }
    for t in order.tags() {
        if s.failure_tags.iter().any(|x| text::same_tag(x, t)) {
            out.push((
                format!("tag-{}", t.to_lowercase()),
                format!("Order {} is tagged `{t}`.", order.name),
            ));
        }
    }
    out
}

fn is_recent(at: &str, since: Timestamp) -> bool {
    Timestamp::parse(at).is_ok_and(|t| t >= since)
}

/// `orders/updated`, `orders/cancelled`.
pub(crate) fn on_order(event: &Event) -> Result<Vec<Action>, PluginError> {
    let order = event.order()?;
    if order.test {
        return Ok(vec![]);
    }
    let Some(customer) = event.resources.customer_id else {
        return Ok(vec![]);
    };
    let s = Settings::read();
    let found = detect(&order, &event.topic, &s);
    if found.is_empty() {
        return Ok(vec![]);
    }
    let now = event.triggered_at()?;
    let since = now.plus_days(-s.window_days);
    let kv_key = format!("failures:{customer}");
    let mut st: CustomerFailures = state::get_json(&kv_key)?.unwrap_or_default();
    st.failures.retain(|f| is_recent(&f.at, since));
    let order_id = event.order_id()?;
    let new: Vec<Failure> = found
        .into_iter()
        .filter(|(kind, _)| {
            !st.failures
                .iter()
                .any(|f| f.order_id == order_id && &f.kind == kind)
        })
        .map(|(kind, detail)| Failure {
            order_id,
            kind,
            detail,
            at: now.to_string(),
        })
        .collect();
    if new.is_empty() {
        return Ok(vec![]);
    }
    st.failures.extend(new.iter().cloned());
    // An escalation within the window is still the customer's case: later
    // failures are added to it. Older ones (and their failures) have
    // dropped out of the window.
    let escalated = st
        .escalated_at
        .as_deref()
        .is_some_and(|t| is_recent(t, since));
    let counted: Vec<&Failure> = st.failures.iter().collect();
    let count = counted.len();
    let key = event.customer_key(CASE_TYPE)?;
    let mut actions: Vec<Action> = Vec::new();

    if escalated {
        actions.push(case_update(&key, customer, &counted, &s, event).into());
        let mut text = String::from("Another service failure:\n");
        for f in &new {
            text.push_str(&format!("- {}\n", f.detail));
        }
        actions.push(Comment::internal(key, text.trim_end().to_owned()).into());
    } else if i64::try_from(count).unwrap_or(i64::MAX) >= s.failure_threshold {
        let history = host::customer_history(customer)?;
        let vip = s.is_vip(&history.tags);
        let due = now.plus_hours(s.sla_hours);
        let mut case = case_update(&key, customer, &counted, &s, event)
            .priority(if vip {
                Priority::Critical
            } else {
                Priority::High
            })
            .due(due)
            .attribute("customerTags", history.tags.join(","))
            .attribute("customerOrders", history.number_of_orders.to_string())
            .attribute(
                "customerSpent",
                format!("{} {}", history.amount_spent, history.currency),
            );
        case = case.document(failures_document(customer, &counted, &s, &history));
        actions.push(case.into());
        if let Some(tag) = &s.customer_tag {
            actions.push(shopify::tags_add(Target::Customer(customer), [tag.clone()]).into());
        }
        actions.push(first_timer(due, "customer"));
        st.escalated_at = Some(now.to_string());
        shopcase_sdk::info!("customer {customer}: {count} service failures, case opened");
    }
    state::set_json(&kv_key, &st, Some(state::days(s.window_days)))?;
    Ok(actions)
}

/// The customer's case with its failure attributes (priority high until set).
fn case_update(
    key: &shopcase_sdk::CaseKey,
    customer: u64,
    failures: &[&Failure],
    s: &Settings,
    event: &Event,
) -> OpenCase {
    let n = failures.len();
    let mut summary = format!(
        "Customer {customer} had {n} service failures within {} days:\n",
        s.window_days
    );
    for f in failures {
        summary.push_str(&format!("- {} ({})\n", f.detail, f.at));
    }
    summary.push_str("\nReach out to the customer, make good on what went wrong, and look for the common cause. Unresolved past its due date, the case escalates.");
    let mut attrs = order_ref_attributes(&event.shop, None, Some(customer));
    attrs.extend([
        Attribute::new("escalationReason", "repeated-service-failures"),
        Attribute::new("failureCount", n.to_string()),
        Attribute::new("failureWindowDays", s.window_days.to_string()),
        Attribute::new(
            "failureKinds",
            failures
                .iter()
                .map(|f| f.kind.as_str())
                .collect::<Vec<_>>()
                .join(","),
        ),
    ]);
    plugin_kit::facts::with_attributes(
        OpenCase::new(
            key.clone(),
            format!(
                "Repeated service failures: customer {customer} ({n} in {} days)",
                s.window_days
            ),
        )
        .summary(text::clip(&summary, 4000))
        .priority(Priority::High)
        .owner_group(s.owner_group.clone()),
        attrs,
    )
}

fn failures_document(
    customer: u64,
    failures: &[&Failure],
    s: &Settings,
    history: &shopcase_sdk::CustomerSummary,
) -> Document {
    let mut md = Markdown::new(&format!("Service failures of customer {customer}"));
    md.para(&format!(
        "{} failures within {} days (threshold {}).",
        failures.len(),
        s.window_days,
        s.failure_threshold
    ));
    let rows: Vec<Vec<String>> = failures
        .iter()
        .map(|f| {
            vec![
                f.at.clone(),
                f.order_id.to_string(),
                f.kind.clone(),
                f.detail.clone(),
            ]
        })
        .collect();
    md.table(&["when", "order", "kind", "what happened"], &rows);
    history_section(&mut md, history, None);
    Document::markdown(
        format!("customer-{customer}-service-failures.md"),
        format!("Service failures of customer {customer} and their order history"),
        md.finish(),
    )
}
