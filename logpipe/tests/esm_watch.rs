//! The event source mapping over the Lambda invoke API against the real
//! local emulator: `logpipe esm --endpoint-url` drives the three functions
//! running under `cargo lambda watch`, from an embedded Kafka broker
//! (`logpipe kafka`) holding generated records with bad ones among them,
//! into a CQL node.
//!
//! The node starts late, so the functions first fail the way a storage
//! outage fails them, and the emulator reports those function errors:
//! - with no retries left, a batch goes to the on-failure destination with
//!   AWS's invocation record (function error `Unhandled`), and its event
//!   files decode with `aws_lambda_events` in the fixtures' shape;
//! - with retries, the same batches are invoked again until the node is
//!   up, and then the rows read back are exactly the valid records and the
//!   dead letters exactly the bad ones, every offset committed.
//!
//! A function name the emulator does not know stops the mapping at once.
//!
//! Needs cargo-lambda in .venv (`make venv`); fails, naming that, without.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use common::kafka::{
    assert_committed_to_end, assert_fixture_shape, assert_stored_matches, committed_offsets,
    cql_node_on, ends_of, produce, read_stored, start_logpipe_kafka, Place, Run,
};
use common::watch::{cargo_lambda, invoke_until_answered, start_cargo_lambda_watch};
use common::{args, run_logpipe, spawn_logpipe};
use logpipe_core::LogKind;
use logpipe_testkit::{collect_lines, free_port, wait_for_lines, wait_output};
use serde_json::Value;

/// An event with no records: what the warm-up invocations send.
const EMPTY_EVENT: &[u8] =
    br#"{"eventSource":"SelfManagedKafka","bootstrapServers":"127.0.0.1:9092","records":{}}"#;

