//! The Cassandra sink: one session and one prepared statement a table,
//! built once per Lambda container; rows written concurrently (bounded),
//! each retried with backoff on transient errors. A write that still fails
//! fails the whole batch, so the event source mapping retries it: nothing is
//! acknowledged that was not stored.
//!
//! Every write is an idempotent upsert keyed only by the record's own
//! fields, so a retried batch leaves the same rows as a clean one.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, TryStreamExt};
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::{ExecutionError, NewSessionError, PrepareError, RequestAttemptError};
use scylla::policies::load_balancing::DefaultPolicy;
use scylla::serialize::row::SerializeRow;
use scylla::statement::prepared::PreparedStatement;

use crate::batch::ProcessedBatch;
use crate::config::{Credentials, SinkConfig};
use crate::logs::{self, LogRow};
use crate::record::DEAD_LETTER_COLUMNS;
use crate::secrets::{self, SecretError};
use crate::tls::{self, TlsSetupError};
use crate::topics::{LogKind, DEAD_LETTER_TABLE};

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
    inserts: [PreparedStatement; 3],
    dead_letter: PreparedStatement,
    keyspace: String,
    concurrency: usize,
    max_attempts: u32,
    backoff: Duration,
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
        let prepare = |table: &'static str, columns: &'static [&'static str]| {
            let session = session.clone();
            let cql = insert_cql(ks, table, columns, config.ttl_seconds);
            async move {
                let mut stmt = session
                    .prepare(cql)
                    .await
                    .map_err(|source| SinkError::Prepare {
                        table: table.to_owned(),
                        source,
                    })?;
                // Upserts keyed by the record: safe for the driver to retry
                // and to execute speculatively.
                stmt.set_is_idempotent(true);
                Ok::<_, SinkError>(stmt)
            }
        };
        let auth = prepare(LogKind::Auth.table(), logs::columns(LogKind::Auth)).await?;
        let session_logs =
            prepare(LogKind::Session.table(), logs::columns(LogKind::Session)).await?;
        let activity = prepare(LogKind::Activity.table(), logs::columns(LogKind::Activity)).await?;
        let dead_letter = prepare(DEAD_LETTER_TABLE, DEAD_LETTER_COLUMNS).await?;
        Ok(CassandraSink {
            session,
            inserts: [auth, session_logs, activity],
            dead_letter,
            keyspace: ks.clone(),
            concurrency: config.write_concurrency,
            max_attempts: config.max_attempts,
            backoff: config.retry_backoff,
        })
    }

    /// The open session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The keyspace written to.
    pub fn keyspace(&self) -> &str {
        &self.keyspace
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
            Write::Log(LogRow::Auth(r)) => self.execute(&self.inserts[0], r).await,
            Write::Log(LogRow::Session(r)) => self.execute(&self.inserts[1], r).await,
            Write::Log(LogRow::Activity(r)) => self.execute(&self.inserts[2], r).await,
            Write::Dead(r) => self.execute(&self.dead_letter, r).await,
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

/// `INSERT INTO ks.table (cols) VALUES (?, …) [USING TTL n]`. The TTL is a
/// literal: it is fixed per deployment, and not every server takes it as a
/// bind marker.
pub fn insert_cql(keyspace: &str, table: &str, columns: &[&str], ttl_seconds: u32) -> String {
    let markers = vec!["?"; columns.len()].join(", ");
    let mut cql = format!(
        "INSERT INTO {keyspace}.{table} ({}) VALUES ({markers})",
        columns.join(", ")
    );
    if ttl_seconds > 0 {
        cql.push_str(&format!(" USING TTL {ttl_seconds}"));
    }
    cql
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

    #[test]
    fn insert_statements() {
        assert_eq!(
            insert_cql("user_db", "t", &["a", "b"], 0),
            "INSERT INTO user_db.t (a, b) VALUES (?, ?)"
        );
        assert_eq!(
            insert_cql("k", "t", &["a"], 60),
            "INSERT INTO k.t (a) VALUES (?) USING TTL 60"
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
