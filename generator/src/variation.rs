//! How a record departs from the plain shape of its log.
//!
//! [`valid_bytes`] writes the harmless variations real producers show and
//! the pipeline must accept: explicit `null` for optional fields, unknown
//! (newer) fields, enumerations in other cases or padded with spaces,
//! lowercase country codes, user agents longer than the stored 512 bytes.
//!
//! [`bad_record`] writes one bad record for a given reason code. Each is
//! built from a valid log with exactly one thing wrong, so that under the
//! pipeline's check order (empty value, base64, size, UTF-8, JSON, object,
//! then the fields in table order) the intended reason is the first to fail.

use std::sync::OnceLock;

use logpipe_contract::limits::MAX_VALUE_BYTES;
use logpipe_contract::limits::{
    MAX_FAILURE_REASON_BYTES, MAX_RESOURCE_BYTES, MAX_USER_AGENT_BYTES,
};
use logpipe_contract::reason::ReasonCode;
use logpipe_contract::topics::LogKind;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

use crate::logs::Log;
use crate::time::{format_rfc3339, TimeStyle};
use crate::world::World;
use crate::RecordValue;

type Object = Map<String, Value>;

/// A bad record: its key, its value, and whether it belongs on a topic no
/// function owns.
pub(crate) struct BadRecord {
    pub key: Vec<u8>,
    pub value: RecordValue,
    pub timestamp_ms: i64,
    pub unowned_topic: bool,
}

/// The JSON text of a valid log; two times in a hundred, in one of the
/// harmless variations (each half a percent).
pub(crate) fn valid_bytes(log: &Log<'_>, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let roll = rng.random_range(0..1000);
    if roll < 980 {
        return log.to_bytes();
    }
    let mut obj = log.to_object();
    match roll {
        980..985 => {
            let optional: &[&str] = match log {
                Log::Auth(_) => &["auth_method", "failure_reason", "user_agent", "geo"],
                Log::Session(_) => &["ip_address", "device", "duration_ms", "pages_viewed"],
                Log::Activity(_) => &["session_id", "duration_ms"],
            };
            for field in optional {
                if !obj.contains_key(*field) && rng.random_bool(0.5) {
                    obj.insert((*field).to_owned(), Value::Null);
                }
            }
        }
        985..990 => {
            obj.insert("schema_version".into(), json!(2));
            obj.insert(
                "trace_id".into(),
                json!(format!("{:032x}", rng.random::<u128>())),
            );
            if rng.random_bool(0.5) {
                obj.insert("client".into(), json!({"name": "web", "version": "5.12.0"}));
            }
        }
        990..995 => {
            let field = match log {
                Log::Auth(_) => "event_type",
                Log::Session(_) => "event_type",
                Log::Activity(_) => "action",
            };
            restyle(&mut obj, field, rng);
            if let Some(Value::Object(geo)) = obj.get_mut("geo") {
                if let Some(Value::String(c)) = geo.get_mut("country") {
                    *c = c.to_ascii_lowercase();
                }
            }
            if let Some(Value::Object(device)) = obj.get_mut("device") {
                restyle(device, "type", rng);
            }
            restyle(&mut obj, "auth_method", rng);
        }
        _ => {
            if let Some(Value::String(agent)) = obj.get_mut("user_agent") {
                // Some clients append a long list of extension tokens; the
                // pipeline stores the first 512 bytes.
                let mut n = 0;
                while agent.len() <= MAX_USER_AGENT_BYTES {
                    agent.push_str(&format!(" Ext{n}/1.{n}.0"));
                    n += 1;
                }
            }
        }
    }
    to_bytes(&obj)
}

/// `Login`, `LOGIN` or ` login `: enumerations are matched ignoring case and
/// surrounding spaces.
fn restyle(obj: &mut Object, field: &str, rng: &mut ChaCha8Rng) {
    if let Some(Value::String(s)) = obj.get_mut(field) {
        *s = match rng.random_range(0..3) {
            0 => s.to_ascii_uppercase(),
            1 => {
                let mut c = s.chars();
                c.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            }
            _ => format!(" {s} "),
        };
    }
}

