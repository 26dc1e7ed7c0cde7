//! `orders/create`: VIP customers' orders and large orders.

use plugin_kit::dossier::order_dossier;
use plugin_kit::facts::{order_attributes, with_attributes};
use plugin_kit::{state, text};
use shopcase_sdk::{Action, Event, OpenCase, PluginError, Priority, Target, host, money, shopify};

use crate::{CASE_TYPE, Settings, first_timer};

pub(crate) fn on_create(event: &Event) -> Result<Vec<Action>, PluginError> {
    let order = event.order()?;
    if order.test || order.is_cancelled() {
        return Ok(vec![]);
    }
    let s = Settings::read();
    let history = match event.resources.customer_id {
        Some(id) => Some(host::customer_history(id)?),
        None => None,
    };
    let vip = history.as_ref().is_some_and(|h| s.is_vip(&h.tags));
    let total = order.total_price_cents().unwrap_or(0);
    let large = s.large_cents > 0 && total >= s.large_cents;
    if !vip && !large {
        return Ok(vec![]);
    }
    let order_id = event.order_id()?;
    if !state::first_time(&format!("case:order:{order_id}"), Some(state::days(90)))? {
        return Ok(vec![]);
    }
    let now = event.triggered_at()?;
    let due = now.plus_hours(s.sla_hours);

    let priority = match (vip, large) {
        (true, true) => Priority::Critical,
        (true, false) => Priority::High,
        (false, true) if total >= s.large_cents.saturating_mul(2) => Priority::High,
        _ => Priority::Medium,
    };
    let mut reasons = Vec::new();
    let mut findings = Vec::new();
    if vip {
        reasons.push("vip-customer");
        findings.push(format!(
            "VIP customer (tags: {}).",
            history
                .as_ref()
                .map(|h| h.tags.join(", "))
                .unwrap_or_default()
        ));
    }
    if large {
        reasons.push("large-order");
        findings.push(format!(
            "Large order: {} {} (threshold {}).",
            order.total_price,
            order.currency,
            money::format_cents(s.large_cents)
        ));
    }
    let title = match (vip, large) {
        (true, true) => format!("VIP customer, large order {}", order.name),
        (true, false) => format!("VIP customer order {}", order.name),
        _ => format!("Large order {}", order.name),
    };
    let mut summary = String::new();
    for f in &findings {
        summary.push_str(&format!("- {f}\n"));
    }
    summary.push_str(&format!(
        "\nMake sure this order is fulfilled without a hitch and the customer hears from us. If the case is still open at its due date it escalates: priority and escalation level go up, and from level 2 it moves to {}.",
        s.escalation_group
    ));
    let mut case = with_attributes(
        OpenCase::new(event.order_key(CASE_TYPE)?, text::clip(&title, 200))
            .summary(text::clip(&summary, 4000))
            .priority(priority)
            .owner_group(s.owner_group.clone())
            .due(due)
            .attribute("escalationReason", reasons.join(",")),
        order_attributes(&event.shop, &order),
    );
    if let Some(h) = &history {
        case = case
            .attribute("customerTags", h.tags.join(","))
            .attribute("customerOrders", h.number_of_orders.to_string())
            .attribute(
                "customerSpent",
                format!("{} {}", h.amount_spent, h.currency),
            );
    }
    case = case.document(order_dossier(&order, &findings, history.as_ref()));

    let mut actions: Vec<Action> = vec![case.into()];
    if let Some(tag) = &s.tag {
        actions.push(shopify::tags_add(Target::Order(order_id), [tag.clone()]).into());
    }
    actions.push(first_timer(due, "order"));
    shopcase_sdk::info!("order {}: case opened ({})", order.name, reasons.join(", "));
    Ok(actions)
}
