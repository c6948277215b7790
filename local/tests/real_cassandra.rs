//! The table dumps against a real Apache Cassandra 5: the node of
//! the test run (`LOGPIPE_TEST_CASSANDRA`, set by `make test`), or one that
//! testkit starts for this binary. Each test works in a keyspace of its own
//! and drops it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use logpipe_core::batch::{process_payload, ProcessedBatch, Router};
use logpipe_core::schema;
use logpipe_core::sink::{connect_session, CassandraSink};
use logpipe_core::topics::DEAD_LETTER_TABLE;
use logpipe_core::SinkConfig;
use logpipe_local::dump;
use scylla::client::session::Session;

struct Keyspace {
    session: Arc<Session>,
    config: SinkConfig,
}

impl Keyspace {
    async fn new() -> Keyspace {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let addr = logpipe_testkit::shared_cassandra();
        let keyspace = format!(
            "lp_local_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let config = SinkConfig {
            keyspace,
            ttl_seconds: 0,
            request_timeout: std::time::Duration::from_secs(20),
            ..SinkConfig::local(addr)
        };
        let session = Arc::new(connect_session(&config).await.unwrap());
        schema::apply(&session, &config.keyspace, None)
            .await
            .unwrap();
        session.await_schema_agreement().await.unwrap();
        Keyspace { session, config }
    }

    async fn sink(&self) -> CassandraSink {
        CassandraSink::with_session(self.session.clone(), &self.config)
            .await
            .unwrap()
    }

    async fn drop(self) {
        self.session
            .query_unpaged(format!("DROP KEYSPACE {}", self.config.keyspace), &[])
            .await
            .unwrap();
    }
}

fn payload(records: &[(i64, &str, &str)]) -> String {
    let records: Vec<String> = records
        .iter()
        .map(|(offset, timestamp, value)| {
            format!(
                r#"{{"topic":"user_auth_logs","partition":0,"offset":{offset},"timestamp":{timestamp},"key":null,"value":"{value}","headers":[]}}"#
            )
        })
        .collect();
    format!(
        r#"{{"eventSource":"aws:kafka","records":{{"user_auth_logs-0":[{}]}}}}"#,
        records.join(",")
    )
}

fn batch(records: &[(i64, &str, &str)]) -> ProcessedBatch {
    process_payload(&Router::all_default("test"), payload(records).as_bytes()).unwrap()
}

/// A table of more rows than one page (and more than the embedded node's
/// 4,999-row scans) dumps whole, sorted by primary key.
#[tokio::test]
async fn a_dump_of_more_than_5000_rows_is_complete() {
    let ks = Keyspace::new().await;
    let sink = ks.sink().await;
    let times: Vec<String> = (0..6_500i64)
        .map(|i| (1_795_615_200_000 + i * 40_000).to_string())
        .collect();
    let records: Vec<(i64, &str, &str)> = times
        .iter()
        .enumerate()
        .rev()
        .map(|(i, t)| (i as i64, t.as_str(), "JSUl"))
        .collect();
    let b = batch(&records);
    sink.store(&b).await.unwrap();
    let table = schema::tables()
        .into_iter()
        .find(|t| t.table == DEAD_LETTER_TABLE)
        .unwrap();
    // No known partitions: the paged scan alone finds every row.
    let rows = dump::dump_table(&ks.session, &ks.config.keyspace, &table, &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 6_500);
    let keys: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["day"].as_str().unwrap().to_owned(),
                r["offset"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(keys.first().unwrap(), &("2026-11-25".to_owned(), 0));
    ks.drop().await;
}
