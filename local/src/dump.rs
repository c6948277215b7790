//! Reading the tables back through CQL as JSON rows: what `logpipe replay
//! --dump` writes and what the event-replay tests compare with their golden
//! files.
//!
//! A table is read whole with a paged query; the rows are rendered with
//! stable value formats and sorted by primary key. A server that ignores
//! the page size (the embedded node: it answers a full-table `SELECT` with
//! one page of at most 4,999 rows, and ignores clustering order and
//! `LIMIT`) is read partition by partition instead: the partitions the scan
//! found, plus those the caller knows it wrote.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use chrono::DateTime;
use scylla::client::session::Session;
use scylla::response::query_result::QueryResult;
use scylla::response::{PagingState, PagingStateResponse};
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlValue, Row};
use serde_json::{Map, Value};

use logpipe_core::batch::ProcessedBatch;
use logpipe_core::logs::LogRow;
use logpipe_core::schema::{self, TableKey};
use logpipe_core::topics::DEAD_LETTER_TABLE;

/// A CQL `date` as `YYYY-MM-DD`, kept in `logpipe_core::rows` beside the
/// `day` partition it reads back.
pub use logpipe_core::rows::format_date;

/// Rows a page of a whole-table read asks for.
pub const DUMP_PAGE_ROWS: i32 = 1000;

/// Reading back failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {table} back: {message}")]
pub struct DumpError {
    pub table: String,
    pub message: String,
}

/// One row: column name → JSON value.
pub type JsonRow = Map<String, Value>;

/// A partition key's values, in key order.
pub type PartitionKey = Vec<CqlValue>;

/// A row's primary key values (partition key, then clustering columns) and
/// the row.
type KeyedRow = (Vec<Option<CqlValue>>, JsonRow);

/// The partitions a processed batch writes, by table.
pub fn partitions_of(batch: &ProcessedBatch) -> BTreeMap<&'static str, Vec<PartitionKey>> {
    let mut out: BTreeMap<&'static str, Vec<PartitionKey>> = BTreeMap::new();
    for row in &batch.rows {
        let (user, day) = match row {
            LogRow::Auth(r) => (&r.user_id, r.day),
            LogRow::Session(r) => (&r.user_id, r.day),
            LogRow::Activity(r) => (&r.user_id, r.day),
        };
        out.entry(row.kind().table())
            .or_default()
            .push(vec![CqlValue::Text(user.to_string()), CqlValue::Date(day)]);
    }
    for dl in &batch.dead_letters {
        out.entry(DEAD_LETTER_TABLE).or_default().push(vec![
            CqlValue::Text(dl.topic.clone()),
            CqlValue::Int(dl.partition),
            CqlValue::Date(dl.day),
        ]);
    }
    out
}

/// Reads every table back; `known` adds partitions a scan might miss.
pub async fn dump_all(
    session: &Session,
    keyspace: &str,
    known: &BTreeMap<&'static str, Vec<PartitionKey>>,
) -> Result<BTreeMap<&'static str, Vec<JsonRow>>, DumpError> {
    let mut out = BTreeMap::new();
    for table in schema::tables() {
        let extra = known.get(table.table).map_or(&[][..], Vec::as_slice);
        out.insert(
            table.table,
            dump_table(session, keyspace, &table, extra).await?,
        );
    }
    Ok(out)
}

/// Reads one table back, sorted by primary key: every row, through a paged
/// full-table query; on a server that ignores the page size (whose
/// full-table reads stop at a cap), partition by partition, over the
/// partitions the scan found and those in `known`.
pub async fn dump_table(
    session: &Session,
    keyspace: &str,
    table: &TableKey,
    known: &[PartitionKey],
) -> Result<Vec<JsonRow>, DumpError> {
    let err = |message: String| DumpError {
        table: table.table.to_owned(),
        message,
    };
    let mut scan = session
        .prepare(format!("SELECT * FROM {keyspace}.{}", table.table))
        .await
        .map_err(|e| err(e.to_string()))?;
    scan.set_page_size(DUMP_PAGE_ROWS);
    let mut keyed: Vec<KeyedRow> = Vec::new();
    let mut paging_state = PagingState::start();
    let mut pages_honoured = true;
    loop {
        let (result, next) = session
            .execute_single_page(&scan, &[], paging_state)
            .await
            .map_err(|e| err(e.to_string()))?;
        let page = keyed_rows(result, table)?;
        pages_honoured &= page.len() <= DUMP_PAGE_ROWS as usize;
        keyed.extend(page);
        match next {
            PagingStateResponse::HasMorePages { state } if pages_honoured => paging_state = state,
            _ => break,
        }
    }
    if !pages_honoured {
        // The server sent more rows than a page holds: it does not page,
        // and its whole-table read may have stopped at a cap.
        let mut partitions: Vec<PartitionKey> = known.to_vec();
        let width = table.partition_key.len();
        partitions.extend(keyed.iter().filter_map(|(key, _)| {
            key[..width]
                .iter()
                .cloned()
                .collect::<Option<PartitionKey>>()
        }));
        let unique: BTreeSet<SortKey> = partitions.into_iter().map(SortKey).collect();
        let prepared = session
            .prepare(partition_select(keyspace, table))
            .await
            .map_err(|e| err(e.to_string()))?;
        keyed.clear();
        for SortKey(pk) in unique {
            keyed.extend(read_partition(session, &prepared, table, &pk).await?);
        }
    }
    keyed.sort_by(|a, b| cmp_keys(&a.0, &b.0));
    keyed.dedup_by(|a, b| cmp_keys(&a.0, &b.0) == Ordering::Equal);
    Ok(keyed.into_iter().map(|(_, row)| row).collect())
}

