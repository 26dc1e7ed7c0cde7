//! [`Poller`]: reads changed cases back from Core Case and turns them into
//! `corecase/case-updated` events in the same inbox, for the plugins of the
//! store the case belongs to; and decides held operations when their
//! approval task is completed.
//!
//! # One pass, per case definition in use
//! A definition is polled once a case of it is linked (opening the first
//! case seeds its high-water mark at the case's `createdOn`), so cases
//! shopcase did not open are never read in bulk. Each pass:
//! 1. lists `updatedSince = mark − poll-overlap` (inclusive, oldest change
//!    first) and pages on: while a page moves the mark forward it asks
//!    again from the new mark (so a case changing mid-pass cannot shift an
//!    unread case out of the page window), otherwise it follows
//!    `_links.next`, until there is none;
//! 2. for each case with a link whose `lastUpdatedOn` it has not seen yet:
//!    completed approval tasks decide their held operations
//!    (`approvals`); then the case-updated payload is built and,
//!    if anything plugins can see changed (the fingerprint), the event
//!    (dedupe key `corecase:<case id>:<lastUpdatedOn>`) goes in the inbox
//!    in the same transaction that records what the link saw;
//! 3. after a page is durably processed, the mark moves to its newest
//!    `lastUpdatedOn` (never back).
//!
//! A failure stops that definition's pass where it is; the next pass
//! starts from the mark again, and everything it repeats is deduplicated.

use std::sync::Arc;
use std::time::Duration;

use shopcase_contract::time::Timestamp;
use shopcase_corecase::CoreCaseClient;
use shopcase_corecase::client::dto::{Case, CasePage, CaseQuery};
use shopcase_store::{CaseObservation, Observed, PollMark, Storage, StoreError};
use tokio::sync::watch;

use super::approvals;
use super::payload;
use super::settings::CoreCaseSettings;
use shopcase_host_api::{BackgroundTask, EventProducer};

/// Most pages one definition's pass reads (a guard against a server that
/// pages forever); the next pass goes on from the mark.
const MAX_PAGES_PER_PASS: usize = 1000;

/// Why a pass stopped early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PollError {
    /// Core Case failed.
    #[error(transparent)]
    CoreCase(#[from] shopcase_corecase::Error),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StoreError),
}

/// What one pass did, for logs and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Cases read.
    pub cases: u64,
    /// Case-updated events put in the inbox.
    pub events: u64,
    /// Held operations decided.
    pub decisions: u64,
    /// Definitions whose pass failed (retried next pass).
    pub failed: u64,
}

/// The Core Case poller; runs as a [`BackgroundTask`].
#[derive(Debug)]
pub struct Poller {
    pub(crate) client: CoreCaseClient,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) settings: Arc<CoreCaseSettings>,
}

fn signed(d: Duration) -> jiff::SignedDuration {
    jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::ZERO)
}

