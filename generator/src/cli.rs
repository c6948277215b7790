//! The command line (`log-generator`, and `logpipe generate` with the same
//! flags): [`GenerateArgs`] and [`run`].

use std::io::{BufWriter, IsTerminal};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use logpipe_contract::topics::LogKind;

use crate::events::{write_events, EventVariant, EventsConfig};
use crate::flags::{parse_key_value, parse_ratio, Bootstrap, TopicSelection};
use crate::generator::{Generator, GeneratorConfig, Output, TopicNames, DEFAULT_START_MS};
use crate::lines::write_lines;
use crate::msk;
use crate::producer::{produce_with, Compression, ProduceConfig, DEFAULT_PRODUCER_ID};
use crate::schedule::{RunControl, Schedule};
use crate::security::KafkaSecurity;
use crate::summary::GenerateSummary;

/// Generate realistic user logs (auth, session, activity) and produce them to
/// Kafka, print them, or write them as AWS Lambda Kafka events.
///
/// Records go to Kafka at --bootstrap unless --stdout or --emit-events is
/// given. The same --seed gives the same records, byte for byte.
#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    /// Which kinds to generate (--topics) and the topics they go to
    /// (--topic-name).
    #[command(flatten, next_help_heading = "Records")]
    pub selection: TopicSelection,

    /// Records per topic [default: 1000, unless --duration is given]
    #[arg(help_heading = "Records", long, value_name = "N")]
    pub count: Option<u64>,

    /// Run for this long (e.g. 30s, 5m); with --count, whichever ends first
    #[arg(help_heading = "Records", long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,

    /// Records per second over all topics; 0 is as fast as possible
    #[arg(
        help_heading = "Records",
        long,
        value_name = "MSGS_PER_SEC",
        default_value_t = 0
    )]
    pub rate: u64,

    /// Seed of the simulation: the same seed gives the same records
    #[arg(help_heading = "Records", long, default_value_t = 1)]
    pub seed: u64,

    /// Fraction of records per topic that are bad (0.0..=1.0), cycling through
    /// every reason code that can occur on the way
    #[arg(help_heading = "Records", long, value_name = "RATIO", default_value_t = 0.0, value_parser = parse_ratio)]
    pub invalid_ratio: f64,

    /// Number of simulated users
    #[arg(help_heading = "Records", long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub users: u64,

    /// Where the simulated clock starts: an RFC 3339 time, or `now`
    /// [default: 2026-01-01T00:00:00Z]
    #[arg(help_heading = "Records", long, value_name = "TIME", value_parser = parse_start_time)]
    pub start_time: Option<i64>,

    /// Print one record value a line on stdout instead of producing
    #[arg(help_heading = "Output (default: produce to Kafka)", long, conflicts_with_all = ["emit_events", "json", "msk_cluster_arn"])]
    pub stdout: bool,

    /// Write AWS Lambda Kafka event files (and expected.json) to DIR instead
    /// of producing
    #[arg(
        help_heading = "Output (default: produce to Kafka)",
        long,
        value_name = "DIR",
        conflicts_with = "msk_cluster_arn"
    )]
    pub emit_events: Option<PathBuf>,

    /// Most records in one event file (1..=10000)
    #[arg(help_heading = "Output (default: produce to Kafka)", long, value_name = "N", default_value_t = 100, requires = "emit_events",
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub batch_size: u64,

    /// Event source the event files imitate
    #[arg(help_heading = "Output (default: produce to Kafka)", long, value_enum, default_value_t = EventVariant::Msk, requires = "emit_events")]
    pub variant: EventVariant,

    /// Partitions per topic that keys are spread over in event files
    #[arg(help_heading = "Output (default: produce to Kafka)", long, value_name = "N", default_value_t = 3, requires = "emit_events",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub partitions: u32,

    /// Indent event files for reading
    #[arg(
        help_heading = "Output (default: produce to Kafka)",
        long,
        requires = "emit_events"
    )]
    pub pretty: bool,

    #[command(flatten)]
    pub bootstrap: Bootstrap,

    /// Find the bootstrap servers of this Amazon MSK cluster (GetBootstrapBrokers),
    /// choosing the listener that fits --security-protocol
    #[arg(
        help_heading = "Kafka",
        long,
        value_name = "ARN",
        conflicts_with = "bootstrap"
    )]
    pub msk_cluster_arn: Option<String>,

    /// AWS API endpoint for --msk-cluster-arn (e.g. a local mock)
    #[arg(
        help_heading = "Kafka",
        long,
        value_name = "URL",
        requires = "msk_cluster_arn"
    )]
    pub aws_endpoint_url: Option<String>,

    /// Compression of produced batches
    #[arg(help_heading = "Kafka", long, value_enum, default_value_t)]
    pub compression: Compression,

    /// TLS and SASL: --security-protocol, --sasl-mechanism, --sasl-username,
    /// --sasl-password, --ssl-ca-location.
    #[command(flatten)]
    pub security: KafkaSecurity,

    /// Producer id: the client.id and the producer-id header of every record
    #[arg(help_heading = "Kafka", long, value_name = "ID", default_value = DEFAULT_PRODUCER_ID)]
    pub producer_id: String,

    /// Extra librdkafka producer property, e.g. linger.ms=50 (repeatable)
    #[arg(help_heading = "Kafka", long = "kafka-config", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub kafka_config: Vec<(String, String)>,

    /// How long a record may wait for its acknowledgement before it counts as failed
    #[arg(help_heading = "Kafka", long, value_name = "DURATION", default_value = "60s", value_parser = humantime::parse_duration)]
    pub message_timeout: Duration,

    /// No progress bar and no summary line on stderr
    #[arg(help_heading = "Reporting", long)]
    pub quiet: bool,

    /// Print the summary as one JSON object on stdout
    #[arg(help_heading = "Reporting", long)]
    pub json: bool,
}

