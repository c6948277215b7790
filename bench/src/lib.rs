//! Inputs for the benchmarks: AWS Kafka events of generated logs, built
//! once and serialized exactly as Lambda delivers them.

#![forbid(unsafe_code)]

pub mod cost;
pub mod python;
pub mod replay;
pub mod runtime_api;
pub mod sink;

use base64::Engine;
use log_generator::{Generator, GeneratorConfig, Output, RecordValue};
use logpipe_core::contract::event::{encode, EventRecord, EventSource, Field, TimestampType};
use logpipe_core::LogKind;

/// What an event holds.
#[derive(Debug, Clone, Copy)]
pub enum Mix {
    /// Only valid logs of one kind.
    Kind(LogKind),
    /// All three kinds in turn, with 1% bad records of every kind.
    MixedOnePercentBad,
}

impl Mix {
    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Mix::Kind(LogKind::Auth) => "auth",
            Mix::Kind(LogKind::Session) => "session",
            Mix::Kind(LogKind::Activity) => "activity",
            Mix::MixedOnePercentBad => "mixed_1pct_bad",
        }
    }
}

/// The four events the hot-path benchmark runs.
pub const MIXES: [Mix; 4] = [
    Mix::Kind(LogKind::Auth),
    Mix::Kind(LogKind::Session),
    Mix::Kind(LogKind::Activity),
    Mix::MixedOnePercentBad,
];

/// A self-managed Kafka event of `n` records, as JSON bytes.
pub fn event_bytes(mix: Mix, n: usize) -> Vec<u8> {
    match mix {
        Mix::Kind(k) => generated_event(&[k], n, 42, 0.0),
        Mix::MixedOnePercentBad => generated_event(&LogKind::ALL, n, 42, 0.01),
    }
}

/// A self-managed Kafka event of `n` generated records of `kinds` in turn
/// (`invalid_ratio` of them bad, the generator seeded with `seed`), all in
/// partition 0, written by the project's event encoder: JSON bytes as
/// Lambda receives them.
pub fn generated_event(kinds: &[LogKind], n: usize, seed: u64, invalid_ratio: f64) -> Vec<u8> {
    let mut generator = Generator::new(GeneratorConfig {
        seed,
        invalid_ratio,
        kinds: kinds.to_vec(),
        output: Output::LambdaEvent,
        ..GeneratorConfig::default()
    })
    .expect("a valid generator configuration");
    let records: Vec<Generated> = (0..n)
        .map(|i| Generated {
            record: generator.next_record(kinds[i % kinds.len()]),
            offset: i as i64,
        })
        .collect();
    encode(&EventSource::self_managed("127.0.0.1:9092"), &records)
}

/// A generated record at an offset of partition 0.
struct Generated {
    record: log_generator::GeneratedRecord,
    offset: i64,
}

impl EventRecord for Generated {
    fn topic(&self) -> &str {
        &self.record.topic
    }
    fn partition(&self) -> i32 {
        0
    }
    fn offset(&self) -> i64 {
        self.offset
    }
    fn timestamp_ms(&self) -> i64 {
        self.record.timestamp_ms
    }
    fn timestamp_type(&self) -> TimestampType {
        TimestampType::CreateTime
    }
    fn key(&self) -> Field<'_> {
        Field::Bytes(&self.record.key)
    }
    fn value(&self) -> Field<'_> {
        match &self.record.value {
            RecordValue::Null => Field::Null,
            RecordValue::Bytes(b) => Field::Bytes(b),
            RecordValue::NotBase64(text) => Field::Verbatim(text),
        }
    }
    fn for_each_header(&self, _: &mut dyn FnMut(&str, &[u8])) {}
}

/// The record values of an event payload (base64 text), in the order the
/// handler sees them: the baseline's input, taken out of the event before
/// timing.
pub fn values(payload: &[u8]) -> Vec<String> {
    let event = logpipe_core::event::decode(payload).expect("a Kafka event");
    event
        .records()
        .expect("valid records")
        .iter()
        .filter_map(|r| r.value.map(str::to_owned))
        .collect()
}

/// The floor every JSON pipeline pays: base64-decode each record value and
/// parse it with `serde_json::from_slice::<serde_json::Value>`. It does not
/// read the event around the values (the pipeline does), so the ratio
/// against it overstates the pipeline's cost, never understates it.
/// Returns the records parsed.
pub fn baseline(values: &[String]) -> usize {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut parsed = 0;
    for v in values {
        if let Ok(bytes) = b64.decode(v) {
            if serde_json::from_slice::<serde_json::Value>(&bytes).is_ok() {
                parsed += 1;
            }
        }
    }
    parsed
}

/// The handler's path without storage: event decode, validate, transform
/// ([`logpipe_core::batch::process_payload`], what `Function::handle_payload`
/// runs before storing). Returns the records with an outcome.
pub fn pipeline(payload: &[u8]) -> usize {
    let batch =
        logpipe_core::batch::process_payload(&logpipe_core::Router::all_default("bench"), payload)
            .expect("processes");
    batch.rows.len() + batch.dead_letters.len()
}
