//! Money amounts as Shopify writes them: decimal strings such as
//! `"1243.87"`.
//!
//! Amounts are compared and summed as integer cents, never as floats, so
//! `"0.10" + "0.20"` is exactly `"0.30"`:
//!
//! ```
//! use shopcase_sdk::money;
//! let sum = money::parse_cents("0.10").unwrap() + money::parse_cents("0.20").unwrap();
//! assert_eq!(money::format_cents(sum), "0.30");
//! ```
//!
//! The accepted form is strict: an optional `-`, digits, and optionally a
//! `.` followed by digits. No exponent, sign `+`, spaces or thousands
//! separators.

/// Split a strict decimal string into sign, integer digits and fraction
/// digits.
fn split(s: &str) -> Option<(bool, &str, &str)> {
    let (negative, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) if !f.is_empty() => (i, f),
        Some(_) => return None,
        None => (rest, ""),
    };
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    (!int.is_empty() && digits(int) && digits(frac)).then_some((negative, int, frac))
}

/// Whether `s` is a decimal amount in the accepted form.
pub fn is_decimal(s: &str) -> bool {
    split(s).is_some()
}

/// `"1243.87"` → `124387`. At most two decimals count (`"1.50"`, `"1.5"`,
/// `"1.500"` are all 150); a third non-zero decimal (`"1.505"`) or an
/// amount too large for `i64` is `None`.
pub fn parse_cents(s: &str) -> Option<i64> {
    let (negative, int, frac) = split(s)?;
    let (kept, rest) = frac.split_at(frac.len().min(2));
    if rest.bytes().any(|b| b != b'0') {
        return None;
    }
    let mut cents: i64 = 0;
    for b in int
        .bytes()
        .chain(kept.bytes())
        .chain(std::iter::repeat_n(b'0', 2 - kept.len()))
    {
        cents = cents.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some(if negative { -cents } else { cents })
}

/// `124387` → `"1243.87"`; `-5` → `"-0.05"`. Always two decimals, as the
/// contract's amounts are.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The amount as a float, for comparisons with `number` settings (e.g. a
/// threshold). Same strict form as [`parse_cents`], any number of decimals.
pub fn parse_f64(s: &str) -> Option<f64> {
    split(s)?;
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_are_exact() {
        assert_eq!(parse_cents("1243.87"), Some(124_387));
        assert_eq!(parse_cents("1243.8"), Some(124_380));
        assert_eq!(parse_cents("1243"), Some(124_300));
        assert_eq!(parse_cents("0.05"), Some(5));
        assert_eq!(parse_cents("-3.10"), Some(-310));
        assert_eq!(parse_cents("1.500"), Some(150), "trailing zeros are fine");
        assert_eq!(parse_cents("007.10"), Some(710));
        assert_eq!(parse_cents("92233720368547758.07"), Some(i64::MAX));
    }

    #[test]
    fn malformed_or_too_precise_amounts_are_refused() {
        for bad in [
            "",
            ".",
            "-",
            "1.",
            ".5",
            "1.505",
            "1e3",
            "+1.00",
            " 1.00",
            "1,000.00",
            "1.2.3",
            "abc",
            "NaN",
            "inf",
            "92233720368547758.08",
            "--1",
        ] {
            assert_eq!(parse_cents(bad), None, "{bad:?}");
        }
        assert!(!is_decimal("1e3") && is_decimal("1.505"));
    }

    #[test]
    fn formatting_round_trips() {
        for (c, s) in [
            (124_387, "1243.87"),
            (5, "0.05"),
            (-5, "-0.05"),
            (0, "0.00"),
            (100, "1.00"),
        ] {
            assert_eq!(format_cents(c), s);
            assert_eq!(parse_cents(s), Some(c));
        }
        assert_eq!(format_cents(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn floats_only_from_strict_decimals() {
        assert_eq!(parse_f64("1243.87"), Some(1243.87));
        assert_eq!(parse_f64("750.505"), Some(750.505));
        assert_eq!(parse_f64("-1"), Some(-1.0));
        for bad in ["1e3", "inf", "NaN", "", "1.", "0x10"] {
            assert_eq!(parse_f64(bad), None, "{bad:?}");
        }
    }
}
