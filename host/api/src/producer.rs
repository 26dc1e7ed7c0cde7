//! How an integration feeds the pipeline: events into the inbox
//! ([`EventProducer`]) from loops that run beside it ([`BackgroundTask`]).

use std::sync::Arc;
use std::time::Duration;

use shopcase_store::{Inserted, NewEvent, Storage, StoreError};
use tokio::sync::{Notify, watch};

/// For the host's own event producers (the Core Case poller, ...): puts an
/// event in the inbox (deduplicated by its `dedupe_key`, e.g.
/// `corecase:<caseId>:<lastUpdatedOn>`) and wakes the dispatcher.
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
            self.wake.notify_waiters();
        }
        Ok(inserted)
    }

    /// The storage, for producers that write events in their own
    /// transactions (then call [`EventProducer::events_added`]).
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// Wake the dispatcher: events were put in the inbox.
    pub fn events_added(&self) {
        self.wake.notify_waiters();
    }

    /// Wake the executors: entries were put in the journal (e.g. a held
    /// operation released by an approval).
    pub fn journal_added(&self) {
        self.journal_wake.notify_waiters();
    }
}

/// A loop that runs beside the dispatcher, the executors and the timer
/// loop for as long as the pipeline runs, e.g. the Core Case poller. It
/// must return soon after `shutdown` turns `true`.
#[async_trait::async_trait]
pub trait BackgroundTask: Send + Sync + std::fmt::Debug + 'static {
    /// A name for logs.
    fn name(&self) -> &'static str;

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
