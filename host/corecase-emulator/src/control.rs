//! `/_emulator/`: fault injection, request counts, inspection, reset; and
//! the assembly of the whole router (which layers apply to what).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Request, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::{self, Bucket};
use super::error::ApiError;
use super::server::ResetConnection;
use super::{Emulator, RateLimit, api, lock};

/// A fault to inject: the next `count` requests matching `method` and
/// `path` get `fault`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultSpec {
    /// HTTP method; any when `None`.
    #[serde(default)]
    pub method: Option<String>,
    /// Path pattern: `*` or `{name}` matches one segment, a final `**` the rest.
    pub path: String,
    /// How many requests get the fault.
    #[serde(default = "one")]
    pub count: u32,
    /// What they get.
    pub fault: Fault,
    /// For `status` and `reset`: handle the request first (the change is
    /// made, the answer lost).
    #[serde(default)]
    pub after_apply: bool,
}

fn one() -> u32 {
    1
}

impl FaultSpec {
    /// One request of `method` to `path` gets `fault`.
    pub fn new(method: &str, path: &str, fault: Fault) -> FaultSpec {
        FaultSpec {
            method: Some(method.into()),
            path: path.into(),
            count: 1,
            fault,
            after_apply: false,
        }
    }

    /// The next `count` matching requests get it.
    pub fn times(mut self, count: u32) -> FaultSpec {
        self.count = count;
        self
    }

    /// Handle the request, then answer with the fault.
    pub fn after_apply(mut self) -> FaultSpec {
        self.after_apply = true;
        self
    }
}

/// What a faulted request gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum Fault {
    /// This HTTP status (400–599) with a service error body, and
    /// `Retry-After` when given (seconds; fractions allowed).
    Status {
        /// The status.
        status: u16,
        /// `Retry-After`, in seconds.
        #[serde(default)]
        retry_after: Option<f64>,
    },
    /// Handle the request, then wait before answering.
    Slow {
        /// The wait, in milliseconds.
        delay_ms: u64,
    },
    /// Close the connection without an HTTP answer.
    Reset,
}

/// Requests seen on one route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteCount {
    /// Requests that arrived.
    pub total: u64,
    /// Their outcomes: `"200"`, `"401"`, `"reset"`, `"client-gone"`…
    pub by_status: BTreeMap<String, u64>,
}

#[derive(Debug)]
struct ActiveFault {
    id: u64,
    method: Option<Method>,
    pattern: Vec<String>,
    remaining: u32,
    spec: FaultSpec,
}

/// Faults, counts and the rate limiter.
#[derive(Debug)]
pub(crate) struct Control {
    faults: Vec<ActiveFault>,
    next_id: u64,
    counts: BTreeMap<String, RouteCount>,
    bucket: Option<Bucket>,
}

impl Control {
    pub(crate) fn new(limit: Option<RateLimit>) -> Control {
        Control {
            faults: Vec::new(),
            next_id: 1,
            counts: BTreeMap::new(),
            bucket: limit.map(|l| Bucket::new(l.requests_per_second, l.burst)),
        }
    }

    pub(crate) fn reset(&mut self) {
        self.faults.clear();
        self.counts.clear();
    }