/// The rows of one partition of `table`, sorted by primary key: for reading
/// a few rows back without scanning the table.
pub async fn partition_rows(
    session: &Session,
    keyspace: &str,
    table: &TableKey,
    key: &PartitionKey,
) -> Result<Vec<JsonRow>, DumpError> {
    let prepared = session
        .prepare(partition_select(keyspace, table))
        .await
        .map_err(|e| DumpError {
            table: table.table.to_owned(),
            message: e.to_string(),
        })?;
    let mut keyed = read_partition(session, &prepared, table, key).await?;
    keyed.sort_by(|a, b| cmp_keys(&a.0, &b.0));
    Ok(keyed.into_iter().map(|(_, row)| row).collect())
}

/// `SELECT * FROM keyspace.table WHERE` every partition key column `= ?`.
fn partition_select(keyspace: &str, table: &TableKey) -> String {
    format!(
        "SELECT * FROM {keyspace}.{} WHERE {}",
        table.table,
        table
            .partition_key
            .iter()
            .map(|c| format!("{c} = ?"))
            .collect::<Vec<_>>()
            .join(" AND ")
    )
}

/// The rows of partition `pk` ([`partition_select`] prepared), each with
/// its primary key values. Paged, for a server that pages.
async fn read_partition(
    session: &Session,
    prepared: &PreparedStatement,
    table: &TableKey,
    pk: &PartitionKey,
) -> Result<Vec<KeyedRow>, DumpError> {
    let err = |message: String| DumpError {
        table: table.table.to_owned(),
        message,
    };
    let mut keyed = Vec::new();
    let mut paging_state = PagingState::start();
    loop {
        let (result, next) = session
            .execute_single_page(prepared, pk, paging_state)
            .await
            .map_err(|e| err(e.to_string()))?;
        let page = keyed_rows(result, table)?;
        let empty = page.is_empty();
        keyed.extend(page);
        match next {
            PagingStateResponse::HasMorePages { state } if !empty => paging_state = state,
            _ => break,
        }
    }
    Ok(keyed)
}

/// The rows of a `SELECT *` result, each with its primary key values
/// (partition key, then clustering columns).
fn keyed_rows(result: QueryResult, table: &TableKey) -> Result<Vec<KeyedRow>, DumpError> {
    let err = |message: String| DumpError {
        table: table.table.to_owned(),
        message,
    };
    let rows = result.into_rows_result().map_err(|e| err(e.to_string()))?;
    let names: Vec<String> = rows
        .column_specs()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    let mut keyed = Vec::new();
    for row in rows.rows::<Row>().map_err(|e| err(e.to_string()))? {
        let row = row.map_err(|e| err(e.to_string()))?;
        let mut by_name: BTreeMap<&str, Option<CqlValue>> = BTreeMap::new();
        for (name, value) in names.iter().zip(row.columns) {
            by_name.insert(name, value);
        }
        let key = table
            .partition_key
            .iter()
            .chain(table.clustering)
            .map(|c| by_name.get(c).cloned().flatten())
            .collect();
        let json = by_name
            .into_iter()
            .map(|(name, v)| (name.to_owned(), column_json(v.as_ref())))
            .collect();
        keyed.push((key, json));
    }
    Ok(keyed)
}

struct SortKey(PartitionKey);

impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for SortKey {}
impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        let a: Vec<Option<CqlValue>> = self.0.iter().cloned().map(Some).collect();
        let b: Vec<Option<CqlValue>> = other.0.iter().cloned().map(Some).collect();
        cmp_keys(&a, &b)
    }
}

