//! The executor of [`ActionFamily::Shopify`] journal entries: each entry's
//! operation goes to [`ShopifyClient::apply`] with the entry's key, which
//! makes it take effect at most once however often it runs (see
//! `shopcase_shopify::writeback`). Entries come from plugins directly
//! (`<event>:<plugin>:<index>`) or from approved held operations
//! (`approval:<task>`); the executor does not care which.
//!
//! | outcome of `apply` | journal |
//! |---|---|
//! | `Done` / `AlreadyDone` | done, with `{"outcome", "mutations", "detail", "attempt"}` |
//! | the token refused (401/403) | paused with the store's other Shopify work until a probe succeeds (circuit breaker), within `executor.outage-window` |
//! | a permanent error (`userErrors`, an operation's access denied, not found, refused) | dead letter, with the error's code and Shopify's message |
//! | a transient error (throttled past the configured waits, 5xx, lost connection) | retried later with the same key |
//! | not finished within `shopify.execute-timeout` | retried later; the next run re-reads what the cut-off one did |

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use shopcase_contract::Action;
use shopcase_shopify::{Applied, ShopifyClient};
use shopcase_store::{ActionFamily, JournalEntry};

use shopcase_host_api::{ExecError, Executor};

/// Executes journalled Shopify operations through one shared client.
#[derive(Debug, Clone)]
pub struct ShopifyExecutor {
    client: Arc<ShopifyClient>,
    execute_timeout: Duration,
}

impl ShopifyExecutor {
    /// Through `client` (every store registered), each execution bounded
    /// by `execute_timeout` (keep it shorter than `executor.lease`).
    pub fn new(client: Arc<ShopifyClient>, execute_timeout: Duration) -> ShopifyExecutor {
        ShopifyExecutor {
            client,
            execute_timeout,
        }
    }
}

#[async_trait]
impl Executor for ShopifyExecutor {
    fn family(&self) -> ActionFamily {
        ActionFamily::Shopify
    }

    async fn execute(&self, entry: &JournalEntry) -> Result<serde_json::Value, ExecError> {
        let Action::Shopify(op) = &entry.action else {
            return Err(ExecError::permanent(
                "wrong-family",
                format!("{} is not a Shopify operation", entry.kind),
            ));
        };
        // Executed before (an attempt that failed after sending, or an
        // executor that died): the operation may be in effect already.
        let applied = if entry.attempts > 0 || entry.abandoned > 0 {
            self.client.reapply(&entry.shop, op, &entry.key).await
        } else {
            self.client.apply(&entry.shop, op, &entry.key).await
        };
        match applied {
            Ok(applied) => Ok(result_json(&applied, entry.attempts + 1)),
            Err(e) => {
                tracing::debug!(key = %entry.key, shop = %entry.shop, kind = %entry.kind, error = %e, "shopify write-back failed");
                Err(exec_error(&e))
            }
        }
    }

    fn execute_timeout(&self) -> Option<Duration> {
        Some(self.execute_timeout)
    }

    fn timeout_setting(&self) -> &'static str {
        "shopify.execute-timeout"
    }

    fn service(&self) -> Option<shopcase_host_api::Service> {
        Some(shopcase_host_api::Service::Shopify)
    }
}

/// What is stored with a done entry. `attempt` > 1 with `already-done`
/// usually means an earlier, interrupted attempt of this host made the change.
fn result_json(applied: &Applied, attempt: u32) -> serde_json::Value {
    match applied {
        Applied::Done { mutations, detail } => {
            json!({"outcome": "done", "mutations": mutations, "detail": detail, "attempt": attempt})
        }
        Applied::AlreadyDone { detail } => {
            json!({"outcome": "already-done", "mutations": 0, "detail": detail, "attempt": attempt})
        }
    }
}

