//! A VIP's complaint is escalated at once, whether it comes from the
//! helpdesk (`helpdesk/complaint`, `helpdesk/not-received`) or as an order
//! tag (`complaint`, `not-received` and its older spellings:
//! `plugin_kit::tags`): the order's case — the VIP order case if one is
//! open, a new one otherwise — goes to the escalation group at critical
//! priority, one escalation level up, due `escalation-step-hours` later.
//! Each order's complaint escalates once; later ones are comments.

use plugin_kit::facts::{order_ref_attributes, with_attributes};
use plugin_kit::inbound::Report;
use plugin_kit::{state, tags, text};
use shopcase_sdk::views::Order;
use shopcase_sdk::{
    Action, Comment, Event, OpenCase, PluginError, Priority, Target, UpdateCase, host, shopify,
};

use crate::{CASE_TYPE, Settings, first_timer};

/// What the complaint was, for people: `helpdesk ticket 48213 (email)`,
/// ``order tag `complaint` ``.
struct Complaint {
    source: String,
    not_received: bool,
}

/// The complaint tag on an order, if any.
fn tagged(order: &Order, s: &Settings) -> Option<Complaint> {
    let all = order.tags();
    if let Some(t) = tags::find(&all, &s.not_received_tags) {
        return Some(Complaint {
            source: format!("order tag `{t}`"),
            not_received: true,
        });
    }
    tags::find(&all, &s.complaint_tags).map(|t| Complaint {
        source: format!("order tag `{t}`"),
        not_received: false,
    })
}

/// `helpdesk/complaint`, `helpdesk/not-received`.
pub(crate) fn on_report(event: &Event) -> Result<Vec<Action>, PluginError> {
    let r = Report::of(event)?;
    escalate(
        event,
        Complaint {
            source: r.reference(),
            not_received: event.topic == plugin_kit::inbound::TOPIC_NOT_RECEIVED,
        },
    )
}

/// `orders/updated`: a complaint tag on a VIP's order.
pub(crate) fn on_order(event: &Event) -> Result<Vec<Action>, PluginError> {
    let order = event.order()?;
    if order.test {
        return Ok(vec![]);
    }
    let s = Settings::read();
    match tagged(&order, &s) {
        Some(c) => escalate(event, c),
        None => Ok(vec![]),
    }
}

fn escalate(event: &Event, c: Complaint) -> Result<Vec<Action>, PluginError> {
    let Some(customer) = event.resources.customer_id else {
        return Ok(vec![]);
    };
    let order_id = event.order_id()?;
    let s = Settings::read();
    let history = host::customer_history(customer)?;
    if !s.is_vip(&history.tags) {
        return Ok(vec![]);
    }
    let what = if c.not_received {
        "says the order never arrived"
    } else {
        "complained"
    };
    let key = event.order_key(CASE_TYPE)?;
    let now = event.triggered_at()?;
    if !state::first_time(&format!("vip-complaint:{order_id}"), Some(state::days(90)))? {
        return Ok(vec![
            Comment::internal(
                key,
                format!(
                    "The VIP customer {what} again about order {order_id} ({}).",
                    c.source
                ),
            )
            .into(),
        ]);
    }
    let due = now.plus_hours(s.step_hours);
    let reason = format!(
        "VIP customer {customer} (tags: {}) {what} about order {order_id} ({}).",
        history.tags.join(", "),
        c.source
    );
    let mut actions: Vec<Action> = Vec::new();
    match host::linked_case(&key)? {
        Some(case) if case.status.is_open() => {
            let level = case.escalation_level.saturating_add(1).min(s.max_level);
            actions.push(
                UpdateCase::new(key.clone())
                    .priority(Priority::Critical)
                    .escalation_level(level)
                    .owner_group(s.escalation_group.clone())
                    .due(due)
                    .reason("VIP complaint")
                    .into(),
            );
            actions.push(
                Comment::internal(
                    key,
                    format!(
                        "{reason} Escalated to level {level}, priority critical, handed to {}. Due {due}.",
                        s.escalation_group
                    ),
                )
                .into(),
            );
            shopcase_sdk::info!(
                "case {}: VIP complaint, escalated to level {level}",
                case.case_number
            );
        }
        _ => {
            let mut summary = format!("- {reason}\n");
            summary.push_str(&format!(
                "- Customer since {}: {} orders, {} {} spent.\n",
                history.created_at,
                history.number_of_orders,
                history.amount_spent,
                history.currency
            ));
            summary.push_str(&format!(
                "\nA VIP's complaint goes straight to {}: reach out to the customer today and make good on what went wrong. Unresolved past its due date, the case escalates further.",
                s.escalation_group
            ));
            let case = with_attributes(
                OpenCase::new(
                    key,
                    text::clip(
                        &format!("VIP complaint: order {order_id} of customer {customer}"),
                        200,
                    ),
                )
                .summary(text::clip(&summary, 4000))
                .priority(Priority::Critical)
                .owner_group(s.escalation_group.clone())
                .due(due)
                .attribute("escalationReason", "vip-complaint")
                .attribute("complaintSource", text::clip(&c.source, 256))
                .attribute("customerTags", history.tags.join(","))
                .attribute("customerOrders", history.number_of_orders.to_string())
                .attribute(
                    "customerSpent",
                    format!("{} {}", history.amount_spent, history.currency),
                ),
                order_ref_attributes(&event.shop, Some(order_id), Some(customer)),
            );
            actions.push(case.into());
            if let Some(tag) = &s.tag {
                actions.push(shopify::tags_add(Target::Order(order_id), [tag.clone()]).into());
            }
            actions.push(first_timer(due, "order"));
            shopcase_sdk::info!("order {order_id}: VIP complaint, case opened critical");
        }
    }
    Ok(actions)
}
