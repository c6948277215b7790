//! Kafka records → the AWS Lambda Kafka event a function receives, and the
//! payload-size arithmetic that keeps an invocation under Lambda's 6 MB
//! limit. Pure: no Kafka client, no I/O.
//!
//! The event is built with `aws_lambda_events` and shaped exactly as AWS
//! sends it: `records` keyed `"<topic>-<partition>"`, key and value base64,
//! headers as one-entry objects of (signed) byte values, `timestamp` a
//! number of epoch milliseconds, and `eventSourceArn` only on MSK events.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use aws_lambda_events::encodings::MillisecondTimestamp;
use aws_lambda_events::event::kafka::{KafkaEvent, KafkaRecord};
use base64::Engine;
use chrono::DateTime;
use log_generator::EventVariant;
use serde_json::Value;

/// Lambda's limit on a synchronous invocation payload (6 MB).
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// How the broker stamped a record's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampType {
    /// Set by the producer.
    CreateTime,
    /// Set by the broker when it appended the record.
    LogAppendTime,
    /// No timestamp (pre-0.10 message format).
    NoTimestamp,
}

impl TimestampType {
    /// The `timestampType` text AWS uses (Java's enum names).
    pub fn as_aws(self) -> &'static str {
        match self {
            TimestampType::CreateTime => "CREATE_TIME",
            TimestampType::LogAppendTime => "LOG_APPEND_TIME",
            TimestampType::NoTimestamp => "NO_TIMESTAMP_TYPE",
        }
    }
}

/// One consumed Kafka record, owned: what the poller hands to the builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolledRecord {
    pub topic: Arc<str>,
    pub partition: i32,
    pub offset: i64,
    /// Epoch milliseconds (-1 when the record has none).
    pub timestamp_ms: i64,
    pub timestamp_type: TimestampType,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    /// Header names and values, in record order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// The event-source fields every event of a mapping carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSource {
    /// MSK (`aws:kafka`, with `eventSourceArn`) or self-managed (`SelfManagedKafka`).
    pub variant: EventVariant,
    /// `eventSourceArn` of an MSK event.
    pub event_source_arn: String,
    /// `bootstrapServers`.
    pub bootstrap_servers: String,
}

impl EventSource {
    /// The `eventSourceArn` the event carries (MSK only).
    pub fn arn(&self) -> Option<&str> {
        (self.variant == EventVariant::Msk).then_some(self.event_source_arn.as_str())
    }

    /// Bytes of the serialized event with an empty `records` object.
    pub fn empty_event_len(&self) -> usize {
        // {"bootstrapServers":S,"eventSource":S[,"eventSourceArn":S],"records":{}}
        let mut n = 2 + 19 + json_str_len(&self.bootstrap_servers);
        n += 1 + 14 + json_str_len(self.variant.event_source());
        if let Some(arn) = self.arn() {
            n += 1 + 17 + json_str_len(arn);
        }
        n + 1 + 12
    }
}

/// The `records` key of a record: `"<topic>-<partition>"`.
pub fn records_key(topic: &str, partition: i32) -> String {
    format!("{topic}-{partition}")
}

/// Builds the event for `records` (already in partition, offset order).
pub fn build_event(source: &EventSource, records: &[PolledRecord]) -> KafkaEvent {
    let mut event = KafkaEvent::default();
    event.event_source = Some(source.variant.event_source().to_owned());
    event.event_source_arn = source.arn().map(str::to_owned);
    event.bootstrap_servers = Some(source.bootstrap_servers.clone());
    let mut grouped: HashMap<String, Vec<KafkaRecord>> = HashMap::new();
    for r in records {
        grouped
            .entry(records_key(&r.topic, r.partition))
            .or_default()
            .push(to_kafka_record(r));
    }
    event.records = grouped;
    event
}

fn to_kafka_record(r: &PolledRecord) -> KafkaRecord {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = KafkaRecord::default();
    out.topic = Some(r.topic.to_string());
    out.partition = i64::from(r.partition);
    out.offset = r.offset;
    out.timestamp =
        MillisecondTimestamp(DateTime::from_timestamp_millis(r.timestamp_ms).unwrap_or_default());
    out.timestamp_type = Some(r.timestamp_type.as_aws().to_owned());
    out.key = r.key.as_ref().map(|k| b64.encode(k));
    out.value = r.value.as_ref().map(|v| b64.encode(v));
    out.headers = r
        .headers
        .iter()
        .map(|(name, value)| {
            let bytes = value
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(|b| *b as i8)
                .collect();
            std::iter::once((name.clone(), bytes)).collect()
        })
        .collect();
    out
}

