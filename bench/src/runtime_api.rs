//! A stand-in for the Lambda Runtime API on a loopback port, enough for a
//! function binary built with `lambda_runtime` to start, fetch invocations
//! and post their results. It notes when the first `next` request arrives:
//! the moment the function's init is over and it is ready for work.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";

/// What the function did, as the runtime API saw it.
#[derive(Debug, Default)]
pub struct Seen {
    /// When the first `next` request arrived.
    pub first_next: Option<Instant>,
    /// Posted results: `(true, body)` for a response, `(false, body)` for an error.
    pub results: Vec<(bool, Vec<u8>)>,
}

#[derive(Default)]
struct State {
    events: VecDeque<Vec<u8>>,
    seen: Seen,
    stopped: bool,
    served: u64,
}

/// A running fake runtime API.
pub struct FakeRuntime {
    addr: SocketAddr,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl FakeRuntime {
    /// Listens on a free loopback port, with `events` queued for `next`.
    pub fn start(events: Vec<Vec<u8>>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new((
            Mutex::new(State {
                events: events.into(),
                ..State::default()
            }),
            Condvar::new(),
        ));
        let accept_state = state.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if accept_state.0.lock().map_or(true, |s| s.stopped) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let state = accept_state.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &state);
                });
            }
        });
        Ok(FakeRuntime { addr, state })
    }

    /// `host:port`, for `AWS_LAMBDA_RUNTIME_API`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits until `done` holds of what was seen, or `timeout` passes;
    /// returns whether it held.
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&Seen) -> bool) -> bool {
        let (lock, cvar) = &*self.state;
        let deadline = Instant::now() + timeout;
        let Ok(mut state) = lock.lock() else {
            return false;
        };
        while !done(&state.seen) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match cvar.wait_timeout(state, left) {
                Ok((s, _)) => state = s,
                Err(_) => return false,
            }
        }
        true
    }

    /// Reads what was seen.
    pub fn seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> Option<T> {
        self.state.0.lock().ok().map(|s| f(&s.seen))
    }
}

impl Drop for FakeRuntime {
    fn drop(&mut self) {
        if let Ok(mut s) = self.state.0.lock() {
            s.stopped = true;
        }
        self.state.1.notify_all();
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Serves one keep-alive connection.
fn serve(conn: TcpStream, state: &(Mutex<State>, Condvar)) -> std::io::Result<()> {
    let (lock, cvar) = state;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let path = parts.next().unwrap_or("").to_owned();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        if method == "GET" && path == NEXT {
            let (event, id) = {
                let Ok(mut s) = lock.lock() else {
                    return Ok(());
                };
                if s.seen.first_next.is_none() {
                    s.seen.first_next = Some(Instant::now());
                }
                cvar.notify_all();
                loop {
                    if s.stopped {
                        return Ok(());
                    }
                    if let Some(e) = s.events.pop_front() {
                        s.served += 1;
                        break (e, s.served);
                    }
                    s = match cvar.wait(s) {
                        Ok(s) => s,
                        Err(_) => return Ok(()),
                    };
                }
            };
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis()
                + 900_000;
            write!(
                writer,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                 Lambda-Runtime-Aws-Request-Id: request-{id}\r\n\
                 Lambda-Runtime-Deadline-Ms: {deadline}\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:bench\r\n\
                 Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\
                 Content-Length: {}\r\n\r\n",
                event.len()
            )?;
            writer.write_all(&event)?;
        } else {
            let ok = path.ends_with("/response");
            if let Ok(mut s) = lock.lock() {
                s.seen.results.push((ok, body));
            }
            cvar.notify_all();
            let reply = br#"{"status":"OK"}"#;
            write!(
                writer,
                "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                reply.len()
            )?;
            writer.write_all(reply)?;
        }
        writer.flush()?;
    }
}
