//! The tenant's data and rules: definitions, cases with their comments,
//! attachments, tasks and history, and the `Idempotency-Key` records.
//!
//! Everything here is synchronous and runs under one lock, so a request is
//! applied atomically — idempotency check, change and record included.
//! Inputs arrive parsed and validated (see `api`); what is checked here is
//! what depends on state: existence, uniqueness, the lifecycle.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use shopcase_contract::action::{CaseStatus, Priority};
use uuid::Uuid;

use super::EmulatorConfig;
use super::error::{ApiError, Reply};
use shopcase_corecase::{api_time, lifecycle};

/// A case definition.
#[derive(Debug, Clone)]
pub(crate) struct Definition {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) case_config_id: String,
}

/// A change to an optional attribute.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change<T> {
    Keep,
    Set(T),
    Clear,
}

#[derive(Debug)]
pub(crate) struct NewCaseInput {
    pub(crate) case_type_id: Option<String>,
    pub(crate) case_config_id: Option<String>,
    pub(crate) title: String,
    pub(crate) summary: Option<String>,
    pub(crate) priority: Priority,
    pub(crate) assignee: Option<String>,
    pub(crate) assignee_group: Option<String>,
    pub(crate) due_date: Option<Timestamp>,
    pub(crate) external_reference: Option<String>,
    pub(crate) custom: Map<String, Value>,
}

#[derive(Debug)]
pub(crate) struct FileInput {
    pub(crate) name: String,
    pub(crate) content_type: String,
    pub(crate) description: Option<String>,
    pub(crate) data: Bytes,
}

#[derive(Debug)]
pub(crate) struct CaseDataInput {
    pub(crate) priority: Option<Priority>,
    pub(crate) assignee: Change<String>,
    pub(crate) assignee_group: Change<String>,
    pub(crate) due_date: Change<Timestamp>,
    pub(crate) escalation_level: Option<u8>,
    /// `null` values remove the attribute.
    pub(crate) custom: Map<String, Value>,
}

#[derive(Debug)]
pub(crate) struct StatusInput {
    pub(crate) status: CaseStatus,
    pub(crate) reason: Option<String>,
    pub(crate) resolution: Option<(String, Option<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskKind {
    Task,
    Approval,
}

impl TaskKind {
    pub(crate) fn as_api(self) -> &'static str {
        match self {
            TaskKind::Task => "TASK",
            TaskKind::Approval => "APPROVAL",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Done,
    Approved,
    Rejected,
}

impl Outcome {
    pub(crate) fn as_api(self) -> &'static str {
        match self {
            Outcome::Done => "DONE",
            Outcome::Approved => "APPROVED",
            Outcome::Rejected => "REJECTED",
        }
    }
}

#[derive(Debug)]
pub(crate) struct TaskInput {
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) kind: TaskKind,
    pub(crate) assignee_group: Option<String>,
    pub(crate) assignee: Option<String>,
    pub(crate) due_date: Option<Timestamp>,
}

#[derive(Debug)]
pub(crate) struct ListQuery {
    pub(crate) external_reference: Option<String>,
    pub(crate) statuses: Vec<CaseStatus>,
    pub(crate) updated_since: Option<Timestamp>,
    pub(crate) page: u32,
    pub(crate) per_page: u32,
}

/// One page of a listing.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) items: Vec<Value>,
    pub(crate) total: usize,
    pub(crate) has_next: bool,
}

#[derive(Debug, Clone)]
struct CommentRec {
    id: String,
    text: String,
    visibility: &'static str,
    created_on: Timestamp,
    created_by: String,
}

#[derive(Debug, Clone)]
struct AttachmentRec {
    id: String,
    name: String,
    content_type: String,
    description: Option<String>,
    sha256: String,
    data: Bytes,
    created_on: Timestamp,
    created_by: String,
}

#[derive(Debug, Clone)]
struct TaskRec {
    id: String,
    title: String,
    description: Option<String>,
    kind: TaskKind,
    assignee_group: Option<String>,
    assignee: Option<String>,
    due_date: Option<Timestamp>,
    created_on: Timestamp,
    created_by: String,
    completed: Option<(Timestamp, String, Outcome, Option<String>)>,
}

#[derive(Debug, Clone)]
struct HistoryRec {
    id: String,
    at: Timestamp,
    actor: String,
    field: String,
    from: Value,
    to: Value,
    reason: Option<String>,
}

