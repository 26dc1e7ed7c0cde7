//! Pacing ahead of time: a per-shop estimate of Shopify's leaky bucket, so
//! a burst of write-backs waits its turn instead of being throttled.
//!
//! Every response carries `extensions.cost.throttleStatus {maximumAvailable,
//! currentlyAvailable, restoreRate}`. Between responses the bucket refills
//! at `restoreRate` points per second. Before sending, a request reserves its
//! expected cost; when the estimate cannot cover it, the request sleeps until
//! it can. Reservations are taken in arrival order, so concurrent requests
//! queue rather than stampede. Until the first response has told us the
//! bucket's size, only one request per shop is in flight (a probe); the rest
//! wait for its answer.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Shopify's `throttleStatus`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThrottleStatus {
    /// Bucket size, in cost points.
    pub maximum_available: f64,
    /// Points available when the response was produced.
    pub currently_available: f64,
    /// Points restored per second.
    pub restore_rate: f64,
}

impl ThrottleStatus {
    /// Read it from a response's `extensions.cost.throttleStatus`.
    pub(crate) fn from_extensions(extensions: &serde_json::Value) -> Option<ThrottleStatus> {
        let t = extensions.get("cost")?.get("throttleStatus")?;
        let f = |k: &str| {
            t.get(k)
                .and_then(serde_json::Value::as_f64)
                .filter(|v| v.is_finite() && *v >= 0.0)
        };
        let status = ThrottleStatus {
            maximum_available: f("maximumAvailable")?,
            currently_available: f("currentlyAvailable")?,
            restore_rate: f("restoreRate")?,
        };
        (status.maximum_available > 0.0 && status.restore_rate > 0.0).then_some(status)
    }
}

#[derive(Debug)]
struct Known {
    max: f64,
    rate: f64,
    /// May go negative: points already promised to waiting requests.
    available: f64,
    at: Instant,
}

#[derive(Debug, Default)]
struct State {
    known: Option<Known>,
    /// Cost reserved by requests that have not been answered yet.
    in_flight: f64,
    probing: bool,
    /// Reservations made so far: each ticket's number, in sending order.
    reserved: u64,
    /// The number of the newest reservation whose answer's status was
    /// taken into the estimate.
    applied: u64,
}

/// A reservation: [`Ticket::settle`] it once answered. Dropping it unsettled
/// (the request's future was cancelled) gives the reservation back too, so
/// a cancelled probe never leaves the other requests waiting.
#[derive(Debug)]
#[must_use]
pub(crate) struct Ticket {
    bucket: Arc<Bucket>,
    cost: f64,
    wait: Duration,
    probe: bool,
    /// Its number among the bucket's reservations.
    number: u64,
    settled: bool,
}

impl Ticket {
    /// How long to sleep before sending.
    pub(crate) fn wait(&self) -> Duration {
        self.wait
    }

    /// The request was answered (or failed), with the throttle status of
    /// the answer if it had one.
    pub(crate) fn settle(mut self, status: Option<ThrottleStatus>) {
        self.settled = true;
        self.bucket
            .release(self.cost, self.probe, self.number, status);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.settled {
            self.bucket
                .release(self.cost, self.probe, self.number, None);
        }
    }
}

/// One shop's bucket estimate, shared by every request to that shop.
#[derive(Debug, Default)]
pub(crate) struct Bucket {
    state: Mutex<State>,
    probe_done: Notify,
}

/// The longest a request waits for the probe before going ahead anyway.
const PROBE_PATIENCE: Duration = Duration::from_secs(5);

impl Bucket {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the estimate
        // inconsistent in a way that matters; keep going.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Reserve `cost` points, waiting for the probe if the bucket is still
    /// unknown. Returns the ticket; the caller sleeps `ticket.wait()` first.
    pub(crate) async fn reserve(self: &Arc<Self>, cost: f64) -> Ticket {
        let deadline = Instant::now() + PROBE_PATIENCE;
        loop {
            let notified = self.probe_done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let now = Instant::now();
            let ticket = {
                let mut s = self.lock();
                if s.known.is_none() && s.probing && now < deadline {
                    None
                } else {
                    let (wait, probe) = Self::reserve_locked(&mut s, cost, now);
                    s.reserved += 1;
                    Some(Ticket {
                        bucket: self.clone(),
                        cost,
                        wait,
                        probe,
                        number: s.reserved,
                        settled: false,
                    })
                }
            };
            match ticket {
                Some(t) => return t,
                None => {
                    let _ = tokio::time::timeout(deadline.saturating_duration_since(now), notified)
                        .await;
                }
            }
        }
    }

    /// Take `cost` from the estimate: how long to wait, and whether this
    /// request is the probe.
    fn reserve_locked(s: &mut State, cost: f64, now: Instant) -> (Duration, bool) {
        s.in_flight += cost;
        match &mut s.known {
            None => {
                s.probing = true;
                (Duration::ZERO, true)
            }
            Some(k) => {
                let refilled = (k.available
                    + k.rate * now.saturating_duration_since(k.at).as_secs_f64())
                .min(k.max);
                // A request can never need more than a full bucket.
                let need = cost.min(k.max);
                k.available = refilled - need;
                k.at = now;
                let wait = if k.available >= 0.0 {
                    0.0
                } else {
                    -k.available / k.rate
                };
                (Duration::from_secs_f64(wait.min(3600.0)), false)
            }
        }
    }

