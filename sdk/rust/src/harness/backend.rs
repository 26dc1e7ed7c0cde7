//! The host functions on native targets: a thread-local session that
//! [`super::Harness::run`] installs for one invocation and takes back
//! afterwards. Outside a run, a permissive empty session answers (no
//! settings, an empty key-value store), so plugin helpers can be called
//! directly in tests.
//!
//! The checks mirror the host's (`host/sandbox`): grants, the event's own
//! customer and case subject, key and value sizes, writes per event, quota,
//! and log truncation and caps. A missing grant stops the invocation like
//! the host's `grant-denied` trap: by unwinding to the harness.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use shopcase_contract::HostGrant;
use shopcase_contract::host_api::{
    HISTORY_MAX_ORDERS, KV_DEFAULT_QUOTA_BYTES, KV_DEFAULT_QUOTA_KEYS, KV_MAX_KEY_BYTES,
    KV_MAX_VALUE_BYTES, KV_MAX_WRITES_PER_CALL,
};

use super::{KvEntry, KvWrite, LogLine};
use crate::{
    CaseKey, CaseSummary, CustomerSummary, HostError, Level, Resources, SettingValue, Subject,
    Timestamp,
};

/// Longest log line kept, in bytes (as the host).
const MAX_LOG_LINE: usize = 1024;

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
    pub(crate) logs: Vec<LogLine>,
    pub(crate) log_bytes: u64,
    pub(crate) log_cap: u64,
    pub(crate) dropped_log_lines: u64,
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
            logs: Vec::new(),
            log_bytes: 0,
            log_cap: shopcase_contract::Limits::DEFAULT.log_bytes,
            dropped_log_lines: 0,
            denied: None,
        }
    }

    fn kv_current(&self, key: &str) -> Option<String> {
        if let Some(w) = self.pending.get(key) {
            return w.as_ref().map(|(v, _)| v.clone());
        }
        let e = self.kv.get(key)?;
        match (e.expires_at, self.now) {
            (Some(exp), Some(now)) if exp <= now => None,
            _ => Some(e.value.clone()),
        }
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
        let mut message = message.trim_end_matches(['\n', '\r']).to_owned();
        if message.len() > MAX_LOG_LINE {
            let mut end = MAX_LOG_LINE;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push('…');
        }
        let size = message.len() as u64;
        if s.log_bytes + size > s.log_cap {
            s.dropped_log_lines += 1;
            return;
        }
        s.log_bytes += size;
        s.logs.push(LogLine { level, message });
    })
}

pub(crate) fn setting(name: &str) -> Option<SettingValue> {
    with(HostGrant::Settings, "host.setting", |s| {
        s.settings.get(name).cloned()
    })
}

fn check_key(key: &str) -> Result<(), HostError> {
    if key.is_empty() || key.len() > KV_MAX_KEY_BYTES {
        return Err(HostError::InvalidArgument(format!(
            "keys are 1 to {KV_MAX_KEY_BYTES} bytes, this one is {}",
            key.len()
        )));
    }
    Ok(())
}

pub(crate) fn kv_get(key: &str) -> Result<Option<String>, HostError> {
    with(HostGrant::Kv, "host.kv-get", |s| {
        check_key(key)?;
        Ok(s.kv_current(key))
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
    check_key(key)?;
    if let Some((v, _)) = value
        && v.len() > KV_MAX_VALUE_BYTES
    {
        return Err(HostError::InvalidArgument(format!(
            "value is {} bytes, more than {KV_MAX_VALUE_BYTES}",
            v.len()
        )));
    }
    if !s.pending.contains_key(key) && s.pending.len() >= KV_MAX_WRITES_PER_CALL {
        return Err(HostError::QuotaExceeded(format!(
            "more than {KV_MAX_WRITES_PER_CALL} keys written in one event"
        )));
    }
    if let Some((v, _)) = value {
        // The store as it would be after this write.
        let mut keys = 0u64;
        let mut bytes = 0u64;
        let mut seen = BTreeSet::new();
        for (k, w) in &s.pending {
            seen.insert(k.as_str());
            if let Some((pv, _)) = w
                && k != key
            {
                keys += 1;
                bytes += (k.len() + pv.len()) as u64;
            }
        }
        for (k, e) in &s.kv {
            if !seen.contains(k.as_str()) && k != key {
                keys += 1;
                bytes += (k.len() + e.value.len()) as u64;
            }
        }
        keys += 1;
        bytes += (key.len() + v.len()) as u64;
        if keys > KV_DEFAULT_QUOTA_KEYS {
            return Err(HostError::QuotaExceeded(format!(
                "key quota of {KV_DEFAULT_QUOTA_KEYS} keys for this plugin in this store is used up"
            )));
        }
        if bytes > KV_DEFAULT_QUOTA_BYTES {
            return Err(HostError::QuotaExceeded(format!(
                "byte quota of {KV_DEFAULT_QUOTA_BYTES} bytes for this plugin in this store is used up"
            )));
        }
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
        if s.resources.customer_id != Some(customer_id) {
            return Err(HostError::InvalidArgument(format!(
                "customer {customer_id} is not this event's customer"
            )));
        }
        let mut h = s.histories.get(&customer_id).cloned().ok_or_else(|| {
            HostError::Unavailable(format!("no history for customer {customer_id} in this run"))
        })?;
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
        let r = &s.resources;
        let own = match key.subject {
            Subject::Order(id) => r.order_id == Some(id),
            Subject::Return(id) => r.return_id == Some(id),
            Subject::Dispute(id) => r.dispute_id == Some(id),
            Subject::Customer(id) => r.customer_id == Some(id),
        };
        if !own {
            return Err(HostError::InvalidArgument(format!(
                "{} {} is not this event's",
                key.subject.kind(),
                key.subject.id()
            )));
        }
        if s.case_types
            .as_ref()
            .is_some_and(|t| !t.contains(&key.case_type))
        {
            return Err(HostError::InvalidArgument(format!(
                "case type `{}` is not granted to this plugin",
                key.case_type
            )));
        }
        Ok(s.cases
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, c)| c.clone()))
    })
}
