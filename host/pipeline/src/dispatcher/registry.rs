//! Packaged plugins on disk, and the loaded (verified, compiled) ones.
//!
//! Layout of the plugins directory: `<id>/plugin.toml` beside its
//! component, or `<id>/<version>/plugin.toml` to keep several versions
//! side by side (an installation pins the version it runs). A version
//! found in two directories is refused in both ([`lookup`] says where).
//!
//! The registry loads each (id, version) once and keeps it; what runs for
//! an installation must also be what its store approved
//! (`PluginRegistry::approved`): the loaded component's sha256 and the
//! digest of its grants, computed once per load, are compared with the
//! installation's approval at every run.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use shopcase_contract::approval::{GrantDiff, grants_of};
use shopcase_contract::manifest::sha256_hex;
use shopcase_contract::time::Timestamp;
use shopcase_contract::{FailureKind, Manifest};
use shopcase_sandbox::{LoadError, Plugin, Runtime};
use shopcase_store::{Approval, Installation, InstallationKey, NewAudit, Storage, StoreError};

/// How long a failed load is remembered before it is tried again.
const RETRY_FAILED_LOAD_AFTER: Duration = Duration::from_secs(30);

/// Every packaged manifest under `dir` (unreadable ones, and versions
/// packaged twice, are skipped with a warning), sorted by id and version.
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
        let found = packaged(&p, &id);
        for why in found.refused {
            tracing::warn!("{}; ignored", why.message);
        }
        out.extend(found.manifests);
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
    lookup(dir, id, version).ok()
}

/// Why a plugin version is not available under the plugins directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// No such plugin.
    Plugin,
    /// The plugin, but not this version; the versions there, oldest first.
    Version(Vec<String>),
    /// Packaged in more than one directory: refused, whichever it is.
    Duplicate(String),
}

impl Missing {
    /// For messages that may reach store admins: directories relative to
    /// the plugins directory only.
    pub fn describe(&self, id: &str, version: &str) -> String {
        match self {
            Missing::Plugin => format!("plugin `{id}` is not in the plugins directory"),
            Missing::Version(have) => format!(
                "plugin `{id}` {version} is not in the plugins directory (have: {})",
                if have.is_empty() {
                    "no version".to_owned()
                } else {
                    have.join(", ")
                }
            ),
            Missing::Duplicate(why) => why.clone(),
        }
    }
}

/// The manifest of `id` at `version` under `dir`, or why there is none.
pub fn lookup(dir: &Path, id: &str, version: &str) -> Result<Manifest, Missing> {
    if !shopcase_contract::manifest::is_id(id) || !dir.join(id).is_dir() {
        return Err(Missing::Plugin);
    }
    let found = packaged(&dir.join(id), id);
    if let Some(d) = found
        .refused
        .into_iter()
        .find(|r| r.duplicate.as_deref() == Some(version))
    {
        return Err(Missing::Duplicate(d.message));
    }
    let have: Vec<String> = found.manifests.iter().map(|m| m.version.clone()).collect();
    found
        .manifests
        .into_iter()
        .find(|m| m.version == version)
        .ok_or(Missing::Version(have))
}

/// Why each version of `id` packaged twice under `dir` is refused.
pub fn duplicates(dir: &Path, id: &str) -> Vec<String> {
    if !shopcase_contract::manifest::is_id(id) {
        return Vec::new();
    }
    packaged(&dir.join(id), id)
        .refused
        .into_iter()
        .filter(|r| r.duplicate.is_some())
        .map(|r| r.message)
        .collect()
}

/// Every version of `id` under `dir`, oldest first (versions packaged
/// twice are left out).
pub fn versions(dir: &Path, id: &str) -> Vec<Manifest> {
    if !shopcase_contract::manifest::is_id(id) {
        return Vec::new();
    }
    packaged(&dir.join(id), id).manifests
}

/// What one plugin's directory holds.
struct Packaged {
    /// The packaged manifests, oldest first.
    manifests: Vec<Manifest>,
    /// Every other manifest found, and why it is not one.
    refused: Vec<Refused>,
}

