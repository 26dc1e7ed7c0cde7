//! The status tag `<prefix>:<type>:<status>`, always within Shopify's 40
//! characters: statuses have short forms (at most 11 characters), and a
//! case type too long for what is left is cut and given a short hash so
//! two long types stay apart.

use plugin_kit::text;
use shopcase_sdk::CaseStatus;

/// The longest prefix used, in characters.
pub(crate) const MAX_PREFIX: usize = 10;

/// The status as it appears in tags: `pending-approval` is `pending`, the
/// others are their own names (at most 11 characters).
pub(crate) fn status_word(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::PendingApproval => "pending",
        other => other.as_str(),
    }
}

/// Longest status word (`in-progress`).
const MAX_STATUS: usize = 11;

/// The case type as it fits after the prefix.
fn type_word(case_type: &str, prefix_len: usize) -> String {
    let room = text::MAX_TAG_CHARS - prefix_len - 2 - MAX_STATUS;
    if case_type.chars().count() <= room {
        return case_type.to_owned();
    }
    let hash = &text::fingerprint([case_type])[..4];
    let keep: String = case_type.chars().take(room - 5).collect();
    format!("{}-{hash}", keep.trim_end_matches('-'))
}

/// The prefix as used: at most [`MAX_PREFIX`] characters, no commas or
/// colons at its ends.
pub(crate) fn prefix(raw: &str) -> String {
    let p: String = text::single_line(raw)
        .replace(',', "-")
        .chars()
        .take(MAX_PREFIX)
        .collect();
    let p = p
        .trim_matches(|c: char| c == ':' || c.is_whitespace())
        .to_owned();
    if p.is_empty() { "case".to_owned() } else { p }
}

/// The tag of `case_type` in `status`.
pub(crate) fn tag(prefix: &str, case_type: &str, status: CaseStatus) -> String {
    format!(
        "{prefix}:{}:{}",
        type_word(case_type, prefix.chars().count()),
        status_word(status)
    )
}

/// The tags of every other status of `case_type`, to remove.
pub(crate) fn other_tags(prefix: &str, case_type: &str, status: CaseStatus) -> Vec<String> {
    CaseStatus::ALL
        .into_iter()
        .filter(|s| *s != status)
        .map(|s| tag(prefix, case_type, s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_first_party_tag_fits_whole() {
        for t in [
            "order-exception",
            "fraud-investigation",
            "return-request",
            "refund-dispute",
            "complaint",
            "refund-approval",
            "vip-escalation",
            "delivery-investigation",
        ] {
            for s in CaseStatus::ALL {
                let tag = tag("case", t, s);
                assert!(tag.chars().count() <= 40, "{tag}");
                assert!(tag.starts_with(&format!("case:{t}:")), "{tag}");
            }
        }
        assert_eq!(
            tag(
                "case",
                "delivery-investigation",
                CaseStatus::PendingApproval
            ),
            "case:delivery-investigation:pending"
        );
        assert_eq!(
            tag("case", "delivery-investigation", CaseStatus::InProgress)
                .chars()
                .count(),
            39
        );
    }

    #[test]
    fn long_types_and_prefixes_still_fit_and_stay_apart() {
        let a = tag("shopcase-x", &"a".repeat(64), CaseStatus::InProgress);
        let b = tag(
            "shopcase-x",
            &format!("{}b", "a".repeat(63)),
            CaseStatus::InProgress,
        );
        assert!(
            a.chars().count() <= 40 && b.chars().count() <= 40,
            "{a} {b}"
        );
        assert_ne!(a, b);
        assert_eq!(prefix("  much-too-long-prefix "), "much-too-l");
        assert_eq!(prefix(":,:"), "-");
        assert_eq!(prefix(""), "case");
        assert_eq!(other_tags("case", "x", CaseStatus::New).len(), 9);
        assert!(!other_tags("case", "x", CaseStatus::New).contains(&"case:x:new".to_owned()));
    }
}
