//! The AWS Lambda Kafka event, written: the one encoder of the project.
//!
//! The generator's `--emit-events`, the local event source mapping
//! (`logpipe esm`), dead-letter redrive, the smoke check, the benchmarks
//! and the tests all build events here, so an event has one shape
//! wherever it comes from, and that shape is the one AWS sends:
//!
//! ```json
//! {"bootstrapServers":"b-1:9098","eventSource":"aws:kafka","eventSourceArn":"arn:…",
//!  "records":{"user_auth_logs-0":[{"headers":[{"content-type":[97,112]}],"key":"dXNlci0x",
//!   "offset":17,"partition":0,"timestamp":1767225600123,"timestampType":"CREATE_TIME",
//!   "topic":"user_auth_logs","value":"eyJ1c2VyX2lkIjoi…"}]}}
//! ```
//!
//! - `records` is keyed `"<topic>-<partition>"`; the groups are written in
//!   the order of their keys, the records of a group in the order given.
//! - `key` and `value` are standard base64 with padding, or `null`.
//! - `timestamp` is a JSON number of epoch milliseconds (negative when the
//!   record has none), never a string.
//! - Each header is a one-entry object whose value is the header's bytes
//!   as signed numbers (Java's `byte`), as AWS writes them.
//! - `eventSourceArn` is written on MSK events only.
//!
//! [`payload_len`] and [`PayloadSizer`] count the bytes [`encode`] writes
//! exactly, so a batch can be cut at Lambda's 6 MB payload limit
//! ([`split_by_payload`]) without writing it first.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use base64::Engine as _;

pub use crate::limits::MAX_EVENT_BYTES;

/// `eventSource` of an Amazon MSK trigger.
pub const SOURCE_MSK: &str = "aws:kafka";
/// `eventSource` of a self-managed Apache Kafka trigger, as written here.
pub const SOURCE_SELF_MANAGED: &str = "SelfManagedKafka";
/// Every `eventSource` of a self-managed trigger that a reader accepts
/// (both spellings are seen in the wild).
pub const SOURCES_SELF_MANAGED: [&str; 2] = ["SelfManagedKafka", "aws:SelfManagedKafka"];

/// The MSK cluster ARN written into `eventSourceArn` unless one is given.
pub const DEFAULT_CLUSTER_ARN: &str =
    "arn:aws:kafka:us-east-1:123456789012:cluster/logpipe/5f4dcd3e-1b2a-4c8e-9a57-0c6f0e1d2b3a-3";

/// Which event source mapping an event comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum EventVariant {
    /// Amazon MSK: `eventSource` `aws:kafka`, with `eventSourceArn`.
    Msk,
    /// Self-managed Apache Kafka: `eventSource` `SelfManagedKafka`.
    SelfManaged,
}

impl EventVariant {
    /// The `eventSource` field.
    pub fn event_source(self) -> &'static str {
        match self {
            EventVariant::Msk => SOURCE_MSK,
            EventVariant::SelfManaged => SOURCE_SELF_MANAGED,
        }
    }

    /// The name used on the command line and in manifests.
    pub fn name(self) -> &'static str {
        match self {
            EventVariant::Msk => "msk",
            EventVariant::SelfManaged => "self-managed",
        }
    }
}

/// The event-source fields every event of a mapping carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSource {
    /// MSK (`aws:kafka`, with `eventSourceArn`) or self-managed (`SelfManagedKafka`).
    pub variant: EventVariant,
    /// `eventSourceArn` of an MSK event (not written on self-managed ones).
    pub event_source_arn: String,
    /// `bootstrapServers`.
    pub bootstrap_servers: String,
}

impl EventSource {
    /// A self-managed Kafka source with these bootstrap servers.
    pub fn self_managed(bootstrap_servers: impl Into<String>) -> Self {
        EventSource {
            variant: EventVariant::SelfManaged,
            event_source_arn: String::new(),
            bootstrap_servers: bootstrap_servers.into(),
        }
    }

    /// The `eventSourceArn` the event carries (MSK only).
    pub fn arn(&self) -> Option<&str> {
        (self.variant == EventVariant::Msk).then_some(self.event_source_arn.as_str())
    }

    /// Bytes of the event with an empty `records` object.
    pub fn empty_event_len(&self) -> usize {
        // {"bootstrapServers":S,"eventSource":S[,"eventSourceArn":S],"records":{}}
        let mut n = 1 + 19 + json_str_len(&self.bootstrap_servers);
        n += 15 + json_str_len(self.variant.event_source());
        if let Some(arn) = self.arn() {
            n += 18 + json_str_len(arn);
        }
        n + 11 + 2 + 1
    }
}

