//! The Cassandra sink: one session and one prepared statement a table,
//! built once per Lambda container; rows written concurrently (bounded),
//! each retried with backoff on transient errors. A write that still fails
//! fails the whole batch, so the event source mapping retries it: nothing is
//! acknowledged that was not stored.
//!
//! Every write is an idempotent upsert keyed only by the record's own
//! fields, so a retried batch leaves the same rows as a clean one. Every
//! insert is `INSERT … USING TIMESTAMP ? AND TTL ?`: the write time comes
//! from the record ([`crate::record::write_time_micros`]), never from the
//! clock, so a retry or replay writes identical cells with an identical
//! `WRITETIME`, the winner between two records of one primary key does not
//! depend on when they were written, and an old capture replayed later never
//! overwrites newer data.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, TryStreamExt};
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::{ExecutionError, NewSessionError, PrepareError, RequestAttemptError};
use scylla::policies::load_balancing::DefaultPolicy;
use scylla::serialize::row::{RowSerializationContext, SerializeRow};
use scylla::serialize::value::SerializeValue;
use scylla::serialize::writers::RowWriter;
use scylla::serialize::SerializationError;
use scylla::statement::prepared::PreparedStatement;

use crate::batch::ProcessedBatch;
use crate::config::{Credentials, SinkConfig};
use crate::logs::LogRow;
use crate::rows::Row;
use crate::secrets::{self, SecretError};
use crate::table::{self, Table};
use crate::tls::{self, TlsSetupError};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error("cannot connect to Cassandra at {contact_points}: {source}")]
    Connect {
        contact_points: String,
        source: NewSessionError,
    },
    #[error("cannot prepare the insert into {table}: {source}")]
    Prepare { table: String, source: PrepareError },
    #[error(
        "the insert into {table} has {found} bind marker(s); expected {columns} columns \
         plus USING TIMESTAMP and TTL ({expected}), or {columns} where the server ignores them"
    )]
    Markers {
        table: String,
        columns: usize,
        expected: usize,
        found: usize,
    },
    #[error("write to {table} failed after {attempts} attempt(s): {source}")]
    Write {
        table: String,
        attempts: u32,
        source: ExecutionError,
    },
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// Opens a session as `config` says.
pub async fn connect_session(config: &SinkConfig) -> Result<Session, SinkError> {
    let mut builder = SessionBuilder::new()
        .known_nodes(&config.contact_points)
        .connection_timeout(config.request_timeout)
        // Only DDL needs schema agreement; the sink issues none, and some
        // single-node servers do not answer the agreement queries.
        .auto_await_schema_agreement(false);
    let mut policy = DefaultPolicy::builder().token_aware(true);
    if let Some(dc) = &config.local_dc {
        policy = policy
            .prefer_datacenter(dc.clone())
            .permit_dc_failover(false);
    }
    let profile = ExecutionProfile::builder()
        .consistency(config.consistency)
        .request_timeout(Some(config.request_timeout))
        .load_balancing_policy(policy.build())
        .build();
    builder = builder.default_execution_profile_handle(profile.into_handle());
    match &config.credentials {
        Credentials::None => {}
        Credentials::Plain { username, password } => builder = builder.user(username, password),
        Credentials::SecretArn(arn) => {
            let (username, password) = secrets::fetch_credentials(arn).await?;
            builder = builder.user(username, password);
        }
    }
    if let Some(settings) = &config.tls {
        let first = config
            .contact_points
            .first()
            .map(String::as_str)
            .unwrap_or("");
        let host = first
            .rsplit_once(':')
            .map_or(first, |(h, _)| h)
            .trim_matches(['[', ']']);
        builder = builder.tls_context(Some(tls::client_config(settings, host)?));
    }
    builder.build().await.map_err(|source| SinkError::Connect {
        contact_points: config.contact_points.join(","),
        source,
    })
}

