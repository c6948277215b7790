//! `logpipe dead-letters redrive`: dead letters back to their topics, or
//! into one AWS Lambda Kafka event file for `logpipe replay`.
//!
//! Idempotence. A record sent back to Kafka gets a new offset, so if it is
//! still bad the functions dead-letter it again under that new offset: a
//! new row. So each dead letter is redriven to Kafka at most once, and
//! what a redrive produced is never redriven by accident:
//!
//! - every record sent is logged in `dead_letter_redrives` (created by the
//!   command, `IF NOT EXISTS`), keyed like `dead_letters` by the original
//!   dead letter, with the partition and offset Kafka gave the copy, once
//!   its delivery report is in;
//! - a dead letter already in that log is skipped (already redriven);
//! - a dead letter at a place (topic, partition, offset) that the log says
//!   a redrive sent is a copy, and is skipped unless `--include-copies`;
//! - each record sent carries the header
//!   `logpipe-redrive-of: topic/partition/offset` of its original.
//!
//! A second redrive of the same selection therefore sends nothing. (Kill
//! the command between a delivery and its log entry and a re-run sends
//! that record again: at least once, as Kafka producers are.)
//!
//! Dead letters whose stored value is not the record's bytes are refused
//! unless asked for: `too_large` (cut to 64 KiB; `--include-truncated`)
//! and `invalid_base64` (the event's text; `--include-undecoded`).
//!
//! `--output FILE` keeps every record's original topic, partition, offset
//! and timestamp: replaying the file rewrites the same `dead_letters` rows
//! (same keys, same write times) and, for records that are good now, log
//! rows keyed by the record itself, so it is idempotent as it is and logs
//! nothing.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use log_generator::{KafkaSecurity, Refused};
use logpipe_core::record::TOO_LARGE_VALUE_BYTES;
use logpipe_core::ReasonCode;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::ClientConfig;
use scylla::client::session::Session;
use scylla::value::{CqlDate, CqlTimestamp};
use serde::Serialize;

use super::scan::{self, Blobs, Letter};
use super::Failure;
use crate::esm::connection::RefusalContext;
use crate::esm::event::{to_payload, EventSource, PolledRecord, TimestampType};

/// The table that logs what was redriven to Kafka.
pub const REDRIVE_TABLE: &str = "dead_letter_redrives";

/// The header a redriven record carries: its original's
/// `topic/partition/offset`.
pub const REDRIVE_HEADER: &str = "logpipe-redrive-of";

/// Dead letters whose key and value are read (and sent) at a time.
const CHUNK: usize = 256;

/// Concurrent reads of keys and values.
const READS_IN_FLIGHT: usize = 16;

/// `bootstrapServers` of a redrive event file.
const FILE_BOOTSTRAP: &str = "logpipe-dead-letters-redrive";

/// Where the dead letters go.
pub enum Destination<'a> {
    Kafka {
        bootstrap: &'a str,
        security: &'a KafkaSecurity,
        kafka_config: &'a [(String, String)],
    },
    File(&'a Path),
}

/// What a redrive did (`--json`).
#[derive(Debug, Default, Serialize)]
pub struct RedriveSummary {
    /// Dead letters the filters selected.
    pub selected: usize,
    /// Sent to Kafka, or written into the file.
    pub sent: usize,
    /// Skipped: redriven to Kafka before.
    pub already_redriven: usize,
    /// Skipped: dead letters a redrive produced (see `--include-copies`).
    pub copies: usize,
    /// Of those sent, `too_large` ones whose value was cut.
    pub truncated: usize,
    /// Selected but not sent (each named on stderr).
    pub not_sent: usize,
    /// `kafka HOST:PORT` or `file PATH`.
    pub destination: String,
}

/// A row of the redrive log: the original's topic, partition, day and
/// offset, and where Kafka put the copy.
type LogRow = (String, i32, CqlDate, i64, Option<i32>, Option<i64>);

/// The redrive log's CQL.
fn create_table_cql(keyspace: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {keyspace}.{REDRIVE_TABLE} (\
           topic text, partition int, day date, offset bigint, \
           redriven_at timestamp, destination text, sent_partition int, sent_offset bigint, \
           PRIMARY KEY ((topic, partition, day), offset))"
    )
}

