//! The four tables, described once: name, columns with their CQL types,
//! partition key, clustering columns and their order. Everything that
//! speaks CQL follows from here: the `CREATE TABLE` statements
//! (`schema`), the prepared inserts (`sink`), the primary-key reads of
//! `logpipe_local::dump`, and the column lists the tests check. `cassandra/schema.cql`,
//! the file users apply with `cqlsh -f`, is tested to say exactly the
//! same, and the Keyspaces tables in Terraform are tested against that
//! file.
//!
//! Each row type ([`crate::rows`]) names its table through
//! [`crate::rows::Row`]; the row structs' field names are the column names
//! (the driver binds by name).

use crate::topics::{LogKind, DEAD_LETTER_TABLE};

/// The order of a clustering column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Ascending (CQL's default).
    Asc,
    /// Descending: newest first, for times.
    Desc,
}

impl Order {
    fn cql(self) -> &'static str {
        match self {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        }
    }
}

/// One table: its name, columns and primary key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    /// The table's name (in the configured keyspace).
    pub table: &'static str,
    /// Column names, in declaration order.
    pub columns: &'static [&'static str],
    /// The CQL type of each column of [`Table::columns`], in the same order.
    pub types: &'static [&'static str],
    /// Partition key columns.
    pub partition_key: &'static [&'static str],
    /// Clustering columns, in key order.
    pub clustering: &'static [&'static str],
    /// The order of each clustering column.
    pub clustering_order: &'static [Order],
}

/// `auth_logs`: one row a login, logout, failure, reset, refresh or MFA
/// challenge; newest first in each user's day.
pub const AUTH_LOGS: Table = Table {
    table: LogKind::Auth.table(),
    columns: &[
        "user_id",
        "day",
        "event_time",
        "event_id",
        "event_type",
        "success",
        "ip_address",
        "auth_method",
        "failure_reason",
        "user_agent",
        "country",
        "city",
        "source_partition",
        "source_offset",
    ],
    types: &[
        "text",
        "date",
        "timestamp",
        "uuid",
        "text",
        "boolean",
        "inet",
        "text",
        "text",
        "text",
        "text",
        "text",
        "int",
        "bigint",
    ],
    partition_key: &["user_id", "day"],
    clustering: &["event_time", "event_id"],
    clustering_order: &[Order::Desc, Order::Asc],
};

/// `session_logs`: session starts, heartbeats and ends.
pub const SESSION_LOGS: Table = Table {
    table: LogKind::Session.table(),
    columns: &[
        "user_id",
        "day",
        "event_time",
        "session_id",
        "event_type",
        "ip_address",
        "device_type",
        "os",
        "browser",
        "duration_ms",
        "pages_viewed",
        "source_partition",
        "source_offset",
    ],
    types: &[
        "text",
        "date",
        "timestamp",
        "uuid",
        "text",
        "inet",
        "text",
        "text",
        "text",
        "bigint",
        "int",
        "int",
        "bigint",
    ],
    partition_key: &["user_id", "day"],
    clustering: &["event_time", "session_id", "event_type"],
    clustering_order: &[Order::Desc, Order::Asc, Order::Asc],
};

/// `activity_logs`: page views, clicks, searches, carts and purchases.
pub const ACTIVITY_LOGS: Table = Table {
    table: LogKind::Activity.table(),
    columns: &[
        "user_id",
        "day",
        "event_time",
        "event_id",
        "session_id",
        "action",
        "resource",
        "duration_ms",
        "metadata",
        "source_partition",
        "source_offset",
    ],
    types: &[
        "text",
        "date",
        "timestamp",
        "uuid",
        "uuid",
        "text",
        "text",
        "bigint",
        "map<text, text>",
        "int",
        "bigint",
    ],
    partition_key: &["user_id", "day"],
    clustering: &["event_time", "event_id"],
    clustering_order: &[Order::Desc, Order::Asc],
};

