//! The host functions on native targets: a thread-local session that
//! [`super::Harness::run`] installs for one invocation and takes back
//! afterwards. Outside a run, a permissive empty session answers (no
//! settings, an empty key-value store), so plugin helpers can be called
//! directly in tests.
//!
//! The checks are the host's own (`shopcase_contract::host_rules`, which
//! `host/sandbox` applies too): grants, the event's own customer and case
//! subject and order, key and value sizes, writes per event, quota (estimated as the
//! host estimates it, erring high until the event commits), log lines
//! flattened and truncated with their byte cap, and the budget of host
//! calls per event, counted where the host counts them (a read the
//! event's own writes answer is not a call; the history, the order and
//! its risk are each asked once), and the order's addresses minimised to
//! the manifest's data classes as the host minimises them.
//! A missing grant stops the invocation like the host's `grant-denied`
//! trap: by unwinding to the harness.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use shopcase_contract::HostGrant;
use shopcase_contract::host_api::{
    HISTORY_MAX_ORDERS, KV_DEFAULT_QUOTA_BYTES, KV_DEFAULT_QUOTA_KEYS, ORDER_MAX_FULFILLMENTS,
    ORDER_MAX_LINE_ITEMS, ORDER_MAX_TRANSACTIONS, RISK_MAX_ASSESSMENTS, RISK_MAX_FACTS,
};
use shopcase_contract::host_rules::{self as rules, HostCallBudget, LogBudget, Refusal};

use super::{KvEntry, KvWrite, LogLine};
use crate::{
    CaseKey, CaseSummary, CustomerSummary, HostError, Level, OrderDetails, Resources, RiskSummary,
    SettingValue, Timestamp,
};

/// What one invocation sees and does.
#[derive(Debug)]
pub(crate) struct Session {
    /// Granted host functions; `None` grants all.
    pub(crate) host_grants: Option<BTreeSet<HostGrant>>,
    /// Granted case types (for `linked-case`); `None` grants all.
    pub(crate) case_types: Option<BTreeSet<String>>,
    /// Whether the plugin sees regions (the shipping country of
    /// `customer-history`'s orders), as the host decides.
    pub(crate) sees_region: bool,
    /// The data grants addresses of `order` are minimised to; `None` sees
    /// everything (no manifest).
    pub(crate) data_grants: Option<shopcase_contract::Grants>,
    pub(crate) settings: BTreeMap<String, SettingValue>,
    /// Committed entries, as of the start of the invocation.
    pub(crate) kv: BTreeMap<String, KvEntry>,
    /// This invocation's writes by key (`None` deletes), applied on success.
    pub(crate) pending: BTreeMap<String, Option<(String, Option<u32>)>>,
    /// The same writes in call order, for [`super::Run::kv_writes`].
    pub(crate) kv_writes: Vec<KvWrite>,
    /// The event's `triggered-at`, for expiry.
    pub(crate) now: Option<Timestamp>,
    pub(crate) resources: Resources,
    pub(crate) histories: BTreeMap<u64, CustomerSummary>,
    pub(crate) cases: Vec<(CaseKey, CaseSummary)>,
    pub(crate) orders: BTreeMap<u64, OrderDetails>,
    pub(crate) risks: BTreeMap<u64, RiskSummary>,
    pub(crate) logs: Vec<LogLine>,
    /// Bytes of log kept against `limits.log-bytes`, lines dropped past it.
    pub(crate) log_budget: LogBudget,
    /// Host calls made, as the host counts them.
    pub(crate) host_calls: HostCallBudget,
    /// Keys read from the store (not from this event's writes), and
    /// whether they were there.
    pub(crate) read: BTreeMap<String, bool>,
    /// Whether the key-value usage was asked (once per event).
    pub(crate) usage_asked: bool,
    /// The customer history's answer, asked once per event.
    pub(crate) history_answer: Option<(u64, Result<CustomerSummary, HostError>)>,
    /// The order's answer, asked once per event.
    pub(crate) order_answer: Option<Result<OrderDetails, HostError>>,
    /// The order risk's answer, asked once per event.
    pub(crate) risk_answer: Option<Result<RiskSummary, HostError>>,
    /// Set when a host function was called without its grant.
    pub(crate) denied: Option<(HostGrant, &'static str)>,
}

impl Session {
    /// Everything granted, nothing stored.
    pub(crate) fn permissive() -> Session {
        Session {
            host_grants: None,
            case_types: None,
            sees_region: true,
            data_grants: None,
            settings: BTreeMap::new(),
            kv: BTreeMap::new(),
            pending: BTreeMap::new(),
            kv_writes: Vec::new(),
            now: None,
            resources: Resources {
                order_id: None,
                customer_id: None,
                return_id: None,
                dispute_id: None,
                fulfillment_id: None,
                case_id: None,
            },
            histories: BTreeMap::new(),
            cases: Vec::new(),
            orders: BTreeMap::new(),
            risks: BTreeMap::new(),
            logs: Vec::new(),
            log_budget: LogBudget::new(shopcase_contract::Limits::DEFAULT.log_bytes),
            host_calls: HostCallBudget::default(),
            read: BTreeMap::new(),
            usage_asked: false,
            history_answer: None,
            order_answer: None,
            risk_answer: None,
            denied: None,
        }
    }

