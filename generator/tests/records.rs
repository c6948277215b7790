//! Generated records against the pipeline's own validation: every valid
//! record becomes a row, every bad record is dead-lettered with exactly the
//! reason the generator promised, and a seed fixes every byte.

use std::collections::BTreeMap;

use base64::Engine as _;
use log_generator::{
    Expected, GeneratedRecord, Generator, GeneratorConfig, Output, RecordValue, UNOWNED_TOPIC,
};
use logpipe_core::reason::ReasonCode;
use logpipe_core::record::{classify, KafkaRecordRef, Outcome};
use logpipe_core::topics::LogKind;
use serde_json::Value;

fn generate(seed: u64, invalid_ratio: f64, output: Output, n: usize) -> Vec<GeneratedRecord> {
    let config = GeneratorConfig {
        seed,
        invalid_ratio,
        output,
        ..GeneratorConfig::default()
    };
    Generator::new(config).unwrap().take(n).collect()
}

/// What the pipeline does with `record`: `None` for a row, else the reason.
fn pipeline_outcome(record: &GeneratedRecord) -> (Option<ReasonCode>, String) {
    let encoded = match &record.value {
        RecordValue::Null => None,
        RecordValue::Bytes(b) => Some(base64::engine::general_purpose::STANDARD.encode(b)),
        RecordValue::NotBase64(s) => Some(s.clone()),
    };
    let key = base64::engine::general_purpose::STANDARD.encode(&record.key);
    let kafka = KafkaRecordRef {
        topic: &record.topic,
        partition: 0,
        offset: 0,
        timestamp_ms: record.timestamp_ms,
        key: Some(&key),
        value: encoded.as_deref(),
    };
    let kind = LogKind::from_default_topic(&record.topic);
    match classify(kind, record.kind.function_name(), &kafka) {
        Outcome::Row(_) => (None, String::new()),
        Outcome::DeadLetter(dl) => (ReasonCode::parse(dl.reason), dl.detail),
    }
}

fn show(record: &GeneratedRecord) -> String {
    match &record.value {
        RecordValue::Bytes(b) => String::from_utf8_lossy(&b[..b.len().min(600)]).into_owned(),
        other => format!("{other:?}"),
    }
}

#[test]
fn a_seed_fixes_every_byte() {
    for output in [Output::Kafka, Output::LambdaEvent] {
        let a = generate(42, 0.3, output, 3000);
        let b = generate(42, 0.3, output, 3000);
        assert_eq!(a, b);
        let c = generate(43, 0.3, output, 3000);
        assert_ne!(a, c);
    }
}

#[test]
fn every_valid_record_becomes_a_row() {
    let records = generate(7, 0.0, Output::Kafka, 60_000);
    let mut kinds = BTreeMap::new();
    for r in &records {
        assert_eq!(r.expected, Expected::Valid);
        let (reason, detail) = pipeline_outcome(r);
        assert_eq!(reason, None, "{detail}: {}", show(r));
        *kinds.entry(r.kind).or_insert(0) += 1;
        assert_eq!(&*r.topic, r.kind.default_topic());
    }
    assert_eq!(kinds.len(), 3);
}

/// The log rules, checked again here without the pipeline's code
/// for what the generator promises beyond them: canonical v4 ids, keys
/// equal to the user id, timestamps within the run.
#[test]
fn valid_records_keep_the_generator_promises() {
    let records = generate(11, 0.0, Output::Kafka, 9_000);
    let mut event_types = BTreeMap::<String, u32>::new();
    let mut styles = BTreeMap::<&str, u32>::new();
    for r in &records {
        let RecordValue::Bytes(bytes) = &r.value else {
            panic!("no value")
        };
        let doc: Value = serde_json::from_slice(bytes).unwrap();
        let obj = doc.as_object().unwrap();
        let id_field = if r.kind == LogKind::Session {
            "session_id"
        } else {
            "event_id"
        };
        let id = obj[id_field].as_str().unwrap();
        let uuid = uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
        assert_eq!(id, uuid.hyphenated().to_string(), "lowercase hyphenated");
        let user = obj["user_id"].as_str().unwrap();
        assert!(!user.is_empty() && user.len() <= 128);
        assert_eq!(r.key, user.as_bytes());
        match &obj["timestamp"] {
            Value::Number(n) => {
                *styles.entry("epoch_ms").or_default() += 1;
                assert_eq!(n.as_i64(), Some(r.timestamp_ms));
            }
            Value::String(s) => {
                let t = chrono::DateTime::parse_from_rfc3339(s).unwrap();
                assert!((r.timestamp_ms - t.timestamp_millis()).abs() < 1000, "{s}");
                let style = if s.ends_with('Z') { "utc" } else { "offset" };
                *styles.entry(style).or_default() += 1;
            }
            other => panic!("timestamp {other}"),
        }
        let event = obj
            .get("event_type")
            .or_else(|| obj.get("action"))
            .and_then(Value::as_str)
            .unwrap();
        *event_types
            .entry(event.trim().to_ascii_lowercase())
            .or_default() += 1;
    }
    // The story covers every event type and action of the log formats.
    for expected in logpipe_core::logs::AUTH_EVENT_TYPES
        .iter()
        .chain(logpipe_core::logs::SESSION_EVENT_TYPES)
        .chain(logpipe_core::logs::ACTIONS)
        .copied()
    {
        assert!(
            event_types.contains_key(expected),
            "{expected} never generated: {event_types:?}"
        );
    }
    assert_eq!(styles.len(), 3, "{styles:?}");
    // Time moves forward.
    assert!(records.last().unwrap().timestamp_ms > records[0].timestamp_ms);
}

