//! Field rules shared by the three log kinds: required vs optional, types,
//! UUIDs, timestamps, enumerations, IP addresses, lengths and ranges.
//!
//! Each check takes the field's name so that a failure says which field was
//! wrong and how, in a sentence a person reads in `dead_letters.detail`.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

use uuid::Uuid;

use crate::column::Text;
use crate::json::{integer_value, Json};
use crate::reason::Rejection;

pub use logpipe_contract::limits::{MAX_TIMESTAMP_MS, MAX_USER_ID_BYTES, MIN_TIMESTAMP_MS};

/// How much of an offending value a detail message quotes.
const QUOTE_CHARS: usize = 64;

/// Quotes a value for a detail message, cut to a readable length.
pub fn quote(s: &str) -> String {
    let mut out: String = s.chars().take(QUOTE_CHARS).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    format!("{out:?}")
}

/// A required field: absent or null is `missing_field`.
pub fn required<'a>(name: &str, value: Option<Json<'a>>) -> Result<Json<'a>, Rejection> {
    match value {
        None | Some(Json::Null) => Err(Rejection::missing(name)),
        Some(v) => Ok(v),
    }
}

/// An optional field: null is the same as absent.
pub fn optional(value: Option<Json<'_>>) -> Option<Json<'_>> {
    match value {
        None | Some(Json::Null) => None,
        Some(v) => Some(v),
    }
}

/// The field as a string, or `invalid_field` naming the type it had.
pub fn string<'a>(name: &str, value: Json<'a>) -> Result<Cow<'a, str>, Rejection> {
    match value {
        Json::Str(s) => Ok(s),
        other => Err(Rejection::invalid(
            name,
            format_args!("must be a string, got {}", other.type_name()),
        )),
    }
}

/// A string of at most `max` bytes.
pub fn bounded_string<'a>(
    name: &str,
    value: Json<'a>,
    min: usize,
    max: usize,
) -> Result<Cow<'a, str>, Rejection> {
    let s = string(name, value)?;
    if s.len() < min {
        return Err(Rejection::invalid(name, "must not be empty"));
    }
    if s.len() > max {
        return Err(Rejection::invalid(
            name,
            format_args!("is {} bytes long, more than the {max} allowed", s.len()),
        ));
    }
    Ok(s)
}

/// A string cut to at most `max` bytes on a character boundary.
pub fn truncated_string(name: &str, value: Json<'_>, max: usize) -> Result<Text, Rejection> {
    let s = string(name, value)?;
    if s.len() <= max {
        return Ok(Text::from(s));
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    Ok(Text::from(&s[..end]))
}

/// `user_id`: a non-empty string of at most 128 bytes.
pub fn user_id(value: Option<Json<'_>>) -> Result<Text, Rejection> {
    let v = required("user_id", value)?;
    bounded_string("user_id", v, 1, MAX_USER_ID_BYTES).map(Text::from)
}

/// A UUID in any of the usual text forms, stored canonically.
pub fn uuid(name: &str, value: Json<'_>) -> Result<Uuid, Rejection> {
    let s = string(name, value)?;
    Uuid::try_parse(&s)
        .map_err(|_| Rejection::invalid(name, format_args!("is not a UUID: {}", quote(&s))))
}

/// A boolean.
pub fn boolean(name: &str, value: Json<'_>) -> Result<bool, Rejection> {
    match value {
        Json::Bool(b) => Ok(b),
        other => Err(Rejection::invalid(
            name,
            format_args!("must be true or false, got {}", other.type_name()),
        )),
    }
}

/// A number as a detail message shows it: as written, cut to a readable
/// length (JSON puts no bound on one).
fn number_text(number: &str) -> Cow<'_, str> {
    match number.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => Cow::Owned(format!("{}…", &number[..cut])),
        None => Cow::Borrowed(number),
    }
}

