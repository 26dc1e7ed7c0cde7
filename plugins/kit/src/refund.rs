//! Money back when a plugin cancels a paid order.
//!
//! The host cancels an order without refunding it (`cancel-order` never
//! moves money): the money goes back through a separate `refund` action,
//! which an approver can hold. A plugin that cancels a paid order (fraud
//! confirmed, a duplicate order) therefore plans the refund here:
//!
//! - the setting `refund-on-cancel` (default on) turned off: no refund;
//! - nothing paid, or everything already refunded: no refund;
//! - the refundable amount below `refund-approval-threshold`: a `refund`
//!   of it to the original payment method(s), straight away;
//! - at or above it: the same refund inside a `request-approval` on the
//!   plugin's own case, for the `refund-approver-group`; the host executes
//!   it only when the approval task completes APPROVED. The case stays
//!   open until the approval is settled ([`settled_refund`]).
//!
//! What was paid and refunded comes from the host function `order` (grant
//! `order-lookup`): the successful sales and captures minus the successful
//! refunds, in the shop currency. The host checks the amount again when it
//! executes the refund and marks the refund's note as its own.

use shopcase_sdk::views::CaseUpdated;
use shopcase_sdk::{
    Action, CaseKey, CaseStatus, OrderDetails, PluginError, RequestApproval, ShopifyOperation,
    Timestamp, host, kv, money, shopify,
};

use crate::{settings, text};

/// The per-store refund settings of a plugin that cancels orders.
#[derive(Debug, Clone, PartialEq)]
pub struct RefundPolicy {
    /// `refund-on-cancel` (default `true`).
    pub enabled: bool,
    /// `refund-approval-threshold`, in cents (default 100.00): refunds of
    /// this amount or more wait for an approval.
    pub threshold: i64,
    /// `refund-approver-group` (default `finance-approvers`).
    pub approver_group: String,
    /// `refund-approval-hours` (default 48): when the approval is due.
    pub approval_hours: i64,
}

impl RefundPolicy {
    /// The settings, with their defaults.
    pub fn read() -> RefundPolicy {
        RefundPolicy {
            enabled: settings::flag("refund-on-cancel", true),
            threshold: settings::cents("refund-approval-threshold", 100.0),
            approver_group: text::clip(
                &settings::text("refund-approver-group", "finance-approvers"),
                128,
            ),
            approval_hours: settings::int("refund-approval-hours", 48, 1, 720),
        }
    }
}

/// What is still refundable on `order`, in cents: its successful sales and
/// captures minus its successful refunds (never below zero). An unreadable
/// amount counts as nothing (the host checks again before it refunds).
pub fn refundable_cents(order: &OrderDetails) -> i64 {
    let sum = |kinds: &[&str]| -> i64 {
        order
            .transactions
            .iter()
            .filter(|t| t.status.eq_ignore_ascii_case("success"))
            .filter(|t| kinds.iter().any(|k| t.kind.eq_ignore_ascii_case(k)))
            .filter_map(|t| money::parse_cents(&t.amount.amount))
            .fold(0i64, i64::saturating_add)
    };
    sum(&["sale", "capture"])
        .saturating_sub(sum(&["refund"]))
        .max(0)
}

/// What happens to the money of a cancelled order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// `refund-on-cancel` is off.
    Off,
    /// Nothing was paid, or everything was refunded already.
    NothingPaid,
    /// Refunded at once (below the threshold).
    Direct {
        /// The amount, in cents.
        cents: i64,
    },
    /// Held for approval (at or above the threshold).
    Held {
        /// The amount, in cents.
        cents: i64,
    },
}

/// The refund planned for a cancellation: what happens and the actions.
#[derive(Debug, Clone)]
pub struct CancelRefund {
    pub plan: Plan,
    /// The order's (shop) currency; empty when the order was not read.
    pub currency: String,
    /// The `refund`, or the `request-approval` holding it; nothing for
    /// [`Plan::Off`] and [`Plan::NothingPaid`].
    pub actions: Vec<Action>,
    /// The approver group (for [`Plan::Held`]).
    approver_group: String,
}

impl CancelRefund {
    /// Whether the refund waits for an approval (the case stays open).
    pub fn held(&self) -> bool {
        matches!(self.plan, Plan::Held { .. })
    }

    /// One sentence for the case and the order, e.g. `The paid 129.90 EUR
    /// is refunded to the original payment method.`
    pub fn summary(&self) -> String {
        let amount = |c: i64| format!("{} {}", money::format_cents(c), self.currency);
        match self.plan {
            Plan::Off => "No refund: refund-on-cancel is off for this store.".to_owned(),
            Plan::NothingPaid => "No refund: nothing paid is left to refund.".to_owned(),
            Plan::Direct { cents } => format!(
                "The paid {} is refunded to the original payment method.",
                amount(cents)
            ),
            Plan::Held { cents } => format!(
                "The refund of the paid {} to the original payment method awaits approval by {}.",
                amount(cents),
                self.approver_group
            ),
        }
    }
}

