//! One request, done right: a bearer token from the cache, the retry loop,
//! and the classification of every answer into success or an [`Error`].
//!
//! # Retry policy
//! - 2xx: done.
//! - 401: drop the token, fetch a new one, retry once (not counted as a
//!   backoff attempt); a second 401 is [`Error::Auth`].
//! - 408, 429, 500, 502, 503, 504, timeouts, connection errors (refused,
//!   reset, closed without an answer), a body cut short: retried with
//!   exponential backoff and full jitter, waiting exactly `Retry-After`
//!   when the server sent one; when attempts run out, [`Error::Transient`].
//! - 409: [`Error::DuplicateExternalReference`] or [`Error::Conflict`];
//!   412: [`Error::PreconditionFailed`]; every other status (400, 403, 404,
//!   413, 422, 501, 3xx…): permanent, never retried.
//!
//! A POST without an `Idempotency-Key` is only retried when the failure
//! proves it was not applied (429, or the connection could not be opened);
//! otherwise it ends in [`Error::Unconfirmed`]. GET and PUT are idempotent
//! and retried freely.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use shopcase_net::Secret;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use super::config::ClientSettings;
use super::dto::{ErrorInfo, TokenAnswer};
use super::error::Error;

/// The header that makes a POST safe to repeat.
pub(crate) const IDEMPOTENCY_KEY: &str = "Idempotency-Key";

/// What a request carries.
#[derive(Debug)]
pub(crate) enum Payload {
    Empty,
    Json(Bytes),
    /// Rebuilt for every attempt (a multipart body is consumed by sending).
    Multipart(Vec<FilePart>),
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub(crate) struct FilePart {
    pub(crate) name: String,
    pub(crate) file_name: Option<String>,
    pub(crate) content_type: String,
    pub(crate) data: Bytes,
}

/// One API call, before retries.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) operation: &'static str,
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) payload: Payload,
    pub(crate) idempotency_key: Option<&'a str>,
    pub(crate) if_match: Option<&'a str>,
}

/// A successful answer, read in full.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) body: Bytes,
}

/// A failure worth another attempt.
struct Retryable {
    status: Option<u16>,
    retry_after: Option<Duration>,
    detail: String,
    /// The failure proves the request was not applied.
    not_applied: bool,
}

/// A cached access token.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) value: Secret,
    refresh_at: Instant,
}

/// The clock the token cache reads: `Instant::now` unless a test injects
/// one (`CoreCaseClient::with_token_clock`) to move time without waiting.
pub type TokenClock = std::sync::Arc<dyn Fn() -> Instant + Send + Sync>;

/// The token cache. One mutex, held while fetching: concurrent callers wait
/// for the one refresh in flight instead of stampeding the token endpoint.
pub(crate) struct TokenCache {
    current: Mutex<Option<Token>>,
    clock: TokenClock,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").finish_non_exhaustive()
    }
}

impl TokenCache {
    /// A cache that reads `clock`.
    pub(crate) fn with_clock(clock: TokenClock) -> TokenCache {
        TokenCache {
            current: Mutex::new(None),
            clock,
        }
    }

    /// A valid token, fetching one if there is none or it is due for refresh.
    pub(crate) async fn get(
        &self,
        http: &reqwest::Client,
        settings: &ClientSettings,
    ) -> Result<Token, Error> {
        let mut current = self.current.lock().await;
        let now = (self.clock)();
        if let Some(t) = current.as_ref().filter(|t| now < t.refresh_at) {
            return Ok(t.clone());
        }
        let fresh = fetch_token(http, settings, &self.clock).await?;
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// Forget `rejected` (answered 401), unless another caller already
    /// replaced it.
    pub(crate) async fn invalidate(&self, rejected: &Token) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|t| t.value == rejected.value) {
            *current = None;
        }
    }
}

