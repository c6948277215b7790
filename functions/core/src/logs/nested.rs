//! The nested values of a log: `metadata` (an object of scalars, kept
//! whole as a map) and the objects of which a few members are read (`geo`,
//! `device`), by either reader, with the same outcome.

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::{invalid_json, FieldValue};
use crate::column::{Text, TextMap};
use crate::json::{BorrowedStr, Json};
use crate::json_scan::{FieldsRead, Names, Scanner};
use crate::reason::Rejection;

/// `metadata`: an object of scalar values, stored as text. Strings are
/// stored as they read; numbers and booleans in their JSON text, exactly as
/// the producer wrote them (`1.50` stays `1.50`).
pub(super) fn metadata(field: Metadata<'_>) -> Result<TextMap, Rejection> {
    let members = match field {
        Metadata::Members(members) => members,
        Metadata::NotObject(found) => return Err(not_an_object("metadata", found)),
    };
    let mut entries = Vec::with_capacity(members.len());
    for (key, text) in members {
        let stored = match text.as_bytes().first() {
            // A string without escapes is its text between the quotes.
            Some(b'"') if !text.contains('\\') => Text::from(&text[1..text.len() - 1]),
            Some(b'"') => serde_json::from_str::<String>(text)
                .map(Text::from)
                .map_err(invalid_json)?,
            Some(b'{') | Some(b'[') | Some(b'n') => {
                let what = match text.as_bytes()[0] {
                    b'{' => "an object",
                    b'[' => "an array",
                    _ => "null",
                };
                return Err(Rejection::invalid(
                    &format!("metadata.{key}"),
                    format_args!("is {what}; metadata values must be strings, numbers or booleans"),
                ));
            }
            _ => Text::from(text),
        };
        entries.push((Text::from(key), stored));
    }
    Ok(TextMap::from(entries))
}

pub(super) fn not_an_object(field: &str, found: &str) -> Rejection {
    Rejection::invalid(field, format_args!("must be an object, got {found}"))
}

/// A field whose value is read as an object, member by member, by both
/// readers; a value that is not an object is kept as the name of its JSON
/// type ([`Json::type_name`]), for the error.
pub(super) trait ObjectField<'a>: Sized {
    fn not_object(found: &'static str) -> Self;
    /// The members, as serde_json reads them.
    fn read_members<A: MapAccess<'a>>(map: A) -> Result<Self, A::Error>;
    /// The members, as the fast reader reads them (the `{` comes next).
    fn scan_members(s: &mut Scanner<'a>) -> Option<Self>;
}

impl<'a, T: ObjectField<'a>> FieldValue<'a> for T {
    fn scan(s: &mut Scanner<'a>) -> Option<Self> {
        if s.peek()? != b'{' {
            return s.json().map(|v| T::not_object(v.type_name()));
        }
        T::scan_members(s)
    }
}

/// serde_json's reader of an [`ObjectField`].
pub(super) struct ObjectVisitor<T>(PhantomData<T>);

/// Reads an [`ObjectField`] with serde. Through `RawValue`, as [`Json`]
/// is read: a value that is not an object is only named, so a number is
/// not read (serde_json would refuse `1e400`, which is JSON); an object is
/// then read member by member.
pub(super) fn deserialize_object<'de, T: ObjectField<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<T, D::Error> {
    let raw = <&'de RawValue>::deserialize(d)?.get();
    if !raw.starts_with('{') {
        let value = Json::from_raw(raw).map_err(de::Error::custom)?;
        return Ok(T::not_object(value.type_name()));
    }
    let mut members = serde_json::Deserializer::from_str(raw);
    (&mut members)
        .deserialize_map(ObjectVisitor(PhantomData))
        .map_err(de::Error::custom)
}

impl<'de, T: ObjectField<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::read_members(map)
    }
}

/// The `metadata` member, read in the document's single pass: its members
/// with their values left as raw JSON text, or the JSON type it is.
#[derive(Debug, PartialEq)]
pub(super) enum Metadata<'a> {
    Members(Vec<(Cow<'a, str>, &'a str)>),
    NotObject(&'static str),
}

