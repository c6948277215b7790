//! Column value types of the rows.
//!
//! [`Opt`]: an optional column value that is sent *unset* when absent.
//! Binding `null` for an absent optional field would write a tombstone for
//! every such column of every row; leaving it unset writes nothing. Unlike
//! the driver's `MaybeUnset`, `Opt` compares and reads like an `Option`.
//!
//! [`Text`]: a text column value that holds up to 24 bytes inline. Most
//! strings of a log are that short, so a row costs few allocations.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;

use compact_str::CompactString;

use scylla::frame::response::result::ColumnType;
use scylla::serialize::value::SerializeValue;
use scylla::serialize::writers::{CellWriter, WrittenCellProof};
use scylla::serialize::SerializationError;

/// An optional column: `Opt(None)` is bound as unset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Opt<T>(pub Option<T>);

impl<T> From<Option<T>> for Opt<T> {
    fn from(v: Option<T>) -> Self {
        Opt(v)
    }
}

impl<T: SerializeValue> SerializeValue for Opt<T> {
    fn serialize<'b>(
        &self,
        typ: &ColumnType,
        writer: CellWriter<'b>,
    ) -> Result<WrittenCellProof<'b>, SerializationError> {
        match &self.0 {
            Some(v) => v.serialize(typ, writer),
            None => Ok(writer.set_unset()),
        }
    }
}

/// A `text` column value: immutable UTF-8, inline up to 24 bytes.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Text(CompactString);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(CompactString::new(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(CompactString::from(s))
    }
}

impl From<Cow<'_, str>> for Text {
    fn from(s: Cow<'_, str>) -> Self {
        Text(CompactString::from(s))
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl SerializeValue for Text {
    fn serialize<'b>(
        &self,
        typ: &ColumnType,
        writer: CellWriter<'b>,
    ) -> Result<WrittenCellProof<'b>, SerializationError> {
        self.as_str().serialize(typ, writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reads_and_compares_as_the_string_it_was_made_from() {
        for s in [
            "",
            "u_1",
            "exactly-twenty-four-byte",
            "a string longer than twenty-four bytes, é",
        ] {
            let texts = [
                Text::from(s),
                Text::from(s.to_owned()),
                Text::from(Cow::Borrowed(s)),
            ];
            for t in texts {
                assert_eq!(t.as_str(), s);
                assert_eq!(t, s);
                assert_eq!(format!("{t:?}"), format!("{s:?}"));
                assert_eq!(t.to_string(), s);
            }
        }
        // Text orders as str does: metadata maps keep their key order.
        let mut words = [
            "b",
            "a",
            "ab",
            "é",
            "Z",
            "",
            "a string longer than twenty-four bytes",
        ];
        let mut texts = words.map(Text::from);
        texts.sort();
        words.sort();
        assert_eq!(texts.each_ref().map(Text::as_str), words);
    }
}
