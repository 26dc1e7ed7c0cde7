//! # refund-approval: money and goods given back, approved above a threshold
//!
//! Staff ask for a refund, a goodwill credit or a replacement by tagging the
//! order (`refund:45.00`, `credit:20`, `replace:JUG-600*1`, prefixes are
//! settings). On the `orders/updated` that carries the tag:
//!
//! - below the request's threshold it is carried out at once (`refund`,
//!   `store-credit`, or the replacement tag for Shopify Flow), a note records
//!   it and the request tag is removed;
//! - at or above it, a `refund-approval` case (one per order) gets a
//!   `request-approval` holding the operation for the approver group; the
//!   host executes it only when the approval task completes APPROVED;
//! - a request that cannot be carried out (unreadable amount, more than the
//!   refundable total, unknown SKU, no customer for a credit) gets a note
//!   saying why, and its tag is removed.
//!
//! Thresholds apply to the sum of an order's refunds within
//! `approval-window-hours` (default 168): a refund tag below the threshold
//! on its own is held when, with the order's other refunds in the window
//! (carried out, pending or approved, and refunds issued outside
//! shopcase), it reaches the threshold.
//!
//! On `refunds/create`, a refund the host did not verify as issued by
//! shopcase (`shopcase_issued`, see docs/events.md) that is at or above the
//! refund threshold on its own or with the window's sum opens the order's
//! refund-approval case flagged "issued without approval".
//!
//! When Core Case reports the approval's outcome (`corecase/case-updated`),
//! the order gets a note, the request tag is removed, and once nothing is
//! pending the case is resolved. Every tag acts once per order (the
//! key-value store keeps each order's requests).
//!
//! ```text
//! cargo test -p refund-approval
//! cargo build -p refund-approval --target wasm32-wasip2 --profile plugin
//! ```
//!
//! # Layout
//! - this file: the [`RefundApproval`] plugin, settings, the per-order
//!   requests and the `orders/updated` handler;
//! - `requests`: reading request tags (pure);
//! - `approvals`: approval outcomes (`corecase/case-updated`);
//! - `outside`: refunds issued outside shopcase (`refunds/create`).

mod approvals;
mod outside;
mod requests;

use plugin_kit::dossier::order_dossier;
use plugin_kit::facts::{order_attributes, with_attributes};
use plugin_kit::{settings, state, text};
use requests::{Kind, Parsed, Prefixes, Reading};
use serde::{Deserialize, Serialize};
use shopcase_sdk::views::Order;
use shopcase_sdk::{
    Action, CaseKey, Event, OpenCase, Plugin, PluginError, Priority, RequestApproval,
    ShopifyOperation, Target, Timestamp, host, money, shopify,
};

/// The case type this plugin opens (granted in `plugin.toml`).
pub const CASE_TYPE: &str = "refund-approval";

/// The plugin.
#[derive(Debug)]
pub struct RefundApproval;

impl Plugin for RefundApproval {
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
        let actions = match event.topic.as_str() {
            "orders/updated" => on_order(event),
            "corecase/case-updated" => approvals::on_case_updated(event),
            "refunds/create" => outside::on_refund(event),
            _ => Ok(vec![]),
        }?;
        // Every case gets its owner by the store's assignment rules.
        plugin_kit::assign::owners(actions)
    }
}

shopcase_sdk::export_plugin!(RefundApproval);

/// The settings.
#[derive(Debug)]
pub(crate) struct Settings {
    prefixes: Prefixes,
    refund_threshold: i64,
    credit_threshold: i64,
    replacement_threshold: i64,
    approver_group: String,
    owner_group: String,
    approval_hours: i64,
    /// `approval-window-hours`: refunds of an order within this many hours
    /// count together against the refund threshold (0: each alone).
    pub(crate) window_hours: i64,
    notify: bool,
    credit_expiry_days: i64,
    pub(crate) replacement_tag: Option<String>,
}

