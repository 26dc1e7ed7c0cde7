//! Store administration: which plugins run for which store, with which
//! version and settings, and recovery (dead letters, quarantine).
//! `shopcase store list|enable|disable|set` is a thin printer over this
//! module, and the admin HTTP API (`shopcase-admin`) calls the same
//! functions, so both enforce the same rules:
//!
//! - only configured stores can have plugins;
//! - the plugin (and version) must be packaged in the plugins directory;
//! - settings are parsed with their declared type and checked against the
//!   manifest (ranges, choices); errors name the setting;
//! - every change records who and when, in the installation and in the
//!   audit log, in the same transaction, with the state before and after;
//! - installing a plugin or pinning another version approves its content
//!   as it is on disk (component sha256, grants); new content of the same
//!   version runs only once approved ([`Admin::approve`]), and the listing
//!   shows what approving it would add ([`ApprovalStatus`]);
//! - a dead letter is retried or discarded once: a second attempt is a
//!   conflict, not a second run.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use shopcase_contract::approval::{GrantDiff, grants_of};
use shopcase_contract::time::Timestamp;
use shopcase_contract::{Limits, Manifest, SettingValue};
use shopcase_store::{
    Approval, DeadLetter, DeadLetterState, Installation, InstallationKey, NewAudit, Storage,
    StoreError,
};

use shopcase_pipeline::Config;
use shopcase_pipeline::dispatcher::registry;

/// Why an administration request was refused.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The store is not in the configuration.
    #[error("store `{shop}` is not configured (configured: {known})")]
    UnknownShop {
        /// The store asked for.
        shop: String,
        /// The configured ones.
        known: String,
    },
    /// No packaged plugin with this id.
    #[error("plugin `{plugin}` is not in {dir} (available: {available})")]
    UnknownPlugin {
        /// The plugin asked for.
        plugin: String,
        /// The plugins directory.
        dir: String,
        /// The plugins there.
        available: String,
    },
    /// The plugin exists, but not in this version.
    #[error("plugin `{plugin}` has no version {version} in {dir} (available: {available})")]
    UnknownVersion {
        /// The plugin.
        plugin: String,
        /// The version asked for.
        version: String,
        /// The plugins directory.
        dir: String,
        /// The versions there.
        available: String,
    },
    /// The plugin is not installed for the store.
    #[error("plugin `{plugin}` is not installed for `{shop}`; enable it first")]
    NotInstalled {
        /// The store.
        shop: String,
        /// The plugin.
        plugin: String,
    },
    /// A setting is unknown or its value is invalid.
    #[error("{0}")]
    Setting(String),
    /// The plugin is not quarantined for the store (nothing to lift).
    #[error("plugin `{plugin}` is not quarantined for `{shop}`")]
    NotQuarantined {
        /// The store.
        shop: String,
        /// The plugin.
        plugin: String,
    },
    /// No dead letter with this id.
    #[error("dead letter {id} does not exist")]
    NoDeadLetter {
        /// The id asked for.
        id: i64,
    },
    /// The dead letter was already retried or discarded.
    #[error("dead letter {id} is already {state}")]
    DeadLetterResolved {
        /// The dead letter.
        id: i64,
        /// What was done with it: `retried` or `discarded`.
        state: &'static str,
    },
    /// The plugin version is packaged in more than one directory; neither
    /// is used until all but one are removed.
    #[error("{0}")]
    Duplicate(String),
    /// The content on disk is what the installation's approval already
    /// names: there is nothing new to approve.
    #[error(
        "plugin `{plugin}` {version} for `{shop}`: the content on disk is already approved (sha256 {sha256})"
    )]
    AlreadyApproved {
        /// The store.
        shop: String,
        /// The plugin.
        plugin: String,
        /// The pinned version.
        version: String,
        /// The approved component's sha256.
        sha256: String,
    },
    /// The component on disk does not hash to its manifest's sha256: it
    /// cannot be approved (it would not load).
    #[error(
        "plugin `{plugin}` {version}: the component does not match the sha256 in its manifest (hash-mismatch); package it again"
    )]
    HashMismatch {
        /// The plugin.
        plugin: String,
        /// The version.
        version: String,
    },
    /// The request contradicts the current state.
    #[error("{0}")]
    Conflict(String),
    /// The request itself is malformed.
    #[error("{0}")]
    Invalid(String),
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StoreError),
}

