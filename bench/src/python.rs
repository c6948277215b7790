//! The Python side of the benchmarks: the scripts of `bench/python/`, run as
//! child processes with the interpreter `bench-report --python` names.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The rewriting script: events as a Python producer would write them.
pub const DUMPS_SCRIPT: &str = "bench/python/dumps.py";
/// The per-invocation timer of the reference handler.
pub const TIMINGS_SCRIPT: &str = "bench/python/timings.py";

/// Runs `python script args...`; returns its last line of JSON.
fn run_json(python: &str, script: &str, args: &[&Path]) -> Result<serde_json::Value, String> {
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {python} {script}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{script} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    logpipe_testkit::last_json_line(&out.stdout)
        .map_err(|e| format!("{script} printed no JSON summary: {e}"))
}

/// Rewrites `files` into `out_dir` with `json.dumps` defaults
/// ([`DUMPS_SCRIPT`]); returns the new files, in the same order, and the
/// script's summary.
pub fn rewrite_with_dumps(
    python: &str,
    out_dir: &Path,
    files: &[PathBuf],
) -> Result<(Vec<PathBuf>, serde_json::Value), String> {
    let mut args: Vec<&Path> = vec![out_dir];
    args.extend(files.iter().map(PathBuf::as_path));
    let summary = run_json(python, DUMPS_SCRIPT, &args)?;
    let written: Vec<PathBuf> = summary["files"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
                .collect()
        })
        .unwrap_or_default();
    if written.len() != files.len() {
        return Err(format!(
            "{DUMPS_SCRIPT} wrote {} files for {} inputs",
            written.len(),
            files.len()
        ));
    }
    Ok((written, summary))
}

/// What [`TIMINGS_SCRIPT`] measured.
#[derive(Debug, Clone)]
pub struct Timings {
    /// Records of one pass over the files, and their outcomes.
    pub records: u64,
    pub written: u64,
    pub dead_lettered: u64,
    /// For each file, the seconds of each of its invocations.
    pub seconds: Vec<Vec<f64>>,
    /// The interpreter's peak RSS.
    pub peak_rss_kib: u64,
}

impl Timings {
    /// Seconds of pass `i` over all the files.
    pub fn pass_seconds(&self, i: usize) -> f64 {
        self.seconds.iter().filter_map(|s| s.get(i)).sum()
    }

    /// The fastest pass over all the files, in seconds.
    pub fn best_pass(&self) -> f64 {
        let passes = self.seconds.first().map_or(0, Vec::len);
        (0..passes)
            .map(|i| self.pass_seconds(i))
            .fold(f64::INFINITY, f64::min)
    }
}

/// Runs the reference handler on `files`, `invocations` times each (one
/// pass over the files after another), timing each invocation in-process:
/// `json.loads` of the event plus `handle()`.
pub fn timings(python: &str, files: &[PathBuf], invocations: usize) -> Result<Timings, String> {
    let n = invocations.max(1).to_string();
    let mut args: Vec<&Path> = vec![Path::new("--invocations"), Path::new(&n)];
    args.extend(files.iter().map(PathBuf::as_path));
    let v = run_json(python, TIMINGS_SCRIPT, &args)?;
    let count = |k: &str| {
        v[k].as_u64()
            .ok_or_else(|| format!("{TIMINGS_SCRIPT} printed no {k:?}"))
    };
    let seconds: Vec<Vec<f64>> = v["seconds"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .map(|s| {
                    s.as_array()
                        .map(|s| s.iter().filter_map(serde_json::Value::as_f64).collect())
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default();
    if seconds.len() != files.len() || seconds.iter().any(|s| s.len() != invocations.max(1)) {
        return Err(format!(
            "{TIMINGS_SCRIPT} did not time every invocation: {}",
            v["seconds"]
        ));
    }
    Ok(Timings {
        records: count("records")?,
        written: count("written")?,
        dead_lettered: count("dead_lettered")?,
        seconds,
        peak_rss_kib: count("peak_rss_kib")?,
    })
}
