//! Inputs for the benchmarks: AWS Kafka events of generated logs, built
//! once and serialized exactly as Lambda delivers them.

#![forbid(unsafe_code)]

pub mod procs;
pub mod runtime_api;
pub mod sink;

use base64::Engine;
use log_generator::{Generator, GeneratorConfig, Output, RecordValue};
use logpipe_core::{KafkaEvent, KafkaRecord, LogKind};

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
    let (kinds, invalid_ratio) = match mix {
        Mix::Kind(k) => (vec![k], 0.0),
        Mix::MixedOnePercentBad => (LogKind::ALL.to_vec(), 0.01),
    };
    let mut generator = Generator::new(GeneratorConfig {
        seed: 42,
        invalid_ratio,
        kinds: kinds.clone(),
        output: Output::LambdaEvent,
        ..GeneratorConfig::default()
    })
    .expect("a valid generator configuration");
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut event = KafkaEvent::default();
    event.event_source = Some("SelfManagedKafka".into());
    event.bootstrap_servers = Some("127.0.0.1:9092".into());
    for i in 0..n {
        let g = generator.next_record(kinds[i % kinds.len()]);
        let mut r = KafkaRecord::default();
        r.topic = Some(g.topic.to_string());
        r.partition = 0;
        r.offset = i as i64;
        r.timestamp = aws_lambda_events_timestamp(g.timestamp_ms);
        r.timestamp_type = Some("CREATE_TIME".into());
        r.key = Some(b64.encode(&g.key));
        r.value = match g.value {
            RecordValue::Null => None,
            RecordValue::Bytes(b) => Some(b64.encode(b)),
            RecordValue::NotBase64(text) => Some(text),
        };
        event
            .records
            .entry(format!("{}-0", g.topic))
            .or_default()
            .push(r);
    }
    serde_json::to_vec(&event).expect("an event serializes")
}

fn aws_lambda_events_timestamp(ms: i64) -> logpipe_core::event::MillisecondTimestamp {
    logpipe_core::event::MillisecondTimestamp(
        chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default(),
    )
}

/// The record values of an event payload (base64 text), in the order the
/// handler sees them: the baseline's input, taken out of the event before
/// timing.
pub fn values(payload: &[u8]) -> Vec<String> {
    let event = logpipe_core::event::decode_event(payload).expect("a Kafka event");
    logpipe_core::event::records(&event)
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
