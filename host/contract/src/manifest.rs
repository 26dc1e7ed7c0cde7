//! `plugin.toml`: what a plugin is, what it may see and do, and how much it
//! may use.
//!
//! A security reviewer approves a plugin by reading this file, so parsing is
//! strict: unknown keys, unknown grant names, malformed ids and out-of-range
//! values are errors that name the file and the key.
//!
//! A *source* manifest (in a plugin's source tree) has no `[component]`
//! table; [`package`] builds the *packaged* manifest that sits beside the
//! component and records its file name and sha256.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::action::ActionKind;
use crate::settings::{SettingSpec, SettingType, SettingValue};

/// The plugin API versions (WIT packages `shopcase:plugin@X`) this host runs.
/// A component's manifest names one of them in `plugin.api`; the host runs
/// plugins of every version here side by side.
pub const SUPPORTED_API_VERSIONS: &[&str] = &["0.1.0", "0.2.0"];

/// Topics the host handles itself and never hands to plugins.
pub const HOST_ONLY_TOPICS: &[&str] =
    &["customers/redact", "shop/redact", "customers/data_request"];

/// An error in a manifest, naming the file and, where there is one, the key.
#[derive(Debug, thiserror::Error)]
#[error("{}: {}{message}", file.display(), key.as_deref().map(|k| format!("`{k}`: ")).unwrap_or_default())]
pub struct ManifestError {
    /// The manifest file.
    pub file: PathBuf,
    /// The offending key, dotted (e.g. `limits.fuel`), if one is to blame.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ManifestError {
    fn at(file: &Path, key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            key: Some(key.into()),
            message: message.into(),
        }
    }

    fn file(file: &Path, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            key: None,
            message: message.into(),
        }
    }
}

/// A host function a plugin may call (`[grants] host`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostGrant {
    /// `host.log`.
    Log,
    /// `host.setting`.
    Settings,
    /// `host.kv-get`, `host.kv-set`, `host.kv-delete`.
    Kv,
    /// `host.customer-history`.
    CustomerHistory,
    /// `host.linked-case`.
    CaseLookup,
    /// `host.order` (plugin API 0.2.0 and later).
    OrderLookup,
    /// `host.order-risk` (plugin API 0.2.0 and later).
    OrderRisk,
}

impl HostGrant {
    /// Every grant, in manifest spelling.
    pub const ALL: &[HostGrant] = &[
        HostGrant::Log,
        HostGrant::Settings,
        HostGrant::Kv,
        HostGrant::CustomerHistory,
        HostGrant::CaseLookup,
        HostGrant::OrderLookup,
        HostGrant::OrderRisk,
    ];

    /// The manifest spelling, e.g. `customer-history`.
    pub fn name(self) -> &'static str {
        match self {
            HostGrant::Log => "log",
            HostGrant::Settings => "settings",
            HostGrant::Kv => "kv",
            HostGrant::CustomerHistory => "customer-history",
            HostGrant::CaseLookup => "case-lookup",
            HostGrant::OrderLookup => "order-lookup",
            HostGrant::OrderRisk => "order-risk",
        }
    }

    /// The first plugin API version whose WIT has the function this grant
    /// opens; a manifest of an older `api` cannot ask for it.
    pub fn since(self) -> &'static str {
        match self {
            HostGrant::Log
            | HostGrant::Settings
            | HostGrant::Kv
            | HostGrant::CustomerHistory
            | HostGrant::CaseLookup => "0.1.0",
            HostGrant::OrderLookup | HostGrant::OrderRisk => "0.2.0",
        }
    }

    /// Whether a plugin of API version `api` can call this grant's function.
    pub fn available_in(self, api: &str) -> bool {
        version_at_least(api, self.since())
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|g| g.name() == s)
    }
}

impl fmt::Display for HostGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Classes of personal data in Shopify payloads (`[grants] data`). A payload
/// field reaches a plugin only if it is always visible at its place in the
/// payload or belongs to a class the plugin is granted; every other field,
/// including any field the host does not know, is removed before the plugin
/// sees the payload (see [`crate::minimise`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataClass {
    /// Names, email addresses and phone numbers of customers and addressees.
    CustomerContact,
    /// Full postal addresses: street lines, company, coordinates (implies
    /// `address-region`).
    Address,
    /// The coarse part of addresses: country, province, city, postal code.
    AddressRegion,
    /// The buyer's browser IP address and user agent.
    ClientDetails,
    /// Card details from payment gateways: BIN, masked number, AVS/CVV
    /// results, receipts.
    PaymentDetails,
    /// Free text the customer typed: the order's note and cart attributes
    /// (`note`, `note_attributes`, `po_number`), line item properties
    /// (engraving text, gift messages) and the notes of a return request.
    CustomerNotes,
}

