//! Producing generated records to Kafka with librdkafka (rdkafka).
//!
//! One thread generates records, hands them to a [`BaseProducer`] and, every
//! few dozen records (and whenever it would otherwise wait), serves the
//! delivery reports that have come back; librdkafka batches (large linger
//! and batch sizes), compresses and sends. Every record's outcome comes
//! back through [`ProducerContext::delivery`] with a small tag saying its
//! topic and what the pipeline must make of it, so the summary counts only
//! what the broker acknowledged, and counts every failure.
//!
//! The reports are served on the thread that sends rather than on a
//! polling thread of their own: librdkafka frees each delivered message
//! (its copy of the key and value, its headers) when its report is served,
//! and memory freed on a thread other than the one that allocated it goes
//! back through the allocator's shared arena lock, which the sending
//! thread, allocating for every record, then spends much of its time
//! waiting for.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use logpipe_contract::reason::ReasonCode;
use logpipe_contract::topics::LogKind;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{
    BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext, PurgeConfig,
};
use rdkafka::ClientContext;

use crate::events::record_headers;
use crate::generator::{Expected, Generator, GeneratorConfig, Output};
use crate::schedule::{Pacer, RunControl, Schedule};
use crate::security::{KafkaSecurity, Refused};
use crate::summary::GenerateSummary;
use crate::GenerateError;

/// Compression codec for produced batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Compression {
    /// No compression.
    None,
    /// gzip.
    Gzip,
    /// Snappy.
    Snappy,
    /// LZ4: cheap on CPU, a good default.
    #[default]
    Lz4,
    /// Zstandard.
    Zstd,
}

impl Compression {
    /// librdkafka's `compression.codec` value.
    pub fn codec(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// The producer id header value unless one is given.
pub const DEFAULT_PRODUCER_ID: &str = "log-generator";

/// Everything [`produce`] needs.
#[derive(Debug, Clone)]
pub struct ProduceConfig {
    /// `host:port[,host:port...]`.
    pub bootstrap: String,
    /// What to generate.
    pub generator: GeneratorConfig,
    /// How many, how long, how fast.
    pub schedule: Schedule,
    /// Batch compression.
    pub compression: Compression,
    /// TLS and SASL.
    pub security: KafkaSecurity,
    /// `client.id` and the `producer-id` header.
    pub producer_id: String,
    /// Extra librdkafka properties, applied last.
    pub client_config: Vec<(String, String)>,
    /// How long a record may wait for its acknowledgement
    /// (`message.timeout.ms`) before it counts as failed.
    pub message_timeout: Duration,
}

impl ProduceConfig {
    /// `count_per_topic` records to each of the three default topics at
    /// `bootstrap`, from `seed`, with `invalid_ratio` of them bad.
    pub fn new(
        bootstrap: impl Into<String>,
        count_per_topic: u64,
        seed: u64,
        invalid_ratio: f64,
    ) -> Self {
        ProduceConfig {
            bootstrap: bootstrap.into(),
            generator: GeneratorConfig {
                seed,
                invalid_ratio,
                ..GeneratorConfig::default()
            },
            schedule: Schedule::count(count_per_topic),
            compression: Compression::default(),
            security: KafkaSecurity::default(),
            producer_id: DEFAULT_PRODUCER_ID.to_owned(),
            client_config: Vec::new(),
            message_timeout: Duration::from_secs(60),
        }
    }

    /// The librdkafka configuration of the producer.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("client.id", &self.producer_id)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.codec", self.compression.codec())
            // Java-compatible partitioning, as the event files compute it.
            .set("partitioner", "murmur2_random")
            .set("linger.ms", "25")
            .set("batch.num.messages", "100000")
            .set("batch.size", "4000000")
            .set("queue.buffering.max.messages", "2000000")
            .set("queue.buffering.max.kbytes", "2097151")
            .set(
                "message.timeout.ms",
                self.message_timeout.as_millis().max(1).to_string(),
            );
        self.security.apply(&mut c);
        for (k, v) in &self.client_config {
            c.set(k, v);
        }
        c
    }
}

/// Outcome slots: 0 is valid, then [`ReasonCode::ALL`] in order.
const OUTCOMES: usize = 1 + ReasonCode::ALL.len();

fn outcome_slot(expected: Expected) -> usize {
    match expected {
        Expected::Valid => 0,
        Expected::Invalid(r) => 1 + ReasonCode::ALL.iter().position(|x| *x == r).unwrap_or(0),
    }
}

fn outcome_of(slot: usize) -> Expected {
    match slot {
        0 => Expected::Valid,
        n => Expected::Invalid(ReasonCode::ALL[n - 1]),
    }
}

#[derive(Default)]
struct TopicCounters {
    delivered: [AtomicU64; OUTCOMES],
    failed: AtomicU64,
}

/// Counts delivery reports. The delivery tag is `kind * OUTCOMES + outcome`.
#[derive(Default)]
struct Deliveries {
    topics: [TopicCounters; 3],
    errors: Mutex<BTreeMap<String, u64>>,
}

impl Deliveries {
    fn fail(&self, tag: usize, error: &KafkaError) {
        self.topics[tag / OUTCOMES]
            .failed
            .fetch_add(1, Ordering::Relaxed);
        let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
        *errors.entry(error.to_string()).or_default() += 1;
    }

