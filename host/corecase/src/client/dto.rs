//! The Core Case API's own request and response types (camelCase JSON).
//!
//! Bodies whose shape the spec marks as confirmed (case creation) are
//! public as-is. Bodies that are our model only (the `case-data` update) are
//! exposed in a flat form and mapped to the wire in one private place, so a
//! difference found on a real tenant is fixed there.
//!
//! Response types are lenient: missing fields default, unknown fields are
//! ignored, enums stay strings with typed accessors — a tenant that adds a
//! status or an attribute must not make the client fail to read a case.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};
use shopcase_contract::action::{CaseStatus, Priority, Visibility};

use crate::api_time::{self, Timestamp};

fn priority_api<S: Serializer>(p: &Priority, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.as_api())
}

fn opt_priority_api<S: Serializer>(p: &Option<Priority>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_str(p.as_api()),
        None => s.serialize_none(),
    }
}

fn status_api<S: Serializer>(c: &CaseStatus, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.as_api())
}

fn visibility_api<S: Serializer>(v: &Visibility, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_api())
}

// ---------------------------------------------------------------- definitions

/// A case definition (case type) of the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseDefinition {
    /// Definition id (a UUID).
    pub id: String,
    /// Its name, e.g. `fraud-investigation`.
    pub name: String,
    /// The case configuration new cases of this type use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_config_id: Option<String>,
}

// ---------------------------------------------------------------- cases (write)

/// `POST /case-definitions/{defId}/cases` body (shape confirmed by the spec).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCase {
    /// `{"id": defId}`.
    pub case_type: CaseTypeRef,
    /// The definition's case configuration, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_config_id: Option<String>,
    /// Attributes.
    pub case_properties: NewCaseProperties,
}

/// A reference to a case definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseTypeRef {
    /// Definition id.
    pub id: String,
}

/// `caseProperties` of a new case.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCaseProperties {
    /// Standard attributes.
    pub default_attributes: NewDefaultAttributes,
    /// The deployment's own attributes (shopDomain, orderId, totalPrice…).
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub custom_attributes: Map<String, Value>,
}

/// `defaultAttributes` of a new case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewDefaultAttributes {
    /// Title (required).
    pub case_title: String,
    /// Summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Priority.
    #[serde(serialize_with = "priority_api")]
    pub priority: Priority,
    /// Assigned user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Assigned group (team).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_group: Option<String>,
    /// Due date, a Core Case timestamp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// Unique per case definition; what makes creation retry-safe across
    /// restarts (a duplicate answers 409 and the client adopts the case).
    pub external_reference: String,
}

impl NewCase {
    /// A case of definition `definition_id` with the required attributes;
    /// set the optional ones on the fields.
    pub fn new(
        definition_id: impl Into<String>,
        title: impl Into<String>,
        priority: Priority,
        external_reference: impl Into<String>,
    ) -> NewCase {
        NewCase {
            case_type: CaseTypeRef {
                id: definition_id.into(),
            },
            case_config_id: None,
            case_properties: NewCaseProperties {
                default_attributes: NewDefaultAttributes {
                    case_title: title.into(),
                    summary: None,
                    priority,
                    assignee: None,
                    assignee_group: None,
                    due_date: None,
                    external_reference: external_reference.into(),
                },
                custom_attributes: Map::new(),
            },
        }
    }

    /// The `externalReference`.
    pub fn external_reference(&self) -> &str {
        &self.case_properties.default_attributes.external_reference
    }
}

/// A change of case attributes (`PUT …/case-data`). `None` fields are left
/// as they are; custom attributes are merged (a JSON `null` removes one).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseDataUpdate {
    /// New priority.
    pub priority: Option<Priority>,
    /// New assignee.
    pub assignee: Option<String>,
    /// New assignee group.
    pub assignee_group: Option<String>,
    /// New due date (a Core Case timestamp).
    pub due_date: Option<String>,
    /// New escalation level (0–5).
    pub escalation_level: Option<u8>,
    /// Custom attributes to set.
    pub custom_attributes: Map<String, Value>,
}

