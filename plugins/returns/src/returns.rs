//! `return-request`: one case per return request, and the analyst's
//! decision carried out in Shopify.
//!
//! | decision | in Shopify | the case |
//! |---|---|---|
//! | `approve` | return approved (customer notified per `notify-customer`) | resolved `return-approved` |
//! | `decline` | return declined with `decline-reason` (final-sale, return-period-ended, other) and `decline-note` | resolved `return-declined` |

use plugin_kit::decision::{attribute, decision};
use plugin_kit::dossier::{Markdown, history_section, order_details_section};
use plugin_kit::facts::{order_ref_attributes, with_attributes};
use plugin_kit::{lifecycle, order, settings, state, text};
use serde::{Deserialize, Serialize};
use shopcase_sdk::views::{CaseUpdated, Return};
use shopcase_sdk::{
    Action, Attribute, Comment, CustomerSummary, DeclineReason, Document, Event, OpenCase,
    OrderDetails, PluginError, Priority, host, shopify,
};

use crate::words;

/// The case type.
pub const CASE_TYPE: &str = "return-request";

struct Settings {
    owner_group: String,
    sla_hours: i64,
    high_reasons: Vec<String>,
    notify: bool,
    decline_note: String,
    decision_attribute: String,
}

impl Settings {
    fn read() -> Settings {
        Settings {
            owner_group: text::clip(&settings::text("returns-owner-group", "returns-team"), 128),
            sla_hours: settings::int("return-sla-hours", 48, 1, 720),
            high_reasons: settings::list(
                "high-priority-reasons",
                &["defective", "wrong_item", "not_as_described"],
            ),
            notify: settings::flag("notify-customer", true),
            decline_note: settings::text(
                "default-decline-note",
                "Your return request could not be accepted. Please contact us if you have any questions.",
            ),
            decision_attribute: settings::text("decision-attribute", "decision"),
        }
    }
}

/// What the plugin remembers about a return (key `return:<id>`).
#[derive(Debug, Default, Serialize, Deserialize)]
struct ReturnState {
    #[serde(default)]
    opened: bool,
    /// How it was decided: `approve`/`decline` (by the case), or
    /// `approved-in-shopify`, `declined-in-shopify`, `cancelled-in-shopify`.
    #[serde(default)]
    decided: Option<String>,
}

impl ReturnState {
    fn key(id: u64) -> String {
        format!("return:{id}")
    }
    fn load(id: u64) -> Result<ReturnState, PluginError> {
        Ok(state::get_json(&ReturnState::key(id))?.unwrap_or_default())
    }
    fn save(&self, id: u64) -> Result<(), PluginError> {
        state::set_json(&ReturnState::key(id), self, Some(state::days(365)))
    }
}

/// `returns/request`.
pub(crate) fn on_request(event: &Event) -> Result<Vec<Action>, PluginError> {
    let r = event.return_request()?;
    let return_id = event.return_id()?;
    let mut st = ReturnState::load(return_id)?;
    if st.opened {
        return Ok(vec![]);
    }
    let s = Settings::read();
    let now = event.triggered_at()?;
    // The payload names the order by id only: its lines, totals and
    // customer come from the host's order look-up.
    let order = order::lookup(event)?;
    let history = order::history(event, order.as_ref())?;

    let reasons = r.reasons();
    let high = reasons
        .iter()
        .any(|x| s.high_reasons.iter().any(|h| h.eq_ignore_ascii_case(x)));
    let name = if r.name.is_empty() {
        format!("return {return_id}")
    } else {
        r.name.clone()
    };
    let reason_words: Vec<String> = reasons.iter().map(|x| words(x)).collect();
    let title = format!(
        "Return request {name}: {} item(s), {}",
        r.quantity(),
        if reason_words.is_empty() {
            "no reason given".to_owned()
        } else {
            reason_words.join(", ")
        }
    );
    let mut summary = format!(
        "The customer asks to return from order {}:\n",
        order_label(event, order.as_ref())
    );
    for line in lines(&r, order.as_ref()) {
        summary.push_str(&format!("- {line}\n"));
    }
    if let Some(h) = &history {
        summary.push_str(&format!("\n{}\n", order::history_line(h)));
    }
    summary.push_str(&format!(
        "\nRecord the decision in the case attribute `{}`: `approve` approves the return in Shopify; `decline` declines it (optional attributes `decline-reason`: final-sale, return-period-ended or other; `decline-note`: shown to the customer).",
        s.decision_attribute
    ));

    let mut attrs = order_ref_attributes(
        &event.shop,
        event.resources.order_id,
        order::customer_id(event, order.as_ref()),
    );
    if let Some(o) = &order {
        attrs.extend(order::attributes(o));
    }
    attrs.extend([
        Attribute::new("returnId", return_id.to_string()),
        Attribute::new("returnName", &name),
        Attribute::new("returnStatus", &r.status),
        Attribute::new("returnQuantity", r.quantity().to_string()),
        Attribute::new("returnReasons", reasons.join(",")),
    ]);
    let case = with_attributes(
        OpenCase::new(event.return_key(CASE_TYPE)?, text::clip(&title, 200))
            .summary(text::clip(&summary, 4000))
            .priority(if high {
                Priority::High
            } else {
                Priority::Medium
            })
            .owner_group(s.owner_group.clone())
            .due(now.plus_hours(s.sla_hours)),
        attrs,
    )
    .document(dossier(event, &r, &name, order.as_ref(), history.as_ref()));
    st.opened = true;
    st.save(return_id)?;
    shopcase_sdk::info!("return {name}: case opened ({})", reasons.join(", "));
    Ok(vec![case.into()])
}

