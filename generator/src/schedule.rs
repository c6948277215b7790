//! How many records a run sends, for how long, and how fast; and the two
//! things a caller can hold on to while it runs (a stop flag and a progress
//! bar).

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
/// and reports), and `progress` (hidden unless the caller shows it) moves as
/// records go out.
#[derive(Debug, Clone)]
pub struct RunControl {
    /// Ends the run at the next record.
    pub stop: Arc<AtomicBool>,
    /// Its position is the number of records sent so far.
    pub progress: ProgressBar,
}

impl Default for RunControl {
    fn default() -> Self {
        RunControl {
            stop: Arc::new(AtomicBool::new(false)),
            progress: ProgressBar::hidden(),
        }
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
                    let wait = due - now;
                    let wait = match self.deadline {
                        Some(d) if d < due => d.saturating_duration_since(now),
                        _ => wait,
                    };
                    std::thread::sleep(wait);
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
