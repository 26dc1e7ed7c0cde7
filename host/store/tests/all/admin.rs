//! Stores, installations, the audit log, dead letters and case links.

use std::collections::BTreeMap;
use std::time::Duration;

use shopcase_contract::action::{CaseStatus, Priority};
use shopcase_contract::{CaseKey, SettingValue, Subject};
use shopcase_store::*;

use super::support::*;

/// An approval of content `sha256` (its grants: one action).
pub(crate) fn approval(sha256: &str, by: &str, secs: i64) -> Approval {
    let grants = vec![format!("action tags-add {sha256}")];
    Approval {
        sha256: sha256.into(),
        grants_digest: format!("digest-{sha256}"),
        grants,
        by: by.into(),
        at: at(secs),
    }
}

/// Install `plugin` for the demo shop.
pub(crate) async fn install(s: &Store, plugin: &str, enabled: bool) {
    let mut settings = BTreeMap::new();
    settings.insert("threshold".to_owned(), SettingValue::Integer(70));
    s.put_installation(
        Installation {
            shop: SHOP.into(),
            plugin_id: plugin.into(),
            version: "1.0.0".into(),
            settings,
            enabled,
            enabled_by: enabled.then(|| "ops@example.com".to_owned()),
            enabled_at: enabled.then(|| at(0)),
            updated_by: "ops@example.com".into(),
            updated_at: at(0),
            consecutive_failures: 0,
            quarantine: None,
            approved: Some(approval("sha-1", "ops@example.com", 0)),
        },
        NewAudit {
            actor: "ops@example.com".into(),
            action: "installation.enable".into(),
            shop: Some(SHOP.into()),
            plugin_id: Some(plugin.into()),
            details: serde_json::json!({"version": "1.0.0"}),
            at: at(0),
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn stores_follow_the_configuration() {
    let (_d, s) = open().await;
    s.sync_stores(
        vec![
            ("a.myshopify.com".into(), "2026-07".into()),
            ("b.myshopify.com".into(), "2026-07".into()),
        ],
        at(0),
    )
    .await
    .unwrap();
    s.sync_stores(vec![("b.myshopify.com".into(), "2026-10".into())], at(1))
        .await
        .unwrap();
    let stores = s.stores().await.unwrap();
    assert_eq!(
        stores
            .iter()
            .map(|r| (r.domain.as_str(), r.configured, r.api_version.as_str()))
            .collect::<Vec<_>>(),
        [
            ("a.myshopify.com", false, "2026-07"),
            ("b.myshopify.com", true, "2026-10")
        ]
    );
    assert_eq!(stores[1].added_at, at(0));
}

#[tokio::test]
async fn installations_round_trip_with_their_audit_record() {
    let (_d, s) = open().await;
    install(&s, "fraud", true).await;
    install(&s, "returns", false).await;
    let all = s.installations(Some(SHOP)).await.unwrap();
    assert_eq!(all.len(), 2);
    let fraud = s.installation(SHOP, "fraud").await.unwrap().unwrap();
    assert!(fraud.enabled);
    assert_eq!(fraud.enabled_by.as_deref(), Some("ops@example.com"));
    assert_eq!(fraud.settings["threshold"], SettingValue::Integer(70));
    assert!(
        s.installation("other.myshopify.com", "fraud")
            .await
            .unwrap()
            .is_none()
    );
    let log = s.audit_log(Some(SHOP), 10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        log[0].entry.plugin_id.as_deref(),
        Some("returns"),
        "newest first"
    );
    assert_eq!(log[0].entry.details["version"], "1.0.0");
}

#[tokio::test]
async fn dead_letters_can_be_retried_or_discarded_once() {
    let (_d, s) = open().await;
    install(&s, "p", true).await;
    let ev = order_event("w-1", 1);
    let event_id = ev.event_id();
    s.insert_event(ev).await.unwrap();
    s.claim_events(Claim {
        worker: "a".into(),
        limit: 1,
        lease: Duration::from_secs(30),
        now: at(1),
        poison_after: 0,
    })
    .await
    .unwrap();
    s.finish_event(EventFinish {
        event_id: event_id.clone(),
        worker: "a".into(),
        now: at(2),
        quarantine_after: 0,
        read_redacted_at: None,
        outcomes: vec![PluginOutcome {
            plugin_id: "p".into(),
            plugin_version: "1.0.0".into(),
            result: PluginResult::Dead {
                failure: FailureRecord::new("invalid-action", "bad tag"),
            },
        }],
    })
    .await
    .unwrap();
    let letters = s.dead_letters(None, true, 10).await.unwrap();
    assert_eq!(letters.len(), 1);
    let d = &letters[0];
    assert_eq!(
        (d.what, d.failure.kind.as_str(), d.attempts),
        (DeadLetterKind::Dispatch, "invalid-action", 1)
    );
    assert!(
        s.installation(SHOP, "p")
            .await
            .unwrap()
            .unwrap()
            .quarantine
            .is_none(),
        "threshold 0: never"
    );

    s.retry_dead_letter(d.id, "ops@example.com", at(5))
        .await
        .unwrap();
    let again = s
        .retry_dead_letter(d.id, "ops@example.com", at(5))
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again}");
    assert!(s.dead_letters(None, true, 10).await.unwrap().is_empty());
    let all = s.dead_letters(None, false, 10).await.unwrap();
    assert_eq!(
        (all[0].state, all[0].resolved_by.as_deref()),
        (DeadLetterState::Retried, Some("ops@example.com"))
    );
    // The run is pending again, with its attempts reset, and the event claimable.
    let back = s
        .claim_events(Claim {
            worker: "b".into(),
            limit: 1,
            lease: Duration::from_secs(30),
            now: at(5),
            poison_after: 0,
        })
        .await
        .unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(
        (back[0].dispatch[0].status, back[0].dispatch[0].attempts),
        (DispatchStatus::Pending, 0)
    );
    assert!(matches!(
        s.discard_dead_letter(999, "x", at(6)).await.unwrap_err(),
        StoreError::NotFound { .. }
    ));
    let log = s.audit_log(Some(SHOP), 1).await.unwrap();
    assert_eq!(log[0].entry.action, "dead-letter.retry");
}

#[tokio::test]
async fn case_links_are_found_by_key_and_by_case_id() {
    let (_d, s) = open().await;
    let key = CaseKey {
        case_type: "fraud-investigation".into(),
        subject: Subject::Order(5001),
    };
    let link = CaseLink {
        shop: SHOP.into(),
        key: key.clone(),
        case_id: "c-1".into(),
        case_number: "CASE-000001".into(),
        status: CaseStatus::InProgress,
        priority: Priority::High,
        escalation_level: 1,
        opened_at: "2026-11-26T10:00:00Z".into(),
        plugin_id: Some("fraud".into()),
        last_updated_on: None,
        updated_at: at(0),
    };
    s.put_case_link(link.clone()).await.unwrap();
    assert_eq!(s.case_link(SHOP, &key).await.unwrap(), Some(link.clone()));
    assert_eq!(
        s.search_case_links(CaseLinkQuery {
            case_id: Some("c-1".into()),
            limit: 10,
            ..CaseLinkQuery::default()
        })
        .await
        .unwrap(),
        std::slice::from_ref(&link)
    );
    let other = CaseKey {
        case_type: "fraud-investigation".into(),
        subject: Subject::Order(5002),
    };
    assert_eq!(s.case_link(SHOP, &other).await.unwrap(), None);
    assert_eq!(
        s.case_link("other.myshopify.com", &key).await.unwrap(),
        None
    );
    // Updates keep what the update does not know.
    let updated = CaseLink {
        status: CaseStatus::Resolved,
        plugin_id: None,
        last_updated_on: Some("2026-11-27T10:00:00.000+0000".into()),
        ..link
    };
    s.put_case_link(updated).await.unwrap();
    let got = s.case_link(SHOP, &key).await.unwrap().unwrap();
    assert_eq!(got.status, CaseStatus::Resolved);
    assert_eq!(got.plugin_id.as_deref(), Some("fraud"));
    assert_eq!(got.to_linked_case().case_number, "CASE-000001");
}

fn key(plugin: &str, version: &str) -> InstallationKey {
    InstallationKey {
        shop: SHOP.into(),
        plugin_id: plugin.into(),
        version: version.into(),
    }
}

fn approve_audit(plugin: &str, secs: i64) -> NewAudit {
    NewAudit {
        actor: "sec@example.com".into(),
        action: "installation.approve".into(),
        shop: Some(SHOP.into()),
        plugin_id: Some(plugin.into()),
        details: serde_json::json!({}),
        at: at(secs),
    }
}

#[tokio::test]
async fn an_approval_changes_only_by_approving_or_by_a_new_version() {
    let (_d, s) = open().await;
    install(&s, "fraud", true).await;
    let first = s.installation(SHOP, "fraud").await.unwrap().unwrap();
    assert_eq!(
        first.approved,
        Some(approval("sha-1", "ops@example.com", 0))
    );

    // Writing the row again at the same version (settings, enable,
    // disable) with another approval does not replace the stored one: a
    // stale read cannot undo an approval, and a settings change cannot
    // approve content.
    let mut same_version = first.clone();
    same_version.enabled = false;
    same_version.approved = Some(approval("sha-2", "someone@example.com", 5));
    s.put_installation(same_version, approve_audit("fraud", 5))
        .await
        .unwrap();
    let kept = s.installation(SHOP, "fraud").await.unwrap().unwrap();
    assert!(!kept.enabled);
    assert_eq!(kept.approved, first.approved);

    // A new version carries its own approval.
    let mut upgraded = kept.clone();
    upgraded.version = "1.1.0".into();
    upgraded.approved = Some(approval("sha-3", "ops@example.com", 6));
    s.put_installation(upgraded, approve_audit("fraud", 6))
        .await
        .unwrap();
    let now = s.installation(SHOP, "fraud").await.unwrap().unwrap();
    assert_eq!(now.version, "1.1.0");
    assert_eq!(now.approved, Some(approval("sha-3", "ops@example.com", 6)));
}

#[tokio::test]
async fn approving_is_compare_and_set_and_audited_once() {
    let (_d, s) = open().await;
    install(&s, "fraud", true).await;
    let before = s
        .installation(SHOP, "fraud")
        .await
        .unwrap()
        .unwrap()
        .approved;
    let new = approval("sha-2", "sec@example.com", 10);
    let audits = |s: &Store| {
        let s = s.clone();
        async move {
            s.audit_log(Some(SHOP), 100)
                .await
                .unwrap()
                .into_iter()
                .filter(|a| a.entry.action == "installation.approve")
                .count()
        }
    };

    // Another version than the installation pins: nothing written.
    assert!(
        !s.approve_installation(
            key("fraud", "9.9.9"),
            before.clone(),
            new.clone(),
            approve_audit("fraud", 10)
        )
        .await
        .unwrap()
    );
    // A stale `before` (someone approved meanwhile): nothing written.
    assert!(
        !s.approve_installation(
            key("fraud", "1.0.0"),
            Some(approval("sha-0", "x", 0)),
            new.clone(),
            approve_audit("fraud", 10)
        )
        .await
        .unwrap()
    );
    assert_eq!(audits(&s).await, 0);
    assert!(
        s.approve_installation(
            key("fraud", "1.0.0"),
            before.clone(),
            new.clone(),
            approve_audit("fraud", 10)
        )
        .await
        .unwrap()
    );
    // The same request again finds the approval changed: it approves once.
    assert!(
        !s.approve_installation(
            key("fraud", "1.0.0"),
            before,
            new.clone(),
            approve_audit("fraud", 11)
        )
        .await
        .unwrap()
    );
    assert_eq!(audits(&s).await, 1);
    let got = s.installation(SHOP, "fraud").await.unwrap().unwrap();
    assert_eq!(got.approved, Some(new));
    // A store without the installation: nothing.
    assert!(
        !s.approve_installation(
            key("returns", "1.0.0"),
            None,
            approval("sha-9", "x", 0),
            approve_audit("returns", 12)
        )
        .await
        .unwrap()
    );
}

#[tokio::test]
async fn a_database_from_before_approvals_upgrades_with_none_recorded() {
    let dir = Db::create().await;
    {
        let s = dir.open().await;
        install(&s, "fraud", true).await;
    }
    // Back to schema version 6, as written before approvals.
    roll_back_schema(&dir, 6).await;
    let s = dir.open().await;
    let old = s.installation(SHOP, "fraud").await.unwrap().unwrap();
    assert!(old.enabled, "kept across the upgrade");
    assert_eq!(old.approved, None, "nothing approved is invented");
    // The host records what it found on disk, once.
    let found = approval("sha-disk", "host", 20);
    assert!(
        s.approve_installation(
            key("fraud", "1.0.0"),
            None,
            found.clone(),
            approve_audit("fraud", 20)
        )
        .await
        .unwrap()
    );
    assert!(
        !s.approve_installation(
            key("fraud", "1.0.0"),
            None,
            found.clone(),
            approve_audit("fraud", 21)
        )
        .await
        .unwrap()
    );
    assert_eq!(
        s.installation(SHOP, "fraud")
            .await
            .unwrap()
            .unwrap()
            .approved,
        Some(found)
    );
}

#[tokio::test]
async fn an_unreadable_approval_is_named() {
    let (dir, s) = open().await;
    install(&s, "fraud", true).await;
    dir.behind_the_back()
        .await
        .exec("UPDATE installations SET approved_grants = 'not json'", &[])
        .await;
    let err = s.installations(Some(SHOP)).await.unwrap_err().to_string();
    assert!(err.contains("installations.approved_grants"), "{err}");
}
