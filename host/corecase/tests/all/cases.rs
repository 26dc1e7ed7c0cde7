//! Cases: creation, the wire form, adoption, Idempotency-Key, case data,
//! history, lastUpdatedOn.

use shopcase_contract::action::{CaseStatus, Priority, Visibility};
use shopcase_corecase::client::dto::{
    CaseDataUpdate, NewComment, NewTask, ResolutionInput, StatusChange, TaskKind,
};
use shopcase_corecase::{Error, ErrorClass};

use crate::support::{CREATE, new_case, start};

#[tokio::test]
async fn definitions_are_seeded_with_stable_ids() {
    let env = start().await;
    let ids = env.client.definition_ids().await.unwrap();
    assert_eq!(ids.len(), 9);
    assert_eq!(ids["fraud-investigation"], env.def);
    assert_eq!(
        ids["refund-approval"],
        shopcase_corecase_emulator::definition_id("refund-approval").to_string()
    );
}

#[tokio::test]
async fn create_and_read_back() {
    let env = start().await;
    let created = env
        .client
        .create_case(&env.def, &new_case(&env.def, "shop:order:1:fraud"), "k1")
        .await
        .unwrap();
    let case = env
        .client
        .get_case(&env.def, &created.case.id)
        .await
        .unwrap();
    assert_eq!(case, created.case);
    assert_eq!(case.status(), Some(CaseStatus::New));
    assert_eq!(case.priority(), Some(Priority::High));
    assert_eq!(case.case_number, "CASE-000001");
    assert_eq!(case.external_reference(), Some("shop:order:1:fraud"));
    assert_eq!(case.definition_id(), Some(env.def.as_str()));
    assert_eq!(
        case.case_type.as_ref().and_then(|t| t.name.as_deref()),
        Some("fraud-investigation")
    );
    assert_eq!(case.case_properties.custom_attributes["orderName"], "#1042");
    assert!(case.last_updated_on().is_some());
}

#[tokio::test]
async fn the_wire_form_follows_the_spec() {
    // Read the emulator's answer without the client's types, field by field.
    let env = start().await;
    let id = env.case("wire").await;
    let token = env.raw_token().await;
    let url = env.url(&format!("/api/v1/case-definitions/{}/cases/{id}", env.def));
    let v: serde_json::Value = reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for key in [
        "id",
        "caseNumber",
        "caseType",
        "status",
        "caseProperties",
        "tasks",
    ] {
        assert!(v.get(key).is_some(), "missing {key}: {v}");
    }
    let d = &v["caseProperties"]["defaultAttributes"];
    for key in [
        "caseTitle",
        "summary",
        "priority",
        "assignee",
        "assigneeGroup",
        "dueDate",
        "externalReference",
        "createdOn",
        "createdBy",
        "lastUpdatedOn",
        "lastUpdatedBy",
        "resolution",
        "escalationLevel",
        "slaBreached",
    ] {
        assert!(d.get(key).is_some(), "missing defaultAttributes.{key}: {d}");
    }
    // 2026-11-26T10:22:31.193+0000
    let at = d["lastUpdatedOn"].as_str().unwrap();
    assert_eq!(at.len(), 28, "{at}");
    assert!(at.ends_with("+0000") && at.as_bytes()[19] == b'.', "{at}");
    assert_eq!(d["createdBy"], "shopcase-dev");
}

#[tokio::test]
async fn a_duplicate_external_reference_adopts_the_existing_case() {
    let env = start().await;
    let first = env
        .client
        .create_case(&env.def, &new_case(&env.def, "shop:order:7:fraud"), "run-1")
        .await
        .unwrap();
    // A crash lost the journal's key: a different key, the same reference.
    let second = env
        .client
        .create_case(&env.def, &new_case(&env.def, "shop:order:7:fraud"), "run-2")
        .await
        .unwrap();
    assert!(second.adopted);
    assert_eq!(second.case.id, first.case.id);
    assert_eq!(env.case_count(), 1);
}

#[tokio::test]
async fn idempotency_key_replays_and_refuses_another_body() {
    let env = start().await;
    let a = env
        .client
        .create_case(&env.def, &new_case(&env.def, "ref-a"), "same-key")
        .await
        .unwrap();
    let again = env
        .client
        .create_case(&env.def, &new_case(&env.def, "ref-a"), "same-key")
        .await
        .unwrap();
    assert_eq!(again.case.id, a.case.id);
    assert!(!again.adopted, "a replay of the first answer");
    let err = env
        .client
        .create_case(&env.def, &new_case(&env.def, "ref-b"), "same-key")
        .await
        .unwrap_err();
    match &err {
        Error::Permanent {
            status: 422,
            exception,
            ..
        } => assert_eq!(exception, "IdempotencyKeyReused"),
        other => panic!("{other:?}"),
    }
    assert_eq!(env.case_count(), 1);
    assert_eq!(env.count("POST", CREATE), 3);

    // On the wire: the replay is marked.
    let token = env.raw_token().await;
    let body = serde_json::to_value(new_case(&env.def, "ref-a")).unwrap();
    let resp = reqwest::Client::new()
        .post(env.url(&format!("/api/v1/case-definitions/{}/cases", env.def)))
        .bearer_auth(token)
        .header("Idempotency-Key", "same-key")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["idempotent-replayed"], "true");
}

