//! The one `Engine` and loading plugins into it.
//!
//! Loading is where a plugin is checked before any of its code runs:
//! 1. the manifest parses and is consistent ([`FailureKind::BadManifest`]);
//! 2. the component file hashes to the manifest's sha256
//!    ([`FailureKind::HashMismatch`]);
//! 3. it compiles (or its precompiled form is taken from the cache, named by
//!    that sha256 and the engine's compatibility hash, and used only if its
//!    HMAC tag under the host's cache key verifies: see [`crate::cache`]);
//! 4. every import is in the allowed set ([`FailureKind::ForbiddenImport`],
//!    naming each refused import) and it exports the handler of the API
//!    version its manifest declares (a component built against another
//!    version is refused with a message naming both);
//! 5. it is linked once into an `InstancePre` by the linker of its API
//!    version (one per supported version, all built here), so each event
//!    only instantiates.
//!
//! The engine uses the pooling allocator (instances, memories and tables
//! come from pre-reserved slots and are reset copy-on-write), fuel, epoch
//! interruption driven by a 1 ms ticker thread, and an explicit
//! `max_wasm_stack`.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use shopcase_contract::manifest::sha256_hex;
use shopcase_contract::{FailureKind, Limits, Manifest};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

use crate::cache::{self, CacheKey};
use crate::plugin::{Inner, Plugin, Pre, TICKS_PER_SECOND};
use crate::state::State;

/// A plugin could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct LoadError {
    pub kind: FailureKind,
    pub message: String,
}

impl LoadError {
    fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        LoadError {
            kind,
            message: message.into(),
        }
    }
}

/// How the sandbox runs. The defaults suit one host process.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where precompiled components are kept (`None`: compile on every load).
    /// Its files are loaded as native code, and only when their tag under
    /// `cache_key` verifies.
    pub cache_dir: Option<PathBuf>,
    /// The key that tags cache entries, kept outside `cache_dir` (the host
    /// keeps it in its data directory). `None`: a key for this process.
    pub cache_key: Option<CacheKey>,
    /// The most any plugin gets, whatever its manifest asks.
    pub caps: Limits,
    /// Invocations running at once; more wait for a slot. Sizes the pools.
    pub max_concurrent: u32,
    /// Core instances one component may create (Python components need ~110).
    pub max_core_instances_per_component: u32,
    /// Linear memories one component may have.
    pub max_memories_per_component: u32,
    /// Elements per table.
    pub max_table_elements: u64,
    /// Native stack for Wasm code, bytes.
    pub max_wasm_stack: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            cache_dir: None,
            cache_key: None,
            caps: Limits::DEFAULT_CAPS,
            max_concurrent: 16,
            max_core_instances_per_component: 256,
            max_memories_per_component: 8,
            max_table_elements: 200_000,
            max_wasm_stack: 512 << 10,
        }
    }
}

/// A counting semaphore for invocation slots.
#[derive(Debug)]
pub(crate) struct Slots {
    free: Mutex<u32>,
    cv: Condvar,
}

pub(crate) struct SlotGuard<'a>(&'a Slots);

impl Slots {
    pub(crate) fn acquire(&self) -> SlotGuard<'_> {
        let mut free = crate::state::lock(&self.free);
        while *free == 0 {
            free = self.cv.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        SlotGuard(self)
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *crate::state::lock(&self.0.free) += 1;
        self.0.cv.notify_one();
    }
}