/// Writes processed batches to the four tables.
pub struct CassandraSink {
    session: Arc<Session>,
    /// One prepared insert a table, in the order of [`table::ALL`].
    inserts: Vec<Insert>,
    keyspace: String,
    ttl_seconds: i32,
    concurrency: usize,
    max_attempts: u32,
    backoff: Duration,
    /// Writes retried since [`CassandraSink::take_write_retries`] last
    /// read them (the batch metrics' `WriteRetries`).
    write_retries: AtomicU64,
}

/// One table's prepared insert.
struct Insert {
    table: &'static Table,
    stmt: PreparedStatement,
    /// Whether it takes the write time and TTL as its last two values
    /// (false where the server does not count those bind markers).
    binds_write_time: bool,
}

/// Prepares the insert into `table`: [`insert_cql`], or, on a server that
/// does not count `USING TIMESTAMP ?`/`USING TTL ?` bind markers (the
/// embedded node: it reports only the column markers and ignores both
/// clauses), [`insert_cql_without_write_time`].
async fn prepare_insert(
    session: &Session,
    keyspace: &str,
    described: &'static Table,
) -> Result<Insert, SinkError> {
    let (table, columns) = (described.table, described.columns);
    let prepare = |cql: String| async move {
        session
            .prepare(cql)
            .await
            .map_err(|source| SinkError::Prepare {
                table: table.to_owned(),
                source,
            })
    };
    let mut stmt = prepare(insert_cql(keyspace, table, columns)).await?;
    let found = stmt.get_variable_col_specs().len();
    let binds_write_time = match found {
        n if n == columns.len() + USING_MARKERS => true,
        n if n == columns.len() => {
            stmt = prepare(insert_cql_without_write_time(keyspace, table, columns)).await?;
            false
        }
        _ => {
            return Err(SinkError::Markers {
                table: table.to_owned(),
                columns: columns.len(),
                expected: columns.len() + USING_MARKERS,
                found,
            })
        }
    };
    // Upserts keyed by the record, with the record's write time: safe for
    // the driver to retry and to execute speculatively.
    stmt.set_is_idempotent(true);
    Ok(Insert {
        table: described,
        stmt,
        binds_write_time,
    })
}

impl CassandraSink {
    /// Connects and prepares the inserts.
    pub async fn connect(config: &SinkConfig) -> Result<Self, SinkError> {
        let session = Arc::new(connect_session(config).await?);
        Self::with_session(session, config).await
    }

    /// Prepares the inserts on an open session.
    pub async fn with_session(
        session: Arc<Session>,
        config: &SinkConfig,
    ) -> Result<Self, SinkError> {
        let ks = &config.keyspace;
        let mut inserts = Vec::with_capacity(table::ALL.len());
        for described in &table::ALL {
            inserts.push(prepare_insert(&session, ks, described).await?);
        }
        if inserts.iter().any(|i| !i.binds_write_time) {
            tracing::warn!(
                keyspace = %ks,
                "the server ignores client write times: it does not take USING TIMESTAMP ? \
                 and USING TTL ? bind markers, so rows are written without the record's \
                 write time or a TTL"
            );
        }
        Ok(CassandraSink {
            session,
            inserts,
            keyspace: ks.clone(),
            ttl_seconds: i32::try_from(config.ttl_seconds).unwrap_or(i32::MAX),
            concurrency: config.write_concurrency,
            max_attempts: config.max_attempts,
            backoff: config.retry_backoff,
            write_retries: AtomicU64::new(0),
        })
    }

    /// Whether every insert binds the record's write time and the TTL
    /// (false on a server that ignores `USING TIMESTAMP ?`/`USING TTL ?`,
    /// such as the embedded node).
    pub fn binds_write_time(&self) -> bool {
        self.inserts.iter().all(|i| i.binds_write_time)
    }

    /// The text of the prepared insert into `table` (one of the four), as
    /// sent to the server: [`insert_cql`], or
    /// [`insert_cql_without_write_time`] where the server ignores client
    /// write times.
    pub fn insert_statement(&self, table: &str) -> Option<&str> {
        self.inserts
            .iter()
            .find(|i| i.table.table == table)
            .map(|i| i.stmt.get_statement())
    }

    /// The open session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The keyspace written to.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }

    /// Writes retried since the last call (of every batch stored in
    /// between: one, in a Lambda container), and starts counting again.
    pub fn take_write_retries(&self) -> u64 {
        self.write_retries.swap(0, Ordering::Relaxed)
    }

    /// Stores every row and dead letter of `batch`, at most `concurrency`
    /// writes in flight. Returns after all succeeded, or with the first
    /// error that outlived its retries.
    pub async fn store(&self, batch: &ProcessedBatch) -> Result<(), SinkError> {
        let rows = batch.rows.iter().map(Write::Log);
        let dead = batch.dead_letters.iter().map(Write::Dead);
        stream::iter(rows.chain(dead).map(Ok))
            .try_for_each_concurrent(self.concurrency, |w| self.write(w))
            .await
    }

    async fn write(&self, w: Write<'_>) -> Result<(), SinkError> {
        match w {
            Write::Log(LogRow::Auth(r)) => self.insert(r).await,
            Write::Log(LogRow::Session(r)) => self.insert(r).await,
            Write::Log(LogRow::Activity(r)) => self.insert(r).await,
            Write::Dead(r) => self.insert(r).await,
        }
    }

    /// Writes `row` with the insert prepared for its table.
    async fn insert<R: Row>(&self, row: &R) -> Result<(), SinkError> {
        let insert = self
            .inserts
            .iter()
            .find(|i| i.table.table == R::TABLE.table)
            .expect("an insert is prepared for every table of table::ALL, and every Row's table is one of them");
        let write_time = row.write_time();
        if insert.binds_write_time {
            let values = WithWriteTime {
                row,
                write_time,
                ttl_seconds: self.ttl_seconds,
            };
            self.execute(&insert.stmt, &values).await
        } else {
            self.execute(&insert.stmt, row).await
        }
    }

    async fn execute(
        &self,
        stmt: &PreparedStatement,
        values: &impl SerializeRow,
    ) -> Result<(), SinkError> {
        let mut attempt = 1;
        loop {
            match self.session.execute_unpaged(stmt, values).await {
                Ok(_) => return Ok(()),
                Err(e) if attempt < self.max_attempts && is_transient(&e) => {
                    let delay = backoff(self.backoff, attempt);
                    tracing::warn!(
                        table = stmt.get_table_spec().map(|t| t.table_name()).unwrap_or("?"),
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        error = %e,
                        "write failed, retrying"
                    );
                    self.write_retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(source) => {
                    return Err(SinkError::Write {
                        table: stmt
                            .get_table_spec()
                            .map_or_else(|| "?".to_owned(), |t| t.table_name().to_owned()),
                        attempts: attempt,
                        source,
                    })
                }
            }
        }
    }
}

enum Write<'a> {
    Log(&'a LogRow),
    Dead(&'a crate::record::DeadLetterRow),
}

/// Bind markers the `USING` clause of [`insert_cql`] adds.
const USING_MARKERS: usize = 2;

/// `INSERT INTO ks.table (cols) VALUES (?, …) USING TIMESTAMP ? AND TTL ?`:
/// the column values, then the write time in microseconds (bigint) and the
/// TTL in seconds (int, 0 = none), as [`WithWriteTime`] binds them.
pub fn insert_cql(keyspace: &str, table: &str, columns: &[&str]) -> String {
    let mut cql = insert_cql_without_write_time(keyspace, table, columns);
    cql.push_str(" USING TIMESTAMP ? AND TTL ?");
    cql
}

/// `INSERT INTO ks.table (cols) VALUES (?, …)`: the insert of a server that
/// does not take `USING TIMESTAMP ?`/`USING TTL ?` bind markers (the
/// embedded node), which binds the row alone.
pub fn insert_cql_without_write_time(keyspace: &str, table: &str, columns: &[&str]) -> String {
    let markers = vec!["?"; columns.len()].join(", ");
    format!(
        "INSERT INTO {keyspace}.{table} ({}) VALUES ({markers})",
        columns.join(", ")
    )
}

/// A row bound to an [`insert_cql`] statement: the row's own columns (it
/// is serialized against the first N bind markers), then its write time
/// (`USING TIMESTAMP ?`, microseconds) and the TTL (`USING TTL ?`, seconds,
/// 0 = none).
#[derive(Debug, Clone, Copy)]
pub struct WithWriteTime<'a, R: ?Sized> {
    /// The row (its columns are all but the last two markers).
    pub row: &'a R,
    /// `USING TIMESTAMP`, in microseconds.
    pub write_time: i64,
    /// `USING TTL`, in seconds; 0 writes without a TTL.
    pub ttl_seconds: i32,
}

/// The statement has fewer bind markers than a `USING TIMESTAMP ? AND TTL ?`
/// insert needs.
#[derive(Debug, thiserror::Error)]
#[error(
    "the statement has {0} bind marker(s); a row with its write time and TTL needs \
     the row's columns and 2 more"
)]
pub struct MissingWriteTimeMarkers(pub usize);