impl<'a> ObjectField<'a> for Metadata<'a> {
    fn not_object(found: &'static str) -> Self {
        Metadata::NotObject(found)
    }
    fn read_members<A: MapAccess<'a>>(mut map: A) -> Result<Self, A::Error> {
        let mut members = Vec::new();
        while let Some(BorrowedStr(k)) = map.next_key::<BorrowedStr<'a>>()? {
            members.push((k, map.next_value::<&'a RawValue>()?.get()));
        }
        Ok(Metadata::Members(members))
    }
    fn scan_members(s: &mut Scanner<'a>) -> Option<Self> {
        let mut members: Vec<(Cow<'a, str>, &'a str)> = Vec::new();
        s.members(|s, key| {
            // A name twice is not JSON: left to the reference reader, as
            // are more names than are worth comparing one by one.
            if members.len() == MAX_METADATA_NAMES || members.iter().any(|(k, _)| *k == key) {
                return None;
            }
            members.push((key, s.raw_scalar()?));
            Some(())
        })?;
        Some(Metadata::Members(members))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Metadata<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_object(d)
    }
}

/// Most metadata members the fast reader reads (names compared one by one).
pub(super) const MAX_METADATA_NAMES: usize = 64;

/// Most members read from a nested object.
pub(super) const MAX_PICKED: usize = 3;

/// The members read from a nested object (at most [`MAX_PICKED`]), in
/// the order they are kept.
pub(super) trait MemberNames {
    const NAMES: &'static [&'static str];
}

/// `geo`: `country` and `city`.
#[derive(Debug, PartialEq)]
pub(super) struct GeoNames;
impl MemberNames for GeoNames {
    const NAMES: &'static [&'static str] = &["country", "city"];
}
/// The `geo` field as read, before its members are checked
/// ([`crate::log_types::Geo`] after).
pub(super) type GeoField<'a> = NestedObject<'a, GeoNames>;

/// `device`: `type`, `os` and `browser`.
#[derive(Debug, PartialEq)]
pub(super) struct DeviceNames;
impl MemberNames for DeviceNames {
    const NAMES: &'static [&'static str] = &["type", "os", "browser"];
}
/// The `device` field as read, before its members are checked
/// ([`crate::log_types::Device`] after).
pub(super) type DeviceField<'a> = NestedObject<'a, DeviceNames>;

/// A nested object of which a few members are read, without keeping the
/// rest: others are skipped, as unknown fields are. A member given twice
/// makes the value `invalid_json`, as in any object.
#[derive(Debug, PartialEq)]
pub(super) struct NestedObject<'a, N> {
    /// The members in the order of `N::NAMES`, or the type of a value
    /// that is not an object.
    found: Result<[Option<Json<'a>>; MAX_PICKED], &'static str>,
    names: PhantomData<N>,
}

impl<'a, N: MemberNames> NestedObject<'a, N> {
    /// A list of names longer than the slots fails the build, where it
    /// would otherwise index past them on the first log that has them.
    const FITS: () = assert!(N::NAMES.len() <= MAX_PICKED, "more names than MAX_PICKED");

    fn slot(name: &str) -> Option<usize> {
        let () = Self::FITS;
        N::NAMES.iter().position(|n| *n == name)
    }

    /// The members, in the order of `N::NAMES`, or why `field` is refused.
    pub(super) fn members(self, field: &str) -> Result<[Option<Json<'a>>; MAX_PICKED], Rejection> {
        self.found.map_err(|found| not_an_object(field, found))
    }

    fn object(found: [Option<Json<'a>>; MAX_PICKED]) -> Self {
        NestedObject {
            found: Ok(found),
            names: PhantomData,
        }
    }
}

impl<'a, N: MemberNames> ObjectField<'a> for NestedObject<'a, N> {
    fn not_object(found: &'static str) -> Self {
        NestedObject {
            found: Err(found),
            names: PhantomData,
        }
    }
    fn read_members<A: MapAccess<'a>>(mut map: A) -> Result<Self, A::Error> {
        let mut found: [Option<Json<'a>>; MAX_PICKED] = Default::default();
        while let Some(BorrowedStr(key)) = map.next_key::<BorrowedStr<'a>>()? {
            match Self::slot(&key) {
                Some(i) => found[i] = Some(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Self::object(found))
    }
    fn scan_members(s: &mut Scanner<'a>) -> Option<Self> {
        let mut found: [Option<Json<'a>>; MAX_PICKED] = Default::default();
        let mut seen = FieldsRead::default();
        let mut others = Names::default();
        s.members(|s, key| {
            match Self::slot(&key) {
                Some(i) => {
                    seen.first(1 << i)?;
                    found[i] = Some(s.json()?);
                }
                None => {
                    others.first(key)?;
                    s.json()?;
                }
            }
            Some(())
        })?;
        Some(Self::object(found))
    }
}

impl<'de: 'a, 'a, N: MemberNames> Deserialize<'de> for NestedObject<'a, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_object(d)
    }
}
