//! The emulated mutations, with Shopify's `userErrors` for invalid
//! transitions. Each applied mutation names the gid it changed, for the log.

use serde_json::{Value, json};

use super::State;
use super::graphql_api::{
    Ctx, Handled, Outcome, Parts, bump, check_object, clip, money, parts, ue,
};
use super::model::{
    CreditAccount, CreditTransaction, Hold, MetafieldRecord, Order, RefundRecord,
    RiskAssessmentRecord, RiskFactRecord, Shop, Transaction,
};
use super::queries::{hold_json, metafield_json, note_value, return_json};
use shopcase_shopify::gid;
use shopcase_shopify::graphql;
use shopcase_shopify::money::Amount;

/// A payload that only carries user errors (nothing applied).
fn refused(mut payload: Value, errors_field: &str, errors: Vec<Value>) -> Outcome {
    payload[errors_field] = Value::Array(errors);
    Ok(Handled {
        payload,
        applied: None,
    })
}

pub(super) fn tags(st: &mut State, ctx: &Ctx<'_>, add: bool) -> Outcome {
    let (kind, id) = ctx.gid("id", &[], &["Order", "Customer"])?;
    let tags: Vec<String> = ctx
        .arg("tags")
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|t| t.trim().to_string())
        .collect();
    let target = gid::format(&kind, id);
    let p = parts(st, ctx)?;
    if let Some(t) = tags
        .iter()
        .find(|t| t.is_empty() || t.chars().count() > 255)
    {
        return refused(
            json!({"node": null}),
            "userErrors",
            vec![ue(
                &["tags"],
                format!("Tag `{}` must be 1-255 characters", clip(t)),
                None,
            )],
        );
    }
    let current = match kind.as_str() {
        "Order" => p.shop.orders.get_mut(&id).map(|o| &mut o.tags),
        _ => p.shop.customers.get_mut(&id).map(|c| &mut c.tags),
    };
    let Some(current) = current else {
        return refused(
            json!({"node": null}),
            "userErrors",
            vec![ue(&["id"], format!("{kind} does not exist"), None)],
        );
    };
    for t in &tags {
        // Shopify compares tags case-insensitively.
        let present = current.iter().position(|c| c.eq_ignore_ascii_case(t));
        match (add, present) {
            (true, None) => current.push(t.clone()),
            (false, Some(i)) => {
                current.remove(i);
            }
            _ => {}
        }
    }
    Ok(Handled {
        payload: json!({"node": {"id": target}, "userErrors": []}),
        applied: Some(target),
    })
}

const NOTE_MAX_CHARS: usize = 5000;

pub(super) fn order_update(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let input = ctx.input(
        "input",
        "OrderInput",
        &[
            "id",
            "note",
            "tags",
            "email",
            "customAttributes",
            "metafields",
            "shippingAddress",
            "poNumber",
        ],
        &["id"],
    )?;
    let (_, id) = ctx.gid("input", &["id"], &["Order"])?;
    let p = parts(st, ctx)?;
    let Some(order) = p.shop.orders.get_mut(&id) else {
        return refused(
            json!({"order": null}),
            "userErrors",
            vec![ue(&["id"], "Order does not exist", None)],
        );
    };
    if let Err(errors) = set_note_and_tags(&input, &mut order.note, &mut order.tags) {
        return refused(json!({"order": null}), "userErrors", errors);
    }
    let target = gid::format("Order", id);
    Ok(Handled {
        payload: json!({"order": {"id": target, "note": note_value(&order.note)}, "userErrors": []}),
        applied: Some(target),
    })
}

