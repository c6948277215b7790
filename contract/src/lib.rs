//! What the pipeline's parts agree on, in one crate with no CQL driver and
//! no AWS SDK:
//!
//! - [`topics`]: which Kafka topic feeds which function and table;
//! - [`reason`]: the reason codes of dead letters;
//! - [`limits`]: the sizes and ranges the rules are made of;
//! - [`event`]: the AWS Lambda Kafka event, its one encoder and its exact
//!   size arithmetic.
//!
//! The functions (`logpipe-core`) enforce these; the generator, the local
//! event source mapping, the tools and the tests build on them, so a
//! change here reaches every part at once.

#![forbid(unsafe_code)]

pub mod event;
pub mod limits;
pub mod reason;
pub mod topics;

pub use event::{EventRecord, EventSource, EventVariant, Field, Record, TimestampType};
pub use reason::ReasonCode;
pub use topics::LogKind;
