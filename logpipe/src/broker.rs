//! The embedded Kafka-protocol broker of `logpipe kafka` and `logpipe
//! demo`, for local work with no docker: librdkafka's mock cluster
//! (producing, consumer groups, offset commits) behind a relay on fixed
//! loopback ports.
//!
//! The mock cluster binds random loopback ports. To serve a fixed address,
//! each mock broker gets a relay on `--listen` (the next ports for further
//! brokers). The relay passes Kafka frames through unchanged except:
//!
//! - Metadata and FindCoordinator responses: it replaces each mock
//!   broker's real address by its relay's, so clients only ever see the
//!   fixed ports, and names an existing broker as the controller (the mock
//!   names broker 0, which does not exist, so an admin client would wait
//!   for it until its request timed out);
//! - CreateTopics, which the mock cluster does not implement: the relay
//!   advertises it in its ApiVersions answers (versions 0 to 4) and answers
//!   it itself, at once and in request order (the broker gets a stand-in
//!   ApiVersions request whose response the answer replaces):
//!   `TOPIC_ALREADY_EXISTS` for a topic the cluster has (its topics are
//!   created here, when it starts), `POLICY_VIOLATION` with a message
//!   naming the topics it serves for any other. So `logpipe topics create`
//!   (or any admin client) against it succeeds as the idempotent command
//!   it is, or fails at once saying why.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, DefaultProducerContext, Producer};
use rdkafka::ClientConfig;
use tokio::io::{
    AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader, BufWriter,
};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

use crate::lock;

/// An in-process Kafka cluster (librdkafka's mock cluster).
pub struct EmbeddedKafka {
    /// The client that owns the mock cluster; the cluster lives as long as it.
    owner: BaseProducer<DefaultProducerContext>,
    relays: Vec<tokio::task::JoinHandle<()>>,
    /// The relays' addresses, when serving a fixed address.
    advertised: Vec<SocketAddr>,
    /// The topics created so far, which the relays' CreateTopics answers
    /// report as existing.
    topics: KnownTopics,
}

/// The cluster's topics, shared with the relays.
type KnownTopics = Arc<Mutex<BTreeSet<String>>>;

impl EmbeddedKafka {
    /// Starts `brokers` brokers on random loopback ports.
    pub fn start(brokers: i32) -> anyhow::Result<Self> {
        let owner: BaseProducer<DefaultProducerContext> = ClientConfig::new()
            .set("test.mock.num.brokers", brokers.to_string())
            // The owner never sends; keep it from logging about it.
            .set("log_level", "3")
            .create()
            .context("starting the embedded Kafka cluster")?;
        let kafka = EmbeddedKafka {
            owner,
            relays: Vec::new(),
            advertised: Vec::new(),
            topics: KnownTopics::default(),
        };
        kafka.cluster()?;
        Ok(kafka)
    }

    /// Starts `brokers` brokers serving `listen` (and the ports after it).
    pub async fn listen(listen: SocketAddr, brokers: i32) -> anyhow::Result<Self> {
        let mut kafka = Self::start(brokers)?;
        let metadata = kafka
            .owner
            .client()
            .fetch_metadata(None, Duration::from_secs(10))
            .context("reading the embedded cluster's brokers")?;
        let mut brokers: Vec<(i32, u16)> = metadata
            .brokers()
            .iter()
            .map(|b| (b.id(), b.port() as u16))
            .collect();
        brokers.sort();
        let mut port = listen.port();
        let mut listeners = Vec::new();
        let mut map = AddressMap::default();
        for (_, real_port) in brokers {
            let addr = SocketAddr::new(listen.ip(), port);
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let bound = listener.local_addr()?;
            map.0.push((real_port, bound));
            listeners.push((listener, real_port));
            kafka.advertised.push(bound);
            if port != 0 {
                port = port
                    .checked_add(1)
                    .context("no port left for the next broker")?;
            }
        }
        // Every relay rewrites every broker's address: start them once
        // the map is complete.
        let map = Arc::new(map);
        for (listener, real_port) in listeners {
            let target = SocketAddr::from(([127, 0, 0, 1], real_port));
            kafka.relays.push(tokio::spawn(relay(
                listener,
                target,
                map.clone(),
                kafka.topics.clone(),
            )));
        }
        Ok(kafka)
    }

