//! A function under `cargo lambda watch` (the local Lambda emulator),
//! invoked over the Lambda invoke HTTP API with a fixture event; the rows
//! are read back through CQL and compared with the golden dump. Once into
//! the real Apache Cassandra (the run's shared node, a keyspace of the
//! test's own passed as `LOGPIPE_CASSANDRA_KEYSPACE`), once into a `logpipe
//! cassandra` node (the embedded one `make watch` runs).
//!
//! Needs cargo-lambda in .venv (`make venv`); fails, naming that, without.
//! The two tests take turns: each starts an emulator that builds the
//! function on its first invocation.

mod common;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use common::real::{shared_cassandra, unique_name};
use common::watch::{
    cargo_lambda, invoke_until_answered, start_cargo_lambda_watch, start_cargo_lambda_watch_with,
};
use common::{assert_dump_matches_golden, dump_keyspace, dump_node, root, start_cql_node};
use logpipe_testkit::KillOnDrop;

fn one_at_a_time() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Invokes session-logs under the emulator at `invoke` with the session
/// fixture, checks its answer, and that a payload that is not an event is
/// refused in the handler's words.
fn invoke_session_fixture(invoke: &str) {
    let event =
        std::fs::read(root().join("fixtures/events/self_managed_session_mixed.json")).unwrap();
    // The first invocation may wait for a debug build of the function; a
    // repeat leaves the same rows.
    let answer = invoke_until_answered(invoke, "session-logs", &event, Duration::from_secs(900));
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
        invoke,
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
}

#[test]
fn a_function_under_cargo_lambda_watch_stores_a_fixture_event_in_the_real_cassandra() {
    let _turn = one_at_a_time();
    cargo_lambda();
    let cql = shared_cassandra();
    let keyspace = unique_name("watch");
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(common::real::schema_apply(cql, &keyspace, vec![]));
    let (watch, invoke) =
        start_cargo_lambda_watch_with(cql, &[("LOGPIPE_CASSANDRA_KEYSPACE", &keyspace)]);
    invoke_session_fixture(&invoke);
    drop(watch);

    let dir = tempfile::tempdir().unwrap();
    dump_keyspace(cql, &keyspace, dir.path());
    assert_dump_matches_golden(dir.path(), "self_managed_session_mixed");
}

#[test]
fn a_function_under_cargo_lambda_watch_stores_a_fixture_event_in_a_logpipe_cassandra_node() {
    let _turn = one_at_a_time();
    cargo_lambda();
    let (node, cql) = start_cql_node();
    let node = KillOnDrop::new(node);
    let (watch, invoke) = start_cargo_lambda_watch(&cql);
    invoke_session_fixture(&invoke);
    drop(watch);

    let dir = tempfile::tempdir().unwrap();
    dump_node(&cql, dir.path());
    drop(node);
    assert_dump_matches_golden(dir.path(), "self_managed_session_mixed");
}