/// `note` and `tags` of an `OrderInput` / `CustomerInput`: both replace
/// what was there (as Shopify's do); a note over the limit is a user error.
fn set_note_and_tags(
    input: &serde_json::Map<String, Value>,
    note: &mut String,
    tags: &mut Vec<String>,
) -> Result<(), Vec<Value>> {
    if let Some(new) = input.get("note") {
        let new = new.as_str().unwrap_or("");
        if new.chars().count() > NOTE_MAX_CHARS {
            return Err(vec![ue(
                &["note"],
                format!("Note is too long (maximum is {NOTE_MAX_CHARS} characters)"),
                None,
            )]);
        }
        *note = new.to_string();
    }
    if let Some(new) = input.get("tags").and_then(Value::as_array) {
        *tags = new
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
    Ok(())
}

pub(super) fn customer_update(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let input = ctx.input(
        "input",
        "CustomerInput",
        &[
            "id",
            "note",
            "tags",
            "email",
            "firstName",
            "lastName",
            "phone",
            "metafields",
        ],
        &["id"],
    )?;
    let (_, id) = ctx.gid("input", &["id"], &["Customer"])?;
    let p = parts(st, ctx)?;
    let Some(customer) = p.shop.customers.get_mut(&id) else {
        return refused(
            json!({"customer": null}),
            "userErrors",
            vec![ue(&["id"], "Customer does not exist", None)],
        );
    };
    if let Err(errors) = set_note_and_tags(&input, &mut customer.note, &mut customer.tags) {
        return refused(json!({"customer": null}), "userErrors", errors);
    }
    let target = gid::format("Customer", id);
    Ok(Handled {
        payload: json!({"customer": {"id": target, "note": note_value(&customer.note)}, "userErrors": []}),
        applied: Some(target),
    })
}

const METAFIELD_TYPES: &[&str] = &[
    "boolean",
    "date",
    "date_time",
    "json",
    "money",
    "multi_line_text_field",
    "number_decimal",
    "number_integer",
    "single_line_text_field",
    "url",
];

pub(super) fn metafields_set(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let list = ctx
        .arg("metafields")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let empty = json!({"metafields": null});
    if list.is_empty() || list.len() > 25 {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["metafields"],
                "Between 1 and 25 metafields can be set at once",
                Some("LESS_THAN_OR_EQUAL_TO"),
            )],
        );
    }
    // Check everything first: the call is atomic.
    let mut planned = Vec::new();
    for (i, m) in list.iter().enumerate() {
        let obj = m.as_object().cloned().unwrap_or_default();
        let idx = i.to_string();
        check_object(
            &obj,
            "MetafieldsSetInput",
            &[
                "ownerId",
                "namespace",
                "key",
                "type",
                "value",
                "compareDigest",
            ],
            &["ownerId", "key", "value"],
        )
        .map_err(|(k, why)| ctx.invalid("metafields", &[idx.as_str(), k.as_str()], why))?;
        let (kind, owner) = ctx.gid(
            "metafields",
            &[idx.as_str(), "ownerId"],
            &["Order", "Customer"],
        )?;
        let s = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (namespace, key, ty, value) = (s("namespace"), s("key"), s("type"), s("value"));
        let field = |f: &'static str| vec!["metafields".to_string(), idx.clone(), f.to_string()];
        let bare_ns = namespace.strip_prefix("$app:").unwrap_or(&namespace);
        let problem =
            if bare_ns.len() < 3 && !namespace.starts_with("$app") || namespace.len() > 255 {
                Some((
                    field("namespace"),
                    "Namespace must be 3-255 characters",
                    "INVALID",
                ))
            } else if key.len() < 2
                || key.len() > 64
                || !key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                Some((
                    field("key"),
                    "Key must be 2-64 letters, digits, `-` or `_`",
                    "INVALID",
                ))
            } else if !METAFIELD_TYPES.contains(&ty.as_str()) {
                Some((
                    field("type"),
                    "Type is not a supported metafield type",
                    "INVALID_TYPE",
                ))
            } else if ty == "json" && serde_json::from_str::<Value>(&value).is_err() {
                Some((field("value"), "Value must be valid JSON", "INVALID_VALUE"))
            } else if value.len() > 65536 {
                Some((field("value"), "Value is too long", "TOO_LONG"))
            } else {
                None
            };
        if let Some((f, message, code)) = problem {
            return refused(
                empty,
                "userErrors",
                vec![json!({"field": f, "message": message, "code": code})],
            );
        }
        planned.push((kind, owner, namespace, key, ty, value, idx));
    }
    let Parts { shop, next_id, .. } = parts(st, ctx)?;
    for (kind, owner, _, _, _, _, idx) in &planned {
        let exists = match kind.as_str() {
            "Order" => shop.orders.contains_key(owner),
            _ => shop.customers.contains_key(owner),
        };
        if !exists {
            return refused(
                empty,
                "userErrors",
                vec![
                    json!({"field": ["metafields", idx, "ownerId"], "message": "Owner does not exist", "code": "INVALID"}),
                ],
            );
        }
    }
    let mut written = Vec::new();
    let target = planned
        .first()
        .map(|(k, o, ..)| gid::format(k, *o))
        .unwrap_or_default();
    for (kind, owner, namespace, key, ty, value, _) in planned {
        let fields = match kind.as_str() {
            "Order" => shop.orders.get_mut(&owner).map(|o| &mut o.metafields),
            _ => shop.customers.get_mut(&owner).map(|c| &mut c.metafields),
        };
        let Some(fields) = fields else { continue };
        let record = match fields
            .iter_mut()
            .find(|m| m.namespace == namespace && m.key == key)
        {
            Some(m) => {
                m.ty = ty;
                m.value = value;
                m.clone()
            }
            None => {
                let m = MetafieldRecord {
                    id: bump(next_id),
                    namespace,
                    key,
                    ty,
                    value,
                };
                fields.push(m.clone());
                m
            }
        };
        written.push(metafield_json(&record));
    }
    Ok(Handled {
        payload: json!({"metafields": written, "userErrors": []}),
        applied: Some(target),
    })
}

