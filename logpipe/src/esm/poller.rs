//! One event source mapping: a consumer-group poller for one topic that
//! gathers batches, invokes the function, and commits offsets only once
//! every record of the batch is resolved (acknowledged by the function, or
//! handed to the on-failure destination).
//!
//! A batch closes at `batch_size` records or when the batching window
//! (counted from its first record) ends. It is cut into invocations of at
//! most 6 MB; a failed invocation is retried, bisected or given up on as
//! [`RetryPolicy`] decides. Offsets are committed by hand
//! (`enable.auto.commit=false`): the committed offset of a partition is one
//! past the last record of the last resolved batch, so a crash at any point
//! redelivers everything not yet resolved, and nothing is acknowledged
//! early. A commit the broker refuses is kept and made again (see
//! [`UncommittedOffsets`]). Stopping (Ctrl-C) abandons the batch in flight without committing
//! it: its records come again on the next start.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use log_generator::Refused;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, ClientContext, Message, Offset, Timestamp, TopicPartitionList};
use tokio::sync::watch;

use super::commit::{
    close, next_offsets, offset_ranges, Committer, UncommittedOffsets, Wait, COMMIT_BACKOFF,
    FINAL_COMMIT_ATTEMPTS, SETTLE_WAIT,
};
use super::connection::RefusalContext;
use super::destination::{FailedBatch, FailureDestination, InvocationRecord, ResponseContext};
use super::event::{split_by_payload, to_payload, EventSource};
use super::event::{PolledRecord, TimestampType};
use super::invoke::Invoker;
use super::retry::{bisect, Condition, Decision, RetryPolicy};
use super::stats::MappingStats;
use crate::lock;

/// Where a consumer group with no committed offset starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartingPosition {
    /// New records only.
    Latest,
    /// The oldest record still in the topic.
    TrimHorizon,
    /// The first record of each partition stamped at or after this time
    /// (epoch milliseconds).
    AtTimestamp(i64),
}

/// One mapping: topic → function.
#[derive(Debug, Clone)]
pub struct MappingConfig {
    pub topic: String,
    /// The function's name (progress lines, destination folder).
    pub function_name: String,
    pub group_id: String,
    /// 1..=10000.
    pub batch_size: usize,
    pub batching_window: Duration,
    pub starting_position: StartingPosition,
    /// Where partitions without a committed offset start, overriding the
    /// starting position (the demo starts a fresh group at the offsets the
    /// topics had before it produced).
    pub start_offsets: Option<BTreeMap<i32, i64>>,
    pub source: EventSource,
    pub retry: RetryPolicy,
    pub payload_limit: usize,
    /// Stop once no record arrived for this long (after partitions were
    /// assigned); `None` runs until stopped.
    pub idle_exit: Option<Duration>,
    /// Print a line a batch on stderr.
    pub print_batches: bool,
}

/// The librdkafka consumer settings of a mapping, before `--kafka-config`.
pub fn consumer_settings(config: &MappingConfig, c: &mut ClientConfig) {
    let reset = match config.starting_position {
        StartingPosition::Latest => "latest",
        StartingPosition::TrimHorizon | StartingPosition::AtTimestamp(_) => "earliest",
    };
    c.set("group.id", &config.group_id)
        .set("client.id", format!("logpipe-esm-{}", config.function_name))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", reset)
        .set("enable.partition.eof", "false")
        .set("fetch.wait.max.ms", "100")
        // A batch may be retried for a long time without polling.
        .set("max.poll.interval.ms", "3600000");
}

/// Places partitions that have no committed offset (see [`StartingPosition`]),
/// and knows when the consumer got its partitions.
pub(super) struct MappingContext {
    topic: String,
    at_timestamp: Option<i64>,
    start_offsets: Option<BTreeMap<i32, i64>>,
    /// Partition → time before which records are skipped (AT_TIMESTAMP),
    /// until the first record at or after it.
    skip_before: Arc<Mutex<HashMap<i32, i64>>>,
    stats: Arc<MappingStats>,
    owed: Arc<Mutex<UncommittedOffsets>>,
    refused: Refused,
}

