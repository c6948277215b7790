//! logpipe's shared pipeline library.
//!
//! Data flows one way: an AWS Lambda Kafka event ([`event`]) → one outcome
//! per record ([`record`]: decode, validate and transform, pure) → rows and
//! dead letters per batch ([`batch`]) → the Cassandra sink ([`sink`]).
//! [`handler`] ties them together for Lambda ([`lambda`]), `logpipe replay`
//! and the local event source mapping. [`topics`] is the one place that
//! maps topics to functions and tables.

#![forbid(unsafe_code)]

pub mod batch;
pub mod column;
pub mod config;
pub mod dump;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod event;
pub mod fields;
pub mod handler;
pub mod json;
pub mod lambda;
pub mod logs;
pub mod reason;
pub mod record;
mod scan;
pub mod schema;
pub mod secrets;
pub mod sink;
pub mod telemetry;
pub mod tls;
pub mod topics;

pub use aws_lambda_events::event::kafka::{KafkaEvent, KafkaRecord};
pub use batch::{BatchSummary, ProcessedBatch, Router, TopicCounts};
pub use config::SinkConfig;
pub use handler::{Function, HandlerError};
pub use reason::{ReasonCode, Rejection};
pub use topics::LogKind;