    fn cluster(&self) -> anyhow::Result<MockCluster<'_, DefaultProducerContext>> {
        self.owner
            .client()
            .mock_cluster()
            .context("librdkafka did not start a mock cluster")
    }

    /// `host:port,...` of the brokers.
    pub fn bootstrap_servers(&self) -> String {
        if !self.advertised.is_empty() {
            let addrs: Vec<String> = self.advertised.iter().map(|a| a.to_string()).collect();
            return addrs.join(",");
        }
        self.cluster()
            .map(|c| c.bootstrap_servers())
            .unwrap_or_default()
    }

    /// Creates `topic` (replication 1) unless it exists.
    pub fn create_topic(&self, topic: &str, partitions: i32) -> anyhow::Result<()> {
        self.cluster()?
            .create_topic(topic, partitions, 1)
            .with_context(|| format!("creating topic {topic}"))?;
        lock(&self.topics).insert(topic.to_owned());
        Ok(())
    }
}

impl Drop for EmbeddedKafka {
    fn drop(&mut self) {
        for r in &self.relays {
            r.abort();
        }
        let _ = self.owner.flush(Duration::from_millis(100));
    }
}

/// The Kafka API keys whose responses carry broker addresses.
const METADATA: i16 = 3;
const FIND_COORDINATOR: i16 = 10;
/// The API key whose response lists the supported APIs.
const API_VERSIONS: i16 = 18;
/// The API key the relay answers itself, and its versions.
const CREATE_TOPICS: i16 = 19;
const CREATE_TOPICS_MAX_VERSION: i16 = 4;

/// Kafka error codes of the relay's CreateTopics answers.
const TOPIC_ALREADY_EXISTS: i16 = 36;
const POLICY_VIOLATION: i16 = 44;

/// Largest frame the relay accepts in either direction (librdkafka's own
/// `receive.message.max.bytes` ceiling); a larger size prefix closes the
/// connection rather than allocating for it.
const MAX_FRAME: usize = 1_000_000_000;

/// Largest response the relay reads whole to rewrite (Metadata and
/// FindCoordinator answers are a few KiB; a larger one passes unchanged).
const MAX_REWRITE: usize = 16 << 20;

/// The mock brokers' real ports and the addresses clients see instead.
#[derive(Debug, Default)]
struct AddressMap(Vec<(u16, SocketAddr)>);

impl AddressMap {
    fn advertised(&self, real_port: i32) -> Option<&SocketAddr> {
        self.0
            .iter()
            .find(|(p, _)| i32::from(*p) == real_port)
            .map(|(_, a)| a)
    }
}

/// Relays every connection accepted on `listener` to `target`, rewriting
/// broker addresses in the responses that carry them and answering
/// CreateTopics from `topics`.
async fn relay(
    listener: TcpListener,
    target: SocketAddr,
    map: Arc<AddressMap>,
    topics: KnownTopics,
) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        let map = map.clone();
        let topics = topics.clone();
        tokio::spawn(async move {
            let _ = inbound.set_nodelay(true);
            let Ok(outbound) = TcpStream::connect(target).await else {
                return;
            };
            let _ = outbound.set_nodelay(true);
            let (client_read, client_write) = inbound.into_split();
            let (broker_read, broker_write) = outbound.into_split();
            let pending = Arc::new(Mutex::new(HashMap::new()));
            // Either side closing (or sending a malformed frame) ends both.
            tokio::select! {
                _ = requests(client_read, broker_write, pending.clone(), &topics) => {}
                _ = responses(broker_read, client_write, pending, &map) => {}
            }
        });
    }
}

/// What the relay does to the response of a pending request.
enum Rewrite {
    /// Rewrites the addresses (and the CreateTopics entry) in the response
    /// to a request of this API key and version.
    Response(i16, i16),
    /// Replaces the whole response body by this one: the relay's answer to
    /// a request the broker got a stand-in for.
    Replace(Vec<u8>),
}

/// Requests still waiting for a response the relay rewrites:
/// correlation id → what to do.
type Pending = Arc<Mutex<HashMap<i32, Rewrite>>>;

/// Reads a frame's size prefix; `None` at a clean end of stream.
async fn frame_size<R: AsyncRead + Unpin>(r: &mut R, min: usize) -> std::io::Result<Option<usize>> {
    let size = match r.read_i32().await {
        Ok(size) => size,
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    };
    match usize::try_from(size) {
        Ok(n) if (min..=MAX_FRAME).contains(&n) => Ok(Some(n)),
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("frame size {size}"),
        )),
    }
}

