//! The real Apache Cassandra decides what is stored: clustering order,
//! `LIMIT`, TTL, reading back past 5,000 rows, the schema as the server
//! holds it, and write times taken from the record.
//!
//! Every test replays events (built here, or the fixtures) with `logpipe
//! replay` into a keyspace of its own on the run's shared node
//! (`LOGPIPE_TEST_CASSANDRA`, or one node started for this binary) and reads
//! the rows back through CQL; one stores and dumps through the libraries
//! instead, to reach the dump's paged scan alone. The embedded node these
//! facts used to come from ignores TTL, `USING TIMESTAMP`, clustering order
//! and `LIMIT`, and stops a full-table read at 4,999 rows: none of these
//! tests could fail against it.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use logpipe_core::batch::{process_payload, Router};
use logpipe_core::rows::day_of;
use logpipe_core::schema;
use logpipe_core::sink::{connect_session, CassandraSink};
use logpipe_core::topics::DEAD_LETTER_TABLE;
use logpipe_core::SinkConfig;
use logpipe_local::dump;

use scylla::client::session::Session;
use scylla::value::{CqlTimestamp, CqlValue, Row};
use uuid::Uuid;

use common::real::{
    activity_log, assert_write_times, auth_log, count, read_dump, record_timestamps, replay, rows,
    rows_with_write_times, run_env, session, session_log, shared_cassandra, unique_name, uuid_of,
    write_event, Rec, DAY0_MS, DAY_MS,
};
use common::{args, dump_keyspace, fixture_names, read_rows, root, TABLES};

/// The log tables, the topic that feeds each, and the clustering column
/// after `event_time` (which orders two rows of one time, ascending).
const LOG_TABLES: [(&str, &str, &str); 3] = [
    ("auth_logs", "user_auth_logs", "event_id"),
    ("session_logs", "user_session_logs", "session_id"),
    ("activity_logs", "user_activity_logs", "event_id"),
];

/// A valid log for `table` with id `id`.
fn log_for(table: &str, id: &str, user: &str, time_ms: i64) -> serde_json::Value {
    match table {
        "auth_logs" => auth_log(id, user, time_ms, "login"),
        "session_logs" => session_log(id, user, time_ms),
        _ => activity_log(id, user, time_ms, "/home"),
    }
}

/// A record whose value is not JSON (a dead letter, `invalid_json`).
fn bad_record(topic: &str, offset: i64, timestamp_ms: Option<i64>) -> Rec {
    Rec {
        topic: topic.to_owned(),
        partition: 0,
        offset,
        timestamp_ms,
        value: "this is not json".to_owned(),
    }
}

// ---------------------------------------------------------------------------
// Clustering order and the read users run.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_come_back_newest_first_within_a_day_partition() {
    let addr = shared_cassandra();
    let ks = unique_name("newest_first");
    let dir = tempfile::tempdir().unwrap();
    let user = "order-user";
    // Twelve times of one day in an order unrelated to the offsets, and two
    // rows sharing a time (the next clustering column orders those).
    let times: Vec<i64> = (0..12i64)
        .map(|i| DAY0_MS + (i * 7 % 12) * 61_000)
        .chain([DAY0_MS + 900_000, DAY0_MS + 900_000])
        .collect();
    let mut recs = Vec::new();
    let mut want: BTreeMap<&str, Vec<(i64, String)>> = BTreeMap::new();
    for (t, (table, topic, _)) in LOG_TABLES.iter().enumerate() {
        for (i, time) in times.iter().enumerate() {
            // Ids fall as offsets rise: no order here is the insert order.
            let id = uuid_of(1000 - (t * 100 + i) as u64);
            let log = log_for(table, &id, user, *time);
            recs.push(Rec::new(topic, 0, i as i64, Some(DAY0_MS + i as i64), &log));
            want.entry(table).or_default().push((*time, id));
        }
        // Neighbours the read must not return: the same user the next day,
        // another user the same day.
        let next_day = log_for(table, &uuid_of(5000 + t as u64), user, DAY0_MS + DAY_MS);
        let other = log_for(table, &uuid_of(6000 + t as u64), "other-user", DAY0_MS + 1);
        recs.push(Rec::new(topic, 1, 100, Some(DAY0_MS), &next_day));
        recs.push(Rec::new(topic, 1, 101, Some(DAY0_MS), &other));
    }
    let event = write_event(dir.path(), "order", &recs);
    let summary = replay(addr, &ks, &[&event], None, &[]).await;
    assert_eq!(summary["dead_lettered"], 0, "{summary}");

    let session = session(addr).await;
    for (table, _, id_column) in LOG_TABLES {
        let cql = format!(
            "SELECT event_time, {id_column} FROM {ks}.{table} WHERE user_id = ? AND day = ?"
        );
        let got: Vec<(i64, String)> =
            rows::<(CqlTimestamp, Uuid)>(&session, &cql, (user, day_of(DAY0_MS)))
                .await
                .into_iter()
                .map(|(t, id)| (t.0, id.to_string()))
                .collect();
        let mut expected = want[table].clone();
        expected.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        assert_eq!(
            got, expected,
            "{table}: newest first, then by {id_column} ascending"
        );
    }
}

