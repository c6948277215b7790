//! `logpipe dead-letters` on the real Apache Cassandra and Apache Kafka
//! (the run's shared servers; each test in a keyspace and topics of its
//! own): a known capture with bad records is replayed, then listed,
//! counted, filtered and shown; redriven into an event file whose replay
//! changes nothing; redriven to Kafka, where the records are read back
//! byte for byte, consumed by the event source mapping (good ones land in
//! the log tables once), and redriven again without a record sent or a
//! row stored twice. Also: paging past 5,000 rows, the refusal of
//! `too_large` values, and the exit codes.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use common::kafka::{apply_schema, end_offsets, esm_args_in, read_messages, real_pair, Scope};
use common::real::{
    activity_log, auth_log, count, rows, rows_with_write_times, run_env, session, session_log,
    shared_cassandra, unique_name, uuid_of, DAY0_MS,
};
use common::{args, Finished, TABLES};
use logpipe_core::LogKind;
use logpipe_testkit::free_port;
use rdkafka::Message;
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// One record of a capture the test builds: any bytes as key and value.
#[derive(Debug, Clone)]
struct Raw {
    topic: String,
    partition: i32,
    offset: i64,
    timestamp_ms: Option<i64>,
    key: Option<Vec<u8>>,
    value: Vec<u8>,
    /// The event's `value` text as is, instead of the base64 of `value`.
    value_text: Option<String>,
}

impl Raw {
    fn new(topic: &str, partition: i32, offset: i64, value: impl Into<Vec<u8>>) -> Raw {
        Raw {
            topic: topic.to_owned(),
            partition,
            offset,
            timestamp_ms: Some(DAY0_MS + offset),
            key: Some(format!("key-{topic}-{offset}").into_bytes()),
            value: value.into(),
            value_text: None,
        }
    }

    fn place(&self) -> (String, i32, i64) {
        (self.topic.clone(), self.partition, self.offset)
    }
}

/// Writes an MSK event holding `records` to `dir/name.json`.
fn write_capture(dir: &Path, name: &str, records: &[Raw]) -> PathBuf {
    let mut by_key: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in records {
        by_key
            .entry(format!("{}-{}", r.topic, r.partition))
            .or_default()
            .push(json!({
                "topic": r.topic,
                "partition": r.partition,
                "offset": r.offset,
                "timestamp": r.timestamp_ms.unwrap_or(-1),
                "timestampType": if r.timestamp_ms.is_some() { "CREATE_TIME" } else { "NO_TIMESTAMP_TYPE" },
                "key": r.key.as_ref().map(|k| B64.encode(k)),
                "value": r.value_text.clone().unwrap_or_else(|| B64.encode(&r.value)),
                "headers": [],
            }));
    }
    let event = json!({
        "eventSource": "aws:kafka",
        "eventSourceArn": "arn:aws:kafka:us-east-1:123456789012:cluster/logpipe/00000000-0000-0000-0000-000000000000-1",
        "bootstrapServers": "b-1.logpipe.example.com:9092",
        "records": by_key,
    });
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, event.to_string()).unwrap();
    path
}

/// Runs `logpipe` with `list` (no `LOGPIPE_*` from the environment).
async fn logpipe(list: &[&str]) -> Finished {
    run_env(args(list), vec![]).await
}

/// `logpipe dead-letters` on the keyspace `ks` of the node at `addr`.
struct DeadLetters<'a> {
    addr: &'a str,
    ks: &'a str,
}

