//! The three log kinds: their JSON fields and their rules. Validation is
//! pure: each `*_log` function takes a UTF-8 JSON document to a typed log
//! ([`crate::log_types`]: the log's fields, checked, with nothing of how
//! they are stored), or to the reason it is refused, the first in the order
//! of [`ReasonCode`]. [`crate::rows`] maps a typed log and the record's
//! [`Position`] to its row; each `*_row` function (and [`to_row`]) does
//! both steps in one call.

use crate::column::Text;
use serde::Deserialize;

use crate::fields::{self, optional, required};
use crate::json::Json;
use crate::json_scan::{FieldsRead, Names, Scanner};
use crate::log_types::{ActivityLog, AuthLog, Device, Geo, SessionLog};
use crate::reason::{ReasonCode, Rejection};
use crate::topics::LogKind;

pub use crate::rows::{day_of, ActivityRow, AuthRow, LogRow, Position, SessionRow};

mod nested;
use nested::{metadata, DeviceField, GeoField, Metadata};

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

pub use logpipe_contract::limits::{
    MAX_ACTIVITY_DURATION_MS, MAX_FAILURE_REASON_BYTES, MAX_PAGES_VIEWED, MAX_RESOURCE_BYTES,
    MAX_SESSION_DURATION_MS, MAX_USER_AGENT_BYTES,
};

/// The columns of each log table, in declaration order ([`crate::table`]).
pub fn columns(kind: LogKind) -> &'static [&'static str] {
    crate::table::of(kind).columns
}

/// Validates one UTF-8 JSON document as a log of `kind`, and maps it to
/// its row.
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
        LogKind::Auth => auth_log_with(text, by).map(|log| LogRow::Auth(AuthRow::new(log, at))),
        LogKind::Session => {
            session_log_with(text, by).map(|log| LogRow::Session(SessionRow::new(log, at)))
        }
        LogKind::Activity => {
            activity_log_with(text, by).map(|log| LogRow::Activity(ActivityRow::new(log, at)))
        }
    }
}

/// Which reader reads a log's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// The fast reader ([`crate::json_scan`]), and the reference one on
    /// whatever it leaves.
    Fast,
    /// The reference reader alone.
    Reference,
}

/// The fields of one log kind: read by serde_json, or, for a document the
/// shared fast reader ([`crate::json_scan`]) reads, by [`Fields::scan`].
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
                /// One bit a field, for [`FieldsRead`].
                #[allow(non_camel_case_types)]
                enum Bit { $($field),* }
                let fields = self;
                let mut seen = FieldsRead::default();
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

/// Applies `check` to an optional field.
fn opt<'a, T>(
    value: Option<Json<'a>>,
    check: impl FnOnce(Json<'a>) -> Result<T, Rejection>,
) -> Result<Option<T>, Rejection> {
    optional(value).map(check).transpose()
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
    geo: GeoField,
});

/// Validates an auth log.
pub fn auth_log(text: &str) -> Result<AuthLog, Rejection> {
    auth_log_with(text, Reader::Fast)
}

/// Validates an auth log and maps it to its row.
pub fn auth_row(text: &str, at: Position) -> Result<AuthRow, Rejection> {
    auth_log(text).map(|log| AuthRow::new(log, at))
}

fn auth_log_with(text: &str, by: Reader) -> Result<AuthLog, Rejection> {
    let mut f = AuthFields::default();
    read_object(text, &mut f, by)?;
    let event_id = fields::uuid("event_id", required("event_id", f.event_id)?)?;
    let user_id = fields::user_id(f.user_id)?;
    let timestamp = fields::timestamp("timestamp", required("timestamp", f.timestamp)?)?;
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
    let geo = match f.geo {
        None => None,
        Some(geo) => {
            let [country, city, _] = geo.members("geo")?;
            let country = opt(country, |v| fields::country("geo.country", v))?;
            let city = opt(city, |v| fields::string("geo.city", v).map(Text::from))?;
            Some(Geo { country, city })
        }
    };
    Ok(AuthLog {
        event_id,
        user_id,
        timestamp,
        event_type,
        success,
        ip_address,
        auth_method,
        failure_reason,
        user_agent,
        geo,
    })
}

log_fields!(SessionFields {
    session_id: Json,
    user_id: Json,
    timestamp: Json,
    event_type: Json,
    ip_address: Json,
    device: DeviceField,
    duration_ms: Json,
    pages_viewed: Json,
});

/// Validates a session log.
pub fn session_log(text: &str) -> Result<SessionLog, Rejection> {
    session_log_with(text, Reader::Fast)
}