#[test]
fn every_bad_record_gets_its_promised_reason() {
    for output in [Output::Kafka, Output::LambdaEvent] {
        let records = generate(3, 1.0, output, 9 * 3 * 60);
        let mut seen = BTreeMap::<ReasonCode, u32>::new();
        for r in &records {
            let Expected::Invalid(promised) = r.expected else {
                panic!("a valid record at ratio 1.0")
            };
            let (reason, detail) = pipeline_outcome(r);
            assert_eq!(
                reason,
                Some(promised),
                "{output:?} {:?}: {detail}: {}",
                r.kind,
                show(r)
            );
            *seen.entry(promised).or_default() += 1;
            if promised == ReasonCode::WrongTopic {
                assert_eq!(&*r.topic, UNOWNED_TOPIC);
            } else {
                assert_eq!(&*r.topic, r.kind.default_topic());
            }
        }
        let expected: Vec<ReasonCode> = output.bad_reasons().to_vec();
        assert_eq!(seen.keys().copied().collect::<Vec<_>>(), {
            let mut e = expected.clone();
            e.sort();
            e
        });
        if output == Output::Kafka {
            assert!(!seen.contains_key(&ReasonCode::InvalidBase64));
            assert!(!seen.contains_key(&ReasonCode::WrongTopic));
            assert_eq!(seen.len(), ReasonCode::ALL.len() - 2, "every other reason");
        }
    }
}

#[test]
fn the_invalid_ratio_is_exact_per_topic() {
    let records = generate(5, 0.1, Output::Kafka, 3 * 1000);
    for kind in LogKind::ALL {
        let bad = records
            .iter()
            .filter(|r| r.kind == kind && r.expected != Expected::Valid)
            .count();
        assert_eq!(bad, 100, "{kind}");
    }
    let none = generate(5, 0.0, Output::Kafka, 3000);
    assert!(none.iter().all(|r| r.expected == Expected::Valid));
}

/// The shapes of the bad records: both kinds of empty value, values just
/// over the size limit, non-UTF-8 bytes.
#[test]
fn bad_records_have_the_documented_shapes() {
    let records = generate(9, 1.0, Output::LambdaEvent, 3 * 9 * 40);
    let mut null = 0;
    let mut zero = 0;
    for r in &records {
        match (r.expected.reason().unwrap(), &r.value) {
            (ReasonCode::EmptyValue, RecordValue::Null) => null += 1,
            (ReasonCode::EmptyValue, RecordValue::Bytes(b)) => {
                assert!(b.is_empty());
                zero += 1;
            }
            (ReasonCode::TooLarge, RecordValue::Bytes(b)) => {
                assert!(
                    b.len() > 262_144 && b.len() <= 262_144 + 4096,
                    "{}",
                    b.len()
                );
                assert!(
                    serde_json::from_slice::<Value>(b).is_ok(),
                    "too_large values are JSON"
                );
            }
            (ReasonCode::InvalidUtf8, RecordValue::Bytes(b)) => {
                assert!(std::str::from_utf8(b).is_err());
                assert!(!b.contains(&b'\n'));
            }
            (ReasonCode::InvalidBase64, RecordValue::NotBase64(s)) => assert!(!s.is_empty()),
            (ReasonCode::InvalidBase64, other) => panic!("invalid_base64 as {other:?}"),
            (_, RecordValue::Bytes(b)) => assert!(!b.contains(&b'\n')),
            (reason, other) => panic!("{reason} as {other:?}"),
        }
    }
    assert!(null > 0 && zero > 0, "null {null}, zero bytes {zero}");
}
