//! Committing a mapping's offsets: what is owed, and the thread that
//! commits it without holding the mapping up when the broker is away.
//!
//! The committed offset of a partition is one past the last record of the
//! last resolved batch ([`next_offsets`]). A commit the broker refuses is
//! kept ([`UncommittedOffsets`]) and made again with the next batch's
//! commit, while the topic is quiet, and before the mapping stops.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::TopicPartitionList;
use tokio::sync::watch;

use super::event::PolledRecord;
use super::poller::MappingContext;

/// Offsets past resolved records that are not committed yet: a failed
/// commit leaves them here, and they are tried again with the next batch's
/// commit, while the topic is quiet, and before the mapping stops. A
/// revoked partition drops out: its records come again to whichever member
/// gets it, and that member commits them.
#[derive(Debug, Default)]
pub(super) struct UncommittedOffsets {
    /// Partition → next offset.
    pub(super) offsets: BTreeMap<i32, i64>,
    /// When the last commit failed.
    pub(super) failed_at: Option<Instant>,
}

impl UncommittedOffsets {
    /// Adds the offsets past a resolved batch.
    pub(super) fn add(&mut self, next: &BTreeMap<i32, i64>) {
        for (&partition, &offset) in next {
            let owed = self.offsets.entry(partition).or_insert(offset);
            *owed = (*owed).max(offset);
        }
    }

    /// Settles what a successful commit of `done` covered: a partition
    /// whose offset moved on since stays owed.
    pub(super) fn committed(&mut self, done: &BTreeMap<i32, i64>) {
        for (partition, offset) in done {
            if self.offsets.get(partition) == Some(offset) {
                self.offsets.remove(partition);
            }
        }
        self.failed_at = None;
    }

    pub(super) fn revoked(&mut self, partitions: impl IntoIterator<Item = i32>) {
        for partition in partitions {
            self.offsets.remove(&partition);
        }
    }

    /// Whether a commit is owed and the last failure is `backoff` old.
    pub(super) fn due(&self, backoff: Duration) -> bool {
        !self.offsets.is_empty() && self.failed_at.is_none_or(|t| t.elapsed() >= backoff)
    }
}

/// How long a failed commit waits before it is tried again.
pub(super) const COMMIT_BACKOFF: Duration = Duration::from_millis(500);
/// Commit attempts a stopping mapping makes for what it still owes.
pub(super) const FINAL_COMMIT_ATTEMPTS: u32 = 5;
/// How long a stopping mapping waits for the broker to answer a commit.
pub(super) const SETTLE_WAIT: Duration = Duration::from_secs(5);
/// How long a stopping mapping waits for its consumer to leave the group.
const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// How long [`Mapping::commit`] waits for the broker's answer.
pub(super) enum Wait<'a> {
    /// Until the answer, or until [`SETTLE_WAIT`] after the mapping is
    /// told to stop.
    UntilStop(&'a mut watch::Receiver<bool>),
    /// At most this long (the mapping is stopping already).
    AtMost(Duration),
}

type CommitRequest = (
    TopicPartitionList,
    tokio::sync::oneshot::Sender<rdkafka::error::KafkaResult<()>>,
);

/// Makes a mapping's synchronous offset commits on a thread of its own.
///
/// librdkafka's synchronous commit waits for the group coordinator
/// without end: while the broker is down, a commit made on the mapping's
/// task would hold it (and Ctrl-C) until the broker returned. On this
/// thread, the mapping can stop waiting; the thread is not a tokio
/// blocking task, so a commit that never returns does not hold up the
/// runtime's shutdown either (it ends with the process).
pub(super) struct Committer {
    requests: std::sync::mpsc::Sender<CommitRequest>,
    /// Commits handed to the thread and not answered yet.
    pending: Arc<std::sync::atomic::AtomicUsize>,
}

impl Committer {
    pub(super) fn start(
        consumer: Arc<StreamConsumer<MappingContext>>,
        topic: &str,
    ) -> anyhow::Result<Self> {
        let (requests, incoming) = std::sync::mpsc::channel::<CommitRequest>();
        let pending = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let done = pending.clone();
        std::thread::Builder::new()
            .name(format!("commit-{topic}"))
            .spawn(move || {
                for (tpl, reply) in incoming {
                    let result = consumer.commit(&tpl, CommitMode::Sync);
                    done.fetch_sub(1, Ordering::Relaxed);
                    let _ = reply.send(result);
                }
            })
            .context("starting the commit thread")?;
        Ok(Committer { requests, pending })
    }

