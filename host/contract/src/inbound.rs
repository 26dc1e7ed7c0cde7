//! Reports from services other than Shopify — a helpdesk, a
//! carrier-tracking service — posted signed to `POST /inbound/{source}`
//! and turned into host topics plugins subscribe to.
//!
//! A source posts one JSON object per report ([`InboundBody`]); the host
//! checks it ([`InboundBody::check`]) and stores the normalised payload
//! ([`InboundPayload`]) under the topic of its kind:
//!
//! | `kind` | topic | required besides the common fields |
//! |---|---|---|
//! | `complaint` | `helpdesk/complaint` | `text` |
//! | `not-received` | `helpdesk/not-received` | — |
//! | `carrier-exception` | `carrier/exception` | `carrier`, `tracking_number`, `exception_code` |
//!
//! Common fields: `id` (the source's unique id of the report), `kind`,
//! `shop`, `occurred_at` (RFC 3339) and `order_id` (every report is about
//! an order). The rest is optional. Unknown fields, and fields that do not
//! belong to the kind, are refused: the schema is small on purpose, and a
//! typo must not silently drop what the sender meant to say.
//!
//! What plugins see of the payload is decided by the same minimisation
//! rules as Shopify's (`crate::minimise`, place `Inbound`): `subject` and
//! `text` are what the customer wrote (`customer-notes`), `customer_email`
//! needs `customer-contact`; the rest is always visible.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// A customer complaint from a helpdesk.
pub const TOPIC_HELPDESK_COMPLAINT: &str = "helpdesk/complaint";
/// A "delivered but not received" claim from a helpdesk.
pub const TOPIC_HELPDESK_NOT_RECEIVED: &str = "helpdesk/not-received";
/// An exception a carrier-tracking service reports on a parcel.
pub const TOPIC_CARRIER_EXCEPTION: &str = "carrier/exception";

/// The topic prefixes only inbound sources produce: a Shopify webhook with
/// such a topic is refused, and `shopcase store connect` never subscribes
/// Shopify to them.
pub const INBOUND_TOPIC_PREFIXES: &[&str] = &["helpdesk/", "carrier/"];

/// Whether `topic` is one of the inbound topics (made by the host from a
/// signed inbound report, never by Shopify).
pub fn is_inbound_topic(topic: &str) -> bool {
    INBOUND_TOPIC_PREFIXES.iter().any(|p| topic.starts_with(p))
}

/// The request header carrying the signature: base64 of HMAC-SHA256 of
/// the raw body under the source's secret (the same construction as
/// Shopify's `X-Shopify-Hmac-Sha256`).
pub const SIGNATURE_HEADER: &str = "x-shopcase-signature";

/// The longest `id`, `ticket_id`, `carrier` or `tracking_number`.
pub const MAX_ID: usize = 128;
/// The longest `subject`.
pub const MAX_SUBJECT: usize = 500;
/// The longest `text` or `description`.
pub const MAX_TEXT: usize = 8000;
/// The longest `ticket_url`.
pub const MAX_URL: usize = 2048;

/// What a report is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InboundKind {
    /// A customer complaint (`helpdesk/complaint`).
    Complaint,
    /// The customer says a parcel never arrived (`helpdesk/not-received`).
    NotReceived,
    /// A carrier reports a problem with a parcel (`carrier/exception`).
    CarrierException,
}

impl InboundKind {
    /// Every kind.
    pub const ALL: [InboundKind; 3] = [
        InboundKind::Complaint,
        InboundKind::NotReceived,
        InboundKind::CarrierException,
    ];

    /// The spelling in bodies and in `shopcase.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            InboundKind::Complaint => "complaint",
            InboundKind::NotReceived => "not-received",
            InboundKind::CarrierException => "carrier-exception",
        }
    }

    /// The kind spelled `s`.
    pub fn parse(s: &str) -> Option<InboundKind> {
        InboundKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The host topic its reports become.
    pub fn topic(self) -> &'static str {
        match self {
            InboundKind::Complaint => TOPIC_HELPDESK_COMPLAINT,
            InboundKind::NotReceived => TOPIC_HELPDESK_NOT_RECEIVED,
            InboundKind::CarrierException => TOPIC_CARRIER_EXCEPTION,
        }
    }

    /// The kind whose reports become `topic`.
    pub fn of_topic(topic: &str) -> Option<InboundKind> {
        InboundKind::ALL.into_iter().find(|k| k.topic() == topic)
    }
}

/// How the customer got in touch.
pub const CHANNELS: &[&str] = &["email", "chat", "phone", "social", "web", "other"];

/// The carrier exception codes.
pub const EXCEPTION_CODES: &[&str] = &[
    "delayed",
    "failed-attempt",
    "lost",
    "damaged",
    "returned-to-sender",
    "address-problem",
    "held-at-customs",
    "other",
];

