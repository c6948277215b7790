//! `cargo lambda watch`, the local Lambda emulator, for the integration
//! tests: finding the cargo-lambda that `make venv` installs, starting the
//! emulator over the workspace's functions, and invoking a function over
//! the Lambda invoke HTTP API.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use logpipe_testkit::{free_port, wait_until, KillOnDrop};

use super::root;

/// The cargo-lambda of `.venv` (or `$LOGPIPE_VENV`), where `make venv`
/// installs it. Panics naming `make venv` when it is missing.
pub fn cargo_lambda() -> PathBuf {
    let venv = std::env::var_os("LOGPIPE_VENV").map_or_else(|| root().join(".venv"), PathBuf::from);
    let path = venv.join("bin/cargo-lambda");
    assert!(
        path.exists(),
        "cargo-lambda not found at {}: run `make venv` (it installs cargo-lambda into .venv)",
        path.display()
    );
    path
}

/// Starts `cargo lambda watch` on a free loopback port, serving the
/// workspace's functions with `LOGPIPE_CASSANDRA_CONTACT_POINTS=cassandra`,
/// in its own process group (it runs each function as a child of a child;
/// the group is killed on drop) with no stdin (watchexec inside it takes
/// over a terminal otherwise). Waits until the emulator accepts
/// connections; a function is built on its first invocation (see
/// [`invoke_until_answered`]). Returns the process and `host:port`.
pub fn start_cargo_lambda_watch(cassandra: &str) -> (KillOnDrop, String) {
    start_cargo_lambda_watch_with(cassandra, &[])
}

/// [`start_cargo_lambda_watch`], with `env` (`LOGPIPE_*` settings such as
/// `LOGPIPE_CASSANDRA_KEYSPACE`) passed to the functions as well.
pub fn start_cargo_lambda_watch_with(
    cassandra: &str,
    env: &[(&str, &str)],
) -> (KillOnDrop, String) {
    let cargo_lambda = cargo_lambda();
    let port = free_port().to_string();
    let mut cmd = Command::new(cargo_lambda);
    cmd.args([
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
        &format!("LOGPIPE_CASSANDRA_CONTACT_POINTS={cassandra}"),
    ]);
    for (k, v) in env {
        cmd.args(["--env-var", &format!("{k}={v}")]);
    }
    cmd.current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let watch = KillOnDrop::spawn_group(&mut cmd).expect("cargo lambda watch starts");
    let addr = format!("127.0.0.1:{port}");
    wait_until(
        &format!("cargo lambda watch listening on {addr}"),
        Duration::from_secs(120),
        || TcpStream::connect(&addr).is_ok(),
    );
    (watch, addr)
}

/// An HTTP answer: status, headers (names lowercase) and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The invoke API path of `function`.
pub fn invoke_path(function: &str) -> String {
    format!("/2015-03-31/functions/{function}/invocations")
}

/// POSTs `body` to `http://addr{path}` and returns the answer. Reads exactly the
/// response (Content-Length or chunked): the emulator keeps connections
/// open.
pub fn post(addr: &str, path: &str, body: &[u8], timeout: Duration) -> std::io::Result<Answer> {
    post_with_headers(
        addr,
        path,
        &[("Content-Type", "application/json")],
        body,
        timeout,
    )
}

/// [`post`] with the given request headers (and no Content-Type of its
/// own): for AWS JSON APIs, which want theirs.
pub fn post_with_headers(
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<Answer> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(timeout))?;
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
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
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_owned());
            if name == "content-length" {
                length = value.parse::<usize>().ok();
            }
            if name == "transfer-encoding" && value.to_ascii_lowercase().contains("chunked") {
                chunked = true;
            }
            headers.push((name, value));
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
    Ok(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&out).into_owned(),
    })
}

/// Invokes `function` with `event` over the emulator at `addr` until it
/// answers with a body, at most `limit`.
/// The first invocation of a function waits for its debug build, and a
/// request that arrives while the function starts can go unanswered, so
/// each try has a short timeout and is repeated (only use events whose
/// repetition is harmless: the functions' writes are idempotent).
pub fn invoke_until_answered(addr: &str, function: &str, event: &[u8], limit: Duration) -> Answer {
    let path = invoke_path(function);
    let started = Instant::now();
    loop {
        match post(addr, &path, event, Duration::from_secs(20)) {
            Ok(answer) if !answer.body.trim().is_empty() => return answer,
            other if started.elapsed() > limit => {
                panic!("no answer from {function} under cargo lambda watch at {addr} within {limit:?}: {other:?}")
            }
            _ => std::thread::sleep(Duration::from_secs(1)),
        }
    }
}
