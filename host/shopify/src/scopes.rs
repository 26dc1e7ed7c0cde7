//! The access scopes a store's token needs, and why: the one table
//! ([`SCOPES`]) that `shopcase store connect` checks a token against and
//! that the admin guide prints ([`markdown_table`]; a test keeps the guide's
//! copy equal to it).
//!
//! A scope is needed when a webhook topic the store is subscribed to, an
//! action kind an enabled plugin may return, or a host function it may call
//! needs it ([`required`]). Some action kinds need a scope only for some
//! targets (tags on a customer rather than an order): those are listed as
//! *possibly needed* ([`Needs::possibly`]), reported but not counted as
//! missing. Shopify's write scopes grant read access too
//! (shopify.dev, "Shopify API access scopes"), so `write_orders` satisfies
//! `read_orders` ([`missing`]).
//!
//! Sources: the topics' scopes are from the `WebhookSubscriptionTopic`
//! descriptions of Shopify's Admin schema (2025-10 to 2026-10 and
//! `unstable` agree; where a topic accepts one of several scopes the
//! ordinary, non-marketplace one is listed); the mutations' scopes from
//! shopify.dev's reference pages.

use std::collections::BTreeSet;

use shopcase_contract::action::ActionKind;
use shopcase_contract::manifest::HostGrant;

/// One scope and what needs it.
#[derive(Debug, Clone, Copy)]
pub struct ScopeRow {
    /// The scope handle, e.g. `read_orders`.
    pub scope: &'static str,
    /// Webhook topics that need it.
    pub topics: &'static [&'static str],
    /// Action kinds that need it.
    pub actions: &'static [ActionKind],
    /// Action kinds that need it for some targets only.
    pub maybe_actions: &'static [ActionKind],
    /// Host functions that need it.
    pub host: &'static [HostGrant],
    /// Why, for people.
    pub why: &'static str,
}

use ActionKind as A;

