//! Core Case timestamps: ISO 8601 with millisecond precision and a
//! colon-less offset, e.g. `2026-11-26T10:22:31.193+0000`.
//!
//! Reading is lenient (RFC 3339 `Z` and `+00:00` are accepted too, via
//! `shopcase_contract::time::parse`) because a real tenant may write either;
//! writing always uses the API's own form.

pub use jiff::Timestamp;

/// Format `t` the way Core Case writes timestamps, in UTC.
pub fn format(t: Timestamp) -> String {
    let t = t.round(jiff::Unit::Millisecond).unwrap_or(t);
    t.strftime("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// Parse a Core Case timestamp (or any RFC 3339 timestamp with an offset).
pub fn parse(s: &str) -> Option<Timestamp> {
    shopcase_contract::time::parse(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_the_api_and_round_trips() {
        let t: Timestamp = "2026-11-26T10:22:31.193456Z".parse().unwrap();
        assert_eq!(format(t), "2026-11-26T10:22:31.193+0000");
        let whole: Timestamp = "2026-11-26T10:22:31Z".parse().unwrap();
        assert_eq!(format(whole), "2026-11-26T10:22:31.000+0000");
        assert_eq!(
            parse(&format(t)),
            Some(t.round(jiff::Unit::Millisecond).unwrap())
        );
        assert_eq!(
            parse("2026-11-26T11:22:31.193+01:00"),
            parse("2026-11-26T10:22:31.193Z")
        );
        assert_eq!(parse("yesterday"), None);
    }
}
