//! `logpipe smoke`: after a deploy, sends a small known batch through each
//! deployed function and reads its rows back through CQL.
//!
//! Per log kind it builds a few valid logs of one user id made for this run
//! (`logpipe-smoke-<time>-<random>`, timestamps of today) and one
//! deliberately bad record (a JSON object without the kind's required
//! fields: a `missing_field` dead letter). Then either
//!
//! - `--lambda-endpoint URL` (`aws` for AWS itself): invokes each function
//!   with one Kafka event over the Lambda invoke API and checks its summary
//!   (`records` 4, `written` 3, `dead_lettered` 1); the event's records sit
//!   in partition 0 at offsets made from the run's clock (far above any
//!   real offset), so the dead letter cannot overwrite a real one; or
//! - `--bootstrap SERVERS`: produces the records to the topics, for the
//!   deployed event source mappings to deliver;
//!
//! and reads the rows back by their partition keys until all are there or
//! `--timeout` passes, comparing every column with what the logs say. The
//! rows are real rows in the real tables: they stay until the table's TTL
//! (`LOGPIPE_TTL_SECONDS`) expires them, or until deleted by their user id.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use clap::Args;
use log_generator::{Bootstrap, KafkaSecurity};
use logpipe_core::rows::day_of;
use logpipe_core::schema::{self, TableKey};
use logpipe_core::sink::connect_session;
use logpipe_core::topics::{DEAD_LETTER_TABLE, DEFAULT_KEYSPACE};
use logpipe_core::{BatchSummary, LogKind};
use logpipe_local::dump::{self, format_timestamp, JsonRow};
use rdkafka::producer::{FutureProducer, FutureRecord};
use scylla::client::session::Session;
use scylla::value::CqlValue;
use serde_json::{json, Value};

use crate::cmd::replay::error_text;
use crate::esm::connection::{KafkaConnection, TopicSelection};
use crate::esm::event::{to_payload, EventSource, PolledRecord, TimestampType};
use crate::esm::invoke::{Invoker, LambdaEndpoint, LambdaInvoker};
use crate::storage::remote_config;

/// Valid logs a kind's batch holds (plus one bad record).
const GOOD: usize = 3;

/// The prefix of every smoke-test user id.
pub const USER_PREFIX: &str = "logpipe-smoke-";

#[derive(Args, Debug)]
pub struct SmokeArgs {
    /// CQL contact point to read the rows back from, HOST:PORT.
    /// Credentials and TLS come from the LOGPIPE_CASSANDRA_* environment,
    /// as for the functions (Amazon Keyspaces:
    /// cassandra.<region>.amazonaws.com:9142 with LOGPIPE_CASSANDRA_TLS=true)
    #[arg(
        long,
        value_name = "HOST:PORT",
        env = "LOGPIPE_CASSANDRA_CONTACT_POINTS"
    )]
    cassandra: String,

    /// Keyspace the functions write to
    #[arg(long, default_value = DEFAULT_KEYSPACE, env = "LOGPIPE_CASSANDRA_KEYSPACE")]
    keyspace: String,

    /// Invoke the functions over the Lambda invoke API at this URL, e.g.
    /// http://127.0.0.1:9000 (cargo lambda watch), http://localhost:4566
    /// (LocalStack); `aws` for AWS itself
    #[arg(
        help_heading = "Lambda",
        long,
        value_name = "URL",
        required_unless_present = "bootstrap",
        conflicts_with = "bootstrap"
    )]
    lambda_endpoint: Option<String>,

    /// Function of a log kind, KIND=NAME (repeatable); a name may carry a
    /// qualifier (auth=auth-logs:live) or be an ARN [default:
    /// auth-logs, session-logs, activity-logs]
    #[arg(help_heading = "Lambda", long = "function-name", value_name = "KIND=NAME",
          value_parser = parse_function_name, requires = "lambda_endpoint")]
    function_names: Vec<(LogKind, String)>,

    /// AWS region of the Lambda API [default: $AWS_REGION, the profile's,
    /// or us-east-1]
    #[arg(help_heading = "Lambda", long, requires = "lambda_endpoint")]
    region: Option<String>,

    /// Produce the records to the topics at these Kafka bootstrap servers
    /// instead, for the deployed event source mappings to deliver
    #[arg(help_heading = "Kafka", long, value_name = "SERVERS")]
    bootstrap: Option<String>,

    /// TLS and SASL to the brokers (with --bootstrap).
    #[command(flatten)]
    security: KafkaSecurity,

    /// Extra librdkafka property of the producer, KEY=VALUE (repeatable)
    #[arg(help_heading = "Kafka", long = "kafka-config", value_name = "KEY=VALUE",
          value_parser = log_generator::flags::parse_key_value, requires = "bootstrap")]
    kafka_config: Vec<(String, String)>,

    /// Which log kinds to test, and their topics.
    #[command(flatten, next_help_heading = "Topics")]
    selection: TopicSelection,

    /// How long to wait for each invocation, and for the rows to appear
    #[arg(long, value_name = "DURATION", default_value = "60s",
          value_parser = humantime::parse_duration)]
    timeout: Duration,

    /// Print the result as one JSON object on stdout
    #[arg(long)]
    json: bool,
}