impl ClientContext for MappingContext {
    /// Notes a refusal of the credentials or of the broker's certificate:
    /// the mapping stops with it (librdkafka would retry for ever).
    fn error(&self, error: KafkaError, reason: &str) {
        RefusalContext(self.refused.clone()).error(error, reason);
    }
}

impl ConsumerContext for MappingContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                if self.at_timestamp.is_some() || self.start_offsets.is_some() {
                    self.place_fresh_partitions(consumer, tpl);
                }
                if let Err(e) = consumer.assign(tpl) {
                    tracing::error!(topic = %self.topic, error = %e, "cannot take the assigned partitions");
                }
                self.stats.assigned.store(true, Ordering::Relaxed);
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                self.stats.assigned.store(false, Ordering::Relaxed);
                let revoked = tpl.elements_for_topic(&self.topic);
                lock(&self.owed).revoked(revoked.iter().map(|e| e.partition()));
                if let Err(e) = consumer.unassign() {
                    tracing::warn!(topic = %self.topic, error = %e, "cannot give the partitions back");
                }
            }
            other => {
                tracing::warn!(topic = %self.topic, error = ?other, "rebalance failed");
                lock(&self.owed).offsets.clear();
                let _ = consumer.unassign();
            }
        }
    }
}

impl MappingContext {
    fn place_fresh_partitions(&self, consumer: &BaseConsumer<Self>, tpl: &mut TopicPartitionList) {
        let partitions: Vec<i32> = tpl
            .elements_for_topic(&self.topic)
            .iter()
            .map(|e| e.partition())
            .collect();
        let fresh: Vec<i32> = match consumer
            .committed_offsets(tpl.clone(), Timeout::After(Duration::from_secs(10)))
        {
            Ok(committed) => committed
                .elements_for_topic(&self.topic)
                .iter()
                .filter(|e| !matches!(e.offset(), Offset::Offset(_)))
                .map(|e| e.partition())
                .collect(),
            Err(e) => {
                tracing::warn!(topic = %self.topic, error = %e,
                        "cannot read committed offsets; placing every partition by the starting position");
                partitions
            }
        };
        let mut skip = lock(&self.skip_before);
        for p in fresh {
            let offset = if let Some(offsets) = &self.start_offsets {
                Offset::Offset(offsets.get(&p).copied().unwrap_or(0))
            } else if let Some(ts) = self.at_timestamp {
                skip.insert(p, ts);
                Offset::Beginning
            } else {
                continue;
            };
            if let Err(e) = tpl.set_partition_offset(&self.topic, p, offset) {
                tracing::warn!(topic = %self.topic, partition = p, error = %e, "cannot place partition");
            }
        }
    }
}

/// How a batch ended.
enum BatchEnd {
    /// Every record acknowledged or given up on: commit past it.
    Resolved(BatchReport),
    /// Stopped before the batch was resolved: do not commit.
    Abandoned,
}

/// What one batch did, for its progress line.
#[derive(Debug, Default)]
struct BatchReport {
    written: u64,
    dead_lettered: u64,
    acknowledged: u64,
    discarded: u64,
    latency_ms: f64,
}

enum Gathered {
    Batch {
        records: Vec<PolledRecord>,
        /// Partition → next offset past records skipped (AT_TIMESTAMP).
        skipped: BTreeMap<i32, i64>,
    },
    Stop,
    /// The broker refused the credentials or its certificate failed
    /// verification: retrying cannot help.
    Refused(String),
}

/// A running mapping.
pub struct Mapping {
    config: MappingConfig,
    invoker: Arc<Invoker>,
    destination: Option<FailureDestination>,
    stats: Arc<MappingStats>,
    topic: Arc<str>,
    skip_before: Arc<Mutex<HashMap<i32, i64>>>,
    owed: Arc<Mutex<UncommittedOffsets>>,
    refused: Refused,
}

