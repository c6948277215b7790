//! `logpipe smoke`, the after-deploy check: a small known batch through
//! each function, its rows read back.
//!
//! - Over the Lambda invoke API: the three functions under `cargo lambda
//!   watch` (the local Lambda emulator) writing to a keyspace of the test's
//!   own on the real Apache Cassandra. The smoke run passes, and the rows
//!   it reports are read back here too; a function name the endpoint does
//!   not know, and a keyspace the functions do not write to, fail it with
//!   exit 1 naming the function.
//! - Over Kafka: the records produced to topics of the test's own on the
//!   real Apache Kafka, delivered by a `logpipe esm` running the functions
//!   in process.
//!
//! Needs cargo-lambda in .venv (`make venv`); fails, naming that, without.

mod common;

use std::time::Duration;

use common::kafka::{create_topics_in, Scope};
use common::real::{env, rows, run_env, session, shared_cassandra, spawn_logpipe_env, unique_name};
use common::watch::{cargo_lambda, invoke_until_answered, start_cargo_lambda_watch_with};
use common::{args, Finished};
use logpipe_core::rows::day_of;
use logpipe_core::LogKind;
use logpipe_testkit::collect_lines;

const FUNCTIONS: [&str; 3] = ["auth-logs", "session-logs", "activity-logs"];

async fn apply_schema(cql: &str, keyspace: &str) {
    common::real::schema_apply(cql, keyspace, vec![]).await;
}

/// Checks a passing `--json` smoke summary; returns the run's user id.
fn assert_passed(out: &Finished, keyspace: &str, with_summaries: bool) -> String {
    let s = out.json();
    assert_eq!(s["ok"], true, "{s}\n{}", out.stderr);
    assert_eq!(s["keyspace"], keyspace);
    let user = s["user_id"].as_str().unwrap().to_owned();
    assert!(user.starts_with("logpipe-smoke-"), "{user}");
    for f in FUNCTIONS {
        let r = &s["functions"][f];
        assert_eq!(r["ok"], true, "{f}: {r}");
        assert_eq!(r["rows_expected"], 3, "{f}: {r}");
        assert_eq!(r["rows_found"], 3, "{f}: {r}");
        assert_eq!(r["dead_letter_found"], true, "{f}: {r}");
        assert_eq!(r["problems"], serde_json::json!([]), "{f}: {r}");
        if with_summaries {
            assert_eq!(
                r["summary"],
                serde_json::json!({"records": 4, "written": 3, "dead_lettered": 1}),
                "{f}"
            );
        }
    }
    user
}

/// Reads the smoke rows of `user` back from `keyspace` (today's partition)
/// and checks a few columns the functions derive from the logs.
async fn assert_rows_stored(cql: &str, keyspace: &str, user: &str, topics: [&str; 3]) {
    let session = session(cql).await;
    let today = day_of(chrono::Utc::now().timestamp_millis());
    let auth: Vec<(String, String, Option<String>, Option<String>)> = rows(
        &session,
        &format!(
            "SELECT user_id, event_type, country, user_agent FROM {keyspace}.auth_logs \
             WHERE user_id = ? AND day = ?"
        ),
        (user, today),
    )
    .await;
    assert_eq!(auth.len(), 3, "{auth:?}");
    for (u, _, country, agent) in &auth {
        assert_eq!(u, user);
        assert_eq!(country.as_deref(), Some("DE"));
        assert_eq!(agent.as_deref(), Some("logpipe smoke"));
    }
    let session_rows: Vec<(String, Option<String>)> = rows(
        &session,
        &format!(
            "SELECT event_type, device_type FROM {keyspace}.session_logs \
             WHERE user_id = ? AND day = ?"
        ),
        (user, today),
    )
    .await;
    let mut types: Vec<&str> = session_rows.iter().map(|r| r.0.as_str()).collect();
    types.sort();
    assert_eq!(types, ["heartbeat", "session_end", "session_start"]);
    assert!(session_rows
        .iter()
        .all(|r| r.1.as_deref() == Some("desktop")));
    let activity: Vec<(String,)> = rows(
        &session,
        &format!("SELECT resource FROM {keyspace}.activity_logs WHERE user_id = ? AND day = ?"),
        (user, today),
    )
    .await;
    let mut resources: Vec<&str> = activity.iter().map(|r| r.0.as_str()).collect();
    resources.sort();
    assert_eq!(
        resources,
        ["/logpipe-smoke/0", "/logpipe-smoke/1", "/logpipe-smoke/2"]
    );
    // One dead letter a topic carries this run's user id, as missing_field.
    for topic in topics {
        let letters: Vec<(String, Option<Vec<u8>>)> = rows(
            &session,
            &format!(
                "SELECT reason, value FROM {keyspace}.dead_letters WHERE topic = ? ALLOW FILTERING"
            ),
            (topic,),
        )
        .await;
        let ours: Vec<&(String, Option<Vec<u8>>)> = letters
            .iter()
            .filter(|(_, v)| {
                v.as_deref()
                    .is_some_and(|v| String::from_utf8_lossy(v).contains(user))
            })
            .collect();
        assert_eq!(ours.len(), 1, "{topic}: {letters:?}");
        assert_eq!(ours[0].0, "missing_field");
    }
}

