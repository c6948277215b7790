//! A borrowed view of one JSON value, as the validator needs it.
//!
//! Log fields are deserialized into [`Json`] rather than straight into typed
//! fields so that a wrong type becomes an `invalid_field` naming the field,
//! not a serde error about the whole document. Strings borrow from the input
//! when they carry no escapes.
//!
//! Logs are parsed by [`from_str`]: `sonic-rs` (SIMD) first, `serde_json`
//! for what it refuses or nests too deep, so that `serde_json` alone decides
//! what is valid and words every error. The tests below hold the two to the
//! same reading of edge cases and of random and mutated documents.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Deepest nesting of arrays and objects handed to `sonic-rs`; deeper
/// documents go to `serde_json` alone. `sonic-rs` skips ignored values
/// (unknown fields, array contents) by recursion without a depth limit, so
/// a document of a few hundred kilobytes of `[` overflows the stack (and an
/// unoptimized build's frames are large enough that 60 levels do). Logs
/// nest 2 levels and events 6.
pub const FAST_PATH_DEPTH: usize = 16;

/// Parses `text` with the SIMD parser (`sonic-rs`); what it refuses is
/// parsed again by `serde_json`, which defines what is accepted and gives
/// the error message. The hot path's parser for logs. (Whole events stay
/// with serde_json: measuring an event's nesting first costs about what
/// sonic-rs saves on it.)
pub fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, serde_json::Error> {
    either(
        text.as_bytes(),
        || sonic_rs::from_str(text),
        || serde_json::from_str(text),
    )
}

/// Runs `fast` (a `sonic-rs` parse of `bytes`) when `bytes` nests no
/// deeper than [`FAST_PATH_DEPTH`], and `reference` (the `serde_json`
/// parse of the same bytes) when it is deeper or `fast` fails.
pub(crate) fn either<T>(
    bytes: &[u8],
    fast: impl FnOnce() -> Result<T, sonic_rs::Error>,
    reference: impl FnOnce() -> Result<T, serde_json::Error>,
) -> Result<T, serde_json::Error> {
    if shallow(bytes) {
        if let Ok(value) = fast() {
            return Ok(value);
        }
    }
    reference()
}

/// Whether `bytes` nests no deeper than [`FAST_PATH_DEPTH`]. A document
/// (a log) with no more `[` and `{` bytes than that, wherever they stand,
/// cannot nest deeper; `memchr` counts them in SIMD. [`nests_at_most`]'s
/// walk from string to string answers the rest (bracket-heavy documents).
fn shallow(bytes: &[u8]) -> bool {
    memchr::memchr2_iter(b'[', b'{', bytes)
        .take(FAST_PATH_DEPTH + 1)
        .count()
        <= FAST_PATH_DEPTH
        || nests_at_most(bytes, FAST_PATH_DEPTH)
}

/// Whether `bytes`, lexed as JSON, opens no more than `limit` arrays and
/// objects inside one another. Brackets inside strings do not count; the
/// strings are skipped with `memchr`, so the cost is mostly the few bytes
/// of structure between them. Malformed input is answered for what a JSON
/// parser would read of it before failing: a string left open runs to the
/// end, a stray closing bracket closes nothing.
pub fn nests_at_most(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => loop {
                // Past the opening quote, or past an escaped byte.
                i += 1;
                let Some(rest) = bytes.get(i..) else {
                    return true;
                };
                let Some(at) = memchr::memchr2(b'"', b'\\', rest) else {
                    return true;
                };
                i += at;
                if bytes[i] == b'"' {
                    break;
                }
                i += 1;
            },
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    true
}

/// One JSON value. Arrays are not looked into: no log field takes one.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A negative integer.
    Int(i64),
    /// A non-negative integer.
    UInt(u64),
    /// A number with a fraction or exponent.
    Float(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// An object, its members in document order.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
    /// An array (contents skipped).
    Array,
}

impl Json<'_> {
    /// The JSON type's name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Int(_) | Json::UInt(_) => "an integer",
            Json::Float(_) => "a non-integer number",
            Json::Str(_) => "a string",
            Json::Object(_) => "an object",
            Json::Array => "an array",
        }
    }
}