#[derive(Debug, Clone)]
struct CaseRec {
    id: String,
    number: String,
    def_id: String,
    status: CaseStatus,
    title: String,
    summary: Option<String>,
    priority: Priority,
    assignee: Option<String>,
    assignee_group: Option<String>,
    due_date: Option<Timestamp>,
    external_reference: Option<String>,
    custom: Map<String, Value>,
    created_on: Timestamp,
    created_by: String,
    last_updated_on: Timestamp,
    last_updated_by: String,
    resolution: Option<(String, Option<String>, Timestamp)>,
    escalation_level: u8,
    comments: Vec<CommentRec>,
    attachments: Vec<AttachmentRec>,
    tasks: Vec<TaskRec>,
    history: Vec<HistoryRec>,
    /// An APPROVAL task of the current round was rejected.
    approval_rejected: bool,
}

impl CaseRec {
    fn touch(&mut self, now: Timestamp, actor: &str) {
        self.last_updated_on = now;
        actor.clone_into(&mut self.last_updated_by);
    }

    fn record(
        &mut self,
        now: Timestamp,
        actor: &str,
        field: &str,
        from: Value,
        to: Value,
        reason: Option<String>,
    ) {
        self.history.push(HistoryRec {
            id: Uuid::new_v4().to_string(),
            at: now,
            actor: actor.into(),
            field: field.into(),
            from,
            to,
            reason,
        });
    }

    fn set_status(&mut self, now: Timestamp, actor: &str, to: CaseStatus, reason: Option<String>) {
        let from = self.status;
        if to == CaseStatus::PendingApproval {
            // A new approval round starts.
            self.approval_rejected = false;
        }
        self.status = to;
        self.record(
            now,
            actor,
            "status",
            from.as_api().into(),
            to.as_api().into(),
            reason,
        );
    }

    fn attach(&mut self, now: Timestamp, actor: &str, file: FileInput) -> &AttachmentRec {
        let rec = AttachmentRec {
            id: Uuid::new_v4().to_string(),
            sha256: hex::encode(Sha256::digest(&file.data)),
            name: file.name,
            content_type: file.content_type,
            description: file.description,
            data: file.data,
            created_on: now,
            created_by: actor.into(),
        };
        self.record(
            now,
            actor,
            "attachment",
            Value::Null,
            rec.name.clone().into(),
            None,
        );
        self.attachments.push(rec);
        &self.attachments[self.attachments.len() - 1]
    }
}

/// What an `Idempotency-Key` lookup found.
#[derive(Debug)]
pub(crate) enum Lookup {
    Miss,
    Replay(Reply),
    Mismatch,
}

#[derive(Debug)]
struct IdemRecord {
    fingerprint: [u8; 32],
    reply: Reply,
    at: Instant,
}

/// The clock: `lastUpdatedOn` values never repeat, so listings are totally
/// ordered and tests of `updatedSince` are deterministic.
#[derive(Debug)]
struct Clock {
    last: Timestamp,
}

impl Clock {
    fn tick(&mut self) -> Timestamp {
        let now = Timestamp::now();
        let now = now.round(jiff::Unit::Millisecond).unwrap_or(now);
        let next = if now > self.last {
            now
        } else {
            self.last
                .checked_add(SignedDuration::from_millis(1))
                .unwrap_or(now)
        };
        self.last = next;
        next
    }
}

/// The tenant.
#[derive(Debug)]
pub(crate) struct Model {
    definitions: Vec<Definition>,
    cases: HashMap<String, CaseRec>,
    /// (definition id, externalReference) → case id.
    external_refs: HashMap<(String, String), String>,
    next_number: u64,
    clock: Clock,
    /// (client id, key) → first answer.
    idempotency: HashMap<(String, String), IdemRecord>,
    window: Duration,
    prefix: String,
}

fn ts(t: Timestamp) -> Value {
    Value::String(api_time::format(t))
}

fn opt_ts(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, ts)
}