    fn kv_current(&self, key: &str) -> Option<String> {
        if let Some(w) = self.pending.get(key) {
            return w.as_ref().map(|(v, _)| v.clone());
        }
        self.kv_stored(key).map(|e| e.value.clone())
    }

    /// The committed entry of `key`, unless it has expired.
    fn kv_stored(&self, key: &str) -> Option<&KvEntry> {
        self.kv.get(key).filter(|e| self.live(e))
    }

    fn live(&self, e: &KvEntry) -> bool {
        !matches!((e.expires_at, self.now), (Some(exp), Some(now)) if exp <= now)
    }

    /// The committed entries' usage, `(keys, bytes)`, as the host's store
    /// reports it (expired entries not counted).
    fn kv_usage(&self) -> (u64, u64) {
        self.kv
            .iter()
            .filter(|(_, e)| self.live(e))
            .fold((0, 0), |(n, b), (k, e)| {
                (n + 1, b + (k.len() + e.value.len()) as u64)
            })
    }
}

/// Unwinds out of the plugin when a grant is missing; never a user panic.
pub(crate) struct GrantDeniedSignal;

thread_local! {
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
}

/// Make `session` the current one; returns the one it replaces.
pub(crate) fn install(session: Session) -> Option<Session> {
    SESSION.with(|s| s.replace(Some(session)))
}

/// Take the current session back, putting `previous` in its place.
pub(crate) fn take(previous: Option<Session>) -> Option<Session> {
    SESSION.with(|s| s.replace(previous))
}

/// Run `f` on the current session if `grant` is given; otherwise record the
/// denial and stop the plugin.
fn with<R>(grant: HostGrant, function: &'static str, f: impl FnOnce(&mut Session) -> R) -> R {
    let out = SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let session = s.get_or_insert_with(Session::permissive);
        if session
            .host_grants
            .as_ref()
            .is_some_and(|g| !g.contains(&grant))
        {
            session.denied = Some((grant, function));
            None
        } else {
            Some(f(session))
        }
    });
    match out {
        Some(r) => r,
        // Not a panic: `resume_unwind` skips the panic hook, and the harness
        // turns this into `grant-denied`, as the host's trap.
        None => std::panic::resume_unwind(Box::new(GrantDeniedSignal)),
    }
}

pub(crate) fn log(level: Level, message: &str) {
    with(HostGrant::Log, "host.log", |s| {
        let message = rules::log_line(message);
        if s.log_budget.admit(&message) {
            s.logs.push(LogLine { level, message });
        }
    })
}

