//! `logpipe`: the developer tools of the logpipe pipeline, as a library the
//! `logpipe` binary (argument parsing and calls) is a thin layer over.
//!
//! - [`esm`]: the local event source mapping (Kafka poller, event builder,
//!   invokers, retries, on-failure destinations);
//! - [`broker`]: the embedded Kafka broker (librdkafka's mock cluster behind
//!   a relay on fixed ports);
//! - [`storage`]: where a command stores (`embedded`, `none`, `HOST:PORT`);
//! - [`shutdown`]: Ctrl-C, the same in every long-running command;
//! - [`cmd`]: one module a subcommand, each with its arguments and `run`.
#![forbid(unsafe_code)]

pub mod broker;
pub mod cmd;
pub mod esm;
pub mod storage;

pub use log_generator::shutdown;

/// Locks `m`, taking the value even if a thread panicked while holding it:
/// the guarded values here (counters, samples, offsets) stay usable.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
