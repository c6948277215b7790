//! The handler every function runs: decode → validate → transform → store,
//! one summary line a batch. The same code serves Lambda, `logpipe replay`,
//! `demo` and the local event source mapping: each hands it the event's
//! bytes, which one decoder reads.

use std::sync::Arc;
use std::time::Instant;

use crate::batch::{process_payload, BatchSummary, ProcessedBatch, Router};
use crate::event::EventError;
use crate::sink::{CassandraSink, SinkError};

/// Why an invocation failed. Either way the event source mapping retries
/// the batch; a malformed event will fail again and goes to the mapping's
/// on-failure destination.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The payload is not a usable Kafka event.
    #[error(transparent)]
    Event(#[from] EventError),
    /// A write failed after its retries: nothing of this batch may be
    /// acknowledged.
    #[error("storage failure, batch not acknowledged: {0}")]
    Storage(Box<SinkError>),
}

impl From<SinkError> for HandlerError {
    fn from(e: SinkError) -> Self {
        HandlerError::Storage(Box::new(e))
    }
}

impl HandlerError {
    /// Whether retrying the same batch could succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, HandlerError::Storage(_))
    }
}

/// A function: which topics it owns, and where it stores them.
#[derive(Clone)]
pub struct Function {
    router: Router,
    sink: Option<Arc<CassandraSink>>,
}

impl Function {
    /// A function routing with `router` and storing to `sink` (`None`
    /// validates and transforms without storing).
    pub fn new(router: Router, sink: Option<Arc<CassandraSink>>) -> Self {
        Function { router, sink }
    }

    /// The router.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Handles one invocation payload (the event's JSON bytes) and returns
    /// its summary: what the Lambda entry point runs.
    pub async fn handle_payload(&self, payload: &[u8]) -> Result<BatchSummary, HandlerError> {
        self.handle_payload_detailed(payload)
            .await
            .map(|b| b.summary())
    }

    /// Handles one invocation payload and returns everything it became.
    pub async fn handle_payload_detailed(
        &self,
        payload: &[u8],
    ) -> Result<ProcessedBatch, HandlerError> {
        let started = Instant::now();
        let batch = self.process(payload)?;
        self.store(batch, started).await
    }

    /// Decodes, validates and transforms one invocation payload without
    /// storing it: the first half of [`Function::handle_payload`], for
    /// callers that must read every event before storing any (`replay`).
    pub fn process(&self, payload: &[u8]) -> Result<ProcessedBatch, EventError> {
        process_payload(&self.router, payload)
    }

    /// Stores a batch that [`Function::process`] made: the second half of
    /// [`Function::handle_payload`].
    pub async fn store_processed(
        &self,
        batch: ProcessedBatch,
    ) -> Result<ProcessedBatch, HandlerError> {
        self.store(batch, Instant::now()).await
    }

    /// Stores a processed batch (if there is a sink) and logs its summary.
    async fn store(
        &self,
        batch: ProcessedBatch,
        started: Instant,
    ) -> Result<ProcessedBatch, HandlerError> {
        let validated = started.elapsed();
        let stored = match &self.sink {
            Some(sink) => sink.store(&batch).await,
            None => Ok(()),
        };
        crate::metrics::record_batch(
            &self.router,
            self.sink.as_deref(),
            &batch,
            started,
            stored.is_ok(),
        );
        if let Err(e) = stored {
            tracing::error!(
                error = %e,
                records = batch.rows.len() + batch.dead_letters.len(),
                "batch failed; it will be retried"
            );
            return Err(e.into());
        }
        let s = batch.summary();
        tracing::info!(
            records = s.records,
            written = s.written,
            dead_lettered = s.dead_lettered,
            reasons = ?batch.reasons,
            validate_ms = validated.as_secs_f64() * 1e3,
            total_ms = started.elapsed().as_secs_f64() * 1e3,
            "batch stored"
        );
        Ok(batch)
    }
}
