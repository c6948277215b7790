//! `logpipe demo`: the whole pipeline in one command, with nothing to set
//! up. It starts an embedded Kafka cluster and an embedded CQL node (or
//! uses `--kafka` / `--cassandra`), creates the topics and the schema,
//! starts one event source mapping a topic (the three functions run in this
//! process), produces `--records` generated logs to each topic, waits until
//! every record is stored, and prints what happened: produced, written and
//! dead-lettered per topic against what the generator says the pipeline
//! must make of its records, throughput, batch latency, and rows read back
//! through CQL.
//!
//! Exit codes: 0 when every produced record was stored as the generator
//! expects (a row for each valid one, a dead letter for each bad one); 1
//! otherwise (including a timeout).

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use log_generator::flags::parse_ratio;
use log_generator::{
    produce_with, Backlog, EventVariant, KafkaSecurity, ProduceConfig, RunControl,
    DEFAULT_CLUSTER_ARN,
};
use logpipe_core::sink::CassandraSink;
use logpipe_core::topics::DEFAULT_KEYSPACE;
use logpipe_core::{Function, LogKind, Router};
use logpipe_local::dump::{self, JsonRow, PartitionKey};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;
use scylla::client::session::Session;
use serde::Serialize;
use tokio::sync::watch;

use crate::broker::EmbeddedKafka;
use crate::cmd::topics::create_topics;
use crate::esm::event::{EventSource, MAX_PAYLOAD_BYTES};
use crate::esm::invoke::{samples_of, InProcess, Invoker};
use crate::esm::poller::{consumer_settings, Mapping, MappingConfig, StartingPosition};
use crate::esm::retry::RetryPolicy;
use crate::esm::stats::{MappingStats, Percentiles};

/// Records a partition of the embedded broker may hold unconsumed (logs are
/// 300–700 bytes, so about 3 MB of the 5 MB it keeps a partition).
const BACKLOG_PER_PARTITION: u64 = 5_000;
use crate::storage::{self, Target};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Logs to produce to each of the three topics
    #[arg(long, value_name = "N_PER_TOPIC", default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    records: u64,

    /// Fraction of the logs of each topic that are bad (dead-lettered)
    #[arg(long, value_name = "RATIO", default_value_t = 0.01, value_parser = parse_ratio)]
    invalid_ratio: f64,

    /// Seed of the generator
    #[arg(long, default_value_t = 1)]
    seed: u64,

    /// Partitions of each topic
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=1000))]
    partitions: i32,

    /// Most records in one batch (one invocation)
    #[arg(long, value_name = "N", default_value_t = 500,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    batch_size: u64,

    /// Longest wait to fill a batch, seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 0.5)]
    maximum_batching_window_in_seconds: f64,

    /// Use this Kafka instead of an embedded one (HOST:PORT[,...]); the
    /// topics are created if missing, and records already in them are left
    /// alone
    #[arg(long, value_name = "HOST:PORT")]
    kafka: Option<String>,

    /// TLS and SASL to the --kafka brokers (the embedded one is plaintext)
    #[command(flatten)]
    security: KafkaSecurity,

    /// Use this Cassandra / ScyllaDB instead of an embedded node
    /// (HOST:PORT; the schema is applied, idempotently)
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_remote)]
    cassandra: Option<Target>,

    /// Keyspace of the four tables
    #[arg(long, default_value = DEFAULT_KEYSPACE, env = "LOGPIPE_CASSANDRA_KEYSPACE")]
    keyspace: String,

    /// Give up (and fail) if the records are not all stored by then
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    timeout: Duration,

    /// Print the summary as one JSON object on the last line of stdout (the
    /// table goes to stderr)
    #[arg(long)]
    json: bool,
}

fn parse_remote(s: &str) -> Result<Target, String> {
    match s.parse::<Target>()? {
        t @ Target::Remote(_) => Ok(t),
        _ => Err(format!("expected HOST:PORT, got {s:?}")),
    }
}

