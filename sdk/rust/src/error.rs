//! Plugin failures: [`PluginError`] constructors, and how a [`HostError`]
//! becomes one (so `?` works on host calls).

use crate::{HostError, PluginError};

/// The longest message the contract allows (characters).
const MAX_MESSAGE_CHARS: usize = 1000;

impl PluginError {
    /// A failure that running the event again will not fix: the event is
    /// dead-lettered for this plugin at once.
    pub fn new(message: impl Into<String>) -> PluginError {
        PluginError {
            message: message.into(),
            retryable: false,
        }
    }

    /// A failure that may go away (e.g. a host function was
    /// [`HostError::Unavailable`]): the host runs the event again later.
    pub fn retry_later(message: impl Into<String>) -> PluginError {
        PluginError {
            message: message.into(),
            retryable: true,
        }
    }
}

impl HostError {
    /// The host's explanation.
    pub fn message(&self) -> &str {
        match self {
            HostError::QuotaExceeded(m)
            | HostError::InvalidArgument(m)
            | HostError::Unavailable(m) => m,
        }
    }

    /// Whether running the event again later could succeed (only
    /// [`HostError::Unavailable`]).
    pub fn is_retryable(&self) -> bool {
        matches!(self, HostError::Unavailable(_))
    }
}

/// `?` on a host call fails the invocation; only `unavailable` is retried.
impl From<HostError> for PluginError {
    fn from(e: HostError) -> PluginError {
        let what = match &e {
            HostError::QuotaExceeded(_) => "quota exceeded",
            HostError::InvalidArgument(_) => "invalid argument",
            HostError::Unavailable(_) => "unavailable",
        };
        PluginError {
            message: format!("host function failed: {what}: {}", e.message()),
            retryable: e.is_retryable(),
        }
    }
}

/// Cut a message to the contract's 1000 characters, so a long error never
/// turns into an invalid output.
pub(crate) fn clamp(mut e: PluginError) -> PluginError {
    if let Some((cut, _)) = e.message.char_indices().nth(MAX_MESSAGE_CHARS) {
        e.message.truncate(cut);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_errors_are_retryable_only_when_unavailable() {
        let e: PluginError = HostError::Unavailable("Shopify timed out".into()).into();
        assert!(e.retryable);
        assert_eq!(
            e.message,
            "host function failed: unavailable: Shopify timed out"
        );
        let e: PluginError = HostError::QuotaExceeded("keys".into()).into();
        assert!(!e.retryable);
        assert!(!HostError::InvalidArgument("x".into()).is_retryable());
    }

    #[test]
    fn long_messages_are_clamped_on_a_char_boundary() {
        let e = clamp(PluginError::new("é".repeat(1500)));
        assert_eq!(e.message.chars().count(), 1000);
        let short = clamp(PluginError::retry_later("short"));
        assert_eq!(short, PluginError::retry_later("short"));
        assert!(short.retryable);
    }
}