/// The table.
pub const SCOPES: &[ScopeRow] = &[
    ScopeRow {
        scope: "read_orders",
        topics: &[
            "orders/create",
            "orders/updated",
            "orders/cancelled",
            "orders/paid",
            "orders/fulfilled",
            "orders/partially_fulfilled",
            "orders/edited",
            "orders/risk_assessment_changed",
            "order_transactions/create",
            "refunds/create",
        ],
        actions: &[
            A::TagsAdd,
            A::TagsRemove,
            A::NoteAppend,
            A::SetMetafield,
            A::HoldFulfillment,
            A::ReleaseFulfillment,
            A::CancelOrder,
            A::Refund,
        ],
        maybe_actions: &[],
        host: &[
            HostGrant::CustomerHistory,
            HostGrant::OrderLookup,
            HostGrant::OrderRisk,
        ],
        why: "the order topics' deliveries; reading an order's note, refunds, transactions and cancel state before a write-back (to make it idempotent); a customer's orders in customer history; an order and Shopify's risk assessment of it (the `order` and `order-risk` host functions)",
    },
    ScopeRow {
        scope: "write_orders",
        topics: &[],
        actions: &[A::CancelOrder, A::Refund],
        maybe_actions: &[A::TagsAdd, A::TagsRemove, A::NoteAppend, A::SetMetafield],
        host: &[],
        why: "`orderCancel`, `refundCreate`; tags, notes and metafields on orders (`tagsAdd`, `tagsRemove`, `orderUpdate`, `metafieldsSet`)",
    },
    ScopeRow {
        scope: "read_customers",
        topics: &["customers/update", "customers/purchasing_summary"],
        actions: &[A::StoreCredit],
        maybe_actions: &[A::TagsAdd, A::TagsRemove, A::NoteAppend, A::SetMetafield],
        host: &[HostGrant::CustomerHistory],
        why: "customer history (orders, amount spent, tags); a customer's note before appending to it; the host's store-credit records",
    },
    ScopeRow {
        scope: "write_customers",
        topics: &[],
        actions: &[A::StoreCredit],
        maybe_actions: &[A::TagsAdd, A::TagsRemove, A::NoteAppend, A::SetMetafield],
        host: &[],
        why: "tags, notes and metafields on customers (`customerUpdate`, `metafieldsSet`); the host's own store-credit records (an app-owned customer metafield)",
    },
    ScopeRow {
        scope: "read_fulfillments",
        topics: &[
            "fulfillments/create",
            "fulfillments/update",
            "fulfillment_events/create",
        ],
        actions: &[],
        maybe_actions: &[],
        host: &[],
        why: "the fulfilment topics' deliveries",
    },
    ScopeRow {
        scope: "read_merchant_managed_fulfillment_orders",
        topics: &[
            "fulfillment_orders/placed_on_hold",
            "fulfillment_orders/hold_released",
            "fulfillment_holds/added",
            "fulfillment_holds/released",
        ],
        actions: &[A::HoldFulfillment, A::ReleaseFulfillment],
        maybe_actions: &[],
        host: &[],
        why: "reading fulfilment orders and their holds (on orders the merchant fulfils); the hold topics' deliveries",
    },
    ScopeRow {
        scope: "write_merchant_managed_fulfillment_orders",
        topics: &[],
        actions: &[A::HoldFulfillment, A::ReleaseFulfillment],
        maybe_actions: &[],
        host: &[],
        why: "`fulfillmentOrderHold`, `fulfillmentOrderReleaseHold` on orders the merchant fulfils",
    },
    ScopeRow {
        scope: "read_third_party_fulfillment_orders",
        topics: &[],
        actions: &[],
        maybe_actions: &[A::HoldFulfillment, A::ReleaseFulfillment],
        host: &[],
        why: "the same for orders a fulfilment service fulfils (only if the store uses one)",
    },
    ScopeRow {
        scope: "write_third_party_fulfillment_orders",
        topics: &[],
        actions: &[],
        maybe_actions: &[A::HoldFulfillment, A::ReleaseFulfillment],
        host: &[],
        why: "holds and releases on orders a fulfilment service fulfils (only if the store uses one)",
    },
    ScopeRow {
        scope: "read_returns",
        topics: &[
            "returns/request",
            "returns/approve",
            "returns/decline",
            "returns/cancel",
            "returns/close",
            "returns/reopen",
            "returns/update",
        ],
        actions: &[A::ApproveReturn, A::DeclineReturn],
        maybe_actions: &[],
        host: &[],
        why: "the return topics' deliveries; a return's status before deciding it",
    },
    ScopeRow {
        scope: "write_returns",
        topics: &[],
        actions: &[A::ApproveReturn, A::DeclineReturn],
        maybe_actions: &[],
        host: &[],
        why: "`returnApproveRequest`, `returnDeclineRequest`",
    },
    ScopeRow {
        scope: "read_shopify_payments_disputes",
        topics: &["disputes/create", "disputes/update"],
        actions: &[],
        maybe_actions: &[],
        host: &[],
        why: "the dispute topics' deliveries (Shopify Payments chargebacks and inquiries)",
    },
    ScopeRow {
        scope: "read_store_credit_account_transactions",
        topics: &[],
        actions: &[A::StoreCredit],
        maybe_actions: &[],
        host: &[],
        why: "reading credit transactions, so a credit is never made twice",
    },
    ScopeRow {
        scope: "write_store_credit_account_transactions",
        topics: &[],
        actions: &[A::StoreCredit],
        maybe_actions: &[],
        host: &[],
        why: "`storeCreditAccountCredit`",
    },
];

/// What a store's plugins and the host need from its token.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Needs {
    /// Scopes needed: the token must hold each (or its write form).
    pub required: BTreeSet<String>,
    /// Scopes needed only for some targets of an action kind (tags on
    /// customers as well as orders, holds on orders a fulfilment service
    /// fulfils).
    pub possibly: BTreeSet<String>,
}

/// The scopes needed for `topics`, `actions` and `host` functions.
pub fn required<'a>(
    topics: impl IntoIterator<Item = &'a str>,
    actions: &BTreeSet<ActionKind>,
    host: &BTreeSet<HostGrant>,
) -> Needs {
    let topics: BTreeSet<&str> = topics.into_iter().collect();
    let mut needs = Needs::default();
    for row in SCOPES {
        let needed = row.topics.iter().any(|t| topics.contains(t))
            || row.actions.iter().any(|a| actions.contains(a))
            || row.host.iter().any(|h| host.contains(h));
        if needed {
            needs.required.insert(row.scope.to_owned());
        } else if row.maybe_actions.iter().any(|a| actions.contains(a)) {
            needs.possibly.insert(row.scope.to_owned());
        }
    }
    needs
}

