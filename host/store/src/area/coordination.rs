//! Coordination between host replicas that share one database: wake-ups
//! across processes, and which replica leads a singleton role.
//!
//! Neither is needed for correctness: every rule the other areas state
//! holds across replicas by itself (claims are leases taken in a
//! transaction, journalling is exactly once, timers fire in the
//! transaction that inserts their event). Coordination makes several
//! replicas *prompt* (a replica's idle dispatcher hears of an event another
//! replica received, instead of waiting for its next poll) and *frugal* (a
//! singleton loop — timers, retention, the Core Case poller — runs on one
//! replica, not on all of them at once).
//!
//! - SQLite (one process): nothing to subscribe to ([`CoordinationStore::wakeups`]
//!   is `None`; the pipeline's in-process wake-ups are all there is), every
//!   announcement is dropped, and the process always leads every role.
//! - PostgreSQL: `NOTIFY` on the channels [`Work::channel`] names, heard by
//!   one dedicated `LISTEN`ing connection per storage (reconnected with
//!   backoff when it drops); leadership is a session-level advisory lock
//!   per role and schema, held on one dedicated connection: if the replica
//!   dies or its connection drops, the server releases the lock and another
//!   replica takes the role at its next try. See `postgres/coordination.rs`.
//!
//! SQL: `postgres/coordination.rs`; `sqlite/coordination.rs` is the
//! one-process answer.

use async_trait::async_trait;

use crate::error::Result;

/// What kind of new work an announcement is about: which loops it wakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Work {
    /// Events were put in the inbox (or became due): dispatchers.
    Inbox,
    /// Entries were put in the journal: executors.
    Journal,
}

impl Work {
    /// Both kinds.
    pub const ALL: [Work; 2] = [Work::Inbox, Work::Journal];

    /// The PostgreSQL `NOTIFY` channel of this kind of work.
    pub fn channel(self) -> &'static str {
        match self {
            Work::Inbox => "shopcase_inbox",
            Work::Journal => "shopcase_journal",
        }
    }
}

/// Wake-ups across processes and leadership of singleton roles. See the
/// module documentation for what each backend does.
#[async_trait]
pub trait CoordinationStore: Send + Sync {
    /// Tell the other processes sharing the database that new work of this
    /// kind is committed. Call it after the commit (or as soon as the
    /// caller knows the work is committed). Returns at once: the
    /// announcement is sent in the background and coalesced with others
    /// sent meanwhile; a failure to send is logged, never the caller's
    /// (the other processes still poll).
    fn announce(&self, work: Work);

    /// Hear other processes' announcements: each one received arrives on
    /// the receiver (a lagging receiver gets `Lagged`: treat it as a
    /// wake-up of every kind). A connection that comes back after a drop
    /// sends one wake-up of every kind, for what was announced meanwhile.
    /// Announcements of this storage itself are not delivered back.
    /// `None`: there is nothing to hear (one process).
    fn wakeups(&self) -> Option<tokio::sync::broadcast::Receiver<Work>>;

    /// Take or keep the leadership of `role` (a short fixed name such as
    /// `timers`): `Ok(true)` if this storage leads it now — newly taken, or
    /// held and its session checked alive just now — `Ok(false)` if another
    /// process leads it. An error (the database cannot be reached, the
    /// session was lost) means this storage does not lead the role; the
    /// caller tries again later. At most one storage leads a role of a
    /// database (schema) at a time, as long as each holder checks with
    /// this method before it acts.
    async fn lead(&self, role: &str) -> Result<bool>;

    /// Give up the leadership of `role` (if held), so another process can
    /// take it at once (at shutdown).
    async fn resign(&self, role: &str);
}
