//! The AWS Lambda Kafka event: decoding it (MSK and self-managed variants)
//! and walking its records in a stable order.
//!
//! Two decoders share one wire format:
//!
//! - [`decode`] borrows: topics, keys and base64 values stay slices of the
//!   payload (escaped strings, which Lambda never sends, are copied), and
//!   headers are checked but not kept. The handler runs it; it is the bulk
//!   of an invocation's CPU time otherwise. Events of the shape Lambda
//!   sends are read by a fast path of its own (`scan`), anything else by
//!   serde_json, which also words every error. Decoding into
//!   `aws_lambda_events`' owned `KafkaEvent` allocates a `String` per topic,
//!   key and value and a map per header, and cost 3–6x what the logs'
//!   validation and transform cost.
//! - [`decode_event`] returns `aws_lambda_events`' `KafkaEvent`, the type the
//!   rest of the project builds and inspects events with.
//!
//! The borrowed structures mirror `KafkaEvent`'s serde shape field for
//! field (names, defaults, `null` handling, type names in messages), so both
//! accept the same payloads and refuse the others with the same message. One
//! deliberate difference: a record timestamp with a fraction of a
//! millisecond is an error here, where `aws_lambda_events` panics (an
//! `assert_eq!` in its millisecond decoder); [`decode_event`] runs the
//! borrowed check first, so it never reaches that assertion.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use aws_lambda_events::event::kafka::KafkaEvent;
use chrono::{TimeZone, Utc};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The event timestamp type (epoch milliseconds), re-exported for event builders.
pub use aws_lambda_events::encodings::MillisecondTimestamp;

use crate::json::BorrowedStr;
use crate::record::KafkaRecordRef;

mod scan;

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

/// Decodes an invocation payload into `aws_lambda_events`' owned
/// `KafkaEvent` and checks its source. The payload is first read by the
/// borrowed decoder, which refuses what would make the owned one panic.
pub fn decode_event(payload: &[u8]) -> Result<KafkaEvent, EventError> {
    decode(payload)?;
    let event: KafkaEvent = serde_json::from_slice(payload)?;
    check_source(&event)?;
    Ok(event)
}

/// Checks that `event` came from an MSK or self-managed Kafka trigger.
pub fn check_source(event: &KafkaEvent) -> Result<(), EventError> {
    check_source_name(event.event_source.as_deref())
}

fn check_source_name(source: Option<&str>) -> Result<(), EventError> {
    match source {
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
        for r in batch {
            out.push(record_ref(
                key,
                r.topic.as_deref(),
                r.partition,
                r.offset,
                r.timestamp.0.timestamp_millis(),
                r.key.as_deref(),
                r.value.as_deref(),
            )?);
        }
    }
    sort(&mut out);
    Ok(out)
}

fn record_ref<'a>(
    key: &'a str,
    topic: Option<&'a str>,
    partition: i64,
    offset: i64,
    timestamp_ms: i64,
    record_key: Option<&'a str>,
    value: Option<&'a str>,
) -> Result<KafkaRecordRef<'a>, EventError> {
    let key_topic = key.rsplit_once('-').map_or(key, |(t, _)| t);
    let partition = i32::try_from(partition)
        .ok()
        .filter(|p| *p >= 0)
        .ok_or_else(|| EventError::BadPartition {
            key: key.to_owned(),
            offset,
            partition,
        })?;
    Ok(KafkaRecordRef {
        topic: topic.unwrap_or(key_topic),
        partition,
        offset,
        timestamp_ms,
        key: record_key,
        value,
    })
}

fn sort(records: &mut [KafkaRecordRef<'_>]) {
    records.sort_unstable_by(|a, b| {
        (a.topic, a.partition, a.offset).cmp(&(b.topic, b.partition, b.offset))
    });
}

/// A Kafka event read without copying: its strings borrow from the payload.
/// Built by [`decode`]; its source is already checked.
pub struct BorrowedEvent<'a> {
    records: RecordsByKey<'a>,
}