/// The newest `n` activity rows of `user`: day partitions read newest
/// first, from the day of `newest_ms` back at most `max_days` days, each
/// with `LIMIT` what is still missing (the query docs/logs.md gives).
async fn latest_activity(
    session: &Session,
    ks: &str,
    user: &str,
    newest_ms: i64,
    n: i32,
    max_days: i64,
) -> Vec<(i64, String)> {
    let stmt = session
        .prepare(format!(
            "SELECT * FROM {ks}.activity_logs WHERE user_id = ? AND day = ? LIMIT ?"
        ))
        .await
        .unwrap();
    let mut out = Vec::new();
    for back in 0..max_days {
        let missing = n - out.len() as i32;
        if missing <= 0 {
            break;
        }
        let day = day_of(newest_ms - back * DAY_MS);
        out.extend(time_and_id(
            session
                .execute_unpaged(&stmt, (user, day, missing))
                .await
                .unwrap(),
        ));
    }
    out
}

/// `(event_time ms, event_id)` of each row of a `SELECT *` result.
fn time_and_id(result: scylla::response::query_result::QueryResult) -> Vec<(i64, String)> {
    let rows = result.into_rows_result().unwrap();
    let names: Vec<String> = rows
        .column_specs()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let at = |n: &str| names.iter().position(|c| c == n).unwrap();
    let (t, id) = (at("event_time"), at("event_id"));
    rows.rows::<Row>()
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            match (&r.columns[t], &r.columns[id]) {
                (Some(CqlValue::Timestamp(t)), Some(CqlValue::Uuid(id))) => (t.0, id.to_string()),
                other => panic!("unexpected row: {other:?}"),
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_latest_events_read_returns_exactly_the_newest_n() {
    let addr = shared_cassandra();
    let ks = unique_name("latest");
    let dir = tempfile::tempdir().unwrap();
    let user = "reader";
    // Events of `user` on days 0 (newest), -1, -2 and -4 (none on -3), and
    // another user's on day 0.
    let per_day: [(i64, i64); 4] = [(0, 6), (1, 3), (2, 15), (4, 5)];
    let mut recs = Vec::new();
    let mut mine: Vec<(i64, String)> = Vec::new();
    let mut n = 0u64;
    for (back, count) in per_day {
        for k in 0..count {
            // Times within the day out of offset order.
            let time = DAY0_MS - back * DAY_MS + ((k * 5) % count) * 60_000 + k;
            let id = uuid_of(n);
            recs.push(Rec::new(
                "user_activity_logs",
                0,
                n as i64,
                Some(time),
                &activity_log(&id, user, time, "/p"),
            ));
            mine.push((time, id));
            n += 1;
        }
    }
    for k in 0..10 {
        let time = DAY0_MS + 3_600_000 + k;
        let log = activity_log(&uuid_of(900 + k as u64), "someone-else", time, "/x");
        recs.push(Rec::new("user_activity_logs", 1, k, Some(time), &log));
    }
    let event = write_event(dir.path(), "latest", &recs);
    replay(addr, &ks, &[&event], None, &[]).await;
    mine.sort_by_key(|m| std::cmp::Reverse(m.0));
    let session = session(addr).await;

    // One day: the newest ten of its fifteen, newest first.
    let day2 = DAY0_MS - 2 * DAY_MS;
    let stmt = format!("SELECT * FROM {ks}.activity_logs WHERE user_id = ? AND day = ? LIMIT 10");
    let got = time_and_id(
        session
            .query_unpaged(stmt, (user, day_of(day2)))
            .await
            .unwrap(),
    );
    let of_day2: Vec<(i64, String)> = mine
        .iter()
        .filter(|(t, _)| t.div_euclid(DAY_MS) == day2.div_euclid(DAY_MS))
        .cloned()
        .collect();
    assert_eq!(got, of_day2[..10], "LIMIT 10 of one day: its newest ten");

    // The next page of that day: older than the last row seen.
    let (last_time, _) = got[9];
    let next = time_and_id(
        session
            .query_unpaged(
                format!(
                    "SELECT * FROM {ks}.activity_logs WHERE user_id = ? AND day = ? \
                     AND event_time < ? LIMIT 10"
                ),
                (user, day_of(day2), CqlTimestamp(last_time)),
            )
            .await
            .unwrap(),
    );
    assert_eq!(next, of_day2[10..], "the page after: the day's other five");

    // Across days: 6 of day 0, 3 of day -1, then the newest of day -2.
    let latest = latest_activity(&session, &ks, user, DAY0_MS, 10, 7).await;
    assert_eq!(latest, mine[..10], "the newest ten across day partitions");
    // More than there are: all 29, over the empty day -3, newest first.
    let all = latest_activity(&session, &ks, user, DAY0_MS, 40, 7).await;
    assert_eq!(all, mine, "every event of the week, newest first");
}

// ---------------------------------------------------------------------------
// TTL.

/// A regular column of each table, always written: what TTL() and
/// WRITETIME() are read from.
const CELL_OF: [(&str, &str); 4] = [
    ("auth_logs", "source_offset"),
    ("session_logs", "source_offset"),
    ("activity_logs", "source_offset"),
    ("dead_letters", "reason"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_written_with_the_configured_ttl_expire_and_others_stay() {
    let addr = shared_cassandra();
    let dir = tempfile::tempdir().unwrap();
    let user = "ttl-user";
    let recs = [
        Rec::new(
            "user_auth_logs",
            0,
            1,
            Some(DAY0_MS),
            &auth_log(&uuid_of(1), user, DAY0_MS, "login"),
        ),
        Rec::new(
            "user_session_logs",
            0,
            2,
            Some(DAY0_MS),
            &session_log(&uuid_of(2), user, DAY0_MS),
        ),
        Rec::new(
            "user_activity_logs",
            0,
            3,
            Some(DAY0_MS),
            &activity_log(&uuid_of(3), user, DAY0_MS, "/ttl"),
        ),
        bad_record("user_auth_logs", 4, Some(DAY0_MS)),
    ];
    let event = write_event(dir.path(), "ttl", &recs);
    let kept = unique_name("no_ttl");
    let expiring = unique_name("ttl");
    replay(addr, &kept, &[&event], None, &[]).await;
    replay(
        addr,
        &expiring,
        &[&event],
        None,
        &[("LOGPIPE_TTL_SECONDS", "4")],
    )
    .await;
    let written = Instant::now();

    let session = session(addr).await;
    for (table, cell) in CELL_OF {
        let ttls: Vec<(Option<i32>,)> = rows(
            &session,
            &format!("SELECT TTL({cell}) FROM {expiring}.{table}"),
            (),
        )
        .await;
        assert_eq!(ttls.len(), 1, "{table}: the row is there after the replay");
        let ttl = ttls[0]
            .0
            .unwrap_or_else(|| panic!("{table}: written without a TTL"));
        assert!((1..=4).contains(&ttl), "{table}: TTL {ttl} s, configured 4");
        let none: Vec<(Option<i32>,)> = rows(
            &session,
            &format!("SELECT TTL({cell}) FROM {kept}.{table}"),
            (),
        )
        .await;
        assert_eq!(none, [(None,)], "{table}: no TTL unless configured");
    }

    let limit = Duration::from_secs(20);
    loop {
        let mut left = 0;
        for (table, _) in CELL_OF {
            left += count(&session, &expiring, table).await;
        }
        if left == 0 {
            break;
        }
        assert!(
            written.elapsed() < limit,
            "{left} row(s) still there {limit:?} after a 4 s TTL"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for (table, _) in CELL_OF {
        assert_eq!(
            count(&session, &kept, table).await,
            1,
            "{table}: a row without TTL stays"
        );
    }
}

// ---------------------------------------------------------------------------
// Reading back past 5,000 rows.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_reads_every_row_past_five_thousand_sorted_by_primary_key() {
    const N: i64 = 6000;
    let addr = shared_cassandra();
    let ks = unique_name("paging");
    let dir = tempfile::tempdir().unwrap();
    let mut recs = Vec::new();
    // (user, day, time, id) of each row: half in one partition (three pages
    // of it), half over 40 users and two days.
    let mut keys: Vec<(String, i64, i64, String)> = Vec::new();
    for i in 0..N {
        let (user, day) = if i < N / 2 {
            ("bulk-big".to_owned(), DAY0_MS)
        } else {
            (format!("bulk-{:02}", i % 40), DAY0_MS - (i % 2) * DAY_MS)
        };
        // 7919 is prime to 6000: every row a time of its own, out of order.
        let time = day + (i * 7919 % N) * 10;
        let id = uuid_of(i as u64);
        recs.push(Rec::new(
            "user_activity_logs",
            (i % 3) as i32,
            i,
            Some(DAY0_MS),
            &activity_log(&id, &user, time, "/bulk"),
        ));
        keys.push((user, day.div_euclid(DAY_MS), time, id));
    }
    let event = write_event(dir.path(), "bulk", &recs);
    let out = dir.path().join("dump");
    let summary = replay(addr, &ks, &[&event], Some(&out), &[]).await;
    assert_eq!(summary["written"], N, "{summary}");

    let dump = read_dump(&out);
    let got: Vec<&str> = dump["activity_logs"]
        .iter()
        .map(|r| r["event_id"].as_str().unwrap())
        .collect();
    keys.sort();
    let want: Vec<&str> = keys.iter().map(|k| k.3.as_str()).collect();
    assert_eq!(got.len(), want.len(), "every row read back");
    assert!(
        got == want,
        "rows in primary key order (user_id, day, event_time, event_id); first difference at {:?}",
        got.iter().zip(&want).position(|(g, w)| g != w)
    );
    for table in ["auth_logs", "session_logs", "dead_letters"] {
        assert!(dump[table].is_empty(), "{table}");
    }
}

/// The dump library on a table whose partitions it is not told: the paged
/// scan alone finds every row (6,500 dead letters over four day
/// partitions, more than one 5,000-row page and more than the embedded
/// node's 4,999-row scans), sorted by primary key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_by_the_paged_scan_alone_reads_every_row_past_five_thousand() {
    let config = SinkConfig {
        keyspace: unique_name("scan"),
        ttl_seconds: 0,
        request_timeout: Duration::from_secs(20),
        ..SinkConfig::local(shared_cassandra())
    };
    let session = Arc::new(connect_session(&config).await.unwrap());
    schema::apply(&session, &config.keyspace, None)
        .await
        .unwrap();
    session.await_schema_agreement().await.unwrap();
    let sink = CassandraSink::with_session(session.clone(), &config)
        .await
        .unwrap();
    // Newest first in the event, 40 s apart from DAY0_MS over four days;
    // "%%%" is not JSON.
    let recs: Vec<Rec> = (0..6_500i64)
        .rev()
        .map(|i| Rec {
            topic: "user_auth_logs".to_owned(),
            partition: 0,
            offset: i,
            timestamp_ms: Some(DAY0_MS + i * 40_000),
            value: "%%%".to_owned(),
        })
        .collect();
    let event = common::real::event_json(&recs);
    let batch =
        process_payload(&Router::all_default("test"), event.to_string().as_bytes()).unwrap();
    assert_eq!(batch.dead_letters.len(), 6_500);
    sink.store(&batch).await.unwrap();
    let table = schema::tables()
        .into_iter()
        .find(|t| t.table == DEAD_LETTER_TABLE)
        .unwrap();
    let rows = dump::dump_table(&session, &config.keyspace, &table, &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 6_500);
    let keys = logpipe_testkit::assert_dead_letter_order(&rows);
    assert_eq!(keys.first(), Some(&("2026-11-25", 0)));
    assert_eq!(keys.last(), Some(&("2026-11-28", 6_499)));
}

// ---------------------------------------------------------------------------
// The schema.

/// A table, its partition key, its clustering columns with their order.
type TableKeys = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_apply_is_idempotent_and_creates_the_tables_the_code_writes() {
    let addr = shared_cassandra();
    let ks = unique_name("schema");
    let apply = |ks: String, extra: &[&str]| {
        let mut a = args(&["schema", "apply", "--cassandra", addr, "--keyspace", &ks]);
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        run_env(a, vec![])
    };
    let first = apply(ks.clone(), &[]).await.assert_success();
    let session = session(addr).await;
    let version: Vec<(String,)> =
        rows(&session, "SELECT release_version FROM system.local", ()).await;
    assert!(
        version[0].0.starts_with("5."),
        "not Cassandra 5: {version:?}"
    );
    // A row written between two applies outlives the second.
    session
        .query_unpaged(
            format!(
                "INSERT INTO {ks}.auth_logs (user_id, day, event_time, event_id, event_type, \
                 success, ip_address) VALUES ('u', '2026-11-25', '2026-11-25T14:00:00Z', \
                 {}, 'login', true, '10.0.0.1')",
                uuid_of(1)
            ),
            (),
        )
        .await
        .unwrap();
    let second = apply(ks.clone(), &[]).await.assert_success();
    assert_eq!(count(&session, &ks, "auth_logs").await, 1);
    for out in [&first, &second] {
        assert!(
            out.stdout.contains("applied 5 statements"),
            "{}",
            out.stdout
        );
        // It waited for schema agreement and names the agreed version.
        let version = out
            .stdout
            .split("schema version ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or_else(|| panic!("no agreed schema version: {}", out.stdout));
        Uuid::parse_str(version).unwrap();
    }

    let tables: Vec<(String,)> = rows(
        &session,
        "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?",
        (&ks,),
    )
    .await;
    let mut tables: Vec<String> = tables.into_iter().map(|t| t.0).collect();
    tables.sort();
    let mut want_tables = TABLES.map(str::to_owned).to_vec();
    want_tables.sort();
    assert_eq!(tables, want_tables);

    // Keys and clustering order, as the reads and the docs rely on them.
    let keys: [TableKeys; 4] = [
        (
            "auth_logs",
            &["user_id", "day"],
            &[("event_time", "desc"), ("event_id", "asc")],
        ),
        (
            "session_logs",
            &["user_id", "day"],
            &[
                ("event_time", "desc"),
                ("session_id", "asc"),
                ("event_type", "asc"),
            ],
        ),
        (
            "activity_logs",
            &["user_id", "day"],
            &[("event_time", "desc"), ("event_id", "asc")],
        ),
        (
            "dead_letters",
            &["topic", "partition", "day"],
            &[("offset", "asc")],
        ),
    ];
    for (table, partition_key, clustering) in keys {
        let cols: Vec<(String, String, i32, String, String)> = rows(
            &session,
            "SELECT column_name, kind, position, clustering_order, type \
             FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?",
            (&ks, table),
        )
        .await;
        let of_kind = |kind: &str| {
            let mut c: Vec<&(String, String, i32, String, String)> =
                cols.iter().filter(|c| c.1 == kind).collect();
            c.sort_by_key(|c| c.2);
            c
        };
        let pk: Vec<&str> = of_kind("partition_key")
            .iter()
            .map(|c| c.0.as_str())
            .collect();
        assert_eq!(pk, partition_key, "{table}: partition key");
        let ck: Vec<(&str, &str)> = of_kind("clustering")
            .iter()
            .map(|c| (c.0.as_str(), c.3.as_str()))
            .collect();
        assert_eq!(ck, clustering, "{table}: clustering columns and order");
        let ty = |name: &str| {
            cols.iter()
                .find(|c| c.0 == name)
                .map_or("absent", |c| c.4.as_str())
        };
        assert_eq!(ty("day"), "date", "{table}.day");
        // The columns the code inserts are exactly the table's.
        let spec = logpipe_core::schema::tables()
            .into_iter()
            .find(|t| t.table == table)
            .unwrap();
        let mut declared: Vec<&str> = cols.iter().map(|c| c.0.as_str()).collect();
        let mut written: Vec<&str> = spec.columns.to_vec();
        declared.sort_unstable();
        written.sort_unstable();
        assert_eq!(declared, written, "{table}: the columns the sink writes");
    }
    let (replication,) = rows::<(BTreeMap<String, String>,)>(
        &session,
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?",
        (&ks,),
    )
    .await[0]
        .clone();
    assert!(
        replication["class"].ends_with("SimpleStrategy"),
        "{replication:?}"
    );

    // --replication replaces the map.
    let nts = unique_name("schema_nts");
    apply(
        nts.clone(),
        &[
            "--replication",
            "{'class': 'NetworkTopologyStrategy', 'datacenter1': 1}",
        ],
    )
    .await
    .assert_success();
    let (replication,) = rows::<(BTreeMap<String, String>,)>(
        &session,
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?",
        (&nts,),
    )
    .await[0]
        .clone();
    assert!(
        replication["class"].ends_with("NetworkTopologyStrategy")
            && replication.get("datacenter1").map(String::as_str) == Some("1"),
        "{replication:?}"
    );
}

// ---------------------------------------------------------------------------
// Write times from the record.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cell_carries_the_write_time_of_its_record() {
    let addr = shared_cassandra();
    let session = session(addr).await;
    for name in fixture_names() {
        let ks = unique_name("wt_fixture");
        let file = root().join(format!("fixtures/events/{name}.json"));
        let summary = replay(addr, &ks, &[&file], None, &[]).await;
        let checked = assert_write_times(&session, &ks, &record_timestamps(&file)).await;
        assert_eq!(
            checked as u64,
            summary["records"].as_u64().unwrap(),
            "{name}: every record's row checked"
        );
    }

    // Records without a Kafka timestamp: a log takes its own time, a dead
    // letter 0 (and day 1970-01-01); the offset's last three digits are
    // added either way.
    let dir = tempfile::tempdir().unwrap();
    let ks = unique_name("wt_none");
    let log_time = DAY0_MS + 777;
    let recs = [
        Rec::new(
            "user_auth_logs",
            0,
            1234,
            None,
            &auth_log(&uuid_of(1), "wt-user", log_time, "login"),
        ),
        Rec::new(
            "user_activity_logs",
            2,
            123_456,
            Some(DAY0_MS + 60_000),
            &activity_log(&uuid_of(2), "wt-user", log_time, "/a"),
        ),
        bad_record("user_auth_logs", 5678, None),
    ];
    let event = write_event(dir.path(), "no_timestamp", &recs);
    replay(addr, &ks, &[&event], None, &[]).await;
    assert_eq!(
        assert_write_times(&session, &ks, &record_timestamps(&event)).await,
        3
    );
    let single = |rows: Vec<(Option<i64>,)>| rows.first().and_then(|r| r.0);
    let auth = rows(
        &session,
        &format!("SELECT WRITETIME(source_offset) FROM {ks}.auth_logs"),
        (),
    )
    .await;
    assert_eq!(single(auth), Some(log_time * 1000 + 234));
    let activity = rows(
        &session,
        &format!("SELECT WRITETIME(source_offset) FROM {ks}.activity_logs"),
        (),
    )
    .await;
    assert_eq!(single(activity), Some((DAY0_MS + 60_000) * 1000 + 456));
    let dead: Vec<(Option<i64>, scylla::value::CqlDate)> = rows(
        &session,
        &format!("SELECT WRITETIME(reason), day FROM {ks}.dead_letters"),
        (),
    )
    .await;
    assert_eq!(dead, [(Some(678), day_of(0))]);
}

/// An auth and an activity log (one primary key each) in two versions, an
/// older (Kafka time `DAY0_MS`) and a newer (a minute later); every field
/// set in both, the metadata maps with different keys.
fn two_versions(user: &str) -> (Vec<Rec>, Vec<Rec>) {
    let time = DAY0_MS + 5_000;
    let auth = |event_type: &str, ok: bool, ip: &str, method: &str, agent: &str| {
        serde_json::json!({
            "event_id": uuid_of(42), "user_id": user, "timestamp": time,
            "event_type": event_type, "success": ok, "ip_address": ip,
            "auth_method": method, "user_agent": agent,
        })
    };
    let activity = |action: &str, resource: &str, ms: i64, metadata: serde_json::Value| {
        serde_json::json!({
            "event_id": uuid_of(43), "user_id": user, "timestamp": time,
            "action": action, "resource": resource, "session_id": uuid_of(44),
            "duration_ms": ms, "metadata": metadata,
        })
    };
    let old_auth = auth("login", true, "10.0.0.1", "password", "agent-old");
    let new_auth = auth("login_failed", false, "10.0.0.2", "sso", "agent-new");
    let old_activity = activity(
        "add_to_cart",
        "/old",
        500,
        serde_json::json!({"coupon": "OLD10"}),
    );
    let new_activity = activity("checkout", "/new", 900, serde_json::json!({"plan": "pro"}));
    let (old_ts, new_ts) = (Some(DAY0_MS), Some(DAY0_MS + 60_000));
    (
        vec![
            Rec::new("user_auth_logs", 0, 10, old_ts, &old_auth),
            Rec::new("user_activity_logs", 0, 11, old_ts, &old_activity),
        ],
        vec![
            Rec::new("user_auth_logs", 0, 20, new_ts, &new_auth),
            Rec::new("user_activity_logs", 0, 21, new_ts, &new_activity),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_capture_replayed_after_newer_data_leaves_the_newer_rows() {
    let addr = shared_cassandra();
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = two_versions("lww-user");
    let old = write_event(dir.path(), "old", &old);
    let new = write_event(dir.path(), "new", &new);
    let ks = unique_name("older_later");
    let session = session(addr).await;

    replay(addr, &ks, &[&new], None, &[]).await;
    let mut newer = Vec::new();
    for table in ["auth_logs", "activity_logs"] {
        newer.push(rows_with_write_times(&session, &ks, table).await);
    }
    replay(addr, &ks, &[&old], None, &[]).await;
    let mut after = Vec::new();
    for table in ["auth_logs", "activity_logs"] {
        after.push(rows_with_write_times(&session, &ks, table).await);
    }
    assert_eq!(after, newer, "the older capture changed the newer rows");
    let (auth, activity) = (&after[0][0], &after[1][0]);
    assert_eq!(auth["event_type"], "login_failed");
    assert_eq!(auth["user_agent"], "agent-new");
    assert_eq!(
        auth["writetime(event_type)"],
        (DAY0_MS + 60_000) * 1000 + 20
    );
    assert_eq!(activity["metadata"], serde_json::json!({"plan": "pro"}));
    assert_eq!(activity["duration_ms"], 900);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_versions_of_a_log_merge_cell_by_cell_the_same_in_either_order() {
    // The newer version of a log leaves out optional fields the older one
    // has. Absent fields are written unset (no cell, no tombstone), so the
    // row is merged cell by cell, each cell keeping its newest write: the
    // newer version's values, and the older version's values only where
    // the newer one wrote nothing (docs/logs.md, "Write times"). The
    // result is the same whichever capture is replayed first.
    let addr = shared_cassandra();
    let dir = tempfile::tempdir().unwrap();
    let time = DAY0_MS + 9_000;
    let old = serde_json::json!({
        "event_id": uuid_of(77), "user_id": "lww-absent", "timestamp": time,
        "action": "add_to_cart", "resource": "/cart/old",
        "session_id": uuid_of(78), "duration_ms": 500,
    });
    let new = serde_json::json!({
        "event_id": uuid_of(77), "user_id": "lww-absent", "timestamp": time,
        "action": "checkout", "resource": "/cart/new",
    });
    let old = write_event(
        dir.path(),
        "old",
        &[Rec::new("user_activity_logs", 0, 30, Some(DAY0_MS), &old)],
    );
    let new = write_event(
        dir.path(),
        "new",
        &[Rec::new(
            "user_activity_logs",
            0,
            31,
            Some(DAY0_MS + 60_000),
            &new,
        )],
    );
    let session = session(addr).await;

    let new_then_old = unique_name("new_then_old");
    replay(addr, &new_then_old, &[&new], None, &[]).await;
    replay(addr, &new_then_old, &[&old], None, &[]).await;
    let old_then_new = unique_name("old_then_new");
    replay(addr, &old_then_new, &[&old], None, &[]).await;
    replay(addr, &old_then_new, &[&new], None, &[]).await;
    let a = rows_with_write_times(&session, &new_then_old, "activity_logs").await;
    let b = rows_with_write_times(&session, &old_then_new, "activity_logs").await;
    assert_eq!(a, b, "the merge depends on the replay order");

    let dump = dir.path().join("dump");
    std::fs::create_dir_all(&dump).unwrap();
    dump_keyspace(addr, &new_then_old, &dump);
    let rows = read_rows(&dump.join("activity_logs.jsonl"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    // Set by the newer version: its values win.
    assert_eq!(row["action"], "checkout");
    assert_eq!(row["resource"], "/cart/new");
    assert_eq!(row["source_offset"], 31);
    // Left out by the newer version: the older version's cells stay.
    assert_eq!(row["session_id"], uuid_of(78));
    assert_eq!(row["duration_ms"], 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_records_with_one_key_the_same_wins_in_every_run_and_order() {
    let addr = shared_cassandra();
    let dir = tempfile::tempdir().unwrap();
    let time = DAY0_MS + 1_000;
    let user = "twice";
    // Activity: one primary key at offsets 10 and 11 of one millisecond;
    // the later offset wins. Auth: offsets 10 and 1010 of one millisecond
    // tie on the write time; the server breaks the tie the same way
    // whatever the order.
    let activity = |offset: i64, resource: &str| {
        Rec::new(
            "user_activity_logs",
            0,
            offset,
            Some(DAY0_MS),
            &activity_log(&uuid_of(1), user, time, resource),
        )
    };
    let auth = |offset: i64, ip: &str| {
        let mut log = auth_log(&uuid_of(2), user, time, "login");
        log["ip_address"] = ip.into();
        Rec::new("user_auth_logs", 0, offset, Some(DAY0_MS), &log)
    };
    let x = [activity(10, "/x"), auth(10, "10.0.0.10")];
    let y = [activity(11, "/y"), auth(1010, "10.0.0.99")];
    let xy = write_event(dir.path(), "xy", &[x.clone(), y.clone()].concat());
    let yx = write_event(dir.path(), "yx", &[y.clone(), x.clone()].concat());
    let only_x = write_event(dir.path(), "x", &x);
    let only_y = write_event(dir.path(), "y", &y);
    let orders: [(&str, Vec<&Path>); 5] = [
        ("one event, x then y", vec![&xy]),
        ("one event, y then x", vec![&yx]),
        ("one event, x then y, again", vec![&xy]),
        ("x's event, then y's", vec![&only_x, &only_y]),
        ("y's event, then x's", vec![&only_y, &only_x]),
    ];
    let session = session(addr).await;
    let mut first: Option<(&str, Vec<Vec<serde_json::Value>>)> = None;
    for (order, files) in orders {
        let ks = unique_name("one_key");
        // Each file its own replay (its own invocation).
        for f in &files {
            replay(addr, &ks, &[f], None, &[]).await;
        }
        let mut tables = Vec::new();
        for table in ["auth_logs", "activity_logs"] {
            tables.push(rows_with_write_times(&session, &ks, table).await);
        }
        assert_eq!(tables[1].len(), 1, "{order}: one row a key");
        assert_eq!(
            tables[1][0]["resource"], "/y",
            "{order}: the later offset wins"
        );
        assert_eq!(
            tables[1][0]["writetime(resource)"],
            DAY0_MS * 1000 + 11,
            "{order}"
        );
        match &first {
            None => first = Some((order, tables)),
            Some((first_order, want)) => {
                assert_eq!(&tables, want, "{order} differs from {first_order}")
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_retried_after_half_was_written_leaves_identical_cells_and_write_times() {
    let addr = shared_cassandra();
    let dir = tempfile::tempdir().unwrap();
    let mut recs = Vec::new();
    for i in 0..60i64 {
        let (table, topic, _) = LOG_TABLES[(i % 3) as usize];
        let time = DAY0_MS + i * 1_000;
        let log = log_for(table, &uuid_of(i as u64), &format!("retry-{}", i % 4), time);
        recs.push(Rec::new(
            topic,
            (i % 2) as i32,
            100 + i,
            Some(time + 250),
            &log,
        ));
    }
    recs.push(bad_record("user_session_logs", 7, Some(DAY0_MS)));
    recs.push(bad_record("user_activity_logs", 8, None));
    let full = write_event(dir.path(), "full", &recs);
    // What a failed invocation may have stored before it failed: some of
    // the rows, in no particular order.
    let half: Vec<Rec> = recs.iter().step_by(2).cloned().collect();
    let half = write_event(dir.path(), "half", &half);

    let retried = unique_name("retried");
    replay(addr, &retried, &[&half], None, &[]).await;
    replay(addr, &retried, &[&full], None, &[]).await;
    let clean = unique_name("clean");
    replay(addr, &clean, &[&full], None, &[]).await;

    let session = session(addr).await;
    for table in TABLES {
        assert_eq!(
            rows_with_write_times(&session, &retried, table).await,
            rows_with_write_times(&session, &clean, table).await,
            "{table}: the retried batch differs from a clean one"
        );
    }
    assert_eq!(
        assert_write_times(&session, &retried, &record_timestamps(&full)).await,
        recs.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_apply_with_network_topology_strategy_on_the_nodes_datacenter() {
    let addr = shared_cassandra();
    let session = session(addr).await;
    let dc: Vec<(String,)> = rows(&session, "SELECT data_center FROM system.local", ()).await;
    let dc = dc[0].0.clone();
    let ks = unique_name("nts");
    let replication = format!("{{'class': 'NetworkTopologyStrategy', '{dc}': 1}}");
    let apply = |replication: String| {
        run_env(
            args(&[
                "schema",
                "apply",
                "--cassandra",
                addr,
                "--keyspace",
                &ks,
                "--replication",
                &replication,
            ]),
            vec![],
        )
    };
    let want: BTreeMap<String, String> = [
        (
            "class".to_owned(),
            "org.apache.cassandra.locator.NetworkTopologyStrategy".to_owned(),
        ),
        (dc.clone(), "1".to_owned()),
    ]
    .into();
    for run in 0..2 {
        let out = apply(replication.clone()).await.assert_success();
        assert!(
            out.stdout.contains("applied 5 statements"),
            "run {run}: {}",
            out.stdout
        );
        assert!(!out.stderr.contains("warning"), "run {run}: {}", out.stderr);
        assert_eq!(replication_held(&session, &ks).await, Some(want.clone()));
        let tables: Vec<(String,)> = rows(
            &session,
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?",
            (&ks,),
        )
        .await;
        assert_eq!(tables.len(), TABLES.len(), "run {run}: {tables:?}");
    }
    // Asked for another replication, an existing keyspace keeps its own,
    // and the run says so with the statement that would change it.
    let other = format!("{{'class': 'NetworkTopologyStrategy', '{dc}': 3}}");
    let out = apply(other.clone()).await.assert_success();
    assert!(
        out.stderr.contains("warning: keyspace")
            && out
                .stderr
                .contains(&format!("ALTER KEYSPACE {ks} WITH replication = {other}")),
        "{}",
        out.stderr
    );
    assert_eq!(replication_held(&session, &ks).await, Some(want));
    // A value that is no replication map is a usage error, before any
    // connection.
    let bad = apply("NetworkTopologyStrategy".into()).await;
    assert_eq!(bad.status.code(), Some(64), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("not a CQL replication map"),
        "{}",
        bad.stderr
    );
}

/// The replication map of `ks` as the server holds it.
async fn replication_held(session: &Session, ks: &str) -> Option<BTreeMap<String, String>> {
    let r: Vec<(BTreeMap<String, String>,)> = rows(
        session,
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?",
        (ks,),
    )
    .await;
    r.into_iter().next().map(|r| r.0)
}
