//! `refunds/create`: a refund issued outside shopcase (in the Shopify
//! admin, by another app) at or above the refund threshold, on its own or
//! with the order's other refunds within `approval-window-hours`, opens
//! the order's refund-approval case flagged "issued without approval".
//!
//! Whether shopcase issued a refund is the host's word, not the note's:
//! the host sets `shopcase_issued` on the payload only when the refund's
//! note carries the marker of a refund its own journal executed for this
//! store and order, and removes any value Shopify's payload had (see
//! docs/events.md). A `[shopcase:…]` typed into a note proves nothing.
//!
//! Each refund is looked at once (the order's key-value record keeps its
//! id); every refund issued outside shopcase counts toward the window's
//! sum, flagged or not.

use plugin_kit::facts::with_attributes;
use plugin_kit::text;
use shopcase_sdk::{
    Action, Attribute, Event, OpenCase, OrderDetails, PluginError, Priority, host, money,
};

use crate::{CASE_TYPE, OrderRequests, OutsideRefund, Settings, note};

pub(crate) fn on_refund(event: &Event) -> Result<Vec<Action>, PluginError> {
    let refund = event.refund()?;
    let order_id = event.order_id()?;
    if refund.shopcase_issued {
        // Issued by shopcase: its own thresholds and approvals applied.
        return Ok(vec![]);
    }
    let Some(cents) = refund.refunded_cents() else {
        shopcase_sdk::warn!(
            "refund {} on order {order_id}: an amount is unreadable; not checked",
            refund.id
        );
        return Ok(vec![]);
    };
    if cents <= 0 {
        // Items restocked, no money moved.
        return Ok(vec![]);
    }
    let now = event.triggered_at()?;
    let s = Settings::read();
    let mut st = OrderRequests::load(order_id)?;
    if st.outside.iter().any(|o| o.refund_id == refund.id) {
        return Ok(vec![]);
    }
    let before = st.refunds_within(now, s.window_hours);
    let windowed = before.saturating_add(cents);
    let flagged = windowed >= s.refund_threshold;
    st.outside.push(OutsideRefund {
        refund_id: refund.id,
        cents,
        at: now.to_rfc3339(),
        flagged,
    });
    if !flagged {
        st.save(order_id)?;
        return Ok(vec![]);
    }
    let order = host::order(order_id)?;
    let amount = format!("{} {}", money::format_cents(cents), order.currency);
    let key = event.order_key(CASE_TYPE)?;
    let title = format!("Refund issued without approval on {}: {amount}", order.name);
    let mut summary = format!(
        "A refund of {amount} was issued on {} outside shopcase (refund {}), without an approval. Refunds of {} or more need one.",
        order.name,
        refund.id,
        money::format_cents(s.refund_threshold)
    );
    if before > 0 {
        summary.push_str(&format!(
            " With the order's other refunds of the last {} hours it comes to {} {}.",
            s.window_hours,
            money::format_cents(windowed),
            order.currency
        ));
    }
    if let Some(n) = refund.note.as_deref().filter(|n| !n.trim().is_empty()) {
        summary.push_str(&format!(
            "\n\nThe refund's note: \"{}\"",
            text::single_line(&text::clip(n, 500))
        ));
    }
    summary.push_str(&format!(
        "\n\nThe order: total {} {}, refunded so far {} {}, still to pay {} {}, {} ({}).\n\nCheck who issued it and why, and record the outcome on this case.",
        order.total.amount,
        order.currency,
        order.total_refunded.amount,
        order.currency,
        order.outstanding.amount,
        order.currency,
        order.financial_status,
        if order.cancelled { "cancelled" } else { "not cancelled" },
    ));
    let case = with_attributes(
        OpenCase::new(key, text::clip(&title, 200))
            .summary(text::clip(&summary, 4000))
            .priority(Priority::High)
            .owner_group(s.owner_group.clone())
            .due(now.plus_hours(s.approval_hours))
            .attribute("issuedWithoutApproval", "true")
            .attribute("refundId", refund.id.to_string())
            .attribute("refundedValue", money::format_cents(cents))
            .attribute("windowRefundedValue", money::format_cents(windowed)),
        order_facts(&event.shop, &order),
    );
    st.save(order_id)?;
    shopcase_sdk::info!(
        "order {}: refund {} of {amount} issued without approval",
        order.name,
        refund.id
    );
    Ok(vec![
        case.into(),
        note(
            order_id,
            &format!(
                "Refund of {amount} issued outside shopcase without approval: a refund-approval case was opened."
            ),
        ),
    ])
}

/// The order's facts as case attributes, from the host's `order` answer.
fn order_facts(shop: &str, order: &OrderDetails) -> Vec<Attribute> {
    let mut attrs = vec![
        Attribute::new("shopDomain", shop),
        Attribute::new("orderId", order.id.to_string()),
        Attribute::new("orderName", &order.name),
        Attribute::new("orderCreatedAt", &order.created_at),
        Attribute::new("totalPrice", &order.total.amount),
        Attribute::new("currency", &order.currency),
        Attribute::new("financialStatus", &order.financial_status),
        Attribute::new("fulfillmentStatus", &order.fulfillment_status),
        Attribute::new("totalRefunded", &order.total_refunded.amount),
    ];
    if let Some(id) = order.customer_id {
        attrs.push(Attribute::new("customerId", id.to_string()));
    }
    attrs
}
