//! The three log kinds: their JSON fields, their rules, and the rows they
//! become. Each `*_row` function is pure: a UTF-8 JSON document and the
//! record's position in → a row ready to bind, or the reason it is refused.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::net::IpAddr;

use crate::column::{Opt, Text, TextMap};
use scylla::value::{CqlDate, CqlTimestamp};
use scylla::SerializeRow;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::fields::{self, optional, required};
use crate::json::{BorrowedStr, Json};
use crate::reason::{ReasonCode, Rejection};
use crate::scan::{Scanner, Seen};
use crate::topics::LogKind;

/// Accepted `event_type` values of auth logs.
pub const AUTH_EVENT_TYPES: &[&str] = &[
    "login",
    "logout",
    "login_failed",
    "password_reset",
    "token_refresh",
    "mfa_challenge",
];
/// Accepted `auth_method` values.
pub const AUTH_METHODS: &[&str] = &["password", "oauth", "sso", "mfa", "api_key"];
/// Accepted `event_type` values of session logs.
pub const SESSION_EVENT_TYPES: &[&str] = &["session_start", "session_end", "heartbeat"];
/// Accepted `device.type` values.
pub const DEVICE_TYPES: &[&str] = &["desktop", "mobile", "tablet", "other"];
/// Accepted `action` values of activity logs.
pub const ACTIONS: &[&str] = &[
    "page_view",
    "click",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "checkout",
    "purchase",
];

/// Longest `failure_reason`, in bytes.
pub const MAX_FAILURE_REASON_BYTES: usize = 256;
/// `user_agent` is cut to this many bytes.
pub const MAX_USER_AGENT_BYTES: usize = 512;
/// Longest `resource`, in bytes.
pub const MAX_RESOURCE_BYTES: usize = 2048;
/// Longest session `duration_ms`: 30 days.
pub const MAX_SESSION_DURATION_MS: i64 = 2_592_000_000;
/// Most `pages_viewed` in one session.
pub const MAX_PAGES_VIEWED: i64 = 1_000_000;
/// Longest activity `duration_ms`: one day.
pub const MAX_ACTIVITY_DURATION_MS: i64 = 86_400_000;

/// Where a record came from in Kafka; stored with every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Kafka partition.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
}

/// A row of `auth_logs`.
#[derive(Debug, Clone, PartialEq, SerializeRow)]
pub struct AuthRow {
    pub user_id: Text,
    pub day: CqlDate,
    pub event_time: CqlTimestamp,
    pub event_id: Uuid,
    pub event_type: &'static str,
    pub success: bool,
    pub ip_address: IpAddr,
    pub auth_method: Opt<&'static str>,
    pub failure_reason: Opt<Text>,
    pub user_agent: Opt<Text>,
    pub country: Opt<&'static str>,
    pub city: Opt<Text>,
    pub source_partition: i32,
    pub source_offset: i64,
}

/// A row of `session_logs`.
#[derive(Debug, Clone, PartialEq, SerializeRow)]
pub struct SessionRow {
    pub user_id: Text,
    pub day: CqlDate,
    pub event_time: CqlTimestamp,
    pub session_id: Uuid,
    pub event_type: &'static str,
    pub ip_address: Opt<IpAddr>,
    pub device_type: Opt<&'static str>,
    pub os: Opt<Text>,
    pub browser: Opt<Text>,
    pub duration_ms: Opt<i64>,
    pub pages_viewed: Opt<i32>,
    pub source_partition: i32,
    pub source_offset: i64,
}

/// A row of `activity_logs`.
#[derive(Debug, Clone, PartialEq, SerializeRow)]
pub struct ActivityRow {
    pub user_id: Text,
    pub day: CqlDate,
    pub event_time: CqlTimestamp,
    pub event_id: Uuid,
    pub session_id: Opt<Uuid>,
    pub action: &'static str,
    pub resource: Text,
    pub duration_ms: Opt<i64>,
    pub metadata: Opt<TextMap>,
    pub source_partition: i32,
    pub source_offset: i64,
}

/// A validated log of any kind, ready to insert.
#[derive(Debug, Clone, PartialEq)]
pub enum LogRow {
    Auth(AuthRow),
    Session(SessionRow),
    Activity(ActivityRow),
}

impl LogRow {
    /// The kind of log this row holds.
    pub fn kind(&self) -> LogKind {
        match self {
            LogRow::Auth(_) => LogKind::Auth,
            LogRow::Session(_) => LogKind::Session,
            LogRow::Activity(_) => LogKind::Activity,
        }
    }
}

