//! Packaged plugins on disk, and the loaded (verified, compiled) ones.
//!
//! Layout of the plugins directory: `<id>/plugin.toml` beside its
//! component, or `<id>/<version>/plugin.toml` to keep several versions
//! side by side (an installation pins the version it runs).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shopcase_contract::{FailureKind, Manifest};
use shopcase_sandbox::{LoadError, Plugin, Runtime};

/// How long a failed load is remembered before it is tried again.
const RETRY_FAILED_LOAD_AFTER: Duration = Duration::from_secs(30);

/// Every packaged manifest under `dir` (unreadable ones are skipped with a
/// warning), sorted by id and version.
pub fn scan(dir: &Path) -> Vec<Manifest> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let Some(id) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if !p.is_dir() {
            continue;
        }
        let (found, refused) = packaged(&p, &id);
        for why in refused {
            tracing::warn!("{why}; ignored");
        }
        out.extend(found);
    }
    // Each plugin's versions are in order already; the sort is stable.
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Semver core as numbers, for ordering.
pub(crate) fn version_key(v: &str) -> Vec<u64> {
    v.split(['-', '+'])
        .next()
        .unwrap_or("")
        .split('.')
        .map(|p| p.parse().unwrap_or(0))
        .collect()
}

/// The manifest of `id` at `version` under `dir`.
pub fn find(dir: &Path, id: &str, version: &str) -> Option<Manifest> {
    versions(dir, id).into_iter().find(|m| m.version == version)
}

/// Every version of `id` under `dir`, oldest first.
pub fn versions(dir: &Path, id: &str) -> Vec<Manifest> {
    if !shopcase_contract::manifest::is_id(id) {
        return Vec::new();
    }
    packaged(&dir.join(id), id).0
}

/// The packaged manifests of plugin `id` in its directory `base` (one at
/// `base/plugin.toml`, or one per version at `base/<version>/plugin.toml`),
/// oldest first; and why each other manifest found there is not one.
fn packaged(base: &Path, id: &str) -> (Vec<Manifest>, Vec<String>) {
    let mut candidates = vec![base.join("plugin.toml")];
    if let Ok(versions) = std::fs::read_dir(base) {
        candidates.extend(versions.flatten().map(|v| v.path().join("plugin.toml")));
    }
    let (mut found, mut refused) = (Vec::new(), Vec::new());
    for c in candidates.into_iter().filter(|c| c.is_file()) {
        match Manifest::load(&c) {
            Ok(m) if m.component.is_some() && m.id == id => found.push(m),
            Ok(m) => refused.push(format!(
                "{}: plugin `{}` is not a packaged plugin in its own directory (<plugins-dir>/<id>/)",
                c.display(),
                m.id
            )),
            Err(e) => refused.push(format!("unreadable plugin manifest: {e}")),
        }
    }
    found.sort_by_key(|m| version_key(&m.version));
    (found, refused)
}

/// A load result, shared by the callers that wait for the same plugin.
type Slot = Arc<tokio::sync::Mutex<Option<Entry>>>;

enum Entry {
    Loaded(Plugin),
    Failed(LoadError, Instant),
}

/// Loaded plugins, by id and version; each is loaded once, on first use.
pub(crate) struct PluginRegistry {
    runtime: Runtime,
    dir: PathBuf,
    entries: Mutex<HashMap<(String, String), Slot>>,
}

impl std::fmt::Debug for PluginRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRegistry")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl PluginRegistry {
    pub(crate) fn new(runtime: Runtime, dir: PathBuf) -> PluginRegistry {
        PluginRegistry {
            runtime,
            dir,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The plugin `id` at `version`, loading it (manifest, sha256, compile
    /// or cache, import check) on first use. A failed load is retried after
    /// a while, so a plugin fixed on disk is picked up.
    pub(crate) async fn get(&self, id: &str, version: &str) -> Result<Plugin, LoadError> {
        let slot = {
            let mut m = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            m.entry((id.to_owned(), version.to_owned()))
                .or_default()
                .clone()
        };
        let mut slot = slot.lock().await;
        match &*slot {
            Some(Entry::Loaded(p)) => return Ok(p.clone()),
            Some(Entry::Failed(e, at)) if at.elapsed() < RETRY_FAILED_LOAD_AFTER => {
                return Err(e.clone());
            }
            _ => {}
        }
        let (runtime, dir, id_owned, version_owned) = (
            self.runtime.clone(),
            self.dir.clone(),
            id.to_owned(),
            version.to_owned(),
        );
        let loaded = tokio::task::spawn_blocking(move || {
            let manifest = find(&dir, &id_owned, &version_owned).ok_or_else(|| LoadError {
                kind: FailureKind::BadManifest,
                message: format!(
                    "plugin `{id_owned}` {version_owned} is not in {} (have: {})",
                    dir.display(),
                    {
                        let v: Vec<String> = versions(&dir, &id_owned)
                            .into_iter()
                            .map(|m| m.version)
                            .collect();
                        if v.is_empty() {
                            "no version".to_owned()
                        } else {
                            v.join(", ")
                        }
                    }
                ),
            })?;
            runtime.load_manifest(manifest)
        })
        .await
        .unwrap_or_else(|_| {
            Err(LoadError {
                kind: FailureKind::BadManifest,
                message: "loading the plugin was cancelled".into(),
            })
        });
        match loaded {
            Ok(p) => {
                tracing::info!(plugin = id, version, "plugin loaded");
                *slot = Some(Entry::Loaded(p.clone()));
                Ok(p)
            }
            Err(e) => {
                tracing::warn!(plugin = id, version, error = %e, "plugin cannot be loaded");
                *slot = Some(Entry::Failed(e.clone(), Instant::now()));
                Err(e)
            }
        }
    }
}
