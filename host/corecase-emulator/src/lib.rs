//! A Core Case tenant in memory, over real HTTP: what tests, demos and
//! partners develop against (`shopcase emulate corecase --listen ADDR`).
//!
//! It implements `spec/corecase-api.md` — the same contract the
//! [client](shopcase_corecase::client) speaks — with its rules enforced: validation
//! (400 with `{status, exception, message, path, timestamp}`), the case
//! lifecycle ([`shopcase_corecase::lifecycle`], 409 on illegal transitions),
//! `externalReference` unique per definition (409
//! `DuplicateExternalReference` with `existingCaseId`), `Idempotency-Key` on
//! every POST (same key and body within the window: the first answer is
//! replayed with `Idempotent-Replayed: true`; another body: 422
//! `IdempotencyKeyReused`), `If-Match` on `case-data` (412), history entries
//! for every change, and `lastUpdatedOn` moved by every change including
//! tasks, comments and attachments.
//!
//! Two liberties, both to make tests deterministic: `lastUpdatedOn` never
//! repeats (two changes in one millisecond are a millisecond apart), and
//! `slaBreached` is always `false` (no SLA clock).
//!
//! # Run it
//!
//! In process, on a free loopback port:
//!
//! ```no_run
//! # async fn demo() -> Result<(), shopcase_corecase_emulator::EmulatorError> {
//! use shopcase_corecase_emulator::{self as emulator, EmulatorConfig};
//! let handle = emulator::spawn(EmulatorConfig::default()).await?;
//! let client = shopcase_corecase::CoreCaseClient::new(handle.client_settings()).unwrap();
//! // … use `client`; inspect with `handle.emulator()` …
//! handle.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Or on a listener of your own with [`serve`] (the CLI does this).
//!
//! # Configuration ([`EmulatorConfig`], kebab-case, all optional)
//!
//! ```toml
//! tenant-id = "shopcase-dev"
//! client-id = "shopcase-dev"
//! client-secret = "shopcase-dev-secret"
//! # More clients, each acting under its own id (an analyst's tool):
//! other-clients = [{ client-id = "analyst-alice", client-secret = "…" }]
//! token-ttl-secs = 900
//! case-definitions = ["fraud-investigation", { name = "complaint", id = "7c0e…" }]
//! rate-limit = { requests-per-second = 20.0, burst = 40 }   # off when absent
//! max-attachment-bytes = 10485760
//! default-items-per-page = 25
//! max-items-per-page = 100
//! idempotency-window-secs = 86400
//! case-number-prefix = "CASE"
//! ```
//!
//! Definition ids are derived from the name ([`definition_id`]) unless
//! given, so a deployment config can name them before the emulator runs.
//!
//! # Endpoints
//!
//! The API, as in the spec: `POST /tenants/{tenant}/oauth2/token` (form +
//! HTTP Basic, form fields, or JSON body) and, with `Authorization: Bearer`,
//! everything under `/api/v1`. Bad or expired tokens get 401 with the
//! gateway's `{"fault":{…}}` body. The rate limit, when on, applies to
//! `/api/v1` only (429 with whole-second `Retry-After`). Unknown routes and
//! methods answer 404/405 in the service error shape; unknown body fields
//! and query parameters are 400s that name them, so a partner's typo
//! surfaces here rather than on a real tenant.
//!
//! Under `/_emulator/` (no authentication; never on a real tenant — bind
//! the emulator to loopback):
//!
//! | request | effect |
//! |---|---|
//! | `GET /_emulator` | this list, as JSON |
//! | `POST /_emulator/reset` | forget cases, idempotency records, faults and counts (tokens stay valid) |
//! | `POST /_emulator/expire-tokens` | every issued token now answers 401 (token expiry mid-run) |
//! | `POST /_emulator/faults` | inject a fault, body [`FaultSpec`]; answers `{id}` |
//! | `GET /_emulator/faults`, `DELETE /_emulator/faults` | list / clear pending faults |
//! | `GET /_emulator/requests`, `DELETE /_emulator/requests` | request counts per route / reset them |
//! | `GET /_emulator/cases`, `GET /_emulator/cases/{caseId}` | every case / one case with comments, attachments and history |
//! | `DELETE /_emulator/cases/{caseId}` | delete a case as a tenant administrator would (the API cannot): later requests about it answer 404 |
//! | `PUT /_emulator/rate-limit` | `{"requestsPerSecond": 5, "burst": 5}` or `null` (off) |
//!
//! A fault applies to the next `count` requests whose method and path match
//! (`*` or `{name}` matches one path segment, a final `**` any rest):
//!
//! ```json
//! {"method": "POST", "path": "/api/v1/case-definitions/*/cases", "count": 2,
//!  "fault": {"kind": "status", "status": 503, "retryAfter": 1}}
//! {"path": "/api/v1/**", "fault": {"kind": "slow", "delayMs": 500}}
//! {"method": "POST", "path": "/api/v1/case-definitions/*/cases/*/comments",
//!  "fault": {"kind": "reset"}, "afterApply": true}
//! ```
//!
//! - `status`: answer that status (with `Retry-After` when `retryAfter`
//!   seconds are given; fractions allowed, an emulator extension for fast
//!   tests) instead of handling the request;
//! - `slow`: handle the request, then wait `delayMs` before answering (a
//!   client that times out has had its request applied: the "lost answer");
//! - `reset`: close the connection without any HTTP answer;
//! - `afterApply: true` (for `status` and `reset`): handle the request
//!   first, then answer with the fault — the change is made, the answer lost.
//!
//! Request counts are keyed `"METHOD /route/{template}"`, e.g.
//! `"POST /api/v1/case-definitions/{defId}/cases"`, with the outcomes by
//! status (`"201"`, `"429"`, `"reset"`, or `"client-gone"` when the client
//! hung up first).
//!
//! # Layout
//! - `model`: the tenant's data and rules (synchronous, behind one lock).
//! - `api`: the `/api/v1` handlers: parsing, validation, idempotency.
//! - `auth`: the token endpoint, bearer checks, rate limiting.
//! - `control`: `/_emulator/`, fault injection and request counting.
//! - `server`: the accept loop that can drop a connection on purpose.
//! - `error`: the service error body.

