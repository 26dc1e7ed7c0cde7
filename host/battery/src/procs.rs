//! The processes the battery drives: `shopcase serve` and `shopcase
//! emulate`, started from the binary under test, their standard error kept
//! in a log file (the secrets check reads it), killed with SIGKILL or
//! stopped with SIGTERM.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// A running child process.
#[derive(Debug)]
pub(crate) struct Proc {
    name: String,
    child: Child,
    /// The address it printed when it started listening.
    pub(crate) addr: String,
}

impl Proc {
    /// Start `cmd` and wait (at most `within`) for the line on standard
    /// error that contains `marker` followed by `http://ADDR`.
    pub(crate) fn start(
        name: &str,
        mut cmd: Command,
        log: &Path,
        marker: &str,
        within: Duration,
    ) -> Result<Proc> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("cannot start {name}"))?;
        let stderr = child.stderr.take().context("no stderr")?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot write {}", log.display()))?;
        let (tx, rx) = mpsc::channel::<String>();
        let marker = marker.to_owned();
        // The whole of standard error goes to the log; the first line with
        // the marker gives the address. The thread ends with the process.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let _ = writeln!(file, "{line}");
                if line.contains(&marker)
                    && let Some(addr) = line
                        .split("http://")
                        .nth(1)
                        .and_then(|rest| rest.split([' ', ';', ',', ')']).next())
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(addr.trim_end_matches('/').to_owned());
                }
            }
        });
        match rx.recv_timeout(within) {
            Ok(addr) => Ok(Proc {
                name: name.to_owned(),
                child,
                addr,
            }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let tail = tail(log, 30);
                bail!("{name} did not start within {within:?}; the end of its log:\n{tail}")
            }
        }
    }

    /// `http://ADDR`.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Whether it is still running.
    pub(crate) fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL: no destructors, no flush, as a crash or the OOM killer.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for the exit (SIGKILL after `grace`). Whether it
    /// exited on its own, with status 0.
    pub(crate) fn stop(mut self, grace: Duration) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = std::time::Instant::now() + grace;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::park_timeout(Duration::from_millis(20));
                }
                _ => {
                    eprintln!("battery: {} did not stop within {grace:?}", self.name);
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return false;
                }
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // Never leave a child behind, whatever failed.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last `n` lines of a log file.
pub(crate) fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
