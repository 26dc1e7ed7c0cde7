//! A first-party plugin on a recorded scenario event, end to end: the
//! `refund-approval` plugin holds a large refund for approval; an approver
//! approves it in Core Case; the host executes the refund once and the
//! plugin, told through `corecase/case-updated`, resolves the case.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use shopcase_contract::EventFile;
use shopcase_contract::host_api::CustomerHistory;
use shopcase_corecase::client::dto::{TaskCompletion, TaskOutcome};
use shopcase_store::*;

use super::*;

/// The customer's history, as the Shopify Admin API would give it.
#[derive(Debug)]
struct History;

#[async_trait::async_trait]
impl shopcase_pipeline::CustomerHistorySource for History {
    async fn customer_history(
        &self,
        _shop: &str,
        customer_id: u64,
    ) -> Result<CustomerHistory, shopcase_sandbox::HostError> {
        Ok(CustomerHistory {
            customer_id,
            number_of_orders: 4,
            amount_spent: "1210.40".into(),
            currency: "EUR".into(),
            tags: vec![],
            created_at: "2025-03-01T10:00:00Z".into(),
            recent_orders: vec![],
        })
    }
}

fn scenario(file: &str) -> Delivery {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/events/scenarios")
        .join(file);
    let f = EventFile::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    // Recorded for demo.myshopify.com; delivered to this host's store.
    Delivery::new(
        SHOP_A,
        SECRET_A,
        &f.topic,
        f.webhook_id.as_deref().unwrap(),
        f.payload,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_refund_waits_for_its_approval_and_is_carried_out_once() {
    let emu = emulator().await;
    let host = host(&emu, 2, "");
    shopcase_contract::manifest::package(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/refund-approval/plugin.toml"),
        &wasm("refund-approval"),
        &host.plugins_dir().join("refund-approval"),
    )
    .unwrap();
    let recorder = Arc::new(ShopifyRecorder::default());
    let r = recorder.clone();
    let running = start(&host, move |b| {
        b.executor(r).customer_history(Arc::new(History))
    })
    .await;
    let s = running.storage().clone();
    host.enable(&s, SHOP_A, "refund-approval", &[]).await;

    let event = send(
        &running,
        &scenario("refund-approval/02-orders-updated-refund-large.json"),
    )
    .await;
    let entries = settled(&s, &event).await;
    for e in &entries {
        assert_eq!(
            e.status,
            JournalStatus::Done,
            "{}: {:?}",
            e.key,
            e.last_error
        );
    }
    let approval = entries
        .iter()
        .find(|e| e.kind == shopcase_contract::ActionKind::RequestApproval)
        .unwrap_or_else(|| panic!("the refund is held for approval: {entries:?}"));
    let r = approval.result.clone().unwrap();
    let (case_id, task_id) = (
        r["case_id"].as_str().unwrap().to_owned(),
        r["task_id"].as_str().unwrap().to_owned(),
    );
    let case = emu.emulator().case(&case_id).unwrap();
    assert_eq!(case["status"], "PENDING_APPROVAL");
    assert_eq!(case["tasks"][0]["assigneeGroup"], "finance-approvers");
    // Only the immediate write-backs (a note) ran; the refund waits.
    let refunds = |rec: &ShopifyRecorder| {
        rec.calls
            .lock()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with("approval:"))
            .count()
    };
    assert_eq!(refunds(&recorder), 0);

    let def = shopcase_corecase_emulator::definition_id("refund-approval").to_string();
    analyst(&emu)
        .complete_task(
            &def,
            &case_id,
            &task_id,
            &TaskCompletion {
                outcome: TaskOutcome::Approved,
                comment: Some("ok".into()),
            },
            None,
        )
        .await
        .unwrap();
    let key = release_key(&task_id);
    eventually("the refund is carried out", || async {
        recorder.count(&key) == 1
    })
    .await;
    let entry = s.journal_entry(&key).await.unwrap().unwrap();
    let shopcase_contract::Action::Shopify(shopcase_contract::ShopifyOperation::Refund(refund)) =
        entry.action
    else {
        panic!("{:?}", entry.action);
    };
    assert_eq!(
        (refund.amount.as_str(), refund.currency.as_str()),
        ("450.00", "EUR")
    );
    // The plugin hears of it and resolves the case.
    eventually("the plugin resolves the case", || async {
        emu.emulator().case(&case_id).unwrap()["status"] == "RESOLVED"
    })
    .await;
    let events = case_events(&host, &s, &case_id).await;
    let approved: Vec<Value> = events
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.event.payload).unwrap())
        .filter(|p| p["approvals"][0]["outcome"] == "approved")
        .collect();
    assert!(!approved.is_empty());
    assert_eq!(refunds(&recorder), 1, "once");
    running.shutdown().await.unwrap();
}