    fn release(&self, cost: f64, probe: bool, number: u64, status: Option<ThrottleStatus>) {
        let mut s = self.lock();
        s.in_flight = (s.in_flight - cost).max(0.0);
        // Answers can arrive out of order: the status of a request sent
        // before the one whose status is already in the estimate is older
        // news, and would undo what the newer answer (and the requests it
        // charged) said. Newer answers are taken whole, refunds included
        // (Shopify charges the actual cost, often below the requested one).
        if let Some(t) = status.filter(|_| number > s.applied) {
            s.applied = number;
            // Shopify's figure is the truth as of the answer; requests still
            // in flight (or waiting) have not been charged in it yet.
            s.known = Some(Known {
                max: t.maximum_available,
                rate: t.restore_rate,
                available: t.currently_available.min(t.maximum_available) - s.in_flight,
                at: Instant::now(),
            });
        }
        if probe {
            s.probing = false;
            drop(s);
            self.probe_done.notify_waiters();
        }
    }

    /// How long until `cost` points are available, by the current estimate
    /// (used after a THROTTLED answer that carried a throttle status).
    pub(crate) fn time_until(&self, cost: f64) -> Option<Duration> {
        let s = self.lock();
        let k = s.known.as_ref()?;
        let now_available = (k.available + k.rate * k.at.elapsed().as_secs_f64()).min(k.max);
        let need = cost.min(k.max) - now_available;
        Some(Duration::from_secs_f64(
            (need.max(0.0) / k.rate).min(3600.0),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(max: f64, avail: f64, rate: f64) -> Option<ThrottleStatus> {
        Some(ThrottleStatus {
            maximum_available: max,
            currently_available: avail,
            restore_rate: rate,
        })
    }

    #[tokio::test]
    async fn queues_reservations_once_the_bucket_is_known() {
        let b = Arc::new(Bucket::default());
        let probe = b.reserve(10.0).await;
        assert_eq!(probe.wait(), Duration::ZERO);
        probe.settle(status(50.0, 40.0, 10.0));
        // 40 available: four 10-point requests go at once, the fifth waits
        // about a second, the sixth about two.
        // Six requests in flight at once (none answered yet).
        let mut tickets = Vec::new();
        for _ in 0..6 {
            tickets.push(b.reserve(10.0).await);
        }
        let waits: Vec<Duration> = tickets.iter().map(Ticket::wait).collect();
        assert!(waits[..4].iter().all(|w| *w == Duration::ZERO), "{waits:?}");
        assert!(
            waits[4] > Duration::from_millis(900) && waits[4] <= Duration::from_millis(1000),
            "{waits:?}"
        );
        assert!(
            waits[5] > Duration::from_millis(1900) && waits[5] <= Duration::from_millis(2000),
            "{waits:?}"
        );
    }

    #[tokio::test]
    async fn waits_for_the_probe_before_bursting() {
        let b = Arc::new(Bucket::default());
        let probe = b.reserve(10.0).await;
        let b2 = b.clone();
        let second = tokio::spawn(async move { b2.reserve(10.0).await.wait() });
        tokio::task::yield_now().await;
        assert!(
            !second.is_finished(),
            "the second request must wait for the probe's answer"
        );
        // The probe learns the bucket is empty: the second waits a full cost.
        probe.settle(status(100.0, 0.0, 20.0));
        let wait = second.await.unwrap();
        assert!(
            wait >= Duration::from_millis(490) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
    }

    #[tokio::test]
    async fn a_cancelled_probe_hands_over_to_the_next_request() {
        let b = Arc::new(Bucket::default());
        let probe = b.reserve(10.0).await;
        let b2 = b.clone();
        let second = tokio::spawn(async move { b2.reserve(10.0).await.wait() });
        tokio::task::yield_now().await;
        assert!(!second.is_finished());
        // The probe's request future was dropped without an answer.
        drop(probe);
        assert_eq!(
            second.await.unwrap(),
            Duration::ZERO,
            "the next request probes at once"
        );
    }

    #[test]
    fn an_older_answer_arriving_late_does_not_raise_the_estimate() {
        let b = Arc::new(Bucket::default());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            // Known: 100 of 100, restoring 1 a second.
            b.reserve(1.0).await.settle(status(100.0, 100.0, 1.0));
            // Two requests of 40: the later-processed answer says 20 left,
            // then the earlier-processed one (60 left) arrives late.
            let first = b.reserve(40.0).await;
            let second = b.reserve(40.0).await;
            second.settle(status(100.0, 20.0, 1.0));
            first.settle(status(100.0, 60.0, 1.0));
            // 20 left (plus a moment's refill), not 60: a request of 50 waits.
            let wait = b.time_until(50.0).unwrap();
            assert!(wait > Duration::from_secs(25), "{wait:?}");
        });
    }

    #[tokio::test]
    async fn a_newer_answer_refunds_what_a_request_did_not_cost() {
        let b = Arc::new(Bucket::default());
        b.reserve(1.0).await.settle(status(100.0, 100.0, 1.0));
        // Reserved at its requested cost (80), charged its actual cost (10).
        b.reserve(80.0).await.settle(status(100.0, 90.0, 1.0));
        assert_eq!(b.time_until(50.0), Some(Duration::ZERO));
    }

    #[test]
    fn reads_throttle_status_from_extensions() {
        let ext = serde_json::json!({"cost": {"requestedQueryCost": 10, "actualQueryCost": 10,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 990, "restoreRate": 50.0}}});
        assert_eq!(
            ThrottleStatus::from_extensions(&ext),
            status(1000.0, 990.0, 50.0)
        );
        assert_eq!(
            ThrottleStatus::from_extensions(&serde_json::json!({"cost": {}})),
            None
        );
        let zero_rate = serde_json::json!({"cost": {"throttleStatus": {"maximumAvailable": 1, "currentlyAvailable": 1, "restoreRate": 0}}});
        assert_eq!(ThrottleStatus::from_extensions(&zero_rate), None);
    }
}
