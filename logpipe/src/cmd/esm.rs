//! `logpipe esm`: the local event source mapping. Polls one topic or all
//! three with a consumer group each, builds AWS Lambda Kafka events,
//! invokes the functions (in this process, or over the Lambda invoke API),
//! and commits offsets only after the function succeeded.
//!
//! Exit codes: 0 when every record consumed was acknowledged by its
//! function; 1 when records were given up on (on-failure destination) or a
//! mapping failed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use log_generator::flags::parse_kind;
use log_generator::{EventVariant, DEFAULT_CLUSTER_ARN};
use logpipe_core::topics::DEFAULT_KEYSPACE;
use logpipe_core::{Function, LogKind, Router};
use tokio::sync::watch;

use crate::esm::connection::{KafkaConnection, TopicSelection};
use crate::esm::destination::FailureDestination;
use crate::esm::event::{EventSource, MAX_PAYLOAD_BYTES};
use crate::esm::invoke::{InProcess, Invoker, LambdaEndpoint, LambdaInvoker};
use crate::esm::poller::{consumer_settings, Mapping, MappingConfig, StartingPosition};
use crate::esm::retry::RetryPolicy;
use crate::esm::stats::{EsmSummary, MappingStats, Percentiles};
use crate::storage::{self, Target};

/// `--starting-position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StartingPositionArg {
    /// Only records produced after the group first joins.
    #[value(name = "LATEST")]
    Latest,
    /// Every record still in the topic.
    #[value(name = "TRIM_HORIZON")]
    TrimHorizon,
    /// Records from --starting-position-timestamp on.
    #[value(name = "AT_TIMESTAMP")]
    AtTimestamp,
}

/// A `--function-name`: `KIND=NAME`, or `NAME` when one topic is polled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionName {
    kind: Option<LogKind>,
    name: String,
}

fn parse_function_name(s: &str) -> Result<FunctionName, String> {
    match s.split_once('=') {
        Some((kind, name)) if !name.is_empty() => Ok(FunctionName {
            kind: Some(parse_kind(kind)?),
            name: name.to_owned(),
        }),
        Some(_) => Err(format!("`{s}`: the function name is empty")),
        None if !s.is_empty() => Ok(FunctionName {
            kind: None,
            name: s.to_owned(),
        }),
        None => Err("the function name is empty".into()),
    }
}

