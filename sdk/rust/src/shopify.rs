//! Shopify operations: write-backs to the store the event came from.
//!
//! Each function builds one operation on the event's own order, customer or
//! return; use it directly as an [`Action`] (`.into()`) or hold it for a
//! person's approval with [`crate::RequestApproval::new`]. Operations with
//! optional flags return their record, whose chained setters fill them in.
//! Every operation needs its own grant (its kind, e.g. `tags-add`).
//!
//! ```
//! use shopcase_sdk::{Action, CancelReason, HoldReason, Target, shopify};
//! let actions: Vec<Action> = vec![
//!     shopify::tags_add(Target::Order(42), ["fraud-review"]).into(),
//!     shopify::hold(42, HoldReason::HighRiskOfFraud, "fraud-review", "held for review").into(),
//!     shopify::cancel_order(42, CancelReason::Fraud).restock(true).staff_note("confirmed fraud").into(),
//! ];
//! assert_eq!(actions[2].kind(), "cancel-order");
//! ```

pub use crate::bindings::shopcase::plugin::types::{
    ApproveReturn, CancelOrder, DeclineReturn, HoldFulfillment, Metafield, NoteAppend, Refund,
    ReleaseFulfillment, StoreCredit, TagsChange,
};
use crate::{Action, CancelReason, DeclineReason, HoldReason, ShopifyOperation, Target};

fn tags<I, S>(list: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    list.into_iter().map(Into::into).collect()
}

/// Add tags to the event's order or customer (at most 50, each at most 40
/// characters, no commas).
pub fn tags_add<I, S>(target: Target, list: I) -> ShopifyOperation
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    ShopifyOperation::TagsAdd(TagsChange {
        target,
        tags: tags(list),
    })
}

/// Remove tags from the event's order or customer.
pub fn tags_remove<I, S>(target: Target, list: I) -> ShopifyOperation
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    ShopifyOperation::TagsRemove(TagsChange {
        target,
        tags: tags(list),
    })
}

/// Append a line to the order's or customer's note (appended once; staff's
/// text is never overwritten).
pub fn note_append(target: Target, text: impl Into<String>) -> ShopifyOperation {
    ShopifyOperation::NoteAppend(NoteAppend {
        target,
        text: text.into(),
    })
}

/// Set one metafield. `ty` is a Shopify metafield type such as `json`,
/// `single_line_text_field` or `number_integer`; `value` is its string form.
pub fn set_metafield(
    target: Target,
    namespace: impl Into<String>,
    key: impl Into<String>,
    ty: impl Into<String>,
    value: impl Into<String>,
) -> ShopifyOperation {
    ShopifyOperation::SetMetafield(Metafield {
        target,
        namespace: namespace.into(),
        key: key.into(),
        type_: ty.into(),
        value: value.into(),
    })
}

/// Hold every open fulfillment order of the event's order, under a handle
/// (e.g. `fraud-review`) that [`release`] names later.
pub fn hold(
    order_id: u64,
    reason: HoldReason,
    handle: impl Into<String>,
    notes: impl Into<String>,
) -> ShopifyOperation {
    ShopifyOperation::HoldFulfillment(HoldFulfillment {
        order_id,
        reason,
        notes: notes.into(),
        handle: handle.into(),
    })
}

/// Release the hold this plugin placed under `handle`.
pub fn release(order_id: u64, handle: impl Into<String>) -> ShopifyOperation {
    ShopifyOperation::ReleaseFulfillment(ReleaseFulfillment {
        order_id,
        handle: handle.into(),
    })
}

/// Cancel the event's order (irreversible; done at most once). No restock,
/// no notification and no staff note until set.
pub fn cancel_order(order_id: u64, reason: CancelReason) -> CancelOrder {
    CancelOrder {
        order_id,
        reason,
        restock: false,
        notify_customer: false,
        staff_note: String::new(),
    }
}

impl CancelOrder {
    /// Put the items back in stock.
    pub fn restock(mut self, restock: bool) -> Self {
        self.restock = restock;
        self
    }

    /// Tell the customer.
    pub fn notify_customer(mut self, notify: bool) -> Self {
        self.notify_customer = notify;
        self
    }

    /// A note for staff (at most 255 characters).
    pub fn staff_note(mut self, note: impl Into<String>) -> Self {
        self.staff_note = note.into();
        self
    }
}

/// Approve the event's return request (the customer is not notified until
/// set).
pub fn approve_return(return_id: u64) -> ApproveReturn {
    ApproveReturn {
        return_id,
        notify_customer: false,
    }
}

impl ApproveReturn {
    /// Tell the customer.
    pub fn notify_customer(mut self, notify: bool) -> Self {
        self.notify_customer = notify;
        self
    }
}

/// Decline the event's return request, with a note shown to the customer
/// when notified (at most 500 characters).
pub fn decline_return(
    return_id: u64,
    reason: DeclineReason,
    note: impl Into<String>,
) -> DeclineReturn {
    DeclineReturn {
        return_id,
        reason,
        note: note.into(),
        notify_customer: false,
    }
}

impl DeclineReturn {
    /// Tell the customer.
    pub fn notify_customer(mut self, notify: bool) -> Self {
        self.notify_customer = notify;
        self
    }
}

