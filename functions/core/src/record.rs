//! One Kafka record → one outcome: a log row, or a dead letter with its
//! reason. Pure: no I/O, so the whole hot path is testable and benchmarkable.

use crate::column::Opt;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};
use scylla::value::CqlTimestamp;
use scylla::SerializeRow;

use crate::logs::{self, LogRow, Position};
use crate::reason::{ReasonCode, Rejection};
use crate::topics::LogKind;

/// Largest decoded value that is parsed: 256 KiB.
pub const MAX_VALUE_BYTES: usize = 262_144;
/// How much of a bad value `dead_letters.value` keeps: 64 KiB.
pub const DEAD_LETTER_VALUE_BYTES: usize = 65_536;

/// Standard base64, padding optional (producers differ).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A record as the event carries it, borrowed from the decoded event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KafkaRecordRef<'a> {
    /// The topic it was read from.
    pub topic: &'a str,
    /// Kafka partition.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
    /// The record's Kafka timestamp, epoch milliseconds.
    pub timestamp_ms: i64,
    /// Base64 key, if any.
    pub key: Option<&'a str>,
    /// Base64 value, if any.
    pub value: Option<&'a str>,
}

/// A row of `dead_letters`: a record that could not be stored as a log.
#[derive(Debug, Clone, PartialEq, SerializeRow)]
pub struct DeadLetterRow {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub record_timestamp: CqlTimestamp,
    pub reason: &'static str,
    pub detail: String,
    pub function: String,
    pub key: Opt<Vec<u8>>,
    pub value: Opt<Vec<u8>>,
}

/// The columns of `dead_letters`, in schema order.
pub const DEAD_LETTER_COLUMNS: &[&str] = &[
    "topic",
    "partition",
    "offset",
    "record_timestamp",
    "reason",
    "detail",
    "function",
    "key",
    "value",
];

/// What became of one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A valid log, to be written to its table.
    Row(LogRow),
    /// A bad record, to be written to `dead_letters`.
    DeadLetter(DeadLetterRow),
}

/// Decodes and validates `record` as a log of `kind` (`None`: the record's
/// topic has no owner, so it is `wrong_topic`). `function` names the
/// function that handled it, for the dead-letter row.
pub fn classify(kind: Option<LogKind>, function: &str, record: &KafkaRecordRef<'_>) -> Outcome {
    classify_into(kind, function, record, &mut Vec::new())
}

/// [`classify`], decoding the base64 value into `scratch` (cleared first)
/// so that a batch reuses one buffer instead of allocating one a record.
pub fn classify_into(
    kind: Option<LogKind>,
    function: &str,
    record: &KafkaRecordRef<'_>,
    scratch: &mut Vec<u8>,
) -> Outcome {
    scratch.clear();
    let result = match kind {
        None => Err(Rejection::new(
            ReasonCode::WrongTopic,
            format!(
                "topic `{}` is not consumed by function `{function}`",
                record.topic
            ),
        )),
        Some(kind) => decode_value(record.value, scratch).and_then(|text| {
            let at = Position {
                partition: record.partition,
                offset: record.offset,
            };
            logs::to_row(kind, text, at)
        }),
    };
    match result {
        Ok(row) => Outcome::Row(row),
        Err(rejection) => Outcome::DeadLetter(dead_letter(function, record, rejection, scratch)),
    }
}

/// Runs the value checks in order: empty, base64, size, UTF-8. The decoded
/// bytes are left in `buf` (empty if the value is not base64) so a dead
/// letter can keep them.
fn decode_value<'b>(value: Option<&str>, buf: &'b mut Vec<u8>) -> Result<&'b str, Rejection> {
    let encoded = match value {
        None | Some("") => {
            return Err(Rejection::new(
                ReasonCode::EmptyValue,
                "record value is absent, null or empty",
            ))
        }
        Some(v) => v,
    };
    if let Err(e) = decode_base64(encoded, buf) {
        buf.clear();
        return Err(Rejection::new(
            ReasonCode::InvalidBase64,
            format!("record value is not valid base64: {e}"),
        ));
    }
    if buf.is_empty() {
        return Err(Rejection::new(
            ReasonCode::EmptyValue,
            "record value decodes to zero bytes",
        ));
    }
    if buf.len() > MAX_VALUE_BYTES {
        return Err(Rejection::new(
            ReasonCode::TooLarge,
            format!(
                "record value is {} bytes, more than the {MAX_VALUE_BYTES} allowed",
                buf.len()
            ),
        ));
    }
    std::str::from_utf8(buf).map_err(|e| {
        Rejection::new(
            ReasonCode::InvalidUtf8,
            format!("record value is not UTF-8: {e}"),
        )
    })
}