struct Refused {
    /// The version, when it is refused for being packaged twice.
    duplicate: Option<String>,
    message: String,
}

/// The packaged manifests of plugin `id` in its directory `base` (one at
/// `base/plugin.toml`, or one per version at `base/<version>/plugin.toml`).
///
/// A version packaged in two directories (`x/` and `x/1.2.0/`, or
/// `x/1.2.0/` and `x/copy/`) is refused in both: which one ran would
/// otherwise depend on the order the file system lists them, and an
/// approval names a version, so a second copy could run in its place.
fn packaged(base: &Path, id: &str) -> Packaged {
    let mut candidates = vec![base.join("plugin.toml")];
    if let Ok(versions) = std::fs::read_dir(base) {
        candidates.extend(versions.flatten().map(|v| v.path().join("plugin.toml")));
    }
    let mut found: Vec<Manifest> = Vec::new();
    let mut refused = Vec::new();
    for c in candidates.into_iter().filter(|c| c.is_file()) {
        match Manifest::load(&c) {
            Ok(m) if m.component.is_some() && m.id == id => found.push(m),
            Ok(m) => refused.push(Refused {
                duplicate: None,
                message: format!(
                    "{}: plugin `{}` is not a packaged plugin in its own directory (<plugins-dir>/<id>/)",
                    c.display(),
                    m.id
                ),
            }),
            Err(e) => refused.push(Refused {
                duplicate: None,
                message: format!("unreadable plugin manifest: {e}"),
            }),
        }
    }
    // The directory of a manifest, relative to the plugins directory.
    let relative = |m: &Manifest| {
        let dir = m.path.parent().unwrap_or(base);
        let rel = dir
            .strip_prefix(base.parent().unwrap_or(base))
            .unwrap_or(dir);
        format!("{}/", rel.display())
    };
    let mut by_version: BTreeMap<String, Vec<Manifest>> = BTreeMap::new();
    for m in found {
        by_version.entry(m.version.clone()).or_default().push(m);
    }
    let mut manifests = Vec::new();
    for (version, mut copies) in by_version {
        if copies.len() == 1 {
            manifests.extend(copies);
            continue;
        }
        let mut dirs: Vec<String> = copies.iter().map(relative).collect();
        dirs.sort();
        copies.clear();
        refused.push(Refused {
            duplicate: Some(version.clone()),
            message: format!(
                "plugin `{id}` {version} is packaged twice, in {}: neither is loaded; remove all but one (paths relative to the plugins directory)",
                dirs.join(" and ")
            ),
        });
    }
    manifests.sort_by_key(|m| version_key(&m.version));
    Packaged { manifests, refused }
}

/// A load result, shared by the callers that wait for the same plugin.
type Slot = Arc<tokio::sync::Mutex<Option<Entry>>>;

enum Entry {
    Loaded(Plugin, Arc<Content>),
    Failed(LoadError, Instant),
}

/// What a loaded plugin is, as approvals name it: computed once per load,
/// so checking a run against its installation's approval compares two
/// strings and hashes nothing.
#[derive(Debug)]
struct Content {
    sha256: String,
    grants: Vec<String>,
    grants_digest: String,
}

impl Content {
    fn of(plugin: &Plugin) -> Content {
        let m = plugin.manifest();
        let (grants, grants_digest) = shopcase_contract::approval::grants_of(m);
        Content {
            // A loaded plugin's component hashed to its manifest's sha256.
            sha256: m
                .component
                .as_ref()
                .map(|c| c.sha256.clone())
                .unwrap_or_default(),
            grants,
            grants_digest,
        }
    }

    fn is(&self, a: &Approval) -> bool {
        a.same_content(&self.sha256, &self.grants_digest)
    }
}

/// Why an installation's plugin cannot run; the dispatcher records it as
/// `plugin-unavailable`, this text first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unavailable {
    /// It does not load (the load outcome).
    Load(LoadError),
    /// What loads is not what the store's admin approved, or nothing was
    /// approved: refused until an admin approves what is on disk.
    NotApproved(String),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::Load(e) => write!(f, "{e}"),
            Unavailable::NotApproved(m) => write!(f, "not-approved: {m}"),
        }
    }
}

