//! Finding and scrubbing one customer's personal data. Pure functions; the
//! storage implementations decide which rows to pass through them.
//!
//! What `customers/redact` does to each kind of stored data:
//!
//! | data | what happens |
//! |---|---|
//! | inbox payloads of the customer's events (their customer id, one of the named orders, or a payload that mentions them) | every personal-data class is removed as for a plugin granted nothing ([`shopcase_contract::minimise`]: contact details, names, addresses, client IPs, payment details, the customer's free text; fields the host does not know go too), and any remaining mention of the customer (email, phone, names) in free text is replaced by `[redacted]`; the event is marked redacted |
//! | journal action and result JSON | mentions of the customer in every string are replaced by `[redacted]`; documents whose content mentions them have their content replaced |
//! | key-value entries whose key or value mentions the customer (email, phone, names, or the customer id / a named order id as a whole token) | deleted |
//! | timers' data, dead-letter reasons, dispatch failure messages, audit details, held operations and approvers' comments | mentions replaced by `[redacted]` |
//! | numeric Shopify ids (customer, order), case links | kept: they are pseudonymous references the case system and the idempotency keys need, and hold no contact data |
//!
//! "Mentions" are: the request's email addresses and phone numbers (case
//! insensitive, phones also by their digits), and the names, street lines
//! (`address1`, `address2`) and further emails/phones found in the
//! customer's own events before they are scrubbed (names match as whole
//! words).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use shopcase_contract::Grants;

/// What replaces a mention.
pub const REDACTED: &str = "[redacted]";

/// What identifies a customer in stored text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needles {
    /// Matched anywhere (emails, phones), lowercase.
    substrings: Vec<String>,
    /// Matched as whole words (names), lowercase.
    words: Vec<String>,
    /// Matched as whole tokens in key-value data.
    ids: Vec<String>,
}

impl Needles {
    /// From the request's emails, phones and ids.
    pub fn new(emails: &[String], phones: &[String], ids: &[u64]) -> Needles {
        let mut n = Needles::default();
        for e in emails {
            n.add_substring(e);
        }
        for p in phones {
            n.add_phone(p);
        }
        n.ids = ids.iter().map(u64::to_string).collect();
        n
    }

    fn add_substring(&mut self, s: &str) {
        let s = s.trim().to_ascii_lowercase();
        // Very short strings would match unrelated text.
        if s.len() >= 4 && !self.substrings.contains(&s) {
            self.substrings.push(s);
        }
    }

    fn add_phone(&mut self, p: &str) {
        self.add_substring(p);
        let digits: String = p.chars().filter(char::is_ascii_digit).collect();
        if digits.len() >= 7 {
            self.add_substring(&digits);
        }
        // Without the country code, as national formats write it.
        if digits.len() > 10 {
            self.add_substring(&digits[digits.len() - 10..]);
        }
    }

    fn add_word(&mut self, w: &str) {
        for part in w.split_whitespace() {
            let part = part
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_ascii_lowercase();
            if part.chars().count() >= 2 && !self.words.contains(&part) {
                self.words.push(part);
            }
        }
        let whole = w.trim().to_ascii_lowercase();
        if whole.contains(' ') && whole.len() >= 4 && !self.substrings.contains(&whole) {
            self.substrings.push(whole);
        }
    }

    /// Learn more of the customer's identifiers from one of their own
    /// payloads: the customer's names, emails and phones, and the names,
    /// phones and emails on addresses.
    pub fn learn_from(&mut self, payload: &Value, customer_id: u64) {
        let customer_matches =
            |c: &Value| shopcase_contract::event::id_of(c.get("id")) == Some(customer_id);
        // The order-level contact fields belong to the event's customer.
        if let Some(c) = payload.get("customer")
            && customer_matches(c)
        {
            for k in ["email", "contact_email", "phone"] {
                if let Some(v) = payload.get(k).and_then(Value::as_str) {
                    self.add_contact(k, v);
                }
            }
            self.learn_person(c);
            for k in ["billing_address", "shipping_address"] {
                if let Some(a) = payload.get(k) {
                    self.learn_person(a);
                }
            }
        }
        // A customers/* payload is the customer itself.
        if customer_matches(payload) {
            self.learn_person(payload);
        }
    }

