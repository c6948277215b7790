//! The sink against a real Apache Cassandra 5: the node of
//! the test run (`LOGPIPE_TEST_CASSANDRA`, set by `make test`), or one that
//! testkit starts for this binary. Each test works in a keyspace of its own
//! and drops it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use logpipe_core::batch::{process_payload, ProcessedBatch, Router};
use logpipe_core::logs::LogRow;
use logpipe_core::record::{encode_base64, DEAD_LETTER_COLUMNS};
use logpipe_core::schema;
use logpipe_core::sink::{connect_session, insert_cql, CassandraSink};
use logpipe_core::topics::DEAD_LETTER_TABLE;
use logpipe_core::{LogKind, SinkConfig};
use scylla::client::session::Session;
use scylla::value::{CqlDate, CqlTimestamp};

struct Keyspace {
    session: Arc<Session>,
    config: SinkConfig,
}

impl Keyspace {
    async fn new(ttl_seconds: u32) -> Keyspace {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let addr = logpipe_testkit::shared_cassandra();
        let keyspace = format!(
            "lp_core_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let config = SinkConfig {
            keyspace,
            ttl_seconds,
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

const AUTH: &str = r#"{"event_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff","user_id":"u1","timestamp":"2026-11-25T14:00:00.123Z","event_type":"login","success":true,"ip_address":"10.0.0.1"}"#;

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

/// `(source_offset, WRITETIME(event_type), TTL(event_type))` of the one
/// auth row of [`AUTH`].
async fn auth_write(ks: &Keyspace) -> (i64, i64, Option<i32>) {
    let cql = format!(
        "SELECT source_offset, WRITETIME(event_type), TTL(event_type) FROM {}.auth_logs \
         WHERE user_id = 'u1' AND day = ?",
        ks.config.keyspace
    );
    let day = logpipe_core::logs::day_of(1_795_615_200_123);
    let rows = ks
        .session
        .query_unpaged(cql, (day,))
        .await
        .unwrap()
        .into_rows_result()
        .unwrap();
    let all: Vec<(i64, i64, Option<i32>)> = rows
        .rows::<(i64, i64, Option<i32>)>()
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(all.len(), 1, "{all:?}");
    all[0]
}

/// Real Cassandra counts the two `USING` markers: the sink binds the
/// record's write time and the TTL, and the cells carry exactly that
/// `WRITETIME`; dead letters too, a record without a Kafka timestamp with a
/// null `record_timestamp` on day 1970-01-01.
#[tokio::test]
async fn cells_carry_the_write_time_of_their_record() {
    let ks = Keyspace::new(0).await;
    let prepared = ks
        .session
        .prepare(insert_cql(
            &ks.config.keyspace,
            DEAD_LETTER_TABLE,
            DEAD_LETTER_COLUMNS,
        ))
        .await
        .unwrap();
    assert_eq!(
        prepared.get_variable_col_specs().len(),
        DEAD_LETTER_COLUMNS.len() + 2
    );
    let sink = ks.sink().await;
    assert!(sink.binds_write_time());
    for kind in LogKind::ALL {
        assert_eq!(
            sink.insert_statement(kind.table()),
            Some(&*insert_cql(
                &ks.config.keyspace,
                kind.table(),
                logpipe_core::logs::columns(kind)
            ))
        );
    }
    let auth = encode_base64(AUTH.as_bytes());
    let b = batch(&[
        (2_042, "1795615900001", &auth),
        (7, "1795615900002", "JSUl"),
        (1_234_567, "-1", "JSUl"),
    ]);
    sink.store(&b).await.unwrap();
    let LogRow::Auth(row) = &b.rows[0] else {
        panic!("an auth row")
    };
    assert_eq!(row.write_time, 1_795_615_900_001_042);
    assert_eq!(auth_write(&ks).await, (2_042, 1_795_615_900_001_042, None));

    let cql = format!(
        "SELECT offset, record_timestamp, WRITETIME(reason), TTL(reason) FROM {}.{DEAD_LETTER_TABLE} \
         WHERE topic = 'user_auth_logs' AND partition = 0 AND day = ?",
        ks.config.keyspace
    );
    type Dead = (i64, Option<CqlTimestamp>, i64, Option<i32>);
    let read = |day: CqlDate| {
        let (session, cql) = (ks.session.clone(), cql.clone());
        async move {
            let rows = session
                .query_unpaged(cql, (day,))
                .await
                .unwrap()
                .into_rows_result()
                .unwrap();
            rows.rows::<Dead>()
                .unwrap()
                .map(Result::unwrap)
                .collect::<Vec<Dead>>()
        }
    };
    assert_eq!(
        read(logpipe_core::logs::day_of(1_795_615_900_002)).await,
        [(
            7,
            Some(CqlTimestamp(1_795_615_900_002)),
            1_795_615_900_002_007,
            None
        )]
    );
    assert_eq!(
        read(logpipe_core::logs::day_of(0)).await,
        [(1_234_567, None, 567, None)]
    );
    ks.drop().await;
}

/// Of two records with one primary key the later Kafka timestamp wins,
/// whichever is written last; a retry rewrites identical cells; an old
/// capture replayed afterwards changes nothing; within one millisecond the
/// later offset wins.
#[tokio::test]
async fn the_winner_between_two_records_does_not_depend_on_write_order() {
    let ks = Keyspace::new(0).await;
    let sink = ks.sink().await;
    let auth = encode_base64(AUTH.as_bytes());
    let newer = batch(&[(20, "1795615900500", &auth)]);
    let older = batch(&[(10, "1795615900400", &auth)]);
    sink.store(&newer).await.unwrap();
    sink.store(&older).await.unwrap();
    assert_eq!(auth_write(&ks).await, (20, 1_795_615_900_500_020, None));
    // A retry of the newer batch: the same cells.
    sink.store(&newer).await.unwrap();
    assert_eq!(auth_write(&ks).await, (20, 1_795_615_900_500_020, None));
    // Same millisecond: the later offset wins, in either order.
    let later_offset = batch(&[(1_021, "1795615900500", &auth)]);
    sink.store(&later_offset).await.unwrap();
    sink.store(&newer).await.unwrap();
    assert_eq!(auth_write(&ks).await, (1_021, 1_795_615_900_500_021, None));
    ks.drop().await;
}

/// The TTL is bound as a value.
#[tokio::test]
async fn the_ttl_is_bound() {
    let ks = Keyspace::new(3_600).await;
    let sink = ks.sink().await;
    let auth = encode_base64(AUTH.as_bytes());
    sink.store(&batch(&[(5, "1795615900001", &auth)]))
        .await
        .unwrap();
    let (offset, write_time, ttl) = auth_write(&ks).await;
    assert_eq!((offset, write_time), (5, 1_795_615_900_001_005));
    let ttl = ttl.expect("a TTL");
    assert!((3_500..=3_600).contains(&ttl), "{ttl}");
    ks.drop().await;
}
