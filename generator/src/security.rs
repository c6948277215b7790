//! TLS and SASL/SCRAM settings of a Kafka client, as command-line flags
//! ([`KafkaSecurity`], a `clap::Args` struct) and as librdkafka properties.
//! The generator's producer and logpipe's Kafka commands share them.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::GenerateError;

/// How a Kafka client talks to the brokers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SecurityProtocol {
    /// No TLS, no authentication.
    #[default]
    Plaintext,
    /// TLS, no SASL.
    Ssl,
    /// SASL over TLS (MSK's SCRAM listener).
    #[value(name = "sasl_ssl", alias = "sasl-ssl")]
    SaslSsl,
    /// SASL without TLS.
    #[value(name = "sasl_plaintext", alias = "sasl-plaintext")]
    SaslPlaintext,
}

impl SecurityProtocol {
    /// librdkafka's `security.protocol` value.
    pub fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "plaintext",
            SecurityProtocol::Ssl => "ssl",
            SecurityProtocol::SaslSsl => "sasl_ssl",
            SecurityProtocol::SaslPlaintext => "sasl_plaintext",
        }
    }

    fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslSsl | SecurityProtocol::SaslPlaintext
        )
    }
}

/// SASL mechanism (SCRAM; MSK supports SHA-512 only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SaslMechanism {
    /// SCRAM-SHA-256.
    #[value(name = "SCRAM-SHA-256")]
    ScramSha256,
    /// SCRAM-SHA-512.
    #[default]
    #[value(name = "SCRAM-SHA-512")]
    ScramSha512,
}

impl SaslMechanism {
    /// librdkafka's `sasl.mechanisms` value.
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// A password: `Debug` and `Display` show `<redacted>`, never the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `text`.
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The text, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// TLS and SASL settings of a Kafka client, and the command-line flags that
/// set them: `--security-protocol`, `--sasl-mechanism`, `--sasl-username`,
/// `--sasl-password` (or `LOGPIPE_KAFKA_SASL_PASSWORD`) and
/// `--ssl-ca-location`. `log-generator` and logpipe's Kafka commands
/// (`esm`, `topics create`, `demo --kafka`) flatten it into their flags
/// (`#[command(flatten)]`); [`KafkaSecurity::validate`] checks that the
/// flags fit together and [`KafkaSecurity::apply`] sets the librdkafka
/// properties.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct KafkaSecurity {
    /// How to connect to the brokers
    #[arg(
        help_heading = "Kafka",
        id = "security_protocol",
        long = "security-protocol",
        value_name = "SECURITY_PROTOCOL",
        value_enum,
        default_value_t
    )]
    pub protocol: SecurityProtocol,

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

    /// PEM file of CA certificates to verify the brokers with [default: the
    /// system's]
    #[arg(help_heading = "Kafka", long, value_name = "FILE")]
    pub ssl_ca_location: Option<PathBuf>,
}

impl KafkaSecurity {
    /// Checks that the settings fit together, naming the flags that do not.
    pub fn validate(&self) -> Result<(), GenerateError> {
        let p = self.protocol.name();
        if self.protocol.uses_sasl() {
            if self.sasl_username.as_deref().unwrap_or("").is_empty() {
                return Err(GenerateError::Config(format!(
                    "--security-protocol {p} needs --sasl-username"
                )));
            }
            if self
                .sasl_password
                .as_ref()
                .is_none_or(|p| p.expose().is_empty())
            {
                return Err(GenerateError::Config(format!(
                    "--security-protocol {p} needs --sasl-password (or LOGPIPE_KAFKA_SASL_PASSWORD)"
                )));
            }
        } else if self.sasl_username.is_some() || self.sasl_mechanism.is_some() {
            return Err(GenerateError::Config(format!(
                "SASL settings have no effect with --security-protocol {p}: use sasl_ssl or sasl_plaintext"
            )));
        }
        if let Some(ca) = &self.ssl_ca_location {
            if matches!(
                self.protocol,
                SecurityProtocol::Plaintext | SecurityProtocol::SaslPlaintext
            ) {
                return Err(GenerateError::Config(format!(
                    "--ssl-ca-location has no effect with --security-protocol {p}: use ssl or sasl_ssl"
                )));
            }
            if !ca.is_file() {
                return Err(GenerateError::Config(format!(
                    "--ssl-ca-location {}: no such file",
                    ca.display()
                )));
            }
        }
        Ok(())
    }

    /// The librdkafka properties these settings stand for, in order:
    /// `security.protocol`, then with SASL `sasl.mechanisms`,
    /// `sasl.username`, `sasl.password`, then `ssl.ca.location`.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![("security.protocol", self.protocol.name().to_owned())];
        if self.protocol.uses_sasl() {
            out.push((
                "sasl.mechanisms",
                self.sasl_mechanism.unwrap_or_default().name().to_owned(),
            ));
            if let Some(u) = &self.sasl_username {
                out.push(("sasl.username", u.clone()));
            }
            if let Some(p) = &self.sasl_password {
                out.push(("sasl.password", p.expose().to_owned()));
            }
        }
        if let Some(ca) = &self.ssl_ca_location {
            out.push(("ssl.ca.location", ca.display().to_string()));
        }
        out
    }

    /// Sets [`KafkaSecurity::settings`] on a librdkafka configuration.
    pub fn apply(&self, config: &mut ClientConfig) {
        for (key, value) in self.settings() {
            config.set(key, value);
        }
    }

    /// Whether these are the defaults (plaintext, nothing else set).
    pub fn is_default(&self) -> bool {
        *self == KafkaSecurity::default()
    }
}