impl DataClass {
    /// Every class, in manifest spelling.
    pub const ALL: &[DataClass] = &[
        DataClass::CustomerContact,
        DataClass::Address,
        DataClass::AddressRegion,
        DataClass::ClientDetails,
        DataClass::PaymentDetails,
        DataClass::CustomerNotes,
    ];

    /// The manifest spelling.
    pub fn name(self) -> &'static str {
        match self {
            DataClass::CustomerContact => "customer-contact",
            DataClass::Address => "address",
            DataClass::AddressRegion => "address-region",
            DataClass::ClientDetails => "client-details",
            DataClass::PaymentDetails => "payment-details",
            DataClass::CustomerNotes => "customer-notes",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|g| g.name() == s)
    }
}

impl fmt::Display for DataClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a plugin may do and see.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Grants {
    /// Action kinds it may return.
    pub actions: BTreeSet<ActionKind>,
    /// Host functions it may call.
    pub host: BTreeSet<HostGrant>,
    /// Personal-data classes left in its payloads.
    pub data: BTreeSet<DataClass>,
    /// Case types it may open or change, and whose `corecase/case-updated`
    /// events it receives. [`ALL_CASE_TYPES`] (`"*"`) receives every case
    /// type's updates, read-only (no case actions with it).
    pub case_types: BTreeSet<String>,
}

/// In `grants.case-types`: every case type's updates, to read only.
pub const ALL_CASE_TYPES: &str = "*";

impl Grants {
    /// Whether the plugin receives the `corecase/case-updated` events of
    /// cases of `case_type`: its own case types, or every one with `"*"`.
    /// A case of another plugin carries that plugin's analyst decisions and
    /// held operations: not this plugin's business.
    pub fn receives_updates_of(&self, case_type: &str) -> bool {
        self.case_types.contains(case_type) || self.case_types.contains(ALL_CASE_TYPES)
    }

    /// Whether the plugin may see a data class (`address` implies
    /// `address-region`).
    pub fn sees(&self, class: DataClass) -> bool {
        self.data.contains(&class)
            || (class == DataClass::AddressRegion && self.data.contains(&DataClass::Address))
    }
}

/// Resource limits for one invocation. The manifest asks; the host caps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Instructions, as wasmtime fuel (roughly one unit per Wasm operator).
    pub fuel: u64,
    /// Linear memory, bytes, summed over the component's memories.
    pub memory_bytes: u64,
    /// Wall-clock time, including host calls.
    #[serde(with = "duration_ms")]
    pub deadline: Duration,
    /// Size of the returned actions, in bytes of their JSON form.
    pub output_bytes: u64,
    /// Bytes of log lines (from `host.log` and stdout/stderr) kept per call.
    pub log_bytes: u64,
}

mod duration_ms {
    use serde::Serializer;
    use std::time::Duration;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

impl Limits {
    /// What a plugin gets when its manifest says nothing.
    pub const DEFAULT: Limits = Limits {
        fuel: 50_000_000,
        memory_bytes: 32 << 20,
        deadline: Duration::from_millis(500),
        output_bytes: 256 << 10,
        log_bytes: 16 << 10,
    };

    /// The most any plugin gets, whatever its manifest asks, unless the host
    /// configuration says otherwise.
    pub const DEFAULT_CAPS: Limits = Limits {
        fuel: 2_000_000_000,
        memory_bytes: 256 << 20,
        deadline: Duration::from_secs(5),
        output_bytes: 4 << 20,
        log_bytes: 256 << 10,
    };

