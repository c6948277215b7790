//! Helpers shared by the integration tests: running the `logpipe` binary
//! (to the end, or as a server killed on drop), a `logpipe cassandra` node,
//! and comparing table dumps with the goldens. Child processes in general
//! (killed on drop, waited for, their output lines) are `logpipe_testkit`'s.
//!
//! The Kafka helpers (brokers, generated records and what the pipeline must
//! make of them, what the tables hold) are in [`kafka`]; `cargo lambda
//! watch` (the local Lambda emulator) is in [`watch`]; the real Apache
//! Cassandra (the run's shared node, event files, CQL reads) in [`real`].
#![allow(dead_code)]

pub mod kafka;
pub mod real;
pub mod watch;

use std::ffi::OsStr;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use logpipe_testkit::{free_port, last_json_line, wait_output, KillOnDrop};

/// The workspace root (every `logpipe` the helpers start runs there).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `logpipe` with `args` to the end and returns its output (for
/// short commands; [`run_logpipe`] bounds the time and suits async tests).
pub fn logpipe<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_logpipe"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("logpipe runs")
}

/// The four tables of the keyspace, as `logpipe replay --dump` names its files.
pub const TABLES: [&str; 4] = ["auth_logs", "session_logs", "activity_logs", "dead_letters"];

/// The names of the fixture events (`fixtures/events/<name>.json`).
pub fn fixture_names() -> Vec<String> {
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("fixtures/events/expected.json")).unwrap(),
    )
    .unwrap();
    expected.as_object().unwrap().keys().cloned().collect()
}

/// The rows of a `.jsonl` dump file, one JSON object a line.
pub fn read_rows(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Asserts that the four table dumps in `dump` equal, row by row,
/// `fixtures/golden/<name>/`.
pub fn assert_dump_matches_golden(dump: &Path, name: &str) {
    for table in TABLES {
        let got = read_rows(&dump.join(format!("{table}.jsonl")));
        let want = read_rows(&root().join(format!("fixtures/golden/{name}/{table}.jsonl")));
        assert_eq!(got.len(), want.len(), "{name}/{table}: row count");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{name}/{table}: row {i} differs");
        }
    }
}

/// Starts `logpipe cassandra` on a free port and waits until it serves;
/// returns the child (the caller kills it) and the node's `host:port`.
/// [`kafka::cql_node`] is the in-process alternative.
pub fn start_cql_node() -> (Child, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut node = Command::new(env!("CARGO_BIN_EXE_logpipe"))
        .args(["cassandra", "--listen", &addr])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("logpipe cassandra starts");
    let mut line = String::new();
    std::io::BufReader::new(node.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.contains(&addr),
        "node did not report its address: {line:?}"
    );
    (node, addr)
}

/// Dumps the four tables of a running node into `dir` (`logpipe replay
/// --dump` with an empty event), one `<table>.jsonl` each.
pub fn dump_node(addr: &str, dir: &Path) {
    dump_keyspace(addr, "user_db", dir);
}

/// [`dump_node`] for the tables of `keyspace`.
pub fn dump_keyspace(addr: &str, keyspace: &str, dir: &Path) {
    let empty = dir.join("empty-event.json");
    std::fs::write(&empty, r#"{"eventSource":"aws:kafka","records":{}}"#).unwrap();
    let out = logpipe(&[
        "replay",
        "--cassandra",
        addr,
        "--keyspace",
        keyspace,
        "--dump",
        dir.to_str().unwrap(),
        empty.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------
// `logpipe` as a server killed on drop, or run to the end with a time
// limit, and what it printed (the process handling is testkit's).

/// Starts `logpipe` with `args` in the workspace root, stdin closed, stdout
/// and stderr piped, killed when the returned value drops. AWS's instance
/// metadata lookup is disabled, so an invoke client never waits for it.
pub fn spawn_logpipe<S: AsRef<OsStr>>(args: &[S]) -> KillOnDrop {
    KillOnDrop::new(
        Command::new(env!("CARGO_BIN_EXE_logpipe"))
            .args(args)
            .current_dir(root())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("logpipe starts"),
    )
}

/// How a `logpipe` run ended: exit status and what it printed.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    /// The last line of stdout as JSON (`--json` summaries); panics with
    /// stdout and stderr when it is not.
    pub fn json(&self) -> serde_json::Value {
        last_json_line(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }

    /// Panics with stderr unless the exit status is 0; returns `self`.
    pub fn assert_success(self) -> Self {
        assert!(
            self.status.success(),
            "logpipe exited with {}; stderr:\n{}",
            self.status,
            self.stderr
        );
        self
    }
}

impl From<Output> for Finished {
    fn from(out: Output) -> Self {
        Finished {
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `logpipe` with `args` to the end, at most `limit`, on a blocking
/// thread (so an in-process CQL node or broker on the test's runtime keeps
/// serving). For `#[tokio::test(flavor = "multi_thread")]` tests.
pub async fn run_logpipe(args: Vec<String>, limit: Duration) -> Finished {
    let child = spawn_logpipe(&args);
    tokio::task::spawn_blocking(move || wait_output(child, limit))
        .await
        .expect("the waiting thread")
        .into()
}

/// [`run_logpipe`] for a run that must succeed: its `--json` summary.
pub async fn run_logpipe_json(args: Vec<String>, limit: Duration) -> serde_json::Value {
    run_logpipe(args, limit).await.assert_success().json()
}

/// Ctrl-C to a running `logpipe`, then its output once it has exited (at
/// most `limit`, on a blocking thread) and how long the stop took.
pub async fn interrupt_and_wait(child: KillOnDrop, limit: Duration) -> (Output, Duration) {
    let interrupted = Instant::now();
    child.interrupt();
    let out = tokio::task::spawn_blocking(move || wait_output(child, limit))
        .await
        .expect("the waiting thread");
    (out, interrupted.elapsed())
}

/// `&[&str]` as the owned arguments [`run_logpipe`] takes.
pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}
