//! Decimal money amounts as Shopify writes them (`"129.90"`, `"10.0"`,
//! `"5"`), held as integer thousandths so sums and comparisons are exact.

use std::fmt;

/// An amount in thousandths of the currency unit (3 decimals covers every
/// ISO 4217 currency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Amount(i64);

impl Amount {
    /// Nothing.
    pub const ZERO: Amount = Amount(0);

    /// Parse a non-negative decimal string with at most three decimals.
    pub fn parse(s: &str) -> Option<Amount> {
        let s = s.trim();
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || int.len() > 15 || !digits(int) || frac.len() > 3 || !digits(frac) {
            return None;
        }
        let whole: i64 = int.parse().ok()?;
        let mut thousandths: i64 = 0;
        for (i, b) in frac.bytes().enumerate() {
            thousandths += i64::from(b - b'0') * [100, 10, 1][i];
        }
        whole
            .checked_mul(1000)?
            .checked_add(thousandths)
            .map(Amount)
    }

    /// From a JSON string or number.
    pub fn from_json(v: &serde_json::Value) -> Option<Amount> {
        match v {
            serde_json::Value::String(s) => Amount::parse(s),
            serde_json::Value::Number(n) => Amount::parse(&n.to_string()),
            _ => None,
        }
    }

    /// The sum, saturating.
    pub fn saturating_add(self, o: Amount) -> Amount {
        Amount(self.0.saturating_add(o.0))
    }

    /// The difference, saturating.
    pub fn saturating_sub(self, o: Amount) -> Amount {
        Amount(self.0.saturating_sub(o.0))
    }

    /// More than nothing.
    pub fn is_positive(self) -> bool {
        self.0 > 0
    }
}

impl fmt::Display for Amount {
    /// Two decimals unless the third is needed: `129.90`, `0.125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let v = self.0.unsigned_abs();
        let (whole, frac) = (v / 1000, v % 1000);
        if frac % 10 == 0 {
            write!(f, "{sign}{whole}.{:02}", frac / 10)
        } else {
            write!(f, "{sign}{whole}.{frac:03}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_exactly() {
        assert_eq!(Amount::parse("129.90").unwrap().to_string(), "129.90");
        assert_eq!(Amount::parse("10.0").unwrap(), Amount::parse("10").unwrap());
        assert_eq!(Amount::parse("0.125").unwrap().to_string(), "0.125");
        let sum = Amount::parse("0.1")
            .unwrap()
            .saturating_add(Amount::parse("0.2").unwrap());
        assert_eq!(sum, Amount::parse("0.3").unwrap());
        for bad in ["", "-1", "1.2345", "1e3", "abc", ".5", "1.2.3"] {
            assert_eq!(Amount::parse(bad), None, "{bad}");
        }
        assert_eq!(
            Amount::from_json(&serde_json::json!(12.5))
                .unwrap()
                .to_string(),
            "12.50"
        );
        assert_eq!(
            Amount::parse("5")
                .unwrap()
                .saturating_sub(Amount::parse("7").unwrap())
                .to_string(),
            "-2.00"
        );
    }
}
