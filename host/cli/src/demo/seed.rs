//! The Shopify emulator's data for the demo, taken from the scenario event
//! files themselves (so the two cannot drift apart) and from
//! `customers.json` beside them (the customers' history: tags, order
//! counts, amounts spent), as `examples/events/scenarios/README.md`
//! describes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;
use shopcase_contract::EventFile;
use shopcase_contract::time::{SignedDuration, Timestamp};
use shopcase_shopify_emulator::model::{
    Customer, LineItem, MailingAddress, Order, Return, Seed, ShopSeed,
};

/// The scenario folders, in the order the demo plays them.
pub(crate) const FOLDERS: &[&str] = &[
    "normal",
    "order-problems",
    "fraud",
    "returns",
    "refund-approval",
    "vip-escalation",
    "delivery-issues",
];

/// How far the scenario files are moved so that their recorded present
/// (`timeline.json` beside them) is `now`.
pub(crate) fn shift_to(scenarios: &Path, now: Timestamp) -> Result<SignedDuration> {
    let path = scenarios.join("timeline.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let table: Value =
        serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
    let present = table
        .get("present")
        .and_then(Value::as_str)
        .with_context(|| format!("{}: no `present` timestamp", path.display()))?;
    let present = shopcase_contract::time::parse(present)
        .map_err(|e| anyhow::anyhow!("{}: `present`: {e}", path.display()))?;
    // Whole seconds, so recorded timestamps keep their precision.
    Ok(SignedDuration::from_secs(
        now.duration_since(present).as_secs(),
    ))
}

/// Every event file of a folder, in file-name order, moved by `shift`.
pub(crate) fn files(dir: &Path, shift: SignedDuration) -> Result<Vec<(PathBuf, EventFile)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            let file =
                EventFile::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            Ok((p, file.shifted(shift)))
        })
        .collect()
}

