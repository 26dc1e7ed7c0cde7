//! `orders/updated`: "not received" tags, and partial shipments that last
//! too long (a timer per order).

use plugin_kit::{state, text};
use serde::{Deserialize, Serialize};
use shopcase_sdk::views::TimerFired;
use shopcase_sdk::{Action, Event, FollowUp, PluginError, Timestamp};

use crate::investigation::{self, Issue, Shipment};
use crate::{PARTIAL_TIMER, Settings};

/// An order's partial shipment (key `partial:<order id>`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Partial {
    order_name: String,
    since: String,
    #[serde(default)]
    complete: bool,
}

pub(crate) fn on_order(event: &Event) -> Result<Vec<Action>, PluginError> {
    let order = event.order()?;
    if order.test || order.is_cancelled() {
        return Ok(vec![]);
    }
    let s = Settings::read();
    let order_id = event.order_id()?;
    let now = event.triggered_at()?;
    let mut actions: Vec<Action> = Vec::new();

    if let Some(tag) = order
        .tags()
        .into_iter()
        .find(|t| s.not_received_tags.iter().any(|x| text::same_tag(x, t)))
    {
        let delivered: Vec<String> = order
            .fulfillments
            .iter()
            .filter(|f| f.shipment_status.as_deref() == Some("delivered"))
            .map(|f| {
                format!(
                    "{} ({} {})",
                    f.name,
                    f.tracking_company.as_deref().unwrap_or("carrier"),
                    f.tracking_number.as_deref().unwrap_or("")
                )
            })
            .collect();
        let carrier_says = if delivered.is_empty() {
            " No fulfilment is marked delivered.".to_owned()
        } else {
            format!(" The carrier marked {} delivered.", delivered.join(", "))
        };
        let shipment = order
            .fulfillments
            .first()
            .map(|f| Shipment {
                fulfillment_id: Some(f.id),
                carrier: f.tracking_company.clone(),
                tracking: f.tracking_number.clone(),
            })
            .unwrap_or_default();
        actions.extend(investigation::report(
            event,
            Some(&order.name),
            Some(&order),
            &shipment,
            Issue::new(
                "not-received",
                format!("Staff tagged the order `{tag}`: the customer says it never arrived.{carrier_says}"),
            ),
        )?);
    }

    let kv_key = format!("partial:{order_id}");
    match order.fulfillment_status.as_deref() {
        Some("partial") if state::get_json::<Partial>(&kv_key)?.is_none() => {
            state::set_json(
                &kv_key,
                &Partial {
                    order_name: order.name.clone(),
                    since: now.to_string(),
                    complete: false,
                },
                Some(state::days(s.partial_days + 60)),
            )?;
            actions.push(
                FollowUp::at(PARTIAL_TIMER, now.plus_days(s.partial_days))
                    .data(&serde_json::json!({ "since": now.to_string() }))
                    .into(),
            );
        }
        Some("fulfilled") => {
            if let Some(mut p) = state::get_json::<Partial>(&kv_key)?
                && !p.complete
            {
                p.complete = true;
                state::set_json(&kv_key, &p, Some(state::days(30)))?;
            }
        }
        _ => {}
    }
    Ok(actions)
}

/// `timer/fired` `partial-check`: still partially shipped?
pub(crate) fn on_partial_timer(
    event: &Event,
    timer: &TimerFired,
) -> Result<Vec<Action>, PluginError> {
    let order_id = event.order_id()?;
    let Some(p) = state::get_json::<Partial>(&format!("partial:{order_id}"))? else {
        return Ok(vec![]);
    };
    if p.complete {
        return Ok(vec![]);
    }
    let now = event.triggered_at()?;
    let days = Timestamp::parse(&p.since)
        .map(|since| since.seconds_until(now) / 86_400)
        .unwrap_or(0);
    investigation::report(
        event,
        Some(&p.order_name),
        None,
        &Shipment::default(),
        Issue::new(
            "partially-shipped",
            format!(
                "Only part of the order has shipped since {} ({days} days, checked {}); the rest is still unfulfilled.",
                p.since, timer.due
            ),
        ),
    )
}