/// A setting value as given by the admin.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingInput {
    /// Command-line spelling: text as is, numbers and booleans parsed,
    /// lists comma-separated.
    Text(String),
    /// A JSON value (admin API).
    Json(serde_json::Value),
}

/// `store enable`.
#[derive(Debug, Clone)]
pub struct EnableRequest {
    /// The store.
    pub shop: String,
    /// The plugin.
    pub plugin: String,
    /// The version (default: the newest packaged).
    pub version: Option<String>,
    /// Settings to set (on top of the current ones).
    pub settings: Vec<(String, SettingInput)>,
    /// Who.
    pub actor: String,
}

/// `store set`.
#[derive(Debug, Clone, Default)]
pub struct SetRequest {
    /// The store.
    pub shop: String,
    /// The plugin.
    pub plugin: String,
    /// Switch to this version.
    pub version: Option<String>,
    /// Settings to set.
    pub settings: Vec<(String, SettingInput)>,
    /// Settings to return to their defaults.
    pub unset: Vec<String>,
    /// Lift a quarantine.
    pub unquarantine: bool,
    /// Who.
    pub actor: String,
}

/// `store approve`: approve the content on disk of the version an
/// installation pins.
#[derive(Debug, Clone)]
pub struct ApproveRequest {
    /// The store.
    pub shop: String,
    /// The plugin.
    pub plugin: String,
    /// Who.
    pub actor: String,
}

/// What an approval replaced.
#[derive(Debug, Clone, Serialize)]
pub struct Approved {
    /// The installation, with its new approval.
    pub installation: Installation,
    /// The approval before (`None`: none was recorded).
    pub before: Option<Approval>,
    /// How the grants changed from the approval before.
    pub grants: GrantDiff,
}

/// Whether what is on disk is what the store approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalState {
    /// The plugin on disk is what was approved: it runs.
    Approved,
    /// The plugin on disk differs from what was approved (content or
    /// grants): its runs fail `plugin-unavailable` until an admin approves.
    Pending,
    /// No approval recorded (an installation from before approvals, whose
    /// plugin was not on disk when the host started): approve it.
    NotRecorded,
    /// The pinned version is not usable on disk (missing, or packaged
    /// twice): see `problem`.
    Unavailable,
}

/// The approval of an installation compared with the plugin on disk.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalStatus {
    /// Where it stands.
    pub state: ApprovalState,
    /// One line for people, e.g. `pending — grants added: data
    /// payment-details, action refund`.
    pub summary: String,
    /// The sha256 of the component the manifest on disk names.
    pub on_disk_sha256: Option<String>,
    /// Grants on disk and not approved.
    pub grants_added: Vec<String>,
    /// Grants approved and no longer on disk.
    pub grants_removed: Vec<String>,
}

/// A store and its installations, for listing.
#[derive(Debug, Clone, Serialize)]
pub struct StoreView {
    /// `name.myshopify.com`.
    pub domain: String,
    /// Admin API version.
    pub api_version: String,
    /// Whether the configuration has it (stores can remain in the database
    /// after being removed from the configuration).
    pub configured: bool,
    /// Its plugins.
    pub installations: Vec<InstallationView>,
    /// The services its calls wait for: the store's circuit breakers that
    /// are not closed (Shopify or Core Case down, or refusing its
    /// credentials). Work waits and resumes by itself; empty when every
    /// service answers (or when no pipeline runs in this process).
    pub upstreams: Vec<shopcase_pipeline::breaker::BreakerState>,
}

