//! The three log kinds: their JSON fields, their rules, and the rows they
//! become. Each `*_row` function is pure: a UTF-8 JSON document and the
//! record's position in → a row ready to bind, or the reason it is refused.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::net::IpAddr;

use crate::column::{Opt, Text, TextMap};
use scylla::value::{CqlDate, CqlTimestamp};
use scylla::SerializeRow;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::fields::{self, optional, required};
use crate::json::{BorrowedStr, Json};
use crate::reason::{ReasonCode, Rejection};
use crate::record::write_time_micros;
use crate::scan::{Names, Scanner, Seen};
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
    /// The record's Kafka timestamp in epoch milliseconds, if it has one:
    /// the row's write time comes from it (from the log's own time without
    /// it). Not stored as a column.
    pub timestamp_ms: Option<i64>,
}

impl Position {
    /// The write time (microseconds) of the row of a log with time
    /// `event_time_ms` read at this position: see
    /// [`crate::record::write_time_micros`].
    pub fn write_time(&self, event_time_ms: i64) -> i64 {
        write_time_micros(self.timestamp_ms.unwrap_or(event_time_ms), self.offset)
    }
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
    /// Write time in microseconds ([`Position::write_time`]); bound as
    /// `USING TIMESTAMP`, not a column.
    #[scylla(skip)]
    pub write_time: i64,
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
    /// Write time in microseconds ([`Position::write_time`]); bound as
    /// `USING TIMESTAMP`, not a column.
    #[scylla(skip)]
    pub write_time: i64,
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
    /// Write time in microseconds ([`Position::write_time`]); bound as
    /// `USING TIMESTAMP`, not a column.
    #[scylla(skip)]
    pub write_time: i64,
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

