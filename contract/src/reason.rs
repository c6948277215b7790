//! Why a record was dead-lettered: one code a record, stored in
//! `dead_letters.reason`, counted in every summary.

use std::fmt;

/// The reason a record could not be stored as a log row.
///
/// The value checks run in the order of the variants below (after
/// `WrongTopic`), and the first that fails names the reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReasonCode {
    /// The record belongs to a topic this function does not own.
    WrongTopic,
    /// The value is absent, null or zero bytes long.
    EmptyValue,
    /// The value is not valid base64.
    InvalidBase64,
    /// The decoded value is larger than [`crate::limits::MAX_VALUE_BYTES`].
    TooLarge,
    /// The decoded value is not UTF-8.
    InvalidUtf8,
    /// The value is not JSON.
    InvalidJson,
    /// The value is JSON but not an object.
    NotAnObject,
    /// A required field is absent or null.
    MissingField,
    /// A field has the wrong type or a value outside its rules.
    InvalidField,
}

impl ReasonCode {
    /// Every reason code, in check order.
    pub const ALL: [ReasonCode; 9] = [
        ReasonCode::WrongTopic,
        ReasonCode::EmptyValue,
        ReasonCode::InvalidBase64,
        ReasonCode::TooLarge,
        ReasonCode::InvalidUtf8,
        ReasonCode::InvalidJson,
        ReasonCode::NotAnObject,
        ReasonCode::MissingField,
        ReasonCode::InvalidField,
    ];

    /// The code as stored and reported (`snake_case`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ReasonCode::WrongTopic => "wrong_topic",
            ReasonCode::EmptyValue => "empty_value",
            ReasonCode::InvalidBase64 => "invalid_base64",
            ReasonCode::TooLarge => "too_large",
            ReasonCode::InvalidUtf8 => "invalid_utf8",
            ReasonCode::InvalidJson => "invalid_json",
            ReasonCode::NotAnObject => "not_an_object",
            ReasonCode::MissingField => "missing_field",
            ReasonCode::InvalidField => "invalid_field",
        }
    }

    /// Whether the reason concerns the Lambda event around a value rather
    /// than the value itself: a value that is not valid base64 text, or a
    /// record of a topic the function does not own. A record as a producer
    /// sends it to Kafka can have neither.
    pub const fn is_of_the_event(self) -> bool {
        matches!(self, ReasonCode::WrongTopic | ReasonCode::InvalidBase64)
    }

    /// The code named `s`, if any.
    pub fn parse(s: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record that failed validation: its reason code and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The reason code.
    pub reason: ReasonCode,
    /// What was wrong, naming the field where there is one.
    pub detail: String,
}

impl Rejection {
    /// A rejection with `reason` and `detail`.
    pub fn new(reason: ReasonCode, detail: impl Into<String>) -> Self {
        Rejection {
            reason,
            detail: detail.into(),
        }
    }

    /// `missing_field` for `field`.
    pub fn missing(field: &str) -> Self {
        Rejection::new(
            ReasonCode::MissingField,
            format!("field `{field}` is required but absent or null"),
        )
    }

    /// `invalid_field` for `field`, with what was wrong.
    pub fn invalid(field: &str, what: impl fmt::Display) -> Self {
        Rejection::new(ReasonCode::InvalidField, format!("field `{field}` {what}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_back() {
        for code in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ReasonCode::parse("nope"), None);
        assert_eq!(
            Rejection::missing("user_id").reason,
            ReasonCode::MissingField
        );
    }
}
