//! Timestamps at the plugin boundary: RFC 3339 strings with an offset.

pub use jiff::{SignedDuration, Timestamp};

/// Parse an RFC 3339 timestamp with an offset (`Z`, `+02:00`, or Core
/// Case's `+0000`).
pub fn parse(s: &str) -> Result<Timestamp, String> {
    if s.len() > 64 {
        return Err("timestamp is too long".into());
    }
    s.parse::<Timestamp>()
        .or_else(|first| {
            // `...+0000` (no colon), as Core Case writes it.
            let b = s.as_bytes();
            if b.len() > 5
                && matches!(b[b.len() - 5], b'+' | b'-')
                && b[b.len() - 4..].iter().all(u8::is_ascii_digit)
            {
                let fixed = format!("{}:{}", &s[..s.len() - 2], &s[s.len() - 2..]);
                fixed.parse::<Timestamp>().map_err(|_| first)
            } else {
                Err(first)
            }
        })
        .map_err(|_| format!("`{s}` is not an RFC 3339 timestamp like 2026-11-26T10:22:31Z"))
}

/// Format as RFC 3339 in UTC with millisecond precision at most.
pub fn format(t: Timestamp) -> String {
    t.round(jiff::Unit::Millisecond).unwrap_or(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_rfc3339_and_core_case_offsets() {
        let a = parse("2026-11-26T10:22:31.193Z").unwrap();
        let b = parse("2026-11-26T10:22:31.193+0000").unwrap();
        let c = parse("2026-11-26T11:22:31.193+01:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(format(a), "2026-11-26T10:22:31.193Z");
        assert!(parse("2026-11-26 10:22").is_err());
        assert!(
            parse("2026-11-26T10:22:31").is_err(),
            "an offset is required"
        );
    }
}
