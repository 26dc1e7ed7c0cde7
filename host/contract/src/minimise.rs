//! Data minimisation: a plugin sees only the personal data its manifest
//! grants.
//!
//! The payload is walked once; what a class covers is removed unless the
//! class is granted. The rules are by field name and by the kind of object
//! (addresses, customers), so they apply to every Shopify topic and to
//! nested objects (an order's customer's default address, a fulfillment's
//! destination).
//!
//! | class | removed without it |
//! |---|---|
//! | `customer-contact` | `email`, `contact_email`, `phone` anywhere (addresses included); customer names, notes and marketing consent (of every `customer` object, and of the payload itself on `customers/*` topics); addressee names, phones and companies |
//! | `address-region` | the whole address object (with it: only country, province, city, postal code are kept) |
//! | `address` | street lines, coordinates and company of addresses, and street lines and coordinates anywhere (e.g. a fulfillment event's location) |
//! | `client-details` | `browser_ip`, `client_details`, `customer.last_ip` |
//! | `payment-details` | `payment_details`, `receipt`, `credit_card_*` fields |

use serde_json::{Map, Value};

use crate::manifest::{DataClass, Grants};

/// Keys whose value is a postal address (or a list of them).
const ADDRESS_KEYS: &[&str] = &[
    "billing_address",
    "shipping_address",
    "default_address",
    "addresses",
    "destination",
    "origin_address",
];

/// Address fields kept with `address-region`.
const REGION_FIELDS: &[&str] = &[
    "city",
    "province",
    "province_code",
    "country",
    "country_code",
    "country_name",
    "zip",
    "id",
    "customer_id",
    "default",
];

/// Address fields that identify a person (need `customer-contact`).
const ADDRESSEE_FIELDS: &[&str] = &["name", "first_name", "last_name", "phone", "company"];

/// Street-level location fields, removed at any depth without `address`
/// (fulfillment events carry their location inline).
const STREET_FIELDS: &[&str] = &["address1", "address2", "latitude", "longitude"];

/// Region-level location fields of an inline location (an object with
/// street fields, such as a fulfillment event), removed without
/// `address-region`.
const INLINE_REGION_FIELDS: &[&str] = &[
    "city",
    "province",
    "province_code",
    "country",
    "country_code",
    "zip",
];

/// Contact fields removed at any depth.
const CONTACT_FIELDS: &[&str] = &["email", "contact_email", "phone"];

/// Extra fields of `customer` objects that need `customer-contact`.
const CUSTOMER_CONTACT_FIELDS: &[&str] = &[
    "first_name",
    "last_name",
    "note",
    "multipass_identifier",
    "email_marketing_consent",
    "sms_marketing_consent",
    "accepts_marketing",
];

const CLIENT_FIELDS: &[&str] = &["browser_ip", "client_details", "last_ip"];

const PAYMENT_FIELDS: &[&str] = &[
    "payment_details",
    "receipt",
    "credit_card_bin",
    "credit_card_number",
    "credit_card_company",
    "credit_card_name",
    "avs_result_code",
    "cvv_result_code",
];

/// Whether a payload of `topic` is a customer at its root (`customers/*`
/// topics carry the customer itself, with its names and notes).
fn customer_at_root(topic: &str) -> bool {
    topic.starts_with("customers/")
}

/// Remove from `payload`, a payload of `topic`, every data class `grants`
/// does not give.
pub fn minimise(payload: &mut Value, topic: &str, grants: &Grants) {
    let rules = Rules::of(grants);
    if rules.sees_everything() {
        return;
    }
    match payload {
        Value::Object(map) => object(map, &rules, customer_at_root(topic)),
        v => walk(v, &rules),
    }
}

