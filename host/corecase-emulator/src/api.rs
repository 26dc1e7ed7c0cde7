//! The `/api/v1` handlers: read the request, validate it into the model's
//! inputs, and apply it under the lock with the `Idempotency-Key` rules.
//!
//! Request bodies are parsed into this module's own types, written from the
//! spec independently of the client's, so the tests compare two readings of
//! the spec rather than one type with itself.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Request, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, HOST};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use bytes::Bytes;
use jiff::Timestamp;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use shopcase_contract::action::{CaseStatus, Priority};

use super::error::{ApiError, Reply};
use super::model::{
    CaseDataInput, Change, FileInput, ListQuery, Lookup, Model, NewCaseInput, Outcome, StatusInput,
    TaskInput, TaskKind,
};
use super::{Emulator, lock};
use shopcase_corecase::api_time;

/// Header set on a replayed answer.
const REPLAYED: &str = "idempotent-replayed";

/// The authenticated client, set by the bearer check.
#[derive(Debug, Clone)]
pub(crate) struct Caller(pub(crate) String);

pub(crate) fn routes() -> Router<Arc<Emulator>> {
    // Full paths rather than `nest`: a nested handler sees its URI without
    // the prefix, and error bodies must name the path as requested.
    const CASE: &str = "/api/v1/case-definitions/{defId}/cases/{caseId}";
    Router::new()
        .route("/api/v1/case-definitions", get(list_definitions))
        .route(
            "/api/v1/case-definitions/{defId}/cases",
            get(list_cases).post(create_case),
        )
        .route(CASE, get(get_case))
        .route(&format!("{CASE}/case-data"), put(update_case_data))
        .route(&format!("{CASE}/status"), post(change_status))
        .route(
            &format!("{CASE}/comments"),
            get(list_comments).post(add_comment),
        )
        .route(
            &format!("{CASE}/attachments"),
            get(list_attachments).post(add_attachment),
        )
        .route(
            &format!("{CASE}/attachments/{{attachmentId}}/content"),
            get(attachment_content),
        )
        .route(&format!("{CASE}/history"), get(history))
        .route(&format!("{CASE}/tasks"), get(list_tasks).post(create_task))
        .route(
            &format!("{CASE}/tasks/{{taskId}}/complete"),
            post(complete_task),
        )
}

// ---------------------------------------------------------------- request context

/// Who asks, for which path, with which `Idempotency-Key`.
#[derive(Debug)]
pub(crate) struct Ctx {
    caller: String,
    method: Method,
    path: String,
    query: Option<String>,
    host: String,
    key: Option<String>,
    if_match: Option<String>,
}

impl FromRequestParts<Arc<Emulator>> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &Arc<Emulator>) -> Result<Ctx, Response> {
        let path = parts.uri.path().to_owned();
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .map(|v| v.to_str().map(str::to_owned))
        };
        let key = match header("idempotency-key") {
            None => None,
            Some(Ok(k))
                if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Some(k)
            }
            Some(_) => {
                return Err(ApiError::invalid(
                    "Idempotency-Key must be 1–255 visible ASCII characters",
                )
                .reply(&path)
                .into_response());
            }
        };
        let if_match = match header("if-match") {
            None => None,
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => {
                return Err(ApiError::invalid("If-Match is not ASCII")
                    .reply(&path)
                    .into_response());
            }
        };
        let caller = parts
            .extensions
            .get::<Caller>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        let host = parts
            .headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
            .to_owned();
        Ok(Ctx {
            caller,
            method: parts.method.clone(),
            query: parts.uri.query().map(str::to_owned),
            path,
            host,
            key,
            if_match,
        })
    }
}

impl Ctx {
    fn fail(&self, e: ApiError) -> Response {
        e.reply(&self.path).into_response()
    }

    fn fingerprint(&self, body: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.method.as_str());
        h.update([0]);
        h.update(&self.path);
        h.update([0]);
        h.update(body);
        h.finalize().into()
    }
}