    fn add_contact(&mut self, key: &str, v: &str) {
        if key == "phone" {
            self.add_phone(v)
        } else {
            self.add_substring(v)
        }
    }

    fn learn_person(&mut self, v: &Value) {
        let Some(o) = v.as_object() else { return };
        for (k, val) in o {
            match (k.as_str(), val) {
                ("email" | "contact_email" | "phone", Value::String(s)) => self.add_contact(k, s),
                ("first_name" | "last_name" | "name", Value::String(s)) => self.add_word(s),
                // Street lines identify the customer as much as a phone
                // does; plugins granted addresses copy them into cases.
                ("address1" | "address2", Value::String(s)) => self.add_substring(s),
                ("default_address" | "addresses", a) => match a {
                    Value::Array(items) => items.iter().for_each(|i| self.learn_person(i)),
                    a => self.learn_person(a),
                },
                _ => {}
            }
        }
    }

    /// Whether there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.substrings.is_empty() && self.words.is_empty() && self.ids.is_empty()
    }

    /// Whether `text` mentions the customer (emails, phones, names).
    pub fn mentioned_in(&self, text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        self.substrings.iter().any(|s| lower.contains(s.as_str()))
            || self.words.iter().any(|w| find_word(&lower, w, 0).is_some())
    }

    /// Whether `text` mentions the customer, or holds one of the ids as a
    /// whole token (`customer:7001:count`, `{"order":5001}`).
    pub fn mentioned_with_ids_in(&self, text: &str) -> bool {
        self.mentioned_in(text)
            || text
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|tok| self.ids.iter().any(|id| id == tok))
    }

    /// `text` with every mention replaced by [`REDACTED`].
    pub fn scrub_text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.substrings {
            out = replace_ci(&out, s, false);
        }
        for w in &self.words {
            out = replace_ci(&out, w, true);
        }
        out
    }

    /// Replace mentions in every string of a JSON value (and the content of
    /// documents that mention the customer). Returns whether anything changed.
    pub fn scrub_json(&self, v: &mut Value) -> bool {
        match v {
            Value::String(s) => {
                let scrubbed = self.scrub_text(s);
                let changed = scrubbed != *s;
                *s = scrubbed;
                changed
            }
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |acc, i| self.scrub_json(i) | acc),
            Value::Object(map) => {
                let mut changed = false;
                let is_document = map.contains_key("content_type");
                if is_document
                    && let Some(Value::String(content)) = map.get_mut("content")
                    && let Ok(bytes) = STANDARD.decode(content.as_bytes())
                    && self.mentioned_in(&String::from_utf8_lossy(&bytes))
                {
                    *content = STANDARD.encode(REDACTED);
                    changed = true;
                }
                for (k, item) in map.iter_mut() {
                    // Base64 content is checked decoded (above), never as text.
                    if is_document && k == "content" {
                        continue;
                    }
                    changed |= self.scrub_json(item);
                }
                changed
            }
            _ => false,
        }
    }

    /// A payload of `topic` with every personal-data class removed and
    /// remaining mentions replaced. Text that is not JSON becomes `{}`.
    pub fn scrub_payload(&self, topic: &str, payload: &str) -> String {
        match serde_json::from_str::<Value>(payload) {
            Ok(mut v) => {
                shopcase_contract::minimise::minimise(&mut v, topic, &Grants::default());
                self.scrub_json(&mut v);
                v.to_string()
            }
            Err(_) => "{}".to_owned(),
        }
    }
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80
}

/// The byte offset of `needle` (lowercase ASCII) in `lower` as a whole word.
fn find_word(lower: &str, needle: &str, from: usize) -> Option<usize> {
    let bytes = lower.as_bytes();
    let mut start = from;
    while let Some(pos) = lower.get(start..)?.find(needle) {
        let at = start + pos;
        let end = at + needle.len();
        let before_ok = at == 0 || !is_word_byte(bytes[at - 1]);
        let after_ok = end >= bytes.len() || !is_word_byte(bytes[end]);
        if before_ok && after_ok {
            return Some(at);
        }
        start = at + 1;
        while start < lower.len() && !lower.is_char_boundary(start) {
            start += 1;
        }
    }
    None
}

