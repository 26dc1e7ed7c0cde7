//! How an integration registers its parts with a host being built.

use std::sync::Arc;

use shopcase_store::Storage;

use crate::{BackgroundTask, CustomerHistorySource, Erasure, Executor, OrderSource};

/// A host being built, as an integration sees it: the pipeline's
/// `PipelineBuilder` implements it, so `CoreCase::register(builder, …)`
/// works on it without the integration depending on the pipeline. Each
/// method takes and gives back the builder, as the pipeline's own do.
pub trait HostBuilder: Sized {
    /// Use this storage (an integration that keeps its own records there,
    /// such as case links, shares it with the host).
    fn storage(self, storage: Arc<dyn Storage>) -> Self;

    /// Execute journalled actions of `executor.family()` with it.
    fn executor(self, executor: Arc<dyn Executor>) -> Self;

    /// Run `task` beside the host's own loops.
    fn background(self, task: Arc<dyn BackgroundTask>) -> Self;

    /// Answer the `customer-history` host function from it.
    fn customer_history(self, source: Arc<dyn CustomerHistorySource>) -> Self;

    /// Answer the `order` and `order-risk` host functions from it.
    fn orders(self, source: Arc<dyn OrderSource>) -> Self;

    /// Erase in a case system through it for privacy requests.
    fn erasure(self, erasure: Arc<dyn Erasure>) -> Self;
}
