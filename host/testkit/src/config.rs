//! The host configuration tests serve with: fast polls, retries and
//! breakers, short leases; each test binary's support sets what differs
//! (leases, attempts, stores, extra sections) instead of keeping its own
//! copy of the file.

use std::fmt::Write as _;

/// A `shopcase.toml` for tests, rendered by [`TestConfig::render`]. Values
/// are written as TOML (`"3s"` with its quotes, `2`).
#[derive(Debug, Clone)]
pub struct TestConfig {
    /// Extra lines of `[server]` (beside `listen = "127.0.0.1:0"`).
    pub server: Vec<String>,
    /// `storage.busy-timeout`.
    pub busy_timeout: &'static str,
    /// `sandbox.caps.deadline`.
    pub deadline: &'static str,
    /// `[dispatcher]` lines before the shared ones (`workers`, `batch`).
    pub dispatcher_head: Vec<String>,
    /// `dispatcher.lease`.
    pub dispatcher_lease: &'static str,
    /// `dispatcher.max-attempts`.
    pub dispatcher_attempts: u32,
    /// `[dispatcher]` lines after the shared ones (`quarantine-after`, a
    /// test's own).
    pub dispatcher_tail: Vec<String>,
    /// `executor.concurrency`.
    pub executor_concurrency: u32,
    /// `executor.lease`.
    pub executor_lease: &'static str,
    /// `executor.max-attempts`.
    pub executor_attempts: u32,
    /// The `[[stores]]` tables' bodies, in order.
    pub stores: Vec<String>,
    /// Text after everything (other sections).
    pub extra: String,
}

impl Default for TestConfig {
    fn default() -> Self {
        TestConfig {
            server: Vec::new(),
            busy_timeout: "\"200ms\"",
            deadline: "\"500ms\"",
            dispatcher_head: Vec::new(),
            dispatcher_lease: "\"2s\"",
            dispatcher_attempts: 3,
            dispatcher_tail: Vec::new(),
            executor_concurrency: 4,
            executor_lease: "\"2s\"",
            executor_attempts: 3,
            stores: Vec::new(),
            extra: String::new(),
        }
    }
}

impl TestConfig {
    /// A `[[stores]]` table for `domain` with `secret`, and more lines.
    pub fn store(domain: &str, secret: &str, more: &[String]) -> String {
        let mut s = format!("domain = \"{domain}\"\nwebhook-secret = \"{secret}\"\n");
        for l in more {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    /// The file.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "\ndata-dir = \"data\"\nplugins-dir = \"plugins\"\n\n[server]\nlisten = \"127.0.0.1:0\"\n",
        );
        let lines = |out: &mut String, ls: &[String]| {
            for l in ls {
                out.push_str(l);
                out.push('\n');
            }
        };
        lines(&mut out, &self.server);
        let _ = write!(
            out,
            "\n[storage]\nbusy-timeout = {}\n\n[sandbox]\nmax-concurrent = 4\n\n[sandbox.caps]\ndeadline = {}\n\n[dispatcher]\n",
            self.busy_timeout, self.deadline
        );
        lines(&mut out, &self.dispatcher_head);
        let _ = write!(
            out,
            "lease = {}\npoll-interval = \"50ms\"\nmax-attempts = {}\nbackoff-base = \"10ms\"\nbackoff-max = \"40ms\"\n",
            self.dispatcher_lease, self.dispatcher_attempts
        );
        lines(&mut out, &self.dispatcher_tail);
        let _ = write!(
            out,
            r#"
[executor]
concurrency = {}
lease = {}
poll-interval = "50ms"
max-attempts = {}
backoff-base = "10ms"
backoff-max = "40ms"
# Transient failures are dead-lettered after the attempts (the outage
# window has its own tests).
outage-window = "0s"
# Breakers probe at test speed.
breaker-cool-down = "20ms"
breaker-max-cool-down = "50ms"

[timers]
poll-interval = "50ms"
"#,
            self.executor_concurrency, self.executor_lease, self.executor_attempts
        );
        for s in &self.stores {
            let _ = write!(out, "\n[[stores]]\n{s}");
        }
        out.push_str(&self.extra);
        out
    }
}
