//! RFC 3339 timestamps, small enough for a plugin: parse, add, compare and
//! format back, with no date crate.
//!
//! A plugin has no clock: its "now" is the event's `triggered-at`
//! ([`crate::Event::triggered_at`]). Deadlines are computed from it:
//!
//! ```
//! use shopcase_sdk::Timestamp;
//! let now = Timestamp::parse("2026-11-26T23:30:00+01:00").unwrap();
//! assert_eq!(now.plus_hours(48).to_string(), "2026-11-28T22:30:00Z");
//! ```
//!
//! Timestamps are kept as UTC seconds and nanoseconds since 1970 and
//! formatted in UTC (`Z`) with at most millisecond precision, as the host
//! does. Years 0000 to 9999 are representable; arithmetic past them stops at
//! the bound, so nothing here panics on any input.

use std::fmt;
use std::str::FromStr;

/// `0000-01-01T00:00:00Z`, in seconds since 1970.
const MIN_SECS: i64 = -62_167_219_200;
/// `9999-12-31T23:59:59Z`, in seconds since 1970.
const MAX_SECS: i64 = 253_402_300_799;

/// An instant, from an RFC 3339 timestamp with an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

/// A string that is not an RFC 3339 timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError {
    message: String,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TimeError {}

impl Timestamp {
    /// Parse `YYYY-MM-DDTHH:MM:SS[.fraction]` followed by `Z` or an offset
    /// (`+02:00`, or `+0200` as Core Case writes it).
    pub fn parse(s: &str) -> Result<Timestamp, TimeError> {
        parse(s.as_bytes()).ok_or_else(|| TimeError {
            message: format!(
                "`{}` is not an RFC 3339 timestamp like 2026-11-26T10:22:31Z",
                s.chars().take(64).collect::<String>()
            ),
        })
    }

    /// From seconds since 1970-01-01T00:00:00Z (kept within years 0000-9999).
    pub fn from_unix_seconds(secs: i64) -> Timestamp {
        Timestamp {
            secs: secs.clamp(MIN_SECS, MAX_SECS),
            nanos: 0,
        }
    }

    /// Seconds since 1970-01-01T00:00:00Z (fractions dropped).
    pub fn unix_seconds(self) -> i64 {
        self.secs
    }

    /// Later by `seconds` (earlier if negative).
    pub fn plus_seconds(self, seconds: i64) -> Timestamp {
        Timestamp {
            secs: self.secs.saturating_add(seconds).clamp(MIN_SECS, MAX_SECS),
            nanos: self.nanos,
        }
    }

    /// Later by `minutes`.
    pub fn plus_minutes(self, minutes: i64) -> Timestamp {
        self.plus_seconds(minutes.saturating_mul(60))
    }

    /// Later by `hours`.
    pub fn plus_hours(self, hours: i64) -> Timestamp {
        self.plus_seconds(hours.saturating_mul(3600))
    }

    /// Later by `days` of 24 hours (UTC has no daylight saving).
    pub fn plus_days(self, days: i64) -> Timestamp {
        self.plus_seconds(days.saturating_mul(86_400))
    }

    /// Whole seconds from `self` to `later` (negative if `later` is earlier).
    pub fn seconds_until(self, later: Timestamp) -> i64 {
        later.secs - self.secs
    }

    /// The UTC calendar date: (year, month 1-12, day 1-31).
    pub fn date(self) -> (i64, u32, u32) {
        civil_from_days(self.secs.div_euclid(86_400))
    }

