//! `shopcase.toml`: the host's configuration.
//!
//! Parsing is strict: unknown keys are errors naming the key (serde's
//! `deny_unknown_fields`), and every value this module checks is reported as
//! "FILE: `KEY`: WHAT IS WRONG". Relative paths are resolved against the
//! file's directory. Durations are written `250ms`, `30s`, `5m`, `24h`, `2d`.
//!
//! Secrets (webhook secrets, Admin API tokens) come from the environment
//! (`*-env`), a file (`*-file`) or, for development only, inline; they are
//! held as [`Secret`]s and never printed.
//!
//! The `[corecase]` and `[shopify]` sections belong to the Core Case and
//! Shopify clients; they are kept as raw TOML here for those crates to read.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use shopcase_contract::Limits;
use shopcase_contract::event::DEFAULT_API_VERSION;
use shopcase_contract::time::Timestamp;
use shopcase_net::{Backoff, Secret};
use shopcase_store::{SqliteConfig, Synchronous};

/// A configuration error, naming the file and, where there is one, the key.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}{message}", file.display(), key.as_deref().map(|k| format!("`{k}`: ")).unwrap_or_default())]
pub struct ConfigError {
    /// The configuration file.
    pub file: PathBuf,
    /// The offending key, dotted (`stores[0].webhook-secret-env`).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    fn at(file: &Path, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: file.to_owned(),
            key: Some(key.into()),
            message: message.into(),
        }
    }
}

/// The whole configuration, checked and with secrets resolved.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Where the database, exports and the component cache live.
    pub data_dir: PathBuf,
    /// Packaged plugins: `<plugins-dir>/<id>/plugin.toml` (or
    /// `<plugins-dir>/<id>/<version>/plugin.toml` to keep several versions).
    pub plugins_dir: PathBuf,
    /// The HTTP server.
    pub server: ServerConfig,
    /// The database.
    pub storage: SqliteConfig,
    /// How long finished work is kept (`[storage] retention`).
    pub retention: RetentionConfig,
    /// The plugin sandbox.
    pub sandbox: SandboxConfig,
    /// Running plugins on events.
    pub dispatcher: DispatcherConfig,
    /// Executing journalled actions.
    pub executor: ExecutorConfig,
    /// Delivering due follow-ups.
    pub timers: TimerConfig,
    /// The stores this host serves.
    pub stores: Vec<StoreConfig>,
    /// `[corecase]`, for the Core Case client to read.
    pub corecase: Option<toml::Value>,
    /// `[shopify]`, for the Shopify client to read.
    pub shopify: Option<toml::Value>,
    /// Things worth a warning at start-up (e.g. inline secrets).
    pub warnings: Vec<String>,
}

/// `[server]`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Largest webhook body accepted (413 above).
    pub max_body_bytes: usize,
    /// Deliveries triggered longer ago than this are acknowledged and kept
    /// as `stale`, never dispatched.
    pub max_age: Duration,
    /// The longest the ingress waits for the durable commit before it
    /// answers 503 (Shopify gives up after 5 s).
    pub ack_timeout: Duration,
    /// How far ahead of this host's clock `X-Shopify-Triggered-At` may be
    /// (clocks disagree a little); a delivery triggered further ahead is
    /// refused with 400, since it could dodge the staleness check.
    pub max_clock_skew: Duration,
}

/// `[storage] retention` and `prune-interval`: deleting finished work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Finished work older than this is deleted (`crate::retention`);
    /// `None` (`retention = "off"`): kept forever. At least
    /// [`ServerConfig::max_age`] plus [`RETENTION_MARGIN`]: deduplicating a
    /// redelivery needs its event in the inbox.
    pub keep: Option<Duration>,
    /// How often it is deleted.
    pub interval: Duration,
}

/// What `storage.retention` must exceed `server.max-age` by: room for
/// clocks that disagree and deliveries that take long, so a redelivery of
/// a deleted event is always stale.
pub const RETENTION_MARGIN: Duration = Duration::from_secs(24 * 3600);

/// `[sandbox]`.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Precompiled components (host-only; loaded as native code).
    pub cache_dir: PathBuf,
    /// Invocations at once.
    pub max_concurrent: u32,
    /// The most any plugin gets.
    pub caps: Limits,
}