/// `POST {auth_base}/tenants/{tenant}/oauth2/token`, form-encoded with HTTP
/// Basic, retried like any call on transient failures.
async fn fetch_token(
    http: &reqwest::Client,
    s: &ClientSettings,
    clock: &TokenClock,
) -> Result<Token, Error> {
    const OP: &str = "token";
    let url = join(&s.auth_base, &["tenants", &s.tenant_id, "oauth2", "token"])?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let sent = http
            .post(url.clone())
            .basic_auth(&s.client_id, Some(s.client_secret.expose()))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await;
        let failure = match sent {
            Ok(resp) => {
                let status = resp.status();
                let retry_after = header_retry_after(resp.headers());
                match resp.bytes().await {
                    Ok(body) if status.is_success() => {
                        return parse_token(&body, s.token_refresh_margin, clock());
                    }
                    Ok(body) if is_transient_status(status) => Retryable {
                        status: Some(status.as_u16()),
                        retry_after,
                        detail: describe_status(status, &body),
                        not_applied: true,
                    },
                    Ok(body) => {
                        let info = ErrorInfo::parse(&body);
                        return Err(Error::Auth {
                            status: status.as_u16(),
                            code: info.exception,
                            message: info.message,
                        });
                    }
                    Err(e) => transport_failure(&e),
                }
            }
            Err(e) if e.is_builder() => {
                return Err(Error::Protocol {
                    operation: OP,
                    detail: chain(&e),
                });
            }
            Err(e) => transport_failure(&e),
        };
        if !s.backoff.allows(attempts) {
            return Err(Error::Transient {
                operation: OP,
                attempts,
                status: failure.status,
                detail: failure.detail,
                retry_after: failure.retry_after,
            });
        }
        let delay = s.backoff.delay(attempts - 1, failure.retry_after);
        tracing::warn!(operation = OP, attempt = attempts, status = failure.status, ?delay, detail = %failure.detail, "Core Case token request failed; retrying");
        tokio::time::sleep(delay).await;
    }
}

/// The token in a token answer received at `now`.
fn parse_token(body: &[u8], margin: Duration, now: Instant) -> Result<Token, Error> {
    let answer: TokenAnswer = serde_json::from_slice(body).map_err(|e| Error::Protocol {
        operation: "token",
        detail: format!("token answer is not {{access_token, …}}: {e}"),
    })?;
    if answer
        .token_type
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(Error::Protocol {
            operation: "token",
            detail: "token_type is not Bearer".into(),
        });
    }
    if answer.access_token.is_empty() {
        return Err(Error::Protocol {
            operation: "token",
            detail: "access_token is empty".into(),
        });
    }
    // No `expires_in`: assume the documented 15 minutes.
    let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(900));
    // Refresh `margin` early, but no earlier than half-way, so short-lived
    // tokens are not refetched on every call.
    let early = margin.min(lifetime / 2);
    Ok(Token {
        value: Secret::new(answer.access_token),
        refresh_at: now + (lifetime - early),
    })
}