impl Mapping {
    /// A mapping invoking `invoker`, counting into `stats`.
    pub fn new(
        config: MappingConfig,
        invoker: Arc<Invoker>,
        destination: Option<FailureDestination>,
        stats: Arc<MappingStats>,
    ) -> Self {
        let topic: Arc<str> = Arc::from(config.topic.as_str());
        let mut config = config;
        config.retry = config.retry.with_destination(destination.is_some());
        Mapping {
            config,
            invoker,
            destination,
            stats,
            topic,
            skip_before: Arc::default(),
            owed: Arc::default(),
            refused: Refused::default(),
        }
    }

    /// Polls and invokes until `shutdown` turns true (or, with an idle
    /// exit, until the topic stays quiet).
    pub async fn run(
        self,
        kafka: ClientConfig,
        mut shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let context = MappingContext {
            topic: self.config.topic.clone(),
            at_timestamp: match self.config.starting_position {
                StartingPosition::AtTimestamp(ts) => Some(ts),
                _ => None,
            },
            start_offsets: self.config.start_offsets.clone(),
            skip_before: self.skip_before.clone(),
            stats: self.stats.clone(),
            owed: self.owed.clone(),
            refused: self.refused.clone(),
        };
        let consumer: Arc<StreamConsumer<MappingContext>> = Arc::new(
            kafka
                .create_with_context(context)
                .with_context(|| format!("creating the consumer of {}", self.config.topic))?,
        );
        consumer
            .subscribe(&[&self.config.topic])
            .with_context(|| format!("subscribing to {}", self.config.topic))?;
        let committer = Committer::start(consumer.clone(), &self.config.topic)?;
        loop {
            match self.gather(&consumer, &committer, &mut shutdown).await {
                Gathered::Stop => break,
                Gathered::Refused(refusal) => {
                    // Nothing was consumed since: nothing to commit.
                    drop(committer);
                    close(consumer).await;
                    anyhow::bail!("{refusal}");
                }
                Gathered::Batch { records, skipped } => {
                    if records.is_empty() {
                        let next = next_offsets(&records, &skipped);
                        self.commit(&committer, &next, Wait::UntilStop(&mut shutdown))
                            .await;
                        continue;
                    }
                    let started = Instant::now();
                    match self.process(&records, &mut shutdown).await? {
                        BatchEnd::Abandoned => {
                            tracing::info!(topic = %self.topic, records = records.len(),
                                "stopping: the batch in flight is not committed and will come again");
                            break;
                        }
                        BatchEnd::Resolved(report) => {
                            let next = next_offsets(&records, &skipped);
                            self.commit(&committer, &next, Wait::UntilStop(&mut shutdown))
                                .await;
                            MappingStats::add(&self.stats.batches, 1);
                            if self.config.print_batches {
                                eprintln!(
                                    "{}",
                                    self.batch_line(&records, &report, started.elapsed())
                                );
                            }
                        }
                    }
                }
            }
        }
        self.settle(&committer).await;
        drop(committer);
        // Leave the group now rather than at the session timeout.
        close(consumer).await;
        Ok(())
    }

    fn stop_requested(shutdown: &watch::Receiver<bool>) -> bool {
        *shutdown.borrow() || shutdown.has_changed().is_err()
    }

