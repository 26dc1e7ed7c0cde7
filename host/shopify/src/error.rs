//! The one error type of this crate, and how the executor should treat each
//! variant: [`Error::is_permanent`] errors go to the dead-letter queue,
//! everything else is retried later with the same idempotency key.

use std::fmt;

/// A `userErrors` (or `orderCancelUserErrors`) entry Shopify returned.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserError {
    /// The input path Shopify blamed, e.g. `["input", "id"]`.
    #[serde(default)]
    pub field: Option<Vec<String>>,
    /// Shopify's message, e.g. `Order has already been cancelled`.
    pub message: String,
    /// Shopify's error code, when the payload has one.
    #[serde(default)]
    pub code: Option<String>,
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(path) if !path.is_empty() => write!(f, "{} ({})", self.message, path.join(".")),
            _ => f.write_str(&self.message),
        }
    }
}

/// Everything that can go wrong talking to Shopify. Never carries a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bad client or shop configuration (domain, version, base URL).
    #[error("configuration: {0}")]
    Config(String),

    /// No configuration for this shop was registered with the client.
    #[error("shop `{shop}` is not configured")]
    UnknownShop {
        /// The shop domain.
        shop: String,
    },

    /// Shopify answered 401/403, or `ACCESS_DENIED` (a missing access
    /// scope). Retrying will not help until an admin fixes the token.
    #[error(
        "Shopify rejected the access token for `{shop}` (HTTP {status}): {detail}; check the store's token and the app's access scopes"
    )]
    AccessDenied {
        /// The shop domain.
        shop: String,
        /// The HTTP status (0 when none was received).
        status: u16,
        /// What happened, without credentials.
        detail: String,
    },

    /// The mutation ran and Shopify refused it with `userErrors`: retrying
    /// the same input gives the same answer.
    #[error("{operation} on `{shop}` was refused by Shopify: {}", join(errors))]
    UserErrors {
        /// The shop domain.
        shop: String,
        /// The GraphQL root field, e.g. `refundCreate`.
        operation: &'static str,
        /// Shopify's `userErrors`.
        errors: Vec<UserError>,
    },

    /// Our own pre-flight check refused the operation (amount above what is
    /// refundable, a return in a conflicting state, nothing to hold...).
    #[error("{operation} on `{shop}` cannot be applied: {reason}")]
    Rejected {
        /// The shop domain.
        shop: String,
        /// The GraphQL root field, e.g. `refundCreate`.
        operation: &'static str,
        /// Why, for the admin.
        reason: String,
    },

    /// The order, customer or return does not exist (or is not visible to
    /// this app).
    #[error("{what} was not found in `{shop}`")]
    NotFound {
        /// The shop domain.
        shop: String,
        /// What was looked for, e.g. `order gid://shopify/Order/1`.
        what: String,
    },

    /// Shopify refused the request itself (top-level GraphQL `errors`, or an
    /// unexpected 4xx): a bug or an API-version mismatch, not a state problem.
    #[error("{operation} on `{shop}` was rejected: {}", messages.join("; "))]
    Request {
        /// The shop domain.
        shop: String,
        /// The GraphQL root field, e.g. `refundCreate`.
        operation: &'static str,
        /// The HTTP status (0 when none was received).
        status: u16,
        /// The GraphQL `errors` messages (or the HTTP status).
        messages: Vec<String>,
    },

    /// Still throttled after the configured number of paced waits.
    #[error("{operation} on `{shop}` is still throttled after {waits} waits")]
    Throttled {
        /// The shop domain.
        shop: String,
        /// The GraphQL root field, e.g. `refundCreate`.
        operation: &'static str,
        /// How many THROTTLED answers were waited out.
        waits: u32,
    },

    /// The Admin API URL answered with a redirect (3xx). It is not
    /// followed: every request carries the store's access token, which must
    /// go to the configured URL only. Retrying gets the same answer; the
    /// store's domain or Admin API URL needs fixing.
    #[error(
        "{operation} on `{shop}`: the Admin API answered with a redirect (HTTP {status}), which is not followed (it would send the access token elsewhere); check the store's domain and Admin API URL"
    )]
    Redirected {
        /// The shop domain.
        shop: String,
        /// The GraphQL root field, e.g. `refundCreate`.
        operation: &'static str,
        /// The 3xx status.
        status: u16,
    },

    /// Shopify answered 5xx.
    #[error("{operation} on `{shop}`: Shopify is unavailable (HTTP {status})")]
    Unavailable {
        /// The shop domain.
        shop: String,
        /// The GraphQL root field, e.g. `refundCreate`.
        operation: &'static str,
        /// The HTTP status (0 when none was received).
        status: u16,
    },

    /// The request could not be sent, or its answer was lost on the way
    /// (timeout, connection reset). For a mutation the effect is unknown:
    /// the write-back re-reads the state before trying again.
    #[error("{operation} on `{shop}`: {detail}")]
    Transport {
        /// The shop domain.
        shop: String,
        /// The GraphQL root field, e.g. `refundCreate`.
        operation: &'static str,
        /// What happened, without credentials.
        detail: String,
        /// Whether the request may have reached Shopify (its effect is unknown).
        sent: bool,
    },

    /// Shopify's answer could not be understood.
    #[error("{operation} on `{shop}`: unexpected response: {detail}")]
    Decode {
        /// The shop domain.
        shop: String,
        /// The GraphQL root field, e.g. `refundCreate`.
        operation: &'static str,
        /// What happened, without credentials.
        detail: String,
    },
}