/// A string that borrows from the input where it can.
pub struct BorrowedStr<'a>(pub Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = BorrowedStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(StrVisitor)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Json<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Json::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(if v >= 0 {
            Json::UInt(v as u64)
        } else {
            Json::Int(v)
        })
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Json::UInt(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Json::Float(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Json::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::new();
        while let Some(BorrowedStr(key)) = map.next_key::<BorrowedStr<'de>>()? {
            let value = map.next_value::<Json<'de>>()?;
            members.push((key, value));
        }
        Ok(Json::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_measured_outside_strings() {
        assert!(nests_at_most(b"", 0));
        assert!(nests_at_most(b"5", 0));
        assert!(!nests_at_most(b"[]", 0));
        assert!(nests_at_most(b"[]", 1));
        assert!(nests_at_most(br#"{"a":[1,{"b":[]}]}"#, 4));
        assert!(!nests_at_most(br#"{"a":[1,{"b":[]}]}"#, 3));
        // Siblings do not add up.
        assert!(nests_at_most(b"[[],[],{},[[]]]", 3));
        // Brackets in strings, escaped quotes and escaped backslashes.
        assert!(nests_at_most(br#"["[[[[{{{{"]"#, 1));
        assert!(nests_at_most(br#"["\"[[[[", "\\", "]"]"#, 1));
        assert!(!nests_at_most(br#"["\\"[[]]"#, 2));
        // A string left open hides what follows, as it does from a parser;
        // a stray closer closes nothing.
        assert!(nests_at_most(br#"[" [[[[[["#, 1));
        assert!(nests_at_most(br#"["\"#, 1));
        assert!(!nests_at_most(b"]]]][[[", 2));
        let deep = "[".repeat(1_000_000);
        assert!(!nests_at_most(deep.as_bytes(), FAST_PATH_DEPTH));
    }

    #[test]
    fn deep_documents_go_to_serde_json_and_do_not_overflow_the_stack() {
        // sonic-rs would recurse once a level skipping these arrays.
        let open = format!(r#"{{"a":{}"#, "[".repeat(500_000));
        assert!(from_str::<IgnoredAny>(&open).is_err());
        let closed = format!(r#"{{"a":{}{}}}"#, "[".repeat(500_000), "]".repeat(500_000));
        // serde_json skips an ignored value without recursing...
        assert!(from_str::<IgnoredAny>(&closed).is_ok());
        // ...and stops at its recursion limit where it builds the value.
        let objects = format!("{}1{}", r#"{"a":"#.repeat(500_000), "}".repeat(500_000));
        let err = from_str::<Json>(&objects).unwrap_err();
        assert!(err.to_string().contains("recursion limit"), "{err}");
        let n = FAST_PATH_DEPTH - 1;
        let shallow = format!(r#"{{"a":{}{}}}"#, "[".repeat(n), "]".repeat(n));
        assert!(from_str::<Json>(&shallow).is_ok());
    }

    /// What serde_json alone makes of `text`: the reference.
    fn reference(text: &str) -> Result<Json<'_>, String> {
        serde_json::from_str::<Json>(text).map_err(|e| e.to_string())
    }

    fn both(text: &str) -> Result<Json<'_>, String> {
        from_str::<Json>(text).map_err(|e| e.to_string())
    }

    /// Inputs on which JSON parsers are known to differ: the fast path
    /// must accept, refuse and read them exactly as serde_json does.
    #[test]
    fn the_fast_path_reads_edge_cases_as_serde_json_does() {
        let cases = [
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\ud800\u0041"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"\ud83d\ude00"}"#,
            r#"{"a":"\x"}"#,
            "{\"a\":\"\u{1}\"}",
            "{\"a\":\"tab\there\"}",
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":-}"#,
            r#"{"a":1e}"#,
            r#"{"a":1e400}"#,
            r#"{"a":-1e400}"#,
            r#"{"a":1e-400}"#,
            r#"{"a":-0}"#,
            r#"{"a":-0.0}"#,
            r#"{"a":18446744073709551615}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":-9223372036854775808}"#,
            r#"{"a":-9223372036854775809}"#,
            r#"{"a":0.1e1}"#,
            r#"{"a":1.7976931348623157e308}"#,
            r#"{"a":2.2250738585072011e-308}"#,
            r#"{"a":123456789012345678901234567890}"#,
            r#"{"a":1,}"#,
            r#"{"a":[1,]}"#,
            r#"{"a" : 1 , "b" : [ ] }"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":tru}"#,
            r#"{"a":nul}"#,
            r#"{"a":True}"#,
            r#"{a:1}"#,
            r#"{'a':1}"#,
            r#"{"a":1}}"#,
            r#"{"a":1} x"#,
            "{\"a\":1}\n\t ",
            "\u{feff}{\"a\":1}",
            r#"{"a":"\u0000"}"#,
            r#"{"a":"\/"}"#,
            r#"{"a":"é\u00e9"}"#,
            r#"{"":{"":{}}}"#,
            r#"{"a":[[[[[]]]]]}"#,
            r#"{"a"#,
            "",
            "   ",
        ];
        for text in cases {
            assert_eq!(both(text), reference(text), "{text:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// Any short text built from JSON's own characters is read the
        /// same by the fast path as by serde_json.
        #[test]
        fn the_fast_path_agrees_with_serde_json(
            text in r#"[{}\[\]",:0-9eE.+\-a-z\\ \t\n\u00e9\u{1f600}]{0,40}"#
        ) {
            let text = format!("{{\"k\":{text}");
            proptest::prop_assert_eq!(both(&text), reference(&text));
        }

        /// Valid documents mutated at one byte: the same again.
        #[test]
        fn mutated_documents_are_read_as_serde_json_reads_them(
            at in 0usize..120,
            with in proptest::prelude::any::<u8>(),
        ) {
            let doc = r#"{"event_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff","n":-12.5e3,"s":"a\"b\u00e9","m":{"x":[1,{"y":null}],"t":true}}"#;
            let mut bytes = doc.as_bytes().to_vec();
            let at = at.min(bytes.len() - 1);
            bytes[at] = with;
            if let Ok(text) = std::str::from_utf8(&bytes) {
                proptest::prop_assert_eq!(both(text), reference(text));
            }
        }
    }

    #[test]
    fn reads_every_kind_and_borrows_plain_strings() {
        let v: Json = serde_json::from_str(
            r#"{"a":null,"b":true,"c":-3,"d":4,"e":1.5,"f":"x","g":"\u0041","h":[1,{"x":2}],"i":{"j":1}}"#,
        )
        .unwrap();
        let Json::Object(members) = v else {
            panic!("not an object")
        };
        assert_eq!(members[0].1, Json::Null);
        assert_eq!(members[1].1, Json::Bool(true));
        assert_eq!(members[2].1, Json::Int(-3));
        assert_eq!(members[3].1, Json::UInt(4));
        assert_eq!(members[4].1, Json::Float(1.5));
        assert!(matches!(members[5].1, Json::Str(Cow::Borrowed("x"))));
        assert!(matches!(&members[6].1, Json::Str(Cow::Owned(s)) if s == "A"));
        assert_eq!(members[7].1, Json::Array);
        assert_eq!(
            members[8].1,
            Json::Object(vec![("j".into(), Json::UInt(1))])
        );
    }
}
