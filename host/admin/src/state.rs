//! What the admin API's handlers share.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shopcase_pipeline::{Admin, Config};
use shopcase_store::Storage;

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
    recorded: u32,
    suppressed: u64,
}

impl DenialBudget {
    /// Whether to audit a refusal at `now`, and how many went unaudited in
    /// the window that has just ended (to audit as one record).
    pub(crate) fn admit(&self, now: Instant) -> (bool, u64) {
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut ended = 0;
        if w.start.is_none_or(|s| now.duration_since(s) >= WINDOW) {
            ended = std::mem::take(&mut w.suppressed);
            w.start = Some(now);
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
        for _ in 0..ANONYMOUS_AUDITS_PER_MINUTE {
            assert_eq!(b.admit(t0), (true, 0));
        }
        for _ in 0..5 {
            assert_eq!(b.admit(t0 + Duration::from_secs(30)), (false, 0));
        }
        // The next minute: audited again, and the 5 are reported once.
        assert_eq!(b.admit(t0 + WINDOW), (true, 5));
        assert_eq!(b.admit(t0 + WINDOW), (true, 0));
    }
}