/// Run `call` with the retry policy (module docs).
pub(crate) async fn execute(
    http: &reqwest::Client,
    settings: &ClientSettings,
    tokens: &TokenCache,
    call: &Call<'_>,
) -> Result<Answer, Error> {
    let op = call.operation;
    let repeatable = call.method != Method::POST || call.idempotency_key.is_some();
    if let Payload::Multipart(parts) = &call.payload {
        check_parts(op, parts)?;
    }
    let mut attempts = 0u32;
    let mut refreshed = false;
    loop {
        let token = tokens.get(http, settings).await?;
        attempts += 1;
        let mut req = http
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(token.value.expose());
        if let Some(key) = call.idempotency_key {
            req = req.header(IDEMPOTENCY_KEY, key);
        }
        if let Some(tag) = call.if_match {
            req = req.header(reqwest::header::IF_MATCH, tag);
        }
        req = match &call.payload {
            Payload::Empty => req,
            Payload::Json(body) => req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone()),
            Payload::Multipart(parts) => req.multipart(build_form(parts)),
        };
        let failure = match req.send().await {
            Ok(resp) => {
                let status = resp.status();
                let headers = resp.headers().clone();
                match resp.bytes().await {
                    Ok(body) if status.is_success() => return Ok(Answer { body }),
                    Ok(_) if status == StatusCode::UNAUTHORIZED && !refreshed => {
                        // The token expired or was revoked early: one fresh
                        // token, one more try, not counted as a backoff attempt.
                        refreshed = true;
                        attempts -= 1;
                        tokens.invalidate(&token).await;
                        tracing::info!(
                            operation = op,
                            "Core Case answered 401; refreshing the token once"
                        );
                        continue;
                    }
                    Ok(body) => match classify(op, status, &headers, &body) {
                        Ok(retryable) => retryable,
                        Err(e) => return Err(e),
                    },
                    Err(e) => transport_failure(&e),
                }
            }
            Err(e) if e.is_builder() => {
                return Err(Error::InvalidInput {
                    operation: op,
                    detail: chain(&e),
                });
            }
            Err(e) => transport_failure(&e),
        };
        if !repeatable && !failure.not_applied {
            return Err(Error::Unconfirmed {
                operation: op,
                detail: failure.detail,
            });
        }
        if !settings.backoff.allows(attempts) {
            return Err(Error::Transient {
                operation: op,
                attempts,
                status: failure.status,
                detail: failure.detail,
                retry_after: failure.retry_after,
            });
        }
        let delay = settings.backoff.delay(attempts - 1, failure.retry_after);
        tracing::warn!(operation = op, attempt = attempts, status = failure.status, ?delay, detail = %failure.detail, "Core Case request failed; retrying");
        tokio::time::sleep(delay).await;
    }
}

/// Sort a non-2xx, non-first-401 answer into retry or a final error.
fn classify(
    op: &'static str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Retryable, Error> {
    if is_transient_status(status) {
        return Ok(Retryable {
            status: Some(status.as_u16()),
            retry_after: header_retry_after(headers),
            detail: describe_status(status, body),
            not_applied: status == StatusCode::TOO_MANY_REQUESTS,
        });
    }
    let info = ErrorInfo::parse(body);
    Err(match status.as_u16() {
        401 => Error::Auth {
            status: 401,
            code: info.exception,
            message: info.message,
        },
        409 if info.exception == "DuplicateExternalReference" => {
            Error::DuplicateExternalReference {
                operation: op,
                existing_case_id: info.existing_case_id,
                message: info.message,
            }
        }
        409 => Error::Conflict {
            operation: op,
            exception: info.exception,
            message: info.message,
        },
        412 => Error::PreconditionFailed {
            operation: op,
            exception: info.exception,
            message: info.message,
        },
        300..=399 => Error::Protocol {
            operation: op,
            detail: format!("unexpected redirect ({status})"),
        },
        code => Error::Permanent {
            operation: op,
            status: code,
            exception: info.exception,
            message: info.message,
        },
    })
}

fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

fn describe_status(status: StatusCode, body: &[u8]) -> String {
    let info = ErrorInfo::parse(body);
    match (info.exception.is_empty(), info.message.is_empty()) {
        (true, true) => format!("HTTP {status}"),
        (true, false) => format!("HTTP {status}: {}", info.message),
        _ => format!("HTTP {status} {}: {}", info.exception, info.message),
    }
}

fn header_retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(shopcase_net::retry_after)
}

fn transport_failure(e: &reqwest::Error) -> Retryable {
    Retryable {
        status: None,
        retry_after: None,
        detail: chain(e),
        // A connection that never opened carried nothing.
        not_applied: e.is_connect(),
    }
}

/// An error with its causes, e.g. "error sending request: connection closed
/// before message completed". Never contains headers, so no token.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Check the parts once, before the first attempt, so a bad content type is
/// an input error and not a retried failure.
fn check_parts(op: &'static str, parts: &[FilePart]) -> Result<(), Error> {
    for p in parts {
        if reqwest::multipart::Part::bytes(Vec::new())
            .mime_str(&p.content_type)
            .is_err()
        {
            return Err(Error::InvalidInput {
                operation: op,
                detail: format!("part `{}`: `{}` is not a MIME type", p.name, p.content_type),
            });
        }
    }
    Ok(())
}

