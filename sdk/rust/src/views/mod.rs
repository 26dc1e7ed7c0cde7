//! Typed views of the payloads plugins receive, read with
//! [`crate::Event::payload`] or the typed accessors ([`crate::Event::order`],
//! [`crate::Event::dispute`], ...).
//!
//! The views are tolerant, because Shopify's payloads change every quarter
//! and the host removes ungranted personal data: every field has a default
//! (`null` and missing read the same), unknown fields are ignored, fields
//! Shopify may omit are `Option`s, ids may be numbers, numeric strings or
//! GraphQL gids, and money amounts stay decimal strings as Shopify writes
//! them (see [`crate::money`] for exact arithmetic; helpers such as
//! [`Order::total_price_cents`] do it for the common fields). Views are
//! `#[non_exhaustive]` so fields can be added without breaking plugins.
//!
//! Fields a plugin's manifest does not grant (e.g. `email`, addresses,
//! `browser_ip`, the order's `note`) are simply absent: `None` or empty, as
//! are fields the host does not deliver to any plugin (a field Shopify adds
//! before the host lists it, `order_status_url`).
//!
//! # Layout
//! - `order`: [`Order`] and its parts (line items, addresses, customer, ...);
//! - `payments`: [`Transaction`], [`Refund`], [`Dispute`];
//! - `returns`: [`Return`];
//! - `fulfillment`: [`Fulfillment`], [`FulfillmentEvent`];
//! - `host_events`: the host topics, [`CaseUpdated`] and [`TimerFired`].

mod fulfillment;
mod host_events;
mod order;
mod payments;
mod returns;

pub use fulfillment::{Fulfillment, FulfillmentEvent};
pub use host_events::{CaseApproval, CaseInfo, CaseResolution, CaseTask, CaseUpdated, TimerFired};
pub use order::{
    Address, ClientDetails, Customer, DiscountCode, LineItem, NoteAttribute, Order, ShippingLine,
};
pub use payments::{Dispute, PaymentDetails, Refund, RefundLineItem, Transaction};
pub use returns::{FulfillmentLineItem, ObjectRef, Return, ReturnDecline, ReturnLineItem};

/// Lenient field readers for `null`s and the shapes Shopify is
/// inconsistent about. They read straight from the JSON text (no
/// intermediate `serde_json::Value`), which keeps plugins small and cheap in
/// fuel.
pub(crate) mod de {
    use std::fmt;

    use serde::Deserialize;
    use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

    /// Any value, with `null` read as the type's default.
    pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + Default,
    {
        Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
    }

    /// What a lenient scalar turned out to be.
    enum Scalar {
        Text(String),
        Unsigned(u64),
        Signed(i64),
        Float(f64),
        Bool(bool),
        /// `null`, or an object or array (skipped).
        Nothing,
    }

    struct ScalarVisitor;

    impl<'de> Visitor<'de> for ScalarVisitor {
        type Value = Scalar;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
            Ok(Scalar::Text(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
            Ok(Scalar::Text(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
            Ok(Scalar::Unsigned(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
            Ok(Scalar::Signed(v))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
            Ok(Scalar::Float(v))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
            Ok(Scalar::Bool(v))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
            Ok(Scalar::Nothing)
        }
        fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
            Ok(Scalar::Nothing)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
            while a.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Scalar::Nothing)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
            while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Scalar::Nothing)
        }
    }

    fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }

    /// A Shopify id from a number, a numeric string or a gid
    /// (`gid://shopify/Order/123`); anything else reads as absent.
    pub(crate) fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Ok(match scalar(d)? {
            Scalar::Unsigned(n) => Some(n),
            Scalar::Text(s) => s.rsplit('/').next().and_then(|s| s.parse().ok()),
            _ => None,
        })
    }

    /// An id (0 when absent or unreadable).
    pub(crate) fn id<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        Ok(opt_id(d)?.unwrap_or(0))
    }

    /// Text from a string, or from a number or boolean written as JSON
    /// (some REST resources write amounts as numbers, e.g. refund line item
    /// subtotals); `null`, objects and arrays read as empty.
    pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(match scalar(d)? {
            Scalar::Text(s) => s,
            Scalar::Unsigned(n) => n.to_string(),
            Scalar::Signed(n) => n.to_string(),
            Scalar::Float(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Nothing => String::new(),
        })
    }

    /// A decimal amount: a string as written, or a number's text.
    pub(crate) fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        text(d)
    }
}

/// Shopify's comma-separated tags as a list (trimmed, empty ones dropped).
fn split_tags(tags: &str) -> Vec<&str> {
    tags.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect()
}

#[cfg(test)]
mod tests;
