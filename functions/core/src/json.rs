//! A borrowed view of one JSON value, as the validator needs it, and the
//! rules that make a record value JSON at all.
//!
//! Log fields are deserialized into [`Json`] rather than straight into typed
//! fields so that a wrong type becomes an `invalid_field` naming the field,
//! not a serde error about the whole document. Strings borrow from the input
//! when they carry no escapes; numbers are kept as written, so that one past
//! the range of any machine type (`1e400`, `99999999999999999999`) is still
//! a number, which a field may refuse.
//!
//! [`check`] decides `invalid_json` for a whole value: RFC 8259's grammar
//! (serde_json's reader, which is strict), and, at any depth, no name twice
//! in one object and no `\u` escape that leaves a lone surrogate.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, Visitor};
use serde_json::value::RawValue;

/// One JSON value. Arrays and objects are not looked into: no log field
/// takes an array, and the fields that take an object have readers of
/// their own.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, exactly as written (`-0`, `1.50`, `1e400`): JSON puts no
    /// bound on a number, so it is read only where a field takes one.
    Number(&'a str),
    /// A string.
    Str(Cow<'a, str>),
    /// An object (members skipped: objects are read where a field takes
    /// one, by a reader of their own).
    Object,
    /// An array (contents skipped).
    Array,
}

impl<'a> Json<'a> {
    /// The JSON type's name, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(n) if is_integer(n) => "an integer",
            Json::Number(_) => "a non-integer number",
            Json::Str(_) => "a string",
            Json::Object => "an object",
            Json::Array => "an array",
        }
    }

    /// The value whose JSON text is `raw` (one value, as serde_json's
    /// `RawValue` holds it: no white space around it). A string with an
    /// escape is read by serde_json, which refuses a lone surrogate.
    pub fn from_raw(raw: &'a str) -> Result<Self, serde_json::Error> {
        Ok(match raw.as_bytes().first() {
            Some(b'n') => Json::Null,
            Some(b't') => Json::Bool(true),
            Some(b'f') => Json::Bool(false),
            Some(b'{') => Json::Object,
            Some(b'[') => Json::Array,
            Some(b'"') if !raw.contains('\\') => Json::Str(Cow::Borrowed(&raw[1..raw.len() - 1])),
            Some(b'"') => Json::Str(Cow::Owned(serde_json::from_str(raw)?)),
            _ => Json::Number(raw),
        })
    }
}

/// Whether a JSON number is written as an integer: no fraction, no
/// exponent (`-0` is one; `1.0` and `1e2` are not).
pub fn is_integer(number: &str) -> bool {
    !number.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

/// The value of a JSON number written as an integer: `None` if it has a
/// fraction or an exponent, `Some(None)` if it is past `i64`. `-0` is 0.
pub fn integer_value(number: &str) -> Option<Option<i64>> {
    is_integer(number).then(|| number.parse::<i64>().ok())
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

/// Read through serde_json's `RawValue`, so that a number is kept as
/// written (serde_json would refuse `1e400` and round
/// `99999999999999999999`): only serde_json's own deserializers, reading
/// from a `&str`, can give one.
impl<'de: 'a, 'a> Deserialize<'de> for Json<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        Json::from_raw(raw.get()).map_err(de::Error::custom)
    }
}

/// Why a value is not JSON, as `invalid_json`'s detail says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotJson(pub String);

impl fmt::Display for NotJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<serde_json::Error> for NotJson {
    fn from(e: serde_json::Error) -> Self {
        NotJson(e.to_string())
    }
}

/// Whether `text` is one JSON value: RFC 8259's grammar, white space around
/// it allowed, and, at any depth, no name twice in one object (names
/// compared after their escapes are read) and no `\u` escape that leaves a
/// lone surrogate. Nesting is not limited (a value is at most 256 KiB), and
/// nothing here recurses.
pub fn check(text: &str) -> Result<(), NotJson> {
    // serde_json skips a value it ignores without recursing, checking its
    // grammar but not the escapes it does not read.
    serde_json::from_str::<IgnoredAny>(text)?;
    check_names_and_escapes(text)
}