/// Redrives `selected` (sorted in Kafka order) to `dest`.
pub async fn redrive(
    session: &Session,
    keyspace: &str,
    selected: Vec<Letter>,
    dest: Destination<'_>,
    include_truncated: bool,
    include_undecoded: bool,
    include_copies: bool,
) -> Result<(RedriveSummary, Vec<String>), Failure> {
    let mut summary = RedriveSummary {
        selected: selected.len(),
        ..RedriveSummary::default()
    };
    let mut chosen = selected;
    if let Destination::Kafka { bootstrap, .. } = &dest {
        summary.destination = format!("kafka {bootstrap}");
        let table = format!("{keyspace}.{REDRIVE_TABLE}");
        scan::ddl(session, &table, &create_table_cql(keyspace)).await?;
        let log: Vec<LogRow> = scan::read_all(
            session,
            &table,
            format!(
                "SELECT topic, partition, day, offset, sent_partition, sent_offset FROM {table}"
            ),
        )
        .await?;
        let redriven: HashSet<(String, i32, u32, i64)> = log
            .iter()
            .map(|(t, p, d, o, _, _)| (t.clone(), *p, d.0, *o))
            .collect();
        let copies: HashSet<(String, i32, i64)> = log
            .iter()
            .filter_map(|(t, _, _, _, p, o)| Some((t.clone(), (*p)?, (*o)?)))
            .collect();
        chosen.retain(|l| {
            if redriven.contains(&(l.topic.clone(), l.partition, l.day.0, l.offset)) {
                summary.already_redriven += 1;
                false
            } else if !include_copies && copies.contains(&(l.topic.clone(), l.partition, l.offset))
            {
                summary.copies += 1;
                false
            } else {
                true
            }
        });
    }
    if let Destination::File(path) = &dest {
        summary.destination = format!("file {}", path.display());
    }
    let too_large = ReasonCode::TooLarge.as_str();
    let truncated = chosen.iter().filter(|l| l.reason == too_large).count();
    if truncated > 0 && !include_truncated {
        return Err(Failure::Incomplete(format!(
            "{truncated} of the selected dead letters are too_large: only the first \
             {TOO_LARGE_VALUE_BYTES} bytes of their value were kept, so redriving them would send \
             a cut value. Nothing was sent. Leave them out (--reason names the reasons to redrive) \
             or pass --include-truncated to send the cut values"
        )));
    }
    summary.truncated = truncated;
    let invalid_base64 = ReasonCode::InvalidBase64.as_str();
    let undecoded = chosen.iter().filter(|l| l.reason == invalid_base64).count();
    if undecoded > 0 && !include_undecoded {
        return Err(Failure::Incomplete(format!(
            "{undecoded} of the selected dead letters are invalid_base64: their value is the \
             event's text, which was not base64, not the record's bytes, so redriving them would \
             send that text as the value. Nothing was sent. Leave them out (--reason names the \
             reasons to redrive) or pass --include-undecoded to send the text"
        )));
    }
    let failures = match dest {
        Destination::File(path) => {
            to_file(session, keyspace, &chosen, path).await?;
            summary.sent = chosen.len();
            Vec::new()
        }
        Destination::Kafka {
            bootstrap,
            security,
            kafka_config,
        } => {
            let sender = Sender::connect(bootstrap, security, kafka_config, &chosen)?;
            let (sent, failures) = sender.send_all(session, keyspace, &chosen).await?;
            summary.sent = sent;
            failures
        }
    };
    summary.not_sent = failures.len();
    Ok((summary, failures))
}

