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

/// `s` moved by `by` if it is an RFC 3339 timestamp (as [`parse`] reads
/// it), written with the offset it had (`Z`, `-05:00`, `+0000`), so a
/// payload keeps its shape; `None` for any other text.
pub fn shift(s: &str, by: SignedDuration) -> Option<String> {
    // Cheap test first: most strings in a payload are not timestamps.
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[10] != b'T' || !b[0].is_ascii_digit() {
        return None;
    }
    let at = parse(s).ok()?.checked_add(by).ok()?;
    let (offset, suffix) = if s.ends_with('Z') || s.ends_with('z') {
        (jiff::tz::Offset::UTC, "Z".to_owned())
    } else {
        let tail = if b[b.len() - 3] == b':' { 6 } else { 5 };
        let text = &s[s.len() - tail..];
        let sign: i32 = if text.starts_with('-') { -1 } else { 1 };
        let digits: String = text[1..].chars().filter(char::is_ascii_digit).collect();
        let hours: i32 = digits.get(..2)?.parse().ok()?;
        let minutes: i32 = digits.get(2..4)?.parse().ok()?;
        let seconds = sign * (hours * 3600 + minutes * 60);
        (
            jiff::tz::Offset::from_seconds(seconds).ok()?,
            text.to_owned(),
        )
    };
    let local = at.to_zoned(jiff::tz::TimeZone::fixed(offset)).datetime();
    Some(format!("{local}{suffix}"))
}

/// Move every RFC 3339 timestamp in a JSON document by `by` (object keys
/// are left alone). Used to replay recorded events as if they had just
/// happened: the gaps between the timestamps stay as recorded.
pub fn shift_json(value: &mut serde_json::Value, by: SignedDuration) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(moved) = shift(s, by) {
                *s = moved;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| shift_json(v, by)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| shift_json(v, by)),
        _ => {}
    }
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

    #[test]
    fn shifting_keeps_each_timestamps_offset_and_leaves_other_text() {
        let day = SignedDuration::from_hours(24);
        assert_eq!(
            shift("2026-11-26T09:14:07-05:00", day).as_deref(),
            Some("2026-11-27T09:14:07-05:00")
        );
        assert_eq!(
            shift("2026-11-26T23:30:00Z", SignedDuration::from_mins(45)).as_deref(),
            Some("2026-11-27T00:15:00Z")
        );
        assert_eq!(
            shift("2026-11-26T10:22:31.193+0000", -day).as_deref(),
            Some("2026-11-25T10:22:31.193+0000")
        );
        assert_eq!(
            shift(
                "2027-03-28T01:30:00+01:00",
                SignedDuration::from_hours(400 * 24)
            )
            .as_deref(),
            Some("2028-05-01T01:30:00+01:00"),
            "a fixed offset, whatever summer time does"
        );
        for text in [
            "2026-11-26",
            "order #2026-11-26T10",
            "complaint",
            "",
            "2026-11-26T10:22:31",
        ] {
            assert_eq!(shift(text, day), None, "{text}");
        }
        let mut doc = serde_json::json!({
            "created_at": "2026-11-26T09:14:07-05:00",
            "2026-11-26T09:14:07Z": "keys stay",
            "items": [{"at": "2026-11-26T10:00:00+01:00", "n": 3, "note": "2026-11-26"}]
        });
        shift_json(&mut doc, day);
        assert_eq!(
            doc,
            serde_json::json!({
                "created_at": "2026-11-27T09:14:07-05:00",
                "2026-11-26T09:14:07Z": "keys stay",
                "items": [{"at": "2026-11-27T10:00:00+01:00", "n": 3, "note": "2026-11-26"}]
            })
        );
    }
}