/// One bad record of `kind` whose first failing check is `reason`, in
/// shape number `variant` of that reason (shapes cycle as `variant` counts
/// up, so every shape turns up).
pub(crate) fn bad_record(
    world: &mut World,
    rng: &mut ChaCha8Rng,
    kind: LogKind,
    reason: ReasonCode,
    variant: usize,
) -> BadRecord {
    // Missing-field shapes: each required field absent, then `null`, then
    // a log of another kind.
    let missing_shapes = 2 * required(kind).len() + 1;
    if reason == ReasonCode::MissingField && variant % missing_shapes == missing_shapes - 1 {
        return misrouted(world, kind);
    }
    let log = world.next_log(kind);
    let key = log.user_id().as_bytes().to_vec();
    let timestamp_ms = log.timestamp().ms;
    let mut unowned_topic = false;
    let value = match reason {
        ReasonCode::EmptyValue => {
            if variant.is_multiple_of(2) {
                RecordValue::Null
            } else {
                RecordValue::Bytes(Vec::new())
            }
        }
        ReasonCode::InvalidBase64 => RecordValue::NotBase64(if variant.is_multiple_of(2) {
            // A producer that put the JSON text where base64 belongs.
            String::from_utf8_lossy(&log.to_bytes()).into_owned()
        } else {
            "%%% not base64 %%%".to_owned()
        }),
        ReasonCode::TooLarge => RecordValue::Bytes(too_large(&log, rng)),
        ReasonCode::InvalidUtf8 => RecordValue::Bytes(not_utf8(&log, variant)),
        ReasonCode::InvalidJson => RecordValue::Bytes(not_json(&log, rng, variant)),
        ReasonCode::NotAnObject => RecordValue::Bytes(not_an_object(&log, variant)),
        ReasonCode::MissingField => RecordValue::Bytes(missing_field(&log, kind, variant)),
        ReasonCode::InvalidField => RecordValue::Bytes(invalid_field(&log, variant)),
        ReasonCode::WrongTopic => {
            unowned_topic = true;
            RecordValue::Bytes(log.to_bytes())
        }
    };
    BadRecord {
        key,
        value,
        timestamp_ms,
        unowned_topic,
    }
}

/// A valid log of another kind on this kind's topic. Chosen so that the
/// only failures are absent required fields (whatever order the fields are
/// checked in): an activity log lacks `event_type` (auth, session) and
/// `success`/`ip_address`; an auth log lacks `action` and `resource`.
fn misrouted(world: &mut World, kind: LogKind) -> BadRecord {
    let other = match kind {
        LogKind::Auth | LogKind::Session => LogKind::Activity,
        LogKind::Activity => LogKind::Auth,
    };
    let log = world.next_log(other);
    BadRecord {
        key: log.user_id().as_bytes().to_vec(),
        value: RecordValue::Bytes(log.to_bytes()),
        timestamp_ms: log.timestamp().ms,
        unowned_topic: false,
    }
}

fn to_bytes(obj: &Object) -> Vec<u8> {
    serde_json::to_vec(obj).expect("a JSON object serializes")
}

/// Replaces the first occurrence of `marker` in `bytes` with `with`.
fn splice(bytes: Vec<u8>, marker: &[u8], with: &[u8]) -> Vec<u8> {
    let Some(at) = bytes.windows(marker.len()).position(|w| w == marker) else {
        return bytes;
    };
    let mut out = Vec::with_capacity(bytes.len() - marker.len() + with.len());
    out.extend_from_slice(&bytes[..at]);
    out.extend_from_slice(with);
    out.extend_from_slice(&bytes[at + marker.len()..]);
    out
}

/// A valid log padded with a debug dump to just over the size limit.
fn too_large(log: &Log<'_>, rng: &mut ChaCha8Rng) -> Vec<u8> {
    const MARK: &str = "@@debug-dump@@";
    const MAX_OVER: usize = 4096;
    // The dump text, made once: it needs no JSON escapes, so its bytes go
    // into the value as they are.
    static DUMP: OnceLock<Vec<u8>> = OnceLock::new();
    let dump = DUMP.get_or_init(|| {
        const FRAME: &[u8] = b"at com.shop.checkout.Handler.process(Handler.java:42); ";
        FRAME
            .iter()
            .copied()
            .cycle()
            .take(MAX_VALUE_BYTES + MAX_OVER)
            .collect()
    });
    let target = MAX_VALUE_BYTES + rng.random_range(1..=MAX_OVER);
    let mut obj = log.to_object();
    obj.insert("debug_dump".into(), Value::String(MARK.to_owned()));
    let base = to_bytes(&obj);
    let pad = target
        .saturating_sub(base.len() - MARK.len())
        .min(dump.len());
    splice(base, MARK.as_bytes(), &dump[..pad])
}

