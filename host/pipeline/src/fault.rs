//! Test-only fault points: deterministic places where the process aborts
//! (as if killed with SIGKILL: no destructors, no flush), so crash-recovery
//! tests can kill the real process at exactly the step they test.
//!
//! Enabled only by the environment variable `SHOPCASE_TEST_FAULT`, read
//! once at start-up; never set it in production. Values:
//!
//! | value | the process aborts |
//! |---|---|
//! | `abort-after-inbox-commit` | right after a webhook's inbox commit, before the 200 |
//! | `abort-before-journal` | after a plugin ran, before its actions are journalled |
//! | `abort-after-journal` | right after an event's results are journalled |
//! | `abort-after-execute` | after an executor ran an action, before it is marked done |
//! | `abort-after-case-create` | after Core Case answered a case creation, before the case link and the journal entry are recorded |

/// The environment variable that arms a fault point.
pub const ENV: &str = "SHOPCASE_TEST_FAULT";

/// A place the process can be made to abort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// After the inbox commit, before answering.
    AbortAfterInboxCommit,
    /// After invoking plugins, before the journal transaction.
    AbortBeforeJournal,
    /// After the journal transaction.
    AbortAfterJournal,
    /// After an executor returned, before the entry is settled.
    AbortAfterExecute,
    /// After Core Case created (or adopted) a case, before the host
    /// recorded the link or settled the journal entry.
    AbortAfterCaseCreate,
}

impl Fault {
    fn parse(s: &str) -> Option<Fault> {
        Some(match s {
            "abort-after-inbox-commit" => Fault::AbortAfterInboxCommit,
            "abort-before-journal" => Fault::AbortBeforeJournal,
            "abort-after-journal" => Fault::AbortAfterJournal,
            "abort-after-execute" => Fault::AbortAfterExecute,
            "abort-after-case-create" => Fault::AbortAfterCaseCreate,
            _ => return None,
        })
    }
}

/// The armed fault point, if any.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults(Option<Fault>);

impl Faults {
    /// From `SHOPCASE_TEST_FAULT`.
    pub fn from_env() -> Faults {
        let armed = std::env::var(ENV).ok().and_then(|v| Fault::parse(v.trim()));
        if let Some(f) = armed {
            tracing::warn!(fault = ?f, "TEST FAULT POINT ARMED: this process will abort on purpose");
        }
        Faults(armed)
    }

    /// None armed.
    pub fn none() -> Faults {
        Faults(None)
    }

    /// Abort here if this fault point is armed.
    pub fn hit(&self, at: Fault) {
        if self.0 == Some(at) {
            eprintln!("shopcase: test fault point {at:?} reached; aborting");
            std::process::abort();
        }
    }
}
