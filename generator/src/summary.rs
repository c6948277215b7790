//! What a run produced, and what the pipeline must make of it: counts by
//! topic and by expected outcome, printed as one line for a person and as
//! one JSON object for a script.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use crate::generator::Expected;

/// Counts for one topic.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicSummary {
    /// Records delivered (or written).
    pub produced: u64,
    /// Records whose delivery failed.
    pub failed: u64,
    /// Delivered records the pipeline must store as rows.
    pub valid: u64,
    /// Delivered records the pipeline must dead-letter, by reason code.
    pub invalid: BTreeMap<String, u64>,
}

impl TopicSummary {
    /// Counts one delivered record.
    pub fn count(&mut self, expected: Expected) {
        self.produced += 1;
        match expected {
            Expected::Valid => self.valid += 1,
            Expected::Invalid(reason) => {
                *self.invalid.entry(reason.as_str().to_owned()).or_default() += 1
            }
        }
    }

    /// Delivered records the pipeline must dead-letter.
    pub fn invalid_total(&self) -> u64 {
        self.invalid.values().sum()
    }
}

/// The result of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerateSummary {
    /// `kafka`, `stdout` or `events`.
    pub output: String,
    /// Where records went: the bootstrap servers, `-` or the directory.
    pub destination: String,
    /// The seed; the same seed gives the same records.
    pub seed: u64,
    /// Records delivered (or written).
    pub produced: u64,
    /// Records whose delivery failed.
    pub failed: u64,
    /// Delivered records the pipeline must store.
    pub valid: u64,
    /// Delivered records the pipeline must dead-letter.
    pub invalid: u64,
    /// Per topic.
    pub by_topic: BTreeMap<String, TopicSummary>,
    /// Delivered bad records by reason code.
    pub invalid_reasons: BTreeMap<String, u64>,
    /// Failed deliveries by error text.
    pub delivery_errors: BTreeMap<String, u64>,
    /// Event files written (`events` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_files: Option<u64>,
    /// Wall-clock time of the run.
    pub elapsed_seconds: f64,
    /// `produced / elapsed_seconds`.
    pub messages_per_second: f64,
}

impl GenerateSummary {
    /// Rolls the per-topic counts up into the totals.
    pub fn finish(&mut self, elapsed_seconds: f64) {
        self.produced = self.by_topic.values().map(|t| t.produced).sum();
        self.failed = self.by_topic.values().map(|t| t.failed).sum();
        self.valid = self.by_topic.values().map(|t| t.valid).sum();
        self.invalid_reasons.clear();
        for t in self.by_topic.values() {
            for (reason, n) in &t.invalid {
                *self.invalid_reasons.entry(reason.clone()).or_default() += n;
            }
        }
        self.invalid = self.invalid_reasons.values().sum();
        self.elapsed_seconds = elapsed_seconds;
        self.messages_per_second = if elapsed_seconds > 0.0 {
            self.produced as f64 / elapsed_seconds
        } else {
            0.0
        };
    }

    /// Whether every record was delivered.
    pub fn is_complete(&self) -> bool {
        self.failed == 0
    }

    /// 0 when every record was delivered, 1 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        if self.is_complete() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }

    /// One line for a person: totals, per topic, the invalid mix, the rate.
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} records {} {} ({} failed) in {:.2} s, {:.0} msgs/s;",
            self.produced,
            match self.output.as_str() {
                "kafka" => "produced to",
                _ => "written to",
            },
            self.destination,
            self.failed,
            self.elapsed_seconds,
            self.messages_per_second
        );
        for (topic, t) in &self.by_topic {
            let _ = write!(s, " {topic} {}", t.produced);
            if t.failed > 0 {
                let _ = write!(s, " (+{} failed)", t.failed);
            }
            s.push(',');
        }
        s.pop();
        let _ = write!(s, "; {} valid, {} invalid", self.valid, self.invalid);
        if !self.invalid_reasons.is_empty() {
            let _ = write!(s, " ({})", reason_counts(&self.invalid_reasons));
        }
        for (error, n) in &self.delivery_errors {
            let _ = write!(s, "; {n} failed: {error}");
        }
        let _ = write!(s, "; seed {}", self.seed);
        s
    }
}

/// Counts by reason for a person: `reason n, reason n, ...` in the map's
/// order.
pub fn reason_counts<R: std::fmt::Display>(counts: &BTreeMap<R, u64>) -> String {
    let mix: Vec<String> = counts.iter().map(|(r, n)| format!("{r} {n}")).collect();
    mix.join(", ")
}