    /// Format as RFC 3339 in UTC, e.g. `2026-11-26T10:22:31Z` or
    /// `2026-11-26T10:22:31.193Z` (milliseconds, trailing zeros dropped).
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.date();
        let secs_of_day = self.secs.rem_euclid(86_400);
        let (hh, mm, ss) = (
            secs_of_day / 3600,
            secs_of_day % 3600 / 60,
            secs_of_day % 60,
        );
        write!(f, "{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}")?;
        let millis = self.nanos / 1_000_000;
        if millis > 0 {
            let frac = format!("{millis:03}");
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl FromStr for Timestamp {
    type Err = TimeError;

    fn from_str(s: &str) -> Result<Timestamp, TimeError> {
        Timestamp::parse(s)
    }
}

/// Action fields take timestamps as strings; this lets a [`Timestamp`] be
/// passed directly (`.due(now.plus_days(1))`).
impl From<Timestamp> for String {
    fn from(t: Timestamp) -> String {
        t.to_string()
    }
}

impl From<&Timestamp> for String {
    fn from(t: &Timestamp) -> String {
        t.to_string()
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = b.get(at..at + n)?;
    part.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn parse(b: &[u8]) -> Option<Timestamp> {
    if b.len() > 64 {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b't'))
    {
        return None;
    }
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    // 60 is a leap second; like most systems, it is read as :59.
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(c - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(i..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (h, m) = match rest {
                [_, _, b':', _, _] | [_, _, _, _] => {
                    (digits(rest, 0, 2)?, digits(rest, rest.len() - 2, 2)?)
                }
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 3600 + m * 60;
            if *sign == b'-' { -off } else { off }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset;
    Some(Timestamp {
        secs: secs.clamp(MIN_SECS, MAX_SECS),
        nanos,
    })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    // Both are small by construction (1-12, 1-31).
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_and_formats_utc() {
        assert_eq!(
            ts("2026-11-26T10:22:31Z").to_string(),
            "2026-11-26T10:22:31Z"
        );
        assert_eq!(ts("2026-11-26T10:22:31Z").unix_seconds(), 1_795_688_551);
        assert_eq!(ts("1970-01-01T00:00:00Z").unix_seconds(), 0);
        assert_eq!(
            ts("2026-11-26t10:22:31z").to_string(),
            "2026-11-26T10:22:31Z"
        );
    }

    #[test]
    fn offsets_are_applied() {
        let utc = ts("2026-11-26T10:22:31Z");
        assert_eq!(ts("2026-11-26T11:22:31+01:00"), utc);
        assert_eq!(ts("2026-11-26T05:22:31-05:00"), utc);
        assert_eq!(
            ts("2026-11-26T10:22:31+0000"),
            utc,
            "Core Case's offset form"
        );
        assert_eq!(
            ts("2026-11-27T00:52:31+14:30").to_string(),
            "2026-11-26T10:22:31Z"
        );
        assert_eq!(
            ts("2026-01-01T00:30:00+01:00").to_string(),
            "2025-12-31T23:30:00Z",
            "crosses a year"
        );
    }

    #[test]
    fn fractions_keep_milliseconds() {
        assert_eq!(
            ts("2026-11-26T10:22:31.193Z").to_string(),
            "2026-11-26T10:22:31.193Z"
        );
        assert_eq!(
            ts("2026-11-26T10:22:31.1Z").to_string(),
            "2026-11-26T10:22:31.1Z"
        );
        assert_eq!(
            ts("2026-11-26T10:22:31.000Z").to_string(),
            "2026-11-26T10:22:31Z"
        );
        assert_eq!(
            ts("2026-11-26T10:22:31.123456789123Z").to_string(),
            "2026-11-26T10:22:31.123Z"
        );
        assert!(ts("2026-11-26T10:22:31.5Z") > ts("2026-11-26T10:22:31Z"));
    }

    #[test]
    fn arithmetic_crosses_months_years_and_leap_days() {
        let t = ts("2028-02-28T23:00:00Z");
        assert_eq!(
            t.plus_hours(1).to_string(),
            "2028-02-29T00:00:00Z",
            "2028 is a leap year"
        );
        assert_eq!(t.plus_days(1).to_string(), "2028-02-29T23:00:00Z");
        assert_eq!(t.plus_days(2).to_string(), "2028-03-01T23:00:00Z");
        assert_eq!(
            ts("2026-02-28T12:00:00Z").plus_days(1).to_string(),
            "2026-03-01T12:00:00Z"
        );
        assert_eq!(
            ts("2100-02-28T00:00:00Z").plus_days(1).to_string(),
            "2100-03-01T00:00:00Z",
            "2100 is not"
        );
        assert_eq!(
            ts("2000-02-28T00:00:00Z").plus_days(1).to_string(),
            "2000-02-29T00:00:00Z",
            "2000 is"
        );
        assert_eq!(
            ts("2026-12-31T23:59:59Z").plus_seconds(1).to_string(),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(
            ts("2026-11-26T10:00:00Z").plus_days(366).to_string(),
            "2027-11-27T10:00:00Z"
        );
        assert_eq!(
            ts("2026-03-01T00:00:00Z").plus_minutes(-1).to_string(),
            "2026-02-28T23:59:00Z"
        );
        assert_eq!(ts("1969-12-31T23:59:59Z").unix_seconds(), -1);
        assert_eq!(
            ts("1969-12-31T23:59:59Z").plus_seconds(1).to_string(),
            "1970-01-01T00:00:00Z"
        );
        let a = ts("2026-11-26T10:00:00Z");
        assert_eq!(a.seconds_until(a.plus_hours(2)), 7200);
        assert_eq!(a.plus_hours(2).seconds_until(a), -7200);
        assert_eq!(a.date(), (2026, 11, 26));
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        // days_from_civil and civil_from_days agree with each other and with
        // a plain day-by-day walk through the calendar.
        let mut days = days_from_civil(1900, 1, 1);
        for y in 1900..2300 {
            for m in 1..=12 {
                for d in 1..=days_in_month(y, m) {
                    assert_eq!(days_from_civil(y, m, d), days);
                    assert_eq!(civil_from_days(days), (y, m as u32, d as u32));
                    days += 1;
                }
            }
        }
    }

    #[test]
    fn bounds_saturate_instead_of_panicking() {
        let t = ts("2026-11-26T10:00:00Z");
        assert_eq!(t.plus_days(i64::MAX).to_string(), "9999-12-31T23:59:59Z");
        assert_eq!(t.plus_seconds(i64::MIN).to_string(), "0000-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::from_unix_seconds(i64::MAX).to_string(),
            "9999-12-31T23:59:59Z"
        );
        assert_eq!(
            ts("0000-01-01T00:00:00+01:00").to_string(),
            "0000-01-01T00:00:00Z"
        );
    }

    #[test]
    fn malformed_timestamps_are_refused() {
        for bad in [
            "",
            "2026-11-26",
            "2026-11-26T10:22:31",
            "2026-11-26 10:22:31Z",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-11-26T24:00:00Z",
            "2026-11-26T10:60:00Z",
            "2026-11-26T10:22:31.Z",
            "2026-11-26T10:22:31+1:00",
            "2026-11-26T10:22:31+24:00",
            "2026-11-26T10:22:31+01:00x",
            "2026-11-26T10:22:31ZZ",
            "+2026-11-26T10:22:31Z",
            "２026-11-26T10:22:31Z",
            "yesterday",
        ] {
            let err = Timestamp::parse(bad).expect_err(bad);
            assert!(
                err.to_string().contains("is not an RFC 3339 timestamp"),
                "{err}"
            );
        }
        assert_eq!(
            ts("2026-11-26T10:22:60Z").to_string(),
            "2026-11-26T10:22:59Z"
        );
        assert!(Timestamp::parse(&"9".repeat(10_000)).is_err());
    }

    #[test]
    fn timestamps_convert_into_action_fields() {
        let t = ts("2026-11-26T10:00:00Z");
        let s: String = t.into();
        assert_eq!(s, "2026-11-26T10:00:00Z");
        assert_eq!("2026-11-26T10:00:00Z".parse::<Timestamp>(), Ok(t));
    }
}
