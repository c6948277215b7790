//! Realistic, deterministic user logs for the logpipe pipeline, and the
//! ways to send them.
//!
//! A seeded simulation of users ([`Generator`]) writes the three log kinds
//! (auth, session, activity) exactly in the formats the functions accept
//! (`docs/logs.md`), plus, at a chosen ratio, bad records whose reason code
//! is known in advance ([`Expected`]). Records then go
//!
//! - to Kafka with librdkafka ([`produce`]), counting every acknowledgement
//!   and every failure;
//! - to stdout as JSON lines ([`write_lines`]);
//! - into AWS Lambda Kafka event files with an `expected.json` manifest
//!   ([`write_events`]), for `logpipe replay` and the function tests.
//!
//! The `log-generator` binary (and `logpipe generate`) is [`run`] over
//! [`GenerateArgs`]. `--msk-cluster-arn` finds an MSK cluster's brokers
//! through [`msk::bootstrap_brokers`]. [`KafkaSecurity`] (the TLS and
//! SASL flags) and the [`flags`] value parsers serve logpipe's Kafka
//! commands too.
//!
//! ```
//! use log_generator::{Expected, Generator, GeneratorConfig};
//!
//! let config = GeneratorConfig { seed: 7, invalid_ratio: 0.5, ..GeneratorConfig::default() };
//! let records: Vec<_> = Generator::new(config).unwrap().take(6).collect();
//! assert_eq!(records.iter().filter(|r| r.expected != Expected::Valid).count(), 3);
//! ```
#![forbid(unsafe_code)]

mod catalog;
mod cli;
mod events;
pub mod flags;
mod generator;
mod lines;
mod logs;
pub mod msk;
mod producer;
mod schedule;
mod security;
pub mod shutdown;
mod summary;
mod time;
mod variation;
mod world;

use std::path::PathBuf;

pub use cli::{run, GenerateArgs, HELP_EXAMPLES};
pub use events::{
    murmur2, partition_for_key, record_headers, write_events, EventVariant, EventsConfig,
    ExpectedCounts, Manifest, ManifestFile, DEFAULT_CLUSTER_ARN, MAX_EVENT_BYTES,
};
pub use flags::Bootstrap;
pub use generator::{
    Expected, GeneratedRecord, Generator, GeneratorConfig, Output, RecordValue, TopicNames,
    DEFAULT_START_MS, UNOWNED_TOPIC,
};
pub use lines::write_lines;
pub use producer::{produce, produce_with, Compression, ProduceConfig, DEFAULT_PRODUCER_ID};
pub use schedule::{Backlog, RunControl, Schedule};
pub use security::{refusal, KafkaSecurity, Refused, SaslMechanism, Secret, SecurityProtocol};
pub use summary::{reason_counts, GenerateSummary, TopicSummary};

/// Why generating or sending failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// A setting is out of range or settings do not fit together.
    #[error("{0}")]
    Config(String),
    /// A file or directory could not be written or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
    /// The Kafka producer could not be set up.
    #[error("Kafka at {bootstrap}: {message}")]
    Kafka {
        /// The bootstrap servers.
        bootstrap: String,
        /// What went wrong.
        message: String,
    },
    /// The MSK cluster's brokers could not be found.
    #[error("MSK cluster {arn}: {message}")]
    Msk {
        /// The cluster ARN.
        arn: String,
        /// What went wrong.
        message: String,
    },
    /// Standard output could not be written.
    #[error("writing to standard output: {0}")]
    Stdout(#[source] std::io::Error),
}
