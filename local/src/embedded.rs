//! An in-process, single-node CQL server (the `kassandra` engine) on a
//! loopback address: the storage of `logpipe replay`, `logpipe cassandra`
//! and the test suites, where no Cassandra or ScyllaDB runs.
//!
//! The node runs on its own thread with a single-threaded runtime. Stopping
//! it closes the listener and every client connection but keeps the data
//! and prepared statements, so [`EmbeddedCassandra::restart`] brings back
//! the same node, as a real server does after a restart.

use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use futures::{SinkExt, StreamExt};
use kassandra::error::DbError;
use kassandra::frame::request::Request;
use kassandra::frame::response::error::Error as CqlError;
use kassandra::frame::response::Response;
use kassandra::frame::{request_stream, response_sink};
use kassandra::KassandraSession;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running embedded CQL node.
pub struct EmbeddedCassandra {
    addr: SocketAddr,
    state: Arc<Mutex<KassandraSession>>,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for EmbeddedCassandra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedCassandra")
            .field("addr", &self.addr)
            .finish()
    }
}

impl EmbeddedCassandra {
    /// Starts an empty node on `listen` (port 0 picks a free port).
    pub fn start(listen: SocketAddr) -> std::io::Result<Self> {
        Self::serve(listen, Arc::new(Mutex::new(KassandraSession::new())))
    }

    fn serve(listen: SocketAddr, state: Arc<Mutex<KassandraSession>>) -> std::io::Result<Self> {
        let std_listener = std::net::TcpListener::bind(listen)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let node_state = state.clone();
        let thread = std::thread::Builder::new()
            .name(format!("cql-node-{}", addr.port()))
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a current-thread runtime builds");
                let local = tokio::task::LocalSet::new();
                local.block_on(&rt, accept_loop(std_listener, node_state, stopped));
            })?;
        Ok(EmbeddedCassandra {
            addr,
            state,
            stop,
            thread: Some(thread),
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving: the port closes and open connections drop. The data
    /// stays for [`EmbeddedCassandra::restart`].
    pub fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Serves the same data again on the same address.
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.stop();
        let mut again = Self::serve(self.addr, self.state.clone())?;
        std::mem::swap(&mut self.stop, &mut again.stop);
        std::mem::swap(&mut self.thread, &mut again.thread);
        // `again` now holds the stopped node's handles: dropping it is a no-op.
        Ok(())
    }

    /// Whether the node is serving.
    pub fn is_running(&self) -> bool {
        self.thread.is_some()
    }
}

impl Drop for EmbeddedCassandra {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    state: Arc<Mutex<KassandraSession>>,
    mut stopped: watch::Receiver<bool>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "embedded CQL node cannot listen");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let stopped = stopped.clone();
                tokio::task::spawn_local(serve_client(stream, state, stopped));
            }
        }
    }
}

async fn serve_client(
    mut stream: TcpStream,
    state: Arc<Mutex<KassandraSession>>,
    mut stopped: watch::Receiver<bool>,
) {
    let (mut read, mut write) = stream.split();
    let mut requests = request_stream(&mut read);
    let mut responses = response_sink(&mut write);
    loop {
        let frame = tokio::select! {
            _ = stopped.changed() => break,
            frame = requests.next() => frame,
        };
        let Some(Ok((frame, opcode, data))) = frame else {
            break;
        };
        let response = match Request::deserialize(opcode, &data, frame.flags) {
            Ok(request) => answer(&state, request),
            Err(e) => Response::Error(CqlError::new(
                DbError::ProtocolError,
                format!("cannot parse request: {e}"),
            )),
        };
        if responses.send((response, frame.stream)).await.is_err() {
            break;
        }
    }
}

fn lock(state: &Mutex<KassandraSession>) -> MutexGuard<'_, KassandraSession> {
    // A request that panicked inside the engine poisons the lock; the data
    // it guards is still the last consistent state of every other request.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs one request against the engine. The engine panics on some CQL it
/// does not implement: that becomes a server error, not a dead node.
fn answer(state: &Mutex<KassandraSession>, request: Request<'_>) -> Response {
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| match request {
        Request::StartUp(_) | Request::Register { .. } => Ok(Response::Ready),
        Request::Options => Ok(Response::options()),
        Request::Query(q) => lock(state).process(q).map(Response::Result),
        Request::Prepare(p) => lock(state).prepare(p).map(Response::Result),
        Request::Execute(e) => lock(state).execute(e).map(Response::Result),
        Request::Batch(b) => lock(state).process_batch(b).map(Response::Result),
        Request::AuthResponse => Err(CqlError::new(
            DbError::ProtocolError,
            "the embedded node does not authenticate",
        )),
    }));
    match outcome {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => Response::Error(e),
        Err(_) => Response::Error(CqlError::new(
            DbError::ServerError,
            "the embedded CQL node does not support this statement",
        )),
    }
}
