//! Erasure in Core Case for the privacy requests (`customers/redact`,
//! `shop/redact`): what the host wrote into cases from a customer's data is
//! scrubbed through the Core Case REST API, and what the API cannot
//! scrub is listed, with the reason, for an operator to finish by hand.
//!
//! # The rule
//!
//! The cases looked at are those the host linked: for a customer, the
//! links whose subject is the customer or one of the request's orders, or
//! whose opening event was about them; for a store, all its links.
//! In each case, "personal" text is, for a customer, text that mentions
//! them ([`Needles`]: emails, phones, names, street lines; numeric ids are
//! not mentions); for a store, every non-empty text (the store's
//! customers are all erased).
//!
//! "The host" is the case's creator (`createdBy`): the host opened every
//! case it links.
//!
//! - **Scrubbed**: custom attributes whose last writer is the host (the
//!   case history names who set each; an attribute never changed since the
//!   case was opened is the host's) and whose value is personal: with one
//!   `PUT …/case-data` per case, mentions replaced by `[redacted]` (for a
//!   store, every text value, numbers written as text included). The `PUT`
//!   carries `If-Match` with the `lastUpdatedOn` read, so an analyst's edit
//!   in between is never overwritten: on `412` the case is read and
//!   decided again, `SCRUB_TRIES` times at most, then its attributes are
//!   listed.
//! - **Kept, and listed as not scrubbed**: anything someone else wrote
//!   (attributes last set by an analyst, their comments, attachments,
//!   tasks and task comments): the host does not overwrite people's work;
//!   the operator decides. And what the API cannot change: the title and
//!   summary (not changeable through `case-data`), comments, attachments
//!   and tasks (no delete or edit), the resolution notes, the case history
//!   (it keeps earlier values, including those the scrub replaced), and the
//!   attributes of a case Core Case refuses to change (a case no longer
//!   open answers `409 CaseNotOpen`). An attachment the host attached that
//!   is not text is listed too: the host cannot tell what it holds.
//! - A case Core Case no longer has (404), or whose definition the host
//!   never recorded, is listed as not scrubbed.
//!
//! Nothing here is deleted or closed: the API can delete nothing, and a
//! status change would be a decision on the analysts' case.
//!
//! Core Case unavailable (or refusing the credentials, or its breaker open
//! for the store) ends the pass as [`shopcase_host_api::Erased::Unreachable`]: the caller waits it
//! out and runs the whole pass again, which is idempotent: an attribute
//! already scrubbed no longer mentions anyone, so nothing is written
//! again, and the report still names it as scrubbed, because the case
//! history shows the host replaced the personal value with the current one.
//!
//! Reports hold case ids and numbers, part names, Core Case ids of
//! comments, attachments and tasks, actors and reasons (an answer is
//! named by its status and exception, never its message, which may echo
//! what was sent): never the text.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Map, Value, json};
use shopcase_contract::action::Subject;
use shopcase_contract::time::Timestamp;
use shopcase_corecase::client::dto::{Case, CaseDataUpdate, HistoryEntry};
use shopcase_corecase::{CoreCaseClient, Error as CaseError, ErrorClass};
use shopcase_host_api::breaker::{Admit, Breakers, Outcome};
use shopcase_host_api::{Erased, Erasure, ErasureScope, Service};
use shopcase_store::CaseLinkQuery;
use shopcase_store::privacy::{Needles, REDACTED};
use shopcase_store::{CaseObservation, Storage, StoreError};

/// Core Case's [`Erasure`]: the cases the host linked, over the storage
/// that holds the links, through the client.
#[derive(Debug, Clone)]
pub struct CaseErasure {
    client: CoreCaseClient,
    storage: Arc<dyn Storage>,
}

/// Most case links a store's pass reads.
const MAX_LINKS: usize = 1_000_000;

