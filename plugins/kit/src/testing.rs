//! Helpers for the plugins' native tests (not compiled into components):
//! loading a plugin's fixtures, building its harness from its own
//! `plugin.toml`, and finding actions in a run.
//!
//! ```ignore
//! let fx = Fixtures::new(env!("CARGO_MANIFEST_DIR"));
//! let mut h = fx.harness();
//! let run = h.run::<MyPlugin>(&fx.event("orders-create-normal")).unwrap();
//! assert!(run.actions.is_empty());
//! ```

use std::path::{Path, PathBuf};

use shopcase_sdk::harness::Harness;
use shopcase_sdk::{
    Action, Address, CaseKey, CaseStatus, CaseSummary, Comment, CreateTask, CustomerSummary, Event,
    LineItem, Money, OpenCase, OrderDetails, OrderSummary, Priority, RequestApproval,
    ShopifyOperation, Transaction, UpdateCase,
};

/// A plugin crate's directory, its fixtures and manifest.
#[derive(Debug, Clone)]
pub struct Fixtures {
    dir: PathBuf,
}

impl Fixtures {
    /// The crate at `dir` (pass `env!("CARGO_MANIFEST_DIR")`).
    pub fn new(dir: impl AsRef<Path>) -> Fixtures {
        Fixtures {
            dir: dir.as_ref().to_path_buf(),
        }
    }

    /// A harness enforcing the crate's `plugin.toml`.
    ///
    /// # Panics
    /// If the manifest is invalid (a test failure).
    pub fn harness(&self) -> Harness {
        Harness::from_manifest(self.dir.join("plugin.toml"))
            .unwrap_or_else(|e| panic!("plugin.toml: {e}"))
    }

    /// The event in `tests/fixtures/<name>.json`.
    ///
    /// # Panics
    /// If the file is missing or not an event file.
    pub fn event(&self, name: &str) -> Event {
        self.file(&format!("tests/fixtures/{name}.json"))
    }

    /// The event in a file relative to the crate, e.g. a demo scenario in
    /// `../../examples/events/scenarios/...`.
    ///
    /// # Panics
    /// If the file is missing or not an event file.
    pub fn file(&self, relative: &str) -> Event {
        Event::from_file(self.dir.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
    }

    /// The demo scenario files of `folder` under
    /// `examples/events/scenarios/`, sorted by name.
    ///
    /// # Panics
    /// If the folder cannot be read.
    pub fn scenarios(&self, folder: &str) -> Vec<(String, Event)> {
        let dir = self
            .dir
            .join("../../examples/events/scenarios")
            .join(folder);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|n| {
                let e = Event::from_file(dir.join(&n)).unwrap_or_else(|e| panic!("{n}: {e}"));
                (n.trim_end_matches(".json").to_owned(), e)
            })
            .collect()
    }
}

