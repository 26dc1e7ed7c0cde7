//! Pieces every outbound shopcase client shares.
//!
//! - [`Backoff`]: exponential backoff with full jitter, capped, honouring a
//!   server's `Retry-After`.
//! - [`Secret`]: a credential that never appears in `Debug`, `Display` or
//!   serialised output, so it cannot reach a log by accident.
//! - [`retry_after`]: parse a `Retry-After` header value.
//! - [`config`]: value types of configuration files, checked while they are
//!   read: [`HumanDuration`], [`ByteSize`], [`Count`], [`SecretSource`],
//!   [`RenamedDuration`].

#![forbid(unsafe_code)]

pub mod config;

pub use config::{
    ByteSize, Count, HumanDuration, NonZeroCount, NonZeroCount32, RenamedDuration, SecretSource,
};

use std::fmt;
use std::time::Duration;

/// Exponential backoff with full jitter: attempt `n` (from 0) waits a
/// random time in `[0, min(max, base * 2^n)]`, or exactly the server's
/// `Retry-After` when one was given (capped by `max_retry_after`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First delay ceiling.
    pub base: Duration,
    /// Largest delay ceiling.
    pub max: Duration,
    /// Attempts in all, including the first; after that the error stands.
    pub max_attempts: u32,
    /// The longest `Retry-After` honoured; longer ones count as this.
    pub max_retry_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(10),
            max_attempts: 6,
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl Backoff {
    /// The ceiling of the delay before retry number `attempt` (0 = the
    /// first retry), without jitter.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The delay before retry number `attempt`: the server's `retry_after`
    /// if it gave one, else a random time up to [`Backoff::ceiling`].
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(d) => d.min(self.max_retry_after),
            None => self.ceiling(attempt).mul_f64(rand::random::<f64>()),
        }
    }

    /// The next try while waiting out an outage that has lasted `waited`:
    /// a quarter of it, between `base` and `max`, less up to a fifth
    /// (jitter), so a blip is retried at once and a long outage is not
    /// hammered by every waiting event at the same moment.
    pub fn outage_delay(&self, waited: Duration) -> Duration {
        let quarter = (waited / 4).clamp(self.base, self.max.max(self.base));
        quarter.mul_f64(1.0 - rand::random::<f64>() * 0.2)
    }

    /// Whether another attempt is allowed after `attempts_made` attempts.
    pub fn allows(&self, attempts_made: u32) -> bool {
        attempts_made < self.max_attempts
    }
}

/// Parse `Retry-After`: delay-seconds (`"3"`, also `"1.5"`). HTTP dates are
/// not used by the services we speak to and are ignored.
pub fn retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    let secs: f64 = v.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// A credential. Printing it shows `[redacted]`; only [`Secret::expose`]
/// gives the value, so every use is visible in review.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The credential itself. Use only to put it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl serde::Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_and_cap() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_attempts: 5,
            max_retry_after: Duration::from_secs(30),
        };
        assert_eq!(b.ceiling(0), Duration::from_millis(100));
        assert_eq!(b.ceiling(3), Duration::from_millis(800));
        assert_eq!(b.ceiling(4), Duration::from_secs(1));
        assert_eq!(b.ceiling(200), Duration::from_secs(1));
        for attempt in 0..10 {
            assert!(b.delay(attempt, None) <= b.ceiling(attempt));
        }
        assert_eq!(
            b.delay(0, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            b.delay(0, Some(Duration::from_secs(99))),
            Duration::from_secs(30)
        );
        assert!(b.allows(4));
        assert!(!b.allows(5));
    }

    #[test]
    fn an_outage_is_retried_soon_at_first_and_at_most_every_max() {
        let b = Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(300),
            max_attempts: 5,
            max_retry_after: Duration::from_secs(30),
        };
        let within = |waited: Duration, low: Duration, high: Duration| {
            for _ in 0..50 {
                let d = b.outage_delay(waited);
                assert!(low <= d && d <= high, "{waited:?}: {d:?}");
            }
        };
        // A blip: the base (less jitter).
        within(
            Duration::ZERO,
            Duration::from_millis(800),
            Duration::from_secs(1),
        );
        // Forty minutes in: ten minutes would be a quarter; capped at max.
        within(
            Duration::from_secs(2400),
            Duration::from_secs(240),
            Duration::from_secs(300),
        );
        within(
            Duration::from_secs(40),
            Duration::from_secs(8),
            Duration::from_secs(10),
        );
    }

    #[test]
    fn retry_after_parses_seconds_only() {
        assert_eq!(retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(" 1.5 "), Some(Duration::from_millis(1500)));
        assert_eq!(retry_after("-1"), None);
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("shpat_123");
        assert_eq!(format!("{s} {s:?}"), "[redacted] Secret([redacted])");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
        let back: Secret = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(back.expose(), "abc");
    }
}
