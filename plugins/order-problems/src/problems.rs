//! The problems this plugin looks for, as pure functions of a payload and
//! the settings: nothing here calls the host.

use shopcase_sdk::views::{Address, Order, Transaction};
use shopcase_sdk::{HoldReason, Priority};

/// One problem with an order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    /// A stable code, recorded in the key-value store and the `problems`
    /// case attribute.
    pub(crate) code: &'static str,
    /// What the case worker reads, one line.
    pub(crate) finding: String,
}

/// Every problem code, with its priority and the fulfilment hold it asks
/// for. Priorities of codes stored earlier are looked up here too.
const CODES: &[(&str, Priority, Option<HoldReason>, &str)] = &[
    (
        "payment-failed",
        Priority::High,
        Some(HoldReason::AwaitingPayment),
        "payment failed",
    ),
    (
        "authorization-voided",
        Priority::Medium,
        Some(HoldReason::AwaitingPayment),
        "authorisation voided",
    ),
    (
        "incomplete-shipping-address",
        Priority::High,
        Some(HoldReason::IncorrectAddress),
        "incomplete shipping address",
    ),
    (
        "duplicate-order",
        Priority::Medium,
        Some(HoldReason::Other),
        "possible duplicate order",
    ),
    (
        "address-country-mismatch",
        Priority::Medium,
        None,
        "billing and shipping countries differ",
    ),
    (
        "address-postal-code-mismatch",
        Priority::Low,
        None,
        "billing and shipping postal codes differ",
    ),
];

/// The priority of a problem code (`low` for codes this version does not
/// know, e.g. stored by a later version).
pub(crate) fn priority(code: &str) -> Priority {
    CODES
        .iter()
        .find(|c| c.0 == code)
        .map_or(Priority::Low, |c| c.1)
}

/// The fulfilment hold a problem asks for, if any.
pub(crate) fn hold_reason(code: &str) -> Option<HoldReason> {
    CODES.iter().find(|c| c.0 == code).and_then(|c| c.2)
}

/// A short label for titles, e.g. `payment failed`.
pub(crate) fn label(code: &str) -> &str {
    CODES.iter().find(|c| c.0 == code).map_or(code, |c| c.3)
}

/// Countries whose addresses have no postal code, so a missing one is not
/// an incomplete address.
const NO_POSTAL_CODE: &[&str] = &[
    "AE", "AG", "AO", "AW", "BF", "BI", "BJ", "BO", "BS", "BW", "BZ", "CD", "CF", "CG", "CI", "CK",
    "CM", "DJ", "DM", "ER", "FJ", "GA", "GD", "GH", "GM", "GQ", "GY", "HK", "JM", "KI", "KM", "KN",
    "KP", "LC", "ML", "MO", "MR", "MS", "MW", "NR", "NU", "QA", "RW", "SB", "SC", "SL", "SO", "SR",
    "ST", "SY", "TD", "TF", "TG", "TK", "TL", "TO", "TT", "TV", "TZ", "UG", "VU", "YE", "ZW",
];