fn cmp_keys(a: &[Option<CqlValue>], b: &[Option<CqlValue>]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| match (x, y) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (Some(x), Some(y)) => cmp_values(x, y),
        })
        .find(|o| o.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

fn cmp_values(a: &CqlValue, b: &CqlValue) -> Ordering {
    use CqlValue as V;
    match (a, b) {
        (V::Text(x), V::Text(y)) | (V::Ascii(x), V::Ascii(y)) => x.cmp(y),
        (V::Int(x), V::Int(y)) => x.cmp(y),
        (V::BigInt(x), V::BigInt(y)) => x.cmp(y),
        (V::Date(x), V::Date(y)) => x.0.cmp(&y.0),
        (V::Timestamp(x), V::Timestamp(y)) => x.0.cmp(&y.0),
        (V::Uuid(x), V::Uuid(y)) => x.cmp(y),
        _ => to_json(a).to_string().cmp(&to_json(b).to_string()),
    }
}

/// Renders a column's value: null for a null cell and for an empty
/// collection, which CQL does not tell apart from null (Cassandra reads an
/// empty map back as null, the embedded node as `{}`); else [`to_json`].
pub fn column_json(v: Option<&CqlValue>) -> Value {
    match v {
        None => Value::Null,
        Some(CqlValue::Map(m)) if m.is_empty() => Value::Null,
        Some(CqlValue::List(l) | CqlValue::Set(l)) if l.is_empty() => Value::Null,
        Some(v) => to_json(v),
    }
}

/// Renders a CQL value: timestamps as RFC 3339 UTC with milliseconds,
/// dates as `YYYY-MM-DD`, UUIDs lowercase hyphenated, inet as text, maps as
/// objects, blobs as base64.
pub fn to_json(v: &CqlValue) -> Value {
    use CqlValue as V;
    match v {
        V::Ascii(s) | V::Text(s) => Value::String(s.clone()),
        V::Boolean(b) => Value::Bool(*b),
        V::Int(n) => Value::from(*n),
        V::BigInt(n) => Value::from(*n),
        V::SmallInt(n) => Value::from(*n),
        V::TinyInt(n) => Value::from(*n),
        V::Double(f) => Value::from(*f),
        V::Float(f) => Value::from(f64::from(*f)),
        V::Timestamp(t) => Value::String(format_timestamp(t.0)),
        V::Date(d) => Value::String(format_date(d.0)),
        V::Uuid(u) => Value::String(u.hyphenated().to_string()),
        V::Inet(ip) => Value::String(ip.to_string()),
        V::Blob(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        V::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        V::Text(s) | V::Ascii(s) => s.clone(),
                        other => to_json(other).to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        V::List(items) | V::Set(items) => Value::Array(items.iter().map(to_json).collect()),
        V::Empty => Value::Null,
        other => Value::String(format!("{other:?}")),
    }
}

/// Epoch milliseconds as `2026-11-25T14:00:00.123Z`.
pub fn format_timestamp(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use logpipe_core::logs::day_of;

    #[test]
    fn formats_match_the_dump_conventions() {
        assert_eq!(
            format_timestamp(1_795_615_200_123),
            "2026-11-25T14:00:00.123Z"
        );
        assert_eq!(
            format_timestamp(1_795_615_200_000),
            "2026-11-25T14:00:00.000Z"
        );
        assert_eq!(format_date(day_of(1_795_615_200_123).0), "2026-11-25");
        assert_eq!(format_date(day_of(0).0), "1970-01-01");
        assert_eq!(
            to_json(&CqlValue::Blob(vec![0, 255])),
            Value::String("AP8=".into())
        );
    }

    #[test]
    fn an_empty_collection_column_reads_as_null() {
        assert_eq!(column_json(None), Value::Null);
        assert_eq!(column_json(Some(&CqlValue::Map(vec![]))), Value::Null);
        assert_eq!(column_json(Some(&CqlValue::List(vec![]))), Value::Null);
        assert_eq!(column_json(Some(&CqlValue::Set(vec![]))), Value::Null);
        let map = CqlValue::Map(vec![(
            CqlValue::Text("a".into()),
            CqlValue::Text("1".into()),
        )]);
        assert_eq!(column_json(Some(&map)), serde_json::json!({"a": "1"}));
        assert_eq!(column_json(Some(&CqlValue::Int(0))), Value::from(0));
    }

    /// Rows sort by their primary key values column by column: `dead_letters`
    /// by topic, partition, day, then offset.
    #[test]
    fn keys_sort_column_by_column() {
        use logpipe_core::logs::day_of;
        let key = |topic: &str, partition: i32, day_ms: i64, offset: i64| {
            vec![
                Some(CqlValue::Text(topic.into())),
                Some(CqlValue::Int(partition)),
                Some(CqlValue::Date(day_of(day_ms))),
                Some(CqlValue::BigInt(offset)),
            ]
        };
        let keys = vec![
            key("b", 0, 0, 1),
            key("a", 1, 0, 0),
            key("a", 0, 1_795_615_200_000, 5),
            key("a", 0, 0, 9),
            key("a", 0, 1_795_615_200_000, 2),
            key("a", 0, 86_400_000, 1),
        ];
        let mut sorted = keys.clone();
        sorted.sort_by(|a, b| cmp_keys(a, b));
        // Topic, then partition, then day, then offset.
        let want: Vec<_> = [3, 5, 4, 2, 1, 0].map(|i| keys[i].clone()).into();
        assert_eq!(sorted, want);
    }
}