/// `[dispatcher]`.
#[derive(Debug, Clone)]
pub struct DispatcherConfig {
    /// Workers claiming events (0: accept webhooks only, dispatch elsewhere).
    pub workers: usize,
    /// Events per claim.
    pub batch: usize,
    /// How long a claim holds before another worker may take the event.
    pub lease: Duration,
    /// How often idle workers look for due retries.
    pub poll_interval: Duration,
    /// Retry policy for retryable plugin failures; `max_attempts` runs in
    /// all, then the run is dead-lettered.
    pub retry: Backoff,
    /// Dead-lettered runs in a row that quarantine a plugin for a store (0: never).
    pub quarantine_after: u32,
    /// Immediate re-runs after a key-value conflict before backing off.
    pub kv_conflict_retries: u32,
    /// Key-value quota per plugin per store: keys.
    pub kv_quota_keys: u64,
    /// Key-value quota per plugin per store: bytes.
    pub kv_quota_bytes: u64,
    /// How long a run that failed because a service it needed (Shopify,
    /// Core Case, the storage) was unavailable is tried again, counted
    /// from the event's arrival, before it is dead-lettered as
    /// `service-unavailable` (never counted toward quarantine).
    pub outage_window: Duration,
    /// Abandoned claims (the worker died while it held the event: the
    /// process aborted or ran out of memory) after which an event is set
    /// aside as a `poison` dead letter instead of being claimed again.
    pub poison_after: u32,
}

/// `[executor]`.
#[derive(Debug, Clone)]
pub struct ExecutorConfig {
    /// Entries executed at once, per action family.
    pub concurrency: usize,
    /// How long a claim holds.
    pub lease: Duration,
    /// How often idle executors look for due entries.
    pub poll_interval: Duration,
    /// Retry policy for transient failures.
    pub retry: Backoff,
    /// Transient failures (the service down, throttling, timeouts) are
    /// retried beyond `retry.max_attempts` while the entry is younger than
    /// this: an outage is waited out, not dead-lettered.
    pub outage_window: Duration,
    /// When a store's Shopify or Core Case is held back as down
    /// (`executor.breaker-*`; see [`crate::breaker`]).
    pub breaker: crate::breaker::BreakerPolicy,
    /// Abandoned claims (the executor died while it held the entry) after
    /// which an entry is set aside as a `poison` dead letter instead of
    /// being claimed again.
    pub poison_after: u32,
}

/// Abandoned claims after which an event or a journal entry is set aside
/// as poison, by default: a crash or two can be bad luck (an unrelated
/// out-of-memory kill, a deploy); the third with the same work in hand is
/// the work.
pub const DEFAULT_POISON_AFTER: u32 = 3;

/// How long outages are waited out by default: longer than any plausible
/// outage of Shopify or Core Case, shorter than anyone would wait for a case.
pub const DEFAULT_OUTAGE_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// `[timers]`.
#[derive(Debug, Clone)]
pub struct TimerConfig {
    /// How often due timers are looked for.
    pub poll_interval: Duration,
}

/// The previous webhook secret, accepted until a time after a rotation.
#[derive(Debug, Clone)]
pub struct PreviousSecret {
    /// The old secret.
    pub secret: Secret,
    /// Accepted until then.
    pub until: Timestamp,
}

/// `[[stores]]`: one store this host serves.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `name.myshopify.com`.
    pub domain: String,
    /// The Admin API version used for it.
    pub api_version: String,
    /// The app's client secret, which signs its webhooks.
    pub webhook_secret: Secret,
    /// The secret before a rotation, within its window.
    pub previous_webhook_secret: Option<PreviousSecret>,
    /// The Admin API access token (write-back).
    pub admin_token: Option<Secret>,
    /// Another Admin API base URL (the Shopify emulator), instead of
    /// `https://<domain>`.
    pub admin_base_url: Option<String>,
}