const HOLD_REASONS: &[&str] = &[
    "AWAITING_PAYMENT",
    "HIGH_RISK_OF_FRAUD",
    "INCORRECT_ADDRESS",
    "INVENTORY_OUT_OF_STOCK",
    "UNKNOWN_DELIVERY_DATE",
    "AWAITING_RETURN_ITEMS",
    "OTHER",
];

/// Holds an app may have on one fulfilment order.
const MAX_APP_HOLDS: usize = 10;

fn find_fo(shop: &mut Shop, fo_id: u64) -> Option<(&mut Order, usize)> {
    shop.orders.values_mut().find_map(|o| {
        let i = o
            .fulfillment_orders
            .as_ref()?
            .iter()
            .position(|fo| fo.id == fo_id)?;
        Some((o, i))
    })
}

pub(super) fn hold(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let (_, fo_id) = ctx.gid("id", &[], &["FulfillmentOrder"])?;
    let input = ctx.input(
        "fulfillmentHold",
        "FulfillmentOrderHoldInput",
        &[
            "reason",
            "reasonNotes",
            "notifyMerchant",
            "handle",
            "externalId",
            "fulfillmentOrderLineItems",
        ],
        &["reason"],
    )?;
    let reason = ctx
        .enum_value(
            "fulfillmentHold",
            &["reason"],
            "FulfillmentHoldReason",
            HOLD_REASONS,
        )?
        .unwrap_or_default();
    let s = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_string);
    let (handle, notes, external_id) = (s("handle"), s("reasonNotes"), s("externalId"));
    let empty = json!({"fulfillmentHold": null, "fulfillmentOrder": null, "remainingFulfillmentOrder": null});
    if notes.as_ref().is_some_and(|n| n.chars().count() > 255) {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["fulfillmentHold", "reasonNotes"],
                "Reason notes is too long (maximum is 255 characters)",
                Some("TOO_LONG"),
            )],
        );
    }
    let Parts { shop, next_id, .. } = parts(st, ctx)?;
    let Some((order, i)) = find_fo(shop, fo_id) else {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["id"],
                "Fulfillment order does not exist.",
                Some("FULFILLMENT_ORDER_NOT_FOUND"),
            )],
        );
    };
    let Some(fo) = order.fulfillment_orders.as_mut().and_then(|f| f.get_mut(i)) else {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["id"],
                "Fulfillment order does not exist.",
                Some("FULFILLMENT_ORDER_NOT_FOUND"),
            )],
        );
    };
    if !matches!(fo.status.as_str(), "OPEN" | "ON_HOLD" | "SCHEDULED") {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["id"],
                format!(
                    "The fulfillment order's status ({}) does not allow it to be placed on hold.",
                    fo.status
                ),
                Some("INVALID_FULFILLMENT_ORDER_STATUS"),
            )],
        );
    }
    let app_holds: Vec<&Hold> = fo.holds.iter().filter(|h| h.by_app).collect();
    if handle.is_some() && app_holds.iter().any(|h| h.handle == handle) {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["fulfillmentHold", "handle"],
                "The handle provided for the fulfillment hold is already in use by this app for another hold on this fulfillment order.",
                Some("DUPLICATED_FULFILLMENT_HOLD_HANDLES"),
            )],
        );
    }
    if app_holds.len() >= MAX_APP_HOLDS {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["id"],
                "The maximum number of fulfillment holds for this fulfillment order has been reached for this app.",
                Some("FULFILLMENT_ORDER_HOLD_LIMIT_REACHED"),
            )],
        );
    }
    let hold = Hold {
        id: bump(next_id),
        handle,
        reason,
        reason_notes: notes,
        by_app: true,
        external_id,
    };
    fo.holds.push(hold.clone());
    fo.status = "ON_HOLD".into();
    let target = gid::format("FulfillmentOrder", fo.id);
    let payload = json!({
        "fulfillmentHold": hold_json(&hold),
        "fulfillmentOrder": {"id": target, "status": fo.status},
        "remainingFulfillmentOrder": null,
        "userErrors": [],
    });
    Ok(Handled {
        payload,
        applied: Some(target),
    })
}