/// The wire form of [`CaseDataUpdate`] (our model: it mirrors creation).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CaseDataWire<'a> {
    case_properties: CaseDataPropertiesWire<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CaseDataPropertiesWire<'a> {
    default_attributes: DefaultChangesWire<'a>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    custom_attributes: &'a Map<String, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DefaultChangesWire<'a> {
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_priority_api"
    )]
    priority: Option<Priority>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assignee_group: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    due_date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    escalation_level: Option<u8>,
}

impl CaseDataUpdate {
    pub(crate) fn wire(&self) -> CaseDataWire<'_> {
        CaseDataWire {
            case_properties: CaseDataPropertiesWire {
                default_attributes: DefaultChangesWire {
                    priority: self.priority,
                    assignee: self.assignee.as_deref(),
                    assignee_group: self.assignee_group.as_deref(),
                    due_date: self.due_date.as_deref(),
                    escalation_level: self.escalation_level,
                },
                custom_attributes: &self.custom_attributes,
            },
        }
    }
}

/// `POST …/status` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    /// The target status.
    #[serde(serialize_with = "status_api")]
    pub status: CaseStatus,
    /// Why (shown in the case history).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The resolution, typically with `RESOLVED`, `REJECTED` or `CANCELLED`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<ResolutionInput>,
}

impl StatusChange {
    /// A change to `status` with no reason or resolution.
    pub fn to(status: CaseStatus) -> StatusChange {
        StatusChange {
            status,
            reason: None,
            resolution: None,
        }
    }
}

/// A resolution to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolutionInput {
    /// Resolution code, e.g. `FRAUD_CONFIRMED`.
    pub code: String,
    /// Free text.
    pub notes: String,
}

// ---------------------------------------------------------------- cases (read)

/// A case as Core Case returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    /// Case id (a UUID).
    pub id: String,
    /// Human-facing number, e.g. `CASE-000042`.
    #[serde(default)]
    pub case_number: String,
    /// The definition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_type: Option<CaseTypeInfo>,
    /// Status in Core Case's spelling; see [`Case::status`].
    pub status: String,
    /// The case configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_config_id: Option<String>,
    /// Attributes.
    #[serde(default)]
    pub case_properties: CaseProperties,
    /// Tasks and approvals.
    #[serde(default)]
    pub tasks: Vec<Task>,
}

impl Case {
    /// The status, if it is one this client knows.
    pub fn status(&self) -> Option<CaseStatus> {
        CaseStatus::from_api(&self.status)
    }

    /// The priority, if known.
    pub fn priority(&self) -> Option<Priority> {
        self.case_properties
            .default_attributes
            .priority
            .as_deref()
            .and_then(Priority::from_api)
    }

    /// `lastUpdatedOn`, parsed.
    pub fn last_updated_on(&self) -> Option<Timestamp> {
        self.case_properties
            .default_attributes
            .last_updated_on
            .as_deref()
            .and_then(api_time::parse)
    }

    /// `externalReference`.
    pub fn external_reference(&self) -> Option<&str> {
        self.case_properties
            .default_attributes
            .external_reference
            .as_deref()
    }

    /// The definition id, if the answer named it.
    pub fn definition_id(&self) -> Option<&str> {
        self.case_type.as_ref().map(|t| t.id.as_str())
    }
}

/// `caseType` of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseTypeInfo {
    /// Definition id.
    pub id: String,
    /// Definition name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `caseProperties` of a case.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseProperties {
    /// Standard attributes.
    #[serde(default)]
    pub default_attributes: DefaultAttributes,
    /// The deployment's own attributes.
    #[serde(default)]
    pub custom_attributes: Map<String, Value>,
}

