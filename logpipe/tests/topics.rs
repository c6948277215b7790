//! `logpipe topics create`: against the embedded broker (`logpipe kafka`),
//! which answers CreateTopics itself, it succeeds at once reporting its
//! topics as existing and refuses at once a topic it does not have; against
//! the real Apache Kafka it creates new topics with the partitions asked
//! for, and a second run finds them and leaves them as they are.

mod common;

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

use common::kafka::{start_logpipe_kafka, Scope};
use common::{args, run_logpipe};
use logpipe_core::LogKind;

/// The partitions of each of `topics` at `bootstrap`, read from metadata
/// (0 for a topic the broker does not have).
fn partitions(bootstrap: &str, topics: &[&str]) -> Vec<usize> {
    let client: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let metadata = client
        .fetch_metadata(None, Duration::from_secs(20))
        .unwrap();
    topics
        .iter()
        .map(|t| {
            metadata
                .topics()
                .iter()
                .find(|m| m.name() == *t)
                .map_or(0, |m| m.partitions().len())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_create_on_the_embedded_broker_answers_at_once() {
    let (_kafka, bootstrap) = start_logpipe_kafka(2);

    let started = Instant::now();
    let out = run_logpipe(
        args(&["topics", "create", "--bootstrap", &bootstrap]),
        Duration::from_secs(30),
    )
    .await
    .assert_success();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "user_auth_logs exists already",
            "user_session_logs exists already",
            "user_activity_logs exists already",
        ],
        "{}",
        out.stderr
    );
    // Nothing changed: the topics keep the partitions they started with.
    assert_eq!(
        partitions(
            &bootstrap,
            &["user_auth_logs", "user_session_logs", "user_activity_logs"]
        ),
        [2, 2, 2]
    );

    // A topic the broker does not have: refused at once, saying why.
    let started = Instant::now();
    let out = run_logpipe(
        args(&[
            "topics",
            "create",
            "--bootstrap",
            &bootstrap,
            "--topics",
            "auth,session",
            "--topic-name",
            "auth=not_served_here",
        ]),
        Duration::from_secs(30),
    )
    .await;
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        out.stderr.contains("not_served_here")
            && out.stderr.contains("Policy violation")
            && out.stderr.contains("logpipe kafka")
            && out.stderr.contains("--topic-name"),
        "{}",
        out.stderr
    );
    assert_eq!(partitions(&bootstrap, &["not_served_here"]), [0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_create_on_the_real_kafka_creates_then_finds_the_topics() {
    let bootstrap = tokio::task::spawn_blocking(logpipe_testkit::shared_kafka)
        .await
        .unwrap();
    let scope = Scope::unique("topics");
    let topics: Vec<&str> = LogKind::ALL.iter().map(|k| scope.topic(*k)).collect();
    let create = |partitions: &str| {
        let mut a = args(&[
            "topics",
            "create",
            "--bootstrap",
            bootstrap,
            "--partitions",
            partitions,
        ]);
        a.extend(scope.topic_flags());
        run_logpipe(a, Duration::from_secs(90))
    };

    let first = create("2").await.assert_success();
    let want: Vec<String> = topics
        .iter()
        .map(|t| format!("created {t} (2 partitions, replication 1)"))
        .collect();
    assert_eq!(first.stdout.lines().collect::<Vec<_>>(), want);
    assert_eq!(partitions(bootstrap, &topics), [2, 2, 2]);

    // A second run, asking for more partitions: the topics exist, and are
    // left as they are.
    let second = create("5").await.assert_success();
    let want: Vec<String> = topics
        .iter()
        .map(|t| format!("{t} exists already"))
        .collect();
    assert_eq!(second.stdout.lines().collect::<Vec<_>>(), want);
    assert_eq!(partitions(bootstrap, &topics), [2, 2, 2]);
}

/// Writes one request frame: header v1 (key, version, correlation id, a
/// client id), then `body`.
fn request(out: &mut Vec<u8>, key: i16, version: i16, correlation: i32, body: &[u8]) {
    let client = b"raw-test";
    let size = 2 + 2 + 4 + 2 + client.len() + body.len();
    out.extend_from_slice(&(size as i32).to_be_bytes());
    out.extend_from_slice(&key.to_be_bytes());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&correlation.to_be_bytes());
    out.extend_from_slice(&(client.len() as i16).to_be_bytes());
    out.extend_from_slice(client);
    out.extend_from_slice(body);
}

#[test]
fn the_embedded_brokers_create_topics_answer_keeps_request_order() {
    use std::io::{Read, Write};
    let (_kafka, bootstrap) = start_logpipe_kafka(1);
    // CreateTopics v4 for user_auth_logs: 1 partition, replication 1, no
    // assignments or configs; timeout; validate_only false.
    let mut create = Vec::new();
    create.extend_from_slice(&1i32.to_be_bytes());
    create.extend_from_slice(&(14i16).to_be_bytes());
    create.extend_from_slice(b"user_auth_logs");
    create.extend_from_slice(&1i32.to_be_bytes());
    create.extend_from_slice(&1i16.to_be_bytes());
    create.extend_from_slice(&0i32.to_be_bytes());
    create.extend_from_slice(&0i32.to_be_bytes());
    create.extend_from_slice(&5000i32.to_be_bytes());
    create.push(0);
    // Three requests at once, the CreateTopics between two ApiVersions.
    let mut frames = Vec::new();
    request(&mut frames, 18, 0, 1, &[]);
    request(&mut frames, 19, 4, 2, &create);
    request(&mut frames, 18, 0, 3, &[]);
    let mut conn = std::net::TcpStream::connect(&bootstrap).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(&frames).unwrap();
    let mut answers = Vec::new();
    for _ in 0..3 {
        let mut size = [0u8; 4];
        conn.read_exact(&mut size).unwrap();
        let mut frame = vec![0u8; i32::from_be_bytes(size) as usize];
        conn.read_exact(&mut frame).unwrap();
        answers.push(frame);
    }
    let correlations: Vec<i32> = answers
        .iter()
        .map(|a| i32::from_be_bytes(a[..4].try_into().unwrap()))
        .collect();
    assert_eq!(correlations, [1, 2, 3]);
    // CreateTopics v4: throttle, one topic named as asked, TOPIC_ALREADY_EXISTS.
    let c = &answers[1][4..];
    assert_eq!(&c[4..8], &1i32.to_be_bytes());
    assert_eq!(&c[8..10], &14i16.to_be_bytes());
    assert_eq!(&c[10..24], b"user_auth_logs");
    assert_eq!(i16::from_be_bytes(c[24..26].try_into().unwrap()), 36);
    // Both ApiVersions answers list CreateTopics (key 19), versions 2 to 4.
    for a in [&answers[0], &answers[2]] {
        let body = &a[4..];
        assert_eq!(&body[..2], &0i16.to_be_bytes());
        let n = i32::from_be_bytes(body[2..6].try_into().unwrap()) as usize;
        let entries: Vec<(i16, i16, i16)> = (0..n)
            .map(|i| {
                let e = &body[6 + 6 * i..12 + 6 * i];
                let at = |j: usize| i16::from_be_bytes(e[j..j + 2].try_into().unwrap());
                (at(0), at(2), at(4))
            })
            .collect();
        assert!(entries.contains(&(19, 2, 4)), "{entries:?}");
    }
}
