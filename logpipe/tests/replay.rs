//! Event-replay tests: every fixture event through `logpipe replay` into an
//! embedded CQL node, the four tables read back through CQL and compared
//! row by row with the golden dumps in `fixtures/golden/`.

mod common;

use common::{assert_dump_matches_golden, fixture_names, logpipe, read_rows, TABLES};

#[test]
fn each_fixture_replays_to_its_golden_rows() {
    let names = fixture_names();
    assert!(names.len() >= 4);
    for name in names {
        let dir = tempfile::tempdir().unwrap();
        let file = format!("fixtures/events/{name}.json");
        let out = logpipe(&[
            "replay",
            "--json",
            "--dump",
            dir.path().to_str().unwrap(),
            &file,
        ]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(summary["events"], 1);
        assert_eq!(
            summary["records"].as_u64().unwrap(),
            summary["written"].as_u64().unwrap() + summary["dead_lettered"].as_u64().unwrap()
        );
        // What was counted is what is stored.
        let stored_logs: usize = TABLES[..3]
            .iter()
            .map(|t| read_rows(&dir.path().join(format!("{t}.jsonl"))).len())
            .sum();
        assert_eq!(
            stored_logs as u64,
            summary["written"].as_u64().unwrap(),
            "{name}"
        );
        let stored_dead = read_rows(&dir.path().join("dead_letters.jsonl")).len();
        assert_eq!(
            stored_dead as u64,
            summary["dead_lettered"].as_u64().unwrap(),
            "{name}"
        );
        assert_dump_matches_golden(dir.path(), &name);
    }
}

#[test]
fn replaying_the_same_events_twice_leaves_identical_rows() {
    let dir = tempfile::tempdir().unwrap();
    let file = "fixtures/events/msk_auth_mixed.json";
    let out = logpipe(&[
        "replay",
        "--json",
        "--dump",
        dir.path().to_str().unwrap(),
        file,
        file,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["events"], 2);
    assert_eq!(summary["records"], 66);
    assert_dump_matches_golden(dir.path(), "msk_auth_mixed");
}

#[test]
fn storage_none_reports_the_same_summary_without_storing() {
    let file = "fixtures/events/self_managed_activity_mixed.json";
    let none = logpipe(&["replay", "--json", "--cassandra", "none", file]);
    let embedded = logpipe(&["replay", "--json", file]);
    assert!(none.status.success() && embedded.status.success());
    assert_eq!(none.stdout, embedded.stdout);
    let s: serde_json::Value = serde_json::from_slice(&none.stdout).unwrap();
    assert_eq!(s["by_topic"]["user_activity_logs"]["dead_lettered"], 10);
    assert_eq!(s["dead_letter_reasons"]["invalid_field"], 9);
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