    /// Reports counted so far, acknowledged or failed.
    fn reported(&self) -> u64 {
        let (ok, failed) = self.settled();
        ok + failed
    }

    fn settled(&self) -> (u64, u64) {
        let mut ok = 0;
        let mut failed = 0;
        for t in &self.topics {
            ok += t
                .delivered
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .sum::<u64>();
            failed += t.failed.load(Ordering::Relaxed);
        }
        (ok, failed)
    }
}

struct DeliveryContext(Arc<Deliveries>, Refused);

impl ClientContext for DeliveryContext {
    /// Notes a refusal (credentials, certificate): producing stops at
    /// once with it rather than waiting out every record's timeout.
    fn error(&self, error: KafkaError, reason: &str) {
        if !self.1.note(&error, reason) {
            rdkafka::client::DefaultClientContext.error(error, reason);
        }
    }
}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, tag: usize) {
        match result {
            Ok(_) => {
                self.0.topics[tag / OUTCOMES].delivered[tag % OUTCOMES]
                    .fetch_add(1, Ordering::Relaxed);
            }
            Err((error, _)) => self.0.fail(tag, error),
        }
    }
}

/// Records sent between two servings of the delivery reports. A report
/// event carries a whole acknowledged batch, and batches come back far
/// less often than this many records go out.
const REPORTS_EVERY: u64 = 64;

/// Serves every delivery report librdkafka has ready, without waiting.
fn serve_ready(producer: &BaseProducer<DeliveryContext>, deliveries: &Deliveries) {
    // A zero-timeout poll serves at most one event; go on while they come.
    loop {
        let before = deliveries.reported();
        producer.poll(Duration::ZERO);
        if deliveries.reported() == before {
            break;
        }
    }
}

/// Serves the reports that are ready, then sleeps for `wait`. (A poll with
/// a timeout would serve reports as they come, but it spins through the
/// last, sub-millisecond part of its timeout.)
fn serve_then_sleep(
    producer: &BaseProducer<DeliveryContext>,
    deliveries: &Deliveries,
    wait: Duration,
) {
    serve_ready(producer, deliveries);
    std::thread::sleep(wait);
}

/// Produces `config`'s records and waits for every acknowledgement.
/// Blocking: from async code, call it in `spawn_blocking`.
pub fn produce(config: &ProduceConfig) -> Result<GenerateSummary, GenerateError> {
    produce_with(config, &RunControl::default())
}