/// The columns of each table, in the order `schema.cql` declares them.
pub fn columns(kind: LogKind) -> &'static [&'static str] {
    match kind {
        LogKind::Auth => &[
            "user_id",
            "day",
            "event_time",
            "event_id",
            "event_type",
            "success",
            "ip_address",
            "auth_method",
            "failure_reason",
            "user_agent",
            "country",
            "city",
            "source_partition",
            "source_offset",
        ],
        LogKind::Session => &[
            "user_id",
            "day",
            "event_time",
            "session_id",
            "event_type",
            "ip_address",
            "device_type",
            "os",
            "browser",
            "duration_ms",
            "pages_viewed",
            "source_partition",
            "source_offset",
        ],
        LogKind::Activity => &[
            "user_id",
            "day",
            "event_time",
            "event_id",
            "session_id",
            "action",
            "resource",
            "duration_ms",
            "metadata",
            "source_partition",
            "source_offset",
        ],
    }
}

/// Validates one UTF-8 JSON document as a log of `kind`.
pub fn to_row(kind: LogKind, text: &str, at: Position) -> Result<LogRow, Rejection> {
    match kind {
        LogKind::Auth => auth_row(text, at).map(LogRow::Auth),
        LogKind::Session => session_row(text, at).map(LogRow::Session),
        LogKind::Activity => activity_row(text, at).map(LogRow::Activity),
    }
}

/// The fields of one log kind: read by serde_json, or, for a document the
/// shared fast reader ([`crate::scan`]) reads, by [`Fields::scan`].
trait Fields<'a>: Deserialize<'a> + Default {
    /// Reads the fields of an object into `self` (all `None`), as
    /// serde_json would read them; `None` for whatever the fast reader
    /// leaves to serde_json. Filled in place: the struct is a few hundred
    /// bytes, and each move of a returned one is a `memcpy`.
    fn scan(&mut self, s: &mut Scanner<'a>) -> Option<()>;
}

/// A field's value as the fast reader reads it (`null` is read before).
trait FieldValue<'a>: Sized {
    fn scan(s: &mut Scanner<'a>) -> Option<Self>;
}

impl<'a> FieldValue<'a> for Json<'a> {
    fn scan(s: &mut Scanner<'a>) -> Option<Self> {
        s.json()
    }
}

/// Declares the fields of a log kind: a struct serde derives a reader for,
/// each field optional (absent and `null` are both `None`; a field twice is
/// an error; other fields are skipped), and the fast reader of the same.
macro_rules! log_fields {
    ($name:ident { $($field:ident: $ty:ident),* $(,)? }) => {
        #[derive(Debug, Default, PartialEq, Deserialize)]
        struct $name<'a> {
            $(
                #[serde(borrow)]
                $field: Option<$ty<'a>>,
            )*
        }

        impl<'a> Fields<'a> for $name<'a> {
            fn scan(&mut self, s: &mut Scanner<'a>) -> Option<()> {
                /// One bit a field, for [`Seen`].
                #[allow(non_camel_case_types)]
                enum Bit { $($field),* }
                let fields = self;
                let mut seen = Seen::default();
                s.members(|s, name| {
                    match &*name {
                        $(
                            stringify!($field) => {
                                seen.first(1 << Bit::$field as u32)?;
                                fields.$field = s.nullable(<$ty>::scan)?;
                            }
                        )*
                        _ => {
                            s.json()?;
                        }
                    }
                    Some(())
                })?;
                Some(())
            }
        }
    };
}

/// Reads the top-level object into `fields` (all `None`), telling
/// `invalid_json` from `not_an_object`.
fn read_object<'a, T: Fields<'a>>(text: &'a str, fields: &mut T) -> Result<(), Rejection> {
    if Scanner::whole(text, |s| fields.scan(s)).is_some() {
        return Ok(());
    }
    let first = text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .as_bytes()
        .first();
    if first != Some(&b'{') {
        // Not an object: but is it JSON at all?
        return Err(match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => Rejection::new(
                ReasonCode::NotAnObject,
                format!(
                    "value is JSON but not an object (it starts with {})",
                    first_token(text)
                ),
            ),
            Err(e) => invalid_json(&e),
        });
    }
    // The fast reader may have filled some fields before it gave up.
    *fields = serde_json::from_str::<T>(text).map_err(|e| invalid_json(&e))?;
    Ok(())
}

