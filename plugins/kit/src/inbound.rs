//! Reports from a helpdesk or a carrier-tracking service: the payload of
//! `helpdesk/complaint`, `helpdesk/not-received` and `carrier/exception`
//! (docs/events.md, "Inbound reports"), as the host normalised it.
//!
//! What a plugin sees of it follows its data grants: `subject` and `text`
//! (what the customer wrote) need `customer-notes`, `customer_email`
//! needs `customer-contact`; without them the fields are absent.

use serde::Deserialize;
use shopcase_sdk::{Event, PluginError};

/// A customer complaint from a helpdesk.
pub const TOPIC_COMPLAINT: &str = "helpdesk/complaint";
/// "Delivered but not received", from a helpdesk.
pub const TOPIC_NOT_RECEIVED: &str = "helpdesk/not-received";
/// A carrier's exception on a parcel.
pub const TOPIC_CARRIER_EXCEPTION: &str = "carrier/exception";

/// One report.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Report {
    /// The configured source that sent it (e.g. `helpdesk`).
    pub source: String,
    /// The source's id of the report.
    pub id: String,
    /// `complaint`, `not-received`, `carrier-exception`.
    pub kind: String,
    /// RFC 3339.
    pub occurred_at: String,
    pub order_id: u64,
    pub customer_id: Option<u64>,
    /// `email`, `chat`, `phone`, `social`, `web`, `other`.
    pub channel: Option<String>,
    pub ticket_id: Option<String>,
    pub ticket_url: Option<String>,
    /// With `customer-notes`.
    pub subject: Option<String>,
    /// With `customer-notes`.
    pub text: Option<String>,
    /// With `customer-contact`.
    pub customer_email: Option<String>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    /// `delayed`, `failed-attempt`, `lost`, `damaged`,
    /// `returned-to-sender`, `address-problem`, `held-at-customs`, `other`.
    pub exception_code: Option<String>,
    /// The carrier's description.
    pub description: Option<String>,
    /// RFC 3339.
    pub estimated_delivery: Option<String>,
}

impl Report {
    /// The report of an inbound event.
    pub fn of(event: &Event) -> Result<Report, PluginError> {
        serde_json::from_str(&event.payload).map_err(|e| {
            PluginError::new(format!(
                "{} payload is not an inbound report: {e}",
                event.topic
            ))
        })
    }

    /// `ticket 48213 (email)`, `report zd-1`: where it came from, for
    /// people.
    pub fn reference(&self) -> String {
        let what = match &self.ticket_id {
            Some(t) => format!("{} ticket {t}", self.source),
            None => format!("{} report {}", self.source, self.id),
        };
        match &self.channel {
            Some(c) => format!("{what} ({c})"),
            None => what,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimised_report_still_reads() {
        let r: Report = serde_json::from_str(
            r#"{"source":"helpdesk","id":"zd-1","kind":"complaint","occurred_at":"2026-11-26T10:00:00Z","order_id":12,"channel":"email","ticket_id":"48213"}"#,
        )
        .unwrap();
        assert_eq!(r.text, None);
        assert_eq!(r.reference(), "helpdesk ticket 48213 (email)");
        let r = Report {
            source: "tracker".into(),
            id: "t-1".into(),
            ..Report::default()
        };
        assert_eq!(r.reference(), "tracker report t-1");
    }
}