#[test]
fn smoke_over_the_lambda_api_passes_and_fails_naming_the_function() {
    cargo_lambda();
    let cql = shared_cassandra();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let keyspace = unique_name("smoke");
    let empty = unique_name("smoke_empty");
    rt.block_on(async {
        apply_schema(cql, &keyspace).await;
        apply_schema(cql, &empty).await;
    });
    let (watch, invoke) =
        start_cargo_lambda_watch_with(cql, &[("LOGPIPE_CASSANDRA_KEYSPACE", &keyspace)]);
    // The emulator builds each function on its first invocation, and may
    // leave a request that arrives while one starts unanswered: warm them
    // up with an empty event first.
    for f in FUNCTIONS {
        let answer = invoke_until_answered(
            &invoke,
            f,
            br#"{"eventSource":"aws:kafka","records":{}}"#,
            Duration::from_secs(900),
        );
        assert_eq!(answer.status, 200, "{f}: {}", answer.body);
    }
    let endpoint = format!("http://{invoke}");
    let smoke = |extra: &[&str]| {
        let mut a = args(&["smoke", "--cassandra", cql, "--lambda-endpoint", &endpoint]);
        a.extend(args(extra));
        rt.block_on(run_env(a, vec![]))
    };

    let passed = smoke(&["--keyspace", &keyspace, "--timeout", "120s", "--json"]);
    assert_eq!(passed.status.code(), Some(0), "{}", passed.stderr);
    let user = assert_passed(&passed, &keyspace, true);
    rt.block_on(assert_rows_stored(
        cql,
        &keyspace,
        &user,
        ["user_auth_logs", "user_session_logs", "user_activity_logs"],
    ));

    // The lines a person reads: one a function.
    let lines = smoke(&["--keyspace", &keyspace, "--timeout", "120s"]);
    assert_eq!(lines.status.code(), Some(0), "{}", lines.stderr);
    for f in ["auth-logs", "session-logs", "activity-logs"] {
        let table = f.replace("-logs", "_logs");
        assert!(
            lines.stdout.contains(&format!(
                "{f}: ok, 3 rows in {keyspace}.{table} and 1 dead letter (missing_field) read back"
            )),
            "{}",
            lines.stdout
        );
    }

    // A function the endpoint does not have.
    let unknown = smoke(&[
        "--keyspace",
        &keyspace,
        "--topics",
        "auth",
        "--function-name",
        "auth=no-such-function",
        "--timeout",
        "30s",
    ]);
    assert_eq!(unknown.status.code(), Some(1), "{}", unknown.stderr);
    assert!(
        unknown
            .stderr
            .contains("smoke test failed for 1 of 1 functions")
            && unknown.stderr.contains("no-such-function (user_auth_logs)"),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stdout.contains("no-such-function: FAILED"),
        "{}",
        unknown.stdout
    );

    // The functions write to another keyspace than the one read: every
    // function is named, with the rows it misses.
    let elsewhere = smoke(&["--keyspace", &empty, "--timeout", "5s"]);
    assert_eq!(elsewhere.status.code(), Some(1), "{}", elsewhere.stderr);
    for (f, table) in [
        ("auth-logs", "auth_logs"),
        ("session-logs", "session_logs"),
        ("activity-logs", "activity_logs"),
    ] {
        assert!(
            elsewhere
                .stderr
                .contains(&format!("3 of 3 rows missing in {empty}.{table}")),
            "{f}: {}",
            elsewhere.stderr
        );
        assert!(
            elsewhere.stdout.contains(&format!("{f}: FAILED")),
            "{}",
            elsewhere.stdout
        );
    }
    assert!(elsewhere
        .stderr
        .contains("smoke test failed for 3 of 3 functions"));
    drop(watch);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_over_kafka_finds_the_rows_the_mapping_stored() {
    let kafka = tokio::task::spawn_blocking(logpipe_testkit::shared_kafka)
        .await
        .unwrap();
    let cql = tokio::task::spawn_blocking(shared_cassandra).await.unwrap();
    let scope = Scope::unique("smoke_kafka");
    apply_schema(cql, &scope.keyspace).await;
    {
        let (b, s) = (kafka.to_owned(), scope.clone());
        tokio::task::spawn_blocking(move || create_topics_in(&b, &s, 2))
            .await
            .unwrap();
    }
    // The deployed mappings' stand-in: the event source mapping, functions
    // in process, writing to the scope's keyspace.
    let mut esm_args = args(&[
        "esm",
        "--bootstrap",
        kafka,
        "--cassandra",
        cql,
        "--keyspace",
        &scope.keyspace,
        "--group-id",
        &scope.group("smoke"),
        "--starting-position",
        "TRIM_HORIZON",
        "--quiet",
    ]);
    esm_args.extend(scope.topic_flags());
    let mut esm = spawn_logpipe_env(&esm_args, &[]);
    let (esm_stderr, _) = collect_lines(esm.child.stderr.take().unwrap());

    let mut a = args(&[
        "smoke",
        "--cassandra",
        cql,
        "--keyspace",
        &scope.keyspace,
        "--bootstrap",
        kafka,
        "--timeout",
        "120s",
        "--json",
    ]);
    a.extend(scope.topic_flags());
    let out = run_env(a, env(&[])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\nesm: {:?}",
        out.stderr,
        esm_stderr.lock().unwrap()
    );
    let user = assert_passed(&out, &scope.keyspace, false);
    for f in FUNCTIONS {
        assert!(out.json()["functions"][f]["summary"].is_null());
    }
    assert_rows_stored(
        cql,
        &scope.keyspace,
        &user,
        LogKind::ALL.map(|k| scope.topic(k)),
    )
    .await;
    esm.kill_now();
}
