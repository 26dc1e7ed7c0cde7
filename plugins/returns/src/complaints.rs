//! `complaint`: one case per order on which a complaint is recorded, by a
//! staff tag, a note attribute or a helpdesk report (`helpdesk/complaint`,
//! `helpdesk/not-received`); "delivered but not received" complaints are
//! recognised (the convention's tag `not-received` or an older spelling,
//! a helpdesk's not-received claim, or the words of the complaint) and
//! come first. A helpdesk report about an order whose complaint case is
//! already open is added to it as a comment.

use plugin_kit::dossier::{Markdown, history_section, order_details_section, order_dossier};
use plugin_kit::facts::{order_attributes, order_ref_attributes, with_attributes};
use plugin_kit::inbound::{Report, TOPIC_NOT_RECEIVED};
use plugin_kit::{order, settings, state, tags, text};
use shopcase_sdk::views::Order;
use shopcase_sdk::{Action, Comment, Document, Event, OpenCase, PluginError, Priority, host};

/// The case type.
pub const CASE_TYPE: &str = "complaint";

struct Settings {
    owner_group: String,
    sla_hours: i64,
    tags: Vec<String>,
    attributes: Vec<String>,
    not_received_tags: Vec<String>,
    not_received_phrases: Vec<String>,
}

impl Settings {
    fn read() -> Settings {
        Settings {
            owner_group: text::clip(
                &settings::text("complaints-owner-group", "customer-care"),
                128,
            ),
            sla_hours: settings::int("complaint-sla-hours", 48, 1, 720),
            tags: settings::list("complaint-tags", &[tags::COMPLAINT]),
            attributes: settings::list("complaint-attributes", &["complaint", "complaint_reason"]),
            not_received_tags: settings::list("not-received-tags", tags::NOT_RECEIVED_TAGS),
            not_received_phrases: settings::list(
                "not-received-phrases",
                &[
                    "not received",
                    "never received",
                    "never arrived",
                    "not arrived",
                    "did not receive",
                    "didn't receive",
                    "not delivered",
                ],
            ),
        }
    }
}

/// A complaint recorded on an order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Complaint {
    /// "delivered but not received".
    pub(crate) not_received: bool,
    /// Where it was recorded, e.g. ``tag `complaint` ``.
    pub(crate) source: String,
    /// What the customer said, if recorded (note attribute).
    pub(crate) text: String,
}

fn find(order: &Order, s: &Settings) -> Option<Complaint> {
    let tags = order.tags();
    let nr_tag = tags
        .iter()
        .find(|t| s.not_received_tags.iter().any(|x| text::same_tag(x, t)));
    let tag = tags
        .iter()
        .find(|t| s.tags.iter().any(|x| text::same_tag(x, t)));
    let attr = s.attributes.iter().find_map(|name| {
        order
            .note_attribute(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| (name, v))
    });
    if nr_tag.is_none() && tag.is_none() && attr.is_none() {
        return None;
    }
    let said = attr.map(|(_, v)| text::single_line(v)).unwrap_or_default();
    let lower = said.to_lowercase();
    let phrase = s
        .not_received_phrases
        .iter()
        .any(|p| !p.is_empty() && lower.contains(&p.to_lowercase()));
    let mut sources: Vec<String> = Vec::new();
    if let Some(t) = nr_tag.or(tag) {
        sources.push(format!("tag `{t}`"));
    }
    if let Some((name, _)) = attr {
        sources.push(format!("note attribute `{name}`"));
    }
    Some(Complaint {
        not_received: nr_tag.is_some() || phrase,
        source: sources.join(", "),
        text: said,
    })
}

/// What the order's fulfilments say about delivery.
fn delivery_findings(order: &Order) -> Vec<String> {
    let mut out: Vec<String> = order
        .fulfillments
        .iter()
        .map(|f| {
            format!(
                "Fulfilment {} ({} {}): shipment status {}.",
                f.name,
                f.tracking_company.as_deref().unwrap_or("carrier unknown"),
                f.tracking_number.as_deref().unwrap_or("no tracking number"),
                f.shipment_status.as_deref().unwrap_or("unknown")
            )
        })
        .collect();
    if out.is_empty() {
        out.push("The order has no fulfilment yet.".to_owned());
    } else if !order
        .fulfillments
        .iter()
        .any(|f| f.shipment_status.as_deref() == Some("delivered"))
    {
        out.push("No fulfilment is marked delivered by the carrier.".to_owned());
    }
    out
}

