//! `[shopify]` in `shopcase.toml`: the Shopify client's timeouts and retry
//! policy, the execution bound of one write-back, and the customer-history
//! cache. Every key is optional; unknown keys are refused with their name.
//!
//! ```toml
//! [shopify]
//! request-timeout = "30s"     # one HTTP request to the Admin API
//! connect-timeout = "10s"
//! execute-timeout = "45s"     # one journalled operation, all requests and waits; default 3/4 of executor.lease
//! max-attempts = 6            # tries of one request/operation within an execution (5xx, lost answers)
//! backoff-base = "100ms"
//! backoff-max = "10s"
//! max-retry-after = "60s"     # the longest Retry-After honoured
//! max-throttle-waits = 20     # THROTTLED answers waited out before the execution is retried later
//! history-ttl = "5m"          # how long a customer's history is reused; "0s": never cached
//! history-max-entries = 10000
//! ```

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use shopcase_net::Backoff;
use shopcase_shopify::{ClientConfig, HistoryConfig};

use shopcase_config::{Config, ConfigError, format_duration, parse_duration};

/// The checked `[shopify]` section.
#[derive(Debug, Clone)]
pub struct ShopifySettings {
    /// The Admin API client: timeouts, in-call retries, throttle waits.
    pub client: ClientConfig,
    /// The customer-history cache.
    pub history: HistoryConfig,
    /// The longest one journalled operation may take (all its requests,
    /// retries and throttle waits). Shorter than `executor.lease`, so an
    /// execution never outlives its claim and runs twice at once.
    pub execute_timeout: Duration,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawShopify {
    request_timeout: Option<String>,
    connect_timeout: Option<String>,
    execute_timeout: Option<String>,
    max_attempts: Option<u32>,
    backoff_base: Option<String>,
    backoff_max: Option<String>,
    max_retry_after: Option<String>,
    max_throttle_waits: Option<u32>,
    history_ttl: Option<String>,
    history_max_entries: Option<u64>,
}

/// The longest default request timeout.
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

impl ShopifySettings {
    /// Check `config.shopify` (absent: every default) against the rest of
    /// the configuration (the executor's lease bounds an execution).
    pub fn from_config(config: &Config) -> Result<ShopifySettings, ConfigError> {
        ShopifySettings::parse(config.shopify.as_ref(), &config.path, config.executor.lease)
    }

    /// Check a `[shopify]` table; `file` names it in errors, `lease` is
    /// `executor.lease`.
    pub fn parse(
        section: Option<&toml::Value>,
        file: &Path,
        lease: Duration,
    ) -> Result<ShopifySettings, ConfigError> {
        let at = |key: &str, message: String| ConfigError {
            file: file.to_owned(),
            key: Some(format!("shopify.{key}")),
            message,
        };
        let raw: RawShopify = match section {
            None => RawShopify::default(),
            Some(v) => v
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError {
                    file: file.to_owned(),
                    key: Some("shopify".to_owned()),
                    message: e.message().trim_end().to_owned(),
                })?,
        };
        let dur = |key: &str, v: &Option<String>| -> Result<Option<Duration>, ConfigError> {
            v.as_deref()
                .map(|s| parse_duration(s).map_err(|m| at(key, m)))
                .transpose()
        };
        let positive = |key: &str, d: Option<Duration>| match d {
            Some(d) if d.is_zero() => Err(at(key, "must be longer than 0".to_owned())),
            d => Ok(d),
        };

        let execute_timeout = match positive(
            "execute-timeout",
            dur("execute-timeout", &raw.execute_timeout)?,
        )? {
            Some(t) if t >= lease => {
                return Err(at(
                    "execute-timeout",
                    format!(
                        "must be shorter than `executor.lease` ({}): an execution still running when its claim ends could be claimed again and run twice",
                        format_duration(lease)
                    ),
                ));
            }
            Some(t) => t,
            None => lease.mul_f64(0.75),
        };
        let request_timeout = match positive(
            "request-timeout",
            dur("request-timeout", &raw.request_timeout)?,
        )? {
            Some(t) if t > execute_timeout => {
                return Err(at(
                    "request-timeout",
                    format!(
                        "must not be longer than `shopify.execute-timeout` ({}), which bounds the whole execution",
                        format_duration(execute_timeout)
                    ),
                ));
            }
            Some(t) => t,
            None => DEFAULT_REQUEST_TIMEOUT.min(execute_timeout),
        };
        let defaults = ClientConfig::default();
        let connect_timeout = positive(
            "connect-timeout",
            dur("connect-timeout", &raw.connect_timeout)?,
        )?
        .unwrap_or(defaults.connect_timeout);

        let d = defaults.backoff;
        let max_attempts = raw.max_attempts.unwrap_or(d.max_attempts);
        if max_attempts == 0 {
            return Err(at("max-attempts", "must be at least 1".to_owned()));
        }
        let base =
            positive("backoff-base", dur("backoff-base", &raw.backoff_base)?)?.unwrap_or(d.base);
        let max = positive("backoff-max", dur("backoff-max", &raw.backoff_max)?)?.unwrap_or(d.max);
        if base > max {
            return Err(at(
                "backoff-base",
                format!(
                    "must not be longer than `shopify.backoff-max` ({})",
                    format_duration(max)
                ),
            ));
        }
        let backoff = Backoff {
            base,
            max,
            max_attempts,
            max_retry_after: dur("max-retry-after", &raw.max_retry_after)?
                .unwrap_or(d.max_retry_after),
        };

