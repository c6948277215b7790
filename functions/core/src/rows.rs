//! What is stored: one struct a table, its fields the table's columns
//! (the driver binds them by name), and [`Row`], which ties each to its
//! table description in [`crate::table`]. Validation (`logs`, `record`)
//! makes these; the sink writes them.

use std::net::IpAddr;

use scylla::value::{CqlDate, CqlTimestamp};
use scylla::SerializeRow;
use uuid::Uuid;

use crate::column::{Optional, Text, TextMap};
use crate::table::{Table, ACTIVITY_LOGS, AUTH_LOGS, DEAD_LETTERS, SESSION_LOGS};
use crate::topics::LogKind;

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
    /// Write time in microseconds ([`crate::logs::Position::write_time`]); bound as
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
    /// Write time in microseconds ([`crate::logs::Position::write_time`]); bound as
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
    /// Write time in microseconds ([`crate::logs::Position::write_time`]); bound as
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
