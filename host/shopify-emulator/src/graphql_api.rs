//! The emulated `POST /admin/api/{version}/graphql.json`: token check,
//! injected faults, the cost bucket, variable checks, and dispatch to the
//! operations (`queries`, `mutations`), with the helpers they share.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::model::Shop;
use super::{
    Emulator, EmulatorConfig, FaultKind, LiveBucket, MutationRecord, State, ThrottleAnswer,
};
use super::{mutations, queries, subscriptions};
use shopcase_shopify::gid;
use shopcase_shopify::graphql::{self, Arg, Document, OpKind};
use shopcase_shopify::money::Amount;

/// What an operation produced: its payload, and the gid it changed when it
/// was an applied mutation (for the log).
pub(super) struct Handled {
    pub(super) payload: Value,
    pub(super) applied: Option<String>,
}

/// `Err`: top-level GraphQL errors (the request as a whole was wrong).
pub(super) type Outcome = Result<Handled, Vec<Value>>;

/// What a handler needs to know about the request.
pub(super) struct Ctx<'d> {
    pub(super) doc: &'d Document<'d>,
    pub(super) vars: &'d Map<String, Value>,
    pub(super) shop: String,
    pub(super) version: String,
    pub(super) now: String,
}

impl Ctx<'_> {
    /// A root-field argument, resolved.
    pub(super) fn arg(&self, name: &str) -> Value {
        self.doc
            .root_args
            .get(name)
            .map(|a| graphql::resolve(self.doc, a, self.vars))
            .unwrap_or(Value::Null)
    }

    /// An argument of a nested field, e.g. `first` of `orders`.
    pub(super) fn field_arg(&self, field: &str, name: &str) -> Value {
        self.doc
            .field_args(field)
            .and_then(|args| {
                args.get(name)
                    .map(|a| graphql::resolve(self.doc, a, self.vars))
            })
            .unwrap_or(Value::Null)
    }

    pub(super) fn first(&self, field: &str, default: usize) -> usize {
        self.field_arg(field, "first")
            .as_u64()
            .map_or(default, |n| n.min(250) as usize)
    }

    /// The error Shopify gives for a bad value inside a root argument's
    /// variable: `Variable $input of type OrderInput! was provided invalid value for note (...)`.
    pub(super) fn invalid(
        &self,
        arg: &str,
        path: &[&str],
        explanation: impl Into<String>,
    ) -> Vec<Value> {
        let explanation = explanation.into();
        let (var, ty) = match self.doc.root_args.get(arg) {
            Some(Arg::Var(v)) => {
                let ty = self
                    .doc
                    .var_defs
                    .iter()
                    .find(|(n, _, _)| n == v)
                    .map(|(_, t, _)| t.to_string())
                    .unwrap_or_default();
                (v.clone(), ty)
            }
            _ => (arg.to_string(), String::new()),
        };
        let at = if path.is_empty() {
            String::new()
        } else {
            format!(" for {}", path.join("."))
        };
        vec![json!({
            "message": format!("Variable ${var} of type {ty} was provided invalid value{at} ({explanation})"),
            "extensions": {"code": "INVALID_VARIABLE", "problems": [{"path": path, "explanation": explanation}]},
        })]
    }

    /// A gid of one of `kinds` at `path` inside root argument `arg`.
    pub(super) fn gid(
        &self,
        arg: &str,
        path: &[&str],
        kinds: &[&str],
    ) -> Result<(String, u64), Vec<Value>> {
        let root = self.arg(arg);
        let v = at(&root, path);
        let s = match v {
            Value::String(s) => s.as_str(),
            Value::Null => return Err(self.invalid(arg, path, "Expected value to not be null")),
            _ => return Err(self.invalid(arg, path, "Expected a global id")),
        };
        match gid::parse(s) {
            Some((kind, id)) if kinds.contains(&kind) => Ok((kind.to_string(), id)),
            _ => Err(vec![json!({
                "message": format!("Invalid global id '{}'", clip(s)),
                "extensions": {"code": "argumentLiteralsIncompatible", "typeName": "CoercionError"},
            })]),
        }
    }

    /// An enum value at `path` inside root argument `arg`, one of `allowed`.
    pub(super) fn enum_value(
        &self,
        arg: &str,
        path: &[&str],
        type_name: &str,
        allowed: &[&str],
    ) -> Result<Option<String>, Vec<Value>> {
        let root = self.arg(arg);
        let v = at(&root, path);
        match v {
            Value::Null => Ok(None),
            Value::String(s) if allowed.contains(&s.as_str()) => Ok(Some(s.clone())),
            other => {
                let shown = other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_string);
                Err(self.invalid(
                    arg,
                    path,
                    format!(
                        "Expected \"{}\" to be one of: {} ({type_name})",
                        clip(&shown),
                        allowed.join(", ")
                    ),
                ))
            }
        }
    }

    /// The root argument `arg` as an input object with only `allowed` keys
    /// and all of `required`.
    pub(super) fn input(
        &self,
        arg: &str,
        type_name: &str,
        allowed: &[&str],
        required: &[&str],
    ) -> Result<Map<String, Value>, Vec<Value>> {
        let Value::Object(obj) = self.arg(arg) else {
            return Err(self.invalid(arg, &[], format!("Expected value to be a {type_name}")));
        };
        check_object(&obj, type_name, allowed, required)
            .map_err(|(k, why)| self.invalid(arg, &[k.as_str()], why))?;
        Ok(obj)
    }
}

