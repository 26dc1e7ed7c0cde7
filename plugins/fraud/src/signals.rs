//! Risk signals and the score, as pure functions of the order, the
//! customer's history and the settings.

use serde::{Deserialize, Serialize};
use shopcase_sdk::views::{Address, Order};
use shopcase_sdk::{CustomerSummary, Timestamp, money};

use crate::ip::{self, IpRange};

/// One signal found, with the points it adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Signal {
    /// Stable code, e.g. `ip-country-mismatch`.
    pub(crate) code: String,
    pub(crate) points: i64,
    /// What was found, for the case worker.
    pub(crate) detail: String,
}

/// The scoring rules, from the settings.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    pub(crate) shopify_high: i64,
    pub(crate) shopify_medium: i64,
    pub(crate) ip_mismatch: i64,
    pub(crate) first_order_high_value: i64,
    pub(crate) billing_shipping: i64,
    pub(crate) velocity: i64,
    pub(crate) forwarder: i64,
    pub(crate) first_order_value_cents: i64,
    pub(crate) velocity_orders: i64,
    pub(crate) velocity_hours: i64,
    pub(crate) forwarder_keywords: Vec<String>,
    pub(crate) forwarder_postal_codes: Vec<String>,
    pub(crate) ip_ranges: Vec<IpRange>,
}

/// The score of a set of signals: their points summed, at most 100.
pub(crate) fn score(signals: &[Signal]) -> i64 {
    signals.iter().map(|s| s.points).sum::<i64>().clamp(0, 100)
}

fn signal(code: &str, points: i64, detail: String) -> Option<Signal> {
    (points > 0).then(|| Signal {
        code: code.to_owned(),
        points,
        detail,
    })
}

