//! Real Apache Cassandra for the integration tests (the `logpipe-testkit`
//! crate): the run's shared node, a session to it, `logpipe` runs with a
//! controlled environment, event files built by the test, and CQL reads.
//!
//! Every test on the shared node works in a keyspace of its own
//! ([`unique_name`]): under `make test` one node serves the whole run.
//! Nothing here skips: a node that cannot start fails the test with the
//! reason (and the make target that installs the jars).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use futures::TryStreamExt;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::deserialize::row::DeserializeRow;
use scylla::serialize::row::SerializeRow;

// Each test binary uses a few of these.
#[allow(unused_imports)]
pub use logpipe_testkit::{
    shared_cassandra, unique_name, Cassandra, CassandraOptions, COMMITLOG_SYNC_MS,
};

use logpipe_testkit::{wait_output, KillOnDrop};

use super::{root, Finished, TABLES};

/// How long a `logpipe` run against the real node may take.
pub const RUN_LIMIT: Duration = Duration::from_secs(300);

/// Starts `logpipe` with `args` in the workspace root. Every `LOGPIPE_*`
/// and `AWS_*` variable of the test's own environment is removed (a
/// developer's shell must not change what a test stores), then `env` is
/// set.
pub fn spawn_logpipe_env<S: AsRef<std::ffi::OsStr>>(
    args: &[S],
    env: &[(&str, &str)],
) -> KillOnDrop {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logpipe"));
    cmd.args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars_os() {
        let name = k.to_string_lossy();
        if name.starts_with("LOGPIPE_") || name.starts_with("AWS_") {
            cmd.env_remove(&k);
        }
    }
    // No AWS lookups unless the test sets them up.
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    for (k, v) in env {
        cmd.env(k, v);
    }
    KillOnDrop::new(cmd.spawn().expect("logpipe starts"))
}

/// `logpipe schema apply --cassandra CQL --keyspace KEYSPACE`, with `env`
/// (TLS, credentials), which must succeed.
pub async fn schema_apply(cql: &str, keyspace: &str, env: Vec<(String, String)>) {
    run_env(
        crate::common::args(&[
            "schema",
            "apply",
            "--cassandra",
            cql,
            "--keyspace",
            keyspace,
        ]),
        env,
    )
    .await
    .assert_success();
}

/// Runs `logpipe` as [`spawn_logpipe_env`] does, to the end (at most
/// [`RUN_LIMIT`]), on a blocking thread: for async tests.
pub async fn run_env(args: Vec<String>, env: Vec<(String, String)>) -> Finished {
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        wait_output(spawn_logpipe_env(&args, &env), RUN_LIMIT)
    })
    .await
    .expect("the waiting thread")
    .into()
}

/// `(key, value)` pairs as the owned environment [`run_env`] takes.
pub fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The arguments of `logpipe replay --cassandra ADDR --keyspace KS
/// --apply-schema --json [--dump DIR] FILE...`.
pub fn replay_args(
    addr: &str,
    keyspace: &str,
    files: &[&Path],
    dump: Option<&Path>,
) -> Vec<String> {
    let mut args: Vec<String> = [
        "replay",
        "--cassandra",
        addr,
        "--keyspace",
        keyspace,
        "--apply-schema",
        "--json",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if let Some(dir) = dump {
        args.push("--dump".into());
        args.push(dir.display().to_string());
    }
    args.extend(files.iter().map(|f| f.display().to_string()));
    args
}

/// Replays `files` into `keyspace` of the node at `addr` (schema applied
/// first), dumping the tables into `dump` when given; panics with stderr
/// unless it exits 0. Returns the `--json` summary.
pub async fn replay(
    addr: &str,
    keyspace: &str,
    files: &[&Path],
    dump: Option<&Path>,
    extra_env: &[(&str, &str)],
) -> serde_json::Value {
    run_env(replay_args(addr, keyspace, files, dump), env(extra_env))
        .await
        .assert_success()
        .json()
}

/// The dump `logpipe replay --dump` wrote into `dir`: table → rows.
pub fn read_dump(dir: &Path) -> BTreeMap<&'static str, Vec<serde_json::Value>> {
    TABLES
        .iter()
        .map(|t| (*t, super::read_rows(&dir.join(format!("{t}.jsonl")))))
        .collect()
}

/// A session to the (unauthenticated, plaintext) node at `addr`.
pub async fn session(addr: &str) -> Session {
    SessionBuilder::new()
        .known_node(addr)
        .connection_timeout(Duration::from_secs(10))
        .build()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to Cassandra at {addr}: {e}"))
}