/// Decodes standard base64, padded or not, appending to `out` (empty).
///
/// The SIMD decoder (`base64-simd`, AVX2/SSE4.1/NEON picked at run time)
/// takes the common case; whatever it refuses is decoded again by the
/// `base64` crate's [`BASE64`] engine, which is the definition of what is
/// accepted and gives the error message.
fn decode_base64(encoded: &str, out: &mut Vec<u8>) -> Result<(), base64::DecodeError> {
    let fast = if encoded.len().is_multiple_of(4) {
        base64_simd::STANDARD
    } else {
        base64_simd::STANDARD_NO_PAD
    };
    if fast.decode_append(encoded, out).is_ok() {
        return Ok(());
    }
    out.clear();
    BASE64.decode_vec(encoded, out)
}

fn dead_letter(
    function: &str,
    record: &KafkaRecordRef<'_>,
    rejection: Rejection,
    decoded: &[u8],
) -> DeadLetterRow {
    // Keep the decoded bytes; for a value that is not base64, the text as
    // received is all there is.
    let value = if !decoded.is_empty() {
        Some(decoded[..decoded.len().min(DEAD_LETTER_VALUE_BYTES)].to_vec())
    } else {
        record.value.filter(|v| !v.is_empty()).map(|v| {
            let mut bytes = BASE64.decode(v).unwrap_or_else(|_| v.as_bytes().to_vec());
            bytes.truncate(DEAD_LETTER_VALUE_BYTES);
            bytes
        })
    };
    let key = record
        .key
        .map(|k| BASE64.decode(k).unwrap_or_else(|_| k.as_bytes().to_vec()));
    DeadLetterRow {
        topic: record.topic.to_owned(),
        partition: record.partition,
        offset: record.offset,
        record_timestamp: CqlTimestamp(record.timestamp_ms),
        reason: rejection.reason.as_str(),
        detail: rejection.detail,
        function: function.to_owned(),
        key: Opt(key),
        value: Opt(value),
    }
}