/// Client → broker: frames pass unchanged; the API key, version and
/// correlation id of Metadata, FindCoordinator and ApiVersions requests
/// are noted. A CreateTopics request (versions 0 to 4) never reaches the
/// broker: the relay answers it from `topics`, and sends the broker an
/// ApiVersions request with its correlation id instead, whose response it
/// replaces by that answer. So the answer reaches the client in request
/// order, as Kafka clients expect.
async fn requests(
    from: OwnedReadHalf,
    to: OwnedWriteHalf,
    pending: Pending,
    topics: &KnownTopics,
) -> std::io::Result<()> {
    let mut from = BufReader::new(from);
    let mut to = BufWriter::new(to);
    // Every request header starts with key, version and correlation id.
    while let Some(size) = frame_size(&mut from, 8).await? {
        let key = from.read_i16().await?;
        let version = from.read_i16().await?;
        let correlation = from.read_i32().await?;
        if key == CREATE_TOPICS && (0..=CREATE_TOPICS_MAX_VERSION).contains(&version) {
            if size - 8 > MAX_REWRITE {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "CreateTopics request too large",
                ));
            }
            let mut rest = vec![0; size - 8];
            from.read_exact(&mut rest).await?;
            let known = lock(topics).clone();
            let answer = create_topics_response(version, &rest, &known).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "malformed CreateTopics request",
                )
            })?;
            lock(&pending).insert(correlation, Rewrite::Replace(answer));
            // ApiVersions v0: the header (key, version, correlation id,
            // a null client id) and an empty body.
            to.write_i32(10).await?;
            to.write_i16(API_VERSIONS).await?;
            to.write_i16(0).await?;
            to.write_i32(correlation).await?;
            to.write_i16(-1).await?;
            to.flush().await?;
            continue;
        }
        if key == METADATA || key == FIND_COORDINATOR || key == API_VERSIONS {
            lock(&pending).insert(correlation, Rewrite::Response(key, version));
        }
        to.write_i32(size as i32).await?;
        to.write_i16(key).await?;
        to.write_i16(version).await?;
        to.write_i32(correlation).await?;
        pass((&mut from).take(size as u64 - 8), &mut to).await?;
        to.flush().await?;
    }
    Ok(())
}

/// Broker → client: frames pass unchanged but for the broker addresses
/// and controller in Metadata and FindCoordinator responses, the
/// CreateTopics entry added to ApiVersions responses, and the relay's
/// CreateTopics answers in place of their stand-ins' responses.
async fn responses(
    from: OwnedReadHalf,
    to: OwnedWriteHalf,
    pending: Pending,
    map: &AddressMap,
) -> std::io::Result<()> {
    let mut from = BufReader::new(from);
    let mut to = BufWriter::new(to);
    while let Some(size) = frame_size(&mut from, 4).await? {
        let correlation = from.read_i32().await?;
        let request = lock(&pending).remove(&correlation);
        let body_len = size - 4;
        let body = match request {
            Some(Rewrite::Replace(answer)) => {
                pass((&mut from).take(body_len as u64), &mut tokio::io::sink()).await?;
                Some(answer)
            }
            Some(Rewrite::Response(key, version)) if body_len <= MAX_REWRITE => {
                let mut body = vec![0; body_len];
                from.read_exact(&mut body).await?;
                Some(rewrite(key, version, &body, map).unwrap_or(body))
            }
            _ => None,
        };
        match body {
            Some(body) => {
                to.write_i32(i32::try_from(body.len() + 4).map_err(std::io::Error::other)?)
                    .await?;
                to.write_i32(correlation).await?;
                to.write_all(&body).await?;
            }
            None => {
                to.write_i32(size as i32).await?;
                to.write_i32(correlation).await?;
                pass((&mut from).take(body_len as u64), &mut to).await?;
            }
        }
        to.flush().await?;
    }
    Ok(())
}

/// Copies all of `from` (a frame's remaining bytes); a short frame is an error.
async fn pass<R, W>(mut from: tokio::io::Take<R>, to: &mut W) -> std::io::Result<()>
where
    R: tokio::io::AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    tokio::io::copy_buf(&mut from, to).await?;
    if from.limit() > 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

