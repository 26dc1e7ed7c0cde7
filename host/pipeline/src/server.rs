//! Wiring: the shared state, the HTTP router (ingress and operations
//! endpoints), the background loops, and graceful shutdown.
//!
//! ```no_run
//! # async fn demo(config: shopcase_pipeline::Config) -> Result<(), Box<dyn std::error::Error>> {
//! use shopcase_pipeline::PipelineBuilder;
//! let pipeline = PipelineBuilder::new(config).build().await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let running = pipeline.spawn(listener);
//! println!("webhooks: {}", running.webhook_url());
//! running.shutdown().await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use shopcase_contract::time::Timestamp;
use shopcase_sandbox::{LoadError, Runtime, RuntimeConfig};
use shopcase_store::{ActionFamily, Storage, StoreError, Work};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::config::Config;
use crate::dispatcher::Dispatcher;
use crate::dispatcher::registry::PluginRegistry;
use crate::dispatcher::services::{
    CustomerHistorySource, NoCustomerHistory, NoOrderSource, OrderSource,
};
use crate::executor::Executor;
use crate::executor::follow_up::FollowUpExecutor;
use crate::fault::Faults;
use crate::metrics::Metrics;
use crate::shops::Shops;
pub use shopcase_host_api::{BackgroundTask, EventProducer};

/// Why the pipeline could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The storage could not be opened.
    #[error(transparent)]
    Storage(#[from] StoreError),
    /// The sandbox could not start.
    #[error("cannot start the plugin sandbox: {0}")]
    Sandbox(#[from] LoadError),
    /// Serving failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The error.
        source: std::io::Error,
    },
}

/// The component cache's key, in the data directory (see
/// `shopcase_sandbox::cache`).
pub const CACHE_KEY_FILE: &str = "cache.key";

/// What every part of the pipeline shares.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) config: Config,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) shops: Shops,
    pub(crate) metrics: Arc<Metrics>,
    /// New events in the inbox.
    pub(crate) wake: Arc<Notify>,
    /// New entries in the journal.
    pub(crate) journal_wake: Arc<Notify>,
    pub(crate) faults: Faults,
    /// Per (store, service): whether to call Shopify or Core Case now.
    pub(crate) breakers: Arc<crate::breaker::Breakers>,
    /// The case system's part of privacy requests (`None`: no
    /// `[corecase]`; a redaction then records that nothing was done there).
    pub(crate) erasure: Option<Arc<dyn shopcase_host_api::Erasure>>,
    /// Set when shutdown starts: `/readyz` answers 503.
    pub(crate) draining: AtomicBool,
    /// Unique per process run; worker names start with it.
    pub(crate) instance: String,
    /// Held while a suspect runs — an event or a journal entry whose
    /// earlier holder died with it — so one suspect at a time runs in the
    /// whole process, across dispatcher workers and executors: if the
    /// process dies again, only the suspect that ran is charged with it.
    pub(crate) suspect_gate: Arc<tokio::sync::Semaphore>,
    /// The singleton roles this replica contends for and holds
    /// (`crate::replicas`).
    pub(crate) roles: crate::replicas::Roles,
}

impl Core {
    /// Events were committed to the inbox: wake this process's dispatcher
    /// workers, and announce them to the other replicas.
    pub(crate) fn events_added(&self) {
        self.wake.notify_waiters();
        self.storage.announce(Work::Inbox);
    }

    /// Entries were committed to the journal: wake this process's
    /// executors, and announce them to the other replicas.
    pub(crate) fn journal_added(&self) {
        self.journal_wake.notify_waiters();
        self.storage.announce(Work::Journal);
    }
}

pub(crate) use shopcase_host_api::idle;

/// Sleep for `d`, or until `woken` or shutdown: the wait of a claim loop
/// whose claim found nothing. `woken` was enabled before the claim, so a
/// wake-up sent while the claim ran (work committed after the claim's
/// snapshot, from this process or, through the storage's wake-ups,
/// another) ends the wait at once instead of being lost.
pub(crate) async fn idle_until(
    shutdown: &mut watch::Receiver<bool>,
    d: Duration,
    woken: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
) {
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = woken => {}
        _ = shutdown.changed() => {}
    }
}

