//! AWS Lambda function for the `user_activity_logs` topic: validates each
//! batch and writes it to Cassandra (see `logpipe_core`).

#![forbid(unsafe_code)]

use logpipe_core::LogKind;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    logpipe_core::lambda::run(LogKind::Activity).await
}