/// A report as a source posts it. See the module documentation.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundBody {
    pub id: String,
    pub kind: String,
    pub shop: String,
    pub occurred_at: String,
    pub order_id: serde_json::Value,
    #[serde(default)]
    pub customer_id: Option<serde_json::Value>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub ticket_id: Option<String>,
    #[serde(default)]
    pub ticket_url: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub customer_email: Option<String>,
    #[serde(default)]
    pub carrier: Option<String>,
    #[serde(default)]
    pub tracking_number: Option<String>,
    #[serde(default)]
    pub exception_code: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub estimated_delivery: Option<String>,
}

/// The normalised report, as stored and (minimised) given to plugins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundPayload {
    /// The configured source that sent it (`[[inbound]] name`).
    pub source: String,
    /// The source's id of the report.
    pub id: String,
    pub kind: InboundKind,
    /// RFC 3339 (the event's `triggered_at` too).
    pub occurred_at: String,
    pub order_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_delivery: Option<String>,
}

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Not the schema: the field and what is wrong.
    #[error("{0}")]
    Malformed(String),
    /// `kind` is not one of [`InboundKind::ALL`].
    #[error("`kind`: `{0}` is not one of complaint, not-received, carrier-exception")]
    UnknownKind(String),
}

/// A field's name and whether the report has it.
type Presence<'a> = (&'a str, bool);

/// 1..=max visible ASCII characters.
fn is_token(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_graphic())
}

/// Trimmed, non-empty, at most `max` bytes, no control characters but
/// newlines and tabs.
fn text_field(name: &str, v: &Option<String>, max: usize) -> Result<Option<String>, BodyError> {
    let Some(v) = v else { return Ok(None) };
    let t = v.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.len() > max {
        return Err(BodyError::Malformed(format!(
            "`{name}`: longer than {max} bytes"
        )));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(BodyError::Malformed(format!(
            "`{name}`: holds control characters"
        )));
    }
    Ok(Some(t.to_owned()))
}

fn token_field(name: &str, v: &Option<String>, max: usize) -> Result<Option<String>, BodyError> {
    match v {
        None => Ok(None),
        Some(s) if is_token(s.trim(), max) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(BodyError::Malformed(format!(
            "`{name}`: 1 to {max} visible ASCII characters"
        ))),
    }
}

fn id_field(name: &str, v: &serde_json::Value) -> Result<u64, BodyError> {
    crate::event::id_of(Some(v))
        .filter(|id| *id > 0)
        .ok_or_else(|| {
            BodyError::Malformed(format!(
                "`{name}`: a Shopify id (a number, a decimal string or a `gid://shopify/…/<id>`)"
            ))
        })
}

impl InboundBody {
    /// Parse a body's bytes: a JSON object of this schema.
    pub fn parse(body: &[u8]) -> Result<InboundBody, BodyError> {
        let text = std::str::from_utf8(body)
            .map_err(|_| BodyError::Malformed("the body is not UTF-8".into()))?;
        if !text.trim_start().starts_with('{') {
            return Err(BodyError::Malformed("the body is not a JSON object".into()));
        }
        serde_json::from_str(text).map_err(|e| BodyError::Malformed(e.to_string()))
    }

    /// The kind, checked.
    pub fn kind(&self) -> Result<InboundKind, BodyError> {
        InboundKind::parse(&self.kind).ok_or_else(|| BodyError::UnknownKind(self.kind.clone()))
    }