/// The value at `path` (object keys and list indexes), or `null`.
pub(super) fn at<'v>(root: &'v Value, path: &[&str]) -> &'v Value {
    path.iter()
        .try_fold(root, |v, k| match v {
            Value::Array(items) => k.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => v.get(*k),
        })
        .unwrap_or(&Value::Null)
}

pub(super) fn check_object(
    obj: &Map<String, Value>,
    type_name: &str,
    allowed: &[&str],
    required: &[&str],
) -> Result<(), (String, String)> {
    if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err((k.clone(), format!("Field is not defined on {type_name}")));
    }
    if let Some(k) = required
        .iter()
        .find(|k| obj.get(**k).is_none_or(Value::is_null))
    {
        return Err((k.to_string(), "Expected value to not be null".into()));
    }
    Ok(())
}

pub(super) fn clip(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

pub(super) fn ue(field: &[&str], message: impl Into<String>, code: Option<&str>) -> Value {
    json!({"field": field, "message": message.into(), "code": code})
}

pub(super) fn money(amount: &str, currency: &str) -> Value {
    let a = Amount::parse(amount).map_or_else(|| amount.to_string(), |a| a.to_string());
    json!({"amount": a, "currencyCode": currency})
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// An answer whose connection drops part-way: the client sees the request
/// fail without knowing whether it was applied.
fn broken_response() -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{\"data\":")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection reset",
        )),
    ];
    let mut r = Response::new(Body::from_stream(futures::stream::iter(chunks)));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

fn cost_extension(requested: f64, actual: f64, available: f64, cfg: &EmulatorConfig) -> Value {
    json!({"cost": {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": {
            "maximumAvailable": cfg.bucket.maximum_available,
            "currentlyAvailable": available.floor().max(0.0),
            "restoreRate": cfg.bucket.restore_rate,
        },
    }})
}

fn throttled_response(
    status_kind: ThrottleAnswer,
    extension: Value,
    retry_after: Duration,
) -> Response {
    let body = json!({
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
        "extensions": extension,
    });
    match status_kind {
        ThrottleAnswer::Ok => json_response(StatusCode::OK, &body),
        ThrottleAnswer::TooManyRequests => {
            let mut r = json_response(StatusCode::TOO_MANY_REQUESTS, &body);
            let secs = format!("{:.3}", retry_after.as_secs_f64());
            if let Ok(v) = HeaderValue::from_str(&secs) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
    }
}

fn valid_version(v: &str) -> bool {
    v == "unstable"
        || (v.len() == 7
            && v.as_bytes()[4] == b'-'
            && v.bytes()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit()))
}

impl LiveBucket {
    fn refill(&mut self, cfg: &EmulatorConfig, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.available =
            (self.available + elapsed * cfg.bucket.restore_rate).min(cfg.bucket.maximum_available);
        self.at = now;
    }
}

/// The GraphQL endpoint.
/// Counts a request's handling as ended when dropped.
struct Ended(Emulator);

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.state().stats.ended += 1;
    }
}