/// An installation with its effective settings.
#[derive(Debug, Clone, Serialize)]
pub struct InstallationView {
    /// As stored.
    #[serde(flatten)]
    pub installation: Installation,
    /// The manifest's defaults overlaid with the admin's settings, if the
    /// installed version is packaged and the settings are valid for it.
    pub effective_settings: Option<BTreeMap<String, SettingValue>>,
    /// Why the installation cannot run as is, if it cannot.
    pub problem: Option<String>,
    /// The approval compared with the plugin on disk (what approving would
    /// add or remove).
    pub approval: ApprovalStatus,
}

/// Administration over one data directory.
#[derive(Debug, Clone)]
pub struct Admin {
    storage: Arc<dyn Storage>,
    plugins_dir: PathBuf,
    stores: Vec<(String, String)>,
    caps: Limits,
    /// The running pipeline's circuit breakers, when there is one.
    breakers: Option<Arc<shopcase_pipeline::breaker::Breakers>>,
    /// `<server.public-url>/webhooks/shopify`, when set.
    webhook_url: Option<String>,
    /// The Admin API client with the stores' tokens (`store connect`).
    shopify: Option<Arc<shopcase_shopify::ShopifyClient>>,
}

impl Admin {
    /// Over an open storage.
    pub fn new(storage: Arc<dyn Storage>, config: &Config) -> Admin {
        Admin {
            storage,
            plugins_dir: config.plugins_dir.clone(),
            stores: config
                .stores
                .iter()
                .map(|s| (s.domain.clone(), s.api_version.clone()))
                .collect(),
            caps: config.sandbox.caps,
            breakers: None,
            webhook_url: config.server.webhook_url(),
            shopify: None,
        }
    }

    /// Connect stores through this Shopify client (every store with an
    /// Admin API token registered): [`Admin::connect`].
    pub fn with_shopify(mut self, client: Arc<shopcase_shopify::ShopifyClient>) -> Admin {
        self.shopify = Some(client);
        self
    }

    pub(crate) fn shopify(&self) -> Option<&Arc<shopcase_shopify::ShopifyClient>> {
        self.shopify.as_ref()
    }

    pub(crate) fn webhook_url(&self) -> Option<String> {
        self.webhook_url.clone()
    }

    pub(crate) fn plugins_dir(&self) -> &std::path::Path {
        &self.plugins_dir
    }

    /// Refuse a store that is not configured.
    pub(crate) fn check_configured(&self, shop: &str) -> Result<(), AdminError> {
        self.check_shop(shop)
    }

    /// Report the running pipeline's circuit breakers in the store views
    /// (the same `Breakers` given to [`shopcase_pipeline::PipelineBuilder::breakers`]).
    pub fn with_breakers(mut self, breakers: Arc<shopcase_pipeline::breaker::Breakers>) -> Admin {
        self.breakers = Some(breakers);
        self
    }

    /// Open the configuration's storage (`[storage]`: the SQLite file in
    /// the data directory, or the PostgreSQL database).
    pub async fn open(config: &Config) -> Result<Admin, AdminError> {
        let storage = config.storage.open(&config.data_dir).await?;
        Ok(Admin::new(storage, config))
    }

