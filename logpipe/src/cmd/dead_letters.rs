//! `logpipe dead-letters`: list, count, show and redrive the dead letters
//! of any CQL server.
//!
//! - `logpipe dead-letters [list] --cassandra HOST:PORT [filters] [--json [--list]]`
//!   counts (and lists) the selected dead letters;
//! - `logpipe dead-letters show --cassandra HOST:PORT --topic T --partition N --offset N [--day D]`
//!   prints one in full;
//! - `logpipe dead-letters redrive --cassandra HOST:PORT [filters] (--bootstrap SERVERS | --output FILE)`
//!   sends the selected ones back to their topics, or writes them as one
//!   event file for `logpipe replay` ([`redrive`] has the design).
//!
//! Exit status: 0 done; 1 a dead letter to show is not there, or a redrive
//! did not send everything it selected (each one named); 2 the CQL server
//! (or, for a redrive, the Kafka brokers) cannot be reached or fails; 64 a
//! usage error.

mod redrive;
mod scan;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine;
use clap::{ArgGroup, Args, Subcommand};
use log_generator::flags::parse_key_value;
use log_generator::KafkaSecurity;
use logpipe_core::topics::DEFAULT_KEYSPACE;
use logpipe_local::dump::{format_date, format_timestamp};
use serde::Serialize;
use serde_json::{json, Value};

use crate::cmd::replay::EXIT_USAGE;
use redrive::Destination;
use scan::{Blobs, Letter, Selection};

/// Why a command stopped, and so its exit status.
#[derive(Debug)]
pub enum Failure {
    /// Exit 1: not found, or not everything was redriven.
    Incomplete(String),
    /// Exit 2: the CQL server or the brokers cannot be reached or failed.
    Storage(String),
    /// Exit 64: a bad flag or value.
    Usage(String),
}

impl Failure {
    fn exit(self) -> ExitCode {
        let (message, code) = match self {
            Failure::Incomplete(m) => (m, 1),
            Failure::Storage(m) => (m, 2),
            Failure::Usage(m) => (m, EXIT_USAGE),
        };
        eprintln!("error: {message}");
        ExitCode::from(code)
    }
}

/// `logpipe dead-letters`: `list` (the default), `show` or `redrive`.
#[derive(Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Without a subcommand, `logpipe dead-letters --cassandra HOST:PORT ...` is `list`."
)]
pub struct DeadLettersArgs {
    #[command(subcommand)]
    action: Option<Action>,

    #[command(flatten)]
    list: ListArgs,
}

#[derive(Subcommand, Debug)]
enum Action {
    /// Count the selected dead letters by reason and topic, and list them
    /// (the default).
    List(ListArgs),
    /// Print one dead letter in full: its value as UTF-8 text when it is,
    /// else base64.
    Show(ShowArgs),
    /// Send the selected dead letters back to their topics (--bootstrap),
    /// or write them as one AWS Lambda Kafka event file for `logpipe
    /// replay` (--output).
    Redrive(Box<RedriveArgs>),
}

/// Where the dead letters are.
#[derive(Args, Debug, Clone)]
struct Connection {
    /// CQL contact point, HOST:PORT (comma-separated for several).
    /// Credentials and TLS come from the LOGPIPE_CASSANDRA_* environment,
    /// as for the functions.
    #[arg(
        long,
        value_name = "HOST:PORT",
        env = "LOGPIPE_CASSANDRA_CONTACT_POINTS",
        required = true
    )]
    cassandra: Option<String>,

    /// Keyspace of the dead_letters table.
    #[arg(long, default_value = DEFAULT_KEYSPACE, env = "LOGPIPE_CASSANDRA_KEYSPACE")]
    keyspace: String,
}

impl Connection {
    async fn connect(&self) -> Result<scylla::client::session::Session, Failure> {
        let contact = self
            .cassandra
            .as_deref()
            .ok_or_else(|| Failure::Usage("--cassandra HOST:PORT is required".into()))?;
        scan::connect(contact, &self.keyspace).await
    }
}

/// Which dead letters: every filter given must hold (a repeated --topic
/// or --reason: any of them).
#[derive(Args, Debug, Clone)]
struct Filters {
    /// Only dead letters of this topic (repeatable).
    #[arg(long = "topic", value_name = "TOPIC")]
    topics: Vec<String>,

