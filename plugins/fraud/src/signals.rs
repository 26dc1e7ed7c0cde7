//! Risk signals and the score, as pure functions of the order, the
//! customer's history, Shopify's assessment and the settings.
//!
//! Every signal has a stable code, its points and a reason a merchant can
//! read. Some are graded: the further past the setting, the more points
//! (a first order at three times the first-order value counts twice as
//! much as one at the value). Signals from three independent areas (who
//! orders, what, where to) add a combination bonus: each is common alone,
//! together they are the classic fraud pattern.

use serde::{Deserialize, Serialize};
use shopcase_sdk::views::{Address, Order};
use shopcase_sdk::{CustomerSummary, RiskLevel, RiskRecommendation, RiskSummary, Timestamp, money};

use crate::ip::{self, IpRange};

/// One signal found, with the points it adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Signal {
    /// Stable code, e.g. `ip-country-mismatch`.
    pub(crate) code: String,
    pub(crate) points: i64,
    /// Why it scored, for the merchant and the case worker.
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
    pub(crate) new_account: i64,
    pub(crate) unverified_email: i64,
    pub(crate) above_average: i64,
    pub(crate) concentration: i64,
    pub(crate) mail_drop: i64,
    pub(crate) combination: i64,
    pub(crate) first_order_value_cents: i64,
    pub(crate) velocity_orders: i64,
    pub(crate) velocity_hours: i64,
    pub(crate) new_account_days: i64,
    pub(crate) average_multiple: i64,
    pub(crate) concentration_quantity: i64,
    pub(crate) concentration_value_cents: i64,
    pub(crate) forwarder_keywords: Vec<String>,
    pub(crate) forwarder_postal_codes: Vec<String>,
    pub(crate) mail_drop_keywords: Vec<String>,
    pub(crate) ip_ranges: Vec<IpRange>,
}

/// What the order itself says beyond the typed view: whether the
/// customer's email address is verified (`None` when the payload does not
/// say, which scores nothing).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Extra {
    pub(crate) verified_email: Option<bool>,
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

fn province(a: &Address) -> Option<String> {
    field(a.province_code.as_deref())
        .or_else(|| field(a.province.as_deref()))
        .map(str::to_uppercase)
}