impl GenerateArgs {
    /// The kinds to generate (all three unless `--topics` names some).
    pub fn kinds(&self) -> Vec<LogKind> {
        self.selection.kinds()
    }

    /// The generator settings these flags ask for.
    pub fn generator_config(&self, output: Output) -> GeneratorConfig {
        let mut topics = TopicNames::default();
        for (kind, name) in &self.selection.topic_names {
            topics.set(*kind, name);
        }
        GeneratorConfig {
            seed: self.seed,
            invalid_ratio: self.invalid_ratio,
            kinds: self.kinds(),
            users: self.users as usize,
            start_ms: self.start_time.unwrap_or(DEFAULT_START_MS),
            topics,
            output,
        }
    }

    /// How many, how long, how fast.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            count_per_topic: match (self.count, self.duration) {
                (None, None) => Some(1000),
                (count, _) => count,
            },
            duration: self.duration,
            rate: self.rate,
        }
    }
}

/// Examples for `--help` (`after_help`).
pub const HELP_EXAMPLES: &str = "\
Examples:
  log-generator --bootstrap 127.0.0.1:9092 --count 100000 --invalid-ratio 0.01
  log-generator --topics auth --duration 5m --rate 2000
  log-generator --stdout --count 10 --topics session
  log-generator --emit-events out/events --batch-size 100 --variant self-managed --invalid-ratio 0.1
  LOGPIPE_KAFKA_SASL_PASSWORD=... log-generator --msk-cluster-arn arn:aws:kafka:... \\
      --security-protocol sasl_ssl --sasl-username logpipe";

