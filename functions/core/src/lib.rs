//! logpipe's shared pipeline library.
//!
//! Data flows one way: an AWS Lambda Kafka event ([`event`]) → one outcome
//! per record ([`record`]: decode, validate and transform, pure) → rows and
//! dead letters per batch ([`batch`]) → the Cassandra sink ([`sink`]).
//! [`handler`] ties them together for Lambda ([`lambda`]), `logpipe replay`
//! and the local event source mapping. [`topics`] is the one place that
//! maps topics to functions and tables.
//!
//! The in-process CQL node and the table dumps of the local tools live in
//! the `logpipe-local` crate (`local/`), which the Lambda binaries do not
//! link.

#![forbid(unsafe_code)]

pub mod batch;
pub mod column;
pub mod config;
pub mod event;
pub mod fields;
pub mod handler;
pub mod json;
mod json_scan;
pub mod lambda;
pub mod log_types;
pub mod logs;
pub mod metrics;
pub mod record;
pub mod rows;
pub mod schema;
pub mod secrets;
pub mod sink;
pub mod table;
pub mod telemetry;
pub mod tls;

pub use batch::{BatchSummary, ProcessedBatch, Router, TopicCounts};
pub use config::SinkConfig;
pub use handler::{Function, HandlerError};
/// Topics, functions and tables; reason codes; limits; the event's shape
/// and encoder: what every part of the pipeline agrees on.
pub use logpipe_contract as contract;
pub use logpipe_contract::{limits, reason, topics};
pub use reason::{ReasonCode, Rejection};
pub use topics::LogKind;
