//! The investigation case of an order: opened by its first issue with a task
//! per team, added to by later issues, resolved when every task is done.

use plugin_kit::facts::{order_attributes, order_ref_attributes, with_attributes};
use plugin_kit::{lifecycle, state, text};
use serde::{Deserialize, Serialize};
use shopcase_sdk::views::Order;
use shopcase_sdk::{
    Action, Attribute, CaseKey, Comment, CreateTask, Event, OpenCase, PluginError, Priority,
};

use crate::{CASE_TYPE, Settings};

/// One delivery issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Issue {
    /// `carrier-failure`, `carrier-delayed`, `delivery-attempts`,
    /// `no-progress`, `partially-shipped`, `not-received`.
    pub(crate) code: String,
    pub(crate) finding: String,
}

impl Issue {
    pub(crate) fn new(code: &str, finding: String) -> Issue {
        Issue {
            code: code.to_owned(),
            finding,
        }
    }

    fn priority(&self) -> Priority {
        match self.code.as_str() {
            "carrier-failure" | "not-received" => Priority::High,
            _ => Priority::Medium,
        }
    }

    fn label(&self) -> &str {
        match self.code.as_str() {
            "carrier-failure" => "carrier reports a delivery failure",
            "carrier-delayed" => "carrier reports a delay",
            "delivery-attempts" => "repeated failed delivery attempts",
            "no-progress" => "no delivery past the estimated date",
            "partially-shipped" => "partially shipped for too long",
            "not-received" => "delivered but not received",
            other => other,
        }
    }
}

/// What the plugin knows about the shipment an issue is about.
#[derive(Debug, Clone, Default)]
pub(crate) struct Shipment {
    pub(crate) fulfillment_id: Option<u64>,
    pub(crate) carrier: Option<String>,
    pub(crate) tracking: Option<String>,
}

/// The investigation of an order (key `investigation:<order id>`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Investigation {
    #[serde(default)]
    issues: Vec<Issue>,
    #[serde(default)]
    due: Option<String>,
}

/// The actions for a new issue on an order: open the case with its tasks
/// (first issue) or update it with a comment (later ones); nothing if this
/// issue was reported before.
pub(crate) fn report(
    event: &Event,
    order_name: Option<&str>,
    order: Option<&Order>,
    shipment: &Shipment,
    issue: Issue,
) -> Result<Vec<Action>, PluginError> {
    let order_id = event.order_id()?;
    let kv_key = format!("investigation:{order_id}");
    let mut inv: Investigation = state::get_json(&kv_key)?.unwrap_or_default();
    if inv.issues.iter().any(|i| i.code == issue.code) {
        return Ok(vec![]);
    }
    let s = Settings::read();
    let now = event.triggered_at()?;
    let first = inv.issues.is_empty();
    inv.issues.push(issue.clone());
    let due = inv
        .due
        .get_or_insert_with(|| now.plus_hours(s.sla_hours).to_string())
        .clone();
    let label = order_name
        .filter(|n| !n.is_empty())
        .map_or_else(|| format!("order {order_id}"), str::to_owned);
    let key = event.order_key(CASE_TYPE)?;

    let title = match inv.issues.as_slice() {
        [one] => format!("Delivery investigation {label}: {}", one.label()),
        many => format!("Delivery investigation {label}: {} issues", many.len()),
    };
    let mut summary = format!("Delivery issues with {label}:\n");
    for i in &inv.issues {
        summary.push_str(&format!("- {}\n", i.finding));
    }
    summary.push_str(&format!(
        "\nTasks: {} keeps the customer informed, {} traces the parcel and claims with the carrier, {} checks the shipment and prepares a replacement, {} settles the costs. The case is resolved when every task is done.",
        s.customer_service, s.carrier, s.warehouse, s.finance
    ));
    let priority = inv
        .issues
        .iter()
        .map(Issue::priority)
        .fold(Priority::Low, lifecycle::max);
    let mut attrs = match order {
        Some(o) => order_attributes(&event.shop, o),
        None => order_ref_attributes(&event.shop, Some(order_id), event.resources.customer_id),
    };
    attrs.push(Attribute::new(
        "deliveryIssues",
        inv.issues
            .iter()
            .map(|i| i.code.as_str())
            .collect::<Vec<_>>()
            .join(","),
    ));
    if let Some(id) = shipment.fulfillment_id {
        attrs.push(Attribute::new("fulfillmentId", id.to_string()));
    }
    if let Some(c) = &shipment.carrier {
        attrs.push(Attribute::new("carrier", c));
    }
    if let Some(t) = &shipment.tracking {
        attrs.push(Attribute::new("trackingNumber", t));
    }
    let case = with_attributes(
        OpenCase::new(key.clone(), text::clip(&title, 200))
            .summary(text::clip(&summary, 4000))
            .priority(priority)
            .owner_group(s.owner_group.clone())
            .due(due.clone()),
        attrs,
    );
    let mut actions: Vec<Action> = vec![case.into()];
    if first {
        actions.extend(tasks(&key, &label, shipment, &issue, &s, &due));
    } else {
        actions.push(
            Comment::internal(key, format!("Another delivery issue: {}", issue.finding)).into(),
        );
    }
    state::set_json(&kv_key, &inv, Some(state::days(120)))?;
    shopcase_sdk::info!("{label}: delivery issue {}", issue.code);
    Ok(actions)
}