impl BorrowedEvent<'_> {
    /// How many records the event carries.
    pub fn len(&self) -> usize {
        self.records.values().map(Vec::len).sum()
    }

    /// Whether the event carries no records.
    pub fn is_empty(&self) -> bool {
        self.records.values().all(Vec::is_empty)
    }

    /// The event's records, sorted by topic, partition and offset, exactly
    /// as [`records`] lists those of the same event decoded as `KafkaEvent`.
    pub fn records(&self) -> Result<Vec<KafkaRecordRef<'_>>, EventError> {
        let mut out = Vec::with_capacity(self.len());
        for (key, batch) in &self.records {
            for r in batch {
                out.push(record_ref(
                    key,
                    r.topic.as_ref().map(|t| &*t.0),
                    r.partition,
                    r.offset,
                    r.timestamp.0,
                    r.key.as_ref().map(|k| &*k.0),
                    r.value.as_ref().map(|v| &*v.0),
                )?);
            }
        }
        sort(&mut out);
        Ok(out)
    }
}

/// Decodes an invocation payload without copying its strings, and checks
/// its source. Accepts and refuses exactly what [`decode_event`] does.
pub fn decode(payload: &[u8]) -> Result<BorrowedEvent<'_>, EventError> {
    // One UTF-8 check of the whole payload spares serde_json checking every
    // string it borrows, one by one (a third of its time on base64 values);
    // bytes that are not UTF-8 go to `from_slice`, which says where. An
    // event of the shape Lambda sends is read by the fast path (`scan`);
    // serde_json reads the rest and words their errors.
    let (source, records) = match std::str::from_utf8(payload) {
        Ok(text) => match scan::event(text) {
            Some(event) => (event.event_source, event.records),
            None => from_wire(serde_json::from_str(text)?),
        },
        Err(_) => from_wire(serde_json::from_slice(payload)?),
    };
    check_source_name(source.as_deref())?;
    Ok(BorrowedEvent { records })
}

type RecordsByKey<'a> = HashMap<Cow<'a, str>, Vec<wire::KafkaRecord<'a>>>;

fn from_wire(event: wire::KafkaEvent<'_>) -> (Option<Cow<'_, str>>, RecordsByKey<'_>) {
    (event.event_source.map(|s| s.0), event.records.0)
}

// The wire structures. Field names, attributes and the names serde puts in
// messages (`struct KafkaEvent`, `a string`, `a map`, `a sequence`, `i8`)
// follow aws_lambda_events 1.2's `KafkaEvent` and `KafkaRecord` (serde
// names a struct by its Rust name in messages, hence the module).
mod wire {
    use super::{AnyStr, BorrowedStr, Headers, Millis, Records};

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct KafkaEvent<'a> {
        #[serde(default, borrow)]
        pub(super) event_source: Option<BorrowedStr<'a>>,
        #[serde(default)]
        #[allow(dead_code)]
        event_source_arn: Option<AnyStr>,
        #[serde(default, borrow)]
        pub(super) records: Records<'a>,
        #[serde(default)]
        #[allow(dead_code)]
        bootstrap_servers: Option<AnyStr>,
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct KafkaRecord<'a> {
        #[serde(default, borrow)]
        pub(super) topic: Option<BorrowedStr<'a>>,
        pub(super) partition: i64,
        pub(super) offset: i64,
        pub(super) timestamp: Millis,
        #[serde(default)]
        #[allow(dead_code)]
        pub(super) timestamp_type: Option<AnyStr>,
        #[serde(borrow)]
        pub(super) key: Option<BorrowedStr<'a>>,
        #[serde(borrow)]
        pub(super) value: Option<BorrowedStr<'a>>,
        #[allow(dead_code)]
        pub(super) headers: Headers,
    }
}

/// `records`: `null` is the same as an empty map; a key seen twice keeps
/// its last value.
#[derive(Default)]
struct Records<'a>(RecordsByKey<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for Records<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OptionVisitor;
        impl<'de> Visitor<'de> for OptionVisitor {
            type Value = Records<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("option")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Records::default())
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Records::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_map(MapVisitor)
            }
        }
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = Records<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut records = HashMap::new();
                while let Some(BorrowedStr(key)) = map.next_key::<BorrowedStr<'de>>()? {
                    let batch: Vec<wire::KafkaRecord<'de>> = map.next_value()?;
                    records.insert(key, batch);
                }
                Ok(Records(records))
            }
        }
        d.deserialize_option(OptionVisitor)
    }
}

/// A string that is checked but not kept.
struct AnyStr;

impl<'de> Deserialize<'de> for AnyStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AnyStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(AnyStr)
            }
        }
        d.deserialize_str(V)
    }
}