#[async_trait]
impl Erasure for CaseErasure {
    async fn erase(
        &self,
        shop: &str,
        scope: ErasureScope<'_>,
        breakers: &Breakers,
    ) -> Result<Erased, StoreError> {
        let targets = self.targets(shop, scope).await?;
        let needles;
        let scope = match scope {
            ErasureScope::Customer(who) => {
                needles = self.storage.customer_needles(who.clone()).await?;
                Scope::Customer(&needles)
            }
            ErasureScope::Shop => Scope::Shop,
        };
        let mut changed = Vec::new();
        let outcome = erase(&self.client, breakers, shop, &targets, scope, &mut changed).await;
        for case in &changed {
            self.seen(case).await?;
        }
        Ok(match outcome {
            Ok(report) => Erased::Done(serde_json::to_value(report).unwrap_or_default()),
            Err(Unreachable(why)) => Erased::Unreachable {
                why,
                cases: targets
                    .iter()
                    .map(|t| json!({"case_id": t.case_id, "case_number": t.case_number, "case_type": t.case_type,
                        "scrubbed": [], "not_scrubbed": [{"part": "case", "reason": "Core Case could not be reached"}]}))
                    .collect(),
            },
        })
    }
}

impl CaseErasure {
    /// Over the client and the storage holding the case links.
    pub fn new(client: CoreCaseClient, storage: Arc<dyn Storage>) -> CaseErasure {
        CaseErasure { client, storage }
    }

    /// The cases the host linked for the customer (subject, or opening
    /// event about them or one of the request's orders), or every case of
    /// the store.
    async fn targets(
        &self,
        shop: &str,
        scope: ErasureScope<'_>,
    ) -> Result<Vec<Target>, StoreError> {
        let links = self
            .storage
            .search_case_links(CaseLinkQuery {
                shops: Some(vec![shop.to_owned()]),
                limit: MAX_LINKS,
                ..CaseLinkQuery::default()
            })
            .await?;
        let mut out = Vec::new();
        for link in links {
            let record = self.storage.case_record(&link.case_id).await?;
            if let ErasureScope::Customer(who) = scope {
                let res = record.as_ref().and_then(|r| r.resources.as_ref());
                let about = match link.key.subject {
                    Subject::Customer(id) => id == who.customer_id,
                    Subject::Order(id) => who.orders.contains(&id),
                    _ => false,
                } || res.is_some_and(|r| {
                    r.customer_id == Some(who.customer_id)
                        || r.order_id.is_some_and(|o| who.orders.contains(&o))
                });
                if !about {
                    continue;
                }
            }
            out.push(Target {
                definition_id: record.and_then(|r| r.definition_id),
                case_id: link.case_id,
                case_number: link.case_number,
                case_type: link.key.case_type,
            });
        }
        Ok(out)
    }

    /// Record a case the pass changed as seen by the poller at that state,
    /// with no event: the scrub is no news for plugins, and its
    /// `corecase/case-updated` event would carry back into the inbox, after
    /// the host-side erasure, whatever personal data stays in the case (an
    /// analyst's attribute, a task's title). The poller reports the case
    /// again when it next changes; the fingerprint is kept, so that change
    /// is reported as usual. An observation older than the poller's own is
    /// harmless: the poller then finds the newer state again and its event
    /// is a duplicate.
    async fn seen(&self, case: &Case) -> Result<(), StoreError> {
        let (Some(rec), Some(raw)) = (
            self.storage.case_record(&case.id).await?,
            case.case_properties
                .default_attributes
                .last_updated_on
                .clone(),
        ) else {
            return Ok(());
        };
        let d = &case.case_properties.default_attributes;
        self.storage
            .record_case_observation(CaseObservation {
                case_id: case.id.clone(),
                status: case.status().unwrap_or(rec.link.status),
                priority: case.priority().unwrap_or(rec.link.priority),
                escalation_level: d.escalation_level.map_or(rec.link.escalation_level, |l| {
                    u8::try_from(l).unwrap_or(u8::MAX)
                }),
                last_updated_on: raw,
                fingerprint: rec.fingerprint.unwrap_or_default(),
                event: None,
                now: Timestamp::now(),
            })
            .await?;
        Ok(())
    }
}

/// Whose data is erased.
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    /// One customer: text that mentions them.
    Customer(&'a Needles),
    /// A whole store: every text the host wrote.
    Shop,
}

