//! Helpers shared by the integration tests: running the `logpipe` binary
//! (to the end, or as a server killed on drop), waiting for what it says,
//! a `logpipe cassandra` node, and comparing table dumps with the goldens.
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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
// Processes: `logpipe` (or any child) as a server killed on drop, run to
// the end with a time limit, and what it printed.

/// A child process killed (and reaped) when dropped, so a failing test
/// leaves no server behind. With [`KillOnDrop::group`], the whole process group
/// is sent SIGTERM first (for servers that start children of their own).
pub struct KillOnDrop {
    pub child: Child,
    group: bool,
}

impl KillOnDrop {
    /// Kills just this child on drop.
    pub fn new(child: Child) -> Self {
        KillOnDrop {
            child,
            group: false,
        }
    }

    /// For a child spawned with `process_group(0)`: on drop its whole
    /// group gets SIGTERM, then the child SIGKILL.
    pub fn group(child: Child) -> Self {
        KillOnDrop { child, group: true }
    }

    /// SIGKILL now (a crash: no clean shutdown), and wait for it.
    pub fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGINT (Ctrl-C), for testing a clean stop; [`wait_output`] then
    /// collects what it printed.
    pub fn interrupt(&self) {
        let _ = Command::new("kill")
            .args(["-s", "INT", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if self.group {
            let _ = Command::new("kill")
                .args(["-s", "TERM", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        self.kill_now();
    }
}

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

/// Collects a child's output lines (usually stderr) on a thread, so the
/// pipe never fills; the lines so far are in the returned vector. Pair
/// with [`wait_for_lines`].
pub fn collect_lines(
    pipe: impl std::io::Read + Send + 'static,
) -> (Arc<Mutex<Vec<String>>>, std::thread::JoinHandle<()>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let handle = std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    (lines, handle)
}

/// Waits until at least `count` of the collected `lines` satisfy `matches`,
/// at most `limit`; panics with the lines so far when they do not.
/// Returns how many matched.
pub fn wait_for_lines(
    lines: &Mutex<Vec<String>>,
    matches: impl Fn(&str) -> bool,
    count: usize,
    limit: Duration,
) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        let n = lines.lock().unwrap().iter().filter(|l| matches(l)).count();
        if n >= count {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "{n} of {count} expected lines within {limit:?}: {:?}",
            lines.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Polls `ready` every 50 ms until it is true, at most `limit`; panics
/// naming `what` when it never is.
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the child to exit, at most `limit` (then kills it and panics
/// with its stderr); returns its output.
pub fn wait_output(mut k: KillOnDrop, limit: Duration) -> Output {
    use std::io::Read as _;
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = read(k.child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(k.child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = k.child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            k.kill_now();
            let err = stderr.join().unwrap_or_default();
            panic!(
                "logpipe did not finish within {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
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

/// The last line of `stdout` parsed as JSON.
pub fn last_json_line(stdout: &str) -> Result<serde_json::Value, String> {
    let line = stdout.lines().last().ok_or("no output on stdout")?;
    serde_json::from_str(line).map_err(|e| format!("{e}: {line}"))
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

/// `&[&str]` as the owned arguments [`run_logpipe`] takes.
pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}