/// The four tasks of a new investigation.
fn tasks(
    key: &CaseKey,
    label: &str,
    shipment: &Shipment,
    issue: &Issue,
    s: &Settings,
    due: &str,
) -> Vec<Action> {
    let parcel = match (&shipment.carrier, &shipment.tracking) {
        (Some(c), Some(t)) => format!("{c} parcel {t}"),
        (None, Some(t)) => format!("parcel {t}"),
        _ => "the parcel".to_owned(),
    };
    let task = |title: String, team: &str, description: String| -> Action {
        CreateTask::new(key.clone(), text::clip(&title, 200), team)
            .description(text::clip(&description, 4000))
            .due(due)
            .into()
    };
    vec![
        task(
            format!("Update the customer on the delivery of {label}"),
            &s.customer_service,
            format!(
                "{} Tell the customer what happened and what happens next, and record whether they prefer to wait, a replacement or a refund.",
                issue.finding
            ),
        ),
        task(
            format!("Trace {parcel} with the carrier"),
            &s.carrier,
            format!(
                "Open a trace for {parcel} ({label}): where it is, proof of delivery (signature, photo, GPS) if it was delivered, and a claim if it is lost or damaged."
            ),
        ),
        task(
            format!("Check the shipment of {label} and prepare a replacement"),
            &s.warehouse,
            "Confirm what was packed and handed to the carrier; reserve stock for a replacement in case the parcel is lost.".to_owned(),
        ),
        task(
            format!("Settle the costs of the delivery issue on {label}"),
            &s.finance,
            "Decide on the cost of a replacement or refund and file the carrier claim for reimbursement.".to_owned(),
        ),
    ]
}

/// `corecase/case-updated`: every task completed resolves the case.
pub(crate) fn on_case_updated(event: &Event) -> Result<Vec<Action>, PluginError> {
    let update = event.case_updated()?;
    if update.case.case_type != CASE_TYPE {
        return Ok(vec![]);
    }
    let (Some(key), Some(status)) = (update.key(), update.status()) else {
        return Ok(vec![]);
    };
    let work: Vec<_> = update.tasks.iter().filter(|t| t.kind == "task").collect();
    if work.is_empty() || !status.is_open() || work.iter().any(|t| t.status != "completed") {
        return Ok(vec![]);
    }
    if !state::first_time(
        &format!("resolved:{}", update.case.id),
        Some(state::days(180)),
    )? {
        return Ok(vec![]);
    }
    let mut notes = String::from("Every task is done:");
    for t in &work {
        notes.push_str(&format!(
            "\n- {} ({}){}",
            t.title,
            t.team.as_deref().unwrap_or("no team"),
            t.comment
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .map(|c| format!(": {}", text::single_line(c)))
                .unwrap_or_default()
        ));
    }
    shopcase_sdk::info!(
        "case {}: all {} tasks done, resolving",
        update.case.number,
        work.len()
    );
    Ok(lifecycle::resolve(
        &key,
        status,
        "all-tasks-done",
        &text::clip(&notes, 4000),
    ))
}
