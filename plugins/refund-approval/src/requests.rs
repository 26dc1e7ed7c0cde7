//! Request tags (`refund:45.00`, `credit:20`, `replace:EMP-STEEL*2`) and
//! what they ask for, as pure functions of the tag and the order.

use serde::{Deserialize, Serialize};
use shopcase_sdk::money;
use shopcase_sdk::views::Order;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Kind {
    Refund,
    StoreCredit,
    Replacement,
}

impl Kind {
    /// The Shopify operation that carries it out (as in approvals).
    pub(crate) fn operation(self) -> &'static str {
        match self {
            Kind::Refund => "refund",
            Kind::StoreCredit => "store-credit",
            Kind::Replacement => "tags-add",
        }
    }

    /// For people: `Refund`, `Goodwill credit`, `Replacement`.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Refund => "Refund",
            Kind::StoreCredit => "Goodwill credit",
            Kind::Replacement => "Replacement",
        }
    }
}

/// The tag prefixes, from the settings.
#[derive(Debug, Clone)]
pub(crate) struct Prefixes {
    pub(crate) refund: String,
    pub(crate) credit: String,
    pub(crate) replacement: String,
}

/// A request read from a tag.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Parsed {
    pub(crate) kind: Kind,
    /// The amount (refund, credit) or the items' value (replacement).
    pub(crate) cents: i64,
    /// For people, e.g. `Refund of 45.00 EUR` or `Replacement of 1 × Milk
    /// Jug (JUG-600), worth 24.50 EUR`.
    pub(crate) what: String,
}

/// What a tag is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reading {
    /// Not a request tag.
    Other,
    /// A request tag that cannot be carried out, and why.
    Invalid(String),
    /// A request.
    Request(Parsed),
}

fn strip_prefix<'a>(tag: &'a str, prefix: &str) -> Option<&'a str> {
    let head = tag.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| tag[prefix.len()..].trim())
}

/// Read one order tag.
pub(crate) fn read(tag: &str, p: &Prefixes, order: &Order) -> Reading {
    let tag = tag.trim();
    // The first word is the request; anything after it (e.g. `#2`) only
    // makes the tag distinct.
    let first = |rest: &str| rest.split_whitespace().next().unwrap_or("").to_owned();
    if let Some(rest) = strip_prefix(tag, &p.refund).filter(|_| !p.refund.is_empty()) {
        return amount(Kind::Refund, &first(rest), tag, order);
    }
    if let Some(rest) = strip_prefix(tag, &p.credit).filter(|_| !p.credit.is_empty()) {
        return amount(Kind::StoreCredit, &first(rest), tag, order);
    }
    if let Some(rest) = strip_prefix(tag, &p.replacement).filter(|_| !p.replacement.is_empty()) {
        return replacement(&first(rest), tag, order);
    }
    Reading::Other
}

fn amount(kind: Kind, text: &str, tag: &str, order: &Order) -> Reading {
    match money::parse_cents(text) {
        Some(c) if c > 0 => Reading::Request(Parsed {
            kind,
            cents: c,
            what: format!(
                "{} of {} {}",
                kind.label(),
                money::format_cents(c),
                order.currency
            ),
        }),
        _ => Reading::Invalid(format!(
            "Request tag `{tag}` is not understood: the amount must be like 25.00 (more than zero, at most two decimals)."
        )),
    }
}

