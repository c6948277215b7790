//! What is stored: one struct a table, its fields the table's columns
//! (the driver binds them by name), and [`Row`], which ties each to its
//! table description in [`crate::table`]. Validation ([`crate::logs`])
//! makes typed logs ([`crate::log_types`]); `AuthRow::new` and the others
//! map a typed log and its record's [`Position`] to a row, adding what only
//! storage needs: the `day` partition, the source partition and offset, and
//! the write time. The mappings are inlined where a log is validated, so
//! a row is built in place of its log, its strings moved, never copied.
//! `record` makes dead letters; the sink writes them all.

use std::net::IpAddr;

use scylla::value::{CqlDate, CqlTimestamp};
use scylla::SerializeRow;
use uuid::Uuid;

use crate::column::{Optional, Text, TextMap};
use crate::log_types::{ActivityLog, AuthLog, Device, Geo, SessionLog};
use crate::record::write_time_micros;
use crate::table::{Table, ACTIVITY_LOGS, AUTH_LOGS, DEAD_LETTERS, SESSION_LOGS};
use crate::topics::LogKind;

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
    pub auth_method: Optional<&'static str>,
    pub failure_reason: Optional<Text>,
    pub user_agent: Optional<Text>,
    pub country: Optional<&'static str>,
    pub city: Optional<Text>,
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
    pub ip_address: Optional<IpAddr>,
    pub device_type: Optional<&'static str>,
    pub os: Optional<Text>,
    pub browser: Optional<Text>,
    pub duration_ms: Optional<i64>,
    pub pages_viewed: Optional<i32>,
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
    pub session_id: Optional<Uuid>,
    pub action: &'static str,
    pub resource: Text,
    pub duration_ms: Optional<i64>,
    pub metadata: Optional<TextMap>,
    pub source_partition: i32,
    pub source_offset: i64,
    /// Write time in microseconds ([`Position::write_time`]); bound as
    /// `USING TIMESTAMP`, not a column.
    #[scylla(skip)]
    pub write_time: i64,
}

impl AuthRow {
    /// The row of `log`, read at `at`.
    #[inline]
    pub fn new(log: AuthLog, at: Position) -> Self {
        let Geo { country, city } = log.geo.unwrap_or_default();
        AuthRow {
            user_id: log.user_id,
            day: day_of(log.timestamp),
            event_time: CqlTimestamp(log.timestamp),
            event_id: log.event_id,
            event_type: log.event_type,
            success: log.success,
            ip_address: log.ip_address,
            auth_method: Optional(log.auth_method),
            failure_reason: Optional(log.failure_reason),
            user_agent: Optional(log.user_agent),
            country: Optional(country),
            city: Optional(city),
            source_partition: at.partition,
            source_offset: at.offset,
            write_time: at.write_time(log.timestamp),
        }
    }
}

impl SessionRow {
    /// The row of `log`, read at `at`.
    #[inline]
    pub fn new(log: SessionLog, at: Position) -> Self {
        let Device {
            device_type,
            os,
            browser,
        } = log.device.unwrap_or_default();
        SessionRow {
            user_id: log.user_id,
            day: day_of(log.timestamp),
            event_time: CqlTimestamp(log.timestamp),
            session_id: log.session_id,
            event_type: log.event_type,
            ip_address: Optional(log.ip_address),
            device_type: Optional(device_type),
            os: Optional(os),
            browser: Optional(browser),
            duration_ms: Optional(log.duration_ms),
            pages_viewed: Optional(log.pages_viewed),
            source_partition: at.partition,
            source_offset: at.offset,
            write_time: at.write_time(log.timestamp),
        }
    }
}

impl ActivityRow {
    /// The row of `log`, read at `at`.
    #[inline]
    pub fn new(log: ActivityLog, at: Position) -> Self {
        ActivityRow {
            user_id: log.user_id,
            day: day_of(log.timestamp),
            event_time: CqlTimestamp(log.timestamp),
            event_id: log.event_id,
            session_id: Optional(log.session_id),
            action: log.action,
            resource: log.resource,
            duration_ms: Optional(log.duration_ms),
            metadata: Optional(log.metadata),
            source_partition: at.partition,
            source_offset: at.offset,
            write_time: at.write_time(log.timestamp),
        }
    }
}

