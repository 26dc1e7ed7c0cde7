//! `refund-dispute`: one case per chargeback or inquiry, due before the
//! evidence deadline, with an evidence task, a reminder when the deadline
//! is near, and the outcome recorded when Shopify reports it.

use plugin_kit::dossier::{Markdown, history_section, order_details_section};
use plugin_kit::facts::{order_ref_attributes, with_attributes};
use plugin_kit::{lifecycle, order, settings, state, text};
use serde::{Deserialize, Serialize};
use shopcase_sdk::views::Dispute;
use shopcase_sdk::{
    Action, Attribute, CaseKey, CaseStatus, Comment, CreateTask, Document, Event, FollowUp,
    OpenCase, OrderDetails, PluginError, Priority, Timestamp, UpdateCase, host,
};

use crate::words;

/// The case type.
pub const CASE_TYPE: &str = "refund-dispute";

/// The timer set before the evidence deadline.
pub const REMINDER_TIMER: &str = "evidence-reminder";

struct Settings {
    owner_group: String,
    buffer_hours: i64,
    reminder_hours: i64,
    critical_cents: i64,
}

impl Settings {
    fn read() -> Settings {
        Settings {
            owner_group: text::clip(
                &settings::text("disputes-owner-group", "disputes-team"),
                128,
            ),
            buffer_hours: settings::int("evidence-buffer-hours", 48, 0, 336),
            reminder_hours: settings::int("evidence-reminder-hours", 24, 1, 336),
            critical_cents: settings::cents("critical-dispute-amount", 1000.0),
        }
    }
}

/// What the plugin remembers about a dispute (key `dispute:<id>`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct DisputeState {
    /// The last status seen, e.g. `needs_response`.
    status: String,
    #[serde(default)]
    evidence_sent: bool,
    #[serde(default)]
    deadline: Option<String>,
}

impl DisputeState {
    fn key(id: u64) -> String {
        format!("dispute:{id}")
    }
    fn load(id: u64) -> Result<Option<DisputeState>, PluginError> {
        state::get_json(&DisputeState::key(id))
    }
    fn save(&self, id: u64) -> Result<(), PluginError> {
        state::set_json(&DisputeState::key(id), self, Some(state::days(365)))
    }
}

/// What to gather, by the dispute's reason.
fn evidence_guidance(reason: &str) -> &'static str {
    match reason {
        "fraudulent" | "unrecognized" => {
            "Proof the cardholder made or authorised the purchase: AVS and CVV results, the IP address and device, earlier undisputed orders of the same customer, delivery confirmation to the billing address, customer communication."
        }
        "product_not_received" => {
            "The tracking number and the carrier's delivery confirmation (signature or photo, delivery address), the shipping address of the order, and any communication with the customer about the delivery."
        }
        "product_unacceptable" | "not_as_described" => {
            "The product description and photos as sold, the return and refund policy, customer communication, and whether a return, replacement or refund was offered."
        }
        "duplicate" => {
            "Proof that the charges are for different orders, or that the duplicate was refunded."
        }
        "subscription_canceled" => {
            "The cancellation policy as shown at checkout, and proof the customer did not cancel before the charge."
        }
        "credit_not_processed" => {
            "The refund policy, and proof a refund was issued or why none is due."
        }
        _ => {
            "The order and its payment, delivery confirmation, customer communication, and the store's policies."
        }
    }
}

/// The resolution of a decided dispute.
fn outcome(status: &str) -> (&'static str, &'static str) {
    match status {
        "won" => (
            "dispute-won",
            "The dispute was decided in the store's favour.",
        ),
        "lost" => (
            "dispute-lost",
            "The dispute was decided in the customer's favour.",
        ),
        "accepted" => ("dispute-accepted", "The store accepted the dispute."),
        _ => ("dispute-closed", "The dispute is closed."),
    }
}

fn kind_label(d: &Dispute) -> &'static str {
    if d.is_chargeback() {
        "Chargeback"
    } else {
        "Inquiry"
    }
}

/// When the case is due: `buffer` hours before the evidence deadline, but
/// never before now (then the deadline itself, or an hour from now).
fn due(deadline: Option<Timestamp>, now: Timestamp, buffer: i64) -> Timestamp {
    match deadline {
        Some(dl) => {
            let buffered = dl.plus_hours(-buffer);
            if buffered > now {
                buffered
            } else if dl > now {
                dl
            } else {
                now.plus_hours(1)
            }
        }
        None => now.plus_hours(72),
    }
}