/// Plan the refund that goes with cancelling the event's order `order_id`
/// (`why` says why, e.g. `cancelled as fraud by case CASE-000210`; it goes
/// into the refund's note). `key` is the plugin's case about the order,
/// where an approval is requested; `now` is the event's `triggered-at`.
///
/// Reads the order with the host function `order` (grant `order-lookup`)
/// unless the policy is off.
///
/// # Errors
/// The host function's errors (`unavailable` fails the run retryably).
pub fn on_cancel(
    policy: &RefundPolicy,
    key: &CaseKey,
    order_id: u64,
    why: &str,
    notify_customer: bool,
    now: Timestamp,
) -> Result<CancelRefund, PluginError> {
    if !policy.enabled {
        return Ok(CancelRefund {
            plan: Plan::Off,
            currency: String::new(),
            actions: vec![],
            approver_group: policy.approver_group.clone(),
        });
    }
    let order = host::order(order_id)?;
    Ok(plan(policy, key, &order, why, notify_customer, now))
}

/// [`on_cancel`] on an order already read.
pub fn plan(
    policy: &RefundPolicy,
    key: &CaseKey,
    order: &OrderDetails,
    why: &str,
    notify_customer: bool,
    now: Timestamp,
) -> CancelRefund {
    let mut out = CancelRefund {
        plan: Plan::NothingPaid,
        currency: order.currency.clone(),
        actions: vec![],
        approver_group: policy.approver_group.clone(),
    };
    if !policy.enabled {
        out.plan = Plan::Off;
        return out;
    }
    let cents = refundable_cents(order);
    if cents <= 0 {
        return out;
    }
    let operation: ShopifyOperation =
        shopify::refund(order.id, money::format_cents(cents), order.currency.clone())
            .note(text::clip(
                &format!("Refund: order {} {why}.", order.name),
                200,
            ))
            .notify_customer(notify_customer)
            .into();
    if cents < policy.threshold {
        out.plan = Plan::Direct { cents };
        out.actions.push(operation.into());
    } else {
        out.plan = Plan::Held { cents };
        out.actions.push(
            RequestApproval::new(
                key.clone(),
                text::clip(
                    &format!(
                        "Approve: refund of {} {} on {} (cancelled)",
                        money::format_cents(cents),
                        order.currency,
                        order.name
                    ),
                    200,
                ),
                policy.approver_group.clone(),
                operation,
            )
            .description(text::clip(
                &format!(
                    "Order {} was {why}. It was paid {} {} (total {} {}, refunded so far {} {}). Refunds of {} or more need approval: APPROVED refunds it to the original payment method, REJECTED keeps the money.",
                    order.name,
                    money::format_cents(cents),
                    order.currency,
                    order.total.amount,
                    order.currency,
                    order.total_refunded.amount,
                    order.currency,
                    money::format_cents(policy.threshold),
                ),
                4000,
            ))
            .due(now.plus_hours(policy.approval_hours))
            .into(),
        );
    }
    out
}

/// The outcome of a held refund reported by a case update: `Some(true)`
/// approved, `Some(false)` rejected, `None` when the update settles no
/// refund approval.
pub fn settled_refund(update: &CaseUpdated) -> Option<bool> {
    update
        .approvals
        .iter()
        .filter(|a| a.operation_kind() == Some("refund"))
        .find_map(|a| match a.outcome.as_str() {
            "approved" => Some(true),
            "rejected" => Some(false),
            _ => None,
        })
}

