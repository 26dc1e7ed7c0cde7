//! Text that must fit the contract's limits: Shopify tags (at most 40
//! characters, no commas), clipped free text, document file names, and
//! stable fingerprints for key-value keys.

/// The longest Shopify tag the contract accepts, in characters.
pub const MAX_TAG_CHARS: usize = 40;

/// `s` cut to at most `max` characters, ending in `…` when it was cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `s` on one line: control characters (newlines included) become spaces
/// and runs of spaces collapse, for notes, tags and titles.
pub fn single_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A valid Shopify tag from `s`: on one line, commas replaced by `-`, at
/// most [`MAX_TAG_CHARS`] characters (cut, without an ellipsis, so the
/// result is stable). `None` if nothing is left.
pub fn tag(s: &str) -> Option<String> {
    let t: String = single_line(s)
        .replace(',', "-")
        .chars()
        .take(MAX_TAG_CHARS)
        .collect();
    let t = t.trim().to_owned();
    (!t.is_empty()).then_some(t)
}

/// Whether two tags are the same for Shopify (tags compare without case).
pub fn same_tag(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// A string safe in a file name: ASCII letters, digits, `-` and `_` kept,
/// everything else dropped (`#1042` → `1042`); `fallback` if nothing is
/// left.
pub fn file_stem(s: &str, fallback: &str) -> String {
    let stem: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    if stem.is_empty() {
        fallback.to_owned()
    } else {
        stem
    }
}

/// A stable 16-hex-digit fingerprint (64-bit FNV-1a) of `parts`, separated
/// so that `["ab", "c"]` and `["a", "bc"]` differ. For key-value keys, which
/// are at most 128 bytes; not a security hash.
pub fn fingerprint<I, S>(parts: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut h = OFFSET;
    for part in parts {
        for b in part.as_ref().bytes().chain([0x1f]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(PRIME);
        }
    }
    format!("{h:016x}")
}

/// Normalise a word an analyst or admin typed (`" Keep on Hold "` →
/// `keep-on-hold`): trimmed, lowercase, spaces and `_` as `-`.
pub fn normalise(s: &str) -> String {
    single_line(s)
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '_' { '-' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("Straße 138", 6), "Straß…");
        assert_eq!(clip("ééééé", 5), "ééééé");
        assert_eq!(clip("abc", 0), "…");
    }

    #[test]
    fn tags_always_fit() {
        assert_eq!(tag(" fraud-review ").as_deref(), Some("fraud-review"));
        assert_eq!(tag("a,b\nc").as_deref(), Some("a-b c"));
        let long = tag(&"x".repeat(100)).unwrap();
        assert_eq!(long.chars().count(), MAX_TAG_CHARS);
        assert_eq!(tag(" , ").as_deref(), Some("-"));
        assert_eq!(tag("  \n "), None);
        assert!(same_tag("VIP", " vip"));
    }

    #[test]
    fn file_stems_and_fingerprints_are_stable() {
        assert_eq!(file_stem("#1042", "order"), "1042");
        assert_eq!(file_stem("#", "order"), "order");
        assert_eq!(fingerprint(["ab", "c"]), fingerprint(["ab", "c"]));
        assert_ne!(fingerprint(["ab", "c"]), fingerprint(["a", "bc"]));
        assert_eq!(fingerprint(["a"]).len(), 16);
        assert_eq!(normalise(" Keep on_Hold\n"), "keep-on-hold");
        assert_eq!(single_line("a\n\n b\tc "), "a b c");
    }
}