mod api;
mod auth;
mod control;
mod error;
mod model;
mod server;

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use shopcase_net::Secret;
use uuid::Uuid;

pub use control::{Fault, FaultSpec, RouteCount};

use shopcase_corecase::ClientSettings;

/// The case types seeded when the configuration names none.
pub const DEFAULT_CASE_DEFINITIONS: &[&str] = &[
    "order-exception",
    "fraud-investigation",
    "return-request",
    "refund-dispute",
    "complaint",
    "refund-approval",
    "vip-escalation",
    "delivery-investigation",
    "high-value-order",
];

/// Errors of the emulator itself (not of requests to it).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The configuration is unusable (names the key).
    #[error("Core Case emulator configuration: {0}")]
    Config(String),
    /// A fault specification is unusable.
    #[error("fault specification: {0}")]
    Fault(String),
    /// Binding or serving failed.
    #[error("Core Case emulator I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// The emulator's configuration; every key is optional.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct EmulatorConfig {
    /// The one tenant it serves.
    pub tenant_id: String,
    /// The OAuth2 client it accepts.
    pub client_id: String,
    /// That client's secret.
    pub client_secret: Secret,
    /// More clients it accepts (another integration, an analyst's tool).
    /// Each acts under its own client id, which comments, attachments,
    /// tasks and the case history record as the author, so tests can tell
    /// the host's writes from an analyst's.
    pub other_clients: Vec<ClientSeed>,
    /// Token lifetime (`expires_in`), in seconds.
    pub token_ttl_secs: u64,
    /// The case definitions: names, or `{name, id, case-config-id}`.
    pub case_definitions: Vec<DefinitionSeed>,
    /// Answer 429 beyond this rate (off when `None`).
    pub rate_limit: Option<RateLimit>,
    /// Largest attachment, in bytes.
    pub max_attachment_bytes: usize,
    /// Page size when `items-per-page` is not given.
    pub default_items_per_page: u32,
    /// Largest `items-per-page` accepted.
    pub max_items_per_page: u32,
    /// How long an `Idempotency-Key` is remembered, in seconds.
    pub idempotency_window_secs: u64,
    /// `caseNumber` prefix: `CASE-000001`.
    pub case_number_prefix: String,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            tenant_id: "shopcase-dev".into(),
            client_id: "shopcase-dev".into(),
            client_secret: Secret::new("shopcase-dev-secret"),
            other_clients: Vec::new(),
            token_ttl_secs: 900,
            case_definitions: DEFAULT_CASE_DEFINITIONS
                .iter()
                .map(|n| DefinitionSeed::named(n))
                .collect(),
            rate_limit: None,
            max_attachment_bytes: 10 << 20,
            default_items_per_page: 25,
            max_items_per_page: 100,
            idempotency_window_secs: 24 * 3600,
            case_number_prefix: "CASE".into(),
        }
    }
}