// ---- raw TOML shape --------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    data_dir: String,
    plugins_dir: Option<String>,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    storage: RawStorage,
    #[serde(default)]
    sandbox: RawSandbox,
    #[serde(default)]
    dispatcher: RawDispatcher,
    #[serde(default)]
    executor: RawExecutor,
    #[serde(default)]
    timers: RawTimers,
    #[serde(default)]
    stores: Vec<RawStore>,
    corecase: Option<toml::Value>,
    shopify: Option<toml::Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawServer {
    listen: Option<String>,
    max_body_bytes: Option<u64>,
    max_age: Option<String>,
    ack_timeout: Option<String>,
    max_clock_skew: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStorage {
    synchronous: Option<Synchronous>,
    busy_timeout: Option<String>,
    read_connections: Option<u64>,
    retention: Option<String>,
    prune_interval: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSandbox {
    cache_dir: Option<String>,
    max_concurrent: Option<u32>,
    #[serde(default)]
    caps: RawCaps,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCaps {
    fuel: Option<u64>,
    memory_mib: Option<u64>,
    deadline_ms: Option<u64>,
    output_kib: Option<u64>,
    log_kib: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDispatcher {
    workers: Option<u64>,
    batch: Option<u64>,
    lease: Option<String>,
    poll_interval: Option<String>,
    max_attempts: Option<u32>,
    backoff_base: Option<String>,
    backoff_max: Option<String>,
    quarantine_after: Option<u32>,
    kv_conflict_retries: Option<u32>,
    kv_quota_keys: Option<u64>,
    kv_quota_bytes: Option<u64>,
    outage_window: Option<String>,
    poison_after: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawExecutor {
    concurrency: Option<u64>,
    lease: Option<String>,
    poll_interval: Option<String>,
    max_attempts: Option<u32>,
    backoff_base: Option<String>,
    backoff_max: Option<String>,
    outage_window: Option<String>,
    breaker_threshold: Option<u32>,
    breaker_cool_down: Option<String>,
    breaker_max_cool_down: Option<String>,
    poison_after: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTimers {
    poll_interval: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawStore {
    domain: String,
    api_version: Option<String>,
    webhook_secret: Option<Secret>,
    webhook_secret_env: Option<String>,
    webhook_secret_file: Option<String>,
    previous_webhook_secret: Option<Secret>,
    previous_webhook_secret_env: Option<String>,
    previous_webhook_secret_file: Option<String>,
    previous_webhook_secret_until: Option<String>,
    admin_token: Option<Secret>,
    admin_token_env: Option<String>,
    admin_token_file: Option<String>,
    admin_base_url: Option<String>,
}

/// Whether to read secrets (`shopcase store ...` works without them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secrets {
    Resolve,
    Skip,
}

impl Config {
    /// Read and check a configuration file, resolving secrets.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = read(path)?;
        Config::parse_with(&text, path, Secrets::Resolve)
    }

    /// Read a configuration for administration commands: secrets are not
    /// read (they may not be available on the admin's machine) and are left
    /// empty.
    pub fn load_without_secrets(path: &Path) -> Result<Config, ConfigError> {
        let text = read(path)?;
        Config::parse_with(&text, path, Secrets::Skip)
    }

    /// Check configuration text; `path` names it in errors and anchors
    /// relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        Config::parse_with(text, path, Secrets::Resolve)
    }

    fn parse_with(text: &str, path: &Path, secrets: Secrets) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            file: path.to_owned(),
            key: None,
            // toml's message names the key and shows the line.
            message: e.to_string().trim_end().to_owned(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            }
        };
        let data_dir = resolve(&raw.data_dir);
        let plugins_dir = resolve(raw.plugins_dir.as_deref().unwrap_or("plugins"));
        let dur =
            |key: &str, v: &Option<String>, default: Duration| -> Result<Duration, ConfigError> {
                match v {
                    None => Ok(default),
                    Some(s) => parse_duration(s).map_err(|m| ConfigError::at(path, key, m)),
                }
            };
        let at_least_one = |key: &str, v: u64| {
            if v == 0 {
                Err(ConfigError::at(path, key, "must be at least 1"))
            } else {
                Ok(v)
            }
        };

        let s = raw.server;
        let listen = s.listen.as_deref().unwrap_or("127.0.0.1:8080");
        let server = ServerConfig {
            listen: listen.parse().map_err(|_| {
                ConfigError::at(
                    path,
                    "server.listen",
                    format!("`{listen}` is not an address like 127.0.0.1:8080"),
                )
            })?,
            max_body_bytes: usize::try_from(at_least_one(
                "server.max-body-bytes",
                s.max_body_bytes.unwrap_or(1 << 20),
            )?)
            .unwrap_or(usize::MAX),
            max_age: dur("server.max-age", &s.max_age, Duration::from_secs(48 * 3600))?,
            ack_timeout: dur("server.ack-timeout", &s.ack_timeout, Duration::from_secs(4))?,
            max_clock_skew: dur(
                "server.max-clock-skew",
                &s.max_clock_skew,
                Duration::from_secs(300),
            )?,
        };

        let st = raw.storage;
        let storage = SqliteConfig {
            synchronous: st.synchronous.unwrap_or_default(),
            busy_timeout: dur(
                "storage.busy-timeout",
                &st.busy_timeout,
                Duration::from_secs(2),
            )?,
            read_connections: usize::try_from(at_least_one(
                "storage.read-connections",
                st.read_connections.unwrap_or(4),
            )?)
            .unwrap_or(4),
            ..SqliteConfig::default()
        };
        if storage.synchronous == Synchronous::Normal {
            // Reported, not refused: useful for disposable environments.
        }
        let retention = RetentionConfig {
            keep: match st.retention.as_deref().map(str::trim) {
                Some("off") => None,
                _ => Some(dur(
                    "storage.retention",
                    &st.retention,
                    Duration::from_secs(30 * 86_400),
                )?),
            },
            interval: dur(
                "storage.prune-interval",
                &st.prune_interval,
                Duration::from_secs(600),
            )?,
        };
        let least = server.max_age.saturating_add(RETENTION_MARGIN);
        if let Some(keep) = retention.keep
            && keep < least
        {
            return Err(ConfigError::at(
                path,
                "storage.retention",
                format!(
                    "must be at least `server.max-age` ({}) plus {} ({} in all), or \"off\": a redelivery is recognised as a duplicate only while its event is kept",
                    format_duration(server.max_age),
                    format_duration(RETENTION_MARGIN),
                    format_duration(least),
                ),
            ));
        }
        if retention.interval.is_zero() {
            return Err(ConfigError::at(
                path,
                "storage.prune-interval",
                "must be longer than 0s",
            ));
        }

        let sb = raw.sandbox;
        let d = Limits::DEFAULT_CAPS;
        let caps = Limits {
            fuel: at_least_one("sandbox.caps.fuel", sb.caps.fuel.unwrap_or(d.fuel))?,
            memory_bytes: at_least_one(
                "sandbox.caps.memory-mib",
                sb.caps.memory_mib.unwrap_or(d.memory_bytes >> 20),
            )?
            .saturating_mul(1 << 20),
            deadline: Duration::from_millis(at_least_one(
                "sandbox.caps.deadline-ms",
                sb.caps.deadline_ms.unwrap_or(d.deadline.as_millis() as u64),
            )?),
            output_bytes: at_least_one(
                "sandbox.caps.output-kib",
                sb.caps.output_kib.unwrap_or(d.output_bytes >> 10),
            )?
            .saturating_mul(1 << 10),
            log_bytes: at_least_one(
                "sandbox.caps.log-kib",
                sb.caps.log_kib.unwrap_or(d.log_bytes >> 10),
            )?
            .saturating_mul(1 << 10),
        };
        let sandbox = SandboxConfig {
            cache_dir: sb
                .cache_dir
                .as_deref()
                .map(resolve)
                .unwrap_or_else(|| data_dir.join("cache")),
            max_concurrent: u32::try_from(at_least_one(
                "sandbox.max-concurrent",
                u64::from(sb.max_concurrent.unwrap_or(8)),
            )?)
            .unwrap_or(8),
            caps,
        };

        let dp = raw.dispatcher;
        let dispatcher = DispatcherConfig {
            workers: usize::try_from(dp.workers.unwrap_or(2)).unwrap_or(2),
            batch: usize::try_from(at_least_one("dispatcher.batch", dp.batch.unwrap_or(32))?)
                .unwrap_or(32),
            lease: dur("dispatcher.lease", &dp.lease, Duration::from_secs(60))?,
            poll_interval: dur(
                "dispatcher.poll-interval",
                &dp.poll_interval,
                Duration::from_millis(200),
            )?,
            retry: Backoff {
                base: dur(
                    "dispatcher.backoff-base",
                    &dp.backoff_base,
                    Duration::from_secs(1),
                )?,
                max: dur(
                    "dispatcher.backoff-max",
                    &dp.backoff_max,
                    Duration::from_secs(300),
                )?,
                max_attempts: u32::try_from(at_least_one(
                    "dispatcher.max-attempts",
                    u64::from(dp.max_attempts.unwrap_or(5)),
                )?)
                .unwrap_or(5),
                max_retry_after: Duration::from_secs(3600),
            },
            quarantine_after: dp.quarantine_after.unwrap_or(5),
            kv_conflict_retries: dp.kv_conflict_retries.unwrap_or(3),
            kv_quota_keys: dp
                .kv_quota_keys
                .unwrap_or(shopcase_contract::host_api::KV_DEFAULT_QUOTA_KEYS),
            kv_quota_bytes: dp
                .kv_quota_bytes
                .unwrap_or(shopcase_contract::host_api::KV_DEFAULT_QUOTA_BYTES),
            outage_window: dur(
                "dispatcher.outage-window",
                &dp.outage_window,
                DEFAULT_OUTAGE_WINDOW,
            )?,
            poison_after: u32::try_from(at_least_one(
                "dispatcher.poison-after",
                u64::from(dp.poison_after.unwrap_or(DEFAULT_POISON_AFTER)),
            )?)
            .unwrap_or(DEFAULT_POISON_AFTER),
        };
        if dispatcher.lease <= caps.deadline * 2 {
            return Err(ConfigError::at(
                path,
                "dispatcher.lease",
                format!(
                    "must be longer than twice the sandbox deadline cap ({} ms), or events would be re-claimed while their plugins still run",
                    caps.deadline.as_millis()
                ),
            ));
        }

        let ex = raw.executor;
        let executor = ExecutorConfig {
            concurrency: usize::try_from(at_least_one(
                "executor.concurrency",
                ex.concurrency.unwrap_or(8),
            )?)
            .unwrap_or(8),
            lease: dur("executor.lease", &ex.lease, Duration::from_secs(60))?,
            poll_interval: dur(
                "executor.poll-interval",
                &ex.poll_interval,
                Duration::from_millis(250),
            )?,
            retry: Backoff {
                base: dur(
                    "executor.backoff-base",
                    &ex.backoff_base,
                    Duration::from_secs(1),
                )?,
                max: dur(
                    "executor.backoff-max",
                    &ex.backoff_max,
                    Duration::from_secs(600),
                )?,
                max_attempts: u32::try_from(at_least_one(
                    "executor.max-attempts",
                    u64::from(ex.max_attempts.unwrap_or(8)),
                )?)
                .unwrap_or(8),
                max_retry_after: Duration::from_secs(3600),
            },
            outage_window: dur(
                "executor.outage-window",
                &ex.outage_window,
                DEFAULT_OUTAGE_WINDOW,
            )?,
            breaker: {
                let d = crate::breaker::BreakerPolicy::default();
                crate::breaker::BreakerPolicy {
                    threshold: u32::try_from(at_least_one(
                        "executor.breaker-threshold",
                        u64::from(ex.breaker_threshold.unwrap_or(d.threshold)),
                    )?)
                    .unwrap_or(d.threshold),
                    cool_down: dur(
                        "executor.breaker-cool-down",
                        &ex.breaker_cool_down,
                        d.cool_down,
                    )?,
                    max_cool_down: dur(
                        "executor.breaker-max-cool-down",
                        &ex.breaker_max_cool_down,
                        d.max_cool_down,
                    )?,
                }
            },
            poison_after: u32::try_from(at_least_one(
                "executor.poison-after",
                u64::from(ex.poison_after.unwrap_or(DEFAULT_POISON_AFTER)),
            )?)
            .unwrap_or(DEFAULT_POISON_AFTER),
        };
        let timers = TimerConfig {
            poll_interval: dur(
                "timers.poll-interval",
                &raw.timers.poll_interval,
                Duration::from_secs(1),
            )?,
        };

        let mut warnings = Vec::new();
        if storage.synchronous == Synchronous::Normal {
            warnings.push(format!(
                "{}: `storage.synchronous = \"normal\"`: commits are not fsynced; a power loss can lose acknowledged webhooks",
                path.display()
            ));
        }
        let mut stores: Vec<StoreConfig> = Vec::with_capacity(raw.stores.len());
        for (i, st) in raw.stores.into_iter().enumerate() {
            let key = |k: &str| format!("stores[{i}].{k}");
            if !shopcase_contract::event::is_shop_domain(&st.domain) {
                return Err(ConfigError::at(
                    path,
                    key("domain"),
                    format!(
                        "`{}` is not a store domain like example.myshopify.com",
                        st.domain
                    ),
                ));
            }
            if stores.iter().any(|s| s.domain == st.domain) {
                return Err(ConfigError::at(
                    path,
                    key("domain"),
                    format!("`{}` is configured twice", st.domain),
                ));
            }
            let source =
                |name: &str, inline: Option<Secret>, env: Option<String>, file: Option<String>| {
                    SecretSource::new(path, &key(name), inline, env, file)
                };
            let webhook = source(
                "webhook-secret",
                st.webhook_secret,
                st.webhook_secret_env,
                st.webhook_secret_file,
            )?
            .ok_or_else(|| {
                ConfigError::at(
                    path,
                    key("webhook-secret-env"),
                    "a webhook secret is required: set webhook-secret-env (or webhook-secret-file)",
                )
            })?;
            let previous = source(
                "previous-webhook-secret",
                st.previous_webhook_secret,
                st.previous_webhook_secret_env,
                st.previous_webhook_secret_file,
            )?;
            let admin = source(
                "admin-token",
                st.admin_token,
                st.admin_token_env,
                st.admin_token_file,
            )?;
            for s in [Some(&webhook), previous.as_ref(), admin.as_ref()]
                .into_iter()
                .flatten()
            {
                if let SecretSource::Inline(_, k) = s {
                    warnings.push(format!(
                        "{}: `{k}` is written in the file: for development only; use `{k}-env` or `{k}-file`",
                        path.display()
                    ));
                }
            }
            let previous_webhook_secret = match (previous, st.previous_webhook_secret_until) {
                (None, None) => None,
                (None, Some(_)) => {
                    return Err(ConfigError::at(
                        path,
                        key("previous-webhook-secret-until"),
                        "set only with a previous webhook secret",
                    ));
                }
                (Some(_), None) => {
                    return Err(ConfigError::at(
                        path,
                        key("previous-webhook-secret-until"),
                        "required with a previous webhook secret: the end of the rotation window (RFC 3339), e.g. one hour after the rotation",
                    ));
                }
                (Some(p), Some(until)) => Some(PreviousSecret {
                    secret: p.resolve(path, secrets)?,
                    until: shopcase_contract::time::parse(&until).map_err(|m| {
                        ConfigError::at(path, key("previous-webhook-secret-until"), m)
                    })?,
                }),
            };
            let api_version = st
                .api_version
                .unwrap_or_else(|| DEFAULT_API_VERSION.to_owned());
            if !is_api_version(&api_version) {
                return Err(ConfigError::at(
                    path,
                    key("api-version"),
                    format!("`{api_version}` is not an Admin API version like 2026-07"),
                ));
            }
            if let Some(u) = &st.admin_base_url {
                match reqwest::Url::parse(u) {
                    Ok(url) if matches!(url.scheme(), "http" | "https") => {}
                    _ => {
                        return Err(ConfigError::at(
                            path,
                            key("admin-base-url"),
                            format!("`{u}` is not an http(s) URL"),
                        ));
                    }
                }
            }
            stores.push(StoreConfig {
                domain: st.domain,
                api_version,
                webhook_secret: webhook.resolve(path, secrets)?,
                previous_webhook_secret,
                admin_token: admin.map(|a| a.resolve(path, secrets)).transpose()?,
                admin_base_url: st.admin_base_url,
            });
        }

        Ok(Config {
            path: path.to_owned(),
            data_dir,
            plugins_dir,
            server,
            storage,
            retention,
            sandbox,
            dispatcher,
            executor,
            timers,
            stores,
            corecase: raw.corecase,
            shopify: raw.shopify,
            warnings,
        })
    }

    /// The store with this domain.
    pub fn store(&self, domain: &str) -> Option<&StoreConfig> {
        self.stores.iter().find(|s| s.domain == domain)
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.to_owned(),
        key: None,
        message: format!("cannot read: {e}"),
    })
}

/// Where a secret comes from; the key it was configured under is kept for
/// messages.
enum SecretSource {
    Inline(Secret, String),
    Env(String, String),
    File(PathBuf, String),
}

impl SecretSource {
    fn new(
        path: &Path,
        key: &str,
        inline: Option<Secret>,
        env: Option<String>,
        file: Option<String>,
    ) -> Result<Option<SecretSource>, ConfigError> {
        let given = usize::from(inline.is_some())
            + usize::from(env.is_some())
            + usize::from(file.is_some());
        if given > 1 {
            return Err(ConfigError::at(
                path,
                key,
                format!("give exactly one of `{key}`, `{key}-env` and `{key}-file`"),
            ));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        Ok(match (inline, env, file) {
            (Some(s), _, _) => Some(SecretSource::Inline(s, key.to_owned())),
            (_, Some(e), _) => Some(SecretSource::Env(e, format!("{key}-env"))),
            (_, _, Some(f)) => {
                let p = Path::new(&f);
                Some(SecretSource::File(
                    if p.is_absolute() {
                        p.to_owned()
                    } else {
                        base.join(p)
                    },
                    format!("{key}-file"),
                ))
            }
            _ => None,
        })
    }

    fn resolve(self, path: &Path, secrets: Secrets) -> Result<Secret, ConfigError> {
        if secrets == Secrets::Skip {
            return Ok(Secret::new(""));
        }
        let (value, key) = match self {
            SecretSource::Inline(s, key) => (s.expose().to_owned(), key),
            SecretSource::Env(var, key) => (
                std::env::var(&var).map_err(|_| {
                    ConfigError::at(
                        path,
                        &key,
                        format!("the environment variable `{var}` is not set"),
                    )
                })?,
                key,
            ),
            SecretSource::File(file, key) => (
                std::fs::read_to_string(&file)
                    .map_err(|e| {
                        ConfigError::at(path, &key, format!("cannot read {}: {e}", file.display()))
                    })?
                    .trim_end_matches(['\n', '\r'])
                    .to_owned(),
                key,
            ),
        };
        if value.is_empty() {
            return Err(ConfigError::at(path, key, "the secret is empty"));
        }
        Ok(Secret::new(value))
    }
}

/// `2026-07` or `unstable`.
fn is_api_version(s: &str) -> bool {
    s == "unstable"
        || (s.len() == 7
            && s.as_bytes()[4] == b'-'
            && s.bytes()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit()))
}

/// `250ms`, `30s`, `5m`, `24h`, `2d`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let bad = || format!("`{s}` is not a duration like 250ms, 30s, 5m, 24h or 2d");
    let n: u64 = num.parse().map_err(|_| bad())?;
    let ms = match unit {
        "ms" => n,
        "s" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        "d" => n.saturating_mul(86_400_000),
        _ => return Err(bad()),
    };
    Ok(Duration::from_millis(ms))
}