/// How the broker stamped a record's time (`timestampType`).
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

/// A record's `key` or `value` as it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field<'a> {
    /// `null`.
    Null,
    /// These bytes, base64-encoded.
    Bytes(&'a [u8]),
    /// This text as the JSON string, not encoded: for events that carry a
    /// value that is not base64, on purpose.
    Verbatim(&'a str),
}

impl<'a> Field<'a> {
    /// `Null` for `None`, else the bytes.
    pub fn of(bytes: Option<&'a [u8]>) -> Self {
        bytes.map_or(Field::Null, Field::Bytes)
    }

    fn len(self) -> usize {
        match self {
            Field::Null => 4,
            Field::Bytes(b) => base64_len(b.len()) + 2,
            Field::Verbatim(s) => json_str_len(s),
        }
    }

    fn write(self, out: &mut Vec<u8>) {
        match self {
            Field::Null => out.extend_from_slice(b"null"),
            Field::Bytes(b) => {
                out.push(b'"');
                let start = out.len();
                out.resize(start + base64_len(b.len()), 0);
                let written = base64::engine::general_purpose::STANDARD
                    .encode_slice(b, &mut out[start..])
                    .expect("the buffer is sized for the encoding");
                debug_assert_eq!(written, out.len() - start);
                out.push(b'"');
            }
            Field::Verbatim(s) => write_json_str(out, s),
        }
    }
}

/// One Kafka record as an event carries it. Implemented by [`Record`] and
/// by any producer's own record type, so that nothing is copied to write it.
pub trait EventRecord {
    /// The topic.
    fn topic(&self) -> &str;
    /// The partition.
    fn partition(&self) -> i32;
    /// The offset in its partition.
    fn offset(&self) -> i64;
    /// Epoch milliseconds; negative when the record has none.
    fn timestamp_ms(&self) -> i64;
    /// How the time was stamped.
    fn timestamp_type(&self) -> TimestampType;
    /// The record key.
    fn key(&self) -> Field<'_>;
    /// The record value.
    fn value(&self) -> Field<'_>;
    /// Calls `f` with each header's name and bytes, in record order.
    fn for_each_header(&self, f: &mut dyn FnMut(&str, &[u8]));
}

/// One Kafka record, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The topic.
    pub topic: Arc<str>,
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
    /// Epoch milliseconds (-1 when the record has none).
    pub timestamp_ms: i64,
    /// How the time was stamped.
    pub timestamp_type: TimestampType,
    /// The key, if any.
    pub key: Option<Vec<u8>>,
    /// The value, if any.
    pub value: Option<Vec<u8>>,
    /// Header names and values, in record order (a null value is written
    /// as no bytes, as AWS does).
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl EventRecord for Record {
    fn topic(&self) -> &str {
        &self.topic
    }
    fn partition(&self) -> i32 {
        self.partition
    }
    fn offset(&self) -> i64 {
        self.offset
    }
    fn timestamp_ms(&self) -> i64 {
        self.timestamp_ms
    }
    fn timestamp_type(&self) -> TimestampType {
        self.timestamp_type
    }
    fn key(&self) -> Field<'_> {
        Field::of(self.key.as_deref())
    }
    fn value(&self) -> Field<'_> {
        Field::of(self.value.as_deref())
    }
    fn for_each_header(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in &self.headers {
            f(name, value.as_deref().unwrap_or_default());
        }
    }
}

/// The `records` key of a record: `"<topic>-<partition>"`.
pub fn records_key(topic: &str, partition: i32) -> String {
    format!("{topic}-{partition}")
}

/// The event carrying `records`, as the bytes of its JSON: the invocation
/// payload. Exactly [`payload_len`] bytes long.
pub fn encode<R: EventRecord>(source: &EventSource, records: &[R]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload_len(source, records));
    encode_into(source, records, &mut out);
    out
}

/// [`encode`], appending to `out`.
pub fn encode_into<R: EventRecord>(source: &EventSource, records: &[R], out: &mut Vec<u8>) {
    let mut groups: BTreeMap<String, Vec<&R>> = BTreeMap::new();
    for r in records {
        groups
            .entry(records_key(r.topic(), r.partition()))
            .or_default()
            .push(r);
    }
    out.extend_from_slice(b"{\"bootstrapServers\":");
    write_json_str(out, &source.bootstrap_servers);
    out.extend_from_slice(b",\"eventSource\":");
    write_json_str(out, source.variant.event_source());
    if let Some(arn) = source.arn() {
        out.extend_from_slice(b",\"eventSourceArn\":");
        write_json_str(out, arn);
    }
    out.extend_from_slice(b",\"records\":{");
    for (i, (key, group)) in groups.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_str(out, key);
        out.extend_from_slice(b":[");
        for (j, r) in group.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            write_record(out, *r);
        }
        out.push(b']');
    }
    out.extend_from_slice(b"}}");
}