impl<R: SerializeRow + ?Sized> SerializeRow for WithWriteTime<'_, R> {
    fn serialize(
        &self,
        ctx: &RowSerializationContext<'_>,
        writer: &mut RowWriter,
    ) -> Result<(), SerializationError> {
        let specs = ctx.columns();
        let Some(n) = specs.len().checked_sub(USING_MARKERS) else {
            return Err(SerializationError::new(MissingWriteTimeMarkers(
                specs.len(),
            )));
        };
        let (columns, using) = specs.split_at(n);
        self.row
            .serialize(&RowSerializationContext::from_specs(columns), writer)?;
        self.write_time
            .serialize(using[0].typ(), writer.make_cell_writer())?;
        self.ttl_seconds
            .serialize(using[1].typ(), writer.make_cell_writer())?;
        Ok(())
    }

    fn is_empty(&self) -> bool {
        false
    }
}

/// Whether retrying could help: timeouts, overload, unavailable replicas
/// and lost connections. A rejected statement or value is not retried.
pub fn is_transient(e: &ExecutionError) -> bool {
    match e {
        ExecutionError::BadQuery(_) | ExecutionError::PrepareError(_) => false,
        ExecutionError::LastAttemptError(RequestAttemptError::DbError(db, _)) => {
            use scylla::errors::DbError;
            matches!(
                db,
                DbError::Unavailable { .. }
                    | DbError::Overloaded
                    | DbError::IsBootstrapping
                    | DbError::ReadTimeout { .. }
                    | DbError::WriteTimeout { .. }
                    | DbError::ServerError
                    | DbError::TruncateError
                    | DbError::RateLimitReached { .. }
            )
        }
        _ => true,
    }
}

