//! [`CaseExecutor`]: journalled case actions (`open-case`, `update-case`,
//! `comment`, `attach-document`, `create-task`, `request-approval`) made to
//! happen in Core Case exactly once.
//!
//! # Exactly once
//! Every request that creates something carries an `Idempotency-Key`
//! derived from the journal entry's key (`<event>:<plugin>:<index>`, plus
//! `:doc:<i>` per document and `:status` for a status change), so running
//! an entry again — a retry, or a re-run after a crash between the call and
//! the journal's acknowledgement — is answered with the first result.
//! Creating a case is also keyed by `externalReference`
//! (`<shop>:<kind>:<id>:<case type>`): if the idempotency record is gone,
//! Core Case answers 409 and the existing case is adopted. Case-data
//! changes are `PUT`s (idempotent by nature); a status change to the
//! status the case already has counts as done.
//!
//! # Errors
//! | Core Case | journal |
//! |---|---|
//! | 429, 5xx, timeouts, resets (after the client's own retries) | retried later (`corecase-unavailable`) |
//! | credentials refused | paused with the store's other case actions until a probe succeeds (`corecase-auth`, circuit breaker), logged as an error: an operator must fix `[corecase]` |
//! | 409 (illegal transition, closed case) | dead letter with Core Case's message (`corecase-conflict`) |
//! | other 4xx | dead letter (`corecase-rejected`, `corecase-not-found`) |
//! | unmapped case type, no linked case | dead letter (`unmapped-case-type`, `no-linked-case`) |

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};
use shopcase_contract::Action;
use shopcase_contract::action::{
    AttachDocument, CaseStatus, Comment, CreateTask, OpenCase, RequestApproval, UpdateCase,
};
use shopcase_contract::time::Timestamp;
use shopcase_contract::{ActionKind, CaseKey};
use shopcase_corecase::client::dto::{Case, NewComment};
use shopcase_corecase::{CoreCaseClient, ErrorClass, api_time};
use shopcase_store::{
    ActionFamily, CaseLink, CaseLinkDetails, CaseRecord, JournalEntry, JournalStatus,
    NewHeldOperation, Storage, StoreError,
};

use super::definitions::Definitions;
use super::mapping;
use super::settings::DefinitionRef;
use shopcase_host_api::fault::{Fault, Faults};
use shopcase_host_api::{ExecError, Executor};

/// Executes the case family of the journal against Core Case.
#[derive(Debug, Clone)]
pub struct CaseExecutor {
    pub(crate) client: CoreCaseClient,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) definitions: Arc<Definitions>,
    pub(crate) execute_timeout: std::time::Duration,
    pub(crate) faults: Faults,
}

/// A Core Case client error as the journal records it (module docs).
pub(crate) fn exec_error(e: &shopcase_corecase::Error) -> ExecError {
    match e.class() {
        ErrorClass::Transient => {
            ExecError::transient("corecase-unavailable", e.to_string(), e.retry_after())
        }
        ErrorClass::Auth => {
            tracing::error!(error = %e, "Core Case refused shopcase's credentials: check [corecase] client-id and the client secret; case actions are paused meanwhile");
            ExecError::credentials_refused(
                "corecase-auth",
                format!(
                    "{e}; check `[corecase]` client-id and the client secret (the action is retried)"
                ),
            )
        }
        ErrorClass::Conflict => ExecError::permanent("corecase-conflict", e.to_string()),
        ErrorClass::Permanent if e.is_not_found() => {
            ExecError::permanent("corecase-not-found", e.to_string())
        }
        ErrorClass::Permanent => ExecError::permanent("corecase-rejected", e.to_string()),
    }
}

fn storage_error(e: &StoreError) -> ExecError {
    ExecError::transient(e.code(), e.to_string(), None)
}