impl Poller {
    /// One pass over every definition in use. `producer` is woken for what
    /// the pass put in the inbox and the journal.
    pub async fn poll_once(&self, producer: Option<&EventProducer>) -> PassReport {
        let mut report = PassReport::default();
        let marks = match self.storage.poll_marks().await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "Core Case poller: cannot read the high-water marks");
                report.failed += 1;
                return report;
            }
        };
        for mark in marks {
            if let Err(e) = self.poll_definition(&mark, producer, &mut report).await {
                report.failed += 1;
                tracing::warn!(definition = %mark.definition_id, error = %e, "Core Case poller: pass stopped; it resumes from the mark");
            }
        }
        report
    }

    async fn list(&self, definition: &str, since: Timestamp) -> Result<CasePage, PollError> {
        let query = CaseQuery {
            updated_since: Some(since),
            items_per_page: Some(self.settings.poll_page_size),
            ..CaseQuery::default()
        };
        Ok(self.client.list_cases(definition, &query).await?)
    }

    async fn poll_definition(
        &self,
        mark: &PollMark,
        producer: Option<&EventProducer>,
        report: &mut PassReport,
    ) -> Result<(), PollError> {
        let overlap = signed(self.settings.poll_overlap);
        let def = &mark.definition_id;
        let mut high = mark.mark;
        let mut cursor = high.checked_sub(overlap).unwrap_or(high);
        let mut page = self.list(def, cursor).await?;
        for _ in 0..MAX_PAGES_PER_PASS {
            for case in &page.cases {
                report.cases += 1;
                self.process(def, case, producer, report).await?;
            }
            let newest = page.cases.iter().filter_map(Case::last_updated_on).max();
            if let Some(newest) = newest.filter(|n| *n > high) {
                self.storage
                    .advance_poll_mark(def, newest, Timestamp::now())
                    .await?;
                high = newest;
            }
            let Some(next) = page.next.take() else {
                return Ok(());
            };
            let from = high.checked_sub(overlap).unwrap_or(high);
            page = if from > cursor {
                cursor = from;
                self.list(def, cursor).await?
            } else {
                // More changes inside the overlap than fit a page.
                self.client.list_cases_next(&next).await?
            };
        }
        tracing::warn!(definition = %def, "Core Case poller: page limit reached; continuing next pass");
        Ok(())
    }

    /// One case of a page.
    async fn process(
        &self,
        definition: &str,
        case: &Case,
        producer: Option<&EventProducer>,
        report: &mut PassReport,
    ) -> Result<(), PollError> {
        let (Some(updated), Some(raw)) = (
            case.last_updated_on(),
            case.case_properties
                .default_attributes
                .last_updated_on
                .clone(),
        ) else {
            tracing::warn!(case = %case.id, "Core Case poller: a case without lastUpdatedOn; skipped");
            return Ok(());
        };
        let Some(rec) = self.storage.case_record(&case.id).await? else {
            // Not opened by shopcase: it belongs to no store.
            return Ok(());
        };
        let seen = rec
            .link
            .last_updated_on
            .as_deref()
            .and_then(shopcase_corecase::api_time::parse);
        if seen.is_some_and(|s| s >= updated) {
            return Ok(());
        }
        let Some(status) = case.status() else {
            tracing::warn!(case = %case.id, status = %case.status, "Core Case poller: unknown case status; skipped");
            return Ok(());
        };
        let decided =
            approvals::settle(&self.client, &*self.storage, definition, case, producer).await?;
        report.decisions += decided.decisions;
        let link = self.settings.case_link(&case.id, &case.case_number);
        let body = payload::case_updated(&rec, case, &decided.tasks, &decided.held, link);
        let fingerprint = payload::fingerprint(&body);
        let event = (rec.fingerprint.as_deref() != Some(fingerprint.as_str()))
            .then(|| payload::event(&rec, &raw, updated, &body));
        let observed = self
            .storage
            .record_case_observation(CaseObservation {
                case_id: case.id.clone(),
                status,
                priority: case.priority().unwrap_or(rec.link.priority),
                escalation_level: case
                    .case_properties
                    .default_attributes
                    .escalation_level
                    .map_or(rec.link.escalation_level, |l| {
                        u8::try_from(l).unwrap_or(u8::MAX)
                    }),
                last_updated_on: raw,
                fingerprint,
                event,
                now: Timestamp::now(),
            })
            .await?;
        if let Observed::Recorded { event: Some(id) } = observed {
            report.events += 1;
            tracing::debug!(case = %case.id, event = %id, "case-updated event queued");
            if let Some(p) = producer {
                p.events_added();
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl BackgroundTask for Poller {
    fn name(&self) -> &'static str {
        "corecase-poller"
    }

    /// One replica at a time polls Core Case: the others would read the
    /// same changes (their events deduplicated, but the calls wasted).
    fn singleton(&self) -> bool {
        true
    }

    async fn run(self: Arc<Self>, producer: EventProducer, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(
            every_ms = self.settings.poll_interval.as_millis() as u64,
            "Core Case poller started"
        );
        loop {
            if *shutdown.borrow() {
                break;
            }
            let report = self.poll_once(Some(&producer)).await;
            if report.events > 0 || report.decisions > 0 {
                tracing::debug!(?report, "Core Case poll pass");
            }
            shopcase_host_api::idle(&mut shutdown, self.settings.poll_interval, None).await;
        }
        tracing::debug!("Core Case poller stopped");
    }
}
