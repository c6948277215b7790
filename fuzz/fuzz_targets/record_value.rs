//! Any bytes as one record's value inside a well-formed event: the event
//! always decodes, and the record ends as exactly one row (only ever from
//! a JSON object) or one dead letter with a known reason. The first input
//! byte picks the topic (one of the three, or an unknown one).
//!
//! The fast readers are held to the reference ones on the same bytes: the
//! log reader (`logs::to_row`) to serde_json alone (`to_row_by_reference`),
//! outcome for outcome; `invalid_json` to a second, recursive reading of
//! every value by serde_json; and the SIMD base64 decoder, on the bytes
//! read as base64 text, to the `base64` crate.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use logpipe_core::batch::{process_event, process_payload};
use logpipe_core::event::decode_event;
use logpipe_core::logs::{self, Position};
use logpipe_core::record::{decode_base64_by_reference, decode_base64_fast};
use logpipe_core::{LogKind, ReasonCode};
use logpipe_fuzz::{check_batch, router};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, value)) = data.split_first() else {
        return;
    };
    let topic = match pick % 4 {
        0 => LogKind::Auth.default_topic(),
        1 => LogKind::Session.default_topic(),
        2 => LogKind::Activity.default_topic(),
        _ => "some_other_topic",
    };
    if let Ok(text) = std::str::from_utf8(value) {
        // The bytes as a log, through both readers.
        let kind = LogKind::ALL[usize::from(pick) % 3];
        let at = Position {
            partition: 4,
            offset: 77,
            timestamp_ms: None,
        };
        let fast = logs::to_row(kind, text, at);
        assert_eq!(
            fast,
            logs::to_row_by_reference(kind, text, at),
            "the fast and reference log readers differ"
        );
        if let Some(json) = logpipe_core::json::check_by_recursion(text) {
            let invalid = matches!(&fast, Err(e) if e.reason == ReasonCode::InvalidJson);
            assert_eq!(
                invalid,
                json.is_err(),
                "invalid_json differs from serde_json's reading: {fast:?} vs {json:?}"
            );
        }
        // The bytes as base64 text, through both decoders.
        assert_eq!(
            decode_base64_fast(text),
            decode_base64_by_reference(text),
            "the SIMD and reference base64 decoders differ"
        );
    }
    let value = base64::engine::general_purpose::STANDARD.encode(value);
    let payload = format!(
        r#"{{"eventSource":"aws:kafka","records":{{"{topic}-4":[{{"topic":"{topic}","partition":4,"offset":77,"timestamp":1795615200123,"timestampType":"CREATE_TIME","key":null,"value":"{value}","headers":[]}}]}}}}"#
    );
    let router = router();
    let event = decode_event(payload.as_bytes()).expect("a well-formed event decodes");
    let places = logpipe_fuzz::places(&event).expect("its records are valid");
    assert_eq!(places.len(), 1);
    let a = process_event(&router, &event).expect("a well-formed event is processed");
    let b = process_payload(&router, payload.as_bytes()).expect("a well-formed event is processed");
    check_batch(&places, &a);
    check_batch(&places, &b);
    assert_eq!(a.summary(), b.summary());
    if !a.rows.is_empty() {
        // Valid JSON that opens with `{` is an object. (Not read as a
        // `serde_json::Value`, which refuses numbers past f64's range that
        // JSON's grammar allows and an unknown field may hold.)
        let json = serde_json::from_slice::<serde::de::IgnoredAny>(&data[1..]);
        let first = data[1..].iter().find(|b| !b" \t\n\r".contains(b));
        assert!(
            json.is_ok() && first == Some(&b'{'),
            "a row came from something other than a JSON object"
        );
        assert_ne!(topic, "some_other_topic", "a row from an unrouted topic");
    }
});