/// Open the configuration's storage (`[storage]`: `<data-dir>/shopcase.db`,
/// or the PostgreSQL database), applying migrations. Use it to share one
/// storage between the pipeline ([`PipelineBuilder::storage`]) and
/// executors that need it (case links).
pub async fn open_storage(config: &Config) -> Result<Arc<dyn Storage>, PipelineError> {
    Ok(config.storage.open(&config.data_dir).await?)
}

impl shopcase_host_api::HostBuilder for PipelineBuilder {
    fn storage(self, storage: Arc<dyn Storage>) -> Self {
        PipelineBuilder::storage(self, storage)
    }

    fn executor(self, executor: Arc<dyn Executor>) -> Self {
        PipelineBuilder::executor(self, executor)
    }

    fn background(self, task: Arc<dyn BackgroundTask>) -> Self {
        PipelineBuilder::background(self, task)
    }

    fn customer_history(self, source: Arc<dyn CustomerHistorySource>) -> Self {
        PipelineBuilder::customer_history(self, source)
    }

    fn orders(self, source: Arc<dyn OrderSource>) -> Self {
        PipelineBuilder::orders(self, source)
    }

    fn erasure(self, erasure: Arc<dyn shopcase_host_api::Erasure>) -> Self {
        PipelineBuilder::erasure(self, erasure)
    }
}

/// Builds a [`Pipeline`].
#[derive(Debug)]
pub struct PipelineBuilder {
    config: Config,
    storage: Option<Arc<dyn Storage>>,
    runtime: Option<Runtime>,
    executors: Vec<Arc<dyn Executor>>,
    history: Arc<dyn CustomerHistorySource>,
    orders: Arc<dyn OrderSource>,
    erasure: Option<Arc<dyn shopcase_host_api::Erasure>>,
    faults: Faults,
    routes: Vec<Router>,
    background: Vec<Arc<dyn BackgroundTask>>,
    breakers: Option<Arc<crate::breaker::Breakers>>,
}

impl PipelineBuilder {
    /// From a configuration.
    pub fn new(config: Config) -> PipelineBuilder {
        PipelineBuilder {
            config,
            storage: None,
            runtime: None,
            executors: Vec::new(),
            history: Arc::new(NoCustomerHistory),
            orders: Arc::new(NoOrderSource),
            erasure: None,
            faults: Faults::none(),
            routes: Vec::new(),
            background: Vec::new(),
            breakers: None,
        }
    }

    /// Use these circuit breakers (one per process; their policy should be
    /// `executor.breaker` of this configuration) instead of creating them,
    /// so that others can report them: the admin API shows each store's
    /// (`shopcase_admin::AdminState::with_breakers`).
    pub fn breakers(mut self, breakers: Arc<crate::breaker::Breakers>) -> PipelineBuilder {
        self.breakers = Some(breakers);
        self
    }

    /// Serve these routes beside the pipeline's own, on the same listener
    /// (the admin API: `shopcase_admin::router`). They must not set a
    /// fallback: the pipeline's JSON 404 answers unknown paths.
    pub fn routes(mut self, router: Router) -> PipelineBuilder {
        self.routes.push(router);
        self
    }

    /// Use this storage instead of opening `<data-dir>/shopcase.db`.
    pub fn storage(mut self, storage: Arc<dyn Storage>) -> PipelineBuilder {
        self.storage = Some(storage);
        self
    }

    /// Use this sandbox runtime (one per process) instead of creating one.
    pub fn runtime(mut self, runtime: Runtime) -> PipelineBuilder {
        self.runtime = Some(runtime);
        self
    }