/// The invocation payload: the event as AWS serializes it (timestamps as
/// numbers, no `eventSourceArn` on self-managed events, keys sorted).
pub fn to_payload(event: &KafkaEvent) -> Vec<u8> {
    serde_json::to_vec(&to_json(event)).expect("a JSON value serializes")
}

/// The event as a JSON value in AWS's shape.
pub fn to_json(event: &KafkaEvent) -> Value {
    let mut json = serde_json::to_value(event).expect("a Kafka event serializes");
    if let Value::Object(top) = &mut json {
        top.retain(|_, v| !v.is_null());
        if let Some(Value::Object(records)) = top.get_mut("records") {
            // aws_lambda_events writes the timestamp as a string of digits;
            // AWS sends a number.
            for record in records
                .values_mut()
                .filter_map(Value::as_array_mut)
                .flatten()
            {
                if let Some(ts) = record.get_mut("timestamp") {
                    if let Some(ms) = ts.as_str().and_then(|s| s.parse::<i64>().ok()) {
                        *ts = Value::from(ms);
                    }
                }
            }
        }
    }
    json
}

/// Serialized length of `s` as a JSON string, quotes included.
fn json_str_len(s: &str) -> usize {
    if s.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f)
    {
        s.len() + 2
    } else {
        serde_json::to_string(s).map_or(s.len() + 2, |j| j.len())
    }
}

fn digits(n: i64) -> usize {
    let mut len = usize::from(n < 0);
    let mut m = n.unsigned_abs();
    loop {
        len += 1;
        m /= 10;
        if m == 0 {
            return len;
        }
    }
}

fn base64_len(bytes: usize) -> usize {
    bytes.div_ceil(3) * 4
}

/// Exact bytes of one record's JSON object in the payload.
pub fn record_json_len(r: &PolledRecord) -> usize {
    let headers: usize = r
        .headers
        .iter()
        .map(|(name, value)| {
            let bytes = value.as_deref().unwrap_or_default();
            let numbers: usize = bytes.iter().map(|b| digits(i64::from(*b as i8))).sum();
            // {NAME:[b,b,b]}
            json_str_len(name) + 5 + numbers + bytes.len().saturating_sub(1)
        })
        .sum::<usize>()
        + r.headers.len().saturating_sub(1);
    let opt_b64 = |v: &Option<Vec<u8>>| v.as_ref().map_or(4, |b| base64_len(b.len()) + 2);
    2 + 11
        + headers
        + 1
        + 1
        + 6
        + opt_b64(&r.key)
        + 1
        + 9
        + digits(r.offset)
        + 1
        + 12
        + digits(i64::from(r.partition))
        + 1
        + 12
        + digits(r.timestamp_ms)
        + 1
        + 16
        + json_str_len(r.timestamp_type.as_aws())
        + 1
        + 8
        + json_str_len(&r.topic)
        + 1
        + 8
        + opt_b64(&r.value)
}

/// Exact bytes of the payload [`to_payload`] writes for `records`.
pub fn payload_len(source: &EventSource, records: &[PolledRecord]) -> usize {
    let mut sizer = PayloadSizer::new(source);
    for r in records {
        sizer.add(r);
    }
    sizer.len()
}

/// Adds up a payload's size record by record, as records are appended in
/// partition order.
#[derive(Debug, Clone)]
pub struct PayloadSizer {
    len: usize,
    groups: Vec<(i32, Arc<str>)>,
}

impl PayloadSizer {
    /// An event with no records yet.
    pub fn new(source: &EventSource) -> Self {
        PayloadSizer {
            len: source.empty_event_len(),
            groups: Vec::new(),
        }
    }

    /// The size once `r` is added.
    pub fn with(&self, r: &PolledRecord) -> usize {
        self.len + self.growth(r)
    }

    fn growth(&self, r: &PolledRecord) -> usize {
        let known = self
            .groups
            .iter()
            .any(|(p, t)| *p == r.partition && **t == *r.topic);
        if known {
            1 + record_json_len(r)
        } else {
            // [,]"topic-p":[record]
            usize::from(!self.groups.is_empty())
                + json_str_len(&records_key(&r.topic, r.partition))
                + 1
                + 2
                + record_json_len(r)
        }
    }