    /// Only this Kafka partition.
    #[arg(long, value_name = "N")]
    partition: Option<i32>,

    /// Only this UTC day of the records' Kafka timestamps (1970-01-01 holds
    /// the records without one).
    #[arg(long, value_name = "YYYY-MM-DD")]
    day: Option<String>,

    /// Only this reason code (repeatable).
    #[arg(long = "reason", value_name = "REASON")]
    reasons: Vec<String>,

    /// Only offsets from N on (inclusive; in every selected partition).
    #[arg(long, value_name = "N")]
    from_offset: Option<i64>,

    /// Only offsets up to N (inclusive).
    #[arg(long, value_name = "N")]
    to_offset: Option<i64>,
}

impl Filters {
    fn selection(&self) -> Result<Selection, Failure> {
        scan::check_reasons(&self.reasons)?;
        if let (Some(a), Some(b)) = (self.from_offset, self.to_offset) {
            if a > b {
                return Err(Failure::Usage(format!(
                    "--from-offset {a} is past --to-offset {b}"
                )));
            }
        }
        Ok(Selection {
            topics: self.topics.clone(),
            partition: self.partition,
            day: self.day.as_deref().map(scan::parse_day).transpose()?,
            reasons: self.reasons.clone(),
            from_offset: self.from_offset,
            to_offset: self.to_offset,
        })
    }
}

#[derive(Args, Debug, Clone)]
struct ListArgs {
    #[command(flatten)]
    connection: Connection,

    #[command(flatten)]
    filters: Filters,

    /// Print one JSON object on stdout: {"total", "by_reason", "by_topic"}.
    #[arg(long)]
    json: bool,

    /// With --json, add a "dead_letters" array (one object a dead letter,
    /// without key and value).
    #[arg(long, requires = "json")]
    list: bool,
}

#[derive(Args, Debug)]
struct ShowArgs {
    #[command(flatten)]
    connection: Connection,

    /// The dead letter's topic.
    #[arg(long, value_name = "TOPIC")]
    topic: String,

    /// Its Kafka partition.
    #[arg(long, value_name = "N")]
    partition: i32,

    /// Its Kafka offset.
    #[arg(long, value_name = "N")]
    offset: i64,

    /// Its day (read directly; without it the table is scanned for the
    /// topic, partition and offset).
    #[arg(long, value_name = "YYYY-MM-DD")]
    day: Option<String>,

    /// Print it as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("destination").required(true).args(["bootstrap", "output"])))]
struct RedriveArgs {
    #[command(flatten)]
    connection: Connection,

    #[command(flatten)]
    filters: Filters,

    /// Send to the Kafka brokers at SERVERS (host:port[,host:port...]):
    /// each record to its original topic and partition.
    #[arg(long, value_name = "SERVERS")]
    bootstrap: Option<String>,

    /// Write one AWS Lambda Kafka event file instead, with the records'
    /// original offsets, for `logpipe replay`.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Also redrive too_large dead letters, whose value was cut to its
    /// first 64 KiB (refused without this flag).
    #[arg(long)]
    include_truncated: bool,

    /// Also redrive invalid_base64 dead letters, whose value is the text
    /// the event carried, not the record's bytes (refused without this flag).
    #[arg(long)]
    include_undecoded: bool,

    /// Also redrive dead letters that an earlier redrive to Kafka produced
    /// (records still bad when they were sent back).
    #[arg(long)]
    include_copies: bool,

    /// Print the summary as one JSON object on stdout.
    #[arg(long)]
    json: bool,

    /// TLS and SASL to the brokers (with --bootstrap).
    #[command(flatten)]
    security: KafkaSecurity,

