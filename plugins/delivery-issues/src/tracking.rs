//! Fulfilments and the carrier's tracking events: failures, delays and
//! failed attempts as they are reported, and the "no progress past the
//! estimated date" timer per fulfilment.

use plugin_kit::state;
use serde::{Deserialize, Serialize};
use shopcase_sdk::views::{FulfillmentEvent, TimerFired};
use shopcase_sdk::{Action, Event, FollowUp, PluginError, Timestamp};

use crate::investigation::{self, Issue, Shipment};
use crate::{ETA_TIMER_PREFIX, Settings};

/// What the plugin knows about a fulfilment (key `fulfillment:<id>`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Tracked {
    #[serde(default)]
    order_name: Option<String>,
    #[serde(default)]
    carrier: Option<String>,
    #[serde(default)]
    tracking: Option<String>,
    /// The carrier's last status, e.g. `in_transit`.
    #[serde(default)]
    status: String,
    #[serde(default)]
    last_at: String,
    /// The carrier's latest estimated delivery.
    #[serde(default)]
    eta: Option<String>,
    #[serde(default)]
    delivered: bool,
    #[serde(default)]
    attempts: u32,
    /// The first "no progress" timer is set.
    #[serde(default)]
    transit_timer: bool,
}

impl Tracked {
    fn key(id: u64) -> String {
        format!("fulfillment:{id}")
    }
    fn load(id: u64) -> Result<Option<Tracked>, PluginError> {
        state::get_json(&Tracked::key(id))
    }
    /// Kept while the parcel travels; a delivered parcel's key is deleted,
    /// so the store holds only the fulfilments in transit (the key-value
    /// quota counts keys). 30 days outlast any check timer.
    fn save(&self, id: u64) -> Result<(), PluginError> {
        if self.delivered {
            state::forget(&Tracked::key(id))
        } else {
            state::set_json(&Tracked::key(id), self, Some(state::days(30)))
        }
    }
    fn shipment(&self, id: u64) -> Shipment {
        Shipment {
            fulfillment_id: Some(id),
            carrier: self.carrier.clone(),
            tracking: self.tracking.clone(),
        }
    }
    fn carrier(&self) -> &str {
        self.carrier.as_deref().unwrap_or("The carrier")
    }
}

fn timer(id: u64, at: Timestamp, eta: Option<&str>) -> Action {
    FollowUp::at(format!("{ETA_TIMER_PREFIX}{id}"), at)
        .data(&serde_json::json!({ "fulfillment_id": id, "eta": eta }))
        .into()
}