    /// Adds `r`.
    pub fn add(&mut self, r: &PolledRecord) {
        self.len += self.growth(r);
        if !self
            .groups
            .iter()
            .any(|(p, t)| *p == r.partition && **t == *r.topic)
        {
            self.groups.push((r.partition, r.topic.clone()));
        }
    }

    /// The payload's size so far.
    pub fn len(&self) -> usize {
        self.len
    }
}

/// Cuts `records` into consecutive runs whose payloads stay within
/// `limit` bytes. A record too large for any payload gets a run of its own
/// (the caller tells it apart with [`payload_len`]).
pub fn split_by_payload(
    source: &EventSource,
    records: &[PolledRecord],
    limit: usize,
) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut sizer = PayloadSizer::new(source);
    for (i, r) in records.iter().enumerate() {
        if i > start && sizer.with(r) > limit {
            runs.push(start..i);
            start = i;
            sizer = PayloadSizer::new(source);
        }
        sizer.add(r);
    }
    if start < records.len() {
        runs.push(start..records.len());
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use logpipe_core::event::decode_event;

    fn source(variant: EventVariant) -> EventSource {
        EventSource {
            variant,
            event_source_arn: log_generator::DEFAULT_CLUSTER_ARN.to_owned(),
            bootstrap_servers: "127.0.0.1:9092".to_owned(),
        }
    }

    fn record(partition: i32, offset: i64, value: Option<&[u8]>) -> PolledRecord {
        PolledRecord {
            topic: Arc::from("user_auth_logs"),
            partition,
            offset,
            timestamp_ms: 1_767_225_600_123,
            timestamp_type: TimestampType::CreateTime,
            key: Some(b"user_000001".to_vec()),
            value: value.map(<[u8]>::to_vec),
            headers: vec![
                ("content-type".into(), Some(b"application/json".to_vec())),
                ("producer-id".into(), Some(vec![0xff, 0x80, 0x7f, 0])),
            ],
        }
    }

    fn variety() -> Vec<PolledRecord> {
        let mut out = vec![
            record(0, 0, Some(br#"{"a":1}"#)),
            record(0, 1, None),
            record(0, 1_234_567_890_123, Some(b"")),
            record(2, 7, Some(&[0xc3, 0x28, 0xff])),
        ];
        let mut odd = record(11, 99, Some(b"x"));
        odd.key = None;
        odd.headers = vec![
            ("quote\"and\\slash".into(), None),
            ("ünïcode".into(), Some(vec![1])),
        ];
        odd.timestamp_ms = -1;
        odd.timestamp_type = TimestampType::NoTimestamp;
        out.push(odd);
        let mut appended = record(3, 5, Some(b"{}"));
        appended.timestamp_type = TimestampType::LogAppendTime;
        out.push(appended);
        out
    }

    #[test]
    fn sizes_are_exact() {
        for variant in [EventVariant::Msk, EventVariant::SelfManaged] {
            let src = source(variant);
            let records = variety();
            for r in &records {
                let alone = to_json(&build_event(&src, std::slice::from_ref(r)));
                let json = &alone["records"][records_key(&r.topic, r.partition)][0];
                assert_eq!(
                    record_json_len(r),
                    serde_json::to_vec(json).unwrap().len(),
                    "{r:?}"
                );
            }
            for n in 0..=records.len() {
                let payload = to_payload(&build_event(&src, &records[..n]));
                assert_eq!(
                    payload_len(&src, &records[..n]),
                    payload.len(),
                    "{n} records"
                );
            }
        }
    }

    #[test]
    fn events_have_the_shape_of_the_fixtures_and_decode() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/events/");
        for (variant, fixture) in [
            (EventVariant::Msk, "msk_auth_mixed.json"),
            (EventVariant::SelfManaged, "self_managed_session_mixed.json"),
        ] {
            let want: Value =
                serde_json::from_slice(&std::fs::read(format!("{root}{fixture}")).unwrap())
                    .unwrap();
            let payload = to_payload(&build_event(&source(variant), &variety()[..1]));
            let got: Value = serde_json::from_slice(&payload).unwrap();
            assert_eq!(shape(&got), shape(&want), "{fixture}");
            assert_eq!(
                got["records"]["user_auth_logs-0"][0]["timestamp"],
                1_767_225_600_123i64
            );
            let event = decode_event(&payload).unwrap();
            let r = &event.records["user_auth_logs-0"][0];
            // aws_lambda_events 1.2 goes through f64 seconds when it reads
            // the number back and can lose the last millisecond.
            let decoded = r.timestamp.0.timestamp_millis();
            assert!(
                (1_767_225_600_122..=1_767_225_600_123).contains(&decoded),
                "{decoded}"
            );
            assert_eq!(r.timestamp_type.as_deref(), Some("CREATE_TIME"));
            assert_eq!(r.headers[1]["producer-id"], vec![-1, -128, 127, 0]);
        }
    }

    /// The keys and value types of an event, without the values.
    fn shape(v: &Value) -> Value {
        match v {
            Value::Object(m) if m.contains_key("records") => {
                let mut out = serde_json::Map::new();
                for (k, v) in m {
                    let s = if k == "records" {
                        let first = v.as_object().unwrap().values().next().unwrap();
                        shape(&first[0])
                    } else {
                        shape(v)
                    };
                    out.insert(k.clone(), s);
                }
                Value::Object(out)
            }
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| {
                        let s = if k == "headers" {
                            Value::String(format!(
                                "array of one-entry objects of byte arrays: {}",
                                v.as_array().unwrap().iter().all(|h| {
                                    let h = h.as_object().unwrap();
                                    h.len() == 1
                                        && h.values().all(|b| {
                                            b.as_array().unwrap().iter().all(|n| {
                                                n.as_i64().is_some_and(|n| (-128..128).contains(&n))
                                            })
                                        })
                                })
                            ))
                        } else {
                            shape(v)
                        };
                        (k.clone(), s)
                    })
                    .collect(),
            ),
            Value::String(_) => Value::String("string".into()),
            Value::Number(_) => Value::String("number".into()),
            Value::Bool(_) => Value::String("bool".into()),
            Value::Null => Value::String("null".into()),
            Value::Array(_) => Value::String("array".into()),
        }
    }

    #[test]
    fn records_are_keyed_by_topic_and_partition() {
        let records = variety();
        let event = build_event(&source(EventVariant::Msk), &records);
        let mut keys: Vec<&String> = event.records.keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "user_auth_logs-0",
                "user_auth_logs-11",
                "user_auth_logs-2",
                "user_auth_logs-3"
            ]
        );
        assert_eq!(event.records["user_auth_logs-0"].len(), 3);
        assert_eq!(event.event_source.as_deref(), Some("aws:kafka"));
        let json = to_json(&build_event(&source(EventVariant::SelfManaged), &records));
        assert_eq!(json["eventSource"], "SelfManagedKafka");
        assert!(json.get("eventSourceArn").is_none());
        assert!(json["records"]["user_auth_logs-0"][1]["value"].is_null());
    }

    #[test]
    fn split_keeps_every_payload_under_the_limit() {
        let src = source(EventVariant::SelfManaged);
        let big = vec![b'x'; 300_000];
        let records: Vec<PolledRecord> = (0..60)
            .map(|i| record(i % 3, i64::from(i), Some(&big)))
            .collect();
        let runs = split_by_payload(&src, &records, MAX_PAYLOAD_BYTES);
        assert!(runs.len() >= 4, "{runs:?}");
        let mut next = 0;
        for run in &runs {
            assert_eq!(run.start, next);
            next = run.end;
            assert!(payload_len(&src, &records[run.clone()]) <= MAX_PAYLOAD_BYTES);
            // Greedy: the next record would not have fitted.
            if run.end < records.len() {
                assert!(payload_len(&src, &records[run.start..=run.end]) > MAX_PAYLOAD_BYTES);
            }
        }
        assert_eq!(next, records.len());
        assert!(split_by_payload(&src, &records[..0], MAX_PAYLOAD_BYTES).is_empty());
    }

    #[test]
    fn a_record_over_the_limit_gets_a_run_of_its_own() {
        let src = source(EventVariant::SelfManaged);
        let records = vec![
            record(0, 0, Some(b"small")),
            record(0, 1, Some(&vec![b'y'; 5_000_000])),
            record(0, 2, Some(b"small")),
        ];
        let runs = split_by_payload(&src, &records, MAX_PAYLOAD_BYTES);
        assert_eq!(runs, vec![0..1, 1..2, 2..3]);
        assert!(payload_len(&src, &records[1..2]) > MAX_PAYLOAD_BYTES);
    }

    #[test]
    fn limit_matches_the_generator() {
        assert_eq!(MAX_PAYLOAD_BYTES, log_generator::MAX_EVENT_BYTES);
    }
}
