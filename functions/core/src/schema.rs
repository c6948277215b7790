//! The keyspace and tables, from `cassandra/schema.cql` (embedded at build
//! time), and applying them to a cluster.

use scylla::client::session::Session;

use crate::logs;
use crate::record::DEAD_LETTER_COLUMNS;
use crate::topics::{LogKind, DEAD_LETTER_TABLE, DEFAULT_KEYSPACE};

/// The schema file's text.
pub const SCHEMA_CQL: &str = include_str!("../../../cassandra/schema.cql");

/// A table's primary key: partition key columns, then clustering columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableKey {
    pub table: &'static str,
    pub partition_key: &'static [&'static str],
    pub clustering: &'static [&'static str],
    pub columns: &'static [&'static str],
}

/// The four tables with their keys, in schema order.
pub fn tables() -> [TableKey; 4] {
    [
        TableKey {
            table: LogKind::Auth.table(),
            partition_key: &["user_id", "day"],
            clustering: &["event_time", "event_id"],
            columns: logs::columns(LogKind::Auth),
        },
        TableKey {
            table: LogKind::Session.table(),
            partition_key: &["user_id", "day"],
            clustering: &["event_time", "session_id", "event_type"],
            columns: logs::columns(LogKind::Session),
        },
        TableKey {
            table: LogKind::Activity.table(),
            partition_key: &["user_id", "day"],
            clustering: &["event_time", "event_id"],
            columns: logs::columns(LogKind::Activity),
        },
        TableKey {
            table: DEAD_LETTER_TABLE,
            partition_key: &["topic", "partition", "day"],
            clustering: &["offset"],
            columns: DEAD_LETTER_COLUMNS,
        },
    ]
}

/// The schema's statements for `keyspace`, comments removed. `replication`
/// replaces the keyspace's replication map when given.
pub fn statements(keyspace: &str, replication: Option<&str>) -> Vec<String> {
    let text: String = SCHEMA_CQL
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    text.split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .map(|s| {
            let s = s
                .replace(
                    &format!("KEYSPACE IF NOT EXISTS {DEFAULT_KEYSPACE} "),
                    &format!("KEYSPACE IF NOT EXISTS {keyspace} "),
                )
                .replace(&format!(" {DEFAULT_KEYSPACE}."), &format!(" {keyspace}."));
            match (replication, s.find("replication = ")) {
                (Some(r), Some(at)) if s.starts_with("CREATE KEYSPACE") => {
                    format!("{}replication = {r}", &s[..at])
                }
                _ => s,
            }
        })
        .collect()
}

/// Applies the schema (idempotent: every statement is `IF NOT EXISTS`).
/// Returns how many statements ran.
pub async fn apply(
    session: &Session,
    keyspace: &str,
    replication: Option<&str>,
) -> Result<usize, SchemaError> {
    let stmts = statements(keyspace, replication);
    for cql in &stmts {
        session
            .query_unpaged(cql.as_str(), &[])
            .await
            .map_err(|e| SchemaError {
                statement: cql.chars().take(80).collect(),
                message: e.to_string(),
            })?;
    }
    Ok(stmts.len())
}

/// A schema statement failed.
#[derive(Debug, thiserror::Error)]
#[error("schema statement `{statement}…` failed: {message}")]
pub struct SchemaError {
    pub statement: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_declares_every_table_with_the_columns_the_code_writes() {
        let stmts = statements("user_db", None);
        assert_eq!(stmts.len(), 5, "{stmts:#?}");
        for t in tables() {
            let create = stmts
                .iter()
                .find(|s| s.contains(&format!("user_db.{} (", t.table)))
                .unwrap_or_else(|| panic!("no CREATE TABLE for {}", t.table));
            for c in t.columns {
                assert!(
                    create.contains(&format!(" {c} ")),
                    "{} lacks column {c}",
                    t.table
                );
            }
            let key = format!(
                "PRIMARY KEY (({}), {})",
                t.partition_key.join(", "),
                t.clustering.join(", ")
            );
            assert!(create.contains(&key), "{} key is not {key}", t.table);
        }
    }

    #[test]
    fn keyspace_and_replication_are_replaced() {
        let stmts = statements(
            "logs_test",
            Some("{'class': 'NetworkTopologyStrategy', 'dc1': 3}"),
        );
        assert!(stmts.iter().all(|s| !s.contains("user_db")));
        assert_eq!(
            stmts[0],
            "CREATE KEYSPACE IF NOT EXISTS logs_test WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 3}"
        );
        assert!(stmts[1].starts_with("CREATE TABLE IF NOT EXISTS logs_test.auth_logs ("));
    }
}
