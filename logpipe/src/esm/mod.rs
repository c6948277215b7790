//! The local event source mapping: what AWS Lambda's Kafka trigger does,
//! run here.
//!
//! A [`poller::Mapping`] consumes one topic with a consumer group and
//! gathers batches; [`event`] turns a batch into the AWS Lambda Kafka event
//! (and keeps each invocation under 6 MB); [`invoke`] calls the function in
//! process or over the Lambda invoke API; [`retry`] decides what a failure
//! leads to; [`destination`] writes what is given up on; [`commit`]
//! commits offsets only after every record of a batch is resolved. [`stats`]
//! counts it all; [`connection`] holds the Kafka flags the commands share.

pub mod commit;
pub mod connection;
pub mod destination;
pub mod event;
pub mod invoke;
pub mod poller;
pub mod retry;
pub mod stats;