    /// The storage.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// Every store (configured, or known from the database) with its plugins.
    pub async fn list(&self) -> Result<Vec<StoreView>, AdminError> {
        let mut views: BTreeMap<String, StoreView> = BTreeMap::new();
        for (domain, api) in &self.stores {
            views.insert(
                domain.clone(),
                StoreView {
                    domain: domain.clone(),
                    api_version: api.clone(),
                    configured: true,
                    installations: vec![],
                    upstreams: vec![],
                },
            );
        }
        for r in self.storage.stores().await? {
            views.entry(r.domain.clone()).or_insert(StoreView {
                domain: r.domain,
                api_version: r.api_version,
                configured: false,
                installations: vec![],
                upstreams: vec![],
            });
        }
        for inst in self.storage.installations(None).await? {
            let on_disk = registry::lookup(&self.plugins_dir, &inst.plugin_id, &inst.version);
            let (effective, problem) = match &on_disk {
                Err(m) => (None, Some(m.describe(&inst.plugin_id, &inst.version))),
                Ok(m) => match m.resolve_settings(&inst.settings) {
                    Ok(s) => (Some(s), None),
                    Err(e) => (None, Some(e.to_string())),
                },
            };
            let approval = approval_status(&inst, on_disk.as_ref().ok());
            let view = InstallationView {
                installation: inst,
                effective_settings: effective,
                problem,
                approval,
            };
            let shop = view.installation.shop.clone();
            views
                .entry(shop.clone())
                .or_insert(StoreView {
                    domain: shop,
                    api_version: String::new(),
                    configured: false,
                    installations: vec![],
                    upstreams: vec![],
                })
                .installations
                .push(view);
        }
        if let Some(b) = &self.breakers {
            for held in b.held() {
                if let Some(v) = views.get_mut(&held.shop) {
                    v.upstreams.push(held);
                }
            }
        }
        Ok(views.into_values().collect())
    }

    /// Install (or re-enable) a plugin for a store.
    pub async fn enable(&self, req: EnableRequest) -> Result<Installation, AdminError> {
        self.check_shop(&req.shop)?;
        check_actor(&req.actor)?;
        let manifest = self.manifest(&req.plugin, req.version.as_deref())?;
        let current = self.storage.installation(&req.shop, &req.plugin).await?;
        let mut overrides = current
            .as_ref()
            .map(|c| c.settings.clone())
            .unwrap_or_default();
        apply_settings(&manifest, &mut overrides, &req.settings, &[])?;
        let now = Timestamp::now();
        // Installing, or pinning another version, approves what is on disk;
        // enabling again the same version keeps the approval (new content
        // of a version is approved with `approve`, after seeing its grants).
        let approved = match &current {
            Some(c) if c.version == manifest.version && c.approved.is_some() => c.approved.clone(),
            _ => Some(approval_of(&manifest, &req.actor, now)?),
        };
        let inst = Installation {
            shop: req.shop.clone(),
            plugin_id: manifest.id.clone(),
            version: manifest.version.clone(),
            settings: overrides,
            enabled: true,
            enabled_by: Some(req.actor.clone()),
            enabled_at: Some(now),
            updated_by: req.actor.clone(),
            updated_at: now,
            consecutive_failures: current.as_ref().map_or(0, |c| c.consecutive_failures),
            quarantine: current.as_ref().and_then(|c| c.quarantine.clone()),
            approved,
        };
        self.save(&inst, current.as_ref(), "installation.enable", now)
            .await?;
        Ok(inst)
    }

    /// Stop a plugin getting a store's events (its settings are kept).
    pub async fn disable(
        &self,
        shop: &str,
        plugin: &str,
        actor: &str,
    ) -> Result<Installation, AdminError> {
        check_actor(actor)?;
        let current = self.installed(shop, plugin).await?;
        let now = Timestamp::now();
        let inst = Installation {
            enabled: false,
            updated_by: actor.to_owned(),
            updated_at: now,
            ..current.clone()
        };
        self.save(&inst, Some(&current), "installation.disable", now)
            .await?;
        Ok(inst)
    }