fn case_for(
    event: &Event,
    d: &Dispute,
    key: &CaseKey,
    s: &Settings,
    due: Timestamp,
    details: Option<&OrderDetails>,
) -> OpenCase {
    let amount = d.amount_cents().unwrap_or(0);
    let priority = if amount >= s.critical_cents && s.critical_cents > 0 {
        Priority::Critical
    } else if d.is_chargeback() {
        Priority::High
    } else {
        Priority::Medium
    };
    let order = match (details, event.resources.order_id) {
        (Some(o), _) => format!("order {}", o.name),
        (None, Some(id)) => format!("order {id}"),
        (None, None) => "an unknown order".to_owned(),
    };
    let title = format!(
        "{} {} {} on {order}: {}",
        kind_label(d),
        d.amount,
        d.currency,
        words(&d.reason)
    );
    let summary = format!(
        "The customer's bank opened a {} for {} {} on {order} (reason: {}{}). Status: {}.\n\nEvidence is due by {}. Gather: {}\n\nSubmit the evidence in Shopify (Orders → Chargebacks); Shopify reports the outcome, which resolves this case.",
        kind_label(d).to_lowercase(),
        d.amount,
        d.currency,
        words(&d.reason),
        d.network_reason_code
            .as_deref()
            .map(|c| format!(", network code {c}"))
            .unwrap_or_default(),
        words(&d.status),
        d.evidence_due_by
            .as_deref()
            .unwrap_or("(no deadline given)"),
        evidence_guidance(&d.reason)
    );
    let mut attrs = order_ref_attributes(
        &event.shop,
        event.resources.order_id,
        order::customer_id(event, details),
    );
    if let Some(o) = details {
        attrs.extend(order::attributes(o));
    }
    attrs.extend([
        Attribute::new("disputeId", d.id.to_string()),
        Attribute::new("disputeType", &d.kind),
        Attribute::new("disputeReason", &d.reason),
        Attribute::new("disputeStatus", &d.status),
        Attribute::new("disputedAmount", &d.amount),
        Attribute::new("currency", &d.currency),
    ]);
    if let Some(code) = &d.network_reason_code {
        attrs.push(Attribute::new("networkReasonCode", code));
    }
    if let Some(dl) = &d.evidence_due_by {
        attrs.push(Attribute::new("evidenceDueBy", dl));
    }
    with_attributes(
        OpenCase::new(key.clone(), text::clip(&title, 200))
            .summary(text::clip(&summary, 4000))
            .priority(priority)
            .owner_group(s.owner_group.clone())
            .due(due),
        attrs,
    )
}

fn dossier(
    event: &Event,
    d: &Dispute,
    order: Option<&OrderDetails>,
    history: Option<&shopcase_sdk::CustomerSummary>,
) -> Document {
    let mut md = Markdown::new(&format!("{} {}", kind_label(d), d.id));
    md.field("Dispute id", &d.id.to_string());
    md.field("Type", &d.kind);
    md.field(
        "Order id",
        &event
            .resources
            .order_id
            .map(|i| i.to_string())
            .unwrap_or_default(),
    );
    md.field("Amount", &format!("{} {}", d.amount, d.currency));
    md.field("Reason", &words(&d.reason));
    md.field(
        "Network reason code",
        d.network_reason_code.as_deref().unwrap_or(""),
    );
    md.field("Status", &words(&d.status));
    md.field("Opened by the customer", &d.initiated_at);
    md.field(
        "Evidence due by",
        d.evidence_due_by.as_deref().unwrap_or(""),
    );
    md.heading("Evidence to gather");
    md.para(evidence_guidance(&d.reason));
    if let Some(o) = order {
        order_details_section(&mut md, o);
    }
    if let Some(h) = history {
        history_section(&mut md, h, event.resources.order_id);
    }
    Document::markdown(
        format!("dispute-{}.md", d.id),
        format!(
            "{} {}: facts, deadline and the evidence to gather",
            kind_label(d),
            d.id
        ),
        md.finish(),
    )
}

/// `disputes/create` and `disputes/update`.
pub(crate) fn on_dispute(event: &Event) -> Result<Vec<Action>, PluginError> {
    let d = event.dispute()?;
    let id = event.dispute_id()?;
    let s = Settings::read();
    let now = event.triggered_at()?;
    let key = event.dispute_key(CASE_TYPE)?;
    let deadline = d
        .evidence_due_by
        .as_deref()
        .and_then(|t| Timestamp::parse(t).ok());
    let due = due(deadline, now, s.buffer_hours);

    let Some(mut st) = DisputeState::load(id)? else {
        return open(event, &d, id, &key, &s, now, deadline, due);
    };
    let mut actions: Vec<Action> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if d.evidence_sent_on.is_some() && !st.evidence_sent {
        notes.push(format!(
            "Evidence was submitted on {}.",
            d.evidence_sent_on.as_deref().unwrap_or_default()
        ));
        st.evidence_sent = true;
    }
    let status_changed = d.status != st.status;
    if status_changed {
        notes.push(format!(
            "Shopify reports the {} is now {} (was {}).",
            kind_label(&d).to_lowercase(),
            words(&d.status),
            words(&st.status)
        ));
    }
    let deadline_changed = d.evidence_due_by != st.deadline;
    if notes.is_empty() && !deadline_changed {
        return Ok(vec![]);
    }
    // Re-sending the case updates its status attributes and due date (the
    // host keeps the title, and the order attributes set when it opened).
    actions.push(case_for(event, &d, &key, &s, due, None).into());
    if !notes.is_empty() {
        actions.push(Comment::internal(key.clone(), notes.join(" ")).into());
    }
    if status_changed
        && !d.is_open()
        && let Some(case) = host::linked_case(&key)?
    {
        let (code, note) = outcome(&d.status);
        actions.extend(lifecycle::resolve(&key, case.status, code, note));
    }
    if deadline_changed && d.is_open() {
        actions.extend(reminder(deadline, now, &s, id));
    }
    st.status = d.status.clone();
    st.deadline = d.evidence_due_by.clone();
    st.save(id)?;
    shopcase_sdk::info!("dispute {id}: {}", d.status);
    Ok(actions)
}

