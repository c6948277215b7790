//! The local event source mapping (`logpipe esm`) against an in-process
//! Kafka cluster (librdkafka's mock cluster, fast and with no server to
//! install): generated records with bad ones among them go through the
//! functions into an embedded CQL node, and the rows read back must be
//! exactly the valid records and the dead letters exactly the bad ones.
//! Also: events sent over the Lambda invoke API have AWS's shape, and a
//! poisoned batch is bisected down to its bad record, which goes to the
//! on-failure destination; starting positions; `logpipe kafka`, the
//! embedded broker.
//!
//! The delivery rules under crashes, Ctrl-C and rebalances are proven on
//! the real Kafka and Cassandra in `real_kafka.rs`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use common::kafka::{
    assert_committed_to_end, assert_fixture_shape, assert_stored_matches, committed_offsets,
    cql_node, esm_args, key_set, mock_cluster, produce, produce_only, read_stored, read_topic,
    start_logpipe_kafka, Run,
};
use common::{args, run_logpipe, spawn_logpipe, Finished};
use logpipe_core::LogKind;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_esm_stores_exactly_the_valid_records_and_dead_letters_the_bad_ones() {
    let (_cluster, bootstrap) = mock_cluster(3);
    let (_node, cql) = cql_node().await;
    let truth = produce(&bootstrap, &LogKind::ALL, Run::new(300, 7, 0.1)).await;
    assert_eq!(truth.invalid.len(), 90);
    let reasons: BTreeSet<&str> = truth.invalid.values().map(String::as_str).collect();
    assert!(reasons.len() >= 7, "every Kafka reason occurs: {reasons:?}");

    let args = esm_args(
        &bootstrap,
        &cql,
        "e2e",
        &["--batch-size", "64", "--until-idle", "2s", "--json"],
    );
    let out = run_logpipe(args, Duration::from_secs(120))
        .await
        .assert_success();
    let stderr = &out.stderr;
    let summary = out.json();
    assert_eq!(summary["records"], 900, "{summary}");
    assert_eq!(summary["written"], truth.valid.len());
    assert_eq!(summary["dead_lettered"], truth.invalid.len());
    assert_eq!(summary["discarded"], 0);
    assert_eq!(summary["by_topic"]["user_session_logs"]["records"], 300);
    assert!(summary["batch_latency_ms"]["p50"].as_f64().unwrap() > 0.0);
    // A line a batch: function, topic, partition ranges, counts, latency.
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("auth-logs user_auth_logs 0:") && l.contains(" records, ")),
        "{stderr}"
    );

    assert_stored_matches(&read_stored(&cql).await, &truth);
    assert_committed_to_end(&bootstrap, "e2e", &truth);
}

/// Invocations a fake Lambda invoke API received: path, payload, and
/// whether it answered with a function error.
type Invocations = Arc<Mutex<Vec<(String, Vec<u8>, bool)>>>;

/// A Lambda invoke API on loopback that fails every event holding the
/// record at `poison` (partition, offset) and acknowledges the others.
fn fake_lambda(poison: (i64, i64)) -> (String, Invocations) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen: Invocations = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let log = log.clone();
            std::thread::spawn(move || serve_invocations(stream, poison, &log));
        }
    });
    (addr, seen)
}