/// Apply a POST under the lock with the `Idempotency-Key` rules: the same
/// key and request replay the first answer (5xx answers are not kept, so
/// they may be retried), another request with the key is a 422.
fn apply(
    emu: &Emulator,
    ctx: &Ctx,
    fingerprint: [u8; 32],
    f: impl FnOnce(&mut Model) -> Result<Reply, ApiError>,
) -> Response {
    let mut model = lock(&emu.model);
    if let Some(key) = &ctx.key {
        match model.idempotency_lookup(&ctx.caller, key, &fingerprint) {
            Lookup::Replay(reply) => {
                return reply
                    .with_header(
                        HeaderName::from_static(REPLAYED),
                        HeaderValue::from_static("true"),
                    )
                    .into_response();
            }
            Lookup::Mismatch => {
                return ctx.fail(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "IdempotencyKeyReused",
                    format!("Idempotency-Key `{key}` was already used with a different request"),
                ));
            }
            Lookup::Miss => {}
        }
    }
    let reply = f(&mut model).unwrap_or_else(|e| e.reply(&ctx.path));
    if let Some(key) = &ctx.key
        && !reply.status.is_server_error()
    {
        model.idempotency_store(&ctx.caller, key, fingerprint, reply.clone());
    }
    reply.into_response()
}

fn read(
    emu: &Emulator,
    ctx: &Ctx,
    f: impl FnOnce(&mut Model) -> Result<Value, ApiError>,
) -> Response {
    match f(&mut lock(&emu.model)) {
        Ok(v) => Reply::ok(v).into_response(),
        Err(e) => ctx.fail(e),
    }
}

// ---------------------------------------------------------------- bodies

/// A JSON body, canonicalised for fingerprinting (key order and whitespace
/// do not make two requests different).
struct JsonBody {
    value: Value,
    canonical: Vec<u8>,
}

async fn json_body(req: Request) -> Result<JsonBody, ApiError> {
    if let Some(ct) = req.headers().get(CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or_default();
        if !ct.starts_with("application/json") && !ct.contains("+json") {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                format!("Content-Type `{ct}` is not application/json"),
            ));
        }
    }
    let bytes = Bytes::from_request(req, &())
        .await
        .map_err(|e| body_error(e.status(), e.body_text()))?;
    if bytes.is_empty() {
        return Err(ApiError::invalid(
            "the request body is empty; a JSON object is expected",
        ));
    }
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequestBody",
            format!("the body is not JSON: {e}"),
        )
    })?;
    // serde_json's map is ordered by key, so this is canonical.
    let canonical = serde_json::to_vec(&value).unwrap_or_default();
    Ok(JsonBody { value, canonical })
}

fn body_error(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(status, "PayloadTooLarge", text)
    } else {
        ApiError::new(StatusCode::BAD_REQUEST, "InvalidRequestBody", text)
    }
}

fn decode<T: DeserializeOwned>(body: &JsonBody) -> Result<T, ApiError> {
    T::deserialize(&body.value)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "InvalidRequestBody", e.to_string()))
}

/// One multipart part.
#[derive(Debug)]
struct PartIn {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    data: Bytes,
}

async fn multipart_parts(
    emu: &Emulator,
    req: Request,
) -> Result<(Vec<PartIn>, [u8; 32]), ApiError> {
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::invalid(format!("multipart body: {}", e.body_text())))?;
    let mut parts = Vec::new();
    // The boundary is random per request, so a retry's raw bytes differ:
    // fingerprint the parts instead.
    let mut h = Sha256::new();
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| body_error(e.status(), format!("multipart body: {}", e.body_text())))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let data = field.bytes().await.map_err(|e| {
            body_error(
                e.status(),
                format!("multipart part `{name}`: {}", e.body_text()),
            )
        })?;
        if data.len() > emu.config.max_attachment_bytes {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "AttachmentTooLarge",
                format!(
                    "part `{name}` has {} bytes; the limit is {}",
                    data.len(),
                    emu.config.max_attachment_bytes
                ),
            ));
        }
        for piece in [
            name.as_bytes(),
            file_name.as_deref().unwrap_or("").as_bytes(),
            content_type.as_deref().unwrap_or("").as_bytes(),
            &data,
        ] {
            h.update((piece.len() as u64).to_be_bytes());
            h.update(piece);
        }
        parts.push(PartIn {
            name,
            file_name,
            content_type,
            data,
        });
    }
    Ok((parts, h.finalize().into()))
}

fn is_multipart(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"))
}

// ---------------------------------------------------------------- validation

fn text(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    match v {
        Some(s) if s.trim().is_empty() => {
            Err(ApiError::invalid(format!("{field} must not be blank")))
        }
        Some(s) if s.chars().count() > max => Err(ApiError::invalid(format!(
            "{field} is longer than {max} characters"
        ))),
        other => Ok(other),
    }
}

