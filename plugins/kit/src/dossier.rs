//! Markdown documents attached to cases: a small builder, and the sections
//! every dossier shares (the order, the customer's history).
//!
//! Documents are built only from the (minimised) payload and the host's
//! customer history, so they hold no more personal data than the plugin
//! was granted.

use shopcase_sdk::views::Order;
use shopcase_sdk::{CustomerSummary, Document, Money, OrderDetails};

use crate::text::{file_stem, single_line};

/// A Markdown document under construction.
#[derive(Debug, Clone)]
pub struct Markdown {
    out: String,
}

/// A table cell: on one line, `|` escaped, empty shown as `—`.
fn cell(s: &str) -> String {
    let s = single_line(s).replace('|', "\\|");
    if s.is_empty() { "—".to_owned() } else { s }
}

impl Markdown {
    /// A document with a top-level title.
    pub fn new(title: &str) -> Markdown {
        Markdown {
            out: format!("# {}\n", single_line(title)),
        }
    }

    /// A second-level heading.
    pub fn heading(&mut self, text: &str) -> &mut Self {
        self.out
            .push_str(&format!("\n## {}\n\n", single_line(text)));
        self
    }

    /// A paragraph.
    pub fn para(&mut self, text: &str) -> &mut Self {
        self.out.push_str(text.trim());
        self.out.push_str("\n\n");
        self
    }

    /// A `- **label:** value` line.
    pub fn field(&mut self, label: &str, value: &str) -> &mut Self {
        self.out.push_str(&format!(
            "- **{label}:** {}\n",
            cell(value).replace("\\|", "|")
        ));
        self
    }

    /// A bullet point.
    pub fn bullet(&mut self, text: &str) -> &mut Self {
        self.out.push_str(&format!("- {}\n", single_line(text)));
        self
    }

    /// A table; rows shorter than the header are padded.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>]) -> &mut Self {
        self.out.push('\n');
        self.out.push_str(&format!("| {} |\n", header.join(" | ")));
        self.out
            .push_str(&format!("|{}\n", "---|".repeat(header.len())));
        for row in rows {
            let cells: Vec<String> = (0..header.len())
                .map(|i| cell(row.get(i).map_or("", String::as_str)))
                .collect();
            self.out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        self.out.push('\n');
        self
    }

    /// The text so far.
    pub fn as_str(&self) -> &str {
        &self.out
    }

    /// The finished text.
    pub fn finish(self) -> String {
        self.out
    }
}

fn opt(s: Option<&str>) -> &str {
    s.unwrap_or("")
}

