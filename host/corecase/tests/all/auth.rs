//! Tokens: acquisition, caching, refresh before expiry, expiry mid-run,
//! bad credentials, the gateway's `fault` body.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use shopcase_corecase::client::dto::CaseDataUpdate;
use shopcase_corecase::{CoreCaseClient, Error, ErrorClass};
use shopcase_corecase_emulator::{ClientSeed, EmulatorConfig, Fault, FaultSpec};
use shopcase_net::Secret;

use crate::support::{TOKEN, fast, start, start_with};

#[tokio::test]
async fn one_token_serves_many_calls() {
    let env = start().await;
    for _ in 0..3 {
        env.client.list_case_definitions().await.unwrap();
    }
    assert_eq!(env.emu.emulator().tokens_issued(), 1);
    assert_eq!(env.count("POST", TOKEN), 1);
}

#[tokio::test]
async fn concurrent_callers_share_one_token_fetch() {
    let env = start().await;
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let c = env.client.clone();
            tokio::spawn(async move { c.list_case_definitions().await.map(|d| d.len()) })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), 9);
    }
    assert_eq!(
        env.emu.emulator().tokens_issued(),
        1,
        "no stampede on the token endpoint"
    );
}

#[tokio::test]
async fn token_is_refreshed_before_it_expires() {
    // A 2 s token is refreshed half-way (the 60 s margin is capped at half
    // the lifetime), so the second call fetches a new one without a 401.
    let config = EmulatorConfig {
        token_ttl_secs: 2,
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |s| s).await;
    // The client's clock is moved by hand: no waiting.
    let start = tokio::time::Instant::now();
    let offset = Arc::new(AtomicU64::new(0));
    let read = offset.clone();
    let client = CoreCaseClient::with_token_clock(
        fast(env.emu.client_settings()),
        Arc::new(move || start + Duration::from_millis(read.load(Ordering::SeqCst))),
    )
    .unwrap();
    client.list_case_definitions().await.unwrap();
    offset.store(900, Ordering::SeqCst);
    client.list_case_definitions().await.unwrap();
    assert_eq!(env.emu.emulator().tokens_issued(), 1, "still fresh: reused");
    offset.store(1_100, Ordering::SeqCst);
    client.list_case_definitions().await.unwrap();
    assert_eq!(
        env.emu.emulator().tokens_issued(),
        2,
        "past half-way: refreshed"
    );
    assert_eq!(
        env.count_status("GET", "/api/v1/case-definitions", "401"),
        0,
        "refreshed before expiry, not after a 401"
    );
}

#[tokio::test]
async fn token_expiry_mid_run_refreshes_once_and_retries() {
    let env = start().await;
    let id = env.case("shop:order:1:fraud").await;
    env.emu.emulator().expire_tokens();
    let case = env.client.get_case(&env.def, &id).await.unwrap();
    assert_eq!(case.id, id);
    let route = "/api/v1/case-definitions/{defId}/cases/{caseId}";
    assert_eq!(env.count_status("GET", route, "401"), 1);
    assert_eq!(env.count_status("GET", route, "200"), 1);
    assert_eq!(env.emu.emulator().tokens_issued(), 2);
}

#[tokio::test]
async fn a_401_after_a_refresh_is_an_auth_error() {
    let env = start().await;
    env.client.list_case_definitions().await.unwrap();
    // Two 401s in a row: the first costs one refresh and one retry, the
    // second is final.
    env.emu
        .emulator()
        .inject_fault(
            FaultSpec::new(
                "GET",
                "/api/v1/case-definitions",
                Fault::Status {
                    status: 401,
                    retry_after: None,
                },
            )
            .times(2),
        )
        .unwrap();
    let err = env.client.list_case_definitions().await.unwrap_err();
    assert!(matches!(err, Error::Auth { status: 401, .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Auth);
    assert_eq!(
        env.count("GET", "/api/v1/case-definitions"),
        3,
        "one success, then a try and one retry after the refresh"
    );
    assert_eq!(env.emu.emulator().tokens_issued(), 2);
}

#[tokio::test]
async fn bad_credentials_are_an_auth_error_not_retried() {
    let env = start().await;
    let bad = env.client_with(|mut s| {
        s.client_secret = Secret::new("wrong");
        s
    });
    let err = bad.list_case_definitions().await.unwrap_err();
    match &err {
        Error::Auth { status, code, .. } => {
            assert_eq!(*status, 401);
            assert_eq!(code, "oauth.v2.InvalidClientIdentifier");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(env.count("POST", TOKEN), 1);
    assert_eq!(env.count("GET", "/api/v1/case-definitions"), 0);
    assert!(
        !format!("{err} {err:?} {bad:?}").contains("wrong"),
        "the secret must not print"
    );
}

#[tokio::test]
async fn gateway_fault_body_and_json_token_variant() {
    let env = start().await;
    let http = reqwest::Client::new();
    let resp = http
        .get(env.url("/api/v1/case-definitions"))
        .bearer_auth("forged")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["fault"]["detail"]["errorcode"],
        "oauth.v2.InvalidAccessToken"
    );
    assert_eq!(body["fault"]["faultstring"], "Invalid access token");

    let c = env.emu.emulator().config();
    let resp = http
        .post(env.url("/tenants/shopcase-dev/oauth2/token"))
        .json(&serde_json::json!({"client_id": c.client_id, "client_secret": c.client_secret.expose(), "grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let token: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 900);
    let ok = http
        .get(env.url("/api/v1/case-definitions"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn wrong_tenant_is_refused() {
    let env = start().await;
    let other = env.client_with(|mut s| {
        s.tenant_id = "someone-else".into();
        s
    });
    let err = other.list_case_definitions().await.unwrap_err();
    assert!(matches!(err, Error::Auth { status: 404, .. }), "{err:?}");
}

#[tokio::test]
async fn debug_output_shows_no_token_or_secret() {
    let env = start().await;
    env.client.list_case_definitions().await.unwrap();
    let printed = format!("{:?}", env.client);
    assert!(!printed.contains("shopcase-dev-secret"), "{printed}");
    assert!(
        !printed.contains("emu-"),
        "the access token must not print: {printed}"
    );
}

#[tokio::test]
async fn another_client_acts_under_its_own_id() {
    let config = EmulatorConfig {
        other_clients: vec![ClientSeed::new("analyst-alice", "alice-secret")],
        ..EmulatorConfig::default()
    };
    let env = start_with(config, |s| s).await;
    let case = env.case("other-client-1").await;
    let alice = CoreCaseClient::new(env.emu.client_settings_as("analyst-alice").unwrap()).unwrap();
    let mut update = CaseDataUpdate::default();
    update
        .custom_attributes
        .insert("note".into(), "checked by phone".into());
    alice
        .update_case_data(&env.def, &case, &update, None)
        .await
        .unwrap();
    let history = env.client.history(&env.def, &case).await.unwrap();
    let note = history
        .iter()
        .find(|h| h.field == "customAttributes.note")
        .unwrap();
    assert_eq!(note.actor, "analyst-alice");
    let read = env.client.get_case(&env.def, &case).await.unwrap();
    assert_eq!(
        read.case_properties
            .default_attributes
            .created_by
            .as_deref(),
        Some("shopcase-dev")
    );

    // Its id with another client's secret is refused.
    let mut s = env.emu.client_settings_as("analyst-alice").unwrap();
    s.client_secret = Secret::new("shopcase-dev-secret");
    let err = CoreCaseClient::new(s)
        .unwrap()
        .list_case_definitions()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Auth { status: 401, .. }), "{err:?}");
    assert!(env.emu.client_settings_as("analyst-bob").is_none());
}
