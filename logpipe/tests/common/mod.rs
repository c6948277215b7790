//! Helpers shared by the integration tests: running the `logpipe` binary,
//! a `logpipe cassandra` node, and comparing table dumps with the goldens.
#![allow(dead_code)]

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn logpipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_logpipe"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("logpipe runs")
}

pub const TABLES: [&str; 4] = ["auth_logs", "session_logs", "activity_logs", "dead_letters"];

pub fn fixture_names() -> Vec<String> {
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("fixtures/events/expected.json")).unwrap(),
    )
    .unwrap();
    expected.as_object().unwrap().keys().cloned().collect()
}

pub fn read_rows(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

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

/// Starts `logpipe cassandra` on a free port and waits until it serves.
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

/// Dumps the four tables of a running node into `dir`.
pub fn dump_node(addr: &str, dir: &Path) {
    let empty = dir.join("empty-event.json");
    std::fs::write(&empty, r#"{"eventSource":"aws:kafka","records":{}}"#).unwrap();
    let out = logpipe(&[
        "replay",
        "--cassandra",
        addr,
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
