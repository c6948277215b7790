//! Kafka helpers for the integration tests.
//!
//! - Brokers: [`mock_cluster`] (librdkafka's mock cluster, in process),
//!   [`start_logpipe_kafka`] (`logpipe kafka`, a process a test can kill),
//!   and the real Apache Kafka and Cassandra of `logpipe-testkit`:
//!   [`real_pair`] gives a test the shared ones with topics and a keyspace
//!   of its own (a [`Scope`]); a test that kills its broker or needs
//!   SASL/TLS listeners starts its own `Kafka`.
//! - Names: a [`Scope`] is the topic of each log kind and the keyspace a
//!   test works in: the pipeline's defaults ([`Scope::default`], for the
//!   mock cluster and the embedded CQL node), or names of its own
//!   ([`Scope::unique`]) on servers other tests share.
//! - Records: [`produce`] (and [`produce_in`], in a scope) sends generated
//!   records (bad ones among them) and returns the [`Truth`]: what the
//!   pipeline must make of each Kafka place (topic, partition, offset);
//!   [`learn_runs`] learns it for records something else produced.
//! - Reading back: [`read_topic`], [`end_offsets`], [`committed_offsets`];
//!   [`read_stored`] reads the four tables into a [`Stored`], which
//!   [`assert_stored_matches`] compares with the truth;
//!   [`assert_committed_is_stored`] and [`assert_committed_to_end`] check
//!   the offsets a consumer group committed against both.
//! - The mapping: [`esm_args`] / [`esm_args_in`] build a `logpipe esm`
//!   command line that [`super::run_logpipe`] or [`super::spawn_logpipe`]
//!   runs.
//!
//! Every helper panics with a message saying what was expected, so a test
//! reads as a list of steps.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use log_generator::{
    Expected, Generator, GeneratorConfig, Output as Travel, ProduceConfig, TopicNames,
};
use logpipe_core::LogKind;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use scylla::client::session::Session;
use scylla::value::{CqlValue, Row};

use logpipe_testkit::{collect_lines, Kafka, KafkaOptions, KillOnDrop};

use super::spawn_logpipe;

/// A record's place: topic, partition, offset.
pub type Place = (String, i32, i64);

// ---------------------------------------------------------------------------
// Brokers

/// An in-process Kafka cluster (librdkafka's mock cluster, one broker) with
/// the three default topics of `partitions` partitions each, and its
/// bootstrap address. The cluster lives as long as the returned value.
pub fn mock_cluster(partitions: i32) -> (MockCluster<'static, DefaultProducerContext>, String) {
    let cluster = MockCluster::new(1).expect("the mock cluster starts");
    for kind in LogKind::ALL {
        cluster
            .create_topic(kind.default_topic(), partitions, 1)
            .expect("the mock cluster creates a topic");
    }
    let bootstrap = cluster.bootstrap_servers();
    (cluster, bootstrap)
}

