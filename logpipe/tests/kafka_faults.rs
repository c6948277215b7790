//! Faults on the Kafka side of the pipeline, each against real servers on
//! loopback, each ending with the same reconciliation: the rows and dead
//! letters read back through CQL are exactly what the produced records
//! must become (produced == written + dead-lettered, no duplicates), and no
//! consumer group ever committed an offset whose record was not stored.
//!
//! - the mock cluster answering Fetch, OffsetCommit, OffsetFetch and
//!   Heartbeat requests with errors, its broker going down and coming
//!   back, and the mapping killed (SIGKILL) and started again;
//! - a function that panics, fails or times out on a batch (over the
//!   Lambda invoke API): the batch is invoked again, never skipped;
//! - poison records (too large, not UTF-8, empty, unclosed nesting past
//!   any recursive parser's depth) among good ones: they go to `dead_letters` and their partition
//!   moves on;
//! - a tansu broker process killed mid-stream and started again.
//!
//! The tansu test needs tansu (`make tansu`) and fails, naming that,
//! without it.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::kafka::{
    assert_committed_is_stored, assert_committed_to_end, assert_stored_matches, cql_node, esm_args,
    id_column, mock_cluster, produce, produce_only, read_stored, read_topic, start_tansu_on, Place,
    Truth,
};
use common::{collect_lines, free_port, logpipe, run_logpipe, wait_for_lines, wait_until, Killed};
use logpipe_core::LogKind;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::ClientConfig;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A line the mapping prints for each batch it resolved.
fn is_batch_line(line: &str) -> bool {
    line.contains(" records, ")
}

/// Spawns `logpipe esm` with `args` and collects its stderr.
fn spawn_esm(args: &[String]) -> (Killed, Arc<Mutex<Vec<String>>>) {
    let mut esm = common::spawn_logpipe(args);
    let (lines, _) = collect_lines(esm.child.stderr.take().unwrap());
    (esm, lines)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_errors_a_broker_down_and_a_killed_mapping_lose_nothing() {
    let (cluster, bootstrap) = mock_cluster(3);
    let (_node, cql) = cql_node().await;
    let truth = produce(&bootstrap, &LogKind::ALL, 500, 31, 0.1).await;

    // Retriable errors the mapping's consumers meet on their next requests
    // of each kind: fetching, committing, reading commits, heartbeats (a
    // heartbeat told of a rebalance makes the member rejoin).
    let inject = || {
        use RDKafkaRespErr::*;
        cluster.request_errors(
            RDKafkaApiKey::Fetch,
            &[RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION; 6],
        );
        cluster.request_errors(
            RDKafkaApiKey::OffsetCommit,
            &[
                RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
                RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
                RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
            ],
        );
        cluster.request_errors(
            RDKafkaApiKey::OffsetFetch,
            &[RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS; 2],
        );
        cluster.request_errors(
            RDKafkaApiKey::Heartbeat,
            &[RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS; 2],
        );
    };
    inject();

    let args = esm_args(
        &bootstrap,
        &cql,
        "faults",
        &[
            "--batch-size",
            "20",
            "--maximum-batching-window-in-seconds",
            "0",
            // A killed member leaves the group when its session times out.
            "--kafka-config",
            "session.timeout.ms=6000",
        ],
    );
    let (mut esm, lines) = spawn_esm(&args);
    let limit = Duration::from_secs(90);
    wait_for_lines(&lines, is_batch_line, 5, limit);

    // The broker goes down for three seconds, then comes back.
    cluster.broker_down(1).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    cluster.broker_up(1).unwrap();
    let before = lines.lock().unwrap().len();
    wait_until("batches after the broker came back", limit, || {
        lines.lock().unwrap()[before..]
            .iter()
            .filter(|l| is_batch_line(l))
            .count()
            >= 5
    });

    // Killed mid-stream: whatever it committed is stored.
    esm.kill_now();
    let stored = read_stored(&cql).await;
    let (covered, everything) =
        assert_committed_is_stored(&bootstrap, "faults", &LogKind::ALL, &stored);
    assert!(covered > 0, "some batches were committed");
    assert!(!everything, "the mapping was killed mid-stream");

    // Started again, with more errors on the way, it completes. The idle
    // time must outlast the errors: with 3 s, one run stopped with 500 of
    // the 1,300 records left unread, most likely while backing off after
    // the six failed fetches (librdkafka waits `fetch.error.backoff.ms`,
    // 500 ms, after each), when a consumer receives nothing.
    inject();
    let mut again = args.clone();
    again.extend(["--until-idle", "10s", "--json", "--quiet"].map(String::from));
    let out = run_logpipe(again, Duration::from_secs(180))
        .await
        .assert_success();
    let summary = out.json();
    assert_eq!(summary["discarded"], 0, "{summary}");
    let resumed = summary["records"].as_i64().unwrap();
    assert!(
        resumed >= 1500 - covered && resumed < 1500,
        "resumed {resumed} records after {covered} were committed"
    );

    assert_stored_matches(&read_stored(&cql).await, &truth);
    assert_committed_to_end(&bootstrap, "faults", &truth);
}

/// A commit refused after the last batch is not left behind: the mapping
/// tries it again while the topic is quiet, so when it stops it has
/// committed everything it stored (else a restart would deliver the last
/// batch again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_commit_of_the_last_batch_is_made_again() {
    let (cluster, bootstrap) = mock_cluster(1);
    let (_node, cql) = cql_node().await;
    let truth = produce(&bootstrap, &[LogKind::Auth], 60, 37, 0.1).await;
    // One batch, so one commit: the broker refuses it.
    cluster.request_errors(
        RDKafkaApiKey::OffsetCommit,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT; 3],
    );
    let args = esm_args(
        &bootstrap,
        &cql,
        "owed",
        &[
            "--batch-size",
            "10000",
            "--maximum-batching-window-in-seconds",
            "2",
            "--until-idle",
            "5s",
            "--json",
            "--quiet",
        ],
    );
    let out = run_logpipe(args, Duration::from_secs(120))
        .await
        .assert_success();
    let summary = out.json();
    assert_eq!(summary["records"], 60, "{summary}");
    assert_eq!(summary["batches"], 1, "{summary}");
    assert!(
        summary["commit_failures"].as_u64().unwrap() >= 1,
        "the commit was refused: {summary}"
    );
    assert_stored_matches(&read_stored(&cql).await, &truth);
    assert_committed_to_end(&bootstrap, "owed", &truth);
}

