//! Which refunds shopcase issued.
//!
//! The Shopify executor ends the note of every refund it creates with
//! [`note_marker`] of the journal entry's idempotency key: `[shopcase:<12
//! hex>]`, a digest, so notes carry no internal ids. Anyone can type such a
//! text into a refund note in the Shopify admin, so a marker in a note
//! proves nothing on its own. What the host tells plugins instead is its
//! own verdict, [`ISSUED_FIELD`] on a `refunds/create` payload:
//!
//! - `true` only when a marker in the refund's note is the marker of a
//!   refund entry in this host's journal for the same store and order, and
//!   that entry, if executed, names this very refund in its result (a
//!   marker copied from an earlier shopcase refund onto a new one does not
//!   match: that entry created another refund);
//! - `false` otherwise;
//! - whatever the delivered payload had under that name is replaced
//!   ([`stamp`]), on every `refunds/*` topic.
//!
//! The pipeline's dispatcher applies it before any plugin runs; the
//! minimisation rules let the field through to plugins that receive the
//! refund.

use sha2::{Digest, Sha256};

/// The host-set field of a `refunds/create` payload.
pub const ISSUED_FIELD: &str = "shopcase_issued";

/// `[shopcase:<12 hex>]`: marks a note line or refund note as written for
/// this idempotency key.
pub fn note_marker(idempotency_key: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"note");
    h.update([0]);
    h.update(idempotency_key.as_bytes());
    let digest: [u8; 32] = h.finalize().into();
    format!("[shopcase:{}]", hex::encode(&digest[..6]))
}

/// Every well-formed marker in `note`, in order.
pub fn markers_in(note: &str) -> Vec<&str> {
    const OPEN: &str = "[shopcase:";
    let mut out = Vec::new();
    let mut rest = note;
    while let Some(i) = rest.find(OPEN) {
        let candidate = &rest[i..];
        let body = &candidate[OPEN.len()..];
        let well_formed = body.len() > 12
            && body.as_bytes()[12] == b']'
            && body.as_bytes()[..12]
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
        if well_formed {
            out.push(&candidate[..OPEN.len() + 13]);
        }
        rest = &candidate[OPEN.len()..];
    }
    out
}

/// What the verdict needs of a refund payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundFacts {
    /// The refund's numeric id.
    pub id: Option<u64>,
    /// Its note (empty when none).
    pub note: String,
}

/// The refund's id and note, from a `refunds/*` payload.
pub fn refund_facts(payload: &serde_json::Value) -> RefundFacts {
    RefundFacts {
        id: crate::event::id_of(payload.get("id"))
            .or_else(|| crate::event::id_of(payload.get("admin_graphql_api_id"))),
        note: payload
            .get("note")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    }
}

/// Whether a journalled refund created the refund `refund_id`: its
/// executor result's `detail` names `gid://shopify/Refund/<id>` (as in
/// `refund gid://shopify/Refund/1 of 5.00 EUR on order 2` and
/// `refund gid://shopify/Refund/1 already carries [shopcase:…]`).
pub fn result_names_refund(result: &serde_json::Value, refund_id: u64) -> bool {
    let gid = format!("gid://shopify/Refund/{refund_id}");
    result
        .get("detail")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|d| d.split_whitespace().any(|w| w == gid))
}

/// `payload` with the host's verdict: [`ISSUED_FIELD`] set to `issued` on
/// `refunds/create`, removed on other topics; `None` when the payload is
/// not a JSON object (left as it is: plugins fail on it as before).
pub fn stamp(topic: &str, payload: &str, issued: bool) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(payload).ok()?;
    let obj = v.as_object_mut()?;
    obj.remove(ISSUED_FIELD);
    if topic == "refunds/create" {
        obj.insert(ISSUED_FIELD.to_owned(), serde_json::Value::Bool(issued));
    }
    serde_json::to_string(&v).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_stable_digests() {
        assert_eq!(note_marker("k1"), note_marker("k1"));
        assert_ne!(note_marker("k1"), note_marker("k2"));
        assert_eq!(note_marker("k1").len(), "[shopcase:]".len() + 12);
    }

    #[test]
    fn markers_are_found_only_when_well_formed() {
        let m = note_marker("evt:fraud:3");
        let note = format!("Refund: cancelled {m} and [shopcase:XYZ] [shopcase:0123456789ab]");
        assert_eq!(markers_in(&note), [m.as_str(), "[shopcase:0123456789ab]"]);
        assert!(markers_in("[shopcase:0123456789a]").is_empty());
        assert!(markers_in("no marker").is_empty());
    }

    #[test]
    fn a_result_names_its_refund_exactly() {
        let r =
            serde_json::json!({"detail": "refund gid://shopify/Refund/12 of 5.00 EUR on order 2"});
        assert!(result_names_refund(&r, 12));
        assert!(!result_names_refund(&r, 1));
        assert!(!result_names_refund(&serde_json::json!({}), 12));
    }

    #[test]
    fn the_verdict_replaces_what_the_payload_said() {
        let forged = r#"{"id": 1, "note": "x", "shopcase_issued": true}"#;
        let v: serde_json::Value =
            serde_json::from_str(&stamp("refunds/create", forged, false).unwrap()).unwrap();
        assert_eq!(v[ISSUED_FIELD], false);
        let v: serde_json::Value =
            serde_json::from_str(&stamp("refunds/updated", forged, true).unwrap()).unwrap();
        assert!(v.get(ISSUED_FIELD).is_none());
        assert_eq!(stamp("refunds/create", "[1]", true), None);
        assert_eq!(
            refund_facts(&serde_json::json!({"id": 7, "note": "n"})),
            RefundFacts {
                id: Some(7),
                note: "n".into()
            }
        );
    }
}
