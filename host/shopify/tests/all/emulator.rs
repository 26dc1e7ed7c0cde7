//! The emulator's own contract: tokens, GraphQL errors, variable checks,
//! cost extensions, user errors for invalid transitions, `@idempotent`, and
//! the `/_emulator/` endpoints.

use serde_json::{Value, json};
use shopcase_shopify::{Error, Request};
use shopcase_shopify_emulator::{self as emulator, Emulator, EmulatorConfig};
use tower::ServiceExt;

use crate::support::{SHOP, TOKEN, VERSION, env};

/// POST a raw GraphQL request; returns status and body.
async fn post(env: &crate::support::Env, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = env
        .http
        .post(env.url(&format!("/admin/api/{VERSION}/graphql.json")))
        .json(&body);
    if let Some(t) = token {
        req = req.header("X-Shopify-Access-Token", t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn run(
    env: &crate::support::Env,
    operation: &'static str,
    document: &str,
    variables: Value,
) -> Result<Value, Error> {
    env.client
        .execute(
            SHOP,
            &Request {
                operation,
                document,
                variables,
            },
        )
        .await
}

#[tokio::test]
async fn tokens_select_the_store_and_bad_ones_get_401() {
    let env = env().await;
    let q = json!({"query": "query Q($id: ID!) { order(id: $id) { id name } }", "variables": {"id": "gid://shopify/Order/5001"}});
    let (status, body) = post(&env, Some(TOKEN), q.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["order"]["name"], "#1001");
    let cost = &body["extensions"]["cost"];
    assert_eq!(cost["requestedQueryCost"], 1.0);
    assert_eq!(cost["throttleStatus"]["maximumAvailable"], 1000.0);
    assert!(
        cost["throttleStatus"]["currentlyAvailable"]
            .as_f64()
            .unwrap()
            <= 1000.0
    );

    for token in [None, Some("nope")] {
        let (status, body) = post(&env, token, q.clone()).await;
        assert_eq!(status, 401);
        assert!(
            body["errors"]
                .as_str()
                .unwrap()
                .contains("Invalid API key or access token")
        );
    }
    assert_eq!(env.running.emulator.stats().unauthorized, 2);
}

#[tokio::test]
async fn the_router_answers_without_a_socket() {
    let emu = Emulator::new(EmulatorConfig::default()).unwrap();
    let req = axum::http::Request::post("/admin/api/2026-07/graphql.json")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"query": "{ shop { name } }"}"#))
        .unwrap();
    let resp = emulator::router(emu.clone()).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 401);
    let req = axum::http::Request::get("/_emulator/stats")
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = emulator::router(emu).oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn malformed_requests_get_graphql_errors() {
    let env = env().await;
    let cases = [
        (
            json!({"query": "query { order(id: \"gid://shopify/Order/1\") { id }"}),
            "syntax error",
        ),
        (
            json!({"query": "query { shop { name } }"}),
            "Field 'shop' doesn't exist on type 'QueryRoot'",
        ),
        (
            json!({"query": "query Q($id: ID!) { order(id: $id) { id } }"}),
            "Variable $id of type ID! was provided invalid value (Expected value to not be null)",
        ),
        (
            json!({"query": "query Q($id: ID!) { order(id: $id) { id } }", "variables": {"id": "5001"}}),
            "Invalid global id '5001'",
        ),
        (
            json!({"query": "query Q($id: ID!) { order(id: $id) { id } }", "variables": {"id": "gid://shopify/Customer/1"}}),
            "Invalid global id",
        ),
        (
            json!({"query": "mutation M($input: OrderInput!) { orderUpdate(input: $input) { userErrors { message } } }",
                   "variables": {"input": {"id": "gid://shopify/Order/5001", "colour": "red"}}}),
            "Variable $input of type OrderInput! was provided invalid value for colour (Field is not defined on OrderInput)",
        ),
        (
            json!({"query": "mutation T($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { userErrors { message } } }",
                   "variables": {"id": "gid://shopify/Order/5001", "tags": "not-a-list-of-strings-but-ok"}}),
            "",
        ),
        (
            json!({"query": "mutation C($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!) { orderCancel(orderId: $orderId, reason: $reason, restock: $restock) { job { id } } }",
                   "variables": {"orderId": "gid://shopify/Order/5001", "reason": "BORED", "restock": true}}),
            "Expected \"BORED\" to be one of: CUSTOMER",
        ),
    ];
    for (body, want) in cases {
        let (status, answer) = post(&env, Some(TOKEN), body.clone()).await;
        assert_eq!(status, 200, "{body}");
        if want.is_empty() {
            // A single value where a list is expected is coerced (GraphQL).
            assert!(answer.get("errors").is_none(), "{answer}");
            continue;
        }
        let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(want), "{body}\n=> {answer}");
        assert!(answer.get("data").is_none(), "{answer}");
    }
    let (status, _) = post(&env, Some(TOKEN), json!({"nope": 1})).await;
    assert_eq!(status, 400);
    assert!(
        env.running
            .emulator
            .mutations(None, None)
            .iter()
            .all(|m| m.operation == "tagsAdd")
    );
}

#[tokio::test]
async fn invalid_transitions_answer_user_errors() {
    let env = env().await;
    let cancel = "mutation C($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, $refundMethod: OrderCancelRefundMethodInput!) { orderCancel(orderId: $orderId, reason: $reason, restock: $restock, refundMethod: $refundMethod) { job { id done } orderCancelUserErrors { field message code } } }";
    let vars = json!({"orderId": "gid://shopify/Order/5003", "reason": "CUSTOMER", "restock": false, "refundMethod": {"originalPaymentMethodsRefund": true}});
    let first = run(&env, "orderCancel", cancel, vars.clone())
        .await
        .unwrap();
    assert_eq!(first["orderCancel"]["orderCancelUserErrors"], json!([]));
    assert_eq!(first["orderCancel"]["job"]["done"], true);
    // Refunded to the original payment as asked.
    assert_eq!(
        env.running
            .emulator
            .order(SHOP, 5003)
            .unwrap()
            .financial_status,
        "REFUNDED"
    );
    let second = run(&env, "orderCancel", cancel, vars).await.unwrap();
    assert_eq!(
        second["orderCancel"]["orderCancelUserErrors"][0]["message"],
        "Order has already been cancelled"
    );

    // Releasing a hold that does not exist.
    let release = "mutation R($id: ID!, $holdIds: [ID!]) { fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) { fulfillmentOrder { id status } userErrors { field message code } } }";
    let r = run(&env, "fulfillmentOrderReleaseHold", release, json!({"id": "gid://shopify/FulfillmentOrder/6004", "holdIds": ["gid://shopify/FulfillmentHold/1"]}))
        .await
        .unwrap();
    assert_eq!(
        r["fulfillmentOrderReleaseHold"]["userErrors"][0]["code"],
        "INVALID_FULFILLMENT_HOLD"
    );

    // Approving a declined return.
    let decline = "mutation D($input: ReturnDeclineRequestInput!) { returnDeclineRequest(input: $input) { return { id status } userErrors { field message code } } }";
    let approve = "mutation A($input: ReturnApproveRequestInput!) { returnApproveRequest(input: $input) { return { id status } userErrors { field message code } } }";
    let d = run(
        &env,
        "returnDeclineRequest",
        decline,
        json!({"input": {"id": "gid://shopify/Return/8001", "declineReason": "OTHER"}}),
    )
    .await
    .unwrap();
    assert_eq!(d["returnDeclineRequest"]["return"]["status"], "DECLINED");
    let a = run(
        &env,
        "returnApproveRequest",
        approve,
        json!({"input": {"id": "gid://shopify/Return/8001"}}),
    )
    .await
    .unwrap();
    let e = &a["returnApproveRequest"]["userErrors"][0];
    assert_eq!(e["code"], "INVALID_STATE");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Only returns with status REQUESTED can be approved")
    );

    // Crediting nothing.
    let credit = "mutation S($id: ID!, $creditInput: StoreCreditAccountCreditInput!) { storeCreditAccountCredit(id: $id, creditInput: $creditInput) { storeCreditAccountTransaction { id } userErrors { field message code } } }";
    let c = run(&env, "storeCreditAccountCredit", credit, json!({"id": "gid://shopify/Customer/7001", "creditInput": {"creditAmount": {"amount": "0", "currencyCode": "EUR"}}}))
        .await
        .unwrap();
    assert_eq!(
        c["storeCreditAccountCredit"]["userErrors"][0]["code"],
        "NEGATIVE_OR_ZERO_AMOUNT"
    );

    let applied: Vec<String> = env
        .running
        .emulator
        .mutations(Some(SHOP), None)
        .into_iter()
        .map(|m| m.operation)
        .collect();
    assert_eq!(
        applied,
        vec!["orderCancel", "returnDeclineRequest"],
        "refused mutations are not logged"
    );
}