fn required(field: &str, v: Option<String>, max: usize) -> Result<String, ApiError> {
    text(field, v, max)?.ok_or_else(|| ApiError::invalid(format!("{field} is required")))
}

fn priority(field: &str, v: &str) -> Result<Priority, ApiError> {
    Priority::from_api(v).ok_or_else(|| {
        ApiError::invalid(format!(
            "{field} `{v}` is not one of LOW, MEDIUM, HIGH, CRITICAL"
        ))
    })
}

fn timestamp(field: &str, v: &str) -> Result<Timestamp, ApiError> {
    api_time::parse(v).ok_or_else(|| {
        ApiError::invalid(format!(
            "{field} `{v}` is not a timestamp like 2026-11-26T10:22:31.193+0000"
        ))
    })
}

fn status(field: &str, v: &str) -> Result<CaseStatus, ApiError> {
    CaseStatus::from_api(v).ok_or_else(|| {
        let all: Vec<&str> = CaseStatus::ALL.iter().map(|s| s.as_api()).collect();
        ApiError::invalid(format!("{field} `{v}` is not one of {}", all.join(", ")))
    })
}

/// Custom attributes: at most 100, names of letters, digits, `_`, `-`,
/// `.`, values scalar (null means "remove" on update, nothing on create).
fn custom_attributes(map: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    if map.len() > 100 {
        return Err(ApiError::invalid(
            "customAttributes has more than 100 entries",
        ));
    }
    for (k, v) in &map {
        let ok_name = !k.is_empty()
            && k.len() <= 64
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !ok_name {
            return Err(ApiError::invalid(format!(
                "customAttributes: `{k}` is not a valid attribute name"
            )));
        }
        match v {
            Value::Array(_) | Value::Object(_) => {
                return Err(ApiError::invalid(format!(
                    "customAttributes.{k} must be a string, number, boolean or null"
                )));
            }
            Value::String(s) if s.chars().count() > 4000 => {
                return Err(ApiError::invalid(format!(
                    "customAttributes.{k} is longer than 4000 characters"
                )));
            }
            _ => {}
        }
    }
    Ok(map)
}

// ---------------------------------------------------------------- definitions

async fn list_definitions(State(emu): State<Arc<Emulator>>, ctx: Ctx) -> Response {
    read(&emu, &ctx, |m| Ok(m.list_definitions()))
}

// ---------------------------------------------------------------- cases

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateCaseBody {
    #[serde(default)]
    case_type: Option<CaseTypeBody>,
    #[serde(default)]
    case_config_id: Option<String>,
    case_properties: CasePropsBody,
}

