//! A JSON reader for the common case, ahead of serde_json.
//!
//! Two documents make up nearly all of the hot path's parsing: the
//! invocation payload (`event`) and each record's log (`logs`). Each has a
//! fast path built on this reader, which reads a strict subset of what
//! serde_json accepts: strings (a slice of the input when they hold no
//! escape; one with escapes is cut out and read by serde_json, which
//! refuses a lone surrogate), numbers, `true`, `false`, `null`, objects
//! (each name once) and arrays nested a few levels. On anything else a
//! reader returns `None`, and the reference reader (serde_json, with
//! [`crate::json::check`]) reads the whole document instead, so what is
//! accepted, and every error message, stay the reference's: the fast paths
//! never report an error of their own.
//!
//! Strings are where the time goes. serde_json looks for the end of one 8
//! bytes at a time through its general deserializer; [`Scanner::string`],
//! inlined into each place a string is read, looks at the first 48 bytes
//! 16 at a time (SSE2 or NEON, through `wide`), and the end of a longer
//! one is found with `memchr` (16 or 32 bytes at a time).

use std::borrow::Cow;

use wide::u8x16;

use crate::json::Json;

/// Most digits read as a whole number: 18 always fit an `i64`.
const MAX_DIGITS: usize = 18;

/// How many bytes of a string are looked at 16 at a time before `memchr`.
const SHORT: usize = 48;

/// How deep [`Scanner::json`] reads objects and arrays inside each other
/// (serde_json's own limit is 128).
const MAX_DEPTH: usize = 16;

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

/// JSON whitespace.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Which of an object's fields (one bit each) have been read.
#[derive(Default)]
pub(crate) struct FieldsRead(u32);

impl FieldsRead {
    /// `field` the first time it is met; `None` the second, as serde
    /// refuses a repeated field (and the fast path gives up).
    pub(crate) fn first(&mut self, field: u32) -> Option<u32> {
        if self.0 & field != 0 {
            return None;
        }
        self.0 |= field;
        Some(field)
    }
}

/// Most names of one object whose repetition the fast reader looks for;
/// an object with more is left to the reference reader.
const MAX_NAMES: usize = 32;

/// The names of an object's members met so far, to give up on one given
/// twice (JSON with a name twice is not read).
#[derive(Default)]
pub(crate) struct Names<'a>(Vec<Cow<'a, str>>);

impl<'a> Names<'a> {
    /// `Some` the first time `name` is met; `None` the second, or past
    /// [`MAX_NAMES`].
    pub(crate) fn first(&mut self, name: Cow<'a, str>) -> Option<()> {
        if self.0.len() == MAX_NAMES || self.0.contains(&name) {
            return None;
        }
        self.0.push(name);
        Some(())
    }
}

