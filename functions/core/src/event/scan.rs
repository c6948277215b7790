//! The event decoder's fast path: a reader for the shape Lambda sends.
//!
//! An event is mostly base64 strings (each record's value). serde_json
//! looks for the end of each one 8 bytes at a time, through its general
//! deserializer; this reader looks at the first 16 bytes of a string 8 at a
//! time and finds the end of a longer one with `memchr` (16 or 32 bytes at
//! a time), and it matches the few field names directly. It reads a strict
//! subset of what [`super::decode`] accepts: the known fields, each at most
//! once and of the usual types, and whole numbers without sign, fraction or
//! exponent (header bytes may be negative); a string with escapes is cut
//! out and read by serde_json. On anything else it returns `None`, and
//! serde_json reads the whole payload instead, so what is accepted, and
//! every error message, stay serde_json's: it never reports an error of
//! its own. Tests hold it to reading what serde_json reads, the same way.

use std::borrow::Cow;
use std::collections::HashMap;

use super::wire::KafkaRecord;
use super::{millis, AnyStr, Headers, Millis};
use crate::json::BorrowedStr;

/// What the fast path read: the event's source and its records by key.
pub(super) struct Scanned<'a> {
    pub(super) event_source: Option<Cow<'a, str>>,
    pub(super) records: HashMap<Cow<'a, str>, Vec<KafkaRecord<'a>>>,
}

/// Reads a whole payload, or gives up.
pub(super) fn event(text: &str) -> Option<Scanned<'_>> {
    let mut s = Scanner {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    let scanned = s.event()?;
    s.ws();
    (s.pos == s.bytes.len()).then_some(scanned)
}

/// Most digits read as a whole number: 18 always fit an `i64`.
const MAX_DIGITS: usize = 18;

/// How many bytes of a string are looked at 8 at a time before `memchr`.
const SHORT: usize = 16;

/// The bytes a string is read up to: its closing quote, an escape, a
/// control character.
static STOPS: [bool; 256] = {
    let mut ends = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        ends[b] = true;
        b += 1;
    }
    ends[b'"' as usize] = true;
    ends[b'\\' as usize] = true;
    ends
};

/// Which of an object's fields (one bit each) have been read.
#[derive(Default)]
struct Seen(u8);

impl Seen {
    /// `field` the first time it is met; `None` the second, as serde
    /// refuses a repeated field (and the fast path gives up).
    fn first(&mut self, field: u8) -> Option<u8> {
        if self.0 & field != 0 {
            return None;
        }
        self.0 |= field;
        Some(field)
    }
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// Skips JSON whitespace.
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte after whitespace, consumed.
    fn next(&mut self) -> Option<u8> {
        self.ws();
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// Consumes `want` (after whitespace) or gives up.
    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// Consumes `want` if it comes next (after whitespace).
    fn eat_if(&mut self, want: u8) -> bool {
        self.ws();
        let found = self.bytes.get(self.pos) == Some(&want);
        self.pos += usize::from(found);
        found
    }

    /// Consumes `null` if it comes next.
    fn null(&mut self) -> bool {
        self.ws();
        let found = self.bytes[self.pos..].starts_with(b"null");
        self.pos += if found { 4 } else { 0 };
        found
    }

    /// `null`, or what `read` reads.
    fn nullable<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.null() {
            Some(None)
        } else {
            read(self).map(Some)
        }
    }

