//! Run a plugin natively, the way the host runs its component, so plugin
//! logic is unit-tested with `cargo test` (native targets only).
//!
//! ```ignore
//! use shopcase_sdk::Event;
//! use shopcase_sdk::harness::Harness;
//!
//! let mut harness = Harness::from_manifest(concat!(env!("CARGO_MANIFEST_DIR"), "/plugin.toml"))?
//!     .setting("threshold", 1000)
//!     .kv("seen:1", "1");
//! let event = Event::from_file("fixtures/events/order-above.json")?;
//! let run = harness.run::<MyPlugin>(&event)?;
//! assert_eq!(run.actions.len(), 2);
//! assert_eq!(run.logs[0].message, "...");
//! ```
//!
//! Built [from a manifest](Harness::from_manifest), a run behaves like the
//! host's:
//! - an event of a topic the manifest does not subscribe to is refused;
//! - settings are the manifest's defaults overlaid with
//!   [`Harness::setting`], each checked against its declaration;
//! - the payload is minimised by the host's own code
//!   (`shopcase_contract::minimise::minimise_text`): only the fields always
//!   visible and those of the granted data classes remain;
//! - a host function without its grant stops the run with
//!   [`HarnessError::GrantDenied`];
//! - the returned actions are converted to the host's form and validated
//!   (grants, case types, the event's own ids, sizes, formats) and their
//!   size is checked against `output-kib`;
//! - key-value writes are committed only when the run succeeds, with their
//!   time to live counted from the event's `triggered-at`;
//! - a plugin's error message is kept as the host keeps it (one line, at
//!   most 1000 characters).
//!
//! The host functions apply the host's own rules
//! (`shopcase_contract::host_rules`), and a cross-check in the shopcase
//! repository (`tests/crosscheck`) runs one plugin through this harness and
//! through the real sandbox on a corpus of normal and hostile cases and
//! requires identical outcomes: actions, host-call answers, failure kinds
//! and messages, log lines, key-value writes.
//!
//! [`Harness::new`] skips what needs a manifest (topics, grants,
//! minimisation) but still validates actions as if every kind and the case
//! types used were granted. Fuel, memory and the wall-clock deadline are not
//! emulated: run the built component with `shopcase plugin run` for those.
//!
//! # Layout
//! - this file: [`Harness`], [`Run`], [`HarnessError`] and the event file
//!   constructors on [`Event`];
//! - `backend`: the host functions' native implementation (a thread-local
//!   session);
//! - `convert`: SDK ↔ `shopcase-contract` conversions.

pub(crate) mod backend;
mod convert;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

/// The host's contract crate, for the types [`Run::journal`] and
/// [`HarnessError`] expose.
pub use shopcase_contract as contract;
use shopcase_contract::host_rules::LogBudget;
use shopcase_contract::validate::{InvalidAction, Scope};
use shopcase_contract::{
    ActionKind, FailureKind, Grants, HostGrant, Limits, Manifest, ManifestError,
};

use crate::{
    Action, CaseKey, CaseSummary, CustomerSummary, Event, Level, Plugin, PluginError, SettingValue,
    Timestamp,
};
use backend::{GrantDeniedSignal, Session};

/// Why a harness run (or its setup) failed. The run failures carry the
/// outcome name the host would report ([`HarnessError::failure_kind`]).
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The manifest could not be read or is invalid.
    #[error("bad-manifest: {0}")]
    Manifest(#[from] ManifestError),
    /// An event file could not be read or is malformed.
    #[error("bad event file: {0}")]
    EventFile(String),
    /// A setting given to the harness does not fit the manifest.
    #[error("bad setting: {0}")]
    Setting(#[from] shopcase_contract::settings::SettingError),
    /// The manifest does not subscribe to the event's topic: the host would
    /// never call the plugin with it.
    #[error("plugin `{plugin}` does not subscribe to topic `{topic}`")]
    NotSubscribed {
        /// The plugin id.
        plugin: String,
        /// The event's topic.
        topic: String,
    },
    /// The plugin called a host function its manifest does not grant.
    #[error(
        "grant-denied: `{function}` needs the `{grant}` grant, which the manifest does not give"
    )]
    GrantDenied {
        /// The host function, e.g. `host.kv-get`.
        function: &'static str,
        /// The missing grant.
        grant: HostGrant,
    },
    /// The plugin panicked (a trap in the sandbox).
    #[error("trap: the plugin panicked: {0}")]
    Trap(String),
    /// The plugin returned its own error.
    #[error("plugin-error{}: {}", if .0.retryable { " (retryable)" } else { "" }, .0.message)]
    Plugin(PluginError),
    /// A returned action failed the host's validation.
    #[error("invalid-action: {0}")]
    InvalidAction(InvalidAction),
    /// The returned actions are larger than the plugin's output limit.
    #[error("output-too-large: the actions are {bytes} bytes of JSON, over the limit of {limit}")]
    OutputTooLarge {
        /// Size of the actions' JSON.
        bytes: u64,
        /// The manifest's `output-kib`, in bytes.
        limit: u64,
    },
}