fn join(errors: &[UserError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// Whether retrying later cannot succeed: the executor dead-letters these.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Error::Config(_)
                | Error::UnknownShop { .. }
                | Error::AccessDenied { .. }
                | Error::UserErrors { .. }
                | Error::Rejected { .. }
                | Error::NotFound { .. }
                | Error::Request { .. }
                | Error::Redirected { .. }
        )
    }

    /// Whether a later retry (with the same idempotency key) may succeed.
    pub fn is_transient(&self) -> bool {
        !self.is_permanent()
    }

    /// A stable, machine-readable name for logs, dead letters and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Config(_) => "config",
            Error::UnknownShop { .. } => "unknown-shop",
            Error::AccessDenied { .. } => "access-denied",
            Error::UserErrors { .. } => "user-errors",
            Error::Rejected { .. } => "rejected",
            Error::NotFound { .. } => "not-found",
            Error::Request { .. } => "bad-request",
            Error::Redirected { .. } => "redirected",
            Error::Throttled { .. } => "throttled",
            Error::Unavailable { .. } => "unavailable",
            Error::Transport { .. } => "transport",
            Error::Decode { .. } => "decode",
        }
    }

    /// Whether the request may have reached Shopify and been applied without
    /// us seeing the answer.
    pub(crate) fn effect_unknown(&self) -> bool {
        match self {
            Error::Transport { sent, .. } => *sent,
            Error::Unavailable { .. } | Error::Decode { .. } => true,
            _ => false,
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_permanent_and_transient() {
        let user = Error::UserErrors {
            shop: "s".into(),
            operation: "refundCreate",
            errors: vec![UserError {
                field: Some(vec!["input".into(), "transactions".into()]),
                message: "Amount exceeds refundable".into(),
                code: None,
            }],
        };
        assert!(user.is_permanent());
        assert_eq!(
            user.to_string(),
            "refundCreate on `s` was refused by Shopify: Amount exceeds refundable (input.transactions)"
        );
        let t = Error::Transport {
            shop: "s".into(),
            operation: "orderCancel",
            detail: "reset".into(),
            sent: true,
        };
        assert!(t.is_transient());
        assert!(t.effect_unknown());
        assert!(
            Error::Throttled {
                shop: "s".into(),
                operation: "x",
                waits: 3
            }
            .is_transient()
        );
        let denied = Error::AccessDenied {
            shop: "s".into(),
            status: 401,
            detail: "invalid token".into(),
        };
        assert!(denied.is_permanent());
        assert_eq!(denied.code(), "access-denied");
    }
}