fn replacement(text: &str, tag: &str, order: &Order) -> Reading {
    let (sku, qty) = match text.split_once('*') {
        Some((s, q)) => match q.parse::<u64>() {
            Ok(q) if q > 0 => (s, Some(q)),
            _ => {
                return Reading::Invalid(format!(
                    "Request tag `{tag}`: the quantity after `*` must be a whole number above zero."
                ));
            }
        },
        None => (text, None),
    };
    let lines: Vec<_> = order
        .line_items
        .iter()
        .filter(|l| {
            sku.eq_ignore_ascii_case("all")
                || l.sku
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(sku))
        })
        .collect();
    if sku.is_empty() || lines.is_empty() {
        return Reading::Invalid(format!(
            "Request tag `{tag}`: no line item of the order has the SKU `{sku}` (use replace:<SKU>, replace:<SKU>*<quantity> or replace:all)."
        ));
    }
    let mut parts = Vec::new();
    let mut cents: i64 = 0;
    for l in lines {
        let n = qty.unwrap_or(l.quantity);
        if n > l.quantity {
            return Reading::Invalid(format!(
                "Request tag `{tag}`: the order has only {} × {}.",
                l.quantity,
                l.sku.as_deref().unwrap_or(&l.name)
            ));
        }
        let value = l
            .price_cents()
            .and_then(|p| p.checked_mul(i64::try_from(n).ok()?));
        let Some(value) = value else {
            return Reading::Invalid(format!(
                "Request tag `{tag}`: the price of {} is unreadable.",
                l.name
            ));
        };
        cents = cents.saturating_add(value);
        parts.push(format!(
            "{n} × {} ({})",
            l.name,
            l.sku.as_deref().unwrap_or("no SKU")
        ));
    }
    Reading::Request(Parsed {
        kind: Kind::Replacement,
        cents,
        what: format!(
            "Replacement of {}, worth {} {}",
            parts.join(", "),
            money::format_cents(cents),
            order.currency
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefixes() -> Prefixes {
        Prefixes {
            refund: "refund:".into(),
            credit: "credit:".into(),
            replacement: "replace:".into(),
        }
    }

    fn order() -> Order {
        serde_json::from_value(serde_json::json!({
            "currency": "EUR",
            "line_items": [
                {"name": "Milk Jug 600ml - Brushed", "sku": "JUG-600", "quantity": 2, "price": "24.50"},
                {"name": "Descaler - 3-pack", "sku": "DESC-3", "quantity": 1, "price": "14.90"}
            ]
        }))
        .unwrap()
    }

    fn request(tag: &str) -> Parsed {
        match read(tag, &prefixes(), &order()) {
            Reading::Request(p) => p,
            other => panic!("{tag}: {other:?}"),
        }
    }

    fn invalid(tag: &str) -> String {
        match read(tag, &prefixes(), &order()) {
            Reading::Invalid(why) => why,
            other => panic!("{tag}: {other:?}"),
        }
    }

    #[test]
    fn amounts() {
        let p = request("refund:45");
        assert_eq!(
            (p.kind, p.cents, p.what.as_str()),
            (Kind::Refund, 4500, "Refund of 45.00 EUR")
        );
        let p = request("Credit:20.5 #2");
        assert_eq!((p.kind, p.cents), (Kind::StoreCredit, 2050));
        assert_eq!(p.what, "Goodwill credit of 20.50 EUR");
        for bad in [
            "refund:",
            "refund:0",
            "refund:-5",
            "refund:1.234",
            "refund:ten",
        ] {
            assert!(invalid(bad).contains("is not understood"), "{bad}");
        }
        assert_eq!(read("vip", &prefixes(), &order()), Reading::Other);
        assert_eq!(read("refunded", &prefixes(), &order()), Reading::Other);
    }

    #[test]
    fn replacements() {
        let p = request("replace:jug-600*1");
        assert_eq!(p.cents, 2450);
        assert_eq!(
            p.what,
            "Replacement of 1 × Milk Jug 600ml - Brushed (JUG-600), worth 24.50 EUR"
        );
        assert_eq!(
            request("replace:JUG-600").cents,
            4900,
            "the whole line by default"
        );
        assert_eq!(request("replace:all").cents, 6390);
        assert!(invalid("replace:JUG-600*3").contains("only 2 × JUG-600"));
        assert!(invalid("replace:NOPE").contains("no line item of the order has the SKU `NOPE`"));
        assert!(invalid("replace:JUG-600*x").contains("whole number"));
    }
}
