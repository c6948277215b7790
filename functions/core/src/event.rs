//! The AWS Lambda Kafka event: decoding it (MSK and self-managed variants)
//! and walking its records in a stable order.
//!
//! [`decode`] is the one decoder: every path that reads an event (the
//! Lambda entry point, `logpipe replay`, `demo`, `esm`, the tests) reads
//! it here, through `Function::handle_payload` or `batch::process_payload`.
//! It borrows: topics, keys and base64 values stay slices of the payload
//! (escaped strings, which Lambda never sends, are copied), and headers are
//! checked but not kept. Events of the shape Lambda sends are read by a
//! fast path of its own (`fast_path`), anything else by serde_json, which also
//! words every error. Decoding into `aws_lambda_events`' owned `KafkaEvent`
//! instead allocates a `String` per topic, key and value and a map per
//! header, and cost 3–6x what the logs' validation and transform cost.
//!
//! `aws_lambda_events` is the oracle: with the `oracle` feature (the fuzz
//! and property tests turn it on), `decode_event` reads a payload into
//! its `KafkaEvent`, and the tests hold [`decode`] to it. The borrowed
//! structures mirror `KafkaEvent`'s serde shape field for field (names,
//! defaults, `null` handling, type names in messages), so both accept the
//! same payloads and refuse the others with the same message, except for
//! the record timestamp, which the decoders here read exactly where
//! `aws_lambda_events` does not:
//!
//! - `aws_lambda_events` reads epoch milliseconds through `f64` seconds and
//!   lands 1 ms early on about half of all timestamps; here the integer is
//!   the timestamp, and `decode_event` puts the exact one in each record.
//! - A negative timestamp (Kafka's -1: the record has none) makes
//!   `aws_lambda_events` refuse the whole event; here it reads as
//!   [`NO_TIMESTAMP`], and the record is processed like any other.
//! - A fraction of a millisecond is an error here, where
//!   `aws_lambda_events` panics (an `assert_eq!` in its millisecond
//!   decoder); `decode_event` runs the borrowed check first, so it never
//!   reaches that assertion.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

#[cfg(feature = "oracle")]
use aws_lambda_events::event::kafka::{KafkaEvent, KafkaRecord};
#[cfg(feature = "oracle")]
use chrono::DateTime;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The event timestamp type of `aws_lambda_events` (the oracle's).
#[cfg(feature = "oracle")]
pub use aws_lambda_events::encodings::MillisecondTimestamp;

use crate::json::BorrowedStr;
use crate::record::{KafkaRecordRef, NO_TIMESTAMP};

mod fast_path;

pub use logpipe_contract::event::{SOURCES_SELF_MANAGED, SOURCE_MSK};

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
    /// A `records` key is not `<topic>-<partition>` with a partition number.
    #[error(
        "records key `{key}` is not <topic>-<partition>, with a partition number from 0 to 2147483647"
    )]
    BadKey {
        /// The key.
        key: String,
    },
    /// A record's topic or partition is not the one its `records` key names.
    #[error(
        "record at `{key}` offset {offset} is of topic `{topic}` partition {partition}, not the topic and partition of its key"
    )]
    KeyMismatch {
        /// The `records` key the record sits under.
        key: String,
        /// Its offset.
        offset: i64,
        /// The record's topic.
        topic: String,
        /// The record's partition.
        partition: i32,
    },
}

#[cfg(feature = "oracle")]
/// Decodes an invocation payload into `aws_lambda_events`' owned
/// `KafkaEvent` and checks its source. The payload is first read by the
/// borrowed decoder, which refuses what would make the owned one panic, and
/// whose exact timestamps replace those `aws_lambda_events` reads (see the
/// module notes). A record without a timestamp (negative, which
/// `aws_lambda_events` refuses) gets [`NO_TIMESTAMP`] ms, 1969-12-31T23:59:59.999Z.
pub fn decode_event(payload: &[u8]) -> Result<KafkaEvent, EventError> {
    let borrowed = decode(payload)?;
    let mut event: KafkaEvent = match serde_json::from_slice(payload) {
        Ok(event) => event,
        // Only a timestamp aws_lambda_events refuses and the borrowed
        // decoder reads (a negative one) gets here: read the event with
        // aws_lambda_events' types but the timestamps read here.
        Err(e) => match serde_json::from_slice::<owned::KafkaEvent>(payload) {
            Ok(event) => event.into(),
            Err(_) => return Err(e.into()),
        },
    };
    for (key, batch) in &mut event.records {
        let exact = borrowed
            .records
            .get(key.as_str())
            .map_or(&[][..], Vec::as_slice);
        debug_assert_eq!(exact.len(), batch.len(), "records under {key}");
        for (record, read) in batch.iter_mut().zip(exact) {
            record.timestamp = timestamp_of(read.timestamp.0);
        }
    }
    check_source(&event)?;
    Ok(event)
}

