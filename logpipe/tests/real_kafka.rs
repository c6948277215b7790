//! The event source mapping against the real pair: Apache Kafka 4 and
//! Apache Cassandra 5 (`logpipe-testkit`; `make servers` installs them).
//! Every delivery rule of `logpipe esm` is proven here on the servers
//! users run:
//!
//! - topics made by `logpipe topics create` (idempotent); generated
//!   records, bad ones among them, become exactly one row each (valid)
//!   or one dead letter with its reason (bad), and the commits reach the
//!   end;
//! - a mapping killed (SIGKILL) mid-stream has committed nothing that is
//!   not stored, and started again resumes from its commits;
//! - Ctrl-C: the mapping stops at once, has committed exactly what it
//!   acknowledged, and started again delivers exactly the rest;
//! - two mappings in one consumer group, one killed mid-run: the other
//!   takes its partitions over (a rebalance) and nothing is lost;
//! - SASL/SCRAM over TLS: the generator produces and the mapping consumes
//!   over `SASL_SSL`; a wrong password or an unknown CA fails at once,
//!   saying so.
//!
//! The tests share one Kafka and one Cassandra (`make test` starts them
//! once; else the first test of this binary does), each in topics,
//! consumer groups and a keyspace of its own. The SASL/TLS test starts a
//! broker of its own. Without the servers installed they fail, naming
//! `make servers`.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::kafka::{
    assert_committed_is_stored_in, assert_committed_to_end, assert_is_stored,
    assert_stored_matches, committed_in, committed_offsets, create_topics_in, create_topics_with,
    end_offsets, esm_args_in, group_state, is_batch_line, learn_runs, own_kafka, produce_in,
    produce_only_in, read_stored_in, real_pair, spawn_esm, wait_committed_to_end, Run, Scope,
    Truth,
};
use common::{args, interrupt_and_wait, run_logpipe};
use logpipe_core::LogKind;
use logpipe_testkit::{
    last_json_line, wait_for_lines, wait_output, wait_until, KafkaOptions, KillOnDrop, Scram,
    TestCa,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_are_created_once_and_the_esm_stores_exactly_the_valid_records() {
    let (scope, kafka, cql) = real_pair("e2e", 0).await;

    // Topics through the admin API; a second run finds them there.
    let stdout = create_topics_in(&kafka, &scope, 3);
    assert_eq!(stdout.matches("created ").count(), 3, "{stdout}");
    let stdout = create_topics_in(&kafka, &scope, 3);
    assert_eq!(stdout.matches("exists already").count(), 3, "{stdout}");
    for kind in LogKind::ALL {
        assert_eq!(end_offsets(&kafka, scope.topic(kind)).len(), 3);
    }

    let truth = produce_in(&scope, &kafka, &LogKind::ALL, Run::new(200, 21, 0.1)).await;
    assert_eq!(truth.invalid.len(), 60);
    let reasons: BTreeSet<&str> = truth.invalid.values().map(String::as_str).collect();
    assert!(reasons.len() >= 7, "every Kafka reason occurs: {reasons:?}");

    let group = scope.group("e2e");
    let esm = esm_args_in(
        &scope,
        &kafka,
        &cql,
        &group,
        &["--batch-size", "50", "--until-idle", "3s", "--json"],
    );
    let out = run_logpipe(esm, Duration::from_secs(180))
        .await
        .assert_success();
    let summary = out.json();
    assert_eq!(summary["records"], 600, "{summary}");
    assert_eq!(summary["written"], truth.valid.len(), "{summary}");
    assert_eq!(summary["dead_lettered"], truth.invalid.len(), "{summary}");
    assert_eq!(summary["discarded"], 0, "{summary}");
    // A line a batch: function, topic, partition ranges, counts.
    let auth = format!("auth-logs {} ", scope.topic(LogKind::Auth));
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with(&auth) && is_batch_line(l)),
        "{}",
        out.stderr
    );

    assert_stored_matches(&read_stored_in(&cql, &scope).await, &truth);
    assert_committed_to_end(&kafka, &group, &truth);
}

/// The mapping of the stop-and-restart tests: every topic of the scope
/// into its keyspace, small batches (many commits), and a short session,
/// so that a member that died leaves its group in 6 s (the broker's
/// least) rather than 45.
fn restart_args(scope: &Scope, kafka: &str, cql: &str, group: &str) -> Vec<String> {
    esm_args_in(
        scope,
        kafka,
        cql,
        group,
        &[
            "--batch-size",
            "10",
            "--maximum-batching-window-in-seconds",
            "0",
            "--kafka-config",
            "session.timeout.ms=6000",
        ],
    )
}

