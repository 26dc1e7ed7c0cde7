//! The tag convention every first-party plugin follows: one name per
//! situation, whichever plugin reads or writes it.
//!
//! Staff (or a Shopify Flow) tag an order to tell the plugins something
//! happened; the plugins read these names from their settings, whose
//! defaults are the constants here, and compare them case-insensitively
//! ([`crate::text::same_tag`]). The table is also in `docs/scenarios.md`
//! ("Tags").
//!
//! | tag | on | means | read by |
//! |---|---|---|---|
//! | [`COMPLAINT`] | order | the customer complained | returns (complaint case), vip-escalation (a VIP's complaint is escalated; a service failure) |
//! | [`NOT_RECEIVED`] | order | delivered but not received: the customer says the parcel never arrived | returns (complaint case, high), delivery-issues (investigation), vip-escalation (as a complaint) |
//! | [`DAMAGED_IN_TRANSIT`] | order | the parcel arrived damaged | vip-escalation (a service failure) |
//! | [`VIP`] | customer | a VIP customer | vip-escalation |
//!
//! Older spellings of "delivered but not received"
//! ([`NOT_RECEIVED_ALIASES`]: `complaint-not-received`, which the returns
//! plugin read, and `delivered-not-received`, which delivery-issues read)
//! are still read by every plugin, so tags already on orders and Flows
//! already written keep working; write [`NOT_RECEIVED`].
//!
//! A helpdesk report (`helpdesk/complaint`, `helpdesk/not-received`) is
//! the same situation as the tag: the plugins handle both alike.

use crate::text::same_tag;

/// The customer complained about the order.
pub const COMPLAINT: &str = "complaint";
/// Delivered but not received: the one tag to write.
pub const NOT_RECEIVED: &str = "not-received";
/// Older spellings of [`NOT_RECEIVED`], still read.
pub const NOT_RECEIVED_ALIASES: &[&str] = &["complaint-not-received", "delivered-not-received"];
/// Every tag read as "delivered but not received" by default: the
/// default of each plugin's `not-received-tags` setting.
pub const NOT_RECEIVED_TAGS: &[&str] = &[
    NOT_RECEIVED,
    "complaint-not-received",
    "delivered-not-received",
];
/// The parcel arrived damaged.
pub const DAMAGED_IN_TRANSIT: &str = "damaged-in-transit";
/// The customer tag of a VIP.
pub const VIP: &str = "VIP";

/// Whether `tag` is one of `tags` (case-insensitive, as Shopify's tags).
pub fn is_one_of<S: AsRef<str>>(tag: &str, tags: &[S]) -> bool {
    tags.iter().any(|t| same_tag(t.as_ref(), tag))
}

/// The first of an order's `tags` that is one of `wanted`.
pub fn find<'a, S: AsRef<str>>(tags: &[&'a str], wanted: &[S]) -> Option<&'a str> {
    tags.iter().copied().find(|t| is_one_of(t, wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_not_received_is_read() {
        assert_eq!(NOT_RECEIVED_TAGS[0], NOT_RECEIVED);
        for alias in NOT_RECEIVED_ALIASES {
            assert!(NOT_RECEIVED_TAGS.contains(alias));
        }
        for t in [
            "not-received",
            "Complaint-Not-Received",
            "delivered-not-received",
        ] {
            assert!(is_one_of(t, NOT_RECEIVED_TAGS), "{t}");
        }
        assert!(!is_one_of("complaint", NOT_RECEIVED_TAGS));
        assert_eq!(
            find(&["vip", "Not-Received"], NOT_RECEIVED_TAGS),
            Some("Not-Received")
        );
        assert_eq!(find(&["vip"], NOT_RECEIVED_TAGS), None);
    }
}
