//! `logpipe demo`, the README's first command: one run with a small number
//! of records must account for every one of them, in its JSON summary and
//! in the rows it reads back; and the same against the real pair
//! (`--kafka` a real Apache Kafka, `--cassandra` a real Apache Cassandra,
//! `logpipe-testkit`), whose tables must then hold exactly what the
//! generator made.

mod common;

use std::time::Duration;

use common::kafka::{assert_stored_matches, learn_runs, own_kafka, read_stored_in, Run, Scope};
use common::{args, run_logpipe, spawn_logpipe};
use logpipe_core::LogKind;
use logpipe_testkit::{free_port, wait_output, KafkaOptions};

#[test]
fn a_small_demo_accounts_for_every_record() {
    let out = wait_output(
        spawn_logpipe(&["demo", "--records", "200", "--json"]),
        Duration::from_secs(120),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let s: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("a summary line")).unwrap();

    let n = |v: &serde_json::Value| v.as_u64().unwrap();
    assert_eq!(n(&s["produced"]), 600, "{s}");
    assert_eq!(n(&s["written"]) + n(&s["dead_lettered"]), 600);
    // 1% of 200 a topic are bad.
    assert_eq!(n(&s["dead_lettered"]), 6);
    let by_topic = s["by_topic"].as_object().unwrap();
    assert_eq!(by_topic.len(), 3);
    for (topic, t) in by_topic {
        assert_eq!(n(&t["produced"]), 200, "{topic}");
        assert_eq!(n(&t["written"]) + n(&t["dead_lettered"]), 200, "{topic}");
        assert_eq!(
            n(&t["dead_lettered"]),
            n(&t["expected_dead_lettered"]),
            "{topic}"
        );
        assert_eq!(t["accounted_for"], true, "{topic}");
    }
    let sum = |k: &str| by_topic.values().map(|t| n(&t[k])).sum::<u64>();
    assert_eq!(sum("written"), n(&s["written"]));
    assert_eq!(sum("dead_lettered"), n(&s["dead_lettered"]));
    assert!(s["records_per_second"].as_f64().unwrap() > 0.0);
    let (p50, p99) = (
        s["batch_latency_ms"]["p50"].as_f64().unwrap(),
        s["batch_latency_ms"]["p99"].as_f64().unwrap(),
    );
    assert!(p50 > 0.0 && p50 <= p99, "{p50} {p99}");
    assert_eq!(s["ok"], true);
    // Rows read back through CQL, from every table.
    for table in ["auth_logs", "session_logs", "activity_logs", "dead_letters"] {
        let rows = s["sample_rows"][table].as_array().unwrap();
        assert!(!rows.is_empty(), "{table}");
        assert!(rows[0].get("user_id").is_some() || rows[0].get("reason").is_some());
    }
    // The table for a person went to stderr.
    assert!(stderr.contains("every record is accounted for"), "{stderr}");
}

#[test]
fn the_demo_fails_when_storage_is_unreachable() {
    let addr = format!("127.0.0.1:{}", free_port());
    let out = wait_output(
        spawn_logpipe(&["demo", "--records", "10", "--cassandra", &addr]),
        Duration::from_secs(60),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("CQL"), "{stderr}");
}

#[test]
fn tls_and_sasl_flags_are_checked_and_need_kafka() {
    let run = |args: &[&str]| {
        let out = wait_output(spawn_logpipe(args), Duration::from_secs(30));
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // The embedded broker is plaintext: the flags are refused without
    // --kafka, before anything starts.
    let err = run(&["demo", "--records", "10", "--security-protocol", "ssl"]);
    assert!(err.contains("need --kafka"), "{err}");
    // With --kafka, the generator's checks apply and name the flags.
    let kafka = format!("127.0.0.1:{}", free_port());
    let err = run(&[
        "demo",
        "--records",
        "10",
        "--kafka",
        &kafka,
        "--sasl-username",
        "u",
    ]);
    assert!(err.contains("--security-protocol plaintext"), "{err}");
    if std::env::var_os("LOGPIPE_KAFKA_SASL_PASSWORD").is_none() {
        let err = run(&[
            "demo",
            "--kafka",
            &kafka,
            "--security-protocol",
            "sasl_ssl",
            "--sasl-username",
            "u",
        ]);
        assert!(err.contains("--sasl-password"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_against_real_kafka_and_cassandra_reconciles() {
    // The demo always uses the default topic names: a broker of this
    // test's own; the shared Cassandra, in a keyspace of its own.
    let broker = own_kafka(KafkaOptions::default()).await;
    let kafka = broker.bootstrap().to_owned();
    let cql = tokio::task::spawn_blocking(logpipe_testkit::shared_cassandra)
        .await
        .unwrap();
    let scope = Scope::default_topics_in(&logpipe_testkit::unique_name("demo"));
    // `logpipe demo --json` on this broker and keyspace, `flags` after.
    let demo = |flags: &[&str]| {
        let mut a = args(&[
            "demo",
            "--kafka",
            &kafka,
            "--cassandra",
            cql,
            "--keyspace",
            &scope.keyspace,
            "--json",
        ]);
        a.extend(args(flags));
        run_logpipe(a, Duration::from_secs(240))
    };

    // The demo creates the topics and applies the schema itself.
    let out = demo(&[
        "--records",
        "150",
        "--invalid-ratio",
        "0.1",
        "--seed",
        "5",
        "--batch-size",
        "40",
    ])
    .await
    .assert_success();
    let summary = out.json();
    assert_eq!(summary["produced"], 450, "{summary}");
    assert_eq!(summary["written"], 405, "{summary}");
    assert_eq!(summary["dead_lettered"], 45, "{summary}");
    assert_eq!(summary["kafka"], kafka.as_str());
    assert_eq!(summary["cassandra"], cql);
    assert_eq!(summary["ok"], true);
    for (topic, t) in summary["by_topic"].as_object().unwrap() {
        assert_eq!(t["accounted_for"], true, "{topic}: {t}");
    }
    assert!(
        out.stderr.contains("every record is accounted for"),
        "{}",
        out.stderr
    );

    // The topics hold what the generator made with that seed; the tables
    // hold a row for each valid record and a dead letter for each bad one,
    // nothing else.
    let truth = learn_runs(&scope, &kafka, &LogKind::ALL, &[Run::new(150, 5, 0.1)]).await;
    assert_stored_matches(&read_stored_in(cql, &scope).await, &truth);

    // A second demo on the same topics leaves the first one's records
    // alone: it starts where the topics end.
    let out = demo(&["--records", "20", "--seed", "6"])
        .await
        .assert_success();
    let summary = out.json();
    assert_eq!(summary["produced"], 60, "{summary}");
    assert_eq!(
        summary["written"].as_u64().unwrap() + summary["dead_lettered"].as_u64().unwrap(),
        60,
        "{summary}"
    );
    assert_eq!(summary["ok"], true, "{summary}");
    drop(broker);
}
