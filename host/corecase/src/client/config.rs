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
//! request-timeout = "30s"
//! token-refresh-margin = "60s"
//!
//! [corecase.retry]
//! base = "200ms"
//! max = "10s"
//! max-attempts = 6
//! max-retry-after = "60s"
//! ```
//!
//! Durations are [`HumanDuration`]s. The keys that used to be integers
//! with their unit in the name ([`RENAMED`]: `request-timeout-ms`,
//! `token-refresh-margin-secs`, `retry.base-ms`, `retry.max-ms`,
//! `retry.max-retry-after-ms`) are still read, each noted in
//! [`CoreCaseConfig::warnings`]; giving an old key beside its new one is
//! an error.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use shopcase_net::{Backoff, HumanDuration, RenamedDuration, Secret, SecretSource};
use url::Url;

use super::error::Error;

/// The deprecated duration keys of `[corecase]` (relative to it), and the
/// keys that replace them.
pub const RENAMED: [RenamedDuration; 5] = [
    RenamedDuration::millis("request-timeout-ms", "request-timeout"),
    RenamedDuration::secs("token-refresh-margin-secs", "token-refresh-margin"),
    RenamedDuration::millis("retry.base-ms", "retry.base"),
    RenamedDuration::millis("retry.max-ms", "retry.max"),
    RenamedDuration::millis("retry.max-retry-after-ms", "retry.max-retry-after"),
];

/// The `[corecase]` section of `shopcase.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawCoreCaseConfig")]
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
    pub client_secret_env: Option<String>,
    /// File holding the client secret (a trailing newline is ignored).
    pub client_secret_file: Option<PathBuf>,
    /// Timeout of one HTTP attempt (`request-timeout`, 30s).
    pub request_timeout: HumanDuration,
    /// Refresh the token this long before it expires, capped at half its
    /// lifetime (`token-refresh-margin`, 60s).
    pub token_refresh_margin: HumanDuration,
    /// Allow `http://` URLs to hosts other than loopback. Off by default:
    /// credentials must not cross a network in clear text.
    pub allow_plain_http: bool,
    /// Retry policy.
    pub retry: RetryConfig,
    /// Deprecated keys it was read from, one warning each (naming the old
    /// and the new key).
    pub warnings: Vec<String>,
}

/// The default of `request-timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The default of `token-refresh-margin`.
pub const DEFAULT_TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The file's shape, old keys included.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCoreCaseConfig {
    api_base: Url,
    auth_base: Url,
    tenant_id: String,
    client_id: String,
    client_secret_env: Option<String>,
    client_secret_file: Option<PathBuf>,
    request_timeout: Option<HumanDuration>,
    request_timeout_ms: Option<u64>,
    token_refresh_margin: Option<HumanDuration>,
    token_refresh_margin_secs: Option<u64>,
    #[serde(default)]
    allow_plain_http: bool,
    #[serde(default)]
    retry: RawRetry,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRetry {
    base: Option<HumanDuration>,
    base_ms: Option<u64>,
    max: Option<HumanDuration>,
    max_ms: Option<u64>,
    max_attempts: Option<u32>,
    max_retry_after: Option<HumanDuration>,
    max_retry_after_ms: Option<u64>,
}

impl TryFrom<RawCoreCaseConfig> for CoreCaseConfig {
    type Error = String;

    fn try_from(raw: RawCoreCaseConfig) -> Result<CoreCaseConfig, String> {
        let mut warnings = Vec::new();
        let mut pick =
            |i: usize, new: Option<HumanDuration>, old: Option<u64>, default: Duration| {
                let p = RENAMED[i].pick("", new, old)?;
                warnings.extend(p.warning);
                Ok::<_, String>(p.value.unwrap_or(HumanDuration::from(default)))
            };
        let d = RetryConfig::default();
        let r = raw.retry;
        let request_timeout = pick(
            0,
            raw.request_timeout,
            raw.request_timeout_ms,
            DEFAULT_REQUEST_TIMEOUT,
        )?;
        let token_refresh_margin = pick(
            1,
            raw.token_refresh_margin,
            raw.token_refresh_margin_secs,
            DEFAULT_TOKEN_REFRESH_MARGIN,
        )?;
        let retry = RetryConfig {
            base: pick(2, r.base, r.base_ms, d.base.get())?,
            max: pick(3, r.max, r.max_ms, d.max.get())?,
            max_attempts: r.max_attempts.unwrap_or(d.max_attempts),
            max_retry_after: pick(
                4,
                r.max_retry_after,
                r.max_retry_after_ms,
                d.max_retry_after.get(),
            )?,
        };
        if request_timeout.get().is_zero() {
            return Err("`request-timeout` must be longer than 0s".into());
        }
        if retry.max_attempts == 0 {
            return Err("`retry.max-attempts` must be at least 1".into());
        }
        Ok(CoreCaseConfig {
            api_base: raw.api_base,
            auth_base: raw.auth_base,
            tenant_id: raw.tenant_id,
            client_id: raw.client_id,
            client_secret_env: raw.client_secret_env,
            client_secret_file: raw.client_secret_file,
            request_timeout,
            token_refresh_margin,
            allow_plain_http: raw.allow_plain_http,
            retry,
            warnings,
        })
    }
}