fn opt_str(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

impl Model {
    pub(crate) fn new(config: &EmulatorConfig) -> Model {
        let definitions = config
            .case_definitions
            .iter()
            .map(|d| Definition {
                id: d
                    .id
                    .unwrap_or_else(|| super::definition_id(&d.name))
                    .to_string(),
                name: d.name.clone(),
                case_config_id: d
                    .case_config_id
                    .unwrap_or_else(|| super::case_config_id(&d.name))
                    .to_string(),
            })
            .collect();
        Model {
            definitions,
            cases: HashMap::new(),
            external_refs: HashMap::new(),
            next_number: 1,
            clock: Clock {
                last: Timestamp::UNIX_EPOCH,
            },
            idempotency: HashMap::new(),
            window: Duration::from_secs(config.idempotency_window_secs),
            prefix: config.case_number_prefix.clone(),
        }
    }

    // ------------------------------------------------------------ idempotency

    pub(crate) fn idempotency_lookup(
        &self,
        client: &str,
        key: &str,
        fingerprint: &[u8; 32],
    ) -> Lookup {
        match self.idempotency.get(&(client.to_owned(), key.to_owned())) {
            Some(r) if r.at.elapsed() < self.window => {
                if &r.fingerprint == fingerprint {
                    Lookup::Replay(r.reply.clone())
                } else {
                    Lookup::Mismatch
                }
            }
            _ => Lookup::Miss,
        }
    }

    pub(crate) fn idempotency_store(
        &mut self,
        client: &str,
        key: &str,
        fingerprint: [u8; 32],
        reply: Reply,
    ) {
        if self.idempotency.len() >= 4096 {
            let window = self.window;
            self.idempotency.retain(|_, r| r.at.elapsed() < window);
        }
        self.idempotency.insert(
            (client.to_owned(), key.to_owned()),
            IdemRecord {
                fingerprint,
                reply,
                at: Instant::now(),
            },
        );
    }

    // ------------------------------------------------------------ definitions

    pub(crate) fn definitions(&self) -> impl Iterator<Item = &Definition> {
        self.definitions.iter()
    }

    fn definition(&self, def_id: &str) -> Result<&Definition, ApiError> {
        self.definitions
            .iter()
            .find(|d| d.id == def_id)
            .ok_or_else(|| {
                ApiError::not_found(
                    "CaseDefinitionNotFound",
                    format!("no case definition `{def_id}`"),
                )
            })
    }

    pub(crate) fn list_definitions(&self) -> Value {
        let items: Vec<Value> = self
            .definitions
            .iter()
            .map(|d| json!({"id": d.id, "name": d.name, "caseConfigId": d.case_config_id}))
            .collect();
        json!({"_embedded": {"collection": items}, "total": self.definitions.len()})
    }

    // ------------------------------------------------------------ cases

    fn find<'a>(
        cases: &'a mut HashMap<String, CaseRec>,
        def_id: &str,
        case_id: &str,
    ) -> Result<&'a mut CaseRec, ApiError> {
        cases
            .get_mut(case_id)
            .filter(|c| c.def_id == def_id)
            .ok_or_else(|| {
                ApiError::not_found(
                    "CaseNotFound",
                    format!("no case `{case_id}` in definition `{def_id}`"),
                )
            })
    }

    fn render(&self, c: &CaseRec) -> Value {
        let name = self
            .definitions
            .iter()
            .find(|d| d.id == c.def_id)
            .map(|d| d.name.clone());
        let config = self
            .definitions
            .iter()
            .find(|d| d.id == c.def_id)
            .map(|d| d.case_config_id.clone());
        let resolution = match &c.resolution {
            Some((code, notes, at)) => json!({"code": code, "notes": notes, "resolvedOn": ts(*at)}),
            None => Value::Null,
        };
        json!({
            "id": c.id,
            "caseNumber": c.number,
            "caseType": {"id": c.def_id, "name": name},
            "caseConfigId": config,
            "status": c.status.as_api(),
            "caseProperties": {
                "defaultAttributes": {
                    "caseTitle": c.title,
                    "summary": opt_str(&c.summary),
                    "priority": c.priority.as_api(),
                    "assignee": opt_str(&c.assignee),
                    "assigneeGroup": opt_str(&c.assignee_group),
                    "dueDate": opt_ts(c.due_date),
                    "externalReference": opt_str(&c.external_reference),
                    "createdOn": ts(c.created_on),
                    "createdBy": c.created_by,
                    "lastUpdatedOn": ts(c.last_updated_on),
                    "lastUpdatedBy": c.last_updated_by,
                    "resolution": resolution,
                    "escalationLevel": c.escalation_level,
                    "slaBreached": false,
                },
                "customAttributes": c.custom,
            },
            "tasks": c.tasks.iter().map(|t| task_json(&c.id, t)).collect::<Vec<_>>(),
        })
    }

    pub(crate) fn create_case(
        &mut self,
        actor: &str,
        def_id: &str,
        input: NewCaseInput,
        files: Vec<FileInput>,
    ) -> Result<Reply, ApiError> {
        let def = self.definition(def_id)?.clone();
        if let Some(id) = input.case_type_id.as_deref().filter(|id| *id != def.id) {
            return Err(ApiError::invalid(format!(
                "caseType.id `{id}` does not match the case definition in the path (`{}`)",
                def.id
            )));
        }
        if let Some(id) = input
            .case_config_id
            .as_deref()
            .filter(|id| *id != def.case_config_id)
        {
            return Err(ApiError::invalid(format!(
                "caseConfigId `{id}` is not the configuration of `{}` (`{}`)",
                def.name, def.case_config_id
            )));
        }
        if let Some(r) = &input.external_reference
            && let Some(existing) = self.external_refs.get(&(def.id.clone(), r.clone()))
        {
            return Err(ApiError::conflict(
                "DuplicateExternalReference",
                format!(
                    "a case with externalReference `{r}` already exists in `{}`",
                    def.name
                ),
            )
            .with("existingCaseId", existing.clone()));
        }
        let now = self.clock.tick();
        let id = Uuid::new_v4().to_string();
        let number = format!("{}-{:06}", self.prefix, self.next_number);
        self.next_number += 1;
        let mut case = CaseRec {
            id: id.clone(),
            number,
            def_id: def.id.clone(),
            status: CaseStatus::New,
            title: input.title,
            summary: input.summary,
            priority: input.priority,
            assignee: input.assignee,
            assignee_group: input.assignee_group,
            due_date: input.due_date,
            external_reference: input.external_reference,
            custom: input
                .custom
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .collect(),
            created_on: now,
            created_by: actor.into(),
            last_updated_on: now,
            last_updated_by: actor.into(),
            resolution: None,
            escalation_level: 0,
            comments: Vec::new(),
            attachments: Vec::new(),
            tasks: Vec::new(),
            history: Vec::new(),
            approval_rejected: false,
        };
        case.record(
            now,
            actor,
            "status",
            Value::Null,
            CaseStatus::New.as_api().into(),
            None,
        );
        for f in files {
            case.attach(now, actor, f);
        }
        if let Some(r) = &case.external_reference {
            self.external_refs
                .insert((def.id.clone(), r.clone()), id.clone());
        }
        let body = self.render(&case);
        self.cases.insert(id, case);
        Ok(Reply::created(body))
    }

    pub(crate) fn get_case(&mut self, def_id: &str, case_id: &str) -> Result<Value, ApiError> {
        self.definition(def_id)?;
        let case = Self::find(&mut self.cases, def_id, case_id)?.clone();
        Ok(self.render(&case))
    }

    pub(crate) fn update_case_data(
        &mut self,
        actor: &str,
        def_id: &str,
        case_id: &str,
        if_match: Option<Timestamp>,
        input: CaseDataInput,
    ) -> Result<Reply, ApiError> {
        self.definition(def_id)?;
        let case = Self::find(&mut self.cases, def_id, case_id)?;
        if let Some(expected) = if_match
            && expected != case.last_updated_on
        {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                format!(
                    "the case changed at {}; If-Match was {}",
                    api_time::format(case.last_updated_on),
                    api_time::format(expected)
                ),
            ));
        }
        if !case.status.is_open() {
            return Err(ApiError::conflict(
                "CaseNotOpen",
                format!(
                    "case {} is {}; its data can no longer change",
                    case.number,
                    case.status.as_api()
                ),
            ));
        }
        // Collect the changes first: a request that changes nothing must not
        // move lastUpdatedOn (the poller would see a phantom update).
        let mut changes: Vec<(&str, Value, Value)> = Vec::new();
        if let Some(p) = input.priority.filter(|p| *p != case.priority) {
            changes.push(("priority", case.priority.as_api().into(), p.as_api().into()));
            case.priority = p;
        }
        for (field, slot, change) in [
            ("assignee", &mut case.assignee, input.assignee),
            (
                "assigneeGroup",
                &mut case.assignee_group,
                input.assignee_group,
            ),
        ] {
            let new = match change {
                Change::Keep => continue,
                Change::Set(v) => Some(v),
                Change::Clear => None,
            };
            if *slot != new {
                changes.push((field, opt_str(slot), opt_str(&new)));
                *slot = new;
            }
        }
        let due = match input.due_date {
            Change::Keep => case.due_date,
            Change::Set(t) => Some(t),
            Change::Clear => None,
        };
        if due != case.due_date {
            changes.push(("dueDate", opt_ts(case.due_date), opt_ts(due)));
            case.due_date = due;
        }
        if let Some(l) = input
            .escalation_level
            .filter(|l| *l != case.escalation_level)
        {
            changes.push(("escalationLevel", case.escalation_level.into(), l.into()));
            case.escalation_level = l;
        }
        let mut custom_changes = Vec::new();
        for (k, v) in input.custom {
            let old = case.custom.get(&k).cloned().unwrap_or(Value::Null);
            if old == v {
                continue;
            }
            if v.is_null() {
                case.custom.remove(&k);
            } else {
                case.custom.insert(k.clone(), v.clone());
            }
            custom_changes.push((format!("customAttributes.{k}"), old, v));
        }
        if !changes.is_empty() || !custom_changes.is_empty() {
            let now = self.clock.tick();
            for (field, from, to) in changes {
                case.record(now, actor, field, from, to, None);
            }
            for (field, from, to) in custom_changes {
                case.record(now, actor, &field, from, to, None);
            }
            case.touch(now, actor);
        }
        let case = case.clone();
        Ok(Reply::ok(self.render(&case)))
    }

    pub(crate) fn change_status(
        &mut self,
        actor: &str,
        def_id: &str,
        case_id: &str,
        input: StatusInput,
    ) -> Result<Reply, ApiError> {
        self.definition(def_id)?;
        let case = Self::find(&mut self.cases, def_id, case_id)?;
        if !lifecycle::can_transition(case.status, input.status) {
            let allowed: Vec<&str> = lifecycle::next_states(case.status)
                .iter()
                .map(|s| s.as_api())
                .collect();
            return Err(ApiError::conflict(
                "IllegalStatusTransition",
                format!(
                    "case {} cannot move from {} to {}; allowed: {}",
                    case.number,
                    case.status.as_api(),
                    input.status.as_api(),
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            )
            .with("currentStatus", case.status.as_api()));
        }
        let now = self.clock.tick();
        case.set_status(now, actor, input.status, input.reason);
        if let Some((code, notes)) = input.resolution {
            case.record(
                now,
                actor,
                "resolution",
                Value::Null,
                code.clone().into(),
                None,
            );
            case.resolution = Some((code, notes, now));
        }
        case.touch(now, actor);
        let case = case.clone();
        Ok(Reply::ok(self.render(&case)))
    }

    pub(crate) fn list_cases(&self, def_id: &str, q: &ListQuery) -> Result<Page, ApiError> {
        self.definition(def_id)?;
        let mut matching: Vec<&CaseRec> = self
            .cases
            .values()
            .filter(|c| c.def_id == def_id)
            .filter(|c| {
                q.external_reference.is_none() || c.external_reference == q.external_reference
            })
            .filter(|c| q.statuses.is_empty() || q.statuses.contains(&c.status))
            .filter(|c| {
                q.updated_since
                    .is_none_or(|since| c.last_updated_on >= since)
            })
            .collect();
        matching.sort_by(|a, b| {
            a.last_updated_on
                .cmp(&b.last_updated_on)
                .then_with(|| a.id.cmp(&b.id))
        });
        let total = matching.len();
        let start = (q.page as usize - 1).saturating_mul(q.per_page as usize);
        let items = matching
            .iter()
            .skip(start)
            .take(q.per_page as usize)
            .map(|c| self.render(c))
            .collect();
        Ok(Page {
            items,
            total,
            has_next: start.saturating_add(q.per_page as usize) < total,
        })
    }

    // ------------------------------------------------------------ comments

    pub(crate) fn add_comment(
        &mut self,
        actor: &str,
        def_id: &str,
        case_id: &str,
        text: String,
        visibility: &'static str,
    ) -> Result<Reply, ApiError> {
        self.definition(def_id)?;
        let now = self.clock.tick();
        let case = Self::find(&mut self.cases, def_id, case_id)?;
        let c = CommentRec {
            id: Uuid::new_v4().to_string(),
            text,
            visibility,
            created_on: now,
            created_by: actor.into(),
        };
        case.record(
            now,
            actor,
            "comment",
            Value::Null,
            c.id.clone().into(),
            None,
        );
        case.touch(now, actor);
        let body = comment_json(&c);
        case.comments.push(c);
        Ok(Reply::created(body))
    }

    pub(crate) fn list_comments(&mut self, def_id: &str, case_id: &str) -> Result<Value, ApiError> {
        self.definition(def_id)?;
        let case = Self::find(&mut self.cases, def_id, case_id)?;
        Ok(collection(case.comments.iter().map(comment_json).collect()))
    }

    // ------------------------------------------------------------ attachments

    pub(crate) fn add_attachment(
        &mut self,
        actor: &str,
        def_id: &str,
        case_id: &str,
        file: FileInput,
    ) -> Result<Reply, ApiError> {
        self.definition(def_id)?;
        let now = self.clock.tick();
        let case = Self::find(&mut self.cases, def_id, case_id)?;
        let body = attachment_json(case.attach(now, actor, file));
        case.touch(now, actor);
        Ok(Reply::created(body))
    }

    pub(crate) fn list_attachments(
        &mut self,
        def_id: &str,
        case_id: &str,
    ) -> Result<Value, ApiError> {
        self.definition(def_id)?;
        let case = Self::find(&mut self.cases, def_id, case_id)?;
        Ok(collection(
            case.attachments.iter().map(attachment_json).collect(),
        ))
    }

    /// `(content type, name, bytes)`.
    pub(crate) fn attachment_content(
        &mut self,
        def_id: &str,
        case_id: &str,
        attachment_id: &str,
    ) -> Result<(String, String, Bytes), ApiError> {
        self.definition(def_id)?;
        let case = Self::find(&mut self.cases, def_id, case_id)?;
        let a = case
            .attachments
            .iter()
            .find(|a| a.id == attachment_id)
            .ok_or_else(|| {
                ApiError::not_found(
                    "AttachmentNotFound",
                    format!("no attachment `{attachment_id}` on case {}", case.number),
                )
            })?;
        Ok((a.content_type.clone(), a.name.clone(), a.data.clone()))
    }

    // ------------------------------------------------------------ history

    pub(crate) fn history(&mut self, def_id: &str, case_id: &str) -> Result<Value, ApiError> {
        self.definition(def_id)?;
        let case = Self::find(&mut self.cases, def_id, case_id)?;
        Ok(Value::Array(
            case.history.iter().map(history_json).collect(),
        ))
    }

    // ------------------------------------------------------------ tasks

    pub(crate) fn create_task(
        &mut self,
        actor: &str,
        def_id: &str,
        case_id: &str,
        input: TaskInput,
    ) -> Result<Reply, ApiError> {
        self.definition(def_id)?;
        let case = Self::find(&mut self.cases, def_id, case_id)?;
        // Opening a task (an APPROVAL included) needs an open case.
        if !case.status.is_open()
            || (input.kind == TaskKind::Approval && !lifecycle::opens_approval(case.status))
        {
            return Err(ApiError::conflict(
                "CaseNotOpen",
                format!(
                    "case {} is {}; no task can be opened",
                    case.number,
                    case.status.as_api()
                ),
            ));
        }
        let now = self.clock.tick();
        let task = TaskRec {
            id: Uuid::new_v4().to_string(),
            title: input.title,
            description: input.description,
            kind: input.kind,
            assignee_group: input.assignee_group,
            assignee: input.assignee,
            due_date: input.due_date,
            created_on: now,
            created_by: actor.into(),
            completed: None,
        };
        case.record(
            now,
            actor,
            "task",
            Value::Null,
            json!({"id": task.id, "kind": task.kind.as_api(), "status": "OPEN"}),
            None,
        );
        if task.kind == TaskKind::Approval && case.status != CaseStatus::PendingApproval {
            case.set_status(
                now,
                actor,
                CaseStatus::PendingApproval,
                Some(format!("approval task `{}` opened", task.title)),
            );
        }
        case.touch(now, actor);
        let body = task_json(&case.id, &task);
        case.tasks.push(task);
        Ok(Reply::created(body))
    }

    pub(crate) fn list_tasks(&mut self, def_id: &str, case_id: &str) -> Result<Value, ApiError> {
        self.definition(def_id)?;
        let case = Self::find(&mut self.cases, def_id, case_id)?;
        Ok(collection(
            case.tasks.iter().map(|t| task_json(&case.id, t)).collect(),
        ))
    }

    pub(crate) fn complete_task(
        &mut self,
        actor: &str,
        def_id: &str,
        case_id: &str,
        task_id: &str,
        outcome: Outcome,
        comment: Option<String>,
    ) -> Result<Reply, ApiError> {
        self.definition(def_id)?;
        let case = Self::find(&mut self.cases, def_id, case_id)?;
        let number = case.number.clone();
        let index = case
            .tasks
            .iter()
            .position(|t| t.id == task_id)
            .ok_or_else(|| {
                ApiError::not_found(
                    "TaskNotFound",
                    format!("no task `{task_id}` on case {number}"),
                )
            })?;
        let task = &case.tasks[index];
        if let Some((_, _, done, _)) = &task.completed {
            return Err(ApiError::conflict(
                "TaskAlreadyCompleted",
                format!(
                    "task `{}` was already completed ({})",
                    task.title,
                    done.as_api()
                ),
            ));
        }
        let fits = match task.kind {
            TaskKind::Task => outcome == Outcome::Done,
            TaskKind::Approval => matches!(outcome, Outcome::Approved | Outcome::Rejected),
        };
        if !fits {
            return Err(ApiError::invalid(format!(
                "outcome {} does not fit a {} task (TASK: DONE; APPROVAL: APPROVED or REJECTED)",
                outcome.as_api(),
                task.kind.as_api()
            )));
        }
        let now = self.clock.tick();
        let kind = task.kind;
        case.tasks[index].completed = Some((now, actor.into(), outcome, comment));
        case.record(
            now,
            actor,
            "task",
            json!({"id": task_id, "status": "OPEN"}),
            json!({"id": task_id, "status": "COMPLETED", "outcome": outcome.as_api()}),
            None,
        );
        if kind == TaskKind::Approval {
            if outcome == Outcome::Rejected {
                case.approval_rejected = true;
            }
            let open_approvals = case
                .tasks
                .iter()
                .any(|t| t.kind == TaskKind::Approval && t.completed.is_none());
            if !open_approvals && case.status == CaseStatus::PendingApproval {
                let decided = lifecycle::approval_outcome(case.approval_rejected);
                case.set_status(
                    now,
                    actor,
                    decided,
                    Some("last approval task completed".into()),
                );
            }
        }
        case.touch(now, actor);
        let body = task_json(&case.id, &case.tasks[index]);
        Ok(Reply::ok(body))
    }

    // ------------------------------------------------------------ inspection

    fn inspect_case(&self, c: &CaseRec) -> Value {
        let mut v = self.render(c);
        if let Value::Object(map) = &mut v {
            let name = self
                .definitions
                .iter()
                .find(|d| d.id == c.def_id)
                .map(|d| d.name.clone());
            map.insert("definitionName".into(), json!(name));
            map.insert(
                "comments".into(),
                c.comments.iter().map(comment_json).collect(),
            );
            map.insert(
                "attachments".into(),
                c.attachments.iter().map(attachment_json).collect(),
            );
            map.insert(
                "history".into(),
                c.history.iter().map(history_json).collect(),
            );
        }
        v
    }

    /// Every case, oldest first.
    pub(crate) fn inspect_all(&self) -> Vec<Value> {
        let mut all: Vec<&CaseRec> = self.cases.values().collect();
        all.sort_by(|a, b| {
            a.created_on
                .cmp(&b.created_on)
                .then_with(|| a.id.cmp(&b.id))
        });
        all.into_iter().map(|c| self.inspect_case(c)).collect()
    }

    pub(crate) fn inspect(&self, case_id: &str) -> Option<Value> {
        self.cases.get(case_id).map(|c| self.inspect_case(c))
    }

    /// Remove a case as an administrator of the tenant would (the API has
    /// no such operation): afterwards every request about it answers 404,
    /// and its `externalReference` is free again. Returns whether it existed.
    pub(crate) fn remove_case(&mut self, case_id: &str) -> bool {
        let Some(case) = self.cases.remove(case_id) else {
            return false;
        };
        if let Some(r) = case.external_reference {
            self.external_refs.remove(&(case.def_id, r));
        }
        true
    }
}

