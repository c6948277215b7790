//! The event source mapping against a real Kafka-protocol broker process,
//! tansu (in-memory storage), with the topics created by `logpipe topics
//! create`: generated records with bad ones among them go through
//! `logpipe esm` into a CQL node, and the rows read back must be exactly
//! the valid records and the dead letters exactly the bad ones.
//!
//! Needs tansu (`make tansu` installs it); fails, naming that, without it.

mod common;

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    assert_stored_matches, committed_offsets, cql_node, end_offsets, ends_of, free_port, logpipe,
    produce_and_learn, read_stored, spawn_logpipe, wait_output, Killed,
};
use logpipe_core::LogKind;

/// The tansu binary: on PATH, or where `make tansu` installs it.
fn tansu() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("tansu"))
            .find(|p| p.is_file())
    });
    let installed = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/tansu"));
    on_path
        .or(installed.filter(|p| p.is_file()))
        .expect("tansu not found on PATH or in ~/.cargo/bin: run `make tansu` (cargo install tansu --locked --features dynostore)")
}

/// Starts a tansu broker on a free loopback port, in-memory storage.
fn start_tansu() -> (Killed, String) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let url = format!("tcp://{addr}");
    let child = Command::new(tansu())
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            "memory://tansu/",
        ])
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("tansu starts");
    let broker = Killed::group(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "tansu did not listen on {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
    (broker, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_esm_stores_exactly_the_valid_records_through_a_tansu_broker() {
    let (_broker, bootstrap) = start_tansu();

    // Topics through the admin API; a second run finds them there.
    let out = logpipe(&[
        "topics",
        "create",
        "--bootstrap",
        &bootstrap,
        "--partitions",
        "3",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.matches("created ").count(), 3, "{stdout}");
    let out = logpipe(&[
        "topics",
        "create",
        "--bootstrap",
        &bootstrap,
        "--partitions",
        "3",
    ]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .matches("exists already")
            .count(),
        3
    );
    for kind in LogKind::ALL {
        assert_eq!(end_offsets(&bootstrap, kind.default_topic()).len(), 3);
    }

    let (_node, cql) = cql_node().await;
    let truth = {
        let b = bootstrap.clone();
        tokio::task::spawn_blocking(move || produce_and_learn(&b, &LogKind::ALL, 200, 21, 0.1))
            .await
            .unwrap()
    };
    assert_eq!(truth.invalid.len(), 60);

    let esm = spawn_logpipe(&[
        "esm",
        "--bootstrap",
        &bootstrap,
        "--cassandra",
        &cql,
        "--starting-position",
        "TRIM_HORIZON",
        "--batch-size",
        "50",
        "--group-id",
        "tansu",
        "--until-idle",
        "3s",
        "--json",
        "--quiet",
    ]);
    let out = tokio::task::spawn_blocking(move || wait_output(esm, Duration::from_secs(180)))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(summary["records"], 600, "{summary}");

    assert_stored_matches(&read_stored(&cql).await, &truth);
    for kind in LogKind::ALL {
        let topic = kind.default_topic();
        let places = truth.valid.keys().chain(truth.invalid.keys()).cloned();
        let group = format!("tansu-{}", kind.function_name());
        assert_eq!(
            committed_offsets(&bootstrap, &group, topic),
            ends_of(places, topic),
            "{topic}: committed to the end"
        );
    }
}