    /// The smaller of each limit.
    pub fn capped_by(self, caps: Limits) -> Limits {
        Limits {
            fuel: self.fuel.min(caps.fuel),
            memory_bytes: self.memory_bytes.min(caps.memory_bytes),
            deadline: self.deadline.min(caps.deadline),
            output_bytes: self.output_bytes.min(caps.output_bytes),
            log_bytes: self.log_bytes.min(caps.log_bytes),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A parsed, validated `plugin.toml`.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    /// Unique plugin id: lowercase letters, digits and `-`.
    pub id: String,
    /// The plugin's own version (semver).
    pub version: String,
    /// Display name.
    pub name: String,
    /// What the plugin does, for admins.
    pub description: String,
    /// The WIT package version it was built against, e.g. `0.1.0`.
    pub api: String,
    /// Topics it subscribes to.
    pub topics: BTreeSet<String>,
    /// What it may do and see.
    pub grants: Grants,
    /// Resource limits it asks for (before host caps).
    pub limits: Limits,
    /// Its settings, by name.
    pub settings: BTreeMap<String, SettingSpec>,
    /// The component, if this is a packaged manifest.
    pub component: Option<ComponentRef>,
    /// The file the manifest was read from.
    #[serde(skip)]
    pub path: PathBuf,
}

/// Where the component is and what it must hash to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentRef {
    /// The component file, resolved against the manifest's directory.
    pub path: PathBuf,
    /// Lowercase hex sha256 of the component file.
    pub sha256: String,
}

// ---- raw TOML shape --------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    plugin: RawPlugin,
    #[serde(default)]
    grants: RawGrants,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    settings: BTreeMap<String, RawSetting>,
    component: Option<RawComponent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugin {
    id: String,
    version: String,
    name: Option<String>,
    #[serde(default)]
    description: String,
    api: String,
    topics: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawGrants {
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    host: Vec<String>,
    #[serde(default)]
    data: Vec<String>,
    #[serde(default)]
    case_types: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLimits {
    fuel: Option<u64>,
    memory_mib: Option<u64>,
    deadline_ms: Option<u64>,
    output_kib: Option<u64>,
    log_kib: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSetting {
    #[serde(rename = "type")]
    ty: String,
    default: toml::Value,
    #[serde(default)]
    description: String,
    min: Option<f64>,
    max: Option<f64>,
    choices: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    path: String,
    sha256: String,
}

impl Manifest {
    /// Read and validate a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ManifestError::file(path, format!("cannot read: {e}")))?;
        Manifest::parse(&text, path)
    }

    /// Validate manifest text; `path` is used in errors and to resolve the
    /// component path.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        let raw: RawManifest = toml::from_str(text).map_err(|e| {
            // toml's message already names the key and shows the line.
            ManifestError::file(path, e.to_string().trim_end().to_owned())
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));

        let p = raw.plugin;
        if !is_id(&p.id) {
            return Err(ManifestError::at(
                path,
                "plugin.id",
                format!(
                    "`{}` is not a plugin id (1-64 lowercase letters, digits and `-`, starting with a letter)",
                    p.id
                ),
            ));
        }
        if !is_semver(&p.version) {
            return Err(ManifestError::at(
                path,
                "plugin.version",
                format!("`{}` is not a version like 1.2.3", p.version),
            ));
        }
        if !SUPPORTED_API_VERSIONS.contains(&p.api.as_str()) {
            return Err(ManifestError::at(
                path,
                "plugin.api",
                format!(
                    "this host runs plugin API versions {}, not `{}`",
                    SUPPORTED_API_VERSIONS.join(", "),
                    p.api
                ),
            ));
        }
        if p.topics.is_empty() {
            return Err(ManifestError::at(
                path,
                "plugin.topics",
                "subscribes to no topic",
            ));
        }
        let mut topics = BTreeSet::new();
        for t in &p.topics {
            if HOST_ONLY_TOPICS.contains(&t.as_str()) {
                return Err(ManifestError::at(
                    path,
                    "plugin.topics",
                    format!(
                        "`{t}` is a privacy topic the host handles itself; plugins cannot subscribe to it"
                    ),
                ));
            }
            if !is_topic(t) {
                return Err(ManifestError::at(
                    path,
                    "plugin.topics",
                    format!("`{t}` is not a topic like `orders/create`"),
                ));
            }
            topics.insert(t.clone());
        }

        let grants = parse_grants(raw.grants, path)?;
        if let Some(g) = grants.host.iter().find(|g| !g.available_in(&p.api)) {
            return Err(ManifestError::at(
                path,
                "grants.host",
                format!(
                    "`{g}` is a host function of plugin API {} and later, but `plugin.api` is {}; build the plugin against {} (see the plugin guide, \"Versions\")",
                    g.since(),
                    p.api,
                    g.since()
                ),
            ));
        }
        let limits = parse_limits(raw.limits, path)?;

        let mut settings = BTreeMap::new();
        for (name, s) in raw.settings {
            let key = format!("settings.{name}");
            if !is_setting_name(&name) {
                return Err(ManifestError::at(
                    path,
                    key,
                    "setting names are 1-64 lowercase letters, digits, `-` and `_`",
                ));
            }
            let spec = parse_setting(s).map_err(|m| ManifestError::at(path, &key, m))?;
            settings.insert(name, spec);
        }

        let component = match raw.component {
            None => None,
            Some(c) => {
                if c.path.contains('/') || c.path.contains('\\') || c.path.starts_with('.') {
                    return Err(ManifestError::at(
                        path,
                        "component.path",
                        "must be a file name beside the manifest",
                    ));
                }
                if c.sha256.len() != 64
                    || !c
                        .sha256
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                {
                    return Err(ManifestError::at(
                        path,
                        "component.sha256",
                        "must be 64 lowercase hex digits",
                    ));
                }
                Some(ComponentRef {
                    path: dir.join(c.path),
                    sha256: c.sha256,
                })
            }
        };

        Ok(Manifest {
            name: p.name.unwrap_or_else(|| p.id.clone()),
            id: p.id,
            version: p.version,
            description: p.description,
            api: p.api,
            topics,
            grants,
            limits,
            settings,
            component,
            path: path.to_owned(),
        })
    }

