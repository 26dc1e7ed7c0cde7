//! Core Case in the shopcase host: journalled case actions executed
//! exactly once, case links, changes polled back as `corecase/case-updated`
//! events, Shopify operations held for an approval, and the privacy
//! requests' erasure in cases. The REST client is `shopcase-corecase` (the
//! emulator `shopcase-corecase-emulator`); this crate reads `[corecase]`
//! and implements the host API's traits (`shopcase-host-api`) over the
//! client and the storage, so it knows nothing of the pipeline that runs
//! them: [`CoreCase::register`] takes any `HostBuilder`.
//!
//! ```no_run
//! # async fn demo(config: shopcase_pipeline::Config) -> Result<(), Box<dyn std::error::Error>> {
//! use shopcase_corecase_integration::CoreCase;
//! use shopcase_pipeline::{PipelineBuilder, open_storage};
//! let storage = open_storage(&config).await?;
//! let mut builder = PipelineBuilder::new(config.clone());
//! // `None` when shopcase.toml has no [corecase] section.
//! if let Some(corecase) = CoreCase::from_config(&config)? {
//!     builder = corecase.register(builder, storage);
//! }
//! let pipeline = builder.build().await?;
//! # let _ = pipeline;
//! # Ok(()) }
//! ```
//!
//! See `docs/corecase.md` for the whole story: the mapping of actions to
//! the API, the retry policy, case links, the poller, approvals, and how
//! to point shopcase at a real tenant.
//!
//! # Layout
//! - [`settings`]: `[corecase]`, [`CoreCaseSettings`].
//! - [`executor`]: [`CaseExecutor`], the executor of `ActionFamily::Case`
//!   entries, and how Core Case's errors are journalled.
//! - `mapping`: actions → request bodies (cases, case-data, status, tasks,
//!   documents as attachments).
//! - `definitions`: case type → case definition (configured or discovered).
//! - [`poller`]: [`Poller`], changed cases → case-updated events.
//! - `approvals`: completed approval tasks → held operations decided.
//! - [`erasure`]: [`CaseErasure`], what privacy requests scrub in cases.
//! - `payload`: the case-updated payload, its resources and fingerprint.

use std::sync::Arc;

use shopcase_corecase::CoreCaseClient;
use shopcase_store::Storage;

use shopcase_config::{self as config, Config, ConfigError};
use shopcase_host_api::HostBuilder;
use shopcase_host_api::fault::Faults;

mod approvals;
mod definitions;
pub mod erasure;
pub mod executor;
mod mapping;
mod payload;
pub mod poller;
pub mod settings;

pub use erasure::CaseErasure;
pub use executor::CaseExecutor;
pub use poller::{PassReport, Poller};
pub use settings::{CoreCaseSettings, DefinitionRef};

use definitions::Definitions;

/// The Core Case side of one host: the client, the settings and the
/// case-type mapping, shared by the executor and the poller.
#[derive(Debug, Clone)]
pub struct CoreCase {
    client: CoreCaseClient,
    settings: Arc<CoreCaseSettings>,
    definitions: Arc<Definitions>,
    faults: Faults,
}

impl CoreCase {
    /// From `[corecase]` (the client secret is read now); `None` when the
    /// configuration has no `[corecase]`: case actions then wait in the
    /// journal.
    pub fn from_config(config: &Config) -> Result<Option<CoreCase>, config::Error> {
        let located = |e: ConfigError| config.locate(e);
        let Some(settings) = CoreCaseSettings::from_config(config).map_err(located)? else {
            return Ok(None);
        };
        let client_settings = settings.resolve_client(&config.path).map_err(located)?;
        let client = CoreCaseClient::new(client_settings).map_err(|e| {
            located(ConfigError {
                file: config.path.clone(),
                key: Some("corecase".into()),
                message: e.to_string(),
            })
        })?;
        Ok(Some(CoreCase::new(settings, client)))
    }

    /// From checked settings and a client (tests point the client at an
    /// emulator).
    pub fn new(settings: CoreCaseSettings, client: CoreCaseClient) -> CoreCase {
        CoreCase {
            client,
            definitions: Arc::new(Definitions::new(
                settings.case_types.clone(),
                settings.discover_case_types,
            )),
            settings: Arc::new(settings),
            faults: Faults::none(),
        }
    }

    /// Arm the test-only fault point named by `SHOPCASE_TEST_FAULT` in the
    /// executor (see [`shopcase_host_api::fault`]).
    pub fn faults_from_env(mut self) -> CoreCase {
        self.faults = Faults::from_env();
        self
    }

    /// The checked settings.
    pub fn settings(&self) -> &CoreCaseSettings {
        &self.settings
    }

    /// The client.
    pub fn client(&self) -> &CoreCaseClient {
        &self.client
    }

    /// The executor of journalled case actions, over `storage` (case links
    /// and held operations).
    pub fn executor(&self, storage: Arc<dyn Storage>) -> Arc<CaseExecutor> {
        Arc::new(CaseExecutor {
            client: self.client.clone(),
            storage,
            definitions: self.definitions.clone(),
            execute_timeout: self.settings.execute_timeout,
            faults: self.faults.clone(),
        })
    }

    /// The poller of changed cases, over `storage`.
    pub fn poller(&self, storage: Arc<dyn Storage>) -> Arc<Poller> {
        Arc::new(Poller {
            client: self.client.clone(),
            storage,
            settings: self.settings.clone(),
        })
    }

    /// Register the executor and the poller with a pipeline that uses
    /// `storage` (set on the builder here, so both share it), and the
    /// client for the privacy requests' erasure in Core Case.
    pub fn register<B: HostBuilder>(&self, builder: B, storage: Arc<dyn Storage>) -> B {
        builder
            .erasure(Arc::new(CaseErasure::new(
                self.client.clone(),
                storage.clone(),
            )))
            .storage(storage.clone())
            .executor(self.executor(storage.clone()))
            .background(self.poller(storage))
    }
}
