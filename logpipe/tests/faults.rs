//! Storage faults: the CQL node goes away before or in the middle of a
//! batch. The invocation must fail after its bounded retries (so the event
//! source mapping retries the batch and nothing is acknowledged), and the
//! retried batch, once the node is back, must leave exactly the rows of a
//! clean run: no loss, no duplicates.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use logpipe_core::dump::{self, JsonRow};
use logpipe_core::embedded::EmbeddedCassandra;
use logpipe_core::event::decode_event;
use logpipe_core::record::encode_base64;
use logpipe_core::sink::{connect_session, CassandraSink};
use logpipe_core::{Function, HandlerError, KafkaEvent, KafkaRecord, Router, SinkConfig};

use common::{read_rows, root, TABLES};

fn fault_config(addr: SocketAddr) -> SinkConfig {
    SinkConfig {
        max_attempts: 3,
        retry_backoff: Duration::from_millis(50),
        request_timeout: Duration::from_millis(500),
        ..SinkConfig::local(addr.to_string())
    }
}

async fn function_on(config: &SinkConfig) -> Function {
    let session = Arc::new(connect_session(config).await.expect("connects"));
    logpipe_core::schema::apply(&session, &config.keyspace, None)
        .await
        .expect("schema");
    let sink = CassandraSink::with_session(session, config)
        .await
        .expect("prepares");
    Function::new(Router::all_default("logpipe-replay"), Some(Arc::new(sink)))
}

/// Retries a batch the way an event source mapping does, until it succeeds.
async fn retry_until_stored(function: &Function, event: &KafkaEvent) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match function.handle(event).await {
            Ok(_) => return,
            Err(e) if Instant::now() < deadline => {
                assert!(e.is_retryable(), "{e}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(e) => panic!("batch never stored after the node came back: {e}"),
        }
    }
}

async fn dump(
    function: &Function,
    config: &SinkConfig,
    event: &KafkaEvent,
) -> BTreeMap<&'static str, Vec<JsonRow>> {
    let batch = logpipe_core::batch::process_event(function.router(), event).unwrap();
    let session = connect_session(config).await.unwrap();
    dump::dump_all(&session, &config.keyspace, &dump::partitions_of(&batch))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_node_fails_the_batch_within_its_retry_budget_and_the_retry_matches_golden() {
    let mut node = EmbeddedCassandra::start("127.0.0.1:0".parse().unwrap()).unwrap();
    let config = fault_config(node.addr());
    let function = function_on(&config).await;
    let bytes = std::fs::read(root().join("fixtures/events/msk_auth_mixed.json")).unwrap();
    let event = decode_event(&bytes).unwrap();

    node.stop();
    let started = Instant::now();
    let err = function
        .handle(&event)
        .await
        .expect_err("no node: the batch must fail");
    let took = started.elapsed();
    assert!(matches!(err, HandlerError::Storage(_)), "{err}");
    assert!(err.is_retryable());
    // Bounded: the configured worst case plus scheduling slack, far below
    // any Lambda timeout.
    assert!(
        took <= config.worst_case_write_time() + Duration::from_secs(2),
        "failing took {took:?}"
    );

    node.restart().unwrap();
    retry_until_stored(&function, &event).await;
    let tables = dump(&function, &config, &event).await;
    for table in TABLES {
        let want = read_rows(&root().join(format!("fixtures/golden/msk_auth_mixed/{table}.jsonl")));
        let got: Vec<serde_json::Value> = tables[table]
            .iter()
            .cloned()
            .map(serde_json::Value::Object)
            .collect();
        assert_eq!(got, want, "{table} after the retried batch");
    }
}

/// An event of `n` valid auth logs on one partition.
fn big_auth_event(n: usize) -> KafkaEvent {
    let records: Vec<KafkaRecord> = (0..n)
        .map(|i| {
            let log = serde_json::json!({
                "event_id": format!("00000000-0000-4000-8000-{i:012}"),
                "user_id": format!("user-{}", i % 500),
                "timestamp": 1_795_615_200_000u64 + i as u64,
                "event_type": "login",
                "success": true,
                "ip_address": "10.1.2.3",
            });
            let mut r = KafkaRecord::default();
            r.topic = Some("user_auth_logs".into());
            r.partition = 0;
            r.offset = i as i64;
            r.timestamp = aws_lambda_events::encodings::MillisecondTimestamp(
                chrono::DateTime::from_timestamp_millis(1_795_615_200_000).unwrap(),
            );
            r.value = Some(encode_base64(log.to_string().as_bytes()));
            r
        })
        .collect();
    let mut event = KafkaEvent::default();
    event.event_source = Some("aws:kafka".into());
    event.records.insert("user_auth_logs-0".into(), records);
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_lost_mid_batch_fails_the_batch_and_the_retry_leaves_each_row_once() {
    let mut node = EmbeddedCassandra::start("127.0.0.1:0".parse().unwrap()).unwrap();
    let config = fault_config(node.addr());
    let function = function_on(&config).await;
    let event = big_auth_event(20_000);

    let in_flight = {
        let function = function.clone();
        let event = event.clone();
        tokio::spawn(async move { function.handle(&event).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    node.stop();
    let result = in_flight.await.unwrap();
    assert!(
        result.is_err(),
        "the batch cannot have been stored: the node stopped mid-way"
    );

    node.restart().unwrap();
    retry_until_stored(&function, &event).await;
    let tables = dump(&function, &config, &event).await;
    let rows = &tables["auth_logs"];
    assert_eq!(rows.len(), 20_000, "every record stored exactly once");
    let mut ids: Vec<&str> = rows
        .iter()
        .map(|r| r["event_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 20_000, "no duplicate rows");
    assert!(tables["dead_letters"].is_empty());
}