fn first_token(text: &str) -> String {
    fields::quote(text.trim_start().get(..1).unwrap_or(""))
}

fn invalid_json(e: &serde_json::Error) -> Rejection {
    Rejection::new(
        ReasonCode::InvalidJson,
        format!("value is not valid JSON: {e}"),
    )
}

fn time_and_day(value: Option<Json<'_>>) -> Result<(CqlTimestamp, CqlDate), Rejection> {
    let ms = fields::timestamp("timestamp", required("timestamp", value)?)?;
    Ok((CqlTimestamp(ms), day_of(ms)))
}

/// The UTC day of an epoch-millisecond time, as a CQL `date`.
pub fn day_of(ms: i64) -> CqlDate {
    let days = ms.div_euclid(86_400_000);
    CqlDate((days + (1i64 << 31)) as u32)
}

fn unset_if_none<T>(v: Option<T>) -> Opt<T> {
    Opt(v)
}

/// Applies `check` to an optional field.
fn opt<'a, T>(
    value: Option<Json<'a>>,
    check: impl FnOnce(Json<'a>) -> Result<T, Rejection>,
) -> Result<Opt<T>, Rejection> {
    optional(value).map(check).transpose().map(unset_if_none)
}

log_fields!(AuthFields {
    event_id: Json,
    user_id: Json,
    timestamp: Json,
    event_type: Json,
    success: Json,
    ip_address: Json,
    auth_method: Json,
    failure_reason: Json,
    user_agent: Json,
    geo: Geo,
});

/// Validates an auth log.
pub fn auth_row(text: &str, at: Position) -> Result<AuthRow, Rejection> {
    let mut f = AuthFields::default();
    read_object(text, &mut f)?;
    let event_id = fields::uuid("event_id", required("event_id", f.event_id)?)?;
    let user_id = fields::user_id(f.user_id)?;
    let (event_time, day) = time_and_day(f.timestamp)?;
    let event_type = fields::one_of(
        "event_type",
        required("event_type", f.event_type)?,
        AUTH_EVENT_TYPES,
    )?;
    let success = fields::boolean("success", required("success", f.success)?)?;
    let ip_address = fields::ip_address("ip_address", required("ip_address", f.ip_address)?)?;
    let auth_method = opt(f.auth_method, |v| {
        fields::one_of("auth_method", v, AUTH_METHODS)
    })?;
    let failure_reason = opt(f.failure_reason, |v| {
        fields::bounded_string("failure_reason", v, 0, MAX_FAILURE_REASON_BYTES).map(Text::from)
    })?;
    let user_agent = opt(f.user_agent, |v| {
        fields::truncated_string("user_agent", v, MAX_USER_AGENT_BYTES)
    })?;
    let (country, city) = match f.geo {
        None => (Opt(None), Opt(None)),
        Some(geo) => {
            let [country, city, _] = geo.members("geo")?;
            let country = opt(country, |v| fields::country("geo.country", v))?;
            let city = opt(city, |v| fields::string("geo.city", v).map(Text::from))?;
            (country, city)
        }
    };
    Ok(AuthRow {
        user_id,
        day,
        event_time,
        event_id,
        event_type,
        success,
        ip_address,
        auth_method,
        failure_reason,
        user_agent,
        country,
        city,
        source_partition: at.partition,
        source_offset: at.offset,
    })
}

log_fields!(SessionFields {
    session_id: Json,
    user_id: Json,
    timestamp: Json,
    event_type: Json,
    ip_address: Json,
    device: Device,
    duration_ms: Json,
    pages_viewed: Json,
});