/// Replace ASCII-case-insensitive occurrences of `needle` (lowercase).
/// ASCII lowercasing keeps byte offsets, so positions found in the
/// lowercased copy are valid in the original.
fn replace_ci(text: &str, needle: &str, whole_word: bool) -> String {
    if needle.is_empty() {
        return text.to_owned();
    }
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut from = 0;
    loop {
        let found = if whole_word {
            find_word(&lower, needle, from)
        } else {
            lower
                .get(from..)
                .and_then(|s| s.find(needle))
                .map(|p| p + from)
        };
        let Some(at) = found else { break };
        out.push_str(&text[last..at]);
        out.push_str(REDACTED);
        last = at + needle.len();
        from = last;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn needles() -> Needles {
        let mut n = Needles::new(
            &["Ann@Example.com".into()],
            &["+1 555-010-0199".into()],
            &[7001, 5001],
        );
        n.learn_from(
            &json!({"id": 5001, "customer": {"id": 7001, "first_name": "Ann", "last_name": "Lee-Smith"},
                    "shipping_address": {"name": "Ann Lee-Smith", "phone": "555 222 3333", "address1": "12 Birch Lane"}}),
            7001,
        );
        n
    }

    #[test]
    fn finds_mentions_case_insensitively_and_names_as_words() {
        let n = needles();
        assert!(n.mentioned_in("contact ANN@example.COM please"));
        assert!(n.mentioned_in("call 5550100199"), "phone by digits");
        assert!(n.mentioned_in("call 555 222 3333"), "learned phone");
        assert!(n.mentioned_in("spoke to ann today"));
        assert!(
            n.mentioned_in("ships to 12 birch lane"),
            "learned street line"
        );
        assert!(!n.mentioned_in("annual report"), "names are whole words");
        assert!(n.mentioned_with_ids_in("customer:7001:count"));
        assert!(!n.mentioned_with_ids_in("customer:17001:count"));
        assert!(n.mentioned_with_ids_in(r#"{"order":5001}"#));
    }

    #[test]
    fn scrubs_text_and_json_but_keeps_business_data() {
        let n = needles();
        assert_eq!(
            n.scrub_text("Ann wrote from ann@example.com"),
            "[redacted] wrote from [redacted]"
        );
        let mut v = json!({"title": "Fraud check for Ann Lee-Smith", "amount": "10.00", "tags": ["vip", "ann"]});
        assert!(n.scrub_json(&mut v));
        assert_eq!(
            v,
            json!({"title": "Fraud check for [redacted]", "amount": "10.00", "tags": ["vip", "[redacted]"]})
        );
        let mut untouched = json!({"title": "Annual review"});
        assert!(!n.scrub_json(&mut untouched));
    }

    #[test]
    fn scrubs_document_contents_that_mention_the_customer() {
        let n = needles();
        let mut doc = json!({"name": "evidence.txt", "content_type": "text/plain", "description": "",
                              "content": STANDARD.encode("customer ann@example.com complained")});
        assert!(n.scrub_json(&mut doc));
        assert_eq!(doc["content"], STANDARD.encode(REDACTED));
        let mut other = json!({"name": "x.txt", "content_type": "text/plain", "description": "", "content": STANDARD.encode("nothing here")});
        assert!(!n.scrub_json(&mut other));
    }

    #[test]
    fn payloads_lose_every_personal_data_class() {
        let n = needles();
        let payload = json!({"id": 5001, "email": "ann@example.com", "note": "Ann asked for gift wrap",
            "customer": {"id": 7001, "first_name": "Ann", "email": "ann@example.com"},
            "shipping_address": {"address1": "1 Main St", "city": "Springfield"}, "total_price": "10.00",
            "tags": "vip, Ann"});
        let out: Value =
            serde_json::from_str(&n.scrub_payload("orders/create", &payload.to_string())).unwrap();
        // The note is the customer's free text (`customer-notes`): gone
        // with the other classes; a mention left in a field every plugin
        // sees (a tag) is replaced.
        assert_eq!(
            out,
            json!({"id": 5001, "customer": {"id": 7001}, "total_price": "10.00", "tags": "vip, [redacted]"})
        );
        assert_eq!(n.scrub_payload("orders/create", "not json"), "{}");
    }
}
