//! Event-replay tests: every fixture event through `logpipe replay` into a
//! keyspace of its own on the real Apache Cassandra (the run's shared node),
//! the four tables read back through CQL and compared row by row with the
//! golden dumps in `fixtures/golden/`; then the CLI's exit codes, and the
//! embedded node behind `logpipe cassandra`.

mod common;

use std::path::Path;

use common::real::{read_dump, replay, run_env, shared_cassandra, unique_name};
use common::{args, assert_dump_matches_golden, fixture_names, logpipe, root, TABLES};

/// Asserts what a `--json` summary says of one event against the dump:
/// every record written or dead-lettered, and what was counted is what is
/// stored.
fn assert_summary_matches_dump(name: &str, summary: &serde_json::Value, dump: &Path) {
    let n = |k: &str| {
        summary[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k}: {summary}"))
    };
    assert_eq!(n("records"), n("written") + n("dead_lettered"), "{name}");
    let tables = read_dump(dump);
    let stored_logs: usize = TABLES[..3].iter().map(|t| tables[t].len()).sum();
    assert_eq!(stored_logs as u64, n("written"), "{name}: log rows");
    assert_eq!(
        tables["dead_letters"].len() as u64,
        n("dead_lettered"),
        "{name}: dead letters"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fixture_replays_to_its_golden_rows_and_again_to_the_same() {
    let addr = shared_cassandra();
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("fixtures/events/expected.json")).unwrap(),
    )
    .unwrap();
    let names = fixture_names();
    assert!(names.len() >= 4);
    for name in names {
        let ks = unique_name("golden");
        let file = root().join(format!("fixtures/events/{name}.json"));
        // The second replay (a retried batch, a replayed capture) into the
        // same keyspace must leave exactly the same rows.
        for run in ["first replay", "second replay"] {
            let dir = tempfile::tempdir().unwrap();
            let summary = replay(addr, &ks, &[&file], Some(dir.path()), &[]).await;
            assert_eq!(summary["events"], 1, "{name}, {run}");
            for k in ["records", "dead_lettered", "dead_letter_reasons"] {
                assert_eq!(summary[k], expected[&name][k], "{name}, {run}: {k}");
            }
            assert_summary_matches_dump(&name, &summary, dir.path());
            assert_dump_matches_golden(dir.path(), &name);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_the_same_event_twice_in_one_run_leaves_the_golden_rows() {
    let addr = shared_cassandra();
    let ks = unique_name("golden_twice");
    let dir = tempfile::tempdir().unwrap();
    let file = root().join("fixtures/events/msk_auth_mixed.json");
    let summary = replay(addr, &ks, &[&file, &file], Some(dir.path()), &[]).await;
    assert_eq!(summary["events"], 2);
    assert_eq!(summary["records"], 66);
    assert_dump_matches_golden(dir.path(), "msk_auth_mixed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_none_reports_the_same_summary_without_storing() {
    let addr = shared_cassandra();
    let file = "fixtures/events/self_managed_activity_mixed.json";
    let none = run_env(
        args(&["replay", "--json", "--cassandra", "none", file]),
        vec![],
    )
    .await
    .assert_success();
    let ks = unique_name("none_vs_real");
    let stored = replay(addr, &ks, &[Path::new(file)], None, &[]).await;
    let embedded = run_env(args(&["replay", "--json", file]), vec![])
        .await
        .assert_success();
    let none = none.json();
    assert_eq!(none, stored, "none and the real node");
    assert_eq!(none, embedded.json(), "none and the embedded node");
    assert_eq!(none["by_topic"]["user_activity_logs"]["dead_lettered"], 10);
    assert_eq!(none["dead_letter_reasons"]["invalid_field"], 9);
}

#[test]
fn a_file_that_is_not_an_event_exits_1_naming_it_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("not-an-event.json");
    std::fs::write(&bad, r#"{"hello": "world"}"#).unwrap();
    let out = logpipe(&[
        "replay",
        "fixtures/events/msk_all_topics.json",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not-an-event.json") && err.contains("not a Kafka event"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing replayed");

    let out = logpipe(&["replay", "fixtures/events/no-such-file.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-file.json"));
}

/// Files that are not events a replay can store, each after a good one:
/// unreadable, not JSON, not an event, a partition outside 0..2^31 in a
/// record or in a `records` key, a record under another partition's key.
fn bad_files(dir: &Path) -> Vec<(std::path::PathBuf, &'static str)> {
    let record = |partition: &str| {
        format!(
            r#"{{"topic":"user_auth_logs","partition":{partition},"offset":1,"timestamp":1795615200123,"timestampType":"CREATE_TIME","key":null,"value":"e30=","headers":[]}}"#
        )
    };
    let event = |key: &str, partition: &str| {
        format!(
            r#"{{"eventSource":"aws:kafka","records":{{"{key}":[{}]}}}}"#,
            record(partition)
        )
    };
    let cases: Vec<(&str, Option<String>, &'static str)> = vec![
        // A directory: it exists, but cannot be read as a file.
        ("a-directory.json", None, "cannot read"),
        (
            "not-json.json",
            Some("{\"eventSource\": ".into()),
            "not a Kafka event",
        ),
        (
            "not-an-event.json",
            Some(r#"{"hello": "world"}"#.into()),
            "not a Kafka event",
        ),
        (
            "record-partition-minus-1.json",
            Some(event("user_auth_logs-0", "-1")),
            "has partition -1",
        ),
        (
            "record-partition-2-31.json",
            Some(event("user_auth_logs-0", "2147483648")),
            "has partition 2147483648",
        ),
        (
            "key-partition-minus-1.json",
            Some(event("user_auth_logs--1", "0")),
            "user_auth_logs--1",
        ),
        (
            "key-partition-2-31.json",
            Some(event("user_auth_logs-2147483648", "0")),
            "records key `user_auth_logs-2147483648`",
        ),
        (
            "key-and-record-differ.json",
            Some(event("user_auth_logs-1", "0")),
            "not the topic and partition of its key",
        ),
    ];
    cases
        .into_iter()
        .map(|(name, text, says)| {
            let path = dir.join(name);
            match text {
                Some(text) => std::fs::write(&path, text).unwrap(),
                None => std::fs::create_dir(&path).unwrap(),
            }
            (path, says)
        })
        .collect()
}

/// Every file is read and decoded before anything is written: a bad file
/// after a good one exits 1 naming it, with nothing stored, not even the
/// good file's rows (the node is a `logpipe cassandra`, read back over CQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_file_exits_1_naming_it_before_anything_is_stored() {
    let (node, addr) = common::start_cql_node();
    let _node = logpipe_testkit::KillOnDrop::new(node);
    let dir = tempfile::tempdir().unwrap();
    let good = "fixtures/events/msk_all_topics.json";
    for (bad, says) in bad_files(dir.path()) {
        let name = bad.file_name().unwrap().to_str().unwrap().to_owned();
        for cassandra in ["none", "embedded", addr.as_str()] {
            let out = logpipe(&[
                "replay",
                "--json",
                "--cassandra",
                cassandra,
                good,
                bad.to_str().unwrap(),
            ]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{name}, {cassandra}: {err}");
            assert!(err.contains(&name) && err.contains(says), "{name}: {err}");
            assert!(out.stdout.is_empty(), "{name}: nothing replayed");
        }
    }
    let session = common::real::session(&addr).await;
    for table in TABLES {
        let column = if table == "dead_letters" {
            "topic"
        } else {
            "user_id"
        };
        let cql = format!("SELECT {column} FROM user_db.{table}");
        let stored: Vec<(String,)> = common::real::rows(&session, &cql, ()).await;
        assert!(stored.is_empty(), "{table}: {} rows stored", stored.len());
    }
    // The same node takes the good file alone: the check above can see rows.
    let out = logpipe(&["replay", "--cassandra", &addr, good]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored: Vec<(String,)> =
        common::real::rows(&session, "SELECT user_id FROM user_db.auth_logs", ()).await;
    assert!(!stored.is_empty(), "the good file's rows are read back");
}

/// Usage errors exit 64, never 2 (which is a storage failure's): clap's
/// own parse errors, and `--dump` with `--cassandra none`; `--help` and
/// `--version` exit 0.
#[test]
fn usage_errors_exit_64_and_help_exits_0() {
    let file = "fixtures/events/msk_all_topics.json";
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    let dump = dump.to_str().unwrap();
    for args in [
        vec![],
        vec!["no-such-command"],
        vec!["replay"],
        vec!["replay", "--no-such-flag", file],
        vec!["replay", "--cassandra", "nowhere", file],
        vec!["replay", "--cassandra"],
        vec!["replay", "--topic", "auth", file],
        vec!["replay", "--topic", "bogus=t", file],
        vec!["replay", "--dump", dump, "--cassandra", "none", file],
        vec![
            "replay",
            "--cassandra",
            "none",
            "--dump",
            dump,
            "fixtures/events/no-such-file.json",
        ],
        vec!["cassandra", "--listen", "not-an-address"],
    ] {
        let out = logpipe(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {err}");
        assert!(!err.is_empty(), "{args:?} says why");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(!dir.path().join("dump").exists(), "nothing dumped");
    let out = logpipe(&["replay", "--dump", dump, "--cassandra", "none", file]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dump"));
    for args in [
        vec!["--help"],
        vec!["-h"],
        vec!["help"],
        vec!["replay", "--help"],
        vec!["help", "replay"],
        vec!["--version"],
        vec!["-V"],
    ] {
        let out = logpipe(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stdout.is_empty(), "{args:?} prints to stdout");
    }
}

#[test]
fn an_unreachable_cassandra_exits_2() {
    // Bind then drop a listener: the port is free and nothing answers.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let out = logpipe(&[
        "replay",
        "--cassandra",
        &addr,
        "fixtures/events/msk_all_topics.json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&addr));
}

#[test]
fn replay_into_a_running_node_and_read_it_back_from_another_process() {
    // `logpipe cassandra` serves with the schema applied; the replay only
    // writes to it and reads the rows back.
    let (mut node, addr) = common::start_cql_node();
    let dir = tempfile::tempdir().unwrap();
    let out = logpipe(&[
        "replay",
        "--cassandra",
        &addr,
        "--dump",
        dir.path().to_str().unwrap(),
        "fixtures/events/msk_all_topics.json",
    ]);
    let _ = node.kill();
    let _ = node.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_dump_matches_golden(dir.path(), "msk_all_topics");
}