/// The response body (after the correlation id) with each broker address
/// the map knows replaced by its advertised one, a controller that is no
/// broker replaced by the lowest broker id, and CreateTopics added to the
/// supported APIs; `None` for a body that does not parse (it is then
/// passed on unchanged).
fn rewrite(key: i16, version: i16, body: &[u8], map: &AddressMap) -> Option<Vec<u8>> {
    let mut w = Rewriter {
        body,
        pos: 0,
        copied: 0,
        out: Vec::with_capacity(body.len() + 64),
    };
    match key {
        METADATA if (0..=12).contains(&version) => {
            let flexible = version >= 9;
            if flexible {
                w.skip_tags()?; // response header tags
            }
            if version >= 3 {
                w.skip(4)?; // throttle_time_ms
            }
            let brokers = w.array_len(flexible)?;
            let mut ids = Vec::with_capacity(brokers.min(64));
            for _ in 0..brokers {
                ids.push(w.broker(flexible, map)?);
                if version >= 1 {
                    w.skip_string(flexible)?; // rack
                }
                if flexible {
                    w.skip_tags()?;
                }
            }
            if version >= 2 {
                w.skip_string(flexible)?; // cluster_id
            }
            if version >= 1 {
                let at = w.pos;
                let controller = w.i32()?;
                if !ids.contains(&controller) {
                    if let Some(first) = ids.iter().min() {
                        w.replace(at, &first.to_be_bytes());
                    }
                }
            }
        }
        API_VERSIONS if (0..=3).contains(&version) => {
            let flexible = version >= 3;
            if w.i16()? != 0 {
                return None; // an error answer lists no APIs to add to
            }
            let count_at = w.pos;
            let count = w.array_len(flexible)?;
            let mut count_bytes = Vec::new();
            if flexible {
                put_uvarint(&mut count_bytes, count as u64 + 2);
            } else {
                count_bytes.extend_from_slice(&i32::try_from(count + 1).ok()?.to_be_bytes());
            }
            w.replace(count_at, &count_bytes);
            for _ in 0..count {
                if w.i16()? == CREATE_TOPICS {
                    return None; // the broker has it: nothing to add
                }
                w.skip(4)?; // min_version, max_version
                if flexible {
                    w.skip_tags()?;
                }
            }
            let mut entry = Vec::new();
            entry.extend_from_slice(&CREATE_TOPICS.to_be_bytes());
            entry.extend_from_slice(&0i16.to_be_bytes());
            entry.extend_from_slice(&CREATE_TOPICS_MAX_VERSION.to_be_bytes());
            if flexible {
                entry.push(0); // no tagged fields
            }
            w.insert(&entry);
        }
        FIND_COORDINATOR if (0..=3).contains(&version) => {
            let flexible = version >= 3;
            if flexible {
                w.skip_tags()?;
            }
            if version >= 1 {
                w.skip(4)?; // throttle_time_ms
            }
            w.skip(2)?; // error_code
            if version >= 1 {
                w.skip_string(flexible)?; // error_message
            }
            w.broker(flexible, map)?;
        }
        _ => return None,
    }
    Some(w.finish())
}

/// Walks a response body, copying it to `out` and replacing addresses.
struct Rewriter<'a> {
    body: &'a [u8],
    pos: usize,
    /// `body[..copied]` is in `out` already.
    copied: usize,
    out: Vec<u8>,
}