/// One topic's line of the summary.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TopicOutcome {
    pub function: String,
    pub produced: u64,
    pub written: u64,
    pub dead_lettered: u64,
    /// Records the function failed on and the mapping gave up.
    pub given_up: u64,
    /// What the generator says must be written.
    pub expected_written: u64,
    /// What the generator says must be dead-lettered.
    pub expected_dead_lettered: u64,
    pub accounted_for: bool,
}

/// The final summary (`--json`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoSummary {
    pub produced: u64,
    pub written: u64,
    pub dead_lettered: u64,
    pub by_topic: BTreeMap<String, TopicOutcome>,
    /// Records stored a second, from the first record produced to the last
    /// one stored.
    pub records_per_second: f64,
    pub batch_latency_ms: Percentiles,
    pub batches: u64,
    pub failed_deliveries: u64,
    pub elapsed_seconds: f64,
    pub timed_out: bool,
    pub ok: bool,
    pub kafka: String,
    pub cassandra: String,
    /// A few rows of each table, read back through CQL.
    pub sample_rows: BTreeMap<String, Vec<JsonRow>>,
}

struct Running {
    kind: LogKind,
    topic: String,
    stats: Arc<MappingStats>,
    invoker: Arc<Invoker>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// The CQL storage the functions write to, ready.
struct Storage {
    sink: Arc<CassandraSink>,
    /// How the report names it.
    name: String,
    /// Held for the node it may run; declared last, so that dropping a
    /// `Storage` closes the sink's session before the node it talks to.
    _storage: storage::Storage,
}

/// The Kafka cluster, its topics created.
struct Kafka {
    /// The embedded broker, when there is no `--kafka`.
    embedded: Option<EmbeddedKafka>,
    bootstrap: String,
    /// How the report names it.
    name: String,
}

/// The three event source mappings, consuming.
struct Mappings {
    running: Vec<Running>,
    stop: watch::Sender<bool>,
}

/// How waiting for the records to be stored ended.
struct Stored {
    timed_out: bool,
    /// From the first record produced to the last stored.
    elapsed: Duration,
}

/// Progress lines on stderr, above the progress bars.
struct Steps {
    multi: MultiProgress,
}

impl Steps {
    fn say(&self, what: &str) {
        let _ = self.multi.println(format!("· {what}"));
    }
}

/// A Kafka client configuration for `bootstrap` with the demo's TLS and
/// SASL settings.
fn kafka_config(args: &DemoArgs, bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    args.security.apply(&mut config);
    config
}

fn topics() -> Vec<(LogKind, String)> {
    LogKind::ALL
        .into_iter()
        .map(|k| (k, k.default_topic().to_owned()))
        .collect()
}

/// The demo, step by step: storage, Kafka, mappings, produce, wait,
/// reconcile, report.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    if args.kafka.is_none() && !args.security.is_default() {
        anyhow::bail!(
            "the TLS and SASL flags (--security-protocol, --sasl-*, --ssl-ca-location) need --kafka: the embedded broker is plaintext"
        );
    }
    args.security.validate()?;
    let steps = Steps {
        multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
    };
    let topics = topics();
    let storage = start_storage(&args, &steps).await?;
    let kafka = start_kafka(&args, &topics, &steps).await?;
    let mappings = start_mappings(&args, &topics, &storage, &kafka, &steps).await?;
    join_groups(&mappings, &steps).await;

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let interrupted = interrupted.clone();
        let stop = mappings.stop.clone();
        log_generator::shutdown::on_ctrl_c(None, move || {
            interrupted.store(true, Ordering::Relaxed);
            let _ = stop.send(true);
        });
    }
    let bars: Vec<ProgressBar> = mappings
        .running
        .iter()
        .map(|r| {
            let bar = bar(args.records, &format!("{:<8}", r.kind.function_name()));
            steps.multi.add(bar)
        })
        .collect();
    let started = Instant::now();
    let produced = produce(&args, &kafka, &mappings, &interrupted, &steps).await?;
    let stored = wait_until_stored(&args, &mappings, &bars, &produced, started, &interrupted).await;
    let summary = reconcile(
        &args,
        mappings,
        &produced,
        &storage,
        &kafka,
        stored,
        &interrupted,
    )
    .await;
    report(&summary, args.json)?;
    drop(storage);
    drop(kafka);
    Ok(if summary.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Opens the CQL storage (embedded, or `--cassandra`) with the schema.
async fn start_storage(args: &DemoArgs, steps: &Steps) -> anyhow::Result<Storage> {
    let target = args.cassandra.clone().unwrap_or(Target::Embedded);
    let storage = storage::open(&target, &args.keyspace, true)
        .await
        .context("opening the CQL storage")?;
    let sink = storage.sink.clone().context("the demo needs a CQL node")?;
    let name = match (&target, &storage._node) {
        (Target::Remote(hp), _) => hp.clone(),
        (_, Some(node)) => format!("embedded {}", node.addr()),
        _ => String::new(),
    };
    steps.say(&format!(
        "CQL node {name}: keyspace {} ready",
        args.keyspace
    ));
    Ok(Storage {
        sink,
        name,
        _storage: storage,
    })
}

/// Starts the embedded broker, or reaches `--kafka`, and creates the topics.
async fn start_kafka(
    args: &DemoArgs,
    topics: &[(LogKind, String)],
    steps: &Steps,
) -> anyhow::Result<Kafka> {
    let names: Vec<String> = topics.iter().map(|(_, t)| t.clone()).collect();
    let (embedded, bootstrap) = match &args.kafka {
        None => {
            let kafka = EmbeddedKafka::start(1)?;
            for topic in &names {
                kafka.create_topic(topic, args.partitions)?;
            }
            let bootstrap = kafka.bootstrap_servers();
            (Some(kafka), bootstrap)
        }
        Some(b) => {
            let mut config = kafka_config(args, b);
            config.set("client.id", "logpipe-demo");
            create_topics(&config, &names, args.partitions, 1)
                .await
                .with_context(|| format!("creating the topics at {b}"))?;
            (None, b.clone())
        }
    };
    let name = if embedded.is_some() {
        format!("embedded {bootstrap}")
    } else {
        bootstrap.clone()
    };
    steps.say(&format!("Kafka {name}: topics {} ready", names.join(", ")));
    Ok(Kafka {
        embedded,
        bootstrap,
        name,
    })
}

/// Starts one event source mapping a topic, each invoking its function in
/// this process, from where the topics end now (older records are not
/// this demo's).
async fn start_mappings(
    args: &DemoArgs,
    topics: &[(LogKind, String)],
    storage: &Storage,
    kafka: &Kafka,
    steps: &Steps,
) -> anyhow::Result<Mappings> {
    let bootstrap = &kafka.bootstrap;
    let start_offsets = {
        let mut config = kafka_config(args, bootstrap);
        config.set("client.id", "logpipe-demo-offsets");
        let names: Vec<String> = topics.iter().map(|(_, t)| t.clone()).collect();
        tokio::task::spawn_blocking(move || end_offsets(&config, &names))
            .await
            .context("reading the topics' end offsets")??
    };
    let (stop, stopped) = watch::channel(false);
    let group = format!("logpipe-demo-{}", uuid::Uuid::new_v4().simple());
    let mut running = Vec::new();
    for (kind, topic) in topics {
        let function = Function::new(Router::single(*kind, topic), Some(storage.sink.clone()));
        let invoker = Arc::new(Invoker::InProcess(InProcess::new(
            function,
            kind.function_name(),
        )));
        let config = MappingConfig {
            topic: topic.clone(),
            function_name: kind.function_name().to_owned(),
            group_id: format!("{group}-{}", kind.function_name()),
            batch_size: args.batch_size as usize,
            batching_window: Duration::from_secs_f64(
                args.maximum_batching_window_in_seconds.clamp(0.0, 300.0),
            ),
            starting_position: StartingPosition::TrimHorizon,
            start_offsets: Some(start_offsets.get(topic).cloned().unwrap_or_default()),
            source: EventSource {
                variant: EventVariant::SelfManaged,
                event_source_arn: DEFAULT_CLUSTER_ARN.to_owned(),
                bootstrap_servers: bootstrap.clone(),
            },
            retry: RetryPolicy {
                maximum_retry_attempts: Some(3),
                maximum_record_age: None,
                bisect_on_error: false,
                base_delay: Duration::from_millis(200),
                max_delay: Duration::from_secs(2),
            },
            payload_limit: MAX_PAYLOAD_BYTES,
            idle_exit: None,
            print_batches: false,
        };
        let mut client = kafka_config(args, bootstrap);
        consumer_settings(&config, &mut client);
        let stats = Arc::new(MappingStats::default());
        let mapping = Mapping::new(config, invoker.clone(), None, stats.clone());
        running.push(Running {
            kind: *kind,
            topic: topic.clone(),
            stats,
            invoker,
            task: tokio::spawn(mapping.run(client, stopped.clone())),
        });
    }
    steps.say(&format!(
        "event source mappings started: {} (batch size {}, consumer groups {group}-*)",
        topics
            .iter()
            .map(|(k, t)| format!("{t} → {}", k.function_name()))
            .collect::<Vec<_>>()
            .join(", "),
        args.batch_size
    ));
    Ok(Mappings { running, stop })
}

/// Lets the consumers join their groups, so that the clock times the
/// pipeline rather than the group protocol.
async fn join_groups(mappings: &Mappings, steps: &Steps) {
    let joining = Instant::now();
    while !mappings
        .running
        .iter()
        .all(|r| r.stats.assigned.load(Ordering::Relaxed) || r.task.is_finished())
        && joining.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    steps.say(&format!(
        "consumer groups joined in {:.1} s",
        joining.elapsed().as_secs_f64()
    ));
}

/// Produces `--records` generated logs to each topic while the mappings
/// consume.
async fn produce(
    args: &DemoArgs,
    kafka: &Kafka,
    mappings: &Mappings,
    interrupted: &Arc<AtomicBool>,
    steps: &Steps,
) -> anyhow::Result<log_generator::GenerateSummary> {
    let total = args.records * mappings.running.len() as u64;
    let produce_bar = steps.multi.add(bar(total, "produce "));
    // The embedded broker keeps at most 5 MB a partition and drops the
    // oldest records beyond it, so the producer must not outrun the
    // mappings there: at most BACKLOG_PER_PARTITION records a partition
    // (about 3 MB of logs) wait unconsumed. A real broker keeps its log.
    let backlog = kafka.embedded.as_ref().map(|_| {
        let stats: Vec<Arc<MappingStats>> =
            mappings.running.iter().map(|r| r.stats.clone()).collect();
        Backlog {
            limit: BACKLOG_PER_PARTITION * args.partitions as u64,
            resolved: Arc::new(move || stats.iter().map(|s| MappingStats::get(&s.records)).sum()),
        }
    });
    let control = RunControl {
        stop: interrupted.clone(),
        progress: produce_bar.clone(),
        backlog,
    };
    let mut produce_config = ProduceConfig::new(
        &kafka.bootstrap,
        args.records,
        args.seed,
        args.invalid_ratio,
    );
    produce_config.security = args.security.clone();
    let bootstrap = kafka.bootstrap.clone();
    let produced = tokio::task::spawn_blocking(move || produce_with(&produce_config, &control))
        .await
        .context("the producer stopped")?
        .with_context(|| format!("producing to {bootstrap}"))?;
    produce_bar.finish();
    steps.say(&produced.line());
    Ok(produced)
}

/// Waits until every produced record is stored (or given up on), a mapping
/// stops, Ctrl-C, or `--timeout` after `started`.
async fn wait_until_stored(
    args: &DemoArgs,
    mappings: &Mappings,
    bars: &[ProgressBar],
    produced: &log_generator::GenerateSummary,
    started: Instant,
    interrupted: &AtomicBool,
) -> Stored {
    let deadline = started + args.timeout;
    let mut stored = Stored {
        timed_out: false,
        elapsed: started.elapsed(),
    };
    loop {
        let mut done = true;
        for (r, b) in mappings.running.iter().zip(bars) {
            let resolved = MappingStats::get(&r.stats.records);
            b.set_position(resolved);
            let want = produced.by_topic.get(&r.topic).map_or(0, |t| t.produced);
            if resolved < want {
                done = false;
            }
        }
        if done {
            stored.elapsed = started.elapsed();
            break;
        }
        if mappings.running.iter().any(|r| r.task.is_finished())
            || interrupted.load(Ordering::Relaxed)
        {
            break;
        }
        if Instant::now() >= deadline {
            stored.timed_out = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for b in bars {
        b.finish();
    }
    stored
}

/// Stops the mappings and sets what each topic's mapping stored beside
/// what the generator says it must: the summary.
async fn reconcile(
    args: &DemoArgs,
    mappings: Mappings,
    produced: &log_generator::GenerateSummary,
    storage: &Storage,
    kafka: &Kafka,
    stored: Stored,
    interrupted: &AtomicBool,
) -> DemoSummary {
    let _ = mappings.stop.send(true);
    let mut mapping_errors = Vec::new();
    let mut samples: BTreeMap<&'static str, Vec<PartitionKey>> = BTreeMap::new();
    let mut latencies = Vec::new();
    let mut summary = DemoSummary {
        kafka: kafka.name.clone(),
        cassandra: storage.name.clone(),
        timed_out: stored.timed_out,
        failed_deliveries: produced.failed,
        ..DemoSummary::default()
    };
    for r in mappings.running {
        match r.task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => mapping_errors.push(format!("{}: {e:#}", r.topic)),
            Err(e) => mapping_errors.push(format!("{}: {e}", r.topic)),
        }
        for (table, keys) in samples_of(&r.invoker) {
            samples.entry(table).or_default().extend(keys);
        }
        latencies.extend(r.stats.latencies_ms());
        let c = r.stats.counts();
        summary.batches += c.batches;
        let generated = produced.by_topic.get(&r.topic).cloned().unwrap_or_default();
        let mut outcome = TopicOutcome {
            function: r.kind.function_name().to_owned(),
            produced: generated.produced,
            written: c.written,
            dead_lettered: c.dead_lettered,
            given_up: c.discarded,
            expected_written: generated.valid,
            expected_dead_lettered: generated.invalid_total(),
            accounted_for: false,
        };
        outcome.accounted_for = outcome.produced == outcome.written + outcome.dead_lettered
            && outcome.written == outcome.expected_written
            && outcome.dead_lettered == outcome.expected_dead_lettered
            && outcome.given_up == 0;
        summary.by_topic.insert(r.topic.clone(), outcome);
    }
    for e in &mapping_errors {
        eprintln!("error: {e}");
    }
    let elapsed = stored.elapsed.as_secs_f64();
    summary.produced = summary.by_topic.values().map(|t| t.produced).sum();
    summary.written = summary.by_topic.values().map(|t| t.written).sum();
    summary.dead_lettered = summary.by_topic.values().map(|t| t.dead_lettered).sum();
    summary.elapsed_seconds = round2(elapsed);
    summary.records_per_second = if elapsed > 0.0 {
        ((summary.written + summary.dead_lettered) as f64 / elapsed).round()
    } else {
        0.0
    };
    summary.batch_latency_ms = Percentiles::of(latencies);
    summary.sample_rows = read_samples(storage.sink.session(), &args.keyspace, &samples).await;
    summary.ok = !stored.timed_out
        && mapping_errors.is_empty()
        && produced.failed == 0
        && !interrupted.load(Ordering::Relaxed)
        && summary.by_topic.values().all(|t| t.accounted_for);
    summary
}

/// Prints the table a person reads, and with `--json` the summary as one
/// JSON object on stdout (the table then goes to stderr).
fn report(summary: &DemoSummary, json: bool) -> anyhow::Result<()> {
    let table = render(summary);
    if json {
        eprint!("{table}");
        println!("{}", serde_json::to_string(summary)?);
    } else {
        print!("{table}");
    }
    Ok(())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn bar(len: u64, prefix: &str) -> ProgressBar {
    let b = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{prefix} [{bar:30}] {human_pos}/{human_len} {per_sec} {msg}")
    {
        b.set_style(style.progress_chars("=> "));
    }
    b.set_prefix(prefix.to_owned());
    b
}

/// The end offset of every partition of `topics`, by topic.
fn end_offsets(
    config: &ClientConfig,
    topics: &[String],
) -> anyhow::Result<BTreeMap<String, BTreeMap<i32, i64>>> {
    let consumer: BaseConsumer = config.create().context("creating a Kafka client")?;
    let timeout = Duration::from_secs(15);
    let mut out = BTreeMap::new();
    for topic in topics {
        let metadata = consumer
            .fetch_metadata(Some(topic), timeout)
            .with_context(|| format!("reading the partitions of {topic}"))?;
        let mut ends = BTreeMap::new();
        for t in metadata.topics() {
            for p in t.partitions() {
                let (_, high) = consumer
                    .fetch_watermarks(topic, p.id(), timeout)
                    .with_context(|| format!("reading the end of {topic}-{}", p.id()))?;
                ends.insert(p.id(), high);
            }
        }
        out.insert(topic.clone(), ends);
    }
    Ok(out)
}

/// Rows of the sampled partitions, at most two a table, read back through
/// CQL as `logpipe replay --dump` renders them.
async fn read_samples(
    session: &Session,
    keyspace: &str,
    samples: &BTreeMap<&'static str, Vec<PartitionKey>>,
) -> BTreeMap<String, Vec<JsonRow>> {
    let mut out = BTreeMap::new();
    for table in logpipe_core::schema::tables() {
        let Some(key) = samples.get(table.table).and_then(|k| k.first()) else {
            continue;
        };
        match dump::partition_rows(session, keyspace, &table, key).await {
            Ok(mut rows) => {
                rows.truncate(2);
                out.insert(table.table.to_owned(), rows);
            }
            Err(e) => eprintln!("warning: {e}"),
        }
    }
    out
}

/// The table a person reads.
fn render(s: &DemoSummary) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Kafka {}  →  functions  →  CQL {}",
        s.kafka, s.cassandra
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<20} {:<14} {:>10} {:>10} {:>14} {:>9}  accounted for",
        "topic", "function", "produced", "written", "dead-lettered", "given up"
    );
    for (topic, t) in &s.by_topic {
        let _ = writeln!(
            out,
            "{:<20} {:<14} {:>10} {:>10} {:>14} {:>9}  {}",
            topic,
            t.function,
            t.produced,
            t.written,
            t.dead_lettered,
            t.given_up,
            if t.accounted_for {
                "yes".to_owned()
            } else {
                format!(
                    "NO (expected {} written, {} dead-lettered)",
                    t.expected_written, t.expected_dead_lettered
                )
            }
        );
    }
    let _ = writeln!(
        out,
        "{:<20} {:<14} {:>10} {:>10} {:>14}",
        "total", "", s.produced, s.written, s.dead_lettered
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "throughput {:.0} records/s end to end ({:.2} s from the first record produced to the last stored)",
        s.records_per_second, s.elapsed_seconds
    );
    let _ = writeln!(
        out,
        "batch latency p50 {:.1} ms, p99 {:.1} ms over {} batches",
        s.batch_latency_ms.p50, s.batch_latency_ms.p99, s.batches
    );
    if s.failed_deliveries > 0 {
        let _ = writeln!(out, "{} records could not be produced", s.failed_deliveries);
    }
    if s.timed_out {
        let _ = writeln!(out, "timed out before every record was stored");
    }
    for (table, rows) in &s.sample_rows {
        let _ = writeln!(out);
        let _ = writeln!(out, "== {table} (read back through CQL)");
        for row in rows {
            let text = serde_json::to_string(row).unwrap_or_default();
            let cut: String = text.chars().take(240).collect();
            let _ = writeln!(
                out,
                "{cut}{}",
                if cut.len() < text.len() { "…" } else { "" }
            );
        }
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{}",
        if s.ok {
            "every record is accounted for"
        } else {
            "NOT every record is accounted for"
        }
    );
    out
}
