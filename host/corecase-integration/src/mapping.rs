//! From the host's actions to Core Case request bodies: a new case, a
//! case-data change, a status change, a task, a comment, and documents as
//! attachments. Pure functions, so the mapping is tested without a server.
//!
//! | action | request |
//! |---|---|
//! | `open-case` (no linked case) | `POST …/cases` with `externalReference = <shop>:<kind>:<id>:<case type>`, `Idempotency-Key = <entry key>`; each document `POST …/attachments` with `<entry key>:doc:<i>` |
//! | `open-case` (linked case) | `PUT …/case-data` (priority, assignee, assigneeGroup, dueDate, custom attributes); the documents as above |
//! | `update-case` | `PUT …/case-data` if anything but the status changes; `POST …/status` (`<entry key>:status`) |
//! | `comment` | `POST …/comments` (`<entry key>`) |
//! | `attach-document` | `POST …/attachments` (`<entry key>`) |
//! | `create-task` | `POST …/tasks` `kind = TASK`, team → `assigneeGroup` (`<entry key>`) |
//! | `request-approval` | `POST …/tasks` `kind = APPROVAL`, approver group → `assigneeGroup` (`<entry key>`) |

use bytes::Bytes;
use serde_json::{Map, Value};
use shopcase_contract::action::{
    Attribute, CaseStatus, CreateTask, Document, OpenCase, RequestApproval, UpdateCase,
};
use shopcase_contract::{CaseKey, Resources, Subject};
use shopcase_corecase::api_time;
use shopcase_corecase::client::dto::{
    CaseDataUpdate, NewAttachment, NewCase, NewTask, ResolutionInput, StatusChange, TaskKind,
};

use super::settings::DefinitionRef;
use shopcase_host_api::ExecError;

/// Custom attributes the host sets on every case it opens (a plugin
/// attribute of the same name is overridden: these are facts).
pub(crate) fn host_attributes(
    shop: &str,
    key: &CaseKey,
    plugin_id: &str,
    resources: &Resources,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("shopDomain".into(), shop.into());
    m.insert("caseType".into(), key.case_type.clone().into());
    m.insert("openedBy".into(), plugin_id.into());
    let id = |v: u64| Value::String(v.to_string());
    if let Some(o) = resources.order_id {
        m.insert("orderId".into(), id(o));
    }
    if let Some(c) = resources.customer_id {
        m.insert("customerId".into(), id(c));
    }
    let (name, value) = match key.subject {
        Subject::Order(i) => ("orderId", i),
        Subject::Return(i) => ("returnId", i),
        Subject::Dispute(i) => ("disputeId", i),
        Subject::Customer(i) => ("customerId", i),
    };
    m.insert(name.into(), id(value));
    m
}

fn plugin_attributes(attrs: &[Attribute]) -> Map<String, Value> {
    attrs
        .iter()
        .map(|a| (a.name.clone(), Value::String(a.value.clone())))
        .collect()
}

/// An RFC 3339 time from an action, in Core Case's form.
pub(crate) fn due(field: &str, v: Option<&str>) -> Result<Option<String>, ExecError> {
    v.map(|s| {
        shopcase_contract::time::parse(s)
            .map(api_time::format)
            .map_err(|e| ExecError::permanent("invalid-action", format!("{field}: {e}")))
    })
    .transpose()
}

/// The body that creates the case of `o`.
pub(crate) fn new_case(
    def: &DefinitionRef,
    shop: &str,
    plugin_id: &str,
    resources: &Resources,
    o: &OpenCase,
) -> Result<NewCase, ExecError> {
    let mut c = NewCase::new(
        &def.id,
        &o.title,
        o.priority,
        o.key.external_reference(shop),
    );
    c.case_config_id = def.case_config_id.clone();
    let d = &mut c.case_properties.default_attributes;
    d.summary = (!o.summary.is_empty()).then(|| o.summary.clone());
    d.assignee = o.owner.clone();
    d.assignee_group = o.owner_group.clone();
    d.due_date = due("due", o.due.as_deref())?;
    let mut custom = plugin_attributes(&o.attributes);
    custom.extend(host_attributes(shop, &o.key, plugin_id, resources));
    c.case_properties.custom_attributes = custom;
    Ok(c)
}

/// What an `open-case` changes on a case that exists already.
pub(crate) fn reopen_data(o: &OpenCase) -> Result<CaseDataUpdate, ExecError> {
    Ok(CaseDataUpdate {
        priority: Some(o.priority),
        assignee: o.owner.clone(),
        assignee_group: o.owner_group.clone(),
        due_date: due("due", o.due.as_deref())?,
        escalation_level: None,
        custom_attributes: plugin_attributes(&o.attributes),
    })
}

/// The case-data part of an `update-case`, if it changes anything but the
/// status.
pub(crate) fn update_data(u: &UpdateCase) -> Result<Option<CaseDataUpdate>, ExecError> {
    let data = CaseDataUpdate {
        priority: u.priority,
        assignee: u.owner.clone(),
        assignee_group: u.owner_group.clone(),
        due_date: due("due", u.due.as_deref())?,
        escalation_level: u.escalation_level,
        custom_attributes: plugin_attributes(&u.attributes),
    };
    Ok((data != CaseDataUpdate::default()).then_some(data))
}

/// The status part of an `update-case`. Core Case wants resolution notes;
/// a plugin may leave them empty, so the reason (or the code) stands in.
pub(crate) fn status_change(u: &UpdateCase) -> Option<(CaseStatus, StatusChange)> {
    u.status.map(|s| {
        (
            s,
            StatusChange {
                status: s,
                reason: u.reason.clone(),
                resolution: u.resolution.as_ref().map(|r| ResolutionInput {
                    code: r.code.clone(),
                    notes: if r.notes.trim().is_empty() {
                        u.reason
                            .clone()
                            .filter(|x| !x.trim().is_empty())
                            .unwrap_or_else(|| r.code.clone())
                    } else {
                        r.notes.clone()
                    },
                }),
            },
        )
    })
}