/// `[corecase.retry]`: exponential backoff with full jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// First delay ceiling (`base`).
    pub base: HumanDuration,
    /// Largest delay ceiling (`max`).
    pub max: HumanDuration,
    /// Attempts in all, including the first.
    pub max_attempts: u32,
    /// The longest `Retry-After` honoured (`max-retry-after`).
    pub max_retry_after: HumanDuration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        let b = Backoff::default();
        RetryConfig {
            base: b.base.into(),
            max: b.max.into(),
            max_attempts: b.max_attempts,
            max_retry_after: b.max_retry_after.into(),
        }
    }
}

impl RetryConfig {
    /// The policy as a [`Backoff`].
    pub fn backoff(&self) -> Backoff {
        Backoff {
            base: self.base.get(),
            max: self.max.get(),
            max_attempts: self.max_attempts,
            max_retry_after: self.max_retry_after.get(),
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
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            token_refresh_margin: DEFAULT_TOKEN_REFRESH_MARGIN,
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
                "`request-timeout` must be longer than 0s".into(),
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
        let source = match (&self.client_secret_env, &self.client_secret_file) {
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
            (Some(var), None) => SecretSource::Env(var.clone()),
            (None, Some(path)) => SecretSource::File(path.clone()),
        };
        let secret = source
            .resolve_with(env)
            .map_err(|e| Error::Config(format!("`{}`: {e}", source.key("client-secret"))))?;
        let settings = ClientSettings {
            api_base: self.api_base.clone(),
            auth_base: self.auth_base.clone(),
            tenant_id: self.tenant_id.clone(),
            client_id: self.client_id.clone(),
            client_secret: secret,
            request_timeout: self.request_timeout.get(),
            token_refresh_margin: self.token_refresh_margin.get(),
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
        let err = config(r#","client-secret-env":"X","retry":{"base-millis":1}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `base-millis`"), "{err}");
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
            config(r#","client-secret-env":"S","retry":{"base":"5ms","max-attempts":3}"#).unwrap();
        let b = c.retry.backoff();
        assert_eq!(b.base, Duration::from_millis(5));
        assert_eq!(b.max_attempts, 3);
        assert_eq!(b.max, Backoff::default().max);
        assert!(c.warnings.is_empty());
        let err = config(r#","retry":{"max-attempts":0}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`retry.max-attempts` must be at least 1"),
            "{err}"
        );
    }

    #[test]
    fn durations_are_written_one_way_and_old_keys_still_read() {
        let c = config(r#","request-timeout":"2s","token-refresh-margin":"5m""#).unwrap();
        assert_eq!(c.request_timeout.get(), Duration::from_secs(2));
        assert_eq!(c.token_refresh_margin.get(), Duration::from_secs(300));
        assert!(c.warnings.is_empty());

        // The old integer keys, each warned about with its new spelling.
        let c = config(
            r#","request-timeout-ms":1500,"token-refresh-margin-secs":30,"retry":{"base-ms":5,"max-ms":20,"max-retry-after-ms":1000}"#,
        )
        .unwrap();
        assert_eq!(c.request_timeout.get(), Duration::from_millis(1500));
        assert_eq!(c.token_refresh_margin.get(), Duration::from_secs(30));
        let b = c.retry.backoff();
        assert_eq!(
            (b.base, b.max, b.max_retry_after),
            (
                Duration::from_millis(5),
                Duration::from_millis(20),
                Duration::from_secs(1)
            )
        );
        assert_eq!(c.warnings.len(), 5, "{:?}", c.warnings);
        assert_eq!(
            c.warnings[0],
            "`request-timeout-ms` is deprecated: write `request-timeout = \"1500ms\"` instead"
        );
        assert!(c.warnings[4].contains("`retry.max-retry-after = \"1s\"`"));

        // Both spellings at once: which one was meant?
        let err = config(r#","request-timeout":"2s","request-timeout-ms":2000"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`request-timeout-ms` is the deprecated spelling of `request-timeout`"),
            "{err}"
        );
        for (extra, want) in [
            (
                r#","request-timeout":30000"#,
                "expected a duration like 250ms",
            ),
            (r#","request-timeout":"30 s""#, "`30 s` is not a duration"),
            (
                r#","request-timeout":"0s""#,
                "`request-timeout` must be longer than 0s",
            ),
        ] {
            let err = config(extra).unwrap_err().to_string();
            assert!(err.contains(want), "{extra}: want {want:?} in {err}");
        }
    }

    /// Every key `[corecase]`'s client part accepts (serde's own list, from
    /// its unknown-field message) is in `docs/corecase.md`'s key table.
    #[test]
    fn every_key_is_documented() {
        let doc = include_str!("../../../../docs/corecase.md");
        let start = doc.find("## 1. Configuration").unwrap();
        let end = doc[start + 1..]
            .find("\n## ")
            .map_or(doc.len(), |e| start + 1 + e);
        let documented: Vec<&str> = doc[start..end]
            .lines()
            .filter(|l| l.starts_with("| "))
            .flat_map(|l| l.split('`').skip(1).step_by(2))
            .collect();
        let fields = |json: &str| -> Vec<String> {
            let err = config(json).unwrap_err().to_string();
            let (_, expected) = err.split_once("expected").unwrap();
            expected
                .split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect()
        };
        let mut missing = Vec::new();
        for key in fields(r#","?":1"#) {
            if key != "retry" && !documented.contains(&key.as_str()) {
                missing.push(key);
            }
        }
        for key in fields(r#","retry":{"?":1}"#) {
            let dotted = format!("retry.{key}");
            if !documented.contains(&key.as_str()) && !documented.contains(&dotted.as_str()) {
                missing.push(dotted);
            }
        }
        assert!(missing.is_empty(), "not in docs/corecase.md: {missing:?}");
    }
}
