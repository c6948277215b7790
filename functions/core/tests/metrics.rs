//! The batch metrics (`logpipe_core::metrics`) against the CloudWatch
//! Embedded Metric Format specification, against what batches of known
//! records must report, and against `infra/emf_metrics.json`, the list the
//! Terraform dashboard and alarms are built and checked from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use base64::Engine;
use logpipe_core::batch::{process_payload, ProcessedBatch, Router};
use logpipe_core::metrics::{self, BatchOutcome, Scope};
use logpipe_core::LogKind;
use serde_json::{json, Value};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Units the EMF specification allows (those of CloudWatch's `MetricDatum`).
const EMF_UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// A directive's dimension sets.
type DimensionSets = Vec<Vec<String>>;

/// Checks one document against the EMF specification and returns its
/// metrics (name -> value) by directive dimension sets.
fn assert_emf(doc: &Value) -> BTreeMap<DimensionSets, BTreeMap<String, f64>> {
    let line = doc.to_string();
    assert!(!line.contains('\n'), "one line: {line}");
    // A CloudWatch Logs event is at most 256 KiB.
    assert!(line.len() < 256 * 1024, "{} bytes", line.len());
    let root = doc.as_object().expect("a document is a JSON object");
    let aws = root["_aws"].as_object().expect("_aws is an object");
    let ts = &aws["Timestamp"];
    assert!(
        ts.is_u64() || ts.is_i64(),
        "Timestamp is an integer of epoch milliseconds: {ts}"
    );
    assert!(ts.as_i64().unwrap() >= 0, "{ts}");
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics is an array");
    assert!(!directives.is_empty(), "no directive: {line}");
    let mut out = BTreeMap::new();
    for d in directives {
        let namespace = d["Namespace"].as_str().expect("Namespace is a string");
        assert!((1..=255).contains(&namespace.len()), "{namespace}");
        let sets = d["Dimensions"].as_array().expect("Dimensions is an array");
        let mut dims_of_directive = Vec::new();
        let mut sets_of_directive = Vec::new();
        for set in sets {
            let set = set.as_array().expect("a dimension set is an array");
            sets_of_directive.push(
                set.iter()
                    .map(|d| d.as_str().unwrap_or_default().to_owned())
                    .collect::<Vec<_>>(),
            );
            assert!(set.len() <= 30, "at most 30 dimensions in a set: {set:?}");
            for dim in set {
                let dim = dim.as_str().expect("a dimension is a member name");
                let value = root
                    .get(dim)
                    .unwrap_or_else(|| panic!("dimension {dim} has no root member: {line}"));
                let value = value
                    .as_str()
                    .unwrap_or_else(|| panic!("dimension {dim} is not a string: {line}"));
                assert!((1..=1024).contains(&value.len()), "{dim}={value:?}");
                dims_of_directive.push(dim.to_owned());
            }
        }
        let metrics = d["Metrics"].as_array().expect("Metrics is an array");
        assert!(
            (1..=100).contains(&metrics.len()),
            "1 to 100 metrics a directive: {line}"
        );
        let mut values = BTreeMap::new();
        for m in metrics {
            let name = m["Name"].as_str().expect("a metric has a Name");
            assert!((1..=255).contains(&name.len()), "{name}");
            if let Some(unit) = m.get("Unit") {
                let unit = unit.as_str().expect("Unit is a string");
                assert!(EMF_UNITS.contains(&unit), "{name}: unit {unit}");
            }
            let value = root
                .get(name)
                .unwrap_or_else(|| panic!("metric {name} has no root member: {line}"));
            let number = match value {
                Value::Number(n) => n.as_f64().unwrap(),
                Value::Array(a) => {
                    assert!(
                        a.len() <= 100 && a.iter().all(Value::is_number),
                        "{name}: {value}"
                    );
                    a.iter().filter_map(Value::as_f64).sum()
                }
                other => panic!("metric {name} is not a number or an array of numbers: {other}"),
            };
            assert!(
                !dims_of_directive.contains(&name.to_owned()),
                "{name} is also a dimension"
            );
            assert!(
                values.insert(name.to_owned(), number).is_none(),
                "{name} twice"
            );
        }
        assert!(
            out.insert(sets_of_directive, values).is_none(),
            "two directives with one dimension set"
        );
    }
    out
}

fn b64(text: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn record(topic: &str, offset: i64, timestamp: i64, value: Option<&[u8]>) -> Value {
    json!({
        "topic": topic, "partition": 0, "offset": offset, "timestamp": timestamp,
        "timestampType": "CREATE_TIME", "key": null,
        "value": value.map(b64), "headers": [],
    })
}

fn event(records: Vec<Value>) -> Vec<u8> {
    let mut by_key: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in records {
        let key = format!("{}-{}", r["topic"].as_str().unwrap(), r["partition"]);
        by_key.entry(key).or_default().push(r);
    }
    serde_json::to_vec(&json!({
        "eventSource": "SelfManagedKafka",
        "bootstrapServers": "b-1:9092",
        "records": by_key,
    }))
    .unwrap()
}

fn auth_log(event_id: &str) -> Vec<u8> {
    format!(
        r#"{{"event_id":"{event_id}","user_id":"u1","timestamp":"2026-11-25T14:00:00.123Z","event_type":"login","success":true,"ip_address":"10.0.0.1"}}"#
    )
    .into_bytes()
}

const NOW: i64 = 1_795_615_300_000;
const AUTH: &str = "user_auth_logs";

/// An auth function's batch: 3 good logs, dead letters of 4 reasons (one
/// without a Kafka timestamp, older than everything if read as 0), and 2
/// records of a topic it does not own.
fn known_batch() -> (Router, ProcessedBatch) {
    let records = vec![
        record(
            AUTH,
            10,
            NOW - 4_000,
            Some(&auth_log("6f9619ff-8b86-4011-b42d-00c04fc964f1")),
        ),
        record(
            AUTH,
            11,
            NOW - 9_000,
            Some(&auth_log("6f9619ff-8b86-4011-b42d-00c04fc964f2")),
        ),
        record(
            AUTH,
            12,
            NOW - 3_000,
            Some(&auth_log("6f9619ff-8b86-4011-b42d-00c04fc964f3")),
        ),
        record(AUTH, 13, NOW - 2_000, Some(b"not json")),
        record(AUTH, 14, NOW - 2_000, Some(b"[1]")),
        record(AUTH, 15, -1, Some(b"{}")),
        record(AUTH, 16, NOW - 1_000, None),
        record(AUTH, 17, NOW - 1_000, Some(b"{\"user_id\":\"u\"}")),
        record("user_session_logs", 3, NOW - 60_000, Some(b"{}")),
        record("user_session_logs", 4, NOW - 30_000, Some(b"{}")),
    ];
    let router = Router::single(LogKind::Auth, AUTH);
    let batch = process_payload(&router, &event(records)).expect("a valid event");
    (router, batch)
}

fn stored(retries: u64) -> BatchOutcome {
    BatchOutcome {
        stored: true,
        write_retries: retries,
        latency_ms: 42.5,
    }
}

fn topic_dims() -> DimensionSets {
    vec![
        vec!["Function".into(), "Topic".into()],
        vec!["Function".into()],
    ]
}

fn function_dims() -> DimensionSets {
    vec![vec!["Function".into()]]
}

fn dimension_sets(scope: Scope) -> DimensionSets {
    scope
        .dimension_sets()
        .iter()
        .map(|set| set.iter().map(|d| d.to_string()).collect())
        .collect()
}

#[test]
fn a_batch_with_known_dead_letters_reports_them_by_topic_and_reason() {
    let (_, batch) = known_batch();
    let docs = metrics::documents("logpipe", "prod-auth-logs", &batch, &stored(2), NOW);
    assert_eq!(docs.len(), 2, "one line per topic: {docs:?}");
    let by_topic: BTreeMap<&str, &Value> = docs
        .iter()
        .map(|d| (d["Topic"].as_str().unwrap(), d))
        .collect();
    let auth = assert_emf(by_topic[AUTH]);
    let sessions = assert_emf(by_topic["user_session_logs"]);
    for d in &docs {
        assert_eq!(d["Function"], "prod-auth-logs");
        assert_eq!(d["_aws"]["Timestamp"], NOW);
        for directive in d["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(directive["Namespace"], "logpipe");
        }
    }

    let expected_auth: BTreeMap<String, f64> = [
        ("Records", 8.0),
        ("Written", 3.0),
        ("DeadLettered", 5.0),
        ("DeadLettered.invalid_json", 1.0),
        ("DeadLettered.not_an_object", 1.0),
        ("DeadLettered.missing_field", 2.0),
        ("DeadLettered.empty_value", 1.0),
        // The row 9 s old; the dead letter without a timestamp is skipped.
        ("OldestRecordAge", 9_000.0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(auth[&topic_dims()], expected_auth);
    assert_eq!(
        auth[&function_dims()],
        [
            ("BatchLatency", 42.5),
            ("WriteRetries", 2.0),
            ("Failed", 0.0)
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    );
    assert_eq!(
        sessions[&topic_dims()],
        [
            ("Records", 2.0),
            ("Written", 0.0),
            ("DeadLettered", 2.0),
            ("DeadLettered.wrong_topic", 2.0),
            ("OldestRecordAge", 60_000.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    );
    assert!(
        !sessions.contains_key(&function_dims()),
        "the batch metrics are reported once"
    );
    // The counts add up to the batch's summary.
    let s = batch.summary();
    let sum = |name: &str| auth[&topic_dims()][name] + sessions[&topic_dims()][name];
    assert_eq!(sum("Records") as u64, s.records);
    assert_eq!(sum("Written") as u64, s.written);
    assert_eq!(sum("DeadLettered") as u64, s.dead_lettered);
}

#[test]
fn a_failed_batch_counts_nothing_as_stored() {
    let (_, batch) = known_batch();
    let outcome = BatchOutcome {
        stored: false,
        write_retries: 9,
        latency_ms: 1500.0,
    };
    let docs = metrics::documents("ns/x", "f", &batch, &outcome, NOW);
    assert_eq!(docs.len(), 2);
    for d in &docs {
        let m = assert_emf(d);
        let topic = &m[&topic_dims()];
        assert_eq!(topic.keys().collect::<Vec<_>>(), ["OldestRecordAge"], "{d}");
    }
    let first = assert_emf(&docs[0]);
    assert_eq!(first[&function_dims()]["Failed"], 1.0);
    assert_eq!(first[&function_dims()]["WriteRetries"], 9.0);
}

#[test]
fn every_fixture_event_gives_valid_documents_that_add_up_to_its_expected_counts() {
    let dir = repo().join("fixtures/events");
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let expected = expected.as_object().unwrap();
    assert!(!expected.is_empty());
    for (name, want) in expected {
        let payload = std::fs::read(dir.join(format!("{name}.json"))).unwrap();
        // Routed as `logpipe replay` routes it: every topic of the contract.
        let router = Router::all_default("replay");
        let batch = process_payload(&router, &payload).unwrap();
        let docs = metrics::documents("logpipe", "replay", &batch, &stored(0), NOW);
        assert_eq!(docs.len(), batch.by_topic.len().max(1), "{name}");
        let mut totals: BTreeMap<String, f64> = BTreeMap::new();
        for d in &docs {
            let m = assert_emf(d);
            for (name, v) in &m[&topic_dims()] {
                *totals.entry(name.clone()).or_default() += v;
            }
        }
        assert_eq!(
            totals["Records"],
            want["records"].as_f64().unwrap(),
            "{name}"
        );
        assert_eq!(
            totals["DeadLettered"],
            want["dead_lettered"].as_f64().unwrap(),
            "{name}"
        );
        let reasons: BTreeMap<String, f64> = totals
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("DeadLettered.").map(|r| (r.to_owned(), *v)))
            .collect();
        let want_reasons: BTreeMap<String, f64> = want["dead_letter_reasons"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_f64().unwrap()))
            .collect();
        assert_eq!(reasons, want_reasons, "{name}");
    }
}

#[test]
fn a_lambda_batch_of_one_topic_is_one_line() {
    let payload = event(vec![
        record(
            AUTH,
            1,
            NOW - 5,
            Some(&auth_log("6f9619ff-8b86-4011-b42d-00c04fc964f1")),
        ),
        record(AUTH, 2, NOW - 5, Some(b"")),
    ]);
    let router = Router::single(LogKind::Auth, AUTH);
    let batch = process_payload(&router, &payload).unwrap();
    let docs = metrics::documents("logpipe", "auth-logs", &batch, &stored(0), NOW);
    assert_eq!(docs.len(), 1);
    let m = assert_emf(&docs[0]);
    assert_eq!(m.len(), 2, "the topic's metrics and the batch's");
    assert_eq!(m[&topic_dims()]["DeadLettered.empty_value"], 1.0);
}

/// The directives use the names, units and dimensions of the catalogue,
/// and nothing else.
#[test]
fn documents_use_only_catalogued_metrics() {
    let catalogue: BTreeMap<String, (String, DimensionSets)> = metrics::catalogue()
        .into_iter()
        .map(|m| {
            (
                m.name,
                (m.unit.as_str().to_owned(), dimension_sets(m.scope)),
            )
        })
        .collect();
    let (_, batch) = known_batch();
    for outcome in [
        stored(1),
        BatchOutcome {
            stored: false,
            ..stored(1)
        },
    ] {
        for d in metrics::documents("logpipe", "f", &batch, &outcome, NOW) {
            for directive in d["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
                let dims: DimensionSets =
                    serde_json::from_value(directive["Dimensions"].clone()).unwrap();
                for m in directive["Metrics"].as_array().unwrap() {
                    let name = m["Name"].as_str().unwrap();
                    let (unit, want_dims) = catalogue
                        .get(name)
                        .unwrap_or_else(|| panic!("{name} is not in the catalogue"));
                    assert_eq!(m["Unit"], unit.as_str(), "{name}");
                    assert_eq!(&dims, want_dims, "{name}");
                }
            }
        }
    }
}

/// `infra/emf_metrics.json`, which the Terraform reads, lists exactly the
/// catalogue, in its order, under the default namespace.
#[test]
fn the_terraform_metric_list_is_the_catalogue() {
    let path = repo().join("infra/emf_metrics.json");
    let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(file["namespace"], metrics::DEFAULT_NAMESPACE);
    let listed: Vec<(String, String, DimensionSets)> = file["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["unit"].as_str().unwrap().to_owned(),
                serde_json::from_value(m["dimensions"].clone()).unwrap(),
            )
        })
        .collect();
    let catalogue: Vec<(String, String, DimensionSets)> = metrics::catalogue()
        .into_iter()
        .map(|m| (m.name, m.unit.as_str().to_owned(), dimension_sets(m.scope)))
        .collect();
    assert_eq!(
        listed,
        catalogue,
        "{} differs from metrics::catalogue()",
        path.display()
    );
    let names: BTreeSet<_> = listed.iter().map(|m| &m.0).collect();
    assert_eq!(names.len(), listed.len(), "a name listed twice");
    // A reason code of the contract has its count.
    for reason in logpipe_core::ReasonCode::ALL {
        assert!(
            names.contains(&format!("DeadLettered.{}", reason.as_str())),
            "{reason:?}"
        );
    }
    assert_eq!(
        metrics::catalogue()
            .iter()
            .filter(|m| m.scope == Scope::Batch)
            .count(),
        3
    );
}