pub(super) fn release_hold(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let (_, fo_id) = ctx.gid("id", &[], &["FulfillmentOrder"])?;
    let hold_ids: Option<Vec<u64>> = match ctx.arg("holdIds") {
        Value::Null => None,
        Value::Array(items) => {
            let mut ids = Vec::new();
            for i in 0..items.len() {
                ids.push(
                    ctx.gid("holdIds", &[&i.to_string()], &["FulfillmentHold"])?
                        .1,
                );
            }
            Some(ids)
        }
        _ => return Err(ctx.invalid("holdIds", &[], "Expected a list of ids")),
    };
    let empty = json!({"fulfillmentOrder": null});
    let p = parts(st, ctx)?;
    let Some((order, i)) = find_fo(p.shop, fo_id) else {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["id"],
                "Fulfillment order does not exist.",
                Some("FULFILLMENT_ORDER_NOT_FOUND"),
            )],
        );
    };
    let Some(fo) = order.fulfillment_orders.as_mut().and_then(|f| f.get_mut(i)) else {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["id"],
                "Fulfillment order does not exist.",
                Some("FULFILLMENT_ORDER_NOT_FOUND"),
            )],
        );
    };
    if fo.status != "ON_HOLD" || fo.holds.is_empty() {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["id"],
                "The fulfillment order is not on hold.",
                Some("INVALID_FULFILLMENT_ORDER_STATUS"),
            )],
        );
    }
    match hold_ids {
        // Shopify's documented behaviour: no ids releases every hold.
        None => fo.holds.clear(),
        Some(ids) => {
            if let Some(unknown) = ids.iter().find(|id| !fo.holds.iter().any(|h| h.id == **id)) {
                return refused(
                    empty,
                    "userErrors",
                    vec![ue(
                        &["holdIds"],
                        format!(
                            "Fulfillment hold {} does not exist on this fulfillment order.",
                            gid::format("FulfillmentHold", *unknown)
                        ),
                        Some("INVALID_FULFILLMENT_HOLD"),
                    )],
                );
            }
            fo.holds.retain(|h| !ids.contains(&h.id));
        }
    }
    if fo.holds.is_empty() {
        fo.status = "OPEN".into();
    }
    let target = gid::format("FulfillmentOrder", fo.id);
    Ok(Handled {
        payload: json!({"fulfillmentOrder": {"id": target, "status": fo.status}, "userErrors": []}),
        applied: Some(target),
    })
}

const CANCEL_REASONS: &[&str] = &[
    "CUSTOMER",
    "DECLINED",
    "FRAUD",
    "INVENTORY",
    "STAFF",
    "OTHER",
];

/// Per successful sale/capture: (transaction id, gateway, still refundable).
fn refundable(o: &Order) -> Vec<(u64, String, Amount)> {
    let txs = o.transactions.as_deref().unwrap_or_default();
    let mut parents: Vec<(u64, String, Amount)> = txs
        .iter()
        .filter(|t| t.status == "SUCCESS" && matches!(t.kind.as_str(), "SALE" | "CAPTURE"))
        .map(|t| {
            (
                t.id,
                t.gateway.clone(),
                Amount::parse(&t.amount).unwrap_or(Amount::ZERO),
            )
        })
        .collect();
    for t in txs
        .iter()
        .filter(|t| t.status == "SUCCESS" && t.kind == "REFUND")
    {
        if let Some(p) = parents.iter_mut().find(|p| Some(p.0) == t.parent_id) {
            p.2 =
                p.2.saturating_sub(Amount::parse(&t.amount).unwrap_or(Amount::ZERO));
        }
    }
    parents
}

fn update_financial_status(o: &mut Order) {
    let left = refundable(o)
        .iter()
        .fold(Amount::ZERO, |acc, p| acc.saturating_add(p.2));
    if !o.refunds.is_empty() {
        o.financial_status = if left.is_positive() {
            "PARTIALLY_REFUNDED"
        } else {
            "REFUNDED"
        }
        .into();
    }
}

/// Record a refund of `parts` (parent id, gateway, amount) on `o`.
fn record_refund(
    o: &mut Order,
    parts: &[(u64, String, Amount)],
    note: String,
    now: &str,
    ids: &mut dyn FnMut() -> u64,
) -> RefundRecord {
    let mut total = Amount::ZERO;
    let mut tx_ids = Vec::new();
    for (parent, gateway, amount) in parts {
        let id = ids();
        o.transactions
            .get_or_insert_with(Vec::new)
            .push(Transaction {
                id,
                kind: "REFUND".into(),
                status: "SUCCESS".into(),
                gateway: gateway.clone(),
                amount: amount.to_string(),
                parent_id: Some(*parent),
                created_at: Some(now.to_string()),
            });
        tx_ids.push(id);
        total = total.saturating_add(*amount);
    }
    let refund = RefundRecord {
        id: ids(),
        note,
        amount: total.to_string(),
        created_at: Some(now.to_string()),
        transaction_ids: tx_ids,
    };
    o.refunds.push(refund.clone());
    update_financial_status(o);
    refund
}

