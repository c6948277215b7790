//! The three log documents as an application writes them: plain structs
//! written straight to JSON bytes, so valid records cost one pass and no
//! intermediate tree.
//!
//! The structs derive `Serialize` (the variations edit a `serde_json` tree
//! of them), but [`Log::to_bytes`], which runs for every record, writes the
//! same text by hand: `serde_json` looks every byte of every string up in
//! its escape table one at a time, which made up about half of the cost of
//! writing a log. Here a string is checked for the three kinds of byte JSON
//! escapes in one pass the compiler vectorizes and is copied whole; the
//! rare one that needs escaping goes to `serde_json`, so the bytes are
//! exactly what `serde_json::to_vec` would give.

use std::borrow::Cow;
use std::net::IpAddr;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use uuid::Uuid;

use crate::time::{format_rfc3339, TimeStyle, Timestamp};

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
    /// The JSON text of the log: what `serde_json::to_vec` makes of it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        match self {
            Log::Auth(l) => l.write_json(&mut out),
            Log::Session(l) => l.write_json(&mut out),
            Log::Activity(l) => l.write_json(&mut out),
        }
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

// The hand-written JSON of the logs. Field order and the fields left out
// follow the `Serialize` derives above; `to_bytes_matches_serde_json`
// holds the two to the same bytes.

impl AuthLog<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        json_head(
            out,
            b"{\"event_id\":",
            &self.event_id,
            self.user_id,
            self.timestamp,
            self.event_type,
        );
        out.extend_from_slice(if self.success {
            b",\"success\":true"
        } else {
            b",\"success\":false"
        });
        out.extend_from_slice(b",\"ip_address\":");
        self.ip_address.write_json(out);
        json_opt_str(out, b",\"auth_method\":", self.auth_method);
        json_opt_str(out, b",\"failure_reason\":", self.failure_reason);
        json_opt_str(out, b",\"user_agent\":", self.user_agent);
        if let Some(geo) = &self.geo {
            out.extend_from_slice(b",\"geo\":{\"country\":");
            json_str(out, geo.country);
            json_opt_str(out, b",\"city\":", geo.city);
            out.push(b'}');
        }
        out.push(b'}');
    }
}

impl SessionLog<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        json_head(
            out,
            b"{\"session_id\":",
            &self.session_id,
            self.user_id,
            self.timestamp,
            self.event_type,
        );
        if let Some(ip) = &self.ip_address {
            out.extend_from_slice(b",\"ip_address\":");
            ip.write_json(out);
        }
        if let Some(d) = &self.device {
            out.extend_from_slice(b",\"device\":{\"type\":");
            json_str(out, d.device_type);
            out.extend_from_slice(b",\"os\":");
            json_str(out, d.os);
            out.extend_from_slice(b",\"browser\":");
            json_str(out, d.browser);
            out.push(b'}');
        }
        json_opt_int(out, b",\"duration_ms\":", self.duration_ms);
        json_opt_int(out, b",\"pages_viewed\":", self.pages_viewed);
        out.push(b'}');
    }
}

impl ActivityLog<'_> {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"event_id\":");
        self.event_id.write_json(out);
        out.extend_from_slice(b",\"user_id\":");
        json_str(out, self.user_id);
        if let Some(id) = &self.session_id {
            out.extend_from_slice(b",\"session_id\":");
            id.write_json(out);
        }
        out.extend_from_slice(b",\"timestamp\":");
        json_timestamp(out, self.timestamp);
        out.extend_from_slice(b",\"action\":");
        json_str(out, self.action);
        out.extend_from_slice(b",\"resource\":");
        json_str(out, &self.resource);
        json_opt_int(out, b",\"duration_ms\":", self.duration_ms);
        if !self.metadata.is_empty() {
            out.extend_from_slice(b",\"metadata\":");
            let mut sep = b'{';
            for (k, v) in &self.metadata.0 {
                out.push(sep);
                sep = b',';
                json_str(out, k);
                out.push(b':');
                v.write_json(out);
            }
            out.push(b'}');
        }
        out.push(b'}');
    }
}

/// The opening auth and session logs share: `open` (`{"<id>":`), the id,
/// `user_id`, `timestamp` and `event_type`.
fn json_head(
    out: &mut Vec<u8>,
    open: &[u8],
    id: &Id,
    user_id: &str,
    timestamp: Timestamp,
    event_type: &str,
) {
    out.extend_from_slice(open);
    id.write_json(out);
    out.extend_from_slice(b",\"user_id\":");
    json_str(out, user_id);
    out.extend_from_slice(b",\"timestamp\":");
    json_timestamp(out, timestamp);
    out.extend_from_slice(b",\"event_type\":");
    json_str(out, event_type);
}

/// `key` (`,"name":`) and the string, when there is one.
fn json_opt_str(out: &mut Vec<u8>, key: &[u8], value: Option<&str>) {
    if let Some(value) = value {
        out.extend_from_slice(key);
        json_str(out, value);
    }
}

/// `key` (`,"name":`) and the integer, when there is one.
fn json_opt_int<I: itoa::Integer>(out: &mut Vec<u8>, key: &[u8], value: Option<I>) {
    if let Some(value) = value {
        out.extend_from_slice(key);
        json_int(out, value);
    }
}

impl Id {
    fn write_json(&self, out: &mut Vec<u8>) {
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        out.push(b'"');
        out.extend_from_slice(self.0.hyphenated().encode_lower(&mut buf).as_bytes());
        out.push(b'"');
    }
}