    /// Execute journalled actions of `executor.family()` with it. The
    /// follow-up executor is built in; registering another replaces it.
    pub fn executor(mut self, executor: Arc<dyn Executor>) -> PipelineBuilder {
        self.executors.retain(|e| e.family() != executor.family());
        self.executors.push(executor);
        self
    }

    /// Run `task` beside the other loops while the pipeline runs (see
    /// [`BackgroundTask`]).
    pub fn background(mut self, task: Arc<dyn BackgroundTask>) -> PipelineBuilder {
        self.background.push(task);
        self
    }

    /// Where the `order` and `order-risk` host functions get their data.
    pub fn orders(mut self, source: Arc<dyn OrderSource>) -> PipelineBuilder {
        self.orders = source;
        self
    }

    /// Where the `customer-history` host function gets its data.
    pub fn customer_history(mut self, source: Arc<dyn CustomerHistorySource>) -> PipelineBuilder {
        self.history = source;
        self
    }

    /// What privacy requests erase in the case system through
    /// (`shopcase_corecase_integration::CoreCase::register` sets Core Case's).
    pub fn erasure(mut self, erasure: Arc<dyn shopcase_host_api::Erasure>) -> PipelineBuilder {
        self.erasure = Some(erasure);
        self
    }

    /// Arm the test-only fault point named by `SHOPCASE_TEST_FAULT`
    /// (see [`crate::fault`]).
    pub fn faults_from_env(mut self) -> PipelineBuilder {
        self.faults = Faults::from_env();
        self
    }

    /// Open the storage (applying migrations), record the configured
    /// stores and the approvals missing from installations written before
    /// approvals were recorded, and start the sandbox.
    pub async fn build(self) -> Result<Pipeline, PipelineError> {
        let config = self.config;
        let storage: Arc<dyn Storage> = match self.storage {
            Some(s) => s,
            None => open_storage(&config).await?,
        };
        storage
            .sync_stores(
                config
                    .stores
                    .iter()
                    .map(|s| (s.domain.clone(), s.api_version.clone()))
                    .collect(),
                Timestamp::now(),
            )
            .await?;
        // Installations from before approvals were recorded (storage
        // migration 7) take the plugin on disk now as approved, before any
        // event runs; see `registry::record_missing_approvals`.
        match crate::dispatcher::registry::record_missing_approvals(&*storage, &config.plugins_dir)
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                installations = n,
                "recorded approvals for installations from before approvals"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "cannot record approvals for installations from before approvals; their runs are refused until approved")
            }
        }
        let runtime = match self.runtime {
            Some(r) => r,
            None => Runtime::new(RuntimeConfig {
                cache_dir: Some(config.sandbox.cache_dir.clone()),
                // The key that vouches for cached native code lives in the
                // data directory, not in the cache directory it guards.
                cache_key: Some(
                    shopcase_sandbox::CacheKey::load_or_create(
                        &config.data_dir.join(CACHE_KEY_FILE),
                    )
                    .map_err(|source| PipelineError::Io {
                        what: "cannot read or create the component cache key",
                        source,
                    })?,
                ),
                caps: config.sandbox.caps,
                max_concurrent: config.sandbox.max_concurrent,
                ..RuntimeConfig::default()
            })?,
        };
        let mut executors = self.executors;
        if !executors
            .iter()
            .any(|e| e.family() == ActionFamily::FollowUp)
        {
            executors.push(Arc::new(FollowUpExecutor::new(storage.clone())));
        }
        let registry = Arc::new(PluginRegistry::new(runtime, config.plugins_dir.clone()));
        let breakers = self
            .breakers
            .unwrap_or_else(|| Arc::new(crate::breaker::Breakers::new(config.executor.breaker)));
        let history: Arc<dyn CustomerHistorySource> = Arc::new(crate::breaker::GuardedHistory {
            inner: self.history,
            breakers: breakers.clone(),
        });
        let orders: Arc<dyn OrderSource> = Arc::new(crate::breaker::GuardedOrders {
            inner: self.orders,
            breakers: breakers.clone(),
        });
        let core = Arc::new(Core {
            breakers,
            erasure: self.erasure,
            shops: Shops::from_config(&config),
            storage,
            metrics: Arc::new(Metrics::default()),
            wake: Arc::new(Notify::new()),
            journal_wake: Arc::new(Notify::new()),
            faults: self.faults,
            draining: AtomicBool::new(false),
            instance: format!(
                "{}-{}",
                std::process::id(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            ),
            config,
            suspect_gate: Arc::new(tokio::sync::Semaphore::new(1)),
            roles: crate::replicas::Roles::default(),
        });
        for w in &core.config.warnings {
            tracing::warn!("{w}");
        }
        Ok(Pipeline {
            dispatcher: Arc::new(Dispatcher {
                core: core.clone(),
                registry,
                history,
                orders,
            }),
            core,
            executors,
            routes: self.routes,
            background: self.background,
        })
    }
}