/// The `logpipe esm` command line over the invoke API at `endpoint`.
fn esm_over_api(bootstrap: &str, endpoint: &str, group: &str, extra: &[&str]) -> Vec<String> {
    let mut a = args(&[
        "esm",
        "--bootstrap",
        bootstrap,
        "--endpoint-url",
        &format!("http://{endpoint}"),
        "--starting-position",
        "TRIM_HORIZON",
        "--group-id",
        group,
    ]);
    a.extend(args(extra));
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_esm_drives_the_functions_under_cargo_lambda_watch() {
    cargo_lambda();
    let (_kafka, bootstrap) = start_logpipe_kafka(3);
    let truth = produce(&bootstrap, &LogKind::ALL, Run::new(150, 9, 0.1)).await;
    assert_eq!(truth.invalid.len(), 45);

    // Where the CQL node will be; nothing listens there yet.
    let cql: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let (_watch, endpoint) = start_cargo_lambda_watch(&cql.to_string());

    // Each function built and running: it answers with its storage error.
    for kind in LogKind::ALL {
        let function = kind.function_name();
        let answer = {
            let endpoint = endpoint.clone();
            tokio::task::spawn_blocking(move || {
                invoke_until_answered(&endpoint, function, EMPTY_EVENT, Duration::from_secs(900))
            })
            .await
            .unwrap()
        };
        let doc: Value =
            serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("{e}: {answer:?}"));
        assert!(
            doc["errorMessage"]
                .as_str()
                .is_some_and(|m| m.contains("Cassandra")),
            "{function}: {answer:?}"
        );
    }

    // 1. No retries left: every auth batch goes to the on-failure
    //    destination, and the mapping commits past it.
    let failures = tempfile::tempdir().unwrap();
    let out = run_logpipe(
        esm_over_api(
            &bootstrap,
            &endpoint,
            "gone",
            &[
                "--topics",
                "auth",
                "--batch-size",
                "200",
                "--maximum-retry-attempts",
                "1",
                "--retry-delay",
                "50ms",
                "--on-failure-dir",
                failures.path().to_str().unwrap(),
                "--until-idle",
                "3s",
                "--json",
            ],
        ),
        Duration::from_secs(300),
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    let summary = out.json();
    assert_eq!(summary["records"], 150, "{summary}");
    assert_eq!(summary["discarded"], 150, "{summary}");
    assert_eq!(summary["written"], 0, "{summary}");
    let batches = summary["failed_invocations"].as_u64().unwrap() / 2;
    assert!(batches >= 1, "{summary}");
    assert_eq!(
        summary["failed_invocations"],
        batches * 2,
        "each batch invoked twice: {summary}"
    );
    let auth_places: BTreeSet<Place> = truth
        .valid
        .keys()
        .chain(truth.invalid.keys())
        .filter(|p| p.0 == "user_auth_logs")
        .cloned()
        .collect();
    assert_eq!(
        committed_offsets(&bootstrap, "gone-auth-logs", "user_auth_logs"),
        ends_of(auth_places.iter().cloned(), "user_auth_logs"),
        "committed past the batches given up on"
    );

    // The destination: an invocation record and an event a batch; the
    // events hold every auth record once, in the fixtures' shape.
    let dir = failures.path().join("auth-logs");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len() as u64, batches * 2, "{names:?}");
    let mut given_up = BTreeSet::new();
    for name in names.iter().filter(|n| n.ends_with(".record.json")) {
        let record: Value = serde_json::from_slice(&std::fs::read(dir.join(name)).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let context = &record["requestContext"];
        assert_eq!(context["condition"], "RetryAttemptsExhausted", "{record}");
        assert_eq!(context["approximateInvokeCount"], 2, "{record}");
        assert!(context["functionArn"]
            .as_str()
            .unwrap()
            .ends_with(":function:auth-logs"));
        // The emulator's function error, recorded as AWS records one.
        assert_eq!(record["responseContext"]["statusCode"], 200, "{record}");
        assert_eq!(record["responseContext"]["functionError"], "Unhandled");

        let event_file = dir.join(name.replace(".record.json", ".event.json"));
        let event = std::fs::read(&event_file).unwrap();
        assert_eq!(record["payload"].as_str().unwrap().as_bytes(), &event[..]);
        let event = assert_fixture_shape(&event, "self_managed_session_mixed");
        assert_eq!(event["eventSource"], "SelfManagedKafka");
        for records in event["records"].as_object().unwrap().values() {
            for r in records.as_array().unwrap() {
                let place = (
                    r["topic"].as_str().unwrap().to_owned(),
                    r["partition"].as_i64().unwrap() as i32,
                    r["offset"].as_i64().unwrap(),
                );
                assert!(given_up.insert(place), "a record in two failed batches");
            }
        }
    }
    assert_eq!(given_up, auth_places);

    // 2. Retries: the mapping keeps invoking the failing batches until the
    //    node is up, then everything is stored.
    let mut esm = spawn_logpipe(&esm_over_api(
        &bootstrap,
        &endpoint,
        "watch",
        &[
            "--batch-size",
            "40",
            "--retry-delay",
            "200ms",
            "--max-retry-delay",
            "1s",
            "--until-idle",
            "5s",
            "--json",
        ],
    ));
    let (lines, reader) = collect_lines(esm.child.stderr.take().unwrap());
    {
        let lines = lines.clone();
        tokio::task::spawn_blocking(move || {
            wait_for_lines(
                &lines,
                |l| l.contains("invocation failed"),
                3,
                Duration::from_secs(120),
            )
        })
        .await
        .unwrap();
    }
    let (_node, cql) = cql_node_on(cql).await;
    let out = tokio::task::spawn_blocking(move || wait_output(esm, Duration::from_secs(300)))
        .await
        .unwrap();
    reader.join().unwrap();
    let stderr = lines.lock().unwrap().join("\n");
    assert!(out.status.success(), "{stderr}");
    let summary =
        logpipe_testkit::last_json_line(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{stderr}"));
    assert_eq!(summary["records"], 450, "{summary}");
    assert_eq!(summary["written"], truth.valid.len(), "{summary}");
    assert_eq!(summary["dead_lettered"], truth.invalid.len(), "{summary}");
    assert_eq!(summary["discarded"], 0, "{summary}");
    assert!(summary["failed_invocations"].as_u64().unwrap() >= 3);
    // A line a resolved batch, from the functions' summaries over the API.
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("session-logs user_session_logs ") && l.contains(" written, ")),
        "{stderr}"
    );
    assert_stored_matches(&read_stored(&cql).await, &truth);
    assert_committed_to_end(&bootstrap, "watch", &truth);

    // 3. A function the emulator does not have: the mapping stops at once,
    //    naming it, and commits nothing.
    let out = run_logpipe(
        esm_over_api(
            &bootstrap,
            &endpoint,
            "missing",
            &[
                "--topics",
                "auth",
                "--function-name",
                "no-such-function",
                "--until-idle",
                "3s",
            ],
        ),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("no function \"no-such-function\""),
        "{}",
        out.stderr
    );
    assert!(committed_offsets(&bootstrap, "missing-auth-logs", "user_auth_logs").is_empty());
}