fn collection(items: Vec<Value>) -> Value {
    let total = items.len();
    json!({"_embedded": {"collection": items}, "total": total})
}

fn comment_json(c: &CommentRec) -> Value {
    json!({"id": c.id, "text": c.text, "visibility": c.visibility, "createdOn": ts(c.created_on), "createdBy": c.created_by})
}

fn attachment_json(a: &AttachmentRec) -> Value {
    json!({
        "id": a.id, "name": a.name, "contentType": a.content_type, "size": a.data.len(),
        "sha256": a.sha256, "description": a.description, "createdOn": ts(a.created_on), "createdBy": a.created_by,
    })
}

fn history_json(h: &HistoryRec) -> Value {
    let mut v = json!({"id": h.id, "at": ts(h.at), "actor": h.actor, "field": h.field, "from": h.from, "to": h.to});
    if let (Some(reason), Value::Object(map)) = (&h.reason, &mut v) {
        map.insert("reason".into(), reason.clone().into());
    }
    v
}

fn task_json(case_id: &str, t: &TaskRec) -> Value {
    let (completed_on, completed_by, outcome, comment) = match &t.completed {
        Some((at, by, outcome, comment)) => {
            (ts(*at), json!(by), json!(outcome.as_api()), json!(comment))
        }
        None => (Value::Null, Value::Null, Value::Null, Value::Null),
    };
    json!({
        "id": t.id, "caseId": case_id, "title": t.title, "description": t.description, "kind": t.kind.as_api(),
        "status": if t.completed.is_some() { "COMPLETED" } else { "OPEN" },
        "assigneeGroup": t.assignee_group, "assignee": t.assignee, "dueDate": opt_ts(t.due_date),
        "createdOn": ts(t.created_on), "createdBy": t.created_by,
        "completedOn": completed_on, "completedBy": completed_by, "outcome": outcome, "comment": comment,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> (Model, String) {
        let m = Model::new(&EmulatorConfig::default());
        let def = m.definitions[0].id.clone();
        (m, def)
    }

    fn new_case(title: &str, reference: Option<&str>) -> NewCaseInput {
        NewCaseInput {
            case_type_id: None,
            case_config_id: None,
            title: title.into(),
            summary: None,
            priority: Priority::Medium,
            assignee: None,
            assignee_group: None,
            due_date: None,
            external_reference: reference.map(Into::into),
            custom: Map::new(),
        }
    }

    fn id_of(r: &Reply) -> String {
        r.body["id"].as_str().unwrap().to_string()
    }

    #[test]
    fn clock_never_repeats() {
        let mut c = Clock {
            last: Timestamp::UNIX_EPOCH,
        };
        let mut prev = c.tick();
        for _ in 0..1000 {
            let t = c.tick();
            assert!(t > prev);
            prev = t;
        }
    }

    #[test]
    fn duplicate_external_reference_names_the_existing_case() {
        let (mut m, def) = model();
        let first = m
            .create_case("a", &def, new_case("t", Some("ref-1")), vec![])
            .unwrap();
        let err = m
            .create_case("a", &def, new_case("t", Some("ref-1")), vec![])
            .unwrap_err();
        assert_eq!(err.status, StatusCode::CONFLICT);
        assert_eq!(err.extra["existingCaseId"], Value::String(id_of(&first)));
        // Unique per definition only.
        let other = m.definitions[1].id.clone();
        assert!(
            m.create_case("a", &other, new_case("t", Some("ref-1")), vec![])
                .is_ok()
        );
    }

    #[test]
    fn approval_round() {
        let (mut m, def) = model();
        let case = id_of(
            &m.create_case("a", &def, new_case("t", None), vec![])
                .unwrap(),
        );
        let approval = |kind| TaskInput {
            title: "approve".into(),
            description: None,
            kind,
            assignee_group: None,
            assignee: None,
            due_date: None,
        };
        let t1 = id_of(
            &m.create_task("a", &def, &case, approval(TaskKind::Approval))
                .unwrap(),
        );
        let t2 = id_of(
            &m.create_task("a", &def, &case, approval(TaskKind::Approval))
                .unwrap(),
        );
        assert_eq!(m.cases[&case].status, CaseStatus::PendingApproval);
        assert_eq!(
            m.complete_task("a", &def, &case, &t1, Outcome::Done, None)
                .unwrap_err()
                .status,
            StatusCode::BAD_REQUEST
        );
        m.complete_task("a", &def, &case, &t1, Outcome::Rejected, None)
            .unwrap();
        assert_eq!(
            m.cases[&case].status,
            CaseStatus::PendingApproval,
            "one approval is still open"
        );
        m.complete_task("a", &def, &case, &t2, Outcome::Approved, None)
            .unwrap();
        assert_eq!(
            m.cases[&case].status,
            CaseStatus::Rejected,
            "one rejection rejects the round"
        );
        let again = m
            .complete_task("a", &def, &case, &t2, Outcome::Approved, None)
            .unwrap_err();
        assert_eq!(again.exception, "TaskAlreadyCompleted");
    }

    #[test]
    fn a_no_op_update_does_not_move_last_updated_on() {
        let (mut m, def) = model();
        let case = id_of(
            &m.create_case("a", &def, new_case("t", None), vec![])
                .unwrap(),
        );
        let before = m.cases[&case].last_updated_on;
        let same = CaseDataInput {
            priority: Some(Priority::Medium),
            assignee: Change::Keep,
            assignee_group: Change::Clear,
            due_date: Change::Keep,
            escalation_level: Some(0),
            custom: Map::new(),
        };
        m.update_case_data("a", &def, &case, None, same).unwrap();
        assert_eq!(m.cases[&case].last_updated_on, before);
        assert_eq!(m.cases[&case].history.len(), 1);
    }

    #[test]
    fn stale_if_match_is_refused() {
        let (mut m, def) = model();
        let case = id_of(
            &m.create_case("a", &def, new_case("t", None), vec![])
                .unwrap(),
        );
        let stale = m.cases[&case]
            .last_updated_on
            .checked_sub(SignedDuration::from_secs(1))
            .unwrap();
        let input = || CaseDataInput {
            priority: Some(Priority::High),
            assignee: Change::Keep,
            assignee_group: Change::Keep,
            due_date: Change::Keep,
            escalation_level: None,
            custom: Map::new(),
        };
        let err = m
            .update_case_data("a", &def, &case, Some(stale), input())
            .unwrap_err();
        assert_eq!(err.status, StatusCode::PRECONDITION_FAILED);
        let current = m.cases[&case].last_updated_on;
        m.update_case_data("a", &def, &case, Some(current), input())
            .unwrap();
        assert_eq!(m.cases[&case].priority, Priority::High);
    }
}
