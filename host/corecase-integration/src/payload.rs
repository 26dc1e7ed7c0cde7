//! The `corecase/case-updated` event (shape in `docs/events.md`): its
//! payload, resources and dedupe key, and the fingerprint that decides
//! whether plugins could see any change at all.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use shopcase_contract::Resources;
use shopcase_contract::event::{HOST_PAYLOAD_VERSION, TOPIC_CASE_UPDATED};
use shopcase_contract::time::Timestamp;
use shopcase_corecase::api_time;
use shopcase_corecase::client::dto::{Case, Task};
use shopcase_store::{CaseRecord, EventSource, EventStatus, HeldOperation, NewEvent};

/// A lowercase spelling of Core Case's `SCREAMING_CASE` enums.
fn lower(s: &str) -> String {
    s.to_ascii_lowercase().replace('_', "-")
}

fn rfc3339(s: Option<&str>) -> Value {
    match s.and_then(api_time::parse) {
        Some(t) => Value::String(shopcase_contract::time::format(t)),
        None => Value::Null,
    }
}

fn task_json(t: &Task) -> Value {
    json!({
        "id": t.id,
        "title": t.title,
        "kind": lower(&t.kind),
        "team": t.assignee_group,
        "status": if t.is_open() { "open" } else { "completed" },
        "outcome": t.outcome.as_deref().map(lower),
        "comment": t.comment,
    })
}

/// The resources of a case's events: those of the event that opened it,
/// its subject, and the case id.
pub(crate) fn resources(rec: &CaseRecord) -> Resources {
    use shopcase_contract::Subject;
    let mut r = rec.resources.clone().unwrap_or_default();
    match rec.link.key.subject {
        Subject::Order(i) => r.order_id = Some(i),
        Subject::Return(i) => r.return_id = Some(i),
        Subject::Dispute(i) => r.dispute_id = Some(i),
        Subject::Customer(i) => r.customer_id = Some(i),
    }
    r.case_id = Some(rec.link.case_id.clone());
    r
}

/// The payload of the case-updated event for `case` as it is now.
pub(crate) fn case_updated(
    rec: &CaseRecord,
    case: &Case,
    tasks: &[Task],
    held: &[HeldOperation],
    link: Option<String>,
) -> Value {
    let d = &case.case_properties.default_attributes;
    let key = &rec.link.key;
    let mut subject = serde_json::Map::new();
    subject.insert(key.subject.kind().into(), key.subject.id().into());
    let status = case.status().map(|s| s.as_kebab().to_owned());
    let resolution = d.resolution.as_ref().map(|r| {
        json!({"code": r.code.clone().unwrap_or_default(), "notes": r.notes.clone().unwrap_or_default()})
    });
    json!({
        "case": {
            "id": case.id,
            "number": case.case_number,
            "case_type": key.case_type,
            "subject": subject,
            "status": status.unwrap_or_else(|| lower(&case.status)),
            "previous_status": rec.polled_status.map(|s| s.as_kebab()),
            "priority": case.priority().map_or_else(|| lower(d.priority.as_deref().unwrap_or("")), |p| lower(p.as_api())),
            "escalation_level": d.escalation_level.unwrap_or(0),
            "owner": d.assignee,
            "owner_group": d.assignee_group,
            "due": rfc3339(d.due_date.as_deref()),
            "resolution": resolution,
            "attributes": case.case_properties.custom_attributes,
            "updated_at": rfc3339(d.last_updated_on.as_deref()),
            "link": link,
        },
        "tasks": tasks.iter().map(task_json).collect::<Vec<_>>(),
        "approvals": held.iter().map(|h| json!({
            "task_id": h.task_id,
            "outcome": h.status.as_str(),
            "operation": h.operation,
            "executed": h.executed(),
        })).collect::<Vec<_>>(),
        "resources": resources(rec),
    })
}

