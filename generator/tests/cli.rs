//! The `log-generator` binary as a person runs it: its outputs, its
//! summary, its exit status, and its refusals of bad flags.

use std::process::{Command, Output};

use log_generator::{GenerateSummary, Manifest};
use logpipe_core::topics::LogKind;
use rdkafka::mocking::MockCluster;
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_log-generator"))
        .args(args)
        .env_remove("LOGPIPE_KAFKA_SASL_PASSWORD")
        .output()
        .unwrap()
}

fn summary(out: &Output) -> Value {
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

#[test]
fn stdout_lines_are_the_records() {
    let flags = [
        "--stdout",
        "--count",
        "20",
        "--seed",
        "4",
        "--invalid-ratio",
        "0.2",
    ];
    let a = run(&flags);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let lines: Vec<&[u8]> = a.stdout.split(|b| *b == b'\n').collect();
    // 60 records, each ending in a newline.
    assert_eq!(lines.len(), 61);
    assert!(lines[60].is_empty());
    let parsed = lines[..60]
        .iter()
        .filter(|l| serde_json::from_slice::<Value>(l).is_ok_and(|v| v.is_object()))
        .count();
    assert!((40..60).contains(&parsed), "{parsed} objects");
    let stderr = String::from_utf8_lossy(&a.stderr);
    assert!(stderr.contains("60 records written to stdout"), "{stderr}");
    // Same seed, same bytes.
    let b = run(&flags);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn emit_events_writes_files_and_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "--emit-events",
        dir.path().to_str().unwrap(),
        "--count",
        "30",
        "--batch-size",
        "10",
        "--invalid-ratio",
        "0.5",
        "--json",
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "--quiet: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary(&out);
    assert_eq!(s["produced"], 90);
    assert_eq!(s["invalid"], 45);
    let manifest = Manifest::read(dir.path()).unwrap();
    assert_eq!(manifest.totals.records, 90);
    assert_eq!(manifest.events, 9);
}

#[test]
fn produces_to_kafka_and_reports() {
    let cluster = MockCluster::new(1).unwrap();
    for kind in LogKind::ALL {
        cluster.create_topic(kind.default_topic(), 3, 1).unwrap();
    }
    let bootstrap = cluster.bootstrap_servers();
    let out = run(&[
        "--bootstrap",
        &bootstrap,
        "--count",
        "200",
        "--invalid-ratio",
        "0.1",
        "--json",
        "--compression",
        "zstd",
        "--topics",
        "auth,activity",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: GenerateSummary = serde_json::from_value(summary(&out)).unwrap();
    assert_eq!((s.produced, s.failed, s.invalid), (400, 0, 40));
    assert_eq!(s.by_topic["user_auth_logs"].produced, 200);
    assert!(!s.by_topic.contains_key("user_session_logs"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("400 records produced to {bootstrap} (0 failed)")),
        "{stderr}"
    );
}

#[test]
fn failed_deliveries_exit_non_zero() {
    let bootstrap = {
        let cluster = MockCluster::new(1).unwrap();
        cluster.bootstrap_servers()
    };
    let out = run(&[
        "--bootstrap",
        &bootstrap,
        "--count",
        "3",
        "--message-timeout",
        "1s",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let s = summary(&out);
    assert_eq!(s["produced"], 0);
    assert_eq!(s["failed"], 9);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("9 failed"), "{stderr}");
}

#[test]
fn bad_flags_are_refused_with_a_reason() {
    for (args, needle) in [
        (&["--invalid-ratio", "2"][..], "outside 0.0..=1.0"),
        (&["--topics", "billing"], "unknown log kind `billing`"),
        (
            &["--security-protocol", "sasl_ssl", "--sasl-username", "u"],
            "--sasl-password",
        ),
        (&["--stdout", "--emit-events", "x"], "--emit-events"),
        (&["--partitions", "3"], "--emit-events"),
        (
            &["--msk-cluster-arn", "arn:aws:s3:::bucket", "--count", "1"],
            "not an MSK cluster ARN",
        ),
    ] {
        let out = run(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn the_password_never_shows() {
    let out = Command::new(env!("CARGO_BIN_EXE_log-generator"))
        .args([
            "--security-protocol",
            "sasl_ssl",
            "--sasl-username",
            "u",
            "--bootstrap",
            "127.0.0.1:1",
        ])
        .args([
            "--count",
            "1",
            "--message-timeout",
            "1s",
            "--json",
            "--topics",
            "auth",
        ])
        .env("LOGPIPE_KAFKA_SASL_PASSWORD", "s3cr3t-pa55")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("s3cr3t-pa55"), "{all}");
    let help = run(&["--help"]);
    assert!(!String::from_utf8_lossy(&help.stdout).contains("s3cr3t-pa55"));
}