    /// Commits `tpl`; `None` when `wait` ran out before the broker
    /// answered (the commit may still be made later).
    pub(super) async fn commit(
        &self,
        tpl: TopicPartitionList,
        wait: Wait<'_>,
    ) -> Option<rdkafka::error::KafkaResult<()>> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.pending.fetch_add(1, Ordering::Relaxed);
        if self.requests.send((tpl, reply)).is_err() {
            self.pending.fetch_sub(1, Ordering::Relaxed);
            return Some(Err(rdkafka::error::KafkaError::Canceled));
        }
        let answer = async {
            answer
                .await
                .unwrap_or(Err(rdkafka::error::KafkaError::Canceled))
        };
        tokio::pin!(answer);
        let limit = match wait {
            Wait::UntilStop(shutdown) => {
                tokio::select! {
                    biased;
                    result = &mut answer => return Some(result),
                    _ = shutdown.wait_for(|stop| *stop) => {}
                }
                // Told to stop: a broker that is up answers in a moment
                // (and the commit should count); one that is down never.
                SETTLE_WAIT
            }
            Wait::AtMost(limit) => limit,
        };
        tokio::time::timeout(limit, answer).await.ok()
    }

    /// Whether a commit is still waiting for the broker.
    pub(super) fn is_stuck(&self) -> bool {
        self.pending.load(Ordering::Relaxed) > 0
    }
}

/// Closes the consumer (it leaves its group) on a thread of its own,
/// waiting at most [`CLOSE_WAIT`]: with the broker unreachable the close
/// may wait for it, and the process need not.
pub(super) async fn close(consumer: Arc<StreamConsumer<MappingContext>>) {
    let (closed, done) = tokio::sync::oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("consumer-close".into())
        .spawn(move || {
            drop(consumer);
            let _ = closed.send(());
        });
    if spawned.is_ok() {
        let _ = tokio::time::timeout(CLOSE_WAIT, done).await;
    }
}

/// The offsets to commit after `records` (and `skipped`): per partition,
/// one past the last.
pub fn next_offsets(records: &[PolledRecord], skipped: &BTreeMap<i32, i64>) -> BTreeMap<i32, i64> {
    let mut next = skipped.clone();
    for r in records {
        let n = next.entry(r.partition).or_insert(r.offset + 1);
        *n = (*n).max(r.offset + 1);
    }
    next
}

/// First and last offset of each partition in `records`.
pub fn offset_ranges(records: &[PolledRecord]) -> BTreeMap<i32, Range<i64>> {
    let mut out: BTreeMap<i32, Range<i64>> = BTreeMap::new();
    for r in records {
        out.entry(r.partition)
            .and_modify(|range| {
                range.start = range.start.min(r.offset);
                range.end = range.end.max(r.offset);
            })
            .or_insert(r.offset..r.offset);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owed_offsets_only_settle_when_a_commit_covers_them() {
        let mut owed = UncommittedOffsets::default();
        assert!(!owed.due(Duration::ZERO));
        owed.add(&BTreeMap::from([(0, 10), (1, 4)]));
        owed.add(&BTreeMap::from([(0, 7), (2, 3)]));
        assert_eq!(owed.offsets, BTreeMap::from([(0, 10), (1, 4), (2, 3)]));
        owed.failed_at = Some(Instant::now());
        assert!(!owed.due(Duration::from_secs(60)));
        assert!(owed.due(Duration::ZERO));
        // A commit of (0, 10) and (1, 4) succeeded while partition 1 moved on.
        owed.add(&BTreeMap::from([(1, 9)]));
        owed.committed(&BTreeMap::from([(0, 10), (1, 4)]));
        assert_eq!(owed.offsets, BTreeMap::from([(1, 9), (2, 3)]));
        assert!(owed.failed_at.is_none());
        owed.revoked([2, 5]);
        assert_eq!(owed.offsets, BTreeMap::from([(1, 9)]));
    }
}
