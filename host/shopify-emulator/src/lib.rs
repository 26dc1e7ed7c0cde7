//! A Shopify Admin GraphQL emulator: a real HTTP server (axum) that serves
//! exactly the operations this crate's client sends, so the client, its
//! pacing, retries and idempotency are exercised for real in tests, demos
//! and partners' local work.
//!
//! # Endpoints
//! - `POST /admin/api/{version}/graphql.json`: GraphQL. The access token in
//!   `X-Shopify-Access-Token` selects the store (tokens are per store; a
//!   missing or unknown one is a 401). The document is read by its root
//!   field (`query`/`mutation`, one root field); inputs come from
//!   `variables`, checked against the document's variable definitions.
//!   Served: queries `order`, `customer`, `return`; mutations `tagsAdd`,
//!   `tagsRemove`, `orderUpdate`, `customerUpdate`, `metafieldsSet`,
//!   `fulfillmentOrderHold`, `fulfillmentOrderReleaseHold`, `orderCancel`,
//!   `returnApproveRequest`, `returnDeclineRequest`, `refundCreate`,
//!   `storeCreditAccountCredit`, `orderRiskAssessmentCreate` (an app's risk
//!   assessment, provider title `shopcase`, beside Shopify's own seeded
//!   ones; an order's `risk.recommendation` is derived from its assessments
//!   unless seeded, see [`model::Risk`]); webhook subscriptions and access
//!   scopes (`webhookSubscriptions`, `webhookSubscriptionCreate`, `…Update`,
//!   `…Delete`, `currentAppInstallation`: [`subscriptions`]).
//! - `POST /_emulator/reset`: back to the configured seed; clears the
//!   mutation log, buckets, faults and counters.
//! - `POST /_emulator/seed`: add or replace stores from a [`Seed`] document.
//! - `GET /_emulator/mutations[?shop=&operation=]`: the applied mutations
//!   (operation, target gid, variables, time), oldest first.
//! - `GET /_emulator/shops/{shop}/orders/{id}` (`customers/{id}`,
//!   `returns/{id}`): an object's current state.
//! - `POST /_emulator/faults` `{"kind": "...", "count": N, "operation":
//!   "refundCreate", "delay_ms": 200, "retry_after_ms": 50}`; `GET` lists,
//!   `DELETE` clears. Kinds: `error-500`, `status-429`, `throttled`,
//!   `reset` (connection dropped, nothing applied), `reset-after-apply`
//!   (applied, then the connection drops before the answer), `slow`,
//!   `deprecated` (a normal answer with `X-Shopify-API-Deprecated-Reason`).
//! - `GET /_emulator/stats`: request, throttled and fault counters.
//! - `GET|POST /_emulator/shops/{shop}/webhook-subscriptions`,
//!   `GET|PUT|DELETE /_emulator/shops/{shop}/access-scopes`: see
//!   [`subscriptions`].
//!
//! # Behaviour worth knowing
//! - Cost: a leaky bucket per (store, token), [`BucketConfig`]; the requested
//!   cost is a simplified version of Shopify's (mutation 10; query 1 + the
//!   `first:` of every connection). Over budget: `THROTTLED`, with HTTP 200
//!   or 429 ([`ThrottleAnswer`]). Every answer carries `extensions.cost`.
//! - `refundCreate` honours `@idempotent(key:)` (same key, same input: the
//!   first answer again, nothing applied; different input: a
//!   `IDEMPOTENCY_KEY_PARAMETER_MISMATCH` user error) and, from API version
//!   2026-04 on, requires it, as Shopify does.
//! - Invalid transitions answer `userErrors`: cancelling a cancelled order,
//!   releasing an unknown hold, refunding more than was paid, approving a
//!   declined return, crediting zero...
//! - The `/_emulator/` endpoints have no authentication: bind the emulator
//!   to loopback.
//!
//! # Layout
//! - [`model`]: seed documents and state.
//! - `graphql_api`: the GraphQL endpoint: auth, faults, cost, variable
//!   checks, dispatch.
//! - `queries`, `mutations`: the operations.
//! - `admin`: the `/_emulator/` endpoints.
//! - [`subscriptions`]: webhook subscriptions and access scopes, with
//!   their control endpoints.

mod admin;
mod graphql_api;
pub mod model;
mod mutations;
mod queries;
pub mod subscriptions;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::net::TcpListener;
use url::Url;

pub use model::Seed;
use model::Shop;

/// The emulated cost bucket, per (store, token).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketConfig {
    /// Bucket size in cost points (Shopify: 1000 on standard plans... up to 20000).
    pub maximum_available: f64,
    /// Points restored per second (Shopify: 100 / 200 / 1000 / 2000 by plan).
    pub restore_rate: f64,
}

impl Default for BucketConfig {
    fn default() -> Self {
        BucketConfig {
            maximum_available: 1000.0,
            restore_rate: 100.0,
        }
    }
}