fn build_form(parts: &[FilePart]) -> reqwest::multipart::Form {
    use reqwest::multipart::Part;
    let body = |p: &FilePart| {
        Part::stream_with_length(reqwest::Body::from(p.data.clone()), p.data.len() as u64)
    };
    parts
        .iter()
        .fold(reqwest::multipart::Form::new(), |form, p| {
            // The type was checked in `check_parts`, so the fallback (an
            // untyped part) is not reached.
            let part = body(p)
                .mime_str(&p.content_type)
                .unwrap_or_else(|_| body(p));
            let part = match &p.file_name {
                Some(f) => part.file_name(f.clone()),
                None => part,
            };
            form.part(p.name.clone(), part)
        })
}

/// `base` with `segments` appended, each percent-encoded (an id cannot
/// escape its path segment).
pub(crate) fn join(base: &Url, segments: &[&str]) -> Result<Url, Error> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| Error::Config(format!("`{base}` cannot be a base URL")))?
        .pop_if_empty()
        .extend(segments);
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn join_encodes_segments() {
        let base = Url::parse("https://h.example/prefix/").unwrap();
        let u = join(&base, &["api", "v1", "cases", "../x y"]).unwrap();
        assert_eq!(
            u.as_str(),
            "https://h.example/prefix/api/v1/cases/..%2Fx%20y"
        );
    }

    #[test]
    fn statuses_are_classified() {
        let h = HeaderMap::new();
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(
                classify("op", StatusCode::from_u16(s).unwrap(), &h, b"").is_ok(),
                "{s} is transient"
            );
        }
        let body =
            br#"{"status":400,"exception":"ValidationError","message":"caseTitle is required"}"#;
        match classify("op", StatusCode::BAD_REQUEST, &h, body) {
            Err(Error::Permanent {
                status: 400,
                exception,
                ..
            }) => assert_eq!(exception, "ValidationError"),
            other => panic!("{:?}", other.err()),
        }
        let dup = br#"{"status":409,"exception":"DuplicateExternalReference","message":"m","existingCaseId":"c9"}"#;
        assert!(matches!(
            classify("op", StatusCode::CONFLICT, &h, dup),
            Err(Error::DuplicateExternalReference { existing_case_id: Some(ref id), .. }) if id == "c9"
        ));
        assert!(matches!(
            classify("op", StatusCode::CONFLICT, &h, b"{}"),
            Err(Error::Conflict { .. })
        ));
        assert!(matches!(
            classify("op", StatusCode::PRECONDITION_FAILED, &h, b"{}"),
            Err(Error::PreconditionFailed { .. })
        ));
        assert!(matches!(
            classify("op", StatusCode::NOT_IMPLEMENTED, &h, b""),
            Err(Error::Permanent { status: 501, .. })
        ));
        assert!(matches!(
            classify("op", StatusCode::FOUND, &h, b""),
            Err(Error::Protocol { .. })
        ));
    }

    #[test]
    fn retry_after_is_read() {
        let mut h = HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, HeaderValue::from_static("2"));
        let r = classify("op", StatusCode::TOO_MANY_REQUESTS, &h, b"")
            .ok()
            .unwrap();
        assert_eq!(r.retry_after, Some(Duration::from_secs(2)));
        assert!(r.not_applied);
    }

    #[test]
    fn token_refresh_point() {
        let now = Instant::now();
        let t = parse_token(
            br#"{"access_token":"a","token_type":"Bearer","expires_in":900}"#,
            Duration::from_secs(60),
            now,
        )
        .unwrap();
        assert_eq!(t.refresh_at - now, Duration::from_secs(840));
        let short = parse_token(
            br#"{"access_token":"a","expires_in":2}"#,
            Duration::from_secs(60),
            now,
        )
        .unwrap();
        assert_eq!(short.refresh_at - now, Duration::from_secs(1));
        assert!(
            parse_token(
                br#"{"access_token":"a","token_type":"MAC"}"#,
                Duration::ZERO,
                now
            )
            .is_err()
        );
        assert!(parse_token(b"nope", Duration::ZERO, now).is_err());
    }
}
