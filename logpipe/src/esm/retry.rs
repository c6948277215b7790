//! What the mapping does after a failed invocation, as AWS's Kafka event
//! source mapping does it: retry the same records with exponential backoff,
//! split the batch in two (bisect), or give up on the records and hand
//! them to the on-failure destination. Pure: time comes in as arguments.

use std::time::Duration;

/// Why a batch was given up on: the `condition` of the invocation record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// `--maximum-retry-attempts` retries all failed.
    RetryAttemptsExhausted,
    /// The oldest record is older than `--maximum-record-age-seconds`.
    RecordAgeExceeded,
    /// One record alone is larger than an invocation payload may be.
    MaximumPayloadSizeExceeded,
}

impl Condition {
    /// The text AWS writes in `requestContext.condition`.
    pub fn as_aws(self) -> &'static str {
        match self {
            Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Condition::RecordAgeExceeded => "RecordAgeExceeded",
            Condition::MaximumPayloadSizeExceeded => "MaximumPayloadSizeExceeded",
        }
    }
}

/// What to do with records whose invocation just failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Invoke again with the same records after this delay.
    Retry { after: Duration },
    /// Split the records in two halves and invoke each on its own.
    Bisect,
    /// Give up: on-failure destination, then commit past them.
    Discard(Condition),
}

/// AWS's error-handling settings of a Kafka event source mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first invocation; `None` retries until the
    /// records expire (AWS's -1).
    pub maximum_retry_attempts: Option<u32>,
    /// Oldest record age at which a failing batch is given up; `None` is
    /// AWS's -1 (never).
    pub maximum_record_age: Option<Duration>,
    /// Split a failing batch in two before retrying.
    pub bisect_on_error: bool,
    /// Delay before the first retry; doubled for each further retry.
    pub base_delay: Duration,
    /// Longest delay between retries.
    pub max_delay: Duration,
}

/// Retries AWS applies when retries are infinite but an on-failure
/// destination is configured.
pub const RETRIES_WITH_DESTINATION: u32 = 10;

impl RetryPolicy {
    /// AWS's rule: infinite retries with an on-failure destination become
    /// [`RETRIES_WITH_DESTINATION`].
    pub fn with_destination(mut self, has_destination: bool) -> Self {
        if has_destination && self.maximum_retry_attempts.is_none() {
            self.maximum_retry_attempts = Some(RETRIES_WITH_DESTINATION);
        }
        self
    }

    /// This policy for an invocation that never reached the function (the
    /// endpoint was unreachable): AWS splits a batch on function errors
    /// only.
    pub fn without_bisect(&self) -> RetryPolicy {
        RetryPolicy {
            bisect_on_error: false,
            ..self.clone()
        }
    }

    /// The decision after the `invocations`-th failed invocation of
    /// `records` records whose oldest timestamp is `oldest_ms`, at `now_ms`.
    pub fn after_failure(
        &self,
        invocations: u32,
        records: usize,
        oldest_ms: i64,
        now_ms: i64,
    ) -> Decision {
        if let Some(max_age) = self.maximum_record_age {
            let age_ms = now_ms.saturating_sub(oldest_ms);
            if age_ms > i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX) {
                return Decision::Discard(Condition::RecordAgeExceeded);
            }
        }
        let retries_done = invocations.saturating_sub(1);
        if self
            .maximum_retry_attempts
            .is_some_and(|max| retries_done >= max)
        {
            return Decision::Discard(Condition::RetryAttemptsExhausted);
        }
        if self.bisect_on_error && records > 1 {
            return Decision::Bisect;
        }
        Decision::Retry {
            after: self.backoff(invocations),
        }
    }

    /// The delay before retry number `retry` (1 for the first).
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(30));
        self.base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// Splits `start..end` (at least two records) into two halves.
pub fn bisect(range: std::ops::Range<usize>) -> [std::ops::Range<usize>; 2] {
    let mid = range.start + (range.end - range.start) / 2;
    [range.start..mid, mid..range.end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            maximum_retry_attempts: Some(2),
            maximum_record_age: None,
            bisect_on_error: false,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
        }
    }

    #[test]
    fn retries_with_doubling_backoff_then_gives_up() {
        let p = policy();
        assert_eq!(
            p.after_failure(1, 10, 0, 0),
            Decision::Retry {
                after: Duration::from_millis(100)
            }
        );
        assert_eq!(
            p.after_failure(2, 10, 0, 0),
            Decision::Retry {
                after: Duration::from_millis(200)
            }
        );
        // Two retries made (three invocations): done.
        assert_eq!(
            p.after_failure(3, 10, 0, 0),
            Decision::Discard(Condition::RetryAttemptsExhausted)
        );
        assert_eq!(p.backoff(3), Duration::from_millis(350), "capped");
        assert_eq!(p.backoff(200), Duration::from_millis(350));
    }

    #[test]
    fn zero_retries_gives_up_after_the_first_failure() {
        let p = RetryPolicy {
            maximum_retry_attempts: Some(0),
            ..policy()
        };
        assert_eq!(
            p.after_failure(1, 1, 0, 0),
            Decision::Discard(Condition::RetryAttemptsExhausted)
        );
    }

    #[test]
    fn infinite_retries_stop_at_the_record_age() {
        let p = RetryPolicy {
            maximum_retry_attempts: None,
            maximum_record_age: Some(Duration::from_secs(60)),
            ..policy()
        };
        assert!(matches!(
            p.after_failure(1000, 5, 0, 60_000),
            Decision::Retry { .. }
        ));
        assert_eq!(
            p.after_failure(2, 5, 0, 60_001),
            Decision::Discard(Condition::RecordAgeExceeded)
        );
        // With no age limit either, never give up.
        let forever = RetryPolicy {
            maximum_record_age: None,
            ..p
        };
        assert!(matches!(
            forever.after_failure(u32::MAX, 5, 0, i64::MAX),
            Decision::Retry { .. }
        ));
    }

    #[test]
    fn a_destination_caps_infinite_retries_like_aws() {
        let p = RetryPolicy {
            maximum_retry_attempts: None,
            ..policy()
        };
        assert_eq!(
            p.clone().with_destination(true).maximum_retry_attempts,
            Some(RETRIES_WITH_DESTINATION)
        );
        assert_eq!(
            p.clone().with_destination(false).maximum_retry_attempts,
            None
        );
        assert_eq!(
            policy().with_destination(true).maximum_retry_attempts,
            Some(2)
        );
    }

    #[test]
    fn bisects_until_single_records_then_retries() {
        let p = RetryPolicy {
            bisect_on_error: true,
            ..policy()
        };
        assert_eq!(p.after_failure(1, 8, 0, 0), Decision::Bisect);
        // Only a function error splits the batch.
        assert!(matches!(
            p.without_bisect().after_failure(1, 8, 0, 0),
            Decision::Retry { .. }
        ));
        assert!(matches!(
            p.after_failure(1, 1, 0, 0),
            Decision::Retry { .. }
        ));
        // Bisecting still counts against the retries.
        assert_eq!(
            p.after_failure(3, 8, 0, 0),
            Decision::Discard(Condition::RetryAttemptsExhausted)
        );
        assert_eq!(bisect(0..8), [0..4, 4..8]);
        assert_eq!(bisect(3..6), [3..4, 4..6]);
    }

    #[test]
    fn condition_names_are_aws_names() {
        assert_eq!(
            Condition::RetryAttemptsExhausted.as_aws(),
            "RetryAttemptsExhausted"
        );
        assert_eq!(Condition::RecordAgeExceeded.as_aws(), "RecordAgeExceeded");
    }
}
