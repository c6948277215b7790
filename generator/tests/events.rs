//! `--emit-events`: the files decode as AWS Lambda Kafka events, have AWS's
//! shape, and the pipeline's own event processing agrees with
//! `expected.json`, file by file and in total.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use aws_lambda_events::kafka::KafkaEvent;
use base64::Engine as _;
use log_generator::{
    partition_for_key, write_events, EventVariant, EventsConfig, Generator, GeneratorConfig,
    Manifest, Output, RunControl, Schedule, DEFAULT_CLUSTER_ARN, MAX_EVENT_BYTES, UNOWNED_TOPIC,
};
use logpipe_core::batch::{process_payload, Router};
use logpipe_core::topics::LogKind;
use serde_json::Value;

fn emit(
    dir: &Path,
    seed: u64,
    ratio: f64,
    per_topic: u64,
    batch: usize,
    variant: EventVariant,
) -> Manifest {
    let mut generator = Generator::new(GeneratorConfig {
        seed,
        invalid_ratio: ratio,
        output: Output::LambdaEvent,
        ..GeneratorConfig::default()
    })
    .unwrap();
    let config = EventsConfig {
        batch_size: batch,
        variant,
        ..EventsConfig::new(dir)
    };
    let summary = write_events(
        &mut generator,
        &Schedule::count(per_topic),
        &config,
        &RunControl::default(),
    )
    .unwrap();
    assert_eq!(summary.produced, 3 * per_topic);
    let manifest = Manifest::read(dir).unwrap();
    assert_eq!(manifest.totals.records, 3 * per_topic);
    assert_eq!(summary.event_files, Some(manifest.events));
    manifest
}

fn event_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != Manifest::FILE_NAME)
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn events_have_the_aws_shape() {
    for variant in [EventVariant::Msk, EventVariant::SelfManaged] {
        let dir = tempfile::tempdir().unwrap();
        let manifest = emit(dir.path(), 1, 0.2, 250, 40, variant);
        let files = event_files(dir.path());
        assert_eq!(files.len() as u64, manifest.events);
        // 250 records a topic in batches of 40: 7 files a topic.
        assert_eq!(files.len(), 21);
        let mut last_offset: BTreeMap<(String, i64), i64> = BTreeMap::new();
        // In the order written, so offsets can be followed across files.
        for entry in &manifest.files {
            let name = &entry.file;
            let bytes = &fs::read(dir.path().join(name)).unwrap();
            let event: KafkaEvent = serde_json::from_slice(bytes).unwrap();
            match variant {
                EventVariant::Msk => {
                    assert_eq!(event.event_source.as_deref(), Some("aws:kafka"));
                    assert_eq!(event.event_source_arn.as_deref(), Some(DEFAULT_CLUSTER_ARN));
                }
                EventVariant::SelfManaged => {
                    assert_eq!(event.event_source.as_deref(), Some("SelfManagedKafka"));
                    assert_eq!(event.event_source_arn, None);
                }
            }
            assert!(event
                .bootstrap_servers
                .as_deref()
                .is_some_and(|b| b.contains(':')));
            let topic = name.rsplit_once('-').unwrap().0;
            let kind = LogKind::from_default_topic(topic).unwrap();
            let mut count = 0;
            for (key, records) in &event.records {
                let (key_topic, key_partition) = key.rsplit_once('-').unwrap();
                assert!(
                    key_topic == topic || key_topic == UNOWNED_TOPIC,
                    "{key} in {name}"
                );
                for r in records {
                    count += 1;
                    assert_eq!(r.topic.as_deref(), Some(key_topic));
                    assert_eq!(r.partition.to_string(), key_partition);
                    assert_eq!(r.timestamp_type.as_deref(), Some("CREATE_TIME"));
                    let user = base64::engine::general_purpose::STANDARD
                        .decode(r.key.as_deref().unwrap())
                        .unwrap();
                    assert_eq!(i64::from(partition_for_key(&user, 3)), r.partition);
                    let previous =
                        last_offset.insert((key_topic.to_owned(), r.partition), r.offset);
                    assert_eq!(
                        r.offset,
                        previous.map_or(0, |p| p + 1),
                        "offsets rise by one"
                    );
                    assert!(r.timestamp.0.timestamp_millis() >= 1_767_225_600_000);
                    let headers: Vec<(String, String)> = r
                        .headers
                        .iter()
                        .flat_map(|h| h.iter())
                        .map(|(k, v)| (k.clone(), v.iter().map(|b| *b as u8 as char).collect()))
                        .collect();
                    assert_eq!(
                        headers,
                        vec![
                            ("content-type".to_owned(), "application/json".to_owned()),
                            ("producer-id".to_owned(), "log-generator".to_owned()),
                        ]
                    );
                }
            }
            assert!(count <= 40);
            assert!(manifest
                .files
                .iter()
                .any(|f| &f.file == name && f.function == kind.function_name()));

            // The raw JSON, as AWS writes it: headers are one-entry objects
            // holding arrays of byte values; timestamps are integers.
            let raw: Value = serde_json::from_slice(bytes).unwrap();
            for records in raw["records"].as_object().unwrap().values() {
                for r in records.as_array().unwrap() {
                    assert!(r["timestamp"].is_i64());
                    for h in r["headers"].as_array().unwrap() {
                        let h = h.as_object().unwrap();
                        assert_eq!(h.len(), 1);
                        assert!(h
                            .values()
                            .next()
                            .unwrap()
                            .as_array()
                            .unwrap()
                            .iter()
                            .all(Value::is_i64));
                    }
                }
            }
        }
    }
}