/// Starts `logpipe kafka` (the embedded broker as its own process, the
/// three topics with `partitions` partitions) on a free loopback port and
/// waits for its "listening" line; returns the process (killed on drop, or
/// earlier with [`KillOnDrop::kill_now`]) and its address.
pub fn start_logpipe_kafka(partitions: i32) -> (KillOnDrop, String) {
    use std::io::BufRead as _;
    let partitions = partitions.to_string();
    let mut kafka = spawn_logpipe(&[
        "kafka",
        "--listen",
        "127.0.0.1:0",
        "--partitions",
        &partitions,
    ]);
    // Its stderr is not read: keep the pipe from filling.
    let (_stderr, _) = collect_lines(kafka.child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufReader::new(kafka.child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("logpipe kafka prints its address");
    let addr = line
        .trim()
        .strip_prefix("Kafka broker listening on ")
        .unwrap_or_else(|| panic!("logpipe kafka did not report its address: {line:?}"))
        .to_owned();
    (kafka, addr)
}

/// Starts an Apache Kafka of the test's own with `options` (a test that
/// kills or replaces its broker), on a blocking thread: the start takes
/// seconds. Panics with the server's log tail when it does not start.
pub async fn own_kafka(options: KafkaOptions) -> Kafka {
    tokio::task::spawn_blocking(move || Kafka::start(options).unwrap_or_else(|e| panic!("{e}")))
        .await
        .expect("the starting thread")
}

/// The shared real Kafka and Cassandra of this test run
/// (`LOGPIPE_TEST_KAFKA` / `LOGPIPE_TEST_CASSANDRA` under `make test`,
/// else started once for this test binary), with a [`Scope`] of the
/// test's own: its keyspace has the schema; its topics are created with
/// `partitions` partitions (`logpipe topics create`) unless `partitions`
/// is 0. Returns the scope, the Kafka bootstrap and the CQL address.
/// Panics (naming `make servers`) when the servers cannot start: a test
/// that needs them never skips.
pub async fn real_pair(prefix: &str, partitions: i32) -> (Scope, String, String) {
    let (kafka, cassandra) = tokio::task::spawn_blocking(|| {
        // Both JVMs start at once when this binary starts its own.
        let kafka = std::thread::spawn(logpipe_testkit::shared_kafka);
        let cassandra = logpipe_testkit::shared_cassandra();
        (kafka.join().expect("the Kafka start"), cassandra)
    })
    .await
    .expect("starting the shared servers");
    let scope = Scope::unique(prefix);
    apply_schema(cassandra, &scope.keyspace).await;
    if partitions > 0 {
        let b = kafka.to_owned();
        let s = scope.clone();
        tokio::task::spawn_blocking(move || create_topics_in(&b, &s, partitions))
            .await
            .unwrap();
    }
    (scope, kafka.to_owned(), cassandra.to_owned())
}

/// Applies the schema (`cassandra/schema.cql`) to `keyspace` on the CQL
/// server at `addr`.
pub async fn apply_schema(addr: &str, keyspace: &str) {
    let mut config = logpipe_core::SinkConfig::local(addr);
    // DDL on a busy Cassandra takes longer than a write.
    config.request_timeout = Duration::from_secs(60);
    let session = logpipe_core::sink::connect_session(&config)
        .await
        .unwrap_or_else(|e| panic!("connecting to Cassandra at {addr}: {e}"));
    logpipe_core::schema::apply(&session, keyspace, None)
        .await
        .unwrap_or_else(|e| panic!("applying the schema to {keyspace} at {addr}: {e}"));
}

/// Creates the scope's topics at `bootstrap` with `logpipe topics create`
/// (`extra`: TLS/SASL flags); returns its stdout.
pub fn create_topics_with(
    bootstrap: &str,
    scope: &Scope,
    partitions: i32,
    extra: &[&str],
) -> String {
    let mut args = super::args(&[
        "topics",
        "create",
        "--bootstrap",
        bootstrap,
        "--partitions",
        &partitions.to_string(),
    ]);
    args.extend(scope.topic_flags());
    args.extend(super::args(extra));
    let out = super::logpipe(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "logpipe topics create: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// [`create_topics_with`], plaintext.
pub fn create_topics_in(bootstrap: &str, scope: &Scope, partitions: i32) -> String {
    create_topics_with(bootstrap, scope, partitions, &[])
}

// ---------------------------------------------------------------------------
// Names

/// Where a test's records go and its rows land: the topic of each log kind
/// and the keyspace. Consumer groups are named after it too
/// ([`Scope::group`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// A name no other test of the run uses (`default` for the defaults).
    pub name: String,
    topics: [String; 3],
    pub keyspace: String,
}

impl Default for Scope {
    /// The pipeline's default topics and keyspace (`user_db`).
    fn default() -> Self {
        Scope {
            name: "default".into(),
            topics: LogKind::ALL.map(|k| k.default_topic().to_owned()),
            keyspace: logpipe_core::topics::DEFAULT_KEYSPACE.to_owned(),
        }
    }
}

impl Scope {
    /// Topics `<name>_auth`, `<name>_session`, `<name>_activity` and
    /// keyspace `<name>`, for a `name` no other test of this run uses.
    pub fn unique(prefix: &str) -> Scope {
        let name = logpipe_testkit::unique_name(prefix);
        Scope {
            topics: LogKind::ALL.map(|k| format!("{name}_{}", short(k))),
            keyspace: name.clone(),
            name,
        }
    }

    /// The default topics, with a keyspace of its own (for `logpipe demo`,
    /// which always uses the default topics).
    pub fn default_topics_in(keyspace: &str) -> Scope {
        Scope {
            name: keyspace.to_owned(),
            keyspace: keyspace.to_owned(),
            ..Scope::default()
        }
    }

    /// The topic of `kind`.
    pub fn topic(&self, kind: LogKind) -> &str {
        &self.topics[LogKind::ALL.iter().position(|k| *k == kind).unwrap()]
    }

    /// The kind whose topic `topic` is.
    pub fn kind_of(&self, topic: &str) -> Option<LogKind> {
        LogKind::ALL.into_iter().find(|k| self.topic(*k) == topic)
    }

    /// A consumer group prefix of this scope (`logpipe esm --group-id`).
    pub fn group(&self, label: &str) -> String {
        format!("{}-{label}", self.name)
    }

    /// The generator's topic names.
    pub fn topic_names(&self) -> TopicNames {
        let mut names = TopicNames::default();
        for kind in LogKind::ALL {
            names.set(kind, self.topic(kind));
        }
        names
    }

    /// `--topic-name KIND=TOPIC` for each kind whose topic is not the
    /// default (`logpipe esm`, `generate`, `topics create`).
    pub fn topic_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        for kind in LogKind::ALL {
            if self.topic(kind) != kind.default_topic() {
                flags.push("--topic-name".to_owned());
                flags.push(format!("{}={}", short(kind), self.topic(kind)));
            }
        }
        flags
    }
}

/// `auth`, `session`, `activity`.
fn short(kind: LogKind) -> &'static str {
    match kind {
        LogKind::Auth => "auth",
        LogKind::Session => "session",
        LogKind::Activity => "activity",
    }
}

// ---------------------------------------------------------------------------
// Records and what the pipeline must make of them

/// What the pipeline must store for each produced record: the valid ones
/// with their parsed value, the bad ones with their reason.
#[derive(Debug, Default, Clone)]
pub struct Truth {
    pub valid: BTreeMap<Place, serde_json::Value>,
    pub invalid: BTreeMap<Place, String>,
    /// The topics the places are in.
    pub scope: Scope,
}

impl Truth {
    /// How many records: valid and bad.
    pub fn len(&self) -> usize {
        self.valid.len() + self.invalid.len()
    }

    /// Every place, valid and bad.
    pub fn places(&self) -> impl Iterator<Item = &Place> {
        self.valid.keys().chain(self.invalid.keys())
    }
}

/// One run of the generator: records a topic, seed, bad ratio.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub per_topic: u64,
    pub seed: u64,
    pub invalid_ratio: f64,
}