/// Every row of `cql` (paged), typed.
pub async fn rows<T>(session: &Session, cql: &str, values: impl SerializeRow) -> Vec<T>
where
    T: for<'f, 'm> DeserializeRow<'f, 'm>,
{
    session
        .query_iter(cql, values)
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"))
        .rows_stream::<T>()
        .unwrap_or_else(|e| panic!("{cql}: {e}"))
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{cql}: {e}"))
}

/// How many rows `table` of `keyspace` holds.
pub async fn count(session: &Session, keyspace: &str, table: &str) -> i64 {
    let cql = format!("SELECT count(*) FROM {keyspace}.{table}");
    rows::<(i64,)>(session, &cql, ())
        .await
        .first()
        .map_or(0, |r| r.0)
}

// ---------------------------------------------------------------------------
// Event files built by the test.

/// One Kafka record of an event file the test builds.
#[derive(Debug, Clone)]
pub struct Rec {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Kafka timestamp (epoch ms); `None` writes Kafka's -1 (no timestamp).
    pub timestamp_ms: Option<i64>,
    /// The record value: JSON text, base64-encoded into the event.
    pub value: String,
}

impl Rec {
    /// A record of `topic` holding `log`.
    pub fn new(
        topic: &str,
        partition: i32,
        offset: i64,
        timestamp_ms: Option<i64>,
        log: &serde_json::Value,
    ) -> Rec {
        Rec {
            topic: topic.to_owned(),
            partition,
            offset,
            timestamp_ms,
            value: log.to_string(),
        }
    }
}

/// An MSK event (`aws:kafka`) holding `records`, as Lambda delivers it.
pub fn event_json(records: &[Rec]) -> serde_json::Value {
    let mut by_key: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for r in records {
        by_key
            .entry(format!("{}-{}", r.topic, r.partition))
            .or_default()
            .push(serde_json::json!({
                "topic": r.topic,
                "partition": r.partition,
                "offset": r.offset,
                "timestamp": r.timestamp_ms.unwrap_or(-1),
                "timestampType": if r.timestamp_ms.is_some() { "CREATE_TIME" } else { "NO_TIMESTAMP_TYPE" },
                "key": base64::engine::general_purpose::STANDARD.encode(b"test-key"),
                "value": base64::engine::general_purpose::STANDARD.encode(r.value.as_bytes()),
                "headers": [],
            }));
    }
    serde_json::json!({
        "eventSource": "aws:kafka",
        "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/logpipe/00000000-0000-0000-0000-000000000000-1",
        "bootstrapServers": "b-1.logpipe.example.com:9092",
        "records": by_key,
    })
}

/// Writes [`event_json`] of `records` to `dir/name.json`; returns the path.
pub fn write_event(dir: &Path, name: &str, records: &[Rec]) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, event_json(records).to_string()).unwrap();
    path
}

/// 2026-11-25T14:00:00Z, the fixtures' day, in epoch milliseconds.
pub const DAY0_MS: i64 = 1_795_615_200_000;
/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;

