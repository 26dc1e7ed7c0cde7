//! The Core Case integration's tables (migration 3): the columns it adds to
//! `case_links`, the poller's high-water marks (`corecase_poll_marks`) and
//! operations held for an approval (`held_operations`).

use rusqlite::{Connection, OptionalExtension, Row, params};
use shopcase_contract::{Action, CaseKey, Resources, ShopifyOperation, Subject};

use super::links;
use super::{corrupt, db, ms, to_json, ts, ts_opt};
use crate::error::Result;
use crate::values::*;

// ---- case links --------------------------------------------------------------

/// `case_links` columns: the link's, then the integration's.
pub(crate) fn record_cols() -> String {
    format!(
        "{}, definition_id, resources, polled_status, fingerprint",
        links::COLS
    )
}

pub(crate) type Extra = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn raw_record(r: &Row<'_>) -> rusqlite::Result<(links::RawLink, Extra)> {
    Ok((
        links::raw(r)?,
        (r.get(13)?, r.get(14)?, r.get(15)?, r.get(16)?),
    ))
}

pub(crate) fn into_record((link, extra): (links::RawLink, Extra)) -> Result<CaseRecord> {
    let (definition_id, resources, polled, fingerprint) = extra;
    let resources = match resources {
        Some(r) => Some(
            serde_json::from_str(&r).map_err(|e| corrupt("case_links.resources")(e.to_string()))?,
        ),
        None => None,
    };
    let polled_status = match polled {
        Some(s) => Some(
            links::parse_status(&s)
                .ok_or_else(|| corrupt("case_links.polled_status")(format!("status `{s}`")))?,
        ),
        None => None,
    };
    Ok(CaseRecord {
        link: links::into_link(link)?,
        definition_id,
        resources,
        polled_status,
        fingerprint,
    })
}

fn subject_id(s: Subject) -> i64 {
    i64::try_from(s.id()).unwrap_or(-1)
}

pub(super) fn record_by_case_id(c: &Connection, case_id: &str) -> Result<Option<CaseRecord>> {
    let sql = format!(
        "SELECT {} FROM case_links WHERE case_id = ?1 LIMIT 1",
        record_cols()
    );
    let r = c
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([case_id], raw_record).optional())
        .map_err(db("case-record"))?;
    r.map(into_record).transpose()
}

pub(super) fn record_by_key(
    c: &Connection,
    shop: &str,
    key: &CaseKey,
) -> Result<Option<CaseRecord>> {
    let sql = format!(
        "SELECT {} FROM case_links
         WHERE shop = ?1 AND subject_kind = ?2 AND subject_id = ?3 AND case_type = ?4",
        record_cols()
    );
    let r = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_row(
                params![
                    shop,
                    key.subject.kind(),
                    subject_id(key.subject),
                    key.case_type
                ],
                raw_record,
            )
            .optional()
        })
        .map_err(db("case-record"))?;
    r.map(into_record).transpose()
}

/// Write the link and the integration's columns; for a new case, make sure
/// the poller's mark of its definition is not past it.
pub(super) fn record_link(c: &Connection, link: &CaseLink, d: &CaseLinkDetails) -> Result<()> {
    let op = "record-case-link";
    links::put(c, link)?;
    let resources = to_json("case_links.resources", &d.resources)?;
    c.prepare_cached(
        // The resources stay those of the event that opened the case.
        "UPDATE case_links SET definition_id = ?5, resources = coalesce(resources, ?6)
         WHERE shop = ?1 AND subject_kind = ?2 AND subject_id = ?3 AND case_type = ?4",
    )
    .and_then(|mut s| {
        s.execute(params![
            link.shop,
            link.key.subject.kind(),
            subject_id(link.key.subject),
            link.key.case_type,
            d.definition_id,
            resources,
        ])
    })
    .map_err(db(op))?;
    if let Some(from) = d.poll_from {
        c.prepare_cached(
            "INSERT INTO corecase_poll_marks (definition_id, mark, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (definition_id) DO UPDATE SET mark = min(mark, excluded.mark),
                updated_at = excluded.updated_at",
        )
        .and_then(|mut s| s.execute(params![d.definition_id, ms(from), ms(link.updated_at)]))
        .map_err(db(op))?;
    }
    Ok(())
}