impl Scope<'_> {
    fn personal(&self, text: &str) -> bool {
        match self {
            Scope::Customer(n) => n.mentioned_in(text),
            Scope::Shop => !text.trim().is_empty(),
        }
    }

    fn personal_json(&self, v: &Value) -> bool {
        match v {
            Value::String(s) => self.personal(s),
            Value::Array(items) => items.iter().any(|i| self.personal_json(i)),
            Value::Object(map) => map.values().any(|i| self.personal_json(i)),
            _ => false,
        }
    }

    fn scrub(&self, v: &Value) -> Value {
        match self {
            Scope::Customer(n) => {
                let mut v = v.clone();
                n.scrub_json(&mut v);
                v
            }
            Scope::Shop => match v {
                Value::String(s) if !s.trim().is_empty() => Value::String(REDACTED.into()),
                Value::Array(items) => Value::Array(items.iter().map(|i| self.scrub(i)).collect()),
                Value::Object(map) => Value::Object(
                    map.iter()
                        .map(|(k, i)| (k.clone(), self.scrub(i)))
                        .collect(),
                ),
                other => other.clone(),
            },
        }
    }

    /// Whether a history entry keeps personal text. For a store, only the
    /// attribute changes (status names and the like are no one's data).
    fn personal_history(&self, h: &HistoryEntry) -> bool {
        match self {
            Scope::Customer(_) => self.personal_json(&h.from) || self.personal_json(&h.to),
            Scope::Shop => {
                h.field.starts_with("customAttributes.")
                    && (self.personal_json(&h.from) || self.personal_json(&h.to))
            }
        }
    }
}

/// A case to erase in.
#[derive(Debug, Clone)]
struct Target {
    case_id: String,
    case_number: String,
    case_type: String,
    definition_id: Option<String>,
}

/// Something left in Core Case, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Left {
    /// `case`, `title`, `summary`, `resolution`, `customAttributes.<name>`,
    /// `comment`, `attachment`, `task` or `history`.
    part: String,
    /// The comment's, attachment's or task's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    /// Who wrote it, when Core Case says.
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<String>,
    /// Why it was not scrubbed.
    reason: String,
}

/// What was done in one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct CaseReport {
    case_id: String,
    case_number: String,
    case_type: String,
    /// The parts scrubbed (`customAttributes.<name>`): the host's
    /// attributes whose value held the data and now holds `[redacted]` in
    /// its place, by this run or an earlier one (the case history tells),
    /// so a run again after an outage reports what the first one did.
    scrubbed: Vec<String>,
    /// What is left, for an operator.
    not_scrubbed: Vec<Left>,
}

/// What a pass did, for the privacy record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Report {
    /// `done`.
    status: &'static str,
    /// Parts scrubbed, all cases together.
    scrubbed: usize,
    /// Items left, all cases together.
    not_scrubbed: usize,
    /// Per case.
    cases: Vec<CaseReport>,
}

/// Core Case could not be reached (down, throttling, credentials refused,
/// breaker open): nothing is decided; run the pass again later.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Unreachable(String);

/// Erase in every target case. `changed` receives Core Case's answer to
/// each change made (also when the pass ends [`Unreachable`] later), so
/// the caller can record the cases as seen at that state.
async fn erase(
    client: &CoreCaseClient,
    breakers: &Breakers,
    shop: &str,
    targets: &[Target],
    scope: Scope<'_>,
    changed: &mut Vec<Case>,
) -> Result<Report, Unreachable> {
    if targets.is_empty() {
        return Ok(Report {
            status: "done",
            scrubbed: 0,
            not_scrubbed: 0,
            cases: Vec::new(),
        });
    }
    if let Admit::Wait { credentials, .. } = breakers.admit(shop, Service::CoreCase) {
        return Err(Unreachable(
            if credentials {
                "the store's Core Case breaker is open: Core Case refused the host's credentials"
            } else {
                "the store's Core Case breaker is open: Core Case kept failing"
            }
            .to_owned(),
        ));
    }
    let mut cases = Vec::with_capacity(targets.len());
    for t in targets {
        match erase_case(client, t, scope, changed).await {
            Ok(r) => cases.push(r),
            Err(e) => {
                let why = outage(&e);
                let outcome = if e.class() == ErrorClass::Auth {
                    Outcome::CredentialsRefused(why.clone())
                } else {
                    Outcome::Unavailable(why.clone())
                };
                breakers.record(shop, Service::CoreCase, &outcome);
                return Err(Unreachable(why));
            }
        }
    }
    breakers.record(shop, Service::CoreCase, &Outcome::Answered);
    Ok(Report {
        status: "done",
        scrubbed: cases.iter().map(|c| c.scrubbed.len()).sum(),
        not_scrubbed: cases.iter().map(|c| c.not_scrubbed.len()).sum(),
        cases,
    })
}

