//! `logpipe replay`: feed AWS Kafka event files through the same handler
//! code that runs in Lambda (each file's bytes go to the decoder the
//! Lambda entry point runs), store the result, and optionally dump every
//! table back as JSON lines.
//!
//! Exit codes: 0 all stored; 1 a file cannot be read or is not an event
//! (not JSON, not a Kafka event, a record or `records` key whose partition
//! is not a Kafka partition number...): every file is read and decoded
//! before anything is stored, so nothing is stored then; 2 a storage
//! failure; 64 a usage error (`--dump` with `--cassandra none`; clap's own
//! parse errors are mapped to 64 in `main`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use log_generator::flags::named_topic;
use logpipe_core::batch::{process_payload, ProcessedBatch, TopicCounts};
use logpipe_core::topics::DEFAULT_KEYSPACE;
use logpipe_core::{Function, LogKind, Router};
use logpipe_local::dump::{self, PartitionKey};
use serde::Serialize;

use crate::storage::{self, Target};

/// Function name recorded on dead letters of topics no function owns.
const REPLAY_FUNCTION: &str = "logpipe-replay";

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// Event files (one AWS Lambda Kafka event each, MSK or self-managed).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Where to store: `embedded` (an in-process CQL node), `none` (validate
    /// and transform only) or HOST:PORT of a running server.
    #[arg(
        long,
        default_value = "embedded",
        value_name = "embedded|none|HOST:PORT"
    )]
    cassandra: Target,

    /// Keyspace of the four tables.
    #[arg(long, default_value = DEFAULT_KEYSPACE, env = "LOGPIPE_CASSANDRA_KEYSPACE")]
    keyspace: String,

    /// Apply the schema to a HOST:PORT server first (always done on `embedded`).
    #[arg(long)]
    apply_schema: bool,

    /// Route a topic name to a function: KIND=TOPIC (KIND: auth, session,
    /// activity). Defaults: user_auth_logs, user_session_logs, user_activity_logs.
    #[arg(long = "topic", value_name = "KIND=TOPIC", value_parser = parse_route)]
    topics: Vec<(LogKind, String)>,

    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    json: bool,

    /// Read all four tables back after the replay into DIR/<table>.jsonl.
    #[arg(long, value_name = "DIR")]
    dump: Option<PathBuf>,
}

fn parse_route(s: &str) -> Result<(LogKind, String), String> {
    let (kind, topic) = s
        .split_once('=')
        .ok_or_else(|| format!("expected KIND=TOPIC, got {s:?}"))?;
    let kind = kind.parse::<LogKind>().map_err(|e| e.to_string())?;
    if topic.is_empty() {
        return Err("topic name is empty".into());
    }
    Ok((kind, topic.to_owned()))
}

/// The replay summary (`--json`).
#[derive(Debug, Default, Serialize)]
pub struct ReplaySummary {
    pub events: u64,
    pub records: u64,
    pub written: u64,
    pub dead_lettered: u64,
    pub by_topic: BTreeMap<String, TopicCounts>,
    pub dead_letter_reasons: BTreeMap<&'static str, u64>,
}

/// Exit status of a usage error (BSD's `EX_USAGE`).
pub const EXIT_USAGE: u8 = 64;

/// What reading one file gave: its batch, when it is to be stored, or
/// only its counts.
enum FileOutcome {
    Kept(ProcessedBatch),
    Counted(ReplaySummary),
}

/// Reads, decodes, validates and transforms every file before anything is
/// stored, so that no file fails after an earlier one was stored. Files
/// are independent, so they are read on every core; the summary and the
/// error (the first failing file, in the order given) do not depend on
/// it. Each file's batch is kept when it is to be stored, else only
/// counted, so a check of a large capture (`--cassandra none`) holds one
/// batch a core at a time.
fn process_files(
    files: &[PathBuf],
    router: &Router,
    keep: bool,
    summary: &mut ReplaySummary,
) -> Result<Vec<ProcessedBatch>, String> {
    // Each reader reuses one buffer for its files: memory it has touched
    // already, where a fresh one a file would cost a page fault every 4 KiB.
    let read = |path: &PathBuf, bytes: &mut Vec<u8>| -> Result<FileOutcome, String> {
        bytes.clear();
        std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read_to_end(&mut f, bytes))
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let batch =
            process_payload(router, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(if keep {
            FileOutcome::Kept(batch)
        } else {
            FileOutcome::Counted(ReplaySummary::of(&batch))
        })
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len());
    let mut outcomes: Vec<Option<Result<FileOutcome, String>>> =
        (0..files.len()).map(|_| None).collect();
    if workers <= 1 {
        let mut bytes = Vec::new();
        for (slot, path) in outcomes.iter_mut().zip(files) {
            *slot = Some(read(path, &mut bytes));
        }
    } else {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let done: Vec<Vec<(usize, Result<FileOutcome, String>)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        let mut bytes = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(path) = files.get(i) else { break };
                            mine.push((i, read(path, &mut bytes)));
                        }
                        mine
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        for (i, outcome) in done.into_iter().flatten() {
            outcomes[i] = Some(outcome);
        }
    }
    let mut batches = Vec::with_capacity(if keep { files.len() } else { 0 });
    for outcome in outcomes.into_iter().flatten() {
        match outcome? {
            FileOutcome::Kept(batch) => {
                summary.merge(ReplaySummary::of(&batch));
                batches.push(batch);
            }
            FileOutcome::Counted(counted) => summary.merge(counted),
        }
    }
    Ok(batches)
}