    /// Change an installation's settings or version, or lift its quarantine.
    pub async fn set(&self, req: SetRequest) -> Result<Installation, AdminError> {
        check_actor(&req.actor)?;
        if req.version.is_none()
            && req.settings.is_empty()
            && req.unset.is_empty()
            && !req.unquarantine
        {
            return Err(AdminError::Invalid(
                "nothing to change: give --set, --unset, --version or --unquarantine".into(),
            ));
        }
        let current = self.installed(&req.shop, &req.plugin).await?;
        let now = Timestamp::now();
        if req.unquarantine {
            let audit = NewAudit {
                actor: req.actor.clone(),
                action: "installation.unquarantine".into(),
                shop: Some(req.shop.clone()),
                plugin_id: Some(req.plugin.clone()),
                details: json!({
                    "reason": current.quarantine.as_ref().map(|q| q.reason.clone()),
                    "before": {"quarantine": current.quarantine, "consecutive_failures": current.consecutive_failures},
                    "after": {"quarantine": null, "consecutive_failures": 0},
                }),
                at: now,
            };
            if !self
                .storage
                .unquarantine(&req.shop, &req.plugin, audit)
                .await?
            {
                return Err(AdminError::NotQuarantined {
                    shop: req.shop.clone(),
                    plugin: req.plugin.clone(),
                });
            }
        }
        if req.version.is_none() && req.settings.is_empty() && req.unset.is_empty() {
            return self.installed(&req.shop, &req.plugin).await;
        }
        let version = req
            .version
            .clone()
            .unwrap_or_else(|| current.version.clone());
        let manifest = self.manifest(&req.plugin, Some(&version))?;
        let mut overrides = current.settings.clone();
        apply_settings(&manifest, &mut overrides, &req.settings, &req.unset)?;
        let latest = self.installed(&req.shop, &req.plugin).await?;
        // Another version is approved as it is on disk now; the same
        // version keeps its approval (settings do not approve content).
        let approved = if manifest.version == latest.version && latest.approved.is_some() {
            latest.approved.clone()
        } else {
            Some(approval_of(&manifest, &req.actor, now)?)
        };
        let inst = Installation {
            version: manifest.version.clone(),
            settings: overrides,
            updated_by: req.actor.clone(),
            updated_at: now,
            approved,
            ..latest
        };
        self.save(&inst, Some(&current), "installation.set", now)
            .await?;
        Ok(inst)
    }

    /// Approve the content on disk of the version an installation pins:
    /// its component's sha256 and its manifest's grants become what the
    /// store runs. Audited (who, when, the sha256 before and after, the
    /// grants added and removed). Approving what is already approved is
    /// [`AdminError::AlreadyApproved`]; an installation changed by someone
    /// else meanwhile is a conflict (look again, then approve).
    pub async fn approve(&self, req: ApproveRequest) -> Result<Approved, AdminError> {
        check_actor(&req.actor)?;
        let current = self.installed(&req.shop, &req.plugin).await?;
        let manifest = self.manifest(&req.plugin, Some(&current.version))?;
        let now = Timestamp::now();
        let approval = approval_of(&manifest, &req.actor, now)?;
        if let Some(a) = &current.approved
            && a.same_content(&approval.sha256, &approval.grants_digest)
        {
            return Err(AdminError::AlreadyApproved {
                shop: req.shop,
                plugin: req.plugin,
                version: current.version,
                sha256: a.sha256.clone(),
            });
        }
        let grants = GrantDiff::between(
            current.approved.as_ref().map_or(&[][..], |a| &a.grants),
            &approval.grants,
        );
        let audit = NewAudit {
            actor: req.actor.clone(),
            action: "installation.approve".into(),
            shop: Some(req.shop.clone()),
            plugin_id: Some(req.plugin.clone()),
            details: json!({
                "version": current.version,
                "before": current.approved.as_ref().map(|a| json!({
                    "sha256": a.sha256, "grants_digest": a.grants_digest, "by": a.by, "at": a.at,
                })),
                "after": {"sha256": approval.sha256, "grants_digest": approval.grants_digest},
                "grants_added": grants.added,
                "grants_removed": grants.removed,
            }),
            at: now,
        };
        let key = InstallationKey {
            shop: req.shop.clone(),
            plugin_id: req.plugin.clone(),
            version: current.version.clone(),
        };
        if !self
            .storage
            .approve_installation(key, current.approved.clone(), approval.clone(), audit)
            .await?
        {
            return Err(AdminError::Conflict(format!(
                "plugin `{}` for `{}` changed while it was being approved (another approval or version); look at it again, then approve",
                req.plugin, req.shop
            )));
        }
        Ok(Approved {
            installation: Installation {
                approved: Some(approval),
                ..current.clone()
            },
            before: current.approved,
            grants,
        })
    }