#[derive(Deserialize)]
struct CaseTypeBody {
    id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CasePropsBody {
    default_attributes: DefaultsBody,
    #[serde(default)]
    custom_attributes: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DefaultsBody {
    #[serde(default)]
    case_title: Option<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    assignee_group: Option<String>,
    #[serde(default)]
    due_date: Option<String>,
    #[serde(default)]
    external_reference: Option<String>,
}

fn new_case_input(body: CreateCaseBody) -> Result<NewCaseInput, ApiError> {
    let d = body.case_properties.default_attributes;
    const P: &str = "caseProperties.defaultAttributes";
    Ok(NewCaseInput {
        case_type_id: body.case_type.map(|t| t.id),
        case_config_id: body.case_config_id,
        title: required(&format!("{P}.caseTitle"), d.case_title, 255)?,
        summary: text(&format!("{P}.summary"), d.summary, 4000)?,
        priority: match d.priority {
            Some(p) => priority(&format!("{P}.priority"), &p)?,
            None => Priority::Medium,
        },
        assignee: text(&format!("{P}.assignee"), d.assignee, 128)?,
        assignee_group: text(&format!("{P}.assigneeGroup"), d.assignee_group, 128)?,
        due_date: d
            .due_date
            .map(|s| timestamp(&format!("{P}.dueDate"), &s))
            .transpose()?,
        external_reference: text(&format!("{P}.externalReference"), d.external_reference, 255)?,
        custom: custom_attributes(body.case_properties.custom_attributes)?,
    })
}

fn file_input(part: PartIn, metadata: Option<AttachmentMetadata>) -> Result<FileInput, ApiError> {
    let meta = metadata.unwrap_or_default();
    let name = meta.name.or(part.file_name).unwrap_or_default();
    let name = required(
        "attachment name (metadata.name or the file name)",
        Some(name).filter(|n| !n.is_empty()),
        255,
    )?;
    let content_type = meta
        .content_type
        .or(part.content_type)
        .unwrap_or_else(|| "application/octet-stream".into());
    if content_type.parse::<mime_check::Mime>().is_err() {
        return Err(ApiError::invalid(format!(
            "contentType `{content_type}` is not a MIME type"
        )));
    }
    Ok(FileInput {
        name,
        content_type,
        description: text("metadata.description", meta.description, 4000)?,
        data: part.data,
    })
}

/// Just enough MIME checking: `type/subtype` of token characters.
mod mime_check {
    pub(super) struct Mime;

    impl std::str::FromStr for Mime {
        type Err = ();

        fn from_str(s: &str) -> Result<Mime, ()> {
            let essence = s.split(';').next().unwrap_or_default().trim();
            let token = |t: &str| {
                !t.is_empty()
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
            };
            match essence.split_once('/') {
                Some((a, b)) if token(a) && token(b) => Ok(Mime),
                _ => Err(()),
            }
        }
    }
}

async fn create_case(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path(def_id): Path<String>,
    req: Request,
) -> Response {
    if is_multipart(&req) {
        let (parts, fingerprint) = match multipart_parts(&emu, req).await {
            Ok(p) => p,
            Err(e) => return ctx.fail(e),
        };
        let mut instance = None;
        let mut files = Vec::new();
        for part in parts {
            match part.name.as_str() {
                "caseInstance" => {
                    let value = serde_json::from_slice(&part.data).map_err(|e| {
                        ApiError::new(
                            StatusCode::BAD_REQUEST,
                            "InvalidRequestBody",
                            format!("caseInstance is not JSON: {e}"),
                        )
                    });
                    instance = Some(value);
                }
                "files[]" | "files" => files.push(part),
                other => {
                    return ctx.fail(ApiError::invalid(format!(
                        "unexpected part `{other}`; expected caseInstance and files[]"
                    )));
                }
            }
        }
        let input = match instance {
            None => Err(ApiError::invalid("the caseInstance part is missing")),
            Some(Err(e)) => Err(e),
            Some(Ok(value)) => {
                let body = JsonBody {
                    value,
                    canonical: Vec::new(),
                };
                decode::<CreateCaseBody>(&body).and_then(new_case_input)
            }
        };
        let files: Result<Vec<FileInput>, ApiError> =
            files.into_iter().map(|p| file_input(p, None)).collect();
        let (input, files) = match (input, files) {
            (Ok(i), Ok(f)) => (i, f),
            (Err(e), _) | (_, Err(e)) => return ctx.fail(e),
        };
        return apply(&emu, &ctx, ctx.fingerprint(&fingerprint), |m| {
            m.create_case(&ctx.caller, &def_id, input, files)
        });
    }
    let body = match json_body(req).await {
        Ok(b) => b,
        Err(e) => return ctx.fail(e),
    };
    let input = match decode::<CreateCaseBody>(&body).and_then(new_case_input) {
        Ok(i) => i,
        Err(e) => return ctx.fail(e),
    };
    apply(&emu, &ctx, ctx.fingerprint(&body.canonical), |m| {
        m.create_case(&ctx.caller, &def_id, input, Vec::new())
    })
}

async fn get_case(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path((def_id, case_id)): Path<(String, String)>,
) -> Response {
    read(&emu, &ctx, |m| m.get_case(&def_id, &case_id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CaseDataBody {
    case_properties: CaseDataProps,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CaseDataProps {
    #[serde(default)]
    default_attributes: Map<String, Value>,
    #[serde(default)]
    custom_attributes: Map<String, Value>,
}

fn case_data_input(body: CaseDataBody) -> Result<CaseDataInput, ApiError> {
    const CHANGEABLE: &str = "priority, assignee, assigneeGroup, dueDate, escalationLevel";
    let mut input = CaseDataInput {
        priority: None,
        assignee: Change::Keep,
        assignee_group: Change::Keep,
        due_date: Change::Keep,
        escalation_level: None,
        custom: custom_attributes(body.case_properties.custom_attributes)?,
    };
    let optional_text = |field: &str, v: Value| -> Result<Change<String>, ApiError> {
        match v {
            Value::Null => Ok(Change::Clear),
            Value::String(s) => Ok(Change::Set(required(field, Some(s), 128)?)),
            _ => Err(ApiError::invalid(format!(
                "{field} must be a string or null"
            ))),
        }
    };
    for (k, v) in body.case_properties.default_attributes {
        let field = format!("caseProperties.defaultAttributes.{k}");
        match (k.as_str(), v) {
            ("priority", Value::String(p)) => input.priority = Some(priority(&field, &p)?),
            ("priority", _) => return Err(ApiError::invalid(format!("{field} must be a string"))),
            ("assignee", v) => input.assignee = optional_text(&field, v)?,
            ("assigneeGroup", v) => input.assignee_group = optional_text(&field, v)?,
            ("dueDate", Value::Null) => input.due_date = Change::Clear,
            ("dueDate", Value::String(s)) => input.due_date = Change::Set(timestamp(&field, &s)?),
            ("dueDate", _) => {
                return Err(ApiError::invalid(format!(
                    "{field} must be a timestamp string or null"
                )));
            }
            ("escalationLevel", v) => match v.as_u64().filter(|l| *l <= 5) {
                Some(l) => input.escalation_level = Some(l as u8),
                None => {
                    return Err(ApiError::invalid(format!(
                        "{field} must be an integer from 0 to 5"
                    )));
                }
            },
            ("status", _) => {
                return Err(ApiError::invalid(
                    "status changes go through POST …/cases/{caseId}/status",
                ));
            }
            (other, _) => {
                return Err(ApiError::invalid(format!(
                    "caseProperties.defaultAttributes.{other} cannot be changed through case-data; changeable: {CHANGEABLE}"
                )));
            }
        }
    }
    Ok(input)
}

async fn update_case_data(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path((def_id, case_id)): Path<(String, String)>,
    req: Request,
) -> Response {
    let if_match = match ctx.if_match.as_deref() {
        None => None,
        Some(raw) => {
            // Tolerate ETag-style quoting: `"…"` and `W/"…"`.
            let v = raw.trim().trim_start_matches("W/").trim_matches('"');
            match api_time::parse(v) {
                Some(t) => Some(t),
                None => {
                    return ctx.fail(ApiError::invalid(format!(
                        "If-Match `{raw}` is not the case's lastUpdatedOn timestamp"
                    )));
                }
            }
        }
    };
    let input = match json_body(req)
        .await
        .and_then(|b| decode::<CaseDataBody>(&b))
        .and_then(case_data_input)
    {
        Ok(i) => i,
        Err(e) => return ctx.fail(e),
    };
    let result = lock(&emu.model).update_case_data(&ctx.caller, &def_id, &case_id, if_match, input);
    match result {
        Ok(reply) => reply.into_response(),
        Err(e) => ctx.fail(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusBody {
    status: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    resolution: Option<ResolutionBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolutionBody {
    code: String,
    #[serde(default)]
    notes: Option<String>,
}

async fn change_status(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path((def_id, case_id)): Path<(String, String)>,
    req: Request,
) -> Response {
    let body = match json_body(req).await {
        Ok(b) => b,
        Err(e) => return ctx.fail(e),
    };
    let input = decode::<StatusBody>(&body).and_then(|b| {
        Ok(StatusInput {
            status: status("status", &b.status)?,
            reason: text("reason", b.reason, 1000)?,
            resolution: match b.resolution {
                Some(r) => Some((
                    required("resolution.code", Some(r.code), 64)?,
                    text("resolution.notes", r.notes, 4000)?,
                )),
                None => None,
            },
        })
    });
    let input = match input {
        Ok(i) => i,
        Err(e) => return ctx.fail(e),
    };
    apply(&emu, &ctx, ctx.fingerprint(&body.canonical), |m| {
        m.change_status(&ctx.caller, &def_id, &case_id, input)
    })
}

/// Parse the listing's query string (strictly: an unknown parameter is a
/// 400, so a misspelt filter is not silently ignored).
fn list_query(emu: &Emulator, raw: Option<&str>) -> Result<(ListQuery, bool), ApiError> {
    let mut q = ListQuery {
        external_reference: None,
        statuses: Vec::new(),
        updated_since: None,
        page: 1,
        per_page: emu.config.default_items_per_page,
    };
    let mut include_total = false;
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "externalReference" => q.external_reference = Some(v.into_owned()),
            "status" => {
                for s in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    q.statuses.push(status("status", s)?);
                }
            }
            "updatedSince" => {
                // An unencoded `+0000` arrives as ` 0000`; accept it, as
                // partners' hand-written URLs often do that.
                let fixed = v.replace(' ', "+");
                q.updated_since = Some(timestamp("updatedSince", &fixed)?);
            }
            "page" => {
                q.page = v.parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
                    ApiError::invalid(format!("page `{v}` is not a number from 1"))
                })?;
            }
            "items-per-page" => {
                let max = emu.config.max_items_per_page;
                q.per_page = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| {
                        ApiError::invalid(format!(
                            "items-per-page `{v}` is not a number from 1 to {max}"
                        ))
                    })?;
            }
            "include-total" => {
                include_total = match v.as_ref() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(ApiError::invalid(format!(
                            "include-total `{v}` is not true or false"
                        )));
                    }
                }
            }
            other => {
                return Err(ApiError::invalid(format!(
                    "unknown query parameter `{other}`; known: externalReference, status, updatedSince, page, items-per-page, include-total"
                )));
            }
        }
    }
    Ok((q, include_total))
}

async fn list_cases(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path(def_id): Path<String>,
) -> Response {
    let (q, include_total) = match list_query(&emu, ctx.query.as_deref()) {
        Ok(q) => q,
        Err(e) => return ctx.fail(e),
    };
    let page = match lock(&emu.model).list_cases(&def_id, &q) {
        Ok(p) => p,
        Err(e) => return ctx.fail(e),
    };
    let link = |page: u32| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in
            url::form_urlencoded::parse(ctx.query.as_deref().unwrap_or_default().as_bytes())
        {
            if k != "page" {
                s.append_pair(&k, &v);
            }
        }
        s.append_pair("page", &page.to_string());
        format!("http://{}{}?{}", ctx.host, ctx.path, s.finish())
    };
    let mut links = Map::new();
    links.insert("self".into(), json!({"href": link(q.page)}));
    if page.has_next {
        links.insert("next".into(), json!({"href": link(q.page + 1)}));
    }
    let mut body = json!({"_embedded": {"collection": page.items}, "_links": links});
    if include_total && let Value::Object(map) = &mut body {
        map.insert("total".into(), page.total.into());
    }
    Reply::ok(body).into_response()
}

// ---------------------------------------------------------------- comments

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    text: String,
    #[serde(default)]
    visibility: Option<String>,
}