impl Run {
    /// `per_topic` records a topic from `seed`, a fraction `invalid_ratio`
    /// of them bad.
    pub const fn new(per_topic: u64, seed: u64, invalid_ratio: f64) -> Run {
        Run {
            per_topic,
            seed,
            invalid_ratio,
        }
    }
}

/// Reads the records of each of `kinds`' topics of the scope back and
/// learns, from the generator's own record stream for each of `runs` (same
/// seed and ratio, default settings otherwise), what the pipeline must make
/// of each place; the runs produced to the topics one after the other.
/// Panics when a record was not generated or one generated record is not
/// in the topics. For records produced by someone else (`logpipe
/// generate`, `logpipe demo`) or by several runs. On a blocking thread, as
/// every helper here that talks to Kafka from an async test.
pub async fn learn_runs(scope: &Scope, bootstrap: &str, kinds: &[LogKind], runs: &[Run]) -> Truth {
    let (scope, bootstrap, kinds, runs) = (
        scope.clone(),
        bootstrap.to_owned(),
        kinds.to_vec(),
        runs.to_vec(),
    );
    tokio::task::spawn_blocking(move || learn_blocking(&scope, &bootstrap, &kinds, &runs))
        .await
        .expect("the reading thread")
}

/// [`learn_runs`] on the caller's thread.
fn learn_blocking(scope: &Scope, bootstrap: &str, kinds: &[LogKind], runs: &[Run]) -> Truth {
    type Sent = (String, Vec<u8>, Vec<u8>);
    let mut expected: HashMap<Sent, Vec<Expected>> = HashMap::new();
    let mut per_topic = 0;
    for run in runs {
        per_topic += run.per_topic;
        let generator = Generator::new(GeneratorConfig {
            seed: run.seed,
            invalid_ratio: run.invalid_ratio,
            kinds: kinds.to_vec(),
            topics: scope.topic_names(),
            output: Travel::Kafka,
            ..GeneratorConfig::default()
        })
        .unwrap();
        for r in generator.take((run.per_topic * kinds.len() as u64) as usize) {
            let value = r.value.bytes().map(<[u8]>::to_vec).unwrap_or_default();
            expected
                .entry((r.topic.to_string(), r.key, value))
                .or_default()
                .push(r.expected);
        }
    }

    let mut truth = Truth {
        scope: scope.clone(),
        ..Truth::default()
    };
    for kind in kinds {
        let topic = scope.topic(*kind);
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
        per_topic * kinds.len() as u64,
        "every record read back"
    );
    assert!(
        expected.values().all(Vec::is_empty),
        "generated records missing from the topics"
    );
    truth
}

