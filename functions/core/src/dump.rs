//! Reading the tables back through CQL as JSON rows: what `logpipe replay
//! --dump` writes and what the event-replay tests compare with their golden
//! files.
//!
//! Rows are read partition by partition (a full-table scan is only used to
//! find partitions, since some servers cap it), rendered with stable value
//! formats, and sorted by primary key.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use chrono::{DateTime, NaiveDate};
use scylla::client::session::Session;
use scylla::statement::prepared::PreparedStatement;
use scylla::value::{CqlValue, Row};
use serde_json::{Map, Value};

use crate::batch::ProcessedBatch;
use crate::logs::LogRow;
use crate::schema::{self, TableKey};

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
        out.entry(crate::topics::DEAD_LETTER_TABLE)
            .or_default()
            .push(vec![
                CqlValue::Text(dl.topic.clone()),
                CqlValue::Int(dl.partition),
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

/// Reads one table back, sorted by primary key.
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
    // Partitions: those a scan finds, plus those the caller knows of.
    let scan = format!(
        "SELECT {} FROM {keyspace}.{}",
        table.partition_key.join(", "),
        table.table
    );
    let mut partitions: Vec<PartitionKey> = known.to_vec();
    let result = session
        .query_unpaged(scan, &[])
        .await
        .map_err(|e| err(e.to_string()))?;
    let rows = result.into_rows_result().map_err(|e| err(e.to_string()))?;
    for row in rows.rows::<Row>().map_err(|e| err(e.to_string()))? {
        let row = row.map_err(|e| err(e.to_string()))?;
        if row.columns.iter().all(Option::is_some) {
            partitions.push(row.columns.into_iter().flatten().collect());
        }
    }
    let unique: BTreeSet<SortKey> = partitions.into_iter().map(SortKey).collect();

    let prepared = session
        .prepare(partition_select(keyspace, table))
        .await
        .map_err(|e| err(e.to_string()))?;
    let mut keyed: Vec<(Vec<Option<CqlValue>>, JsonRow)> = Vec::new();
    for SortKey(pk) in unique {
        keyed.extend(read_partition(session, &prepared, table, &pk).await?);
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
/// its primary key values (partition key, then clustering columns).
async fn read_partition(
    session: &Session,
    prepared: &PreparedStatement,
    table: &TableKey,
    pk: &PartitionKey,
) -> Result<Vec<(Vec<Option<CqlValue>>, JsonRow)>, DumpError> {
    let err = |message: String| DumpError {
        table: table.table.to_owned(),
        message,
    };
    let result = session
        .execute_unpaged(prepared, pk)
        .await
        .map_err(|e| err(e.to_string()))?;
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
            .map(|(name, v)| (name.to_owned(), v.as_ref().map_or(Value::Null, to_json)))
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

/// A CQL `date` (days since the epoch, offset by 2^31) as `YYYY-MM-DD`.
pub fn format_date(raw: u32) -> String {
    let days = i64::from(raw) - (1i64 << 31);
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(days)))
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| days.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::day_of;

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
}
