//! AWS Lambda Kafka event files: what an event source mapping would hand
//! each function, written to a directory instead of produced to Kafka.
//!
//! Each file is one event for one function (one topic), both variants
//! (`aws:kafka` for MSK, `SelfManagedKafka`), written by the project's one
//! event encoder (`logpipe_contract::event`). Records are keyed
//! `"<topic>-<partition>"`; the partition is the one Kafka's default
//! partitioner gives the key ([`partition_for_key`]), offsets rise per
//! partition, and a batch ends at the batch size or where one more record
//! would take the payload past AWS's 6 MB invocation limit (counted to the
//! byte before anything is written). Beside the
//! events, `expected.json` ([`Manifest`]) says what the pipeline must make of
//! them, in the words `logpipe replay --json` reports.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use logpipe_contract::event::{
    encode, EventRecord, EventSource, Field, PayloadSizer, TimestampType,
};
use logpipe_contract::topics::LogKind;
use serde::{Deserialize, Serialize};

use crate::generator::{Expected, GeneratedRecord, Generator, RecordValue};
use crate::schedule::{Pacer, RunControl, Schedule};
use crate::summary::GenerateSummary;
use crate::GenerateError;

pub use logpipe_contract::event::{EventVariant, DEFAULT_CLUSTER_ARN, MAX_EVENT_BYTES};

/// How to write event files.
#[derive(Debug, Clone)]
pub struct EventsConfig {
    /// Where the files go (created if absent).
    pub dir: PathBuf,
    /// Most records in one event, 1..=10,000 (AWS's range).
    pub batch_size: usize,
    /// MSK or self-managed.
    pub variant: EventVariant,
    /// Partitions per topic the keys are spread over.
    pub partitions: u32,
    /// `eventSourceArn` (MSK only); [`DEFAULT_CLUSTER_ARN`] when `None`.
    pub cluster_arn: Option<String>,
    /// `bootstrapServers`; a plausible default per variant when `None`.
    pub bootstrap_servers: Option<String>,
    /// The `producer-id` header of every record.
    pub producer_id: String,
    /// Indent the JSON for a person to read.
    pub pretty: bool,
}

impl EventsConfig {
    /// Defaults for everything but the directory.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        EventsConfig {
            dir: dir.into(),
            batch_size: 100,
            variant: EventVariant::Msk,
            partitions: 3,
            cluster_arn: None,
            bootstrap_servers: None,
            producer_id: crate::DEFAULT_PRODUCER_ID.to_owned(),
            pretty: false,
        }
    }

    fn validate(&self) -> Result<(), GenerateError> {
        if !(1..=10_000).contains(&self.batch_size) {
            return Err(GenerateError::Config(format!(
                "batch size {} is outside 1..=10000",
                self.batch_size
            )));
        }
        if self.partitions == 0 {
            return Err(GenerateError::Config(
                "partitions must be at least 1".into(),
            ));
        }
        Ok(())
    }

    fn bootstrap(&self) -> String {
        self.bootstrap_servers
            .clone()
            .unwrap_or_else(|| match self.variant {
                EventVariant::Msk => "b-1.logpipe.a1b2c3.c3.kafka.us-east-1.amazonaws.com:9098,\
                                  b-2.logpipe.a1b2c3.c3.kafka.us-east-1.amazonaws.com:9098,\
                                  b-3.logpipe.a1b2c3.c3.kafka.us-east-1.amazonaws.com:9098"
                    .to_owned(),
                EventVariant::SelfManaged => {
                    "kafka-1.internal:9092,kafka-2.internal:9092,kafka-3.internal:9092".to_owned()
                }
            })
    }
}

/// Expected outcome counts, in `logpipe replay --json`'s words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedCounts {
    /// Records.
    pub records: u64,
    /// Records that must be stored as log rows.
    pub written: u64,
    /// Records that must be dead-lettered.
    pub dead_lettered: u64,
    /// Dead letters by reason code.
    pub dead_letter_reasons: BTreeMap<String, u64>,
}

impl ExpectedCounts {
    fn count(&mut self, expected: Expected) {
        self.records += 1;
        match expected {
            Expected::Valid => self.written += 1,
            Expected::Invalid(reason) => {
                self.dead_lettered += 1;
                *self
                    .dead_letter_reasons
                    .entry(reason.as_str().to_owned())
                    .or_default() += 1;
            }
        }
    }
}

/// One event file and what its function must make of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// File name inside the directory.
    pub file: String,
    /// The function the event is for.
    pub function: String,
    /// The topic the event source mapping reads.
    pub topic: String,
    /// What the function must return for it.
    #[serde(flatten)]
    pub expected: ExpectedCounts,
}

