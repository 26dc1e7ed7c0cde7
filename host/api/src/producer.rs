//! How an integration feeds the pipeline: events into the inbox
//! ([`EventProducer`]) from loops that run beside it ([`BackgroundTask`]).

use std::sync::Arc;
use std::time::Duration;

use shopcase_store::{Inserted, NewEvent, Storage, StoreError, Work};
use tokio::sync::{Notify, watch};

/// For the host's own event producers (the Core Case poller, ...): puts an
/// event in the inbox (deduplicated by its `dedupe_key`, e.g.
/// `corecase:<caseId>:<lastUpdatedOn>`) and wakes the dispatcher — this
/// process's, and through the storage's announcement
/// (`shopcase_store::CoordinationStore::announce`) the other replicas'.
#[derive(Debug, Clone)]
pub struct EventProducer {
    storage: Arc<dyn Storage>,
    wake: Arc<Notify>,
    journal_wake: Arc<Notify>,
}

impl EventProducer {
    /// Over the pipeline's storage and its two wake-ups (the dispatcher's
    /// and the executors').
    pub fn new(storage: Arc<dyn Storage>, wake: Arc<Notify>, journal_wake: Arc<Notify>) -> Self {
        EventProducer {
            storage,
            wake,
            journal_wake,
        }
    }

    /// Insert durably; a duplicate is reported, not an error.
    pub async fn submit(&self, event: NewEvent) -> Result<Inserted, StoreError> {
        let inserted = self.storage.insert_event(event).await?;
        if matches!(inserted, Inserted::New { .. }) {
            self.events_added();
        }
        Ok(inserted)
    }

    /// The storage, for producers that write events in their own
    /// transactions (then call [`EventProducer::events_added`]).
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// Wake the dispatcher: events were put in the inbox (committed).
    /// The other replicas are told too.
    pub fn events_added(&self) {
        self.wake.notify_waiters();
        self.storage.announce(Work::Inbox);
    }

    /// Wake the executors: entries were put in the journal (e.g. a held
    /// operation released by an approval).
    pub fn journal_added(&self) {
        self.journal_wake.notify_waiters();
        self.storage.announce(Work::Journal);
    }
}

/// A loop that runs beside the dispatcher, the executors and the timer
/// loop for as long as the pipeline runs, e.g. the Core Case poller. It
/// must return soon after `shutdown` turns `true`.
#[async_trait::async_trait]
pub trait BackgroundTask: Send + Sync + std::fmt::Debug + 'static {
    /// A name for logs; for a [singleton](BackgroundTask::singleton), also
    /// its role's name (in `/readyz`, `/metrics` and the advisory lock).
    fn name(&self) -> &'static str;

    /// Whether the task must run on one replica at a time when several
    /// share a database (e.g. a poller of a remote system, whose passes
    /// on every replica would only repeat each other). The pipeline then
    /// runs it only while this replica leads the role [`BackgroundTask::name`]
    /// (`shopcase_store::CoordinationStore::lead`): `run` starts when the
    /// role is taken, its `shutdown` turns `true` when the role is lost
    /// (as at shutdown), and it is run again when the role is taken again
    /// — so `run` may be called more than once. Default: `false`, it runs
    /// on every replica for as long as the pipeline runs.
    fn singleton(&self) -> bool {
        false
    }

    /// Run until `shutdown` turns `true`.
    async fn run(self: Arc<Self>, producer: EventProducer, shutdown: watch::Receiver<bool>);
}

/// Sleep for `d`, or until woken or shut down: the wait between two passes
/// of a loop (a background task's, the pipeline's own).
pub async fn idle(shutdown: &mut watch::Receiver<bool>, d: Duration, wake: Option<&Notify>) {
    let woken = async {
        match wake {
            Some(n) => n.notified().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = woken => {}
        _ = shutdown.changed() => {}
    }
}