/// `orders/updated`: a complaint recorded on the order opens its case once.
pub(crate) fn on_order(event: &Event) -> Result<Vec<Action>, PluginError> {
    let order = event.order()?;
    if order.test {
        return Ok(vec![]);
    }
    let s = Settings::read();
    let Some(c) = find(&order, &s) else {
        return Ok(vec![]);
    };
    let order_id = event.order_id()?;
    let marker = format!("complaint:{order_id}");
    if !state::first_time(&marker, Some(state::days(365)))? {
        return Ok(vec![]);
    }
    let key = event.order_key(CASE_TYPE)?;
    if host::linked_case(&key)?.is_some() {
        // Opened before this plugin remembered it (e.g. restored data).
        return Ok(vec![]);
    }
    let now = event.triggered_at()?;
    let history = crate::history(event)?;

    let kind = if c.not_received {
        "delivered-not-received"
    } else {
        "general"
    };
    let title = if c.not_received {
        format!("Delivered but not received: {}", order.name)
    } else if c.text.is_empty() {
        format!("Complaint on {}", order.name)
    } else {
        format!("Complaint on {}: {}", order.name, text::clip(&c.text, 120))
    };
    let mut findings = vec![if c.text.is_empty() {
        format!("Complaint recorded by {}.", c.source)
    } else {
        format!("Complaint recorded by {}: \"{}\"", c.source, c.text)
    }];
    findings.extend(delivery_findings(&order));
    let mut summary = String::new();
    for f in &findings {
        summary.push_str(&format!("- {f}\n"));
    }
    summary.push_str(if c.not_received {
        "\nThe customer says the order did not arrive. Check the carrier's proof of delivery, open a trace if needed, and agree a replacement or refund with the customer."
    } else {
        "\nContact the customer, agree a resolution, and record it when resolving the case."
    });
    let case = with_attributes(
        OpenCase::new(key, text::clip(&title, 200))
            .summary(text::clip(&summary, 4000))
            .priority(if c.not_received {
                Priority::High
            } else {
                Priority::Medium
            })
            .owner_group(s.owner_group.clone())
            .due(now.plus_hours(s.sla_hours))
            .attribute("complaintType", kind)
            .attribute("complaintSource", &c.source)
            .attribute("complaintText", text::clip(&c.text, 4096)),
        order_attributes(&event.shop, &order),
    )
    .document(order_dossier(&order, &findings, history.as_ref()));
    shopcase_sdk::info!("order {}: {kind} complaint ({})", order.name, c.source);
    Ok(vec![case.into()])
}

