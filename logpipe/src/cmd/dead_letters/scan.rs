//! Reading `dead_letters` (and the redrive log) back: the session, which
//! dead letters a command works on, and paged reads of the table.
//!
//! Every filter but the partition key is applied here, on the client: a
//! selection that names one topic, partition and day reads that one
//! partition; any other reads the whole table in pages of
//! [`PAGE_ROWS`] rows (no `ALLOW FILTERING`), keeping only the columns a
//! listing needs. Keys and values, up to 256 KiB each, are read one dead
//! letter at a time, and only for the dead letters a command shows or
//! redrives.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use logpipe_core::sink::connect_session;
use logpipe_core::topics::DEAD_LETTER_TABLE;
use logpipe_core::ReasonCode;
use scylla::client::session::Session;
use scylla::deserialize::row::DeserializeRow;
use scylla::response::{PagingState, PagingStateResponse};
use scylla::serialize::row::SerializeRow;
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlDate, CqlTimestamp};

use super::Failure;
use crate::cmd::replay::error_text;
use crate::storage::remote_config;

/// Rows a page of a scan asks for.
pub const PAGE_ROWS: i32 = 1000;

/// Empty pages in a row after which a read stops.
const MAX_EMPTY_PAGES: u32 = 100;

/// How long one page of a scan, or one DDL statement, may take: longer
/// than a write's timeout, since a page is up to [`PAGE_ROWS`] rows.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The columns of a listing (everything but `key` and `value`).
const LIGHT_COLUMNS: &str =
    "topic, partition, day, offset, record_timestamp, reason, detail, function";

type LightRow = (
    String,
    i32,
    CqlDate,
    i64,
    Option<CqlTimestamp>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// A dead letter without its key and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub topic: String,
    pub partition: i32,
    pub day: CqlDate,
    pub offset: i64,
    /// The record's Kafka timestamp (epoch ms), if it had one.
    pub record_timestamp: Option<i64>,
    pub reason: String,
    pub detail: String,
    pub function: String,
}

impl Letter {
    fn from_row(row: LightRow) -> Letter {
        let (topic, partition, day, offset, ts, reason, detail, function) = row;
        Letter {
            topic,
            partition,
            day,
            offset,
            record_timestamp: ts.map(|t| t.0),
            reason: reason.unwrap_or_default(),
            detail: detail.unwrap_or_default(),
            function: function.unwrap_or_default(),
        }
    }

    /// `topic/partition/offset`: the record's place in Kafka.
    pub fn place(&self) -> String {
        format!("{}/{}/{}", self.topic, self.partition, self.offset)
    }

    /// The sort order of listings and redrives: topic, partition, offset
    /// (Kafka's order), then day.
    pub fn sort_key(&self) -> (&str, i32, i64, u32) {
        (&self.topic, self.partition, self.offset, self.day.0)
    }
}

/// `key` and `value` as read.
type BlobRow = (Option<Vec<u8>>, Option<Vec<u8>>);

/// A dead letter's key and value.
#[derive(Debug, Clone, Default)]
pub struct Blobs {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

/// Which dead letters a command works on. Empty lists and `None` select
/// everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub topics: Vec<String>,
    pub partition: Option<i32>,
    pub day: Option<CqlDate>,
    pub reasons: Vec<String>,
    pub from_offset: Option<i64>,
    pub to_offset: Option<i64>,
}

impl Selection {
    /// Whether `l` is selected.
    pub fn matches(&self, l: &Letter) -> bool {
        (self.topics.is_empty() || self.topics.contains(&l.topic))
            && self.partition.is_none_or(|p| p == l.partition)
            && self.day.is_none_or(|d| d == l.day)
            && (self.reasons.is_empty() || self.reasons.contains(&l.reason))
            && self.from_offset.is_none_or(|o| l.offset >= o)
            && self.to_offset.is_none_or(|o| l.offset <= o)
    }

    /// The one partition of `dead_letters` the selection lies in, when it
    /// names exactly one topic, a partition and a day.
    fn single_partition(&self) -> Option<(String, i32, CqlDate)> {
        match (self.topics.as_slice(), self.partition, self.day) {
            ([topic], Some(p), Some(d)) => Some((topic.clone(), p, d)),
            _ => None,
        }
    }
}

