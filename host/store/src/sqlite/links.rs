//! Case links: which Core Case case belongs to a (store, subject, case type).

use rusqlite::{Connection, OptionalExtension, Row, params};
use shopcase_contract::action::{CaseStatus, Priority};
use shopcase_contract::{CaseKey, Subject};

use async_trait::async_trait;

use super::SqliteStorage;
use super::{corrupt, db, ms, ts};
use crate::error::Result;
use crate::values::*;

pub(crate) const COLS: &str = "shop, subject_kind, subject_id, case_type, case_id, case_number, status, priority, \
     escalation_level, opened_at, plugin_id, last_updated_on, updated_at";

pub(crate) type RawLink = (
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    i64,
);

pub(super) fn raw(r: &Row<'_>) -> rusqlite::Result<RawLink> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
        r.get(12)?,
    ))
}

pub(crate) fn subject(kind: &str, id: u64) -> Option<Subject> {
    Some(match kind {
        "order" => Subject::Order(id),
        "return" => Subject::Return(id),
        "dispute" => Subject::Dispute(id),
        "customer" => Subject::Customer(id),
        _ => return None,
    })
}

pub(crate) fn status_name(s: CaseStatus) -> &'static str {
    s.as_kebab()
}

pub(crate) fn parse_status(s: &str) -> Option<CaseStatus> {
    CaseStatus::ALL.iter().copied().find(|c| c.as_kebab() == s)
}

pub(crate) fn priority_name(p: Priority) -> &'static str {
    match p {
        Priority::Low => "low",
        Priority::Medium => "medium",
        Priority::High => "high",
        Priority::Critical => "critical",
    }
}

fn parse_priority(s: &str) -> Option<Priority> {
    [
        Priority::Low,
        Priority::Medium,
        Priority::High,
        Priority::Critical,
    ]
    .into_iter()
    .find(|p| priority_name(*p) == s)
}

pub(crate) fn into_link(r: RawLink) -> Result<CaseLink> {
    let (
        shop,
        kind,
        id,
        case_type,
        case_id,
        case_number,
        status,
        priority,
        esc,
        opened_at,
        plugin_id,
        luo,
        updated,
    ) = r;
    let bad = corrupt("case_links");
    Ok(CaseLink {
        shop,
        key: CaseKey {
            case_type,
            subject: subject(&kind, u64::try_from(id).unwrap_or(0))
                .ok_or_else(|| bad(format!("subject kind `{kind}`")))?,
        },
        case_id,
        case_number,
        status: parse_status(&status).ok_or_else(|| bad(format!("status `{status}`")))?,
        priority: parse_priority(&priority).ok_or_else(|| bad(format!("priority `{priority}`")))?,
        escalation_level: u8::try_from(esc).unwrap_or(u8::MAX),
        opened_at,
        plugin_id,
        last_updated_on: luo,
        updated_at: ts(updated),
    })
}

pub(super) fn get(c: &Connection, shop: &str, key: &CaseKey) -> Result<Option<CaseLink>> {
    let sql = format!(
        "SELECT {COLS} FROM case_links WHERE shop = ?1 AND subject_kind = ?2 AND subject_id = ?3 AND case_type = ?4"
    );
    let r = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_row(
                params![
                    shop,
                    key.subject.kind(),
                    i64::try_from(key.subject.id()).unwrap_or(-1),
                    key.case_type
                ],
                raw,
            )
            .optional()
        })
        .map_err(db("case-link"))?;
    r.map(into_link).transpose()
}

pub(super) fn put(c: &Connection, l: &CaseLink) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO case_links (shop, subject_kind, subject_id, case_type, case_id, case_number, status, priority,
            escalation_level, opened_at, plugin_id, last_updated_on, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT (shop, subject_kind, subject_id, case_type) DO UPDATE SET
            case_id = excluded.case_id, case_number = excluded.case_number, status = excluded.status,
            priority = excluded.priority, escalation_level = excluded.escalation_level,
            opened_at = excluded.opened_at, plugin_id = coalesce(excluded.plugin_id, case_links.plugin_id),
            last_updated_on = coalesce(excluded.last_updated_on, case_links.last_updated_on),
            updated_at = excluded.updated_at",
    )
    .and_then(|mut s| {
        s.execute(params![
            l.shop,
            l.key.subject.kind(),
            i64::try_from(l.key.subject.id()).unwrap_or(-1),
            l.key.case_type,
            l.case_id,
            l.case_number,
            status_name(l.status),
            priority_name(l.priority),
            i64::from(l.escalation_level),
            l.opened_at,
            l.plugin_id,
            l.last_updated_on,
            ms(l.updated_at),
        ])
    })
    .map_err(db("put-case-link"))?;
    Ok(())
}

