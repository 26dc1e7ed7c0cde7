//! `timer/fired`: a case's due date passed. Still open, it escalates one
//! level: priority up, escalation level up, from level 2 the escalation
//! group owns it, a new due date `escalation-step-hours` later, and the
//! next timer until `max-escalation-level`.

use plugin_kit::lifecycle;
use shopcase_sdk::{Action, Comment, Event, FollowUp, PluginError, UpdateCase, host};

use crate::{CASE_TYPE, ESCALATION_TIMER, Settings};

pub(crate) fn on_timer(event: &Event) -> Result<Vec<Action>, PluginError> {
    let timer = event.timer_fired()?;
    if timer.name != ESCALATION_TIMER {
        return Ok(vec![]);
    }
    let key = match timer
        .data
        .get("subject")
        .and_then(serde_json::Value::as_str)
    {
        Some("customer") => event.customer_key(CASE_TYPE)?,
        _ => event.order_key(CASE_TYPE)?,
    };
    let Some(case) = host::linked_case(&key)? else {
        shopcase_sdk::warn!(
            "escalation timer: no case is linked to {} {}",
            key.subject.kind(),
            key.subject.id()
        );
        return Ok(vec![]);
    };
    let s = Settings::read();
    if !case.status.is_open() || case.escalation_level >= s.max_level {
        return Ok(vec![]);
    }
    let now = event.triggered_at()?;
    let level = case.escalation_level + 1;
    let priority = lifecycle::raise(case.priority);
    let due = now.plus_hours(s.step_hours);
    let mut update = UpdateCase::new(key.clone())
        .priority(priority)
        .escalation_level(level)
        .due(due)
        .reason("due date passed unresolved");
    let mut handover = String::new();
    if level >= 2 {
        update = update.owner_group(s.escalation_group.clone());
        handover = format!(", handed to {}", s.escalation_group);
    }
    let mut actions: Vec<Action> = vec![
        update.into(),
        Comment::internal(
            key,
            format!(
                "The due date {} passed and the case is still {}: escalated to level {level}, priority {}{handover}. Next due {due}.",
                timer.due,
                case.status.as_str(),
                priority.as_str()
            ),
        )
        .into(),
    ];
    if level < s.max_level {
        let subject = timer
            .data
            .get("subject")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("order");
        actions.push(
            FollowUp::at(ESCALATION_TIMER, due)
                .data(&serde_json::json!({ "level": level + 1, "subject": subject }))
                .into(),
        );
    }
    shopcase_sdk::info!("case {}: escalated to level {level}", case.case_number);
    Ok(actions)
}
