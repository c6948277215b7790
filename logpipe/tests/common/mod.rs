//! Helpers shared by the integration tests: running the `logpipe` binary,
//! a `logpipe cassandra` node, and comparing table dumps with the goldens.
#![allow(dead_code)]

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn logpipe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_logpipe"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("logpipe runs")
}

pub const TABLES: [&str; 4] = ["auth_logs", "session_logs", "activity_logs", "dead_letters"];

pub fn fixture_names() -> Vec<String> {
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root().join("fixtures/events/expected.json")).unwrap(),
    )
    .unwrap();
    expected.as_object().unwrap().keys().cloned().collect()
}

pub fn read_rows(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn assert_dump_matches_golden(dump: &Path, name: &str) {
    for table in TABLES {
        let got = read_rows(&dump.join(format!("{table}.jsonl")));
        let want = read_rows(&root().join(format!("fixtures/golden/{name}/{table}.jsonl")));
        assert_eq!(got.len(), want.len(), "{name}/{table}: row count");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "{name}/{table}: row {i} differs");
        }
    }
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `logpipe cassandra` on a free port and waits until it serves.
pub fn start_cql_node() -> (Child, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut node = Command::new(env!("CARGO_BIN_EXE_logpipe"))
        .args(["cassandra", "--listen", &addr])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("logpipe cassandra starts");
    let mut line = String::new();
    std::io::BufReader::new(node.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.contains(&addr),
        "node did not report its address: {line:?}"
    );
    (node, addr)
}

