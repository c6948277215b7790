//! One Kafka record → one outcome: a log row, or a dead letter with its
//! reason. Pure: no I/O, so the whole hot path is testable and benchmarkable.

use std::borrow::Cow;

use crate::column::Optional;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};
use scylla::value::CqlTimestamp;

use crate::logs::{self, day_of, LogRow, Position};
use crate::reason::{ReasonCode, Rejection};
use crate::topics::LogKind;

pub use logpipe_contract::limits::{
    DEAD_LETTER_VALUE_BYTES, MAX_VALUE_BYTES, NO_TIMESTAMP, TOO_LARGE_VALUE_BYTES,
};

/// The write time (`USING TIMESTAMP`, microseconds) of a record's row:
/// the record's time in epoch milliseconds, times 1000, plus the last three
/// digits of its offset, so that of two records of one partition written in
/// the same millisecond the later one wins. Derived from the record only,
/// never from the clock: a retried or replayed write carries the same write
/// time, and an old capture replayed later never overwrites newer data.
pub fn write_time_micros(timestamp_ms: i64, offset: i64) -> i64 {
    timestamp_ms
        .saturating_mul(1000)
        .saturating_add(offset.rem_euclid(1000))
}

/// Standard base64 with its padding, which must be whole (`QQ==`, not
/// `QQ=`); trailing bits must be zero.
const PADDED: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Standard base64 without padding (producers differ); trailing bits must
/// be zero.
const UNPADDED: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::RequireNone),
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
    /// The record's Kafka timestamp, epoch milliseconds; negative (Kafka's
    /// -1, [`NO_TIMESTAMP`]) when it has none.
    pub timestamp_ms: i64,
    /// Base64 key, if any.
    pub key: Option<&'a str>,
    /// Base64 value, if any.
    pub value: Option<&'a str>,
}

impl KafkaRecordRef<'_> {
    /// The record's Kafka timestamp in epoch milliseconds, if it has one.
    pub fn timestamp(&self) -> Option<i64> {
        (self.timestamp_ms >= 0).then_some(self.timestamp_ms)
    }
}

/// The columns of `dead_letters`, in declaration order ([`crate::table`]).
pub const DEAD_LETTER_COLUMNS: &[&str] = crate::table::DEAD_LETTERS.columns;

pub use crate::rows::DeadLetterRow;

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
                timestamp_ms: record.timestamp(),
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

/// Decodes a record value's base64, appending to `out` (empty). What is
/// accepted:
///
/// - the standard alphabet (`+` and `/`; not the URL-safe `-` and `_`);
/// - padding whole (to a multiple of 4 characters) or missing, never in
///   part (`QQ==` and `QQ`, not `QQ=`);
/// - line breaks, as MIME wraps base64 (`\r\n` every 76 characters), or
///   bare `\n`, anywhere: they are skipped. Other white space, a bare
///   `\r` included, is not base64;
/// - the bits past the last whole byte must be zero (`QQ==`, not `QR==`):
///   each byte string has one encoding.
///
/// The SIMD decoder (`base64-simd`, AVX2/SSE4.1/NEON picked at run time)
/// takes the common case; whatever it refuses is decoded again by
/// [`decode_base64_by_reference`], the `base64` crate's decoder, which is
/// the definition of what is accepted and gives the error message. The
/// SIMD decoder refuses line breaks, partial padding and non-zero trailing
/// bits itself; tests hold the two to the same results.
fn decode_base64(encoded: &str, out: &mut Vec<u8>) -> Result<(), base64::DecodeError> {
    if simd_base64(encoded, out) {
        return Ok(());
    }
    out.clear();
    let joined = without_line_breaks(encoded);
    if matches!(joined, Cow::Owned(_)) {
        // MIME-wrapped: the lines, joined, are common base64 again.
        if simd_base64(&joined, out) {
            return Ok(());
        }
        out.clear();
    }
    reference_engine(&joined).decode_vec(&*joined, out)
}

/// The SIMD decoder: padded if the length is a multiple of 4, unpadded
/// otherwise (so a partial padding is refused); `true` if it decoded.
fn simd_base64(encoded: &str, out: &mut Vec<u8>) -> bool {
    let fast = if encoded.len().is_multiple_of(4) {
        base64_simd::STANDARD
    } else {
        base64_simd::STANDARD_NO_PAD
    };
    fast.decode_append(encoded, out).is_ok()
}