/// A valid log with text in a legacy encoding (or stray bytes) inside one
/// of its strings.
fn not_utf8(log: &Log<'_>, variant: usize) -> Vec<u8> {
    const MARK: &str = "@@not-utf8@@";
    const BAD: &[&[u8]] = &[
        b"S\xE3o Paulo",           // Latin-1
        b"M\xFCnchen",             // Latin-1
        b"Montr\xE9al",            // Latin-1
        b"Mozilla/5.0 \xFF\xFE",   // stray bytes
        b"caf\xC0\xAF",            // overlong encoding
        b"\xED\xA0\x80 surrogate", // an encoded UTF-16 surrogate
        b"truncated \xE2\x82",     // a sequence cut short
    ];
    let mut obj = log.to_object();
    match log {
        Log::Auth(_) => {
            obj.insert("geo".into(), json!({"country": "BR", "city": MARK}));
        }
        Log::Session(_) => {
            obj.insert(
                "device".into(),
                json!({"type": "desktop", "os": "Windows 11", "browser": MARK}),
            );
        }
        Log::Activity(_) => {
            obj.insert("resource".into(), json!(format!("/search?q={MARK}")));
        }
    }
    let bad = BAD[variant % BAD.len()];
    splice(to_bytes(&obj), MARK.as_bytes(), bad)
}

/// UTF-8 text that is not JSON.
fn not_json(log: &Log<'_>, rng: &mut ChaCha8Rng, variant: usize) -> Vec<u8> {
    let text = String::from_utf8(log.to_bytes()).expect("serde_json writes UTF-8");
    let broken = match variant % 7 {
        0 => {
            // Cut short, on a character boundary, before the closing brace.
            let mut cut = rng.random_range(1..text.len() - 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut.max(1)].to_owned()
        }
        // A Python dict's repr.
        1 => text.replace('"', "'"),
        // A trailing comma.
        2 => format!("{},}}", &text[..text.len() - 1]),
        // Two documents run together.
        3 => format!("{text}{text}"),
        // A bare NaN.
        4 => format!("{},\"score\":NaN}}", &text[..text.len() - 1]),
        // A raw tab inside a string.
        5 => format!("{},\"note\":\"a\tb\"}}", &text[..text.len() - 1]),
        // A log-shipper prefix.
        _ => format!("data: {text}"),
    };
    broken.into_bytes()
}

/// Valid JSON that is not an object.
fn not_an_object(log: &Log<'_>, variant: usize) -> Vec<u8> {
    let text = String::from_utf8(log.to_bytes()).expect("serde_json writes UTF-8");
    match variant % 4 {
        // A batch of one, as an array.
        0 => format!("[{text}]").into_bytes(),
        // JSON encoded twice: a string holding the object's text.
        1 => serde_json::to_vec(&text).expect("a string serializes"),
        2 => log.timestamp().ms.to_string().into_bytes(),
        _ => b"true".to_vec(),
    }
}

/// The required fields of each kind, in table order.
fn required(kind: LogKind) -> &'static [&'static str] {
    match kind {
        LogKind::Auth => &[
            "event_id",
            "user_id",
            "timestamp",
            "event_type",
            "success",
            "ip_address",
        ],
        LogKind::Session => &["session_id", "user_id", "timestamp", "event_type"],
        LogKind::Activity => &["event_id", "user_id", "timestamp", "action", "resource"],
    }
}

/// A valid log with one required field absent or `null`.
fn missing_field(log: &Log<'_>, kind: LogKind, variant: usize) -> Vec<u8> {
    let mut obj = log.to_object();
    let fields = required(kind);
    let field = fields[variant % fields.len()];
    if (variant / fields.len()).is_multiple_of(2) {
        obj.remove(field);
    } else {
        obj.insert(field.to_owned(), Value::Null);
    }
    to_bytes(&obj)
}