async fn add_comment(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path((def_id, case_id)): Path<(String, String)>,
    req: Request,
) -> Response {
    let body = match json_body(req).await {
        Ok(b) => b,
        Err(e) => return ctx.fail(e),
    };
    let input = decode::<CommentBody>(&body).and_then(|b| {
        let visibility = match b.visibility.as_deref() {
            None | Some("INTERNAL") => "INTERNAL",
            Some("PUBLIC") => "PUBLIC",
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "visibility `{other}` is not INTERNAL or PUBLIC"
                )));
            }
        };
        Ok((required("text", Some(b.text), 10_000)?, visibility))
    });
    let (text, visibility) = match input {
        Ok(i) => i,
        Err(e) => return ctx.fail(e),
    };
    apply(&emu, &ctx, ctx.fingerprint(&body.canonical), |m| {
        m.add_comment(&ctx.caller, &def_id, &case_id, text, visibility)
    })
}

async fn list_comments(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path((def_id, case_id)): Path<(String, String)>,
) -> Response {
    read(&emu, &ctx, |m| m.list_comments(&def_id, &case_id))
}

// ---------------------------------------------------------------- attachments

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AttachmentMetadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

async fn add_attachment(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path((def_id, case_id)): Path<(String, String)>,
    req: Request,
) -> Response {
    if !is_multipart(&req) {
        return ctx.fail(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "attachments are uploaded as multipart/form-data with a `file` and a `metadata` part",
        ));
    }
    let (parts, fingerprint) = match multipart_parts(&emu, req).await {
        Ok(p) => p,
        Err(e) => return ctx.fail(e),
    };
    let mut file = None;
    let mut metadata = None;
    for part in parts {
        match part.name.as_str() {
            "file" if file.is_none() => file = Some(part),
            "metadata" if metadata.is_none() => {
                match serde_json::from_slice::<AttachmentMetadata>(&part.data) {
                    Ok(m) => metadata = Some(m),
                    Err(e) => {
                        return ctx.fail(ApiError::new(
                            StatusCode::BAD_REQUEST,
                            "InvalidRequestBody",
                            format!("metadata: {e}"),
                        ));
                    }
                }
            }
            other => {
                return ctx.fail(ApiError::invalid(format!(
                    "unexpected or repeated part `{other}`; expected one `file` and one `metadata`"
                )));
            }
        }
    }
    let input = match file {
        None => Err(ApiError::invalid("the `file` part is missing")),
        Some(f) => file_input(f, metadata),
    };
    let input = match input {
        Ok(i) => i,
        Err(e) => return ctx.fail(e),
    };
    apply(&emu, &ctx, ctx.fingerprint(&fingerprint), |m| {
        m.add_attachment(&ctx.caller, &def_id, &case_id, input)
    })
}