/// `defaultAttributes` of a case. Timestamps are kept as Core Case wrote
/// them (so `lastUpdatedOn` can be sent back verbatim in `If-Match`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultAttributes {
    /// `caseTitle`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_title: Option<String>,
    /// `summary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// `priority` (`LOW` … `CRITICAL`); see [`Case::priority`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// `assignee`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// `assigneeGroup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_group: Option<String>,
    /// `dueDate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// `externalReference`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_reference: Option<String>,
    /// `createdOn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    /// `createdBy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// `lastUpdatedOn`: changes on every change, tasks, comments and
    /// attachments included; the poller's high-water mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_on: Option<String>,
    /// `lastUpdatedBy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_by: Option<String>,
    /// `resolution`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<CaseResolution>,
    /// `escalationLevel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation_level: Option<u32>,
    /// `slaBreached`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_breached: Option<bool>,
}

/// A recorded resolution.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseResolution {
    /// Resolution code.
    #[serde(default)]
    pub code: Option<String>,
    /// Free text.
    #[serde(default)]
    pub notes: Option<String>,
    /// When it was recorded.
    #[serde(default)]
    pub resolved_on: Option<String>,
}

/// What [`CoreCaseClient::create_case`] returns.
///
/// [`CoreCaseClient::create_case`]: crate::CoreCaseClient::create_case
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedCase {
    /// The case.
    pub case: Case,
    /// `true` when the case already existed (409 `DuplicateExternalReference`)
    /// and was adopted instead of created.
    pub adopted: bool,
}

// ---------------------------------------------------------------- listing

/// Filters and paging for `GET /case-definitions/{defId}/cases`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseQuery {
    /// Only the case with this `externalReference`.
    pub external_reference: Option<String>,
    /// Only cases in one of these statuses (empty: any).
    pub statuses: Vec<CaseStatus>,
    /// Only cases with `lastUpdatedOn >= updated_since` (inclusive).
    pub updated_since: Option<Timestamp>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Page size.
    pub items_per_page: Option<u32>,
    /// Ask for `total`.
    pub include_total: bool,
}

/// One page of cases, ordered by `lastUpdatedOn` ascending.
#[derive(Debug, Clone, PartialEq)]
pub struct CasePage {
    /// The cases.
    pub cases: Vec<Case>,
    /// All matching cases, when asked for.
    pub total: Option<u64>,
    /// The next page, from `_links.next.href`; `None` on the last page.
    pub next: Option<url::Url>,
}

// ---------------------------------------------------------------- comments

/// `POST …/comments` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewComment {
    /// The text.
    pub text: String,
    /// `INTERNAL` or `PUBLIC`.
    #[serde(serialize_with = "visibility_api")]
    pub visibility: Visibility,
}

/// A comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    /// Comment id.
    pub id: String,
    /// The text.
    #[serde(default)]
    pub text: String,
    /// `INTERNAL` or `PUBLIC`.
    #[serde(default)]
    pub visibility: String,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    /// Who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

// ---------------------------------------------------------------- attachments

/// A file to attach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// File name.
    pub name: String,
    /// MIME type, e.g. `application/pdf`.
    pub content_type: String,
    /// Description.
    pub description: Option<String>,
    /// The bytes.
    pub content: bytes::Bytes,
}

/// The `metadata` part of an attachment upload.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AttachmentMetadata<'a> {
    pub(crate) name: &'a str,
    pub(crate) content_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<&'a str>,
}

/// An attachment's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// Attachment id.
    pub id: String,
    /// File name.
    #[serde(default)]
    pub name: String,
    /// MIME type.
    #[serde(default)]
    pub content_type: String,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Hex SHA-256 of the content.
    #[serde(default)]
    pub sha256: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    /// Who attached it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

// ---------------------------------------------------------------- history

/// One change in a case's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// Entry id.
    pub id: String,
    /// When.
    #[serde(default)]
    pub at: String,
    /// Who.
    #[serde(default)]
    pub actor: String,
    /// What changed, e.g. `status`, `priority`, `comment`.
    #[serde(default)]
    pub field: String,
    /// Old value.
    #[serde(default)]
    pub from: Value,
    /// New value.
    #[serde(default)]
    pub to: Value,
}

