//! Whole invocation payloads that are not (good) Kafka events, large ones
//! included: each is refused with an error that says what is wrong, or its
//! records each end as exactly one row or dead letter. Nothing panics and
//! nothing overflows the stack. (Lambda itself refuses payloads over 6 MB;
//! the handler must not depend on that.)

use base64::Engine as _;
use logpipe_core::batch::{process_payload, ProcessedBatch};
use logpipe_core::Router;

/// The handler's path from payload to batch.
fn process(payload: &[u8]) -> Result<ProcessedBatch, String> {
    process_payload(&Router::all_default("test"), payload).map_err(|e| e.to_string())
}

fn record(offset: usize, value: &str) -> String {
    format!(
        r#"{{"topic":"user_auth_logs","partition":0,"offset":{offset},"timestamp":1795615200123,"timestampType":"CREATE_TIME","key":null,"value":"{value}","headers":[]}}"#
    )
}

fn event(records: &[String]) -> String {
    format!(
        r#"{{"eventSource":"aws:kafka","records":{{"user_auth_logs-0":[{}]}}}}"#,
        records.join(",")
    )
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

const AUTH: &str = r#"{"event_id":"50a74cff-026f-4c84-aa8f-f5f8d837115f","user_id":"user-0001","timestamp":"2026-11-25T17:23:22.600Z","event_type":"login","success":true,"ip_address":"198.51.100.7"}"#;

#[test]
fn not_events_are_refused_with_an_error_naming_the_problem() {
    let deep = "[".repeat(1_000_000);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"".to_vec(), "not a Kafka event"),
        (b"\xff\xfe\x00".to_vec(), "not a Kafka event"),
        (b"[1,2,3]".to_vec(), "not a Kafka event"),
        (b"\"records\"".to_vec(), "not a Kafka event"),
        (br#"{"records":{}}"#.to_vec(), "eventSource is absent"),
        (
            br#"{"eventSource":"aws:kafka","records":{"t-0":{}}}"#.to_vec(),
            "not a Kafka event",
        ),
        (
            br#"{"eventSource":"aws:kafka","records":{"t-0":[{"partition":0}]}}"#.to_vec(),
            "not a Kafka event",
        ),
        // Nesting a recursive parser would overflow the stack on.
        (deep.into_bytes(), "not a Kafka event"),
        // Cut short, at 7 MB.
        (
            {
                let mut big = event(&vec![record(0, &b64(AUTH.as_bytes())); 30_000]).into_bytes();
                big.truncate(7 << 20);
                assert!(
                    big.len() == 7 << 20,
                    "the event is over 7 MB before the cut"
                );
                big
            },
            "not a Kafka event",
        ),
    ];
    for (payload, want) in cases {
        let err = process(&payload).expect_err("refused");
        assert!(
            err.contains(want),
            "{err:?} does not say {want:?} (payload of {} bytes)",
            payload.len()
        );
    }
}

#[test]
fn an_event_with_no_records_is_an_empty_batch() {
    for payload in [
        r#"{"eventSource":"aws:kafka"}"#,
        r#"{"eventSource":"SelfManagedKafka","records":null}"#,
        r#"{"eventSource":"aws:kafka","records":{}}"#,
    ] {
        let batch = process(payload.as_bytes()).unwrap();
        assert_eq!(batch.summary().records, 0, "{payload}");
    }
}

#[test]
fn an_event_over_6_mb_is_processed_record_by_record() {
    // 20,000 records, every tenth of them bad: about 8 MB.
    let good = b64(AUTH.as_bytes());
    let bad = b64(b"{\"user_id\": 5}");
    let records: Vec<String> = (0..20_000)
        .map(|i| record(i, if i % 10 == 0 { &bad } else { &good }))
        .collect();
    let payload = event(&records);
    assert!(payload.len() > 6 << 20, "{} bytes", payload.len());
    let batch = process(payload.as_bytes()).unwrap();
    let s = batch.summary();
    assert_eq!(
        (s.records, s.written, s.dead_lettered),
        (20_000, 18_000, 2_000)
    );
}

#[test]
fn a_single_record_over_6_mb_is_dead_lettered_as_too_large() {
    let value = format!(r#"{{"pad":"{}"}}"#, "x".repeat(7 << 20));
    let payload = event(&[
        record(0, &b64(value.as_bytes())),
        record(1, &b64(AUTH.as_bytes())),
    ]);
    let batch = process(payload.as_bytes()).unwrap();
    assert_eq!(batch.rows.len(), 1);
    assert_eq!(batch.dead_letters.len(), 1);
    let d = &batch.dead_letters[0];
    assert_eq!((d.offset, d.reason), (0, "too_large"));
    // The dead letter keeps a bounded prefix of the value, not all of it.
    let kept = d.value.0.as_ref().map_or(0, Vec::len);
    assert!(kept < 1 << 20, "{kept} bytes kept");
}

/// Logs nested as deep as a 256 KiB value allows, in an unknown field and
/// in known ones: each record ends as one outcome, on the stack Lambda's
/// runtime threads have (2 MiB, as here), with no overflow. Nesting is not
/// limited: a name given twice or a lone surrogate is found at any depth.
#[test]
fn deeply_nested_logs_end_as_one_outcome_each() {
    let depth = 120_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(depth / 5), "}".repeat(depth / 5));
    let with =
        |field: &str, value: &str| format!(r#"{},"{field}":{value}}}"#, AUTH.trim_end_matches('}'));
    let cases = [
        // An unknown field is skipped, however deep: the log is written.
        (with("extra", &arrays), None),
        (with("extra", &objects), None),
        // A known object is read for the members it takes, and the rest
        // of it is skipped, however deep; those members are read one
        // level deep.
        (with("geo", &arrays), Some("invalid_field")),
        (with("geo", &objects), None),
        (
            with("geo", &format!(r#"{{"city":{objects}}}"#)),
            Some("invalid_field"),
        ),
        (arrays.clone(), Some("not_an_object")),
        // Deep down, a name twice or a lone surrogate is not JSON, in an
        // unknown field or a known one, in an object or not.
        (
            with("extra", &objects.replacen("1", r#"{"k":1,"k":2}"#, 1)),
            Some("invalid_json"),
        ),
        (
            with("geo", &objects.replacen("1", r#"["\udc00"]"#, 1)),
            Some("invalid_json"),
        ),
        (
            arrays.replacen("[]", r#"[{"a":"\ud800"}]"#, 1),
            Some("invalid_json"),
        ),
    ];
    let records: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, (log, _))| record(i, &b64(log.as_bytes())))
        .collect();
    let batch = process(event(&records).as_bytes()).expect("an event");
    assert_eq!(batch.rows.len() + batch.dead_letters.len(), cases.len());
    for (offset, (_, want)) in cases.iter().enumerate() {
        let got = batch
            .dead_letters
            .iter()
            .find(|d| d.offset == offset as i64)
            .map(|d| d.reason);
        assert_eq!(got, *want, "record {offset}");
    }
}
