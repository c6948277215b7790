//! The keyspace and tables: the statements that create them, made from
//! the table descriptions in [`crate::table`], and applying them to a
//! cluster. `cassandra/schema.cql` (for `cqlsh -f`) says the same, and a
//! test holds it to these statements.

use scylla::client::session::Session;

pub use crate::table::Table as TableKey;
use crate::table::ALL;

/// The schema file's text, as users apply it with `cqlsh -f`.
pub const SCHEMA_CQL: &str = include_str!("../../../cassandra/schema.cql");

/// The replication of a keyspace created without `--replication`: one
/// replica, for a single local node.
pub const DEFAULT_REPLICATION: &str = "{'class': 'SimpleStrategy', 'replication_factor': 1}";

/// The four tables with their keys, in schema order.
pub fn tables() -> [TableKey; 4] {
    ALL
}

/// The schema's statements for `keyspace`: the keyspace (with
/// `replication`, or [`DEFAULT_REPLICATION`]), then the four tables.
pub fn statements(keyspace: &str, replication: Option<&str>) -> Vec<String> {
    let mut out = vec![format!(
        "CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {}",
        replication.unwrap_or(DEFAULT_REPLICATION)
    )];
    out.extend(ALL.iter().map(|t| t.create_cql(keyspace)));
    out
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

    /// CQL text as tokens: comments dropped, split at white space and
    /// around punctuation.
    fn tokens(cql: &str) -> Vec<String> {
        let text: String = cql
            .lines()
            .map(|l| l.split("--").next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(" ");
        let mut spaced = String::new();
        for c in text.chars() {
            if "(),;<>{}:".contains(c) {
                spaced.push(' ');
                spaced.push(c);
                spaced.push(' ');
            } else {
                spaced.push(c);
            }
        }
        spaced.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn the_schema_file_says_what_the_table_descriptions_say() {
        let generated: Vec<String> = statements("user_db", None)
            .iter()
            .map(|s| format!("{s};"))
            .collect();
        assert_eq!(
            tokens(SCHEMA_CQL),
            tokens(&generated.join("\n")),
            "cassandra/schema.cql differs from the tables of table.rs:\n{}",
            generated.join("\n")
        );
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
