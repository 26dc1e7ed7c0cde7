//! The Admin GraphQL client: one `reqwest` client for every store, a
//! registry of per-store configurations (domain, API version, token, base
//! URL), pacing from Shopify's throttle status, and retries.
//!
//! # Requests
//! `POST {base}/admin/api/{version}/graphql.json` with
//! `X-Shopify-Access-Token` and a JSON body `{query, variables}`. `base` is
//! `https://{shop}` unless overridden (the emulator: `http://127.0.0.1:PORT`).
//!
//! # Errors and retries
//! | answer | treatment |
//! |---|---|
//! | `errors[].extensions.code == "THROTTLED"` (HTTP 200 or 429), or 429 | not executed: wait until the bucket has room (or `Retry-After`), retry; up to [`ClientConfig::max_throttle_waits`] |
//! | 5xx, timeout, connection lost | a query is retried with [`Backoff`]; a mutation is **not** (its effect is unknown) and the error is returned so the write-back can re-read the state first |
//! | connection refused (nothing sent) | retried with backoff, query or mutation |
//! | 401 / 403 / `ACCESS_DENIED` | [`Error::AccessDenied`], permanent |
//! | other `errors`, other 4xx | [`Error::Request`], permanent |
//! | 3xx | [`Error::Redirected`], permanent: redirects are never followed, since the request carries the store's token |
//!
//! `userErrors` are not looked at here: they belong to each mutation's
//! payload and the write-back turns them into [`Error::UserErrors`].
//!
//! # Pacing
//! See [`crate::pacing`]: each shop has one leaky-bucket estimate shared by
//! all requests to it; a request waits *before* sending when its expected
//! cost is not available. The expected cost is the `requestedQueryCost`
//! Shopify last reported for the same operation, or an estimate from the
//! document before that.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{Value, json};
use shopcase_net::{Backoff, Secret};
use url::Url;

use crate::error::{Error, Result};
use crate::graphql;
use crate::pacing::{Bucket, ThrottleStatus};

/// How to reach one store.
#[derive(Debug, Clone)]
pub struct ShopConfig {
    /// The shop's domain, e.g. `example.myshopify.com`: the key every call
    /// names the store by.
    pub shop: String,
    /// Admin API version, e.g. `2026-07`.
    pub api_version: String,
    /// The store's Admin API access token.
    pub access_token: Secret,
    /// Where to send requests instead of `https://{shop}` (the emulator).
    pub base_url: Option<Url>,
}

impl ShopConfig {
    /// A production store: requests go to `https://{shop}`.
    pub fn new(
        shop: impl Into<String>,
        api_version: impl Into<String>,
        access_token: Secret,
    ) -> ShopConfig {
        ShopConfig {
            shop: shop.into(),
            api_version: api_version.into(),
            access_token,
            base_url: None,
        }
    }

    /// Send this store's requests to `base` instead (e.g. the emulator).
    pub fn with_base_url(mut self, base: Url) -> ShopConfig {
        self.base_url = Some(base);
        self
    }

