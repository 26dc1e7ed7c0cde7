//! The rules host functions apply to what a plugin asks, written once.
//!
//! The sandbox (`host/sandbox`) and the SDK's native test harness
//! (`sdk/rust/src/harness`) both apply these, so a partner's
//! `plugin test` refuses what the server refuses, with the same words:
//! log lines flattened and truncated the same way and held to the same
//! byte cap, key-value keys, values, writes and quotas checked the same
//! way, the same budget of host calls per event, the same "only this
//! event's own subjects" rule for look-ups, and plugin error messages kept
//! the same way.
//!
//! `tests/crosscheck` proves it: it runs one scripted plugin through both
//! on a corpus of normal and hostile cases and requires identical outcomes.

use std::time::Duration;

use crate::action::Subject;
use crate::event::Resources;

/// Longest single log line kept, in bytes; longer lines are truncated
/// (with `…`).
pub const MAX_LOG_LINE: usize = 1024;

/// Host service calls (key-value reads, history, case look-ups) one event
/// may make. Time in them is kept off the plugin's deadline, so they need
/// their own bounds, or a loop of calls could hold a sandbox slot (and the
/// database or Shopify) far longer than the deadline says.
pub const MAX_HOST_CALLS: u32 = 1_000;

/// The time host service calls may take in one event, all together.
pub const MAX_HOST_TIME: Duration = Duration::from_secs(10);

/// Why a host function refused a request (each side maps it onto its own
/// `host-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The request itself is wrong (a key too long, another event's
    /// subject, a case type not granted).
    InvalidArgument(String),
    /// A budget or quota is used up.
    QuotaExceeded(String),
}

/// `c` as plugin text the host logs or stores keeps it: a control
/// character other than a tab (a newline, an escape sequence) becomes `�`,
/// so a plugin cannot forge lines in the host's log or drive a terminal.
pub fn on_one_line(c: char) -> char {
    if c.is_control() && c != '\t' {
        '\u{fffd}'
    } else {
        c
    }
}

/// A plugin's log message as the host keeps it: trailing line breaks
/// dropped, one line of text ([`on_one_line`]), at most [`MAX_LOG_LINE`]
/// bytes (cut at a character boundary, then `…`).
pub fn log_line(message: &str) -> String {
    let mut line: String = message
        .trim_end_matches(['\n', '\r'])
        .chars()
        .map(on_one_line)
        .collect();
    if line.len() > MAX_LOG_LINE {
        let mut end = MAX_LOG_LINE;
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push('…');
    }
    line
}

/// The bytes of log one invocation may keep (`limits.log-bytes`): past it
/// lines are counted, not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogBudget {
    /// Bytes kept so far.
    pub bytes: u64,
    /// The cap.
    pub cap: u64,
    /// Lines dropped for the cap.
    pub dropped: u64,
}

impl LogBudget {
    /// A budget of `cap` bytes.
    pub fn new(cap: u64) -> LogBudget {
        LogBudget {
            bytes: 0,
            cap,
            dropped: 0,
        }
    }

    /// Whether `line` (already [`log_line`]) is kept; counts it either way.
    pub fn admit(&mut self, line: &str) -> bool {
        let size = line.len() as u64;
        if self.bytes + size > self.cap {
            self.dropped += 1;
            false
        } else {
            self.bytes += size;
            true
        }
    }
}

/// The host calls of one event ([`MAX_HOST_CALLS`], [`MAX_HOST_TIME`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostCallBudget {
    /// Calls made.
    pub calls: u32,
    /// Time they took.
    pub time: Duration,
}

impl HostCallBudget {
    /// Count one more call, or refuse it (every call past the budget
    /// answers `quota-exceeded`). Report its time with
    /// [`HostCallBudget::spent`].
    pub fn admit(&mut self) -> Result<(), Refusal> {
        if self.calls >= MAX_HOST_CALLS {
            return Err(Refusal::QuotaExceeded(format!(
                "more than {MAX_HOST_CALLS} host calls in one event"
            )));
        }
        if self.time >= MAX_HOST_TIME {
            return Err(Refusal::QuotaExceeded(format!(
                "host calls took more than {} s in one event",
                MAX_HOST_TIME.as_secs()
            )));
        }
        self.calls += 1;
        Ok(())
    }