pub(super) async fn graphql(
    AxumState(emu): AxumState<Emulator>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Counted when this handling ends, however it ends (a client that
    // gives up drops this future mid-way).
    let _ended = Ended(emu.clone());
    let cfg = &emu.inner.config;
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let shop = {
        let mut st = emu.state();
        st.stats.requests += 1;
        match st.shop_for_token(&token).map(str::to_string) {
            Some(s) => s,
            None => {
                st.stats.unauthorized += 1;
                return json_response(
                    StatusCode::UNAUTHORIZED,
                    &json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
                );
            }
        }
    };
    if !valid_version(&version) {
        return json_response(StatusCode::NOT_FOUND, &json!({"errors": "Not Found"}));
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"errors": [{"message": "the body must be a JSON object {query, variables}"}]}),
            );
        }
    };
    let Some(query) = request.get("query").and_then(Value::as_str) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"errors": [{"message": "`query` is required"}]}),
        );
    };
    let vars = match request.get("variables") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"errors": [{"message": "`variables` must be an object"}]}),
            );
        }
    };
    let doc = match graphql::parse(query) {
        Ok(d) => d,
        Err(e) => {
            return json_response(
                StatusCode::OK,
                &json!({"errors": [{"message": format!("syntax error: {e}"), "extensions": {"code": "PARSE_ERROR"}}]}),
            );
        }
    };

    let fault = {
        let mut st = emu.state();
        *st.stats
            .by_operation
            .entry(doc.root_field.to_string())
            .or_default() += 1;
        let hit = st.faults.iter().position(|f| {
            f.count > 0
                && f.operation.as_deref().is_none_or(|o| o == doc.root_field)
                && f.shop.as_deref().is_none_or(|s| s == shop)
        });
        let fault = hit.map(|i| {
            let f = st.faults[i].clone();
            st.faults[i].count -= 1;
            if st.faults[i].count == 0 {
                st.faults.remove(i);
            }
            f
        });
        if fault.is_some() {
            st.stats.faults += 1;
        }
        fault
    };
    let mut reset_after = false;
    let mut deprecated = false;
    if let Some(f) = fault {
        tracing::debug!(shop, operation = doc.root_field, kind = ?f.kind, "injecting fault");
        match f.kind {
            FaultKind::Error500 => {
                return json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({"errors": "Internal Server Error"}),
                );
            }
            FaultKind::Status429 => {
                let ext = cost_extension(graphql::estimate_cost(&doc) as f64, 0.0, 0.0, cfg);
                return throttled_response(
                    ThrottleAnswer::TooManyRequests,
                    ext,
                    Duration::from_millis(f.retry_after_ms.unwrap_or(1000)),
                );
            }
            FaultKind::Throttled => {
                let ext = cost_extension(graphql::estimate_cost(&doc) as f64, 0.0, 0.0, cfg);
                return throttled_response(cfg.throttle_answer, ext, Duration::from_secs(1));
            }
            FaultKind::Reset => return broken_response(),
            FaultKind::ResetAfterApply => reset_after = true,
            FaultKind::Slow => {
                tokio::time::sleep(Duration::from_millis(f.delay_ms.unwrap_or(1000))).await
            }
            FaultKind::Deprecated => deprecated = true,
        }
    }

    let ctx = Ctx {
        doc: &doc,
        vars: &vars,
        shop,
        version,
        now: super::now(),
    };
    let mut answer = {
        let mut st = emu.state();
        execute(&mut st, cfg, &ctx, &token)
    };
    if reset_after {
        return broken_response();
    }
    if deprecated {
        answer.headers_mut().insert(
            "x-shopify-api-deprecated-reason",
            axum::http::HeaderValue::from_static(super::DEPRECATED_REASON),
        );
    }
    answer
}

fn execute(st: &mut State, cfg: &EmulatorConfig, ctx: &Ctx<'_>, token: &str) -> Response {
    let requested = graphql::estimate_cost(ctx.doc) as f64;
    let now = Instant::now();
    let bucket_key = (ctx.shop.clone(), token.to_string());
    let available = {
        let b = st.buckets.entry(bucket_key.clone()).or_insert(LiveBucket {
            available: cfg.bucket.maximum_available,
            at: now,
        });
        b.refill(cfg, now);
        if requested > b.available {
            let available = b.available;
            st.stats.throttled += 1;
            let missing = requested - available;
            let retry_after =
                Duration::from_secs_f64((missing / cfg.bucket.restore_rate).clamp(0.0, 60.0));
            return throttled_response(
                cfg.throttle_answer,
                cost_extension(requested, 0.0, available, cfg),
                retry_after,
            );
        }
        b.available -= requested;
        b.available
    };

    let problems = graphql::check_variables(ctx.doc, ctx.vars);
    let outcome = if problems.is_empty() {
        dispatch(st, ctx)
    } else {
        Err(problems
            .iter()
            .map(|p| {
                let at = if p.path.is_empty() { String::new() } else { format!(" for {}", p.path.join(".")) };
                let message = if p.type_name.is_empty() {
                    p.explanation.clone()
                } else {
                    format!("Variable ${} of type {} was provided invalid value{at} ({})", p.variable, p.type_name, p.explanation)
                };
                json!({"message": message, "extensions": {"code": "INVALID_VARIABLE", "problems": [{"path": p.path, "explanation": p.explanation}]}})
            })
            .collect())
    };

    let (body, actual) = match outcome {
        Ok(h) => {
            let actual = if ctx.doc.kind == OpKind::Mutation {
                requested
            } else {
                (1.0 + count_nodes(&h.payload) as f64).min(requested)
            };
            if let Some(target) = h.applied {
                let seq = st.mutations.len() as u64 + 1;
                st.mutations.push(MutationRecord {
                    seq,
                    shop: ctx.shop.clone(),
                    operation: ctx.doc.root_field.to_string(),
                    target,
                    variables: Value::Object(ctx.vars.clone()),
                    at: ctx.now.clone(),
                });
            }
            (json!({"data": {ctx.doc.root_field: h.payload}}), actual)
        }
        Err(errors) => (json!({"errors": errors}), 0.0),
    };
    let available = match st.buckets.get_mut(&bucket_key) {
        Some(b) => {
            b.available = (b.available + requested - actual).min(cfg.bucket.maximum_available);
            b.available
        }
        None => available,
    };
    let mut body = body;
    body["extensions"] = cost_extension(requested, actual, available, cfg);
    json_response(StatusCode::OK, &body)
}