impl Rewriter<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.body.len())?;
        let bytes = &self.body[self.pos..end];
        self.pos = end;
        Some(bytes)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    fn i16(&mut self) -> Option<i16> {
        Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn uvarint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.take(1)?.first()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    /// An array's element count (a null array counts as empty).
    fn array_len(&mut self, flexible: bool) -> Option<usize> {
        if flexible {
            Some(usize::try_from(self.uvarint()?).ok()?.saturating_sub(1))
        } else {
            Some(usize::try_from(self.i32()?.max(0)).ok()?)
        }
    }

    /// A (nullable) string's length, `None` for null.
    fn string_len(&mut self, flexible: bool) -> Option<Option<usize>> {
        if flexible {
            let n = usize::try_from(self.uvarint()?).ok()?;
            Some(n.checked_sub(1))
        } else {
            let n = self.i16()?;
            Some(usize::try_from(n).ok())
        }
    }

    fn skip_string(&mut self, flexible: bool) -> Option<()> {
        if let Some(n) = self.string_len(flexible)? {
            self.skip(n)?;
        }
        Some(())
    }

    fn skip_tags(&mut self) -> Option<()> {
        for _ in 0..self.uvarint()? {
            self.uvarint()?;
            let size = usize::try_from(self.uvarint()?).ok()?;
            self.skip(size)?;
        }
        Some(())
    }

    /// Replaces `body[at..self.pos]` (just read) by `bytes` in `out`.
    fn replace(&mut self, at: usize, bytes: &[u8]) {
        self.out.extend_from_slice(&self.body[self.copied..at]);
        self.out.extend_from_slice(bytes);
        self.copied = self.pos;
    }

    /// Inserts `bytes` into `out` at the current position.
    fn insert(&mut self, bytes: &[u8]) {
        let at = self.pos;
        self.replace(at, bytes);
    }

    /// `node_id, host, port`: the host and port replaced when the map
    /// knows the port. Returns the node id.
    fn broker(&mut self, flexible: bool, map: &AddressMap) -> Option<i32> {
        let node_id = self.i32()?;
        let start = self.pos;
        let host_len = self.string_len(flexible)??;
        self.skip(host_len)?;
        let port = self.i32()?;
        let Some(addr) = map.advertised(port) else {
            return Some(node_id);
        };
        self.out.extend_from_slice(&self.body[self.copied..start]);
        self.copied = self.pos;
        let host = addr.ip().to_string();
        if flexible {
            put_uvarint(&mut self.out, host.len() as u64 + 1);
        } else {
            self.out
                .extend_from_slice(&i16::try_from(host.len()).ok()?.to_be_bytes());
        }
        self.out.extend_from_slice(host.as_bytes());
        self.out
            .extend_from_slice(&i32::from(addr.port()).to_be_bytes());
        Some(node_id)
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&self.body[self.copied..]);
        self.out
    }
}