/// Minimise JSON text; text that is not JSON is returned as `{}` (the host
/// never hands a plugin something it could not check).
///
/// This is the hot path (once per event and plugin), so it filters the
/// text in one streaming pass, copying kept values verbatim, instead of
/// building a tree; it applies exactly the rules of [`minimise`], which the
/// tests check on every payload in the repository.
pub fn minimise_text(payload: &str, topic: &str, grants: &Grants) -> String {
    let mut f = Filter {
        src: payload.as_bytes(),
        pos: 0,
        out: Vec::with_capacity(payload.len()),
        rules: Rules::of(grants),
        depth: 0,
    };
    let root = if customer_at_root(topic) {
        Ctx::Customer
    } else {
        Ctx::Normal
    };
    let ok = f.ws().is_ok() && f.value(root).is_ok() && f.ws().is_ok() && f.pos == f.src.len();
    if !ok {
        return "{}".to_owned();
    }
    // Only whole tokens of a `&str` were copied, so this is valid UTF-8.
    String::from_utf8(f.out).unwrap_or_else(|_| "{}".to_owned())
}

#[derive(Clone, Copy)]
struct Rules {
    contact: bool,
    region: bool,
    address: bool,
    client: bool,
    payment: bool,
}

impl Rules {
    fn of(grants: &Grants) -> Rules {
        Rules {
            contact: grants.sees(DataClass::CustomerContact),
            region: grants.sees(DataClass::AddressRegion),
            address: grants.sees(DataClass::Address),
            client: grants.sees(DataClass::ClientDetails),
            payment: grants.sees(DataClass::PaymentDetails),
        }
    }

    fn sees_everything(self) -> bool {
        self.contact && self.address && self.client && self.payment
    }

    /// Whether a member of an ordinary object (or a customer) is removed.
    fn drops(self, k: &str, inline_location: bool, customer: bool) -> bool {
        (!self.contact && CONTACT_FIELDS.contains(&k))
            || (!self.client && CLIENT_FIELDS.contains(&k))
            || (!self.payment && PAYMENT_FIELDS.contains(&k))
            || (!self.region && ADDRESS_KEYS.contains(&k))
            || (!self.address && STREET_FIELDS.contains(&k))
            || (!self.region && inline_location && INLINE_REGION_FIELDS.contains(&k))
            || (customer && !self.contact && CUSTOMER_CONTACT_FIELDS.contains(&k))
    }

    /// Whether a member of an address object is kept.
    fn keeps_in_address(self, k: &str) -> bool {
        if CONTACT_FIELDS.contains(&k) {
            // A fulfillment order's destination carries the email too.
            self.contact
        } else if ADDRESSEE_FIELDS.contains(&k) {
            self.contact && (self.address || k != "company")
        } else {
            self.address || REGION_FIELDS.contains(&k)
        }
    }
}

/// What kind of object a value is, for the rules.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Normal,
    Customer,
    /// An address, or a list of addresses.
    Address,
}

/// Deeper JSON than this is refused (as serde_json does).
const MAX_DEPTH: usize = 128;

struct Bad;

/// The streaming filter behind [`minimise_text`].
struct Filter<'a> {
    src: &'a [u8],
    pos: usize,
    out: Vec<u8>,
    rules: Rules,
    depth: usize,
}

impl<'a> Filter<'a> {
    fn peek(&self) -> Result<u8, Bad> {
        self.src.get(self.pos).copied().ok_or(Bad)
    }

    fn ws(&mut self) -> Result<(), Bad> {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.src.get(self.pos) {
            self.pos += 1;
        }
        Ok(())
    }

    fn expect(&mut self, b: u8) -> Result<(), Bad> {
        if self.peek()? != b {
            return Err(Bad);
        }
        self.pos += 1;
        Ok(())
    }

    /// Filter one value of kind `ctx` into the output.
    fn value(&mut self, ctx: Ctx) -> Result<(), Bad> {
        match self.peek()? {
            b'{' => self.object(ctx),
            b'[' => self.array(ctx),
            _ => {
                let start = self.pos;
                self.scalar()?;
                self.out.extend_from_slice(&self.src[start..self.pos]);
                Ok(())
            }
        }
    }

    /// Copy one value verbatim (address members are not filtered deeper).
    fn copy(&mut self) -> Result<(), Bad> {
        let start = self.pos;
        self.skip()?;
        self.out.extend_from_slice(&self.src[start..self.pos]);
        Ok(())
    }

