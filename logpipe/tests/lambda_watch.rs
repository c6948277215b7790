//! A function under `cargo lambda watch` (the local Lambda emulator),
//! invoked over the Lambda invoke HTTP API with a fixture event, storing
//! into a `logpipe cassandra` node; the rows are read back through CQL and
//! compared with the golden dump.
//!
//! Needs cargo-lambda in .venv (`make venv`); fails, naming that, without.

mod common;

use std::time::Duration;

use common::watch::{cargo_lambda, invoke_until_answered, start_cargo_lambda_watch};
use common::{assert_dump_matches_golden, dump_node, root, start_cql_node, Killed};

#[test]
fn a_function_under_cargo_lambda_watch_stores_a_fixture_event() {
    cargo_lambda();
    let (node, cql) = start_cql_node();
    let node = Killed::new(node);
    let (watch, invoke) = start_cargo_lambda_watch(&cql);

    let event =
        std::fs::read(root().join("fixtures/events/self_managed_session_mixed.json")).unwrap();
    // The first invocation may wait for a debug build of the function; a
    // repeat leaves the same rows.
    let answer = invoke_until_answered(&invoke, "session-logs", &event, Duration::from_secs(900));
    let body = answer.body;
    assert_eq!(answer.status, 200, "{body}");
    let summary: serde_json::Value =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(
        summary,
        serde_json::json!({"records": 16, "written": 9, "dead_lettered": 7})
    );

    // The body reaches the handler's decoder as sent: a payload that is not
    // a Kafka event is refused in its words, not the runtime's.
    let bad = invoke_until_answered(
        &invoke,
        "session-logs",
        br#"{"eventSource":"aws:kafka","records":{"t-0":[{"partition":"#,
        Duration::from_secs(60),
    );
    assert!(
        bad.body.contains("not a Kafka event") && bad.body.contains("EOF while parsing"),
        "{} {}",
        bad.status,
        bad.body
    );

    drop(watch);
    let dir = tempfile::tempdir().unwrap();
    dump_node(&cql, dir.path());
    drop(node);
    assert_dump_matches_golden(dir.path(), "self_managed_session_mixed");
}