/// What every plugin of a runtime shares.
pub(crate) struct Shared {
    pub(crate) engine: Engine,
    pub(crate) config: RuntimeConfig,
    /// `config.cache_key`, or one made for this process.
    cache_key: CacheKey,
    pub(crate) slots: Slots,
    linker_v0_1_0: Linker<State>,
    linker_v0_2_0: Linker<State>,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// The sandbox runtime: one per process. Cheap to clone.
#[derive(Clone)]
pub struct Runtime(Arc<Shared>);

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("config", &self.0.config)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Build the engine, the linker and the epoch ticker.
    pub fn new(config: RuntimeConfig) -> Result<Runtime, LoadError> {
        let err = |e: wasmtime::Error| {
            LoadError::new(
                FailureKind::BadManifest,
                format!("cannot start the sandbox: {e}"),
            )
        };
        let n = config.max_concurrent.max(1);
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(n)
            .total_core_instances(n * config.max_core_instances_per_component.min(512))
            .max_core_instances_per_component(config.max_core_instances_per_component)
            .total_memories(n * config.max_memories_per_component)
            .max_memories_per_component(config.max_memories_per_component)
            .total_tables(n * config.max_memories_per_component * 2)
            .max_tables_per_component(config.max_memories_per_component * 2)
            .table_elements(config.max_table_elements as usize)
            .max_memory_size(config.caps.memory_bytes as usize)
            .total_stacks(0)
            // Reset small dirty regions with memset instead of madvise: much
            // cheaper for the few pages a plugin touches.
            .linear_memory_keep_resident(128 << 10)
            .table_keep_resident(64 << 10);

        let mut c = Config::new();
        c.wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(config.max_wasm_stack)
            .cranelift_opt_level(OptLevel::Speed)
            .memory_init_cow(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&c).map_err(err)?;

        // One linker per plugin API version: each defines that version's
        // host interface and the same locked-down WASI subset.
        let mut linker_v0_1_0 = Linker::new(&engine);
        crate::v0_1_0::add_to_linker(&mut linker_v0_1_0).map_err(err)?;
        crate::wasi::add_to_linker(&mut linker_v0_1_0).map_err(err)?;
        let mut linker_v0_2_0 = Linker::new(&engine);
        crate::v0_2_0::add_to_linker(&mut linker_v0_2_0).map_err(err)?;
        crate::wasi::add_to_linker(&mut linker_v0_2_0).map_err(err)?;

        let stop = Arc::new(AtomicBool::new(false));
        let ticker_engine = engine.clone();
        let ticker_stop = stop.clone();
        std::thread::Builder::new()
            .name("shopcase-epoch".into())
            .spawn(move || {
                let tick = Duration::from_micros(1_000_000 / TICKS_PER_SECOND);
                while !ticker_stop.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    ticker_engine.increment_epoch();
                }
            })
            .map_err(|e| {
                LoadError::new(
                    FailureKind::BadManifest,
                    format!("cannot start the epoch ticker: {e}"),
                )
            })?;

        Ok(Runtime(Arc::new(Shared {
            engine,
            slots: Slots {
                free: Mutex::new(n),
                cv: Condvar::new(),
            },
            cache_key: config.cache_key.clone().unwrap_or_else(CacheKey::random),
            config,
            linker_v0_1_0,
            linker_v0_2_0,
            stop_ticker: stop,
        })))
    }

    /// Load a packaged plugin from its `plugin.toml`.
    pub fn load(&self, manifest_path: &Path) -> Result<Plugin, LoadError> {
        let manifest = Manifest::load(manifest_path)
            .map_err(|e| LoadError::new(FailureKind::BadManifest, without_paths(&e)))?;
        self.load_manifest(manifest)
    }

    /// Load a plugin whose manifest is already parsed.
    pub fn load_manifest(&self, manifest: Manifest) -> Result<Plugin, LoadError> {
        let shared = &self.0;
        // Load errors reach store admins (a run's failure, the admin page):
        // they name files by their name in the plugin's package, never by
        // the host's absolute paths.
        let component_ref = manifest
            .component()
            .map_err(|e| LoadError::new(FailureKind::BadManifest, without_paths(&e)))?
            .clone();
        let name = |p: &Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let bytes = std::fs::read(&component_ref.path).map_err(|e| {
            LoadError::new(
                FailureKind::BadManifest,
                format!(
                    "cannot read the component `{}` of plugin `{}` {}: {}",
                    name(&component_ref.path),
                    manifest.id,
                    manifest.version,
                    e.kind()
                ),
            )
        })?;
        let actual = sha256_hex(&bytes);
        if actual != component_ref.sha256 {
            return Err(LoadError::new(
                FailureKind::HashMismatch,
                format!(
                    "the component `{}` of plugin `{}` {} has sha256 {actual}, but its `{}` says {}",
                    name(&component_ref.path),
                    manifest.id,
                    manifest.version,
                    name(&manifest.path),
                    component_ref.sha256
                ),
            ));
        }
        let component = self.compile(&bytes, &actual)?;
        check_imports_and_exports(&shared.engine, &component, &manifest)?;

        let link = |linker: &Linker<State>| {
            linker.instantiate_pre(&component).map_err(|e| {
                LoadError::new(
                    FailureKind::ForbiddenImport,
                    format!("the component cannot be linked: {e}"),
                )
            })
        };
        let mismatch = |e: wasmtime::Error| {
            LoadError::new(
                FailureKind::BadManifest,
                format!(
                    "the component does not match plugin API {}: {e}",
                    manifest.api
                ),
            )
        };
        let pre = match manifest.api.as_str() {
            "0.1.0" => Pre::V0_1_0(
                crate::v0_1_0::PluginPre::new(link(&shared.linker_v0_1_0)?).map_err(mismatch)?,
            ),
            "0.2.0" => Pre::V0_2_0(
                crate::v0_2_0::PluginPre::new(link(&shared.linker_v0_2_0)?).map_err(mismatch)?,
            ),
            other => {
                return Err(LoadError::new(
                    FailureKind::BadManifest,
                    format!("plugin API {other} is not supported"),
                ));
            }
        };
        let limits = manifest.limits.capped_by(shared.config.caps);
        if limits != manifest.limits {
            tracing::info!(plugin = %manifest.id, asked = ?manifest.limits, granted = ?limits, "plugin limits capped by the host");
        }
        let inner = Inner {
            grants: Arc::new(manifest.grants.clone()),
            manifest,
            limits,
            pre,
            shared: shared.clone(),
        };
        crate::plugin::probe(&inner).map_err(|e| {
            LoadError::new(
                FailureKind::BadManifest,
                format!(
                    "the component does not match plugin API {}: {e}",
                    inner.manifest.api
                ),
            )
        })?;
        Ok(Plugin(Arc::new(inner)))
    }

    /// Compile, or take the precompiled artifact from the cache.
    fn compile(&self, bytes: &[u8], sha256: &str) -> Result<Component, LoadError> {
        let engine = &self.0.engine;
        let invalid = |e: wasmtime::Error| {
            LoadError::new(
                FailureKind::BadManifest,
                format!("the component is not a valid Wasm component: {e}"),
            )
        };
        let Some(dir) = &self.0.config.cache_dir else {
            return Component::new(engine, bytes).map_err(invalid);
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let path = dir.join(format!("{sha256}-{:016x}.cwasm", h.finish()));
        let key = &self.0.cache_key;
        if let Some(bytes) = cache::read(key, &path)
            && let Ok(c) = deserialize(engine, &bytes)
        {
            return Ok(c);
        }
        let artifact = engine.precompile_component(bytes).map_err(invalid)?;
        // Best effort: a cache that cannot be written only costs compile time.
        if let Err(e) = cache::write(key, dir, &path, &artifact) {
            tracing::warn!(cache = %dir.display(), error = %e, "cannot write the component cache");
        }
        deserialize(engine, &artifact).map_err(invalid)
    }
}

