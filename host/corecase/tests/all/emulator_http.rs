//! The emulator's own HTTP surface: `/_emulator/`, error bodies, rate
//! limiting, validation messages.

use serde_json::{Value, json};
use shopcase_corecase_emulator::RateLimit;

use crate::support::{CREATE, start};

#[tokio::test]
async fn control_endpoints_over_http() {
    let env = start().await;
    let http = reqwest::Client::new();
    let index: Value = http
        .get(env.url("/_emulator"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(index["endpoints"]["POST /_emulator/faults"].is_string());

    // Inject a fault over HTTP; the client absorbs it.
    let fault = json!({"method": "POST", "path": "/api/v1/case-definitions/{defId}/cases", "fault": {"kind": "status", "status": 500}});
    let resp = http
        .post(env.url("/_emulator/faults"))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let pending: Value = http
        .get(env.url("/_emulator/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pending["faults"].as_array().unwrap().len(), 1);
    let id = env.case("http-1").await;

    let counts: Value = http
        .get(env.url("/_emulator/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let create = &counts["routes"][format!("POST {CREATE}")];
    assert_eq!(create["total"], 2);
    assert_eq!(create["byStatus"]["500"], 1);
    assert_eq!(create["byStatus"]["201"], 1);

    let one: Value = http
        .get(env.url(&format!("/_emulator/cases/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["definitionName"], "fraud-investigation");
    assert_eq!(one["history"][0]["to"], "NEW");
    let all: Value = http
        .get(env.url("/_emulator/cases"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["cases"].as_array().unwrap().len(), 1);

    let bad = http
        .post(env.url("/_emulator/faults"))
        .json(&json!({"path": "x", "fault": {"kind": "reset"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("must start with `/`"),
        "{body}"
    );

    assert_eq!(
        http.post(env.url("/_emulator/reset"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(env.case_count(), 0);
    assert_eq!(env.count("POST", CREATE), 0);
    // Tokens survive a reset.
    env.client.list_case_definitions().await.unwrap();
    assert_eq!(env.emu.emulator().tokens_issued(), 1);
}

#[tokio::test]
async fn errors_have_the_service_shape() {
    let env = start().await;
    let http = reqwest::Client::new();
    let token = env.raw_token().await;
    let url = env.url(&format!("/api/v1/case-definitions/{}/cases", env.def));

    let resp = http
        .post(url.clone())
        .bearer_auth(&token)
        .json(&json!({"caseProperties": {"defaultAttributes": {}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    for key in ["status", "exception", "message", "path", "timestamp"] {
        assert!(body.get(key).is_some(), "missing {key}: {body}");
    }
    assert_eq!(body["status"], 400);
    assert_eq!(body["path"], url.path());
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("caseTitle is required"),
        "{body}"
    );

    let resp = http
        .post(url.clone())
        .bearer_auth(&token)
        .json(
            &json!({"caseProperties": {"defaultAttributes": {"caseTitle": "t", "colour": "red"}}}),
        )
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`"),
        "{body}"
    );

    let resp = http
        .post(url.clone())
        .bearer_auth(&token)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["exception"],
        "InvalidRequestBody"
    );

    let resp = http
        .get(format!("{url}?itemsPerPage=5"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(
        resp.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("unknown query parameter `itemsPerPage`")
    );

    // An unencoded `+0000` in updatedSince is tolerated.
    let resp = http
        .get(format!("{url}?updatedSince=2026-01-01T00:00:00.000+0000"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let resp = http.get(env.url("/api/v2/nothing")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<Value>().await.unwrap()["exception"], "NotFound");

    let resp = http.delete(url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["exception"],
        "MethodNotAllowed"
    );
}

#[tokio::test]
async fn rate_limiting_answers_429_with_retry_after() {
    let env = start().await;
    env.client.list_case_definitions().await.unwrap();
    env.emu.emulator().set_rate_limit(Some(RateLimit {
        requests_per_second: 1.0,
        burst: 1,
    }));
    let token = env.raw_token().await;
    let http = reqwest::Client::new();
    let url = env.url("/api/v1/case-definitions");
    let first = http
        .get(url.clone())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let second = http
        .get(url.clone())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 429);
    assert_eq!(second.headers()["retry-after"], "1");
    // The client gets through (after waiting `Retry-After` if the bucket is
    // still empty; that wait is tested deterministically in `retries`).
    env.client.list_case_definitions().await.unwrap();
    env.emu.emulator().set_rate_limit(None);
}

#[tokio::test]
async fn a_reset_fault_closes_the_connection_without_an_answer() {
    let env = start().await;
    let fault = json!({"path": "/api/v1/case-definitions", "fault": {"kind": "reset"}});
    assert_eq!(
        reqwest::Client::new()
            .post(env.url("/_emulator/faults"))
            .json(&fault)
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    let token = env.raw_token().await;
    let err = reqwest::Client::new()
        .get(env.url("/api/v1/case-definitions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.is_request() && !err.is_status(),
        "a transport error, not an HTTP answer: {err:?}"
    );
    // The next request is served normally.
    let ok = reqwest::Client::new()
        .get(env.url("/api/v1/case-definitions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn a_case_deleted_by_an_administrator_answers_404_everywhere() {
    let env = start().await;
    let http = reqwest::Client::new();
    let id = env.case("deleted-1").await;
    let other = env.case("kept-1").await;
    let resp = http
        .delete(env.url(&format!("/_emulator/cases/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);

    // The API no longer knows it: reads and writes answer 404.
    let err = env.client.get_case(&env.def, &id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = env.client.list_comments(&env.def, &id).await.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = env
        .client
        .update_case_data(&env.def, &id, &Default::default(), None)
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    // The other case is untouched.
    assert!(env.client.get_case(&env.def, &other).await.is_ok());

    // Deleting it twice: 404 in the service error shape.
    let resp = http
        .delete(env.url(&format!("/_emulator/cases/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["exception"], "CaseNotFound");
}