/// How an admin approves the plugin on disk for the installation's store
/// (no file paths: store admins read this).
fn how_to_approve(inst: &Installation) -> String {
    format!(
        "review the grants, then approve it with `shopcase store approve --shop {} --plugin {} --by <who>` or POST /admin/api/stores/{}/installations/{}/approve",
        inst.shop, inst.plugin_id, inst.shop, inst.plugin_id
    )
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// Loaded plugins, by id and version; each is loaded once, on first use.
pub(crate) struct PluginRegistry {
    runtime: Runtime,
    dir: PathBuf,
    entries: Mutex<HashMap<(String, String), Slot>>,
    /// When the plugins directory was last looked at again for an approval
    /// the loaded plugin does not match, by (id, version, sha256, grants
    /// digest): once per approval per [`RETRY_FAILED_LOAD_AFTER`], so an
    /// installation whose approved content is gone does not reload the
    /// plugin at every event.
    rechecked: Mutex<HashMap<(String, String, String, String), Instant>>,
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
            rechecked: Mutex::new(HashMap::new()),
        }
    }

    /// The plugin `id` at `version`, loading it (manifest, sha256, compile
    /// or cache, import check) on first use. A failed load is retried after
    /// a while, so a plugin fixed on disk is picked up.
    pub(crate) async fn get(&self, id: &str, version: &str) -> Result<Plugin, LoadError> {
        self.load(id, version, None).await.map(|(p, _)| p)
    }

    /// The plugin an installation runs, if it is what the installation's
    /// store approved: the same component sha256 and grants digest.
    /// Otherwise [`Unavailable::NotApproved`], saying what changed and how
    /// to approve it. The check is per installation (each store approves
    /// for itself) and compares digests computed at load time.
    ///
    /// The loaded plugin stays in memory while the disk changes under it;
    /// when an admin approves what is on disk now, the plugin in memory no
    /// longer matches and is loaded again (once per approval per while).
    pub(crate) async fn approved(&self, inst: &Installation) -> Result<Plugin, Unavailable> {
        let Some(approved) = &inst.approved else {
            // Recorded at start-up for installations from before approvals;
            // none means the plugin was not on disk then.
            return Err(Unavailable::NotApproved(format!(
                "no approval is recorded for plugin `{}` {} in this store; {}",
                inst.plugin_id,
                inst.version,
                how_to_approve(inst)
            )));
        };
        let (plugin, content) = self
            .load(&inst.plugin_id, &inst.version, Some(approved))
            .await
            .map_err(Unavailable::Load)?;
        if content.is(approved) {
            return Ok(plugin);
        }
        let diff = GrantDiff::between(&approved.grants, &content.grants);
        Err(Unavailable::NotApproved(format!(
            "plugin `{}` {} changed since it was approved for this store (approved {} by {}: sha256 {}…; now sha256 {}…, {}); {}",
            inst.plugin_id,
            inst.version,
            approved.at,
            approved.by,
            short(&approved.sha256),
            short(&content.sha256),
            diff.summary(),
            how_to_approve(inst)
        )))
    }

    /// Whether to look at the disk again for `want`, which the loaded
    /// plugin does not match (and note that it was looked at).
    fn recheck(&self, id: &str, version: &str, want: &Approval) -> bool {
        let mut m = self.rechecked.lock().unwrap_or_else(|p| p.into_inner());
        let key = (
            id.to_owned(),
            version.to_owned(),
            want.sha256.clone(),
            want.grants_digest.clone(),
        );
        match m.get(&key) {
            Some(at) if at.elapsed() < RETRY_FAILED_LOAD_AFTER => false,
            _ => {
                m.insert(key, Instant::now());
                true
            }
        }
    }

    async fn load(
        &self,
        id: &str,
        version: &str,
        want: Option<&Approval>,
    ) -> Result<(Plugin, Arc<Content>), LoadError> {
        let slot = {
            let mut m = self.entries.lock().unwrap_or_else(|p| p.into_inner());
            m.entry((id.to_owned(), version.to_owned()))
                .or_default()
                .clone()
        };
        let mut slot = slot.lock().await;
        match &*slot {
            Some(Entry::Loaded(p, c)) => {
                // Under the slot's lock: callers waiting for the same
                // plugin find the reloaded one.
                let stale = want.is_some_and(|a| !c.is(a) && self.recheck(id, version, a));
                if !stale {
                    return Ok((p.clone(), c.clone()));
                }
                tracing::info!(
                    plugin = id,
                    version,
                    "an approval names other content than the loaded plugin; loading it again"
                );
            }
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
            let manifest = lookup(&dir, &id_owned, &version_owned).map_err(|m| LoadError {
                kind: FailureKind::BadManifest,
                message: m.describe(&id_owned, &version_owned),
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
                let content = Arc::new(Content::of(&p));
                *slot = Some(Entry::Loaded(p.clone(), content.clone()));
                Ok((p, content))
            }
            Err(e) => {
                tracing::warn!(plugin = id, version, error = %e, "plugin cannot be loaded");
                *slot = Some(Entry::Failed(e.clone(), Instant::now()));
                Err(e)
            }
        }
    }
}