    /// A string: a slice of the payload if it has no escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.pos;
        let rest = &self.bytes[start..];
        let len = stop(rest)?;
        match rest.get(len)? {
            b'"' => {
                self.pos = start + len + 1;
                self.text.get(start..start + len).map(Cow::Borrowed)
            }
            b'\\' => self.escaped(start - 1, start + len),
            _ => None,
        }
    }

    /// A string with an escape at `escape`, from its opening quote at
    /// `open`: finds its closing quote, then has serde_json read it, so
    /// escapes (and control characters) mean what they mean there.
    fn escaped(&mut self, open: usize, mut escape: usize) -> Option<Cow<'a, str>> {
        let close = loop {
            // Step over the escaped byte: `\"` does not end the string.
            let from = escape + 2;
            let at = from + memchr::memchr2(b'"', b'\\', self.bytes.get(from..)?)?;
            if self.bytes[at] == b'"' {
                break at;
            }
            escape = at;
        };
        let text: String = serde_json::from_str(self.text.get(open..=close)?).ok()?;
        self.pos = close + 1;
        Some(Cow::Owned(text))
    }

    /// An object, calling `member` on each name with the value next.
    fn members(
        &mut self,
        mut member: impl FnMut(&mut Self, Cow<'a, str>) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.eat_if(b'}') {
            return Some(());
        }
        loop {
            let name = self.string()?;
            self.eat(b':')?;
            member(self, name)?;
            match self.next()? {
                b',' => {}
                b'}' => return Some(()),
                _ => return None,
            }
        }
    }

    /// An array, calling `element` with each element next.
    fn elements(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.eat_if(b']') {
            return Some(());
        }
        loop {
            element(self)?;
            match self.next()? {
                b',' => {}
                b']' => return Some(()),
                _ => return None,
            }
        }
    }

    /// A whole number: `0` or up to 18 digits without a leading zero, not
    /// followed by a fraction or an exponent. No whitespace is skipped.
    fn digits(&mut self) -> Option<u64> {
        let rest = &self.bytes[self.pos..];
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 || n > MAX_DIGITS || (n > 1 && rest[0] == b'0') {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = rest.get(n) {
            return None;
        }
        self.pos += n;
        Some(
            rest[..n]
                .iter()
                .fold(0, |acc, d| acc * 10 + u64::from(d - b'0')),
        )
    }

    /// A non-negative whole number, as `partition` and `offset` take it.
    fn integer(&mut self) -> Option<i64> {
        self.ws();
        self.digits().map(|n| n as i64)
    }

    /// `timestamp`: a whole number, or a string of one; epoch milliseconds
    /// read the way the serde path reads them (through `f64`, which is exact
    /// below 2^53 and rounds the same way for both spellings above it).
    fn timestamp(&mut self) -> Option<i64> {
        self.ws();
        let n = if self.bytes.get(self.pos) == Some(&b'"') {
            let text = self.string()?;
            let mut inner = Scanner {
                text: &text,
                bytes: text.as_bytes(),
                pos: 0,
            };
            let n = inner.digits()?;
            (inner.pos == text.len()).then_some(n)?
        } else {
            self.digits()?
        };
        millis::<serde_json::Error>(n as f64).ok()
    }

    /// A header byte: a whole number from -128 to 127 (`-0` is left to serde).
    fn header_byte(&mut self) -> Option<()> {
        let negative = self.eat_if(b'-');
        let n = self.digits()?;
        let fits = if negative {
            (1..=128).contains(&n)
        } else {
            n <= 127
        };
        fits.then_some(())
    }

    /// `headers`: a list of maps of byte lists, checked, not kept.
    fn headers(&mut self) -> Option<Headers> {
        self.elements(|s| s.members(|s, _| s.elements(Self::header_byte)))?;
        Some(Headers)
    }

    /// The whole event.
    fn event(&mut self) -> Option<Scanned<'a>> {
        let mut seen = Seen::default();
        let mut event_source = None;
        let mut records = HashMap::new();
        self.members(|s, name| {
            // An unknown field, which serde skips, makes the fast path give up.
            let field = match &*name {
                "eventSource" => 1,
                "eventSourceArn" => 2,
                "records" => 4,
                "bootstrapServers" => 8,
                _ => return None,
            };
            match seen.first(field)? {
                1 => event_source = s.nullable(Self::string)?,
                4 => {
                    if !s.null() {
                        s.records(&mut records)?;
                    }
                }
                _ => {
                    s.nullable(Self::string)?;
                }
            }
            Some(())
        })?;
        Some(Scanned {
            event_source,
            records,
        })
    }

    /// `records`: batches by key; a key seen twice keeps its last batch.
    fn records(&mut self, out: &mut HashMap<Cow<'a, str>, Vec<KafkaRecord<'a>>>) -> Option<()> {
        self.members(|s, key| {
            let mut batch = Vec::new();
            s.elements(|s| {
                batch.push(s.record()?);
                Some(())
            })?;
            out.insert(key, batch);
            Some(())
        })
    }

    /// One record; `partition`, `offset`, `timestamp` and `headers` are
    /// required, as in the serde path.
    fn record(&mut self) -> Option<KafkaRecord<'a>> {
        let mut seen = Seen::default();
        let (mut topic, mut key, mut value, mut timestamp_type) = (None, None, None, None);
        let (mut partition, mut offset, mut timestamp, mut headers) = (None, None, None, None);
        self.members(|s, name| {
            let field = match &*name {
                "topic" => 1,
                "partition" => 2,
                "offset" => 4,
                "timestamp" => 8,
                "timestampType" => 16,
                "key" => 32,
                "value" => 64,
                "headers" => 128,
                _ => return None,
            };
            match seen.first(field)? {
                1 => topic = s.nullable(Self::string)?,
                2 => partition = Some(s.integer()?),
                4 => offset = Some(s.integer()?),
                8 => timestamp = Some(s.timestamp()?),
                16 => timestamp_type = s.nullable(Self::string)?,
                32 => key = s.nullable(Self::string)?,
                64 => value = s.nullable(Self::string)?,
                _ => headers = Some(s.headers()?),
            }
            Some(())
        })?;
        Some(KafkaRecord {
            topic: topic.map(BorrowedStr),
            partition: partition?,
            offset: offset?,
            timestamp: Millis(timestamp?),
            timestamp_type: timestamp_type.map(|_| AnyStr),
            key: key.map(BorrowedStr),
            value: value.map(BorrowedStr),
            headers: headers?,
        })
    }
}