/// The emulator seed: one store with every order, customer and return the
/// scenario files mention, moved in time by `shift` like the events.
pub(crate) fn build(
    scenarios: &Path,
    shop: &str,
    token: &str,
    shift: SignedDuration,
) -> Result<Seed> {
    let mut orders: BTreeMap<u64, Order> = BTreeMap::new();
    let mut returns: BTreeMap<u64, Return> = BTreeMap::new();
    let mut referenced: Vec<u64> = Vec::new();
    for folder in FOLDERS {
        for (_, file) in files(&scenarios.join(folder), shift)? {
            let p = &file.payload;
            let resource = file.topic.split('/').next().unwrap_or("");
            match resource {
                // The last payload of an order is its state when the demo starts.
                "orders" if p.get("line_items").is_some() => {
                    if let Some(order) = order_of(p) {
                        orders.insert(order.id, order);
                    }
                }
                "returns" => {
                    if let (Some(id), Some(order_id)) = (id(p.get("id")), order_ref(p)) {
                        returns.insert(
                            id,
                            Return {
                                id,
                                order_id,
                                name: p.get("name").and_then(Value::as_str).map(str::to_owned),
                                status: "REQUESTED".into(),
                                decline_reason: None,
                                decline_note: None,
                            },
                        );
                        referenced.push(order_id);
                    }
                }
                _ => referenced.extend(order_ref(p)),
            }
        }
    }
    // Orders only named by other resources (returns, disputes, shipments):
    // `orders.json` has their lines and customers, for the order look-up.
    let path = scenarios.join("orders.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let mut table: Value = serde_json::from_str(&text).context("orders.json")?;
    shopcase_contract::time::shift_json(&mut table, shift);
    for p in table["orders"]
        .as_array()
        .context("orders.json: `orders` is not a list")?
    {
        let order = order_of(p).context("orders.json: an order without an id")?;
        orders.entry(order.id).or_insert(order);
    }
    // Any other order a resource names: a paid, fulfilled order of 100 EUR.
    for id in referenced {
        orders.entry(id).or_insert_with(|| Order {
            id,
            name: None,
            customer_id: None,
            created_at: None,
            currency: Some("EUR".into()),
            total_price: "100.00".into(),
            financial_status: "PAID".into(),
            fulfillment_status: "FULFILLED".into(),
            note: String::new(),
            tags: vec![],
            cancelled_at: None,
            cancel_reason: None,
            staff_note: None,
            shipping_country: None,
            shipping_address: None,
            billing_address: None,
            fulfillments: vec![],
            risk: Default::default(),
            line_items: vec![],
            transactions: None,
            refunds: vec![],
            fulfillment_orders: None,
            metafields: vec![],
        });
    }

    let text = std::fs::read_to_string(scenarios.join("customers.json"))
        .with_context(|| format!("cannot read {}", scenarios.join("customers.json").display()))?;
    let mut table: Value = serde_json::from_str(&text).context("customers.json")?;
    shopcase_contract::time::shift_json(&mut table, shift);
    let mut customers: Vec<Customer> = serde_json::from_value(table["customers"].clone())
        .context("customers.json: `customers`")?;
    for o in orders.values() {
        if let Some(c) = o.customer_id
            && !customers.iter().any(|x| x.id == c)
        {
            customers
                .push(serde_json::from_value(serde_json::json!({"id": c})).context("customer")?);
        }
    }

    Ok(Seed {
        shops: vec![ShopSeed {
            domain: shop.to_owned(),
            tokens: vec![token.to_owned()],
            currency: "EUR".into(),
            customers,
            orders: orders.into_values().collect(),
            returns: returns.into_values().collect(),
        }],
    })
}

fn id(v: Option<&Value>) -> Option<u64> {
    shopcase_contract::event::id_of(v)
}

fn order_ref(p: &Value) -> Option<u64> {
    id(p.get("order_id")).or_else(|| id(p.get("order").and_then(|o| o.get("id"))))
}

fn text(p: &Value, key: &str) -> Option<String> {
    p.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// An emulator order from an `orders/*` payload.
fn order_of(p: &Value) -> Option<Order> {
    let order_id = id(p.get("id"))?;
    let fulfillment_status = match p.get("fulfillment_status").and_then(Value::as_str) {
        Some("fulfilled") => "FULFILLED",
        Some("partial") => "PARTIALLY_FULFILLED",
        Some("restocked") => "RESTOCKED",
        _ => "UNFULFILLED",
    };
    let tags = p
        .get("tags")
        .and_then(Value::as_str)
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let line_items = p
        .get("line_items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|i| LineItem {
                    id: id_of_item(i),
                    title: text(i, "title").unwrap_or_else(|| "item".into()),
                    quantity: i.get("quantity").and_then(Value::as_u64).unwrap_or(1) as u32,
                    price: text(i, "price").unwrap_or_else(|| "0.00".into()),
                    sku: text(i, "sku"),
                    variant_id: id(i.get("variant_id")),
                    product_id: id(i.get("product_id")),
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Order {
        id: order_id,
        name: text(p, "name"),
        customer_id: id(p.get("customer").and_then(|c| c.get("id"))),
        created_at: text(p, "created_at"),
        currency: text(p, "currency"),
        total_price: text(p, "total_price").unwrap_or_else(|| "0.00".into()),
        financial_status: text(p, "financial_status")
            .unwrap_or_else(|| "paid".into())
            .to_uppercase(),
        fulfillment_status: fulfillment_status.into(),
        note: text(p, "note").unwrap_or_default(),
        tags,
        cancelled_at: text(p, "cancelled_at"),
        cancel_reason: text(p, "cancel_reason").map(|r| r.to_uppercase()),
        staff_note: None,
        shipping_country: p
            .get("shipping_address")
            .and_then(|a| text(a, "country_code")),
        shipping_address: p.get("shipping_address").and_then(address_of),
        billing_address: p.get("billing_address").and_then(address_of),
        fulfillments: vec![],
        risk: Default::default(),
        line_items,
        transactions: None,
        refunds: vec![],
        fulfillment_orders: None,
        metafields: vec![],
    })
}

/// An emulator address from a payload's (REST) address object.
fn address_of(a: &Value) -> Option<MailingAddress> {
    a.as_object()?;
    Some(MailingAddress {
        first_name: text(a, "first_name"),
        last_name: text(a, "last_name"),
        phone: text(a, "phone"),
        company: text(a, "company"),
        address1: text(a, "address1"),
        address2: text(a, "address2"),
        city: text(a, "city"),
        province: text(a, "province"),
        province_code: text(a, "province_code"),
        country: text(a, "country"),
        country_code: text(a, "country_code"),
        zip: text(a, "zip"),
        latitude: a.get("latitude").and_then(Value::as_f64),
        longitude: a.get("longitude").and_then(Value::as_f64),
    })
}

fn id_of_item(i: &Value) -> u64 {
    id(i.get("id")).unwrap_or(0)
}
