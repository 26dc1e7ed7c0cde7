//! `corecase/case-updated`: carry out the analyst's decision in Shopify.
//!
//! | decision | in Shopify | the case |
//! |---|---|---|
//! | `cancel` | cancel the order (restock); a duplicate's payment refunded to the original payment method (`refund-on-cancel`), held for approval at or above `refund-approval-threshold` | resolved `order-cancelled` (once a held refund is approved or rejected) |
//! | `release` | release this plugin's fulfilment hold | resolved `released` |
//! | `hold` | (re)place the hold | stays open |
//! | none, case resolved/closed/cancelled | release the hold, if placed | — |
//!
//! Each decision is carried out once per case (the key-value store
//! remembers the last one); changing it (e.g. `hold`, later `release`)
//! carries out the new one.

use plugin_kit::decision::decision;
use plugin_kit::refund::{self, RefundPolicy};
use plugin_kit::{lifecycle, state, text};
use shopcase_sdk::views::CaseUpdated;
use shopcase_sdk::{Action, CancelReason, Comment, Event, HoldReason, PluginError, kv, shopify};

use crate::{CASE_TYPE, HOLD_HANDLE, OrderState, Settings, problems};

pub(crate) fn on_case_updated(event: &Event) -> Result<Vec<Action>, PluginError> {
    let update = event.case_updated()?;
    if update.case.case_type != CASE_TYPE {
        return Ok(vec![]);
    }
    let (Some(key), Some(status)) = (update.key(), update.status()) else {
        return Ok(vec![]);
    };
    let order_id = event.order_id()?;
    let s = Settings::read();
    let mut st = OrderState::load(order_id)?;
    let done_key = format!("decision:{}", update.case.id);
    let done = kv::get(&done_key)?;
    let number = &update.case.number;

    let mut actions: Vec<Action> = Vec::new();
    match decision(&update, &s.decision_attribute) {
        Some(d) if done.as_deref() == Some(d.as_str()) => {
            if d == "cancel" {
                return refund::resolve_when_settled(
                    &update,
                    &key,
                    status,
                    &done_key,
                    (
                        "The order was cancelled in Shopify on the analyst's decision; the refund was approved and issued.",
                        "The order was cancelled in Shopify on the analyst's decision; the refund was rejected by the approver.",
                    ),
                );
            }
            return Ok(vec![]);
        }
        Some(d) if d == "cancel" => {
            let reason = cancel_reason(&update, &st);
            actions.push(
                shopify::cancel_order(order_id, reason)
                    .restock(true)
                    .notify_customer(s.notify_on_cancel)
                    .staff_note(text::clip(
                        &format!("Cancelled by decision on order-exception case {number}."),
                        255,
                    ))
                    .into(),
            );
            st.held = false;
            // A paid duplicate gets its money back; other problems (a
            // failed or voided payment) have nothing paid to return.
            let money = if reason == CancelReason::Customer {
                Some(refund::on_cancel(
                    &RefundPolicy::read(),
                    &key,
                    order_id,
                    &format!("cancelled as a duplicate by case {number}"),
                    s.notify_on_cancel,
                    event.triggered_at()?,
                )?)
            } else {
                None
            };
            let said = money
                .as_ref()
                .map(|m| format!(" {}", m.summary()))
                .unwrap_or_default();
            if let Some(m) = &money {
                actions.extend(m.actions.iter().cloned());
            }
            if money.as_ref().is_some_and(refund::CancelRefund::held) {
                actions.push(
                    Comment::internal(
                        key.clone(),
                        format!("The order was cancelled in Shopify.{said}"),
                    )
                    .into(),
                );
            } else {
                actions.extend(lifecycle::resolve(
                    &key,
                    status,
                    "order-cancelled",
                    &format!("The order was cancelled in Shopify on the analyst's decision.{said}"),
                ));
            }
        }
        Some(d) if d == "release" || d == "ship" => {
            if st.held {
                actions.push(shopify::release(order_id, HOLD_HANDLE).into());
                st.held = false;
            }
            actions.extend(lifecycle::resolve(
                &key,
                status,
                "released",
                "The fulfilment hold was released on the analyst's decision; the order ships.",
            ));
        }
        Some(d) if d == "hold" || d == "keep-on-hold" => {
            if !st.held {
                actions.push(
                    shopify::hold(
                        order_id,
                        hold_reason(&st),
                        HOLD_HANDLE,
                        text::clip(&format!("Kept on hold by case {number}."), 255),
                    )
                    .into(),
                );
                st.held = true;
            }
        }
        Some(other) => {
            actions.push(
                Comment::internal(
                    key.clone(),
                    format!(
                        "Unknown decision `{}`: use `cancel`, `release` or `hold` in the attribute `{}`.",
                        text::clip(&other, 64),
                        s.decision_attribute
                    ),
                )
                .into(),
            );
            kv::set(&done_key, &other, Some(state::days(180)))?;
            return Ok(actions);
        }
        None => {
            // Closed without a decision: nothing may stay held for ever.
            if !status.is_open() && st.held {
                actions.push(shopify::release(order_id, HOLD_HANDLE).into());
                st.held = false;
                st.save(order_id)?;
                shopcase_sdk::info!(
                    "case {number} is {} without a decision: hold released",
                    status.as_str()
                );
            }
            return Ok(actions);
        }
    }
    let d = decision(&update, &s.decision_attribute).unwrap_or_default();
    kv::set(&done_key, &d, Some(state::days(180)))?;
    st.save(order_id)?;
    shopcase_sdk::info!("case {number}: decision `{d}` carried out on order {order_id}");
    Ok(actions)
}

/// Why the order is cancelled: a duplicate is the customer's mistake, a
/// payment problem a decline, anything else `other`.
fn cancel_reason(update: &CaseUpdated, st: &OrderState) -> CancelReason {
    let attr = update.attribute("problems").unwrap_or("");
    let has = |code: &str| attr.split(',').any(|c| c.trim() == code) || st.has(code);
    if has("duplicate-order") {
        CancelReason::Customer
    } else if has("payment-failed") || has("authorization-voided") {
        CancelReason::Declined
    } else {
        CancelReason::Other
    }
}

fn hold_reason(st: &OrderState) -> HoldReason {
    st.problems
        .iter()
        .find_map(|p| problems::hold_reason(&p.code))
        .unwrap_or(HoldReason::Other)
}