/// An integer in `min..=max`: a JSON number written without a fraction
/// or an exponent (`-0` is 0; `1.5`, `1.0` and `1e3` are not integers).
/// One past `i64` is outside any range here.
pub fn integer(name: &str, value: Json<'_>, min: i64, max: i64) -> Result<i64, Rejection> {
    let (number, n) = match value {
        Json::Number(number) => match integer_value(number) {
            Some(n) => (number, n),
            None => return Err(not_an_integer(name, &value)),
        },
        other => return Err(not_an_integer(name, &other)),
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(n) => Err(Rejection::invalid(
            name,
            format_args!("is {n}, outside {min}..={max}"),
        )),
        None => Err(Rejection::invalid(
            name,
            format_args!("is {}, outside {min}..={max}", number_text(number)),
        )),
    }
}

fn not_an_integer(name: &str, value: &Json<'_>) -> Rejection {
    Rejection::invalid(
        name,
        format_args!("must be an integer, got {}", value.type_name()),
    )
}

/// An IPv4 or IPv6 address in text form.
pub fn ip_address(name: &str, value: Json<'_>) -> Result<IpAddr, Rejection> {
    let s = string(name, value)?;
    if let Some(v4) = dotted_quad(&s) {
        return Ok(IpAddr::V4(v4));
    }
    s.parse::<IpAddr>().map_err(|_| {
        Rejection::invalid(
            name,
            format_args!("is not an IPv4 or IPv6 address: {}", quote(&s)),
        )
    })
}

/// The value of a run of ASCII digits (at most 4 here); `None` if a byte
/// is not a digit.
fn decimal(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0, |n: i64, &d| {
        d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
    })
}

/// An IPv4 address in its usual spelling, four decimal numbers of up to
/// 255 without leading zeros, read directly; `None` for anything else,
/// which the standard parser reads (tests hold the two to the same).
fn dotted_quad(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut rest = text.as_bytes();
    for (i, octet) in octets.iter_mut().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(b".")?;
        }
        let n = rest
            .iter()
            .take(4)
            .take_while(|d| d.is_ascii_digit())
            .count();
        if n == 0 || n > 3 || (n > 1 && rest[0] == b'0') {
            return None;
        }
        *octet = u8::try_from(decimal(&rest[..n])?).ok()?;
        rest = &rest[n..];
    }
    rest.is_empty().then_some(Ipv4Addr::from(octets))
}

/// One of `allowed`, matched ASCII-case-insensitively after trimming ASCII
/// white space (space, tab, line feed, form feed, carriage return; not
/// U+00A0 or other Unicode spaces); returns the stored (lowercase)
/// spelling.
pub fn one_of(
    name: &str,
    value: Json<'_>,
    allowed: &'static [&'static str],
) -> Result<&'static str, Rejection> {
    let s = string(name, value)?;
    // Producers mostly send the stored spelling itself, which a plain
    // comparison finds first; the trimmed, case-blind one finds the same
    // entry, as no two entries differ only in case.
    allowed
        .iter()
        .copied()
        .find(|a| *a == s)
        .or_else(|| {
            let trimmed = s.trim_ascii();
            allowed
                .iter()
                .copied()
                .find(|a| a.eq_ignore_ascii_case(trimmed))
        })
        .ok_or_else(|| {
            Rejection::invalid(
                name,
                format_args!("is {}, not one of {}", quote(&s), allowed.join(", ")),
            )
        })
}

