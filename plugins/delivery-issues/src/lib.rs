//! # delivery-issues: delivery investigations with a task per team
//!
//! One `delivery-investigation` case per order whose delivery goes wrong.
//! Issues, each reported once per order:
//!
//! - `carrier-failure`, `carrier-delayed` (`fulfillment_events/create`, or a
//!   fulfilment's shipment status), `delivery-attempts` (at least
//!   `attempted-deliveries` failed attempts on one fulfilment);
//! - `no-progress`: no delivery `eta-grace-hours` after the carrier's
//!   estimated date, or `default-transit-days` after shipping without an
//!   estimate (a `follow-up` timer per fulfilment, moved with every new
//!   estimate);
//! - `partially-shipped`: the order still partially fulfilled
//!   `partial-shipment-days` after it first was (a timer per order);
//! - `not-received`: staff tag the order as not received (the kit's tag
//!   convention: `not-received`, or an older spelling), or the helpdesk
//!   reports it (`helpdesk/not-received`);
//! - a carrier-tracking service reports an exception (`carrier/exception`):
//!   `carrier-delayed` for a delay or customs hold, `carrier-failure`
//!   otherwise.
//!
//! The first issue opens the case with four tasks (customer service,
//! warehouse, carrier management, finance); a later one adds a comment.
//! When Core Case reports every task completed, the case is resolved.
//! Rules, settings and grants for admins are in `docs/scenarios.md`.
//!
//! ```text
//! cargo test -p delivery-issues
//! cargo build -p delivery-issues --target wasm32-wasip2 --profile plugin
//! ```
//!
//! # Layout
//! - this file: the [`DeliveryIssues`] plugin and its settings;
//! - `tracking`: fulfilments and carrier events, the "no progress" timer;
//! - `orders`: partial shipments and "not received" tags;
//! - `reports`: helpdesk and carrier reports;
//! - `investigation`: the case, its tasks and its resolution.

mod investigation;
mod orders;
mod reports;
mod tracking;

use plugin_kit::{settings, tags, text};
use shopcase_sdk::{Action, Event, Plugin, PluginError};

/// The case type this plugin opens (granted in `plugin.toml`).
pub const CASE_TYPE: &str = "delivery-investigation";

/// The timer of a fulfilment's estimated delivery (`eta-check-<fulfillment id>`).
pub const ETA_TIMER_PREFIX: &str = "eta-check-";

/// The timer of an order's partial shipment.
pub const PARTIAL_TIMER: &str = "partial-check";

/// The plugin.
#[derive(Debug)]
pub struct DeliveryIssues;

impl Plugin for DeliveryIssues {
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
        let actions = match event.topic.as_str() {
            "fulfillment_events/create" => tracking::on_event(event),
            "fulfillments/create" | "fulfillments/update" => tracking::on_fulfillment(event),
            "orders/updated" => orders::on_order(event),
            "helpdesk/not-received" => reports::on_not_received(event),
            "carrier/exception" => reports::on_carrier_exception(event),
            "timer/fired" => {
                let timer = event.timer_fired()?;
                if timer.name.starts_with(ETA_TIMER_PREFIX) {
                    tracking::on_eta_timer(event, &timer)
                } else if timer.name == PARTIAL_TIMER {
                    orders::on_partial_timer(event, &timer)
                } else {
                    Ok(vec![])
                }
            }
            "corecase/case-updated" => investigation::on_case_updated(event),
            _ => Ok(vec![]),
        }?;
        // Every case gets its owner by the store's assignment rules.
        plugin_kit::assign::owners(actions)
    }
}

shopcase_sdk::export_plugin!(DeliveryIssues);

/// The settings.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) owner_group: String,
    pub(crate) sla_hours: i64,
    pub(crate) attempts: u32,
    pub(crate) grace_hours: i64,
    pub(crate) transit_days: i64,
    pub(crate) partial_days: i64,
    pub(crate) not_received_tags: Vec<String>,
    pub(crate) customer_service: String,
    pub(crate) warehouse: String,
    pub(crate) carrier: String,
    pub(crate) finance: String,
}

impl Settings {
    pub(crate) fn read() -> Settings {
        let team = |name: &str, default: &str| text::clip(&settings::text(name, default), 128);
        Settings {
            owner_group: team("owner-group", "logistics"),
            sla_hours: settings::int("sla-hours", 48, 1, 720),
            attempts: u32::try_from(settings::int("attempted-deliveries", 2, 1, 10)).unwrap_or(2),
            grace_hours: settings::int("eta-grace-hours", 24, 0, 240),
            transit_days: settings::int("default-transit-days", 7, 1, 60),
            partial_days: settings::int("partial-shipment-days", 5, 1, 60),
            not_received_tags: settings::list("not-received-tags", tags::NOT_RECEIVED_TAGS),
            customer_service: team("customer-service-team", "customer-service"),
            warehouse: team("warehouse-team", "warehouse"),
            carrier: team("carrier-team", "carrier-management"),
            finance: team("finance-team", "finance"),
        }
    }
}