pub(super) fn order_cancel(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let (_, id) = ctx.gid("orderId", &[], &["Order"])?;
    let reason = ctx.enum_value("reason", &[], "OrderCancelReason", CANCEL_REASONS)?;
    let Some(reason) = reason else {
        return Err(ctx.invalid("reason", &[], "Expected value to not be null"));
    };
    if ctx.arg("restock").is_null() {
        return Err(ctx.invalid("restock", &[], "Expected value to not be null"));
    }
    let refund_method = ctx.arg("refundMethod");
    let refund_to_original = refund_method
        .get("originalPaymentMethodsRefund")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || ctx.arg("refund").as_bool().unwrap_or(false);
    let staff_note = ctx.arg("staffNote").as_str().map(str::to_string);
    let empty = json!({"job": null, "userErrors": []});
    let Parts { shop, next_id, .. } = parts(st, ctx)?;
    let Some(order) = shop.orders.get_mut(&id) else {
        return refused(
            empty,
            "orderCancelUserErrors",
            vec![ue(&["orderId"], "Order does not exist", Some("NOT_FOUND"))],
        );
    };
    if order.cancelled_at.is_some() {
        return refused(
            empty,
            "orderCancelUserErrors",
            vec![ue(
                &["orderId"],
                "Order has already been cancelled",
                Some("INVALID"),
            )],
        );
    }
    if staff_note.as_ref().is_some_and(|n| n.chars().count() > 255) {
        return refused(
            empty,
            "orderCancelUserErrors",
            vec![ue(
                &["staffNote"],
                "Staff note is too long (maximum is 255 characters)",
                Some("INVALID"),
            )],
        );
    }
    order.cancelled_at = Some(ctx.now.clone());
    order.cancel_reason = Some(reason);
    order.staff_note = staff_note;
    for fo in order.fulfillment_orders.iter_mut().flatten() {
        if matches!(fo.status.as_str(), "OPEN" | "ON_HOLD" | "SCHEDULED") {
            fo.status = "CANCELLED".into();
            fo.holds.clear();
        }
    }
    if refund_to_original {
        let parts: Vec<_> = refundable(order)
            .into_iter()
            .filter(|p| p.2.is_positive())
            .collect();
        if !parts.is_empty() {
            record_refund(
                order,
                &parts,
                "Order cancelled".into(),
                &ctx.now,
                &mut || bump(next_id),
            );
        }
    }
    let job = bump(next_id);
    let target = gid::format("Order", id);
    Ok(Handled {
        payload: json!({"job": {"id": gid::format("Job", job), "done": true}, "orderCancelUserErrors": [], "userErrors": []}),
        applied: Some(target),
    })
}

fn return_transition(st: &mut State, ctx: &Ctx<'_>, decline: bool) -> Outcome {
    let (type_name, allowed, required): (&str, &[&str], &[&str]) = if decline {
        (
            "ReturnDeclineRequestInput",
            &["id", "declineReason", "declineNote", "notifyCustomer"],
            &["id", "declineReason"],
        )
    } else {
        (
            "ReturnApproveRequestInput",
            &["id", "notifyCustomer"],
            &["id"],
        )
    };
    let input = ctx.input("input", type_name, allowed, required)?;
    let (_, id) = ctx.gid("input", &["id"], &["Return"])?;
    let reason = if decline {
        ctx.enum_value(
            "input",
            &["declineReason"],
            "ReturnDeclineReason",
            &["FINAL_SALE", "RETURN_PERIOD_ENDED", "OTHER"],
        )?
    } else {
        None
    };
    let note = input
        .get("declineNote")
        .and_then(Value::as_str)
        .map(str::to_string);
    let empty = json!({"return": null});
    if note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["input", "declineNote"],
                "Decline note is too long (maximum is 500 characters)",
                Some("TOO_LONG"),
            )],
        );
    }
    let p = parts(st, ctx)?;
    let Some(r) = p.shop.returns.get_mut(&id) else {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["input", "id"],
                "Return does not exist.",
                Some("NOT_FOUND"),
            )],
        );
    };
    if r.status != "REQUESTED" {
        let verb = if decline { "declinable" } else { "approvable" };
        let past = if decline { "declined" } else { "approved" };
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["input", "id"],
                format!(
                    "Return is not {verb}. Only returns with status REQUESTED can be {past} (it is {}).",
                    r.status
                ),
                Some("INVALID_STATE"),
            )],
        );
    }
    if decline {
        r.status = "DECLINED".into();
        r.decline_reason = reason;
        r.decline_note = note;
    } else {
        r.status = "OPEN".into();
    }
    let target = gid::format("Return", id);
    Ok(Handled {
        payload: json!({"return": return_json(r), "userErrors": []}),
        applied: Some(target),
    })
}

