//! A stand-in for the Lambda Runtime API on a loopback port, enough for a
//! function binary built with `lambda_runtime` to start, fetch invocations
//! and post their results. It notes when the first `next` request arrives
//! (the moment the function's init is over and it is ready for work), and,
//! for each invocation, when it handed the event out and when the result
//! came back: the span Lambda bills.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";

/// The invocation number in a `.../invocation/request-<n>/response` path.
fn invocation_number(path: &str) -> Option<usize> {
    let rest = path.strip_prefix(INVOCATION)?;
    let (id, _) = rest.split_once('/')?;
    id.strip_prefix("request-")?.parse().ok()
}

/// What the function did, as the runtime API saw it.
#[derive(Debug, Default)]
pub struct RuntimeLog {
    /// When the first `next` request arrived.
    pub first_next: Option<Instant>,
    /// Posted results: `(true, body)` for a response, `(false, body)` for an error.
    pub results: Vec<(bool, Vec<u8>)>,
    /// Every invocation handed out, in order.
    pub invocations: Vec<Invocation>,
}

/// One invocation as the runtime API saw it.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// When the `next` response carrying the event started.
    pub handed_out: Instant,
    /// When the function's result arrived: `(ok, when, body)`, `ok` for a
    /// `response` (false for an `error`).
    pub result: Option<(bool, Instant, Vec<u8>)>,
}

impl Invocation {
    /// Handed out to result posted, if the result came.
    pub fn took(&self) -> Option<Duration> {
        self.result.as_ref().map(|(_, at, _)| *at - self.handed_out)
    }
}

#[derive(Default)]
struct State {
    events: VecDeque<Arc<Vec<u8>>>,
    seen: RuntimeLog,
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
        Self::serving(events.into_iter().map(Arc::new).collect())
    }

    /// Listens on a free loopback port; `next` hands out `event` `times`
    /// times, then waits until the runtime is dropped.
    pub fn repeat(event: Vec<u8>, times: usize) -> std::io::Result<Self> {
        let event = Arc::new(event);
        Self::serving(std::iter::repeat_n(event, times).collect())
    }

    fn serving(events: VecDeque<Arc<Vec<u8>>>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let state = Arc::new((
            Mutex::new(State {
                events,
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
    pub fn wait_for(&self, timeout: Duration, done: impl Fn(&RuntimeLog) -> bool) -> bool {
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

    /// Waits until `count` invocations have posted a result, or `timeout`
    /// passes; returns whether they did.
    pub fn wait_for_results(&self, count: usize, timeout: Duration) -> bool {
        self.wait_for(timeout, |log| {
            log.invocations
                .iter()
                .filter(|i| i.result.is_some())
                .count()
                >= count
        })
    }

    /// The invocations so far, in the order they were handed out.
    pub fn invocations(&self) -> Vec<Invocation> {
        self.seen(|log| log.invocations.clone()).unwrap_or_default()
    }

    /// Reads what was seen.
    pub fn seen<T>(&self, f: impl FnOnce(&RuntimeLog) -> T) -> Option<T> {
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
        let arrived = Instant::now();
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
                        s.seen.invocations.push(Invocation {
                            handed_out: Instant::now(),
                            result: None,
                        });
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
                let n = invocation_number(&path).and_then(|n| n.checked_sub(1));
                if let Some(inv) = n.and_then(|i| s.seen.invocations.get_mut(i)) {
                    inv.result.get_or_insert((ok, arrived, body.clone()));
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_paths_name_their_invocation() {
        assert_eq!(
            invocation_number("/2018-06-01/runtime/invocation/request-12/response"),
            Some(12)
        );
        assert_eq!(
            invocation_number("/2018-06-01/runtime/invocation/request-3/error"),
            Some(3)
        );
        assert_eq!(invocation_number("/2018-06-01/runtime/init/error"), None);
    }

    #[test]
    fn the_runtime_times_each_invocation_it_hands_out() {
        let api = FakeRuntime::repeat(b"{\"records\":{}}".to_vec(), 2).expect("listens");
        let client = |path: &str, method: &str| {
            let mut c = TcpStream::connect(api.addr()).expect("connects");
            write!(
                c,
                "{method} {path} HTTP/1.1\r\nContent-Length: 2\r\n\r\n{{}}"
            )
            .expect("writes");
            let mut reader = BufReader::new(c);
            let mut reply = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("reads");
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().expect("a length");
                }
                reply.push_str(&line);
                if line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("reads the body");
            reply + &String::from_utf8_lossy(&body)
        };
        let first = client(NEXT, "GET");
        assert!(
            first.contains("request-1") && first.ends_with("{\"records\":{}}"),
            "{first}"
        );
        std::thread::sleep(Duration::from_millis(5));
        client("/2018-06-01/runtime/invocation/request-1/response", "POST");
        let second = client(NEXT, "GET");
        assert!(second.contains("request-2"), "{second}");
        client("/2018-06-01/runtime/invocation/request-2/error", "POST");
        assert!(api.wait_for_results(2, Duration::from_secs(5)));
        let seen = api.invocations();
        assert_eq!(seen.len(), 2);
        assert!(seen[0].took().expect("a result") >= Duration::from_millis(5));
        assert!(seen[0].result.as_ref().expect("a result").0);
        assert!(!seen[1].result.as_ref().expect("a result").0);
    }
}