/// ` (Hamburg, DE)` from the event's location, if any.
fn place(e: &FulfillmentEvent) -> String {
    let parts: Vec<&str> = [e.city.as_deref(), e.country.as_deref()]
        .into_iter()
        .flatten()
        .filter(|p| !p.trim().is_empty())
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

fn said(e: &FulfillmentEvent) -> String {
    e.message
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .map(|m| format!(": \"{}\"", plugin_kit::text::single_line(m)))
        .unwrap_or_default()
}

/// `fulfillment_events/create`.
pub(crate) fn on_event(event: &Event) -> Result<Vec<Action>, PluginError> {
    let e = event.fulfillment_event()?;
    let id = event.fulfillment_id()?;
    let s = Settings::read();
    let mut t = Tracked::load(id)?.unwrap_or_default();
    t.status = e.status.clone();
    t.last_at = e.happened_at.clone();

    let issue = match e.status.as_str() {
        "delivered" => {
            t.delivered = true;
            None
        }
        "failure" => Some(Issue::new(
            "carrier-failure",
            format!(
                "{} reports a delivery failure on {}{}{}.",
                t.carrier(),
                e.happened_at,
                place(&e),
                said(&e)
            ),
        )),
        "delayed" => Some(Issue::new(
            "carrier-delayed",
            format!(
                "{} reports a delay on {}{}{}{}.",
                t.carrier(),
                e.happened_at,
                place(&e),
                said(&e),
                e.estimated_delivery_at
                    .as_deref()
                    .map(|d| format!("; new estimate {d}"))
                    .unwrap_or_default()
            ),
        )),
        "attempted_delivery" => {
            t.attempts += 1;
            (t.attempts >= s.attempts).then(|| {
                Issue::new(
                    "delivery-attempts",
                    format!(
                        "{} failed delivery attempts; the last on {}{}{}.",
                        t.attempts,
                        e.happened_at,
                        place(&e),
                        said(&e)
                    ),
                )
            })
        }
        _ => None,
    };

    let mut actions: Vec<Action> = Vec::new();
    if !t.delivered
        && let Some(eta) = e.estimated_delivery_at.as_deref()
        && t.eta.as_deref() != Some(eta)
        && let Ok(at) = Timestamp::parse(eta)
    {
        // A new estimate moves the check (the same timer name replaces it).
        actions.push(timer(id, at.plus_hours(s.grace_hours), Some(eta)));
        t.eta = Some(eta.to_owned());
    }
    t.save(id)?;
    if let Some(issue) = issue {
        actions.extend(investigation::report(
            event,
            t.order_name.as_deref(),
            None,
            &t.shipment(id),
            issue,
        )?);
    }
    Ok(actions)
}

/// `fulfillments/create`, `fulfillments/update`: carrier, tracking number,
/// the first "no progress" check, delivered or failed shipments.
pub(crate) fn on_fulfillment(event: &Event) -> Result<Vec<Action>, PluginError> {
    let f = event.fulfillment()?;
    let id = event.fulfillment_id()?;
    if f.status == "cancelled" {
        return Ok(vec![]);
    }
    let s = Settings::read();
    let now = event.triggered_at()?;
    let mut t = Tracked::load(id)?.unwrap_or_default();
    // `#2050.1` is the first fulfilment of `#2050`.
    if let Some((order, _)) = f.name.rsplit_once('.') {
        t.order_name = Some(order.to_owned());
    }
    t.carrier = f.tracking_company.clone().or(t.carrier);
    t.tracking = f.tracking_number.clone().or(t.tracking);
    let shipment_status = f.shipment_status.as_deref().unwrap_or("");
    if shipment_status == "delivered" {
        t.delivered = true;
    }
    let mut actions: Vec<Action> = Vec::new();
    if !t.delivered && t.eta.is_none() && !t.transit_timer {
        let shipped = Timestamp::parse(&f.created_at).unwrap_or(now);
        actions.push(timer(id, shipped.plus_days(s.transit_days), None));
        t.transit_timer = true;
    }
    t.save(id)?;
    if shipment_status == "failure" {
        actions.extend(investigation::report(
            event,
            t.order_name.as_deref(),
            None,
            &t.shipment(id),
            Issue::new(
                "carrier-failure",
                format!(
                    "{} reports a delivery failure for fulfilment {}.",
                    t.carrier(),
                    f.name
                ),
            ),
        )?);
    }
    Ok(actions)
}

/// `timer/fired` `eta-check-<id>`: no delivery by the estimated date (plus
/// grace), or within the default transit time.
pub(crate) fn on_eta_timer(event: &Event, timer: &TimerFired) -> Result<Vec<Action>, PluginError> {
    let id = event.fulfillment_id()?;
    // No record: delivered (its record is deleted then) or never shipped.
    let Some(t) = Tracked::load(id)? else {
        return Ok(vec![]);
    };
    let parcel = match (&t.carrier, &t.tracking) {
        (Some(c), Some(n)) => format!("{c} parcel {n}"),
        (None, Some(n)) => format!("parcel {n}"),
        _ => format!("fulfilment {id}"),
    };
    let last = if t.status.is_empty() {
        "no carrier update since it shipped".to_owned()
    } else {
        format!(
            "the last carrier status is {} ({})",
            t.status.replace('_', " "),
            t.last_at
        )
    };
    let estimate = t
        .eta
        .as_deref()
        .map(|e| format!(", estimated delivery was {e}"))
        .unwrap_or_default();
    investigation::report(
        event,
        t.order_name.as_deref(),
        None,
        &t.shipment(id),
        Issue::new(
            "no-progress",
            format!(
                "No delivery of {parcel} by {}{estimate}; {last}.",
                timer.due
            ),
        ),
    )
}