#[cfg(feature = "oracle")]
/// Epoch milliseconds (as [`Millis`] reads them, so within chrono's range)
/// as an event timestamp.
fn timestamp_of(ms: i64) -> MillisecondTimestamp {
    MillisecondTimestamp(DateTime::from_timestamp_millis(ms).unwrap_or_default())
}

#[cfg(feature = "oracle")]
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

#[cfg(feature = "oracle")]
/// The event's records, sorted by topic, partition and offset. A record
/// without a `topic` takes it from its `records` key (`<topic>-<partition>`).
///
/// Every key must name a topic and a Kafka partition number (0..2^31, in
/// decimal, after the key's last `-`), and every record under it must be
/// of that topic (if it names one) and that partition. The first problem,
/// in the order of the keys, then of the records under each, is the error.
pub fn records(event: &KafkaEvent) -> Result<Vec<KafkaRecordRef<'_>>, EventError> {
    let mut out = Vec::with_capacity(event.records.values().map(Vec::len).sum());
    let mut keys: Vec<&String> = event.records.keys().collect();
    keys.sort_unstable();
    for key in keys {
        let batch = &event.records[key];
        parse_key(key)?;
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

/// The topic and partition a `records` key names: `<topic>-<partition>`,
/// split at the last `-` (a topic may hold `-`), the topic not empty, the
/// partition a Kafka partition number (0..2^31) in plain decimal (no sign,
/// no leading zero).
fn parse_key(key: &str) -> Result<(&str, i32), EventError> {
    key.rsplit_once('-')
        .filter(|(topic, digits)| {
            !topic.is_empty()
                && !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && (digits.len() == 1 || !digits.starts_with('0'))
        })
        .and_then(|(topic, digits)| Some((topic, digits.parse::<i32>().ok()?)))
        .ok_or_else(|| EventError::BadKey {
            key: key.to_owned(),
        })
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
    let (key_topic, key_partition) = parse_key(key)?;
    // Any negative time (a `KafkaEvent` built with one) means none.
    let timestamp_ms = timestamp_ms.max(NO_TIMESTAMP);
    let partition = i32::try_from(partition)
        .ok()
        .filter(|p| *p >= 0)
        .ok_or_else(|| EventError::BadPartition {
            key: key.to_owned(),
            offset,
            partition,
        })?;
    let topic = topic.unwrap_or(key_topic);
    if (topic, partition) != (key_topic, key_partition) {
        return Err(EventError::KeyMismatch {
            key: key.to_owned(),
            offset,
            topic: topic.to_owned(),
            partition,
        });
    }
    Ok(KafkaRecordRef {
        topic,
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
    /// as `records` (feature `oracle`) lists those of the same event decoded as `KafkaEvent`.
    pub fn records(&self) -> Result<Vec<KafkaRecordRef<'_>>, EventError> {
        let mut out = Vec::with_capacity(self.len());
        let mut keys: Vec<&Cow<'_, str>> = self.records.keys().collect();
        keys.sort_unstable();
        for key in keys {
            let batch = &self.records[key];
            parse_key(key)?;
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
/// its source. Accepts and refuses exactly what `decode_event` does.
pub fn decode(payload: &[u8]) -> Result<BorrowedEvent<'_>, EventError> {
    // One UTF-8 check of the whole payload spares serde_json checking every
    // string it borrows, one by one (a third of its time on base64 values);
    // bytes that are not UTF-8 go to `from_slice`, which says where. An
    // event of the shape Lambda sends is read by the fast path (`fast_path`);
    // serde_json reads the rest and words their errors.
    let (source, records) = match std::str::from_utf8(payload) {
        Ok(text) => match fast_path::event(text) {
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

#[cfg(feature = "oracle")]
// `aws_lambda_events`' `KafkaEvent` and `KafkaRecord`, field for field,
// but with the timestamp read by [`Millis`]: for an event whose timestamps
// `aws_lambda_events` refuses (negative: none).
mod owned {
    use std::collections::HashMap;

    use super::{timestamp_of, Millis};

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub(super) struct KafkaEvent {
        #[serde(default)]
        event_source: Option<String>,
        #[serde(default)]
        event_source_arn: Option<String>,
        #[serde(default, deserialize_with = "nullish")]
        records: HashMap<String, Vec<KafkaRecord>>,
        #[serde(default)]
        bootstrap_servers: Option<String>,
    }

    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct KafkaRecord {
        #[serde(default)]
        topic: Option<String>,
        partition: i64,
        offset: i64,
        timestamp: Millis,
        #[serde(default)]
        timestamp_type: Option<String>,
        key: Option<String>,
        value: Option<String>,
        headers: Vec<HashMap<String, Vec<i8>>>,
    }

    fn nullish<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de> + Default>(
        d: D,
    ) -> Result<T, D::Error> {
        Ok(<Option<T> as serde::Deserialize>::deserialize(d)?.unwrap_or_default())
    }

    impl From<KafkaEvent> for super::KafkaEvent {
        fn from(e: KafkaEvent) -> Self {
            let mut event = super::KafkaEvent::default();
            event.event_source = e.event_source;
            event.event_source_arn = e.event_source_arn;
            event.bootstrap_servers = e.bootstrap_servers;
            event.records = e
                .records
                .into_iter()
                .map(|(key, batch)| (key, batch.into_iter().map(record).collect()))
                .collect();
            event
        }
    }

    fn record(r: KafkaRecord) -> super::KafkaRecord {
        let mut out = super::KafkaRecord::default();
        out.topic = r.topic;
        out.partition = r.partition;
        out.offset = r.offset;
        out.timestamp = timestamp_of(r.timestamp.0);
        out.timestamp_type = r.timestamp_type;
        out.key = r.key;
        out.value = r.value;
        out.headers = r.headers;
        out
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
/// numeric string, accepted where `aws_lambda_events` accepts it and read
/// exactly (see [`millis`]); a negative one is [`NO_TIMESTAMP`] and a
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

/// Epoch milliseconds from the number a timestamp reads as: that number,
/// exactly. Every time chrono can hold (to the year 262143, under 2^53 ms)
/// is exact in an `f64`, so the integer read is the timestamp; no division
/// into seconds, which is where `aws_lambda_events` loses a millisecond.
///
/// A negative whole number (Kafka's -1) means the record has no timestamp:
/// [`NO_TIMESTAMP`]. What `aws_lambda_events` refuses otherwise is refused
/// with its message: text that is not a whole number once printed (`NaN`,
/// `inf`, above 2^64), and times chrono cannot hold (`invalid timestamp`).
fn millis<E: de::Error>(input: f64) -> Result<i64, E> {
    if input.is_finite() && input.is_sign_negative() {
        if input.fract() != 0.0 {
            return Err(fraction_error(input));
        }
        return Ok(NO_TIMESTAMP);
    }
    // aws_lambda_events splits the number's decimal text at the point; a
    // whole number below 2^53 prints as its own digits, so skip the text.
    let (whole, fraction) = if (0.0..=EXACT_F64_INTEGERS).contains(&input) && input.fract() == 0.0 {
        (input as u64, 0)
    } else {
        let text = input.to_string();
        let mut parts = text.split('.').map(|p| p.parse::<u64>().map_err(E::custom));
        let whole = parts.next().unwrap_or(Ok(0))?;
        (whole, parts.next().transpose()?.unwrap_or(0))
    };
    if fraction != 0 {
        return Err(fraction_error(input));
    }
    match i64::try_from(whole) {
        Ok(ms) if ms <= MAX_MILLIS => Ok(ms),
        _ => Err(E::custom("invalid timestamp")),
    }
}

/// The last millisecond chrono can hold (the year 262143): where
/// `aws_lambda_events`' reading of a timestamp starts to fail.
const MAX_MILLIS: i64 = 8_210_266_876_799_999;

fn fraction_error<E: de::Error>(input: f64) -> E {
    E::custom(format_args!(
        "record timestamp {input} has a fraction of a millisecond; expected whole epoch milliseconds"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Records = Vec<KafkaRecordRef<'static>>;

    /// `aws_lambda_events` alone: its `KafkaEvent`, source check and
    /// [`records`] (its timestamps as it reads them).
    fn owned(payload: &[u8]) -> Result<Records, String> {
        // Leaked so the records can outlive this helper: test-only.
        let event: &'static KafkaEvent = Box::leak(Box::new(
            serde_json::from_slice::<KafkaEvent>(payload)
                .map_err(|e| EventError::from(e).to_string())?,
        ));
        check_source(event).map_err(|e| e.to_string())?;
        records(event).map_err(|e| e.to_string())
    }

    /// The owned path the rest of the project takes: `decode_event`, then
    /// [`records`].
    fn oracle(payload: &[u8]) -> Result<Records, String> {
        let event: &'static KafkaEvent =
            Box::leak(Box::new(decode_event(payload).map_err(|e| e.to_string())?));
        records(event).map_err(|e| e.to_string())
    }

    fn borrowed(payload: &[u8]) -> Result<Records, String> {
        let event = decode(payload).map_err(|e| e.to_string())?;
        let records = event.records().map_err(|e| e.to_string())?;
        // Copy out of the event so it can be dropped: compare by value.
        Ok(records.into_iter().map(leaked).collect())
    }

    /// Records with their timestamps left out.
    fn untimed(records: Result<Records, String>) -> Result<Records, String> {
        records.map(|rs| {
            rs.into_iter()
                .map(|r| KafkaRecordRef {
                    timestamp_ms: 0,
                    ..r
                })
                .collect()
        })
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

    fn with_timestamp(ts: &str) -> String {
        with_record(&OK.replace("1795615200123", ts))
    }

    const OK: &str = r#"{"topic":"logs","partition":0,"offset":7,"timestamp":1795615200123,"timestampType":"CREATE_TIME","key":"a2V5","value":"e30=","headers":[{"h":[104,-1]}]}"#;

    /// Both decoders give the same records, or the same error message, for
    /// every one of these payloads; and `aws_lambda_events` alone accepts
    /// and refuses the same, and reads the same records but for their
    /// timestamps.
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
            OK.replace("1795615200123", r#""soon""#),
            OK.replace("1795615200123", "true"),
            OK.replace("1795615200123", "null"),
            OK.replace("1795615200123", "[1]"),
            OK.replace("1795615200123", r#"{"a":1}"#),
            OK.replace("1795615200123", "99999999999999999999999"),
            OK.replace("1795615200123", "9007199254740993"),
            OK.replace("1795615200123", "8210266876799999"),
            OK.replace("1795615200123", "8210266876800000"),
            OK.replace("1795615200123", "1507217624302"),
            OK.replace("1795615200123", r#""NaN""#),
            OK.replace("1795615200123", r#""inf""#),
            OK.replace(r#""partition":0"#, r#""partition":"0""#),
            OK.replace(r#""partition":0"#, r#""partition":1.0"#),
            OK.replace(r#""partition":0"#, r#""partition":-1"#),
            OK.replace(r#""partition":0"#, r#""partition":4294967296"#),
            OK.replace(r#""partition":0,"#, ""),
            OK.replace(r#""offset":7,"#, ""),
            OK.replace(r#""offset":7,"#, r#""offset":-7,"#),
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
        let b1 = OK
            .replace(r#""topic":"logs""#, r#""topic":"b""#)
            .replace(r#""partition":0"#, r#""partition":1"#);
        payloads.push(format!(
            r#"{{"eventSource":"aws:SelfManagedKafka","records":{{"b-1":[{b1}],"logs-0":[{second},{OK}]}}}}"#
        ));
        // A record under another topic's or partition's key.
        payloads.push(format!(
            r#"{{"eventSource":"aws:SelfManagedKafka","records":{{"b-1":[{OK}]}}}}"#
        ));
        let mut oks = 0;
        for payload in &payloads {
            let got = borrowed(payload.as_bytes());
            assert_eq!(got, oracle(payload.as_bytes()), "payload {payload}");
            let aws = owned(payload.as_bytes());
            assert_eq!(
                untimed(got.clone()),
                untimed(aws.clone()),
                "payload {payload}"
            );
            if let (Ok(got), Ok(aws)) = (&got, &aws) {
                for (g, a) in got.iter().zip(aws) {
                    // aws_lambda_events is exact or 1 ms early.
                    assert!(
                        (0..=1).contains(&(g.timestamp_ms - a.timestamp_ms)),
                        "payload {payload}: {} vs {}",
                        g.timestamp_ms,
                        a.timestamp_ms
                    );
                }
            }
            oks += usize::from(got.is_ok());
        }
        // The list is not all errors (nor all successes).
        assert!(
            oks >= 10 && oks < payloads.len(),
            "{oks} of {}",
            payloads.len()
        );
    }

    /// A `records` key names a topic and a Kafka partition number, and
    /// its records are of that topic and partition: anything else is not
    /// an event, refused the same way by both decoders, with the first
    /// problem in the order of the keys.
    #[test]
    fn records_keys_name_the_topic_and_partition_of_their_records() {
        let rec = |topic: Option<&str>, partition: &str| {
            let r = OK.replace(r#""partition":0"#, &format!(r#""partition":{partition}"#));
            match topic {
                Some(t) => r.replace(r#""topic":"logs""#, &format!(r#""topic":"{t}""#)),
                None => r.replace(r#""topic":"logs","#, ""),
            }
        };
        let event = |batches: &[(&str, &[String])]| {
            let batches: Vec<String> = batches
                .iter()
                .map(|(key, records)| format!(r#""{key}":[{}]"#, records.join(",")))
                .collect();
            format!(
                r#"{{"eventSource":"aws:kafka","records":{{{}}}}}"#,
                batches.join(",")
            )
        };
        let both = |payload: &str| {
            let got = borrowed(payload.as_bytes());
            assert_eq!(got, oracle(payload.as_bytes()), "{payload}");
            got
        };
        // Good keys: the topic may hold `-`; a record without a topic
        // takes the key's.
        for (key, topic, partition, want_topic) in [
            ("logs-0", Some("logs"), "0", "logs"),
            ("a-b-c-12", Some("a-b-c"), "12", "a-b-c"),
            ("a-b-12", None, "12", "a-b"),
            ("logs-2147483647", Some("logs"), "2147483647", "logs"),
            ("t--1", None, "1", "t-"),
        ] {
            let payload = event(&[(key, &[rec(topic, partition)])]);
            let got = both(&payload).unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(
                (got[0].topic, got[0].partition.to_string()),
                (want_topic, partition.to_owned()),
                "{key}"
            );
        }
        // Bad keys, with records or without.
        for key in [
            "logs",
            "logs-",
            "-0",
            "logs-x",
            "logs-+1",
            "logs-01",
            "logs-2147483648",
            "logs-4294967296",
            "logs-99999999999999999999",
            "logs-1.0",
            "logs-0 ",
        ] {
            for records in [&[][..], &[rec(Some("logs"), "0")][..]] {
                let err = both(&event(&[(key, records)])).unwrap_err();
                assert_eq!(
                    err,
                    format!("records key `{key}` is not <topic>-<partition>, with a partition number from 0 to 2147483647"),
                );
            }
        }
        // A record that is not of its key's topic or partition, among
        // them -1 in a key, which reads as topic `logs-` partition 1.
        for (key, topic, partition) in [
            ("logs-0", Some("other"), "0"),
            ("logs-0", Some("logs"), "1"),
            ("logs--1", Some("logs"), "1"),
            ("logs--1", Some("logs"), "0"),
        ] {
            let err = both(&event(&[(key, &[rec(topic, partition)])])).unwrap_err();
            assert!(
                err.contains("not the topic and partition of its key"),
                "{key}: {err}"
            );
        }
        // A partition outside 0..2^31 in a record.
        for partition in ["-1", "2147483648"] {
            let err = both(&event(&[("logs-0", &[rec(Some("logs"), partition)])])).unwrap_err();
            assert!(
                err.contains(&format!(
                    "has partition {partition}, not a Kafka partition number"
                )),
                "{err}"
            );
        }
        // Two problems: the first key in order names the error, whatever
        // order the map holds them in.
        let a = event(&[("z-1", &[rec(Some("z"), "-1")]), ("b-2147483648", &[])]);
        let b = event(&[("b-2147483648", &[]), ("z-1", &[rec(Some("z"), "-1")])]);
        for payload in [a, b] {
            assert!(both(&payload).unwrap_err().contains("`b-2147483648`"));
        }
    }

    /// A negative timestamp (Kafka's -1: none), in any spelling
    /// `aws_lambda_events` would read were it not negative, is no error:
    /// both decoders read the event, the record has no timestamp, and
    /// `decode_event`'s `KafkaEvent` carries the rest of it unchanged.
    #[test]
    fn a_negative_timestamp_is_a_record_without_one() {
        for ts in [
            "-1",
            "-5",
            "-0",
            "-1.0",
            "-1e3",
            r#""-1""#,
            "-99999999999999999999999",
        ] {
            let payload = with_timestamp(ts);
            assert!(owned(payload.as_bytes()).is_err(), "{ts}: aws refuses it");
            let got = borrowed(payload.as_bytes()).unwrap_or_else(|e| panic!("{ts}: {e}"));
            assert_eq!(Ok(&got), oracle(payload.as_bytes()).as_ref(), "{ts}");
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].timestamp_ms, NO_TIMESTAMP, "{ts}");
            assert_eq!(got[0].timestamp(), None, "{ts}");
            // The rest of the record is as aws_lambda_events reads it.
            let ok = borrowed(with_record(OK).as_bytes()).unwrap();
            assert_eq!(
                KafkaRecordRef {
                    timestamp_ms: ok[0].timestamp_ms,
                    ..got[0]
                },
                ok[0]
            );
            let event = decode_event(payload.as_bytes()).unwrap();
            let r = &event.records["logs-0"][0];
            assert_eq!(r.timestamp.0.timestamp_millis(), NO_TIMESTAMP);
            assert_eq!(r.timestamp_type.as_deref(), Some("CREATE_TIME"));
            assert_eq!(r.headers, vec![[("h".to_owned(), vec![104, -1])].into()]);
            assert_eq!((r.partition, r.offset), (0, 7));
        }
        // One such record among others leaves the others as they were.
        let payload = format!(
            r#"{{"eventSource":"aws:kafka","records":{{"logs-0":[{},{}]}}}}"#,
            OK.replace("1795615200123", "-1"),
            OK.replace(r#""offset":7"#, r#""offset":8"#)
        );
        let got = borrowed(payload.as_bytes()).unwrap();
        assert_eq!(Ok(&got), oracle(payload.as_bytes()).as_ref());
        let times: Vec<_> = got.iter().map(|r| (r.offset, r.timestamp())).collect();
        assert_eq!(times, [(7, None), (8, Some(1_795_615_200_123))]);
        // A negative fraction is still a fraction.
        for ts in ["-1.5", r#""-0.25""#] {
            let err = borrowed(with_timestamp(ts).as_bytes()).unwrap_err();
            assert!(err.contains("fraction of a millisecond"), "{ts}: {err}");
            assert_eq!(Err(err), oracle(with_timestamp(ts).as_bytes()));
        }
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
        // both decoders here read it exactly.
        assert_eq!(records[0].timestamp_ms, 1_795_615_200_123);
        assert_eq!(
            owned(payload.as_bytes()).unwrap()[0].timestamp_ms,
            1_795_615_200_122
        );
        assert_eq!(records[0].key, Some("a2V5"));
    }

    /// aws_lambda_events asserts (panics) on these; both decoders here
    /// return an error that says what is wrong.
    #[test]
    fn a_fractional_millisecond_timestamp_is_an_error_not_a_panic() {
        for ts in ["1795615200123.5", r#""1795615200123.25""#, "0.0000001"] {
            let payload = with_timestamp(ts);
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

    /// The timestamp both decoders give for `ms` spelled as an integer, a
    /// numeric string and (below 2^53 / 10, where serde_json reads `N.0`
    /// exactly: it scales `N0` down by ten) a float with `.0`.
    fn read_both_ways(ms: u64) -> Vec<Result<i64, String>> {
        let mut out = Vec::new();
        let mut spellings = vec![ms.to_string(), format!(r#""{ms}""#)];
        if ms < (1 << 53) / 10 {
            spellings.push(format!("{ms}.0"));
        }
        for spelling in spellings {
            let payload = with_timestamp(&spelling);
            out.push(borrowed(payload.as_bytes()).map(|r| r[0].timestamp_ms));
            out.push(oracle(payload.as_bytes()).map(|r| r[0].timestamp_ms));
        }
        out
    }

    proptest::proptest! {
        /// Any whole-millisecond timestamp chrono can hold reads exactly,
        /// in either decoder and any spelling; past chrono's range (up to
        /// 2^53) it is refused as `aws_lambda_events` refuses it.
        #[test]
        fn any_timestamp_reads_exactly(
            ms in proptest::prop_oneof![
                0u64..5_000_000_000_000,
                999_999_000_000_000u64..1_000_001_000_000_000,
                0u64..=(1 << 53),
            ]
        ) {
            let refused = "not a Kafka event: invalid timestamp at line 1";
            for got in read_both_ways(ms) {
                match &got {
                    Ok(got) => proptest::prop_assert_eq!(*got, ms as i64),
                    Err(e) => proptest::prop_assert!(ms > MAX_MILLIS as u64 && e.starts_with(refused), "{}: {}", ms, e),
                }
            }
            let ours = borrowed(with_timestamp(&ms.to_string()).as_bytes()).map(|r| r[0].timestamp_ms);
            let theirs = owned(with_timestamp(&ms.to_string()).as_bytes()).map(|r| r[0].timestamp_ms);
            match (ours, theirs) {
                (Ok(ours), Ok(theirs)) => proptest::prop_assert!(ours - theirs == 0 || ours - theirs == 1),
                (Err(ours), Err(theirs)) => proptest::prop_assert_eq!(ours, theirs),
                (ours, theirs) => proptest::prop_assert!(false, "{:?} vs aws {:?}", ours, theirs),
            }
        }
    }

    #[test]
    fn max_millis_is_chronos_last_millisecond() {
        assert!(DateTime::from_timestamp_millis(MAX_MILLIS).is_some());
        assert!(DateTime::from_timestamp_millis(MAX_MILLIS + 1).is_none());
    }

    /// Many timestamps, among them the ones `aws_lambda_events` reads 1 ms
    /// early: every one reads exactly, through the number reader both
    /// decoders share and through whole events.
    #[test]
    fn timestamps_are_exact_where_aws_lambda_events_is_a_millisecond_early() {
        let mut early = 0;
        let near = |base: u64| base..base + 20_000;
        let spread = (0..20_000u64).map(|i| i * 205_111_111_111 % 4_102_444_800_000);
        for ms in near(1_795_615_200_000)
            .chain(near(0))
            .chain(near(4_102_444_780_000))
            .chain(spread)
        {
            let read = millis::<serde_json::Error>(ms as f64).unwrap();
            assert_eq!(read, ms as i64, "{ms}");
            let seconds = ms as f64 / 1000.0;
            let aws = seconds as i64 * 1000 + (seconds.fract() * 1000.0) as i64;
            early += usize::from(aws != read);
        }
        assert!(early > 10_000, "aws_lambda_events is early on {early}");
        // Whole events, both decoders.
        for ms in (1_795_615_200_000u64..1_795_615_201_000).step_by(7) {
            for got in read_both_ways(ms) {
                assert_eq!(got, Ok(ms as i64), "{ms}");
            }
        }
    }
}
