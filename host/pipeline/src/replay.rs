//! `shopcase replay`: post event files to a webhook endpoint exactly as
//! Shopify would, signed with the store's secret.
//!
//! Each file (the event file format, `shopcase_contract::EventFile`) is sent
//! as its payload's compact JSON with Shopify's headers: topic, shop domain,
//! API version, webhook id (the file's, or a fresh UUID), event id (the
//! file's, or a fresh UUID), triggered-at (the file's, or now) and the HMAC
//! of the body. The answer is classified from the endpoint's status and
//! JSON body.
//!
//! Recorded files carry the dates they were recorded on, which a host
//! refuses as stale after `server.max-age`; [`Replayer::shifted`] moves
//! every timestamp of every file by the same amount (see
//! [`shift_to_now`]), so a recording replays as if it had just happened,
//! the gaps between its events kept.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use shopcase_contract::EventFile;
use shopcase_contract::time::Timestamp;
use shopcase_net::Secret;

use crate::ingress::{headers, hmac};

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum ReplayOutcome {
    /// Stored as a new event.
    Accepted {
        /// Its id.
        event_id: String,
    },
    /// Already stored.
    Duplicate {
        /// The stored event's id.
        event_id: String,
    },
    /// Acknowledged but too old to dispatch.
    Stale {
        /// Its id.
        event_id: String,
    },
    /// Refused by the endpoint, or never sent.
    Rejected {
        /// The HTTP status (0: not sent).
        status: u16,
        /// The endpoint's error code, or why it was not sent.
        reason: String,
    },
}

/// A delivery ready to post.
#[derive(Debug, Clone)]
pub struct SignedDelivery {
    /// The body (the payload's compact JSON).
    pub body: Vec<u8>,
    /// Shopify's headers, with the signature.
    pub headers: Vec<(&'static str, String)>,
}

/// Sign an event file as Shopify would deliver it.
pub fn sign(file: &EventFile, secret: &Secret) -> SignedDelivery {
    let body = serde_json::to_vec(&file.payload).unwrap_or_default();
    let fresh = || uuid::Uuid::new_v4().to_string();
    let headers = vec![
        (headers::TOPIC, file.topic.clone()),
        (headers::SHOP_DOMAIN, file.shop.clone()),
        (
            headers::API_VERSION,
            file.api_version
                .clone()
                .unwrap_or_else(|| shopcase_contract::event::DEFAULT_API_VERSION.to_owned()),
        ),
        (
            headers::WEBHOOK_ID,
            file.webhook_id.clone().unwrap_or_else(fresh),
        ),
        (
            headers::EVENT_ID,
            file.event_id.clone().unwrap_or_else(fresh),
        ),
        (
            headers::TRIGGERED_AT,
            file.triggered_at
                .clone()
                .unwrap_or_else(|| shopcase_contract::time::format(Timestamp::now())),
        ),
        (headers::HMAC, hmac::sign(secret.expose().as_bytes(), &body)),
    ];
    SignedDelivery { body, headers }
}

/// Sign an event file of an inbound topic (`helpdesk/*`, `carrier/*`) as
/// its source would post it to `POST /inbound/{source}`: the body is the
/// payload with `shop` and `kind` added and `source` taken out
/// (`shopcase_contract::inbound::body_of_event_file`), signed with the
/// source's `secret` in `X-Shopcase-Signature`. Returns the source's name
/// and the delivery.
pub fn sign_inbound(file: &EventFile, secret: &Secret) -> Result<(String, SignedDelivery), String> {
    let (source, body) = shopcase_contract::inbound::body_of_event_file(file)?;
    let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
    let signature = hmac::sign(secret.expose().as_bytes(), &body);
    Ok((
        source,
        SignedDelivery {
            body,
            headers: vec![(shopcase_contract::inbound::SIGNATURE_HEADER, signature)],
        },
    ))
}

/// The `.json` files named, directories searched recursively, in path order.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let entries =
            std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found)?;
            found.sort();
            out.extend(found);
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(format!("{} does not exist", p.display()));
        }
    }
    Ok(out)
}

/// How far to move a recording so that its newest `triggered_at` is `now`
/// (`None` if no file has one). Files that cannot be read are skipped here;
/// posting them reports why.
pub fn shift_to_now(
    paths: &[PathBuf],
    now: Timestamp,
) -> Option<shopcase_contract::time::SignedDuration> {
    let newest = paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|text| EventFile::parse(&text).ok())
        .filter_map(|f| shopcase_contract::time::parse(f.triggered_at.as_deref()?).ok())
        .max()?;
    // Whole seconds, so recorded timestamps keep their precision.
    Some(shopcase_contract::time::SignedDuration::from_secs(
        now.duration_since(newest).as_secs(),
    ))
}

