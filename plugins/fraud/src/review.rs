//! The review of a fraud case: the analyst's decision
//! (`corecase/case-updated`) and the overdue review (`timer/fired`).
//!
//! | decision | in Shopify | the case |
//! |---|---|---|
//! | `cancel` | order cancelled (reason fraud, restock), review tag removed; what was paid refunded to the original payment method (`refund-on-cancel`), held for approval at or above `refund-approval-threshold` | resolved `order-cancelled` (once the held refund is approved or rejected) |
//! | `hold` / `keep on hold` | the hold stays (placed again if needed) | stays open, no more escalation |
//! | `release` | hold released, review tag removed | resolved `order-released` |
//! | none, case resolved/closed/cancelled | hold released, review tag removed | — |

use plugin_kit::decision::decision;
use plugin_kit::refund::{self, RefundPolicy};
use plugin_kit::{lifecycle, state, text};
use shopcase_sdk::{
    Action, CancelReason, Comment, Event, FollowUp, HoldReason, PluginError, Target, UpdateCase,
    host, kv, shopify,
};

use crate::{Assessment, CASE_TYPE, HOLD_HANDLE, MAX_ESCALATIONS, REVIEW_TIMER, Settings};

fn decision_key(case_id: &str) -> String {
    format!("decision:{case_id}")
}

/// The review tag's removal, if this plugin tagged the order.
fn untag(order_id: u64, a: &mut Assessment, s: &Settings) -> Option<Action> {
    let tag = s.tag.clone().filter(|_| a.tagged)?;
    a.tagged = false;
    Some(shopify::tags_remove(Target::Order(order_id), [tag]).into())
}

fn release(order_id: u64, a: &mut Assessment) -> Option<Action> {
    a.held.then(|| {
        a.held = false;
        shopify::release(order_id, HOLD_HANDLE).into()
    })
}

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
    let mut a = Assessment::load(order_id)?;
    let done_key = decision_key(&update.case.id);
    let done = kv::get(&done_key)?;
    let number = &update.case.number;

    let mut actions: Vec<Action> = Vec::new();
    let Some(d) = decision(&update, &s.decision_attribute) else {
        if !status.is_open() && (a.held || a.tagged) {
            actions.extend(release(order_id, &mut a));
            actions.extend(untag(order_id, &mut a, &s));
            a.save(order_id)?;
            shopcase_sdk::info!(
                "case {number} is {} without a decision: order released",
                status.as_str()
            );
        }
        return Ok(actions);
    };
    if done.as_deref() == Some(d.as_str()) {
        if d == "cancel" {
            return refund::resolve_when_settled(
                &update,
                &key,
                status,
                &done_key,
                (
                    "The analyst confirmed fraud; the order was cancelled in Shopify and the refund was approved and issued.",
                    "The analyst confirmed fraud; the order was cancelled in Shopify; the refund was rejected by the approver.",
                ),
            );
        }
        return Ok(vec![]);
    }
    match d.as_str() {
        "cancel" => {
            actions.push(
                shopify::cancel_order(order_id, CancelReason::Fraud)
                    .restock(true)
                    .notify_customer(s.notify_on_cancel)
                    .staff_note(text::clip(
                        &format!("Cancelled as fraud by case {number}."),
                        255,
                    ))
                    .into(),
            );
            a.held = false;
            actions.extend(untag(order_id, &mut a, &s));
            let money = refund::on_cancel(
                &RefundPolicy::read(),
                &key,
                order_id,
                &format!("cancelled as fraud by case {number}"),
                s.notify_on_cancel,
                event.triggered_at()?,
            )?;
            actions.extend(money.actions.iter().cloned());
            if money.held() {
                // The case stays open until the approver decides.
                actions.push(
                    Comment::internal(
                        key.clone(),
                        format!("The order was cancelled in Shopify. {}", money.summary()),
                    )
                    .into(),
                );
            } else {
                actions.extend(lifecycle::resolve(
                    &key,
                    status,
                    "order-cancelled",
                    &format!(
                        "The analyst confirmed fraud; the order was cancelled in Shopify. {}",
                        money.summary()
                    ),
                ));
            }
        }
        "release" => {
            actions.extend(release(order_id, &mut a));
            actions.extend(untag(order_id, &mut a, &s));
            actions.extend(lifecycle::resolve(
                &key,
                status,
                "order-released",
                "The analyst found the order legitimate; it was released to ship.",
            ));
        }
        "hold" | "keep-on-hold" => {
            if !a.held {
                actions.push(
                    shopify::hold(
                        order_id,
                        HoldReason::HighRiskOfFraud,
                        HOLD_HANDLE,
                        text::clip(&format!("Kept on hold by fraud case {number}."), 255),
                    )
                    .into(),
                );
                a.held = true;
            }
        }
        other => {
            actions.push(
                Comment::internal(
                    key,
                    format!(
                        "Unknown decision `{}`: use `cancel`, `hold` or `release` in the attribute `{}`.",
                        text::clip(other, 64),
                        s.decision_attribute
                    ),
                )
                .into(),
            );
        }
    }
    kv::set(&done_key, &d, Some(state::days(180)))?;
    a.save(order_id)?;
    shopcase_sdk::info!("case {number}: decision `{d}` on order {order_id}");
    Ok(actions)
}

/// `timer/fired` at the review's due date: escalate an open, undecided case.
pub(crate) fn on_timer(event: &Event) -> Result<Vec<Action>, PluginError> {
    let timer = event.timer_fired()?;
    if timer.name != REVIEW_TIMER {
        return Ok(vec![]);
    }
    let round = timer
        .data
        .get("escalation")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(1);
    let key = event.order_key(CASE_TYPE)?;
    let Some(case) = host::linked_case(&key)? else {
        shopcase_sdk::warn!(
            "review timer for order {}: no case is linked",
            event.order_id()?
        );
        return Ok(vec![]);
    };
    // A decision carried out (including `hold`: keep waiting) ends the
    // escalation; an unknown one does not.
    let decided = kv::get(&decision_key(&case.case_id))?
        .is_some_and(|d| matches!(d.as_str(), "cancel" | "release" | "hold" | "keep-on-hold"));
    if !case.status.is_open() || decided {
        return Ok(vec![]);
    }
    let s = Settings::read();
    let now = event.triggered_at()?;
    let level = case.escalation_level.saturating_add(1).min(5);
    let priority = lifecycle::raise(case.priority);
    let next_due = now.plus_hours(s.review_hours);
    let mut actions: Vec<Action> = vec![
        UpdateCase::new(key.clone())
            .priority(priority)
            .escalation_level(level)
            .due(next_due)
            .reason("fraud review overdue")
            .into(),
        Comment::internal(
            key,
            format!(
                "Review overdue (due {}): the order is still held. Escalated to level {level}, priority {}; next due {next_due}.",
                timer.due,
                priority.as_str()
            ),
        )
        .into(),
    ];
    if round < MAX_ESCALATIONS {
        actions.push(
            FollowUp::at(REVIEW_TIMER, next_due)
                .data(&serde_json::json!({ "escalation": round + 1 }))
                .into(),
        );
    }
    shopcase_sdk::info!(
        "case {}: review overdue, escalation level {level}",
        case.case_number
    );
    Ok(actions)
}