impl Fixtures {
    /// The orders the demo scenario files name by id only
    /// (`examples/events/scenarios/orders.json`), as the host's `order`
    /// look-up answers them: paid in full by one Shopify Payments sale,
    /// fulfilled, addresses whole (the harness minimises them to the
    /// plugin's data grants, as the host does).
    ///
    /// # Panics
    /// If the file cannot be read or is not the expected shape.
    pub fn scenario_orders(&self) -> Vec<OrderDetails> {
        let path = self.dir.join("../../examples/events/scenarios/orders.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("orders.json: {e}"));
        doc["orders"]
            .as_array()
            .unwrap_or_else(|| panic!("orders.json: no `orders` list"))
            .iter()
            .map(order_details_of)
            .collect()
    }

    /// The customers of the demo scenarios
    /// (`examples/events/scenarios/customers.json`) as
    /// `host::customer_history` answers them, their recent orders being
    /// their [`Fixtures::scenario_orders`], newest first.
    ///
    /// # Panics
    /// If the file cannot be read or is not the expected shape.
    pub fn scenario_customers(&self) -> Vec<CustomerSummary> {
        let path = self
            .dir
            .join("../../examples/events/scenarios/customers.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("customers.json: {e}"));
        let orders = self.scenario_orders();
        doc["customers"]
            .as_array()
            .unwrap_or_else(|| panic!("customers.json: no `customers` list"))
            .iter()
            .map(|c| {
                let id = c["id"]
                    .as_u64()
                    .unwrap_or_else(|| panic!("customers.json: a customer without id"));
                let mut recent: Vec<OrderSummary> = orders
                    .iter()
                    .filter(|o| o.customer_id == Some(id))
                    .map(|o| OrderSummary {
                        id: o.id,
                        name: o.name.clone(),
                        created_at: o.created_at.clone(),
                        total_price: o.total.amount.clone(),
                        currency: o.currency.clone(),
                        financial_status: o.financial_status.clone(),
                        fulfillment_status: o.fulfillment_status.clone(),
                        cancelled: o.cancelled,
                        shipping_country: o
                            .shipping_address
                            .as_ref()
                            .and_then(|a| a.country_code.clone()),
                    })
                    .collect();
                recent.sort_by(|a, b| b.created_at.cmp(&a.created_at));
                let text = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
                CustomerSummary {
                    customer_id: id,
                    number_of_orders: c["number_of_orders"].as_u64().unwrap_or(0),
                    amount_spent: c["amount_spent"].as_str().unwrap_or("0.00").to_owned(),
                    currency: "EUR".to_owned(),
                    tags: c["tags"]
                        .as_array()
                        .map(|t| {
                            t.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                    created_at: text("created_at"),
                    recent_orders: recent,
                }
            })
            .collect()
    }

    /// [`Fixtures::harness`] answering the order look-up with every
    /// [`Fixtures::scenario_orders`] order and the customer history with
    /// every [`Fixtures::scenario_customers`] customer (a test may still
    /// set its own answers after this).
    pub fn harness_with_scenario_data(&self) -> Harness {
        let h = self
            .scenario_orders()
            .into_iter()
            .fold(self.harness(), Harness::order);
        self.scenario_customers()
            .into_iter()
            .fold(h, Harness::customer_history)
    }
}

/// An order as `host::order` answers it: paid in full (one successful
/// sale), unfulfilled, no addresses; `lines` are
/// `(line item id, title, SKU, quantity, unit price)`, prices in EUR.
pub fn order_details(
    id: u64,
    name: &str,
    customer_id: Option<u64>,
    lines: &[(u64, &str, &str, u32, &str)],
) -> OrderDetails {
    let cents: i64 = lines
        .iter()
        .map(|l| shopcase_sdk::money::parse_cents(l.4).unwrap_or(0) * i64::from(l.3))
        .sum();
    let total = shopcase_sdk::money::format_cents(cents);
    let mut o = order_details_of(&serde_json::json!({
        "id": id, "name": name, "currency": "EUR", "total_price": total,
        "created_at": "2026-11-20T10:00:00Z", "financial_status": "paid",
        "fulfillment_status": "unfulfilled",
    }));
    o.customer_id = customer_id;
    o.line_items = lines
        .iter()
        .map(|&(id, title, sku, quantity, price)| LineItem {
            id,
            title: title.to_owned(),
            sku: (!sku.is_empty()).then(|| sku.to_owned()),
            quantity,
            unit_price: Money {
                amount: price.to_owned(),
                currency: "EUR".to_owned(),
            },
            variant_id: None,
            product_id: None,
        })
        .collect();
    o
}

/// An order payload of `orders.json` as `host::order` answers it.
fn order_details_of(p: &serde_json::Value) -> OrderDetails {
    let text =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let currency = text(p, "currency").unwrap_or_else(|| "EUR".into());
    let money = |amount: String| Money {
        amount,
        currency: currency.clone(),
    };
    let total = text(p, "total_price").unwrap_or_else(|| "0.00".into());
    let created_at = text(p, "created_at").unwrap_or_default();
    let address = |a: Option<&serde_json::Value>| {
        a.filter(|a| a.is_object()).map(|a| Address {
            first_name: text(a, "first_name"),
            last_name: text(a, "last_name"),
            name: text(a, "name"),
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
            latitude: a.get("latitude").and_then(serde_json::Value::as_f64),
            longitude: a.get("longitude").and_then(serde_json::Value::as_f64),
        })
    };
    let id = |v: Option<&serde_json::Value>| v.and_then(serde_json::Value::as_u64);
    OrderDetails {
        id: id(p.get("id")).unwrap_or_else(|| panic!("orders.json: an order without id")),
        name: text(p, "name").unwrap_or_default(),
        created_at: created_at.clone(),
        currency: currency.clone(),
        subtotal: text(p, "subtotal_price").map(money),
        total: money(total.clone()),
        current_total: money(total.clone()),
        outstanding: money("0.00".into()),
        total_refunded: money("0.00".into()),
        financial_status: text(p, "financial_status")
            .unwrap_or_else(|| "paid".into())
            .to_uppercase(),
        fulfillment_status: text(p, "fulfillment_status")
            .unwrap_or_else(|| "unfulfilled".into())
            .to_uppercase(),
        cancelled: false,
        customer_id: id(p.get("customer").and_then(|c| c.get("id"))),
        line_items: p
            .get("line_items")
            .and_then(serde_json::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|i| LineItem {
                        id: id(i.get("id")).unwrap_or(0),
                        // Shopify's `LineItem.title`, as the host reads it
                        // (the payload's `name` adds the variant).
                        title: text(i, "title")
                            .or_else(|| text(i, "name"))
                            .unwrap_or_default(),
                        sku: text(i, "sku"),
                        quantity: id(i.get("quantity")).unwrap_or(1) as u32,
                        unit_price: money(text(i, "price").unwrap_or_else(|| "0.00".into())),
                        variant_id: id(i.get("variant_id")),
                        product_id: id(i.get("product_id")),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        shipping_address: address(p.get("shipping_address")),
        billing_address: address(p.get("billing_address")),
        fulfillments: vec![],
        transactions: vec![Transaction {
            kind: "SALE".into(),
            status: "SUCCESS".into(),
            gateway: Some("shopify_payments".into()),
            amount: money(total),
            created_at,
        }],
    }
}

/// The kinds of `actions`, e.g. `["open-case", "tags-add"]`.
pub fn kinds(actions: &[Action]) -> Vec<&'static str> {
    actions.iter().map(Action::kind).collect()
}

/// The only `open-case` in `actions`.
///
/// # Panics
/// If there is not exactly one.
pub fn open_case(actions: &[Action]) -> &OpenCase {
    let all: Vec<&OpenCase> = actions
        .iter()
        .filter_map(|a| match a {
            Action::OpenCase(o) => Some(o),
            _ => None,
        })
        .collect();
    match all.as_slice() {
        [one] => one,
        _ => panic!("expected one open-case in {:?}", kinds(actions)),
    }
}

/// Every `update-case` in `actions`.
pub fn updates(actions: &[Action]) -> Vec<&UpdateCase> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::UpdateCase(u) => Some(u),
            _ => None,
        })
        .collect()
}

/// Every `comment` in `actions`.
pub fn comments(actions: &[Action]) -> Vec<&Comment> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Comment(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// Every `create-task` in `actions`.
pub fn tasks(actions: &[Action]) -> Vec<&CreateTask> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateTask(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// Every `request-approval` in `actions`.
pub fn approvals(actions: &[Action]) -> Vec<&RequestApproval> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::RequestApproval(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// Every Shopify operation in `actions`.
pub fn operations(actions: &[Action]) -> Vec<&ShopifyOperation> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Shopify(op) => Some(op),
            _ => None,
        })
        .collect()
}

/// The value of a case attribute.
pub fn attr<'a>(case: &'a OpenCase, name: &str) -> Option<&'a str> {
    case.attributes
        .iter()
        .rev()
        .find(|a| a.name == name)
        .map(|a| a.value.as_str())
}