/// Reads the keys and values of `letters`, in order, [`READS_IN_FLIGHT`] at
/// a time; a dead letter gone since the scan comes back `None`.
async fn read_blobs(
    session: &Session,
    prepared: &scylla::statement::prepared::PreparedStatement,
    keyspace: &str,
    letters: &[Letter],
) -> Result<Vec<Option<Blobs>>, Failure> {
    stream::iter(letters)
        .map(|l| scan::blobs(session, prepared, keyspace, l))
        .buffered(READS_IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// The header value naming `l`'s place.
fn redrive_of(l: &Letter) -> String {
    l.place()
}

/// Writes `letters` as one event (original places and timestamps) to `path`.
async fn to_file(
    session: &Session,
    keyspace: &str,
    letters: &[Letter],
    path: &Path,
) -> Result<(), Failure> {
    let prepared = scan::prepare_blobs(session, keyspace).await?;
    let mut records: Vec<PolledRecord> = Vec::with_capacity(letters.len());
    let mut topics: BTreeMap<&str, Arc<str>> = BTreeMap::new();
    for chunk in letters.chunks(CHUNK) {
        let blobs = read_blobs(session, &prepared, keyspace, chunk).await?;
        for (l, b) in chunk.iter().zip(blobs) {
            let Some(b) = b else {
                return Err(Failure::Incomplete(format!(
                    "dead letter {} is no longer in {keyspace}.dead_letters; nothing written",
                    l.place()
                )));
            };
            let topic = topics
                .entry(&l.topic)
                .or_insert_with(|| Arc::from(l.topic.as_str()))
                .clone();
            records.push(PolledRecord {
                topic,
                partition: l.partition,
                offset: l.offset,
                timestamp_ms: l.record_timestamp.unwrap_or(-1),
                timestamp_type: if l.record_timestamp.is_some() {
                    TimestampType::CreateTime
                } else {
                    TimestampType::NoTimestamp
                },
                key: b.key,
                value: b.value,
                headers: vec![(REDRIVE_HEADER.to_owned(), Some(redrive_of(l).into_bytes()))],
            });
        }
    }
    let payload = to_payload(&EventSource::self_managed(FILE_BOOTSTRAP), &records);
    std::fs::write(path, payload).map_err(|e| {
        Failure::Incomplete(format!(
            "cannot write {}: {e}; nothing written",
            path.display()
        ))
    })
}

/// A producer to the brokers, checked to reach them and to have every
/// topic and partition a redrive sends to.
struct Sender {
    producer: FutureProducer<RefusalContext>,
    refused: Refused,
    bootstrap: String,
}

impl Sender {
    fn connect(
        bootstrap: &str,
        security: &KafkaSecurity,
        kafka_config: &[(String, String)],
        letters: &[Letter],
    ) -> Result<Sender, Failure> {
        security
            .validate()
            .map_err(|e| Failure::Usage(e.to_string()))?;
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", bootstrap)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("message.timeout.ms", "30000")
            // The check below must not create a missing topic.
            .set("allow.auto.create.topics", "false");
        security.apply(&mut config);
        for (k, v) in kafka_config {
            config.set(k, v);
        }
        let refused = Refused::default();
        let producer: FutureProducer<RefusalContext> = config
            .create_with_context(RefusalContext(refused.clone()))
            .map_err(|e| Failure::Usage(format!("Kafka client configuration: {e}")))?;
        let sender = Sender {
            producer,
            refused,
            bootstrap: bootstrap.to_owned(),
        };
        let mut wanted: BTreeMap<&str, i32> = BTreeMap::new();
        for l in letters {
            let p = wanted.entry(&l.topic).or_insert(0);
            *p = (*p).max(l.partition);
        }
        for (topic, max_partition) in wanted {
            let metadata = tokio::task::block_in_place(|| {
                sender
                    .producer
                    .client()
                    .fetch_metadata(Some(topic), Duration::from_secs(10))
            })
            .map_err(|e| {
                let why = sender.refused.get().unwrap_or_else(|| e.to_string());
                Failure::Storage(scan::one_line(&format!(
                    "cannot reach Kafka at {bootstrap}: {why}; nothing sent"
                )))
            })?;
            let t = metadata.topics().iter().find(|t| t.name() == topic);
            let partitions = t
                .filter(|t| t.error().is_none())
                .map_or(0, |t| t.partitions().len());
            if partitions == 0 {
                return Err(Failure::Incomplete(format!(
                    "topic {topic} does not exist at {bootstrap}; nothing sent"
                )));
            }
            if max_partition as usize >= partitions {
                return Err(Failure::Incomplete(format!(
                    "topic {topic} at {bootstrap} has {partitions} partition(s), and a dead letter \
                     to redrive is of partition {max_partition}; nothing sent"
                )));
            }
        }
        Ok(sender)
    }

    /// Sends `letters` (in Kafka order), chunk by chunk: reads the chunk's
    /// keys and values, sends them to their original partitions, waits for
    /// every delivery report, and logs each delivered one. Returns how many
    /// were sent and a line for each that was not.
    async fn send_all(
        &self,
        session: &Session,
        keyspace: &str,
        letters: &[Letter],
    ) -> Result<(usize, Vec<String>), Failure> {
        let table = format!("{keyspace}.{REDRIVE_TABLE}");
        let insert = scan::prepare_write(
            session,
            &table,
            format!(
                "INSERT INTO {table} (topic, partition, day, offset, redriven_at, destination, \
                 sent_partition, sent_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            ),
        )
        .await?;
        let blobs_cql = scan::prepare_blobs(session, keyspace).await?;
        let destination = format!("kafka {}", self.bootstrap);
        let bar = ProgressBar::new(letters.len() as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30} {pos}/{len} dead letters redriven ({elapsed})")
        {
            bar.set_style(style);
        }
        let mut sent = 0;
        let mut failures = Vec::new();
        for chunk in letters.chunks(CHUNK) {
            let blobs = read_blobs(session, &blobs_cql, keyspace, chunk).await?;
            let mut pending = Vec::new();
            for (l, b) in chunk.iter().zip(blobs) {
                let Some(b) = b else {
                    failures.push(format!(
                        "{}: no longer in {keyspace}.dead_letters",
                        l.place()
                    ));
                    continue;
                };
                match self.enqueue(l, &b).await {
                    Ok(delivery) => pending.push((l, delivery)),
                    Err(e) => failures.push(format!("{}: {e}", l.place())),
                }
            }
            let mut delivered = Vec::new();
            for (l, delivery) in pending {
                match delivery.await {
                    Ok(Ok(d)) => delivered.push((l, d.partition, d.offset)),
                    Ok(Err((e, _))) => failures.push(format!("{}: {}", l.place(), self.why(&e))),
                    Err(_) => failures.push(format!("{}: the producer stopped", l.place())),
                }
            }
            let now = CqlTimestamp(chrono::Utc::now().timestamp_millis());
            let logged: Vec<Result<_, Failure>> = stream::iter(&delivered)
                .map(|(l, p, o)| {
                    let values = (
                        &l.topic,
                        l.partition,
                        l.day,
                        l.offset,
                        now,
                        &destination,
                        *p,
                        *o,
                    );
                    let insert = &insert;
                    async move {
                        session.execute_unpaged(insert, values).await.map_err(|e| {
                            Failure::Storage(scan::one_line(&format!(
                                "{} was sent to Kafka (partition {p}, offset {o}) but cannot be \
                                 logged in {keyspace}.{REDRIVE_TABLE}, so a later redrive would \
                                 send it again: {e}",
                                l.place()
                            )))
                        })
                    }
                })
                .buffer_unordered(READS_IN_FLIGHT)
                .collect()
                .await;
            logged.into_iter().collect::<Result<Vec<_>, Failure>>()?;
            sent += delivered.len();
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        Ok((sent, failures))
    }

    /// Hands one record to the producer (waiting while its queue is full).
    async fn enqueue(
        &self,
        l: &Letter,
        b: &Blobs,
    ) -> Result<rdkafka::producer::DeliveryFuture, String> {
        let header = redrive_of(l);
        loop {
            let mut record = FutureRecord::<[u8], [u8]>::to(&l.topic)
                .partition(l.partition)
                .headers(OwnedHeaders::new().insert(Header {
                    key: REDRIVE_HEADER,
                    value: Some(header.as_bytes()),
                }));
            if let Some(k) = &b.key {
                record = record.key(k.as_slice());
            }
            if let Some(v) = &b.value {
                record = record.payload(v.as_slice());
            }
            if let Some(ts) = l.record_timestamp {
                record = record.timestamp(ts);
            }
            match self.producer.send_result(record) {
                Ok(delivery) => return Ok(delivery),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err((e, _)) => return Err(self.why(&e)),
            }
        }
    }

    /// A delivery error, or the brokers' refusal of the credentials behind it.
    fn why(&self, e: &KafkaError) -> String {
        self.refused.get().unwrap_or_else(|| e.to_string())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        // Every delivery was awaited; nothing is left in flight.
        let _ = self.producer.flush(Duration::from_secs(1));
    }
}