    pub(crate) fn add_fault(&mut self, spec: FaultSpec) -> Result<u64, String> {
        let method = match spec.method.as_deref() {
            None | Some("*") => None,
            Some(m) => Some(
                Method::from_bytes(m.to_ascii_uppercase().as_bytes())
                    .map_err(|_| format!("method `{m}` is not an HTTP method"))?,
            ),
        };
        if !spec.path.starts_with('/') {
            return Err(format!("path `{}` must start with `/`", spec.path));
        }
        if spec.count == 0 || spec.count > 10_000 {
            return Err("count must be from 1 to 10000".into());
        }
        match &spec.fault {
            Fault::Status {
                status,
                retry_after,
            } => {
                if !(400..=599).contains(status) {
                    return Err(format!("status {status} is not from 400 to 599"));
                }
                if retry_after.is_some_and(|r| !r.is_finite() || !(0.0..=3600.0).contains(&r)) {
                    return Err("retryAfter must be from 0 to 3600 seconds".into());
                }
            }
            Fault::Slow { delay_ms } if *delay_ms > 120_000 => {
                return Err("delayMs must be at most 120000".into());
            }
            Fault::Slow { .. } | Fault::Reset => {}
        }
        let pattern: Vec<String> = segments(&spec.path).map(str::to_owned).collect();
        if pattern.iter().rev().skip(1).any(|s| s == "**") {
            return Err("`**` may only end a path pattern".into());
        }
        let id = self.next_id;
        self.next_id += 1;
        self.faults.push(ActiveFault {
            id,
            method,
            pattern,
            remaining: spec.count,
            spec,
        });
        Ok(id)
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// The first pending fault matching the request, consumed.
    fn take_fault(&mut self, method: &Method, path: &str) -> Option<(Fault, bool)> {
        let index = self.faults.iter().position(|f| {
            f.method.as_ref().is_none_or(|m| m == method) && matches(&f.pattern, path)
        })?;
        let f = &mut self.faults[index];
        f.remaining -= 1;
        let hit = (f.spec.fault.clone(), f.spec.after_apply);
        if f.remaining == 0 {
            self.faults.remove(index);
        }
        Some(hit)
    }

    pub(crate) fn set_rate_limit(&mut self, limit: Option<RateLimit>) {
        self.bucket = limit.map(|l| Bucket::new(l.requests_per_second, l.burst));
    }

    pub(crate) fn take_rate_token(&mut self) -> Result<(), Duration> {
        self.bucket.as_mut().map_or(Ok(()), Bucket::take)
    }

    pub(crate) fn counts(&self) -> &BTreeMap<String, RouteCount> {
        &self.counts
    }

    fn arrived(&mut self, key: &str) {
        self.counts.entry(key.to_owned()).or_default().total += 1;
    }

    fn finished(&mut self, key: &str, outcome: &str) {
        *self
            .counts
            .entry(key.to_owned())
            .or_default()
            .by_status
            .entry(outcome.to_owned())
            .or_default() += 1;
    }

    fn pending(&self) -> Vec<Value> {
        self.faults
            .iter()
            .map(|f| json!({"id": f.id, "remaining": f.remaining, "spec": f.spec}))
            .collect()
    }
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// Whether `path` matches `pattern` (`*`/`{name}`: one segment; final `**`:
/// the rest, possibly nothing).
fn matches(pattern: &[String], path: &str) -> bool {
    let mut parts = segments(path);
    for p in pattern {
        if p == "**" {
            return true;
        }
        match parts.next() {
            Some(s) if p == "*" || (p.starts_with('{') && p.ends_with('}')) || p == s => {}
            _ => return false,
        }
    }
    parts.next().is_none()
}

// ---------------------------------------------------------------- middleware

/// Records "client-gone" when the request's future is dropped before an
/// answer (the client hung up, e.g. during a slow fault).
struct Pending<'a> {
    emu: &'a Emulator,
    key: &'a str,
    done: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.done {
            lock(&self.emu.control).finished(self.key, "client-gone");
        }
    }
}

async fn count(State(emu): State<Arc<Emulator>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_owned(), |m| m.as_str().to_owned());
    let key = format!("{} {route}", req.method());
    lock(&emu.control).arrived(&key);
    let mut pending = Pending {
        emu: &emu,
        key: &key,
        done: false,
    };
    let resp = next.run(req).await;
    pending.done = true;
    let outcome = if resp.extensions().get::<ResetConnection>().is_some() {
        "reset".to_owned()
    } else {
        resp.status().as_u16().to_string()
    };
    lock(&emu.control).finished(&key, &outcome);
    resp
}

async fn faults(State(emu): State<Arc<Emulator>>, req: Request, next: Next) -> Response {
    let hit = lock(&emu.control).take_fault(req.method(), req.uri().path());
    let Some((fault, after_apply)) = hit else {
        return next.run(req).await;
    };
    let path = req.uri().path().to_owned();
    tracing::debug!(%path, ?fault, after_apply, "Core Case emulator: injecting a fault");
    match fault {
        Fault::Slow { delay_ms } => {
            let resp = next.run(req).await;
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            resp
        }
        Fault::Status {
            status,
            retry_after,
        } => {
            if after_apply {
                drop(next.run(req).await);
            }
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut resp = ApiError::new(status, "InjectedFault", "fault injected by the emulator")
                .reply(&path)
                .into_response();
            if let Some(secs) = retry_after {
                let text = if secs.fract() == 0.0 {
                    format!("{secs:.0}")
                } else {
                    format!("{secs:.3}")
                };
                if let Ok(v) = HeaderValue::from_str(&text) {
                    resp.headers_mut().insert(RETRY_AFTER, v);
                }
            }
            resp
        }
        Fault::Reset => {
            if after_apply {
                drop(next.run(req).await);
            }
            // The server turns this marker into a dropped connection; under
            // another server it stays a plain 500.
            let mut resp = ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InjectedFault",
                "connection reset requested (only emulator::serve can drop the connection)",
            )
            .reply(&path)
            .into_response();
            resp.extensions_mut().insert(ResetConnection);
            resp
        }
    }
}