impl Settings {
    pub(crate) fn read() -> Settings {
        Settings {
            prefixes: Prefixes {
                refund: settings::text("refund-tag-prefix", "refund:"),
                credit: settings::text("credit-tag-prefix", "credit:"),
                replacement: settings::text("replacement-tag-prefix", "replace:"),
            },
            refund_threshold: settings::cents("refund-approval-threshold", 100.0),
            credit_threshold: settings::cents("credit-approval-threshold", 50.0),
            replacement_threshold: settings::cents("replacement-approval-threshold", 150.0),
            approver_group: text::clip(&settings::text("approver-group", "finance-approvers"), 128),
            owner_group: text::clip(&settings::text("owner-group", "finance"), 128),
            approval_hours: settings::int("approval-hours", 48, 1, 720),
            window_hours: settings::int("approval-window-hours", 168, 0, 8760),
            notify: settings::flag("notify-customer", true),
            credit_expiry_days: settings::int("credit-expiry-days", 365, 0, 3650),
            replacement_tag: text::tag(&settings::text(
                "replacement-approved-tag",
                "replacement-approved",
            )),
        }
    }

    fn threshold(&self, kind: Kind) -> i64 {
        match kind {
            Kind::Refund => self.refund_threshold,
            Kind::StoreCredit => self.credit_threshold,
            Kind::Replacement => self.replacement_threshold,
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum State {
    /// Carried out at once (below the threshold).
    Done,
    /// Held for approval.
    Pending,
    Approved,
    Declined,
    /// Could not be carried out.
    Invalid,
}

/// One request, as remembered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Request {
    /// The tag as staff wrote it.
    pub(crate) tag: String,
    pub(crate) kind: Option<Kind>,
    #[serde(default)]
    pub(crate) cents: i64,
    /// For people, e.g. `Refund of 45.00 EUR`.
    pub(crate) what: String,
    pub(crate) state: State,
    /// The approval task that settled it.
    #[serde(default)]
    pub(crate) task_id: Option<String>,
    /// When it was made (the event's `triggered-at`, RFC 3339); none in
    /// records older than the window (they count as inside it).
    #[serde(default)]
    pub(crate) at: Option<String>,
}

/// A refund issued outside shopcase, as `refunds/create` reported it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OutsideRefund {
    pub(crate) refund_id: u64,
    pub(crate) cents: i64,
    /// The event's `triggered-at` (RFC 3339).
    pub(crate) at: String,
    /// Whether it opened (or joined) the case as issued without approval.
    pub(crate) flagged: bool,
}

/// The requests of one order (key `requests:<order id>`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct OrderRequests {
    #[serde(default)]
    pub(crate) requests: Vec<Request>,
    /// Refunds issued outside shopcase.
    #[serde(default)]
    pub(crate) outside: Vec<OutsideRefund>,
}

impl OrderRequests {
    fn key(order_id: u64) -> String {
        format!("requests:{order_id}")
    }

    pub(crate) fn load(order_id: u64) -> Result<OrderRequests, PluginError> {
        Ok(state::get_json(&OrderRequests::key(order_id))?.unwrap_or_default())
    }

    pub(crate) fn save(&self, order_id: u64) -> Result<(), PluginError> {
        state::set_json(&OrderRequests::key(order_id), self, Some(state::days(365)))
    }

    fn has(&self, tag: &str) -> bool {
        self.requests.iter().any(|r| text::same_tag(&r.tag, tag))
    }

    pub(crate) fn pending(&self) -> impl Iterator<Item = &Request> {
        self.requests.iter().filter(|r| r.state == State::Pending)
    }

    /// The order's refunds within `window_hours` before `now` (up to and
    /// including `now`): refund requests carried out, pending or approved,
    /// and refunds issued outside shopcase, in cents. A record without a
    /// time counts as inside the window; one later than `now` (an event
    /// delivered out of order) counts too.
    pub(crate) fn refunds_within(&self, now: Timestamp, window_hours: i64) -> i64 {
        let from = now.plus_hours(-window_hours);
        let inside = |at: Option<&str>| match at.map(Timestamp::parse) {
            Some(Ok(t)) => window_hours > 0 && t.seconds_until(from) <= 0,
            Some(Err(_)) | None => window_hours > 0,
        };
        let requests = self
            .requests
            .iter()
            .filter(|r| r.kind == Some(Kind::Refund))
            .filter(|r| matches!(r.state, State::Done | State::Pending | State::Approved))
            .filter(|r| inside(r.at.as_deref()))
            .map(|r| r.cents);
        let outside = self
            .outside
            .iter()
            .filter(|o| inside(Some(&o.at)))
            .map(|o| o.cents);
        requests.chain(outside).fold(0i64, i64::saturating_add)
    }
}

