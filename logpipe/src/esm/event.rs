//! Kafka records → the AWS Lambda Kafka event a function receives. The
//! event is written by the project's one encoder (`logpipe_contract::event`,
//! re-exported here): `records` keyed `"<topic>-<partition>"`, key and
//! value base64, headers as one-entry objects of (signed) byte values,
//! `timestamp` a number of epoch milliseconds, `eventSourceArn` only on MSK
//! events, and a size known to the byte before it is written, so a batch
//! is cut at Lambda's 6 MB limit ([`split_by_payload`]).

pub use logpipe_contract::event::{
    encode as to_payload, payload_len, records_key, split_by_payload, EventSource,
    Record as PolledRecord, TimestampType,
};

/// Lambda's limit on a synchronous invocation payload (6 MB).
pub const MAX_PAYLOAD_BYTES: usize = logpipe_contract::limits::MAX_EVENT_BYTES;

#[cfg(test)]
mod tests {
    use super::*;
    use logpipe_contract::event::EventVariant;
    use logpipe_core::batch::process_payload;
    use logpipe_core::Router;
    use serde_json::Value;
    use std::sync::Arc;

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
    fn events_have_the_shape_of_the_fixtures_and_decode() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/events/");
        for (variant, fixture) in [
            (EventVariant::Msk, "msk_auth_mixed.json"),
            (EventVariant::SelfManaged, "self_managed_session_mixed.json"),
        ] {
            let want: Value =
                serde_json::from_slice(&std::fs::read(format!("{root}{fixture}")).unwrap())
                    .unwrap();
            let payload = to_payload(&source(variant), &variety()[..1]);
            let got: Value = serde_json::from_slice(&payload).unwrap();
            assert_eq!(shape(&got), shape(&want), "{fixture}");
            assert_eq!(
                got["records"]["user_auth_logs-0"][0]["timestamp"],
                1_767_225_600_123i64
            );
            assert_eq!(
                got["records"]["user_auth_logs-0"][0]["headers"][1]["producer-id"],
                serde_json::json!([-1, -128, 127, 0])
            );
            // The functions' decoder reads it back: one dead letter (the
            // value is not a log), its Kafka timestamp exact.
            let batch = process_payload(&Router::all_default("esm"), &payload).unwrap();
            assert_eq!(batch.dead_letters.len(), 1);
            let dl = &batch.dead_letters[0];
            assert_eq!(dl.offset, 0);
            assert_eq!(
                dl.record_timestamp.0.map(|t| t.0),
                Some(1_767_225_600_123),
                "exact to the millisecond"
            );
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
        let json: Value =
            serde_json::from_slice(&to_payload(&source(EventVariant::Msk), &records)).unwrap();
        let keys: Vec<&String> = json["records"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "user_auth_logs-0",
                "user_auth_logs-11",
                "user_auth_logs-2",
                "user_auth_logs-3"
            ]
        );
        assert_eq!(
            json["records"]["user_auth_logs-0"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert_eq!(json["eventSource"], "aws:kafka");
        let json: Value =
            serde_json::from_slice(&to_payload(&source(EventVariant::SelfManaged), &records))
                .unwrap();
        assert_eq!(json["eventSource"], "SelfManagedKafka");
        assert!(json.get("eventSourceArn").is_none());
        assert!(json["records"]["user_auth_logs-0"][1]["value"].is_null());
        // Every record reads back through the functions' decoder, in
        // topic, partition and offset order.
        let batch = process_payload(
            &Router::all_default("esm"),
            &to_payload(&source(EventVariant::Msk), &records),
        )
        .unwrap();
        let mut offsets: Vec<(i32, i64)> = batch
            .dead_letters
            .iter()
            .map(|d| (d.partition, d.offset))
            .collect();
        offsets.sort();
        let mut want: Vec<(i32, i64)> = records.iter().map(|r| (r.partition, r.offset)).collect();
        want.sort();
        assert_eq!(offsets, want);
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