/// Runs the command: generates, sends, and reports (progress bar and
/// summary line on stderr unless `--quiet`; `--json` prints the summary on
/// stdout). Ctrl-C stops early, still flushing and reporting (a second
/// Ctrl-C exits at once, status 130). Returns the
/// summary; the caller exits non-zero when it is not complete
/// ([`GenerateSummary::exit_code`]).
pub async fn run(args: GenerateArgs) -> anyhow::Result<GenerateSummary> {
    let schedule = args.schedule();
    let output = if args.emit_events.is_some() {
        Output::LambdaEvent
    } else {
        Output::Kafka
    };
    let generator_config = args.generator_config(output);
    generator_config.validate()?;
    let total = schedule.total(generator_config.kinds.len());
    let control = RunControl {
        stop: Arc::new(AtomicBool::new(false)),
        progress: progress_bar(args.quiet || args.stdout, total),
        backlog: None,
    };
    let stop = control.stop.clone();
    let ctrl_c = crate::shutdown::on_ctrl_c(
        (!args.quiet).then(|| {
            "stopping: waiting for records already sent (Ctrl-C again to quit now)".to_owned()
        }),
        move || stop.store(true, Ordering::Relaxed),
    );

    let result = if args.stdout {
        let control = control.clone();
        tokio::task::spawn_blocking(move || {
            let mut generator = Generator::new(generator_config)?;
            let stdout = std::io::stdout();
            let out = BufWriter::with_capacity(1 << 16, stdout.lock());
            write_lines(&mut generator, &schedule, out, &control)
        })
        .await
        .context("the stdout writer stopped")?
        .context("writing records to stdout")
    } else if let Some(dir) = args.emit_events.clone() {
        let config = EventsConfig {
            dir: dir.clone(),
            batch_size: args.batch_size as usize,
            variant: args.variant,
            partitions: args.partitions,
            cluster_arn: None,
            bootstrap_servers: None,
            producer_id: args.producer_id.clone(),
            pretty: args.pretty,
        };
        let control = control.clone();
        tokio::task::spawn_blocking(move || {
            let mut generator = Generator::new(generator_config)?;
            write_events(&mut generator, &schedule, &config, &control)
        })
        .await
        .context("the event writer stopped")?
        .with_context(|| format!("writing events to {}", dir.display()))
    } else {
        let security = args.security.clone();
        security.validate()?;
        let bootstrap = match &args.msk_cluster_arn {
            Some(arn) => {
                msk::bootstrap_brokers(
                    arn,
                    args.security.protocol,
                    args.aws_endpoint_url.as_deref(),
                )
                .await?
            }
            None => args.bootstrap.servers.clone(),
        };
        let config = ProduceConfig {
            bootstrap: bootstrap.clone(),
            generator: generator_config,
            schedule,
            compression: args.compression,
            security,
            producer_id: args.producer_id.clone(),
            client_config: args.kafka_config.clone(),
            message_timeout: args.message_timeout,
        };
        let control = control.clone();
        tokio::task::spawn_blocking(move || produce_with(&config, &control))
            .await
            .context("the producer stopped")?
            .with_context(|| format!("producing to {bootstrap}"))
    };
    ctrl_c.abort();
    control.progress.finish_and_clear();
    let summary = result?;
    if !args.quiet {
        eprintln!("{}", summary.line());
    }
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    }
    Ok(summary)
}