#[test]
fn the_pipeline_agrees_with_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = emit(dir.path(), 8, 0.3, 400, 100, EventVariant::Msk);
    let replay = Router::all_default("logpipe-replay");
    let mut by_topic: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
    for (name, bytes) in event_files(dir.path()) {
        // As the function the file is for: its own topic only.
        let entry = manifest.files.iter().find(|f| f.file == name).unwrap();
        let kind: LogKind = entry.function.parse().unwrap();
        let own = process_payload(&Router::single(kind, kind.default_topic()), &bytes).unwrap();
        let summary = own.summary();
        assert_eq!(
            (summary.records, summary.written, summary.dead_lettered),
            (
                entry.expected.records,
                entry.expected.written,
                entry.expected.dead_lettered
            ),
            "{name}"
        );
        // As `logpipe replay` routes it: every topic to its owner.
        let all = process_payload(&replay, &bytes).unwrap();
        for (topic, c) in &all.by_topic {
            let t = by_topic.entry(topic.clone()).or_default();
            t.0 += c.records;
            t.1 += c.written;
            t.2 += c.dead_lettered;
        }
        for (reason, n) in &all.reasons {
            *reasons.entry((*reason).to_owned()).or_default() += n;
        }
    }
    let expected: BTreeMap<String, (u64, u64, u64)> = manifest
        .by_topic
        .iter()
        .map(|(t, c)| (t.clone(), (c.records, c.written, c.dead_lettered)))
        .collect();
    assert_eq!(by_topic, expected);
    assert_eq!(reasons, manifest.totals.dead_letter_reasons);
    // 30% of 1200, and every reason of the event path.
    assert_eq!(manifest.totals.dead_lettered, 360);
    assert_eq!(
        manifest.totals.dead_letter_reasons.len(),
        9,
        "{:?}",
        manifest.totals.dead_letter_reasons
    );
    assert!(manifest.by_topic.contains_key(UNOWNED_TOPIC));
}

#[test]
fn a_seed_gives_the_same_files() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    emit(a.path(), 5, 0.2, 120, 50, EventVariant::Msk);
    emit(b.path(), 5, 0.2, 120, 50, EventVariant::Msk);
    assert_eq!(event_files(a.path()), event_files(b.path()));
    assert_eq!(
        fs::read(a.path().join(Manifest::FILE_NAME)).unwrap(),
        fs::read(b.path().join(Manifest::FILE_NAME)).unwrap()
    );
}

#[test]
fn events_stay_under_the_payload_limit() {
    let dir = tempfile::tempdir().unwrap();
    // Every record bad, a ninth of them over 256 KiB: batches of 500 would
    // be far over 6 MB.
    let manifest = emit(dir.path(), 2, 1.0, 500, 500, EventVariant::SelfManaged);
    assert!(manifest.events > 3, "{}", manifest.events);
    for (name, bytes) in event_files(dir.path()) {
        assert!(bytes.len() <= MAX_EVENT_BYTES, "{name}: {}", bytes.len());
    }
}
