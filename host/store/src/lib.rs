//! Durable storage for the shopcase host, behind one interface split by
//! area.
//!
//! [`Storage`] is everything the event pipeline keeps, as one trait per
//! area (each in [`area`], mirroring a file of `sqlite/`):
//! - [`InboxStore`]: the inbox of received events and their per-(event,
//!   plugin) dispatch state (claims, finishing an attempt).
//! - [`JournalStore`]: the action journal, as the executors claim and
//!   settle it.
//! - [`KvStore`]: the plugins' key-value data.
//! - [`TimerStore`]: follow-up timers.
//! - [`CaseLinkStore`]: case links and what the Core Case integration keeps
//!   with them: case records, poller observations and marks, operations
//!   held for an approval.
//! - [`PrivacyStore`]: privacy redactions, exports and records, recorded
//!   uninstalls.
//! - [`AdminStore`]: administration and audit: dead letters, stores and
//!   plugin installations (with quarantine), the audit log, retention, the
//!   write-health check, API tokens and searches.
//! - [`CoordinationStore`]: between replicas sharing the database:
//!   wake-ups across processes and leadership of singleton roles.
//!
//! [`Storage`] is all of them together (implemented for every type that
//! implements every area), so callers hold an `Arc<dyn Storage>`; a caller
//! that needs the areas' traits by name (a generic, a method call on a
//! concrete type) imports [`prelude`]. [`SqliteStorage`] is the embedded
//! implementation (one file in the data directory, WAL), the default;
//! [`PostgresStorage`] is the one several host replicas share. [`Backend`]
//! chooses between them (`[storage] backend`).
//!
//! # Guarantees the traits make (and every implementation keeps)
//! - [`InboxStore::insert_event`] returns only after the event is durably
//!   committed (the ingress answers 2xx on that).
//! - Claims are leases ([`InboxStore::claim_events`],
//!   [`JournalStore::claim_journal`]): an expired claim is claimable again,
//!   so a crashed worker's work is picked up. A lease is an efficiency
//!   device; exactly-once journalling rests on the dispatch row's state
//!   change (`pending → done`), made by [`InboxStore::finish_event`] in the
//!   same transaction as the journal inserts and the key-value writes.
//! - Idempotency keys (`<event>:<plugin>:<index>`) are unique.
//!
//! # Layout
//! - [`area`]: one module per area: its trait and the values only it uses
//!   ([`area::inbox`], [`area::journal`], [`area::kv`], [`area::timers`],
//!   [`area::links`], [`area::privacy`], [`area::admin`],
//!   [`area::coordination`]). Everything is
//!   re-exported here.
//! - [`model`]: the values several areas share (events, journal entries,
//!   failures, case links).
//! - [`error`]: the error type, [`StoreError`], and what callers do with it.
//! - [`privacy`]: pure helpers that find and scrub a customer's personal data
//!   in JSON and text.
//! - [`copy`]: moving a host to PostgreSQL (`shopcase storage migrate`):
//!   a stopped host's SQLite database copied table by table into an empty
//!   PostgreSQL database, verified, in one transaction.
//! - [`sqlite`]: [`SqliteStorage`]: schema migrations, the group-commit
//!   writer thread, read connections, and per area the SQL and the area's
//!   `impl` (`sqlite/<area>.rs`).
//! - [`postgres`]: [`PostgresStorage`]: the pool, `SERIALIZABLE`
//!   transactions with retry, the schema, and per area the SQL and the
//!   area's `impl` (`postgres/<area>.rs`), mirroring `sqlite/`.
//! - `migrations`: the one list of schema migrations, with each engine's
//!   SQL; `convert`: times, JSON and worker names as both engines store
//!   them; `backend`: [`Backend`].

#![forbid(unsafe_code)]

pub mod area;
mod backend;
mod convert;
pub mod copy;
pub mod error;
mod migrations;
pub mod model;
pub mod postgres;
pub mod privacy;
pub mod sqlite;

pub use area::admin::*;
pub use area::coordination::*;
pub use area::inbox::*;
pub use area::journal::*;
pub use area::kv::*;
pub use area::links::*;
pub use area::privacy::*;
pub use area::timers::*;
pub use backend::Backend;
pub use error::{Result, StoreError};
pub use model::*;
pub use postgres::{PostgresConfig, PostgresStorage};
pub use sqlite::{SqliteConfig, SqliteStorage, Synchronous};

/// Everything the host stores: every area. Every method is one transaction.
///
/// Implemented for every type that implements all the areas. The areas'
/// methods are called on an `Arc<dyn Storage>` as they are; code that names
/// an area trait (a generic `S: InboxStore`, a call on a concrete
/// `SqliteStorage`) imports [`prelude`].
pub trait Storage:
    InboxStore
    + JournalStore
    + KvStore
    + TimerStore
    + CaseLinkStore
    + PrivacyStore
    + AdminStore
    + CoordinationStore
    + Send
    + Sync
    + std::fmt::Debug
    + 'static
{
}

impl<T> Storage for T where
    T: InboxStore
        + JournalStore
        + KvStore
        + TimerStore
        + CaseLinkStore
        + PrivacyStore
        + AdminStore
        + CoordinationStore
        + Send
        + Sync
        + std::fmt::Debug
        + 'static
{
}

/// The storage traits, to call their methods: `use shopcase_store::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AdminStore, CaseLinkStore, CoordinationStore, InboxStore, JournalStore, KvStore,
        PrivacyStore, Storage, TimerStore,
    };
}

/// Every value and trait, for the implementation's glob imports.
pub(crate) mod values {
    pub(crate) use crate::area::admin::*;
    pub(crate) use crate::area::coordination::*;
    pub(crate) use crate::area::inbox::*;
    pub(crate) use crate::area::journal::*;
    pub(crate) use crate::area::kv::*;
    pub(crate) use crate::area::links::*;
    pub(crate) use crate::area::privacy::*;
    pub(crate) use crate::area::timers::*;
    pub(crate) use crate::model::*;
}
