//! # returns: return requests, disputes and complaints as cases
//!
//! Three case types, one module each:
//!
//! - `return-request` (`returns`): a case per return request
//!   (`returns/request`), with the lines, reasons and customer notes; the
//!   analyst's decision (`approve`, `decline`) is carried out in Shopify.
//!   A return decided in Shopify directly (`returns/approve`,
//!   `returns/decline`) resolves the case; a withdrawn one
//!   (`returns/cancel`) cancels it.
//! - `refund-dispute` (`disputes`): a case per chargeback or inquiry
//!   (`disputes/create`), due before the evidence deadline, with an
//!   evidence task and a reminder timer; its outcome (`disputes/update`:
//!   won, lost, accepted) resolves the case.
//! - `complaint` (`complaints`): a case per order on which a complaint is
//!   recorded (`orders/updated`: a complaint tag or note attribute; or a
//!   helpdesk report, `helpdesk/complaint`, `helpdesk/not-received`),
//!   "delivered but not received" complaints first. Tags follow the kit's
//!   convention (`plugin_kit::tags`).
//!
//! Rules, settings and grants for admins are in `docs/scenarios.md`. Every
//! return, dispute and complaint is handled once (the key-value store
//! remembers it), however often Shopify sends it.
//!
//! ```text
//! cargo test -p returns
//! cargo build -p returns --target wasm32-wasip2 --profile plugin
//! ```
//!
//! # Layout
//! - this file: the [`Returns`] plugin and its topic dispatch;
//! - `returns`, `disputes`, `complaints`: one case type each, with its
//!   settings.

mod complaints;
mod disputes;
mod returns;

use shopcase_sdk::{Action, CustomerSummary, Event, Plugin, PluginError, host};

pub use complaints::CASE_TYPE as COMPLAINT;
pub use disputes::CASE_TYPE as REFUND_DISPUTE;
pub use disputes::REMINDER_TIMER;
pub use returns::CASE_TYPE as RETURN_REQUEST;

/// The plugin.
#[derive(Debug)]
pub struct Returns;

impl Plugin for Returns {
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
        let actions = match event.topic.as_str() {
            "returns/request" => returns::on_request(event),
            "returns/approve" => returns::on_decided_in_shopify(event, returns::Outcome::Approved),
            "returns/decline" => returns::on_decided_in_shopify(event, returns::Outcome::Declined),
            "returns/cancel" => returns::on_decided_in_shopify(event, returns::Outcome::Cancelled),
            "disputes/create" | "disputes/update" => disputes::on_dispute(event),
            "orders/updated" => complaints::on_order(event),
            "helpdesk/complaint" | "helpdesk/not-received" => complaints::on_report(event),
            "timer/fired" => disputes::on_timer(event),
            "corecase/case-updated" => {
                let update = event.case_updated()?;
                if update.case.case_type == returns::CASE_TYPE {
                    returns::on_case_updated(event, &update)
                } else {
                    Ok(vec![])
                }
            }
            _ => Ok(vec![]),
        }?;
        // Every case gets its owner by the store's assignment rules.
        plugin_kit::assign::owners(actions)
    }
}

shopcase_sdk::export_plugin!(Returns);

/// The customer's history when the host names the event's customer.
pub(crate) fn history(event: &Event) -> Result<Option<CustomerSummary>, PluginError> {
    match event.resources.customer_id {
        Some(id) => Ok(Some(host::customer_history(id)?)),
        None => Ok(None),
    }
}

/// Shopify's snake_case words for people: `product_not_received` →
/// `product not received`.
pub(crate) fn words(s: &str) -> String {
    s.replace('_', " ")
}