// ---------------------------------------------------------------- tasks

/// A task's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskKind {
    /// Work for an analyst.
    Task,
    /// A decision; opening one moves the case to `PENDING_APPROVAL`.
    Approval,
}

impl TaskKind {
    /// Core Case's spelling.
    pub fn as_api(self) -> &'static str {
        match self {
            TaskKind::Task => "TASK",
            TaskKind::Approval => "APPROVAL",
        }
    }
}

/// How a task was completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskOutcome {
    /// A TASK was done.
    Done,
    /// An APPROVAL was granted.
    Approved,
    /// An APPROVAL was refused.
    Rejected,
}

impl TaskOutcome {
    /// Core Case's spelling.
    pub fn as_api(self) -> &'static str {
        match self {
            TaskOutcome::Done => "DONE",
            TaskOutcome::Approved => "APPROVED",
            TaskOutcome::Rejected => "REJECTED",
        }
    }

    /// From Core Case's spelling.
    pub fn from_api(s: &str) -> Option<TaskOutcome> {
        [
            TaskOutcome::Done,
            TaskOutcome::Approved,
            TaskOutcome::Rejected,
        ]
        .into_iter()
        .find(|o| o.as_api() == s)
    }
}

/// `POST …/tasks` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTask {
    /// Title.
    pub title: String,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// TASK or APPROVAL.
    pub kind: TaskKind,
    /// Group that should do it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee_group: Option<String>,
    /// User that should do it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Due date (a Core Case timestamp).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
}

/// `POST …/tasks/{taskId}/complete` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskCompletion {
    /// DONE for a TASK, APPROVED or REJECTED for an APPROVAL.
    pub outcome: TaskOutcome,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A task or approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Task id.
    pub id: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `TASK` or `APPROVAL`; see [`Task::kind`].
    #[serde(default)]
    pub kind: String,
    /// `OPEN` or `COMPLETED`.
    #[serde(default)]
    pub status: String,
    /// Group that should do it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_group: Option<String>,
    /// User that should do it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Due date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
    /// When it was opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    /// Who opened it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// When it was completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_on: Option<String>,
    /// Who completed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_by: Option<String>,
    /// `DONE`, `APPROVED` or `REJECTED` once completed; see [`Task::outcome`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The completer's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl Task {
    /// The kind, if known.
    pub fn kind(&self) -> Option<TaskKind> {
        match self.kind.as_str() {
            "TASK" => Some(TaskKind::Task),
            "APPROVAL" => Some(TaskKind::Approval),
            _ => None,
        }
    }

    /// The outcome, once completed.
    pub fn outcome(&self) -> Option<TaskOutcome> {
        self.outcome.as_deref().and_then(TaskOutcome::from_api)
    }

    /// Whether the task is still open.
    pub fn is_open(&self) -> bool {
        self.status == "OPEN"
    }
}

// ---------------------------------------------------------------- wire helpers

/// The OAuth2 token answer.
#[derive(Deserialize)]
pub(crate) struct TokenAnswer {
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) token_type: Option<String>,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
}

/// Any error body Core Case or its gateway may send: the service form
/// `{status, exception, message, path, timestamp, existingCaseId}`, the
/// gateway form `{"fault":{faultstring, detail:{errorcode}}}`, or OAuth's
/// `{error, error_description}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorBody {
    #[serde(default)]
    exception: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    existing_case_id: Option<String>,
    #[serde(default)]
    fault: Option<Fault>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Fault {
    #[serde(default)]
    faultstring: Option<String>,
    #[serde(default)]
    detail: Option<FaultDetail>,
}

#[derive(Debug, Default, Deserialize)]
struct FaultDetail {
    #[serde(default)]
    errorcode: Option<String>,
}