fn present(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// Postal codes compare without spaces and case (`10119` = `10 119`,
/// `sw1a 1aa` = `SW1A1AA`).
fn postal(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

fn country(a: &Address) -> Option<String> {
    present(a.country_code.as_deref()).map(str::to_ascii_uppercase)
}

/// Address problems of an order, for the enabled `checks`
/// (`country-mismatch`, `postal-code-mismatch`,
/// `incomplete-shipping-address`).
pub(crate) fn address_problems(order: &Order, checks: &[String]) -> Vec<Problem> {
    let enabled = |c: &str| checks.iter().any(|x| x.eq_ignore_ascii_case(c));
    let mut out = Vec::new();
    let ships = order.line_items.iter().any(|l| l.requires_shipping);

    if ships && enabled("incomplete-shipping-address") {
        let missing = match &order.shipping_address {
            None => vec!["the whole address"],
            Some(a) => {
                let mut m = Vec::new();
                if present(a.address1.as_deref()).is_none() {
                    m.push("street");
                }
                if present(a.city.as_deref()).is_none() {
                    m.push("city");
                }
                match country(a) {
                    None => m.push("country"),
                    Some(c) => {
                        if present(a.zip.as_deref()).is_none()
                            && !NO_POSTAL_CODE.contains(&c.as_str())
                        {
                            m.push("postal code");
                        }
                    }
                }
                m
            }
        };
        if !missing.is_empty() {
            out.push(Problem {
                code: "incomplete-shipping-address",
                finding: format!(
                    "Incomplete shipping address: {} missing; the order cannot ship as it is.",
                    missing.join(", ")
                ),
            });
        }
    }

    if let (Some(bill), Some(ship)) = (&order.billing_address, &order.shipping_address) {
        match (country(bill), country(ship)) {
            (Some(b), Some(s)) if b != s && enabled("country-mismatch") => {
                out.push(Problem {
                    code: "address-country-mismatch",
                    finding: format!("Billing country {b} differs from shipping country {s}."),
                });
            }
            (Some(b), Some(s)) if b != s => {}
            (Some(_), Some(s)) => {
                if let (Some(bz), Some(sz)) =
                    (present(bill.zip.as_deref()), present(ship.zip.as_deref()))
                    && postal(bz) != postal(sz)
                    && enabled("postal-code-mismatch")
                {
                    out.push(Problem {
                        code: "address-postal-code-mismatch",
                        finding: format!(
                            "Billing postal code {bz} differs from shipping postal code {sz} (both in {s})."
                        ),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// A voided authorisation on an order that is not cancelled: it will not be
/// paid.
pub(crate) fn voided_problem(order: &Order) -> Option<Problem> {
    (order.financial_status.as_deref() == Some("voided") && !order.is_cancelled()).then(|| {
        Problem {
            code: "authorization-voided",
            finding: format!(
                "The payment authorisation of {} {} was voided but the order is not cancelled: it will not be paid.",
                order.total_price, order.currency
            ),
        }
    })
}

/// Whether a transaction is a failed attempt to take money (an
/// authorisation, sale or capture that failed or errored, not a test).
pub(crate) fn is_payment_failure(t: &Transaction) -> bool {
    !t.test && t.is_failure() && matches!(t.kind.as_str(), "authorization" | "sale" | "capture")
}

/// The finding for a failed payment transaction.
pub(crate) fn payment_problem(t: &Transaction, failures: i64) -> Problem {
    let why = match (t.error_code.as_deref(), t.message.as_deref()) {
        (Some(code), Some(msg)) => format!(" ({code}: {msg})"),
        (Some(code), None) => format!(" ({code})"),
        (None, Some(msg)) => format!(" ({msg})"),
        (None, None) => String::new(),
    };
    let times = if failures > 1 {
        format!(" This is failure number {failures} on this order.")
    } else {
        String::new()
    };
    Problem {
        code: "payment-failed",
        finding: format!(
            "Payment {} of {} {} via {} {}{why}.{times}",
            t.kind, t.amount, t.currency, t.gateway, t.status
        ),
    }
}

/// What makes two orders the same basket: each line's variant (or SKU, or
/// title) and quantity, sorted. Empty when the order has no items.
pub(crate) fn basket(order: &Order) -> Vec<String> {
    let mut lines: Vec<String> = order
        .line_items
        .iter()
        .filter(|l| l.quantity > 0)
        .map(|l| {
            let what = match (l.variant_id, l.sku.as_deref()) {
                (Some(v), _) => format!("v{v}"),
                (None, Some(sku)) if !sku.is_empty() => format!("s{sku}"),
                _ => format!("t{}", l.title),
            };
            format!("{what}x{}", l.quantity)
        })
        .collect();
    lines.sort();
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(v: serde_json::Value) -> Order {
        serde_json::from_value(v).unwrap()
    }

    fn all() -> Vec<String> {
        [
            "country-mismatch",
            "postal-code-mismatch",
            "incomplete-shipping-address",
        ]
        .map(String::from)
        .to_vec()
    }

    fn codes(p: &[Problem]) -> Vec<&str> {
        p.iter().map(|p| p.code).collect()
    }

    #[test]
    fn matching_complete_addresses_are_fine() {
        let addr = serde_json::json!({"address1": "Torstraße 140", "city": "Berlin", "zip": "10119", "country_code": "DE"});
        let o = order(serde_json::json!({
            "line_items": [{"quantity": 1, "requires_shipping": true}],
            "billing_address": addr, "shipping_address": {"address1": "Torstraße 140", "city": "Berlin", "zip": "10 119", "country_code": "de"}
        }));
        assert!(address_problems(&o, &all()).is_empty());
    }

    #[test]
    fn mismatches_and_missing_parts_are_found() {
        let o = order(serde_json::json!({
            "line_items": [{"quantity": 1, "requires_shipping": true}],
            "billing_address": {"address1": "a", "city": "München", "zip": "80331", "country_code": "DE"},
            "shipping_address": {"address1": "b", "city": "Wien", "zip": "1010", "country_code": "AT"}
        }));
        let p = address_problems(&o, &all());
        assert_eq!(codes(&p), ["address-country-mismatch"]);
        assert_eq!(
            p[0].finding,
            "Billing country DE differs from shipping country AT."
        );

        let o = order(serde_json::json!({
            "line_items": [{"quantity": 1, "requires_shipping": true}],
            "billing_address": {"address1": "a", "city": "Berlin", "zip": "10119", "country_code": "DE"},
            "shipping_address": {"address1": " ", "city": "Berlin", "zip": "10115", "country_code": "DE"}
        }));
        let p = address_problems(&o, &all());
        assert_eq!(
            codes(&p),
            [
                "incomplete-shipping-address",
                "address-postal-code-mismatch"
            ]
        );
        assert!(p[0].finding.contains("street missing"), "{}", p[0].finding);
        assert_eq!(
            codes(&address_problems(
                &o,
                &["incomplete-shipping-address".into()]
            )),
            ["incomplete-shipping-address"]
        );
    }

    #[test]
    fn postal_codes_only_where_countries_use_them() {
        let o = order(serde_json::json!({
            "line_items": [{"quantity": 1, "requires_shipping": true}],
            "shipping_address": {"address1": "1 Queen's Rd", "city": "Hong Kong", "country_code": "HK"}
        }));
        assert!(address_problems(&o, &all()).is_empty());
        let o = order(serde_json::json!({
            "line_items": [{"quantity": 1, "requires_shipping": true}],
            "shipping_address": {"address1": "x", "city": "Köln", "country_code": "DE"}
        }));
        assert!(
            address_problems(&o, &all())[0]
                .finding
                .contains("postal code")
        );
        // Nothing to ship (a gift card): no address needed.
        let o =
            order(serde_json::json!({"line_items": [{"quantity": 1, "requires_shipping": false}]}));
        assert!(address_problems(&o, &all()).is_empty());
        let o =
            order(serde_json::json!({"line_items": [{"quantity": 1, "requires_shipping": true}]}));
        assert!(
            address_problems(&o, &all())[0]
                .finding
                .contains("the whole address")
        );
    }

    #[test]
    fn transactions_and_voids() {
        let t: Transaction = serde_json::from_value(serde_json::json!({
            "kind": "capture", "status": "failure", "amount": "10.00", "currency": "EUR",
            "gateway": "shopify_payments", "error_code": "card_declined", "message": "Declined."
        }))
        .unwrap();
        assert!(is_payment_failure(&t));
        assert_eq!(
            payment_problem(&t, 2).finding,
            "Payment capture of 10.00 EUR via shopify_payments failure (card_declined: Declined.). This is failure number 2 on this order."
        );
        for (kind, status, test) in [
            ("capture", "success", false),
            ("refund", "failure", false),
            ("sale", "error", true),
        ] {
            let t: Transaction = serde_json::from_value(
                serde_json::json!({"kind": kind, "status": status, "test": test}),
            )
            .unwrap();
            assert!(!is_payment_failure(&t), "{kind} {status} {test}");
        }
        let o = order(
            serde_json::json!({"financial_status": "voided", "total_price": "5.00", "currency": "EUR"}),
        );
        assert_eq!(voided_problem(&o).unwrap().code, "authorization-voided");
        let o = order(
            serde_json::json!({"financial_status": "voided", "cancelled_at": "2026-01-01T00:00:00Z"}),
        );
        assert_eq!(voided_problem(&o), None);
    }

    #[test]
    fn baskets_ignore_order_and_use_the_best_identity() {
        let a = order(serde_json::json!({"line_items": [
            {"variant_id": 2, "quantity": 1}, {"sku": "X", "quantity": 2}, {"title": "Gift", "quantity": 0}]}));
        let b = order(serde_json::json!({"line_items": [
            {"sku": "X", "quantity": 2}, {"variant_id": 2, "quantity": 1}]}));
        assert_eq!(basket(&a), basket(&b));
        assert_eq!(basket(&a), ["sXx2", "v2x1"]);
        assert_eq!(priority("payment-failed"), Priority::High);
        assert_eq!(priority("from-the-future"), Priority::Low);
        assert_eq!(hold_reason("address-country-mismatch"), None);
        assert_eq!(label("duplicate-order"), "possible duplicate order");
    }
}
