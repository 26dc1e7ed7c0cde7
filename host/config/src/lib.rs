//! `shopcase.toml`: the host's configuration.
//!
//! The file is deserialised straight into checked value types
//! ([`HumanDuration`], [`ByteSize`], [`NonZeroCount`], secret sources; see
//! [`shopcase_net::config`]), with defaults written once, in the `Default`
//! impls of the file's sections below; a small validation step then checks
//! what involves several keys (retention against `server.max-age`, the
//! dispatcher's lease against the deadline cap, one secret source per
//! secret). Unknown keys are errors (serde's `deny_unknown_fields`).
//!
//! Every error names the file, the line where it can be placed and the
//! dotted key: "shopcase.toml:12: `dispatcher.batch`: must be at least 1"
//! ([`Error`]). Relative paths are resolved against the file's directory.
//! Durations are written one way, `250ms`, `30s`, `5m`, `24h`, `2d`; the
//! keys that were integers with their unit in the name
//! (`sandbox.caps.deadline-ms`, `corecase.request-timeout-ms`, …) are still
//! read, with a warning in [`Config::warnings`] naming the key to write
//! instead; giving both spellings is an error.
//!
//! Secrets (webhook secrets, Admin API tokens) come from the environment
//! (`*-env`), a file (`*-file`) or, for development only, inline; they are
//! held as [`Secret`]s and never printed.
//!
//! The `[corecase]` and `[shopify]` sections belong to the Core Case and
//! Shopify clients; they are kept as raw TOML here for those crates to read
//! (their errors are [`ConfigError`]s, placed in the file by
//! [`Config::locate`]). Only `[corecase]`'s renamed keys are looked at
//! here, to warn about them.
//!
//! The admin guide's configuration reference (`docs/admin-guide.md`) and
//! `examples/shopcase.toml` are checked against these types by the tests
//! below: every key accepted is documented and every key documented is
//! accepted.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use shopcase_contract::Limits;
use shopcase_contract::event::DEFAULT_API_VERSION;
use shopcase_contract::time::Timestamp;
use shopcase_net::{
    Backoff, ByteSize, HumanDuration, NonZeroCount, NonZeroCount32, RenamedDuration, Secret,
    SecretSource,
};
use shopcase_store::{Backend, PostgresConfig, SqliteConfig, Synchronous};

/// A configuration error: the file, the line where it can be placed, the
/// dotted key where there is one, and what is wrong. Displayed as
/// `shopcase.toml:12: `dispatcher.batch`: must be at least 1`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {}{message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), key.as_deref().map(|k| format!("`{k}`: ")).unwrap_or_default())]
pub struct Error {
    /// The configuration file.
    pub file: PathBuf,
    /// The line (from 1) of the key, or of the table it is missing from.
    pub line: Option<usize>,
    /// The offending key, dotted (`stores[0].webhook-secret-env`).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// An error in a section read after the file (`[corecase]`, `[shopify]`),
/// naming the file and the dotted key; [`Config::locate`] adds the line,
/// making it an [`Error`].
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
    /// The database: SQLite in the data directory, or PostgreSQL
    /// (`[storage] backend`).
    pub storage: Backend,
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
    /// `[[inbound]]`: the services (a helpdesk, a carrier-tracking
    /// service) that may post signed reports to `POST /inbound/{name}`.
    pub inbound: Vec<InboundSource>,
    /// `[corecase]`, for the Core Case client to read.
    pub corecase: Option<toml::Value>,
    /// `[shopify]`, for the Shopify client to read.
    pub shopify: Option<toml::Value>,
    /// Things worth a warning at start-up (inline secrets, deprecated
    /// keys), each naming the file, the line and the key.
    pub warnings: Vec<String>,
    /// Where each key is in the file.
    index: KeyIndex,
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
    /// The address Shopify reaches this host at (`server.public-url`, e.g.
    /// `https://shopcase.example.com`): `shopcase store connect` points the
    /// stores' webhook subscriptions at [`ServerConfig::webhook_url`].
    pub public_url: Option<url::Url>,
}

/// The path the ingress serves Shopify's webhooks on.
pub const WEBHOOK_PATH: &str = "/webhooks/shopify";

impl ServerConfig {
    /// `<public-url>/webhooks/shopify`, when `server.public-url` is set.
    pub fn webhook_url(&self) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|u| format!("{}{WEBHOOK_PATH}", u.as_str().trim_end_matches('/')))
    }
}

/// `[storage] retention` and `prune-interval`: deleting finished work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Finished work older than this is deleted (the pipeline's `retention`);
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
    /// (`executor.breaker-*`; see [`shopcase_host_api::breaker`]).
    pub breaker: shopcase_host_api::breaker::BreakerPolicy,
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

/// `[[inbound]]`: one service that may post signed reports
/// (`shopcase_contract::inbound`) to `POST /inbound/{name}`.
#[derive(Debug, Clone)]
pub struct InboundSource {
    /// The path segment: 1-32 of `a-z`, `0-9`, `-`.
    pub name: String,
    /// The secret it signs its bodies with (HMAC-SHA256).
    pub secret: Secret,
    /// The stores it may report about (each one of `[[stores]]`).
    pub shops: Vec<String>,
    /// The kinds of report it may send.
    pub kinds: Vec<shopcase_contract::inbound::InboundKind>,
}

impl InboundSource {
    /// Whether `name` is a valid source name.
    pub fn is_name(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= 32
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
}

// ---- the file's shape -------------------------------------------------------
//
// Each section's `Default` holds its defaults: a key left out takes the
// value written here, and `examples/shopcase.toml` repeats them.

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    data_dir: PathBuf,
    #[serde(default = "default_plugins_dir")]
    plugins_dir: PathBuf,
    #[serde(default)]
    server: FileServer,
    #[serde(default)]
    storage: FileStorage,
    #[serde(default)]
    sandbox: FileSandbox,
    #[serde(default)]
    dispatcher: FileDispatcher,
    #[serde(default)]
    executor: FileExecutor,
    #[serde(default)]
    timers: FileTimers,
    #[serde(default)]
    stores: Vec<FileStore>,
    #[serde(default)]
    inbound: Vec<FileInbound>,
    corecase: Option<toml::Value>,
    shopify: Option<toml::Value>,
}