/// The HTTP status of a THROTTLED answer (Shopify's sources disagree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThrottleAnswer {
    /// `200 OK` with `errors[].extensions.code = THROTTLED`.
    #[default]
    Ok,
    /// `429 Too Many Requests` with the same body and `Retry-After: 1`.
    TooManyRequests,
}

/// Emulator settings.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// The cost bucket.
    pub bucket: BucketConfig,
    /// How THROTTLED is answered.
    pub throttle_answer: ThrottleAnswer,
    /// What the emulator starts with and resets to.
    pub seed: Seed,
}

impl Default for EmulatorConfig {
    /// The demo seed, Shopify's standard bucket, THROTTLED with 200.
    fn default() -> Self {
        EmulatorConfig {
            bucket: BucketConfig::default(),
            throttle_answer: ThrottleAnswer::Ok,
            seed: Seed::demo(),
        }
    }
}

/// A fault to inject into the next matching GraphQL requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// How many requests it hits.
    #[serde(default = "one")]
    pub count: u32,
    /// Only requests whose root field is this (e.g. `refundCreate`).
    #[serde(default)]
    pub operation: Option<String>,
    /// Only requests to this store.
    #[serde(default)]
    pub shop: Option<String>,
    /// For `slow`: the delay.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// For `status-429`: the `Retry-After` sent (default 1000).
    #[serde(default)]
    pub retry_after_ms: Option<u64>,
}

fn one() -> u32 {
    1
}

/// The kinds of [`Fault`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// HTTP 500.
    #[serde(rename = "error-500")]
    Error500,
    /// HTTP 429 with `Retry-After`, nothing applied.
    #[serde(rename = "status-429")]
    Status429,
    /// A THROTTLED answer, nothing applied.
    Throttled,
    /// The connection drops before the answer; nothing applied.
    Reset,
    /// The request is applied, then the connection drops before the answer.
    ResetAfterApply,
    /// The answer is delayed by `delay_ms`.
    Slow,
    /// The answer is normal and carries `X-Shopify-API-Deprecated-Reason`
    /// (as Shopify's does for a request using something deprecated).
    Deprecated,
}

/// The `X-Shopify-API-Deprecated-Reason` the `deprecated` fault sends (a
/// link, as Shopify's).
pub const DEPRECATED_REASON: &str =
    "https://shopify.dev/docs/api/usage/versioning#deprecation-practices";

/// One applied mutation, as listed by `/_emulator/mutations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MutationRecord {
    /// Position in the log, from 1.
    pub seq: u64,
    /// The store.
    pub shop: String,
    /// The root field, e.g. `fulfillmentOrderHold`.
    pub operation: String,
    /// The gid acted on.
    pub target: String,
    /// The request's variables.
    pub variables: Value,
    /// When (RFC 3339).
    pub at: String,
}

/// Counters, as listed by `/_emulator/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// GraphQL requests received.
    pub requests: u64,
    /// GraphQL requests whose handling has ended: answered, or cut off
    /// when the client went away. Equal to `requests` when none is in
    /// flight (a slow answer still running, say).
    #[serde(default)]
    pub ended: u64,
    /// Answered 401.
    pub unauthorized: u64,
    /// Answered THROTTLED because the bucket was empty (not injected).
    pub throttled: u64,
    /// Faults injected.
    pub faults: u64,
    /// Requests per root field.
    pub by_operation: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug)]
struct LiveBucket {
    available: f64,
    at: Instant,
}

#[derive(Debug)]
struct State {
    shops: HashMap<String, Shop>,
    buckets: HashMap<(String, String), LiveBucket>,
    faults: Vec<Fault>,
    mutations: Vec<MutationRecord>,
    stats: Stats,
    /// `@idempotent` keys per store: the input and the first answer.
    idempotency: HashMap<(String, String), (Value, Value)>,
    /// Webhook subscriptions and granted scopes per store.
    webhooks: subscriptions::Webhooks,
    next_id: u64,
}