pub(super) fn return_approve(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    return_transition(st, ctx, false)
}

pub(super) fn return_decline(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    return_transition(st, ctx, true)
}

/// `@idempotent` became mandatory for `refundCreate` in 2026-04.
fn requires_idempotency(version: &str) -> bool {
    version == "unstable" || version >= "2026-04"
}

pub(super) fn refund_create(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let key = ctx
        .doc
        .directives
        .get("idempotent")
        .and_then(|d| d.get("key"))
        .map(|a| graphql::resolve(ctx.doc, a, ctx.vars));
    let key = match key {
        Some(Value::String(k)) if !k.is_empty() && k.len() <= 255 => Some(k),
        Some(_) => {
            return Err(vec![
                json!({"message": "The idempotency key must be a string of 1-255 characters", "extensions": {"code": "BAD_REQUEST"}}),
            ]);
        }
        None if requires_idempotency(&ctx.version) => {
            return Err(vec![json!({
                "message": "The @idempotent directive is required for the refundCreate mutation",
                "extensions": {"code": "BAD_REQUEST"},
            })]);
        }
        None => None,
    };
    let input = ctx.input(
        "input",
        "RefundInput",
        &[
            "orderId",
            "note",
            "notify",
            "transactions",
            "refundLineItems",
            "shipping",
            "currency",
            "refundDuties",
            "refundMethods",
            "allowOverRefunding",
        ],
        &["orderId"],
    )?;
    let (_, order_id) = ctx.gid("input", &["orderId"], &["Order"])?;
    let txs = input
        .get("transactions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut wanted = Vec::new();
    for (i, t) in txs.iter().enumerate() {
        let idx = i.to_string();
        let obj = t.as_object().cloned().unwrap_or_default();
        check_object(
            &obj,
            "OrderTransactionInput",
            &["amount", "gateway", "kind", "orderId", "parentId"],
            &["amount", "gateway", "kind", "orderId"],
        )
        .map_err(|(k, why)| {
            ctx.invalid("input", &["transactions", idx.as_str(), k.as_str()], why)
        })?;
        let kind = ctx.enum_value(
            "input",
            &["transactions", &idx, "kind"],
            "OrderTransactionKind",
            &[
                "SALE",
                "CAPTURE",
                "AUTHORIZATION",
                "REFUND",
                "VOID",
                "CHANGE",
                "EMV_AUTHORIZATION",
                "SUGGESTED_REFUND",
            ],
        )?;
        let parent = match obj.get("parentId") {
            Some(Value::Null) | None => None,
            Some(_) => Some(
                ctx.gid(
                    "input",
                    &["transactions", &idx, "parentId"],
                    &["OrderTransaction"],
                )?
                .1,
            ),
        };
        let amount = obj.get("amount").and_then(Amount::from_json);
        wanted.push((
            idx,
            kind.unwrap_or_default(),
            parent,
            amount,
            obj.get("gateway")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ));
    }
    let note = input
        .get("note")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let empty = json!({"refund": null, "order": null});

    let Parts {
        shop,
        next_id,
        idempotency,
    } = parts(st, ctx)?;
    let domain = shop.domain.clone();
    if let Some((first_input, first_payload)) = key
        .as_ref()
        .and_then(|k| idempotency.get(&(domain.clone(), k.clone())))
    {
        if *first_input == Value::Object(input.clone()) {
            // The first answer again; nothing applied.
            return Ok(Handled {
                payload: first_payload.clone(),
                applied: None,
            });
        }
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &[],
                "The same idempotency key cannot be used with different operation parameters.",
                Some("IDEMPOTENCY_KEY_PARAMETER_MISMATCH"),
            )],
        );
    }
    let shop_currency = shop.currency.clone();
    let Some(order) = shop.orders.get_mut(&order_id) else {
        return refused(
            empty,
            "userErrors",
            vec![ue(&["orderId"], "Order does not exist", None)],
        );
    };
    let currency = order.currency.clone().unwrap_or(shop_currency);
    let available = refundable(order);
    let mut plan: Vec<(u64, String, Amount)> = Vec::new();
    for (idx, kind, parent, amount, gateway) in &wanted {
        let field = |f: &'static str| vec!["transactions".to_string(), idx.clone(), f.to_string()];
        let err =
            |f: Vec<String>, message: String| json!({"field": f, "message": message, "code": null});
        if kind != "REFUND" {
            return refused(
                empty,
                "userErrors",
                vec![err(
                    field("kind"),
                    "Transactions in a refund must be of kind REFUND".into(),
                )],
            );
        }
        let Some(amount) = amount.filter(|a| a.is_positive()) else {
            return refused(
                empty,
                "userErrors",
                vec![err(
                    field("amount"),
                    "Amount must be greater than zero".into(),
                )],
            );
        };
        let Some(parent) = parent.and_then(|pid| available.iter().find(|a| a.0 == pid)) else {
            return refused(
                empty,
                "userErrors",
                vec![err(
                    field("parentId"),
                    "Parent transaction is not a successful sale or capture of this order".into(),
                )],
            );
        };
        let already = plan
            .iter()
            .filter(|p| p.0 == parent.0)
            .fold(Amount::ZERO, |acc, p| acc.saturating_add(p.2));
        let left = parent.2.saturating_sub(already);
        if amount > left {
            return refused(
                empty,
                "userErrors",
                vec![err(
                    field("amount"),
                    format!(
                        "Refund amount {amount} {currency} is greater than the {} {currency} that can still be refunded",
                        left.max(Amount::ZERO)
                    ),
                )],
            );
        }
        let gateway = if gateway.is_empty() {
            parent.1.clone()
        } else {
            gateway.clone()
        };
        plan.push((parent.0, gateway, amount));
    }
    let refund = record_refund(order, &plan, note, &ctx.now, &mut || bump(next_id));
    let target = gid::format("Order", order_id);
    let payload = json!({
        "refund": {
            "id": gid::format("Refund", refund.id),
            "note": note_value(&refund.note),
            "createdAt": refund.created_at,
            "totalRefundedSet": {"shopMoney": money(&refund.amount, &currency)},
        },
        "order": {"id": target, "displayFinancialStatus": order.financial_status},
        "userErrors": [],
    });
    if let Some(key) = key {
        idempotency.insert((domain, key), (Value::Object(input), payload.clone()));
    }
    Ok(Handled {
        payload,
        applied: Some(target),
    })
}

