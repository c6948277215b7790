//! The event source mapping against a real Kafka-protocol broker process,
//! tansu (in-memory storage), with the topics created by `logpipe topics
//! create`: generated records with bad ones among them go through
//! `logpipe esm` into a CQL node, and the rows read back must be exactly
//! the valid records and the dead letters exactly the bad ones.
//!
//! Needs tansu (`make tansu` installs it); fails, naming that, without it.

mod common;

use std::time::Duration;

use common::kafka::{
    assert_committed_to_end, assert_stored_matches, cql_node, end_offsets, esm_args, learn,
    produce, read_stored, start_tansu,
};
use common::{args, logpipe, run_logpipe};
use logpipe_core::LogKind;

/// Creates the three topics on `bootstrap` with `logpipe topics create`;
/// returns its stdout.
fn create_topics(bootstrap: &str) -> String {
    let out = logpipe(&[
        "topics",
        "create",
        "--bootstrap",
        bootstrap,
        "--partitions",
        "3",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_esm_stores_exactly_the_valid_records_through_a_tansu_broker() {
    let (_broker, bootstrap) = start_tansu();

    // Topics through the admin API; a second run finds them there.
    let stdout = create_topics(&bootstrap);
    assert_eq!(stdout.matches("created ").count(), 3, "{stdout}");
    let stdout = create_topics(&bootstrap);
    assert_eq!(stdout.matches("exists already").count(), 3, "{stdout}");
    for kind in LogKind::ALL {
        assert_eq!(end_offsets(&bootstrap, kind.default_topic()).len(), 3);
    }

    let (_node, cql) = cql_node().await;
    let truth = produce(&bootstrap, &LogKind::ALL, 200, 21, 0.1).await;
    assert_eq!(truth.invalid.len(), 60);

    let esm = esm_args(
        &bootstrap,
        &cql,
        "tansu",
        &[
            "--batch-size",
            "50",
            "--until-idle",
            "3s",
            "--json",
            "--quiet",
        ],
    );
    let out = run_logpipe(esm, Duration::from_secs(180))
        .await
        .assert_success();
    let summary = out.json();
    assert_eq!(summary["records"], 600, "{summary}");

    assert_stored_matches(&read_stored(&cql).await, &truth);
    assert_committed_to_end(&bootstrap, "tansu", &truth);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_runs_against_a_tansu_broker_and_a_cql_server() {
    // `logpipe demo --kafka --cassandra`: real servers instead of the
    // embedded ones; the demo creates the topics and applies the schema.
    let (_broker, bootstrap) = start_tansu();
    let (_node, cql) = cql_node().await;
    let out = run_logpipe(
        args(&[
            "demo",
            "--kafka",
            &bootstrap,
            "--cassandra",
            &cql,
            "--records",
            "150",
            "--invalid-ratio",
            "0.1",
            "--seed",
            "5",
            "--batch-size",
            "40",
            "--json",
        ]),
        Duration::from_secs(240),
    )
    .await
    .assert_success();
    let summary = out.json();
    assert_eq!(summary["produced"], 450, "{summary}");
    assert_eq!(summary["written"], 405, "{summary}");
    assert_eq!(summary["dead_lettered"], 45, "{summary}");
    assert_eq!(summary["kafka"], bootstrap.as_str());
    assert_eq!(summary["cassandra"], cql.as_str());
    assert_eq!(summary["ok"], true);

    // The topics hold what the generator made with that seed; the tables
    // hold a row for each valid record and a dead letter for each bad one.
    let truth = {
        let b = bootstrap.clone();
        tokio::task::spawn_blocking(move || learn(&b, &LogKind::ALL, 150, 5, 0.1))
            .await
            .unwrap()
    };
    assert_stored_matches(&read_stored(&cql).await, &truth);
}