/// The order: identity, money, statuses, where it goes (as far as the plugin
/// may see), what was bought, shipped and refunded.
pub fn order_section(md: &mut Markdown, order: &Order) {
    md.heading(&format!("Order {}", order.name));
    md.field("Order id", &order.id.to_string());
    md.field(
        "Placed",
        order.processed_at.as_deref().unwrap_or(&order.created_at),
    );
    md.field(
        "Total",
        &format!(
            "{} {} (subtotal {}, tax {}, discounts {})",
            order.total_price,
            order.currency,
            order.subtotal_price,
            order.total_tax,
            order.total_discounts
        ),
    );
    md.field(
        "Financial status",
        order.financial_status.as_deref().unwrap_or("unknown"),
    );
    md.field(
        "Fulfillment status",
        order.fulfillment_status.as_deref().unwrap_or("unfulfilled"),
    );
    if let Some(id) = order.customer_id() {
        md.field("Customer id", &id.to_string());
    } else {
        md.field("Customer", "guest checkout");
    }
    md.field("Source", opt(order.source_name.as_deref()));
    md.field("Payment gateways", &order.payment_gateway_names.join(", "));
    if !order.tags.trim().is_empty() {
        md.field("Tags", &order.tags);
    }
    if order.is_cancelled() {
        md.field(
            "Cancelled",
            &format!(
                "{} ({})",
                opt(order.cancelled_at.as_deref()),
                opt(order.cancel_reason.as_deref())
            ),
        );
    }
    for (label, address) in [
        ("Shipping address", &order.shipping_address),
        ("Billing address", &order.billing_address),
    ] {
        if let Some(a) = address {
            address_field(
                md,
                label,
                [
                    a.address1.as_deref(),
                    a.address2.as_deref(),
                    a.zip.as_deref(),
                    a.city.as_deref(),
                    a.province_code.as_deref(),
                    a.country_code.as_deref(),
                ],
            );
        }
    }
    for a in &order.note_attributes {
        md.field(&format!("Attribute `{}`", single_line(&a.name)), &a.value);
    }

    let rows: Vec<Vec<String>> = order
        .line_items
        .iter()
        .map(|l| {
            vec![
                l.name.clone(),
                l.sku.clone().unwrap_or_default(),
                l.quantity.to_string(),
                l.price.clone(),
                l.fulfillment_status
                    .clone()
                    .unwrap_or_else(|| "unfulfilled".into()),
            ]
        })
        .collect();
    md.heading("Items");
    md.table(&["item", "sku", "qty", "unit price", "fulfillment"], &rows);

    if !order.shipping_lines.is_empty() {
        let rows: Vec<Vec<String>> = order
            .shipping_lines
            .iter()
            .map(|s| vec![s.title.clone(), s.price.clone()])
            .collect();
        md.heading("Shipping");
        md.table(&["method", "price"], &rows);
    }
    if !order.fulfillments.is_empty() {
        let rows: Vec<Vec<String>> = order
            .fulfillments
            .iter()
            .map(|f| {
                vec![
                    f.name.clone(),
                    f.status.clone(),
                    f.shipment_status.clone().unwrap_or_default(),
                    f.tracking_company.clone().unwrap_or_default(),
                    f.tracking_number.clone().unwrap_or_default(),
                    f.created_at.clone(),
                ]
            })
            .collect();
        md.heading("Fulfillments");
        md.table(
            &[
                "fulfillment",
                "status",
                "shipment",
                "carrier",
                "tracking",
                "created",
            ],
            &rows,
        );
    }
    if !order.refunds.is_empty() {
        let rows: Vec<Vec<String>> = order
            .refunds
            .iter()
            .map(|r| {
                vec![
                    r.created_at.clone(),
                    r.refunded_cents()
                        .map(shopcase_sdk::money::format_cents)
                        .unwrap_or_default(),
                    r.note.clone().unwrap_or_default(),
                ]
            })
            .collect();
        md.heading("Refunds");
        md.table(&["date", "amount", "note"], &rows);
    }
}

/// A `label: street, zip, city, province, country` line of the parts the
/// plugin may see; nothing when it may see none of them.
fn address_field(md: &mut Markdown, label: &str, parts: [Option<&str>; 6]) {
    let parts: Vec<&str> = parts
        .into_iter()
        .flatten()
        .filter(|p| !p.trim().is_empty())
        .collect();
    if !parts.is_empty() {
        md.field(label, &parts.join(", "));
    }
}

