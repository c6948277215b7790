//! The batch metrics (CloudWatch EMF lines on stdout) stay out of the CLI's
//! stdout unless asked for (replays into the embedded node, so that every
//! batch goes through the handler's store step, where metrics are emitted): `logpipe replay --json` prints one JSON object
//! and nothing else, even where Lambda's variables leak into the shell with
//! `LOGPIPE_METRICS=off`. Asked for (`LOGPIPE_METRICS=on`), the same
//! handler prints one EMF line per topic of each batch, each on a line of
//! its own beside the summary.

use std::process::{Command, Output};

const FIXTURE: &str = "fixtures/events/msk_auth_mixed.json";

fn replay(env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logpipe"));
    cmd.args(["replay", "--json", "--cassandra", "embedded", FIXTURE])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env_remove("AWS_LAMBDA_FUNCTION_NAME")
        .env_remove("LOGPIPE_METRICS")
        .env_remove("LOGPIPE_METRICS_NAMESPACE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("logpipe runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout_lines(out: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(out.stdout.clone())
        .expect("UTF-8 stdout")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn is_emf(v: &serde_json::Value) -> bool {
    v.get("_aws").is_some()
}

#[test]
fn replay_json_prints_one_object_and_no_metrics() {
    for env in [
        &[][..],
        &[
            ("AWS_LAMBDA_FUNCTION_NAME", "auth-logs"),
            ("LOGPIPE_METRICS", "off"),
        ][..],
    ] {
        let out = replay(env);
        let lines = stdout_lines(&out);
        assert_eq!(lines.len(), 1, "{env:?}: {lines:?}");
        assert!(!is_emf(&lines[0]), "{env:?}");
        assert_eq!(lines[0]["records"], 33, "{env:?}");
    }
}

#[test]
fn metrics_asked_for_are_emf_lines_of_the_batch() {
    let out = replay(&[
        ("LOGPIPE_METRICS", "on"),
        ("LOGPIPE_METRICS_NAMESPACE", "test/logpipe"),
    ]);
    let lines = stdout_lines(&out);
    let (emf, other): (Vec<_>, Vec<_>) = lines.into_iter().partition(is_emf);
    assert_eq!(other.len(), 1, "the summary: {other:?}");
    let summary = &other[0];
    // One line per topic of the event: the auth records and one record of
    // a topic no function owns.
    assert_eq!(emf.len(), 2, "{emf:?}");
    let mut records = 0;
    let mut dead = 0;
    for doc in &emf {
        let directives = doc["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert!(directives.iter().all(|d| d["Namespace"] == "test/logpipe"));
        records += doc["Records"].as_u64().unwrap();
        dead += doc["DeadLettered"].as_u64().unwrap();
    }
    assert_eq!(records, summary["records"].as_u64().unwrap());
    assert_eq!(dead, summary["dead_lettered"].as_u64().unwrap());
    assert_eq!(
        emf.iter()
            .filter(|d| d.get("Failed") == Some(&0.into()))
            .count(),
        1,
        "the batch metrics once: {emf:?}"
    );
}
