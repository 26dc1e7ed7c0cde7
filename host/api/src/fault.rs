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
//! | `abort-running:<dedupe key>` | after the plugins ran on the event with this dedupe key (a webhook's id), before its results are journalled: a poison event, every time it runs |
//! | `abort-executing:<journal key>` | after an executor ran the journal entry with this key, before it is settled: a poison action, every time it runs |

/// The environment variable that arms a fault point.
pub const ENV: &str = "SHOPCASE_TEST_FAULT";

/// A place the process can be made to abort.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// After invoking plugins on the event with this dedupe key, before
    /// the journal transaction.
    AbortRunning(String),
    /// After executing the journal entry with this key, before settling
    /// it.
    AbortExecuting(String),
}

impl Fault {
    fn parse(s: &str) -> Option<Fault> {
        Some(match s {
            "abort-after-inbox-commit" => Fault::AbortAfterInboxCommit,
            "abort-before-journal" => Fault::AbortBeforeJournal,
            "abort-after-journal" => Fault::AbortAfterJournal,
            "abort-after-execute" => Fault::AbortAfterExecute,
            "abort-after-case-create" => Fault::AbortAfterCaseCreate,
            other => match other.strip_prefix("abort-running:") {
                Some(k) => Fault::AbortRunning(k.to_owned()),
                None => Fault::AbortExecuting(other.strip_prefix("abort-executing:")?.to_owned()),
            },
        })
    }
}

/// The armed fault point, if any.
#[derive(Debug, Clone, Default)]
pub struct Faults(Option<Fault>);

impl Faults {
    /// From `SHOPCASE_TEST_FAULT`.
    pub fn from_env() -> Faults {
        let armed = std::env::var(ENV).ok().and_then(|v| Fault::parse(v.trim()));
        if let Some(f) = &armed {
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
        if self.0.as_ref() == Some(&at) {
            eprintln!("shopcase: test fault point {at:?} reached; aborting");
            std::process::abort();
        }
    }

    /// Abort here if `abort-running:<dedupe_key>` is armed for this event.
    pub fn hit_running(&self, dedupe_key: &str) {
        if matches!(&self.0, Some(Fault::AbortRunning(k)) if k == dedupe_key) {
            eprintln!("shopcase: test fault point AbortRunning({dedupe_key}) reached; aborting");
            std::process::abort();
        }
    }

    /// Abort here if `abort-executing:<key>` is armed for this entry.
    pub fn hit_executing(&self, key: &str) {
        if matches!(&self.0, Some(Fault::AbortExecuting(k)) if k == key) {
            eprintln!("shopcase: test fault point AbortExecuting({key}) reached; aborting");
            std::process::abort();
        }
    }
}
