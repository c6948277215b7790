//! How many records a run sends, for how long, and how fast; and what a
//! caller can hold on to while it runs (a stop flag, a progress bar, and a
//! bound on how far the run may get ahead of its consumers).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;

/// When a run stops and how fast it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Records per topic; `None` runs until `duration` (or forever).
    pub count_per_topic: Option<u64>,
    /// Longest run; `None` runs until `count_per_topic`.
    pub duration: Option<Duration>,
    /// Records per second over all topics; 0 is as fast as possible.
    pub rate: u64,
}

impl Schedule {
    /// `count` records per topic, as fast as possible.
    pub fn count(count: u64) -> Schedule {
        Schedule {
            count_per_topic: Some(count),
            duration: None,
            rate: 0,
        }
    }

    /// Records over all `kinds` topics, if the run is bounded by count.
    pub fn total(&self, kinds: usize) -> Option<u64> {
        self.count_per_topic.map(|c| c.saturating_mul(kinds as u64))
    }
}

/// A running job's controls: set `stop` to end it early (it still flushes
/// and reports), `progress` (hidden unless the caller shows it) moves as
/// records go out, and `backlog`, when set, holds the producer back while
/// too many of its records are still waiting for their consumers.
#[derive(Debug, Clone)]
pub struct RunControl {
    /// Ends the run at the next record.
    pub stop: Arc<AtomicBool>,
    /// Its position is the number of records sent so far.
    pub progress: ProgressBar,
    /// Flow control against the consumers (Kafka producers only).
    pub backlog: Option<Backlog>,
}

impl Default for RunControl {
    fn default() -> Self {
        RunControl {
            stop: Arc::new(AtomicBool::new(false)),
            progress: ProgressBar::hidden(),
            backlog: None,
        }
    }
}

/// A bound on records produced but not yet consumed: the producer waits
/// while `sent − failed − resolved()` is above `limit`. A broker that keeps
/// only a bounded log per partition (librdkafka's mock cluster keeps
/// 100,000 messages or 5 MB a partition and drops the oldest) loses records
/// to a producer that outruns its consumers; this keeps the two in step.
#[derive(Clone)]
pub struct Backlog {
    /// Most records in flight between the producer and the consumers.
    pub limit: u64,
    /// Records the consumers have finished with so far, over all topics.
    pub resolved: Arc<dyn Fn() -> u64 + Send + Sync>,
}

impl Backlog {
    /// Blocks while more than `limit` of the `sent − failed` records are
    /// unresolved, or until `stop` is set.
    pub fn wait(&self, sent: u64, failed: u64, stop: &AtomicBool) {
        self.wait_with(sent, || failed, stop, std::thread::sleep);
    }

    /// [`Backlog::wait`], spending each 2 ms pause in `idle` (which must
    /// take about that long) and reading the failed count afresh after it.
    pub fn wait_with(
        &self,
        sent: u64,
        mut failed: impl FnMut() -> u64,
        stop: &AtomicBool,
        mut idle: impl FnMut(Duration),
    ) {
        while sent
            .saturating_sub(failed())
            .saturating_sub((self.resolved)())
            > self.limit
            && !stop.load(Ordering::Relaxed)
        {
            idle(Duration::from_millis(2));
        }
    }
}

impl std::fmt::Debug for Backlog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backlog")
            .field("limit", &self.limit)
            .field("resolved", &(self.resolved)())
            .finish()
    }
}

/// Says when the next record may go: counts, checks the deadline and the
/// stop flag, and sleeps to hold the rate.
pub(crate) struct Pacer {
    started: Instant,
    sent: u64,
    total: Option<u64>,
    deadline: Option<Instant>,
    rate: u64,
}

impl Pacer {
    pub fn new(schedule: &Schedule, kinds: usize) -> Pacer {
        let started = Instant::now();
        Pacer {
            started,
            sent: 0,
            total: schedule.total(kinds),
            deadline: schedule.duration.map(|d| started + d),
            rate: schedule.rate,
        }
    }

    /// Whether another record should be sent now (after waiting, if the
    /// rate asks for it).
    pub fn next(&mut self, stop: &AtomicBool) -> bool {
        self.next_with(stop, std::thread::sleep)
    }

    /// [`Pacer::next`], spending a wait for the rate in `wait` (which must
    /// take about as long as it is asked to) instead of sleeping.
    pub fn next_with(&mut self, stop: &AtomicBool, mut wait: impl FnMut(Duration)) -> bool {
        if self.total.is_some_and(|t| self.sent >= t) {
            return false;
        }
        // Checking the clock and the flag every record costs more than the
        // record at full speed; every 64th is often enough.
        if self.rate > 0 || self.sent.is_multiple_of(64) {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let now = Instant::now();
            if self.deadline.is_some_and(|d| now >= d) {
                return false;
            }
            if self.rate > 0 {
                let due =
                    self.started + Duration::from_secs_f64(self.sent as f64 / self.rate as f64);
                if due > now {
                    let wait_for = match self.deadline {
                        Some(d) if d < due => d.saturating_duration_since(now),
                        _ => due - now,
                    };
                    wait(wait_for);
                    if self.deadline.is_some_and(|d| Instant::now() >= d) {
                        return false;
                    }
                }
            }
        }
        self.sent += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backlog_waits_for_consumers_then_releases() {
        use std::sync::atomic::AtomicU64;
        let resolved = Arc::new(AtomicU64::new(0));
        let backlog = Backlog {
            limit: 10,
            resolved: {
                let resolved = resolved.clone();
                Arc::new(move || resolved.load(Ordering::Relaxed))
            },
        };
        let stop = AtomicBool::new(false);
        // Within the limit (failed records count as gone): no wait.
        let t = Instant::now();
        backlog.wait(15, 5, &stop);
        assert!(t.elapsed() < Duration::from_millis(500));
        // Over it: waits until the consumers catch up.
        let catch_up = {
            let resolved = resolved.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(100));
                resolved.store(40, Ordering::Relaxed);
            })
        };
        let t = Instant::now();
        backlog.wait(50, 0, &stop);
        assert!(
            t.elapsed() >= Duration::from_millis(90),
            "{:?}",
            t.elapsed()
        );
        catch_up.join().unwrap();
        // The stop flag ends a wait the consumers never would.
        stop.store(true, Ordering::Relaxed);
        backlog.wait(1_000, 0, &stop);
    }

    #[test]
    fn counts_and_rates() {
        let stop = AtomicBool::new(false);
        let mut p = Pacer::new(&Schedule::count(5), 3);
        let mut n = 0;
        while p.next(&stop) {
            n += 1;
        }
        assert_eq!(n, 15);

        let schedule = Schedule {
            count_per_topic: Some(20),
            duration: None,
            rate: 200,
        };
        let started = Instant::now();
        let mut p = Pacer::new(&schedule, 1);
        while p.next(&stop) {}
        // 20 records at 200/s: the 20th is due at 95 ms.
        assert!(
            started.elapsed() >= Duration::from_millis(90),
            "{:?}",
            started.elapsed()
        );

        let schedule = Schedule {
            count_per_topic: None,
            duration: Some(Duration::from_millis(50)),
            rate: 0,
        };
        let started = Instant::now();
        let mut p = Pacer::new(&schedule, 3);
        while p.next(&stop) {}
        assert!(started.elapsed() >= Duration::from_millis(50));
        assert!(started.elapsed() < Duration::from_secs(5));

        stop.store(true, Ordering::Relaxed);
        let mut p = Pacer::new(&Schedule::count(5), 1);
        assert!(!p.next(&stop));
    }
}