/// Links whose subject is the customer or one of the orders (data requests).
pub(super) fn for_customer(
    c: &Connection,
    shop: &str,
    customer: u64,
    orders: &[u64],
) -> Result<Vec<CaseLink>> {
    let sql = format!("SELECT {COLS} FROM case_links WHERE shop = ?1 ORDER BY case_id");
    let rows = c
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map([shop], raw)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("case-links"))?;
    let mut out = Vec::new();
    for r in rows {
        let l = into_link(r)?;
        let mine = match l.key.subject {
            Subject::Customer(id) => id == customer,
            Subject::Order(id) => orders.contains(&id),
            _ => false,
        };
        if mine {
            out.push(l);
        }
    }
    Ok(out)
}

#[async_trait]
impl CaseLinkStore for SqliteStorage {
    async fn case_link(&self, shop: &str, key: &CaseKey) -> Result<Option<CaseLink>> {
        let (s, k) = (shop.to_owned(), key.clone());
        self.read(move |c| super::links::get(c, &s, &k)).await
    }

    async fn put_case_link(&self, link: CaseLink) -> Result<()> {
        self.write("put-case-link", move |c| super::links::put(c, &link))
            .await
    }

    async fn record_case_link(&self, link: CaseLink, details: CaseLinkDetails) -> Result<()> {
        self.write("record-case-link", move |c| {
            super::corecase::record_link(c, &link, &details)
        })
        .await
    }

    async fn case_record(&self, case_id: &str) -> Result<Option<CaseRecord>> {
        let id = case_id.to_owned();
        self.read(move |c| super::corecase::record_by_case_id(c, &id))
            .await
    }

    async fn case_record_by_key(&self, shop: &str, key: &CaseKey) -> Result<Option<CaseRecord>> {
        let (s, k) = (shop.to_owned(), key.clone());
        self.read(move |c| super::corecase::record_by_key(c, &s, &k))
            .await
    }

    async fn record_case_observation(&self, observation: CaseObservation) -> Result<Observed> {
        self.write("record-case-observation", move |c| {
            super::corecase::observe(c, &observation)
        })
        .await
    }

    async fn poll_marks(&self) -> Result<Vec<PollMark>> {
        self.read(super::corecase::poll_marks).await
    }

    async fn advance_poll_mark(
        &self,
        definition_id: &str,
        mark: Timestamp,
        now: Timestamp,
    ) -> Result<()> {
        let d = definition_id.to_owned();
        self.write_one("advance-poll-mark", move |c| {
            super::corecase::advance_mark(c, &d, mark, now)
        })
        .await
    }

    async fn hold_operation(&self, held: NewHeldOperation) -> Result<HeldOperation> {
        self.write("hold-operation", move |c| super::corecase::hold(c, &held))
            .await
    }

    async fn held_operation(&self, task_id: &str) -> Result<Option<HeldOperation>> {
        let t = task_id.to_owned();
        self.read(move |c| super::corecase::held_by_task(c, &t))
            .await
    }

    async fn held_operation_for_request(&self, source_key: &str) -> Result<Option<HeldOperation>> {
        let k = source_key.to_owned();
        self.read(move |c| super::corecase::held_by_source(c, &k))
            .await
    }

    async fn held_operations(&self, case_id: &str) -> Result<Vec<HeldOperation>> {
        let id = case_id.to_owned();
        self.read(move |c| super::corecase::held_for_case(c, &id))
            .await
    }

    async fn decide_held_operation(&self, decision: HeldDecision) -> Result<DecisionOutcome> {
        self.write("decide-held-operation", move |c| {
            super::corecase::decide(c, &decision)
        })
        .await
    }
}