/// `helpdesk/complaint`, `helpdesk/not-received`: a complaint from the
/// helpdesk opens the order's complaint case, or is added to the case
/// already open about the order.
pub(crate) fn on_report(event: &Event) -> Result<Vec<Action>, PluginError> {
    let report = Report::of(event)?;
    if !state::first_time(
        &format!("report:{}:{}", report.source, report.id),
        Some(state::days(365)),
    )? {
        return Ok(vec![]);
    }
    let s = Settings::read();
    let said = report
        .text
        .as_deref()
        .map(text::single_line)
        .unwrap_or_default();
    let lower = said.to_lowercase();
    let not_received = event.topic == TOPIC_NOT_RECEIVED
        || s.not_received_phrases
            .iter()
            .any(|p| !p.is_empty() && lower.contains(&p.to_lowercase()));
    let order_id = event.order_id()?;
    let key = event.order_key(CASE_TYPE)?;
    let source = report.reference();
    let first = state::first_time(&format!("complaint:{order_id}"), Some(state::days(365)))?
        && host::linked_case(&key)?.is_none();
    if !first {
        let what = if not_received {
            "The customer says the order did not arrive"
        } else {
            "Another complaint"
        };
        let mut note = format!("{what} ({source})");
        if !said.is_empty() {
            note.push_str(&format!(": \"{}\"", text::clip(&said, 2000)));
        }
        if let Some(u) = &report.ticket_url {
            note.push_str(&format!("\nTicket: {u}"));
        }
        return Ok(vec![Comment::internal(key, note).into()]);
    }
    let now = event.triggered_at()?;
    // A report names the order by id only: its lines, money and customer
    // come from the host's order look-up.
    let details = order::lookup(event)?;
    let history = order::history(event, details.as_ref())?;
    let kind = if not_received {
        "delivered-not-received"
    } else {
        "general"
    };
    let label = match &details {
        Some(o) => format!("order {}", o.name),
        None => format!("order {order_id}"),
    };
    let title = if not_received {
        format!("Delivered but not received: {label}")
    } else if let Some(subject) = report.subject.as_deref() {
        format!("Complaint on {label}: {}", text::clip(subject, 120))
    } else if said.is_empty() {
        format!("Complaint on {label}")
    } else {
        format!("Complaint on {label}: {}", text::clip(&said, 120))
    };
    let mut summary = if said.is_empty() {
        format!("- Complaint received from {source}.\n")
    } else {
        format!("- Complaint received from {source}: \"{said}\"\n")
    };
    if let Some(u) = &report.ticket_url {
        summary.push_str(&format!("- Ticket: {u}\n"));
    }
    if let (Some(c), Some(t)) = (&report.carrier, &report.tracking_number) {
        summary.push_str(&format!("- Parcel: {c} {t}\n"));
    }
    if let Some(o) = &details {
        summary.push_str(&format!("- {}\n", order::items_line(o)));
    }
    if let Some(h) = &history {
        summary.push_str(&format!("- {}\n", order::history_line(h)));
    }
    summary.push_str(if not_received {
        "\nThe customer says the order did not arrive. Check the carrier's proof of delivery, open a trace if needed, and agree a replacement or refund with the customer."
    } else {
        "\nContact the customer, agree a resolution, and record it when resolving the case."
    });
    let mut md = Markdown::new(&format!("Complaint on {label}"));
    md.field("Received from", &source);
    if let Some(subject) = &report.subject {
        md.field("Subject", &text::single_line(subject));
    }
    if !said.is_empty() {
        md.field("What the customer said", &said);
    }
    if let Some(u) = &report.ticket_url {
        md.field("Ticket", u);
    }
    if let Some(o) = &details {
        order_details_section(&mut md, o);
    }
    if let Some(h) = &history {
        history_section(&mut md, h, Some(order_id));
    }
    let mut attrs = order_ref_attributes(
        &event.shop,
        Some(order_id),
        order::customer_id(event, details.as_ref()),
    );
    if let Some(o) = &details {
        attrs.extend(order::attributes(o));
    }
    let mut case = with_attributes(
        OpenCase::new(key, text::clip(&title, 200))
            .summary(text::clip(&summary, 4000))
            .priority(if not_received {
                Priority::High
            } else {
                Priority::Medium
            })
            .owner_group(s.owner_group.clone())
            .due(now.plus_hours(s.sla_hours))
            .attribute("complaintType", kind)
            .attribute("complaintSource", text::clip(&source, 256))
            .attribute("complaintText", text::clip(&said, 4096)),
        attrs,
    );
    if let Some(t) = &report.ticket_id {
        case = case.attribute("ticketId", t);
    }
    if let Some(u) = &report.ticket_url {
        case = case.attribute("ticketUrl", u);
    }
    case = case.document(Document::markdown(
        format!("order-{order_id}-complaint.md"),
        format!("Complaint on {label} from {}", report.source),
        md.finish(),
    ));
    shopcase_sdk::info!("order {order_id}: {kind} complaint ({source})");
    Ok(vec![case.into()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            owner_group: "cc".into(),
            sla_hours: 48,
            tags: vec!["complaint".into()],
            attributes: vec!["complaint".into()],
            not_received_tags: tags::NOT_RECEIVED_TAGS
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
            not_received_phrases: vec!["never arrived".into()],
        }
    }

    fn order(v: serde_json::Value) -> Order {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn tags_and_attributes_record_complaints() {
        let s = settings();
        assert_eq!(
            find(&order(serde_json::json!({"tags": "vip, gift"})), &s),
            None
        );
        assert_eq!(
            find(
                &order(
                    serde_json::json!({"note_attributes": [{"name": "complaint", "value": "  "}]})
                ),
                &s
            ),
            None,
            "an empty attribute is no complaint"
        );
        let c = find(&order(serde_json::json!({"tags": "VIP, Complaint"})), &s).unwrap();
        assert_eq!(
            (c.not_received, c.source.as_str()),
            (false, "tag `Complaint`")
        );
        let c = find(
            &order(serde_json::json!({"tags": "complaint", "note_attributes": [{"name": "complaint", "value": "The parcel\nNEVER arrived"}]})),
            &s,
        )
        .unwrap();
        assert!(c.not_received);
        assert_eq!(c.text, "The parcel NEVER arrived");
        assert_eq!(c.source, "tag `complaint`, note attribute `complaint`");
        let c = find(
            &order(serde_json::json!({"tags": "complaint-not-received"})),
            &s,
        )
        .unwrap();
        assert!(c.not_received && c.text.is_empty());
        // The convention's tag and the other old spelling mean the same.
        for t in ["not-received", "Delivered-Not-Received"] {
            let c = find(&order(serde_json::json!({ "tags": t })), &s).unwrap();
            assert!(c.not_received, "{t}");
        }
    }

    #[test]
    fn delivery_findings_say_what_the_carrier_reported() {
        let o = order(
            serde_json::json!({"fulfillments": [{"name": "#1.1", "tracking_company": "DHL", "tracking_number": "JD1", "shipment_status": "in_transit"}]}),
        );
        assert_eq!(
            delivery_findings(&o),
            [
                "Fulfilment #1.1 (DHL JD1): shipment status in_transit.",
                "No fulfilment is marked delivered by the carrier."
            ]
        );
        assert_eq!(
            delivery_findings(&order(serde_json::json!({}))),
            ["The order has no fulfilment yet."]
        );
    }
}