fn field(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn country(a: &Address) -> Option<String> {
    field(a.country_code.as_deref()).map(str::to_ascii_uppercase)
}

fn postal(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// The signals of a new order. `history` is the customer's (none for a
/// guest checkout, which counts as a first order).
pub(crate) fn order_signals(
    order: &Order,
    history: Option<&CustomerSummary>,
    now: Timestamp,
    r: &Rules,
) -> Vec<Signal> {
    let mut out = Vec::new();
    let ship = order.shipping_address.as_ref();

    // IP country vs shipping country.
    let ip = order
        .client_details
        .as_ref()
        .and_then(|c| field(c.browser_ip.as_deref()))
        .or_else(|| field(order.browser_ip.as_deref()));
    if let (Some(ip), Some(ship_country)) = (ip, ship.and_then(country))
        && let Some(ip_country) = ip::country_of(ip, &r.ip_ranges)
        && ip_country != ship_country
    {
        out.extend(signal(
            "ip-country-mismatch",
            r.ip_mismatch,
            format!(
                "The buyer's IP address {ip} is in {ip_country}; the order ships to {ship_country}."
            ),
        ));
    }

    // High value on a first order.
    let first = match history {
        None => true,
        Some(h) => h.number_of_orders <= 1 && h.recent_orders.iter().all(|o| o.id == order.id),
    };
    if first
        && let Some(total) = money::parse_cents(&order.total_price)
        && total >= r.first_order_value_cents
    {
        let who = if history.is_some() {
            "the customer's first order"
        } else {
            "a guest checkout"
        };
        out.extend(signal(
            "first-order-high-value",
            r.first_order_high_value,
            format!(
                "{} {} on {who} (threshold {}).",
                order.total_price,
                order.currency,
                money::format_cents(r.first_order_value_cents)
            ),
        ));
    }

    // Billing vs shipping.
    if let (Some(bill), Some(ship)) = (&order.billing_address, ship) {
        match (country(bill), country(ship)) {
            (Some(b), Some(s)) if b != s => out.extend(signal(
                "billing-shipping-mismatch",
                r.billing_shipping,
                format!("Billed in {b}, shipped to {s}."),
            )),
            (Some(_), Some(s)) => {
                if let (Some(bz), Some(sz)) =
                    (field(bill.zip.as_deref()), field(ship.zip.as_deref()))
                    && postal(bz) != postal(sz)
                {
                    out.extend(signal(
                        "billing-shipping-mismatch",
                        r.billing_shipping / 2,
                        format!(
                            "Billing postal code {bz}, shipping postal code {sz} (both in {s})."
                        ),
                    ));
                }
            }
            _ => {}
        }
    }

    // Order velocity.
    if let Some(h) = history {
        let since = now.plus_hours(-r.velocity_hours);
        let mut ids: Vec<u64> = h
            .recent_orders
            .iter()
            .filter(|o| Timestamp::parse(&o.created_at).is_ok_and(|t| t >= since))
            .map(|o| o.id)
            .collect();
        ids.push(order.id);
        ids.sort_unstable();
        ids.dedup();
        let n = i64::try_from(ids.len()).unwrap_or(i64::MAX);
        if n >= r.velocity_orders {
            out.extend(signal(
                "order-velocity",
                r.velocity,
                format!(
                    "{n} orders by this customer within {} hours.",
                    r.velocity_hours
                ),
            ));
        }
    }

    // Freight forwarder.
    if let Some(ship) = ship
        && let Some(why) = forwarder(ship, r)
    {
        out.extend(signal("freight-forwarder", r.forwarder, why));
    }
    out
}

/// Why the shipping address looks like a freight forwarder, if it does.
fn forwarder(a: &Address, r: &Rules) -> Option<String> {
    let lines: Vec<&str> = [
        a.address1.as_deref(),
        a.address2.as_deref(),
        a.company.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let text = lines.join(" ").to_lowercase();
    if let Some(k) = r
        .forwarder_keywords
        .iter()
        .find(|k| !k.trim().is_empty() && text.contains(&k.trim().to_lowercase()))
    {
        return Some(format!(
            "The shipping address ({}) contains `{}`, typical of a freight forwarder.",
            lines.join(", "),
            k.trim()
        ));
    }
    let zip = postal(field(a.zip.as_deref())?);
    let ctry = country(a).unwrap_or_default();
    r.forwarder_postal_codes.iter().find_map(|entry| {
        let (want_country, code) = match entry.split_once(':') {
            Some((c, z)) => (Some(c.trim().to_ascii_uppercase()), z),
            None => (None, entry.as_str()),
        };
        let matches =
            postal(code) == zip && want_country.as_deref().is_none_or(|c| c == ctry.as_str());
        matches.then(|| {
            format!(
                "The shipping postal code {} {} is a known freight forwarder hub.",
                ctry,
                field(a.zip.as_deref()).unwrap_or_default()
            )
        })
    })
}

/// The signal of Shopify's risk assessment (`high`, `medium`; `low` and
/// others add nothing).
pub(crate) fn shopify_risk_signal(
    level: &str,
    provider: Option<&str>,
    r: &Rules,
) -> Option<Signal> {
    let by = provider.filter(|p| !p.trim().is_empty()).map_or_else(
        || "Shopify".to_owned(),
        |p| format!("Shopify ({})", p.trim()),
    );
    match level.to_ascii_lowercase().as_str() {
        "high" => signal(
            "shopify-risk",
            r.shopify_high,
            format!("{by} assesses the order's risk as high."),
        ),
        "medium" => signal(
            "shopify-risk",
            r.shopify_medium,
            format!("{by} assesses the order's risk as medium."),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopcase_sdk::OrderSummary;

    fn rules() -> Rules {
        Rules {
            shopify_high: 60,
            shopify_medium: 30,
            ip_mismatch: 25,
            first_order_high_value: 25,
            billing_shipping: 20,
            velocity: 20,
            forwarder: 25,
            first_order_value_cents: 50_000,
            velocity_orders: 3,
            velocity_hours: 24,
            forwarder_keywords: vec!["forwarding".into()],
            forwarder_postal_codes: vec!["US:19720".into(), "97230".into()],
            ip_ranges: ip::parse_ranges(&["203.0.113.0/24=GB".to_owned()]).0,
        }
    }

    fn now() -> Timestamp {
        Timestamp::parse("2026-11-26T12:00:00Z").unwrap()
    }

    fn order(v: serde_json::Value) -> Order {
        serde_json::from_value(v).unwrap()
    }

    fn codes(s: &[Signal]) -> Vec<&str> {
        s.iter().map(|s| s.code.as_str()).collect()
    }

    fn past(id: u64, at: &str) -> OrderSummary {
        OrderSummary {
            id,
            name: format!("#{id}"),
            created_at: at.into(),
            total_price: "10.00".into(),
            currency: "EUR".into(),
            financial_status: "PAID".into(),
            fulfillment_status: "FULFILLED".into(),
            cancelled: false,
            shipping_country: Some("DE".into()),
        }
    }

    fn history(orders: u64, recent: Vec<OrderSummary>) -> CustomerSummary {
        CustomerSummary {
            customer_id: 7,
            number_of_orders: orders,
            amount_spent: "0.00".into(),
            currency: "EUR".into(),
            tags: vec![],
            created_at: "2026-01-01T00:00:00Z".into(),
            recent_orders: recent,
        }
    }

    #[test]
    fn a_plain_repeat_order_has_no_signal() {
        let o = order(serde_json::json!({
            "id": 1, "total_price": "900.00", "browser_ip": "198.51.100.1",
            "billing_address": {"zip": "10119", "country_code": "DE"},
            "shipping_address": {"address1": "Torstraße 140", "zip": "10119", "country_code": "DE"}
        }));
        let h = history(
            12,
            vec![
                past(1, "2026-11-26T11:00:00Z"),
                past(2, "2026-10-01T00:00:00Z"),
            ],
        );
        assert!(order_signals(&o, Some(&h), now(), &rules()).is_empty());
    }

    #[test]
    fn every_order_signal() {
        let o = order(serde_json::json!({
            "id": 1, "total_price": "1890.00", "currency": "EUR",
            "client_details": {"browser_ip": "203.0.113.77"},
            "billing_address": {"zip": "W1S 1HT", "country_code": "GB"},
            "shipping_address": {"address1": "1 Forwarding Way", "address2": "Suite 4410", "zip": "19720", "country_code": "US"}
        }));
        let h = history(1, vec![past(1, "2026-11-26T11:59:00Z")]);
        let s = order_signals(&o, Some(&h), now(), &rules());
        assert_eq!(
            codes(&s),
            [
                "ip-country-mismatch",
                "first-order-high-value",
                "billing-shipping-mismatch",
                "freight-forwarder"
            ]
        );
        assert_eq!(
            s[0].detail,
            "The buyer's IP address 203.0.113.77 is in GB; the order ships to US."
        );
        assert_eq!(
            s[1].detail,
            "1890.00 EUR on the customer's first order (threshold 500.00)."
        );
        assert_eq!(score(&s), 95);
        let mut more = s.clone();
        more.extend(shopify_risk_signal("HIGH", None, &rules()));
        assert_eq!(score(&more), 100, "capped");
    }

    #[test]
    fn velocity_counts_this_order_once_within_the_window() {
        let o = order(serde_json::json!({"id": 3, "total_price": "10.00"}));
        let recent = vec![
            past(3, "2026-11-26T11:59:00Z"),
            past(2, "2026-11-26T08:00:00Z"),
            past(1, "2026-11-25T13:00:00Z"),
            past(0, "2026-11-25T11:00:00Z"),
        ];
        let s = order_signals(&o, Some(&history(4, recent.clone())), now(), &rules());
        assert_eq!(codes(&s), ["order-velocity"]);
        assert_eq!(s[0].detail, "3 orders by this customer within 24 hours.");
        let mut r = rules();
        r.velocity_orders = 4;
        assert!(order_signals(&o, Some(&history(4, recent)), now(), &r).is_empty());
    }

    #[test]
    fn postal_code_only_mismatch_counts_half_and_zero_points_disable_a_signal() {
        let o = order(serde_json::json!({
            "id": 1, "total_price": "10.00",
            "billing_address": {"zip": "10119", "country_code": "DE"},
            "shipping_address": {"address1": "x", "zip": "97230", "country_code": "DE"}
        }));
        let h = history(5, vec![]);
        let s = order_signals(&o, Some(&h), now(), &rules());
        assert_eq!(
            codes(&s),
            ["billing-shipping-mismatch", "freight-forwarder"]
        );
        assert_eq!(s[0].points, 10);
        assert!(
            s[1].detail.contains("DE 97230"),
            "a bare code matches any country"
        );
        let mut r = rules();
        r.billing_shipping = 0;
        r.forwarder_postal_codes = vec!["US:97230".into()];
        assert!(order_signals(&o, Some(&h), now(), &r).is_empty());
    }

    #[test]
    fn guests_count_as_first_orders_and_shopify_levels_map_to_points() {
        let o = order(serde_json::json!({"id": 1, "total_price": "500.00", "currency": "EUR"}));
        let s = order_signals(&o, None, now(), &rules());
        assert_eq!(
            s[0].detail,
            "500.00 EUR on a guest checkout (threshold 500.00)."
        );
        assert_eq!(
            shopify_risk_signal("medium", Some("Acme Risk"), &rules())
                .unwrap()
                .points,
            30
        );
        assert_eq!(
            shopify_risk_signal("medium", Some("Acme Risk"), &rules())
                .unwrap()
                .detail,
            "Shopify (Acme Risk) assesses the order's risk as medium."
        );
        assert_eq!(shopify_risk_signal("low", None, &rules()), None);
        assert_eq!(shopify_risk_signal("none", None, &rules()), None);
    }
}