/// An error answer, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorInfo {
    /// `exception`, the gateway `errorcode`, or OAuth `error`.
    pub(crate) exception: String,
    pub(crate) message: String,
    pub(crate) existing_case_id: Option<String>,
}

impl ErrorInfo {
    /// Read an error body; falls back to the start of the text.
    pub(crate) fn parse(body: &[u8]) -> ErrorInfo {
        let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
        if let Some(fault) = parsed.fault {
            return ErrorInfo {
                exception: fault
                    .detail
                    .and_then(|d| d.errorcode)
                    .unwrap_or_else(|| "GatewayFault".into()),
                message: fault.faultstring.unwrap_or_default(),
                existing_case_id: None,
            };
        }
        if let Some(error) = parsed.error.filter(|_| parsed.exception.is_none()) {
            return ErrorInfo {
                exception: error,
                message: parsed.error_description.unwrap_or_default(),
                existing_case_id: None,
            };
        }
        let message = parsed.message.unwrap_or_else(|| {
            // Not JSON (a proxy's HTML page, say): keep a short, printable start.
            String::from_utf8_lossy(body)
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect()
        });
        ErrorInfo {
            exception: parsed.exception.unwrap_or_default(),
            message,
            existing_case_id: parsed.existing_case_id,
        }
    }
}

/// A collection, in the HAL form `{_embedded:{collection:[…]}, total,
/// _links:{next:{href}}}` or as a bare array (the spec's history form; a
/// tenant may answer either for any list).
#[derive(Debug)]
pub(crate) struct Listing<T> {
    pub(crate) items: Vec<T>,
    pub(crate) total: Option<u64>,
    pub(crate) next: Option<String>,
}

#[derive(Deserialize)]
struct HalCollection {
    #[serde(rename = "_embedded", default)]
    embedded: Option<HalEmbedded>,
    #[serde(default)]
    total: Option<u64>,
    #[serde(rename = "_links", default)]
    links: Option<HalLinks>,
}

#[derive(Deserialize)]
struct HalEmbedded {
    #[serde(default)]
    collection: Vec<Value>,
}

#[derive(Deserialize)]
struct HalLinks {
    #[serde(default)]
    next: Option<HalLink>,
}

#[derive(Deserialize)]
struct HalLink {
    href: String,
}