async fn list_attachments(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path((def_id, case_id)): Path<(String, String)>,
) -> Response {
    read(&emu, &ctx, |m| m.list_attachments(&def_id, &case_id))
}

async fn attachment_content(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path((def_id, case_id, attachment_id)): Path<(String, String, String)>,
) -> Response {
    let found = lock(&emu.model).attachment_content(&def_id, &case_id, &attachment_id);
    match found {
        Ok((content_type, name, data)) => {
            let ct = HeaderValue::from_str(&content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream"));
            // Keep the file name to safe characters; it is only a hint.
            let safe: String = name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "._- ".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\""))
                .unwrap_or(HeaderValue::from_static("attachment"));
            (
                [(CONTENT_TYPE, ct), (CONTENT_DISPOSITION, disposition)],
                data,
            )
                .into_response()
        }
        Err(e) => ctx.fail(e),
    }
}

// ---------------------------------------------------------------- history

async fn history(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path((def_id, case_id)): Path<(String, String)>,
) -> Response {
    read(&emu, &ctx, |m| m.history(&def_id, &case_id))
}

// ---------------------------------------------------------------- tasks

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TaskBody {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    assignee_group: Option<String>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    due_date: Option<String>,
}

async fn create_task(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path((def_id, case_id)): Path<(String, String)>,
    req: Request,
) -> Response {
    let body = match json_body(req).await {
        Ok(b) => b,
        Err(e) => return ctx.fail(e),
    };
    let input = decode::<TaskBody>(&body).and_then(|b| {
        Ok(TaskInput {
            title: required("title", b.title, 255)?,
            description: text("description", b.description, 4000)?,
            kind: match b.kind.as_deref() {
                None | Some("TASK") => TaskKind::Task,
                Some("APPROVAL") => TaskKind::Approval,
                Some(other) => {
                    return Err(ApiError::invalid(format!(
                        "kind `{other}` is not TASK or APPROVAL"
                    )));
                }
            },
            assignee_group: text("assigneeGroup", b.assignee_group, 128)?,
            assignee: text("assignee", b.assignee, 128)?,
            due_date: b.due_date.map(|s| timestamp("dueDate", &s)).transpose()?,
        })
    });
    let input = match input {
        Ok(i) => i,
        Err(e) => return ctx.fail(e),
    };
    apply(&emu, &ctx, ctx.fingerprint(&body.canonical), |m| {
        m.create_task(&ctx.caller, &def_id, &case_id, input)
    })
}

