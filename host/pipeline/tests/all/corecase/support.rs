//! The Core Case tests' helpers: the emulator, a host configured for it,
//! the `scripted` plugin, actions and deliveries, journal waits. Shared by
//! the `all` tests (`corecase::*`) and the `crash` binary, which includes
//! this file by `#[path]`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Value, json};
use shopcase_corecase::{CoreCaseClient, RetryConfig};
use shopcase_corecase_emulator::{
    self as emulator, DefinitionSeed, EmulatorConfig, EmulatorHandle,
};
use shopcase_corecase_integration::CoreCase;
use shopcase_net::HumanDuration;
use shopcase_pipeline::{ExecError, Executor, PipelineBuilder, RunningPipeline};
use shopcase_store::*;

use crate::support::*;

/// The emulator with the default case definitions and `scripted`.
pub(crate) async fn emulator() -> EmulatorHandle {
    let mut config = EmulatorConfig::default();
    config
        .case_definitions
        .push(DefinitionSeed::named("scripted"));
    emulator::spawn(config).await.unwrap()
}

/// A client acting as an analyst in Core Case.
pub(crate) fn analyst(emu: &EmulatorHandle) -> CoreCaseClient {
    let mut s = emu.client_settings();
    s.backoff = RetryConfig {
        base: HumanDuration::from_millis(5),
        max: HumanDuration::from_millis(20),
        max_attempts: 3,
        max_retry_after: HumanDuration::from_secs(1),
    }
    .backoff();
    CoreCaseClient::new(s).unwrap()
}

/// The `[corecase]` section for `emu`; the secret comes from a file beside
/// the configuration.
pub(crate) fn corecase_section(emu: &EmulatorHandle, extra: &str) -> String {
    let base = emu.base_url();
    format!(
        r#"
[corecase]
api-base = "{base}"
auth-base = "{base}"
tenant-id = "shopcase-dev"
client-id = "shopcase-dev"
client-secret-file = "corecase.secret"
request-timeout = "1s"
poll-interval = "100ms"
poll-overlap = "1s"
poll-page-size = 5
execute-timeout = "1500ms"
{extra}

[corecase.retry]
base = "5ms"
max = "30ms"
max-attempts = 3
max-retry-after = "500ms"
"#
    )
}

/// A host directory with `[corecase]` pointing at `emu`, the `scripted`
/// plugin (and a copy of it named `echo`) packaged.
pub(crate) fn host(emu: &EmulatorHandle, workers: usize, corecase_extra: &str) -> Host {
    host_with(emu, workers, corecase_extra, |t| t)
}

/// [`host`], with the configuration text edited by `edit`.
pub(crate) fn host_with(
    emu: &EmulatorHandle,
    workers: usize,
    corecase_extra: &str,
    edit: impl FnOnce(String) -> String,
) -> Host {
    let text = edit(format!(
        "{}{}",
        config_text(&format!("workers = {workers}")),
        corecase_section(emu, corecase_extra)
    ));
    let host = Host::with_config(&text);
    std::fs::write(
        host.dir.path().join("corecase.secret"),
        "shopcase-dev-secret\n",
    )
    .unwrap();
    package_scripted(&host.plugins_dir(), "scripted");
    package_scripted(&host.plugins_dir(), "echo");
    host
}

/// Package the scripted test component as plugin `id`.
pub(crate) fn package_scripted(plugins_dir: &Path, id: &str) {
    let src =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/programs/scripted/plugin.toml");
    let text = std::fs::read_to_string(src)
        .unwrap()
        .replace("id = \"scripted\"", &format!("id = \"{id}\""));
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("plugin.toml");
    std::fs::write(&manifest, text).unwrap();
    shopcase_contract::manifest::package(&manifest, &wasm("scripted"), &plugins_dir.join(id))
        .unwrap();
}

/// The storage of a host (opened like the server opens it).
pub(crate) async fn storage(host: &Host) -> Arc<dyn Storage> {
    shopcase_pipeline::open_storage(&host.config())
        .await
        .unwrap()
}

/// Start the host with Core Case registered, and `f` for more.
pub(crate) async fn start(
    host: &Host,
    f: impl FnOnce(PipelineBuilder) -> PipelineBuilder,
) -> RunningPipeline {
    let config = host.config();
    let storage = storage(host).await;
    let corecase = CoreCase::from_config(&config).unwrap().unwrap();
    host.start_with(move |b| f(corecase.register(b, storage)))
        .await
}