pub(super) fn observe(c: &Connection, o: &CaseObservation) -> Result<Observed> {
    let op = "record-case-observation";
    let status = links::status_name(o.status);
    // This very state recorded already (by the erasure of a privacy
    // request, which records its own change as seen while a poller pass
    // that read the link before was under way): no event for it.
    let recorded: Option<Option<String>> = c
        .prepare_cached("SELECT last_updated_on FROM case_links WHERE case_id = ?1")
        .and_then(|mut s| s.query_row([&o.case_id], |r| r.get(0)).optional())
        .map_err(db(op))?;
    let already = recorded.flatten().as_deref() == Some(o.last_updated_on.as_str());
    let n = c
        .prepare_cached(
            "UPDATE case_links SET status = ?2, priority = ?3, escalation_level = ?4, last_updated_on = ?5,
                polled_status = ?2, fingerprint = ?6, updated_at = ?7
             WHERE case_id = ?1",
        )
        .and_then(|mut s| {
            s.execute(params![
                o.case_id,
                status,
                links::priority_name(o.priority),
                i64::from(o.escalation_level),
                o.last_updated_on,
                o.fingerprint,
                ms(o.now),
            ])
        })
        .map_err(db(op))?;
    if n == 0 {
        return Ok(Observed::NoLink);
    }
    let event = match &o.event {
        Some(_) if already => None,
        Some(e) => match super::inbox::insert(c, e)? {
            Inserted::New { event_id } => Some(event_id),
            Inserted::Duplicate { .. } => None,
        },
        None => None,
    };
    Ok(Observed::Recorded { event })
}

// ---- poll marks ----------------------------------------------------------------