/// A case update after a cancel whose refund was held: once the approval is
/// settled, the case is resolved `order-cancelled` (once; `done_key` is the
/// plugin's key of the decision, the case's status is `status`), with
/// `notes.0` when the refund was approved and issued, `notes.1` when the
/// approver rejected it. No actions for any other update.
pub fn resolve_when_settled(
    update: &CaseUpdated,
    key: &CaseKey,
    status: CaseStatus,
    done_key: &str,
    notes: (&str, &str),
) -> Result<Vec<Action>, PluginError> {
    let Some(approved) = settled_refund(update) else {
        return Ok(vec![]);
    };
    let settled_key = format!("{done_key}:refund");
    if !status.is_open() || kv::get(&settled_key)?.is_some() {
        return Ok(vec![]);
    }
    kv::set(&settled_key, "done", Some(crate::state::days(180)))?;
    let notes = if approved { notes.0 } else { notes.1 };
    Ok(crate::lifecycle::resolve(
        key,
        status,
        "order-cancelled",
        notes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopcase_sdk::{Money, Subject, Transaction};

    fn money(a: &str) -> Money {
        Money {
            amount: a.into(),
            currency: "EUR".into(),
        }
    }

    fn tx(kind: &str, status: &str, amount: &str) -> Transaction {
        Transaction {
            kind: kind.into(),
            status: status.into(),
            gateway: Some("shopify_payments".into()),
            amount: money(amount),
            created_at: "2026-11-26T09:00:00Z".into(),
        }
    }

    fn order(transactions: Vec<Transaction>) -> OrderDetails {
        OrderDetails {
            id: 42,
            name: "#2010".into(),
            created_at: "2026-11-26T09:00:00Z".into(),
            currency: "EUR".into(),
            subtotal: None,
            total: money("129.90"),
            current_total: money("129.90"),
            outstanding: money("0.00"),
            total_refunded: money("0.00"),
            financial_status: "PAID".into(),
            fulfillment_status: "UNFULFILLED".into(),
            cancelled: false,
            customer_id: None,
            line_items: vec![],
            shipping_address: None,
            billing_address: None,
            fulfillments: vec![],
            transactions,
        }
    }

    fn policy(threshold: i64) -> RefundPolicy {
        RefundPolicy {
            enabled: true,
            threshold,
            approver_group: "finance-approvers".into(),
            approval_hours: 48,
        }
    }

    fn now() -> Timestamp {
        Timestamp::parse("2026-11-26T10:00:00Z").unwrap()
    }

    fn key() -> CaseKey {
        CaseKey::new("fraud-investigation", Subject::Order(42))
    }

    #[test]
    fn refundable_is_paid_minus_refunded() {
        let o = order(vec![
            tx("AUTHORIZATION", "SUCCESS", "129.90"),
            tx("CAPTURE", "SUCCESS", "129.90"),
            tx("SALE", "FAILURE", "50.00"),
            tx("REFUND", "SUCCESS", "29.90"),
            tx("REFUND", "FAILURE", "100.00"),
        ]);
        assert_eq!(refundable_cents(&o), 10_000);
        let over = order(vec![
            tx("SALE", "SUCCESS", "10.00"),
            tx("REFUND", "SUCCESS", "12.00"),
        ]);
        assert_eq!(refundable_cents(&over), 0);
    }

    #[test]
    fn below_the_threshold_the_refund_goes_at_once() {
        let o = order(vec![tx("SALE", "SUCCESS", "99.99")]);
        let r = plan(
            &policy(10_000),
            &key(),
            &o,
            "cancelled as a duplicate",
            true,
            now(),
        );
        assert_eq!(r.plan, Plan::Direct { cents: 9999 });
        let [Action::Shopify(ShopifyOperation::Refund(op))] = r.actions.as_slice() else {
            panic!("{:?}", r.actions)
        };
        assert_eq!(
            (op.order_id, op.amount.as_str(), op.currency.as_str()),
            (42, "99.99", "EUR")
        );
        assert_eq!(op.note, "Refund: order #2010 cancelled as a duplicate.");
        assert!(op.notify_customer);
        assert_eq!(
            r.summary(),
            "The paid 99.99 EUR is refunded to the original payment method."
        );
    }

    #[test]
    fn at_or_above_the_threshold_the_refund_is_held() {
        let o = order(vec![tx("SALE", "SUCCESS", "100.00")]);
        let r = plan(
            &policy(10_000),
            &key(),
            &o,
            "cancelled as fraud",
            false,
            now(),
        );
        assert_eq!(r.plan, Plan::Held { cents: 10_000 });
        assert!(r.held());
        let [Action::RequestApproval(a)] = r.actions.as_slice() else {
            panic!("{:?}", r.actions)
        };
        assert_eq!(a.key, key());
        assert_eq!(a.approver_group, "finance-approvers");
        assert_eq!(a.due.as_deref(), Some("2026-11-28T10:00:00Z"));
        assert_eq!(
            a.title,
            "Approve: refund of 100.00 EUR on #2010 (cancelled)"
        );
        let ShopifyOperation::Refund(op) = &a.operation else {
            panic!()
        };
        assert_eq!((op.amount.as_str(), op.notify_customer), ("100.00", false));
        assert!(r.summary().contains("awaits approval by finance-approvers"));
    }

    #[test]
    fn nothing_paid_or_policy_off_means_no_refund() {
        let unpaid = order(vec![tx("AUTHORIZATION", "SUCCESS", "129.90")]);
        let r = plan(&policy(10_000), &key(), &unpaid, "cancelled", false, now());
        assert_eq!((r.plan, r.actions.len()), (Plan::NothingPaid, 0));
        let paid = order(vec![tx("SALE", "SUCCESS", "10.00")]);
        let off = RefundPolicy {
            enabled: false,
            ..policy(10_000)
        };
        let r = plan(&off, &key(), &paid, "cancelled", false, now());
        assert_eq!((r.plan, r.actions.len()), (Plan::Off, 0));
    }
}
