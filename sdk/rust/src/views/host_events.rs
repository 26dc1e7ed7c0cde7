//! The host's own topics: `corecase/case-updated` and `timer/fired`
//! (shapes in `docs/events.md`).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::de;
use crate::{CaseKey, CaseStatus, PluginError, Priority, Subject};

/// A linked case changed in Core Case (`corecase/case-updated`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CaseUpdated {
    /// The case as it is now.
    #[serde(deserialize_with = "de::nullable")]
    pub case: CaseInfo,
    /// Its tasks (work items and approvals).
    #[serde(deserialize_with = "de::nullable")]
    pub tasks: Vec<CaseTask>,
    /// The Shopify operations held for approval on this case.
    #[serde(deserialize_with = "de::nullable")]
    pub approvals: Vec<CaseApproval>,
}

impl CaseUpdated {
    /// The case's key (its type and subject), to address `update-case`,
    /// `comment`, ... at it.
    pub fn key(&self) -> Option<CaseKey> {
        Some(CaseKey::new(
            self.case.case_type.clone(),
            self.case.subject?,
        ))
    }

    /// The current status, if it is one the SDK knows.
    pub fn status(&self) -> Option<CaseStatus> {
        CaseStatus::parse(&self.case.status)
    }

    /// The status the host saw before (`None` the first time).
    pub fn previous_status(&self) -> Option<CaseStatus> {
        self.case
            .previous_status
            .as_deref()
            .and_then(CaseStatus::parse)
    }

    /// Whether this update moved the case into `status`.
    pub fn moved_to(&self, status: CaseStatus) -> bool {
        self.status() == Some(status) && self.previous_status() != Some(status)
    }

    /// A custom attribute of the case, e.g. `decision`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.case.attributes.get(name).map(String::as_str)
    }
}

/// The case part of [`CaseUpdated`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CaseInfo {
    /// Core Case case id (also `event.resources.case_id`).
    #[serde(deserialize_with = "de::nullable")]
    pub id: String,
    /// Human-readable number, e.g. `CASE-000042`.
    #[serde(deserialize_with = "de::nullable")]
    pub number: String,
    /// The plugin's case type.
    #[serde(deserialize_with = "de::nullable")]
    pub case_type: String,
    /// What the case is about (`{"order": 5834211000321}` in JSON).
    #[serde(deserialize_with = "subject", serialize_with = "subject_json")]
    pub subject: Option<Subject>,
    /// Kebab-case status, e.g. `pending-approval`; see [`CaseUpdated::status`].
    #[serde(deserialize_with = "de::nullable")]
    pub status: String,
    /// The last status the host saw; `None` the first time.
    pub previous_status: Option<String>,
    /// `low`, `medium`, `high`, `critical`; see [`CaseInfo::priority`].
    #[serde(deserialize_with = "de::nullable")]
    pub priority: String,
    /// 0 (none) to 5.
    #[serde(deserialize_with = "de::nullable")]
    pub escalation_level: u8,
    /// Assigned case worker.
    pub owner: Option<String>,
    /// Owning team.
    pub owner_group: Option<String>,
    /// RFC 3339.
    pub due: Option<String>,
    /// How the case ended, once it has.
    pub resolution: Option<CaseResolution>,
    /// Custom attributes (analysts record decisions here). Values that are
    /// not strings are kept as their JSON text.
    #[serde(deserialize_with = "text_map")]
    pub attributes: BTreeMap<String, String>,
    /// RFC 3339.
    #[serde(deserialize_with = "de::nullable")]
    pub updated_at: String,
    /// The case in Core Case's UI.
    pub link: Option<String>,
}

impl CaseInfo {
    /// The priority, if it is one the SDK knows.
    pub fn priority(&self) -> Option<Priority> {
        Priority::parse(&self.priority)
    }
}

/// How a case ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CaseResolution {
    /// Machine-readable code, e.g. `refund-issued`.
    #[serde(deserialize_with = "de::nullable")]
    pub code: String,
    /// Free text.
    #[serde(deserialize_with = "de::nullable")]
    pub notes: String,
}

/// A task on the case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CaseTask {
    /// Core Case task id.
    #[serde(deserialize_with = "de::nullable")]
    pub id: String,
    /// Title.
    #[serde(deserialize_with = "de::nullable")]
    pub title: String,
    /// `task` or `approval`.
    #[serde(deserialize_with = "de::nullable")]
    pub kind: String,
    /// The team it is for.
    pub team: Option<String>,
    /// `open` or `completed`.
    #[serde(deserialize_with = "de::nullable")]
    pub status: String,
    /// `done`, `approved`, `rejected`, or `None` while open.
    pub outcome: Option<String>,
    /// The worker's comment.
    pub comment: Option<String>,
}

/// A Shopify operation held for approval (see `request-approval`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct CaseApproval {
    /// The approval task.
    #[serde(deserialize_with = "de::nullable")]
    pub task_id: String,
    /// `pending`, `approved` or `rejected`.
    #[serde(deserialize_with = "de::nullable")]
    pub outcome: String,
    /// The operation in the host's JSON form, e.g.
    /// `{"kind": "refund", "order_id": ..., "amount": "900.00", ...}`.
    pub operation: serde_json::Value,
    /// Whether the host has executed it.
    #[serde(deserialize_with = "de::nullable")]
    pub executed: bool,
}

impl CaseApproval {
    /// The operation's kind, e.g. `refund`.
    pub fn operation_kind(&self) -> Option<&str> {
        self.operation.get("kind")?.as_str()
    }
}

/// A follow-up timer is due (`timer/fired`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct TimerFired {
    /// The name given to `follow-up`.
    #[serde(deserialize_with = "de::nullable")]
    pub name: String,
    /// The data given to `follow-up`, parsed.
    pub data: serde_json::Value,
    /// The id of the event that scheduled it.
    #[serde(deserialize_with = "de::nullable")]
    pub scheduled_by: String,
    /// RFC 3339: when it was due.
    #[serde(deserialize_with = "de::nullable")]
    pub due: String,
}

impl TimerFired {
    /// The data as a typed value.
    pub fn data_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, PluginError> {
        T::deserialize(&self.data).map_err(|e| {
            PluginError::new(format!(
                "timer `{}` data does not have the expected shape: {e}",
                self.name
            ))
        })
    }
}

/// `{"order": 1}` → `Subject::Order(1)`; anything else is `None`.
fn subject<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Subject>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    let Some((kind, id)) = v
        .as_object()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.iter().next())
    else {
        return Ok(None);
    };
    let Some(id) = id
        .as_u64()
        .or_else(|| id.as_str().and_then(|s| s.parse().ok()))
    else {
        return Ok(None);
    };
    Ok(match kind.as_str() {
        "order" => Some(Subject::Order(id)),
        "return" => Some(Subject::Return(id)),
        "dispute" => Some(Subject::Dispute(id)),
        "customer" => Some(Subject::Customer(id)),
        _ => None,
    })
}

fn subject_json<S: Serializer>(s: &Option<Subject>, ser: S) -> Result<S::Ok, S::Error> {
    match s {
        Some(s) => {
            let mut m = BTreeMap::new();
            m.insert(s.kind(), s.id());
            m.serialize(ser)
        }
        None => ser.serialize_none(),
    }
}

fn text_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let m = Option::<BTreeMap<String, serde_json::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(m.into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect())
}