pub(super) fn poll_marks(c: &Connection) -> Result<Vec<PollMark>> {
    let rows = c
        .prepare_cached(
            "SELECT definition_id, mark, updated_at FROM corecase_poll_marks ORDER BY definition_id",
        )
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok(PollMark {
                    definition_id: r.get(0)?,
                    mark: ts(r.get(1)?),
                    updated_at: ts(r.get(2)?),
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("poll-marks"))?;
    Ok(rows)
}

pub(super) fn advance_mark(
    c: &Connection,
    definition_id: &str,
    mark: Timestamp,
    now: Timestamp,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO corecase_poll_marks (definition_id, mark, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (definition_id) DO UPDATE SET mark = max(mark, excluded.mark),
            updated_at = excluded.updated_at",
    )
    .and_then(|mut s| s.execute(params![definition_id, ms(mark), ms(now)]))
    .map_err(db("advance-poll-mark"))?;
    Ok(())
}

// ---- held operations -------------------------------------------------------------

pub(crate) const HELD_COLS: &str = "h.task_id, h.source_key, h.shop, h.plugin_id, h.event_id, h.case_id, h.case_type, \
     h.subject_kind, h.subject_id, h.operation, h.resources, h.status, h.decided_by, h.decision_comment, \
     h.decided_at, h.release_key, j.status, h.created_at";

pub(crate) struct RawHeld {
    pub(crate) task_id: String,
    pub(crate) source_key: String,
    pub(crate) shop: String,
    pub(crate) plugin_id: String,
    pub(crate) event_id: String,
    pub(crate) case_id: String,
    pub(crate) case_type: String,
    pub(crate) subject_kind: String,
    pub(crate) subject_id: i64,
    pub(crate) operation: String,
    pub(crate) resources: String,
    pub(crate) status: String,
    pub(crate) decided_by: Option<String>,
    pub(crate) comment: Option<String>,
    pub(crate) decided_at: Option<i64>,
    pub(crate) release_key: Option<String>,
    pub(crate) release_status: Option<String>,
    pub(crate) created_at: i64,
}

fn raw_held(r: &Row<'_>) -> rusqlite::Result<RawHeld> {
    Ok(RawHeld {
        task_id: r.get(0)?,
        source_key: r.get(1)?,
        shop: r.get(2)?,
        plugin_id: r.get(3)?,
        event_id: r.get(4)?,
        case_id: r.get(5)?,
        case_type: r.get(6)?,
        subject_kind: r.get(7)?,
        subject_id: r.get(8)?,
        operation: r.get(9)?,
        resources: r.get(10)?,
        status: r.get(11)?,
        decided_by: r.get(12)?,
        comment: r.get(13)?,
        decided_at: r.get(14)?,
        release_key: r.get(15)?,
        release_status: r.get(16)?,
        created_at: r.get(17)?,
    })
}

impl RawHeld {
    pub(crate) fn into_held(self) -> Result<HeldOperation> {
        let bad = corrupt("held_operations");
        let id = u64::try_from(self.subject_id).unwrap_or(0);
        let subject = match self.subject_kind.as_str() {
            "order" => Subject::Order(id),
            "return" => Subject::Return(id),
            "dispute" => Subject::Dispute(id),
            "customer" => Subject::Customer(id),
            other => return Err(bad(format!("subject kind `{other}`"))),
        };
        let operation: ShopifyOperation = serde_json::from_str(&self.operation)
            .map_err(|e| corrupt("held_operations.operation")(e.to_string()))?;
        let resources: Resources = serde_json::from_str(&self.resources)
            .map_err(|e| corrupt("held_operations.resources")(e.to_string()))?;
        let status = HeldStatus::parse(&self.status)
            .ok_or_else(|| bad(format!("status `{}`", self.status)))?;
        Ok(HeldOperation {
            task_id: self.task_id,
            source_key: self.source_key,
            shop: self.shop,
            plugin_id: self.plugin_id,
            event_id: self.event_id,
            case_id: self.case_id,
            key: CaseKey {
                case_type: self.case_type,
                subject,
            },
            operation,
            resources,
            status,
            decided_by: self.decided_by,
            comment: self.comment,
            decided_at: ts_opt(self.decided_at),
            release_key: self.release_key,
            release_status: self
                .release_status
                .as_deref()
                .and_then(JournalStatus::parse),
            created_at: ts(self.created_at),
        })
    }
}

fn held_where(c: &Connection, clause: &str, arg: &str) -> Result<Vec<HeldOperation>> {
    let sql = format!(
        "SELECT {HELD_COLS} FROM held_operations h
         LEFT JOIN journal j ON j.idempotency_key = h.release_key
         WHERE {clause} ORDER BY h.created_at, h.task_id"
    );
    let rows = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map([arg], raw_held)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("held-operations"))?;
    rows.into_iter().map(RawHeld::into_held).collect()
}

pub(super) fn held_for_case(c: &Connection, case_id: &str) -> Result<Vec<HeldOperation>> {
    held_where(c, "h.case_id = ?1", case_id)
}

pub(super) fn held_by_task(c: &Connection, task_id: &str) -> Result<Option<HeldOperation>> {
    Ok(held_where(c, "h.task_id = ?1", task_id)?.pop())
}

pub(super) fn held_by_source(c: &Connection, source_key: &str) -> Result<Option<HeldOperation>> {
    Ok(held_where(c, "h.source_key = ?1", source_key)?.pop())
}

