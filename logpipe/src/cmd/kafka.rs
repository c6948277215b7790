//! `logpipe kafka`: an embedded Kafka-protocol broker for local work with
//! no docker: librdkafka's mock cluster (producing, consumer groups, offset
//! commits) with the pipeline's three topics, until Ctrl-C.
//!
//! The mock cluster binds random loopback ports. To serve a fixed address,
//! each mock broker gets a relay on `--listen` (the next ports for further
//! brokers). The relay passes Kafka frames through unchanged except the
//! Metadata and FindCoordinator responses, in which it replaces each mock
//! broker's real address by its relay's, so clients only ever see the
//! fixed ports. The mock cluster does not implement the CreateTopics API:
//! topics are created here.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, DefaultProducerContext, Producer};
use rdkafka::ClientConfig;
use tokio::io::{
    AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader, BufWriter,
};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

use crate::lock;

use crate::esm::connection::TopicSelection;

#[derive(Args, Debug)]
pub struct KafkaArgs {
    /// Address clients connect to; further brokers take the next ports
    /// (port 0 picks free ports)
    #[arg(long, default_value = "127.0.0.1:9092")]
    listen: SocketAddr,

    /// Brokers in the cluster
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i32).range(1..=9))]
    brokers: i32,

    /// Partitions of each topic
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=1000))]
    partitions: i32,

    #[command(flatten)]
    selection: TopicSelection,
}

/// An in-process Kafka cluster (librdkafka's mock cluster).
pub struct EmbeddedKafka {
    /// The client that owns the mock cluster; the cluster lives as long as it.
    owner: BaseProducer<DefaultProducerContext>,
    relays: Vec<tokio::task::JoinHandle<()>>,
    /// The relays' addresses, when serving a fixed address.
    advertised: Vec<SocketAddr>,
}

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
            kafka
                .relays
                .push(tokio::spawn(relay(listener, target, map.clone())));
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
            .with_context(|| format!("creating topic {topic}"))
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
/// broker addresses in the responses that carry them.
async fn relay(listener: TcpListener, target: SocketAddr, map: Arc<AddressMap>) {
    loop {
        let Ok((inbound, _)) = listener.accept().await else {
            continue;
        };
        let map = map.clone();
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
                _ = requests(client_read, broker_write, pending.clone()) => {}
                _ = responses(broker_read, client_write, pending, &map) => {}
            }
        });
    }
}

/// Requests still waiting for a response whose addresses need rewriting:
/// correlation id → (API key, version).
type Pending = Arc<Mutex<HashMap<i32, (i16, i16)>>>;

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
/// correlation id of Metadata and FindCoordinator requests are noted.
async fn requests(
    from: OwnedReadHalf,
    to: OwnedWriteHalf,
    pending: Pending,
) -> std::io::Result<()> {
    let mut from = BufReader::new(from);
    let mut to = BufWriter::new(to);
    // Every request header starts with key, version and correlation id.
    while let Some(size) = frame_size(&mut from, 8).await? {
        let key = from.read_i16().await?;
        let version = from.read_i16().await?;
        let correlation = from.read_i32().await?;
        if key == METADATA || key == FIND_COORDINATOR {
            lock(&pending).insert(correlation, (key, version));
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

/// Broker → client: frames pass unchanged but for the broker addresses in
/// Metadata and FindCoordinator responses.
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
        match request {
            Some((key, version)) if body_len <= MAX_REWRITE => {
                let mut body = vec![0; body_len];
                from.read_exact(&mut body).await?;
                let body = rewrite(key, version, &body, map).unwrap_or(body);
                to.write_i32(i32::try_from(body.len() + 4).map_err(std::io::Error::other)?)
                    .await?;
                to.write_i32(correlation).await?;
                to.write_all(&body).await?;
            }
            _ => {
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
/// the map knows replaced by its advertised one; `None` for a body that
/// does not parse (it is then passed on unchanged).
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
            for _ in 0..brokers {
                w.broker(flexible, map)?;
                if version >= 1 {
                    w.skip_string(flexible)?; // rack
                }
                if flexible {
                    w.skip_tags()?;
                }
            }
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

    /// `node_id, host, port`: the host and port replaced when the map
    /// knows the port.
    fn broker(&mut self, flexible: bool, map: &AddressMap) -> Option<()> {
        self.skip(4)?; // node_id
        let start = self.pos;
        let host_len = self.string_len(flexible)??;
        self.skip(host_len)?;
        let port = self.i32()?;
        let Some(addr) = map.advertised(port) else {
            return Some(());
        };
        self.out.extend_from_slice(&self.body[self.copied..start]);
        self.copied = self.pos;
        let host = addr.ip().to_string();
        if flexible {
            let mut n = host.len() as u64 + 1;
            while n >= 0x80 {
                self.out.push((n as u8 & 0x7f) | 0x80);
                n >>= 7;
            }
            self.out.push(n as u8);
        } else {
            self.out
                .extend_from_slice(&i16::try_from(host.len()).ok()?.to_be_bytes());
        }
        self.out.extend_from_slice(host.as_bytes());
        self.out
            .extend_from_slice(&i32::from(addr.port()).to_be_bytes());
        Some(())
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&self.body[self.copied..]);
        self.out
    }
}

pub async fn run(args: KafkaArgs) -> anyhow::Result<ExitCode> {
    let kafka = EmbeddedKafka::listen(args.listen, args.brokers).await?;
    let topics = args.selection.resolve();
    for (_, topic) in &topics {
        kafka.create_topic(topic, args.partitions)?;
    }
    let names: Vec<&str> = topics.iter().map(|(_, t)| t.as_str()).collect();
    eprintln!(
        "topics: {} ({} partitions each); data lives in memory and is lost on exit",
        names.join(", "),
        args.partitions
    );
    eprintln!("press Ctrl-C to stop");
    // A line scripts can wait for.
    println!("Kafka broker listening on {}", kafka.bootstrap_servers());
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    eprintln!("stopping");
    drop(kafka);
    Ok(ExitCode::SUCCESS)
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

    /// A Metadata response body with one broker at `host:port`, a rack
    /// and a trailing topic section.
    fn metadata(version: i16, host: &str, port: i32) -> Vec<u8> {
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
        b.extend_from_slice(b"the rest of the body");
        b
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