fn postal(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

/// `base` points at `ratio` 1, rising linearly to `2 × base` at `ratio` 3
/// (ratios in hundredths; beyond 3 stays at `2 × base`).
fn graded(base: i64, ratio_pct: i64, full_at_pct: i64) -> i64 {
    let r = ratio_pct.clamp(100, full_at_pct);
    let span = (full_at_pct - 100).max(1);
    base + base * (r - 100) / span
}

/// `12345` hundredths → `123.5` (one decimal, rounded down).
fn times(ratio_pct: i64) -> String {
    format!("{}.{}", ratio_pct / 100, (ratio_pct % 100) / 10)
}

/// A duration for people: minutes, hours or days.
fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        s if s < 3600 => format!("{} minutes", s / 60),
        s if s < 48 * 3600 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// The signals of a new order. `history` is the customer's (none for a
/// guest checkout, which counts as a first order); `now` is the event's
/// time.
pub(crate) fn order_signals(
    order: &Order,
    history: Option<&CustomerSummary>,
    extra: Extra,
    now: Timestamp,
    r: &Rules,
) -> Vec<Signal> {
    let mut out = Vec::new();
    let ship = order.shipping_address.as_ref();
    let total = money::parse_cents(&order.total_price);

    // Account age, measured at the event.
    if let Some(h) = history
        && let Ok(created) = Timestamp::parse(&h.created_at)
    {
        let secs = created.seconds_until(now);
        let (points, what) = if secs < 86_400 {
            (r.new_account, "a brand-new account".to_owned())
        } else if secs < r.new_account_days.saturating_mul(86_400) {
            (
                r.new_account / 2,
                format!("newer than {} days, half points", r.new_account_days),
            )
        } else {
            (0, String::new())
        };
        out.extend(signal(
            "new-account",
            points,
            format!(
                "The customer account was created {} before this order: {what}.",
                age(secs)
            ),
        ));
    }

    // Unverified email address.
    if extra.verified_email == Some(false) && order.customer.is_some() {
        out.extend(signal(
            "unverified-email",
            r.unverified_email,
            "The customer's email address is not verified.".to_owned(),
        ));
    }

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

    // High value on a first order, graded by how far past the value.
    let first = match history {
        None => true,
        Some(h) => h.number_of_orders <= 1 && h.recent_orders.iter().all(|o| o.id == order.id),
    };
    if first
        && let Some(total) = total
        && total >= r.first_order_value_cents
    {
        let who = if history.is_some() {
            "the customer's first order"
        } else {
            "a guest checkout"
        };
        let ratio = if r.first_order_value_cents > 0 {
            total.saturating_mul(100) / r.first_order_value_cents
        } else {
            100
        };
        out.extend(signal(
            "first-order-high-value",
            graded(r.first_order_high_value, ratio, 300),
            format!(
                "{} {} on {who}: {} × the first-order value {} (graded: full points at 1 ×, double from 3 ×).",
                order.total_price,
                order.currency,
                times(ratio),
                money::format_cents(r.first_order_value_cents)
            ),
        ));
    }

    // A returning customer's order far above their usual.
    if !first
        && let (Some(h), Some(total)) = (history, total)
        && total >= r.first_order_value_cents
    {
        let earlier: Vec<i64> = h
            .recent_orders
            .iter()
            .filter(|o| o.id != order.id && !o.cancelled && o.currency == order.currency)
            .filter_map(|o| money::parse_cents(&o.total_price))
            .filter(|c| *c > 0)
            .collect();
        let n = i64::try_from(earlier.len()).unwrap_or(i64::MAX);
        if n > 0 && r.average_multiple > 0 {
            let average = earlier.iter().sum::<i64>() / n;
            let ratio = total.saturating_mul(100) / average.max(1);
            if ratio >= r.average_multiple * 100 {
                out.extend(signal(
                    "above-customer-average",
                    graded(
                        r.above_average,
                        ratio.saturating_mul(100) / r.average_multiple.saturating_mul(100).max(1),
                        200,
                    ),
                    format!(
                        "{} {} is {} × this customer's average order of {} over {n} earlier orders (graded: full points at {} ×, double from {} ×).",
                        order.total_price,
                        order.currency,
                        times(ratio),
                        money::format_cents(average),
                        r.average_multiple,
                        r.average_multiple * 2
                    ),
                ));
            }
        }
    }

    // Many units of one high-value line.
    if r.concentration_quantity > 0
        && let Some((item, qty, value)) = order
            .line_items
            .iter()
            .filter_map(|i| {
                let qty = i64::try_from(i.current_quantity.unwrap_or(i.quantity)).ok()?;
                let value = money::parse_cents(&i.price)?.checked_mul(qty)?;
                Some((i, qty, value))
            })
            .filter(|(_, qty, value)| {
                *qty >= r.concentration_quantity && *value >= r.concentration_value_cents
            })
            .max_by_key(|(_, _, value)| *value)
    {
        let ratio = qty.saturating_mul(100) / r.concentration_quantity;
        let title = if item.title.trim().is_empty() {
            &item.name
        } else {
            &item.title
        };
        out.extend(signal(
            "quantity-concentration",
            graded(r.concentration, ratio, 200),
            format!(
                "{qty} × {title} at {} each ({} {} in one line): many units of one high-value item (graded: full points from {} units, double from {}).",
                item.price,
                money::format_cents(value),
                order.currency,
                r.concentration_quantity,
                r.concentration_quantity * 2
            ),
        ));
    }

    // Billing vs shipping: another country, another state, another postal code.
    if let (Some(bill), Some(ship)) = (&order.billing_address, ship) {
        match (country(bill), country(ship)) {
            (Some(b), Some(s)) if b != s => out.extend(signal(
                "billing-shipping-mismatch",
                r.billing_shipping,
                format!("Billed in {b}, shipped to {s}."),
            )),
            (Some(_), Some(s)) => match (province(bill), province(ship)) {
                (Some(bp), Some(sp)) if bp != sp => out.extend(signal(
                    "billing-shipping-mismatch",
                    r.billing_shipping * 3 / 4,
                    format!("Billed in {bp}, shipped to {sp} (both in {s})."),
                )),
                _ => {
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
            },
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

    // Freight forwarder, mail drop.
    if let Some(ship) = ship {
        if let Some(why) = forwarder(ship, r) {
            out.extend(signal("freight-forwarder", r.forwarder, why));
        }
        if let Some(why) = mail_drop(ship, r) {
            out.extend(signal("mail-drop", r.mail_drop, why));
        }
    }

    // Who, what and where together.
    let areas: Vec<&str> = AREAS
        .iter()
        .filter(|(_, codes)| out.iter().any(|s| codes.contains(&s.code.as_str())))
        .map(|(area, _)| *area)
        .collect();
    if areas.len() >= AREAS.len() {
        out.extend(signal(
            "combination",
            r.combination,
            format!(
                "Signals in every area at once ({}): each is common alone, together they are the typical fraud pattern.",
                areas.join(", ")
            ),
        ));
    }
    out
}

/// The areas of the combination bonus and the signals in each.
const AREAS: &[(&str, &[&str])] = &[
    (
        "account",
        &["new-account", "unverified-email", "order-velocity"],
    ),
    (
        "order value",
        &[
            "first-order-high-value",
            "above-customer-average",
            "quantity-concentration",
        ],
    ),
    (
        "destination",
        &[
            "billing-shipping-mismatch",
            "ip-country-mismatch",
            "freight-forwarder",
            "mail-drop",
        ],
    ),
];

fn street_lines(a: &Address) -> Vec<&str> {
    [
        a.address1.as_deref(),
        a.address2.as_deref(),
        a.company.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|l| !l.trim().is_empty())
    .collect()
}

/// Why the shipping address looks like a freight forwarder, if it does.
fn forwarder(a: &Address, r: &Rules) -> Option<String> {
    let lines = street_lines(a);
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

/// Lowercase words separated by single spaces, padded with a space on each
/// side, dots dropped: `"P.O. Box 12"` → `" po box 12 "`.
fn words(s: &str) -> String {
    let mut out = String::from(" ");
    for w in s
        .split(|c: char| !c.is_alphanumeric() && c != '.')
        .map(|w| w.replace('.', ""))
        .filter(|w| !w.is_empty())
    {
        out.push_str(&w.to_lowercase());
        out.push(' ');
    }
    out
}

/// Why the shipping address looks like a mail drop (post office box,
/// parcel locker, mailbox service), if it does. Keywords match whole
/// words, ignoring case and punctuation (`po box` matches `P.O. Box`).
fn mail_drop(a: &Address, r: &Rules) -> Option<String> {
    let lines = street_lines(a);
    let text = words(&lines.join(" "));
    let k = r.mail_drop_keywords.iter().find(|k| {
        let k = words(k);
        k.trim() != "" && text.contains(&k)
    })?;
    Some(format!(
        "The shipping address ({}) contains `{}`: a mail drop (post office box, parcel locker or mailbox service), where nobody signs for the parcel.",
        lines.join(", "),
        k.trim()
    ))
}

fn level_name(l: RiskLevel) -> &'static str {
    match l {
        RiskLevel::High => "high",
        RiskLevel::Medium => "medium",
        RiskLevel::Low => "low",
        RiskLevel::None => "none",
        RiskLevel::Pending => "pending",
    }
}

fn level_rank(l: RiskLevel) -> u8 {
    match l {
        RiskLevel::High => 4,
        RiskLevel::Medium => 3,
        RiskLevel::Low => 2,
        RiskLevel::None => 1,
        RiskLevel::Pending => 0,
    }
}

/// Shopify's risk assessment as fetched at `orders/create`: the highest
/// level of all assessments (Shopify's and apps'), by whom, the
/// recommendation, and the negative facts behind it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ShopifyRisk {
    /// `high`, `medium`, `low`, `none`, `pending`; `None` when nothing was
    /// assessed yet.
    pub(crate) level: Option<String>,
    pub(crate) provider: Option<String>,
    /// `accept`, `cancel`, `investigate`, `none`.
    pub(crate) recommendation: String,
    pub(crate) facts: Vec<String>,
}

impl ShopifyRisk {
    pub(crate) fn from_summary(s: &RiskSummary) -> ShopifyRisk {
        let top = s.assessments.iter().max_by_key(|a| level_rank(a.level));
        ShopifyRisk {
            level: top.map(|a| level_name(a.level).to_owned()),
            provider: top.and_then(|a| a.provider.clone()),
            recommendation: match s.recommendation {
                RiskRecommendation::Accept => "accept",
                RiskRecommendation::Cancel => "cancel",
                RiskRecommendation::Investigate => "investigate",
                RiskRecommendation::None => "none",
            }
            .to_owned(),
            facts: top
                .map(|a| {
                    a.facts
                        .iter()
                        .filter(|f| f.sentiment == shopcase_sdk::RiskSentiment::Negative)
                        .map(|f| f.description.trim().to_owned())
                        .filter(|d| !d.is_empty())
                        .take(3)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// The signal it adds (high and medium levels).
    pub(crate) fn signal(&self, r: &Rules) -> Option<Signal> {
        let mut s = shopify_risk_signal(self.level.as_deref()?, self.provider.as_deref(), r)?;
        if self.recommendation != "none" {
            s.detail = format!(
                "{}. Recommendation: {}.",
                s.detail.trim_end_matches('.'),
                self.recommendation
            );
        }
        if !self.facts.is_empty() {
            s.detail
                .push_str(&format!(" Findings: {}.", self.facts.join("; ")));
        }
        Some(s)
    }
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
            new_account: 15,
            unverified_email: 10,
            above_average: 20,
            concentration: 15,
            mail_drop: 20,
            combination: 10,
            first_order_value_cents: 50_000,
            velocity_orders: 3,
            velocity_hours: 24,
            new_account_days: 7,
            average_multiple: 5,
            concentration_quantity: 5,
            concentration_value_cents: 50_000,
            forwarder_keywords: vec!["forwarding".into()],
            forwarder_postal_codes: vec!["US:19720".into(), "97230".into()],
            mail_drop_keywords: crate::MAIL_DROP_KEYWORDS
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
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
        assert!(order_signals(&o, Some(&h), Extra::default(), now(), &rules()).is_empty());
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
        let s = order_signals(&o, Some(&h), Extra::default(), now(), &rules());
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
            "1890.00 EUR on the customer's first order: 3.7 × the first-order value 500.00 (graded: full points at 1 ×, double from 3 ×)."
        );
        let points: Vec<i64> = s.iter().map(|s| s.points).collect();
        assert_eq!(points, [25, 50, 20, 25], "3.7 × the value: double points");
        assert_eq!(score(&s), 100, "120 capped");
        assert_eq!(score(&s[..1]), 25);
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
        let s = order_signals(
            &o,
            Some(&history(4, recent.clone())),
            Extra::default(),
            now(),
            &rules(),
        );
        assert_eq!(codes(&s), ["order-velocity"]);
        assert_eq!(s[0].detail, "3 orders by this customer within 24 hours.");
        let mut r = rules();
        r.velocity_orders = 4;
        assert!(
            order_signals(&o, Some(&history(4, recent)), Extra::default(), now(), &r).is_empty()
        );
    }

    #[test]
    fn postal_code_only_mismatch_counts_half_and_zero_points_disable_a_signal() {
        let o = order(serde_json::json!({
            "id": 1, "total_price": "10.00",
            "billing_address": {"zip": "10119", "country_code": "DE"},
            "shipping_address": {"address1": "x", "zip": "97230", "country_code": "DE"}
        }));
        let h = history(5, vec![]);
        let s = order_signals(&o, Some(&h), Extra::default(), now(), &rules());
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
        assert!(order_signals(&o, Some(&h), Extra::default(), now(), &r).is_empty());
    }

    #[test]
    fn guests_count_as_first_orders_and_shopify_levels_map_to_points() {
        let o = order(serde_json::json!({"id": 1, "total_price": "500.00", "currency": "EUR"}));
        let s = order_signals(&o, None, Extra::default(), now(), &rules());
        assert_eq!(
            s[0].detail,
            "500.00 EUR on a guest checkout: 1.0 × the first-order value 500.00 (graded: full points at 1 ×, double from 3 ×)."
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

    fn customer(orders: u64, created: &str, recent: Vec<OrderSummary>) -> CustomerSummary {
        CustomerSummary {
            created_at: created.into(),
            ..history(orders, recent)
        }
    }

    fn unverified() -> Extra {
        Extra {
            verified_email: Some(false),
        }
    }

    /// The issue's example: a brand-new account with an unverified email
    /// placing a first order several times the threshold, shipped to a
    /// different state than billed. Each signal alone is common; together
    /// they score above the default threshold of 60.
    #[test]
    fn the_issues_example_scores_above_the_default_threshold() {
        let o = order(serde_json::json!({
            "id": 9, "total_price": "1500.00", "currency": "USD",
            "customer": {"id": 7, "verified_email": false},
            "billing_address": {"zip": "10001", "province_code": "NY", "country_code": "US"},
            "shipping_address": {"address1": "500 Main St", "zip": "94105", "province_code": "CA", "country_code": "US"}
        }));
        let h = customer(
            1,
            "2026-11-26T11:40:00Z",
            vec![past(9, "2026-11-26T11:59:00Z")],
        );
        let s = order_signals(&o, Some(&h), unverified(), now(), &rules());
        assert_eq!(
            codes(&s),
            [
                "new-account",
                "unverified-email",
                "first-order-high-value",
                "billing-shipping-mismatch",
                "combination"
            ]
        );
        let points: Vec<i64> = s.iter().map(|s| s.points).collect();
        assert_eq!(points, [15, 10, 50, 15, 10]);
        assert_eq!(score(&s), 100);
        assert!(score(&s) >= 60, "above the default threshold");
        assert_eq!(
            s[0].detail,
            "The customer account was created 20 minutes before this order: a brand-new account."
        );
        assert_eq!(s[3].detail, "Billed in NY, shipped to CA (both in US).");
        assert!(s[4].detail.contains("account, order value, destination"));

        // "Several times" at its lowest, twice the value: still above.
        let o2 = order(serde_json::json!({
            "id": 9, "total_price": "1000.00", "currency": "USD",
            "customer": {"id": 7, "verified_email": false},
            "billing_address": {"province_code": "NY", "country_code": "US"},
            "shipping_address": {"address1": "500 Main St", "province_code": "CA", "country_code": "US"}
        }));
        let s2 = order_signals(&o2, Some(&h), unverified(), now(), &rules());
        assert_eq!(s2[2].points, 37, "graded: 25 at 1 ×, 50 at 3 ×");
        assert_eq!(score(&s2), 87);
        // The old flat model: 25 + 10 (postal code) and nothing for the
        // account: 35, silently below.
    }

    #[test]
    fn an_ordinary_returning_customers_normal_order_stays_below() {
        let o = order(serde_json::json!({
            "id": 30, "total_price": "129.90", "currency": "EUR",
            "customer": {"id": 7, "verified_email": true},
            "line_items": [{"id": 1, "title": "Beans 1kg", "quantity": 3, "price": "39.90"}],
            "billing_address": {"zip": "10119", "province_code": "BE", "country_code": "DE"},
            "shipping_address": {"address1": "Torstraße 140", "zip": "10119", "province_code": "BE", "country_code": "DE"}
        }));
        let h = customer(
            8,
            "2024-03-01T10:00:00Z",
            vec![
                past(30, "2026-11-26T11:58:00Z"),
                past(29, "2026-10-01T00:00:00Z"),
            ],
        );
        let s = order_signals(
            &o,
            Some(&h),
            Extra {
                verified_email: Some(true),
            },
            now(),
            &rules(),
        );
        assert!(s.is_empty(), "{s:?}");
        assert_eq!(score(&s), 0);
    }

    #[test]
    fn account_age_is_graded_and_measured_at_the_event() {
        let o = order(serde_json::json!({"id": 1, "total_price": "10.00"}));
        let at = |created: &str| {
            let h = customer(3, created, vec![]);
            order_signals(&o, Some(&h), Extra::default(), now(), &rules())
        };
        let fresh = at("2026-11-26T02:00:00Z");
        assert_eq!(
            (fresh[0].code.as_str(), fresh[0].points),
            ("new-account", 15)
        );
        assert_eq!(
            fresh[0].detail,
            "The customer account was created 10 hours before this order: a brand-new account."
        );
        let young = at("2026-11-23T12:00:00Z");
        assert_eq!(young[0].points, 7, "half under new-account-days");
        assert!(young[0].detail.contains("3 days"), "{}", young[0].detail);
        assert!(at("2026-11-19T11:00:00Z").is_empty(), "older than 7 days");
        assert!(at("not a date").is_empty(), "unknown age scores nothing");
        // A later event sees an older account: nothing depends on today.
        let h = customer(3, "2026-11-26T02:00:00Z", vec![]);
        let later = now().plus_hours(24 * 30);
        assert!(order_signals(&o, Some(&h), Extra::default(), later, &rules()).is_empty());
    }

    #[test]
    fn only_an_explicitly_unverified_email_scores() {
        let with = |customer: serde_json::Value, extra: Extra| {
            let o =
                order(serde_json::json!({"id": 1, "total_price": "10.00", "customer": customer}));
            codes(&order_signals(
                &o,
                Some(&history(4, vec![])),
                extra,
                now(),
                &rules(),
            ))
            .join(",")
        };
        assert_eq!(
            with(serde_json::json!({"id": 7}), unverified()),
            "unverified-email"
        );
        assert_eq!(
            with(
                serde_json::json!({"id": 7}),
                Extra {
                    verified_email: Some(true)
                }
            ),
            ""
        );
        assert_eq!(
            with(serde_json::json!({"id": 7}), Extra::default()),
            "",
            "unknown"
        );
        assert_eq!(
            with(serde_json::Value::Null, unverified()),
            "",
            "no customer"
        );
    }

    #[test]
    fn an_order_far_above_the_customers_average_is_graded() {
        let earlier = |totals: &[&str]| {
            totals
                .iter()
                .enumerate()
                .map(|(i, t)| OrderSummary {
                    total_price: (*t).into(),
                    ..past(100 + i as u64, "2026-09-01T00:00:00Z")
                })
                .collect::<Vec<_>>()
        };
        let run = |total: &str, recent: Vec<OrderSummary>| {
            let o = order(serde_json::json!({"id": 1, "total_price": total, "currency": "EUR"}));
            order_signals(
                &o,
                Some(&history(5, recent)),
                Extra::default(),
                now(),
                &rules(),
            )
        };
        // Average 100.00: 600.00 is 6 ×, at least 5 × and above 500.00.
        let s = run("600.00", earlier(&["50.00", "150.00"]));
        assert_eq!(codes(&s), ["above-customer-average"]);
        assert_eq!(s[0].points, 24, "20 at 5 ×, 40 at 10 ×");
        assert_eq!(
            s[0].detail,
            "600.00 EUR is 6.0 × this customer's average order of 100.00 over 2 earlier orders (graded: full points at 5 ×, double from 10 ×)."
        );
        assert_eq!(run("2000.00", earlier(&["100.00"]))[0].points, 40);
        assert!(
            run("450.00", earlier(&["50.00"])).is_empty(),
            "below 500.00"
        );
        assert!(run("600.00", earlier(&["200.00"])).is_empty(), "3 ×");
        // Cancelled orders and other currencies are not the customer's usual.
        let mut odd = earlier(&["10.00", "10.00"]);
        odd[0].cancelled = true;
        odd[1].currency = "USD".into();
        assert!(run("600.00", odd).is_empty());
    }

    #[test]
    fn many_units_of_one_high_value_line_are_concentrated() {
        let run = |qty: u64, price: &str| {
            let o = order(serde_json::json!({
                "id": 1, "total_price": "10.00", "currency": "EUR",
                "line_items": [
                    {"id": 1, "title": "Milk Jug", "quantity": 20, "price": "4.50"},
                    {"id": 2, "title": "Espresso Machine Pro", "quantity": qty, "price": price}
                ]
            }));
            order_signals(
                &o,
                Some(&history(5, vec![])),
                Extra::default(),
                now(),
                &rules(),
            )
        };
        let s = run(8, "1099.00");
        assert_eq!(codes(&s), ["quantity-concentration"]);
        assert_eq!(s[0].points, 24, "15 at 5 units, 30 at 10");
        assert_eq!(
            s[0].detail,
            "8 × Espresso Machine Pro at 1099.00 each (8792.00 EUR in one line): many units of one high-value item (graded: full points from 5 units, double from 10)."
        );
        assert_eq!(run(12, "1099.00")[0].points, 30);
        assert!(run(4, "1099.00").is_empty(), "too few units");
        assert!(run(8, "40.00").is_empty(), "not high value: 320.00");
    }

    #[test]
    fn mail_drops_match_whole_words_ignoring_punctuation() {
        let run = |line1: &str, line2: Option<&str>| {
            let o = order(serde_json::json!({
                "id": 1, "total_price": "10.00",
                "shipping_address": {"address1": line1, "address2": line2, "zip": "10115", "country_code": "DE"}
            }));
            order_signals(
                &o,
                Some(&history(5, vec![])),
                Extra::default(),
                now(),
                &rules(),
            )
        };
        for (line1, line2) in [
            ("P.O. Box 1234", None),
            ("PO BOX 77", None),
            ("P. O. Box 9", None),
            ("Packstation 105", Some("Postnummer 123456")),
            ("1200 Main St", Some("PMB #442")),
        ] {
            let s = run(line1, line2);
            assert_eq!(codes(&s), ["mail-drop"], "{line1}");
            assert_eq!(s[0].points, 20);
        }
        assert!(run("1200 Main St", Some("PMB #442"))[0].detail.starts_with(
            "The shipping address (1200 Main St, PMB #442) contains `pmb`: a mail drop"
        ));
        for line1 in ["Spoboxer Straße 4", "Pmbstraße 2", "Torstraße 140"] {
            assert!(run(line1, None).is_empty(), "{line1}");
        }
        let mut r = rules();
        r.mail_drop_keywords = vec![" ".into(), "postfach".into()];
        let o = order(serde_json::json!({
            "id": 1, "total_price": "10.00",
            "shipping_address": {"address1": "Postfach 10 02 03", "country_code": "DE"}
        }));
        assert_eq!(
            codes(&order_signals(&o, None, Extra::default(), now(), &r)),
            ["mail-drop"],
            "per-store list; blank entries match nothing"
        );
    }

    #[test]
    fn the_combination_bonus_needs_all_three_areas() {
        let h = customer(1, "2026-11-26T11:00:00Z", vec![]);
        // Account and destination, no value signal: no bonus.
        let o = order(serde_json::json!({
            "id": 1, "total_price": "20.00", "customer": {"id": 7},
            "billing_address": {"country_code": "GB"},
            "shipping_address": {"address1": "x", "country_code": "US"}
        }));
        let s = order_signals(&o, Some(&h), unverified(), now(), &rules());
        assert_eq!(
            codes(&s),
            [
                "new-account",
                "unverified-email",
                "billing-shipping-mismatch"
            ]
        );
        // Zero points disable it.
        let o = order(serde_json::json!({
            "id": 1, "total_price": "900.00", "customer": {"id": 7},
            "billing_address": {"country_code": "GB"},
            "shipping_address": {"address1": "x", "country_code": "US"}
        }));
        let mut r = rules();
        assert_eq!(
            codes(&order_signals(&o, Some(&h), unverified(), now(), &r)).last(),
            Some(&"combination")
        );
        r.combination = 0;
        assert!(
            !codes(&order_signals(&o, Some(&h), unverified(), now(), &r)).contains(&"combination")
        );
    }

    #[test]
    fn shopifys_fetched_assessment_takes_the_highest_level() {
        use shopcase_sdk::{RiskAssessment, RiskFact, RiskSentiment};
        let fact = |d: &str, sentiment| RiskFact {
            description: d.into(),
            sentiment,
        };
        let summary = RiskSummary {
            recommendation: RiskRecommendation::Investigate,
            assessments: vec![
                RiskAssessment {
                    level: RiskLevel::Low,
                    provider: None,
                    facts: vec![],
                },
                RiskAssessment {
                    level: RiskLevel::Medium,
                    provider: Some("Acme Risk".into()),
                    facts: vec![
                        fact(
                            "The billing address does not match the card's address",
                            RiskSentiment::Negative,
                        ),
                        fact(
                            "The order came from a known device",
                            RiskSentiment::Positive,
                        ),
                    ],
                },
            ],
        };
        let risk = ShopifyRisk::from_summary(&summary);
        assert_eq!(risk.level.as_deref(), Some("medium"));
        assert_eq!(risk.recommendation, "investigate");
        let sig = risk.signal(&rules()).unwrap();
        assert_eq!((sig.code.as_str(), sig.points), ("shopify-risk", 30));
        assert_eq!(
            sig.detail,
            "Shopify (Acme Risk) assesses the order's risk as medium. Recommendation: investigate. Findings: The billing address does not match the card's address."
        );
        let none = ShopifyRisk::from_summary(&RiskSummary {
            recommendation: RiskRecommendation::None,
            assessments: vec![],
        });
        assert_eq!(none.level, None);
        assert_eq!(none.signal(&rules()), None);
    }

    #[test]
    fn a_state_mismatch_counts_three_quarters() {
        let o = order(serde_json::json!({
            "id": 1, "total_price": "10.00",
            "billing_address": {"zip": "10001", "province": "New York", "country_code": "US"},
            "shipping_address": {"address1": "x", "zip": "10002", "province": "new york", "country_code": "US"}
        }));
        let s = order_signals(
            &o,
            Some(&history(5, vec![])),
            Extra::default(),
            now(),
            &rules(),
        );
        assert_eq!(
            s[0].points, 10,
            "same state (case-insensitive): postal codes only"
        );
        let o = order(serde_json::json!({
            "id": 1, "total_price": "10.00",
            "billing_address": {"province_code": "NY", "country_code": "US"},
            "shipping_address": {"address1": "x", "province_code": "NJ", "country_code": "US"}
        }));
        let s = order_signals(
            &o,
            Some(&history(5, vec![])),
            Extra::default(),
            now(),
            &rules(),
        );
        assert_eq!(s[0].points, 15);
    }
}
