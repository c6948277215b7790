//! The one place that says which Kafka topic feeds which function and table.
//!
//! Everything else (the three Lambda binaries, `logpipe replay`, the
//! generator, the schema dump) derives its topic, function and table names
//! from [`LogKind`]. Topic names are defaults: a deployment may rename them.

use std::fmt;
use std::str::FromStr;

/// The three kinds of user log the pipeline carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogKind {
    /// Logins, logouts, failures, MFA challenges, token refreshes.
    Auth,
    /// Session start, heartbeat and end.
    Session,
    /// Page views, clicks, searches, carts and purchases.
    Activity,
}

impl LogKind {
    /// Every kind, in the order topics are listed everywhere.
    pub const ALL: [LogKind; 3] = [LogKind::Auth, LogKind::Session, LogKind::Activity];

    /// The default Kafka topic this kind is produced to.
    pub const fn default_topic(self) -> &'static str {
        match self {
            LogKind::Auth => "user_auth_logs",
            LogKind::Session => "user_session_logs",
            LogKind::Activity => "user_activity_logs",
        }
    }

    /// The crate, binary and Lambda function name that consumes this kind.
    pub const fn function_name(self) -> &'static str {
        match self {
            LogKind::Auth => "auth-logs",
            LogKind::Session => "session-logs",
            LogKind::Activity => "activity-logs",
        }
    }

    /// The Cassandra table (in the configured keyspace) this kind is stored in.
    pub const fn table(self) -> &'static str {
        match self {
            LogKind::Auth => "auth_logs",
            LogKind::Session => "session_logs",
            LogKind::Activity => "activity_logs",
        }
    }

    /// The kind whose default topic is `topic`, if any.
    pub fn from_default_topic(topic: &str) -> Option<LogKind> {
        LogKind::ALL
            .into_iter()
            .find(|k| k.default_topic() == topic)
    }
}

/// The table that receives records no function could store.
pub const DEAD_LETTER_TABLE: &str = "dead_letters";

/// The default keyspace.
pub const DEFAULT_KEYSPACE: &str = "user_db";

impl fmt::Display for LogKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.function_name())
    }
}

/// Error for a name that is not a log kind.
#[derive(Debug, thiserror::Error)]
#[error("unknown log kind `{0}`: expected auth, session or activity (or a function or topic name)")]
pub struct UnknownLogKind(pub String);

impl FromStr for LogKind {
    type Err = UnknownLogKind;

    /// Accepts `auth`, a function name (`auth-logs`) or a default topic
    /// (`user_auth_logs`), case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        LogKind::ALL
            .into_iter()
            .find(|k| {
                let short = k.function_name().trim_end_matches("-logs");
                lower == short || lower == k.function_name() || lower == k.default_topic()
            })
            .ok_or_else(|| UnknownLogKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in LogKind::ALL {
            assert_eq!(
                LogKind::from_default_topic(kind.default_topic()),
                Some(kind)
            );
            assert_eq!(kind.function_name().parse::<LogKind>().unwrap(), kind);
            assert_eq!(kind.default_topic().parse::<LogKind>().unwrap(), kind);
        }
        assert_eq!("Auth".parse::<LogKind>().unwrap(), LogKind::Auth);
        assert!("user_db".parse::<LogKind>().is_err());
        assert_eq!(LogKind::from_default_topic("other"), None);
    }
}