/// The number of connection nodes in an answer (a query's actual cost).
fn count_nodes(v: &Value) -> usize {
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                if k == "nodes" {
                    v.as_array().map_or(0, Vec::len) + count_nodes(v)
                } else {
                    count_nodes(v)
                }
            })
            .sum(),
        Value::Array(a) => a.iter().map(count_nodes).sum(),
        _ => 0,
    }
}

fn dispatch(st: &mut State, ctx: &Ctx<'_>) -> Outcome {
    use OpKind::{Mutation, Query};
    match (ctx.doc.kind, ctx.doc.root_field) {
        (Query, "order") => queries::query_order(st, ctx),
        (Query, "customer") => queries::query_customer(st, ctx),
        (Query, "return") => queries::query_return(st, ctx),
        (Mutation, "tagsAdd") => mutations::tags(st, ctx, true),
        (Mutation, "tagsRemove") => mutations::tags(st, ctx, false),
        (Mutation, "orderUpdate") => mutations::order_update(st, ctx),
        (Mutation, "customerUpdate") => mutations::customer_update(st, ctx),
        (Mutation, "metafieldsSet") => mutations::metafields_set(st, ctx),
        (Mutation, "fulfillmentOrderHold") => mutations::hold(st, ctx),
        (Mutation, "fulfillmentOrderReleaseHold") => mutations::release_hold(st, ctx),
        (Mutation, "orderCancel") => mutations::order_cancel(st, ctx),
        (Mutation, "returnApproveRequest") => mutations::return_approve(st, ctx),
        (Mutation, "returnDeclineRequest") => mutations::return_decline(st, ctx),
        (Mutation, "refundCreate") => mutations::refund_create(st, ctx),
        (Mutation, "storeCreditAccountCredit") => mutations::store_credit(st, ctx),
        (Query, "webhookSubscriptions") => subscriptions::list(st, ctx),
        (Query, "currentAppInstallation") => subscriptions::app_installation(st, ctx),
        (Mutation, "webhookSubscriptionCreate") => subscriptions::create(st, ctx),
        (Mutation, "webhookSubscriptionUpdate") => subscriptions::update(st, ctx),
        (Mutation, "webhookSubscriptionDelete") => subscriptions::delete(st, ctx),
        (Mutation, "orderRiskAssessmentCreate") => mutations::risk_assessment_create(st, ctx),
        (kind, field) => {
            let type_name = if kind == Query {
                "QueryRoot"
            } else {
                "Mutation"
            };
            Err(vec![json!({
                "message": format!("Field '{field}' doesn't exist on type '{type_name}'"),
                "extensions": {"code": "undefinedField", "typeName": type_name, "fieldName": field},
            })])
        }
    }
}

/// The parts of the state one operation works on.
pub(super) struct Parts<'s> {
    pub(super) shop: &'s mut Shop,
    pub(super) next_id: &'s mut u64,
    pub(super) idempotency: &'s mut HashMap<(String, String), (Value, Value)>,
}

pub(super) fn bump(next_id: &mut u64) -> u64 {
    *next_id += 1;
    *next_id
}

pub(super) fn parts<'s>(st: &'s mut State, ctx: &Ctx<'_>) -> Result<Parts<'s>, Vec<Value>> {
    let State {
        shops,
        next_id,
        idempotency,
        ..
    } = st;
    match shops.get_mut(&ctx.shop) {
        Some(shop) => Ok(Parts {
            shop,
            next_id,
            idempotency,
        }),
        None => Err(vec![
            json!({"message": "the store was removed by a reset", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}),
        ]),
    }
}
