//! Configuration, the Lambda way: environment variables with defaults.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `LOGPIPE_TOPIC` | the function's topic | topic this function owns |
//! | `LOGPIPE_CASSANDRA_CONTACT_POINTS` | `127.0.0.1:9042` | comma-separated `host:port` |
//! | `LOGPIPE_CASSANDRA_KEYSPACE` | `user_db` | keyspace of the four tables |
//! | `LOGPIPE_CASSANDRA_LOCAL_DC` | unset | prefer this datacenter |
//! | `LOGPIPE_CASSANDRA_CONSISTENCY` | `LOCAL_QUORUM` | write consistency |
//! | `LOGPIPE_CASSANDRA_USERNAME` / `_PASSWORD` | unset | plain-text credentials |
//! | `LOGPIPE_CASSANDRA_CREDENTIALS_SECRET_ARN` | unset | Secrets Manager secret `{"username","password"}` |
//! | `LOGPIPE_CASSANDRA_TLS` | `false` | TLS to the contact points |
//! | `LOGPIPE_CASSANDRA_TLS_CA_FILE` | unset (Mozilla roots) | PEM bundle of trusted CAs |
//! | `LOGPIPE_CASSANDRA_TLS_SERVER_NAME` | first contact point's host name | name the certificate must carry |
//! | `LOGPIPE_TTL_SECONDS` | `0` (none) | TTL of written rows |
//! | `LOGPIPE_WRITE_CONCURRENCY` | `64` | writes in flight per invocation |
//! | `LOGPIPE_WRITE_MAX_ATTEMPTS` | `4` | tries per write before the batch fails |
//! | `LOGPIPE_RETRY_BACKOFF_MS` | `100` | first retry delay, doubled each try |
//! | `LOGPIPE_REQUEST_TIMEOUT_MS` | `2000` | per-request and connect timeout |

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use scylla::statement::Consistency;

use crate::topics::DEFAULT_KEYSPACE;

/// A configuration value that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{var}={value:?}: {why}")]
pub struct ConfigError {
    /// The variable.
    pub var: &'static str,
    /// Its value.
    pub value: String,
    /// What is wrong with it.
    pub why: String,
}

/// How the sink authenticates.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    /// No authentication (local nodes).
    #[default]
    None,
    /// Username and password given directly.
    Plain { username: String, password: String },
    /// Username and password read from an AWS Secrets Manager secret.
    SecretArn(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Plain { username, .. } => {
                write!(
                    f,
                    "Plain {{ username: {username:?}, password: <redacted> }}"
                )
            }
            Credentials::SecretArn(arn) => write!(f, "SecretArn({arn:?})"),
        }
    }
}

/// TLS settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM file of trusted CAs; Mozilla's roots when unset.
    pub ca_file: Option<PathBuf>,
    /// The host name certificates are checked against.
    pub server_name: Option<String>,
}

/// Everything the Cassandra sink needs.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkConfig {
    pub contact_points: Vec<String>,
    pub keyspace: String,
    pub local_dc: Option<String>,
    pub consistency: Consistency,
    pub credentials: Credentials,
    pub tls: Option<TlsSettings>,
    /// Row TTL in seconds; 0 writes rows without a TTL.
    pub ttl_seconds: u32,
    pub write_concurrency: usize,
    pub max_attempts: u32,
    pub retry_backoff: Duration,
    pub request_timeout: Duration,
}

impl Default for SinkConfig {
    fn default() -> Self {
        SinkConfig {
            contact_points: vec!["127.0.0.1:9042".into()],
            keyspace: DEFAULT_KEYSPACE.into(),
            local_dc: None,
            consistency: Consistency::LocalQuorum,
            credentials: Credentials::None,
            tls: None,
            ttl_seconds: 0,
            write_concurrency: 64,
            max_attempts: 4,
            retry_backoff: Duration::from_millis(100),
            request_timeout: Duration::from_millis(2000),
        }
    }
}

