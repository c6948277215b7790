//! The fixture events through the handler's own path (`process_payload`,
//! the one decoder; no storage): every record ends as exactly one of
//! written or dead-lettered, with the reasons the fixtures were built to
//! trigger.

use std::collections::BTreeMap;
use std::path::PathBuf;

use logpipe_core::batch::process_payload;
use logpipe_core::{ReasonCode, Router};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/events")
}

#[test]
fn every_fixture_record_is_written_or_dead_lettered_for_the_expected_reason() {
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("expected.json")).unwrap()).unwrap();
    let expected = expected.as_object().unwrap();
    assert!(expected.len() >= 4, "fixtures missing: {expected:?}");
    let mut seen_reasons = BTreeMap::new();
    for (name, want) in expected {
        let bytes = std::fs::read(fixtures().join(format!("{name}.json"))).unwrap();
        let batch = process_payload(&Router::all_default("test"), &bytes)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let s = batch.summary();
        assert_eq!(s.records, s.written + s.dead_lettered, "{name}");
        assert_eq!(
            s.records,
            want["records"].as_u64().unwrap(),
            "{name}: records"
        );
        assert_eq!(
            s.dead_lettered,
            want["dead_lettered"].as_u64().unwrap(),
            "{name}: dead letters"
        );
        let reasons: BTreeMap<String, u64> = batch
            .reasons
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect();
        let want_reasons: BTreeMap<String, u64> =
            serde_json::from_value(want["dead_letter_reasons"].clone()).unwrap();
        assert_eq!(reasons, want_reasons, "{name}: reasons");
        for (r, n) in reasons {
            *seen_reasons.entry(r).or_insert(0) += n;
        }
    }
    // Together the fixtures exercise every reason code.
    for code in ReasonCode::ALL {
        assert!(
            seen_reasons.contains_key(code.as_str()),
            "no fixture triggers {code}"
        );
    }
}

#[test]
fn events_that_are_not_kafka_events_are_refused_with_a_reason() {
    for (payload, want) in [
        (&b"not json"[..], "not a Kafka event"),
        (br#"{"Records":[{"eventSource":"aws:sqs"}]}"#, "eventSource is absent"),
        (br#"{"eventSource":"aws:sqs","records":{}}"#, "eventSource is \"aws:sqs\""),
        (br#"{"eventSource":"aws:kafka","records":{"t-0":[{"partition":0}]}}"#, "not a Kafka event"),
        (br#"{"eventSource":"aws:kafka","records":{"t-0":[{"topic":"t","partition":4294967296,"offset":1,"timestamp":1,"headers":[]}]}}"#, "partition 4294967296"),
    ] {
        let err = process_payload(&Router::all_default("t"), payload).unwrap_err();
        assert!(err.to_string().contains(want), "{err} does not say {want}");
    }
    for source in ["aws:kafka", "SelfManagedKafka", "aws:SelfManagedKafka"] {
        let ok = format!(r#"{{"eventSource":"{source}","records":{{}}}}"#);
        assert!(
            process_payload(&Router::all_default("t"), ok.as_bytes()).is_ok(),
            "{source}"
        );
    }
}
