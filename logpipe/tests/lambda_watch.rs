//! A function under `cargo lambda watch` (the local Lambda emulator),
//! invoked over the Lambda invoke HTTP API with a fixture event, storing
//! into a `logpipe cassandra` node; the rows are read back through CQL and
//! compared with the golden dump.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_dump_matches_golden, dump_node, free_port, root, start_cql_node};

/// The cargo-lambda the `venv` make target installs.
fn cargo_lambda() -> PathBuf {
    let venv = std::env::var_os("LOGPIPE_VENV").map_or_else(|| root().join(".venv"), PathBuf::from);
    let path = venv.join("bin/cargo-lambda");
    assert!(
        path.exists(),
        "cargo-lambda not found at {}: run `make venv` (it installs cargo-lambda into .venv)",
        path.display()
    );
    path
}

/// Kills a whole process group on drop (cargo lambda watch runs the
/// function as a child of a child).
struct Group(Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "TERM", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

/// POSTs `body` and returns (status, body). Reads exactly the response
/// (Content-Length or chunked): the emulator keeps connections open.
fn post(addr: &str, path: &str, body: &[u8], timeout: Duration) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (mut length, mut chunked) = (None, false);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        }
        if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    let mut out = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            out.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = length {
        out.resize(n, 0);
        reader.read_exact(&mut out)?;
    } else {
        reader.read_to_end(&mut out)?;
    }
    Ok((status, String::from_utf8_lossy(&out).into_owned()))
}

#[test]
fn a_function_under_cargo_lambda_watch_stores_a_fixture_event() {
    let cargo_lambda = cargo_lambda();
    let (mut node, cql) = start_cql_node();
    let invoke = format!("127.0.0.1:{}", free_port());
    let port = invoke.rsplit_once(':').unwrap().1.to_owned();
    let watch = Group(
        Command::new(cargo_lambda)
            .args([
                "lambda",
                "watch",
                "--ignore-changes",
                "-A",
                "127.0.0.1",
                "-P",
                &port,
            ])
            .args([
                "--env-var",
                &format!("LOGPIPE_CASSANDRA_CONTACT_POINTS={cql}"),
            ])
            .current_dir(root())
            // watchexec inside cargo lambda watch takes over a terminal on
            // stdin: give it none.
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("cargo lambda watch starts"),
    );

    let event =
        std::fs::read(root().join("fixtures/events/self_managed_session_mixed.json")).unwrap();
    let path = "/2015-03-31/functions/session-logs/invocations";
    // The emulator answers once it listens; the first invocation may wait for
    // a debug build of the function. A request that arrives while the
    // function starts can go unanswered, so each try has a short timeout and
    // is repeated (the write is idempotent: a repeat leaves the same rows).
    let started = Instant::now();
    let (status, body) = loop {
        match post(&invoke, path, &event, Duration::from_secs(20)) {
            Ok((status, body)) if !body.trim().is_empty() => break (status, body),
            other if started.elapsed() > Duration::from_secs(900) => {
                panic!("no answer from cargo lambda watch at {invoke} in 15 minutes: {other:?}")
            }
            _ => std::thread::sleep(Duration::from_secs(1)),
        }
    };
    assert_eq!(status, 200, "{body}");
    let summary: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(
        summary,
        serde_json::json!({"records": 16, "written": 9, "dead_lettered": 7})
    );

    drop(watch);
    let dir = tempfile::tempdir().unwrap();
    dump_node(&cql, dir.path());
    let _ = node.kill();
    let _ = node.wait();
    assert_dump_matches_golden(dir.path(), "self_managed_session_mixed");
}
