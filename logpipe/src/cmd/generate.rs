//! `logpipe generate`: the log generator (`log-generator`), with the same
//! flags: realistic user logs to Kafka, stdout or Lambda event files.
//!
//! Exit codes: 0 when every record was delivered; 1 otherwise.

use std::process::ExitCode;

pub use log_generator::GenerateArgs;

pub async fn run(args: GenerateArgs) -> anyhow::Result<ExitCode> {
    let summary = log_generator::run(args).await?;
    Ok(summary.exit_code())
}