/// `#2020 (5900000102020, 1128.40 EUR, PAID, FULFILLED)` with the order
/// look-up's answer, else the order's id.
fn order_label(event: &Event, order: Option<&OrderDetails>) -> String {
    match order {
        Some(o) => format!(
            "{} ({}, {} {}, {}, {})",
            o.name,
            o.id,
            o.total.amount,
            o.total.currency,
            o.financial_status.to_lowercase(),
            o.fulfillment_status.to_lowercase()
        ),
        None => event
            .resources
            .order_id
            .map_or_else(|| "(unknown)".to_owned(), |id| id.to_string()),
    }
}

/// What a returned line is: the order's line by title, SKU and price when
/// the order look-up knows it, else the payload's name or id.
fn item_label(l: &shopcase_sdk::views::ReturnLineItem, order: Option<&OrderDetails>) -> String {
    let line = l
        .fulfillment_line_item
        .as_ref()
        .and_then(|f| f.line_item.as_ref());
    match line {
        Some(li) => order
            .and_then(|o| order::line_label(o, li.id))
            .unwrap_or_else(|| {
                if li.name.is_empty() {
                    format!("line item {}", li.id)
                } else {
                    li.name.clone()
                }
            }),
        None => format!("return line {}", l.id),
    }
}

/// One line per returned line: quantity, line item, reason, notes.
fn lines(r: &Return, order: Option<&OrderDetails>) -> Vec<String> {
    r.return_line_items
        .iter()
        .map(|l| {
            let item = item_label(l, order);
            let mut s = format!("{} × {item}: {}", l.quantity, words(&l.return_reason));
            if let Some(n) = l
                .return_reason_note
                .as_deref()
                .filter(|n| !n.trim().is_empty())
            {
                s.push_str(&format!(" ({})", text::single_line(n)));
            }
            if let Some(n) = l.customer_note.as_deref().filter(|n| !n.trim().is_empty()) {
                s.push_str(&format!(" — customer: \"{}\"", text::single_line(n)));
            }
            s
        })
        .collect()
}

