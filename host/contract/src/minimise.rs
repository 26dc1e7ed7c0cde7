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
//! | `customer-contact` | `email`, `contact_email`, `phone` anywhere; customer names, notes and marketing consent; addressee names, phones and companies |
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

/// Remove from `payload` every data class `grants` does not give.
pub fn minimise(payload: &mut Value, grants: &Grants) {
    let rules = Rules {
        contact: grants.sees(DataClass::CustomerContact),
        region: grants.sees(DataClass::AddressRegion),
        address: grants.sees(DataClass::Address),
        client: grants.sees(DataClass::ClientDetails),
        payment: grants.sees(DataClass::PaymentDetails),
    };
    if rules.contact && rules.address && rules.client && rules.payment {
        return;
    }
    walk(payload, &rules);
}

/// Minimise JSON text; text that is not JSON is returned as `{}` (the host
/// never hands a plugin something it could not check).
pub fn minimise_text(payload: &str, grants: &Grants) -> String {
    match serde_json::from_str::<Value>(payload) {
        Ok(mut v) => {
            minimise(&mut v, grants);
            v.to_string()
        }
        Err(_) => "{}".to_owned(),
    }
}

struct Rules {
    contact: bool,
    region: bool,
    address: bool,
    client: bool,
    payment: bool,
}

fn walk(v: &mut Value, r: &Rules) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, r)),
        Value::Object(map) => object(map, r),
        _ => {}
    }
}

fn object(map: &mut Map<String, Value>, r: &Rules) {
    let inline_location = STREET_FIELDS.iter().any(|f| map.contains_key(*f));
    map.retain(|k, _| {
        let k = k.as_str();
        !((!r.contact && CONTACT_FIELDS.contains(&k))
            || (!r.client && CLIENT_FIELDS.contains(&k))
            || (!r.payment && PAYMENT_FIELDS.contains(&k))
            || (!r.region && ADDRESS_KEYS.contains(&k))
            || (!r.address && STREET_FIELDS.contains(&k))
            || (!r.region && inline_location && INLINE_REGION_FIELDS.contains(&k)))
    });
    for (k, v) in map.iter_mut() {
        if ADDRESS_KEYS.contains(&k.as_str()) {
            match v {
                Value::Array(items) => items.iter_mut().for_each(|a| address(a, r)),
                a => address(a, r),
            }
        } else if k == "customer" {
            if let Value::Object(c) = v
                && !r.contact
            {
                c.retain(|k, _| !CUSTOMER_CONTACT_FIELDS.contains(&k.as_str()));
            }
            walk(v, r);
        } else {
            walk(v, r);
        }
    }
}

fn address(v: &mut Value, r: &Rules) {
    if let Value::Object(a) = v {
        a.retain(|k, _| {
            let k = k.as_str();
            if ADDRESSEE_FIELDS.contains(&k) {
                r.contact && (r.address || k != "company")
            } else {
                r.address || REGION_FIELDS.contains(&k)
            }
        });
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
        minimise(&mut o, &grants(&[]));
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
        minimise(&mut o, &grants(&[DataClass::AddressRegion]));
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
        minimise(&mut none, &grants(&[]));
        assert_eq!(
            none,
            json!({"id": 1, "status": "delayed", "fulfillment_id": 2, "happened_at": "2026-11-26T10:00:00Z"})
        );
        let mut region = event();
        minimise(&mut region, &grants(&[DataClass::AddressRegion]));
        assert_eq!(region["city"], "Springfield");
        assert!(region.get("address1").is_none() && region.get("latitude").is_none());
        let mut full = event();
        minimise(&mut full, &grants(&[DataClass::Address]));
        assert_eq!(full, event());
    }

    #[test]
    fn full_grants_change_nothing() {
        let mut o = order();
        minimise(&mut o, &grants(DataClass::ALL));
        assert_eq!(o, order());
    }

    #[test]
    fn contact_without_address_keeps_names_but_not_streets() {
        let mut o = order();
        minimise(
            &mut o,
            &grants(&[DataClass::CustomerContact, DataClass::AddressRegion]),
        );
        assert_eq!(o["email"], "a@example.com");
        assert_eq!(o["shipping_address"]["name"], "Ann Lee");
        assert!(o["shipping_address"].get("address1").is_none());
        assert!(o["shipping_address"].get("company").is_none());
        assert!(o.get("browser_ip").is_none());
    }
}