fn write_record<R: EventRecord + ?Sized>(out: &mut Vec<u8>, r: &R) {
    let mut ints = itoa::Buffer::new();
    out.extend_from_slice(b"{\"headers\":[");
    let mut first = true;
    r.for_each_header(&mut |name, bytes| {
        if !first {
            out.push(b',');
        }
        first = false;
        out.push(b'{');
        write_json_str(out, name);
        out.extend_from_slice(b":[");
        let mut digits = itoa::Buffer::new();
        for (k, b) in bytes.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(digits.format(*b as i8).as_bytes());
        }
        out.extend_from_slice(b"]}");
    });
    out.extend_from_slice(b"],\"key\":");
    r.key().write(out);
    out.extend_from_slice(b",\"offset\":");
    out.extend_from_slice(ints.format(r.offset()).as_bytes());
    out.extend_from_slice(b",\"partition\":");
    out.extend_from_slice(ints.format(r.partition()).as_bytes());
    out.extend_from_slice(b",\"timestamp\":");
    out.extend_from_slice(ints.format(r.timestamp_ms()).as_bytes());
    out.extend_from_slice(b",\"timestampType\":");
    write_json_str(out, r.timestamp_type().as_aws());
    out.extend_from_slice(b",\"topic\":");
    write_json_str(out, r.topic());
    out.extend_from_slice(b",\"value\":");
    r.value().write(out);
    out.push(b'}');
}

/// Whether `s` is written as itself between quotes (no escapes).
fn plain(s: &str) -> bool {
    s.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

fn write_json_str(out: &mut Vec<u8>, s: &str) {
    if plain(s) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("writing to a Vec cannot fail");
    }
}