/// Validates a session log and maps it to its row.
pub fn session_row(text: &str, at: Position) -> Result<SessionRow, Rejection> {
    session_log(text).map(|log| SessionRow::new(log, at))
}

fn session_log_with(text: &str, by: Reader) -> Result<SessionLog, Rejection> {
    let mut f = SessionFields::default();
    read_object(text, &mut f, by)?;
    let session_id = fields::uuid("session_id", required("session_id", f.session_id)?)?;
    let user_id = fields::user_id(f.user_id)?;
    let timestamp = fields::timestamp("timestamp", required("timestamp", f.timestamp)?)?;
    let event_type = fields::one_of(
        "event_type",
        required("event_type", f.event_type)?,
        SESSION_EVENT_TYPES,
    )?;
    let ip_address = opt(f.ip_address, |v| fields::ip_address("ip_address", v))?;
    let device = match f.device {
        None => None,
        Some(device) => {
            let [device_type, os, browser] = device.members("device")?;
            let device_type = opt(device_type, |v| {
                fields::one_of("device.type", v, DEVICE_TYPES)
            })?;
            let os = opt(os, |v| fields::string("device.os", v).map(Text::from))?;
            let browser = opt(browser, |v| {
                fields::string("device.browser", v).map(Text::from)
            })?;
            Some(Device {
                device_type,
                os,
                browser,
            })
        }
    };
    let duration_ms = opt(f.duration_ms, |v| {
        fields::integer("duration_ms", v, 0, MAX_SESSION_DURATION_MS)
    })?;
    let pages_viewed = opt(f.pages_viewed, |v| {
        fields::integer("pages_viewed", v, 0, MAX_PAGES_VIEWED).map(|n| n as i32)
    })?;
    Ok(SessionLog {
        session_id,
        user_id,
        timestamp,
        event_type,
        ip_address,
        device,
        duration_ms,
        pages_viewed,
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
pub fn activity_log(text: &str) -> Result<ActivityLog, Rejection> {
    activity_log_with(text, Reader::Fast)
}

/// Validates an activity log and maps it to its row.
pub fn activity_row(text: &str, at: Position) -> Result<ActivityRow, Rejection> {
    activity_log(text).map(|log| ActivityRow::new(log, at))
}

fn activity_log_with(text: &str, by: Reader) -> Result<ActivityLog, Rejection> {
    let mut f = ActivityFields::default();
    read_object(text, &mut f, by)?;
    let event_id = fields::uuid("event_id", required("event_id", f.event_id)?)?;
    let user_id = fields::user_id(f.user_id)?;
    let session_id = opt(f.session_id, |v| fields::uuid("session_id", v))?;
    let timestamp = fields::timestamp("timestamp", required("timestamp", f.timestamp)?)?;
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
    let metadata = f.metadata.map(metadata).transpose()?;
    Ok(ActivityLog {
        event_id,
        user_id,
        session_id,
        timestamp,
        action,
        resource,
        duration_ms,
        metadata,
    })
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

    /// Validation alone gives the log's fields as the log has them: its
    /// time in epoch milliseconds, `geo` and `device` as objects, no
    /// storage columns. Each `*_row` is that log mapped at the position.
    #[test]
    fn validation_makes_typed_logs_that_map_to_rows() {
        let at = Position {
            partition: 2,
            offset: 1_007,
            timestamp_ms: None,
        };
        let auth = auth_log(AUTH).unwrap();
        assert_eq!(auth.timestamp, 1_795_615_200_123);
        assert_eq!(
            auth.geo,
            Some(Geo {
                country: Some("DE"),
                city: Some("Köln".into()),
            })
        );
        assert_eq!(auth_row(AUTH, at), Ok(AuthRow::new(auth, at)));
        let session = session_log(SESSION).unwrap();
        assert_eq!(
            session.device,
            Some(Device {
                device_type: Some("mobile"),
                os: Some("iOS".into()),
                browser: None,
            })
        );
        assert_eq!(session_row(SESSION, at), Ok(SessionRow::new(session, at)));
        let activity = activity_log(ACTIVITY).unwrap();
        assert_eq!(activity.timestamp, 1_795_615_200_000);
        assert_eq!(activity.metadata.as_ref().map(|m| m.len()), Some(5));
        assert_eq!(
            activity_row(ACTIVITY, at),
            Ok(ActivityRow::new(activity, at))
        );
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
            count::<AuthFields>(LogKind::Auth, &crate::json_scan::one_byte_edits(AUTH)),
            count::<SessionFields>(LogKind::Session, &crate::json_scan::one_byte_edits(SESSION)),
            count::<ActivityFields>(
                LogKind::Activity,
                &crate::json_scan::one_byte_edits(ACTIVITY),
            ),
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