/// `dead_letters`: records no function could store, by topic, partition
/// and the UTC day of their Kafka timestamp.
pub const DEAD_LETTERS: Table = Table {
    table: DEAD_LETTER_TABLE,
    columns: &[
        "topic",
        "partition",
        "day",
        "offset",
        "record_timestamp",
        "reason",
        "detail",
        "function",
        "key",
        "value",
    ],
    types: &[
        "text",
        "int",
        "date",
        "bigint",
        "timestamp",
        "text",
        "text",
        "text",
        "blob",
        "blob",
    ],
    partition_key: &["topic", "partition", "day"],
    clustering: &["offset"],
    clustering_order: &[Order::Asc],
};

/// Every table, in schema order.
pub const ALL: [Table; 4] = [AUTH_LOGS, SESSION_LOGS, ACTIVITY_LOGS, DEAD_LETTERS];

/// The table of `kind`'s rows.
pub const fn of(kind: LogKind) -> &'static Table {
    match kind {
        LogKind::Auth => &AUTH_LOGS,
        LogKind::Session => &SESSION_LOGS,
        LogKind::Activity => &ACTIVITY_LOGS,
    }
}

/// The table named `name`, if it is one of the four.
pub fn named(name: &str) -> Option<&'static Table> {
    ALL.iter().find(|t| t.table == name)
}

impl Table {
    /// The primary key's columns: partition key, then clustering columns.
    pub fn key_columns(&self) -> impl Iterator<Item = &'static str> {
        self.partition_key.iter().chain(self.clustering).copied()
    }

    /// `CREATE TABLE IF NOT EXISTS <keyspace>.<table> (...)`, one line.
    pub fn create_cql(&self, keyspace: &str) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .zip(self.types)
            .map(|(c, t)| format!("{c} {t}"))
            .collect();
        let mut cql = format!(
            "CREATE TABLE IF NOT EXISTS {keyspace}.{} ({}, PRIMARY KEY (({}), {}))",
            self.table,
            columns.join(", "),
            self.partition_key.join(", "),
            self.clustering.join(", "),
        );
        if self.clustering_order.contains(&Order::Desc) {
            let order: Vec<String> = self
                .clustering
                .iter()
                .zip(self.clustering_order)
                .map(|(c, o)| format!("{c} {}", o.cql()))
                .collect();
            cql.push_str(&format!(" WITH CLUSTERING ORDER BY ({})", order.join(", ")));
        }
        cql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_has_a_type_and_every_key_column_is_a_column() {
        for t in ALL {
            assert_eq!(t.columns.len(), t.types.len(), "{}", t.table);
            assert_eq!(t.clustering.len(), t.clustering_order.len(), "{}", t.table);
            for k in t.key_columns() {
                assert!(t.columns.contains(&k), "{}: key column {k}", t.table);
            }
            let mut names = t.columns.to_vec();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), t.columns.len(), "{}: a column twice", t.table);
        }
        for kind in LogKind::ALL {
            assert_eq!(of(kind).table, kind.table());
            assert_eq!(named(kind.table()), Some(of(kind)));
        }
        assert_eq!(named(DEAD_LETTER_TABLE), Some(&DEAD_LETTERS));
        assert_eq!(named("nope"), None);
    }

    #[test]
    fn create_statements_say_the_key_and_order() {
        assert_eq!(
            DEAD_LETTERS.create_cql("ks"),
            "CREATE TABLE IF NOT EXISTS ks.dead_letters (topic text, partition int, day date, \
             offset bigint, record_timestamp timestamp, reason text, detail text, function text, \
             key blob, value blob, PRIMARY KEY ((topic, partition, day), offset))"
        );
        assert!(SESSION_LOGS.create_cql("ks").ends_with(
            "PRIMARY KEY ((user_id, day), event_time, session_id, event_type)) \
             WITH CLUSTERING ORDER BY (event_time DESC, session_id ASC, event_type ASC)"
        ));
    }
}
