//! The AWS Lambda Kafka event: decoding it (MSK and self-managed variants)
//! and walking its records in a stable order.

use aws_lambda_events::event::kafka::KafkaEvent;

/// The event timestamp type (epoch milliseconds), re-exported for event builders.
pub use aws_lambda_events::encodings::MillisecondTimestamp;

use crate::record::KafkaRecordRef;

/// `eventSource` of an Amazon MSK trigger.
pub const SOURCE_MSK: &str = "aws:kafka";
/// `eventSource` of a self-managed Apache Kafka trigger (both spellings seen).
pub const SOURCES_SELF_MANAGED: [&str; 2] = ["SelfManagedKafka", "aws:SelfManagedKafka"];

/// Why an invocation payload is not a usable Kafka event.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// The payload is not JSON, or not shaped like a Kafka event.
    #[error("not a Kafka event: {0}")]
    Malformed(#[from] serde_json::Error),
    /// `eventSource` is absent or names another service.
    #[error(
        "not a Kafka event: eventSource is {0}, expected \"aws:kafka\" or \"SelfManagedKafka\""
    )]
    WrongSource(String),
    /// A record's partition does not fit Kafka's 32-bit partition numbers.
    #[error(
        "record at `{key}` offset {offset} has partition {partition}, not a Kafka partition number"
    )]
    BadPartition {
        /// The `records` key the record sits under.
        key: String,
        /// Its offset.
        offset: i64,
        /// The partition found.
        partition: i64,
    },
}

/// Decodes an invocation payload into a Kafka event and checks its source.
pub fn decode_event(payload: &[u8]) -> Result<KafkaEvent, EventError> {
    let event: KafkaEvent = serde_json::from_slice(payload)?;
    check_source(&event)?;
    Ok(event)
}

/// Checks that `event` came from an MSK or self-managed Kafka trigger.
pub fn check_source(event: &KafkaEvent) -> Result<(), EventError> {
    match event.event_source.as_deref() {
        Some(s) if s == SOURCE_MSK || SOURCES_SELF_MANAGED.contains(&s) => Ok(()),
        Some(s) => Err(EventError::WrongSource(format!("{s:?}"))),
        None => Err(EventError::WrongSource("absent".into())),
    }
}

/// The event's records, sorted by topic, partition and offset. A record
/// without a `topic` takes it from its `records` key (`<topic>-<partition>`).
pub fn records(event: &KafkaEvent) -> Result<Vec<KafkaRecordRef<'_>>, EventError> {
    let mut out = Vec::with_capacity(event.records.values().map(Vec::len).sum());
    for (key, batch) in &event.records {
        let key_topic = key.rsplit_once('-').map_or(key.as_str(), |(t, _)| t);
        for r in batch {
            let partition = i32::try_from(r.partition)
                .ok()
                .filter(|p| *p >= 0)
                .ok_or_else(|| EventError::BadPartition {
                    key: key.clone(),
                    offset: r.offset,
                    partition: r.partition,
                })?;
            out.push(KafkaRecordRef {
                topic: r.topic.as_deref().unwrap_or(key_topic),
                partition,
                offset: r.offset,
                timestamp_ms: r.timestamp.0.timestamp_millis(),
                key: r.key.as_deref(),
                value: r.value.as_deref(),
            });
        }
    }
    out.sort_unstable_by(|a, b| {
        (a.topic, a.partition, a.offset).cmp(&(b.topic, b.partition, b.offset))
    });
    Ok(out)
}