impl DeadLetters<'_> {
    /// `logpipe dead-letters SUB --cassandra ADDR --keyspace KS EXTRA...`.
    async fn run(&self, sub: &str, extra: &[&str]) -> Finished {
        let mut a = vec![
            "dead-letters",
            sub,
            "--cassandra",
            self.addr,
            "--keyspace",
            self.ks,
        ];
        a.extend_from_slice(extra);
        logpipe(&a).await
    }

    /// `logpipe dead-letters ... --json` (`extra` after the connection
    /// flags), which must succeed; its JSON.
    async fn json(&self, extra: &[&str]) -> Value {
        let mut a = vec![
            "dead-letters",
            "--cassandra",
            self.addr,
            "--keyspace",
            self.ks,
            "--json",
        ];
        a.extend_from_slice(extra);
        logpipe(&a).await.assert_success().json()
    }

    /// `show` of the dead letter at partition 0, `offset` of `topic`, with
    /// `extra` flags.
    async fn show(&self, topic: &str, offset: &str, extra: &[&str]) -> Finished {
        let place = ["--topic", topic, "--partition", "0", "--offset", offset];
        self.run("show", &[&place[..], extra].concat()).await
    }

    /// `redrive` of the dead letters of `topics`, with `extra` flags.
    async fn redrive(&self, topics: &[&str], extra: &[&str]) -> Finished {
        let mut a: Vec<&str> = topics.iter().flat_map(|t| ["--topic", *t]).collect();
        a.extend_from_slice(extra);
        self.run("redrive", &a).await
    }
}

/// `logpipe replay` of `file` into `ks` with the given `KIND=TOPIC` routes.
async fn replay_routed(addr: &str, ks: &str, routes: &[String], file: &Path) -> Value {
    let mut a = args(&["replay", "--cassandra", addr, "--keyspace", ks, "--json"]);
    for r in routes {
        a.push("--topic".into());
        a.push(r.clone());
    }
    a.push(file.display().to_string());
    run_env(a, vec![]).await.assert_success().json()
}

/// Every row of the four tables of `ks`, with the write time of each cell.
async fn snapshot(
    s: &scylla::client::session::Session,
    ks: &str,
) -> BTreeMap<&'static str, Vec<Value>> {
    let mut out = BTreeMap::new();
    for t in TABLES {
        out.insert(t, rows_with_write_times(s, ks, t).await);
    }
    out
}

/// A record read back from Kafka: partition, offset, timestamp, key,
/// value, headers.
type Consumed = (
    i32,
    i64,
    Option<i64>,
    Vec<u8>,
    Vec<u8>,
    Vec<(String, Vec<u8>)>,
);

/// The first `count` records of `topic`, every partition from the start.
fn consume(bootstrap: &str, topic: &str, count: usize) -> Vec<Consumed> {
    let mut out = read_messages(bootstrap, topic, count, |m| {
        (
            m.partition(),
            m.offset(),
            m.timestamp().to_millis(),
            m.key().unwrap_or_default().to_vec(),
            m.payload().unwrap_or_default().to_vec(),
            logpipe_testkit::headers_of(m),
        )
    });
    out.sort_by_key(|c| (c.0, c.1));
    out
}

/// The capture: bad records of known reasons on the scope's topics, two
/// events (the second replayed without a route for the activity topic,
/// so its records are `wrong_topic`).
struct Capture {
    auth: String,
    session: String,
    activity: String,
    /// Replayed with every route.
    first: Vec<Raw>,
    /// Replayed without the activity route.
    second: Vec<Raw>,
}