/// The order as the host's `order` look-up answers it (WIT 0.2.0, grant
/// `order-lookup`): money (total, current total, refunded, outstanding),
/// statuses, the addresses as far as the plugin may see them, every line by
/// title, SKU, quantity and price, fulfilments and payment transactions.
pub fn order_details_section(md: &mut Markdown, order: &OrderDetails) {
    md.heading(&format!("Order {}", order.name));
    md.field("Order id", &order.id.to_string());
    md.field("Placed", &order.created_at);
    let money = |m: &Money| format!("{} {}", m.amount, m.currency);
    md.field("Total", &money(&order.total));
    if order.current_total.amount != order.total.amount {
        md.field("Current total", &money(&order.current_total));
    }
    md.field("Refunded", &money(&order.total_refunded));
    md.field("Outstanding", &money(&order.outstanding));
    md.field("Financial status", &order.financial_status);
    md.field("Fulfillment status", &order.fulfillment_status);
    if order.cancelled {
        md.field("Cancelled", "yes");
    }
    match order.customer_id {
        Some(id) => md.field("Customer id", &id.to_string()),
        None => md.field("Customer", "guest checkout"),
    };
    for (label, address) in [
        ("Shipping address", &order.shipping_address),
        ("Billing address", &order.billing_address),
    ] {
        if let Some(a) = address {
            address_field(
                md,
                label,
                [
                    a.address1.as_deref(),
                    a.address2.as_deref(),
                    a.zip.as_deref(),
                    a.city.as_deref(),
                    a.province_code.as_deref(),
                    a.country_code.as_deref(),
                ],
            );
        }
    }
    let rows: Vec<Vec<String>> = order
        .line_items
        .iter()
        .map(|l| {
            vec![
                l.title.clone(),
                l.sku.clone().unwrap_or_default(),
                l.quantity.to_string(),
                money(&l.unit_price),
                line_total(&l.unit_price.amount, l.quantity)
                    .map(|t| format!("{t} {}", l.unit_price.currency))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    md.heading("Items");
    md.table(&["item", "sku", "qty", "unit price", "line total"], &rows);
    if !order.fulfillments.is_empty() {
        let rows: Vec<Vec<String>> = order
            .fulfillments
            .iter()
            .map(|f| {
                vec![
                    f.id.to_string(),
                    f.status.clone(),
                    f.tracking_company.clone().unwrap_or_default(),
                    f.tracking_number.clone().unwrap_or_default(),
                    f.created_at.clone(),
                ]
            })
            .collect();
        md.heading("Fulfillments");
        md.table(
            &["fulfillment", "status", "carrier", "tracking", "created"],
            &rows,
        );
    }
    if !order.transactions.is_empty() {
        let rows: Vec<Vec<String>> = order
            .transactions
            .iter()
            .map(|t| {
                vec![
                    t.created_at.clone(),
                    t.kind.clone(),
                    t.status.clone(),
                    t.gateway.clone().unwrap_or_default(),
                    money(&t.amount),
                ]
            })
            .collect();
        md.heading("Payments");
        md.table(&["date", "kind", "status", "gateway", "amount"], &rows);
    }
}

/// `quantity × unit price` of a decimal string, to the cent; `None` if the
/// price is not a decimal amount.
fn line_total(unit_price: &str, quantity: u32) -> Option<String> {
    let cents = shopcase_sdk::money::parse_cents(unit_price)?;
    cents
        .checked_mul(i64::from(quantity))
        .map(shopcase_sdk::money::format_cents)
}

/// The customer's history from the host (`customer-history` grant): totals,
/// tags and the most recent orders, with `current` marked.
pub fn history_section(md: &mut Markdown, history: &CustomerSummary, current: Option<u64>) {
    md.heading("Customer history");
    md.field("Customer id", &history.customer_id.to_string());
    md.field("Customer since", &history.created_at);
    md.field("Orders placed", &history.number_of_orders.to_string());
    md.field(
        "Amount spent",
        &format!("{} {}", history.amount_spent, history.currency),
    );
    md.field("Tags", &history.tags.join(", "));
    let rows: Vec<Vec<String>> = history
        .recent_orders
        .iter()
        .map(|o| {
            let mut name = o.name.clone();
            if Some(o.id) == current {
                name.push_str(" (this order)");
            }
            vec![
                name,
                o.created_at.clone(),
                format!("{} {}", o.total_price, o.currency),
                o.financial_status.clone(),
                o.fulfillment_status.clone(),
                if o.cancelled { "yes" } else { "no" }.to_owned(),
                o.shipping_country.clone().unwrap_or_default(),
            ]
        })
        .collect();
    if !rows.is_empty() {
        md.table(
            &[
                "order",
                "placed",
                "total",
                "payment",
                "fulfillment",
                "cancelled",
                "ships to",
            ],
            &rows,
        );
    }
}

/// The file name of a document about an order: `order-1042-<what>.md`.
pub fn order_file_name(order_name: &str, order_id: u64, what: &str) -> String {
    format!(
        "order-{}-{what}.md",
        file_stem(order_name, &order_id.to_string())
    )
}

/// The order dossier: `findings` (what the plugin found, one per line), the
/// order, and the customer's history when the plugin has it.
pub fn order_dossier(
    order: &Order,
    findings: &[String],
    history: Option<&CustomerSummary>,
) -> Document {
    let mut md = Markdown::new(&format!("Order dossier {}", order.name));
    if !findings.is_empty() {
        md.heading("Findings");
        for f in findings {
            md.bullet(f);
        }
    }
    order_section(&mut md, order);
    if let Some(h) = history {
        history_section(&mut md, h, Some(order.id));
    }
    Document::markdown(
        order_file_name(&order.name, order.id, "dossier"),
        format!("Order dossier of {}", order.name),
        md.finish(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopcase_sdk::OrderSummary;

    fn order() -> Order {
        serde_json::from_value(serde_json::json!({
            "id": 42, "name": "#1042", "total_price": "1243.87", "currency": "EUR",
            "subtotal_price": "1189.00", "total_tax": "54.87", "total_discounts": "0.00",
            "created_at": "2026-11-26T10:00:00+01:00", "financial_status": "paid",
            "customer": {"id": 7}, "tags": "vip, gift",
            "line_items": [{"name": "Espresso | Pro", "sku": "EMP", "quantity": 1, "price": "1189.00"}],
            "shipping_address": {"address1": "Torstraße 140", "zip": "10119", "city": "Berlin", "country_code": "DE"},
            "note_attributes": [{"name": "gift_note", "value": "Happy\nbirthday"}]
        }))
        .unwrap()
    }

    #[test]
    fn dossier_has_findings_order_items_and_history() {
        let history = CustomerSummary {
            customer_id: 7,
            number_of_orders: 2,
            amount_spent: "1300.00".into(),
            currency: "EUR".into(),
            tags: vec!["VIP".into()],
            created_at: "2024-01-01T00:00:00Z".into(),
            recent_orders: vec![OrderSummary {
                id: 42,
                name: "#1042".into(),
                created_at: "2026-11-26T09:00:00Z".into(),
                total_price: "1243.87".into(),
                currency: "EUR".into(),
                financial_status: "PAID".into(),
                fulfillment_status: "UNFULFILLED".into(),
                cancelled: false,
                shipping_country: Some("DE".into()),
            }],
        };
        let doc = order_dossier(&order(), &["Address mismatch".into()], Some(&history));
        assert_eq!(doc.name, "order-1042-dossier.md");
        assert_eq!(doc.content_type, "text/markdown");
        let text = String::from_utf8(doc.content).unwrap();
        assert!(text.starts_with("# Order dossier #1042\n"), "{text}");
        assert!(
            text.contains("## Findings\n\n- Address mismatch\n"),
            "{text}"
        );
        assert!(text.contains("| Espresso \\| Pro | EMP | 1 | 1189.00 | unfulfilled |"));
        assert!(text.contains("- **Shipping address:** Torstraße 140, 10119, Berlin, DE"));
        assert!(text.contains("- **Attribute `gift_note`:** Happy birthday"));
        assert!(text.contains("| #1042 (this order) | 2026-11-26T09:00:00Z | 1243.87 EUR |"));
        assert!(text.contains("- **Tags:** VIP"));
    }

    #[test]
    fn empty_cells_and_guests() {
        let mut o = order();
        o.customer = None;
        let mut md = Markdown::new("t");
        order_section(&mut md, &o);
        let text = md.finish();
        assert!(text.contains("- **Customer:** guest checkout"));
        assert!(text.contains("- **Source:** —"));
        assert_eq!(order_file_name("", 9, "x"), "order-9-x.md");
    }
}
