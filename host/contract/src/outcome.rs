//! The named outcomes of a failed plugin invocation. The same names appear in
//! `plugin run --json`, the dispatch state, dead letters, metrics and the
//! admin API.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why an invocation failed (or why a plugin could not be loaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The instruction budget (fuel) ran out.
    FuelExhausted,
    /// The wall-clock deadline passed.
    DeadlineExceeded,
    /// Linear memory (or a table) could not grow within its limit.
    MemoryLimit,
    /// The Wasm stack overflowed.
    StackOverflow,
    /// The guest trapped (panic, `unreachable`, out-of-bounds access...).
    Trap,
    /// The returned actions are larger than the output cap.
    OutputTooLarge,
    /// A returned action failed validation (or could not be lifted).
    InvalidAction,
    /// The guest called a host function its manifest does not grant.
    GrantDenied,
    /// The component imports something the host refuses to provide.
    ForbiddenImport,
    /// The manifest is malformed or inconsistent with the component.
    BadManifest,
    /// The component's sha256 differs from the manifest's.
    HashMismatch,
    /// The plugin returned its own error (see `retryable`).
    PluginError,
}

impl FailureKind {
    /// Every kind.
    pub const ALL: &[FailureKind] = &[
        FailureKind::FuelExhausted,
        FailureKind::DeadlineExceeded,
        FailureKind::MemoryLimit,
        FailureKind::StackOverflow,
        FailureKind::Trap,
        FailureKind::OutputTooLarge,
        FailureKind::InvalidAction,
        FailureKind::GrantDenied,
        FailureKind::ForbiddenImport,
        FailureKind::BadManifest,
        FailureKind::HashMismatch,
        FailureKind::PluginError,
    ];

    /// The stable name, e.g. `fuel-exhausted`.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::FuelExhausted => "fuel-exhausted",
            FailureKind::DeadlineExceeded => "deadline-exceeded",
            FailureKind::MemoryLimit => "memory-limit",
            FailureKind::StackOverflow => "stack-overflow",
            FailureKind::Trap => "trap",
            FailureKind::OutputTooLarge => "output-too-large",
            FailureKind::InvalidAction => "invalid-action",
            FailureKind::GrantDenied => "grant-denied",
            FailureKind::ForbiddenImport => "forbidden-import",
            FailureKind::BadManifest => "bad-manifest",
            FailureKind::HashMismatch => "hash-mismatch",
            FailureKind::PluginError => "plugin-error",
        }
    }

    /// From the stable name.
    pub fn parse(s: &str) -> Option<FailureKind> {
        FailureKind::ALL.iter().copied().find(|k| k.name() == s)
    }

    /// Whether running the same event again could give a different result.
    ///
    /// Plugins are deterministic, so only the wall-clock deadline (a slow or
    /// busy host) is worth a retry among the limits; a plugin error says for
    /// itself.
    pub fn may_succeed_on_retry(self) -> bool {
        matches!(self, FailureKind::DeadlineExceeded)
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in FailureKind::ALL {
            assert_eq!(FailureKind::parse(k.name()), Some(*k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
    }
}