    /// Add the time an admitted call took.
    pub fn spent(&mut self, d: Duration) {
        self.time += d;
    }
}

/// A key-value key: 1 to [`crate::host_api::KV_MAX_KEY_BYTES`] bytes.
pub fn check_kv_key(key: &str) -> Result<(), Refusal> {
    use crate::host_api::KV_MAX_KEY_BYTES;
    if key.is_empty() || key.len() > KV_MAX_KEY_BYTES {
        return Err(Refusal::InvalidArgument(format!(
            "keys are 1 to {KV_MAX_KEY_BYTES} bytes, this one is {}",
            key.len()
        )));
    }
    Ok(())
}

/// A key-value value: at most [`crate::host_api::KV_MAX_VALUE_BYTES`].
pub fn check_kv_value(value: &str) -> Result<(), Refusal> {
    use crate::host_api::KV_MAX_VALUE_BYTES;
    if value.len() > KV_MAX_VALUE_BYTES {
        return Err(Refusal::InvalidArgument(format!(
            "value is {} bytes, more than {KV_MAX_VALUE_BYTES}",
            value.len()
        )));
    }
    Ok(())
}

/// One more write in an event that has written `written` distinct keys
/// (`again`: this key is one of them): at most
/// [`crate::host_api::KV_MAX_WRITES_PER_CALL`] keys.
pub fn check_kv_writes(written: usize, again: bool) -> Result<(), Refusal> {
    use crate::host_api::KV_MAX_WRITES_PER_CALL;
    if !again && written >= KV_MAX_WRITES_PER_CALL {
        return Err(Refusal::QuotaExceeded(format!(
            "more than {KV_MAX_WRITES_PER_CALL} keys written in one event"
        )));
    }
    Ok(())
}

/// The plugin's key-value data in the store after a write, against its
/// quota.
pub fn check_kv_quota(
    keys: u64,
    bytes: u64,
    quota_keys: u64,
    quota_bytes: u64,
) -> Result<(), Refusal> {
    if keys > quota_keys {
        return Err(Refusal::QuotaExceeded(format!(
            "key quota of {quota_keys} keys for this plugin in this store is used up"
        )));
    }
    if bytes > quota_bytes {
        return Err(Refusal::QuotaExceeded(format!(
            "byte quota of {quota_bytes} bytes for this plugin in this store is used up"
        )));
    }
    Ok(())
}

/// A key this event sets or deletes, for [`kv_usage_after`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingKvWrite<'a> {
    /// The key.
    pub key: &'a str,
    /// The value set, or `None` for a delete.
    pub value: Option<&'a str>,
    /// Whether a read of this event showed the key already in the store.
    pub existed: bool,
}

/// The plugin's key-value usage, `(keys, bytes)`, after this event's
/// `writes` (the write being checked among them), as the host estimates it
/// for [`check_kv_quota`] at each `kv-set`: the store's usage when the
/// event first asked, plus the key and value bytes of every key the event
/// sets and one key for each not known (read) to exist already. Deletes
/// free nothing, and a key set again counts its bytes again, until the
/// event commits: the estimate errs high, so a quota is never overrun.
pub fn kv_usage_after<'a>(
    start_keys: u64,
    start_bytes: u64,
    writes: impl IntoIterator<Item = PendingKvWrite<'a>>,
) -> (u64, u64) {
    let (mut keys, mut bytes) = (start_keys, start_bytes);
    for w in writes {
        if let Some(v) = w.value {
            keys += u64::from(!w.existed);
            bytes += (w.key.len() + v.len()) as u64;
        }
    }
    (keys, bytes)
}