// ---------------------------------------------------------------- routes

pub(crate) fn router(emu: Arc<Emulator>) -> Router {
    let body_limit = emu
        .config
        .max_attachment_bytes
        .saturating_mul(4)
        .saturating_add(1 << 20);
    // Layers added later run first: rate limit, then the bearer check.
    let api = api::routes()
        .route_layer(from_fn_with_state(emu.clone(), auth::require_token))
        .route_layer(from_fn_with_state(emu.clone(), auth::rate_limit));
    // Counted and faultable: the API and the token endpoint (only routes
    // that exist when `layer` is called get the layer).
    let served = Router::new()
        .merge(api)
        .route("/tenants/{tenant}/oauth2/token", post(auth::token))
        .layer(from_fn_with_state(emu.clone(), faults))
        .layer(from_fn_with_state(emu.clone(), count));
    let control = Router::new()
        .route("/_emulator", get(index))
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/expire-tokens", post(expire_tokens))
        .route(
            "/_emulator/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route("/_emulator/cases", get(cases))
        .route("/_emulator/cases/{caseId}", get(case).delete(delete_case))
        .route("/_emulator/rate-limit", put(rate_limit));
    served
        .merge(control)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(emu)
}

async fn not_found(req: Request) -> Response {
    let path = req.uri().path().to_owned();
    ApiError::not_found(
        "NotFound",
        format!("no resource at {} {path}", req.method()),
    )
    .reply(&path)
    .into_response()
}

async fn method_not_allowed(req: Request) -> Response {
    let path = req.uri().path().to_owned();
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("{} is not allowed on {path}", req.method()),
    )
    .reply(&path)
    .into_response()
}

async fn index() -> Json<Value> {
    Json(json!({
        "emulator": "OpenText Core Case (shopcase emulator) — never a real tenant",
        "endpoints": {
            "POST /_emulator/reset": "forget cases, idempotency records, faults and request counts",
            "POST /_emulator/expire-tokens": "every issued token answers 401 from now on",
            "POST /_emulator/faults": "inject a fault: {method?, path, count?, fault:{kind:status|slow|reset,…}, afterApply?}",
            "GET /_emulator/faults": "pending faults",
            "DELETE /_emulator/faults": "drop pending faults",
            "GET /_emulator/requests": "request counts per route and outcome",
            "DELETE /_emulator/requests": "reset request counts",
            "GET /_emulator/cases": "every case with comments, attachments and history",
            "GET /_emulator/cases/{caseId}": "one case",
            "DELETE /_emulator/cases/{caseId}": "delete a case as a tenant administrator would (later requests about it answer 404)",
            "PUT /_emulator/rate-limit": "{requestsPerSecond, burst} or null to turn rate limiting off",
        }
    }))
}

async fn reset(State(emu): State<Arc<Emulator>>) -> StatusCode {
    emu.reset();
    StatusCode::NO_CONTENT
}

async fn expire_tokens(State(emu): State<Arc<Emulator>>) -> StatusCode {
    emu.expire_tokens();
    StatusCode::NO_CONTENT
}

fn control_error(path: &str, message: String) -> Response {
    ApiError::invalid(message).reply(path).into_response()
}

async fn add_fault(State(emu): State<Arc<Emulator>>, body: Bytes) -> Response {
    const PATH: &str = "/_emulator/faults";
    let spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => return control_error(PATH, format!("not a fault specification: {e}")),
    };
    match lock(&emu.control).add_fault(spec) {
        Ok(id) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
        Err(e) => control_error(PATH, e),
    }
}

async fn list_faults(State(emu): State<Arc<Emulator>>) -> Json<Value> {
    Json(json!({"faults": lock(&emu.control).pending()}))
}

async fn clear_faults(State(emu): State<Arc<Emulator>>) -> StatusCode {
    emu.clear_faults();
    StatusCode::NO_CONTENT
}

async fn requests(State(emu): State<Arc<Emulator>>) -> Json<Value> {
    Json(json!({"routes": emu.request_counts()}))
}

async fn clear_requests(State(emu): State<Arc<Emulator>>) -> StatusCode {
    lock(&emu.control).counts.clear();
    StatusCode::NO_CONTENT
}

async fn cases(State(emu): State<Arc<Emulator>>) -> Json<Value> {
    Json(json!({"cases": emu.cases()}))
}

async fn case(State(emu): State<Arc<Emulator>>, Path(case_id): Path<String>) -> Response {
    match emu.case(&case_id) {
        Some(c) => Json(c).into_response(),
        None => {
            let path = format!("/_emulator/cases/{case_id}");
            ApiError::not_found("CaseNotFound", format!("no case `{case_id}`"))
                .reply(&path)
                .into_response()
        }
    }
}

