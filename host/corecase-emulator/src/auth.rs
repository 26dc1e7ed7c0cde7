//! The OAuth2 token endpoint, the bearer check in front of `/api/v1`, and
//! the rate limiter.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use bytes::Bytes;
use serde_json::json;

use super::api::Caller;
use super::error::{ApiError, fault};
use super::{Emulator, lock};

/// Issued tokens.
#[derive(Debug, Default)]
pub(crate) struct Tokens {
    live: HashMap<String, Issued>,
    issued: u64,
}

#[derive(Debug)]
struct Issued {
    client_id: String,
    expires: Instant,
}

impl Tokens {
    fn issue(&mut self, client_id: &str, ttl: Duration) -> String {
        // Forget tokens long dead, so a long-running emulator stays small.
        if self.live.len() >= 1024 {
            let now = Instant::now();
            self.live
                .retain(|_, t| t.expires + Duration::from_secs(3600) > now);
        }
        let token = format!("emu-{}", uuid::Uuid::new_v4().simple());
        self.live.insert(
            token.clone(),
            Issued {
                client_id: client_id.into(),
                expires: Instant::now() + ttl,
            },
        );
        self.issued += 1;
        token
    }

    pub(crate) fn expire_all(&mut self) {
        let now = Instant::now();
        for t in self.live.values_mut() {
            t.expires = t.expires.min(now);
        }
    }

    pub(crate) fn issued(&self) -> u64 {
        self.issued
    }
}

/// Compare secrets without an early exit on the first different byte.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `POST /tenants/{tenant}/oauth2/token`: `grant_type=client_credentials`
/// form-encoded with HTTP Basic (or `client_id`/`client_secret` form
/// fields), or a JSON body `{client_id, client_secret, grant_type}`.
pub(crate) async fn token(
    State(emu): State<Arc<Emulator>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if tenant != emu.config.tenant_id {
        let path = format!("/tenants/{tenant}/oauth2/token");
        return ApiError::not_found("TenantNotFound", format!("no tenant `{tenant}`"))
            .reply(&path)
            .into_response();
    }
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let mut fields: HashMap<String, String> = HashMap::new();
    if is_json {
        match serde_json::from_slice::<HashMap<String, serde_json::Value>>(&body) {
            Ok(map) => {
                for (k, v) in map {
                    if let Some(s) = v.as_str() {
                        fields.insert(k, s.to_owned());
                    }
                }
            }
            Err(_) => {
                return fault(
                    StatusCode::BAD_REQUEST,
                    "The token request body is not JSON",
                    "oauth.v2.InvalidRequest",
                );
            }
        }
    } else {
        fields.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    match fields.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return fault(
                StatusCode::BAD_REQUEST,
                "Unsupported grant type",
                "oauth.v2.UnsupportedGrantType",
            );
        }
        None => {
            return fault(
                StatusCode::BAD_REQUEST,
                "grant_type is missing",
                "oauth.v2.InvalidRequest",
            );
        }
    }
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
        });
    let (id, secret) = match basic {
        Some(pair) => pair,
        None => match (fields.remove("client_id"), fields.remove("client_secret")) {
            (Some(id), Some(secret)) => (id, secret),
            _ => {
                return fault(
                    StatusCode::UNAUTHORIZED,
                    "Client credentials are missing",
                    "oauth.v2.InvalidClientIdentifier",
                );
            }
        },
    };
    let expected = if id == emu.config.client_id {
        Some(&emu.config.client_secret)
    } else {
        emu.config
            .other_clients
            .iter()
            .find(|c| c.client_id == id)
            .map(|c| &c.client_secret)
    };
    if !expected.is_some_and(|e| same_secret(&secret, e.expose())) {
        return fault(
            StatusCode::UNAUTHORIZED,
            "Invalid client identifier or secret",
            "oauth.v2.InvalidClientIdentifier",
        );
    }
    let ttl = emu.config.token_ttl_secs;
    let access_token = lock(&emu.auth).issue(&id, Duration::from_secs(ttl));
    let mut resp = axum::Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": "readwrite",
    }))
    .into_response();
    resp.headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    resp
}

/// The bearer check: 401 with the gateway's `fault` body when the token is
/// missing, unknown or expired.
pub(crate) async fn require_token(
    State(emu): State<Arc<Emulator>>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(token) = token else {
        return fault(
            StatusCode::UNAUTHORIZED,
            "Invalid access token",
            "oauth.v2.InvalidAccessToken",
        );
    };
    let caller = {
        let tokens = lock(&emu.auth);
        match tokens.live.get(token) {
            None => {
                return fault(
                    StatusCode::UNAUTHORIZED,
                    "Invalid access token",
                    "oauth.v2.InvalidAccessToken",
                );
            }
            Some(t) if t.expires <= Instant::now() => {
                return fault(
                    StatusCode::UNAUTHORIZED,
                    "Access Token expired",
                    "keymanagement.service.access_token_expired",
                );
            }
            Some(t) => t.client_id.clone(),
        }
    };
    req.extensions_mut().insert(Caller(caller));
    next.run(req).await
}

/// A token bucket.
#[derive(Debug)]
pub(crate) struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(rate: f64, burst: u32) -> Bucket {
        Bucket {
            rate,
            burst: f64::from(burst),
            tokens: f64::from(burst),
            last: Instant::now(),
        }
    }

    /// Take one request's token, or say how long until one is available.
    pub(crate) fn take(&mut self) -> Result<(), Duration> {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

/// 429 with `Retry-After` (whole seconds, at least 1) beyond the configured
/// rate.
pub(crate) async fn rate_limit(
    State(emu): State<Arc<Emulator>>,
    req: Request,
    next: Next,
) -> Response {
    let verdict = lock(&emu.control).take_rate_token();
    if let Err(wait) = verdict {
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut resp = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            format!("rate limit exceeded; retry in {secs} s"),
        )
        .reply(req.uri().path())
        .into_response();
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
        return resp;
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_a_burst_then_waits() {
        let mut b = Bucket::new(1.0, 3);
        assert!(b.take().is_ok());
        assert!(b.take().is_ok());
        assert!(b.take().is_ok());
        let wait = b.take().unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }

    #[test]
    fn expired_tokens_stay_known() {
        let mut t = Tokens::default();
        let tok = t.issue("c", Duration::from_secs(60));
        t.expire_all();
        assert!(t.live[&tok].expires <= Instant::now());
        assert_eq!(t.issued(), 1);
    }
}
