//! # case-status: every case's status, visible in Shopify
//!
//! On `corecase/case-updated`, for the cases of every plugin (or the
//! `case-types` setting's), the order the case is about (the customer, for
//! cases about a customer) gets:
//!
//! - the tag `case:<type>:<status>` (e.g. `case:fraud-investigation:resolved`),
//!   the tags of the type's other statuses removed, so exactly one shows
//!   the latest status. Tags fit Shopify's 40 characters: `pending-approval`
//!   is written `pending`, and a case type too long is shortened with a
//!   hash;
//! - a note line: `Core Case CASE-000042 (fraud-investigation): resolved
//!   (order-released) on 2026-11-26.`;
//! - the JSON metafield `corecase.case`: id, number, type, status,
//!   priority, escalation level, link and update time of the latest case.
//!
//! When a case's escalation level rises, the customer also gets a note line.
//!
//! Core Case reports a case whenever anything on it changes (a task, an
//! owner); the plugin writes only when the status or escalation level
//! changed (the key-value store remembers the last ones written).
//!
//! ```text
//! cargo test -p case-status
//! cargo build -p case-status --target wasm32-wasip2 --profile plugin
//! ```
//!
//! # Layout
//! - this file: the [`CaseStatusWriteBack`] plugin and its settings;
//! - `tags`: the status tags.

mod tags;

use plugin_kit::{settings, state, text};
use serde::{Deserialize, Serialize};
use shopcase_sdk::views::CaseUpdated;
use shopcase_sdk::{Action, Event, Plugin, PluginError, Subject, Target, shopify};

/// The plugin.
#[derive(Debug)]
pub struct CaseStatusWriteBack;

impl Plugin for CaseStatusWriteBack {
    fn handle(event: &Event) -> Result<Vec<Action>, PluginError> {
        match event.topic.as_str() {
            "corecase/case-updated" => on_case_updated(event),
            _ => Ok(vec![]),
        }
    }
}

shopcase_sdk::export_plugin!(CaseStatusWriteBack);

struct Settings {
    case_types: Vec<String>,
    prefix: String,
    status_tags: bool,
    notes: bool,
    metafield: bool,
    namespace: String,
    key: String,
    customer_note: bool,
}

impl Settings {
    fn read() -> Settings {
        Settings {
            case_types: settings::list("case-types", &[]),
            prefix: tags::prefix(&settings::text("tag-prefix", "case")),
            status_tags: settings::flag("status-tags", true),
            notes: settings::flag("order-notes", true),
            metafield: settings::flag("metafield", true),
            namespace: settings::text("metafield-namespace", "corecase"),
            key: settings::text("metafield-key", "case"),
            customer_note: settings::flag("customer-note-on-escalation", true),
        }
    }
}

/// What was last written for a case (key `written:<case id>`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Written {
    status: String,
    #[serde(default)]
    escalation_level: u8,
}

/// `YYYY-MM-DD` of an RFC 3339 time (its first ten characters).
fn day(t: &str) -> &str {
    t.get(..10).unwrap_or(t)
}

fn on_case_updated(event: &Event) -> Result<Vec<Action>, PluginError> {
    let update = event.case_updated()?;
    let c = &update.case;
    let s = Settings::read();
    if !s.case_types.is_empty() && !s.case_types.iter().any(|t| t == &c.case_type) {
        return Ok(vec![]);
    }
    let Some(status) = update.status() else {
        shopcase_sdk::warn!("case {}: unknown status `{}`", c.number, c.status);
        return Ok(vec![]);
    };
    // Where the outcome shows: the order, or the customer a case is about.
    let target = match (event.resources.order_id, c.subject) {
        (Some(order), _) => Target::Order(order),
        (None, Some(Subject::Customer(id))) if event.resources.customer_id == Some(id) => {
            Target::Customer(id)
        }
        _ => {
            shopcase_sdk::debug!(
                "case {}: no order or customer to write the status to",
                c.number
            );
            return Ok(vec![]);
        }
    };
    let kv_key = format!("written:{}", c.id);
    let before: Option<Written> = state::get_json(&kv_key)?;
    let status_changed = before.as_ref().is_none_or(|w| w.status != c.status);
    let escalated = c.escalation_level > before.as_ref().map_or(0, |w| w.escalation_level);
    if !status_changed && !escalated {
        return Ok(vec![]);
    }

    let mut actions: Vec<Action> = Vec::new();
    if status_changed {
        if s.status_tags {
            actions.push(
                shopify::tags_remove(target, tags::other_tags(&s.prefix, &c.case_type, status))
                    .into(),
            );
            actions.push(
                shopify::tags_add(target, [tags::tag(&s.prefix, &c.case_type, status)]).into(),
            );
        }
        if s.notes {
            actions.push(shopify::note_append(target, note_line(&update)).into());
        }
    }
    if s.metafield {
        actions.push(
            shopify::set_metafield(target, &s.namespace, &s.key, "json", metafield(&update)).into(),
        );
    }
    if escalated
        && s.customer_note
        && let Some(customer) = event.resources.customer_id
    {
        actions.push(
            shopify::note_append(
                Target::Customer(customer),
                text::clip(
                    &format!(
                        "Escalation: Core Case {} ({}) at level {}, priority {} on {}.",
                        c.number,
                        c.case_type,
                        c.escalation_level,
                        c.priority,
                        day(&c.updated_at)
                    ),
                    1000,
                ),
            )
            .into(),
        );
    }
    state::set_json(
        &kv_key,
        &Written {
            status: c.status.clone(),
            escalation_level: c.escalation_level,
        },
        Some(state::days(120)),
    )?;
    shopcase_sdk::info!(
        "case {} ({}): {} written back",
        c.number,
        c.case_type,
        c.status
    );
    Ok(actions)
}

/// `Core Case CASE-000042 (fraud-investigation): resolved (order-released)
/// on 2026-11-26.`
fn note_line(u: &CaseUpdated) -> String {
    let c = &u.case;
    let outcome = c
        .resolution
        .as_ref()
        .filter(|r| !r.code.is_empty())
        .map(|r| format!(" ({})", r.code))
        .unwrap_or_default();
    text::clip(
        &format!(
            "Core Case {} ({}): {}{outcome} on {}.",
            c.number,
            c.case_type,
            c.status,
            day(&c.updated_at)
        ),
        1000,
    )
}

fn metafield(u: &CaseUpdated) -> String {
    let c = &u.case;
    serde_json::json!({
        "id": c.id,
        "number": c.number,
        "type": c.case_type,
        "status": c.status,
        "priority": c.priority,
        "escalation_level": c.escalation_level,
        "resolution": c.resolution.as_ref().map(|r| &r.code),
        "link": c.link,
        "updated_at": c.updated_at,
    })
    .to_string()
}