    /// Waits for a batch: the first record, then more until the batch is
    /// full or the batching window ends.
    async fn gather(
        &self,
        consumer: &StreamConsumer<MappingContext>,
        committer: &Committer,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Gathered {
        let mut records = Vec::new();
        let mut skipped = BTreeMap::new();
        let mut quiet_since = Instant::now();
        let mut was_assigned = self.stats.assigned.load(Ordering::Relaxed);
        // The first record.
        loop {
            if Self::stop_requested(shutdown) {
                return Gathered::Stop;
            }
            if let Some(refusal) = self.refused.get() {
                return Gathered::Refused(refusal);
            }
            let polled = tokio::select! {
                biased;
                _ = shutdown.changed() => return Gathered::Stop,
                m = consumer.recv() => Some(m),
                _ = tokio::time::sleep(Duration::from_millis(200)) => None,
            };
            match polled {
                Some(m) => {
                    if self.take(m, &mut records, &mut skipped) {
                        break;
                    }
                    quiet_since = Instant::now();
                }
                None => {
                    if lock(&self.owed).due(COMMIT_BACKOFF) {
                        self.commit(committer, &BTreeMap::new(), Wait::UntilStop(shutdown))
                            .await;
                    }
                    let assigned = self.stats.assigned.load(Ordering::Relaxed);
                    if assigned && !was_assigned {
                        quiet_since = Instant::now();
                    }
                    was_assigned = assigned;
                    if let Some(idle) = self.config.idle_exit {
                        if assigned && quiet_since.elapsed() >= idle {
                            if !skipped.is_empty() {
                                return Gathered::Batch { records, skipped };
                            }
                            return Gathered::Stop;
                        }
                    }
                }
            }
        }
        // The rest of the batch.
        let window_end = tokio::time::Instant::now() + self.config.batching_window;
        while records.len() < self.config.batch_size {
            tokio::select! {
                biased;
                _ = shutdown.changed() => return Gathered::Stop,
                m = consumer.recv() => { self.take(m, &mut records, &mut skipped); }
                _ = tokio::time::sleep_until(window_end) => break,
            }
        }
        Gathered::Batch { records, skipped }
    }

    /// Adds a polled message to the batch; false when there was none to add.
    fn take(
        &self,
        message: Result<BorrowedMessage<'_>, rdkafka::error::KafkaError>,
        records: &mut Vec<PolledRecord>,
        skipped: &mut BTreeMap<i32, i64>,
    ) -> bool {
        let m = match message {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(topic = %self.topic, error = %e, "poll failed");
                return false;
            }
        };
        let record = polled_record(&self.topic, &m);
        {
            let mut skip = lock(&self.skip_before);
            if let Some(before) = skip.get(&record.partition).copied() {
                if record.timestamp_ms < before {
                    skipped.insert(record.partition, record.offset + 1);
                    MappingStats::add(&self.stats.skipped, 1);
                    return false;
                }
                skip.remove(&record.partition);
            }
        }
        records.push(record);
        true
    }

    /// Invokes the function for every record of the batch, as often as the
    /// retry policy allows.
    async fn process(
        &self,
        records: &[PolledRecord],
        shutdown: &mut watch::Receiver<bool>,
    ) -> anyhow::Result<BatchEnd> {
        let source = &self.config.source;
        let mut report = BatchReport::default();
        let mut queue: VecDeque<(Range<usize>, u32)> =
            split_by_payload(source, records, self.config.payload_limit)
                .into_iter()
                .map(|r| (r, 0))
                .collect();
        while let Some((range, invocations)) = queue.pop_front() {
            if Self::stop_requested(shutdown) {
                return Ok(BatchEnd::Abandoned);
            }
            let slice = &records[range.clone()];
            // The payload the function receives, in process or not: it
            // reads it with the decoder Lambda runs. Only a record too large
            // for any payload has a run whose payload is over the limit.
            let payload = to_payload(source, slice);
            if payload.len() > self.config.payload_limit {
                self.discard(
                    slice,
                    &payload,
                    Condition::MaximumPayloadSizeExceeded,
                    0,
                    None,
                )?;
                report.discarded += slice.len() as u64;
                continue;
            }
            let started = Instant::now();
            let result = self.invoker.invoke(&payload).await;
            let latency_ms = started.elapsed().as_secs_f64() * 1e3;
            MappingStats::add(&self.stats.invocations, 1);
            match result {
                Ok(ok) => {
                    self.stats.record_latency(latency_ms);
                    report.latency_ms += latency_ms;
                    let n = slice.len() as u64;
                    report.acknowledged += n;
                    MappingStats::add(&self.stats.records, n);
                    if let Some(s) = ok.summary {
                        if s.records != n {
                            tracing::warn!(topic = %self.topic, sent = n, returned = s.records,
                                "the function counted another number of records than it was sent");
                        }
                        report.written += s.written;
                        report.dead_lettered += s.dead_lettered;
                        MappingStats::add(&self.stats.written, s.written);
                        MappingStats::add(&self.stats.dead_lettered, s.dead_lettered);
                    }
                }
                Err(failure) => {
                    MappingStats::add(&self.stats.failed_invocations, 1);
                    if !failure.retryable {
                        // Nothing is committed: the batch comes again once
                        // the function is there.
                        anyhow::bail!("{}", failure.message);
                    }
                    let invocations = invocations + 1;
                    let now_ms = chrono::Utc::now().timestamp_millis();
                    let oldest = slice
                        .iter()
                        .map(|r| r.timestamp_ms)
                        .filter(|t| *t >= 0)
                        .min()
                        .unwrap_or(now_ms);
                    let decision = if failure.is_function_error() {
                        self.config.retry.clone()
                    } else {
                        self.config.retry.without_bisect()
                    }
                    .after_failure(invocations, slice.len(), oldest, now_ms);
                    tracing::warn!(
                        topic = %self.topic,
                        records = slice.len(),
                        invocations,
                        error = %failure.message,
                        decision = ?decision,
                        "invocation failed"
                    );
                    match decision {
                        Decision::Retry { after } => {
                            tokio::select! {
                                _ = shutdown.changed() => return Ok(BatchEnd::Abandoned),
                                _ = tokio::time::sleep(after) => {}
                            }
                            queue.push_front((range, invocations));
                        }
                        Decision::Bisect => {
                            let [first, second] = bisect(range);
                            queue.push_front((second, invocations));
                            queue.push_front((first, invocations));
                        }
                        Decision::Discard(condition) => {
                            self.discard(
                                slice,
                                &payload,
                                condition,
                                invocations,
                                Some(failure.response),
                            )?;
                            report.discarded += slice.len() as u64;
                        }
                    }
                }
            }
        }
        Ok(BatchEnd::Resolved(report))
    }