    fn endpoint(&self) -> Result<Url> {
        let shop = &self.shop;
        let shop_ok = !shop.is_empty()
            && shop.len() <= 255
            && shop
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !shop.starts_with(['.', '-']);
        if !shop_ok {
            return Err(Error::Config(format!(
                "shop `{}` is not a shop domain like example.myshopify.com",
                shop.chars().take(60).collect::<String>()
            )));
        }
        let v = &self.api_version;
        let version_ok = v == "unstable"
            || (v.len() == 7
                && v.as_bytes()[4] == b'-'
                && v.bytes()
                    .enumerate()
                    .all(|(i, b)| i == 4 || b.is_ascii_digit()));
        if !version_ok {
            return Err(Error::Config(format!(
                "api version for `{shop}` must look like 2026-07"
            )));
        }
        if self.access_token.is_empty() {
            return Err(Error::Config(format!("access token for `{shop}` is empty")));
        }
        let mut base = match &self.base_url {
            Some(b) => b.clone(),
            None => Url::parse(&format!("https://{shop}/"))
                .map_err(|e| Error::Config(format!("shop `{shop}` does not make a URL: {e}")))?,
        };
        if !matches!(base.scheme(), "http" | "https")
            || base.query().is_some()
            || base.fragment().is_some()
        {
            return Err(Error::Config(format!(
                "base URL for `{shop}` must be plain http(s) without query or fragment"
            )));
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        base.join(&format!("admin/api/{v}/graphql.json"))
            .map_err(|e| Error::Config(format!("base URL for `{shop}`: {e}")))
    }
}

/// Client-wide settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Retries of 5xx and connection failures (and of write-backs whose
    /// outcome was unknown).
    pub backoff: Backoff,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// How many THROTTLED answers one request may wait out before giving up
    /// with [`Error::Throttled`] (transient: the executor retries later).
    pub max_throttle_waits: u32,
    /// Sent as `User-Agent`.
    pub user_agent: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            backoff: Backoff::default(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_throttle_waits: 20,
            user_agent: concat!("shopcase/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

/// One GraphQL request: an operation name (for logs, errors and cost
/// learning), the document and its variables.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The root field, e.g. `orderCancel`.
    pub operation: &'static str,
    /// The GraphQL document.
    pub document: &'a str,
    /// Its variables (an object).
    pub variables: Value,
}

#[derive(Debug)]
struct ShopEntry {
    config: ShopConfig,
    endpoint: Url,
    bucket: Arc<Bucket>,
    /// `requestedQueryCost` last reported per operation.
    learned_cost: Mutex<HashMap<&'static str, f64>>,
}

/// The Shopify Admin GraphQL client for every configured store. Cheap to
/// share (`Arc`); all requests to one store share its pacing estimate.
#[derive(Debug)]
pub struct ShopifyClient {
    http: reqwest::Client,
    config: ClientConfig,
    shops: RwLock<HashMap<String, Arc<ShopEntry>>>,
    /// Operations Shopify answered with `X-Shopify-API-Deprecated-Reason`:
    /// (shop, operation) → the reason, logged once each (bounded).
    deprecated: std::sync::Mutex<std::collections::BTreeMap<(String, &'static str), String>>,
}

/// Distinct (shop, operation) deprecations remembered.
const MAX_DEPRECATIONS: usize = 256;

/// How one attempt ended, before retry policy.
enum Attempt {
    Data(Value),
    Throttled { retry_after: Option<Duration> },
    Failed(Error, Option<Duration>),
}

/// Largest response body accepted.
const MAX_RESPONSE_BYTES: usize = 16 << 20;

impl ShopifyClient {
    /// A client with no stores yet.
    pub fn new(config: ClientConfig) -> Result<ShopifyClient> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            // A redirect would carry `X-Shopify-Access-Token` somewhere
            // unplanned (reqwest strips only the standard credential
            // headers): a 3xx is an error, never followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(ShopifyClient {
            http,
            config,
            shops: RwLock::new(HashMap::new()),
            deprecated: std::sync::Mutex::new(std::collections::BTreeMap::new()),
        })
    }