/// Exponential backoff with jitter: `base * 2^(attempt-1)`, plus up to half
/// of that again so that retries of many writes spread out.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let jitter = exp.mul_f64(f64::from(nanos % 1000) / 2000.0);
    exp + jitter
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs;
    use crate::record::DEAD_LETTER_COLUMNS;
    use crate::topics::LogKind;
    use scylla::frame::response::result::{
        CollectionType, ColumnSpec, ColumnType, NativeType, TableSpec,
    };

    use crate::record::{classify, KafkaRecordRef, Outcome};

    const TABLE: TableSpec<'static> = TableSpec::borrowed("user_db", "t");

    /// The CQL type of a column of the four tables.
    fn column_type(name: &str) -> ColumnType<'static> {
        ColumnType::Native(match name {
            "day" => NativeType::Date,
            "event_time" | "record_timestamp" => NativeType::Timestamp,
            "event_id" | "session_id" => NativeType::Uuid,
            "success" => NativeType::Boolean,
            "ip_address" => NativeType::Inet,
            "partition" | "source_partition" | "pages_viewed" => NativeType::Int,
            "offset" | "source_offset" | "duration_ms" => NativeType::BigInt,
            "key" | "value" => NativeType::Blob,
            "metadata" => {
                return ColumnType::Collection {
                    frozen: false,
                    typ: CollectionType::Map(
                        Box::new(ColumnType::Native(NativeType::Text)),
                        Box::new(ColumnType::Native(NativeType::Text)),
                    ),
                }
            }
            _ => NativeType::Text,
        })
    }

    /// The bind markers of an insert of `columns`, with `using` markers
    /// after them as (name, type).
    fn specs(columns: &[&str], using: &[(&str, NativeType)]) -> Vec<ColumnSpec<'static>> {
        columns
            .iter()
            .map(|c| ColumnSpec::owned(c.to_string(), column_type(c), TABLE))
            .chain(using.iter().map(|(name, typ)| {
                ColumnSpec::owned(name.to_string(), ColumnType::Native(typ.clone()), TABLE)
            }))
            .collect()
    }

    /// One bound value: its bytes, or (`Err`) its negative length: -1 null,
    /// -2 unset.
    type Cell = Result<Vec<u8>, i32>;

    /// What `values` serializes to against `specs`, cell by cell, read back
    /// by the wire format's length prefixes.
    fn cells(
        values: &impl SerializeRow,
        specs: &[ColumnSpec<'_>],
    ) -> Result<Vec<Cell>, SerializationError> {
        let mut buf = Vec::new();
        let mut writer = RowWriter::new(&mut buf);
        values.serialize(&RowSerializationContext::from_specs(specs), &mut writer)?;
        let count = writer.value_count();
        let mut out = Vec::new();
        let mut rest = &buf[..];
        for _ in 0..count {
            let len = i32::from_be_bytes(rest[..4].try_into().unwrap());
            rest = &rest[4..];
            if len < 0 {
                out.push(Err(len));
            } else {
                out.push(Ok(rest[..len as usize].to_vec()));
                rest = &rest[len as usize..];
            }
        }
        assert!(rest.is_empty(), "trailing bytes");
        Ok(out)
    }

    const USING: [(&str, NativeType); 2] = [
        ("[timestamp]", NativeType::BigInt),
        ("[ttl]", NativeType::Int),
    ];

    fn record(value: &str, timestamp_ms: i64) -> KafkaRecordRef<'_> {
        KafkaRecordRef {
            topic: "user_auth_logs",
            partition: 1,
            offset: 2_042,
            timestamp_ms,
            key: None,
            value: Some(value),
        }
    }

    /// A dead letter and a row of each log kind bind their own columns
    /// (the write time is no column: `#[scylla(skip)]`), then their write
    /// time as a bigint and the TTL as an int.
    #[test]
    fn rows_bind_their_columns_then_their_write_time_and_ttl() {
        use crate::record::encode_base64;
        let logs = [
            (
                LogKind::Auth,
                r#"{"event_id":"6f9619ff-8b86-4011-b42d-00c04fc964ff","user_id":"u","timestamp":1795615800220,"event_type":"login","success":true,"ip_address":"::1"}"#,
            ),
            (
                LogKind::Session,
                r#"{"session_id":"e6fd60d6-363b-4289-8f42-488a98bbf7a0","user_id":"u","timestamp":1795615800220,"event_type":"heartbeat"}"#,
            ),
            (
                LogKind::Activity,
                r#"{"event_id":"c91b424a-4e0f-4805-a58d-5d7788a8c480","user_id":"u","timestamp":1795615800220,"action":"click","resource":"/a","metadata":{"a":1}}"#,
            ),
        ];
        for (kind, log) in logs {
            let value = encode_base64(log.as_bytes());
            let Outcome::Row(row) = classify(Some(kind), "f", &record(&value, 1_795_615_900_001))
            else {
                panic!("{kind:?} is not a row")
            };
            let columns = logs::columns(kind);
            type Both = (
                Result<Vec<Cell>, SerializationError>,
                Result<Vec<Cell>, SerializationError>,
            );
            fn alone_and_with<R: SerializeRow>(r: &R, write_time: i64, columns: &[&str]) -> Both {
                let with = WithWriteTime {
                    row: r,
                    write_time,
                    ttl_seconds: 86_400,
                };
                (
                    cells(r, &specs(columns, &[])),
                    cells(&with, &specs(columns, &USING)),
                )
            }
            let (alone, with) = match &row {
                LogRow::Auth(r) => alone_and_with(r, r.write_time, columns),
                LogRow::Session(r) => alone_and_with(r, r.write_time, columns),
                LogRow::Activity(r) => alone_and_with(r, r.write_time, columns),
            };
            let (alone, with) = (alone.unwrap(), with.unwrap());
            assert_eq!(alone.len(), columns.len(), "{kind:?}");
            assert_eq!(with.len(), columns.len() + 2, "{kind:?}");
            assert_eq!(with[..columns.len()], alone[..], "{kind:?}");
            assert_eq!(
                with[columns.len()],
                Ok(1_795_615_900_001_042i64.to_be_bytes().to_vec()),
                "{kind:?}"
            );
            assert_eq!(
                with[columns.len() + 1],
                Ok(86_400i32.to_be_bytes().to_vec())
            );
        }
        // A dead letter without a Kafka timestamp: write time 0 ms + 42 µs,
        // no TTL, and `record_timestamp` unset.
        let Outcome::DeadLetter(d) = classify(Some(LogKind::Auth), "f", &record("%%%", -1)) else {
            panic!("not a dead letter")
        };
        let with = cells(
            &WithWriteTime {
                row: &d,
                write_time: d.write_time,
                ttl_seconds: 0,
            },
            &specs(DEAD_LETTER_COLUMNS, &USING),
        )
        .unwrap();
        let n = DEAD_LETTER_COLUMNS.len();
        assert_eq!(with.len(), n + 2);
        let at = DEAD_LETTER_COLUMNS
            .iter()
            .position(|c| *c == "record_timestamp")
            .unwrap();
        assert_eq!(with[at], Err(-2), "record_timestamp is unset");
        let day = DEAD_LETTER_COLUMNS
            .iter()
            .position(|c| *c == "day")
            .unwrap();
        assert_eq!(
            with[day],
            Ok((1u32 << 31).to_be_bytes().to_vec()),
            "1970-01-01"
        );
        assert_eq!(with[n], Ok(42i64.to_be_bytes().to_vec()));
        assert_eq!(with[n + 1], Ok(0i32.to_be_bytes().to_vec()));
    }

    /// Against a statement without the two `USING` markers, or with them of
    /// the wrong types, binding fails instead of shifting values.
    #[test]
    fn a_row_with_its_write_time_needs_the_two_markers() {
        let Outcome::DeadLetter(d) = classify(Some(LogKind::Auth), "f", &record("%%%", 5)) else {
            panic!("not a dead letter")
        };
        let with = WithWriteTime {
            row: &d,
            write_time: d.write_time,
            ttl_seconds: 0,
        };
        assert!(!with.is_empty());
        // The row's own columns only: the row is bound against all but the
        // last two, which are its own `key` and `value`, and fails.
        assert!(cells(&with, &specs(DEAD_LETTER_COLUMNS, &[])).is_err());
        let err = cells(&with, &specs(&["topic"], &[])).unwrap_err();
        assert!(err.to_string().contains("1 bind marker"), "{err}");
        // Swapped types.
        let swapped = [
            ("[ttl]", NativeType::Int),
            ("[timestamp]", NativeType::BigInt),
        ];
        assert!(cells(&with, &specs(DEAD_LETTER_COLUMNS, &swapped)).is_err());
        // One extra marker too many for the row.
        let three = [("x", NativeType::Text), USING[0].clone(), USING[1].clone()];
        assert!(cells(&with, &specs(DEAD_LETTER_COLUMNS, &three)).is_err());
    }

    #[test]
    fn insert_statements() {
        assert_eq!(
            insert_cql("user_db", "t", &["a", "b"]),
            "INSERT INTO user_db.t (a, b) VALUES (?, ?) USING TIMESTAMP ? AND TTL ?"
        );
        assert_eq!(
            insert_cql_without_write_time("k", "t", &["a"]),
            "INSERT INTO k.t (a) VALUES (?)"
        );
    }

    #[test]
    fn backoff_grows_and_stays_bounded() {
        let base = Duration::from_millis(100);
        for attempt in 1..5 {
            let d = backoff(base, attempt);
            let floor = base * 2u32.pow(attempt - 1);
            assert!(d >= floor && d <= floor + floor / 2, "{attempt}: {d:?}");
        }
    }
}
