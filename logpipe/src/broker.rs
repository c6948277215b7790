//! The embedded Kafka-protocol broker of `logpipe kafka` and `logpipe
//! demo`, for local work with no docker: librdkafka's mock cluster
//! (producing, consumer groups, offset commits) behind a relay on fixed
//! loopback ports.
//!
//! The mock cluster binds random loopback ports. To serve a fixed address,
//! each mock broker gets a relay on `--listen` (the next ports for further
//! brokers). The relay passes Kafka frames through unchanged, as raw bytes
//! read no further than the request header's API key, version and
//! correlation id, except the few it decodes and re-encodes with the
//! `kafka-protocol` crate's message types:
//!
//! - Metadata and FindCoordinator responses: it replaces each mock
//!   broker's real address by its relay's, so clients only ever see the
//!   fixed ports, and names an existing broker as the controller (the mock
//!   names broker 0, which does not exist, so an admin client would wait
//!   for it until its request timed out);
//! - CreateTopics, which the mock cluster does not implement: the relay
//!   advertises it in its ApiVersions answers (versions 2 to 4) and answers
//!   it itself, at once and in request order (the broker gets a stand-in
//!   ApiVersions request whose response the answer replaces):
//!   `TOPIC_ALREADY_EXISTS` for a topic the cluster has (its topics are
//!   created here, when it starts), `POLICY_VIOLATION` with a message
//!   naming the topics it serves for any other. So `logpipe topics create`
//!   (or any admin client) against it succeeds as the idempotent command
//!   it is, or fails at once saying why.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, CreateTopicsRequest, CreateTopicsResponse,
    FindCoordinatorResponse, MetadataResponse, RequestHeader, ResponseHeader,
};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use kafka_protocol::ResponseError;
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
const METADATA: i16 = ApiKey::Metadata as i16;
const FIND_COORDINATOR: i16 = ApiKey::FindCoordinator as i16;
/// The API key whose response lists the supported APIs.
const API_VERSIONS: i16 = ApiKey::ApiVersions as i16;
/// The API key the relay answers itself, and its versions: from the
/// oldest that Kafka 4 (and so kafka-protocol) still speaks to the newest
/// librdkafka sends.
const CREATE_TOPICS: i16 = ApiKey::CreateTopics as i16;
const CREATE_TOPICS_VERSIONS: RangeInclusive<i16> = 2..=4;

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

    /// Replaces `host` and `port` by the advertised address when the map
    /// knows the port.
    fn advertise(&self, host: &mut StrBytes, port: &mut i32) {
        if let Some(addr) = self.advertised(*port) {
            *host = StrBytes::from_string(addr.ip().to_string());
            *port = i32::from(addr.port());
        }
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
    /// Replaces the whole response (from the correlation id on) by this
    /// one: the relay's answer to a request the broker got a stand-in for.
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

/// Writes `frame` (the bytes after the size prefix) with its size prefix.
async fn write_frame<W: AsyncWrite + Unpin>(to: &mut W, frame: &[u8]) -> std::io::Result<()> {
    to.write_i32(i32::try_from(frame.len()).map_err(std::io::Error::other)?)
        .await?;
    to.write_all(frame).await
}

/// Client → broker: frames pass unchanged, read no further than the API
/// key, version and correlation id at the start of every request header;
/// those of Metadata, FindCoordinator and ApiVersions requests are noted.
/// A CreateTopics request (versions 2 to 4) never reaches the broker: the
/// relay answers it from `topics`, and sends the broker an ApiVersions
/// request with its correlation id instead, whose response it replaces by
/// that answer. So the answer reaches the client in request order, as
/// Kafka clients expect.
async fn requests(
    from: OwnedReadHalf,
    to: OwnedWriteHalf,
    pending: Pending,
    topics: &KnownTopics,
) -> std::io::Result<()> {
    let mut from = BufReader::new(from);
    let mut to = BufWriter::new(to);
    while let Some(size) = frame_size(&mut from, 8).await? {
        let key = from.read_i16().await?;
        let version = from.read_i16().await?;
        let correlation = from.read_i32().await?;
        if key == CREATE_TOPICS && CREATE_TOPICS_VERSIONS.contains(&version) {
            if size > MAX_REWRITE {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "CreateTopics request too large",
                ));
            }
            let mut request = Vec::with_capacity(size);
            request.extend_from_slice(&key.to_be_bytes());
            request.extend_from_slice(&version.to_be_bytes());
            request.extend_from_slice(&correlation.to_be_bytes());
            request.resize(size, 0);
            from.read_exact(&mut request[8..]).await?;
            let known = lock(topics).clone();
            let answer = create_topics_response(version, &request, &known).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "malformed CreateTopics request",
                )
            })?;
            lock(&pending).insert(correlation, Rewrite::Replace(answer));
            write_frame(&mut to, &stand_in(correlation)?).await?;
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

