//! Idempotent write-back: [`ShopifyClient::apply`] performs one journalled
//! [`ShopifyOperation`] so that it takes effect **at most once**, however
//! often the executor calls it again with the same idempotency key (after a
//! timeout, a lost answer or a crash at any point).
//!
//! Every operation is "look, then act": it reads the state the operation
//! would change, returns [`Applied::AlreadyDone`] when the effect is already
//! there, and otherwise sends the mutation. When a mutation's answer is lost
//! (connection reset, timeout, 5xx) the whole operation is run again, so the
//! fresh read sees whether the lost mutation took effect. The naturally
//! idempotent operations (tags, metafields) skip the read the first time
//! (a second write would change nothing) and look first only when they may
//! have been applied already: [`ShopifyClient::reapply`] (an entry executed
//! before, or taken over from an executor that died) and a lost answer. So
//! a write-back is sent to Shopify once, not merely effective once.
//!
//! # Technique per operation
//! | operation | GraphQL | at most once because |
//! |---|---|---|
//! | tags add / remove | `tagsAdd` / `tagsRemove`; when re-applied, `order`/`customer { tags }` first | naturally idempotent (set semantics); re-applied, the tags already in (or out) are not written again |
//! | metafield | `metafieldsSet`; when re-applied, `order`/`customer { metafield(namespace, key) { type value } }` first | naturally idempotent (same value); re-applied, a metafield already holding that value is not written again |
//! | note append (order / customer) | `order`/`customer { note }`, then `orderUpdate` / `customerUpdate` | the appended line ends with a marker `[shopcase:<12 hex>]` derived from the key; when the note already holds it, nothing is written. The whole note is rewritten with staff text kept verbatim |
//! | hold fulfilment | `order { fulfillmentOrders { fulfillmentHolds } }`, then `fulfillmentOrderHold` with `handle` and `externalId` | a fulfilment order that already has a hold of ours with that handle is skipped |
//! | release fulfilment | same query, then `fulfillmentOrderReleaseHold(id, holdIds)` | only our holds with that handle are released, by id (never without `holdIds`, which releases every hold); none left means done |
//! | cancel order | `order { cancelledAt }`, then `orderCancel` (`refundMethod: {originalPaymentMethodsRefund: false}`: money goes back only through the separate, approvable refund operation) | an order already cancelled is not cancelled again |
//! | approve / decline return | `return { status }`, then `returnApproveRequest` / `returnDeclineRequest` | the return already in the target state is done; a conflicting state is a permanent error |
//! | refund | `order { refunds { note } transactions }`, then `refundCreate @idempotent(key:)` | the refund note carries `[shopcase:<12 hex>]`; a refund with it means done. Shopify's `@idempotent` key (derived from ours) protects the same call again within Shopify's retention window. The amount is checked against what is still refundable first (per successful sale/capture, in the shop currency; a refund in another currency is refused) |
//! | store credit | `customer { metafield storeCreditAccounts { transactions } }`, then `storeCreditAccountCredit` | see below |
//!
//! ## Store credit
//! `storeCreditAccountCredit` has neither an idempotency key nor a note in
//! the API versions we target (2026-07; a transaction `note` appears in
//! 2027-01). So the host keeps a write-ahead record in an app-owned customer
//! metafield (`$app:shopcase` / `store-credit-<16 hex>`): before crediting it
//! stores the id of the newest credit transaction of that currency's
//! account; after crediting it marks the record done. On a retry, a record
//! marked done means done; a record not marked done means "look for a credit
//! of this amount newer than the recorded transaction": found means done,
//! not found means the credit was never made. The residual risk errs towards
//! *not* crediting: if someone else credits the same amount to the same
//! account between our crash and our retry, we take theirs for ours. If more
//! than 25 transactions happened in between, the operation stops with a
//! permanent error asking for a manual check rather than guessing.
//!
//! ## Residual risks
//! - Note append rewrites the whole note (Shopify has no append): an edit a
//!   staff member saves in the instant between our read and our write is
//!   lost. The window is one round trip.
//! - A request that timed out on our side can still be executed by Shopify
//!   *after* our re-read. Cancel, holds, releases and returns are then
//!   refused by Shopify as invalid transitions, which `apply` re-reads and
//!   reports as done; refunds are deduplicated by `@idempotent`; notes and
//!   tags converge. Store credit has no such guard: a credit executed by
//!   Shopify later than the request timeout plus our re-read could be
//!   doubled. Keep `request_timeout` generous (the default is 30 s).
//! - Two executors running the same key at the same moment are not guarded
//!   against here; the journal hands each key to one executor at a time.

use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shopcase_contract::ShopifyOperation;
use shopcase_contract::action::{
    ApproveReturn, CancelOrder, DeclineReturn, HoldFulfillment, Metafield, NoteAppend, Refund,
    ReleaseFulfillment, StoreCredit, TagsChange, Target,
};

use crate::client::{Request, ShopifyClient};
use crate::error::{Error, Result, UserError};
use crate::gid;
use crate::money::Amount;

/// What [`ShopifyClient::apply`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Applied {
    /// This call changed the store with `mutations` mutations (a hold on an
    /// order with two fulfilment orders is two). When the answer to the
    /// mutation was lost and a re-read found its effect, `mutations` counts it.
    Done {
        /// Mutations this call made.
        mutations: u32,
        /// What was done, for logs.
        detail: String,
    },
    /// Nothing needed doing: the effect was already there (an earlier call
    /// with the same key, or someone else).
    AlreadyDone {
        /// What was found, for logs.
        detail: String,
    },
}

