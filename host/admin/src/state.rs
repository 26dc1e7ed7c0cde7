//! What the admin API's handlers share.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shopcase_pipeline::{Admin, Config};
use shopcase_store::{Storage, Timestamp};

use crate::tokens::Tokens;

/// The admin API's state: the shared administration code path (the same
/// one `shopcase store ...` uses) and the token checker. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AdminState {
    pub(crate) admin: Admin,
    pub(crate) tokens: Tokens,
    pub(crate) anonymous_denials: Arc<DenialBudget>,
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
        }
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
        if w.recorded < ANONYMOUS_AUDITS_PER_MINUTE {
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