impl Ip {
    fn write_json(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        match self.0 {
            IpAddr::V4(v4) => {
                for (i, octet) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        out.push(b'.');
                    }
                    json_int(out, octet);
                }
            }
            // Hex digits, colons and dots only: nothing to escape.
            IpAddr::V6(v6) => {
                use std::io::Write as _;
                let _ = write!(out, "{v6}");
            }
        }
        out.push(b'"');
    }
}

impl Scalar {
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Scalar::Text(t) => json_str(out, t),
            Scalar::Int(n) => json_int(out, *n),
            // ryu's shortest form, and `null` for what is not finite,
            // exactly as serde_json writes them.
            Scalar::Decimal(x) => json_serde(out, x),
            Scalar::Flag(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        }
    }
}

fn json_timestamp(out: &mut Vec<u8>, t: Timestamp) {
    match t.style {
        TimeStyle::EpochMillis => json_int(out, t.ms),
        style => {
            let mut buf = [0u8; 40];
            json_str(out, format_rfc3339(t.ms, style, &mut buf));
        }
    }
}

/// `s` as a JSON string.
fn json_str(out: &mut Vec<u8>, s: &str) {
    // No early exit, so that this compiles to a few wide compares a chunk.
    let escapes = s.as_bytes().iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if escapes {
        json_serde(out, s);
    } else {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    }
}

/// `n` in decimal, as serde_json writes it (both use itoa).
fn json_int<I: itoa::Integer>(out: &mut Vec<u8>, n: I) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

fn json_serde<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing a string or a number to a Vec cannot fail.
    serde_json::to_writer(out, value).expect("a scalar serializes to JSON");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::World;
    use logpipe_contract::topics::LogKind;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn to_bytes_matches_serde_json() {
        let mut world = World::new(7, 500, 1_767_225_600_000);
        for n in 0..60_000 {
            let log = world.next_log(LogKind::ALL[n % 3]);
            let want = serde_json::to_vec(&log).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&log.to_bytes()),
                String::from_utf8_lossy(&want)
            );
        }
    }

    #[test]
    fn to_bytes_matches_serde_json_at_the_edges() {
        let id = Id(Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef));
        let styles = [
            TimeStyle::Millis,
            TimeStyle::Micros(7),
            TimeStyle::Seconds,
            TimeStyle::Offset(-90),
            TimeStyle::EpochMillis,
            TimeStyle::NoZone,
        ];
        let texts = [
            "",
            "plain",
            "a \"quoted\" \\ back\\slash",
            "tab\tnew\nline\u{1}\u{1f}\u{7f}",
            "crème brûlée ☃ \u{10348}",
        ];
        let ips = [
            IpAddr::V4(Ipv4Addr::new(0, 0, 0, 0)),
            IpAddr::V4(Ipv4Addr::new(255, 10, 7, 100)),
            IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x280)),
        ];
        let decimals = [0.0, -0.0, 1.5, 1e21, 1e-7, 123.456, f64::NAN, f64::INFINITY];
        for (i, text) in texts.iter().enumerate() {
            for (j, ms) in [-1_234_567_i64, 0, 1_795_615_200_123]
                .into_iter()
                .enumerate()
            {
                let timestamp = Timestamp {
                    ms,
                    style: styles[(i + j) % styles.len()],
                };
                let ip = Ip(ips[(i + j) % ips.len()]);
                let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
                let logs = [
                    Log::Auth(AuthLog {
                        event_id: id,
                        user_id: text,
                        timestamp,
                        event_type: leaked,
                        success: j % 2 == 0,
                        ip_address: ip,
                        auth_method: (j != 1).then_some(leaked),
                        failure_reason: (j == 1).then_some(leaked),
                        user_agent: (j == 2).then_some(leaked),
                        geo: (j > 0).then_some(Geo {
                            country: leaked,
                            city: (j == 2).then_some(leaked),
                        }),
                    }),
                    Log::Session(SessionLog {
                        session_id: id,
                        user_id: text,
                        timestamp,
                        event_type: leaked,
                        ip_address: (j != 1).then_some(ip),
                        device: (j != 0).then_some(Device {
                            device_type: leaked,
                            os: leaked,
                            browser: leaked,
                        }),
                        duration_ms: (j == 1).then_some(u64::MAX),
                        pages_viewed: (j != 0).then_some(j as u32 * 1000),
                    }),
                    Log::Activity(ActivityLog {
                        event_id: id,
                        user_id: text,
                        session_id: (j == 2).then_some(id),
                        timestamp,
                        action: leaked,
                        resource: text.to_string(),
                        duration_ms: (j == 0).then_some(0),
                        metadata: Metadata(if j == 0 {
                            vec![]
                        } else {
                            vec![
                                (leaked, Scalar::Text(Cow::Borrowed(leaked))),
                                ("int", Scalar::Int(i64::MIN + i as i64)),
                                ("int2", Scalar::Int(i as i64 * 1_000_003)),
                                (
                                    "decimal",
                                    Scalar::Decimal(decimals[(i + j) % decimals.len()]),
                                ),
                                (
                                    "decimal2",
                                    Scalar::Decimal(decimals[(i * 3 + j) % decimals.len()]),
                                ),
                                ("flag", Scalar::Flag(i % 2 == 0)),
                            ]
                        }),
                    }),
                ];
                for log in &logs {
                    let want = serde_json::to_vec(log).unwrap();
                    assert_eq!(
                        String::from_utf8_lossy(&log.to_bytes()),
                        String::from_utf8_lossy(&want)
                    );
                }
            }
        }
    }
}