/// [`produce`], with a stop flag and a progress bar.
pub fn produce_with(
    config: &ProduceConfig,
    control: &RunControl,
) -> Result<GenerateSummary, GenerateError> {
    config.security.validate()?;
    let mut generator_config = config.generator.clone();
    generator_config.output = Output::Kafka;
    let mut generator = Generator::new(generator_config)?;
    let kinds = generator.config().kinds.clone();
    let topics = generator.config().topics.clone();

    let deliveries = Arc::new(Deliveries::default());
    let refused = Refused::default();
    let producer: BaseProducer<DeliveryContext> = config
        .client_config()
        .create_with_context(DeliveryContext(deliveries.clone(), refused.clone()))
        .map_err(|e| GenerateError::Kafka {
            bootstrap: config.bootstrap.clone(),
            message: format!("cannot create the producer: {e}"),
        })?;
    let headers = record_headers(&config.producer_id).iter().fold(
        OwnedHeaders::new_with_capacity(2),
        |h, (key, value)| {
            h.insert(Header {
                key,
                value: Some(value),
            })
        },
    );

    let started = Instant::now();
    let mut pacer = Pacer::new(&config.schedule, kinds.len());
    // Waiting (for the rate, or for the consumers) is time to serve reports.
    let mut idle = |wait: Duration| serve_then_sleep(&producer, &deliveries, wait);
    let mut sent = 0u64;
    while pacer.next_with(&control.stop, &mut idle) {
        let Some(record) = generator.next() else {
            break;
        };
        let tag = record.kind as usize * OUTCOMES + outcome_slot(record.expected);
        let mut message = BaseRecord::<[u8], [u8], usize>::with_opaque_to(&record.topic, tag)
            .key(&record.key[..])
            .headers(headers.clone());
        if let Some(bytes) = record.value.bytes() {
            message = message.payload(bytes);
        }
        loop {
            match producer.send(message) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    // librdkafka's queue is full: take in the
                    // acknowledgements and let the brokers catch up.
                    message = back;
                    serve_then_sleep(&producer, &deliveries, Duration::from_micros(200));
                }
                Err((error, _)) => {
                    deliveries.fail(tag, &error);
                    break;
                }
            }
        }
        sent += 1;
        if sent.is_multiple_of(REPORTS_EVERY) {
            producer.poll(Duration::ZERO);
            if refused.get().is_some() {
                break;
            }
        }
        if let Some(backlog) = control
            .backlog
            .as_ref()
            .filter(|_| sent.is_multiple_of(256))
        {
            backlog.wait_with(sent, || deliveries.settled().1, &control.stop, &mut idle);
        }
        if sent.is_multiple_of(4096) {
            control.progress.set_position(sent);
            let (_, failed) = deliveries.settled();
            if failed > 0 {
                control.progress.set_message(format!("{failed} failed"));
            }
        }
    }
    control.progress.set_position(sent);

    // Wait for every acknowledgement; past the message timeout librdkafka
    // fails what is left itself. Anything still queued after that, or
    // after the broker refused the credentials or certificate, is purged
    // so its delivery report (an error) is counted too.
    let flush_limit = Instant::now() + config.message_timeout + Duration::from_secs(5);
    let flushed = loop {
        if refused.get().is_some() {
            break false;
        }
        match producer.flush(Duration::from_millis(200)) {
            Ok(()) => break true,
            Err(_) if Instant::now() < flush_limit => {}
            Err(_) => break false,
        }
    };
    if !flushed {
        producer.purge(PurgeConfig::default().queue().inflight());
        let _ = producer.flush(Duration::from_secs(5));
    }
    let elapsed = started.elapsed().as_secs_f64();
    drop(producer);
    if let Some(message) = refused.get() {
        return Err(GenerateError::Kafka {
            bootstrap: config.bootstrap.clone(),
            message,
        });
    }

    let mut summary = GenerateSummary {
        output: "kafka".into(),
        destination: config.bootstrap.clone(),
        seed: config.generator.seed,
        ..GenerateSummary::default()
    };
    for kind in LogKind::ALL {
        let counters = &deliveries.topics[kind as usize];
        let failed = counters.failed.load(Ordering::Relaxed);
        let delivered: Vec<u64> = counters
            .delivered
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        if !kinds.contains(&kind) && failed == 0 && delivered.iter().all(|n| *n == 0) {
            continue;
        }
        let t = summary
            .by_topic
            .entry(topics.get(kind).to_string())
            .or_default();
        for (slot, n) in delivered.iter().enumerate() {
            if *n > 0 {
                match outcome_of(slot) {
                    Expected::Valid => t.valid += n,
                    Expected::Invalid(r) => {
                        *t.invalid.entry(r.as_str().to_owned()).or_default() += n
                    }
                }
                t.produced += n;
            }
        }
        t.failed = failed;
    }
    let (acknowledged, failed) = deliveries.settled();
    // A record with neither an acknowledgement nor an error report would be
    // a lost report; count it as failed rather than let it vanish.
    let unreported = sent.saturating_sub(acknowledged + failed);
    if unreported > 0 {
        *summary
            .delivery_errors
            .entry("no delivery report".to_owned())
            .or_default() += unreported;
        if let Some(t) = summary.by_topic.values_mut().next() {
            t.failed += unreported;
        }
    }
    summary.delivery_errors.extend(
        deliveries
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), *v)),
    );
    summary.finish(elapsed);
    Ok(summary)
}