pub(super) fn store_credit(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let (kind, id) = ctx.gid("id", &[], &["Customer", "StoreCreditAccount"])?;
    let input = ctx.input(
        "creditInput",
        "StoreCreditAccountCreditInput",
        &["creditAmount", "expiresAt", "notify"],
        &["creditAmount"],
    )?;
    let amount_in = input.get("creditAmount").cloned().unwrap_or_default();
    let amount_obj = amount_in.as_object().cloned().unwrap_or_default();
    check_object(
        &amount_obj,
        "MoneyInput",
        &["amount", "currencyCode"],
        &["amount", "currencyCode"],
    )
    .map_err(|(k, why)| ctx.invalid("creditInput", &["creditAmount", k.as_str()], why))?;
    let currency = amount_obj
        .get("currencyCode")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let amount = amount_obj.get("amount").and_then(Amount::from_json);
    let expires_at = input
        .get("expiresAt")
        .and_then(Value::as_str)
        .map(str::to_string);
    let empty = json!({"storeCreditAccountTransaction": null});
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(ctx.invalid(
            "creditInput",
            &["creditAmount", "currencyCode"],
            format!("Expected \"{}\" to be a CurrencyCode", clip(&currency)),
        ));
    }
    let Some(amount) = amount.filter(|a| a.is_positive()) else {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["creditInput", "creditAmount", "amount"],
                "A positive amount must be used to credit a store credit account.",
                Some("NEGATIVE_OR_ZERO_AMOUNT"),
            )],
        );
    };
    if let Some(exp) = &expires_at {
        let past = shopcase_contract::time::parse(exp)
            .map(|t| t <= jiff::Timestamp::now())
            .unwrap_or(true);
        if past {
            return refused(
                empty,
                "userErrors",
                vec![ue(
                    &["creditInput", "expiresAt"],
                    "The expiry date must be in the future.",
                    Some("EXPIRES_AT_IN_PAST"),
                )],
            );
        }
    }
    let Parts { shop, next_id, .. } = parts(st, ctx)?;
    let customer = match kind.as_str() {
        "Customer" => shop.customers.get_mut(&id),
        _ => shop
            .customers
            .values_mut()
            .find(|c| c.store_credit_accounts.iter().any(|a| a.id == id)),
    };
    let Some(customer) = customer else {
        return refused(
            empty,
            "userErrors",
            vec![ue(
                &["id"],
                "Store credit account does not exist.",
                Some("ACCOUNT_NOT_FOUND"),
            )],
        );
    };
    let owner = gid::format("Customer", customer.id);
    let account = match kind.as_str() {
        "Customer" => match customer
            .store_credit_accounts
            .iter()
            .position(|a| a.currency == currency)
        {
            Some(i) => &mut customer.store_credit_accounts[i],
            None => {
                customer.store_credit_accounts.push(CreditAccount {
                    id: bump(next_id),
                    currency: currency.clone(),
                    transactions: vec![],
                });
                let last = customer.store_credit_accounts.len() - 1;
                &mut customer.store_credit_accounts[last]
            }
        },
        _ => {
            let Some(a) = customer
                .store_credit_accounts
                .iter_mut()
                .find(|a| a.id == id)
            else {
                return refused(
                    empty,
                    "userErrors",
                    vec![ue(
                        &["id"],
                        "Store credit account does not exist.",
                        Some("ACCOUNT_NOT_FOUND"),
                    )],
                );
            };
            if a.currency != currency {
                return refused(
                    empty,
                    "userErrors",
                    vec![ue(
                        &["creditInput", "creditAmount", "currencyCode"],
                        "The currency provided does not match the currency of the store credit account.",
                        Some("MISMATCHING_CURRENCY"),
                    )],
                );
            }
            a
        }
    };
    let tx = CreditTransaction {
        id: bump(next_id),
        kind: "CREDIT".into(),
        amount: amount.to_string(),
        created_at: Some(ctx.now.clone()),
        expires_at,
    };
    account.transactions.push(tx.clone());
    let balance = account.balance().to_string();
    let payload = json!({
        "storeCreditAccountTransaction": {
            "id": gid::format("StoreCreditAccountCreditTransaction", tx.id),
            "amount": money(&tx.amount, &currency),
            "balanceAfterTransaction": money(&balance, &currency),
            "createdAt": tx.created_at,
            "expiresAt": tx.expires_at,
            "account": {"id": gid::format("StoreCreditAccount", account.id), "balance": money(&balance, &currency)},
        },
        "userErrors": [],
    });
    Ok(Handled {
        payload,
        applied: Some(owner),
    })
}