impl HarnessError {
    /// The host's name for this outcome (e.g. `grant-denied`), for the
    /// failures a run of the component would also have.
    pub fn failure_kind(&self) -> Option<FailureKind> {
        Some(match self {
            HarnessError::Manifest(_) => FailureKind::BadManifest,
            HarnessError::GrantDenied { .. } => FailureKind::GrantDenied,
            HarnessError::Trap(_) => FailureKind::Trap,
            HarnessError::Plugin(_) => FailureKind::PluginError,
            HarnessError::InvalidAction(_) => FailureKind::InvalidAction,
            HarnessError::OutputTooLarge { .. } => FailureKind::OutputTooLarge,
            HarnessError::EventFile(_)
            | HarnessError::Setting(_)
            | HarnessError::NotSubscribed { .. } => return None,
        })
    }

    /// The plugin's own error, if that is what this is.
    pub fn plugin_error(&self) -> Option<&PluginError> {
        match self {
            HarnessError::Plugin(e) => Some(e),
            _ => None,
        }
    }
}

/// One line the plugin logged.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Its level.
    pub level: Level,
    /// The text (truncated to 1 KiB, as the host does).
    pub message: String,
}

/// One key-value write of a run, in call order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvWrite {
    /// `kv::set`.
    Set {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// Time to live, from the event's `triggered-at`.
        ttl_seconds: Option<u32>,
    },
    /// `kv::delete`.
    Delete {
        /// The key.
        key: String,
    },
}

/// A committed key-value entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KvEntry {
    pub(crate) value: String,
    /// Absent or expired at or after this instant.
    pub(crate) expires_at: Option<Timestamp>,
}

/// What a successful run returned and did.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The actions, as the plugin returned them.
    pub actions: Vec<Action>,
    /// The same actions in the host's journal form; as JSON
    /// ([`Run::actions_json`]) this is what the host journals, and what
    /// conformance fixtures compare across languages.
    pub journal: Vec<contract::Action>,
    /// Lines logged, within the `log-kib` cap.
    pub logs: Vec<LogLine>,
    /// Lines dropped because the cap was reached.
    pub dropped_log_lines: u64,
    /// Key-value writes, in call order (now committed to the harness).
    pub kv_writes: Vec<KvWrite>,
}

impl Run {
    /// The actions as the host's journal JSON, e.g.
    /// `[{"kind": "open-case", "key": {...}, ...}, {"kind": "tags-add", ...}]`.
    pub fn actions_json(&self) -> serde_json::Value {
        // Serialising the journal types cannot fail (plain data, string keys).
        serde_json::to_value(&self.journal).unwrap_or_default()
    }

    /// The logged messages, in order.
    pub fn messages(&self) -> Vec<&str> {
        self.logs.iter().map(|l| l.message.as_str()).collect()
    }
}

/// A stand-in host for native tests: settings, key-value contents, customer
/// histories, linked cases, orders and their risk, and optionally the
/// plugin's manifest.
#[derive(Debug, Default)]
pub struct Harness {
    manifest: Option<Manifest>,
    settings: BTreeMap<String, SettingValue>,
    kv: BTreeMap<String, KvEntry>,
    histories: BTreeMap<u64, CustomerSummary>,
    cases: Vec<(CaseKey, CaseSummary)>,
    orders: BTreeMap<u64, crate::OrderDetails>,
    risks: BTreeMap<u64, crate::RiskSummary>,
    last_logs: Vec<LogLine>,
}

impl Harness {
    /// A harness without a manifest: every host function is allowed, the
    /// payload is not minimised, actions are validated as if every kind were
    /// granted.
    pub fn new() -> Harness {
        Harness::default()
    }