/// `YYYY-MM-DD` as a CQL date.
pub fn parse_day(s: &str) -> Result<CqlDate, Failure> {
    let date = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| Failure::Usage(format!("--day: expected YYYY-MM-DD, got {s:?}")))?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a valid date");
    let days = date.signed_duration_since(epoch).num_days();
    Ok(CqlDate((days + (1i64 << 31)) as u32))
}

/// Checks that each of `reasons` is a reason code.
pub fn check_reasons(reasons: &[String]) -> Result<(), Failure> {
    for r in reasons {
        if ReasonCode::parse(r).is_none() {
            let known: Vec<&str> = ReasonCode::ALL.iter().map(|c| c.as_str()).collect();
            return Err(Failure::Usage(format!(
                "--reason: unknown reason code {r:?}; expected one of {}",
                known.join(", ")
            )));
        }
    }
    Ok(())
}

/// Opens a session to `contact` (`HOST:PORT`, or several comma-separated)
/// with the `LOGPIPE_CASSANDRA_*` environment's credentials and TLS.
pub async fn connect(contact: &str, keyspace: &str) -> Result<Session, Failure> {
    let points: Vec<String> = contact
        .split(',')
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    if points.is_empty()
        || !points.iter().all(|p| {
            p.rsplit_once(':')
                .is_some_and(|(h, port)| !h.is_empty() && port.parse::<u16>().is_ok())
        })
    {
        return Err(Failure::Usage(format!(
            "--cassandra: expected HOST:PORT, got {contact:?}"
        )));
    }
    let mut config = remote_config(&points[0], keyspace)
        .map_err(|e| Failure::Usage(one_line(&error_text(&e))))?;
    config.contact_points = points;
    connect_session(&config)
        .await
        .map_err(|e| Failure::Storage(one_line(&error_text(&e.into()))))
}

/// `text` on one line.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A storage failure reading or writing `table`.
fn storage(table: &str, e: impl std::fmt::Display) -> Failure {
    Failure::Storage(one_line(&format!("cannot read {table}: {e}")))
}

/// Prepares `cql` with the scans' page size and timeout.
async fn prepare(
    session: &Session,
    table: &str,
    cql: String,
) -> Result<PreparedStatement, Failure> {
    let mut prepared = session.prepare(cql).await.map_err(|e| storage(table, e))?;
    prepared.set_page_size(PAGE_ROWS);
    prepared.set_request_timeout(Some(READ_TIMEOUT));
    Ok(prepared)
}

/// How a paged read ended.
enum Paged {
    /// Every page was read.
    Whole,
    /// The server sent more rows than a page holds: it ignores the page
    /// size, and may have stopped at a cap of its own.
    NotPaged,
}