#[tokio::test]
async fn case_data_updates_with_if_match() {
    let env = start().await;
    let id = env.case("ref-data").await;
    let read = env.client.get_case(&env.def, &id).await.unwrap();
    let stamp = read
        .case_properties
        .default_attributes
        .last_updated_on
        .clone()
        .unwrap();
    let mut update = CaseDataUpdate {
        priority: Some(Priority::Critical),
        escalation_level: Some(2),
        ..Default::default()
    };
    update.assignee_group = Some("fraud-team".into());
    update
        .custom_attributes
        .insert("riskScore".into(), 87.into());
    let updated = env
        .client
        .update_case_data(&env.def, &id, &update, Some(&stamp))
        .await
        .unwrap();
    assert_eq!(updated.priority(), Some(Priority::Critical));
    assert_eq!(
        updated.case_properties.default_attributes.escalation_level,
        Some(2)
    );
    assert_eq!(
        updated
            .case_properties
            .default_attributes
            .assignee_group
            .as_deref(),
        Some("fraud-team")
    );
    assert_eq!(updated.case_properties.custom_attributes["riskScore"], 87);
    assert!(updated.last_updated_on() > read.last_updated_on());

    // The old stamp is stale now.
    let err = env
        .client
        .update_case_data(&env.def, &id, &update, Some(&stamp))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PreconditionFailed { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Conflict);

    let history = env.client.history(&env.def, &id).await.unwrap();
    let fields: Vec<&str> = history.iter().map(|h| h.field.as_str()).collect();
    for f in [
        "status",
        "priority",
        "escalationLevel",
        "assigneeGroup",
        "customAttributes.riskScore",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    let p = history.iter().find(|h| h.field == "priority").unwrap();
    assert_eq!(
        (p.from.as_str(), p.to.as_str()),
        (Some("HIGH"), Some("CRITICAL"))
    );
    assert_eq!(p.actor, "shopcase-dev");
}

#[tokio::test]
async fn every_change_moves_last_updated_on() {
    let env = start().await;
    let id = env.case("ref-touch").await;
    let mut last = env
        .client
        .get_case(&env.def, &id)
        .await
        .unwrap()
        .last_updated_on()
        .unwrap();
    let mut moved = |label: &str, now: jiff::Timestamp| {
        assert!(now > last, "{label} must move lastUpdatedOn");
        last = now;
    };
    env.client
        .add_comment(
            &env.def,
            &id,
            &NewComment {
                text: "note".into(),
                visibility: Visibility::Public,
            },
            None,
        )
        .await
        .unwrap();
    moved(
        "a comment",
        env.client
            .get_case(&env.def, &id)
            .await
            .unwrap()
            .last_updated_on()
            .unwrap(),
    );
    let task = NewTask {
        title: "Call the customer".into(),
        description: None,
        kind: TaskKind::Task,
        assignee_group: Some("support".into()),
        assignee: None,
        due_date: None,
    };
    env.client
        .create_task(&env.def, &id, &task, None)
        .await
        .unwrap();
    moved(
        "a task",
        env.client
            .get_case(&env.def, &id)
            .await
            .unwrap()
            .last_updated_on()
            .unwrap(),
    );
    let file = shopcase_corecase::client::dto::NewAttachment {
        name: "note.txt".into(),
        content_type: "text/plain".into(),
        description: None,
        content: bytes::Bytes::from_static(b"hello"),
    };
    env.client
        .upload_attachment(&env.def, &id, &file, None)
        .await
        .unwrap();
    moved(
        "an attachment",
        env.client
            .get_case(&env.def, &id)
            .await
            .unwrap()
            .last_updated_on()
            .unwrap(),
    );
    env.client
        .change_status(
            &env.def,
            &id,
            &StatusChange::to(CaseStatus::InProgress),
            None,
        )
        .await
        .unwrap();
    moved(
        "a status change",
        env.client
            .get_case(&env.def, &id)
            .await
            .unwrap()
            .last_updated_on()
            .unwrap(),
    );
}

#[tokio::test]
async fn resolution_is_recorded() {
    let env = start().await;
    let id = env.case("ref-resolve").await;
    env.client
        .change_status(
            &env.def,
            &id,
            &StatusChange::to(CaseStatus::InProgress),
            None,
        )
        .await
        .unwrap();
    let change = StatusChange {
        status: CaseStatus::Resolved,
        reason: Some("chargeback risk cleared".into()),
        resolution: Some(ResolutionInput {
            code: "NO_FRAUD".into(),
            notes: "customer verified".into(),
        }),
    };
    let case = env
        .client
        .change_status(&env.def, &id, &change, Some("k-resolve"))
        .await
        .unwrap();
    assert_eq!(case.status(), Some(CaseStatus::Resolved));
    let r = case.case_properties.default_attributes.resolution.unwrap();
    assert_eq!(r.code.as_deref(), Some("NO_FRAUD"));
    assert!(r.resolved_on.is_some());
    // Resolved cases keep their data.
    let err = env
        .client
        .update_case_data(
            &env.def,
            &id,
            &CaseDataUpdate {
                priority: Some(Priority::Low),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.exception(), Some("CaseNotOpen"));
}

#[tokio::test]
async fn find_by_external_reference_and_not_found() {
    let env = start().await;
    let id = env.case("shop:order:42:fraud").await;
    env.case("shop:order:43:fraud").await;
    let found = env
        .client
        .find_case_by_external_reference(&env.def, "shop:order:42:fraud")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id);
    assert!(
        env.client
            .find_case_by_external_reference(&env.def, "shop:order:44:fraud")
            .await
            .unwrap()
            .is_none()
    );
    let err = env
        .client
        .get_case(&env.def, "00000000-0000-4000-8000-000000000000")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.exception(), Some("CaseNotFound"));
    let err = env
        .client
        .get_case("no-such-definition", &id)
        .await
        .unwrap_err();
    assert_eq!(err.exception(), Some("CaseDefinitionNotFound"));
}

#[tokio::test]
async fn ids_cannot_escape_their_path_segment() {
    let env = start().await;
    let err = env
        .client
        .get_case(&env.def, "../../case-definitions")
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(err.exception(), Some("CaseNotFound"));
}