/// `orders/updated`: act on request tags not seen before.
fn on_order(event: &Event) -> Result<Vec<Action>, PluginError> {
    let order = event.order()?;
    if order.test {
        return Ok(vec![]);
    }
    let s = Settings::read();
    let order_id = event.order_id()?;
    let now = event.triggered_at()?;
    let mut st = OrderRequests::load(order_id)?;

    let mut direct: Vec<Action> = Vec::new();
    let mut held: Vec<(String, Parsed, i64)> = Vec::new();
    let mut handled = 0usize;
    for tag in order.tags() {
        if st.has(tag) {
            continue;
        }
        let parsed = match requests::read(tag, &s.prefixes, &order) {
            Reading::Other => continue,
            Reading::Invalid(why) => Err(why),
            Reading::Request(p) => check(&p, &order, event).map(|()| p),
        };
        handled += 1;
        let p = match parsed {
            Ok(p) => p,
            Err(why) => {
                direct.push(note(order_id, &why));
                direct.push(untag(order_id, tag));
                st.requests.push(Request {
                    tag: tag.to_owned(),
                    kind: None,
                    cents: 0,
                    what: why,
                    state: State::Invalid,
                    task_id: None,
                    at: Some(now.to_rfc3339()),
                });
                continue;
            }
        };
        let threshold = s.threshold(p.kind);
        // Refunds count with the order's others in the window.
        let windowed = match p.kind {
            Kind::Refund => st
                .refunds_within(now, s.window_hours)
                .saturating_add(p.cents),
            _ => p.cents,
        };
        if windowed < threshold {
            direct.push(operation(&p, order_id, &order, event, &s, now, tag)?.into());
            direct.push(note(
                order_id,
                &format!(
                    "{} carried out at once (below the approval threshold of {}).",
                    p.what,
                    money::format_cents(threshold)
                ),
            ));
            direct.push(untag(order_id, tag));
            st.requests.push(Request {
                tag: tag.to_owned(),
                kind: Some(p.kind),
                cents: p.cents,
                what: p.what.clone(),
                state: State::Done,
                task_id: None,
                at: Some(now.to_rfc3339()),
            });
        } else {
            // Remembered at once, so a later tag of the same update counts it.
            st.requests.push(Request {
                tag: tag.to_owned(),
                kind: Some(p.kind),
                cents: p.cents,
                what: p.what.clone(),
                state: State::Pending,
                task_id: None,
                at: Some(now.to_rfc3339()),
            });
            held.push((tag.to_owned(), p, windowed));
        }
    }
    if handled == 0 {
        return Ok(vec![]);
    }

    let mut actions: Vec<Action> = Vec::new();
    if !held.is_empty() {
        let key = event.order_key(CASE_TYPE)?;
        let history = match event.resources.customer_id {
            Some(id) => Some(host::customer_history(id)?),
            None => None,
        };
        actions.push(case_for(&key, &order, &st, &s, now, event, history.as_ref()).into());
        for (tag, p, windowed) in &held {
            let op = operation(p, order_id, &order, event, &s, now, tag)?;
            let window = if *windowed > p.cents {
                format!(
                    " With the order's other refunds of the last {} hours it comes to {} {}.",
                    s.window_hours,
                    money::format_cents(*windowed),
                    order.currency
                )
            } else {
                String::new()
            };
            actions.push(
                RequestApproval::new(
                    key.clone(),
                    text::clip(&format!("Approve: {} on {}", p.what, order.name), 200),
                    s.approver_group.clone(),
                    op,
                )
                .description(text::clip(
                    &format!(
                        "Requested with the tag `{tag}` on {} (order total {} {}, still refundable {} {}). Approval threshold: {}.{window}",
                        order.name,
                        order.total_price,
                        order.currency,
                        order.current_total_price,
                        order.currency,
                        money::format_cents(s.threshold(p.kind))
                    ),
                    4000,
                ))
                .due(now.plus_hours(s.approval_hours))
                .into(),
            );
            actions.push(note(
                order_id,
                &format!(
                    "{} awaits approval by {}.{window}",
                    p.what, s.approver_group
                ),
            ));
        }
    }
    actions.extend(direct);
    st.save(order_id)?;
    shopcase_sdk::info!(
        "order {}: {handled} request(s), {} held for approval",
        order.name,
        held.len()
    );
    Ok(actions)
}

