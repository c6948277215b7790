//! `logpipe replay` as a whole process: a capture of several events, and
//! timed runs of the release binary on it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use logpipe_core::LogKind;

/// An event of `n` records of one kind (one topic, as an event source
/// mapping delivers them), `invalid_ratio` of them bad, from the
/// generator seeded with `seed`; JSON bytes as Lambda receives them.
pub fn single_topic_event(kind: LogKind, n: usize, seed: u64, invalid_ratio: f64) -> Vec<u8> {
    crate::generated_event(&[kind], n, seed, invalid_ratio)
}

/// One run of `logpipe replay --cassandra none --json FILES...`.
#[derive(Debug, Clone)]
pub struct ReplayRun {
    /// From spawning the process to its exit.
    pub wall: Duration,
    /// Its `--json` summary.
    pub summary: serde_json::Value,
}

impl ReplayRun {
    /// Records the summary counts.
    pub fn records(&self) -> u64 {
        self.summary["records"].as_u64().unwrap_or(0)
    }

    /// Records a second, spawn to exit.
    pub fn rate(&self) -> f64 {
        self.records() as f64 / self.wall.as_secs_f64()
    }
}

/// Runs the `logpipe` binary's `replay --cassandra none --json` on `files`
/// as a whole process; fails unless it exits 0 and prints its summary.
pub fn replay_none(logpipe: &Path, files: &[PathBuf]) -> Result<ReplayRun, String> {
    let mut cmd = Command::new(logpipe);
    cmd.args(["replay", "--cassandra", "none", "--json"])
        .args(files)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", logpipe.display()))?;
    let wall = started.elapsed();
    if !out.status.success() {
        return Err(format!(
            "{} replay failed ({}): {}",
            logpipe.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let summary = logpipe_testkit::last_json_line(&out.stdout)
        .map_err(|e| format!("{} replay printed no JSON summary: {e}", logpipe.display()))?;
    Ok(ReplayRun { wall, summary })
}

/// The parts of two replay summaries that must agree for two captures to
/// mean the same: records, outcomes, and the same by topic and by reason.
/// Returns a description of the first difference.
pub fn same_outcomes(a: &serde_json::Value, b: &serde_json::Value) -> Result<(), String> {
    for key in [
        "records",
        "written",
        "dead_lettered",
        "by_topic",
        "dead_letter_reasons",
    ] {
        if a[key] != b[key] || a[key].is_null() {
            return Err(format!("{key}: {} against {}", a[key], b[key]));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outcomes_must_match_key_by_key() {
        let a = json!({"records": 3, "written": 2, "dead_lettered": 1,
            "by_topic": {"t": {"records": 3}}, "dead_letter_reasons": {"invalid_json": 1}});
        assert!(same_outcomes(&a, &a.clone()).is_ok());
        let mut b = a.clone();
        b["dead_letter_reasons"] = json!({"invalid_field": 1});
        let e = same_outcomes(&a, &b).unwrap_err();
        assert!(e.starts_with("dead_letter_reasons"), "{e}");
        assert!(same_outcomes(&json!({}), &json!({})).is_err());
    }

    #[test]
    fn a_single_topic_event_holds_its_kind_only() {
        let payload = single_topic_event(LogKind::Session, 200, 7, 0.05);
        let batch = logpipe_core::batch::process_payload(
            &logpipe_core::Router::all_default("bench"),
            &payload,
        )
        .expect("processes");
        assert_eq!(batch.rows.len() + batch.dead_letters.len(), 200);
        assert!(!batch.dead_letters.is_empty(), "5% bad records");
        let text = String::from_utf8(payload).expect("UTF-8");
        assert!(text.contains("user_session_logs-0"));
        assert!(!text.contains("user_auth_logs") && !text.contains("user_activity_logs"));
    }
}