/// The request the broker gets in place of one the relay answers: an
/// ApiVersions v0 request with a null client id under `correlation`.
fn stand_in(correlation: i32) -> std::io::Result<Vec<u8>> {
    let header = RequestHeader::default()
        .with_request_api_key(API_VERSIONS)
        .with_request_api_version(0)
        .with_correlation_id(correlation)
        .with_client_id(None);
    let mut out = Vec::new();
    header
        .encode(&mut out, ApiVersionsRequest::header_version(0))
        .and_then(|()| ApiVersionsRequest::default().encode(&mut out, 0))
        .map_err(std::io::Error::other)?;
    Ok(out)
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
        let frame = match request {
            Some(Rewrite::Replace(answer)) => {
                pass((&mut from).take(body_len as u64), &mut tokio::io::sink()).await?;
                Some(answer)
            }
            Some(Rewrite::Response(key, version)) if body_len <= MAX_REWRITE => {
                let mut frame = Vec::with_capacity(size);
                frame.extend_from_slice(&correlation.to_be_bytes());
                frame.resize(size, 0);
                from.read_exact(&mut frame[4..]).await?;
                Some(rewrite(key, version, &frame, map).unwrap_or(frame))
            }
            _ => None,
        };
        match frame {
            Some(frame) => write_frame(&mut to, &frame).await?,
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

/// The response `frame` (from the correlation id on) to a request of
/// `key` and `version`, with each broker address the map knows replaced by
/// its advertised one, a controller that is no broker replaced by the
/// lowest broker id, and CreateTopics added to the supported APIs; `None`
/// for a frame that does not decode as that response (it is then passed
/// on unchanged), and for an ApiVersions answer that is an error or lists
/// CreateTopics already. Bytes after the response pass unchanged.
fn rewrite(key: i16, version: i16, frame: &[u8], map: &AddressMap) -> Option<Vec<u8>> {
    match key {
        METADATA => {
            let (header, mut response, rest) = decode_response::<MetadataResponse>(frame, version)?;
            for broker in &mut response.brokers {
                map.advertise(&mut broker.host, &mut broker.port);
            }
            let ids = || response.brokers.iter().map(|b| b.node_id);
            if version >= 1 && !ids().any(|id| id == response.controller_id) {
                if let Some(first) = ids().min() {
                    response.controller_id = first;
                }
            }
            encode_response(&header, &response, version, rest)
        }
        API_VERSIONS => {
            let (header, mut response, rest) =
                decode_response::<ApiVersionsResponse>(frame, version)?;
            if response.error_code != 0
                || response.api_keys.iter().any(|k| k.api_key == CREATE_TOPICS)
            {
                return None;
            }
            response.api_keys.push(
                ApiVersion::default()
                    .with_api_key(CREATE_TOPICS)
                    .with_min_version(*CREATE_TOPICS_VERSIONS.start())
                    .with_max_version(*CREATE_TOPICS_VERSIONS.end()),
            );
            encode_response(&header, &response, version, rest)
        }
        FIND_COORDINATOR => {
            let (header, mut response, rest) =
                decode_response::<FindCoordinatorResponse>(frame, version)?;
            // Up to version 3 the coordinator is in the response itself;
            // from version 4 on there is one for each key, in `coordinators`.
            map.advertise(&mut response.host, &mut response.port);
            for coordinator in &mut response.coordinators {
                map.advertise(&mut coordinator.host, &mut coordinator.port);
            }
            encode_response(&header, &response, version, rest)
        }
        _ => None,
    }
}

/// A response frame (from the correlation id on) decoded as a response of
/// `version`, with the bytes after it (librdkafka's mock cluster ends
/// some responses with a byte more); `None` if it does not decode.
fn decode_response<M: Decodable + HeaderVersion>(
    mut frame: &[u8],
    version: i16,
) -> Option<(ResponseHeader, M, &[u8])> {
    let header = ResponseHeader::decode(&mut frame, M::header_version(version)).ok()?;
    let response = M::decode(&mut frame, version).ok()?;
    Some((header, response, frame))
}

/// A response frame (from the correlation id on), ending with `rest`.
fn encode_response<M: Encodable + HeaderVersion>(
    header: &ResponseHeader,
    response: &M,
    version: i16,
    rest: &[u8],
) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    header.encode(&mut out, M::header_version(version)).ok()?;
    response.encode(&mut out, version).ok()?;
    out.extend_from_slice(rest);
    Some(out)
}

/// The relay's answer to a CreateTopics `request` of `version` (2 to 4;
/// the frame from the API key on): every topic `known` has is
/// `TOPIC_ALREADY_EXISTS`, any other `POLICY_VIOLATION` with a message
/// naming the topics served. Returns the response frame (from the
/// correlation id on); `None` for a request that does not decode.
fn create_topics_response(
    version: i16,
    mut request: &[u8],
    known: &BTreeSet<String>,
) -> Option<Vec<u8>> {
    let header =
        RequestHeader::decode(&mut request, CreateTopicsRequest::header_version(version)).ok()?;
    if !create_topics_lengths_fit(request) {
        return None;
    }
    let body = CreateTopicsRequest::decode(&mut request, version).ok()?;
    let served: Vec<&str> = known.iter().map(String::as_str).collect();
    let topics = body
        .topics
        .into_iter()
        .map(|topic| {
            let name = topic.name.0.as_str();
            let (error, message) = if known.contains(name) {
                (
                    ResponseError::TopicAlreadyExists,
                    format!("Topic '{name}' already exists."),
                )
            } else {
                (
                    ResponseError::PolicyViolation,
                    format!(
                        "the embedded broker (logpipe kafka) has only the topics it was started with ({}); \
                         restart it with --topic-name KIND={name} to serve this one",
                        served.join(", ")
                    ),
                )
            };
            let message: String = message.chars().take(2000).collect();
            CreatableTopicResult::default()
                .with_error_code(error.code())
                .with_error_message(Some(StrBytes::from_string(message)))
                .with_name(topic.name)
        })
        .collect();
    let response = CreateTopicsResponse::default().with_topics(topics);
    let header = ResponseHeader::default().with_correlation_id(header.correlation_id);
    encode_response(&header, &response, version, &[])
}

/// Whether each array in a CreateTopics request body (versions 2 to 4)
/// declares no more elements than bytes follow it, as every real one
/// does. kafka-protocol reserves room for an array's declared length
/// before it reads the elements, so a request of a few bytes declaring
/// two billion topics would end the process on a failed allocation
/// rather than fail to decode.
fn create_topics_lengths_fit(mut body: &[u8]) -> bool {
    fn skip(b: &mut &[u8], n: usize) -> Option<()> {
        *b = b.get(n..)?;
        Some(())
    }
    fn length(b: &mut &[u8]) -> Option<usize> {
        let (n, rest) = b.split_first_chunk::<4>()?;
        *b = rest;
        let n = usize::try_from(i32::from_be_bytes(*n)).ok()?;
        (n <= b.len()).then_some(n)
    }
    /// A (nullable) string.
    fn string(b: &mut &[u8]) -> Option<()> {
        let (n, rest) = b.split_first_chunk::<2>()?;
        *b = rest;
        skip(b, usize::try_from(i16::from_be_bytes(*n)).unwrap_or(0))
    }
    fn walk(b: &mut &[u8]) -> Option<()> {
        for _ in 0..length(b)? {
            string(b)?; // name
            skip(b, 4 + 2)?; // num_partitions, replication_factor
            for _ in 0..length(b)? {
                skip(b, 4)?; // partition_index
                let brokers = length(b)?;
                skip(b, brokers.checked_mul(4)?)?;
            }
            for _ in 0..length(b)? {
                string(b)?; // config name
                string(b)?; // config value
            }
        }
        Some(())
    }
    walk(&mut body).is_some()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use kafka_protocol::messages::create_topics_request::{
        CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
    };
    use kafka_protocol::messages::find_coordinator_response::Coordinator;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::{BrokerId, TopicName};
    use kafka_protocol::protocol::Message;

    use super::*;

    fn map() -> AddressMap {
        AddressMap(vec![(40001, "127.0.0.1:9092".parse().unwrap())])
    }

    fn text(s: &'static str) -> StrBytes {
        StrBytes::from_static_str(s)
    }

    fn frame<M: Encodable + HeaderVersion>(response: &M, version: i16) -> Vec<u8> {
        let header = ResponseHeader::default().with_correlation_id(42);
        encode_response(&header, response, version, &[]).expect("encodes")
    }

    /// A Metadata response frame with one broker (id 7) at `host:port`, a
    /// rack, the cluster id, `controller` and a topic.
    fn metadata_with_controller(
        version: i16,
        host: &'static str,
        port: i32,
        controller: i32,
    ) -> Vec<u8> {
        let mut broker = MetadataResponseBroker::default()
            .with_node_id(BrokerId(7))
            .with_host(text(host))
            .with_port(port);
        if version >= 1 {
            broker = broker.with_rack(Some(text("rack-a")));
        }
        if version >= 9 {
            broker = broker.with_unknown_tagged_field(5, Bytes::from_static(&[0xaa, 0xbb]));
        }
        let mut response = MetadataResponse::default()
            .with_throttle_time_ms(if version >= 3 { 100 } else { 0 })
            .with_brokers(vec![broker])
            .with_controller_id(BrokerId(controller))
            .with_topics(vec![MetadataResponseTopic::default()
                .with_name(Some(TopicName(text("user_auth_logs"))))
                .with_partitions(vec![MetadataResponsePartition::default()
                    .with_leader_id(BrokerId(7))
                    .with_replica_nodes(vec![BrokerId(7)])
                    .with_isr_nodes(vec![BrokerId(7)])])]);
        if version >= 2 {
            response = response.with_cluster_id(Some(text("cluster-1")));
        }
        frame(&response, version)
    }

    fn metadata(version: i16, host: &'static str, port: i32) -> Vec<u8> {
        metadata_with_controller(version, host, port, 7)
    }

    #[test]
    fn a_controller_that_is_no_broker_becomes_the_first_broker() {
        // The mock cluster names controller 0, which is no broker.
        for version in 1..=MetadataResponse::VERSIONS.max {
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

    /// An ApiVersions response frame listing `keys` (versions 0..=2 each,
    /// CreateTopics the relay's).
    fn api_versions(version: i16, error: i16, keys: &[i16]) -> Vec<u8> {
        let keys = keys
            .iter()
            .map(|&k| {
                let (min, max) = if k == CREATE_TOPICS {
                    (
                        *CREATE_TOPICS_VERSIONS.start(),
                        *CREATE_TOPICS_VERSIONS.end(),
                    )
                } else {
                    (0, 2)
                };
                ApiVersion::default()
                    .with_api_key(k)
                    .with_min_version(min)
                    .with_max_version(max)
            })
            .collect();
        let response = ApiVersionsResponse::default()
            .with_error_code(error)
            .with_api_keys(keys);
        frame(&response, version)
    }

    #[test]
    fn api_versions_answers_gain_create_topics() {
        for version in 0..=ApiVersionsResponse::VERSIONS.max {
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

    /// A CreateTopics request frame (from the API key on) for `topics`.
    fn create_topics_request(version: i16, topics: &[&'static str]) -> Vec<u8> {
        let header = RequestHeader::default()
            .with_request_api_key(CREATE_TOPICS)
            .with_request_api_version(version)
            .with_correlation_id(42)
            .with_client_id(Some(text("rdkafka")));
        let topics = topics
            .iter()
            .map(|t| {
                // One assignment with two brokers, one config entry.
                CreatableTopic::default()
                    .with_name(TopicName(text(t)))
                    .with_num_partitions(3)
                    .with_replication_factor(1)
                    .with_assignments(vec![CreatableReplicaAssignment::default()
                        .with_partition_index(0)
                        .with_broker_ids(vec![BrokerId(1), BrokerId(2)])])
                    .with_configs(vec![CreatableTopicConfig::default()
                        .with_name(text("retention.ms"))
                        .with_value(None)])
            })
            .collect();
        let request = CreateTopicsRequest::default()
            .with_topics(topics)
            .with_timeout_ms(30000);
        let mut out = Vec::new();
        header
            .encode(&mut out, CreateTopicsRequest::header_version(version))
            .unwrap();
        request.encode(&mut out, version).unwrap();
        out
    }

    #[test]
    fn create_topics_is_answered_from_the_known_topics() {
        let known: BTreeSet<String> = ["user_auth_logs".to_owned()].into();
        for version in CREATE_TOPICS_VERSIONS {
            let request = create_topics_request(version, &["user_auth_logs", "other"]);
            let answer = create_topics_response(version, &request, &known)
                .unwrap_or_else(|| panic!("v{version} parses"));
            let (header, response, rest) =
                decode_response::<CreateTopicsResponse>(&answer, version).expect("decodes");
            assert!(rest.is_empty(), "v{version}: nothing after the topics");
            assert_eq!(header.correlation_id, 42);
            assert_eq!(response.throttle_time_ms, 0);
            let got: Vec<(&str, i16, &str)> = response
                .topics
                .iter()
                .map(|t| {
                    let message = t.error_message.as_ref().map_or("", |m| m.as_str());
                    (t.name.0.as_str(), t.error_code, message)
                })
                .collect();
            assert_eq!(got.len(), 2, "v{version}");
            assert_eq!(
                (got[0].0, got[0].1),
                ("user_auth_logs", ResponseError::TopicAlreadyExists.code())
            );
            assert_eq!(
                (got[1].0, got[1].1),
                ("other", ResponseError::PolicyViolation.code())
            );
            assert!(got[1].2.contains("user_auth_logs"), "{}", got[1].2);
            // A cut request does not parse.
            for cut in 0..request.len() {
                assert_eq!(
                    create_topics_response(version, &request[..cut], &known),
                    None
                );
            }
        }
    }

    #[test]
    fn impossible_array_lengths_in_create_topics_do_not_parse() {
        let known = BTreeSet::new();
        let request = create_topics_request(4, &["t"]);
        // After the header (key, version, correlation id, "rdkafka"): the
        // topics' length, the name "t", the partitions and replication
        // factor, then the assignments' length, one assignment's
        // partition index and its brokers' length.
        let topics = 2 + 2 + 4 + 2 + 7;
        let assignments = topics + 4 + 3 + 4 + 2;
        let brokers = assignments + 4 + 4;
        for at in [topics, assignments, brokers] {
            let mut bad = request.clone();
            bad[at..at + 4].copy_from_slice(&i32::MAX.to_be_bytes());
            assert_eq!(create_topics_response(4, &bad, &known), None, "at {at}");
            bad[at..at + 4].copy_from_slice(&(-1i32).to_be_bytes());
            assert_eq!(create_topics_response(4, &bad, &known), None, "at {at}");
        }
        assert!(create_topics_response(4, &request, &known).is_some());
    }

    #[test]
    fn the_stand_in_is_an_api_versions_v0_request() {
        let got = stand_in(0x0102_0304).unwrap();
        assert_eq!(got, [0, 18, 0, 0, 1, 2, 3, 4, 0xff, 0xff]);
    }

    #[test]
    fn metadata_brokers_are_rewritten_in_every_version() {
        for version in 0..=MetadataResponse::VERSIONS.max {
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
        let version = MetadataResponse::VERSIONS.max;
        let body = metadata(version, "127.0.0.1", 5555);
        assert_eq!(
            rewrite(METADATA, version, &body, &map()),
            Some(body.clone())
        );
        for cut in 0..body.len() {
            // Truncated anywhere: does not parse.
            assert_eq!(
                rewrite(METADATA, version, &body[..cut], &map()),
                None,
                "{cut}"
            );
        }
        // Bytes after the response pass unchanged.
        let mut longer = metadata(version, "127.0.0.1", 40001);
        longer.push(0);
        let mut rewritten = metadata(version, "127.0.0.1", 9092);
        rewritten.push(0);
        assert_eq!(rewrite(METADATA, version, &longer, &map()), Some(rewritten));
        assert_eq!(rewrite(METADATA, version + 1, &body, &map()), None);
        assert_eq!(rewrite(1, 0, &body, &map()), None);
    }

    #[test]
    fn find_coordinator_is_rewritten() {
        for version in 0..=FindCoordinatorResponse::VERSIONS.max {
            let body = |host: &'static str, port: i32| {
                let response = if version <= 3 {
                    let mut r = FindCoordinatorResponse::default()
                        .with_node_id(BrokerId(1))
                        .with_host(text(host))
                        .with_port(port);
                    if version >= 1 {
                        r = r.with_error_message(Some(text("NONE")));
                    }
                    r
                } else {
                    FindCoordinatorResponse::default().with_coordinators(vec![
                        Coordinator::default()
                            .with_key(text("logpipe-esm"))
                            .with_node_id(BrokerId(1))
                            .with_host(text(host))
                            .with_port(port),
                    ])
                };
                frame(&response, version)
            };
            assert_eq!(
                rewrite(FIND_COORDINATOR, version, &body("127.0.0.1", 40001), &map()),
                Some(body("127.0.0.1", 9092)),
                "v{version}"
            );
        }
    }
}