/// Bytes of `s` written as a JSON string, quotes included.
fn json_str_len(s: &str) -> usize {
    if plain(s) {
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

/// Bytes of `n` bytes in padded standard base64.
pub fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Exact bytes of one record's JSON object in an event.
pub fn record_len<R: EventRecord + ?Sized>(r: &R) -> usize {
    let mut headers = 0;
    let mut count = 0;
    r.for_each_header(&mut |name, bytes| {
        let numbers: usize = bytes.iter().map(|b| digits(i64::from(*b as i8))).sum();
        // {NAME:[b,b,b]}
        headers += json_str_len(name) + 5 + numbers + bytes.len().saturating_sub(1);
        count += 1;
    });
    headers += usize::saturating_sub(count, 1);
    // {"headers":[…],"key":…,"offset":…,"partition":…,"timestamp":…,
    //  "timestampType":…,"topic":…,"value":…}
    92 + headers
        + r.key().len()
        + digits(r.offset())
        + digits(i64::from(r.partition()))
        + digits(r.timestamp_ms())
        + json_str_len(r.timestamp_type().as_aws())
        + json_str_len(r.topic())
        + r.value().len()
}

/// Exact bytes of the payload [`encode`] writes for `records`.
pub fn payload_len<R: EventRecord>(source: &EventSource, records: &[R]) -> usize {
    let mut sizer = PayloadSizer::new(source);
    for r in records {
        sizer.add(r);
    }
    sizer.len()
}

/// Adds up a payload's size record by record.
#[derive(Debug, Clone)]
pub struct PayloadSizer {
    len: usize,
    groups: Vec<(i32, Box<str>)>,
}

impl PayloadSizer {
    /// An event with no records yet.
    pub fn new(source: &EventSource) -> Self {
        PayloadSizer {
            len: source.empty_event_len(),
            groups: Vec::new(),
        }
    }

    fn known<R: EventRecord + ?Sized>(&self, r: &R) -> bool {
        self.groups
            .iter()
            .any(|(p, t)| *p == r.partition() && **t == *r.topic())
    }

    /// The size once `r` is added.
    pub fn with<R: EventRecord + ?Sized>(&self, r: &R) -> usize {
        self.len + self.growth(r)
    }

    fn growth<R: EventRecord + ?Sized>(&self, r: &R) -> usize {
        if self.known(r) {
            1 + record_len(r)
        } else {
            // [,]"topic-p":[record]
            usize::from(!self.groups.is_empty())
                + json_str_len(&records_key(r.topic(), r.partition()))
                + 1
                + 2
                + record_len(r)
        }
    }

    /// Adds `r`.
    pub fn add<R: EventRecord + ?Sized>(&mut self, r: &R) {
        self.len += self.growth(r);
        if !self.known(r) {
            self.groups.push((r.partition(), r.topic().into()));
        }
    }

    /// The payload's size so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no record was added.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

/// Cuts `records` into consecutive runs whose payloads stay within
/// `limit` bytes. A record too large for any payload gets a run of its own
/// (the caller tells it apart with [`payload_len`]).
pub fn split_by_payload<R: EventRecord>(
    source: &EventSource,
    records: &[R],
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
    use aws_lambda_events::event::kafka::KafkaEvent;
    use proptest::prelude::*;
    use serde_json::Value;

    fn source(variant: EventVariant) -> EventSource {
        EventSource {
            variant,
            event_source_arn: DEFAULT_CLUSTER_ARN.into(),
            bootstrap_servers: "b-1:9092,b-2:9092".into(),
        }
    }

    fn record(topic: &str, partition: i32, offset: i64, value: Option<&[u8]>) -> Record {
        Record {
            topic: topic.into(),
            partition,
            offset,
            timestamp_ms: 1_767_225_600_123,
            timestamp_type: TimestampType::CreateTime,
            key: Some(b"user-1".to_vec()),
            value: value.map(<[u8]>::to_vec),
            headers: vec![
                ("content-type".into(), Some(b"application/json".to_vec())),
                ("signed".into(), Some(vec![0, 127, 128, 255])),
                ("empty".into(), None),
            ],
        }
    }

    fn variety() -> Vec<Record> {
        let mut odd = record("user_auth_logs", 1, 9, None);
        odd.key = None;
        odd.headers.clear();
        odd.timestamp_ms = -1;
        odd.timestamp_type = TimestampType::NoTimestamp;
        let mut quoted = record("topic \"q\" é\u{1}", 0, 0, Some("é".as_bytes()));
        quoted.timestamp_type = TimestampType::LogAppendTime;
        quoted.headers = vec![("näme\n".into(), Some(vec![]))];
        vec![
            record("user_auth_logs", 0, 5, Some(br#"{"a":1}"#)),
            record("user_auth_logs", 0, 6, Some(b"")),
            odd,
            record("user_session_logs", 2, i64::MAX, Some(&[0xff; 7])),
            quoted,
        ]
    }

    #[test]
    fn length_is_exact_for_both_variants() {
        for variant in [EventVariant::Msk, EventVariant::SelfManaged] {
            let src = source(variant);
            let records = variety();
            assert_eq!(
                encode(&src, &records[..0]).len(),
                src.empty_event_len(),
                "{variant:?}, no records"
            );
            for n in 1..=records.len() {
                let bytes = encode(&src, &records[..n]);
                assert_eq!(
                    bytes.len(),
                    payload_len(&src, &records[..n]),
                    "{variant:?}, {n}"
                );
                serde_json::from_slice::<Value>(&bytes).expect("valid JSON");
            }
        }
    }

    #[test]
    fn shape_is_what_aws_sends() {
        let src = source(EventVariant::SelfManaged);
        let json: Value = serde_json::from_slice(&encode(&src, &variety())).unwrap();
        assert_eq!(json["eventSource"], "SelfManagedKafka");
        assert!(json.get("eventSourceArn").is_none(), "self-managed: no ARN");
        let r = &json["records"]["user_auth_logs-0"][0];
        assert_eq!(
            r["timestamp"],
            Value::from(1_767_225_600_123_i64),
            "a number"
        );
        assert_eq!(r["timestampType"], "CREATE_TIME");
        assert_eq!(r["key"], "dXNlci0x");
        assert_eq!(r["value"], "eyJhIjoxfQ==");
        assert_eq!(
            r["headers"][1]["signed"],
            serde_json::json!([0, 127, -128, -1]),
            "bytes as Java's signed bytes"
        );
        assert_eq!(r["headers"][2]["empty"], serde_json::json!([]));
        let none = &json["records"]["user_auth_logs-1"][0];
        assert_eq!(none["timestamp"], Value::from(-1));
        assert_eq!(none["key"], Value::Null);
        assert_eq!(none["value"], Value::Null);
        let msk: Value =
            serde_json::from_slice(&encode(&source(EventVariant::Msk), &variety())).unwrap();
        assert_eq!(msk["eventSource"], "aws:kafka");
        assert_eq!(msk["eventSourceArn"], DEFAULT_CLUSTER_ARN);
    }

    #[test]
    fn aws_lambda_events_reads_back_every_field() {
        // The oracle cannot read a negative timestamp; leave that record out.
        let records: Vec<Record> = variety()
            .into_iter()
            .filter(|r| r.timestamp_ms >= 0)
            .collect();
        let bytes = encode(&source(EventVariant::Msk), &records);
        let event: KafkaEvent = serde_json::from_slice(&bytes).expect("aws_lambda_events reads it");
        assert_eq!(event.event_source.as_deref(), Some("aws:kafka"));
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut seen = 0;
        for r in &records {
            let group = &event.records[&records_key(&r.topic, r.partition)];
            let got = group.iter().find(|g| g.offset == r.offset).expect("record");
            assert_eq!(got.topic.as_deref(), Some(&*r.topic));
            assert_eq!(got.partition, i64::from(r.partition));
            assert_eq!(
                got.timestamp_type.as_deref(),
                Some(r.timestamp_type.as_aws())
            );
            assert_eq!(
                got.value.as_deref().map(|v| b64.decode(v).unwrap()),
                r.value.clone()
            );
            assert_eq!(got.key.as_deref().map(|v| b64.decode(v).unwrap()), r.key);
            assert_eq!(got.headers.len(), r.headers.len());
            seen += 1;
        }
        assert_eq!(seen, records.len());
    }

    #[test]
    fn verbatim_values_are_written_as_given() {
        struct Raw;
        impl EventRecord for Raw {
            fn topic(&self) -> &str {
                "t"
            }
            fn partition(&self) -> i32 {
                0
            }
            fn offset(&self) -> i64 {
                0
            }
            fn timestamp_ms(&self) -> i64 {
                0
            }
            fn timestamp_type(&self) -> TimestampType {
                TimestampType::CreateTime
            }
            fn key(&self) -> Field<'_> {
                Field::Null
            }
            fn value(&self) -> Field<'_> {
                Field::Verbatim("not base64 \"!\"")
            }
            fn for_each_header(&self, _: &mut dyn FnMut(&str, &[u8])) {}
        }
        let src = source(EventVariant::SelfManaged);
        let bytes = encode(&src, &[Raw]);
        assert_eq!(bytes.len(), payload_len(&src, &[Raw]));
        let json: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["records"]["t-0"][0]["value"], "not base64 \"!\"");
    }

    #[test]
    fn split_keeps_every_payload_within_the_limit() {
        let src = source(EventVariant::Msk);
        let records: Vec<Record> = (0..200)
            .map(|i| {
                record(
                    "user_activity_logs",
                    i % 3,
                    i64::from(i),
                    Some(&[b'x'; 700]),
                )
            })
            .collect();
        let limit = 20_000;
        let runs = split_by_payload(&src, &records, limit);
        assert!(runs.len() > 1);
        let mut next = 0;
        for run in &runs {
            assert_eq!(run.start, next, "consecutive runs");
            next = run.end;
            let len = encode(&src, &records[run.clone()]).len();
            assert!(len <= limit, "{len} > {limit}");
            if run.end < records.len() {
                assert!(
                    payload_len(&src, &records[run.start..=run.end]) > limit,
                    "a run ends only when the next record would not fit"
                );
            }
        }
        assert_eq!(next, records.len());
        let huge = vec![record("t", 0, 0, Some(&[0; 30_000]))];
        assert_eq!(split_by_payload(&src, &huge, limit), vec![0..1]);
    }

    proptest! {
        #[test]
        fn length_is_exact_for_any_record(
            topic in "\\PC{0,12}",
            partition in any::<i32>(),
            offset in any::<i64>(),
            ts in any::<i64>(),
            key in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
            value in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
            headers in proptest::collection::vec(("\\PC{0,6}", proptest::option::of(proptest::collection::vec(any::<u8>(), 0..6))), 0..4),
        ) {
            let r = Record {
                topic: topic.as_str().into(),
                partition,
                offset,
                timestamp_ms: ts,
                timestamp_type: TimestampType::CreateTime,
                key,
                value,
                headers,
            };
            let src = source(EventVariant::Msk);
            let records = [r.clone(), r];
            let bytes = encode(&src, &records);
            prop_assert_eq!(bytes.len(), payload_len(&src, &records));
            let json: Value = serde_json::from_slice(&bytes).unwrap();
            prop_assert_eq!(&json["records"][records_key(&topic, partition)][1]["offset"], &Value::from(offset));
        }
    }
}