impl Capture {
    fn new(scope: &Scope) -> Capture {
        let auth = scope.topic(LogKind::Auth).to_owned();
        let session = scope.topic(LogKind::Session).to_owned();
        let activity = scope.topic(LogKind::Activity).to_owned();
        let t = DAY0_MS;
        let mut missing_success = auth_log(&uuid_of(2), "u2", t, "login");
        missing_success.as_object_mut().unwrap().remove("success");
        let mut missing_type = session_log(&uuid_of(4), "u4", t);
        missing_type.as_object_mut().unwrap().remove("event_type");
        let mut not_base64 = Raw::new(&session, 2, 2003, "not base64!");
        not_base64.value_text = Some("not base64!".into());
        let mut no_timestamp = Raw::new(&auth, 1, 1004, "{not json");
        no_timestamp.timestamp_ms = None;
        no_timestamp.key = None;
        let first = vec![
            Raw::new(
                &auth,
                0,
                1000,
                auth_log(&uuid_of(1), "u1", t, "login").to_string(),
            ),
            Raw::new(&auth, 0, 1001, "[1,2,3]"),
            Raw::new(&auth, 0, 1002, missing_success.to_string()),
            Raw::new(&auth, 0, 1003, vec![0xc3, 0x28]),
            no_timestamp,
            Raw::new(
                &session,
                0,
                2000,
                session_log(&uuid_of(3), "u3", t).to_string(),
            ),
            Raw::new(&session, 0, 2001, missing_type.to_string()),
            Raw::new(
                &session,
                2,
                2002,
                format!("{{\"pad\":\"{}\"}}", "a".repeat(300_000)),
            ),
            not_base64,
        ];
        let second = vec![
            Raw::new(
                &activity,
                0,
                3000,
                activity_log(&uuid_of(5), "u5", t, "/a").to_string(),
            ),
            Raw::new(
                &activity,
                0,
                3001,
                activity_log(&uuid_of(6), "u6", t, "/b").to_string(),
            ),
            Raw::new(&activity, 2, 3002, "\"just a string\""),
        ];
        Capture {
            auth,
            session,
            activity,
            first,
            second,
        }
    }

    fn routes(&self, with_activity: bool) -> Vec<String> {
        let mut r = vec![
            format!("auth={}", self.auth),
            format!("session={}", self.session),
        ];
        if with_activity {
            r.push(format!("activity={}", self.activity));
        }
        r
    }

    /// The record at `place`.
    fn record(&self, topic: &str, partition: i32, offset: i64) -> &Raw {
        self.first
            .iter()
            .chain(&self.second)
            .find(|r| r.place() == (topic.to_owned(), partition, offset))
            .unwrap()
    }

    /// The dead letters of `topics`, in Kafka order.
    fn bad_of(&self, topics: &[&str]) -> Vec<&Raw> {
        let good = [(self.auth.as_str(), 1000), (self.session.as_str(), 2000)];
        let mut out: Vec<&Raw> = self
            .first
            .iter()
            .chain(&self.second)
            .filter(|r| topics.contains(&r.topic.as_str()))
            .filter(|r| !good.contains(&(r.topic.as_str(), r.offset)))
            .collect();
        out.sort_by_key(|r| r.place());
        out
    }
}