    /// Gives up on `records`: writes them to the on-failure destination
    /// (or, without one, drops them with an error line).
    fn discard(
        &self,
        records: &[PolledRecord],
        payload: &[u8],
        condition: Condition,
        invocations: u32,
        response: Option<ResponseContext>,
    ) -> anyhow::Result<()> {
        let n = records.len() as u64;
        MappingStats::add(&self.stats.discarded, n);
        MappingStats::add(&self.stats.records, n);
        let Some(destination) = &self.destination else {
            tracing::error!(
                topic = %self.topic,
                records = n,
                condition = condition.as_aws(),
                "records dropped: no --on-failure-dir is set"
            );
            return Ok(());
        };
        let record = InvocationRecord::new(&FailedBatch {
            source: &self.config.source,
            records,
            payload,
            function_arn: self.invoker.function_arn(),
            condition,
            invocations,
            response,
            now: chrono::Utc::now(),
        });
        let written = destination
            .write(&self.config.function_name, &record)
            .with_context(|| {
                format!(
                    "writing a failed batch to the on-failure destination {}",
                    destination.dir().display()
                )
            })?;
        tracing::warn!(
            topic = %self.topic,
            records = n,
            condition = condition.as_aws(),
            record = %written.record.display(),
            event = %written.event.display(),
            "batch sent to the on-failure destination"
        );
        Ok(())
    }

    /// Commits `next` (one past the last record of each partition of a
    /// resolved batch) with whatever earlier commits left owed. True when
    /// nothing is owed any more. A commit waits for the broker as long as
    /// `wait` says: while the broker is unreachable librdkafka's
    /// synchronous commit waits for it without end, so once the mapping is
    /// told to stop it waits at most [`SETTLE_WAIT`] more, and the offsets
    /// stay owed.
    async fn commit(
        &self,
        committer: &Committer,
        next: &BTreeMap<i32, i64>,
        wait: Wait<'_>,
    ) -> bool {
        let offsets = {
            let mut owed = lock(&self.owed);
            owed.add(next);
            owed.offsets.clone()
        };
        if offsets.is_empty() {
            return true;
        }
        let mut tpl = TopicPartitionList::new();
        for (partition, offset) in &offsets {
            if let Err(e) =
                tpl.add_partition_offset(&self.config.topic, *partition, Offset::Offset(*offset))
            {
                tracing::warn!(error = %e, "cannot build the commit");
            }
        }
        let Some(result) = committer.commit(tpl, wait).await else {
            tracing::warn!(topic = %self.topic, ?offsets,
                "stopping while the broker has not answered an offset commit");
            return false;
        };
        let mut owed = lock(&self.owed);
        match result {
            Ok(()) => {
                owed.committed(&offsets);
                owed.offsets.is_empty()
            }
            Err(e) => {
                owed.failed_at = Some(Instant::now());
                MappingStats::add(&self.stats.commit_failures, 1);
                tracing::warn!(topic = %self.topic, error = %e,
                    "offset commit failed; it is tried again");
                false
            }
        }
    }