fn progress_bar(hidden: bool, total: Option<u64>) -> ProgressBar {
    if hidden || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match total {
        Some(n) => (
            ProgressBar::new(n),
            "{elapsed_precise} [{bar:30}] {human_pos}/{human_len} records, {per_sec} {msg}",
        ),
        None => (
            ProgressBar::no_length(),
            "{spinner} {elapsed_precise} {human_pos} records, {per_sec} {msg}",
        ),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn parse_start_time(s: &str) -> Result<i64, String> {
    if s.trim().eq_ignore_ascii_case("now") {
        return Ok(chrono::Utc::now().timestamp_millis());
    }
    let t = chrono::DateTime::parse_from_rfc3339(s.trim())
        .map_err(|e| format!("`{s}` is not an RFC 3339 time like 2026-01-01T00:00:00Z ({e})"))?;
    let ms = t.timestamp_millis();
    // Leave room for a long run before the pipeline's 2100 limit.
    if !(946_684_800_000..4_000_000_000_000).contains(&ms) {
        return Err(format!("`{s}` is outside 2000-01-01..2096"));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: GenerateArgs,
    }

    fn parse(args: &[&str]) -> Result<GenerateArgs, clap::Error> {
        Cli::try_parse_from(std::iter::once("log-generator").chain(args.iter().copied()))
            .map(|c| c.args)
    }

    #[test]
    fn defaults() {
        let a = parse(&[]).unwrap();
        assert_eq!(a.kinds(), LogKind::ALL.to_vec());
        assert_eq!(a.schedule(), Schedule::count(1000));
        assert_eq!(a.bootstrap.servers, "127.0.0.1:9092");
        assert_eq!(a.generator_config(Output::Kafka).start_ms, DEFAULT_START_MS);
    }

    #[test]
    fn flags_parse() {
        let a = parse(&[
            "--topics",
            "auth,user_activity_logs",
            "--topic-name",
            "auth=prod_auth",
            "--duration",
            "2m",
            "--invalid-ratio",
            "0.25",
            "--compression",
            "zstd",
            "--security-protocol",
            "sasl_ssl",
            "--sasl-mechanism",
            "SCRAM-SHA-256",
            "--kafka-config",
            "linger.ms=5",
            "--start-time",
            "2030-05-01T12:00:00+02:00",
        ])
        .unwrap();
        assert_eq!(a.kinds(), vec![LogKind::Auth, LogKind::Activity]);
        let g = a.generator_config(Output::Kafka);
        assert_eq!(&**g.topics.get(LogKind::Auth), "prod_auth");
        assert_eq!(g.start_ms, 1_903_860_000_000);
        assert_eq!(a.schedule().count_per_topic, None);
        assert_eq!(a.schedule().duration, Some(Duration::from_secs(120)));
        assert_eq!(a.compression, Compression::Zstd);
        assert_eq!(
            a.security.sasl_mechanism,
            Some(crate::SaslMechanism::ScramSha256)
        );
        assert_eq!(
            a.kafka_config,
            vec![("linger.ms".to_owned(), "5".to_owned())]
        );
    }

    #[test]
    fn bad_flags_are_errors_that_name_the_input() {
        let cases = [
            (&["--invalid-ratio", "1.5"][..], "1.5"),
            (&["--invalid-ratio", "lots"], "lots"),
            (&["--topics", "billing"], "billing"),
            (&["--topic-name", "auth"], "KIND=TOPIC"),
            (&["--topic-name", "auth=bad topic"], "bad topic"),
            (&["--duration", "soon"], "soon"),
            (&["--start-time", "yesterday"], "yesterday"),
            (&["--batch-size", "5"], "--emit-events"),
            (&["--emit-events", "x", "--batch-size", "0"], "0"),
            (&["--stdout", "--json"], "--json"),
            (&["--compression", "brotli"], "brotli"),
            (&["--kafka-config", "linger.ms"], "linger.ms"),
        ];
        logpipe_testkit::assert_refusals(&cases, parse);
    }

    #[test]
    fn password_is_not_shown() {
        let a = parse(&[
            "--security-protocol",
            "sasl_ssl",
            "--sasl-username",
            "u",
            "--sasl-password",
            "hunter2",
        ])
        .unwrap();
        assert!(!format!("{:?}", a.security).contains("hunter2"));
        a.security.validate().unwrap();
        let a = parse(&["--security-protocol", "sasl_ssl", "--sasl-username", "u"]).unwrap();
        if std::env::var_os("LOGPIPE_KAFKA_SASL_PASSWORD").is_none() {
            let err = a.security.validate().unwrap_err().to_string();
            assert!(err.contains("--sasl-password"), "{err}");
        }
        let err = parse(&["--sasl-username", "u"])
            .unwrap()
            .security
            .validate()
            .unwrap_err()
            .to_string();
        assert!(err.contains("plaintext"), "{err}");
    }
}
