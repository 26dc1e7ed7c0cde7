//! What the admin API's handlers share.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shopcase_pipeline::Config;

use crate::stores::Admin;
use shopcase_store::{Storage, Timestamp};

use crate::tokens::Tokens;

/// The admin API's state: the shared administration code path (the same
/// one `shopcase store ...` uses) and the token checker. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AdminState {
    pub(crate) admin: Admin,
    pub(crate) tokens: Tokens,
    pub(crate) anonymous_denials: Arc<DenialBudget>,
    /// Per token: its refused requests audited per minute.
    pub(crate) token_denials: Arc<TokenDenialBudgets>,
}

impl AdminState {
    /// Over the host's storage and configuration (stores, plugins
    /// directory, sandbox caps). Use the same storage as the pipeline.
    pub fn new(storage: Arc<dyn Storage>, config: &Config) -> AdminState {
        let admin = Admin::new(storage.clone(), config);
        let tokens = Tokens::new(
            storage,
            admin.configured_stores().map(str::to_owned).collect(),
        );
        AdminState {
            admin,
            tokens,
            anonymous_denials: Arc::new(DenialBudget::default()),
            token_denials: Arc::new(TokenDenialBudgets::default()),
        }
    }

    /// Show the running pipeline's circuit breakers in the store views
    /// (`upstreams`): pass the `Breakers` given to the pipeline
    /// (`PipelineBuilder::breakers`).
    pub fn with_breakers(
        mut self,
        breakers: Arc<shopcase_pipeline::breaker::Breakers>,
    ) -> AdminState {
        self.admin = self.admin.with_breakers(breakers);
        self
    }

    /// Connect stores through this Shopify client (the one `serve` writes
    /// back with): enabling or disabling a plugin then runs
    /// `store connect` for its store, and `POST /stores/{shop}/connect`
    /// works. Without it they answer `not-configured`.
    pub fn with_shopify(mut self, client: Arc<shopcase_shopify::ShopifyClient>) -> AdminState {
        self.admin = self.admin.with_shopify(client);
        self
    }

    /// The token service (issue, list, revoke).
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }
}

/// Refusals of unauthenticated requests audited per minute. Past it they
/// are counted, and the count is audited once when the next minute begins:
/// a flood of requests without a valid token cannot make the database
/// (which also commits the webhooks) write without bound.
pub(crate) const ANONYMOUS_AUDITS_PER_MINUTE: u32 = 600;

const WINDOW: Duration = Duration::from_secs(60);

/// The budget of audited refusals of unauthenticated requests.
#[derive(Debug, Default)]
pub(crate) struct DenialBudget(Mutex<Window>);

#[derive(Debug, Default)]
struct Window {
    start: Option<Instant>,
    /// The same start, as a time of day for the audit record.
    started_at: Option<Timestamp>,
    recorded: u32,
    suppressed: u64,
}

/// Refusals that went unaudited in a window that has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unaudited {
    pub(crate) count: u64,
    /// When that window began.
    pub(crate) since: Timestamp,
}

impl DenialBudget {
    /// Whether to audit a refusal at `now` (wall time `at`), and what went
    /// unaudited in the window that has just ended (to audit as one
    /// record).
    pub(crate) fn admit(&self, now: Instant, at: Timestamp) -> (bool, Option<Unaudited>) {
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        w.admit(now, at, ANONYMOUS_AUDITS_PER_MINUTE)
    }
}

/// Refusals of one token's requests audited per minute (a store admin
/// probing other stores, a script gone wrong). Past it they are counted
/// and audited as one record, as for unauthenticated requests.
pub(crate) const TOKEN_AUDITS_PER_MINUTE: u32 = 60;

/// The budgets of audited refusals, one per token (tokens are few: an
/// admin issues them).
#[derive(Debug, Default)]
pub(crate) struct TokenDenialBudgets(Mutex<std::collections::HashMap<String, Window>>);

impl TokenDenialBudgets {
    /// As [`DenialBudget::admit`], for the refusals of token `id`.
    pub(crate) fn admit(&self, id: &str, now: Instant, at: Timestamp) -> (bool, Option<Unaudited>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id.to_owned())
            .or_default()
            .admit(now, at, TOKEN_AUDITS_PER_MINUTE)
    }
}

impl Window {
    fn admit(&mut self, now: Instant, at: Timestamp, per_minute: u32) -> (bool, Option<Unaudited>) {
        let w = self;
        let mut ended = None;
        if w.start.is_none_or(|s| now.duration_since(s) >= WINDOW) {
            let count = std::mem::take(&mut w.suppressed);
            if count > 0
                && let Some(since) = w.started_at
            {
                ended = Some(Unaudited { count, since });
            }
            w.start = Some(now);
            w.started_at = Some(at);
            w.recorded = 0;
        }
        if w.recorded < per_minute {
            w.recorded += 1;
            (true, ended)
        } else {
            w.suppressed += 1;
            (false, ended)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_token_has_its_own_budget() {
        let b = TokenDenialBudgets::default();
        let t0 = Instant::now();
        let at0 = Timestamp::from_second(1_790_000_000).unwrap();
        for _ in 0..TOKEN_AUDITS_PER_MINUTE {
            assert_eq!(b.admit("tok-a", t0, at0), (true, None));
        }
        assert_eq!(b.admit("tok-a", t0, at0), (false, None));
        assert_eq!(b.admit("tok-b", t0, at0), (true, None), "another token");
        let next = t0 + Duration::from_secs(61);
        assert_eq!(
            b.admit("tok-a", next, at0),
            (
                true,
                Some(Unaudited {
                    count: 1,
                    since: at0
                })
            )
        );
    }

    #[test]
    fn a_flood_is_audited_up_to_the_budget_then_counted() {
        let b = DenialBudget::default();
        let t0 = Instant::now();
        let at0 = Timestamp::from_second(1_790_000_000).unwrap();
        for _ in 0..ANONYMOUS_AUDITS_PER_MINUTE {
            assert_eq!(b.admit(t0, at0), (true, None));
        }
        for _ in 0..5 {
            assert_eq!(b.admit(t0 + Duration::from_secs(30), at0), (false, None));
        }
        // Later: audited again, and the 5 are reported once, with when.
        let later = Timestamp::from_second(1_790_003_600).unwrap();
        assert_eq!(
            b.admit(t0 + WINDOW * 60, later),
            (
                true,
                Some(Unaudited {
                    count: 5,
                    since: at0
                })
            )
        );
        assert_eq!(b.admit(t0 + WINDOW * 60, later), (true, None));
    }
}