impl SinkConfig {
    /// A local, unauthenticated configuration for one contact point.
    pub fn local(contact_point: impl Into<String>) -> Self {
        SinkConfig {
            contact_points: vec![contact_point.into()],
            ..SinkConfig::default()
        }
    }

    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let d = SinkConfig::default();
        let contact_points = match get("LOGPIPE_CASSANDRA_CONTACT_POINTS") {
            Some(v) => v
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            None => d.contact_points,
        };
        let username = get("LOGPIPE_CASSANDRA_USERNAME");
        let password = get("LOGPIPE_CASSANDRA_PASSWORD");
        let credentials = match (
            get("LOGPIPE_CASSANDRA_CREDENTIALS_SECRET_ARN"),
            username,
            password,
        ) {
            (Some(arn), _, _) => Credentials::SecretArn(arn),
            (None, Some(username), Some(password)) => Credentials::Plain { username, password },
            (None, Some(u), None) => {
                return Err(ConfigError {
                    var: "LOGPIPE_CASSANDRA_PASSWORD",
                    value: String::new(),
                    why: format!("LOGPIPE_CASSANDRA_USERNAME is {u:?} but no password is set"),
                })
            }
            (None, None, Some(_)) => {
                return Err(ConfigError {
                    var: "LOGPIPE_CASSANDRA_USERNAME",
                    value: String::new(),
                    why: "LOGPIPE_CASSANDRA_PASSWORD is set but no username".into(),
                })
            }
            (None, None, None) => Credentials::None,
        };
        let tls =
            parse_bool("LOGPIPE_CASSANDRA_TLS", get("LOGPIPE_CASSANDRA_TLS"), false)?.then(|| {
                TlsSettings {
                    ca_file: get("LOGPIPE_CASSANDRA_TLS_CA_FILE").map(PathBuf::from),
                    server_name: get("LOGPIPE_CASSANDRA_TLS_SERVER_NAME"),
                }
            });
        let config = SinkConfig {
            contact_points,
            keyspace: get("LOGPIPE_CASSANDRA_KEYSPACE").unwrap_or(d.keyspace),
            local_dc: get("LOGPIPE_CASSANDRA_LOCAL_DC"),
            consistency: match get("LOGPIPE_CASSANDRA_CONSISTENCY") {
                Some(v) => parse_consistency(&v).ok_or_else(|| ConfigError {
                    var: "LOGPIPE_CASSANDRA_CONSISTENCY",
                    value: v.clone(),
                    why: "expected ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM, LOCAL_ONE or ANY".into(),
                })?,
                None => d.consistency,
            },
            credentials,
            tls,
            ttl_seconds: parse_num("LOGPIPE_TTL_SECONDS", get("LOGPIPE_TTL_SECONDS"), 0, 630_720_000, 0)?,
            write_concurrency: parse_num("LOGPIPE_WRITE_CONCURRENCY", get("LOGPIPE_WRITE_CONCURRENCY"), 1, 4096, 64)?,
            max_attempts: parse_num("LOGPIPE_WRITE_MAX_ATTEMPTS", get("LOGPIPE_WRITE_MAX_ATTEMPTS"), 1, 20, 4)?,
            retry_backoff: Duration::from_millis(parse_num(
                "LOGPIPE_RETRY_BACKOFF_MS",
                get("LOGPIPE_RETRY_BACKOFF_MS"),
                0,
                60_000,
                100,
            )?),
            request_timeout: Duration::from_millis(parse_num(
                "LOGPIPE_REQUEST_TIMEOUT_MS",
                get("LOGPIPE_REQUEST_TIMEOUT_MS"),
                1,
                600_000,
                2000,
            )?),
        };
        if config.contact_points.is_empty() {
            return Err(ConfigError {
                var: "LOGPIPE_CASSANDRA_CONTACT_POINTS",
                value: String::new(),
                why: "no contact point given".into(),
            });
        }
        Ok(config)
    }

    /// The longest a write can spend retrying before the batch fails: the
    /// sum of the backoffs plus one timeout per attempt.
    pub fn worst_case_write_time(&self) -> Duration {
        let backoffs: Duration = (1..self.max_attempts)
            .map(|n| self.retry_backoff * 2u32.saturating_pow(n - 1))
            .sum();
        backoffs + self.request_timeout * self.max_attempts
    }
}