/// Appends `n` as an unsigned varint.
fn put_uvarint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The relay's answer to a CreateTopics request of `version` (0 to 4, not
/// flexible), whose bytes after the correlation id are `request` (client
/// id, then the body): every topic `known` has is `TOPIC_ALREADY_EXISTS`,
/// any other `POLICY_VIOLATION` with a message naming the topics served.
/// Returns the response body (after the correlation id); `None` for a
/// request that does not parse.
fn create_topics_response(
    version: i16,
    request: &[u8],
    known: &BTreeSet<String>,
) -> Option<Vec<u8>> {
    let mut r = Rewriter {
        body: request,
        pos: 0,
        copied: 0,
        out: Vec::new(),
    };
    r.skip_string(false)?; // client_id
    let count = r.array_len(false)?;
    let mut names = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let len = r.string_len(false)??;
        let name = String::from_utf8_lossy(r.take(len)?).into_owned();
        r.skip(4 + 2)?; // num_partitions, replication_factor
        for _ in 0..r.array_len(false)? {
            r.skip(4)?; // partition_index
            let brokers = r.array_len(false)?;
            r.skip(brokers.checked_mul(4)?)?;
        }
        for _ in 0..r.array_len(false)? {
            r.skip_string(false)?; // config name
            r.skip_string(false)?; // config value
        }
        names.push(name);
    }
    let served: Vec<&str> = known.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    if version >= 2 {
        out.extend_from_slice(&0i32.to_be_bytes()); // throttle_time_ms
    }
    out.extend_from_slice(&i32::try_from(names.len()).ok()?.to_be_bytes());
    let string = |out: &mut Vec<u8>, s: &str| -> Option<()> {
        out.extend_from_slice(&i16::try_from(s.len()).ok()?.to_be_bytes());
        out.extend_from_slice(s.as_bytes());
        Some(())
    };
    for name in names {
        string(&mut out, &name)?;
        let (code, message) = if known.contains(&name) {
            (
                TOPIC_ALREADY_EXISTS,
                format!("Topic '{name}' already exists."),
            )
        } else {
            (
                POLICY_VIOLATION,
                format!(
                    "the embedded broker (logpipe kafka) has only the topics it was started with ({}); \
                     restart it with --topic-name KIND={name} to serve this one",
                    served.join(", ")
                ),
            )
        };
        out.extend_from_slice(&code.to_be_bytes());
        if version >= 1 {
            let cut: String = message.chars().take(2000).collect();
            string(&mut out, &cut)?;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> AddressMap {
        AddressMap(vec![(40001, "127.0.0.1:9092".parse().unwrap())])
    }

    fn string(s: &str, flexible: bool) -> Vec<u8> {
        if flexible {
            let mut v = vec![s.len() as u8 + 1];
            v.extend_from_slice(s.as_bytes());
            v
        } else {
            let mut v = (s.len() as i16).to_be_bytes().to_vec();
            v.extend_from_slice(s.as_bytes());
            v
        }
    }

    /// A Metadata response body with one broker (id 7) at `host:port`, a
    /// rack, the cluster id, controller 7 and a trailing topic section.
    fn metadata(version: i16, host: &str, port: i32) -> Vec<u8> {
        metadata_with_controller(version, host, port, 7)
    }

    fn metadata_with_controller(version: i16, host: &str, port: i32, controller: i32) -> Vec<u8> {
        let flexible = version >= 9;
        let mut b = Vec::new();
        if flexible {
            b.push(0); // header tags
        }
        if version >= 3 {
            b.extend_from_slice(&100i32.to_be_bytes());
        }
        if flexible {
            b.push(2); // one broker
        } else {
            b.extend_from_slice(&1i32.to_be_bytes());
        }
        b.extend_from_slice(&7i32.to_be_bytes());
        b.extend(string(host, flexible));
        b.extend_from_slice(&port.to_be_bytes());
        if version >= 1 {
            b.extend(string("rack-a", flexible));
        }
        if flexible {
            b.extend_from_slice(&[1, 5, 2, 0xaa, 0xbb]); // one tagged field
        }
        if version >= 2 {
            b.extend(string("cluster-1", flexible));
        }
        if version >= 1 {
            b.extend_from_slice(&controller.to_be_bytes());
        }
        b.extend_from_slice(b"the rest of the body");
        b
    }

    #[test]
    fn a_controller_that_is_no_broker_becomes_the_first_broker() {
        // The mock cluster names controller 0, which is no broker.
        for version in 1..=12 {
            let got = rewrite(
                METADATA,
                version,
                &metadata_with_controller(version, "127.0.0.1", 40001, 0),
                &map(),
            )
            .unwrap_or_else(|| panic!("v{version} parses"));
            assert_eq!(got, metadata(version, "127.0.0.1", 9092), "v{version}");
        }
    }

    /// An ApiVersions response body listing `keys` (versions 0..=2 each).
    fn api_versions(version: i16, error: i16, keys: &[i16]) -> Vec<u8> {
        let flexible = version >= 3;
        let mut b = error.to_be_bytes().to_vec();
        if flexible {
            b.push(keys.len() as u8 + 1);
        } else {
            b.extend_from_slice(&(keys.len() as i32).to_be_bytes());
        }
        for (i, k) in keys.iter().enumerate() {
            b.extend_from_slice(&k.to_be_bytes());
            b.extend_from_slice(&0i16.to_be_bytes());
            let max = if *k == CREATE_TOPICS {
                CREATE_TOPICS_MAX_VERSION
            } else {
                2
            };
            b.extend_from_slice(&max.to_be_bytes());
            if flexible {
                b.push(0);
            }
            let _ = i;
        }
        if version >= 1 {
            b.extend_from_slice(&0i32.to_be_bytes()); // throttle_time_ms
        }
        if flexible {
            b.push(0);
        }
        b
    }

    #[test]
    fn api_versions_answers_gain_create_topics() {
        for version in 0..=3 {
            let got = rewrite(
                API_VERSIONS,
                version,
                &api_versions(version, 0, &[0, 3, 18]),
                &map(),
            );
            assert_eq!(
                got,
                Some(api_versions(version, 0, &[0, 3, 18, CREATE_TOPICS])),
                "v{version}"
            );
            // An error answer, or one that has it already, is left alone.
            assert_eq!(
                rewrite(
                    API_VERSIONS,
                    version,
                    &api_versions(version, 35, &[18]),
                    &map()
                ),
                None
            );
            assert_eq!(
                rewrite(
                    API_VERSIONS,
                    version,
                    &api_versions(version, 0, &[CREATE_TOPICS, 18]),
                    &map()
                ),
                None
            );
        }
    }

    /// A CreateTopics request (client id, then the body) for `topics`.
    fn create_topics_request(version: i16, topics: &[&str]) -> Vec<u8> {
        let mut b = string("rdkafka", false);
        b.extend_from_slice(&(topics.len() as i32).to_be_bytes());
        for t in topics {
            b.extend(string(t, false));
            b.extend_from_slice(&3i32.to_be_bytes());
            b.extend_from_slice(&1i16.to_be_bytes());
            // One assignment with two brokers, one config entry.
            b.extend_from_slice(&1i32.to_be_bytes());
            b.extend_from_slice(&0i32.to_be_bytes());
            b.extend_from_slice(&2i32.to_be_bytes());
            b.extend_from_slice(&1i32.to_be_bytes());
            b.extend_from_slice(&2i32.to_be_bytes());
            b.extend_from_slice(&1i32.to_be_bytes());
            b.extend(string("retention.ms", false));
            b.extend_from_slice(&(-1i16).to_be_bytes()); // null value
        }
        b.extend_from_slice(&30000i32.to_be_bytes());
        if version >= 1 {
            b.push(0);
        }
        b
    }

    #[test]
    fn create_topics_is_answered_from_the_known_topics() {
        let known: BTreeSet<String> = ["user_auth_logs".to_owned()].into();
        for version in 0..=CREATE_TOPICS_MAX_VERSION {
            let request = create_topics_request(version, &["user_auth_logs", "other"]);
            let body = create_topics_response(version, &request, &known)
                .unwrap_or_else(|| panic!("v{version} parses"));
            let mut r = Rewriter {
                body: &body,
                pos: 0,
                copied: 0,
                out: Vec::new(),
            };
            if version >= 2 {
                assert_eq!(r.i32(), Some(0));
            }
            assert_eq!(r.array_len(false), Some(2));
            let read = |r: &mut Rewriter<'_>| {
                let len = r.string_len(false).unwrap().unwrap();
                let name = String::from_utf8(r.take(len).unwrap().to_vec()).unwrap();
                let code = r.i16().unwrap();
                let message = if version >= 1 {
                    let len = r.string_len(false).unwrap().unwrap();
                    String::from_utf8(r.take(len).unwrap().to_vec()).unwrap()
                } else {
                    String::new()
                };
                (name, code, message)
            };
            let (name, code, _) = read(&mut r);
            assert_eq!(
                (name.as_str(), code),
                ("user_auth_logs", TOPIC_ALREADY_EXISTS)
            );
            let (name, code, message) = read(&mut r);
            assert_eq!((name.as_str(), code), ("other", POLICY_VIOLATION));
            if version >= 1 {
                assert!(message.contains("user_auth_logs"), "{message}");
            }
            assert_eq!(r.pos, body.len(), "v{version}: nothing after the topics");
            // A cut request does not parse.
            for cut in 0..request.len() - 5 {
                assert_eq!(
                    create_topics_response(version, &request[..cut], &known),
                    None
                );
            }
        }
    }

    #[test]
    fn metadata_brokers_are_rewritten_in_every_version() {
        for version in 0..=12 {
            let got = rewrite(
                METADATA,
                version,
                &metadata(version, "127.0.0.1", 40001),
                &map(),
            )
            .unwrap_or_else(|| panic!("v{version} parses"));
            assert_eq!(got, metadata(version, "127.0.0.1", 9092), "v{version}");
        }
    }

    #[test]
    fn unknown_ports_and_bad_bodies_pass_unchanged() {
        let body = metadata(12, "127.0.0.1", 5555);
        assert_eq!(rewrite(METADATA, 12, &body, &map()), Some(body.clone()));
        for cut in 0..body.len() - 20 {
            // Truncated inside the broker array: does not parse.
            assert_eq!(rewrite(METADATA, 12, &body[..cut], &map()), None, "{cut}");
        }
        assert_eq!(rewrite(METADATA, 13, &body, &map()), None);
        assert_eq!(rewrite(1, 0, &body, &map()), None);
    }

    #[test]
    fn find_coordinator_is_rewritten() {
        for version in 0..=3 {
            let flexible = version >= 3;
            let body = |host: &str, port: i32| {
                let mut b = Vec::new();
                if flexible {
                    b.push(0);
                }
                if version >= 1 {
                    b.extend_from_slice(&0i32.to_be_bytes());
                }
                b.extend_from_slice(&0i16.to_be_bytes());
                if version >= 1 {
                    b.extend(string("NONE", flexible));
                }
                b.extend_from_slice(&1i32.to_be_bytes());
                b.extend(string(host, flexible));
                b.extend_from_slice(&port.to_be_bytes());
                if flexible {
                    b.push(0);
                }
                b
            };
            assert_eq!(
                rewrite(FIND_COORDINATOR, version, &body("127.0.0.1", 40001), &map()),
                Some(body("127.0.0.1", 9092)),
                "v{version}"
            );
        }
    }
}