/// A `create-task` as a TASK.
pub(crate) fn task(t: &CreateTask) -> Result<NewTask, ExecError> {
    Ok(NewTask {
        title: t.title.clone(),
        description: (!t.description.is_empty()).then(|| t.description.clone()),
        kind: TaskKind::Task,
        assignee_group: Some(t.team.clone()),
        assignee: t.owner.clone(),
        due_date: due("due", t.due.as_deref())?,
    })
}

/// A `request-approval` as an APPROVAL task.
pub(crate) fn approval(r: &RequestApproval) -> Result<NewTask, ExecError> {
    Ok(NewTask {
        title: r.title.clone(),
        description: (!r.description.is_empty()).then(|| r.description.clone()),
        kind: TaskKind::Approval,
        assignee_group: Some(r.approver_group.clone()),
        assignee: None,
        due_date: due("due", r.due.as_deref())?,
    })
}

/// A plugin's document as a Core Case attachment.
pub(crate) fn attachment(d: &Document) -> NewAttachment {
    NewAttachment {
        name: d.name.clone(),
        content_type: d.content_type.clone(),
        description: (!d.description.is_empty()).then(|| d.description.clone()),
        content: Bytes::from(d.content.clone()),
    }
}

/// The idempotency key of an `open-case`'s `i`th document.
pub(crate) fn document_key(entry_key: &str, i: usize) -> String {
    format!("{entry_key}:doc:{i}")
}

#[cfg(test)]
mod tests {
    use shopcase_contract::action::{Priority, Resolution};

    use super::*;

    fn open() -> OpenCase {
        OpenCase {
            key: CaseKey {
                case_type: "fraud-investigation".into(),
                subject: Subject::Order(1042),
            },
            title: "Possible fraud on #1042".into(),
            summary: String::new(),
            priority: Priority::High,
            owner: None,
            owner_group: Some("fraud-team".into()),
            due: Some("2026-11-27T10:00:00Z".into()),
            attributes: vec![
                Attribute {
                    name: "riskScore".into(),
                    value: "87".into(),
                },
                Attribute {
                    name: "orderId".into(),
                    value: "forged".into(),
                },
            ],
            documents: vec![],
        }
    }

    #[test]
    fn a_new_case_carries_the_key_the_facts_and_the_plugin_attributes() {
        let def = DefinitionRef {
            id: "def-1".into(),
            case_config_id: Some("cfg-1".into()),
        };
        let resources = Resources {
            order_id: Some(1042),
            customer_id: Some(7001),
            ..Resources::default()
        };
        let c = new_case(&def, "s.myshopify.com", "fraud", &resources, &open()).unwrap();
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"caseType": {"id": "def-1"}, "caseConfigId": "cfg-1", "caseProperties": {
                "defaultAttributes": {"caseTitle": "Possible fraud on #1042", "priority": "HIGH",
                    "assigneeGroup": "fraud-team", "dueDate": "2026-11-27T10:00:00.000+0000",
                    "externalReference": "s.myshopify.com:order:1042:fraud-investigation"},
                "customAttributes": {"riskScore": "87", "orderId": "1042", "customerId": "7001",
                    "shopDomain": "s.myshopify.com", "caseType": "fraud-investigation", "openedBy": "fraud"}}})
        );
    }

    #[test]
    fn updates_split_into_data_and_status() {
        let mut u = UpdateCase {
            key: open().key,
            status: Some(CaseStatus::Resolved),
            reason: Some("refunded".into()),
            resolution: Some(Resolution {
                code: "refund-issued".into(),
                notes: "n".into(),
            }),
            priority: None,
            owner: None,
            owner_group: None,
            due: None,
            escalation_level: None,
            attributes: vec![],
        };
        assert_eq!(update_data(&u).unwrap(), None, "status only");
        let (s, change) = status_change(&u).unwrap();
        assert_eq!(s, CaseStatus::Resolved);
        assert_eq!(
            serde_json::to_value(&change).unwrap(),
            serde_json::json!({"status": "RESOLVED", "reason": "refunded",
                "resolution": {"code": "refund-issued", "notes": "n"}})
        );
        u.resolution = Some(Resolution {
            code: "refund-issued".into(),
            notes: " ".into(),
        });
        assert_eq!(
            status_change(&u).unwrap().1.resolution.unwrap().notes,
            "refunded",
            "blank notes: the reason stands in"
        );
        u.reason = None;
        assert_eq!(
            status_change(&u).unwrap().1.resolution.unwrap().notes,
            "refund-issued"
        );
        u.escalation_level = Some(2);
        assert_eq!(update_data(&u).unwrap().unwrap().escalation_level, Some(2));
        u.due = Some("not a time".into());
        assert!(matches!(
            update_data(&u),
            Err(ExecError::Permanent { code, .. }) if code == "invalid-action"
        ));
    }

    #[test]
    fn documents_become_attachments_with_their_own_keys() {
        let a = attachment(&Document {
            name: "order-1042-dossier.md".into(),
            content_type: "text/markdown".into(),
            description: String::new(),
            content: b"# Order dossier".to_vec(),
        });
        assert_eq!(
            (a.name.as_str(), a.description, &a.content[..]),
            ("order-1042-dossier.md", None, &b"# Order dossier"[..])
        );
        assert_eq!(document_key("evt_1:fraud:0", 2), "evt_1:fraud:0:doc:2");
    }
}