/// The scopes of `wanted` that `granted` does not hold; `write_x` counts
/// as `read_x`.
pub fn missing<'a>(
    wanted: impl IntoIterator<Item = &'a String>,
    granted: &[String],
) -> Vec<String> {
    let held = |s: &str| {
        granted.iter().any(|g| g == s)
            || s.strip_prefix("read_")
                .is_some_and(|rest| granted.iter().any(|g| g == &format!("write_{rest}")))
    };
    wanted.into_iter().filter(|s| !held(s)).cloned().collect()
}

/// The scope a topic needs, if it is in the table.
pub fn scope_of_topic(topic: &str) -> Option<&'static str> {
    SCOPES
        .iter()
        .find(|r| r.topics.contains(&topic))
        .map(|r| r.scope)
}

/// [`SCOPES`] as the admin guide's Markdown table.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| scope | webhook topics | action kinds | host functions | why |\n|---|---|---|---|---|\n",
    );
    let code = |items: Vec<String>| {
        if items.is_empty() {
            String::new()
        } else {
            items
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    for row in SCOPES {
        let mut actions: Vec<String> = row.actions.iter().map(|a| a.name().to_owned()).collect();
        let maybe: Vec<String> = row
            .maybe_actions
            .iter()
            .map(|a| a.name().to_owned())
            .collect();
        let mut actions_cell = code(std::mem::take(&mut actions));
        if !maybe.is_empty() {
            if !actions_cell.is_empty() {
                actions_cell.push_str("; ");
            }
            actions_cell.push_str(&format!("possibly: {}", code(maybe)));
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            row.scope,
            code(row.topics.iter().map(|t| (*t).to_owned()).collect()),
            actions_cell,
            code(row.host.iter().map(|h| h.name().to_owned()).collect()),
            row.why
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disputes_need_the_payments_disputes_scope() {
        let n = required(["disputes/create"], &BTreeSet::new(), &BTreeSet::new());
        assert_eq!(
            n.required.into_iter().collect::<Vec<_>>(),
            ["read_shopify_payments_disputes"]
        );
    }

    #[test]
    fn actions_and_host_functions_add_scopes_and_targets_make_some_possible() {
        let actions = BTreeSet::from([ActionKind::TagsAdd, ActionKind::OpenCase]);
        let host = BTreeSet::from([HostGrant::CustomerHistory]);
        let n = required(["orders/create", "app/uninstalled"], &actions, &host);
        assert_eq!(
            n.required.iter().map(String::as_str).collect::<Vec<_>>(),
            ["read_customers", "read_orders"]
        );
        assert_eq!(
            n.possibly.iter().map(String::as_str).collect::<Vec<_>>(),
            ["write_customers", "write_orders"]
        );
        // Core Case actions need no Shopify scope.
        let only_cases = required(
            [],
            &BTreeSet::from([ActionKind::OpenCase, ActionKind::Comment]),
            &BTreeSet::new(),
        );
        assert_eq!(only_cases, Needs::default());
    }

    #[test]
    fn write_scopes_hold_their_read_scope() {
        let wanted: Vec<String> = ["read_orders", "read_returns", "write_orders"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            missing(&wanted, &["write_orders".to_owned()]),
            ["read_returns"]
        );
        assert_eq!(missing(&wanted, &[]), wanted);
    }

    /// The admin guide's scope table is [`markdown_table`], between its
    /// markers. On a change, paste the table this test prints.
    #[test]
    fn the_admin_guide_prints_this_table() {
        let guide = include_str!("../../../docs/admin-guide.md");
        let begin =
            "<!-- scope-table:begin (generated from shopcase_shopify::scopes::SCOPES) -->\n";
        let end = "<!-- scope-table:end -->";
        let start = guide.find(begin).expect("the guide has the begin marker") + begin.len();
        let stop = guide[start..]
            .find(end)
            .expect("the guide has the end marker")
            + start;
        let table = markdown_table();
        assert!(
            guide[start..stop] == table,
            "docs/admin-guide.md's scope table differs from scopes::SCOPES; put this between the markers:\n{table}"
        );
    }

    #[test]
    fn each_scope_appears_once_and_each_topic_once() {
        let mut scopes = BTreeSet::new();
        let mut topics = BTreeSet::new();
        for r in SCOPES {
            assert!(scopes.insert(r.scope), "{} twice", r.scope);
            for t in r.topics {
                assert!(topics.insert(*t), "{t} twice");
                assert!(shopcase_contract::manifest::is_topic(t), "{t}");
            }
        }
        assert_eq!(
            scope_of_topic("disputes/update"),
            Some("read_shopify_payments_disputes")
        );
        assert_eq!(scope_of_topic("app/uninstalled"), None);
    }
}
