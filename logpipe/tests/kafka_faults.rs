//! Faults on the Kafka side of the pipeline, each against servers on
//! loopback, each ending with the same reconciliation: the rows and dead
//! letters read back through CQL are exactly what the produced records
//! must become (produced == written + dead-lettered, no duplicates), and no
//! consumer group ever committed an offset whose record was not stored.
//!
//! - librdkafka's mock cluster (for its fault injection) answering Fetch,
//!   OffsetCommit, OffsetFetch and Heartbeat requests with errors, its
//!   broker going down and coming back, and the mapping killed (SIGKILL)
//!   and started again; a refused commit of the last batch (embedded CQL
//!   node);
//! - on the real pair (Apache Kafka and Cassandra, `logpipe-testkit`): a
//!   function that panics, fails or times out on a batch (over the Lambda
//!   invoke API): the batch is invoked again, never skipped; poison
//!   records (too large, not UTF-8, empty, unclosed nesting past any
//!   recursive parser's depth) among good ones: they go to `dead_letters`
//!   and their partition moves on;
//! - a real Kafka broker killed (SIGKILL) mid-stream and restarted with
//!   its log directory, while the mapping runs on.
//!
//! Without the real servers installed (`make servers`) those tests fail,
//! naming that.

mod common;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::kafka::{
    apply_schema, assert_committed_is_stored, assert_committed_to_end, assert_is_stored,
    assert_stored_matches, committed_in, cql_node, create_topics_in, esm_args, esm_args_in,
    is_batch_line, learn_runs, mock_cluster, own_kafka, produce, produce_in, produce_only_in,
    read_stored, read_stored_in, read_topic, real_pair, spawn_esm, wait_committed_to_end, Place,
    Run, Scope,
};
use common::{interrupt_and_wait, run_logpipe, run_logpipe_json};
use logpipe_core::LogKind;
use logpipe_testkit::{wait_for_lines, wait_until, Kafka, KafkaOptions, KillOnDrop};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::ClientConfig;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_errors_a_broker_down_and_a_killed_mapping_lose_nothing() {
    let (cluster, bootstrap) = mock_cluster(3);
    let (_node, cql) = cql_node().await;
    let truth = produce(&bootstrap, &LogKind::ALL, Run::new(500, 31, 0.1)).await;

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

    // KillOnDrop mid-stream: whatever it committed is stored.
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
    let summary = run_logpipe_json(again, Duration::from_secs(180)).await;
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
    let truth = produce(&bootstrap, &[LogKind::Auth], Run::new(60, 37, 0.1)).await;
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
    let summary = run_logpipe_json(args, Duration::from_secs(120)).await;
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
/// (the scope's three topics) storing into the scope's keyspace at `cql`.
/// Invocations number 2, 4 and 6 fail: a panic, an error and a timeout of
/// `timeout` plus a second.
async fn fake_lambda(scope: &Scope, cql: &str, timeout: Duration) -> (String, Seen) {
    let mut config = logpipe_core::SinkConfig::local(cql);
    config.keyspace = scope.keyspace.clone();
    let sink = logpipe_core::sink::CassandraSink::connect(&config)
        .await
        .expect("the handler connects to Cassandra");
    let routes = LogKind::ALL
        .into_iter()
        .map(|k| (scope.topic(k).to_owned(), k))
        .collect();
    let function = Arc::new(logpipe_core::Function::new(
        logpipe_core::Router::new(routes, "fake-lambda"),
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
                    let event = logpipe_core::event::decode(&body).expect("an event");
                    let places: Vec<Place> = event
                        .records()
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
                            let summary = function.handle_payload(&body).await.expect("stored");
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
    let (scope, bootstrap, cql) = real_pair("retried", 2).await;
    let truth = produce_in(&scope, &bootstrap, &LogKind::ALL, Run::new(100, 41, 0.1)).await;
    let timeout = Duration::from_secs(2);
    let (addr, seen) = fake_lambda(&scope, &cql, timeout).await;

    let endpoint = format!("http://{addr}");
    let group = scope.group("retried");
    let mut args = common::args(&[
        "esm",
        "--bootstrap",
        &bootstrap,
        "--starting-position",
        "TRIM_HORIZON",
        "--group-id",
        &group,
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
    ]);
    args.extend(scope.topic_flags());
    let summary = run_logpipe_json(args, Duration::from_secs(120)).await;
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
    assert_stored_matches(&read_stored_in(&cql, &scope).await, &truth);
    assert_committed_to_end(&bootstrap, &group, &truth);
}

// ---------------------------------------------------------------------------
// Poison records

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_records_go_to_dead_letters_and_their_partition_moves_on() {
    let (scope, bootstrap, cql) = real_pair("poison", 1).await;
    let topic = scope.topic(LogKind::Activity).to_owned();
    // Generated records (10% bad) at offsets 0..100, ...
    let mut truth = produce_in(
        &scope,
        &bootstrap,
        &[LogKind::Activity],
        Run::new(100, 51, 0.1),
    )
    .await;

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
            let mut record = BaseRecord::<[u8], [u8]>::to(&topic).key(&b"poison"[..]);
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
    produce_only_in(
        &scope,
        &bootstrap,
        &[LogKind::Activity],
        Run::new(100, 52, 0.0),
    )
    .await;
    let after = {
        let (b, t) = (bootstrap.clone(), topic.clone());
        tokio::task::spawn_blocking(move || read_topic(&b, &t, 204))
            .await
            .unwrap()
    };
    for (place, _, value) in after.into_iter().filter(|((_, _, o), _, _)| *o >= 104) {
        truth
            .valid
            .insert(place, serde_json::from_slice(&value).unwrap());
    }
    assert_eq!(truth.len(), 204);

    let group = scope.group("poison");
    let out = run_logpipe(
        esm_args_in(
            &scope,
            &bootstrap,
            &cql,
            &group,
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
    assert_stored_matches(&read_stored_in(&cql, &scope).await, &truth);
    assert_committed_to_end(&bootstrap, &group, &truth);
}

// ---------------------------------------------------------------------------
// A real broker killed and restarted

/// Sends `kill -s SIGNAL` to the process.
fn signal(process: &KillOnDrop, name: &str) {
    let status = Command::new("kill")
        .args(["-s", name, &process.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -s {name}");
}

/// Batch lines so far.
fn batches(lines: &Mutex<Vec<String>>) -> usize {
    lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| is_batch_line(l))
        .count()
}

/// A broker of the test's own (it is killed or replaced) and the shared
/// Cassandra, with a scope named for `prefix`: its keyspace has the schema,
/// its topics three partitions each. Returns the broker, its bootstrap
/// address, the Cassandra address and the scope.
async fn own_broker_and_shared_cassandra(prefix: &str) -> (Kafka, String, &'static str, Scope) {
    let broker = own_kafka(KafkaOptions::default()).await;
    let bootstrap = broker.bootstrap().to_owned();
    let cql = tokio::task::spawn_blocking(logpipe_testkit::shared_cassandra)
        .await
        .unwrap();
    let scope = Scope::unique(prefix);
    apply_schema(cql, &scope.keyspace).await;
    create_topics_in(&bootstrap, &scope, 3);
    (broker, bootstrap, cql, scope)
}

/// The command line of a mapping over the scope's topics in consumer
/// groups `group-<function>` that sends batches of ten as soon as they are
/// full, `extra` flags after; and the mapping started with it, once it has
/// resolved six batches, with its stderr lines.
fn esm_in_batches_of_ten(
    scope: &Scope,
    bootstrap: &str,
    cql: &str,
    group: &str,
    extra: &[&str],
) -> (Vec<String>, KillOnDrop, Arc<Mutex<Vec<String>>>) {
    let small = [
        "--batch-size",
        "10",
        "--maximum-batching-window-in-seconds",
        "0",
    ];
    let args = esm_args_in(scope, bootstrap, cql, group, &[&small[..], extra].concat());
    let (esm, lines) = spawn_esm(&args);
    wait_for_lines(&lines, is_batch_line, 6, Duration::from_secs(120));
    (args, esm, lines)
}

/// Waits until `lines` has stood still (no new batch line) for two
/// seconds.
fn wait_quiet(lines: &Mutex<Vec<String>>) {
    let mut quiet = 0;
    let mut last = usize::MAX;
    while quiet < 4 {
        std::thread::sleep(Duration::from_millis(500));
        let n = batches(lines);
        quiet = if n == last { quiet + 1 } else { 0 };
        last = n;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_killed_mid_stream_and_restarted_loses_nothing_and_ctrl_c_meanwhile_is_prompt() {
    // A broker of this test's own (it is killed), the shared Cassandra.
    let (mut broker, bootstrap, cql, scope) = own_broker_and_shared_cassandra("restart").await;
    let runs = [
        Run::new(500, 61, 0.1),
        Run::new(300, 62, 0.1),
        Run::new(500, 63, 0.1),
    ];
    let restart = |mut broker: Kafka| async move {
        tokio::task::spawn_blocking(move || {
            broker.restart().unwrap_or_else(|e| panic!("{e}"));
            broker
        })
        .await
        .unwrap()
    };
    produce_only_in(&scope, &bootstrap, &LogKind::ALL, runs[0]).await;

    let group = scope.group("restart");
    let (args, mut esm, lines) = esm_in_batches_of_ten(
        &scope,
        &bootstrap,
        cql,
        &group,
        &["--kafka-config", "session.timeout.ms=6000", "--json"],
    );

    // 1. Mid-stream, with the mapping paused (SIGSTOP: it commits only
    //    what it stored before, so both stand still): what is committed
    //    is stored. Then the broker dies (SIGKILL), and the mapping
    //    carries on without it: it stores what it had fetched, and waits.
    signal(&esm, "STOP");
    std::thread::sleep(Duration::from_millis(500));
    let committed = committed_in(&scope, &bootstrap, &group, &LogKind::ALL);
    let covered = assert_is_stored(&committed, &read_stored_in(cql, &scope).await);
    assert!(
        covered > 0 && covered < 1500,
        "killed mid-stream: {committed:?}"
    );
    broker.kill();
    signal(&esm, "CONT");
    wait_quiet(&lines);
    assert!(
        esm.child.try_wait().unwrap().is_none(),
        "the mapping outlives its broker"
    );
    let during_outage = batches(&lines);

    // 2. The broker comes back with its log (records, topics, commits);
    //    the same mapping, never restarted, stores the rest and what is
    //    produced after the restart, and commits to the end.
    broker = restart(broker).await;
    let committed = committed_in(&scope, &bootstrap, &group, &LogKind::ALL);
    assert!(
        assert_is_stored(&committed, &read_stored_in(cql, &scope).await) >= covered,
        "the commits outlived the broker"
    );
    produce_only_in(&scope, &bootstrap, &LogKind::ALL, runs[1]).await;
    let so_far = learn_runs(&scope, &bootstrap, &LogKind::ALL, &runs[..2]).await;
    wait_committed_to_end(
        "the mapping commits every record after the restart",
        &bootstrap,
        &group,
        so_far,
    )
    .await;
    assert!(batches(&lines) > during_outage, "stored after the restart");

    // 3. More records; the broker dies again mid-stream and, while it is
    //    down, the mapping gets Ctrl-C: it stops at once (it does not wait
    //    for the broker to answer its commits), giving nothing up.
    let before = batches(&lines);
    produce_only_in(&scope, &bootstrap, &LogKind::ALL, runs[2]).await;
    wait_until("batches of the third run", Duration::from_secs(60), || {
        batches(&lines) >= before + 3
    });
    broker.kill();
    std::thread::sleep(Duration::from_secs(2));
    let (out, stopped_in) = interrupt_and_wait(esm, Duration::from_secs(120)).await;
    eprintln!("Ctrl-C with the broker down: stopped in {stopped_in:?}");
    let stderr = lines.lock().unwrap().join("\n");
    assert!(out.status.success(), "{}: {stderr}", out.status);
    assert!(
        stopped_in < Duration::from_secs(15),
        "Ctrl-C with the broker down took {stopped_in:?}"
    );
    let summary = logpipe_testkit::last_json_line(&out.stdout).unwrap();
    assert_eq!(summary["discarded"], 0, "{summary}");

    // 4. The broker back once more: what is committed is stored, and the
    //    mapping started again delivers the rest. The tables then hold
    //    exactly one row for each valid record of the three runs and one
    //    dead letter for each bad one; every group committed to the end.
    let broker = restart(broker).await;
    let committed = committed_in(&scope, &bootstrap, &group, &LogKind::ALL);
    assert_is_stored(&committed, &read_stored_in(cql, &scope).await);
    let truth = learn_runs(&scope, &bootstrap, &LogKind::ALL, &runs).await;
    let mut again = args.clone();
    again.extend(common::args(&["--until-idle", "3s", "--quiet"]));
    let out = run_logpipe(again, Duration::from_secs(180))
        .await
        .assert_success();
    assert_eq!(out.json()["discarded"], 0, "{}", out.stdout);
    assert_stored_matches(&read_stored_in(cql, &scope).await, &truth);
    assert_committed_to_end(&bootstrap, &group, &truth);
    drop(broker);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_outlives_its_broker_replaced_by_an_empty_one() {
    // The case where librdkafka 2.12.1 crashed (SIGSEGV in
    // rd_kafka_metadata_cache_find) about one run in three under tansu,
    // whose storage was memory: the broker comes back on the same
    // address with no topics, records or commits (a new log directory).
    let (broker, bootstrap, cql, scope) = own_broker_and_shared_cassandra("replaced").await;
    let port: u16 = bootstrap.rsplit(':').next().unwrap().parse().unwrap();
    produce_only_in(&scope, &bootstrap, &LogKind::ALL, Run::new(400, 71, 0.1)).await;
    let group = scope.group("replaced");
    let (_, mut esm, lines) = esm_in_batches_of_ten(&scope, &bootstrap, cql, &group, &["--json"]);

    // The broker dies with its log; an empty one takes its address.
    drop(broker);
    std::thread::sleep(Duration::from_secs(2));
    let broker = own_kafka(KafkaOptions {
        port: Some(port),
        ..KafkaOptions::default()
    })
    .await;
    create_topics_in(&bootstrap, &scope, 3);
    let second = Run::new(300, 72, 0.0);
    produce_only_in(&scope, &bootstrap, &LogKind::ALL, second).await;
    let truth = learn_runs(&scope, &bootstrap, &LogKind::ALL, &[second]).await;

    // The mapping lives on (no crash), finds the new broker's records
    // (its old positions are past their end: it starts them over) and
    // stores every one, each a row at its own place.
    let want = common::kafka::row_keys_of(&truth);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = esm.child.try_wait().unwrap() {
            panic!(
                "the mapping died ({status}) after its broker was replaced:\n{}",
                lines.lock().unwrap().join("\n")
            );
        }
        let rows = common::kafka::read_row_keys(cql, &scope).await;
        if want.is_subset(&rows) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} of the new broker's {} records stored",
            want.intersection(&rows).count(),
            want.len()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(esm.child.try_wait().unwrap().is_none(), "still alive");

    // Ctrl-C: a prompt, clean stop.
    let (out, stopped_in) = interrupt_and_wait(esm, Duration::from_secs(120)).await;
    assert!(out.status.success(), "{}", out.status);
    assert!(stopped_in < Duration::from_secs(15));
    let summary = logpipe_testkit::last_json_line(&out.stdout).unwrap();
    assert_eq!(summary["discarded"], 0, "{summary}");
    drop(broker);
}