    /// The row's write time in microseconds (`USING TIMESTAMP`).
    pub fn write_time(&self) -> i64 {
        match self {
            LogRow::Auth(r) => r.write_time,
            LogRow::Session(r) => r.write_time,
            LogRow::Activity(r) => r.write_time,
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
    to_row_with(kind, text, at, Reader::Fast)
}

/// [`to_row`] with the reference reader alone (serde_json and
/// [`crate::json::check`]), never the fast one: for tests and the fuzz
/// targets, which hold the two to the same outcome.
#[doc(hidden)]
pub fn to_row_by_reference(kind: LogKind, text: &str, at: Position) -> Result<LogRow, Rejection> {
    to_row_with(kind, text, at, Reader::Reference)
}

fn to_row_with(kind: LogKind, text: &str, at: Position, by: Reader) -> Result<LogRow, Rejection> {
    match kind {
        LogKind::Auth => auth_row_with(text, at, by).map(LogRow::Auth),
        LogKind::Session => session_row_with(text, at, by).map(LogRow::Session),
        LogKind::Activity => activity_row_with(text, at, by).map(LogRow::Activity),
    }
}

/// Which reader reads a log's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// The fast reader ([`crate::scan`]), and the reference one on
    /// whatever it leaves.
    Fast,
    /// The reference reader alone.
    Reference,
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
/// an error; other fields are skipped), and the fast reader of the same,
/// which gives up on any name given twice.
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
                // Names of other fields, which are skipped: one given twice
                // is not JSON either.
                let mut others = Names::default();
                s.members(|s, name| {
                    match &*name {
                        $(
                            stringify!($field) => {
                                seen.first(1 << Bit::$field as u32)?;
                                fields.$field = s.nullable(<$ty>::scan)?;
                            }
                        )*
                        _ => {
                            others.first(name)?;
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
/// `invalid_json` (decided on the whole value, by [`crate::json::check`]'s
/// rules, whichever reader reads it) from `not_an_object`.
///
/// What the fast reader reads is JSON by those rules (it gives up on
/// anything else); what it gives up on, the reference reader reads.
fn read_object<'a, T: Fields<'a>>(
    text: &'a str,
    fields: &mut T,
    by: Reader,
) -> Result<(), Rejection> {
    if by == Reader::Fast && Scanner::whole(text, |s| fields.scan(s)).is_some() {
        return Ok(());
    }
    let first = text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .as_bytes()
        .first();
    if first != Some(&b'{') {
        // Not an object: but is it JSON at all?
        crate::json::check(text).map_err(invalid_json)?;
        return Err(Rejection::new(
            ReasonCode::NotAnObject,
            format!(
                "value is JSON but not an object (it starts with {})",
                first_token(text)
            ),
        ));
    }
    // The fast reader may have filled some fields before it gave up. The
    // typed read checks the grammar of the whole value, every name it reads
    // and every string it keeps; the names and escapes of what it skips are
    // checked after it.
    *fields = serde_json::from_str::<T>(text).map_err(invalid_json)?;
    crate::json::check_names_and_escapes(text).map_err(invalid_json)?;
    Ok(())
}

fn first_token(text: &str) -> String {
    fields::quote(text.trim_start().get(..1).unwrap_or(""))
}

fn invalid_json(e: impl std::fmt::Display) -> Rejection {
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
    auth_row_with(text, at, Reader::Fast)
}

fn auth_row_with(text: &str, at: Position, by: Reader) -> Result<AuthRow, Rejection> {
    let mut f = AuthFields::default();
    read_object(text, &mut f, by)?;
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
        write_time: at.write_time(event_time.0),
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
    session_row_with(text, at, Reader::Fast)
}

fn session_row_with(text: &str, at: Position, by: Reader) -> Result<SessionRow, Rejection> {
    let mut f = SessionFields::default();
    read_object(text, &mut f, by)?;
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
        write_time: at.write_time(event_time.0),
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
    activity_row_with(text, at, Reader::Fast)
}

fn activity_row_with(text: &str, at: Position, by: Reader) -> Result<ActivityRow, Rejection> {
    let mut f = ActivityFields::default();
    read_object(text, &mut f, by)?;
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
        write_time: at.write_time(event_time.0),
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

/// Reads an [`ObjectField`] with serde. Through `RawValue`, as [`Json`]
/// is read: a value that is not an object is only named, so a number is
/// not read (serde_json would refuse `1e400`, which is JSON); an object is
/// then read member by member.
fn deserialize_object<'de, T: ObjectField<'de>, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
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
const MAX_METADATA_NAMES: usize = 64;

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
/// rest: others are skipped, as unknown fields are. A member given twice
/// makes the value `invalid_json`, as in any object.
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
        let mut seen = Seen::default();
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
            timestamp_ms: None,
        };
        to_row(kind, &format!("{{{required},{more}}}"), at)
    }

    /// Every kind's row carries the write time of its record: the Kafka
    /// timestamp in microseconds plus the offset's last three digits, or,
    /// without a Kafka timestamp, the log's own time the same way.
    #[test]
    fn rows_carry_the_write_time_of_their_record() {
        let log = |kind| match kind {
            LogKind::Auth => {
                r#"{"event_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff","user_id":"u","timestamp":1795615800220,"event_type":"login","success":true,"ip_address":"::1"}"#
            }
            LogKind::Session => {
                r#"{"session_id":"e6fd60d6-363b-4289-8f42-488a98bbf7a0","user_id":"u","timestamp":1795615800220,"event_type":"heartbeat"}"#
            }
            LogKind::Activity => {
                r#"{"event_id":"c91b424a-4e0f-4805-a58d-5d7788a8c480","user_id":"u","timestamp":1795615800220,"action":"click","resource":"/a"}"#
            }
        };
        for kind in LogKind::ALL {
            for (kafka, offset, want) in [
                (Some(1_795_615_900_007), 12_345, 1_795_615_900_007_345),
                (Some(1_795_615_900_007), 999, 1_795_615_900_007_999),
                (Some(1_795_615_900_007), 1_000, 1_795_615_900_007_000),
                (Some(0), 7, 7),
                (None, 42, 1_795_615_800_220_042),
                (None, 3_000_001, 1_795_615_800_220_001),
            ] {
                let at = Position {
                    partition: 1,
                    offset,
                    timestamp_ms: kafka,
                };
                let row = to_row(kind, log(kind), at).unwrap();
                assert_eq!(row.write_time(), want, "{kind:?} {kafka:?} {offset}");
                let field = match &row {
                    LogRow::Auth(r) => r.write_time,
                    LogRow::Session(r) => r.write_time,
                    LogRow::Activity(r) => r.write_time,
                };
                assert_eq!(field, want);
            }
        }
    }

    fn activity_with(more: &str) -> Result<ActivityRow, Rejection> {
        match log_with(LogKind::Activity, more)? {
            LogRow::Activity(row) => Ok(row),
            other => panic!("an activity log made {other:?}"),
        }
    }

    /// Logs in the shapes producers send, and some they should not: every
    /// field, `null`s, whitespace between tokens, escapes in names and
    /// values (a surrogate pair among them), nested objects with members
    /// that are skipped, unknown fields holding objects, arrays and numbers
    /// of any spelling, strings on either side of the length where the
    /// search for their end turns to `memchr`, and metadata of every
    /// scalar.
    const AUTH: &str = concat!(
        r#"{"event_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff","user_id":"u\u00e9-1","#,
        r#""timestamp":"2026-11-25T14:00:00.123Z","event_type":"login","success":true,"#,
        "\n\t\"ip_address\" : \"10.0.0.1\" , \"auth_method\":null,\"failure_reason\":\"bad \\\"pw\\\"\",",
        r#""user_agent":"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0","#,
        r#""geo":{"country":"de","lat":-1.5e3,"city":"Köln","x":{"city":"Bonn"}},"#,
        r#""x":{"y":[1,{"z":[]},"w",-0.5]},"n":false,"e":"\ud83d\ude00"}"#,
        "\r\n",
    );
    const SESSION: &str = concat!(
        r#"{"session_id":"e6fd60d6-363b-4289-8f42-488a98bbf7a0","user_id":"user-0001","#,
        r#""timestamp":1795615200123,"event_type":"session_end","ip_address":"::1","#,
        r#""device":{"type":"Mobile","os":"iOS","browser":null},"duration_ms":360000,"#,
        r#""pages_viewed":0,"dev\u0069ce2":{},"big":99999999999999999999}"#,
    );
    const ACTIVITY: &str = concat!(
        r#" {"event_id":"c91b424a-4e0f-4805-a58d-5d7788a8c480","user_id":"u","session_id":null,"#,
        r#""timestamp":"2026-11-25T16:00:00+02:00","action":"click","resource":"/p/1?q=a%20b","#,
        r#""duration_ms":12,"metadata":{"price":1.50,"q":"a\"b","ok":true,"n":-3e2,"big":1e400}}"#,
    );

    fn at() -> Position {
        Position {
            partition: 0,
            offset: 0,
            timestamp_ms: None,
        }
    }

    /// What the fast reader reads of `text`, checked against serde_json:
    /// whatever it reads, serde_json reads the same, and it is JSON by the
    /// whole-value rules. `true` if it read it.
    fn read_alike<'a, T: Fields<'a> + PartialEq + std::fmt::Debug>(text: &'a str) -> bool {
        let mut fast = T::default();
        match Scanner::whole(text, |s| fast.scan(s)) {
            Some(()) => {
                assert_eq!(Some(fast), serde_json::from_str::<T>(text).ok(), "{text}");
                assert_eq!(crate::json::check(text), Ok(()), "{text}");
                true
            }
            None => false,
        }
    }

    /// Both readers give `text` the same outcome (the same row, or the
    /// same reason and detail), and it is `invalid_json` exactly when a
    /// reading of each value by serde_json finds it is not JSON.
    fn same_outcome(kind: LogKind, text: &str) -> Result<LogRow, Rejection> {
        let fast = to_row(kind, text, at());
        assert_eq!(fast, to_row_by_reference(kind, text, at()), "{text}");
        if let Some(json) = crate::json::check_by_recursion(text) {
            let invalid = matches!(&fast, Err(e) if e.reason == ReasonCode::InvalidJson);
            assert_eq!(invalid, json.is_err(), "{text}: {fast:?} vs {json:?}");
        }
        fast
    }

    #[test]
    fn the_fast_reader_reads_logs_as_serde_json_does() {
        assert!(read_alike::<AuthFields>(AUTH));
        assert!(read_alike::<SessionFields>(SESSION));
        assert!(read_alike::<ActivityFields>(ACTIVITY));
        let mut f = AuthFields::default();
        read_object(AUTH, &mut f, Reader::Fast).unwrap();
        assert_eq!(f.user_id, Some(Json::Str("ué-1".into())));
        assert_eq!(f.failure_reason, Some(Json::Str("bad \"pw\"".into())));
        assert_eq!(f.auth_method, None);
        let [country, city, _] = f.geo.expect("geo is read").members("geo").unwrap();
        assert_eq!(country, Some(Json::Str("de".into())));
        assert_eq!(city, Some(Json::Str("Köln".into())));
        let mut f = ActivityFields::default();
        read_object(ACTIVITY, &mut f, Reader::Fast).unwrap();
        let Some(Metadata::Members(members)) = f.metadata else {
            panic!("metadata is an object")
        };
        assert_eq!(members[0], ("price".into(), "1.50"));
        assert_eq!(members[1], ("q".into(), r#""a\"b""#));
        assert_eq!(members[3], ("n".into(), "-3e2"));
        assert_eq!(members[4], ("big".into(), "1e400"));
        for (kind, text) in [
            (LogKind::Auth, AUTH),
            (LogKind::Session, SESSION),
            (LogKind::Activity, ACTIVITY),
        ] {
            assert!(same_outcome(kind, text).is_ok(), "{text}");
        }
    }

    /// Every one-byte edit of each log: what the fast reader reads,
    /// serde_json reads into the same fields, and both readers give every
    /// edit the same outcome; what it does not read is left to the
    /// reference reader.
    #[test]
    fn what_the_fast_reader_reads_serde_json_reads_the_same() {
        fn count<'a, T: Fields<'a> + PartialEq + std::fmt::Debug>(
            kind: LogKind,
            edits: &'a [String],
        ) -> (usize, usize) {
            let read = edits.iter().filter(|e| read_alike::<T>(e)).count();
            for e in edits {
                let _ = same_outcome(kind, e);
            }
            (read, edits.len() - read)
        }
        for (read, left) in [
            count::<AuthFields>(LogKind::Auth, &crate::scan::one_byte_edits(AUTH)),
            count::<SessionFields>(LogKind::Session, &crate::scan::one_byte_edits(SESSION)),
            count::<ActivityFields>(LogKind::Activity, &crate::scan::one_byte_edits(ACTIVITY)),
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
            r#"{"a":1,"a":2}"#,
            r#"{"a":1,"\u0061":2}"#,
            r#"{"x":{"y":1,"y":1}}"#,
            r#"{"geo":{"city":"a","city":"b"}}"#,
            r#"{"geo":{"q":"a","q":"b"}}"#,
            r#"{"x":"\ud800"}"#,
            r#"{"user_id":"a"} x"#,
            r#"{"user_id":"a\x"}"#,
            "{\"user_id\":\"a\tb\"}",
            r#"["user_id"]"#,
        ] {
            assert!(!read_alike::<AuthFields>(text), "{text}");
        }
        // Numbers of any spelling are read, kept as written.
        assert!(read_alike::<AuthFields>(
            r#"{"user_id":"a","timestamp":1.5,"other":-1e400}"#
        ));
        assert!(!read_alike::<ActivityFields>(r#"{"metadata":{"a":{}}}"#));
        assert!(!read_alike::<ActivityFields>(
            r#"{"metadata":{"a":1,"a":1}}"#
        ));
        assert!(read_alike::<ActivityFields>(r#"{"metadata":[1]}"#));
    }

    /// Contract rule: `invalid_json` is decided on the whole value, the
    /// same way by both readers: a name twice in any object at any depth
    /// (names compared as read), or a `\u` escape that leaves a lone
    /// surrogate anywhere, is not JSON, whichever field it sits in, before
    /// any field is looked at.
    #[test]
    fn invalid_json_is_decided_on_the_whole_value() {
        let cases = [
            // A name twice: at the top, in a known field's object, in an
            // unknown field, deep down, in an array.
            (LogKind::Auth, r#""user_id":"v","user_id":"v""#),
            (LogKind::Auth, r#""x":1,"x":1"#),
            (LogKind::Auth, r#""x":1,"\u0078":1"#),
            (LogKind::Auth, r#""geo":{"country":"de","country":"fr"}"#),
            (LogKind::Auth, r#""geo":{"lat":1,"lat":1}"#),
            (LogKind::Auth, r#""geo":{"x":{"a":1,"a":2}}"#),
            (LogKind::Session, r#""device":{"os":"a","os":"a"}"#),
            (LogKind::Session, r#""x":[[{"a":[{"k":1,"k":2}]}]]"#),
            (LogKind::Activity, r#""metadata":{"q":"a","q":"b"}"#),
            (LogKind::Activity, r#""metadata":{"q":"a","\u0071":"b"}"#),
            // A lone surrogate: in a known string, a known field's name,
            // an unknown field (name or value), nested objects, metadata
            // names and values, after a surrogate pair, or reversed.
            (LogKind::Auth, r#""user_agent":"\ud800""#),
            (LogKind::Auth, r#""\udbff":1"#),
            (LogKind::Auth, r#""x":"a\udfffb""#),
            (LogKind::Auth, r#""x":{"y":["\ud83d"]}"#),
            (LogKind::Auth, r#""geo":{"city":"\udc00"}"#),
            (LogKind::Auth, r#""geo":{"z":"\ud800"}"#),
            (LogKind::Session, r#""device":{"o\ud800s":1}"#),
            (LogKind::Activity, r#""metadata":{"k":"\ud800"}"#),
            (LogKind::Activity, r#""metadata":{"\ud800":"v"}"#),
            (LogKind::Activity, r#""x":"\ud83d\ude00\ud83d""#),
            (LogKind::Activity, r#""x":"\ude00\ud83d""#),
            (LogKind::Activity, r#""x":"\ud800\u0041""#),
        ];
        for (kind, more) in cases {
            for text in [
                format!("{{{more}}}"),
                // Before any field, whatever the rest holds.
                format!(r#"{{"user_id":5,{more}}}"#),
            ] {
                let e = same_outcome(kind, &text).unwrap_err();
                assert_eq!(e.reason, ReasonCode::InvalidJson, "{text}: {e:?}");
            }
            let e = log_with(kind, more).unwrap_err();
            assert_eq!(e.reason, ReasonCode::InvalidJson, "{more}: {e:?}");
        }
        // Not an object, and not JSON either: invalid_json comes first.
        for text in [r#"[{"a":1,"a":2}]"#, r#"["\ud800"]"#, r#""\udc00""#] {
            let e = same_outcome(LogKind::Auth, text).unwrap_err();
            assert_eq!(e.reason, ReasonCode::InvalidJson, "{text}");
        }
        let e = same_outcome(LogKind::Auth, r#"[{"a":1},{"a":1}]"#).unwrap_err();
        assert_eq!(e.reason, ReasonCode::NotAnObject);
        // The same name in different objects, surrogate pairs, and names
        // that differ only in case are JSON.
        for more in [
            r#""x":{"a":1},"y":{"a":1,"b":{"a":1}}"#,
            r#""x":"\ud83d\ude00","geo":{"city":"\uD83D\uDE00"}"#,
            r#""x":1,"X":1"#,
        ] {
            let row = same_outcome(
                LogKind::Auth,
                &format!(
                    r#"{{"event_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff","user_id":"u","timestamp":1795615800220,"event_type":"login","success":true,"ip_address":"::1",{more}}}"#
                ),
            );
            assert!(row.is_ok(), "{more}: {row:?}");
        }
        let e = same_outcome(LogKind::Auth, r#"{"x":{"a":1,"a":1}"#).unwrap_err();
        assert_eq!(e.reason, ReasonCode::InvalidJson);
    }

    /// Contract rule: a value that is JSON but does not fit its field is
    /// `invalid_field`, never `invalid_json`, in either reader: numbers of
    /// any size or spelling. `-0` is the integer 0.
    #[test]
    fn numbers_that_do_not_fit_their_field_are_invalid_fields() {
        let field = |kind, more: &str| {
            let text = match log_with(kind, more) {
                Ok(row) => return Ok(row),
                Err(e) => e,
            };
            Err((text.reason, text.detail))
        };
        for (kind, more, detail) in [
            (
                LogKind::Session,
                r#""duration_ms":1e400"#,
                "field `duration_ms` must be an integer, got a non-integer number",
            ),
            (
                LogKind::Activity,
                r#""duration_ms":1e400"#,
                "field `duration_ms` must be an integer, got a non-integer number",
            ),
            (
                LogKind::Activity,
                r#""duration_ms":-1e400"#,
                "field `duration_ms` must be an integer, got a non-integer number",
            ),
            (
                LogKind::Session,
                r#""duration_ms":1.5"#,
                "field `duration_ms` must be an integer, got a non-integer number",
            ),
            (
                LogKind::Session,
                r#""pages_viewed":1.0"#,
                "field `pages_viewed` must be an integer, got a non-integer number",
            ),
            (
                LogKind::Session,
                r#""pages_viewed":99999999999999999999"#,
                "field `pages_viewed` is 99999999999999999999, outside 0..=1000000",
            ),
            (
                LogKind::Session,
                r#""pages_viewed":-99999999999999999999"#,
                "field `pages_viewed` is -99999999999999999999, outside 0..=1000000",
            ),
            (
                LogKind::Activity,
                r#""duration_ms":9223372036854775808"#,
                "field `duration_ms` is 9223372036854775808, outside 0..=86400000",
            ),
            (
                LogKind::Auth,
                r#""geo":1e400"#,
                "field `geo` must be an object, got a non-integer number",
            ),
            (
                LogKind::Session,
                r#""device":-0"#,
                "field `device` must be an object, got an integer",
            ),
            (
                LogKind::Activity,
                r#""metadata":1e400"#,
                "field `metadata` must be an object, got a non-integer number",
            ),
            (
                LogKind::Auth,
                r#""geo":{"country":1e400}"#,
                "field `geo.country` must be a string, got a non-integer number",
            ),
        ] {
            assert_eq!(
                field(kind, more).map(drop),
                Err((ReasonCode::InvalidField, detail.to_owned())),
                "{more}"
            );
        }
        // A timestamp: an integer too large, a float, a boolean.
        let without_time = |time: &str| {
            format!(
                r#"{{"event_id":"c91b424a-4e0f-4805-a58d-5d7788a8c480","user_id":"u","timestamp":{time},"action":"click","resource":"/a"}}"#
            )
        };
        for time in [
            "99999999999999999999",
            "1795615800220.0",
            "1.7956158e12",
            "1e400",
            "true",
            "false",
            "-0",
        ] {
            let e = same_outcome(LogKind::Activity, &without_time(time)).unwrap_err();
            assert_eq!(e.reason, ReasonCode::InvalidField, "{time}: {e:?}");
        }
        // `-0` is 0 where 0 is valid.
        let Ok(LogRow::Session(row)) =
            log_with(LogKind::Session, r#""duration_ms":-0,"pages_viewed":-0"#)
        else {
            panic!("-0 is 0")
        };
        assert_eq!((row.duration_ms.0, row.pages_viewed.0), (Some(0), Some(0)));
        assert_eq!(
            activity_with(r#""duration_ms":-0"#).unwrap().duration_ms.0,
            Some(0)
        );
        // Fields not read hold any number.
        for extra in [
            r#""x":206e50250"#,
            r#""x":{"y":[-1e400]}"#,
            r#""x":-0.0e-999"#,
        ] {
            let row = activity_with(extra).expect(extra);
            assert_eq!(&*row.user_id, "u", "{extra}");
        }
        // Metadata keeps numbers as written, whatever their size.
        let row = with_metadata(r#"{"a":1e400,"b":-99999999999999999999999,"c":-0}"#).unwrap();
        let stored: Vec<(String, String)> = row
            .metadata
            .0
            .unwrap()
            .entries()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(
            stored,
            [
                ("a", "1e400"),
                ("b", "-99999999999999999999999"),
                ("c", "-0")
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    /// `geo` and `device` are read for the members they take, and the rest
    /// is skipped however it is written (a number past f64, nesting), as
    /// unknown fields are.
    #[test]
    fn nested_objects_keep_their_members_and_skip_the_rest() {
        let geo = r#""geo":{"country":"de","lat":1e400,"x":{"y":[1]},"city":"Köln"}"#;
        let Ok(LogRow::Auth(row)) = log_with(LogKind::Auth, geo) else {
            panic!("{geo}")
        };
        assert_eq!(
            (row.country.0, row.city.0.as_deref()),
            (Some("DE"), Some("Köln"))
        );
        let device = r#""device":{"os":"iOS","type":"mobile","browser":null}"#;
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
        let row = with_metadata(r#"{"price":1.50,"q":"a\"b","ok":true,"n":-3}"#).unwrap();
        let want: BTreeMap<Text, Text> = [
            ("price", "1.50"),
            ("q", "a\"b"),
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
        // A key twice is not JSON; past what the fast reader compares, the
        // reference reader reads it, with the same outcome.
        let e = with_metadata(r#"{"q":"a","q":"b"}"#).unwrap_err();
        assert_eq!(e.reason, ReasonCode::InvalidJson);
        let many: Vec<String> = (0..200).map(|i| format!(r#""k{i}":{i}"#)).collect();
        let row = with_metadata(&format!("{{{}}}", many.join(","))).unwrap();
        assert_eq!(row.metadata.0.map(|m| m.len()), Some(200));
        let e = with_metadata(&format!(r#"{{{},"k7":0}}"#, many.join(","))).unwrap_err();
        assert_eq!(e.reason, ReasonCode::InvalidJson);
    }
}