impl Applied {
    /// Whether this call changed the store.
    pub fn is_done(&self) -> bool {
        matches!(self, Applied::Done { .. })
    }
}

/// App-owned metafield namespace for the host's own records: merchants and
/// other apps cannot write it, and plugins cannot name it (their namespaces
/// may not contain `$` or `:`).
pub const HOST_METAFIELD_NAMESPACE: &str = "$app:shopcase";

pub(crate) mod doc {
    pub(crate) const TAGS_ADD: &str = "mutation TagsAdd($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }";
    pub(crate) const TAGS_REMOVE: &str = "mutation TagsRemove($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) { node { id } userErrors { field message } } }";
    pub(crate) const ORDER_NOTE: &str = "query OrderNote($id: ID!) { order(id: $id) { id note } }";
    pub(crate) const ORDER_TAGS: &str = "query OrderTags($id: ID!) { order(id: $id) { id tags } }";
    pub(crate) const CUSTOMER_TAGS: &str =
        "query CustomerTags($id: ID!) { customer(id: $id) { id tags } }";
    pub(crate) const ORDER_METAFIELD: &str = "query OrderMetafield($id: ID!, $namespace: String!, $key: String!) { order(id: $id) { id metafield(namespace: $namespace, key: $key) { id type value } } }";
    pub(crate) const CUSTOMER_METAFIELD: &str = "query CustomerMetafield($id: ID!, $namespace: String!, $key: String!) { customer(id: $id) { id metafield(namespace: $namespace, key: $key) { id type value } } }";
    pub(crate) const ORDER_UPDATE: &str = "mutation OrderNoteUpdate($input: OrderInput!) { orderUpdate(input: $input) { order { id note } userErrors { field message } } }";
    pub(crate) const CUSTOMER_NOTE: &str =
        "query CustomerNote($id: ID!) { customer(id: $id) { id note } }";
    pub(crate) const CUSTOMER_UPDATE: &str = "mutation CustomerNoteUpdate($input: CustomerInput!) { customerUpdate(input: $input) { customer { id note } userErrors { field message } } }";
    pub(crate) const METAFIELDS_SET: &str = "mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $metafields) { metafields { id namespace key } userErrors { field message code } } }";
    pub(crate) const FULFILLMENT_HOLDS: &str = "query FulfillmentHolds($id: ID!) { order(id: $id) { id fulfillmentOrders(first: 20) { nodes { id status fulfillmentHolds { id handle reason heldByRequestingApp } } } } }";
    pub(crate) const HOLD: &str = "mutation FulfillmentOrderHold($id: ID!, $fulfillmentHold: FulfillmentOrderHoldInput!) { fulfillmentOrderHold(id: $id, fulfillmentHold: $fulfillmentHold) { fulfillmentHold { id handle } fulfillmentOrder { id status } userErrors { field message code } } }";
    pub(crate) const RELEASE: &str = "mutation FulfillmentOrderReleaseHold($id: ID!, $holdIds: [ID!], $externalId: String) { fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds, externalId: $externalId) { fulfillmentOrder { id status } userErrors { field message code } } }";
    pub(crate) const ORDER_CANCELLED: &str =
        "query OrderCancelState($id: ID!) { order(id: $id) { id cancelledAt } }";
    pub(crate) const ORDER_CANCEL: &str = "mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String, $refundMethod: OrderCancelRefundMethodInput!) { orderCancel(orderId: $orderId, reason: $reason, restock: $restock, notifyCustomer: $notifyCustomer, staffNote: $staffNote, refundMethod: $refundMethod) { job { id done } orderCancelUserErrors { field message code } } }";
    pub(crate) const RETURN_STATUS: &str =
        "query ReturnStatus($id: ID!) { return(id: $id) { id status } }";
    pub(crate) const RETURN_APPROVE: &str = "mutation ReturnApproveRequest($input: ReturnApproveRequestInput!) { returnApproveRequest(input: $input) { return { id status } userErrors { field message code } } }";
    pub(crate) const RETURN_DECLINE: &str = "mutation ReturnDeclineRequest($input: ReturnDeclineRequestInput!) { returnDeclineRequest(input: $input) { return { id status } userErrors { field message code } } }";
    pub(crate) const REFUND_STATE: &str = "query RefundState($id: ID!) { order(id: $id) { id refunds(first: 100) { id note } transactions(first: 100) { id kind status gateway amountSet { shopMoney { amount currencyCode } } parentTransaction { id } } } }";
    /// `@idempotent(key: "...")` is filled in per call (a literal: the key is
    /// our own hex digest, so nothing needs escaping).
    pub(crate) const REFUND_CREATE: &str = "mutation RefundCreate($input: RefundInput!) { refundCreate(input: $input) @idempotent(key: \"KEY\") { refund { id note totalRefundedSet { shopMoney { amount currencyCode } } } userErrors { field message } } }";
    pub(crate) const STORE_CREDIT_STATE: &str = "query StoreCreditState($id: ID!, $namespace: String!, $key: String!) { customer(id: $id) { id metafield(namespace: $namespace, key: $key) { id value } storeCreditAccounts(first: 10) { nodes { id balance { amount currencyCode } transactions(first: 25, sortKey: CREATED_AT, reverse: true) { nodes { __typename amount { amount currencyCode } createdAt ... on StoreCreditAccountCreditTransaction { id } } } } } } }";
    pub(crate) const STORE_CREDIT: &str = "mutation StoreCreditAccountCredit($id: ID!, $creditInput: StoreCreditAccountCreditInput!) { storeCreditAccountCredit(id: $id, creditInput: $creditInput) { storeCreditAccountTransaction { id amount { amount currencyCode } account { id balance { amount currencyCode } } } userErrors { field message code } } }";
}

