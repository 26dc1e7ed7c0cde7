//! Several replicas on one database: wake-ups from the other processes,
//! and the singleton roles (see `docs/ARCHITECTURE.md`, "Several
//! replicas", and `shopcase_store::CoordinationStore`).
//!
//! - `forward_wakeups`: what the other processes announce (events put in
//!   the inbox, entries put in the journal) wakes this process's idle
//!   dispatcher workers and executors, as its own ingress and dispatcher
//!   do in-process (`Core::events_added`, `Core::journal_added`, which
//!   also announce to the others).
//! - `spawn_singleton`: a loop that must run on one replica at a time —
//!   the timer loop ([`TIMERS`]), retention ([`RETENTION`]), a
//!   [`shopcase_host_api::BackgroundTask`] that says it is a singleton (the
//!   Core Case poller) — runs only while this replica leads its role. The
//!   wrapper tries to take the role every [`LEAD_EVERY`]; once taken, it
//!   starts the loop and checks the role (the leadership session alive)
//!   every [`LEAD_EVERY`]; when the check fails it stops the loop (through
//!   the loop's own shutdown signal; a pass in flight finishes) and goes
//!   back to trying. At shutdown it stops the loop and resigns, so another
//!   replica takes over at its next try. On SQLite the one process always
//!   leads.
//!
//! Which roles a replica holds is in `/readyz` (`"roles"`) and
//! `/metrics` (`shopcase_role_leader{role}`), and every change is logged.
//!
//! Leadership is about doing the work once, not about its safety: each
//! singleton's steps are transactions that are safe to overlap (a timer
//! fires in the transaction that inserts its event; retention deletes only
//! finished rows; the poller's events are deduplicated), so the moment
//! between a leader losing its session and noticing it does no harm.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shopcase_store::Work;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

use crate::server::Core;

/// The timer loop's role (due timers, expired key-value entries).
pub const TIMERS: &str = "timers";
/// Retention's role (deleting finished work).
pub const RETENTION: &str = "retention";

/// How often a replica tries to take a role it does not hold, and checks
/// one it holds.
pub const LEAD_EVERY: Duration = Duration::from_secs(1);

/// The roles this replica contends for, and whether it holds each.
#[derive(Debug, Default)]
pub(crate) struct Roles(Mutex<BTreeMap<&'static str, bool>>);

impl Roles {
    fn set(&self, role: &'static str, held: bool) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(role, held);
    }

    /// The roles held now, by name.
    pub(crate) fn held(&self) -> Vec<&'static str> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter_map(|(r, h)| h.then_some(*r))
            .collect()
    }

    /// `shopcase_role_leader{role}`: 1 for each role this replica holds,
    /// 0 for each it contends for and does not.
    pub(crate) fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "# HELP shopcase_role_leader Whether this replica runs a singleton role (1) or another replica does (0).\n# TYPE shopcase_role_leader gauge"
        );
        for (role, held) in self.0.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(
                out,
                "shopcase_role_leader{{role=\"{role}\"}} {}",
                u8::from(*held)
            );
        }
    }
}

/// Wake this process's loops on the other processes' announcements, until
/// `shutdown`; returns at once when there is nothing to hear (SQLite).
pub(crate) async fn forward_wakeups(core: Arc<Core>, mut shutdown: watch::Receiver<bool>) {
    let Some(mut wakeups) = core.storage.wakeups() else {
        return;
    };
    loop {
        tokio::select! {
            w = wakeups.recv() => match w {
                Ok(Work::Inbox) => core.wake.notify_waiters(),
                Ok(Work::Journal) => core.journal_wake.notify_waiters(),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    core.wake.notify_waiters();
                    core.journal_wake.notify_waiters();
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            r = shutdown.changed() => if r.is_err() || *shutdown.borrow() {
                return;
            },
        }
    }
}

/// Run the loop `start` makes (given its own shutdown signal) on `tasks`,
/// only while this replica leads `role`. The role shows as not held until
/// taken.
pub(crate) fn spawn_singleton<F, Fut>(
    tasks: &mut JoinSet<()>,
    core: Arc<Core>,
    role: &'static str,
    shutdown: watch::Receiver<bool>,
    start: F,
) where
    F: Fn(watch::Receiver<bool>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    core.roles.set(role, false);
    tasks.spawn(singleton(core, role, shutdown, start));
}

/// Why a led loop stopped.
enum Stopped {
    Shutdown,
    /// The loop returned by itself.
    Ended,
    Lost(String),
}

async fn singleton<F, Fut>(
    core: Arc<Core>,
    role: &'static str,
    mut shutdown: watch::Receiver<bool>,
    start: F,
) where
    F: Fn(watch::Receiver<bool>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    // Whether the last try failed (logged once, not every second).
    let mut failing = false;
    loop {
        if *shutdown.borrow() {
            return;
        }
        match core.storage.lead(role).await {
            Ok(true) => failing = false,
            Ok(false) => {
                failing = false;
                crate::server::idle(&mut shutdown, LEAD_EVERY, None).await;
                continue;
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(role, error = %e, "cannot try for a role; trying again");
                    failing = true;
                }
                crate::server::idle(&mut shutdown, LEAD_EVERY, None).await;
                continue;
            }
        }
        core.roles.set(role, true);
        tracing::info!(role, instance = %core.instance, "role taken: this replica runs it");
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut running = tokio::spawn(start(stop_rx));
        let mut finished = false;
        let stopped = loop {
            tokio::select! {
                _ = &mut running => {
                    finished = true;
                    break Stopped::Ended;
                }
                r = shutdown.changed() => if r.is_err() || *shutdown.borrow() {
                    break Stopped::Shutdown;
                },
                _ = tokio::time::sleep(LEAD_EVERY) => match core.storage.lead(role).await {
                    Ok(true) => {}
                    Ok(false) => break Stopped::Lost("another replica holds it".into()),
                    Err(e) => break Stopped::Lost(e.to_string()),
                },
            }
        };
        let _ = stop_tx.send(true);
        if !finished {
            let _ = running.await;
        }
        core.roles.set(role, false);
        match stopped {
            Stopped::Shutdown => {
                core.storage.resign(role).await;
                tracing::info!(role, "role released: shutting down");
                return;
            }
            Stopped::Ended => {
                core.storage.resign(role).await;
                tracing::info!(role, "role released: its loop ended");
                return;
            }
            Stopped::Lost(why) => {
                tracing::warn!(role, why = %why, "role lost: this replica stops running it until it takes it again");
            }
        }
    }
}
