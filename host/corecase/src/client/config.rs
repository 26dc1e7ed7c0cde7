//! Client configuration: what a deployment writes in `shopcase.toml`
//! ([`CoreCaseConfig`]) and what the client runs with once the secret is
//! resolved ([`ClientSettings`]).
//!
//! ```toml
//! [corecase]
//! api-base = "https://na-1.api.example.opentext.com"
//! auth-base = "https://na-1.api.example.opentext.com"
//! tenant-id = "a1b2c3"
//! client-id = "shopcase-prod"
//! client-secret-env = "SHOPCASE_CORECASE_SECRET"   # or client-secret-file = "/run/secrets/corecase"
//! request-timeout-ms = 30000
//!
//! [corecase.retry]
//! base-ms = 200
//! max-ms = 10000
//! max-attempts = 6
//! max-retry-after-ms = 60000
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use shopcase_net::{Backoff, Secret};
use url::Url;

use super::error::Error;

/// The `[corecase]` section of `shopcase.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CoreCaseConfig {
    /// Where the REST API lives; requests go to `{api-base}/api/v1/…`.
    pub api_base: Url,
    /// Where the token endpoint lives:
    /// `{auth-base}/tenants/{tenant-id}/oauth2/token`.
    pub auth_base: Url,
    /// The Core Case tenant.
    pub tenant_id: String,
    /// OAuth2 client id.
    pub client_id: String,
    /// Name of the environment variable holding the client secret.
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// File holding the client secret (trailing whitespace is ignored).
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
    /// Timeout of one HTTP attempt, in milliseconds.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
    /// Refresh the token this long before it expires (capped at half its
    /// lifetime), in seconds.
    #[serde(default = "default_token_refresh_margin_secs")]
    pub token_refresh_margin_secs: u64,
    /// Allow `http://` URLs to hosts other than loopback. Off by default:
    /// credentials must not cross a network in clear text.
    #[serde(default)]
    pub allow_plain_http: bool,
    /// Retry policy.
    #[serde(default)]
    pub retry: RetryConfig,
}

fn default_request_timeout_ms() -> u64 {
    30_000
}

fn default_token_refresh_margin_secs() -> u64 {
    60
}

/// `[corecase.retry]`: exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct RetryConfig {
    /// First delay ceiling, in milliseconds.
    pub base_ms: u64,
    /// Largest delay ceiling, in milliseconds.
    pub max_ms: u64,
    /// Attempts in all, including the first.
    pub max_attempts: u32,
    /// The longest `Retry-After` honoured, in milliseconds.
    pub max_retry_after_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        let b = Backoff::default();
        RetryConfig {
            base_ms: millis(b.base),
            max_ms: millis(b.max),
            max_attempts: b.max_attempts,
            max_retry_after_ms: millis(b.max_retry_after),
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RetryConfig {
    /// The policy as a [`Backoff`].
    pub fn backoff(&self) -> Backoff {
        Backoff {
            base: Duration::from_millis(self.base_ms),
            max: Duration::from_millis(self.max_ms),
            max_attempts: self.max_attempts,
            max_retry_after: Duration::from_millis(self.max_retry_after_ms),
        }
    }
}

/// Everything the client runs with, the secret resolved.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// See [`CoreCaseConfig::api_base`].
    pub api_base: Url,
    /// See [`CoreCaseConfig::auth_base`].
    pub auth_base: Url,
    /// The tenant.
    pub tenant_id: String,
    /// OAuth2 client id.
    pub client_id: String,
    /// OAuth2 client secret.
    pub client_secret: Secret,
    /// Timeout of one HTTP attempt.
    pub request_timeout: Duration,
    /// Refresh the token this long before it expires (capped at half its
    /// lifetime, so short-lived tokens are not refreshed on every call).
    pub token_refresh_margin: Duration,
    /// Retry policy.
    pub backoff: Backoff,
    /// Allow `http://` to non-loopback hosts.
    pub allow_plain_http: bool,
}

impl ClientSettings {
    /// Settings with the defaults of [`CoreCaseConfig`].
    pub fn new(
        api_base: Url,
        auth_base: Url,
        tenant_id: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: Secret,
    ) -> ClientSettings {
        ClientSettings {
            api_base,
            auth_base,
            tenant_id: tenant_id.into(),
            client_id: client_id.into(),
            client_secret,
            request_timeout: Duration::from_millis(default_request_timeout_ms()),
            token_refresh_margin: Duration::from_secs(default_token_refresh_margin_secs()),
            backoff: RetryConfig::default().backoff(),
            allow_plain_http: false,
        }
    }