/// `expected.json`: what the pipeline must make of a directory of events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Event files.
    pub events: u64,
    /// Totals.
    #[serde(flatten)]
    pub totals: ExpectedCounts,
    /// By the topic each record carries.
    pub by_topic: BTreeMap<String, ExpectedCounts>,
    /// The event files, in the order written.
    pub files: Vec<ManifestFile>,
    /// The generator seed.
    pub seed: u64,
    /// `msk` or `self-managed`.
    pub variant: String,
    /// Most records in one event.
    pub batch_size: usize,
    /// Partitions per topic.
    pub partitions: u32,
    /// The fraction of bad records asked for.
    pub invalid_ratio: f64,
}

impl Manifest {
    /// The manifest's file name.
    pub const FILE_NAME: &'static str = "expected.json";

    /// Reads `dir/expected.json`.
    pub fn read(dir: &Path) -> Result<Manifest, GenerateError> {
        let path = dir.join(Manifest::FILE_NAME);
        let text = fs::read(&path).map_err(|source| GenerateError::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&text)
            .map_err(|e| GenerateError::Config(format!("{}: {e}", path.display())))
    }
}

/// Kafka's default partitioner (Java client, and librdkafka's
/// `murmur2_random`): `murmur2(key) & 0x7fffffff % partitions`.
pub fn partition_for_key(key: &[u8], partitions: u32) -> i32 {
    ((murmur2(key) & 0x7fff_ffff) % partitions.max(1)) as i32
}

/// Kafka's murmur2 (seed `0x9747b28c`), as its Java client computes it.
pub fn murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h: u32 = 0x9747_b28c ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h
}

/// The headers every generated record carries, as (key, value) pairs.
pub fn record_headers(producer_id: &str) -> [(&'static str, Vec<u8>); 2] {
    [
        ("content-type", b"application/json".to_vec()),
        ("producer-id", producer_id.as_bytes().to_vec()),
    ]
}

/// A record with its place in the topic: the partition its key hashes to,
/// and the next offset there.
struct Placed {
    record: GeneratedRecord,
    partition: i32,
    offset: i64,
}

/// A [`Placed`] record as the event encoder reads it.
struct View<'a> {
    placed: &'a Placed,
    headers: &'a [(&'static str, Vec<u8>)],
}

impl EventRecord for View<'_> {
    fn topic(&self) -> &str {
        &self.placed.record.topic
    }
    fn partition(&self) -> i32 {
        self.placed.partition
    }
    fn offset(&self) -> i64 {
        self.placed.offset
    }
    fn timestamp_ms(&self) -> i64 {
        self.placed.record.timestamp_ms
    }
    fn timestamp_type(&self) -> TimestampType {
        TimestampType::CreateTime
    }
    fn key(&self) -> Field<'_> {
        Field::Bytes(&self.placed.record.key)
    }
    fn value(&self) -> Field<'_> {
        match &self.placed.record.value {
            RecordValue::Null => Field::Null,
            RecordValue::Bytes(b) => Field::Bytes(b),
            RecordValue::NotBase64(s) => Field::Verbatim(s),
        }
    }
    fn for_each_header(&self, f: &mut dyn FnMut(&str, &[u8])) {
        for (name, value) in self.headers {
            f(name, value);
        }
    }
}

struct PendingBatch {
    records: Vec<Placed>,
    size: PayloadSizer,
}