/// An approval of `manifest` as it is on disk now: the component is hashed
/// (it must match the manifest's sha256, or it would not load) and the
/// grants written as canonical lines. `None`: the component is missing or
/// does not match.
pub fn approval_of(manifest: &Manifest, actor: &str, now: Timestamp) -> Option<Approval> {
    let component = manifest.component.as_ref()?;
    let bytes = std::fs::read(&component.path).ok()?;
    if sha256_hex(&bytes) != component.sha256 {
        return None;
    }
    let (grants, grants_digest) = grants_of(manifest);
    Some(Approval {
        sha256: component.sha256.clone(),
        grants_digest,
        grants,
        by: actor.to_owned(),
        at: now,
    })
}

/// For every installation with no approval recorded (written before
/// approvals existed, storage migration 7), record the plugin as it is
/// on disk now, audited as `installation.approval-recorded` by `host`.
/// The host does this once at start-up, before any event runs, so
/// existing installations keep running after the upgrade. One whose
/// plugin is not on disk (or does not match its manifest) is left
/// without one, logged, and refused until an admin approves it.
/// Returns how many were recorded.
pub async fn record_missing_approvals(
    storage: &dyn Storage,
    plugins_dir: &Path,
) -> Result<usize, StoreError> {
    let mut recorded = 0;
    for inst in storage.installations(None).await? {
        if inst.approved.is_some() {
            continue;
        }
        let now = Timestamp::now();
        let approval = match lookup(plugins_dir, &inst.plugin_id, &inst.version)
            .map_err(|m| m.describe(&inst.plugin_id, &inst.version))
            .and_then(|m| {
                approval_of(&m, "host", now)
                    .ok_or_else(|| "the component does not match its manifest".to_owned())
            }) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(shop = %inst.shop, plugin = %inst.plugin_id, version = %inst.version, error = %e,
                    "no approval recorded for the installation and none can be taken from disk; its runs are refused until an admin approves it");
                continue;
            }
        };
        let audit = NewAudit {
            actor: "host".into(),
            action: "installation.approval-recorded".into(),
            shop: Some(inst.shop.clone()),
            plugin_id: Some(inst.plugin_id.clone()),
            details: json!({
                "version": inst.version,
                "reason": "installed before approvals were recorded: the plugin on disk at the upgrade is taken as approved",
                "after": {"sha256": approval.sha256, "grants_digest": approval.grants_digest},
                "grants": approval.grants,
            }),
            at: now,
        };
        let key = InstallationKey {
            shop: inst.shop.clone(),
            plugin_id: inst.plugin_id.clone(),
            version: inst.version.clone(),
        };
        if storage
            .approve_installation(key, None, approval, audit)
            .await?
        {
            tracing::info!(shop = %inst.shop, plugin = %inst.plugin_id, version = %inst.version,
                "recorded the plugin on disk as approved for an installation from before approvals");
            recorded += 1;
        }
    }
    Ok(recorded)
}
