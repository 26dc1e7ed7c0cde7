//! What an admin approved is what runs: an installation's approval binds
//! the component's sha256 and the manifest's grants; a plugin replaced on
//! disk runs for a store only once that store's admin approves it; a
//! version packaged twice is refused; installations from before approvals
//! take the plugin on disk at the host's start.

use std::sync::Arc;

use shopcase_admin::stores::ApprovalState;
use shopcase_admin::{Admin, AdminError, ApproveRequest, EnableRequest};
use shopcase_pipeline::RunningPipeline;
use shopcase_store::{DispatchStatus, SqliteStorage, Storage};

use crate::support::*;

/// The tagger as first enabled: no personal data, default limits.
fn tagger() -> PluginSpec<'static> {
    PluginSpec::new("tagger")
}

/// The same version rebuilt to see card details and burn more fuel.
fn greedy_tagger() -> PluginSpec<'static> {
    PluginSpec {
        data: &["payment-details"],
        settings: "\n[limits]\nfuel = 60_000_000\n",
        ..PluginSpec::new("tagger")
    }
}

fn storage(host: &Host) -> Arc<dyn Storage> {
    Arc::new(SqliteStorage::open(&host.data_dir(), Default::default()).unwrap())
}

async fn send(running: &RunningPipeline, shop: &str, webhook: &str, order_id: u64) -> String {
    let secret = if shop == SHOP_A { SECRET_A } else { SECRET_B };
    let (status, body) = post(
        &reqwest::Client::new(),
        &running.webhook_url(),
        &Delivery::order(shop, secret, webhook, order(order_id, "ok")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id = body["event_id"].as_str().unwrap().to_owned();
    let s = running.storage().clone();
    eventually("the event is dispatched", || async {
        is_done(&s, &id).await
    })
    .await;
    id
}

/// The one plugin run of an event: its status, failure kind and message,
/// and how many actions were journalled.
async fn run_of(s: &Arc<dyn Storage>, event: &str) -> (DispatchStatus, String, String, usize) {
    let rows = s.dispatch_rows(event).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let f = rows[0].last_failure.clone();
    (
        rows[0].status,
        f.as_ref().map(|f| f.kind.clone()).unwrap_or_default(),
        f.map(|f| f.message).unwrap_or_default(),
        s.journal_for_event(event).await.unwrap().len(),
    )
}

fn approve(shop: &str, by: &str) -> ApproveRequest {
    ApproveRequest {
        shop: shop.into(),
        plugin: "tagger".into(),
        actor: by.into(),
    }
}

async fn approval_of(admin: &Admin, shop: &str) -> shopcase_admin::stores::ApprovalStatus {
    admin
        .list()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.domain == shop)
        .unwrap()
        .installations
        .into_iter()
        .find(|i| i.installation.plugin_id == "tagger")
        .unwrap()
        .approval
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_replaced_on_disk_with_more_grants_runs_only_once_approved() {
    let host = Host::new(2);
    host.add_plugin(&tagger());
    {
        let s = storage(&host);
        host.enable(&s, SHOP_A, "tagger", &[]).await;
    }
    let running = host.start().await;
    let s = running.storage().clone();
    let e1 = send(&running, SHOP_A, "w-1", 1001).await;
    assert_eq!(run_of(&s, &e1).await.3, 1, "the approved plugin runs");
    running.shutdown().await.unwrap();

    // Someone replaces plugins/tagger/ with a new build of the same
    // version that sees card details and asks for more fuel, and the host
    // restarts.
    package_rebuilt(&host.plugins_dir(), &greedy_tagger(), "b2");
    let running = host.start().await;
    let s = running.storage().clone();
    let e2 = send(&running, SHOP_A, "w-2", 1002).await;
    let (status, kind, message, journalled) = run_of(&s, &e2).await;
    assert_eq!(status, DispatchStatus::Dead, "{message}");
    assert_eq!(kind, "plugin-unavailable");
    assert_eq!(journalled, 0, "nothing of the unapproved build ran");
    assert!(
        message.starts_with(
            "not-approved: plugin `tagger` 1.0.0 changed since it was approved for this store"
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "grants added: data payment-details, limit fuel 60000000; grants removed: limit fuel 50000000"
        ),
        "{message}"
    );
    assert!(
        message.contains("shopcase store approve --shop a.myshopify.com --plugin tagger"),
        "{message}"
    );
    let root = host.dir.path().to_str().unwrap();
    assert!(!message.contains(root), "no host paths: {message}");
    // More events meanwhile: refused the same way, and never toward
    // quarantine (quarantine-after is 2 here) — that is the admin's
    // matter, not the plugin's behaviour, and would outlast the approval.
    let e2b = send(&running, SHOP_A, "w-2b", 1012).await;
    assert_eq!(run_of(&s, &e2b).await.1, "plugin-unavailable");
    let inst = s.installation(SHOP_A, "tagger").await.unwrap().unwrap();
    assert!(inst.quarantine.is_none(), "{inst:?}");

    // The difference is shown before approving.
    let admin = Admin::new(s.clone(), &host.config());
    let pending = approval_of(&admin, SHOP_A).await;
    assert_eq!(pending.state, ApprovalState::Pending);
    assert_eq!(
        pending.summary,
        "pending — grants added: data payment-details, limit fuel 60000000; grants removed: limit fuel 50000000"
    );

    // Approving is an admin act, audited with the sha256s and the grants.
    let before = s.installation(SHOP_A, "tagger").await.unwrap().unwrap();
    let done = admin
        .approve(approve(SHOP_A, "sec@example.com"))
        .await
        .unwrap();
    assert_eq!(
        done.grants.added,
        ["data payment-details", "limit fuel 60000000"]
    );
    assert_eq!(done.grants.removed, ["limit fuel 50000000"]);
    let audit = s.audit_log(Some(SHOP_A), 10).await.unwrap();
    let record = audit
        .iter()
        .find(|a| a.entry.action == "installation.approve")
        .expect("audited");
    assert_eq!(record.entry.actor, "sec@example.com");
    let d = &record.entry.details;
    assert_eq!(d["before"]["sha256"], before.approved.unwrap().sha256);
    assert_eq!(
        d["after"]["sha256"],
        done.installation.approved.as_ref().unwrap().sha256
    );
    assert_ne!(d["before"]["sha256"], d["after"]["sha256"]);
    assert_eq!(
        d["grants_added"],
        serde_json::json!(["data payment-details", "limit fuel 60000000"])
    );
    assert_eq!(
        approval_of(&admin, SHOP_A).await.state,
        ApprovalState::Approved
    );
    // Approving again is refused by name.
    assert!(matches!(
        admin.approve(approve(SHOP_A, "sec@example.com")).await,
        Err(AdminError::AlreadyApproved { .. })
    ));

    let e3 = send(&running, SHOP_A, "w-3", 1003).await;
    let (status, _, message, journalled) = run_of(&s, &e3).await;
    assert_eq!(status, DispatchStatus::Done, "{message}");
    assert_eq!(journalled, 1, "the approved build runs");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_store_approves_for_itself() {
    let host = Host::new(2);
    host.add_plugin(&tagger());
    {
        let s = storage(&host);
        host.enable(&s, SHOP_A, "tagger", &[]).await;
        host.enable(&s, SHOP_B, "tagger", &[]).await;
    }
    package_rebuilt(&host.plugins_dir(), &greedy_tagger(), "b2");
    let running = host.start().await;
    let s = running.storage().clone();
    let admin = Admin::new(s.clone(), &host.config());
    admin.approve(approve(SHOP_A, "a-admin")).await.unwrap();

    let a = send(&running, SHOP_A, "w-a", 1001).await;
    let b = send(&running, SHOP_B, "w-b", 2001).await;
    let (status, _, message, journalled) = run_of(&s, &a).await;
    assert_eq!((status, journalled), (DispatchStatus::Done, 1), "{message}");
    let (status, kind, message, journalled) = run_of(&s, &b).await;
    assert_eq!(
        (status, kind.as_str(), journalled),
        (DispatchStatus::Dead, "plugin-unavailable", 0)
    );
    assert!(message.contains("--shop b.myshopify.com"), "{message}");
    assert_eq!(
        approval_of(&admin, SHOP_A).await.state,
        ApprovalState::Approved
    );
    assert_eq!(
        approval_of(&admin, SHOP_B).await.state,
        ApprovalState::Pending
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_host_picks_up_the_approved_content_and_settings_do_not_approve() {
    let host = Host::new(2);
    host.add_plugin(&tagger());
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[]).await;
    assert_eq!(
        run_of(&s, &send(&running, SHOP_A, "w-1", 1001).await)
            .await
            .3,
        1
    );

    // Only the grants change (same component): still new content.
    package(&host.plugins_dir(), &greedy_tagger(), false);
    let admin = Admin::new(s.clone(), &host.config());
    let pending = approval_of(&admin, SHOP_A).await;
    assert_eq!(pending.state, ApprovalState::Pending);
    assert_eq!(pending.grants_added[0], "data payment-details");
    // Enabling again the same version does not approve it.
    host.enable(&s, SHOP_A, "tagger", &[]).await;
    assert_eq!(
        approval_of(&admin, SHOP_A).await.state,
        ApprovalState::Pending
    );

    admin
        .approve(approve(SHOP_A, "sec@example.com"))
        .await
        .unwrap();
    // The host had the old build in memory; the approval names what is on
    // disk now, which it loads and runs.
    let e = send(&running, SHOP_A, "w-2", 1002).await;
    let (status, _, message, journalled) = run_of(&s, &e).await;
    assert_eq!((status, journalled), (DispatchStatus::Done, 1), "{message}");
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installations_from_before_approvals_take_the_plugin_on_disk_at_start() {
    let host = Host::new(2);
    host.add_plugin(&tagger());
    host.add_plugin(&PluginSpec::new("gone"));
    {
        let s = storage(&host);
        host.enable(&s, SHOP_A, "tagger", &[]).await;
        host.enable(&s, SHOP_A, "gone", &[]).await;
    }
    // As rows written before migration 7: no approval. `gone` is no
    // longer on disk.
    rusqlite::Connection::open(host.data_dir().join("shopcase.db"))
        .unwrap()
        .execute_batch(
            "UPDATE installations SET approved_sha256 = NULL, approved_grants_digest = NULL,
                approved_grants = NULL, approved_by = NULL, approved_at = NULL",
        )
        .unwrap();
    std::fs::remove_dir_all(host.plugins_dir().join("gone")).unwrap();

    let running = host.start().await;
    let s = running.storage().clone();
    let tagger = s.installation(SHOP_A, "tagger").await.unwrap().unwrap();
    let recorded = tagger.approved.expect("recorded at start");
    assert_eq!(recorded.by, "host");
    assert!(recorded.grants.contains(&"action tags-add".to_owned()));
    assert!(
        s.installation(SHOP_A, "gone")
            .await
            .unwrap()
            .unwrap()
            .approved
            .is_none(),
        "nothing on disk to record"
    );
    let audit = s.audit_log(Some(SHOP_A), 20).await.unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|a| a.entry.action == "installation.approval-recorded")
            .count(),
        1
    );

    // The old installation keeps running.
    let e = send(&running, SHOP_A, "w-1", 1001).await;
    let rows = s.dispatch_rows(&e).await.unwrap();
    let ran = rows.iter().find(|r| r.plugin_id == "tagger").unwrap();
    assert_eq!(ran.status, DispatchStatus::Done, "{:?}", ran.last_failure);
    // `gone` was never planned (not loadable, so it is planned and fails).
    if let Some(g) = rows.iter().find(|r| r.plugin_id == "gone") {
        assert_eq!(g.last_failure.as_ref().unwrap().kind, "plugin-unavailable");
    }
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installation_with_no_approval_is_refused_until_approved() {
    let host = Host::new(2);
    host.add_plugin(&tagger());
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[]).await;
    // Its approval lost after the host started (no start-up to record
    // it): refused, not run on trust.
    rusqlite::Connection::open(host.data_dir().join("shopcase.db"))
        .unwrap()
        .execute_batch("UPDATE installations SET approved_sha256 = NULL, approved_grants_digest = NULL, approved_grants = NULL")
        .unwrap();
    let e = send(&running, SHOP_A, "w-1", 1001).await;
    let (status, kind, message, journalled) = run_of(&s, &e).await;
    assert_eq!(
        (status, kind.as_str(), journalled),
        (DispatchStatus::Dead, "plugin-unavailable", 0)
    );
    assert!(
        message.starts_with("not-approved: no approval is recorded for plugin `tagger` 1.0.0"),
        "{message}"
    );
    let admin = Admin::new(s.clone(), &host.config());
    assert_eq!(
        approval_of(&admin, SHOP_A).await.state,
        ApprovalState::NotRecorded
    );
    let done = admin.approve(approve(SHOP_A, "ops")).await.unwrap();
    assert!(done.before.is_none());
    let e = send(&running, SHOP_A, "w-2", 1002).await;
    assert_eq!(run_of(&s, &e).await.3, 1);
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_packaged_twice_is_refused_in_both_directories() {
    let host = Host::new(2);
    host.add_plugin(&tagger());
    let running = host.start().await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "tagger", &[]).await;
    running.shutdown().await.unwrap();

    // A second copy of 1.0.0, with more grants, beside the first.
    package(&host.plugins_dir(), &greedy_tagger(), true);
    let admin = Admin::new(storage(&host), &host.config());
    assert!(
        admin.packaged_plugins().is_empty(),
        "neither copy is listed"
    );
    let why =
        "plugin `tagger` 1.0.0 is packaged twice, in tagger/ and tagger/1.0.0/: neither is loaded";
    for version in [None, Some("1.0.0")] {
        let err = admin
            .enable(EnableRequest {
                shop: SHOP_B.into(),
                plugin: "tagger".into(),
                version: version.map(str::to_owned),
                settings: vec![],
                actor: "ops".into(),
            })
            .await
            .unwrap_err();
        assert!(matches!(err, AdminError::Duplicate(_)), "{err}");
        assert!(err.to_string().starts_with(why), "{err}");
    }
    assert!(matches!(
        admin.approve(approve(SHOP_A, "ops")).await,
        Err(AdminError::Duplicate(_))
    ));

    let running = host.start().await;
    let s = running.storage().clone();
    let e = send(&running, SHOP_A, "w-1", 1001).await;
    let (status, kind, message, journalled) = run_of(&s, &e).await;
    assert_eq!(
        (status, kind.as_str(), journalled),
        (DispatchStatus::Dead, "plugin-unavailable", 0)
    );
    assert!(message.contains(why), "{message}");
    assert!(
        !message.contains(host.dir.path().to_str().unwrap()),
        "{message}"
    );
    running.shutdown().await.unwrap();
}
