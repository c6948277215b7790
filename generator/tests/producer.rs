//! The Kafka producer end to end against an in-process Kafka-protocol
//! cluster (librdkafka's mock cluster): what is consumed back is exactly
//! what the generator made for the seed, keys, values, headers and
//! partitions included, and failed deliveries are counted, not lost.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use log_generator::{
    partition_for_key, produce, Compression, Expected, GeneratedRecord, Generator, GeneratorConfig,
    ProduceConfig, RecordValue,
};
use logpipe_core::topics::LogKind;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::mocking::MockCluster;
use rdkafka::ClientConfig;

const PARTITIONS: i32 = 3;

fn cluster() -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let cluster = MockCluster::new(3).unwrap();
    for kind in LogKind::ALL {
        cluster
            .create_topic(kind.default_topic(), PARTITIONS, 1)
            .unwrap();
    }
    cluster
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Consumed {
    topic: String,
    partition: i32,
    key: Vec<u8>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Vec<u8>)>,
}

fn consume_all(bootstrap: &str, expected: usize) -> Vec<Consumed> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "generator-test")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let topics: Vec<&str> = LogKind::ALL.iter().map(|k| k.default_topic()).collect();
    consumer.subscribe(&topics).unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < expected && Instant::now() < deadline {
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = message.unwrap();
        seen.push(Consumed {
            topic: m.topic().to_owned(),
            partition: m.partition(),
            key: m.key().unwrap_or_default().to_vec(),
            value: m.payload().map(<[u8]>::to_vec),
            headers: logpipe_testkit::headers_of(&m),
        });
    }
    seen
}

fn as_seen(r: &GeneratedRecord, producer_id: &str) -> Consumed {
    Consumed {
        topic: r.topic.to_string(),
        partition: partition_for_key(&r.key, PARTITIONS as u32),
        key: r.key.clone(),
        value: match &r.value {
            RecordValue::Null => None,
            RecordValue::Bytes(b) => Some(b.clone()),
            RecordValue::NotBase64(_) => unreachable!("not on Kafka"),
        },
        headers: vec![
            ("content-type".into(), b"application/json".to_vec()),
            ("producer-id".into(), producer_id.as_bytes().to_vec()),
        ],
    }
}

#[test]
fn produced_records_come_back_exactly() {
    let cluster = cluster();
    let bootstrap = cluster.bootstrap_servers();
    let per_topic = 400;
    let mut config = ProduceConfig::new(&bootstrap, per_topic, 21, 0.25);
    config.producer_id = "test-producer".into();
    let summary = produce(&config).unwrap();
    assert_eq!(summary.produced, 3 * per_topic, "{}", summary.line());
    assert_eq!(summary.failed, 0, "{:?}", summary.delivery_errors);
    assert!(summary.is_complete());

    // The same seed, generated again, is what the topics must hold.
    let expected_records: Vec<GeneratedRecord> = Generator::new(GeneratorConfig {
        seed: 21,
        invalid_ratio: 0.25,
        ..GeneratorConfig::default()
    })
    .unwrap()
    .take(3 * per_topic as usize)
    .collect();
    let mut expected: Vec<Consumed> = expected_records
        .iter()
        .map(|r| as_seen(r, "test-producer"))
        .collect();
    let mut seen = consume_all(&bootstrap, expected.len());
    // Kafka keeps order within a partition: compare those sequences, then
    // everything as a set.
    let sequences = |v: &[Consumed]| {
        let mut by: BTreeMap<(String, i32), Vec<Vec<u8>>> = BTreeMap::new();
        for s in v {
            by.entry((s.topic.clone(), s.partition))
                .or_default()
                .push(s.key.clone());
        }
        by
    };
    assert_eq!(sequences(&seen), sequences(&expected));
    seen.sort();
    expected.sort();
    assert_eq!(seen.len(), expected.len());
    for (a, b) in seen.iter().zip(&expected) {
        assert_eq!(a, b);
    }

    // The summary's expected outcomes match the records.
    for kind in LogKind::ALL {
        let t = &summary.by_topic[kind.default_topic()];
        let valid = expected_records
            .iter()
            .filter(|r| r.kind == kind && r.expected == Expected::Valid)
            .count() as u64;
        assert_eq!(t.produced, per_topic);
        assert_eq!(t.valid, valid);
        assert_eq!(t.invalid_total(), per_topic - valid);
        assert_eq!(t.invalid.len(), 7, "{:?}", t.invalid);
    }
    assert_eq!(summary.invalid, 300);
    assert!(summary.messages_per_second > 0.0);
}

#[test]
fn every_compression_codec_works() {
    let cluster = cluster();
    let bootstrap = cluster.bootstrap_servers();
    for codec in [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ] {
        let mut config = ProduceConfig::new(&bootstrap, 50, 3, 0.1);
        config.compression = codec;
        let summary = produce(&config).unwrap();
        assert_eq!(
            (summary.produced, summary.failed),
            (150, 0),
            "{codec:?}: {:?}",
            summary.delivery_errors
        );
    }
}

#[test]
fn failed_deliveries_are_counted() {
    // Nothing listens on the mock cluster after it is dropped.
    let bootstrap = {
        let cluster = cluster();
        cluster.bootstrap_servers()
    };
    let mut config = ProduceConfig::new(&bootstrap, 5, 1, 0.0);
    config.message_timeout = Duration::from_millis(1500);
    let summary = produce(&config).unwrap();
    assert_eq!(summary.produced, 0);
    assert_eq!(summary.failed, 15);
    assert!(!summary.is_complete());
    assert_eq!(
        summary.delivery_errors.values().sum::<u64>(),
        15,
        "{:?}",
        summary.delivery_errors
    );
    assert!(summary.line().contains("15 failed"), "{}", summary.line());
}
