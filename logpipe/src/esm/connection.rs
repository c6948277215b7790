//! How the Kafka commands (`esm`, `topics`) reach the brokers and which
//! topics they work on: the same flags as `log-generator`, the same TLS and
//! SASL/SCRAM settings.

use std::path::PathBuf;
use std::str::FromStr;

use log_generator::{KafkaSecurity, SaslMechanism, Secret, SecurityProtocol};
use logpipe_core::LogKind;
use rdkafka::ClientConfig;

/// Bootstrap servers, TLS, SASL and raw librdkafka settings.
#[derive(Debug, Clone, clap::Args)]
pub struct KafkaConnection {
    /// Kafka bootstrap servers, host:port[,host:port...]
    #[arg(
        help_heading = "Kafka",
        long,
        value_name = "SERVERS",
        default_value = "127.0.0.1:9092"
    )]
    pub bootstrap: String,

    /// How to connect to the brokers
    #[arg(help_heading = "Kafka", long, value_enum, default_value_t)]
    pub security_protocol: SecurityProtocol,

    /// SASL mechanism [default with sasl_*: SCRAM-SHA-512]
    #[arg(help_heading = "Kafka", long, value_enum)]
    pub sasl_mechanism: Option<SaslMechanism>,

    /// SASL user name
    #[arg(help_heading = "Kafka", long, value_name = "USER")]
    pub sasl_username: Option<String>,

    /// SASL password (better: set LOGPIPE_KAFKA_SASL_PASSWORD); never printed
    #[arg(help_heading = "Kafka", long, value_name = "PASSWORD", env = "LOGPIPE_KAFKA_SASL_PASSWORD",
          hide_env_values = true, value_parser = parse_secret)]
    pub sasl_password: Option<Secret>,

    /// PEM file of CA certificates to verify the brokers with
    #[arg(help_heading = "Kafka", long, value_name = "FILE")]
    pub ssl_ca_location: Option<PathBuf>,

    /// Extra librdkafka property, e.g. session.timeout.ms=6000 (repeatable,
    /// applied last)
    #[arg(help_heading = "Kafka", long = "kafka-config", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub kafka_config: Vec<(String, String)>,
}

impl KafkaConnection {
    /// The TLS and SASL settings, checked.
    pub fn security(&self) -> anyhow::Result<KafkaSecurity> {
        let security = KafkaSecurity {
            protocol: self.security_protocol,
            sasl_mechanism: self.sasl_mechanism,
            sasl_username: self.sasl_username.clone(),
            sasl_password: self.sasl_password.clone(),
            ssl_ca_location: self.ssl_ca_location.clone(),
        };
        security.validate()?;
        Ok(security)
    }

    /// A librdkafka configuration with the bootstrap servers and security
    /// set; `specific` adds the client's own settings, and `--kafka-config`
    /// comes last.
    pub fn client_config(
        &self,
        specific: impl FnOnce(&mut ClientConfig),
    ) -> anyhow::Result<ClientConfig> {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.bootstrap);
        self.security()?.apply(&mut config);
        specific(&mut config);
        for (k, v) in &self.kafka_config {
            config.set(k, v);
        }
        Ok(config)
    }
}

/// Which topics a command works on.
#[derive(Debug, Clone, clap::Args)]
pub struct TopicSelection {
    /// Log kinds, comma-separated: auth, session, activity (topic and
    /// function names work too) [default: all three]
    #[arg(help_heading = "Topics", long, value_name = "KINDS", value_delimiter = ',', value_parser = parse_kind)]
    pub topics: Vec<LogKind>,

    /// Use another topic than a kind's default, e.g. auth=prod_auth_logs
    /// (repeatable)
    #[arg(help_heading = "Topics", long = "topic-name", value_name = "KIND=TOPIC", value_parser = parse_topic_name)]
    pub topic_names: Vec<(LogKind, String)>,
}

impl TopicSelection {
    /// The selected kinds with their topics, in [`LogKind::ALL`] order.
    pub fn resolve(&self) -> Vec<(LogKind, String)> {
        LogKind::ALL
            .into_iter()
            .filter(|k| self.topics.is_empty() || self.topics.contains(k))
            .map(|k| {
                let topic = self
                    .topic_names
                    .iter()
                    .rev()
                    .find(|(kind, _)| *kind == k)
                    .map_or_else(|| k.default_topic().to_owned(), |(_, t)| t.clone());
                (k, topic)
            })
            .collect()
    }
}

pub fn parse_kind(s: &str) -> Result<LogKind, String> {
    LogKind::from_str(s).map_err(|e| e.to_string())
}

pub fn parse_topic_name(s: &str) -> Result<(LogKind, String), String> {
    let (kind, topic) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not KIND=TOPIC (e.g. auth=prod_auth_logs)"))?;
    let topic = topic.trim();
    if topic.is_empty()
        || topic.len() > 249
        || !topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return Err(format!(
            "`{topic}` is not a Kafka topic name (1 to 249 letters, digits, `.`, `_`, `-`)"
        ));
    }
    Ok((parse_kind(kind)?, topic.to_owned()))
}

fn parse_secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s))
}

pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!(
            "`{s}` is not KEY=VALUE (e.g. session.timeout.ms=6000)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(
            parse_key_value("a.b=c=d").unwrap(),
            ("a.b".into(), "c=d".into())
        );
    }
}
