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
    Action, CaseKey, CaseStatus, CaseSummary, Comment, CreateTask, CustomerSummary, Event, Money,
    OpenCase, OrderDetails, OrderSummary, Priority, RequestApproval, ShopifyOperation, Transaction,
    UpdateCase,
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