    /// Operations Shopify said are deprecated (`X-Shopify-API-Deprecated-Reason`):
    /// `(shop, operation, reason)`, one per shop and operation. Each is logged
    /// (warn) the first time; move the store's `api-version` or this build
    /// before the version's support ends.
    pub fn deprecations(&self) -> Vec<(String, &'static str, String)> {
        self.deprecated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|((shop, op), reason)| (shop.clone(), *op, reason.clone()))
            .collect()
    }

    fn note_deprecation(&self, shop: &str, operation: &'static str, version: &str, reason: &str) {
        let mut seen = self
            .deprecated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (shop.to_owned(), operation);
        if seen.contains_key(&key) || seen.len() >= MAX_DEPRECATIONS {
            return;
        }
        // Shopify's text: a link to its deprecation notes; bounded anyway.
        let reason: String = reason.chars().take(300).collect();
        tracing::warn!(shop, operation, api_version = version, %reason, "Shopify says this request uses something deprecated in its API version");
        seen.insert(key, reason);
    }

    /// The client-wide settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Register (or replace) a store. Replacing keeps its pacing estimate.
    pub fn add_shop(&self, shop: ShopConfig) -> Result<()> {
        let endpoint = shop.endpoint()?;
        let mut shops = self
            .shops
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let bucket = shops
            .get(&shop.shop)
            .map(|e| e.bucket.clone())
            .unwrap_or_default();
        let key = shop.shop.clone();
        shops.insert(
            key,
            Arc::new(ShopEntry {
                config: shop,
                endpoint,
                bucket,
                learned_cost: Mutex::default(),
            }),
        );
        Ok(())
    }

    /// Forget a store (uninstalled, `shop/redact`).
    pub fn remove_shop(&self, shop: &str) -> bool {
        self.shops
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(shop)
            .is_some()
    }

    fn entry(&self, shop: &str) -> Result<Arc<ShopEntry>> {
        self.shops
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(shop)
            .cloned()
            .ok_or_else(|| Error::UnknownShop {
                shop: shop.to_string(),
            })
    }

    /// Run one GraphQL request against `shop` and return its `data`, paced
    /// and retried as the module documentation describes.
    pub async fn execute(&self, shop: &str, request: &Request<'_>) -> Result<Value> {
        let entry = self.entry(shop)?;
        let parsed = graphql::parse(request.document).map_err(|e| Error::Request {
            shop: shop.to_string(),
            operation: request.operation,
            status: 0,
            messages: vec![format!("document does not parse: {e}")],
        })?;
        let is_mutation = parsed.kind == graphql::OpKind::Mutation;
        let estimate = graphql::estimate_cost(&parsed) as f64;
        let body =
            serde_json::to_vec(&json!({"query": request.document, "variables": request.variables}))
                .map_err(|e| Error::Config(format!("variables do not serialise: {e}")))?;

        let mut attempts = 0u32;
        let mut throttle_waits = 0u32;
        loop {
            let cost = entry
                .learned_cost
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(request.operation)
                .copied();
            let cost = cost.unwrap_or(estimate);
            let ticket = entry.bucket.reserve(cost).await;
            if !ticket.wait().is_zero() {
                tracing::debug!(
                    shop,
                    operation = request.operation,
                    wait_ms = ticket.wait().as_millis() as u64,
                    "pacing"
                );
                tokio::time::sleep(ticket.wait()).await;
            }
            attempts += 1;
            let (attempt, status) = self.attempt(&entry, request.operation, body.clone()).await;
            ticket.settle(status);
            match attempt {
                Attempt::Data(data) => return Ok(data),
                Attempt::Throttled { retry_after } => {
                    throttle_waits += 1;
                    if throttle_waits > self.config.max_throttle_waits {
                        return Err(Error::Throttled {
                            shop: shop.to_string(),
                            operation: request.operation,
                            waits: throttle_waits - 1,
                        });
                    }
                    // Not executed: safe to send again once there is room.
                    let wait = retry_after
                        .or_else(|| entry.bucket.time_until(cost))
                        .unwrap_or_else(|| self.config.backoff.delay(throttle_waits - 1, None));
                    tracing::warn!(
                        shop,
                        operation = request.operation,
                        wait_ms = wait.as_millis() as u64,
                        "throttled by Shopify"
                    );
                    tokio::time::sleep(wait.min(self.config.backoff.max_retry_after)).await;
                    attempts -= 1;
                }
                Attempt::Failed(err, retry_after) => {
                    let retriable = match &err {
                        Error::Transport { sent: false, .. } => true,
                        e if e.effect_unknown() => !is_mutation,
                        _ => false,
                    };
                    if !retriable || !self.config.backoff.allows(attempts) {
                        return Err(err);
                    }
                    let wait = self.config.backoff.delay(attempts - 1, retry_after);
                    tracing::info!(shop, operation = request.operation, error = %err, wait_ms = wait.as_millis() as u64, "retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn attempt(
        &self,
        entry: &ShopEntry,
        operation: &'static str,
        body: Vec<u8>,
    ) -> (Attempt, Option<ThrottleStatus>) {
        let shop = entry.config.shop.as_str();
        let transport = |detail: String, sent: bool| Error::Transport {
            shop: shop.to_string(),
            operation,
            detail,
            sent,
        };
        let sent = self
            .http
            .post(entry.endpoint.clone())
            .header("X-Shopify-Access-Token", entry.config.access_token.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await;
        let mut resp = match sent {
            Ok(r) => r,
            Err(e) if e.is_connect() => {
                return (
                    Attempt::Failed(
                        transport(format!("connection failed: {}", describe(&e)), false),
                        None,
                    ),
                    None,
                );
            }
            Err(e) if e.is_timeout() => {
                return (
                    Attempt::Failed(
                        transport("timed out waiting for Shopify".into(), true),
                        None,
                    ),
                    None,
                );
            }
            Err(e) => {
                return (
                    Attempt::Failed(
                        transport(format!("request failed: {}", describe(&e)), true),
                        None,
                    ),
                    None,
                );
            }
        };
        let status = resp.status().as_u16();
        if let Some(reason) = resp
            .headers()
            .get("x-shopify-api-deprecated-reason")
            .and_then(|v| v.to_str().ok())
        {
            self.note_deprecation(shop, operation, &entry.config.api_version, reason);
        }
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(shopcase_net::retry_after);

        let mut bytes = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                        let err = Error::Decode {
                            shop: shop.to_string(),
                            operation,
                            detail: "response is larger than 16 MiB".into(),
                        };
                        return (Attempt::Failed(err, None), None);
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let detail = format!(
                        "connection lost while reading the response (HTTP {status}): {}",
                        describe(&e)
                    );
                    return (Attempt::Failed(transport(detail, true), None), None);
                }
            }
        }
        let json: Option<Value> = serde_json::from_slice(&bytes).ok();
        let throttle = json
            .as_ref()
            .and_then(|j| j.get("extensions"))
            .and_then(ThrottleStatus::from_extensions);
        if let Some(cost) = json
            .as_ref()
            .and_then(|j| j.pointer("/extensions/cost/requestedQueryCost"))
            .and_then(Value::as_f64)
        {
            entry
                .learned_cost
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(operation, cost);
        }
        let messages = json.as_ref().map(error_messages).unwrap_or_default();

        let attempt = match status {
            401 | 403 => {
                let detail = messages
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "access denied".into());
                Attempt::Failed(
                    Error::AccessDenied {
                        shop: shop.to_string(),
                        status,
                        detail: clip(&detail),
                    },
                    None,
                )
            }
            429 => Attempt::Throttled { retry_after },
            300..=399 => Attempt::Failed(
                Error::Redirected {
                    shop: shop.to_string(),
                    operation,
                    status,
                },
                None,
            ),
            500..=599 => Attempt::Failed(
                Error::Unavailable {
                    shop: shop.to_string(),
                    operation,
                    status,
                },
                retry_after,
            ),
            200..=299 => match json {
                None => Attempt::Failed(
                    Error::Decode {
                        shop: shop.to_string(),
                        operation,
                        detail: "body is not JSON".into(),
                    },
                    None,
                ),
                Some(j) => classify_ok(shop, operation, j, messages),
            },
            _ => {
                let messages = if messages.is_empty() {
                    vec![format!("HTTP {status}")]
                } else {
                    messages
                };
                Attempt::Failed(
                    Error::Request {
                        shop: shop.to_string(),
                        operation,
                        status,
                        messages,
                    },
                    None,
                )
            }
        };
        (attempt, throttle)
    }
}