/// The event pipeline of one host process.
#[derive(Debug)]
pub struct Pipeline {
    core: Arc<Core>,
    dispatcher: Arc<Dispatcher>,
    executors: Vec<Arc<dyn Executor>>,
    /// Extra routes ([`PipelineBuilder::routes`]).
    routes: Vec<Router>,
    /// Extra loops ([`PipelineBuilder::background`]).
    background: Vec<Arc<dyn BackgroundTask>>,
}

impl Pipeline {
    /// The HTTP routes: `POST /webhooks/shopify`, `POST /inbound/{source}`
    /// (signed helpdesk and carrier reports), `GET /healthz`,
    /// `GET /readyz`, `GET /metrics`, and the extra routes given to the
    /// builder. Testable without a socket.
    pub fn router(&self) -> Router {
        let own = Router::new()
            .route("/webhooks/shopify", post(crate::ingress::receive))
            .route("/inbound/{source}", post(crate::ingress::inbound::receive))
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics))
            .fallback(not_found)
            .with_state(self.core.clone());
        self.routes
            .iter()
            .fold(own, |router, extra| router.merge(extra.clone()))
    }

    /// The storage.
    pub fn storage(&self) -> Arc<dyn Storage> {
        self.core.storage.clone()
    }

    /// The metrics.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.core.metrics.clone()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.core.config
    }

    /// A handle for internal event producers (Core Case poller).
    pub fn producer(&self) -> EventProducer {
        EventProducer::new(
            self.core.storage.clone(),
            self.core.wake.clone(),
            self.core.journal_wake.clone(),
        )
    }

    /// Serve on `listener` and run the dispatcher workers, the executors,
    /// and — while this replica leads their roles (`crate::replicas`) —
    /// the timer loop, retention and the singleton background tasks, until
    /// `shutdown` resolves; then stop
    /// accepting, finish the requests and events in flight (claimed events
    /// not yet started are given back), and return.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), PipelineError> {
        let core = self.core.clone();
        let (stop_tx, stop_rx) = watch::channel(false);
        let stop_tx = Arc::new(stop_tx);
        let mut tasks = JoinSet::new();
        for n in 0..core.config.dispatcher.workers {
            let worker = format!("{}-dispatch-{n}", core.instance);
            tasks.spawn(self.dispatcher.clone().run_worker(worker, stop_rx.clone()));
        }
        for e in &self.executors {
            let worker = format!("{}-exec-{}", core.instance, e.family());
            tasks.spawn(crate::executor::run(
                core.clone(),
                e.clone(),
                worker,
                stop_rx.clone(),
            ));
        }
        // What the other replicas announce wakes this one's loops.
        tasks.spawn(crate::replicas::forward_wakeups(
            core.clone(),
            stop_rx.clone(),
        ));
        // The singletons run while this replica leads their roles.
        let c = core.clone();
        crate::replicas::spawn_singleton(
            &mut tasks,
            core.clone(),
            crate::replicas::TIMERS,
            stop_rx.clone(),
            move |stop| crate::timers::run(c.clone(), stop),
        );
        if core.config.retention.keep.is_some() {
            let c = core.clone();
            crate::replicas::spawn_singleton(
                &mut tasks,
                core.clone(),
                crate::replicas::RETENTION,
                stop_rx.clone(),
                move |stop| crate::retention::run(c.clone(), stop),
            );
        }
        for b in &self.background {
            tracing::debug!(
                task = b.name(),
                singleton = b.singleton(),
                "background task started"
            );
            if b.singleton() {
                let (b, producer) = (b.clone(), self.producer());
                crate::replicas::spawn_singleton(
                    &mut tasks,
                    core.clone(),
                    b.name(),
                    stop_rx.clone(),
                    move |stop| b.clone().run(producer.clone(), stop),
                );
            } else {
                tasks.spawn(b.clone().run(self.producer(), stop_rx.clone()));
            }
        }
        if let Ok(addr) = listener.local_addr() {
            tracing::info!(%addr, workers = core.config.dispatcher.workers, "shopcase is serving");
        }
        let router = self.router();
        let (c, s) = (core.clone(), stop_tx.clone());
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                tracing::info!("shutting down: draining requests and in-flight events");
                c.draining.store(true, Ordering::SeqCst);
                let _ = s.send(true);
            })
            .await;
        // However serving ended, stop the loops and let them finish.
        core.draining.store(true, Ordering::SeqCst);
        let _ = stop_tx.send(true);
        while tasks.join_next().await.is_some() {}
        tracing::info!("shopcase stopped");
        served.map_err(|source| PipelineError::Io {
            what: "serving HTTP",
            source,
        })
    }

    /// Run in the background (tests, embedding); see [`RunningPipeline`].
    pub fn spawn(self, listener: TcpListener) -> RunningPipeline {
        let addr = listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
        let storage = self.storage();
        let metrics = self.metrics();
        let producer = self.producer();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(self.run(listener, async move {
            let _ = rx.await;
        }));
        RunningPipeline {
            addr,
            stop: Some(tx),
            task,
            storage,
            metrics,
            producer,
        }
    }
}

