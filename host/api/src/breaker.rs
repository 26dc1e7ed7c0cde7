//! Circuit breakers per (store, service): when Shopify or Core Case stops
//! answering for a store, the host stops sending it work and waits, instead
//! of spending every event's and every action's attempts on a service that
//! is down.
//!
//! States, per store and service:
//! - **closed**: calls go through; consecutive failures are counted.
//! - **open** after [`Breakers::threshold`] unavailability failures in a
//!   row (connection refused, 5xx, timeouts, throttling past the waits):
//!   calls are not made until the cool-down ends (it doubles with each
//!   failed probe, from [`BreakerPolicy::cool_down`] up to
//!   [`BreakerPolicy::max_cool_down`]); then one call goes through as the
//!   probe (half-open) and its result closes or re-opens the breaker.
//! - **credentials refused** after one 401/403 (a revoked Shopify token,
//!   a wrong Core Case client secret): the same, but it stays so until a
//!   probe succeeds — every [`BreakerPolicy::max_cool_down`] — and it is
//!   reported as its own state, because an operator must act.
//!
//! Work held back by a breaker is not failed: journal entries are retried
//! when it may close, plugin runs wait (`service-unavailable`), both within
//! their outage windows. The state is shown on `/readyz` (detail only:
//! webhooks are still accepted, so the host stays ready) and `/metrics`
//! (`shopcase_upstream_open`), rendered by the pipeline.
//!
//! The state is per process, in memory: a restarted host starts closed and
//! finds out again with its first calls.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

pub use crate::Service;

/// How a call to a service went, as far as the breaker cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The service answered (whatever it said: a user error is an answer).
    Answered,
    /// It did not answer usefully: down, 5xx, timed out, throttling.
    Unavailable(String),
    /// It refused the credentials (401/403).
    CredentialsRefused(String),
}

/// Whether to call now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admit {
    /// Call.
    Go,
    /// Do not call; try again after this long. `reason` says why.
    Wait {
        /// How long until a call may go through.
        after: Duration,
        /// The state and the last failure, for the record.
        reason: String,
        /// The breaker is open because the credentials were refused.
        credentials: bool,
    },
}

/// The tuning of every breaker.
#[derive(Debug, Clone, Copy)]
pub struct BreakerPolicy {
    /// Unavailability failures in a row that open a breaker.
    pub threshold: u32,
    /// The first cool-down of an open breaker.
    pub cool_down: Duration,
    /// The longest cool-down (and the probe interval while credentials are
    /// refused).
    pub max_cool_down: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            threshold: 5,
            cool_down: Duration::from_secs(5),
            max_cool_down: Duration::from_secs(60),
        }
    }
}

/// The state of one breaker, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakerState {
    /// The store.
    pub shop: String,
    /// The service.
    pub service: Service,
    /// `closed`, `open`, `half-open` or `credentials-refused`.
    pub state: &'static str,
    /// Unavailability failures in a row.
    pub failures: u32,
    /// The last failure, if any.
    pub last_error: Option<String>,
}

#[derive(Debug, Default)]
struct Entry {
    failures: u32,
    /// Closed when `None`; open until then (half-open once passed).
    open_until: Option<Instant>,
    /// The current cool-down (doubles per failed probe).
    cool_down: Duration,
    /// A probe is out since then: other callers wait for its result. A
    /// probe whose caller never reports (its future was dropped by a
    /// timeout) is given up after `max_cool_down`, so the breaker cannot
    /// stay half-open for good.
    probing: Option<Instant>,
    credentials: bool,
    last_error: Option<String>,
}

/// Every (store, service) breaker of this process.
#[derive(Debug, Default)]
pub struct Breakers {
    policy: BreakerPolicy,
    map: Mutex<HashMap<(String, Service), Entry>>,
}