/// The part of [`check`] past the grammar: for a `text` that is known to be
/// JSON, no name twice in an object and no lone surrogate.
pub fn check_names_and_escapes(text: &str) -> Result<(), NotJson> {
    let bytes = text.as_bytes();
    // Whether each object or array open around the current position is an
    // object, and the names of each open object.
    let mut open_objects: Vec<bool> = Vec::new();
    let mut names: Vec<HashSet<Cow<'_, str>>> = Vec::new();
    let mut name_next = false;
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        match b {
            b'{' => {
                open_objects.push(true);
                names.push(HashSet::new());
                name_next = true;
            }
            b'[' => {
                open_objects.push(false);
                name_next = false;
            }
            b'}' | b']' => {
                if open_objects.pop() == Some(true) {
                    names.pop();
                }
                name_next = false;
            }
            b',' => name_next = open_objects.last() == Some(&true),
            b':' => name_next = false,
            b'"' => {
                let (value, end) = string_at(text, at, name_next)?;
                if let (true, Some(name), Some(names)) = (name_next, value, names.last_mut()) {
                    if names.contains(&name) {
                        return Err(not_json(
                            text,
                            at,
                            format_args!(
                                "key {} given twice in one object",
                                crate::fields::quote(&name)
                            ),
                        ));
                    }
                    names.insert(name);
                }
                name_next = false;
                at = end;
                continue;
            }
            _ => {}
        }
        at += 1;
    }
    Ok(())
}

/// The string whose opening quote is at `open` in grammatical JSON `text`,
/// read if `keep` (else `None`), and where it ends; an error at a `\u`
/// escape that leaves a lone surrogate.
fn string_at(
    text: &str,
    open: usize,
    keep: bool,
) -> Result<(Option<Cow<'_, str>>, usize), NotJson> {
    let bytes = text.as_bytes();
    let start = open + 1;
    let mut from = start;
    let mut read = String::new();
    let mut escaped = false;
    loop {
        let stop =
            from + memchr::memchr2(b'"', b'\\', &bytes[from..]).unwrap_or(bytes.len() - from);
        if stop >= bytes.len() || bytes[stop] == b'"' {
            let value = keep.then(|| {
                if escaped {
                    read.push_str(&text[from..stop]);
                    Cow::Owned(std::mem::take(&mut read))
                } else {
                    Cow::Borrowed(&text[start..stop])
                }
            });
            return Ok((value, stop + 1));
        }
        escaped = true;
        if keep {
            read.push_str(&text[from..stop]);
        }
        let escape = bytes.get(stop + 1).copied().unwrap_or(b'"');
        if escape != b'u' {
            if keep {
                read.push(match escape {
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    other => char::from(other),
                });
            }
            from = stop + 2;
            continue;
        }
        let unit = hex4(bytes, stop + 2);
        let (c, len) = match unit {
            0xD800..=0xDBFF => {
                let low = (bytes.get(stop + 6..stop + 8) == Some(b"\\u"))
                    .then(|| hex4(bytes, stop + 8))
                    .filter(|low| (0xDC00..=0xDFFF).contains(low));
                match low {
                    Some(low) => (
                        char::from_u32(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)),
                        12,
                    ),
                    None => (None, 6),
                }
            }
            0xDC00..=0xDFFF => (None, 6),
            _ => (char::from_u32(unit), 6),
        };
        let Some(c) = c else {
            return Err(not_json(
                text,
                stop,
                format_args!(
                    "\\u{} is a lone surrogate (a UTF-16 half without its other half)",
                    &text[stop + 2..stop + 6]
                ),
            ));
        };
        if keep {
            read.push(c);
        }
        from = stop + len;
    }
}

/// The four hex digits at `at` (grammatical JSON has them).
fn hex4(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .unwrap_or_default()
        .iter()
        .fold(0, |n, &d| n * 16 + char::from(d).to_digit(16).unwrap_or(0))
}