/// Base64-encodes bytes the way Kafka events carry them.
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::LogRow;

    fn reference_base64(text: &str) -> Result<Vec<u8>, String> {
        BASE64.decode(text).map_err(|e| e.to_string())
    }

    fn fast_base64(text: &str) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        decode_base64(text, &mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn the_simd_base64_decoder_agrees_with_the_reference_on_edge_cases() {
        for text in [
            "",
            "=",
            "==",
            "A",
            "AA",
            "AA=",
            "AA==",
            "AA===",
            "AAA",
            "AAA=",
            "AAAA",
            "AAAA=",
            "AB==",
            "AB",
            "AAB=",
            "AAB",
            "QQ==",
            "QR==",
            "QUI=",
            "QUJ=",
            "Zm9v",
            "Zm9vYg",
            "Zm9vYg==",
            "Zm9vYmE",
            "Zm9vYmE=",
            "Zm9v YmFy",
            "Zm9v\nYmFy",
            "Zm9v-_",
            "Zm9v+/",
            "=Zm9v",
            "Zm=9v",
            "Zm9v====",
            "Zm9vYmFyYmF6cXV4eHl6enoxMjM0NTY3ODkwQUJDREVGR0hJSktM",
        ] {
            assert_eq!(fast_base64(text), reference_base64(text), "{text:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// The SIMD decoder accepts exactly what the `base64` crate does,
        /// with the same bytes or the same message.
        #[test]
        fn the_simd_base64_decoder_agrees_with_the_reference(
            text in "[A-Za-z0-9+/=\\-_ .]{0,80}"
        ) {
            proptest::prop_assert_eq!(fast_base64(&text), reference_base64(&text));
        }

        /// Encoded bytes of any length, padded or not, decode back.
        #[test]
        fn the_simd_base64_decoder_reads_what_was_encoded(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            padded in proptest::prelude::any::<bool>(),
        ) {
            let mut text = encode_base64(&bytes);
            if !padded {
                text = text.trim_end_matches('=').to_owned();
            }
            proptest::prop_assert_eq!(fast_base64(&text), Ok(bytes));
        }
    }

    const AUTH: &str = r#"{"event_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff","user_id":"u1","timestamp":"2026-11-25T14:00:00.123Z","event_type":"login","success":true,"ip_address":"10.0.0.1"}"#;

    fn rec(value: Option<&str>) -> KafkaRecordRef<'_> {
        KafkaRecordRef {
            topic: "user_auth_logs",
            partition: 2,
            offset: 42,
            timestamp_ms: 1_795_615_200_000,
            key: Some("dTE="),
            value,
        }
    }

    fn reason_of(value: Option<&str>) -> &'static str {
        match classify(Some(LogKind::Auth), "auth-logs", &rec(value)) {
            Outcome::DeadLetter(d) => d.reason,
            Outcome::Row(r) => panic!("expected a dead letter, got {r:?}"),
        }
    }

    fn b64(s: &[u8]) -> String {
        encode_base64(s)
    }

    #[test]
    fn a_valid_record_becomes_a_row_with_its_position() {
        let v = b64(AUTH.as_bytes());
        let Outcome::Row(LogRow::Auth(row)) =
            classify(Some(LogKind::Auth), "auth-logs", &rec(Some(&v)))
        else {
            panic!("not an auth row")
        };
        assert_eq!(row.user_id, "u1");
        assert_eq!(row.event_time.0, 1_795_615_200_123);
        assert_eq!((row.source_partition, row.source_offset), (2, 42));
        assert_eq!(row.auth_method.0, None);
    }

    #[test]
    fn each_value_check_names_its_reason_in_order() {
        assert_eq!(reason_of(None), "empty_value");
        assert_eq!(reason_of(Some("")), "empty_value");
        assert_eq!(reason_of(Some("not base64!")), "invalid_base64");
        // Not base64 *and* huge: base64 is checked first.
        assert_eq!(reason_of(Some(&"!".repeat(400_000))), "invalid_base64");
        let huge = b64(&vec![b' '; MAX_VALUE_BYTES + 1]);
        assert_eq!(reason_of(Some(&huge)), "too_large");
        // Exactly the limit is parsed (and is then not JSON).
        let limit = b64(&vec![b' '; MAX_VALUE_BYTES]);
        assert_eq!(reason_of(Some(&limit)), "invalid_json");
        assert_eq!(reason_of(Some(&b64(b"\xff{}"))), "invalid_utf8");
        assert_eq!(reason_of(Some(&b64(b"{\"a\":"))), "invalid_json");
        assert_eq!(reason_of(Some(&b64(b"{} trailing"))), "invalid_json");
        assert_eq!(reason_of(Some(&b64(b"[1]"))), "not_an_object");
        assert_eq!(reason_of(Some(&b64(b"\"text\""))), "not_an_object");
        assert_eq!(reason_of(Some(&b64(b"null"))), "not_an_object");
        assert_eq!(reason_of(Some(&b64(b"{}"))), "missing_field");
        let no_offset = AUTH.replace(".123Z", ".123");
        assert_eq!(reason_of(Some(&b64(no_offset.as_bytes()))), "invalid_field");
    }

    #[test]
    fn an_unowned_topic_is_wrong_topic() {
        let v = b64(AUTH.as_bytes());
        let Outcome::DeadLetter(d) = classify(None, "auth-logs", &rec(Some(&v))) else {
            panic!("expected a dead letter")
        };
        assert_eq!(d.reason, "wrong_topic");
        assert!(d.detail.contains("user_auth_logs") && d.detail.contains("auth-logs"));
        assert_eq!(
            d.value.0.as_deref(),
            Some(AUTH.as_bytes()),
            "raw value kept"
        );
    }

    #[test]
    fn dead_letters_keep_key_and_at_most_64_kib_of_value() {
        let huge = b64(&vec![b'x'; MAX_VALUE_BYTES + 10]);
        let Outcome::DeadLetter(d) = classify(Some(LogKind::Auth), "auth-logs", &rec(Some(&huge)))
        else {
            panic!("expected a dead letter")
        };
        assert_eq!(
            d.value.0.as_ref().map(Vec::len),
            Some(DEAD_LETTER_VALUE_BYTES)
        );
        assert_eq!(d.key.0.as_deref(), Some(&b"u1"[..]));
        assert_eq!(
            (d.topic.as_str(), d.partition, d.offset),
            ("user_auth_logs", 2, 42)
        );
        assert_eq!(d.record_timestamp.0, 1_795_615_200_000);
        assert_eq!(d.function, "auth-logs");
        // A value that is not base64 is kept as the text received.
        let Outcome::DeadLetter(d) = classify(Some(LogKind::Auth), "auth-logs", &rec(Some("%%%")))
        else {
            panic!("expected a dead letter")
        };
        assert_eq!(d.value.0.as_deref(), Some(&b"%%%"[..]));
    }
}