        let h = HistoryConfig::default();
        let max_entries = raw.history_max_entries.unwrap_or(h.max_entries as u64);
        if max_entries == 0 {
            return Err(at("history-max-entries", "must be at least 1".to_owned()));
        }
        let history = HistoryConfig {
            ttl: dur("history-ttl", &raw.history_ttl)?.unwrap_or(h.ttl),
            max_entries: usize::try_from(max_entries).unwrap_or(usize::MAX),
        };

        Ok(ShopifySettings {
            client: ClientConfig {
                backoff,
                request_timeout,
                connect_timeout,
                max_throttle_waits: raw
                    .max_throttle_waits
                    .unwrap_or(defaults.max_throttle_waits),
                ..defaults
            },
            history,
            execute_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(60);

    fn parse(text: &str) -> Result<ShopifySettings, String> {
        let v: toml::Value = toml::from_str(text).unwrap();
        ShopifySettings::parse(
            v.get("shopify"),
            Path::new("/etc/shopcase/shopcase.toml"),
            LEASE,
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_follow_the_executor_lease() {
        let s = ShopifySettings::parse(None, Path::new("x.toml"), LEASE).unwrap();
        assert_eq!(s.execute_timeout, Duration::from_secs(45));
        assert_eq!(s.client.request_timeout, Duration::from_secs(30));
        assert_eq!(s.client.backoff, Backoff::default());
        assert_eq!(s.client.max_throttle_waits, 20);
        assert_eq!(s.history.ttl, Duration::from_secs(300));
        // A short lease shortens the defaults rather than failing.
        let s = ShopifySettings::parse(None, Path::new("x.toml"), Duration::from_secs(2)).unwrap();
        assert_eq!(s.execute_timeout, Duration::from_millis(1500));
        assert_eq!(s.client.request_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn every_key_is_read() {
        let s = parse(
            r#"
[shopify]
request-timeout = "5s"
connect-timeout = "2s"
execute-timeout = "20s"
max-attempts = 3
backoff-base = "50ms"
backoff-max = "2s"
max-retry-after = "10s"
max-throttle-waits = 7
history-ttl = "0s"
history-max-entries = 50
"#,
        )
        .unwrap();
        assert_eq!(s.client.request_timeout, Duration::from_secs(5));
        assert_eq!(s.client.connect_timeout, Duration::from_secs(2));
        assert_eq!(s.execute_timeout, Duration::from_secs(20));
        assert_eq!(
            s.client.backoff,
            Backoff {
                base: Duration::from_millis(50),
                max: Duration::from_secs(2),
                max_attempts: 3,
                max_retry_after: Duration::from_secs(10),
            }
        );
        assert_eq!(s.client.max_throttle_waits, 7);
        assert_eq!(s.history.ttl, Duration::ZERO);
        assert_eq!(s.history.max_entries, 50);
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let cases: &[(&str, &str)] = &[
            (
                "[shopify]\nhistory-tll = \"1m\"",
                "/etc/shopcase/shopcase.toml: `shopify`: unknown field `history-tll`, expected one of",
            ),
            (
                "[shopify]\nhistory-ttl = \"soon\"",
                "/etc/shopcase/shopcase.toml: `shopify.history-ttl`: `soon` is not a duration",
            ),
            (
                "[shopify]\nexecute-timeout = \"60s\"",
                "`shopify.execute-timeout`: must be shorter than `executor.lease` (1m)",
            ),
            (
                "[shopify]\nrequest-timeout = \"50s\"",
                "`shopify.request-timeout`: must not be longer than `shopify.execute-timeout` (45s)",
            ),
            (
                "[shopify]\nmax-attempts = 0",
                "`shopify.max-attempts`: must be at least 1",
            ),
            (
                "[shopify]\nbackoff-base = \"20s\"",
                "`shopify.backoff-base`: must not be longer than `shopify.backoff-max` (10s)",
            ),
            (
                "[shopify]\nrequest-timeout = \"0s\"",
                "`shopify.request-timeout`: must be longer than 0",
            ),
            (
                "[shopify]\nhistory-max-entries = 0",
                "`shopify.history-max-entries`: must be at least 1",
            ),
            (
                "[shopify]\nmax-attempts = \"three\"",
                "`shopify`: invalid type: string \"three\", expected u32",
            ),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "want {want:?} in {err:?}");
        }
    }

    #[test]
    fn the_example_configuration_is_valid() {
        let text = include_str!("../../../examples/shopcase.toml");
        let v: toml::Value = toml::from_str(text).unwrap();
        assert!(
            v.get("shopify").is_some(),
            "the example documents [shopify]"
        );
        let s =
            ShopifySettings::parse(v.get("shopify"), Path::new("examples/shopcase.toml"), LEASE)
                .unwrap();
        assert_eq!(s.history.ttl, Duration::from_secs(300));
    }
}
