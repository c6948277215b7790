//! Real servers for tests: Apache Cassandra 5 and Apache Kafka 4, each run
//! as a JVM process on loopback with its own ports, data directory and a
//! small heap.
//!
//! The jars come from Maven Central through the poms in `servers/`
//! (`make servers` copies them into `.tools/servers/<name>/lib`, once).
//! Nothing here downloads: a missing install fails with the make target that
//! installs it.
//!
//! Two ways to get a server:
//! - [`Cassandra::start`] / [`Kafka::start`]: a server of the caller's own,
//!   stopped on drop. Fault tests kill and restart these.
//! - [`shared_cassandra`] / [`shared_kafka`]: one server for the whole test
//!   run. `logpipe-servers run -- CMD` (what `make test` uses) starts both
//!   once and passes their addresses in `LOGPIPE_TEST_CASSANDRA` and
//!   `LOGPIPE_TEST_KAFKA`; without those, the first call in a test binary
//!   starts one for that binary. Tests isolate themselves on a shared
//!   server by keyspace and topic names ([`unique_name`]).
//!
//! Every server process dies with the process that started it
//! (`PR_SET_PDEATHSIG`), so a crashed or killed test run leaves no JVM.
//!
//! Other programs a test or benchmark runs (the `logpipe` binary, the
//! Lambda emulator) are children of the caller's own: [`KillOnDrop`] kills
//! them, or their process group, when they go out of scope;
//! [`wait_output`], [`collect_lines`], [`wait_for_lines`] and
//! [`last_json_line`] read what they print; [`cpu_seconds`] and
//! [`status_kib`] what they cost.
//!
//! [`headers_of`] and [`assert_dead_letter_order`] read what came back:
//! a Kafka record's headers, and the order of dumped dead-letter rows;
//! [`assert_refusals`] checks that a command line refuses bad flags.

mod cassandra;
mod child;
mod kafka;
mod process;
mod read_back;
mod tls;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

pub use cassandra::{Cassandra, CassandraOptions, COMMITLOG_SYNC_MS};
pub use child::{
    collect_lines, cpu_seconds, last_json_line, status_kib, wait_for_lines, wait_output,
    wait_until, KillOnDrop,
};
pub use kafka::{Kafka, KafkaOptions, Listeners, Scram};
pub use process::{free_port, ServerProcess, StartError};
pub use read_back::{assert_dead_letter_order, assert_refusals, headers_of};
pub use tls::TestCa;

/// Environment variable naming a running Cassandra (`host:port`) for
/// [`shared_cassandra`].
pub const CASSANDRA_ENV: &str = "LOGPIPE_TEST_CASSANDRA";
/// Environment variable naming a running Kafka bootstrap (`host:port`) for
/// [`shared_kafka`].
pub const KAFKA_ENV: &str = "LOGPIPE_TEST_KAFKA";

/// Where `make servers` installs the jars: `LOGPIPE_SERVERS_DIR`, else
/// `.tools/servers` in the workspace.
pub fn servers_dir() -> PathBuf {
    std::env::var_os("LOGPIPE_SERVERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".tools/servers"))
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit sits in the workspace")
        .to_path_buf()
}

/// The Cassandra of this test run: `LOGPIPE_TEST_CASSANDRA` when set, else
/// one started (once) for this process. Panics with the server's log tail,
/// or with the make target to run, when it cannot start.
pub fn shared_cassandra() -> &'static str {
    static SHARED: OnceLock<String> = OnceLock::new();
    SHARED.get_or_init(|| {
        shared_server(CASSANDRA_ENV, "Cassandra", || {
            Cassandra::start(CassandraOptions::default()).map(|node| {
                let addr = node.address().to_owned();
                (node, addr)
            })
        })
    })
}

/// The Kafka of this test run: `LOGPIPE_TEST_KAFKA` when set, else one
/// started (once) for this process.
pub fn shared_kafka() -> &'static str {
    static SHARED: OnceLock<String> = OnceLock::new();
    SHARED.get_or_init(|| {
        shared_server(KAFKA_ENV, "Kafka", || {
            Kafka::start(KafkaOptions::default()).map(|broker| {
                let addr = broker.bootstrap().to_owned();
                (broker, addr)
            })
        })
    })
}

/// The address in the environment variable `env` when it is set, else
/// that of a server `start` starts, kept for the life of the process
/// (`PR_SET_PDEATHSIG` ends it); panics naming `name` when it cannot start.
fn shared_server<S>(
    env: &str,
    name: &str,
    start: impl FnOnce() -> Result<(S, String), StartError>,
) -> String {
    if let Some(addr) = std::env::var(env).ok().filter(|a| !a.is_empty()) {
        return addr;
    }
    let (server, addr) = start().unwrap_or_else(|e| panic!("cannot start the shared {name}: {e}"));
    std::mem::forget(server);
    addr
}

/// A name no other test of this run uses: `prefix`, this process's id and a
/// counter, lowercase and CQL-identifier safe (for keyspaces, topics and
/// consumer groups).
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{clean}_{}_{n}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_differ_and_are_identifiers() {
        let a = unique_name("Replay-Goldens");
        let b = unique_name("Replay-Goldens");
        assert_ne!(a, b);
        assert!(a.starts_with("replay_goldens_"), "{a}");
        assert!(a
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'));
    }
}
