//! The evidence document of a fraud case: the score and its signals, the
//! customer, shipping patterns, the browser, the order and the order
//! history.

use std::collections::BTreeMap;

use plugin_kit::dossier::{Markdown, history_section, order_file_name, order_section};
use shopcase_sdk::views::Order;
use shopcase_sdk::{CustomerSummary, Document, Timestamp};

use crate::signals::Signal;

fn score_section(
    md: &mut Markdown,
    signals: &[Signal],
    score: i64,
    threshold: i64,
    shopify_level: Option<&str>,
) {
    md.heading("Risk score");
    md.para(&format!(
        "**{score}** of 100 (a case opens from {threshold}). The same breakdown is on the order in Shopify (metafield `shopcase.fraud-score`)."
    ));
    let rows: Vec<Vec<String>> = signals
        .iter()
        .map(|s| vec![s.code.clone(), format!("+{}", s.points), s.detail.clone()])
        .collect();
    md.table(&["signal", "points", "reason"], &rows);
    md.field(
        "Shopify's risk assessment",
        shopify_level.unwrap_or("none yet"),
    );
}

/// The full evidence, from the order and the customer's history.
pub(crate) fn evidence(
    order: &Order,
    signals: &[Signal],
    score: i64,
    threshold: i64,
    history: Option<&CustomerSummary>,
    shopify_level: Option<&str>,
) -> Document {
    let mut md = Markdown::new(&format!("Fraud evidence {}", order.name));
    score_section(&mut md, signals, score, threshold, shopify_level);

    md.heading("Customer");
    match (history, order.customer.as_ref()) {
        (Some(h), customer) => {
            md.field("Customer id", &h.customer_id.to_string());
            md.field("Customer since", &h.created_at);
            if let (Ok(since), Ok(placed)) = (
                Timestamp::parse(&h.created_at),
                Timestamp::parse(order.processed_at.as_deref().unwrap_or(&order.created_at)),
            ) {
                let hours = since.seconds_until(placed) / 3600;
                md.field(
                    "Account age at this order",
                    &if hours < 48 {
                        format!("{hours} hours")
                    } else {
                        format!("{} days", hours / 24)
                    },
                );
            }
            md.field("Orders placed", &h.number_of_orders.to_string());
            md.field(
                "Amount spent",
                &format!("{} {}", h.amount_spent, h.currency),
            );
            md.field("Tags", &h.tags.join(", "));
            if let Some(c) = customer {
                md.field(
                    "Email verified",
                    if c.verified_email { "yes" } else { "no" },
                );
            }
        }
        (None, _) => {
            md.para("Guest checkout: no customer account, no history.");
        }
    }

    md.heading("Shipping patterns");
    let here = order.shipping_country().unwrap_or("—").to_owned();
    md.field("This order ships to", &here);
    if let Some(h) = history {
        let mut countries: BTreeMap<String, usize> = BTreeMap::new();
        for o in h.recent_orders.iter().filter(|o| o.id != order.id) {
            *countries
                .entry(o.shipping_country.clone().unwrap_or_else(|| "—".into()))
                .or_default() += 1;
        }
        let before = countries.get(&here).copied().unwrap_or(0);
        md.field(
            "Earlier orders to this country",
            &if before == 0 {
                "none: a new destination".to_owned()
            } else {
                before.to_string()
            },
        );
        let list: Vec<String> = countries
            .iter()
            .map(|(c, n)| format!("{c} × {n}"))
            .collect();
        md.field("Earlier destinations", &list.join(", "));
    }

    if let Some(c) = &order.client_details {
        md.heading("Browser");
        md.field("IP address", c.browser_ip.as_deref().unwrap_or(""));
        md.field("User agent", c.user_agent.as_deref().unwrap_or(""));
        md.field(
            "Accept-Language",
            c.accept_language.as_deref().unwrap_or(""),
        );
    }

    order_section(&mut md, order);
    if let Some(h) = history {
        history_section(&mut md, h, Some(order.id));
    }
    Document::markdown(
        order_file_name(&order.name, order.id, "fraud-evidence"),
        format!(
            "Fraud evidence of {}: score, signals, customer, shipping patterns, order history",
            order.name
        ),
        md.finish(),
    )
}

/// The evidence when only what was remembered about the order is known (a
/// risk assessment for an order scored without a case).
pub(crate) fn evidence_from_memory(
    order_id: u64,
    a: &crate::Assessment,
    label: &str,
    score: i64,
    threshold: i64,
) -> Document {
    let mut md = Markdown::new(&format!("Fraud evidence {label}"));
    md.field("Order id", &order_id.to_string());
    if !a.total.is_empty() {
        md.field("Total", &format!("{} {}", a.total, a.currency));
    }
    score_section(
        &mut md,
        &a.signals,
        score,
        threshold,
        a.shopify_level.as_deref(),
    );
    md.para("The case was opened by Shopify's risk assessment; the order and customer details are in Shopify.");
    Document::markdown(
        order_file_name(&a.name, order_id, "fraud-evidence"),
        format!("Fraud evidence of {label}: score and signals"),
        md.finish(),
    )
}
