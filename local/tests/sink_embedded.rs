//! The sink and the table dumps against the embedded CQL node: how the
//! sink copes with a server that does not count `USING TIMESTAMP ?`/`USING
//! TTL ?` bind markers, what a record without a Kafka timestamp leaves in
//! `dead_letters`, and dumps of more rows than the node's full-table reads
//! return.

use std::sync::Arc;

use logpipe_core::batch::{process_payload, ProcessedBatch, Router};
use logpipe_core::logs;
use logpipe_core::record::DEAD_LETTER_COLUMNS;
use logpipe_core::schema;
use logpipe_core::sink::{
    connect_session, insert_cql, insert_cql_without_write_time, CassandraSink,
};
use logpipe_core::topics::DEAD_LETTER_TABLE;
use logpipe_core::{LogKind, SinkConfig};
use logpipe_local::dump::{self, JsonRow};
use logpipe_local::embedded::EmbeddedCassandra;
use scylla::client::session::Session;
use serde_json::Value;

struct Node {
    _node: EmbeddedCassandra,
    session: Arc<Session>,
    config: SinkConfig,
}

async fn node() -> Node {
    let node = EmbeddedCassandra::start("127.0.0.1:0".parse().unwrap()).unwrap();
    let config = SinkConfig::local(node.addr().to_string());
    let session = Arc::new(connect_session(&config).await.unwrap());
    schema::apply(&session, &config.keyspace, None)
        .await
        .unwrap();
    Node {
        _node: node,
        session,
        config,
    }
}

fn event(records: &[String]) -> String {
    format!(
        r#"{{"eventSource":"aws:kafka","records":{{"user_auth_logs-0":[{}]}}}}"#,
        records.join(",")
    )
}

fn record(offset: i64, timestamp: &str, value: &str) -> String {
    format!(
        r#"{{"topic":"user_auth_logs","partition":0,"offset":{offset},"timestamp":{timestamp},"timestampType":"CREATE_TIME","key":null,"value":"{value}","headers":[]}}"#
    )
}

fn dead_letters_table() -> schema::TableKey {
    schema::tables()
        .into_iter()
        .find(|t| t.table == DEAD_LETTER_TABLE)
        .unwrap()
}

async fn dump_dead_letters(node: &Node, batch: &ProcessedBatch) -> Vec<JsonRow> {
    let known = dump::partitions_of(batch);
    dump::dump_table(
        &node.session,
        &node.config.keyspace,
        &dead_letters_table(),
        known.get(DEAD_LETTER_TABLE).map_or(&[][..], Vec::as_slice),
    )
    .await
    .unwrap()
}

/// The embedded node prepares `USING TIMESTAMP ? AND TTL ?` but reports
/// only the column markers; the sink sees that and prepares its inserts
/// without the clause, and writes.
#[tokio::test]
async fn on_a_server_that_ignores_write_time_markers_the_sink_writes_without_them() {
    let node = node().await;
    let ks = &node.config.keyspace;
    let prepared = node
        .session
        .prepare(insert_cql(ks, DEAD_LETTER_TABLE, DEAD_LETTER_COLUMNS))
        .await
        .unwrap();
    assert_eq!(
        prepared.get_variable_col_specs().len(),
        DEAD_LETTER_COLUMNS.len(),
        "the embedded node now counts the USING markers: the fallback may go"
    );
    let sink = CassandraSink::with_session(node.session.clone(), &node.config)
        .await
        .unwrap();
    assert!(!sink.binds_write_time());
    for kind in LogKind::ALL {
        assert_eq!(
            sink.insert_statement(kind.table()),
            Some(&*insert_cql_without_write_time(
                ks,
                kind.table(),
                logs::columns(kind)
            ))
        );
    }
    assert_eq!(
        sink.insert_statement(DEAD_LETTER_TABLE),
        Some(&*insert_cql_without_write_time(
            ks,
            DEAD_LETTER_TABLE,
            DEAD_LETTER_COLUMNS
        ))
    );
    assert_eq!(sink.insert_statement("nope"), None);

    // A good log and bad records, two of them without a Kafka timestamp.
    let auth = logpipe_core::record::encode_base64(
        br#"{"event_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff","user_id":"u1","timestamp":"2026-11-25T14:00:00.123Z","event_type":"login","success":true,"ip_address":"10.0.0.1"}"#,
    );
    let payload = event(&[
        record(1, "-1", &auth),
        record(2, "-1", "JSUl"),
        record(3, "1795615200123", "JSUl"),
        record(4, "1795651200000", "JSUl"),
    ]);
    let batch = process_payload(&Router::all_default("test"), payload.as_bytes()).unwrap();
    assert_eq!((batch.rows.len(), batch.dead_letters.len()), (1, 3));
    sink.store(&batch).await.unwrap();
    let rows = dump_dead_letters(&node, &batch).await;
    let view: Vec<(Value, Value, Value)> = rows
        .iter()
        .map(|r| {
            (
                r["offset"].clone(),
                r["day"].clone(),
                r["record_timestamp"].clone(),
            )
        })
        .collect();
    assert_eq!(
        view,
        [
            (2.into(), "1970-01-01".into(), Value::Null),
            (
                3.into(),
                "2026-11-25".into(),
                "2026-11-25T14:00:00.123Z".into()
            ),
            (
                4.into(),
                "2026-11-26".into(),
                "2026-11-26T00:00:00.000Z".into()
            ),
        ]
    );
    // The log without a Kafka timestamp is stored.
    let auth_rows = dump::dump_all(&node.session, ks, &dump::partitions_of(&batch))
        .await
        .unwrap()
        .remove(LogKind::Auth.table())
        .unwrap();
    assert_eq!(auth_rows.len(), 1);
    assert_eq!(auth_rows[0]["source_offset"], 1);
}

/// More dead letters than a full-table read of the embedded node returns
/// (it stops at 4,999 rows and ignores the page size): the dump reads them
/// partition by partition, and has every one, sorted by primary key.
#[tokio::test]
async fn a_dump_of_more_rows_than_one_scan_returns_is_complete_and_sorted() {
    let node = node().await;
    let sink = CassandraSink::with_session(node.session.clone(), &node.config)
        .await
        .unwrap();
    // 6,000 bad records over three days, newest offsets first in the event.
    let records: Vec<String> = (0..6_000i64)
        .rev()
        .map(|i| record(i, &(1_795_615_200_000 + i * 40_000).to_string(), "JSUl"))
        .collect();
    let payload = event(&records);
    let batch = process_payload(&Router::all_default("test"), payload.as_bytes()).unwrap();
    assert_eq!(batch.dead_letters.len(), 6_000);
    sink.store(&batch).await.unwrap();
    let rows = dump_dead_letters(&node, &batch).await;
    assert_eq!(rows.len(), 6_000);
    let keys = logpipe_testkit::assert_dead_letter_order(&rows);
    let days: std::collections::BTreeSet<&str> = keys.iter().map(|(d, _)| *d).collect();
    assert!(days.len() >= 3, "{days:?}");
}