/// The link's view of a case as Core Case returned it.
fn link_from(
    shop: &str,
    key: &CaseKey,
    case: &Case,
    fallback: Option<&CaseLink>,
    plugin_id: &str,
) -> CaseLink {
    let d = &case.case_properties.default_attributes;
    let opened_at = d
        .created_on
        .as_deref()
        .and_then(api_time::parse)
        .map(shopcase_contract::time::format)
        .or_else(|| fallback.map(|l| l.opened_at.clone()))
        .unwrap_or_else(|| shopcase_contract::time::format(Timestamp::now()));
    CaseLink {
        shop: shop.to_owned(),
        key: key.clone(),
        case_id: case.id.clone(),
        case_number: if case.case_number.is_empty() {
            fallback.map(|l| l.case_number.clone()).unwrap_or_default()
        } else {
            case.case_number.clone()
        },
        status: case
            .status()
            .or(fallback.map(|l| l.status))
            .unwrap_or(CaseStatus::New),
        priority: case
            .priority()
            .or(fallback.map(|l| l.priority))
            .unwrap_or(shopcase_contract::action::Priority::Medium),
        escalation_level: d
            .escalation_level
            .map(|l| u8::try_from(l).unwrap_or(u8::MAX))
            .or(fallback.map(|l| l.escalation_level))
            .unwrap_or(0),
        opened_at,
        plugin_id: fallback
            .and_then(|l| l.plugin_id.clone())
            .or_else(|| Some(plugin_id.to_owned())),
        // The poller's to set: it is what it compares with.
        last_updated_on: None,
        updated_at: Timestamp::now(),
    }
}

impl CaseExecutor {
    async fn resolve(&self, case_type: &str) -> Result<DefinitionRef, ExecError> {
        self.definitions.resolve(&self.client, case_type).await
    }

    /// The linked case of `key` and its definition, or a permanent failure
    /// saying why there is none.
    async fn linked(
        &self,
        entry: &JournalEntry,
        key: &CaseKey,
    ) -> Result<(CaseRecord, String), ExecError> {
        let rec = self
            .storage
            .case_record_by_key(&entry.shop, key)
            .await
            .map_err(|e| storage_error(&e))?;
        if let Some(rec) = rec {
            let def = match &rec.definition_id {
                Some(d) => d.clone(),
                None => self.resolve(&key.case_type).await?.id,
            };
            return Ok((rec, def));
        }
        // Say whether the event tried to open it.
        let siblings = self
            .storage
            .journal_for_event(&entry.event_id)
            .await
            .map_err(|e| storage_error(&e))?;
        let opener = siblings.iter().find(|s| {
            s.plugin_id == entry.plugin_id
                && s.index < entry.index
                && s.kind == ActionKind::OpenCase
                && s.action.case_key() == Some(key)
        });
        let why = match opener {
            Some(o) if o.status == JournalStatus::Dead => format!(
                "the open-case before it ({}) failed: {}",
                o.key,
                o.last_error
                    .as_ref()
                    .map(|e| e.to_string())
                    .unwrap_or_default()
            ),
            Some(o) => format!("the open-case before it ({}) has not opened it", o.key),
            None => "and this event's actions do not open it before this one".to_owned(),
        };
        Err(ExecError::permanent(
            "no-linked-case",
            format!("no case is linked to `{key}` in {}, {why}", entry.shop),
        ))
    }

    async fn record(
        &self,
        entry: &JournalEntry,
        key: &CaseKey,
        case: &Case,
        existing: Option<&CaseRecord>,
        definition_id: &str,
    ) -> Result<CaseLink, ExecError> {
        let link = link_from(
            &entry.shop,
            key,
            case,
            existing.map(|r| &r.link),
            &entry.plugin_id,
        );
        // A new link: the poller must report the case from this state on.
        let poll_from = existing
            .is_none()
            .then(|| case.last_updated_on().unwrap_or_else(Timestamp::now));
        self.storage
            .record_case_link(
                link.clone(),
                CaseLinkDetails {
                    definition_id: definition_id.to_owned(),
                    resources: entry.resources.clone(),
                    poll_from,
                },
            )
            .await
            .map_err(|e| storage_error(&e))?;
        Ok(link)
    }

    async fn attach_all(
        &self,
        entry: &JournalEntry,
        def: &str,
        case_id: &str,
        o: &OpenCase,
    ) -> Result<Vec<String>, ExecError> {
        let mut ids = Vec::with_capacity(o.documents.len());
        for (i, d) in o.documents.iter().enumerate() {
            let key = mapping::document_key(&entry.key, i);
            let a = self
                .client
                .upload_attachment(def, case_id, &mapping::attachment(d), Some(&key))
                .await
                .map_err(|e| exec_error(&e))?;
            ids.push(a.id);
        }
        Ok(ids)
    }