/// A manifest error naming its file by name only.
fn without_paths(e: &shopcase_contract::manifest::ManifestError) -> String {
    let file = e
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match &e.key {
        Some(k) => format!("{file}: `{k}`: {}", e.message),
        None => format!("{file}: {}", e.message),
    }
}

#[allow(
    unsafe_code,
    reason = "deserializing a precompiled component trusts it as native code; we only pass bytes this host compiled itself (fresh, or from the cache after their HMAC tag under the host's key verified)"
)]
fn deserialize(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: see the reason above; wasmtime also checks the artifact's
    // header against this engine's configuration.
    unsafe { Component::deserialize(engine, artifact) }
}

fn check_imports_and_exports(
    engine: &Engine,
    component: &Component,
    manifest: &Manifest,
) -> Result<(), LoadError> {
    let ty = component.component_type();
    let handler = format!("shopcase:plugin/handler@{}", manifest.api);
    if !ty.exports(engine).any(|(name, _)| name == handler) {
        let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_owned()).collect();
        // Built against another version of the plugin API: say which.
        if let Some(built) = exports
            .iter()
            .find_map(|n| n.strip_prefix("shopcase:plugin/handler@"))
        {
            return Err(LoadError::new(
                FailureKind::BadManifest,
                format!(
                    "the component is built against plugin API {built} (it exports `shopcase:plugin/handler@{built}`), but its manifest declares `api = \"{}\"`; set `plugin.api` to the version the component was built with",
                    manifest.api
                ),
            ));
        }
        return Err(LoadError::new(
            FailureKind::BadManifest,
            format!(
                "the component does not export `{handler}` (it exports: {}); is it built against the plugin API {} its manifest declares?",
                if exports.is_empty() {
                    "nothing".into()
                } else {
                    exports.join(", ")
                },
                manifest.api
            ),
        ));
    }
    // After the export check, so a component built against another
    // version is named as such rather than by its imports of that version.
    let refused: Vec<String> = ty
        .imports(engine)
        .filter_map(|(name, _)| crate::imports::check(name, &manifest.api).err())
        .collect();
    if !refused.is_empty() {
        return Err(LoadError::new(
            FailureKind::ForbiddenImport,
            refused.join("; "),
        ));
    }
    Ok(())
}