impl ReplaySummary {
    /// The summary of one event's batch.
    fn of(batch: &ProcessedBatch) -> Self {
        let s = batch.summary();
        ReplaySummary {
            events: 1,
            records: s.records,
            written: s.written,
            dead_lettered: s.dead_lettered,
            by_topic: batch.by_topic.clone(),
            dead_letter_reasons: batch.reasons.clone(),
        }
    }

    /// Adds `other`'s counts to these.
    fn merge(&mut self, other: ReplaySummary) {
        self.events += other.events;
        self.records += other.records;
        self.written += other.written;
        self.dead_lettered += other.dead_lettered;
        for (topic, c) in other.by_topic {
            let t = self.by_topic.entry(topic).or_default();
            t.records += c.records;
            t.written += c.written;
            t.dead_lettered += c.dead_lettered;
        }
        for (reason, n) in other.dead_letter_reasons {
            *self.dead_letter_reasons.entry(reason).or_default() += n;
        }
    }
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    if args.dump.is_some() && args.cassandra == Target::None {
        eprintln!(
            "error: --dump reads rows back from CQL: it needs --cassandra embedded or HOST:PORT, not none"
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let mut routes: Vec<(String, LogKind)> = LogKind::ALL
        .into_iter()
        .map(|k| (named_topic(&args.topics, k).to_owned(), k))
        .collect();
    routes.sort();
    let router = Router::new(routes, REPLAY_FUNCTION);
    let mut summary = ReplaySummary::default();
    let keep = args.cassandra != Target::None;
    let batches = match process_files(&args.files, &router, keep, &mut summary) {
        Ok(batches) => batches,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(ExitCode::from(1));
        }
    };

    let storage = match storage::open(&args.cassandra, &args.keyspace, args.apply_schema).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            return Ok(ExitCode::from(2));
        }
    };
    let function = Function::new(router, storage.sink.clone());

    let mut partitions: BTreeMap<&'static str, Vec<PartitionKey>> = BTreeMap::new();
    for (path, batch) in args.files.iter().zip(batches) {
        let batch = match function.store_processed(batch).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return Ok(ExitCode::from(2));
            }
        };
        if args.dump.is_some() {
            for (table, keys) in dump::partitions_of(&batch) {
                partitions.entry(table).or_default().extend(keys);
            }
        }
    }

    // `--dump` without a sink (`--cassandra none`) was refused up front.
    if let (Some(dir), Some(sink)) = (&args.dump, &storage.sink) {
        let tables = match dump::dump_all(sink.session(), &args.keyspace, &partitions).await {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(2));
            }
        };
        write_dump(dir, &tables)?;
    }

    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        print_summary(&summary, args.dump.as_deref());
    }
    // Close the session before the embedded node it talks to.
    drop(function);
    drop(storage);
    Ok(ExitCode::SUCCESS)
}

/// An error and its causes, each said once. The driver's errors (and the
/// sink's, which wrap them) end their own message with their source's, so
/// `{:#}` would print the same text once for every level of the chain.
pub(crate) fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let said = cause.to_string();
        if text.contains(&said) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&said);
    }
    text
}

fn write_dump(
    dir: &Path,
    tables: &BTreeMap<&'static str, Vec<dump::JsonRow>>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (table, rows) in tables {
        let path = dir.join(format!("{table}.jsonl"));
        let mut text = String::new();
        for row in rows {
            text.push_str(&serde_json::to_string(row)?);
            text.push('\n');
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn print_summary(s: &ReplaySummary, dump: Option<&Path>) {
    println!(
        "replayed {} event(s): {} records, {} written, {} dead-lettered",
        s.events, s.records, s.written, s.dead_lettered
    );
    for (topic, c) in &s.by_topic {
        println!(
            "  {topic:<22} {:>8} records {:>8} written {:>8} dead-lettered",
            c.records, c.written, c.dead_lettered
        );
    }
    if !s.dead_letter_reasons.is_empty() {
        println!(
            "dead-letter reasons: {}",
            log_generator::reason_counts(&s.dead_letter_reasons)
        );
    }
    if let Some(dir) = dump {
        println!("tables dumped to {}", dir.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error whose message ends with its source's, as the driver's do.
    #[derive(Debug)]
    struct Outer(Inner);

    #[derive(Debug)]
    struct Inner;

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "cannot connect to X: {}", self.0)
        }
    }

    impl std::fmt::Display for Inner {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("bad credentials")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    impl std::error::Error for Inner {}

    #[test]
    fn error_text_says_each_cause_once() {
        let e = anyhow::Error::from(Outer(Inner));
        assert_eq!(
            format!("{e:#}"),
            "cannot connect to X: bad credentials: bad credentials"
        );
        assert_eq!(error_text(&e), "cannot connect to X: bad credentials");
        let e = anyhow::Error::from(Inner).context("reading LOGPIPE_* configuration");
        assert_eq!(
            error_text(&e),
            "reading LOGPIPE_* configuration: bad credentials"
        );
    }
}