fn serve_invocations(stream: TcpStream, poison: (i64, i64), log: &Invocations) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_owned();
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            if header == "\r\n" {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let places = event_places(&event);
        let fail = places.contains(&poison);
        log.lock().unwrap().push((path, body, fail));
        let (extra, answer) = if fail {
            (
                "X-Amz-Function-Error: Unhandled\r\n",
                r#"{"errorType":"Poison","errorMessage":"cannot take this record"}"#.to_owned(),
            )
        } else {
            (
                "",
                format!(
                    r#"{{"records":{n},"written":{n},"dead_lettered":0}}"#,
                    n = places.len()
                ),
            )
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Amz-Executed-Version: $LATEST\r\n{extra}Content-Length: {}\r\n\r\n{answer}",
            answer.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn event_places(event: &Value) -> Vec<(i64, i64)> {
    event["records"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(Value::as_array)
        .flatten()
        .map(|r| {
            (
                r["partition"].as_i64().unwrap(),
                r["offset"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_api_events_have_aws_shape_and_a_poisoned_batch_is_bisected_to_the_destination() {
    let (_cluster, bootstrap) = mock_cluster(1);
    produce(&bootstrap, &[LogKind::Auth], Run::new(40, 5, 0.0)).await;
    let produced: BTreeMap<i64, (Vec<u8>, Vec<u8>)> = read_topic(&bootstrap, "user_auth_logs", 40)
        .into_iter()
        .map(|((_, _, offset), key, value)| (offset, (key, value)))
        .collect();
    let poison = (0, 13);
    let (addr, invocations) = fake_lambda(poison);
    let failures = tempfile::tempdir().unwrap();
    let arn = "arn:aws:kafka:eu-west-1:123456789012:cluster/logs/abc-1";
    let esm = args(&[
        "esm",
        "--bootstrap",
        &bootstrap,
        "--topics",
        "auth",
        "--endpoint-url",
        &format!("http://{addr}"),
        "--variant",
        "msk",
        "--event-source-arn",
        arn,
        "--starting-position",
        "TRIM_HORIZON",
        "--batch-size",
        "8",
        "--maximum-batching-window-in-seconds",
        "1",
        "--maximum-retry-attempts",
        "4",
        "--bisect-batch-on-function-error",
        "--retry-delay",
        "10ms",
        "--on-failure-dir",
        failures.path().to_str().unwrap(),
        "--group-id",
        "lambda",
        "--until-idle",
        "2s",
        "--json",
    ]);
    let out = run_logpipe(esm, Duration::from_secs(90)).await;
    // Records were given up on: exit 1, after moving past them.
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    let summary = out.json();
    assert_eq!(summary["records"], 40, "{summary}");
    assert_eq!(summary["discarded"], 1);
    // The poisoned batch of 8 failed whole, then as 4, 2, 1, and once more
    // alone: five invocations.
    assert_eq!(summary["failed_invocations"], 5, "{summary}");
    assert_eq!(
        committed_offsets(&bootstrap, "lambda-auth-logs", "user_auth_logs"),
        BTreeMap::from([(0, 40)]),
        "committed past the record given up on"
    );

    // Every event: the invoke path of the function, decodes with
    // aws_lambda_events, and has the keys and value types of the fixtures.
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut acknowledged = BTreeSet::new();
    let invocations = invocations.lock().unwrap().clone();
    assert!(invocations.len() >= 10, "{}", invocations.len());
    for (path, body, failed) in &invocations {
        assert_eq!(path, "/2015-03-31/functions/auth-logs/invocations");
        logpipe_core::event::decode(body).expect("the functions' decoder takes it");
        let event = assert_fixture_shape(body, "msk_auth_mixed");
        assert_eq!(event["eventSource"], "aws:kafka");
        assert_eq!(event["eventSourceArn"], arn);
        assert_eq!(event["bootstrapServers"], bootstrap.as_str());
        assert_eq!(
            key_set(&event["records"]),
            BTreeSet::from(["user_auth_logs-0".to_owned()])
        );
        for r in event["records"]["user_auth_logs-0"].as_array().unwrap() {
            assert_eq!(r["timestampType"], "CREATE_TIME");
            let offset = r["offset"].as_i64().unwrap();
            let (key, value) = &produced[&offset];
            assert_eq!(&b64.decode(r["key"].as_str().unwrap()).unwrap(), key);
            assert_eq!(&b64.decode(r["value"].as_str().unwrap()).unwrap(), value);
            let headers = r["headers"].as_array().unwrap();
            assert_eq!(headers.len(), 2);
            assert_eq!(
                headers[0]["content-type"],
                serde_json::json!(b"application/json".to_vec())
            );
            assert!(headers.iter().all(|h| h.as_object().unwrap().len() == 1));
            if !failed {
                acknowledged.insert(offset);
            }
        }
    }
    let all_but_poison: BTreeSet<i64> = (0..40).filter(|o| *o != 13).collect();
    assert_eq!(acknowledged, all_but_poison);

    // The destination holds the poisoned record alone, with AWS's
    // invocation record.
    let dir = failures.path().join("auth-logs");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[0].ends_with(".event.json") && files[1].ends_with(".record.json"));
    let record: Value =
        serde_json::from_slice(&std::fs::read(dir.join(&files[1])).unwrap()).unwrap();
    assert_eq!(record["version"], "1.0");
    assert_eq!(
        record["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 5);
    assert!(record["requestContext"]["functionArn"]
        .as_str()
        .unwrap()
        .ends_with(":function:auth-logs"));
    assert_eq!(record["responseContext"]["statusCode"], 200);
    assert_eq!(record["responseContext"]["functionError"], "Unhandled");
    let info = &record["KafkaBatchInfo"];
    assert_eq!(info["batchSize"], 1);
    assert_eq!(info["eventSourceArn"], arn);
    assert_eq!(
        info["recordsInfo"]["user_auth_logs-0"]["firstRecordOffset"],
        "13"
    );
    assert_eq!(
        info["recordsInfo"]["user_auth_logs-0"]["lastRecordOffset"],
        "13"
    );
    let event = std::fs::read(dir.join(&files[0])).unwrap();
    assert_eq!(record["payload"].as_str().unwrap().as_bytes(), &event[..]);
    assert_eq!(info["payloadSize"], event.len());
    let event: Value = serde_json::from_slice(&event).unwrap();
    assert_eq!(event_places(&event), vec![poison]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starting_positions_at_timestamp_and_latest() {
    let (_cluster, bootstrap) = mock_cluster(3);
    produce(&bootstrap, &[LogKind::Auth], Run::new(50, 1, 0.0)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let at = chrono::Utc::now().timestamp_millis();
    tokio::time::sleep(Duration::from_millis(200)).await;
    produce_only(&bootstrap, &[LogKind::Auth], 50, 2).await;
    let run = |position: &str, extra: &[&str]| {
        let mut args = args(&[
            "esm",
            "--bootstrap",
            &bootstrap,
            "--topics",
            "auth",
            "--cassandra",
            "none",
            "--starting-position",
            position,
            "--until-idle",
            "2s",
            "--json",
            "--quiet",
        ]);
        args.extend(common::args(extra));
        run_logpipe(args, Duration::from_secs(60))
    };
    let seconds = format!("{:.3}", at as f64 / 1000.0);
    let s = run(
        "AT_TIMESTAMP",
        &[
            "--starting-position-timestamp",
            &seconds,
            "--group-id",
            "at",
        ],
    )
    .await
    .assert_success()
    .json();
    assert_eq!(s["records"], 50, "{s}");
    assert_eq!(s["skipped"], 50, "{s}");
    assert_eq!(s["written"], 50);
    let s = run("LATEST", &["--group-id", "latest"])
        .await
        .assert_success()
        .json();
    assert_eq!(s["records"], 0, "{s}");
    let s = run("TRIM_HORIZON", &["--group-id", "trim"])
        .await
        .assert_success()
        .json();
    assert_eq!(s["records"], 100, "{s}");
}

/// Runs `logpipe esm` over the default topic of `kind` (`--topics kind`)
/// at `bootstrap` in groups `group-<function>` until it has been idle 2 s;
/// it must succeed.
async fn esm_over_one_topic(bootstrap: &str, cassandra: &str, group: &str, kind: &str) -> Finished {
    let flags = ["--topics", kind, "--until-idle", "2s", "--json", "--quiet"];
    let esm = esm_args(bootstrap, cassandra, group, &flags);
    run_logpipe(esm, Duration::from_secs(60))
        .await
        .assert_success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_broker_serves_and_advertises_a_fixed_address() {
    let addr = format!("127.0.0.1:{}", logpipe_testkit::free_port());
    let mut kafka = spawn_logpipe(&["kafka", "--listen", &addr, "--partitions", "2"]);
    let mut line = String::new();
    BufReader::new(kafka.child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), format!("Kafka broker listening on {addr}"));
    // Clients only ever see the fixed address, in metadata too.
    let metadata = {
        let client: rdkafka::consumer::BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &addr)
            .create()
            .unwrap();
        rdkafka::consumer::Consumer::fetch_metadata(
            &client,
            Some("user_session_logs"),
            Duration::from_secs(10),
        )
        .unwrap()
    };
    let brokers: Vec<String> = metadata
        .brokers()
        .iter()
        .map(|b| format!("{}:{}", b.host(), b.port()))
        .collect();
    assert_eq!(brokers, vec![addr.clone()]);
    assert_eq!(metadata.topics()[0].partitions().len(), 2);

    produce(&addr, &[LogKind::Session], Run::new(100, 3, 0.0)).await;
    let out = esm_over_one_topic(&addr, "none", "fixed", "session").await;
    assert_eq!(out.json()["written"], 100);
    drop(kafka);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_broker_process_on_a_free_port_serves_the_esm() {
    // `logpipe kafka` as its own process on a port it picks, as the
    // Kafka fault tests start it.
    let (_kafka, bootstrap) = start_logpipe_kafka(2);
    let (_node, cql) = cql_node().await;
    let truth = produce(&bootstrap, &[LogKind::Activity], Run::new(120, 4, 0.1)).await;
    let out = esm_over_one_topic(&bootstrap, &cql, "process", "activity").await;
    assert_eq!(out.json()["records"], 120);
    assert_stored_matches(&read_stored(&cql).await, &truth);
    assert_committed_to_end(&bootstrap, "process", &truth);
}