    /// The configured stores' domains.
    pub fn configured_stores(&self) -> impl Iterator<Item = &str> {
        self.stores.iter().map(|(d, _)| d.as_str())
    }

    /// Every packaged plugin version in the plugins directory, sorted by id
    /// and version (unreadable manifests are skipped with a warning).
    pub fn packaged_plugins(&self) -> Vec<Manifest> {
        registry::scan(&self.plugins_dir)
    }

    /// The packaged versions of one plugin, oldest first.
    pub fn plugin_versions(&self, plugin: &str) -> Vec<Manifest> {
        registry::versions(&self.plugins_dir, plugin)
    }

    /// The most any plugin gets (`[sandbox.caps]`): a manifest's limits are
    /// capped by these.
    pub fn caps(&self) -> Limits {
        self.caps
    }

    /// Put a dead letter's work back to run once more (a plugin run, an
    /// action, or a host-handled event) and audit it. A dead letter is
    /// resolved once: retrying it again is [`AdminError::DeadLetterResolved`].
    pub async fn retry_dead_letter(&self, id: i64, actor: &str) -> Result<DeadLetter, AdminError> {
        self.resolve_dead_letter(id, actor, DeadLetterState::Retried)
            .await
    }

    /// Give up on a dead letter (recorded and audited; nothing runs).
    pub async fn discard_dead_letter(
        &self,
        id: i64,
        actor: &str,
    ) -> Result<DeadLetter, AdminError> {
        self.resolve_dead_letter(id, actor, DeadLetterState::Discarded)
            .await
    }

    async fn resolve_dead_letter(
        &self,
        id: i64,
        actor: &str,
        to: DeadLetterState,
    ) -> Result<DeadLetter, AdminError> {
        check_actor(actor)?;
        let before = self
            .storage
            .dead_letter(id)
            .await?
            .ok_or(AdminError::NoDeadLetter { id })?;
        if before.state != DeadLetterState::Open {
            return Err(AdminError::DeadLetterResolved {
                id,
                state: before.state.as_str(),
            });
        }
        let now = Timestamp::now();
        // The storage re-checks the state in its transaction (and writes
        // the audit record, open → retried/discarded), so two admins
        // racing resolve it once; the loser gets a conflict.
        let done = match to {
            DeadLetterState::Retried => self.storage.retry_dead_letter(id, actor, now).await,
            _ => self.storage.discard_dead_letter(id, actor, now).await,
        };
        match done {
            Ok(()) => {}
            Err(StoreError::Conflict(message)) => {
                return Err(match self.storage.dead_letter(id).await? {
                    Some(d) if d.state != DeadLetterState::Open => AdminError::DeadLetterResolved {
                        id,
                        state: d.state.as_str(),
                    },
                    // Still open, but its work is no longer dead (the event
                    // or entry changed under it).
                    _ => AdminError::Conflict(message),
                });
            }
            Err(StoreError::NotFound { .. }) => return Err(AdminError::NoDeadLetter { id }),
            Err(e) => return Err(e.into()),
        }
        self.storage
            .dead_letter(id)
            .await?
            .ok_or(AdminError::NoDeadLetter { id })
    }