fn parse_function_name(s: &str) -> Result<(LogKind, String), String> {
    match s.split_once('=') {
        Some((kind, name)) if !name.trim().is_empty() => Ok((
            log_generator::flags::parse_kind(kind)?,
            name.trim().to_owned(),
        )),
        Some(_) => Err(format!("`{s}`: the function name is empty")),
        None => Err(format!(
            "`{s}`: expected KIND=NAME, e.g. auth=auth-logs (KIND: auth, session, activity)"
        )),
    }
}

/// One kind's smoke batch: the records sent and the rows they must leave.
struct Batch {
    kind: LogKind,
    topic: String,
    function: String,
    /// The records, valid ones first, the bad one last.
    records: Vec<PolledRecord>,
    /// The logs of the valid records (in record order).
    logs: Vec<Value>,
}

/// The rows the valid logs must leave, keyed by their clustering id.
fn expected_rows(kind: LogKind, logs: &[Value], places: &[(i32, i64)]) -> Vec<(String, JsonRow)> {
    logs.iter()
        .zip(places)
        .map(|(log, (partition, offset))| {
            let ms = log["timestamp"].as_i64().unwrap_or_default();
            let mut row = JsonRow::new();
            let mut put = |k: &str, v: Value| {
                row.insert(k.to_owned(), v);
            };
            put("user_id", log["user_id"].clone());
            put("day", json!(day_text(ms)));
            put("event_time", json!(format_timestamp(ms)));
            put("source_partition", json!(partition));
            put("source_offset", json!(offset));
            let id = match kind {
                LogKind::Auth => {
                    for c in [
                        "event_id",
                        "event_type",
                        "success",
                        "ip_address",
                        "auth_method",
                        "user_agent",
                    ] {
                        put(c, log[c].clone());
                    }
                    put("failure_reason", Value::Null);
                    put(
                        "country",
                        json!(log["geo"]["country"]
                            .as_str()
                            .unwrap_or_default()
                            .to_uppercase()),
                    );
                    put("city", log["geo"]["city"].clone());
                    log["event_id"].as_str().unwrap_or_default().to_owned()
                }
                LogKind::Session => {
                    for c in ["session_id", "ip_address", "duration_ms", "pages_viewed"] {
                        put(c, log[c].clone());
                    }
                    put(
                        "event_type",
                        json!(log["event_type"]
                            .as_str()
                            .unwrap_or_default()
                            .to_lowercase()),
                    );
                    put(
                        "device_type",
                        json!(log["device"]["type"]
                            .as_str()
                            .unwrap_or_default()
                            .to_lowercase()),
                    );
                    put("os", log["device"]["os"].clone());
                    put("browser", log["device"]["browser"].clone());
                    log["session_id"].as_str().unwrap_or_default().to_owned()
                }
                LogKind::Activity => {
                    for c in [
                        "event_id",
                        "session_id",
                        "action",
                        "resource",
                        "duration_ms",
                    ] {
                        put(c, log[c].clone());
                    }
                    // A map<text, text>: numbers and bools in their JSON text.
                    let metadata: serde_json::Map<String, Value> = log["metadata"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| {
                            let text = match v {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            (k.clone(), Value::String(text))
                        })
                        .collect();
                    put("metadata", Value::Object(metadata));
                    log["event_id"].as_str().unwrap_or_default().to_owned()
                }
            };
            (id, row)
        })
        .collect()
}

/// `YYYY-MM-DD` of epoch milliseconds (UTC).
fn day_text(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The valid logs of `kind` for `user`, the first at `now_ms`, each a
/// second older than the one before.
fn good_logs(kind: LogKind, user: &str, now_ms: i64) -> Vec<Value> {
    (0..GOOD)
        .map(|i| {
            let ms = now_ms - 1000 * i as i64;
            let id = uuid::Uuid::new_v4().to_string();
            match kind {
                LogKind::Auth => json!({
                    "event_id": id,
                    "user_id": user,
                    "timestamp": ms,
                    "event_type": (["login", "token_refresh", "logout"][i % 3]),
                    "success": i != 1,
                    "ip_address": format!("192.0.2.{}", 10 + i),
                    "auth_method": "password",
                    "user_agent": "logpipe smoke",
                    "geo": {"country": "de", "city": "Berlin"},
                }),
                LogKind::Session => json!({
                    "session_id": id,
                    "user_id": user,
                    "timestamp": ms,
                    "event_type": (["SESSION_START", "heartbeat", "session_end"][i % 3]),
                    "ip_address": format!("2001:db8::{}", i + 1),
                    "device": {"type": "Desktop", "os": "Linux", "browser": "Firefox"},
                    "duration_ms": 1000 * i as i64,
                    "pages_viewed": i,
                }),
                LogKind::Activity => json!({
                    "event_id": id,
                    "user_id": user,
                    "session_id": uuid::Uuid::new_v4().to_string(),
                    "timestamp": ms,
                    "action": (["page_view", "click", "search"][i % 3]),
                    "resource": format!("/logpipe-smoke/{i}"),
                    "duration_ms": 100 * i as i64,
                    "metadata": {"smoke": true, "n": i},
                }),
            }
        })
        .collect()
}

/// A bad record's value: an object without the kind's required fields.
fn bad_log(user: &str) -> Value {
    json!({"user_id": user, "note": "deliberately bad record of logpipe smoke"})
}

/// What the read-back found for one function.
#[derive(Debug, Default)]
struct Outcome {
    /// The function's answer (Lambda invoke API only).
    summary: Option<BatchSummary>,
    rows_found: usize,
    dead_letter_found: bool,
    /// The invocation failed: there is nothing to read back.
    invoke_failed: bool,
    /// Why the function did not pass; empty when it did.
    problems: Vec<String>,
}

pub async fn run(args: SmokeArgs) -> anyhow::Result<ExitCode> {
    let selected = args.selection.resolve();
    let names: BTreeMap<LogKind, String> = args.function_names.iter().cloned().collect();
    if selected.is_empty() {
        anyhow::bail!("no log kind selected");
    }
    let now_ms = Utc::now().timestamp_millis();
    let user = format!(
        "{USER_PREFIX}{}-{}",
        Utc::now().format("%Y%m%dT%H%M%SZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    // Offsets far above any a real partition reaches, distinct per run.
    let base_offset = now_ms * 1000;
    let mut batches: Vec<Batch> = selected
        .iter()
        .map(|(kind, topic)| {
            let logs = good_logs(*kind, &user, now_ms);
            let mut values: Vec<Vec<u8>> =
                logs.iter().map(|l| l.to_string().into_bytes()).collect();
            values.push(bad_log(&user).to_string().into_bytes());
            let records = values
                .into_iter()
                .enumerate()
                .map(|(i, value)| PolledRecord {
                    topic: Arc::from(topic.as_str()),
                    partition: 0,
                    offset: base_offset + i as i64,
                    timestamp_ms: now_ms,
                    timestamp_type: TimestampType::CreateTime,
                    key: Some(user.clone().into_bytes()),
                    value: Some(value),
                    headers: Vec::new(),
                })
                .collect();
            Batch {
                kind: *kind,
                topic: topic.clone(),
                function: names
                    .get(kind)
                    .cloned()
                    .unwrap_or_else(|| kind.function_name().to_owned()),
                records,
                logs,
            }
        })
        .collect();

    // Connect to storage first: a wrong address fails before anything is sent.
    let contact = args
        .cassandra
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let config = remote_config(&contact, &args.keyspace)?;
    let session = match connect_session(&config).await {
        Ok(s) => s,
        Err(e) => anyhow::bail!("{}", error_text(&e.into())),
    };

    let started = Instant::now();
    let deadline = started + args.timeout;
    let mut outcomes: Vec<Outcome> = Vec::new();
    if let Some(url) = &args.lambda_endpoint {
        let endpoint = LambdaEndpoint {
            endpoint_url: (url != "aws").then(|| url.clone()),
            region: args.region.clone(),
            timeout: args.timeout,
        };
        let client = endpoint.client().await;
        let invocations = batches.iter().map(|b| {
            let invoker = Invoker::Lambda(LambdaInvoker::new(client.clone(), &b.function));
            let payload = to_payload(&EventSource::self_managed("logpipe-smoke"), &b.records);
            async move { invoke(&invoker, &payload, deadline).await }
        });
        for answer in futures::future::join_all(invocations).await {
            let mut outcome = Outcome::default();
            match answer {
                Ok(summary) => {
                    let want = BatchSummary {
                        records: (GOOD + 1) as u64,
                        written: GOOD as u64,
                        dead_lettered: 1,
                    };
                    match summary {
                        Some(s) if s == want => {}
                        Some(s) => outcome.problems.push(format!(
                            "the function answered {}, expected {}",
                            summary_text(&s),
                            summary_text(&want)
                        )),
                        None => outcome
                            .problems
                            .push("the function's answer is not a batch summary".into()),
                    }
                    outcome.summary = summary;
                }
                Err(e) => {
                    outcome.invoke_failed = true;
                    outcome.problems.push(e);
                }
            }
            outcomes.push(outcome);
        }
    } else {
        let servers = args.bootstrap.clone().unwrap_or_default();
        let connection = KafkaConnection {
            bootstrap: Bootstrap { servers },
            security: args.security.clone(),
            kafka_config: args.kafka_config.clone(),
        };
        let places = produce(&connection, &batches, args.timeout).await?;
        for (batch, places) in batches.iter_mut().zip(places) {
            for (record, (partition, offset)) in batch.records.iter_mut().zip(places) {
                record.partition = partition;
                record.offset = offset;
            }
            outcomes.push(Outcome::default());
        }
    }

    // Read back every function whose invocation went through, until all
    // its rows are there or the time is up.
    let mut done = vec![false; batches.len()];
    let mut read: Vec<Option<Checked>> = batches.iter().map(|_| None).collect();
    loop {
        for (i, batch) in batches.iter().enumerate() {
            if done[i] || outcomes[i].invoke_failed {
                continue;
            }
            let checked = check_rows(&session, &args.keyspace, batch).await;
            done[i] = checked.problems.is_empty();
            read[i] = Some(checked);
        }
        let pending = (0..batches.len()).any(|i| !done[i] && !outcomes[i].invoke_failed);
        if !pending || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for (outcome, checked) in outcomes.iter_mut().zip(read) {
        if let Some(c) = checked {
            outcome.rows_found = c.rows_found;
            outcome.dead_letter_found = c.dead_letter_found;
            outcome.problems.extend(c.problems);
        }
    }

    report(&args, &user, &batches, &outcomes, started.elapsed());
    let failed: Vec<String> = batches
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| !o.problems.is_empty())
        .map(|(b, o)| format!("{} ({}): {}", b.function, b.topic, o.problems.join("; ")))
        .collect();
    if failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::bail!(
        "smoke test failed for {} of {} functions (user_id {user}): {}",
        failed.len(),
        batches.len(),
        failed.join(" | ")
    )
}

fn summary_text(s: &BatchSummary) -> String {
    format!(
        "{{\"records\":{},\"written\":{},\"dead_lettered\":{}}}",
        s.records, s.written, s.dead_lettered
    )
}

/// Invokes until the function answers, a failure that invoking again
/// cannot mend, or `deadline` (the writes are idempotent: a repeat leaves
/// the same rows). Returns the function's summary, or what went wrong.
async fn invoke(
    invoker: &Invoker,
    payload: &[u8],
    deadline: Instant,
) -> Result<Option<BatchSummary>, String> {
    loop {
        match invoker.invoke(payload).await {
            Ok(success) => return Ok(success.summary),
            Err(failure)
                if failure.retryable && Instant::now() + Duration::from_secs(1) < deadline =>
            {
                tracing::warn!("{}; invoking again", failure.message);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(failure) => return Err(failure.message),
        }
    }
}

/// Produces every batch's records (valid ones first, in order) and waits
/// for each delivery; returns each record's (partition, offset), by batch.
async fn produce(
    connection: &KafkaConnection,
    batches: &[Batch],
    timeout: Duration,
) -> anyhow::Result<Vec<Vec<(i32, i64)>>> {
    let config = connection.client_config(|c| {
        c.set("client.id", "logpipe-smoke").set(
            "message.timeout.ms",
            timeout.as_millis().max(1000).to_string(),
        );
    })?;
    let producer: FutureProducer = config.create().context("creating the Kafka producer")?;
    let mut out = Vec::new();
    for batch in batches {
        let mut places = Vec::new();
        for r in &batch.records {
            let mut record = FutureRecord::to(&batch.topic)
                .timestamp(r.timestamp_ms)
                .key(r.key.as_deref().unwrap_or_default());
            if let Some(v) = &r.value {
                record = record.payload(v.as_slice());
            }
            let delivery = producer
                .send(record, timeout)
                .await
                .map_err(|(e, _)| anyhow::anyhow!("producing to {}: {e}", batch.topic))
                .with_context(|| format!("at {}", connection.bootstrap.servers))?;
            places.push((delivery.partition, delivery.offset));
        }
        out.push(places);
    }
    Ok(out)
}

/// What one read-back found.
struct Checked {
    rows_found: usize,
    dead_letter_found: bool,
    problems: Vec<String>,
}

fn table_key(table: &str) -> Option<TableKey> {
    schema::tables().into_iter().find(|t| t.table == table)
}

/// Reads the batch's rows back by their partition keys and compares each
/// column with the logs; and its bad record's dead letter.
async fn check_rows(session: &Session, keyspace: &str, batch: &Batch) -> Checked {
    let mut checked = Checked {
        rows_found: 0,
        dead_letter_found: false,
        problems: Vec::new(),
    };
    let table = batch.kind.table();
    let places: Vec<(i32, i64)> = batch
        .records
        .iter()
        .map(|r| (r.partition, r.offset))
        .collect();
    let expected = expected_rows(batch.kind, &batch.logs, &places);
    // One partition a day the logs fall in (a run at midnight spans two).
    let mut days: Vec<i64> = batch
        .logs
        .iter()
        .map(|l| {
            l["timestamp"]
                .as_i64()
                .unwrap_or_default()
                .div_euclid(86_400_000)
        })
        .collect();
    days.dedup();
    let user = batch
        .logs
        .first()
        .map_or("", |l| l["user_id"].as_str().unwrap_or(""));
    let Some(key) = table_key(table) else {
        checked
            .problems
            .push(format!("no table {table} in the schema"));
        return checked;
    };
    let mut stored: Vec<JsonRow> = Vec::new();
    for day in days {
        let pk = vec![
            CqlValue::Text(user.to_owned()),
            CqlValue::Date(day_of(day * 86_400_000)),
        ];
        match dump::partition_rows(session, keyspace, &key, &pk).await {
            Ok(rows) => stored.extend(rows),
            Err(e) => {
                checked
                    .problems
                    .push(format!("cannot read {keyspace}.{table}: {e}"));
                return checked;
            }
        }
    }
    let id_column = match batch.kind {
        LogKind::Session => "session_id",
        _ => "event_id",
    };
    let mut missing = Vec::new();
    for (id, want) in &expected {
        let Some(got) = stored
            .iter()
            .find(|r| r.get(id_column).and_then(Value::as_str) == Some(id))
        else {
            missing.push(id.clone());
            continue;
        };
        checked.rows_found += 1;
        for (column, value) in want {
            let found = got.get(column).unwrap_or(&Value::Null);
            if found != value {
                checked.problems.push(format!(
                    "{keyspace}.{table} row {id_column}={id}: {column} is {found}, expected {value}"
                ));
            }
        }
    }
    if !missing.is_empty() {
        checked.problems.push(format!(
            "{} of {} rows missing in {keyspace}.{table} (user_id {user}): {id_column} {}",
            missing.len(),
            expected.len(),
            missing.join(", ")
        ));
    }

    // The bad record's dead letter, keyed by its Kafka place and day.
    if let (Some(bad), Some(dl)) = (batch.records.last(), table_key(DEAD_LETTER_TABLE)) {
        let pk = vec![
            CqlValue::Text(batch.topic.clone()),
            CqlValue::Int(bad.partition),
            CqlValue::Date(day_of(bad.timestamp_ms)),
        ];
        match dump::partition_rows(session, keyspace, &dl, &pk).await {
            Ok(rows) => match rows.iter().find(|r| r.get("offset") == Some(&json!(bad.offset))) {
                Some(row) if row.get("reason") == Some(&json!("missing_field")) => {
                    checked.dead_letter_found = true;
                }
                Some(row) => checked.problems.push(format!(
                    "the dead letter at {}/{}/{} has reason {}, expected \"missing_field\"",
                    batch.topic,
                    bad.partition,
                    bad.offset,
                    row.get("reason").unwrap_or(&Value::Null)
                )),
                None => checked.problems.push(format!(
                    "no dead letter in {keyspace}.{DEAD_LETTER_TABLE} for the bad record at {} partition {} offset {}",
                    batch.topic, bad.partition, bad.offset
                )),
            },
            Err(e) => checked
                .problems
                .push(format!("cannot read {keyspace}.{DEAD_LETTER_TABLE}: {e}")),
        }
    }
    checked
}

/// Prints one line a function (or the `--json` object).
fn report(
    args: &SmokeArgs,
    user: &str,
    batches: &[Batch],
    outcomes: &[Outcome],
    elapsed: Duration,
) {
    if args.json {
        let functions: serde_json::Map<String, Value> = batches
            .iter()
            .zip(outcomes)
            .map(|(b, o)| {
                (
                    b.function.clone(),
                    json!({
                        "ok": o.problems.is_empty(),
                        "topic": b.topic,
                        "table": format!("{}.{}", args.keyspace, b.kind.table()),
                        "summary": o.summary.as_ref().map(|s| json!({
                            "records": s.records, "written": s.written, "dead_lettered": s.dead_lettered,
                        })),
                        "rows_expected": GOOD,
                        "rows_found": o.rows_found,
                        "dead_letter_found": o.dead_letter_found,
                        "problems": o.problems,
                    }),
                )
            })
            .collect();
        println!(
            "{}",
            json!({
                "ok": outcomes.iter().all(|o| o.problems.is_empty()),
                "user_id": user,
                "keyspace": args.keyspace,
                "seconds": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
                "functions": functions,
            })
        );
        return;
    }
    for (b, o) in batches.iter().zip(outcomes) {
        if o.problems.is_empty() {
            println!(
                "{}: ok, {} rows in {}.{} and 1 dead letter (missing_field) read back",
                b.function,
                o.rows_found,
                args.keyspace,
                b.kind.table()
            );
        } else {
            println!("{}: FAILED: {}", b.function, o.problems.join("; "));
        }
    }
    println!(
        "smoke user_id {user} ({:.1} s); its rows stay until their TTL expires",
        elapsed.as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_need_a_kind() {
        assert_eq!(
            parse_function_name("auth=prod-auth-logs:live").unwrap(),
            (LogKind::Auth, "prod-auth-logs:live".to_owned())
        );
        assert_eq!(
            parse_function_name("user_session_logs=s").unwrap(),
            (LogKind::Session, "s".to_owned())
        );
        assert!(parse_function_name("auth-logs")
            .unwrap_err()
            .contains("KIND=NAME"));
        assert!(parse_function_name("auth=").is_err());
        assert!(parse_function_name("billing=x").is_err());
    }

    #[test]
    fn expected_rows_follow_the_logs() {
        let now = 1_795_615_200_123; // 2026-11-25T14:00:00.123Z
        let logs = good_logs(LogKind::Auth, "logpipe-smoke-x", now);
        let rows = expected_rows(LogKind::Auth, &logs, &[(0, 7), (0, 8), (0, 9)]);
        assert_eq!(rows.len(), GOOD);
        let (id, first) = &rows[0];
        assert_eq!(id, logs[0]["event_id"].as_str().unwrap());
        assert_eq!(first["day"], "2026-11-25");
        assert_eq!(first["event_time"], "2026-11-25T14:00:00.123Z");
        assert_eq!(first["country"], "DE");
        assert_eq!(first["source_offset"], 7);
        let activity = good_logs(LogKind::Activity, "u", now);
        let rows = expected_rows(LogKind::Activity, &activity, &[(1, 1), (1, 2), (1, 3)]);
        assert_eq!(rows[2].1["metadata"], json!({"smoke": "true", "n": "2"}));
        let session = good_logs(LogKind::Session, "u", now);
        let rows = expected_rows(LogKind::Session, &session, &[(1, 1), (1, 2), (1, 3)]);
        assert_eq!(rows[0].1["event_type"], "session_start");
        assert_eq!(rows[0].1["device_type"], "desktop");
        assert_eq!(day_text(now), "2026-11-25");
        assert_eq!(dump::format_date(day_of(now).0), "2026-11-25");
    }
}