async fn list_tasks(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path((def_id, case_id)): Path<(String, String)>,
) -> Response {
    read(&emu, &ctx, |m| m.list_tasks(&def_id, &case_id))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CompleteBody {
    outcome: String,
    #[serde(default)]
    comment: Option<String>,
}

async fn complete_task(
    State(emu): State<Arc<Emulator>>,
    ctx: Ctx,
    Path((def_id, case_id, task_id)): Path<(String, String, String)>,
    req: Request,
) -> Response {
    let body = match json_body(req).await {
        Ok(b) => b,
        Err(e) => return ctx.fail(e),
    };
    let input = decode::<CompleteBody>(&body).and_then(|b| {
        let outcome = match b.outcome.as_str() {
            "DONE" => Outcome::Done,
            "APPROVED" => Outcome::Approved,
            "REJECTED" => Outcome::Rejected,
            other => {
                return Err(ApiError::invalid(format!(
                    "outcome `{other}` is not DONE, APPROVED or REJECTED"
                )));
            }
        };
        Ok((outcome, text("comment", b.comment, 4000)?))
    });
    let (outcome, comment) = match input {
        Ok(i) => i,
        Err(e) => return ctx.fail(e),
    };
    apply(&emu, &ctx, ctx.fingerprint(&body.canonical), |m| {
        m.complete_task(&ctx.caller, &def_id, &case_id, &task_id, outcome, comment)
    })
}
