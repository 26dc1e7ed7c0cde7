//! The emulated queries (`order`, `customer`, `return`) and the JSON shapes
//! of the objects, shared with the mutations' payloads. Each answers a
//! superset of the fields the client selects (an order: its totals, line
//! items, addresses, fulfilments, transactions and `risk` too).

use serde_json::{Value, json};

use super::State;
use super::graphql_api::{Ctx, Handled, Outcome, money, parts};
use super::model::{
    CreditAccount, CreditTransaction, Customer, Hold, MailingAddress, MetafieldRecord, Order,
    Return, Risk, Shop,
};
use shopcase_shopify::gid;
use shopcase_shopify::money::Amount;

pub(super) fn order_currency<'o>(shop: &'o Shop, o: &'o Order) -> &'o str {
    o.currency.as_deref().unwrap_or(&shop.currency)
}

pub(super) fn note_value(note: &str) -> Value {
    if note.is_empty() {
        Value::Null
    } else {
        Value::String(note.to_string())
    }
}

/// A `MailingAddress`.
fn address_json(a: &MailingAddress) -> Value {
    let name = match (&a.first_name, &a.last_name) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(n), None) | (None, Some(n)) => Some(n.clone()),
        (None, None) => None,
    };
    json!({
        "firstName": a.first_name, "lastName": a.last_name, "name": name, "phone": a.phone,
        "company": a.company, "address1": a.address1, "address2": a.address2, "city": a.city,
        "province": a.province, "provinceCode": a.province_code, "country": a.country,
        "countryCodeV2": a.country_code, "zip": a.zip, "latitude": a.latitude, "longitude": a.longitude,
    })
}

/// The order's shipping address: the full one, or its country alone.
fn shipping_address_json(o: &Order) -> Value {
    match (&o.shipping_address, &o.shipping_country) {
        (Some(a), _) => address_json(a),
        (None, Some(c)) => json!({"countryCodeV2": c}),
        (None, None) => Value::Null,
    }
}

