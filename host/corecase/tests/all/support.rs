//! Shared set-up: an emulator, a client with millisecond backoffs, and
//! small builders.

use std::time::Duration;

use shopcase_contract::action::Priority;
use shopcase_corecase::client::dto::NewCase;
use shopcase_corecase::{ClientSettings, CoreCaseClient};
use shopcase_corecase_emulator::{self as emulator, EmulatorConfig, EmulatorHandle};
use shopcase_net::Backoff;

/// The route of case creation, as request counts name it.
pub(crate) const CREATE: &str = "/api/v1/case-definitions/{defId}/cases";
/// The route of comments.
pub(crate) const COMMENTS: &str = "/api/v1/case-definitions/{defId}/cases/{caseId}/comments";
/// The token route.
pub(crate) const TOKEN: &str = "/tenants/{tenant}/oauth2/token";

/// Fast retries: tests must not sleep for real backoffs.
pub(crate) fn fast(mut s: ClientSettings) -> ClientSettings {
    s.backoff = Backoff {
        base: Duration::from_millis(1),
        max: Duration::from_millis(5),
        max_attempts: 5,
        max_retry_after: Duration::from_secs(2),
    };
    s.request_timeout = Duration::from_secs(5);
    s
}

pub(crate) struct Env {
    pub(crate) emu: EmulatorHandle,
    pub(crate) client: CoreCaseClient,
    /// The `fraud-investigation` definition id.
    pub(crate) def: String,
}

pub(crate) async fn start() -> Env {
    start_with(EmulatorConfig::default(), |s| s).await
}

pub(crate) async fn start_with(
    config: EmulatorConfig,
    tweak: impl FnOnce(ClientSettings) -> ClientSettings,
) -> Env {
    let emu = emulator::spawn(config).await.unwrap();
    let client = CoreCaseClient::new(tweak(fast(emu.client_settings()))).unwrap();
    let def = emulator::definition_id("fraud-investigation").to_string();
    Env { emu, client, def }
}

impl Env {
    /// Another client on the same emulator (its own token cache).
    pub(crate) fn client_with(
        &self,
        tweak: impl FnOnce(ClientSettings) -> ClientSettings,
    ) -> CoreCaseClient {
        CoreCaseClient::new(tweak(fast(self.emu.client_settings()))).unwrap()
    }

    pub(crate) fn count(&self, method: &str, route: &str) -> u64 {
        self.emu.emulator().request_count(method, route)
    }

    pub(crate) fn count_status(&self, method: &str, route: &str, outcome: &str) -> u64 {
        self.emu
            .emulator()
            .request_counts()
            .get(&format!("{method} {route}"))
            .and_then(|c| c.by_status.get(outcome).copied())
            .unwrap_or(0)
    }

    pub(crate) fn case_count(&self) -> usize {
        self.emu.emulator().cases().len()
    }

    /// A case, created directly.
    pub(crate) async fn case(&self, reference: &str) -> String {
        self.client
            .create_case(
                &self.def,
                &new_case(&self.def, reference),
                &format!("key-{reference}"),
            )
            .await
            .unwrap()
            .case
            .id
    }

    /// A raw HTTP client with a valid token, for checks of the wire form.
    pub(crate) async fn raw_token(&self) -> String {
        let c = self.emu.emulator().config();
        let resp = reqwest::Client::new()
            .post(
                self.emu
                    .base_url()
                    .join(&format!("tenants/{}/oauth2/token", c.tenant_id))
                    .unwrap(),
            )
            .basic_auth(&c.client_id, Some(c.client_secret.expose()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let v: serde_json::Value = resp.json().await.unwrap();
        v["access_token"].as_str().unwrap().to_owned()
    }

    pub(crate) fn url(&self, path: &str) -> url::Url {
        self.emu
            .base_url()
            .join(path.trim_start_matches('/'))
            .unwrap()
    }
}

pub(crate) fn new_case(def: &str, reference: &str) -> NewCase {
    let mut c = NewCase::new(
        def,
        format!("Possible fraud ({reference})"),
        Priority::High,
        reference,
    );
    c.case_properties.default_attributes.summary =
        Some("Billing and shipping countries differ".into());
    c.case_properties
        .custom_attributes
        .insert("orderName".into(), "#1042".into());
    c.case_properties
        .custom_attributes
        .insert("totalPrice".into(), "1243.87".into());
    c
}