/// [`kv_usage_after`] for one `kv-set` of `key` to `value`: `pending` are
/// the event's writes so far (`None`: a delete), `existed` whether a read
/// of this event showed a key in the store. The one computation the host
/// and the SDK's harness both make before [`check_kv_quota`].
pub fn kv_usage_after_set<'a>(
    start_keys: u64,
    start_bytes: u64,
    pending: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    existed: impl Fn(&str) -> bool,
    key: &'a str,
    value: &'a str,
) -> (u64, u64) {
    let earlier = pending
        .into_iter()
        .filter(|(k, _)| *k != key)
        .map(|(k, v)| PendingKvWrite {
            key: k,
            value: v,
            existed: existed(k),
        });
    let this = PendingKvWrite {
        key,
        value: Some(value),
        existed: existed(key),
    };
    kv_usage_after(start_keys, start_bytes, earlier.chain([this]))
}

/// The longest plugin error message kept, in characters (the contract's
/// limit); a longer one is cut and ends with `…`.
pub const MAX_ERROR_MESSAGE: usize = 1000;

/// A plugin's error message as the host stores and logs it: one line of
/// text ([`on_one_line`]) of at most [`MAX_ERROR_MESSAGE`] characters.
pub fn error_message(message: &str) -> String {
    if message.chars().nth(MAX_ERROR_MESSAGE).is_none() {
        return message.chars().map(on_one_line).collect();
    }
    let mut out: String = message
        .chars()
        .take(MAX_ERROR_MESSAGE - 1)
        .map(on_one_line)
        .collect();
    out.push('…');
    out
}

/// `customer-history` answers about the event's own customer only.
pub fn check_own_customer(resources: &Resources, customer_id: u64) -> Result<(), Refusal> {
    if resources.customer_id == Some(customer_id) {
        Ok(())
    } else {
        Err(Refusal::InvalidArgument(format!(
            "customer {customer_id} is not this event's customer"
        )))
    }
}

/// `customer-history` from 0.2.0 on: the event's own customer, or the
/// customer of the event's own order once `order` has named it (a return,
/// dispute or fulfilment payload names the order only, and the order's
/// customer is the event's customer). `order_customer` is the customer of
/// the order the host has already looked up for this event, if any.
pub fn check_history_customer(
    resources: &Resources,
    order_customer: Option<u64>,
    customer_id: u64,
) -> Result<(), Refusal> {
    if order_customer == Some(customer_id) {
        return Ok(());
    }
    check_own_customer(resources, customer_id)
}

/// `order` and `order-risk` answer about the event's own order only.
pub fn check_own_order(resources: &Resources, order_id: u64) -> Result<(), Refusal> {
    if resources.order_id == Some(order_id) {
        Ok(())
    } else {
        Err(Refusal::InvalidArgument(format!(
            "order {order_id} is not this event's order"
        )))
    }
}

/// `linked-case` looks up the event's own subjects only.
pub fn check_own_subject(resources: &Resources, subject: Subject) -> Result<(), Refusal> {
    let r = resources;
    let own = match subject {
        Subject::Order(id) => r.order_id == Some(id),
        Subject::Return(id) => r.return_id == Some(id),
        Subject::Dispute(id) => r.dispute_id == Some(id),
        Subject::Customer(id) => r.customer_id == Some(id),
    };
    if own {
        Ok(())
    } else {
        Err(Refusal::InvalidArgument(format!(
            "{} {} is not this event's",
            subject.kind(),
            subject.id()
        )))
    }
}

