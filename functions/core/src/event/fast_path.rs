//! The event decoder's fast path: a reader for the shape Lambda sends.
//!
//! An event is mostly base64 strings (each record's value), found by the
//! shared reader ([`crate::json_scan`]); the few field names are matched here.
//! It reads a strict subset of what [`super::decode`] accepts: the known
//! fields, each at most once and of the usual types, and whole numbers
//! without sign, fraction or exponent (header bytes may be negative). On
//! anything else it returns `None`, and serde_json reads the whole payload
//! instead, so what is accepted, and every error message, stay
//! serde_json's. Tests hold it to reading what serde_json reads, the same
//! way.

use std::borrow::Cow;
use std::collections::HashMap;

use super::wire::KafkaRecord;
use super::{millis, AnyStr, Headers, Millis};
use crate::json::BorrowedStr;
use crate::json_scan::{FieldsRead, Scanner};
use crate::record::NO_TIMESTAMP;

/// What the fast path read: the event's source and its records by key.
pub(super) struct Scanned<'a> {
    pub(super) event_source: Option<Cow<'a, str>>,
    pub(super) records: HashMap<Cow<'a, str>, Vec<KafkaRecord<'a>>>,
}

/// Reads a whole payload, or gives up.
pub(super) fn event(text: &str) -> Option<Scanned<'_>> {
    Scanner::whole(text, read_event)
}

/// A non-negative whole number, as `partition` and `offset` take it.
fn integer(s: &mut Scanner<'_>) -> Option<i64> {
    s.peek()?;
    s.digits().map(|n| n as i64)
}

/// `timestamp`: a whole number, or a string of one; epoch milliseconds
/// read the way the serde path reads them (through `f64`, which is exact
/// below 2^53 and rounds the same way for both spellings above it). A
/// negative whole number (Kafka's -1: none) reads as [`NO_TIMESTAMP`], as
/// serde_json's `-0` (a float) and numbers past `i64` do in the serde path.
fn timestamp(s: &mut Scanner<'_>) -> Option<i64> {
    let n = match s.peek()? {
        b'"' => s.digits_in_string()?,
        b'-' => {
            s.eat_if(b'-');
            s.digits()?;
            return Some(NO_TIMESTAMP);
        }
        _ => s.digits()?,
    };
    millis::<serde_json::Error>(n as f64).ok()
}

/// A header byte: a whole number from -128 to 127 (`-0` is left to serde).
fn header_byte(s: &mut Scanner<'_>) -> Option<()> {
    let negative = s.eat_if(b'-');
    let n = s.digits()?;
    let fits = if negative {
        (1..=128).contains(&n)
    } else {
        n <= 127
    };
    fits.then_some(())
}

/// `headers`: a list of maps of byte lists, checked, not kept.
fn headers(s: &mut Scanner<'_>) -> Option<Headers> {
    s.elements(|s| s.members(|s, _| s.elements(header_byte)))?;
    Some(Headers)
}

/// The whole event.
fn read_event<'a>(s: &mut Scanner<'a>) -> Option<Scanned<'a>> {
    let mut seen = FieldsRead::default();
    let mut event_source = None;
    let mut records = HashMap::new();
    s.members(|s, name| {
        // An unknown field, which serde skips, makes the fast path give up.
        let field = match &*name {
            "eventSource" => 1,
            "eventSourceArn" => 2,
            "records" => 4,
            "bootstrapServers" => 8,
            _ => return None,
        };
        match seen.first(field)? {
            1 => event_source = s.nullable(Scanner::string)?,
            4 => {
                if !s.null() {
                    read_records(s, &mut records)?;
                }
            }
            _ => {
                s.nullable(Scanner::string)?;
            }
        }
        Some(())
    })?;
    Some(Scanned {
        event_source,
        records,
    })
}

/// `records`: batches by key; a key seen twice keeps its last batch.
fn read_records<'a>(
    s: &mut Scanner<'a>,
    out: &mut HashMap<Cow<'a, str>, Vec<KafkaRecord<'a>>>,
) -> Option<()> {
    s.members(|s, key| {
        let mut batch = Vec::new();
        s.elements(|s| {
            batch.push(record(s)?);
            Some(())
        })?;
        out.insert(key, batch);
        Some(())
    })
}