    async fn open_case(&self, entry: &JournalEntry, o: &OpenCase) -> Result<Value, ExecError> {
        let existing = self
            .storage
            .case_record_by_key(&entry.shop, &o.key)
            .await
            .map_err(|e| storage_error(&e))?;
        if let Some(rec) = existing {
            // A later event for the same subject: update, never a second case.
            let def = match &rec.definition_id {
                Some(d) => d.clone(),
                None => self.resolve(&o.key.case_type).await?.id,
            };
            let case = self
                .client
                .update_case_data(&def, &rec.link.case_id, &mapping::reopen_data(o)?, None)
                .await
                .map_err(|e| exec_error(&e))?;
            let link = self.record(entry, &o.key, &case, Some(&rec), &def).await?;
            let attachments = self.attach_all(entry, &def, &link.case_id, o).await?;
            return Ok(json!({
                "case_id": link.case_id, "case_number": link.case_number,
                "created": false, "updated": true, "attachments": attachments,
            }));
        }
        let def = self.resolve(&o.key.case_type).await?;
        let new = mapping::new_case(&def, &entry.shop, &entry.plugin_id, &entry.resources, o)?;
        let created = self
            .client
            .create_case(&def.id, &new, &entry.key)
            .await
            .map_err(|e| exec_error(&e))?;
        self.faults.hit(Fault::AbortAfterCaseCreate);
        let mut case = created.case;
        if created.adopted {
            // Another entry opened it first (or our idempotency record
            // expired): this one's values still land, as for a linked case.
            case = self
                .client
                .update_case_data(&def.id, &case.id, &mapping::reopen_data(o)?, None)
                .await
                .map_err(|e| exec_error(&e))?;
        }
        let link = self.record(entry, &o.key, &case, None, &def.id).await?;
        let attachments = self.attach_all(entry, &def.id, &link.case_id, o).await?;
        tracing::info!(shop = %entry.shop, key = %o.key, case = %link.case_number, adopted = created.adopted, "case opened");
        Ok(json!({
            "case_id": link.case_id, "case_number": link.case_number,
            "created": !created.adopted, "adopted": created.adopted, "attachments": attachments,
        }))
    }

    async fn update_case(&self, entry: &JournalEntry, u: &UpdateCase) -> Result<Value, ExecError> {
        let (rec, def) = self.linked(entry, &u.key).await?;
        let case_id = rec.link.case_id.clone();
        let mut last: Option<Case> = None;
        if let Some(data) = mapping::update_data(u)? {
            last = Some(
                self.client
                    .update_case_data(&def, &case_id, &data, None)
                    .await
                    .map_err(|e| exec_error(&e))?,
            );
        }
        let mut status = json!(null);
        if let Some((target, change)) = mapping::status_change(u) {
            let key = format!("{}:status", entry.key);
            match self
                .client
                .change_status(&def, &case_id, &change, Some(&key))
                .await
            {
                Ok(case) => {
                    status = json!({"status": target.as_kebab(), "changed": true});
                    last = Some(case);
                }
                Err(e) if e.class() == ErrorClass::Conflict => {
                    // Already there (e.g. an analyst got there first): done.
                    let case = self
                        .client
                        .get_case(&def, &case_id)
                        .await
                        .map_err(|e| exec_error(&e))?;
                    if case.status() != Some(target) {
                        return Err(ExecError::permanent(
                            "corecase-conflict",
                            format!(
                                "cannot move case {} from {} to {}: {e}",
                                rec.link.case_number,
                                case.status,
                                target.as_api()
                            ),
                        ));
                    }
                    status = json!({"status": target.as_kebab(), "changed": false});
                    last = Some(case);
                }
                Err(e) => return Err(exec_error(&e)),
            }
        }
        if let Some(case) = &last {
            self.record(entry, &u.key, case, Some(&rec), &def).await?;
        }
        Ok(json!({"case_id": case_id, "status": status, "changed": last.is_some()}))
    }

    async fn comment(&self, entry: &JournalEntry, c: &Comment) -> Result<Value, ExecError> {
        let (rec, def) = self.linked(entry, &c.key).await?;
        let comment = NewComment {
            text: c.text.clone(),
            visibility: c.visibility,
        };
        let made = self
            .client
            .add_comment(&def, &rec.link.case_id, &comment, Some(&entry.key))
            .await
            .map_err(|e| exec_error(&e))?;
        Ok(json!({"case_id": rec.link.case_id, "comment_id": made.id}))
    }