/// Hold an operation, unless this task or this request already holds one;
/// returns what is held for the request.
pub(super) fn hold(c: &Connection, h: &NewHeldOperation) -> Result<HeldOperation> {
    let op = "hold-operation";
    let operation = to_json("held_operations.operation", &h.operation)?;
    let resources = to_json("held_operations.resources", &h.resources)?;
    c.prepare_cached(
        "INSERT INTO held_operations (task_id, source_key, shop, plugin_id, event_id, idx, case_id, case_type,
            subject_kind, subject_id, operation, resources, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'pending', ?13, ?13)
         ON CONFLICT DO NOTHING",
    )
    .and_then(|mut s| {
        s.execute(params![
            h.task_id,
            h.source_key,
            h.shop,
            h.plugin_id,
            h.event_id,
            h.index,
            h.case_id,
            h.key.case_type,
            h.key.subject.kind(),
            subject_id(h.key.subject),
            operation,
            resources,
            ms(h.now),
        ])
    })
    .map_err(db(op))?;
    held_by_source(c, &h.source_key)?.ok_or_else(|| {
        crate::StoreError::Conflict(format!(
            "task `{}` already holds another request's operation",
            h.task_id
        ))
    })
}

/// Decide a pending held operation; an approval journals the operation
/// for the Shopify executor in the same transaction.
pub(super) fn decide(c: &Connection, d: &HeldDecision) -> Result<DecisionOutcome> {
    let op = "decide-held-operation";
    let status = if d.approved {
        HeldStatus::Approved
    } else {
        HeldStatus::Rejected
    };
    let key = release_key(&d.task_id);
    let row: Option<(String, String, String, i64, String, String)> = c
        .prepare_cached(
            "UPDATE held_operations SET status = ?2, decided_by = ?3, decision_comment = ?4, decided_at = ?5,
                release_key = ?6, updated_at = ?5
             WHERE task_id = ?1 AND status = 'pending'
             RETURNING shop, plugin_id, event_id, idx, operation, resources",
        )
        .and_then(|mut s| {
            s.query_row(
                params![
                    d.task_id,
                    status.as_str(),
                    d.decided_by,
                    d.comment,
                    ms(d.now),
                    d.approved.then_some(key.as_str()),
                ],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()
        })
        .map_err(db(op))?;
    let Some((shop, plugin_id, event_id, idx, operation, resources_json)) = row else {
        let existing: Option<String> = c
            .prepare_cached("SELECT status FROM held_operations WHERE task_id = ?1")
            .and_then(|mut s| s.query_row([&d.task_id], |r| r.get(0)).optional())
            .map_err(db(op))?;
        return Ok(match existing {
            Some(s) => DecisionOutcome::AlreadyDecided {
                status: HeldStatus::parse(&s)
                    .ok_or_else(|| corrupt("held_operations.status")(s.clone()))?,
            },
            None => DecisionOutcome::Unknown,
        });
    };
    if !d.approved {
        return Ok(DecisionOutcome::Declined);
    }
    let operation: ShopifyOperation = serde_json::from_str(&operation)
        .map_err(|e| corrupt("held_operations.operation")(e.to_string()))?;
    let resources: Resources = serde_json::from_str(&resources_json)
        .map_err(|e| corrupt("held_operations.resources")(e.to_string()))?;
    let kind = operation.kind();
    let action = to_json("journal.action", &Action::Shopify(operation))?;
    let now = ms(d.now);
    c.prepare_cached(
        "INSERT INTO journal (idempotency_key, event_id, shop, plugin_id, idx, kind, family, action,
            resources, order_id, customer_id, status, attempts, next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending', 0, ?12, ?12, ?12)
         ON CONFLICT DO NOTHING",
    )
    .and_then(|mut s| {
        s.execute(params![
            key,
            event_id,
            shop,
            plugin_id,
            idx,
            kind.name(),
            ActionFamily::Shopify.as_str(),
            action,
            resources_json,
            resources.order_id.and_then(|i| i64::try_from(i).ok()),
            resources.customer_id.and_then(|i| i64::try_from(i).ok()),
            now,
        ])
    })
    .map_err(db(op))?;
    Ok(DecisionOutcome::Released { journal_key: key })
}