/// Runs the mapping with `args` again until idle, checks that the tables
/// then hold exactly `truth` and that `group` committed every offset, and
/// returns how many records the second run delivered.
async fn restart_and_reconcile(
    args: &[String],
    kafka: &str,
    cql: &str,
    group: &str,
    truth: &Truth,
) -> i64 {
    let mut again = args.to_vec();
    again.extend(common::args(&["--until-idle", "3s", "--json", "--quiet"]));
    let out = run_logpipe(again, Duration::from_secs(180))
        .await
        .assert_success();
    assert_eq!(out.json()["discarded"], 0, "{}", out.stdout);
    assert_stored_matches(&read_stored_in(cql, &truth.scope).await, truth);
    assert_committed_to_end(kafka, group, truth);
    out.json()["records"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_killed_mid_stream_committed_only_what_is_stored_and_resumes() {
    let (scope, kafka, cql) = real_pair("crash", 3).await;
    let truth = produce_in(&scope, &kafka, &LogKind::ALL, Run::new(600, 11, 0.05)).await;
    let group = scope.group("crash");
    let args = restart_args(&scope, &kafka, &cql, &group);
    let (mut esm, lines) = spawn_esm(&args);
    wait_for_lines(&lines, is_batch_line, 5, Duration::from_secs(120));
    esm.kill_now();

    // What was committed is stored: every offset below a committed offset
    // has its row or dead letter.
    let stored = read_stored_in(&cql, &scope).await;
    let (committed, everything) =
        assert_committed_is_stored_in(&scope, &kafka, &group, &LogKind::ALL, &stored);
    assert!(committed > 0, "some batches were committed");
    assert!(!everything, "the crash came mid-stream");

    // Started again, the mapping resumes where the commits say: it
    // delivers at least what was not committed, and not everything again.
    let resumed = restart_and_reconcile(&args, &kafka, &cql, &group, &truth).await;
    assert!(
        resumed < 1800 && resumed >= 1800 - committed,
        "resumed {resumed} records after {committed} were committed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_commits_exactly_what_was_acknowledged_and_a_restart_delivers_the_rest() {
    let (scope, kafka, cql) = real_pair("ctrl_c", 3).await;
    let truth = produce_in(&scope, &kafka, &LogKind::ALL, Run::new(600, 13, 0.05)).await;
    let group = scope.group("ctrl-c");
    let args = restart_args(&scope, &kafka, &cql, &group);
    let (esm, lines) = spawn_esm(&[args.clone(), common::args(&["--json"])].concat());
    wait_for_lines(&lines, is_batch_line, 5, Duration::from_secs(120));

    // Ctrl-C: the mapping stops at once, says so and prints its summary;
    // it gave nothing up.
    let (out, stopped_in) = interrupt_and_wait(esm, Duration::from_secs(120)).await;
    let summary = last_json_line(&out.stdout).unwrap();
    let stderr = lines.lock().unwrap().join("\n");
    assert!(out.status.success(), "{}: {stderr}", out.status);
    assert!(
        stopped_in < Duration::from_secs(15),
        "stopped in {stopped_in:?}"
    );
    assert!(stderr.contains("stopping:"), "{stderr}");
    assert_eq!(summary["discarded"], 0, "{summary}");
    let acknowledged = summary["records"].as_i64().unwrap();
    assert!(acknowledged > 0 && acknowledged < 1800, "{summary}");

    // Nothing committed that is not stored; what the summary acknowledged
    // is committed.
    let stored = read_stored_in(&cql, &scope).await;
    let (committed, everything) =
        assert_committed_is_stored_in(&scope, &kafka, &group, &LogKind::ALL, &stored);
    assert!(!everything, "stopped mid-stream");
    assert_eq!(committed, acknowledged, "committed = acknowledged");

    // Started again, it delivers the rest, and only the rest.
    let rest = restart_and_reconcile(&args, &kafka, &cql, &group, &truth).await;
    assert_eq!(rest, 1800 - committed);
}

/// The partitions of `topic` a mapping's batch lines name.
fn partitions_in(lines: &[String], function: &str, topic: &str) -> BTreeSet<i32> {
    let prefix = format!("{function} {topic} ");
    lines
        .iter()
        .filter(|l| is_batch_line(l))
        .filter_map(|l| l.strip_prefix(&prefix))
        .flat_map(|rest| {
            rest.split("  ")
                .next()
                .unwrap_or("")
                .split_whitespace()
                .filter_map(|range| range.split(':').next()?.parse().ok())
                .collect::<Vec<i32>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_mappings_in_one_group_one_killed_mid_run_lose_nothing() {
    let (scope, kafka, cql) = real_pair("rebalance", 4).await;
    let group = scope.group("pair");
    let args = restart_args(&scope, &kafka, &cql, &group);

    // Two mappings, same groups: each group's four partitions are split
    // between them once both have joined.
    let (first, first_lines) = spawn_esm(&[args.clone(), common::args(&["--json"])].concat());
    let (mut second, second_lines) = spawn_esm(&args);
    {
        let kafka = kafka.clone();
        let group = group.clone();
        tokio::task::spawn_blocking(move || {
            wait_until(
                "both mappings in every group, the groups stable",
                Duration::from_secs(120),
                || {
                    LogKind::ALL.into_iter().all(|kind| {
                        let g = format!("{group}-{}", kind.function_name());
                        group_state(&kafka, &g) == ("Stable".to_owned(), 2)
                    })
                },
            )
        })
        .await
        .unwrap();
    }

    // The records (learned only later: reading them back takes longer
    // than the mappings take to store them), and the second mapping is
    // killed once it has stored a few batches of its own.
    let run = Run::new(1000, 17, 0.05);
    produce_only_in(&scope, &kafka, &LogKind::ALL, run).await;
    wait_for_lines(&second_lines, is_batch_line, 6, Duration::from_secs(120));
    second.kill_now();
    let killed_at = first_lines.lock().unwrap().len();

    // Right after the kill: committed offsets (read first) are stored.
    let committed = committed_in(&scope, &kafka, &group, &LogKind::ALL);
    let stored = read_stored_in(&cql, &scope).await;
    assert!(
        assert_is_stored(&committed, &stored) > 0,
        "commits were made"
    );
    let truth = learn_runs(&scope, &kafka, &LogKind::ALL, &[run]).await;
    let ends: usize = committed
        .values()
        .map(|offsets| offsets.values().sum::<i64>() as usize)
        .sum();
    assert!(ends < truth.len(), "killed mid-run: {committed:?}");

    // The first mapping takes the second's partitions over once the
    // second's session has timed out, and finishes.
    let truth = wait_committed_to_end(
        "the first mapping commits to the end",
        &kafka,
        &group,
        truth,
    )
    .await;
    let (out, _) = interrupt_and_wait(first, Duration::from_secs(60)).await;
    let first_lines = first_lines.lock().unwrap().clone();
    let stderr = first_lines.join("\n");
    assert!(out.status.success(), "{stderr}");
    let summary = last_json_line(&out.stdout).unwrap();
    assert_eq!(summary["discarded"], 0, "{summary}");

    // It did take partitions over: after the kill it stored batches of
    // partitions only the second had before.
    let second_lines = second_lines.lock().unwrap().clone();
    let mut taken_over = 0;
    for kind in LogKind::ALL {
        let (function, topic) = (kind.function_name(), scope.topic(kind));
        let before = partitions_in(&first_lines[..killed_at], function, topic);
        let second_had = partitions_in(&second_lines, function, topic);
        let after = partitions_in(&first_lines[killed_at..], function, topic);
        assert!(
            before.is_disjoint(&second_had),
            "{topic}: one partition, two owners before the kill: {before:?} {second_had:?}"
        );
        taken_over += second_had.intersection(&after).count();
    }
    assert!(taken_over > 0, "no partition was taken over:\n{stderr}");

    // Every record exactly once: a row for each valid one, a dead letter
    // for each bad one, nothing else; every group committed to the end.
    assert_stored_matches(&read_stored_in(&cql, &scope).await, &truth);
    assert_committed_to_end(&kafka, &group, &truth);
}

// ---------------------------------------------------------------------------
// SASL/SCRAM and TLS

/// Runs `logpipe` to the end with `env` set, at most `limit`.
fn logpipe_with_env(args: &[String], env: &[(&str, &str)], limit: Duration) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logpipe"));
    cmd.args(args)
        .current_dir(common::root())
        .env_remove("LOGPIPE_KAFKA_SASL_PASSWORD")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    wait_output(KillOnDrop::new(cmd.spawn().expect("logpipe starts")), limit)
}

/// Asserts that the run failed (exit 1) within `limit`, and that stderr's
/// `error:` line says `what`.
fn assert_refused(out: &Output, took: Duration, limit: Duration, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(took < limit, "took {took:?} to fail: {stderr}");
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    assert!(error.contains(what), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_ssl_carries_the_generator_and_the_esm_and_a_wrong_password_fails_at_once() {
    let password = "s3cret-Pa55";
    let broker = own_kafka(KafkaOptions {
        scram: Some(Scram {
            username: "alice".into(),
            password: password.into(),
        }),
        tls: true,
        ..KafkaOptions::default()
    })
    .await;
    let plaintext = broker.bootstrap().to_owned();
    let secured = broker.listeners().sasl_ssl.clone().unwrap();
    let ca = broker.tls().unwrap().ca_pem.display().to_string();
    let cql = tokio::task::spawn_blocking(logpipe_testkit::shared_cassandra)
        .await
        .unwrap();
    let scope = Scope::unique("sasl");
    let tls_flags = |user: &str, mechanism: &str| {
        args(&[
            "--security-protocol",
            "sasl_ssl",
            "--sasl-mechanism",
            mechanism,
            "--sasl-username",
            user,
            "--ssl-ca-location",
            &ca,
        ])
    };
    let limit = Duration::from_secs(120);

    // Topics over SASL_SSL (SCRAM-SHA-512, the password in the flag).
    let mut flags = tls_flags("alice", "SCRAM-SHA-512");
    flags.extend(args(&["--sasl-password", password]));
    let flag_refs: Vec<&str> = flags.iter().map(String::as_str).collect();
    let stdout = create_topics_with(&secured, &scope, 3, &flag_refs);
    assert_eq!(stdout.matches("created ").count(), 3, "{stdout}");

    // The generator over SASL_SSL (SCRAM-SHA-256, the password from
    // LOGPIPE_KAFKA_SASL_PASSWORD).
    let mut generate = args(&[
        "generate",
        "--bootstrap",
        &secured,
        "--count",
        "100",
        "--invalid-ratio",
        "0.1",
        "--seed",
        "9",
    ]);
    generate.extend(scope.topic_flags());
    generate.extend(tls_flags("alice", "SCRAM-SHA-256"));
    let out = {
        let generate = generate.clone();
        tokio::task::spawn_blocking(move || {
            logpipe_with_env(
                &generate,
                &[("LOGPIPE_KAFKA_SASL_PASSWORD", password)],
                limit,
            )
        })
        .await
        .unwrap()
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What it produced, read back over the plaintext listener.
    let truth = learn_runs(&scope, &plaintext, &LogKind::ALL, &[Run::new(100, 9, 0.1)]).await;

    // The mapping over SASL_SSL into the real Cassandra; it applies the
    // schema to its keyspace itself.
    let group = scope.group("sasl");
    let mut esm = esm_args_in(
        &scope,
        &secured,
        cql,
        &group,
        &["--apply-schema", "--until-idle", "3s", "--json", "--quiet"],
    );
    esm.extend(flags.clone());
    let out = run_logpipe(esm, limit).await.assert_success();
    let summary = out.json();
    assert_eq!(summary["records"], 300, "{summary}");
    assert_eq!(summary["dead_lettered"], truth.invalid.len(), "{summary}");
    assert_stored_matches(&read_stored_in(cql, &scope).await, &truth);
    assert_committed_to_end(&plaintext, &group, &truth);

    // A wrong password: the generator, the mapping and `topics create`
    // each fail at once, saying the broker refused the credentials (not a
    // timeout a minute later).
    let refused = "the broker refused the SASL credentials";
    let quick = Duration::from_secs(20);
    let run = |args: Vec<String>, env: Vec<(&'static str, &'static str)>| async move {
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let out = logpipe_with_env(&args, &env, limit);
            (out, started.elapsed())
        })
        .await
        .unwrap()
    };
    let (out, took) = run(
        generate,
        vec![("LOGPIPE_KAFKA_SASL_PASSWORD", "not-the-password")],
    )
    .await;
    assert_refused(&out, took, quick, refused);

    let mut wrong = tls_flags("alice", "SCRAM-SHA-512");
    wrong.extend(args(&["--sasl-password", "not-the-password"]));
    let mut esm = esm_args_in(
        &scope,
        &secured,
        cql,
        &scope.group("wrong"),
        &["--until-idle", "3s"],
    );
    esm.extend(wrong.clone());
    let (out, took) = run(esm, vec![]).await;
    assert_refused(&out, took, quick, refused);
    assert!(committed_offsets(
        &plaintext,
        &format!("{}-auth-logs", scope.group("wrong")),
        scope.topic(LogKind::Auth)
    )
    .is_empty());

    let mut topics = args(&["topics", "create", "--bootstrap", &secured]);
    topics.extend(scope.topic_flags());
    topics.extend(wrong);
    let (out, took) = run(topics, vec![]).await;
    assert_refused(&out, took, quick, refused);

    // A CA that did not sign the broker's certificate: refused as well.
    let other = tempfile::tempdir().unwrap();
    let other_ca = TestCa::create("kafka", other.path()).unwrap();
    let mut esm = esm_args_in(
        &scope,
        &secured,
        cql,
        &scope.group("ca"),
        &["--until-idle", "3s"],
    );
    esm.extend(args(&[
        "--security-protocol",
        "sasl_ssl",
        "--sasl-username",
        "alice",
        "--sasl-password",
        password,
        "--ssl-ca-location",
        &other_ca.ca_pem.display().to_string(),
    ]));
    let (out, took) = run(esm, vec![]).await;
    assert_refused(
        &out,
        took,
        quick,
        "the broker's TLS certificate cannot be verified",
    );
    drop(broker);
}
