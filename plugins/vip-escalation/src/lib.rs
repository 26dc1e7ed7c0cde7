//! # vip-escalation: prioritised cases that escalate over time
//!
//! - `orders/create`: an order from a VIP customer (the customer's tags in
//!   Shopify, read with the customer history, against `vip-tags`) or a
//!   large order (`large-order-threshold`) gets a `vip-escalation` case
//!   about the order.
//! - `orders/updated`, `orders/cancelled`: service failures (a failed or
//!   attempted delivery, a complaint tag, a cancellation by the store) are
//!   counted per customer in the key-value store over
//!   `failure-window-days`; at `failure-threshold` the customer gets a
//!   `vip-escalation` case about the customer.
//! - `helpdesk/complaint`, `helpdesk/not-received`, and `orders/updated`
//!   with a complaint tag (`complaint-tags`, `not-received-tags`; the
//!   kit's tag convention): a VIP customer's complaint escalates the
//!   order's case at once (critical, escalation group, one level up), or
//!   opens one so.
//! - Every case gets a timer at its due date (`timer/fired`): if the case
//!   is still open then (`case-lookup`), its priority and escalation level
//!   go up, from level 2 it moves to the `escalation-group`, it gets a new
//!   due date, and the next timer is set, up to `max-escalation-level`.
//!
//! Rules, settings and grants for admins are in `docs/scenarios.md`.
//!
//! ```text
//! cargo test -p vip-escalation
//! cargo build -p vip-escalation --target wasm32-wasip2 --profile plugin
//! ```
//!
//! # Layout
//! - this file: the [`VipEscalation`] plugin and its settings;
//! - `orders`: VIP and large orders;
//! - `failures`: repeated service failures;
//! - `complaints`: a VIP's complaint;
//! - `escalation`: the timers.

mod complaints;
mod escalation;
mod failures;
mod orders;

use plugin_kit::{settings, tags, text};
use shopcase_sdk::{Action, Event, Plugin, PluginError};

/// The case type this plugin opens (granted in `plugin.toml`).
pub const CASE_TYPE: &str = "vip-escalation";

/// The name of the escalation timer.
pub const ESCALATION_TIMER: &str = "vip-escalation";

/// The plugin.
#[derive(Debug)]
pub struct VipEscalation;

impl Plugin for VipEscalation {
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
        let actions = match event.topic.as_str() {
            "orders/create" => orders::on_create(event),
            "orders/updated" => {
                // A VIP's complaint tag escalates the order's case; every
                // complaint tag also counts as a service failure.
                let mut actions = complaints::on_order(event)?;
                actions.extend(failures::on_order(event)?);
                Ok(actions)
            }
            "orders/cancelled" => failures::on_order(event),
            "helpdesk/complaint" | "helpdesk/not-received" => complaints::on_report(event),
            "timer/fired" => escalation::on_timer(event),
            _ => Ok(vec![]),
        }?;
        // Every case gets its owner by the store's assignment rules.
        plugin_kit::assign::owners(actions)
    }
}

shopcase_sdk::export_plugin!(VipEscalation);

/// The settings.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) vip_tags: Vec<String>,
    pub(crate) large_cents: i64,
    pub(crate) failure_threshold: i64,
    pub(crate) window_days: i64,
    pub(crate) cancel_reasons: Vec<String>,
    pub(crate) shipment_statuses: Vec<String>,
    pub(crate) failure_tags: Vec<String>,
    pub(crate) complaint_tags: Vec<String>,
    pub(crate) not_received_tags: Vec<String>,
    pub(crate) owner_group: String,
    pub(crate) escalation_group: String,
    pub(crate) sla_hours: i64,
    pub(crate) step_hours: i64,
    pub(crate) max_level: u8,
    pub(crate) tag: Option<String>,
    pub(crate) customer_tag: Option<String>,
}

impl Settings {
    pub(crate) fn read() -> Settings {
        Settings {
            vip_tags: settings::list("vip-tags", &[tags::VIP]),
            large_cents: settings::cents("large-order-threshold", 1000.0),
            failure_threshold: settings::int("failure-threshold", 3, 2, 20),
            window_days: settings::int("failure-window-days", 90, 1, 365),
            cancel_reasons: settings::list(
                "failure-cancel-reasons",
                &["inventory", "declined", "other"],
            ),
            shipment_statuses: settings::list(
                "failure-shipment-statuses",
                &["failure", "attempted_delivery"],
            ),
            failure_tags: settings::list(
                "failure-tags",
                &[
                    tags::COMPLAINT,
                    tags::NOT_RECEIVED,
                    "complaint-not-received",
                    "delivered-not-received",
                    tags::DAMAGED_IN_TRANSIT,
                ],
            ),
            complaint_tags: settings::list("complaint-tags", &[tags::COMPLAINT]),
            not_received_tags: settings::list("not-received-tags", tags::NOT_RECEIVED_TAGS),
            owner_group: text::clip(&settings::text("owner-group", "vip-desk"), 128),
            escalation_group: text::clip(&settings::text("escalation-group", "cx-managers"), 128),
            sla_hours: settings::int("sla-hours", 24, 1, 720),
            step_hours: settings::int("escalation-step-hours", 8, 1, 168),
            max_level: u8::try_from(settings::int("max-escalation-level", 3, 1, 5)).unwrap_or(3),
            tag: text::tag(&settings::text("tag", "vip-priority")),
            customer_tag: text::tag(&settings::text("customer-tag", "service-recovery")),
        }
    }

    /// Whether a customer's tags make them a VIP.
    pub(crate) fn is_vip(&self, tags: &[String]) -> bool {
        tags.iter()
            .any(|t| self.vip_tags.iter().any(|v| text::same_tag(v, t)))
    }
}

/// The first escalation timer of a new case.
pub(crate) fn first_timer(due: shopcase_sdk::Timestamp, subject: &str) -> Action {
    shopcase_sdk::FollowUp::at(ESCALATION_TIMER, due)
        .data(&serde_json::json!({ "level": 1, "subject": subject }))
        .into()
}