fn dossier(
    event: &Event,
    r: &Return,
    name: &str,
    order: Option<&OrderDetails>,
    history: Option<&CustomerSummary>,
) -> Document {
    let mut md = Markdown::new(&format!("Return request {name}"));
    md.field("Return id", &r.id.to_string());
    md.field("Status", &r.status);
    md.field("Order", &order_label(event, order));
    md.field("Items", &r.quantity().to_string());
    md.heading("Lines");
    let rows: Vec<Vec<String>> = r
        .return_line_items
        .iter()
        .map(|l| {
            let li = l
                .fulfillment_line_item
                .as_ref()
                .and_then(|f| f.line_item.as_ref());
            let ordered =
                li.and_then(|li| order.and_then(|o| o.line_items.iter().find(|x| x.id == li.id)));
            vec![
                li.map(|li| li.id.to_string()).unwrap_or_default(),
                item_label(l, order),
                ordered.and_then(|x| x.sku.clone()).unwrap_or_default(),
                l.quantity.to_string(),
                ordered
                    .map(|x| format!("{} {}", x.unit_price.amount, x.unit_price.currency))
                    .unwrap_or_default(),
                words(&l.return_reason),
                l.return_reason_note.clone().unwrap_or_default(),
                l.customer_note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    md.table(
        &[
            "line item",
            "item",
            "sku",
            "qty",
            "unit price",
            "reason",
            "reason note",
            "customer note",
        ],
        &rows,
    );
    if let Some(o) = order {
        order_details_section(&mut md, o);
    }
    if let Some(h) = history {
        history_section(&mut md, h, event.resources.order_id);
    }
    Document::markdown(
        format!("return-{}.md", text::file_stem(name, &r.id.to_string())),
        format!("Return request {name}: lines, reasons and customer notes"),
        md.finish(),
    )
}

/// How a return was decided in Shopify directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Approved,
    Declined,
    Cancelled,
}

/// `returns/approve`, `returns/decline`, `returns/cancel`: the return was
/// decided (or withdrawn) in Shopify, not through the case, so the case
/// follows. The echo of the plugin's own decision is ignored.
pub(crate) fn on_decided_in_shopify(
    event: &Event,
    outcome: Outcome,
) -> Result<Vec<Action>, PluginError> {
    let return_id = event.return_id()?;
    let mut st = ReturnState::load(return_id)?;
    if !st.opened || st.decided.is_some() {
        return Ok(vec![]);
    }
    let r = event.return_request()?;
    let key = event.return_key(CASE_TYPE)?;
    let Some(case) = host::linked_case(&key)? else {
        // The case is not created yet; its analyst will see the return's
        // status in Shopify.
        shopcase_sdk::warn!("return {return_id} decided in Shopify before its case was linked");
        return Ok(vec![]);
    };
    let (label, code) = match outcome {
        Outcome::Approved => ("approved-in-shopify", "return-approved"),
        Outcome::Declined => ("declined-in-shopify", "return-declined"),
        Outcome::Cancelled => ("cancelled-in-shopify", "return-cancelled"),
    };
    st.decided = Some(label.to_owned());
    st.save(return_id)?;
    let actions = match outcome {
        Outcome::Approved => lifecycle::resolve(
            &key,
            case.status,
            code,
            "The return was approved in Shopify directly.",
        ),
        Outcome::Declined => {
            let why = r.decline.as_ref().map_or_else(String::new, |d| {
                format!(
                    " Reason: {}{}.",
                    words(&d.reason),
                    d.note
                        .as_deref()
                        .map(|n| format!(" — \"{}\"", text::single_line(n)))
                        .unwrap_or_default()
                )
            });
            lifecycle::resolve(
                &key,
                case.status,
                code,
                &text::clip(
                    &format!("The return was declined in Shopify directly.{why}"),
                    4000,
                ),
            )
        }
        Outcome::Cancelled => {
            let mut a: Vec<Action> = vec![
                Comment::internal(
                    key.clone(),
                    "The customer cancelled the return request in Shopify.",
                )
                .into(),
            ];
            a.extend(lifecycle::cancel(
                &key,
                case.status,
                code,
                "The return request was withdrawn.",
            ));
            a
        }
    };
    shopcase_sdk::info!("return {return_id}: {label}");
    Ok(actions)
}

fn decline_reason(s: Option<&str>) -> DeclineReason {
    match s.map(text::normalise).as_deref() {
        Some("final-sale") => DeclineReason::FinalSale,
        Some("return-period-ended") => DeclineReason::ReturnPeriodEnded,
        _ => DeclineReason::Other,
    }
}

/// `corecase/case-updated` of a `return-request` case.
pub(crate) fn on_case_updated(
    event: &Event,
    update: &CaseUpdated,
) -> Result<Vec<Action>, PluginError> {
    let (Some(key), Some(status)) = (update.key(), update.status()) else {
        return Ok(vec![]);
    };
    let s = Settings::read();
    let Some(d) = decision(update, &s.decision_attribute) else {
        return Ok(vec![]);
    };
    let return_id = event.return_id()?;
    let mut st = ReturnState::load(return_id)?;
    if st.decided.is_some() {
        return Ok(vec![]);
    }
    let number = &update.case.number;
    let mut actions: Vec<Action> = Vec::new();
    match d.as_str() {
        "approve" | "approved" => {
            actions.push(
                shopify::approve_return(return_id)
                    .notify_customer(s.notify)
                    .into(),
            );
            actions.extend(lifecycle::resolve(
                &key,
                status,
                "return-approved",
                "The return was approved in Shopify on the analyst's decision.",
            ));
        }
        "decline" | "declined" => {
            let note = attribute(update, "decline-note").unwrap_or(&s.decline_note);
            actions.push(
                shopify::decline_return(
                    return_id,
                    decline_reason(attribute(update, "decline-reason")),
                    text::clip(note, 500),
                )
                .notify_customer(s.notify)
                .into(),
            );
            actions.extend(lifecycle::resolve(
                &key,
                status,
                "return-declined",
                "The return was declined in Shopify on the analyst's decision.",
            ));
        }
        other => {
            // Explain an unknown value once per value.
            let seen = format!("unknown:{}:{}", update.case.id, text::fingerprint([other]));
            if !state::first_time(&seen, Some(state::days(30)))? {
                return Ok(vec![]);
            }
            return Ok(vec![
                Comment::internal(
                    key,
                    format!(
                        "Unknown decision `{}`: use `approve` or `decline` in the attribute `{}`.",
                        text::clip(other, 64),
                        s.decision_attribute
                    ),
                )
                .into(),
            ]);
        }
    }
    st.opened = true;
    st.decided = Some(d.clone());
    st.save(return_id)?;
    shopcase_sdk::info!("case {number}: return {return_id}: decision `{d}` carried out");
    Ok(actions)
}