/// One record; `partition`, `offset`, `timestamp` and `headers` are
/// required, as in the serde path.
fn record<'a>(s: &mut Scanner<'a>) -> Option<KafkaRecord<'a>> {
    let mut seen = FieldsRead::default();
    let (mut topic, mut key, mut value, mut timestamp_type) = (None, None, None, None);
    let (mut partition, mut offset, mut time, mut header_list) = (None, None, None, None);
    s.members(|s, name| {
        let field = match &*name {
            "topic" => 1,
            "partition" => 2,
            "offset" => 4,
            "timestamp" => 8,
            "timestampType" => 16,
            "key" => 32,
            "value" => 64,
            "headers" => 128,
            _ => return None,
        };
        match seen.first(field)? {
            1 => topic = s.nullable(Scanner::string)?,
            2 => partition = Some(integer(s)?),
            4 => offset = Some(integer(s)?),
            8 => time = Some(timestamp(s)?),
            16 => timestamp_type = s.nullable(Scanner::string)?,
            32 => key = s.nullable(Scanner::string)?,
            64 => value = s.nullable(Scanner::string)?,
            _ => header_list = Some(headers(s)?),
        }
        Some(())
    })?;
    Some(KafkaRecord {
        topic: topic.map(BorrowedStr),
        partition: partition?,
        offset: offset?,
        timestamp: Millis(time?),
        timestamp_type: timestamp_type.map(|_| AnyStr),
        key: key.map(BorrowedStr),
        value: value.map(BorrowedStr),
        headers: header_list?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::leaked;
    use super::super::{from_wire, wire, BorrowedEvent, SOURCE_MSK};
    use super::*;
    use crate::json_scan::one_byte_edits;
    use crate::record::KafkaRecordRef;

    /// An event in the shapes Lambda sends: MSK and self-managed spellings
    /// of a record, headers with negative bytes, numeric-string timestamps,
    /// Kafka's -1 for a record without a timestamp,
    /// `null`s, whitespace between tokens, strings on either side of the
    /// length where the search for their end turns to `memchr`, and escapes
    /// (a value that is not base64 arrives as a JSON string).
    const BASE: &str = concat!(
        r#"{"eventSource":"aws:kafka","eventSourceArn":"arn:x","bootstrapServers":null,"#,
        r#""records":{"logs-0":[{"topic":"logs","partition":0,"offset":7,"timestamp":1795615200123,"#,
        r#""timestampType":"CREATE_TIME","key":"a2V5","value":"eyJldmVudF9pZCI6IjEiLCJ1c2VyX2lkIjoidSIsImFjdGlvbiI6ImNsaWNrIn0=","headers":[{"h":[104,-1,-128,127]},{}]},"#,
        r#"{"partition":0,"offset":8,"timestamp":"1795615200124","timestampType":null,"#,
        r#""key":null,"value":"eyJhIjoxfQ","headers":[]}],"#,
        "\n \"b-12\" : [ {\"topic\":\"b\",\"partition\":12,\"offset\":0,\"timestamp\":-1,",
        "\t\"headers\":[],\"value\":null},{\"topic\":\"b\",\"partition\":12,\"offset\":1,",
        r#""timestamp":"1795615200125","timestampType":"CREATE\u005fTIME","headers":[],"#,
        r#""key":"\u0041","value":"{\"event_id\":\"\u00e9\\/\ud83d\ude00\"}"} ] } }"#,
        "\r\n"
    );

    type Records = Result<Vec<KafkaRecordRef<'static>>, String>;

    /// The records and source of an event, copied out so it can be dropped
    /// (or why its keys, partitions and topics do not agree).
    fn owned(source: Option<&str>, event: BorrowedEvent<'_>) -> (Option<String>, Records) {
        let records = event
            .records()
            .map(|records| records.into_iter().map(leaked).collect())
            .map_err(|e| e.to_string());
        (source.map(str::to_owned), records)
    }

    fn fast(text: &str) -> Option<(Option<String>, Records)> {
        let scanned = event(text)?;
        Some(owned(
            scanned.event_source.as_deref(),
            BorrowedEvent {
                records: scanned.records,
            },
        ))
    }

    fn serde(text: &str) -> Result<(Option<String>, Records), String> {
        let event: wire::KafkaEvent = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let (source, records) = from_wire(event);
        Ok(owned(source.as_deref(), BorrowedEvent { records }))
    }

    #[test]
    fn reads_the_shapes_lambda_sends_as_serde_json_does() {
        let got = fast(BASE).expect("the fast path reads the base event");
        assert_eq!(Ok(&got), serde(BASE).as_ref());
        assert_eq!(got.0.as_deref(), Some(SOURCE_MSK));
        let got = (
            got.0,
            got.1.expect("the base event's keys and records agree"),
        );
        assert_eq!(got.1.len(), 4);
        assert_eq!(got.1[0].topic, "b");
        assert_eq!(got.1[0].timestamp_ms, crate::record::NO_TIMESTAMP);
        assert_eq!(got.1[1].key, Some("A"));
        assert_eq!(got.1[1].value, Some(r#"{"event_id":"é\/😀"}"#));
        assert_eq!(
            got.1[2].value,
            Some("eyJldmVudF9pZCI6IjEiLCJ1c2VyX2lkIjoidSIsImFjdGlvbiI6ImNsaWNrIn0=")
        );
        assert_eq!(got.1[3].key, None);
        assert_eq!(got.1[3].timestamp_ms, 1_795_615_200_124);
    }

    /// Every edit of one byte of `BASE` (deleting it, or inserting or
    /// putting in its place a byte that matters to JSON): whatever the fast
    /// path reads, serde_json reads the same; what it gives up on is left
    /// to serde_json.
    #[test]
    fn what_the_fast_path_reads_serde_json_reads_the_same() {
        let (mut read, mut left) = (0, 0);
        for text in &one_byte_edits(BASE) {
            match fast(text) {
                Some(got) => {
                    assert_eq!(Ok(&got), serde(text).as_ref(), "{text}");
                    read += 1;
                }
                None => left += 1,
            }
        }
        // Both branches are taken many times: whitespace and digit edits
        // stay readable, broken syntax and escapes are left to serde_json.
        assert!(read > 1_000 && left > 1_000, "read {read}, left {left}");
    }

    #[test]
    fn gives_up_on_what_it_does_not_read() {
        for text in [
            r#"{"eventSource":"aws:kafka","records":{},"extra":1}"#,
            r#"{"eventSource":"aws:kafka","eventSource":"aws:kafka"}"#,
            r#"{"eventSource":"aws:k\x61fka","records":{}}"#,
            r#"{"eventSource":"aws:kafka\"}"#,
            r#"{"eventSource":"aws:kafka\u00"}"#,
            r#"{"eventSource":"aws:kafka\ud800","records":{}}"#,
            r#"{"eventSource":"aws:kafka","records":{}} x"#,
            r#"["aws:kafka",null,{},null]"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":-1,"timestamp":0,"headers":[]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":0.5,"headers":[]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":0,"headers":[{"h":[-0]}]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":0,"headers":[{"h":[128]}]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":"01","headers":[]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":"-1","headers":[]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":-1.0,"headers":[]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":- 1,"headers":[]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":-01,"headers":[]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":0}]}}"#,
            "{\"records\":{\"a-0\":[{\"partition\":0,\"offset\":1,\"timestamp\":0,\"headers\":[],\"key\":\"\t\"}]}}",
        ] {
            assert!(event(text).is_none(), "{text}");
        }
        // The smallest events it does read.
        for text in [
            r#"{}"#,
            r#" {"records":null} "#,
            r#"{"records":{"a-0":[]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":-1,"headers":[]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":-0,"headers":[]}]}}"#,
        ] {
            assert!(event(text).is_some(), "{text}");
        }
        let escaped = event(r#"{"event\u0053ource":"aws:k\u0061fka","records":{"a\"-0":[]}}"#)
            .expect("escapes are read");
        assert_eq!(escaped.event_source.as_deref(), Some(SOURCE_MSK));
        assert!(escaped.records.contains_key("a\"-0"));
    }
}