    async fn save(
        &self,
        inst: &Installation,
        before: Option<&Installation>,
        action: &str,
        now: Timestamp,
    ) -> Result<(), AdminError> {
        let audit = NewAudit {
            actor: inst.updated_by.clone(),
            action: action.to_owned(),
            shop: Some(inst.shop.clone()),
            plugin_id: Some(inst.plugin_id.clone()),
            details: json!({
                "version": inst.version,
                "enabled": inst.enabled,
                "settings": inst.settings,
                "approved": approval_change(inst, before),
                "before": before.map(|b| json!({"version": b.version, "enabled": b.enabled, "settings": b.settings})),
            }),
            at: now,
        };
        self.storage.put_installation(inst.clone(), audit).await?;
        Ok(())
    }

    async fn installed(&self, shop: &str, plugin: &str) -> Result<Installation, AdminError> {
        self.storage
            .installation(shop, plugin)
            .await?
            .ok_or_else(|| AdminError::NotInstalled {
                shop: shop.to_owned(),
                plugin: plugin.to_owned(),
            })
    }

    fn check_shop(&self, shop: &str) -> Result<(), AdminError> {
        if self.stores.iter().any(|(d, _)| d == shop) {
            return Ok(());
        }
        Err(AdminError::UnknownShop {
            shop: shop.to_owned(),
            known: list_or_none(self.stores.iter().map(|(d, _)| d.clone())),
        })
    }

    /// The packaged manifest of `plugin` at `version` (default: newest).
    fn manifest(&self, plugin: &str, version: Option<&str>) -> Result<Manifest, AdminError> {
        let all = registry::versions(&self.plugins_dir, plugin);
        // A version packaged twice is named, not passed over: asked for,
        // or possibly the newest, it is refused rather than guessed.
        let twice = registry::duplicates(&self.plugins_dir, plugin);
        match version {
            Some(v) => {
                if let Err(registry::Missing::Duplicate(d)) =
                    registry::lookup(&self.plugins_dir, plugin, v)
                {
                    return Err(AdminError::Duplicate(d));
                }
            }
            None => {
                if let Some(d) = twice.into_iter().next() {
                    return Err(AdminError::Duplicate(d));
                }
            }
        }
        if all.is_empty() {
            return Err(AdminError::UnknownPlugin {
                plugin: plugin.to_owned(),
                dir: self.plugins_dir.display().to_string(),
                available: list_or_none(
                    registry::scan(&self.plugins_dir).into_iter().map(|m| m.id),
                ),
            });
        }
        match version {
            None => all
                .into_iter()
                .last()
                .ok_or_else(|| AdminError::Invalid("no version".into())),
            Some(v) => {
                let available = list_or_none(all.iter().map(|m| m.version.clone()));
                all.into_iter()
                    .find(|m| m.version == v)
                    .ok_or(AdminError::UnknownVersion {
                        plugin: plugin.to_owned(),
                        version: v.to_owned(),
                        dir: self.plugins_dir.display().to_string(),
                        available,
                    })
            }
        }
    }
}