impl State {
    fn empty() -> State {
        State {
            shops: HashMap::new(),
            buckets: HashMap::new(),
            faults: Vec::new(),
            mutations: Vec::new(),
            stats: Stats::default(),
            idempotency: HashMap::new(),
            webhooks: subscriptions::Webhooks::default(),
            next_id: 900_000_000_000,
        }
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn shop_for_token(&self, token: &str) -> Option<&str> {
        self.shops
            .values()
            .find(|s| s.tokens.iter().any(|t| t == token))
            .map(|s| s.domain.as_str())
    }

    fn load(&mut self, seed: Seed) -> Result<Vec<String>, String> {
        model::check_seed(&seed)?;
        let mut loaded = Vec::new();
        let now = now();
        for s in seed.shops {
            // A token may only open one store.
            for t in &s.tokens {
                if let Some(other) = self.shop_for_token(t).filter(|d| *d != s.domain) {
                    return Err(format!(
                        "a token of shop `{}` already opens shop `{other}`",
                        s.domain
                    ));
                }
            }
            let mut next = || self.next_id();
            let shop = model::build_shop(s, &now, &mut next);
            loaded.push(shop.domain.clone());
            self.shops.insert(shop.domain.clone(), shop);
        }
        Ok(loaded)
    }
}

fn now() -> String {
    shopcase_contract::time::format(jiff::Timestamp::now())
}

#[derive(Debug)]
struct Inner {
    config: EmulatorConfig,
    state: Mutex<State>,
}

/// A handle on a running emulator's state; cheap to clone. The HTTP
/// endpoints and these methods see the same data.
#[derive(Debug, Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

impl Emulator {
    /// An emulator loaded with `config.seed`.
    pub fn new(config: EmulatorConfig) -> Result<Emulator, String> {
        let mut state = State::empty();
        state.load(config.seed.clone())?;
        Ok(Emulator {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(state),
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Back to the configured seed, with an empty log, full buckets, no
    /// faults and zero counters.
    pub fn reset(&self) {
        let mut fresh = State::empty();
        // The configured seed was loaded once already, so it loads again.
        if let Err(e) = fresh.load(self.inner.config.seed.clone()) {
            tracing::error!(error = %e, "emulator seed no longer loads");
        }
        *self.state() = fresh;
    }

    /// Add or replace stores; returns their domains.
    pub fn seed(&self, seed: Seed) -> Result<Vec<String>, String> {
        self.state().load(seed)
    }

    /// The applied mutations, oldest first, optionally of one store and
    /// one operation.
    pub fn mutations(&self, shop: Option<&str>, operation: Option<&str>) -> Vec<MutationRecord> {
        self.state()
            .mutations
            .iter()
            .filter(|m| {
                shop.is_none_or(|s| m.shop == s) && operation.is_none_or(|o| m.operation == o)
            })
            .cloned()
            .collect()
    }

    /// Queue a fault.
    pub fn inject(&self, fault: Fault) {
        self.state().faults.push(fault);
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.state().stats.clone()
    }

    /// An order's current state.
    pub fn order(&self, shop: &str, id: u64) -> Option<model::Order> {
        self.state().shops.get(shop)?.orders.get(&id).cloned()
    }

    /// A customer's current state.
    pub fn customer(&self, shop: &str, id: u64) -> Option<model::Customer> {
        self.state().shops.get(shop)?.customers.get(&id).cloned()
    }

    /// A return's current state.
    pub fn return_(&self, shop: &str, id: u64) -> Option<model::Return> {
        self.state().shops.get(shop)?.returns.get(&id).cloned()
    }
}

/// The emulator's routes, for `oneshot` tests or mounting elsewhere.
pub fn router(emulator: Emulator) -> Router {
    Router::new()
        .route(
            "/admin/api/{version}/graphql.json",
            post(graphql_api::graphql),
        )
        .route("/_emulator/reset", post(admin::reset))
        .route("/_emulator/seed", post(admin::seed))
        .route("/_emulator/mutations", get(admin::mutations))
        .route(
            "/_emulator/faults",
            post(admin::add_fault)
                .get(admin::list_faults)
                .delete(admin::clear_faults),
        )
        .route("/_emulator/stats", get(admin::stats))
        .route("/_emulator/shops/{shop}/orders/{id}", get(admin::order))
        .route(
            "/_emulator/shops/{shop}/customers/{id}",
            get(admin::customer),
        )
        .route("/_emulator/shops/{shop}/returns/{id}", get(admin::return_))
        .route(
            "/_emulator/shops/{shop}/webhook-subscriptions",
            get(subscriptions::get_subscriptions).post(subscriptions::add_subscription),
        )
        .route(
            "/_emulator/shops/{shop}/access-scopes",
            get(subscriptions::get_scopes)
                .put(subscriptions::put_scopes)
                .delete(subscriptions::reset_scopes),
        )
        .with_state(emulator)
}

/// Serve on `listener` until `shutdown` resolves (`shopcase emulate shopify
/// --listen ADDR` runs this).
pub async fn serve(
    listener: TcpListener,
    emulator: Emulator,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(emulator))
        .with_graceful_shutdown(shutdown)
        .await
}

/// An emulator serving on a loopback port of its own.
#[derive(Debug)]
pub struct RunningEmulator {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state.
    pub emulator: Emulator,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT/`, the base URL to give a [`shopcase_shopify::ShopConfig`].
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.addr)).expect("a socket address always makes a URL")
    }

    /// Stop serving and wait for the server to finish.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.map_err(std::io::Error::other)?
    }
}

/// Start an emulator on `127.0.0.1:0` (tests, the demo).
pub async fn spawn(config: EmulatorConfig) -> std::io::Result<RunningEmulator> {
    let emulator = Emulator::new(config).map_err(std::io::Error::other)?;
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, emulator.clone(), async {
        let _ = stopped.await;
    }));
    Ok(RunningEmulator {
        addr,
        emulator,
        stop: Some(stop),
        task,
    })
}
