//! What a valid log holds: the fields of each kind as the log format
//! defines them (`docs/logs.md`), checked and typed. [`crate::logs`] makes
//! these from a record's JSON; [`crate::rows`] turns one, with the
//! record's Kafka position, into the row of its table.
//!
//! Nothing here is about storage: there is no `day` partition, no source
//! partition or offset, no write time, and `geo` and `device` are the
//! objects of the log, not the columns they fill. The types sit in a module
//! of their own, apart from the reading and the rules in [`crate::logs`], so
//! that what each kind holds once validated reads in one place.
//!
//! A string taken from the log is owned ([`Text`], and [`TextMap`] for
//! `metadata`) and is moved, not copied, into its row; the value of an
//! enumerated field is the accepted list's own `&'static str`, lowercase
//! (`geo.country` uppercase).

use std::net::IpAddr;

use uuid::Uuid;

use crate::column::{Text, TextMap};

/// A valid log of `user_auth_logs`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthLog {
    pub event_id: Uuid,
    pub user_id: Text,
    /// `timestamp`, in epoch milliseconds (UTC).
    pub timestamp: i64,
    /// One of [`crate::logs::AUTH_EVENT_TYPES`].
    pub event_type: &'static str,
    pub success: bool,
    pub ip_address: IpAddr,
    /// One of [`crate::logs::AUTH_METHODS`].
    pub auth_method: Option<&'static str>,
    pub failure_reason: Option<Text>,
    /// Cut to [`crate::logs::MAX_USER_AGENT_BYTES`] on a character
    /// boundary.
    pub user_agent: Option<Text>,
    pub geo: Option<Geo>,
}

/// The `geo` object of an auth log, its other members dropped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Geo {
    /// An ISO 3166-1 alpha-2 code, uppercase.
    pub country: Option<&'static str>,
    pub city: Option<Text>,
}

/// A valid log of `user_session_logs`.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionLog {
    pub session_id: Uuid,
    pub user_id: Text,
    /// `timestamp`, in epoch milliseconds (UTC).
    pub timestamp: i64,
    /// One of [`crate::logs::SESSION_EVENT_TYPES`].
    pub event_type: &'static str,
    pub ip_address: Option<IpAddr>,
    pub device: Option<Device>,
    pub duration_ms: Option<i64>,
    pub pages_viewed: Option<i32>,
}

/// The `device` object of a session log, its other members dropped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Device {
    /// `type`: one of [`crate::logs::DEVICE_TYPES`].
    pub device_type: Option<&'static str>,
    pub os: Option<Text>,
    pub browser: Option<Text>,
}

/// A valid log of `user_activity_logs`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityLog {
    pub event_id: Uuid,
    pub user_id: Text,
    pub session_id: Option<Uuid>,
    /// `timestamp`, in epoch milliseconds (UTC).
    pub timestamp: i64,
    /// One of [`crate::logs::ACTIONS`].
    pub action: &'static str,
    pub resource: Text,
    pub duration_ms: Option<i64>,
    /// Every member, its value as text: a string as it reads, a number or
    /// boolean as the producer wrote it.
    pub metadata: Option<TextMap>,
}
