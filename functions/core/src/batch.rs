//! A whole event → the rows and dead letters it becomes, with counts.
//!
//! [`Router`] says which log kind each topic carries; a Lambda function's
//! router owns one topic, `logpipe replay`'s owns all three.

use std::collections::BTreeMap;

#[cfg(feature = "oracle")]
use aws_lambda_events::event::kafka::KafkaEvent;
use serde::Serialize;

use crate::event::{self, EventError};
use crate::logs::LogRow;
use crate::record::{classify_into, DeadLetterRow, KafkaRecordRef, Outcome};
use crate::topics::LogKind;

/// Which function handles which topic.
#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<(String, LogKind)>,
    /// Function named in dead letters of topics no route owns.
    fallback_function: String,
}

impl Router {
    /// A router for one function that owns `topic`.
    pub fn single(kind: LogKind, topic: impl Into<String>) -> Self {
        Router {
            routes: vec![(topic.into(), kind)],
            fallback_function: kind.function_name().to_owned(),
        }
    }

    /// A router over the given `(topic, kind)` routes; records of any other
    /// topic are dead-lettered as `wrong_topic` under `fallback_function`.
    pub fn new(routes: Vec<(String, LogKind)>, fallback_function: impl Into<String>) -> Self {
        Router {
            routes,
            fallback_function: fallback_function.into(),
        }
    }

    /// A router over all three kinds at their default topics.
    pub fn all_default(fallback_function: impl Into<String>) -> Self {
        Router::new(
            LogKind::ALL
                .into_iter()
                .map(|k| (k.default_topic().to_owned(), k))
                .collect(),
            fallback_function,
        )
    }

    /// The kind `topic` carries, if a route owns it.
    pub fn kind_of(&self, topic: &str) -> Option<LogKind> {
        self.routes
            .iter()
            .find(|(t, _)| t == topic)
            .map(|(_, k)| *k)
    }

    /// The topics routed, with their kinds.
    pub fn routes(&self) -> &[(String, LogKind)] {
        &self.routes
    }

    /// The function a record of `kind` (or of no owner) is handled by.
    fn function(&self, kind: Option<LogKind>) -> &str {
        match kind {
            Some(k) => k.function_name(),
            None => &self.fallback_function,
        }
    }
}

/// Per-topic counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TopicCounts {
    pub records: u64,
    pub written: u64,
    pub dead_lettered: u64,
    /// The oldest Kafka timestamp (epoch ms) of the topic's records that
    /// have one: how far behind the batch is. Not part of the summaries.
    #[serde(skip)]
    pub oldest_timestamp_ms: Option<i64>,
}

/// What a batch became, before it is stored.
#[derive(Debug, Default)]
pub struct ProcessedBatch {
    /// Valid logs, in record order.
    pub rows: Vec<LogRow>,
    /// Bad records, in record order.
    pub dead_letters: Vec<DeadLetterRow>,
    /// Counts by topic.
    pub by_topic: BTreeMap<String, TopicCounts>,
    /// Dead letters by reason code.
    pub reasons: BTreeMap<&'static str, u64>,
}

impl ProcessedBatch {
    /// The summary the handler returns once the batch is stored.
    pub fn summary(&self) -> BatchSummary {
        BatchSummary {
            records: (self.rows.len() + self.dead_letters.len()) as u64,
            written: self.rows.len() as u64,
            dead_lettered: self.dead_letters.len() as u64,
        }
    }
}

/// What the handler returns: `records == written + dead_lettered`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BatchSummary {
    pub records: u64,
    pub written: u64,
    pub dead_lettered: u64,
}

/// Decodes, validates and transforms every record of `event`, decoded by
/// the oracle ([`event::decode_event`]): for the tests that hold
/// [`process_payload`] to it.
#[cfg(feature = "oracle")]
pub fn process_event(router: &Router, event: &KafkaEvent) -> Result<ProcessedBatch, EventError> {
    event::check_source(event)?;
    let records = event::records(event)?;
    Ok(process_records(router, &records))
}

/// Decodes an invocation payload with the borrowed decoder
/// ([`event::decode`]), then validates and transforms every record: the
/// handler's path, and the only way a batch enters the functions. The same
/// payload gives the same batch, or the same error, as the oracle
/// (`event::decode_event` followed by `process_event`, feature `oracle`).
pub fn process_payload(router: &Router, payload: &[u8]) -> Result<ProcessedBatch, EventError> {
    let event = event::decode(payload)?;
    let records = event.records()?;
    Ok(process_records(router, &records))
}

/// Validates and transforms `records`, in order.
pub fn process_records(router: &Router, records: &[KafkaRecordRef<'_>]) -> ProcessedBatch {
    let mut batch = ProcessedBatch {
        rows: Vec::with_capacity(records.len()),
        ..ProcessedBatch::default()
    };
    // One decode buffer for every record's base64 value.
    let mut scratch = Vec::new();
    for record in records {
        let kind = router.kind_of(record.topic);
        let counts = match batch.by_topic.get_mut(record.topic) {
            Some(c) => c,
            None => batch.by_topic.entry(record.topic.to_owned()).or_default(),
        };
        counts.records += 1;
        if let Some(ts) = record.timestamp() {
            counts.oldest_timestamp_ms = Some(counts.oldest_timestamp_ms.map_or(ts, |o| o.min(ts)));
        }
        match classify_into(kind, router.function(kind), record, &mut scratch) {
            Outcome::Row(row) => {
                counts.written += 1;
                batch.rows.push(row);
            }
            Outcome::DeadLetter(dl) => {
                counts.dead_lettered += 1;
                *batch.reasons.entry(dl.reason).or_default() += 1;
                batch.dead_letters.push(dl);
            }
        }
    }
    batch
}