/// A pipeline running in the background.
#[derive(Debug)]
pub struct RunningPipeline {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), PipelineError>>,
    storage: Arc<dyn Storage>,
    metrics: Arc<Metrics>,
    producer: EventProducer,
}

impl RunningPipeline {
    /// A handle for internal event producers.
    pub fn producer(&self) -> EventProducer {
        self.producer.clone()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>/webhooks/shopify`.
    pub fn webhook_url(&self) -> String {
        format!("http://{}/webhooks/shopify", self.addr)
    }

    /// The storage.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Shut down gracefully and wait for it.
    pub async fn shutdown(mut self) -> Result<(), PipelineError> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        match (&mut self.task).await {
            Ok(r) => r,
            Err(e) => Err(PipelineError::Io {
                what: "the pipeline task",
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(core): State<Arc<Core>>) -> Response {
    if core.draining.load(Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "draining"})),
        )
            .into_response();
    }
    match tokio::time::timeout(Duration::from_secs(2), core.storage.check_writable()).await {
        // Webhooks are still accepted while a service is down, so the host
        // stays ready; which services wait is detail for the operator.
        Ok(Ok(())) => {
            let held = core.breakers.held();
            let roles = core.roles.held();
            axum::Json(json!({"status": "ready", "upstreams": held, "roles": roles}))
                .into_response()
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: storage");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"status": "storage-unavailable"})),
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "storage-unavailable"})),
        )
            .into_response(),
    }
}

async fn metrics(State(core): State<Arc<Core>>) -> Response {
    let stats = tokio::time::timeout(Duration::from_secs(2), core.storage.stats(Timestamp::now()))
        .await
        .ok()
        .and_then(Result::ok);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        {
            let mut text = core.metrics.render(stats);
            crate::breaker::render(&core.breakers.states(), &mut text);
            core.roles.render(&mut text);
            text
        },
    )
        .into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": "not-found"})),
    )
        .into_response()
}