pub(crate) fn setting(name: &str) -> Option<SettingValue> {
    with(HostGrant::Settings, "host.setting", |s| {
        s.settings.get(name).cloned()
    })
}

fn refused(r: Refusal) -> HostError {
    match r {
        Refusal::InvalidArgument(m) => HostError::InvalidArgument(m),
        Refusal::QuotaExceeded(m) => HostError::QuotaExceeded(m),
    }
}

/// A host call that reaches the store or a service: within the budget.
fn call(s: &mut Session) -> Result<(), HostError> {
    s.host_calls.admit().map_err(refused)
}

/// A read of `key`: this event's writes answer it, else the store does
/// (a host call).
fn read(s: &mut Session, key: &str) -> Result<Option<String>, HostError> {
    if !s.pending.contains_key(key) {
        call(s)?;
        let existed = s.kv_stored(key).is_some();
        s.read.entry(key.to_owned()).or_insert(existed);
    }
    Ok(s.kv_current(key))
}

pub(crate) fn kv_get(key: &str) -> Result<Option<String>, HostError> {
    with(HostGrant::Kv, "host.kv-get", |s| {
        rules::check_kv_key(key).map_err(refused)?;
        read(s, key)
    })
}

pub(crate) fn kv_set(key: &str, value: &str, ttl_seconds: Option<u32>) -> Result<(), HostError> {
    with(HostGrant::Kv, "host.kv-set", |s| {
        write(s, key, Some((value, ttl_seconds)))
    })
}

pub(crate) fn kv_delete(key: &str) -> Result<(), HostError> {
    with(HostGrant::Kv, "host.kv-delete", |s| write(s, key, None))
}

fn write(s: &mut Session, key: &str, value: Option<(&str, Option<u32>)>) -> Result<(), HostError> {
    rules::check_kv_key(key).map_err(refused)?;
    if let Some((v, _)) = value {
        rules::check_kv_value(v).map_err(refused)?;
    }
    rules::check_kv_writes(s.pending.len(), s.pending.contains_key(key)).map_err(refused)?;
    if let Some((v, _)) = value {
        // The host reads the key (if neither read nor written yet) and the
        // plugin's usage (once) to check the quota: host calls.
        if !s.read.contains_key(key) && !s.pending.contains_key(key) {
            read(s, key)?;
        }
        if !s.usage_asked {
            call(s)?;
            s.usage_asked = true;
        }
        // The store after this write, estimated as the host does (it errs
        // high: deletes free nothing and keys set again count again until
        // the event commits).
        let (start_keys, start_bytes) = s.kv_usage();
        let (keys, bytes) = rules::kv_usage_after_set(
            start_keys,
            start_bytes,
            s.pending
                .iter()
                .map(|(k, w)| (k.as_str(), w.as_ref().map(|(v, _)| v.as_str()))),
            |k| s.read.get(k).copied().unwrap_or(false),
            key,
            v,
        );
        rules::check_kv_quota(keys, bytes, KV_DEFAULT_QUOTA_KEYS, KV_DEFAULT_QUOTA_BYTES)
            .map_err(refused)?;
    }
    s.pending
        .insert(key.to_owned(), value.map(|(v, ttl)| (v.to_owned(), ttl)));
    s.kv_writes.push(match value {
        Some((v, ttl)) => KvWrite::Set {
            key: key.to_owned(),
            value: v.to_owned(),
            ttl_seconds: ttl,
        },
        None => KvWrite::Delete {
            key: key.to_owned(),
        },
    });
    Ok(())
}