impl<T: serde::de::DeserializeOwned> Listing<T> {
    pub(crate) fn parse(body: &[u8]) -> Result<Listing<T>, String> {
        let value: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        let (raw, total, next) = match value {
            Value::Array(items) => (items, None, None),
            other @ Value::Object(_) => {
                let hal: HalCollection =
                    serde_json::from_value(other).map_err(|e| format!("not a collection: {e}"))?;
                (
                    hal.embedded.map(|e| e.collection).unwrap_or_default(),
                    hal.total,
                    hal.links.and_then(|l| l.next).map(|n| n.href),
                )
            }
            _ => return Err("expected a collection object or an array".into()),
        };
        let items = raw
            .into_iter()
            .enumerate()
            .map(|(i, v)| serde_json::from_value(v).map_err(|e| format!("item {i}: {e}")))
            .collect::<Result<Vec<T>, String>>()?;
        Ok(Listing { items, total, next })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_case_serialises_to_the_confirmed_shape() {
        let mut c = NewCase::new(
            "def-1",
            "Possible fraud on #1042",
            Priority::High,
            "s.myshopify.com:order:1:fraud",
        );
        c.case_properties
            .custom_attributes
            .insert("orderName".into(), "#1042".into());
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"caseType":{"id":"def-1"},"caseProperties":{
                "defaultAttributes":{"caseTitle":"Possible fraud on #1042","priority":"HIGH",
                    "externalReference":"s.myshopify.com:order:1:fraud"},
                "customAttributes":{"orderName":"#1042"}}})
        );
    }

    #[test]
    fn case_data_update_wire_form() {
        let u = CaseDataUpdate {
            priority: Some(Priority::Critical),
            escalation_level: Some(2),
            ..Default::default()
        };
        let v = serde_json::to_value(u.wire()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"caseProperties":{"defaultAttributes":{"priority":"CRITICAL","escalationLevel":2}}})
        );
    }

    #[test]
    fn status_change_and_tasks_use_api_spelling() {
        let s = StatusChange {
            status: CaseStatus::InProgress,
            reason: Some("triage".into()),
            resolution: None,
        };
        assert_eq!(
            serde_json::to_value(&s).unwrap(),
            serde_json::json!({"status":"IN_PROGRESS","reason":"triage"})
        );
        let t = TaskCompletion {
            outcome: TaskOutcome::Approved,
            comment: None,
        };
        assert_eq!(
            serde_json::to_value(&t).unwrap(),
            serde_json::json!({"outcome":"APPROVED"})
        );
        let n = NewComment {
            text: "hi".into(),
            visibility: Visibility::Internal,
        };
        assert_eq!(
            serde_json::to_value(&n).unwrap(),
            serde_json::json!({"text":"hi","visibility":"INTERNAL"})
        );
    }

    #[test]
    fn error_bodies_of_every_form() {
        let service = br#"{"status":409,"exception":"DuplicateExternalReference","message":"exists","path":"/x","timestamp":"t","existingCaseId":"c1"}"#;
        let e = ErrorInfo::parse(service);
        assert_eq!(e.exception, "DuplicateExternalReference");
        assert_eq!(e.existing_case_id.as_deref(), Some("c1"));
        let fault = br#"{"fault":{"faultstring":"Invalid access token","detail":{"errorcode":"oauth.v2.InvalidAccessToken"}}}"#;
        let e = ErrorInfo::parse(fault);
        assert_eq!(
            (e.exception.as_str(), e.message.as_str()),
            ("oauth.v2.InvalidAccessToken", "Invalid access token")
        );
        let oauth = br#"{"error":"invalid_client","error_description":"bad secret"}"#;
        assert_eq!(ErrorInfo::parse(oauth).exception, "invalid_client");
        let html = b"<html>\n<body>Bad Gateway</body></html>";
        let e = ErrorInfo::parse(html);
        assert_eq!(e.exception, "");
        assert!(
            e.message.starts_with("<html><body>Bad Gateway"),
            "{}",
            e.message
        );
    }

    #[test]
    fn listings_in_both_forms() {
        let hal = br#"{"_embedded":{"collection":[{"id":"a","name":"n"}]},"total":7,"_links":{"next":{"href":"http://h/p?page=2"}}}"#;
        let l = Listing::<CaseDefinition>::parse(hal).unwrap();
        assert_eq!(
            (l.items.len(), l.total, l.next.as_deref()),
            (1, Some(7), Some("http://h/p?page=2"))
        );
        let bare = br#"[{"id":"a","name":"n"},{"id":"b","name":"m","caseConfigId":"c"}]"#;
        let l = Listing::<CaseDefinition>::parse(bare).unwrap();
        assert_eq!(l.items[1].case_config_id.as_deref(), Some("c"));
        assert!(
            Listing::<CaseDefinition>::parse(br#"[{"name":"no id"}]"#)
                .unwrap_err()
                .contains("item 0")
        );
    }

    #[test]
    fn cases_are_read_leniently() {
        let c: Case = serde_json::from_str(
            r#"{"id":"c1","status":"SOMETHING_NEW","caseProperties":{"defaultAttributes":{"priority":"HIGH",
            "lastUpdatedOn":"2026-11-26T10:22:31.193+0000","vendorField":1}},"extra":true}"#,
        )
        .unwrap();
        assert_eq!(c.status(), None);
        assert_eq!(c.priority(), Some(Priority::High));
        assert_eq!(
            c.last_updated_on(),
            api_time::parse("2026-11-26T10:22:31.193Z")
        );
    }
}