#[allow(
    clippy::too_many_arguments,
    reason = "one call site, all distinct inputs"
)]
fn open(
    event: &Event,
    d: &Dispute,
    id: u64,
    key: &CaseKey,
    s: &Settings,
    now: Timestamp,
    deadline: Option<Timestamp>,
    due: Timestamp,
) -> Result<Vec<Action>, PluginError> {
    // The payload names the order by id only: what was bought, paid and
    // shipped, and who bought it, come from the host's look-ups.
    let details = order::lookup(event)?;
    let history = order::history(event, details.as_ref())?;
    let mut case = case_for(event, d, key, s, due, details.as_ref());
    // What was bought and who bought it, for the analyst at a glance.
    let context: Vec<String> = details
        .as_ref()
        .map(order::items_line)
        .into_iter()
        .chain(history.as_ref().map(order::history_line))
        .collect();
    if !context.is_empty() {
        case.summary = text::clip(&format!("{}\n\n{}", case.summary, context.join("\n")), 4000);
    }
    let case = case.document(dossier(event, d, details.as_ref(), history.as_ref()));
    let mut actions: Vec<Action> = vec![case.into()];
    if d.is_open() {
        actions.push(
            CreateTask::new(
                key.clone(),
                text::clip(
                    &format!(
                        "Gather and submit evidence for {} {id}",
                        kind_label(d).to_lowercase()
                    ),
                    200,
                ),
                s.owner_group.clone(),
            )
            .description(format!(
                "{} Submit it in Shopify before {}.",
                evidence_guidance(&d.reason),
                d.evidence_due_by.as_deref().unwrap_or("the deadline")
            ))
            .due(due)
            .into(),
        );
        actions.extend(reminder(deadline, now, s, id));
    } else {
        // Seen for the first time already decided (e.g. the plugin was
        // enabled late): record it and close.
        let (code, note) = outcome(&d.status);
        actions.extend(lifecycle::resolve(key, CaseStatus::New, code, note));
    }
    DisputeState {
        status: d.status.clone(),
        evidence_sent: d.evidence_sent_on.is_some(),
        deadline: d.evidence_due_by.clone(),
    }
    .save(id)?;
    shopcase_sdk::info!(
        "dispute {id}: case opened ({} {} {})",
        d.kind,
        d.amount,
        d.currency
    );
    Ok(actions)
}

/// The reminder timer `reminder_hours` before the deadline, if that is
/// still ahead.
fn reminder(deadline: Option<Timestamp>, now: Timestamp, s: &Settings, id: u64) -> Option<Action> {
    let at = deadline?.plus_hours(-s.reminder_hours);
    (at > now).then(|| {
        FollowUp::at(REMINDER_TIMER, at)
            .data(&serde_json::json!({ "dispute_id": id }))
            .into()
    })
}

/// `timer/fired`: the evidence deadline is near.
pub(crate) fn on_timer(event: &Event) -> Result<Vec<Action>, PluginError> {
    let timer = event.timer_fired()?;
    if timer.name != REMINDER_TIMER {
        return Ok(vec![]);
    }
    let id = event.dispute_id()?;
    let Some(st) = DisputeState::load(id)? else {
        return Ok(vec![]);
    };
    if st.status != "needs_response" || st.evidence_sent {
        return Ok(vec![]);
    }
    let key = event.dispute_key(CASE_TYPE)?;
    let Some(case) = host::linked_case(&key)? else {
        return Ok(vec![]);
    };
    if !case.status.is_open() {
        return Ok(vec![]);
    }
    let deadline = st.deadline.as_deref().unwrap_or("soon");
    shopcase_sdk::info!("dispute {id}: evidence due {deadline}, still no response");
    Ok(vec![
        UpdateCase::new(key.clone())
            .priority(Priority::Critical)
            .reason("evidence deadline near")
            .into(),
        Comment::internal(
            key,
            format!("Evidence is due by {deadline} and the dispute still needs a response."),
        )
        .into(),
    ])
}