/// An `OrderRiskSummary`; see [`Risk`] for the derived recommendation.
fn risk_json(r: &Risk) -> Value {
    let rank = |l: &str| match l {
        "HIGH" => 3,
        "MEDIUM" => 2,
        "LOW" | "NONE" => 1,
        _ => 0,
    };
    let recommendation = r.recommendation.clone().unwrap_or_else(|| {
        match r.assessments.iter().map(|a| rank(&a.risk_level)).max() {
            Some(3) => "CANCEL",
            Some(2) => "INVESTIGATE",
            Some(1) => "ACCEPT",
            _ => "NONE",
        }
        .into()
    });
    json!({
        "recommendation": recommendation,
        "assessments": r.assessments.iter().map(|a| json!({
            "riskLevel": a.risk_level,
            "provider": a.provider.as_ref().map(|t| json!({"title": t})),
            "facts": a.facts.iter().map(|f| json!({"description": f.description, "sentiment": f.sentiment})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

pub(super) fn order_json(shop: &Shop, o: &Order, ctx: &Ctx<'_>) -> Value {
    let cur = order_currency(shop, o);
    let txs = o.transactions.as_deref().unwrap_or_default();
    let fos = o.fulfillment_orders.as_deref().unwrap_or_default();
    let total = Amount::parse(&o.total_price).unwrap_or(Amount::ZERO);
    let refunded = o.refunds.iter().fold(Amount::ZERO, |acc, r| {
        acc.saturating_add(Amount::parse(&r.amount).unwrap_or(Amount::ZERO))
    });
    let subtotal = o.line_items.iter().fold(Amount::ZERO, |acc, l| {
        let unit = Amount::parse(&l.price).unwrap_or(Amount::ZERO);
        (0..l.quantity).fold(acc, |acc, _| acc.saturating_add(unit))
    });
    // Paid in full by a captured sale unless the status says otherwise.
    let outstanding = match o.financial_status.as_str() {
        "PENDING" | "AUTHORIZED" | "PARTIALLY_PAID" => total,
        _ => Amount::ZERO,
    };
    let created = o.created_at.as_deref();
    json!({
        "id": gid::format("Order", o.id),
        "name": o.name,
        "note": note_value(&o.note),
        "tags": o.tags,
        "createdAt": o.created_at,
        "cancelledAt": o.cancelled_at,
        "cancelReason": o.cancel_reason,
        "currencyCode": cur,
        "displayFinancialStatus": o.financial_status,
        "displayFulfillmentStatus": o.fulfillment_status,
        "totalPriceSet": {"shopMoney": money(&o.total_price, cur)},
        "subtotalPriceSet": {"shopMoney": money(&subtotal.to_string(), cur)},
        "currentTotalPriceSet": {"shopMoney": money(&total.saturating_sub(refunded).to_string(), cur)},
        "totalOutstandingSet": {"shopMoney": money(&outstanding.to_string(), cur)},
        "totalRefundedSet": {"shopMoney": money(&refunded.to_string(), cur)},
        "customer": o.customer_id.map(|c| json!({"id": gid::format("Customer", c)})),
        "lineItems": {"nodes": o.line_items.iter().take(ctx.first("lineItems", 250)).map(|l| json!({
            "id": gid::format("LineItem", l.id),
            "title": l.title,
            "sku": l.sku,
            "quantity": l.quantity,
            "originalUnitPriceSet": {"shopMoney": money(&l.price, cur)},
            "variant": l.variant_id.map(|v| json!({"id": gid::format("ProductVariant", v)})),
            "product": l.product_id.map(|p| json!({"id": gid::format("Product", p)})),
        })).collect::<Vec<_>>()},
        "shippingAddress": shipping_address_json(o),
        "billingAddress": o.billing_address.as_ref().map(address_json),
        "fulfillments": o.fulfillments.iter().take(ctx.first("fulfillments", 250)).map(|f| json!({
            "id": gid::format("Fulfillment", f.id),
            "status": f.status,
            "createdAt": f.created_at.as_deref().or(created),
            "trackingInfo": if f.tracking_company.is_some() || f.tracking_number.is_some() {
                vec![json!({"company": f.tracking_company, "number": f.tracking_number})]
            } else {
                vec![]
            },
        })).collect::<Vec<_>>(),
        "risk": risk_json(&o.risk),
        "refunds": o.refunds.iter().take(ctx.first("refunds", 250)).map(|r| json!({
            "id": gid::format("Refund", r.id),
            "note": note_value(&r.note),
            "createdAt": r.created_at,
            "totalRefundedSet": {"shopMoney": money(&r.amount, cur)},
        })).collect::<Vec<_>>(),
        "transactions": txs.iter().take(ctx.first("transactions", 250)).map(|t| json!({
            "id": gid::format("OrderTransaction", t.id),
            "kind": t.kind,
            "status": t.status,
            "gateway": t.gateway,
            "amountSet": {"shopMoney": money(&t.amount, cur)},
            "createdAt": t.created_at.as_deref().or(created),
            "parentTransaction": t.parent_id.map(|p| json!({"id": gid::format("OrderTransaction", p)})),
        })).collect::<Vec<_>>(),
        "fulfillmentOrders": {"nodes": fos.iter().take(ctx.first("fulfillmentOrders", 250)).map(|fo| json!({
            "id": gid::format("FulfillmentOrder", fo.id),
            "status": fo.status,
            "fulfillmentHolds": fo.holds.iter().map(hold_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>()},
        "metafield": metafield_lookup(&o.metafields, ctx),
    })
}

pub(super) fn hold_json(h: &Hold) -> Value {
    json!({
        "id": gid::format("FulfillmentHold", h.id),
        "handle": h.handle,
        "reason": h.reason,
        "reasonNotes": h.reason_notes,
        "heldByRequestingApp": h.by_app,
        "displayReason": h.reason.replace('_', " ").to_lowercase(),
    })
}

pub(super) fn metafield_lookup(metafields: &[MetafieldRecord], ctx: &Ctx<'_>) -> Value {
    if !ctx.doc.selects("metafield") {
        return Value::Null;
    }
    let ns = ctx.field_arg("metafield", "namespace");
    let key = ctx.field_arg("metafield", "key");
    metafields
        .iter()
        .find(|m| Some(m.namespace.as_str()) == ns.as_str() && Some(m.key.as_str()) == key.as_str())
        .map_or(Value::Null, metafield_json)
}

pub(super) fn metafield_json(m: &MetafieldRecord) -> Value {
    json!({"id": gid::format("Metafield", m.id), "namespace": m.namespace, "key": m.key, "type": m.ty, "value": m.value})
}

pub(super) fn sort_key(created_at: Option<&str>) -> i64 {
    created_at
        .and_then(|s| shopcase_contract::time::parse(s).ok())
        .map_or(0, |t| t.as_millisecond())
}

pub(super) fn customer_json(shop: &Shop, c: &Customer, ctx: &Ctx<'_>) -> Value {
    let mut orders: Vec<&Order> = shop
        .orders
        .values()
        .filter(|o| o.customer_id == Some(c.id))
        .collect();
    orders.sort_by_key(|o| std::cmp::Reverse((sort_key(o.created_at.as_deref()), o.id)));
    let number_of_orders = c.number_of_orders.unwrap_or(orders.len() as u64);
    let amount_spent = c.amount_spent.clone().unwrap_or_else(|| {
        orders
            .iter()
            .filter(|o| o.cancelled_at.is_none())
            .fold(Amount::ZERO, |acc, o| {
                acc.saturating_add(Amount::parse(&o.total_price).unwrap_or(Amount::ZERO))
            })
            .to_string()
    });
    let tx_first = ctx.first("transactions", 250);
    let reverse = ctx
        .field_arg("transactions", "reverse")
        .as_bool()
        .unwrap_or(false);
    json!({
        "id": gid::format("Customer", c.id),
        "note": note_value(&c.note),
        "tags": c.tags,
        "createdAt": c.created_at,
        // UnsignedInt64 travels as a string.
        "numberOfOrders": number_of_orders.to_string(),
        "amountSpent": money(&amount_spent, &shop.currency),
        "orders": {"nodes": orders.iter().take(ctx.first("orders", 250)).map(|o| order_json(shop, o, ctx)).collect::<Vec<_>>()},
        "storeCreditAccounts": {"nodes": c.store_credit_accounts.iter().take(ctx.first("storeCreditAccounts", 250)).map(|a| {
            let mut txs: Vec<&CreditTransaction> = a.transactions.iter().collect();
            txs.sort_by_key(|t| (sort_key(t.created_at.as_deref()), t.id));
            if reverse {
                txs.reverse();
            }
            json!({
                "id": gid::format("StoreCreditAccount", a.id),
                "balance": money(&a.balance().to_string(), &a.currency),
                "transactions": {"nodes": txs.iter().take(tx_first).map(|t| credit_tx_json(a, t)).collect::<Vec<_>>()},
            })
        }).collect::<Vec<_>>()},
        "metafield": metafield_lookup(&c.metafields, ctx),
    })
}

pub(super) fn credit_tx_json(a: &CreditAccount, t: &CreditTransaction) -> Value {
    let (typename, kind) = if t.kind == "DEBIT" {
        (
            "StoreCreditAccountDebitTransaction",
            "StoreCreditAccountDebitTransaction",
        )
    } else {
        (
            "StoreCreditAccountCreditTransaction",
            "StoreCreditAccountCreditTransaction",
        )
    };
    json!({
        "__typename": typename,
        "id": gid::format(kind, t.id),
        "amount": money(&t.amount, &a.currency),
        "createdAt": t.created_at,
        "expiresAt": t.expires_at,
    })
}

pub(super) fn query_order(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let (_, id) = ctx.gid("id", &[], &["Order"])?;
    let p = parts(st, ctx)?;
    let payload = p
        .shop
        .orders
        .get(&id)
        .map_or(Value::Null, |o| order_json(p.shop, o, ctx));
    Ok(Handled {
        payload,
        applied: None,
    })
}

pub(super) fn query_customer(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let (_, id) = ctx.gid("id", &[], &["Customer"])?;
    let p = parts(st, ctx)?;
    let payload = p
        .shop
        .customers
        .get(&id)
        .map_or(Value::Null, |c| customer_json(p.shop, c, ctx));
    Ok(Handled {
        payload,
        applied: None,
    })
}

pub(super) fn return_json(r: &Return) -> Value {
    json!({
        "id": gid::format("Return", r.id),
        "name": r.name,
        "status": r.status,
        "order": {"id": gid::format("Order", r.order_id)},
        "decline": r.decline_reason.as_ref().map(|reason| json!({"reason": reason, "note": r.decline_note})),
    })
}

pub(super) fn query_return(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    let (_, id) = ctx.gid("id", &[], &["Return"])?;
    let p = parts(st, ctx)?;
    let payload = p.shop.returns.get(&id).map_or(Value::Null, return_json);
    Ok(Handled {
        payload,
        applied: None,
    })
}