/// Whether an error means "wait and run again" (as opposed to an answer
/// about this case).
fn unreachable(e: &CaseError) -> bool {
    matches!(e.class(), ErrorClass::Transient | ErrorClass::Auth)
}

/// Why Core Case could not be reached, for the log and the record: the
/// status and the gateway's code, never the answer's text.
fn outage(e: &CaseError) -> String {
    match (e.class(), e.status()) {
        (ErrorClass::Auth, status) => format!(
            "Core Case refused the host's credentials ({} {})",
            status.map_or_else(|| "no status".to_owned(), |s| s.to_string()),
            e.exception().unwrap_or("no code")
        ),
        (_, Some(status)) => format!("Core Case unavailable (HTTP {status})"),
        (_, None) => "Core Case unavailable (no answer)".to_owned(),
    }
}

/// What Core Case answered, for the record: the status and the
/// exception's name, never its message (a service may echo the values it
/// was sent).
fn answered(e: &CaseError) -> String {
    match (e.status(), e.exception()) {
        (Some(s), Some(x)) => format!("{s} {x}"),
        (Some(s), None) => format!("HTTP {s}"),
        (None, _) => "an answer the host cannot read".to_owned(),
    }
}

fn left(part: &str, id: Option<&str>, by: Option<&str>, reason: impl Into<String>) -> Left {
    Left {
        part: part.into(),
        id: id.map(str::to_owned),
        by: by.map(str::to_owned),
        reason: reason.into(),
    }
}

const NOT_THE_HOST: &str =
    "written in Core Case by someone other than the host: left for the operator to decide";

/// Reads and writes of a case's custom attributes tried before a case that
/// keeps changing under the scrub is listed instead.
const SCRUB_TRIES: usize = 3;

