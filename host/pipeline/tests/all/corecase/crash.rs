//! The host killed between Core Case's answer to a case creation and the
//! journal's acknowledgement (`abort-after-case-create`: after the create,
//! before the link and the journal entry are recorded). After a restart the
//! entry runs again under the same `Idempotency-Key`: the same case is
//! linked, and no second case is created.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;
use shopcase_contract::{CaseKey, Subject};
use shopcase_corecase_integration::CoreCase;
use shopcase_pipeline::{Config, PipelineBuilder};
use shopcase_store::*;

use super::*;

/// Set in the child: the configuration file to serve.
const CHILD_ENV: &str = "SHOPCASE_TEST_CORECASE_CHILD_CONFIG";

/// Not a test by itself: the body of the child process (a host with Core
/// Case registered and the fault point armed). In a normal test run the
/// variable is unset and it returns at once.
#[test]
fn child_host() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config = Config::load(Path::new(&path)).unwrap();
        let storage = shopcase_pipeline::open_storage(&config).await.unwrap();
        let corecase = CoreCase::from_config(&config)
            .unwrap()
            .unwrap()
            .faults_from_env();
        let pipeline = corecase
            .register(PipelineBuilder::new(config), storage)
            .faults_from_env()
            .build()
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("LISTENING {}", listener.local_addr().unwrap());
        pipeline
            .run(listener, std::future::pending())
            .await
            .unwrap();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_the_create_call_and_its_acknowledgement_no_duplicate_case() {
    let emu = emulator().await;
    let host = host(&emu, 1, "");
    {
        let s = storage(&host).await;
        host.enable(&s, SHOP_A, "scripted", &[]).await;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "corecase::crash::child_host",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, host.config_path())
        .env(shopcase_pipeline::fault::ENV, "abort-after-case-create")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(host.dir.path().join("child.log")).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        match lines.next() {
            Some(Ok(l)) if l.contains("LISTENING ") => {
                break l.split("LISTENING ").nth(1).unwrap().trim().to_owned();
            }
            Some(Ok(_)) => continue,
            other => panic!(
                "the child host did not start ({other:?}); its log:\n{}",
                std::fs::read_to_string(host.dir.path().join("child.log")).unwrap_or_default()
            ),
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let (status, body) = post(
        &reqwest::Client::new(),
        &format!("http://{addr}/webhooks/shopify"),
        &scripted_order(
            "w-1",
            1234,
            json!([open_case(
                "scripted",
                1234,
                "high",
                json!([document("d.md", "dossier")])
            )]),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let event = body["event_id"].as_str().unwrap().to_owned();
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(
        !exit.success(),
        "the child aborted at the fault point: {exit:?}"
    );

    // Core Case has the case; the host has neither the link nor the ack.
    let cases = cases_of(&emu, 1234);
    assert_eq!(cases.len(), 1);
    let case_id = cases[0]["id"].as_str().unwrap().to_owned();
    let k = CaseKey {
        case_type: "scripted".into(),
        subject: Subject::Order(1234),
    };
    {
        let s = storage(&host).await;
        assert!(s.case_link(SHOP_A, &k).await.unwrap().is_none());
        let entry = s
            .journal_entry(&format!("{event}:scripted:0"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(entry.status, JournalStatus::InFlight);
    }

    // Restart: the claim expires, the entry runs again.
    let running = start(&host, |b| b).await;
    let s = running.storage().clone();
    let entries = settled(&s, &event).await;
    assert_eq!(
        entries[0].status,
        JournalStatus::Done,
        "{:?}",
        entries[0].last_error
    );
    let result = entries[0].result.clone().unwrap();
    assert_eq!(result["case_id"], case_id.as_str());
    assert_eq!(cases_of(&emu, 1234).len(), 1, "no duplicate case");
    assert_eq!(
        s.case_link(SHOP_A, &k).await.unwrap().unwrap().case_id,
        case_id
    );
    let case = emu.emulator().case(&case_id).unwrap();
    assert_eq!(case["attachments"].as_array().unwrap().len(), 1);
    // The creation request was sent twice and applied once.
    let creates = emu
        .emulator()
        .request_count("POST", "/api/v1/case-definitions/{defId}/cases");
    assert_eq!(creates, 2);
    // The poller reports the case although its link came late.
    eventually("the case is reported", || async {
        !case_events(&host, &s, &case_id).await.is_empty()
    })
    .await;
    running.shutdown().await.unwrap();
}