fn parse_window(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(0.0..=300.0).contains(&secs) {
        return Err(format!("{secs} is outside 0..=300 seconds"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn parse_record_age(s: &str) -> Result<i64, String> {
    let n: i64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a whole number of seconds"))?;
    if n == -1 || (60..=604_800).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} is neither -1 nor within 60..=604800 seconds"))
    }
}

/// An RFC 3339 time or epoch seconds (as AWS's StartingPositionTimestamp),
/// as epoch milliseconds.
fn parse_time(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return Ok((secs * 1000.0) as i64);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("`{s}` is neither epoch seconds nor an RFC 3339 time ({e})"))
}

#[derive(Args, Debug)]
pub struct EsmArgs {
    #[command(flatten)]
    kafka: KafkaConnection,

    #[command(flatten, next_help_heading = "Topics")]
    selection: TopicSelection,

    /// Consumer group prefix: each topic's mapping joins GROUP-<function>
    #[arg(
        help_heading = "Event source mapping",
        long,
        value_name = "GROUP",
        default_value = "logpipe-esm"
    )]
    group_id: String,

    /// Most records in one batch (1..=10000)
    #[arg(help_heading = "Event source mapping", long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    batch_size: u64,

    /// Longest wait to fill a batch, from its first record (0..=300; AWS's
    /// Kafka default is 0.5)
    #[arg(help_heading = "Event source mapping", long, value_name = "SECONDS", default_value = "0.5",
          value_parser = parse_window)]
    maximum_batching_window_in_seconds: Duration,

    /// Where a group with no committed offsets starts
    #[arg(
        help_heading = "Event source mapping",
        long,
        value_enum,
        ignore_case = true,
        default_value = "LATEST"
    )]
    starting_position: StartingPositionArg,

    /// The time for AT_TIMESTAMP: epoch seconds or RFC 3339
    #[arg(help_heading = "Event source mapping", long, value_name = "TIME", value_parser = parse_time,
          required_if_eq("starting_position", "AT_TIMESTAMP"))]
    starting_position_timestamp: Option<i64>,

    /// Which event source the events imitate
    #[arg(help_heading = "Event source mapping", long, value_enum, default_value_t = EventVariant::SelfManaged)]
    variant: EventVariant,

    /// eventSourceArn of MSK events [default: a made-up cluster ARN]
    #[arg(help_heading = "Event source mapping", long, value_name = "ARN")]
    event_source_arn: Option<String>,

    /// Retries of a failed batch; -1 retries until the records expire (10
    /// with --on-failure-dir, as AWS does)
    #[arg(help_heading = "Error handling", long, value_name = "N", default_value_t = -1,
          allow_negative_numbers = true, value_parser = clap::value_parser!(i64).range(-1..=10_000))]
    maximum_retry_attempts: i64,

    /// Give up on a failing batch once its oldest record is older than this
    /// (-1, or 60..=604800)
    #[arg(help_heading = "Error handling", long, value_name = "SECONDS", default_value_t = -1,
          allow_negative_numbers = true, value_parser = parse_record_age)]
    maximum_record_age_seconds: i64,

    /// Split a failing batch in two and retry each half
    #[arg(help_heading = "Error handling", long)]
    bisect_batch_on_function_error: bool,

    /// Write batches given up on here (invocation record + event), then
    /// move on
    #[arg(help_heading = "Error handling", long, value_name = "DIR")]
    on_failure_dir: Option<PathBuf>,

    /// Delay before the first retry, doubled for each further one
    #[arg(help_heading = "Error handling", long, value_name = "DURATION", default_value = "1s",
          value_parser = humantime::parse_duration)]
    retry_delay: Duration,

    /// Longest delay between retries
    #[arg(help_heading = "Error handling", long, value_name = "DURATION", default_value = "30s",
          value_parser = humantime::parse_duration)]
    max_retry_delay: Duration,

    /// Run the functions in this process, storing to embedded, none or
    /// HOST:PORT
    #[arg(
        help_heading = "Function",
        long,
        value_name = "embedded|none|HOST:PORT",
        default_value = "127.0.0.1:9042",
        conflicts_with = "endpoint_url"
    )]
    cassandra: Target,

    /// Keyspace of the four tables (in-process functions)
    #[arg(help_heading = "Function", long, default_value = DEFAULT_KEYSPACE, env = "LOGPIPE_CASSANDRA_KEYSPACE")]
    keyspace: String,

    /// Apply the schema to a HOST:PORT server first (in-process functions)
    #[arg(help_heading = "Function", long, conflicts_with = "endpoint_url")]
    apply_schema: bool,

    /// Invoke over the Lambda invoke API at this URL instead, e.g.
    /// http://127.0.0.1:9000 (cargo lambda watch) or http://localhost:4566
    /// (LocalStack); `aws` for AWS itself
    #[arg(help_heading = "Function", long, value_name = "URL")]
    endpoint_url: Option<String>,

    /// Lambda function to invoke: KIND=NAME (repeatable), or NAME with one
    /// topic [default: auth-logs, session-logs, activity-logs]
    #[arg(help_heading = "Function", long = "function-name", value_name = "[KIND=]NAME",
          value_parser = parse_function_name, requires = "endpoint_url")]
    function_names: Vec<FunctionName>,

    /// AWS region of the Lambda API [default: $AWS_REGION or us-east-1]
    #[arg(help_heading = "Function", long, requires = "endpoint_url")]
    region: Option<String>,

    /// Longest wait for one invocation
    #[arg(help_heading = "Function", long, value_name = "DURATION", default_value = "900s",
          value_parser = humantime::parse_duration)]
    invoke_timeout: Duration,

    /// Stop once no record arrived for this long [default: run until Ctrl-C]
    #[arg(help_heading = "Reporting", long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    until_idle: Option<Duration>,

    /// No line a batch on stderr
    #[arg(help_heading = "Reporting", long)]
    quiet: bool,

    /// Print the final summary as one JSON object on stdout
    #[arg(help_heading = "Reporting", long)]
    json: bool,
}

impl EsmArgs {
    fn starting_position(&self) -> StartingPosition {
        match self.starting_position {
            StartingPositionArg::Latest => StartingPosition::Latest,
            StartingPositionArg::TrimHorizon => StartingPosition::TrimHorizon,
            StartingPositionArg::AtTimestamp => {
                StartingPosition::AtTimestamp(self.starting_position_timestamp.unwrap_or(0))
            }
        }
    }

    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            maximum_retry_attempts: u32::try_from(self.maximum_retry_attempts).ok(),
            maximum_record_age: u64::try_from(self.maximum_record_age_seconds)
                .ok()
                .map(Duration::from_secs),
            bisect_on_error: self.bisect_batch_on_function_error,
            base_delay: self.retry_delay,
            max_delay: self.max_retry_delay.max(self.retry_delay),
        }
    }

    fn function_name(&self, kind: LogKind, polled: usize) -> anyhow::Result<String> {
        if let Some(f) = self
            .function_names
            .iter()
            .rev()
            .find(|f| f.kind == Some(kind))
        {
            return Ok(f.name.clone());
        }
        match self.function_names.iter().rev().find(|f| f.kind.is_none()) {
            Some(f) if polled == 1 => Ok(f.name.clone()),
            Some(f) => anyhow::bail!(
                "--function-name {} names one function but {polled} topics are polled: use KIND=NAME",
                f.name
            ),
            None => Ok(kind.function_name().to_owned()),
        }
    }
}