    fn enter(&mut self) -> Result<(), Bad> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(Bad)
        } else {
            Ok(())
        }
    }

    fn array(&mut self, ctx: Ctx) -> Result<(), Bad> {
        self.enter()?;
        self.expect(b'[')?;
        self.out.push(b'[');
        self.ws()?;
        if self.peek()? == b']' {
            self.pos += 1;
        } else {
            // Lists under an address key are lists of addresses; anything
            // else is an ordinary value (as in `minimise`).
            let elements = if ctx == Ctx::Address {
                Ctx::Address
            } else {
                Ctx::Normal
            };
            loop {
                self.ws()?;
                if ctx == Ctx::Address && self.peek()? == b'[' {
                    self.copy()?;
                } else {
                    self.value(elements)?;
                }
                self.ws()?;
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        self.out.push(b',');
                    }
                    b']' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(Bad),
                }
            }
        }
        self.out.push(b']');
        self.depth -= 1;
        Ok(())
    }

    fn object(&mut self, ctx: Ctx) -> Result<(), Bad> {
        self.enter()?;
        // Inline locations change the rules for the whole object, so look at
        // its keys first when that can matter.
        let inline_location = ctx != Ctx::Address && !self.rules.region && self.has_street_key()?;
        self.expect(b'{')?;
        self.out.push(b'{');
        let mut first = true;
        self.ws()?;
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                self.ws()?;
                let key_start = self.pos;
                let key = self.key()?;
                let key_end = self.pos;
                self.ws()?;
                self.expect(b':')?;
                self.ws()?;
                let keep = match ctx {
                    Ctx::Address => self.rules.keeps_in_address(&key),
                    _ => !self
                        .rules
                        .drops(&key, inline_location, ctx == Ctx::Customer),
                };
                if keep {
                    if !first {
                        self.out.push(b',');
                    }
                    first = false;
                    self.out.extend_from_slice(&self.src[key_start..key_end]);
                    self.out.push(b':');
                    match ctx {
                        Ctx::Address => self.copy()?,
                        _ if ADDRESS_KEYS.contains(&key.as_ref()) => self.value(Ctx::Address)?,
                        _ if key == "customer" => self.value(Ctx::Customer)?,
                        _ => self.value(Ctx::Normal)?,
                    }
                } else {
                    self.skip()?;
                }
                self.ws()?;
                match self.peek()? {
                    b',' => self.pos += 1,
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(Bad),
                }
            }
        }
        self.out.push(b'}');
        self.depth -= 1;
        Ok(())
    }

    /// Whether the object starting here has a street-level key.
    fn has_street_key(&mut self) -> Result<bool, Bad> {
        let save = self.pos;
        let mut found = false;
        self.expect(b'{')?;
        self.ws()?;
        if self.peek()? != b'}' {
            loop {
                self.ws()?;
                let key = self.key()?;
                found |= STREET_FIELDS.contains(&key.as_ref());
                self.ws()?;
                self.expect(b':')?;
                self.ws()?;
                self.skip()?;
                self.ws()?;
                match self.peek()? {
                    b',' => self.pos += 1,
                    b'}' => break,
                    _ => return Err(Bad),
                }
            }
        }
        self.pos = save;
        Ok(found)
    }

    /// A string token; returns its text (unescaped only if it has escapes).
    fn key(&mut self) -> Result<std::borrow::Cow<'a, str>, Bad> {
        let start = self.pos;
        let escaped = self.string()?;
        let src: &'a [u8] = self.src;
        let raw = &src[start..self.pos];
        if escaped {
            let s: String = serde_json::from_slice(raw).map_err(|_| Bad)?;
            Ok(std::borrow::Cow::Owned(s))
        } else {
            let inner = std::str::from_utf8(&raw[1..raw.len() - 1]).map_err(|_| Bad)?;
            Ok(std::borrow::Cow::Borrowed(inner))
        }
    }

    /// Skip a string token; returns whether it contains escapes.
    fn string(&mut self) -> Result<bool, Bad> {
        self.expect(b'"')?;
        let mut escaped = false;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.pos += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 1,
                        b'u' => {
                            let hex = self.src.get(self.pos + 1..self.pos + 5).ok_or(Bad)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return Err(Bad);
                            }
                            self.pos += 5;
                        }
                        _ => return Err(Bad),
                    }
                }
                c if c < 0x20 => return Err(Bad),
                _ => self.pos += 1,
            }
        }
    }

    /// Skip a string, number or literal.
    fn scalar(&mut self) -> Result<(), Bad> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Bad),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Bad> {
        if self.src.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Bad)
        }
    }

    fn number(&mut self) -> Result<(), Bad> {
        let digits = |f: &mut Self| {
            let start = f.pos;
            while f.src.get(f.pos).is_some_and(u8::is_ascii_digit) {
                f.pos += 1;
            }
            if f.pos == start { Err(Bad) } else { Ok(()) }
        };
        if self.peek()? == b'-' {
            self.pos += 1;
        }
        digits(self)?;
        if self.src.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            digits(self)?;
        }
        if let Some(b'e' | b'E') = self.src.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.src.get(self.pos) {
                self.pos += 1;
            }
            digits(self)?;
        }
        Ok(())
    }

    /// Skip any value.
    fn skip(&mut self) -> Result<(), Bad> {
        match self.peek()? {
            b'{' | b'[' => {
                let close = if self.peek()? == b'{' { b'}' } else { b']' };
                self.enter()?;
                self.pos += 1;
                self.ws()?;
                if self.peek()? == close {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws()?;
                        if close == b'}' {
                            self.string()?;
                            self.ws()?;
                            self.expect(b':')?;
                            self.ws()?;
                        }
                        self.skip()?;
                        self.ws()?;
                        match self.peek()? {
                            b',' => self.pos += 1,
                            c if c == close => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(Bad),
                        }
                    }
                }
                self.depth -= 1;
                Ok(())
            }
            _ => self.scalar(),
        }
    }
}

