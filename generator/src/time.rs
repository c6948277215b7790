//! Log timestamps the way producers write them: RFC 3339 text in UTC or
//! with an offset, at millisecond (sometimes microsecond or whole-second)
//! precision, or an integer of epoch milliseconds.
//!
//! Formatting is done by hand into a stack buffer: it runs once a record on
//! the producer's hot path.

use serde::{Serialize, Serializer};

/// How one timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeStyle {
    /// `2026-11-25T14:00:00.123Z`
    Millis,
    /// `2026-11-25T14:00:00.123456Z`: three more digits below the millisecond.
    Micros(u16),
    /// `2026-11-25T14:00:00Z`: the milliseconds are dropped.
    Seconds,
    /// `2026-11-25T16:00:00.123+02:00`: local time with its offset in minutes.
    Offset(i16),
    /// `1795615200123`: an integer of epoch milliseconds.
    EpochMillis,
    /// `2026-11-25T14:00:00.123`: no zone at all (not valid in a log).
    NoZone,
}

/// A point in time (epoch milliseconds) and how to write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp {
    pub ms: i64,
    pub style: TimeStyle,
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.style {
            TimeStyle::EpochMillis => serializer.serialize_i64(self.ms),
            style => {
                let mut buf = [0u8; 40];
                serializer.serialize_str(format_rfc3339(self.ms, style, &mut buf))
            }
        }
    }
}

/// `ms` as RFC 3339 text in `style` (`EpochMillis` is written as UTC
/// milliseconds). Years outside 0..=9999 are clamped into that range.
pub(crate) fn format_rfc3339(ms: i64, style: TimeStyle, buf: &mut [u8; 40]) -> &str {
    let offset_minutes = match style {
        TimeStyle::Offset(m) => i64::from(m),
        _ => 0,
    };
    let local = ms + offset_minutes * 60_000;
    let days = local.div_euclid(86_400_000);
    let in_day = local.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let year = year.clamp(0, 9999) as u32;
    let secs = (in_day / 1000) as u32;
    let millis = (in_day % 1000) as u32;

    let mut pos = 0;
    put(buf, &mut pos, year, 4);
    buf[pos] = b'-';
    pos += 1;
    put(buf, &mut pos, month, 2);
    buf[pos] = b'-';
    pos += 1;
    put(buf, &mut pos, day, 2);
    buf[pos] = b'T';
    pos += 1;
    put(buf, &mut pos, secs / 3600, 2);
    buf[pos] = b':';
    pos += 1;
    put(buf, &mut pos, secs / 60 % 60, 2);
    buf[pos] = b':';
    pos += 1;
    put(buf, &mut pos, secs % 60, 2);
    if style != TimeStyle::Seconds {
        buf[pos] = b'.';
        pos += 1;
        put(buf, &mut pos, millis, 3);
        if let TimeStyle::Micros(extra) = style {
            put(buf, &mut pos, u32::from(extra % 1000), 3);
        }
    }
    match style {
        TimeStyle::NoZone => {}
        TimeStyle::Offset(m) => {
            buf[pos] = if m < 0 { b'-' } else { b'+' };
            pos += 1;
            let m = u32::from(m.unsigned_abs());
            put(buf, &mut pos, m / 60, 2);
            buf[pos] = b':';
            pos += 1;
            put(buf, &mut pos, m % 60, 2);
        }
        _ => {
            buf[pos] = b'Z';
            pos += 1;
        }
    }
    // Only ASCII digits and separators were written.
    std::str::from_utf8(&buf[..pos]).unwrap_or_default()
}

fn put(buf: &mut [u8], pos: &mut usize, mut value: u32, width: usize) {
    for i in (0..width).rev() {
        buf[*pos + i] = b'0' + (value % 10) as u8;
        value /= 10;
    }
    *pos += width;
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};

    fn text(ms: i64, style: TimeStyle) -> String {
        let mut buf = [0u8; 40];
        format_rfc3339(ms, style, &mut buf).to_owned()
    }

    #[test]
    fn matches_chrono_over_a_century() {
        let mut ms: i64 = 946_684_800_000; // 2000-01-01
        while ms < 4_102_444_800_000 {
            let utc = DateTime::<Utc>::from_timestamp_millis(ms).unwrap();
            assert_eq!(
                text(ms, TimeStyle::Millis),
                utc.to_rfc3339_opts(SecondsFormat::Millis, true)
            );
            let east = utc.with_timezone(&FixedOffset::east_opt(2 * 3600).unwrap());
            assert_eq!(
                text(ms, TimeStyle::Offset(120)),
                east.to_rfc3339_opts(SecondsFormat::Millis, false)
            );
            let west = utc.with_timezone(&FixedOffset::west_opt(5 * 3600 + 1800).unwrap());
            assert_eq!(
                text(ms, TimeStyle::Offset(-330)),
                west.to_rfc3339_opts(SecondsFormat::Millis, false)
            );
            // Parsed back, every style lands on the same millisecond
            // (seconds style: on the same second).
            for style in [
                TimeStyle::Millis,
                TimeStyle::Micros(789),
                TimeStyle::Offset(330),
            ] {
                let back = DateTime::parse_from_rfc3339(&text(ms, style)).unwrap();
                assert_eq!(back.timestamp_millis(), ms, "{style:?}");
            }
            let back = DateTime::parse_from_rfc3339(&text(ms, TimeStyle::Seconds)).unwrap();
            assert_eq!(back.timestamp_millis(), ms - ms.rem_euclid(1000));
            ms += 7_777_777_777 + 123;
        }
    }

    #[test]
    fn styles_look_as_documented() {
        let ms = 1_795_615_200_123; // 2026-11-25T14:00:00.123Z
        assert_eq!(text(ms, TimeStyle::Millis), "2026-11-25T14:00:00.123Z");
        assert_eq!(
            text(ms, TimeStyle::Micros(456)),
            "2026-11-25T14:00:00.123456Z"
        );
        assert_eq!(text(ms, TimeStyle::Seconds), "2026-11-25T14:00:00Z");
        assert_eq!(
            text(ms, TimeStyle::Offset(120)),
            "2026-11-25T16:00:00.123+02:00"
        );
        assert_eq!(text(ms, TimeStyle::NoZone), "2026-11-25T14:00:00.123");
        let json = serde_json::to_string(&Timestamp {
            ms,
            style: TimeStyle::EpochMillis,
        })
        .unwrap();
        assert_eq!(json, "1795615200123");
    }
}