/// The title the emulator gives the calling app on its risk assessments.
pub(super) const APP_TITLE: &str = "shopcase";

/// `orderRiskAssessmentCreate(orderRiskAssessmentInput: {orderId, riskLevel, facts})`:
/// the calling app's assessment, added to the order's risk.
pub(super) fn risk_assessment_create(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let arg = "orderRiskAssessmentInput";
    let input = ctx.input(
        arg,
        "OrderRiskAssessmentCreateInput",
        &["orderId", "riskLevel", "facts"],
        &["orderId", "riskLevel", "facts"],
    )?;
    let (_, id) = ctx.gid(arg, &["orderId"], &["Order"])?;
    const LEVELS: &[&str] = &["HIGH", "MEDIUM", "LOW", "NONE", "PENDING"];
    const SENTIMENTS: &[&str] = &["POSITIVE", "NEUTRAL", "NEGATIVE"];
    let level = input
        .get("riskLevel")
        .and_then(Value::as_str)
        .filter(|l| LEVELS.contains(l))
        .ok_or_else(|| ctx.invalid(arg, &["riskLevel"], "Expected a RiskAssessmentResult"))?
        .to_owned();
    let Some(raw_facts) = input.get("facts").and_then(Value::as_array) else {
        return Err(ctx.invalid(arg, &["facts"], "Expected a list"));
    };
    let mut facts = Vec::new();
    for f in raw_facts {
        let Value::Object(f) = f else {
            return Err(ctx.invalid(arg, &["facts"], "Expected an OrderRiskAssessmentFactInput"));
        };
        check_object(
            f,
            "OrderRiskAssessmentFactInput",
            &["description", "sentiment"],
            &["description", "sentiment"],
        )
        .map_err(|(k, why)| ctx.invalid(arg, &["facts", k.as_str()], why))?;
        let sentiment = f
            .get("sentiment")
            .and_then(Value::as_str)
            .filter(|s| SENTIMENTS.contains(s))
            .ok_or_else(|| {
                ctx.invalid(arg, &["facts", "sentiment"], "Expected a RiskFactSentiment")
            })?;
        facts.push(RiskFactRecord {
            description: f
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            sentiment: sentiment.to_owned(),
        });
    }
    let p = parts(st, ctx)?;
    let Some(order) = p.shop.orders.get_mut(&id) else {
        return refused(
            json!({"orderRiskAssessment": null}),
            "userErrors",
            vec![ue(
                &["orderRiskAssessmentInput", "orderId"],
                "Order does not exist",
                Some("NOT_FOUND"),
            )],
        );
    };
    let record = RiskAssessmentRecord {
        risk_level: level,
        provider: Some(APP_TITLE.to_owned()),
        facts,
    };
    let payload = json!({
        "orderRiskAssessment": {
            "riskLevel": record.risk_level,
            "provider": {"title": APP_TITLE},
            "facts": record.facts.iter().map(|f| json!({"description": f.description, "sentiment": f.sentiment})).collect::<Vec<_>>(),
        },
        "userErrors": [],
    });
    order.risk.assessments.push(record);
    Ok(Handled {
        payload,
        applied: Some(gid::format("Order", id)),
    })
}