/// Produces `run` to each of `kinds`' default topics at `bootstrap`, then
/// [`learn_runs`] what the pipeline must make of each record; on a blocking
/// thread, for async tests (an in-process CQL node on the test's runtime
/// keeps serving meanwhile). The topics must be empty before: they are read
/// from the beginning.
pub async fn produce(bootstrap: &str, kinds: &[LogKind], run: Run) -> Truth {
    produce_in(&Scope::default(), bootstrap, kinds, run).await
}

/// [`produce`] to the scope's topics.
pub async fn produce_in(scope: &Scope, bootstrap: &str, kinds: &[LogKind], run: Run) -> Truth {
    let bootstrap = bootstrap.to_owned();
    let kinds = kinds.to_vec();
    let scope = scope.clone();
    tokio::task::spawn_blocking(move || {
        produce_blocking(&scope, &bootstrap, &kinds, run);
        learn_blocking(&scope, &bootstrap, &kinds, &[run])
    })
    .await
    .expect("the producing thread")
}

/// Produces `per_topic` generated records (seed `seed`, all valid) to each
/// of `kinds`' topics without learning their places: for topics a test
/// only counts (records after a timestamp, say).
pub async fn produce_only(bootstrap: &str, kinds: &[LogKind], per_topic: u64, seed: u64) {
    let run = Run::new(per_topic, seed, 0.0);
    produce_only_in(&Scope::default(), bootstrap, kinds, run).await;
}

/// Produces `run` to each of `kinds`' topics of the scope, without
/// learning the records; on a blocking thread.
pub async fn produce_only_in(scope: &Scope, bootstrap: &str, kinds: &[LogKind], run: Run) {
    let (scope, bootstrap, kinds) = (scope.clone(), bootstrap.to_owned(), kinds.to_vec());
    tokio::task::spawn_blocking(move || produce_blocking(&scope, &bootstrap, &kinds, run))
        .await
        .expect("the producing thread");
}