/// One case. `Err` only when Core Case could not be reached; every answer
/// about the case (404, a refusal) becomes a line of the report.
async fn erase_case(
    client: &CoreCaseClient,
    t: &Target,
    scope: Scope<'_>,
    changed: &mut Vec<Case>,
) -> Result<CaseReport, CaseError> {
    let mut report = CaseReport {
        case_id: t.case_id.clone(),
        case_number: t.case_number.clone(),
        case_type: t.case_type.clone(),
        scrubbed: Vec::new(),
        not_scrubbed: Vec::new(),
    };
    let Some(def) = t.definition_id.as_deref() else {
        report.not_scrubbed.push(left(
            "case",
            None,
            None,
            "the host did not record the case's definition (a link older than the Core Case integration): find the case by its number in Core Case",
        ));
        return Ok(report);
    };
    // An answer about the case (404, a refusal) ends this case with a line
    // in the report; only "unreachable" ends the pass.
    macro_rules! answer {
        ($call:expr, $what:expr) => {
            match $call {
                Ok(v) => v,
                Err(e) if unreachable(&e) => return Err(e),
                Err(e) if e.is_not_found() => {
                    report.not_scrubbed.push(left(
                        "case",
                        None,
                        None,
                        "Core Case no longer has this case (404): nothing of it can be scrubbed through the API",
                    ));
                    return Ok(report);
                }
                Err(e) => {
                    report.not_scrubbed.push(left(
                        "case",
                        None,
                        None,
                        format!("Core Case refused to {} ({})", $what, answered(&e)),
                    ));
                    return Ok(report);
                }
            }
        };
    }

    // Custom attributes: the host's are scrubbed, others' are listed. The
    // change is sent with `If-Match`, so an analyst's edit made between
    // the read and the write is never overwritten: the case is read again.
    let mut tries = 0;
    let (case, host, history, after) = loop {
        tries += 1;
        let case = answer!(client.get_case(def, &t.case_id).await, "read the case");
        let host = case.case_properties.default_attributes.created_by.clone();
        let history = answer!(client.history(def, &t.case_id).await, "read its history");
        let writer = |field: &str| {
            history
                .iter()
                .rev()
                .find(|h| h.field == field)
                .map(|h| h.actor.clone())
                .or_else(|| host.clone())
        };
        let mut update = Map::new();
        let mut others = Vec::new();
        for (name, value) in &case.case_properties.custom_attributes {
            if !scope.personal_json(value) {
                continue;
            }
            let field = format!("customAttributes.{name}");
            let by = writer(&field);
            if by.is_some() && by == host {
                update.insert(name.clone(), scope.scrub(value));
            } else {
                others.push(left(&field, None, by.as_deref(), NOT_THE_HOST));
            }
        }
        report.not_scrubbed = others;
        if update.is_empty() {
            break (case, host, history, None);
        }
        let fields: Vec<String> = update
            .keys()
            .map(|k| format!("customAttributes.{k}"))
            .collect();
        let put = CaseDataUpdate {
            custom_attributes: update,
            ..CaseDataUpdate::default()
        };
        let if_match = case
            .case_properties
            .default_attributes
            .last_updated_on
            .clone();
        match client
            .update_case_data(def, &t.case_id, &put, if_match.as_deref())
            .await
        {
            Ok(updated) => {
                let after = updated.case_properties.custom_attributes.clone();
                changed.push(updated);
                break (case, host, history, Some(after));
            }
            Err(e) if unreachable(&e) => return Err(e),
            Err(CaseError::PreconditionFailed { .. }) if tries < SCRUB_TRIES => continue,
            Err(e) => {
                let reason = match &e {
                    CaseError::PreconditionFailed { .. } => format!(
                        "the case kept changing in Core Case while the host scrubbed it ({SCRUB_TRIES} tries)"
                    ),
                    e if e.is_not_found() => "Core Case no longer has this case (404)".to_owned(),
                    e => format!(
                        "Core Case refused the change ({}; the case is {})",
                        answered(e),
                        case.status
                    ),
                };
                for f in fields {
                    report
                        .not_scrubbed
                        .push(left(&f, None, host.as_deref(), reason.clone()));
                }
                break (case, host, history, None);
            }
        }
    };
    // The history keeps earlier values, including those just scrubbed.
    let history = if after.is_some() {
        answer!(client.history(def, &t.case_id).await, "read its history")
    } else {
        history
    };
    // Scrubbed: the host's attributes whose personal value the host
    // replaced with one holding `[redacted]`, now or in an earlier run
    // (a run again after an outage reports what the first one did).
    let current = after
        .as_ref()
        .unwrap_or(&case.case_properties.custom_attributes);
    for (name, value) in current {
        let field = format!("customAttributes.{name}");
        let scrubbed = history
            .iter()
            .rev()
            .find(|h| h.field == field)
            .is_some_and(|h| {
                host.as_deref() == Some(h.actor.as_str())
                    && h.to == *value
                    && h.to.to_string().contains(REDACTED)
                    && scope.personal_json(&h.from)
            });
        if scrubbed {
            report.scrubbed.push(field);
        }
    }

    // What the API cannot change.
    let d = &case.case_properties.default_attributes;
    for (part, text) in [("title", &d.case_title), ("summary", &d.summary)] {
        if text.as_deref().is_some_and(|s| scope.personal(s)) {
            report.not_scrubbed.push(left(
                part,
                None,
                host.as_deref(),
                format!("the Core Case API cannot change a case's {part}"),
            ));
        }
    }
    if d.resolution
        .as_ref()
        .and_then(|r| r.notes.as_deref())
        .is_some_and(|s| scope.personal(s))
    {
        report.not_scrubbed.push(left(
            "resolution",
            None,
            None,
            "resolution notes are set with a status change and cannot be changed afterwards",
        ));
    }
    let by_host = |by: Option<&str>| by.is_some() && by == host.as_deref();
    let comments = answer!(
        client.list_comments(def, &t.case_id).await,
        "list its comments"
    );
    for c in comments.iter().filter(|c| scope.personal(&c.text)) {
        let reason = if by_host(c.created_by.as_deref()) {
            "the Core Case API cannot delete or edit a comment"
        } else {
            NOT_THE_HOST
        };
        report.not_scrubbed.push(left(
            "comment",
            Some(&c.id),
            c.created_by.as_deref(),
            reason,
        ));
    }
    let attachments = answer!(
        client.list_attachments(def, &t.case_id).await,
        "list its attachments"
    );
    for a in &attachments {
        let by = a.created_by.as_deref();
        let mut unreadable = false;
        let mut personal =
            scope.personal(&a.name) || a.description.as_deref().is_some_and(|s| scope.personal(s));
        if !personal && matches!(scope, Scope::Customer(_)) {
            let bytes = answer!(
                client.attachment_content(def, &t.case_id, &a.id).await,
                "send an attachment's content"
            );
            match std::str::from_utf8(&bytes) {
                Ok(text) => personal = scope.personal(text),
                // A document the host made but cannot read back as text
                // (a PDF, an image) may hold the customer's data.
                Err(_) => unreadable = by_host(by),
            }
        }
        if personal {
            let reason = if by_host(by) || by.is_none() {
                "the Core Case API cannot delete or replace an attachment"
            } else {
                NOT_THE_HOST
            };
            report
                .not_scrubbed
                .push(left("attachment", Some(&a.id), by, reason));
        } else if unreadable {
            report.not_scrubbed.push(left(
                "attachment",
                Some(&a.id),
                by,
                "not text: the host cannot tell whether it holds the customer's data, and the Core Case API cannot delete or replace an attachment; check it",
            ));
        }
    }
    for task in &case.tasks {
        let by = task.created_by.as_deref();
        if scope.personal(&task.title)
            || task
                .description
                .as_deref()
                .is_some_and(|s| scope.personal(s))
        {
            let reason = if by_host(by) {
                "the Core Case API cannot change or delete a task"
            } else {
                NOT_THE_HOST
            };
            report
                .not_scrubbed
                .push(left("task", Some(&task.id), by, reason));
        }
        if task.comment.as_deref().is_some_and(|s| scope.personal(s)) {
            report.not_scrubbed.push(left(
                "task",
                Some(&task.id),
                task.completed_by.as_deref(),
                "the completion comment of a task: written by the person who completed it, and the API cannot change it",
            ));
        }
    }
    let kept = history.iter().filter(|h| scope.personal_history(h)).count();
    if kept > 0 {
        report.not_scrubbed.push(left(
            "history",
            None,
            None,
            format!("{kept} history entries keep earlier values; Core Case's case history cannot be changed"),
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_customer_scope_scrubs_mentions_and_a_shop_scope_every_text() {
        let n = Needles::new(&["ann@example.com".into()], &[], &[7001]);
        let v = json!({"contact": "Ann <ann@example.com>", "score": 80, "orderId": "5001"});
        let c = Scope::Customer(&n);
        assert!(c.personal_json(&v));
        assert!(
            !c.personal_json(&json!({"orderId": "5001"})),
            "ids are kept"
        );
        assert_eq!(
            c.scrub(&v),
            json!({"contact": "Ann <[redacted]>", "score": 80, "orderId": "5001"})
        );
        assert_eq!(
            Scope::Shop.scrub(&v),
            json!({"contact": "[redacted]", "score": 80, "orderId": "[redacted]"})
        );
        assert!(!Scope::Shop.personal_json(&json!(12)));
        let status = HistoryEntry {
            id: "h".into(),
            at: String::new(),
            actor: "x".into(),
            field: "status".into(),
            from: json!("NEW"),
            to: json!("IN_PROGRESS"),
        };
        assert!(!Scope::Shop.personal_history(&status));
    }

    #[test]
    fn what_core_case_answered_is_told_without_its_message() {
        // A service may echo what it was sent in its message.
        let refused = CaseError::Conflict {
            operation: "update-case-data",
            exception: "CaseNotOpen".into(),
            message: "value `Ann <ann@example.com>` rejected".into(),
        };
        assert_eq!(answered(&refused), "409 CaseNotOpen");
        let down = CaseError::Transient {
            operation: "get-case",
            attempts: 3,
            status: Some(503),
            detail: "503: Ann <ann@example.com>".into(),
            retry_after: None,
        };
        assert_eq!(outage(&down), "Core Case unavailable (HTTP 503)");
        let auth = CaseError::Auth {
            status: 401,
            code: "oauth.v2.InvalidClientIdentifier".into(),
            message: "Invalid client identifier or secret".into(),
        };
        assert_eq!(
            outage(&auth),
            "Core Case refused the host's credentials (401 oauth.v2.InvalidClientIdentifier)"
        );
        assert!(unreachable(&down) && unreachable(&auth) && !unreachable(&refused));
    }
}
