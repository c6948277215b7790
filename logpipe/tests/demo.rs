//! `logpipe demo`, the README's first command: one run with a small number
//! of records must account for every one of them, in its JSON summary and
//! in the rows it reads back.

mod common;

use std::time::Duration;

use common::{free_port, spawn_logpipe, wait_output};

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