fn default_plugins_dir() -> PathBuf {
    PathBuf::from("plugins")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct FileServer {
    #[serde(deserialize_with = "listen_address")]
    listen: SocketAddr,
    max_body_bytes: ByteSize,
    max_age: HumanDuration,
    ack_timeout: HumanDuration,
    max_clock_skew: HumanDuration,
    #[serde(deserialize_with = "public_url")]
    public_url: Option<url::Url>,
}

impl Default for FileServer {
    fn default() -> Self {
        FileServer {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            max_body_bytes: ByteSize::mib(1),
            max_age: HumanDuration::from_secs(48 * 3600),
            ack_timeout: HumanDuration::from_secs(4),
            max_clock_skew: HumanDuration::from_secs(300),
            public_url: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct FileStorage {
    backend: BackendName,
    synchronous: Option<Synchronous>,
    busy_timeout: Option<HumanDuration>,
    read_connections: Option<NonZeroCount>,
    /// Refused with a reason: the URL holds the password.
    url: Option<Secret>,
    url_env: Option<String>,
    url_file: Option<PathBuf>,
    pool_size: Option<NonZeroCount>,
    statement_timeout: Option<HumanDuration>,
    connect_timeout: Option<HumanDuration>,
    ca_file: Option<PathBuf>,
    retention: Retention,
    prune_interval: HumanDuration,
}

impl Default for FileStorage {
    fn default() -> Self {
        FileStorage {
            backend: BackendName::Sqlite,
            synchronous: None,
            busy_timeout: None,
            read_connections: None,
            url: None,
            url_env: None,
            url_file: None,
            pool_size: None,
            statement_timeout: None,
            connect_timeout: None,
            ca_file: None,
            retention: Retention::Keep(HumanDuration::from_secs(30 * 86_400)),
            prune_interval: HumanDuration::from_secs(600),
        }
    }
}

/// `storage.backend`.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum BackendName {
    Sqlite,
    Postgres,
}

/// `storage.retention`: a duration or `"off"`.
#[derive(Clone, Copy)]
enum Retention {
    Off,
    Keep(HumanDuration),
}

impl<'de> Deserialize<'de> for Retention {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Retention, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim() == "off" {
            return Ok(Retention::Off);
        }
        HumanDuration::parse(&s)
            .map(Retention::Keep)
            .map_err(|m| serde::de::Error::custom(format!("{m}, or \"off\"")))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct FileSandbox {
    cache_dir: Option<PathBuf>,
    max_concurrent: NonZeroCount32,
    caps: FileCaps,
}

impl Default for FileSandbox {
    fn default() -> Self {
        FileSandbox {
            cache_dir: None,
            max_concurrent: NonZeroCount32::clamped(8),
            caps: FileCaps::default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct FileCaps {
    fuel: NonZeroCount,
    memory_mib: NonZeroCount,
    deadline: Option<HumanDuration>,
    /// Deprecated: `deadline`.
    deadline_ms: Option<NonZeroCount>,
    output_kib: NonZeroCount,
    log_kib: NonZeroCount,
}

impl Default for FileCaps {
    fn default() -> Self {
        let d = Limits::DEFAULT_CAPS;
        FileCaps {
            fuel: NonZeroCount::clamped(d.fuel),
            memory_mib: NonZeroCount::clamped(d.memory_bytes >> 20),
            deadline: None,
            deadline_ms: None,
            output_kib: NonZeroCount::clamped(d.output_bytes >> 10),
            log_kib: NonZeroCount::clamped(d.log_bytes >> 10),
        }
    }
}

/// `sandbox.caps.deadline-ms`, now `sandbox.caps.deadline`.
const DEADLINE_RENAMED: RenamedDuration = RenamedDuration::millis("deadline-ms", "deadline");

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct FileDispatcher {
    workers: usize,
    batch: NonZeroCount,
    lease: HumanDuration,
    poll_interval: HumanDuration,
    max_attempts: NonZeroCount32,
    backoff_base: HumanDuration,
    backoff_max: HumanDuration,
    quarantine_after: u32,
    kv_conflict_retries: u32,
    kv_quota_keys: u64,
    kv_quota_bytes: ByteSize,
    outage_window: HumanDuration,
    poison_after: NonZeroCount32,
}

impl Default for FileDispatcher {
    fn default() -> Self {
        FileDispatcher {
            workers: 2,
            batch: NonZeroCount::clamped(32),
            lease: HumanDuration::from_secs(60),
            poll_interval: HumanDuration::from_millis(200),
            max_attempts: NonZeroCount32::clamped(5),
            backoff_base: HumanDuration::from_secs(1),
            backoff_max: HumanDuration::from_secs(300),
            quarantine_after: 5,
            kv_conflict_retries: 3,
            kv_quota_keys: shopcase_contract::host_api::KV_DEFAULT_QUOTA_KEYS,
            kv_quota_bytes: ByteSize::new(shopcase_contract::host_api::KV_DEFAULT_QUOTA_BYTES),
            outage_window: HumanDuration::from(DEFAULT_OUTAGE_WINDOW),
            poison_after: NonZeroCount32::clamped(u64::from(DEFAULT_POISON_AFTER)),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct FileExecutor {
    concurrency: NonZeroCount,
    lease: HumanDuration,
    poll_interval: HumanDuration,
    max_attempts: NonZeroCount32,
    backoff_base: HumanDuration,
    backoff_max: HumanDuration,
    outage_window: HumanDuration,
    breaker_threshold: NonZeroCount32,
    breaker_cool_down: HumanDuration,
    breaker_max_cool_down: HumanDuration,
    poison_after: NonZeroCount32,
}

impl Default for FileExecutor {
    fn default() -> Self {
        let b = shopcase_host_api::breaker::BreakerPolicy::default();
        FileExecutor {
            concurrency: NonZeroCount::clamped(8),
            lease: HumanDuration::from_secs(60),
            poll_interval: HumanDuration::from_millis(250),
            max_attempts: NonZeroCount32::clamped(8),
            backoff_base: HumanDuration::from_secs(1),
            backoff_max: HumanDuration::from_secs(600),
            outage_window: HumanDuration::from(DEFAULT_OUTAGE_WINDOW),
            breaker_threshold: NonZeroCount32::clamped(u64::from(b.threshold)),
            breaker_cool_down: HumanDuration::from(b.cool_down),
            breaker_max_cool_down: HumanDuration::from(b.max_cool_down),
            poison_after: NonZeroCount32::clamped(u64::from(DEFAULT_POISON_AFTER)),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct FileTimers {
    poll_interval: HumanDuration,
}

impl Default for FileTimers {
    fn default() -> Self {
        FileTimers {
            poll_interval: HumanDuration::from_secs(1),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileStore {
    #[serde(deserialize_with = "shop_domain")]
    domain: String,
    #[serde(default = "default_api_version", deserialize_with = "api_version")]
    api_version: String,
    webhook_secret: Option<Secret>,
    webhook_secret_env: Option<String>,
    webhook_secret_file: Option<PathBuf>,
    previous_webhook_secret: Option<Secret>,
    previous_webhook_secret_env: Option<String>,
    previous_webhook_secret_file: Option<PathBuf>,
    #[serde(default, deserialize_with = "timestamp")]
    previous_webhook_secret_until: Option<Timestamp>,
    admin_token: Option<Secret>,
    admin_token_env: Option<String>,
    admin_token_file: Option<PathBuf>,
    #[serde(default, deserialize_with = "http_url")]
    admin_base_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileInbound {
    name: String,
    secret: Option<Secret>,
    secret_env: Option<String>,
    secret_file: Option<PathBuf>,
    #[serde(default)]
    shops: Vec<String>,
    #[serde(default)]
    kinds: Vec<String>,
}

fn default_api_version() -> String {
    DEFAULT_API_VERSION.to_owned()
}

fn listen_address<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!("`{s}` is not an address like 127.0.0.1:8080"))
    })
}

fn shop_domain<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if shopcase_contract::event::is_shop_domain(&s) {
        Ok(s)
    } else {
        Err(serde::de::Error::custom(format!(
            "`{s}` is not a store domain like example.myshopify.com"
        )))
    }
}

fn api_version<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if is_api_version(&s) {
        match shopcase_contract::event::api_version_refusal(&s) {
            Some(why) => Err(serde::de::Error::custom(why)),
            None => Ok(s),
        }
    } else {
        Err(serde::de::Error::custom(format!(
            "`{s}` is not an Admin API version like 2026-07"
        )))
    }
}

fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let s = String::deserialize(d)?;
    shopcase_contract::time::parse(&s)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn http_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    match url::Url::parse(&s) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(Some(s)),
        _ => Err(serde::de::Error::custom(format!(
            "`{s}` is not an http(s) URL"
        ))),
    }
}

/// `server.public-url`: an `https://` URL (plain `http://` only for a
/// loopback host, for local work with the emulator), with no query,
/// fragment or credentials; the webhook path is added to it.
fn public_url<'de, D: Deserializer<'de>>(d: D) -> Result<Option<url::Url>, D::Error> {
    let s = String::deserialize(d)?;
    let err = |why: &str| serde::de::Error::custom(format!("`{s}` {why}"));
    let url =
        url::Url::parse(&s).map_err(|_| err("is not a URL like https://shopcase.example.com"))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(err(
                "is not https: Shopify delivers webhooks to HTTPS addresses only (plain http is accepted for a loopback host, for local work)",
            ));
        }
        _ => return Err(err("is not an https URL")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(err("has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(err("has a query or fragment: give the base address only"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err("holds credentials: give the base address only"));
    }
    if url.path().trim_end_matches('/').ends_with(WEBHOOK_PATH) {
        return Err(err(
            "ends with /webhooks/shopify: give the base address, the path is added",
        ));
    }
    Ok(Some(url))
}

/// Whether to read secrets (`shopcase store ...` works without them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Secrets {
    Resolve,
    Skip,
}

impl Config {
    /// Read and check a configuration file, resolving secrets.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = read(path)?;
        Config::parse_with(&text, path, Secrets::Resolve)
    }

    /// Read a configuration for administration commands: secrets are not
    /// read (they may not be available on the admin's machine) and are left
    /// empty.
    pub fn load_without_secrets(path: &Path) -> Result<Config, Error> {
        let text = read(path)?;
        Config::parse_with(&text, path, Secrets::Skip)
    }

    /// Check configuration text; `path` names it in errors and anchors
    /// relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        Config::parse_with(text, path, Secrets::Resolve)
    }

    fn parse_with(text: &str, path: &Path, secrets: Secrets) -> Result<Config, Error> {
        let index = KeyIndex::new(text);
        let file: FileConfig = toml::from_str(text).map_err(|e| {
            let (key, line) = match e.span() {
                Some(span) => index.at(span),
                None => (None, None),
            };
            Error {
                file: path.to_owned(),
                line,
                key,
                message: e.message().trim_end().to_owned(),
            }
        })?;
        let at = |key: &str, message: String| index.error(path, key, message);
        let mut warnings = Vec::new();
        let mut warn = |key: &str, message: String| {
            warnings.push(index.error(path, key, message).to_string());
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        let data_dir = resolve(file.data_dir);
        let plugins_dir = resolve(file.plugins_dir);

        let s = file.server;
        if s.max_body_bytes.get() == 0 {
            return Err(at("server.max-body-bytes", "must be at least 1".into()));
        }
        let server = ServerConfig {
            listen: s.listen,
            max_body_bytes: s.max_body_bytes.get_usize(),
            max_age: s.max_age.get(),
            ack_timeout: s.ack_timeout.get(),
            max_clock_skew: s.max_clock_skew.get(),
            public_url: s.public_url,
        };

        let st = file.storage;
        let storage = match st.backend {
            BackendName::Sqlite => {
                for (key, given) in [
                    ("storage.url-env", st.url_env.is_some()),
                    ("storage.url-file", st.url_file.is_some()),
                    ("storage.pool-size", st.pool_size.is_some()),
                    ("storage.statement-timeout", st.statement_timeout.is_some()),
                    ("storage.connect-timeout", st.connect_timeout.is_some()),
                    ("storage.ca-file", st.ca_file.is_some()),
                ] {
                    if given {
                        return Err(at(
                            key,
                            "is a PostgreSQL setting, but `storage.backend` is \"sqlite\" (the default): set `backend = \"postgres\"` or remove it".into(),
                        ));
                    }
                }
                let defaults = SqliteConfig::default();
                Backend::Sqlite(SqliteConfig {
                    synchronous: st.synchronous.unwrap_or(defaults.synchronous),
                    busy_timeout: st.busy_timeout.map_or(defaults.busy_timeout, |d| d.get()),
                    read_connections: st
                        .read_connections
                        .map_or(defaults.read_connections, |n| n.get_usize()),
                    ..defaults
                })
            }
            BackendName::Postgres => {
                if st.url.is_some() {
                    return Err(at(
                        "storage.url",
                        "the URL holds the database password: give it in an environment variable (`url-env`) or a file (`url-file`), never in this file".into(),
                    ));
                }
                for (key, given) in [
                    ("storage.synchronous", st.synchronous.is_some()),
                    ("storage.busy-timeout", st.busy_timeout.is_some()),
                    ("storage.read-connections", st.read_connections.is_some()),
                ] {
                    if given {
                        warn(
                            key,
                            "applies to SQLite only; ignored with `backend = \"postgres\"` (PostgreSQL's own settings decide durability and lock waits)".into(),
                        );
                    }
                }
                let source = SecretSource::from_keys("url", None, st.url_env, st.url_file, base)
                    .map_err(|m| at("storage.url-env", m))?
                    .ok_or_else(|| {
                        at(
                            "storage.backend",
                            "PostgreSQL needs its connection URL: set `url-env` (an environment variable) or `url-file` (a file) in [storage]".into(),
                        )
                    })?;
                let key = format!("storage.{}", source.key("url"));
                // Resolved even when other secrets are skipped: every
                // command needs the database.
                let url = source.resolve().map_err(|m| at(&key, m))?;
                let url = url.expose().to_owned();
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return Err(at(
                        &key,
                        "the connection URL must start with postgres:// or postgresql:// (postgres://user:password@host:port/database)".into(),
                    ));
                }
                let defaults = PostgresConfig::new(url);
                let config = PostgresConfig {
                    pool_size: st.pool_size.map_or(defaults.pool_size, |n| n.get_usize()),
                    statement_timeout: st
                        .statement_timeout
                        .map_or(defaults.statement_timeout, |d| d.get()),
                    connect_timeout: st
                        .connect_timeout
                        .map_or(defaults.connect_timeout, |d| d.get()),
                    ca_file: st.ca_file.map(resolve),
                    ..defaults
                };
                if config.connect_timeout.is_zero() {
                    return Err(at(
                        "storage.connect-timeout",
                        "must be longer than 0s".into(),
                    ));
                }
                if let Err(m) = config.check() {
                    return Err(at(&key, m));
                }
                Backend::Postgres(config)
            }
        };
        let retention = RetentionConfig {
            keep: match st.retention {
                Retention::Off => None,
                Retention::Keep(d) => Some(d.get()),
            },
            interval: st.prune_interval.get(),
        };
        let least = server.max_age.saturating_add(RETENTION_MARGIN);
        if let Some(keep) = retention.keep
            && keep < least
        {
            return Err(at(
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
            return Err(at(
                "storage.prune-interval",
                "must be longer than 0s".into(),
            ));
        }

        let sb = file.sandbox;
        let c = sb.caps;
        let deadline = DEADLINE_RENAMED
            .pick(
                "sandbox.caps.",
                c.deadline,
                c.deadline_ms.map(NonZeroCount::get),
            )
            .map_err(|m| at("sandbox.caps.deadline-ms", m))?;
        if let Some(w) = deadline.warning {
            warn("sandbox.caps.deadline-ms", w);
        }
        let deadline = deadline
            .value
            .map_or(Limits::DEFAULT_CAPS.deadline, HumanDuration::get);
        if deadline.is_zero() {
            return Err(at("sandbox.caps.deadline", "must be longer than 0s".into()));
        }
        let caps = Limits {
            fuel: c.fuel.get(),
            memory_bytes: c.memory_mib.get().saturating_mul(1 << 20),
            deadline,
            output_bytes: c.output_kib.get().saturating_mul(1 << 10),
            log_bytes: c.log_kib.get().saturating_mul(1 << 10),
        };
        let sandbox = SandboxConfig {
            cache_dir: sb
                .cache_dir
                .map(resolve)
                .unwrap_or_else(|| data_dir.join("cache")),
            max_concurrent: sb.max_concurrent.get_u32(),
            caps,
        };

        let dp = file.dispatcher;
        let dispatcher = DispatcherConfig {
            workers: dp.workers,
            batch: dp.batch.get_usize(),
            lease: dp.lease.get(),
            poll_interval: dp.poll_interval.get(),
            retry: Backoff {
                base: dp.backoff_base.get(),
                max: dp.backoff_max.get(),
                max_attempts: dp.max_attempts.get_u32(),
                max_retry_after: Duration::from_secs(3600),
            },
            quarantine_after: dp.quarantine_after,
            kv_conflict_retries: dp.kv_conflict_retries,
            kv_quota_keys: dp.kv_quota_keys,
            kv_quota_bytes: dp.kv_quota_bytes.get(),
            outage_window: dp.outage_window.get(),
            poison_after: dp.poison_after.get_u32(),
        };
        if dispatcher.lease <= caps.deadline * 2 {
            return Err(at(
                "dispatcher.lease",
                format!(
                    "must be longer than twice the sandbox deadline cap ({}), or events would be re-claimed while their plugins still run",
                    format_duration(caps.deadline)
                ),
            ));
        }

        let ex = file.executor;
        let executor = ExecutorConfig {
            concurrency: ex.concurrency.get_usize(),
            lease: ex.lease.get(),
            poll_interval: ex.poll_interval.get(),
            retry: Backoff {
                base: ex.backoff_base.get(),
                max: ex.backoff_max.get(),
                max_attempts: ex.max_attempts.get_u32(),
                max_retry_after: Duration::from_secs(3600),
            },
            outage_window: ex.outage_window.get(),
            breaker: shopcase_host_api::breaker::BreakerPolicy {
                threshold: ex.breaker_threshold.get_u32(),
                cool_down: ex.breaker_cool_down.get(),
                max_cool_down: ex.breaker_max_cool_down.get(),
            },
            poison_after: ex.poison_after.get_u32(),
        };
        let timers = TimerConfig {
            poll_interval: file.timers.poll_interval.get(),
        };

        if let Backend::Sqlite(sqlite) = &storage
            && sqlite.synchronous == Synchronous::Normal
        {
            warn(
                "storage.synchronous",
                "`storage.synchronous = \"normal\"`: commits are not fsynced; a power loss can lose acknowledged webhooks".into(),
            );
        }
        let mut stores: Vec<StoreConfig> = Vec::with_capacity(file.stores.len());
        for (i, st) in file.stores.into_iter().enumerate() {
            let key = |k: &str| format!("stores[{i}].{k}");
            if stores.iter().any(|s| s.domain == st.domain) {
                return Err(at(
                    &key("domain"),
                    format!("`{}` is configured twice", st.domain),
                ));
            }
            let source = |name: &str,
                          inline: Option<Secret>,
                          env: Option<String>,
                          file: Option<PathBuf>|
             -> Result<Option<(SecretSource, String)>, Error> {
                let s = SecretSource::from_keys(name, inline, env, file, base)
                    .map_err(|m| at(&key(name), m))?;
                Ok(s.map(|s| {
                    let k = key(&s.key(name));
                    (s, k)
                }))
            };
            let webhook = source(
                "webhook-secret",
                st.webhook_secret,
                st.webhook_secret_env,
                st.webhook_secret_file,
            )?
            .ok_or_else(|| {
                at(
                    &key("webhook-secret-env"),
                    "a webhook secret is required: set webhook-secret-env (or webhook-secret-file)"
                        .into(),
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
            for (s, k) in [Some(&webhook), previous.as_ref(), admin.as_ref()]
                .into_iter()
                .flatten()
            {
                if s.is_inline() {
                    warn(
                        k,
                        format!(
                            "`{k}` is written in the file: for development only; use `{k}-env` or `{k}-file`"
                        ),
                    );
                }
            }
            let read = |(s, k): (SecretSource, String)| -> Result<Secret, Error> {
                match secrets {
                    Secrets::Skip => Ok(Secret::new("")),
                    Secrets::Resolve => s.resolve().map_err(|m| at(&k, m)),
                }
            };
            let previous_webhook_secret = match (previous, st.previous_webhook_secret_until) {
                (None, None) => None,
                (None, Some(_)) => {
                    return Err(at(
                        &key("previous-webhook-secret-until"),
                        "set only with a previous webhook secret".into(),
                    ));
                }
                (Some(_), None) => {
                    return Err(at(
                        &key("previous-webhook-secret-until"),
                        "required with a previous webhook secret: the end of the rotation window (RFC 3339), e.g. one hour after the rotation".into(),
                    ));
                }
                (Some(p), Some(until)) => Some(PreviousSecret {
                    secret: read(p)?,
                    until,
                }),
            };
            if !shopcase_contract::event::CHECKED_API_VERSIONS.contains(&st.api_version.as_str()) {
                warn(
                    &key("api-version"),
                    format!(
                        "the Admin API version {} has not been checked against Shopify's schema by this build (checked: {}): a document the host sends may be refused",
                        st.api_version,
                        shopcase_contract::event::CHECKED_API_VERSIONS.join(", ")
                    ),
                );
            }
            stores.push(StoreConfig {
                domain: st.domain,
                api_version: st.api_version,
                webhook_secret: read(webhook)?,
                previous_webhook_secret,
                admin_token: admin.map(read).transpose()?,
                admin_base_url: st.admin_base_url,
            });
        }

        let mut inbound: Vec<InboundSource> = Vec::with_capacity(file.inbound.len());
        for (i, src) in file.inbound.into_iter().enumerate() {
            let key = |k: &str| format!("inbound[{i}].{k}");
            if !InboundSource::is_name(&src.name) {
                return Err(at(
                    &key("name"),
                    format!(
                        "`{}` is not a source name: 1 to 32 of a-z, 0-9 and `-` (it is the path segment of POST /inbound/{{name}})",
                        src.name
                    ),
                ));
            }
            if inbound.iter().any(|s| s.name == src.name) {
                return Err(at(
                    &key("name"),
                    format!("`{}` is configured twice", src.name),
                ));
            }
            if src.secret.is_some() {
                return Err(at(
                    &key("secret"),
                    "an inbound source's secret is never written in this file: give it in an environment variable (`secret-env`) or a file (`secret-file`)".into(),
                ));
            }
            let source =
                SecretSource::from_keys("secret", None, src.secret_env, src.secret_file, base)
                    .map_err(|m| at(&key("secret-env"), m))?
                    .ok_or_else(|| {
                        at(
                            &key("secret-env"),
                            "a secret is required: set secret-env (or secret-file)".into(),
                        )
                    })?;
            let secret_key = key(&source.key("secret"));
            let secret = match secrets {
                Secrets::Skip => Secret::new(""),
                Secrets::Resolve => source.resolve().map_err(|m| at(&secret_key, m))?,
            };
            if src.shops.is_empty() {
                return Err(at(
                    &key("shops"),
                    "name the stores this source may report about (each one of [[stores]])".into(),
                ));
            }
            for shop in &src.shops {
                if !stores.iter().any(|s| &s.domain == shop) {
                    return Err(at(
                        &key("shops"),
                        format!("`{shop}` is not one of the [[stores]] this host serves"),
                    ));
                }
            }
            if src.kinds.is_empty() {
                return Err(at(
                    &key("kinds"),
                    "name the kinds of report this source may send: complaint, not-received, carrier-exception".into(),
                ));
            }
            let mut kinds = Vec::with_capacity(src.kinds.len());
            for k in &src.kinds {
                match shopcase_contract::inbound::InboundKind::parse(k) {
                    Some(kind) if !kinds.contains(&kind) => kinds.push(kind),
                    Some(_) => {}
                    None => {
                        return Err(at(
                            &key("kinds"),
                            format!(
                                "`{k}` is not a kind of report: complaint, not-received, carrier-exception"
                            ),
                        ));
                    }
                }
            }
            inbound.push(InboundSource {
                name: src.name,
                secret,
                shops: src.shops,
                kinds,
            });
        }

        // `[corecase]` is read by the Core Case client; its renamed keys
        // are warned about here, where the warnings are collected.
        if let Some(toml::Value::Table(cc)) = &file.corecase {
            for r in shopcase_corecase::client::config::RENAMED {
                let get = |k: &str| {
                    let (table, name) = match k.split_once('.') {
                        Some((t, n)) => (cc.get(t).and_then(toml::Value::as_table), n),
                        None => (Some(cc), k),
                    };
                    table.and_then(|t| t.get(name))
                };
                let (Some(old), new) = (get(r.old), get(r.new)) else {
                    continue;
                };
                let old_key = format!("corecase.{}", r.old);
                let Some(n) = old.as_integer().and_then(|n| u64::try_from(n).ok()) else {
                    // Not a count: the client's reading names the problem.
                    continue;
                };
                // Any value stands for the new key: only its presence matters.
                let picked = r
                    .pick("corecase.", new.map(|_| HumanDuration::ZERO), Some(n))
                    .map_err(|m| at(&old_key, m))?;
                if let Some(w) = picked.warning {
                    warn(&old_key, w);
                }
            }
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
            inbound,
            corecase: file.corecase,
            shopify: file.shopify,
            warnings,
            index,
        })
    }

    /// The inbound source with this name.
    pub fn inbound_source(&self, name: &str) -> Option<&InboundSource> {
        self.inbound.iter().find(|s| s.name == name)
    }

    /// The store with this domain.
    pub fn store(&self, domain: &str) -> Option<&StoreConfig> {
        self.stores.iter().find(|s| s.domain == domain)
    }

    /// The line (from 1) of a dotted key (`server.max-age`,
    /// `stores[1].webhook-secret-env`, `corecase.case-types.fraud`), or, if
    /// it is not in the file, of the nearest table it belongs to.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.index.line_of(key)
    }

    /// An error of a section read after the file, placed at its key's line.
    pub fn locate(&self, e: ConfigError) -> Error {
        Error {
            line: e.key.as_deref().and_then(|k| self.index.line_of(k)),
            file: e.file,
            key: e.key,
            message: e.message,
        }
    }
}

fn read(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| Error {
        file: path.to_owned(),
        line: None,
        key: None,
        message: format!("cannot read: {e}"),
    })
}

/// Where each key of a TOML text is: dotted keys (`stores[1].domain`) with
/// the spans of the key and of its value, to turn a span into a key and a
/// line, and a key into a line.
#[derive(Clone, Default)]
struct KeyIndex {
    entries: Vec<KeyEntry>,
    /// Byte offsets where lines start.
    line_starts: Vec<usize>,
}

#[derive(Clone)]
struct KeyEntry {
    key: String,
    key_span: std::ops::Range<usize>,
    value_span: std::ops::Range<usize>,
}

impl std::fmt::Debug for KeyIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyIndex({} keys)", self.entries.len())
    }
}

impl KeyIndex {
    /// The keys of `text`; empty if it is not TOML (the parse error then
    /// has a span, placed by line alone).
    fn new(text: &str) -> KeyIndex {
        let mut index = KeyIndex {
            entries: Vec::new(),
            line_starts: std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        };
        if let Ok(doc) = toml::de::DeTable::parse(text) {
            index.walk("", doc.get_ref());
        }
        index
    }

    fn walk(&mut self, prefix: &str, table: &toml::de::DeTable<'_>) {
        for (k, v) in table.iter() {
            let key = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            self.entries.push(KeyEntry {
                key: key.clone(),
                key_span: k.span(),
                value_span: v.span(),
            });
            match v.get_ref() {
                toml::de::DeValue::Table(t) => self.walk(&key, t),
                toml::de::DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let key = format!("{key}[{i}]");
                        self.entries.push(KeyEntry {
                            key: key.clone(),
                            key_span: item.span(),
                            value_span: item.span(),
                        });
                        if let toml::de::DeValue::Table(t) = item.get_ref() {
                            self.walk(&key, t);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The line (from 1) of a byte offset.
    fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    /// The key an error's span points into (the innermost) and its line.
    fn at(&self, span: std::ops::Range<usize>) -> (Option<String>, Option<usize>) {
        if span.is_empty() && span.start == 0 {
            // An empty span at the very start: the document as a whole.
            return (None, None);
        }
        let within = |r: &std::ops::Range<usize>| {
            r.start <= span.start && (span.start < r.end || span.start == r.start)
        };
        let key = self
            .entries
            .iter()
            .flat_map(|e| [(e, &e.key_span), (e, &e.value_span)])
            .filter(|(_, r)| within(r))
            .min_by_key(|(_, r)| r.end - r.start)
            .map(|(e, _)| e.key.clone());
        (key, Some(self.line(span.start)))
    }

    /// The line of `key`, or of the nearest enclosing table in the file.
    fn line_of(&self, key: &str) -> Option<usize> {
        let mut key = key;
        loop {
            if let Some(e) = self.entries.iter().find(|e| e.key == key) {
                return Some(self.line(e.key_span.start));
            }
            key = &key[..key.rfind(['.', '['])?];
        }
    }

    /// An error about `key`, placed at its line.
    fn error(&self, file: &Path, key: &str, message: String) -> Error {
        Error {
            file: file.to_owned(),
            line: self.line_of(key),
            key: Some(key.to_owned()),
            message,
        }
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

/// `250ms`, `30s`, `5m`, `24h`, `2d` ([`HumanDuration`]).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    HumanDuration::parse(s).map(HumanDuration::get)
}

/// A duration as [`parse_duration`] reads it, in its largest exact unit.
pub fn format_duration(d: Duration) -> String {
    HumanDuration::from(d).to_string()
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
        let Backend::Sqlite(sqlite) = &c.storage else {
            panic!("SQLite is the default")
        };
        assert_eq!(sqlite.synchronous, Synchronous::Full);
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

    /// MINIMAL with `[storage]` set to `storage`, and a URL file holding
    /// `url` (kept alive by the guard).
    fn with_postgres(storage: &str, url: &str) -> (tempfile::TempDir, Result<Config, String>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("db-url"), format!("{url}\n")).unwrap();
        let text = format!("{MINIMAL}\n[storage]\n{storage}\n");
        let parsed =
            Config::parse(&text, &dir.path().join("shopcase.toml")).map_err(|e| e.to_string());
        (dir, parsed)
    }

    #[test]
    fn postgres_takes_its_url_from_a_file_or_the_environment_never_the_config() {
        let url = "postgres://shopcase:pw-in-url@db.internal:5432/shopcase";
        let (_d, c) = with_postgres(
            "backend = \"postgres\"\nurl-file = \"db-url\"\npool-size = 32\nstatement-timeout = \"10s\"",
            url,
        );
        let c = c.unwrap();
        let Backend::Postgres(pg) = &c.storage else {
            panic!("postgres")
        };
        assert_eq!(pg.url, url, "the trailing newline is dropped");
        assert_eq!(pg.pool_size, 32);
        assert_eq!(pg.statement_timeout, Duration::from_secs(10));
        assert_eq!(pg.connect_timeout, Duration::from_secs(5), "default");
        assert!(
            !format!("{c:?}").contains("pw-in-url"),
            "the password never prints"
        );

        let (_d, err) = with_postgres("backend = \"postgres\"\nurl = \"postgres://a:b@c/d\"", url);
        let err = err.unwrap_err();
        assert!(
            err.contains("`storage.url`") && err.contains("url-env"),
            "{err}"
        );
        assert!(!err.contains("a:b@c"), "{err}");

        let (_d, err) = with_postgres("backend = \"postgres\"", url);
        let err = err.unwrap_err();
        assert!(err.contains("needs its connection URL"), "{err}");

        let (_d, err) = with_postgres(
            "backend = \"postgres\"\nurl-file = \"db-url\"",
            "mysql://x:secret@h/d",
        );
        let err = err.unwrap_err();
        assert!(err.contains("must start with postgres://"), "{err}");
        assert!(!err.contains("secret"), "{err}");

        let (_d, err) = with_postgres("backend = \"postgres\"\nurl-file = \"missing\"", url);
        assert!(err.unwrap_err().contains("`storage.url-file`"));

        let (_d, err) = with_postgres(
            "backend = \"postgres\"\nurl-env = \"A\"\nurl-file = \"db-url\"",
            url,
        );
        assert!(err.unwrap_err().contains("exactly one of"));

        let (_d, err) = with_postgres("backend = \"mysql\"", url);
        assert!(err.unwrap_err().contains("storage.backend"));
    }

    #[test]
    fn settings_of_the_other_engine_are_refused_or_warned_about() {
        let url = "postgres://shopcase@db.internal/shopcase";
        // A PostgreSQL key without the backend: probably a forgotten line.
        let (_d, err) = with_postgres("url-file = \"db-url\"", url);
        let err = err.unwrap_err();
        assert!(
            err.contains("`storage.url-file`") && err.contains("backend = \"postgres\""),
            "{err}"
        );
        // SQLite's keys with PostgreSQL: harmless, said once.
        let (_d, c) = with_postgres(
            "backend = \"postgres\"\nurl-file = \"db-url\"\nsynchronous = \"normal\"",
            url,
        );
        let c = c.unwrap();
        assert!(
            c.warnings
                .iter()
                .any(|w| w.contains("`storage.synchronous`") && w.contains("SQLite only")),
            "{:?}",
            c.warnings
        );
    }

    #[test]
    fn inbound_sources_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hd-secret"), "hd-secret\n").unwrap();
        let store =
            "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret = \"x\"\n";
        let with = |inbound: &str| {
            Config::parse(
                &format!("{store}[[inbound]]\n{inbound}"),
                &dir.path().join("shopcase.toml"),
            )
            .map_err(|e| e.to_string())
        };
        let c = with(
            "name = \"helpdesk\"\nsecret-file = \"hd-secret\"\nshops = [\"a.myshopify.com\"]\nkinds = [\"complaint\", \"not-received\", \"complaint\"]\n",
        )
        .unwrap();
        let src = c.inbound_source("helpdesk").unwrap();
        assert_eq!(src.secret.expose(), "hd-secret");
        assert_eq!(src.shops, ["a.myshopify.com"]);
        assert_eq!(
            src.kinds,
            [
                shopcase_contract::inbound::InboundKind::Complaint,
                shopcase_contract::inbound::InboundKind::NotReceived
            ]
        );
        assert!(!format!("{c:?}").contains("hd-secret\""), "never printed");
        let ok_rest =
            "secret-file = \"hd-secret\"\nshops = [\"a.myshopify.com\"]\nkinds = [\"complaint\"]\n";
        for (inbound, want) in [
            (
                format!("name = \"Help Desk\"\n{ok_rest}"),
                "`inbound[0].name`: `Help Desk` is not a source name",
            ),
            (
                "name = \"hd\"\nsecret = \"inline\"\nshops = [\"a.myshopify.com\"]\nkinds = [\"complaint\"]\n".to_owned(),
                "`inbound[0].secret`: an inbound source's secret is never written in this file",
            ),
            (
                "name = \"hd\"\nshops = [\"a.myshopify.com\"]\nkinds = [\"complaint\"]\n".to_owned(),
                "`inbound[0].secret-env`: a secret is required",
            ),
            (
                "name = \"hd\"\nsecret-env = \"SHOPCASE_TEST_SURELY_UNSET_VAR\"\nshops = [\"a.myshopify.com\"]\nkinds = [\"complaint\"]\n".to_owned(),
                "the environment variable `SHOPCASE_TEST_SURELY_UNSET_VAR` is not set",
            ),
            (
                "name = \"hd\"\nsecret-file = \"hd-secret\"\nshops = [\"b.myshopify.com\"]\nkinds = [\"complaint\"]\n".to_owned(),
                "`inbound[0].shops`: `b.myshopify.com` is not one of the [[stores]]",
            ),
            (
                "name = \"hd\"\nsecret-file = \"hd-secret\"\nshops = [\"a.myshopify.com\"]\nkinds = [\"praise\"]\n".to_owned(),
                "`inbound[0].kinds`: `praise` is not a kind of report",
            ),
            (
                "name = \"hd\"\nsecret-file = \"hd-secret\"\nshops = [\"a.myshopify.com\"]\n".to_owned(),
                "`inbound[0].kinds`: name the kinds",
            ),
            (
                "name = \"hd\"\nsecret-file = \"hd-secret\"\nkinds = [\"complaint\"]\n".to_owned(),
                "`inbound[0].shops`: name the stores",
            ),
            (
                format!("name = \"hd\"\n{ok_rest}[[inbound]]\nname = \"hd\"\n{ok_rest}"),
                "`inbound[1].name`: `hd` is configured twice",
            ),
            (
                format!("name = \"hd\"\n{ok_rest}url = \"x\"\n"),
                "unknown field `url`",
            ),
        ] {
            let err = with(&inbound).unwrap_err();
            assert!(err.contains(want), "want {want} in {err}");
        }
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let cases: &[(&str, &str)] = &[
            (
                "data-dir = \"d\"\nlisten = 1",
                ":2: `listen`: unknown field `listen`, expected one of `data-dir`",
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
                "data-dir = \"d\"\n[server]\npublic-url = \"http://shopcase.example.com\"",
                ":3: `server.public-url`: `http://shopcase.example.com` is not https",
            ),
            (
                "data-dir = \"d\"\n[server]\npublic-url = \"https://shopcase.example.com/webhooks/shopify\"",
                "`server.public-url`: `https://shopcase.example.com/webhooks/shopify` ends with /webhooks/shopify",
            ),
            (
                "data-dir = \"d\"\n[server]\npublic-url = \"https://u:p@shopcase.example.com\"",
                "holds credentials",
            ),
            (
                "data-dir = \"d\"\n[server]\npublic-url = \"shopcase.example.com\"",
                "is not a URL like https://shopcase.example.com",
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
                "`executor.poison-after`: invalid type: string \"3\", expected an integer of at least 1",
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
                err.starts_with("/etc/shopcase/shopcase.toml:"),
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
    fn errors_give_the_line_of_the_key() {
        let text = "data-dir = \"d\"\n\n[dispatcher]\nworkers = 2\nbatch = 0\n";
        assert_eq!(
            parse(text).unwrap_err(),
            "/etc/shopcase/shopcase.toml:5: `dispatcher.batch`: must be at least 1"
        );
        let e = Config::parse(text, Path::new("shopcase.toml")).unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(5), Some("dispatcher.batch"))
        );
        for (text, want) in [
            // A bad duration, in a table of an array of tables, inline.
            (
                "data-dir = \"d\"\n[server]\nmax-age = \"2 days\"",
                ":3: `server.max-age`: `2 days` is not a duration like 250ms, 30s, 5m, 24h or 2d",
            ),
            (
                "data-dir = \"d\"\nserver = { ack-timeout = \"4\" }",
                ":2: `server.ack-timeout`: `4` is not a duration",
            ),
            (
                "data-dir = \"d\"\n[server]\nmax-age = 3600",
                ":3: `server.max-age`: invalid type: integer `3600`, expected a duration like 250ms",
            ),
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret = \"x\"\n[[stores]]\ndomain = \"b.myshopify.com\"\nwebhook-secret = \"x\"\napi-version = \"july\"",
                ":8: `stores[1].api-version`: `july` is not an Admin API version",
            ),
            // Versions whose schema rejects a document the host sends.
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret = \"x\"\napi-version = \"2025-10\"",
                ":5: `stores[0].api-version`: the Admin API version 2025-10 cannot be used: its schema does not know the `@idempotent` directive",
            ),
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret = \"x\"\napi-version = \"2024-04\"",
                ":5: `stores[0].api-version`: the Admin API version 2024-04 is older than the versions the host's documents are checked against (2026-01, 2026-04, 2026-07, 2026-10)",
            ),
            // Zero counts.
            (
                "data-dir = \"d\"\n[executor]\n\nconcurrency = 0",
                ":4: `executor.concurrency`: must be at least 1",
            ),
            (
                "data-dir = \"d\"\n[sandbox.caps]\nmemory-mib = 0",
                ":3: `sandbox.caps.memory-mib`: must be at least 1",
            ),
            (
                "data-dir = \"d\"\n[server]\nmax-body-bytes = \"0KiB\"",
                ":3: `server.max-body-bytes`: must be at least 1",
            ),
            // Missing from a table: the table's line.
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\n\n[[stores]]\nadmin-token-env = \"X\"",
                ":5: `stores[1]`: missing field `domain`",
            ),
            (
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"",
                ":2: `stores[0].webhook-secret-env`: a webhook secret is required",
            ),
            // Not TOML at all: the line of the mistake.
            (
                "data-dir = \"d\"\n[server\nlisten = 1",
                ":2: unclosed table",
            ),
            // Nowhere in particular.
            ("[server]", "shopcase.toml: missing field `data-dir`"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "want {want:?} in {err:?}");
        }
    }

    #[test]
    fn an_api_version_not_checked_against_shopifys_schema_is_read_with_a_warning() {
        let store = |v: &str| {
            format!(
                "data-dir = \"d\"\n[[stores]]\ndomain = \"a.myshopify.com\"\nwebhook-secret = \"x\"\napi-version = \"{v}\"\n"
            )
        };
        let version_warnings = |c: &Config| -> Vec<String> {
            c.warnings
                .iter()
                .filter(|w| w.contains("api-version"))
                .cloned()
                .collect()
        };
        let c = parse(&store("2027-01")).unwrap();
        assert_eq!(c.stores[0].api_version, "2027-01");
        assert_eq!(
            version_warnings(&c),
            [
                "/etc/shopcase/shopcase.toml:5: `stores[0].api-version`: the Admin API version 2027-01 has not been checked against Shopify's schema by this build (checked: 2026-01, 2026-04, 2026-07, 2026-10): a document the host sends may be refused"
            ]
        );
        for v in shopcase_contract::event::CHECKED_API_VERSIONS {
            let c = parse(&store(v)).unwrap();
            assert!(version_warnings(&c).is_empty(), "{v}: {:?}", c.warnings);
        }
    }

    #[test]
    fn deprecated_ms_keys_are_read_with_a_warning() {
        let text = "data-dir = \"d\"\n[sandbox.caps]\ndeadline-ms = 2500\n";
        let c = parse(text).unwrap();
        assert_eq!(c.sandbox.caps.deadline, Duration::from_millis(2500));
        assert_eq!(
            c.warnings,
            [
                "/etc/shopcase/shopcase.toml:3: `sandbox.caps.deadline-ms`: `sandbox.caps.deadline-ms` is deprecated: write `sandbox.caps.deadline = \"2500ms\"` instead"
            ]
        );
        let c = parse("data-dir = \"d\"\n[sandbox.caps]\ndeadline = \"2s\"\n").unwrap();
        assert_eq!(c.sandbox.caps.deadline, Duration::from_secs(2));
        assert!(c.warnings.is_empty());

        // Both: an error at the old key.
        let err =
            parse("data-dir = \"d\"\n[sandbox.caps]\ndeadline = \"2s\"\ndeadline-ms = 2000\n")
                .unwrap_err();
        assert_eq!(
            err,
            "/etc/shopcase/shopcase.toml:4: `sandbox.caps.deadline-ms`: `sandbox.caps.deadline-ms` is the deprecated spelling of `sandbox.caps.deadline`: give only `sandbox.caps.deadline`"
        );
        for (text, want) in [
            (
                "deadline-ms = 0",
                ":3: `sandbox.caps.deadline-ms`: must be at least 1",
            ),
            (
                "deadline = \"0s\"",
                ":3: `sandbox.caps.deadline`: must be longer than 0s",
            ),
        ] {
            let err = parse(&format!("data-dir = \"d\"\n[sandbox.caps]\n{text}")).unwrap_err();
            assert!(err.contains(want), "want {want:?} in {err:?}");
        }

        // [corecase]'s old keys are warned about here too (the client reads them).
        let corecase = "[corecase]\napi-base = \"http://127.0.0.1:1\"\nauth-base = \"http://127.0.0.1:1\"\ntenant-id = \"t\"\nclient-id = \"c\"\nclient-secret-env = \"S\"\n";
        let c = parse(&format!(
            "data-dir = \"d\"\n{corecase}request-timeout-ms = 1000\n[corecase.retry]\nbase-ms = 5\n"
        ))
        .unwrap();
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert!(
            c.warnings[0].ends_with(":8: `corecase.request-timeout-ms`: `corecase.request-timeout-ms` is deprecated: write `corecase.request-timeout = \"1s\"` instead"),
            "{:?}",
            c.warnings
        );
        assert!(
            c.warnings[1].contains(":10: `corecase.retry.base-ms`: `corecase.retry.base-ms` is deprecated: write `corecase.retry.base = \"5ms\"`"),
            "{:?}",
            c.warnings
        );
        let err = parse(&format!(
            "data-dir = \"d\"\n{corecase}request-timeout = \"1s\"\nrequest-timeout-ms = 1000\n"
        ))
        .unwrap_err();
        assert!(
            err.contains(":9: `corecase.request-timeout-ms`: `corecase.request-timeout-ms` is the deprecated spelling of `corecase.request-timeout`"),
            "{err}"
        );
    }

    #[test]
    fn section_errors_are_placed_by_their_key() {
        let text = "data-dir = \"d\"\n\n[shopify]\nmax-attempts = 0\n";
        let c = parse(text).unwrap();
        assert_eq!(c.line_of("shopify.max-attempts"), Some(4));
        assert_eq!(c.line_of("shopify.history-ttl"), Some(3), "its table");
        assert_eq!(c.line_of("timers.poll-interval"), None);
    }

    /// Every key the file's types accept, dotted (`stores[].domain`), from
    /// serde's own list of fields (its unknown-field message): what the
    /// types accept, not what someone remembered to list.
    fn accepted_keys() -> std::collections::BTreeSet<String> {
        let tables = [
            ("", ""),
            ("server", "data-dir = \"d\"\n[server]"),
            ("storage", "data-dir = \"d\"\n[storage]"),
            ("sandbox", "data-dir = \"d\"\n[sandbox]"),
            ("sandbox.caps", "data-dir = \"d\"\n[sandbox.caps]"),
            ("dispatcher", "data-dir = \"d\"\n[dispatcher]"),
            ("executor", "data-dir = \"d\"\n[executor]"),
            ("timers", "data-dir = \"d\"\n[timers]"),
            ("stores[]", "data-dir = \"d\"\n[[stores]]"),
            ("inbound[]", "data-dir = \"d\"\n[[inbound]]"),
        ];
        let sections = [
            "server",
            "storage",
            "sandbox",
            "caps",
            "dispatcher",
            "executor",
            "timers",
            "stores",
            "inbound",
            "corecase",
            "shopify",
        ];
        let mut keys = std::collections::BTreeSet::new();
        for (table, header) in tables {
            let err = parse(&format!("{header}\n\"?\" = 1\n")).unwrap_err();
            let (_, expected) = err.split_once("expected").expect("an unknown-field error");
            for (i, name) in expected.split('`').enumerate() {
                if i % 2 == 1 && !sections.contains(&name) {
                    keys.insert(if table.is_empty() {
                        name.to_owned()
                    } else {
                        format!("{table}.{name}")
                    });
                }
            }
        }
        keys
    }

    #[test]
    fn the_admin_guide_documents_every_key_and_no_other() {
        let guide = include_str!("../../../docs/admin-guide.md");
        let start = guide
            .find("### Every key")
            .expect("the admin guide has a configuration reference");
        let end = guide[start..]
            .find("\n## ")
            .map_or(guide.len(), |e| start + e);
        let mut documented = std::collections::BTreeSet::new();
        for row in guide[start..end].lines().filter(|l| l.starts_with("| `")) {
            let first = row.split('|').nth(1).unwrap_or("");
            for (i, key) in first.split('`').enumerate() {
                if i % 2 == 1 {
                    documented.insert(key.to_owned());
                }
            }
        }
        let accepted = accepted_keys();
        assert!(
            accepted.contains("sandbox.caps.deadline-ms"),
            "{accepted:?}"
        );
        let missing: Vec<_> = accepted.difference(&documented).collect();
        let unknown: Vec<_> = documented.difference(&accepted).collect();
        assert!(
            missing.is_empty() && unknown.is_empty(),
            "keys accepted but not in docs/admin-guide.md's \"Every key\": {missing:?}; documented but not accepted: {unknown:?}"
        );
    }

    #[test]
    fn the_example_shows_every_key_but_the_optional_ones() {
        let text = include_str!("../../../examples/shopcase.toml");
        let index = KeyIndex::new(text);
        // Keys written or commented out (`# key = ...`) in the example.
        let shown = |key: &str| {
            let dotted = key.replace("[]", "[0]");
            let name = dotted.rsplit('.').next().unwrap_or(&dotted);
            index.entries.iter().any(|e| e.key == dotted)
                || text
                    .lines()
                    .any(|l| l.trim_start().starts_with(&format!("# {name} =")))
        };
        let optional = [
            // Alternatives to the source the example uses.
            "stores[].webhook-secret",
            "stores[].webhook-secret-file",
            "stores[].previous-webhook-secret",
            "stores[].previous-webhook-secret-file",
            "stores[].admin-token",
            "stores[].admin-token-file",
            // Deprecated.
            "sandbox.caps.deadline-ms",
            // Refused with a reason (the URL holds the password).
            "storage.url",
            // Refused with a reason (never in the file), and the
            // alternative to the source the example uses.
            "inbound[].secret",
            "inbound[].secret-file",
        ];
        let missing: Vec<_> = accepted_keys()
            .into_iter()
            .filter(|k| !optional.contains(&k.as_str()) && !shown(k))
            .collect();
        assert!(
            missing.is_empty(),
            "not in examples/shopcase.toml: {missing:?}"
        );
    }

    #[test]
    fn durations_are_written_as_humanduration_writes_them() {
        // The syntax itself is `shopcase_net::config::HumanDuration`'s
        // (tested there); these are its wrappers.
        let d = Duration::from_secs(49 * 3600);
        assert_eq!(format_duration(d), HumanDuration::from(d).to_string());
        assert_eq!(parse_duration(&format_duration(d)), Ok(d));
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
            env!("CARGO_PKG_NAME")
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
        // `[shopify]` and `[corecase]` of the example are checked by
        // their integrations' tests.
    }

    #[test]
    fn the_public_url_makes_the_webhook_address() {
        let c = parse("data-dir = \"d\"\n[server]\npublic-url = \"https://h.example.com/shop/\"")
            .unwrap();
        assert_eq!(
            c.server.webhook_url().as_deref(),
            Some("https://h.example.com/shop/webhooks/shopify")
        );
        let local =
            parse("data-dir = \"d\"\n[server]\npublic-url = \"http://127.0.0.1:8080\"").unwrap();
        assert_eq!(
            local.server.webhook_url().as_deref(),
            Some("http://127.0.0.1:8080/webhooks/shopify")
        );
        assert_eq!(
            parse("data-dir = \"d\"").unwrap().server.webhook_url(),
            None
        );
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(2 * 86_400)));
        assert!(parse_duration("1.5s").is_err());
        assert!(parse_duration("s").is_err());
    }
}