/// The text of a document of the case.
///
/// # Panics
/// If the case has no document of that name.
pub fn document_text(case: &OpenCase, name: &str) -> String {
    let d = case
        .documents
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no document {name} in {:?}",
                case.documents.iter().map(|d| &d.name).collect::<Vec<_>>()
            )
        });
    String::from_utf8_lossy(&d.content).into_owned()
}

/// The statuses `update-case` actions move to, in order.
pub fn statuses(actions: &[Action]) -> Vec<CaseStatus> {
    updates(actions).iter().filter_map(|u| u.status).collect()
}

/// A linked case as `host::linked_case` answers it.
pub fn linked(
    case_id: &str,
    number: &str,
    status: CaseStatus,
    priority: Priority,
    level: u8,
) -> CaseSummary {
    CaseSummary {
        case_id: case_id.to_owned(),
        case_number: number.to_owned(),
        status,
        priority,
        escalation_level: level,
        opened_at: "2026-11-26T10:00:00Z".to_owned(),
    }
}

/// A customer history as `host::customer_history` answers it.
pub fn history(
    customer_id: u64,
    orders: u64,
    spent: &str,
    tags: &[&str],
    created_at: &str,
    recent: Vec<OrderSummary>,
) -> CustomerSummary {
    CustomerSummary {
        customer_id,
        number_of_orders: orders,
        amount_spent: spent.to_owned(),
        currency: "EUR".to_owned(),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        created_at: created_at.to_owned(),
        recent_orders: recent,
    }
}