/// The mapping of `kind` on `topic` as these flags configure it.
fn mapping_config(args: &EsmArgs, kind: LogKind, topic: &str) -> MappingConfig {
    MappingConfig {
        topic: topic.to_owned(),
        function_name: kind.function_name().to_owned(),
        group_id: format!("{}-{}", args.group_id, kind.function_name()),
        batch_size: args.batch_size as usize,
        batching_window: args.maximum_batching_window_in_seconds,
        starting_position: args.starting_position(),
        start_offsets: None,
        source: EventSource {
            variant: args.variant,
            event_source_arn: args
                .event_source_arn
                .clone()
                .unwrap_or_else(|| DEFAULT_CLUSTER_ARN.to_owned()),
            bootstrap_servers: args.kafka.bootstrap.servers.clone(),
        },
        retry: args.retry_policy(),
        payload_limit: MAX_PAYLOAD_BYTES,
        idle_exit: args.until_idle,
        print_batches: !args.quiet,
    }
}

/// Sets `shutdown` on the first Ctrl-C; exits at once (130) on the second.
pub fn stop_on_ctrl_c(shutdown: watch::Sender<bool>, what: &'static str) {
    log_generator::shutdown::on_ctrl_c(
        Some(format!("stopping: {what} (Ctrl-C again to quit now)")),
        move || {
            let _ = shutdown.send(true);
        },
    );
}

/// The summary over several mappings.
pub fn summarize<'a>(
    mappings: impl IntoIterator<Item = (&'a str, &'a MappingStats)>,
) -> EsmSummary {
    let mut summary = EsmSummary::default();
    let mut latencies = Vec::new();
    for (topic, stats) in mappings {
        let counts = stats.counts();
        summary.totals.merge(&counts);
        summary
            .by_topic
            .entry(topic.to_owned())
            .or_default()
            .merge(&counts);
        latencies.extend(stats.latencies_ms());
    }
    summary.batch_latency_ms = Percentiles::of(latencies);
    summary
}