/// A position in a JSON text, read forwards.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    /// Reads all of `text` with `read`: only whitespace may follow what it
    /// reads.
    pub(crate) fn whole<T>(text: &'a str, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let mut s = Scanner::new(text);
        let value = read(&mut s)?;
        s.ws();
        (s.pos == s.bytes.len()).then_some(value)
    }

    /// Skips JSON whitespace.
    fn ws(&mut self) {
        while self.bytes.get(self.pos).is_some_and(|&b| is_ws(b)) {
            self.pos += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        // Most tokens follow the last without whitespace.
        match *self.bytes.get(self.pos)? {
            b if is_ws(b) => {
                self.ws();
                self.bytes.get(self.pos).copied()
            }
            b => Some(b),
        }
    }

    /// The next byte after whitespace, consumed.
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    /// Consumes `want` (after whitespace) or gives up.
    fn eat(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    /// Consumes `want` if it comes next (after whitespace).
    pub(crate) fn eat_if(&mut self, want: u8) -> bool {
        let found = self.peek() == Some(want);
        self.pos += usize::from(found);
        found
    }

    /// Consumes `word` (`true`, `false`, `null`) if it comes next.
    fn word(&mut self, word: &[u8]) -> bool {
        self.ws();
        let found = self.bytes[self.pos..].starts_with(word);
        self.pos += if found { word.len() } else { 0 };
        found
    }

    /// Consumes `null` if it comes next.
    pub(crate) fn null(&mut self) -> bool {
        self.word(b"null")
    }

    /// `null`, or what `read` reads.
    pub(crate) fn nullable<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        if self.null() {
            Some(None)
        } else {
            read(self).map(Some)
        }
    }

    /// A string: a slice of the input if it has no escapes.
    ///
    /// Inlined into each caller: most strings (names, codes, ids, times)
    /// follow the token before them directly and end within their first
    /// [`SHORT`] bytes without an escape, and those are read here, 8 bytes
    /// at a time. Anything else is read by [`Self::any_string`].
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Option<Cow<'a, str>> {
        if self.bytes.get(self.pos) == Some(&b'"') {
            let start = self.pos + 1;
            match short_stop(&self.bytes[start..]) {
                Short::At(len) if self.bytes[start + len] == b'"' => {
                    self.pos = start + len + 1;
                    return self.text.get(start..start + len).map(Cow::Borrowed);
                }
                Short::Past => return self.long_string(start),
                _ => {}
            }
        }
        self.any_string()
    }

    /// A string from `start`, after its quote, whose first [`SHORT`] bytes
    /// hold no stop.
    #[inline(never)]
    fn long_string(&mut self, start: usize) -> Option<Cow<'a, str>> {
        let len = long_stop(&self.bytes[start..])?;
        self.string_to(start, start + len)
    }

    /// Any string, after whitespace: the way [`Self::string`] reads the
    /// ones it does not read itself.
    #[inline(never)]
    fn any_string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.pos;
        let len = stop(&self.bytes[start..])?;
        self.string_to(start, start + len)
    }

    /// A string from `start`, after its quote, to its first stop at `end`.
    fn string_to(&mut self, start: usize, end: usize) -> Option<Cow<'a, str>> {
        match self.bytes.get(end)? {
            b'"' => {
                self.pos = end + 1;
                self.text.get(start..end).map(Cow::Borrowed)
            }
            b'\\' => self.escaped(start - 1, end),
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
    pub(crate) fn members(
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
    pub(crate) fn elements(
        &mut self,
        mut element: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
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
    pub(crate) fn digits(&mut self) -> Option<u64> {
        let rest = &self.bytes[self.pos..];
        // One pass: the value is built as the digits are counted.
        let (mut n, mut len) = (0u64, 0);
        while let Some(d) = rest
            .get(len)
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|d| *d <= 9)
        {
            if len == MAX_DIGITS {
                return None;
            }
            n = n * 10 + u64::from(d);
            len += 1;
        }
        if len == 0 || (len > 1 && rest[0] == b'0') {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = rest.get(len) {
            return None;
        }
        self.pos += len;
        Some(n)
    }

    /// A string of one whole number (see [`Self::digits`]), nothing else in it.
    pub(crate) fn digits_in_string(&mut self) -> Option<u64> {
        let text = self.string()?;
        let mut inner = Scanner::new(&text);
        let n = inner.digits()?;
        (inner.pos == text.len()).then_some(n)
    }

    /// Any value, as [`Json`] holds it (an array's elements are read and
    /// dropped).
    pub(crate) fn json(&mut self) -> Option<Json<'a>> {
        self.json_within(MAX_DEPTH)
    }

    fn json_within(&mut self, depth: usize) -> Option<Json<'a>> {
        let inner = depth.checked_sub(1)?;
        Some(match self.peek()? {
            b'"' => Json::Str(self.string()?),
            b'{' => {
                let mut names = Names::default();
                self.members(|s, name| {
                    names.first(name)?;
                    s.json_within(inner).map(drop)
                })?;
                Json::Object
            }
            b'[' => {
                self.elements(|s| s.json_within(inner).map(drop))?;
                Json::Array
            }
            b't' if self.word(b"true") => Json::Bool(true),
            b'f' if self.word(b"false") => Json::Bool(false),
            b'n' if self.null() => Json::Null,
            _ => {
                let start = self.pos;
                self.number()?;
                Json::Number(self.text.get(start..self.pos)?)
            }
        })
    }

    /// The text of a scalar value (a string with its quotes and escapes, a
    /// number as written, `true`, `false`, `null`), as serde_json's
    /// `RawValue` holds it. Objects and arrays are left to serde_json.
    pub(crate) fn raw_scalar(&mut self) -> Option<&'a str> {
        let start = match self.peek()? {
            b'"' => {
                let start = self.pos;
                self.string()?;
                start
            }
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                self.number()?;
                start
            }
            _ => {
                let start = self.pos;
                if !(self.word(b"true") || self.word(b"false") || self.null()) {
                    return None;
                }
                start
            }
        };
        self.text.get(start..self.pos)
    }

    /// A number in JSON's grammar, skipped (none there: `None`):
    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<()> {
        self.pos += usize::from(self.bytes.get(self.pos) == Some(&b'-'));
        match self.bytes.get(self.pos)? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.run_of_digits(),
            _ => return None,
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            self.some_digits()?;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            self.some_digits()?;
        }
        Some(())
    }

    fn run_of_digits(&mut self) {
        let rest = &self.bytes[self.pos..];
        self.pos += rest.iter().take_while(|b| b.is_ascii_digit()).count();
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.pos;
        self.run_of_digits();
        (self.pos > start).then_some(())
    }
}