/// What `host::customer_history` answers for a customer Shopify no longer
/// knows (deleted, or redacted): no orders, nothing spent, no tags, no
/// creation time, no currency. An answer, not an error.
pub fn unknown_customer(customer_id: u64) -> CustomerSummary {
    CustomerSummary {
        customer_id,
        number_of_orders: 0,
        amount_spent: "0.00".to_owned(),
        currency: String::new(),
        tags: Vec::new(),
        created_at: String::new(),
        recent_orders: Vec::new(),
    }
}

/// One order of a customer history.
pub fn past_order(
    id: u64,
    name: &str,
    created_at: &str,
    total: &str,
    country: Option<&str>,
) -> OrderSummary {
    OrderSummary {
        id,
        name: name.to_owned(),
        created_at: created_at.to_owned(),
        total_price: total.to_owned(),
        currency: "EUR".to_owned(),
        financial_status: "PAID".to_owned(),
        fulfillment_status: "FULFILLED".to_owned(),
        cancelled: false,
        shipping_country: country.map(str::to_owned),
    }
}

/// Whether `key` is the key of `action` (for case actions).
pub fn is_for(action: &Action, key: &CaseKey) -> bool {
    action.case_key() == Some(key)
}

/// An order as `host::order` answers it: `name`, in EUR, total `total`,
/// with a successful sale of `paid` (none when `paid` is `0.00`) and a
/// successful refund of `refunded` (none when `0.00`).
pub fn paid_order(id: u64, name: &str, total: &str, paid: &str, refunded: &str) -> OrderDetails {
    let eur = |a: &str| Money {
        amount: a.to_owned(),
        currency: "EUR".to_owned(),
    };
    let tx = |kind: &str, amount: &str| Transaction {
        kind: kind.to_owned(),
        status: "SUCCESS".to_owned(),
        gateway: Some("shopify_payments".to_owned()),
        amount: eur(amount),
        created_at: "2026-11-26T09:00:00Z".to_owned(),
    };
    let mut transactions = Vec::new();
    if paid != "0.00" {
        transactions.push(tx("SALE", paid));
    }
    if refunded != "0.00" {
        transactions.push(tx("REFUND", refunded));
    }
    OrderDetails {
        id,
        name: name.to_owned(),
        created_at: "2026-11-26T09:00:00Z".to_owned(),
        currency: "EUR".to_owned(),
        subtotal: None,
        total: eur(total),
        current_total: eur(total),
        outstanding: eur("0.00"),
        total_refunded: eur(refunded),
        financial_status: if paid == "0.00" { "PENDING" } else { "PAID" }.to_owned(),
        fulfillment_status: "UNFULFILLED".to_owned(),
        cancelled: false,
        customer_id: None,
        line_items: Vec::new(),
        shipping_address: None,
        billing_address: None,
        fulfillments: Vec::new(),
        transactions,
    }
}