/// `what`, at byte `at` of `text`, in serde_json's words for a place.
fn not_json(text: &str, at: usize, what: impl fmt::Display) -> NotJson {
    let before = &text.as_bytes()[..at];
    let line = 1 + memchr::memchr_iter(b'\n', before).count();
    let column = at - memchr::memrchr(b'\n', before).map_or(0, |nl| nl + 1) + 1;
    NotJson(format!("{what} at line {line} column {column}"))
}

/// A second reading of [`check`], for tests and the fuzz targets: each
/// value read with serde_json (which refuses a lone surrogate in a string
/// it reads), each object's names gathered into a set, recursing into
/// each member. Not for production: it recurses, and gives up (`None`)
/// past 100 levels.
#[doc(hidden)]
pub fn check_by_recursion(text: &str) -> Option<Result<(), String>> {
    /// `None` past the depth; otherwise whether the value at `raw` is JSON.
    fn value(raw: &str, depth: usize) -> Option<Result<(), String>> {
        if depth > 100 {
            return None;
        }
        let text = |e: serde_json::Error| e.to_string();
        let inner: Vec<&RawValue> = match raw.as_bytes()[0] {
            b'"' => return Some(serde_json::from_str::<String>(raw).map(drop).map_err(text)),
            b'[' => match serde_json::from_str::<Vec<&RawValue>>(raw) {
                Ok(elements) => elements,
                Err(e) => return Some(Err(text(e))),
            },
            b'{' => {
                let members = match serde_json::from_str::<Members>(raw) {
                    Ok(m) => m.0,
                    Err(e) => return Some(Err(text(e))),
                };
                let mut names = HashSet::new();
                let mut values = Vec::with_capacity(members.len());
                for (name, v) in members {
                    if !names.insert(name.clone()) {
                        return Some(Err(format!("key {name:?} given twice")));
                    }
                    values.push(v);
                }
                values
            }
            _ => return Some(Ok(())),
        };
        for v in inner {
            if let Err(e) = value(v.get(), depth + 1)? {
                return Some(Err(e));
            }
        }
        Some(Ok(()))
    }

    /// An object's members in order, names read, values raw.
    struct Members<'a>(Vec<(String, &'a RawValue)>);

    impl<'de> Deserialize<'de> for Members<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Members<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Members<'de>, A::Error> {
                    let mut members = Vec::new();
                    while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                        members.push(entry);
                    }
                    Ok(Members(members))
                }
            }
            d.deserialize_map(V)
        }
    }

    match serde_json::from_str::<&RawValue>(text) {
        Ok(raw) => value(raw.get(), 0),
        Err(e) => Some(Err(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_kind_and_borrows_plain_strings() {
        let values: Vec<Json> = serde_json::from_str(
            r#"[null,true,-3,4,1.5,"x","\u0041",[1,{"x":2}],{"j":{"k":[]}},1e400,-0]"#,
        )
        .unwrap();
        assert_eq!(values[0], Json::Null);
        assert_eq!(values[1], Json::Bool(true));
        assert_eq!(values[2], Json::Number("-3"));
        assert_eq!(values[3], Json::Number("4"));
        assert_eq!(values[4], Json::Number("1.5"));
        assert!(matches!(values[5], Json::Str(Cow::Borrowed("x"))));
        assert!(matches!(&values[6], Json::Str(Cow::Owned(s)) if s == "A"));
        assert_eq!(values[7], Json::Array);
        assert_eq!(values[8], Json::Object);
        assert_eq!(values[9], Json::Number("1e400"));
        assert_eq!(values[9].type_name(), "a non-integer number");
        assert_eq!(values[10].type_name(), "an integer");
    }

    #[test]
    fn integers_are_numbers_written_without_fraction_or_exponent() {
        assert_eq!(integer_value("0"), Some(Some(0)));
        assert_eq!(integer_value("-0"), Some(Some(0)));
        assert_eq!(integer_value("-12"), Some(Some(-12)));
        assert_eq!(integer_value("9223372036854775807"), Some(Some(i64::MAX)));
        assert_eq!(integer_value("9223372036854775808"), Some(None));
        assert_eq!(integer_value("99999999999999999999"), Some(None));
        for not in ["1.5", "1.0", "1e2", "1E2", "-0.0", "1e400"] {
            assert_eq!(integer_value(not), None, "{not}");
        }
    }

    /// What is not JSON, at any depth, and what is.
    #[test]
    fn check_decides_json_on_the_whole_value() {
        for bad in [
            "",
            " ",
            "{",
            r#"{"a":1} x"#,
            r#"{"a":1,}"#,
            "{'a':1}",
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":NaN}"#,
            "{\"a\":\"\t\"}",
            r#"{"a":"\x"}"#,
            "\u{feff}{}",
            // A name twice, at any depth, after its escapes are read.
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,"\u0061":2}"#,
            r#"{"":1,"":1}"#,
            r#"{"x":{"y":[{"a":1,"b":2,"a":3}]}}"#,
            r#"[{"a":{}},{"b":{"c":null,"c":null}}]"#,
            // A lone surrogate, wherever it is.
            r#""\ud800""#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":["x\ud83dy"]}"#,
            r#"{"\ud800":1}"#,
            r#"{"a":"\ud800\u0041"}"#,
            r#"{"a":"\ud800\ud800\udc00"}"#,
            r#"{"a":"\ude00\ud83d"}"#,
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
            assert!(
                matches!(check_by_recursion(bad), Some(Err(_))),
                "{bad:?} by recursion"
            );
        }
        for good in [
            "0",
            " [] ",
            "\t{}\r\n",
            r#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}"#,
            r#"{"a":1,"A":2,"a ":3}"#,
            r#"{"a":"\ud83d\ude00","b":"\u00e9\uffff\u0000"}"#,
            r#"{"a":1e400,"b":-99999999999999999999999,"c":-0}"#,
            r#"[1,1,"a","a",{},{}]"#,
        ] {
            assert_eq!(check(good), Ok(()), "{good:?}");
            assert_eq!(check_by_recursion(good), Some(Ok(())), "{good:?}");
        }
    }

    #[test]
    fn check_says_what_and_where() {
        let e = check("{\"a\":1,\n \"b\":{\"c\":1,\"c\":2}}").unwrap_err();
        assert_eq!(
            e.0,
            r#"key "c" given twice in one object at line 2 column 13"#
        );
        let e = check(r#"{"a":"x\ud800y"}"#).unwrap_err();
        assert_eq!(
            e.0,
            "\\ud800 is a lone surrogate (a UTF-16 half without its other half) at line 1 column 8"
        );
        let e = check(r#"{"a":1,}"#).unwrap_err();
        assert_eq!(e.0, "key must be a string at line 1 column 8");
    }

    /// Nesting is not limited, and nothing recurses: a name twice is found
    /// 100,000 levels down.
    #[test]
    fn check_reads_any_depth_without_recursing() {
        let depth = 100_000;
        let deep =
            |inner: &str| format!("{}{inner}{}", r#"{"a":["#.repeat(depth), "]}".repeat(depth));
        assert_eq!(check(&deep("1")), Ok(()));
        assert!(check(&deep(r#"{"k":1,"k":1}"#)).is_err());
        assert!(check(&deep(r#""\udfff""#)).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// `check` agrees with a reading of every value by serde_json.
        #[test]
        fn check_agrees_with_serde_json_read_value_by_value(
            text in r#"[ ]?(\{("([ab]|\\u006[12]|\\ud83d|\\ude00|\\ud83d\\ude00)":(1|1e400|-0|"[ab]"|"\\ud800"|\[\]|\{\}|\{"a":1\}|\{"a":1,"a":2\}|\[\{"b":1,"b":1\}\]),?){0,4}\}|\["\\udc00"\]|\[1,\])[ ]?"#
        ) {
            let reference = check_by_recursion(&text).expect("shallow");
            proptest::prop_assert_eq!(check(&text).is_ok(), reference.is_ok(), "{} {:?}", text, reference);
        }
    }
}