/// Validates a session log.
pub fn session_row(text: &str, at: Position) -> Result<SessionRow, Rejection> {
    let mut f = SessionFields::default();
    read_object(text, &mut f)?;
    let session_id = fields::uuid("session_id", required("session_id", f.session_id)?)?;
    let user_id = fields::user_id(f.user_id)?;
    let (event_time, day) = time_and_day(f.timestamp)?;
    let event_type = fields::one_of(
        "event_type",
        required("event_type", f.event_type)?,
        SESSION_EVENT_TYPES,
    )?;
    let ip_address = opt(f.ip_address, |v| fields::ip_address("ip_address", v))?;
    let (device_type, os, browser) = match f.device {
        None => (Opt(None), Opt(None), Opt(None)),
        Some(device) => {
            let [device_type, os, browser] = device.members("device")?;
            let device_type = opt(device_type, |v| {
                fields::one_of("device.type", v, DEVICE_TYPES)
            })?;
            let os = opt(os, |v| fields::string("device.os", v).map(Text::from))?;
            let browser = opt(browser, |v| {
                fields::string("device.browser", v).map(Text::from)
            })?;
            (device_type, os, browser)
        }
    };
    let duration_ms = opt(f.duration_ms, |v| {
        fields::integer("duration_ms", v, 0, MAX_SESSION_DURATION_MS)
    })?;
    let pages_viewed = opt(f.pages_viewed, |v| {
        fields::integer("pages_viewed", v, 0, MAX_PAGES_VIEWED).map(|n| n as i32)
    })?;
    Ok(SessionRow {
        user_id,
        day,
        event_time,
        session_id,
        event_type,
        ip_address,
        device_type,
        os,
        browser,
        duration_ms,
        pages_viewed,
        source_partition: at.partition,
        source_offset: at.offset,
    })
}

log_fields!(ActivityFields {
    event_id: Json,
    user_id: Json,
    session_id: Json,
    timestamp: Json,
    action: Json,
    resource: Json,
    duration_ms: Json,
    metadata: Metadata,
});

/// Validates an activity log.
pub fn activity_row(text: &str, at: Position) -> Result<ActivityRow, Rejection> {
    let mut f = ActivityFields::default();
    read_object(text, &mut f)?;
    let event_id = fields::uuid("event_id", required("event_id", f.event_id)?)?;
    let user_id = fields::user_id(f.user_id)?;
    let session_id = opt(f.session_id, |v| fields::uuid("session_id", v))?;
    let (event_time, day) = time_and_day(f.timestamp)?;
    let action = fields::one_of("action", required("action", f.action)?, ACTIONS)?;
    let resource = Text::from(fields::bounded_string(
        "resource",
        required("resource", f.resource)?,
        1,
        MAX_RESOURCE_BYTES,
    )?);
    let duration_ms = opt(f.duration_ms, |v| {
        fields::integer("duration_ms", v, 0, MAX_ACTIVITY_DURATION_MS)
    })?;
    let metadata = unset_if_none(f.metadata.map(metadata).transpose()?);
    Ok(ActivityRow {
        user_id,
        day,
        event_time,
        event_id,
        session_id,
        action,
        resource,
        duration_ms,
        metadata,
        source_partition: at.partition,
        source_offset: at.offset,
    })
}

/// `metadata`: an object of scalar values, stored as text. Strings are
/// stored as they read; numbers and booleans in their JSON text, exactly as
/// the producer wrote them (`1.50` stays `1.50`).
fn metadata(field: Metadata<'_>) -> Result<TextMap, Rejection> {
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
                .map_err(|e| invalid_json(&e))?,
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

fn not_an_object(field: &str, found: &str) -> Rejection {
    Rejection::invalid(field, format_args!("must be an object, got {found}"))
}

/// A field whose value is read as an object, member by member, by both
/// readers; a value that is not an object is kept as the name of its JSON
/// type ([`Json::type_name`]), for the error.
trait ObjectField<'a>: Sized {
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
struct ObjectVisitor<T>(PhantomData<T>);

/// Reads an [`ObjectField`] with serde.
fn deserialize_object<'de, T: ObjectField<'de>, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(ObjectVisitor(PhantomData))
}