/// Records Shopify operations instead of executing them (the Shopify
/// executor is another module's); every call counts.
#[derive(Debug, Default)]
pub(crate) struct ShopifyRecorder {
    pub(crate) calls: Mutex<HashMap<String, u32>>,
}

impl ShopifyRecorder {
    pub(crate) fn count(&self, key: &str) -> u32 {
        self.calls.lock().unwrap().get(key).copied().unwrap_or(0)
    }

    pub(crate) fn total(&self) -> u32 {
        self.calls.lock().unwrap().values().sum()
    }
}

#[async_trait]
impl Executor for ShopifyRecorder {
    fn family(&self) -> ActionFamily {
        ActionFamily::Shopify
    }

    async fn execute(&self, entry: &JournalEntry) -> Result<Value, ExecError> {
        *self
            .calls
            .lock()
            .unwrap()
            .entry(entry.key.clone())
            .or_insert(0) += 1;
        Ok(json!({"recorded": entry.kind.name()}))
    }
}

/// A case key in the journal's JSON form.
pub(crate) fn key(case_type: &str, order: u64) -> Value {
    json!({"case_type": case_type, "subject": {"order": order}})
}

/// An `open-case` action.
pub(crate) fn open_case(case_type: &str, order: u64, priority: &str, documents: Value) -> Value {
    json!({"kind": "open-case", "key": key(case_type, order), "title": format!("Order #{order} needs a look"),
           "summary": "scripted", "priority": priority, "owner": null, "owner_group": "ops", "due": null,
           "attributes": [{"name": "source", "value": "test"}], "documents": documents})
}

/// A document in the journal's JSON form (content base64).
pub(crate) fn document(name: &str, text: &str) -> Value {
    use base64::Engine as _;
    json!({"name": name, "content_type": "text/markdown", "description": "dossier",
           "content": base64::engine::general_purpose::STANDARD.encode(text)})
}

/// An `orders/create` delivery for `order` whose plugin run returns `actions`.
pub(crate) fn scripted_order(webhook: &str, order: u64, actions: Value) -> Delivery {
    Delivery::order(
        SHOP_A,
        SECRET_A,
        webhook,
        json!({"id": order, "name": format!("#{order}"), "customer": {"id": 7001},
               "note": json!({"actions": actions}).to_string()}),
    )
}

/// Post a delivery; returns its event id.
pub(crate) async fn send(running: &RunningPipeline, d: &Delivery) -> String {
    let (status, body) = post(&reqwest::Client::new(), &running.webhook_url(), d).await;
    assert_eq!(status, 200, "{body}");
    body["event_id"].as_str().unwrap().to_owned()
}

/// Wait until every journal entry of `event` is done or dead; returns them.
pub(crate) async fn settled(s: &Arc<dyn Storage>, event: &str) -> Vec<JournalEntry> {
    eventually("the event's journal entries settle", || async {
        is_done(s, event).await
            && s.journal_for_event(event)
                .await
                .unwrap()
                .iter()
                .all(|e| matches!(e.status, JournalStatus::Done | JournalStatus::Dead))
    })
    .await;
    s.journal_for_event(event).await.unwrap()
}

/// The emulator's cases with this external reference prefix.
pub(crate) fn cases_of(emu: &EmulatorHandle, order: u64) -> Vec<Value> {
    emu.emulator()
        .cases()
        .into_iter()
        .filter(|c| {
            c["caseProperties"]["defaultAttributes"]["externalReference"]
                .as_str()
                .is_some_and(|r| r.starts_with(&format!("{SHOP_A}:order:{order}:")))
        })
        .collect()
}

/// The case-updated events of a case in the inbox, oldest first (read
/// from the database file, as an operator would).
pub(crate) async fn case_events(
    host: &Host,
    s: &Arc<dyn Storage>,
    case_id: &str,
) -> Vec<StoredEvent> {
    let ids: Vec<String> = {
        let db = rusqlite::Connection::open(host.data_dir().join("shopcase.db")).unwrap();
        let mut st = db
            .prepare(
                "SELECT event_id FROM inbox WHERE topic = 'corecase/case-updated'
                 AND json_extract(resources, '$.case_id') = ?1 ORDER BY seq",
            )
            .unwrap();
        st.query_map([case_id], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let mut out = Vec::new();
    for id in ids {
        out.push(s.event(&id).await.unwrap().unwrap());
    }
    out
}