    /// Whether the plugin subscribes to a topic.
    pub fn subscribes(&self, topic: &str) -> bool {
        self.topics.contains(topic)
    }

    /// The component reference, or an error if this is a source manifest.
    pub fn component(&self) -> Result<&ComponentRef, ManifestError> {
        self.component.as_ref().ok_or_else(|| {
            ManifestError::at(
                &self.path,
                "component",
                "missing: this is a source manifest; build the plugin (`shopcase plugin build`) to get a packaged one",
            )
        })
    }

    /// Every setting at its default.
    pub fn default_settings(&self) -> BTreeMap<String, SettingValue> {
        self.settings
            .iter()
            .map(|(k, s)| (k.clone(), s.default.clone()))
            .collect()
    }

    /// Defaults overlaid with `overrides`, every value checked against its
    /// declaration. Errors name the setting.
    pub fn resolve_settings(
        &self,
        overrides: &BTreeMap<String, SettingValue>,
    ) -> Result<BTreeMap<String, SettingValue>, crate::settings::SettingError> {
        let mut out = self.default_settings();
        for (name, value) in overrides {
            let spec = self
                .settings
                .get(name)
                .ok_or_else(|| crate::settings::SettingError {
                    setting: name.clone(),
                    message: format!(
                        "plugin `{}` has no such setting (it has: {})",
                        self.id,
                        if self.settings.is_empty() {
                            "none".to_owned()
                        } else {
                            self.settings.keys().cloned().collect::<Vec<_>>().join(", ")
                        }
                    ),
                })?;
            let v = spec
                .check(value.clone())
                .map_err(|message| crate::settings::SettingError {
                    setting: name.clone(),
                    message,
                })?;
            out.insert(name.clone(), v);
        }
        Ok(out)
    }
}

/// `a >= b` for versions like `0.2.0` (a part that is not a number counts as 0).
fn version_at_least(a: &str, b: &str) -> bool {
    let parts = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parts(a) >= parts(b)
}

fn parse_grants(raw: RawGrants, path: &Path) -> Result<Grants, ManifestError> {
    let mut g = Grants::default();
    for a in raw.actions {
        let kind = ActionKind::parse(&a).ok_or_else(|| {
            ManifestError::at(
                path,
                "grants.actions",
                format!(
                    "unknown action kind `{a}` (known: {})",
                    ActionKind::ALL
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        g.actions.insert(kind);
    }
    for h in raw.host {
        let grant = HostGrant::parse(&h).ok_or_else(|| {
            ManifestError::at(
                path,
                "grants.host",
                format!(
                    "unknown host function grant `{h}` (known: {})",
                    HostGrant::ALL
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        g.host.insert(grant);
    }
    for d in raw.data {
        let class = DataClass::parse(&d).ok_or_else(|| {
            ManifestError::at(
                path,
                "grants.data",
                format!(
                    "unknown data class `{d}` (known: {})",
                    DataClass::ALL
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        g.data.insert(class);
    }
    for c in raw.case_types {
        if c != ALL_CASE_TYPES && !crate::action::is_case_type(&c) {
            return Err(ManifestError::at(
                path,
                "grants.case-types",
                format!("`{c}` is not a case type (1-64 lowercase letters, digits and `-`)"),
            ));
        }
        g.case_types.insert(c);
    }
    if g.case_types.contains(ALL_CASE_TYPES) && g.actions.iter().any(|a| a.is_case_action()) {
        return Err(ManifestError::at(
            path,
            "grants.case-types",
            "`*` receives every case type's updates to read only: a plugin with case actions lists the case types it opens or changes",
        ));
    }
    if g.actions.iter().any(|a| a.is_case_action()) && g.case_types.is_empty() {
        return Err(ManifestError::at(
            path,
            "grants.case-types",
            "case actions are granted but no case type is: list the case types the plugin opens or changes",
        ));
    }
    Ok(g)
}

fn parse_limits(raw: RawLimits, path: &Path) -> Result<Limits, ManifestError> {
    fn positive(path: &Path, key: &str, v: Option<u64>) -> Result<Option<u64>, ManifestError> {
        match v {
            Some(0) => Err(ManifestError::at(path, key, "must be more than 0")),
            v => Ok(v),
        }
    }
    let d = Limits::DEFAULT;
    let mib = |v: u64| v.saturating_mul(1 << 20);
    let kib = |v: u64| v.saturating_mul(1 << 10);
    Ok(Limits {
        fuel: positive(path, "limits.fuel", raw.fuel)?.unwrap_or(d.fuel),
        memory_bytes: positive(path, "limits.memory-mib", raw.memory_mib)?
            .map(mib)
            .unwrap_or(d.memory_bytes),
        deadline: positive(path, "limits.deadline-ms", raw.deadline_ms)?
            .map(Duration::from_millis)
            .unwrap_or(d.deadline),
        output_bytes: positive(path, "limits.output-kib", raw.output_kib)?
            .map(kib)
            .unwrap_or(d.output_bytes),
        log_bytes: positive(path, "limits.log-kib", raw.log_kib)?
            .map(kib)
            .unwrap_or(d.log_bytes),
    })
}

fn parse_setting(s: RawSetting) -> Result<SettingSpec, String> {
    let ty = SettingType::parse(&s.ty).ok_or_else(|| {
        format!(
            "`type` must be one of text, integer, number, boolean, text-list, not `{}`",
            s.ty
        )
    })?;
    if (s.min.is_some() || s.max.is_some())
        && !matches!(ty, SettingType::Integer | SettingType::Number)
    {
        return Err("`min` and `max` apply only to integer and number settings".into());
    }
    if s.choices.is_some() && ty != SettingType::Text {
        return Err("`choices` applies only to text settings".into());
    }
    if let (Some(min), Some(max)) = (s.min, s.max)
        && min > max
    {
        return Err(format!("`min` ({min}) is more than `max` ({max})"));
    }
    let mut spec = SettingSpec {
        ty,
        default: SettingValue::Boolean(false),
        description: s.description,
        min: s.min,
        max: s.max,
        choices: s.choices,
    };
    let default = SettingValue::from_toml(&s.default, ty).map_err(|m| format!("`default`: {m}"))?;
    spec.default = spec.check(default).map_err(|m| format!("`default`: {m}"))?;
    Ok(spec)
}

/// Plugin ids: 1-64 of `a-z0-9-`, starting with a letter.
pub fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.as_bytes()[0].is_ascii_lowercase()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_setting_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn is_semver(s: &str) -> bool {
    let core = s.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<_> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Topics: `resource/event`, lowercase letters, digits, `_` and `-`.
pub fn is_topic(s: &str) -> bool {
    let mut it = s.split('/');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        })
    };
    ok(it.next()) && ok(it.next()) && it.next().is_none() && s.len() <= 64
}

/// Lowercase hex sha256 of a file's bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Build a plugin package: copy `component` into `out_dir` as `<id>.wasm`
/// and write `out_dir/plugin.toml`: the source manifest's text (comments
/// kept) plus a `[component]` table with the file name and its sha256.
///
/// Returns the packaged manifest's path.
pub fn package(
    source_manifest: &Path,
    component: &Path,
    out_dir: &Path,
) -> Result<PathBuf, ManifestError> {
    let text = std::fs::read_to_string(source_manifest)
        .map_err(|e| ManifestError::file(source_manifest, format!("cannot read: {e}")))?;
    let manifest = Manifest::parse(&text, source_manifest)?;
    if manifest.component.is_some() {
        return Err(ManifestError::at(
            source_manifest,
            "component",
            "a source manifest must not have a [component] table: the build writes it",
        ));
    }
    let bytes = std::fs::read(component).map_err(|e| {
        ManifestError::file(
            source_manifest,
            format!("cannot read component {}: {e}", component.display()),
        )
    })?;
    let file_name = format!("{}.wasm", manifest.id);
    let io = |e: std::io::Error| ManifestError::file(out_dir, format!("cannot write package: {e}"));
    std::fs::create_dir_all(out_dir).map_err(io)?;
    std::fs::write(out_dir.join(&file_name), &bytes).map_err(io)?;
    let mut packaged = text.trim_end().to_owned();
    packaged.push_str(&format!(
        "\n\n# Written by the build: the component and the sha256 the host checks before loading it.\n[component]\npath = \"{file_name}\"\nsha256 = \"{}\"\n",
        sha256_hex(&bytes)
    ));
    let out = out_dir.join("plugin.toml");
    std::fs::write(&out, packaged).map_err(io)?;
    // Check that what we wrote is a valid packaged manifest.
    Manifest::load(&out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[plugin]
id = "fraud"
version = "0.1.0"
api = "0.1.0"
topics = ["orders/create", "corecase/case-updated"]

[grants]
actions = ["open-case", "hold-fulfillment"]
host = ["log", "settings"]
data = ["address-region"]
case-types = ["fraud-investigation"]

[limits]
fuel = 1000
memory-mib = 8

[settings.threshold]
type = "integer"
default = 60
min = 0
max = 100
description = "score that opens a case"

[settings.vip-tags]
type = "text-list"
default = ["VIP"]
"#;

    fn parse(text: &str) -> Result<Manifest, String> {
        Manifest::parse(text, Path::new("plugins/fraud/plugin.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn good_manifest_parses() {
        let m = parse(GOOD).unwrap();
        assert_eq!(m.id, "fraud");
        assert_eq!(m.limits.fuel, 1000);
        assert_eq!(m.limits.memory_bytes, 8 << 20);
        assert_eq!(m.limits.deadline, Limits::DEFAULT.deadline);
        assert!(m.grants.sees(DataClass::AddressRegion));
        assert!(!m.grants.sees(DataClass::Address));
        assert_eq!(m.settings["threshold"].default, SettingValue::Integer(60));
        assert!(m.component.is_none());
    }

    #[test]
    fn unknown_key_is_named_with_the_file() {
        let err = parse(&GOOD.replace("[limits]", "[limits]\nfuell = 3")).unwrap_err();
        assert!(err.starts_with("plugins/fraud/plugin.toml: "), "{err}");
        assert!(err.contains("unknown field `fuell`"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            (
                GOOD.replace("id = \"fraud\"", "id = \"Fraud!\""),
                "`plugin.id`",
            ),
            (
                GOOD.replace("api = \"0.1.0\"", "api = \"9.0.0\""),
                "`plugin.api`",
            ),
            (
                GOOD.replace("\"hold-fulfillment\"", "\"launch-missiles\""),
                "`grants.actions`: unknown action kind `launch-missiles`",
            ),
            (
                GOOD.replace("host = [\"log\", \"settings\"]", "host = [\"network\"]"),
                "`grants.host`: unknown host function grant `network`",
            ),
            (
                GOOD.replace("data = [\"address-region\"]", "data = [\"everything\"]"),
                "`grants.data`: unknown data class `everything`",
            ),
            (
                GOOD.replace("fuel = 1000", "fuel = 0"),
                "`limits.fuel`: must be more than 0",
            ),
            (
                GOOD.replace("default = 60", "default = 160"),
                "`settings.threshold`: `default`: 160 is more than the maximum 100",
            ),
            (
                GOOD.replace("default = 60", "default = \"high\""),
                "`settings.threshold`: `default`: expected an integer",
            ),
            (
                GOOD.replace("\"orders/create\"", "\"customers/redact\""),
                "`plugin.topics`: `customers/redact` is a privacy topic",
            ),
            (
                GOOD.replace("case-types = [\"fraud-investigation\"]", ""),
                "`grants.case-types`",
            ),
            (
                GOOD.replace("[\"fraud-investigation\"]", "[\"*\"]"),
                "`grants.case-types`: `*` receives every case type's updates to read only",
            ),
        ];
        for (text, want) in cases {
            let err = parse(&text).unwrap_err();
            assert!(err.contains(want), "want {want:?} in {err:?}");
        }
    }

    #[test]
    fn order_grants_need_plugin_api_0_2_0() {
        for grant in ["order-lookup", "order-risk"] {
            let text = GOOD.replace(
                "host = [\"log\", \"settings\"]",
                &format!("host = [\"log\", \"{grant}\"]"),
            );
            let err = parse(&text).unwrap_err();
            assert_eq!(
                err,
                format!(
                    "plugins/fraud/plugin.toml: `grants.host`: `{grant}` is a host function of plugin API 0.2.0 and later, but `plugin.api` is 0.1.0; build the plugin against 0.2.0 (see the plugin guide, \"Versions\")"
                )
            );
            let m = parse(&text.replace("api = \"0.1.0\"", "api = \"0.2.0\"")).unwrap();
            assert!(m.grants.host.contains(&HostGrant::parse(grant).unwrap()));
            assert_eq!(m.api, "0.2.0");
        }
        // Every 0.1.0 grant stays available in 0.2.0.
        for g in HostGrant::ALL {
            assert!(g.available_in("0.2.0"), "{g}");
            assert_eq!(g.available_in("0.1.0"), g.since() == "0.1.0", "{g}");
        }
        assert!(version_at_least("0.10.0", "0.2.0"));
        assert!(!version_at_least("0.1.9", "0.2.0"));
    }

    #[test]
    fn case_updates_reach_only_the_plugins_of_their_case_type() {
        let fraud = Grants {
            case_types: ["fraud-investigation".to_owned()].into(),
            ..Grants::default()
        };
        assert!(fraud.receives_updates_of("fraud-investigation"));
        assert!(!fraud.receives_updates_of("refund-approval"));
        let status = Grants {
            case_types: [ALL_CASE_TYPES.to_owned()].into(),
            ..Grants::default()
        };
        assert!(status.receives_updates_of("refund-approval"));
        assert!(!Grants::default().receives_updates_of("refund-approval"));
    }

    #[test]
    fn package_writes_component_and_hash_and_keeps_comments() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("plugin.toml");
        std::fs::write(&src, format!("# reviewed by security\n{GOOD}")).unwrap();
        let wasm = dir.path().join("built.wasm");
        std::fs::write(&wasm, b"\0asm fake").unwrap();
        let out = package(&src, &wasm, &dir.path().join("pkg")).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.starts_with("# reviewed by security"));
        let m = Manifest::load(&out).unwrap();
        let c = m.component().unwrap();
        assert_eq!(c.path, dir.path().join("pkg/fraud.wasm"));
        assert_eq!(c.sha256, sha256_hex(b"\0asm fake"));
        // Packaging a packaged manifest is refused.
        let err = package(&out, &wasm, &dir.path().join("pkg2"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("must not have a [component] table"), "{err}");
    }

    #[test]
    fn settings_overrides_are_checked_by_name() {
        let m = parse(GOOD).unwrap();
        let mut o = BTreeMap::new();
        o.insert("threshold".to_owned(), SettingValue::Integer(101));
        let err = m.resolve_settings(&o).unwrap_err().to_string();
        assert_eq!(err, "setting `threshold`: 101 is more than the maximum 100");
        o.clear();
        o.insert("nope".to_owned(), SettingValue::Integer(1));
        let err = m.resolve_settings(&o).unwrap_err().to_string();
        assert!(
            err.contains("has no such setting (it has: threshold, vip-tags)"),
            "{err}"
        );
        o.clear();
        o.insert("threshold".to_owned(), SettingValue::Integer(70));
        let s = m.resolve_settings(&o).unwrap();
        assert_eq!(s["threshold"], SettingValue::Integer(70));
        assert_eq!(s["vip-tags"], SettingValue::TextList(vec!["VIP".into()]));
    }
}