/// A further OAuth2 client of the tenant.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ClientSeed {
    /// Its id: what the tenant records as the author of its writes.
    pub client_id: String,
    /// Its secret.
    pub client_secret: Secret,
}

impl ClientSeed {
    /// A client with this id and secret.
    pub fn new(client_id: &str, client_secret: &str) -> ClientSeed {
        ClientSeed {
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret),
        }
    }
}

/// A case definition to seed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "SeedForm")]
pub struct DefinitionSeed {
    /// Name, e.g. `fraud-investigation`.
    pub name: String,
    /// Id; [`definition_id`] of the name when `None`.
    pub id: Option<Uuid>,
    /// Case configuration id; [`case_config_id`] of the name when `None`.
    pub case_config_id: Option<Uuid>,
}

impl DefinitionSeed {
    /// A definition with derived ids.
    pub fn named(name: &str) -> DefinitionSeed {
        DefinitionSeed {
            name: name.into(),
            id: None,
            case_config_id: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SeedForm {
    Name(String),
    Full(SeedTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct SeedTable {
    name: String,
    #[serde(default)]
    id: Option<Uuid>,
    #[serde(default)]
    case_config_id: Option<Uuid>,
}

impl From<SeedForm> for DefinitionSeed {
    fn from(f: SeedForm) -> Self {
        match f {
            SeedForm::Name(name) => DefinitionSeed {
                name,
                id: None,
                case_config_id: None,
            },
            SeedForm::Full(t) => DefinitionSeed {
                name: t.name,
                id: t.id,
                case_config_id: t.case_config_id,
            },
        }
    }
}

/// Token-bucket rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RateLimit {
    /// Sustained requests per second.
    pub requests_per_second: f64,
    /// Requests allowed in a burst.
    pub burst: u32,
}

/// The id the emulator gives definition `name` unless configured: a UUID
/// (version 8) from SHA-256 of the name, stable across runs and machines.
pub fn definition_id(name: &str) -> Uuid {
    derived_uuid("case-definition", name)
}

/// The `caseConfigId` the emulator gives definition `name` unless configured.
pub fn case_config_id(name: &str) -> Uuid {
    derived_uuid("case-config", name)
}

fn derived_uuid(kind: &str, name: &str) -> Uuid {
    let digest = Sha256::digest(format!("shopcase-corecase-emulator:{kind}:{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

impl EmulatorConfig {
    /// Check the configuration; the error names the key.
    pub fn validate(&self) -> Result<(), EmulatorError> {
        let bad = |m: String| Err(EmulatorError::Config(m));
        for (key, v) in [
            ("tenant-id", &self.tenant_id),
            ("client-id", &self.client_id),
            ("case-number-prefix", &self.case_number_prefix),
        ] {
            if v.trim().is_empty() {
                return bad(format!("`{key}` is empty"));
            }
        }
        if self.client_secret.is_empty() {
            return bad("`client-secret` is empty".into());
        }
        let mut clients = std::collections::HashSet::from([self.client_id.as_str()]);
        for c in &self.other_clients {
            if c.client_id.trim().is_empty() || c.client_secret.is_empty() {
                return bad("`other-clients`: a client has an empty id or secret".into());
            }
            if !clients.insert(c.client_id.as_str()) {
                return bad(format!(
                    "`other-clients`: `{}` is listed twice",
                    c.client_id
                ));
            }
        }
        if self.token_ttl_secs == 0 {
            return bad("`token-ttl-secs` must be at least 1".into());
        }
        if self.max_items_per_page == 0
            || self.default_items_per_page == 0
            || self.default_items_per_page > self.max_items_per_page
        {
            return bad(
                "`default-items-per-page` must be between 1 and `max-items-per-page`".into(),
            );
        }
        if self.max_attachment_bytes == 0 {
            return bad("`max-attachment-bytes` must be more than 0".into());
        }
        if let Some(r) = self.rate_limit
            && (!r.requests_per_second.is_finite() || r.requests_per_second <= 0.0 || r.burst == 0)
        {
            return bad("`rate-limit` needs `requests-per-second` > 0 and `burst` >= 1".into());
        }
        let mut names = std::collections::HashSet::new();
        let mut ids = std::collections::HashSet::new();
        for d in &self.case_definitions {
            if d.name.trim().is_empty() {
                return bad("`case-definitions`: a definition has an empty name".into());
            }
            if !names.insert(d.name.as_str()) {
                return bad(format!("`case-definitions`: `{}` is listed twice", d.name));
            }
            if !ids.insert(d.id.unwrap_or_else(|| definition_id(&d.name))) {
                return bad(format!(
                    "`case-definitions`: the id of `{}` is used twice",
                    d.name
                ));
            }
        }
        Ok(())
    }
}

/// A running tenant's state. Shared by the server and by tests that inspect
/// or steer it in process (the same things `/_emulator/` offers over HTTP).
#[derive(Debug)]
pub struct Emulator {
    config: EmulatorConfig,
    model: Mutex<model::Model>,
    control: Mutex<control::Control>,
    auth: Mutex<auth::Tokens>,
}

/// Lock, surviving a poisoned lock: every critical section leaves the data
/// consistent, and a panicking request must not take the emulator down.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Emulator {
    /// A fresh tenant.
    pub fn new(config: EmulatorConfig) -> Result<Arc<Emulator>, EmulatorError> {
        config.validate()?;
        Ok(Arc::new(Emulator {
            model: Mutex::new(model::Model::new(&config)),
            control: Mutex::new(control::Control::new(config.rate_limit)),
            auth: Mutex::new(auth::Tokens::default()),
            config,
        }))
    }

    /// Its configuration.
    pub fn config(&self) -> &EmulatorConfig {
        &self.config
    }

    /// Forget all cases, idempotency records, faults and request counts.
    /// Issued tokens stay valid.
    pub fn reset(&self) {
        *lock(&self.model) = model::Model::new(&self.config);
        lock(&self.control).reset();
    }

    /// Make every issued token answer 401 from now on.
    pub fn expire_tokens(&self) {
        lock(&self.auth).expire_all();
    }

    /// Tokens issued so far.
    pub fn tokens_issued(&self) -> u64 {
        lock(&self.auth).issued()
    }

    /// Queue a fault; returns its id.
    pub fn inject_fault(&self, spec: FaultSpec) -> Result<u64, EmulatorError> {
        lock(&self.control)
            .add_fault(spec)
            .map_err(EmulatorError::Fault)
    }

    /// Drop every pending fault.
    pub fn clear_faults(&self) {
        lock(&self.control).clear_faults();
    }

    /// Turn rate limiting on or off.
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        lock(&self.control).set_rate_limit(limit);
    }

    /// Requests per route (`"POST /api/v1/case-definitions/{defId}/cases"`).
    pub fn request_counts(&self) -> BTreeMap<String, RouteCount> {
        lock(&self.control).counts().clone()
    }

    /// Requests to one route, e.g. `request_count("POST",
    /// "/api/v1/case-definitions/{defId}/cases")`.
    pub fn request_count(&self, method: &str, route: &str) -> u64 {
        lock(&self.control)
            .counts()
            .get(&format!("{method} {route}"))
            .map_or(0, |c| c.total)
    }

    /// `(name, id)` of each case definition.
    pub fn definitions(&self) -> Vec<(String, String)> {
        lock(&self.model)
            .definitions()
            .map(|d| (d.name.clone(), d.id.clone()))
            .collect()
    }

    /// Every case, as the API renders it (plus `definitionName`).
    pub fn cases(&self) -> Vec<serde_json::Value> {
        lock(&self.model).inspect_all()
    }

    /// One case with its comments, attachments and history.
    pub fn case(&self, case_id: &str) -> Option<serde_json::Value> {
        lock(&self.model).inspect(case_id)
    }

    /// Delete a case, as a tenant administrator can in Core Case's UI (the
    /// REST API has no such operation): every later request about it
    /// answers 404. Returns whether it existed.
    pub fn delete_case(&self, case_id: &str) -> bool {
        lock(&self.model).remove_case(case_id)
    }
}

/// The emulator's routes: the API, the token endpoint and `/_emulator/`.
///
/// Served by anything axum serves with, except that a `reset` fault then
/// becomes a 500 (only [`serve`] can drop a connection).
pub fn router(emulator: Arc<Emulator>) -> Router {
    control::router(emulator)
}

/// Serve a new emulator on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: EmulatorConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), EmulatorError> {
    serve_emulator(listener, Emulator::new(config)?, shutdown).await
}

/// Serve `emulator` on `listener` until `shutdown` completes.
pub async fn serve_emulator(
    listener: tokio::net::TcpListener,
    emulator: Arc<Emulator>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), EmulatorError> {
    server::run(listener, router(emulator), shutdown).await;
    Ok(())
}

/// Start an emulator on `127.0.0.1` and a free port, in the background.
pub async fn spawn(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
    let emulator = Emulator::new(config)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let base = url::Url::parse(&format!("http://{addr}/"))
        .map_err(|e| EmulatorError::Config(format!("no URL for {addr}: {e}")))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = router(emulator.clone());
    let task = tokio::spawn(server::run(listener, app, async move {
        // A dropped handle stops the server too.
        let _ = stopped.await;
    }));
    tracing::info!(%addr, "Core Case emulator listening");
    Ok(EmulatorHandle {
        addr,
        base,
        emulator,
        stop: Some(stop),
        task: Some(task),
    })
}

/// A running emulator (from [`spawn`]); dropping it stops the server.
#[derive(Debug)]
pub struct EmulatorHandle {
    addr: SocketAddr,
    base: url::Url,
    emulator: Arc<Emulator>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl EmulatorHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`: both `api-base` and `auth-base`.
    pub fn base_url(&self) -> url::Url {
        self.base.clone()
    }

    /// The state, to inspect or steer in process.
    pub fn emulator(&self) -> &Arc<Emulator> {
        &self.emulator
    }

    /// Client settings that reach this emulator with its credentials.
    pub fn client_settings(&self) -> ClientSettings {
        let c = self.emulator.config();
        ClientSettings::new(
            self.base_url(),
            self.base_url(),
            &c.tenant_id,
            &c.client_id,
            c.client_secret.clone(),
        )
    }

    /// Client settings that reach this emulator as `client_id`, one of
    /// its `other-clients` (`None` for an id it does not know).
    pub fn client_settings_as(&self, client_id: &str) -> Option<ClientSettings> {
        let c = self.emulator.config();
        let other = c.other_clients.iter().find(|o| o.client_id == client_id)?;
        Some(ClientSettings::new(
            self.base_url(),
            self.base_url(),
            &c.tenant_id,
            &other.client_id,
            other.client_secret.clone(),
        ))
    }

    /// Stop accepting, let in-flight requests finish (briefly), and wait.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definition_ids_are_stable_and_distinct() {
        assert_eq!(definition_id("complaint"), definition_id("complaint"));
        assert_ne!(
            definition_id("complaint"),
            definition_id("fraud-investigation")
        );
        assert_ne!(definition_id("complaint"), case_config_id("complaint"));
        assert_eq!(definition_id("complaint").get_version_num(), 8);
    }

    #[test]
    fn config_forms_and_errors() {
        let c: EmulatorConfig = serde_json::from_str(
            r#"{"case-definitions":["a",{"name":"b","id":"6f1c1f3e-0000-4000-8000-000000000001"}],"token-ttl-secs":5}"#,
        )
        .unwrap();
        assert_eq!(c.case_definitions[0], DefinitionSeed::named("a"));
        assert_eq!(
            c.case_definitions[1].id.unwrap().to_string(),
            "6f1c1f3e-0000-4000-8000-000000000001"
        );
        assert_eq!(c.tenant_id, "shopcase-dev");
        c.validate().unwrap();
        let err = serde_json::from_str::<EmulatorConfig>(r#"{"token-ttl":5}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `token-ttl`"), "{err}");
        let dup = EmulatorConfig {
            case_definitions: vec![DefinitionSeed::named("a"), DefinitionSeed::named("a")],
            ..Default::default()
        };
        assert!(
            dup.validate()
                .unwrap_err()
                .to_string()
                .contains("`a` is listed twice")
        );
        let ttl = EmulatorConfig {
            token_ttl_secs: 0,
            ..Default::default()
        };
        assert!(
            ttl.validate()
                .unwrap_err()
                .to_string()
                .contains("token-ttl-secs")
        );
        let twice = EmulatorConfig {
            other_clients: vec![ClientSeed::new("shopcase-dev", "x")],
            ..Default::default()
        };
        assert!(
            twice
                .validate()
                .unwrap_err()
                .to_string()
                .contains("`shopcase-dev` is listed twice")
        );
    }

    #[test]
    fn secrets_do_not_print() {
        let c = EmulatorConfig::default();
        assert!(!format!("{c:?}").contains("shopcase-dev-secret"));
    }
}
