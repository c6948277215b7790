//! Column value types of the rows.
//!
//! [`Optional`]: an optional column value that is sent *unset* when absent.
//! Binding `null` for an absent optional field would write a tombstone for
//! every such column of every row; leaving it unset writes nothing. Unlike
//! the driver's `MaybeUnset`, `Optional` compares and reads like an `Option`.
//!
//! [`Text`]: a text column value that holds up to 24 bytes inline. Most
//! strings of a log are that short, so a row costs few allocations.
//!
//! [`TextMap`]: a `map<text, text>` column value, its entries in one sorted
//! vector: one allocation a row, where a `BTreeMap` costs a node and a walk
//! to build and another to drop.

use std::borrow::{Borrow, Cow};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use compact_str::CompactString;

use scylla::frame::response::result::{CollectionType, ColumnType};
use scylla::serialize::value::SerializeValue;
use scylla::serialize::writers::{CellWriter, WrittenCellProof};
use scylla::serialize::SerializationError;

/// An optional column: `Optional(None)` is bound as unset.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Optional<T>(pub Option<T>);

impl<T> From<Option<T>> for Optional<T> {
    fn from(v: Option<T>) -> Self {
        Optional(v)
    }
}

impl<T: SerializeValue> SerializeValue for Optional<T> {
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

/// A `map<text, text>` column value: entries sorted by key, each key once.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct TextMap(Vec<(Text, Text)>);

impl TextMap {
    /// The entries, sorted by key.
    pub fn entries(&self) -> &[(Text, Text)] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Text> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }
}

impl From<Vec<(Text, Text)>> for TextMap {
    /// Entries in any order; of a key given twice, the last value is kept,
    /// as a map's `insert` keeps it.
    fn from(mut entries: Vec<(Text, Text)>) -> Self {
        if !entries.is_sorted_by(|(a, _), (b, _)| a < b) {
            // Reversed, a stable sort puts the last of equal keys first,
            // and `dedup_by` keeps the first of a run.
            entries.reverse();
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
            entries.dedup_by(|(a, _), (b, _)| a == b);
        }
        TextMap(entries)
    }
}

impl FromIterator<(Text, Text)> for TextMap {
    fn from_iter<I: IntoIterator<Item = (Text, Text)>>(entries: I) -> Self {
        TextMap::from(entries.into_iter().collect::<Vec<_>>())
    }
}

impl From<BTreeMap<Text, Text>> for TextMap {
    fn from(map: BTreeMap<Text, Text>) -> Self {
        TextMap(map.into_iter().collect())
    }
}

impl fmt::Debug for TextMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl SerializeValue for TextMap {
    /// As the driver writes a map: the entry count, then each key and value.
    fn serialize<'b>(
        &self,
        typ: &ColumnType,
        writer: CellWriter<'b>,
    ) -> Result<WrittenCellProof<'b>, SerializationError> {
        let ColumnType::Collection {
            typ: CollectionType::Map(key_type, value_type),
            ..
        } = typ
        else {
            // Not a map column: the driver's map words the error.
            return BTreeMap::<Text, Text>::new().serialize(typ, writer);
        };
        let mut builder = writer.into_value_builder();
        let count = i32::try_from(self.0.len()).map_err(SerializationError::new)?;
        builder.append_bytes(&count.to_be_bytes());
        for (k, v) in &self.0 {
            k.serialize(key_type, builder.make_sub_writer())?;
            v.serialize(value_type, builder.make_sub_writer())?;
        }
        builder.finish().map_err(SerializationError::new)
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

    /// A map keeps the last value of a key given twice and its keys in
    /// order, and is written byte for byte as the driver writes the
    /// `BTreeMap` of the same entries.
    #[test]
    fn text_map_is_a_map_and_is_written_as_the_driver_writes_one() {
        let entries = [
            ("q", "1"),
            ("b", "x"),
            ("q", "last"),
            ("a string longer than 24 bytes", "é"),
            ("", ""),
        ];
        let map: TextMap = entries.iter().map(|&(k, v)| (k.into(), v.into())).collect();
        let tree: BTreeMap<Text, Text> =
            entries.iter().map(|&(k, v)| (k.into(), v.into())).collect();
        assert_eq!(map.len(), 4);
        assert_eq!(map.get("q").map(Text::as_str), Some("last"));
        assert_eq!(map.get("c"), None);
        assert_eq!(map, TextMap::from(tree.clone()));
        // Entries already in order are kept as they are; a key twice in a
        // row is not in order.
        for (entries, want) in [
            (vec![("a", "1"), ("b", "2")], vec![("a", "1"), ("b", "2")]),
            (vec![("a", "1"), ("a", "2")], vec![("a", "2")]),
        ] {
            let map: TextMap = entries
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect();
            let got: Vec<_> = map
                .entries()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            assert_eq!(got, want);
        }
        assert_eq!(format!("{map:?}"), format!("{tree:?}"));

        let text = ColumnType::Native(scylla::frame::response::result::NativeType::Text);
        let typ = ColumnType::Collection {
            frozen: false,
            typ: CollectionType::Map(Box::new(text.clone()), Box::new(text.clone())),
        };
        let written = |value: &dyn SerializeValue, typ: &ColumnType| {
            let mut out = Vec::new();
            let written = value
                .serialize(typ, CellWriter::new(&mut out))
                .map(drop)
                .map_err(|e| e.to_string());
            written.map(|()| out)
        };
        assert_eq!(written(&map, &typ), written(&tree, &typ));
        assert_eq!(
            written(&TextMap::default(), &typ),
            written(&BTreeMap::<Text, Text>::new(), &typ)
        );
        // Not a map column: refused as the driver refuses its own map.
        assert_eq!(written(&map, &text), written(&tree, &text));
        assert!(written(&map, &text).is_err());
    }
}
