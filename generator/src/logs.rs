//! The three log documents as an application writes them: plain structs
//! serialized straight to JSON bytes, so valid records cost one pass of
//! `serde_json` and no intermediate tree.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::time::Timestamp;

/// A UUID written lowercase and hyphenated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Id(pub Uuid);

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        serializer.serialize_str(self.0.hyphenated().encode_lower(&mut buf))
    }
}

/// An IP address in its usual text form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ip(pub IpAddr);

impl Serialize for Ip {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// `user_auth_logs`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct AuthLog<'a> {
    pub event_id: Id,
    pub user_id: &'a str,
    pub timestamp: Timestamp,
    pub event_type: &'static str,
    pub success: bool,
    pub ip_address: Ip,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_method: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo>,
}

/// Where an auth event came from.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Geo {
    pub country: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<&'static str>,
}

/// `user_session_logs`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SessionLog<'a> {
    pub session_id: Id,
    pub user_id: &'a str,
    pub timestamp: Timestamp,
    pub event_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<Ip>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages_viewed: Option<u32>,
}

/// The device a session runs on.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Device {
    #[serde(rename = "type")]
    pub device_type: &'static str,
    pub os: &'static str,
    pub browser: &'static str,
}

/// `user_activity_logs`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ActivityLog<'a> {
    pub event_id: Id,
    pub user_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Id>,
    pub timestamp: Timestamp,
    pub action: &'static str,
    pub resource: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Metadata::is_empty")]
    pub metadata: Metadata,
}

/// Activity metadata: string keys, scalar values, in insertion order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Metadata(pub Vec<(&'static str, Scalar)>);

impl Metadata {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn push(&mut self, key: &'static str, value: Scalar) {
        self.0.push((key, value));
    }
}

impl Serialize for Metadata {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// A metadata value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum Scalar {
    Text(Cow<'static, str>),
    Int(i64),
    Decimal(f64),
    Flag(bool),
}

/// One log of any kind, borrowed from the simulated user it belongs to.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub(crate) enum Log<'a> {
    Auth(AuthLog<'a>),
    Session(SessionLog<'a>),
    Activity(ActivityLog<'a>),
}

impl Log<'_> {
    /// The JSON text of the log.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        // Serializing these structs cannot fail: every map key is a string.
        serde_json::to_writer(&mut out, self).expect("a log serializes to JSON");
        out
    }

    /// The log as a JSON tree, for the variations that edit fields.
    pub fn to_object(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => unreachable!("every log serializes to a JSON object"),
        }
    }

    pub fn user_id(&self) -> &str {
        match self {
            Log::Auth(l) => l.user_id,
            Log::Session(l) => l.user_id,
            Log::Activity(l) => l.user_id,
        }
    }

    pub fn timestamp(&self) -> Timestamp {
        match self {
            Log::Auth(l) => l.timestamp,
            Log::Session(l) => l.timestamp,
            Log::Activity(l) => l.timestamp,
        }
    }
}