    /// Check every field against the schema of its kind, and normalise:
    /// ids to numbers, text trimmed (an empty optional text is left out).
    /// `source` is the configured source the body came from.
    pub fn check(&self, source: &str) -> Result<(InboundPayload, Timestamp), BodyError> {
        use BodyError::Malformed as M;
        let kind = self.kind()?;
        if !is_token(&self.id, MAX_ID) {
            return Err(M(format!("`id`: 1 to {MAX_ID} visible ASCII characters")));
        }
        if !crate::event::is_shop_domain(&self.shop) {
            return Err(M(
                "`shop`: not a store domain like `example.myshopify.com`".into()
            ));
        }
        let occurred =
            crate::time::parse(&self.occurred_at).map_err(|e| M(format!("`occurred_at`: {e}")))?;
        let order_id = id_field("order_id", &self.order_id)?;
        let customer_id = match &self.customer_id {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(id_field("customer_id", v)?),
        };
        let channel = match &self.channel {
            None => None,
            Some(c) if CHANNELS.contains(&c.as_str()) => Some(c.clone()),
            Some(c) => {
                return Err(M(format!(
                    "`channel`: `{c}` is not one of {}",
                    CHANNELS.join(", ")
                )));
            }
        };
        let ticket_url = match &self.ticket_url {
            None => None,
            Some(u) => {
                let ok = u.len() <= MAX_URL
                    && u.starts_with("https://")
                    && u.len() > "https://".len()
                    && u.bytes().all(|b| b.is_ascii_graphic())
                    // No credentials in the address.
                    && !u["https://".len()..]
                        .split(['/', '?', '#'])
                        .next()
                        .unwrap_or("")
                        .contains('@');
                if !ok {
                    return Err(M(format!(
                        "`ticket_url`: an https address without credentials, at most {MAX_URL} characters"
                    )));
                }
                Some(u.clone())
            }
        };
        let customer_email = match &self.customer_email {
            None => None,
            Some(e) if e.len() <= 254 && e.contains('@') && is_token(e, 254) => Some(e.clone()),
            Some(_) => return Err(M("`customer_email`: not an email address".into())),
        };
        let estimated_delivery = match &self.estimated_delivery {
            None => None,
            Some(t) => {
                crate::time::parse(t).map_err(|e| M(format!("`estimated_delivery`: {e}")))?;
                Some(t.clone())
            }
        };
        let exception_code = match &self.exception_code {
            None => None,
            Some(c) if EXCEPTION_CODES.contains(&c.as_str()) => Some(c.clone()),
            Some(c) => {
                return Err(M(format!(
                    "`exception_code`: `{c}` is not one of {}",
                    EXCEPTION_CODES.join(", ")
                )));
            }
        };
        let p = InboundPayload {
            source: source.to_owned(),
            id: self.id.clone(),
            kind,
            occurred_at: self.occurred_at.clone(),
            order_id,
            customer_id,
            channel,
            ticket_id: token_field("ticket_id", &self.ticket_id, MAX_ID)?,
            ticket_url,
            subject: text_field("subject", &self.subject, MAX_SUBJECT)?,
            text: text_field("text", &self.text, MAX_TEXT)?,
            customer_email,
            carrier: text_field("carrier", &self.carrier, MAX_ID)?,
            tracking_number: token_field("tracking_number", &self.tracking_number, MAX_ID)?,
            exception_code,
            description: text_field("description", &self.description, MAX_TEXT)?,
            estimated_delivery,
        };
        // What each kind must and must not carry.
        let present = |v: &Option<String>| v.is_some();
        let (required, foreign): (&[Presence<'_>], &[Presence<'_>]) = match kind {
            InboundKind::Complaint => (
                &[("text", present(&p.text))],
                &[
                    ("exception_code", present(&p.exception_code)),
                    ("estimated_delivery", present(&p.estimated_delivery)),
                ],
            ),
            InboundKind::NotReceived => (
                &[],
                &[
                    ("exception_code", present(&p.exception_code)),
                    ("estimated_delivery", present(&p.estimated_delivery)),
                ],
            ),
            InboundKind::CarrierException => (
                &[
                    ("carrier", present(&p.carrier)),
                    ("tracking_number", present(&p.tracking_number)),
                    ("exception_code", present(&p.exception_code)),
                ],
                &[
                    ("subject", present(&p.subject)),
                    ("text", present(&p.text)),
                    ("channel", present(&p.channel)),
                    ("customer_email", present(&p.customer_email)),
                ],
            ),
        };
        if let Some((name, _)) = required.iter().find(|(_, here)| !here) {
            return Err(M(format!(
                "`{name}`: required in a `{}` report",
                kind.as_str()
            )));
        }
        if let Some((name, _)) = foreign.iter().find(|(_, here)| *here) {
            return Err(M(format!(
                "`{name}`: does not belong in a `{}` report",
                kind.as_str()
            )));
        }
        Ok((p, occurred))
    }
}