/// A Shopify failure as the journal records it: the client's stable code,
/// and a message that names the store and carries Shopify's own words but
/// never a credential.
pub(crate) fn exec_error(e: &shopcase_shopify::Error) -> ExecError {
    use shopcase_shopify::Error;
    match e {
        // The client knows only stores configured with a token.
        Error::UnknownShop { shop } => ExecError::permanent(
            "no-admin-token",
            format!(
                "store `{shop}` has no Admin API token configured: set `admin-token-env` (or `admin-token-file`) in its [[stores]] table, restart, then retry this dead letter"
            ),
        ),
        // The token itself refused (not one operation's missing scope,
        // which Shopify answers 200 with ACCESS_DENIED): every action of
        // the store would fail alike, so they pause until it is fixed.
        Error::AccessDenied {
            status: 401 | 403, ..
        } => ExecError::credentials_refused(e.code(), e.to_string()),
        e if e.is_permanent() => ExecError::permanent(e.code(), e.to_string()),
        e => ExecError::transient(e.code(), e.to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopcase_shopify::{Error, UserError};

    #[test]
    fn permanent_errors_are_dead_lettered_with_shopifys_message() {
        let e = exec_error(&Error::UserErrors {
            shop: "a.myshopify.com".into(),
            operation: "storeCreditAccountCredit",
            errors: vec![UserError {
                field: Some(vec!["creditInput".into(), "expiresAt".into()]),
                message: "The expiry date must be in the future.".into(),
                code: None,
            }],
        });
        let ExecError::Permanent { code, message } = e else {
            panic!("{e:?}")
        };
        assert_eq!(code, "user-errors");
        assert!(
            message.contains("The expiry date must be in the future. (creditInput.expiresAt)"),
            "{message}"
        );
        let denied = exec_error(&Error::AccessDenied {
            shop: "a.myshopify.com".into(),
            status: 401,
            detail: "[API] Invalid API key or access token".into(),
        });
        assert!(
            matches!(&denied, ExecError::CredentialsRefused { code, message } if code == "access-denied" && message.contains("check the store's token")),
            "{denied:?}"
        );
        // One operation's missing scope is that action's permanent failure.
        let scope = exec_error(&Error::AccessDenied {
            shop: "a.myshopify.com".into(),
            status: 200,
            detail: "Access denied for orderCancel field".into(),
        });
        assert!(
            matches!(&scope, ExecError::Permanent { code, .. } if code == "access-denied"),
            "{scope:?}"
        );
        let unknown = exec_error(&Error::UnknownShop {
            shop: "a.myshopify.com".into(),
        });
        assert!(
            matches!(&unknown, ExecError::Permanent { code, message } if code == "no-admin-token" && message.contains("admin-token-env")),
            "{unknown:?}"
        );
    }

    #[test]
    fn transient_errors_are_retried() {
        for e in [
            Error::Throttled {
                shop: "s".into(),
                operation: "tagsAdd",
                waits: 20,
            },
            Error::Unavailable {
                shop: "s".into(),
                operation: "orderCancel",
                status: 503,
            },
            Error::Transport {
                shop: "s".into(),
                operation: "refundCreate",
                detail: "connection reset".into(),
                sent: true,
            },
        ] {
            let code = e.code();
            let x = exec_error(&e);
            assert!(
                matches!(&x, ExecError::Transient { code: c, retry_after: None, .. } if c == code),
                "{x:?}"
            );
        }
    }

    #[test]
    fn results_say_what_was_done() {
        let r = result_json(
            &Applied::Done {
                mutations: 2,
                detail: "held 2 fulfilment orders".into(),
            },
            1,
        );
        assert_eq!(
            r,
            json!({"outcome": "done", "mutations": 2, "detail": "held 2 fulfilment orders", "attempt": 1})
        );
        let r = result_json(
            &Applied::AlreadyDone {
                detail: "already cancelled".into(),
            },
            3,
        );
        assert_eq!(r["outcome"], "already-done");
        assert_eq!(r["attempt"], 3);
    }
}