/// A log timestamp as epoch milliseconds (UTC, sub-millisecond digits
/// dropped): RFC 3339 text with a zone (see `rfc3339_millis`; ASCII white
/// space around it is trimmed), or an integer of epoch milliseconds (see
/// [`integer`]), within [2000-01-01, 2100-01-01). A non-integer number or a
/// boolean is refused.
pub fn timestamp(name: &str, value: Json<'_>) -> Result<i64, Rejection> {
    let (ms, written) = match &value {
        Json::Str(s) => match rfc3339_millis(s.trim_ascii()) {
            Some(ms) => (ms, None),
            None => {
                let why = if leap_second(s.trim_ascii()) {
                    "has a leap second (:60), which is not accepted"
                } else {
                    "is not an RFC 3339 time with a zone (like 2026-11-25T14:00:00.123Z)"
                };
                return Err(Rejection::invalid(
                    name,
                    format_args!("{why}: {}", quote(s)),
                ));
            }
        },
        Json::Number(number) => match integer_value(number) {
            Some(Some(ms)) => (ms, None),
            Some(None) => (i64::MAX, Some(*number)),
            None => return Err(not_a_time(name, &value)),
        },
        other => return Err(not_a_time(name, other)),
    };
    if !(MIN_TIMESTAMP_MS..MAX_TIMESTAMP_MS).contains(&ms) {
        let hint = if (0..MIN_TIMESTAMP_MS / 1000 * 100).contains(&ms) {
            " (epoch seconds? integers are read as epoch milliseconds)"
        } else {
            ""
        };
        let shown = match written {
            Some(number) => number_text(number),
            None => Cow::Owned(ms.to_string()),
        };
        return Err(Rejection::invalid(
            name,
            format_args!("is {shown} ms since the epoch, outside 2000-01-01..2100-01-01{hint}"),
        ));
    }
    Ok(ms)
}

fn not_a_time(name: &str, value: &Json<'_>) -> Rejection {
    Rejection::invalid(
        name,
        format_args!(
            "must be an RFC 3339 string or integer epoch milliseconds, got {}",
            value.type_name()
        ),
    )
}

/// Whether `text` is an RFC 3339 time but for its seconds, `60`.
fn leap_second(text: &str) -> bool {
    text.len() > 19 && text.get(17..19) == Some("60") && {
        let mut fixed = text.to_owned();
        fixed.replace_range(17..19, "59");
        rfc3339_millis(&fixed).is_some()
    }
}

/// An RFC 3339 time (section 5.6, `date-time`) read into epoch milliseconds:
/// `YYYY-MM-DD`, `T`, `t` or a space, `hh:mm:ss`, a fraction of 1 to 9
/// digits or none (digits past the millisecond dropped, not rounded), then
/// `Z`, `z` or an offset `±hh:mm` (`-00:00` is UTC). A leap second (`:60`),
/// a time without a zone, an offset without its colon and anything else
/// are `None`.
fn rfc3339_millis(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let fixed: &[u8; 19] = bytes.first_chunk()?;
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, want)| fixed[at] != want)
        || !matches!(fixed[10], b'T' | b't' | b' ')
    {
        return None;
    }
    let year = decimal(&fixed[..4])?;
    let month = decimal(&fixed[5..7])?;
    let day = decimal(&fixed[8..10])?;
    let hour = decimal(&fixed[11..13])?;
    let minute = decimal(&fixed[14..16])?;
    let second = decimal(&fixed[17..19])?;
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &bytes[19..];
    let mut millis = 0;
    if let [b'.', fraction @ ..] = rest {
        let n = fraction.iter().take_while(|d| d.is_ascii_digit()).count();
        if !(1..=9).contains(&n) {
            return None;
        }
        let kept = &fraction[..n.min(3)];
        millis = decimal(kept)? * 10i64.pow(3 - kept.len() as u32);
        rest = &fraction[n..];
    }
    let offset_minutes = match *rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (h, m) = (decimal(&[h1, h2])?, decimal(&[m1, m2])?);
            if h > 23 || m > 59 {
                return None;
            }
            if sign == b'+' {
                h * 60 + m
            } else {
                -(h * 60 + m)
            }
        }
        _ => return None,
    };
    // Days since 1970-01-01 of a proleptic Gregorian date (the civil-days
    // algorithm: years start in March, so the leap day comes last).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let minutes = (days * 24 + hour) * 60 + minute - offset_minutes;
    Some(minutes * 60_000 + second * 1000 + millis)
}