/// Where the first quote or backslash of `bytes` is; `None` if there is
/// none, or a control character comes first (a string may not hold one).
/// Names and most values end within a few bytes, sooner than a `memchr`
/// call starts paying: the first [`SHORT`] bytes are looked at 16 at a time
/// in one SIMD register, and only a longer string goes to `memchr`.
fn stop(bytes: &[u8]) -> Option<usize> {
    let first = match short_stop(bytes) {
        Short::At(first) => first,
        Short::Past => return long_stop(bytes),
        // Fewer than 8 bytes left (only at the end of a text).
        Short::Tail(at) => at + bytes[at..].iter().position(|&b| STOPS[usize::from(b)])?,
    };
    (bytes[first] >= 0x20).then_some(first)
}

/// What the first [`SHORT`] bytes of a string, looked at 16 at a time
/// (then 8, near the end of a text), tell of where it stops.
enum Short {
    /// At this byte: a quote, a backslash or a control character.
    At(usize),
    /// Not within the first [`SHORT`] bytes.
    Past,
    /// Not before this offset, past which fewer than 8 bytes are left.
    Tail(usize),
}

/// The first steps of [`stop`], which [`Scanner::string`] takes inline.
#[inline(always)]
fn short_stop(bytes: &[u8]) -> Short {
    let mut at = 0;
    while let Some(chunk) = bytes[at..].first_chunk::<16>() {
        let stops = stops_in_16(chunk);
        if stops != 0 {
            return Short::At(at + stops.trailing_zeros() as usize);
        }
        at += 16;
        if at == SHORT {
            return Short::Past;
        }
    }
    // Fewer than 16 bytes left: the last string of a text is often here.
    if let Some(word) = bytes[at..].first_chunk::<8>() {
        let stops = stops_in(u64::from_le_bytes(*word));
        if stops != 0 {
            return Short::At(at + stops.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    Short::Tail(at)
}

/// A bit for each byte of `chunk` that is a quote, a backslash or a
/// control character (below 0x20: the least of it and 0x1f is itself).
#[inline(always)]
fn stops_in_16(chunk: &[u8; 16]) -> u32 {
    let v = u8x16::new(*chunk);
    let stops = v.cmp_eq(u8x16::splat(b'"'))
        | v.cmp_eq(u8x16::splat(b'\\'))
        | v.min(u8x16::splat(0x1f)).cmp_eq(v);
    stops.move_mask() as u32
}

/// [`stop`] for `bytes` whose first [`SHORT`] hold none.
fn long_stop(bytes: &[u8]) -> Option<usize> {
    let len = SHORT + memchr::memchr2(b'"', b'\\', &bytes[SHORT..])?;
    (!has_control(&bytes[SHORT..len])).then_some(len)
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

/// Every edit of one byte of `base`: deleting it, or inserting or putting
/// in its place a byte that matters to JSON. The fast paths' tests read
/// each edit both ways.
#[cfg(test)]
pub(crate) fn one_byte_edits(base: &str) -> Vec<String> {
    let inserts = b" \t\n\"\\,:{}[]0159-.eEntf\x01";
    let mut edits = Vec::new();
    for i in 0..=base.len() {
        let (head, tail) = base.as_bytes().split_at(i);
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
    // Edits inside a multi-byte character are not text; they are not read.
    edits
        .into_iter()
        .filter_map(|e| String::from_utf8(e).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// `stop` finds what a byte-by-byte search finds, at every length
        /// around the 8-byte words and the turn to `memchr`, whatever byte
        /// (or none) ends the string, and gives up on a control character.
        #[test]
        fn stop_finds_the_first_quote_escape_or_control_character(
            plain in proptest::collection::vec(
                proptest::sample::select(b"aZ9 ~\x7f\x80\xff".to_vec()),
                0..64,
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

        /// A string read by `string` is what serde_json reads, whatever
        /// its length (in and past the 8-byte words, to either side of the
        /// turn to `memchr`), its characters (one to four bytes), what ends
        /// it and what comes before and after it, and the reader stops
        /// right after it; one without escapes or control characters is
        /// always read.
        #[test]
        fn strings_read_as_serde_json_reads_them(
            before in "[ \t]{0,2}",
            plain in proptest::collection::vec(
                proptest::sample::select(vec!['a', 'Z', '9', ' ', '~', '\u{7f}', 'é', '€', '😀']),
                0..64,
            ),
            rest in proptest::collection::vec(
                proptest::sample::select(vec!['a', '"', '\\', 'n', 'u', '\0', '\u{1f}', '\t', 'é']),
                0..6,
            ),
            after in " {0,12}",
        ) {
            let body: String = plain.iter().chain(&rest).collect();
            let text = format!("{before}\"{body}\"{after}");
            let mut scanner = Scanner::new(&text);
            let fast = scanner.string();
            // serde_json reads the first value and says where it ended.
            let mut serde = serde_json::Deserializer::from_str(&text).into_iter::<String>();
            let first = serde.next().and_then(Result::ok);
            if let Some(v) = &fast {
                proptest::prop_assert_eq!(Some(&**v), first.as_deref(), "{:?}", text);
                proptest::prop_assert_eq!(scanner.pos, serde.byte_offset(), "{:?}", text);
            }
            if !body.contains(['"', '\\']) && !body.contains(|c: char| c < ' ') {
                proptest::prop_assert_eq!(fast.as_deref(), Some(body.as_str()), "{:?}", text);
            }
        }

        /// A value read as `Json` is what serde_json reads, and a raw
        /// scalar is the text serde_json's `RawValue` keeps.
        #[test]
        fn values_read_as_serde_json_reads_them(
            text in r#"[ \t]?(-?(0|[1-9][0-9]{0,20})(\.[0-9]{0,2})?([eE][+-]?[0-9]{0,2})?|"[a\\"u0-9]{0,6}"|true|false|null|tru|\{\}|\[\]|\[1,\{"a":2\}\]|\{"k":\[\]\})[ ]?"#
        ) {
            let fast = Scanner::whole(&text, Scanner::json);
            let serde = serde_json::from_str::<Json>(&text);
            if let Some(v) = &fast {
                proptest::prop_assert_eq!(Some(v), serde.as_ref().ok(), "{}", text);
                // What is read is JSON by the whole-value rules too.
                proptest::prop_assert_eq!(crate::json::check(&text), Ok(()), "{}", text);
            }
            let raw = Scanner::whole(&text, Scanner::raw_scalar);
            let serde_raw = serde_json::from_str::<&serde_json::value::RawValue>(&text);
            if let Some(r) = raw {
                proptest::prop_assert_eq!(Some(r), serde_raw.as_ref().ok().map(|v| v.get()), "{}", text);
            }
            // Scalars serde_json reads as `RawValue` are all read raw.
            if let Ok(v) = serde_raw {
                if !v.get().starts_with(['{', '[']) {
                    proptest::prop_assert!(raw.is_some(), "{}", text);
                }
            }
        }
    }

    #[test]
    fn gives_up_on_what_serde_json_reads_otherwise() {
        for text in [
            "01",
            "-",
            "1.",
            "1e",
            "tru",
            "[1.]",
            r#"{"a":1,"a":1}"#,
            r#"[{"b":{"a":1,"\u0061":1}}]"#,
            r#""\ud800""#,
            r#"{"a":"\udc00x"}"#,
        ] {
            assert_eq!(Scanner::whole(text, Scanner::json), None, "{text}");
        }
        // Numbers are kept as written, whatever their size.
        for text in [
            "-1",
            "1.5",
            "1e3",
            "-0",
            "1234567890123456789",
            "1e400",
            "[1.5]",
        ] {
            let want = if text.starts_with('[') {
                Json::Array
            } else {
                Json::Number(text)
            };
            assert_eq!(Scanner::whole(text, Scanner::json), Some(want), "{text}");
        }
        // Up to MAX_NAMES names are told apart; an object with more is
        // left to the reference reader.
        let object = |n: usize| {
            let members: Vec<String> = (0..n).map(|i| format!(r#""k{i}":{i}"#)).collect();
            format!("{{{}}}", members.join(","))
        };
        assert!(Scanner::whole(&object(MAX_NAMES), Scanner::json).is_some());
        assert!(Scanner::whole(&object(MAX_NAMES + 1), Scanner::json).is_none());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(Scanner::whole(&deep, Scanner::json), None);
        let within = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(Scanner::whole(&within, Scanner::json), Some(Json::Array));
    }
}
