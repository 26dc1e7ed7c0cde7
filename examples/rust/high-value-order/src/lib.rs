//! # high-value-order: the first example shopcase plugin
//!
//! On `orders/create`, when the order's total reaches the `threshold`
//! setting, open a case for the sales team and tag the order.
//!
//! Run the tests natively, and build the component:
//!
//! ```text
//! cargo test -p high-value-order
//! cargo build -p high-value-order --target wasm32-wasip2 --profile plugin
//! # → target/wasm32-wasip2/plugin/high_value_order.wasm
//! ```
//!
//! The same behaviour is implemented in every SDK language and checked
//! against the same fixtures (`fixtures/`, see its README), so it is
//! specified exactly:
//!
//! 1. `total_price` must be a decimal string (`-`? digits, optionally `.`
//!    and digits); missing or anything else fails with the non-retryable
//!    error `order payload has no total_price`.
//! 2. A test order (`"test": true`) needs nothing.
//! 3. Below the `threshold` setting (number, default 500) needs nothing.
//! 4. Otherwise, in this order:
//!    - `open-case` with key (`high-value-order`, order(<id>)), title
//!      `High-value order <name>`, summary `Order <name> totals <total_price>
//!      <currency>, above the <threshold> threshold.`, priority `critical`
//!      from 4× the threshold, `high` from 2×, else `medium`, owner group
//!      the `team` setting (default `sales-ops`), attributes `orderName`,
//!      `totalPrice`, `currency`, `lineItems` (the number of line items);
//!    - `tags-add` of the `tag` setting (default `high-value`) on the order;
//!
//!    and an info log line `order <name> above threshold: <total_price>
//!    <currency>`.
//!
//! `total_price` and `currency` are copied verbatim; the threshold is
//! written without a trailing `.0` when integral (`500`, `750.5`).

use shopcase_sdk::{Action, Event, OpenCase, Plugin, PluginError, Priority, Target, host, shopify};

/// The case type this plugin opens (granted in `plugin.toml`).
pub const CASE_TYPE: &str = "high-value-order";

/// The plugin.
#[derive(Debug)]
pub struct HighValueOrder;

impl Plugin for HighValueOrder {
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
        let order = event.order()?;
        let Some(total) = order.total_price_f64() else {
            return Err(PluginError::new("order payload has no total_price"));
        };
        if order.test {
            return Ok(vec![]);
        }
        let threshold = host::setting_number("threshold", 500.0);
        if total < threshold {
            return Ok(vec![]);
        }
        let priority = if total >= 4.0 * threshold {
            Priority::Critical
        } else if total >= 2.0 * threshold {
            Priority::High
        } else {
            Priority::Medium
        };
        let team = host::setting_text("team", "sales-ops");
        let tag = host::setting_text("tag", "high-value");
        let (name, price, currency) = (&order.name, &order.total_price, &order.currency);

        let key = event.order_key(CASE_TYPE)?;
        // f64's Display has no trailing `.0` for integral values: 500, 750.5.
        let summary =
            format!("Order {name} totals {price} {currency}, above the {threshold} threshold.");
        let case = OpenCase::new(key, format!("High-value order {name}"))
            .summary(summary)
            .priority(priority)
            .owner_group(team)
            .attribute("orderName", name)
            .attribute("totalPrice", price)
            .attribute("currency", currency)
            .attribute("lineItems", order.line_items.len().to_string());
        let tags = shopify::tags_add(Target::Order(event.order_id()?), [tag]);
        shopcase_sdk::info!("order {name} above threshold: {price} {currency}");
        Ok(vec![case.into(), tags.into()])
    }
}

shopcase_sdk::export_plugin!(HighValueOrder);

#[cfg(test)]
mod tests;