/// Refund `amount` (a decimal string such as `"20.00"`, see
/// [`crate::money::format_cents`]) in the order's `currency` to the original
/// payment method.
pub fn refund(order_id: u64, amount: impl Into<String>, currency: impl Into<String>) -> Refund {
    Refund {
        order_id,
        amount: amount.into(),
        currency: currency.into(),
        note: String::new(),
        notify_customer: false,
    }
}

impl Refund {
    /// A note recorded on the refund.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = note.into();
        self
    }

    /// Tell the customer.
    pub fn notify_customer(mut self, notify: bool) -> Self {
        self.notify_customer = notify;
        self
    }
}

/// Credit the event's customer's store credit account (a goodwill credit).
pub fn store_credit(
    customer_id: u64,
    amount: impl Into<String>,
    currency: impl Into<String>,
) -> StoreCredit {
    StoreCredit {
        customer_id,
        amount: amount.into(),
        currency: currency.into(),
        expires_at: None,
        notify_customer: false,
    }
}

impl StoreCredit {
    /// When the credit expires (RFC 3339, or a [`crate::Timestamp`]).
    pub fn expires_at(mut self, at: impl Into<String>) -> Self {
        self.expires_at = Some(at.into());
        self
    }

    /// Tell the customer.
    pub fn notify_customer(mut self, notify: bool) -> Self {
        self.notify_customer = notify;
        self
    }
}

impl ShopifyOperation {
    /// The operation's name, which is also the grant it needs, e.g.
    /// `hold-fulfillment`.
    pub fn kind(&self) -> &'static str {
        match self {
            ShopifyOperation::TagsAdd(_) => "tags-add",
            ShopifyOperation::TagsRemove(_) => "tags-remove",
            ShopifyOperation::NoteAppend(_) => "note-append",
            ShopifyOperation::SetMetafield(_) => "set-metafield",
            ShopifyOperation::HoldFulfillment(_) => "hold-fulfillment",
            ShopifyOperation::ReleaseFulfillment(_) => "release-fulfillment",
            ShopifyOperation::CancelOrder(_) => "cancel-order",
            ShopifyOperation::ApproveReturn(_) => "approve-return",
            ShopifyOperation::DeclineReturn(_) => "decline-return",
            ShopifyOperation::Refund(_) => "refund",
            ShopifyOperation::StoreCredit(_) => "store-credit",
        }
    }
}

macro_rules! into_operation {
    ($($ty:ident => $variant:ident),*) => {$(
        impl From<$ty> for ShopifyOperation {
            fn from(op: $ty) -> ShopifyOperation {
                ShopifyOperation::$variant(op)
            }
        }
        impl From<$ty> for Action {
            fn from(op: $ty) -> Action {
                Action::Shopify(ShopifyOperation::$variant(op))
            }
        }
    )*};
}

into_operation!(
    NoteAppend => NoteAppend,
    Metafield => SetMetafield,
    HoldFulfillment => HoldFulfillment,
    ReleaseFulfillment => ReleaseFulfillment,
    CancelOrder => CancelOrder,
    ApproveReturn => ApproveReturn,
    DeclineReturn => DeclineReturn,
    Refund => Refund,
    StoreCredit => StoreCredit
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_fill_the_records() {
        let ShopifyOperation::TagsAdd(t) = tags_add(Target::Customer(7), vec!["VIP".to_owned()])
        else {
            panic!()
        };
        assert_eq!(
            (t.target, t.tags),
            (Target::Customer(7), vec!["VIP".to_owned()])
        );
        let ShopifyOperation::TagsRemove(t) = tags_remove(Target::Order(1), ["a", "b"]) else {
            panic!()
        };
        assert_eq!(t.tags, ["a", "b"]);
        let ShopifyOperation::SetMetafield(m) =
            set_metafield(Target::Order(1), "shopcase", "risk", "number_integer", "80")
        else {
            panic!()
        };
        assert_eq!(
            (
                m.namespace.as_str(),
                m.key.as_str(),
                m.type_.as_str(),
                m.value.as_str()
            ),
            ("shopcase", "risk", "number_integer", "80")
        );
        let ShopifyOperation::HoldFulfillment(h) = hold(1, HoldReason::Other, "h", "n") else {
            panic!()
        };
        assert_eq!((h.handle.as_str(), h.notes.as_str()), ("h", "n"));
        assert_eq!(release(1, "h").kind(), "release-fulfillment");
        assert_eq!(note_append(Target::Order(1), "x").kind(), "note-append");
    }

    #[test]
    fn optional_flags_default_to_off() {
        let c = cancel_order(1, CancelReason::Fraud);
        assert!(!c.restock && !c.notify_customer && c.staff_note.is_empty());
        let c = c.restock(true).notify_customer(true).staff_note("fraud");
        assert!(c.restock && c.notify_customer);
        assert!(!approve_return(3).notify_customer);
        assert!(approve_return(3).notify_customer(true).notify_customer);
        let d = decline_return(3, DeclineReason::FinalSale, "final sale").notify_customer(true);
        assert_eq!(ShopifyOperation::from(d).kind(), "decline-return");
        let s = store_credit(7, "10.00", "EUR").expires_at("2027-01-01T00:00:00Z");
        assert_eq!(s.expires_at.as_deref(), Some("2027-01-01T00:00:00Z"));
        assert_eq!(Action::from(s).kind(), "store-credit");
        let r = refund(1, "5.00", "EUR").notify_customer(true);
        assert!(r.notify_customer && r.note.is_empty());
    }
}
