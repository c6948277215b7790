//! The fixture events (`fixtures/events/`, written by
//! `scripts/build_fixtures.py`) are byte for byte what this crate's encoder
//! writes for their records: the fixtures, the generator, the local event
//! source mapping and the tools share one event shape.

use std::path::PathBuf;

use logpipe_contract::event::{
    encode, EventRecord, EventSource, EventVariant, Field, TimestampType,
};
use serde_json::Value;

/// A record read from a fixture: its key and value are kept as the text
/// the file holds (base64, or deliberately not).
struct FromFile<'a>(&'a Value);

impl FromFile<'_> {
    fn text(&self, field: &str) -> Field<'_> {
        match &self.0[field] {
            Value::Null => Field::Null,
            Value::String(s) => Field::Verbatim(s),
            other => panic!("{field} is {other}"),
        }
    }
}

impl EventRecord for FromFile<'_> {
    fn topic(&self) -> &str {
        self.0["topic"].as_str().expect("topic")
    }
    fn partition(&self) -> i32 {
        self.0["partition"].as_i64().expect("partition") as i32
    }
    fn offset(&self) -> i64 {
        self.0["offset"].as_i64().expect("offset")
    }
    fn timestamp_ms(&self) -> i64 {
        self.0["timestamp"].as_i64().expect("timestamp, a number")
    }
    fn timestamp_type(&self) -> TimestampType {
        match self.0["timestampType"].as_str() {
            Some("CREATE_TIME") => TimestampType::CreateTime,
            Some("LOG_APPEND_TIME") => TimestampType::LogAppendTime,
            Some("NO_TIMESTAMP_TYPE") => TimestampType::NoTimestamp,
            other => panic!("timestampType {other:?}"),
        }
    }
    fn key(&self) -> Field<'_> {
        self.text("key")
    }
    fn value(&self) -> Field<'_> {
        self.text("value")
    }
    fn for_each_header(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for header in self.0["headers"].as_array().expect("headers") {
            for (name, bytes) in header.as_object().expect("a header object") {
                let bytes: Vec<u8> = bytes
                    .as_array()
                    .expect("header bytes")
                    .iter()
                    .map(|b| b.as_i64().expect("a byte") as i8 as u8)
                    .collect();
                f(name, &bytes);
            }
        }
    }
}

#[test]
fn every_fixture_is_what_the_encoder_writes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/events");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == "expected.json" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        let variant = match json["eventSource"].as_str() {
            Some("aws:kafka") => EventVariant::Msk,
            // One fixture spells it as some mappings do; the encoder
            // writes the other spelling, which is swapped below.
            Some("SelfManagedKafka" | "aws:SelfManagedKafka") => EventVariant::SelfManaged,
            other => panic!("{}: eventSource {other:?}", path.display()),
        };
        let source = EventSource {
            variant,
            event_source_arn: json["eventSourceArn"].as_str().unwrap_or("").to_owned(),
            bootstrap_servers: json["bootstrapServers"].as_str().unwrap().to_owned(),
        };
        let records: Vec<FromFile<'_>> = json["records"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|batch| batch.as_array().unwrap())
            .map(FromFile)
            .collect();
        assert!(!records.is_empty(), "{}", path.display());
        let mut encoded = String::from_utf8(encode(&source, &records)).unwrap();
        if json["eventSource"] == "aws:SelfManagedKafka" {
            encoded = encoded.replacen(
                r#""eventSource":"SelfManagedKafka""#,
                r#""eventSource":"aws:SelfManagedKafka""#,
                1,
            );
        }
        assert_eq!(
            text.trim_end(),
            encoded,
            "{}: rebuild it with `make fixtures`",
            path.display()
        );
        checked += 1;
    }
    assert_eq!(checked, 4, "the four fixture events");
}