    /// Before stopping: commits what earlier failed commits left owed, a
    /// few times over, each waiting at most [`SETTLE_WAIT`] for the broker.
    /// What still fails is delivered again on the next start (to the same
    /// rows).
    async fn settle(&self, committer: &Committer) {
        for attempt in 0..FINAL_COMMIT_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(COMMIT_BACKOFF).await;
            }
            if committer.is_stuck() {
                // A commit the broker never answered: the next would wait
                // behind it.
                break;
            }
            // Nothing owed is a success at once, without a request.
            if self
                .commit(committer, &BTreeMap::new(), Wait::AtMost(SETTLE_WAIT))
                .await
            {
                return;
            }
        }
        let owed = lock(&self.owed).offsets.clone();
        tracing::warn!(topic = %self.topic, ?owed,
            "stopping with offsets not committed; their records will be delivered again");
    }

    fn batch_line(&self, records: &[PolledRecord], r: &BatchReport, took: Duration) -> String {
        let mut line = format!("{} {}", self.config.function_name, self.topic);
        for (partition, range) in offset_ranges(records) {
            let _ = write!(line, " {partition}:{}-{}", range.start, range.end);
        }
        let _ = write!(
            line,
            "  {} records, {} written, {} dead-lettered",
            records.len(),
            r.written,
            r.dead_lettered
        );
        if r.discarded > 0 {
            let _ = write!(line, ", {} to the on-failure destination", r.discarded);
        }
        if r.acknowledged > r.written + r.dead_lettered {
            let _ = write!(
                line,
                ", {} acknowledged without a summary",
                r.acknowledged - r.written - r.dead_lettered
            );
        }
        let _ = write!(
            line,
            ", {:.1} ms in the function, {:.1} ms in all",
            r.latency_ms,
            took.as_secs_f64() * 1e3
        );
        line
    }
}

fn polled_record(topic: &Arc<str>, m: &BorrowedMessage<'_>) -> PolledRecord {
    let (timestamp_ms, timestamp_type) = match m.timestamp() {
        Timestamp::CreateTime(ms) => (ms, TimestampType::CreateTime),
        Timestamp::LogAppendTime(ms) => (ms, TimestampType::LogAppendTime),
        Timestamp::NotAvailable => (-1, TimestampType::NoTimestamp),
    };
    let headers = m
        .headers()
        .map(|h| {
            h.iter()
                .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                .collect()
        })
        .unwrap_or_default();
    PolledRecord {
        topic: if &**topic == m.topic() {
            topic.clone()
        } else {
            Arc::from(m.topic())
        },
        partition: m.partition(),
        offset: m.offset(),
        timestamp_ms,
        timestamp_type,
        key: m.key().map(<[u8]>::to_vec),
        value: m.payload().map(<[u8]>::to_vec),
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(partition: i32, offset: i64) -> PolledRecord {
        PolledRecord {
            topic: Arc::from("t"),
            partition,
            offset,
            timestamp_ms: 0,
            timestamp_type: TimestampType::CreateTime,
            key: None,
            value: None,
            headers: vec![],
        }
    }

    #[test]
    fn commits_one_past_the_last_record_of_each_partition() {
        let records = [rec(0, 4), rec(0, 5), rec(2, 10), rec(1, 0), rec(2, 11)];
        let next = next_offsets(&records, &BTreeMap::from([(1, 7), (3, 2)]));
        assert_eq!(next, BTreeMap::from([(0, 6), (1, 7), (2, 12), (3, 2)]));
        assert!(next_offsets(&[], &BTreeMap::new()).is_empty());
        assert_eq!(
            offset_ranges(&records),
            BTreeMap::from([(0, 4..5), (1, 0..0), (2, 10..11)])
        );
    }
}