    /// A harness that enforces a source or packaged `plugin.toml`.
    pub fn from_manifest(path: impl AsRef<Path>) -> Result<Harness, HarnessError> {
        Ok(Harness::with_manifest(Manifest::load(path.as_ref())?))
    }

    /// A harness that enforces an already parsed manifest.
    pub fn with_manifest(manifest: Manifest) -> Harness {
        Harness {
            manifest: Some(manifest),
            ..Harness::default()
        }
    }

    /// The manifest, if the harness has one.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.manifest.as_ref()
    }

    /// Set a setting as a store admin would (checked against the manifest's
    /// declaration at run time).
    pub fn setting(mut self, name: impl Into<String>, value: impl Into<SettingValue>) -> Self {
        self.settings.insert(name.into(), value.into());
        self
    }

    /// Put a key-value entry in the store (no expiry).
    pub fn kv(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.kv.insert(
            key.into(),
            KvEntry {
                value: value.into(),
                expires_at: None,
            },
        );
        self
    }

    /// The history `host::customer_history` answers for its customer.
    pub fn customer_history(mut self, history: CustomerSummary) -> Self {
        self.histories.insert(history.customer_id, history);
        self
    }

    /// The order `host::order` answers for its id (whole: a run with a
    /// manifest minimises its addresses to the granted data classes, as
    /// the host does).
    pub fn order(mut self, order: crate::OrderDetails) -> Self {
        self.orders.insert(order.id, order);
        self
    }

    /// The risk assessment `host::order_risk` answers for `order_id`.
    pub fn order_risk(mut self, order_id: u64, risk: crate::RiskSummary) -> Self {
        self.risks.insert(order_id, risk);
        self
    }

    /// The case `host::linked_case` answers for `key`.
    pub fn linked_case(mut self, key: CaseKey, case: CaseSummary) -> Self {
        self.cases.retain(|(k, _)| *k != key);
        self.cases.push((key, case));
        self
    }

    /// A key-value entry as now committed (after successful runs), ignoring
    /// expiry.
    pub fn kv_value(&self, key: &str) -> Option<&str> {
        self.kv.get(key).map(|e| e.value.as_str())
    }

    /// The lines logged by the last run, whether it succeeded or not.
    pub fn last_logs(&self) -> &[LogLine] {
        &self.last_logs
    }

    /// Run plugin `P` on `event` as the host would, and check what it
    /// returns. Key-value writes are committed only on success.
    pub fn run<P: Plugin>(&mut self, event: &Event) -> Result<Run, HarnessError> {
        let mut event = event.clone();
        let settings = self.resolve_settings()?;
        let limits = self.manifest.as_ref().map_or(Limits::DEFAULT, |m| m.limits);
        if let Some(m) = &self.manifest {
            if !m.subscribes(&event.topic) {
                return Err(HarnessError::NotSubscribed {
                    plugin: m.id.clone(),
                    topic: event.topic,
                });
            }
            event.payload =
                shopcase_contract::minimise::minimise_text(&event.payload, &event.topic, &m.grants);
        }

        let now = Timestamp::parse(&event.triggered_at).ok();
        let mut session = Session::permissive();
        session.host_grants = self.manifest.as_ref().map(|m| m.grants.host.clone());
        session.case_types = self
            .manifest
            .as_ref()
            .map(|m| m.grants.case_types.iter().cloned().collect());
        session.sees_region = self
            .manifest
            .as_ref()
            .is_none_or(|m| m.grants.sees(shopcase_contract::DataClass::AddressRegion));
        session.data_grants = self.manifest.as_ref().map(|m| m.grants.clone());
        session.settings = settings;
        session.kv = self.kv.clone();
        session.now = now;
        session.resources = event.resources.clone();
        session.histories = self.histories.clone();
        session.cases = self.cases.clone();
        session.orders = self.orders.clone();
        session.risks = self.risks.clone();
        session.log_budget = LogBudget::new(limits.log_bytes);

        let previous = backend::install(session);
        let outcome = catch_unwind(AssertUnwindSafe(|| P::handle(&event)));
        let session = backend::take(previous).unwrap_or_else(Session::permissive);
        self.last_logs = session.logs.clone();

        let actions = match outcome {
            Ok(Ok(actions)) => actions,
            Ok(Err(e)) => {
                // As the host keeps it: one line, within the length limit.
                let mut e = crate::error::clamp(e);
                e.message = shopcase_contract::host_rules::error_message(&e.message);
                return Err(HarnessError::Plugin(e));
            }
            Err(payload) => {
                if let Some((grant, function)) = session.denied {
                    return Err(HarnessError::GrantDenied { function, grant });
                }
                if payload.is::<GrantDeniedSignal>() {
                    // Unreachable in practice: the signal is only raised with `denied` set.
                    return Err(HarnessError::Trap("grant denied".into()));
                }
                return Err(HarnessError::Trap(panic_message(payload.as_ref())));
            }
        };

        let journal: Vec<contract::Action> = actions.iter().map(Into::into).collect();
        let bytes = serde_json::to_vec(&journal).map_or(0, |v| v.len() as u64);
        if bytes > limits.output_bytes {
            return Err(HarnessError::OutputTooLarge {
                bytes,
                limit: limits.output_bytes,
            });
        }
        let grants = match &self.manifest {
            Some(m) => m.grants.clone(),
            None => permissive_grants(&journal),
        };
        let resources = convert::resources_to_contract(&event.resources);
        shopcase_contract::validate::validate(
            &journal,
            Scope {
                grants: &grants,
                resources: &resources,
                triggered_at: &event.triggered_at,
            },
        )
        .map_err(HarnessError::InvalidAction)?;

        for (key, write) in &session.pending {
            match write {
                Some((value, ttl)) => {
                    let expires_at = ttl.and_then(|t| Some(now?.plus_seconds(i64::from(t))));
                    self.kv.insert(
                        key.clone(),
                        KvEntry {
                            value: value.clone(),
                            expires_at,
                        },
                    );
                }
                None => {
                    self.kv.remove(key);
                }
            }
        }
        Ok(Run {
            actions,
            journal,
            logs: session.logs,
            dropped_log_lines: session.log_budget.dropped,
            kv_writes: session.kv_writes,
        })
    }

    /// The settings of a run: with a manifest, its defaults overlaid with
    /// the harness's, checked as the host checks an admin's choice.
    fn resolve_settings(&self) -> Result<BTreeMap<String, SettingValue>, HarnessError> {
        let Some(m) = &self.manifest else {
            return Ok(self.settings.clone());
        };
        let overrides = self
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), convert::setting_to_contract(v)))
            .collect();
        Ok(m.resolve_settings(&overrides)?
            .into_iter()
            .map(|(k, v)| (k, convert::setting_from_contract(v)))
            .collect())
    }
}