impl Breakers {
    /// Breakers with `policy`.
    pub fn new(policy: BreakerPolicy) -> Breakers {
        Breakers {
            policy,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Unavailability failures in a row that open a breaker.
    pub fn threshold(&self) -> u32 {
        self.policy.threshold
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, Service), Entry>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether a call to `service` for `shop` may be made now. A caller
    /// told [`Admit::Go`] must report the call with [`Breakers::record`].
    pub fn admit(&self, shop: &str, service: Service) -> Admit {
        self.admit_at(shop, service, Instant::now())
    }

    fn admit_at(&self, shop: &str, service: Service, now: Instant) -> Admit {
        let mut map = self.lock();
        let Some(e) = map.get_mut(&(shop.to_owned(), service)) else {
            return Admit::Go;
        };
        let Some(until) = e.open_until else {
            return Admit::Go;
        };
        let wait = |after: Duration, e: &Entry| Admit::Wait {
            after,
            reason: format!(
                "{service} {} for this store: {}",
                if e.credentials {
                    "refuses the credentials"
                } else {
                    "is unavailable"
                },
                e.last_error.as_deref().unwrap_or("no answer")
            ),
            credentials: e.credentials,
        };
        if now < until {
            return wait(until - now, e);
        }
        if let Some(started) = e.probing
            && now.duration_since(started) < self.policy.max_cool_down
        {
            // Someone else's probe decides; look again shortly.
            return wait(self.policy.cool_down.min(e.cool_down), e);
        }
        e.probing = Some(now);
        Admit::Go
    }

    /// What a call that was admitted came to.
    pub fn record(&self, shop: &str, service: Service, outcome: &Outcome) {
        self.record_at(shop, service, outcome, Instant::now());
    }

    fn record_at(&self, shop: &str, service: Service, outcome: &Outcome, now: Instant) {
        let mut map = self.lock();
        let key = (shop.to_owned(), service);
        match outcome {
            Outcome::Answered => {
                if let Some(e) = map.get(&key)
                    && e.open_until.is_some()
                {
                    tracing::info!(%shop, %service, "service answers again; breaker closed");
                }
                map.remove(&key);
            }
            Outcome::Unavailable(why) | Outcome::CredentialsRefused(why) => {
                let credentials = matches!(outcome, Outcome::CredentialsRefused(_));
                let e = map.entry(key).or_default();
                e.failures = e.failures.saturating_add(1);
                e.last_error = Some(why.clone());
                let was_open = e.open_until.is_some();
                let probe_failed = e.probing.is_some();
                e.probing = None;
                e.credentials = credentials || (e.credentials && probe_failed);
                if e.credentials {
                    e.cool_down = self.policy.max_cool_down;
                } else if probe_failed {
                    e.cool_down = (e.cool_down * 2).min(self.policy.max_cool_down);
                } else if !was_open {
                    e.cool_down = self.policy.cool_down;
                }
                if e.credentials || probe_failed || e.failures >= self.policy.threshold {
                    if !was_open {
                        tracing::warn!(%shop, %service, error = %why, credentials, "breaker open: calls for this store wait");
                    }
                    e.open_until = Some(now + e.cool_down);
                }
            }
        }
    }

    /// The breakers that hold calls back (not closed), by store.
    pub fn held(&self) -> Vec<BreakerState> {
        self.states()
            .into_iter()
            .filter(|b| b.state != "closed")
            .collect()
    }

    /// Every breaker that is not closed, or has failures counted.
    pub fn states(&self) -> Vec<BreakerState> {
        let now = Instant::now();
        let mut out: Vec<BreakerState> = self
            .lock()
            .iter()
            .map(|((shop, service), e)| BreakerState {
                shop: shop.clone(),
                service: *service,
                state: match e.open_until {
                    None => "closed",
                    Some(_) if e.credentials => "credentials-refused",
                    Some(until) if now < until => "open",
                    Some(_) => "half-open",
                },
                failures: e.failures,
                last_error: e.last_error.clone(),
            })
            .collect();
        out.sort_by(|a, b| (&a.shop, a.service).cmp(&(&b.shop, b.service)));
        out
    }
}

/// The `customer-history` source behind the breaker of (store, Shopify):
/// while it is open the plugin is told `unavailable` at once (and the run
/// waits) instead of every event asking a service that is down.
#[derive(Debug)]
pub struct GuardedHistory {
    /// The source itself.
    pub inner: std::sync::Arc<dyn crate::CustomerHistorySource>,
    /// The process's breakers.
    pub breakers: std::sync::Arc<Breakers>,
}

#[async_trait::async_trait]
impl crate::CustomerHistorySource for GuardedHistory {
    async fn customer_history(
        &self,
        shop: &str,
        customer_id: u64,
    ) -> Result<shopcase_contract::host_api::CustomerHistory, shopcase_contract::host_api::HostError>
    {
        use shopcase_contract::host_api::HostError;
        if let Admit::Wait {
            reason,
            credentials,
            ..
        } = self.breakers.admit(shop, Service::Shopify)
        {
            return Err(if credentials {
                HostError::CredentialsRefused(reason)
            } else {
                HostError::Unavailable(reason)
            });
        }
        let answer = self.inner.customer_history(shop, customer_id).await;
        let outcome = match &answer {
            Err(HostError::Unavailable(m)) => Some(Outcome::Unavailable(m.clone())),
            Err(HostError::CredentialsRefused(m)) => Some(Outcome::CredentialsRefused(m.clone())),
            // Nothing to ask: says nothing about the service.
            Err(HostError::NotConfigured(_)) => None,
            Ok(_) | Err(_) => Some(Outcome::Answered),
        };
        if let Some(o) = outcome {
            self.breakers.record(shop, Service::Shopify, &o);
        }
        answer
    }

    fn forget(&self, shop: &str, customer_id: Option<u64>) {
        self.inner.forget(shop, customer_id);
    }
}

/// Ask the breaker of (store, Shopify), make the call, and record how it
/// went (for the host functions that read Shopify).
async fn guarded<T>(
    breakers: &Breakers,
    shop: &str,
    call: impl std::future::Future<Output = Result<T, shopcase_contract::host_api::HostError>>,
) -> Result<T, shopcase_contract::host_api::HostError> {
    use shopcase_contract::host_api::HostError;
    if let Admit::Wait {
        reason,
        credentials,
        ..
    } = breakers.admit(shop, Service::Shopify)
    {
        return Err(if credentials {
            HostError::CredentialsRefused(reason)
        } else {
            HostError::Unavailable(reason)
        });
    }
    let answer = call.await;
    let outcome = match &answer {
        Err(HostError::Unavailable(m)) => Some(Outcome::Unavailable(m.clone())),
        Err(HostError::CredentialsRefused(m)) => Some(Outcome::CredentialsRefused(m.clone())),
        Err(HostError::NotConfigured(_)) => None,
        Ok(_) | Err(_) => Some(Outcome::Answered),
    };
    if let Some(o) = outcome {
        breakers.record(shop, Service::Shopify, &o);
    }
    answer
}

/// The `order` / `order-risk` source behind the breaker of (store,
/// Shopify), like [`GuardedHistory`].
#[derive(Debug)]
pub struct GuardedOrders {
    /// The source itself.
    pub inner: std::sync::Arc<dyn crate::OrderSource>,
    /// The process's breakers.
    pub breakers: std::sync::Arc<Breakers>,
}

#[async_trait::async_trait]
impl crate::OrderSource for GuardedOrders {
    async fn order(
        &self,
        shop: &str,
        order_id: u64,
    ) -> Result<shopcase_contract::host_api::OrderDetails, shopcase_contract::host_api::HostError>
    {
        guarded(&self.breakers, shop, self.inner.order(shop, order_id)).await
    }

    async fn order_risk(
        &self,
        shop: &str,
        order_id: u64,
    ) -> Result<shopcase_contract::host_api::OrderRisk, shopcase_contract::host_api::HostError>
    {
        guarded(&self.breakers, shop, self.inner.order_risk(shop, order_id)).await
    }

    fn forget(&self, shop: &str) {
        self.inner.forget(shop);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "a.myshopify.com";

    fn policy() -> BreakerPolicy {
        BreakerPolicy {
            threshold: 3,
            cool_down: Duration::from_secs(5),
            max_cool_down: Duration::from_secs(40),
        }
    }

    fn down() -> Outcome {
        Outcome::Unavailable("503".into())
    }

    #[test]
    fn opens_after_the_threshold_probes_and_closes_on_an_answer() {
        let b = Breakers::new(policy());
        let t0 = Instant::now();
        for _ in 0..2 {
            assert_eq!(b.admit_at(S, Service::Shopify, t0), Admit::Go);
            b.record_at(S, Service::Shopify, &down(), t0);
        }
        assert_eq!(b.states()[0].state, "closed", "two failures are a blip");
        b.record_at(S, Service::Shopify, &down(), t0);
        let Admit::Wait {
            after,
            reason,
            credentials,
        } = b.admit_at(S, Service::Shopify, t0)
        else {
            panic!("open after three")
        };
        assert_eq!((after, credentials), (Duration::from_secs(5), false));
        assert!(
            reason.contains("shopify is unavailable") && reason.contains("503"),
            "{reason}"
        );
        // Other services and stores are not affected.
        assert_eq!(b.admit_at(S, Service::CoreCase, t0), Admit::Go);
        assert_eq!(
            b.admit_at("b.myshopify.com", Service::Shopify, t0),
            Admit::Go
        );

        // After the cool-down one probe goes; the others wait for it.
        let t1 = t0 + Duration::from_secs(5);
        assert_eq!(b.admit_at(S, Service::Shopify, t1), Admit::Go);
        assert!(matches!(
            b.admit_at(S, Service::Shopify, t1),
            Admit::Wait { .. }
        ));
        // A failed probe doubles the cool-down.
        b.record_at(S, Service::Shopify, &down(), t1);
        let Admit::Wait { after, .. } = b.admit_at(S, Service::Shopify, t1) else {
            panic!()
        };
        assert_eq!(after, Duration::from_secs(10));
        // A successful probe closes it.
        let t2 = t1 + Duration::from_secs(10);
        assert_eq!(b.admit_at(S, Service::Shopify, t2), Admit::Go);
        b.record_at(S, Service::Shopify, &Outcome::Answered, t2);
        assert_eq!(b.admit_at(S, Service::Shopify, t2), Admit::Go);
        assert!(b.states().is_empty());
    }

    #[test]
    fn refused_credentials_open_at_once_and_probe_at_the_longest_interval() {
        let b = Breakers::new(policy());
        let t0 = Instant::now();
        b.record_at(
            S,
            Service::CoreCase,
            &Outcome::CredentialsRefused("401".into()),
            t0,
        );
        let Admit::Wait {
            after,
            credentials,
            reason,
        } = b.admit_at(S, Service::CoreCase, t0)
        else {
            panic!()
        };
        assert_eq!((after, credentials), (Duration::from_secs(40), true));
        assert!(reason.contains("refuses the credentials"), "{reason}");
        assert_eq!(b.states()[0].state, "credentials-refused");
        // The probe is refused again: still refused, same interval.
        let t1 = t0 + Duration::from_secs(40);
        assert_eq!(b.admit_at(S, Service::CoreCase, t1), Admit::Go);
        b.record_at(S, Service::CoreCase, &down(), t1);
        assert!(matches!(
            b.admit_at(S, Service::CoreCase, t1),
            Admit::Wait {
                credentials: true,
                ..
            }
        ));
        // Fixed: the next probe closes it.
        let t2 = t1 + Duration::from_secs(40);
        assert_eq!(b.admit_at(S, Service::CoreCase, t2), Admit::Go);
        b.record_at(S, Service::CoreCase, &Outcome::Answered, t2);
        assert!(b.states().is_empty());
    }

    #[test]
    fn a_probe_that_never_reports_is_given_up() {
        let b = Breakers::new(policy());
        let t0 = Instant::now();
        for _ in 0..3 {
            b.record_at(S, Service::Shopify, &down(), t0);
        }
        let t1 = t0 + Duration::from_secs(5);
        // The probe's caller is cut off and never records its answer.
        assert_eq!(b.admit_at(S, Service::Shopify, t1), Admit::Go);
        assert!(matches!(
            b.admit_at(S, Service::Shopify, t1),
            Admit::Wait { .. }
        ));
        // After the longest cool-down another probe may go.
        let t2 = t1 + Duration::from_secs(40);
        assert_eq!(b.admit_at(S, Service::Shopify, t2), Admit::Go);
        b.record_at(S, Service::Shopify, &Outcome::Answered, t2);
        assert!(b.states().is_empty());
    }

    #[test]
    fn failures_not_in_a_row_do_not_open() {
        let b = Breakers::new(policy());
        let t0 = Instant::now();
        for _ in 0..5 {
            b.record_at(S, Service::Shopify, &down(), t0);
            b.record_at(S, Service::Shopify, &down(), t0);
            b.record_at(S, Service::Shopify, &Outcome::Answered, t0);
        }
        assert_eq!(b.admit_at(S, Service::Shopify, t0), Admit::Go);
    }
}