/// `linked-case` looks up the case types the plugin may open only:
/// another plugin's cases are not its business.
pub fn check_case_type_granted(granted: bool, case_type: &str) -> Result<(), Refusal> {
    if granted {
        Ok(())
    } else {
        Err(Refusal::InvalidArgument(format!(
            "case type `{case_type}` is not granted to this plugin"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_answers_for_the_events_customer_or_its_orders() {
        let r = Resources {
            customer_id: Some(7),
            ..Resources::default()
        };
        assert!(check_history_customer(&r, None, 7).is_ok());
        assert!(check_history_customer(&r, Some(8), 8).is_ok());
        assert!(check_history_customer(&r, Some(8), 7).is_ok());
        assert!(check_history_customer(&r, None, 8).is_err());
        assert!(check_history_customer(&r, Some(8), 9).is_err());
        let none = Resources::default();
        assert!(check_history_customer(&none, None, 7).is_err());
    }

    #[test]
    fn a_log_line_is_one_line_of_text_cut_at_a_character() {
        assert_eq!(
            log_line("ok\n2026-11-27 ERROR forged line\u{1b}[2J\tend\r\n"),
            "ok\u{fffd}2026-11-27 ERROR forged line\u{fffd}[2J\tend"
        );
        let long = "é".repeat(MAX_LOG_LINE);
        let cut = log_line(&long);
        assert!(cut.ends_with('…'));
        assert!(cut.len() <= MAX_LOG_LINE + '…'.len_utf8());
        let mut b = LogBudget::new(5);
        assert!(b.admit("abc"));
        assert!(!b.admit("abc"));
        assert!(b.admit("ab"));
        assert_eq!((b.bytes, b.dropped), (5, 1));
    }

    #[test]
    fn the_quota_estimate_errs_high() {
        let w = |key, value, existed| PendingKvWrite {
            key,
            value,
            existed,
        };
        // A new key: one more key and its bytes.
        assert_eq!(
            kv_usage_after(10, 100, [w("ab", Some("xyz"), false)]),
            (11, 105)
        );
        // An existing key set again: its bytes count again, no new key.
        assert_eq!(
            kv_usage_after(10, 100, [w("ab", Some("xyz"), true)]),
            (10, 105)
        );
        // A delete frees nothing until the event commits.
        assert_eq!(
            kv_usage_after(10, 100, [w("ab", None, true), w("c", Some(""), false)]),
            (11, 101)
        );
    }

    #[test]
    fn error_messages_are_one_line_of_at_most_the_limit() {
        assert_eq!(error_message("héllo"), "héllo");
        assert_eq!(
            error_message("a\nforged\u{1b}[2J"),
            "a\u{fffd}forged\u{fffd}[2J"
        );
        let exact = "é".repeat(MAX_ERROR_MESSAGE);
        assert_eq!(error_message(&exact), exact);
        let long = error_message(&"é".repeat(MAX_ERROR_MESSAGE + 1));
        assert_eq!(long.chars().count(), MAX_ERROR_MESSAGE);
        assert!(long.ends_with("é…"));
    }

    #[test]
    fn the_host_call_budget_refuses_past_its_calls_and_its_time() {
        let mut b = HostCallBudget::default();
        for _ in 0..MAX_HOST_CALLS {
            b.admit().unwrap();
        }
        assert!(matches!(b.admit(), Err(Refusal::QuotaExceeded(_))));
        let mut b = HostCallBudget::default();
        b.admit().unwrap();
        b.spent(MAX_HOST_TIME);
        assert!(matches!(b.admit(), Err(Refusal::QuotaExceeded(m)) if m.contains("10 s")));
    }

    #[test]
    fn only_the_events_own_subjects() {
        let r = Resources {
            order_id: Some(1),
            customer_id: Some(7),
            ..Default::default()
        };
        assert!(check_own_subject(&r, Subject::Order(1)).is_ok());
        assert_eq!(
            check_own_subject(&r, Subject::Order(2)),
            Err(Refusal::InvalidArgument(
                "order 2 is not this event's".into()
            ))
        );
        assert!(check_own_subject(&r, Subject::Return(1)).is_err());
        assert!(check_own_customer(&r, 7).is_ok());
        assert!(check_own_customer(&r, 8).is_err());
        assert!(check_kv_key("").is_err());
        assert!(check_kv_key(&"k".repeat(129)).is_err());
        assert!(check_kv_writes(64, true).is_ok());
        assert!(check_kv_writes(64, false).is_err());
        assert!(check_kv_quota(2, 10, 1, 100).is_err());
        assert!(check_kv_quota(1, 101, 1, 100).is_err());
        assert!(check_kv_quota(1, 100, 1, 100).is_ok());
    }
}