/// `encoded` without its line breaks (`\r\n` or `\n`).
fn without_line_breaks(encoded: &str) -> Cow<'_, str> {
    if !encoded.contains('\n') {
        return Cow::Borrowed(encoded);
    }
    Cow::Owned(
        encoded
            .split('\n')
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .collect(),
    )
}

/// The `base64` crate's decoder for `joined` (no line breaks): padding
/// whole if there is any.
fn reference_engine(joined: &str) -> &'static GeneralPurpose {
    if joined.ends_with('=') {
        &PADDED
    } else {
        &UNPADDED
    }
}

/// What a record value's base64 decodes to by the `base64` crate alone
/// (see [`decode_base64`]): for tests and the fuzz targets, which hold the
/// SIMD path to it.
#[doc(hidden)]
pub fn decode_base64_by_reference(encoded: &str) -> Result<Vec<u8>, String> {
    let joined = without_line_breaks(encoded);
    reference_engine(&joined)
        .decode(&*joined)
        .map_err(|e| e.to_string())
}

/// What a record value's base64 decodes to, as records are read (the SIMD
/// path first): for tests and the fuzz targets.
#[doc(hidden)]
pub fn decode_base64_fast(encoded: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    decode_base64(encoded, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The bytes a dead letter keeps of a base64 text: what it decodes to,
/// or, if it is not base64 (or decodes to nothing), the text as received.
fn decoded_or_text(text: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    if decode_base64(text, &mut bytes).is_err() || bytes.is_empty() {
        bytes = text.as_bytes().to_vec();
    }
    bytes
}

fn dead_letter(
    function: &str,
    record: &KafkaRecordRef<'_>,
    rejection: Rejection,
    decoded: &[u8],
) -> DeadLetterRow {
    // Keep the decoded bytes, whole up to 256 KiB (a too-large value: its
    // first 64 KiB); for a value that is not base64, the text as received
    // is all there is.
    let keep = if rejection.reason == ReasonCode::TooLarge {
        TOO_LARGE_VALUE_BYTES
    } else {
        DEAD_LETTER_VALUE_BYTES
    };
    let value = if !decoded.is_empty() {
        Some(decoded[..decoded.len().min(keep)].to_vec())
    } else {
        record.value.filter(|v| !v.is_empty()).map(|v| {
            let mut bytes = decoded_or_text(v);
            bytes.truncate(keep);
            bytes
        })
    };
    let key = record.key.map(decoded_or_text);
    let timestamp = record.timestamp();
    DeadLetterRow {
        topic: record.topic.to_owned(),
        partition: record.partition,
        day: day_of(timestamp.unwrap_or(0)),
        offset: record.offset,
        record_timestamp: Optional(timestamp.map(CqlTimestamp)),
        reason: rejection.reason.as_str(),
        detail: rejection.detail,
        function: function.to_owned(),
        key: Optional(key),
        value: Optional(value),
        write_time: write_time_micros(timestamp.unwrap_or(0), record.offset),
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
        decode_base64_by_reference(text)
    }

    fn fast_base64(text: &str) -> Result<Vec<u8>, String> {
        decode_base64_fast(text)
    }

    /// The SIMD decoder alone, as it was asked before the fallback.
    fn simd_alone(text: &str) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        simd_base64(text, &mut out).then_some(out)
    }

    /// The base64 rules, each through the SIMD decoder and the reference.
    #[test]
    fn base64_rules() {
        let foobar = Ok(b"foobar".to_vec());
        for (text, want) in [
            ("Zm9vYmFy", foobar.clone()),
            ("Zm9vYg==", Ok(b"foob".to_vec())),
            ("Zm9vYg", Ok(b"foob".to_vec())),
            ("Zm9vYmE=", Ok(b"fooba".to_vec())),
            ("Zm9vYmE", Ok(b"fooba".to_vec())),
            ("Zm9v\r\nYmFy", foobar.clone()),
            ("Zm9v\nYmFy", foobar.clone()),
            ("Zm9vYmFy\r\n", foobar.clone()),
            ("\r\nZm9v\r\n\r\nYmFy", foobar.clone()),
            ("Zm9vYg=\r\n=", Ok(b"foob".to_vec())),
        ] {
            assert_eq!(fast_base64(text), want, "{text:?}");
            assert_eq!(reference_base64(text), want, "{text:?}");
        }
        for text in [
            // Partial padding.
            "Zm9vYg=",
            "QQ=",
            "AA=",
            // Non-zero trailing bits: `QR==` would be `A` with a stray bit.
            "QR==",
            "QR",
            "QUJ=",
            "QUJ",
            // Not the standard alphabet.
            "Zm9v-_",
            // White space other than line breaks.
            "Zm9v YmFy",
            "Zm9v\tYmFy",
            "Zm9v\rYmFy",
            "Zm9vYmFy\r",
            "Zm9v\u{a0}YmFy",
            // Padding in the middle, or too much of it.
            "QQ==QQ==",
            "QQ==\r\nQQ==",
            "Zm9v====",
            "=",
            "A",
        ] {
            assert!(fast_base64(text).is_err(), "{text:?}");
            assert!(reference_base64(text).is_err(), "{text:?}");
            // The SIMD decoder refuses each itself: none is taken on its
            // word where the reference would refuse it.
            assert_eq!(simd_alone(text), None, "{text:?}");
        }
    }

    /// A value as MIME wraps it (76 characters a line, CRLF) decodes as
    /// the unwrapped one, through the SIMD decoder.
    #[test]
    fn mime_wrapped_values_decode() {
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let flat = encode_base64(&bytes);
        let lines: Vec<&str> = flat
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let wrapped = lines.join("\r\n");
        assert_eq!(fast_base64(&wrapped), Ok(bytes.clone()));
        assert_eq!(reference_base64(&wrapped), Ok(bytes.clone()));
        let mut out = Vec::new();
        assert!(simd_base64(&without_line_breaks(&wrapped), &mut out));
        assert_eq!(out, bytes);
        // Through a whole record: a row, not a dead letter.
        let lines: Vec<String> = encode_base64(AUTH.as_bytes())
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let wrapped = lines.join("\r\n") + "\r\n";
        assert!(matches!(
            classify(Some(LogKind::Auth), "auth-logs", &rec(Some(&wrapped))),
            Outcome::Row(_)
        ));
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
            "Zm9v\r\nYmFy",
            "Zm9v\rYmFy",
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
            text in "[A-Za-z0-9+/=\\-_ .\r\n]{0,80}"
        ) {
            proptest::prop_assert_eq!(fast_base64(&text), reference_base64(&text));
        }

        /// Encoded bytes of any length, padded or not, wrapped in lines
        /// or not, decode back; one changed character (a stray bit, a
        /// partial padding, a symbol outside the alphabet) decodes to other
        /// bytes or to an error, the same one both ways.
        #[test]
        fn the_simd_base64_decoder_reads_what_was_encoded(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            padded in proptest::prelude::any::<bool>(),
            line in proptest::option::of(1usize..100),
            crlf in proptest::prelude::any::<bool>(),
            edit in proptest::prelude::any::<proptest::sample::Index>(),
            with in proptest::sample::select(vec!['A', 'B', 'Q', 'R', '=', '-', '_', ' ', '\r', '\n', '+', '/']),
        ) {
            let mut text = encode_base64(&bytes);
            if !padded {
                text = text.trim_end_matches('=').to_owned();
            }
            if let Some(line) = line {
                let lines: Vec<String> = text
                    .as_bytes()
                    .chunks(line)
                    .map(|c| String::from_utf8(c.to_vec()).unwrap())
                    .collect();
                text = lines.join(if crlf { "\r\n" } else { "\n" });
            }
            proptest::prop_assert_eq!(fast_base64(&text), Ok(bytes));
            if !text.is_empty() {
                let at = edit.index(text.len());
                let mut edited = text.clone();
                edited.replace_range(at..at + 1, &with.to_string());
                proptest::prop_assert_eq!(fast_base64(&edited), reference_base64(&edited), "{:?}", edited);
            }
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
        // Base64 first: a partial padding or a stray trailing bit is
        // invalid_base64 whatever the bytes would be; missing padding and
        // line breaks are not.
        assert_eq!(reason_of(Some("e30=\r\n")), "missing_field");
        assert_eq!(reason_of(Some("e30")), "missing_field");
        assert_eq!(reason_of(Some("e31=")), "invalid_base64");
        assert_eq!(reason_of(Some("W10=")), "not_an_object");
        assert_eq!(reason_of(Some("W1=")), "invalid_base64");
        // JSON is decided on the whole value, before the object and the
        // fields: a key twice or a lone surrogate anywhere.
        for value in [
            &br#"[{"a":1,"a":2}]"#[..],
            br#"{"a":1,"a":2}"#,
            br#"{"user_id":5,"x":{"y":[{"k":1,"k":1}]}}"#,
            br#"{"x":"\ud800"}"#,
            br#"["\udc00"]"#,
        ] {
            assert_eq!(reason_of(Some(&b64(value))), "invalid_json", "{value:?}");
        }
        // Valid JSON that does not fit a field is a field's problem.
        let big = AUTH.replace(r#""u1""#, "99999999999999999999");
        assert_eq!(reason_of(Some(&b64(big.as_bytes()))), "invalid_field");
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

    fn dead_letter_of(record: &KafkaRecordRef<'_>) -> DeadLetterRow {
        match classify(Some(LogKind::Auth), "auth-logs", record) {
            Outcome::DeadLetter(d) => d,
            Outcome::Row(r) => panic!("expected a dead letter, got {r:?}"),
        }
    }

    #[test]
    fn dead_letters_keep_key_and_the_whole_value_but_64_kib_of_a_too_large_one() {
        let huge = b64(&vec![b'x'; MAX_VALUE_BYTES + 10]);
        let d = dead_letter_of(&rec(Some(&huge)));
        assert_eq!(d.reason, "too_large");
        assert_eq!(
            d.value.0.as_ref().map(Vec::len),
            Some(TOO_LARGE_VALUE_BYTES)
        );
        assert_eq!(TOO_LARGE_VALUE_BYTES, 65_536);
        assert_eq!(d.key.0.as_deref(), Some(&b"u1"[..]));
        assert_eq!(
            (d.topic.as_str(), d.partition, d.offset),
            ("user_auth_logs", 2, 42)
        );
        assert_eq!(d.record_timestamp.0, Some(CqlTimestamp(1_795_615_200_000)));
        assert_eq!(d.function, "auth-logs");
        // Any other reason keeps the whole value, up to 256 KiB: the
        // largest value that is parsed, here bad JSON, all of it.
        assert_eq!(DEAD_LETTER_VALUE_BYTES, 262_144);
        let mut big = vec![b' '; MAX_VALUE_BYTES];
        big[MAX_VALUE_BYTES - 1] = b'!';
        let d = dead_letter_of(&rec(Some(&b64(&big))));
        assert_eq!(d.reason, "invalid_json");
        assert_eq!(d.value.0.as_deref(), Some(&big[..]));
        let mut utf8 = vec![b'a'; 100_000];
        utf8[99_999] = 0xff;
        let d = dead_letter_of(&rec(Some(&b64(&utf8))));
        assert_eq!(d.reason, "invalid_utf8");
        assert_eq!(d.value.0.as_deref(), Some(&utf8[..]));
        // A wrong topic's value is kept whole up to 256 KiB too.
        let Outcome::DeadLetter(d) = classify(None, "auth-logs", &rec(Some(&huge))) else {
            panic!("expected a dead letter")
        };
        assert_eq!(d.reason, "wrong_topic");
        assert_eq!(
            d.value.0.as_ref().map(Vec::len),
            Some(DEAD_LETTER_VALUE_BYTES)
        );
        // A value that is not base64 is kept as the text received, up to
        // 256 KiB of it.
        let d = dead_letter_of(&rec(Some("%%%")));
        assert_eq!(d.value.0.as_deref(), Some(&b"%%%"[..]));
        let bang = "!".repeat(400_000);
        let d = dead_letter_of(&rec(Some(&bang)));
        assert_eq!(d.reason, "invalid_base64");
        assert_eq!(
            d.value.0.as_ref().map(Vec::len),
            Some(DEAD_LETTER_VALUE_BYTES)
        );
    }

    #[test]
    fn dead_letters_are_filed_under_the_day_of_their_kafka_timestamp() {
        let d = dead_letter_of(&rec(Some("%%%")));
        assert_eq!(crate::rows::format_date(d.day.0), "2026-11-25");
        assert_eq!(d.day, day_of(1_795_615_200_000));
        // Just before and at midnight UTC.
        for (ms, day) in [
            (1_795_651_199_999, "2026-11-25"),
            (1_795_651_200_000, "2026-11-26"),
            (0, "1970-01-01"),
        ] {
            let d = dead_letter_of(&KafkaRecordRef {
                timestamp_ms: ms,
                ..rec(None)
            });
            assert_eq!(crate::rows::format_date(d.day.0), day, "{ms}");
        }
    }

    /// A record without a Kafka timestamp (-1, or any negative) is
    /// processed: its dead letter has a null `record_timestamp`, day
    /// 1970-01-01 and write time 0 ms plus the offset's last digits; its
    /// log row takes its write time from the log's own time.
    #[test]
    fn a_record_without_a_kafka_timestamp_is_processed() {
        for ts in [NO_TIMESTAMP, -2, i64::MIN] {
            let none = |value| KafkaRecordRef {
                timestamp_ms: ts,
                offset: 1_234_567,
                ..rec(value)
            };
            assert_eq!(none(None).timestamp(), None);
            let d = dead_letter_of(&none(Some("%%%")));
            assert_eq!(d.record_timestamp, Optional(None));
            assert_eq!(crate::rows::format_date(d.day.0), "1970-01-01");
            assert_eq!(d.write_time, 567);
            let v = b64(AUTH.as_bytes());
            let Outcome::Row(row) = classify(Some(LogKind::Auth), "auth-logs", &none(Some(&v)))
            else {
                panic!("not a row")
            };
            assert_eq!(row.write_time(), 1_795_615_200_123_567);
        }
    }

    /// Write times come from the record alone: the Kafka timestamp in
    /// microseconds plus the offset's last three digits, identical each
    /// time the record is processed; of two records of one partition in one
    /// millisecond the later offset wins.
    #[test]
    fn write_times_come_from_the_record() {
        assert_eq!(
            write_time_micros(1_795_615_200_000, 42),
            1_795_615_200_000_042
        );
        assert_eq!(
            write_time_micros(1_795_615_200_000, 1_042),
            1_795_615_200_000_042
        );
        assert_eq!(
            write_time_micros(1_795_615_200_000, 999),
            1_795_615_200_000_999
        );
        assert_eq!(write_time_micros(0, 5), 5);
        assert_eq!(write_time_micros(7, -1), 7_999);
        assert!(write_time_micros(1, 0) > write_time_micros(0, 999));
        let v = b64(AUTH.as_bytes());
        let first = classify(Some(LogKind::Auth), "auth-logs", &rec(Some(&v)));
        let Outcome::Row(row) = &first else {
            panic!("not a row")
        };
        // The Kafka timestamp, not the log's own time.
        assert_eq!(row.write_time(), 1_795_615_200_000_042);
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(
            classify(Some(LogKind::Auth), "auth-logs", &rec(Some(&v))),
            first
        );
        let d = dead_letter_of(&rec(Some("%%%")));
        assert_eq!(d.write_time, 1_795_615_200_000_042);
        let later = dead_letter_of(&KafkaRecordRef {
            offset: 43,
            ..rec(Some("%%%"))
        });
        assert!(later.write_time > d.write_time);
    }

    /// `record_timestamp` is the record's Kafka timestamp to the
    /// millisecond, for many timestamps, through whole events and both
    /// decoders.
    #[test]
    fn record_timestamps_are_exact() {
        use crate::batch::{process_event, process_payload, Router};
        let start = 1_795_615_200_000i64;
        let records: Vec<String> = (0..3000i64)
            .map(|i| {
                let ms = start + i * 37 + i % 11;
                format!(
                    r#"{{"topic":"user_auth_logs","partition":0,"offset":{i},"timestamp":{ms},"key":null,"value":"JSUl","headers":[]}}"#
                )
            })
            .collect();
        let payload = format!(
            r#"{{"eventSource":"aws:kafka","records":{{"user_auth_logs-0":[{}]}}}}"#,
            records.join(",")
        );
        let router = Router::all_default("test");
        let event = crate::event::decode_event(payload.as_bytes()).unwrap();
        for batch in [
            process_payload(&router, payload.as_bytes()).unwrap(),
            process_event(&router, &event).unwrap(),
        ] {
            assert_eq!(batch.dead_letters.len(), 3000);
            for d in &batch.dead_letters {
                let i = d.offset;
                let ms = start + i * 37 + i % 11;
                assert_eq!(
                    d.record_timestamp,
                    Optional(Some(CqlTimestamp(ms))),
                    "offset {i}"
                );
                assert_eq!(d.write_time, ms * 1000 + i % 1000);
            }
        }
    }
}