pub(crate) fn customer_history(customer_id: u64) -> Result<CustomerSummary, HostError> {
    with(HostGrant::CustomerHistory, "host.customer-history", |s| {
        let resources = super::convert::resources_to_contract(&s.resources);
        // The customer of the event's order, once `order` has named it.
        let order_customer = match &s.order_answer {
            Some(Ok(o)) => o.customer_id,
            _ => None,
        };
        rules::check_history_customer(&resources, order_customer, customer_id).map_err(refused)?;
        // Asked once per event and customer, as the host does; later calls
        // get the same answer without a host call.
        let answer = match &s.history_answer {
            Some((id, a)) if *id == customer_id => a.clone(),
            _ => {
                let a = call(s).and_then(|()| {
                    s.histories.get(&customer_id).cloned().ok_or_else(|| {
                        HostError::Unavailable(format!(
                            "no history for customer {customer_id} in this run"
                        ))
                    })
                });
                s.history_answer = Some((customer_id, a.clone()));
                a
            }
        };
        let mut h = answer?;
        h.recent_orders.truncate(HISTORY_MAX_ORDERS);
        if !s.sees_region {
            for o in &mut h.recent_orders {
                o.shipping_country = None;
            }
        }
        Ok(h)
    })
}

pub(crate) fn linked_case(key: &CaseKey) -> Result<Option<CaseSummary>, HostError> {
    with(HostGrant::CaseLookup, "host.linked-case", |s| {
        let resources = super::convert::resources_to_contract(&s.resources);
        let host_key = shopcase_contract::action::CaseKey::from(key);
        rules::check_own_subject(&resources, host_key.subject).map_err(refused)?;
        let granted = s
            .case_types
            .as_ref()
            .is_none_or(|t| t.contains(&key.case_type));
        rules::check_case_type_granted(granted, &key.case_type).map_err(refused)?;
        call(s)?;
        Ok(s.cases
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, c)| c.clone()))
    })
}

pub(crate) fn order(order_id: u64) -> Result<OrderDetails, HostError> {
    with(HostGrant::OrderLookup, "host.order", |s| {
        let resources = super::convert::resources_to_contract(&s.resources);
        rules::check_own_order(&resources, order_id).map_err(refused)?;
        // Asked once per event, as the host does.
        let answer = match &s.order_answer {
            Some(a) => a.clone(),
            None => {
                let a = call(s).and_then(|()| {
                    s.orders.get(&order_id).cloned().ok_or_else(|| {
                        HostError::Unavailable(format!("no order {order_id} in this run"))
                    })
                });
                s.order_answer = Some(a.clone());
                a
            }
        };
        let mut o = answer?;
        o.line_items.truncate(ORDER_MAX_LINE_ITEMS);
        o.fulfillments.truncate(ORDER_MAX_FULFILLMENTS);
        o.transactions.truncate(ORDER_MAX_TRANSACTIONS);
        if let Some(grants) = &s.data_grants {
            let seen = |a: Option<crate::Address>| {
                a.and_then(|a| {
                    shopcase_contract::host_api::minimised_address(
                        super::convert::address_to_contract(a),
                        grants,
                    )
                })
                .map(super::convert::address_from_contract)
            };
            o.shipping_address = seen(o.shipping_address.take());
            o.billing_address = seen(o.billing_address.take());
        }
        Ok(o)
    })
}

pub(crate) fn order_risk(order_id: u64) -> Result<RiskSummary, HostError> {
    with(HostGrant::OrderRisk, "host.order-risk", |s| {
        let resources = super::convert::resources_to_contract(&s.resources);
        rules::check_own_order(&resources, order_id).map_err(refused)?;
        let answer = match &s.risk_answer {
            Some(a) => a.clone(),
            None => {
                let a = call(s).and_then(|()| {
                    s.risks.get(&order_id).cloned().ok_or_else(|| {
                        HostError::Unavailable(format!(
                            "no risk assessment of order {order_id} in this run"
                        ))
                    })
                });
                s.risk_answer = Some(a.clone());
                a
            }
        };
        let mut r = answer?;
        r.assessments.truncate(RISK_MAX_ASSESSMENTS);
        for a in &mut r.assessments {
            a.facts.truncate(RISK_MAX_FACTS);
        }
        Ok(r)
    })
}