fn list_or_none(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn check_actor(actor: &str) -> Result<(), AdminError> {
    if actor.trim().is_empty() || actor.len() > 128 || actor.chars().any(char::is_control) {
        return Err(AdminError::Invalid(
            "say who makes the change (--by, 1-128 printable characters)".into(),
        ));
    }
    Ok(())
}

/// Apply `set` and `unset` to `overrides` and check the result against the
/// manifest (unknown settings, types, ranges, choices).
fn apply_settings(
    manifest: &Manifest,
    overrides: &mut BTreeMap<String, SettingValue>,
    set: &[(String, SettingInput)],
    unset: &[String],
) -> Result<(), AdminError> {
    for name in unset {
        if !manifest.settings.contains_key(name) {
            return Err(AdminError::Setting(format!(
                "setting `{name}`: plugin `{}` has no such setting",
                manifest.id
            )));
        }
        overrides.remove(name);
    }
    for (name, input) in set {
        let spec = manifest.settings.get(name).ok_or_else(|| {
            AdminError::Setting(format!(
                "setting `{name}`: plugin `{}` has no such setting (it has: {})",
                manifest.id,
                list_or_none(manifest.settings.keys().cloned())
            ))
        })?;
        let value = match input {
            SettingInput::Text(s) => SettingValue::from_cli(s, spec.ty),
            SettingInput::Json(v) => SettingValue::from_json(v, spec.ty),
        }
        .map_err(|m| AdminError::Setting(format!("setting `{name}`: {m}")))?;
        overrides.insert(name.clone(), value);
    }
    // Settings a newer version no longer has are dropped, not errors.
    overrides.retain(|k, _| manifest.settings.contains_key(k));
    manifest
        .resolve_settings(overrides)
        .map_err(|e| AdminError::Setting(e.to_string()))?;
    Ok(())
}

/// An approval of `manifest` as it is on disk now (see
/// [`registry::approval_of`]); a missing or changed component is a
/// hash mismatch.
fn approval_of(manifest: &Manifest, actor: &str, now: Timestamp) -> Result<Approval, AdminError> {
    registry::approval_of(manifest, actor, now).ok_or_else(|| AdminError::HashMismatch {
        plugin: manifest.id.clone(),
        version: manifest.version.clone(),
    })
}

/// For an installation's audit record: its approval, and how the grants
/// changed when the change approved new content.
fn approval_change(inst: &Installation, before: Option<&Installation>) -> serde_json::Value {
    let Some(a) = &inst.approved else {
        return serde_json::Value::Null;
    };
    let old = before.and_then(|b| b.approved.as_ref());
    if old.is_some_and(|o| o.same_content(&a.sha256, &a.grants_digest)) {
        return json!({"sha256": a.sha256, "grants_digest": a.grants_digest, "changed": false});
    }
    let diff = GrantDiff::between(old.map_or(&[][..], |o| &o.grants), &a.grants);
    json!({
        "sha256": a.sha256,
        "grants_digest": a.grants_digest,
        "changed": true,
        "before_sha256": old.map(|o| o.sha256.clone()),
        "grants_added": diff.added,
        "grants_removed": diff.removed,
    })
}

/// An installation's approval against the manifest on disk (compared by
/// the sha256 the manifest names; loading checks the file against it).
fn approval_status(inst: &Installation, on_disk: Option<&Manifest>) -> ApprovalStatus {
    let Some(m) = on_disk else {
        return ApprovalStatus {
            state: ApprovalState::Unavailable,
            summary: "unavailable — the pinned version is not usable on disk (see problem)".into(),
            on_disk_sha256: None,
            grants_added: vec![],
            grants_removed: vec![],
        };
    };
    let sha = m
        .component
        .as_ref()
        .map(|c| c.sha256.clone())
        .unwrap_or_default();
    let (grants, digest) = grants_of(m);
    let Some(a) = &inst.approved else {
        return ApprovalStatus {
            state: ApprovalState::NotRecorded,
            summary: format!("not recorded — approve it (grants: {})", grants.join(", ")),
            on_disk_sha256: Some(sha),
            grants_added: grants,
            grants_removed: vec![],
        };
    };
    let diff = GrantDiff::between(&a.grants, &grants);
    if a.same_content(&sha, &digest) {
        return ApprovalStatus {
            state: ApprovalState::Approved,
            summary: format!("approved by {} at {}", a.by, a.at),
            on_disk_sha256: Some(sha),
            grants_added: vec![],
            grants_removed: vec![],
        };
    }
    let what = if diff.is_empty() {
        "the component changed, grants unchanged".to_owned()
    } else {
        diff.summary()
    };
    ApprovalStatus {
        state: ApprovalState::Pending,
        summary: format!("pending — {what}"),
        on_disk_sha256: Some(sha),
        grants_added: diff.added,
        grants_removed: diff.removed,
    }
}