#[tokio::test]
async fn refund_create_needs_and_honours_idempotent() {
    let env = env().await;
    let doc = |key: &str| {
        format!(
            "mutation R($input: RefundInput!) {{ refundCreate(input: $input) @idempotent(key: \"{key}\") {{ refund {{ id }} userErrors {{ field message code }} }} }}"
        )
    };
    let input = |amount: &str| {
        json!({"input": {"orderId": "gid://shopify/Order/5001", "note": "n", "transactions": [{
            "orderId": "gid://shopify/Order/5001", "parentId": format!("gid://shopify/OrderTransaction/{}", sale_id(&env)),
            "amount": amount, "gateway": "shopify_payments", "kind": "REFUND"}]}})
    };
    // More than was paid: Shopify's user error, nothing applied.
    let over = run(&env, "refundCreate", &doc("k0"), input("500.00"))
        .await
        .unwrap();
    let message = over["refundCreate"]["userErrors"][0]["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("greater than the 129.90 EUR that can still be refunded"),
        "{message}"
    );

    let first = run(&env, "refundCreate", &doc("k1"), input("10.00"))
        .await
        .unwrap();
    let again = run(&env, "refundCreate", &doc("k1"), input("10.00"))
        .await
        .unwrap();
    assert_eq!(first, again, "the same key answers the first result again");
    let mismatch = run(&env, "refundCreate", &doc("k1"), input("11.00"))
        .await
        .unwrap();
    assert_eq!(
        mismatch["refundCreate"]["userErrors"][0]["code"],
        "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    );
    assert_eq!(
        env.running
            .emulator
            .order(SHOP, 5001)
            .unwrap()
            .refunds
            .len(),
        1
    );
    assert_eq!(env.applied("refundCreate").await.len(), 1);

    // Without the directive on 2026-04 and later: refused.
    let bare = "mutation R($input: RefundInput!) { refundCreate(input: $input) { refund { id } userErrors { message } } }";
    let err = run(&env, "refundCreate", bare, input("1.00"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("@idempotent directive is required"),
        "{err}"
    );
    assert!(err.is_permanent());
}

fn sale_id(env: &crate::support::Env) -> u64 {
    env.running
        .emulator
        .order(SHOP, 5001)
        .unwrap()
        .transactions
        .unwrap()[0]
        .id
}

#[tokio::test]
async fn control_endpoints_seed_reset_read_and_inject() {
    let env = env().await;
    let http = &env.http;
    let seed = json!({"shops": [{"domain": "second.myshopify.com", "tokens": ["shpat_second"], "currency": "USD",
        "customers": [{"id": 1, "tags": ["b2b"]}],
        "orders": [{"id": 10, "customer_id": 1, "total_price": "42.00", "fulfillment_orders": []}]}]});
    let r = http
        .post(env.url("/_emulator/seed"))
        .json(&seed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["shops"],
        json!(["second.myshopify.com"])
    );
    let order: Value = http
        .get(env.url("/_emulator/shops/second.myshopify.com/orders/10"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            order["currency"].as_str(),
            order["fulfillment_orders"].as_array().map(Vec::len)
        ),
        (Some("USD"), Some(0))
    );
    let customer: Value = http
        .get(env.url("/_emulator/shops/second.myshopify.com/customers/1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(customer["tags"], json!(["b2b"]));
    let missing = http
        .get(env.url("/_emulator/shops/second.myshopify.com/returns/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"]["code"],
        "not-found"
    );

    let bad = http
        .post(env.url("/_emulator/seed"))
        .body(r#"{"shops": [{"domain": "x.myshopify.com"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["code"], "bad-seed");
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing field `tokens`"),
        "{bad}"
    );
    let bad = http
        .post(env.url("/_emulator/faults"))
        .json(&json!({"kind": "meteor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    env.fault(json!({"kind": "error-500", "count": 3, "operation": "orderCancel"}))
        .await;
    let faults: Value = http
        .get(env.url("/_emulator/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["faults"][0]["count"], 3);
    http.delete(env.url("/_emulator/faults"))
        .send()
        .await
        .unwrap();
    let faults: Value = http
        .get(env.url("/_emulator/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(faults["faults"], json!([]));

    // A mutation is logged with its target, variables and time; reset clears
    // the log and the seeded extra store.
    run(&env, "tagsAdd", "mutation T($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { message } } }",
        json!({"id": "gid://shopify/Customer/7001", "tags": ["x"]}))
    .await
    .unwrap();
    let log = env.applied("tagsAdd").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["target"], "gid://shopify/Customer/7001");
    assert_eq!(log[0]["variables"]["tags"], json!(["x"]));
    assert!(log[0]["at"].as_str().unwrap().ends_with('Z'));
    let stats: Value = http
        .get(env.url("/_emulator/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["by_operation"]["tagsAdd"], 1);

    http.post(env.url("/_emulator/reset")).send().await.unwrap();
    assert!(env.applied("tagsAdd").await.is_empty());
    assert_eq!(
        env.running.emulator.customer(SHOP, 7001).unwrap().tags,
        vec!["VIP"]
    );
    assert!(
        env.running
            .emulator
            .order("second.myshopify.com", 10)
            .is_none()
    );
}