/// Reads every page of `prepared` with `values`, handing each page's rows
/// to `on_page`.
async fn read_pages<T, V>(
    session: &Session,
    table: &str,
    prepared: &PreparedStatement,
    values: &V,
    mut on_page: impl FnMut(Vec<T>),
) -> Result<Paged, Failure>
where
    T: for<'f, 'm> DeserializeRow<'f, 'm>,
    V: SerializeRow,
{
    let mut paging_state = PagingState::start();
    // A server may answer a page with no rows and more to come (while it
    // skips expired or deleted rows); one that keeps doing so is not
    // followed forever.
    let mut empty_pages = 0;
    loop {
        let (result, next) = session
            .execute_single_page(prepared, values, paging_state)
            .await
            .map_err(|e| storage(table, e))?;
        let rows = result.into_rows_result().map_err(|e| storage(table, e))?;
        let page: Vec<T> = rows
            .rows::<T>()
            .map_err(|e| storage(table, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| storage(table, e))?;
        let len = page.len();
        on_page(page);
        if len > PAGE_ROWS as usize {
            return Ok(Paged::NotPaged);
        }
        empty_pages = if len == 0 { empty_pages + 1 } else { 0 };
        match next {
            PagingStateResponse::HasMorePages { state } if empty_pages < MAX_EMPTY_PAGES => {
                paging_state = state
            }
            _ => return Ok(Paged::Whole),
        }
    }
}

/// A spinner on stderr (drawn only when stderr is a terminal) for a scan.
fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The dead letters of `keyspace` that `selection` selects, sorted by
/// topic, partition, offset and day, without keys and values.
pub async fn scan(
    session: &Session,
    keyspace: &str,
    selection: &Selection,
) -> Result<Vec<Letter>, Failure> {
    let table = format!("{keyspace}.{DEAD_LETTER_TABLE}");
    let bar = spinner();
    let mut scanned: u64 = 0;
    let mut found: Vec<Letter> = Vec::new();
    let keep = |page: Vec<LightRow>, found: &mut Vec<Letter>, scanned: &mut u64| {
        *scanned += page.len() as u64;
        found.extend(
            page.into_iter()
                .map(Letter::from_row)
                .filter(|l| selection.matches(l)),
        );
        bar.set_message(format!(
            "reading {table}: {scanned} dead letters read, {} selected",
            found.len()
        ));
    };
    let partition_cql = format!(
        "SELECT {LIGHT_COLUMNS} FROM {table} WHERE topic = ? AND partition = ? AND day = ?"
    );
    if let Some(key) = selection.single_partition() {
        let prepared = prepare(session, &table, partition_cql).await?;
        read_pages(session, &table, &prepared, &key, |page| {
            keep(page, &mut found, &mut scanned)
        })
        .await?;
    } else {
        let prepared = prepare(
            session,
            &table,
            format!("SELECT {LIGHT_COLUMNS} FROM {table}"),
        )
        .await?;
        let mut partitions: BTreeSet<(String, i32, u32)> = BTreeSet::new();
        let paged = read_pages(session, &table, &prepared, &(), |page: Vec<LightRow>| {
            partitions.extend(page.iter().map(|r| (r.0.clone(), r.1, r.2 .0)));
            keep(page, &mut found, &mut scanned)
        })
        .await?;
        if let Paged::NotPaged = paged {
            // A server that does not page (the embedded node) may cap a
            // whole-table read: read each partition it showed whole.
            bar.suspend(|| {
                eprintln!(
                    "warning: the server does not page its results; reading the {} partition(s) \
                     its first answer showed, one by one (a partition it did not show is missed: \
                     name --topic, --partition and --day to read one)",
                    partitions.len()
                )
            });
            found.clear();
            scanned = 0;
            let prepared = prepare(session, &table, partition_cql).await?;
            for (topic, p, day) in partitions {
                read_pages(
                    session,
                    &table,
                    &prepared,
                    &(topic, p, CqlDate(day)),
                    |page| keep(page, &mut found, &mut scanned),
                )
                .await?;
            }
        }
    }
    bar.finish_and_clear();
    found.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    found.dedup();
    Ok(found)
}

/// The key and value of one dead letter; `None` if it is gone.
pub async fn blobs(
    session: &Session,
    prepared: &PreparedStatement,
    keyspace: &str,
    l: &Letter,
) -> Result<Option<Blobs>, Failure> {
    let table = format!("{keyspace}.{DEAD_LETTER_TABLE}");
    let mut out = None;
    read_pages(
        session,
        &table,
        prepared,
        &(&l.topic, l.partition, l.day, l.offset),
        |page: Vec<BlobRow>| {
            if let Some((key, value)) = page.into_iter().next() {
                out = Some(Blobs { key, value });
            }
        },
    )
    .await?;
    Ok(out)
}

/// The statement [`blobs`] runs.
pub async fn prepare_blobs(
    session: &Session,
    keyspace: &str,
) -> Result<PreparedStatement, Failure> {
    let table = format!("{keyspace}.{DEAD_LETTER_TABLE}");
    prepare(
        session,
        &table,
        format!(
            "SELECT key, value FROM {table} \
             WHERE topic = ? AND partition = ? AND day = ? AND offset = ?"
        ),
    )
    .await
}

/// One dead letter by its whole primary key, without key and value.
pub async fn one(
    session: &Session,
    keyspace: &str,
    topic: &str,
    partition: i32,
    day: CqlDate,
    offset: i64,
) -> Result<Option<Letter>, Failure> {
    let table = format!("{keyspace}.{DEAD_LETTER_TABLE}");
    let prepared = prepare(
        session,
        &table,
        format!(
            "SELECT {LIGHT_COLUMNS} FROM {table} \
             WHERE topic = ? AND partition = ? AND day = ? AND offset = ?"
        ),
    )
    .await?;
    let mut out = None;
    read_pages(
        session,
        &table,
        &prepared,
        &(topic, partition, day, offset),
        |page: Vec<LightRow>| {
            if let Some(row) = page.into_iter().next() {
                out = Some(Letter::from_row(row));
            }
        },
    )
    .await?;
    Ok(out)
}

/// Runs one DDL statement (longer timeout), then waits for schema
/// agreement.
pub async fn ddl(session: &Session, table: &str, cql: &str) -> Result<(), Failure> {
    let mut statement = scylla::statement::unprepared::Statement::new(cql);
    statement.set_request_timeout(Some(READ_TIMEOUT * 2));
    session
        .query_unpaged(statement, ())
        .await
        .map_err(|e| Failure::Storage(one_line(&format!("cannot create {table}: {e}"))))?;
    session
        .await_schema_agreement()
        .await
        .map_err(|e| Failure::Storage(one_line(&format!("cannot create {table}: {e}"))))?;
    Ok(())
}

/// Every row of `cql` (no bind values), paged; for small tables (the
/// redrive log). On a server that does not page, what its one answer held.
pub async fn read_all<T>(session: &Session, table: &str, cql: String) -> Result<Vec<T>, Failure>
where
    T: for<'f, 'm> DeserializeRow<'f, 'm>,
{
    let prepared = prepare(session, table, cql).await?;
    let mut out = Vec::new();
    read_pages(session, table, &prepared, &(), |page: Vec<T>| {
        out.extend(page)
    })
    .await?;
    Ok(out)
}

/// A prepared statement with the scans' timeout (for writes).
pub async fn prepare_write(
    session: &Session,
    table: &str,
    cql: String,
) -> Result<PreparedStatement, Failure> {
    prepare(session, table, cql).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(topic: &str, partition: i32, offset: i64, reason: &str) -> Letter {
        Letter {
            topic: topic.into(),
            partition,
            day: parse_day("2026-11-25").unwrap(),
            offset,
            record_timestamp: None,
            reason: reason.into(),
            detail: String::new(),
            function: String::new(),
        }
    }

    #[test]
    fn days_parse_to_cql_dates() {
        assert_eq!(parse_day("1970-01-01").unwrap(), CqlDate(1 << 31));
        assert_eq!(
            parse_day("2026-11-25").unwrap(),
            logpipe_core::logs::day_of(1_795_615_200_000)
        );
        for bad in ["2026-13-01", "25/11/2026", "", "2026-11-25T00:00:00Z"] {
            assert!(matches!(parse_day(bad), Err(Failure::Usage(_))), "{bad}");
        }
    }

    #[test]
    fn reasons_are_checked() {
        assert!(check_reasons(&["not_an_object".into(), "too_large".into()]).is_ok());
        let Err(Failure::Usage(m)) = check_reasons(&["nope".into()]) else {
            panic!("an unknown reason is a usage error");
        };
        assert!(m.contains("nope") && m.contains("missing_field"), "{m}");
    }

    #[test]
    fn selections_filter_every_column() {
        let all = Selection::default();
        let l = letter("a", 1, 10, "invalid_json");
        assert!(all.matches(&l));
        let s = Selection {
            topics: vec!["b".into(), "a".into()],
            partition: Some(1),
            day: Some(parse_day("2026-11-25").unwrap()),
            reasons: vec!["invalid_json".into()],
            from_offset: Some(10),
            to_offset: Some(10),
        };
        assert!(s.matches(&l));
        assert!(s.single_partition().is_none(), "two topics");
        for other in [
            letter("c", 1, 10, "invalid_json"),
            letter("a", 0, 10, "invalid_json"),
            letter("a", 1, 9, "invalid_json"),
            letter("a", 1, 11, "invalid_json"),
            letter("a", 1, 10, "missing_field"),
        ] {
            assert!(!s.matches(&other), "{other:?}");
        }
        let one = Selection {
            topics: vec!["a".into()],
            partition: Some(1),
            day: Some(CqlDate(5)),
            ..Selection::default()
        };
        assert_eq!(one.single_partition(), Some(("a".into(), 1, CqlDate(5))));
    }
}
