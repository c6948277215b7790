//! What a running event source mapping has done so far: counts that other
//! tasks read while it runs (the demo waits on them), invocation latencies,
//! and the summary printed at the end.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

use crate::lock;

/// Live counters of one mapping.
#[derive(Debug, Default)]
pub struct MappingStats {
    /// Records resolved: acknowledged by the function or given up on.
    pub records: AtomicU64,
    /// Records the function stored as rows.
    pub written: AtomicU64,
    /// Records the function dead-lettered.
    pub dead_lettered: AtomicU64,
    /// Records given up on (on-failure destination, or dropped without one).
    pub discarded: AtomicU64,
    /// Records skipped before an AT_TIMESTAMP starting position.
    pub skipped: AtomicU64,
    /// Batches resolved and committed past.
    pub batches: AtomicU64,
    /// Invocations, failed ones included.
    pub invocations: AtomicU64,
    /// Invocations that failed.
    pub failed_invocations: AtomicU64,
    /// Offset commits the broker refused (the records come again).
    pub commit_failures: AtomicU64,
    /// Whether the consumer holds its partitions (has joined its group).
    pub assigned: AtomicBool,
    latencies_ms: Mutex<Vec<f64>>,
}

impl MappingStats {
    /// Adds to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Reads a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Records the latency of a successful invocation.
    pub fn record_latency(&self, ms: f64) {
        lock(&self.latencies_ms).push(ms);
    }

    /// Every successful invocation's latency so far, in milliseconds.
    pub fn latencies_ms(&self) -> Vec<f64> {
        lock(&self.latencies_ms).clone()
    }

    /// The counts, as printed.
    pub fn counts(&self) -> MappingCounts {
        MappingCounts {
            records: Self::get(&self.records),
            written: Self::get(&self.written),
            dead_lettered: Self::get(&self.dead_lettered),
            discarded: Self::get(&self.discarded),
            skipped: Self::get(&self.skipped),
            batches: Self::get(&self.batches),
            invocations: Self::get(&self.invocations),
            failed_invocations: Self::get(&self.failed_invocations),
            commit_failures: Self::get(&self.commit_failures),
        }
    }
}

/// A snapshot of [`MappingStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MappingCounts {
    pub records: u64,
    pub written: u64,
    pub dead_lettered: u64,
    pub discarded: u64,
    pub skipped: u64,
    pub batches: u64,
    pub invocations: u64,
    pub failed_invocations: u64,
    pub commit_failures: u64,
}

impl MappingCounts {
    /// Adds `other` in.
    pub fn merge(&mut self, other: &MappingCounts) {
        self.records += other.records;
        self.written += other.written;
        self.dead_lettered += other.dead_lettered;
        self.discarded += other.discarded;
        self.skipped += other.skipped;
        self.batches += other.batches;
        self.invocations += other.invocations;
        self.failed_invocations += other.failed_invocations;
        self.commit_failures += other.commit_failures;
    }
}

/// p50 and p99 of batch latencies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `samples` (0 when there are none),
    /// rounded to 0.01.
    pub fn of(mut samples: Vec<f64>) -> Percentiles {
        samples.sort_by(f64::total_cmp);
        let round = |x: f64| (x * 100.0).round() / 100.0;
        Percentiles {
            p50: round(percentile(&samples, 50.0)),
            p99: round(percentile(&samples, 99.0)),
        }
    }
}

/// The nearest-rank `p`-th percentile of sorted `samples`.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The final summary of `logpipe esm` (`--json`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct EsmSummary {
    #[serde(flatten)]
    pub totals: MappingCounts,
    pub by_topic: BTreeMap<String, MappingCounts>,
    pub batch_latency_ms: Percentiles,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(samples);
        assert_eq!(p.p50, 50.0);
        assert_eq!(p.p99, 99.0);
        assert_eq!(Percentiles::of(vec![]), Percentiles::default());
        let one = Percentiles::of(vec![7.123]);
        assert_eq!((one.p50, one.p99), (7.12, 7.12));
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 99.0), 3.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 0.0), 1.0);
    }

    #[test]
    fn counts_merge() {
        let s = MappingStats::default();
        MappingStats::add(&s.records, 3);
        MappingStats::add(&s.written, 2);
        MappingStats::add(&s.dead_lettered, 1);
        let mut total = MappingCounts::default();
        total.merge(&s.counts());
        total.merge(&s.counts());
        assert_eq!(total.records, 6);
        assert_eq!(total.written + total.dead_lettered, total.records);
    }
}