/// A digest of what plugins would see, without what changes on every
/// delivery (`updated_at`, `previous_status`): equal digests mean nothing
/// a plugin can see has changed (a comment or an attachment was added).
pub(crate) fn fingerprint(payload: &Value) -> String {
    let mut v = payload.clone();
    if let Some(case) = v.get_mut("case").and_then(Value::as_object_mut) {
        case.remove("updated_at");
        case.remove("previous_status");
    }
    // serde_json's maps are ordered, so the text is canonical.
    let digest = Sha256::digest(v.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The inbox event for `payload`: deduplicated by
/// `corecase:<case id>:<lastUpdatedOn>`, for every plugin of the store.
pub(crate) fn event(
    rec: &CaseRecord,
    last_updated_on: &str,
    updated: Timestamp,
    payload: &Value,
) -> NewEvent {
    NewEvent {
        shop: rec.link.shop.clone(),
        topic: TOPIC_CASE_UPDATED.to_owned(),
        source: EventSource::CoreCase,
        dedupe_key: format!("corecase:{}:{last_updated_on}", rec.link.case_id),
        shopify_event_id: None,
        api_version: HOST_PAYLOAD_VERSION.to_owned(),
        triggered_at: updated,
        received_at: Timestamp::now(),
        resources: resources(rec),
        payload: payload.to_string(),
        target_plugin: None,
        status: EventStatus::Pending,
        body_sha256: None,
    }
}

#[cfg(test)]
mod tests {
    use shopcase_contract::action::{CaseStatus, Priority, Refund};
    use shopcase_contract::{CaseKey, ShopifyOperation, Subject};
    use shopcase_store::{CaseLink, HeldStatus, JournalStatus};

    use super::*;

    fn record() -> CaseRecord {
        CaseRecord {
            link: CaseLink {
                shop: "s.myshopify.com".into(),
                key: CaseKey {
                    case_type: "refund-approval".into(),
                    subject: Subject::Order(5834211000321),
                },
                case_id: "c-1".into(),
                case_number: "CASE-000042".into(),
                status: CaseStatus::PendingApproval,
                priority: Priority::High,
                escalation_level: 0,
                opened_at: "2026-11-26T10:00:00Z".into(),
                plugin_id: Some("refunds".into()),
                last_updated_on: None,
                updated_at: Timestamp::UNIX_EPOCH,
            },
            definition_id: Some("def".into()),
            resources: Some(Resources {
                order_id: Some(5834211000321),
                customer_id: Some(7001),
                ..Resources::default()
            }),
            polled_status: Some(CaseStatus::PendingApproval),
            fingerprint: None,
        }
    }

    fn case() -> Case {
        serde_json::from_value(json!({
            "id": "c-1", "caseNumber": "CASE-000042", "status": "APPROVED",
            "caseProperties": {"defaultAttributes": {"priority": "HIGH", "assigneeGroup": "finance",
                "dueDate": "2026-11-27T10:00:00.000+0000", "lastUpdatedOn": "2026-11-26T12:00:00.000+0000",
                "escalationLevel": 1},
              "customAttributes": {"decision": "refund"}},
            "tasks": [{"id": "t-1", "title": "Approve refund", "kind": "APPROVAL", "status": "COMPLETED",
                       "assigneeGroup": "finance", "outcome": "APPROVED", "comment": "fine"}]
        }))
        .unwrap()
    }

    fn held() -> HeldOperation {
        HeldOperation {
            task_id: "t-1".into(),
            source_key: "evt:refunds:1".into(),
            shop: "s.myshopify.com".into(),
            plugin_id: "refunds".into(),
            event_id: "evt".into(),
            case_id: "c-1".into(),
            key: record().link.key,
            operation: ShopifyOperation::Refund(Refund {
                order_id: 5834211000321,
                amount: "900.00".into(),
                currency: "EUR".into(),
                note: String::new(),
                notify_customer: true,
            }),
            resources: Resources::default(),
            status: HeldStatus::Approved,
            decided_by: None,
            comment: None,
            decided_at: None,
            release_key: Some("approval:t-1".into()),
            release_status: Some(JournalStatus::Pending),
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_payload_has_the_documented_shape() {
        let c = case();
        let p = case_updated(
            &record(),
            &c,
            &c.tasks,
            &[held()],
            Some("https://t/c-1".into()),
        );
        assert_eq!(
            p,
            json!({
                "case": {"id": "c-1", "number": "CASE-000042", "case_type": "refund-approval",
                    "subject": {"order": 5834211000321u64}, "status": "approved",
                    "previous_status": "pending-approval", "priority": "high", "escalation_level": 1,
                    "owner": null, "owner_group": "finance", "due": "2026-11-27T10:00:00Z",
                    "resolution": null, "attributes": {"decision": "refund"},
                    "updated_at": "2026-11-26T12:00:00Z", "link": "https://t/c-1"},
                "tasks": [{"id": "t-1", "title": "Approve refund", "kind": "approval", "team": "finance",
                    "status": "completed", "outcome": "approved", "comment": "fine"}],
                "approvals": [{"task_id": "t-1", "outcome": "approved", "executed": false,
                    "operation": {"kind": "refund", "order_id": 5834211000321u64, "amount": "900.00",
                        "currency": "EUR", "note": "", "notify_customer": true}}],
                "resources": {"order_id": 5834211000321u64, "customer_id": 7001, "return_id": null,
                    "dispute_id": null, "fulfillment_id": null, "case_id": "c-1"}
            })
        );
        let e = event(
            &record(),
            "2026-11-26T12:00:00.000+0000",
            Timestamp::UNIX_EPOCH,
            &p,
        );
        assert_eq!(e.dedupe_key, "corecase:c-1:2026-11-26T12:00:00.000+0000");
        assert_eq!(e.topic, "corecase/case-updated");
        assert_eq!(e.resources.case_id.as_deref(), Some("c-1"));
    }

    /// The minimiser's allow-list for this topic covers every field the
    /// host writes, so a plugin granted nothing gets the payload whole.
    #[test]
    fn the_payload_reaches_plugins_whole() {
        let c = case();
        let p = case_updated(
            &record(),
            &c,
            &c.tasks,
            &[held()],
            Some("https://t/c-1".into()),
        );
        let mut seen = p.clone();
        shopcase_contract::minimise::minimise(
            &mut seen,
            "corecase/case-updated",
            &shopcase_contract::Grants::default(),
        );
        assert_eq!(seen, p);
    }

    #[test]
    fn the_fingerprint_ignores_what_changes_on_every_delivery() {
        let c = case();
        let a = case_updated(&record(), &c, &c.tasks, &[], None);
        let mut later = c.clone();
        later.case_properties.default_attributes.last_updated_on =
            Some("2026-11-26T13:00:00.000+0000".into());
        let mut rec = record();
        rec.polled_status = Some(CaseStatus::Approved);
        let b = case_updated(&rec, &later, &later.tasks, &[], None);
        assert_ne!(a, b);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        let mut escalated = later.clone();
        escalated
            .case_properties
            .default_attributes
            .escalation_level = Some(2);
        let c2 = case_updated(&rec, &escalated, &escalated.tasks, &[], None);
        assert_ne!(fingerprint(&a), fingerprint(&c2));
        assert_eq!(fingerprint(&a).len(), 64);
    }
}
