//! Sink throughput: the handler's write path (`CassandraSink::store`) and
//! bare prepared-statement inserts of the same rows with the scylla driver,
//! against the same CQL node, at the same concurrency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use logpipe_core::logs::{self, LogRow};
use logpipe_core::record::DEAD_LETTER_COLUMNS;
use logpipe_core::sink::{connect_session, insert_cql_without_write_time, CassandraSink};
use logpipe_core::topics::DEAD_LETTER_TABLE;
use logpipe_core::{LogKind, ProcessedBatch, SinkConfig};
use scylla::client::session::Session;
use scylla::statement::prepared::PreparedStatement;

/// One concurrency level's result: best rows/s of each side.
#[derive(Debug, Clone, Copy)]
pub struct SinkRate {
    /// Writes in flight.
    pub concurrency: usize,
    /// Rows a second through `CassandraSink::store`.
    pub sink: f64,
    /// Rows a second through bare prepared inserts.
    pub bare: f64,
}

/// Bare inserts: one prepared statement a table, executed unpaged, at most
/// `concurrency` in flight.
struct Bare {
    session: Arc<Session>,
    inserts: [PreparedStatement; 3],
    dead_letter: PreparedStatement,
}

impl Bare {
    async fn prepare(session: Arc<Session>, keyspace: &str) -> Result<Self, String> {
        let prep = |table: &str, columns: &[&str]| {
            let session = session.clone();
            let cql = insert_cql_without_write_time(keyspace, table, columns);
            async move { session.prepare(cql).await.map_err(|e| e.to_string()) }
        };
        let mut inserts = Vec::new();
        for kind in LogKind::ALL {
            inserts.push(prep(kind.table(), logs::columns(kind)).await?);
        }
        let dead_letter = prep(DEAD_LETTER_TABLE, DEAD_LETTER_COLUMNS).await?;
        let inserts: [PreparedStatement; 3] =
            inserts.try_into().map_err(|_| "three tables".to_owned())?;
        Ok(Bare {
            session,
            inserts,
            dead_letter,
        })
    }

    async fn store(&self, batch: &ProcessedBatch, concurrency: usize) -> Result<(), String> {
        let logs = futures::stream::iter(batch.rows.iter().map(Ok)).try_for_each_concurrent(
            concurrency,
            |row| async move {
                let r = match row {
                    LogRow::Auth(r) => self.session.execute_unpaged(&self.inserts[0], r).await,
                    LogRow::Session(r) => self.session.execute_unpaged(&self.inserts[1], r).await,
                    LogRow::Activity(r) => self.session.execute_unpaged(&self.inserts[2], r).await,
                };
                r.map(drop).map_err(|e| e.to_string())
            },
        );
        logs.await?;
        futures::stream::iter(batch.dead_letters.iter())
            .map(|d| self.session.execute_unpaged(&self.dead_letter, d))
            .buffer_unordered(concurrency)
            .try_for_each(|_| async { Ok(()) })
            .await
            .map_err(|e| e.to_string())
    }
}

/// Rows a second of both sides at each level in `levels`, best of
/// `repeats` alternating runs, writing `batch` to the node at `contact`
/// (schema already applied).
pub async fn rates(
    contact: &str,
    batch: &ProcessedBatch,
    levels: &[usize],
    repeats: usize,
) -> Result<Vec<SinkRate>, String> {
    let rows = (batch.rows.len() + batch.dead_letters.len()) as f64;
    let config = SinkConfig::local(contact);
    let session = Arc::new(connect_session(&config).await.map_err(|e| e.to_string())?);
    logpipe_core::schema::apply(&session, &config.keyspace, None)
        .await
        .map_err(|e| e.to_string())?;
    let bare = Bare::prepare(session.clone(), &config.keyspace).await?;
    let mut out = Vec::new();
    for &concurrency in levels {
        let sink = CassandraSink::with_session(
            session.clone(),
            &SinkConfig {
                write_concurrency: concurrency,
                ..config.clone()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
        let (mut best_sink, mut best_bare) = (Duration::MAX, Duration::MAX);
        for _ in 0..repeats {
            let t = Instant::now();
            bare.store(batch, concurrency).await?;
            best_bare = best_bare.min(t.elapsed());
            let t = Instant::now();
            sink.store(batch).await.map_err(|e| e.to_string())?;
            best_sink = best_sink.min(t.elapsed());
        }
        out.push(SinkRate {
            concurrency,
            sink: rows / best_sink.as_secs_f64(),
            bare: rows / best_bare.as_secs_f64(),
        });
    }
    Ok(out)
}

/// Rows a second of bare prepared inserts of `batch`, written once at
/// `concurrency` to the node at `contact` (schema already applied): the
/// baseline of a run that writes as many distinct rows.
pub async fn bare_rate(
    contact: &str,
    batch: &ProcessedBatch,
    concurrency: usize,
) -> Result<f64, String> {
    let config = SinkConfig::local(contact);
    let session = Arc::new(connect_session(&config).await.map_err(|e| e.to_string())?);
    let bare = Bare::prepare(session, &config.keyspace).await?;
    let t = Instant::now();
    bare.store(batch, concurrency).await?;
    Ok((batch.rows.len() + batch.dead_letters.len()) as f64 / t.elapsed().as_secs_f64())
}
