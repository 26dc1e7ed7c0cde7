//! What the API answers with, beyond the storage's own values.
//!
//! Every response type is listed here or is a storage value without
//! credentials (`StoreView`, `InstallationView`, `DispatchRow`,
//! `JournalEntry`, `DeadLetter`, `CaseLink`, `AuditEntry`). Nothing the
//! API returns holds a webhook secret, an Admin API token, a Core Case
//! credential or an API token (or its hash): stores come from the
//! database's store records, never from the configuration's secrets, and
//! manifests are rebuilt without their file paths.

use std::collections::BTreeMap;

use serde::Serialize;
use shopcase_contract::manifest::Grants;
use shopcase_contract::settings::SettingSpec;
use shopcase_contract::{Limits, Manifest, Resources};
use shopcase_store::{
    ApiRole, DeadLetter, DispatchRow, EventSource, EventStatus, JournalEntry, StoredEvent,
    Timestamp,
};

/// `GET /me`: the caller's token.
#[derive(Debug, Serialize)]
pub(crate) struct MeView {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) role: ApiRole,
    /// The stores it is limited to (empty with `all_stores`).
    pub(crate) stores: Vec<String>,
    pub(crate) all_stores: bool,
    pub(crate) can_change: bool,
}

/// One packaged version of a plugin: its manifest without file paths,
/// with the limits the host will actually apply.
#[derive(Debug, Serialize)]
pub(crate) struct PluginVersionView {
    pub(crate) id: String,
    pub(crate) version: String,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) api: String,
    pub(crate) topics: Vec<String>,
    pub(crate) grants: Grants,
    /// What the manifest asks for.
    pub(crate) limits: Limits,
    /// What it gets: `limits` capped by the host's `[sandbox.caps]`.
    pub(crate) effective_limits: Limits,
    pub(crate) settings: BTreeMap<String, SettingSpec>,
    /// The component's SHA-256, checked before it is loaded.
    pub(crate) sha256: Option<String>,
}

impl PluginVersionView {
    pub(crate) fn new(m: Manifest, caps: Limits) -> PluginVersionView {
        PluginVersionView {
            effective_limits: m.limits.capped_by(caps),
            sha256: m.component.map(|c| c.sha256),
            id: m.id,
            version: m.version,
            name: m.name,
            description: m.description,
            api: m.api,
            topics: m.topics.into_iter().collect(),
            grants: m.grants,
            limits: m.limits,
            settings: m.settings,
        }
    }
}

/// A packaged plugin and its versions (oldest first).
#[derive(Debug, Serialize)]
pub(crate) struct PluginView {
    pub(crate) id: String,
    /// The newest version's name and description.
    pub(crate) name: String,
    pub(crate) description: String,
    /// The version `enable` installs by default.
    pub(crate) latest: String,
    pub(crate) versions: Vec<PluginVersionView>,
}

impl PluginView {
    /// Group manifests (sorted by id, then version) into plugins.
    pub(crate) fn group(manifests: Vec<Manifest>, caps: Limits) -> Vec<PluginView> {
        let mut out: Vec<PluginView> = Vec::new();
        for m in manifests {
            let v = PluginVersionView::new(m, caps);
            match out.last_mut() {
                Some(p) if p.id == v.id => {
                    p.name.clone_from(&v.name);
                    p.description.clone_from(&v.description);
                    p.latest.clone_from(&v.version);
                    p.versions.push(v);
                }
                _ => out.push(PluginView {
                    id: v.id.clone(),
                    name: v.name.clone(),
                    description: v.description.clone(),
                    latest: v.version.clone(),
                    versions: vec![v],
                }),
            }
        }
        out
    }
}

/// An inbox event without its payload (listings).
#[derive(Debug, Serialize)]
pub(crate) struct EventSummary {
    pub(crate) id: String,
    /// Its position in the inbox (the `before` cursor of the next page).
    pub(crate) seq: i64,
    pub(crate) shop: String,
    pub(crate) topic: String,
    pub(crate) source: EventSource,
    pub(crate) status: EventStatus,
    pub(crate) api_version: String,
    pub(crate) shopify_event_id: Option<String>,
    pub(crate) triggered_at: String,
    pub(crate) received_at: Timestamp,
    pub(crate) resources: Resources,
    pub(crate) claims: u32,
    /// Claims taken over from a worker that died holding it (more than
    /// zero: a suspect, run alone; `dispatcher.poison-after` sets it aside).
    pub(crate) abandoned: u32,
    pub(crate) target_plugin: Option<String>,
    pub(crate) redacted_at: Option<Timestamp>,
}

impl From<&StoredEvent> for EventSummary {
    fn from(e: &StoredEvent) -> EventSummary {
        EventSummary {
            id: e.event.id.clone(),
            seq: e.seq,
            shop: e.event.shop.clone(),
            topic: e.event.topic.clone(),
            source: e.source,
            status: e.status,
            api_version: e.event.api_version.clone(),
            shopify_event_id: e.event.shopify_event_id.clone(),
            triggered_at: e.event.triggered_at.clone(),
            received_at: e.received_at,
            resources: e.event.resources.clone(),
            claims: e.claims,
            abandoned: e.abandoned,
            target_plugin: e.target_plugin.clone(),
            redacted_at: e.redacted_at,
        }
    }
}

/// One plugin's outcome on an event, with the actions it returned.
#[derive(Debug, Serialize)]
pub(crate) struct PluginRun {
    #[serde(flatten)]
    pub(crate) run: DispatchRow,
    /// The actions it returned, as journalled, in order (`actions` of
    /// the run is their count).
    pub(crate) journal: Vec<JournalEntry>,
}

/// `GET /events/{id}`.
#[derive(Debug, Serialize)]
pub(crate) struct EventDetail {
    pub(crate) event: EventSummary,
    /// The payload as received (JSON, or the text if it is not JSON).
    pub(crate) payload: serde_json::Value,
    pub(crate) plugins: Vec<PluginRun>,
}

impl EventDetail {
    pub(crate) fn new(
        e: &StoredEvent,
        rows: Vec<DispatchRow>,
        mut journal: Vec<JournalEntry>,
    ) -> EventDetail {
        let plugins = rows
            .into_iter()
            .map(|run| {
                let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut journal)
                    .into_iter()
                    .partition(|j| j.plugin_id == run.plugin_id);
                journal = rest;
                PluginRun { run, journal: mine }
            })
            .collect();
        EventDetail {
            event: e.into(),
            payload: serde_json::from_str(&e.event.payload)
                .unwrap_or_else(|_| serde_json::Value::String(e.event.payload.clone())),
            plugins,
        }
    }
}

/// `GET /dead-letters/{id}`: the letter with what it is about.
#[derive(Debug, Serialize)]
pub(crate) struct DeadLetterDetail {
    pub(crate) dead_letter: DeadLetter,
    pub(crate) event: Option<EventSummary>,
    /// The journal entry (action letters).
    pub(crate) action: Option<JournalEntry>,
}

/// A quarantined installation.
#[derive(Debug, Serialize)]
pub(crate) struct QuarantineView {
    pub(crate) shop: String,
    pub(crate) plugin_id: String,
    pub(crate) version: String,
    pub(crate) enabled: bool,
    pub(crate) since: Timestamp,
    pub(crate) reason: String,
    pub(crate) consecutive_failures: u32,
}