impl<'de, T: ObjectField<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::read_members(map)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(T::not_object(Json::Array.type_name()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<T, E> {
        Ok(T::not_object(Json::Bool(true).type_name()))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<T, E> {
        Ok(T::not_object(Json::Int(0).type_name()))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<T, E> {
        Ok(T::not_object(Json::UInt(0).type_name()))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<T, E> {
        Ok(T::not_object(Json::Float(0.0).type_name()))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<T, E> {
        Ok(T::not_object(Json::Str(Cow::Borrowed("")).type_name()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::not_object(Json::Null.type_name()))
    }
}

/// The `metadata` member, read in the document's single pass: its members
/// with their values left as raw JSON text, or the JSON type it is.
#[derive(Debug, PartialEq)]
enum Metadata<'a> {
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
        let mut members = Vec::new();
        s.members(|s, key| {
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

/// Most members read from a nested object.
const MAX_PICKED: usize = 3;

/// The members read from a nested object (at most [`MAX_PICKED`]), in
/// the order they are kept.
trait MemberNames {
    const NAMES: &'static [&'static str];
}

/// `geo`: `country` and `city`.
#[derive(Debug, PartialEq)]
struct GeoNames;
impl MemberNames for GeoNames {
    const NAMES: &'static [&'static str] = &["country", "city"];
}
type Geo<'a> = Picked<'a, GeoNames>;

/// `device`: `type`, `os` and `browser`.
#[derive(Debug, PartialEq)]
struct DeviceNames;
impl MemberNames for DeviceNames {
    const NAMES: &'static [&'static str] = &["type", "os", "browser"];
}
type Device<'a> = Picked<'a, DeviceNames>;

/// A nested object of which a few members are read, without keeping the
/// rest: of a member given twice the last wins, as in most JSON readers,
/// and others are skipped, as unknown fields are.
#[derive(Debug, PartialEq)]
struct Picked<'a, N> {
    /// The members in the order of `N::NAMES`, or the type of a value
    /// that is not an object.
    found: Result<[Option<Json<'a>>; MAX_PICKED], &'static str>,
    names: PhantomData<N>,
}

impl<'a, N: MemberNames> Picked<'a, N> {
    /// A list of names longer than the slots fails the build, where it
    /// would otherwise index past them on the first log that has them.
    const FITS: () = assert!(N::NAMES.len() <= MAX_PICKED, "more names than MAX_PICKED");

    fn slot(name: &str) -> Option<usize> {
        let () = Self::FITS;
        N::NAMES.iter().position(|n| *n == name)
    }

    /// The members, in the order of `N::NAMES`, or why `field` is refused.
    fn members(self, field: &str) -> Result<[Option<Json<'a>>; MAX_PICKED], Rejection> {
        self.found.map_err(|found| not_an_object(field, found))
    }

    fn object(found: [Option<Json<'a>>; MAX_PICKED]) -> Self {
        Picked {
            found: Ok(found),
            names: PhantomData,
        }
    }
}

impl<'a, N: MemberNames> ObjectField<'a> for Picked<'a, N> {
    fn not_object(found: &'static str) -> Self {
        Picked {
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
        s.members(|s, key| {
            let value = s.json()?;
            if let Some(i) = Self::slot(&key) {
                found[i] = Some(value);
            }
            Some(())
        })?;
        Some(Self::object(found))
    }
}

impl<'de: 'a, 'a, N: MemberNames> Deserialize<'de> for Picked<'a, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        deserialize_object(d)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn with_metadata(metadata: &str) -> Result<ActivityRow, Rejection> {
        activity_with(&format!(r#""metadata":{metadata}"#))
    }

    /// A log of `kind` of its required fields and `more`.
    fn log_with(kind: LogKind, more: &str) -> Result<LogRow, Rejection> {
        let required = match kind {
            LogKind::Auth => concat!(
                r#""event_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff","user_id":"u","#,
                r#""timestamp":1795615800220,"event_type":"login","success":true,"ip_address":"::1""#
            ),
            LogKind::Session => concat!(
                r#""session_id":"e6fd60d6-363b-4289-8f42-488a98bbf7a0","user_id":"u","#,
                r#""timestamp":1795615800220,"event_type":"heartbeat""#
            ),
            LogKind::Activity => concat!(
                r#""event_id":"c91b424a-4e0f-4805-a58d-5d7788a8c480","user_id":"u","#,
                r#""timestamp":1795615800220,"action":"click","resource":"/a""#
            ),
        };
        let at = Position {
            partition: 0,
            offset: 0,
        };
        to_row(kind, &format!("{{{required},{more}}}"), at)
    }

    fn activity_with(more: &str) -> Result<ActivityRow, Rejection> {
        match log_with(LogKind::Activity, more)? {
            LogRow::Activity(row) => Ok(row),
            other => panic!("an activity log made {other:?}"),
        }
    }

    /// Logs in the shapes producers send, and some they should not: every
    /// field, `null`s, whitespace between tokens, escapes in names and
    /// values, a nested object with a member twice, unknown fields holding
    /// objects and arrays, strings on either side of the length where the
    /// search for their end turns to `memchr`, and metadata of every scalar.
    const AUTH: &str = concat!(
        r#"{"event_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff","user_id":"u\u00e9-1","#,
        r#""timestamp":"2026-11-25T14:00:00.123Z","event_type":"login","success":true,"#,
        "\n\t\"ip_address\" : \"10.0.0.1\" , \"auth_method\":null,\"failure_reason\":\"bad \\\"pw\\\"\",",
        r#""user_agent":"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0","#,
        r#""geo":{"country":"de","city":"Köln","city":"Bonn"},"x":{"y":[1,{"z":[]},"w"]},"n":false}"#,
        "\r\n",
    );
    const SESSION: &str = concat!(
        r#"{"session_id":"e6fd60d6-363b-4289-8f42-488a98bbf7a0","user_id":"user-0001","#,
        r#""timestamp":1795615200123,"event_type":"session_end","ip_address":"::1","#,
        r#""device":{"type":"Mobile","os":"iOS","browser":null},"duration_ms":360000,"#,
        r#""pages_viewed":0,"dev\u0069ce2":{}}"#,
    );
    const ACTIVITY: &str = concat!(
        r#" {"event_id":"c91b424a-4e0f-4805-a58d-5d7788a8c480","user_id":"u","session_id":null,"#,
        r#""timestamp":"2026-11-25T16:00:00+02:00","action":"click","resource":"/p/1?q=a%20b","#,
        r#""duration_ms":12,"metadata":{"price":1.50,"q":"a\"b","ok":true,"n":-3e2,"q":"last","z":null}}"#,
    );

    /// What the fast reader reads of `text`, checked against serde_json:
    /// whatever it reads, serde_json reads the same. `true` if it read it.
    fn read_alike<'a, T: Fields<'a> + PartialEq + std::fmt::Debug>(text: &'a str) -> bool {
        let mut fast = T::default();
        match Scanner::whole(text, |s| fast.scan(s)) {
            Some(()) => {
                assert_eq!(Some(fast), serde_json::from_str::<T>(text).ok(), "{text}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn the_fast_reader_reads_logs_as_serde_json_does() {
        assert!(read_alike::<AuthFields>(AUTH));
        assert!(read_alike::<SessionFields>(SESSION));
        assert!(read_alike::<ActivityFields>(ACTIVITY));
        let mut f = AuthFields::default();
        read_object(AUTH, &mut f).unwrap();
        assert_eq!(f.user_id, Some(Json::Str("ué-1".into())));
        assert_eq!(f.failure_reason, Some(Json::Str("bad \"pw\"".into())));
        assert_eq!(f.auth_method, None);
        let [country, city, _] = f.geo.expect("geo is read").members("geo").unwrap();
        assert_eq!(country, Some(Json::Str("de".into())));
        assert_eq!(city, Some(Json::Str("Bonn".into())), "the last city wins");
        let mut f = ActivityFields::default();
        read_object(ACTIVITY, &mut f).unwrap();
        let Some(Metadata::Members(members)) = f.metadata else {
            panic!("metadata is an object")
        };
        assert_eq!(members[0], ("price".into(), "1.50"));
        assert_eq!(members[1], ("q".into(), r#""a\"b""#));
        assert_eq!(members[3], ("n".into(), "-3e2"));
    }

    /// Every one-byte edit of each log: what the fast reader reads,
    /// serde_json reads into the same fields (so the same row or rejection
    /// follows); what it does not read is left to serde_json.
    #[test]
    fn what_the_fast_reader_reads_serde_json_reads_the_same() {
        fn count<'a, T: Fields<'a> + PartialEq + std::fmt::Debug>(
            edits: &'a [String],
        ) -> (usize, usize) {
            let read = edits.iter().filter(|e| read_alike::<T>(e)).count();
            (read, edits.len() - read)
        }
        for (read, left) in [
            count::<AuthFields>(&crate::scan::one_byte_edits(AUTH)),
            count::<SessionFields>(&crate::scan::one_byte_edits(SESSION)),
            count::<ActivityFields>(&crate::scan::one_byte_edits(ACTIVITY)),
        ] {
            // Both branches are taken many times: whitespace and digit
            // edits stay readable, broken syntax is left to serde_json.
            assert!(read > 1_000 && left > 1_000, "read {read}, left {left}");
        }
    }

    #[test]
    fn gives_up_on_what_it_does_not_read() {
        for text in [
            r#"{"user_id":"a","user_id":"b"}"#,
            r#"{"user_id":null,"user_id":"b"}"#,
            r#"{"user_id":"a","timestamp":1.5}"#,
            r#"{"user_id":"a","other":-1}"#,
            r#"{"user_id":"a"} x"#,
            r#"{"user_id":"a\x"}"#,
            "{\"user_id\":\"a\tb\"}",
            r#"["user_id"]"#,
        ] {
            assert!(!read_alike::<AuthFields>(text), "{text}");
        }
        // Unknown fields repeat freely, as serde skips them.
        assert!(read_alike::<AuthFields>(r#"{"a":1,"a":2}"#));
        assert!(!read_alike::<ActivityFields>(r#"{"metadata":{"a":{}}}"#));
        assert!(read_alike::<ActivityFields>(r#"{"metadata":[1]}"#));
    }

    /// JSON's grammar puts no bound on a number; f64's range does. An
    /// unknown field is skipped whatever number it holds, as serde skips
    /// it; a field that is read must hold a number in range.
    #[test]
    fn numbers_past_f64_are_skipped_where_unknown_and_refused_where_read() {
        for extra in [r#""x":206e50250"#, r#""x":{"y":[-1e400]}"#] {
            let row = activity_with(extra).expect(extra);
            assert_eq!(&*row.user_id, "u", "{extra}");
        }
        let e = activity_with(r#""duration_ms":1e400"#).unwrap_err();
        assert_eq!(e.reason, ReasonCode::InvalidJson, "{e:?}");
        assert!(e.detail.contains("number out of range"), "{e:?}");
    }

    /// `geo` and `device` are read for the members they take: the last
    /// of a name given twice wins, and the rest is skipped however it is
    /// written (a number past f64, nesting), as unknown fields are.
    #[test]
    fn nested_objects_keep_their_members_and_skip_the_rest() {
        let geo = r#""geo":{"country":"de","lat":1e400,"x":{"y":[1]},"city":"Köln","city":"Bonn"}"#;
        let Ok(LogRow::Auth(row)) = log_with(LogKind::Auth, geo) else {
            panic!("{geo}")
        };
        assert_eq!(
            (row.country.0, row.city.0.as_deref()),
            (Some("DE"), Some("Bonn"))
        );
        let device = r#""device":{"os":"iOS","type":"mobile","browser":"x","browser":null}"#;
        let Ok(LogRow::Session(row)) = log_with(LogKind::Session, device) else {
            panic!("{device}")
        };
        assert_eq!(row.device_type.0, Some("mobile"));
        assert_eq!((row.os.0.as_deref(), row.browser.0), (Some("iOS"), None));
        for (kind, more, detail) in [
            (
                LogKind::Auth,
                r#""geo":[1]"#,
                "field `geo` must be an object, got an array",
            ),
            (
                LogKind::Auth,
                r#""geo":{"city":{}}"#,
                "field `geo.city` must be a string, got an object",
            ),
            (
                LogKind::Session,
                r#""device":"x""#,
                "field `device` must be an object, got a string",
            ),
        ] {
            let e = log_with(kind, more).unwrap_err();
            assert_eq!(
                (e.reason, &*e.detail),
                (ReasonCode::InvalidField, detail),
                "{more}"
            );
        }
    }

    #[test]
    fn metadata_keeps_scalars_as_written_and_names_what_else_it_got() {
        let row =
            with_metadata(r#"{"price":1.50,"q":"a\"b","ok":true,"n":-3,"q":"last"}"#).unwrap();
        let want: BTreeMap<Text, Text> = [
            ("price", "1.50"),
            ("q", "last"),
            ("ok", "true"),
            ("n", "-3"),
        ]
        .map(|(k, v)| (k.into(), v.into()))
        .into();
        assert_eq!(row.metadata.0, Some(want.into()));
        assert_eq!(with_metadata("null").unwrap().metadata.0, None);
        for (value, got) in [
            (r#""k=v""#, "a string"),
            ("5", "an integer"),
            ("-5", "an integer"),
            ("1.5", "a non-integer number"),
            ("true", "a boolean"),
            ("[1,{}]", "an array"),
        ] {
            let e = with_metadata(value).unwrap_err();
            assert_eq!(
                e.detail,
                format!("field `metadata` must be an object, got {got}"),
                "{value}"
            );
        }
        let e = with_metadata(r#"{"a":1,"b\u0041":[1]}"#).unwrap_err();
        assert_eq!(
            e.detail,
            "field `metadata.bA` is an array; metadata values must be strings, numbers or booleans"
        );
    }
}