/// A valid log with exactly one field of the wrong type or out of its rules.
fn invalid_field(log: &Log<'_>, variant: usize) -> Vec<u8> {
    let mut obj = log.to_object();
    let ms = log.timestamp().ms;
    let id_field = match log {
        Log::Session(_) => "session_id",
        _ => "event_id",
    };
    let id = obj
        .get(id_field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let text = |ms: i64, style: TimeStyle| {
        let mut buf = [0u8; 40];
        format_rfc3339(ms, style, &mut buf).to_owned()
    };
    let long = |prefix: &str, bytes: usize| {
        let mut s = prefix.to_owned();
        while s.len() <= bytes {
            s.push_str("abcdefghij");
        }
        s
    };
    let century_ms = 100 * 365 * 86_400_000i64;

    // (field, bad value); a field of a nested object is written `obj.key`.
    let mut options: Vec<(&str, Value)> = vec![
        (id_field, json!("not-a-uuid")),
        (id_field, json!(id[..id.len().saturating_sub(1)])),
        (
            id_field,
            json!(id.replacen(|c: char| c.is_ascii_hexdigit(), "g", 1)),
        ),
        (id_field, json!(12345)),
        ("user_id", json!("")),
        ("user_id", json!(long("user_", 128))),
        // 43 three-byte characters: few characters, too many bytes.
        ("user_id", json!("ユ".repeat(43))),
        ("user_id", json!(42)),
        ("timestamp", json!(ms / 1000)),
        ("timestamp", json!(ms as f64 + 0.5)),
        ("timestamp", json!(text(ms, TimeStyle::NoZone))),
        ("timestamp", json!(text(ms + century_ms, TimeStyle::Millis))),
        ("timestamp", json!("1999-12-31T23:59:59.999Z")),
        ("timestamp", json!(ms.to_string())),
        ("timestamp", json!(true)),
        ("timestamp", json!("25/11/2026 14:00:00")),
    ];
    match log {
        Log::Auth(_) => options.extend([
            ("event_type", json!("signin")),
            ("event_type", json!("LOGIN_ATTEMPT")),
            ("event_type", json!(1)),
            ("success", json!("true")),
            ("success", json!(1)),
            ("ip_address", json!("999.12.0.1")),
            ("ip_address", json!("10.0.0")),
            ("ip_address", json!("localhost")),
            ("ip_address", json!("2001:db8::g1")),
            ("auth_method", json!("kerberos")),
            ("auth_method", json!("passkey")),
            (
                "failure_reason",
                json!(long("invalid_password: ", MAX_FAILURE_REASON_BYTES)),
            ),
            ("failure_reason", json!(401)),
            ("user_agent", json!(42)),
            ("geo", json!("US")),
            ("geo", json!(["US", "New York"])),
            ("geo.country", json!("USA")),
            ("geo.country", json!("ZZ")),
            ("geo.country", json!("")),
            ("geo.city", json!(42)),
        ]),
        Log::Session(_) => options.extend([
            ("event_type", json!("session_resume")),
            ("event_type", json!("start")),
            ("ip_address", json!("300.1.2.3")),
            ("device", json!("mobile")),
            ("device.type", json!("smartwatch")),
            ("device.os", json!(14)),
            ("device.browser", json!(false)),
            ("duration_ms", json!(-5)),
            ("duration_ms", json!(2_592_000_001i64)),
            ("duration_ms", json!(1500.5)),
            ("duration_ms", json!("1500")),
            ("pages_viewed", json!(-1)),
            ("pages_viewed", json!(1_000_001)),
            ("pages_viewed", json!("3")),
            ("pages_viewed", json!(2.5)),
        ]),
        Log::Activity(_) => options.extend([
            ("session_id", json!("abc123")),
            ("session_id", json!(7)),
            ("action", json!("hover")),
            ("action", json!("like")),
            ("resource", json!("")),
            ("resource", json!(long("/search?q=", MAX_RESOURCE_BYTES))),
            ("resource", json!(404)),
            ("duration_ms", json!(86_400_001)),
            ("duration_ms", json!(-1)),
            ("duration_ms", json!(12.5)),
            ("metadata.cart", json!({"items": 2})),
            ("metadata.tags", json!(["sale", "new"])),
            ("metadata", json!(["sale"])),
            ("metadata", json!("k=v")),
        ]),
    }
    let (field, value) = options.swap_remove(variant % options.len());
    match field.split_once('.') {
        None => {
            obj.insert(field.to_owned(), value);
        }
        Some((outer, inner)) => {
            let entry = obj
                .entry(outer.to_owned())
                .or_insert_with(|| Value::Object(Object::new()));
            if let Value::Object(members) = entry {
                members.insert(inner.to_owned(), value);
            }
        }
    }
    to_bytes(&obj)
}
