//! Property tests of the hot path: any bytes as a record value end in
//! exactly one outcome without a panic, and valid logs always round-trip to
//! rows carrying their values.

use std::collections::BTreeMap;

use logpipe_core::column::Text;
use logpipe_core::logs::{self, LogRow, Position};
use logpipe_core::record::{
    classify, encode_base64, KafkaRecordRef, Outcome, DEAD_LETTER_VALUE_BYTES,
};
use logpipe_core::{LogKind, ReasonCode};
use proptest::prelude::*;

fn record(value: Option<&str>) -> KafkaRecordRef<'_> {
    KafkaRecordRef {
        topic: "user_activity_logs",
        partition: 0,
        offset: 7,
        timestamp_ms: 1_795_615_200_000,
        key: None,
        value,
    }
}

/// What every row keeps of its log and its record: the user, the log's
/// time, the Kafka partition and offset, and the write time.
fn common_columns(row: &LogRow) -> (&str, i64, i32, i64, i64) {
    macro_rules! columns {
        ($r:expr) => {
            (
                &*$r.user_id,
                $r.event_time.0,
                $r.source_partition,
                $r.source_offset,
                $r.write_time,
            )
        };
    }
    match row {
        LogRow::Auth(r) => columns!(r),
        LogRow::Session(r) => columns!(r),
        LogRow::Activity(r) => columns!(r),
    }
}

/// User ids the validators accept.
const USER_IDS: &str = "[a-zA-Z0-9_-]{1,128}";

/// Log times the validators accept, in ms: from 2000 to 2100.
const LOG_TIMES_MS: std::ops::Range<i64> = 946_684_800_000..4_102_444_800_000;

/// The row of the valid `log` of `kind` read at `partition` and `offset`
/// with no Kafka timestamp, once its common columns are checked: the log's
/// user and time, that place, and the log's own time as the write time
/// (microseconds plus the offset's last three digits).
fn valid_row(
    kind: LogKind,
    log: &serde_json::Value,
    partition: i32,
    offset: i64,
) -> Result<LogRow, TestCaseError> {
    let at = Position {
        partition,
        offset,
        timestamp_ms: None,
    };
    let row = logs::to_row(kind, &log.to_string(), at)
        .map_err(|e| TestCaseError::fail(format!("valid log refused: {e:?}")))?;
    prop_assert_eq!(row.kind(), kind);
    let (user, ms) = (
        log["user_id"].as_str().unwrap_or_default(),
        log["timestamp"].as_i64().unwrap_or_default(),
    );
    prop_assert_eq!(
        common_columns(&row),
        (user, ms, partition, offset, ms * 1000 + offset % 1000)
    );
    Ok(row)
}