/// Dumps the four tables of a running node into `dir`.
pub fn dump_node(addr: &str, dir: &Path) {
    let empty = dir.join("empty-event.json");
    std::fs::write(&empty, r#"{"eventSource":"aws:kafka","records":{}}"#).unwrap();
    let out = logpipe(&[
        "replay",
        "--cassandra",
        addr,
        "--dump",
        dir.to_str().unwrap(),
        empty.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------
// Kafka: generated records, what the pipeline must make of them, and what it
// stored. Used by the event source mapping, demo and tansu tests.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use log_generator::{Expected, Generator, GeneratorConfig, Output as Travel, ProduceConfig};
use logpipe_core::LogKind;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

/// A record's place: topic, partition, offset.
pub type Place = (String, i32, i64);

/// A child process killed (and reaped) when dropped. With `group`, the
/// whole process group is sent SIGTERM first.
pub struct Killed {
    pub child: Child,
    group: bool,
}

impl Killed {
    pub fn new(child: Child) -> Self {
        Killed {
            child,
            group: false,
        }
    }

    /// For a child spawned with `process_group(0)`.
    pub fn group(child: Child) -> Self {
        Killed { child, group: true }
    }

    /// SIGKILL now, and wait for it.
    pub fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        if self.group {
            let _ = Command::new("kill")
                .args(["-s", "TERM", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        self.kill_now();
    }
}

/// What the pipeline must store for each produced record: the valid ones
/// with their parsed value, the bad ones with their reason.
#[derive(Debug, Default)]
pub struct Truth {
    pub valid: BTreeMap<Place, serde_json::Value>,
    pub invalid: BTreeMap<Place, String>,
}

impl Truth {
    pub fn len(&self) -> usize {
        self.valid.len() + self.invalid.len()
    }
}

/// Produces `per_topic` generated records to each topic at `bootstrap`,
/// then reads the topics back and learns, from the generator's own record
/// stream (same seed), what the pipeline must make of each offset.
pub fn produce_and_learn(
    bootstrap: &str,
    kinds: &[LogKind],
    per_topic: u64,
    seed: u64,
    invalid_ratio: f64,
) -> Truth {
    let mut config = ProduceConfig::new(bootstrap, per_topic, seed, invalid_ratio);
    config.generator.kinds = kinds.to_vec();
    let summary = log_generator::produce(&config).expect("the generator produces");
    assert!(summary.is_complete(), "failed deliveries: {summary:?}");
    assert_eq!(summary.produced, per_topic * kinds.len() as u64);

    let generator = Generator::new(GeneratorConfig {
        seed,
        invalid_ratio,
        kinds: kinds.to_vec(),
        output: Travel::Kafka,
        ..GeneratorConfig::default()
    })
    .unwrap();
    type Sent = (String, Vec<u8>, Vec<u8>);
    let mut expected: HashMap<Sent, Vec<Expected>> = HashMap::new();
    for r in generator.take((per_topic * kinds.len() as u64) as usize) {
        let value = r.value.bytes().map(<[u8]>::to_vec).unwrap_or_default();
        expected
            .entry((r.topic.to_string(), r.key, value))
            .or_default()
            .push(r.expected);
    }

    let mut truth = Truth::default();
    for kind in kinds {
        let topic = kind.default_topic();
        for (place, key, value) in read_topic(bootstrap, topic, per_topic as usize) {
            let sent = (topic.to_owned(), key, value.clone());
            let outcome = expected
                .get_mut(&sent)
                .and_then(Vec::pop)
                .unwrap_or_else(|| panic!("{place:?} was not generated"));
            match outcome {
                Expected::Valid => {
                    let json = serde_json::from_slice(&value).expect("a valid log is JSON");
                    truth.valid.insert(place, json);
                }
                Expected::Invalid(reason) => {
                    truth.invalid.insert(place, reason.as_str().to_owned());
                }
            }
        }
    }
    assert_eq!(
        truth.len() as u64,
        summary.produced,
        "every record read back"
    );
    assert!(expected.values().all(Vec::is_empty));
    truth
}

fn kafka_client(bootstrap: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "logpipe-test-reader")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap()
}

/// The end offset of each partition of `topic`.
pub fn end_offsets(bootstrap: &str, topic: &str) -> BTreeMap<i32, i64> {
    let client = kafka_client(bootstrap);
    let metadata = client
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut out = BTreeMap::new();
    for p in metadata.topics()[0].partitions() {
        let (_, high) = client
            .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
            .unwrap();
        out.insert(p.id(), high);
    }
    out
}

/// The first `count` records of `topic`: place, key, value (absent values
/// as empty). (Counted rather than read up to the high watermarks: some
/// brokers report those per batch.)
pub fn read_topic(bootstrap: &str, topic: &str, count: usize) -> Vec<(Place, Vec<u8>, Vec<u8>)> {
    let partitions = end_offsets(bootstrap, topic);
    let client = kafka_client(bootstrap);
    let mut tpl = TopicPartitionList::new();
    for p in partitions.keys() {
        tpl.add_partition_offset(topic, *p, Offset::Beginning)
            .unwrap();
    }
    client.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while out.len() < count {
        assert!(
            Instant::now() < deadline,
            "reading {topic} back: {} of {count} records",
            out.len()
        );
        if let Some(m) = client.poll(Duration::from_millis(200)) {
            let m = m.unwrap();
            out.push((
                (topic.to_owned(), m.partition(), m.offset()),
                m.key().unwrap_or_default().to_vec(),
                m.payload().unwrap_or_default().to_vec(),
            ));
        }
    }
    out
}

/// One past the last offset of each partition holding one of `places` of
/// `topic`.
pub fn ends_of(places: impl IntoIterator<Item = Place>, topic: &str) -> BTreeMap<i32, i64> {
    let mut ends = BTreeMap::new();
    for (t, partition, offset) in places {
        if t == topic {
            let end = ends.entry(partition).or_insert(0);
            *end = (offset + 1).max(*end);
        }
    }
    ends
}

/// The offsets consumer group `group` has committed on `topic`.
pub fn committed_offsets(bootstrap: &str, group: &str, topic: &str) -> BTreeMap<i32, i64> {
    let client: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in end_offsets(bootstrap, topic).keys() {
        tpl.add_partition(topic, *p);
    }
    let committed = client
        .committed_offsets(tpl, Duration::from_secs(10))
        .unwrap();
    committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((e.partition(), o)),
            _ => None,
        })
        .collect()
}

/// What the four tables hold, keyed by the Kafka place each row came from:
/// log rows by `source_partition`/`source_offset` with their id column,
/// dead letters by topic, partition and offset with their reason.
#[derive(Debug, Default, PartialEq)]
pub struct Stored {
    pub rows: BTreeMap<Place, String>,
    pub dead_letters: BTreeMap<Place, String>,
}

impl Stored {
    pub fn contains(&self, place: &Place) -> bool {
        self.rows.contains_key(place) || self.dead_letters.contains_key(place)
    }
}

/// The id column a table's rows are checked by.
pub fn id_column(kind: LogKind) -> &'static str {
    match kind {
        LogKind::Session => "session_id",
        _ => "event_id",
    }
}

/// Reads every row of the four tables of the node at `addr` (keep tests
/// under the 4,999 rows a full scan returns there).
pub async fn read_stored(addr: &str) -> Stored {
    use scylla::value::{CqlValue, Row};
    let session = logpipe_core::sink::connect_session(&logpipe_core::SinkConfig::local(addr))
        .await
        .unwrap();
    let text = |v: &Option<CqlValue>| match v {
        Some(CqlValue::Text(s)) => s.clone(),
        Some(CqlValue::Uuid(u)) => u.hyphenated().to_string(),
        other => panic!("unexpected {other:?}"),
    };
    let int = |v: &Option<CqlValue>| match v {
        Some(CqlValue::Int(n)) => i64::from(*n),
        Some(CqlValue::BigInt(n)) => *n,
        other => panic!("unexpected {other:?}"),
    };
    let mut stored = Stored::default();
    for kind in LogKind::ALL {
        let cql = format!(
            "SELECT source_partition, source_offset, {} FROM user_db.{}",
            id_column(kind),
            kind.table()
        );
        let rows = session.query_unpaged(cql, &[]).await.unwrap();
        let rows = rows.into_rows_result().unwrap();
        for row in rows.rows::<Row>().unwrap() {
            let c = row.unwrap().columns;
            let place = (
                kind.default_topic().to_owned(),
                int(&c[0]) as i32,
                int(&c[1]),
            );
            assert!(
                stored.rows.insert(place.clone(), text(&c[2])).is_none(),
                "two rows from {place:?}"
            );
        }
    }
    let rows = session
        .query_unpaged(
            "SELECT topic, partition, offset, reason FROM user_db.dead_letters",
            &[],
        )
        .await
        .unwrap();
    let rows = rows.into_rows_result().unwrap();
    for row in rows.rows::<Row>().unwrap() {
        let c = row.unwrap().columns;
        let place = (text(&c[0]), int(&c[1]) as i32, int(&c[2]));
        stored.dead_letters.insert(place, text(&c[3]));
    }
    stored
}

/// Asserts that the rows are exactly the valid records (each row's id is
/// the id in the record it came from) and the dead letters exactly the bad
/// ones with their reasons.
pub fn assert_stored_matches(stored: &Stored, truth: &Truth) {
    let mut missing = Vec::new();
    for (place, json) in &truth.valid {
        let kind = LogKind::from_default_topic(&place.0).unwrap();
        match stored.rows.get(place) {
            Some(id) => {
                let want = json[id_column(kind)]
                    .as_str()
                    .unwrap()
                    .trim()
                    .to_lowercase();
                assert_eq!(id, &want, "row from {place:?}");
            }
            None => missing.push(place.clone()),
        }
    }
    assert!(missing.is_empty(), "valid records with no row: {missing:?}");
    assert_eq!(
        stored.rows.len(),
        truth.valid.len(),
        "rows that no valid record explains"
    );
    let want: BTreeMap<Place, String> = truth.invalid.clone();
    assert_eq!(stored.dead_letters, want, "dead letters");
}

/// An in-process CQL node with the schema applied, and its address.
pub async fn cql_node() -> (logpipe_core::embedded::EmbeddedCassandra, String) {
    let node = logpipe_core::embedded::EmbeddedCassandra::start(std::net::SocketAddr::from((
        [127, 0, 0, 1],
        0,
    )))
    .unwrap();
    let addr = node.addr().to_string();
    let session = logpipe_core::sink::connect_session(&logpipe_core::SinkConfig::local(&addr))
        .await
        .unwrap();
    logpipe_core::schema::apply(&Arc::new(session), "user_db", None)
        .await
        .unwrap();
    (node, addr)
}

/// Starts `logpipe` with `args`, stdout and stderr piped.
pub fn spawn_logpipe(args: &[&str]) -> Killed {
    Killed::new(
        Command::new(env!("CARGO_BIN_EXE_logpipe"))
            .args(args)
            .current_dir(root())
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("logpipe starts"),
    )
}

/// Collects a child's stderr lines on a thread (so the pipe never fills).
pub fn collect_lines(
    pipe: impl std::io::Read + Send + 'static,
) -> (Arc<Mutex<Vec<String>>>, std::thread::JoinHandle<()>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let handle = std::thread::spawn(move || {
        for line in std::io::BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    (lines, handle)
}

/// Waits for the child to exit, at most `limit`; returns its output.
pub fn wait_output(mut k: Killed, limit: Duration) -> Output {
    use std::io::Read as _;
    let read = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = read(k.child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = read(k.child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = k.child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            k.kill_now();
            let err = stderr.join().unwrap_or_default();
            panic!(
                "logpipe did not finish within {limit:?}; stderr:\n{}",
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}