/// The body a source would post for an event file of an inbound topic
/// (its payload with `shop` added and `source` removed): how `shopcase
/// demo` and `shopcase inbound sign` turn the scenario files into signed
/// reports. Returns the source and the body, or why the file is not one.
pub fn body_of_event_file(file: &crate::EventFile) -> Result<(String, serde_json::Value), String> {
    let kind = InboundKind::of_topic(&file.topic)
        .ok_or_else(|| format!("`{}` is not an inbound topic", file.topic))?;
    let mut body = file.payload.clone();
    let obj = body
        .as_object_mut()
        .ok_or("the payload is not a JSON object")?;
    let source = obj
        .remove("source")
        .and_then(|s| s.as_str().map(str::to_owned))
        .ok_or("the payload names no `source`")?;
    obj.insert("shop".into(), file.shop.clone().into());
    obj.insert("kind".into(), kind.as_str().into());
    Ok((source, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: serde_json::Value) -> Result<InboundPayload, BodyError> {
        InboundBody::parse(v.to_string().as_bytes())?
            .check("helpdesk")
            .map(|(p, _)| p)
    }

    fn complaint() -> serde_json::Value {
        json!({
            "id": "zd-1", "kind": "complaint", "shop": "demo.myshopify.com",
            "occurred_at": "2026-11-26T10:00:00Z", "order_id": "gid://shopify/Order/12",
            "customer_id": 7, "channel": "email", "subject": " Broken ", "text": "It broke.",
            "ticket_id": "48213", "ticket_url": "https://help.example.com/tickets/48213"
        })
    }

    #[test]
    fn a_complaint_is_normalised() {
        let p = body(complaint()).unwrap();
        assert_eq!(p.kind, InboundKind::Complaint);
        assert_eq!((p.order_id, p.customer_id), (12, Some(7)));
        assert_eq!(p.subject.as_deref(), Some("Broken"));
        assert_eq!(p.source, "helpdesk");
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v["kind"], "complaint");
        assert!(v.get("carrier").is_none(), "absent fields are left out");
        // The normalised payload reads back.
        let back: InboundPayload = serde_json::from_value(v).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn each_kind_has_its_topic() {
        for k in InboundKind::ALL {
            assert_eq!(InboundKind::of_topic(k.topic()), Some(k));
            assert_eq!(InboundKind::parse(k.as_str()), Some(k));
            assert!(is_inbound_topic(k.topic()));
            assert!(crate::manifest::is_topic(k.topic()));
        }
        assert!(!is_inbound_topic("orders/create"));
    }

    #[test]
    fn bad_bodies_are_named() {
        let with = |k: &str, v: serde_json::Value| {
            let mut b = complaint();
            if v.is_null() {
                b.as_object_mut().unwrap().remove(k);
            } else {
                b[k] = v;
            }
            body(b).unwrap_err()
        };
        assert!(matches!(
            with("kind", json!("praise")),
            BodyError::UnknownKind(k) if k == "praise"
        ));
        for (k, v, want) in [
            ("order_id", json!("#1001"), "`order_id`"),
            ("order_id", json!(0), "`order_id`"),
            ("shop", json!("evil.com"), "`shop`"),
            ("occurred_at", json!("yesterday"), "`occurred_at`"),
            ("channel", json!("pigeon"), "`channel`"),
            ("ticket_url", json!("http://x/1"), "`ticket_url`"),
            ("ticket_url", json!("https://user:pw@x/1"), "`ticket_url`"),
            ("text", json!("   "), "`text`: required"),
            ("text", json!("a\u{0}b"), "control"),
            ("id", json!(""), "`id`"),
            ("exception_code", json!("lost"), "does not belong"),
            ("extra", json!(1), "unknown field `extra`"),
            ("shop", serde_json::Value::Null, "missing field `shop`"),
        ] {
            let e = with(k, v).to_string();
            assert!(e.contains(want), "{k}: want {want} in {e}");
        }
        assert!(matches!(
            InboundBody::parse(b"[1]"),
            Err(BodyError::Malformed(_))
        ));
        assert!(InboundBody::parse(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn a_carrier_exception_needs_its_parcel() {
        let ok = json!({
            "id": "trk-9", "kind": "carrier-exception", "shop": "demo.myshopify.com",
            "occurred_at": "2026-11-26T10:00:00Z", "order_id": 12, "carrier": "DHL Express",
            "tracking_number": "JD1", "exception_code": "lost",
            "estimated_delivery": "2026-11-27T10:00:00Z"
        });
        assert_eq!(
            body(ok.clone()).unwrap().exception_code.as_deref(),
            Some("lost")
        );
        let mut no_code = ok.clone();
        no_code.as_object_mut().unwrap().remove("exception_code");
        assert!(
            body(no_code)
                .unwrap_err()
                .to_string()
                .contains("`exception_code`: required")
        );
        let mut bad = ok;
        bad["exception_code"] = json!("eaten");
        assert!(body(bad).unwrap_err().to_string().contains("is not one of"));
    }

    #[test]
    fn an_event_file_becomes_the_body_a_source_posts() {
        let file = crate::EventFile::parse(
            &json!({"topic": "helpdesk/complaint", "shop": "demo.myshopify.com", "payload": {
                "source": "helpdesk", "id": "zd-1", "kind": "complaint",
                "occurred_at": "2026-11-26T10:00:00Z", "order_id": 12, "text": "It broke."
            }})
            .to_string(),
        )
        .unwrap();
        let (source, b) = body_of_event_file(&file).unwrap();
        assert_eq!(source, "helpdesk");
        let (p, _) = InboundBody::parse(b.to_string().as_bytes())
            .unwrap()
            .check(&source)
            .unwrap();
        assert_eq!(serde_json::to_value(&p).unwrap(), file.payload);
        let shopify = crate::EventFile::parse(
            r#"{"topic":"orders/create","shop":"demo.myshopify.com","payload":{"id":1}}"#,
        )
        .unwrap();
        assert!(body_of_event_file(&shopify).is_err());
    }
}