fn classify_ok(
    shop: &str,
    operation: &'static str,
    mut j: Value,
    messages: Vec<String>,
) -> Attempt {
    let codes: Vec<&str> = j
        .get("errors")
        .and_then(Value::as_array)
        .map(|errs| {
            errs.iter()
                .filter_map(|e| e.pointer("/extensions/code").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if codes.contains(&"THROTTLED") {
        return Attempt::Throttled { retry_after: None };
    }
    if codes.contains(&"ACCESS_DENIED") {
        let detail = messages
            .first()
            .cloned()
            .unwrap_or_else(|| "access denied".into());
        return Attempt::Failed(
            Error::AccessDenied {
                shop: shop.to_string(),
                status: 200,
                detail: clip(&detail),
            },
            None,
        );
    }
    if !messages.is_empty() {
        return Attempt::Failed(
            Error::Request {
                shop: shop.to_string(),
                operation,
                status: 200,
                messages,
            },
            None,
        );
    }
    match j.get_mut("data").map(Value::take) {
        Some(data @ Value::Object(_)) => Attempt::Data(data),
        _ => Attempt::Failed(
            Error::Decode {
                shop: shop.to_string(),
                operation,
                detail: "no `data` in the response".into(),
            },
            None,
        ),
    }
}

/// The messages of a GraphQL `errors` array, or of Shopify's REST-style
/// `{"errors": "..."}` (401 answers).
fn error_messages(j: &Value) -> Vec<String> {
    match j.get("errors") {
        Some(Value::String(s)) => vec![clip(s)],
        Some(Value::Array(errs)) => errs
            .iter()
            .map(|e| {
                clip(
                    e.get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown error"),
                )
            })
            .collect(),
        _ => vec![],
    }
}

fn clip(s: &str) -> String {
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s.to_string()
    }
}

/// A transport error without its URL, with its causes.
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut out = String::new();
    let mut cur: Option<&dyn std::error::Error> = e.source();
    while let Some(c) = cur {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&c.to_string());
        cur = c.source();
    }
    if out.is_empty() {
        "unknown".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_config_checks() {
        let c = ShopConfig::new("example.myshopify.com", "2026-07", Secret::new("shpat_x"));
        assert_eq!(
            c.endpoint().unwrap().as_str(),
            "https://example.myshopify.com/admin/api/2026-07/graphql.json"
        );
        let e = c
            .clone()
            .with_base_url(Url::parse("http://127.0.0.1:4000").unwrap());
        assert_eq!(
            e.endpoint().unwrap().as_str(),
            "http://127.0.0.1:4000/admin/api/2026-07/graphql.json"
        );
        let p = c
            .clone()
            .with_base_url(Url::parse("http://127.0.0.1:4000/proxy").unwrap());
        assert_eq!(
            p.endpoint().unwrap().as_str(),
            "http://127.0.0.1:4000/proxy/admin/api/2026-07/graphql.json"
        );
        assert!(
            ShopConfig::new("Bad Shop", "2026-07", Secret::new("t"))
                .endpoint()
                .is_err()
        );
        assert!(
            ShopConfig::new("a.myshopify.com", "26-07", Secret::new("t"))
                .endpoint()
                .is_err()
        );
        assert!(
            ShopConfig::new("a.myshopify.com", "2026-07", Secret::new(""))
                .endpoint()
                .is_err()
        );
        let debug = format!("{c:?}");
        assert!(!debug.contains("shpat_x"), "{debug}");
    }

    #[test]
    fn classifies_graphql_answers() {
        let throttled =
            json!({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]});
        let m = error_messages(&throttled);
        assert!(matches!(
            classify_ok("s", "x", throttled, m),
            Attempt::Throttled { .. }
        ));
        let denied = json!({"errors": [{"message": "Access denied for order field.", "extensions": {"code": "ACCESS_DENIED"}}]});
        let m = error_messages(&denied);
        assert!(matches!(
            classify_ok("s", "x", denied, m),
            Attempt::Failed(Error::AccessDenied { .. }, _)
        ));
        let bad = json!({"errors": [{"message": "Field 'x' doesn't exist"}]});
        let m = error_messages(&bad);
        assert!(matches!(
            classify_ok("s", "x", bad, m),
            Attempt::Failed(Error::Request { .. }, _)
        ));
        let ok = json!({"data": {"order": null}});
        assert!(matches!(
            classify_ok("s", "x", ok, vec![]),
            Attempt::Data(_)
        ));
        assert_eq!(
            error_messages(&json!({"errors": "[API] Invalid API key"})),
            vec!["[API] Invalid API key"]
        );
    }
}