/// Whether a request can be carried out on this order.
fn check(p: &Parsed, order: &Order, event: &Event) -> Result<(), String> {
    match p.kind {
        Kind::Refund => match order.current_total_price_cents() {
            Some(refundable) if p.cents > refundable => Err(format!(
                "{} not carried out: it exceeds the refundable {} {}.",
                p.what,
                money::format_cents(refundable),
                order.currency
            )),
            _ => Ok(()),
        },
        Kind::StoreCredit if event.resources.customer_id.is_none() => Err(format!(
            "{} not carried out: the order has no customer account to credit.",
            p.what
        )),
        _ => Ok(()),
    }
}

/// The Shopify operation that carries out a request.
fn operation(
    p: &Parsed,
    order_id: u64,
    order: &Order,
    event: &Event,
    s: &Settings,
    now: Timestamp,
    tag: &str,
) -> Result<ShopifyOperation, PluginError> {
    let amount = money::format_cents(p.cents);
    Ok(match p.kind {
        Kind::Refund => shopify::refund(order_id, amount, &order.currency)
            .note(text::clip(&format!("Requested with the tag {tag}"), 255))
            .notify_customer(s.notify)
            .into(),
        Kind::StoreCredit => {
            let mut credit = shopify::store_credit(event.customer_id()?, amount, &order.currency)
                .notify_customer(s.notify);
            if s.credit_expiry_days > 0 {
                credit = credit.expires_at(now.plus_days(s.credit_expiry_days));
            }
            credit.into()
        }
        Kind::Replacement => {
            let tag = s
                .replacement_tag
                .clone()
                .unwrap_or_else(|| "replacement-approved".to_owned());
            shopify::tags_add(Target::Order(order_id), [tag])
        }
    })
}

fn note(order_id: u64, text: &str) -> Action {
    shopify::note_append(Target::Order(order_id), text::clip(text, 1000)).into()
}

fn untag(order_id: u64, tag: &str) -> Action {
    shopify::tags_remove(Target::Order(order_id), [tag.to_owned()]).into()
}

/// The case: every pending request, the order and its history.
fn case_for(
    key: &CaseKey,
    order: &Order,
    st: &OrderRequests,
    s: &Settings,
    now: Timestamp,
    event: &Event,
    history: Option<&shopcase_sdk::CustomerSummary>,
) -> OpenCase {
    let pending: Vec<&Request> = st.pending().collect();
    let title = match pending.as_slice() {
        [one] => format!("Approval needed on {}: {}", order.name, one.what),
        many => format!("Approval needed on {}: {} requests", order.name, many.len()),
    };
    let total: i64 = pending.iter().map(|r| r.cents).sum();
    let mut summary = format!(
        "Staff asked for the following on {}, each at or above its approval threshold:\n",
        order.name
    );
    for r in &pending {
        summary.push_str(&format!("- {} (tag `{}`)\n", r.what, r.tag));
    }
    summary.push_str("\nComplete each approval task: APPROVED carries the request out in Shopify, REJECTED drops it. The outcome is noted on the order.");
    let findings: Vec<String> = pending
        .iter()
        .map(|r| format!("{} requested with the tag `{}`.", r.what, r.tag))
        .collect();
    with_attributes(
        OpenCase::new(key.clone(), text::clip(&title, 200))
            .summary(text::clip(&summary, 4000))
            .priority(if total >= s.refund_threshold.saturating_mul(5) {
                Priority::High
            } else {
                Priority::Medium
            })
            .owner_group(s.owner_group.clone())
            .due(now.plus_hours(s.approval_hours))
            .attribute(
                "requests",
                text::clip(
                    &pending
                        .iter()
                        .map(|r| r.what.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                    4096,
                ),
            )
            .attribute("requestedValue", money::format_cents(total)),
        order_attributes(&event.shop, order),
    )
    .document(order_dossier(order, &findings, history))
}