/// Where the first quote or backslash of `bytes` is; `None` if there is
/// none, or a control character comes first (a string may not hold one).
/// Names, topics and timestamp types end within a few bytes, sooner than a
/// SIMD search starts paying: the first 16 bytes are looked at 8 at a time
/// in a `u64`, and only a longer string (a key or value) goes to `memchr`.
fn stop(bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    let first = loop {
        let Some(word) = bytes[at..].first_chunk::<8>() else {
            // Fewer than 8 bytes left (only at the end of a payload).
            let tail = &bytes[at..];
            break at + (0..tail.len()).find(|&i| STOPS[usize::from(tail[i])])?;
        };
        let stops = stops_in(u64::from_le_bytes(*word));
        if stops != 0 {
            break at + stops.trailing_zeros() as usize / 8;
        }
        at += 8;
        if at == SHORT {
            let len = at + memchr::memchr2(b'"', b'\\', &bytes[at..])?;
            return (!has_control(&bytes[at..len])).then_some(len);
        }
    };
    (bytes[first] >= 0x20).then_some(first)
}

/// The high bit of each byte of `word` that is a quote, a backslash or a
/// control character. Bytes after the first one found may be marked
/// wrongly (a borrow carries into them); the first is always right.
fn stops_in(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    zero_bytes(word ^ (ONES * u64::from(b'"')))
        | zero_bytes(word ^ (ONES * u64::from(b'\\')))
        | below_space
}

/// Whether `bytes` holds a control character, which JSON strings may not.
/// Written as the least byte, a reduction without an early exit, so that
/// it compiles to SIMD (`pminub`, `uminv`) rather than a test a byte.
fn has_control(bytes: &[u8]) -> bool {
    bytes.iter().fold(u8::MAX, |least, &b| least.min(b)) < 0x20
}

#[cfg(test)]
mod tests {
    use super::super::tests::leaked;
    use super::super::{from_wire, wire, BorrowedEvent, SOURCE_MSK};
    use super::*;
    use crate::record::KafkaRecordRef;

    /// An event in the shapes Lambda sends: MSK and self-managed spellings
    /// of a record, headers with negative bytes, numeric-string timestamps,
    /// `null`s, whitespace between tokens, strings on either side of the
    /// length where the search for their end turns to `memchr`, and escapes
    /// (a value that is not base64 arrives as a JSON string).
    const BASE: &str = concat!(
        r#"{"eventSource":"aws:kafka","eventSourceArn":"arn:x","bootstrapServers":null,"#,
        r#""records":{"logs-0":[{"topic":"logs","partition":0,"offset":7,"timestamp":1795615200123,"#,
        r#""timestampType":"CREATE_TIME","key":"a2V5","value":"eyJldmVudF9pZCI6IjEiLCJ1c2VyX2lkIjoidSJ9","headers":[{"h":[104,-1,-128,127]},{}]},"#,
        r#"{"partition":0,"offset":8,"timestamp":"1795615200124","timestampType":null,"#,
        r#""key":null,"value":"eyJhIjoxfQ","headers":[]}],"#,
        "\n \"b-12\" : [ {\"topic\":\"b\",\"partition\":12,\"offset\":0,\"timestamp\":0,",
        "\t\"headers\":[],\"value\":null},{\"topic\":\"b\",\"partition\":12,\"offset\":1,",
        r#""timestamp":"1795615200125","timestampType":"CREATE\u005fTIME","headers":[],"#,
        r#""key":"\u0041","value":"{\"event_id\":\"\u00e9\\/\ud83d\ude00\"}"} ] } }"#,
        "\r\n"
    );

    type Records = Vec<KafkaRecordRef<'static>>;

    /// The records and source of an event, copied out so it can be dropped.
    fn owned(source: Option<&str>, event: BorrowedEvent<'_>) -> (Option<String>, Records) {
        let records = event
            .records()
            .expect("the test events' partitions fit")
            .into_iter()
            .map(leaked)
            .collect();
        (source.map(str::to_owned), records)
    }

    fn fast(text: &str) -> Option<(Option<String>, Records)> {
        let scanned = event(text)?;
        Some(owned(
            scanned.event_source.as_deref(),
            BorrowedEvent {
                records: scanned.records,
            },
        ))
    }

    fn serde(text: &str) -> Result<(Option<String>, Records), String> {
        let event: wire::KafkaEvent = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let (source, records) = from_wire(event);
        Ok(owned(source.as_deref(), BorrowedEvent { records }))
    }