fn walk(v: &mut Value, r: &Rules) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, r)),
        Value::Object(map) => object(map, r, false),
        _ => {}
    }
}

/// An object; `customer`: it is a customer (its names and notes are
/// contact data).
fn object(map: &mut Map<String, Value>, r: &Rules, customer: bool) {
    let inline_location = STREET_FIELDS.iter().any(|f| map.contains_key(*f));
    map.retain(|k, _| !r.drops(k, inline_location, customer));
    for (k, v) in map.iter_mut() {
        if ADDRESS_KEYS.contains(&k.as_str()) {
            match v {
                Value::Array(items) => items.iter_mut().for_each(|a| address(a, r)),
                a => address(a, r),
            }
        } else if k == "customer"
            && let Value::Object(c) = v
        {
            object(c, r, true);
        } else {
            walk(v, r);
        }
    }
}

fn address(v: &mut Value, r: &Rules) {
    if let Value::Object(a) = v {
        a.retain(|k, _| r.keeps_in_address(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order() -> Value {
        json!({
            "id": 1, "name": "#1001", "email": "a@example.com", "phone": "+1555",
            "browser_ip": "203.0.113.9",
            "client_details": {"browser_ip": "203.0.113.9", "user_agent": "x"},
            "total_price": "10.00",
            "shipping_address": {"first_name": "Ann", "last_name": "Lee", "name": "Ann Lee",
                "address1": "1 Main St", "city": "Springfield", "zip": "12345", "country_code": "US",
                "phone": "+1555", "company": "ACME", "latitude": 1.0},
            "customer": {"id": 7, "email": "a@example.com", "first_name": "Ann", "note": "vip",
                "default_address": {"address1": "1 Main St", "country_code": "US", "name": "Ann Lee"}},
            "line_items": [{"name": "Shirt", "title": "Shirt", "price": "10.00"}],
            "transactions": [{"payment_details": {"credit_card_bin": "411111"}, "gateway": "bogus"}]
        })
    }

    fn grants(classes: &[DataClass]) -> Grants {
        Grants {
            data: classes.iter().copied().collect(),
            ..Grants::default()
        }
    }

    fn all_strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|i| all_strings(i, out)),
            Value::Object(m) => m.values().for_each(|i| all_strings(i, out)),
            _ => {}
        }
    }

    #[test]
    fn nothing_granted_leaves_no_personal_data() {
        let mut o = order();
        minimise(&mut o, "", &grants(&[]));
        let mut strings = vec![];
        all_strings(&o, &mut strings);
        for secret in [
            "a@example.com",
            "+1555",
            "Ann",
            "Ann Lee",
            "1 Main St",
            "203.0.113.9",
            "411111",
            "vip",
            "Springfield",
        ] {
            assert!(
                !strings.iter().any(|s| s == secret),
                "{secret} survived: {o}"
            );
        }
        // Business data stays.
        assert_eq!(o["name"], "#1001");
        assert_eq!(o["line_items"][0]["name"], "Shirt");
        assert_eq!(o["customer"]["id"], 7);
        assert_eq!(o["transactions"][0]["gateway"], "bogus");
        assert!(o.get("shipping_address").is_none());
    }

    #[test]
    fn region_keeps_only_coarse_address_fields() {
        let mut o = order();
        minimise(&mut o, "", &grants(&[DataClass::AddressRegion]));
        assert_eq!(
            o["shipping_address"],
            json!({"city": "Springfield", "zip": "12345", "country_code": "US"})
        );
        assert_eq!(
            o["customer"]["default_address"],
            json!({"country_code": "US"})
        );
    }

    #[test]
    fn inline_locations_follow_the_address_classes() {
        let event = || {
            json!({"id": 1, "status": "delayed", "fulfillment_id": 2, "address1": "1 Main St",
                   "latitude": 1.5, "longitude": 2.5, "city": "Springfield", "zip": "12345",
                   "country": "US", "province": "IL", "happened_at": "2026-11-26T10:00:00Z"})
        };
        let mut none = event();
        minimise(&mut none, "", &grants(&[]));
        assert_eq!(
            none,
            json!({"id": 1, "status": "delayed", "fulfillment_id": 2, "happened_at": "2026-11-26T10:00:00Z"})
        );
        let mut region = event();
        minimise(&mut region, "", &grants(&[DataClass::AddressRegion]));
        assert_eq!(region["city"], "Springfield");
        assert!(region.get("address1").is_none() && region.get("latitude").is_none());
        let mut full = event();
        minimise(&mut full, "", &grants(&[DataClass::Address]));
        assert_eq!(full, event());
    }

    /// Every payload in the repository, under every combination of grants:
    /// the streaming filter gives exactly what the tree-based rules give.
    #[test]
    fn streaming_filter_matches_the_rules_on_every_payload() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut payloads = vec![(String::new(), order())];
        let mut dirs = vec![
            root.join("examples"),
            root.join("sdk"),
            root.join("plugins"),
        ];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() && !p.ends_with("node_modules") && !p.ends_with("target") {
                    dirs.push(p);
                } else if p.extension().is_some_and(|x| x == "json")
                    && let Ok(text) = std::fs::read_to_string(&p)
                    && let Ok(v) = serde_json::from_str::<Value>(&text)
                {
                    let topic = v.get("topic").and_then(Value::as_str).unwrap_or("");
                    payloads.push((topic.to_owned(), v.get("payload").cloned().unwrap_or(v)));
                }
            }
        }
        assert!(
            payloads.len() > 20,
            "found only {} payloads",
            payloads.len()
        );
        for (topic, payload) in &payloads {
            let text = payload.to_string();
            let pretty = serde_json::to_string_pretty(payload).unwrap();
            for mask in 0..32u32 {
                let classes: Vec<DataClass> = DataClass::ALL
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, c)| *c)
                    .collect();
                let g = grants(&classes);
                // Each payload as its own topic, and as a customer.
                for topic in [topic.as_str(), "customers/update"] {
                    let mut want = payload.clone();
                    minimise(&mut want, topic, &g);
                    for input in [&text, &pretty] {
                        let got: Value =
                            serde_json::from_str(&minimise_text(input, topic, &g)).unwrap();
                        assert_eq!(got, want, "grants {classes:?} as {topic} on {text:.200}");
                    }
                }
            }
        }
    }

    #[test]
    fn malformed_text_becomes_an_empty_object() {
        let g = grants(&[]);
        for bad in [
            "",
            "{",
            "{\"a\":}",
            "[1,]",
            "{\"a\" 1}",
            "nul",
            "\"\\u12\"",
            "{\"a\":1} x",
            "01x",
        ] {
            assert_eq!(minimise_text(bad, "", &g), "{}", "{bad:?}");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert_eq!(minimise_text(&deep, "", &g), "{}");
        // Escaped keys are still recognised.
        assert_eq!(
            minimise_text(r#"{"em\u0061il":"a@b.c","id":1}"#, "", &g),
            r#"{"id":1}"#
        );
        // Values are copied verbatim, whitespace is dropped.
        assert_eq!(
            minimise_text("{ \"x\" : 1.50 , \"s\":\"a\\nb\" }", "", &g),
            r#"{"x":1.50,"s":"a\nb"}"#
        );
    }

    #[test]
    fn contact_fields_in_an_address_need_customer_contact() {
        let fo = json!({"id": 1, "destination": {"email": "a@example.com", "phone": "+1555",
            "address1": "1 Main St", "city": "Springfield", "country_code": "US"}});
        let g = grants(&[DataClass::Address]);
        let mut tree = fo.clone();
        minimise(&mut tree, "fulfillment_orders/placed_on_hold", &g);
        assert_eq!(
            tree["destination"],
            json!({"address1": "1 Main St", "city": "Springfield", "country_code": "US"})
        );
        let text: Value = serde_json::from_str(&minimise_text(
            &fo.to_string(),
            "fulfillment_orders/placed_on_hold",
            &g,
        ))
        .unwrap();
        assert_eq!(text, tree);
    }

    #[test]
    fn a_customers_topic_payload_is_a_customer() {
        let customer = json!({"id": 7, "email": "a@example.com", "first_name": "Ann", "last_name": "Lee",
            "note": "prefers mornings", "tags": "VIP", "orders_count": 3,
            "default_address": {"first_name": "Ann", "city": "Springfield", "country_code": "US"}});
        let g = grants(&[DataClass::AddressRegion]);
        let mut tree = customer.clone();
        minimise(&mut tree, "customers/update", &g);
        assert_eq!(
            tree,
            json!({"id": 7, "tags": "VIP", "orders_count": 3,
                "default_address": {"city": "Springfield", "country_code": "US"}})
        );
        let text: Value = serde_json::from_str(&minimise_text(
            &customer.to_string(),
            "customers/update",
            &g,
        ))
        .unwrap();
        assert_eq!(text, tree);
        // Granted: the names stay.
        let mut seen = customer.clone();
        minimise(
            &mut seen,
            "customers/update",
            &grants(&[DataClass::CustomerContact]),
        );
        assert_eq!(seen["first_name"], "Ann");
        // Another topic's root is not a customer.
        let mut order = json!({"id": 1, "note": "gift wrap"});
        minimise(&mut order, "orders/create", &grants(&[]));
        assert_eq!(order["note"], "gift wrap");
    }

    #[test]
    fn full_grants_change_nothing() {
        let mut o = order();
        minimise(&mut o, "", &grants(DataClass::ALL));
        assert_eq!(o, order());
    }

    #[test]
    fn contact_without_address_keeps_names_but_not_streets() {
        let mut o = order();
        minimise(
            &mut o,
            "",
            &grants(&[DataClass::CustomerContact, DataClass::AddressRegion]),
        );
        assert_eq!(o["email"], "a@example.com");
        assert_eq!(o["shipping_address"]["name"], "Ann Lee");
        assert!(o["shipping_address"].get("address1").is_none());
        assert!(o["shipping_address"].get("company").is_none());
        assert!(o.get("browser_ip").is_none());
    }
}