pub async fn run(args: EsmArgs) -> anyhow::Result<ExitCode> {
    let selected = args.selection.resolve();
    if selected.is_empty() {
        anyhow::bail!("no topic selected");
    }
    args.kafka.security()?;

    // The functions.
    let mut invokers: Vec<Arc<Invoker>> = Vec::new();
    let storage = if let Some(url) = &args.endpoint_url {
        let endpoint = LambdaEndpoint {
            endpoint_url: (url != "aws").then(|| url.clone()),
            region: args.region.clone(),
            timeout: args.invoke_timeout,
        };
        let client = endpoint.client().await;
        for (kind, _) in &selected {
            let name = args.function_name(*kind, selected.len())?;
            invokers.push(Arc::new(Invoker::Lambda(LambdaInvoker::new(
                client.clone(),
                &name,
            ))));
        }
        None
    } else {
        let storage = storage::open(&args.cassandra, &args.keyspace, args.apply_schema)
            .await
            .with_context(|| format!("opening the storage {:?}", args.cassandra))?;
        for (kind, topic) in &selected {
            let function = Function::new(Router::single(*kind, topic), storage.sink.clone());
            invokers.push(Arc::new(Invoker::InProcess(InProcess::new(
                function,
                kind.function_name(),
            ))));
        }
        Some(storage)
    };
    let destination = args.on_failure_dir.as_ref().map(FailureDestination::new);

    let (stop, stopped) = watch::channel(false);
    stop_on_ctrl_c(
        stop.clone(),
        "the batches in flight are not committed and come again on the next start",
    );
    let mut tasks = Vec::new();
    let mut stats = Vec::new();
    for ((kind, topic), invoker) in selected.iter().zip(&invokers) {
        let mut config = mapping_config(&args, *kind, topic);
        if let Invoker::Lambda(_) = invoker.as_ref() {
            config.function_name = args.function_name(*kind, selected.len())?;
        }
        let kafka = args
            .kafka
            .client_config(|c| consumer_settings(&config, c))?;
        let mapping_stats = Arc::new(MappingStats::default());
        stats.push((topic.clone(), mapping_stats.clone()));
        eprintln!(
            "{} ← {} (group {}, batch size {}, window {:.1} s, starting position {:?})",
            config.function_name,
            topic,
            config.group_id,
            config.batch_size,
            config.batching_window.as_secs_f64(),
            args.starting_position
        );
        let mapping = Mapping::new(config, invoker.clone(), destination.clone(), mapping_stats);
        tasks.push((
            topic.clone(),
            tokio::spawn(mapping.run(kafka, stopped.clone())),
        ));
    }

    let mut failed = false;
    for (topic, task) in tasks {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                eprintln!("error: {topic}: {e:#}");
                failed = true;
            }
            Err(e) => {
                eprintln!("error: {topic}: the mapping stopped: {e}");
                failed = true;
            }
        }
    }
    let summary = summarize(stats.iter().map(|(t, s)| (t.as_str(), s.as_ref())));
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        print_summary(&summary);
    }
    drop(invokers);
    drop(storage);
    Ok(if failed || summary.totals.discarded > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_summary(s: &EsmSummary) {
    let t = &s.totals;
    println!(
        "{} records in {} batches: {} written, {} dead-lettered, {} given up on; {} invocations ({} failed); batch latency p50 {:.1} ms, p99 {:.1} ms",
        t.records,
        t.batches,
        t.written,
        t.dead_lettered,
        t.discarded,
        t.invocations,
        t.failed_invocations,
        s.batch_latency_ms.p50,
        s.batch_latency_ms.p99
    );
    for (topic, c) in &s.by_topic {
        println!(
            "  {topic:<22} {:>8} records {:>8} written {:>8} dead-lettered {:>6} given up on",
            c.records, c.written, c.dead_lettered, c.discarded
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: EsmArgs,
    }

    fn parse(args: &[&str]) -> Result<EsmArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("esm").chain(args.iter().copied())).map(|c| c.args)
    }

    #[test]
    fn defaults_are_aws_defaults() {
        let a = parse(&[]).unwrap();
        assert_eq!(a.batch_size, 100);
        assert_eq!(
            a.maximum_batching_window_in_seconds,
            Duration::from_millis(500)
        );
        assert_eq!(a.starting_position(), StartingPosition::Latest);
        let p = a.retry_policy();
        assert_eq!(p.maximum_retry_attempts, None);
        assert_eq!(p.maximum_record_age, None);
        assert!(!p.bisect_on_error);
        assert_eq!(a.cassandra, Target::Remote("127.0.0.1:9042".into()));
    }

    #[test]
    fn flags_parse_and_bad_ones_name_the_input() {
        let a = parse(&[
            "--starting-position",
            "at_timestamp",
            "--starting-position-timestamp",
            "2026-01-01T00:00:00Z",
            "--maximum-retry-attempts",
            "2",
            "--maximum-record-age-seconds",
            "60",
            "--bisect-batch-on-function-error",
            "--endpoint-url",
            "http://127.0.0.1:9000",
            "--function-name",
            "auth=prod-auth",
            "--topics",
            "auth,session",
        ])
        .unwrap();
        assert_eq!(
            a.starting_position(),
            StartingPosition::AtTimestamp(1_767_225_600_000)
        );
        let p = a.retry_policy();
        assert_eq!(p.maximum_retry_attempts, Some(2));
        assert_eq!(p.maximum_record_age, Some(Duration::from_secs(60)));
        assert_eq!(a.function_name(LogKind::Auth, 2).unwrap(), "prod-auth");
        assert_eq!(
            a.function_name(LogKind::Session, 2).unwrap(),
            "session-logs"
        );
        let cases = [
            (&["--batch-size", "0"][..], "0"),
            (&["--batch-size", "10001"], "10001"),
            (&["--maximum-batching-window-in-seconds", "301"], "301"),
            (&["--maximum-record-age-seconds", "30"], "30"),
            (&["--maximum-retry-attempts", "-2"], "-2"),
            (
                &["--starting-position", "AT_TIMESTAMP"],
                "--starting-position-timestamp",
            ),
            (
                &[
                    "--cassandra",
                    "embedded",
                    "--endpoint-url",
                    "http://127.0.0.1:9000",
                ],
                "--endpoint-url",
            ),
            (&["--function-name", "x"], "--endpoint-url"),
        ];
        logpipe_testkit::assert_refusals(&cases, parse);
        let one = parse(&["--endpoint-url", "aws", "--function-name", "f"]).unwrap();
        assert!(one.function_name(LogKind::Auth, 3).is_err());
        assert_eq!(one.function_name(LogKind::Auth, 1).unwrap(), "f");
    }
}
