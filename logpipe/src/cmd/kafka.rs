//! `logpipe kafka`: an embedded Kafka-protocol broker for local work with
//! no docker: librdkafka's mock cluster (producing, consumer groups, offset
//! commits) with the pipeline's three topics, until Ctrl-C.
//!
//! The mock cluster binds random loopback ports. To serve a fixed address,
//! each mock broker gets a TCP relay on `--listen` (the next ports for
//! further brokers), and the broker advertises the relay's address in its
//! metadata, so clients only ever see the fixed ports. The mock cluster
//! does not implement the CreateTopics API: topics are created here.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use rdkafka::client::Client;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, DefaultProducerContext, Producer};
use rdkafka::ClientConfig;
use tokio::net::{TcpListener, TcpStream};

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
        for (id, real_port) in brokers {
            let addr = SocketAddr::new(listen.ip(), port);
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let bound = listener.local_addr()?;
            advertise(kafka.owner.client(), id, &bound)?;
            let target = SocketAddr::from(([127, 0, 0, 1], real_port));
            kafka.relays.push(tokio::spawn(relay(listener, target)));
            kafka.advertised.push(bound);
            if port != 0 {
                port = port
                    .checked_add(1)
                    .context("no port left for the next broker")?;
            }
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

/// Makes mock broker `id` advertise `addr` in its metadata.
fn advertise(
    client: &Client<DefaultProducerContext>,
    id: i32,
    addr: &SocketAddr,
) -> anyhow::Result<()> {
    let host = std::ffi::CString::new(addr.ip().to_string())?;
    // SAFETY: `client` was created with `test.mock.num.brokers`, so it owns
    // a mock cluster that lives as long as the client, which outlives this
    // call; the function copies the host string and takes the cluster's
    // own lock.
    unsafe {
        let cluster = rdkafka::bindings::rd_kafka_handle_mock_cluster(client.native_ptr());
        anyhow::ensure!(!cluster.is_null(), "the client has no mock cluster");
        rdkafka::bindings::rd_kafka_mock_broker_set_host_port(
            cluster,
            id,
            host.as_ptr(),
            i32::from(addr.port()),
        );
    }
    Ok(())
}

/// Relays every connection accepted on `listener` to `target`.
async fn relay(listener: TcpListener, target: SocketAddr) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let _ = inbound.set_nodelay(true);
            let Ok(mut outbound) = TcpStream::connect(target).await else {
                return;
            };
            let _ = outbound.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
        });
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