/// What a broker's refusal of this client means, when retrying cannot
/// mend it: the SASL credentials were refused, or the broker's certificate
/// failed verification against the trusted CAs. `None` for anything else
/// (a broker down, a timeout: librdkafka retries those itself).
///
/// librdkafka reports both through the client's error callback and then
/// keeps reconnecting, so without this a client with a wrong password
/// waits until its own timeouts (a producer's `message.timeout.ms`, or
/// forever for a consumer) and says only "Message timed out".
pub fn refusal(error: &KafkaError, reason: &str) -> Option<String> {
    match error.rdkafka_error_code()? {
        RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed => {
            Some(format!(
                "the broker refused the SASL credentials (check --sasl-username, --sasl-password or \
                 LOGPIPE_KAFKA_SASL_PASSWORD, and --sasl-mechanism): {reason}"
            ))
        }
        RDKafkaErrorCode::SSL if reason.contains("certificate verify failed") => Some(format!(
            "the broker's TLS certificate cannot be verified (check --ssl-ca-location): {reason}"
        )),
        _ => None,
    }
}

/// The first [`refusal`] a Kafka client met, shared between its error
/// callback (librdkafka's threads) and the code that drives it.
#[derive(Debug, Clone, Default)]
pub struct Refused(Arc<Mutex<Option<String>>>);

impl Refused {
    /// Notes `error` when it is a refusal (the first one is kept); true
    /// when it was one.
    pub fn note(&self, error: &KafkaError, reason: &str) -> bool {
        let Some(message) = refusal(error, reason) else {
            return false;
        };
        let mut first = self.0.lock().unwrap_or_else(|e| e.into_inner());
        first.get_or_insert(message);
        true
    }

    /// The refusal, once there was one.
    pub fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// `--sasl-password`'s value parser: the text, wrapped so it is never
/// printed.
fn parse_secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        security: KafkaSecurity,
    }

    fn parse(args: &[&str]) -> KafkaSecurity {
        Cli::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
            .unwrap()
            .security
    }

    #[test]
    fn flags_become_librdkafka_settings() {
        let default = KafkaSecurity::default();
        assert!(default.is_default());
        assert_eq!(
            default.settings(),
            vec![("security.protocol", "plaintext".to_owned())]
        );
        let s = parse(&[
            "--security-protocol",
            "sasl_ssl",
            "--sasl-username",
            "u",
            "--sasl-password",
            "p",
        ]);
        assert_eq!(
            s.settings(),
            vec![
                ("security.protocol", "sasl_ssl".to_owned()),
                ("sasl.mechanisms", "SCRAM-SHA-512".to_owned()),
                ("sasl.username", "u".to_owned()),
                ("sasl.password", "p".to_owned()),
            ]
        );
        s.validate().unwrap();
        let mut config = ClientConfig::new();
        s.apply(&mut config);
        assert_eq!(config.get("sasl.mechanisms"), Some("SCRAM-SHA-512"));
        let s = parse(&[
            "--security-protocol",
            "sasl-plaintext",
            "--sasl-mechanism",
            "SCRAM-SHA-256",
        ]);
        assert_eq!(
            s.settings()[1],
            ("sasl.mechanisms", "SCRAM-SHA-256".to_owned())
        );
        assert!(!s.is_default());
    }

    #[test]
    fn refused_credentials_and_certificates_are_told_apart_from_outages() {
        let refused = Refused::default();
        assert!(!refused.note(
            &KafkaError::Global(RDKafkaErrorCode::AllBrokersDown),
            "1/1 brokers are down"
        ));
        assert!(!refused.note(
            &KafkaError::Global(RDKafkaErrorCode::SSL),
            "SSL transport error: Disconnected"
        ));
        assert_eq!(refused.get(), None);
        assert!(refused.note(
            &KafkaError::Global(RDKafkaErrorCode::Authentication),
            "SASL authentication error: Authentication failed during authentication due to invalid credentials"
        ));
        assert!(refused.note(
            &KafkaError::Global(RDKafkaErrorCode::SSL),
            "SSL handshake failed: error:0A000086:SSL routines::certificate verify failed"
        ));
        let first = refused.get().unwrap();
        assert!(first.contains("refused the SASL credentials"), "{first}");
        assert!(first.contains("--sasl-password"), "{first}");
        assert!(first.contains("invalid credentials"), "{first}");
        let tls = refusal(
            &KafkaError::Global(RDKafkaErrorCode::SSL),
            "SSL handshake failed: certificate verify failed",
        )
        .unwrap();
        assert!(tls.contains("--ssl-ca-location"), "{tls}");
    }

    #[test]
    fn settings_that_do_not_fit_name_the_flags() {
        let err = |args: &[&str]| parse(args).validate().unwrap_err().to_string();
        assert!(err(&["--sasl-username", "u"]).contains("plaintext"));
        assert!(err(&[
            "--ssl-ca-location",
            "/nonexistent.pem",
            "--security-protocol",
            "ssl"
        ])
        .contains("no such file"));
        assert!(err(&["--ssl-ca-location", "Cargo.toml"]).contains("--ssl-ca-location"));
        assert!(err(&["--security-protocol", "sasl_ssl"]).contains("--sasl-username"));
    }
}
