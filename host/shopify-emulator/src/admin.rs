//! The `/_emulator/` endpoints: reset, seed, the mutation log, object
//! read-outs, fault injection and counters. Errors answer
//! `{"error": {"code": "...", "message": "..."}}` with a stable code.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{Emulator, Fault, Seed};

/// An error answer of the admin endpoints.
#[derive(Debug)]
pub(super) struct AdminError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}

fn not_found(what: String) -> AdminError {
    AdminError {
        status: StatusCode::NOT_FOUND,
        code: "not-found",
        message: format!("{what} does not exist"),
    }
}

fn bad(code: &'static str, message: String) -> AdminError {
    AdminError {
        status: StatusCode::BAD_REQUEST,
        code,
        message,
    }
}

pub(super) async fn reset(State(emu): State<Emulator>) -> Json<serde_json::Value> {
    emu.reset();
    Json(json!({"reset": true}))
}

pub(super) async fn seed(
    State(emu): State<Emulator>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, AdminError> {
    // The seed's own mistakes are the caller's to see: the message names them.
    let seed: Seed = serde_json::from_slice(&body)
        .map_err(|e| bad("bad-seed", format!("the seed is not valid: {e}")))?;
    let shops = emu.seed(seed).map_err(|e| bad("bad-seed", e))?;
    Ok(Json(json!({"shops": shops})))
}

#[derive(Debug, Deserialize)]
pub(super) struct MutationFilter {
    shop: Option<String>,
    operation: Option<String>,
}

pub(super) async fn mutations(
    State(emu): State<Emulator>,
    Query(f): Query<MutationFilter>,
) -> Json<serde_json::Value> {
    let list = emu.mutations(f.shop.as_deref(), f.operation.as_deref());
    Json(json!({"mutations": list}))
}

pub(super) async fn add_fault(
    State(emu): State<Emulator>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, AdminError> {
    let fault: Fault = serde_json::from_slice(&body)
        .map_err(|e| bad("bad-fault", format!("the fault is not valid: {e}")))?;
    if fault.count == 0 || fault.count > 10_000 {
        return Err(bad("bad-fault", "count must be 1-10000".into()));
    }
    if fault.delay_ms.is_some_and(|d| d > 120_000) {
        return Err(bad("bad-fault", "delay_ms must be at most 120000".into()));
    }
    emu.inject(fault);
    Ok(Json(json!({"queued": true})))
}

pub(super) async fn list_faults(State(emu): State<Emulator>) -> Json<serde_json::Value> {
    Json(json!({"faults": emu.state().faults.clone()}))
}

pub(super) async fn clear_faults(State(emu): State<Emulator>) -> Json<serde_json::Value> {
    emu.state().faults.clear();
    Json(json!({"faults": []}))
}

pub(super) async fn stats(State(emu): State<Emulator>) -> Json<serde_json::Value> {
    Json(json!(emu.stats()))
}

pub(super) async fn order(
    State(emu): State<Emulator>,
    Path((shop, id)): Path<(String, u64)>,
) -> Result<Json<serde_json::Value>, AdminError> {
    emu.order(&shop, id)
        .map(|o| Json(json!(o)))
        .ok_or_else(|| not_found(format!("order {id} of {shop}")))
}

pub(super) async fn customer(
    State(emu): State<Emulator>,
    Path((shop, id)): Path<(String, u64)>,
) -> Result<Json<serde_json::Value>, AdminError> {
    emu.customer(&shop, id)
        .map(|c| Json(json!(c)))
        .ok_or_else(|| not_found(format!("customer {id} of {shop}")))
}

pub(super) async fn return_(
    State(emu): State<Emulator>,
    Path((shop, id)): Path<(String, u64)>,
) -> Result<Json<serde_json::Value>, AdminError> {
    emu.return_(&shop, id)
        .map(|r| Json(json!(r)))
        .ok_or_else(|| not_found(format!("return {id} of {shop}")))
}