/// Writes event files for `schedule`'s records into `config.dir`, then
/// `expected.json`. Stops early (and still writes what it has) when
/// `control.stop` is set.
pub fn write_events(
    generator: &mut Generator,
    schedule: &Schedule,
    config: &EventsConfig,
    control: &RunControl,
) -> Result<GenerateSummary, GenerateError> {
    config.validate()?;
    fs::create_dir_all(&config.dir).map_err(|source| GenerateError::Io {
        path: config.dir.clone(),
        source,
    })?;
    let started = Instant::now();
    let source = EventSource {
        variant: config.variant,
        event_source_arn: config
            .cluster_arn
            .clone()
            .unwrap_or_else(|| DEFAULT_CLUSTER_ARN.to_owned()),
        bootstrap_servers: config.bootstrap(),
    };
    let headers = record_headers(&config.producer_id);
    let mut writer = EventWriter {
        config,
        source,
        offsets: BTreeMap::new(),
        sequence: BTreeMap::new(),
        manifest: Manifest {
            seed: generator.config().seed,
            variant: config.variant.name().to_owned(),
            batch_size: config.batch_size,
            partitions: config.partitions,
            invalid_ratio: generator.config().invalid_ratio,
            ..Manifest::default()
        },
    };
    let mut pending: BTreeMap<LogKind, PendingBatch> = BTreeMap::new();
    let mut pacer = Pacer::new(schedule, generator.config().kinds.len());
    let mut written = 0u64;
    while pacer.next(&control.stop) {
        let Some(record) = generator.next() else {
            break;
        };
        let kind = record.kind;
        let placed = writer.place(record);
        let view = View {
            placed: &placed,
            headers: &headers,
        };
        let batch = pending.entry(kind).or_insert_with(|| PendingBatch {
            records: Vec::new(),
            size: PayloadSizer::new(&writer.source),
        });
        if !batch.records.is_empty() && batch.size.with(&view) > MAX_EVENT_BYTES {
            let full = std::mem::take(&mut batch.records);
            batch.size = PayloadSizer::new(&writer.source);
            writer.write(kind, generator, &headers, full)?;
        }
        batch.size.add(&view);
        batch.records.push(placed);
        if batch.records.len() >= config.batch_size {
            let full = std::mem::take(&mut batch.records);
            batch.size = PayloadSizer::new(&writer.source);
            writer.write(kind, generator, &headers, full)?;
        }
        written += 1;
        if written.is_multiple_of(1024) {
            control.progress.set_position(written);
        }
    }
    for (kind, batch) in pending {
        if !batch.records.is_empty() {
            writer.write(kind, generator, &headers, batch.records)?;
        }
    }
    control.progress.set_position(written);
    let manifest = writer.manifest;
    let path = config.dir.join(Manifest::FILE_NAME);
    let text = serde_json::to_vec_pretty(&manifest).expect("the manifest serializes");
    fs::write(&path, text).map_err(|source| GenerateError::Io { path, source })?;

    let mut summary = GenerateSummary {
        output: "events".into(),
        destination: config.dir.display().to_string(),
        seed: manifest.seed,
        event_files: Some(manifest.events),
        ..GenerateSummary::default()
    };
    for (topic, counts) in &manifest.by_topic {
        let t = summary.by_topic.entry(topic.clone()).or_default();
        t.produced = counts.records;
        t.valid = counts.written;
        t.invalid = counts.dead_letter_reasons.clone();
    }
    summary.finish(started.elapsed().as_secs_f64());
    Ok(summary)
}

/// About how many bytes a record adds to an event.
struct EventWriter<'a> {
    config: &'a EventsConfig,
    source: EventSource,
    offsets: BTreeMap<(String, i32), i64>,
    sequence: BTreeMap<LogKind, u64>,
    manifest: Manifest,
}

impl EventWriter<'_> {
    /// Gives `record` its partition (as Kafka's default partitioner would)
    /// and the next offset there.
    fn place(&mut self, record: GeneratedRecord) -> Placed {
        let partition = partition_for_key(&record.key, self.config.partitions);
        let next = self
            .offsets
            .entry((record.topic.to_string(), partition))
            .or_default();
        let offset = *next;
        *next += 1;
        Placed {
            record,
            partition,
            offset,
        }
    }

    fn write(
        &mut self,
        kind: LogKind,
        generator: &Generator,
        headers: &[(&'static str, Vec<u8>)],
        records: Vec<Placed>,
    ) -> Result<(), GenerateError> {
        let topic = generator.config().topics.get(kind).to_string();
        let seq = self.sequence.entry(kind).or_default();
        *seq += 1;
        let file = format!("{topic}-{seq:06}.json");
        let mut entry = ManifestFile {
            file: file.clone(),
            function: kind.function_name().to_owned(),
            topic: topic.clone(),
            expected: ExpectedCounts::default(),
        };

        for placed in &records {
            let expected = placed.record.expected;
            entry.expected.count(expected);
            self.manifest.totals.count(expected);
            self.manifest
                .by_topic
                .entry(placed.record.topic.to_string())
                .or_default()
                .count(expected);
        }
        let views: Vec<View<'_>> = records
            .iter()
            .map(|placed| View { placed, headers })
            .collect();
        let mut bytes = encode(&self.source, &views);
        if self.config.pretty {
            let json: serde_json::Value =
                serde_json::from_slice(&bytes).expect("the encoder writes JSON");
            bytes = serde_json::to_vec_pretty(&json).expect("a JSON value serializes");
        }
        let path = self.config.dir.join(&file);
        fs::write(&path, bytes).map_err(|source| GenerateError::Io { path, source })?;
        self.manifest.events += 1;
        self.manifest.files.push(entry);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur2_matches_kafka() {
        // Kafka's own test vectors (UtilsTest.testMurmur2).
        let cases: &[(&[u8], i32)] = &[
            (b"21", -973_932_308),
            (b"foobar", -790_332_482),
            (b"a-little-bit-long-string", -985_981_536),
            (b"a-little-bit-longer-string", -1_486_304_829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            (b"abc", 479_470_107),
        ];
        for (input, expected) in cases {
            assert_eq!(
                murmur2(input) as i32,
                *expected,
                "{}",
                String::from_utf8_lossy(input)
            );
        }
    }
}