/// Every kind, host function and data class, and the case types the actions
/// use: validation then checks only ownership, sizes and formats.
fn permissive_grants(actions: &[contract::Action]) -> Grants {
    Grants {
        actions: ActionKind::ALL.iter().copied().collect(),
        host: HostGrant::ALL.iter().copied().collect(),
        data: shopcase_contract::DataClass::ALL.iter().copied().collect(),
        case_types: actions
            .iter()
            .filter_map(|a| a.case_key())
            .map(|k| k.case_type.clone())
            .collect(),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

impl Event {
    /// An event from the text of an event file, the format of
    /// `shopcase plugin run`: `{"topic", "shop", "webhook_id"?, "event_id"?,
    /// "triggered_at"?, "api_version"?, "payload"}`. The host's rules fill
    /// in the id and resources. Native targets only.
    pub fn from_file_json(text: &str) -> Result<Event, HarnessError> {
        let file = shopcase_contract::EventFile::parse(text)
            .map_err(|e| HarnessError::EventFile(e.to_string()))?;
        Ok(convert::event_from_contract(file.to_event()))
    }

    /// An event from an event file on disk. Native targets only.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Event, HarnessError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            HarnessError::EventFile(format!("{}: cannot read: {e}", path.display()))
        })?;
        Event::from_file_json(&text).map_err(|e| match e {
            HarnessError::EventFile(m) => {
                HarnessError::EventFile(format!("{}: {m}", path.display()))
            }
            other => other,
        })
    }

    /// An event of `topic` for `payload`, from the store
    /// `example.myshopify.com`, as if delivered at 2026-01-01T00:00:00Z (set
    /// `triggered_at` to change it). Native targets only.
    pub fn from_payload(topic: &str, payload: serde_json::Value) -> Result<Event, HarnessError> {
        let file = serde_json::json!({"topic": topic, "shop": "example.myshopify.com", "payload": payload});
        Event::from_file_json(&file.to_string())
    }
}