/// [`produce_only_in`] on the caller's thread.
fn produce_blocking(scope: &Scope, bootstrap: &str, kinds: &[LogKind], run: Run) {
    let mut config = ProduceConfig::new(bootstrap, run.per_topic, run.seed, run.invalid_ratio);
    config.generator.kinds = kinds.to_vec();
    config.generator.topics = scope.topic_names();
    let summary = log_generator::produce(&config).expect("the generator produces");
    assert!(summary.is_complete(), "failed deliveries: {summary:?}");
    assert_eq!(summary.produced, run.per_topic * kinds.len() as u64);
}

// ---------------------------------------------------------------------------
// Reading topics and offsets back

/// A consumer that only reads (never commits), for the helpers below.
fn kafka_client(bootstrap: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "logpipe-test-reader")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap()
}

/// The end offset (high watermark) of each partition of `topic`.
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
    read_messages(bootstrap, topic, count, |m| {
        (
            (topic.to_owned(), m.partition(), m.offset()),
            m.key().unwrap_or_default().to_vec(),
            m.payload().unwrap_or_default().to_vec(),
        )
    })
}

/// The first `count` records of `topic`, every partition from its start,
/// each as `read` makes it of the message, in the order they came.
pub fn read_messages<T>(
    bootstrap: &str,
    topic: &str,
    count: usize,
    mut read: impl FnMut(&rdkafka::message::BorrowedMessage<'_>) -> T,
) -> Vec<T> {
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
            out.push(read(&m.unwrap()));
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

/// What consumer groups `group_prefix-<function>` have committed on each
/// of `kinds`' topics of the scope, by topic.
pub fn committed_in(
    scope: &Scope,
    bootstrap: &str,
    group_prefix: &str,
    kinds: &[LogKind],
) -> BTreeMap<String, BTreeMap<i32, i64>> {
    kinds
        .iter()
        .map(|kind| {
            let topic = scope.topic(*kind);
            let group = format!("{group_prefix}-{}", kind.function_name());
            (
                topic.to_owned(),
                committed_offsets(bootstrap, &group, topic),
            )
        })
        .collect()
}

/// Asserts that every record below a `committed` offset (as
/// [`committed_in`] read them) has its row or dead letter in `stored`:
/// nothing was acknowledged before it was stored. Read the commits
/// *before* the tables when the mapping still runs. Returns how many
/// records the commits cover.
pub fn assert_is_stored(committed: &BTreeMap<String, BTreeMap<i32, i64>>, stored: &Stored) -> i64 {
    let mut covered = 0;
    for (topic, offsets) in committed {
        for (partition, next) in offsets {
            covered += next;
            for offset in 0..*next {
                let place = (topic.clone(), *partition, offset);
                assert!(
                    stored.contains(&place),
                    "{place:?} is committed but not stored"
                );
            }
        }
    }
    covered
}

/// Asserts that every offset consumer group `group_prefix-<function>`
/// committed on each of `kinds`' topics is stored: every record below a
/// committed offset has its row or dead letter (nothing was acknowledged
/// before it was stored). Returns how many records the commits cover, and
/// whether they reach the end of every topic. (The mapping must be
/// stopped, or paused, for the answer to hold still.)
pub fn assert_committed_is_stored(
    bootstrap: &str,
    group_prefix: &str,
    kinds: &[LogKind],
    stored: &Stored,
) -> (i64, bool) {
    assert_committed_is_stored_in(&Scope::default(), bootstrap, group_prefix, kinds, stored)
}

/// [`assert_committed_is_stored`] on the scope's topics.
pub fn assert_committed_is_stored_in(
    scope: &Scope,
    bootstrap: &str,
    group_prefix: &str,
    kinds: &[LogKind],
    stored: &Stored,
) -> (i64, bool) {
    let committed = committed_in(scope, bootstrap, group_prefix, kinds);
    let covered = assert_is_stored(&committed, stored);
    let to_the_end = committed
        .iter()
        .all(|(topic, offsets)| *offsets == end_offsets(bootstrap, topic));
    (covered, to_the_end)
}

/// Asserts that consumer group `group_prefix-<function>` has committed,
/// on each topic of the truth's records, one past the last record of every
/// partition (the records' own places).
pub fn assert_committed_to_end(bootstrap: &str, group_prefix: &str, truth: &Truth) {
    for kind in LogKind::ALL {
        let topic = truth.scope.topic(kind);
        let ends = ends_of(truth.places().cloned(), topic);
        if ends.is_empty() {
            continue;
        }
        let group = format!("{group_prefix}-{}", kind.function_name());
        assert_eq!(
            committed_offsets(bootstrap, &group, topic),
            ends,
            "{topic}: {group} committed to the end"
        );
    }
}

/// Whether consumer group `group_prefix-<function>` has committed one
/// past the last record of every partition holding one of the truth's
/// records.
pub fn committed_to_end(bootstrap: &str, group_prefix: &str, truth: &Truth) -> bool {
    LogKind::ALL.into_iter().all(|kind| {
        let topic = truth.scope.topic(kind);
        let ends = ends_of(truth.places().cloned(), topic);
        let group = format!("{group_prefix}-{}", kind.function_name());
        ends.is_empty() || committed_offsets(bootstrap, &group, topic) == ends
    })
}

/// Waits, at most three minutes and on a blocking thread, until
/// [`committed_to_end`] holds; `what` names the wait when it times out.
/// Gives the truth back.
pub async fn wait_committed_to_end(
    what: &'static str,
    bootstrap: &str,
    group_prefix: &str,
    truth: Truth,
) -> Truth {
    let (bootstrap, group) = (bootstrap.to_owned(), group_prefix.to_owned());
    tokio::task::spawn_blocking(move || {
        logpipe_testkit::wait_until(what, Duration::from_secs(180), || {
            std::thread::sleep(Duration::from_millis(500));
            committed_to_end(&bootstrap, &group, &truth)
        });
        truth
    })
    .await
    .expect("the waiting thread")
}

// ---------------------------------------------------------------------------
// What the tables hold

/// What the four tables hold, keyed by the Kafka place each row came from:
/// log rows by `source_partition`/`source_offset` with their id column,
/// dead letters by topic, partition and offset with their reason.
#[derive(Debug, Default, PartialEq)]
pub struct Stored {
    pub rows: BTreeMap<Place, String>,
    pub dead_letters: BTreeMap<Place, String>,
}

impl Stored {
    /// Whether the record at `place` left a row or a dead letter.
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

/// Reads every row of the four tables of the node at `addr`, keyspace
/// `user_db`, default topics (keep tests under the 4,999 rows a full scan
/// of the embedded node returns).
pub async fn read_stored(addr: &str) -> Stored {
    read_stored_in(addr, &Scope::default()).await
}

/// One log row as the tests know it: its kind, the place of the record it
/// came from (in the scope's topics) and its id.
type LogRowPlace = (LogKind, Place, String);

/// Every log row of the scope's keyspace, with the place it came from.
async fn log_row_places(session: &Session, scope: &Scope) -> Vec<LogRowPlace> {
    let mut out = Vec::new();
    for kind in LogKind::ALL {
        let cql = format!(
            "SELECT source_partition, source_offset, {} FROM {}.{}",
            id_column(kind),
            scope.keyspace,
            kind.table()
        );
        let result = session.query_unpaged(cql, &[]).await.unwrap();
        for row in result.into_rows_result().unwrap().rows::<Row>().unwrap() {
            let c = row.unwrap().columns;
            let (Some(CqlValue::Int(p)), Some(CqlValue::BigInt(o)), Some(CqlValue::Uuid(id))) =
                (&c[0], &c[1], &c[2])
            else {
                panic!("unexpected row {c:?}");
            };
            let place = (scope.topic(kind).to_owned(), *p, *o);
            out.push((kind, place, id.hyphenated().to_string()));
        }
    }
    out
}

async fn session_at(addr: &str) -> Session {
    logpipe_core::sink::connect_session(&logpipe_core::SinkConfig::local(addr))
        .await
        .unwrap()
}

/// [`read_stored`] from the scope's keyspace; rows are placed in the
/// scope's topics.
pub async fn read_stored_in(addr: &str, scope: &Scope) -> Stored {
    let session = session_at(addr).await;
    let mut stored = Stored::default();
    for (_, place, id) in log_row_places(&session, scope).await {
        assert!(
            stored.rows.insert(place.clone(), id).is_none(),
            "two rows from {place:?}"
        );
    }
    let rows = session
        .query_unpaged(
            format!(
                "SELECT topic, partition, offset, reason FROM {}.dead_letters",
                scope.keyspace
            ),
            &[],
        )
        .await
        .unwrap();
    let rows = rows.into_rows_result().unwrap();
    for row in rows.rows::<Row>().unwrap() {
        let c = row.unwrap().columns;
        let (
            Some(CqlValue::Text(topic)),
            Some(CqlValue::Int(partition)),
            Some(CqlValue::BigInt(offset)),
            Some(CqlValue::Text(reason)),
        ) = (&c[0], &c[1], &c[2], &c[3])
        else {
            panic!("unexpected dead letter {c:?}");
        };
        stored
            .dead_letters
            .insert((topic.clone(), *partition, *offset), reason.clone());
    }
    stored
}

/// A log row as [`read_row_keys`] knows it: table, id, and the place of
/// the record it came from.
pub type RowKey = (String, String, Place);

/// Every log row of the scope's keyspace, known by table, id and place:
/// for tables where two records may have left rows at one place (a broker
/// that lost its log hands out the same offsets again).
pub async fn read_row_keys(addr: &str, scope: &Scope) -> std::collections::BTreeSet<RowKey> {
    let session = session_at(addr).await;
    log_row_places(&session, scope)
        .await
        .into_iter()
        .map(|(kind, place, id)| (kind.table().to_owned(), id, place))
        .collect()
}

/// The rows the valid records of `truth` must make, as [`read_row_keys`]
/// knows them.
pub fn row_keys_of(truth: &Truth) -> std::collections::BTreeSet<RowKey> {
    truth
        .valid
        .iter()
        .map(|(place, json)| {
            let kind = truth.scope.kind_of(&place.0).unwrap();
            let id = json[id_column(kind)]
                .as_str()
                .unwrap()
                .trim()
                .to_lowercase();
            (kind.table().to_owned(), id, place.clone())
        })
        .collect()
}

/// Asserts that the rows are exactly the valid records (each row's id is
/// the id in the record it came from) and the dead letters exactly the bad
/// ones with their reasons.
pub fn assert_stored_matches(stored: &Stored, truth: &Truth) {
    let mut missing = Vec::new();
    for (place, json) in &truth.valid {
        let kind = truth.scope.kind_of(&place.0).unwrap();
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

/// An in-process CQL node with the schema applied, on a free loopback
/// port, and its address. The node serves as long as the returned value
/// lives (on the test's runtime: use a multi-thread runtime).
pub async fn cql_node() -> (logpipe_local::embedded::EmbeddedCassandra, String) {
    cql_node_on(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await
}

/// [`cql_node`] on a given address: for a node that starts after its
/// clients were told where it will be (a storage outage that ends).
pub async fn cql_node_on(
    listen: std::net::SocketAddr,
) -> (logpipe_local::embedded::EmbeddedCassandra, String) {
    let node = logpipe_local::embedded::EmbeddedCassandra::start(listen)
        .unwrap_or_else(|e| panic!("the CQL node cannot listen on {listen}: {e}"));
    let addr = node.addr().to_string();
    let session = logpipe_core::sink::connect_session(&logpipe_core::SinkConfig::local(&addr))
        .await
        .unwrap();
    logpipe_core::schema::apply(&Arc::new(session), "user_db", None)
        .await
        .unwrap();
    (node, addr)
}

// ---------------------------------------------------------------------------
// Events

/// The keys of a JSON object (panics on anything else).
pub fn key_set(v: &serde_json::Value) -> std::collections::BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// Asserts that `event` (an event's bytes, as sent to a function or
/// written to the on-failure destination) decodes with `aws_lambda_events`
/// and has the shape of `fixtures/events/<fixture>.json`: the same
/// top-level keys, and every record the keys of the fixture's records with
/// numbers where it has numbers. Returns the event as JSON.
pub fn assert_fixture_shape(event: &[u8], fixture: &str) -> serde_json::Value {
    let decoded: Result<aws_lambda_events::event::kafka::KafkaEvent, _> =
        serde_json::from_slice(event);
    if let Err(e) = decoded {
        panic!(
            "the event does not decode with aws_lambda_events: {e}: {}",
            String::from_utf8_lossy(event)
        );
    }
    let want: serde_json::Value = serde_json::from_slice(
        &std::fs::read(super::root().join(format!("fixtures/events/{fixture}.json"))).unwrap(),
    )
    .unwrap();
    let want_record = key_set(
        &want["records"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()[0],
    );
    let got: serde_json::Value = serde_json::from_slice(event).unwrap();
    assert_eq!(key_set(&got), key_set(&want), "top-level keys as {fixture}");
    for records in got["records"].as_object().unwrap().values() {
        for r in records.as_array().unwrap() {
            assert_eq!(key_set(r), want_record, "record keys as {fixture}: {r}");
            for number in ["partition", "offset", "timestamp"] {
                assert!(r[number].is_i64(), "{number} is an integer: {r}");
            }
        }
    }
    got
}

// ---------------------------------------------------------------------------
// The mapping

/// A line the mapping prints on stderr for each batch it resolved.
pub fn is_batch_line(line: &str) -> bool {
    line.contains(" records, ")
}

/// Spawns `logpipe esm` with `args` and collects its stderr lines as they
/// come (see [`logpipe_testkit::wait_for_lines`]).
pub fn spawn_esm(args: &[String]) -> (KillOnDrop, Arc<Mutex<Vec<String>>>) {
    let mut esm = spawn_logpipe(args);
    let (lines, _) = collect_lines(esm.child.stderr.take().expect("stderr is piped"));
    (esm, lines)
}

/// The command line of a `logpipe esm` that reads every topic at
/// `bootstrap` from the beginning (`TRIM_HORIZON`) in consumer groups
/// `group-<function>` and stores through `cassandra` (`HOST:PORT`,
/// `embedded` or `none`); `extra` flags are appended (`--until-idle 2s
/// --json` to run it to the end, `--batch-size`, `--endpoint-url`, …).
pub fn esm_args(bootstrap: &str, cassandra: &str, group: &str, extra: &[&str]) -> Vec<String> {
    esm_args_in(&Scope::default(), bootstrap, cassandra, group, extra)
}

/// [`esm_args`] for the scope's topics (`--topic-name`) and keyspace
/// (`--keyspace`).
pub fn esm_args_in(
    scope: &Scope,
    bootstrap: &str,
    cassandra: &str,
    group: &str,
    extra: &[&str],
) -> Vec<String> {
    let mut args = super::args(&[
        "esm",
        "--bootstrap",
        bootstrap,
        "--cassandra",
        cassandra,
        "--starting-position",
        "TRIM_HORIZON",
        "--group-id",
        group,
        "--keyspace",
        &scope.keyspace,
    ]);
    args.extend(scope.topic_flags());
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// The state of consumer group `group` (`Stable`, `PreparingRebalance`,
/// `Empty`, …) and how many members it has.
pub fn group_state(bootstrap: &str, group: &str) -> (String, usize) {
    let client = kafka_client(bootstrap);
    let list = client
        .fetch_group_list(Some(group), Duration::from_secs(10))
        .unwrap();
    list.groups()
        .iter()
        .find(|g| g.name() == group)
        .map(|g| (g.state().to_owned(), g.members().len()))
        .unwrap_or_default()
}