/// `[shopcase:<12 hex>]`: marks a note line or refund note as written for
/// this key. A digest, not the key itself, so notes staff read carry no
/// internal ids.
/// (The definition is `shopcase_contract::origin::note_marker`: the
/// dispatcher checks refund notes against it.)
pub fn note_marker(idempotency_key: &str) -> String {
    shopcase_contract::origin::note_marker(idempotency_key)
}

fn digest(purpose: &str, key: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(purpose.as_bytes());
    h.update([0]);
    h.update(key.as_bytes());
    h.finalize().into()
}

/// A UUID-shaped (version 8, "custom") key for Shopify's `@idempotent`
/// directive, derived from ours so a retry sends the same one.
fn shopify_idempotency_key(key: &str) -> String {
    let mut b: [u8; 16] = [0; 16];
    b.copy_from_slice(&digest("idempotent", key)[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

fn target_gid(t: Target) -> (String, &'static str) {
    match t {
        Target::Order(id) => (gid::format("Order", id), "order"),
        Target::Customer(id) => (gid::format("Customer", id), "customer"),
    }
}

fn user_errors(payload: &Value, field: &str) -> Vec<UserError> {
    payload
        .get(field)
        .and_then(Value::as_array)
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    serde_json::from_value::<UserError>(e.clone()).unwrap_or_else(|_| UserError {
                        field: None,
                        message: e
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("unknown error")
                            .to_string(),
                        code: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn str_at<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn nodes(v: &Value, pointer: &str) -> Vec<Value> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

impl ShopifyClient {
    /// Perform one journalled Shopify operation on `shop`, at most once per
    /// `idempotency_key` (see the module documentation). Transient failures
    /// are retried here with the client's backoff; what is still failing is
    /// returned, and [`Error::is_permanent`] tells the executor whether to
    /// retry later (same key) or dead-letter.
    pub async fn apply(
        &self,
        shop: &str,
        op: &ShopifyOperation,
        idempotency_key: &str,
    ) -> Result<Applied> {
        self.apply_checked(shop, op, idempotency_key, false).await
    }

    /// [`ShopifyClient::apply`] for an operation that may have taken effect
    /// already (its entry was executed before, or taken over from an
    /// executor that died): the naturally idempotent operations read the
    /// state first too, so that nothing is sent twice.
    pub async fn reapply(
        &self,
        shop: &str,
        op: &ShopifyOperation,
        idempotency_key: &str,
    ) -> Result<Applied> {
        self.apply_checked(shop, op, idempotency_key, true).await
    }

    async fn apply_checked(
        &self,
        shop: &str,
        op: &ShopifyOperation,
        idempotency_key: &str,
        maybe_applied: bool,
    ) -> Result<Applied> {
        if idempotency_key.is_empty() || idempotency_key.len() > 255 {
            return Err(Error::Config("idempotency key must be 1-255 bytes".into()));
        }
        let backoff = self.config().backoff;
        let mut attempts = 0u32;
        let mut lost_answer = false;
        loop {
            attempts += 1;
            let look = maybe_applied || lost_answer;
            match self.apply_once(shop, op, idempotency_key, look).await {
                Ok(Applied::AlreadyDone { detail }) if lost_answer => {
                    return Ok(Applied::Done {
                        mutations: 1,
                        detail: format!("{detail} (confirmed after the answer was lost)"),
                    });
                }
                Ok(applied) => {
                    tracing::info!(shop, kind = %op.kind(), done = applied.is_done(), "shopify write-back");
                    return Ok(applied);
                }
                Err(e) if e.is_transient() && backoff.allows(attempts) => {
                    lost_answer |= e.effect_unknown();
                    let wait = backoff.delay(attempts - 1, None);
                    tracing::info!(shop, kind = %op.kind(), error = %e, wait_ms = wait.as_millis() as u64, "write-back will re-read and retry");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// One try; `look`: read first even where a second write would change
    /// nothing.
    async fn apply_once(
        &self,
        shop: &str,
        op: &ShopifyOperation,
        key: &str,
        look: bool,
    ) -> Result<Applied> {
        match op {
            ShopifyOperation::TagsAdd(t) => {
                self.tags(shop, t, "tagsAdd", doc::TAGS_ADD, look).await
            }
            ShopifyOperation::TagsRemove(t) => {
                self.tags(shop, t, "tagsRemove", doc::TAGS_REMOVE, look)
                    .await
            }
            ShopifyOperation::NoteAppend(n) => self.note_append(shop, n, key).await,
            ShopifyOperation::SetMetafield(m) => self.metafield(shop, m, look).await,
            ShopifyOperation::HoldFulfillment(h) => self.hold(shop, h).await,
            ShopifyOperation::ReleaseFulfillment(r) => self.release(shop, r).await,
            ShopifyOperation::CancelOrder(c) => self.cancel(shop, c).await,
            ShopifyOperation::ApproveReturn(a) => self.approve_return(shop, a).await,
            ShopifyOperation::DeclineReturn(d) => self.decline_return(shop, d).await,
            ShopifyOperation::Refund(r) => self.refund(shop, r, key).await,
            ShopifyOperation::StoreCredit(s) => self.store_credit(shop, s, key).await,
        }
    }

    /// Run a request and return its root field's value (may be `null`).
    async fn run(
        &self,
        shop: &str,
        operation: &'static str,
        document: &str,
        variables: Value,
    ) -> Result<Value> {
        let mut data = self
            .execute(
                shop,
                &Request {
                    operation,
                    document,
                    variables,
                },
            )
            .await?;
        data.get_mut(operation)
            .map(Value::take)
            .ok_or_else(|| Error::Decode {
                shop: shop.to_string(),
                operation,
                detail: format!("no `{operation}` in the data"),
            })
    }

    /// Run a mutation and fail with its `userErrors` if it has any.
    async fn mutate(
        &self,
        shop: &str,
        operation: &'static str,
        document: &str,
        variables: Value,
        errors_field: &str,
    ) -> Result<Value> {
        let payload = self.run(shop, operation, document, variables).await?;
        let errors = user_errors(&payload, errors_field);
        if !errors.is_empty() {
            return Err(Error::UserErrors {
                shop: shop.to_string(),
                operation,
                errors,
            });
        }
        if payload.is_null() {
            return Err(Error::Decode {
                shop: shop.to_string(),
                operation,
                detail: "the payload is null".into(),
            });
        }
        Ok(payload)
    }

    async fn tags(
        &self,
        shop: &str,
        t: &TagsChange,
        operation: &'static str,
        document: &str,
        look: bool,
    ) -> Result<Applied> {
        let (id, kind) = target_gid(t.target);
        if look {
            let query = match t.target {
                Target::Order(_) => doc::ORDER_TAGS,
                Target::Customer(_) => doc::CUSTOMER_TAGS,
            };
            let node = self.run(shop, kind, query, json!({"id": id})).await?;
            if node.is_null() {
                return Err(Error::NotFound {
                    shop: shop.to_string(),
                    what: format!("{kind} {id}"),
                });
            }
            // Shopify compares tags without regard to case.
            let has: Vec<String> = node
                .get("tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_lowercase)
                .collect();
            let present = |tag: &String| has.contains(&tag.to_lowercase());
            let done = if operation == "tagsAdd" {
                t.tags.iter().all(present)
            } else {
                !t.tags.iter().any(present)
            };
            if done {
                return Ok(Applied::AlreadyDone {
                    detail: format!("{operation} {} on {id}: already so", t.tags.join(", ")),
                });
            }
        }
        self.mutate(
            shop,
            operation,
            document,
            json!({"id": id, "tags": t.tags}),
            "userErrors",
        )
        .await?;
        Ok(Applied::Done {
            mutations: 1,
            detail: format!("{operation} {} on {id}", t.tags.join(", ")),
        })
    }

    async fn note_append(&self, shop: &str, n: &NoteAppend, key: &str) -> Result<Applied> {
        let (id, kind) = target_gid(n.target);
        let (query, op, update, input_op) = match n.target {
            Target::Order(_) => (doc::ORDER_NOTE, "order", doc::ORDER_UPDATE, "orderUpdate"),
            Target::Customer(_) => (
                doc::CUSTOMER_NOTE,
                "customer",
                doc::CUSTOMER_UPDATE,
                "customerUpdate",
            ),
        };
        let current = self.run(shop, op, query, json!({"id": id})).await?;
        if current.is_null() {
            return Err(Error::NotFound {
                shop: shop.to_string(),
                what: format!("{kind} {id}"),
            });
        }
        let note = current.get("note").and_then(Value::as_str).unwrap_or("");
        let marker = note_marker(key);
        if note.contains(&marker) {
            return Ok(Applied::AlreadyDone {
                detail: format!("the note of {id} already has {marker}"),
            });
        }
        let line = format!("{} {marker}", n.text.trim_end());
        // Staff text stays byte for byte; our line goes underneath.
        let new_note = if note.is_empty() {
            line
        } else if note.ends_with('\n') {
            format!("{note}{line}")
        } else {
            format!("{note}\n{line}")
        };
        self.mutate(
            shop,
            input_op,
            update,
            json!({"input": {"id": id, "note": new_note}}),
            "userErrors",
        )
        .await?;
        Ok(Applied::Done {
            mutations: 1,
            detail: format!("appended a line to the note of {id}"),
        })
    }

    async fn metafield(&self, shop: &str, m: &Metafield, look: bool) -> Result<Applied> {
        let (owner, kind) = target_gid(m.target);
        if look {
            let query = match m.target {
                Target::Order(_) => doc::ORDER_METAFIELD,
                Target::Customer(_) => doc::CUSTOMER_METAFIELD,
            };
            let vars = json!({"id": owner, "namespace": m.namespace, "key": m.key});
            let node = self.run(shop, kind, query, vars).await?;
            if node.is_null() {
                return Err(Error::NotFound {
                    shop: shop.to_string(),
                    what: format!("{kind} {owner}"),
                });
            }
            let current = node.get("metafield").filter(|v| !v.is_null());
            if let Some(current) = current
                && current.get("value").and_then(Value::as_str) == Some(m.value.as_str())
                && current.get("type").and_then(Value::as_str) == Some(m.ty.as_str())
            {
                return Ok(Applied::AlreadyDone {
                    detail: format!(
                        "metafield {}.{} on {owner}: already that value",
                        m.namespace, m.key
                    ),
                });
            }
        }
        let input = json!({"metafields": [{"ownerId": owner, "namespace": m.namespace, "key": m.key, "type": m.ty, "value": m.value}]});
        self.mutate(
            shop,
            "metafieldsSet",
            doc::METAFIELDS_SET,
            input,
            "userErrors",
        )
        .await?;
        Ok(Applied::Done {
            mutations: 1,
            detail: format!("set metafield {}.{} on {owner}", m.namespace, m.key),
        })
    }

    async fn fulfillment_orders(&self, shop: &str, order_id: u64) -> Result<Vec<Value>> {
        let id = gid::format("Order", order_id);
        let order = self
            .run(shop, "order", doc::FULFILLMENT_HOLDS, json!({"id": id}))
            .await?;
        if order.is_null() {
            return Err(Error::NotFound {
                shop: shop.to_string(),
                what: format!("order {id}"),
            });
        }
        Ok(nodes(&order, "/fulfillmentOrders/nodes"))
    }

    /// Ids of our holds on a fulfilment order with this handle.
    fn our_holds(fo: &Value, handle: &str) -> Vec<String> {
        nodes(fo, "/fulfillmentHolds")
            .iter()
            .filter(|h| h.get("handle").and_then(Value::as_str) == Some(handle))
            .filter(|h| h.get("heldByRequestingApp").and_then(Value::as_bool) == Some(true))
            .filter_map(|h| h.get("id").and_then(Value::as_str).map(str::to_string))
            .collect()
    }

    /// Whether fulfilment order `fo_id` of the order has a hold of ours
    /// with this handle, read afresh.
    async fn holds_on(&self, shop: &str, order_id: u64, fo_id: &str, handle: &str) -> Result<bool> {
        let fos = self.fulfillment_orders(shop, order_id).await?;
        Ok(fos
            .iter()
            .filter(|fo| fo.get("id").and_then(Value::as_str) == Some(fo_id))
            .any(|fo| !Self::our_holds(fo, handle).is_empty()))
    }

    async fn hold(&self, shop: &str, h: &HoldFulfillment) -> Result<Applied> {
        let fos = self.fulfillment_orders(shop, h.order_id).await?;
        let (mut placed, mut present, mut statuses) = (0u32, 0u32, Vec::new());
        for fo in &fos {
            let status = fo.get("status").and_then(Value::as_str).unwrap_or("");
            let fo_id = fo.get("id").and_then(Value::as_str).unwrap_or("");
            if !matches!(status, "OPEN" | "ON_HOLD") {
                statuses.push(status.to_string());
                continue;
            }
            if !Self::our_holds(fo, &h.handle).is_empty() {
                present += 1;
                continue;
            }
            let input = json!({
                "id": fo_id,
                "fulfillmentHold": {
                    "reason": h.reason.as_api(),
                    "reasonNotes": h.notes,
                    "notifyMerchant": false,
                    "handle": h.handle,
                    "externalId": format!("shopcase:{}", h.handle),
                }
            });
            match self
                .mutate(shop, "fulfillmentOrderHold", doc::HOLD, input, "userErrors")
                .await
            {
                Ok(_) => placed += 1,
                // An earlier request that timed out on our side may have
                // placed it since we looked (Shopify then refuses the
                // duplicate handle): look again before failing.
                Err(e @ Error::UserErrors { .. }) => {
                    if self.holds_on(shop, h.order_id, fo_id, &h.handle).await? {
                        present += 1;
                    } else {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        match (placed, present) {
            (0, 0) => Err(Error::Rejected {
                shop: shop.to_string(),
                operation: "fulfillmentOrderHold",
                reason: format!(
                    "order {} has no fulfillment order that can be held (statuses: {})",
                    h.order_id,
                    if statuses.is_empty() {
                        "none".to_string()
                    } else {
                        statuses.join(", ")
                    }
                ),
            }),
            (0, _) => Ok(Applied::AlreadyDone {
                detail: format!("hold `{}` is already on order {}", h.handle, h.order_id),
            }),
            (n, _) => Ok(Applied::Done {
                mutations: n,
                detail: format!("hold `{}` placed on order {}", h.handle, h.order_id),
            }),
        }
    }

    async fn release(&self, shop: &str, r: &ReleaseFulfillment) -> Result<Applied> {
        let fos = self.fulfillment_orders(shop, r.order_id).await?;
        let mut released = 0u32;
        for fo in &fos {
            let hold_ids = Self::our_holds(fo, &r.handle);
            // Never call release without hold ids: that releases every hold,
            // including the ones staff placed.
            if hold_ids.is_empty() {
                continue;
            }
            let fo_id = fo.get("id").and_then(Value::as_str).unwrap_or("");
            let input = json!({"id": fo_id, "holdIds": hold_ids, "externalId": format!("shopcase:{}", r.handle)});
            match self
                .mutate(
                    shop,
                    "fulfillmentOrderReleaseHold",
                    doc::RELEASE,
                    input,
                    "userErrors",
                )
                .await
            {
                Ok(_) => released += 1,
                // Released meanwhile by an earlier request of ours?
                Err(e @ Error::UserErrors { .. }) => {
                    if self.holds_on(shop, r.order_id, fo_id, &r.handle).await? {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        if released == 0 {
            return Ok(Applied::AlreadyDone {
                detail: format!("no hold `{}` on order {}", r.handle, r.order_id),
            });
        }
        Ok(Applied::Done {
            mutations: released,
            detail: format!("hold `{}` released on order {}", r.handle, r.order_id),
        })
    }

    async fn is_cancelled(&self, shop: &str, id: &str) -> Result<bool> {
        let order = self
            .run(shop, "order", doc::ORDER_CANCELLED, json!({"id": id}))
            .await?;
        if order.is_null() {
            return Err(Error::NotFound {
                shop: shop.to_string(),
                what: format!("order {id}"),
            });
        }
        Ok(!order.get("cancelledAt").is_none_or(Value::is_null))
    }

    async fn cancel(&self, shop: &str, c: &CancelOrder) -> Result<Applied> {
        let id = gid::format("Order", c.order_id);
        if self.is_cancelled(shop, &id).await? {
            return Ok(Applied::AlreadyDone {
                detail: format!("order {} is already cancelled", c.order_id),
            });
        }
        let vars = json!({
            "orderId": id,
            "reason": c.reason.as_api(),
            "restock": c.restock,
            "notifyCustomer": c.notify_customer,
            "staffNote": c.staff_note,
            // Money goes back through the separate, approvable refund action.
            "refundMethod": {"originalPaymentMethodsRefund": false},
        });
        match self
            .mutate(
                shop,
                "orderCancel",
                doc::ORDER_CANCEL,
                vars,
                "orderCancelUserErrors",
            )
            .await
        {
            Ok(_) => Ok(Applied::Done {
                mutations: 1,
                detail: format!("order {} cancelled", c.order_id),
            }),
            // Cancellation runs as a job: an earlier call's job may have
            // finished since we looked.
            Err(e @ Error::UserErrors { .. }) => match self.is_cancelled(shop, &id).await {
                Ok(true) => Ok(Applied::AlreadyDone {
                    detail: format!("order {} is already cancelled", c.order_id),
                }),
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    async fn return_status(&self, shop: &str, return_id: u64) -> Result<String> {
        let id = gid::format("Return", return_id);
        let r = self
            .run(shop, "return", doc::RETURN_STATUS, json!({"id": id}))
            .await?;
        if r.is_null() {
            return Err(Error::NotFound {
                shop: shop.to_string(),
                what: format!("return {id}"),
            });
        }
        Ok(r.get("status")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string())
    }

    async fn approve_return(&self, shop: &str, a: &ApproveReturn) -> Result<Applied> {
        let input = json!({"input": {"id": gid::format("Return", a.return_id), "notifyCustomer": a.notify_customer}});
        self.return_transition(
            shop,
            a.return_id,
            "returnApproveRequest",
            doc::RETURN_APPROVE,
            input,
            &["OPEN", "CLOSED"],
        )
        .await
    }

    async fn decline_return(&self, shop: &str, d: &DeclineReturn) -> Result<Applied> {
        let input = json!({"input": {
            "id": gid::format("Return", d.return_id),
            "declineReason": d.reason.as_api(),
            "declineNote": d.note,
            "notifyCustomer": d.notify_customer,
        }});
        self.return_transition(
            shop,
            d.return_id,
            "returnDeclineRequest",
            doc::RETURN_DECLINE,
            input,
            &["DECLINED"],
        )
        .await
    }

    /// Move a REQUESTED return on; `reached` are the statuses meaning the
    /// transition already happened.
    async fn return_transition(
        &self,
        shop: &str,
        return_id: u64,
        operation: &'static str,
        document: &str,
        input: Value,
        reached: &[&str],
    ) -> Result<Applied> {
        let status = self.return_status(shop, return_id).await?;
        if reached.contains(&status.as_str()) {
            return Ok(Applied::AlreadyDone {
                detail: format!("return {return_id} is already {status}"),
            });
        }
        if status != "REQUESTED" {
            return Err(Error::Rejected {
                shop: shop.to_string(),
                operation,
                reason: format!(
                    "return {return_id} is {status}; only a REQUESTED return can be approved or declined"
                ),
            });
        }
        match self
            .mutate(shop, operation, document, input, "userErrors")
            .await
        {
            Ok(_) => Ok(Applied::Done {
                mutations: 1,
                detail: format!("{operation} on return {return_id}"),
            }),
            Err(e @ Error::UserErrors { .. }) => match self.return_status(shop, return_id).await {
                Ok(s) if reached.contains(&s.as_str()) => Ok(Applied::AlreadyDone {
                    detail: format!("return {return_id} is already {s}"),
                }),
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    async fn refund(&self, shop: &str, r: &Refund, key: &str) -> Result<Applied> {
        let id = gid::format("Order", r.order_id);
        let rejected = |reason: String| Error::Rejected {
            shop: shop.to_string(),
            operation: "refundCreate",
            reason,
        };
        let order = self
            .run(shop, "order", doc::REFUND_STATE, json!({"id": id}))
            .await?;
        if order.is_null() {
            return Err(Error::NotFound {
                shop: shop.to_string(),
                what: format!("order {id}"),
            });
        }
        let marker = note_marker(key);
        let refunds = order
            .get("refunds")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(done) = refunds.iter().find(|f| {
            f.get("note")
                .and_then(Value::as_str)
                .is_some_and(|n| n.contains(&marker))
        }) {
            let refund_id = done.get("id").and_then(Value::as_str).unwrap_or("?");
            return Ok(Applied::AlreadyDone {
                detail: format!("refund {refund_id} already carries {marker}"),
            });
        }
        let amount = Amount::parse(&r.amount)
            .filter(|a| a.is_positive())
            .ok_or_else(|| rejected(format!("`{}` is not an amount", r.amount)))?;

        // What is still refundable, per successful sale/capture.
        let transactions = order
            .get("transactions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let success = |t: &&Value| str_at(t, "/status") == Some("SUCCESS");
        let mut parents: Vec<(String, String, Amount)> = Vec::new(); // (id, gateway, remaining)
        for t in transactions.iter().filter(success) {
            if matches!(str_at(t, "/kind"), Some("SALE" | "CAPTURE")) {
                let currency = str_at(t, "/amountSet/shopMoney/currencyCode").unwrap_or("");
                if currency != r.currency {
                    return Err(rejected(format!(
                        "order {} was paid in {currency}, the refund is in {}",
                        r.order_id, r.currency
                    )));
                }
                let paid = str_at(t, "/amountSet/shopMoney/amount")
                    .and_then(Amount::parse)
                    .unwrap_or(Amount::ZERO);
                let tid = str_at(t, "/id").unwrap_or("").to_string();
                parents.push((tid, str_at(t, "/gateway").unwrap_or("").to_string(), paid));
            }
        }
        for t in transactions
            .iter()
            .filter(success)
            .filter(|t| str_at(t, "/kind") == Some("REFUND"))
        {
            let refunded = str_at(t, "/amountSet/shopMoney/amount")
                .and_then(Amount::parse)
                .unwrap_or(Amount::ZERO);
            if let Some(p) = parents
                .iter_mut()
                .find(|p| Some(p.0.as_str()) == str_at(t, "/parentTransaction/id"))
            {
                p.2 = p.2.saturating_sub(refunded);
            }
        }
        let refundable = parents.iter().fold(Amount::ZERO, |acc, p| {
            acc.saturating_add(p.2.max(Amount::ZERO))
        });
        if amount > refundable {
            return Err(rejected(format!(
                "refund of {amount} {} exceeds the {refundable} {} still refundable on order {}",
                r.currency, r.currency, r.order_id
            )));
        }
        // Spread the amount over the payments, oldest first.
        let mut left = amount;
        let mut txs = Vec::new();
        for (parent, gateway, remaining) in &parents {
            if !left.is_positive() {
                break;
            }
            let take = left.min(*remaining);
            if !take.is_positive() {
                continue;
            }
            txs.push(json!({"orderId": id, "parentId": parent, "amount": take.to_string(), "gateway": gateway, "kind": "REFUND"}));
            left = left.saturating_sub(take);
        }
        let note = if r.note.trim().is_empty() {
            marker.clone()
        } else {
            format!("{} {marker}", r.note.trim_end())
        };
        let input = json!({"input": {"orderId": id, "note": note, "notify": r.notify_customer, "transactions": txs}});
        let document = doc::REFUND_CREATE.replace("KEY", &shopify_idempotency_key(key));
        let payload = self
            .mutate(shop, "refundCreate", &document, input, "userErrors")
            .await?;
        let refund_id = str_at(&payload, "/refund/id").unwrap_or("?");
        Ok(Applied::Done {
            mutations: 1,
            detail: format!(
                "refund {refund_id} of {amount} {} on order {}",
                r.currency, r.order_id
            ),
        })
    }

    async fn store_credit(&self, shop: &str, s: &StoreCredit, key: &str) -> Result<Applied> {
        let customer = gid::format("Customer", s.customer_id);
        let rejected = |reason: String| Error::Rejected {
            shop: shop.to_string(),
            operation: "storeCreditAccountCredit",
            reason,
        };
        let amount = Amount::parse(&s.amount)
            .filter(|a| a.is_positive())
            .ok_or_else(|| rejected(format!("`{}` is not an amount", s.amount)))?;
        let record_key = format!(
            "store-credit-{}",
            hex::encode(&digest("store-credit", key)[..8])
        );
        let vars =
            json!({"id": customer, "namespace": HOST_METAFIELD_NAMESPACE, "key": record_key});
        let state = self
            .run(shop, "customer", doc::STORE_CREDIT_STATE, vars)
            .await?;
        if state.is_null() {
            return Err(Error::NotFound {
                shop: shop.to_string(),
                what: format!("customer {customer}"),
            });
        }
        let record: Option<Value> =
            str_at(&state, "/metafield/value").and_then(|v| serde_json::from_str(v).ok());
        if record.as_ref().and_then(|r| str_at(r, "/state")) == Some("done") {
            return Ok(Applied::AlreadyDone {
                detail: format!("store credit for this key was issued to {customer}"),
            });
        }
        // Credit transactions of the account in this currency, newest first.
        let transactions: Vec<Value> = nodes(&state, "/storeCreditAccounts/nodes")
            .into_iter()
            .filter(|a| str_at(a, "/balance/currencyCode") == Some(s.currency.as_str()))
            .flat_map(|a| nodes(&a, "/transactions/nodes"))
            .collect();
        let page_full = transactions.len() >= 25;
        let credits: Vec<&Value> = transactions
            .iter()
            .filter(|t| str_at(t, "/__typename") == Some("StoreCreditAccountCreditTransaction"))
            .collect();

        if let Some(record) = &record {
            // An earlier attempt got as far as the write-ahead record: did
            // its credit go through?
            let before = str_at(record, "/before");
            let newer: Vec<&Value> = credits
                .iter()
                .copied()
                .take_while(|t| str_at(t, "/id") != before)
                .collect();
            if before.is_some() && newer.len() == credits.len() && page_full {
                return Err(rejected(format!(
                    "cannot tell whether an earlier attempt credited customer {}: too many transactions since; check the account by hand",
                    s.customer_id
                )));
            }
            if let Some(t) = newer
                .iter()
                .find(|t| str_at(t, "/amount/amount").and_then(Amount::parse) == Some(amount))
            {
                let tx = str_at(t, "/id").unwrap_or("?").to_string();
                self.write_credit_record(
                    shop,
                    &customer,
                    &record_key,
                    json!({"v": 1, "state": "done", "transaction": tx}),
                )
                .await?;
                return Ok(Applied::AlreadyDone {
                    detail: format!("store credit {tx} was issued by an earlier attempt"),
                });
            }
        } else {
            let before = credits.first().and_then(|t| str_at(t, "/id"));
            let intent = json!({"v": 1, "state": "intent", "before": before, "amount": amount.to_string(), "currency": s.currency});
            self.write_credit_record(shop, &customer, &record_key, intent)
                .await?;
        }

        let mut credit_input = json!({"creditAmount": {"amount": amount.to_string(), "currencyCode": s.currency}, "notify": s.notify_customer});
        if let Some(expires) = &s.expires_at {
            credit_input["expiresAt"] = json!(expires);
        }
        let payload = self
            .mutate(
                shop,
                "storeCreditAccountCredit",
                doc::STORE_CREDIT,
                json!({"id": customer, "creditInput": credit_input}),
                "userErrors",
            )
            .await?;
        let tx = str_at(&payload, "/storeCreditAccountTransaction/id")
            .unwrap_or("?")
            .to_string();
        // The credit is made; if marking the record fails, the next attempt
        // finds the transaction instead.
        if let Err(e) = self
            .write_credit_record(
                shop,
                &customer,
                &record_key,
                json!({"v": 1, "state": "done", "transaction": tx}),
            )
            .await
        {
            tracing::warn!(shop, error = %e, "store credit issued but its record was not marked done");
        }
        Ok(Applied::Done {
            mutations: 1,
            detail: format!(
                "store credit {tx} of {amount} {} to customer {}",
                s.currency, s.customer_id
            ),
        })
    }

    async fn write_credit_record(
        &self,
        shop: &str,
        customer: &str,
        key: &str,
        value: Value,
    ) -> Result<()> {
        let input = json!({"metafields": [{
            "ownerId": customer, "namespace": HOST_METAFIELD_NAMESPACE, "key": key, "type": "json", "value": value.to_string(),
        }]});
        self.mutate(
            shop,
            "metafieldsSet",
            doc::METAFIELDS_SET,
            input,
            "userErrors",
        )
        .await
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql;

    #[test]
    fn every_document_parses_with_the_operation_as_root_field() {
        let docs = [
            (doc::TAGS_ADD, "tagsAdd"),
            (doc::TAGS_REMOVE, "tagsRemove"),
            (doc::ORDER_NOTE, "order"),
            (doc::ORDER_UPDATE, "orderUpdate"),
            (doc::CUSTOMER_NOTE, "customer"),
            (doc::CUSTOMER_UPDATE, "customerUpdate"),
            (doc::METAFIELDS_SET, "metafieldsSet"),
            (doc::FULFILLMENT_HOLDS, "order"),
            (doc::HOLD, "fulfillmentOrderHold"),
            (doc::RELEASE, "fulfillmentOrderReleaseHold"),
            (doc::ORDER_CANCELLED, "order"),
            (doc::ORDER_CANCEL, "orderCancel"),
            (doc::RETURN_STATUS, "return"),
            (doc::RETURN_APPROVE, "returnApproveRequest"),
            (doc::RETURN_DECLINE, "returnDeclineRequest"),
            (doc::REFUND_STATE, "order"),
            (doc::REFUND_CREATE, "refundCreate"),
            (doc::STORE_CREDIT_STATE, "customer"),
            (doc::STORE_CREDIT, "storeCreditAccountCredit"),
        ];
        for (d, root) in docs {
            let parsed = graphql::parse(d).unwrap_or_else(|e| panic!("{root}: {e}"));
            assert_eq!(parsed.root_field, root);
        }
    }

    #[test]
    fn markers_and_keys_are_stable_and_distinct() {
        assert_eq!(note_marker("k1"), note_marker("k1"));
        assert_ne!(note_marker("k1"), note_marker("k2"));
        assert_eq!(note_marker("k1").len(), "[shopcase:]".len() + 12);
        let k = shopify_idempotency_key("evt:plugin:3");
        assert_eq!(k.len(), 36);
        assert_eq!(&k[14..15], "8", "version 8 UUID: {k}");
        assert_eq!(k, shopify_idempotency_key("evt:plugin:3"));
    }
}