    /// Extra librdkafka producer property, e.g. message.timeout.ms=60000
    /// (repeatable, applied last; with --bootstrap).
    #[arg(help_heading = "Kafka", long = "kafka-config", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    kafka_config: Vec<(String, String)>,
}

pub async fn run(args: DeadLettersArgs) -> anyhow::Result<ExitCode> {
    let result = match args.action {
        None => list(&args.list).await,
        Some(Action::List(a)) => list(&a).await,
        Some(Action::Show(a)) => show(&a).await,
        Some(Action::Redrive(a)) => redrive_cmd(&a).await,
    };
    Ok(match result {
        Ok(code) => code,
        Err(f) => f.exit(),
    })
}

/// `--json` of `list`.
#[derive(Debug, Default, Serialize)]
struct Counts {
    total: u64,
    by_reason: BTreeMap<String, u64>,
    by_topic: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dead_letters: Option<Vec<Value>>,
}

fn letter_json(l: &Letter) -> Value {
    json!({
        "topic": l.topic,
        "partition": l.partition,
        "day": format_date(l.day.0),
        "offset": l.offset,
        "record_timestamp": l.record_timestamp.map(format_timestamp),
        "reason": l.reason,
        "detail": l.detail,
        "function": l.function,
    })
}

async fn list(args: &ListArgs) -> Result<ExitCode, Failure> {
    let selection = args.filters.selection()?;
    let session = args.connection.connect().await?;
    let letters = scan::scan(&session, &args.connection.keyspace, &selection).await?;
    let mut counts = Counts {
        total: letters.len() as u64,
        ..Counts::default()
    };
    for l in &letters {
        *counts.by_reason.entry(l.reason.clone()).or_default() += 1;
        *counts.by_topic.entry(l.topic.clone()).or_default() += 1;
    }
    if args.json {
        if args.list {
            counts.dead_letters = Some(letters.iter().map(letter_json).collect());
        }
        println!(
            "{}",
            serde_json::to_string(&counts).expect("counts serialize")
        );
        return Ok(ExitCode::SUCCESS);
    }
    print_table(&letters);
    let joined = |m: &BTreeMap<String, u64>| {
        m.iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("{} dead letter(s)", counts.total);
    if counts.total > 0 {
        println!("by reason: {}", joined(&counts.by_reason));
        println!("by topic: {}", joined(&counts.by_topic));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(letters: &[Letter]) {
    if letters.is_empty() {
        return;
    }
    let width = |f: &dyn Fn(&Letter) -> usize, title: &str| {
        letters.iter().map(f).max().unwrap_or(0).max(title.len())
    };
    let wt = width(&|l| l.topic.len(), "topic");
    let wp = width(&|l| l.partition.to_string().len(), "partition");
    let wo = width(&|l| l.offset.to_string().len(), "offset");
    let wr = width(&|l| l.reason.len(), "reason");
    println!(
        "{:<wt$}  {:>wp$}  {:<10}  {:>wo$}  {:<wr$}  detail",
        "topic", "partition", "day", "offset", "reason"
    );
    for l in letters {
        println!(
            "{:<wt$}  {:>wp$}  {:<10}  {:>wo$}  {:<wr$}  {}",
            l.topic,
            l.partition,
            format_date(l.day.0),
            l.offset,
            l.reason,
            l.detail.replace('\n', " ")
        );
    }
}

/// Bytes as UTF-8 text when they are, else base64: (text, encoding).
fn readable(bytes: &[u8]) -> (String, &'static str) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), "utf-8"),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(bytes),
            "base64",
        ),
    }
}

async fn show(args: &ShowArgs) -> Result<ExitCode, Failure> {
    let day = args.day.as_deref().map(scan::parse_day).transpose()?;
    let session = args.connection.connect().await?;
    let ks = &args.connection.keyspace;
    let place = format!("{}/{}/{}", args.topic, args.partition, args.offset);
    let found: Vec<Letter> = match day {
        Some(day) => scan::one(&session, ks, &args.topic, args.partition, day, args.offset)
            .await?
            .into_iter()
            .collect(),
        None => {
            let selection = Selection {
                topics: vec![args.topic.clone()],
                partition: Some(args.partition),
                from_offset: Some(args.offset),
                to_offset: Some(args.offset),
                ..Selection::default()
            };
            scan::scan(&session, ks, &selection).await?
        }
    };
    let letter = match found.as_slice() {
        [] => {
            return Err(Failure::Incomplete(format!(
                "no dead letter {place}{} in {ks}.dead_letters",
                args.day
                    .as_deref()
                    .map_or(String::new(), |d| format!(" on {d}"))
            )))
        }
        [one] => one,
        many => {
            let days: Vec<String> = many.iter().map(|l| format_date(l.day.0)).collect();
            return Err(Failure::Incomplete(format!(
                "{} dead letters are at {place}, on days {}: name one with --day",
                many.len(),
                days.join(", ")
            )));
        }
    };
    let prepared = scan::prepare_blobs(&session, ks).await?;
    let blobs = scan::blobs(&session, &prepared, ks, letter)
        .await?
        .ok_or_else(|| {
            Failure::Incomplete(format!(
                "dead letter {place} is gone from {ks}.dead_letters"
            ))
        })?;
    print_one(letter, &blobs, args.json);
    Ok(ExitCode::SUCCESS)
}

fn print_one(l: &Letter, b: &Blobs, as_json: bool) {
    let key = b.key.as_deref().map(readable);
    let value = b.value.as_deref().map(readable);
    if as_json {
        let mut object = letter_json(l);
        object["key"] = json!(key.as_ref().map(|k| &k.0));
        object["key_encoding"] = json!(key.as_ref().map(|k| k.1));
        object["value"] = json!(value.as_ref().map(|v| &v.0));
        object["value_encoding"] = json!(value.as_ref().map(|v| v.1));
        object["value_bytes"] = json!(b.value.as_ref().map(Vec::len));
        println!("{object}");
        return;
    }
    println!("topic             {}", l.topic);
    println!("partition         {}", l.partition);
    println!("day               {}", format_date(l.day.0));
    println!("offset            {}", l.offset);
    println!(
        "record_timestamp  {}",
        l.record_timestamp
            .map_or_else(|| "(none)".to_owned(), format_timestamp)
    );
    println!("reason            {}", l.reason);
    println!("detail            {}", l.detail);
    println!("function          {}", l.function);
    match (&key, &b.key) {
        (Some((text, enc)), Some(bytes)) => {
            println!("key               {text}  ({enc}, {} bytes)", bytes.len())
        }
        _ => println!("key               (none)"),
    }
    match (&value, &b.value) {
        (Some((text, enc)), Some(bytes)) => {
            println!("value             ({enc}, {} bytes):", bytes.len());
            println!("{text}");
        }
        _ => println!("value             (none)"),
    }
}

async fn redrive_cmd(args: &RedriveArgs) -> Result<ExitCode, Failure> {
    let selection = args.filters.selection()?;
    let dest = match (&args.bootstrap, &args.output) {
        (Some(bootstrap), None) => Destination::Kafka {
            bootstrap,
            security: &args.security,
            kafka_config: &args.kafka_config,
        },
        (None, Some(path)) => {
            if !args.security.is_default() || !args.kafka_config.is_empty() {
                return Err(Failure::Usage(
                    "the Kafka flags (TLS, SASL, --kafka-config) go with --bootstrap, not --output"
                        .into(),
                ));
            }
            Destination::File(path)
        }
        // clap's group makes exactly one of them required.
        _ => return Err(Failure::Usage("give --bootstrap or --output".into())),
    };
    let session = args.connection.connect().await?;
    let ks = &args.connection.keyspace;
    let selected = scan::scan(&session, ks, &selection).await?;
    let (summary, failures) = redrive::redrive(
        &session,
        ks,
        selected,
        dest,
        args.include_truncated,
        args.include_undecoded,
        args.include_copies,
    )
    .await?;
    for line in failures.iter().take(20) {
        eprintln!("not sent: {line}");
    }
    if failures.len() > 20 {
        eprintln!("not sent: ... and {} more", failures.len() - 20);
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&summary).expect("a summary serializes")
        );
    } else {
        let skipped = if summary.already_redriven + summary.copies > 0 {
            format!(
                "; skipped {} already redriven and {} produced by an earlier redrive",
                summary.already_redriven, summary.copies
            )
        } else {
            String::new()
        };
        let truncated = if summary.truncated > 0 {
            format!(" ({} too_large, with cut values)", summary.truncated)
        } else {
            String::new()
        };
        match &args.output {
            Some(path) => println!(
                "wrote {} of {} selected dead letter(s){truncated} as one event to {}",
                summary.sent,
                summary.selected,
                path.display()
            ),
            None => println!(
                "sent {} of {} selected dead letter(s){truncated} to {}{skipped}",
                summary.sent, summary.selected, summary.destination
            ),
        }
    }
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Failure::Incomplete(format!(
            "{} of the selected dead letters were not sent (named above); a re-run sends only those",
            failures.len()
        )))
    }
}