fn kind_strategy() -> impl Strategy<Value = LogKind> {
    prop_oneof![
        Just(LogKind::Auth),
        Just(LogKind::Session),
        Just(LogKind::Activity)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_bytes_end_as_one_outcome(bytes in proptest::collection::vec(any::<u8>(), 0..2048), kind in kind_strategy()) {
        let encoded = encode_base64(&bytes);
        match classify(Some(kind), kind.function_name(), &record(Some(&encoded))) {
            Outcome::Row(row) => {
                prop_assert_eq!(row.kind(), kind);
                // Only a JSON object can become a row.
                let v: serde_json::Value = serde_json::from_slice(&bytes).expect("a row came from JSON");
                prop_assert!(v.is_object());
            }
            Outcome::DeadLetter(d) => {
                prop_assert!(ReasonCode::parse(d.reason).is_some());
                prop_assert!(!d.detail.is_empty());
                let kept = &bytes[..bytes.len().min(DEAD_LETTER_VALUE_BYTES)];
                if bytes.is_empty() {
                    prop_assert_eq!(d.reason, "empty_value");
                } else {
                    prop_assert_eq!(d.value.0.as_deref(), Some(kept));
                }
            }
        }
    }

    #[test]
    fn any_text_as_base64_never_panics(text in "\\PC{0,300}", kind in kind_strategy()) {
        let outcome = classify(Some(kind), "f", &record(Some(&text)));
        if let Outcome::DeadLetter(d) = outcome {
            prop_assert!(ReasonCode::parse(d.reason).is_some());
        }
    }

    #[test]
    fn json_objects_with_any_fields_never_panic(
        fields in proptest::collection::btree_map("[a-z_]{1,12}", any_json(), 0..12),
        kind in kind_strategy(),
    ) {
        let text = serde_json::Value::Object(fields.into_iter().collect()).to_string();
        let _ = logs::to_row(kind, &text, Position { partition: 0, offset: 0, timestamp_ms: None });
    }

    #[test]
    fn valid_activity_logs_round_trip_to_rows(
        user in USER_IDS,
        ms in LOG_TIMES_MS,
        action in prop::sample::select(logs::ACTIONS),
        resource in "/[a-z0-9/]{0,100}",
        duration in proptest::option::of(0i64..=86_400_000),
        metadata in proptest::collection::btree_map("[a-z]{1,8}", "[ -~]{0,16}", 0..6),
        event_id in any::<u128>().prop_map(uuid::Uuid::from_u128),
    ) {
        let mut log = serde_json::json!({
            "event_id": event_id.to_string(),
            "user_id": user,
            "timestamp": ms,
            "action": action.to_uppercase(),
            "resource": resource,
            "metadata": metadata,
        });
        if let Some(d) = duration {
            log["duration_ms"] = d.into();
        }
        let LogRow::Activity(row) = valid_row(LogKind::Activity, &log, 3, 9)? else {
            unreachable!("valid_row checks the kind");
        };
        prop_assert_eq!(row.event_id, event_id);
        prop_assert_eq!(row.action, action);
        prop_assert_eq!(row.resource, resource);
        prop_assert_eq!(row.duration_ms.0, duration);
        let metadata: BTreeMap<Text, Text> =
            metadata.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        prop_assert_eq!(row.metadata.0, Some(metadata.into()));
    }

    #[test]
    fn valid_auth_logs_round_trip_to_rows(
        user in USER_IDS,
        ms in LOG_TIMES_MS,
        event_type in prop::sample::select(logs::AUTH_EVENT_TYPES),
        success in any::<bool>(),
        ip in any::<std::net::IpAddr>(),
        method in proptest::option::of(prop::sample::select(logs::AUTH_METHODS)),
        event_id in any::<u128>().prop_map(uuid::Uuid::from_u128),
    ) {
        let mut log = serde_json::json!({
            "event_id": event_id.to_string(),
            "user_id": user,
            "timestamp": ms,
            "event_type": event_type.to_uppercase(),
            "success": success,
            "ip_address": ip.to_string(),
        });
        if let Some(m) = method {
            log["auth_method"] = m.into();
        }
        let LogRow::Auth(row) = valid_row(LogKind::Auth, &log, 1, 2)? else {
            unreachable!("valid_row checks the kind");
        };
        prop_assert_eq!(row.event_id, event_id);
        prop_assert_eq!(row.event_type, event_type);
        prop_assert_eq!(row.success, success);
        prop_assert_eq!(row.ip_address, ip);
        prop_assert_eq!(row.auth_method.0, method);
    }

    #[test]
    fn valid_session_logs_round_trip_to_rows(
        user in USER_IDS,
        ms in LOG_TIMES_MS,
        event_type in prop::sample::select(logs::SESSION_EVENT_TYPES),
        duration in proptest::option::of(0i64..=logs::MAX_SESSION_DURATION_MS),
        pages in proptest::option::of(0i64..=logs::MAX_PAGES_VIEWED),
        session_id in any::<u128>().prop_map(uuid::Uuid::from_u128),
    ) {
        let mut log = serde_json::json!({
            "session_id": session_id.to_string().to_uppercase(),
            "user_id": user,
            "timestamp": ms,
            "event_type": event_type,
        });
        if let Some(d) = duration {
            log["duration_ms"] = d.into();
        }
        if let Some(p) = pages {
            log["pages_viewed"] = p.into();
        }
        let LogRow::Session(row) = valid_row(LogKind::Session, &log, 0, 5)? else {
            unreachable!("valid_row checks the kind");
        };
        prop_assert_eq!(row.session_id, session_id);
        prop_assert_eq!(row.event_type, event_type);
        prop_assert_eq!(row.duration_ms.0, duration);
        prop_assert_eq!(row.pages_viewed.0.map(i64::from), pages);
    }

    /// Any record's row or dead letter carries the write time of the
    /// record: its Kafka timestamp in microseconds plus the offset's last
    /// three digits; without a Kafka timestamp, the log's own time (a row)
    /// or 0 (a dead letter) the same way. Dead letters are filed under the
    /// Kafka timestamp's day, with the timestamp exact.
    #[test]
    fn every_outcome_carries_the_write_time_of_its_record(
        kafka in prop_oneof![Just(-1i64), 0i64..=8_210_266_876_799_999, 946_684_800_000i64..4_102_444_800_000],
        offset in prop_oneof![0i64..5_000, 0i64..=i64::MAX],
        valid in any::<bool>(),
    ) {
        let log = r#"{"event_id":"c91b424a-4e0f-4805-a58d-5d7788a8c480","user_id":"u","timestamp":1795615800220,"action":"click","resource":"/a"}"#;
        let value = encode_base64(if valid { log.as_bytes() } else { b"{}" });
        let record = KafkaRecordRef {
            offset,
            timestamp_ms: kafka,
            ..record(Some(&value))
        };
        let micros = |ms: i64| ms * 1000 + offset % 1000;
        match classify(Some(LogKind::Activity), "f", &record) {
            Outcome::Row(row) => {
                prop_assert!(valid);
                let want = if kafka < 0 { micros(1_795_615_800_220) } else { micros(kafka) };
                prop_assert_eq!(row.write_time(), want);
            }
            Outcome::DeadLetter(d) => {
                prop_assert!(!valid);
                prop_assert_eq!(d.write_time, micros(kafka.max(0)));
                prop_assert_eq!(d.record_timestamp.0.map(|t| t.0), (kafka >= 0).then_some(kafka));
                prop_assert_eq!(d.day, logs::day_of(kafka.max(0)));
            }
        }
    }
}

/// JSON-ish text as producers might (mis)write it: the fields each kind
/// reads, unknown ones, nested objects and arrays, names given twice,
/// escapes (surrogate pairs, lone halves), numbers of every spelling and
/// size, and, now and then, a broken token.
fn jsonish() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec![
        "user_id",
        "timestamp",
        "event_id",
        "session_id",
        "event_type",
        "action",
        "resource",
        "success",
        "ip_address",
        "geo",
        "country",
        "city",
        "device",
        "type",
        "os",
        "metadata",
        "duration_ms",
        "pages_viewed",
        "x",
        "y",
        "\\u0078",
        "\\ud83d\\ude00",
        "\\ud800",
    ])
    .prop_map(|n| format!("\"{n}\""));
    let leaf = prop::sample::select(vec![
        "null",
        "true",
        "false",
        "0",
        "-0",
        "1",
        "-1",
        "1.5",
        "1.0",
        "1e400",
        "-1e400",
        "2e-400",
        "99999999999999999999",
        "-99999999999999999999",
        "1795615800220",
        "2592000000",
        "\"u\"",
        "\"\"",
        "\" login \"",
        "\"LOGIN\"",
        "\"\\u00a0login\"",
        "\"click\"",
        "\"2026-11-25T14:00:00Z\"",
        "\"2026-11-25 14:00:00.123456789z\"",
        "\"2026-11-25T23:59:60Z\"",
        "\"2026-11-25T14:00:00\"",
        "\"::1\"",
        "\"de\"",
        "\"6f9619ff-8b86-4011-b42d-00c04fc964ff\"",
        "\"\\ud83d\\ude00\"",
        "\"\\ud800\"",
        "\"\\udc00x\"",
        "\"a\\\"b\"",
        "01",
        "1.",
        "tru",
        "\"\t\"",
    ])
    .prop_map(str::to_owned);
    leaf.prop_recursive(4, 40, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4)
                .prop_map(|v| format!("[{}]", v.join(","))),
            proptest::collection::vec((name.clone(), inner), 0..7).prop_map(|members| {
                let members: Vec<String> = members
                    .into_iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect();
                format!("{{{}}}", members.join(","))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The fast reader and the reference reader give every value the same
    /// outcome (the same row, or the same reason and detail), and it is
    /// `invalid_json` exactly when a second reading of every value by
    /// serde_json (names gathered per object, strings read) says it is
    /// not JSON.
    #[test]
    fn both_readers_give_any_value_the_same_outcome(
        text in jsonish(),
        kind in kind_strategy(),
        with_required in any::<bool>(),
    ) {
        // Half the objects start with the fields their kind requires, so
        // that rows come out too.
        let text = match text.strip_prefix('{') {
            Some(rest) if with_required => {
                let required = match kind {
                    LogKind::Auth => r#""event_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff","user_id":"u","timestamp":1795615800220,"event_type":"login","success":true,"ip_address":"::1""#,
                    LogKind::Session => r#""session_id":"e6fd60d6-363b-4289-8f42-488a98bbf7a0","user_id":"u","timestamp":1795615800220,"event_type":"heartbeat""#,
                    LogKind::Activity => r#""event_id":"c91b424a-4e0f-4805-a58d-5d7788a8c480","user_id":"u","timestamp":1795615800220,"action":"click","resource":"/a""#,
                };
                let comma = if rest == "}" { "" } else { "," };
                format!("{{{required}{comma}{rest}")
            }
            _ => text,
        };
        let at = Position { partition: 0, offset: 0, timestamp_ms: None };
        let fast = logs::to_row(kind, &text, at);
        prop_assert_eq!(&fast, &logs::to_row_by_reference(kind, &text, at), "{}", text);
        if let Some(json) = logpipe_core::json::check_by_recursion(&text) {
            let invalid = matches!(&fast, Err(e) if e.reason == ReasonCode::InvalidJson);
            prop_assert_eq!(invalid, json.is_err(), "{} {:?} {:?}", text, fast, json);
        }
    }
}

fn any_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        "\\PC{0,40}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map("[a-z_]{1,10}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