/// The topic a function owns: `LOGPIPE_TOPIC`, else `default`.
pub fn topic_from_env(default: &str) -> String {
    std::env::var("LOGPIPE_TOPIC")
        .ok()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Parses a consistency level name (`LOCAL_QUORUM`, `local-quorum`, …).
pub fn parse_consistency(s: &str) -> Option<Consistency> {
    Some(
        match s.trim().to_ascii_uppercase().replace('-', "_").as_str() {
            "ANY" => Consistency::Any,
            "ONE" => Consistency::One,
            "TWO" => Consistency::Two,
            "THREE" => Consistency::Three,
            "QUORUM" => Consistency::Quorum,
            "ALL" => Consistency::All,
            "LOCAL_QUORUM" => Consistency::LocalQuorum,
            "EACH_QUORUM" => Consistency::EachQuorum,
            "LOCAL_ONE" => Consistency::LocalOne,
            _ => return None,
        },
    )
}

fn parse_bool(var: &'static str, v: Option<String>, default: bool) -> Result<bool, ConfigError> {
    match v.as_deref().map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(s) => match s.as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => Err(ConfigError {
                var,
                value: s,
                why: "expected true or false".into(),
            }),
        },
    }
}

fn parse_num<T>(
    var: &'static str,
    v: Option<String>,
    min: T,
    max: T,
    default: T,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(v) = v else { return Ok(default) };
    match v.trim().parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(ConfigError {
            var,
            value: v,
            why: format!("expected a whole number in {min}..={max}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        assert_eq!(
            SinkConfig::from_lookup(lookup(&[])).unwrap(),
            SinkConfig::default()
        );
    }

    #[test]
    fn reads_every_variable() {
        let c = SinkConfig::from_lookup(lookup(&[
            ("LOGPIPE_CASSANDRA_CONTACT_POINTS", "a:9042, b:9042"),
            ("LOGPIPE_CASSANDRA_KEYSPACE", "logs"),
            ("LOGPIPE_CASSANDRA_LOCAL_DC", "dc1"),
            ("LOGPIPE_CASSANDRA_CONSISTENCY", "local_one"),
            ("LOGPIPE_CASSANDRA_USERNAME", "u"),
            ("LOGPIPE_CASSANDRA_PASSWORD", "p"),
            ("LOGPIPE_CASSANDRA_TLS", "true"),
            (
                "LOGPIPE_CASSANDRA_TLS_SERVER_NAME",
                "cassandra.eu-west-1.amazonaws.com",
            ),
            ("LOGPIPE_TTL_SECONDS", "86400"),
            ("LOGPIPE_WRITE_CONCURRENCY", "8"),
            ("LOGPIPE_WRITE_MAX_ATTEMPTS", "2"),
            ("LOGPIPE_RETRY_BACKOFF_MS", "10"),
            ("LOGPIPE_REQUEST_TIMEOUT_MS", "500"),
        ]))
        .unwrap();
        assert_eq!(c.contact_points, ["a:9042", "b:9042"]);
        assert_eq!(c.keyspace, "logs");
        assert_eq!(c.local_dc.as_deref(), Some("dc1"));
        assert_eq!(c.consistency, Consistency::LocalOne);
        assert_eq!(
            c.credentials,
            Credentials::Plain {
                username: "u".into(),
                password: "p".into()
            }
        );
        assert!(
            !format!("{:?}", c.credentials).contains("\"p\""),
            "password must not be printed"
        );
        assert_eq!(
            c.tls.as_ref().unwrap().server_name.as_deref(),
            Some("cassandra.eu-west-1.amazonaws.com")
        );
        assert_eq!(c.ttl_seconds, 86400);
        assert_eq!(c.write_concurrency, 8);
        assert_eq!(c.max_attempts, 2);
        assert_eq!(c.worst_case_write_time(), Duration::from_millis(10 + 1000));
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("LOGPIPE_CASSANDRA_CONSISTENCY", "SOMETIMES"),
            ("LOGPIPE_WRITE_CONCURRENCY", "0"),
            ("LOGPIPE_TTL_SECONDS", "-1"),
            ("LOGPIPE_CASSANDRA_TLS", "maybe"),
            ("LOGPIPE_CASSANDRA_USERNAME", "only-user"),
        ] {
            let err = SinkConfig::from_lookup(lookup(&[(var, value)])).unwrap_err();
            assert!(err.to_string().contains("LOGPIPE_"), "{err}");
        }
        let err =
            SinkConfig::from_lookup(lookup(&[("LOGPIPE_WRITE_CONCURRENCY", "0")])).unwrap_err();
        assert_eq!(err.var, "LOGPIPE_WRITE_CONCURRENCY");
    }

    #[test]
    fn default_retries_fit_well_inside_a_lambda_timeout() {
        // 4 tries: 100 + 200 + 400 ms of backoff and four 2 s timeouts.
        assert_eq!(
            SinkConfig::default().worst_case_write_time(),
            Duration::from_millis(8700)
        );
    }
}