/// An ISO 3166-1 alpha-2 country code, stored uppercase.
pub fn country(name: &str, value: Json<'_>) -> Result<&'static str, Rejection> {
    let s = string(name, value)?;
    // Upper-cased on the stack: the code stored is the list's own string.
    let found = match s.trim_ascii().as_bytes() {
        &[a, b] => {
            let upper = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
            COUNTRY_CODES
                .binary_search_by(|code| code.as_bytes().cmp(&upper[..]))
                .ok()
        }
        _ => None,
    };
    if let Some(i) = found {
        Ok(COUNTRY_CODES[i])
    } else {
        Err(Rejection::invalid(
            name,
            format_args!("is {}, not an ISO 3166-1 alpha-2 country code", quote(&s)),
        ))
    }
}

/// The ISO 3166-1 alpha-2 codes officially assigned, plus XK (Kosovo, used by
/// GeoIP databases), sorted for binary search.
static COUNTRY_CODES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reason::ReasonCode;

    fn s(v: &str) -> Json<'_> {
        Json::Str(Cow::Borrowed(v))
    }

    #[test]
    fn country_list_is_sorted_and_unique() {
        assert!(COUNTRY_CODES.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(COUNTRY_CODES.len(), 250);
    }

    fn n(number: &str) -> Json<'_> {
        Json::Number(number)
    }

    #[test]
    fn timestamps_follow_the_rules() {
        assert_eq!(
            timestamp("t", s("2026-11-25T14:00:00.123456Z")).unwrap(),
            1_795_615_200_123
        );
        assert_eq!(
            timestamp("t", s("2026-11-25T16:00:00.123+02:00")).unwrap(),
            1_795_615_200_123
        );
        assert_eq!(
            timestamp("t", n("1795615200123")).unwrap(),
            1_795_615_200_123
        );
        for bad in [
            s("2026-11-25T14:00:00"),
            s("yesterday"),
            s("1795615200123"),
            n("1795615200123.0"),
            n("1.795615200123e12"),
            n("1e400"),
            Json::Bool(true),
            n("1795615200"),
            n(&MAX_TIMESTAMP_MS.to_string()),
            n("-1"),
            n("-0"),
            n("99999999999999999999"),
            n("-99999999999999999999"),
            s("1999-12-31T23:59:59.999Z"),
        ] {
            let err = timestamp("t", bad.clone()).unwrap_err();
            assert_eq!(err.reason, ReasonCode::InvalidField, "{bad:?}");
            assert!(err.detail.starts_with("field `t`"), "{}", err.detail);
        }
        assert!(timestamp("t", n("1795615200"))
            .unwrap_err()
            .detail
            .contains("epoch seconds"));
        assert_eq!(
            timestamp("t", n("99999999999999999999"))
                .unwrap_err()
                .detail,
            "field `t` is 99999999999999999999 ms since the epoch, outside 2000-01-01..2100-01-01"
        );
        assert_eq!(
            timestamp("t", n("1.5")).unwrap_err().detail,
            "field `t` must be an RFC 3339 string or integer epoch milliseconds, got a non-integer number"
        );
        assert_eq!(
            timestamp("t", Json::Bool(false)).unwrap_err().detail,
            "field `t` must be an RFC 3339 string or integer epoch milliseconds, got a boolean"
        );
        assert_eq!(
            timestamp("t", n(&MIN_TIMESTAMP_MS.to_string())).unwrap(),
            MIN_TIMESTAMP_MS
        );
    }

    /// RFC 3339 as the contract reads it: `T`, `t` or a space; `Z` or `z`;
    /// 1 to 9 fraction digits, cut (not rounded) to the millisecond; no
    /// leap second; a zone always; ASCII white space around it trimmed.
    #[test]
    fn rfc3339_details() {
        let at = 1_795_615_200_000;
        for (text, want) in [
            ("2026-11-25T14:00:00Z", at),
            ("2026-11-25t14:00:00z", at),
            ("2026-11-25 14:00:00Z", at),
            ("2026-11-25T14:00:00.1Z", at + 100),
            ("2026-11-25T14:00:00.12Z", at + 120),
            ("2026-11-25T14:00:00.999999999Z", at + 999),
            ("2026-11-25T14:00:00.0019Z", at + 1),
            ("2026-11-25T15:00:00+01:00", at),
            ("2026-11-25T14:00:00-00:00", at),
            ("2026-11-25T14:00:00+00:00", at),
            (
                "2026-11-25T00:00:00+23:59",
                at - 14 * 3_600_000 - 23 * 3_600_000 - 59 * 60_000,
            ),
            (" \t2026-11-25T14:00:00Z\r\n", at),
            ("2000-02-29T00:00:00Z", 951_782_400_000),
        ] {
            assert_eq!(timestamp("t", s(text)), Ok(want), "{text:?}");
        }
        for text in [
            "2026-11-25T14:00:00",
            "2026-11-25T14:00:00.123",
            "2026-11-25 14:00:00",
            "2026-11-25T14:00:00.Z",
            "2026-11-25T14:00:00.1234567891Z",
            "2026-11-25T14:00:00+0100",
            "2026-11-25T14:00:00+01",
            "2026-11-25T14:00:00+24:00",
            "2026-11-25T14:00:00+01:60",
            "2026-11-25T24:00:00Z",
            "2026-11-25T14:60:00Z",
            "2026-11-25T23:59:60Z",
            "2026-11-25T23:59:60.5+01:00",
            "2026-02-29T14:00:00Z",
            "2026-11-25_14:00:00Z",
            "2026-11-25T14:00:00ZZ",
            "2026-11-25T14:00:00 Z",
            "2026-11-25T14:00:00UTC",
            "\u{a0}2026-11-25T14:00:00Z",
            "2026-11-25T14:00:00Z\u{3000}",
            "+2026-11-25T14:00:00Z",
            "26-11-25T14:00:00Z",
            "2026-11-25",
            "",
        ] {
            let err = timestamp("t", s(text)).unwrap_err();
            assert_eq!(err.reason, ReasonCode::InvalidField, "{text:?}");
        }
        assert_eq!(
            timestamp("t", s("2026-11-25T23:59:60Z"))
                .unwrap_err()
                .detail,
            "field `t` has a leap second (:60), which is not accepted: \"2026-11-25T23:59:60Z\""
        );
    }

    fn chrono_millis(text: &str) -> Option<i64> {
        chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp_millis())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// Times as producers write them (any instant from 0001 to 9999,
        /// any offset, 0 to 9 fraction digits, `T`, `t` or a space, `Z`,
        /// `z` or an offset) are read to the millisecond chrono reads.
        #[test]
        fn usual_rfc3339_times_are_read_as_chrono_reads_them(
            secs in -62_135_596_800i64..253_402_300_799,
            nanos in 0u32..1_000_000_000,
            offset_minutes in -1439i32..=1439,
            digits in 0usize..=9,
            zone in proptest::sample::select(vec!["Z", "z", "offset"]),
            separator in proptest::sample::select(vec!["T", "t", " "]),
        ) {
            let utc = chrono::DateTime::from_timestamp(secs, nanos).unwrap();
            let format = format!("%Y-%m-%d{separator}%H:%M:%S");
            let (clock, zone) = if zone != "offset" {
                (utc.format(&format).to_string(), zone.to_owned())
            } else {
                let east = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
                let m = offset_minutes.abs();
                let sign = if offset_minutes < 0 { '-' } else { '+' };
                (
                    utc.with_timezone(&east).format(&format).to_string(),
                    format!("{sign}{:02}:{:02}", m / 60, m % 60),
                )
            };
            let fraction = format!("{nanos:09}");
            let text = match digits {
                0 => format!("{clock}{zone}"),
                n => format!("{clock}.{}{zone}", &fraction[..n]),
            };
            let want = chrono_millis(&text);
            proptest::prop_assert!(want.is_some(), "{}", text);
            proptest::prop_assert_eq!(rfc3339_millis(&text), want, "{}", text);
        }

        /// Text near that shape: whatever is read, chrono reads the same;
        /// what chrono reads and is not read is a leap second or more than
        /// 9 fraction digits, which the contract refuses.
        #[test]
        fn what_is_read_chrono_reads_the_same(
            text in "[0-9]{4}-[0-3][0-9]-[0-3][0-9][Tt _][0-2][0-9]:[0-6][0-9]:[0-6][0-9](\\.[0-9]{0,11})?(Z|z|[+-][0-2][0-9]:[0-6][0-9]|[+-][0-9]{4}|)"
        ) {
            match (rfc3339_millis(&text), chrono_millis(&text)) {
                (Some(ms), theirs) => proptest::prop_assert_eq!(Some(ms), theirs, "{}", text),
                (None, Some(_)) => {
                    let digits = text[19..].bytes().filter(u8::is_ascii_digit).count();
                    let zone_digits = if text.ends_with(['Z', 'z']) { 0 } else { 4 };
                    proptest::prop_assert!(
                        &text[17..19] == "60" || digits - zone_digits > 9,
                        "{}", text
                    );
                }
                (None, None) => {}
            }
        }
    }

    proptest::proptest! {
        /// Every IPv4 address in its usual spelling is read directly, and
        /// whatever is read directly the standard parser reads the same.
        #[test]
        fn addresses_are_read_as_the_standard_parser_reads_them(
            octets in proptest::prelude::any::<[u8; 4]>(),
            near in "([0-9]{1,4}\\.){3}[0-9]{1,4}|[0-9]{0,4}(\\.[0-9]{0,4}){0,4}[.:a ]?",
        ) {
            let text = Ipv4Addr::from(octets).to_string();
            proptest::prop_assert_eq!(dotted_quad(&text), Some(Ipv4Addr::from(octets)));
            match dotted_quad(&near) {
                Some(v4) => proptest::prop_assert_eq!(Ok(IpAddr::V4(v4)), near.parse::<IpAddr>()),
                None => proptest::prop_assert!(near.parse::<Ipv4Addr>().is_err(), "{}", near),
            }
        }
    }

    #[test]
    fn enums_are_trimmed_and_case_insensitive() {
        const KINDS: &[&str] = &["login", "logout"];
        assert_eq!(one_of("e", s("  LogIn "), KINDS).unwrap(), "login");
        // ASCII white space (space, tab, LF, FF, CR) only.
        assert_eq!(
            one_of("e", s("\t\n\x0c\rLOGOUT \r\n"), KINDS).unwrap(),
            "logout"
        );
        for untrimmed in [
            "\u{a0}login",
            "login\u{a0}",
            "\u{2003}login",
            "login\u{3000}",
            "\x0blogin",
            "log in",
        ] {
            let err = one_of("e", s(untrimmed), KINDS).unwrap_err();
            assert_eq!(err.reason, ReasonCode::InvalidField, "{untrimmed:?}");
        }
        // Case is ASCII case: no Unicode folding.
        assert!(one_of("e", s("LOGİN"), KINDS).is_err());
        assert!(one_of("e", s("ＬＯＧＩＮ"), KINDS).is_err());
        let err = one_of("e", s("signin"), KINDS).unwrap_err();
        assert_eq!(err.reason, ReasonCode::InvalidField);
        assert!(err.detail.contains("login, logout"));
        assert!(one_of("e", n("1"), KINDS).is_err());
        // Country codes are trimmed the same way.
        assert_eq!(country("c", s("\tde\n")).unwrap(), "DE");
        assert!(country("c", s("\u{a0}de")).is_err());
    }

    #[test]
    fn strings_lengths_and_truncation() {
        assert!(bounded_string("r", s(""), 1, 4).is_err());
        assert!(bounded_string("r", s("abcde"), 1, 4).is_err());
        assert_eq!(bounded_string("r", s("abcd"), 1, 4).unwrap(), "abcd");
        // "é" is two bytes: a cut at 3 bytes must not split it.
        assert_eq!(truncated_string("u", s("aéé"), 4).unwrap(), "aé");
        assert_eq!(truncated_string("u", s("abc"), 4).unwrap(), "abc");
        assert_eq!(user_id(None).unwrap_err().reason, ReasonCode::MissingField);
        assert_eq!(
            user_id(Some(Json::Null)).unwrap_err().reason,
            ReasonCode::MissingField
        );
        assert_eq!(
            user_id(Some(s(&"x".repeat(129)))).unwrap_err().reason,
            ReasonCode::InvalidField
        );
        assert_eq!(user_id(Some(s(&"x".repeat(128)))).unwrap().len(), 128);
    }

    /// Integers are numbers written without a fraction or an exponent,
    /// of any size: what does not fit the field is `invalid_field`, never
    /// `invalid_json`. `-0` is 0.
    #[test]
    fn integers_of_any_spelling_are_fields_to_check() {
        assert_eq!(integer("n", n("-0"), 0, 5), Ok(0));
        assert_eq!(integer("n", n("0"), 0, 5), Ok(0));
        for (number, detail) in [
            (
                "1.5",
                "field `n` must be an integer, got a non-integer number",
            ),
            (
                "1.0",
                "field `n` must be an integer, got a non-integer number",
            ),
            (
                "1e2",
                "field `n` must be an integer, got a non-integer number",
            ),
            (
                "1e400",
                "field `n` must be an integer, got a non-integer number",
            ),
            (
                "-0.0",
                "field `n` must be an integer, got a non-integer number",
            ),
            ("6", "field `n` is 6, outside 0..=5"),
            (
                "9223372036854775807",
                "field `n` is 9223372036854775807, outside 0..=5",
            ),
            (
                "99999999999999999999",
                "field `n` is 99999999999999999999, outside 0..=5",
            ),
            (
                "-99999999999999999999",
                "field `n` is -99999999999999999999, outside 0..=5",
            ),
        ] {
            let err = integer("n", n(number), 0, 5).unwrap_err();
            assert_eq!(
                (err.reason, &*err.detail),
                (ReasonCode::InvalidField, detail)
            );
        }
        assert_eq!(
            integer("n", s("5"), 0, 5).unwrap_err().detail,
            "field `n` must be an integer, got a string"
        );
        assert_eq!(
            integer("n", Json::Bool(true), 0, 5).unwrap_err().detail,
            "field `n` must be an integer, got a boolean"
        );
        // A number is quoted cut to a readable length.
        let long = "9".repeat(1000);
        let detail = integer("n", n(&long), 0, 5).unwrap_err().detail;
        assert!(detail.len() < 120 && detail.contains('…'), "{detail}");
    }

    /// Decision: `user_id` is an identifier, stored exactly as sent: not
    /// trimmed, not case-folded; only empty or over 128 bytes is invalid.
    #[test]
    fn user_ids_are_stored_as_sent() {
        for id in [" u1 ", "U1", "u1\t", " ", "\u{a0}", "ü"] {
            assert_eq!(user_id(Some(s(id))).as_deref(), Ok(id), "{id:?}");
        }
        assert_eq!(
            user_id(Some(s(""))).unwrap_err().detail,
            "field `user_id` must not be empty"
        );
        assert_eq!(
            user_id(Some(n("1"))).unwrap_err().detail,
            "field `user_id` must be a string, got an integer"
        );
    }

    #[test]
    fn scalars() {
        assert!(uuid("id", s("not-a-uuid")).is_err());
        assert_eq!(
            uuid("id", s("6F9619FF-8B86-D011-B42D-00C04FC964FF"))
                .unwrap()
                .to_string(),
            "6f9619ff-8b86-d011-b42d-00c04fc964ff"
        );
        assert!(ip_address("ip", s("10.0.0.256")).is_err());
        assert!(ip_address("ip", s("2001:db8::1")).is_ok());
        assert_eq!(integer("n", n("5"), 0, 5).unwrap(), 5);
        assert!(integer("n", n("6"), 0, 5).is_err());
        assert!(integer("n", n("-1"), 0, 5).is_err());
        assert!(integer("n", n("1.0"), 0, 5).is_err());
        assert!(boolean("b", s("true")).is_err());
        assert_eq!(country("c", s("de")).unwrap(), "DE");
        assert_eq!(country("c", s(" uS ")).unwrap(), "US");
        assert!(country("c", s("é")).is_err());
        assert!(country("c", s("ZZ")).is_err());
        assert!(country("c", s("DEU")).is_err());
    }
}