/// Posts event files to one endpoint.
#[derive(Debug, Clone)]
pub struct Replayer {
    url: String,
    secret: Secret,
    client: reqwest::Client,
    shift: Option<shopcase_contract::time::SignedDuration>,
}

impl Replayer {
    /// To `url` (the webhook endpoint), signing with `secret`.
    pub fn new(url: &str, secret: Secret) -> Result<Replayer, String> {
        let parsed = reqwest::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("`{url}` is not an http(s) URL"));
        }
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Replayer {
            url: url.to_owned(),
            secret,
            client,
            shift: None,
        })
    }

    /// Move every file's timestamps by `by` before posting it.
    pub fn shifted(mut self, by: shopcase_contract::time::SignedDuration) -> Replayer {
        self.shift = Some(by);
        self
    }

    /// Read, sign and post one file.
    pub async fn replay_file(&self, path: &Path) -> ReplayOutcome {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return not_sent(format!("cannot read: {e}")),
        };
        match EventFile::parse(&text) {
            Ok(file) => match self.shift {
                Some(by) => self.post(&file.shifted(by)).await,
                None => self.post(&file).await,
            },
            Err(e) => not_sent(format!("not an event file: {e}")),
        }
    }

    /// Sign and post one event.
    pub async fn post(&self, file: &EventFile) -> ReplayOutcome {
        let d = sign(file, &self.secret);
        self.send(&self.url, d).await
    }

    /// Sign an event file of an inbound topic with `secret` (its source's)
    /// and post it to `/inbound/<source>` on the same host as the webhook
    /// endpoint ([`sign_inbound`]).
    pub async fn post_inbound(&self, file: &EventFile, secret: &Secret) -> ReplayOutcome {
        let (source, d) = match sign_inbound(file, secret) {
            Ok(x) => x,
            Err(e) => return not_sent(e),
        };
        let base = self
            .url
            .strip_suffix(crate::config::WEBHOOK_PATH)
            .unwrap_or(self.url.trim_end_matches('/'));
        self.send(&format!("{base}/inbound/{source}"), d).await
    }

    /// Post a signed delivery to `url` (any endpoint of the host) and
    /// classify the answer.
    pub async fn send(&self, url: &str, d: SignedDelivery) -> ReplayOutcome {
        let mut req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(d.body);
        for (k, v) in d.headers {
            req = req.header(k, v);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => return not_sent(format!("cannot reach the endpoint: {e}")),
        };
        let status = resp.status().as_u16();
        let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
        let field = |k: &str| {
            body.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        match (status, field("status").as_str()) {
            (200..=299, "accepted") => ReplayOutcome::Accepted {
                event_id: field("event_id"),
            },
            (200..=299, "duplicate") => ReplayOutcome::Duplicate {
                event_id: field("event_id"),
            },
            (200..=299, "stale") => ReplayOutcome::Stale {
                event_id: field("event_id"),
            },
            (200..=299, _) => ReplayOutcome::Accepted {
                event_id: field("event_id"),
            },
            _ => ReplayOutcome::Rejected {
                status,
                reason: match field("error") {
                    e if e.is_empty() => format!("HTTP {status}"),
                    e => e,
                },
            },
        }
    }
}

fn not_sent(reason: String) -> ReplayOutcome {
    ReplayOutcome::Rejected { status: 0, reason }
}

/// Counts over a replay.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReplaySummary {
    /// New events.
    pub accepted: usize,
    /// Already stored.
    pub duplicate: usize,
    /// Too old.
    pub stale: usize,
    /// Refused or not sent: file and reason.
    pub rejected: Vec<(String, String)>,
}

impl ReplaySummary {
    /// Count one outcome.
    pub fn add(&mut self, path: &Path, outcome: &ReplayOutcome) {
        match outcome {
            ReplayOutcome::Accepted { .. } => self.accepted += 1,
            ReplayOutcome::Duplicate { .. } => self.duplicate += 1,
            ReplayOutcome::Stale { .. } => self.stale += 1,
            ReplayOutcome::Rejected { status, reason } => {
                let why = if *status == 0 {
                    reason.clone()
                } else {
                    format!("{status} {reason}")
                };
                self.rejected.push((path.display().to_string(), why));
            }
        }
    }
}
