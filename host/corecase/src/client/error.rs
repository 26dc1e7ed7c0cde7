//! The client's error type and the policy callers build on.
//!
//! Every failure lands in one [`ErrorClass`], which is what the executor
//! acts on: retry later ([`ErrorClass::Transient`]), dead-letter
//! ([`ErrorClass::Permanent`]), re-read and decide ([`ErrorClass::Conflict`]),
//! or stop and alert an operator ([`ErrorClass::Auth`]).

/// What went wrong talking to Core Case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client configuration is unusable (names the key).
    #[error("Core Case client configuration: {0}")]
    Config(String),

    /// The caller's input cannot be sent (e.g. an invalid content type).
    #[error("Core Case {operation}: invalid input: {detail}")]
    InvalidInput {
        /// The operation, e.g. `create-case`.
        operation: &'static str,
        /// What is wrong.
        detail: String,
    },

    /// Core Case refused the request and will refuse it again: 400, 403,
    /// 404, 422 (Idempotency-Key reused with another body), 413, …
    #[error("Core Case {operation}: rejected with {status} {exception}: {message}")]
    Permanent {
        /// The operation, e.g. `create-case`.
        operation: &'static str,
        /// HTTP status.
        status: u16,
        /// Core Case's `exception` (or the gateway's error code).
        exception: String,
        /// Core Case's `message`.
        message: String,
    },

    /// 409: the request conflicts with the case's state (an illegal status
    /// transition, a completed task). Not retried: re-read the case.
    #[error("Core Case {operation}: conflict {exception}: {message}")]
    Conflict {
        /// The operation.
        operation: &'static str,
        /// Core Case's `exception`, e.g. `IllegalStatusTransition`.
        exception: String,
        /// Core Case's `message`.
        message: String,
    },

    /// 409 `DuplicateExternalReference`: a case with this
    /// `externalReference` exists. [`CoreCaseClient::create_case`] adopts
    /// it; other operations surface it.
    ///
    /// [`CoreCaseClient::create_case`]: crate::CoreCaseClient::create_case
    #[error(
        "Core Case {operation}: a case with this externalReference exists ({existing_case_id:?}): {message}"
    )]
    DuplicateExternalReference {
        /// The operation.
        operation: &'static str,
        /// `existingCaseId` from the answer, when given.
        existing_case_id: Option<String>,
        /// Core Case's `message`.
        message: String,
    },

    /// 412: `If-Match` did not match; the case changed since it was read.
    #[error("Core Case {operation}: the case changed since it was read ({exception}): {message}")]
    PreconditionFailed {
        /// The operation.
        operation: &'static str,
        /// Core Case's `exception`.
        exception: String,
        /// Core Case's `message`.
        message: String,
    },

    /// Retries were exhausted on failures that may pass (429, 5xx,
    /// timeouts, connection errors). Try again later with the same
    /// Idempotency-Key.
    #[error("Core Case {operation}: still failing after {attempts} attempt(s): {detail}")]
    Transient {
        /// The operation.
        operation: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last HTTP status, if an answer came.
        status: Option<u16>,
        /// The last failure.
        detail: String,
        /// How long the last answer asked to wait (`Retry-After`), so the
        /// caller's own retry waits at least that long.
        retry_after: Option<std::time::Duration>,
    },

    /// A create without an Idempotency-Key failed in a way that leaves open
    /// whether Core Case applied it (timeout, reset, 5xx), so it was not
    /// retried: a blind retry could apply it twice. Check, then retry.
    #[error(
        "Core Case {operation}: outcome unknown ({detail}); not retried because the request carried no Idempotency-Key"
    )]
    Unconfirmed {
        /// The operation.
        operation: &'static str,
        /// The failure.
        detail: String,
    },

    /// The credentials were refused (by the token endpoint, or a 401 that
    /// survived one token refresh).
    #[error("Core Case authentication failed ({status} {code}): {message}")]
    Auth {
        /// HTTP status.
        status: u16,
        /// The gateway's `errorcode` / OAuth `error`.
        code: String,
        /// The gateway's `faultstring` / OAuth `error_description`.
        message: String,
    },

    /// Core Case answered something this client cannot read.
    #[error("Core Case {operation}: unexpected answer: {detail}")]
    Protocol {
        /// The operation.
        operation: &'static str,
        /// What was wrong with it.
        detail: String,
    },
}

/// What a caller should do about an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// May pass later: retry with the same Idempotency-Key.
    Transient,
    /// Will fail again: dead-letter.
    Permanent,
    /// Conflicts with the case's current state: re-read the case and decide.
    Conflict,
    /// Credentials refused: an operator must act; pausing beats
    /// dead-lettering every action.
    Auth,
}

impl Error {
    /// The class of this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Transient { .. } | Error::Unconfirmed { .. } => ErrorClass::Transient,
            Error::Conflict { .. }
            | Error::DuplicateExternalReference { .. }
            | Error::PreconditionFailed { .. } => ErrorClass::Conflict,
            Error::Auth { .. } => ErrorClass::Auth,
            Error::Config(_)
            | Error::InvalidInput { .. }
            | Error::Permanent { .. }
            | Error::Protocol { .. } => ErrorClass::Permanent,
        }
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.class() == ErrorClass::Transient
    }

    /// The HTTP status Core Case answered, when the error comes from one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Permanent { status, .. } | Error::Auth { status, .. } => Some(*status),
            Error::Conflict { .. } | Error::DuplicateExternalReference { .. } => Some(409),
            Error::PreconditionFailed { .. } => Some(412),
            Error::Transient { status, .. } => *status,
            _ => None,
        }
    }

    /// Core Case's `exception` name, when it gave one.
    pub fn exception(&self) -> Option<&str> {
        match self {
            Error::Permanent { exception, .. }
            | Error::Conflict { exception, .. }
            | Error::PreconditionFailed { exception, .. } => Some(exception),
            Error::DuplicateExternalReference { .. } => Some("DuplicateExternalReference"),
            Error::Auth { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The wait Core Case last asked for (`Retry-After`), when it did.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::Transient { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether Core Case answered 404 (unknown case, definition, task…).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let permanent = Error::Permanent {
            operation: "create-case",
            status: 400,
            exception: "ValidationError".into(),
            message: "caseTitle is required".into(),
        };
        assert_eq!(permanent.class(), ErrorClass::Permanent);
        assert!(!permanent.is_retryable());
        assert_eq!(permanent.status(), Some(400));
        let transient = Error::Transient {
            operation: "get-case",
            attempts: 3,
            status: Some(503),
            detail: "x".into(),
            retry_after: Some(std::time::Duration::from_secs(7)),
        };
        assert_eq!(
            transient.retry_after(),
            Some(std::time::Duration::from_secs(7))
        );
        assert!(transient.is_retryable());
        let conflict = Error::Conflict {
            operation: "change-status",
            exception: "IllegalStatusTransition".into(),
            message: "m".into(),
        };
        assert_eq!(conflict.class(), ErrorClass::Conflict);
        assert_eq!(conflict.exception(), Some("IllegalStatusTransition"));
        let auth = Error::Auth {
            status: 401,
            code: "oauth.v2.InvalidClientIdentifier".into(),
            message: "m".into(),
        };
        assert_eq!(auth.class(), ErrorClass::Auth);
        let nf = Error::Permanent {
            operation: "get-case",
            status: 404,
            exception: "CaseNotFound".into(),
            message: String::new(),
        };
        assert!(nf.is_not_found());
    }
}
