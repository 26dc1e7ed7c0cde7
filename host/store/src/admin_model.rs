//! The values behind the admin API: API tokens (kept as hashes) and the
//! queries of its listings (events, journal, case links).
//!
//! Listings walk the newest rows first and stop at the limit; none of them
//! adds an index to the hot inbox or journal tables (each index there costs
//! a page write per webhook), so a filter on a rare value scans further
//! back. The limit bounds the work.

use std::str::FromStr;

use serde::Serialize;

use crate::model::{ActionFamily, DeadLetterState, EventStatus, JournalStatus, Timestamp};

/// What an API token may do. Checked by the admin API on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApiRole {
    /// Reads and changes everything, in every store.
    Operator,
    /// Reads and changes its own stores only.
    StoreAdmin,
    /// Reads only (every store, or the stores it is limited to).
    Auditor,
}

impl ApiRole {
    /// Every role.
    pub const ALL: &[ApiRole] = &[ApiRole::Operator, ApiRole::StoreAdmin, ApiRole::Auditor];

    /// The stored (and command-line) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiRole::Operator => "operator",
            ApiRole::StoreAdmin => "store-admin",
            ApiRole::Auditor => "auditor",
        }
    }
}

impl FromStr for ApiRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ApiRole::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}` (roles: operator, store-admin, auditor)"))
    }
}

impl std::fmt::Display for ApiRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An API token to store. The token itself is never stored: only
/// `hash`, the lowercase hex SHA-256 of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    /// Public id (shown in lists and audit records), unique.
    pub id: String,
    /// What it is for, e.g. `ci-deploy` or a person's name.
    pub name: String,
    /// What it may do.
    pub role: ApiRole,
    /// The stores it is limited to (empty: every store).
    pub stores: Vec<String>,
    /// SHA-256 of the token, lowercase hex, unique.
    pub hash: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

/// A stored API token: everything but its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// Public id.
    pub id: String,
    /// What it is for.
    pub name: String,
    /// What it may do.
    pub role: ApiRole,
    /// The stores it is limited to (empty: every store).
    pub stores: Vec<String>,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
    /// When it was last accepted (updated at most once a minute).
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked; a revoked token is refused.
    pub revoked_at: Option<Timestamp>,
    /// Who revoked it.
    pub revoked_by: Option<String>,
}

/// A search of the inbox, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Only these stores (`None`: every store).
    pub shops: Option<Vec<String>>,
    /// Only this topic.
    pub topic: Option<String>,
    /// Only events in this state.
    pub status: Option<EventStatus>,
    /// Only events about this order.
    pub order_id: Option<u64>,
    /// Only events that carried this `X-Shopify-Event-Id` (one merchant
    /// action, seen on every topic it touched).
    pub shopify_event_id: Option<String>,
    /// Received at or after.
    pub received_from: Option<Timestamp>,
    /// Received before.
    pub received_until: Option<Timestamp>,
    /// Only events older than this sequence number (the previous page's last).
    pub before_seq: Option<i64>,
    /// The most events.
    pub limit: usize,
}

/// A search of the action journal, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JournalQuery {
    /// Only these stores (`None`: every store).
    pub shops: Option<Vec<String>>,
    /// Only this plugin's actions.
    pub plugin_id: Option<String>,
    /// Only entries in this state.
    pub status: Option<JournalStatus>,
    /// Only this executor family.
    pub family: Option<ActionFamily>,
    /// Only actions about this order.
    pub order_id: Option<u64>,
    /// The most entries.
    pub limit: usize,
}

/// A search of case links, most recently changed first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseLinkQuery {
    /// Only these stores (`None`: every store).
    pub shops: Option<Vec<String>>,
    /// Only links whose subject is this order.
    pub order_id: Option<u64>,
    /// Only the link of this Core Case case id.
    pub case_id: Option<String>,
    /// The most links.
    pub limit: usize,
}

// Query-string spellings of the model's states, for the admin API's filters.

impl FromStr for EventStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventStatus::parse(s)
            .ok_or_else(|| format!("unknown event status `{s}` (pending, done, stale)"))
    }
}

impl FromStr for JournalStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JournalStatus::parse(s)
            .ok_or_else(|| format!("unknown journal status `{s}` (pending, in-flight, done, dead)"))
    }
}

impl FromStr for ActionFamily {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ActionFamily::parse(s)
            .ok_or_else(|| format!("unknown action family `{s}` (case, shopify, follow-up)"))
    }
}

impl FromStr for DeadLetterState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeadLetterState::parse(s)
            .ok_or_else(|| format!("unknown dead-letter state `{s}` (open, retried, discarded)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for r in ApiRole::ALL {
            assert_eq!(r.as_str().parse::<ApiRole>(), Ok(*r));
        }
        assert!(
            "admin"
                .parse::<ApiRole>()
                .unwrap_err()
                .contains("store-admin")
        );
        assert_eq!("in-flight".parse(), Ok(JournalStatus::InFlight));
        assert_eq!("follow-up".parse(), Ok(ActionFamily::FollowUp));
        assert_eq!("stale".parse(), Ok(EventStatus::Stale));
        assert_eq!("retried".parse(), Ok(DeadLetterState::Retried));
        assert!("bogus".parse::<EventStatus>().is_err());
    }
}
