//! Command-line flags and their value parsers, shared by `log-generator`
//! and the `logpipe` commands so that the same flag accepts the same input
//! and refuses bad input with the same message everywhere.

use std::str::FromStr;

use logpipe_contract::topics::LogKind;

/// `--bootstrap`: the Kafka bootstrap servers. `log-generator` and
/// logpipe's Kafka commands flatten it into their flags.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Bootstrap {
    /// Kafka bootstrap servers, host:port[,host:port...]
    #[arg(
        help_heading = "Kafka",
        id = "bootstrap",
        long = "bootstrap",
        value_name = "SERVERS",
        default_value = "127.0.0.1:9092"
    )]
    pub servers: String,
}

/// A log kind: `auth`, `session`, `activity`, or its topic or function
/// name.
pub fn parse_kind(s: &str) -> Result<LogKind, String> {
    LogKind::from_str(s).map_err(|e| e.to_string())
}

/// `KIND=TOPIC`, a topic name Kafka accepts (1 to 249 letters, digits,
/// `.`, `_`, `-`).
pub fn parse_topic_name(s: &str) -> Result<(LogKind, String), String> {
    let (kind, topic) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not KIND=TOPIC (e.g. auth=prod_auth_logs)"))?;
    let topic = topic.trim();
    if topic.is_empty() || topic.len() > 249 {
        return Err(format!("topic name `{topic}` must be 1 to 249 characters"));
    }
    if !topic
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return Err(format!(
            "topic name `{topic}` may hold only letters, digits, `.`, `_` and `-`"
        ));
    }
    Ok((parse_kind(kind)?, topic.to_owned()))
}

/// A fraction from 0.0 to 1.0.
pub fn parse_ratio(s: &str) -> Result<f64, String> {
    let r: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err(format!("{r} is outside 0.0..=1.0"))
    }
}

/// `KEY=VALUE`, a librdkafka property (`--kafka-config`); the value may
/// hold `=`.
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("`{s}` is not KEY=VALUE (e.g. linger.ms=50)")),
    }
}

/// Which topics a command works on: `--topics KINDS` and `--topic-name
/// KIND=TOPIC` (repeatable). Flattened into `log-generator`'s flags and
/// logpipe's Kafka commands; the flags take the help heading of the place
/// they are flattened into (`#[command(flatten, next_help_heading = …)]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct TopicSelection {
    /// Log kinds, comma-separated: auth, session, activity (topic and
    /// function names work too) [default: all three]
    #[arg(long, value_name = "KINDS", value_delimiter = ',', value_parser = parse_kind)]
    pub topics: Vec<LogKind>,

    /// Use another topic than a kind's default, e.g. auth=prod_auth_logs
    /// (repeatable)
    #[arg(long = "topic-name", value_name = "KIND=TOPIC", value_parser = parse_topic_name)]
    pub topic_names: Vec<(LogKind, String)>,
}

impl TopicSelection {
    /// The selected kinds, in the order given, each once (all three in
    /// [`LogKind::ALL`] order when none is given).
    pub fn kinds(&self) -> Vec<LogKind> {
        if self.topics.is_empty() {
            return LogKind::ALL.to_vec();
        }
        let mut kinds = Vec::new();
        for k in &self.topics {
            if !kinds.contains(k) {
                kinds.push(*k);
            }
        }
        kinds
    }

    /// The selected kinds with their topics, in [`LogKind::ALL`] order.
    pub fn resolve(&self) -> Vec<(LogKind, String)> {
        LogKind::ALL
            .into_iter()
            .filter(|k| self.topics.is_empty() || self.topics.contains(k))
            .map(|k| (k, named_topic(&self.topic_names, k).to_owned()))
            .collect()
    }
}

/// The topic of `kind` under `--topic KIND=NAME` flags: the last one
/// naming `kind`, else its default topic.
pub fn named_topic(names: &[(LogKind, String)], kind: LogKind) -> &str {
    names
        .iter()
        .rev()
        .find(|(k, _)| *k == kind)
        .map_or(kind.default_topic(), |(_, t)| t.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers_accept_good_input_and_name_bad_input() {
        assert_eq!(parse_kind("user_auth_logs"), Ok(LogKind::Auth));
        assert!(parse_kind("billing").unwrap_err().contains("billing"));
        assert_eq!(
            parse_topic_name("session=s.2-x_y"),
            Ok((LogKind::Session, "s.2-x_y".to_owned()))
        );
        for bad in ["auth", "auth=", "auth=bad topic", "billing=x"] {
            assert!(parse_topic_name(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_ratio(" 0.25 "), Ok(0.25));
        assert!(parse_ratio("1.5").unwrap_err().contains("1.5"));
        assert!(parse_ratio("NaN").is_err());
        assert_eq!(
            parse_key_value("a.b=c=d"),
            Ok(("a.b".to_owned(), "c=d".to_owned()))
        );
        assert!(parse_key_value("=x").is_err());
        assert!(parse_key_value("linger.ms")
            .unwrap_err()
            .contains("linger.ms"));
    }

    #[test]
    fn selection_defaults_to_all_three_default_topics() {
        let s = TopicSelection {
            topics: vec![],
            topic_names: vec![(LogKind::Session, "s2".into())],
        };
        assert_eq!(
            s.resolve(),
            vec![
                (LogKind::Auth, "user_auth_logs".to_owned()),
                (LogKind::Session, "s2".to_owned()),
                (LogKind::Activity, "user_activity_logs".to_owned()),
            ]
        );
        let one = TopicSelection {
            topics: vec![LogKind::Activity],
            topic_names: vec![],
        };
        assert_eq!(
            one.resolve(),
            vec![(LogKind::Activity, "user_activity_logs".to_owned())]
        );
        assert!(parse_topic_name("auth=bad topic").is_err());
        assert!(parse_topic_name("billing=x").is_err());
    }
}