async fn delete_case(State(emu): State<Arc<Emulator>>, Path(case_id): Path<String>) -> Response {
    if emu.delete_case(&case_id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        let path = format!("/_emulator/cases/{case_id}");
        ApiError::not_found("CaseNotFound", format!("no case `{case_id}`"))
            .reply(&path)
            .into_response()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RateLimitBody {
    requests_per_second: f64,
    burst: u32,
}

async fn rate_limit(State(emu): State<Arc<Emulator>>, body: Bytes) -> Response {
    const PATH: &str = "/_emulator/rate-limit";
    let limit: Option<RateLimitBody> = match serde_json::from_slice(&body) {
        Ok(l) => l,
        Err(e) => {
            return control_error(
                PATH,
                format!("expected {{requestsPerSecond, burst}} or null: {e}"),
            );
        }
    };
    let limit = limit.map(|l| RateLimit {
        requests_per_second: l.requests_per_second,
        burst: l.burst,
    });
    if let Some(l) = limit
        && (!l.requests_per_second.is_finite() || l.requests_per_second <= 0.0 || l.burst == 0)
    {
        return control_error(PATH, "requestsPerSecond must be > 0 and burst >= 1".into());
    }
    emu.set_rate_limit(limit);
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(p: &str) -> Vec<String> {
        segments(p).map(str::to_owned).collect()
    }

    #[test]
    fn path_patterns() {
        let cases = pat("/api/v1/case-definitions/*/cases");
        assert!(matches(&cases, "/api/v1/case-definitions/abc/cases"));
        assert!(!matches(&cases, "/api/v1/case-definitions/abc/cases/x"));
        assert!(!matches(&cases, "/api/v1/case-definitions/cases"));
        let template = pat("/api/v1/case-definitions/{defId}/cases/{caseId}/comments");
        assert!(matches(
            &template,
            "/api/v1/case-definitions/d/cases/c/comments"
        ));
        let rest = pat("/api/v1/**");
        assert!(matches(&rest, "/api/v1"));
        assert!(matches(&rest, "/api/v1/case-definitions/d/cases"));
        assert!(!matches(&rest, "/tenants/t/oauth2/token"));
    }

    #[test]
    fn faults_are_consumed_in_order() {
        let mut c = Control::new(None);
        c.add_fault(FaultSpec::new("POST", "/a/*", Fault::Reset).times(2))
            .unwrap();
        c.add_fault(FaultSpec::new(
            "POST",
            "/a/*",
            Fault::Status {
                status: 503,
                retry_after: None,
            },
        ))
        .unwrap();
        assert_eq!(c.take_fault(&Method::GET, "/a/b"), None);
        assert_eq!(
            c.take_fault(&Method::POST, "/a/b"),
            Some((Fault::Reset, false))
        );
        assert_eq!(
            c.take_fault(&Method::POST, "/a/b"),
            Some((Fault::Reset, false))
        );
        assert!(matches!(
            c.take_fault(&Method::POST, "/a/b"),
            Some((Fault::Status { status: 503, .. }, false))
        ));
        assert_eq!(c.take_fault(&Method::POST, "/a/b"), None);
    }

    #[test]
    fn bad_fault_specs_are_refused() {
        let mut c = Control::new(None);
        assert!(
            c.add_fault(FaultSpec::new("POST", "a", Fault::Reset))
                .is_err()
        );
        assert!(
            c.add_fault(FaultSpec::new(
                "POST",
                "/a",
                Fault::Status {
                    status: 200,
                    retry_after: None
                }
            ))
            .is_err()
        );
        assert!(
            c.add_fault(FaultSpec::new("POST", "/**/a", Fault::Reset))
                .is_err()
        );
        assert!(
            c.add_fault(FaultSpec::new("POST", "/a", Fault::Reset).times(0))
                .is_err()
        );
    }

    #[test]
    fn fault_json_form() {
        let spec: FaultSpec = serde_json::from_str(
            r#"{"method":"POST","path":"/x","count":2,"fault":{"kind":"status","status":429,"retryAfter":0.5},"afterApply":true}"#,
        )
        .unwrap();
        assert_eq!(
            spec.fault,
            Fault::Status {
                status: 429,
                retry_after: Some(0.5)
            }
        );
        assert!(spec.after_apply);
        let slow: Fault = serde_json::from_str(r#"{"kind":"slow","delayMs":20}"#).unwrap();
        assert_eq!(slow, Fault::Slow { delay_ms: 20 });
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"slow","delay":20}"#).is_err());
    }
}