    #[test]
    fn reads_the_shapes_lambda_sends_as_serde_json_does() {
        let got = fast(BASE).expect("the fast path reads the base event");
        assert_eq!(Ok(&got), serde(BASE).as_ref());
        assert_eq!(got.0.as_deref(), Some(SOURCE_MSK));
        assert_eq!(got.1.len(), 4);
        assert_eq!(got.1[0].topic, "b");
        assert_eq!(got.1[1].key, Some("A"));
        assert_eq!(got.1[1].value, Some(r#"{"event_id":"é\/😀"}"#));
        assert_eq!(
            got.1[2].value,
            Some("eyJldmVudF9pZCI6IjEiLCJ1c2VyX2lkIjoidSJ9")
        );
        assert_eq!(got.1[3].key, None);
        assert_eq!(got.1[3].timestamp_ms, 1_795_615_200_124);
    }

    /// Every edit of one byte of `BASE` (deleting it, or inserting or
    /// putting in its place a byte that matters to JSON): whatever the fast
    /// path reads, serde_json reads the same; what it gives up on is left
    /// to serde_json.
    #[test]
    fn what_the_fast_path_reads_serde_json_reads_the_same() {
        let inserts = b" \t\n\"\\,:{}[]0159-.eEn\x01";
        let mut edits = Vec::new();
        for i in 0..=BASE.len() {
            let (head, tail) = BASE.as_bytes().split_at(i);
            if let Some((_, rest)) = tail.split_first() {
                edits.push([head, rest].concat());
            }
            for &b in inserts {
                edits.push([head, &[b], tail].concat());
                if let Some((_, rest)) = tail.split_first() {
                    edits.push([head, &[b], rest].concat());
                }
            }
        }
        let (mut read, mut left) = (0, 0);
        for edit in &edits {
            let text = std::str::from_utf8(edit).expect("ASCII edits of ASCII");
            match fast(text) {
                Some(got) => {
                    assert_eq!(Ok(&got), serde(text).as_ref(), "{text}");
                    read += 1;
                }
                None => left += 1,
            }
        }
        // Both branches are taken many times: whitespace and digit edits
        // stay readable, broken syntax and escapes are left to serde_json.
        assert!(read > 1_000 && left > 1_000, "read {read}, left {left}");
    }

    proptest::proptest! {
        /// `stop` finds what a byte-by-byte search finds, at every length
        /// around the 8-byte words and the turn to `memchr`, whatever byte
        /// (or none) ends the string, and gives up on a control character.
        #[test]
        fn stop_finds_the_first_quote_escape_or_control_character(
            plain in proptest::collection::vec(
                proptest::sample::select(b"aZ9 ~\x7f\x80\xff".to_vec()),
                0..48,
            ),
            rest in proptest::collection::vec(
                proptest::sample::select(b"a~\x80\"\\\x00\x1f\x20\t".to_vec()),
                0..12,
            ),
        ) {
            let body = [plain, rest].concat();
            let want = body
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .filter(|&i| body[i] >= 0x20);
            proptest::prop_assert_eq!(stop(&body), want);
        }
    }

    #[test]
    fn gives_up_on_what_it_does_not_read() {
        for text in [
            r#"{"eventSource":"aws:kafka","records":{},"extra":1}"#,
            r#"{"eventSource":"aws:kafka","eventSource":"aws:kafka"}"#,
            r#"{"eventSource":"aws:k\x61fka","records":{}}"#,
            r#"{"eventSource":"aws:kafka\"}"#,
            r#"{"eventSource":"aws:kafka\u00"}"#,
            r#"{"eventSource":"aws:kafka\ud800","records":{}}"#,
            r#"{"eventSource":"aws:kafka","records":{}} x"#,
            r#"["aws:kafka",null,{},null]"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":-1,"timestamp":0,"headers":[]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":0.5,"headers":[]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":0,"headers":[{"h":[-0]}]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":0,"headers":[{"h":[128]}]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":"01","headers":[]}]}}"#,
            r#"{"records":{"a-0":[{"partition":0,"offset":1,"timestamp":0}]}}"#,
            "{\"records\":{\"a-0\":[{\"partition\":0,\"offset\":1,\"timestamp\":0,\"headers\":[],\"key\":\"\t\"}]}}",
        ] {
            assert!(event(text).is_none(), "{text}");
        }
        // The smallest events it does read.
        for text in [
            r#"{}"#,
            r#" {"records":null} "#,
            r#"{"records":{"a-0":[]}}"#,
        ] {
            assert!(event(text).is_some(), "{text}");
        }
        let escaped = event(r#"{"event\u0053ource":"aws:k\u0061fka","records":{"a\"-0":[]}}"#)
            .expect("escapes are read");
        assert_eq!(escaped.event_source.as_deref(), Some(SOURCE_MSK));
        assert!(escaped.records.contains_key("a\"-0"));
    }
}