/// A duration as [`parse_duration`] reads it, in its largest exact unit.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    let units: [(u128, &str); 4] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1000, "s"),
    ];
    for (size, unit) in units {
        if ms > 0 && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
data-dir = "data"

[[stores]]
domain = "demo.myshopify.com"
webhook-secret = "dev-secret"
"#;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("/etc/shopcase/shopcase.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn minimal_config_gets_defaults_and_resolved_paths() {
        let c = parse(MINIMAL).unwrap();
        assert_eq!(c.data_dir, Path::new("/etc/shopcase/data"));
        assert_eq!(c.plugins_dir, Path::new("/etc/shopcase/plugins"));
        assert_eq!(c.sandbox.cache_dir, Path::new("/etc/shopcase/data/cache"));
        assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.server.max_age, Duration::from_secs(48 * 3600));
        assert_eq!(c.server.max_clock_skew, Duration::from_secs(300));
        assert_eq!(c.storage.synchronous, Synchronous::Full);
        assert_eq!(c.stores[0].webhook_secret.expose(), "dev-secret");
        assert_eq!(c.stores[0].api_version, DEFAULT_API_VERSION);
        assert_eq!(c.warnings.len(), 1, "inline secrets are warned about");
        assert!(
            c.warnings[0].contains("`stores[0].webhook-secret` is written in the file"),
            "{:?}",
            c.warnings
        );
        // Secrets never print.
        assert!(!format!("{c:?}").contains("dev-secret"));
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let cases: &[(&str, &str)] = &[
            (
                "data-dir = \"d\"\nlisten = 1",
                "line 2, column 1\n  |\n2 | listen = 1\n  | ^^^^^^\nunknown field `listen`, expected one of `data-dir`",
            ),
            (
                "data-dir = \"d\"\n[server]\nmax-age = \"soon\"",
                "`server.max-age`: `soon` is not a duration",
            ),
            (
                "data-dir = \"d\"\n[server]\nmax-clock-skew = \"5 minutes\"",
                "`server.max-clock-skew`: `5 minutes` is not a duration",
            ),
            (
                "data-dir = \"d\"\n[server]\nlisten = \"everywhere\"",
                "`server.listen`: `everywhere` is not an address",
            ),
            (
                "data-dir = \"d\"\n[storage]\nretention = \"a month\"",
                "`storage.retention`: `a month` is not a duration",
            ),
            (
                "data-dir = \"d\"\n[storage]\nretention = \"2d\"",
                "`storage.retention`: must be at least `server.max-age` (2d) plus 1d (3d in all), or \"off\"",
            ),
            (
                "data-dir = \"d\"\n[storage]\nprune-interval = \"0s\"",
                "`storage.prune-interval`: must be longer than 0s",
            ),
            (
                "data-dir = \"d\"\n[storage]\nretention = \"30d\"\nretain = \"1d\"",
                "unknown field `retain`",
            ),
            (
                "data-dir = \"d\"\n[dispatcher]\nbatch = 0",
                "`dispatcher.batch`: must be at least 1",
            ),
            (
                "data-dir = \"d\"\n[dispatcher]\npoison-after = 0",
                "`dispatcher.poison-after`: must be at least 1",
            ),
            (
                "data-dir = \"d\"\n[executor]\npoison-after = 0",
                "`executor.poison-after`: must be at least 1",
            ),
            (
                "data-dir = \"d\"\n[executor]\npoison-after = \"3\"",
                "invalid type: string \"3\", expected u32",
            ),
            (
                "data-dir = \"d\"\n[dispatcher]\nlease = \"5s\"",
                "`dispatcher.lease`: must be longer than twice the sandbox deadline cap",
            ),
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"evil.com\"\nwebhook-secret = \"x\"",
                "`stores[0].domain`: `evil.com` is not a store domain",
            ),
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"",
                "`stores[0].webhook-secret-env`: a webhook secret is required",
            ),
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret = \"x\"\nwebhook-secret-env = \"Y\"",
                "`stores[0].webhook-secret`: give exactly one of",
            ),
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret-env = \"SHOPCASE_TEST_SURELY_UNSET_VAR\"",
                "`stores[0].webhook-secret-env`: the environment variable `SHOPCASE_TEST_SURELY_UNSET_VAR` is not set",
            ),
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret = \"x\"\nprevious-webhook-secret = \"y\"",
                "`stores[0].previous-webhook-secret-until`: required with a previous webhook secret",
            ),
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret = \"x\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret = \"x\"",
                "`stores[1].domain`: `a.myshopify.com` is configured twice",
            ),
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret = \"x\"\nadmin-base-url = \"ftp://x\"",
                "`stores[0].admin-base-url`: `ftp://x` is not an http(s) URL",
            ),
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret = \"x\"\nwebhook-secrett = \"x\"",
                "unknown field `webhook-secrett`",
            ),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(
                err.starts_with("/etc/shopcase/shopcase.toml: "),
                "the file is named: {err:?}"
            );
            assert!(err.contains(want), "want {want:?} in {err:?}");
        }
    }

    #[test]
    fn retention_outlasts_the_maximum_age_of_deliveries() {
        let with = |server: &str, storage: &str| {
            parse(&format!(
                "data-dir = \"d\"\n[server]\n{server}\n[storage]\n{storage}"
            ))
        };
        let c = parse(MINIMAL).unwrap();
        assert_eq!(
            c.retention,
            RetentionConfig {
                keep: Some(Duration::from_secs(30 * 86_400)),
                interval: Duration::from_secs(600),
            }
        );
        let c = with("", "retention = \"off\"\nprune-interval = \"1h\"").unwrap();
        assert_eq!(
            c.retention,
            RetentionConfig {
                keep: None,
                interval: Duration::from_secs(3600),
            }
        );
        // The least accepted: max-age plus the margin, exactly.
        let c = with("max-age = \"24h\"", "retention = \"48h\"").unwrap();
        assert_eq!(c.retention.keep, Some(Duration::from_secs(48 * 3600)));
        // Less is refused, naming both keys; raising max-age raises the floor.
        let err = with("max-age = \"24h\"", "retention = \"47h\"").unwrap_err();
        assert!(
            err.contains(
                "`storage.retention`: must be at least `server.max-age` (1d) plus 1d (2d in all)"
            ),
            "{err}"
        );
        let err = with("max-age = \"10d\"", "retention = \"10d\"").unwrap_err();
        assert!(err.contains("(10d) plus 1d (11d in all)"), "{err}");
        assert!(
            with("max-age = \"30d\"", "").is_err(),
            "the default (30d) too"
        );
        assert!(with("max-age = \"10d\"", "retention = \"off\"").is_ok());
        assert!(with("max-age = \"10d\"", "retention = \"11d\"").is_ok());
    }

    #[test]
    fn durations_format_in_their_largest_exact_unit() {
        for (d, text) in [
            (Duration::from_secs(3 * 86_400), "3d"),
            (Duration::from_secs(49 * 3600), "49h"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(300), "5m"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::ZERO, "0ms"),
        ] {
            assert_eq!(format_duration(d), text);
            assert_eq!(parse_duration(text), Ok(d), "reads back");
        }
    }

    #[test]
    fn secrets_come_from_files_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("webhook.secret"), "from-file\n").unwrap();
        // Cargo sets this variable for every test process (setting one
        // ourselves would need `unsafe`, which the crate forbids).
        let var = "CARGO_PKG_NAME";
        let text = format!(
            "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret-file = \"webhook.secret\"\nadmin-token-env = \"{var}\"\nprevious-webhook-secret-file = \"webhook.secret\"\nprevious-webhook-secret-until = \"2026-11-26T12:00:00Z\""
        );
        let c = Config::parse(&text, &dir.path().join("shopcase.toml")).unwrap();
        let s = &c.stores[0];
        assert_eq!(s.webhook_secret.expose(), "from-file");
        assert_eq!(
            s.admin_token.as_ref().unwrap().expose(),
            "shopcase-pipeline"
        );
        assert_eq!(
            s.previous_webhook_secret
                .as_ref()
                .unwrap()
                .until
                .to_string(),
            "2026-11-26T12:00:00Z"
        );
        assert!(c.warnings.is_empty());
        // Administration commands do not need the secrets at all.
        let text = "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret-env = \"SHOPCASE_TEST_SURELY_UNSET_VAR\"";
        let c = Config::parse_with(text, &dir.path().join("shopcase.toml"), Secrets::Skip).unwrap();
        assert_eq!(c.stores[0].domain, "a.myshopify.com");
    }

    #[test]
    fn the_example_configuration_is_valid() {
        let text = include_str!("../../../examples/shopcase.toml");
        let c =
            Config::parse_with(text, Path::new("examples/shopcase.toml"), Secrets::Skip).unwrap();
        assert_eq!(c.stores[0].domain, "demo.myshopify.com");
        assert_eq!(c.dispatcher.quarantine_after, 5);
        assert_eq!(
            (c.dispatcher.poison_after, c.executor.poison_after),
            (DEFAULT_POISON_AFTER, DEFAULT_POISON_AFTER)
        );
        assert_eq!(
            c.retention.keep,
            Some(Duration::from_secs(30 * 86_400)),
            "the example gives the default"
        );
        assert_eq!(c.retention.interval, Duration::from_secs(600));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(2 * 86_400)));
        assert!(parse_duration("1.5s").is_err());
        assert!(parse_duration("s").is_err());
    }
}
