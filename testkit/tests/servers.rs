//! The servers start, answer their clients, and keep their data across a
//! SIGKILL and restart; TLS, password and SCRAM listeners work with the
//! clients the pipeline uses (the scylla driver, librdkafka).

use std::time::{Duration, Instant};

use logpipe_testkit::{Cassandra, CassandraOptions, Kafka, KafkaOptions, Scram, COMMITLOG_SYNC_MS};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use rdkafka::Message;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;

fn tls_config(ca_pem: &std::path::Path) -> std::sync::Arc<rustls::ClientConfig> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca_pem).unwrap();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth()
        .into()
}

async fn count_local(session: &Session) -> i64 {
    let rows = session
        .query_unpaged("SELECT count(*) FROM system.local", &[])
        .await
        .unwrap()
        .into_rows_result()
        .unwrap();
    rows.single_row::<(i64,)>().unwrap().0
}

#[tokio::test(flavor = "multi_thread")]
async fn cassandra_with_password_and_tls_refuses_others_and_keeps_data_over_a_kill() {
    // A relative data directory, as `make cassandra-up` passes one.
    let relative =
        std::path::PathBuf::from(format!("../target/testkit-relative-{}", std::process::id()));
    let mut node = Cassandra::start(CassandraOptions {
        auth: true,
        tls: true,
        dir: Some(relative.clone()),
        ..CassandraOptions::default()
    })
    .unwrap();
    let ca = node.tls().unwrap().ca_pem.clone();
    let (user, password) = node.credentials().unwrap();

    let plain = SessionBuilder::new()
        .known_node(node.address())
        .user(user, password)
        .connection_timeout(Duration::from_secs(3))
        .build()
        .await;
    assert!(plain.is_err(), "a plaintext client was let in");

    let wrong = SessionBuilder::new()
        .known_node(node.address())
        .user(user, "not-the-password")
        .tls_context(Some(tls_config(&ca)))
        .build()
        .await;
    assert!(wrong.is_err(), "a wrong password was let in");

    let address = node.address().to_owned();
    let connect = || {
        let address = address.clone();
        let ca = ca.clone();
        async move {
            SessionBuilder::new()
                .known_node(address)
                .user(user, password)
                .tls_context(Some(tls_config(&ca)))
                .build()
                .await
                .unwrap()
        }
    };
    let session = connect().await;
    assert_eq!(count_local(&session).await, 1);
    for cql in [
        "CREATE KEYSPACE kit WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}",
        "CREATE TABLE kit.t (k int PRIMARY KEY, v text)",
        "INSERT INTO kit.t (k, v) VALUES (1, 'before the kill')",
    ] {
        session.query_unpaged(cql, &[]).await.unwrap();
    }
    drop(session);

    // SIGKILL once the commit log has synced (periodic mode): the row is
    // in no sstable, only in the commit log, and the restart replays it.
    std::thread::sleep(Duration::from_millis(COMMITLOG_SYNC_MS + 1000));
    node.kill();
    node.restart().unwrap();
    let session = connect().await;
    let rows = session
        .query_unpaged("SELECT v FROM kit.t WHERE k = 1", &[])
        .await
        .unwrap()
        .into_rows_result()
        .unwrap();
    let (v,) = rows.single_row::<(String,)>().unwrap();
    assert_eq!(v, "before the kill");
    drop(session);
    drop(node);
    std::fs::remove_dir_all(&relative).unwrap();
}

fn send(config: &ClientConfig, topic: &str, payload: &str) -> Result<(), String> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let producer: FutureProducer = config.create().unwrap();
    rt.block_on(producer.send(
        FutureRecord::<str, str>::to(topic).payload(payload),
        Duration::from_secs(30),
    ))
    .map(|_| ())
    .map_err(|(e, _)| e.to_string())
}

fn first_payload(config: &ClientConfig, topic: &str, group: &str) -> Option<String> {
    let consumer: BaseConsumer = config
        .clone()
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(500)) {
            return m.payload().map(|p| String::from_utf8_lossy(p).into_owned());
        }
    }
    None
}

#[test]
fn kafka_serves_plaintext_scram_and_tls_and_keeps_its_log_over_a_kill() {
    let mut broker = Kafka::start(KafkaOptions {
        scram: Some(Scram {
            username: "alice".into(),
            password: "alice-secret".into(),
        }),
        tls: true,
        ..KafkaOptions::default()
    })
    .unwrap();
    let l = broker.listeners().clone();
    let ca = broker.tls().unwrap().ca_pem.display().to_string();

    let mut plain = ClientConfig::new();
    plain.set("bootstrap.servers", &l.plaintext);
    send(&plain, "kit_plain", "p1").unwrap();
    assert_eq!(
        first_payload(&plain, "kit_plain", "g1").as_deref(),
        Some("p1")
    );

    let mut sasl_ssl = ClientConfig::new();
    sasl_ssl
        .set("bootstrap.servers", l.sasl_ssl.as_deref().unwrap())
        .set("security.protocol", "SASL_SSL")
        .set("sasl.mechanism", "SCRAM-SHA-512")
        .set("sasl.username", "alice")
        .set("sasl.password", "alice-secret")
        .set("ssl.ca.location", &ca);
    send(&sasl_ssl, "kit_sasl_ssl", "s1").unwrap();
    assert_eq!(
        first_payload(&sasl_ssl, "kit_sasl_ssl", "g2").as_deref(),
        Some("s1")
    );

    let mut wrong = ClientConfig::new();
    wrong
        .set("bootstrap.servers", l.sasl_plaintext.as_deref().unwrap())
        .set("security.protocol", "SASL_PLAINTEXT")
        .set("sasl.mechanism", "SCRAM-SHA-256")
        .set("sasl.username", "alice")
        .set("sasl.password", "wrong")
        .set("message.timeout.ms", "5000");
    assert!(
        send(&wrong, "kit_plain", "x").is_err(),
        "a wrong SCRAM password was let in"
    );

    // SIGKILL and restart on the same log directory: the record is there.
    broker.kill();
    broker.restart().unwrap();
    assert_eq!(
        first_payload(&plain, "kit_plain", "g3").as_deref(),
        Some("p1")
    );
}

#[test]
fn a_missing_install_names_the_make_target() {
    let empty = tempdir();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_logpipe-servers"))
        .args(["up", "kafka", "--port", "1"])
        .env("LOGPIPE_SERVERS_DIR", &empty)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("make kafka-install"), "{err}");
    let _ = std::fs::remove_dir_all(&empty);
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("kit-empty-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn a_taken_port_is_refused_before_any_jvm_starts() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let err = Cassandra::start(CassandraOptions {
        port: Some(port),
        ..CassandraOptions::default()
    })
    .err()
    .expect("a node on a taken port");
    assert!(err.to_string().contains(&format!("port {port}")), "{err}");
    let err = Kafka::start(KafkaOptions {
        port: Some(port),
        ..KafkaOptions::default()
    })
    .err()
    .expect("a broker on a taken port");
    assert!(err.to_string().contains("taken"), "{err}");
}
