//! Structured logs with `tracing`: JSON when Lambda's log format is JSON
//! (`AWS_LAMBDA_LOG_FORMAT=JSON`) or `LOGPIPE_LOG_FORMAT=json`, readable
//! text otherwise. Level from `RUST_LOG`, else Lambda's
//! `AWS_LAMBDA_LOG_LEVEL`, else `info`. Logs go to stderr, so that a CLI's
//! stdout stays machine-readable.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (once; later calls do nothing).
pub fn init(default_level: &str) {
    let json = ["AWS_LAMBDA_LOG_FORMAT", "LOGPIPE_LOG_FORMAT"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|f| f.eq_ignore_ascii_case("json")));
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| match std::env::var("AWS_LAMBDA_LOG_LEVEL") {
            Ok(level) => EnvFilter::try_new(level.to_ascii_lowercase()),
            Err(_) => EnvFilter::try_new(default_level),
        })
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.compact().try_init()
    };
}
