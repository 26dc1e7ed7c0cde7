//! What an admin approves when enabling a plugin for a store: the
//! component's content (its sha256) and the manifest's grants and limits.
//!
//! The grants are written as canonical lines, one per grant, in a fixed
//! order of kinds and sorted within each kind (the manifest keeps them in
//! sets): `topic orders/create`, `action refund`, `host kv`,
//! `data payment-details`, `case-type fraud`, `limit fuel 50000000`. The
//! digest is the sha256 of [`GRANTS_FORMAT`] and the lines, each ended by
//! a newline; two manifests that grant the same thing have the same digest
//! whatever their key order, comments or settings. The lines are stored
//! with an approval so that a later manifest can be compared with what was
//! approved, line by line ([`GrantDiff`]): what a store admin must see
//! before approving new content is what it adds.
//!
//! Limits are the manifest's requests, before the host caps them: a
//! request raised is a change the admin should see even when a cap hides
//! it today.

use crate::manifest::{Manifest, sha256_hex};

/// The first line of the digested text; a change of the line format is a
/// new format name, so old digests never match new ones by accident.
pub const GRANTS_FORMAT: &str = "shopcase-grants/1";

/// The manifest's grants and limits as canonical lines (see the module
/// documentation).
pub fn grant_lines(m: &Manifest) -> Vec<String> {
    let g = &m.grants;
    let mut out = Vec::new();
    out.extend(m.topics.iter().map(|t| format!("topic {t}")));
    out.extend(g.actions.iter().map(|a| format!("action {}", a.name())));
    out.extend(g.host.iter().map(|h| format!("host {}", h.name())));
    out.extend(g.data.iter().map(|d| format!("data {}", d.name())));
    out.extend(g.case_types.iter().map(|c| format!("case-type {c}")));
    let l = &m.limits;
    out.push(format!("limit fuel {}", l.fuel));
    out.push(format!("limit memory-bytes {}", l.memory_bytes));
    out.push(format!("limit deadline-ms {}", l.deadline.as_millis()));
    out.push(format!("limit output-bytes {}", l.output_bytes));
    out.push(format!("limit log-bytes {}", l.log_bytes));
    out
}

/// The sha256 (lowercase hex) of canonical grant lines.
pub fn grants_digest(lines: &[String]) -> String {
    let mut text = String::from(GRANTS_FORMAT);
    text.push('\n');
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    sha256_hex(text.as_bytes())
}

/// The grants of `m` and their digest.
pub fn grants_of(m: &Manifest) -> (Vec<String>, String) {
    let lines = grant_lines(m);
    let digest = grants_digest(&lines);
    (lines, digest)
}

/// How a manifest's grants differ from those approved.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GrantDiff {
    /// Lines granted now and not approved (in the new manifest's order).
    pub added: Vec<String>,
    /// Lines approved and no longer granted (in the approved order).
    pub removed: Vec<String>,
}

impl GrantDiff {
    /// From the approved lines to the current ones.
    pub fn between(approved: &[String], now: &[String]) -> GrantDiff {
        GrantDiff {
            added: now
                .iter()
                .filter(|l| !approved.contains(l))
                .cloned()
                .collect(),
            removed: approved
                .iter()
                .filter(|l| !now.contains(l))
                .cloned()
                .collect(),
        }
    }

    /// Whether the grants are the same.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }

    /// `grants added: data payment-details, action refund; grants removed:
    /// host kv`, or `grants unchanged`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.added.is_empty() {
            parts.push(format!("grants added: {}", self.added.join(", ")));
        }
        if !self.removed.is_empty() {
            parts.push(format!("grants removed: {}", self.removed.join(", ")));
        }
        if parts.is_empty() {
            "grants unchanged".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn manifest(grants: &str, limits: &str) -> Manifest {
        let text = format!(
            "[plugin]\nid = \"x\"\nversion = \"1.2.0\"\napi = \"0.1.0\"\ntopics = [\"orders/paid\", \"orders/create\"]\n\n[grants]\n{grants}\n\n[limits]\n{limits}\n"
        );
        Manifest::parse(&text, Path::new("plugin.toml")).unwrap()
    }

    #[test]
    fn lines_are_canonical_and_complete() {
        let m = manifest(
            "actions = [\"tags-add\", \"open-case\"]\nhost = [\"kv\", \"log\"]\ndata = [\"client-details\"]\ncase-types = [\"fraud\"]",
            "fuel = 1000\nmemory-mib = 2\ndeadline-ms = 300\noutput-kib = 1\nlog-kib = 1",
        );
        assert_eq!(
            grant_lines(&m),
            [
                "topic orders/create",
                "topic orders/paid",
                "action open-case",
                "action tags-add",
                "host log",
                "host kv",
                "data client-details",
                "case-type fraud",
                "limit fuel 1000",
                "limit memory-bytes 2097152",
                "limit deadline-ms 300",
                "limit output-bytes 1024",
                "limit log-bytes 1024",
            ]
        );
    }

    #[test]
    fn the_digest_ignores_order_and_changes_with_any_grant_or_limit() {
        let cases = "\ncase-types = [\"fraud\"]";
        let base = manifest(
            &format!("actions = [\"tags-add\", \"open-case\"]{cases}"),
            "fuel = 1000",
        );
        let reordered = manifest(
            &format!("actions = [\"open-case\", \"tags-add\"]{cases}"),
            "fuel = 1000",
        );
        assert_eq!(grants_of(&base).1, grants_of(&reordered).1);
        for (grants, limits) in [
            (
                "actions = [\"tags-add\", \"open-case\", \"refund\"]",
                "fuel = 1000",
            ),
            (
                "actions = [\"tags-add\", \"open-case\"]\ndata = [\"payment-details\"]",
                "fuel = 1000",
            ),
            ("actions = [\"tags-add\", \"open-case\"]", "fuel = 2000"),
            (
                "actions = [\"tags-add\", \"open-case\"]\nhost = [\"kv\"]",
                "fuel = 1000",
            ),
            (
                "actions = [\"tags-add\", \"open-case\"]\ncase-types = [\"fraud\", \"chargeback\"]",
                "fuel = 1000",
            ),
        ] {
            let grants = if grants.contains("case-types") {
                grants.to_owned()
            } else {
                format!("{grants}{cases}")
            };
            assert_ne!(
                grants_of(&base).1,
                grants_of(&manifest(&grants, limits)).1,
                "{grants} {limits}"
            );
        }
    }

    #[test]
    fn the_diff_names_what_was_added_and_removed() {
        let old = grant_lines(&manifest(
            "actions = [\"tags-add\"]\nhost = [\"kv\"]",
            "fuel = 1000",
        ));
        let new = grant_lines(&manifest(
            "actions = [\"tags-add\", \"refund\"]\ndata = [\"payment-details\"]",
            "fuel = 1000",
        ));
        let d = GrantDiff::between(&old, &new);
        assert_eq!(d.added, ["action refund", "data payment-details"]);
        assert_eq!(d.removed, ["host kv"]);
        assert_eq!(
            d.summary(),
            "grants added: action refund, data payment-details; grants removed: host kv"
        );
        assert!(GrantDiff::between(&new, &new).is_empty());
        assert_eq!(GrantDiff::default().summary(), "grants unchanged");
    }
}