/// `headers`: a list of maps of byte arrays (`i8`), checked but not kept.
struct Headers;

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = Headers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<HeaderMap>()?.is_some() {}
                Ok(Headers)
            }
        }
        d.deserialize_seq(List)
    }
}

struct HeaderMap;

impl<'de> Deserialize<'de> for HeaderMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HeaderMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_key::<AnyStr>()?.is_some() {
                    map.next_value::<Bytes>()?;
                }
                Ok(HeaderMap)
            }
        }
        d.deserialize_map(V)
    }
}

struct Bytes;

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<i8>()?.is_some() {}
                Ok(Bytes)
            }
        }
        d.deserialize_seq(V)
    }
}

/// A record timestamp in epoch milliseconds: an integer, a number or a
/// numeric string, read the way `aws_lambda_events` reads it (including its
/// float arithmetic, so both give the same millisecond), except that a
/// fraction of a millisecond is an error rather than a panic.
struct Millis(i64);

/// What `aws_lambda_events` says when the timestamp is neither a string nor
/// a number.
const NOT_STRING_OR_NUMBER: &str = "data did not match any variant of untagged enum StringOrNumber";

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Millis;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("epoch milliseconds as a number or a string")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                millis(v as f64).map(Millis)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                millis(v as f64).map(Millis)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                millis(v).map(Millis)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                millis(v.parse::<f64>().map_err(E::custom)?).map(Millis)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Err(E::custom(NOT_STRING_OR_NUMBER))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Err(E::custom(NOT_STRING_OR_NUMBER))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Err(E::custom(NOT_STRING_OR_NUMBER))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Err(de::Error::custom(NOT_STRING_OR_NUMBER))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Err(de::Error::custom(NOT_STRING_OR_NUMBER))
            }
        }
        d.deserialize_any(V)
    }
}

/// 2^53: integers up to here are exact in an `f64`.
const EXACT_F64_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// Seconds well inside chrono's range (which ends in the year 262143).
const CHRONO_SAFE_SECONDS: f64 = 1e12;