// ---------------------------------------------------------------------------
// A function that fails on a batch, over the Lambda invoke API

/// How the fake Lambda fails an invocation.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Failure {
    /// What Lambda answers when the function panics: status 200, an
    /// `X-Amz-Function-Error` header, the error document. Nothing stored.
    Panic,
    /// What `cargo lambda watch` answers for a function error: status 500.
    /// Nothing stored.
    Error,
    /// The function stores the batch, then runs past the invoke timeout.
    Timeout,
}

/// What the fake Lambda saw: each invocation's records and whether it
/// failed.
type Seen = Arc<Mutex<Vec<(Vec<Place>, Option<Failure>)>>>;

/// A Lambda invoke API on loopback whose functions are the real handler
/// (all three topics) storing into the CQL node at `cql`. Invocations
/// number 2, 4 and 6 fail: a panic, an error and a timeout of `timeout`
/// plus a second.
async fn fake_lambda(cql: &str, timeout: Duration) -> (String, Seen) {
    let sink = logpipe_core::sink::CassandraSink::connect(&logpipe_core::SinkConfig::local(cql))
        .await
        .expect("the handler connects to the CQL node");
    let function = Arc::new(logpipe_core::Function::new(
        logpipe_core::Router::all_default("fake-lambda"),
        Some(Arc::new(sink)),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen: Seen = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (function, log, count) = (function.clone(), log.clone(), count.clone());
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut read = BufReader::new(read);
                while let Some(body) = read_request(&mut read).await {
                    let n = count.fetch_add(1, Ordering::SeqCst) + 1;
                    let failure = match n {
                        2 => Some(Failure::Panic),
                        4 => Some(Failure::Error),
                        6 => Some(Failure::Timeout),
                        _ => None,
                    };
                    let event = logpipe_core::event::decode_event(&body).expect("an event");
                    let places: Vec<Place> = logpipe_core::event::records(&event)
                        .unwrap()
                        .iter()
                        .map(|r| (r.topic.to_owned(), r.partition, r.offset))
                        .collect();
                    log.lock().unwrap().push((places, failure));
                    let (status, header, answer) = match failure {
                        Some(Failure::Panic) => (
                            200,
                            "X-Amz-Function-Error: Unhandled\r\n",
                            r#"{"errorType":"Runtime.ExitError","errorMessage":"panicked at src/main.rs"}"#.to_owned(),
                        ),
                        Some(Failure::Error) => (
                            500,
                            "",
                            r#"{"errorType":"HandlerError","errorMessage":"storage failed"}"#.to_owned(),
                        ),
                        Some(Failure::Timeout) | None => {
                            let summary = function.handle(&event).await.expect("stored");
                            if failure == Some(Failure::Timeout) {
                                tokio::time::sleep(timeout + Duration::from_secs(1)).await;
                            }
                            (200, "", serde_json::to_string(&summary).unwrap())
                        }
                    };
                    let response = format!(
                        "HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nX-Amz-Executed-Version: $LATEST\r\n{header}Content-Length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    if write.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, seen)
}

/// Reads one HTTP request and returns its body; `None` at the end.
async fn read_request<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> Option<Vec<u8>> {
    let mut length = 0;
    let mut first = true;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        if line == "\r\n" && !first {
            break;
        }
        first = false;
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    r.read_exact(&mut body).await.ok()?;
    Some(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_function_panics_fails_or_times_out_is_retried_not_skipped() {
    let (_cluster, bootstrap) = mock_cluster(2);
    let (_node, cql) = cql_node().await;
    let truth = produce(&bootstrap, &LogKind::ALL, 100, 41, 0.1).await;
    let timeout = Duration::from_secs(2);
    let (addr, seen) = fake_lambda(&cql, timeout).await;

    let endpoint = format!("http://{addr}");
    let args = [
        "esm",
        "--bootstrap",
        &bootstrap,
        "--starting-position",
        "TRIM_HORIZON",
        "--group-id",
        "retried",
        "--endpoint-url",
        &endpoint,
        "--invoke-timeout",
        "2s",
        "--batch-size",
        "25",
        "--retry-delay",
        "50ms",
        "--until-idle",
        "3s",
        "--json",
        "--quiet",
    ];
    let out = run_logpipe(args.map(String::from).to_vec(), Duration::from_secs(120))
        .await
        .assert_success();
    let summary = out.json();
    assert_eq!(summary["failed_invocations"], 3, "{summary}");
    assert_eq!(summary["discarded"], 0, "{summary}");
    assert_eq!(summary["records"], 300, "{summary}");

    // Every record of a failed invocation was in a later successful one.
    let seen = seen.lock().unwrap().clone();
    let failures: Vec<Failure> = seen.iter().filter_map(|(_, f)| *f).collect();
    assert_eq!(
        failures,
        [Failure::Panic, Failure::Error, Failure::Timeout],
        "{seen:?}"
    );
    for (i, (places, failure)) in seen.iter().enumerate() {
        if failure.is_none() {
            continue;
        }
        let later: BTreeSet<&Place> = seen[i + 1..]
            .iter()
            .filter(|(_, f)| f.is_none())
            .flat_map(|(p, _)| p)
            .collect();
        for place in places {
            assert!(
                later.contains(place),
                "{place:?} failed ({failure:?}) and was never invoked again"
            );
        }
    }
    // The timed-out batch was stored twice: still one row a record.
    assert_stored_matches(&read_stored(&cql).await, &truth);
    assert_committed_to_end(&bootstrap, "retried", &truth);
}

// ---------------------------------------------------------------------------
// Poison records

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_records_go_to_dead_letters_and_their_partition_moves_on() {
    let (_cluster, bootstrap) = mock_cluster(1);
    let (_node, cql) = cql_node().await;
    let topic = LogKind::Activity.default_topic();
    // Generated records (10% bad) at offsets 0..100, ...
    let mut truth = produce(&bootstrap, &[LogKind::Activity], 100, 51, 0.1).await;

    // ... poison at 100..104 ...
    // Nesting deeper than any recursive parser's stack, never closed.
    let nested = "[".repeat(100_000);
    let not_utf8: Vec<u8> = (0..4096).map(|i| (i % 7) as u8 | 0xf8).collect();
    let poison: Vec<(Option<Vec<u8>>, &str)> = vec![
        (Some(vec![b'{'; 600_000]), "too_large"),
        (Some(not_utf8), "invalid_utf8"),
        (None, "empty_value"),
        (Some(nested.into_bytes()), "invalid_json"),
    ];
    {
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .create()
            .unwrap();
        for (value, _) in &poison {
            let mut record = BaseRecord::<[u8], [u8]>::to(topic).key(&b"poison"[..]);
            if let Some(v) = value {
                record = record.payload(&v[..]);
            }
            producer.send(record).map_err(|(e, _)| e).unwrap();
        }
        producer.flush(Duration::from_secs(10)).unwrap();
    }
    for (i, (_, reason)) in poison.iter().enumerate() {
        truth
            .invalid
            .insert((topic.to_owned(), 0, 100 + i as i64), (*reason).to_owned());
    }

    // ... and good records after them, at 104..204.
    {
        let b = bootstrap.clone();
        tokio::task::spawn_blocking(move || produce_only(&b, &[LogKind::Activity], 100, 52))
            .await
            .unwrap();
    }
    let after = {
        let b = bootstrap.clone();
        tokio::task::spawn_blocking(move || read_topic(&b, topic, 204))
            .await
            .unwrap()
    };
    for (place, _, value) in after.into_iter().filter(|((_, _, o), _, _)| *o >= 104) {
        truth
            .valid
            .insert(place, serde_json::from_slice(&value).unwrap());
    }
    assert_eq!(truth.len(), 204);

    let out = run_logpipe(
        esm_args(
            &bootstrap,
            &cql,
            "poison",
            &[
                "--batch-size",
                "10",
                "--until-idle",
                "2s",
                "--json",
                "--quiet",
            ],
        ),
        Duration::from_secs(90),
    )
    .await
    .assert_success();
    let summary = out.json();
    assert_eq!(summary["records"], 204, "{summary}");
    assert_eq!(summary["failed_invocations"], 0, "{summary}");
    assert_eq!(summary["dead_lettered"], truth.invalid.len(), "{summary}");
    assert_stored_matches(&read_stored(&cql).await, &truth);
    assert_committed_to_end(&bootstrap, "poison", &truth);
}

// ---------------------------------------------------------------------------
// A tansu broker killed and started again

/// Sends `kill -s SIGNAL` to the process.
fn signal(process: &Killed, name: &str) {
    let status = Command::new("kill")
        .args(["-s", name, &process.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -s {name}");
}

fn create_topics(bootstrap: &str) {
    let out = logpipe(&["topics", "create", "--bootstrap", bootstrap]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A log row: its table, id column and the Kafka place it came from.
type RowKey = (String, String, Place);

/// Every log row (rows of two brokers' lives may share a place, and a
/// session's records share its id: each row is known by all three).
async fn rows(addr: &str) -> BTreeSet<RowKey> {
    use scylla::value::{CqlValue, Row};
    let session = logpipe_core::sink::connect_session(&logpipe_core::SinkConfig::local(addr))
        .await
        .unwrap();
    let mut out = BTreeSet::new();
    for kind in LogKind::ALL {
        let cql = format!(
            "SELECT source_partition, source_offset, {} FROM user_db.{}",
            id_column(kind),
            kind.table()
        );
        let result = session.query_unpaged(cql, &[]).await.unwrap();
        for row in result.into_rows_result().unwrap().rows::<Row>().unwrap() {
            let c = row.unwrap().columns;
            let (Some(CqlValue::Int(p)), Some(CqlValue::BigInt(o)), Some(CqlValue::Uuid(id))) =
                (&c[0], &c[1], &c[2])
            else {
                panic!("unexpected row {c:?}");
            };
            let place = (kind.default_topic().to_owned(), *p, *o);
            out.insert((kind.table().to_owned(), id.hyphenated().to_string(), place));
        }
    }
    out
}

/// The rows the valid records of `truth` must make.
fn rows_of(truth: &Truth) -> BTreeSet<RowKey> {
    truth
        .valid
        .iter()
        .map(|(place, json)| {
            let kind = LogKind::from_default_topic(&place.0).unwrap();
            let id = json[id_column(kind)]
                .as_str()
                .unwrap()
                .trim()
                .to_lowercase();
            (kind.table().to_owned(), id, place.clone())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tansu_broker_killed_mid_stream_and_restarted_loses_nothing_it_acknowledged() {
    let bootstrap = format!("127.0.0.1:{}", free_port());
    let mut broker = start_tansu_on(&bootstrap);
    create_topics(&bootstrap);
    let (_node, cql) = cql_node().await;
    let first = produce(&bootstrap, &LogKind::ALL, 400, 61, 0.1).await;

    let (mut esm, lines) = spawn_esm(&esm_args(
        &bootstrap,
        &cql,
        "restart",
        &[
            "--batch-size",
            "10",
            "--maximum-batching-window-in-seconds",
            "0",
            "--json",
        ],
    ));
    wait_for_lines(&lines, is_batch_line, 6, Duration::from_secs(90));

    // Mid-stream, with the mapping paused (SIGSTOP: it commits only what
    // was stored before, so both stand still): what is committed is
    // stored. Then the broker dies (its storage is memory: topics, records
    // and commits die with it) and the mapping carries on.
    signal(&esm, "STOP");
    std::thread::sleep(Duration::from_millis(500));
    let stored = read_stored(&cql).await;
    let (covered, everything) =
        assert_committed_is_stored(&bootstrap, "restart", &LogKind::ALL, &stored);
    broker.kill_now();
    drop(broker);
    signal(&esm, "CONT");
    assert!(covered > 0 && !everything, "killed mid-stream");
    // Records it had fetched before may still be resolved: wait until it
    // goes quiet.
    let mut quiet = 0;
    let mut last = usize::MAX;
    while quiet < 4 {
        std::thread::sleep(Duration::from_millis(500));
        let n = lines
            .lock()
            .unwrap()
            .iter()
            .filter(|l| is_batch_line(l))
            .count();
        quiet = if n == last { quiet + 1 } else { 0 };
        last = n;
    }
    assert!(
        esm.child.try_wait().unwrap().is_none(),
        "the mapping outlives its broker"
    );
    // Whatever the mapping stored of the first records is stored right:
    // each row or dead letter is the one its record must make.
    let before = read_stored(&cql).await;
    for (place, id) in &before.rows {
        let json = &first.valid[place];
        let kind = LogKind::from_default_topic(&place.0).unwrap();
        assert_eq!(json[id_column(kind)].as_str().unwrap().to_lowercase(), *id);
    }
    for (place, reason) in &before.dead_letters {
        assert_eq!(&first.invalid[place], reason, "{place:?}");
    }
    let rows_before = rows(&cql).await;

    // Nothing is stored after the broker died; the mapping is then killed.
    // (Neither Ctrl-C nor the restarted broker is asked of it: see
    // docs/reliability.md, "Open findings".)
    esm.kill_now();
    let after_outage = read_stored(&cql).await;
    assert_eq!(after_outage, before, "nothing stored after the broker died");

    // The broker comes back on the same address, empty.
    let _broker = start_tansu_on(&bootstrap);
    create_topics(&bootstrap);

    // New records on the new broker, through a mapping started again (in
    // groups of their own: the new broker may still count the old mapping
    // a member until its session times out).
    let second = produce(&bootstrap, &LogKind::ALL, 300, 62, 0.0).await;
    let want = rows_of(&second);
    let out = run_logpipe(
        esm_args(
            &bootstrap,
            &cql,
            "restarted",
            &[
                "--batch-size",
                "10",
                "--until-idle",
                "3s",
                "--json",
                "--quiet",
            ],
        ),
        Duration::from_secs(120),
    )
    .await
    .assert_success();
    let summary = out.json();
    assert_eq!(summary["records"], 900, "{summary}");
    assert_eq!(summary["written"], 900, "{summary}");

    // The new records: each exactly one row, at its own place; nothing
    // else was written.
    let after = rows(&cql).await;
    let expected: BTreeSet<RowKey> = rows_before.union(&want).cloned().collect();
    assert_eq!(rows_before.intersection(&want).count(), 0);
    assert_eq!(
        after.len(),
        expected.len(),
        "rows beyond the first records stored and the new ones: {:?}",
        after
            .symmetric_difference(&expected)
            .take(10)
            .collect::<Vec<_>>()
    );
    assert_eq!(after, expected);
    assert_committed_to_end(&bootstrap, "restarted", &second);
}
