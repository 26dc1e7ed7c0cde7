//! Reports from outside Shopify: a helpdesk's "delivered but not
//! received" claim (`helpdesk/not-received`) and a carrier-tracking
//! service's exception (`carrier/exception`), each an issue of the order's
//! investigation like the ones Shopify's events show.

use plugin_kit::inbound::Report;
use shopcase_sdk::{Action, Event, PluginError};

use crate::investigation::{self, Issue, Shipment};

/// The issue a carrier exception code is: delays are delays, everything
/// else (lost, damaged, returned, an address problem, a failed attempt)
/// is a failure.
pub(crate) fn issue_code(exception_code: &str) -> &'static str {
    match exception_code {
        "delayed" | "held-at-customs" => "carrier-delayed",
        _ => "carrier-failure",
    }
}

fn shipment(r: &Report) -> Shipment {
    Shipment {
        fulfillment_id: None,
        carrier: r.carrier.clone(),
        tracking: r.tracking_number.clone(),
    }
}

/// `helpdesk/not-received`: the customer told the helpdesk the parcel never
/// arrived.
pub(crate) fn on_not_received(event: &Event) -> Result<Vec<Action>, PluginError> {
    let r = Report::of(event)?;
    let parcel = match (&r.carrier, &r.tracking_number) {
        (Some(c), Some(t)) => format!(" Parcel: {c} {t}."),
        (None, Some(t)) => format!(" Parcel: {t}."),
        _ => String::new(),
    };
    investigation::report(
        event,
        None,
        None,
        &shipment(&r),
        Issue::new(
            "not-received",
            format!(
                "The customer told the helpdesk the order never arrived ({}).{parcel}",
                r.reference()
            ),
        ),
    )
}

/// `carrier/exception`: the carrier reports a problem with the parcel.
pub(crate) fn on_carrier_exception(event: &Event) -> Result<Vec<Action>, PluginError> {
    let r = Report::of(event)?;
    let code = r.exception_code.as_deref().unwrap_or("other");
    let carrier = r.carrier.as_deref().unwrap_or("The carrier");
    let tracking = r.tracking_number.as_deref().unwrap_or("");
    let mut finding = format!(
        "{carrier} reports `{code}` on parcel {tracking} ({}).",
        r.reference()
    );
    if let Some(d) = &r.description {
        finding.push_str(&format!(" \"{}\"", plugin_kit::text::clip(d, 500)));
    }
    if let Some(eta) = &r.estimated_delivery {
        finding.push_str(&format!(" New estimate: {eta}."));
    }
    investigation::report(
        event,
        None,
        None,
        &shipment(&r),
        Issue::new(issue_code(code), finding),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_delays_and_the_rest_failures() {
        assert_eq!(issue_code("delayed"), "carrier-delayed");
        assert_eq!(issue_code("held-at-customs"), "carrier-delayed");
        for c in [
            "lost",
            "damaged",
            "returned-to-sender",
            "failed-attempt",
            "other",
        ] {
            assert_eq!(issue_code(c), "carrier-failure", "{c}");
        }
    }
}