    async fn attach(&self, entry: &JournalEntry, a: &AttachDocument) -> Result<Value, ExecError> {
        let (rec, def) = self.linked(entry, &a.key).await?;
        let made = self
            .client
            .upload_attachment(
                &def,
                &rec.link.case_id,
                &mapping::attachment(&a.document),
                Some(&entry.key),
            )
            .await
            .map_err(|e| exec_error(&e))?;
        Ok(json!({"case_id": rec.link.case_id, "attachment_id": made.id, "sha256": made.sha256}))
    }

    async fn task(&self, entry: &JournalEntry, t: &CreateTask) -> Result<Value, ExecError> {
        let (rec, def) = self.linked(entry, &t.key).await?;
        let made = self
            .client
            .create_task(
                &def,
                &rec.link.case_id,
                &mapping::task(t)?,
                Some(&entry.key),
            )
            .await
            .map_err(|e| exec_error(&e))?;
        Ok(json!({"case_id": rec.link.case_id, "task_id": made.id}))
    }

    async fn request_approval(
        &self,
        entry: &JournalEntry,
        r: &RequestApproval,
    ) -> Result<Value, ExecError> {
        // Recorded by an earlier run of this entry: never a second task.
        if let Some(h) = self
            .storage
            .held_operation_for_request(&entry.key)
            .await
            .map_err(|e| storage_error(&e))?
        {
            return Ok(
                json!({"case_id": h.case_id, "task_id": h.task_id, "held": h.operation.kind().name()}),
            );
        }
        let (rec, def) = self.linked(entry, &r.key).await?;
        let task = self
            .client
            .create_task(
                &def,
                &rec.link.case_id,
                &mapping::approval(r)?,
                Some(&entry.key),
            )
            .await
            .map_err(|e| exec_error(&e))?;
        let held = self
            .storage
            .hold_operation(NewHeldOperation {
                task_id: task.id.clone(),
                source_key: entry.key.clone(),
                shop: entry.shop.clone(),
                plugin_id: entry.plugin_id.clone(),
                event_id: entry.event_id.clone(),
                index: entry.index,
                case_id: rec.link.case_id.clone(),
                key: r.key.clone(),
                operation: r.operation.clone(),
                resources: entry.resources.clone(),
                now: Timestamp::now(),
            })
            .await
            .map_err(|e| storage_error(&e))?;
        tracing::info!(shop = %entry.shop, case = %rec.link.case_number, task = %held.task_id, operation = %r.operation.kind(), "operation held for approval");
        Ok(
            json!({"case_id": rec.link.case_id, "task_id": held.task_id, "held": r.operation.kind().name()}),
        )
    }

    async fn run(&self, entry: &JournalEntry) -> Result<Value, ExecError> {
        match &entry.action {
            Action::OpenCase(o) => self.open_case(entry, o).await,
            Action::UpdateCase(u) => self.update_case(entry, u).await,
            Action::Comment(c) => self.comment(entry, c).await,
            Action::AttachDocument(a) => self.attach(entry, a).await,
            Action::CreateTask(t) => self.task(entry, t).await,
            Action::RequestApproval(r) => self.request_approval(entry, r).await,
            Action::FollowUp(_) | Action::Shopify(_) => Err(ExecError::permanent(
                "wrong-family",
                format!("{} is not a case action", entry.kind),
            )),
        }
    }
}

#[async_trait]
impl Executor for CaseExecutor {
    fn family(&self) -> ActionFamily {
        ActionFamily::Case
    }

    async fn execute(&self, entry: &JournalEntry) -> Result<Value, ExecError> {
        self.run(entry).await
    }

    // Bounded below the claim's lease by the framework; the next attempt
    // repeats a cut-off execution under the same keys.
    fn execute_timeout(&self) -> Option<std::time::Duration> {
        Some(self.execute_timeout)
    }

    fn timeout_setting(&self) -> &'static str {
        "corecase.execute-timeout"
    }

    fn service(&self) -> Option<shopcase_host_api::Service> {
        Some(shopcase_host_api::Service::CoreCase)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn retry_after_reaches_the_journal_retry() {
        let e = shopcase_corecase::Error::Transient {
            operation: "create-case",
            attempts: 4,
            status: Some(429),
            detail: "rate limited".into(),
            retry_after: Some(Duration::from_secs(30)),
        };
        match exec_error(&e) {
            ExecError::Transient {
                code, retry_after, ..
            } => {
                assert_eq!(code, "corecase-unavailable");
                assert_eq!(retry_after, Some(Duration::from_secs(30)));
            }
            other => panic!("{other:?}"),
        }
    }
}