/// Replays the capture into the scope's keyspace; checks what was stored.
async fn store_capture(addr: &str, scope: &Scope, dir: &Path) -> Capture {
    let c = Capture::new(scope);
    let ks = &scope.keyspace;
    let first = write_capture(dir, "first", &c.first);
    let s = replay_routed(addr, ks, &c.routes(true), &first).await;
    assert_eq!(
        (s["written"].as_u64(), s["dead_lettered"].as_u64()),
        (Some(2), Some(7)),
        "{s}"
    );
    let second = write_capture(dir, "second", &c.second);
    let s = replay_routed(addr, ks, &c.routes(false), &second).await;
    assert_eq!(s["dead_letter_reasons"], json!({"wrong_topic": 3}), "{s}");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_shown_and_redriven_once() {
    let (scope, bootstrap, addr) = real_pair("dead_letters", 3).await;
    let ks = scope.keyspace.clone();
    let dir = tempfile::tempdir().unwrap();
    let c = store_capture(&addr, &scope, dir.path()).await;
    let (auth, sess, act) = (c.auth.as_str(), c.session.as_str(), c.activity.as_str());
    let dl = DeadLetters {
        addr: &addr,
        ks: &ks,
    };

    // -- list and count -------------------------------------------------
    let all = dl.json(&[]).await;
    assert_eq!(
        all,
        json!({
            "total": 10,
            "by_reason": {"invalid_base64": 1, "invalid_json": 1, "invalid_utf8": 1, "missing_field": 2,
                          "not_an_object": 1, "too_large": 1, "wrong_topic": 3},
            "by_topic": {auth: 4, sess: 3, act: 3},
        })
    );
    let by_topic = dl.json(&["--topic", auth]).await;
    assert_eq!(by_topic["total"], 4);
    assert_eq!(by_topic["by_topic"], json!({auth: 4}));
    let missing = dl.json(&["--reason", "missing_field"]).await;
    assert_eq!(missing["total"], 2);
    assert_eq!(missing["by_topic"], json!({auth: 1, sess: 1}));
    let two_reasons = dl
        .json(&["--reason", "missing_field", "--reason", "wrong_topic"])
        .await;
    assert_eq!(
        two_reasons["by_reason"],
        json!({"missing_field": 2, "wrong_topic": 3})
    );
    let no_ts = dl.json(&["--day", "1970-01-01", "--list"]).await;
    assert_eq!(no_ts["total"], 1);
    let listed = &no_ts["dead_letters"][0];
    assert_eq!(
        (
            &listed["topic"],
            &listed["partition"],
            &listed["offset"],
            &listed["reason"]
        ),
        (
            &json!(auth),
            &json!(1),
            &json!(1004),
            &json!("invalid_json")
        )
    );
    assert_eq!(listed["record_timestamp"], Value::Null);
    // One partition read directly, and an offset range within it.
    let one_partition = dl
        .json(&[
            "--topic",
            auth,
            "--partition",
            "0",
            "--day",
            "2026-11-25",
            "--list",
        ])
        .await;
    let offsets: Vec<&Value> = one_partition["dead_letters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["offset"])
        .collect();
    assert_eq!(offsets, [&json!(1001), &json!(1002), &json!(1003)]);
    let range = dl
        .json(&[
            "--topic",
            auth,
            "--partition",
            "0",
            "--from-offset",
            "1002",
            "--to-offset",
            "1003",
        ])
        .await;
    assert_eq!(
        range["by_reason"],
        json!({"invalid_utf8": 1, "missing_field": 1})
    );
    let none = dl.json(&["--topic", "no_such_topic"]).await;
    assert_eq!(none, json!({"total": 0, "by_reason": {}, "by_topic": {}}));
    // The text table: a header and one line a dead letter, then the counts.
    let text = dl.run("list", &["--topic", sess]).await.assert_success();
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert!(
        lines[0].starts_with("topic") && lines[0].ends_with("detail"),
        "{}",
        text.stdout
    );
    let listed = [
        ("2001", "missing_field"),
        ("2002", "too_large"),
        ("2003", "invalid_base64"),
    ];
    for (line, (offset, reason)) in lines[1..=3].iter().zip(listed) {
        assert!(
            line.contains(offset) && line.contains(reason),
            "{}",
            text.stdout
        );
    }
    assert!(text.stdout.contains("3 dead letter(s)"), "{}", text.stdout);

    // -- show -----------------------------------------------------------
    let shown = dl
        .show(auth, "1001", &["--json"])
        .await
        .assert_success()
        .json();
    assert_eq!(shown["reason"], "not_an_object");
    assert_eq!(shown["value"], "[1,2,3]");
    assert_eq!(shown["value_encoding"], "utf-8");
    assert_eq!(shown["key"], format!("key-{auth}-1001"));
    assert_eq!(shown["day"], "2026-11-25");
    assert_eq!(shown["record_timestamp"], "2026-11-25T14:00:01.001Z");
    let shown = dl
        .show(auth, "1003", &["--day", "2026-11-25"])
        .await
        .assert_success();
    assert!(shown.stdout.contains("invalid_utf8"), "{}", shown.stdout);
    assert!(
        shown.stdout.contains("(base64, 2 bytes)"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stdout.lines().any(|l| l == "wyg="),
        "{}",
        shown.stdout
    );
    let absent = dl.show(auth, "1000", &[]).await;
    assert_eq!(absent.status.code(), Some(1), "{}", absent.stderr);
    assert!(
        absent
            .stderr
            .contains(&format!("no dead letter {auth}/0/1000")),
        "{}",
        absent.stderr
    );

    // -- too_large is refused without --include-truncated ----------------
    let refused_file = dir.path().join("refused.json");
    for dest in [
        vec!["--output", refused_file.to_str().unwrap()],
        vec!["--bootstrap", &bootstrap],
    ] {
        let out = dl.redrive(&[sess], &dest).await;
        assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
        assert!(
            out.stderr.contains("too_large") && out.stderr.contains("--include-truncated"),
            "{}",
            out.stderr
        );
    }
    // invalid_base64 values are the event's text, not the record's bytes.
    let out = dl
        .redrive(
            &[],
            &[
                "--reason",
                "invalid_base64",
                "--output",
                refused_file.to_str().unwrap(),
            ],
        )
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr.contains("invalid_base64") && out.stderr.contains("--include-undecoded"),
        "{}",
        out.stderr
    );
    assert!(!refused_file.exists());
    assert!(end_offsets(&bootstrap, sess).values().all(|o| *o == 0));

    // -- redrive into an event file; its replay changes nothing ----------
    let cql = session(&addr).await;
    let before = snapshot(&cql, &ks).await;
    assert_eq!(before["dead_letters"].len(), 10);
    let files = [
        dir.path().join("redrive-1.json"),
        dir.path().join("redrive-2.json"),
    ];
    for file in &files {
        let s = dl
            .redrive(
                &[auth, act],
                &["--output", file.to_str().unwrap(), "--json"],
            )
            .await
            .assert_success()
            .json();
        assert_eq!(
            (s["selected"].as_u64(), s["sent"].as_u64()),
            (Some(7), Some(7)),
            "{s}"
        );
    }
    let event: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        std::fs::read(&files[1]).unwrap()
    );
    let mut in_file = Vec::new();
    for (key, records) in event["records"].as_object().unwrap() {
        for r in records.as_array().unwrap() {
            assert_eq!(
                *key,
                format!("{}-{}", r["topic"].as_str().unwrap(), r["partition"])
            );
            let raw = c.record(
                r["topic"].as_str().unwrap(),
                r["partition"].as_i64().unwrap() as i32,
                r["offset"].as_i64().unwrap(),
            );
            assert_eq!(B64.decode(r["value"].as_str().unwrap()).unwrap(), raw.value);
            assert_eq!(r["key"].as_str().map(|k| B64.decode(k).unwrap()), raw.key);
            assert_eq!(
                r["timestamp"].as_i64(),
                Some(raw.timestamp_ms.unwrap_or(-1))
            );
            in_file.push(raw.place());
        }
    }
    in_file.sort();
    let want: Vec<_> = c.bad_of(&[auth, act]).iter().map(|r| r.place()).collect();
    assert_eq!(in_file, want);
    // Replayed as the originals were (the activity topic still unrouted).
    for file in &files {
        let s = replay_routed(&addr, &ks, &c.routes(false), file).await;
        assert_eq!(s["dead_lettered"], 7, "{s}");
    }
    assert_eq!(
        snapshot(&cql, &ks).await,
        before,
        "a replay of the redrive file changed rows"
    );

    // -- redrive to Kafka: the records, byte for byte ---------------------
    let redrive_to_kafka = || async {
        dl.redrive(&[auth, act], &["--bootstrap", &bootstrap, "--json"])
            .await
            .assert_success()
            .json()
    };
    let sent = redrive_to_kafka().await;
    assert_eq!(
        sent,
        json!({"selected": 7, "sent": 7, "already_redriven": 0, "copies": 0, "truncated": 0,
               "not_sent": 0, "destination": format!("kafka {bootstrap}")})
    );
    let mut consumed: BTreeMap<(String, i32, i64), (i32, i64)> = BTreeMap::new();
    for (topic, n) in [(auth, 4), (act, 3)] {
        let b = bootstrap.clone();
        let t = topic.to_owned();
        let records = tokio::task::spawn_blocking(move || consume(&b, &t, n))
            .await
            .unwrap();
        for (partition, offset, ts, key, value, headers) in records {
            let (_, of) = headers
                .iter()
                .find(|(k, _)| k == "logpipe-redrive-of")
                .unwrap_or_else(|| panic!("no logpipe-redrive-of header: {headers:?}"));
            let of = String::from_utf8(of.clone()).unwrap();
            let (t, rest) = of.split_once('/').unwrap();
            let (p, o) = rest.split_once('/').unwrap();
            let raw = c.record(t, p.parse().unwrap(), o.parse().unwrap());
            assert_eq!((t, partition), (topic, raw.partition), "{of}: partition");
            assert_eq!(key, raw.key.clone().unwrap_or_default(), "{of}: key");
            assert_eq!(value, raw.value, "{of}: value");
            if let Some(want) = raw.timestamp_ms {
                assert_eq!(ts, Some(want), "{of}: timestamp");
            }
            consumed.insert(raw.place(), (partition, offset));
        }
    }
    assert_eq!(consumed.keys().cloned().collect::<Vec<_>>(), want);
    // The redrive log holds each with the place Kafka gave it.
    let log: Vec<(String, i32, i64, i32, i64)> = rows(
        &cql,
        &format!(
            "SELECT topic, partition, offset, sent_partition, sent_offset FROM {ks}.dead_letter_redrives"
        ),
        (),
    )
    .await;
    let logged: BTreeMap<(String, i32, i64), (i32, i64)> = log
        .into_iter()
        .map(|(t, p, o, sp, so)| ((t, p, o), (sp, so)))
        .collect();
    assert_eq!(logged, consumed);

    // The mapping consumes them: the good ones land in activity_logs, the
    // still-bad ones are dead-lettered again under their new offsets.
    let esm = run_env(
        esm_args_in(
            &scope,
            &bootstrap,
            &addr,
            &scope.group("redriven"),
            &["--until-idle", "3s", "--json"],
        ),
        vec![],
    )
    .await
    .assert_success();
    let activity: Vec<(String,)> =
        rows(&cql, &format!("SELECT user_id FROM {ks}.activity_logs"), ()).await;
    let mut users: Vec<String> = activity.into_iter().map(|r| r.0).collect();
    users.sort();
    assert_eq!(users, ["u5", "u6"], "{}", esm.stdout);
    assert_eq!(count(&cql, &ks, "dead_letters").await, 10 + 5);

    // A second redrive of the same selection sends nothing: the originals
    // were redriven, and the new dead letters are their copies.
    let ends = |b: String| [auth, act].map(|t| end_offsets(&b, t));
    let ends_before = ends(bootstrap.clone());
    let again = redrive_to_kafka().await;
    assert_eq!(
        (
            &again["selected"],
            &again["sent"],
            &again["already_redriven"],
            &again["copies"]
        ),
        (&json!(12), &json!(0), &json!(7), &json!(5)),
        "{again}"
    );
    assert_eq!(
        ends(bootstrap.clone()),
        ends_before,
        "the second redrive sent records"
    );
    let text = dl
        .redrive(&[auth, act], &["--bootstrap", &bootstrap])
        .await
        .assert_success();
    assert!(text.stdout.contains("sent 0 of 12"), "{}", text.stdout);
    assert_eq!(ends(bootstrap.clone()), ends_before);
    // Nothing new stored: one row a good record, no duplicate dead letter.
    assert_eq!(count(&cql, &ks, "activity_logs").await, 2);
    assert_eq!(count(&cql, &ks, "auth_logs").await, 1);
    assert_eq!(count(&cql, &ks, "dead_letters").await, 10 + 5);
    assert_eq!(count(&cql, &ks, "dead_letter_redrives").await, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_pages_past_five_thousand_rows() {
    let addr = shared_cassandra();
    let ks = unique_name("dead_letters_paging");
    apply_schema(addr, &ks).await;
    let dl = DeadLetters { addr, ks: &ks };
    let cql = session(addr).await;
    let insert = cql
        .prepare(format!(
            "INSERT INTO {ks}.dead_letters (topic, partition, day, offset, reason, detail, function) \
             VALUES (?, ?, ?, ?, ?, ?, ?)"
        ))
        .await
        .unwrap();
    let d0 = logpipe_core::rows::day_of(DAY0_MS);
    let d1 = logpipe_core::rows::day_of(DAY0_MS + common::real::DAY_MS);
    let rows_to_write: Vec<(&str, i32, scylla::value::CqlDate, i64, &str)> = (0..3000)
        .map(|o| ("pa", 0, d0, o, "invalid_json"))
        .chain((0..2500).map(|o| ("pb", 1, d1, o, "missing_field")))
        .collect();
    use futures::StreamExt;
    futures::stream::iter(&rows_to_write)
        .map(|(t, p, d, o, r)| {
            let insert = &insert;
            let cql = &cql;
            async move {
                cql.execute_unpaged(insert, (t, p, d, o, r, "made by the test", "test"))
                    .await
                    .unwrap()
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    let all = dl.json(&[]).await;
    assert_eq!(
        all,
        json!({"total": 5500, "by_reason": {"invalid_json": 3000, "missing_field": 2500},
               "by_topic": {"pa": 3000, "pb": 2500}})
    );
    let listed = dl.json(&["--reason", "missing_field", "--list"]).await;
    let offsets: Vec<i64> = listed["dead_letters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["offset"].as_i64().unwrap())
        .collect();
    assert_eq!(offsets, (0..2500).collect::<Vec<_>>());
    let one = dl
        .json(&["--topic", "pa", "--partition", "0", "--day", "2026-11-25"])
        .await;
    assert_eq!(one["total"], 3000);
    let range = dl
        .json(&["--from-offset", "100", "--to-offset", "199"])
        .await;
    assert_eq!(range["by_topic"], json!({"pa": 100, "pb": 100}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_64_and_an_unreachable_server_2() {
    let nowhere = format!("127.0.0.1:{}", free_port());
    // `logpipe dead-letters [SUB] --cassandra NOWHERE FLAGS...`
    let at_nowhere = |sub: Option<&str>, flags: &[&str]| {
        let mut a = args(&["dead-letters"]);
        a.extend(sub.map(str::to_owned));
        a.extend(args(&["--cassandra", &nowhere]));
        a.extend(args(flags));
        a
    };
    for bad in [
        args(&["dead-letters"]),
        at_nowhere(None, &["--day", "25/11/2026"]),
        at_nowhere(None, &["--reason", "bad_reason"]),
        at_nowhere(None, &["--list"]),
        args(&["dead-letters", "--cassandra", "no-port"]),
        at_nowhere(None, &["--from-offset", "5", "--to-offset", "4"]),
        at_nowhere(Some("redrive"), &[]),
        at_nowhere(
            Some("redrive"),
            &["--bootstrap", "h:1", "--output", "f.json"],
        ),
        at_nowhere(
            Some("redrive"),
            &["--output", "f.json", "--kafka-config", "acks=1"],
        ),
        at_nowhere(Some("show"), &["--topic", "t", "--partition", "0"]),
        at_nowhere(None, &["show"]),
    ] {
        let out = run_env(bad.clone(), vec![]).await;
        assert_eq!(out.status.code(), Some(64), "{bad:?}: {}", out.stderr);
    }
    for cmd in [
        at_nowhere(None, &[]),
        at_nowhere(
            Some("show"),
            &["--topic", "t", "--partition", "0", "--offset", "1"],
        ),
        at_nowhere(Some("redrive"), &["--output", "never-written.json"]),
    ] {
        let out = run_env(cmd.clone(), vec![]).await;
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {}", out.stderr);
        let lines: Vec<&str> = out.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}", out.stderr);
        assert!(lines[0].contains(&nowhere), "{}", out.stderr);
    }
    assert!(!common::root().join("never-written.json").exists());
}