/// The UTC day of an epoch-millisecond time, as a CQL `date`: the `day`
/// partition of log rows and dead letters.
pub fn day_of(ms: i64) -> CqlDate {
    let days = ms.div_euclid(86_400_000);
    CqlDate((days + (1i64 << 31)) as u32)
}

/// A CQL `date` (days since the epoch, offset by 2^31) as `YYYY-MM-DD`;
/// the days themselves for a date outside chrono's range.
pub fn format_date(raw: u32) -> String {
    let days = i64::from(raw) - (1i64 << 31);
    chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(days)))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| days.to_string())
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

/// A row of `dead_letters`: a record that could not be stored as a log.
#[derive(Debug, Clone, PartialEq, SerializeRow)]
pub struct DeadLetterRow {
    pub topic: String,
    pub partition: i32,
    /// UTC day of the record's Kafka timestamp; 1970-01-01 without one.
    pub day: CqlDate,
    pub offset: i64,
    /// The record's Kafka timestamp, exact to the millisecond; unset
    /// (null) when the record has none.
    pub record_timestamp: Optional<CqlTimestamp>,
    pub reason: &'static str,
    pub detail: String,
    pub function: String,
    pub key: Optional<Vec<u8>>,
    pub value: Optional<Vec<u8>>,
    /// Write time in microseconds ([`crate::record::write_time_micros`] of the Kafka
    /// timestamp, or of 0 without one); bound as `USING TIMESTAMP`, not a
    /// column.
    #[scylla(skip)]
    pub write_time: i64,
}

/// A row type and the table it is written to.
pub trait Row: scylla::serialize::row::SerializeRow {
    /// The table.
    const TABLE: &'static Table;
    /// The row's write time in microseconds (`USING TIMESTAMP`).
    fn write_time(&self) -> i64;
}

impl Row for AuthRow {
    const TABLE: &'static Table = &AUTH_LOGS;
    fn write_time(&self) -> i64 {
        self.write_time
    }
}

impl Row for SessionRow {
    const TABLE: &'static Table = &SESSION_LOGS;
    fn write_time(&self) -> i64 {
        self.write_time
    }
}

impl Row for ActivityRow {
    const TABLE: &'static Table = &ACTIVITY_LOGS;
    fn write_time(&self) -> i64 {
        self.write_time
    }
}

impl Row for DeadLetterRow {
    const TABLE: &'static Table = &DEAD_LETTERS;
    fn write_time(&self) -> i64 {
        self.write_time
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row holds its log's fields, the day of the log's time, and its
    /// record's position and write time; a log without `geo` fills the
    /// columns as one with an empty `geo` does.
    #[test]
    fn a_row_is_its_log_at_its_position() {
        let log = AuthLog {
            event_id: Uuid::nil(),
            user_id: "u".into(),
            timestamp: 1_795_615_200_123,
            event_type: "login",
            success: true,
            ip_address: IpAddr::from([10, 0, 0, 1]),
            auth_method: None,
            failure_reason: None,
            user_agent: Some("curl/8".into()),
            geo: None,
        };
        let at = Position {
            partition: 3,
            offset: 12_345,
            timestamp_ms: Some(1_795_615_900_007),
        };
        let row = AuthRow::new(log.clone(), at);
        assert_eq!(row.day, day_of(1_795_615_200_123));
        assert_eq!(row.event_time, CqlTimestamp(1_795_615_200_123));
        assert_eq!((row.source_partition, row.source_offset), (3, 12_345));
        assert_eq!(row.write_time, 1_795_615_900_007_345);
        assert_eq!(row.user_agent.0.as_deref(), Some("curl/8"));
        assert_eq!((row.country.0, row.city.0.as_ref()), (None, None));
        let empty_geo = AuthLog {
            geo: Some(Geo::default()),
            ..log
        };
        assert_eq!(AuthRow::new(empty_geo, at), row);
    }
}
