//! What every fuzz target checks of a processed batch.
#![forbid(unsafe_code)]

use logpipe_core::batch::{ProcessedBatch, Router};
use logpipe_core::event::{self, EventError};
use logpipe_core::logs::LogRow;
use aws_lambda_events::event::kafka::KafkaEvent;
use logpipe_core::ReasonCode;

/// A record's place: topic, partition, offset.
pub type Place = (String, i32, i64);

/// `logpipe replay`'s router: the three default topics; any other topic's
/// records are dead-lettered as `wrong_topic`.
pub fn router() -> Router {
    Router::all_default("replay")
}

/// The places of the event's records, sorted (one entry a record, so a
/// place given twice counts twice).
pub fn places(event: &KafkaEvent) -> Result<Vec<Place>, EventError> {
    let mut out: Vec<Place> = event::records(event)?
        .iter()
        .map(|r| (r.topic.to_owned(), r.partition, r.offset))
        .collect();
    out.sort();
    Ok(out)
}

/// Asserts that each record at `places` ended as exactly one row or one
/// dead letter, that rows only come from routed topics, and that every
/// dead letter carries a known reason and a detail.
pub fn check_batch(places: &[Place], batch: &ProcessedBatch) {
    let mut outcomes: Vec<Place> = batch
        .rows
        .iter()
        .map(|row| {
            let (partition, offset) = match row {
                LogRow::Auth(r) => (r.source_partition, r.source_offset),
                LogRow::Session(r) => (r.source_partition, r.source_offset),
                LogRow::Activity(r) => (r.source_partition, r.source_offset),
            };
            (row.kind().default_topic().to_owned(), partition, offset)
        })
        .chain(
            batch
                .dead_letters
                .iter()
                .map(|d| (d.topic.clone(), d.partition, d.offset)),
        )
        .collect();
    outcomes.sort();
    assert_eq!(outcomes, places, "records and outcomes differ");
    for d in &batch.dead_letters {
        assert!(
            ReasonCode::parse(d.reason).is_some(),
            "reason {:?}",
            d.reason
        );
        assert!(!d.detail.is_empty(), "a dead letter without a detail");
    }
    let summary = batch.summary();
    assert_eq!(summary.records as usize, places.len());
    assert_eq!(summary.written + summary.dead_lettered, summary.records);
    let by_topic: u64 = batch.by_topic.values().map(|c| c.records).sum();
    assert_eq!(by_topic, summary.records);
    assert_eq!(
        batch.reasons.values().sum::<u64>(),
        summary.dead_lettered,
        "reason counts"
    );
}