    /// Check the settings; the error names the offending key.
    pub fn validate(&self) -> Result<(), Error> {
        check_url("api-base", &self.api_base, self.allow_plain_http)?;
        check_url("auth-base", &self.auth_base, self.allow_plain_http)?;
        for (key, value) in [
            ("tenant-id", &self.tenant_id),
            ("client-id", &self.client_id),
        ] {
            if value.trim().is_empty() {
                return Err(Error::Config(format!("`{key}` is empty")));
            }
        }
        if self.client_secret.is_empty() {
            return Err(Error::Config("the client secret is empty".into()));
        }
        if self.request_timeout.is_zero() {
            return Err(Error::Config(
                "`request-timeout-ms` must be more than 0".into(),
            ));
        }
        if self.backoff.max_attempts == 0 {
            return Err(Error::Config(
                "`retry.max-attempts` must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

fn check_url(key: &str, url: &Url, allow_plain_http: bool) -> Result<(), Error> {
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(Error::Config(format!(
            "`{key}` = `{url}` is not a base URL like https://host/"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "`{key}` = `{url}` must not have a query or fragment"
        )));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_plain_http || is_loopback(url) => Ok(()),
        "http" => Err(Error::Config(format!(
            "`{key}` = `{url}` uses plain http to a non-loopback host; use https (or set `allow-plain-http = true`)"
        ))),
        other => Err(Error::Config(format!(
            "`{key}` = `{url}`: scheme `{other}` is not http or https"
        ))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

impl CoreCaseConfig {
    /// Resolve the client secret (from the environment or a file) and check
    /// the settings.
    pub fn resolve(&self) -> Result<ClientSettings, Error> {
        self.resolve_with(|name| std::env::var(name).ok())
    }

    /// [`CoreCaseConfig::resolve`] with the environment given as a lookup
    /// function (for tests, and for callers that keep their own environment).
    pub fn resolve_with(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ClientSettings, Error> {
        let secret = match (&self.client_secret_env, &self.client_secret_file) {
            (Some(_), Some(_)) => {
                return Err(Error::Config(
                    "both `client-secret-env` and `client-secret-file` are set; give exactly one"
                        .into(),
                ));
            }
            (None, None) => {
                return Err(Error::Config(
                    "the client secret is missing: set `client-secret-env = \"VAR\"` or `client-secret-file = \"path\"`"
                        .into(),
                ));
            }
            (Some(var), None) => {
                let value = env(var).ok_or_else(|| {
                    Error::Config(format!("`client-secret-env` names the environment variable `{var}`, which is not set"))
                })?;
                if value.trim().is_empty() {
                    return Err(Error::Config(format!(
                        "the environment variable `{var}` (`client-secret-env`) is empty"
                    )));
                }
                Secret::new(value.trim())
            }
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::Config(format!(
                        "`client-secret-file` = `{}` cannot be read: {e}",
                        path.display()
                    ))
                })?;
                // A trailing newline is how editors and `echo` leave files.
                let value = text.trim_end();
                if value.is_empty() {
                    return Err(Error::Config(format!(
                        "`client-secret-file` = `{}` is empty",
                        path.display()
                    )));
                }
                Secret::new(value)
            }
        };
        let settings = ClientSettings {
            api_base: self.api_base.clone(),
            auth_base: self.auth_base.clone(),
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            client_secret: secret,
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            token_refresh_margin: Duration::from_secs(self.token_refresh_margin_secs),
            backoff: self.retry.backoff(),
            allow_plain_http: self.allow_plain_http,
        };
        settings.validate()?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Result<CoreCaseConfig, serde_json::Error> {
        let base = r#""api-base":"https://cc.example.com","auth-base":"https://auth.example.com","tenant-id":"t1","client-id":"shopcase""#;
        serde_json::from_str(&format!("{{{base}{extra}}}"))
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let err = config(r#","client-secret":"oops""#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `client-secret`"), "{err}");
        let err = config(r#","client-secret-env":"X","retry":{"base":1}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `base`"), "{err}");
    }

    #[test]
    fn secret_from_env() {
        let c = config(r#","client-secret-env":"CC_SECRET""#).unwrap();
        let s = c
            .resolve_with(|k| (k == "CC_SECRET").then(|| "s3cret\n".to_string()))
            .unwrap();
        assert_eq!(s.client_secret.expose(), "s3cret");
        assert_eq!(s.request_timeout, Duration::from_secs(30));
        assert_eq!(s.backoff, Backoff::default());
        assert!(
            !format!("{s:?}").contains("s3cret"),
            "Debug must not show the secret"
        );
        let err = c.resolve_with(|_| None).unwrap_err().to_string();
        assert!(
            err.contains("`client-secret-env`")
                && err.contains("`CC_SECRET`")
                && err.contains("not set"),
            "{err}"
        );
    }

    #[test]
    fn secret_from_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "from-file\n").unwrap();
        let c = config(&format!(
            r#","client-secret-file":{:?}"#,
            path.to_str().unwrap()
        ))
        .unwrap();
        assert_eq!(
            c.resolve_with(|_| None).unwrap().client_secret.expose(),
            "from-file"
        );
        let missing = config(r#","client-secret-file":"/nonexistent/secret""#).unwrap();
        let err = missing.resolve_with(|_| None).unwrap_err().to_string();
        assert!(
            err.contains("`client-secret-file`") && err.contains("/nonexistent/secret"),
            "{err}"
        );
    }

    #[test]
    fn exactly_one_secret_source() {
        let err = config("")
            .unwrap()
            .resolve_with(|_| None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("client-secret-env") && err.contains("client-secret-file"),
            "{err}"
        );
        let both = config(r#","client-secret-env":"A","client-secret-file":"/x""#).unwrap();
        assert!(
            both.resolve_with(|_| Some("v".into()))
                .unwrap_err()
                .to_string()
                .contains("both")
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let mut c = config(r#","client-secret-env":"S""#).unwrap();
        c.api_base = Url::parse("http://corecase.internal:8080").unwrap();
        let err = c
            .resolve_with(|_| Some("v".into()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`api-base`") && err.contains("plain http"),
            "{err}"
        );
        c.allow_plain_http = true;
        assert!(c.resolve_with(|_| Some("v".into())).is_ok());
        c.allow_plain_http = false;
        c.api_base = Url::parse("http://127.0.0.1:9000").unwrap();
        assert!(c.resolve_with(|_| Some("v".into())).is_ok());
    }

    #[test]
    fn retry_section() {
        let c =
            config(r#","client-secret-env":"S","retry":{"base-ms":5,"max-attempts":3}"#).unwrap();
        let b = c.retry.backoff();
        assert_eq!(b.base, Duration::from_millis(5));
        assert_eq!(b.max_attempts, 3);
        assert_eq!(b.max, Backoff::default().max);
    }
}