/// A UUID made from a number (test event ids: distinct and readable).
pub fn uuid_of(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// A valid auth log.
pub fn auth_log(event_id: &str, user: &str, time_ms: i64, event_type: &str) -> serde_json::Value {
    serde_json::json!({
        "event_id": event_id,
        "user_id": user,
        "timestamp": time_ms,
        "event_type": event_type,
        "success": true,
        "ip_address": "10.1.2.3",
    })
}

/// A valid session log.
pub fn session_log(session_id: &str, user: &str, time_ms: i64) -> serde_json::Value {
    serde_json::json!({
        "session_id": session_id,
        "user_id": user,
        "timestamp": time_ms,
        "event_type": "heartbeat",
    })
}

/// A valid activity log.
pub fn activity_log(event_id: &str, user: &str, time_ms: i64, resource: &str) -> serde_json::Value {
    serde_json::json!({
        "event_id": event_id,
        "user_id": user,
        "timestamp": time_ms,
        "action": "page_view",
        "resource": resource,
    })
}

/// The Kafka timestamp of every record of the event file `path`, by
/// (topic, partition, offset); `None` for a record without one.
pub fn record_timestamps(path: &Path) -> BTreeMap<(String, i32, i64), Option<i64>> {
    let event: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for (key, batch) in event["records"].as_object().unwrap() {
        for r in batch.as_array().unwrap() {
            let topic = r["topic"].as_str().map_or_else(
                || {
                    key.rsplit_once('-')
                        .map_or(key.as_str(), |(t, _)| t)
                        .to_owned()
                },
                str::to_owned,
            );
            let ts = r["timestamp"].as_i64().filter(|t| *t >= 0);
            out.insert(
                (
                    topic,
                    r["partition"].as_i64().unwrap() as i32,
                    r["offset"].as_i64().unwrap(),
                ),
                ts,
            );
        }
    }
    out
}

/// The write time (`USING TIMESTAMP`, µs) the pipeline must give a row:
/// the record's Kafka timestamp in ms × 1000 + its offset mod 1000; without
/// a Kafka timestamp `fallback_ms` (a log's event time, 0 for a dead
/// letter) instead.
pub fn expected_write_time(kafka_ms: Option<i64>, fallback_ms: i64, offset: i64) -> i64 {
    kafka_ms.unwrap_or(fallback_ms) * 1000 + offset.rem_euclid(1000)
}

/// The columns of `keyspace.table` as the server declares them:
/// (name, kind, type), kind being `partition_key`, `clustering` or `regular`.
pub async fn columns(
    session: &Session,
    keyspace: &str,
    table: &str,
) -> Vec<(String, String, String)> {
    rows::<(String, String, String)>(
        session,
        "SELECT column_name, kind, type FROM system_schema.columns \
         WHERE keyspace_name = ? AND table_name = ?",
        (keyspace, table),
    )
    .await
}

/// Every row of `keyspace.table` as the server renders it (`SELECT JSON`),
/// with `writetime(c)` of each regular non-collection column (null where
/// the cell is unset), sorted by their text: what two keyspaces are
/// compared by, cell values and write times alike.
pub async fn rows_with_write_times(
    session: &Session,
    keyspace: &str,
    table: &str,
) -> Vec<serde_json::Value> {
    let cols = columns(session, keyspace, table).await;
    assert!(!cols.is_empty(), "{keyspace}.{table} does not exist");
    let mut selectors: Vec<String> = cols.iter().map(|(name, _, _)| name.clone()).collect();
    selectors.extend(
        cols.iter()
            .filter(|(_, kind, ty)| {
                kind == "regular" && !["map<", "list<", "set<"].iter().any(|c| ty.starts_with(c))
            })
            .map(|(name, _, _)| format!("writetime({name})")),
    );
    let cql = format!(
        "SELECT JSON {} FROM {keyspace}.{table}",
        selectors.join(", ")
    );
    let mut texts: Vec<String> = rows::<(String,)>(session, &cql, ())
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    texts.sort();
    texts
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect()
}

/// The topic whose records `table` holds (the default routes).
pub fn topic_of(table: &str) -> &'static str {
    match table {
        "auth_logs" => "user_auth_logs",
        "session_logs" => "user_session_logs",
        "activity_logs" => "user_activity_logs",
        other => panic!("{other} is not a log table"),
    }
}

/// Milliseconds of a `SELECT JSON` timestamp (`2026-11-25 14:00:00.123Z`).
pub fn json_time_ms(v: &serde_json::Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    chrono::NaiveDateTime::parse_from_str(s.trim_end_matches('Z'), "%Y-%m-%d %H:%M:%S%.f")
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .and_utc()
        .timestamp_millis()
}

/// Asserts that every written cell of every row of `ks` has the write time
/// of its record, from `timestamps` (the records' Kafka timestamps by
/// topic, partition and offset). Returns how many rows were checked.
pub async fn assert_write_times(
    session: &Session,
    ks: &str,
    timestamps: &BTreeMap<(String, i32, i64), Option<i64>>,
) -> usize {
    let mut checked = 0;
    for table in TABLES {
        for row in rows_with_write_times(session, ks, table).await {
            let at = |c: &str| row[c].as_i64().unwrap_or_else(|| panic!("{c}: {row}"));
            let (topic, partition, offset, fallback) = if table == "dead_letters" {
                let topic = row["topic"].as_str().unwrap().to_owned();
                (topic, at("partition"), at("offset"), 0)
            } else {
                let topic = topic_of(table);
                let time = json_time_ms(&row["event_time"]);
                (
                    topic.to_owned(),
                    at("source_partition"),
                    at("source_offset"),
                    time,
                )
            };
            let key = (topic, partition as i32, offset);
            let kafka = timestamps
                .get(&key)
                .unwrap_or_else(|| panic!("{ks}.{table}: no record at {key:?}"));
            let want = expected_write_time(*kafka, fallback, offset);
            let cells: Vec<(&String, &serde_json::Value)> = row
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, v)| k.starts_with("writetime(") && !v.is_null())
                .collect();
            assert!(!cells.is_empty(), "{ks}.{table}: no written cell in {row}");
            for (cell, wt) in cells {
                assert_eq!(
                    wt.as_i64(),
                    Some(want),
                    "{ks}.{table}: {cell} of the record at {key:?} (Kafka time {kafka:?}); row {row}"
                );
            }
            checked += 1;
        }
    }
    checked
}
