//! Producer throughput against librdkafka's in-process mock cluster (three
//! brokers, three partitions a topic), through the same `produce` the CLI
//! uses.
//!
//! ```text
//! cargo run --release -p log-generator --example mock_throughput -- [RECORDS_PER_TOPIC] [CODEC] [INVALID_RATIO] [KEY=VALUE,...]
//! ```

use log_generator::{produce, Compression, ProduceConfig};
use logpipe_core::topics::LogKind;
use rdkafka::mocking::MockCluster;

/// The allocator of the `log-generator` command (see its `main.rs`), so
/// that librdkafka's allocations cost here what they cost there.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let per_topic: u64 = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(500_000);
    let codec = match args.next().as_deref() {
        None | Some("lz4") => Compression::Lz4,
        Some("none") => Compression::None,
        Some("snappy") => Compression::Snappy,
        Some("gzip") => Compression::Gzip,
        Some("zstd") => Compression::Zstd,
        Some(other) => return Err(format!("unknown codec {other}").into()),
    };
    let ratio: f64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(0.01);
    let extra: Vec<(String, String)> = args
        .next()
        .map(|s| {
            s.split(',')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let cluster = MockCluster::new(3)?;
    for kind in LogKind::ALL {
        cluster.create_topic(kind.default_topic(), 3, 1)?;
    }
    let mut config = ProduceConfig::new(cluster.bootstrap_servers(), per_topic, 1, ratio);
    config.compression = codec;
    config.client_config = extra;
    let summary = produce(&config)?;
    println!("{codec:?}: {}", summary.line());
    Ok(())
}