/// Epoch milliseconds from the number a timestamp reads as.
fn millis<E: de::Error>(input: f64) -> Result<i64, E> {
    // aws_lambda_events splits the number's decimal text at the point; a
    // whole number below 2^53 prints as its own digits, so skip the text.
    let (whole, fraction) = if (0.0..=EXACT_F64_INTEGERS).contains(&input)
        && input.fract() == 0.0
        && !input.is_sign_negative()
    {
        (input as u64, 0)
    } else {
        let text = input.to_string();
        let mut parts = text.split('.').map(|p| p.parse::<u64>().map_err(E::custom));
        let whole = parts.next().unwrap_or(Ok(0))?;
        (whole, parts.next().transpose()?.unwrap_or(0))
    };
    if fraction != 0 {
        return Err(E::custom(format_args!(
            "record timestamp {input} has a fraction of a millisecond; expected whole epoch milliseconds"
        )));
    }
    let seconds = whole as f64 / 1000.0;
    let milliseconds = (seconds.fract() * 1000f64) as u32;
    if seconds < CHRONO_SAFE_SECONDS {
        // Where chrono's range check cannot fail, its result is this sum.
        return Ok(seconds as i64 * 1000 + i64::from(milliseconds));
    }
    Utc.timestamp_opt(seconds as i64, milliseconds * 1_000_000)
        .latest()
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| E::custom("invalid timestamp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(payload: &[u8]) -> Result<Vec<KafkaRecordRef<'static>>, String> {
        // Leaked so the records can outlive this helper: test-only.
        let event: &'static KafkaEvent = Box::leak(Box::new(
            serde_json::from_slice::<KafkaEvent>(payload)
                .map_err(|e| EventError::from(e).to_string())?,
        ));
        check_source(event).map_err(|e| e.to_string())?;
        records(event).map_err(|e| e.to_string())
    }

    fn borrowed(payload: &[u8]) -> Result<Vec<KafkaRecordRef<'_>>, String> {
        let event = decode(payload).map_err(|e| e.to_string())?;
        let records = event.records().map_err(|e| e.to_string())?;
        // Copy out of the event so it can be dropped: compare by value.
        Ok(records.into_iter().map(leaked).collect())
    }

    /// A record whose strings are copied and leaked, so it outlives its
    /// event (test-only).
    pub(super) fn leaked(r: KafkaRecordRef<'_>) -> KafkaRecordRef<'static> {
        KafkaRecordRef {
            topic: Box::leak(r.topic.to_owned().into_boxed_str()),
            key: r.key.map(|k| &*Box::leak(k.to_owned().into_boxed_str())),
            value: r.value.map(|v| &*Box::leak(v.to_owned().into_boxed_str())),
            ..r
        }
    }

    fn with_record(record: &str) -> String {
        format!(r#"{{"eventSource":"aws:kafka","records":{{"logs-0":[{record}]}}}}"#)
    }

    const OK: &str = r#"{"topic":"logs","partition":0,"offset":7,"timestamp":1795615200123,"timestampType":"CREATE_TIME","key":"a2V5","value":"e30=","headers":[{"h":[104,-1]}]}"#;

    /// Both decoders give the same records, or the same error message, for
    /// every one of these payloads.
    #[test]
    fn the_borrowed_decoder_agrees_with_aws_lambda_events() {
        let records = [
            OK.to_owned(),
            OK.replace(r#""topic":"logs","#, ""),
            OK.replace(r#""topic":"logs""#, r#""topic":null"#),
            OK.replace(r#""topic":"logs""#, r#""topic":"l\u006fgs""#),
            OK.replace(r#""key":"a2V5","#, ""),
            OK.replace(r#""value":"e30=""#, r#""value":null"#),
            OK.replace(r#""timestampType":"CREATE_TIME","#, ""),
            OK.replace(r#""timestampType":"CREATE_TIME""#, r#""timestampType":3"#),
            OK.replace("1795615200123", r#""1795615200123""#),
            OK.replace("1795615200123", "1795615200123.0"),
            OK.replace("1795615200123", "1.795615200123e12"),
            OK.replace("1795615200123", "0"),
            OK.replace("1795615200123", "-5"),
            OK.replace("1795615200123", r#""soon""#),
            OK.replace("1795615200123", "true"),
            OK.replace("1795615200123", "null"),
            OK.replace("1795615200123", "[1]"),
            OK.replace("1795615200123", r#"{"a":1}"#),
            OK.replace("1795615200123", "99999999999999999999999"),
            OK.replace("1795615200123", "9007199254740993"),
            OK.replace("1795615200123", "1507217624302"),
            OK.replace(r#""partition":0"#, r#""partition":"0""#),
            OK.replace(r#""partition":0"#, r#""partition":1.0"#),
            OK.replace(r#""partition":0"#, r#""partition":-1"#),
            OK.replace(r#""partition":0"#, r#""partition":4294967296"#),
            OK.replace(r#""partition":0,"#, ""),
            OK.replace(r#""offset":7,"#, ""),
            OK.replace(r#","headers":[{"h":[104,-1]}]"#, ""),
            OK.replace(r#"[{"h":[104,-1]}]"#, "null"),
            OK.replace(r#"[{"h":[104,-1]}]"#, r#"[{"h":[200]}]"#),
            OK.replace(r#"[{"h":[104,-1]}]"#, r#"[{"h":"x"}]"#),
            OK.replace(r#"[{"h":[104,-1]}]"#, r#"[[1]]"#),
            OK.replace(r#""offset":7,"#, r#""offset":7,"offset":8,"#),
            OK.replace(r#""offset":7,"#, r#""offset":7,"extra":{"x":[1]},"#),
            r#"["logs",0,7,1795615200123,null,"a2V5","e30=",[]]"#.to_owned(),
            "5".to_owned(),
            "null".to_owned(),
        ];
        let mut payloads: Vec<String> = records.iter().map(|r| with_record(r)).collect();
        payloads.extend(
            [
                "not json",
                "",
                "[]",
                r#"{"eventSource":"aws:kafka"}"#,
                r#"{"eventSource":"aws:kafka","records":null}"#,
                r#"{"eventSource":"aws:kafka","records":{}} trailing"#,
                r#"{"eventSource":"aws:kafka","records":[]}"#,
                r#"{"eventSource":"aws:kafka","records":{"a-0":null}}"#,
                r#"{"eventSource":"aws:kafka","records":{"a-0":[]},"bootstrapServers":1}"#,
                r#"{"eventSource":"aws:kafka","eventSourceArn":["x"],"records":{}}"#,
                r#"{"eventSource":5,"records":{}}"#,
                r#"{"eventSource":"aws:sqs","records":{}}"#,
                r#"{"eventSource":"aws:kafka","eventSource":"aws:kafka","records":{}}"#,
                r#"{"Records":[{"eventSource":"aws:sqs"}]}"#,
                r#"["SelfManagedKafka",null,{},null]"#,
                r#"["SelfManagedKafka"]"#,
            ]
            .map(str::to_owned),
        );
        // A key seen twice keeps its last records, as a HashMap does.
        let second = OK.replace(r#""offset":7"#, r#""offset":9"#);
        payloads.push(format!(
            r#"{{"eventSource":"SelfManagedKafka","records":{{"logs-0":[{OK}],"logs-0":[{second}]}}}}"#
        ));
        payloads.push(format!(
            r#"{{"eventSource":"aws:SelfManagedKafka","records":{{"b-1":[{OK}],"logs-0":[{second},{OK}]}}}}"#
        ));
        let mut oks = 0;
        for payload in &payloads {
            let want = owned(payload.as_bytes());
            let got = borrowed(payload.as_bytes());
            assert_eq!(got, want, "payload {payload}");
            oks += usize::from(want.is_ok());
        }
        // The list is not all errors (nor all successes).
        assert!(
            oks >= 10 && oks < payloads.len(),
            "{oks} of {}",
            payloads.len()
        );
    }

    #[test]
    fn decoded_records_borrow_from_the_payload() {
        let payload = with_record(OK);
        let event = decode(payload.as_bytes()).unwrap();
        assert_eq!(event.len(), 1);
        let records = event.records().unwrap();
        let value = records[0].value.unwrap();
        let range = payload.as_bytes().as_ptr_range();
        assert!(
            range.contains(&value.as_ptr()),
            "value is a slice of the payload"
        );
        // aws_lambda_events' float arithmetic reads this one 1 ms early;
        // both decoders agree on it.
        assert_eq!(records[0].timestamp_ms, 1_795_615_200_122);
        assert_eq!(records[0].key, Some("a2V5"));
    }

    /// aws_lambda_events asserts (panics) on these; both decoders here
    /// return an error that says what is wrong.
    #[test]
    fn a_fractional_millisecond_timestamp_is_an_error_not_a_panic() {
        for ts in ["1795615200123.5", r#""1795615200123.25""#, "0.0000001"] {
            let payload = with_record(&OK.replace("1795615200123", ts));
            for err in [
                decode(payload.as_bytes()).err().map(|e| e.to_string()),
                decode_event(payload.as_bytes())
                    .err()
                    .map(|e| e.to_string()),
            ] {
                let err = err.unwrap_or_else(|| panic!("{ts} was accepted"));
                assert!(
                    err.starts_with("not a Kafka event: record timestamp")
                        && err.contains("fraction of a millisecond"),
                    "{err}"
                );
            }
        }
    }

    proptest::proptest! {
        /// Any whole-millisecond timestamp, on either side of where the
        /// sum stands in for chrono, reads as aws_lambda_events reads it.
        #[test]
        fn any_timestamp_reads_as_aws_lambda_events_reads_it(
            ms in proptest::prop_oneof![
                0u64..5_000_000_000_000,
                999_999_000_000_000u64..1_000_001_000_000_000,
                0u64..=(1 << 53),
            ]
        ) {
            let payload = with_record(&OK.replace("1795615200123", &ms.to_string()));
            let ours = borrowed(payload.as_bytes()).map(|r| r[0].timestamp_ms);
            let theirs = owned(payload.as_bytes()).map(|r| r[0].timestamp_ms);
            proptest::prop_assert_eq!(ours, theirs, "{}", ms);
        }
    }

    #[test]
    fn millisecond_arithmetic_matches_aws_lambda_events() {
        for ms in [
            0u64,
            1,
            999,
            1000,
            1_507_217_624_302,
            1_795_615_200_123,
            4_102_444_799_999,
        ] {
            let payload = with_record(&OK.replace("1795615200123", &ms.to_string()));
            let ours = borrowed(payload.as_bytes()).unwrap()[0].timestamp_ms;
            let theirs = owned(payload.as_bytes()).unwrap()[0].timestamp_ms;
            assert_eq!(ours, theirs, "{ms}");
        }
    }
}
