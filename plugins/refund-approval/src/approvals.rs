//! `corecase/case-updated`: the outcome of each approval, recorded on the
//! order; the case resolved once nothing is pending.

use plugin_kit::lifecycle;
use shopcase_sdk::views::CaseApproval;
use shopcase_sdk::{Action, Event, PluginError, money};

use crate::{CASE_TYPE, OrderRequests, State, note, untag};

/// The amount of a held operation, in cents (none for a tag operation).
fn amount(a: &CaseApproval) -> Option<i64> {
    money::parse_cents(a.operation.get("amount")?.as_str()?)
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
    let mut st = OrderRequests::load(order_id)?;
    let number = &update.case.number;

    let mut actions: Vec<Action> = Vec::new();
    let mut recorded = 0usize;
    for a in &update.approvals {
        let approved = match a.outcome.as_str() {
            "approved" => true,
            "rejected" => false,
            _ => continue,
        };
        if st
            .requests
            .iter()
            .any(|r| r.task_id.as_deref() == Some(a.task_id.as_str()))
        {
            continue;
        }
        let Some(kind) = a.operation_kind() else {
            continue;
        };
        let cents = amount(a);
        let Some(r) = st.requests.iter_mut().find(|r| {
            r.state == State::Pending
                && r.kind.is_some_and(|k| k.operation() == kind)
                && (kind == "tags-add" || Some(r.cents) == cents)
        }) else {
            shopcase_sdk::warn!(
                "case {number}: approval {} matches no pending request",
                a.task_id
            );
            continue;
        };
        r.task_id = Some(a.task_id.clone());
        let comment = update
            .tasks
            .iter()
            .find(|t| t.id == a.task_id)
            .and_then(|t| t.comment.as_deref())
            .filter(|c| !c.trim().is_empty())
            .map(|c| format!(" — \"{}\"", plugin_kit::text::single_line(c)))
            .unwrap_or_default();
        let text = if approved {
            r.state = State::Approved;
            let done = match (kind, a.executed) {
                ("tags-add", _) => "; the replacement order can be created",
                (_, true) => " and carried out",
                (_, false) => "; it is being carried out",
            };
            format!(
                "{} approved in Core Case ({number}){done}.{comment}",
                r.what
            )
        } else {
            r.state = State::Declined;
            format!("{} declined in Core Case ({number}).{comment}", r.what)
        };
        actions.push(note(order_id, &text));
        actions.push(untag(order_id, &r.tag));
        recorded += 1;
    }
    if actions.is_empty() {
        return Ok(vec![]);
    }
    if st.pending().next().is_none() && status.is_open() {
        let settled: Vec<State> = st
            .requests
            .iter()
            .filter(|r| r.task_id.is_some())
            .map(|r| r.state)
            .collect();
        let (code, notes) = if settled.iter().all(|s| *s == State::Approved) {
            (
                "approved",
                "Every request was approved and carried out in Shopify.",
            )
        } else if settled.iter().all(|s| *s == State::Declined) {
            (
                "declined",
                "Every request was declined; nothing was carried out.",
            )
        } else {
            (
                "partly-approved",
                "Some requests were approved and carried out, others declined.",
            )
        };
        actions.extend(lifecycle::resolve(&key, status, code, notes));
    }
    st.save(order_id)?;
    shopcase_sdk::info!("case {number}: {recorded} approval outcome(s) recorded");
    Ok(actions)
}
